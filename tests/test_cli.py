"""End-to-end tests of the ``regloss`` command line: ``python -m regloss`` in a subprocess on files
written here, its reports against an independent float64 NumPy computation and the metric classes,
every bad input (exit status 2, one line, nothing written), and memory that does not grow with the
file."""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import regloss
from regloss import metrics as rm
from tests._cases import LOSSES, METRIC_BY_SHORT
from tests.correlation_reference import ref_dataset_coefficient, ref_row_coefficients

EPS = 1e-7  # regloss.config.epsilon()'s default, written out
ALL_METRICS = ",".join(METRIC_BY_SHORT)  # every metric of the test table
HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
needs_pyarrow = pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow is not installed (pip install pyarrow)")
needs_matplotlib = pytest.mark.skipif(
    not HAS_MATPLOTLIB, reason="matplotlib is not installed (pip install matplotlib)"
)


def _has_regloss_dask() -> bool:
    try:
        import dask.dataframe  # noqa: F401

        import regloss.dask  # noqa: F401
    except ImportError:
        return False
    return HAS_PYARROW


# ------------------------------------------------------------------------------------ helpers


def run_cli(*args, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    environment.pop("REGLOSS_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "regloss", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
        cwd=cwd,
        check=False,
    )


def run_main(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``regloss.cli.main.main`` in this process, with what ``run_cli`` gives: the exit status and
    the text written to stdout and stderr (a process start costs more than most reports here;
    ``test_the_process_gives_what_main_gives`` holds the two to the same output)."""
    import contextlib
    import io

    from regloss.cli.main import main

    argv = list(map(str, args))
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = os.environ.pop("REGLOSS_TRACEBACK", None)
    try:
        with (
            contextlib.chdir(cwd or os.getcwd()),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            status = main(argv)
    finally:
        if saved is not None:
            os.environ["REGLOSS_TRACEBACK"] = saved
    return subprocess.CompletedProcess(argv, status, stdout.getvalue(), stderr.getvalue())


def ok_json(*args, runner=None, **kwargs) -> dict:
    result = (runner or run_main)("evaluate", *args, "--format", "json", **kwargs)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def assert_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2, one line on stderr starting ``regloss: error: ``, no traceback, no stdout."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip("\n").splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("regloss: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def write_csv(path: Path, columns: dict, *, compress: bool = False) -> Path:
    names = list(columns)
    rows = zip(*(np.asarray(columns[name]) for name in names), strict=True)
    text = ",".join(names) + "\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as stream:
            stream.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    """Temporary files the command would have left behind."""
    return sorted(name.name for name in directory.iterdir() if name.name.endswith(".tmp"))


# ------------------------------------------------------------------------ float64 references


def _sklearn_reference():
    """scikit-learn's value of each of its metrics of the command line, on (rows, outputs) data: its
    multi-output average where it takes several outputs, else the mean over outputs of its
    single-output values (max_error: the max over outputs)."""
    try:
        import sklearn.metrics as skm
    except ImportError:
        return {}

    def per_output(function, **kwargs):
        return lambda t, p, w: float(
            np.mean([function(t[:, j], p[:, j], sample_weight=w, **kwargs) for j in range(t.shape[1])])
        )

    return {
        "pinball": lambda t, p, w: skm.mean_pinball_loss(t, p, sample_weight=w),
        "rmsle": lambda t, p, w: skm.root_mean_squared_log_error(t, p, sample_weight=w),
        "explained_variance": lambda t, p, w: skm.explained_variance_score(t, p, sample_weight=w),
        "tweedie": per_output(skm.mean_tweedie_deviance),
        "poisson_deviance": per_output(skm.mean_poisson_deviance),
        "gamma_deviance": per_output(skm.mean_gamma_deviance),
        "d2_tweedie": per_output(skm.d2_tweedie_score),
        "max_error": lambda t, p, w: float(np.max(np.abs(t - p)[w != 0])),
    }


SKLEARN_REFERENCE = _sklearn_reference()


def reference(name: str, t: np.ndarray, p: np.ndarray, w: np.ndarray | None = None, delta: float = 1.0):
    """Each metric of ``--metrics`` from its definition, in float64: per-row means over the outputs,
    then the weighted mean over rows (r2: per output, then their mean). ``t``, ``p``: (rows, outputs)."""
    t, p = np.asarray(t, np.float64), np.asarray(p, np.float64)
    w = np.ones(len(t)) if w is None else np.asarray(w, np.float64)

    def weighted(per_row):
        return float(np.sum(w * per_row) / np.sum(w))

    e = p - t
    if name == "mse":
        return weighted(np.mean(e**2, axis=1))
    if name == "rmse":
        return math.sqrt(weighted(np.mean(e**2, axis=1)))
    if name == "mae":
        return weighted(np.mean(np.abs(e), axis=1))
    if name == "mape":
        return weighted(100 * np.mean(np.abs(e) / np.maximum(np.abs(t), EPS), axis=1))
    if name == "msle":
        first, second = np.log(np.maximum(p, EPS) + 1), np.log(np.maximum(t, EPS) + 1)
        return weighted(np.mean((first - second) ** 2, axis=1))
    if name == "huber":
        a = np.abs(e)
        return weighted(np.mean(np.where(a <= delta, 0.5 * e**2, delta * a - 0.5 * delta**2), axis=1))
    if name == "logcosh":
        return weighted(np.mean(np.log(np.cosh(e)), axis=1))
    if name == "cosine":
        norms = np.linalg.norm(t, axis=1) * np.linalg.norm(p, axis=1)
        return weighted(np.sum(t * p, axis=1) / norms)
    if name == "poisson":
        return weighted(np.mean(p - t * np.log(p + EPS), axis=1))
    if name == "row_pearson":
        return weighted(ref_row_coefficients("pearson_correlation", t, p))
    if name == "row_ccc":
        return weighted(ref_row_coefficients("concordance_correlation", t, p))
    if name in SKLEARN_REFERENCE:  # scikit-learn's metrics: scikit-learn itself
        return SKLEARN_REFERENCE[name](t, p, w)
    if name in ("pearson", "ccc", "pearson_per_output", "ccc_per_output"):  # over the rows, per output
        values = [
            ref_dataset_coefficient(name.removesuffix("_per_output"), t[:, j], p[:, j], w)
            for j in range(t.shape[1])
        ]
        return values if name.endswith("_per_output") else float(np.mean(values))
    if name in ("r2", "r2_per_output"):
        mean = np.sum(w[:, None] * t, axis=0) / np.sum(w)
        total = np.sum(w[:, None] * (t - mean) ** 2, axis=0)
        scores = 1 - np.sum(w[:, None] * e**2, axis=0) / total
        return [float(s) for s in scores] if name == "r2_per_output" else float(np.mean(scores))
    raise AssertionError(name)


def metric_class_result(name: str, t, p, w=None, delta: float = 1.0):
    """The same metric from the regloss.metrics classes on the whole arrays (float64)."""
    if name == "huber":
        metric = rm.Huber(delta=delta, dtype="float64")
    elif name == "r2":
        metric = rm.R2Score(dtype="float64")
    elif name == "r2_per_output":
        metric = rm.R2Score(class_aggregation=None, dtype="float64")
    elif name in ("pearson", "ccc"):  # several outputs: the mean of their coefficients
        outputs = np.shape(t)[1] if np.ndim(t) == 2 else 1
        metric = getattr(rm, METRIC_BY_SHORT[name])(outputs, dtype="float64", average_outputs=outputs > 1)
    else:
        metric = getattr(rm, METRIC_BY_SHORT[name])(dtype="float64")
    metric.update_state(np.asarray(t), np.asarray(p), sample_weight=None if w is None else np.asarray(w))
    value = np.asarray(metric.result(), dtype=np.float64)
    return [float(v) for v in value] if value.ndim else float(value)


def assert_close(found, expected, rtol: float = 1e-11):
    np.testing.assert_allclose(
        np.asarray(found, np.float64), np.asarray(expected, np.float64), rtol=rtol, atol=0
    )


@pytest.fixture(scope="module")
def data():
    """1,500 rows of three outputs (positive, for MSLE and MAPE), with weights."""
    rng = np.random.default_rng(14)
    rows = 1500
    t = rng.gamma(4.0, 2.0, size=(rows, 3))
    p = t * rng.lognormal(0.0, 0.15, size=(rows, 3)) + rng.normal(0, 0.3, size=(rows, 3))
    w = rng.choice([0.5, 1.0, 2.0], size=rows)
    return t, p, w


@pytest.fixture()
def single_csv(tmp_path, data):
    t, p, w = data
    return write_csv(tmp_path / "single.csv", {"y_true": t[:, 0], "y_pred": p[:, 0], "weight": w})


@pytest.fixture()
def multi_csv(tmp_path, data):
    t, p, w = data
    columns = {"day": np.arange(len(t)), "weight": w}
    columns.update({f"y_true_{s}": t[:, j] for j, s in enumerate(("a", "b", "c"))})
    columns.update({f"y_pred_{s}": p[:, j] for j, s in enumerate(("a", "b", "c"))})
    return write_csv(tmp_path / "multi.csv", columns)


# ------------------------------------------------------------------- values against references


def test_every_metric_matches_numpy_and_the_metric_classes(multi_csv, data):
    t, p, w = data
    report = ok_json(
        multi_csv, "--weight", "weight", "--metrics", ALL_METRICS + ",r2_per_output", "--chunk-rows", 97
    )
    assert report["regloss"] == regloss.__version__
    assert report["rows"] == len(t) and report["dropped_rows"] == 0 and report["weight"] == "weight"
    assert report["y_true"] == ["y_true_a", "y_true_b", "y_true_c"]
    assert report["y_pred"] == ["y_pred_a", "y_pred_b", "y_pred_c"]
    assert list(report["metrics"]) == ALL_METRICS.split(",") + ["r2_per_output"]
    for name, entry in report["metrics"].items():
        assert_close(entry["value"], reference(name, t, p, w))
        assert_close(entry["value"], metric_class_result(name, t, p, w), rtol=1e-12)
    assert report["metrics"]["r2_per_output"]["outputs"] == ["y_true_a", "y_true_b", "y_true_c"]


def test_unweighted_single_output_and_huber_delta(single_csv, data):
    t, p, _ = data
    report = ok_json(
        single_csv, "--metrics", "mse,rmse,mae,mape,msle,huber,logcosh,r2", "--huber-delta", "0.25"
    )
    assert report["weight"] is None
    for name, entry in report["metrics"].items():
        assert_close(entry["value"], reference(name, t[:, :1], p[:, :1], delta=0.25))


def test_per_output_values_and_aliases_keep_the_names_typed(multi_csv, data):
    t, p, w = data
    names = "MSE,mean_squared_error,RootMeanSquaredError,mae_per_output,R2_score,Huber_Loss"
    report = ok_json(multi_csv, "--weight", "weight", "--metrics", names)
    assert list(report["metrics"]) == names.split(",")
    assert_close(report["metrics"]["MSE"]["value"], reference("mse", t, p, w))
    assert report["metrics"]["mean_squared_error"] == report["metrics"]["MSE"]
    assert_close(report["metrics"]["RootMeanSquaredError"]["value"], reference("rmse", t, p, w))
    assert_close(report["metrics"]["R2_score"]["value"], reference("r2", t, p, w))
    assert_close(report["metrics"]["Huber_Loss"]["value"], reference("huber", t, p, w))
    per_output = report["metrics"]["mae_per_output"]
    assert per_output["outputs"] == ["y_true_a", "y_true_b", "y_true_c"]
    assert_close(
        per_output["value"], [reference("mae", t[:, j : j + 1], p[:, j : j + 1], w) for j in range(3)]
    )


def test_json_floats_round_trip_exactly(single_csv, data):
    t, p, w = data
    report = ok_json(single_csv, "--weight", "weight", "--metrics", "mse", "--chunk-rows", 100_000)
    expected = metric_class_result("mse", t[:, :1], p[:, :1], w)
    # one chunk: the same float64 operations as the class on the whole arrays, written exactly
    assert report["metrics"]["mse"]["value"] == expected


# ------------------------------------------------------------------------------------ formats


def _write_format(kind: str, directory: Path, t: np.ndarray, p: np.ndarray) -> list:
    """The files (and column flags) of one format holding a single output."""
    if kind == "csv":
        return [write_csv(directory / "d.csv", {"y_true": t, "y_pred": p})]
    if kind == "csv.gz":
        return [write_csv(directory / "d.csv.gz", {"y_true": t, "y_pred": p}, compress=True)]
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = directory / "d.parquet"
        pq.write_table(pa.table({"target": t, "prediction": p.astype(np.float32)}), path, row_group_size=400)
        return [path]
    if kind == "npy-1d-two-files":
        np.save(directory / "t.npy", t)
        np.save(directory / "p.npy", p)
        return [directory / "t.npy", directory / "p.npy"]
    if kind == "npy-2d":
        np.save(directory / "d.npy", np.column_stack([p, t]))
        return [directory / "d.npy", "--y-true", "c1", "--y-pred", "c0"]
    if kind == "npy-2d-fortran":
        np.save(directory / "d.npy", np.asfortranarray(np.column_stack([t, p])))
        return [directory / "d.npy", "--y-true", "c0", "--y-pred", "c1"]
    if kind == "npy-structured":
        array = np.zeros(len(t), dtype=[("y_true", "<f8"), ("y_pred", ">f8"), ("id", "<i4")])
        array["y_true"], array["y_pred"], array["id"] = t, p, np.arange(len(t))
        np.save(directory / "d.npy", array)
        return [directory / "d.npy"]
    if kind == "npz":
        np.savez(directory / "d.npz", y_true=t, y_pred=p)
        return [directory / "d.npz"]
    if kind == "npz-compressed":
        np.savez_compressed(directory / "d.npz", target=t, prediction=p, other=np.arange(len(t)))
        return [directory / "d.npz"]
    if kind == "csv-and-npy":
        write_csv(directory / "truth.csv", {"y_true": t, "station": np.zeros(len(t))})
        np.save(directory / "p.npy", p)
        return [directory / "truth.csv", directory / "p.npy"]
    if kind == "two-csv":
        write_csv(directory / "truth.csv", {"observed": t})
        write_csv(directory / "pred.csv", {"forecast": p})
        return [directory / "truth.csv", directory / "pred.csv"]
    raise AssertionError(kind)


FORMAT_KINDS = [
    "csv",
    "csv.gz",
    pytest.param("parquet", marks=needs_pyarrow),
    "npy-1d-two-files",
    "npy-2d",
    "npy-2d-fortran",
    "npy-structured",
    "npz",
    "npz-compressed",
    "csv-and-npy",
    "two-csv",
]


@pytest.mark.parametrize("kind", FORMAT_KINDS)
def test_each_format_in_chunks(kind, tmp_path, data):
    t, p, _ = data
    t, p = t[:, 0], p[:, 0]
    arguments = _write_format(kind, tmp_path, t, p)
    report = ok_json(*arguments, "--metrics", "mse,mae,r2", "--chunk-rows", 333)
    assert report["rows"] == len(t)
    if kind == "parquet":
        p = p.astype(np.float32).astype(np.float64)
    for name in ("mse", "mae", "r2"):
        assert_close(report["metrics"][name]["value"], reference(name, t[:, None], p[:, None]))


def test_two_files_weight_from_the_prediction_file(tmp_path, data):
    t, p, w = data
    write_csv(tmp_path / "truth.csv", {"y_true": t[:, 0]})
    write_csv(tmp_path / "pred.csv", {"y_pred": p[:, 0], "w": w})
    report = ok_json(tmp_path / "truth.csv", tmp_path / "pred.csv", "--weight", "w", "--metrics", "mse")
    assert report["weight"] == "w"
    assert_close(report["metrics"]["mse"]["value"], reference("mse", t[:, :1], p[:, :1], w))


def test_csv_details_quotes_blank_lines_spaces_and_crlf(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(
        b'\xef\xbb\xbf"name, with comma",y_true,y_pred\r\n"a, b",1.0,2.0\r\n\r\nx, 3 , 3.5\r\ny,"4",4.0\r\n'
    )
    report = ok_json(path, "--metrics", "mae")
    assert report["rows"] == 3
    assert_close(report["metrics"]["mae"]["value"], (1.0 + 0.5 + 0.0) / 3)


# -------------------------------------------------------------------------- multi-output metrics


def test_multi_output_cosine_and_r2(tmp_path, data):
    t, p, _ = data
    np.save(tmp_path / "t.npy", t)
    np.save(tmp_path / "p.npy", p)
    report = ok_json(tmp_path / "t.npy", tmp_path / "p.npy", "--metrics", "cosine,r2,r2_per_output")
    assert report["y_true"] == ["c0", "c1", "c2"]
    assert_close(report["metrics"]["cosine"]["value"], reference("cosine", t, p))
    assert_close(report["metrics"]["r2"]["value"], reference("r2", t, p))
    assert_close(report["metrics"]["r2_per_output"]["value"], reference("r2_per_output", t, p))
    assert report["metrics"]["r2_per_output"]["outputs"] == ["c0", "c1", "c2"]


def test_cosine_with_one_output_is_an_error(single_csv):
    assert_error(run_cli("evaluate", single_csv, "--metrics", "mse,cosine"), "cosine", "several outputs")


# ---------------------------------------------------------------------------------- NaN rows


@pytest.fixture()
def nan_csv(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("y_true,y_pred,w\n1,2,1\n3,,1\n5,nan,1\n2,2.5,2\n7,inf,1\n4,1,-inf\n0,1,1\n")
    return path


def test_nan_rows_are_an_error_that_counts_them(nan_csv):
    assert_error(run_cli("evaluate", nan_csv, "--weight", "w"), "4 row(s)", "NaN", "row 2", "--drop-nan")


def test_drop_nan_reports_the_dropped_rows(nan_csv):
    result = run_cli(
        "evaluate", nan_csv, "--weight", "w", "--drop-nan", "--format", "json", "--metrics", "mse,mae"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == 3 and report["dropped_rows"] == 4
    t, p, w = np.array([[1.0], [2.0], [0.0]]), np.array([[2.0], [2.5], [1.0]]), np.array([1.0, 2.0, 1.0])
    assert_close(report["metrics"]["mse"]["value"], reference("mse", t, p, w))
    assert "left out 4 row(s)" in result.stderr
    quiet = run_cli("evaluate", nan_csv, "--weight", "w", "--drop-nan", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "4 dropped" in quiet.stdout


def test_all_rows_dropped_is_an_error(tmp_path):
    path = tmp_path / "all_nan.csv"
    path.write_text("y_true,y_pred\nnan,1\n2,inf\n")
    assert_error(run_cli("evaluate", path, "--drop-nan"), "no rows left", "2 rows")


def test_non_finite_results_are_json_null(tmp_path):
    path = write_csv(tmp_path / "flat.csv", {"y_true": [2.0, 2.0, 2.0], "y_pred": [2.0, 2.0, 2.0]})
    report = ok_json(path, "--metrics", "mse,r2")
    assert report["metrics"]["mse"]["value"] == 0.0
    assert report["metrics"]["r2"]["value"] is None  # 0/0: constant truth, exact predictions


# ------------------------------------------------------------------------------ output formats


def test_table_shows_rows_weight_and_one_line_per_metric_and_output(multi_csv):
    result = run_cli("evaluate", multi_csv, "--weight", "weight", "--metrics", "mse,r2_per_output")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    lines = result.stdout.splitlines()
    assert "1,500" in lines[0] and "weight" in lines[1]
    body = [line.split() for line in lines if line.startswith(("mse", "r2_per_output"))]
    assert [row[0] for row in body] == ["mse"] + ["r2_per_output"] * 3
    assert [row[1] for row in body[1:]] == ["y_true_a", "y_true_b", "y_true_c"]
    header = next(line for line in lines if line.startswith("metric"))
    assert header.split() == ["metric", "output", "value"]
    value_ends = {len(line) for line in lines[lines.index(header) :]}
    assert len(value_ends) == 1  # values right-aligned in one column


def test_csv_report(multi_csv, data):
    t, p, w = data
    result = run_cli(
        "evaluate", multi_csv, "--weight", "weight", "--metrics", "mae,r2_per_output", "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "metric,output,value"
    rows = [line.split(",") for line in lines[1:]]
    assert rows[0][:2] == ["mae", ""]
    assert_close(float(rows[0][2]), reference("mae", t, p, w))
    assert [row[1] for row in rows[1:]] == ["y_true_a", "y_true_b", "y_true_c"]
    assert_close([float(row[2]) for row in rows[1:]], reference("r2_per_output", t, p, w))


def test_output_file_replaces_the_old_one_and_stdout_stays_empty(single_csv, tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    result = run_cli("evaluate", single_csv, "--format", "json", "--output", target)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert set(json.loads(target.read_text())["metrics"]) == {"mse", "rmse", "mae", "r2"}
    assert leftovers(tmp_path) == []


def test_default_columns_target_and_prediction(tmp_path, data):
    t, p, _ = data
    path = write_csv(tmp_path / "tp.csv", {"id": np.arange(len(t)), "prediction": p[:, 1], "target": t[:, 1]})
    report = ok_json(path, "--metrics", "mse")
    assert report["y_true"] == ["target"] and report["y_pred"] == ["prediction"]
    assert_close(report["metrics"]["mse"]["value"], reference("mse", t[:, 1:2], p[:, 1:2]))


# ---------------------------------------------------------------------------------- bad input


def _bad_inputs(directory: Path, data) -> dict:
    """name -> (arguments, fragments the error line must hold)."""
    t, p, _ = data
    good = write_csv(directory / "good.csv", {"y_true": t[:50, 0], "y_pred": p[:50, 0]})
    (directory / "empty.csv").write_bytes(b"")
    (directory / "header.csv").write_text("y_true,y_pred\n")
    (directory / "word.csv").write_text("y_true,y_pred\n1,2\n3,4\n5,abc\n")
    (directory / "cut.csv").write_text("y_true,y_pred\n1,2\n3,4\n5")
    (directory / "nans.csv").write_text("y_true,y_pred\n1,2\nnan,4\n5,inf\n")
    full = gzip.compress(good.read_bytes())
    (directory / "cut.csv.gz").write_bytes(full[: len(full) // 2])
    (directory / "notgz.csv.gz").write_text("y_true,y_pred\n1,2\n")
    np.save(directory / "t.npy", t[:50, 0])
    np.save(directory / "t49.npy", t[:49, 0])
    whole = (directory / "t.npy").read_bytes()
    (directory / "cut.npy").write_bytes(whole[:-100])
    np.savez(directory / "z.npz", y_true=t[:50, 0], y_pred=p[:50, 0])
    archive = (directory / "z.npz").read_bytes()
    (directory / "cut.npz").write_bytes(archive[: len(archive) // 2])
    np.save(directory / "objects.npy", np.array([1.0, "a", None], dtype=object), allow_pickle=True)
    np.save(directory / "empty.npy", np.zeros(0))
    (directory / "data.txt").write_text("y_true,y_pred\n1,2\n")
    write_csv(directory / "short.csv", {"y_pred": p[:40, 0]})
    cases = {
        "missing file": ([directory / "nope.csv"], ["no such file", "nope.csv"]),
        "empty file": ([directory / "empty.csv"], ["empty.csv is empty"]),
        "header only": ([directory / "header.csv"], ["no data rows"]),
        "empty npy": ([directory / "empty.npy", "--y-true", "c0", "--y-pred", "c0"], ["no data rows"]),
        "non-numeric": ([directory / "word.csv"], ["'abc'", "column 'y_pred'", "row 3", "line 4"]),
        "truncated csv": ([directory / "cut.csv"], ["line 4", "1 fields", "header has 2"]),
        "truncated csv.gz": ([directory / "cut.csv.gz"], ["cut.csv.gz is truncated"]),
        "not gzip": ([directory / "notgz.csv.gz"], ["not a readable gzip file"]),
        "truncated npy": (
            [directory / "cut.npy", "--y-true", "c0", "--y-pred", "c0"],
            ["cut.npy is truncated"],
        ),
        "truncated npz": ([directory / "cut.npz"], ["cut.npz", "truncated or corrupt"]),
        "pickled npy": ([directory / "objects.npy"], ["Python objects", "pickle"]),
        "unknown format": ([directory / "data.txt"], ["cannot tell the format", ".npz"]),
        "unknown column": (
            [good, "--y-true", "y_tru"],
            ["unknown column 'y_tru'", "did you mean 'y_true'", "columns y_true, y_pred"],
        ),
        "unknown weight": ([good, "--weight", "w"], ["unknown column 'w'", "y_true, y_pred"]),
        "length mismatch npy": (
            [directory / "t.npy", directory / "t49.npy"],
            ["differ in length", "50", "49"],
        ),
        "length mismatch csv": ([good, directory / "short.csv"], ["differ in length", "50", "40"]),
        "nan rows": ([directory / "nans.csv"], ["2 row(s)", "NaN", "row 2", "--drop-nan"]),
        "unknown metric": ([good, "--metrics", "mse,rsme"], ["unknown metric 'rsme'", "did you mean 'rmse'"]),
        "loss without metric": ([good, "--metrics", "dice"], ["'dice' is a loss without a streaming metric"]),
        "per-output cosine": ([good, "--metrics", "cosine_per_output"], ["cosine has no per-output value"]),
        "negative delta": ([good, "--huber-delta", "-1"], ["bad --huber-delta '-1'"]),
        "zero delta": ([good, "--huber-delta", "0"], ["bad --huber-delta '0'"]),
        "word delta": ([good, "--huber-delta", "one"], ["bad --huber-delta 'one'"]),
        "infinite delta": ([good, "--huber-delta", "inf"], ["bad --huber-delta 'inf'"]),
        "output directory": ([good, "--output", directory / "no" / "r.json"], ["--output", "does not exist"]),
        "plot directory": ([good, "--plot", directory / "no" / "p.png"], ["--plot", "does not exist"]),
        "chunk rows": ([good, "--chunk-rows", "0"], ["--chunk-rows", ">= 1"]),
        "bad format": ([good, "--format", "xml"], ["--format", "invalid choice"]),
        "scheduler without dask": (
            [good, "--scheduler", "tcp://localhost:8786"],
            ["--scheduler needs --engine dask"],
        ),
    }
    if HAS_PYARROW:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"y_true": t[:, 0], "y_pred": p[:, 0]}), directory / "d.parquet")
        parquet = (directory / "d.parquet").read_bytes()
        (directory / "cut.parquet").write_bytes(parquet[: len(parquet) // 2])
        pq.write_table(pa.table({"y_true": ["a", "b"], "y_pred": [1.0, 2.0]}), directory / "words.parquet")
        cases["truncated parquet"] = ([directory / "cut.parquet"], ["cut.parquet", "Parquet"])
        cases["string parquet column"] = ([directory / "words.parquet"], ["'y_true'", "not numbers"])
    return cases


def test_bad_inputs_exit_2_with_one_line_and_write_nothing(tmp_path, data):
    cases = _bad_inputs(tmp_path, data)
    failures = []
    for name, (arguments, fragments) in cases.items():
        output = tmp_path / "out" / f"{name.replace(' ', '_')}.json"
        output.parent.mkdir(exist_ok=True)
        extra = [] if "--output" in arguments else ["--output", output]
        result = run_main("evaluate", *arguments, *extra)
        try:
            assert_error(result, *fragments)
            assert not output.exists()
        except AssertionError as error:
            failures.append(f"{name}: {error}")
    assert not failures, "\n".join(failures)
    assert leftovers(tmp_path / "out") == [] and leftovers(tmp_path) == []


def test_the_process_gives_what_main_gives(tmp_path, data, single_csv):
    """``python -m regloss`` (the entry point, its exit status, its streams) writes exactly what
    ``main`` returns and writes in this process, for a report and for errors of each kind: the
    tests that call ``main`` directly check the command's process too."""
    cases = _bad_inputs(tmp_path, data)
    runs = [
        ("evaluate", single_csv, "--format", "json", "--metrics", "mse,r2", "--weight", "weight"),
        ("evaluate", single_csv, "--metrics", "mse,mae"),
        *(("evaluate", *cases[name][0]) for name in ("missing file", "nan rows", "unknown metric")),
        ("evaluate", *cases["bad format"][0]),
        ("evaluate",),
    ]
    for arguments in runs:
        in_process, process = run_main(*arguments), run_cli(*arguments)
        assert (process.returncode, process.stdout, process.stderr) == (
            in_process.returncode,
            in_process.stdout,
            in_process.stderr,
        ), arguments
    assert [run_main(*arguments).returncode for arguments in runs] == [0, 0, 2, 2, 2, 2, 2]


def test_usage_errors_are_one_line_too():
    assert_error(run_cli("evaluate"), "PATH")
    assert_error(run_cli("frobnicate"), "invalid choice")
    assert_error(run_cli(), "COMMAND")


def test_help_and_version():
    result = run_cli("evaluate", "--help")
    assert result.returncode == 0 and "--drop-nan" in result.stdout and "--chunk-rows" in result.stdout
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"regloss {regloss.__version__}"


# ------------------------------------------------------------------------- optional dependencies


def _blocking(tmp_path: Path, *modules: str) -> dict:
    """An environment in which importing ``modules`` fails, as if they were not installed."""
    shim = tmp_path / "shim"
    for module in modules:
        (shim / module).mkdir(parents=True)
        (shim / module / "__init__.py").write_text(f"raise ImportError({f'No module named {module}'!r})\n")
    return {"PYTHONPATH": os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")])}


def test_missing_pyarrow_and_matplotlib_are_clear_errors(tmp_path, single_csv):
    env = _blocking(tmp_path, "pyarrow", "matplotlib")
    (tmp_path / "d.parquet").write_bytes(b"PAR1")
    assert_error(run_cli("evaluate", tmp_path / "d.parquet", env=env), "needs pyarrow", "regloss[parquet]")
    assert_error(
        run_cli("evaluate", single_csv, "--plot", tmp_path / "p.png", env=env),
        "needs matplotlib",
        "regloss[plot]",
    )
    assert not (tmp_path / "p.png").exists()


def test_import_regloss_imports_neither_the_cli_nor_its_optional_libraries():
    code = (
        "import sys, regloss\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in {'pyarrow', 'matplotlib'} or m.startswith('regloss.cli')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------- plots


@needs_matplotlib
@pytest.mark.parametrize("rows", [300, 7000])
def test_plot_is_a_png_written_with_the_report(tmp_path, rows):
    rng = np.random.default_rng(rows)
    t = rng.normal(size=(rows, 2))
    np.save(tmp_path / "t.npy", t)
    np.save(tmp_path / "p.npy", t + rng.normal(scale=0.2, size=t.shape))
    plot, report = tmp_path / "diag.png", tmp_path / "r.csv"
    result = run_cli(
        "evaluate",
        tmp_path / "t.npy",
        tmp_path / "p.npy",
        "--plot",
        plot,
        "--output",
        report,
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    assert report.read_text().startswith("metric,output,value\n")
    assert leftovers(tmp_path) == []


@needs_matplotlib
def test_plot_with_an_unknown_image_suffix_is_an_error(single_csv, tmp_path):
    assert_error(run_cli("evaluate", single_csv, "--plot", tmp_path / "p.xyz"), "image format", ".png")


# ---------------------------------------------------------------------------- regloss losses


def test_losses_lists_every_loss_metric_alias_and_reduction():
    result = run_cli("losses")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for case in LOSSES:  # the test table, not regloss's registry
        assert f"  {case.function}  (class {case.cls}" in text, case.function
        for alias in case.aliases:
            assert alias in text, alias
    for reduction in ("sum_over_batch_size", "mean_with_sample_weight", "sum", "none", "auto"):
        assert reduction in text
    for short, class_name in METRIC_BY_SHORT.items():
        assert f"  {short}  (class {class_name})" in text, short
        assert getattr(rm, class_name).default_name in text, class_name
    assert "mean((y_true - y_pred)**2, axis=-1)" in text
    assert not [line for line in text.splitlines() if line.strip() == "formula:  -"]  # a formula for each


# ------------------------------------------------------------------------------------- memory

# The peak resident memory of the command itself: VmHWM of its own address space, read at exit
# (ru_maxrss would not do: Linux carries it across execve, and subprocess may start the child from
# a copy of this test process, whose size it would then report).
_PEAK_WRAPPER = (
    "import sys\n"
    "from regloss.cli.main import main\n"
    "status = main(sys.argv[1:])\n"
    "with open('/proc/self/status') as f:\n"
    "    peak = next(line.split()[1] for line in f if line.startswith('VmHWM:'))\n"
    "print('peak_kib', peak, file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def _peak_kib(path: Path) -> tuple[int, dict]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK_WRAPPER,
            "evaluate",
            str(path),
            "--chunk-rows",
            "10000",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("peak_kib"))
    return int(line.split()[1]), json.loads(result.stdout)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc/self/status (VmHWM)")
def test_memory_does_not_grow_with_the_file(tmp_path):
    rng = np.random.default_rng(3)
    block_rows = 100_000
    values = np.column_stack(
        [rng.normal(20, 5, block_rows), rng.normal(20, 5, block_rows), rng.choice([0.5, 1.0], block_rows)]
    )
    lines = [f"{a:.6f},{b:.6f},{w:.1f}\n" for a, b, w in values]
    block = "".join(lines).encode()  # about 2.5 MB
    header = b"y_true,y_pred,weight\n"
    sizes = {}
    for name, megabytes in (("small.csv", 25), ("large.csv", 100)):
        repeats = math.ceil(megabytes * 1e6 / len(block))
        with open(tmp_path / name, "wb") as stream:
            stream.write(header)
            for _ in range(repeats):
                stream.write(block)
        sizes[name] = repeats
    small_kib, small = _peak_kib(tmp_path / "small.csv")
    large_kib, large = _peak_kib(tmp_path / "large.csv")
    print(f"peak RSS: 25 MB CSV {small_kib / 1024:.1f} MiB, 100 MB CSV {large_kib / 1024:.1f} MiB")
    assert (
        small["rows"] == sizes["small.csv"] * block_rows and large["rows"] == sizes["large.csv"] * block_rows
    )
    assert_close(large["metrics"]["mse"]["value"], small["metrics"]["mse"]["value"], rtol=1e-9)
    assert large_kib - small_kib < 20 * 1024


# --------------------------------------------------------------------------------------- Dask


@pytest.mark.skipif(
    not _has_regloss_dask(), reason="regloss.dask, dask.dataframe or pyarrow is not importable"
)
def test_dask_engine_matches_the_local_engine(tmp_path, data):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t, p, w = data
    columns = {
        "weight": w,
        **{f"y_true_{j}": t[:, j] for j in range(3)},
        **{f"y_pred_{j}": p[:, j] for j in range(3)},
    }
    (tmp_path / "parts").mkdir()
    (tmp_path / "csv").mkdir()
    for part, rows in enumerate((slice(0, 600), slice(600, 1100), slice(1100, None))):
        chunk = {name: values[rows] for name, values in columns.items()}
        pq.write_table(pa.table(chunk), tmp_path / "parts" / f"part{part}.parquet")
        write_csv(tmp_path / "csv" / f"part{part}.csv", chunk)
    write_csv(tmp_path / "all.csv", columns)
    metrics = ALL_METRICS + ",r2_per_output,mse_per_output"
    local = ok_json(tmp_path / "all.csv", "--weight", "weight", "--metrics", metrics)
    for source in (tmp_path / "parts", str(tmp_path / "csv" / "part*.csv")):
        report = ok_json(source, "--engine", "dask", "--weight", "weight", "--metrics", metrics)
        assert report["rows"] == local["rows"] and report["y_true"] == local["y_true"]
        for name, entry in local["metrics"].items():
            assert_close(report["metrics"][name]["value"], entry["value"], rtol=1e-12)


@pytest.mark.skipif(
    not _has_regloss_dask(), reason="regloss.dask, dask.dataframe or pyarrow is not importable"
)
def test_dask_engine_nan_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "parts").mkdir()
    pq.write_table(
        pa.table({"y_true": [1.0, 2.0, np.nan], "y_pred": [1.5, 2.0, 3.0]}), tmp_path / "parts" / "a.parquet"
    )
    pq.write_table(
        pa.table({"y_true": [4.0, 5.0], "y_pred": [np.inf, 4.0]}), tmp_path / "parts" / "b.parquet"
    )
    assert_error(run_cli("evaluate", tmp_path / "parts", "--engine", "dask"), "2 row(s)", "--drop-nan")
    report = ok_json(tmp_path / "parts", "--engine", "dask", "--drop-nan", "--metrics", "mse")
    assert report["rows"] == 3 and report["dropped_rows"] == 2
    assert_close(report["metrics"]["mse"]["value"], (0.25 + 0.0 + 1.0) / 3)


def test_dask_engine_without_dask_is_a_one_line_error(tmp_path, single_csv):
    env = _blocking(tmp_path, "dask")
    assert_error(
        run_cli("evaluate", single_csv, "--engine", "dask", env=env), "--engine dask needs regloss.dask"
    )
    assert_error(run_cli("evaluate", single_csv, single_csv, "--engine", "dask"), "one PATH")


@pytest.mark.cluster
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
@pytest.mark.skipif(
    not _has_regloss_dask(), reason="regloss.dask, dask.dataframe or pyarrow is not importable"
)
def test_dask_engine_on_a_distributed_scheduler(tmp_path, data):
    distributed = pytest.importorskip("distributed")
    import pyarrow as pa
    import pyarrow.parquet as pq

    t, p, w = data
    (tmp_path / "parts").mkdir()
    for part, rows in enumerate((slice(0, 700), slice(700, None))):
        table = pa.table({"y_true": t[rows, 0], "y_pred": p[rows, 0], "w": w[rows]})
        pq.write_table(table, tmp_path / "parts" / f"part{part}.parquet")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        report = ok_json(  # a client in its own process, as a user's command is
            tmp_path / "parts",
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "--weight",
            "w",
            runner=run_cli,
        )
    for name in ("mse", "rmse", "mae", "r2"):
        assert_close(report["metrics"][name]["value"], reference(name, t[:, :1], p[:, :1], w), rtol=1e-12)


# ------------------------------------------------------------------------------- progress bar


def _stderr_on_a_terminal(*args) -> tuple[int, str]:
    """Run the command with stderr on a pseudo-terminal; its exit status and what it drew there."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "regloss", *map(str, args)], stdout=subprocess.PIPE, stderr=slave
        )
    finally:
        os.close(slave)
    process.stdout.read()
    status = process.wait(timeout=300)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal is closed once the child has exited and all is read
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return status, drawn.decode(errors="replace")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")
def test_progress_bar_only_on_a_terminal_and_not_quiet(single_csv):
    status, drawn = _stderr_on_a_terminal("evaluate", single_csv, "--chunk-rows", "100")
    assert status == 0
    assert "regloss: [" in drawn and "rows" in drawn and drawn.endswith("\r\x1b[K")  # erased at the end
    status, drawn = _stderr_on_a_terminal("evaluate", single_csv, "--chunk-rows", "100", "--quiet")
    assert status == 0 and drawn == ""


# ------------------------------------------------------------------------- confidence intervals

CI_FIELDS = ("value", "ci_low", "ci_high", "se")


def bootstrap_of(name: str, t, p, w=None, *, confidence=0.95, replicates=200, seed=0) -> dict:
    """The in-memory regloss.metrics.Bootstrap of a metric of ``--metrics`` on the whole arrays, rows
    in file order: ``{field: float or list of floats}`` (per-output: one Bootstrap per column, but r2's)."""
    classes = {short: getattr(rm, class_name) for short, class_name in METRIC_BY_SHORT.items()}
    short = name.removesuffix("_per_output")
    if name == "r2_per_output":
        metrics = [(rm.R2Score(class_aggregation=None, dtype="float64"), slice(None))]
    elif name != short:
        metrics = [(classes[short](dtype="float64"), slice(j, j + 1)) for j in range(np.shape(t)[1])]
    elif short in ("pearson", "ccc"):  # several outputs: the mean of their coefficients
        outputs = np.shape(t)[1]
        metric = classes[short](outputs, dtype="float64", average_outputs=outputs > 1)
        metrics = [(metric, slice(None))]
    else:
        metrics = [(classes[short](dtype="float64"), slice(None))]
    found = {field: [] for field in CI_FIELDS}
    for metric, columns in metrics:
        bootstrap = rm.Bootstrap(metric, num_replicates=replicates, confidence=confidence, seed=seed)
        bootstrap.update_state(t[:, columns], p[:, columns], w)
        result = bootstrap.result()
        for field in CI_FIELDS:
            found[field] += [float(v) for v in np.asarray(getattr(result, field), np.float64).reshape(-1)]
    per_output = name.endswith("_per_output")
    return {field: values if per_output else values[0] for field, values in found.items()}


@pytest.fixture(scope="module")
def integer_data():
    """900 rows of small integers (two outputs, integer weights): every sum of the metrics whose
    per-row terms are integers (mse, mae, r2) is exact, so their intervals are equal bit for bit."""
    rng = np.random.default_rng(16)
    t = rng.integers(1, 7, size=(900, 2)).astype(np.float64)
    p = rng.integers(1, 7, size=(900, 2)).astype(np.float64)
    w = rng.integers(1, 4, size=900).astype(np.float64)
    return t, p, w


def _integer_columns(t, p, w) -> dict:
    return {"weight": w, "y_true_a": t[:, 0], "y_true_b": t[:, 1], "y_pred_a": p[:, 0], "y_pred_b": p[:, 1]}


CI_METRICS = "mse,mae,r2,r2_per_output,mae_per_output,cosine,msle"
# bit for bit on integer data whatever the chunking; R2 keeps centred moments merged with Chan et
# al.'s update (issue 21, item 7), whose means divide: 1e-12 there
EXACT = ("mse", "mae", "mae_per_output")


def test_ci_adds_intervals_to_json_csv_and_table(tmp_path, integer_data):
    t, p, w = integer_data
    path = write_csv(tmp_path / "ints.csv", _integer_columns(t, p, w))
    flags = [
        "--weight",
        "weight",
        "--metrics",
        CI_METRICS,
        "--ci",
        "0.9",
        "--replicates",
        "60",
        "--seed",
        "5",
    ]
    report = ok_json(path, *flags, "--chunk-rows", "97")
    for name, entry in report["metrics"].items():
        expected_keys = [*CI_FIELDS, "confidence", "replicates", "seed"]
        assert list(entry) == expected_keys + (["outputs"] if name.endswith("_per_output") else [])
        assert (entry["confidence"], entry["replicates"], entry["seed"]) == (0.9, 60, 5)
        want = bootstrap_of(name, t, p, w, confidence=0.9, replicates=60, seed=5)
        for field in CI_FIELDS:
            if name in EXACT:
                assert entry[field] == want[field], (name, field)
            else:
                assert_close(entry[field], want[field], rtol=1e-12)
        assert np.all(np.asarray(entry["ci_low"]) <= np.asarray(entry["ci_high"]))
    assert len(report["metrics"]["r2_per_output"]["ci_low"]) == 2
    assert report["metrics"]["mae_per_output"]["outputs"] == ["y_true_a", "y_true_b"]

    csv_text = run_cli("evaluate", path, *flags, "--format", "csv")
    assert csv_text.returncode == 0, csv_text.stderr
    lines = csv_text.stdout.splitlines()
    assert lines[0] == "metric,output,value,ci_low,ci_high,se,confidence,replicates,seed"
    assert len(lines) == 1 + 5 + 2 + 2  # five single values, two outputs of two per-output metrics
    metric, output, *numbers = lines[4].split(",")  # r2_per_output's first output
    assert (metric, output) == ("r2_per_output", "y_true_a")
    # another chunking than the JSON run's: R2 to rounding (centred moments)
    want = [report["metrics"][metric][f][0] for f in CI_FIELDS]
    assert [float(x) for x in numbers[:4]] == pytest.approx(want, rel=1e-12)
    assert numbers[4:] == ["0.9", "60", "5"]

    table = run_cli("evaluate", path, *flags)
    assert table.returncode == 0, table.stderr
    text = table.stdout.splitlines()
    assert "ci:      0.9 (Poisson bootstrap percentile interval; 60 replicates, seed 5)" in text
    header = next(line for line in text if line.startswith("metric"))
    assert header.split() == ["metric", "output", "value", "ci_low", "ci_high", "se"]
    mse_line = next(line for line in text if line.startswith("mse "))
    assert [float(x) for x in mse_line.split()[1:]] == pytest.approx(
        [report["metrics"]["mse"][f] for f in CI_FIELDS], rel=1e-7
    )
    # Without --ci nothing changes.
    plain = ok_json(path, "--weight", "weight", "--metrics", "mse")
    assert (
        list(plain["metrics"]["mse"]) == ["value"]
        and plain["metrics"]["mse"]["value"] == report["metrics"]["mse"]["value"]
    )


@pytest.mark.skipif(
    not _has_regloss_dask(), reason="regloss.dask, dask.dataframe or pyarrow is not importable"
)
def test_ci_local_and_dask_engines_give_the_same_intervals(tmp_path, integer_data):
    import pyarrow as pa
    import pyarrow.parquet as pq

    t, p, w = integer_data
    t, p, w = t.copy(), p.copy(), w.copy()
    t[3, 0], p[450, 1], w[801] = np.nan, np.inf, np.nan  # dropped rows keep their neighbours' indices
    columns = _integer_columns(t, p, w)
    write_csv(tmp_path / "all.csv", columns)
    (tmp_path / "parts").mkdir()
    for part, rows in enumerate((slice(0, 300), slice(300, 301), slice(301, None))):
        pq.write_table(
            pa.table({name: values[rows] for name, values in columns.items()}),
            tmp_path / "parts" / f"part{part}.parquet",
        )
    flags = [
        "--weight",
        "weight",
        "--metrics",
        CI_METRICS,
        "--ci",
        "0.95",
        "--replicates",
        "50",
        "--drop-nan",
    ]
    local = ok_json(tmp_path / "all.csv", *flags, "--chunk-rows", "64", "--quiet")
    dask_report = ok_json(tmp_path / "parts", "--engine", "dask", *flags, "--quiet")
    assert local["rows"] == dask_report["rows"] == 897 and local["dropped_rows"] == 3
    for name, entry in local["metrics"].items():
        other = dask_report["metrics"][name]
        assert list(other) == list(entry)
        for field in CI_FIELDS:
            if name in EXACT:
                assert other[field] == entry[field], (name, field)
            else:
                assert_close(other[field], entry[field], rtol=1e-12)
    # The same numbers without the NaN rows' indices would differ: the rows keep their file positions.
    kept = np.isfinite(t).all(axis=1) & np.isfinite(p).all(axis=1) & np.isfinite(w)
    shifted = bootstrap_of("mse", t[kept], p[kept], w[kept], replicates=50)
    assert shifted["value"] == local["metrics"]["mse"]["value"]
    assert shifted["ci_low"] != local["metrics"]["mse"]["ci_low"]


def test_ci_bad_values_exit_2(single_csv):
    cases = [
        (("--ci", "1.5"), "bad --ci '1.5'"),
        (("--ci", "0.9", "--replicates", "1"), "bad --replicates '1'"),
        (("--ci", "0.9", "--seed", "-1"), "bad --seed '-1'"),
        (("--seed", "3"), "--seed needs --ci"),
    ]
    for flags, fragment in cases:
        assert_error(run_cli("evaluate", single_csv, *flags), fragment)
