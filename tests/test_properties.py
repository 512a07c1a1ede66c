"""Property tests of regloss's losses against the float64 reference in tests/reference.py.

Every test runs on each array library of the ``xp`` fixture (NumPy and array-api-strict).
Inputs are built in float64 NumPy, rounded to the dtype under test, and handed to regloss as
arrays of ``xp``; the reference sees the same rounded numbers, in float64.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from regloss import config, losses
from tests import reference as ref
from tests._cases import BY_FUNCTION
from tests._cases import LOSSES as CASES
from tests._helpers import LOSS_FUNCTION_NAMES, library_name, library_of, to_numpy

try:
    import ml_dtypes
except ImportError:  # pragma: no cover - optional
    ml_dtypes = None

# The hypothesis properties and the reduction matrix run on NumPy and array-api-strict (the
# reference libraries); every other installed library of the ``xp`` fixture runs the cheap
# deterministic tests listed in ALL_LIBRARY_TESTS (JAX recompiles for every new shape and Dask
# builds a graph per call, which would take minutes). REGLOSS_PROPERTIES_ALL_LIBRARIES=1 runs
# everything everywhere.
FULL_LIBRARIES = {"numpy", "array_api_strict"}
ALL_LIBRARY_TESTS = {
    "test_functional_rank_reconciliation",
    "test_functional_shape_mismatch_raises",
    "test_functional_integer_and_list_inputs_give_floatx",
    "test_reducing_modes_give_0d",
    "test_mse_docstring_value",
    "test_empty_batch",
    "test_inputs_not_modified",
    "test_asymmetric_examples",
    "test_set_epsilon_changes_result",
    "test_zero_weight_keeps_nan",
    "test_empty_last_axis_and_rank0_raise",
    "test_log_cosh_is_stable",
    "test_set_floatx_is_read_at_call_time",
    "test_class_smoke_on_every_library",
    "test_low_precision_smoke_on_every_library",
}


# On the other libraries, tests parametrized by loss name run for these losses only.
OTHER_LIBRARY_LOSSES = {"mean_squared_error", "tversky"}


@pytest.fixture
def xp(xp, request):
    """The conftest ``xp``, limited to FULL_LIBRARIES for the heavy tests."""
    if library_name(xp) in FULL_LIBRARIES:
        return xp
    if os.environ.get("REGLOSS_PROPERTIES_ALL_LIBRARIES") == "1":
        return xp
    if request.function.__name__ not in ALL_LIBRARY_TESTS:
        pytest.skip("heavy property test: NumPy and array-api-strict only")
    params = getattr(request.node, "callspec", None)
    name = params.params.get("name") if params is not None else None
    if name is not None and name not in OTHER_LIBRARY_LOSSES:
        pytest.skip("on this library only a few losses run (NumPy and array-api-strict run all)")
    return xp


# ``xp`` is a function-scoped fixture that only returns a module: safe to share across examples.
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

LOSS_NAMES = LOSS_FUNCTION_NAMES
CLASS_NAMES = {case.function: case.cls for case in CASES}
MEAN_LOSSES = [case.function for case in CASES if not case.over_axes]
AXIS_LOSSES = [case.function for case in CASES if case.over_axes]
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None, "auto"]
REDUCING = {"sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "auto"}

RTOL = {"float64": 1e-12, "float32": 2e-5, "float16": 1.5e-3, "bfloat16": 1.2e-2}
ATOL_FLOOR = {"float64": 0.0, "float32": 0.0, "float16": 1e-7, "bfloat16": 0.0}


# ----------------------------------------------------------------------------- helpers


def np_dtype(name):
    if name == "bfloat16":
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def rounded(x, dtype):
    """``x`` rounded to ``dtype`` and back to float64 (what regloss computes from)."""
    return np.asarray(x).astype(np_dtype(dtype)).astype(np.float64)


def to_xp(xp, x):
    return xp.asarray(np.asarray(x))


def loss_class(name):
    return getattr(losses, CLASS_NAMES[name])


def error_scale(name, t, p, params=None):
    """A magnitude for the absolute tolerance: rounding of the formula, not of the result.

    Losses that are sums of non-negative terms get 0 (a relative tolerance is enough); those
    that subtract nearly equal numbers get the size of the numbers subtracted.
    """
    t = np.asarray(t, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if name == "log_cosh":  # x + softplus(-2x) - log 2 cancels for small x
        return 1.0 + float(np.max(np.abs(p - t), initial=0.0))
    if name == "mean_squared_logarithmic_error":
        with np.errstate(all="ignore"):
            a = np.log(np.maximum(p, ref.EPSILON) + 1.0)
            b = np.log(np.maximum(t, ref.EPSILON) + 1.0)
        return float(np.max(np.abs(a - b) * (1.0 + np.abs(a) + np.abs(b)), initial=0.0))
    if name in AXIS_LOSSES:
        return 1.0
    if name == "poisson":  # p - t log(p + eps) subtracts terms of the size of p and t log(p)
        with np.errstate(all="ignore"):
            return float(np.max(np.abs(p) + np.abs(t * np.log(np.abs(p) + ref.EPSILON)), initial=0.0))
    if name == "poisson_nll":  # exp(p) - t p (or p - t log(p + eps)) plus Stirling: terms of both signs
        params = params or {}  # unknown parameters: the terms of every form
        with np.errstate(all="ignore"):
            safe = np.maximum(np.abs(t), 1.0)
            terms = safe * np.abs(np.log(safe)) + safe + np.abs(np.log(2.0 * np.pi * safe))
            if params.get("log_input", True):
                terms = terms + np.exp(p) + np.abs(t * p)
            if not params.get("log_input", False):
                terms = terms + np.abs(p) + np.abs(t * np.log(np.abs(p) + params.get("eps", 1e-8)))
        return float(np.max(np.nan_to_num(terms, posinf=0.0), initial=0.0))
    return 0.0


def assert_close(got, want, dtype, scale=0.0, rtol=None, what=""):
    got = to_numpy(got).astype(np.float64)
    want = np.asarray(want, dtype=np.float64)
    rtol = RTOL[dtype] if rtol is None else rtol
    atol = rtol * np.asarray(scale, dtype=np.float64) + ATOL_FLOOR[dtype]
    assert got.shape == want.shape, (what, got.shape, want.shape)
    ok = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True) | (got == want)
    if not np.all(ok):
        raise AssertionError(
            f"{what}\nmismatch (rtol={rtol}):\n got={got!r}\nwant={want!r}\ndiff={got - want!r}"
        )


def reduced_scale(name, t, p, values, weight, sample_mask, reduction, params):
    """The size of the summands of a reduction, for its absolute tolerance."""
    s = error_scale(name, t, p, params)
    w = None if weight is None else np.abs(ref.as_float64(weight))
    with np.errstate(all="ignore"):
        return ref.ref_reduce(np.abs(np.nan_to_num(values)) + s, w, sample_mask, reduction)


def xp_dtype(xp, name):
    """The dtype object ``name`` of the library ``xp`` (None if the library has none)."""
    if library_name(xp) == "numpy":
        if name == "bfloat16" and ml_dtypes is None:
            return None
        return np_dtype(name)
    return getattr(xp, name, None)


def check_array(got, xp, dtype, shape):
    """The result is an array of xp with the given dtype and shape."""
    assert library_of(got) == library_name(xp), type(got)
    assert got.dtype == xp_dtype(xp, dtype), (got.dtype, dtype)
    assert tuple(got.shape) == tuple(shape), (tuple(got.shape), shape)


# ----------------------------------------------------------------------------- strategies


def grid(lo, hi, step=1000):
    """Multiples of 1/step in [lo, hi]: sane values, no subnormals, exact ties possible."""
    return st.integers(round(lo * step), round(hi * step)).map(lambda k: k / step)


REAL = grid(-10, 10)
UNIT = grid(0, 1)
WEIGHTS = st.integers(0, 20).map(lambda k: k / 4)  # exact in every float dtype

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


@st.composite
def inputs(draw, name, shape, zeros_in_mape=True):
    """(y_true, y_pred) float64 arrays in the loss's sane domain."""
    if BY_FUNCTION[name].domain == "unit":
        t = draw(hnp.arrays(np.float64, shape, elements=UNIT))
        p = draw(hnp.arrays(np.float64, shape, elements=UNIT))
        return t, p
    if BY_FUNCTION[name].domain == "positive" and name != "mean_squared_logarithmic_error":
        t = draw(hnp.arrays(np.float64, shape, elements=grid(0.0, 10)))
        p = draw(hnp.arrays(np.float64, shape, elements=grid(0.1, 10)))
        return t, p
    p = draw(hnp.arrays(np.float64, shape, elements=REAL))
    if name == "mean_absolute_percentage_error":
        magnitude = draw(hnp.arrays(np.float64, shape, elements=grid(0.1, 10)))
        negative = draw(hnp.arrays(np.bool_, shape))
        t = np.where(negative, -magnitude, magnitude)
        if zeros_in_mape and draw(st.integers(0, 3)) == 0:  # explicit y_true = 0 cases
            t = np.where(draw(hnp.arrays(np.bool_, shape)), 0.0, t)
        return t, p
    t = draw(hnp.arrays(np.float64, shape, elements=REAL))
    return t, p


@st.composite
def any_axis(draw, ndim):
    """None, an int (maybe negative) or a tuple of distinct axes (maybe negative, unsorted)."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(draw(st.sampled_from([a, a - ndim])) for a in axes)


@st.composite
def trailing_axis(draw, ndim, name):
    """Axes that leave a per-sample loss: -1, None or (k, ..., ndim - 1)."""
    options = [-1, None] + [tuple(range(k, ndim)) for k in range(1, ndim)]
    return draw(st.sampled_from(options))


@st.composite
def loss_params(draw, name, ndim, functional):
    axis = any_axis(ndim) if functional else trailing_axis(ndim, name)
    if name == "huber":
        return {"delta": draw(st.sampled_from([0.25, 0.5, 1.0, 1.5, 3.0]))}
    if name in ("cosine_similarity", "dice"):
        return {"axis": draw(axis)}
    if name == "tversky":
        alpha = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 2.0]))
        beta = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 2.0]))
        return {"alpha": alpha, "beta": beta, "axis": draw(axis)}
    return {}


WEIGHT_KINDS = ["none", "scalar", "per_sample", "expanded", "batch"]
MASK_KINDS = ["none", "sample_bool", "sample_numeric", "expanded", "element_bool", "element_numeric"]


def make_weight(kind, v_shape, draw_array):
    """A sample weight of the given kind for per-sample losses of shape v_shape (None if n/a)."""
    if kind == "none":
        return None
    if kind == "scalar":
        return float(draw_array(()))
    if kind == "per_sample":
        return draw_array(v_shape)
    if kind == "expanded":  # (B, 1) for per-sample losses (B,): squeezed
        return draw_array(v_shape + (1,))
    if kind == "batch":  # (B, 1, ...) broadcast over the other axes of the losses
        if len(v_shape) < 2:
            return None
        return draw_array((v_shape[0],) + (1,) * (len(v_shape) - 1))
    raise ValueError(kind)


def make_mask(kind, v_shape, y_shape, draw_bool):
    if kind == "none":
        return None
    if kind == "sample_bool":
        return draw_bool(v_shape)
    if kind == "sample_numeric":
        return draw_bool(v_shape).astype(np.float64)
    if kind == "expanded":
        return draw_bool(v_shape + (1,))
    if kind == "element_bool":
        return draw_bool(y_shape)
    if kind == "element_numeric":
        return draw_bool(y_shape).astype(np.float64)
    raise ValueError(kind)


def per_sample_shape(name, t, p, params):
    return ref.ref_per_sample(name, t, p, **params)[0].shape


def run_class_case(xp, name, dtype, reduction, t, p, params, weight, mask, what=""):
    """Call the class on xp arrays and compare with the reference; return the result."""
    compute = "float32" if dtype is None else dtype
    loss = loss_class(name)(reduction=reduction, dtype=dtype, **params)
    assert loss.dtype == compute
    kwargs = {}
    if weight is not None:
        kwargs["sample_weight"] = weight if isinstance(weight, float) else to_xp(xp, weight)
    if mask is not None:
        kwargs["mask"] = to_xp(xp, mask)
    got = loss(to_xp(xp, t), to_xp(xp, p), **kwargs)
    tr, pr = rounded(t, compute), rounded(p, compute)
    want = ref.ref_loss_call(name, tr, pr, weight, mask, reduction, **params)
    values, present = ref.ref_per_sample(
        name,
        tr,
        pr,
        mask=mask if mask is not None and np.shape(mask) == tr.shape else None,
        **params,
    )
    sample_mask = present if present is not None else mask
    scale = reduced_scale(name, tr, pr, values, weight, sample_mask, reduction, params)
    check_array(got, xp, compute, want.shape)
    if reduction in REDUCING:
        assert want.shape == ()
        float(got)
    assert_close(got, want, compute, scale, what=what)
    return got


# ----------------------------------------------------------------------------- functional losses


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", LOSS_NAMES)
@fixture_ok
@given(data=st.data())
def test_functional_matches_reference(xp, name, dtype, data):
    shape = data.draw(shapes, label="shape")
    t, p = data.draw(inputs(name, shape), label="inputs")
    params = data.draw(loss_params(name, len(shape), functional=True), label="params")
    true_dtype = data.draw(st.sampled_from([dtype, "float64", "float32"]), label="y_true dtype")
    t = t.astype(true_dtype)
    p = p.astype(dtype)
    got = getattr(losses, name)(to_xp(xp, t), to_xp(xp, p), **params)
    # y_true is cast to y_pred's dtype
    tr, pr = rounded(t, dtype), rounded(p, dtype)
    want = ref.REFERENCE_LOSSES[name](tr, pr, **params)
    check_array(got, xp, dtype, want.shape)
    assert_close(got, want, dtype, error_scale(name, tr, pr, params), what=f"{name} {params}")


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_functional_shape_follows_axes(xp, name):
    t = np.full((2, 3, 4), 0.5)
    fn = getattr(losses, name)
    assert tuple(fn(to_xp(xp, t), to_xp(xp, t)).shape) == ((2, 3) if name not in ("dice", "tversky") else ())
    assert tuple(fn(to_xp(xp, t[0, 0]), to_xp(xp, t[0, 0])).shape) == ()
    if name in AXIS_LOSSES:
        assert tuple(fn(to_xp(xp, t), to_xp(xp, t), axis=(1, 2)).shape) == (2,)
        assert tuple(fn(to_xp(xp, t), to_xp(xp, t), axis=(0, -1)).shape) == (3,)
        assert tuple(fn(to_xp(xp, t), to_xp(xp, t), axis=None).shape) == ()
        assert tuple(fn(to_xp(xp, t), to_xp(xp, t), axis=1).shape) == (2, 4)


SOE_PAIRS = [((4,), (4, 1)), ((4, 1), (4,)), ((3, 2, 1), (3, 2)), ((3, 2), (3, 2, 1)), ((1,), (1, 1))]


@pytest.mark.parametrize("shapes_pair", SOE_PAIRS)
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_functional_rank_reconciliation(xp, name, shapes_pair):
    rng = np.random.default_rng(11)
    t_shape, p_shape = shapes_pair
    t = rng.uniform(0.1, 1.0, size=t_shape).round(3)
    p = rng.uniform(0.1, 1.0, size=p_shape).round(3)
    got = getattr(losses, name)(to_xp(xp, t), to_xp(xp, p))
    want = ref.REFERENCE_LOSSES[name](t, p)
    check_array(got, xp, "float64", want.shape)
    assert_close(got, want, "float64", error_scale(name, *ref.ref_soe(t, p)))
    # the class path reconciles the same way
    got = loss_class(name)(reduction="none", dtype="float64")(to_xp(xp, t), to_xp(xp, p))
    assert_close(got, want, "float64", 1.0)


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("shapes_pair", [((3,), (2, 3)), ((2,), (2, 3)), ((2, 3), (2, 4))])
def test_functional_shape_mismatch_raises(xp, name, shapes_pair):
    t_shape, p_shape = shapes_pair
    with pytest.raises(ValueError) as info:
        getattr(losses, name)(to_xp(xp, np.zeros(t_shape)), to_xp(xp, np.zeros(p_shape)))
    assert str(t_shape) in str(info.value) and str(p_shape) in str(info.value), str(info.value)


@pytest.mark.parametrize("name", ["mean_squared_error", "huber", "dice"])
def test_functional_integer_and_list_inputs_give_floatx(xp, name):
    t = np.array([[1, 2, 0], [0, 1, 1]])
    p = np.array([[1, 1, 0], [1, 1, 0]])
    got = getattr(losses, name)(to_xp(xp, t), to_xp(xp, p))
    want = ref.REFERENCE_LOSSES[name](t, p)
    check_array(got, xp, "float32", want.shape)
    assert_close(got, want, "float32", 1.0)
    got = getattr(losses, name)(t.tolist(), p.astype(float).tolist())
    assert to_numpy(got).dtype == np.float32
    assert_close(got, want, "float32", 1.0)


# ----------------------------------------------------------------------------- classes vs reference


@pytest.mark.parametrize("name", LOSS_NAMES)
@fixture_ok
@given(data=st.data())
def test_class_matches_reference(xp, name, data):
    dtype = data.draw(st.sampled_from([None, "float32", "float64"]), label="dtype")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    shape = data.draw(shapes, label="shape")
    t, p = data.draw(inputs(name, shape), label="inputs")
    params = data.draw(loss_params(name, len(shape), functional=False), label="params")
    v_shape = per_sample_shape(name, t, p, params)
    weight_kind = data.draw(st.sampled_from(WEIGHT_KINDS), label="weight kind")
    mask_kind = data.draw(st.sampled_from(MASK_KINDS), label="mask kind")

    def draw_weight(s):
        return data.draw(hnp.arrays(np.float64, s, elements=WEIGHTS), label="weight")

    def draw_bool(s):
        return data.draw(hnp.arrays(np.bool_, s), label="mask")

    weight = make_weight(weight_kind, v_shape, draw_weight)
    mask = make_mask(mask_kind, v_shape, tuple(shape), draw_bool)
    run_class_case(xp, name, dtype, reduction, t, p, params, weight, mask)


# One fixed data set per configuration, every reduction x weight kind x mask kind.
MATRIX_CONFIGS = [
    ("mean_squared_error", (4, 3, 2), {}),
    ("mean_squared_error", (5, 3), {}),
    ("mean_absolute_error", (4, 3, 2), {}),
    ("mean_absolute_percentage_error", (4, 3, 2), {}),
    ("mean_squared_logarithmic_error", (4, 3, 2), {}),
    ("cosine_similarity", (4, 3, 2), {"axis": -1}),
    ("cosine_similarity", (4, 3, 2), {"axis": (1, 2)}),
    ("huber", (4, 3, 2), {"delta": 0.75}),
    ("log_cosh", (5, 3), {}),
    ("dice", (4, 3, 2), {"axis": (1, 2)}),
    ("dice", (4, 3), {"axis": None}),
    ("tversky", (4, 3, 2), {"alpha": 0.25, "beta": 0.75, "axis": -1}),
    ("poisson", (4, 3, 2), {}),
    ("pinball", (4, 3, 2), {"tau": 0.8}),
    ("smooth_l1", (4, 3, 2), {"beta": 0.5}),
    ("poisson_nll", (4, 3, 2), {"full": True}),
    ("poisson_nll", (5, 3), {"log_input": False, "eps": 1e-3}),
]


def test_the_reduction_matrix_covers_every_loss_of_the_test_table():
    assert {config[0] for config in MATRIX_CONFIGS} == {case.function for case in CASES}


MATRIX_REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]
# (the hypothesis test above also draws the "sample_numeric" and "expanded" masks)
MATRIX_MASK_KINDS = ["none", "sample_bool", "element_bool", "element_numeric"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, shape, params", MATRIX_CONFIGS, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in MATRIX_CONFIGS]
)
def test_class_reduction_matrix(xp, name, shape, params, dtype):
    rng = np.random.default_rng(abs(hash((name, shape))) % 2**32)
    if BY_FUNCTION[name].domain == "unit":
        t = rng.uniform(0, 1, size=shape).round(3)
        p = rng.uniform(0, 1, size=shape).round(3)
    elif BY_FUNCTION[name].domain == "positive" and name != "mean_squared_logarithmic_error":
        t = rng.integers(0, 6, size=shape).astype(np.float64)  # counts and positive rates
        p = rng.uniform(0.1, 5, size=shape).round(3)
    else:
        t = rng.uniform(-5, 5, size=shape).round(3)
        p = rng.uniform(-5, 5, size=shape).round(3)
        if name == "mean_absolute_percentage_error":
            t[0, 0] = 0.0
    v_shape = per_sample_shape(name, t, p, params)

    def draw_weight(s):
        return rng.integers(0, 12, size=s).astype(np.float64) / 4

    def draw_bool(s):
        m = rng.uniform(size=s) < 0.6
        return np.asarray(m)

    failures = []
    for reduction in MATRIX_REDUCTIONS:
        for weight_kind in WEIGHT_KINDS:
            for mask_kind in MATRIX_MASK_KINDS:
                weight = make_weight(weight_kind, v_shape, draw_weight)
                if weight_kind != "none" and weight is None:
                    continue
                mask = make_mask(mask_kind, v_shape, shape, draw_bool)
                what = f"reduction={reduction} weight={weight_kind} mask={mask_kind}"
                try:
                    run_class_case(xp, name, dtype, reduction, t, p, params, weight, mask, what)
                except Exception as exc:  # collect every failing combination
                    failures.append(f"{what}: {type(exc).__name__}: {str(exc)[:300]}")
    assert not failures, f"{len(failures)} failing combinations:\n" + "\n".join(failures)


# ----------------------------------------------------------------------------- invariants


@st.composite
def batch_case(draw, names=LOSS_NAMES, min_batch=1):
    """(name, t, p, params) with inputs (B, F) and per-sample losses (B,)."""
    name = draw(st.sampled_from(names))
    shape = (draw(st.integers(min_batch, 5)), draw(st.integers(1, 4)))
    t, p = draw(inputs(name, shape))
    params = draw(loss_params(name, 2, functional=False))
    if "axis" in params:
        params["axis"] = -1
    return name, t, p, params


@fixture_ok
@given(data=st.data())
def test_weight_none_equals_all_ones(xp, data):
    name = data.draw(st.sampled_from(LOSS_NAMES))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    shape = data.draw(shapes)
    t, p = data.draw(inputs(name, shape))
    params = data.draw(loss_params(name, len(shape), functional=False))
    v_shape = per_sample_shape(name, t, p, params)
    loss = loss_class(name)(reduction=reduction, dtype="float64", **params)
    plain = to_numpy(loss(to_xp(xp, t), to_xp(xp, p)))
    ones = to_numpy(loss(to_xp(xp, t), to_xp(xp, p), sample_weight=to_xp(xp, np.ones(v_shape))))
    assert_close(ones, plain, "float64", 1e3)


@fixture_ok
@given(data=st.data())
def test_integer_weights_equal_row_repetition(xp, data):
    name, t, p, params = data.draw(batch_case())
    counts = data.draw(hnp.arrays(np.int64, (t.shape[0],), elements=st.integers(0, 3)))
    loss = loss_class(name)(reduction="sum", dtype="float64", **params)
    weighted = loss(to_xp(xp, t), to_xp(xp, p), sample_weight=to_xp(xp, counts))
    repeated = loss(to_xp(xp, np.repeat(t, counts, axis=0)), to_xp(xp, np.repeat(p, counts, axis=0)))
    want = ref.ref_loss_call(name, t, p, counts, None, "sum", **params)
    scale = float(np.sum(counts)) * (1.0 + float(np.max(np.abs(want), initial=0.0)))
    assert_close(weighted, repeated, "float64", scale)
    assert_close(weighted, want, "float64", scale)


@fixture_ok
@given(data=st.data())
def test_all_true_mask_equals_no_mask(xp, data):
    name = data.draw(st.sampled_from(LOSS_NAMES))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    shape = data.draw(shapes)
    t, p = data.draw(inputs(name, shape))
    params = data.draw(loss_params(name, len(shape), functional=False))
    v_shape = per_sample_shape(name, t, p, params)
    weight = data.draw(st.one_of(st.none(), hnp.arrays(np.float64, v_shape, elements=WEIGHTS)))
    loss = loss_class(name)(reduction=reduction, dtype="float64", **params)
    kw = {} if weight is None else {"sample_weight": to_xp(xp, weight)}
    plain = loss(to_xp(xp, t), to_xp(xp, p), **kw)
    for mask_shape in (v_shape, tuple(shape)):
        for mask in (np.ones(mask_shape, dtype=bool), np.ones(mask_shape)):
            masked = loss(to_xp(xp, t), to_xp(xp, p), mask=to_xp(xp, mask), **kw)
            assert_close(masked, plain, "float64", 1e3, what=f"mask {mask.shape} {mask.dtype}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@fixture_ok
@given(data=st.data())
def test_nan_in_masked_rows_equals_dropping_them(xp, dtype, data):
    name, t, p, params = data.draw(batch_case())
    keep = data.draw(hnp.arrays(np.bool_, (t.shape[0],)))
    t = t.copy()
    p = p.copy()
    p[~keep] = np.nan
    t[~keep, 0] = np.inf
    loss = loss_class(name)(dtype=dtype, **params)
    got = loss(to_xp(xp, t), to_xp(xp, p), mask=to_xp(xp, keep))
    assert np.isfinite(float(got))
    dropped = loss(to_xp(xp, t[keep]), to_xp(xp, p[keep]))  # (0, F) when nothing is kept
    want = ref.ref_loss_call(name, rounded(t[keep], dtype), rounded(p[keep], dtype), **params)
    scale = error_scale(name, t[keep], p[keep]) + float(np.abs(want))
    assert_close(got, dropped, dtype, scale)
    assert_close(got, want, dtype, scale)


@pytest.mark.parametrize("name", LOSS_NAMES)
@fixture_ok
@given(data=st.data())
def test_element_mask_is_mean_over_present_outputs(xp, name, data):
    _, t, p, params = data.draw(batch_case(names=[name]))
    present = data.draw(hnp.arrays(np.bool_, t.shape))
    t = np.where(present, t, np.nan)  # masked entries must never be read
    p = np.where(present, p, -np.inf)
    loss = loss_class(name)(reduction="none", dtype="float64", **params)
    got = to_numpy(loss(to_xp(xp, t), to_xp(xp, p), mask=to_xp(xp, present)))
    assert got.shape == (t.shape[0],)
    fn = getattr(losses, name)
    for row in range(t.shape[0]):
        keep = present[row]
        if not keep.any():
            assert got[row] == 0.0
            continue
        alone = fn(to_xp(xp, t[row][keep]), to_xp(xp, p[row][keep]), **params)
        want = ref.REFERENCE_LOSSES[name](t[row][keep], p[row][keep], **params)
        scale = error_scale(name, t[row][keep], p[row][keep])
        assert_close(got[row], alone, "float64", scale)
        assert_close(got[row], want, "float64", scale)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mean_squared_error", "dice", "cosine_similarity"])
def test_reducing_modes_give_0d(xp, name, reduction):
    t = np.array([[0.0, 1.0], [0.0, 0.0]])
    p = np.array([[1.0, 1.0], [1.0, 0.0]])
    got = loss_class(name)(reduction=reduction)(to_xp(xp, t), to_xp(xp, p))
    want = ref.ref_loss_call(name, t, p, reduction=reduction)
    check_array(got, xp, "float32", want.shape)
    if reduction in REDUCING or name == "dice":
        assert tuple(got.shape) == ()
        assert isinstance(float(got), float)
    assert_close(got, want, "float32", 1.0)


def test_mse_docstring_value(xp):
    t = to_xp(xp, np.array([[0.0, 1.0], [0.0, 0.0]]))
    p = to_xp(xp, np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert float(losses.MeanSquaredError()(t, p)) == 0.5


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch(xp, reduction):
    t = to_xp(xp, np.zeros((0, 3)))
    got = losses.MeanSquaredError(reduction=reduction)(t, t)
    if reduction in REDUCING:
        assert tuple(got.shape) == () and float(got) == 0.0
    else:
        assert tuple(got.shape) == (0,)


# ----------------------------------------------------------------------------- low-precision dtypes

LOW_PRECISION = [
    ("float16", "float16"),
    ("mixed_float16", "float16"),
    ("bfloat16", "bfloat16"),
    ("mixed_bfloat16", "bfloat16"),
]


@pytest.mark.parametrize("policy, result_dtype", LOW_PRECISION)
@fixture_ok
@given(data=st.data())
def test_low_precision_dtype(xp, policy, result_dtype, data):
    name = data.draw(st.sampled_from(LOSS_NAMES))
    reduction = data.draw(st.sampled_from(["sum_over_batch_size", "none", "mean"]))
    shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    t, p = data.draw(inputs(name, shape, zeros_in_mape=False))
    params = data.draw(loss_params(name, len(shape), functional=False))
    loss = loss_class(name)(reduction=reduction, dtype=policy, **params)
    assert loss.dtype == result_dtype
    if xp_dtype(xp, result_dtype) is None:
        # array-api-strict has neither float16 nor bfloat16 (NumPy has bfloat16 via ml_dtypes)
        with pytest.raises((ValueError, TypeError)):
            loss(to_xp(xp, t), to_xp(xp, p))
        return
    got = loss(to_xp(xp, t), to_xp(xp, p))
    check_array(got, xp, result_dtype, got.shape)
    # inputs rounded to the loss dtype, computed in float32, the result rounded back
    tr, pr = rounded(t, result_dtype), rounded(p, result_dtype)
    want = ref.ref_loss_call(name, tr, pr, reduction=reduction, **params)
    assert tuple(got.shape) == want.shape
    scale = error_scale(name, tr, pr) * 1e-2
    assert_close(got, want, result_dtype, scale)


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_functional_low_precision_keeps_dtype(name, dtype):
    if dtype == "bfloat16" and ml_dtypes is None:
        pytest.skip("ml_dtypes is not installed")
    t = np.array([[0.25, 0.5, 1.0], [0.75, 0.125, 0.5]])
    p = np.array([[0.5, 0.5, 0.25], [1.0, 0.25, 0.0]])
    got = getattr(losses, name)(t.astype(np_dtype(dtype)), p.astype(np_dtype(dtype)))
    assert got.dtype == np_dtype(dtype)
    want = ref.REFERENCE_LOSSES[name](rounded(t, dtype), rounded(p, dtype))
    assert_close(got, want, dtype, error_scale(name, t, p) * 1e-2)


# ----------------------------------------------------------------------------- inputs untouched


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_inputs_not_modified(xp, name):
    rng = np.random.default_rng(5)
    t = rng.uniform(0.1, 1.0, size=(4, 3)).round(3)
    p = rng.uniform(0.1, 1.0, size=(4, 3)).astype(np.float32)
    p[1, 1] = np.nan
    mask = np.ones((4, 3), dtype=bool)
    mask[1, :] = False
    weight = np.array([1.0, 2.0, 0.5, 3.0])
    arrays = [to_xp(xp, a) for a in (t, p, mask, weight)]
    before = [to_numpy(a).copy() for a in arrays]
    params = {"axis": -1} if name in AXIS_LOSSES else {}
    loss = loss_class(name)(reduction="mean_with_sample_weight", dtype="float64", **params)
    loss(arrays[0], arrays[1], sample_weight=arrays[3], mask=arrays[2])
    loss(arrays[0], arrays[1], mask=arrays[2][:, 0])
    getattr(losses, name)(arrays[0], arrays[1])
    for a, b in zip(arrays, before, strict=True):
        after = to_numpy(a)
        assert after.dtype == b.dtype
        np.testing.assert_array_equal(after, b)
    # NumPy inputs: the very same objects are untouched too
    np.testing.assert_array_equal(t, before[0])
    np.testing.assert_array_equal(p, before[1])


# ----------------------------------------------------------------------------- symmetry

SYMMETRIC = [
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "log_cosh",
    "cosine_similarity",
    "dice",
    # MSLE is symmetric too: (log(max(p,eps)+1) - log(max(t,eps)+1))**2 treats both alike.
    "mean_squared_logarithmic_error",
]


@pytest.mark.parametrize("name", SYMMETRIC)
@fixture_ok
@given(data=st.data())
def test_symmetric_losses(xp, name, data):
    if library_name(xp) != "numpy":
        pytest.skip("a property of the formulas: NumPy is enough")
    shape = data.draw(shapes)
    t, p = data.draw(inputs(name, shape))
    params = data.draw(loss_params(name, len(shape), functional=True))
    fn = getattr(losses, name)
    forward = fn(to_xp(xp, t), to_xp(xp, p), **params)
    backward = fn(to_xp(xp, p), to_xp(xp, t), **params)
    assert_close(forward, backward, "float64", error_scale(name, t, p) + 1e-3)


@fixture_ok
@given(data=st.data())
def test_tversky_swapping_inputs_swaps_alpha_and_beta(xp, data):
    if library_name(xp) != "numpy":
        pytest.skip("a property of the formula: NumPy is enough")
    shape = data.draw(shapes)
    t, p = data.draw(inputs("tversky", shape))
    params = data.draw(loss_params("tversky", len(shape), functional=True))
    swapped = dict(params, alpha=params["beta"], beta=params["alpha"])
    forward = losses.tversky(to_xp(xp, t), to_xp(xp, p), **params)
    backward = losses.tversky(to_xp(xp, p), to_xp(xp, t), **swapped)
    assert_close(forward, backward, "float64", 1.0)


def test_asymmetric_examples(xp):
    t = to_xp(xp, np.array([[1.0, 2.0]]))
    p = to_xp(xp, np.array([[2.0, 2.0]]))
    assert_close(losses.mape(t, p), [50.0], "float64")
    assert_close(losses.mape(p, t), [25.0], "float64")
    # Tversky: alpha weights false positives sum((1 - t) p), beta false negatives
    t = to_xp(xp, np.array([[1.0, 2.0], [1.0, 2.0]]))
    p = to_xp(xp, np.array([[4.0, 1.0], [6.0, 1.0]]))
    forward = losses.tversky(t, p, alpha=0.2, beta=0.8)
    backward = losses.tversky(p, t, alpha=0.2, beta=0.8)
    assert_close(forward, 1 - 14 / (14 - 0.2 * 2 - 0.8 * 8 + 1e-7), "float64")  # -0.9444
    assert_close(backward, 1 - 14 / (14 - 0.2 * 8 - 0.8 * 2 + 1e-7), "float64")  # -0.2963
    assert abs(float(forward) - float(backward)) > 0.5
    # Keras 3.15.1 gives -0.29629636 for (alpha=0.2, beta=0.8): regloss deliberately differs
    got = losses.Tversky(alpha=0.2, beta=0.8)(t, p)
    assert_close(got, -0.94444442, "float32", rtol=1e-6)


# ----------------------------------------------------------------------------- epsilon at call time

EPS_LOSSES = [case.function for case in CASES if case.uses_epsilon]


@pytest.mark.parametrize("name", EPS_LOSSES)
@fixture_ok
@given(data=st.data())
def test_set_epsilon_is_read_at_call_time(xp, name, data):
    shape = data.draw(shapes)
    t, p = data.draw(inputs(name, shape))
    params = data.draw(loss_params(name, len(shape), functional=False))
    fn = getattr(losses, name)
    loss = loss_class(name)(reduction="none", dtype="float64", **params)  # built before the change
    old = config.epsilon()
    try:
        config.set_epsilon(1e-4)
        assert config.epsilon() == 1e-4
        got = fn(to_xp(xp, t), to_xp(xp, p), **params)
        got_class = loss(to_xp(xp, t), to_xp(xp, p))
    finally:
        config.set_epsilon(old)
    assert config.epsilon() == old
    want = ref.ref_per_sample(name, t, p, eps=1e-4, **params)[0]
    scale = error_scale(name, t, p)
    assert_close(got, want, "float64", scale)
    assert_close(got_class, want, "float64", scale)


# An input where each loss that reads epsilon gives another value when it changes.
EPS_EXAMPLES = [
    ("mean_absolute_percentage_error", [[0.0, 1.0]], [[1.0, 1.0]], {}),
    ("mean_squared_logarithmic_error", [[-2.0, 0.5]], [[0.5, 0.25]], {}),
    ("dice", [[0.001, 0.0]], [[0.001, 0.002]], {}),
    ("tversky", [[0.001, 0.0]], [[0.001, 0.002]], {"alpha": 0.3, "beta": 0.7}),
    ("cosine_similarity", [[1e-5, 0.0]], [[1.0, 0.0]], {}),
    ("poisson", [[1.0, 2.0]], [[0.0, 1e-6]], {}),
]


def test_every_loss_that_reads_epsilon_has_an_example():
    assert sorted(example[0] for example in EPS_EXAMPLES) == sorted(EPS_LOSSES)


@pytest.mark.parametrize("name, t, p, params", EPS_EXAMPLES)
def test_set_epsilon_changes_result(xp, name, t, p, params):
    t = np.asarray(t)
    p = np.asarray(p)
    fn = getattr(losses, name)
    default = to_numpy(fn(to_xp(xp, t), to_xp(xp, p), **params))
    old = config.epsilon()
    try:
        config.set_epsilon(1e-4)
        changed = to_numpy(fn(to_xp(xp, t), to_xp(xp, p), **params))
    finally:
        config.set_epsilon(old)
    assert_close(default, ref.REFERENCE_LOSSES[name](t, p, **params), "float64")
    assert_close(changed, ref.REFERENCE_LOSSES[name](t, p, eps=1e-4, **params), "float64")
    assert not np.allclose(default, changed, rtol=1e-6, atol=0)
    assert math.isfinite(float(np.sum(changed)))


# ----------------------------------------------------------------------------- weight / mask shapes


@st.composite
def candidate_shape(draw, v_shape):
    """Shapes near v_shape: exact, squeezable, expandable, broadcastable and too big ones."""
    nv = len(v_shape)
    options = [(), v_shape, v_shape + (1,), (1,) * nv, v_shape[1:], v_shape[:-1], v_shape + (2,)]
    if nv >= 1:
        options += [(v_shape[0],) + (1,) * (nv - 1), (v_shape[0] + 1,) + v_shape[1:]]
        options += [v_shape[:-1] + (1,), (1,) + v_shape]
    if nv >= 2:
        options += [(v_shape[0], 1), (v_shape[-1],), v_shape + (1, 1)]
    random_shape = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=nv + 1)))
    options.append(random_shape)
    return draw(st.sampled_from(options))


@fixture_ok
@given(data=st.data())
def test_weight_and_mask_shape_rules_match_reference(xp, data):
    name = data.draw(st.sampled_from(["mean_squared_error", "huber", "dice", "cosine_similarity"]))
    shape = data.draw(shapes)
    t, p = data.draw(inputs(name, shape))
    params = data.draw(loss_params(name, len(shape), functional=False))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    v_shape = per_sample_shape(name, t, p, params)
    use_mask = data.draw(st.booleans())
    other_shape = data.draw(candidate_shape(v_shape))
    if use_mask and other_shape in (tuple(shape), tuple(shape)[:-1]):
        other_shape = v_shape  # that would be an element (or timestep) mask, tested elsewhere
    if use_mask:
        other = data.draw(hnp.arrays(np.bool_, other_shape))
        weight, mask = None, other
    else:
        other = data.draw(hnp.arrays(np.float64, other_shape, elements=WEIGHTS))
        weight, mask = other, None
    try:
        want = ref.ref_loss_call(name, t, p, weight, mask, reduction, **params)
    except ValueError:
        want = None
    loss = loss_class(name)(reduction=reduction, dtype="float64", **params)
    kwargs = {"mask": to_xp(xp, other)} if use_mask else {"sample_weight": to_xp(xp, other)}
    if want is None:
        with pytest.raises(ValueError) as info:
            loss(to_xp(xp, t), to_xp(xp, p), **kwargs)
        message = str(info.value)
        assert str(v_shape) in message, (message, v_shape)
        return
    got = loss(to_xp(xp, t), to_xp(xp, p), **kwargs)
    check_array(got, xp, "float64", want.shape)
    assert_close(got, want, "float64", 1e3)


@pytest.mark.parametrize("bad", ["SUM", "auto_", "weighted_mean", "weighted_sum_by_nonzero_weights", "Sum"])
def test_invalid_reduction_raises(bad):
    with pytest.raises(ValueError) as info:
        losses.MeanSquaredError(reduction=bad)
    assert "sum_over_batch_size" in str(info.value)


def test_zero_weight_keeps_nan(xp):
    t = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[np.nan, 2.0], [3.0, 5.0]])
    got = losses.MeanSquaredError(dtype="float64")(
        to_xp(xp, t), to_xp(xp, p), sample_weight=to_xp(xp, np.array([0.0, 1.0]))
    )
    assert math.isnan(float(got))
    got = losses.MeanSquaredError(dtype="float64")(
        to_xp(xp, t), to_xp(xp, p), mask=to_xp(xp, np.array([False, True]))
    )
    assert float(got) == 0.5


@pytest.mark.parametrize("bad_shape", [(0,), (2, 0)])
def test_empty_last_axis_and_rank0_raise(xp, bad_shape):
    z = to_xp(xp, np.zeros(bad_shape))
    with pytest.raises(ValueError) as info:
        losses.mean_squared_error(z, z)
    assert str(bad_shape) in str(info.value)
    with pytest.raises(ValueError):
        losses.MeanSquaredError()(z, z)
    with pytest.raises(ValueError):
        losses.mean_squared_error(to_xp(xp, np.float64(3.0)), to_xp(xp, np.float64(1.0)))


# ----------------------------------------------------------------------------- large values


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_cosh_is_stable(xp, dtype):
    t = np.zeros((4, 1))
    p = np.array([[1000.0], [-1000.0], [100.0], [1e-3]])
    got = losses.log_cosh(to_xp(xp, t.astype(dtype)), to_xp(xp, p.astype(dtype)))
    want = ref.ref_log_cosh(t, rounded(p, dtype))
    check_array(got, xp, dtype, (4,))
    assert_close(got, want, dtype, 1e3)
    np.testing.assert_allclose(to_numpy(got)[2], 99.30685, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_float16_computes_in_float32_inside():
    t = np.zeros((1, 4), dtype=np.float16)
    p = np.full((1, 4), 40000.0, dtype=np.float16)
    # the sum over the last axis (160000) overflows float16, the mean (40000) does not
    assert float(losses.mae(t, p)[0]) == 40000.0
    assert float(losses.MeanAbsoluteError(dtype="float16")(t, p)) == 40000.0
    assert math.isfinite(float(losses.log_cosh(t, p)[0]))
    np.testing.assert_allclose(float(losses.log_cosh(t, p)[0]), 40000.0 - math.log(2.0), rtol=1e-3)
    np.testing.assert_allclose(float(losses.huber(t, p)[0]), 40000.0 - 0.5, rtol=1e-3)
    # errors of 300: 90000 is inf in float16 anyway when cast back
    assert math.isinf(float(losses.mse(t, np.full((1, 4), 300.0, dtype=np.float16))[0]))
    # cosine of a zero vector is -0.0 (Keras gives NaN in float16)
    got = losses.cosine_similarity(np.zeros((1, 3), np.float16), np.ones((1, 3), np.float16))
    assert got.dtype == np.float16
    assert float(got[0]) == 0.0
    assert not math.isnan(float(got[0]))


def test_set_floatx_is_read_at_call_time(xp):
    t = to_xp(xp, np.array([[1, 2, 3]]))
    old = config.floatx()
    try:
        config.set_floatx("float64")
        got = losses.mean_squared_error(t, to_xp(xp, np.array([[1, 1, 1]])))
    finally:
        config.set_floatx(old)
    check_array(got, xp, "float64", (1,))
    assert_close(got, [5.0 / 3.0], "float64")


# ----------------------------------------------------------------------------- every library

SMOKE_CONFIGS = [
    ("mean_squared_error", (4, 3, 2), {}),
    ("cosine_similarity", (4, 3, 2), {"axis": (1, 2)}),
    ("tversky", (4, 3, 2), {"alpha": 0.25, "beta": 0.75, "axis": -1}),
]
SMOKE_COMBOS = [
    ("float32", "sum_over_batch_size", "per_sample", "element_bool"),
    ("float64", "mean_with_sample_weight", "batch", "sample_bool"),
    ("float64", "mean_with_sample_weight", "scalar", "element_numeric"),
    ("float32", "none", "expanded", "sample_numeric"),
    ("float64", "sum", "scalar", "none"),
]


@pytest.mark.parametrize(
    "name, shape, params", SMOKE_CONFIGS, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in SMOKE_CONFIGS]
)
def test_class_smoke_on_every_library(xp, name, shape, params):
    """A few reduction x weight x mask combinations of the matrix, on the other libraries."""
    if library_name(xp) in FULL_LIBRARIES:
        pytest.skip("NumPy and array-api-strict run the whole matrix")
    rng = np.random.default_rng(17)
    low, high = (0.0, 1.0) if name in ("dice", "tversky") else (-5.0, 5.0)
    t = rng.uniform(low, high, size=shape).round(3)
    p = rng.uniform(low, high, size=shape).round(3)
    v_shape = per_sample_shape(name, t, p, params)
    for dtype, reduction, weight_kind, mask_kind in SMOKE_COMBOS:
        weight = make_weight(weight_kind, v_shape, lambda s: rng.integers(1, 12, size=s).astype(float) / 4)
        if weight_kind == "batch" and weight is None:
            weight = make_weight("per_sample", v_shape, lambda s: np.full(s, 1.5))
        mask = make_mask(mask_kind, v_shape, shape, lambda s: np.asarray(rng.uniform(size=s) < 0.7))
        what = f"{dtype} reduction={reduction} weight={weight_kind} mask={mask_kind}"
        run_class_case(xp, name, dtype, reduction, t, p, params, weight, mask, what)
    # the functional form too
    for dtype in ("float32", "float64"):
        got = getattr(losses, name)(to_xp(xp, t.astype(dtype)), to_xp(xp, p.astype(dtype)), **params)
        want = ref.REFERENCE_LOSSES[name](rounded(t, dtype), rounded(p, dtype), **params)
        check_array(got, xp, dtype, want.shape)
        assert_close(got, want, dtype, error_scale(name, t, p))


@pytest.mark.parametrize("policy, result_dtype", LOW_PRECISION)
def test_low_precision_smoke_on_every_library(xp, policy, result_dtype):
    t = np.array([[0.25, 0.5, 1.0], [0.75, 0.125, 0.5]])
    p = np.array([[0.5, 0.5, 0.25], [1.0, 0.25, 0.0]])
    for name in LOSS_NAMES:
        loss = loss_class(name)(dtype=policy)
        assert loss.dtype == result_dtype
        if xp_dtype(xp, result_dtype) is None:
            with pytest.raises((ValueError, TypeError)):
                loss(to_xp(xp, t), to_xp(xp, p))
            continue
        got = loss(to_xp(xp, t), to_xp(xp, p))
        want = ref.ref_loss_call(name, rounded(t, result_dtype), rounded(p, result_dtype))
        check_array(got, xp, result_dtype, ())
        assert_close(got, want, result_dtype, error_scale(name, t, p) * 1e-2, what=name)


# ----------------------------------------------------------------------------- large and strided inputs
# NumPy inputs may take a blocked, multi-threaded path once they hold more than one block of
# elements; these shapes cross the block boundaries (long samples, many rows, rank 1 and 3).

LARGE_SHAPES = [(3, 20000), (40000,), (5000, 7), (60, 30, 11), (2, 16385), (16385, 1)]


@fixture_ok
@given(data=st.data())
def test_large_inputs_match_reference(xp, data):
    name = data.draw(st.sampled_from(LOSS_NAMES), label="name")
    shape = data.draw(st.sampled_from(LARGE_SHAPES), label="shape")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    if name in ("dice", "tversky"):
        t = rng.integers(0, 1001, size=shape) / 1000
        p = rng.integers(0, 1001, size=shape) / 1000
    else:
        t = rng.integers(-10000, 10001, size=shape) / 1000
        p = rng.integers(-10000, 10001, size=shape) / 1000
        if name == "mean_absolute_percentage_error":
            t = np.where(np.abs(t) < 0.1, 0.5, t)
            t.flat[:: max(1, t.size // 7)] = 0.0
    params = data.draw(loss_params(name, len(shape), functional=False), label="params")
    v_shape = per_sample_shape(name, t, p, params)
    weight_kind = data.draw(st.sampled_from(WEIGHT_KINDS), label="weight kind")
    mask_kind = data.draw(st.sampled_from(MASK_KINDS), label="mask kind")
    weight = make_weight(weight_kind, v_shape, lambda s: rng.integers(0, 21, size=s) / 4)
    mask = make_mask(mask_kind, v_shape, shape, lambda s: np.asarray(rng.uniform(size=s) < 0.8))
    what = f"{name} {shape} {params} {dtype} {reduction} weight={weight_kind} mask={mask_kind}"
    originals = [np.array(a, copy=True) for a in (t, p, weight, mask) if isinstance(a, np.ndarray)]
    run_class_case(xp, name, dtype, reduction, t, p, params, weight, mask, what)
    t_in, p_in = t.astype(dtype), p.astype(dtype)
    got = getattr(losses, name)(to_xp(xp, t_in), to_xp(xp, p_in), **params)
    tr, pr = rounded(t, dtype), rounded(p, dtype)
    want = ref.REFERENCE_LOSSES[name](tr, pr, **params)
    check_array(got, xp, dtype, want.shape)
    assert_close(got, want, dtype, error_scale(name, tr, pr), what="functional " + what)
    # the inputs (handed over as the very same NumPy objects for xp=numpy) are untouched
    after = [a for a in (t, p, weight, mask) if isinstance(a, np.ndarray)]
    for before, now in zip(originals, after, strict=True):
        np.testing.assert_array_equal(now, before)
    np.testing.assert_array_equal(t_in, t.astype(dtype))
    np.testing.assert_array_equal(p_in, p.astype(dtype))


@pytest.mark.parametrize("name", LOSS_NAMES)
@fixture_ok
@given(data=st.data())
def test_strided_and_fortran_inputs(xp, name, data):
    """Non-contiguous NumPy views and Fortran-ordered arrays give the contiguous results."""
    if library_name(xp) != "numpy":
        pytest.skip("memory layout is a NumPy matter")
    shape = data.draw(st.lists(st.integers(1, 5), min_size=2, max_size=3).map(tuple))
    big = tuple(2 * n for n in shape)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    low = 0 if name in ("dice", "tversky") else -10000
    t = rng.integers(low, 10001, size=big) / 1000
    p = rng.integers(low, 10001, size=big) / 1000
    if name == "mean_absolute_percentage_error":
        t = np.where(np.abs(t) < 0.1, 1.0, t)
    w_shape = (big[0],) + (1,) * (len(big) - 2)  # broadcasts over the per-sample losses
    w = rng.integers(0, 21, size=w_shape) / 4
    m = rng.uniform(size=big) < 0.7
    params = {"axis": -1} if name in AXIS_LOSSES else {}
    sl = tuple(slice(None, None, 2) for _ in big)
    views = (t[sl], p[sl], w[::2], m[sl])
    copies = tuple(np.ascontiguousarray(a) for a in views)
    fortran = tuple(np.asfortranarray(a) for a in copies)
    for reduction in ("none", "sum_over_batch_size", "mean_with_sample_weight"):
        loss = loss_class(name)(reduction=reduction, dtype="float64", **params)
        want = to_numpy(loss(copies[0], copies[1], sample_weight=copies[2], mask=copies[3]))
        for arrays in (views, fortran):
            got = loss(arrays[0], arrays[1], sample_weight=arrays[2], mask=arrays[3])
            assert_close(got, want, "float64", 1e3, what=f"{reduction}")
    fn = getattr(losses, name)
    assert_close(fn(views[0], views[1], **params), fn(copies[0], copies[1], **params), "float64", 1e3)
    assert_close(
        fn(fortran[0].T, fortran[1].T, **params), fn(copies[0].T, copies[1].T, **params), "float64", 1e3
    )
