"""Checks of hyper-parameters, shared by every face (losses, metrics, compat).

Each check takes ``(value, argument)`` and returns the value to store, raising ``TypeError`` or
``ValueError`` that name ``argument`` and what was received. Concrete numbers (NumPy scalars too)
are stored as Python numbers so that configs are JSON; arrays and traced values (``jax.jit``
tracers, torch tensors) pass unchecked, as Keras accepts them.
"""

from __future__ import annotations

import math
import numbers

from ._shapes import standardize_axis_argument
from ._xp import short_repr


def is_concrete_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_array(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def check_real(value, argument: str) -> None:
    """A hyper-parameter must be a real number; arrays and traced values pass unchecked."""
    if is_concrete_number(value) or is_array(value):
        return
    raise TypeError(f"{argument} must be a real number; received {argument}={short_repr(value)}")


def plain_number(value):
    """A concrete number (NumPy scalars included) as a Python ``int`` or ``float``, so configs are
    JSON; arrays and traced values are returned unchanged."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if is_concrete_number(value):
        return float(value)
    return value


def real_number(value, argument: str):
    """Any real number (or array), stored as a plain number."""
    check_real(value, argument)
    return plain_number(value)


def positive_finite(value, argument: str):
    """A real number that is finite and > 0 when concrete (Huber's ``delta``)."""
    check_real(value, argument)
    if is_concrete_number(value) and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{argument} must be finite and > 0; received {argument}={short_repr(value)}")
    return plain_number(value)


def axis_argument(value, argument: str):
    """An int, a tuple of ints or None, stored as plain ints (a tuple for several axes)."""
    return standardize_axis_argument(value, argument)
