"""``regloss.dask.evaluate(..., by=...)`` and ``regloss evaluate --engine dask --by``: the same
per-group numbers as pandas ``groupby`` plus scikit-learn, as ``Grouped`` in memory, and as the
local command line; lazy with ``compute=False``."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
pytest.importorskip("pyarrow")

from regloss.dask import evaluate  # noqa: E402
from regloss.metrics import Bootstrap, Grouped, MeanAbsoluteError, R2Score  # noqa: E402
from tests.test_cli import run_cli  # noqa: E402


def _frame(rows=2400, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "west"], rows).astype(object)
    region[rng.random(rows) < 0.05] = None
    y_true = rng.normal(size=rows)
    return pd.DataFrame(
        {
            "region": region,
            "hour": rng.integers(0, 4, rows),
            "weight": rng.random(rows),
            "y_true": y_true,
            "y_pred": y_true + rng.normal(size=rows),
        }
    )


def test_groups_match_pandas_sklearn_and_grouped_in_memory():
    frame = _frame()
    ddf = dd.from_pandas(frame, npartitions=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        found = evaluate(ddf["y_true"], ddf["y_pred"], ["mae", "r2"], ddf["weight"], by="region")
    assert set(found) == {"overall", "groups"}
    assert list(found["groups"])[-1] is None  # missing keys: one group, last
    for key, group in frame.groupby("region", dropna=False):
        key = None if isinstance(key, float) and math.isnan(key) else key
        expected_mae = skm.mean_absolute_error(group.y_true, group.y_pred, sample_weight=group.weight)
        expected_r2 = skm.r2_score(group.y_true, group.y_pred, sample_weight=group.weight)
        assert found["groups"][key]["mae"] == pytest.approx(expected_mae, rel=1e-12)
        assert found["groups"][key]["r2"] == pytest.approx(expected_r2, rel=1e-12)
    memory = Grouped(R2Score(dtype="float64"))
    memory.update_state(frame.y_true, frame.y_pred, frame.weight, groups=frame.region.to_numpy())
    for key, value in memory.result().items():
        assert found["groups"][key]["r2"] == pytest.approx(float(value), rel=1e-12)
    overall = evaluate(ddf["y_true"], ddf["y_pred"], ["mae", "r2"], ddf["weight"])
    assert found["overall"] == overall


def test_arrays_lazy_intervals_and_tuple_keys():
    frame = _frame(seed=1)
    t = da.from_array(frame.y_true.to_numpy(), chunks=500)
    p = da.from_array(frame.y_pred.to_numpy(), chunks=700)
    keys = da.from_array(frame.hour.to_numpy(), chunks=300)
    lazy = evaluate(t, p, "mae", by=keys, compute=False, confidence=0.9, num_replicates=40, seed=3)
    assert dask.is_dask_collection(lazy)  # nothing computed yet
    found = lazy.compute()
    memory = Grouped(Bootstrap(MeanAbsoluteError(dtype="float64"), num_replicates=40, confidence=0.9, seed=3))
    memory.update_state(frame.y_true.to_numpy(), frame.y_pred.to_numpy(), groups=frame.hour.to_numpy())
    assert list(found["groups"]) == list(memory.result()) == [0, 1, 2, 3]
    for key, expected in memory.result().items():
        entry = found["groups"][key]["mae"]
        for part in ("value", "ci_low", "ci_high", "se"):
            assert entry[part] == pytest.approx(float(getattr(expected, part)), rel=1e-12)
        assert entry["replicates"] == 40
    ddf = dd.from_pandas(frame, npartitions=3)
    pairs = evaluate(
        ddf["y_true"], ddf["y_pred"], "mse", by=ddf[["hour", "region"]].astype({"region": object})
    )
    for (hour, region), group in frame.groupby(["hour", "region"]):
        expected = skm.mean_squared_error(group.y_true, group.y_pred)
        assert pairs["groups"][(hour, region)]["mse"] == pytest.approx(expected, rel=1e-12)


def test_a_column_name_needs_dataframe_columns():
    t = da.zeros(4, chunks=2)
    with pytest.raises(ValueError, match="by='region' names a column"):
        evaluate(t, t, "mae", by="region")


def test_cli_dask_equals_cli_local(tmp_path):
    frame = _frame(rows=1500, seed=2)
    directory = tmp_path / "parts"
    directory.mkdir()
    for i, start in enumerate(range(0, len(frame), 500)):
        frame.iloc[start : start + 500].to_parquet(directory / f"part{i}.parquet", index=False)
    frame.to_parquet(tmp_path / "all.parquet", index=False)
    args = [
        "--by",
        "region",
        "--weight",
        "weight",
        "--metrics",
        "mae,r2",
        "--ci",
        "0.9",
        "--replicates",
        "30",
    ]
    outputs = []
    for command in (
        ["evaluate", tmp_path / "all.parquet", *args],
        ["evaluate", directory, "--engine", "dask", *args],
    ):
        result = run_cli(*command, "--format", "json")
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    local, distributed = outputs
    assert [g["by"] for g in local["groups"]] == [g["by"] for g in distributed["groups"]]
    for mine, theirs in zip(local["groups"], distributed["groups"], strict=True):
        assert mine["rows"] == theirs["rows"]
        for name in ("mae", "r2"):
            for part in ("value", "ci_low", "ci_high", "se"):
                assert mine["metrics"][name][part] == pytest.approx(theirs["metrics"][name][part], rel=1e-9)
