"""A one-pass, mergeable quantile sketch of non-negative values with a relative-error guarantee
(a DDSketch-style logarithmic histogram, vectorised with NumPy).

With ``a = relative_accuracy`` and ``g = (1 + a') / (1 - a')`` where ``a' = a (1 - 1e-6)`` (a
margin for the rounding of ``log``), a positive finite value ``x`` goes to the bucket
``i = ceil(log(x) / log(g))``, which holds the values of ``(g**(i-1), g**i]``; the bucket's
representative ``2 g**i / (g + 1)`` is within ``a' x`` of every value in it. Zeros and infinities
have buckets of their own (represented exactly), NaN is counted apart (a NaN gives a NaN result).

The state is a fixed array of float64 weight sums, one per bucket over the whole positive float64
range (subnormals to the largest float: ``(log(1.8e308) - log(4.9e-324)) / log(g)`` buckets, 72 736
for ``a = 0.01``, 568 KiB), plus the zero, infinity and NaN weights: its size depends on ``a`` and the
float64 range only, never on the number of rows. Merging adds the arrays, so with counts (no
weights, or integer weights) the merged state, hence the result, is the same in any merge order;
float weights are added in merge order (equal to rounding).

The result for level ``q`` is the representative of the bucket holding the *lower sample quantile*
``x`` (the smallest value with ``C(x) >= q W``, ``C`` the weight of the values ``<= x``, ``W`` the
total; ``q = 0``: the smallest value of positive weight): all values of earlier buckets are smaller
than those of later ones, so the first bucket whose cumulative weight reaches ``q W`` holds ``x``,
and ``|r - x| <= a x`` for every input whose quantile is 0, infinite or a normal float (at least
2.2e-308); below that (subnormals) the representative is rounded to the subnormal grid, off by at
most half its step (2.5e-324) beyond the bound.
"""

from __future__ import annotations

import math

import numpy as np

_SMALLEST = 5e-324
_LARGEST = 1.7976931348623157e308
MARGIN = 1e-6
BLOCK = 1 << 18


class Layout:
    """The bucket layout of one relative accuracy."""

    def __init__(self, relative_accuracy: float):
        inner = relative_accuracy * (1 - MARGIN)
        self.gamma = (1 + inner) / (1 - inner)
        self.log_gamma = math.log(self.gamma)
        self.lowest = math.ceil(math.log(_SMALLEST) / self.log_gamma) - 1
        self.highest = math.ceil(math.log(_LARGEST) / self.log_gamma) + 1
        self.size = self.highest - self.lowest + 1

    def new_state(self) -> dict:
        return {"buckets": np.zeros(self.size), "zero": 0.0, "infinite": 0.0, "nan": 0.0}

    def add(self, state: dict, values: np.ndarray, weights: np.ndarray | None) -> dict:
        """A new state: ``state`` plus the non-negative float64 ``values`` and their weights (same
        shape), in blocks of :data:`BLOCK` elements so that the temporaries stay in cache."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        new = {name: (value.copy() if name == "buckets" else value) for name, value in state.items()}
        for start in range(0, values.shape[0], BLOCK):
            block_weights = None if weights is None else weights[start : start + BLOCK]
            self._add_block(new, values[start : start + BLOCK], block_weights)
        return new

    def _add_block(self, state: dict, values: np.ndarray, weights) -> None:
        def weight_of(selected):
            return float(np.count_nonzero(selected)) if weights is None else float(np.sum(weights[selected]))

        positive = (values > 0) & (values < math.inf)
        if not positive.all():
            state["zero"] += weight_of(values == 0)
            state["infinite"] += weight_of(values == math.inf)
            state["nan"] += weight_of(np.isnan(values))
            values = values[positive]
            weights = None if weights is None else weights[positive]
        index = np.ceil(np.log(values) / self.log_gamma).astype(np.int64)
        index -= self.lowest
        state["buckets"] += np.bincount(index, weights, minlength=self.size)[: self.size]

    def add_weighted(self, states: list[dict], values: np.ndarray, weights: np.ndarray) -> list[dict]:
        """New states: ``states[r]`` plus the non-negative ``values`` weighted by ``weights[r]``
        (``weights`` of shape ``(len(states), len(values))``, such as a bootstrap's replicates): the
        buckets are found once for all the states."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        zero, infinite, nan = values == 0, values == math.inf, np.isnan(values)
        positive = ~(zero | infinite | nan)
        index = np.ceil(np.log(values[positive]) / self.log_gamma).astype(np.int64) - self.lowest
        new = []
        for state, row in zip(states, np.asarray(weights, dtype=np.float64), strict=True):
            new.append(
                {
                    "buckets": state["buckets"] + np.bincount(index, row[positive], self.size)[: self.size],
                    "zero": state["zero"] + float(np.sum(row[zero])),
                    "infinite": state["infinite"] + float(np.sum(row[infinite])),
                    "nan": state["nan"] + float(np.sum(row[nan])),
                }
            )
        return new

    @staticmethod
    def merge(first: dict, second: dict) -> dict:
        return {name: first[name] + second[name] for name in first}

    def quantile(self, state: dict, q: float) -> float:
        """The representative of the bucket of the lower ``q`` quantile (NaN when empty or NaN seen)."""
        if state["nan"] > 0:
            return math.nan
        cumulative = state["zero"] + np.cumsum(state["buckets"])
        total = cumulative[-1] + state["infinite"]
        if total <= 0:
            return math.nan
        target = q * total
        if target <= 0:
            target = math.ulp(0.0)  # q = 0: the smallest value of positive weight
        if state["zero"] >= target:
            return 0.0
        if cumulative[-1] < target:
            return math.inf
        index = int(np.searchsorted(cumulative, target)) + self.lowest
        return self.representative(index)

    def representative(self, index: int) -> float:
        """``2 g**index / (g + 1)`` in the log domain, capped at the largest float (which is nearer
        to every value of the last bucket than the uncapped representative)."""
        with np.errstate(over="ignore", under="ignore"):
            value = float(np.exp(index * self.log_gamma + math.log(2 / (self.gamma + 1))))
        return min(value, _LARGEST)
