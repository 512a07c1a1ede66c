"""Input files as tables of named numeric columns, read as a stream of row chunks.

Every reader opens one file, knows its column names (and its number of rows where the format says
it), and yields chunks: float64 arrays of shape ``(rows, len(names))`` with the requested columns
in the requested order, at most ``chunk_rows`` rows each. Memory stays bounded by the chunk size:

=============  =================================================================================
format         how it is read
=============  =================================================================================
CSV, CSV.gz    a header row of column names; blocks of 8 MiB cut at a line end, parsed by pyarrow's
               CSV reader (files of 8 MiB or more, when pyarrow is installed) or
               ``numpy.loadtxt``; a block it rejects, or whose lines do not all have the header's
               number of fields, is parsed again line by line with the ``csv`` module to name
               the row and column at fault. An empty field is a missing value (NaN).
Parquet        pyarrow (imported when needed), one batch of ``chunk_rows`` rows at a time.
NPY            memory-mapped; the pages of each chunk are released once it is converted. 1-D:
               one column ``c0``; ``(n, k)``: ``c0`` .. ``c{k-1}``; a structured array: its fields.
NPZ            each member (1-D, or ``(n, 1)``) is a column named after it, streamed from the zip
               archive (compressed or not) chunk by chunk.
=============  =================================================================================

Pickled (object) arrays are never loaded. Any failure to read is a :class:`CliError` naming the
file and, for values that are not numbers, the row and the column.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import math
import mmap
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from .._messages import show_value
from .errors import CliError

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

_NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats


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


def open_table(path: str | os.PathLike) -> Table:
    """The reader of one input file (``CliError`` when it is missing or cannot be opened)."""
    path = Path(path)
    if not path.exists():
        raise CliError(f"no such file: {path}")
    if path.is_dir():
        raise CliError(f"{path} is a directory, not a file (a directory of files needs --engine dask)")
    kind = format_of(path)
    readers = {
        "csv": CsvTable,
        "csv.gz": CsvTable,
        "parquet": ParquetTable,
        "npy": NpyTable,
        "npz": NpzTable,
    }
    try:
        return readers[kind](path)
    except PermissionError as error:
        raise CliError(f"cannot read {path}: permission denied") from error
    except IsADirectoryError as error:  # pragma: no cover - checked above
        raise CliError(f"{path} is a directory") from error


class Table:
    """A file of named numeric columns, read as chunks of rows (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self.columns: list[str] = []

    def row_count(self, names: Sequence[str]) -> int | None:
        """The number of rows of these columns when the file says it without being read, else None."""
        return None

    def chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        """Chunks of the columns ``names`` (distinct, existing): float64 arrays ``(rows, len(names))``."""
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
                f"column {show_value(name)} appears {len(matches)} times in {self.path}; rename one of them"
            )
        return matches[0]


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


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


def _line_ends(data: bytes) -> int:
    """Line ends in ``data`` as universal newlines count them (``\n``, ``\r\n`` or a lone ``\r``)."""
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


class CsvTable(Table):
    """A CSV file (``.csv``, or gzip-compressed ``.csv.gz``) with a header row of column names.

    Read in blocks of :data:`_BLOCK_BYTES` cut at a line end. A block is parsed by pyarrow's CSV
    reader (files of at least :data:`_ARROW_MIN_BYTES`, with pyarrow installed: several times
    faster), else by ``numpy.loadtxt``; a block either rejects (a word, a ragged line, a number
    written in a way it does not take, such as ``" 3 "`` or ``1_000``) is parsed again by the exact
    line-by-line parser, which accepts what Python's ``float`` accepts and names the row and column
    of anything else. The three agree on every value they all accept (tests/test_cli_csv.py).
    """

    def __init__(self, path: Path):
        super().__init__(path)
        self._size = path.stat().st_size
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            compressed = path.name.lower().endswith(".gz")
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb") if compressed else self._raw
            self._pending = b""
            with _reading_text(path):
                header = self._first_line().decode("utf-8-sig")
            if not header.strip():
                raise CliError(f"{path} is empty: a CSV file needs a header row of column names")
            self.columns = [name.strip() for name in next(csv.reader([header]))]
            if all(_is_number(name) for name in self.columns):
                raise CliError(
                    f"the first line of {path} holds numbers, not column names: a CSV file needs a header row"
                )
        except BaseException:
            self._raw.close()
            raise
        self._arrow = _import_arrow_csv() if self._size >= _ARROW_MIN_BYTES else None
        self._line = 1  # lines read so far, the header included
        self._rows = 0  # data rows yielded so far

    def _first_line(self) -> bytes:
        """The header line's bytes (its line end removed); what follows stays in ``_pending``."""
        data = b""
        while True:
            chunk = self._stream.read(1 << 16)
            data += chunk
            ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
            if ends and (min(ends) < len(data) - 1 or not chunk):
                end = min(ends)
                stop = end + 2 if data[end : end + 2] == b"\r\n" else end + 1
                self._pending = data[stop:]
                return data[:end]
            if not chunk:
                return data

    def _next_block(self) -> bytes:
        """The next bytes up to and including the last line end of a read (the rest at the end of
        the file; ``b""`` once everything is read). A ``\r`` that ends a read waits for the next
        one, which may start with the ``\n`` of the same line end."""
        data = self._pending
        while True:
            chunk = self._stream.read(_BLOCK_BYTES)
            if not chunk:
                self._pending = b""
                return data
            data += chunk
            searchable = data[:-1] if data.endswith(b"\r") else data
            cut = max(searchable.rfind(b"\n"), searchable.rfind(b"\r"))
            if cut >= 0:
                self._pending = data[cut + 1 :]
                return data[: cut + 1]

    def chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        indices = [self._index(name) for name in names]
        while True:
            with _reading_text(self.path):
                block = self._next_block()
                if not block:
                    return
                if not block.isascii():
                    block.decode("utf-8")  # a CliError for bytes that are not UTF-8 text
            first_line = self._line + 1
            self._line += _line_ends(block) + (not block.endswith((b"\n", b"\r")))
            values = self._parse_block(block, indices, first_line)
            self._rows += len(values)
            for start in range(0, len(values), chunk_rows):
                yield values[start : start + chunk_rows]

    def _parse_block(self, block: bytes, indices: list[int], first_line: int) -> np.ndarray:
        if self._arrow is not None:
            values = _arrow_values(*self._arrow, block, len(self.columns), indices)
            if values is not None:
                return values
        return self._parse(_text_lines(block), indices, first_line)

    def _parse(self, lines: list[str], indices: list[int], first_line: int) -> np.ndarray:
        """The selected columns of a batch of lines: numpy's parser, or the exact one if it fails."""
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
        if values is not None and (values.shape[1] == len(self.columns) or not len(values)):
            return values[:, indices] if len(values) else np.empty((0, len(indices)))
        return self._parse_exactly(lines, indices, first_line)

    def _parse_exactly(self, lines: list[str], indices: list[int], first_line: int) -> np.ndarray:
        """Line by line with the ``csv`` module: blank lines skipped, empty fields NaN, and a
        CliError naming the line, row and column of anything else that is not a number."""
        values = np.empty((len(lines), len(indices)), dtype=np.float64)
        count = 0
        for offset, text_line in enumerate(lines):
            if not text_line.strip():
                continue  # a blank line
            line = first_line + offset
            try:
                record = next(csv.reader([text_line]))
            except csv.Error as error:
                raise CliError(f"line {line} of {self.path} is not valid CSV: {error}") from None
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
                        f"non-numeric value {_short(text)} in column {show_value(self.columns[index])} "
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
    """The columns ``indices`` of a block of CSV lines (``count`` fields each) parsed by pyarrow, or
    None where it rejects the block. Only empty fields are missing values (pyarrow's default list
    also takes ``NA``, ``null``...: words that the exact parser reports)."""
    names = [f"c{i}" for i in range(count)]
    wanted = sorted(set(indices))
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(block),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=",", quote_char='"', ignore_empty_lines=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={names[i]: pa.float64() for i in wanted},
                include_columns=[names[i] for i in wanted],
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    columns = {i: table.column(names[i]).to_numpy() for i in wanted}
    values = np.empty((table.num_rows, len(indices)), dtype=np.float64)
    for position, index in enumerate(indices):
        values[:, position] = columns[index]
    return values


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
                raise CliError(f"column {show_value(name)} of {self.path} holds {kind} values, not numbers")

    def chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        for name in names:
            self._index(name)
        self._check_numeric(names)
        pa = self._pa
        try:
            for batch in self._file.iter_batches(batch_size=chunk_rows, columns=list(names)):
                columns = [
                    pa.compute.cast(batch.column(name), pa.float64(), safe=False).to_numpy(
                        zero_copy_only=False
                    )
                    for name in names
                ]
                self._done += batch.num_rows
                if batch.num_rows:
                    yield np.stack(columns, axis=1).astype(np.float64, copy=False)
        except (pa.ArrowException, OSError) as error:
            raise CliError(
                f"cannot read {self.path} (truncated or corrupt Parquet file?): {error}"
            ) from error

    def fraction_read(self) -> float | None:
        return self._done / self._total if self._total else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._file.close()


# ----------------------------------------------------------------------------------- NPY and NPZ


def _read_npy_header(stream, where: str) -> tuple[tuple, bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the NPY header at the start of ``stream``."""
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise CliError(
                f"{where} is NPY format version {version[0]}.{version[1]}; regloss reads versions 1.0 and 2.0"
            )
    except CliError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise CliError(f"{where} is not a readable NPY array (truncated or corrupt?): {error}") from error
    if dtype.hasobject:
        raise CliError(
            f"{where} holds Python objects (a pickled array); regloss reads numeric arrays only "
            "and never loads pickles"
        )
    return shape, fortran, dtype


def _check_numeric_dtype(dtype: np.dtype, column: str, where: str) -> None:
    if dtype.kind not in _NUMERIC_KINDS or dtype.shape:
        raise CliError(
            f"column {show_value(column)} of {where} has dtype {dtype}, not a numeric scalar dtype"
        )


class NpyTable(Table):
    """A ``.npy`` array, memory-mapped: 1-D (``c0``), 2-D (``c0`` .. ``c{k-1}``) or structured."""

    def __init__(self, path: Path):
        super().__init__(path)
        with open(path, "rb") as stream:
            shape, fortran, dtype = _read_npy_header(stream, str(path))
            offset = stream.tell()
        if dtype.names is not None:
            if len(shape) != 1:
                raise CliError(f"{path} is a structured array of shape {shape}; regloss reads 1-D ones")
            self.columns = list(dtype.names)
        elif len(shape) == 1:
            self.columns = ["c0"]
        elif len(shape) == 2:
            self.columns = [f"c{i}" for i in range(shape[1])]
        else:
            raise CliError(f"{path} holds an array of shape {shape}; regloss reads 1-D and 2-D arrays")
        expected = offset + math.prod(shape) * dtype.itemsize
        size = path.stat().st_size
        if size < expected:
            raise CliError(f"{path} is truncated: its header announces {expected} bytes, the file has {size}")
        self._shape, self._dtype, self._offset, self._fortran = shape, dtype, offset, fortran
        self._array = None
        self._map = None
        self._done = 0

    def row_count(self, names: Sequence[str]) -> int | None:
        return self._shape[0]

    def _open_map(self) -> np.ndarray:
        if self._array is None:
            with open(self.path, "rb") as stream:
                self._map = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
            self._array = np.ndarray(
                self._shape,
                dtype=self._dtype,
                buffer=self._map,
                offset=self._offset,
                order="F" if self._fortran else "C",
            )
        return self._array

    def chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        for name in names:
            self._index(name)
            if self._dtype.names is not None:
                _check_numeric_dtype(self._dtype[name], name, str(self.path))
        if self._dtype.names is None:
            _check_numeric_dtype(self._dtype, names[0] if names else "c0", str(self.path))
        rows = self._shape[0]
        if rows == 0:
            return
        array = self._open_map()
        for start in range(0, rows, chunk_rows):
            stop = min(start + chunk_rows, rows)
            block = array[start:stop]
            if self._dtype.names is not None:
                values = np.stack([block[name].astype(np.float64) for name in names], axis=1)
            elif array.ndim == 1:
                values = block.astype(np.float64)[:, None]
            else:
                values = block[:, [self.columns.index(name) for name in names]].astype(np.float64)
            self._release(start, stop)
            self._done = stop
            yield values

    def _release(self, start: int, stop: int) -> None:
        """Drop the mapped pages of rows ``start:stop`` from this process (they stay in the page
        cache), so that the resident memory does not grow with the file."""
        if self._map is None or not hasattr(self._map, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
            return
        itemsize = self._dtype.itemsize
        if self._fortran and len(self._shape) == 2:
            column_bytes = self._shape[0] * itemsize
            ranges = [
                (self._offset + j * column_bytes + start * itemsize, (stop - start) * itemsize)
                for j in range(self._shape[1])
            ]
        else:
            row_bytes = itemsize * (self._shape[1] if len(self._shape) == 2 else 1)
            ranges = [(self._offset + start * row_bytes, (stop - start) * row_bytes)]
        for begin, length in ranges:
            aligned = begin - begin % mmap.PAGESIZE
            with contextlib.suppress(OSError, ValueError):
                self._map.madvise(mmap.MADV_DONTNEED, aligned, length + begin - aligned)

    def fraction_read(self) -> float | None:
        return self._done / self._shape[0] if self._shape[0] else None

    def close(self) -> None:
        self._array = None
        if self._map is not None:
            with contextlib.suppress(BufferError):
                self._map.close()
            self._map = None


class NpzTable(Table):
    """A ``.npz`` archive: each member (1-D, or ``(n, 1)``) is a column named after the member."""

    def __init__(self, path: Path):
        super().__init__(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise CliError(
                f"{path} is not a readable .npz archive (truncated or corrupt?): {error}"
            ) from error
        try:
            self._members: dict[str, tuple[str, int, np.dtype]] = {}
            for info in self._zip.infolist():
                if info.is_dir() or not info.filename.endswith(".npy"):
                    continue
                column = info.filename[: -len(".npy")]
                where = f"member {show_value(column)} of {path}"
                with self._open_member(info.filename, where) as stream:
                    shape, _, dtype = _read_npy_header(stream, where)
                if dtype.names is not None or not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
                    kind = "a structured array" if dtype.names is not None else f"an array of shape {shape}"
                    raise CliError(f"{where} is {kind}; each member of an .npz file must be one column (1-D)")
                self._members[column] = (info.filename, shape[0], dtype)
        except BaseException:
            self._zip.close()
            raise
        if not self._members:
            self._zip.close()
            raise CliError(f"{path} is empty: it holds no .npy arrays")
        self.columns = list(self._members)
        self._done = 0
        self._total = None

    def _open_member(self, filename: str, where: str):
        try:
            return self._zip.open(filename)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as error:
            raise CliError(f"cannot read {where} (truncated or corrupt?): {error}") from error

    def row_count(self, names: Sequence[str]) -> int | None:
        lengths = {name: self._members[name][1] for name in names}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{show_value(name)} has {rows}" for name, rows in lengths.items())
            raise CliError(f"the columns of {self.path} differ in length: {shown} rows")
        return next(iter(lengths.values()), None)

    def chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        for name in names:
            _check_numeric_dtype(self._members[name][2], name, str(self.path))
        rows = self.row_count(names) or 0
        self._total = rows
        streams = []
        try:
            for name in names:
                where = f"member {show_value(name)} of {self.path}"
                stream = self._open_member(self._members[name][0], where)
                streams.append(stream)
                _read_npy_header(stream, where)
            for start in range(0, rows, chunk_rows):
                count = min(chunk_rows, rows - start)
                columns = [
                    self._read_values(stream, name, count)
                    for stream, name in zip(streams, names, strict=True)
                ]
                self._done = start + count
                yield np.stack(columns, axis=1)
        finally:
            for stream in streams:
                stream.close()

    def _read_values(self, stream, name: str, count: int) -> np.ndarray:
        dtype = self._members[name][2]
        where = f"member {show_value(name)} of {self.path}"
        try:
            data = stream.read(count * dtype.itemsize)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
            raise CliError(f"cannot read {where} (truncated or corrupt?): {error}") from error
        if len(data) != count * dtype.itemsize:
            raise CliError(f"{where} is truncated: it ends before the rows its header announces")
        return np.frombuffer(data, dtype=dtype).astype(np.float64)

    def fraction_read(self) -> float | None:
        return self._done / self._total if self._total else None

    def close(self) -> None:
        self._zip.close()
