"""The state machines of scikit-learn's regression metrics, streamed (``init / update / merge /
result`` and the interface of :class:`~regloss.metrics.Bootstrap` and :func:`regloss.dask.evaluate`,
as :mod:`regloss.metrics.statistics`).

Every batch is ``(rows, outputs)`` columns with a weight ``w`` per row and output
(:mod:`regloss.metrics.per_output`); states are float64 sums (float32 ``(hi, lo)`` pairs on JAX
without x64), one per output:

:class:`OutputMeanStatistic`, the weighted mean of an elementwise value ``v`` per output::

    total_j += sum(w v_j)      weight_j += sum(w)      result = multioutput(finish(total_j / weight_j))

with ``v`` the pinball loss, the Tweedie unit deviance, or ``(log1p(y) - log1p(p))**2`` with the
square root as ``finish`` (scikit-learn's root mean squared log error: the mean over outputs of each
output's root).

:class:`ExplainedVarianceStatistic`: centred moments (:mod:`regloss.metrics.moments`) of the
columns ``(y_j, y_j - p_j)`` of each output: ``C_00 = sum(w (y - mean(y))**2)`` and
``C_11 = sum(w (e - mean(e))**2)``, ``score_j = 1 - C_11 / C_00`` (scikit-learn's ``force_finite``:
1 where ``C_11 = 0``, 0 where only ``C_00 = 0``).

:class:`D2TweedieStatistic`: ``1 - sum(w dev(y, p)) / sum(w dev(y, mean(y)))`` per output, the
denominator a mergeable null deviance (:mod:`regloss.metrics.tweedie_moments`); NaN with fewer than
two samples of non-zero weight, as scikit-learn; the uniform mean over outputs.

:class:`MaxErrorStatistic`: ``max |y - p|`` over every element of non-zero weight (a weight is a
mask here: scikit-learn's ``max_error`` takes none), merged by ``max``; 0 before any element. A
bootstrap replicate is the max over the rows its Poisson counts draw (count > 0).
"""

from __future__ import annotations

import math

from .._shapes import shape_of
from .._xp import device_of
from ..formulas import pinball_error
from ..losses.functional import finish
from . import accumulate as acc
from . import moments, per_output, placement
from . import tweedie_moments as tweedie
from .statistics import (
    MomentsStatistic,
    _add_samples,
    _check_state_library,
    _ieee_divide,
    _inputs,
    _merge_namespace,
    _namespace_of,
    result_dtype,
)

# ------------------------------------------------------------------------------ elementwise values


def _tweedie_domain(xp, true, pred, power: float, owner: str) -> None:
    """scikit-learn's domain checks of ``mean_tweedie_deviance``: a ``ValueError`` naming the
    argument, the power and the bound."""
    if power == 0:
        return
    if power > 0:  # 1 <= p < 2: y_true >= 0; p >= 2: y_true > 0 (0 < p < 1 is refused at construction)
        _at_least(xp, true, 0.0, strict=power >= 2, argument="y_true", owner=owner, power=power)
    _at_least(xp, pred, 0.0, strict=True, argument="y_pred", owner=owner, power=power)


def _at_least(xp, values, bound, *, strict, argument, owner, power=None):
    """A ``ValueError`` (:class:`~regloss.metrics.per_output.DomainError`) when a value of
    ``argument`` is not above ``bound`` (``strict``) or below it."""
    bad = values <= bound if strict else values < bound
    where = f" (Tweedie power {power})" if power is not None else ""
    needs = f"> {bound:g}" if strict else f">= {bound:g}"
    fails = "<=" if strict else "<"
    per_output.check_values(
        xp,
        bad,
        f"{argument} must be {needs} for {owner}{where}; received {argument} with a value {fails} {bound:g}",
    )


def _pinball(xp, true, pred, params, owner):
    return pinball_error(xp, true, pred, params["alpha"])


def _deviance(xp, true, pred, params, owner):
    _tweedie_domain(xp, true, pred, params["power"], owner)
    return tweedie.unit_deviance(xp, true, pred, params["power"])


def _squared_log(xp, true, pred, params, owner):
    for argument, values in (("y_true", true), ("y_pred", pred)):
        _at_least(xp, values, -1.0, strict=True, argument=argument, owner=f"{owner} (log1p)")
    return (xp.log1p(true) - xp.log1p(pred)) ** 2


ELEMENTS = {"pinball": _pinball, "tweedie": _deviance, "squared_log": _squared_log}
"""The elementwise values of :class:`OutputMeanStatistic`, by kind."""


class _PerOutput(MomentsStatistic):
    """What the statistics of this module share with the moments statistics (R2's): identity by
    key, inputs ``(samples,)`` or ``(samples, outputs)`` and their weights
    (:meth:`MomentsStatistic._columns`), and the interface of Bootstrap and regloss.dask; masked-out
    values are 1 here (a value of every metric's domain) rather than 0."""

    __slots__ = ()
    owner = "metric"

    @property
    def label(self) -> str:
        return self.owner

    def __repr__(self):
        return f"{type(self).__name__}{self._key()!r}"

    def _place(self, like):
        """``(xp, precision, device, outputs)`` of an array like ``y_pred``."""
        xp, array = _namespace_of(like)
        return xp, acc.precision_of(xp), device_of(xp, array), self._outputs_in(shape_of(array))

    def _outputs_of_state(self, state) -> int:
        return shape_of(state["weight"])[-1]

    def _batch(self, state, y_true, y_pred, sample_weight, mask, outputs=None) -> per_output.Batch:
        if state is not None:
            placement.check_batch(state, "this statistic", y_pred, y_true, sample_weight, mask)
            outputs = self._outputs_of_state(state)
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        if state is not None:
            _check_state_library(xp, state)
        true, pred, weight = self._columns(xp, None, true, pred, weight, present, outputs)
        if present is not None:  # masked-out values: 1, so that no domain check or formula reads them
            keep = xp.reshape(present, (shape_of(present)[0], 1)) if present.ndim else present
            true = xp.where(keep, true, xp.ones_like(true))
            pred = xp.where(keep, pred, xp.ones_like(pred))
        precision = acc.precision_of(xp)
        return per_output.Batch(xp, true, pred, weight, present, precision, acc.sum_dtype(xp, precision))

    def bootstrap_terms(self, point_state: dict, y_true, y_pred, sample_weight=None, mask=None, **_):
        """``(xp, terms, shift)`` of a batch (its per-row terms, shape ``(rows, ...)``)."""
        batch = self._batch(None, y_true, y_pred, sample_weight, mask, self._outputs_of_state(point_state))
        shift, terms = self._terms(batch)
        return batch.xp, terms, shift

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        """The state after one more batch (``state`` is not modified; a batch of another library or
        device is a ``TypeError`` / ``ValueError``, a value outside the domain a ``ValueError``)."""
        batch = self._batch(state, y_true, y_pred, sample_weight, mask)
        shift, terms = self._terms(batch)
        xp = batch.xp
        sums = {name: xp.sum(terms[name], axis=0) for name in self.term_names}
        return self.add_replicate_sums(xp, batch.precision, state, sums, shift)


class OutputMeanStatistic(_PerOutput):
    """The weighted mean per output of an elementwise value (module docstring). ``kind``: a key of
    :data:`ELEMENTS`; ``params``: its parameters; ``root``: the square root per output."""

    __slots__ = ("kind", "params", "root", "multioutput", "owner")

    def __init__(self, kind: str, params=None, *, root=False, multioutput="uniform_average", owner="metric"):
        self.kind, self.params, self.root = kind, dict(params or {}), root
        self.multioutput, self.owner = multioutput, owner

    def _key(self):
        return (self.kind, tuple(sorted(self.params.items())), self.root, self.multioutput, self.owner)

    replicate_names = ("total", "weight")
    term_names = replicate_names

    def init(self, like) -> dict:
        xp, precision, device, outputs = self._place(like)
        return {name: acc.zeros_sum(xp, precision, (outputs,), device) for name in self.replicate_names}

    def _terms(self, batch):
        per_output.check_outputs(self.multioutput, batch.outputs, self.owner)
        values = ELEMENTS[self.kind](batch.xp, batch.true, batch.pred, self.params, self.owner)
        if batch.weight is None:
            return None, {"total": values, "weight": batch.xp.ones_like(values)}
        return None, {"total": batch.weight * values, "weight": batch.weight}

    def add_replicate_sums(self, xp, precision, replicates: dict, sums: dict, shift) -> dict:
        return {name: acc.add_sum(xp, precision, replicates[name], sums[name]) for name in replicates}

    def merge(self, first: dict, second: dict) -> dict:
        xp, precision = _merge_namespace(first, second)
        return {name: acc.merge_sums(xp, precision, first[name], second[name]) for name in first}

    def result(self, state: dict, dtype: str = "float32"):
        """The metric, 0-d (one per output for ``"raw_values"``; a leading axis for replicates)."""
        xp, precision = _merge_namespace(state, state)
        wide = acc.sum_dtype(xp, precision)
        total = acc.sum_value(xp, precision, state["total"], wide)
        weight = acc.sum_value(xp, precision, state["weight"], wide)
        values = _ieee_divide(xp, total, weight)
        if self.root:
            values = xp.sqrt(values)
        return finish(xp, per_output.aggregate(xp, values, self.multioutput), result_dtype(precision, dtype))


class ExplainedVarianceStatistic(_PerOutput):
    """scikit-learn's explained variance score from centred moments (module docstring)."""

    __slots__ = ("multioutput", "force_finite")
    owner = "ExplainedVarianceScore"

    def __init__(self, multioutput="uniform_average", force_finite=True):
        self.multioutput, self.force_finite = multioutput, force_finite

    def _key(self):
        return (self.multioutput, self.force_finite)

    replicate_names = moments.MOMENTS
    term_names = moments.TERMS

    def init(self, like) -> dict:
        xp, precision, device, outputs = self._place(like)
        return moments.zeros(xp, precision, (outputs,), 2, device)

    def _terms(self, batch):
        per_output.check_outputs(self.multioutput, batch.outputs, self.owner)
        xp = batch.xp
        stacked = xp.stack([batch.true, batch.true - batch.pred], axis=-1)  # (rows, outputs, 2)
        shift = moments.shift_of(xp, stacked, batch.weight)
        return shift, moments.row_terms(xp, stacked, batch.weight, shift)

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        """As :meth:`_PerOutput.update`, with the batch's sums of products taken by a matrix
        product instead of per-row products (the same sums: a bootstrap still needs the rows')."""
        batch = self._batch(state, y_true, y_pred, sample_weight, mask)
        per_output.check_outputs(self.multioutput, batch.outputs, self.owner)
        xp = batch.xp
        stacked = xp.stack([batch.true, batch.true - batch.pred], axis=-1)  # (rows, outputs, 2)
        shift = moments.shift_of(xp, stacked, batch.weight)
        centred = stacked - shift
        if batch.weight is None:
            weight, weighted = xp.ones_like(centred[..., 0]), centred
        else:
            weight, weighted = batch.weight, batch.weight[..., None] * centred
        # sum over rows of (w d)^T d per output: (outputs, 2, rows) @ (outputs, rows, 2)
        products = xp.matmul(xp.permute_dims(weighted, (1, 2, 0)), xp.permute_dims(centred, (1, 0, 2)))
        sums = {"weight": xp.sum(weight, axis=0), "sum": xp.sum(weighted, axis=0), "products": products}
        return moments.add(xp, batch.precision, state, shift, sums)

    def add_replicate_sums(self, xp, precision, replicates: dict, sums: dict, shift) -> dict:
        return moments.add(xp, precision, replicates, shift, sums)

    def merge(self, first: dict, second: dict) -> dict:
        xp, precision = _merge_namespace(first, second)
        return moments.merge(xp, precision, first, second)

    def result(self, state: dict, dtype: str = "float32"):
        xp, precision = _merge_namespace(state, state)
        wide = acc.sum_dtype(xp, precision)
        weight, _, comoment = moments.values(xp, precision, state, wide)
        safe = xp.where(weight == 0, xp.ones_like(weight), weight)
        denominator = comoment[..., 0, 0] / safe  # the weighted variance of y_true
        numerator = comoment[..., 1, 1] / safe  # that of y_true - y_pred
        if self.force_finite:
            ratio = numerator / xp.where(denominator == 0, xp.ones_like(denominator), denominator)
            scores = xp.where(
                numerator == 0,
                xp.ones_like(ratio),
                xp.where(denominator == 0, xp.zeros_like(ratio), 1 - ratio),
            )
        else:
            scores = 1 - _ieee_divide(xp, numerator, denominator)
        scores = per_output.aggregate(xp, scores, self.multioutput, denominator)
        return finish(xp, scores, result_dtype(precision, dtype))


class D2TweedieStatistic(_PerOutput):
    """scikit-learn's D² Tweedie score (module docstring)."""

    __slots__ = ("power",)
    owner = "D2TweedieScore"

    def __init__(self, power=0.0):
        self.power = float(power)

    def _key(self):
        return (self.power,)

    @property
    def replicate_names(self):
        return (*tweedie.names(self.power), "residual", "samples")

    @property
    def term_names(self):
        return (*tweedie.term_names(self.power), "residual", "samples")

    def init(self, like) -> dict:
        xp, precision, device, outputs = self._place(like)
        return {
            **tweedie.zeros(xp, precision, (outputs,), self.power, device),
            "residual": acc.zeros_sum(xp, precision, (outputs,), device),
            "samples": acc.zeros_count(xp, precision, device=device),
        }

    def _terms(self, batch):
        xp = batch.xp
        residual = _deviance(xp, batch.true, batch.pred, {"power": self.power}, self.owner)
        weight = batch.weight
        shift = tweedie.shift_of(xp, batch.true, weight, self.power)
        terms = tweedie.row_terms(xp, batch.true, weight, shift, self.power)
        if weight is None:
            terms["residual"] = residual
            terms["samples"] = xp.ones_like(batch.true[:, 0])
        else:
            terms["residual"] = weight * residual
            terms["samples"] = xp.astype(xp.any(weight != 0, axis=1), batch.wide)
        return shift, terms

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        batch = self._batch(state, y_true, y_pred, sample_weight, mask)
        shift, terms = self._terms(batch)
        xp = batch.xp
        sums = {name: xp.sum(terms[name], axis=0) for name in self.term_names if name != "samples"}
        rows = batch.rows
        sums["samples"] = rows if batch.weight is None else xp.sum(xp.astype(terms["samples"], xp.int32))
        return self.add_replicate_sums(xp, batch.precision, state, sums, shift)

    def add_replicate_sums(self, xp, precision, replicates: dict, sums: dict, shift) -> dict:
        new = tweedie.add(xp, precision, replicates, shift, sums, self.power)
        new["residual"] = acc.add_sum(xp, precision, replicates["residual"], sums["residual"])
        new["samples"] = _add_samples(xp, precision, replicates["samples"], sums["samples"])
        return new

    def merge(self, first: dict, second: dict) -> dict:
        xp, precision = _merge_namespace(first, second)
        return {
            **tweedie.merge(xp, precision, first, second, self.power),
            "residual": acc.merge_sums(xp, precision, first["residual"], second["residual"]),
            "samples": _add_samples(xp, precision, first["samples"], second["samples"], merging=True),
        }

    def result(self, state: dict, dtype: str = "float32"):
        xp, precision = _merge_namespace(state, state)
        wide = acc.sum_dtype(xp, precision)
        _, _, null = tweedie.null_deviance(xp, precision, state, wide, self.power)
        residual = acc.sum_value(xp, precision, state["residual"], wide)
        scores = xp.mean(1 - _ieee_divide(xp, residual, null), axis=-1)
        samples = acc.count_value(xp, precision, state["samples"], wide)
        scores = xp.where(samples < 2, xp.full_like(scores, math.nan), scores)
        return finish(xp, scores, result_dtype(precision, dtype))


class MaxErrorStatistic(_PerOutput):
    """The largest absolute error (module docstring)."""

    __slots__ = ()
    owner = "MaxError"

    def _key(self):
        return ()

    replicate_names = ("max",)
    term_names = replicate_names

    def init(self, like) -> dict:
        xp, precision, device, _ = self._place(like)
        return {"max": acc.zeros_sum(xp, precision, (), device)}

    def _outputs_of_state(self, state):
        return None  # any number of outputs: the max is over every element

    def _terms(self, batch):
        xp = batch.xp
        errors = xp.abs(batch.true - batch.pred)
        if batch.weight is not None:
            errors = xp.where(batch.weight != 0, errors, xp.zeros_like(errors))
        return None, {"max": xp.max(errors, axis=1)}

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        batch = self._batch(state, y_true, y_pred, sample_weight, mask)
        _, terms = self._terms(batch)
        xp = batch.xp
        largest = xp.max(terms["max"]) if batch.rows else xp.zeros((), dtype=batch.wide)
        return {"max": _max_into(xp, batch.precision, state["max"], largest)}

    @staticmethod
    def reduce_replicates(xp, counts, rows_terms):
        """Each replicate's max over the rows it draws: ``counts`` ``(replicates, rows)``, the
        terms ``(rows, 1)``; returns ``(replicates, 1)``."""
        drawn = xp.where(counts > 0, rows_terms[:, 0][None, :], xp.zeros_like(counts))
        return xp.max(drawn, axis=1, keepdims=True)

    def add_replicate_sums(self, xp, precision, replicates: dict, sums: dict, shift) -> dict:
        return {"max": _max_into(xp, precision, replicates["max"], sums["max"])}

    def merge(self, first: dict, second: dict) -> dict:
        xp, precision = _merge_namespace(first, second)
        return {
            "max": _max_into(
                xp,
                precision,
                first["max"],
                acc.sum_value(xp, precision, second["max"], acc.sum_dtype(xp, precision)),
            )
        }

    def result(self, state: dict, dtype: str = "float32"):
        xp, precision = _merge_namespace(state, state)
        value = acc.sum_value(xp, precision, state["max"], acc.sum_dtype(xp, precision))
        return finish(xp, value, result_dtype(precision, dtype))


def _max_into(xp, precision, current, value):
    """``max(current, value)`` of a max kept as a sum (a float32 ``(hi, 0)`` pair when paired)."""
    value = xp.astype(value, acc.sum_dtype(xp, precision))
    if precision == acc.WIDE:
        return xp.maximum(current, value)
    return xp.stack([xp.maximum(current[0], value), current[1]])
