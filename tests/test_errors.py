"""Robustness: bad input raises a ValueError/TypeError that names the argument and shows the value.

Also: mixing array libraries or devices, and never modifying what the caller passed.
"""

import math
import re

import numpy as np
import pytest

import regloss
from regloss import losses as L
from tests._cases import BY_FUNCTION, CLASS_NAMES, LOSSES
from tests._helpers import library_of, to_numpy

# Every test twice: as configured and on the generic path (REGLOSS_ACCELERATOR=none).
pytestmark = pytest.mark.usefixtures("generic_path_too")

# (functional form, class, kwargs for the class and the function), one per row of the test table --
# the losses summed over axes per-sample (axis=-1) so that every pair returns per-sample losses of
# shape y.shape[:-1].
PAIRS = [
    pytest.param(
        getattr(L, case.function),
        getattr(L, case.cls),
        {"axis": -1} if case.over_axes else {},
        id=case.function,
    )
    for case in LOSSES
]

# The losses that take a mean over the last axis: an empty last axis is an error for them.
MEAN_PAIRS = [p for p in PAIRS if not BY_FUNCTION[p.id].over_axes]

ALL_CLASSES = [getattr(L, name) for name in CLASS_NAMES]

REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None, "auto"]
ALLOWED_REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]


def _squash(text):
    return re.sub(r"\s+", "", text)


def _shape_str(shape):
    return _squash(str(tuple(shape)))


def assert_names(excinfo, arg, *shown):
    """The message names ``arg`` (as a word) and contains at least one of ``shown``."""
    msg = str(excinfo.value)
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", msg), (
        f"message does not name {arg!r}: {msg!r}"
    )
    if shown:
        squashed = _squash(msg)
        assert any(s in msg or _squash(s) in squashed for s in shown), (
            f"message does not show the received value (one of {shown!r}): {msg!r}"
        )


def assert_shapes_named(excinfo, *shapes):
    msg = _squash(str(excinfo.value))
    for shape in shapes:
        assert _shape_str(shape) in msg, f"message does not name shape {shape}: {str(excinfo.value)!r}"


def _call_both(fn, cls, kwargs, y_true, y_pred, expected):
    """Call the functional and the class form; both must raise the same ``expected`` error type."""
    with pytest.raises(expected) as e_fn:
        fn(y_true, y_pred, **kwargs)
    with pytest.raises(expected) as e_cls:
        cls(**kwargs)(y_true, y_pred)
    assert type(e_fn.value) is type(e_cls.value), (
        f"functional raised {type(e_fn.value).__name__}: {e_fn.value}; "
        f"class raised {type(e_cls.value).__name__}: {e_cls.value}"
    )
    return e_fn, e_cls


def _good(xp, shape=(1, 3), dtype=None):
    rng = np.random.default_rng(0)
    values = rng.uniform(0.1, 0.9, size=shape)
    return xp.asarray(values, dtype=dtype if dtype is not None else xp.float64)


@pytest.fixture
def restore_config():
    eps, floatx = regloss.config.epsilon(), regloss.config.floatx()
    yield
    regloss.config.set_epsilon(eps)
    regloss.config.set_floatx(floatx)


# ---------------------------------------------------------------- baseline: the good calls work


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_baseline_valid_calls_do_not_raise(xp, fn, cls, kwargs):
    t, p = _good(xp, (2, 3)), _good(xp, (2, 3))
    assert to_numpy(fn(t, p, **kwargs)).shape == (2,)
    assert to_numpy(cls(**kwargs)(t, p)).shape == ()
    # soe: (2, 1) against (2,) is reconciled, not an error
    t1, p1 = _good(xp, (2, 1)), _good(xp, (2,))
    cls(**kwargs)(t1, p1)
    fn(t1, p1, **kwargs)
    # a batch of size 0 is valid
    t0, p0 = _good(xp, (0, 3)), _good(xp, (0, 3))
    assert float(to_numpy(cls(**kwargs)(t0, p0))) == 0.0
    assert to_numpy(cls(reduction="none", **kwargs)(t0, p0)).shape == (0,)


# ---------------------------------------------------------------- bad y_true / y_pred values

MASKED_2D = np.ma.masked_array([[0.1, 0.2, 0.3]], mask=[[False, True, False]])

BAD_ARRAYS = [
    pytest.param(None, (ValueError, TypeError), ("None",), id="None"),
    pytest.param("abc", (ValueError, TypeError), ("abc",), id="str"),
    pytest.param({"a": 1}, (ValueError, TypeError), ("dict", "{'a': 1}"), id="dict"),
    pytest.param(object(), (ValueError, TypeError), ("object",), id="object"),
    pytest.param(
        [[1, 2], [3]],
        (ValueError, TypeError),
        ("[[1, 2], [3]]", "ragged", "inhomogeneous", "list"),
        id="ragged",
    ),
    pytest.param(1 + 2j, (ValueError, TypeError), ("complex", "1+2j", "()"), id="complex_number"),
    pytest.param([[1 + 2j, 0j, 1j]], (ValueError, TypeError), ("complex",), id="complex_list"),
    pytest.param(np.array([[1 + 1j, 2.0, 3.0]]), (ValueError, TypeError), ("complex",), id="complex_array"),
    pytest.param(np.matrix([[0.1, 0.2, 0.3]]), (ValueError, TypeError), ("matrix",), id="matrix"),
    pytest.param(MASKED_2D, TypeError, ("MaskedArray", "masked"), id="masked_array"),
    pytest.param(np.array([["a", "b", "c"]]), (ValueError, TypeError), ("<U1", "str", "U1"), id="str_array"),
    pytest.param(
        np.array([[object(), object(), object()]], dtype=object),
        (ValueError, TypeError),
        ("object",),
        id="object_array",
    ),
]


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
@pytest.mark.parametrize("bad, expected, shown", BAD_ARRAYS)
@pytest.mark.parametrize("arg", ["y_true", "y_pred"])
def test_bad_y_values(xp, fn, cls, kwargs, bad, expected, shown, arg):
    good = _good(xp)
    args = (bad, good) if arg == "y_true" else (good, bad)
    e_fn, e_cls = _call_both(fn, cls, kwargs, *args, expected)
    assert_names(e_fn, arg, *shown)
    assert_names(e_cls, arg, *shown)


def test_complex_xp_array(xp):
    if not hasattr(xp, "complex128"):
        pytest.skip("no complex dtype")
    bad = xp.asarray([[1.0, 2.0, 3.0]], dtype=xp.complex128)
    good = _good(xp)
    for arg, args in (("y_true", (bad, good)), ("y_pred", (good, bad))):
        e_fn, e_cls = _call_both(L.mean_squared_error, L.MeanSquaredError, {}, *args, (ValueError, TypeError))
        assert_names(e_fn, arg, "complex")
        assert_names(e_cls, arg, "complex")


BAD_WEIGHTS = [
    pytest.param("abc", (ValueError, TypeError), ("abc",), id="str"),
    pytest.param({"a": 1}, (ValueError, TypeError), ("dict", "{'a': 1}"), id="dict"),
    pytest.param(object(), (ValueError, TypeError), ("object",), id="object"),
    pytest.param(
        [[1, 2], [3]],
        (ValueError, TypeError),
        ("[[1, 2], [3]]", "ragged", "inhomogeneous", "list"),
        id="ragged",
    ),
    pytest.param([1 + 2j], (ValueError, TypeError), ("complex",), id="complex_list"),
    pytest.param(np.array([1 + 1j]), (ValueError, TypeError), ("complex",), id="complex_array"),
    pytest.param(np.matrix([[1.0]]), (ValueError, TypeError), ("matrix",), id="matrix"),
    pytest.param(np.ma.masked_array([1.0], mask=[False]), TypeError, ("MaskedArray", "masked"), id="masked"),
    pytest.param(np.array(["a"]), (ValueError, TypeError), ("<U1", "str", "U1"), id="str_array"),
    pytest.param(np.array([object()], dtype=object), (ValueError, TypeError), ("object",), id="object_array"),
]

BAD_MASKS = [
    pytest.param("abc", (ValueError, TypeError), ("abc",), id="str"),
    pytest.param({"a": 1}, (ValueError, TypeError), ("dict", "{'a': 1}"), id="dict"),
    pytest.param(object(), (ValueError, TypeError), ("object",), id="object"),
    pytest.param(
        [[True, False], [True]],
        (ValueError, TypeError),
        ("[[True, False], [True]]", "ragged", "inhomogeneous", "list"),
        id="ragged",
    ),
    pytest.param([1j], (ValueError, TypeError), ("complex",), id="complex_list"),
    pytest.param(np.array([1j]), (ValueError, TypeError), ("complex",), id="complex_array"),
    pytest.param(np.matrix([[True]]), (ValueError, TypeError), ("matrix",), id="matrix"),
    pytest.param(np.ma.masked_array([True], mask=[False]), TypeError, ("MaskedArray", "masked"), id="masked"),
    pytest.param(np.array(["a"]), (ValueError, TypeError), ("<U1", "str", "U1"), id="str_array"),
    pytest.param(np.array([object()], dtype=object), (ValueError, TypeError), ("object",), id="object_array"),
]


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
@pytest.mark.parametrize("bad, expected, shown", BAD_WEIGHTS)
def test_bad_sample_weight(xp, fn, cls, kwargs, bad, expected, shown):
    t, p = _good(xp), _good(xp)
    with pytest.raises(expected) as ei:
        cls(**kwargs)(t, p, sample_weight=bad)
    assert_names(ei, "sample_weight", *shown)


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
@pytest.mark.parametrize("bad, expected, shown", BAD_MASKS)
def test_bad_mask(xp, fn, cls, kwargs, bad, expected, shown):
    t, p = _good(xp), _good(xp)
    with pytest.raises(expected) as ei:
        cls(**kwargs)(t, p, mask=bad)
    assert_names(ei, "mask", *shown)


# ---------------------------------------------------------------- shapes

MISMATCHED = [
    pytest.param((3,), (2, 3), id="3_vs_2x3"),
    pytest.param((2, 3), (3,), id="2x3_vs_3"),
    pytest.param((2, 3), (2, 4), id="2x3_vs_2x4"),
    pytest.param((2,), (2, 3), id="2_vs_2x3"),
    pytest.param((2, 3, 1), (2, 4), id="2x3x1_vs_2x4"),
    pytest.param((4,), (2, 2), id="4_vs_2x2"),
]


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
@pytest.mark.parametrize("shape_true, shape_pred", MISMATCHED)
def test_mismatched_shapes(xp, fn, cls, kwargs, shape_true, shape_pred):
    t, p = _good(xp, shape_true), _good(xp, shape_pred)
    e_fn, e_cls = _call_both(fn, cls, kwargs, t, p, ValueError)
    # (2, 3, 1) vs (2, 4): soe squeezes to (2, 3) first; accept either form of that shape
    for ei in (e_fn, e_cls):
        msg = _squash(str(ei.value))
        for shape in (shape_true, shape_pred):
            alt = shape[:-1] if shape[-1:] == (1,) else shape
            assert _shape_str(shape) in msg or _shape_str(alt) in msg, (
                f"shape {shape} not named for y_true {shape_true} / y_pred {shape_pred}: {str(ei.value)!r}"
            )


@pytest.mark.parametrize("fn, cls, kwargs", [*PAIRS, pytest.param(L.dice, L.Dice, {}, id="dice_none")])
def test_rank0_inputs(xp, fn, cls, kwargs):
    cases = [
        (xp.asarray(3.0), xp.asarray(1.0)),
        (3.0, 1.0),
        (xp.asarray(3.0), xp.asarray([1.0])),  # soe squeezes the (1,) -> both rank 0
    ]
    for t, p in cases:
        e_fn, e_cls = _call_both(fn, cls, kwargs, t, p, ValueError)
        for ei in (e_fn, e_cls):
            msg = str(ei.value).lower()
            assert any(s in _squash(msg) for s in ("()",)) or any(
                s in msg for s in ("rank 0", "rank-0", "0-d", "0d", "scalar", "ndim=0", "ndim 0")
            ), f"rank-0 error does not name the shape: {ei.value!r}"


@pytest.mark.parametrize("fn, cls, kwargs", MEAN_PAIRS)
@pytest.mark.parametrize("shape", [(0,), (2, 0), (3, 2, 0)], ids=str)
def test_empty_last_axis(xp, fn, cls, kwargs, shape):
    t, p = _good(xp, shape), _good(xp, shape)
    e_fn, e_cls = _call_both(fn, cls, kwargs, t, p, ValueError)
    assert_shapes_named(e_fn, shape)
    assert_shapes_named(e_cls, shape)


# ---------------------------------------------------------------- reduction / dtype / hyper-parameters

BAD_REDUCTIONS = ["SUM", "Sum", "MEAN", "None", "auto_", "", "sum ", 3, ["sum"], 1.5, True]
TF1_REDUCTIONS = [
    "weighted_mean",
    "weighted_sum_by_nonzero_weights",
    "weighted_sum",
    "weighted_sum_over_batch_size",
]


def _check_reduction_error(ei, value):
    assert_names(ei, "reduction", repr(value), str(value))
    msg = str(ei.value)
    for allowed in ALLOWED_REDUCTIONS:
        assert allowed in msg, f"allowed value {allowed!r} not listed: {msg!r}"


@pytest.mark.parametrize("cls", ALL_CLASSES)
@pytest.mark.parametrize("value", BAD_REDUCTIONS + TF1_REDUCTIONS, ids=repr)
def test_bad_reduction(cls, value):
    with pytest.raises(ValueError) as ei:
        cls(reduction=value)
    _check_reduction_error(ei, value)
    with pytest.raises(ValueError) as ei2:
        cls.from_config({**cls().get_config(), "reduction": value})
    _check_reduction_error(ei2, value)


@pytest.mark.parametrize("value", TF1_REDUCTIONS)
def test_tf1_reduction_points_to_compat(value):
    with pytest.raises(ValueError) as ei:
        L.MeanSquaredError(reduction=value)
    msg = str(ei.value).lower()
    assert "compat" in msg or "tensorflow 1" in msg, f"no pointer to the TF1/compat module: {msg!r}"


def test_valid_reductions_accepted():
    constants = [
        getattr(regloss.Reduction, k)
        for k in dir(regloss.Reduction)
        if k.isupper() and isinstance(getattr(regloss.Reduction, k), str)
    ]
    for value in [*REDUCTIONS, *constants]:
        for cls in ALL_CLASSES:
            cls(reduction=value)


BAD_DTYPES = ["int32", "float", "foo", 3, "int8", "complex64", "Float32", "bool"]


@pytest.mark.parametrize("cls", ALL_CLASSES)
@pytest.mark.parametrize("value", BAD_DTYPES, ids=repr)
def test_bad_dtype(cls, value):
    with pytest.raises((ValueError, TypeError)) as ei:
        cls(dtype=value)
    assert_names(ei, "dtype", repr(value), str(value))


@pytest.mark.parametrize("value", [0, 0.0, -1, -1e-9, math.nan, math.inf, -math.inf, "1"], ids=repr)
def test_huber_bad_delta_at_construction(value):
    with pytest.raises((ValueError, TypeError)) as ei:
        L.Huber(delta=value)
    assert_names(ei, "delta", repr(value), str(value))
    if isinstance(value, str):
        return
    assert type(ei.value) is ValueError


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, "1"], ids=repr)
def test_huber_bad_delta_functional_same_error(xp, value):
    with pytest.raises((ValueError, TypeError)) as e_cls:
        L.Huber(delta=value)
    with pytest.raises((ValueError, TypeError)) as e_fn:
        L.huber(_good(xp), _good(xp), delta=value)
    assert type(e_fn.value) is type(e_cls.value)
    assert_names(e_fn, "delta", repr(value), str(value))


AXIS_PAIRS = [
    pytest.param(L.cosine_similarity, L.CosineSimilarity, id="cosine"),
    pytest.param(L.dice, L.Dice, id="dice"),
    pytest.param(L.tversky, L.Tversky, id="tversky"),
]


@pytest.mark.parametrize("fn, cls", AXIS_PAIRS)
@pytest.mark.parametrize(
    "axis, shown",
    [
        (5, "5"),
        (-3, "-3"),
        ((0, 7), "7"),
        ((-5, 1), "-5"),
        (1.5, "1.5"),
        ("x", "x"),
        ((0, 1.5), "1.5"),
        ([0, "x"], "x"),
    ],
    ids=repr,
)
def test_bad_axis(xp, fn, cls, axis, shown):
    t, p = _good(xp, (2, 3)), _good(xp, (2, 3))
    with pytest.raises((ValueError, TypeError)) as e_cls:
        cls(axis=axis)(t, p)
    with pytest.raises((ValueError, TypeError)) as e_fn:
        fn(t, p, axis=axis)
    assert type(e_fn.value) is type(e_cls.value), (e_fn.value, e_cls.value)
    assert_names(e_cls, "axis", shown)
    assert_names(e_fn, "axis", shown)


@pytest.mark.parametrize("param", ["alpha", "beta"])
@pytest.mark.parametrize("value", ["a", None, {"a": 1}], ids=repr)
def test_tversky_non_numeric_alpha_beta(xp, param, value):
    t, p = _good(xp, (2, 3)), _good(xp, (2, 3))
    with pytest.raises(TypeError) as e_cls:
        L.Tversky(**{param: value})(t, p)
    with pytest.raises(TypeError) as e_fn:
        L.tversky(t, p, **{param: value})
    assert_names(e_cls, param, repr(value), str(value), type(value).__name__)
    assert_names(e_fn, param, repr(value), str(value), type(value).__name__)


# ---------------------------------------------------------------- sample_weight / mask shapes


@pytest.mark.parametrize(
    "weight_shape, values_shape",
    [((2, 2), (2,)), ((3,), (2,)), ((2, 3), (2,)), ((4,), (2,)), ((2, 1, 1), (2,)), ((1, 2), (2,))],
    ids=str,
)
@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_sample_weight_bigger_than_losses(xp, fn, cls, kwargs, weight_shape, values_shape):
    t, p = _good(xp, (2, 3)), _good(xp, (2, 3))
    w = xp.ones(weight_shape, dtype=xp.float64)
    for reduction in ("sum_over_batch_size", "none", "mean_with_sample_weight"):
        with pytest.raises(ValueError) as ei:
            cls(reduction=reduction, **kwargs)(t, p, sample_weight=w)
        assert_names(ei, "sample_weight")
        assert_shapes_named(ei, weight_shape, values_shape)


@pytest.mark.parametrize("cls, kwargs", [(L.Dice, {}), (L.Tversky, {}), (L.Dice, {"axis": (0, 1)})])
@pytest.mark.parametrize("weight_shape", [(2,), (3,), (2, 3)], ids=str)
def test_vector_weight_on_scalar_loss(xp, cls, kwargs, weight_shape):
    t, p = _good(xp, (2, 3)), _good(xp, (2, 3))
    w = xp.ones(weight_shape, dtype=xp.float64)
    with pytest.raises(ValueError) as ei:
        cls(**kwargs)(t, p, sample_weight=w)
    assert_names(ei, "sample_weight")
    assert_shapes_named(ei, (), weight_shape)
    # a scalar weight is fine
    cls(**kwargs)(t, p, sample_weight=2.0)


@pytest.mark.parametrize("mask_shape", [(3,), (2, 2), (4, 3), (2, 4), (4,), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_mask_wrong_shape(xp, fn, cls, kwargs, mask_shape):
    t, p = _good(xp, (2, 3)), _good(xp, (2, 3))
    mask = xp.ones(mask_shape, dtype=xp.bool)
    with pytest.raises(ValueError) as ei:
        cls(**kwargs)(t, p, mask=mask)
    assert_names(ei, "mask")
    assert_shapes_named(ei, mask_shape)
    # the two valid mask shapes work
    cls(**kwargs)(t, p, mask=xp.ones((2,), dtype=xp.bool))
    cls(**kwargs)(t, p, mask=xp.ones((2, 3), dtype=xp.bool))


# ---------------------------------------------------------------- config


@pytest.mark.usefixtures("restore_config")
@pytest.mark.parametrize("value", [-1, -1e-7], ids=repr)
def test_set_epsilon_negative(value):
    before = regloss.config.epsilon()
    with pytest.raises(ValueError) as ei:
        regloss.config.set_epsilon(value)
    assert str(value) in str(ei.value) or repr(value) in str(ei.value)
    assert regloss.config.epsilon() == before


@pytest.mark.usefixtures("restore_config")
@pytest.mark.parametrize("value", ["a", None, [1e-7]], ids=repr)
def test_set_epsilon_non_number(value):
    before = regloss.config.epsilon()
    with pytest.raises((ValueError, TypeError)):
        regloss.config.set_epsilon(value)
    assert regloss.config.epsilon() == before


@pytest.mark.usefixtures("restore_config")
@pytest.mark.parametrize("value", ["int8", "int32", "float", "foo", "complex64"])
def test_set_floatx_bad(value):
    before = regloss.config.floatx()
    with pytest.raises(ValueError) as ei:
        regloss.config.set_floatx(value)
    assert value in str(ei.value)
    assert regloss.config.floatx() == before


# ---------------------------------------------------------------- mixing libraries and devices


def _jnp():
    jax = pytest.importorskip("jax")
    return jax.numpy


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_mixing_jax_and_array_api_strict(fn, cls, kwargs):
    jnp = _jnp()
    import array_api_strict as xps

    j = jnp.asarray([[0.1, 0.2, 0.3]])
    s = xps.asarray([[0.3, 0.2, 0.1]])
    for t, p in ((j, s), (s, j)):
        e_fn, e_cls = _call_both(fn, cls, kwargs, t, p, TypeError)
        for ei in (e_fn, e_cls):
            msg = str(ei.value)
            assert "jax" in msg and "array_api_strict" in msg, msg
    # a third library in sample_weight / mask, with NumPy y_true
    n = np.asarray([[0.3, 0.2, 0.1]])
    for extra in ({"sample_weight": jnp.asarray([1.0])}, {"mask": jnp.asarray([True])}):
        with pytest.raises(TypeError) as ei:
            cls(**kwargs)(n, s, **extra)
        assert "jax" in str(ei.value) and "array_api_strict" in str(ei.value), str(ei.value)


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_numpy_follows_array_api_strict(fn, cls, kwargs):
    import array_api_strict as xps

    n = np.asarray([[0.3, 0.2, 0.1], [0.5, 0.5, 0.5]])
    s = xps.asarray([[0.1, 0.2, 0.3], [0.4, 0.6, 0.2]])
    for t, p in ((n, s), (s, n)):
        assert library_of(fn(t, p, **kwargs)) == "array_api_strict"
        assert library_of(cls(**kwargs)(t, p)) == "array_api_strict"
    out = cls(**kwargs)(n, n, sample_weight=xps.asarray([1.0, 2.0]))
    assert library_of(out) == "array_api_strict"
    out = cls(**kwargs)(n, n, mask=xps.asarray([True, False]))
    assert library_of(out) == "array_api_strict"


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_two_devices(fn, cls, kwargs):
    import array_api_strict as xps

    d0, d1 = xps.Device("CPU_DEVICE"), xps.Device("device1")
    a = xps.asarray([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], device=d0)
    b = xps.asarray([[0.3, 0.2, 0.1], [0.6, 0.5, 0.4]], device=d1)
    for t, p in ((a, b), (b, a)):
        e_fn, e_cls = _call_both(fn, cls, kwargs, t, p, ValueError)
        for ei in (e_fn, e_cls):
            msg = str(ei.value)
            assert "CPU_DEVICE" in msg and "device1" in msg, msg
    for extra in (
        {"sample_weight": xps.asarray([1.0, 2.0], device=d1)},
        {"mask": xps.asarray([True, False], device=d1)},
    ):
        with pytest.raises(ValueError) as ei:
            cls(**kwargs)(a, a, **extra)
        assert "CPU_DEVICE" in str(ei.value) and "device1" in str(ei.value), str(ei.value)


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_numpy_inputs_follow_device(fn, cls, kwargs):
    import array_api_strict as xps

    d1 = xps.Device("device1")
    n = np.asarray([[0.3, 0.2, 0.1], [0.5, 0.5, 0.5]])
    p = xps.asarray([[0.1, 0.2, 0.3], [0.4, 0.6, 0.2]], device=d1)
    out = fn(n, p, **kwargs)
    assert library_of(out) == "array_api_strict" and out.device == d1
    for reduction in ("sum_over_batch_size", "none", "mean_with_sample_weight"):
        out = cls(reduction=reduction, **kwargs)(
            n, p, sample_weight=np.asarray([1.0, 2.0]), mask=np.asarray([True, False])
        )
        assert library_of(out) == "array_api_strict"
        assert out.device == d1, (reduction, out.device)
    out = cls(**kwargs)(p, n, mask=np.ones((2, 3), dtype=bool))
    assert out.device == d1


# ---------------------------------------------------------------- nothing the caller passed is modified


def _call_variants(xp, dtype):
    """(description, y_true, y_pred, call kwargs) with NaN in a masked row where a mask is given."""
    rng = np.random.default_rng(1)
    t = rng.uniform(0.05, 0.95, size=(4, 3))
    p = rng.uniform(0.05, 0.95, size=(4, 3))
    t_nan, p_nan = t.copy(), p.copy()
    t_nan[2] = np.nan
    p_nan[2, 1] = np.inf

    def a(x, dt=dtype):
        return xp.asarray(x, dtype=dt)

    return [
        ("plain", a(t), a(p), {}),
        ("weight (4,)", a(t), a(p), {"sample_weight": a([1.0, 0.0, 2.0, 0.5])}),
        ("weight (4,1)", a(t), a(p), {"sample_weight": a([[1.0], [0.0], [2.0], [0.5]])}),
        ("scalar weight", a(t), a(p), {"sample_weight": a(2.0)}),
        ("mask (4,)", a(t_nan), a(p_nan), {"mask": xp.asarray([True, True, False, True])}),
        (
            "element mask int + weight",
            a(t_nan),
            a(p_nan),
            {
                "mask": xp.asarray([[1, 1, 0], [1, 1, 1], [0, 0, 0], [1, 0, 1]], dtype=xp.int64),
                "sample_weight": a([1.0, 3.0, 0.0, 2.0]),
            },
        ),
    ]


def _snapshot(obj):
    if obj is None:
        return None
    return (np.array(to_numpy(obj), copy=True), str(to_numpy(obj).dtype), obj.shape)


def _unchanged(before, obj):
    if before is None:
        return obj is None
    arr, dtype, shape = before
    now = to_numpy(obj)
    return str(now.dtype) == dtype and obj.shape == shape and np.array_equal(arr, now, equal_nan=True)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=[c.__name__ for c in ALL_CLASSES])
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_inputs_not_modified(xp, cls, dtype_name):
    dtype = getattr(xp, dtype_name)
    loss_dtype = None if dtype_name == "float32" else "float64"
    kwargs = {"axis": -1} if cls in (L.Dice, L.Tversky) else {}
    for reduction in REDUCTIONS:
        loss = cls(reduction=reduction, dtype=loss_dtype, **kwargs)
        for desc, t, p, extra in _call_variants(xp, dtype):
            snaps = {"y_true": _snapshot(t), "y_pred": _snapshot(p)}
            snaps.update({k: _snapshot(v) for k, v in extra.items()})
            loss(t, p, **extra)
            objs = {"y_true": t, "y_pred": p, **extra}
            for name, before in snaps.items():
                assert _unchanged(before, objs[name]), (
                    f"{cls.__name__}(reduction={reduction!r}) modified {name} ({desc})"
                )


def test_dice_scalar_loss_inputs_not_modified(xp):
    rng = np.random.default_rng(2)
    t = xp.asarray(rng.uniform(size=(3, 4)), dtype=xp.float32)
    p = xp.asarray(rng.uniform(size=(3, 4)), dtype=xp.float32)
    m = xp.asarray(rng.uniform(size=(3, 4)) > 0.5)
    for cls in (L.Dice, L.Tversky):
        for reduction in REDUCTIONS:
            snaps = [_snapshot(x) for x in (t, p, m)]
            cls(reduction=reduction)(t, p, sample_weight=3.0, mask=m)
            for before, x in zip(snaps, (t, p, m), strict=True):
                assert _unchanged(before, x), (cls, reduction)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=[c.__name__ for c in ALL_CLASSES])
def test_list_inputs_not_modified(cls):
    kwargs = {"axis": -1} if cls in (L.Dice, L.Tversky) else {}
    t = [[0.1, 0.5, 0.9], [0.2, float("nan"), 0.3], [0.7, 0.7, 0.1]]
    p = [[0.3, 0.5, 0.2], [0.9, 0.1, float("inf")], [0.5, 0.4, 0.6]]
    w = [1.0, 2.0, 0.5]
    m = [True, False, True]
    em = [[1, 0, 1], [0, 0, 0], [1, 1, 1]]
    for reduction in REDUCTIONS:
        for extra in ({}, {"sample_weight": w}, {"mask": m}, {"sample_weight": w, "mask": em}):
            before = repr((t, p, extra))
            cls(reduction=reduction, **kwargs)(t, p, **extra)
            assert repr((t, p, extra)) == before, (cls.__name__, reduction, extra)


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_functional_inputs_not_modified(xp, fn, cls, kwargs):
    rng = np.random.default_rng(3)
    for dtype in (xp.float32, xp.float64):
        t = xp.asarray(rng.uniform(0.05, 0.95, size=(4, 3)), dtype=dtype)
        p = xp.asarray(rng.uniform(0.05, 0.95, size=(4, 3)), dtype=dtype)
        snaps = [_snapshot(t), _snapshot(p)]
        fn(t, p, **kwargs)
        assert _unchanged(snaps[0], t) and _unchanged(snaps[1], p)
    tl = [[0.1, 0.5, 0.9], [0.2, 0.4, 0.3]]
    pl = [[0.3, 0.5, 0.2], [0.9, 0.1, 0.8]]
    before = repr((tl, pl))
    fn(tl, pl, **kwargs)
    assert repr((tl, pl)) == before


def _read_only(x):
    x = np.array(x, copy=True)
    x.flags.writeable = False
    return x


@pytest.mark.parametrize("fn, cls, kwargs", PAIRS)
def test_read_only_numpy_inputs_work(fn, cls, kwargs):
    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64):
        t = _read_only(rng.uniform(0.05, 0.95, size=(4, 3)).astype(dtype))
        p = _read_only(rng.uniform(0.05, 0.95, size=(4, 3)).astype(dtype))
        t_nan = _read_only(np.where(np.arange(4)[:, None] == 2, np.nan, t))
        w = _read_only(np.asarray([1.0, 0.0, 2.0, 0.5], dtype=dtype))
        m = _read_only(np.asarray([True, True, False, True]))
        em = _read_only(np.asarray([[1, 1, 0], [1, 1, 1], [0, 0, 0], [1, 0, 1]], dtype=bool))
        loss_dtype = "float64" if dtype == np.float64 else None
        assert np.isfinite(to_numpy(fn(t, p, **kwargs))).all()
        for reduction in REDUCTIONS:
            loss = cls(reduction=reduction, dtype=loss_dtype, **kwargs)
            for extra in (
                {},
                {"sample_weight": w},
                {"mask": m},
                {"sample_weight": w, "mask": em},
            ):
                y_true = t_nan if "mask" in extra else t
                out = to_numpy(loss(y_true, p, **extra))
                assert np.isfinite(out).all(), (cls.__name__, reduction, extra, out)
            for x in (t, p, t_nan, w, m, em):
                assert not x.flags.writeable


# ------------------------------------------- bounded messages and hyper-parameters (issue 20, 12-13)


@pytest.mark.parametrize("cls", ALL_CLASSES)
@pytest.mark.parametrize("argument", ["reduction", "dtype", "name"])
def test_messages_show_at_most_a_few_hundred_characters_of_the_value(cls, argument):
    value = ["z" * 10_000_000] if argument == "name" else "z" * 10_000_000
    with pytest.raises((ValueError, TypeError)) as caught:
        cls(**{argument: value})
    assert_names(caught, argument, "zzzz")
    assert len(str(caught.value)) < 600


@pytest.mark.parametrize(
    ("cls", "argument"),
    [(L.Huber, "delta"), (L.Tversky, "alpha"), (L.Tversky, "beta")],
)
def test_hyper_parameters_take_one_value(cls, argument):
    assert cls(**{argument: np.array([0.5])}).get_config()[argument] == 0.5
    with pytest.raises(ValueError) as caught:
        cls(**{argument: np.array([0.5, 0.25])})
    assert_names(caught, argument, "(2,)")
    with pytest.raises(TypeError) as caught:
        cls(**{argument: "0.5"})
    assert_names(caught, argument, "'0.5'")
