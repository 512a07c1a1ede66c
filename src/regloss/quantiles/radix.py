"""Exact weighted quantiles of ``|error|`` by radix selection over float64 bit patterns, in passes.

A non-negative float64 orders like its bit pattern read as a uint64 (the sign bit is 0, then the
exponent, then the mantissa), so the ``k``-th smallest value is found one 16-bit digit at a time,
most significant first: pass ``l`` (``l = 0..3``) histograms the digit ``(key >> (48 - 16 l)) &
0xFFFF`` of the keys whose higher digits equal the prefix found so far, and the cumulative weight
over the bins picks the next digit. After 4 passes the key, hence the value, is exact. Each pass
reads the data once and keeps, per output, ``2**16`` int64 counts and ``2**16`` float64 weight sums
(1 MiB per output), whatever the number of rows; the partial histograms of chunks merge by adding,
so the chunks may be read in any order, on any worker.

The quantile is scikit-learn's averaged inverted CDF (:mod:`regloss.sklearn._percentile`), with
``C(v)`` the weight of the values ``<= v``, ``W`` the total weight and ``r = q W``:

    v = the smallest value with C(v) >= r        (r = 0: the smallest value of positive weight)
    Q_q = v                 if C(v) - r > eps    (eps = 2.22e-16, float64's machine epsilon)
    Q_q = (v + v') / 2      otherwise, v' the smallest value > v of positive weight (v if none)

Without weights ``C`` counts exactly (int64), so ``Q_0.5`` is ``numpy.median`` to the last bit. With
weights ``C`` is a float64 sum per bin, added in another order than scikit-learn's running sum: the
result is the same except where the rank falls within rounding of a boundary between two values
(integer weights are exact); and as ``numpy.median`` an even count averages the two middle values
even when they are equal (``(v + v) / 2``, infinite for ``v`` above half the largest float).
``v'`` needs no extra pass: each pass also keeps the smallest key of positive weight above its
prefix's range. A NaN among the values gives NaN.
"""

from __future__ import annotations

import math

import numpy as np

DIGIT_BITS = 16
PASSES = 4
BINS = 1 << DIGIT_BITS
_NONE = np.uint64(0xFFFFFFFFFFFFFFFF)  # "no key above the range"
_INFINITY_KEY = np.uint64(0x7FF0000000000000)  # keys above it are NaN
EPS = float(np.finfo(np.float64).eps)


def keys_of(absolute_errors: np.ndarray) -> np.ndarray:
    """The uint64 bit patterns of non-negative float64 values (a view: ``-0.0`` must be made ``0.0``
    before, as ``abs`` does)."""
    return np.ascontiguousarray(absolute_errors, dtype=np.float64).view(np.uint64)


_SIGN = np.uint64(0x8000000000000000)
SIGNED_INFINITY_KEY = _INFINITY_KEY | _SIGN
"""The :func:`signed_keys` key of ``+inf``: the keys above it are NaN."""


def signed_keys(values: np.ndarray) -> np.ndarray:
    """uint64 keys of any float64 values that order like the values: the bits with the sign bit set
    for ``+x``, all bits inverted for ``-x`` (``-0.0`` is made ``0.0``, every NaN a positive NaN,
    above ``+inf``)."""
    values = np.asarray(values, dtype=np.float64)
    values = np.where(np.isnan(values), np.nan, values) + 0.0  # +0.0 turns -0.0 into 0.0
    bits = np.ascontiguousarray(values).view(np.uint64)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def signed_value(key) -> float:
    """The float64 of a :func:`signed_keys` key."""
    key = np.uint64(key)
    return _value(key & ~_SIGN if key & _SIGN else ~key)


def _shift(level: int) -> np.uint64:
    return np.uint64(64 - DIGIT_BITS * (level + 1))


def new_partial(outputs: int) -> dict:
    """The empty partial result of one pass for ``outputs`` outputs."""
    return {
        "counts": np.zeros((outputs, BINS), np.int64),
        "weights": np.zeros((outputs, BINS), np.float64),
        "above": np.full(outputs, _NONE, np.uint64),
        "nan": np.zeros(outputs, np.int64),
    }


def histogram(keys: np.ndarray, weights, prefixes, level: int, nan_above=_INFINITY_KEY) -> dict:
    """One chunk's partial for pass ``level``: ``keys`` ``(rows, outputs)`` uint64, ``weights``
    ``(rows,)`` float64 or None (every row weighs 1), ``prefixes`` one uint64 per output (the digits
    found by the passes before, in place; None in pass 0: no digit found yet); the keys above
    ``nan_above`` are NaN (:data:`SIGNED_INFINITY_KEY` for :func:`signed_keys`)."""
    return accumulate(new_partial(keys.shape[1]), keys, weights, prefixes, level, nan_above)


_SMALL_CHUNK = BINS // 16
"""Below this many selected keys a column's digits are added one by one (``numpy.add.at``) instead
of by a ``bincount`` of ``BINS`` bins: a group of a few rows costs its rows, not 65536 bins."""


def accumulate(partial: dict, keys: np.ndarray, weights, prefixes, level: int, nan_above=_INFINITY_KEY):
    """Add a chunk's keys to ``partial`` in place (see :func:`histogram`) and return it:
    ``merge(partial, histogram(keys, ...))`` without a new histogram per chunk."""

    def add(column, digits, chosen_weights, nan, above):
        partial["nan"][column] += nan
        if len(digits) < _SMALL_CHUNK:
            np.add.at(partial["counts"][column], digits, 1)
            if chosen_weights is not None:
                np.add.at(partial["weights"][column], digits, chosen_weights)
        else:
            partial["counts"][column] += np.bincount(digits, minlength=BINS)
            if chosen_weights is not None:
                partial["weights"][column] += np.bincount(digits, chosen_weights, BINS)
        if above is not None:
            partial["above"][column] = min(partial["above"][column], above)

    _digits(add, keys, weights, prefixes, level, nan_above)
    return partial


def accumulate_sparse(partial: SparsePartial, first_column: int, keys, weights, prefixes, level: int):
    """:func:`accumulate` into the columns ``first_column ..`` of a :class:`SparsePartial`."""
    _digits(
        lambda column, *found: partial.add_digits(first_column + column, *found),
        keys,
        weights,
        prefixes,
        level,
    )


def _digits(add, keys: np.ndarray, weights, prefixes, level: int, nan_above=_INFINITY_KEY) -> None:
    """For each output ``column`` of ``keys``: ``add(column, digits, weights of those keys or None,
    NaN count, smallest key of positive weight above the prefix's range or None)``, the digits of
    pass ``level`` of the keys inside the prefix's range."""
    outputs = keys.shape[1]
    if prefixes is None:
        prefixes = np.zeros(outputs, np.uint64)
    shift = _shift(level)
    high = np.uint64(0) if level == 0 else np.uint64(0xFFFFFFFFFFFFFFFF) << (shift + np.uint64(DIGIT_BITS))
    top = np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64(DIGIT_BITS * level) if level else _NONE
    for column in range(outputs):
        key = keys[:, column]
        nan = key > nan_above
        inside = (key & high) == prefixes[column]
        digits = ((key[inside] >> shift) & np.uint64(BINS - 1)).astype(np.intp)
        smallest_above = None
        if level:
            above = (key > (prefixes[column] | top)) & ~nan
            if weights is not None:
                above &= weights > 0
            if np.any(above):
                smallest_above = key[above].min()
        add(
            column,
            digits,
            None if weights is None else weights[inside],
            int(np.count_nonzero(nan)),
            smallest_above,
        )


class SparseBins:
    """The histograms of many columns (one per group and output) that keep only the bins in use:
    per column, sorted bin numbers with their counts and weight sums. ``select`` reads it as the
    dense ``(columns, BINS)`` array of a partial (:meth:`__getitem__` builds one column's bins at a
    time, :meth:`sum`), so a pass over data in ``G`` groups of a few rows keeps about ``rows``
    entries instead of ``G`` MiB."""

    def __init__(self, weighted: bool):
        self.weighted = weighted
        self._pieces: list[list] = []  # per column: [(bins, counts, weights)] not yet compacted
        self._pending: list[int] = []

    @property
    def shape(self) -> tuple:
        return (len(self._pieces), BINS)

    def add_columns(self, count: int) -> None:
        self._pieces.extend([] for _ in range(count))
        self._pending.extend(0 for _ in range(count))

    def add(self, column: int, digits: np.ndarray, weights) -> None:
        """Add one chunk's ``digits`` (and their ``weights``, or None) to ``column``."""
        if not len(digits):
            return
        if len(digits) >= _SMALL_CHUNK:  # a bincount over every bin is cheaper than a sort
            dense = np.bincount(digits, minlength=BINS)
            bins = np.flatnonzero(dense)
            counts = dense[bins]
            sums = np.bincount(digits, weights, BINS)[bins] if weights is not None else None
        else:
            bins, inverse = np.unique(digits, return_inverse=True)
            counts = np.bincount(inverse, minlength=len(bins))
            sums = np.bincount(inverse, weights, len(bins)) if weights is not None else None
        self._pieces[column].append((bins, counts, sums))
        self._pending[column] += len(bins)
        if len(self._pieces[column]) > 1 and self._pending[column] > 2 * BINS:
            self._compact(column)

    def _compact(self, column: int) -> tuple:
        """The column's pieces merged into one ``(bins, counts, weight sums or None)``."""
        pieces = self._pieces[column]
        if not pieces:  # no key of the column inside its range in this pass
            no_sums = np.zeros(0) if self.weighted else None
            pieces.append((np.zeros(0, np.intp), np.zeros(0, np.int64), no_sums))
        elif len(pieces) > 1:
            bins, inverse = np.unique(np.concatenate([piece[0] for piece in pieces]), return_inverse=True)
            counts = np.bincount(inverse, np.concatenate([piece[1] for piece in pieces]), len(bins))
            sums = None
            if self.weighted:
                sums = np.bincount(inverse, np.concatenate([piece[2] for piece in pieces]), len(bins))
            pieces[:] = [(bins, counts.astype(np.int64), sums)]
            self._pending[column] = len(bins)
        return pieces[0]

    def column(self, column: int, weighted: bool) -> np.ndarray:
        """The dense bins of ``column``: weight sums when ``weighted``, else counts."""
        bins, counts, sums = self._compact(column)
        dense = np.zeros(BINS, np.float64 if weighted else np.int64)
        dense[bins] = sums if weighted else counts
        return dense

    def totals(self, weighted: bool) -> np.ndarray:
        """Per column, the sum of its bins (weights when ``weighted``, else counts)."""
        return np.array(
            [
                (piece[2] if weighted else piece[1]).sum()
                for piece in map(self._compact, range(self.shape[0]))
            ],
            np.float64 if weighted else np.int64,
        )


class _DenseView:
    """One face (counts or weights) of a :class:`SparseBins` as ``select`` reads a partial's array."""

    def __init__(self, bins: SparseBins, weighted: bool):
        self._bins, self._weighted = bins, weighted
        self.shape = bins.shape

    def __getitem__(self, column: int) -> np.ndarray:
        return self._bins.column(int(column), self._weighted)

    def sum(self, axis: int = 1, dtype=None) -> np.ndarray:
        assert axis == 1
        totals = self._bins.totals(self._weighted)
        return totals if dtype is None else totals.astype(dtype)


class SparsePartial:
    """A pass's partial (see :func:`histogram`) over columns added as they are found (one per group
    and output), with :class:`SparseBins` for the histograms; :meth:`as_partial` is what ``select``
    reads."""

    def __init__(self, weighted: bool):
        self.bins = SparseBins(weighted)
        self._nan: list[int] = []
        self._above: list = []

    def add_columns(self, count: int) -> int:
        """Room for ``count`` more columns; returns the first one's number."""
        first = len(self._nan)
        self.bins.add_columns(count)
        self._nan.extend(0 for _ in range(count))
        self._above.extend(_NONE for _ in range(count))
        return first

    def add_digits(self, column: int, digits, weights, nan: int, above) -> None:
        self.bins.add(column, digits, weights)
        self._nan[column] += nan
        if above is not None:
            self._above[column] = min(self._above[column], above)

    def as_partial(self) -> dict:
        return {
            "counts": _DenseView(self.bins, False),
            "weights": _DenseView(self.bins, True),
            "above": np.array(self._above, np.uint64),
            "nan": np.array(self._nan, np.int64),
        }


def merge(a: dict, b: dict) -> dict:
    """The partial of two chunks' data (addition of histograms; the smaller key above)."""
    return {
        "counts": a["counts"] + b["counts"],
        "weights": a["weights"] + b["weights"],
        "above": np.minimum(a["above"], b["above"]),
        "nan": a["nan"] + b["nan"],
    }


def _value(key) -> float:
    return float(np.array([key], np.uint64).view(np.float64)[0])


def in_memory_scan(absolute_errors: np.ndarray, weights=None, rows_per_chunk: int = 1 << 20):
    """A ``scan`` for :func:`select` over a ``(rows, outputs)`` float64 array, by chunks of rows."""
    keys = keys_of(absolute_errors)

    def scan(prefixes, level):
        total = new_partial(keys.shape[1])
        for start in range(0, keys.shape[0], rows_per_chunk):
            chunk_weights = None if weights is None else weights[start : start + rows_per_chunk]
            chunk_keys = keys[start : start + rows_per_chunk]
            total = merge(total, histogram(chunk_keys, chunk_weights, prefixes, level))
        return total

    return scan


def select(scan, q: float, outputs: int | None, weighted: bool, decode=None) -> np.ndarray:
    """The ``q`` quantile of each output (float64 array), from ``scan(prefixes, level)``: the merged
    :func:`histogram` partial of every chunk for that pass (called :data:`PASSES` times; in pass 0
    ``prefixes`` is None). ``outputs=None``: as many as the first pass's partial has (columns found
    while reading, such as one per group and output). ``decode``: a key's value (default: the bit
    pattern's, :func:`keys_of`; :func:`signed_value` for :func:`signed_keys`)."""
    decode = decode or _value
    prefixes = below = results = targets = done = None
    for level in range(PASSES):
        partial = scan(None if prefixes is None else prefixes.copy(), level)
        source = partial["weights"] if weighted else partial["counts"]
        if level == 0:
            outputs = source.shape[0]
            prefixes = np.zeros(outputs, np.uint64)
            below = np.zeros(outputs, np.float64)
            results = np.full(outputs, math.nan)
            done = np.zeros(outputs, bool)
            totals = source.sum(axis=1, dtype=np.float64 if weighted else np.int64)
            targets = q * totals.astype(np.float64)
            done |= (partial["nan"] > 0) | (partial["counts"].sum(axis=1) == 0)
        for column in np.flatnonzero(~done):
            cumulative = below[column] + np.cumsum(source[column])
            target = targets[column] if targets[column] > 0 else np.nextafter(0.0, 1.0)
            digit = min(int(np.searchsorted(cumulative, target)), BINS - 1)
            if digit:
                below[column] = cumulative[digit - 1]
            prefixes[column] |= np.uint64(digit) << _shift(level)
            if level == PASSES - 1:
                above = partial["above"][column]
                # numpy.median's even n: always (a + b) / 2, even of two equal values (overflow: inf)
                paired = not weighted and q == 0.5 and totals[column] % 2 == 0
                key = prefixes[column]
                results[column] = _finish(cumulative, digit, target, key, source[column], above, decode)
                value = float(results[column])
                if paired and value == decode(key):
                    results[column] = (value + value) / 2
    return results


def _finish(cumulative, digit, target, key, bins, above, decode) -> float:
    """``v``, or ``(v + v') / 2`` when the rank sits on ``v``'s upper boundary."""
    value = decode(key)
    if cumulative[digit] - target > EPS:
        return value
    heavier = np.flatnonzero(bins[digit + 1 :] > 0)
    if heavier.size:
        following = (key & ~np.uint64(BINS - 1)) | np.uint64(digit + 1 + int(heavier[0]))
    elif above != _NONE:
        following = above
    else:
        return value
    return (value + decode(following)) / 2
