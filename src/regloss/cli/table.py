"""The interface every input reader implements: a file of named numeric columns, read as chunks.

:meth:`Table.chunks` checks the chunk size once for every format and clamps it to
:data:`MAX_CHUNK_ROWS`, so that ``--chunk-rows 100000000000000000000`` means "as few chunks as
possible" for CSV, Parquet, NPY and NPZ alike (pyarrow takes at most a C ``int64``; a chunk can
never hold more rows than that anyway).
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .errors import CliError, short_repr

MAX_CHUNK_ROWS = 2**31 - 1
"""The largest chunk a reader is asked for: a larger ``chunk_rows`` is taken as this."""


def whole_number(value: int, name: str) -> int:
    """``value`` as an ``int`` when it is a whole number >= 1 (an ``int`` or a NumPy integer, not a
    bool); else a TypeError or ValueError naming ``name`` and what was received."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number >= 1; received {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a whole number >= 1; received {type(value).__name__}") from None
    if number < 1:
        raise ValueError(f"{name} must be a whole number >= 1; received {number}")
    return number


def clamp_chunk_rows(chunk_rows: int) -> int:
    """``chunk_rows`` (a whole number >= 1) clamped to :data:`MAX_CHUNK_ROWS`."""
    return min(whole_number(chunk_rows, "chunk_rows"), MAX_CHUNK_ROWS)


class KeyedChunk:
    """A chunk of numeric columns (``values``, ``(rows, k)``) and the group keys of its rows
    (``keys``: one 1-D array per key column); sliced by rows as one."""

    __slots__ = ("values", "keys")

    def __init__(self, values: np.ndarray, keys: list[np.ndarray]):
        self.values, self.keys = values, keys

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, rows: slice) -> KeyedChunk:
        return KeyedChunk(self.values[rows], [column[rows] for column in self.keys])


def _as_kind(column: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
    """A float64 key column back in its integer or boolean dtype (it holds no NaN then)."""
    if dtype is not None and dtype.kind in "biu":
        return column.astype(dtype)
    return column


class Table:
    """A file of named numeric columns, read as chunks of rows (see :mod:`regloss.cli.readers`).

    A reader implements :meth:`_chunks`; :meth:`chunks` checks and clamps the chunk size first.
    """

    text_keys = False
    """Whether the format's group keys are text (CSV), whose numbers are typed afterwards."""

    def __init__(self, path: Path):
        self.path = path
        self.columns: list[str] = []

    def row_count(self, names: Sequence[str]) -> int | None:
        """The number of rows of these columns when the file says it without being read, else None."""
        return None

    def chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        """Chunks of the columns ``names`` (distinct, existing): float64 arrays ``(rows, len(names))``
        of at most ``min(chunk_rows, MAX_CHUNK_ROWS)`` rows each."""
        return self._chunks(names, clamp_chunk_rows(chunk_rows))

    def _chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def keyed_chunks(
        self, names: Sequence[str], keys: Sequence[str], chunk_rows: int
    ) -> Iterator[KeyedChunk]:
        """Chunks of the numeric columns ``names`` with the group-key columns ``keys`` of the same
        rows, read in one pass (``regloss evaluate --by``). This default reads the keys as numeric
        columns (NPY, NPZ): NaN is a missing key, and a key column of an integer or boolean dtype
        gives keys of that dtype."""
        wanted = list(dict.fromkeys([*names, *keys]))
        positions = [wanted.index(name) for name in names]
        key_positions = [wanted.index(key) for key in keys]
        kinds = [self.key_dtype(key) for key in keys]
        for values in self.chunks(wanted, chunk_rows):
            columns = [values[:, j] for j in key_positions]
            columns = [_as_kind(column, kind) for column, kind in zip(columns, kinds, strict=True)]
            yield KeyedChunk(values[:, positions], columns)

    def key_dtype(self, name: str) -> np.dtype | None:
        """The stored dtype of a column, where the format has one (NPY, NPZ), else None."""
        return None

    def fraction_read(self) -> float | None:
        """How much of the file the chunks so far have read, in [0, 1], or None if unknown."""
        return None

    def close(self) -> None:
        """Release the file."""

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _index(self, name: str) -> int:
        matches = [i for i, column in enumerate(self.columns) if column == name]
        if len(matches) > 1:
            raise CliError(
                f"column {short_repr(name)} appears {len(matches)} times in {self.path}; rename one of them"
            )
        return matches[0]
