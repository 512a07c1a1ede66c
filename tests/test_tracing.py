"""Tracing and laziness: jax.jit, jax.vmap, torch.func.vmap, torch.compile, lazy Dask, devices.

Every loss is traced with a few fixed shapes (each new shape compiles again).
"""

import numpy as np
import pytest

from regloss import losses
from tests._cases import LOSSES, per_sample_params
from tests._helpers import to_numpy
from tests.reference import ref_loss_call, ref_per_sample

# Every loss of the test table, per sample, with non-default Huber and Tversky parameters.
LOSS_CLASSES = {
    case.function: (getattr(losses, case.cls), per_sample_params(case, delta=0.5, alpha=0.2, beta=0.8))
    for case in LOSSES
}


def _data(shape=(5, 3), seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.0, 1.0, size=shape)
    y_pred = rng.uniform(0.0, 1.0, size=shape)
    weight = rng.uniform(0.5, 2.0, size=shape[:-1])
    mask = rng.random(shape[:-1]) > 0.3
    return y_true, y_pred, weight, mask


# ------------------------------------------------------------------------------------- JAX


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax", reason="jax is not installed (pip install -e '.[oracle]')")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("name", list(LOSS_CLASSES))
def test_jax_jit_of_a_closed_over_instance(jax, name):
    cls, params = LOSS_CLASSES[name]
    loss = cls(dtype="float64", **params)
    y_true, y_pred, weight, mask = _data()
    jnp = jax.numpy
    compiled = jax.jit(lambda t, p, w, m: loss(t, p, w, mask=m))
    got = compiled(*(jnp.asarray(a) for a in (y_true, y_pred, weight, mask)))
    want = ref_loss_call(name, y_true, y_pred, weight, mask, **params)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)
    # A second call with new values reuses the trace and stays right.
    y_true2, y_pred2, weight2, mask2 = _data(seed=1)
    got2 = compiled(*(jnp.asarray(a) for a in (y_true2, y_pred2, weight2, mask2)))
    np.testing.assert_allclose(
        np.asarray(got2), ref_loss_call(name, y_true2, y_pred2, weight2, mask2, **params)
    )


@pytest.mark.parametrize("name", list(LOSS_CLASSES))
def test_jax_jit_of_the_functional_form(jax, name):
    _, params = LOSS_CLASSES[name]
    y_true, y_pred, _, _ = _data()
    function = getattr(losses, name)
    got = jax.jit(lambda t, p: function(t, p, **params))(y_true, y_pred)
    want, _ = ref_per_sample(name, y_true, y_pred, **params)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


@pytest.mark.parametrize("name", ["mean_squared_error", "huber", "cosine_similarity", "tversky"])
def test_jax_vmap_over_a_batch_of_problems(jax, name):
    cls, params = LOSS_CLASSES[name]
    loss = cls(dtype="float64", **params)
    problems = [_data(seed=seed) for seed in range(4)]
    stacked = [jax.numpy.asarray(np.stack(parts)) for parts in zip(*problems, strict=True)]
    got = jax.vmap(lambda t, p, w, m: loss(t, p, w, mask=m))(*stacked)
    want = [ref_loss_call(name, *problem, **params) for problem in problems]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


# ----------------------------------------------------------------------------------- torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[test]')")


@pytest.mark.parametrize("name", ["mean_squared_error", "huber", "cosine_similarity", "tversky", "log_cosh"])
def test_torch_func_vmap_over_a_batch_of_problems(torch, name):
    cls, params = LOSS_CLASSES[name]
    loss = cls(dtype="float64", **params)
    problems = [_data(seed=seed) for seed in range(4)]
    stacked = [torch.as_tensor(np.stack(parts)) for parts in zip(*problems, strict=True)]
    got = torch.func.vmap(lambda t, p, w, m: loss(t, p, w, mask=m))(*stacked)
    want = [ref_loss_call(name, *problem, **params) for problem in problems]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("name", ["mean_squared_error", "huber", "cosine_similarity"])
def test_torch_compile(torch, name):
    cls, params = LOSS_CLASSES[name]
    loss = cls(**params)
    y_true, y_pred, weight, mask = _data()
    # fullgraph=True: the whole call, validation included, traces without a graph break.
    compiled = torch.compile(lambda t, p, w, m: loss(t, p, w, mask=m), fullgraph=True)
    tensors = [torch.as_tensor(a) for a in (y_true, y_pred, weight, mask)]
    got = compiled(*tensors)
    assert got.dtype == torch.float32
    want = ref_loss_call(name, y_true.astype("float32"), y_pred.astype("float32"), weight, mask, **params)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_torch_meta_device_gives_shape_and_dtype(torch):
    meta = torch.device("meta")
    y_true = torch.empty((8, 3), device=meta)
    y_pred = torch.empty((8, 3), device=meta, dtype=torch.float64)
    for name, (cls, params) in LOSS_CLASSES.items():
        for reduction, shape in (("sum_over_batch_size", ()), ("none", (8,))):
            expected_shape = shape
            result = cls(reduction=reduction, **params)(y_true, y_pred, np.ones(8), mask=np.ones(8, bool))
            assert result.device == meta, name
            assert tuple(result.shape) == expected_shape, name
            assert result.dtype == torch.float32, name
        per_sample = getattr(losses, name)(y_true, y_pred, **params)
        assert per_sample.device == meta and per_sample.dtype == torch.float64


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_low_precision_torch_and_jax(torch, jax, dtype_name):
    y_true, y_pred, weight, _ = _data()
    y_pred = y_pred * 300  # squares overflow float16 unless computed in float32
    rtol = 1e-2 if dtype_name == "float16" else 4e-2
    libraries = {
        "torch": (lambda a: torch.as_tensor(a, dtype=getattr(torch, dtype_name)), getattr(torch, dtype_name)),
        "jax": (lambda a: jax.numpy.asarray(a, dtype=dtype_name), getattr(jax.numpy, dtype_name)),
    }
    for name, (cls, params) in LOSS_CLASSES.items():
        want = ref_loss_call(name, y_true, y_pred, weight, None, **params)
        largest = 65504.0 if dtype_name == "float16" else 3.3895e38  # bfloat16 (and float32) ~3.39e38
        if abs(want) > largest:  # beyond the dtype (PoissonNLL's exp(300 y_pred)): inf is the right answer
            want = np.inf
        for library, (convert, dtype) in libraries.items():
            got = cls(dtype=dtype_name, **params)(convert(y_true), convert(y_pred), convert(weight))
            assert got.dtype == dtype, (library, name)
            np.testing.assert_allclose(to_numpy(got).astype("float64"), want, rtol=rtol, err_msg=library)
            per_sample = getattr(losses, name)(convert(y_true), convert(y_pred), **params)
            assert per_sample.dtype == dtype, (library, name)


# ------------------------------------------------------------------------------------ Dask


@pytest.fixture(scope="module")
def da():
    return pytest.importorskip("dask.array", reason="dask is not installed (pip install -e '.[test]')")


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("regloss computed a Dask graph before the user asked")


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight", "none"])
def test_dask_stays_lazy(da, reduction):
    import dask

    y_true, y_pred, weight, mask = _data((40, 3))
    chunks = (10, 3)
    inputs = (da.from_array(y_true, chunks=chunks), da.from_array(y_pred, chunks=chunks))
    extra = (da.from_array(weight, chunks=10), da.from_array(mask, chunks=10))
    results = {}
    with dask.config.set(scheduler=_refuse_to_compute):
        for name, (cls, params) in LOSS_CLASSES.items():
            results[name] = cls(reduction=reduction, dtype="float64", **params)(
                *inputs, extra[0], mask=extra[1]
            )
            assert type(results[name]).__module__.startswith("dask")
    for name, result in results.items():
        _, params = LOSS_CLASSES[name]
        want = ref_loss_call(name, y_true, y_pred, weight, mask, reduction, **params)
        np.testing.assert_allclose(result.compute(scheduler="sync"), want, rtol=1e-12, err_msg=name)


def test_dask_with_unknown_chunk_sizes(da):
    y_true, y_pred, weight, _ = _data((40, 3))
    keep = np.arange(40) % 3 != 0
    table = da.from_array(np.column_stack([y_true, y_pred, weight, keep]), chunks=(10, 8))
    table = table[table[:, -1] > 0]  # a boolean filter: the row count is unknown until computed
    assert np.isnan(table.shape[0])
    t, p, w = table[:, 0:3], table[:, 3:6], table[:, 6]
    for name, (cls, params) in LOSS_CLASSES.items():
        got = cls(dtype="float64", **params)(t, p, w).compute(scheduler="sync")
        want = ref_loss_call(name, y_true[keep], y_pred[keep], weight[keep], None, **params)
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=name)
        per_sample = getattr(losses, name)(t, p, **params).compute(scheduler="sync")
        np.testing.assert_allclose(per_sample, ref_per_sample(name, y_true[keep], y_pred[keep], **params)[0])


def test_dask_unknown_chunk_sizes_with_masks_and_reconciliation(da):
    y_true, y_pred, _, mask = _data((40, 3))
    keep = np.arange(40) % 4 != 0
    table = da.from_array(np.column_stack([y_true, y_pred, mask, keep]), chunks=(10, 8))
    table = table[table[:, -1] > 0]
    t, p, m = table[:, 0:3], table[:, 3:6], table[:, 6] > 0
    loss = losses.MeanSquaredError(dtype="float64")
    got = loss(t, p, mask=m).compute(scheduler="sync")
    np.testing.assert_allclose(
        got, ref_loss_call("mean_squared_error", y_true[keep], y_pred[keep], None, mask[keep])
    )
    element = (t > 0.5).compute(scheduler="sync")
    got = loss(t, p, mask=t > 0.5).compute(scheduler="sync")
    want = ref_loss_call("mean_squared_error", y_true[keep], y_pred[keep], None, element)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # Rank reconciliation on unknown lengths: (n, 1) against (n,).
    got = losses.mean_squared_error(t[:, :1], p[:, 0]).compute(scheduler="sync")
    np.testing.assert_allclose(got, (y_true[keep, 0] - y_pred[keep, 0]) ** 2, rtol=1e-12)
