"""``Bootstrap(AbsoluteErrorQuantile(...))``: an interval for a sketched quantile, one sketch per
replicate.

Replicate ``r`` is the sketch of the rows weighted by their Poisson(1) counts ``P[r, i]``, the same
pure function of ``(seed, global row index, replicate)`` as :class:`regloss.metrics.Bootstrap`'s
(:mod:`regloss.metrics.poisson`), so any batching or merge order gives the same replicates (their
histograms add counts). The state is ``num_replicates + 1`` sketches: ``(R + 1) * 568 KiB`` for
``relative_accuracy=0.01`` (112 MiB for the default 200 replicates), whatever the number of rows.
The interval is the percentile interval of the replicates' quantiles (NumPy's ``"linear"``), the
standard error their standard deviation (``ddof=1``), as :class:`~regloss.metrics.Bootstrap`.
"""

from __future__ import annotations

import numbers

import numpy as np

from .bootstrap import BootstrapResult, check_settings
from .poisson import poisson_weights
from .quantile_sketch import AbsoluteErrorQuantile


class SketchBootstrap:
    """What ``Bootstrap(AbsoluteErrorQuantile(...), num_replicates, confidence, seed)`` builds."""

    def __init__(self, metric, num_replicates: int = 200, confidence: float = 0.95, seed: int = 0, name=None):
        self.num_replicates, self.confidence, self.seed = check_settings(num_replicates, confidence, seed)
        config = metric.get_config()
        self.metric = AbsoluteErrorQuantile.from_config(config)
        self.replicates = [AbsoluteErrorQuantile.from_config(config) for _ in range(self.num_replicates)]
        self.name = name or f"{self.metric.name}_bootstrap"
        self.rows = 0

    @property
    def state_bytes(self) -> int:
        return (self.num_replicates + 1) * self.metric.state_bytes

    def update_state(self, y_true, y_pred, sample_weight=None, *, mask=None, row_offset=None):
        """Add a batch whose rows are ``row_offset, ...`` (default: the rows seen so far)."""
        import array_api_compat.numpy as xp

        rows = int(np.shape(y_pred)[0]) if np.ndim(y_pred) else 1
        first = self.rows if row_offset is None else int(row_offset)
        counts = np.asarray(
            poisson_weights(xp, self.seed, first, rows, self.num_replicates, dtype=xp.float64)
        )
        if sample_weight is None:
            base = np.ones(rows)
        elif isinstance(sample_weight, numbers.Real):
            base = np.full(rows, float(sample_weight))
        else:
            base = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        self.metric.update_state(y_true, y_pred, sample_weight, mask=mask)
        for replicate, row_counts in zip(self.replicates, counts, strict=True):
            replicate.update_state(y_true, y_pred, base * row_counts, mask=mask)
        self.rows = max(self.rows, first + rows)

    def merge_state(self, others):
        for other in others:
            if not isinstance(other, SketchBootstrap) or (other.num_replicates, other.seed) != (
                self.num_replicates,
                self.seed,
            ):
                raise TypeError("merge_state takes bootstraps of the same metric, num_replicates and seed")
            self.metric.merge_state([other.metric])
            for mine, theirs in zip(self.replicates, other.replicates, strict=True):
                mine.merge_state([theirs])
            self.rows = max(self.rows, other.rows)

    def result(self) -> BootstrapResult:
        if self.metric.state is None:
            raise ValueError("Bootstrap.result() needs at least one batch (update_state first)")
        values = np.array([float(replicate.result()) for replicate in self.replicates])
        low, high = np.quantile(values, [(1 - self.confidence) / 2, (1 + self.confidence) / 2])
        dtype = self.metric.dtype
        return BootstrapResult(
            self.metric.result(),
            np.asarray(low, dtype=dtype),
            np.asarray(high, dtype=dtype),
            np.asarray(np.std(values, ddof=1), dtype=dtype),
            self.confidence,
            self.num_replicates,
            self.seed,
        )

    def reset_state(self):
        self.metric.reset_state()
        for replicate in self.replicates:
            replicate.reset_state()
        self.rows = 0
