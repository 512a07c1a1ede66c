"""Input files as tables of named numeric columns, read as a stream of row chunks.

Every reader opens one file, knows its column names (and its number of rows where the format says
it), and yields chunks: float64 arrays of shape ``(rows, len(names))`` with the requested columns
in the requested order, at most ``chunk_rows`` rows each (a larger ``chunk_rows`` than
:data:`~regloss.cli.table.MAX_CHUNK_ROWS` is taken as that, for every format). Memory stays
bounded by the chunk size:

=============  =================================================================================
format         how it is read
=============  =================================================================================
CSV, CSV.gz    a header row of column names; blocks of 8 MiB cut at a line end, parsed by pyarrow's
               CSV reader (files of 8 MiB or more, when pyarrow is installed) or
               ``numpy.loadtxt``; a block it rejects, whose row count differs from its data
               lines, or whose quotes the ``csv`` module (strict) does not accept line by line,
               is parsed again line by line with the ``csv`` module to name the line, row and
               column at fault. An empty field is a missing value (NaN). A line longer than
               ``max_line_bytes`` is an error. Pipes and devices are read as streams.
Parquet        pyarrow (imported when needed), one batch of ``chunk_rows`` rows at a time.
NPY            memory-mapped; the pages of each chunk are released once it is converted. 1-D:
               one column ``c0``; ``(n, k)``: ``c0`` .. ``c{k-1}``; a structured array: its fields.
NPZ            each member (1-D, or ``(n, 1)``) is a column named after it, streamed from the zip
               archive (compressed or not) chunk by chunk.
=============  =================================================================================

NPY, NPZ and Parquet files must be regular files (they are read at random places). Declared sizes
are checked against the file before use (:mod:`regloss.cli.npy`). Pickled (object) arrays are
never loaded. Any failure to read is a :class:`CliError` naming the file and, for values that
are not numbers, the row and the column.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import math
import os
import stat
import sys
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .errors import CliError, short_repr
from .npy import NpyTable, NpzTable
from .table import KeyedChunk, Table, clamp_chunk_rows, whole_number

__all__ = ["FORMATS", "DEFAULT_MAX_LINE_BYTES", "Table", "format_of", "open_table"]

FORMATS = ("csv", "csv.gz", "parquet", "npy", "npz")
"""The formats :func:`open_table` reads, by file name suffix (``.pq`` is Parquet too)."""

_SUFFIXES = {
    ".csv": "csv",
    ".csv.gz": "csv.gz",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npy": "npy",
    ".npz": "npz",
}

_STREAMED = ("csv", "csv.gz")
"""Formats read front to back, which a pipe or a device can feed (the others need a regular file)."""

DEFAULT_MAX_LINE_BYTES = 1 << 24
"""The longest CSV line read (16 MiB, its line end not counted): a longer one is an error, so that
a file without line ends (``/dev/zero``, a gzip of zeros) cannot take unbounded memory."""


def format_of(path: Path) -> str:
    """The format of a file from its name (``CliError`` for a name no reader takes)."""
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    raise CliError(
        f"cannot tell the format of {path} from its name: use a file ending in "
        ".csv, .csv.gz, .parquet, .npy or .npz"
    )


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_table(path: str | os.PathLike, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Table:
    """The reader of one input file (``CliError`` when it is missing or cannot be opened).

    ``max_line_bytes`` bounds the length of a CSV line. CSV files may be pipes or devices (read as
    streams, in bounded memory); the other formats must be regular files."""
    path = Path(path)
    max_line_bytes = whole_number(max_line_bytes, "max_line_bytes")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CliError(f"no such file: {path}") from None
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from error
    if stat.S_ISDIR(mode):
        raise CliError(f"{path} is a directory, not a file (a directory of files needs --engine dask)")
    kind = format_of(path)
    if not stat.S_ISREG(mode) and (kind not in _STREAMED or stat.S_ISSOCK(mode)):
        raise CliError(
            f"{path} is {_file_kind(mode)}, not a regular file: {kind} files are read at random places "
            "(only CSV can be read from a pipe); copy it to a file first"
        )
    try:
        if kind in _STREAMED:
            return CsvTable(path, max_line_bytes=max_line_bytes)
        return {"parquet": ParquetTable, "npy": NpyTable, "npz": NpzTable}[kind](path)
    except PermissionError as error:
        raise CliError(f"cannot read {path}: permission denied") from error
    except IsADirectoryError as error:  # pragma: no cover - checked above
        raise CliError(f"{path} is a directory") from error


# ------------------------------------------------------------------------------------------ CSV


@contextlib.contextmanager
def _reading_text(path: Path):
    """Turn the failures of reading (decompressing, decoding) a text file into a CliError."""
    try:
        yield
    except CliError:
        raise
    except EOFError as error:
        raise CliError(f"{path} is truncated: {error}") from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise CliError(f"{path} is not a readable gzip file: {error}") from error
    except UnicodeDecodeError as error:
        raise CliError(
            f"{path} is not UTF-8 text (byte {error.start} of a line cannot be decoded)"
        ) from error
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from error


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_BLOCK_BYTES = 1 << 23
"""Bytes of a CSV file read at a time (cut at the last line end): 8 MiB."""

_ARROW_MIN_BYTES = 1 << 23
"""Files at least this large are parsed by pyarrow's CSV reader when pyarrow is installed (importing
it costs ~0.2 s, more than parsing a small file takes)."""

_HEADER_READ_BYTES = 1 << 16
"""Bytes read at a time while looking for the end of the header line."""


def _line_ends(data: bytes) -> int:
    """Line ends in ``data`` as universal newlines count them (``\\n``, ``\\r\\n`` or a lone ``\\r``)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    ends = int(np.count_nonzero(codes == 10))  # a vectorised count: bytes.count took 29 ms per 8 MiB
    if b"\r" in data:
        ends += int(np.count_nonzero(codes == 13)) - data.count(b"\r\n")
    return ends


def _text_lines(data: bytes) -> list[str]:
    """The lines of a block of UTF-8 text, split as universal newlines split them, ends removed."""
    text = data.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the block ends with a line end
    return lines


def _first_long_line(data: bytes, limit: int) -> int | None:
    """The offset in ``data`` of the first line longer than ``limit`` bytes (ends not counted), or
    None."""
    if len(data) <= limit:
        return None
    codes = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero((codes == 10) | (codes == 13))  # "\r\n" makes an empty line between: harmless
    starts = np.concatenate(([0], ends + 1))
    lengths = np.concatenate((ends, [len(data)])) - starts
    over = np.flatnonzero(lengths > limit)
    return int(starts[over[0]]) if over.size else None


_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13
_LINE_END = np.array([_LF], dtype=np.uint8)
_BESIDE_A_QUOTE = np.zeros(256, dtype=bool)
_BESIDE_A_QUOTE[[_COMMA, _LF, _CR, _QUOTE]] = True


def _quotes_pair_up(block: bytes) -> bool:
    """Whether the quotes of a block pair up as RFC 4180 quoting could (vectorised): an even number
    of them, each even one (the 1st, 3rd...) opening a field (after a comma, a line end or another
    quote: ``""`` inside quotes), each odd one closing it (before a comma, a line end or another
    quote). Then the only way the block can still be invalid CSV line by line is a quoted field
    that takes in a line end, and that joins lines into one row in every parser: the row count
    check (:func:`_all_rows`) catches it. False is no verdict: :func:`_quoting_is_strict` decides."""
    codes = np.frombuffer(block, dtype=np.uint8)
    quotes = np.flatnonzero(codes == _QUOTE)
    if quotes.size % 2:
        return False
    padded = np.concatenate((_LINE_END, codes, _LINE_END))  # a line end before and after the block
    opening, closing = quotes[0::2], quotes[1::2]
    return bool(_BESIDE_A_QUOTE[padded[opening]].all() and _BESIDE_A_QUOTE[padded[closing + 2]].all())


@contextlib.contextmanager
def _csv_fields_up_to(size: int):
    """Let the ``csv`` module read fields of up to ``size`` characters while inside (its default
    limit, 131,072, would make the exact parser refuse a long field that pyarrow reads: any field
    fits in a line, which is at most ``--max-line-bytes`` long). The limit is restored after."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, min(size, sys.maxsize)))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _quoting_is_strict(lines: list[str]) -> bool:
    """Whether every line is one complete record with valid quoting for the ``csv`` module in
    strict mode: no quote left open at the line end (which joins lines into one record in every
    parser), nothing but a comma or the line end after a closing quote."""
    try:
        records = sum(1 for _ in csv.reader(lines, strict=True))
    except csv.Error:
        return False
    return records == len(lines)


def _all_rows(values: np.ndarray, lines: int, text_lines) -> bool:
    """Whether a fast parser's ``values`` hold one row per data line of the block: per line
    (``lines`` of them), or, when it skipped some, per line that is not blank (``text_lines()``
    gives the lines; called only then)."""
    if len(values) == lines:
        return True  # no parser makes a row of a blank line (tests/test_cli_csv.py)
    return len(values) == sum(1 for line in text_lines() if line.strip())


class CsvTable(Table):
    """A CSV file (``.csv``, or gzip-compressed ``.csv.gz``) with a header row of column names.

    Read in blocks of :data:`_BLOCK_BYTES` cut at a line end. A block is parsed by pyarrow's CSV
    reader (files of at least :data:`_ARROW_MIN_BYTES`, with pyarrow installed: several times
    faster), else by ``numpy.loadtxt``; a block either rejects (a word, a ragged line, a number
    written in a way it does not take, such as ``" 3 "`` or ``1_000``) or from which it returns
    fewer rows than the block has data lines is parsed again by the exact line-by-line parser,
    which accepts what Python's ``float`` accepts and names the row and column of anything else.

    Quotes follow RFC 4180 within one line: ``"4"`` is the number 4 for every parser (quoted
    numbers are accepted), ``""`` inside quotes is one quote, and a quote left open at the end of
    its line, or followed by anything but a comma, is an error naming the line (a quoted field
    cannot span lines). A block holding a quote is checked line by line by the ``csv`` module in
    strict mode (or found to pair up, :func:`_quotes_pair_up`) before a fast parser may read it.
    The three parsers agree on every input: tests/test_cli_csv.py.

    A line longer than ``max_line_bytes`` (its line end not counted) is an error naming it; the
    memory used is bounded by that and the block size, whatever the file holds.
    """

    text_keys = True

    def __init__(self, path: Path, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES):
        super().__init__(path)
        self._max_line_bytes = whole_number(max_line_bytes, "max_line_bytes")
        self._size = path.stat().st_size
        self._line = 0  # lines read so far, the header included
        self._rows = 0  # data rows yielded so far
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            compressed = path.name.lower().endswith(".gz")
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb") if compressed else self._raw
            self._pending = b""
            with _reading_text(path):
                header = self._first_line().decode("utf-8-sig")
            if not header.strip():
                raise CliError(f"{path} is empty: a CSV file needs a header row of column names")
            with _csv_fields_up_to(self._max_line_bytes):
                self.columns = [name.strip() for name in self._record(header, 1)]
            if all(_is_number(name) for name in self.columns):
                raise CliError(
                    f"the first line of {path} holds numbers, not column names: a CSV file needs a header row"
                )
        except BaseException:
            self._raw.close()
            raise
        self._line = 1
        self._arrow = _import_arrow_csv() if self._size >= _ARROW_MIN_BYTES else None

    def _too_long(self, line: int) -> CliError:
        return CliError(
            f"line {line} of {self.path} is longer than {self._max_line_bytes} bytes (--max-line-bytes): "
            "a line end is missing, or it is not a CSV file"
        )

    def _record(self, text: str, line: int) -> list[str]:
        """The fields of one line (``csv`` module, strict quoting); a CliError naming the line."""
        try:
            return next(csv.reader([text], strict=True))
        except csv.Error as error:
            if "end of data" in str(error):
                raise CliError(
                    f'line {line} of {self.path} has an unmatched quote ("): a quoted field must end on '
                    "its line"
                ) from None
            raise CliError(
                f"line {line} of {self.path} is not valid CSV: {error} (a closing quote must be "
                "followed by a comma or the line end)"
            ) from None

    def _first_line(self) -> bytes:
        """The header line's bytes (its line end removed); what follows stays in ``_pending``."""
        data = bytearray()
        start = 0
        while True:
            chunk = self._stream.read(_HEADER_READ_BYTES)
            data += chunk
            ends = [i for i in (data.find(b"\n", start), data.find(b"\r", start)) if i >= 0]
            # a "\r" that ends a read waits for the next one, which may start with the "\n" of its line end
            if ends and (min(ends) < len(data) - 1 or not chunk or data[min(ends)] == 10):
                end = min(ends)
                stop = end + 2 if data[end : end + 2] == b"\r\n" else end + 1
                if end > self._max_line_bytes:
                    raise self._too_long(1)
                self._pending = bytes(data[stop:])
                return bytes(data[:end])
            if len(data) - (data[-1:] == b"\r") > self._max_line_bytes:
                raise self._too_long(1)
            if not chunk:
                return bytes(data)
            start = max(len(data) - 1, 0)

    def _next_block(self) -> bytes:
        """The next bytes up to and including the last line end of a read (the rest at the end of
        the file; ``b""`` once everything is read). A ``\\r`` that ends a read waits for the next
        one, which may start with the ``\\n`` of the same line end. A CliError for a line longer
        than the bound, before more than the bound and one read are held."""
        data = bytearray(self._pending)
        start = 0
        while True:
            chunk = self._stream.read(_BLOCK_BYTES)
            if not chunk:
                self._pending = b""
                return self._checked(bytes(data))
            data += chunk
            stop = len(data) - 1 if data.endswith(b"\r") else len(data)
            cut = max(data.rfind(b"\n", start, stop), data.rfind(b"\r", start, stop))
            if cut >= 0:
                self._pending = bytes(data[cut + 1 :])
                return self._checked(bytes(data[: cut + 1]))
            if stop > self._max_line_bytes:  # data is one line without an end yet
                raise self._too_long(self._line + 1)
            start = max(len(data) - 1, 0)

    def _checked(self, block: bytes) -> bytes:
        """``block``, or a CliError naming its first line longer than the bound."""
        offset = _first_long_line(block, self._max_line_bytes)
        if offset is not None:
            raise self._too_long(self._line + 1 + _line_ends(block[:offset]))
        return block

    def _chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        for _, values, _, _ in self._blocks(names):
            for start in range(0, len(values), chunk_rows):
                yield values[start : start + chunk_rows]

    def keyed_chunks(
        self, names: Sequence[str], keys: Sequence[str], chunk_rows: int
    ) -> Iterator[KeyedChunk]:
        """The numeric columns and the group keys (text; an empty field is a missing key) of each
        block, parsed from the same bytes: the file is read once."""
        chunk_rows = clamp_chunk_rows(chunk_rows)
        key_indices = [self._index(key) for key in keys]
        for block, values, keyed, first_line in self._blocks(names, key_indices):
            if keyed is None:  # not parsed with the values: the block again, for its keys only
                keyed = self._block_keys(block, key_indices, len(values), first_line)
            chunk = KeyedChunk(values, keyed)
            for start in range(0, len(values), chunk_rows):
                yield chunk[start : start + chunk_rows]

    def _block_keys(self, block: bytes, indices: list[int], rows: int, first_line: int) -> list:
        """The key columns of a block, stripped of surrounding blanks: pyarrow's dictionary
        encoding where pyarrow is installed, else the ``csv`` module line by line."""
        arrow = _import_arrow_csv()
        if arrow is not None:
            found = _arrow_columns(*arrow, block, len(self.columns), [], indices)
            if found is not None and all(len(column) == rows for column in found[1]):
                return found[1]
        with _csv_fields_up_to(self._max_line_bytes):
            lines = [(offset, line) for offset, line in enumerate(_text_lines(block)) if line.strip()]
            records = [self._record(line, first_line + offset) for offset, line in lines]
        return [
            np.array([record[index].strip() or None for record in records], dtype=object) for index in indices
        ]

    def _blocks(self, names: Sequence[str], key_indices: Sequence[int] = ()) -> Iterator[tuple]:
        """``(block, values, keys, first line)`` of each block of lines: the columns ``names``
        parsed, and the key columns ``key_indices`` where pyarrow parsed them with the values
        (else None)."""
        indices = [self._index(name) for name in names]
        while True:
            with _reading_text(self.path):
                block = self._next_block()
                if not block:
                    return
                if not block.isascii():
                    block.decode("utf-8")  # a CliError for bytes that are not UTF-8 text
            first_line = self._line + 1
            lines = _line_ends(block) + (not block.endswith((b"\n", b"\r")))
            self._line += lines
            values, keys = self._parse_block(block, indices, first_line, lines, key_indices)
            self._rows += len(values)
            yield block, values, keys, first_line

    def _parse_block(
        self, block: bytes, indices: list[int], first_line: int, lines: int, key_indices: Sequence[int] = ()
    ) -> tuple[np.ndarray, list | None]:
        """``(values, keys)``: the selected columns of a block of ``lines`` lines (pyarrow's parser,
        else :meth:`_parse`; the exact parser for a block whose quoting is not strict CSV), and the
        key columns where pyarrow read them in the same call (else None)."""
        with _csv_fields_up_to(self._max_line_bytes):
            return self._parse_with_fallbacks(block, indices, first_line, lines, key_indices)

    def _parse_with_fallbacks(
        self, block: bytes, indices: list[int], first_line: int, lines: int, key_indices: Sequence[int]
    ) -> tuple[np.ndarray, list | None]:
        text_lines = None
        if b'"' in block and not _quotes_pair_up(block):
            text_lines = _text_lines(block)
            if not _quoting_is_strict(text_lines):
                return self._parse_exactly(text_lines, indices, first_line), None  # names the line
        if self._arrow is not None:
            if key_indices:
                found = _arrow_columns(*self._arrow, block, len(self.columns), indices, key_indices)
            else:
                found = _arrow_values(*self._arrow, block, len(self.columns), indices), None
                found = None if found[0] is None else found
            if found is not None and _all_rows(found[0], lines, lambda: text_lines or _text_lines(block)):
                return found
        lines_of_text = text_lines if text_lines is not None else _text_lines(block)
        return self._parse(lines_of_text, indices, first_line), None

    def _parse(self, lines: list[str], indices: list[int], first_line: int) -> np.ndarray:
        """The selected columns of a batch of lines: numpy's parser, or the exact one if it fails
        or returns fewer rows than the lines that are not blank."""
        # Every column is parsed (not only the selected ones), so that numpy checks that each line
        # has as many fields as the header: a per-line comma count in Python took longer than the
        # parsing itself.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = np.loadtxt(
                    lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None, quotechar='"'
                )
        except ValueError:
            values = None  # an empty field, a word, a ragged line: parse again to know which
        if (
            values is not None
            and (values.shape[1] == len(self.columns) or not len(values))
            and _all_rows(values, len(lines), lambda: lines)
        ):
            return values[:, indices] if len(values) else np.empty((0, len(indices)))
        return self._parse_exactly(lines, indices, first_line)

    def _parse_exactly(self, lines: list[str], indices: list[int], first_line: int) -> np.ndarray:
        """Line by line with the ``csv`` module (strict quoting): blank lines skipped, empty fields
        NaN, and a CliError naming the line, row and column of anything else that is not a number."""
        values = np.empty((len(lines), len(indices)), dtype=np.float64)
        count = 0
        for offset, text_line in enumerate(lines):
            if not text_line.strip():
                continue  # a blank line
            line = first_line + offset
            record = self._record(text_line, line)
            if len(record) != len(self.columns):
                raise CliError(
                    f"line {line} of {self.path} has {len(record)} fields, the header has "
                    f"{len(self.columns)} (a truncated or malformed file?)"
                )
            row = self._rows + count + 1
            for position, index in enumerate(indices):
                text = record[index].strip()
                if not text:
                    values[count, position] = math.nan
                    continue
                try:
                    values[count, position] = float(text)
                except ValueError:
                    raise CliError(
                        f"non-numeric value {short_repr(text)} in column {short_repr(self.columns[index])} "
                        f"at row {row} (line {line}) of {self.path}"
                    ) from None
            count += 1
        return values[:count]

    def fraction_read(self) -> float | None:
        if not self._size:
            return None
        with contextlib.suppress(OSError, ValueError):
            return min(self._raw.tell() / self._size, 1.0)
        return None

    def close(self) -> None:
        self._raw.close()


def _import_arrow_csv():
    """``(pyarrow, pyarrow.csv)``, or None when pyarrow is not installed."""
    try:
        import pyarrow
        import pyarrow.csv
    except ImportError:
        return None
    return pyarrow, pyarrow.csv


def _arrow_values(pa, pa_csv, block: bytes, count: int, indices: list[int]) -> np.ndarray | None:
    """The float64 columns ``indices`` of a block of CSV lines parsed by pyarrow, or None where it
    rejects the block (:func:`_arrow_columns` without key columns)."""
    found = _arrow_columns(pa, pa_csv, block, count, indices)
    return None if found is None else found[0]


def _arrow_columns(
    pa, pa_csv, block: bytes, count: int, indices: Sequence[int], key_indices: Sequence[int] = ()
) -> tuple[np.ndarray, list | None] | None:
    """``(values, keys)`` of a block of CSV lines (``count`` fields each) parsed by pyarrow in one
    call, or None where it rejects the block: ``values`` the float64 columns ``indices`` (only
    empty fields are missing values: pyarrow's default list also takes ``NA``, ``null``..., words
    that the exact parser reports), ``keys`` the text columns ``key_indices``, stripped of
    surrounding blanks, each a :class:`~regloss.metrics.group_keys.Factorized` (None without key
    columns, or when a key column is a numeric one too)."""
    names = [f"c{i}" for i in range(count)]
    numeric = sorted(set(indices))
    text = sorted(set(key_indices))
    if set(text) & set(numeric):
        text, key_indices = [], ()
    types = {names[i]: pa.float64() for i in numeric} | {names[i]: pa.string() for i in text}
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(block),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=",", quote_char='"', ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=types,
                include_columns=[names[i] for i in numeric + text],
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    columns = {i: table.column(names[i]).to_numpy() for i in numeric}
    values = np.empty((table.num_rows, len(indices)), dtype=np.float64)
    for position, index in enumerate(indices):
        values[:, position] = columns[index]
    if not key_indices:
        return values, None
    import pyarrow.compute as pc

    keys = {}
    for i in text:
        trimmed = pc.utf8_trim_whitespace(table.column(names[i]))
        keys[i] = coded_keys(pa, pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed))
    return values, [keys[i] for i in key_indices]


def coded_keys(pa, column):
    """A pyarrow column of keys as a :class:`~regloss.metrics.group_keys.Factorized` (its
    dictionary encoding; a null is the key None)."""
    from ..metrics.group_keys import Factorized

    encoded = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    encoded = encoded.dictionary_encode()
    keys = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(len(keys)).to_numpy(zero_copy_only=False).astype(np.int64)
    return Factorized(codes, (*keys, None))


# -------------------------------------------------------------------------------------- Parquet


def _import_pyarrow():
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError as error:
        raise CliError(
            'reading Parquet files needs pyarrow: pip install pyarrow (or pip install "regloss[parquet]")'
        ) from error
    return pyarrow


class ParquetTable(Table):
    """A Parquet file, read one batch of rows at a time through pyarrow."""

    def __init__(self, path: Path):
        super().__init__(path)
        self._pa = _import_pyarrow()
        try:
            self._file = self._pa.parquet.ParquetFile(path)
            schema = self._file.schema_arrow
        except (self._pa.ArrowException, OSError) as error:
            raise CliError(
                f"cannot read {path} as Parquet (truncated or not a Parquet file?): {error}"
            ) from error
        self.columns = list(schema.names)
        self._types = {field.name: field.type for field in schema}
        self._total = self._file.metadata.num_rows
        self._done = 0

    def row_count(self, names: Sequence[str]) -> int | None:
        return self._total

    def _check_numeric(self, names: Sequence[str]) -> None:
        types = self._pa.types
        for name in names:
            kind = self._types[name]
            if not (
                types.is_integer(kind)
                or types.is_floating(kind)
                or types.is_boolean(kind)
                or types.is_decimal(kind)
            ):
                raise CliError(f"column {short_repr(name)} of {self.path} holds {kind} values, not numbers")

    def _chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        for name in names:
            self._index(name)
        self._check_numeric(names)
        pa = self._pa
        try:
            for batch in self._file.iter_batches(batch_size=chunk_rows, columns=list(names)):
                self._done += batch.num_rows
                if batch.num_rows:
                    yield self._values(batch, names)
        except (pa.ArrowException, OSError) as error:
            raise CliError(
                f"cannot read {self.path} (truncated or corrupt Parquet file?): {error}"
            ) from error

    def _values(self, batch, names: Sequence[str]) -> np.ndarray:
        """The columns ``names`` of a record batch as a float64 ``(rows, len(names))`` array."""
        pa = self._pa
        columns = [
            pa.compute.cast(batch.column(name), pa.float64(), safe=False).to_numpy(zero_copy_only=False)
            for name in names
        ]
        return np.stack(columns, axis=1).astype(np.float64, copy=False)

    def fraction_read(self) -> float | None:
        return self._done / self._total if self._total else None

    def keyed_chunks(
        self, names: Sequence[str], keys: Sequence[str], chunk_rows: int
    ) -> Iterator[KeyedChunk]:
        """The numeric columns and the group keys of each batch, read together (one pass); keys
        of any type (text, integers, booleans, dates), a null being the key None."""
        chunk_rows = clamp_chunk_rows(chunk_rows)
        for key in keys:
            self._index(key)
        self._check_numeric(names)
        pa = self._pa
        wanted = list(dict.fromkeys([*names, *keys]))
        try:
            for batch in self._file.iter_batches(batch_size=chunk_rows, columns=wanted):
                self._done += batch.num_rows
                if not batch.num_rows:
                    continue
                keyed = [coded_keys(pa, batch.column(key)) for key in keys]
                yield KeyedChunk(self._values(batch, names), keyed)
        except (pa.ArrowException, OSError) as error:
            raise CliError(
                f"cannot read {self.path} (truncated or corrupt Parquet file?): {error}"
            ) from error

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._file.close()
