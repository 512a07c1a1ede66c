"""The CSV reader's three parsers agree: pyarrow's (large files), ``numpy.loadtxt`` and the exact
line-by-line one (``csv`` module and Python's ``float``), on values, missing values, line ends,
quoting and block boundaries, and they report the same error for the same bad line.

The reference for values is the exact parser alone (every block parsed line by line), which
reads each field with Python's ``float``; the tests force each path with the module's settings.
"""

from __future__ import annotations

import contextlib
import gzip

import numpy as np
import pytest

from regloss.cli import readers
from regloss.cli.errors import CliError

pytest.importorskip("pyarrow")


@contextlib.contextmanager
def path_settings(monkeypatch, parser: str, block_bytes: int = 1 << 23):
    """``parser``: "arrow" (pyarrow for every file), "loadtxt" (no pyarrow) or "exact" (every
    block line by line); blocks of ``block_bytes``."""
    with monkeypatch.context() as patch:
        patch.setattr(readers, "_BLOCK_BYTES", block_bytes)
        patch.setattr(readers, "_ARROW_MIN_BYTES", 0 if parser == "arrow" else 1 << 62)
        if parser == "exact":
            patch.setattr(readers.CsvTable, "_parse", readers.CsvTable._parse_exactly)
        yield


def read(path, parser, monkeypatch, columns=("y_true", "y_pred"), chunk_rows=4, block_bytes=1 << 23):
    """``(values, None)`` of the whole file, or ``(None, message)`` of its CliError."""
    with path_settings(monkeypatch, parser, block_bytes):
        try:
            with readers.open_table(path) as table:
                chunks = list(table.chunks(list(columns), chunk_rows))
        except CliError as error:
            return None, error.message
    assert all(len(chunk) <= chunk_rows for chunk in chunks)
    return (np.concatenate(chunks) if chunks else np.empty((0, len(columns)))), None


def assert_same(path, monkeypatch, **kwargs):
    """Every parser, at the default block size and with 7-byte blocks, gives what the exact one gives."""
    expected = read(path, "exact", monkeypatch, **kwargs)
    for parser in ("arrow", "loadtxt", "exact"):
        for block_bytes in (1 << 23, 7):
            found = read(path, parser, monkeypatch, block_bytes=block_bytes, **kwargs)
            if expected[0] is None:
                assert found == expected, (parser, block_bytes)
            else:
                assert found[1] is None, (parser, block_bytes, found[1])
                np.testing.assert_array_equal(found[0], expected[0], err_msg=f"{parser} {block_bytes}")
    return expected


VALUES = [
    "1.5", "-0", "+2", " 3 ", "1e5", "1E-5", ".5", "5.", "inf", "-inf", "Infinity", "nan", "NaN",
    "1_000", "0x10", "NA", "null", "N/A", "", '""', '"4"', '" 4 "', "1e400", "-1e400", "4.9e-324",
    "2.4e-324", "1.7976931348623157e308", "0.1", "0.30000000000000004441", "123456789012345678901",
    "1.", "-.5e-3", "e5", "1e", "--1", "1.2.3", "\u0661\u0662", "TRUE",
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES)
def test_every_parser_reads_a_value_as_pythons_float_or_reports_it(tmp_path, monkeypatch, value):
    path = tmp_path / "values.csv"
    path.write_text(f"name,y_true,y_pred\na,1,2\nb,3,{value}\nc,5,6\n", encoding="utf-8")
    values, error = assert_same(path, monkeypatch)
    text = value.strip().strip('"').strip()
    try:
        number = float(text) if text else float("nan")
    except ValueError:
        assert error is not None and "non-numeric value" in error and "row 2" in error and "line 3" in error
    else:
        assert error is None
        np.testing.assert_array_equal(values[:, 1], [2.0, number, 6.0])


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("compressed", [False, True])
def test_line_ends_quotes_blank_lines_and_a_bom(tmp_path, monkeypatch, ending, compressed):
    lines = [
        '\ufeff"name, with comma",y_true,y_pred,note',
        '"a, b",1.0,2.0,x',
        "",
        "x, 3 , 3.5,",
        "   ",
        'y,"4",4.0,"quoted, text"',
        "z,,7,",
        "w,8,9.25,last",
    ]
    data = ending.join(lines).encode("utf-8")  # no line end after the last line
    path = tmp_path / ("odd.csv.gz" if compressed else "odd.csv")
    path.write_bytes(gzip.compress(data) if compressed else data)
    values, error = assert_same(path, monkeypatch)
    assert error is None
    np.testing.assert_array_equal(values, [[1.0, 2.0], [3.0, 3.5], [4.0, 4.0], [np.nan, 7.0], [8.0, 9.25]])
    # the columns in another order, twice, and a text column mixed with numbers is refused
    values, _ = assert_same(path, monkeypatch, columns=("y_pred", "y_true", "y_pred"))
    np.testing.assert_array_equal(values[0], [2.0, 1.0, 2.0])
    _, error = assert_same(path, monkeypatch, columns=("note",))
    assert "non-numeric value 'x' in column 'note' at row 1 (line 2)" in error


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ("1,2\n3,4,5\n6,7\n", ["line 3", "3 fields", "header has 2"]),
        ("1,2\n3\n", ["line 3", "1 fields"]),
        ("1,2\n\n\n3,x\n", ["non-numeric value 'x'", "row 2", "line 5"]),
        ("1,2\r\n3,4\r\n5,oops\r\n", ["row 3", "line 4"]),
        ('1,2\n"3,4\n', ["line 3"]),
    ],
)
def test_errors_name_the_same_line_on_every_parser(tmp_path, monkeypatch, body, fragments):
    path = tmp_path / "bad.csv"
    path.write_text("y_true,y_pred\n" + body, encoding="utf-8")
    _, error = assert_same(path, monkeypatch)
    assert error is not None and all(fragment in error for fragment in fragments), error


def test_bytes_that_are_not_utf8_are_an_error_on_every_parser(tmp_path, monkeypatch):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"name,y_true,y_pred\ncaf\xe9,1,2\n")
    _, error = assert_same(path, monkeypatch)
    assert "is not UTF-8 text" in error


def test_a_large_random_file_in_chunks(tmp_path, monkeypatch):
    """20,000 rows of shortest-repr float64 text, with empty fields, in blocks of 64 KiB: the three
    parsers give exactly the float64 values written, in chunks of at most chunk_rows."""
    rng = np.random.default_rng(5)
    values = rng.standard_normal((20_000, 2)) * 10.0 ** rng.integers(-30, 30, size=(20_000, 2))
    values[rng.random(values.shape) < 0.01] = np.nan
    text = "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in values)
    path = tmp_path / "large.csv"
    path.write_text("y_true,y_pred\n" + text + "\n", encoding="utf-8")
    parsed_by_arrow = []
    arrow_values = readers._arrow_values

    def counted(*args):
        parsed_by_arrow.append(arrow_values(*args))
        return parsed_by_arrow[-1]

    monkeypatch.setattr(readers, "_arrow_values", counted)
    for block_bytes in (1 << 16, 1 << 23):
        for parser in ("arrow", "loadtxt"):
            found, error = read(path, parser, monkeypatch, chunk_rows=3000, block_bytes=block_bytes)
            assert error is None
            np.testing.assert_array_equal(found, values)
    # pyarrow parsed every block of the "arrow" runs (ten of 64 KiB or so, then one), none fell back
    assert len(parsed_by_arrow) > 10 and all(block is not None for block in parsed_by_arrow)


# ------------------------------------------------------------------ quotes (issue 20, item 2)

QUOTED = [
    # (line, the y_pred value or the fragments of the error): RFC 4180 quoting within one line
    ('b,3,"4"', 4.0),
    ('b,3," 4 "', 4.0),
    ('b,3,"-1e5"', -1e5),
    ('b,3,""', float("nan")),
    ('"b ""x"", c",3,4', 4.0),  # a doubled quote inside quotes, and a comma
    ('b,3,"4', ["line 3", "unmatched quote"]),
    ('"b,3,4', ["line 3", "unmatched quote"]),
    ('b,"3,4', ["line 3", "unmatched quote"]),
    ('b,3,"4"5', ["line 3", "not valid CSV"]),  # pyarrow and numpy read 45
    ('b,3,"4" ', ["line 3", "not valid CSV"]),  # pyarrow and numpy read 4
    ('b,3,"4"""', ["non-numeric value '4\"'", "row 2", "line 3"]),  # 4, a doubled quote, the end
    ('b,3,"4""', ["line 3", "unmatched quote"]),  # 4 and a doubled quote: still open
    ('b,3,4"', ["non-numeric value '4\"'", "row 2", "line 3"]),  # a quote inside a field is text
    ('b,3, "4"', ["non-numeric value '\"4\"'", "row 2", "line 3"]),  # quotes only open a field
    ('b,3,"1,5"', ["non-numeric value '1,5'", "row 2", "line 3"]),
]


@pytest.mark.parametrize(("line", "expected"), QUOTED)
def test_quotes_the_same_on_every_parser_and_block_size(tmp_path, monkeypatch, line, expected):
    path = tmp_path / "quotes.csv"
    path.write_text(f"name,y_true,y_pred\na,1,2\n{line}\nc,5,6\n", encoding="utf-8")
    for block_bytes in (1, 3, 13, 64):  # the quoted line alone, cut anywhere, or with its neighbours
        values, error = assert_same_at(path, monkeypatch, block_bytes)
        if isinstance(expected, list):
            assert error is not None and all(fragment in error for fragment in expected), error
        else:
            assert error is None, error
            np.testing.assert_array_equal(values[:, 1], [2.0, expected, 6.0])


def assert_same_at(path, monkeypatch, block_bytes, **kwargs):
    """Every parser, with blocks of ``block_bytes``, gives what the exact parser gives."""
    expected = read(path, "exact", monkeypatch, **kwargs)
    for parser in ("arrow", "loadtxt"):
        found = read(path, parser, monkeypatch, block_bytes=block_bytes, **kwargs)
        if expected[0] is None:
            assert found == expected, (parser, block_bytes)
        else:
            assert found[1] is None, (parser, block_bytes, found[1])
            np.testing.assert_array_equal(found[0], expected[0], err_msg=f"{parser} {block_bytes}")
    return expected


@pytest.mark.parametrize("position", [0, 1, 2, 500, 998, 999])
@pytest.mark.parametrize("final_line_end", [True, False])
def test_an_unmatched_quote_anywhere_in_a_block_is_an_error_naming_its_line(
    tmp_path, monkeypatch, position, final_line_end
):
    """1,000 rows in blocks of 200 bytes to 8 MiB: the quote opens on the first or last line of a
    block, of the file, or in the middle; no parser drops the rows it would join."""
    lines = [f"{i},{i * 0.5!r}" for i in range(1000)]
    lines[position] = f'{position},"{position * 0.5!r}'
    path = tmp_path / "quote.csv"
    path.write_text("y_true,y_pred\n" + "\n".join(lines) + ("\n" if final_line_end else ""), encoding="utf-8")
    for block_bytes in (200, 4096, 1 << 23):
        _, error = assert_same_at(path, monkeypatch, block_bytes)
        assert error is not None and f"line {position + 2} of" in error and "unmatched quote" in error, error


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"y_true","y_pred"', ["y_true", "y_pred"]),
        ('"a, b",y_true,"y_pred"', ["a, b", "y_true", "y_pred"]),
        ('" y_true ",y_pred', ["y_true", "y_pred"]),
        ('"y_true,y_pred', "unmatched quote"),
        ('y_true,"y_pred', "unmatched quote"),
        ('"y_true"x,y_pred', "not valid CSV"),
    ],
)
def test_quotes_in_the_header(tmp_path, monkeypatch, header, expected):
    path = tmp_path / "header.csv"
    fields = 3 if "a, b" in header else 2
    path.write_text(header + "\n" + ",".join(["1"] * fields) + "\n", encoding="utf-8")
    for parser in ("arrow", "loadtxt", "exact"):
        with path_settings(monkeypatch, parser):
            try:
                with readers.open_table(path) as table:
                    columns = table.columns
            except CliError as error:
                assert isinstance(expected, str), error.message
                assert expected in error.message and "line 1 of" in error.message
            else:
                assert columns == expected


@pytest.mark.parametrize("body", ["1\n\n2\n", "1\n  \n2\n", "1\n\t\n\n2\n3", "\n\n1\n2\n\n"])
def test_blank_lines_make_no_row_on_any_parser(tmp_path, monkeypatch, body):
    """A line that is empty or only spaces and tabs is skipped (one column: no NaN row either)."""
    path = tmp_path / "blank.csv"
    path.write_text("y_true\n" + body, encoding="utf-8")
    numbers = [float(text) for text in body.split() if text]
    for block_bytes in (1, 5, 1 << 23):
        values, error = assert_same_at(path, monkeypatch, block_bytes, columns=("y_true",))
        assert error is None
        np.testing.assert_array_equal(values[:, 0], numbers)


@pytest.mark.parametrize("parser", ["arrow", "loadtxt"])
def test_a_fast_parser_returning_fewer_rows_than_data_lines_falls_back(tmp_path, monkeypatch, parser):
    """A block's row count must equal its data lines: a fast parser that silently loses a row (as
    numpy.loadtxt did when a quote joined lines) is not believed; the exact parser reads the block."""
    path = tmp_path / "rows.csv"
    rows = np.arange(40.0).reshape(20, 2)
    path.write_text("y_true,y_pred\n" + "".join(f"{a},{b}\n\n" for a, b in rows.tolist()), encoding="utf-8")
    if parser == "arrow":
        arrow_values = readers._arrow_values

        def fewer(*args):
            values = arrow_values(*args)
            return None if values is None else values[1:]

        monkeypatch.setattr(readers, "_arrow_values", fewer)
    else:
        loadtxt = np.loadtxt
        monkeypatch.setattr(readers.np, "loadtxt", lambda *args, **kwargs: loadtxt(*args, **kwargs)[:-1])
    values, error = read(path, parser, monkeypatch, chunk_rows=7, block_bytes=100)
    assert error is None
    np.testing.assert_array_equal(values, rows)


FIELDS = ["1", "2.5", "-3", '"4"', '" 5 "', '""', "", '"6', '7"', '"8"9', '"a,b"', '"x""y"', '""""', "w"]


@pytest.mark.parametrize("seed", range(60))
def test_random_quoting_the_same_on_every_parser(tmp_path, monkeypatch, seed):
    """Files of random fields, well and badly quoted, in the numeric columns or a text column that
    is not read: every parser, in blocks of every size, gives the exact parser's values or error."""
    rng = np.random.default_rng(seed)
    weights = np.ones(len(FIELDS))
    weights[:7] = 40.0  # mostly fields that parse, so that many files have no error at all
    weights /= weights.sum()
    lines = [",".join(rng.choice(FIELDS, size=3, p=weights)) for _ in range(int(rng.integers(1, 25)))]
    path = tmp_path / "random.csv"
    path.write_text("note,y_true,y_pred\n" + "\n".join(lines) + "\n", encoding="utf-8")
    for block_bytes in (1 << 23, 64, 9):
        assert_same_at(path, monkeypatch, block_bytes)
        assert_same_at(path, monkeypatch, block_bytes, columns=("y_pred",))


@pytest.mark.parametrize("bad", ["", "oops", '"7'])
def test_a_long_text_field_is_read_like_any_other_on_every_parser(tmp_path, monkeypatch, bad):
    """A field longer than the csv module's default limit (131,072 characters) in a column that is
    not read: no parser refuses it, and an error elsewhere in its block is the same everywhere."""
    import csv

    limit = csv.field_size_limit()
    note = "n" * 200_000
    path = tmp_path / "long.csv"
    path.write_text(f'note,y_true,y_pred\n{note},1,2\n"{note}",3,4\nx,5,6{bad}\n', encoding="utf-8")
    for block_bytes in (1 << 23, 1 << 16):
        values, error = assert_same_at(path, monkeypatch, block_bytes)
        if bad:
            assert error is not None and "line 4" in error, error
        else:
            assert error is None
            np.testing.assert_array_equal(values, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert csv.field_size_limit() == limit  # restored
