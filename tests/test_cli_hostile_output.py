"""The command line's outputs under hostile use (issue 20, items 1, 7, 10 and 16), as subprocesses:

- ``--output`` or ``--plot`` naming an input (the same name, a symbolic or a hard link), or each
  other, is exit status 2, one line, and nothing written: the input is byte for byte the same;
- Ctrl-C (SIGINT) at any moment of a run ends it with exit status 130 and the old ``--output``
  untouched, or (if it came too late) the run completes with a correct report;
- ``--plot`` of residuals that overflow, or values that matplotlib cannot draw, draws the rest and
  says how many points were left out, without a warning;
- ``--engine dask`` on a corrupt, empty or misnamed Parquet file names the file and the cause.

Every error case asserts the exit status, exactly one line on stderr, no traceback, and that no
file was written or changed in the directory.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.test_cli import (
    HAS_MATPLOTLIB,
    HAS_PYARROW,
    _has_regloss_dask,
    assert_error,
    leftovers,
    needs_matplotlib,
    needs_pyarrow,
    run_cli,
    run_main,
    write_csv,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def snapshot(directory: Path) -> dict:
    """Every entry of a directory: its kind and bytes (a link: its target), to prove nothing changed."""
    found = {}
    for entry in sorted(directory.rglob("*")):
        if entry.is_symlink():
            found[str(entry)] = ("link", os.readlink(entry))
        elif entry.is_file():
            found[str(entry)] = ("file", entry.read_bytes())
        else:
            found[str(entry)] = ("dir", None)
    return found


def run_in(directory: Path, *args) -> subprocess.CompletedProcess:
    """``run_cli`` in another working directory (a relative ``PYTHONPATH`` made absolute first, so
    that the same regloss runs)."""
    paths = [os.path.abspath(path) for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    return run_cli(*args, cwd=directory, env={"PYTHONPATH": os.pathsep.join(paths)} if paths else None)


def assert_refused(result, directory: Path, before: dict, *fragments: str) -> None:
    assert_error(result, *fragments)
    assert snapshot(directory) == before, "a file was written or changed"


# ----------------------------------------------------- item 1: an output onto an input is refused


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(1)
    t = rng.normal(size=20)
    both = write_csv(tmp_path / "a.csv", {"y_true": t, "y_pred": t + 0.5})
    truth = write_csv(tmp_path / "t.csv", {"y_true": t})
    pred = write_csv(tmp_path / "p.csv", {"y_pred": t + 0.5})
    return tmp_path, both, truth, pred


def _links(tmp_path: Path, target: Path) -> tuple[Path, Path]:
    symbolic, hard = tmp_path / "sym.csv", tmp_path / "hard.csv"
    symbolic.symlink_to(target.name)
    os.link(target, hard)
    return symbolic, hard


@pytest.mark.parametrize("flag", ["--output", "--plot"])
def test_an_output_naming_the_input_is_refused_in_every_spelling(pair, flag, monkeypatch):
    tmp_path, both, _, _ = pair
    symbolic, hard = _links(tmp_path, both)
    (tmp_path / "sub").mkdir()
    spellings = {
        "same path": both,
        "relative": Path("a.csv"),
        "dotted": Path("sub/../a.csv"),
        "symbolic link": symbolic,
        "hard link": hard,
    }
    before = snapshot(tmp_path)
    for name, spelling in spellings.items():
        result = run_in(tmp_path, "evaluate", both, flag, spelling)
        line = assert_error(result, flag, "is an input file", "destroy")
        assert snapshot(tmp_path) == before, name
        assert str(spelling) in line, (name, line)
    assert symbolic.is_symlink() and os.stat(hard).st_nlink == 2


def test_an_input_given_through_a_link_is_protected_too(pair):
    tmp_path, both, _, _ = pair
    symbolic, hard = _links(tmp_path, both)
    before = snapshot(tmp_path)
    for source in (symbolic, hard):
        result = run_cli("evaluate", source, "--output", both)
        assert_refused(result, tmp_path, before, "--output", "is an input file", source.name)


@pytest.mark.parametrize("which", ["truth", "predictions"])
def test_two_file_mode_protects_both_inputs(pair, which):
    tmp_path, _, truth, pred = pair
    target = truth if which == "truth" else pred
    before = snapshot(tmp_path)
    for flag in ("--output", "--plot"):
        result = run_cli("evaluate", truth, pred, flag, target)
        assert_refused(result, tmp_path, before, flag, "is an input file")


def test_plot_and_output_naming_one_file_are_refused(pair):
    tmp_path, both, _, _ = pair
    existing = tmp_path / "old.png"
    existing.write_bytes(b"old report")
    (tmp_path / "link.png").symlink_to("old.png")
    (tmp_path / "sub").mkdir()
    cases = [
        ("new.png", "new.png"),  # neither exists yet
        ("new.png", "sub/../new.png"),
        ("old.png", "old.png"),
        ("old.png", "link.png"),  # one through a link
    ]
    before = snapshot(tmp_path)
    for output, plot in cases:
        result = run_in(tmp_path, "evaluate", both, "--output", output, "--plot", plot)
        assert_refused(result, tmp_path, before, "--output and --plot name the same file")


def test_npy_and_parquet_inputs_are_protected(tmp_path):
    rng = np.random.default_rng(2)
    np.save(tmp_path / "t.npy", rng.normal(size=30))
    np.save(tmp_path / "p.npy", rng.normal(size=30))
    paths = [tmp_path / "t.npy", tmp_path / "p.npy"]
    if HAS_PYARROW:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(
            pa.table({"y_true": rng.normal(size=30), "y_pred": rng.normal(size=30)}), tmp_path / "d.pq"
        )
        paths.append(tmp_path / "d.pq")
    before = snapshot(tmp_path)
    assert_refused(run_cli("evaluate", *paths[:2], "--output", paths[1]), tmp_path, before, "is an input")
    if HAS_PYARROW:
        assert_refused(run_cli("evaluate", paths[2], "--output", paths[2]), tmp_path, before, "is an input")


@pytest.mark.skipif(not _has_regloss_dask(), reason="needs dask[dataframe] and pyarrow")
def test_dask_engine_protects_every_file_of_the_directory_and_glob(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(3):
        pq.write_table(
            pa.table({"y_true": rng.normal(size=10), "y_pred": rng.normal(size=10)}), folder / f"{i}.parquet"
        )
    before = snapshot(tmp_path)
    for pattern in (folder, f"{folder}/*.parquet"):
        result = run_cli("evaluate", pattern, "--engine", "dask", "--output", folder / "1.parquet")
        assert_refused(result, tmp_path, before, "--output", "1.parquet", "is an input file")


def test_a_distinct_output_is_still_written(pair):
    tmp_path, both, truth, pred = pair
    result = run_cli("evaluate", truth, pred, "--output", tmp_path / "r.json", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == 20


# ------------------------------------------------------------- item 7: Ctrl-C at any moment

ROWS = 1_000_000
BLOCK = 10_000


@pytest.fixture(scope="module")
def large_csv(tmp_path_factory):
    """A CSV of 1e6 rows (~19 MB: read in 8 MiB blocks by pyarrow when installed, a few seconds),
    and the float64 reference of its mse and mae."""
    rng = np.random.default_rng(7)
    block = rng.normal(size=(BLOCK, 2)).round(6)
    text = "".join(f"{float(t)!r},{float(p)!r}\n" for t, p in block).encode()
    path = tmp_path_factory.mktemp("large") / "large.csv"
    with open(path, "wb") as stream:
        stream.write(b"y_true,y_pred\n")
        for _ in range(ROWS // BLOCK):
            stream.write(text)
    error = block[:, 1] - block[:, 0]  # every block is the same rows: their mean is the file's
    return path, {"mse": float(np.mean(error**2)), "mae": float(np.mean(np.abs(error)))}


READY = """
import os, runpy, sys
import regloss  # the interpreter and the package root (only its version) have started
os.write(int(sys.argv[1]), b"!")
os.close(int(sys.argv[1]))
sys.argv = ["regloss", *sys.argv[2:]]
runpy.run_module("regloss", run_name="__main__", alter_sys=True)  # as python -m regloss runs it
"""


def _interrupt_at(delay: float, arguments: list) -> tuple[subprocess.CompletedProcess, bool]:
    """Run ``python -m regloss ARGUMENTS`` and send SIGINT ``delay`` seconds after the interpreter
    has started (Python's own start, before any code of regloss runs, is not regloss's to
    handle) if it still runs; the result, and whether the signal was sent."""
    environment = {key: value for key, value in os.environ.items() if key != "REGLOSS_TRACEBACK"}
    ready, told = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", READY, str(told), *map(str, arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        pass_fds=(told,),
    )
    os.close(told)
    try:
        assert select.select([ready], [], [], 120)[0], "the interpreter did not start within 120 s"
        assert os.read(ready, 1) == b"!", "the interpreter did not start"
    finally:
        os.close(ready)
    time.sleep(delay)
    signalled = process.poll() is None
    if signalled:
        process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"SIGINT at {delay} s: the run did not end within 300 s")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), signalled


DELAYS = [0.05, 0.08, 0.12, 0.2, 0.35, 0.5, 0.8, 1.2, 1.6, 2.0]


@pytest.mark.parametrize("with_plot", [False, True])
def test_sigint_at_any_moment_is_exit_130_with_the_old_output_intact(tmp_path, large_csv, with_plot):
    """SIGINT at 0.05 s to 2 s into a run (the imports, the reading, the bootstrap of ``--ci``,
    the plot, the writing): exit status 130 and the old files byte for byte, or, for a run that
    the signal did not stop (it had ended, or had moved its files into place), a complete
    and correct report."""
    if with_plot and not HAS_MATPLOTLIB:
        pytest.skip("matplotlib is not installed")
    source, expected = large_csv
    report, plot = tmp_path / "report.json", tmp_path / "plot.png"
    arguments = ["evaluate", source, "--metrics", "mse,mae", "--format", "json", "--output", report]
    arguments += ["--ci", "0.9", "--replicates", "30"]  # a few seconds of work, on any machine
    if with_plot:
        arguments += ["--plot", plot]
    old_report, old_plot = b'{"old": "report"}\n', b"old plot"
    delays = DELAYS if not with_plot else DELAYS[1::2]
    signalled = interrupted = 0
    for delay in delays:
        report.write_bytes(old_report)
        plot.write_bytes(old_plot)
        result, sent = _interrupt_at(delay, arguments)
        signalled += sent
        where = f"SIGINT at {delay} s: exit {result.returncode}, stderr {result.stderr!r}"
        assert "Traceback" not in result.stderr, where
        assert "Exception ignored" not in result.stderr, where
        assert leftovers(tmp_path) == [], where
        if result.returncode == 130:
            interrupted += 1
            assert sent and result.stderr == "regloss: interrupted\n", where
            assert report.read_bytes() == old_report, where
            assert plot.read_bytes() == old_plot, where
        else:
            assert result.returncode == 0, where
            assert result.stderr == "", where
            found = json.loads(report.read_text())
            assert found["rows"] == ROWS, where
            for name, value in expected.items():
                assert found["metrics"][name]["value"] == pytest.approx(value, rel=1e-9), where
            if with_plot:
                assert plot.read_bytes()[:8] == PNG_MAGIC, where
    assert signalled >= len(delays) // 2, "the runs ended before most signals: make the file larger"
    assert interrupted >= signalled - 1, f"{signalled - interrupted} signalled runs were not interrupted"


def test_sigint_to_a_run_writing_to_stdout_prints_no_partial_report(large_csv):
    source, _ = large_csv
    for delay in (0.15, 0.6, 1.1):
        result, _ = _interrupt_at(delay, ["evaluate", source, "--format", "json"])
        where = f"SIGINT at {delay} s: exit {result.returncode}, stderr {result.stderr!r}"
        assert result.returncode in (0, 130), where
        if result.returncode == 130:
            assert result.stdout == "" and result.stderr == "regloss: interrupted\n", where
        else:
            assert json.loads(result.stdout)["rows"] == ROWS, where


def _run_script(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_interrupt_swallowed_by_the_code_it_hit_is_still_acted_upon():
    """The mechanism behind the lost Ctrl-C (pyarrow's lazy ``import pandas`` swallowed it): a
    KeyboardInterrupt caught by a broad ``except``, or reported as unraisable by a C extension,
    is recorded, printed nowhere, and raised again by ``interrupt.check()``."""
    result = _run_script(
        """
        import gc, os, signal
        from regloss.cli import interrupt

        def swallowing():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(10**6):  # the handler runs at the next bytecode
                    pass
            except BaseException:
                return "swallowed"

        class Unraisable:
            def __del__(self):
                raise KeyboardInterrupt  # as an extension reports an exception it cannot raise

        outcomes = []
        for case in ("handler", "unraisable"):
            with interrupt.handling():
                if case == "handler":
                    assert swallowing() == "swallowed"
                else:
                    Unraisable()
                    gc.collect()
                try:
                    interrupt.check()
                    outcomes.append(case + ": lost")
                except KeyboardInterrupt:
                    outcomes.append(case + ": raised")
        print(outcomes)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['handler: raised', 'unraisable: raised']"
    assert result.stderr == ""  # no "Exception ignored ... KeyboardInterrupt"


def test_an_interrupt_while_starting_is_exit_130_not_a_traceback(tmp_path, large_csv):
    """SIGINT before the command line has parsed its arguments (the imports) is recorded by the
    first handler and acted upon by main."""
    source, _ = large_csv
    result = _run_script(
        f"""
        import os, signal, sys
        sys.argv = ["regloss", "evaluate", {str(source)!r}, "--output", {str(tmp_path / "r.json")!r}]
        import regloss.__main__ as entry
        entry._signal.signal(entry._signal.SIGINT, entry._record_early)
        os.kill(os.getpid(), signal.SIGINT)  # recorded: the imports that follow are not disturbed
        entry.run()
        """
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr == "regloss: interrupted\n"
    assert not (tmp_path / "r.json").exists()


# ------------------------------------------------------ item 10: plots of non-finite residuals


def drawn_reference(t: np.ndarray, p: np.ndarray) -> int:
    """Points (row, output) left out: a value or residual not finite, or of magnitude above 1e300."""
    with np.errstate(over="ignore", invalid="ignore"):
        r = p - t
    ok = np.isfinite(t) & np.isfinite(p) & np.isfinite(r)
    ok &= (np.abs(np.nan_to_num(t)) <= 1e300) & (np.abs(np.nan_to_num(p)) <= 1e300)
    ok &= np.abs(np.nan_to_num(r)) <= 1e300
    return int(ok.size - np.count_nonzero(ok))


def _plot_case(tmp_path: Path, name: str, columns: dict, *extra: str):
    path = write_csv(tmp_path / f"{name}.csv", columns)
    plot = tmp_path / f"{name}.png"
    result = run_cli("evaluate", path, "--plot", plot, "--format", "json", *extra)
    return result, plot


def _assert_plotted(result, plot: Path, left_out: int, total: int) -> dict:
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    if left_out:
        assert lines == [
            f"regloss: note: --plot left out {left_out:,} of {total:,} point(s) whose value or residual "
            "is not finite or of magnitude above 1e+300"
        ], result.stderr
    else:
        assert lines == [], result.stderr
    assert plot.read_bytes()[:8] == PNG_MAGIC and plot.stat().st_size > 10_000
    return json.loads(result.stdout)


@needs_matplotlib
def test_plot_with_overflowing_residuals_draws_the_finite_points(tmp_path):
    rng = np.random.default_rng(10)
    t, p = rng.normal(size=40), rng.normal(size=40)
    t[[3, 17]], p[[3, 17]] = [-1e308, 1e308], [1e308, -1.5e308]  # residuals overflow
    result, plot = _plot_case(tmp_path, "some", {"y_true": t, "y_pred": p})
    report = _assert_plotted(result, plot, drawn_reference(t[:, None], p[:, None]), 40)
    assert drawn_reference(t[:, None], p[:, None]) == 2
    assert report["rows"] == 40 and report["metrics"]["mse"]["value"] is None  # inf: null


@needs_matplotlib
def test_plot_with_every_residual_overflowing_is_drawn_empty(tmp_path):
    t, p = np.array([-1e308, 1e308, -1.7e308]), np.array([1e308, -1e308, 1.7e308])
    result, plot = _plot_case(tmp_path, "all", {"y_true": t, "y_pred": p})
    _assert_plotted(result, plot, 3, 3)
    quiet = run_cli("evaluate", tmp_path / "all.csv", "--plot", tmp_path / "q.png", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert (tmp_path / "q.png").read_bytes()[:8] == PNG_MAGIC


@needs_matplotlib
@pytest.mark.parametrize("rows", [50, 6000])  # scatter, and hexbin density above 5000 points
def test_plot_of_several_outputs_counts_points_not_rows(tmp_path, rows):
    rng = np.random.default_rng(rows)
    t, p = rng.normal(size=(rows, 2)), rng.normal(size=(rows, 2))
    t[::7, 0], p[::7, 0] = 1e308, -1e308  # output a overflows in every 7th row, b never
    t[::11, 1] = 5e300  # beyond what matplotlib draws, though finite
    columns = {"y_true_a": t[:, 0], "y_true_b": t[:, 1], "y_pred_a": p[:, 0], "y_pred_b": p[:, 1]}
    result, plot = _plot_case(tmp_path, f"multi{rows}", columns)
    left_out = drawn_reference(t, p)
    assert left_out == len(t[::7]) + len(t[::11])
    _assert_plotted(result, plot, left_out, 2 * rows)


@needs_matplotlib
def test_plot_with_inf_and_nan_rows_left_out_by_drop_nan(tmp_path):
    t = np.array([1.0, np.inf, 3.0, np.nan, 5.0, -np.inf, 7.0])
    p = np.array([1.5, 2.0, np.nan, 4.0, 5.5, 6.0, 7.5])
    path = write_csv(tmp_path / "nan.csv", {"y_true": t, "y_pred": p})
    plot = tmp_path / "nan.png"
    result = run_cli("evaluate", path, "--plot", plot, "--drop-nan")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["regloss: note: left out 4 row(s) holding NaN or infinite values"]
    assert plot.read_bytes()[:8] == PNG_MAGIC
    refused = run_cli("evaluate", path, "--plot", tmp_path / "refused.png")
    assert_error(refused, "4 row(s)", "--drop-nan")
    assert not (tmp_path / "refused.png").exists()


@needs_matplotlib
def test_plot_of_huge_or_constant_values_has_no_warning(tmp_path):
    cases = {
        "constant residual": ({"y_true": np.full(30, 1e20), "y_pred": np.full(30, 1e20 + 2e6)}, 0),
        "huge but drawable": ({"y_true": np.array([-1e300, 0.0, 1e300]), "y_pred": np.zeros(3)}, 0),
        "one point": ({"y_true": np.array([2.0]), "y_pred": np.array([2.0])}, 0),
    }
    for name, (columns, left_out) in cases.items():
        result, plot = _plot_case(tmp_path, name.replace(" ", "_"), columns)
        _assert_plotted(result, plot, left_out, len(columns["y_true"]))


@needs_matplotlib
def test_draw_takes_any_mix_of_extreme_values_without_a_warning(tmp_path):
    """``plot.draw`` in-process on random mixes of overflowing, huge, tiny, infinite and NaN
    values, one or two outputs, scatter and hexbin, with every warning (NumPy's included) an error."""
    from regloss.cli.plot import draw, drawable

    values = [0.0, 1.0, -1.0, 1e300, -1e300, 5e299, 1e308, -1e308, np.inf, -np.inf, np.nan, 1e-300, 1e20]
    rng = np.random.default_rng(0)
    for trial, rows in enumerate([1, 2, 7] * 5 + [6000] * 2):
        outputs = int(rng.choice([1, 2]))
        t, p = rng.choice(values, size=(rows, outputs)), rng.choice(values, size=(rows, outputs))
        if rows == 6000:
            t, p = t + rng.normal(size=t.shape), p + rng.normal(size=p.shape)
        evaluation = SimpleNamespace(
            inputs=["x.csv"], rows=rows, selection=SimpleNamespace(y_true=[f"o{j}" for j in range(outputs)])
        )
        points = drawable(t, p)
        assert points.left_out == drawn_reference(t, p)
        target = tmp_path / f"{trial}.png"
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            draw(str(target), "png", evaluation, points)
        assert target.read_bytes()[:8] == PNG_MAGIC


# --------------------------------------------------- item 16: corrupt Parquet under --engine dask


def _corrupt_parquet_files(directory: Path) -> dict:
    """name -> (bytes of a bad .parquet file, a fragment of the cause the error must give)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(16)
    good = directory / "model.parquet"
    pq.write_table(pa.table({"y_true": rng.normal(size=500), "y_pred": rng.normal(size=500)}), good)
    data = good.read_bytes()
    good.unlink()
    garbled = bytearray(data)
    garbled[4:16] = b"\xff" * 12  # the first page header: the footer still reads
    return {
        "truncated": (data[: len(data) // 2], "magic bytes"),
        "empty": (b"", "0 bytes"),
        "csv named parquet": (b"y_true,y_pred\n1,2\n", "magic bytes"),
        "garbled page": (bytes(garbled), "deserializ"),
    }


@pytest.mark.skipif(not _has_regloss_dask(), reason="needs dask[dataframe] and pyarrow")
def test_dask_engine_names_the_corrupt_parquet_file_and_the_cause(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(17)
    output = tmp_path / "out" / "report.json"
    output.parent.mkdir()
    failures = []
    for name, (content, cause) in _corrupt_parquet_files(tmp_path).items():
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        for i in range(2):
            pq.write_table(
                pa.table({"y_true": rng.normal(size=100), "y_pred": rng.normal(size=100)}),
                folder / f"part-{i}.parquet",
            )
        bad = folder / "part-1b.parquet"  # sorted between two good files
        bad.write_bytes(content)
        before = snapshot(tmp_path)
        for target in (folder, f"{folder}/part-*.parquet", bad):
            result = run_main("evaluate", target, "--engine", "dask", "--output", output)
            try:
                line = assert_error(result, str(bad), cause)
                assert "An error occurred while calling" not in line
                assert snapshot(tmp_path) == before
            except AssertionError as error:
                failures.append(f"{name} via {target}: {error}")
    assert not failures, "\n".join(failures)


@needs_pyarrow
def test_local_engine_gives_the_same_errors_for_the_same_files(tmp_path):
    """The Dask engine's errors are the local reader's: the same file gives the same cause."""
    for name, (content, cause) in _corrupt_parquet_files(tmp_path).items():
        bad = tmp_path / f"{name.replace(' ', '_')}.parquet"
        bad.write_bytes(content)
        assert_error(run_main("evaluate", bad), str(bad), cause)


def test_an_error_that_an_interrupt_caused_is_exit_130(monkeypatch, capsys):
    """Ctrl-C inside a library that swallows it and then fails its own way (numba, cut short in a
    compilation, later raised "no compiled object yet"; seen on a cold cache): exit 130 and the
    interrupt's one line, not exit 1 with the library's error."""
    import contextlib
    import signal
    import types

    from regloss.cli import interrupt
    from regloss.cli import main as cli_main

    monkeypatch.setattr(interrupt, "_state", dict(interrupt._state))

    def run(args):
        with contextlib.suppress(KeyboardInterrupt):  # the library swallows ...
            signal.raise_signal(signal.SIGINT)  # ... the Ctrl-C that arrives inside it
        raise RuntimeError("no compiled object yet")  # ... and fails later in its own way

    parser = types.SimpleNamespace(parse_args=lambda argv: types.SimpleNamespace(run=run))
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    assert cli_main.main([]) == 130
    assert capsys.readouterr().err == "regloss: interrupted\n"

    def fails(args):
        raise RuntimeError("a real failure")

    monkeypatch.setattr(cli_main, "build_parser", lambda: types.SimpleNamespace(
        parse_args=lambda argv: types.SimpleNamespace(run=fails)))  # fmt: skip
    assert cli_main.main([]) == 1  # without an interrupt, an error stays an error
    assert "unexpected RuntimeError: a real failure" in capsys.readouterr().err
