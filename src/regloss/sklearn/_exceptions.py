"""The exception and warning classes scikit-learn uses, so that callers can catch the same ones.

scikit-learn rejects a parameter of the wrong type or range (``multioutput="variance_weighted"``
where it is not accepted, ``alpha=1.5``, ``power=0.5``, ``force_finite=1``) with its
``InvalidParameterError``, a subclass of both ``ValueError`` and ``TypeError``, and warns with its
``UndefinedMetricWarning`` when a score is undefined (fewer than two samples). regloss uses those very
classes when scikit-learn is installed; scikit-learn is imported only when one is raised or warned,
never by ``import regloss.sklearn``. Without scikit-learn, look-alike classes with the same bases
stand in.
"""

from __future__ import annotations

import warnings

from .._messages import show_value


class _InvalidParameterError(ValueError, TypeError):
    """Stand-in for ``sklearn.utils._param_validation.InvalidParameterError``."""


class _UndefinedMetricWarning(UserWarning):
    """Stand-in for ``sklearn.exceptions.UndefinedMetricWarning``."""


def invalid_parameter_class() -> type:
    """scikit-learn's ``InvalidParameterError`` (or the stand-in without scikit-learn)."""
    try:
        from sklearn.utils._param_validation import InvalidParameterError
    except ImportError:
        return _InvalidParameterError
    return InvalidParameterError


def undefined_metric_warning_class() -> type:
    """scikit-learn's ``UndefinedMetricWarning`` (or the stand-in without scikit-learn)."""
    try:
        from sklearn.exceptions import UndefinedMetricWarning
    except ImportError:
        return _UndefinedMetricWarning
    return UndefinedMetricWarning


def invalid_parameter(function: str, name: str, expected: str, value) -> Exception:
    """The error for parameter ``name`` of ``function`` that is not ``expected``:
    ``InvalidParameterError: multioutput of mean_squared_error must be ...; received 'foo'``."""
    return invalid_parameter_class()(
        f"{name} of {function} must be {expected}; received {name}={show_value(value)}"
    )


def warn_undefined(function: str, what: str, samples: int) -> float:
    """Warn that ``what`` is undefined with fewer than two samples; return NaN (scikit-learn's result)."""
    warnings.warn(
        f"{function}: {what} is not well-defined with fewer than two samples (received {samples})",
        undefined_metric_warning_class(),
        stacklevel=3,
    )
    return float("nan")
