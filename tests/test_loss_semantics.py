"""Keras 3.15.1's fitting of masks and weights to the losses a ``call`` returns (issue 21's
semantics 1 and 4), against Keras itself and against float64 values written out here.

Keras's own ``keras/src/losses/loss_test.py`` cases (an elementwise ``call``, a Keras mask, a mask
with a sample weight, the rank adjustments) are reproduced with ``mask=``; Keras's answers for them
and for a batch of one with a scalar weight come from a Keras subprocess (numpy backend).
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from regloss import losses
from tests._helpers import to_numpy

Y_TRUE = np.array([1.0, 0.0, 1.0, 0.0])
Y_PRED = np.array([0.1, 0.2, 0.3, 0.4])
MASK = np.array([True, False, True, True])
WEIGHT = np.array([0.4, 0.3, 0.2, 0.1])


class ElementwiseSquares(losses.Loss):
    """Keras's ``ExampleLoss``: no axis reduced."""

    def call(self, y_true, y_pred):
        return (y_true - y_pred) ** 2


def _masked_mean(weight=None):
    squares = (Y_TRUE - Y_PRED) ** 2
    weighted = squares if weight is None else squares * weight
    return float(np.sum(weighted[MASK]) / MASK.sum())


def test_elementwise_call_with_a_mask(xp):
    loss = ElementwiseSquares()
    got = loss(xp.asarray(Y_TRUE), xp.asarray(Y_PRED), mask=xp.asarray(MASK))
    assert to_numpy(got).dtype == np.float32
    np.testing.assert_allclose(to_numpy(got), _masked_mean(), rtol=1e-6)
    everything_masked = loss(xp.asarray(Y_TRUE), xp.asarray(Y_PRED), mask=xp.asarray(np.zeros(4, bool)))
    assert float(to_numpy(everything_masked)) == 0.0  # no NaN


def test_elementwise_call_with_a_mask_and_a_sample_weight(xp):
    got = ElementwiseSquares()(
        xp.asarray(Y_TRUE), xp.asarray(Y_PRED), xp.asarray(WEIGHT), mask=xp.asarray(MASK)
    )
    np.testing.assert_allclose(to_numpy(got), _masked_mean(WEIGHT), rtol=1e-6)


@pytest.mark.parametrize("uprank", ["mask", "sample_weight", "ys"])
def test_rank_adjustment(xp, uprank):
    y_true, y_pred, mask, weight = Y_TRUE, Y_PRED, MASK, WEIGHT
    if uprank == "mask":
        mask = mask[:, None]
    elif uprank == "sample_weight":
        weight = weight[:, None]
    else:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    got = ElementwiseSquares()(
        xp.asarray(y_true), xp.asarray(y_pred), xp.asarray(weight), mask=xp.asarray(mask)
    )
    np.testing.assert_allclose(to_numpy(got), _masked_mean(WEIGHT), rtol=1e-6)


def test_a_mask_that_fits_neither_the_losses_nor_the_inputs_is_refused():
    with pytest.raises(ValueError, match="mask"):
        ElementwiseSquares()(Y_TRUE, Y_PRED, mask=np.ones(3, bool))


REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none"]

_KERAS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    from keras import ops
    from keras.src import backend

    class ExampleLoss(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred) ** 2

    y_true = np.array([1.0, 0.0, 1.0, 0.0]); y_pred = np.array([0.1, 0.2, 0.3, 0.4])
    mask = np.array([True, False, True, True]); weight = np.array([0.4, 0.3, 0.2, 0.1])
    out = {}
    for uprank in ["none", "mask", "sample_weight", "ys"]:
        t, p, m, w = y_true, y_pred, mask, weight
        if uprank == "mask": m = m[:, None]
        elif uprank == "sample_weight": w = w[:, None]
        elif uprank == "ys": t, p = t[:, None], p[:, None]
        p = ops.convert_to_tensor(p); backend.set_keras_mask(p, ops.convert_to_tensor(m))
        out["mask_weight_" + uprank] = float(ExampleLoss()(ops.convert_to_tensor(t), p, sample_weight=w))
    p = ops.convert_to_tensor(y_pred); backend.set_keras_mask(p, ops.convert_to_tensor(mask))
    out["mask"] = float(ExampleLoss()(ops.convert_to_tensor(y_true), p))
    for reduction in %(reductions)s:
        for name in ["MeanSquaredError", "Huber", "Poisson"]:
            value = getattr(keras.losses, name)(reduction=reduction)(
                np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]]), sample_weight=2.0)
            value = np.asarray(value)
            out[f"one_{name}_{reduction}"] = [value.tolist(), list(value.shape)]
    json.dump(out, sys.stdout)
    """
)


@pytest.fixture(scope="module")
def keras_values(tmp_path_factory):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras is the oracle: pip install -e '.[oracle]'")
    env = {**os.environ, "KERAS_BACKEND": "numpy", "KERAS_HOME": str(tmp_path_factory.mktemp("keras"))}
    script = _KERAS_SCRIPT % {"reductions": REDUCTIONS}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("uprank", ["none", "mask", "sample_weight", "ys"])
def test_masks_and_weights_match_keras(keras_values, uprank):
    y_true, y_pred, mask, weight = Y_TRUE, Y_PRED, MASK, WEIGHT
    if uprank == "mask":
        mask = mask[:, None]
    elif uprank == "sample_weight":
        weight = weight[:, None]
    elif uprank == "ys":
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    got = ElementwiseSquares()(y_true, y_pred, weight, mask=mask)
    # Keras divides by the present count + 1e-7 (its apply_mask), hence the tolerance
    np.testing.assert_allclose(float(got), keras_values[f"mask_weight_{uprank}"], rtol=1e-6)
    assert float(ElementwiseSquares()(Y_TRUE, Y_PRED, mask=MASK)) == pytest.approx(
        keras_values["mask"], rel=1e-6
    )


@pytest.mark.parametrize("name", ["MeanSquaredError", "Huber", "Poisson"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_a_batch_of_one_with_a_scalar_weight_matches_keras(xp, keras_values, name, reduction):
    """Keras squeezes the (1,) losses to the scalar weight's rank: one 0-d loss, v * w, returned as
    it is by every reduction (``mean_with_sample_weight`` included: 5.0 for MSE, not 5.0 / 2)."""
    want, want_shape = keras_values[f"one_{name}_{reduction}"]
    got = getattr(losses, name)(reduction=reduction)(
        xp.asarray(np.array([[1.0, 2.0]], dtype="float32")),
        xp.asarray(np.array([[2.0, 4.0]], dtype="float32")),
        sample_weight=2.0,
    )
    assert tuple(got.shape) == tuple(want_shape) == ()
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6)
    if name == "MeanSquaredError":  # the float64 value, written out: ((1 + 4) / 2) * 2
        assert float(to_numpy(got)) == 5.0


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_a_per_sample_mask_over_an_empty_reduced_axis_keeps_its_samples(reduction):
    """Tversky and Dice reduced over an empty axis 0 of a (0, 1) batch give one per-sample loss,
    1 - 0 / (0 + eps) = 1; a per-sample mask [True] keeps it (an element mask over no elements
    carries no per-sample information), [False] drops it, as Keras's mask arithmetic does."""
    empty = np.zeros((0, 1), dtype="float32")
    for loss in (losses.Tversky(axis=0, reduction=reduction), losses.Dice(axis=0, reduction=reduction)):
        unmasked = np.asarray(loss(empty, empty))
        kept = np.asarray(loss(empty, empty, mask=np.array([True])))
        dropped = np.asarray(loss(empty, empty, mask=np.array([False])))
        np.testing.assert_allclose(unmasked, np.ones_like(unmasked))
        np.testing.assert_array_equal(kept, unmasked)
        np.testing.assert_array_equal(dropped, np.zeros_like(unmasked))
