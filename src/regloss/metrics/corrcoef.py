"""Dataset-level correlation: Pearson's and Lin's concordance coefficient of every output over all rows.

torchmetrics 1.9's ``PearsonCorrCoef`` and ``ConcordanceCorrCoef``: one coefficient per output
``j`` of ``y_true[:, j]`` and ``y_pred[:, j]`` over every row of the stream (Keras's
``PearsonCorrelation`` instead averages one coefficient per row across the outputs:
:mod:`regloss.metrics.correlation`). With ``t`` and ``p`` the two columns, ``w`` the sample weight
times the mask (frequency weights: a weight of 2 counts a row twice; 1 without weights), the state
is the centred co-moments of :mod:`regloss.metrics.moments` (float64; each batch shifted by one of
its rows, batches merged with Chan et al.'s pairwise update, never raw power sums)::

    n = sum(w)          mt = sum(w t) / n          mp = sum(w p) / n
    Ctt = sum(w (t - mt)**2)     Cpp = sum(w (p - mp)**2)     Ctp = sum(w (t - mt) (p - mp))

    pearson = clip(Ctp / (sqrt(Ctt) sqrt(Cpp)), -1, 1)
    ccc     = 2 pearson st sp / (st**2 + sp**2 + (mt - mp)**2)
              with st**2 = Ctt / (n - 1), sp**2 = Cpp / (n - 1)     (torchmetrics: n - 1 variances)

The state has a third column, ``t - p``, whose mean is ``mt - mp`` without the cancellation of two
large means (at an offset of 1e6, each streamed mean carries rounding errors of about 1e-10 that the
difference of two means would keep; the mean of ``t - p`` is rounded at the scale of ``t - p``).
Precision in float64, against a corrected two-pass float64 reference (``tests/test_corrcoef.py``),
on 1,000 rows of ``offset + N(0, 1e-3)``: about 1e-14 relative one shot at any offset up to 1e7;
streamed one row at a time (the worst case: each Chan merge rounds the running means at the
offset's scale), 5e-11 at an offset of 1e3 (1e6 times the spread), 3e-8 at 1e6 and 6e-7 at 1e7.

Both are symmetric in ``t`` and ``p``, so torchmetrics's argument order ``(preds, target)`` and
regloss's ``(y_true, y_pred)`` give the same numbers.

Undefined values are NaN, silently (torchmetrics warns): Pearson (and so the concordance, which
torchmetrics builds on it) where ``Ctt`` or ``Cpp`` is 0 or not finite: a constant column, fewer
than two rows, no rows, NaN or an infinity in the data; the concordance also where ``n <= 1``
(``n - 1`` is no divisor; only possible with weights, whose sum is then at most 1). A constant
column gives ``Ctt = 0`` exactly (each batch's shift is one of its rows, and batches of one constant
merge with a zero mean difference), whatever the offset. torchmetrics also gives NaN where its
float32 state cancels, or where its normalised variance ``var / max|x - mean|**2`` falls below
``sqrt(eps)`` of the state's dtype (rare in float64: one outlier in about 1e8 rows); regloss gives
the coefficient there.

Inputs: ``(samples,)`` (one output) or ``(samples, num_outputs)``; results: 0-d for
``num_outputs=1``, else one value per output (``average_outputs=True``: their mean, one value; the
command line's ``pearson`` and ``ccc`` over several columns).
"""

from __future__ import annotations

import math
import numbers

from .. import specs
from .._messages import show_value
from .._shapes import show
from ..losses.functional import finish
from . import accumulate as acc
from . import moments, placement
from .classes import METRIC_CLASSES, Metric
from .statistics import (
    MomentsStatistic,
    _check_state_library,
    _inputs,
    _merge_namespace,
    _namespace_of,
    _state_like,
    result_dtype,
)

__all__ = ["PearsonCorrCoef", "ConcordanceCorrCoef", "CorrCoefStatistic"]

KINDS = ("pearson", "concordance")


class CorrCoefStatistic(MomentsStatistic):
    """The dataset-level Pearson (``kind="pearson"``) or concordance (``"concordance"``)
    coefficient of ``num_outputs`` outputs (module docstring); ``average`` gives their mean."""

    __slots__ = ("kind", "num_outputs", "average")

    def __init__(self, kind: str, num_outputs: int = 1, average: bool = False):
        self.kind = kind
        self.num_outputs = num_outputs
        self.average = average

    @property
    def label(self) -> str:
        return "PearsonCorrCoef" if self.kind == "pearson" else "ConcordanceCorrCoef"

    def _key(self):
        return (self.kind, self.num_outputs, self.average)

    def __repr__(self):
        return f"CorrCoefStatistic({self.kind!r}, num_outputs={self.num_outputs}, average={self.average})"

    def _outputs_error(self, expected: int, found: int, shape: tuple) -> ValueError:
        accepted = "(samples,) or (samples, 1)" if expected == 1 else f"(samples, {expected})"
        return ValueError(
            f"{self.label}(num_outputs={expected}) takes y_true and y_pred of shape {accepted}; "
            f"received y_pred of shape {show(shape)}"
        )

    def init(self, like) -> dict:
        """The empty state, on ``like``'s library and device: co-moments of ``(t, p, t - p)`` per
        output."""
        xp, precision, device = _state_like(*_namespace_of(like))
        return moments.zeros(xp, precision, (self.num_outputs,), 3, device)

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        """The state after one more batch (``state`` is not modified; a batch of another library or
        device than the state is a ``TypeError`` / ``ValueError``)."""
        placement.check_batch(state, "this statistic", y_pred, y_true, sample_weight, mask)
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        _check_state_library(xp, state)
        shift, terms = self._terms(xp, state, true, pred, weight, present)
        return self.add_sums(state, shift, {name: xp.sum(terms[name], axis=0) for name in moments.TERMS})

    def row_terms(self, y_true, y_pred, sample_weight=None, mask=None, *, outputs=None):
        """``(xp, shift, terms)``: the batch's shift (one of its rows, shape ``(outputs, 3)``) and
        what each row adds to its sums (:data:`regloss.metrics.moments.TERMS`, arrays of shape
        ``(rows, outputs, ...)``)."""
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        return (xp, *self._terms(xp, None, true, pred, weight, present, outputs))

    def _terms(self, xp, state, true, pred, weight, present, outputs=None):
        true, pred, weight = self._columns(xp, state, true, pred, weight, present, outputs)
        columns = xp.stack([true, pred, true - pred], axis=-1)  # (rows, outputs, 3)
        shift = moments.shift_of(xp, columns, weight)
        return shift, moments.row_terms(xp, columns, weight, shift)

    def add_sums(self, state: dict, shift, sums: dict) -> dict:
        """``state`` with a batch added (its shift and the sums of its row terms, with any leading
        axes: a bootstrap's replicates), by Chan et al.'s update."""
        xp, precision = _merge_namespace(state, state)
        return moments.add(xp, precision, state, shift, sums)

    replicate_names = moments.MOMENTS
    term_names = moments.TERMS

    def merge(self, first: dict, second: dict) -> dict:
        """The state of both streams together (Chan et al.'s update)."""
        xp, precision = _merge_namespace(first, second)
        self._check_mergeable(first, second)
        return moments.merge(xp, precision, first, second)

    def result(self, state: dict, dtype: str = "float32"):
        """The coefficients (module docstring) as an array of ``dtype``: 0-d for one output (or with
        ``average``), else ``(num_outputs,)``; a bootstrap's replicate states add a leading axis."""
        xp, precision = _merge_namespace(state, state)
        wide = acc.sum_dtype(xp, precision)
        count, mean, comoment = moments.values(xp, precision, state, wide)
        true_sum, pred_sum, cross = comoment[..., 0, 0], comoment[..., 1, 1], comoment[..., 0, 1]
        defined = (true_sum > 0) & (pred_sum > 0) & xp.isfinite(true_sum * pred_sum) & xp.isfinite(cross)
        one = xp.ones_like(cross)
        scale = xp.sqrt(xp.where(defined, true_sum, one)) * xp.sqrt(xp.where(defined, pred_sum, one))
        values = cross / scale  # no division by zero: nothing warns
        values = xp.where(values > 1, one, xp.where(values < -1, -one, values))
        if self.kind == "concordance":
            freedom = count - 1
            defined = defined & (freedom > 0)
            freedom = xp.where(defined, freedom, one)
            true_variance, pred_variance = true_sum / freedom, pred_sum / freedom
            difference = mean[..., 2]  # mean(t - p): no cancellation of two large means
            spread = true_variance + pred_variance + difference * difference
            values = (
                2 * values * xp.sqrt(true_variance) * xp.sqrt(pred_variance) / xp.where(defined, spread, one)
            )
        values = xp.where(defined, values, xp.full_like(values, math.nan))
        if self.average:
            values = xp.mean(values, axis=-1)
        elif self.num_outputs == 1:
            values = values[..., 0]
        return finish(xp, values, result_dtype(precision, dtype))


class _CorrCoef(Metric):
    """A dataset-level correlation (module docstring), torchmetrics's signature plus Keras's
    ``name`` and ``dtype``."""

    kind = None

    def __init__(self, num_outputs=1, name=None, dtype=None, *, average_outputs=False):
        if isinstance(num_outputs, bool) or not isinstance(num_outputs, numbers.Integral):
            raise TypeError(
                f"num_outputs must be an integer >= 1; received num_outputs={show_value(num_outputs)}"
            )
        if num_outputs < 1:
            raise ValueError(
                f"num_outputs must be an integer >= 1; received num_outputs={show_value(num_outputs)}"
            )
        if not isinstance(average_outputs, bool):
            raise TypeError(
                "average_outputs must be True or False; "
                f"received average_outputs={show_value(average_outputs)}"
            )
        self.num_outputs = int(num_outputs)
        self.average_outputs = average_outputs
        super().__init__(name=name, dtype=dtype)

    def _make_statistic(self):
        return CorrCoefStatistic(self.kind, self.num_outputs, self.average_outputs)

    def _empty_result(self, np):
        shape = () if self.num_outputs == 1 or self.average_outputs else (self.num_outputs,)
        return np.full(shape, np.nan, dtype=self._dtype if self._dtype != "bfloat16" else "float32")

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_outputs": self.num_outputs,
            "average_outputs": self.average_outputs,
        }


class PearsonCorrCoef(_CorrCoef):
    """Pearson's correlation of ``y_true`` and ``y_pred`` over every row seen, per output
    (torchmetrics's ``PearsonCorrCoef``)::

        r_j = sum(w (t - mt) (p - mp)) / sqrt(sum(w (t - mt)**2) sum(w (p - mp)**2))

    over the columns ``t = y_true[:, j]``, ``p = y_pred[:, j]`` of the whole stream, kept as float64
    centred co-moments merged with Chan et al.'s update (no cancellation at large offsets). NaN
    where a column is constant (fewer than two rows included), without a warning. Weights are
    frequency weights; without them the value is torchmetrics's (and ``scipy.stats.pearsonr``'s).

    Parameters
    ----------
    num_outputs : int
        The number of outputs: inputs ``(samples,)`` or ``(samples, 1)`` for 1 (a 0-d result),
        ``(samples, num_outputs)`` otherwise (one value per output).
    name, dtype
        As every metric (``dtype``: the result's; the state is float64).
    average_outputs : bool
        Keyword-only; True gives the mean of the outputs' coefficients (one value).

    >>> from regloss.metrics import PearsonCorrCoef
    >>> m = PearsonCorrCoef()
    >>> m.update_state([3.0, -0.5], [2.5, 0.0])
    >>> m.update_state([2.0, 7.0], [2.0, 8.0])
    >>> round(float(m.result()), 4)
    0.9849
    """

    kind = "pearson"
    default_name = specs.PEARSON_CORRCOEF.default_name

    def __init__(
        self, num_outputs=1, name=specs.PEARSON_CORRCOEF.default_name, dtype=None, *, average_outputs=False
    ):
        super().__init__(num_outputs, name=name, dtype=dtype, average_outputs=average_outputs)


class ConcordanceCorrCoef(_CorrCoef):
    """Lin's concordance correlation of ``y_true`` and ``y_pred`` over every row seen, per output
    (torchmetrics's ``ConcordanceCorrCoef``, with its ``n - 1`` variances)::

        ccc_j = 2 r_j st sp / (st**2 + sp**2 + (mt - mp)**2)        st**2 = sum(w (t - mt)**2) / (n - 1)

    with ``r_j`` the Pearson correlation (:class:`PearsonCorrCoef`) and ``n = sum(w)``. NaN where
    ``r_j`` is, or where ``n <= 1``; the parameters are :class:`PearsonCorrCoef`'s.

    >>> from regloss.metrics import ConcordanceCorrCoef
    >>> m = ConcordanceCorrCoef()
    >>> m.update_state([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    >>> round(float(m.result()), 4)
    0.9777
    """

    kind = "concordance"
    default_name = specs.CONCORDANCE_CORRCOEF.default_name

    def __init__(
        self,
        num_outputs=1,
        name=specs.CONCORDANCE_CORRCOEF.default_name,
        dtype=None,
        *,
        average_outputs=False,
    ):
        super().__init__(num_outputs, name=name, dtype=dtype, average_outputs=average_outputs)


# Every metric class is listed in one registry (configs, Bootstrap.from_config, regloss.dask and
# the command line's names); importing regloss.metrics imports this module, so it is complete.
METRIC_CLASSES.update({cls.__name__: cls for cls in (PearsonCorrCoef, ConcordanceCorrCoef)})
