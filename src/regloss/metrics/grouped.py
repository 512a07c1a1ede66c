"""Every metric per group: one state per key, kept as one array with a leading axis of groups.

``Grouped(metric)`` takes, with every batch, one key per row (``groups=``) and keeps for each
distinct key the state the metric would have had if it had been fed that group's rows alone.
The state of ``G`` groups is the statistic's *replicate* sums (the interface that
:class:`regloss.metrics.Bootstrap` uses, so that any metric that can be bootstrapped can be
grouped) with a leading axis of ``G``: a batch's per-row terms ``t_i`` (per-row weighted values and
weights of a mean; R²'s shifted moments and residuals) are added per group in one vectorised
scatter (``numpy.bincount`` per term column)::

    sums[g] += sum_{i : code_i = g} t_i          rows[g] += #{i : code_i = g}

and the statistic's own ``result`` turns every group's sums into its value at once (a mean's
``sum(w v) / sum(w)``; R²'s moments merged with Chan et al.'s update, the shift of a batch shared
by its groups). A group whose weights are all zero has the value of the metric on weights of
zero: 0 for the means (Keras's rule), NaN or 0 for R² as :class:`~regloss.metrics.R2Score` gives.

``Grouped(Bootstrap(metric))`` (the documented form; ``Bootstrap(Grouped(...))`` is refused) adds
per group the replicate sums of the Poisson bootstrap: row ``i`` (its global index) has the counts
``P[r, i]`` of :mod:`regloss.metrics.poisson`, the same counts a :class:`Bootstrap` of all rows
gives it, so a group's interval is the bootstrap of that group's rows::

    replicates[g, r] += sum_{i : code_i = g} P[r, i] t_i

(the rows sorted by group once per batch, the sums taken with ``numpy.add.reduceat``).

Where the state lives: group keys are host values, and so is the state (NumPy float64, whatever
the inputs' library): the per-row terms are computed on the inputs' library and device, then
copied to the host, one small row of numbers per input row. Results are NumPy arrays.
"""

from __future__ import annotations

import numpy as np

from .._xp import received, short_repr
from . import accumulate as acc
from . import poisson
from .bootstrap import Bootstrap, BootstrapResult, ResampledStatistic, interval_of, rows_per_step
from .group_keys import Factorized, factorize, sort_key, to_host, used_codes

_WIDE = acc.WIDE


def _like(shape: tuple) -> np.ndarray:
    """An empty host array with a batch's trailing shape (what ``statistic.init`` reads)."""
    return np.zeros((0, *shape[1:]))


def _scatter(codes: np.ndarray, term: np.ndarray, groups: int, by_max: bool = False) -> np.ndarray:
    """``out[g] = sum(term[codes == g])`` (``max`` for a statistic kept as a max of non-negative
    terms, MaxError's), shape ``(groups, *term.shape[1:])``."""
    flat = term.reshape(len(term), -1)
    out = np.zeros((groups, flat.shape[1]))
    for column in range(flat.shape[1]):
        if by_max:
            np.maximum.at(out[:, column], codes, flat[:, column])
        else:
            out[:, column] = np.bincount(codes, weights=flat[:, column], minlength=groups)
    return out.reshape((groups, *term.shape[1:]))


def _by_max(statistic) -> bool:
    """Whether the statistic keeps a max, not sums (its replicates: ``reduce_replicates``)."""
    return hasattr(statistic, "reduce_replicates")


class GroupedStatistic(ResampledStatistic):
    """The pure state machine of a grouped statistic (module docstring).

    ``statistic``: a metric's statistic; ``replicates`` and ``seed``: a bootstrap's settings
    (``replicates=0``: none). A state is a dict of host values::

        "trailing": the first batch's shape after the rows axis
        "index": {key: position}, the group keys in order of first appearance
        "rows":  int64 (G,), rows seen per group
        "seen":  int, rows seen in all
        "point": {name: float64 (G, ...)}             the statistic's replicate sums per group
        "replicates": {name: float64 (G, R, ...)}     with a bootstrap only
    """

    __slots__ = ()

    def __init__(self, statistic, replicates: int = 0, seed: int = 0):
        super().__init__(statistic, replicates, seed)

    def __repr__(self):
        return f"GroupedStatistic({self.statistic!r}, replicates={self.replicates}, seed={self.seed})"

    @property
    def resamples_rows(self) -> bool:
        """Whether updates need the batch's global row offset (a bootstrap's do)."""
        return bool(self.replicates)

    def _shapes(self, like) -> dict:
        point = self.statistic.init(like)
        return {
            name: () if name == "samples" else point[name].shape for name in self.statistic.replicate_names
        }

    def init(self, like) -> dict:
        """The empty state (``like``: an empty host array of a batch's trailing shape)."""
        shapes = self._shapes(like)
        state = {
            "trailing": tuple(np.shape(like)[1:]),
            "index": {},
            "rows": np.zeros(0, dtype=np.int64),
            "seen": 0,
            "point": {name: np.zeros((0, *shape)) for name, shape in shapes.items()},
        }
        if self.replicates:
            state["replicates"] = {
                name: np.zeros((0, self.replicates, *shape)) for name, shape in shapes.items()
            }
        return state

    def _with_keys(self, state: dict, keys) -> tuple[dict, np.ndarray]:
        """``(state, positions)``: the state grown with the keys it has not seen (zero sums) and
        the position of each of ``keys`` in it."""
        index = state["index"]
        unseen = set(keys).difference(index)
        if unseen:
            new = [key for key in keys if key in unseen]  # in order of appearance (keys: distinct)
            index = dict(index)  # the caller's state is not modified
            index.update((key, len(index)) for key in new)
            grown = len(index)
            state = {
                **state,
                "index": index,
                "rows": _padded(state["rows"], grown),
                "point": {name: _padded(value, grown) for name, value in state["point"].items()},
            }
            if "replicates" in state:
                state["replicates"] = {
                    name: _padded(value, grown) for name, value in state["replicates"].items()
                }
        return state, np.fromiter(map(index.__getitem__, keys), dtype=np.int64, count=len(keys))

    def update(
        self, state: dict, y_true, y_pred, sample_weight=None, mask=None, *, groups, row_offset=None
    ) -> dict:
        """The state after one batch whose rows have the keys ``groups`` (and, with a bootstrap,
        the global indices ``row_offset, row_offset + 1, ...``; by default the rows seen so far)."""
        factored = factorize(groups)
        statistic = self.statistic
        shape = np.shape(y_pred)
        rows = shape[0] if shape else 1
        if len(factored) != rows:
            raise ValueError(
                f"groups must hold one key per row: the batch has {rows} rows, "
                f"groups has {len(factored)} keys"
            )
        codes = factored.codes
        present, compact = used_codes(codes, len(factored.keys))  # the batch's groups, by local code
        extra = {}
        if getattr(statistic, "shifts_by_row", False):
            # each group centred on one of its own rows (R2's moments: precise whatever the groups' means)
            row_of_code = np.zeros(len(factored.keys), dtype=np.int64)
            row_of_code[codes] = np.arange(rows)  # a row of each group (any one)
            first = row_of_code[present]
            extra["shift_rows"] = row_of_code[codes]
        xp, terms, shift = statistic.bootstrap_terms(
            self._point_like(state), y_true, y_pred, sample_weight, mask, **extra
        )
        terms = {name: np.asarray(to_host(terms[name]), dtype=np.float64) for name in statistic.term_names}
        if shift is not None:
            shift = np.asarray(to_host(shift), dtype=np.float64)
            if extra:
                shift = shift[first]  # one per group of the batch
        if row_offset is None:
            row_offset = state["seen"]
        state, positions = self._with_keys(state, factored.keys)
        where = positions[present]  # their positions in the state
        by_max = _by_max(statistic)
        sums = {name: _scatter(compact, term, len(present), by_max) for name, term in terms.items()}
        new = dict(state)
        new["point"] = _added(statistic, state["point"], where, sums, shift)
        rows_seen = state["rows"].copy()
        rows_seen[where] += np.bincount(compact, minlength=len(present))
        new["rows"], new["seen"] = rows_seen, state["seen"] + rows
        if self.replicates:
            new["replicates"] = self._bootstrapped(
                state["replicates"], where, compact, terms, shift, row_offset, bool(extra)
            )
        return new

    def _point_like(self, state: dict) -> dict:
        """An empty host state of the statistic for batches like the first (R2's terms check the
        number of outputs against it)."""
        return self.statistic.init(_like((0, *state["trailing"])))

    def _bootstrapped(self, replicates, where, compact, terms, shift, row_offset, per_group) -> dict:
        """The replicate sums after adding the batch's rows times their Poisson counts, a block of
        rows at a time (rows sorted by group, summed with ``numpy.add.reduceat``)."""
        order = np.argsort(compact, kind="stable")
        groups = len(where)
        by_max = _by_max(self.statistic)
        total = {name: np.zeros((groups, self.replicates, *term.shape[1:])) for name, term in terms.items()}
        step = rows_per_step(self.replicates)
        rows = len(compact)
        for first in range(0, rows, step):
            last = min(first + step, rows)
            # the block's rows in group order: its slice of the sorted rows is not contiguous in
            # the batch, so the counts are drawn for the block and taken in that order
            block = order[(order >= first) & (order < last)] if rows > step else order
            counts = poisson.poisson_weights(
                np, self.seed, row_offset + first, last - first, self.replicates, np.float64
            )[:, block - first]
            block_codes = compact[block]
            starts = np.flatnonzero(np.r_[True, block_codes[1:] != block_codes[:-1]])
            owners = block_codes[starts]
            for name, term in terms.items():
                flat = term[block].reshape(len(block), -1)
                for column in range(flat.shape[1]):
                    target = total[name].reshape(groups, self.replicates, -1)
                    if by_max:  # the max over the rows each replicate draws
                        drawn = np.where(counts > 0, flat[:, column], 0.0)
                        largest = np.maximum.reduceat(drawn, starts, axis=1)
                        target[owners, :, column] = np.maximum(target[owners, :, column], largest.T)
                        continue
                    summed = np.add.reduceat(counts * flat[:, column], starts, axis=1)  # (R, groups here)
                    target[owners, :, column] += summed.T
        if per_group:
            shift = shift[:, None, ...]  # one per group: the same for each of its replicates
        return _added(self.statistic, replicates, where, total, shift)

    def merge(self, first: dict, second: dict) -> dict:
        """Both states' groups: the sums of a key seen by both added (the statistic's merge)."""
        state, positions = self._with_keys(first, list(second["index"]))
        statistic = self.statistic
        new = dict(state)
        new["point"] = _merged(statistic.merge_replicates, state["point"], positions, second["point"])
        if self.replicates:
            new["replicates"] = _merged(
                statistic.merge_replicates, state["replicates"], positions, second["replicates"]
            )
        rows = state["rows"].copy()
        rows[positions] += second["rows"]
        new["rows"], new["seen"] = rows, state["seen"] + second["seen"]
        return new

    def result(self, state: dict, dtype: str = "float32", confidence: float = 0.95) -> dict:
        """``{"keys", "rows", "value"}`` (and ``"ci_low"``, ``"ci_high"``, ``"se"`` with a
        bootstrap): ``keys`` a tuple, the others arrays with a leading axis of groups in its order."""
        statistic = self.statistic
        like = np.zeros(0)
        found = {
            "keys": tuple(state["index"]),
            "rows": state["rows"],
            "value": statistic.result(statistic.replicate_state(dict(state["point"]), like), dtype),
        }
        if self.replicates:
            values = statistic.result(statistic.replicate_state(dict(state["replicates"]), like), "float64")
            found.update(interval_of(np, np.moveaxis(values, 1, 0), confidence, dtype))
        return found


def _padded(array: np.ndarray, groups: int) -> np.ndarray:
    """``array`` with zero rows appended along its leading axis up to ``groups``."""
    out = np.zeros((groups, *array.shape[1:]), dtype=array.dtype)
    out[: len(array)] = array
    return out


def _added(statistic, sums: dict, where: np.ndarray, batch: dict, shift) -> dict:
    """``sums`` with the batch's sums (leading axis: the groups at ``where``) added by the
    statistic's rule (only those groups' rows are touched)."""
    return _updated_at(sums, where, lambda mine: statistic.add_replicate_sums(np, _WIDE, mine, batch, shift))


def _merged(merge, sums: dict, positions: np.ndarray, other: dict) -> dict:
    """``sums`` with the groups at ``positions`` merged with ``other``'s by ``merge``."""
    return _updated_at(sums, positions, lambda mine: merge(mine, other))


def _updated_at(sums: dict, rows: np.ndarray, update) -> dict:
    """Copies of ``sums`` whose ``rows`` (of the leading axis) are ``update`` of those rows."""
    updated = update({name: value[rows] for name, value in sums.items()})
    out = {}
    for name, value in sums.items():
        value = value.copy()
        value[rows] = updated[name]
        out[name] = value
    return out


class Grouped:
    """A streaming metric per group: ``Grouped(metric)``, fed ``groups=`` keys with every batch.

    Parameters
    ----------
    metric : regloss.metrics.Metric or regloss.metrics.Bootstrap
        Any streaming metric (its configuration is copied); ``Grouped(Bootstrap(metric))`` gives
        every group a bootstrap interval.
    name : str, optional
        Defaults to ``"<metric name>_by_group"``.

    ``update_state(y_true, y_pred, sample_weight=None, *, groups, mask=None, row_offset=None)``:
    ``groups`` holds one key per row (a 1-D array; a 2-D array or a tuple of 1-D arrays for keys
    of several columns: tuples); NaN and None keys form one group, ``None``. ``result()`` is a dict
    ``{key: value}`` sorted by key (missing last): 0-d arrays of the metric's dtype (one per output
    for ``R2Score(class_aggregation=None)``), or :class:`BootstrapResult` per key. Each group's
    value is the metric of that group's rows alone (module docstring for the formulas).

    >>> import numpy as np
    >>> from regloss.metrics import Grouped, MeanAbsoluteError
    >>> m = Grouped(MeanAbsoluteError(dtype="float64"))
    >>> m.update_state([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 1.0, 4.0], groups=["a", "b", "a", "b"])
    >>> {key: float(value) for key, value in m.result().items()}
    {'a': 1.25, 'b': 0.0}
    """

    def __new__(cls, metric=None, *args, **kwargs):
        """An :class:`~regloss.metrics.AbsoluteErrorQuantile` gets one sketch per group
        (:class:`regloss.metrics.quantile_groups.GroupedSketch`)."""
        from .quantile_sketch import AbsoluteErrorQuantile

        if isinstance(metric, AbsoluteErrorQuantile):
            from .quantile_groups import GroupedSketch

            return GroupedSketch(metric, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, metric, name=None):
        from .classes import Metric

        if isinstance(metric, Grouped):
            raise TypeError("metric must be a regloss.metrics metric or Bootstrap; received a Grouped metric")
        if not isinstance(metric, (Metric, Bootstrap)):
            raise TypeError(
                f"metric must be a regloss.metrics metric or Bootstrap; received {received(metric)}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None; received name={short_repr(name)}")
        self.metric = type(metric).from_config(metric.get_config())
        bootstrap = isinstance(self.metric, Bootstrap)
        inner = self.metric.metric if bootstrap else self.metric
        self.name = name or f"{inner.name}_by_group"
        self.dtype = inner.dtype
        self.statistic = GroupedStatistic(
            inner.statistic,
            self.metric.num_replicates if bootstrap else 0,
            self.metric.seed if bootstrap else 0,
        )
        self.state = None

    def update_state(self, y_true, y_pred, sample_weight=None, *, groups, mask=None, row_offset=None):
        """Add a batch whose row ``i`` belongs to the group ``groups[i]`` (with a bootstrap, whose
        rows are ``row_offset, row_offset + 1, ...``; by default the rows seen so far). On any
        error the state is unchanged."""
        if row_offset is not None and (
            isinstance(row_offset, bool) or not isinstance(row_offset, int) or row_offset < 0
        ):
            raise ValueError(
                f"row_offset must be an integer >= 0; received row_offset={short_repr(row_offset)}"
            )
        state = self.state
        if state is None:
            state = self.statistic.init(_like(tuple(np.shape(y_pred))))
        self.state = self.statistic.update(
            state, y_true, y_pred, sample_weight, mask, groups=groups, row_offset=row_offset
        )

    def result(self) -> dict:
        """``{key: value}`` sorted by key (missing keys last); ``{}`` before any batch."""
        if self.state is None:
            return {}
        confidence = self.metric.confidence if self.statistic.replicates else 0.95
        found = self.statistic.result(self.state, self.dtype, confidence)
        out = {}
        for position in sorted(range(len(found["keys"])), key=lambda i: sort_key(found["keys"][i])):
            value = np.asarray(found["value"][position])
            if not self.statistic.replicates:
                out[found["keys"][position]] = value
                continue
            out[found["keys"][position]] = BootstrapResult(
                value,
                np.asarray(found["ci_low"][position]),
                np.asarray(found["ci_high"][position]),
                np.asarray(found["se"][position]),
                confidence=confidence,
                num_replicates=self.metric.num_replicates,
                seed=self.metric.seed,
            )
        return out

    def row_counts(self) -> dict:
        """``{key: rows seen}`` sorted by key."""
        if self.state is None:
            return {}
        counts = dict(zip(self.state["index"], self.state["rows"].tolist(), strict=True))
        return {key: counts[key] for key in sorted(counts, key=sort_key)}

    def reset_state(self):
        """Forget every batch."""
        self.state = None

    def merge_state(self, *others):
        """Add the groups of other ``Grouped`` metrics of this configuration (a key seen by both
        gets both states merged); ``TypeError``/``ValueError`` otherwise, the state unchanged."""
        merged = self.state
        for position, other in enumerate(others):
            if not isinstance(other, Grouped):
                raise TypeError(
                    f"merge_state takes Grouped metrics; received {type(other).__name__} "
                    f"as argument {position}"
                )
            if other.statistic != self.statistic:
                raise ValueError(
                    "merge_state takes Grouped metrics of one configuration; this one has "
                    f"{self.metric!r}, argument {position} has {other.metric!r}"
                )
        for other in others:
            if other.state is not None:
                merged = other.state if merged is None else self.statistic.merge(merged, other.state)
        self.state = merged

    def get_config(self) -> dict:
        return {
            "metric": {"class_name": type(self.metric).__name__, "config": self.metric.get_config()},
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict):
        """The grouped metric of a ``get_config()`` dict (``{"metric": {"class_name", "config"},
        "name"}``): ``TypeError`` for a config that is not a dict, ``ValueError`` for a bad key."""
        from .classes import METRIC_CLASSES

        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict; received {received(config)}")
        unknown = sorted(set(config) - {"metric", "name"}, key=str)
        if unknown or not isinstance(config.get("metric"), dict):
            raise ValueError(
                "Grouped config must be {'metric': {'class_name': ..., 'config': {...}}, 'name': ...}; "
                f"received the keys {short_repr(sorted(map(str, config)))}"
            )
        spec = config["metric"]
        classes = {**METRIC_CLASSES, "Bootstrap": Bootstrap}
        name = spec.get("class_name")
        if name not in classes or not isinstance(spec.get("config"), dict):
            raise ValueError(
                f"Grouped config key 'metric' must name a regloss metric or Bootstrap and its config; "
                f"received {short_repr(spec)}"
            )
        return cls(classes[name].from_config(spec["config"]), name=config.get("name"))

    def __repr__(self) -> str:
        return f"Grouped({self.metric!r}, name={self.name!r})"


__all__ = ["Grouped", "GroupedStatistic", "Factorized", "factorize"]
