"""scikit-learn's median absolute error and its D² scores built on quantiles.

With ``e_ij = |y_pred_ij - y_true_ij|``, weights ``w_i`` and ``Q_p`` scikit-learn's weighted
percentile (the averaged inverted CDF, :mod:`regloss.sklearn._percentile`; the plain median without
weights):

* ``median_absolute_error``: per output ``Q_50(e_j)``;
* ``d2_pinball_score``: per output ``1 - L_a(t_j, p_j) / L_a(t_j, Q_{100 a}(t_j))``, with ``L_a`` the
  weighted mean pinball loss of level ``a = alpha``; a zero numerator gives 1, a zero denominator
  with a non-zero numerator gives 0 (scikit-learn's ``force_finite``);
* ``d2_absolute_error_score``: ``d2_pinball_score`` with ``alpha = 0.5``.

The selections run on the host in NumPy, in the compute dtype (:mod:`regloss.sklearn._targets`);
inputs of other libraries are copied there once, and ``"raw_values"`` come back in the input's
library and device.
"""

from __future__ import annotations

import numpy as np

from .. import formulas
from .._xp import device_of, host_array
from ..kernels.blocked import numpy_namespace
from ._columns import column_means
from ._exceptions import warn_undefined
from ._outputs import weighted_average
from ._params import check_alpha, check_multioutput
from ._percentile import weighted_percentile
from ._scores import explained_fraction
from ._targets import check_targets


def _to_library(targets, values: np.ndarray):
    xp = targets.xp
    return xp.asarray(values, device=device_of(xp, targets.y_true))


def _check_nonzero_weights(targets) -> None:
    """scikit-learn's ValueError for weights that are all zero (weights summing to zero are allowed
    in a median, which divides by nothing)."""
    weights = targets.sample_weight
    if weights is not None and not bool(targets.xp.any(weights != 0)):
        targets.check_weights()


def median_absolute_error(y_true, y_pred, *, multioutput="uniform_average", sample_weight=None):
    """Median absolute error, per output the median of ``|y_pred_ij - y_true_ij|`` over the samples
    ``i``; with ``sample_weight`` scikit-learn's weighted median (averaged inverted CDF).

    >>> from regloss.sklearn import median_absolute_error
    >>> median_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    >>> y_true, y_pred = [[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]]
    >>> median_absolute_error(y_true, y_pred, multioutput=[0.3, 0.7])
    0.85
    """
    function = "median_absolute_error"
    multioutput = check_multioutput(function, multioutput)
    targets = check_targets(function, y_true, y_pred, sample_weight, multioutput)
    targets.check_finite()
    _check_nonzero_weights(targets)
    values = targets
    if targets.sample_weight is not None:
        # scikit-learn selects in the dtype of y_true and y_pred alone (float32 stays float32 beside
        # float64 weights, which are cast to it)
        values = check_targets(function, y_true, y_pred, None, multioutput)
    errors = host_array(formulas.absolute_error(values.xp, values.y_true, values.y_pred))
    if targets.sample_weight is None:
        medians = np.median(errors, axis=0)
    else:
        medians = weighted_percentile(errors, host_array(targets.sample_weight), 50)
    if targets.multioutput == "raw_values":
        return _to_library(targets, medians)
    # averaged on the host in NumPy, as scikit-learn does (a library's own mean may round differently)
    return weighted_average(numpy_namespace(), medians, targets.output_weights, function)


def d2_pinball_score(y_true, y_pred, *, sample_weight=None, alpha=0.5, multioutput="uniform_average"):
    """D² pinball score: per output ``1 - L_a(y_true, y_pred) / L_a(y_true, Q_a(y_true))``, the
    fraction of the pinball loss of the weighted ``alpha`` quantile of ``y_true`` that the
    predictions explain. Fewer than two samples: NaN and an ``UndefinedMetricWarning``.

    >>> from regloss.sklearn import d2_pinball_score
    >>> d2_pinball_score([1, 2, 3], [1, 3, 3])
    0.5
    >>> round(d2_pinball_score([1, 2, 3], [1, 3, 3], alpha=0.9), 12)
    0.666666666667
    """
    function = "d2_pinball_score"
    alpha = check_alpha(function, alpha)
    multioutput = check_multioutput(function, multioutput)
    targets = check_targets(function, y_true, y_pred, sample_weight, multioutput)
    if targets.n_samples < 2:
        targets.check_values()
        return warn_undefined(function, "D^2", targets.n_samples)

    def pinball(xp, true, pred):
        return formulas.pinball_error(xp, true, pred, alpha)

    numerator = column_means(targets, pinball, kernel=("quantile_error", alpha, 0.0))
    true_host = host_array(targets.y_true)
    weights = targets.sample_weight
    weights = np.ones(true_host.shape[0], true_host.dtype) if weights is None else host_array(weights)
    quantiles = weighted_percentile(true_host, weights, alpha * 100)
    row = targets.xp.reshape(_to_library(targets, quantiles), (1, -1))
    denominator = column_means(targets, pinball, y_pred=row)
    return explained_fraction(targets, numerator, denominator, force_finite=True)


def d2_absolute_error_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """D² absolute error score: :func:`d2_pinball_score` with ``alpha = 0.5``, the fraction of the
    absolute error of the weighted median of ``y_true`` that the predictions explain.

    >>> from regloss.sklearn import d2_absolute_error_score
    >>> d2_absolute_error_score([1, 2, 3], [3, 2, 1])
    -1.0
    """
    return d2_pinball_score(y_true, y_pred, sample_weight=sample_weight, alpha=0.5, multioutput=multioutput)
