"""Confidence intervals for every streaming metric: a Poisson bootstrap that streams and merges.

Every row ``i`` (its global index: the position in the whole data set) gets, for every replicate
``r``, a Poisson(1) count ``P[r, i]`` that is a pure function of ``(seed, i, r)``
(:mod:`regloss.metrics.poisson`). Replicate ``r`` is the metric computed with every row's weight
multiplied by ``P[r, i]``: its sums are ``sum_i P[r, i] * term_i`` of the statistic's per-row
terms (:meth:`~regloss.metrics.statistics.MeanStatistic.row_terms`), one small state per replicate
(O(num_replicates) memory, whatever the number of rows). Since the counts depend on the row and
not on the batch, the process or the order, any split of the data into batches, merged in any
order or evaluated on a cluster, gives the same replicate sums up to float64 rounding, and exactly
when every sum is exact.

R2's replicates keep centred moments, as its point estimate does (:mod:`regloss.metrics.moments`):
a batch's row terms are taken about the batch's shift (one of its rows), their Poisson-weighted
sums give every replicate's moments of the batch, and those merge into the replicate's with Chan
et al.'s update (``(replicates, outputs, ...)`` arrays, one merge for all replicates). The batching
then changes R2's replicates by rounding only (not exactly: the means divide).

A replicate is a resample: row ``i`` appears ``P[r, i]`` times in it. For the sums that is the
weight times ``P[r, i]``; R2's sample count ``n`` (of the adjusted score) is likewise the sum of the
counts of the rows with a non-zero weight, not the number of distinct rows drawn, so that an
adjusted R2 replicate has ``n`` near the data's, as in a classical bootstrap resample.

The result (:meth:`BootstrapStatistic.result`): the point estimate (the plain metric of the
data), the percentile interval of the replicates' values at ``(1 - confidence) / 2`` and
``(1 + confidence) / 2`` (NumPy's default ``"linear"`` quantile: ``h = (R - 1) q``,
``x[floor(h)] + (h - floor(h)) (x[floor(h) + 1] - x[floor(h)])`` of the sorted values), and the
bootstrap standard error (their standard deviation, ``ddof=1``).

Row indices: ``update_state(..., row_offset=k)`` says that the batch's rows are ``k, k+1, ...``;
without it a :class:`Bootstrap` counts the rows it has seen, which is right when batches arrive
in order. Streams that are merged must use distinct global row indices (pass ``row_offset``, as
:func:`regloss.dask.evaluate` does from the chunk positions).
"""

from __future__ import annotations

import math
import numbers

import array_api_compat

from .. import kernels
from .._messages import show_value
from .._xp import cast, device_of, received, short_repr
from ..losses.functional import finish
from . import accumulate as acc
from . import placement, poisson
from .statistics import _check_state_library, _namespace_of, result_dtype

MAX_REPLICATES = 100_000
"""The most replicates a bootstrap takes (``num_replicates``, ``regloss.dask.evaluate``'s and the
command line's ``--replicates``). The state holds ``num_replicates`` copies of the metric's sums:
16 bytes each for a mean metric (1.6 MB at the maximum), ``8 (4 outputs + 1)`` bytes for
``R2Score``; the Poisson counts are drawn in blocks of at most :data:`_COUNTS_PER_STEP`, so a
bootstrap's memory is bounded before any row is read. Percentile intervals need a few thousand
replicates at most; 10**9 replicates would need 16 GB per metric."""

_ROWS_PER_STEP = 1 << 13
"""Rows whose Poisson counts are drawn at once, for up to 200 replicates: a (replicates, rows)
block of float64 (12.5 MiB for 200 replicates), so memory does not grow with the batch."""

_COUNTS_PER_STEP = 200 * _ROWS_PER_STEP
"""Counts (replicates x rows) drawn at once at most: more replicates take fewer rows per step."""


_ACCELERATED_COUNTS = 1 << 16
"""Counts (rows x replicates) from which a NumPy batch takes the numba tier's fused kernel."""


class ResampledStatistic:
    """What a statistic wrapped with bootstrap settings is: the wrapped ``statistic``, the number
    of ``replicates`` and the ``seed`` of their Poisson counts; equal (and hashed) by the three,
    chunkable as the statistic (:func:`regloss.dask.evaluate`'s check)."""

    __slots__ = ("statistic", "replicates", "seed")

    def __init__(self, statistic, replicates: int, seed: int = 0):
        self.statistic, self.replicates, self.seed = statistic, replicates, seed

    def _key(self):
        return (self.statistic, self.replicates, self.seed)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    def check_chunkable(self, ndim: int) -> None:
        self.statistic.check_chunkable(ndim)


class BootstrapStatistic(ResampledStatistic):
    """The pure state machine of a bootstrapped statistic (see the module docstring)."""

    __slots__ = ()

    def __init__(self, statistic, replicates: int = 200, seed: int = 0):
        super().__init__(statistic, replicates, seed)

    resamples_rows = True
    """Its updates take the batch's global row offset (the Poisson counts are keyed by row)."""

    def __repr__(self):
        return f"bootstrap({self.statistic!r}, {self.replicates}, {self.seed})"

    def init(self, like) -> dict:
        """The empty state: the point estimate's state, one state per replicate, a row count."""
        xp, array = _namespace_of(like)
        point = self.statistic.init(like)
        precision, device = acc.precision_of(xp), device_of(xp, array)
        replicates = {}
        for name in self.statistic.replicate_names:
            # a point sum is () or (outputs,), with a leading (hi, lo) axis of 2 when paired
            shape = (
                tuple(point[name].shape[1 if precision == acc.PAIRED else 0 :]) if name != "samples" else ()
            )
            replicates[name] = acc.zeros_sum(xp, precision, (self.replicates, *shape), device)
        return {"point": point, "replicates": replicates, "rows": acc.zeros_count(xp, precision, device)}

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None, row_offset: int = 0) -> dict:
        """The state after one more batch whose rows are ``row_offset, row_offset + 1, ...``."""
        return update_together([(self, state, y_true, y_pred, sample_weight, mask)], row_offset)[0]

    def _point_and_terms(self, state: dict, y_true, y_pred, sample_weight, mask):
        """``(point, xp, terms, shift)``: the point estimate's new state, the per-row terms and the
        batch's shift (R2's; None for a mean)."""
        statistic = self.statistic
        point = statistic.update(state["point"], y_true, y_pred, sample_weight, mask)
        xp, terms, shift = statistic.bootstrap_terms(state["point"], y_true, y_pred, sample_weight, mask)
        _check_state_library(xp, state["point"])
        return point, xp, terms, shift

    def merge(self, first: dict, second: dict) -> dict:
        xp, _ = _namespace_of(first["rows"])
        precision = acc.precision_of(xp)
        replicates = self.statistic.merge_replicates(first["replicates"], second["replicates"])
        return {
            "point": self.statistic.merge(first["point"], second["point"]),
            "replicates": replicates,
            "rows": acc.merge_counts(xp, precision, first["rows"], second["rows"]),
        }

    def replicate_values(self, state: dict, dtype: str = "float64"):
        """The metric of every replicate, shape ``(replicates,)`` (``(replicates, outputs)`` for
        R2 without aggregation)."""
        replicates = self.statistic.replicate_state(dict(state["replicates"]), state["rows"])
        return self.statistic.result(replicates, dtype)

    def result(self, state: dict, confidence: float = 0.95, dtype: str = "float32") -> dict:
        """``{"value", "ci_low", "ci_high", "se"}``: arrays of ``dtype`` (see the module docstring)."""
        xp, _ = _namespace_of(state["rows"])
        precision = acc.precision_of(xp)
        values = self.replicate_values(state, result_dtype(precision, "float64"))
        return {
            "value": self.statistic.result(state["point"], dtype),
            **interval_of(xp, values, confidence, result_dtype(precision, dtype)),
        }


def interval_of(xp, values, confidence: float, dtype: str) -> dict:
    """``{"ci_low", "ci_high", "se"}`` of replicate values (replicates along axis 0): the
    percentile interval (NumPy's ``"linear"`` quantiles at ``(1 -+ confidence) / 2``) and the
    standard deviation (``ddof=1``), as arrays of ``dtype``."""
    ordered = xp.sort(values, axis=0)
    low, high = (_linear_quantile(xp, ordered, q) for q in ((1 - confidence) / 2, (1 + confidence) / 2))
    se = xp.std(values, axis=0, correction=1)
    cast = _caster(xp, dtype)
    return {"ci_low": cast(low), "ci_high": cast(high), "se": cast(se)}


def update_together(updates, row_offset: int = 0) -> list:
    """The new states of several bootstrapped statistics fed the same rows (global indices
    ``row_offset, row_offset + 1, ...``), with the Poisson counts drawn once for all of them.

    ``updates``: ``[(statistic, state, y_true, y_pred, sample_weight, mask), ...]``, every
    ``statistic`` a :class:`BootstrapStatistic` of one ``replicates`` and ``seed``, every batch of one
    library and one number of rows. Each new state is, bit for bit, what ``statistic.update`` gives
    alone: the numba kernel sums each column over the rows in the same order whatever the other
    columns, and the NumPy steps multiply the same counts by each statistic's terms separately.
    """
    settings = updates[0][0]
    for statistic, *_ in updates:
        if (statistic.replicates, statistic.seed) != (settings.replicates, settings.seed):
            raise ValueError(
                "bootstraps updated together need one num_replicates and one seed; received "
                f"({settings.replicates}, {settings.seed}) and ({statistic.replicates}, {statistic.seed})"
            )
    prepared = [statistic._point_and_terms(*batch) for statistic, *batch in updates]
    xp = prepared[0][1]
    rows = _rows_of(prepared[0][2])
    for _, other, terms, _ in prepared:
        if other is not xp or _rows_of(terms) != rows:
            raise ValueError(
                "bootstraps updated together need batches of one array library and one number of "
                f"rows; received {rows} and {_rows_of(terms)} rows"
            )
    precision = acc.precision_of(xp)
    replicates = [dict(update[1]["replicates"]) for update in updates]
    # (statistic, row terms, shift) of each update
    batches = [(update[0], *ready[2:]) for update, ready in zip(updates, prepared, strict=True)]
    # the sums go to the numba tier's fused kernel where it applies; a max (MaxError) is stepped
    summed = [i for i, batch in enumerate(batches) if not hasattr(batch[0].statistic, "reduce_replicates")]
    added = _accelerated_sums(xp, precision, settings, [batches[i] for i in summed], rows, row_offset)
    stepped = list(range(len(batches)))
    if added is not None:
        for i, sums in zip(summed, added, strict=True):
            statistic, _, shift = batches[i]
            replicates[i] = statistic.statistic.add_replicate_sums(xp, precision, replicates[i], sums, shift)
        stepped = [i for i in stepped if i not in summed]
    if stepped:
        device = device_of(xp, next(iter(batches[0][1].values())))
        mine, theirs = [replicates[i] for i in stepped], [batches[i] for i in stepped]
        _add_stepped_sums(xp, precision, settings, theirs, mine, rows, row_offset, device)
        for i, new in zip(stepped, mine, strict=True):
            replicates[i] = new
    return [
        {"point": point, "replicates": sums, "rows": acc.add_count(xp, precision, update[1]["rows"], rows)}
        for update, (point, *_), sums in zip(updates, prepared, replicates, strict=True)
    ]


def _rows_of(terms: dict) -> int:
    """The rows of a batch's per-row terms (axis 0 of each)."""
    return next(iter(terms.values())).shape[0]


def _add_stepped_sums(xp, precision, settings, batches, replicates, rows, row_offset, device) -> None:
    """Add every statistic's batch to its replicate states ``replicates[i]``, a block of
    :func:`rows_per_step` rows at a time: one ``(replicates, rows)`` block of at most
    :data:`_COUNTS_PER_STEP` counts per step, times each statistic's terms (``batches``:
    ``(statistic, terms, shift)``)."""
    wide = acc.sum_dtype(xp, precision)
    step_rows = rows_per_step(settings.replicates)
    for first in range(0, rows, step_rows):
        last = min(first + step_rows, rows)
        counts = poisson.poisson_weights(
            xp, settings.seed, row_offset + first, last - first, settings.replicates, wide, device
        )
        for i, (statistic, terms, shift) in enumerate(batches):
            sums = {}
            for name in statistic.statistic.term_names:
                term = terms[name][first:last, ...]  # `...`: array-api-strict indexes every axis
                # every sum, R2's sample count included, takes the counts: a row is repeated
                # P[r, i] times in replicate r, as in a resample (module docstring)
                flat = xp.reshape(term, (last - first, -1)) if term.ndim > 1 else term[:, None]
                step = _replicate_step(statistic.statistic, xp, counts, xp.astype(flat, wide))
                sums[name] = xp.reshape(step, (settings.replicates, *term.shape[1:]))
            replicates[i] = statistic.statistic.add_replicate_sums(xp, precision, replicates[i], sums, shift)


def _replicate_step(statistic, xp, counts, flat):
    """What a block of rows adds to every replicate: the Poisson-weighted sums ``counts @ flat``
    (``(replicates, rows)`` counts, ``(rows, columns)`` terms), or, for a statistic that is not a
    sum (a max), its own ``reduce_replicates(xp, counts, flat)``."""
    reduce = getattr(statistic, "reduce_replicates", None)
    return xp.matmul(counts, flat) if reduce is None else reduce(xp, counts, flat)


def rows_per_step(replicates: int) -> int:
    """Rows whose counts are drawn at once: :data:`_ROWS_PER_STEP`, fewer past 200 replicates so
    that a step holds at most :data:`_COUNTS_PER_STEP` counts."""
    return max(1, min(_ROWS_PER_STEP, _COUNTS_PER_STEP // replicates))


def _accelerated_sums(xp, precision, settings, batches, rows, row_offset) -> list | None:
    """Every statistic's ``{name: (replicates, ...) sums}`` of its row terms from one call of the
    numba tier's fused kernel over all their terms side by side, for NumPy batches of at least
    :data:`_ACCELERATED_COUNTS` counts; else None (the NumPy steps run)."""
    if (
        precision != acc.WIDE
        or not array_api_compat.is_numpy_namespace(xp)
        or rows * settings.replicates < _ACCELERATED_COUNTS
        or not batches
    ):
        return None
    columns = [
        xp.reshape(xp.astype(terms[name], xp.float64), (rows, -1))
        for statistic, terms, _ in batches
        for name in statistic.statistic.term_names
    ]
    sums = kernels.poisson_weighted_sums(
        poisson.row_keys(xp, settings.seed, row_offset, rows),
        poisson.replicate_keys(xp, settings.replicates),
        poisson.THRESHOLDS,
        xp.concat(columns, axis=1),
    )
    if sums is None:
        return None
    added, start = [], 0
    for statistic, terms, _ in batches:
        mine = {}
        for name in statistic.statistic.term_names:
            width = math.prod(terms[name].shape[1:])
            shape = (settings.replicates, *terms[name].shape[1:])
            mine[name] = xp.reshape(sums[:, start : start + width], shape)
            start += width
        added.append(mine)
    return added


def check_settings(num_replicates, confidence, seed) -> tuple[int, float, int]:
    """``(num_replicates, confidence, seed)`` as plain Python numbers, or a ValueError naming the
    argument: an integer in [2, :data:`MAX_REPLICATES`], a number in (0, 1), an integer in
    [0, 2**32) (NumPy scalars pass)."""
    # bool is an Integral; NumPy's bool_ is no number at all
    replicates_ok = isinstance(num_replicates, numbers.Integral) and not isinstance(num_replicates, bool)
    if not replicates_ok or not 2 <= num_replicates <= MAX_REPLICATES:
        raise ValueError(
            f"num_replicates must be an integer from 2 to {MAX_REPLICATES} (the bootstrap's state "
            "holds num_replicates copies of the metric's sums); received "
            f"num_replicates={show_value(num_replicates)}"
        )
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(
            f"confidence must be a number in (0, 1); received confidence={show_value(confidence)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32); received seed={show_value(seed)}")
    return int(num_replicates), float(confidence), int(seed)


def _bounded(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters (an error message quoting a config stays short)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _row_count(count) -> int:
    """A concrete row count (int64 0-d, or two uint32 words) as a Python int, with ``int()`` of
    each word: ``acc.count_as_int`` goes through NumPy, which array-api-strict arrays on a
    non-default device refuse."""
    if count.ndim == 0:
        return int(count)
    return int(count[0]) * 2**32 + int(count[1])


def _caster(xp, name):
    return lambda array: finish(xp, cast(xp, array, name), name)


def _linear_quantile(xp, ordered, q: float):
    """NumPy's ``"linear"`` quantile of values sorted along axis 0 (static indices: jit-safe)."""
    count = ordered.shape[0]
    position = (count - 1) * q
    below = math.floor(position)
    fraction = position - below
    above = min(below + 1, count - 1)
    low_values = ordered[below, ...]
    return low_values + fraction * (ordered[above, ...] - low_values)


_SETTING_KEYS = frozenset({"num_replicates", "confidence", "seed", "name"})


class Bootstrap:
    """A streaming metric with a confidence interval: ``Bootstrap(metric)``.

    Parameters
    ----------
    metric : regloss.metrics.Metric
        Any streaming metric (its configuration is copied; its state is not used).
    num_replicates : int
        Bootstrap replicates (200 by default): the state holds this many copies of the metric's
        few sums.
    confidence : float
        The interval's coverage, in (0, 1).
    seed : int
        In [0, 2**32): the Poisson counts are a function of ``(seed, row, replicate)`` only.

    ``result()`` returns a :class:`BootstrapResult` (``value``, ``ci_low``, ``ci_high``, ``se``,
    ``confidence``, ``num_replicates``, ``seed``; ``as_dict()``).

    >>> import numpy as np
    >>> from regloss.metrics import Bootstrap, MeanAbsoluteError
    >>> rng = np.random.default_rng(0)
    >>> y_true = rng.normal(size=(1000, 1))
    >>> y_pred = y_true + rng.normal(scale=0.5, size=(1000, 1))
    >>> m = Bootstrap(MeanAbsoluteError(dtype="float64"), seed=1)
    >>> for start in range(0, 1000, 250):
    ...     m.update_state(y_true[start : start + 250], y_pred[start : start + 250])
    >>> r = m.result()
    >>> bool(r.ci_low < r.value < r.ci_high)
    True
    """

    def __new__(cls, metric=None, *args, **kwargs):
        """An :class:`~regloss.metrics.AbsoluteErrorQuantile` is bootstrapped with one sketch per
        replicate (:class:`regloss.metrics.quantile_bootstrap.SketchBootstrap`)."""
        from .quantile_sketch import AbsoluteErrorQuantile

        if isinstance(metric, AbsoluteErrorQuantile):
            from .quantile_bootstrap import SketchBootstrap

            return SketchBootstrap(metric, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, metric, num_replicates: int = 200, confidence: float = 0.95, seed: int = 0, name=None):
        from .classes import Metric

        if not isinstance(metric, Metric):
            hint = (
                " (to bootstrap every group, write Grouped(Bootstrap(metric)))"
                if type(metric).__name__ == "Grouped"
                else ""
            )
            raise TypeError(
                f"metric must be a regloss.metrics metric; received {type(metric).__name__}{hint}"
            )
        num_replicates, confidence, seed = check_settings(num_replicates, confidence, seed)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None; received name={short_repr(name)}")
        self.metric = type(metric).from_config(metric.get_config())
        self.num_replicates, self.confidence, self.seed = num_replicates, confidence, seed
        self.name = name or f"{self.metric.name}_bootstrap"
        self.statistic = BootstrapStatistic(self.metric.statistic, num_replicates, seed)
        self.state = None

    def update_state(self, y_true, y_pred, sample_weight=None, *, mask=None, row_offset=None):
        """Add a batch whose rows are ``row_offset, row_offset + 1, ...`` (by default, the rows
        seen so far: batches in order). On any error the state is unchanged."""
        Bootstrap.update_together([(self, y_true, y_pred, sample_weight, mask)], row_offset=row_offset)

    @staticmethod
    def update_together(updates, *, row_offset=None):
        """Add a batch of the same rows to each of several ``Bootstrap`` metrics of one
        ``num_replicates`` and ``seed``, drawing the Poisson counts once for all of them: each ends
        as after its own ``update_state``, bit for bit (a command line scoring four metrics with
        ``--ci`` draws a quarter of the counts).

        ``updates``: tuples ``(bootstrap, y_true, y_pred)``, ``(..., sample_weight)`` or
        ``(..., sample_weight, mask)``, the batches of one library and one number of rows.
        ``row_offset``: as in ``update_state``; by default the rows each has seen, which must agree.
        On any error no state changes.
        """
        from .classes import _computed

        items = []
        for update in updates:
            if not isinstance(update, (tuple, list)) or not 3 <= len(update) <= 5:
                raise TypeError(
                    "each update must be (bootstrap, y_true, y_pred[, sample_weight[, mask]]); "
                    f"received {type(update).__name__} {update!r:.80}"
                )
            bootstrap, y_true, y_pred, *rest = update
            if not isinstance(bootstrap, Bootstrap):
                raise TypeError(f"updates must start with a Bootstrap; received {type(bootstrap).__name__}")
            rest += [None] * (2 - len(rest))
            if bootstrap.state is not None:
                placement.check_batch(bootstrap.state, "Bootstrap", y_pred, y_true, *rest)
            state = bootstrap.state if bootstrap.state is not None else bootstrap.statistic.init(y_pred)
            items.append((bootstrap, state, y_true, y_pred, *rest))
        if not items:
            return
        if len({id(item[0]) for item in items}) != len(items):
            raise ValueError("a Bootstrap can be updated once per update_together call")
        if row_offset is None:
            seen = sorted({_row_count(state["rows"]) for _, state, *_ in items})
            if len(seen) > 1:
                raise ValueError(
                    f"the bootstraps have seen different numbers of rows ({seen[0]} to {seen[-1]}): "
                    "pass row_offset, the global index of the batch's first row"
                )
            row_offset = seen[0]
        elif isinstance(row_offset, bool) or not isinstance(row_offset, int) or row_offset < 0:
            raise ValueError(
                f"row_offset must be an integer >= 0; received row_offset={show_value(row_offset)}"
            )
        states = update_together([(item[0].statistic, *item[1:]) for item in items], row_offset)
        # Dask batches: every array of every state computed in one pass, the row counts included (a
        # lazy count would make result() take the Dask namespace for NumPy replicate sums)
        flat = _computed(
            {
                (i, part, name): value
                for i, new in enumerate(states)
                for part in ("point", "replicates")
                for name, value in new[part].items()
            }
            | {(i, "rows", ""): new["rows"] for i, new in enumerate(states)}
        )
        for i, ((bootstrap, *_), new) in enumerate(zip(items, states, strict=True)):
            bootstrap.state = {
                "point": {name: flat[i, "point", name] for name in new["point"]},
                "replicates": {name: flat[i, "replicates", name] for name in new["replicates"]},
                "rows": flat[i, "rows", ""],
            }

    def result(self):
        if self.state is None:
            raise ValueError("Bootstrap.result() needs at least one batch (update_state first)")
        parts = self.statistic.result(self.state, self.confidence, self.metric.dtype)
        return BootstrapResult(
            **parts, confidence=self.confidence, num_replicates=self.num_replicates, seed=self.seed
        )

    def reset_state(self):
        self.state = None

    def merge_state(self, *others):
        """Add the states of other ``Bootstrap`` metrics of this configuration (their rows must have
        other global indices); ``TypeError``/``ValueError`` otherwise, the state unchanged."""
        from .classes import merged_state

        self.state = merged_state(self, others)

    def _comparable_config(self) -> dict:
        config = self.get_config()
        config.pop("name", None)
        return config

    def get_config(self) -> dict:
        return {
            "metric": {"class_name": type(self.metric).__name__, "config": self.metric.get_config()},
            "num_replicates": self.num_replicates,
            "confidence": self.confidence,
            "seed": self.seed,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict):
        """The bootstrap of a ``get_config()`` dict: ``{"metric": {"class_name", "config"},
        "num_replicates", "confidence", "seed", "name"}`` (the settings may be left out: their
        defaults). A config that is not a dict is a ``TypeError``; a missing, unknown or malformed
        key, at any depth, a ``ValueError`` naming the key."""
        from .classes import METRIC_CLASSES

        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict; received {received(config)}")
        settings = dict(config)
        if "metric" not in settings:
            keys = short_repr(sorted(map(str, config)))
            raise ValueError(f"Bootstrap config has no 'metric' key; received the keys {keys}")
        spec = settings.pop("metric")
        unknown = sorted(set(settings) - _SETTING_KEYS, key=str)
        if unknown:
            raise ValueError(
                f"Bootstrap config has the unknown key {short_repr(unknown[0])}; valid keys: metric, "
                f"{', '.join(sorted(_SETTING_KEYS))}"
            )
        if not isinstance(spec, dict):
            raise ValueError(
                "Bootstrap config key 'metric' must be a dict {'class_name': ..., 'config': {...}}; "
                f"received {received(spec)}"
            )
        for key, kind in (("class_name", str), ("config", dict)):
            if key not in spec:
                raise ValueError(f"Bootstrap config key 'metric' has no {key!r} key")
            if not isinstance(spec[key], kind):
                raise ValueError(
                    f"Bootstrap config key 'metric' -> {key!r} must be a {kind.__name__}; received "
                    f"{received(spec[key])}"
                )
        name = spec["class_name"]
        if name not in METRIC_CLASSES:
            raise ValueError(
                f"Bootstrap config key 'metric' -> 'class_name' is {short_repr(name)}, which is no "
                f"regloss metric; valid names: {', '.join(METRIC_CLASSES)}"
            )
        try:
            metric = METRIC_CLASSES[name].from_config(spec["config"])
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Bootstrap config key 'metric' -> 'config' is not a valid {name} config: "
                f"{_bounded(str(error))}"
            ) from error
        try:
            return cls(metric, **settings)
        except TypeError as error:  # a setting of the wrong type (check_settings' are ValueErrors)
            raise ValueError(f"Bootstrap config: {error}") from error

    def __repr__(self):
        return (
            f"Bootstrap({self.metric!r}, num_replicates={self.num_replicates}, "
            f"confidence={self.confidence}, seed={self.seed})"
        )


class BootstrapResult:
    """A bootstrapped metric: ``value`` (the plain metric), ``ci_low``/``ci_high`` (the percentile
    interval), ``se`` (the bootstrap standard error), and the settings that produced them."""

    __slots__ = ("value", "ci_low", "ci_high", "se", "confidence", "num_replicates", "seed")

    def __init__(self, value, ci_low, ci_high, se, confidence, num_replicates, seed):
        self.value, self.ci_low, self.ci_high, self.se = value, ci_low, ci_high, se
        self.confidence, self.num_replicates, self.seed = confidence, num_replicates, seed

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self):
        return "BootstrapResult(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"
