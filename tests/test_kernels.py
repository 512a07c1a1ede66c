"""The fused NumPy path (regloss.kernels) against the generic array-API path and a float64 reference.

Each path is forced with ``regloss.config.set_accelerator``: ``"numpy"`` takes the blocked NumPy
tier for NumPy inputs, ``"none"`` the generic path (as ``REGLOSS_ACCELERATOR=none`` does). Both
results must have the same type, dtype and shape, and both must agree with the float64 reference
of tests/reference.py at float32 tolerance (the fused path accumulates in float64, so it is the
more accurate of the two). The property tests also run with tiny blocks so that small inputs
cross many blocks, long samples and threads.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import subprocess
import sys
import tracemalloc

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import regloss
from regloss import config, formulas, losses, specs
from regloss.kernels import blocked
from tests import reference as ref
from tests._cases import BY_FUNCTION, LOSSES
from tests._helpers import peak_of, threads

# Every test twice: as configured and on the generic path (REGLOSS_ACCELERATOR=none).
pytestmark = pytest.mark.usefixtures("generic_path_too")

CLASSES = {case.function: getattr(losses, case.cls) for case in LOSSES}
OVER_AXES = ("cosine_similarity", "dice", "tversky")
REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)
TOLERANCE = {
    "float32": (2e-4, 2e-5),
    "float64": (1e-9, 1e-12),
    "float16": (4e-3, 1e-3),
    "bfloat16": (3e-2, 1e-2),
}


@contextlib.contextmanager
def accelerator(name):
    config.set_accelerator(name)
    try:
        yield
    finally:
        config.set_accelerator(None)


@contextlib.contextmanager
def tiny_blocks(elements=16):
    """Blocks of ``elements`` elements, threads from the first element: small inputs then cross
    many blocks, samples longer than a block, and the thread pool."""
    saved = blocked.TEMPORARY_ELEMENTS, blocked.PARALLEL_ELEMENTS
    # blocks of `elements` for the losses with four live arrays, twice that for MSE, MAE, Dice...
    blocked.TEMPORARY_ELEMENTS, blocked.PARALLEL_ELEMENTS = 4 * elements, 1
    try:
        yield
    finally:
        blocked.TEMPORARY_ELEMENTS, blocked.PARALLEL_ELEMENTS = saved


def both_paths(function):
    """``(fused, generic)`` results of ``function()``, or the two exceptions it raised."""
    results = []
    for name in ("numpy", "none"):
        with accelerator(name):
            try:
                results.append(function())
            except (ValueError, TypeError) as error:
                results.append(error)
    return results


def assert_same_kind(fused, generic):
    assert type(fused) is type(generic) is np.ndarray
    assert fused.dtype == generic.dtype
    assert fused.shape == generic.shape


def assert_close(result, expected, dtype_name):
    rtol, atol = TOLERANCE[dtype_name]
    result = np.asarray(result).astype(np.float64)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(result, expected, rtol=rtol, atol=atol * scale)


def inputs(name, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if name in ("dice", "tversky"):
        y_true, y_pred = rng.random(shape), rng.random(shape)
    elif name == "mean_absolute_percentage_error":
        y_true = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        y_pred = rng.normal(size=shape)
    elif name == "log_cosh":
        y_true, y_pred = rng.normal(size=shape) * 3, rng.normal(size=shape)
    elif BY_FUNCTION[name].domain == "positive":
        y_true, y_pred = rng.poisson(2.0, shape).astype(float), rng.gamma(2.0, 1.0, shape)
    else:
        y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
    return y_true.astype(dtype), y_pred.astype(dtype)


@st.composite
def calls(draw):
    """A loss, its parameters, inputs, a sample weight, a mask and a reduction."""
    name = draw(st.sampled_from(sorted(CLASSES)))
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    if draw(st.booleans()) and ndim >= 2:
        shape = (draw(st.integers(0, 40)),) + shape[1:]  # long and empty batches
    params, axes = {}, (ndim - 1,)
    if name in OVER_AXES:
        choices = [-1, None, tuple(range(1, ndim)) or -1, 0]
        axis = draw(st.sampled_from(choices))
        if name == "cosine_similarity" and axis is None:
            axis = -1
        params["axis"] = axis
        axes = tuple(range(ndim)) if axis is None else tuple(a % ndim for a in np.atleast_1d(axis))
    if name == "huber":
        params["delta"] = draw(st.sampled_from([1.0, 0.3, 2.5]))
    if name == "tversky":
        params["alpha"], params["beta"] = draw(st.sampled_from([(0.5, 0.5), (0.2, 0.8), (0.9, 0.1)]))
    per_sample_shape = tuple(d for i, d in enumerate(shape) if i not in axes)
    dtype = draw(st.sampled_from(["float32", "float32", "float64", "float16", "bfloat16"]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed + 1)
    weight = mask = None
    weight_kind = draw(st.sampled_from(["none", "scalar", "per_sample", "zeros"]))
    if weight_kind == "scalar":
        weight = np.float32(rng.uniform(0.1, 2.0))
    elif weight_kind in ("per_sample", "zeros") and per_sample_shape:
        weight = rng.uniform(0.0, 2.0, per_sample_shape).astype(np.float32)
        if weight_kind == "zeros":
            weight[...] = 0.0
    mask_kind = draw(st.sampled_from(["none", "per_sample", "element", "all_masked"]))
    if mask_kind == "per_sample" and per_sample_shape:
        mask = rng.random(per_sample_shape) > 0.3
    elif mask_kind == "element" and len(shape) > len(per_sample_shape):
        mask = rng.random(shape) > 0.4
    elif mask_kind == "all_masked":
        mask = np.zeros(shape, dtype=bool)
    reduction = draw(st.sampled_from(REDUCTIONS))
    return name, params, shape, dtype, seed, weight, mask, reduction


def check_call(name, params, shape, dtype, seed, weight, mask, reduction):
    y_true, y_pred = inputs(name, shape, np.float64, seed)
    loss = CLASSES[name](reduction=reduction, dtype=dtype, **params)
    numpy_dtype = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    rounded_true, rounded_pred = y_true.astype(numpy_dtype), y_pred.astype(numpy_dtype)
    fused, generic = both_paths(lambda: loss(rounded_true, rounded_pred, weight, mask=mask))
    if isinstance(generic, Exception):
        assert type(fused) is type(generic) and str(fused) == str(generic)
        return
    assert_same_kind(fused, generic)
    expected = ref.ref_loss_call(
        name, ref.as_float64(rounded_true), ref.as_float64(rounded_pred), weight, mask, reduction, **params
    )
    assert_close(fused, expected, dtype)
    assert_close(generic, expected, dtype)


@given(calls())
def test_class_calls_match_generic_and_reference(call):
    check_call(*call)


@given(calls(), st.sampled_from([3, 16]))
def test_class_calls_in_tiny_blocks_and_threads(call, block):
    with tiny_blocks(block), threads(3):
        check_call(*call)


@given(
    name=st.sampled_from(sorted(CLASSES)),
    shape=st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**31),
    tiny=st.booleans(),
)
def test_functional_matches_generic_and_reference(name, shape, dtype, seed, tiny):
    y_true, y_pred = inputs(name, shape, dtype, seed)
    function = getattr(losses, name)
    with tiny_blocks() if tiny else contextlib.nullcontext():
        fused, generic = both_paths(lambda: function(y_true, y_pred))
    assert_same_kind(fused, generic)
    expected, _ = ref.ref_per_sample(name, y_true, y_pred)
    assert_close(fused, expected, dtype)
    assert_close(generic, expected, dtype)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_strided_inputs_nan_in_masked_entries_and_number_weights(name):
    y_true, y_pred = inputs(name, (40, 12), np.float32, 5)
    y_true, y_pred = y_true.T[::-1], y_pred[:, ::-1].T[:, ::2].copy(order="F")[:, :20].repeat(2, axis=1)
    y_true = np.asfortranarray(y_true)
    mask = np.random.default_rng(6).random(y_true.shape) > 0.3
    y_true[~mask], y_pred[~mask] = np.nan, np.inf
    params = {"axis": -1} if name in OVER_AXES else {}
    for reduction in ("sum_over_batch_size", "none"):
        loss = CLASSES[name](reduction=reduction, **params)
        fused, generic = both_paths(lambda loss=loss: loss(y_true, y_pred, 0.5, mask=mask))
        assert_same_kind(fused, generic)
        assert np.all(np.isfinite(fused))
        expected = ref.ref_loss_call(name, y_true, y_pred, 0.5, mask, reduction, **params)
        assert_close(fused, expected, "float32")
        assert_close(generic, expected, "float32")


def test_zero_weight_times_nan_stays_nan_as_in_keras():
    y_true, y_pred = inputs("mean_squared_error", (6, 4), np.float32, 8)
    y_pred[2, 1] = np.nan
    weight = np.ones(6, np.float32)
    weight[2] = 0.0
    for reduction in ("sum", "none"):
        fused, generic = both_paths(
            lambda r=reduction: losses.MeanSquaredError(reduction=r)(y_true, y_pred, weight)
        )
        np.testing.assert_array_equal(np.isnan(fused), np.isnan(generic))
        assert np.isnan(fused).any()


# ------------------------------------------------------------------------- the same errors

BAD_CALLS = [
    ("mse", lambda: losses.mean_squared_error(np.ones((2, 3)), np.ones((3, 2)))),
    ("rank0", lambda: losses.mean_squared_error(np.ones(()), np.ones(()))),
    ("empty last", lambda: losses.MeanSquaredError()(np.ones((2, 0)), np.ones((2, 0)))),
    ("weight", lambda: losses.MeanSquaredError()(np.ones((2, 3)), np.ones((2, 3)), np.ones((3,)))),
    ("mask", lambda: losses.Huber()(np.ones((2, 3)), np.ones((2, 3)), mask=np.ones((4,), bool))),
    ("axis", lambda: losses.CosineSimilarity(axis=5)(np.ones((2, 3)), np.ones((2, 3)))),
    ("axis functional", lambda: losses.dice(np.ones((2, 3)), np.ones((2, 3)), axis=(1, 1))),
    ("dice weight", lambda: losses.Dice()(np.ones((2, 3)), np.ones((2, 3)), np.ones((2,)))),
    ("complex", lambda: losses.mae(np.ones((2, 3)), np.ones((2, 3), complex))),
    ("matrix", lambda: losses.MeanSquaredError()(np.ones((2, 3)), np.matrix(np.ones((2, 3))))),
    ("string", lambda: losses.MeanSquaredError()(np.ones((2, 3)), "a")),
]


@pytest.mark.parametrize("call", [call for _, call in BAD_CALLS], ids=[name for name, _ in BAD_CALLS])
def test_bad_inputs_raise_the_same_errors_on_both_paths(call):
    fused, generic = both_paths(call)
    assert isinstance(generic, Exception), generic
    assert type(fused) is type(generic)
    assert str(fused) == str(generic)


# ------------------------------------------------------------------------- partition, threads


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_results_are_bit_identical_for_1_2_and_3_threads(name):
    rows, cols = 3000, 100  # above PARALLEL_ELEMENTS: the pool is used
    y_true, y_pred = inputs(name, (rows, cols), np.float32, 7)
    rng = np.random.default_rng(3)
    weight = rng.random(rows).astype(np.float32)
    mask = rng.random((rows, cols)) > 0.2
    params = {"axis": -1} if name in ("dice", "tversky") else {}
    calls_to_compare = [
        lambda: CLASSES[name](**params)(y_true, y_pred),
        lambda: CLASSES[name](reduction="mean_with_sample_weight", **params)(
            y_true, y_pred, weight, mask=mask
        ),
        lambda: CLASSES[name](reduction="none", **params)(y_true, y_pred, weight),
        lambda: getattr(losses, name)(y_true, y_pred),
    ]
    if name in ("dice", "tversky"):
        calls_to_compare.append(lambda: CLASSES[name]()(y_true, y_pred, mask=mask))
    with accelerator("numpy"):
        for call in calls_to_compare:
            results = []
            for count in (1, 2, 3):
                with threads(count):
                    results.append(call().tobytes())
            assert results[0] == results[1] == results[2]


def test_uncovered_calls_take_the_generic_path():
    y_true, y_pred = inputs("cosine_similarity", (4, 5, 6), np.float32, 1)
    assert blocked.trailing_split(specs.COSINE_SIMILARITY.per_sample, {"axis": 0}, 3) is None
    assert blocked.trailing_split(specs.COSINE_SIMILARITY.per_sample, {"axis": None}, 3) is None
    assert blocked.trailing_split(specs.COSINE_SIMILARITY.per_sample, {"axis": (1, 2)}, 3) == 1
    fused, generic = both_paths(lambda: losses.CosineSimilarity(axis=(0, 2))(y_true, y_pred))
    np.testing.assert_array_equal(fused, generic)


def test_a_users_call_is_not_fused():
    class Doubled(losses.MeanSquaredError):
        def call(self, y_true, y_pred):
            return 2 * super().call(y_true, y_pred)

    y_true, y_pred = inputs("mean_squared_error", (8, 3), np.float32, 2)
    assert Doubled()._kernel_formula() is None
    assert losses.MeanSquaredError()._kernel_formula() is specs.MEAN_SQUARED_ERROR.per_sample
    fused, generic = both_paths(lambda: Doubled()(y_true, y_pred))
    np.testing.assert_array_equal(fused, generic)


def test_generic_path_is_taken_with_accelerator_none(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the fused path ran")

    monkeypatch.setattr(blocked, "evaluate", refuse)
    y_true, y_pred = inputs("huber", (5, 3), np.float32, 4)
    with accelerator("none"):
        losses.Huber()(y_true, y_pred, np.ones(5, np.float32))
        losses.huber(y_true, y_pred)
    with accelerator("numpy"), pytest.raises(AssertionError, match="fused path ran"):
        losses.huber(y_true, y_pred)


# ------------------------------------------------------------------------- accuracy, memory


def exact_mean(error, y_true, y_pred, chunk=1 << 20):
    """The mean of ``error`` over float64 copies, chunk by chunk, the chunk sums added exactly."""
    flat_true, flat_pred = y_true.reshape(-1), y_pred.reshape(-1)
    sums = [
        float(np.sum(error(flat_true[i : i + chunk].astype(np.float64) - flat_pred[i : i + chunk])))
        for i in range(0, flat_true.size, chunk)
    ]
    return math.fsum(sums) / flat_true.size


@pytest.fixture(scope="module")
def ten_million():
    rng = np.random.default_rng(11)
    shape = (100_000, 100)
    return rng.standard_normal(shape, dtype=np.float32), rng.standard_normal(shape, dtype=np.float32)


@pytest.mark.parametrize(
    ("loss", "error"), [(losses.MeanSquaredError, np.square), (losses.MeanAbsoluteError, np.abs)]
)
def test_1e7_float32_elements_within_1e_9_of_the_exact_mean(ten_million, loss, error):
    """float32 errors, float64 sums: the float64 value before the final rounding to float32."""
    y_true, y_pred = ten_million
    exact = exact_mean(error, y_true, y_pred)
    with accelerator("numpy"), threads(2):
        value = regloss.kernels.evaluate(loss().formula, {}, y_true, y_pred, None, None, "mean", "float64")
        rounded = loss()(y_true, y_pred)
    assert value.dtype == np.float64
    assert abs(float(value) - exact) / exact < 1e-9
    assert abs(float(rounded) - exact) / exact < 1e-7


_DESCRIBED = {spec.name: spec for spec in specs.LOSSES}
FORMULAS = {case.function: _DESCRIBED[case.function].per_sample for case in LOSSES}  # every loss of the table


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_live_arrays_are_the_generic_formulas_peak_on_blocks(name):
    """The declared live arrays (which size the blocks) against tracemalloc: on blocks of 20480
    elements (80 KiB of float32, below NumPy's in-place reuse of temporaries), samples of 64 elements
    and of one, neither shape exceeds the declared count and the worst one reaches it."""
    formula = FORMULAS[name]
    xp = blocked.numpy_namespace()
    rng = np.random.default_rng(0)
    per_sample = getattr(formula, "live_sample_arrays", 0)
    excess = []
    for shape in [(320, 64), (20480, 1)]:
        for dtype in ("float32", "float64"):
            y_true, y_pred = (rng.random(shape).astype(dtype) for _ in range(2))
            if isinstance(formula, formulas.MeanOverOutputs):
                run = functools.partial(formula.error, xp, y_true, y_pred)
            else:
                run = functools.partial(formula.formula, xp, y_true, y_pred, (1,))
            run()
            tracemalloc.start()
            try:
                run()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            declared = formula.live_arrays + per_sample / shape[1]  # in arrays of the inputs' size
            excess.append(peak / y_true.nbytes - declared)
    assert max(excess) <= 0.07, excess
    assert max(excess) > -1, excess


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("loss", sorted(CLASSES))
@pytest.mark.parametrize("shape", [(100_000, 100), (10**7, 1)])
def test_peak_memory_of_a_scalar_reduction_below_1_percent_of_the_inputs(ten_million, loss, shape, count):
    """The memory target of issue 11 (each thread keeps its own block's arrays); with more threads
    than the budget allows (4 here), the call runs on fewer (``blocked.run_blocks``'s cap)."""
    y_true, y_pred = (array.reshape(shape) for array in ten_million)
    instance = CLASSES[loss]()
    with accelerator("numpy"), threads(count):
        instance(y_true[:1000], y_pred[:1000])  # the thread pool exists before measuring
        peak = peak_of(lambda: instance(y_true, y_pred))
    assert peak < 0.01 * (y_true.nbytes + y_pred.nbytes), peak


# ------------------------------------------------------------------------- configuration


def test_num_threads_and_accelerator_settings():
    assert config.num_threads() >= 1
    with threads(3):
        assert config.num_threads() == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="num_threads"):
            config.set_num_threads(bad)
    assert config.accelerator() in config.ACCELERATORS
    with accelerator("none"):
        assert config.accelerator() == "none"
    with pytest.raises(ValueError, match="accelerator"):
        config.set_accelerator("numba!")


def test_environment_variables_choose_the_path_and_the_threads():
    code = "import regloss.config as c; print(c.accelerator(), c.num_threads())"
    env = {**os.environ, "REGLOSS_ACCELERATOR": "none", "REGLOSS_NUM_THREADS": "3"}
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert output.stdout.split() == ["none", "3"]
    assert regloss.kernels.active() == (config.accelerator() != "none")


@pytest.mark.parametrize(
    ("variable", "value"), [("REGLOSS_ACCELERATOR", "nmupy"), ("REGLOSS_NUM_THREADS", "two")]
)
def test_a_bad_environment_variable_is_a_clear_error(variable, value):
    code = "import numpy as np, regloss; regloss.losses.mse(np.ones((2, 2)), np.ones((2, 2)))"
    code += "; regloss.config.num_threads()"
    env = {**os.environ, variable: value}
    output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert output.returncode != 0
    assert f"ValueError: {variable} must be" in output.stderr and repr(value) in output.stderr


def test_a_memory_map_takes_the_fused_path(tmp_path, monkeypatch):
    """np.load(..., mmap_mode="r") gives a numpy.memmap: the fused path takes it like an ndarray."""
    y_true, y_pred = inputs("mean_squared_error", (300, 4), np.float32, 8)
    np.save(tmp_path / "t.npy", y_true)
    np.save(tmp_path / "p.npy", y_pred)
    mapped_true = np.load(tmp_path / "t.npy", mmap_mode="r")
    mapped_pred = np.load(tmp_path / "p.npy", mmap_mode="r")
    calls = []
    original = blocked.evaluate

    def recording(*args):
        calls.append(type(args[2]))
        return original(*args)

    monkeypatch.setattr(blocked, "evaluate", recording)
    with accelerator("numpy"):
        mapped = losses.MeanSquaredError()(mapped_true, mapped_pred)
        plain = losses.MeanSquaredError()(y_true, y_pred)
    assert calls and calls[0] is np.memmap
    assert type(mapped) is np.ndarray
    np.testing.assert_array_equal(mapped, plain)
