"""Checks of hyper-parameters, shared by every face (the loss descriptions of :mod:`regloss.specs`,
the metrics, :mod:`regloss.compat.v1.losses`): Huber's ``delta``, Tversky's ``alpha`` and ``beta``,
the ``delta`` and ``epsilon`` of compat.v1, every ``axis``.

Each check takes ``(value, argument)`` and returns the value to store, raising ``TypeError`` or
``ValueError`` that name ``argument`` and show (bounded) what was received.

A hyper-parameter is one real number, given as

* a Python ``int`` or ``float``, or a NumPy scalar: kept as a plain Python number;
* an array of any library holding exactly one value (0-d, or of shape ``(1,)``, ``(1, 1)``...):
  a concrete array becomes its Python ``float``, so a loss built with
  ``delta=torch.tensor(1.0)`` works on NumPy inputs and its config stays JSON (Keras converts a
  tensor ``delta`` to ``y_pred``'s dtype: the same number). A traced array (inside ``jax.jit``,
  under ``jax.grad``) stays an array and is not inspected.

Anything else is refused, naming the argument and showing the received value: ``TypeError`` for
``bool``, strings (``"1.0"`` too, as TensorFlow refuses it), ``None``, lists, complex numbers and
arrays of non-real dtypes; ``ValueError`` for an array of several values.
"""

from __future__ import annotations

import math
import numbers

from ._messages import show_value
from ._shapes import standardize_axis_argument

_LARGEST_FLOAT = 1.7976931348623157e308


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _real_dtype(dtype) -> bool:
    name = getattr(dtype, "name", None)
    name = name if isinstance(name, str) else str(dtype).rsplit(".", 1)[-1]
    return name.startswith(("int", "uint", "float", "bfloat"))


def _one_value(array, argument: str):
    """The Python float of a one-element array, or the array itself when it is traced."""
    shape = tuple(array.shape)
    if any(not isinstance(d, int) or d != 1 for d in shape):
        raise ValueError(
            f"{argument} must be a single number; received an array of shape {shape} ({type(array).__name__})"
        )
    if not _real_dtype(array.dtype):
        raise TypeError(
            f"{argument} must be a real number; received an array of dtype {array.dtype} "
            f"({type(array).__name__})"
        )
    try:
        return float(array[(0,) * len(shape)] if shape else array)
    except Exception:  # a traced value has no concrete number: it stays an array
        return array


def real_number(value, argument: str):
    """``value`` as a plain Python number (or a traced one-element array); ``TypeError`` or
    ``ValueError`` naming ``argument`` otherwise.

    >>> import numpy as np
    >>> real_number(np.float32(0.5), "alpha"), real_number(np.array([2.0]), "delta"), real_number(3, "x")
    (0.5, 2.0, 3)
    >>> real_number("big", "delta")
    Traceback (most recent call last):
    ...
    TypeError: delta must be a real number; received delta='big' (str)
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if abs(int(value)) > _LARGEST_FLOAT:
            raise ValueError(f"{argument} is beyond float64's range; received {argument}={show_value(value)}")
        return int(value)
    if _is_number(value):
        return float(value)
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (str, bytes)):
        return _one_value(value, argument)
    raise TypeError(
        f"{argument} must be a real number; received {argument}={show_value(value)} ({type(value).__name__})"
    )


def positive_number(value, argument: str):
    """:func:`real_number`, which must also be finite and > 0 when concrete (``ValueError``).

    >>> positive_number(0.5, "delta")
    0.5
    >>> positive_number(float("nan"), "delta")
    Traceback (most recent call last):
    ...
    ValueError: delta must be finite and > 0; received delta=nan
    """
    number = real_number(value, argument)
    if _is_number(number) and not (math.isfinite(number) and number > 0):
        raise ValueError(f"{argument} must be finite and > 0; received {argument}={show_value(number)}")
    return number


def non_negative_number(value, argument: str):
    """:func:`real_number`, which must also be finite and >= 0 when concrete (``ValueError``).

    >>> non_negative_number(0, "beta")
    0
    >>> non_negative_number(-1.0, "beta")
    Traceback (most recent call last):
    ...
    ValueError: beta must be finite and >= 0; received beta=-1.0
    """
    number = real_number(value, argument)
    if _is_number(number) and not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{argument} must be finite and >= 0; received {argument}={show_value(number)}")
    return number


def unit_interval_number(value, argument: str):
    """:func:`real_number`, which must also lie in ``[0, 1]`` when concrete (``ValueError``).

    >>> unit_interval_number(0.9, "tau")
    0.9
    >>> unit_interval_number(1.5, "tau")
    Traceback (most recent call last):
    ...
    ValueError: tau must be in [0, 1]; received tau=1.5
    """
    number = real_number(value, argument)
    if _is_number(number) and not 0 <= number <= 1:
        raise ValueError(f"{argument} must be in [0, 1]; received {argument}={show_value(number)}")
    return number


def unit_interval_levels(value, argument: str):
    """:func:`unit_interval_number`, or several levels in ``[0, 1]``, one per output: a list, tuple
    or 1-D array of two or more real numbers becomes a tuple of Python floats (a traced 1-D array
    stays an array; a list of one is that number). Quantile regression with one output column per
    quantile level.

    >>> unit_interval_levels([0.1, 0.5, 0.9], "tau")
    (0.1, 0.5, 0.9)
    >>> unit_interval_levels(0.9, "tau")
    0.9
    >>> unit_interval_levels([0.1, 2.0], "tau")
    Traceback (most recent call last):
    ...
    ValueError: tau must be in [0, 1]; received tau[1]=2.0
    """
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{argument} must be one number or a list of them; received {argument}=[]")
        if len(value) == 1:
            return unit_interval_number(value[0], argument)
        levels = tuple(real_number(level, f"{argument}[{i}]") for i, level in enumerate(value))
    elif hasattr(value, "shape") and len(tuple(value.shape)) == 1 and tuple(value.shape)[0] not in (1,):
        try:
            concrete = value.tolist()
        except Exception:  # a traced array of levels: kept as it is
            return value
        return unit_interval_levels(list(concrete), argument)
    else:
        return unit_interval_number(value, argument)
    for i, level in enumerate(levels):
        if _is_number(level) and not 0 <= level <= 1:
            raise ValueError(f"{argument} must be in [0, 1]; received {argument}[{i}]={show_value(level)}")
    return tuple(float(level) if _is_number(level) else level for level in levels)


def boolean(value, argument: str) -> bool:
    """A Python or NumPy ``bool`` as a Python ``bool``; ``TypeError`` naming ``argument`` otherwise
    (``0``/``1``, strings and arrays included: a switch is not a number).

    >>> boolean(True, "full")
    True
    >>> boolean(1, "full")
    Traceback (most recent call last):
    ...
    TypeError: full must be True or False; received full=1 (int)
    """
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    if isinstance(value, bool) or numpy_bool:
        return bool(value)
    raise TypeError(
        f"{argument} must be True or False; received {argument}={show_value(value)} ({type(value).__name__})"
    )


def tweedie_power(value, argument: str):
    """:func:`real_number`, finite and outside (0, 1) (no Tweedie distribution has such a power:
    scikit-learn's rule), as a Python float.

    >>> tweedie_power(1.5, "power")
    1.5
    >>> tweedie_power(0.5, "power")
    Traceback (most recent call last):
    ...
    ValueError: power must be <= 0 or >= 1 (the Tweedie distributions); received power=0.5
    """
    number = _concrete(value, argument)
    if not math.isfinite(number) or 0.0 < number < 1.0:
        raise ValueError(
            f"power must be <= 0 or >= 1 (the Tweedie distributions); received {argument}={show_value(value)}"
        )
    return number


def _concrete(value, argument: str) -> float:
    """:func:`real_number` as a Python float; a traced array is refused (a metric's parameter
    fixes its state's layout and config)."""
    number = real_number(value, argument)
    if not _is_number(number):
        raise TypeError(f"{argument} must be a concrete number; received a traced array")
    return float(number)


def axis_argument(value, argument: str):
    """An int, a tuple of ints or None, stored as plain ints (a tuple for several axes)."""
    return standardize_axis_argument(value, argument)
