"""The numba tier (regloss.kernels.numba_tier, the ``fast`` extra) against the generic path, the
blocked NumPy tier and the float64 reference of tests/reference.py.

Skipped, with the reason printed, when numba is not installed. The tier serves inputs of at least
``regloss.kernels._NUMBA_MIN_ELEMENTS`` elements; the property tests set that threshold to 0 so
that small hypothesis inputs reach the kernels. Compiled kernels are cached on disk (numba's
``cache=True``), so only the first run of this file pays the compilation.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

numba = pytest.importorskip("numba", reason="numba is not installed (pip install regloss[fast])")

import regloss  # noqa: E402
from regloss import config, formulas, kernels, losses, specs  # noqa: E402  # noqa: E402
from regloss.kernels import blocked, numba_tier  # noqa: E402
from tests import reference as ref  # noqa: E402
from tests._cases import BY_FUNCTION, LOSSES, per_sample_params  # noqa: E402
from tests._helpers import threads  # noqa: E402
from tests.test_kernels import CLASSES, OVER_AXES, assert_close, assert_same_kind, inputs  # noqa: E402

# Every test twice: as configured and on the generic path (REGLOSS_ACCELERATOR=none).
pytestmark = pytest.mark.usefixtures("generic_path_too")

# The numba tier takes NumPy's own exp and log steps around these kernels (so that they match the
# generic path); the other fused kernels it restates entirely: a statement about the numba tier.
HYBRID_NAMES = ("mean_squared_logarithmic_error", "log_cosh", "poisson", "poisson_nll")
# Every loss the test table gives a fused kernel: its restated error, a regloss.formulas function.
FUSED = {case.function: getattr(formulas, case.kernel) for case in LOSSES if case.kernel}
COVERED = {name: error for name, error in FUSED.items() if name not in HYBRID_NAMES}
HYBRID = {name: error for name, error in FUSED.items() if name in HYBRID_NAMES}
# MSLE, LogCosh and Poisson also take the hybrid kernels with weights, masks and per-sample
# results (issue 25)
MASKED_HYBRID = ("mean_squared_logarithmic_error", "log_cosh", "poisson")


def test_the_hybrid_kernels_are_fused_kernels_of_the_test_table():
    assert sorted(HYBRID) == sorted(HYBRID_NAMES)


REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)


@contextlib.contextmanager
def accelerator(name, threshold=0):
    saved = kernels._NUMBA_MIN_ELEMENTS
    config.set_accelerator(name)
    kernels._NUMBA_MIN_ELEMENTS = threshold
    try:
        yield
    finally:
        config.set_accelerator(None)
        kernels._NUMBA_MIN_ELEMENTS = saved


def elementwise(kind, y_true, y_pred, a, b):
    """The restated error ``kind`` on every element, exactly, through the per-sample kernel with one
    column (``sum / 1`` of one float64 value)."""
    out = np.empty(y_true.size)
    totals = np.empty((-(-y_true.size // 4096), 3))
    no_mask = np.zeros(1, np.uint8)
    numba_tier._row_kernel(
        kind, y_true, y_pred, no_mask, False, a, b, 1, 1.0, np.ones(1), 4096, y_true.size, out, totals
    )
    return out


# ---------------------------------------------------------------- each formula vs the generic one

SPECIAL = [0.0, -0.0, 1e-8, -1e-8, 1.0, -1.0, 0.3, 2.5, 1e30, -1e30, np.inf, -np.inf, np.nan]


def assert_restated_error_is_the_generic_one(error, params, dtype, seed):
    """The numba restatement of ``error`` equals the generic function bit for bit on every pair of
    :data:`SPECIAL` values and on random ones."""
    rng = np.random.default_rng(seed)
    grid = np.array(SPECIAL)
    y_true = np.concatenate([np.repeat(grid, grid.size), rng.normal(size=500) * 3]).astype(dtype)
    y_pred = np.concatenate([np.tile(grid, grid.size), rng.normal(size=500)]).astype(dtype)
    a, b = (dtype(value) for value in numba_tier._parameters(error.__name__, params))
    restated = elementwise(numba_tier.ERRORS[error.__name__], y_true, y_pred, a, b)
    with np.errstate(all="ignore"):
        generic = error(blocked.numpy_namespace(), y_true, y_pred, **params)
    assert generic.dtype == dtype
    np.testing.assert_array_equal(restated, generic.astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, delta", [(name, 1.0) for name in sorted(COVERED)] + [("huber", 0.3)])
def test_each_restated_error_is_the_generic_function_bit_for_bit(name, dtype, delta):
    params = {"delta": delta} if name == "huber" else {}
    assert_restated_error_is_the_generic_one(COVERED[name], params, dtype, seed=5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name, params",
    [("pinball", {"tau": tau}) for tau in (0.0, 0.1, 0.5, 0.9, 1.0)]
    + [("smooth_l1", {"beta": beta}) for beta in (0.0, 1e-8, 0.3, 1.0, 2.5, 1e30)],
)
def test_the_restated_pinball_and_smooth_l1_take_their_parameters_bit_for_bit(name, params, dtype):
    assert_restated_error_is_the_generic_one(COVERED[name], params, dtype, seed=8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_the_poisson_nll_steps_around_numpys_exp_and_logs_are_the_generic_function(dtype, log_input, full):
    """Each block's float64 sum equals the float64 sum of the generic function's elements (the
    elements themselves in the input dtype): counts around the Stirling cut at 1, zeros, rates."""
    rng = np.random.default_rng(9)
    edges_true = [0.0, 0.5, 1.0, 1.0 + 1e-6, 1.5, 2.0, 100.0]
    edges_pred = [0.0, 1e-9, 0.5, 1.0, 2.0, 3.0, 4.0]
    y_true = np.concatenate([edges_true, rng.poisson(3.0, 500)]).astype(dtype)
    y_pred = np.concatenate([edges_pred, rng.gamma(2.0, 1.0, 500)]).astype(dtype)
    params = {"log_input": log_input, "full": full, "eps": 1e-8}
    with np.errstate(all="ignore"):
        errors = formulas.poisson_nll_error(blocked.numpy_namespace(), y_true, y_pred, **params)
    assert errors.dtype == dtype
    total = numba_tier.HYBRID["poisson_nll_error"](y_true, y_pred, np.dtype(dtype), **params)
    assert total == pytest.approx(math.fsum(errors.astype(np.float64)), rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_msle_steps_around_numpys_logs_are_the_generic_function(dtype):
    rng = np.random.default_rng(6)
    y_true = np.concatenate([np.array(SPECIAL), rng.random(500) * 3]).astype(dtype)
    y_pred = np.concatenate([np.array(SPECIAL)[::-1], rng.random(500)]).astype(dtype)
    xp = blocked.numpy_namespace()
    eps = numba_tier.config.epsilon()
    first, second = np.empty_like(y_true), np.empty_like(y_true)
    numba_tier.squared_logarithmic_arguments(y_true, y_pred, dtype(eps), dtype(1.0), first, second)
    np.testing.assert_array_equal(first, xp.maximum(y_pred, eps) + 1.0)
    np.testing.assert_array_equal(second, xp.maximum(y_true, eps) + 1.0)
    finite = slice(len(SPECIAL), None)
    with np.errstate(all="ignore"):
        errors = formulas.squared_logarithmic_error(xp, y_true[finite], y_pred[finite])
        logs = np.log(first[finite]), np.log(second[finite])
    assert numba_tier.squared_logarithmic_sum(*logs) == pytest.approx(math.fsum(errors), rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_log_cosh_steps_around_numpys_exp_and_log1p_are_the_generic_function(dtype):
    rng = np.random.default_rng(7)
    y_true = np.concatenate([np.array(SPECIAL), rng.normal(size=500) * 3]).astype(dtype)
    y_pred = np.concatenate([np.array(SPECIAL)[::-1], rng.normal(size=500)]).astype(dtype)
    absolute, scaled = np.empty_like(y_true), np.empty_like(y_true)
    numba_tier.log_cosh_arguments(y_true, y_pred, dtype(-2.0), absolute, scaled)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(absolute, np.abs(y_pred - y_true))
        np.testing.assert_array_equal(scaled, -2.0 * np.abs(y_pred - y_true))
        finite = slice(len(SPECIAL), None)
        errors = formulas.log_cosh_error(blocked.numpy_namespace(), y_true[finite], y_pred[finite])
        softplus = np.log1p(np.exp(scaled[finite]))
    total = numba_tier.log_cosh_sum(absolute[finite], softplus, dtype(math.log(2.0)))
    assert total == pytest.approx(math.fsum(errors), rel=1e-13)


# ---------------------------------------------------------------- whole calls: properties


@st.composite
def calls(draw):
    name = draw(st.sampled_from(sorted(COVERED) + sorted(HYBRID)))
    ndim = draw(st.integers(2, 3))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 300)),) + shape[1:]
    if draw(st.booleans()):  # rows on both sides of numba_tier._SLICED_ROW_COLUMNS
        shape = shape[:-1] + (draw(st.sampled_from([63, 64, 65, 130])),)
    params = {"delta": draw(st.sampled_from([1.0, 0.3, 2.5]))} if name == "huber" else {}
    dtype = draw(st.sampled_from(["float32", "float64"]))
    seed = draw(st.integers(0, 2**31))
    weight_kind = draw(st.sampled_from(["none", "scalar", "per_sample", "zeros"]))
    rng = np.random.default_rng(seed + 1)
    weight = None
    if weight_kind == "scalar":
        weight = np.float32(rng.uniform(0.1, 2.0))
    elif weight_kind != "none":
        weight = rng.uniform(0.0, 2.0, shape[:-1]).astype(np.float32) * (weight_kind == "per_sample")
    reduction = draw(st.sampled_from(REDUCTIONS))
    return name, params, shape, dtype, seed, weight, reduction


def run_call(path, name, params, y_true, y_pred, weight, reduction, dtype):
    loss = CLASSES[name](reduction=reduction, dtype=dtype, **params)
    with accelerator(path):
        return loss(y_true, y_pred, weight)


@settings(max_examples=150, deadline=None)
@given(calls())
def test_numba_tier_matches_generic_blocked_and_reference(call):
    name, params, shape, dtype, seed, weight, reduction = call
    y_true, y_pred = inputs(name, shape, dtype, seed)
    fused = run_call("numba", name, params, y_true, y_pred, weight, reduction, dtype)
    generic = run_call("none", name, params, y_true, y_pred, weight, reduction, dtype)
    numpy_tier = run_call("numpy", name, params, y_true, y_pred, weight, reduction, dtype)
    assert_same_kind(fused, generic)
    assert_same_kind(fused, numpy_tier)
    expected = ref.ref_loss_call(
        name, ref.as_float64(y_true), ref.as_float64(y_pred), weight, None, reduction, **params
    )
    assert_close(fused, expected, dtype)
    assert_close(generic, expected, dtype)
    # both tiers accumulate in float64: they agree far below float32 rounding
    np.testing.assert_allclose(fused.astype(np.float64), numpy_tier.astype(np.float64), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(COVERED))
def test_the_functional_form_takes_the_kernels(name, monkeypatch):
    y_true, y_pred = inputs(name, (70, 13), np.float32, 2)
    taken = []
    original = numba_tier.evaluate
    monkeypatch.setattr(numba_tier, "evaluate", lambda *args: taken.append(1) or original(*args))
    with accelerator("auto"):
        fused = getattr(losses, name)(y_true, y_pred)
    generic = run_call("none", name, {}, y_true, y_pred, None, "none", "float32")
    assert taken
    assert_same_kind(fused, generic)
    np.testing.assert_allclose(fused, generic, rtol=2e-6)


@pytest.mark.parametrize("params", [{}, {"full": True}, {"log_input": False, "eps": 1e-3, "full": True}])
def test_poisson_nll_scalar_reductions_never_reach_the_blocked_tier(params, monkeypatch):
    """Every parameter form of PoissonNLL takes the hybrid kernel for scalar reductions without
    weights (the blocked tier is made to fail), with the generic path's value."""
    y_true, y_pred = inputs("poisson_nll", (70, 13), np.float64, 3)

    def refuse(*args):
        raise AssertionError("the blocked tier ran")

    for reduction in ("sum_over_batch_size", "sum"):
        loss = losses.PoissonNLL(reduction=reduction, dtype="float64", **params)
        generic = run_call("none", "poisson_nll", params, y_true, y_pred, None, reduction, "float64")
        with monkeypatch.context() as patch, accelerator("numba"):
            patch.setattr(blocked, "evaluate", refuse)
            fused = loss(y_true, y_pred)
        np.testing.assert_allclose(fused, generic, rtol=1e-13)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_uncovered_calls_fall_back_to_the_blocked_tier(name):
    """Strided inputs, rank 1 (of the mean-over-outputs losses), masks (of Poisson and PoissonNLL)
    and the losses without kernels: the blocked tier's result. Issue 25 gave cosine, Dice and
    Tversky fused kernels and masks to the other kernels (tests/test_kernels_overlap.py)."""
    y_true, y_pred = inputs(name, (40, 6), np.float32, 3)
    mask = np.random.default_rng(1).random((40, 6)) > 0.3
    params = per_sample_params(BY_FUNCTION[name])
    cases = [(y_true[:, ::2], y_pred[:, ::2], None)]
    if name not in OVER_AXES:
        cases.append((y_true[0], y_pred[0], None))
    if name not in OVER_AXES and name not in COVERED and name not in MASKED_HYBRID:
        cases.append((y_true, y_pred, mask))
    if name not in COVERED and name not in HYBRID and name not in OVER_AXES:
        cases.append((y_true, y_pred, None))
    for true, pred, element_mask in cases:
        with accelerator("numba"):
            fused = CLASSES[name](**params)(true, pred, mask=element_mask)
        with accelerator("numpy"):
            assert fused.tobytes() == CLASSES[name](**params)(true, pred, mask=element_mask).tobytes()


# ---------------------------------------------------------------- determinism, accuracy


@pytest.mark.parametrize("name", sorted(COVERED) + sorted(HYBRID))
def test_results_are_bit_identical_for_1_and_2_threads(name):
    rows, cols = 3000, 100
    y_true, y_pred = inputs(name, (rows, cols), np.float32, 7)
    weight = np.random.default_rng(3).random(rows).astype(np.float32)
    calls_to_compare = [
        lambda: CLASSES[name]()(y_true, y_pred),
        lambda: CLASSES[name](reduction="sum")(y_true, y_pred, weight),
        lambda: CLASSES[name](reduction="mean_with_sample_weight")(y_true, y_pred, weight),
        lambda: CLASSES[name](reduction="none")(y_true, y_pred, weight),
        lambda: getattr(losses, name)(y_true, y_pred),
    ]
    with accelerator("numba"):
        for call in calls_to_compare:
            results = []
            for count in (1, 2):
                with threads(count):
                    results.append(call().tobytes())
            assert results[0] == results[1]


def test_float64_accumulation_over_1e7_float32_elements():
    rng = np.random.default_rng(11)
    y_true = rng.random((100_000, 100), dtype=np.float32)
    y_pred = y_true + rng.standard_normal((100_000, 100), dtype=np.float32)
    xp = blocked.numpy_namespace()
    rates = np.abs(y_pred) + np.float32(0.5)  # Poisson's rates are positive
    for formula in (
        specs.MEAN_SQUARED_ERROR.per_sample,
        specs.MEAN_ABSOLUTE_ERROR.per_sample,
        specs.MEAN_SQUARED_LOGARITHMIC_ERROR.per_sample,
        specs.LOG_COSH.per_sample,
        specs.POISSON.per_sample,
    ):
        pred = rates if formula is specs.POISSON.per_sample else y_pred
        errors = formula.error(xp, y_true, pred).astype(np.float64)  # exact float32 values
        exact = float(np.mean(errors, dtype=np.float64))  # pairwise float64: ~1e-16 relative
        value = numba_tier.evaluate(formula, {}, y_true, pred, None, None, "mean", np.float64)
        assert abs(float(value) - exact) / exact < 1e-9


@pytest.mark.parametrize("shape", [(100_000, 100), (10**7, 1)])
def test_peak_memory_of_a_scalar_reduction_below_1_percent_of_the_inputs(shape):
    y_true = np.ones(shape, np.float32)
    y_pred = np.zeros(shape, np.float32)
    loss = losses.MeanSquaredError()
    with accelerator("numba"):
        loss(y_true, y_pred)  # compiled or loaded from the cache before measuring
        tracemalloc.start()
        try:
            loss(y_true, y_pred)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 0.01 * (y_true.nbytes + y_pred.nbytes)


@pytest.mark.parametrize("shape", [(100_000, 100), (10**7, 1)])
@pytest.mark.parametrize(
    "name, params",
    [
        ("pinball", {"tau": 0.9}),
        ("smooth_l1", {"beta": 0.5}),
        ("poisson_nll", {}),
        ("poisson_nll", {"log_input": False, "full": True}),
    ],
)
def test_peak_memory_of_the_training_losses_below_1_percent_of_the_inputs(name, params, shape):
    """Issue 22's pinball, smooth L1 and Poisson NLL on the numba tier (PoissonNLL's hybrid blocks
    with the Stirling term's two extra buffers included), scalar reductions without weights."""
    rng = np.random.default_rng(15)
    y_true = rng.poisson(2.0, shape).astype(np.float32)
    y_pred = rng.random(shape, dtype=np.float32)
    loss = CLASSES[name](**params)
    with accelerator("numba"), threads(2):
        loss(y_true, y_pred)  # compiled or loaded from the cache before measuring
        tracemalloc.start()
        try:
            loss(y_true, y_pred)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 0.01 * (y_true.nbytes + y_pred.nbytes)


# ---------------------------------------------------------------- choice and import hygiene


def test_auto_and_numba_choose_the_kernels_for_large_inputs_only():
    with accelerator("auto", threshold=kernels._NUMBA_MIN_ELEMENTS):
        assert kernels._tier(kernels._NUMBA_MIN_ELEMENTS) is numba_tier
        assert kernels._tier(100) is blocked
    with accelerator("numba", threshold=kernels._NUMBA_MIN_ELEMENTS):
        assert kernels._tier(1 << 20) is numba_tier
    with accelerator("numpy", threshold=kernels._NUMBA_MIN_ELEMENTS):
        assert kernels._tier(1 << 20) is blocked


def run_python(code, **environment):
    env = {**os.environ, **environment}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()


def test_importing_regloss_does_not_import_numba():
    code = (
        "import sys, numpy as np, regloss\n"
        "mse = regloss.losses.MeanSquaredError()\n"
        "print('numba' in sys.modules)\n"
        "mse(np.ones((32, 10), np.float32), np.zeros((32, 10), np.float32))\n"
        "print('numba' in sys.modules)\n"
        "mse(np.ones((1000, 100), np.float32), np.zeros((1000, 100), np.float32))\n"
        "print('numba' in sys.modules)\n"
    )
    assert run_python(code, REGLOSS_ACCELERATOR="auto") == ["False", "False", "True"]
    assert run_python(code, REGLOSS_ACCELERATOR="none") == ["False", "False", "False"]
    assert run_python(code, REGLOSS_ACCELERATOR="numpy") == ["False", "False", "False"]
    assert run_python(code, REGLOSS_ACCELERATOR="numba") == ["False", "False", "True"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_a_forked_child_can_use_the_kernels_after_its_parent():
    """numba's default GNU OpenMP layer aborts a forked child; the tier asks for a fork-safe one."""
    code = (
        "import os, numpy as np, regloss\n"
        "a = np.ones((1000, 100), np.float32)\n"
        "loss = regloss.losses.MeanSquaredError()\n"
        "print(float(loss(a, a * 0)))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print(float(loss(a, a * 0.5)), flush=True)\n"
        "    os._exit(0)\n"
        "print(os.waitpid(pid, 0)[1])\n"
    )
    assert run_python(code, REGLOSS_ACCELERATOR="numba") == ["1.0", "0.25", "0"]


def test_the_settings_accept_numba():
    with accelerator("numba"):
        assert config.accelerator() == "numba"
        assert regloss.kernels.active()


# ---------------------------------------------------------------- the bootstrap's Poisson counts


def test_restated_poisson_hash_and_counts_are_the_generic_ones_bit_for_bit():
    import array_api_compat.numpy as xnp

    from regloss.metrics import poisson

    rows, replicates = 3000, 7
    for seed, first_row in ((0, 0), (12345, 2**32 - 1000), (2**32 - 1, 2**64 - rows)):
        row_keys = poisson.row_keys(xnp, seed, first_row, rows)
        replicate_keys = poisson.replicate_keys(xnp, replicates)
        expected_bits = poisson.bits(xnp, seed, first_row, rows, replicates)
        expected_counts = poisson.counts_from_bits(xnp, expected_bits, np.int64)
        thresholds = np.asarray(poisson.THRESHOLDS, dtype=np.uint64)
        for r in range(replicates):
            for b in range(0, rows, 97):
                word = numba_tier.poisson_mix(np.uint64(row_keys[b]) ^ np.uint64(replicate_keys[r]))
                assert word == expected_bits[r, b]
                assert numba_tier.poisson_count(np.uint64(word), thresholds) == expected_counts[r, b]


@pytest.mark.parametrize("rows", [1, 4095, 4096, 10_001])
def test_poisson_weighted_sums_equal_the_counts_times_the_terms(rows):
    import array_api_compat.numpy as xnp

    from regloss.metrics import poisson

    rng = np.random.default_rng(rows)
    terms = rng.integers(-50, 50, size=(rows, 3)).astype(np.float64)  # every sum exact
    counts = poisson.poisson_weights(xnp, 9, 77, rows, 11)
    expected = counts @ terms
    sums = numba_tier.poisson_weighted_sums(
        poisson.row_keys(xnp, 9, 77, rows),
        poisson.replicate_keys(xnp, 11),
        poisson.THRESHOLDS,
        terms,
    )
    np.testing.assert_array_equal(sums, expected)
    with threads(1):
        single = numba_tier.poisson_weighted_sums(
            poisson.row_keys(xnp, 9, 77, rows),
            poisson.replicate_keys(xnp, 11),
            poisson.THRESHOLDS,
            terms + 0.1,
        )
    with threads(2):
        double = numba_tier.poisson_weighted_sums(
            poisson.row_keys(xnp, 9, 77, rows),
            poisson.replicate_keys(xnp, 11),
            poisson.THRESHOLDS,
            terms + 0.1,
        )
    np.testing.assert_array_equal(single, double)
