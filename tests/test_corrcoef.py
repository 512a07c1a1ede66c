"""Dataset-level correlations (issue 22, item 3): ``PearsonCorrCoef`` and ``ConcordanceCorrCoef``.

The peers are torchmetrics 1.9.0 (its classes, float64 states, argument order ``(preds, target)``)
and ``scipy.stats.pearsonr`` on the whole stream; the precision reference is the corrected
two-pass float64 computation of :func:`tests.correlation_reference.ref_dataset_coefficient`
(nothing there imports regloss).
"""

from __future__ import annotations

import copy
import json
import pickle
import warnings

import numpy as np
import pytest

import regloss.metrics as rm
from tests._helpers import library_name, library_of, to_numpy
from tests.correlation_reference import ref_dataset_coefficient
from tests.test_cli import _has_regloss_dask, assert_error, run_cli, write_csv

torch = pytest.importorskip("torch")
torchmetrics = pytest.importorskip("torchmetrics")
scipy_stats = pytest.importorskip("scipy.stats")

CLASSES = {"pearson": rm.PearsonCorrCoef, "ccc": rm.ConcordanceCorrCoef}
PEERS = {"pearson": "PearsonCorrCoef", "ccc": "ConcordanceCorrCoef"}
KINDS = list(CLASSES)


def _data(rng, rows, outputs=None, offset=0.0, spread=1.0):
    shape = (rows,) if outputs is None else (rows, outputs)
    y_true = offset + rng.normal(0.0, spread, size=shape)
    y_pred = 0.8 * y_true + (0.2 * offset) + rng.normal(0.0, 0.7 * spread, size=shape)
    return y_true, y_pred


def _torchmetrics(kind, batches, outputs=1):
    """torchmetrics's value of a stream, float64 states (its default float32 states cancel)."""
    metric = getattr(torchmetrics, PEERS[kind])(num_outputs=outputs).set_dtype(torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its "variance close to zero" warning
        for y_true, y_pred in batches:
            metric.update(
                torch.asarray(y_pred, dtype=torch.float64), torch.asarray(y_true, dtype=torch.float64)
            )
        return metric.compute().numpy()


def _reference(kind, y_true, y_pred, weight=None):
    """Per output (a 1-D input: one value) from the two-pass reference."""
    if y_true.ndim == 1:
        return np.asarray(ref_dataset_coefficient(kind, y_true, y_pred, weight))
    return np.asarray(
        [ref_dataset_coefficient(kind, y_true[:, j], y_pred[:, j], weight) for j in range(y_true.shape[1])]
    )


def _fed(metric, batches, xp=None):
    for batch in batches:
        y_true, y_pred, *rest = batch
        weight = rest[0] if rest else None
        mask = rest[1] if len(rest) > 1 else None
        convert = (lambda a: a) if xp is None else (lambda a: None if a is None else xp.asarray(a))
        metric.update_state(convert(y_true), convert(y_pred), convert(weight), mask=convert(mask))
    return metric


def _split(rng, rows, pieces):
    cuts = np.sort(rng.choice(np.arange(1, rows), size=pieces - 1, replace=False))
    return np.split(np.arange(rows), cuts)


def _value(metric):
    return to_numpy(metric.result()).astype(np.float64)


# ------------------------------------------------------------------------------ the peers


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("outputs", [None, 1, 3])
@pytest.mark.parametrize("seed", range(4))
def test_equals_torchmetrics_and_scipy_on_random_streams(kind, outputs, seed):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(2, 400))
    y_true, y_pred = _data(rng, rows, outputs, offset=rng.uniform(-5, 5), spread=rng.uniform(0.1, 10))
    batches = [(y_true[part], y_pred[part]) for part in _split(rng, rows, min(rows, 5))]
    metric = _fed(CLASSES[kind](num_outputs=outputs or 1, dtype="float64"), batches)
    found = _value(metric)
    expected = _torchmetrics(kind, batches, outputs or 1)
    assert found.shape == expected.shape == (() if outputs in (None, 1) else (outputs,))
    np.testing.assert_allclose(found, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(found, _reference(kind, y_true, y_pred).reshape(found.shape), rtol=1e-12)
    if kind == "pearson":  # SciPy on each whole column
        columns = y_true.reshape(rows, -1), y_pred.reshape(rows, -1)
        scipy = [
            scipy_stats.pearsonr(columns[0][:, j], columns[1][:, j]).statistic
            for j in range(columns[0].shape[1])
        ]
        np.testing.assert_allclose(found.reshape(-1), scipy, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_the_torchmetrics_docstring_examples(kind):
    target, preds = np.array([3.0, -0.5, 2.0, 7.0]), np.array([2.5, 0.0, 2.0, 8.0])
    expected = {"pearson": 0.9849, "ccc": 0.9777}[kind]
    metric = CLASSES[kind]()
    metric.update_state(target, preds)
    assert float(metric.result()) == pytest.approx(expected, abs=5e-5)
    assert metric.result().dtype == np.float32  # as Keras metrics: float32 unless dtype= says otherwise
    two = CLASSES[kind](num_outputs=2)
    two.update_state(np.array([[3, -0.5], [2, 7]]), np.array([[2.5, 0.0], [2, 8]]))
    np.testing.assert_allclose(
        two.result(), {"pearson": [1.0, 1.0], "ccc": [0.7273, 0.9887]}[kind], atol=5e-5
    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_argument_order_does_not_matter(kind):
    rng = np.random.default_rng(3)
    y_true, y_pred = _data(rng, 50, 2)
    forward = _fed(CLASSES[kind](2, dtype="float64"), [(y_true, y_pred)])
    backward = _fed(CLASSES[kind](2, dtype="float64"), [(y_pred, y_true)])
    np.testing.assert_allclose(_value(forward), _value(backward), rtol=1e-14)


# ------------------------------------------------------------------------------ weights and masks


@pytest.mark.parametrize("kind", KINDS)
def test_integer_weights_are_repeated_rows(kind):
    """Frequency weights: a weight of k counts the row k times (torchmetrics on the repeated rows)."""
    rng = np.random.default_rng(5)
    y_true, y_pred = _data(rng, 60, 2)
    weight = rng.integers(0, 4, size=60).astype(np.float64)
    found = _value(
        _fed(
            CLASSES[kind](2, dtype="float64"),
            [(y_true[:25], y_pred[:25], weight[:25]), (y_true[25:], y_pred[25:], weight[25:])],
        )
    )
    repeats = weight.astype(int)
    expected = _torchmetrics(
        kind, [(np.repeat(y_true, repeats, axis=0), np.repeat(y_pred, repeats, axis=0))], 2
    )
    np.testing.assert_allclose(found, expected, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_fractional_weights_and_masks_against_the_reference(kind):
    rng = np.random.default_rng(6)
    y_true, y_pred = _data(rng, 200, 3)
    y_true[7] = np.nan  # masked out: never reaches the sums
    weight = rng.uniform(0.0, 3.0, size=200)
    mask = rng.uniform(size=200) > 0.25
    mask[7] = False
    batches = [(y_true[part], y_pred[part], weight[part], mask[part]) for part in _split(rng, 200, 6)]
    found = _value(_fed(CLASSES[kind](3, dtype="float64"), batches))
    np.testing.assert_allclose(found, _reference(kind, y_true[mask], y_pred[mask], weight[mask]), rtol=1e-12)
    # a per-element weight of the inputs' shape weighs each output's rows on their own
    elements = rng.uniform(0.5, 2.0, size=(200, 3))
    per_element = _value(
        _fed(CLASSES[kind](3, dtype="float64"), [(y_true[mask], y_pred[mask], elements[mask])])
    )
    expected = [
        ref_dataset_coefficient(kind, y_true[mask][:, j], y_pred[mask][:, j], elements[mask][:, j])
        for j in range(3)
    ]
    np.testing.assert_allclose(per_element, expected, rtol=1e-12)


# ------------------------------------------------------------------------------ streams and merges


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.settings(max_examples=40, deadline=None, derandomize=True)
@hypothesis.given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(2, 120),
    pieces=st.integers(1, 8),
    weighted=st.booleans(),
    offset=st.sampled_from([0.0, 1e3, 1e6]),
)
def test_random_splits_and_merges_equal_one_shot(seed, rows, pieces, weighted, offset):
    rng = np.random.default_rng(seed)
    y_true, y_pred = _data(rng, rows, 2, offset=offset, spread=1e-3 if offset else 1.0)
    weight = rng.uniform(0.1, 2.0, size=rows) if weighted else None
    parts = _split(rng, rows, min(pieces, rows))
    for kind, cls in CLASSES.items():
        expected = _reference(kind, y_true, y_pred, weight)
        # relative error: the shift and Chan's merge keep 1e-10 up to an offset of 1e6 spreads,
        # and the running means round at the offset's scale beyond (1e9 spreads: 1e-6)
        rtol = 1e-6 if offset == 1e6 else 1e-10
        streamed = _fed(
            cls(2, dtype="float64"),
            [(y_true[p], y_pred[p], None if weight is None else weight[p]) for p in parts],
        )
        np.testing.assert_allclose(_value(streamed), expected, rtol=rtol)
        pieces_ = [
            _fed(cls(2, dtype="float64"), [(y_true[p], y_pred[p], None if weight is None else weight[p])])
            for p in parts
        ]
        order = rng.permutation(len(pieces_))
        merged = pieces_[order[0]]
        merged.merge_state(*[pieces_[i] for i in order[1:]])
        np.testing.assert_allclose(_value(merged), expected, rtol=rtol)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("offset", "rtol_one_shot", "rtol_streamed"), [(1e3, 1e-12, 1e-9), (1e6, 1e-12, 1e-6)]
)
def test_near_constant_data_at_a_large_offset(kind, offset, rtol_one_shot, rtol_streamed):
    """offset + N(0, 1e-3) (torchmetrics #1573, #3077): one shot, streamed in batches of 1 to 7 rows,
    and 40 pieces merged in a tree, against the two-pass float64 reference."""
    rng = np.random.default_rng(9)
    rows = 2000
    y_true = offset + rng.normal(0.0, 1e-3, size=rows)
    y_pred = y_true + rng.normal(0.0, 1e-3, size=rows)
    expected = ref_dataset_coefficient(kind, y_true, y_pred)
    assert 0.5 < expected < 0.9  # a true value far from 0 and 1
    cls = CLASSES[kind]
    once = _fed(cls(dtype="float64"), [(y_true, y_pred)])
    np.testing.assert_allclose(_value(once), expected, rtol=rtol_one_shot)
    cuts = np.cumsum(rng.integers(1, 8, size=rows))
    small = [(y_true[a:b], y_pred[a:b]) for a, b in zip(np.r_[0, cuts], cuts, strict=False) if a < rows]
    np.testing.assert_allclose(_value(_fed(cls(dtype="float64"), small)), expected, rtol=rtol_streamed)
    leaves = [_fed(cls(dtype="float64"), [(y_true[i::40], y_pred[i::40])]) for i in range(40)]
    while len(leaves) > 1:  # a tree of pairwise merges
        pairs = []
        for first, second in zip(leaves[::2], leaves[1::2], strict=False):
            first.merge_state(second)
            pairs.append(first)
        leaves = pairs + ([leaves[-1]] if len(leaves) % 2 else [])
    np.testing.assert_allclose(_value(leaves[0]), expected, rtol=rtol_streamed)


# ------------------------------------------------------------------------------ edge cases


def _silently(function):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return function()


@pytest.mark.parametrize("kind", KINDS)
def test_n_below_two_and_constant_inputs_are_nan_without_a_warning(kind):
    cls = CLASSES[kind]
    empty = cls()
    assert np.isnan(_silently(empty.result)) and empty.result().shape == ()
    assert cls(3).result().shape == (3,) and np.isnan(cls(3).result()).all()
    cases = {
        "one row": ([1.0], [2.0]),
        "constant y_true": ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]),
        "constant y_pred": ([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]),
        "both constant and equal": ([4.0, 4.0], [4.0, 4.0]),
        "constant at a large offset": ([1e6 + 0.1] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]),
    }
    for name, (y_true, y_pred) in cases.items():
        metric = cls(dtype="float64")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for i in range(len(y_true)):  # streamed one row at a time too
                metric.update_state(y_true[i : i + 1], y_pred[i : i + 1])
        assert np.isnan(_silently(metric.result)), name
        assert np.isnan(_torchmetrics(kind, [(np.array(y_true), np.array(y_pred))])), name  # as torchmetrics
    metric = cls(dtype="float64")
    metric.update_state([1.0, 2.0], [5.0, 3.0])  # two rows: -1 and torchmetrics's concordance
    expected = _torchmetrics(kind, [(np.array([1.0, 2.0]), np.array([5.0, 3.0]))])
    assert float(metric.result()) == pytest.approx(float(expected), rel=1e-14)
    assert float(expected) == pytest.approx(-1.0 if kind == "pearson" else -2 * 1.0 / (0.5 + 2 + 6.25))


def test_nan_data_and_weights_summing_to_at_most_one():
    for cls in CLASSES.values():
        metric = cls(dtype="float64")
        metric.update_state([1.0, np.nan, 3.0], [1.0, 2.0, 4.0])
        assert np.isnan(_silently(metric.result))
    # frequency weights: n = sum(w); the concordance's n - 1 is no divisor for n <= 1, Pearson's
    # value does not depend on the weights' scale
    y_true, y_pred, weight = [1.0, 2.0, 4.0], [1.5, 1.0, 5.0], [0.25, 0.25, 0.5]
    pearson = _fed(rm.PearsonCorrCoef(dtype="float64"), [(y_true, y_pred, weight)])
    assert float(pearson.result()) == pytest.approx(
        ref_dataset_coefficient("pearson", *map(np.array, (y_true, y_pred, weight))), rel=1e-14
    )
    assert float(pearson.result()) == pytest.approx(
        float(_fed(rm.PearsonCorrCoef(dtype="float64"), [(y_true, y_pred, [1.0, 1.0, 2.0])]).result()),
        rel=1e-14,
    )
    ccc = _fed(rm.ConcordanceCorrCoef(dtype="float64"), [(y_true, y_pred, weight)])
    assert np.isnan(_silently(ccc.result))


def test_bad_arguments_name_themselves():
    for cls in CLASSES.values():
        with pytest.raises(ValueError, match="num_outputs"):
            cls(0)
        for bad in ("2", 2.0, True, None):
            with pytest.raises(TypeError, match="num_outputs"):
                cls(bad)
        with pytest.raises(TypeError, match="average_outputs"):
            cls(2, average_outputs="yes")
        metric = cls()
        with pytest.raises(ValueError, match=r"num_outputs=1.*\(samples,\) or \(samples, 1\).*\(4, 3\)"):
            metric.update_state(np.zeros((4, 3)), np.ones((4, 3)))
        assert metric.state is None
        with pytest.raises(ValueError, match=r"num_outputs=3.*\(samples, 3\).*\(4, 2\)"):
            cls(3).update_state(np.zeros((4, 2)), np.ones((4, 2)))
        with pytest.raises(ValueError, match=r"shape \(samples,\) or \(samples, outputs\).*\(2, 2, 2\)"):
            cls(2).update_state(np.zeros((2, 2, 2)), np.ones((2, 2, 2)))
        with pytest.raises(ValueError, match="sample_weight"):
            cls(2).update_state(np.zeros((4, 2)), np.ones((4, 2)), np.ones(3))
        one, three = cls(dtype="float64"), cls(3, dtype="float64")
        one.update_state([1.0, 2.0], [1.0, 3.0])
        with pytest.raises(ValueError, match="merge_state takes metrics of one configuration"):
            one.merge_state(three)
        with pytest.raises(TypeError, match="merge_state takes"):
            one.merge_state(rm.R2Score())


# ------------------------------------------------------------------------------ every array library


@pytest.mark.parametrize("kind", KINDS)
def test_every_array_library(xp, kind):
    rng = np.random.default_rng(11)
    y_true, y_pred = _data(rng, 90, 2)
    weight, mask = rng.uniform(0.2, 2.0, size=90), rng.uniform(size=90) > 0.2
    batches = [
        (y_true[:40], y_pred[:40], weight[:40], mask[:40]),
        (y_true[40:], y_pred[40:], weight[40:], mask[40:]),
    ]
    metric = _fed(CLASSES[kind](2, dtype="float64"), batches, xp)
    result = metric.result()
    expected_library = (
        "numpy" if library_name(xp) == "dask" else library_name(xp)
    )  # a class computes Dask batches
    assert library_of(result) == expected_library
    assert tuple(result.shape) == (2,) and str(result.dtype).endswith("float64")
    np.testing.assert_allclose(
        to_numpy(result), _reference(kind, y_true[mask], y_pred[mask], weight[mask]), rtol=1e-12
    )
    default = _fed(CLASSES[kind](2), batches, xp).result()
    assert str(default.dtype).endswith("float32")
    one = _fed(CLASSES[kind](dtype="float64"), [(y_true[:, 0], y_pred[:, 0])], xp)  # 1-D: one output
    assert tuple(one.result().shape) == ()
    np.testing.assert_allclose(
        to_numpy(one.result()), _reference(kind, y_true[:, 0], y_pred[:, 0]), rtol=1e-12
    )


def test_jax_jit_of_the_pure_statistic():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(12)
    statistics = {kind: cls(2).statistic for kind, cls in CLASSES.items()}
    like = jnp.zeros((3, 2))

    def update(states, y_true, y_pred, weight, mask):
        return {kind: s.update(states[kind], y_true, y_pred, weight, mask) for kind, s in statistics.items()}

    def results(states):
        return {kind: s.result(states[kind], "float64") for kind, s in statistics.items()}

    eager = jitted = {kind: s.init(like) for kind, s in statistics.items()}
    seen = []
    for _ in range(3):
        y_true, y_pred = _data(rng, 7, 2)
        weight, mask = rng.uniform(size=7), rng.uniform(size=7) > 0.3
        seen.append((y_true, y_pred, weight, mask))
        arrays = [jnp.asarray(a) for a in (y_true, y_pred, weight, mask)]
        eager = update(eager, *arrays)
        jitted = jax.jit(update)(jitted, *arrays)
    found, expected = jax.jit(results)(jitted), results(eager)
    y_true, y_pred, weight, mask = (np.concatenate([s[i] for s in seen]) for i in range(4))
    for kind in statistics:
        np.testing.assert_allclose(np.asarray(found[kind]), np.asarray(expected[kind]), rtol=1e-13)
        np.testing.assert_allclose(
            np.asarray(found[kind]), _reference(kind, y_true[mask], y_pred[mask], weight[mask]), rtol=1e-12
        )


# ------------------------------------------------------------------------------ a full citizen


@pytest.mark.parametrize("kind", KINDS)
def test_config_pickle_copy_reset_and_inputs_untouched(kind):
    cls = CLASSES[kind]
    rng = np.random.default_rng(13)
    y_true, y_pred = _data(rng, 30, 3)
    kept = y_true.copy(), y_pred.copy()
    metric = cls(3, name="custom", dtype="float64", average_outputs=True)
    config = metric.get_config()
    assert config == {"name": "custom", "dtype": "float64", "num_outputs": 3, "average_outputs": True}
    again = cls.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config and again.statistic == metric.statistic
    assert cls().get_config()["name"] == cls.default_name and cls().statistic != metric.statistic
    assert rm.METRIC_CLASSES[cls.__name__] is cls
    metric.update_state(y_true, y_pred)
    np.testing.assert_array_equal(y_true, kept[0])
    np.testing.assert_array_equal(y_pred, kept[1])
    value = _value(metric)
    assert value.shape == () and value == pytest.approx(np.mean(_reference(kind, y_true, y_pred)), rel=1e-13)
    for clone in (pickle.loads(pickle.dumps(metric)), copy.deepcopy(metric)):
        assert _value(clone) == value
        clone.update_state(y_true, y_pred)  # the copies are independent
    assert _value(metric) == value
    metric.reset_state()
    assert metric.state is None and np.isnan(_value(metric))
    with pytest.raises(TypeError, match="unexpected key 'axis'"):
        cls.from_config({**config, "axis": 0})


@pytest.mark.parametrize("kind", KINDS)
def test_bootstrap_is_the_one_shot_value_with_an_interval(kind):
    rng = np.random.default_rng(14)
    y_true, y_pred = _data(rng, 600, 2)
    weight = rng.uniform(0.5, 1.5, size=600)
    streamed = rm.Bootstrap(CLASSES[kind](2, dtype="float64"), num_replicates=60, seed=3)
    for start in range(0, 600, 250):
        part = slice(start, start + 250)
        streamed.update_state(y_true[part], y_pred[part], weight[part], row_offset=start)
    once = rm.Bootstrap(CLASSES[kind](2, dtype="float64"), num_replicates=60, seed=3)
    once.update_state(y_true, y_pred, weight)
    got, want = streamed.result(), once.result()
    for field in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(to_numpy(getattr(got, field)), to_numpy(getattr(want, field)), rtol=1e-11)
    expected = _reference(kind, y_true, y_pred, weight)
    np.testing.assert_allclose(to_numpy(got.value), expected, rtol=1e-12)
    assert (to_numpy(got.ci_low) < expected).all() and (expected < to_numpy(got.ci_high)).all()
    # a replicate is the coefficient of Poisson-weighted rows: its frequency weights are the counts
    replicates = to_numpy(once.statistic.replicate_values(once.state, "float64"))
    assert replicates.shape == (60, 2) and np.isfinite(replicates).all()
    assert np.std(replicates, axis=0, ddof=1) == pytest.approx(to_numpy(got.se), rel=1e-9)
    config = once.get_config()
    assert rm.Bootstrap.from_config(config).get_config() == config


def test_dask_evaluate_equals_the_one_shot_values():
    da = pytest.importorskip("dask.array")
    rdask = pytest.importorskip("regloss.dask")
    rng = np.random.default_rng(15)
    y_true, y_pred = _data(rng, 700, 3, offset=1e3, spread=1e-2)
    weight = rng.uniform(0.5, 2.0, size=700)
    t, p, w = (
        da.from_array(a, chunks=97) if a.ndim == 1 else da.from_array(a, chunks=(97, -1))
        for a in (y_true, y_pred, weight)
    )
    metrics = [
        "pearson",
        "ccc",
        rm.PearsonCorrCoef(3, name="p3", dtype="float64"),
        rm.ConcordanceCorrCoef(3, name="c3", average_outputs=True),
    ]
    found = rdask.evaluate(t[:, 0], p[:, 0], metrics[:2], w)
    for key, kind in (("pearson", "pearson"), ("ccc", "ccc")):
        np.testing.assert_allclose(
            found[key], _reference(kind, y_true[:, 0], y_pred[:, 0], weight), rtol=1e-11
        )
    found = rdask.evaluate(t, p, metrics[2:], w)
    np.testing.assert_allclose(found["p3"], _reference("pearson", y_true, y_pred, weight), rtol=1e-11)
    np.testing.assert_allclose(
        found["c3"], np.mean(_reference("ccc", y_true, y_pred, weight)), rtol=1e-6
    )  # float32
    intervals = rdask.evaluate(
        t, p, [rm.PearsonCorrCoef(3, dtype="float64")], w, confidence=0.9, num_replicates=30, seed=2
    )
    bootstrap = rm.Bootstrap(
        rm.PearsonCorrCoef(3, dtype="float64"), num_replicates=30, confidence=0.9, seed=2
    )
    bootstrap.update_state(y_true, y_pred, weight)
    expected = bootstrap.result().as_dict()
    for field in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(intervals["pearson_corrcoef"][field], expected[field], rtol=1e-11)


# ------------------------------------------------------------------------------ the command line


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(16)
    y_true, y_pred = _data(rng, 400, 2, offset=50.0)
    weight = rng.choice([0.5, 1.0, 2.0], size=400)
    return y_true, y_pred, weight


def _csv(tmp_path, table):
    y_true, y_pred, weight = table
    return write_csv(
        tmp_path / "data.csv",
        {"a": y_true[:, 0], "b": y_true[:, 1], "x": y_pred[:, 0], "y": y_pred[:, 1], "w": weight},
    )


def test_command_line_names_one_output_per_output_and_mean(tmp_path, table):
    y_true, y_pred, weight = table
    path = _csv(tmp_path, table)
    single = run_cli(
        "evaluate",
        path,
        "--y-true",
        "a",
        "--y-pred",
        "x",
        "--metrics",
        "pearson,ccc,PearsonCorrCoef,concordance_corrcoef",
        "--format",
        "json",
        "--chunk-rows",
        33,
    )
    assert single.returncode == 0, single.stderr
    report = json.loads(single.stdout)["metrics"]
    assert report["pearson"]["value"] == pytest.approx(
        scipy_stats.pearsonr(y_true[:, 0], y_pred[:, 0]).statistic, rel=1e-12
    )
    assert report["ccc"]["value"] == pytest.approx(
        float(_torchmetrics("ccc", [(y_true[:, 0], y_pred[:, 0])])), rel=1e-12
    )
    assert report["PearsonCorrCoef"]["value"] == report["pearson"]["value"]
    assert report["concordance_corrcoef"]["value"] == report["ccc"]["value"]
    both = run_cli(
        "evaluate",
        path,
        "--y-true",
        "a,b",
        "--y-pred",
        "x,y",
        "--weight",
        "w",
        "--metrics",
        "pearson,ccc_per_output,pearson_per_output,ccc",
        "--format",
        "json",
    )
    assert both.returncode == 0, both.stderr
    report = json.loads(both.stdout)["metrics"]
    for kind in KINDS:
        per_output = _reference(kind, y_true, y_pred, weight)
        np.testing.assert_allclose(report[f"{kind}_per_output"]["value"], per_output, rtol=1e-12)
        assert report[f"{kind}_per_output"]["outputs"] == ["a", "b"]
        assert report[kind]["value"] == pytest.approx(np.mean(per_output), rel=1e-12)
    assert_error(
        run_cli("evaluate", path, "--y-true", "a", "--y-pred", "x", "--metrics", "row_pearson"),
        "row_pearson",
        "several outputs",
    )
    catalogue = run_cli("losses").stdout
    assert (
        "pearson  (class PearsonCorrCoef)" in catalogue
        and "row_pearson  (class PearsonCorrelation)" in catalogue
    )


@pytest.mark.skipif(
    not _has_regloss_dask(), reason="regloss.dask, dask.dataframe or pyarrow is not importable"
)
def test_command_line_intervals_on_both_engines_equal_the_bootstrap(tmp_path, table):
    y_true, y_pred, weight = table
    path = _csv(tmp_path, table)
    common = [
        path,
        "--y-true",
        "a,b",
        "--y-pred",
        "x,y",
        "--weight",
        "w",
        "--metrics",
        "pearson,ccc_per_output",
        "--ci",
        0.9,
        "--replicates",
        40,
        "--format",
        "json",
    ]
    local, distributed = (run_cli("evaluate", *common, *engine) for engine in ([], ["--engine", "dask"]))
    assert local.returncode == 0 and distributed.returncode == 0, (local.stderr, distributed.stderr)
    local, distributed = (json.loads(result.stdout)["metrics"] for result in (local, distributed))
    whole = rm.Bootstrap(
        rm.PearsonCorrCoef(2, dtype="float64", average_outputs=True),
        num_replicates=40,
        confidence=0.9,
        seed=0,
    )
    whole.update_state(y_true, y_pred, weight)
    expected = whole.result().as_dict()
    for field in ("value", "ci_low", "ci_high", "se"):
        assert local["pearson"][field] == pytest.approx(float(expected[field]), rel=1e-11)
        assert distributed["pearson"][field] == pytest.approx(float(expected[field]), rel=1e-11)
        np.testing.assert_allclose(
            distributed["ccc_per_output"][field], local["ccc_per_output"][field], rtol=1e-11
        )
    for j in range(2):
        column = rm.Bootstrap(
            rm.ConcordanceCorrCoef(dtype="float64"), num_replicates=40, confidence=0.9, seed=0
        )
        column.update_state(y_true[:, j], y_pred[:, j], weight)
        assert local["ccc_per_output"]["ci_low"][j] == pytest.approx(float(column.result().ci_low), rel=1e-11)
