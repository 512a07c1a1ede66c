"""Distributed evaluation of the streaming metrics on Dask arrays and Dask DataFrame columns.

:func:`evaluate` computes any number of :mod:`regloss.metrics` over data that lives in Dask chunks,
in one pass over the data, where the data lives; only the metrics' small states travel::

    chunk k of y_true, y_pred, sample_weight, mask  ->  s_k = statistic.update(statistic.init(.), ...)
    groups of (at most) 8 states                     ->  statistic.merge(...)   (repeated: a tree)
    the root state                                   ->  statistic.result(state, dtype)

Each per-chunk task updates the states of every requested metric from the same blocks (each chunk
of each input is read once), so ``evaluate(t, p, ["mse", "mae", "r2"])`` costs one read of ``t``
and ``p``. The sums are float64 and the counts int64 whatever the chunking: the result equals the
metric classes' in-memory result on the whole arrays up to float64 rounding (the order of the
additions differs).

Rows and chunks
    Axis 0 is the samples axis. Chunks are paired by their position along it: arrays with known
    chunk sizes are checked to have as many rows and rechunked to ``y_pred``'s row chunks when they
    differ; the other axes are rechunked to one chunk (a sample's outputs stay together). Arrays
    with unknown chunk sizes (Dask DataFrame columns, boolean-filtered arrays) cannot be rechunked
    lazily: they must have as many row chunks as the others, and each task checks that its blocks
    have the same number of rows (a ``ValueError`` at compute time otherwise; call
    ``compute_chunk_sizes()`` or ``to_dask_array(lengths=True)`` first to align them by rows).

Inputs
    Dask arrays, Dask Series and DataFrames (``to_dask_array()``: a DataFrame is ``(rows,
    columns)``, its partitions paired by position, the index ignored), NumPy arrays (memory maps
    included; wrapped with ``dask.array.from_array`` in the other inputs' row chunks, or in
    ``"auto"`` chunks when no input is a Dask collection) and pandas Series/DataFrames (their
    ``to_numpy()``). ``sample_weight`` may also be a number (every sample weighs it). Anything else
    is a ``TypeError``.

1-D inputs
    A 1-D ``y_true`` or ``y_pred`` is read as ``(rows, 1)``: one output per sample, as every
    streaming face of regloss reads a 1-D batch (the metric classes, ``Bootstrap``, the command
    line), so the result is the in-memory result of the 1-D arrays and does not depend on the
    chunking; a 1-D ``sample_weight`` weighs the samples. The cosine of ``(rows, 1)`` inputs is per
    element, not the cosine of the two whole vectors; so are the correlations (Pearson NaN, the
    concordance 0 per element).

Threads and settings inside tasks
    The per-chunk tasks run the fused NumPy kernels (:mod:`regloss.kernels`) with
    ``kernel_threads`` threads (default 1: one per Dask worker thread, so that Dask's own
    parallelism is not oversubscribed), and with the ``epsilon`` and ``floatx`` that
    :mod:`regloss.config` had when :func:`evaluate` was called (a distributed worker's process has
    its own config). :mod:`regloss.config` is process-global: a task sets these values for the
    whole process while it runs, and restores the previous ones when no task of this module runs
    any more; concurrent tasks that want other values wait. Threads of the same process outside
    the tasks (the client's, with the threaded scheduler) see these values meanwhile.

Confidence intervals (``confidence=``)
    Each metric is wrapped in a :class:`~regloss.metrics.bootstrap.BootstrapStatistic` (a Poisson
    bootstrap whose row weights depend only on ``(seed, global row index, replicate)``): every
    per-chunk task updates the bootstrap states with its chunk's global row offset (the number of
    rows of the chunks before it along axis 0), the states are tree-merged like the plain ones, and
    the result is the same, up to float64 rounding (exactly when the sums are exact, but for R2's
    centred moments, whose means divide), whatever the
    chunking, the merge order or the cluster, and equal to :class:`~regloss.metrics.Bootstrap`
    updated with the whole arrays. Known chunk sizes give the offsets directly. For unknown chunk
    sizes (Dask DataFrame columns, boolean-filtered arrays) the offsets are part of the same graph:
    a task per chunk counts its ``y_pred`` rows and a sequential cumulative sum (one tiny task per
    chunk) gives each chunk's offset, so the data is still read once (no separate pass over the
    files), but a chunk's state task waits for the row counts of the chunks before it (a chunk
    read early stays in memory until then). Row indices count every row of the inputs, masked-out
    rows included.

The metric classes and Dask arrays
    ``metric.update_state(dask_true, dask_pred)`` (the class itself) computes the batch's few sums
    at once and keeps a NumPy state: the documented exception to laziness, so that the state does
    not become a task graph that grows with every batch. :func:`update_state` here does the same for
    several metrics in one pass over the batch; a metric whose state lives on another array library
    or device than NumPy's CPU is refused before anything is computed.

Requires ``dask[array]`` (``pip install "regloss[dask]"``; Dask DataFrames need
``dask[dataframe]``, a cluster ``distributed``). ``import regloss`` never imports this module.
"""

from __future__ import annotations

try:
    import dask
    import dask.array as da
    from dask.base import tokenize
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'regloss.dask requires Dask: pip install "dask[array]" (or pip install "regloss[dask]", '
        "which also installs dask[dataframe] and distributed)"
    ) from error

import contextlib
import functools
import math
import numbers
import threading

import numpy as np

from . import config, specs
from ._messages import show_value
from ._xp import received
from .metrics import placement
from .metrics.bootstrap import BootstrapStatistic, check_settings, update_together
from .metrics.classes import (
    METRIC_CLASSES,
    CosineSimilarity,
    Huber,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Metric,
    R2Score,
    RootMeanSquaredError,
)
from .metrics.corrcoef import ConcordanceCorrCoef, PearsonCorrCoef
from .metrics.correlation import ConcordanceCorrelation, PearsonCorrelation
from .metrics.group_keys import sort_key
from .metrics.grouped import GroupedStatistic
from .metrics.quantile_sketch import AbsoluteErrorQuantile
from .metrics.sklearn_classes import SKLEARN_METRIC_CLASSES  # noqa: F401  (registers the classes)
from .quantiles.dask_select import d2_pinball, exact_quantile, persist_if_fits, sketch_state

__all__ = [
    "evaluate",
    "update_state",
    "METRIC_NAMES",
    "EXACT_QUANTILE_NAMES",
    "EXACT_D2_NAMES",
    "SPLIT_EVERY",
]

EXACT_QUANTILE_NAMES = {"median_absolute_error": 0.5, "median_ae": 0.5}
"""The names :func:`evaluate` computes exactly in several passes (not a streaming state): the
median of ``|y_pred - y_true|`` per output, averaged over the outputs, equal to scikit-learn's
``median_absolute_error`` on the whole arrays (:mod:`regloss.quantiles.dask_select`)."""

EXACT_D2_NAMES = {"d2_absolute_error_score": 0.5, "d2_pinball_score": 0.5}
"""The D² scores :func:`evaluate` computes exactly in 5 passes, by name (``alpha`` = the value):
scikit-learn's ``d2_absolute_error_score`` and ``d2_pinball_score`` (its default ``alpha=0.5``)
on the whole arrays, averaged over the outputs; the denominator's ``alpha`` quantile of
``y_true`` by radix selection (:func:`regloss.quantiles.dask_select.d2_pinball`)."""

SPLIT_EVERY = 8
"""The default fan-in of the merge tree: each merge task takes at most this many states."""

_SHORT_NAMES = {
    "mse": MeanSquaredError,
    "rmse": RootMeanSquaredError,
    "mae": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "huber": Huber,
    "logcosh": LogCoshError,
    "cosine": CosineSimilarity,
    "r2": R2Score,
    "pearson": PearsonCorrCoef,
    "ccc": ConcordanceCorrCoef,
    "row_pearson": PearsonCorrelation,
    "row_ccc": ConcordanceCorrelation,
    **{spec.short: METRIC_CLASSES[spec.class_name] for spec in specs.SKLEARN_METRICS},
}

METRIC_NAMES: dict = {
    **_SHORT_NAMES,
    **METRIC_CLASSES,
    **{cls.default_name: cls for cls in METRIC_CLASSES.values()},
}
"""The metric names :func:`evaluate` takes: the short names (``"mse"``, ``"rmse"``, ``"mae"``,
``"mape"``, ``"msle"``, ``"huber"``, ``"logcosh"``, ``"cosine"``, ``"r2"``, ``"pearson"``,
``"ccc"`` (the dataset-level correlations of one output), ``"row_pearson"``, ``"row_ccc"``), the class names
(``"MeanSquaredError"``...) and the classes' default names (``"mean_squared_error"``,
``"r2_score"``...), each to its class (built with its default arguments)."""


# ------------------------------------------------------------------------------ the public API


def evaluate(
    y_true,
    y_pred,
    metrics,
    sample_weight=None,
    *,
    mask=None,
    compute: bool = True,
    dtype: str = "float64",
    split_every: int = SPLIT_EVERY,
    kernel_threads: int = 1,
    confidence: float | None = None,
    num_replicates: int = 200,
    seed: int = 0,
    by=None,
):
    """The metrics of Dask data, in one pass over it: per-chunk states, a merge tree, the results.

    Parameters
    ----------
    y_true, y_pred
        Dask arrays, Dask Series/DataFrames, NumPy arrays or pandas objects, axis 0 the samples
        (module docstring: alignment of chunks, 1-D inputs).
    metrics
        A list of metric instances of :mod:`regloss.metrics` (their configuration and ``dtype``;
        their state is neither read nor changed) and names of :data:`METRIC_NAMES`; or one of them.
    sample_weight
        ``None``, a number (every sample weighs it), or an array of per-sample weights (leading axes
        of the per-sample values, as the metric classes take them).
    mask
        ``None`` or an array multiplied into the weight (non-zero: kept), as the classes take it.
    compute
        ``True``: compute now (the active scheduler, or the ``distributed`` client) and return the
        results. ``False``: return a ``dask.delayed`` object of the same dict; nothing is computed
        (or read) until it is.
    dtype
        The result dtype of the metrics given by name (instances keep their own ``dtype``).
    split_every
        The fan-in of the merge tree (an int >= 2).
    kernel_threads
        Threads of the fused kernels inside each task (an int >= 1; default 1).
    confidence
        ``None`` (default): plain values. A number in (0, 1): every metric is bootstrapped (module
        docstring, "Confidence intervals") and its result is a dict (see Returns).
    num_replicates
        Bootstrap replicates (an int from 2 to
        :data:`~regloss.metrics.bootstrap.MAX_REPLICATES`, 100000; default 200), with ``confidence``
        only: the bound keeps every task's state small (``num_replicates`` copies of each metric's
        sums) and is checked before any graph is built.
    seed
        The bootstrap's seed (an int in [0, 2**32); default 0), with ``confidence`` only.
    by
        ``None``, or the group key of every row: a Dask array or Series aligned with the rows (a
        Dask DataFrame or a 2-D array for keys of several columns: tuple keys), or the name of a
        column of the Dask DataFrame whose columns ``y_true`` and ``y_pred`` are. Every metric is
        then computed per group too (:class:`regloss.metrics.Grouped`: one state per key, merged
        like the others), in the same pass; NaN and None keys form one group, ``None``.

    Returns
    -------
    dict
        ``{key: result}``, keys the names as given, or ``metric.name`` for instances (they must be
        distinct); each result a NumPy scalar of the metric's dtype, or a 1-D NumPy array
        (``R2Score(class_aggregation=None)``, one score per output). Equal, up to float64 rounding,
        to the result of the metric class after ``update_state`` with the whole arrays.

        With ``confidence``, each result is ``{"value", "ci_low", "ci_high", "se", "confidence",
        "replicates", "seed"}``: the plain value, the percentile interval, the bootstrap standard
        error (NumPy scalars of the metric's dtype, or 1-D arrays for a per-output metric), and the
        settings (a float and two ints). Equal, up to float64 rounding, to
        ``Bootstrap(metric, num_replicates, confidence, seed).result().as_dict()`` after one
        ``update_state`` with the whole arrays (whose ``num_replicates`` is ``replicates`` here).

        With ``by``: ``{"overall": {key: result}, "groups": {group key: {key: result}}}``, the
        groups sorted by key (missing last), each group's results those of
        ``Grouped(metric)`` (or ``Grouped(Bootstrap(metric, ...))``) fed the whole arrays.

    >>> import numpy as np, dask.array as da
    >>> from regloss.dask import evaluate
    >>> t = da.from_array(np.array([0.0, 1.0, 2.0, 3.0]), chunks=3)
    >>> p = da.from_array(np.array([1.0, 1.0, 2.0, 1.0]), chunks=2)
    >>> results = evaluate(t, p, ["mse", "mae"])
    >>> float(results["mse"]), float(results["mae"])
    (1.25, 0.75)
    >>> interval = evaluate(t, p, "mae", confidence=0.9, num_replicates=50, seed=3)["mae"]
    >>> sorted(interval)
    ['ci_high', 'ci_low', 'confidence', 'replicates', 'se', 'seed', 'value']
    >>> bool(interval["ci_low"] <= interval["value"] <= interval["ci_high"])
    True
    """
    items = [metrics] if isinstance(metrics, str | Metric) else metrics
    if isinstance(items, list | tuple) and any(_is_exact_quantile(item) for item in items):
        if confidence is not None or by is not None or not compute:
            raise ValueError(
                "the exact quantile metrics ("
                + ", ".join([*EXACT_QUANTILE_NAMES, *EXACT_D2_NAMES])
                + ") take several passes "
                "over the data: they need compute=True and take neither confidence= nor by=; received "
                f"compute={compute!r}, confidence={confidence!r}, by={'None' if by is None else 'a key'}"
            )
        others = [item for item in items if not _is_exact_quantile(item)]
        options = {"mask": mask, "dtype": dtype, "split_every": split_every, "kernel_threads": kernel_threads}
        results = evaluate(y_true, y_pred, others, sample_weight, **options) if others else {}
        sketches = [item for item in items if isinstance(item, AbsoluteErrorQuantile)]
        asked = [item for item in items if isinstance(item, str)]
        results.update(
            _exact_quantiles(y_true, y_pred, sample_weight, mask, split_every, dtype, sketches, asked)
        )
        order = [item if isinstance(item, str) else item.name for item in items]
        return {key: results[key] for key in order}
    keys, chosen = _resolve_metrics(metrics, dtype)
    statistics = [metric.statistic for metric in chosen]
    _check_bootstrap(confidence, num_replicates, seed)
    if confidence is not None:
        confidence, num_replicates, seed = float(confidence), int(num_replicates), int(seed)
        statistics = [BootstrapStatistic(statistic, num_replicates, seed) for statistic in statistics]
    keys_array = None
    if by is not None:
        keys_array = _group_keys(by, y_true, y_pred)
        statistics += [_grouped(statistic) for statistic in statistics]
    root, plan = _states_graph(
        y_true,
        y_pred,
        statistics,
        sample_weight,
        mask,
        split_every,
        kernel_threads,
        keys_array,
    )
    dtypes = tuple(metric.dtype for metric in chosen)
    finish = functools.partial(_finish, plan["statistics"], tuple(keys), dtypes, confidence)
    name = f"regloss-evaluate-{tokenize(plan['token'], keys, dtypes, confidence)}"
    results = dask.delayed(finish, pure=True)(root, dask_key_name=name)
    return results.compute() if compute else results


def update_state(metrics, y_true, y_pred, sample_weight=None, *, mask=None, kernel_threads: int = 1):
    """Add one batch of Dask data to metric instances, eagerly: the batch's states are computed now
    (one pass over the data for all the metrics, as :func:`evaluate` does) and merged into each
    metric's state with ``statistic.merge``, so the state stays a few NumPy numbers.

    ``metrics`` is one metric instance or a list of them. If the computation or a merge fails, no
    state is changed. Returns None.

    >>> import numpy as np, dask.array as da
    >>> from regloss.metrics import MeanAbsoluteError
    >>> from regloss.dask import update_state
    >>> m = MeanAbsoluteError(dtype="float64")
    >>> update_state(m, da.from_array(np.zeros(4), chunks=2), da.from_array(np.arange(4.0), chunks=3))
    >>> float(m.result())
    1.5
    """
    chosen = [metrics] if isinstance(metrics, Metric) else metrics
    if not isinstance(chosen, list | tuple) or not chosen:
        raise TypeError(
            f"metrics must be a metric instance or a non-empty list of them; received {received(metrics)}"
        )
    for position, metric in enumerate(chosen):
        if not isinstance(metric, Metric):
            raise TypeError(
                f"update_state takes regloss.metrics instances; received {received(metric)} "
                f"at position {position}"
            )
    for metric in chosen:  # the batch's states are NumPy: a metric's state must be too
        if metric.state is not None:
            placement.check_batch(metric.state, type(metric).__name__, np.zeros(0))
    root, _ = _states_graph(
        y_true, y_pred, [m.statistic for m in chosen], sample_weight, mask, SPLIT_EVERY, kernel_threads
    )
    (states,) = dask.compute(root)
    merged = [
        state if metric.state is None else metric.statistic.merge(metric.state, state)
        for metric, state in zip(chosen, states, strict=True)
    ]
    for metric, state in zip(chosen, merged, strict=True):
        metric.state = state


# ------------------------------------------------------------------------------ metrics


def _is_exact_quantile(item) -> bool:
    """An exact quantile name, or an :class:`~regloss.metrics.AbsoluteErrorQuantile` (its sketch is
    merged over the chunks in one pass beside them)."""
    exact = isinstance(item, str) and (item in EXACT_QUANTILE_NAMES or item in EXACT_D2_NAMES)
    return exact or isinstance(item, AbsoluteErrorQuantile)


def _exact_quantiles(y_true, y_pred, sample_weight, mask, split_every, dtype, sketches=(), names=()) -> dict:
    """``{name: result}`` of the sketches and, where ``names`` asks for one, of every exact
    quantile name (per output the quantile of ``|y_pred - y_true|``,
    :mod:`regloss.quantiles.dask_select`, 4 passes) and every D² name (5 passes), averaged over the
    outputs as scikit-learn's ``multioutput="uniform_average"``; a NumPy scalar of ``dtype``."""
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2; received split_every={show_value(split_every)}")
    arrays, weight_number = _input_arrays(y_true, y_pred, sample_weight, mask)
    arrays = _align(arrays)
    for name in ("sample_weight", "mask"):
        if name in arrays and arrays[name].ndim != 1:
            raise ValueError(
                f"the exact quantile metrics take a 1-D {name} (one per row); "
                f"received shape {arrays[name].shape}"
            )
    pred = arrays["y_pred"]
    outputs = 1 if pred.ndim == 1 else int(np.prod(pred.shape[1:]))
    if any(name in EXACT_QUANTILE_NAMES or name in EXACT_D2_NAMES for name in names):
        arrays, _ = persist_if_fits(arrays)  # several passes: read the chunks once where they fit
    found = {}
    for sketch in sketches:  # one pass each; the metric's own state is neither read nor changed
        copy = AbsoluteErrorQuantile.from_config(sketch.get_config())
        copy.state = sketch_state(arrays, copy.layout, split_every)
        if weight_number is not None and weight_number <= 0:
            copy.state = copy.layout.new_state()
        found[sketch.name] = copy.result()
    if any(name in EXACT_QUANTILE_NAMES for name in names):
        results = {}
        for q in sorted(set(EXACT_QUANTILE_NAMES.values())):
            values = exact_quantile(arrays, q, outputs, split_every, weight_number)
            results[q] = np.asarray(np.mean(values), dtype=dtype)[()]
        found.update({name: results[q] for name, q in EXACT_QUANTILE_NAMES.items()})
    if any(name in EXACT_D2_NAMES for name in names):
        if weight_number is not None and weight_number <= 0:
            scores = {alpha: np.nan for alpha in EXACT_D2_NAMES.values()}
        else:  # a positive number as weight changes no score
            scores = {
                alpha: np.mean(d2_pinball(arrays, alpha, outputs, split_every))
                for alpha in sorted(set(EXACT_D2_NAMES.values()))
            }
        found.update({name: np.asarray(scores[a], dtype=dtype)[()] for name, a in EXACT_D2_NAMES.items()})
    return found


def _check_bootstrap(confidence, num_replicates, seed) -> None:
    """Raise a ValueError for settings that :class:`~regloss.metrics.Bootstrap` would refuse."""
    if confidence is None:
        if num_replicates != 200 or seed != 0:
            raise ValueError(
                "num_replicates and seed set the bootstrap of confidence intervals: pass confidence= too "
                f"(received num_replicates={show_value(num_replicates)}, seed={show_value(seed)}, "
                "confidence=None)"
            )
        return
    check_settings(num_replicates, confidence, seed)


def _describe(statistic) -> str:
    """A deterministic description of a statistic for graph keys."""
    return repr(statistic)


def _resolve_metrics(metrics, dtype):
    """``(keys, metric instances)`` of the ``metrics`` argument."""
    items = [metrics] if isinstance(metrics, str | Metric) else metrics
    if not isinstance(items, list | tuple):
        raise TypeError(
            "metrics must be a list of metric names and regloss.metrics instances; "
            f"received {received(metrics)}"
        )
    if not items:
        raise ValueError("metrics must name at least one metric; received an empty list")
    keys, chosen = [], []
    for position, item in enumerate(items):
        if isinstance(item, str):
            cls = METRIC_NAMES.get(item)
            if cls is None:
                raise ValueError(
                    f"unknown metric name {show_value(item)} (position {position} of metrics); valid names: "
                    f"{', '.join(METRIC_NAMES)}"
                )
            keys.append(item)
            chosen.append(cls(dtype=dtype))
        elif isinstance(item, Metric):
            keys.append(item.name)
            chosen.append(item)
        elif isinstance(item, type) and issubclass(item, Metric):
            raise TypeError(
                f"metrics takes metric instances, not classes: pass {item.__name__}() (position {position})"
            )
        else:
            raise TypeError(
                f"metrics takes metric names and regloss.metrics instances; received {received(item)} "
                f"at position {position}"
            )
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(
            f"metrics must have distinct names (the keys of the result); {', '.join(map(repr, repeated))} "
            "appears more than once: give the instances distinct name= arguments"
        )
    return keys, chosen


def _check_statistic(statistic, ndim: int) -> None:
    """Raise when a metric would reduce over the samples axis (chunks split it) or cannot take the
    inputs' rank; ``ndim`` is the rank of ``y_pred`` as the tasks see it (1-D read as 2-D)."""
    statistic.check_chunkable(ndim)


# ------------------------------------------------------------------------------ inputs


def _is_dask(value) -> bool:
    return dask.is_dask_collection(value)


def _input_arrays(y_true, y_pred, sample_weight, mask):
    """``(arrays, weight_number)``: the inputs as Dask arrays by argument name (a number given as
    ``sample_weight`` is returned apart, as ``weight_number``, and is not an array)."""
    arrays = {"y_true": _as_array(y_true, "y_true"), "y_pred": _as_array(y_pred, "y_pred")}
    weight_number = None
    if sample_weight is not None:
        if _is_number(sample_weight):
            weight_number = float(sample_weight)
        else:
            arrays["sample_weight"] = _as_array(sample_weight, "sample_weight")
    if mask is not None:
        arrays["mask"] = _as_array(mask, "mask")
    return arrays, weight_number


def _as_array(value, argument: str):
    """A Dask array or a NumPy array of an input (a TypeError for anything else)."""
    if isinstance(value, da.Array):
        return value
    if _is_dask(value) and hasattr(value, "to_dask_array"):  # Dask Series / DataFrame
        return value.to_dask_array()
    if isinstance(value, np.ndarray):
        return value
    if type(value).__module__.split(".")[0] == "pandas" and hasattr(value, "to_numpy"):
        return value.to_numpy()
    raise TypeError(
        f"{argument} must be a Dask array, a Dask Series or DataFrame, or a NumPy array; received "
        f"{received(value)} (convert other arrays with dask.array.from_array or numpy.asarray)"
    )


def _is_number(value) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


def _known(array) -> bool:
    return not any(math.isnan(size) for size in array.chunks[0])


def _align(arrays: dict) -> dict:
    """The inputs as Dask arrays with paired row chunks and one chunk along every other axis."""
    for argument, array in arrays.items():
        if array.ndim == 0:
            raise ValueError(
                f"{argument} must have a samples axis (axis 0); received a 0-d {type(array).__name__}"
            )
    lazy = {name: array for name, array in arrays.items() if isinstance(array, da.Array)}
    if not lazy:
        pred = arrays["y_pred"]
        chunks = ("auto",) + tuple(-1 for _ in pred.shape[1:])
        lazy["y_pred"] = da.from_array(pred, chunks=chunks)
    reference_name = next(name for name in ("y_pred", "y_true", "sample_weight", "mask") if name in lazy)
    reference = lazy[reference_name]
    if not all(_known(array) for array in lazy.values()):
        counts = {name: array.numblocks[0] for name, array in lazy.items()}
        numpy_names = [name for name in arrays if name not in lazy]
        if numpy_names:
            verb = "is a NumPy array" if len(numpy_names) == 1 else "are NumPy arrays"
            raise ValueError(
                f"{' and '.join(numpy_names)} {verb} and cannot be paired with the row chunks of "
                "Dask inputs of unknown chunk sizes; call compute_chunk_sizes() on the Dask arrays (or "
                "to_dask_array(lengths=True) on Dask DataFrame columns), or pass Dask arrays"
            )
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"{name}: {count}" for name, count in counts.items())
            raise ValueError(
                "inputs with unknown chunk sizes are paired chunk by chunk and must have as many row "
                f"chunks; received {shown} row chunks. Call compute_chunk_sizes() (or "
                "to_dask_array(lengths=True)) so that they can be rechunked to one another"
            )
        aligned = lazy
    else:
        rows = reference.shape[0]
        for name, array in arrays.items():
            if array.shape[0] != rows:
                raise ValueError(
                    f"{name} has {array.shape[0]} samples (axis 0) and {reference_name} has {rows}; "
                    f"received {name} of shape {array.shape} and {reference_name} of shape {reference.shape}"
                )
        aligned = {}
        for name, array in arrays.items():
            if not isinstance(array, da.Array):
                array = da.from_array(array, chunks=(reference.chunks[0],) + tuple(array.shape[1:]))
            elif array.chunks[0] != reference.chunks[0]:
                array = array.rechunk({0: reference.chunks[0]})
            aligned[name] = array
    return {
        name: array.rechunk({axis: -1 for axis in range(1, array.ndim)})
        if any(count > 1 for count in array.numblocks[1:])
        else array
        for name, array in aligned.items()
    }


def _grouped(statistic):
    """The grouped form of a (possibly bootstrapped) statistic."""
    if isinstance(statistic, BootstrapStatistic):
        return GroupedStatistic(statistic.statistic, statistic.replicates, statistic.seed)
    return GroupedStatistic(statistic)


def _group_keys(by, y_true, y_pred):
    """The ``by`` argument as an array-like of keys (a column name: that column of the Dask
    DataFrame whose columns ``y_true`` and ``y_pred`` are)."""
    if not isinstance(by, str):
        return by
    for column in (y_pred, y_true):
        frame = _parent_frame(column)
        if frame is not None and by in frame.columns:
            return frame[by]
    raise ValueError(
        f"by={show_value(by)} names a column, but y_true and y_pred are not columns of a Dask DataFrame "
        "that has it: pass the keys themselves (by=frame[column])"
    )


def _parent_frame(column):
    """The Dask DataFrame a Dask Series was selected from (``frame[name]``), or None."""
    expression = getattr(column, "expr", None)
    parent = getattr(expression, "frame", None)
    if parent is None or type(expression).__name__ != "Projection":
        return None
    try:
        from dask.dataframe.dask_expr import new_collection
    except ImportError:  # pragma: no cover - other Dask versions
        return None
    return new_collection(parent)


def _states_graph(y_true, y_pred, statistics, sample_weight, mask, split_every, kernel_threads, by=None):
    """``(delayed root, plan)``: the lazy tuple of merged states, one per statistic."""
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2; received split_every={show_value(split_every)}")
    if isinstance(kernel_threads, bool) or not isinstance(kernel_threads, int) or kernel_threads < 1:
        raise ValueError(
            f"kernel_threads must be an int >= 1; received kernel_threads={show_value(kernel_threads)}"
        )
    arrays, weight_number = _input_arrays(y_true, y_pred, sample_weight, mask)
    if by is not None:
        if _is_dask(by) and str(getattr(by, "dtype", "")).startswith("string"):
            by = by.astype(object)  # Dask converts text to object arrays anyway, with a warning
        arrays["by"] = _as_array(by, "by")
    arrays = _align(arrays)
    ndim = max(2, arrays["y_pred"].ndim)
    for statistic in statistics:
        _check_statistic(statistic, ndim)
    names = tuple(arrays)
    settings = (kernel_threads, config.epsilon(), config.floatx())
    token = tokenize(
        [arrays[name].name for name in names],
        [_describe(s) for s in statistics],
        weight_number,
        settings,
        split_every,
    )
    plan = {"statistics": tuple(statistics), "token": token}
    offsets = None
    if any(s.resamples_rows for s in statistics) and arrays["y_pred"].numblocks[0]:
        offsets = _row_offsets(arrays["y_pred"], token)
    block = functools.partial(
        _block_states, tuple(statistics), names, weight_number, settings, offsets is not None
    )
    arguments = [] if offsets is None else [offsets, "i"]
    for position, name in enumerate(names):
        array = arrays[name]
        trailing = "".join(chr(ord("a") + 4 * position + axis) for axis in range(array.ndim - 1))
        arguments += [array, "i" + trailing]
    states = da.blockwise(
        block,
        "i",
        *arguments,
        name=f"regloss-states-{token}",
        dtype=object,
        meta=np.empty((0,), dtype=object),
        adjust_chunks={"i": 1},
        align_arrays=False,
        concatenate=False,
    )
    parts = list(states.to_delayed().ravel())
    if not parts:  # no chunk at all: the empty states
        empty = np.empty((0,) + tuple(arrays["y_pred"].shape[1:]), dtype=arrays["y_pred"].dtype)
        parts = [
            dask.delayed(block, pure=True)(*[empty] * len(names), dask_key_name=f"regloss-empty-{token}")
        ]
    merge = functools.partial(_merge_states, plan["statistics"])
    level = 0
    while len(parts) > 1:
        parts = [
            dask.delayed(merge, pure=True)(
                *parts[start : start + split_every], dask_key_name=f"regloss-merge-{level}-{start}-{token}"
            )
            for start in range(0, len(parts), split_every)
        ]
        level += 1
    return parts[0], plan


def _row_offsets(pred, token: str):
    """A Dask array of the global index of each row chunk's first row, one element per chunk.

    Known chunk sizes give them now; unknown ones (NaN) are counted in the graph: a task per chunk
    takes ``len`` of the ``y_pred`` block that the state task reads too (the same keys: read once),
    and an exclusive cumulative sum, sequential along the chunks, adds them up."""
    if _known(pred):
        starts = np.cumsum((0,) + tuple(int(size) for size in pred.chunks[0][:-1]), dtype=np.int64)
        return da.from_array(starts, chunks=1, name=f"regloss-offsets-{token}")
    trailing = "".join(chr(ord("a") + axis) for axis in range(pred.ndim - 1))
    lengths = da.blockwise(
        _block_rows,
        "i",
        pred,
        "i" + trailing,
        name=f"regloss-rows-{token}",
        dtype=np.int64,
        meta=np.empty((0,), dtype=np.int64),
        adjust_chunks={"i": 1},
        align_arrays=False,
        concatenate=False,
    )
    return da.cumsum(lengths, method="sequential") - lengths


# ------------------------------------------------------------------------------ tasks


def _block_rows(block):
    """The number of rows of a block, as a 1-element int64 array (one element per chunk)."""
    return np.array([_single_block(block).shape[0]], dtype=np.int64)


def _single_block(value):
    """A block given by ``blockwise(concatenate=False)``: nested one-element lists along the
    single-chunk trailing axes are unwrapped; NumPy subclasses (memory maps) become plain arrays,
    which the fused kernels take."""
    while isinstance(value, list):
        if len(value) != 1:  # pragma: no cover - the trailing axes are one chunk
            raise RuntimeError(f"expected one block along a trailing axis; received {len(value)}")
        value = value[0]
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        value = np.asarray(value)
    return value


def _block_states(statistics, names, weight_number, settings, with_offset, *blocks):
    """The states of one chunk, one per statistic (each from ``init`` and one ``update``); with
    ``with_offset``, the first block holds the global index of the chunk's first row."""
    row_offset = 0
    if with_offset:
        row_offset, blocks = int(np.asarray(_single_block(blocks[0])).reshape(-1)[0]), blocks[1:]
    given = dict(zip(names, map(_single_block, blocks), strict=True))
    true, pred = given["y_true"], given["y_pred"]
    rows = {name: block.shape[0] for name, block in given.items()}
    if len(set(rows.values())) > 1:
        shown = ", ".join(f"{name} {count}" for name, count in rows.items())
        raise ValueError(
            f"paired chunks of the inputs have different numbers of rows ({shown}): inputs of unknown "
            "chunk sizes must be partitioned alike (call compute_chunk_sizes() or "
            "to_dask_array(lengths=True) to let regloss.dask rechunk them)"
        )
    if true.ndim == 1:
        true = true[:, None]
    if pred.ndim == 1:
        pred = pred[:, None]
    weight = given.get("sample_weight")
    if weight_number is not None:
        weight = _full_like(pred, pred.shape[0], weight_number)
    mask = given.get("mask")
    with _TASK_SETTINGS.applied(settings):
        states = [statistic.init(pred) for statistic in statistics]
        if not pred.shape[0]:
            return tuple(states)
        groups = {}  # the bootstraps of one (replicates, seed) share one draw of the Poisson counts
        for index, statistic in enumerate(statistics):
            if isinstance(statistic, GroupedStatistic):
                states[index] = statistic.update(
                    states[index], true, pred, weight, mask, groups=given["by"], row_offset=row_offset
                )
            elif statistic.resamples_rows:
                groups.setdefault((statistic.replicates, statistic.seed), []).append(index)
            else:
                states[index] = statistic.update(states[index], true, pred, weight, mask)
        for indices in groups.values():
            updates = [(statistics[i], states[i], true, pred, weight, mask) for i in indices]
            for index, state in zip(indices, update_together(updates, row_offset), strict=True):
                states[index] = state
        return tuple(states)


def _full_like(like, rows: int, value: float):
    """A float64 vector of ``rows`` copies of ``value`` on ``like``'s library."""
    if isinstance(like, np.ndarray):
        return np.full((rows,), value)
    from array_api_compat import array_namespace

    xp = array_namespace(like)
    return xp.full((rows,), value, dtype=xp.float64)


def _merge_states(statistics, *groups):
    """The merge of several tuples of states, statistic by statistic, in order."""
    merged = list(groups[0])
    for group in groups[1:]:
        merged = [s.merge(a, b) for s, a, b in zip(statistics, merged, group, strict=True)]
    return tuple(merged)


def _finish(statistics, keys, dtypes, confidence, states):
    if len(statistics) > len(keys):  # by=: the plain statistics, then their grouped forms
        count = len(keys)
        overall = _finish(statistics[:count], keys, dtypes, confidence, states[:count])
        return {
            "overall": overall,
            "groups": _finish_groups(statistics[count:], keys, dtypes, confidence, states[count:]),
        }
    results = {}
    for key, statistic, dtype, state in zip(keys, statistics, dtypes, states, strict=True):
        if statistic.resamples_rows:  # a bootstrap: the value and its interval
            parts = statistic.result(state, confidence, dtype)
            results[key] = {name: _to_numpy(parts[name]) for name in ("value", "ci_low", "ci_high", "se")}
            results[key].update(confidence=confidence, replicates=statistic.replicates, seed=statistic.seed)
        else:
            results[key] = _to_numpy(statistic.result(state, dtype))
    return results


def _finish_groups(statistics, keys, dtypes, confidence, states) -> dict:
    """``{group key: {metric key: result}}`` of the grouped states, sorted by group key."""
    groups: dict = {}
    for key, statistic, dtype, state in zip(keys, statistics, dtypes, states, strict=True):
        found = statistic.result(state, dtype, confidence if confidence is not None else 0.95)
        for position, group in enumerate(found["keys"]):
            value = _to_numpy(found["value"][position])
            if statistic.replicates:
                value = {
                    "value": value,
                    **{name: _to_numpy(found[name][position]) for name in ("ci_low", "ci_high", "se")},
                }
                value.update(confidence=confidence, replicates=statistic.replicates, seed=statistic.seed)
            groups.setdefault(group, {})[key] = value
    return {group: groups[group] for group in sorted(groups, key=sort_key)}


def _to_numpy(value):
    """A 0-d result as a NumPy scalar, any other as a NumPy array (from any array library)."""
    if type(value).__module__.split(".")[0] == "cupy":
        value = value.get()
    return np.asarray(value)[()]


class _TaskSettings:
    """The :mod:`regloss.config` values the tasks run with, shared by concurrent tasks.

    ``config`` is process-global, so a task cannot set a thread-local value: the first task to
    enter saves the process's values and applies its own, later tasks wanting the same values share
    them, tasks wanting other values wait until no task holds any, and the last task to leave
    restores the saved values.
    """

    def __init__(self):
        self._condition = threading.Condition()
        self._holders = 0
        self._active = None
        self._saved = None

    @staticmethod
    def _read():
        # The raw thread setting (None: the default), which config.num_threads() resolves.
        return (config._settings.get("num_threads"), config.epsilon(), config.floatx())

    @staticmethod
    def _write(values) -> None:
        threads, epsilon, floatx = values
        config.set_num_threads(threads)
        config.set_epsilon(epsilon)
        config.set_floatx(floatx)

    @contextlib.contextmanager
    def applied(self, wanted: tuple):
        with self._condition:
            while self._holders and self._active != wanted:
                self._condition.wait()
            if not self._holders:
                self._saved = self._read()
                self._write(wanted)
                self._active = wanted
            self._holders += 1
        try:
            yield
        finally:
            with self._condition:
                self._holders -= 1
                if not self._holders:
                    self._write(self._saved)
                    self._active = self._saved = None
                    self._condition.notify_all()


_TASK_SETTINGS = _TaskSettings()
