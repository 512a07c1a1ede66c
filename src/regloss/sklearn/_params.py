"""The parameter checks scikit-learn 1.9 runs before it reads any data (its ``validate_params``).

Each raises :func:`regloss.sklearn._exceptions.invalid_parameter` (scikit-learn's
``InvalidParameterError``: both a ``ValueError`` and a ``TypeError``) naming the function, the
argument and the value received.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._exceptions import invalid_parameter

MEAN_OPTIONS = ("raw_values", "uniform_average")
SCORE_OPTIONS = ("raw_values", "uniform_average", "variance_weighted")


def is_array_like(value) -> bool:
    """scikit-learn's "array-like": has a length, a shape or ``__array__``, and is not a scalar
    (a string is a scalar; a 0-d NumPy array is not)."""
    shaped = hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")
    return shaped and not np.isscalar(value)


def check_array_like(function: str, name: str, value, optional: bool = False) -> None:
    """``value`` is array-like (or ``None`` when ``optional``)."""
    if optional and value is None:
        return
    if not is_array_like(value):
        expected = "an array-like or None" if optional else "an array-like"
        raise invalid_parameter(function, name, expected, value)


def check_multioutput(function: str, multioutput, options=MEAN_OPTIONS, allow_none: bool = False):
    """``multioutput`` is one of ``options``, an array-like of output weights, or (``r2_score``
    only) ``None``, which means ``"uniform_average"``. Returns it (``None`` as "uniform_average")."""
    if multioutput is None and allow_none:
        return "uniform_average"
    if isinstance(multioutput, str):
        if multioutput in options:
            return multioutput
    elif multioutput is not None and is_array_like(multioutput):
        return multioutput
    shown = " or ".join(f"{option!r}" for option in options)
    raise invalid_parameter(
        function, "multioutput", f"{shown} or an array-like of output weights", multioutput
    )


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not math.isnan(value)


def check_alpha(function: str, alpha) -> float:
    """``alpha`` is a real number in [0, 1] (a bool counts as 0 or 1, as in scikit-learn)."""
    if not (_real(alpha) and 0.0 <= alpha <= 1.0):
        raise invalid_parameter(function, "alpha", "a real number in [0, 1]", alpha)
    return float(alpha)


def check_power(function: str, power) -> float:
    """``power`` is a finite real number in (-inf, 0] or [1, inf): (0, 1) has no Tweedie distribution."""
    if not (_real(power) and math.isfinite(power) and (power <= 0 or power >= 1)):
        raise invalid_parameter(function, "power", "a finite real number <= 0 or >= 1", power)
    return float(power)


def check_force_finite(function: str, force_finite) -> bool:
    """``force_finite`` is a bool or a NumPy bool (not 0 or 1)."""
    if not isinstance(force_finite, (bool, np.bool_)):
        raise invalid_parameter(function, "force_finite", "a bool", force_finite)
    return bool(force_finite)
