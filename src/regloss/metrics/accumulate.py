"""Sums and counts that streaming metrics keep: exact counts, float64 sums, on any array library.

Two representations, chosen by the library of the first batch (:func:`precision_of`):

``"float64"`` (NumPy, torch, CuPy, Dask, array-api-strict, JAX with x64 enabled)
    a sum is a float64 array; a count is an int64 0-d array (no overflow below 2**63).
``"float32x2"`` (JAX without x64: regloss never enables it)
    a sum is a float32 array with a leading axis of 2, ``(hi, lo)``: ``hi + lo`` is the value and
    each addition is Knuth's error-free ``two_sum``, so that the accumulated rounding stays near one
    float32 ulp of the total however many batches are added (about 2**-24 relative, instead of
    growing with the number of batches); the batch's own sum is a float32 reduction.
    A count is a uint32 array ``(hi, lo)`` worth ``hi * 2**32 + lo``: exact below 2**64.

Every function here is pure and jit-safe (no Python branch on array values).
"""

from __future__ import annotations

import array_api_compat

WIDE = "float64"
PAIRED = "float32x2"
_WORD = 2.0**32


def precision_of(xp) -> str:
    """``"float32x2"`` for JAX without x64, ``"float64"`` otherwise."""
    if array_api_compat.is_jax_namespace(xp):
        import jax

        if not jax.config.read("jax_enable_x64"):
            return PAIRED
    return WIDE


def sum_dtype(xp, precision: str):
    return xp.float64 if precision == WIDE else xp.float32


def zeros_sum(xp, precision: str, shape: tuple = (), device=None):
    """A sum of 0 (of ``shape``: one per output)."""
    if precision == WIDE:
        return xp.zeros(shape, dtype=xp.float64, device=device)
    return xp.zeros((2, *shape), dtype=xp.float32, device=device)


def zeros_count(xp, precision: str, device=None):
    """A count of 0."""
    if precision == WIDE:
        return xp.zeros((), dtype=xp.int64, device=device)
    return xp.zeros((2,), dtype=xp.uint32, device=device)


def _two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly (Knuth)."""
    s = a + b
    b_virtual = s - a
    a_virtual = s - b_virtual
    return s, (a - a_virtual) + (b - b_virtual)


def _paired(xp, hi, lo):
    """Renormalised ``(hi, lo)`` stacked on a leading axis."""
    hi, lo = _two_sum(hi, lo)
    return xp.stack([hi, lo])


def add_sum(xp, precision: str, total, value):
    """``total + value``; ``value`` is an array of the compute dtype, of ``total``'s shape."""
    if precision == WIDE:
        return total + xp.astype(value, xp.float64)
    hi, error = _two_sum(total[0], xp.astype(value, xp.float32))
    return _paired(xp, hi, total[1] + error)


def merge_sums(xp, precision: str, first, second):
    if precision == WIDE:
        return first + second
    hi, error = _two_sum(first[0], second[0])
    return _paired(xp, hi, (first[1] + second[1]) + error)


def add_count(xp, precision: str, count, increment):
    """``count + increment``; ``increment`` a non-negative Python int or an integer 0-d array
    (below 2**31 for ``"float32x2"``)."""
    if precision == WIDE:
        if hasattr(increment, "dtype"):
            increment = xp.astype(increment, xp.int64)
        return count + increment
    if hasattr(increment, "dtype"):
        increment = xp.astype(increment, xp.uint32)
    else:
        increment = xp.asarray(increment, dtype=xp.uint32)
    return _carry(xp, count[0], count[1], increment)


def _carry(xp, hi, lo, increment):
    low = lo + increment  # wraps modulo 2**32
    carry = xp.astype(low < lo, xp.uint32)
    return xp.stack([hi + carry, low])


def merge_counts(xp, precision: str, first, second):
    if precision == WIDE:
        return first + second
    merged = _carry(xp, first[0], first[1], second[1])
    return xp.stack([merged[0] + second[0], merged[1]])


def sum_value(xp, precision: str, total, dtype):
    """The sum in ``dtype`` (a dtype object of ``xp``)."""
    if precision == WIDE:
        return xp.astype(total, dtype)
    return xp.astype(total[0], dtype) + xp.astype(total[1], dtype)


def count_value(xp, precision: str, count, dtype):
    """The count as a float array of ``dtype`` (a float "count", such as a bootstrap replicate's
    sum of Poisson-weighted indicators, is a sum: :func:`sum_value`)."""
    if xp.isdtype(count.dtype, "real floating"):
        return sum_value(xp, precision, count, dtype)
    if precision == WIDE:
        return xp.astype(count, dtype)
    return xp.astype(count[0], dtype) * _WORD + xp.astype(count[1], dtype)


def count_as_int(count) -> int:
    """A concrete count as a Python int (for display and tests; not jit-safe)."""
    import numpy as np

    words = np.asarray(count).astype(np.uint64).reshape(-1)
    if words.size == 1:
        return int(words[0])
    return int(words[0]) * 2**32 + int(words[1])


def as_sum(xp, precision: str, value):
    """A sum worth ``value`` (an array of the compute dtype)."""
    if precision == WIDE:
        return xp.astype(value, xp.float64)
    return xp.stack([xp.astype(value, xp.float32), xp.zeros_like(value, dtype=xp.float32)])


def difference(xp, precision: str, first, second):
    """``second - first`` of two sums, as an array of the compute dtype: for ``(hi, lo)`` pairs
    ``(hi2 - hi1) + (lo2 - lo1)``, so that two nearby large values lose nothing to ``hi + lo``
    rounding before they are subtracted."""
    if precision == WIDE:
        return second - first
    return (second[0] - first[0]) + (second[1] - first[1])
