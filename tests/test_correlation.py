"""Keras 3.15.1's correlation pieces in ``regloss.metrics``: ``pearson_correlation``,
``concordance_correlation``, ``PearsonCorrelation`` and ``ConcordanceCorrelation``.

Keras runs in subprocesses (``tests/keras_correlation_worker.py``, a private ``KERAS_HOME``): one
with the NumPy backend for every case, and one each with the torch and JAX backends for the
constant rows (where Keras divides by a zero standard deviation). Every case is generated here,
deterministically, and checked three ways: Keras against the independent float64 reference of
``tests/correlation_reference.py`` (which checks the reference's reading of Keras), regloss on every
array library (the ``xp`` fixture) against Keras (Keras computes in float32: rtol 1e-5), and regloss
in float64 against the reference (1e-12). Nothing is compared with numbers taken from regloss.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

import regloss.metrics as rm
from regloss import config
from tests._helpers import library_name, library_of, run_keras_worker, to_numpy
from tests.correlation_reference import ref_row_coefficients
from tests.metrics_reference import ref_mean_metric
from tests.test_cli import _has_regloss_dask, assert_error, run_cli

KERAS_VERSION = "3.15.1"
WORKER = Path(__file__).with_name("keras_correlation_worker.py")
HAS_KERAS = importlib.util.find_spec("keras") is not None
needs_keras = pytest.mark.skipif(not HAS_KERAS, reason="the Keras oracle needs keras==3.15.1")

RTOL32, ATOL32 = 1e-5, 2e-6  # Keras (float32) against regloss or the reference
RTOL64, ATOL64 = 1e-12, 1e-13  # regloss in float64 against the float64 reference

FUNCTIONS = {
    "pearson_correlation": rm.pearson_correlation,
    "concordance_correlation": rm.concordance_correlation,
}
CLASSES = {"PearsonCorrelation": rm.PearsonCorrelation, "ConcordanceCorrelation": rm.ConcordanceCorrelation}
FUNCTION_OF = {
    "PearsonCorrelation": "pearson_correlation",
    "ConcordanceCorrelation": "concordance_correlation",
}

# ----------------------------------------------------------------------------------------------
# Deterministic cases (NumPy only).
# ----------------------------------------------------------------------------------------------

ARRAYS: dict[str, np.ndarray] = {}
_rng = np.random.default_rng(20261207)


def _store(array) -> str:
    key = f"a{len(ARRAYS)}"
    ARRAYS[key] = array
    return key


def _pair(shape, dtype):
    """Correlated (y_true, y_pred) of ``shape``: a shared signal plus noise, different scales."""
    y_true = _rng.normal(size=shape)
    y_pred = _rng.uniform(0.3, 2.0) * y_true + _rng.normal(0.0, _rng.uniform(0.2, 1.5), size=shape)
    return y_true.astype(dtype), (y_pred + _rng.normal()).astype(dtype)


def _constant_rows(dtype):
    """(5, 3): rows with y_true constant (an exact mean), y_pred constant (0.1: an inexact mean),
    both constant and equal, both constant and different (0.3: an inexact mean); a plain row."""
    y_true = np.array([[2, 2, 2], [1, 2, 4], [3, 3, 3], [0.3, 0.3, 0.3], [0, 1, 0.5]], dtype=dtype)
    y_pred = np.array([[1, 2, 4], [0.1, 0.1, 0.1], [3, 3, 3], [5, 5, 5], [0.1, 0.9, 0.5]], dtype=dtype)
    return y_true, y_pred


FUNCTION_CASES: list[dict] = []


def _function_case(fn, y_true, y_pred, axis, tag):
    FUNCTION_CASES.append(
        {
            "id": f"{fn}-{tag}-{y_pred.dtype.name}-{y_pred.shape}-axis{axis}",
            "fn": fn,
            "true": y_true,
            "pred": y_pred,
            "axis": list(axis) if isinstance(axis, tuple) else axis,
            "constant": tag == "constant",
        }
    )


for _fn in FUNCTIONS:
    for _dtype in ("float32", "float64"):
        _b, _d = int(_rng.integers(3, 9)), int(_rng.integers(2, 7))
        for _axis in (-1, 1, 0, None):
            _function_case(_fn, *_pair((_b, _d), _dtype), _axis, "random")
        _b, _t, _d = (int(n) for n in _rng.integers(2, 6, size=3))
        for _axis in (-1, 1, 0, (1, 2), (0, 2)):
            _function_case(_fn, *_pair((_b, _t, _d), _dtype), _axis, "random")
        _function_case(_fn, *_pair((7,), _dtype), -1, "random")  # 1-D: one row, as in Keras
        _function_case(_fn, *_constant_rows(_dtype), -1, "constant")
        _function_case(_fn, *_pair((4, 1), _dtype), -1, "constant")  # rows of one element
        _function_case(_fn, *_constant_rows(_dtype), 0, "random")  # columns: not constant


STREAMS: list[dict] = []


def _stream(metric, layout, dtype, kwargs, batches, **extra):
    STREAMS.append(
        {"id": f"{metric}-{layout}-{dtype}", "metric": metric, "kwargs": kwargs, "batches": batches, **extra}
    )


def _weights(size, dtype, kind):
    if kind == "none":
        return None
    weight = _rng.uniform(0.0, 2.0, size=size).astype(dtype)
    if kind == "zeros":
        weight[::2] = 0.0
    return weight


for _metric in CLASSES:
    for _dtype in ("float32", "float64"):
        kinds = ["none", "row", "zeros", "row"]
        _d, _t = int(_rng.integers(2, 7)), int(_rng.integers(2, 5))
        layouts = {
            # layout: (kwargs, shapes of the batches, shape of a weight of a batch of B)
            "2d": ({}, [(b, _d) for b in (5, 3, 8, 1)], lambda b: b),
            "3d-last": ({"axis": -1}, [(b, _t, _d) for b in (5, 3, 2, 6)], lambda b: b),
            "3d-axis1": ({"axis": 1}, [(b, _t, _d) for b in (4, 1, 7, 3)], lambda b: b),
            "3d-axes12": ({"axis": [1, 2]}, [(b, _t, _d) for b in (3, 6, 2, 5)], lambda b: b),
            "2d-axis0": ({"axis": 0}, [(b, _d) for b in (6, 4, 9, 3)], lambda b, d=_d: d),
        }
        for _layout, (_kwargs, _shapes, _weight_size) in layouts.items():
            _batches = []
            for _shape, _kind in zip(_shapes, kinds, strict=True):
                y_true, y_pred = _pair(_shape, _dtype)
                _batches.append((y_true, y_pred, _weights(_weight_size(_shape[0]), _dtype, _kind), None))
            _stream(_metric, _layout, _dtype, _kwargs, _batches)
    # a constant row among others: NaN for Pearson from then on, finite for the concordance;
    # a zero weight does not remove it (0 * NaN), in Keras as here
    _batches = [(*_pair((4, 3), "float32"), None, None), (*_constant_rows("float32"), None, None)]
    _stream(_metric, "constant", "float32", {}, _batches, constant=True)
    _t, _p = _constant_rows("float32")
    _weight = np.array([0.0, 0.0, 0.0, 0.0, 1.0], dtype="float32")
    _stream(_metric, "constant-zero-weight", "float32", {}, [(_t, _p, _weight, None)], constant=True)

BY_ID = {case["id"]: case for case in FUNCTION_CASES + STREAMS}
assert len(BY_ID) == len(FUNCTION_CASES) + len(STREAMS), "case ids are unique"


def _request(cases_filter=lambda case: True):
    functions = [
        {
            "id": c["id"],
            "fn": c["fn"],
            "yt": _store(c["true"]),
            "yp": _store(c["pred"]),
            "axis": c["axis"],
        }
        for c in FUNCTION_CASES
        if cases_filter(c)
    ]
    streams = [
        {
            "id": s["id"],
            "metric": s["metric"],
            "kwargs": s["kwargs"],
            "batches": [
                {"yt": _store(t), "yp": _store(p), "sw": None if w is None else _store(w)}
                for t, p, w, _ in s["batches"]
            ],
        }
        for s in STREAMS
        if cases_filter(s)
    ]
    return {"functions": functions, "streams": streams, "configs": sorted(CLASSES)}


# ----------------------------------------------------------------------------------------------
# The oracles: Keras in subprocesses.
# ----------------------------------------------------------------------------------------------


class Oracle:
    def __init__(self, meta, values):
        self.meta, self.values = meta, values

    def result(self, case_id):
        info = self.meta["results"][case_id]
        if info["error"] is not None:
            raise AssertionError(f"Keras raised on {case_id}: {info['error']}")
        return self.values[case_id]

    def dtype(self, case_id):
        return self.meta["results"][case_id]["dtype"]


def _run_keras(work: Path, backend: str, request: dict) -> Oracle:
    return Oracle(*run_keras_worker(WORKER, work, backend, request, ARRAYS, KERAS_VERSION))


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    if not HAS_KERAS:
        pytest.skip("the Keras oracle needs keras==3.15.1")
    return _run_keras(tmp_path_factory.mktemp("keras_correlation"), "numpy", _request())


@pytest.fixture(scope="module", params=["torch", "jax"])
def other_backend(request, tmp_path_factory):
    """Keras on another backend, for the constant rows only."""
    if not HAS_KERAS or importlib.util.find_spec(request.param) is None:
        pytest.skip(f"Keras or {request.param} is not installed")
    work = tmp_path_factory.mktemp(f"keras_correlation_{request.param}")
    return request.param, _run_keras(work, request.param, _request(lambda case: case.get("constant", False)))


# ----------------------------------------------------------------------------------------------
# Helpers.
# ----------------------------------------------------------------------------------------------


def _close(actual, expected, rtol, atol, what):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _to(xp, array):
    return None if array is None else xp.asarray(array)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _function_reference(case):
    return ref_row_coefficients(case["fn"], case["true"], case["pred"], _axis(case["axis"]))


def _feed(metric, xp, batches):
    for y_true, y_pred, weight, mask in batches:
        metric.update_state(_to(xp, y_true), _to(xp, y_pred), _to(xp, weight), mask=_to(xp, mask))
    return metric


def _value(metric):
    return to_numpy(metric.result()).astype(np.float64)


def _metric(stream, **kwargs):
    return CLASSES[stream["metric"]](**{k: _axis(v) for k, v in stream["kwargs"].items()}, **kwargs)


def _reference_stream(stream, batches=None):
    """The float64 reference after every batch, stacked."""
    batches = stream["batches"] if batches is None else batches
    kwargs = {k: _axis(v) for k, v in stream["kwargs"].items()}
    return np.stack(
        [
            np.asarray(ref_mean_metric(stream["metric"], batches[:end], **kwargs))
            for end in range(1, len(batches) + 1)
        ]
    )


def _state_library(xp):
    return "numpy" if library_name(xp) == "dask" else library_name(xp)


FUNCTION_IDS = [case["id"] for case in FUNCTION_CASES]
STREAM_IDS = [stream["id"] for stream in STREAMS]


# ----------------------------------------------------------------------------------------------
# The functions.
# ----------------------------------------------------------------------------------------------


@needs_keras
@pytest.mark.parametrize("case_id", FUNCTION_IDS)
def test_keras_function_agrees_with_the_reference(oracle, case_id):
    case = BY_ID[case_id]
    keras_values = oracle.result(case_id)
    expected = _function_reference(case)
    assert keras_values.shape == expected.shape
    _close(keras_values, expected, RTOL32, ATOL32, f"{case_id}: Keras vs reference")


@needs_keras
@pytest.mark.parametrize("case_id", FUNCTION_IDS)
def test_functions_agree_with_keras_on_every_library(xp, oracle, case_id):
    case = BY_ID[case_id]
    function = FUNCTIONS[case["fn"]]
    true, pred = _to(xp, case["true"]), _to(xp, case["pred"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a constant row warns nothing
        values = function(true, pred, axis=_axis(case["axis"]))
        found = to_numpy(values)
    assert library_of(values) == library_name(xp)
    assert found.dtype == case["pred"].dtype  # y_pred's float dtype (Keras's NumPy backend: float32)
    _close(found.astype(np.float64), oracle.result(case_id), RTOL32, ATOL32, f"{case_id}: regloss vs Keras")
    rtol, atol = (RTOL64, ATOL64) if found.dtype == np.float64 else (RTOL32, ATOL32)
    _close(
        found.astype(np.float64), _function_reference(case), rtol, atol, f"{case_id}: regloss vs reference"
    )


def test_function_examples_of_the_keras_docs():
    """Keras's docstring example (its pearson values; the concordance's with eps, 40/41 and 80/81
    without), and the keyword names of Keras's signature."""
    y_true, y_pred = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    _close(rm.pearson_correlation(y_true=y_true, y_pred=y_pred, axis=-1), [1.0, 0.99339927], 1e-6, 0, "r")
    ccc = rm.concordance_correlation(y_true, y_pred)
    _close(ccc, [40 / 41, 80 / 81], 1e-5, 0, "ccc")
    t, p = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    _close(
        rm.concordance_correlation(t, p),
        ref_row_coefficients("concordance_correlation", t, p),
        1e-14,
        0,
        "64",
    )


@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_function_dtypes(fn):
    """y_pred's float dtype; float16 computed in float32 and cast back; lists and integers in floatx."""
    function = FUNCTIONS[fn]
    y_true, y_pred = _pair((4, 5), "float64")
    expected = ref_row_coefficients(fn, y_true, y_pred)
    half = function(y_true.astype(np.float16), y_pred.astype(np.float16))
    assert half.dtype == np.float16
    expected_half = ref_row_coefficients(fn, y_true.astype(np.float16), y_pred.astype(np.float16))
    _close(half.astype(np.float64), expected_half, 2e-3, 2e-3, "float16")
    assert function(y_true.tolist(), y_pred.tolist()).dtype == np.float32
    integers = np.arange(12).reshape(3, 4) % 5
    assert function(integers, integers[::-1]).dtype == np.float32
    floatx = config.floatx()
    config.set_floatx("float64")
    try:
        found = function(y_true.tolist(), y_pred.tolist())
    finally:
        config.set_floatx(floatx)
    assert found.dtype == np.float64
    _close(found, expected, RTOL64, ATOL64, "floatx float64")


@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_function_rank_reconciliation_and_bad_arguments(fn):
    function = FUNCTIONS[fn]
    y_true, y_pred = _pair((5, 1), "float64")
    # Keras's squeeze-or-expand: (5,) against (5, 1) is (5, 1), rows of one element
    _close(function(y_true[:, 0], y_pred), function(y_true, y_pred), 0, 0, "reconciled")
    cases = [
        ({"axis": "a"}, TypeError, "axis"),
        ({"axis": 1.5}, TypeError, "axis"),
        ({"axis": 2}, ValueError, "axis"),
        ({"axis": (0, 0)}, ValueError, "axis"),
        ({"axis": ()}, ValueError, "axis"),
    ]
    square_true, square_pred = _pair((4, 3), "float64")
    for kwargs, error, fragment in cases:
        with pytest.raises(error, match=fragment):
            function(square_true, square_pred, **kwargs)
    with pytest.raises(ValueError, match="same shape"):
        function(square_true, square_pred[:, :2])
    with pytest.raises(TypeError, match="y_true"):
        function("abc", square_pred)
    before = square_true.copy(), square_pred.copy()
    function(square_true, square_pred, axis=0)
    assert np.array_equal(square_true, before[0]) and np.array_equal(square_pred, before[1])


@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_function_under_jax_jit(fn):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    function = FUNCTIONS[fn]
    y_true, y_pred = _constant_rows("float64")
    for axis in (-1, 0):
        eager = function(jax.numpy.asarray(y_true), jax.numpy.asarray(y_pred), axis=axis)
        traced = jax.jit(lambda t, p, axis=axis: function(t, p, axis=axis))(y_true, y_pred)
        _close(np.asarray(traced), np.asarray(eager), 1e-15, 0, f"jit axis={axis}")
        _close(
            np.asarray(traced), ref_row_coefficients(fn, y_true, y_pred, axis), RTOL64, ATOL64, "reference"
        )


# ----------------------------------------------------------------------------------------------
# Constant rows: what Keras gives on each backend, and what regloss decides (NaN for Pearson).
# ----------------------------------------------------------------------------------------------

CONSTANT_FUNCTIONS = [c["id"] for c in FUNCTION_CASES if c["constant"]]
CONSTANT_STREAMS = [s["id"] for s in STREAMS if s.get("constant")]


@needs_keras
def test_constant_rows_in_keras_on_every_backend(oracle, other_backend):
    """Keras 3.15.1 divides by a zero standard deviation for the Pearson correlation of a row where
    y_true or y_pred is constant (exact mean or not): NaN on its NumPy and JAX backends, and on
    torch NaN too, but -inf or inf for float64 rows of one element. The concordance is finite. A
    stream that saw such a row is NaN (Pearson) even when the row weighs 0. regloss gives NaN on
    every library (test_constant_rows_in_regloss)."""
    backend, other = other_backend
    for name, keras in (("numpy", oracle), (backend, other)):
        for case_id in CONSTANT_FUNCTIONS:
            case, values = BY_ID[case_id], keras.result(case_id)
            if case["fn"] == "pearson_correlation":
                one_element = case["true"].shape[-1] == 1
                plain = np.zeros(values.shape, bool) if one_element else np.arange(5) == 4
                undefined = values[~plain]
                assert not np.isfinite(undefined).any(), (name, case_id, values)
                infinite = name == "torch" and one_element and case["pred"].dtype == np.float64
                assert np.isinf(undefined).all() if infinite else np.isnan(undefined).all(), (name, case_id)
                assert np.all(np.isfinite(values[plain])), (name, case_id, values)
            else:
                assert np.all(np.isfinite(values)), (name, case_id, values)
                _close(values, _function_reference(case), RTOL32, ATOL32, f"{name} {case_id}")
        for stream_id in CONSTANT_STREAMS:
            pearson = BY_ID[stream_id]["metric"] == "PearsonCorrelation"
            assert np.isnan(keras.result(stream_id)[-1]) == pearson, (name, stream_id)


def test_constant_rows_in_regloss(xp):
    """regloss: NaN for a constant side (exact mean or not, one element included) without a
    warning, the concordance finite (0 for two constant sides); NaN and inf give NaN."""
    for dtype in ("float32", "float64"):
        y_true, y_pred = _constant_rows(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pearson = to_numpy(rm.pearson_correlation(_to(xp, y_true), _to(xp, y_pred)))
            ccc = to_numpy(rm.concordance_correlation(_to(xp, y_true), _to(xp, y_pred)))
            single = to_numpy(rm.pearson_correlation(_to(xp, y_true[:, :1]), _to(xp, y_pred[:, :1])))
            poisoned_true = y_true.copy()
            poisoned_true[4, 0], poisoned_true[1, 1] = np.nan, np.inf
            poisoned = {
                fn: to_numpy(function(_to(xp, poisoned_true), _to(xp, y_pred)))
                for fn, function in FUNCTIONS.items()
            }
        assert np.isnan(pearson[:4]).all() and np.isfinite(pearson[4])
        assert np.isfinite(ccc).all() and ccc[2] == 0 and ccc[3] == 0
        assert np.isnan(single).all()
        assert np.isnan(poisoned["pearson_correlation"]).all()
        ccc = poisoned["concordance_correlation"]
        assert np.isnan(ccc[[1, 4]]).all() and np.isfinite(ccc[[0, 2, 3]]).all()


def test_a_masked_constant_row_leaves_the_result_finite(xp):
    """A masked-out constant (or NaN) row is left out; a zero weight is not enough (0 * NaN, as in
    Keras: test_constant_rows_in_keras_on_every_backend)."""
    y_true, y_pred = _constant_rows("float64")
    y_true[3, 1] = np.nan
    keep = np.array([False, False, False, False, True])
    for cls in CLASSES.values():
        masked = _feed(cls(dtype="float64"), xp, [(y_true, y_pred, None, keep)])
        kept = _feed(cls(dtype="float64"), xp, [(y_true[keep], y_pred[keep], None, None)])
        assert np.isfinite(_value(masked))
        _close(_value(masked), _value(kept), 1e-15, 0, cls.__name__)
    zero_weight = _feed(rm.PearsonCorrelation(dtype="float64"), xp, [(y_true, y_pred, keep * 1.0, None)])
    assert np.isnan(_value(zero_weight))


# ----------------------------------------------------------------------------------------------
# The streaming classes.
# ----------------------------------------------------------------------------------------------


@needs_keras
@pytest.mark.parametrize("stream_id", STREAM_IDS)
def test_keras_stream_agrees_with_the_reference(oracle, stream_id):
    stream = BY_ID[stream_id]
    _close(
        oracle.result(stream_id),
        _reference_stream(stream),
        RTOL32,
        ATOL32,
        f"{stream_id}: Keras vs reference",
    )


@needs_keras
@pytest.mark.parametrize("stream_id", STREAM_IDS)
def test_streams_agree_with_keras_on_every_library(xp, oracle, stream_id):
    """Every batch's result, the default float32 result against Keras; dtype="float64" against the
    reference; the state and result on the inputs' library."""
    stream = BY_ID[stream_id]
    default, full = _metric(stream), _metric(stream, dtype="float64")
    found, found64 = [], []
    for batch in stream["batches"]:
        _feed(default, xp, [batch])
        _feed(full, xp, [batch])
        found.append(_value(default))
        found64.append(_value(full))
    for metric, dtype in ((default, "float32"), (full, "float64")):
        result = metric.result()
        assert library_of(result) == _state_library(xp) and result.dtype == getattr(xp, dtype)
        assert tuple(result.shape) == ()
        assert {library_of(value) for value in metric.state.values()} == {_state_library(xp)}
    assert oracle.dtype(stream_id) == "float32"
    _close(np.stack(found), oracle.result(stream_id), RTOL32, ATOL32, f"{stream_id}: regloss vs Keras")
    rtol, atol = (RTOL64, ATOL64) if stream_id.endswith("float64") else (RTOL32, ATOL32)
    _close(np.stack(found64), _reference_stream(stream), rtol, atol, f"{stream_id}: regloss vs reference")


@needs_keras
@pytest.mark.parametrize("stream_id", [s for s in STREAM_IDS if s.endswith("float64")])
def test_merged_parts_agree_with_keras_on_every_library(xp, oracle, stream_id):
    """The stream split in two and three parts, each in its own metric, merged in several orders
    (merge_state) and with the functional statistic.merge: Keras's result for the whole stream."""
    stream = BY_ID[stream_id]
    batches = stream["batches"]
    keras_final = oracle.result(stream_id)[-1]
    reference = _reference_stream(stream)[-1]
    whole = _value(_feed(_metric(stream, dtype="float64"), xp, batches))
    rtol, atol = (RTOL64, ATOL64) if stream_id.endswith("float64") else (RTOL32, ATOL32)
    _close(whole, reference, rtol, atol, f"{stream_id}: one stream vs reference")
    for cuts in ((2,), (1, 3)):
        bounds = [0, *cuts, len(batches)]
        parts = [
            _feed(_metric(stream, dtype="float64"), xp, batches[a:b])
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        for order in (range(len(parts)), reversed(range(len(parts)))):
            first, *rest = (copy.deepcopy(parts[i]) for i in order)
            first.merge_state(*rest)
            _close(_value(first), keras_final, RTOL32, ATOL32, f"{stream_id} {cuts}: merged vs Keras")
            _close(_value(first), whole, 1e-12, 1e-13, f"{stream_id} {cuts}: merged vs one stream")
        statistic = parts[0].statistic
        state = parts[-1].state
        for part in reversed(parts[:-1]):
            state = statistic.merge(part.state, state)
        _close(to_numpy(statistic.result(state, "float64")), whole, 1e-12, 1e-13, "statistic.merge")


def test_one_dimensional_batches_are_samples_of_one_output(xp):
    """A 1-D batch is B samples of one output, as in every streaming face: the stream equals the
    same values as (B, 1) (Pearson NaN per row of one element, the concordance 0); axis=0 gives
    each batch's correlation of its values. Keras takes a whole 1-D batch as one row:
    test_difference_keras_takes_a_1d_batch_as_one_row."""
    batches = [(*_pair((b,), "float64"), w, None) for b, w in ((6, None), (4, np.full(4, 0.5)), (9, None))]
    columns = [(t[:, None], p[:, None], w, m) for t, p, w, m in batches]
    for name, cls in CLASSES.items():
        flat = _feed(cls(dtype="float64"), xp, batches)
        column = _feed(cls(dtype="float64"), xp, columns)
        _close(_value(flat), _value(column), 0, 0, name)
        _close(_value(flat), ref_mean_metric(name, batches), 0, 0, name)
        assert np.isnan(_value(flat)) if name == "PearsonCorrelation" else _value(flat) == 0
        per_batch = _feed(cls(dtype="float64", axis=0), xp, [b[:2] + (None, None) for b in batches])
        expected = np.mean([ref_row_coefficients(FUNCTION_OF[name], t, p) for t, p, _, _ in batches])
        _close(_value(per_batch), expected, RTOL64, ATOL64, f"{name} axis=0")


@needs_keras
def test_difference_keras_takes_a_1d_batch_as_one_row(tmp_path):
    """Keras 3.15.1 takes a 1-D batch as one row: its stream is the mean of the batches'
    correlations (regloss reads (B, 1) instead; see the test above)."""
    batches = [_pair((b,), "float32") for b in (6, 4, 9)]
    request = {
        "functions": [],
        "streams": [
            {
                "id": name,
                "metric": name,
                "kwargs": {},
                "batches": [{"yt": _store(t), "yp": _store(p), "sw": None} for t, p in batches],
            }
            for name in CLASSES
        ],
        "configs": [],
    }
    keras = _run_keras(tmp_path, "numpy", request)
    for name, cls in CLASSES.items():
        whole_rows = np.mean([ref_row_coefficients(FUNCTION_OF[name], t, p) for t, p in batches])
        _close(keras.result(name)[-1], whole_rows, RTOL32, ATOL32, f"Keras {name}")
        regloss = _feed(cls(dtype="float64"), np, [(t, p, None, None) for t, p in batches])
        assert not np.isclose(_value(regloss), whole_rows, equal_nan=False)


@needs_keras
def test_configs_match_keras_and_round_trip(oracle):
    for name, cls in CLASSES.items():
        keras_config = oracle.meta["configs"][name]
        metric = cls()
        assert set(metric.get_config()) == set(keras_config) == {"name", "dtype", "axis"}
        assert metric.get_config() == {"name": keras_config["name"], "dtype": None, "axis": -1}
        assert metric.name == keras_config["name"] == cls.default_name
        loaded = cls.from_config(keras_config)  # Keras's own config (dtype "float32")
        assert loaded.get_config() == keras_config and loaded.statistic == metric.statistic
        custom = cls(name="c", dtype="float64", axis=(1, 2))
        for config_ in (custom.get_config(), json.loads(json.dumps(custom.get_config()))):
            again = cls.from_config(config_)
            assert again.get_config() == custom.get_config() and again.axis == (1, 2)
            assert again.statistic == custom.statistic and again.statistic != metric.statistic
        assert repr(custom) == f"{name}(name='c', dtype='float64', axis=(1, 2))"


def test_pickle_reset_and_merge_errors(xp):
    stream = next(s for s in STREAMS if s["id"] == "PearsonCorrelation-2d-float64")
    for cls in CLASSES.values():
        metric = _feed(cls(dtype="float64"), xp, stream["batches"][:2])
        expected = _value(metric)
        for clone in (pickle.loads(pickle.dumps(metric)), copy.deepcopy(metric)):
            assert type(clone) is cls and np.array_equal(_value(clone), expected)
            _feed(clone, xp, stream["batches"][2:])
            assert np.array_equal(_value(metric), expected)  # the original is untouched
        metric.reset_state()
        assert metric.state is None and _value(metric) == 0
        with pytest.raises(ValueError, match="configuration"):
            metric.merge_state(_feed(cls(axis=0), xp, stream["batches"][:1]))
        other = next(c for c in CLASSES.values() if c is not cls)
        with pytest.raises(TypeError):
            metric.merge_state(other())
        assert metric.state is None


def test_bad_arguments_and_updates_leave_the_state_unchanged(xp):
    for cls in CLASSES.values():
        for bad, error in (("a", TypeError), (1.5, TypeError), ((), ValueError), ([0, True], TypeError)):
            with pytest.raises(error, match="axis"):
                cls(axis=bad)
        with pytest.raises(TypeError, match="name"):
            cls(name=3)
        y_true, y_pred = (_to(xp, a) for a in _pair((4, 3), "float64"))
        metric = cls(dtype="float64")
        metric.update_state(y_true, y_pred)
        before = {key: to_numpy(value).copy() for key, value in metric.state.items()}
        for args, kwargs, error in (
            ((y_true, y_pred[:, :2]), {}, ValueError),
            ((y_true, y_pred, _to(xp, np.ones(3))), {}, ValueError),  # weight of 3 for 4 rows
            ((y_true, y_pred), {"mask": _to(xp, np.ones((4, 3), bool))}, ValueError),
            ((None, y_pred), {}, TypeError),
        ):
            with pytest.raises(error):
                metric.update_state(*args, **kwargs)
            assert all(np.array_equal(to_numpy(metric.state[k]), v) for k, v in before.items())
        with pytest.raises(ValueError, match="axis"):
            cls(axis=3).update_state(y_true, y_pred)


def test_statistic_under_jax_jit():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    stream = next(s for s in STREAMS if s["id"] == "ConcordanceCorrelation-3d-axis1-float64")
    for name, cls in CLASSES.items():
        statistic = cls(axis=1).statistic
        update = jax.jit(statistic.update)
        result = jax.jit(functools.partial(statistic.result, dtype="float64"))
        state = statistic.init(jnp.asarray(stream["batches"][0][1]))
        for t, p, w, _ in stream["batches"]:
            state = update(state, jnp.asarray(t), jnp.asarray(p), None if w is None else jnp.asarray(w))
        renamed = {**stream, "metric": name}
        _close(np.asarray(result(state)), _reference_stream(renamed)[-1], RTOL64, ATOL64, name)


# ----------------------------------------------------------------------------------------------
# Bootstrap, regloss.dask, the command line.
# ----------------------------------------------------------------------------------------------


def test_bootstrap_replicates_are_poisson_weighted_means():
    """Each replicate is the metric with every row's weight times its Poisson count (the
    generator's counts; the weighted means from the reference), streamed or in one batch."""
    from regloss.metrics import poisson

    rng = np.random.default_rng(5)
    t, p = rng.normal(size=(40, 4)), rng.normal(size=(40, 4))
    w = rng.uniform(0.5, 2.0, size=40)
    counts = poisson.poisson_weights(np, 11, 0, 40, 30)
    for name, cls in CLASSES.items():
        whole = rm.Bootstrap(cls(dtype="float64"), num_replicates=30, seed=11)
        whole.update_state(t, p, w)
        streamed = rm.Bootstrap(cls(dtype="float64"), num_replicates=30, seed=11)
        for rows in (slice(0, 7), slice(7, 30), slice(30, 40)):
            streamed.update_state(t[rows], p[rows], w[rows])
        replicates = whole.statistic.replicate_values(whole.state, "float64")
        expected = [ref_mean_metric(name, [(t, p, w * counts[r], None)]) for r in range(30)]
        _close(to_numpy(replicates), expected, 1e-12, 1e-13, name)
        _close(
            to_numpy(streamed.statistic.replicate_values(streamed.state, "float64")),
            expected,
            1e-12,
            1e-13,
            name,
        )
        result = whole.result()
        _close(result.value, ref_mean_metric(name, [(t, p, w, None)]), 1e-12, 0, name)
        assert result.ci_low <= result.value <= result.ci_high
        loaded = rm.Bootstrap.from_config(whole.get_config())
        assert loaded.get_config() == whole.get_config() and type(loaded.metric) is cls


def test_dask_evaluate_takes_the_correlations():
    da = pytest.importorskip("dask.array")
    rdask = pytest.importorskip("regloss.dask")
    rng = np.random.default_rng(6)
    t, p = rng.normal(size=(50, 4, 3)), rng.normal(size=(50, 4, 3))
    w = rng.uniform(0.5, 2.0, size=50)
    dt, dp, dw = (da.from_array(a, chunks=(13, -1, -1)[: a.ndim]) for a in (t, p, w))
    metrics = [
        "row_pearson",
        "row_ccc",
        "PearsonCorrelation",
        "concordance_correlation",
        rm.PearsonCorrelation(axis=(1, 2), name="rows", dtype="float64"),
    ]
    found = rdask.evaluate(dt, dp, metrics, sample_weight=dw)
    for key, name, kwargs in (
        ("row_pearson", "PearsonCorrelation", {}),
        ("row_ccc", "ConcordanceCorrelation", {}),
        ("PearsonCorrelation", "PearsonCorrelation", {}),
        ("concordance_correlation", "ConcordanceCorrelation", {}),
        ("rows", "PearsonCorrelation", {"axis": (1, 2)}),
    ):
        _close(found[key], ref_mean_metric(name, [(t, p, w, None)], **kwargs), 1e-12, 1e-13, key)
    intervals = rdask.evaluate(
        dt, dp, ["row_pearson", "row_ccc"], sample_weight=dw, confidence=0.9, num_replicates=25, seed=4
    )
    for key, cls in (("row_pearson", rm.PearsonCorrelation), ("row_ccc", rm.ConcordanceCorrelation)):
        bootstrap = rm.Bootstrap(cls(dtype="float64"), num_replicates=25, confidence=0.9, seed=4)
        bootstrap.update_state(t, p, w)
        expected = bootstrap.result().as_dict()
        for field in ("value", "ci_low", "ci_high", "se"):
            _close(intervals[key][field], expected[field], 1e-12, 1e-13, f"{key} {field}")
    with pytest.raises(ValueError, match="reduces over axis 0"):
        rdask.evaluate(dt, dp, [rm.ConcordanceCorrelation(axis=0)])


def test_command_line(tmp_path):
    rng = np.random.default_rng(7)
    t, p = rng.normal(size=(300, 3)), rng.normal(size=(300, 3))
    p[:, 0] += 2 * t[:, 0]
    w = rng.choice([0.5, 1.0, 2.0], size=300)
    names = ["a", "b", "c", "x", "y", "z", "w"]
    table = np.column_stack([t, p, w])
    path = tmp_path / "data.csv"
    path.write_text(
        ",".join(names) + "\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in table)
    )
    common = [path, "--y-true", "a,b,c", "--y-pred", "x,y,z", "--weight", "w"]
    requested = "row_pearson,row_ccc,PearsonCorrelation,CONCORDANCE_CORRELATION"
    result = run_cli("evaluate", *common, "--metrics", requested, "--chunk-rows", 37, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["metrics"]
    for key, name in (("row_pearson", "PearsonCorrelation"), ("row_ccc", "ConcordanceCorrelation")):
        expected = ref_mean_metric(name, [(t, p, w, None)])
        _close(report[key]["value"], expected, 1e-11, 0, key)
    _close(report["PearsonCorrelation"]["value"], report["row_pearson"]["value"], 0, 0, "alias")
    _close(report["CONCORDANCE_CORRELATION"]["value"], report["row_ccc"]["value"], 0, 0, "alias")
    result = run_cli("evaluate", *common, "--metrics", "row_pearson,row_ccc", "--ci", 0.9, "--replicates", 40,
                      "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["metrics"]
    for key, cls in (("row_pearson", rm.PearsonCorrelation), ("row_ccc", rm.ConcordanceCorrelation)):
        bootstrap = rm.Bootstrap(cls(dtype="float64"), num_replicates=40, confidence=0.9, seed=0)
        bootstrap.update_state(t, p, w)
        expected = bootstrap.result()
        for field in ("value", "ci_low", "ci_high", "se"):
            _close(report[key][field], getattr(expected, field), 1e-11, 1e-13, f"{key} {field}")
    single = ("--y-true", "a", "--y-pred", "x")
    assert_error(run_cli("evaluate", path, *single, "--metrics", "mse,row_ccc"), "row_ccc", "several outputs")
    assert_error(
        run_cli("evaluate", *common, "--metrics", "row_pearson_per_output"), "row_pearson", "per-output"
    )
    catalogue = run_cli("losses")
    assert catalogue.returncode == 0
    assert "row_pearson  (class PearsonCorrelation)" in catalogue.stdout
    assert "row_ccc  (class ConcordanceCorrelation)" in catalogue.stdout


@pytest.mark.skipif(
    not _has_regloss_dask(), reason="regloss.dask, dask.dataframe or pyarrow is not importable"
)
def test_command_line_dask_engine(tmp_path):
    """--engine dask gives the local engine's values (and --ci its intervals)."""
    rng = np.random.default_rng(8)
    t, p = rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) + 0.5
    names = ["a", "b", "c", "x", "y", "z"]
    lines = [",".join(names)] + [",".join(repr(float(v)) for v in row) for row in np.column_stack([t, p])]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    common = [
        path,
        "--y-true",
        "a,b,c",
        "--y-pred",
        "x,y,z",
        "--metrics",
        "row_pearson,row_ccc",
        "--format",
        "json",
    ]
    for extra in ([], ["--ci", 0.8, "--replicates", 30]):
        local, distributed = (
            run_cli("evaluate", *common, *extra, *engine) for engine in ([], ["--engine", "dask"])
        )
        assert local.returncode == 0 and distributed.returncode == 0, (local.stderr, distributed.stderr)
        local, distributed = (json.loads(result.stdout)["metrics"] for result in (local, distributed))
        for key in ("row_pearson", "row_ccc"):
            for field, value in local[key].items():
                _close(distributed[key][field], value, 1e-12, 1e-13, f"{key} {field} {extra}")
        expected = ref_mean_metric("PearsonCorrelation", [(t, p, None, None)])
        _close(local["row_pearson"]["value"], expected, 1e-11, 0, "row_pearson")
