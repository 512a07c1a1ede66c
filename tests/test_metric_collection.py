"""MetricCollection: metrics fed the same batches, sharing one pass over each batch.

The collection's results are compared with the same metrics updated one by one (each tested
against Keras and a float64 reference in tests/test_metrics.py) and, for MSE and R2, with an
independent float64 NumPy reference: to 1e-12 relative on the shared pass (the same sums in another
order), bit for bit on the paths that update each metric on its own.
"""

from __future__ import annotations

import copy
import pickle
import tracemalloc

import numpy as np
import pytest

from regloss import config
from regloss import metrics as rm
from regloss.metrics import collection as co

from ._helpers import threads

ROWS = 70_000  # at least the numba tier's 65536 elements with one output


def _members():
    return [
        rm.MeanSquaredError(dtype="float64"),
        rm.RootMeanSquaredError(dtype="float64"),
        rm.MeanAbsoluteError(dtype="float64"),
        rm.MeanAbsolutePercentageError(dtype="float64"),
        rm.Huber(delta=0.7, dtype="float64"),
        rm.R2Score(dtype="float64"),
        rm.R2Score(None, name="r2_each", dtype="float64"),
        rm.R2Score("variance_weighted_average", num_regressors=3, name="r2_adjusted", dtype="float64"),
    ]


def _others(quantile=True):
    """Members that update on their own (the quantile sketch takes no row mask of 2-D inputs)."""
    found = [rm.MeanSquaredLogarithmicError(dtype="float64"), rm.LogCoshError(dtype="float64")]
    return found + [rm.AbsoluteErrorQuantile(0.9, dtype="float64")] if quantile else found


def _batches(rng, shape, weighted, masked, count=3):
    found = []
    for _ in range(count):
        y_true = rng.normal(4.0, 2.0, shape)
        y_pred = y_true + rng.normal(0.0, 1.0, shape)
        weight = rng.uniform(0.0, 2.0, shape[0]) if weighted else None
        if weighted:
            weight[rng.uniform(size=shape[0]) < 0.05] = 0.0
        mask = rng.uniform(size=shape[0]) > 0.2 if masked else None
        if masked:
            y_true[~mask] = np.nan  # a masked-out row reaches no sum
            mask[0] = False  # R2's shift is then a later row
        found.append((y_true, y_pred, weight, mask))
    return found


def _values(result):
    return np.asarray(result, dtype=np.float64)


@pytest.mark.parametrize("shape", [(ROWS,), (ROWS, 1), (ROWS, 3)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_the_collection_equals_the_metrics_updated_one_by_one(shape, weighted, masked):
    rng = np.random.default_rng(sum(shape) + 2 * weighted + masked)
    batches = _batches(rng, shape, weighted, masked)
    y_true, y_pred, weight, mask = batches[0]
    names = [m.name for m in _members()]
    needs = [need for m in _members() for need in m.statistic.shared_needs()]
    assert co.shared_sums(needs, y_true, y_pred, weight, mask) is not None  # the shared pass runs
    quantile = not (masked and len(shape) == 2)
    alone = _members() + _others(quantile)
    together = rm.MetricCollection(_members() + _others(quantile))
    for y_true, y_pred, weight, mask in batches:
        inputs = [a.copy() if a is not None else None for a in (y_true, y_pred, weight, mask)]
        for metric in alone:
            metric.update_state(y_true, y_pred, weight, mask=mask)
        together.update_state(y_true, y_pred, weight, mask=mask)
        for given, kept in zip((y_true, y_pred, weight, mask), inputs, strict=True):
            np.testing.assert_array_equal(given, kept)  # inputs never modified
    results = together.result()
    for metric in alone:
        expected, actual = _values(metric.result()), _values(results[metric.name])
        if metric.name in names:
            np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0, err_msg=metric.name)
        else:
            np.testing.assert_array_equal(actual, expected, err_msg=metric.name)


def test_mse_and_r2_against_a_float64_reference_with_weights_and_a_mask():
    rng = np.random.default_rng(3)
    batches = _batches(rng, (ROWS, 2), weighted=True, masked=True)
    together = rm.MetricCollection([rm.MeanSquaredError(dtype="float64"), rm.R2Score(None, dtype="float64")])
    for batch in batches:
        together.update_state(batch[0], batch[1], batch[2], mask=batch[3])
    y_true, y_pred, weight, mask = (np.concatenate([b[i] for b in batches]) for i in range(4))
    w = (weight * mask)[:, None]
    y_true = np.where(mask[:, None], y_true, 0.0)
    mse = np.sum(w * np.mean((y_true - y_pred) ** 2, axis=1, keepdims=True)) / np.sum(w)
    mean = np.sum(w * y_true, axis=0) / np.sum(w)
    r2 = 1 - np.sum(w * (y_true - y_pred) ** 2, axis=0) / np.sum(w * (y_true - mean) ** 2, axis=0)
    results = together.result()
    np.testing.assert_allclose(_values(results["mean_squared_error"]), mse, rtol=1e-12)
    np.testing.assert_allclose(_values(results["r2_score"]), r2, rtol=1e-12)


@pytest.mark.parametrize("case", ["small", "accelerator none", "float32", "strided"])
def test_batches_outside_the_shared_pass_give_the_separate_results_bit_for_bit(case):
    rng = np.random.default_rng(5)
    rows = 50 if case == "small" else ROWS
    batches = _batches(rng, (rows, 2), weighted=True, masked=False)
    if case == "float32":
        batches = [(t.astype(np.float32), p.astype(np.float32), w, m) for t, p, w, m in batches]
    if case == "strided":
        batches = [(np.asfortranarray(t), p, w, m) for t, p, w, m in batches]
    previous = config.accelerator()
    config.set_accelerator("none" if case == "accelerator none" else previous)
    try:
        y_true, y_pred, weight, mask = batches[0]
        needs = [need for m in _members() for need in m.statistic.shared_needs()]
        assert co.shared_sums(needs, y_true, y_pred, weight, mask) is None
        alone, together = _members(), rm.MetricCollection(_members())
        for y_true, y_pred, weight, _ in batches:
            for metric in alone:
                metric.update_state(y_true, y_pred, weight)
            together.update_state(y_true, y_pred, weight)
    finally:
        config.set_accelerator(previous)
    results = together.result()
    for metric in alone:
        np.testing.assert_array_equal(_values(results[metric.name]), _values(metric.result()))


def test_shared_results_are_bit_identical_for_1_2_and_3_threads():
    rng = np.random.default_rng(7)
    batches = _batches(rng, (3 * ROWS, 3), weighted=True, masked=True, count=2)
    found = []
    for count in (1, 2, 3):
        with threads(count):
            together = rm.MetricCollection(_members())
            for y_true, y_pred, weight, mask in batches:
                together.update_state(y_true, y_pred, weight, mask=mask)
            found.append({name: _values(value) for name, value in together.result().items()})
    for other in found[1:]:
        for name, value in found[0].items():
            np.testing.assert_array_equal(other[name], value)


def test_merge_reset_pickle_and_copies():
    rng = np.random.default_rng(9)
    batches = _batches(rng, (ROWS, 2), weighted=True, masked=False, count=4)
    whole, first, second = (rm.MetricCollection(_members() + _others()) for _ in range(3))
    for i, (y_true, y_pred, weight, _) in enumerate(batches):
        whole.update_state(y_true, y_pred, weight)
        (first if i < 2 else second).update_state(y_true, y_pred, weight)
    restored = pickle.loads(pickle.dumps(first))
    duplicate = copy.deepcopy(first)
    first.merge_state(second)
    restored.merge_state(second)
    expected = whole.result()
    for merged in (first, restored):
        for name, value in merged.result().items():
            # the quantile sketch merges exactly; the sums to rounding
            np.testing.assert_allclose(_values(value), _values(expected[name]), rtol=1e-12, err_msg=name)
    assert duplicate.result().keys() == expected.keys()
    first.reset_state()
    assert all(metric.state is None for metric in (first[name] for name in first))


def test_a_failed_update_or_merge_changes_no_member():
    rng = np.random.default_rng(11)
    together = rm.MetricCollection(_members() + _others())
    y_true, y_pred, weight, _ = _batches(rng, (ROWS, 2), weighted=True, masked=False, count=1)[0]
    together.update_state(y_true, y_pred, weight)
    before = {name: copy.deepcopy(together[name].state) for name in together}
    wider = np.ones((ROWS, 3))
    with pytest.raises(ValueError, match="2 output"):
        together.update_state(wider, wider)
    other = rm.MetricCollection(_members() + _others())
    other["r2_each"].update_state(wider, wider)  # another number of outputs: merging it fails
    with pytest.raises(ValueError):
        together.merge_state(other)
    for name in together:
        after = together[name].state
        if isinstance(before[name], dict):
            for key, value in before[name].items():
                np.testing.assert_array_equal(np.asarray(after[key]), np.asarray(value))
        else:
            assert pickle.dumps(after) == pickle.dumps(before[name])


def test_bad_arguments_name_the_argument_and_the_value():
    with pytest.raises(TypeError, match="metrics must be a list or a dict"):
        rm.MetricCollection(rm.MeanSquaredError())
    with pytest.raises(ValueError, match="at least one"):
        rm.MetricCollection([])
    with pytest.raises(TypeError, match="received str"):
        rm.MetricCollection(["mse"])
    with pytest.raises(ValueError, match="'mean_squared_error' names several"):
        rm.MetricCollection([rm.MeanSquaredError(), rm.MeanSquaredError()])
    with pytest.raises(TypeError, match="MetricCollection objects; received MeanSquaredError"):
        rm.MetricCollection([rm.MeanSquaredError()]).merge_state(rm.MeanSquaredError())
    with pytest.raises(ValueError, match="same metrics"):
        rm.MetricCollection([rm.MeanSquaredError()]).merge_state(rm.MetricCollection([rm.R2Score()]))


def test_bootstraps_in_a_collection_update_on_their_own():
    rng = np.random.default_rng(13)
    batches = _batches(rng, (ROWS, 1), weighted=False, masked=False, count=2)
    alone = rm.Bootstrap(rm.MeanAbsoluteError(dtype="float64"), num_replicates=20, seed=2)
    inside = rm.Bootstrap(rm.MeanAbsoluteError(dtype="float64"), num_replicates=20, seed=2)
    together = rm.MetricCollection({"mae": rm.MeanAbsoluteError(dtype="float64"), "ci": inside})
    for y_true, y_pred, _, _ in batches:
        alone.update_state(y_true, y_pred)
        together.update_state(y_true, y_pred)
    expected, actual = alone.result().as_dict(), together.result()["ci"].as_dict()
    for key in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_array_equal(_values(actual[key]), _values(expected[key]))


def test_peak_memory_of_a_shared_update_below_1_percent_of_the_inputs():
    rng = np.random.default_rng(17)
    y_true = rng.normal(size=(2_000_000, 1))
    y_pred = y_true + 1.0
    weight, mask = rng.uniform(size=2_000_000), rng.uniform(size=2_000_000) > 0.5
    together = rm.MetricCollection(_members())
    together.update_state(y_true, y_pred, weight, mask=mask)  # compiled or loaded before measuring
    tracemalloc.start()
    try:
        together.update_state(y_true, y_pred, weight, mask=mask)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.01 * (y_true.nbytes + y_pred.nbytes + weight.nbytes + mask.nbytes)


def test_update_states_under_jax_jit_equals_each_statistic_updated_alone():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    statistics = [metric.statistic for metric in _members() + _others()[:2]]
    rng = np.random.default_rng(19)
    like = jnp.zeros((8, 3))
    jitted = jax.jit(lambda states, *batch: co.update_states(statistics, states, *batch))
    eager = together = [statistic.init(like) for statistic in statistics]
    for _ in range(3):
        y_true, y_pred = (jnp.asarray(rng.uniform(0.5, 2.0, (8, 3))) for _ in range(2))
        weight, mask = jnp.asarray(rng.uniform(size=8)), jnp.asarray(rng.uniform(size=8) > 0.3)
        eager = [
            s.update(state, y_true, y_pred, weight, mask) for s, state in zip(statistics, eager, strict=True)
        ]
        together = jitted(together, y_true, y_pred, weight, mask)
    for statistic, mine, theirs in zip(statistics, together, eager, strict=True):
        np.testing.assert_allclose(
            np.asarray(statistic.result(mine, "float64")),
            np.asarray(statistic.result(theirs, "float64")),
            rtol=1e-12,
        )


def test_the_command_line_updates_its_sharing_metrics_as_one_collection():
    from regloss.cli.engine import Interval, MetricSet
    from regloss.cli.names import parse_metrics

    requests = parse_metrics("mse,rmse,mae,r2,msle,huber:delta=2")
    metrics = MetricSet(requests, ["a", "b"], huber_delta=1.0)
    shared = {type(metrics._shared[name]).__name__ for name in metrics._shared}
    assert shared == {"MeanSquaredError", "RootMeanSquaredError", "MeanAbsoluteError", "R2Score", "Huber"}
    rng = np.random.default_rng(23)
    y_true = rng.uniform(0.5, 2.0, (ROWS, 2))
    y_pred = y_true * rng.uniform(0.8, 1.2, y_true.shape)
    weight = rng.uniform(size=ROWS)
    metrics.update(y_true, y_pred, weight)
    alone = [
        rm.MeanSquaredError(dtype="float64"),
        rm.RootMeanSquaredError(dtype="float64"),
        rm.MeanAbsoluteError(dtype="float64"),
        rm.R2Score(dtype="float64"),
        rm.MeanSquaredLogarithmicError(dtype="float64"),
        rm.Huber(delta=2.0, dtype="float64"),
    ]
    for metric, result in zip(alone, metrics.results(), strict=True):
        metric.update_state(y_true, y_pred, weight)
        np.testing.assert_allclose(result.value, float(metric.result()), rtol=1e-12, err_msg=result.key)
    assert MetricSet(requests, ["a", "b"], 1.0, Interval(0.9, 20))._shared is None  # --ci: bootstraps
