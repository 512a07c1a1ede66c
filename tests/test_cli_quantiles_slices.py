"""``regloss evaluate`` with median_ae and ae_quantile:q=Q under ``--by`` and ``--ci``: exact per
group equals scikit-learn on the group's rows; the sketch per group is within its 1% bound; the
``--ci`` interval (sketch replicates, Poisson(1) row counts) is within 1% of the percentile interval
of the replicates' exact weighted lower quantiles; NPY and NPZ files equal scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest

from regloss.cli.main import main
from regloss.metrics.poisson import poisson_weights

pd = pytest.importorskip("pandas")
sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def frame():
    rng = np.random.default_rng(1)
    n = 1200
    y_true = rng.standard_cauchy(n)
    return pd.DataFrame(
        {
            "t": y_true,
            "p": np.round(y_true + rng.normal(size=n), 1),
            "g": rng.choice(["a", "9", "10", ""], n),
            "w": rng.integers(0, 4, n).astype(np.float64),
        }
    )


def _run(capsys, *argv):
    code = main(["evaluate", *argv, "--format", "json", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _lower(errors, weights, q):
    """The weighted lower quantile: the smallest value whose cumulative weight reaches q W."""
    order = np.argsort(errors, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = np.searchsorted(cumulative, max(q * cumulative[-1], np.nextafter(0, 1)))
    return errors[order][index]


@pytest.mark.parametrize("weighted", [False, True])
def test_exact_by_group_equals_sklearn(tmp_path, capsys, frame, weighted):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    extra = ["--weight", "w"] if weighted else []
    argv = [str(path), "--y-true", "t", "--y-pred", "p", "--by", "g", "--chunk-rows", "101", *extra]
    found = _run(capsys, *argv, "--metrics", "mae,median_ae")
    keys = {"a": "a", "9": "9", "10": "10", "": None}  # text keys ("a" is no number); "" is missing
    shown = {json.dumps(group["by"]["g"]): group["metrics"] for group in found["groups"]}
    assert len(shown) == 4
    for text, key in keys.items():
        rows = frame[frame["g"] == text]
        weights = rows["w"].to_numpy() if weighted else None
        expected = sklearn_metrics.median_absolute_error(rows["t"], rows["p"], sample_weight=weights)
        assert shown[json.dumps(key)]["median_ae"]["value"] == expected
    whole = frame["w"].to_numpy() if weighted else None
    assert found["metrics"]["median_ae"]["value"] == sklearn_metrics.median_absolute_error(
        frame["t"], frame["p"], sample_weight=whole
    )
    sketched = _run(capsys, *argv, "--metrics", "ae_quantile:q=0.9", "--quantiles", "sketch")
    for group in sketched["groups"]:
        key = group["by"]["g"]
        rows = frame[frame["g"] == ("" if key is None else key)]
        errors = np.abs(rows["p"] - rows["t"]).to_numpy()
        weights = rows["w"].to_numpy() if weighted else np.ones(len(rows))
        lower = _lower(errors, weights, 0.9)
        assert abs(group["metrics"]["ae_quantile:q=0.9"]["value"] - lower) <= 0.01 * lower


@pytest.mark.parametrize("mode", ["exact", "sketch"])
def test_ci_is_the_replicates_percentile_interval(tmp_path, capsys, frame, mode):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    replicates, confidence, seed = 40, 0.9, 3
    found = _run(
        capsys,
        *[str(path), "--y-true", "t", "--y-pred", "p", "--metrics", "median_ae", "--chunk-rows", "97"],
        *["--ci", str(confidence), "--replicates", str(replicates), "--seed", str(seed)],
        *["--quantiles", mode],
    )["metrics"]["median_ae"]
    errors = np.abs(frame["p"] - frame["t"]).to_numpy()
    expected = sklearn_metrics.median_absolute_error(frame["t"], frame["p"])
    if mode == "exact":
        assert found["value"] == expected
    else:
        lower = _lower(errors, np.ones(len(errors)), 0.5)
        assert abs(found["value"] - lower) <= 0.01 * lower
    import array_api_compat.numpy as xp

    counts = np.asarray(poisson_weights(xp, seed, 0, len(errors), replicates, dtype=xp.float64))
    values = np.array([_lower(errors, row, 0.5) for row in counts])
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    assert abs(found["ci_low"] - low) <= 0.01 * low
    assert abs(found["ci_high"] - high) <= 0.01 * high
    assert found["ci_low"] <= found["ci_high"]


def test_npy_and_npz_exact_equal_sklearn(tmp_path, capsys, frame):
    table = frame[["t", "p"]].to_numpy()
    np.save(tmp_path / "data.npy", table)
    np.savez(tmp_path / "data.npz", t=table[:, 0], p=table[:, 1])
    expected = sklearn_metrics.median_absolute_error(table[:, 0], table[:, 1])
    found = _run(
        capsys, str(tmp_path / "data.npy"), "--y-true", "c0", "--y-pred", "c1", "--metrics", "median_ae"
    )
    assert found["metrics"]["median_ae"]["value"] == expected
    found = _run(
        capsys, str(tmp_path / "data.npz"), "--y-true", "t", "--y-pred", "p", "--metrics", "median_ae"
    )
    assert found["metrics"]["median_ae"]["value"] == expected


@pytest.fixture
def parts(tmp_path):
    pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(2)
    frames = []
    for i, n in enumerate([700, 1, 512]):
        y_true = rng.standard_cauchy((n, 2))
        part = pd.DataFrame(
            {
                "t_a": y_true[:, 0],
                "t_b": y_true[:, 1],
                "p_a": np.round(y_true[:, 0] + rng.normal(size=n), 1),
                "p_b": np.round(y_true[:, 1] + rng.normal(size=n), 1),
                "w": rng.integers(0, 4, n).astype(np.float64),
            }
        )
        part.to_csv(tmp_path / f"part{i}.csv", index=False, float_format="%.17g")
        frames.append(part)
    return str(tmp_path / "part*.csv"), pd.concat(frames)


@pytest.mark.parametrize("weighted", [False, True])
def test_dask_engine_exact_equals_sklearn_and_sketch_within_bound(capsys, parts, weighted):
    pattern, frame = parts
    truth, pred = frame[["t_a", "t_b"]].to_numpy(), frame[["p_a", "p_b"]].to_numpy()
    weights = frame["w"].to_numpy() if weighted else None
    columns = ["--y-true", "t_a,t_b", "--y-pred", "p_a,p_b", *(["--weight", "w"] if weighted else [])]
    argv = [pattern, "--engine", "dask", *columns, "--metrics", "median_ae,mae"]
    found = _run(capsys, *argv)["metrics"]
    assert found["median_ae"]["value"] == sklearn_metrics.median_absolute_error(
        truth, pred, sample_weight=weights
    )
    assert found["mae"]["value"] == pytest.approx(
        sklearn_metrics.mean_absolute_error(truth, pred, sample_weight=weights), rel=1e-12
    )
    sketched = _run(capsys, *argv, "--quantiles", "sketch")["metrics"]["median_ae"]["value"]
    errors = np.abs(pred - truth)
    lower = [_lower(errors[:, j], np.ones(len(errors)) if weights is None else weights, 0.5) for j in (0, 1)]
    assert abs(sketched - np.mean(lower)) <= 0.01 * np.mean(lower)


@pytest.mark.parametrize("extra", [["--by", "w"], ["--ci", "0.9"]])
def test_dask_engine_with_by_or_ci_exits_2_with_one_line(capsys, parts, extra):
    pattern, _ = parts
    argv = ["evaluate", pattern, "--engine", "dask", "--y-true", "t_a", "--y-pred", "p_a", *extra]
    assert main([*argv, "--metrics", "median_ae"]) == 2
    err = capsys.readouterr().err
    assert "--engine dask work without --by and --ci" in err and len(err.strip().splitlines()) == 1


def test_losses_lists_the_quantile_metrics_and_their_long_names_work(tmp_path, capsys, frame):
    assert main(["losses"]) == 0
    text = capsys.readouterr().out
    assert "  median_ae  (class AbsoluteErrorQuantile)" in text
    assert "  ae_quantile  (class AbsoluteErrorQuantile)" in text
    assert "parameters:  q (required)  (as ae_quantile:NAME=VALUE)" in text
    assert "median_absolute_error" in text and "absolute_error_quantile" in text
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    argv = [str(path), "--y-true", "t", "--y-pred", "p", "--metrics"]
    found = _run(capsys, *argv, "median_absolute_error,absolute_error_quantile:q=0.5")["metrics"]
    expected = sklearn_metrics.median_absolute_error(frame["t"], frame["p"])
    assert found["median_absolute_error"]["value"] == expected
    assert found["absolute_error_quantile:q=0.5"]["value"] == expected


def test_exact_by_group_with_ci(tmp_path, capsys, frame):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    argv = [str(path), "--y-true", "t", "--y-pred", "p", "--by", "g", "--metrics", "median_ae,mae"]
    found = _run(capsys, *argv, "--ci", "0.9", "--replicates", "30")
    assert len(found["groups"]) == 4
    for group in found["groups"]:
        key = group["by"]["g"]
        rows = frame[frame["g"] == ("" if key is None else key)]
        median = group["metrics"]["median_ae"]
        assert median["value"] == sklearn_metrics.median_absolute_error(rows["t"], rows["p"])
        assert median["ci_low"] <= median["ci_high"] and median["se"] > 0
        assert "ci_low" in group["metrics"]["mae"]
