"""The numba tier's fused cosine, Dice and Tversky kernels (issue 25): one pass over both inputs
collecting the per-sample sums in float64, with element masks, sample weights and every reduction.

Each is checked against the generic array-API path (``REGLOSS_ACCELERATOR=none``) and the
independent float64 reference of tests/reference.py, for thread-count bit-identity, and for its
tracemalloc peak.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

from regloss.kernels import blocked, numba_tier  # noqa: E402
from tests import reference as ref  # noqa: E402
from tests._helpers import threads  # noqa: E402
from tests.test_kernels import CLASSES, assert_close, assert_same_kind, inputs  # noqa: E402
from tests.test_kernels_numba import COVERED, MASKED_HYBRID, REDUCTIONS, accelerator  # noqa: E402

NAMES = ("cosine_similarity", "dice", "tversky")


@st.composite
def calls(draw):
    name = draw(st.sampled_from(NAMES))
    ndim = draw(st.integers(1 if name != "cosine_similarity" else 2, 4))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim)))
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 200)),) + shape[1:]
    axis_choices = [-1, (ndim - 2, ndim - 1)] if ndim >= 2 else [-1]
    if name != "cosine_similarity":
        axis_choices.append(None)
    axis = draw(st.sampled_from(axis_choices))
    params = {"axis": axis}
    if name == "tversky":
        params.update(alpha=draw(st.sampled_from([0.5, 0.3, 0.9])), beta=draw(st.sampled_from([0.5, 0.7])))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed + 1)
    mask = None
    if draw(st.booleans()):
        mask = rng.random(shape) < draw(st.sampled_from([0.1, 0.6, 1.0]))
    per_sample_shape = () if axis is None else shape[: ndim - (1 if axis == -1 else 2)]
    weight = None
    weight_kind = draw(st.sampled_from(["none", "scalar", "per_sample"]))
    if weight_kind == "scalar":
        weight = float(rng.uniform(0.1, 2.0))
    elif weight_kind == "per_sample" and per_sample_shape:
        weight = rng.uniform(0.0, 2.0, per_sample_shape).astype(np.float32)
    reduction = draw(st.sampled_from(REDUCTIONS))
    return name, params, shape, dtype, seed, mask, weight, reduction


def run(path, name, params, y_true, y_pred, mask, weight, reduction, dtype):
    loss = CLASSES[name](reduction=reduction, dtype=dtype, **params)
    with accelerator(path):
        return loss(y_true, y_pred, weight, mask=mask)


def fused_and_generic_against_the_reference(call):
    """``(fused, generic)`` results of a drawn call, the fused one checked against the generic
    one's kind and against the float64 reference."""
    name, params, shape, dtype, seed, mask, weight, reduction = call
    y_true, y_pred = inputs(name, shape, dtype, seed)
    fused = run("numba", name, params, y_true, y_pred, mask, weight, reduction, dtype)
    generic = run("none", name, params, y_true, y_pred, mask, weight, reduction, dtype)
    assert_same_kind(fused, generic)
    expected = ref.ref_loss_call(
        name, ref.as_float64(y_true), ref.as_float64(y_pred), weight, mask, reduction, **params
    )
    assert_close(fused, expected, dtype)
    return fused, generic, expected


@settings(max_examples=200, deadline=None)
@given(calls())
def test_fused_over_axes_match_the_generic_path_and_the_float64_reference(call):
    _, generic, expected = fused_and_generic_against_the_reference(call)
    assert_close(generic, expected, call[3])  # call[3]: the dtype


@pytest.mark.parametrize("name", NAMES)
def test_the_fused_kernel_runs_and_not_the_blocked_tier(name, monkeypatch):
    """Every reduction, weights and masks take the kernel (the blocked tier is made to fail)."""
    y_true, y_pred = inputs(name, (300, 40), np.float32, 4)
    mask = np.random.default_rng(2).random((300, 40)) > 0.2
    weight = np.random.default_rng(3).random(300).astype(np.float32)

    def refuse(*args):
        raise AssertionError("the blocked tier ran")

    axes = (-1,) if name == "cosine_similarity" else (-1, None)
    for axis in axes:
        for reduction in REDUCTIONS:
            for element_mask, sample_weight in ((None, None), (mask, None), (mask, weight if axis else 2.0)):
                loss = CLASSES[name](reduction=reduction, axis=axis)
                generic = run(
                    "none",
                    name,
                    {"axis": axis},
                    y_true,
                    y_pred,
                    element_mask,
                    sample_weight,
                    reduction,
                    "float32",
                )
                with monkeypatch.context() as patch, accelerator("numba"):
                    patch.setattr(blocked, "evaluate", refuse)
                    fused = loss(y_true, y_pred, sample_weight, mask=element_mask)
                assert_same_kind(fused, generic)
                np.testing.assert_allclose(fused, generic, rtol=2e-5, atol=1e-6)


def test_a_row_with_every_entry_masked_counts_as_absent():
    y_true, y_pred = inputs("cosine_similarity", (50, 8), np.float64, 5)
    mask = np.ones((50, 8), bool)
    mask[[3, 17, 40]] = False
    for reduction in REDUCTIONS:
        fused = run("numba", "cosine_similarity", {}, y_true, y_pred, mask, None, reduction, "float64")
        expected = ref.ref_loss_call("cosine_similarity", y_true, y_pred, None, mask, reduction)
        np.testing.assert_allclose(fused, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_results_are_bit_identical_for_1_2_and_3_threads(name):
    rows, cols = 3000, 100
    y_true, y_pred = inputs(name, (rows, cols), np.float32, 7)
    weight = np.random.default_rng(3).random(rows).astype(np.float32)
    mask = np.random.default_rng(4).random((rows, cols)) > 0.3
    axes = (-1,) if name == "cosine_similarity" else (-1, None)
    with accelerator("numba"):
        for axis in axes:
            for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none"):
                for element_mask in (None, mask):
                    loss = CLASSES[name](reduction=reduction, axis=axis)
                    w = weight if axis is not None else 1.5
                    results = set()
                    for count in (1, 2, 3):
                        with threads(count):
                            results.add(loss(y_true, y_pred, w, mask=element_mask).tobytes())
                    assert len(results) == 1


def test_float64_accumulation_of_dice_over_1e7_float32_elements():
    rng = np.random.default_rng(11)
    y_true = rng.random(10**7, dtype=np.float32).reshape(100_000, 100)
    y_pred = rng.random(10**7, dtype=np.float32).reshape(100_000, 100)
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)
    exact = 1.0 - 2.0 * np.sum(t * p) / (np.sum(t) + np.sum(p) + 1e-7)
    with accelerator("numba"):
        value = CLASSES["dice"](dtype="float64")(y_true.astype(np.float64), y_pred.astype(np.float64))
    assert abs(float(value) - exact) < 1e-13
    value32 = numba_tier.evaluate(
        CLASSES["dice"]().formula, {"axis": None}, y_true, y_pred, None, None, "sum", np.float64
    )
    exact32 = 1.0 - 2.0 * np.sum((y_true * y_pred).astype(np.float64)) / (np.sum(t) + np.sum(p) + 1e-7)
    assert abs(float(value32) - exact32) < 1e-12


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "none"])
def test_peak_memory_below_1_percent_of_the_inputs(name, reduction):
    y_true, y_pred = inputs(name, (100_000, 100), np.float32, 9)
    weight = np.ones(100_000, np.float32)
    loss = CLASSES[name](reduction=reduction, axis=-1)
    with accelerator("numba"), threads(2):
        loss(y_true, y_pred, weight)  # compiled or loaded from the cache before measuring
        tracemalloc.start()
        try:
            loss(y_true, y_pred, weight)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 0.01 * (y_true.nbytes + y_pred.nbytes)


# ------------------------------------------- element masks of the mean-over-outputs kernels

MASKED = sorted(COVERED) + list(MASKED_HYBRID)


@st.composite
def masked_calls(draw):
    name = draw(st.sampled_from(MASKED))
    ndim = draw(st.integers(2, 3))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 300)),) + shape[1:]
    if draw(st.booleans()):  # rows on both sides of numba_tier._SLICED_ROW_COLUMNS
        shape = shape[:-1] + (draw(st.sampled_from([63, 64, 65, 130])),)
    params = {"delta": draw(st.sampled_from([1.0, 0.3]))} if name == "huber" else {}
    dtype = draw(st.sampled_from(["float32", "float64"]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed + 1)
    mask = None
    if draw(st.booleans()) or name not in MASKED_HYBRID:
        mask = rng.random(shape) < draw(st.sampled_from([0.05, 0.6, 1.0]))
    weight = draw(st.sampled_from(["none", "scalar", "per_sample"]))
    weight = {
        "none": None,
        "scalar": float(rng.uniform(0.1, 2.0)),
        "per_sample": rng.uniform(0.0, 2.0, shape[:-1]).astype(np.float32),
    }[weight]
    reduction = draw(st.sampled_from(REDUCTIONS))
    return name, params, shape, dtype, seed, mask, weight, reduction


@settings(max_examples=200, deadline=None)
@given(masked_calls())
def test_masked_kernels_match_the_generic_path_and_the_float64_reference(call):
    """Masks for every fused mean-over-outputs kernel, and MSLE/LogCosh with weights or per-sample
    results (with or without a mask), against the generic path and the float64 reference."""
    fused, generic, _ = fused_and_generic_against_the_reference(call)
    np.testing.assert_allclose(fused.astype(np.float64), generic.astype(np.float64), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", MASKED)
def test_masked_and_weighted_calls_take_the_kernels(name, monkeypatch):
    y_true, y_pred = inputs(name, (300, 40), np.float32, 4)
    mask = np.random.default_rng(2).random((300, 40)) > 0.2
    weight = np.random.default_rng(3).random(300).astype(np.float32)

    def refuse(*args):
        raise AssertionError("the blocked tier ran")

    for reduction in REDUCTIONS:
        for element_mask, sample_weight in ((mask, None), (mask, weight), (None, weight), (None, None)):
            generic = run("none", name, {}, y_true, y_pred, element_mask, sample_weight, reduction, "float32")
            with monkeypatch.context() as patch, accelerator("numba"):
                patch.setattr(blocked, "evaluate", refuse)
                fused = CLASSES[name](reduction=reduction)(y_true, y_pred, sample_weight, mask=element_mask)
            assert_same_kind(fused, generic)
            np.testing.assert_allclose(fused, generic, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", MASKED)
def test_masked_results_are_bit_identical_for_1_2_and_3_threads(name):
    rows, cols = 3000, 100
    y_true, y_pred = inputs(name, (rows, cols), np.float32, 7)
    weight = np.random.default_rng(3).random(rows).astype(np.float32)
    mask = np.random.default_rng(4).random((rows, cols)) > 0.3
    with accelerator("numba"):
        for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none"):
            for element_mask, w in ((mask, None), (mask, weight), (None, weight)):
                loss = CLASSES[name](reduction=reduction)
                results = set()
                for count in (1, 2, 3):
                    with threads(count):
                        results.add(loss(y_true, y_pred, w, mask=element_mask).tobytes())
                assert len(results) == 1


@pytest.mark.parametrize("name", ["mean_squared_error", "huber", *MASKED_HYBRID])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "none"])
def test_peak_memory_of_masked_and_weighted_calls_below_1_percent_of_the_inputs(name, reduction):
    """The peak besides the result: per-sample results (``"none"``) are the call's output, 4 bytes
    per sample whatever the kernel does (50% of the inputs for one output), not a temporary."""
    y_true, y_pred = inputs(name, (100_000, 100), np.float32, 9)
    mask = np.random.default_rng(4).random((100_000, 100)) > 0.3
    weight = np.random.default_rng(3).random(100_000).astype(np.float32)
    loss = CLASSES[name](reduction=reduction)
    for element_mask in (mask, None):
        with accelerator("numba"), threads(2):
            loss(y_true, y_pred, weight, mask=element_mask)  # compiled or loaded before measuring
            tracemalloc.start()
            try:
                result = loss(y_true, y_pred, weight, mask=element_mask)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        output = result.nbytes if reduction == "none" else 0
        assert result.shape == ((100_000,) if reduction == "none" else ())
        assert peak - output < 0.01 * (y_true.nbytes + y_pred.nbytes), (peak, output)


# ------------------------------------------------------- small calls of cosine, Dice, Tversky


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(NAMES),
    st.lists(st.integers(1, 12), min_size=2, max_size=3),
    st.sampled_from(["float32", "float64"]),
    st.sampled_from(REDUCTIONS),
    st.integers(0, 2**31),
)
def test_small_calls_take_the_one_block_path_with_the_reference_values(name, shape, dtype, reduction, seed):
    """A small batch without weights or masks is one block of float64 sums (no partition, no
    generic formula: blocked._Call is made to fail), equal to the float64 reference."""
    shape = tuple(shape)
    y_true, y_pred = inputs(name, shape, dtype, seed)
    params = {} if name == "cosine_similarity" else {"axis": seed % 2 and -1 or None}
    if name == "tversky":
        params.update(alpha=0.3, beta=0.7)
    loss = CLASSES[name](reduction=reduction, dtype=dtype, **params)
    saved = blocked._Call
    blocked._Call = None  # any use of the partitioned path raises TypeError
    try:
        with accelerator("numpy"):
            fused = loss(y_true, y_pred)
    finally:
        blocked._Call = saved
    generic = run("none", name, params, y_true, y_pred, None, None, reduction, dtype)
    assert_same_kind(fused, generic)
    expected = ref.ref_loss_call(
        name, ref.as_float64(y_true), ref.as_float64(y_pred), None, None, reduction, **params
    )
    assert_close(fused, expected, dtype)


@pytest.mark.parametrize("name", MASKED)
@pytest.mark.parametrize("cols", [10, 130])
def test_nan_and_inf_under_a_mask_never_reach_the_masked_row_sums(name, cols):
    """The masked row kernel selects 0 for masked entries before the error (as the generic path
    zeroes them), the hybrid kernels (MSLE, LogCosh, Poisson) select 0 for their terms: NaN and
    inf there change nothing, for short and long rows."""
    y_true, y_pred = inputs(name, (40, cols), np.float32, 11)
    mask = np.random.default_rng(5).random((40, cols)) > 0.4
    mask[3] = False  # one row with every entry masked
    dirty_true, dirty_pred = y_true.copy(), y_pred.copy()
    dirty_true[~mask] = np.nan
    dirty_pred[~mask] = np.inf
    clean_true, clean_pred = np.where(mask, y_true, 0), np.where(mask, y_pred, 0)
    for reduction in ("sum_over_batch_size", "none"):
        fused = run("numba", name, {}, dirty_true, dirty_pred, mask, None, reduction, "float32")
        generic = run("none", name, {}, dirty_true, dirty_pred, mask, None, reduction, "float32")
        expected = ref.ref_loss_call(
            name, ref.as_float64(clean_true), ref.as_float64(clean_pred), None, mask, reduction
        )
        assert np.all(np.isfinite(fused))
        assert_close(fused, expected, "float32")
        np.testing.assert_allclose(fused, generic, rtol=2e-5, atol=1e-6)
