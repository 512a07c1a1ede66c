"""``regloss.metrics.Grouped``: every metric per group, against pandas ``groupby`` plus scikit-learn.

References: pandas groups the rows (``dropna=False``: NaN keys form one group), scikit-learn's
metrics with ``sample_weight`` score each group in float64; a group's bootstrap is compared with
``Bootstrap`` fed all rows with the other groups masked out (the same rows, the same global indices,
so the same Poisson counts), and streaming, sharding and merging with the one-shot state.
"""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import regloss.metrics as rm
from regloss.metrics import Bootstrap, Grouped

TOLERANCE = 1e-12

SKLEARN = {
    "MeanAbsoluteError": skm.mean_absolute_error,
    "MeanSquaredError": skm.mean_squared_error,
    "RootMeanSquaredError": skm.root_mean_squared_error,
    "R2Score": skm.r2_score,
}


def _data(rows=4000, groups=300, seed=0, outputs=1):
    """Random data with many groups, one-row groups, a group of zero weights and NaN keys."""
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, groups, rows).astype(np.float64)
    keys[:5] = 1000.0 + np.arange(5)  # five one-row groups
    keys[rng.random(rows) < 0.03] = np.nan
    weight = rng.random(rows) + 0.1
    weight[keys == 7] = 0.0  # a group whose weights are all zero
    shape = (rows,) if outputs == 1 else (rows, outputs)
    y_true = rng.normal(size=shape) * 3 + 1
    y_pred = y_true + rng.normal(size=shape)
    return keys, y_true, y_pred, weight


def _reference(name, keys, y_true, y_pred, weight):
    """``{key: value}`` from pandas groupby + scikit-learn with sample_weight (NaN key -> None)."""
    frame = pd.DataFrame({"key": keys, "row": np.arange(len(keys))})
    found = {}
    for key, rows in frame.groupby("key", dropna=False)["row"]:
        index = rows.to_numpy()
        w = None if weight is None else weight[index]
        key = None if isinstance(key, float) and np.isnan(key) else key
        if w is not None and w.sum() == 0:
            found[key] = None  # scikit-learn refuses weights summing to zero
            continue
        found[key] = SKLEARN[name](y_true[index], y_pred[index], sample_weight=w)
    return found


@pytest.mark.parametrize("name", sorted(SKLEARN))
@pytest.mark.parametrize("weighted", [False, True])
def test_groups_match_pandas_groupby_and_sklearn(name, weighted):
    keys, y_true, y_pred, weight = _data()
    weight = weight if weighted else None
    metric = Grouped(getattr(rm, name)(dtype="float64"))
    for start in range(0, len(keys), 700):  # streamed: groups span batches
        part = slice(start, start + 700)
        metric.update_state(
            y_true[part], y_pred[part], None if weight is None else weight[part], groups=keys[part]
        )
    found = metric.result()
    expected = _reference(name, keys, y_true, y_pred, weight)
    assert list(found) == sorted(expected, key=lambda k: (k is None, k if k is not None else 0))
    for key, value in expected.items():
        if value is None or np.isnan(value):
            # scikit-learn has no value (weights summing to 0; R2 of one row): regloss gives the
            # metric of that group's rows alone (Keras's rules)
            chosen = np.isnan(keys) if key is None else keys == key
            alone = getattr(rm, name)(dtype="float64")
            alone.update_state(y_true[chosen], y_pred[chosen], None if weight is None else weight[chosen])
            np.testing.assert_equal(float(found[key]), float(alone.result()))
            continue
        assert abs(float(found[key]) - value) <= TOLERANCE * max(1.0, abs(value)), key
    assert found[1000.0].dtype == np.float64 and found[1000.0].shape == ()
    counts = metric.row_counts()
    assert counts[None] == int(np.isnan(keys).sum())
    assert counts[1000.0] == 1


def test_a_group_of_zero_weights_is_the_metric_of_zero_weights():
    keys, y_true, y_pred, weight = _data()
    for cls in (rm.MeanAbsoluteError, rm.R2Score):
        grouped = Grouped(cls(dtype="float64"))
        grouped.update_state(y_true, y_pred, weight, groups=keys)
        alone = cls(dtype="float64")
        alone.update_state(y_true[keys == 7], y_pred[keys == 7], weight[keys == 7])
        np.testing.assert_equal(float(grouped.result()[7.0]), float(alone.result()))
    assert float(Grouped(rm.MeanAbsoluteError()).result().get(7.0, 0.0)) == 0.0


def test_multi_output_r2_per_output():
    keys, y_true, y_pred, weight = _data(outputs=3)
    metric = Grouped(rm.R2Score(class_aggregation=None, dtype="float64"))
    metric.update_state(y_true, y_pred, weight, groups=keys)
    found = metric.result()
    frame = pd.DataFrame({"key": keys})
    for key, rows in frame.groupby("key").groups.items():
        index = np.asarray(rows)
        if weight[index].sum() == 0 or len(index) < 2:
            continue
        expected = skm.r2_score(
            y_true[index], y_pred[index], sample_weight=weight[index], multioutput="raw_values"
        )
        np.testing.assert_allclose(found[key], expected, rtol=1e-10, atol=1e-12)


def test_streaming_equals_one_shot_and_shards_merge():
    keys, y_true, y_pred, weight = _data(seed=1)
    one_shot = Grouped(rm.MeanSquaredError(dtype="float64"))
    one_shot.update_state(y_true, y_pred, weight, groups=keys)
    shards = []
    for start in range(0, len(keys), 999):
        shard = Grouped(rm.MeanSquaredError(dtype="float64"))
        part = slice(start, start + 999)
        shard.update_state(y_true[part], y_pred[part], weight[part], groups=keys[part])
        shards.append(shard)
    merged = Grouped(rm.MeanSquaredError(dtype="float64"))
    merged.merge_state(*reversed(shards))
    expected = one_shot.result()
    found = merged.result()
    assert list(found) == list(expected)
    for key in expected:
        assert abs(float(found[key]) - float(expected[key])) <= TOLERANCE * max(1, abs(float(expected[key])))
    assert merged.row_counts() == one_shot.row_counts()


def test_bootstrap_per_group_is_the_bootstrap_of_that_groups_rows():
    keys, y_true, y_pred, weight = _data(rows=3000, groups=20, seed=2)
    grouped = Grouped(Bootstrap(rm.MeanAbsoluteError(dtype="float64"), num_replicates=64, seed=5))
    for start in range(0, len(keys), 1100):
        part = slice(start, start + 1100)
        grouped.update_state(y_true[part], y_pred[part], weight[part], groups=keys[part])
    found = grouped.result()
    for key in (3.0, 11.0, None):
        chosen = np.isnan(keys) if key is None else keys == key
        alone = Bootstrap(rm.MeanAbsoluteError(dtype="float64"), num_replicates=64, seed=5)
        alone.update_state(y_true, y_pred, weight, mask=chosen)  # same rows, same global indices
        expected = alone.result()
        for part in ("value", "ci_low", "ci_high", "se"):
            np.testing.assert_allclose(getattr(found[key], part), getattr(expected, part), rtol=1e-12)
    assert found[3.0].ci_low < found[3.0].value < found[3.0].ci_high


def test_bootstrap_of_r2_per_group():
    keys, y_true, y_pred, weight = _data(rows=2000, groups=5, seed=3)
    grouped = Grouped(Bootstrap(rm.R2Score(dtype="float64"), num_replicates=40, seed=1))
    grouped.update_state(y_true, y_pred, weight, groups=keys)
    key = 2.0
    alone = Bootstrap(rm.R2Score(dtype="float64"), num_replicates=40, seed=1)
    alone.update_state(y_true, y_pred, weight, mask=keys == key)
    for part in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(
            getattr(grouped.result()[key], part), getattr(alone.result(), part), rtol=1e-9
        )


def test_string_keys_with_missing_values_and_tuple_keys():
    y_true = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y_pred = np.array([1.0, 3.0, 3.0, 6.0, 5.0, 9.0])
    metric = Grouped(rm.MeanAbsoluteError(dtype="float64"))
    metric.update_state(y_true, y_pred, groups=np.array(["b", "a", None, "b", np.nan, "a"], dtype=object))
    assert {k: float(v) for k, v in metric.result().items()} == {"a": 2.0, "b": 1.0, None: 0.0}
    pairs = Grouped(rm.MeanAbsoluteError(dtype="float64"))
    pairs.update_state(
        y_true, y_pred, groups=(np.array(["x", "x", "y", "y", "y", "x"]), np.array([1, 2, 1, 1, 2, 2]))
    )
    assert {k: float(v) for k, v in pairs.result().items()} == {
        ("x", 1): 0.0,
        ("x", 2): 2.0,
        ("y", 1): 1.0,
        ("y", 2): 0.0,
    }


def test_torch_inputs_and_keys():
    torch = pytest.importorskip("torch")
    keys, y_true, y_pred, weight = _data(rows=500, groups=10)
    host = Grouped(rm.MeanAbsoluteError(dtype="float64"))
    host.update_state(y_true, y_pred, weight, groups=keys)
    device = Grouped(rm.MeanAbsoluteError(dtype="float64"))
    device.update_state(
        torch.asarray(y_true), torch.asarray(y_pred), torch.asarray(weight), groups=torch.asarray(keys)
    )
    for key, value in host.result().items():
        assert abs(float(device.result()[key]) - float(value)) <= TOLERANCE


def test_configs_pickles_and_copies():
    keys, y_true, y_pred, weight = _data(rows=300, groups=7)
    for metric in (
        Grouped(rm.Huber(delta=0.5, dtype="float64"), name="huber_slices"),
        Grouped(Bootstrap(rm.MeanAbsoluteError(), num_replicates=10, seed=2)),
    ):
        metric.update_state(y_true, y_pred, weight, groups=keys)
        config = json.loads(json.dumps(metric.get_config()))
        rebuilt = Grouped.from_config(config)
        assert rebuilt.get_config() == metric.get_config()
        for copied in (pickle.loads(pickle.dumps(metric)), copy.deepcopy(metric)):
            assert repr(copied.result()) == repr(metric.result())
        rebuilt.update_state(y_true, y_pred, weight, groups=keys)
        assert repr(rebuilt.result()) == repr(metric.result())
        metric.reset_state()
        assert metric.result() == {}


def test_bad_input_is_refused_and_leaves_the_state():
    metric = Grouped(rm.MeanAbsoluteError())
    metric.update_state([1.0, 2.0], [1.0, 1.0], groups=["a", "b"])
    before = repr(metric.result())
    with pytest.raises(ValueError, match="one key per row: the batch has 2 rows, groups has 3"):
        metric.update_state([1.0, 2.0], [1.0, 1.0], groups=["a", "b", "c"])
    with pytest.raises(TypeError, match="groups"):
        metric.update_state([1.0, 2.0], [1.0, 1.0], groups=None)
    with pytest.raises(ValueError, match="groups must be a 1-D array"):
        metric.update_state([1.0, 2.0], [1.0, 1.0], groups=np.zeros((2, 2, 2)))
    assert repr(metric.result()) == before
    with pytest.raises(TypeError, match="metric must be"):
        Grouped("mae")
    with pytest.raises(TypeError, match=r"Grouped\(Bootstrap\(metric\)\)"):
        Bootstrap(metric)
    with pytest.raises(ValueError, match="one configuration"):
        metric.merge_state(Grouped(rm.MeanAbsoluteError(), name="x") if False else Grouped(rm.Huber()))
    with pytest.raises(TypeError, match="takes Grouped"):
        metric.merge_state(rm.MeanAbsoluteError())
    keys = np.array(["a", "b"])
    metric.update_state(np.zeros(2), np.ones(2), groups=keys)
    np.testing.assert_array_equal(keys, ["a", "b"])  # nothing the caller passed is modified


def test_the_guides_python_blocks_print_what_they_say():
    """docs/slices.md: every Python block runs and prints the lines written under it as comments."""
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[1]
    text = (root / "docs" / "slices.md").read_text()
    blocks = [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]
    assert blocks
    for block in blocks:
        lines = block.splitlines()
        expected = [
            line[2:]
            for before, line in zip(lines, lines[1:], strict=False)
            if line.startswith("# ") and "print(" in before
        ]
        result = subprocess.run(
            [sys.executable, "-c", block], capture_output=True, text=True, cwd=root, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == expected
