"""``AbsoluteErrorQuantile``: a quantile of ``|y_pred - y_true|`` in one pass, with a guarantee.

An exact median needs the data more than once (Munro and Paterson, 1980); this metric keeps a
logarithmic histogram (:mod:`regloss.quantiles.sketch`) instead, so that for the *lower sample
quantile* ``x`` of every element's absolute error seen so far (the smallest ``x`` with
``C(x) >= q W``, ``C`` the weight of the errors ``<= x`` and ``W`` the total weight) the result
``r`` satisfies

    |r - x| <= relative_accuracy * x

for every input whose quantile is 0, infinite or at least 2.2e-308: heavy tails, duplicates,
zeros, values over any number of orders of magnitude. The state has a fixed size: 568 KiB for
``relative_accuracy=0.01`` (``log(1.8e308 / 4.9e-324) / log((1 + a) / (1 - a))`` float64 buckets),
whatever the number of rows; merging adds the histograms, so with counts (no weights, or integer
weights) the result does not depend on the batching or the merge order.

Every element of ``(rows, outputs)`` batches is one error (the quantile pools the outputs); a 1-D
``sample_weight`` weighs the rows (each row's elements), a ``mask`` of the batch's shape drops
elements (``mask == 0``). The state lives in NumPy on the host, whatever the batch's library.
For the exact quantile over data that can be read again, see :mod:`regloss.quantiles.radix`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._messages import show_value
from .._xp import host_array
from ..quantiles.sketch import Layout


def _check_level(name: str, value, low_open: bool, high_open: bool) -> float:
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if valid:
        value = float(value)
        valid = (value > 0 if low_open else value >= 0) and (value < 1 if high_open else value <= 1)
    if not valid:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(
            f"{name} must be a real number in {left}0, 1{right}; received {name}={show_value(value)}"
        )
    return value


class AbsoluteErrorQuantile:
    """The ``q`` quantile of the absolute error, streamed (see the module docstring).

    >>> from regloss.metrics import AbsoluteErrorQuantile
    >>> metric = AbsoluteErrorQuantile(q=0.5, relative_accuracy=0.01)
    >>> metric.update_state([0.0, 0.0, 0.0], [1.0, 2.0, 30.0])
    >>> abs(float(metric.result()) - 2.0) <= 0.01 * 2.0
    True
    """

    def __init__(self, q=0.5, relative_accuracy=0.01, name=None, dtype="float64"):
        self.q = _check_level("q", q, low_open=False, high_open=False)
        self.relative_accuracy = _check_level("relative_accuracy", relative_accuracy, True, True)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None; received name={show_value(name)}")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; received dtype={show_value(dtype)}")
        self.name = name or "absolute_error_quantile"
        self.dtype = dtype
        self.layout = Layout(self.relative_accuracy)
        self.state = None

    def update_state(self, y_true, y_pred, sample_weight=None, *, mask=None):
        """Add a batch's elementwise absolute errors. The inputs are not modified."""
        true = host_array(y_true).astype(np.float64)
        pred = host_array(y_pred).astype(np.float64)
        if true.shape != pred.shape:
            raise ValueError(
                f"{type(self).__name__}: y_true and y_pred must have the same shape; received "
                f"{true.shape} and {pred.shape}"
            )
        errors = np.abs(pred - true)
        weights = None
        if sample_weight is not None:
            given = host_array(sample_weight).astype(np.float64)
            if given.ndim > 1 or (given.ndim == 1 and given.shape[0] != errors.shape[0]):
                raise ValueError(
                    f"{type(self).__name__}: sample_weight must be a number or 1-D with one weight per "
                    f"row ({errors.shape[0] if errors.ndim else 1}); received shape {given.shape}"
                )
            weights = np.broadcast_to(given.reshape((-1,) + (1,) * (errors.ndim - 1)), errors.shape)
        if mask is not None:
            kept = np.broadcast_to(host_array(mask) != 0, errors.shape)
            weights = kept.astype(np.float64) if weights is None else weights * kept
        state = self.layout.new_state() if self.state is None else self.state
        self.state = self.layout.add(state, errors, weights)

    def merge_state(self, metrics):
        """Add the states of other ``AbsoluteErrorQuantile`` metrics of the same ``relative_accuracy``."""
        for other in metrics:
            if (
                not isinstance(other, AbsoluteErrorQuantile)
                or other.relative_accuracy != self.relative_accuracy
            ):
                raise TypeError(
                    "merge_state takes AbsoluteErrorQuantile metrics of relative_accuracy="
                    f"{self.relative_accuracy}; received {show_value(other)}"
                )
            if other.state is None:
                continue
            self.state = other.state if self.state is None else self.layout.merge(self.state, other.state)

    def result(self):
        """The quantile (a 0-d NumPy array of :attr:`dtype`); 0 before any element."""
        if self.state is None:
            return np.asarray(0.0, dtype=self.dtype)
        return np.asarray(self.layout.quantile(self.state, self.q), dtype=self.dtype)

    def reset_state(self):
        self.state = None

    @property
    def state_bytes(self) -> int:
        """The size of the state's histogram in bytes (fixed by ``relative_accuracy``)."""
        return self.layout.size * 8

    def get_config(self) -> dict:
        return {
            "q": self.q,
            "relative_accuracy": self.relative_accuracy,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)
