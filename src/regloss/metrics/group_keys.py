"""Group keys: one key per row turned into integer codes, once per batch (a factorisation).

:func:`factorize` takes the ``groups`` of :class:`regloss.metrics.Grouped` and returns a
:class:`Factorized`: ``codes`` (int64, one per row, in ``0 .. len(keys) - 1``) and ``keys`` (the
distinct keys, as plain Python values, in sorted order within the batch). The work is vectorised:
``numpy.unique`` per key column, then one more ``numpy.unique`` over the combined codes of several
columns; only columns of Python objects (strings mixed with ``None``) take a loop over rows.

Keys
    - a 1-D array (NumPy, or anything ``numpy.asarray`` takes: a list, a pandas Series; torch and
      JAX arrays are copied to the host first) gives scalar keys; a 2-D array ``(rows, k)``, or a
      tuple of ``k`` 1-D arrays, gives tuple keys of ``k`` values (several group columns);
    - keys become Python values (``numpy.int64(3)`` is ``3``, ``numpy.str_("a")`` is ``"a"``);
    - a missing key (NaN, ``None``, NaT, ``pandas.NA``) is ``None``: all missing keys of a column
      form one group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._xp import received


@dataclass(frozen=True)
class Factorized:
    """A batch's group keys as codes: ``keys[codes[i]]`` is row ``i``'s key."""

    codes: np.ndarray
    keys: tuple
    compact: bool = False
    """Whether every key occurs and no two are equal (as :func:`factorize` returns them)."""

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows) -> Factorized:
        """The rows ``rows`` (a slice or an index array), with all the keys (unused ones are
        dropped by :func:`factorize`)."""
        return Factorized(self.codes[rows], self.keys)  # not compact any more

    def rows_by_code(self):
        """``(code, rows)`` for every code that occurs: ``rows`` the indices of its rows, in order.
        One stable sort of the codes for all groups (a comparison per group and row would cost
        ``groups x rows``)."""
        order = np.argsort(self.codes, kind="stable")
        bounds = np.searchsorted(self.codes[order], np.arange(len(self.keys) + 1))
        for code in range(len(self.keys)):
            if bounds[code] < bounds[code + 1]:
                yield code, order[bounds[code] : bounds[code + 1]]


def to_host(array) -> np.ndarray:
    """A NumPy array of an array of any library (torch and JAX arrays copied to the host)."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "detach") and hasattr(array, "cpu"):  # torch, wherever it lives
        return array.detach().cpu().numpy()
    if hasattr(array, "__dask_graph__"):
        return np.asarray(array.compute())
    return np.asarray(array)


def is_missing(value) -> bool:
    """Whether a key is missing: None, NaN, NaT or ``pandas.NA`` (a value unequal to itself)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pandas.NA refuses bool()
        return True


def _compact(coded: Factorized) -> tuple[np.ndarray, list]:
    """``(codes, keys)`` of coded keys with the unused keys dropped and equal keys (missing
    ones: ``None``, NaN) made one."""
    used, inverse = used_codes(coded.codes, len(coded.keys))
    kept = [
        key if isinstance(key, str) else _plain(key) for key in map(coded.keys.__getitem__, used.tolist())
    ]
    if len(set(kept)) == len(kept):  # distinct (pyarrow's dictionaries are): nothing to merge
        return inverse, kept
    index: dict = {}
    merged = np.fromiter(
        (index.setdefault(_plain(coded.keys[code]), len(index)) for code in used.tolist()),
        dtype=np.int64,
        count=len(used),
    )
    return merged[inverse], list(index)


def used_codes(codes: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``(used, compact)``: the codes in ``0 .. count - 1`` that occur, ascending, and each row's
    position among them (``numpy.unique(codes, return_inverse=True)`` in O(rows + count), without
    sorting the rows)."""
    used = np.flatnonzero(np.bincount(codes, minlength=count))
    position = np.zeros(count, dtype=np.int64)
    position[used] = np.arange(len(used))
    return used, position[codes]


def _plain(key):
    return None if is_missing(key) else key


def _column(values) -> tuple[np.ndarray, list]:
    """``(codes, keys)`` of one column of keys (missing keys last, as ``None``)."""
    if isinstance(values, Factorized):
        return _compact(values)
    kind = values.dtype.kind
    if kind in "fcmM":
        missing = np.isnan(values) if kind in "fc" else np.isnat(values)
        if missing.any():
            present = ~missing
            uniques, inverse = np.unique(values[present], return_inverse=True)
            codes = np.full(len(values), len(uniques), dtype=np.int64)
            codes[present] = inverse
            return codes, [*uniques.tolist(), None]
    if kind in "biufcmMUS":
        uniques, inverse = np.unique(values, return_inverse=True)
        return inverse.astype(np.int64, copy=False).reshape(-1), uniques.tolist()
    index: dict = {}
    codes = np.fromiter(
        (index.setdefault(None if is_missing(value) else value, len(index)) for value in values.tolist()),
        dtype=np.int64,
        count=len(values),
    )
    return codes, list(index)


def _columns_of(groups) -> list[np.ndarray]:
    if isinstance(groups, tuple):
        columns = [column if isinstance(column, Factorized) else to_host(column) for column in groups]
        if not columns:
            raise ValueError("groups must hold at least one column of keys; received an empty tuple")
    else:
        array = to_host(groups)
        columns = [array[:, j] for j in range(array.shape[1])] if array.ndim == 2 else [array]
    for column in columns:
        if not isinstance(column, Factorized) and column.ndim != 1:
            raise ValueError(
                "groups must be a 1-D array of keys (one per row), a 2-D array (rows, columns) or a tuple "
                f"of 1-D arrays; received an array of shape {column.shape}"
            )
    lengths = {len(column) for column in columns}
    if len(lengths) > 1:
        raise ValueError(f"the columns of groups differ in length: {sorted(lengths)}")
    return columns


def factorize(groups) -> Factorized:
    """The codes and distinct keys of ``groups`` (module docstring); a :class:`Factorized` is
    returned as it is."""
    if isinstance(groups, Factorized):
        return groups if groups.compact else Factorized(*_as_tuple(_compact(groups)), compact=True)
    if groups is None:
        raise TypeError("groups must be an array of keys, one per row; received None")
    try:
        columns = _columns_of(groups)
    except (TypeError, ValueError) as error:
        if isinstance(error, ValueError) and str(error).startswith(("groups", "the columns")):
            raise
        raise TypeError(
            f"groups must be an array of keys, one per row; received {received(groups)}"
        ) from error
    factored = [_column(column) for column in columns]
    if len(factored) == 1:
        return Factorized(*_as_tuple(factored[0]), compact=True)
    combined = factored[0][0]
    for codes, keys in factored[1:]:
        combined = combined * len(keys) + codes
        _, combined = np.unique(combined, return_inverse=True)  # compact: codes stay below rows
        combined = combined.reshape(-1)
    uniques, first = np.unique(combined, return_index=True)
    keys = tuple(tuple(keys[codes[row]] for codes, keys in factored) for row in first.tolist())
    return Factorized(combined.astype(np.int64, copy=False), keys, compact=True)


def _as_tuple(found: tuple[np.ndarray, list]) -> tuple[np.ndarray, tuple]:
    return found[0], tuple(found[1])


def sort_key(key):
    """A total order of keys for reports: missing (None) last, numbers before text, tuples
    element by element."""
    if isinstance(key, tuple):
        return tuple(sort_key(part) for part in key)
    if key is None:
        return (3, 0, "")
    if isinstance(key, (bool, int, float)) and not (isinstance(key, float) and math.isnan(key)):
        return (0, key, "")
    if isinstance(key, str):
        return (1, 0, key)
    return (2, 0, repr(key))
