"""NPY and NPZ files as tables of columns, with every declared size checked before use.

An NPY header declares a shape and a dtype; the array's data takes ``prod(shape) * itemsize``
bytes (a Python integer: it cannot overflow). That number must equal the bytes that follow the
header (in the file, or in the archive member once decompressed) before anything is built from
the shape: a 128-byte file declaring ``(2**62, 2**62)`` is an error at once, not a list of 2**62
column names. Pickled (object) arrays are never loaded.

An NPZ archive is a zip file: each member ``NAME.npy`` (1-D, or ``(n, 1)``) is the column
``NAME``. Two members of the same name, encrypted members and compression methods that
:mod:`zipfile` cannot read are errors, and so is any failure to read a member (truncated data, a
CRC mismatch, a corrupt compressed stream).
"""

from __future__ import annotations

import contextlib
import math
import mmap
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from .errors import CliError, short_repr
from .table import Table

try:
    import bz2
except ImportError:  # pragma: no cover - a Python built without bz2
    bz2 = None
try:
    import lzma
except ImportError:  # pragma: no cover - a Python built without lzma
    lzma = None

_NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats

_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # bz2's "Invalid data stream" too
    EOFError,
    ValueError,
    RuntimeError,  # zipfile: a member needing a password or a missing decompression module
    NotImplementedError,  # zipfile: an unknown compression method
    zipfile.BadZipFile,  # a CRC mismatch, a local header that disagrees with the directory...
    zlib.error,
) + ((lzma.LZMAError,) if lzma is not None else ())
"""What reading an NPY header or an archive member can raise on a corrupt file."""

_COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
if bz2 is not None:
    _COMPRESSIONS[zipfile.ZIP_BZIP2] = "bzip2"
if lzma is not None:
    _COMPRESSIONS[zipfile.ZIP_LZMA] = "lzma"

_ENCRYPTED = 0x1  # the zip "encrypted" flag bit (0x40, strong encryption, comes with it)


class _Counted:
    """A stream that counts the bytes read through it (the length of an NPY header)."""

    def __init__(self, stream):
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data


def read_header(stream, where: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, header_bytes)`` of the NPY header at the start of ``stream``."""
    counted = _Counted(stream)
    try:
        version = npy_format.read_magic(counted)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(counted)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(counted)
        else:
            raise CliError(
                f"{where} is NPY format version {version[0]}.{version[1]}; regloss reads versions 1.0 and 2.0"
            )
    except CliError:
        raise
    except _READ_ERRORS as error:
        raise CliError(f"{where} is not a readable NPY array (truncated or corrupt?): {error}") from error
    if dtype.hasobject:
        raise CliError(
            f"{where} holds Python objects (a pickled array); regloss reads numeric arrays only "
            "and never loads pickles"
        )
    return shape, fortran, dtype, counted.count


def _shape_text(shape: tuple[int, ...]) -> str:
    text = str(shape)
    return text if len(text) <= 80 else text[:77] + "..."


def _bytes_text(count: int) -> str:
    return f"{count:,} bytes" if count < 10**30 else "more than 10**30 bytes"


def check_data_size(shape: tuple[int, ...], dtype: np.dtype, available: int, where: str) -> None:
    """A CliError unless ``prod(shape) * dtype.itemsize == available`` (the bytes after the header).

    Checked before anything is built from the shape, in Python integers (no overflow)."""
    if any(length < 0 for length in shape):
        raise CliError(f"{where} declares the shape {_shape_text(shape)}, with a negative length")
    needed = math.prod(shape) * dtype.itemsize
    if needed > available:
        raise CliError(
            f"{where} is truncated: its header declares shape {_shape_text(shape)} of {dtype}, "
            f"{_bytes_text(needed)} of data, and it holds {_bytes_text(available)}"
        )
    if needed < available:
        raise CliError(
            f"{where} holds {_bytes_text(available)} of data but its header declares shape "
            f"{_shape_text(shape)} of {dtype}, {_bytes_text(needed)} (a corrupt header?)"
        )


def check_numeric_dtype(dtype: np.dtype, column: str, where: str) -> None:
    if dtype.kind not in _NUMERIC_KINDS or dtype.shape:
        raise CliError(
            f"column {short_repr(column)} of {where} has dtype {dtype}, not a numeric scalar dtype"
        )


class NpyTable(Table):
    """A ``.npy`` array, memory-mapped: 1-D (``c0``), 2-D (``c0`` .. ``c{k-1}``) or structured."""

    def __init__(self, path: Path):
        super().__init__(path)
        where = str(path)
        with open(path, "rb") as stream:
            shape, fortran, dtype, offset = read_header(stream, where)
            size = path.stat().st_size
        if len(shape) not in (1, 2):
            raise CliError(
                f"{path} holds an array of shape {_shape_text(shape)}; regloss reads 1-D and 2-D arrays"
            )
        if dtype.names is not None and len(shape) != 1:
            raise CliError(
                f"{path} is a structured array of shape {_shape_text(shape)}; regloss reads 1-D ones"
            )
        if dtype.names is None:
            check_numeric_dtype(dtype, "c0", where)  # every column has this dtype; itemsize >= 1
        check_data_size(shape, dtype, size - offset, where)
        if shape[0] == 0:  # (0, k): k is bounded by nothing in the file
            raise CliError(f"{path} has no data rows (shape {_shape_text(shape)})")
        if dtype.names is not None:
            self.columns = list(dtype.names)
        else:
            self.columns = ["c0"] if len(shape) == 1 else [f"c{i}" for i in range(shape[1])]
        self._shape, self._dtype, self._offset, self._fortran = shape, dtype, offset, fortran
        self._array = None
        self._map = None
        self._done = 0

    def row_count(self, names: Sequence[str]) -> int | None:
        return self._shape[0]

    def key_dtype(self, name: str) -> np.dtype | None:
        return self._dtype[name] if self._dtype.names is not None else self._dtype

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

    def _chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        for name in names:
            self._index(name)
            if self._dtype.names is not None:
                check_numeric_dtype(self._dtype[name], name, str(self.path))
        rows = self._shape[0]
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


def _npy_members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """The ``.npy`` members by column name: a CliError for a name used twice, an encrypted member
    or a compression method that cannot be read."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.is_dir() or not info.filename.endswith(".npy"):
            continue
        column = info.filename[: -len(".npy")]
        where = f"member {short_repr(column)} of {path}"
        if column in members:
            raise CliError(
                f"{path} holds two members named {short_repr(info.filename)}: which one is the column "
                f"{short_repr(column)} is ambiguous (numpy.load would silently take the last)"
            )
        if info.flag_bits & _ENCRYPTED:
            raise CliError(f"{where} is encrypted; regloss reads archives without a password only")
        if info.compress_type not in _COMPRESSIONS:
            raise CliError(
                f"{where} is compressed with zip method {info.compress_type}, which regloss cannot read "
                f"(it reads {', '.join(_COMPRESSIONS.values())})"
            )
        members[column] = info
    return members


class NpzTable(Table):
    """A ``.npz`` archive: each member (1-D, or ``(n, 1)``) is a column named after the member."""

    def __init__(self, path: Path):
        super().__init__(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except _READ_ERRORS as error:
            raise CliError(
                f"{path} is not a readable .npz archive (truncated or corrupt?): {error}"
            ) from error
        try:
            self._members: dict[str, tuple[zipfile.ZipInfo, int, np.dtype]] = {}
            for column, info in _npy_members(self._zip, path).items():
                where = f"member {short_repr(column)} of {path}"
                with self._open_member(info, where) as stream:
                    shape, _, dtype, header_bytes = read_header(stream, where)
                if dtype.names is not None or not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
                    kind = (
                        "a structured array"
                        if dtype.names is not None
                        else f"an array of shape {_shape_text(shape)}"
                    )
                    raise CliError(f"{where} is {kind}; each member of an .npz file must be one column (1-D)")
                check_data_size(shape, dtype, info.file_size - header_bytes, where)
                self._members[column] = (info, shape[0], dtype)
        except BaseException:
            self._zip.close()
            raise
        if not self._members:
            self._zip.close()
            raise CliError(f"{path} is empty: it holds no .npy arrays")
        self.columns = list(self._members)
        self._done = 0
        self._total = None

    def _open_member(self, info: zipfile.ZipInfo, where: str):
        try:
            return self._zip.open(info)
        except _READ_ERRORS as error:
            raise CliError(f"cannot read {where} (truncated or corrupt?): {error}") from error

    def key_dtype(self, name: str) -> np.dtype | None:
        return self._members[name][2]

    def row_count(self, names: Sequence[str]) -> int | None:
        lengths = {name: self._members[name][1] for name in names}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{short_repr(name)} has {rows}" for name, rows in lengths.items())
            raise CliError(f"the columns of {self.path} differ in length: {shown} rows")
        return next(iter(lengths.values()), None)

    def _chunks(self, names: Sequence[str], chunk_rows: int) -> Iterator[np.ndarray]:
        for name in names:
            check_numeric_dtype(self._members[name][2], name, str(self.path))
        rows = self.row_count(names) or 0
        self._total = rows
        streams = []
        try:
            for name in names:
                where = f"member {short_repr(name)} of {self.path}"
                stream = self._open_member(self._members[name][0], where)
                streams.append(stream)
                read_header(stream, where)
            for start in range(0, rows, chunk_rows):
                count = min(chunk_rows, rows - start)
                columns = [
                    self._read_values(stream, name, count)
                    for stream, name in zip(streams, names, strict=True)
                ]
                if start + count == rows:
                    for stream, name in zip(streams, names, strict=True):
                        self._read_values(stream, name, 0, last=True)
                self._done = start + count
                yield np.stack(columns, axis=1)
        finally:
            for stream in streams:
                stream.close()

    def _read_values(self, stream, name: str, count: int, last: bool = False) -> np.ndarray:
        """The next ``count`` values of member ``name``; with ``last``, a read past its end, which
        makes :mod:`zipfile` check the member's CRC."""
        dtype = self._members[name][2]
        where = f"member {short_repr(name)} of {self.path}"
        wanted = count * dtype.itemsize + last
        try:
            data = stream.read(wanted)
        except _READ_ERRORS as error:
            raise CliError(f"cannot read {where} (truncated or corrupt?): {error}") from error
        if len(data) < count * dtype.itemsize:
            raise CliError(f"{where} is truncated: it ends before the rows its header announces")
        if len(data) > count * dtype.itemsize:
            raise CliError(f"{where} holds more data than its header announces (a corrupt archive?)")
        return np.frombuffer(data, dtype=dtype).astype(np.float64)

    def fraction_read(self) -> float | None:
        return self._done / self._total if self._total else None

    def close(self) -> None:
        self._zip.close()
