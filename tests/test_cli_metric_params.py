"""The command-line names of scikit-learn's metrics and ``NAME:PARAM=VALUE`` (issue 22, item 5):
``python -m regloss`` in a subprocess; values against scikit-learn 1.9.1 on the file's columns."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests._cases import METRIC_ONLY
from tests.test_cli import assert_error, run_main, write_csv

skm = pytest.importorskip("sklearn.metrics")

SKLEARN_NAMES = (
    "pinball",
    "tweedie",
    "poisson_deviance",
    "gamma_deviance",
    "d2_tweedie",
    "explained_variance",
    "max_error",
    "rmsle",
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A CSV of 300 rows: two outputs of positive values and a weight column with zeros."""
    rng = np.random.default_rng(0)
    y_true = rng.uniform(0.2, 4.0, size=(300, 2))
    y_pred = np.clip(y_true + rng.normal(0.0, 0.8, size=(300, 2)), 0.05, None)
    weight = rng.uniform(0.0, 2.0, size=300)
    weight[::11] = 0.0
    columns = {"t0": y_true[:, 0], "t1": y_true[:, 1], "p0": y_pred[:, 0], "p1": y_pred[:, 1], "w": weight}
    path = write_csv(tmp_path_factory.mktemp("params") / "data.csv", columns)
    return path, y_true, y_pred, weight


def _expected(name: str, t, p, w):
    """scikit-learn's value of a command-line metric (one output)."""
    if name == "max_error":
        keep = slice(None) if w is None else w != 0
        return skm.max_error(t[keep], p[keep])
    function, kwargs = {
        "pinball": (skm.mean_pinball_loss, {}),
        "pinball:alpha=0.9": (skm.mean_pinball_loss, {"alpha": 0.9}),
        "tweedie": (skm.mean_tweedie_deviance, {}),
        "tweedie:power=1.5": (skm.mean_tweedie_deviance, {"power": 1.5}),
        "poisson_deviance": (skm.mean_poisson_deviance, {}),
        "gamma_deviance": (skm.mean_gamma_deviance, {}),
        "d2_tweedie": (skm.d2_tweedie_score, {}),
        "d2_tweedie:power=3": (skm.d2_tweedie_score, {"power": 3.0}),
        "explained_variance": (skm.explained_variance_score, {}),
        "rmsle": (skm.root_mean_squared_log_error, {}),
    }[name]
    return function(t, p, sample_weight=w, **kwargs)


NAMES = [*SKLEARN_NAMES, "pinball:alpha=0.9", "tweedie:power=1.5", "d2_tweedie:power=3"]


@pytest.mark.parametrize("engine", ["local", "dask"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_every_name_gives_scikit_learns_value_keyed_as_given(data, weighted, engine):
    if engine == "dask":
        pytest.importorskip("dask.dataframe")
    path, y_true, y_pred, weight = data
    args = ["evaluate", path, "--y-true", "t0", "--y-pred", "p0", "--metrics", ",".join(NAMES)]
    args += ["--format", "json", "--quiet", "--engine", engine] + (["--weight", "w"] if weighted else [])
    result = run_main(*args)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["metrics"]
    assert list(report) == NAMES
    w = weight if weighted else None
    for name in NAMES:
        expected = _expected(name, y_true[:, 0], y_pred[:, 0], w)
        np.testing.assert_allclose(report[name]["value"], expected, rtol=1e-10, err_msg=name)


def test_per_output_values_and_intervals(data, tmp_path):
    """``NAME_per_output:PARAM=VALUE`` gives scikit-learn's raw values; with --ci the CSV row keys
    are the text as given and the interval holds the value."""
    path, y_true, y_pred, weight = data
    key = "pinball_per_output:alpha=0.25"
    result = run_main("evaluate", path, "--y-true", "t0,t1", "--y-pred", "p0,p1", "--weight", "w",
                     "--metrics", f"{key},rmsle,explained_variance_per_output",
                     "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["metrics"]
    np.testing.assert_allclose(
        report[key]["value"],
        skm.mean_pinball_loss(y_true, y_pred, sample_weight=weight, alpha=0.25, multioutput="raw_values"),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        report["rmsle"]["value"],
        skm.root_mean_squared_log_error(y_true, y_pred, sample_weight=weight),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        report["explained_variance_per_output"]["value"],
        skm.explained_variance_score(y_true, y_pred, sample_weight=weight, multioutput="raw_values"),
        rtol=1e-10,
    )
    output = tmp_path / "out.csv"
    result = run_main("evaluate", path, "--y-true", "t0", "--y-pred", "p0", "--metrics",
                     "tweedie:power=2,max_error", "--ci", "0.9", "--replicates", "50", "--format", "csv",
                     "--output", output)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [line.split(",") for line in output.read_text().splitlines()]
    assert [row[0] for row in rows[1:]] == ["tweedie:power=2", "max_error"]
    for row in rows[1:]:
        value, low, high = (float(x) for x in row[2:5])
        assert low <= value <= high


def test_max_error_with_weight_leaves_out_zero_weight_rows(tmp_path):
    """Decision: --weight is a mask for max_error (a row of weight 0 is left out, other weights
    change nothing); documented in docs/cli.md."""
    path = write_csv(tmp_path / "w.csv", {"y_true": [0.0, 0.0, 0.0, 0.0], "y_pred": [1.0, 5.0, 2.0, -3.0],
                                          "w": [1.0, 0.0, 3.0, 0.5]})  # fmt: skip
    for engine in ("local", "dask"):
        weighted = run_main("evaluate", path, "--metrics", "max_error", "--weight", "w", "--format", "json",
                           "--engine", engine)  # fmt: skip
        plain = run_main("evaluate", path, "--metrics", "max_error", "--format", "json", "--engine", engine)
        assert weighted.returncode == plain.returncode == 0, weighted.stderr + plain.stderr
        assert json.loads(weighted.stdout)["metrics"]["max_error"]["value"] == 3.0
        assert json.loads(plain.stdout)["metrics"]["max_error"]["value"] == 5.0


@pytest.mark.parametrize(
    ("metrics", "fragments"),
    [
        ("pinball:alpha=2", ["pinball:alpha=2", "alpha", "[0, 1]"]),
        ("pinball:alpha=-0.5", ["alpha", "[0, 1]"]),
        ("pinball:alpha=abc", ["alpha", "must be a number", "abc"]),
        ("pinball:alpha=nan", ["alpha"]),
        ("pinball:beta=0.3", ["no parameter", "beta", "alpha"]),
        ("pinball:alpha", ["NAME=VALUE", "alpha"]),
        ("pinball:alpha=0.1:alpha=0.2", ["twice", "alpha"]),
        ("tweedie:power=0.5", ["power", "<= 0 or >= 1"]),
        ("tweedie:power=inf", ["power"]),
        ("d2_tweedie:power=", ["NAME=VALUE"]),
        ("mse:alpha=0.5", ["mse", "no parameter", "none"]),
        ("max_error:power=1", ["max_error", "no parameter"]),
        ("pinbal:alpha=0.5", ["unknown metric", "pinbal"]),
    ],
)
def test_a_bad_parameter_is_one_line_exit_2_and_nothing_written(data, tmp_path, metrics, fragments):
    path = data[0]
    output = tmp_path / "report.json"
    result = run_main("evaluate", path, "--y-true", "t0", "--y-pred", "p0", "--metrics", metrics,
                     "--output", output)  # fmt: skip
    assert_error(result, *fragments)
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_values_outside_a_domain_are_exit_2_on_both_engines(tmp_path):
    path = write_csv(tmp_path / "neg.csv", {"y_true": [1.0, 0.0, 2.0], "y_pred": [1.0, 2.0, 3.0]})
    for engine in ("local", "dask"):
        result = run_main("evaluate", path, "--metrics", "gamma_deviance", "--engine", engine)
        assert_error(result, "y_true must be > 0", "MeanGammaDeviance")
    result = run_main("evaluate", path, "--metrics", "rmsle,poisson_deviance", "--format", "json")
    assert result.returncode == 0, result.stderr


def test_regloss_losses_lists_every_name_with_its_formula_and_parameters():
    result = run_main("losses")
    assert result.returncode == 0, result.stderr
    blocks = {}
    for line in result.stdout.splitlines():
        if line.startswith("  ") and not line.startswith("      ") and "(class " in line:
            current = line.split()[0]
            blocks[current] = []
        elif line.startswith("      ") and blocks:
            blocks[current].append(line.strip())
    for class_name, short in METRIC_ONLY:
        assert short in blocks, short
        assert any(line.startswith("formula:") for line in blocks[short]), short
        assert any(class_name in line for line in blocks[short]) or class_name in result.stdout
    assert "parameters:  alpha=0.5" in "\n".join(blocks["pinball"])
    assert "parameters:  power=0.0" in "\n".join(blocks["tweedie"])
    assert "parameters:  power=0.0" in "\n".join(blocks["d2_tweedie"])
    assert "parameters:  delta=1.0" in "\n".join(blocks["huber"])
    assert not any(line.startswith("parameters") for line in blocks["max_error"])
    assert "max(|y_true - y_pred|)" in "\n".join(blocks["max_error"])
