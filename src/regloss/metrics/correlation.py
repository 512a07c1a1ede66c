"""Keras 3's correlation metrics: Pearson's and Lin's concordance coefficient of each row.

A *row* is the elements along ``axis`` of one position of the other axes (with ``axis=-1`` and
inputs ``(B, D)``: the ``D`` outputs of one sample). With ``t`` and ``p`` the row's ``y_true`` and
``y_pred`` values, ``n`` their number and population moments (divisor ``n``, as Keras)::

    mt = mean(t)                 mp = mean(p)
    vt = mean((t - mt)**2)       vp = mean((p - mp)**2)       c = mean((t - mt) * (p - mp))

    pearson(t, p)     = c / (sqrt(vt) * sqrt(vp))
    concordance(t, p) = 2 c / (vt + vp + (mt - mp)**2 + eps)      eps = regloss.config.epsilon()

Keras 3.15.1 writes Pearson as ``mean((t - mt) / std(t - mt) * (p - mp) / std(p - mp))`` and the
concordance's covariance as ``mean((t - mp) * (p - mp))``; both equal the lines above (``p - mp``
has mean 0), so the values agree up to rounding.

A constant row (``t`` or ``p`` with all values equal, a row of one element included) has no Pearson
correlation: ``0 / 0``. It is NaN here, as Keras 3.15.1 gives on its NumPy and JAX backends (its
torch backend gives NaN too, but -inf or inf for float64 rows of one element), as NumPy's
``corrcoef`` and SciPy's ``pearsonr`` give; regloss decides it from the values themselves
(``max == min``), so it is NaN whatever the rounding of the row's mean, and no warning is raised.
A row whose variance underflows to 0 is NaN too. The concordance has ``eps`` in its denominator:
a constant row gives a finite value (0 when both sides are constant). A row holding NaN or an
infinity gives NaN for both, as in Keras, without an ``inf - inf`` warning.

The functions (:func:`pearson_correlation`, :func:`concordance_correlation`) return the per-row
values, ``axis`` reduced, in ``y_pred``'s float dtype (float16 and bfloat16 compute in float32 and
are cast back; integers, booleans and lists compute in ``regloss.config.floatx()``), as Keras's
functions do: a 1-D input is one row.

The classes (:class:`PearsonCorrelation`, :class:`ConcordanceCorrelation`) are Keras's
``MeanMetricWrapper`` of those functions: the weighted mean over samples of the per-row values
(each sample's values averaged over its non-batch axes first; see
:class:`regloss.metrics.statistics.MeanStatistic`), kept as float64 sums, mergeable, under
``jax.jit`` too. As in every streaming face of regloss, a 1-D batch of ``B`` values is ``B`` samples
of one output, read as ``(B, 1)``: each row then has one element, so Pearson gives NaN and the
concordance 0 per sample, where Keras takes the whole 1-D batch as one row (pass ``(1, B)``, or
``axis=0``, to correlate a batch's values with each other).
"""

from __future__ import annotations

import math

from .. import config, specs
from .._shapes import normalize_axis
from .._xp import dtype_name, is_float, resolve
from ..losses.functional import finish, prepare_inputs
from .classes import METRIC_CLASSES, AxisMeanMetric

__all__ = [
    "pearson_correlation",
    "concordance_correlation",
    "PearsonCorrelation",
    "ConcordanceCorrelation",
]


# ------------------------------------------------------------------------------ the formulas


def _row_moments(xp, y_true, y_pred, axes):
    """``(mt, mp, vt, vp, c, finite)`` of every row (module docstring), ``axes`` reduced;
    ``finite`` is False for a row holding NaN or an infinity, whose moments are those of its
    finite values with the others as 0 (so that no ``inf - inf`` warns; the caller gives NaN)."""
    finite_true, finite_pred = xp.isfinite(y_true), xp.isfinite(y_pred)
    finite = xp.all(finite_true & finite_pred, axis=axes)
    y_true = xp.where(finite_true, y_true, xp.zeros_like(y_true))
    y_pred = xp.where(finite_pred, y_pred, xp.zeros_like(y_pred))
    true_mean = xp.mean(y_true, axis=axes, keepdims=True)
    pred_mean = xp.mean(y_pred, axis=axes, keepdims=True)
    true_centred, pred_centred = y_true - true_mean, y_pred - pred_mean
    true_variance = xp.mean(true_centred * true_centred, axis=axes)
    pred_variance = xp.mean(pred_centred * pred_centred, axis=axes)
    covariance = xp.mean(true_centred * pred_centred, axis=axes)
    true_mean, pred_mean = (xp.reshape(mean, tuple(covariance.shape)) for mean in (true_mean, pred_mean))
    return true_mean, pred_mean, true_variance, pred_variance, covariance, finite


def _constant(xp, x, axes):
    """Whether every value of a row is the same: each equals the row's first (an ``all``, not a
    ``max == min``, so that an empty batch reduces on every library, Dask's chunks included)."""
    first = x[tuple(slice(0, 1) if axis in axes else slice(None) for axis in range(x.ndim))]
    return xp.all(x == first, axis=axes)


def _nan_unless(xp, defined, values):
    return xp.where(defined, values, xp.full_like(values, math.nan))


def pearson_values(xp, y_true, y_pred, axes):
    """``c / (sqrt(vt) sqrt(vp))`` per row, NaN where ``t`` or ``p`` is constant (or its variance
    underflows to 0) or holds NaN or an infinity; ``axes`` a tuple of non-negative axes."""
    _, _, true_variance, pred_variance, covariance, finite = _row_moments(xp, y_true, y_pred, axes)
    denominator = xp.sqrt(true_variance) * xp.sqrt(pred_variance)
    defined = finite & (denominator != 0)
    defined = defined & ~_constant(xp, y_true, axes) & ~_constant(xp, y_pred, axes)
    safe = xp.where(defined, denominator, xp.ones_like(denominator))  # no 0 / 0 warning
    return _nan_unless(xp, defined, covariance / safe)


def concordance_values(xp, y_true, y_pred, axes):
    """``2 c / (vt + vp + (mt - mp)**2 + eps)`` per row, NaN where ``t`` or ``p`` holds NaN or an
    infinity; ``axes`` a tuple of non-negative axes."""
    true_mean, pred_mean, true_variance, pred_variance, covariance, finite = _row_moments(
        xp, y_true, y_pred, axes
    )
    shift = true_mean - pred_mean
    norm = true_variance + pred_variance + shift * shift + config.epsilon()
    return _nan_unless(xp, finite, 2.0 * covariance / norm)


class RowCoefficient:
    """A per-row coefficient as the streaming metrics take a formula (``reduced_axes`` and
    ``per_sample``, the interface of :mod:`regloss.formulas`): the values over ``axis``. No fused
    kernel restates it (the metrics take the generic path on every library); a 1-D batch reaches it
    as ``(B, 1)`` (:class:`regloss.metrics.statistics.MeanStatistic`)."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values

    def __repr__(self):
        return f"RowCoefficient({self.values.__name__})"

    def reduced_axes(self, ndim: int, params: dict) -> tuple[int, ...]:
        return normalize_axis(params.get("axis", -1), ndim)

    def per_sample(self, xp, y_true, y_pred, params: dict, element_mask=None):
        return self.values(xp, y_true, y_pred, self.reduced_axes(y_pred.ndim, params))


PEARSON = RowCoefficient(pearson_values)
CONCORDANCE = RowCoefficient(concordance_values)


# ------------------------------------------------------------------------------ the functions


def _per_row(values, y_true, y_pred, axis):
    """``values`` of the rows of the inputs, converted and checked as the loss functions do."""
    xp, arrays, weak = resolve(y_true=y_true, y_pred=y_pred)
    pred = arrays["y_pred"]
    dtype = dtype_name(pred.dtype) if is_float(xp, pred) and "y_pred" not in weak else config.floatx()
    true, pred = prepare_inputs(xp, arrays["y_true"], pred, dtype)
    axes = normalize_axis(specs.AXIS.standardize(axis), pred.ndim)
    return finish(xp, values(xp, true, pred, axes), dtype)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation coefficient of every row along ``axis`` (Keras 3's
    ``keras.metrics.pearson_correlation``).

    For a row ``t`` of ``y_true`` and ``p`` of ``y_pred`` (population moments, divisor ``n``)::

        r = mean((t - mean(t)) * (p - mean(p))) / (std(t) * std(p))

    NaN for a row where ``t`` or ``p`` is constant (``0 / 0``, as in Keras), without a warning.

    Parameters
    ----------
    y_true, y_pred : arrays of one shape (after Keras's rank reconciliation)
    axis : int, tuple of ints or None
        The axis (or axes) of a row; ``None`` for every axis (one value). Default ``-1``.

    Returns
    -------
    The coefficients, of the inputs' shape without ``axis``, in ``y_pred``'s float dtype (a 1-D
    input is one row: a 0-d result).

    Examples
    --------
    >>> from regloss.metrics import pearson_correlation
    >>> pearson_correlation(y_true=[[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]],
    ...                     y_pred=[[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]])
    array([1.       , 0.9933993], dtype=float32)
    >>> pearson_correlation(y_true=[[2.0, 2.0, 2.0]], y_pred=[[1.0, 2.0, 3.0]])  # a constant row
    array([nan], dtype=float32)
    """
    return _per_row(pearson_values, y_true, y_pred, axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient of every row along ``axis`` (Keras 3's
    ``keras.metrics.concordance_correlation``).

    For a row ``t`` of ``y_true`` and ``p`` of ``y_pred`` (population moments, divisor ``n``)::

        ccc = 2 cov(t, p) / (var(t) + var(p) + (mean(t) - mean(p))**2 + eps)

    with ``eps = regloss.config.epsilon()`` (1e-7), so a constant row gives a finite value. The
    arguments and the result are those of :func:`pearson_correlation`.

    Examples
    --------
    >>> from regloss.metrics import concordance_correlation
    >>> ccc = concordance_correlation(y_true=[[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]],
    ...                               y_pred=[[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]])
    >>> ccc.round(5)  # 40/41 and 80/81 without eps
    array([0.97561, 0.98765], dtype=float32)
    """
    return _per_row(concordance_values, y_true, y_pred, axis)


# ------------------------------------------------------------------------------ the classes


class PearsonCorrelation(AxisMeanMetric):
    """Pearson's correlation of each row along ``axis``, averaged over the samples as a Keras mean
    metric (Keras 3's ``keras.metrics.PearsonCorrelation``)::

        result = sum over samples of (w * r)  /  sum over samples of w

    with ``r`` the per-sample value of :func:`pearson_correlation` (averaged over the sample's
    non-batch axes) and ``w`` the sample weight times the mask. A constant row gives NaN, and then
    so does the result (as in Keras), unless the row is masked out. A 1-D batch is ``B`` samples of
    one output (NaN each; see the module docstring).

    >>> from regloss.metrics import PearsonCorrelation
    >>> m = PearsonCorrelation()
    >>> m.update_state([[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]], [[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]])
    >>> round(float(m.result()), 6)
    0.9967
    >>> m.update_state([[1.0, 2.0, 3.0]], [[3.0, 2.0, 1.0]], sample_weight=[2.0])  # r = -1, twice
    >>> round(float(m.result()), 6)
    -0.00165
    """

    default_name = specs.PEARSON_CORRELATION.default_name
    formula = PEARSON

    def __init__(self, name=specs.PEARSON_CORRELATION.default_name, dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(AxisMeanMetric):
    """Lin's concordance correlation of each row along ``axis``, averaged over the samples as a
    Keras mean metric (Keras 3's ``keras.metrics.ConcordanceCorrelation``)::

        result = sum over samples of (w * ccc)  /  sum over samples of w

    with ``ccc`` the per-sample value of :func:`concordance_correlation` and ``w`` the sample weight
    times the mask. A 1-D batch is ``B`` samples of one output (0 each; see the module docstring).

    >>> from regloss.metrics import ConcordanceCorrelation
    >>> m = ConcordanceCorrelation()
    >>> m.update_state([[0.0, 1.0, 0.5], [1.0, 1.0, 0.2]], [[0.1, 0.9, 0.5], [1.0, 0.9, 0.2]])
    >>> round(float(m.result()), 6)
    0.981632
    """

    default_name = specs.CONCORDANCE_CORRELATION.default_name
    formula = CONCORDANCE

    def __init__(self, name=specs.CONCORDANCE_CORRELATION.default_name, dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


# Every metric class is listed in one registry (configs, Bootstrap.from_config, regloss.dask and
# the command line's names); importing regloss.metrics imports this module, so it is complete.
METRIC_CLASSES.update({cls.__name__: cls for cls in (PearsonCorrelation, ConcordanceCorrelation)})
