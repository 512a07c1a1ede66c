"""scikit-learn's explained-variance and R² scores: one minus a ratio of centred weighted moments.

Per output ``j``, with weighted means ``mean_w`` over the samples (``w_i = 1`` without weights):

* ``r2_score``: ``1 - sum_i w_i (t - p)**2 / sum_i w_i (t - mean_w t)**2``;
* ``explained_variance_score``: ``1 - Var_w(t - p) / Var_w(t)``, with
  ``Var_w(x) = mean_w((x - mean_w x)**2)``.

Every variance is centred, never taken from raw power sums, so a near-constant target at a large
offset keeps its digits: on float64 NumPy inputs of at least 65536 elements (numba installed) in one
pass of row blocks, each centred about its own means while in cache and merged with Chan et al.'s
update (:func:`regloss.sklearn._columns.centred_moments`); elsewhere in two passes (the means first,
then the centred squares). ``force_finite=True``
(scikit-learn's default) replaces the undefined cases: a zero numerator gives 1.0 (a perfect fit,
even of a constant target), a zero denominator with a non-zero numerator gives 0.0; with
``force_finite=False`` these are NaN and -inf.
"""

from __future__ import annotations

from .. import formulas
from ._columns import centred_moments, column_means, split, stacked
from ._elementwise import residuals, true_values
from ._exceptions import warn_undefined
from ._outputs import finish_outputs, weighted_average
from ._params import SCORE_OPTIONS, check_force_finite, check_multioutput
from ._targets import check_targets


def _centred_square(mean):
    """The elementwise ``(x - mean)**2`` with ``x = y_true`` (``mean``: one value per output)."""

    def square(xp, y_true, y_pred):
        return (y_true - mean) ** 2

    return square


def _centred_difference_square(mean):
    """The elementwise ``(y_true - y_pred - mean)**2``."""

    def square(xp, y_true, y_pred):
        return (y_true - y_pred - mean) ** 2

    return square


def explained_fraction(targets, numerator, denominator, force_finite: bool):
    """``1 - numerator / denominator`` per output, with scikit-learn's ``force_finite`` rule, then
    reduced as ``targets.multioutput`` asks (``"variance_weighted"`` weighs by ``denominator``;
    all-zero denominators fall back to uniform weights)."""
    xp = targets.xp
    nonzero_denominator = denominator != 0
    if force_finite:
        nonzero_numerator = numerator != 0
        safe = xp.where(nonzero_denominator, denominator, xp.ones_like(denominator))
        ratio_scores = 1 - numerator / safe
        scores = xp.where(
            nonzero_numerator,
            xp.where(nonzero_denominator, ratio_scores, xp.zeros_like(ratio_scores)),
            xp.ones_like(ratio_scores),
        )
    else:
        scores = 1 - numerator / denominator
    if targets.multioutput != "variance_weighted":
        return finish_outputs(targets, scores)
    if not bool(xp.any(nonzero_denominator)):
        return weighted_average(xp, scores, None, targets.function)
    return float(xp.sum(scores * denominator) / xp.sum(denominator))


def _score_targets(function, y_true, y_pred, sample_weight, multioutput, force_finite, allow_none):
    force_finite = check_force_finite(function, force_finite)
    multioutput = check_multioutput(function, multioutput, SCORE_OPTIONS, allow_none=allow_none)
    return check_targets(function, y_true, y_pred, sample_weight, multioutput), force_finite


def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average", force_finite=True):
    """Coefficient of determination R², per output ``1 - SSR / SST`` (see the module docstring).
    Fewer than two samples: NaN and an ``UndefinedMetricWarning``. ``multioutput`` also takes
    ``"variance_weighted"`` and ``None`` (= ``"uniform_average"``).

    >>> from regloss.sklearn import r2_score
    >>> r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.9486081370449679
    """
    targets, force_finite = _score_targets(
        "r2_score", y_true, y_pred, sample_weight, multioutput, force_finite, allow_none=True
    )
    if targets.n_samples < 2:
        targets.check_finite()
        return warn_undefined("r2_score", "R^2", targets.n_samples)
    fused = centred_moments(targets)
    if fused is not None:
        _, numerator, denominator, _ = fused
        return explained_fraction(targets, numerator, denominator, force_finite)
    # pass 1: mean_w(t) and the numerator; pass 2: the centred denominator
    true_mean, numerator = split(column_means(targets, stacked(true_values, formulas.squared_error)), 2)
    denominator = column_means(targets, _centred_square(true_mean))
    return explained_fraction(targets, numerator, denominator, force_finite)


def explained_variance_score(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average", force_finite=True
):
    """Explained variance, per output ``1 - Var_w(y_true - y_pred) / Var_w(y_true)`` (R² without
    the bias term). ``multioutput`` also takes ``"variance_weighted"``.

    >>> from regloss.sklearn import explained_variance_score
    >>> explained_variance_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.9571734475374732
    """
    targets, force_finite = _score_targets(
        "explained_variance_score", y_true, y_pred, sample_weight, multioutput, force_finite, allow_none=False
    )
    fused = centred_moments(targets)
    if fused is not None:
        _, _, denominator, numerator = fused
        return explained_fraction(targets, numerator, denominator, force_finite)
    # pass 1: the means of t and of t - p; pass 2: both centred squares
    true_mean, difference_mean = split(column_means(targets, stacked(true_values, residuals)), 2)
    centred = stacked(_centred_difference_square(difference_mean), _centred_square(true_mean))
    numerator, denominator = split(column_means(targets, centred), 2)
    return explained_fraction(targets, numerator, denominator, force_finite)
