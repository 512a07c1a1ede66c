"""``regloss evaluate`` with median_ae and ae_quantile:q=Q: exact by default on CSV, CSV.gz and
Parquet (equal to scikit-learn's median_absolute_error and weighted percentile on the file's data),
``--quantiles sketch`` within its 1% bound, and one-line exit-2 errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from regloss.cli.main import main

pd = pytest.importorskip("pandas")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
sklearn_stats = pytest.importorskip("sklearn.utils.stats")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 1001
    y_true = rng.standard_cauchy((n, 2))
    y_pred = np.round(y_true + rng.normal(size=(n, 2)), 1)
    weights = rng.integers(0, 4, n).astype(np.float64)
    weights[0] = 1.0
    frame = pd.DataFrame(
        {
            "y_true_a": y_true[:, 0],
            "y_true_b": y_true[:, 1],
            "y_pred_a": y_pred[:, 0],
            "y_pred_b": y_pred[:, 1],
        }
    )
    frame["w"] = weights
    return frame, y_true, y_pred, weights


def _write(frame, tmp_path, form):
    path = tmp_path / f"data.{form}"
    if form == "parquet":
        pytest.importorskip("pyarrow")
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, float_format="%.17g")
    return str(path)


def _run(capsys, *argv):
    code = main(["evaluate", *argv, "--format", "json", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)["metrics"]


@pytest.mark.parametrize("form", ["csv", "csv.gz", "parquet"])
def test_exact_equals_sklearn(tmp_path, capsys, data, form):
    frame, y_true, y_pred, weights = data
    path = _write(frame, tmp_path, form)
    metrics = _run(capsys, path, "--metrics", "median_ae,ae_quantile:q=0.9,mae", "--chunk-rows", "97")
    assert metrics["median_ae"]["value"] == sklearn_metrics.median_absolute_error(y_true, y_pred)
    errors = np.abs(y_pred - y_true)
    q90 = sklearn_stats._weighted_percentile(errors, np.ones(len(errors)), 90, average=True)
    assert metrics["ae_quantile:q=0.9"]["value"] == pytest.approx(float(np.mean(q90)), rel=1e-15)
    weighted = _run(capsys, path, "--metrics", "median_ae", "--weight", "w")
    assert weighted["median_ae"]["value"] == sklearn_metrics.median_absolute_error(
        y_true, y_pred, sample_weight=weights
    )


def test_sketch_within_its_bound_and_table_names_the_mode(tmp_path, capsys, data):
    frame, y_true, y_pred, _ = data
    path = _write(frame, tmp_path, "csv")
    metrics = _run(capsys, path, "--metrics", "median_ae", "--quantiles", "sketch")
    errors = np.sort(np.abs(y_pred - y_true), axis=0)
    lower = errors[int(np.ceil(0.5 * len(errors))) - 1]  # the lower median of each output
    sketched = metrics["median_ae"]["value"]
    assert abs(sketched - lower.mean()) <= 0.01 * lower.mean()
    assert main(["evaluate", path, "--metrics", "median_ae", "--quantiles", "sketch"]) == 0
    assert "sketch, relative accuracy 0.01" in capsys.readouterr().out
    assert main(["evaluate", path, "--metrics", "median_ae"]) == 0
    assert "exact, 4 passes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("metrics", "extra", "message"),
    [
        ("ae_quantile:q=2", [], "q must be in"),
        ("ae_quantile", [], "ae_quantile:q=Q"),
        ("median_ae:q=0.5", [], "no parameters"),
        ("ae_quantile:q=x", [], "q must be a number"),
    ],
)
def test_errors_exit_2_with_one_line(tmp_path, capsys, data, metrics, extra, message):
    path = _write(data[0], tmp_path, "csv")
    assert main(["evaluate", path, "--metrics", metrics, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
