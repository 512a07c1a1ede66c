"""``regloss evaluate`` on hostile input files (issue 20, items 2, 4, 5, 8, 9 and 17): every one is
exit status 2 with one line on stderr, no traceback and nothing written (an existing ``--output``
left as it was), or a correct report, in bounded memory and time.

Each command runs in a subprocess under an address-space limit (``resource.setrlimit``) and a
timeout, so that a regression that allocates without bound fails here instead of hanging. Values
are checked against float64 NumPy computed here from the data written.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import resource
import stat
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="address-space limits and /dev/zero: Linux")

HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None
needs_pyarrow = pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow is not installed")

ADDRESS_SPACE = 1536 * 2**20  # 1.5 GiB: Python, NumPy and a few blocks of 8 MiB fit many times over
TIMEOUT = 120
OLD_REPORT = "the old report\n"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_cli(*args, cwd: Path | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """``python -m regloss evaluate ARGS`` under the address-space limit and a timeout."""
    # one BLAS thread, and pyarrow's memory from malloc: jemalloc and mimalloc reserve address space
    # up front and fail under a limit that the memory in use stays far below
    environment = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "ARROW_DEFAULT_MEMORY_POOL": "system",
    }
    environment.pop("REGLOSS_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "regloss", "evaluate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=cwd,
        preexec_fn=_limit_memory,
        check=False,
    )


def assert_refused(path_args, tmp_path: Path, *fragments: str, timeout: float = TIMEOUT) -> str:
    """Exit status 2, one ``regloss: error:`` line holding ``fragments``, no traceback, nothing on
    stdout, and ``--output`` (which held an old report) unchanged, no temporary file left."""
    output = tmp_path / "report.json"
    output.write_text(OLD_REPORT)
    result = run_cli(*path_args, "--output", output, "--format", "json", timeout=timeout)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("regloss: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert output.read_text() == OLD_REPORT
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    return lines[0]


def ok_json(*args, timeout: float = TIMEOUT) -> dict:
    result = run_cli(*args, "--format", "json", "--metrics", "mse,mae", timeout=timeout)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def reference(t, p) -> dict:
    """MSE and MAE in float64 from their definitions."""
    e = np.asarray(p, np.float64) - np.asarray(t, np.float64)
    return {"mse": float(np.mean(e**2)), "mae": float(np.mean(np.abs(e)))}


def assert_metrics(report: dict, t, p) -> None:
    expected = reference(t, p)
    assert report["rows"] == len(t)
    for name, value in expected.items():
        np.testing.assert_allclose(report["metrics"][name]["value"], value, rtol=1e-12, atol=0)


def npy_header(shape, descr: str = "<f8", fortran: bool = False, version: int = 1) -> bytes:
    """An NPY header written here byte by byte (numpy refuses to write the hostile ones)."""
    text = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {tuple(shape)!r}, }}"
    prefix = 10 if version == 1 else 12
    text += " " * (64 - (prefix + len(text) + 1) % 64) + "\n"
    length = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text.encode("latin1")


def gzip_member(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


# ------------------------------------------------------------------ item 2: quotes in large CSV files

LARGE_ROWS = 450_000  # about 16 MB: parsed by pyarrow, in blocks of 8 MiB


def _large_rows():
    index = np.arange(LARGE_ROWS)
    t = (index % 9973) / 7.0
    p = ((index * 7) % 8923) / 3.0
    return t, p


def _write_large(path: Path, replace: dict[int, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    t, p = _large_rows()
    lines = [f"{a!r},{b!r}" for a, b in zip(t.tolist(), p.tolist(), strict=True)]
    for row, text in (replace or {}).items():
        lines[row] = text
    path.write_text("y_true,y_pred\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size >= 1 << 23
    return t, p


def _block_start_row(path: Path) -> int:
    """The 0-based data row that starts the second 8 MiB block (the first line after the last line
    end of the first 8 MiB)."""
    with open(path, "rb") as stream:
        first = stream.read(1 << 23)
    return first.count(b"\n") - 1  # the header's line end is the first


@needs_pyarrow
@pytest.mark.parametrize("where", ["middle", "first row", "block end", "block start", "last row"])
def test_an_unmatched_quote_in_a_large_csv_names_its_line(tmp_path, where):
    path = tmp_path / "large.csv"
    _write_large(path)
    rows = {
        "middle": 200_000,
        "first row": 0,
        "block end": _block_start_row(path) - 1,
        "block start": _block_start_row(path),
        "last row": LARGE_ROWS - 1,
    }
    row = rows[where]
    _write_large(path, {row: '1.0,"2.0'})
    assert_refused([path], tmp_path, f"line {row + 2} of", "unmatched quote")


@needs_pyarrow
def test_a_large_csv_without_a_final_line_end_and_a_quote_open_on_its_last_line(tmp_path):
    path = tmp_path / "large.csv"
    _write_large(path)
    path.write_bytes(path.read_bytes().rstrip(b"\n") + b',"7')
    assert_refused([path], tmp_path, f"line {LARGE_ROWS + 1} of", "unmatched quote")


@needs_pyarrow
@pytest.mark.parametrize("size", ["small", "large"])
def test_quoted_numbers_are_numbers_in_small_and_large_files(tmp_path, size):
    path = tmp_path / f"{size}.csv"
    t, p = _large_rows()
    if size == "small":
        t, p = t[:1000], p[:1000]
    lines = [f"{a!r},{b!r}" for a, b in zip(t.tolist(), p.tolist(), strict=True)]
    quoted = {0: '"{}","{}"', 5: '{}," {} "', len(t) - 1: '"{}",{}'}
    for row, text in quoted.items():
        lines[row] = text.format(repr(float(t[row])), repr(float(p[row])))
    path.write_text('"y_true","y_pred"\n' + "\n".join(lines) + "\n", encoding="utf-8")
    assert_metrics(ok_json(path), t, p)


@needs_pyarrow
@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        ('"4"5,1', ["not valid CSV"]),
        ('"4" ,1', ["not valid CSV"]),
        ('4,"1', ["unmatched quote"]),
        ('"4,1', ["unmatched quote"]),
        ('4"5,1', ["non-numeric value", "column 'y_true'"]),
        (' "4",1', ["non-numeric value", "column 'y_true'"]),
    ],
)
def test_odd_quoting_is_the_same_error_in_small_and_large_files(tmp_path, size, line, fragments):
    path = tmp_path / f"{size}.csv"
    row = 300
    if size == "large":
        _write_large(path, {row: line})
    else:
        path.write_text("y_true,y_pred\n" + "1,2\n" * row + line + "\n" + "3,4\n" * 5, encoding="utf-8")
    assert_refused([path], tmp_path, f"line {row + 2}", *fragments)


@pytest.mark.parametrize(
    ("header", "fragments"),
    [
        ('"y_true,y_pred', ["line 1 of", "unmatched quote"]),
        ('"y_true"x,y_pred', ["line 1 of", "not valid CSV"]),
    ],
)
def test_quotes_in_the_header(tmp_path, header, fragments):
    path = tmp_path / "header.csv"
    path.write_text(header + "\n1,2\n3,4\n", encoding="utf-8")
    assert_refused([path], tmp_path, *fragments)


def test_quoted_column_names_with_commas_are_names(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text('"id, of row","y_true","y_pred"\n"a, b",1,2.5\nc,3,3\n', encoding="utf-8")
    assert_metrics(ok_json(path), [1.0, 3.0], [2.5, 3.0])


# ---------------------------------------------------------- item 4: declared shapes against file sizes

HUGE = 2**62


def _npy_cases(directory: Path) -> dict:
    """name -> (file bytes, fragments of the error)."""
    eight = np.arange(8.0).tobytes()
    return {
        "huge 2-D": (
            npy_header((HUGE, HUGE)),
            ["is truncated", "(4611686018427387904, 4611686018427387904)"],
        ),
        "huge 1-D": (npy_header((HUGE,)) + eight, ["is truncated"]),
        "huge columns, no rows": (npy_header((0, HUGE)), ["no data rows"]),
        "huge, version 2.0": (npy_header((HUGE, 2), version=2), ["is truncated"]),
        "shape times itemsize beyond int64": (npy_header((2**32, 2**32), "<i8"), ["is truncated"]),
        "fortran order": (npy_header((2**40, 3), fortran=True) + eight, ["is truncated"]),
        "negative length": (npy_header((-1, 2)) + eight * 2, ["negative length"]),
        "smaller than declared": (npy_header((5, 2)) + eight, ["is truncated", "80 bytes", "64 bytes"]),
        "larger than declared": (npy_header((4,)) + eight, ["64 bytes of data", "32 bytes"]),
        "object dtype": (npy_header((HUGE,), "|O") + eight, ["Python objects"]),
        "empty dtype": (npy_header((1, HUGE), "|S0"), ["not a numeric scalar dtype"]),
        "three dimensions": (npy_header((HUGE, HUGE, HUGE)), ["1-D and 2-D"]),
    }


@pytest.mark.parametrize("name", list(_npy_cases(Path("."))))
def test_an_npy_header_that_the_file_cannot_hold_is_refused_at_once(tmp_path, name):
    data, fragments = _npy_cases(tmp_path)[name]
    path = tmp_path / "hostile.npy"
    path.write_bytes(data)
    # a small timeout: the check is done before anything is built from the shape
    assert_refused(
        [path, "--y-true", "c0", "--y-pred", "c0"], tmp_path, "hostile.npy", *fragments, timeout=60
    )


def test_a_valid_fortran_order_npy_is_read(tmp_path):
    rng = np.random.default_rng(2)
    values = np.asfortranarray(rng.normal(size=(1000, 3)))
    np.save(tmp_path / "f.npy", values)
    report = ok_json(tmp_path / "f.npy", "--y-true", "c0", "--y-pred", "c2", "--chunk-rows", "77")
    assert_metrics(report, values[:, 0], values[:, 2])


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize(
    ("member", "fragments"),
    [
        (npy_header((HUGE,)), ["member 'y_true'", "is truncated"]),
        (npy_header((HUGE, 1)) + b"\0" * 64, ["member 'y_true'", "is truncated"]),
        (npy_header((10,)) + b"\0" * 40, ["member 'y_true'", "is truncated"]),
        (npy_header((2,)) + b"\0" * 40, ["member 'y_true'", "40 bytes of data", "16 bytes"]),
        (npy_header((HUGE,), "|O"), ["member 'y_true'", "Python objects"]),
    ],
)
def test_an_npz_member_declaring_more_than_it_holds_is_refused(tmp_path, compression, member, fragments):
    path = tmp_path / "hostile.npz"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("y_true.npy", member)
        archive.writestr("y_pred.npy", npy_header((5,)) + np.arange(5.0).tobytes())
    assert_refused([path], tmp_path, "hostile.npz", *fragments, timeout=60)


# ------------------------------------------------------------- item 5: long lines, pipes and devices


def test_a_gzip_of_2_gib_without_a_line_end_is_an_error_in_bounded_memory(tmp_path):
    """Gzip members concatenated (one gzip stream to readers): the header, then 2 GiB of zeros
    with no line end, from a file of a few MB; refused after 32 MiB under the 1.5 GiB limit."""
    zeros = gzip_member(b"0" * (16 << 20))
    path = tmp_path / "zeros.csv.gz"
    with open(path, "wb") as stream:
        stream.write(gzip_member(b"y_true,y_pred\n1,"))
        for _ in range(128):
            stream.write(zeros)
    assert path.stat().st_size < 8 << 20
    assert_refused(
        [path, "--max-line-bytes", 32 << 20], tmp_path, "line 2 of", "longer than 33554432 bytes", timeout=60
    )


def test_a_header_without_a_line_end_is_an_error_in_bounded_memory(tmp_path):
    path = tmp_path / "header.csv.gz"
    with open(path, "wb") as stream:
        zeros = gzip_member(b"y" * (16 << 20))
        for _ in range(64):  # 1 GiB of header
            stream.write(zeros)
    assert_refused([path], tmp_path, "line 1 of", "longer than 16777216 bytes", timeout=60)


def test_dev_zero_as_a_csv_file_is_an_error(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    assert_refused([tmp_path / "zero.csv"], tmp_path, "line 1 of", "zero.csv", "longer than", timeout=60)
    assert_refused(
        [tmp_path / "zero.csv", "--max-line-bytes", 1000], tmp_path, "line 1 of", "longer than 1000 bytes"
    )


@pytest.mark.parametrize("suffix", [".npy", ".npz", pytest.param(".parquet", marks=needs_pyarrow)])
def test_devices_and_pipes_are_refused_for_formats_read_at_random_places(tmp_path, suffix):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    (tmp_path / f"zero{suffix}").symlink_to("/dev/zero")
    assert_refused([tmp_path / f"zero{suffix}"], tmp_path, "is a device", "not a regular file")
    os.mkfifo(tmp_path / f"pipe{suffix}")  # nobody writes to it: opening it would hang
    assert_refused([tmp_path / f"pipe{suffix}"], tmp_path, "is a pipe", "not a regular file", timeout=60)


@pytest.mark.parametrize("compressed", [False, True])
def test_a_csv_pipe_is_read_as_a_stream(tmp_path, compressed):
    rng = np.random.default_rng(9)
    t, p = rng.normal(size=3000), rng.normal(size=3000)
    text = "y_true,y_pred\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(t.tolist(), p.tolist(), strict=True))
    data = gzip.compress(text.encode()) if compressed else text.encode()
    pipe = tmp_path / ("pipe.csv.gz" if compressed else "pipe.csv")
    os.mkfifo(pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)

    def write() -> None:
        with open(pipe, "wb") as stream:
            stream.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    report = ok_json(pipe, "--chunk-rows", "500", timeout=60)
    writer.join(timeout=10)
    assert_metrics(report, t, p)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_the_line_bound_is_exact_and_names_the_line(tmp_path, ending):
    bound = 20
    ok_line, long_line = "1," + "0" * (bound - 2), "2," + "0" * (bound - 1)  # 20 and 21 bytes
    path = tmp_path / "lines.csv"
    path.write_text(ending.join(["y_true,y_pred", "3,4", ok_line, "", long_line, "5,6"]) + ending, newline="")
    assert_refused([path, "--max-line-bytes", bound], tmp_path, "line 5 of", f"longer than {bound} bytes")
    report = ok_json(path, "--max-line-bytes", bound + 1)
    assert_metrics(report, [3.0, 1.0, 2.0, 5.0], [4.0, 0.0, 0.0, 6.0])


def test_a_long_last_line_without_a_line_end(tmp_path):
    path = tmp_path / "last.csv"
    path.write_text("y_true,y_pred\n1,2\n3," + "4" * 5000)
    assert_refused([path, "--max-line-bytes", 4096], tmp_path, "line 3 of", "longer than 4096 bytes")


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5"])
def test_a_bad_max_line_bytes_is_a_usage_error(tmp_path, value):
    path = tmp_path / "d.csv"
    path.write_text("y_true,y_pred\n1,2\n")
    assert_refused([path, "--max-line-bytes", value], tmp_path, "--max-line-bytes", repr(value))


# ------------------------------------------------------------------- item 8: odd zip archives


def _npz(path: Path, compression=zipfile.ZIP_STORED, rows: int = 5) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.arange(float(rows)), np.arange(float(rows)) * 2 + 1
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, values in (("y_true", t), ("y_pred", p)):
            archive.writestr(f"{name}.npy", npy_header(values.shape) + values.tobytes())
    return t, p


def _set_header_field(data: bytes, offsets: dict[bytes, int], value: int, width: int, flag: bool) -> bytes:
    """Set (or, with ``flag``, OR in) a field in every local and central zip header."""
    data = bytearray(data)
    for signature, offset in offsets.items():
        start = 0
        while (found := data.find(signature, start)) >= 0:
            field = slice(found + offset, found + offset + width)
            old = int.from_bytes(data[field], "little")
            data[field] = ((old | value) if flag else value).to_bytes(width, "little")
            start = found + 4
    return bytes(data)


FLAGS = {b"PK\x03\x04": 6, b"PK\x01\x02": 8}
METHODS = {b"PK\x03\x04": 8, b"PK\x01\x02": 10}


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_an_encrypted_npz_member_is_an_error(tmp_path, compression):
    _npz(tmp_path / "plain.npz", compression)
    data = _set_header_field((tmp_path / "plain.npz").read_bytes(), FLAGS, 0x1, 2, flag=True)
    (tmp_path / "locked.npz").write_bytes(data)
    assert_refused([tmp_path / "locked.npz"], tmp_path, "member 'y_true' of", "is encrypted")


@pytest.mark.parametrize("method", [99, 93, 7])  # AES, Zstandard (before Python 3.14), "reserved"
def test_an_unsupported_compression_method_is_an_error(tmp_path, method):
    _npz(tmp_path / "plain.npz")
    data = _set_header_field((tmp_path / "plain.npz").read_bytes(), METHODS, method, 2, flag=False)
    (tmp_path / "method.npz").write_bytes(data)
    assert_refused([tmp_path / "method.npz"], tmp_path, "member 'y_true' of", f"zip method {method}")


def _flip_data_byte(path: Path, values: np.ndarray, row: int) -> None:
    data = bytearray(path.read_bytes())
    where = data.find(values[row : row + 2].tobytes())
    assert where > 0
    data[where + 3] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("rows", [5, 300_000])  # the CRC checked while reading the header, or at the end
def test_a_crc_mismatch_is_an_error(tmp_path, rows):
    path = tmp_path / "crc.npz"
    _, p = _npz(path, rows=rows)
    _flip_data_byte(path, p, rows - 2)
    assert_refused([path, "--chunk-rows", 1000], tmp_path, "member 'y_pred' of", "CRC")


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_a_corrupt_compressed_member_is_an_error(tmp_path, compression):
    path = tmp_path / "corrupt.npz"
    rng = np.random.default_rng(1)
    values = rng.normal(size=20_000)
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("y_true.npy", npy_header(values.shape) + values.tobytes())
        archive.writestr("y_pred.npy", npy_header(values.shape) + values.tobytes())
    info = zipfile.ZipFile(path).getinfo("y_pred.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for position in range(start + info.compress_size // 2, start + info.compress_size // 2 + 64):
        data[position] ^= 0xA5
    path.write_bytes(bytes(data))
    assert_refused([path], tmp_path, "member 'y_pred' of", "corrupt")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.95])
def test_a_truncated_npz_is_an_error(tmp_path, fraction):
    path = tmp_path / "cut.npz"
    _npz(path, zipfile.ZIP_DEFLATED, rows=50_000)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    assert_refused([path], tmp_path, "cut.npz", "truncated or corrupt")


# ------------------------------------------------------------- item 17: two members of one name


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize("duplicated", ["y_true", "y_pred", "unused"])
def test_two_members_of_the_same_name_are_an_error(tmp_path, compression, duplicated):
    path = tmp_path / "twice.npz"
    values = np.arange(4.0)
    member = npy_header(values.shape) + values.tobytes()
    with (
        zipfile.ZipFile(path, "w", compression) as archive,
        pytest.warns(UserWarning, match="Duplicate name"),
    ):
        for name in ("y_true", "y_pred", "unused", duplicated):
            archive.writestr(f"{name}.npy", member)
    assert_refused([path], tmp_path, "twice.npz", f"two members named '{duplicated}.npy'", "ambiguous")


# --------------------------------------------------------------- item 9: a huge --chunk-rows


def _formats(directory: Path, t: np.ndarray, p: np.ndarray) -> dict:
    text = "y_true,y_pred\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(t.tolist(), p.tolist(), strict=True))
    (directory / "d.csv").write_text(text)
    (directory / "d.csv.gz").write_bytes(gzip.compress(text.encode()))
    np.save(directory / "d.npy", np.column_stack([t, p]))
    np.savez(directory / "d.npz", y_true=t, y_pred=p)
    np.savez_compressed(directory / "c.npz", y_true=t, y_pred=p)
    formats = {
        "csv": [directory / "d.csv"],
        "csv.gz": [directory / "d.csv.gz"],
        "npy": [directory / "d.npy", "--y-true", "c0", "--y-pred", "c1"],
        "npz": [directory / "d.npz"],
        "npz compressed": [directory / "c.npz"],
    }
    if HAS_PYARROW:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"y_true": t, "y_pred": p}), directory / "d.parquet", row_group_size=700)
        formats["parquet"] = [directory / "d.parquet"]
    return formats


@pytest.mark.parametrize("chunk_rows", ["100000000000000000000", str(2**63), str(2**31 - 1), "2999"])
def test_a_huge_chunk_rows_is_one_chunk_for_every_format(tmp_path, chunk_rows):
    rng = np.random.default_rng(4)
    t, p = rng.normal(size=3000), rng.normal(size=3000)
    formats = _formats(tmp_path, t, p)
    assert len(formats) == 6 or not HAS_PYARROW
    for arguments in formats.values():
        assert_metrics(ok_json(*arguments, "--chunk-rows", chunk_rows), t, p)


def test_chunk_rows_and_max_line_bytes_are_checked_for_the_python_api(tmp_path):
    from regloss.cli import readers

    path = tmp_path / "d.csv"
    path.write_text("y_true,y_pred\n1,2\n3,4\n")
    bad_values = [(0, ValueError), (-3, ValueError), (True, TypeError), (2.0, TypeError), ("5", TypeError)]
    for bad, error in bad_values:
        with pytest.raises(error, match="max_line_bytes must be a whole number >= 1"):
            readers.open_table(path, max_line_bytes=bad)
        with readers.open_table(path) as table, pytest.raises(error, match="chunk_rows must be a whole"):
            table.chunks(["y_true"], bad)
    with readers.open_table(path, max_line_bytes=np.int64(14)) as table:
        chunks = list(table.chunks(["y_pred", "y_true"], np.uint64(10**19)))
    assert len(chunks) == 1
    np.testing.assert_array_equal(chunks[0], [[2.0, 1.0], [4.0, 3.0]])
