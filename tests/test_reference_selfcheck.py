"""Checks of the float64 reference (tests/reference.py) itself.

Against hand-computed values, the Keras docstring / test-suite numbers (Keras 3.15.1, where
Tversky's alpha and beta are swapped with respect to regloss), and, when Keras is installed,
against Keras on a few random inputs. Nothing here uses regloss.
"""

import math
import os

import numpy as np
import pytest

from tests import reference as ref
from tests._cases import BY_FUNCTION, KERAS_LOSSES

Y_TRUE = np.array([[1, 9, 2], [-5, -2, 6]], dtype=np.float64)
Y_PRED = np.array([[4, 8, 12], [8, 1, 3]], dtype=np.float64)
TIMESTEP_TRUE = Y_TRUE.reshape(2, 3, 1)
TIMESTEP_PRED = Y_PRED.reshape(2, 3, 1)
TIMESTEP_WEIGHT = np.array([3, 6, 5, 0, 4, 2], dtype=np.float64).reshape(2, 3)
ROW_WEIGHT = np.array([[1.2], [3.4]])

DICE_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
DICE_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
SEG_TRUE = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]], dtype=float)
SEG_PRED = np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]], dtype=float)
SMALL_TRUE = np.array([[1.0, 2.0], [1.0, 2.0]])
SMALL_PRED = np.array([[4.0, 1.0], [6.0, 1.0]])


def call(name, y_true, y_pred, sample_weight=None, mask=None, reduction="sum_over_batch_size", **kw):
    return ref.ref_loss_call(name, y_true, y_pred, sample_weight, mask, reduction, **kw)


# ----------------------------------------------------------------------------- per-loss values


def test_mse_docstring():
    got = ref.ref_mse([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(got, [0.5, 0.5])
    assert float(call("mean_squared_error", [[0, 1], [0, 0]], [[1, 1], [1, 0]])) == 0.5
    # rank-1 input is one sample
    got = ref.ref_mse([1.0, 0.0, 1.0], [0.9, 0.1, 0.8])
    assert got.shape == ()
    np.testing.assert_allclose(got, 0.02, rtol=1e-12)


@pytest.mark.parametrize(
    "name, values",
    [
        (
            "mean_squared_error",
            dict(
                unweighted=49.5,
                scalar=113.85,
                sample=767.8 / 6,
                timestep=97.833336,
                none=[84.3333, 143.3666],
                sum=227.69998,
                mwsw=(110 / 3 * 1.2 + 187 / 3 * 3.4) / (1.2 + 3.4),
            ),
        ),
        (
            "mean_absolute_error",
            dict(
                unweighted=5.5,
                scalar=12.65,
                sample=81.4 / 6,
                timestep=13.833333,
                none=[10.7333, 14.5666],
                sum=25.29999,
                mwsw=(14 / 3 * 1.2 + 19 / 3 * 3.4) / (1.2 + 3.4),
            ),
        ),
        (
            "mean_absolute_percentage_error",
            dict(
                unweighted=211.8518,
                scalar=487.259,
                sample=422.8888,
                timestep=694.4444,
                none=[621.8518, 352.6666],
                mwsw=183.865,
            ),
        ),
        (
            "mean_squared_logarithmic_error",
            dict(unweighted=1.4370, scalar=3.3051, sample=3.7856, timestep=2.647374, mwsw=1.646),
        ),
    ],
)
def test_keras_test_suite_numbers(name, values):
    """The numbers of keras/src/losses/losses_test.py (float32 there, so rtol ~1e-4)."""

    def close(got, want):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-4)

    close(call(name, Y_TRUE, Y_PRED), values["unweighted"])
    close(call(name, Y_TRUE, Y_PRED, 2.3), values["scalar"])
    close(call(name, Y_TRUE, Y_PRED, ROW_WEIGHT), values["sample"])
    close(call(name, TIMESTEP_TRUE, TIMESTEP_PRED, TIMESTEP_WEIGHT), values["timestep"])
    close(call(name, Y_TRUE, Y_PRED, 0.0), 0.0)
    close(call(name, Y_TRUE, Y_TRUE), 0.0)
    if "none" in values:
        got = call(name, Y_TRUE, Y_PRED, 2.3, reduction=None)
        assert got.shape == (2,)
        close(got, values["none"])
    if "sum" in values:
        close(call(name, Y_TRUE, Y_PRED, 2.3, reduction="sum"), values["sum"])
    close(
        call(name, Y_TRUE, Y_PRED, ROW_WEIGHT, reduction="mean_with_sample_weight"),
        values["mwsw"],
    )


def test_mape_edge():
    # y_true = 0 divides by eps
    np.testing.assert_allclose(ref.ref_mape([0.0, 1.0], [1.0, 1.0]), 5e8, rtol=1e-12)
    np.testing.assert_allclose(ref.ref_mape([0.0, 1.0], [1.0, 1.0], eps=1e-4), 5e5, rtol=1e-12)
    # |y_true| in the denominator, not y_true
    np.testing.assert_allclose(ref.ref_mape([[-2.0]], [[-1.0]]), [50.0])
    # 100 * mean over the last axis
    np.testing.assert_allclose(ref.ref_mape([[1.0, 2.0]], [[2.0, 2.0]]), [50.0])


def test_msle_edge():
    # negatives and (-1, 0) are clamped to eps: they are all ~0
    np.testing.assert_allclose(ref.ref_msle([[-5.0]], [[0.0]]), [0.0], atol=1e-28)
    np.testing.assert_allclose(ref.ref_msle([[-0.9999999]], [[-5.0]]), [0.0], atol=1e-28)
    want = (math.log(3.0 + 1.0) - math.log(1e-7 + 1.0)) ** 2
    np.testing.assert_allclose(ref.ref_msle([[-2.0]], [[3.0]]), [want], rtol=1e-12)
    np.testing.assert_allclose(ref.ref_msle([[1.0, 3.0]], [[3.0, 1.0]]), [math.log(2) ** 2])


def test_cosine_hand_values():
    def cos(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
            sum(x * x for x in a) * sum(y * y for y in b)
        )

    want = [-cos(Y_TRUE[0], Y_PRED[0]), -cos(Y_TRUE[1], Y_PRED[1])]
    np.testing.assert_allclose(ref.ref_cosine_similarity(Y_TRUE, Y_PRED), want, rtol=1e-14)
    np.testing.assert_allclose(want, [-100 / math.sqrt(86 * 224), 24 / math.sqrt(65 * 74)])
    # axis=0 and axis=None
    want0 = [-cos(Y_TRUE[:, j], Y_PRED[:, j]) for j in range(3)]
    np.testing.assert_allclose(ref.ref_cosine_similarity(Y_TRUE, Y_PRED, axis=0), want0)
    got = ref.ref_cosine_similarity(Y_TRUE, Y_PRED, axis=None)
    assert got.shape == ()
    np.testing.assert_allclose(got, -cos(Y_TRUE.ravel(), Y_PRED.ravel()))
    np.testing.assert_allclose(ref.ref_cosine_similarity(Y_TRUE, Y_PRED, axis=(0, 1)), got)
    # zero vector -> -0.0; a norm below eps is floored, not normalised
    assert ref.ref_cosine_similarity([[0.0, 0.0]], [[1.0, 2.0]])[0] == 0.0
    np.testing.assert_allclose(ref.ref_cosine_similarity([1e-8, 0.0], [1.0, 0.0]), -0.1)


def test_huber_hand_values():
    pred = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]])
    true = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    # all |e| <= 1: 0.5 e^2
    want = [(0.005 + 0.02 + 0.32) / 3, (0.02 + 0.08 + 0.18) / 3]
    np.testing.assert_allclose(ref.ref_huber(true, pred), want, rtol=1e-12)
    np.testing.assert_allclose(call("huber", true, pred), 0.625 / 6, rtol=1e-12)
    # delta=0.5: |e| = 0.8 and 0.6 are linear: 0.5*|e| - 0.125
    want = [(0.005 + 0.02 + 0.275) / 3, (0.02 + 0.08 + 0.175) / 3]
    np.testing.assert_allclose(ref.ref_huber(true, pred, delta=0.5), want, rtol=1e-12)
    # the boundary is on the quadratic side (both agree there)
    np.testing.assert_allclose(ref.ref_huber([[0.0]], [[2.0]], delta=2.0), [2.0])
    np.testing.assert_allclose(ref.ref_huber([[0.0]], [[-3.0]], delta=2.0), [4.0])


def test_log_cosh_hand_values():
    err = Y_PRED - Y_TRUE
    want = np.array([[math.log(math.cosh(e)) for e in row] for row in err]).mean(axis=-1)
    np.testing.assert_allclose(ref.ref_log_cosh(Y_TRUE, Y_PRED), want, rtol=1e-13)
    np.testing.assert_allclose(ref.ref_log_cosh([[0.0], [0.0]], [[100.0], [-100.0]]), 99.30685, 1e-6)
    np.testing.assert_allclose(ref.ref_log_cosh([0.0], [1000.0]), 1000.0 - math.log(2.0))
    np.testing.assert_allclose(ref.ref_log_cosh([0.0], [1e-3]), 5e-7, rtol=1e-6)


def test_dice_docstring():
    got = ref.ref_dice(DICE_TRUE, DICE_PRED)
    assert got.shape == ()
    np.testing.assert_allclose(got, 0.6164384, rtol=1e-6)
    np.testing.assert_allclose(1 - 2.8 / 7.3, 0.6164384, rtol=1e-6)
    got = ref.ref_dice(DICE_TRUE, DICE_PRED, axis=(1, 2, 3))
    np.testing.assert_allclose(got, [0.5, 0.75757575], rtol=1e-6)
    np.testing.assert_allclose(ref.ref_dice(SMALL_TRUE, SMALL_PRED), -0.55555546, rtol=1e-6)
    np.testing.assert_allclose(ref.ref_dice(SEG_TRUE, SEG_PRED), 0.77777773, rtol=1e-6)
    # all zeros: 1, not 0
    assert ref.ref_dice([[0.0, 0.0]], [[0.0, 0.0]]) == 1.0
    # every reduction returns the 0-d value unchanged
    for reduction in ref.REDUCTIONS:
        np.testing.assert_allclose(call("dice", DICE_TRUE, DICE_PRED, reduction=reduction), 0.6164384, 1e-6)
    np.testing.assert_allclose(
        call("dice", DICE_TRUE, DICE_PRED, reduction="sum", axis=(1, 2, 3)), 1.25757575, 1e-6
    )


def test_tversky_alpha_weights_false_positives():
    # I = 14, FP = sum((1 - t) p) = -2, FN = sum(t (1 - p)) = -8
    np.testing.assert_allclose(ref.ref_tversky(SMALL_TRUE, SMALL_PRED), -0.55555546, rtol=1e-6)
    got = ref.ref_tversky(SMALL_TRUE, SMALL_PRED, alpha=0.2, beta=0.8)
    np.testing.assert_allclose(got, 1 - 14 / (14 - 0.2 * 2 - 0.8 * 8 + 1e-7), rtol=1e-12)
    np.testing.assert_allclose(got, -0.94444442, rtol=1e-6)  # Keras master (after PR #23333)
    # Keras 3.15.1's (alpha=0.2, beta=0.8) numbers are regloss's (alpha=0.8, beta=0.2)
    np.testing.assert_allclose(
        ref.ref_tversky(SMALL_TRUE, SMALL_PRED, alpha=0.8, beta=0.2), -0.29629636, rtol=1e-6
    )
    np.testing.assert_allclose(ref.ref_tversky(SEG_TRUE, SEG_PRED), 0.77777773, rtol=1e-6)
    np.testing.assert_allclose(ref.ref_tversky(SEG_TRUE, SEG_PRED, alpha=0.8, beta=0.2), 0.7916667, rtol=1e-6)
    np.testing.assert_allclose(
        ref.ref_tversky(DICE_TRUE, DICE_PRED, alpha=0.8, beta=0.2, axis=(1, 2, 3)),
        [0.5, 0.7222222],
        rtol=1e-6,
    )
    # alpha = beta = 0.5 is Dice up to the eps placement
    np.testing.assert_allclose(
        ref.ref_tversky(DICE_TRUE, DICE_PRED, axis=(1, 2, 3)), [0.5, 0.75757575], rtol=1e-6
    )
    assert ref.ref_tversky([[0.0, 0.0]], [[0.0, 0.0]], alpha=0.3, beta=0.9) == 1.0


# ----------------------------------------------------------------------------- shapes


def test_soe():
    a, b = ref.ref_soe(np.zeros(3), np.zeros((3, 1)))
    assert a.shape == b.shape == (3, 1)
    a, b = ref.ref_soe(np.zeros((3, 1)), np.zeros(3))
    assert a.shape == b.shape == (3, 1)
    a, b = ref.ref_soe(np.zeros((3, 2, 1)), np.zeros((3, 2)))
    assert a.shape == b.shape == (3, 2)
    a, b = ref.ref_soe(np.zeros((3, 2)), np.zeros((3, 2, 1)))
    assert a.shape == b.shape == (3, 2)
    a, b = ref.ref_soe(np.zeros((3, 2)), np.zeros((3, 2, 2)))  # not adjusted
    assert (a.shape, b.shape) == ((3, 2), (3, 2, 2))
    a, b = ref.ref_soe(np.zeros((3,)), np.zeros((3, 1, 1)))  # rank gap 2: not adjusted
    assert (a.shape, b.shape) == ((3,), (3, 1, 1))
    assert ref.ref_mse(np.ones(3), np.zeros((3, 1))).shape == (3,)
    assert ref.ref_mse(np.ones((3, 2, 1)), np.zeros((3, 2))).shape == (3,)
    for t, p in [((3,), (2, 3)), ((2,), (2, 3)), ((2, 3), (2, 4))]:
        with pytest.raises(ValueError):
            ref.ref_mse(np.zeros(t), np.zeros(p))
    with pytest.raises(ValueError):
        ref.ref_mse(3.0, 1.0)
    for shape in [(0,), (2, 0)]:
        with pytest.raises(ValueError):
            ref.ref_mse(np.zeros(shape), np.zeros(shape))


# ----------------------------------------------------------------------------- reductions


def test_reduce_table():
    v = np.array([2.5, 12.5])
    np.testing.assert_allclose(ref.ref_reduce(v), 7.5)
    np.testing.assert_allclose(ref.ref_reduce(v, reduction="mean"), 7.5)
    np.testing.assert_allclose(ref.ref_reduce(v, reduction="auto"), 7.5)
    np.testing.assert_allclose(ref.ref_reduce(v, reduction="sum"), 15.0)
    np.testing.assert_allclose(ref.ref_reduce(v, reduction=None), v)
    np.testing.assert_allclose(ref.ref_reduce(v, reduction="none"), v)
    np.testing.assert_allclose(ref.ref_reduce(v, reduction="mean_with_sample_weight"), 7.5)
    # scalar weight: sum(v w) / w for mean_with_sample_weight
    np.testing.assert_allclose(ref.ref_reduce(v, 2.0, reduction="mean_with_sample_weight"), 15.0)
    np.testing.assert_allclose(ref.ref_reduce(v, 2.0), 15.0)
    np.testing.assert_allclose(ref.ref_reduce(v, [1.0, 3.0], reduction="mean_with_sample_weight"), 10.0)
    # (B, 1) weight: squeezed, "none" keeps (B,)
    got = ref.ref_reduce(v, [[1.0], [3.0]], reduction="none")
    assert got.shape == (2,)
    np.testing.assert_allclose(got, [2.5, 37.5])
    # (B, 1) weights on (B, T) values divide by the sum over B only
    v2 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_allclose(
        ref.ref_reduce(v2, [[1.0], [1.0]], reduction="mean_with_sample_weight"), 21 / 2
    )
    np.testing.assert_allclose(ref.ref_reduce(v2, [[1.0], [1.0]]), 21 / 6)
    np.testing.assert_allclose(
        ref.ref_reduce(v2, [[1.0], [2.0]], reduction="mean_with_sample_weight"), 36 / 3
    )
    # the weight times the mask, not broadcast
    np.testing.assert_allclose(
        ref.ref_reduce(
            v2,
            [[1.0], [2.0]],
            [[True, False, True], [False, False, False]],
            reduction="mean_with_sample_weight",
        ),
        4.0 / 2,
    )
    np.testing.assert_allclose(
        ref.ref_reduce(
            v2, 2.0, [[True, False, True], [False, True, False]], reduction="mean_with_sample_weight"
        ),
        18.0 / 6,
    )
    # masks: divisor is the number of present entries
    mask = np.array([True, False])
    np.testing.assert_allclose(ref.ref_reduce(v, None, mask), 2.5)
    np.testing.assert_allclose(ref.ref_reduce(v, 2.0, mask, reduction="sum"), 5.0)
    np.testing.assert_allclose(ref.ref_reduce(v, None, mask, reduction="none"), [2.5, 0.0])
    np.testing.assert_allclose(ref.ref_reduce(v, None, [1, 0], reduction="mean_with_sample_weight"), 2.5)
    np.testing.assert_allclose(ref.ref_reduce(v, None, [[1], [0]]), 2.5)
    # NaN in a masked row never leaks; a zero weight does not remove it
    vn = np.array([np.nan, 3.0])
    np.testing.assert_allclose(ref.ref_reduce(vn, None, [False, True]), 3.0)
    assert np.isnan(ref.ref_reduce(vn, [0.0, 1.0]))
    # 0/0 -> 0
    for reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum"):
        assert ref.ref_reduce(v, None, [False, False], reduction=reduction) == 0.0
        assert ref.ref_reduce(v, 0.0, reduction=reduction) == 0.0
    # 0-d special case: every mode returns v * w (0 if masked)
    for reduction in ref.REDUCTIONS:
        assert ref.ref_reduce(np.float64(3.0), 2.0, reduction=reduction) == 6.0
        assert ref.ref_reduce(np.float64(3.0), 2.0, False, reduction=reduction) == 0.0
        assert ref.ref_reduce(np.float64(3.0), [2.0], reduction=reduction) == 6.0  # (1,) squeezed
    # empty batch
    assert ref.ref_reduce(np.zeros((0,))) == 0.0
    assert ref.ref_reduce(np.zeros((0,)), reduction="sum") == 0.0
    assert ref.ref_reduce(np.zeros((0,)), reduction="none").shape == (0,)
    assert ref.ref_loss_call("mean_squared_error", np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
    # bad reductions and weights
    for bad in ("SUM", "auto_", "weighted_mean", "weighted_sum_by_nonzero_weights", "Sum"):
        with pytest.raises(ValueError):
            ref.ref_reduce(v, reduction=bad)
    for w in ([1.0, 2.0, 3.0], np.ones((2, 3)), np.ones((2, 2))):
        with pytest.raises(ValueError):
            ref.ref_reduce(v, w)
    with pytest.raises(ValueError):
        ref.ref_reduce(np.float64(1.0), [1.0, 3.0])


def test_element_masks():
    t = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    p = np.array([[2.0, np.nan, 5.0], [np.inf, 0.0, 0.0]])
    m = np.array([[True, False, True], [False, False, False]])
    got = ref.ref_mse(t, p, mask=m)
    np.testing.assert_allclose(got, [(1 + 4) / 2, 0.0])
    values, present = ref.ref_per_sample("mean_squared_error", t, p, mask=m)
    assert present.tolist() == [True, False]
    np.testing.assert_allclose(call("mean_squared_error", t, p, mask=m), 2.5)
    np.testing.assert_allclose(call("mean_squared_error", t, p, mask=m, reduction="sum"), 2.5)
    np.testing.assert_allclose(call("mean_squared_error", t, p, mask=m, reduction=None), [2.5, 0.0])
    # cosine / dice / tversky: masked entries drop out of the sums
    got = ref.ref_cosine_similarity([[3.0, 7.0, 4.0]], [[1.0, 7.0, 0.0]], mask=[[1, 0, 1]])
    np.testing.assert_allclose(got, [-0.6])
    got = ref.ref_dice([[1.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.5, 9.0]], mask=[[1, 1], [1, 0]])
    np.testing.assert_allclose(got, 1 - 2 * 1.5 / (3.0 + 1.5 + 1e-7))
    got = ref.ref_dice([[1.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.5, 9.0]], axis=-1, mask=[[1, 1], [0, 0]])
    np.testing.assert_allclose(got, [1 - 2 / (3 + 1e-7), 0.0])


# ----------------------------------------------------------------------------- Keras cross-check
# Keras runs in a subprocess (the test process never imports it), once for the module.

# Every loss of the test table with its defaults, then deliberate parameter variants.
KERAS_LOSS_CASES = [(case.function, {}) for case in KERAS_LOSSES] + [
    ("cosine_similarity", {"axis": -1}),
    ("cosine_similarity", {"axis": [1, 2]}),
    ("huber", {"delta": 0.7}),
    ("dice", {"axis": [1, 2]}),
    ("tversky", {"alpha": 0.5, "beta": 0.5, "axis": [1, 2]}),
    ("tversky", {"alpha": 0.3, "beta": 0.9, "axis": -1}),
]
KERAS_REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", None]
KERAS_WEIGHTS = [None, 2.0, "row", "col"]

KERAS_SCRIPT = r"""
import json, sys
import numpy as np
import keras
request = json.load(open(sys.argv[1]))
arrays = dict(np.load(sys.argv[2]))
out = {}
for key, case in request.items():
    kwargs = dict(case["kwargs"])
    if isinstance(kwargs.get("axis"), list):
        kwargs["axis"] = tuple(kwargs["axis"])
    t, p = arrays[key + "_t"], arrays[key + "_p"]
    if case["kind"] == "fn":
        value = getattr(keras.losses, case["name"])(t, p, **kwargs)
    else:
        weight = arrays.get(key + "_w", case.get("weight"))
        loss = keras.losses.MeanSquaredError(reduction=case["reduction"])
        value = loss(t, p, sample_weight=weight)
    out[key] = np.asarray(value, dtype=np.float64)
np.savez(sys.argv[3], **out)
"""


def _loss_inputs(name):
    rng = np.random.default_rng(7)
    # Inputs in the loss's domain; MSLE's clamp at eps is checked on negative values too.
    real = BY_FUNCTION[name].domain == "real" or name == "mean_squared_logarithmic_error"
    low = -3.0 if real else 0.0
    t = rng.uniform(low, 3.0, size=(4, 3, 5)).astype(np.float32)
    p = rng.uniform(low, 3.0, size=(4, 3, 5)).astype(np.float32)
    if name == "mean_absolute_percentage_error":
        t[0, 0, 0] = 0.0
    return t, p


def _reduce_inputs(weight):
    rng = np.random.default_rng(3)
    t = rng.uniform(-3, 3, size=(4, 3, 2)).astype(np.float32)
    p = rng.uniform(-3, 3, size=(4, 3, 2)).astype(np.float32)
    if weight == "row":
        weight = rng.uniform(0, 2, size=(4, 3)).astype(np.float32)
    elif weight == "col":
        weight = rng.uniform(0, 2, size=(4, 1)).astype(np.float32)
    return t, p, weight


@pytest.fixture(scope="module")
def keras_values(tmp_path_factory):
    """Keras 3 (JAX backend, float32) values of every cross-check case, from a subprocess."""
    import importlib.util
    import json
    import subprocess
    import sys

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("keras with jax is not installed")
    work = tmp_path_factory.mktemp("keras_selfcheck")
    request, arrays = {}, {}
    for i, (name, kwargs) in enumerate(KERAS_LOSS_CASES):
        keras_kwargs = dict(kwargs)
        if name == "tversky":  # Keras 3.15.1 swaps alpha and beta
            keras_kwargs = dict(kwargs, alpha=kwargs.get("beta", 0.5), beta=kwargs.get("alpha", 0.5))
        key = f"fn{i}"
        request[key] = {"kind": "fn", "name": name, "kwargs": keras_kwargs}
        arrays[key + "_t"], arrays[key + "_p"] = _loss_inputs(name)
    for reduction in KERAS_REDUCTIONS:
        for j, weight in enumerate(KERAS_WEIGHTS):
            key = f"red_{reduction}_{j}"
            t, p, w = _reduce_inputs(weight)
            arrays[key + "_t"], arrays[key + "_p"] = t, p
            case = {"kind": "reduce", "reduction": reduction, "kwargs": {}}
            if isinstance(w, np.ndarray):
                arrays[key + "_w"] = w
            else:
                case["weight"] = w
            request[key] = case
    (work / "request.json").write_text(json.dumps(request))
    np.savez(work / "arrays.npz", **arrays)
    (work / "script.py").write_text(KERAS_SCRIPT)
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", KERAS_HOME=str(work))
    env.pop("JAX_ENABLE_X64", None)
    proc = subprocess.run(
        [
            sys.executable,
            str(work / "script.py"),
            str(work / "request.json"),
            str(work / "arrays.npz"),
            str(work / "out.npz"),
        ],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"keras subprocess failed:\n{proc.stderr[-3000:]}")
    return dict(np.load(work / "out.npz"))


@pytest.mark.parametrize("index", range(len(KERAS_LOSS_CASES)))
def test_reference_matches_keras(keras_values, index):
    name, kwargs = KERAS_LOSS_CASES[index]
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("axis"), list):
        kwargs["axis"] = tuple(kwargs["axis"])
    t, p = _loss_inputs(name)
    want = keras_values[f"fn{index}"]
    got = ref.REFERENCE_LOSSES[name](t, p, **kwargs)
    assert got.shape == want.shape
    assert np.all(np.isfinite(want))
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("reduction", KERAS_REDUCTIONS)
@pytest.mark.parametrize("weight_index", range(len(KERAS_WEIGHTS)))
def test_reduce_matches_keras(keras_values, reduction, weight_index):
    t, p, weight = _reduce_inputs(KERAS_WEIGHTS[weight_index])
    want = keras_values[f"red_{reduction}_{weight_index}"]
    got = call("mean_squared_error", t, p, weight, reduction=reduction)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
