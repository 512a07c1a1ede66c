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


class Table:
    """A file of named numeric columns, read as chunks of rows (see :mod:`regloss.cli.readers`).

    A reader implements :meth:`_chunks`; :meth:`chunks` checks and clamps the chunk size first.
    """

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
