"""scikit-learn's mean-type regression losses: per-output weighted means of an elementwise error.

Each is ``(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average")`` with
scikit-learn 1.9's checks and numbers; see :mod:`regloss.sklearn` for the shared rules (inputs,
dtypes, ``multioutput``, errors). ``w_i`` is the sample weight (1 without), ``t = y_true``,
``p = y_pred``, and every mean runs over the samples ``i`` of one output ``j``.
"""

from __future__ import annotations

from .. import formulas
from ._columns import column_means
from ._elementwise import FLOAT64_EPS, absolute_percentage_error, squared_log1p_error
from ._outputs import finish_outputs
from ._params import check_alpha, check_multioutput
from ._targets import check_targets

# The numba tier's restatements of the same errors: (kernel id, its two parameters).
_SQUARED = ("squared_error", 0.0, 0.0)
_ABSOLUTE = ("absolute_error", 0.0, 0.0)
_PERCENTAGE = ("absolute_percentage_error", FLOAT64_EPS, 0.0)


def _targets(function, y_true, y_pred, sample_weight, multioutput):
    multioutput = check_multioutput(function, multioutput)
    return check_targets(function, y_true, y_pred, sample_weight, multioutput)


def _log_domain(xp, y_true, y_pred):
    """Whether a value is <= -1 (a minimum: one SIMD reduction per input; NaN is left to the
    finiteness check, which scikit-learn runs first)."""
    return (xp.min(y_true) <= -1) | (xp.min(y_pred) <= -1)


def _log_domain_error(function):
    def error():
        return ValueError(
            f"{function} cannot be used when y_true or y_pred contain values less than or equal to -1 "
            "(log1p is undefined there)"
        )

    return error


def _squared_log_means(function, y_true, y_pred, sample_weight, multioutput):
    targets = _targets(function, y_true, y_pred, sample_weight, multioutput)
    means = column_means(
        targets,
        squared_log1p_error,
        violation=_log_domain,
        domain_error=_log_domain_error(function),
        sklearn_kernel=("squared_log1p_error", 0.0, 1),  # domain 1: a value <= -1
    )
    return targets, means


def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean squared error, per output ``sum_i w_i (t_ij - p_ij)**2 / sum_i w_i``.

    >>> from regloss.sklearn import mean_squared_error
    >>> mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.375
    """
    targets = _targets("mean_squared_error", y_true, y_pred, sample_weight, multioutput)
    return finish_outputs(targets, column_means(targets, formulas.squared_error, kernel=_SQUARED))


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Root mean squared error: per output ``sqrt(MSE_j)``; averaged over outputs *after* the root
    (Keras's ``RootMeanSquaredError`` takes the root of the pooled mean instead).

    >>> from regloss.sklearn import root_mean_squared_error
    >>> root_mean_squared_error([[0.0, 0.0], [0.0, 0.0]], [[3.0, 0.0], [-3.0, 1.0]])
    1.8535533905932737
    """
    targets = _targets("root_mean_squared_error", y_true, y_pred, sample_weight, multioutput)
    means = column_means(targets, formulas.squared_error, kernel=_SQUARED)
    return finish_outputs(targets, targets.xp.sqrt(means))


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean absolute error, per output ``sum_i w_i |t_ij - p_ij| / sum_i w_i``.

    >>> from regloss.sklearn import mean_absolute_error
    >>> mean_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    """
    targets = _targets("mean_absolute_error", y_true, y_pred, sample_weight, multioutput)
    return finish_outputs(targets, column_means(targets, formulas.absolute_error, kernel=_ABSOLUTE))


def mean_absolute_percentage_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean absolute percentage error as a *fraction*: per output
    ``sum_i w_i |t_ij - p_ij| / max(|t_ij|, eps) / sum_i w_i`` with ``eps = 2.22e-16`` (float64
    machine epsilon). Not multiplied by 100 (``regloss.losses.mape`` is Keras's: x100, eps 1e-7).

    >>> from regloss.sklearn import mean_absolute_percentage_error
    >>> mean_absolute_percentage_error([1.0, 2.0, 4.0], [1.5, 2.0, 3.0])
    0.25
    """
    targets = _targets("mean_absolute_percentage_error", y_true, y_pred, sample_weight, multioutput)
    means = column_means(
        targets,
        absolute_percentage_error,
        kernel=_PERCENTAGE,
        sklearn_kernel=("absolute_percentage_error", FLOAT64_EPS, 0),
    )
    return finish_outputs(targets, means)


def mean_squared_log_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean squared logarithmic error, per output
    ``sum_i w_i (log1p(t_ij) - log1p(p_ij))**2 / sum_i w_i``. ValueError if any value is <= -1
    (Keras clips values below 1e-7 instead).

    >>> from regloss.sklearn import mean_squared_log_error
    >>> round(mean_squared_log_error([0.0, 1.0], [0.0, 3.0]), 12)
    0.240226506959
    """
    targets, means = _squared_log_means("mean_squared_log_error", y_true, y_pred, sample_weight, multioutput)
    return finish_outputs(targets, means)


def root_mean_squared_log_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Root mean squared logarithmic error: per output ``sqrt(MSLE_j)``, then averaged over outputs.

    >>> from regloss.sklearn import root_mean_squared_log_error
    >>> round(root_mean_squared_log_error([0.0, 1.0], [0.0, 3.0]), 12)
    0.490129071734
    """
    targets, means = _squared_log_means(
        "root_mean_squared_log_error", y_true, y_pred, sample_weight, multioutput
    )
    return finish_outputs(targets, targets.xp.sqrt(means))


def mean_pinball_loss(y_true, y_pred, *, sample_weight=None, alpha=0.5, multioutput="uniform_average"):
    """Mean pinball (quantile) loss of the ``alpha`` quantile, per output
    ``sum_i w_i max(alpha d_ij, (alpha - 1) d_ij) / sum_i w_i`` with ``d = t - p``; ``alpha = 0.5``
    gives half the MAE (darts' ``ql`` and scoringrules report twice this).

    >>> from regloss.sklearn import mean_pinball_loss
    >>> mean_pinball_loss([1.0, 2.0, 3.0], [2.0, 2.0, 2.0], alpha=0.9)
    0.3333333333333333
    """
    alpha = check_alpha("mean_pinball_loss", alpha)
    targets = _targets("mean_pinball_loss", y_true, y_pred, sample_weight, multioutput)

    def pinball(xp, true, pred):
        return formulas.pinball_error(xp, true, pred, alpha)

    # the numba tier's quantile_error (tau d - min(d, 0), its parameters tau and 0) where it has one
    means = column_means(targets, pinball, kernel=("quantile_error", alpha, 0.0))
    return finish_outputs(targets, means)
