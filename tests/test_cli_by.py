"""``regloss evaluate --by``: per-group metrics against pandas ``groupby`` plus scikit-learn, in every
format, with intervals, and the bad-input one-liners (exit status 2, one line, nothing written)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from regloss.metrics import Bootstrap, Grouped, MeanAbsoluteError
from tests.test_cli import assert_error, needs_matplotlib, needs_pyarrow, run_main

TOLERANCE = 1e-12
SKLEARN = {
    "mse": skm.mean_squared_error,
    "rmse": skm.root_mean_squared_error,
    "mae": skm.mean_absolute_error,
    "r2": skm.r2_score,
}


def _frame(rows=3000, groups=150, seed=0) -> pd.DataFrame:
    """Long-format rows: text keys (many groups, five one-row groups, one group of zero weights,
    missing keys), an integer column, a weight, the truth and a prediction."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, groups, rows)
    station = np.array([f"s{code:03d}" for code in codes], dtype=object)
    station[:5] = [f"lonely{i}" for i in range(5)]
    station[rng.random(rows) < 0.03] = None
    weight = rng.random(rows) + 0.1
    weight[station == "s007"] = 0.0
    y_true = rng.normal(size=rows) * 2 + codes * 0.01
    y_pred = y_true + rng.normal(size=rows) * (1 + codes / groups)
    return pd.DataFrame(
        {
            "station": station,
            "hour": rng.integers(0, 3, rows),
            "weight": weight,
            "y_true": y_true,
            "y_pred": y_pred,
        }
    )


def _json(*args) -> dict:
    result = run_main("evaluate", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _expected(frame: pd.DataFrame, by: list[str], weighted: bool) -> dict:
    """``{key tuple: {metric: value}}`` from pandas groupby + scikit-learn (None: no value there)."""
    found = {}
    for key, group in frame.groupby(by, dropna=False):
        key = tuple(None if isinstance(k, float) and math.isnan(k) else k for k in key)
        weight = group["weight"].to_numpy() if weighted else None
        values = {}
        for name, function in SKLEARN.items():
            if weight is not None and weight.sum() == 0 or len(group) < 2 and name == "r2":
                values[name] = None
            else:
                values[name] = function(group["y_true"], group["y_pred"], sample_weight=weight)
        found[key] = (len(group), values)
    return found


def _check_groups(document: dict, expected: dict, by: list[str]) -> None:
    keys = [tuple(group["by"][column] for column in by) for group in document["groups"]]
    assert sorted(keys, key=lambda k: tuple((v is None, v if v is not None else "") for v in k)) == keys
    assert set(keys) == set(expected)
    for group, key in zip(document["groups"], keys, strict=True):
        rows, values = expected[key]
        assert group["rows"] == rows
        for name, value in values.items():
            if value is not None:
                found = group["metrics"][name]["value"]
                assert abs(found - value) <= TOLERANCE * max(1.0, abs(value)), (key, name)


@pytest.mark.parametrize("weighted", [False, True])
def test_csv_by_a_text_column_matches_pandas_and_sklearn(tmp_path, weighted):
    frame = _frame()
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    weight = ["--weight", "weight"] if weighted else []
    document = _json(path, "--by", "station", "--chunk-rows", "97", *weight)
    assert set(document) == {
        "regloss",
        "rows",
        "dropped_rows",
        "weight",
        "y_true",
        "y_pred",
        "metrics",
        "groups",
    }
    _check_groups(document, _expected(frame, ["station"], weighted), ["station"])
    assert document["groups"][-1]["by"] == {"station": None}  # missing keys: one group, last
    overall = _json(path, "--chunk-rows", "97", *weight)
    assert document["metrics"] == overall["metrics"]  # the overall row is the run without --by


@needs_pyarrow
def test_every_format_and_two_columns_give_the_same_groups(tmp_path):
    frame = _frame(rows=1200, groups=12, seed=1)
    frame["station"] = frame["station"].fillna("missing")
    numeric = frame.assign(station=frame["station"].astype("category").cat.codes.astype(np.int64))
    expected = _expected(numeric, ["station", "hour"], True)
    paths = []
    numeric.to_csv(tmp_path / "a.csv", index=False)
    numeric.to_csv(tmp_path / "a.csv.gz", index=False, compression="gzip")
    numeric.to_parquet(tmp_path / "a.parquet", index=False, row_group_size=300)
    np.savez(tmp_path / "a.npz", **{name: numeric[name].to_numpy() for name in numeric})
    records = numeric.to_records(index=False)
    np.save(tmp_path / "a.npy", records.astype([(n, records.dtype[n]) for n in records.dtype.names]))
    paths = ["a.csv", "a.csv.gz", "a.parquet", "a.npz", "a.npy"]
    for name in paths:
        document = _json(tmp_path / name, "--by", "station,hour", "--weight", "weight", "--chunk-rows", "250")
        _check_groups(document, expected, ["station", "hour"])
        assert all(isinstance(group["by"]["hour"], int) for group in document["groups"]), name


@needs_pyarrow
def test_parquet_keys_of_text_booleans_and_nulls(tmp_path):
    frame = _frame(rows=800, groups=6, seed=2)
    frame["flag"] = pd.array(np.arange(800) % 3 == 0, dtype="boolean")
    frame.loc[::7, "flag"] = pd.NA
    frame.to_parquet(tmp_path / "b.parquet", index=False)
    document = _json(tmp_path / "b.parquet", "--by", "station,flag", "--weight", "weight")
    expected = _expected(frame.astype({"flag": object}).replace({pd.NA: None}), ["station", "flag"], True)
    _check_groups(document, expected, ["station", "flag"])


def test_two_files_take_the_group_columns_from_the_first(tmp_path):
    frame = _frame(rows=900, groups=9, seed=3)
    frame[["station", "weight", "y_true"]].to_csv(tmp_path / "truth.csv", index=False)
    frame[["y_pred"]].to_csv(tmp_path / "pred.csv", index=False)
    document = _json(tmp_path / "truth.csv", tmp_path / "pred.csv", "--by", "station", "--weight", "weight")
    _check_groups(document, _expected(frame, ["station"], True), ["station"])


def test_multi_output_per_output_metrics_per_group(tmp_path):
    rng = np.random.default_rng(4)
    rows = 600
    truth = rng.normal(size=(rows, 2))
    pred = truth + rng.normal(size=(rows, 2))
    region = rng.choice(["north", "south", "east"], rows)
    frame = pd.DataFrame(
        {
            "region": region,
            "y_true_a": truth[:, 0],
            "y_true_b": truth[:, 1],
            "y_pred_a": pred[:, 0],
            "y_pred_b": pred[:, 1],
        }
    )
    frame.to_csv(tmp_path / "m.csv", index=False)
    document = _json(tmp_path / "m.csv", "--by", "region", "--metrics", "mae_per_output,r2_per_output,mse")
    for group in document["groups"]:
        chosen = region == group["by"]["region"]
        t, p = truth[chosen], pred[chosen]
        np.testing.assert_allclose(
            group["metrics"]["mae_per_output"]["value"],
            skm.mean_absolute_error(t, p, multioutput="raw_values"),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            group["metrics"]["r2_per_output"]["value"],
            skm.r2_score(t, p, multioutput="raw_values"),
            rtol=1e-11,
        )
        assert group["metrics"]["mae_per_output"]["outputs"] == ["y_true_a", "y_true_b"]
        np.testing.assert_allclose(group["metrics"]["mse"]["value"], skm.mean_squared_error(t, p), rtol=1e-12)


def test_ci_per_group_equals_python_and_keeps_the_rows_poisson_counts(tmp_path):
    frame = _frame(rows=1500, groups=5, seed=5)
    frame.to_csv(tmp_path / "c.csv", index=False)
    args = ("--weight", "weight", "--metrics", "mae", "--ci", "0.9", "--replicates", "50", "--seed", "7")
    args += ("--chunk-rows", "333")
    document = _json(tmp_path / "c.csv", "--by", "station", *args)
    assert document["metrics"] == _json(tmp_path / "c.csv", *args)["metrics"]  # same overall interval
    keys = frame["station"].to_numpy()
    for group in document["groups"]:
        key = group["by"]["station"]
        chosen = pd.isna(keys) if key is None else keys == key
        alone = Bootstrap(MeanAbsoluteError(dtype="float64"), num_replicates=50, confidence=0.9, seed=7)
        alone.update_state(frame["y_true"], frame["y_pred"], frame["weight"], mask=chosen)
        expected = alone.result()
        entry = group["metrics"]["mae"]
        for part in ("value", "ci_low", "ci_high", "se"):
            assert entry[part] == pytest.approx(float(getattr(expected, part)), rel=1e-12), (key, part)
        assert entry["confidence"] == 0.9 and entry["replicates"] == 50 and entry["seed"] == 7
    python = Grouped(Bootstrap(MeanAbsoluteError(dtype="float64"), num_replicates=50, confidence=0.9, seed=7))
    python.update_state(frame["y_true"], frame["y_pred"], frame["weight"], groups=keys)
    for group, (key, found) in zip(document["groups"], python.result().items(), strict=True):
        assert group["by"]["station"] == key
        assert group["metrics"]["mae"]["ci_high"] == pytest.approx(float(found.ci_high), rel=1e-12)


def test_csv_report_and_table_worst_first_with_top(tmp_path):
    frame = _frame(rows=400, groups=4, seed=6)
    frame.loc[:4, "station"] = "s000"  # no one-row group: every r2 is defined
    frame.to_csv(tmp_path / "d.csv", index=False)
    result = run_main(
        "evaluate", tmp_path / "d.csv", "--by", "station", "--format", "csv", "--metrics", "mae,r2"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "station,metric,output,value"
    assert lines[1].startswith(",mae,,") and lines[2].startswith(",r2,,")
    assert lines[-1].startswith("null,r2,,")
    table = run_main("evaluate", tmp_path / "d.csv", "--by", "station", "--metrics", "r2,mae", "--top", "2")
    assert table.returncode == 0, table.stderr
    tail = table.stdout.split("by station:")[1].splitlines()
    assert "worst first" in tail[0] and "the 2 worst shown" in tail[0]
    shown = [line.split()[0] for line in tail[2:]]
    expected = _expected(frame, ["station"], False)
    r2 = sorted((values["r2"], "null" if key[0] is None else key[0]) for key, (_, values) in expected.items())
    assert shown == [name for _, name in r2[:2]]  # r2: the lowest is the worst


def test_max_groups_and_bad_by_columns_are_one_line_errors(tmp_path):
    frame = _frame(rows=300, groups=20, seed=7)
    frame.to_csv(tmp_path / "e.csv", index=False)
    out = tmp_path / "report.json"
    result = run_main("evaluate", tmp_path / "e.csv", "--by", "station", "--max-groups", "5", "--output", out)
    assert_error(result, "more than 5 distinct groups", "--max-groups")
    assert not out.exists()
    assert_error(
        run_main("evaluate", tmp_path / "e.csv", "--by", "statoin"), "unknown column", "--by", "station"
    )
    assert_error(run_main("evaluate", tmp_path / "e.csv", "--by", "station,"), "--by")
    assert_error(run_main("evaluate", tmp_path / "e.csv", "--by"), "--by", "expected one argument")
    assert_error(run_main("evaluate", tmp_path / "e.csv", "--by", ""), "--by")
    assert_error(run_main("evaluate", tmp_path / "e.csv", "--top", "3"), "--top needs --by")
    assert_error(run_main("evaluate", tmp_path / "e.csv", "--by", "station", "--top", "0"), "--top")
    assert_error(
        run_main("evaluate", tmp_path / "e.csv", "--by", "station", "--max-groups", "x"), "--max-groups"
    )


@needs_matplotlib
def test_plot_per_group_bars_with_intervals(tmp_path):
    frame = _frame(rows=500, groups=8, seed=8)
    frame.to_csv(tmp_path / "f.csv", index=False)
    figure = tmp_path / "groups.png"
    result = run_main(
        "evaluate", tmp_path / "f.csv", "--by", "station", "--ci", "0.9", "--replicates", "20",
        "--metrics", "mae,r2", "--plot", figure, "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
