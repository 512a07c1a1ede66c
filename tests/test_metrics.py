"""The streaming metrics of ``regloss.metrics`` on every array library (the ``xp`` fixture).

Values are checked against the independent float64 reference of :mod:`tests.metrics_reference`
or against the metric itself fed the same data another way (one batch instead of many, merged
part-states instead of one stream); never against numbers copied from regloss.  Keras itself is
the oracle of ``tests/test_metrics_keras_oracle.py``.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
import textwrap

import array_api_compat
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import regloss.metrics as rm
from regloss import config
from regloss.metrics import accumulate as acc
from tests._cases import METRIC_CLASS_NAMES, SKLEARN_METRIC_CLASSES
from tests._helpers import library_name, library_of, metric_data, to_numpy
from tests.metrics_reference import ref_mean_metric, ref_r2

# every class of the test table but the dataset-level correlations, which are built for a number of
# outputs and have torchmetrics as their reference: tests/test_corrcoef.py covers the same properties,
# and scikit-learn's metrics, which are not means of per-sample values: their oracle is scikit-learn
# (tests/test_sklearn_metrics.py)
CORRCOEF_CLASS_NAMES = ("PearsonCorrCoef", "ConcordanceCorrCoef")
CLASSES = [
    getattr(rm, name)
    for name in METRIC_CLASS_NAMES
    if name not in CORRCOEF_CLASS_NAMES and name not in SKLEARN_METRIC_CLASSES
]
CLASS_IDS = [cls.__name__ for cls in CLASSES]
MEAN_CLASSES = [cls for cls in CLASSES if cls is not rm.R2Score]
# hyper-parameters other than the defaults, for every class that has some
NON_DEFAULT = {
    "Huber": {"delta": 0.75},
    "CosineSimilarity": {"axis": 0},
    "R2Score": {"class_aggregation": "variance_weighted_average", "num_regressors": 2},
}
REL = 1e-12


# ----------------------------------------------------------------------------------------------
# Helpers.
# ----------------------------------------------------------------------------------------------


def _data(cls, rng, shape, dtype=np.float64):
    """(y_true, y_pred) NumPy arrays suited to the metric."""
    y_true, y_pred = metric_data(cls.__name__, rng, shape)
    return y_true.astype(dtype), y_pred.astype(dtype)


def _to(xp, a):
    """A NumPy array (or None) as an array of ``xp``."""
    return None if a is None else xp.asarray(a)


def _state_numpy(state):
    return None if state is None else {key: to_numpy(value).copy() for key, value in state.items()}


def _same_state(first, second):
    """Two states (as NumPy) hold the same arrays, bit for bit (NaN equal to NaN)."""
    if first is None or second is None:
        return first is None and second is None
    return first.keys() == second.keys() and all(
        first[k].dtype == second[k].dtype
        and first[k].shape == second[k].shape
        and np.array_equal(first[k], second[k], equal_nan=first[k].dtype.kind == "f")
        for k in first
    )


def _value(metric):
    return to_numpy(metric.result()).astype(np.float64)


def _kwargs_for_reference(cls, kwargs):
    return {k: v for k, v in kwargs.items() if k in ("delta", "axis", "class_aggregation", "num_regressors")}


def _reference(cls, batches, **kwargs):
    kwargs = _kwargs_for_reference(cls, kwargs)
    if cls is rm.R2Score:
        return ref_r2(batches, **kwargs)
    return np.asarray(ref_mean_metric(cls.__name__, batches, **kwargs))


def _stream(cls, rng, sizes, outputs=3, *, weights=(), masks=(), dtype=np.float64):
    """Batches (y_true, y_pred, weight, mask) of 2-D NumPy data: weights on the batches numbered in
    ``weights``, per-sample masks on those in ``masks``."""
    batches = []
    for i, size in enumerate(sizes):
        y_true, y_pred = _data(cls, rng, (size, outputs), dtype)
        weight = rng.uniform(0.0, 2.0, size=size).astype(dtype) if i in weights else None
        mask = rng.uniform(size=size) > 0.3 if i in masks else None
        batches.append((y_true, y_pred, weight, mask))
    return batches


def _one_shot(batches):
    """All batches as one: weights 1 and masks True where a batch had none."""
    y_true = np.concatenate([b[0] for b in batches])
    y_pred = np.concatenate([b[1] for b in batches])
    weight = np.concatenate([b[2] if b[2] is not None else np.ones(len(b[0]), b[0].dtype) for b in batches])
    mask = np.concatenate([b[3] if b[3] is not None else np.ones(len(b[0]), bool) for b in batches])
    return y_true, y_pred, weight, mask


def _feed(metric, xp, batches):
    for y_true, y_pred, weight, mask in batches:
        metric.update_state(_to(xp, y_true), _to(xp, y_pred), _to(xp, weight), mask=_to(xp, mask))
    return metric


def _close(actual, expected, rtol=REL, atol=1e-14, what=""):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


# ----------------------------------------------------------------------------------------------
# Library, device, dtype and shape of the result; values against the reference.
# ----------------------------------------------------------------------------------------------


def state_library(xp) -> str:
    """The library of a metric's state and result after batches of ``xp``: that library, but NumPy
    for Dask (a class computes a Dask batch's sums at once: the documented exception to laziness)."""
    return "numpy" if library_name(xp) == "dask" else library_name(xp)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_result_library_device_dtype_shape(xp, cls):
    rng = np.random.default_rng(1)
    batches32 = _stream(cls, rng, (4, 3, 5), weights={1}, masks={2}, dtype=np.float32)
    batches64 = [(t.astype(np.float64), p.astype(np.float64), w, m) for t, p, w, m in batches32]
    aggregations = [None, "uniform_average"] if cls is rm.R2Score else [False]
    for aggregation in aggregations:
        kwargs = {} if aggregation is False else {"class_aggregation": aggregation}
        default = _feed(cls(**kwargs), xp, batches32)
        full = _feed(cls(dtype="float64", **kwargs), xp, batches64)
        expected = _reference(cls, batches64, **kwargs)
        inputs = _to(xp, batches32[0][1])
        library = state_library(xp)
        for metric, dtype in ((default, "float32"), (full, "float64")):
            result = metric.result()
            assert library_of(result) == library
            if library == "numpy":
                assert type(result) is np.ndarray  # a 0-d array, not a NumPy scalar
            assert array_api_compat.device(result) == array_api_compat.device(inputs)
            assert result.dtype == getattr(xp, dtype)
            assert tuple(result.shape) == ((3,) if aggregation is None else ())
            for value in metric.state.values():
                assert library_of(value) == library
                assert array_api_compat.device(value) == array_api_compat.device(inputs)
        _close(_value(default), expected, rtol=1e-5, atol=1e-6, what="float32")
        _close(_value(full), expected, what="float64")
        state_dtypes = {to_numpy(v).dtype.name for v in full.state.values()}
        assert state_dtypes == {"float64", "int64"}


def test_first_batch_with_lists_builds_the_state_on_the_arrays_library(xp):
    """A list y_pred (or y_true) with arrays of one library: the state, the result and every
    later batch are of that library (not NumPy's, as for the list alone)."""
    rng = np.random.default_rng(19)
    for cls in (rm.MeanSquaredError, rm.R2Score):
        batches = _stream(cls, rng, (4, 3), weights={0, 1})
        y_true, y_pred, weight, _ = batches[0]
        for args in ((_to(xp, y_true), y_pred.tolist(), None), (y_true.tolist(), y_pred, _to(xp, weight))):
            metric = cls(dtype="float64")
            metric.update_state(*args)
            metric.update_state(*(_to(xp, a) for a in batches[1][:3]))
            assert {library_of(value) for value in metric.state.values()} == {state_library(xp)}
            assert library_of(metric.result()) == state_library(xp)
            used = [(np.asarray(args[0]), np.asarray(args[1]), None if args[2] is None else weight, None)]
            # a list y_pred computes in floatx (float32), as in Keras
            _close(_value(metric), _reference(cls, used + batches[1:]), rtol=1e-6, atol=1e-7)


def test_state_and_result_follow_the_input_device():
    """array-api-strict has several devices: the state and the result live on the inputs'."""
    xs = pytest.importorskip("array_api_strict")
    device = xs.Device("device1")
    rng = np.random.default_rng(2)
    for cls in (rm.MeanSquaredError, rm.R2Score):
        y_true, y_pred = _data(cls, rng, (4, 2))
        metric = cls()
        metric.update_state(
            xs.asarray(y_true, device=device),
            xs.asarray(y_pred, device=device),
            xs.asarray(rng.uniform(size=4), device=device),
        )
        assert all(value.device == device for value in metric.state.values())
        assert metric.result().device == device


def test_empty_metric_result():
    """Before any batch: 0 for the means (as Keras's divide_no_nan), NaN for R2 (0 / 0), as 0-d
    NumPy arrays of the metric's dtype; empty batches change nothing."""
    rng = np.random.default_rng(3)
    for cls in CLASSES:
        for dtype in ("float32", "float64"):
            result = cls(dtype=dtype).result()
            assert type(result) is np.ndarray and result.shape == () and result.dtype == dtype
            assert np.isnan(result) if cls is rm.R2Score else result == 0
        metric = cls(dtype="float64")
        y_true, y_pred = _data(cls, rng, (5, 3))
        metric.update_state(y_true, y_pred)
        before = _value(metric)
        metric.update_state(np.zeros((0, 3)), np.zeros((0, 3)))
        metric.update_state(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), mask=np.zeros(0, bool))
        assert _value(metric) == before


def test_r2_takes_1d_inputs_as_one_output():
    rng = np.random.default_rng(4)
    batches = _stream(rm.R2Score, rng, (5, 7), outputs=1, weights={1})
    flat, column = rm.R2Score(dtype="float64"), rm.R2Score(dtype="float64")
    for y_true, y_pred, weight, _ in batches:
        flat.update_state(y_true[:, 0], y_pred[:, 0], weight)
        column.update_state(y_true, y_pred, weight)
    assert _value(flat) == _value(column)
    _close(_value(flat), ref_r2(batches))


@pytest.mark.parametrize("mask_dtype", ["bool", "int64", "float64"])
def test_mask_means_present_whatever_its_dtype(mask_dtype):
    """A mask is non-zero = present, in every dtype (as for the losses): an integer or float mask
    holding 2 counts the sample once, like a boolean mask."""
    rng = np.random.default_rng(5)
    y_true, y_pred = _data(rm.MeanSquaredError, rng, (6, 3))
    present = np.array([True, False, True, True, False, True])
    mask = present.astype(mask_dtype)
    if mask_dtype != "bool":
        mask[2] = 2  # present, once
    weight = rng.uniform(0.5, 2.0, size=6)
    for cls in (rm.MeanSquaredError, rm.R2Score):
        metric = cls(dtype="float64")
        metric.update_state(y_true, y_pred, weight, mask=mask)
        _close(_value(metric), _reference(cls, [(y_true, y_pred, weight, present)]))


def test_3d_weights_and_masks_against_reference():
    """Inputs (B, T, D): a (B,) weight, a (B, T) mask, both, a (B, T) weight, a scalar weight."""
    rng = np.random.default_rng(6)
    for cls in MEAN_CLASSES:
        batches = []
        for weight_kind in ("none", "row", "full", "scalar", "row_and_mask", "mask"):
            y_true, y_pred = _data(cls, rng, (3, 4, 2))
            weight = {
                "row": rng.uniform(size=3),
                "full": rng.uniform(size=(3, 4)),
                "scalar": 1.5,
                "row_and_mask": rng.uniform(size=3),
            }.get(weight_kind)
            mask = rng.uniform(size=(3, 4)) > 0.4 if "mask" in weight_kind else None
            batches.append((y_true, y_pred, weight, mask))
        metric = _feed(cls(dtype="float64"), np, batches)
        _close(_value(metric), _reference(cls, batches), what=cls.__name__)


# ----------------------------------------------------------------------------------------------
# Streaming, merging, O(1) state, counts.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_streaming_equals_one_shot(xp, cls):
    rng = np.random.default_rng(7)
    batches = _stream(cls, rng, (4, 1, 6, 3), weights={1, 2}, masks={2, 3})
    streamed = _feed(cls(dtype="float64"), xp, batches)
    once = _feed(cls(dtype="float64"), xp, [_one_shot(batches)])
    _close(_value(streamed), _value(once))
    _close(_value(streamed), _reference(cls, batches))


@st.composite
def split_streams(draw, small_integers=False):
    """(class, kwargs, batches, parts, merge order) for the merge properties."""
    classes = [rm.MeanSquaredError, rm.MeanAbsoluteError, rm.RootMeanSquaredError, rm.Huber, rm.R2Score]
    if not small_integers:
        classes = CLASSES
    cls = draw(st.sampled_from(classes))
    kwargs = {}
    if cls is rm.R2Score:
        kwargs["class_aggregation"] = draw(
            st.sampled_from([None, "uniform_average", "variance_weighted_average"])
        )
        kwargs["num_regressors"] = draw(st.sampled_from([0, 2]))
    outputs = draw(st.sampled_from([1, 2, 4]))
    sizes = draw(st.lists(st.integers(0, 5), min_size=1, max_size=7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batches = []
    for size in sizes:
        kind = draw(st.sampled_from(["none", "weight", "mask", "both"]))
        if small_integers:
            y_true = rng.integers(-4, 5, size=(size, outputs)).astype(np.float64)
            y_pred = rng.integers(-4, 5, size=(size, outputs)).astype(np.float64)
            weight = rng.integers(0, 4, size=size).astype(np.float64)
        else:
            y_true, y_pred = _data(cls, rng, (size, outputs))
            weight = rng.uniform(0.0, 2.0, size=size)
        mask = rng.uniform(size=size) > 0.3
        batches.append(
            (
                y_true,
                y_pred,
                weight if kind in ("weight", "both") else None,
                mask if kind in ("mask", "both") else None,
            )
        )
    cuts = sorted(draw(st.lists(st.integers(0, len(batches)), max_size=4)))
    bounds = [0, *cuts, len(batches)]
    parts = [batches[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]  # some may be empty
    order = draw(st.permutations(range(len(parts))))
    tree = draw(st.lists(st.integers(0, 10**6), min_size=len(parts), max_size=len(parts)))
    return cls, kwargs, batches, parts, list(order), tree


def _merged_results(xp, cls, kwargs, parts, order, tree):
    """(class-level merge_state in ``order``, functional merge along a random tree) results."""
    metrics = [_feed(cls(dtype="float64", **kwargs), xp, part) for part in parts]
    first, *rest = (metrics[i] for i in order)
    merged = copy.deepcopy(first)
    merged.merge_state(*rest)
    statistic = cls(**kwargs).statistic
    states = [m.state for m in metrics if m.state is not None]
    picks = list(tree)
    while len(states) > 1:  # merge two states picked at random until one is left
        i = picks.pop() % len(states) if picks else 0
        a = states.pop(i)
        b = states.pop((picks.pop() if picks else 0) % len(states))
        states.append(statistic.merge(b, a) if i % 2 else statistic.merge(a, b))
    functional = np.nan if not states else to_numpy(statistic.result(states[0], "float64"))
    return merged, np.asarray(functional, dtype=np.float64)


# Examples per library: JAX compiles every new shape of every eager op, Dask builds graphs.
MERGE_EXAMPLES = {"numpy": 40, "array_api_strict": 10, "torch": 10, "jax": 4, "dask": 5}


def _merge_property(xp, small_integers, check):
    @settings(
        max_examples=MERGE_EXAMPLES.get(library_name(xp), 5),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=split_streams(small_integers=small_integers))
    def run(case):
        cls, kwargs, batches, parts, order, tree = case
        if not sum(len(b[0]) for b in batches):
            return  # nothing seen: covered by test_empty_metric_result
        once = _feed(cls(dtype="float64", **kwargs), xp, [_one_shot(batches)])
        merged, by_tree = _merged_results(xp, cls, kwargs, parts, order, tree)
        check(xp, cls, kwargs, batches, once, merged, by_tree)

    run()


def test_merging_split_streams_equals_one_shot(xp):
    """A stream split at random points, each part in its own metric, the parts merged in a random
    order (``merge_state``) or along a random tree (``statistic.merge``): the one-shot result to
    1e-12 relative."""

    def check(xp, cls, kwargs, batches, once, merged, by_tree):
        _close(_value(merged), _value(once))
        _close(by_tree, _value(once))

    _merge_property(xp, False, check)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_merging_split_streams_is_exact_on_small_integers(xp):
    """Small integers and weights, outputs of 1, 2 or 4: every sum of a mean metric is exact, so
    the merged parts give exactly the state of the whole stream and exactly the one-shot result.
    R2 keeps centred moments, whose means divide (issue 21, item 7): its merged state and result
    are the streamed ones to 1e-12, and an output of zero variance (R2 NaN or 0 by Keras's rule)
    is found exactly, in every split; nothing warns."""

    def check(xp, cls, kwargs, batches, once, merged, by_tree):
        streamed = _feed(cls(dtype="float64", **kwargs), xp, batches)
        merged_state, streamed_state = _state_numpy(merged.state), _state_numpy(streamed.state)
        if cls is rm.R2Score:
            for value in (_value(merged), by_tree):
                _close(value, _value(once))
                assert np.array_equal(np.isnan(value), np.isnan(_value(once)))
            assert merged_state.keys() == streamed_state.keys()
            for key in merged_state:
                _close(merged_state[key], streamed_state[key], what=key)
            zero = streamed_state["comoment"] == 0  # a constant output: exactly 0 in every split
            assert np.array_equal(merged_state["comoment"] == 0, zero)
            return
        assert np.array_equal(_value(merged), _value(once), equal_nan=True)
        assert np.array_equal(by_tree, _value(once), equal_nan=True)
        assert _same_state(merged_state, streamed_state)

    _merge_property(xp, True, check)


@pytest.mark.parametrize("cls", [rm.MeanSquaredError, rm.R2Score], ids=["MeanSquaredError", "R2Score"])
def test_state_size_is_constant(xp, cls):
    rng = np.random.default_rng(8)
    y_true, y_pred = (_to(xp, a) for a in _data(cls, rng, (3, 2)))
    weight = _to(xp, rng.uniform(size=3))
    metric = cls()
    metric.update_state(y_true, y_pred, weight)

    def size(state):
        return {
            k: (tuple(v.shape), str(v.dtype), int(v.nbytes) if hasattr(v, "nbytes") else None)
            for k, v in state.items()
        }

    after_one = size(metric.state)
    for i in range(199):
        metric.update_state(y_true, y_pred, weight if i % 2 else None)
    assert size(metric.state) == after_one


@pytest.mark.parametrize("cls", [rm.MeanSquaredError, rm.R2Score], ids=["MeanSquaredError", "R2Score"])
def test_counts_do_not_overflow_int32(xp, cls):
    """A count at 2**31 - 5 plus a batch of 10 rows is 2**31 + 5, exactly; merged with itself,
    2**32 + 10."""
    rng = np.random.default_rng(9)
    y_true, y_pred = (_to(xp, a) for a in _data(cls, rng, (10, 2)))
    statistic = cls().statistic
    state = statistic.init(y_pred)
    key = "rows" if cls is rm.MeanSquaredError else "samples"
    state[key] = xp.asarray(np.asarray(2**31 - 5, dtype=np.int64))
    for weight in (None, _to(xp, rng.uniform(0.5, 1.0, size=10))):
        counted = statistic.update(state, y_true, y_pred, weight)
        if cls is rm.MeanSquaredError and weight is not None:
            assert acc.count_as_int(to_numpy(counted[key])) == 2**31 - 5  # weighted: the weight counts
            continue
        assert acc.count_as_int(to_numpy(counted[key])) == 2**31 + 5
        assert acc.count_as_int(to_numpy(statistic.merge(counted, counted)[key])) == 2**32 + 10


# ----------------------------------------------------------------------------------------------
# Copies and configs.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_pickle_and_deepcopy_keep_the_state(xp, cls):
    rng = np.random.default_rng(10)
    kwargs = dict(NON_DEFAULT.get(cls.__name__, {}), dtype="float64")
    if cls is rm.CosineSimilarity:
        kwargs["axis"] = -1
    batches = _stream(cls, rng, (4, 3), weights={1})
    metric = _feed(cls(**kwargs), xp, batches)
    expected = _value(metric)
    more = _stream(cls, rng, (5,), masks={0})
    for clone in (pickle.loads(pickle.dumps(metric)), copy.deepcopy(metric)):
        assert type(clone) is cls and clone.get_config() == metric.get_config()
        assert library_of(clone.result()) == state_library(xp)
        assert np.array_equal(_value(clone), expected, equal_nan=True)
        _feed(clone, xp, more)  # the copy streams on; the original is untouched
        assert np.array_equal(_value(metric), expected, equal_nan=True)
        _close(_value(clone), _reference(cls, batches + more, **kwargs))


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_config_round_trip(cls):
    rng = np.random.default_rng(11)
    for kwargs in ({}, {**NON_DEFAULT.get(cls.__name__, {}), "name": "custom", "dtype": "float64"}):
        metric = cls(**kwargs)
        config_ = metric.get_config()
        for key, value in kwargs.items():
            assert config_[key] == value
        for loaded in (cls.from_config(config_), cls.from_config(json.loads(json.dumps(config_)))):
            assert type(loaded) is cls
            assert loaded.get_config() == config_
            assert loaded.statistic == metric.statistic and hash(loaded.statistic) == hash(metric.statistic)
            assert loaded.name == metric.name and loaded.dtype == metric.dtype
        y_true, y_pred = _data(cls, rng, (5, 3))
        metric.update_state(y_true, y_pred)
        loaded.update_state(y_true, y_pred)
        assert np.array_equal(_value(loaded), _value(metric), equal_nan=True)
    if cls.__name__ in NON_DEFAULT:  # the hyper-parameters matter
        assert cls(**NON_DEFAULT[cls.__name__]).statistic != cls().statistic


# ----------------------------------------------------------------------------------------------
# Errors leave the state as it was; inputs are never modified.
# ----------------------------------------------------------------------------------------------


def test_merge_state_errors_leave_the_state_unchanged():
    rng = np.random.default_rng(12)
    y_true, y_pred = _data(rm.MeanSquaredError, rng, (4, 3))

    def fed(metric):
        metric.update_state(y_true, y_pred)
        return metric

    cases = [
        (rm.MeanSquaredError(), [fed(rm.MeanAbsoluteError())], TypeError),
        (rm.MeanSquaredError(), [fed(rm.MeanSquaredError()), fed(rm.RootMeanSquaredError())], TypeError),
        (rm.Huber(delta=1.0), [fed(rm.Huber(delta=2.0))], ValueError),
        (rm.CosineSimilarity(axis=-1), [fed(rm.CosineSimilarity(axis=0))], ValueError),
        (rm.R2Score(), [fed(rm.R2Score(class_aggregation=None))], ValueError),
        (rm.R2Score(), [fed(rm.R2Score()), fed(rm.R2Score(num_regressors=1))], ValueError),
        (rm.R2Score(), [fed(rm.R2Score()), _r2_with_outputs(y_true[:, :2], y_pred[:, :2])], ValueError),
    ]
    for target, others, error in cases:
        for empty in (True, False):
            metric = copy.deepcopy(target)
            if not empty:
                fed(metric)
            before, before_dict = _state_numpy(metric.state), metric.state
            others_before = [_state_numpy(o.state) for o in others]
            with pytest.raises(error):
                metric.merge_state(*others)
            assert metric.state is before_dict and _same_state(_state_numpy(metric.state), before)
            assert all(
                _same_state(_state_numpy(o.state), b) for o, b in zip(others, others_before, strict=True)
            )


def _r2_with_outputs(y_true, y_pred):
    metric = rm.R2Score()
    metric.update_state(y_true, y_pred)
    return metric


def test_merge_state_of_another_library_raises():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(13)
    y_true, y_pred = _data(rm.MeanSquaredError, rng, (4, 3))
    first, second = rm.MeanSquaredError(), rm.MeanSquaredError()
    first.update_state(torch.asarray(y_true), torch.asarray(y_pred))
    second.update_state(jnp.asarray(y_true), jnp.asarray(y_pred))
    before = _state_numpy(first.state)
    with pytest.raises(TypeError):
        first.merge_state(second)
    assert _same_state(_state_numpy(first.state), before)


def _bad_inputs(xp, rng):
    """(metric class, args, kwargs, expected error) of update_state calls that must fail."""
    y_true, y_pred = (_to(xp, a) for a in _data(rm.MeanSquaredError, rng, (4, 3)))
    short = _to(xp, rng.normal(size=(3, 3)))
    cube = _to(xp, rng.normal(size=(4, 3, 2)))
    return [
        (rm.MeanSquaredError, (y_true, short), {}, ValueError),
        (rm.MeanSquaredError, (None, y_pred), {}, TypeError),
        (rm.MeanSquaredError, (y_true, None), {}, TypeError),
        (rm.MeanSquaredError, ("abc", y_pred), {}, TypeError),
        (rm.MeanAbsoluteError, (y_true, "abc"), {}, TypeError),
        (rm.MeanSquaredError, (y_true, y_pred, _to(xp, np.ones(3))), {}, ValueError),
        (rm.MeanSquaredError, (y_true, y_pred, _to(xp, np.ones((4, 3, 2)))), {}, ValueError),
        (rm.MeanSquaredError, (y_true, y_pred, "w"), {}, TypeError),
        (rm.Huber, (y_true, y_pred), {"mask": _to(xp, np.ones(3, bool))}, ValueError),
        (rm.CosineSimilarity, (y_true, y_pred), {"mask": _to(xp, np.ones((4, 3), bool))}, ValueError),
        (rm.R2Score, (cube, cube), {}, ValueError),
        (rm.R2Score, (y_true, y_pred, _to(xp, np.ones(5))), {}, ValueError),
        (rm.R2Score, (y_true, y_pred, _to(xp, np.ones((4, 3, 1)))), {}, ValueError),
        (rm.R2Score, (y_true[:, :2], y_pred[:, :2]), {}, ValueError),  # 3 outputs seen before: see below
        (rm.R2Score, (y_true, short), {}, ValueError),
    ]


def test_bad_update_leaves_the_state_unchanged(xp):
    rng = np.random.default_rng(14)
    cases = _bad_inputs(xp, rng)
    good = [_to(xp, a) for a in _data(rm.MeanSquaredError, rng, (4, 3))]
    for cls, args, kwargs, error in cases:
        # a batch of 2 outputs is wrong only after one of 3 outputs
        only_started = cls is rm.R2Score and tuple(args[0].shape) == (4, 2)
        for started in (True,) if only_started else (False, True):
            metric = cls()
            if started:
                metric.update_state(*good, _to(xp, rng.uniform(size=4)))
            before, before_dict = _state_numpy(metric.state), metric.state
            with pytest.raises(error) as info:
                metric.update_state(*args, **kwargs)
            assert str(info.value), "the error says what is wrong"
            assert metric.state is before_dict and _same_state(_state_numpy(metric.state), before)


def test_inputs_and_states_are_not_modified(xp):
    rng = np.random.default_rng(15)
    for cls in CLASSES:
        y_true, y_pred = _data(cls, rng, (5, 3))
        weight, mask = rng.uniform(size=5), rng.uniform(size=5) > 0.3
        arrays = [_to(xp, a) for a in (y_true, y_pred, weight, mask)]
        copies = [to_numpy(a).copy() for a in arrays]
        metric, other = cls(), cls()
        metric.update_state(*arrays[:3], mask=arrays[3])
        other.update_state(*arrays[:3])
        state_before, other_before = _state_numpy(metric.state), _state_numpy(other.state)
        old_state = metric.state
        statistic = metric.statistic
        statistic.update(old_state, *arrays[:3], mask=arrays[3])
        statistic.merge(old_state, other.state)
        statistic.result(old_state, "float64")
        metric.merge_state(other)
        metric.update_state(*arrays[:3], mask=arrays[3])
        assert _same_state(_state_numpy(old_state), state_before)
        assert _same_state(_state_numpy(other.state), other_before)
        for array, original in zip(arrays, copies, strict=True):
            assert np.array_equal(to_numpy(array), original)
        # an empty metric that merges another shares nothing it could later change in it
        empty = cls()
        empty.merge_state(other)
        empty.update_state(*arrays[:3])
        assert _same_state(_state_numpy(other.state), other_before)


# ----------------------------------------------------------------------------------------------
# jax.jit, and the NumPy fused path against the generic one.
# ----------------------------------------------------------------------------------------------


def test_jax_jit_of_update_and_result_gives_the_eager_values():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)  # as the conftest does for the float64 tests
    jnp = jax.numpy
    rng = np.random.default_rng(16)
    metrics = {cls.__name__: cls(**NON_DEFAULT.get(cls.__name__, {})) for cls in CLASSES}
    metrics["CosineSimilarity"] = rm.CosineSimilarity(axis=1)  # the weight needs one value per row
    metrics["R2Score-None"] = rm.R2Score(class_aggregation=None)
    statistics = {name: metric.statistic for name, metric in metrics.items()}
    y_true, y_pred = _data(rm.R2Score, rng, (6, 3))
    like = jnp.asarray(y_pred)

    def update_all(states, y_true, y_pred, weight, mask):
        return {name: s.update(states[name], y_true, y_pred, weight, mask) for name, s in statistics.items()}

    def results(states):
        return {name: s.result(states[name], "float64") for name, s in statistics.items()}

    jitted_update, jitted_results = jax.jit(update_all), jax.jit(results)
    eager = jitted = {name: s.init(like) for name, s in statistics.items()}
    for _ in range(3):
        y_true, y_pred = (jnp.asarray(a) for a in _data(rm.MeanSquaredLogarithmicError, rng, (6, 3)))
        weight, mask = jnp.asarray(rng.uniform(size=6)), jnp.asarray(rng.uniform(size=6) > 0.3)
        eager = update_all(eager, y_true, y_pred, weight, mask)
        jitted = jitted_update(jitted, y_true, y_pred, weight, mask)
    expected, actual = results(eager), jitted_results(jitted)
    for name in statistics:
        assert actual[name].dtype == jnp.float64
        _close(np.asarray(actual[name]), np.asarray(expected[name]), what=name)
        for key in eager[name]:
            _close(np.asarray(jitted[name][key]), np.asarray(eager[name][key]), what=f"{name} {key}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numpy_fused_path_equals_the_generic_path(dtype):
    rng = np.random.default_rng(17)
    rtol = REL if dtype == "float64" else 1e-6
    for cls in MEAN_CLASSES:
        kwargs = {"axis": 1} if cls is rm.CosineSimilarity else {}
        for shape in ((6,), (6, 3), (6, 4, 3), (1, 1)):
            if cls is rm.CosineSimilarity and len(shape) < 2:
                continue
            batches = []
            for weight_kind in ("none", "row", "scalar", "row1"):
                y_true, y_pred = _data(cls, rng, shape, np.dtype(dtype))
                weight = {"scalar": 2.5}
                if len(shape) > 1:  # 1-D inputs have one 0-d value per batch: only a scalar weight fits
                    weight.update(row=rng.uniform(size=shape[:1]), row1=rng.uniform(size=(shape[0], 1)))
                mask = rng.uniform(size=shape[:1]) > 0.3 if len(shape) > 1 else None
                batches.append((y_true, y_pred, weight.get(weight_kind), mask))
            fused = _value(_feed(cls(dtype="float64", **kwargs), np, batches))
            config.set_accelerator("none")
            try:
                generic = _value(_feed(cls(dtype="float64", **kwargs), np, batches))
            finally:
                config.set_accelerator(None)
            _close(fused, generic, rtol=rtol, atol=0, what=f"{cls.__name__} {shape}")


# ----------------------------------------------------------------------------------------------
# JAX without x64 (a subprocess: the conftest switches x64 on in this one).
# ----------------------------------------------------------------------------------------------

JAX32_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import jax
    import jax.numpy as jnp
    import regloss.metrics as rm
    from regloss.metrics import accumulate as acc

    out = {"x64": bool(jax.config.read("jax_enable_x64"))}
    rng = np.random.default_rng(18)

    # the representation
    metric = rm.MeanSquaredError(dtype="float64")
    metric.update_state(jnp.ones((4, 2)), jnp.zeros((4, 2)))
    metric.update_state(jnp.ones((4, 2)), jnp.zeros((4, 2)), jnp.ones(4))
    r2 = rm.R2Score(class_aggregation=None)
    r2.update_state(jnp.asarray(rng.normal(size=(5, 3)), jnp.float32), jnp.zeros((5, 3)))
    out["states"] = {
        name: {k: [str(v.dtype), list(v.shape)] for k, v in m.state.items()}
        for name, m in (("mean", metric), ("r2", r2))
    }
    out["result_dtypes"] = [str(metric.result().dtype), str(r2.result().dtype)]
    out["result_shape"] = list(r2.result().shape)

    # the two-word count, exact past 2**32, eagerly, jitted and merged
    statistic = rm.MeanSquaredError().statistic
    y_true, y_pred = jnp.ones((10, 2)), jnp.zeros((10, 2))
    state = statistic.init(y_pred)
    state["rows"] = jnp.asarray([0, 2**32 - 3], dtype=jnp.uint32)
    eager = statistic.update(state, y_true, y_pred)
    jitted = jax.jit(statistic.update)(state, y_true, y_pred)
    other = dict(state, rows=jnp.asarray([1, 2**32 - 1], dtype=jnp.uint32))
    out["counts"] = [
        acc.count_as_int(eager["rows"]),
        acc.count_as_int(jitted["rows"]),
        acc.count_as_int(statistic.merge(eager, other)["rows"]),
    ]
    r2s = rm.R2Score().statistic
    r2state = r2s.init(y_pred)
    r2state["samples"] = jnp.asarray([0, 2**32 - 3], dtype=jnp.uint32)
    out["counts"].append(acc.count_as_int(r2s.update(r2state, y_true, y_pred)["samples"]))

    # a stream of 10**6 values in 10**4 batches (one lax.scan): compensated pair vs float64
    batches, rows = 10_000, 100
    y_true = (rng.normal(size=(batches, rows, 1)) + 3.0).astype(np.float32)
    y_pred = rng.normal(size=(batches, rows, 1)).astype(np.float32)

    def step(state, batch):
        return statistic.update(state, batch[0], batch[1]), jnp.sum((batch[0] - batch[1]) ** 2)

    final, batch_sums = jax.jit(lambda s, t, p: jax.lax.scan(step, s, (t, p)))(
        statistic.init(jnp.asarray(y_pred[0])), jnp.asarray(y_true), jnp.asarray(y_pred)
    )
    exact = float(np.mean((y_true.astype(np.float64) - y_pred.astype(np.float64)) ** 2))
    paired = float(statistic.result(final))
    naive_total = np.cumsum(np.asarray(batch_sums, dtype=np.float32), dtype=np.float32)[-1]
    naive = float(naive_total / np.float32(batches * rows))
    hi, lo = (np.asarray(final["total"][i]) for i in (0, 1))
    out["stream"] = {
        "rel_error": abs(paired - exact) / exact,
        "naive_rel_error": abs(naive - exact) / exact,
        "rows": acc.count_as_int(final["rows"]),
        "normalised": bool(np.float32(hi + lo) == hi),
        "total_dtype": str(final["total"].dtype),
    }

    # R2 in float32 pairs against float64 (the sums are float32-accurate, not more)
    t = rng.normal(size=(50, 200, 2)).astype(np.float32)
    p = (t + 0.5 * rng.normal(size=t.shape)).astype(np.float32)
    r2 = rm.R2Score(class_aggregation=None)
    for i in range(50):
        r2.update_state(jnp.asarray(t[i]), jnp.asarray(p[i]))
    t64, p64 = t.reshape(-1, 2).astype(np.float64), p.reshape(-1, 2).astype(np.float64)
    ref = 1 - ((t64 - p64) ** 2).sum(0) / ((t64 - t64.mean(0)) ** 2).sum(0)
    out["r2"] = [np.asarray(r2.result()).tolist(), ref.tolist()]

    # R2 at 1e5 spreads from 0 in float32 (issue 21, item 7): the batches' centred moments, kept in
    # (hi, lo) pairs and merged with Chan's update, against float64 two-pass on the same values
    t = (1000.0 + 0.01 * rng.normal(size=(40, 50, 2))).astype(np.float32)
    p = (t + 0.002 * rng.normal(size=t.shape)).astype(np.float32)
    w = rng.uniform(0.5, 2.0, size=(40, 50)).astype(np.float32)
    r2 = rm.R2Score(class_aggregation=None)
    update = jax.jit(r2.statistic.update)
    state = r2.statistic.init(jnp.asarray(p[0]))
    for i in range(40):
        state = update(state, jnp.asarray(t[i]), jnp.asarray(p[i]), jnp.asarray(w[i]))
    t64, p64 = t.reshape(-1, 2).astype(np.float64), p.reshape(-1, 2).astype(np.float64)
    w64 = w.reshape(-1, 1).astype(np.float64)
    mean = (w64 * t64).sum(0) / w64.sum()
    ref = 1 - (w64 * (t64 - p64) ** 2).sum(0) / (w64 * (t64 - mean) ** 2).sum(0)
    out["r2_offset"] = [np.asarray(r2.statistic.result(state)).tolist(), ref.tolist()]
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def jax32():
    pytest.importorskip("jax")
    env = dict(os.environ, JAX_ENABLE_X64="0", JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", JAX32_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_jax32_state_is_float32_pairs_and_two_words(jax32):
    assert jax32["x64"] is False
    assert jax32["states"]["mean"] == {
        "total": ["float32", [2]],
        "weight": ["float32", [2]],
        "rows": ["uint32", [2]],
    }
    r2 = jax32["states"]["r2"]
    assert r2["samples"] == ["uint32", [2]]
    # centred moments of y_true per output (issue 21, item 7): (hi, lo) pairs of W, the mean and
    # the (1 x 1) comoment, beside the residual sum
    assert {k: v for k, v in r2.items() if k != "samples"} == {
        "weight": ["float32", [2, 3]],
        "mean": ["float32", [2, 3, 1]],
        "comoment": ["float32", [2, 3, 1, 1]],
        "residual": ["float32", [2, 3]],
    }
    # dtype="float64" gives float32 where the library has no float64
    assert jax32["result_dtypes"] == ["float32", "float32"]
    assert jax32["result_shape"] == [3]


def test_jax32_two_word_count_is_exact_past_2_to_the_32(jax32):
    assert jax32["counts"] == [2**32 + 7, 2**32 + 7, 2**32 + 7 + 2**33 - 1, 2**32 + 7]


def test_jax32_compensated_sums_stay_accurate(jax32):
    stream = jax32["stream"]
    compensated, naive = stream["rel_error"], stream["naive_rel_error"]
    print(f"relative error: compensated {compensated:.2e}, naive float32 running sum {naive:.2e}")
    assert stream["rows"] == 10**6
    assert stream["total_dtype"] == "float32" and stream["normalised"]
    assert stream["rel_error"] < 1e-6


def test_jax32_r2(jax32):
    actual, expected = jax32["r2"]
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


def test_jax32_r2_at_a_large_offset(jax32):
    """float32 values at 1e5 spreads from 0, jitted updates: the float64 two-pass R2 to 1e-5
    (raw float32-pair power sums lose about 1e-14 * 1e10 = 1e-4 of SST, and more as they grow)."""
    actual, expected = jax32["r2_offset"]
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


# ----------------------------------------------------------------------------------------------
# Dask batches in a class, a change of library, NaN behind a mask, integer-like arguments.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_a_class_computes_dask_batches_into_a_small_numpy_state(cls):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(7)
    batches = _stream(cls, rng, (4, 3, 5), weights={1}, masks={2}, dtype=np.float64)
    lazy = cls(dtype="float64")
    for y_true, y_pred, weight, mask in batches:
        lazy.update_state(
            da.from_array(y_true, chunks=2),
            da.from_array(y_pred, chunks=2),
            None if weight is None else da.from_array(weight, chunks=2),
            mask=None if mask is None else da.from_array(mask, chunks=2),
        )
        assert all(type(value).__module__.startswith("numpy") for value in lazy.state.values())
    _close(_value(lazy), _reference(cls, batches), what="dask batches")


def test_a_stream_cannot_change_library_and_the_state_is_kept():
    torch = pytest.importorskip("torch")
    metric = rm.MeanSquaredError(dtype="float64")
    metric.update_state(np.ones((3, 2)), np.zeros((3, 2)))
    before = {name: np.array(value) for name, value in metric.state.items()}
    with pytest.raises(TypeError, match="one array library"):
        metric.update_state(torch.ones(3, 2), torch.zeros(3, 2))
    for name, value in metric.state.items():
        np.testing.assert_array_equal(np.asarray(value), before[name])


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_nan_behind_a_mask_never_reaches_the_result(cls):
    """A masked-out sample holding NaN (a padded time step) is left out, as the losses do."""
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.random((6, 3)) + 0.5, rng.random((6, 3)) + 0.5
    mask = np.array([True, True, False, True, False, True])
    poisoned_true, poisoned_pred = y_true.copy(), y_pred.copy()
    poisoned_true[~mask], poisoned_pred[~mask] = np.nan, np.inf
    masked = cls(dtype="float64")
    masked.update_state(poisoned_true, poisoned_pred, mask=mask)
    kept = cls(dtype="float64")
    kept.update_state(y_true[mask], y_pred[mask])
    assert np.all(np.isfinite(_value(masked)))
    _close(_value(masked), _value(kept), what="NaN behind a mask")


def test_num_regressors_takes_any_integer():
    metric = rm.R2Score(num_regressors=np.int64(2))
    assert metric.num_regressors == 2 and type(metric.num_regressors) is int
    assert rm.R2Score.from_config(json.loads(json.dumps(metric.get_config()))).num_regressors == 2
    with pytest.raises(ValueError, match="num_regressors"):
        rm.R2Score(num_regressors=1.5)
