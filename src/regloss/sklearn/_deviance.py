"""scikit-learn's Tweedie deviances and the D² Tweedie score (single output only).

``mean_tweedie_deviance = sum_i w_i d_p(t_i, p_i) / sum_i w_i`` with the unit deviance ``d_p`` of
:func:`regloss.formulas.tweedie_deviance`; ``d2_tweedie_score = 1 - D(y_pred) / D(mean_w y_true)``,
the deviance of the predictions over that of the weighted mean of ``y_true`` (for ``power = 0``
the denominator is the weighted variance, computed two-pass).

Domains (ValueError, after the finiteness check): ``power < 0``: ``y_pred > 0``;
``1 <= power < 2``: ``y_true >= 0`` and ``y_pred > 0``; ``power >= 2``: both ``> 0``;
``0 < power < 1`` is rejected as a parameter (no Tweedie distribution).
"""

from __future__ import annotations

from .. import formulas
from ._columns import centred_moments, column_means, stacked
from ._elementwise import true_values
from ._exceptions import warn_undefined
from ._params import check_power
from ._targets import check_targets


def _domain(power: float):
    """``(violation(xp, t, p), text, number)`` of the values that ``power`` rules out, or
    ``(None, "", 0)``; ``number`` is the same domain for the numba tier
    (:func:`regloss.kernels.numba_tier._outside`). Minima, not elementwise comparisons (one SIMD
    reduction per input); NaN is left to the finiteness check, which scikit-learn runs first."""
    if power < 0:
        return (lambda xp, t, p: xp.min(p) <= 0), "strictly positive y_pred", 2
    if 1 <= power < 2:
        return (
            (lambda xp, t, p: (xp.min(t) < 0) | (xp.min(p) <= 0)),
            "non-negative y_true and strictly positive y_pred",
            3,
        )
    if power >= 2:
        return (
            (lambda xp, t, p: (xp.min(t) <= 0) | (xp.min(p) <= 0)),
            "strictly positive y_true and y_pred",
            4,
        )
    return None, "", 0


def _kernels(power: float, domain: int):
    """``(kernel, sklearn_kernel)`` of :func:`regloss.sklearn._columns.column_means` for the
    deviance of ``power``: the squared error's column kernel for 0, else the numba tier's
    scikit-learn deviances (Poisson, gamma, or the general power)."""
    if power == 0:
        return ("squared_error", 0.0, 0.0), None
    name = {1.0: "poisson_deviance", 2.0: "gamma_deviance"}.get(power, "tweedie_deviance")
    return None, (name, power, domain)


def _single_output_targets(function, y_true, y_pred, sample_weight):
    targets = check_targets(function, y_true, y_pred, sample_weight, multioutput=None)
    if targets.n_outputs != 1:
        raise ValueError(
            f"{function} supports a single output only; received y_true with {targets.n_outputs} outputs"
        )
    return targets


def _deviance(power: float):
    def deviance(xp, true, pred):
        return formulas.tweedie_deviance(xp, true, pred, power)

    return deviance


def _mean_deviance(targets, power: float, elementwise=None):
    """The weighted mean deviance (or the means of ``elementwise``), with the domain of ``power``
    checked on the same pass."""
    violation, text, number = _domain(power)

    def domain_error():
        return ValueError(f"{targets.function} with power={power:g} can only be used on {text}")

    kernel, sklearn_kernel = _kernels(power, number) if elementwise is None else (None, None)
    elementwise = _deviance(power) if elementwise is None else elementwise
    return column_means(
        targets,
        elementwise,
        violation=violation,
        domain_error=domain_error,
        kernel=kernel,
        sklearn_kernel=sklearn_kernel,
    )


def mean_tweedie_deviance(y_true, y_pred, *, sample_weight=None, power=0):
    """Mean Tweedie deviance of ``power`` (0 normal, 1 Poisson, 2 gamma; see
    :func:`regloss.formulas.tweedie_deviance` for each formula).

    >>> from regloss.sklearn import mean_tweedie_deviance
    >>> round(mean_tweedie_deviance([2, 0, 1, 4], [0.5, 0.5, 2.0, 2.0], power=1), 10)
    1.426015132
    """
    power = check_power("mean_tweedie_deviance", power)
    targets = _single_output_targets("mean_tweedie_deviance", y_true, y_pred, sample_weight)
    return float(_mean_deviance(targets, power)[0])


def mean_poisson_deviance(y_true, y_pred, *, sample_weight=None):
    """``mean_tweedie_deviance(..., power=1)``: ``2 (t log(t / p) - t + p)`` averaged, ``0 log 0 = 0``.

    >>> from regloss.sklearn import mean_poisson_deviance
    >>> round(mean_poisson_deviance([2, 0, 1, 4], [0.5, 0.5, 2.0, 2.0]), 10)
    1.426015132
    """
    targets = _single_output_targets("mean_poisson_deviance", y_true, y_pred, sample_weight)
    return float(_mean_deviance(targets, 1.0)[0])


def mean_gamma_deviance(y_true, y_pred, *, sample_weight=None):
    """``mean_tweedie_deviance(..., power=2)``: ``2 (log(p / t) + t / p - 1)`` averaged.

    >>> from regloss.sklearn import mean_gamma_deviance
    >>> round(mean_gamma_deviance([2, 0.5, 1, 4], [0.5, 0.5, 2, 2.]), 10)
    1.0568528194
    """
    targets = _single_output_targets("mean_gamma_deviance", y_true, y_pred, sample_weight)
    return float(_mean_deviance(targets, 2.0)[0])


def d2_tweedie_score(y_true, y_pred, *, sample_weight=None, power=0):
    """D² Tweedie score ``1 - D(y_pred) / D(mean_w y_true)`` (``power = 0``: R²). Fewer than two
    samples: NaN and an ``UndefinedMetricWarning``; a constant ``y_true`` (zero denominator):
    ZeroDivisionError, as in scikit-learn.

    >>> from regloss.sklearn import d2_tweedie_score
    >>> d2_tweedie_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.9486081370449679
    """
    power = check_power("d2_tweedie_score", power)
    targets = _single_output_targets("d2_tweedie_score", y_true, y_pred, sample_weight)
    if targets.n_samples < 2:
        targets.check_finite()
        return warn_undefined("d2_tweedie_score", "D^2", targets.n_samples)
    fused = centred_moments(targets) if power == 0 else None  # power 0: R² (no domain)
    if fused is not None:
        numerator, denominator = float(fused[1][0]), float(fused[2][0])
    else:
        # pass 1: the deviance and mean_w(y_true); pass 2: the deviance of that mean (the domain is
        # not checked there, as scikit-learn does not)
        deviance, true_mean = _mean_deviance(targets, power, stacked(_deviance(power), true_values))
        numerator = float(deviance)
        mean_row = targets.xp.reshape(true_mean, (1, 1))
        # (blocks: with one predicted value, only t**(2 - power) is an elementwise pow)
        denominator = float(column_means(targets, _deviance(power), y_pred=mean_row)[0])
    if denominator == 0.0:
        raise ZeroDivisionError(
            "d2_tweedie_score: the deviance of the mean of y_true is zero (a constant y_true); "
            "the score is undefined"
        )
    return 1 - numerator / denominator
