"""Poisson(1) bootstrap weights as a pure function of ``(seed, row, replicate)``, on any array library.

The generator is a counter-based 32-bit hash: nothing is drawn in sequence, so the weight of a row
does not depend on the batch it arrives in, on the order of the batches, or on the process or
machine that sees it. It uses only 32-bit unsigned addition, multiplication, xor and logical right
shift (modulo 2**32), which every array library has (JAX without x64 included); on torch, whose
uint32 lacks most operations, the same words are held in int64 and reduced modulo 2**32 after each
operation (:func:`_words`), so every library gives the same bits.

The hash
    ``mix(x)``: ``x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B; x ^= x >> 16``
    (C. Wellons' "lowbias32" integer finaliser, a bijection of the 32-bit words).

    For a seed ``s`` (0 <= s < 2**32), a row index ``i`` (0 <= i < 2**64, split into 32-bit words
    ``hi, lo``) and a replicate ``r`` (0 <= r < 2**32)::

        row_key(s, i) = mix(mix(mix(s + 0x9E3779B9) ^ hi) ^ lo)
        rep_key(r)    = mix(r * 0x85EBCA6B + 0x68E31DA4)
        bits(s, i, r) = mix(row_key(s, i) ^ rep_key(r))

The Poisson(1) count
    ``k = #{j : bits >= THRESHOLDS[j]}``, with ``THRESHOLDS[j] = ceil(2**32 * P(K <= j))`` for
    ``j = 0..11`` (:data:`THRESHOLDS`, computed exactly with rational arithmetic at import): a fixed
    inverse-CDF table, so ``P(k = j)`` is the Poisson(1) probability to within 2**-32 for every
    ``j`` (counts above 12 have probability below 2**-32 and never occur).

Test vectors (:data:`TEST_VECTORS`, checked by the tests on every library)::

    (seed, row, replicate)        bits         k
    (0, 0, 0)                     0x758F170F   1
    (0, 1, 0)                     0x448670C2   0
    (0, 0, 1)                     0x43A5F73A   0
    (1, 0, 0)                     0x345A634D   0
    (12345, 2**40 + 3, 199)       0xBA2B2E43   1
"""

from __future__ import annotations

import math
from fractions import Fraction

import array_api_compat

from .._messages import show_value

MASK = 0xFFFFFFFF
GOLDEN = 0x9E3779B9
REPLICATE_MULTIPLIER = 0x85EBCA6B
REPLICATE_OFFSET = 0x68E31DA4
MIX_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)


def _poisson_thresholds() -> tuple[int, ...]:
    """``ceil(2**32 * P(K <= j))`` for ``j = 0, 1, ...`` while it is below 2**32 (K ~ Poisson(1)).

    ``e**-1`` is bracketed by rational partial sums of its series (the alternating tail is below
    the next term), fine enough that every threshold is exact.
    """
    inverse_e = sum(Fraction((-1) ** n, math.factorial(n)) for n in range(40))
    thresholds, cumulative = [], Fraction(0)
    for j in range(40):
        cumulative += inverse_e / math.factorial(j)
        value = math.ceil(cumulative * 2**32)
        if value >= 2**32:
            break
        thresholds.append(value)
    return tuple(thresholds)


THRESHOLDS = _poisson_thresholds()
"""The inverse-CDF table: ``bits >= THRESHOLDS[j]`` for ``j < k`` exactly when the count is ``k``."""

TEST_VECTORS = (
    ((0, 0, 0), 0x758F170F, 1),
    ((0, 1, 0), 0x448670C2, 0),
    ((0, 0, 1), 0x43A5F73A, 0),
    ((1, 0, 0), 0x345A634D, 0),
    ((12345, 2**40 + 3, 199), 0xBA2B2E43, 1),
)
"""``((seed, row, replicate), bits, count)``: the published vectors of the generator."""


# ------------------------------------------------------------------------------ 32-bit words


class _Words:
    """Arithmetic modulo 2**32 on arrays of ``xp``: uint32 natively, or int64 holding values in
    ``[0, 2**32)`` (torch)."""

    def __init__(self, xp):
        self.xp = xp
        self.wide = array_api_compat.is_torch_namespace(xp)
        self.dtype = xp.int64 if self.wide else xp.uint32

    def constant(self, value: int, device=None):
        return self.xp.asarray(value & MASK, dtype=self.dtype, device=device)

    def add(self, a, b):
        total = a + b
        return total & MASK if self.wide else total

    def mul_constant(self, a, constant: int):
        """``a * constant`` modulo 2**32 (split into 16-bit halves in int64: no overflow)."""
        if not self.wide:
            # the constant on ``a``'s device (array-api-strict refuses to mix devices)
            return a * self.constant(constant, array_api_compat.device(a))
        low, high = constant & 0xFFFF, constant >> 16
        return (a * low + (((a * high) & 0xFFFF) << 16)) & MASK

    def mix(self, x):
        x = x ^ (x >> 16)
        x = self.mul_constant(x, MIX_MULTIPLIERS[0])
        x = x ^ (x >> 15)
        x = self.mul_constant(x, MIX_MULTIPLIERS[1])
        return x ^ (x >> 16)


def _words(xp) -> _Words:
    return _Words(xp)


def row_keys(xp, seed: int, first_row: int, rows: int, device=None):
    """``row_key(seed, i)`` for ``i = first_row .. first_row + rows - 1``, shape ``(rows,)``."""
    words = _words(xp)
    if not (0 <= seed <= MASK):
        raise ValueError(f"seed must be an integer in [0, 2**32); received seed={show_value(seed)}")
    if first_row < 0 or first_row + rows > 2**64:
        raise ValueError(f"row indices must lie in [0, 2**64); received first_row={show_value(first_row)}")
    base = words.mix(words.constant(seed + GOLDEN, device))
    # Row indices as two words: a run that crosses a multiple of 2**32 has two high words.
    offsets = xp.arange(rows, dtype=xp.int64 if words.wide else xp.uint32, device=device)
    start_low, start_high = first_row & MASK, first_row >> 32
    low = words.add(offsets, words.constant(start_low, device))
    if words.wide:
        carry = (offsets + start_low) >> 32
    else:
        carry = xp.astype(low < words.constant(start_low, device), xp.uint32)
    high = words.add(carry, words.constant(start_high, device))
    return words.mix(words.mix(base ^ high) ^ low)


def replicate_keys(xp, replicates: int, device=None):
    """``rep_key(r)`` for ``r = 0 .. replicates - 1``, shape ``(replicates,)``."""
    words = _words(xp)
    r = xp.arange(replicates, dtype=words.dtype, device=device)
    return words.mix(
        words.add(words.mul_constant(r, REPLICATE_MULTIPLIER), words.constant(REPLICATE_OFFSET, device))
    )


def bits(xp, seed: int, first_row: int, rows: int, replicates: int, device=None):
    """The hash words of shape ``(replicates, rows)`` (see the module docstring)."""
    words = _words(xp)
    rows_part = row_keys(xp, seed, first_row, rows, device)
    replicate_part = replicate_keys(xp, replicates, device)
    return words.mix(replicate_part[:, None] ^ rows_part[None, :])


def counts_from_bits(xp, hashed, dtype):
    """The Poisson(1) counts of hash words, as ``dtype`` (a dtype object of ``xp``): the number of
    thresholds each word reaches, added up in uint8 (a fifth of the memory traffic of float64)."""
    words, device = _words(xp), array_api_compat.device(hashed)  # constants on the words' device
    count = xp.astype(hashed >= words.constant(THRESHOLDS[0], device), xp.uint8)
    for threshold in THRESHOLDS[1:]:
        count = count + xp.astype(hashed >= words.constant(threshold, device), xp.uint8)
    return xp.astype(count, dtype)


def poisson_weights(xp, seed: int, first_row: int, rows: int, replicates: int, dtype=None, device=None):
    """Poisson(1) counts of shape ``(replicates, rows)`` for the rows ``first_row ..`` (float64 by
    default; float32 where the library has no float64)."""
    if dtype is None:
        from .accumulate import precision_of, sum_dtype

        dtype = sum_dtype(xp, precision_of(xp))
    return counts_from_bits(xp, bits(xp, seed, first_row, rows, replicates, device), dtype)
