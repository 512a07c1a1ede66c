"""The blocked tier's in-place Huber (regloss.kernels.inplace) and its memory-capped threads.

Compared with the float64 reference of tests/reference.py (errors formed exactly in float64) and
with the generic array-API path (``accelerator="none"``) for non-finite inputs; threads against
one thread, bit for bit; the tracemalloc peak against the memory target of issue 11.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from regloss import losses
from regloss.kernels import blocked, inplace
from tests import reference as ref
from tests._helpers import peak_of, threads
from tests.test_kernels import accelerator


@contextlib.contextmanager
def blocks_and_budget(elements, fraction=None):
    """In-place blocks of ``elements`` elements, threads from the first element, and optionally a
    memory budget of ``fraction`` of the inputs."""
    saved = blocked.TEMPORARY_ELEMENTS, blocked.PARALLEL_ELEMENTS, blocked.MEMORY_FRACTION
    blocked.TEMPORARY_ELEMENTS = elements * inplace.IN_PLACE_LIVE_ARRAYS
    blocked.PARALLEL_ELEMENTS = 1
    if fraction is not None:
        blocked.MEMORY_FRACTION = fraction
    try:
        yield
    finally:
        blocked.TEMPORARY_ELEMENTS, blocked.PARALLEL_ELEMENTS, blocked.MEMORY_FRACTION = saved


def huber_inputs(shape, dtype, delta, seed=0):
    """Errors around ``delta``, some exactly at ``+-delta`` and at 0."""
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=shape)
    error = rng.normal(scale=2 * delta, size=shape)
    flat = error.reshape(-1)
    flat[::7], flat[1::11], flat[2::13] = delta, -delta, 0.0
    return y_true.astype(dtype), (y_true + error).astype(dtype)


SHAPES_AND_BLOCKS = [((50, 7), 16), ((3, 1000), 64), ((1, 5), 3), ((4000, 30), None)]
"""Inputs and in-place block sizes (None: the default): many blocks, a last partial one, one block."""


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("delta", [1.0, 0.25, 3])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean"])
@pytest.mark.parametrize(("shape", "elements"), SHAPES_AND_BLOCKS)
def test_in_place_huber_matches_the_float64_reference(dtype, delta, reduction, shape, elements):
    y_true, y_pred = huber_inputs(shape, dtype, delta)
    loss = losses.Huber(delta=delta, reduction=reduction, dtype=dtype)
    sizes = contextlib.nullcontext() if elements is None else blocks_and_budget(elements)
    with accelerator("numpy"), sizes:
        result = loss(y_true, y_pred)
    expected = ref.ref_loss_call(
        "huber", ref.as_float64(y_true), ref.as_float64(y_pred), None, None, reduction, delta=delta
    )
    assert result.dtype == np.dtype(dtype) and result.shape == ()
    rtol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(float(result), float(expected), rtol=rtol)


def test_the_in_place_block_is_half_the_generic_formula():
    """Per element, ``(|e| - h) h`` with ``h = min(|e|, delta) / 2`` is exactly half of the
    generic ``q (|e| - q / 2)`` in float32 (a power of two scales each rounding)."""
    y_true, y_pred = huber_inputs((4096,), "float32", 1.0, seed=3)
    for delta in (1.0, 0.3):
        x, h = np.empty_like(y_true), np.empty_like(y_true)
        half_sum = inplace._huber_block(y_true, y_pred, x, h, np.full_like(y_true, delta))
        error = np.abs(y_pred - y_true)
        clipped = np.minimum(error, np.float32(delta))
        generic = clipped * (error - np.float32(0.5) * clipped)
        np.testing.assert_array_equal(2 * x, generic)
        assert 2 * half_sum == np.add.reduce(generic, dtype=np.float64)


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_give_the_generic_paths_result(special):
    y_true, y_pred = huber_inputs((60, 5), "float32", 1.0)
    y_pred[17, 3] = special
    results = []
    for path in ("numpy", "none"):
        with accelerator(path), blocks_and_budget(16):
            results.append(float(losses.Huber()(y_true, y_pred)))
    assert np.isnan(results[0]) == np.isnan(results[1])
    if not np.isnan(results[1]):
        assert results[0] == results[1] == np.inf


def test_in_place_sums_are_bit_identical_for_1_2_and_3_threads():
    y_true, y_pred = huber_inputs((3000, 33), "float32", 1.0, seed=5)
    totals = []
    with accelerator("numpy"), blocks_and_budget(1000, fraction=1.0):
        for count in (1, 2, 3):
            with threads(count):
                assert blocked.threads_within_budget(8000, 4000, y_true.nbytes + y_pred.nbytes) >= 3
                totals.append(inplace.error_sum(losses.Huber().formula, {}, y_true, y_pred))
                totals.append(losses.Huber(reduction="sum")(y_true, y_pred).tobytes())
    assert totals[0::2] == [totals[0]] * 3
    assert totals[1::2] == [totals[1]] * 3


def test_threads_are_capped_by_the_memory_budget():
    buffer = 8 * np.getbufsize()  # NumPy's float64 cast buffer of one reduction, per thread
    budget = 0.01 * 10**8
    for thread_bytes, shared in [(1000, 0), (10**5, 10**5), (2 * 10**5, 3 * 10**5)]:
        count = blocked.threads_within_budget(thread_bytes, shared, 10**8)
        assert count >= 2
        assert count * (thread_bytes + buffer) + shared <= budget  # the most that fit in 1%...
        assert (count + 1) * (thread_bytes + buffer) + shared > blocked.MEMORY_FRACTION * 10**8  # ...of 0.9%
    assert blocked.threads_within_budget(10**9, 0, 10**8) == 1  # at least one thread
    ran = []
    with blocks_and_budget(16), threads(3):
        blocked.run_blocks(lambda index: ran.append(index), 9, 10**6, max_threads=1)
    assert ran == list(range(9))  # one thread: in order, on the calling thread


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_peak_memory_on_3_threads_stays_below_1_percent_of_the_inputs(dtype):
    """Three threads would take more than the budget with these blocks: the call uses fewer."""
    rng = np.random.default_rng(2)
    shape = (100_000, 100) if dtype is np.float32 else (50_000, 100)
    y_true = rng.standard_normal(shape, dtype=dtype)
    y_pred = rng.standard_normal(shape, dtype=dtype)
    loss = losses.Huber(dtype=np.dtype(dtype).name)
    with accelerator("numpy"), threads(3):
        loss(y_true[:1000], y_pred[:1000])  # the thread pool exists before measuring
        peak = peak_of(lambda: loss(y_true, y_pred))
    assert peak < 0.01 * (y_true.nbytes + y_pred.nbytes), peak


def test_uncovered_errors_and_array_parameters_take_the_generic_blocks():
    y_true, y_pred = huber_inputs((10, 10), "float32", 1.0)
    assert inplace.error_sum(losses.MeanSquaredError().formula, {}, y_true, y_pred) is None
    assert inplace.error_sum(losses.Huber().formula, {"delta": np.float32(1.0)}, y_true, y_pred) is None
