"""Several streaming metrics fed the same batches, with one pass over each batch for all of them.

A statistic that can share declares what a batch adds to it as named sums
(``statistic.shared_needs()``, see :meth:`~regloss.metrics.statistics.MeanStatistic.shared_needs`)::

    ("error", kernel, params)   E_j = sum_r w_r error(y_rj, p_rj)   per output j (MSE, MAE, Huber...)
    ("moments",)                S_j = sum_r w_r (y_rj - c_j)        P_j = sum_r w_r (y_rj - c_j)**2

with, for every batch, ``W = sum_r w_r``, the rows of non-zero weight and the shift ``c`` (R2's:
the first row of non-zero weight). :func:`shared_sums` gathers the needs of every member (an error
that two metrics need, MSE's squared error and R2's residual, is summed once) and computes them in
one launch of the numba tier's shared kernel, which reads each block of rows from memory once and
sums every error over it while it is in cache; each statistic then adds its sums to its state
(``statistic.add_shared``), as its ``update`` adds its own.

The shared pass runs for NumPy float64 batches of ``(rows,)`` or ``(rows, outputs)`` (C-contiguous),
a ``(rows,)`` weight and mask or none, states on NumPy, when the numba tier runs (at least 65536
elements, ``regloss.config.accelerator()`` ``"auto"``/``"numba"``, numba installed). Any other batch,
and any metric that declares nothing (the quantile sketch, bootstraps, correlations, MSLE...), takes
the metric's own ``update_state``: results are those of the metrics updated one by one, equal to
about 1e-15 relative on the shared pass (the same sums, added in another order), bit for bit
otherwise.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from .._messages import show_value
from .classes import Metric, merged_state
from .quantile_sketch import AbsoluteErrorQuantile


def _numpy_state(state) -> bool:
    return state is None or all(isinstance(value, (np.ndarray, np.generic)) for value in state.values())


def _array(value) -> bool:
    """Exactly a NumPy array or memmap (no other subclass, no other library)."""
    return type(value) in (np.ndarray, np.memmap)


def _plain(array, rows) -> bool:
    return array is None or (_array(array) and array.shape == (rows,))


_SEARCH_ROWS = 1 << 16
"""Rows searched at once for R2's shift (a bounded temporary: the 1% memory target)."""


def _first_weighted_row(sample_weight, mask) -> int:
    """The first row whose weight times mask is non-zero (R2's shift, :func:`regloss.metrics.
    moments.shift_of`); 0 without weights and mask, or when there is none."""
    if sample_weight is None and mask is None:
        return 0
    rows = len(sample_weight if sample_weight is not None else mask)
    for start in range(0, rows, _SEARCH_ROWS):
        block = slice(start, start + _SEARCH_ROWS)
        kept = mask[block] if sample_weight is None else sample_weight[block] != 0
        if sample_weight is not None and mask is not None:
            kept &= mask[block]
        if kept.any():
            return start + int(np.argmax(kept))
    return 0


def shared_sums(needs, y_true, y_pred, sample_weight=None, mask=None) -> dict | None:
    """``{need: (outputs,) sums}`` of the ``needs`` of several statistics over one batch, with
    ``"weighted"``, ``"weight"`` (``W``), ``"rows"``, ``"nonzero"``, ``"shape"``, and with
    ``("moments",)`` ``"sum"``, ``"squares"`` and ``"shift"``; None when the shared pass does not
    apply (module docstring) and each statistic must update on its own."""
    if not (_array(y_true) and _array(y_pred) and kernels.active()):
        return None
    shape = y_pred.shape
    if (
        y_true.shape != shape
        or y_pred.ndim not in (1, 2)
        or y_true.dtype != np.float64
        or y_pred.dtype != np.float64
        or not (y_true.flags.c_contiguous and y_pred.flags.c_contiguous)
        or not _plain(sample_weight, shape[0])
        or not _plain(mask, shape[0])
        or (sample_weight is not None and sample_weight.dtype != np.float64)
        or (mask is not None and mask.dtype != np.bool_)
    ):
        return None
    true, pred = (array.reshape(shape[0], -1) for array in (y_true, y_pred))
    errors = list(dict.fromkeys(need for need in needs if need[0] == "error"))
    moments = ("moments",) in needs
    shift = np.zeros(true.shape[1])
    if moments and len(true):
        first = _first_weighted_row(sample_weight, mask)
        if mask is None or mask[first]:  # a masked-out row counts as zeros, as R2's update reads it
            shift = true[first].copy()
    found = kernels.shared_sums(
        [(kernel, dict(params)) for _, kernel, params in errors],
        moments,
        true,
        pred,
        sample_weight,
        mask,
        shift,
    )
    if found is None:
        return None
    sums = {need: found["errors"][i] for i, need in enumerate(errors)}
    sums.update(
        weighted=sample_weight is not None or mask is not None,
        weight=found["weight"],
        nonzero=found["nonzero"],
        rows=shape[0],
        shape=shape,
    )
    if moments:
        sums.update(sum=found["sum"], squares=found["squares"], shift=shift)
    return sums


def shared_states(statistics, states, y_true, y_pred, sample_weight=None, mask=None) -> list | None:
    """The states of statistics that all declare needs after the same batch (a state None is
    initialised on the batch), from one shared pass (:func:`shared_sums`); None when it does not
    apply. Pure: the states are not modified."""
    if not all(_numpy_state(state) for state in states):
        return None
    needs = [item for statistic in statistics for item in statistic.shared_needs()]
    sums = shared_sums(needs, y_true, y_pred, sample_weight, mask)
    if sums is None:
        return None
    return [
        statistic.add_shared(statistic.init(y_pred) if state is None else state, sums)
        for statistic, state in zip(statistics, states, strict=True)
    ]


def _declares(statistic) -> bool:
    return getattr(statistic, "shared_needs", lambda: None)() is not None


def shares(metric) -> bool:
    """Whether a metric takes its sums from a collection's shared pass (its statistic declares
    them); the others update on their own."""
    return isinstance(metric, Metric) and _declares(metric.statistic)


def update_states(statistics, states, y_true, y_pred, sample_weight=None, mask=None) -> list:
    """The states of several statistics after the same batch (pure; a state None is initialised
    on the batch): the declaring ones from one shared pass where it applies, every other by its
    own ``update`` (so that this is jit-safe where the statistics are)."""
    sharing = [i for i, statistic in enumerate(statistics) if _declares(statistic)]
    shared = None
    if sharing:
        chosen = [statistics[i] for i in sharing]
        shared = shared_states(chosen, [states[i] for i in sharing], y_true, y_pred, sample_weight, mask)
    new = dict(zip(sharing, shared, strict=True)) if shared is not None else {}
    for i, (statistic, state) in enumerate(zip(statistics, states, strict=True)):
        if i not in new:
            state = statistic.init(y_pred) if state is None else state
            new[i] = statistic.update(state, y_true, y_pred, sample_weight, mask)
    return [new[i] for i in range(len(statistics))]


class MetricCollection:
    """Streaming metrics fed the same batches, updated together (the shared pass of the module
    docstring): ``MetricCollection([MeanSquaredError(), R2Score()])`` or a dict ``{name: metric}``.

    ``update_state(y_true, y_pred, sample_weight=None, *, mask=None)`` adds a batch to every
    member (on any error no member changes); ``result()`` is ``{name: metric.result()}``;
    ``reset_state()``; ``merge_state(*others)`` merges collections of the same names and
    configurations member by member; ``collection[name]`` is a member. Members are regloss
    metrics (any with ``update_state``, ``result``, ``reset_state``, ``merge_state`` and
    ``state``: a :class:`~regloss.metrics.Bootstrap` or an
    :class:`~regloss.metrics.AbsoluteErrorQuantile` updates on its own).

    >>> import numpy as np
    >>> from regloss.metrics import MeanAbsoluteError, MeanSquaredError, MetricCollection, R2Score
    >>> c = MetricCollection([MeanSquaredError(dtype="float64"), MeanAbsoluteError(dtype="float64")])
    >>> c.update_state(np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0, 4.0]))
    >>> {name: round(float(value), 6) for name, value in c.result().items()}
    {'mean_squared_error': 1.666667, 'mean_absolute_error': 1.0}
    """

    def __init__(self, metrics):
        if isinstance(metrics, dict):
            items = list(metrics.items())
        elif isinstance(metrics, (list, tuple)):
            items = [(getattr(metric, "name", None), metric) for metric in metrics]
        else:
            raise TypeError(
                f"metrics must be a list or a dict of metrics; received metrics={show_value(metrics)}"
            )
        if not items:
            raise ValueError("metrics must hold at least one metric; received an empty collection")
        for name, metric in items:
            missing = [
                method
                for method in ("update_state", "result", "reset_state", "merge_state", "state")
                if not hasattr(metric, method)
            ]
            if missing:
                raise TypeError(
                    f"metrics must hold regloss metrics; received {type(metric).__name__} "
                    f"(no {', '.join(missing)})"
                )
            if not isinstance(name, str):
                raise TypeError(f"metric names must be strings; received {show_value(name)}")
        names = [name for name, _ in items]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"metrics must have distinct names; {repeated[0]!r} names several (pass a dict "
                "{name: metric}, or name=... to the metrics)"
            )
        self._metrics = dict(items)

    def __getitem__(self, name):
        return self._metrics[name]

    def __iter__(self):
        return iter(self._metrics)

    def __len__(self):
        return len(self._metrics)

    def keys(self):
        return self._metrics.keys()

    def update_state(self, y_true, y_pred, sample_weight=None, *, mask=None):
        """Add one batch to every member: the members that share take their sums from one pass
        over the batch (module docstring), the others their own ``update_state``. Returns None."""
        members = list(self._metrics.values())
        sharing = [metric for metric in members if shares(metric)]
        new = {}
        if sharing:
            statistics, states = (
                [metric.statistic for metric in sharing],
                [metric.state for metric in sharing],
            )
            found = shared_states(statistics, states, y_true, y_pred, sample_weight, mask)
            if found is not None:
                new = {id(metric): state for metric, state in zip(sharing, found, strict=True)}
        before = [(metric, metric.state) for metric in members]
        try:
            for metric in members:
                if id(metric) not in new:
                    metric.update_state(y_true, y_pred, sample_weight, mask=mask)
        except BaseException:
            for metric, state in before:
                metric.state = state
            raise
        for metric in sharing:
            if id(metric) in new:
                metric.state = new[id(metric)]

    def result(self) -> dict:
        """``{name: metric.result()}``."""
        return {name: metric.result() for name, metric in self._metrics.items()}

    def reset_state(self):
        """Forget every batch, in every member."""
        for metric in self._metrics.values():
            metric.reset_state()

    def merge_state(self, *others):
        """Add the members' states of other collections of the same names (member by member, as
        ``metric.merge_state``); ``TypeError``/``ValueError`` otherwise, no state changed."""
        for position, other in enumerate(others):
            if not isinstance(other, MetricCollection):
                raise TypeError(
                    f"merge_state takes MetricCollection objects; received {type(other).__name__} as "
                    f"argument {position}"
                )
            if list(other.keys()) != list(self.keys()):
                raise ValueError(
                    f"merge_state takes collections of the same metrics; this one has "
                    f"{list(self.keys())}, argument {position} has {list(other.keys())}"
                )
        merged = {}
        for name, metric in self._metrics.items():
            theirs = [other[name] for other in others]
            if hasattr(metric, "statistic") and hasattr(metric, "_comparable_config"):
                merged[name] = merged_state(metric, theirs)
        before = {name: metric.state for name, metric in self._metrics.items()}
        try:
            for name, metric in self._metrics.items():
                if name not in merged:  # AbsoluteErrorQuantile.merge_state takes a list
                    theirs = [other[name] for other in others]
                    quantile = isinstance(metric, AbsoluteErrorQuantile)
                    metric.merge_state(theirs) if quantile else metric.merge_state(*theirs)
        except BaseException:
            for name, state in before.items():
                self._metrics[name].state = state
            raise
        for name, state in merged.items():
            self._metrics[name].state = state

    def __repr__(self):
        return f"MetricCollection({self._metrics!r})"
