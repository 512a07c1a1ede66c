"""Every example of the five seed documents (../shared/seeds) as a test.

Printed values are compared at float32 tolerance; the formulas of seeds 000 and 001 are compared
with the seed's own float64 NumPy expression at rtol 1e-12.
"""

import inspect

import numpy as np
import pytest

import regloss
from regloss import losses
from tests._cases import CLASS_NAMES
from tests._helpers import library_of, to_numpy

FLOAT32 = {"rel": 1e-6, "abs": 1e-7}
CLOSE32 = {"rtol": 1e-6, "atol": 1e-7}


# ---------------------------------------------------------------- seed 000: tf.keras.losses.MSLE


@pytest.mark.parametrize("function", [losses.MSLE, losses.msle, losses.mean_squared_logarithmic_error])
@pytest.mark.parametrize("namespace", [regloss.losses, regloss.metrics])
def test_seed_000_msle_formula(function, namespace):
    assert getattr(namespace, function.__name__) is function
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(2, 3))
    y_pred = rng.random(size=(2, 3))
    loss = function(y_true, y_pred)
    assert loss.shape == (2,)
    y_true = np.maximum(y_true, 1e-7)
    y_pred = np.maximum(y_pred, 1e-7)
    expected = np.mean(np.square(np.log(y_true + 1.0) - np.log(y_pred + 1.0)), axis=-1)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_seed_000_msle_aliases_in_metrics():
    for name in ("MSLE", "msle", "mean_squared_logarithmic_error"):
        assert getattr(regloss.metrics, name) is losses.mean_squared_logarithmic_error


# ----------------------------------------------------------------- seed 001: tf.keras.losses.MSE


@pytest.mark.parametrize("name", ["MSE", "mse", "mean_squared_error"])
def test_seed_001_mse_formula(xp, name):
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, size=(2, 3))
    y_pred = rng.random(size=(2, 3))
    loss = getattr(regloss.metrics, name)(xp.asarray(y_true), xp.asarray(y_pred))
    assert library_of(loss) == xp.__name__.split(".")[0]
    assert loss.shape == (2,)
    expected = np.mean(np.square(y_true - y_pred), axis=-1)
    np.testing.assert_allclose(to_numpy(loss), expected, rtol=1e-12)


# ------------------------------------------------------ seed 002: tf.keras.losses.MeanSquaredError

Y_TRUE_002 = [[0.0, 1.0], [0.0, 0.0]]
Y_PRED_002 = [[1.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("reduction", ["auto", "sum_over_batch_size", regloss.Reduction.AUTO])
def test_seed_002_default_and_auto(xp, reduction):
    mse = losses.MeanSquaredError(reduction=reduction)
    result = mse(xp.asarray(Y_TRUE_002), xp.asarray(Y_PRED_002))
    assert result.shape == ()
    assert float(result) == pytest.approx(0.5, **FLOAT32)
    assert float(mse(Y_TRUE_002, Y_PRED_002, sample_weight=[0.7, 0.3])) == pytest.approx(0.25, **FLOAT32)


def test_seed_002_sum_and_none(xp):
    y_true, y_pred = xp.asarray(Y_TRUE_002), xp.asarray(Y_PRED_002)
    total = losses.MeanSquaredError(reduction=regloss.Reduction.SUM)(y_true, y_pred)
    assert float(total) == pytest.approx(1.0, **FLOAT32)
    per_sample = losses.MeanSquaredError(reduction=regloss.Reduction.NONE)(y_true, y_pred)
    assert per_sample.shape == (2,)
    assert str(per_sample.dtype).endswith("float32")
    np.testing.assert_allclose(to_numpy(per_sample), [0.5, 0.5], **CLOSE32)


def test_seed_002_signature_and_config():
    mse = losses.MeanSquaredError()
    assert mse.name == "mean_squared_error"
    config = mse.get_config()
    assert config == {"name": "mean_squared_error", "reduction": "sum_over_batch_size"}
    again = losses.MeanSquaredError.from_config(config)
    assert again.get_config() == config
    auto = losses.MeanSquaredError(reduction="auto")
    assert auto.get_config()["reduction"] == "sum_over_batch_size"


# ----------------------------------------------------- seed 003: the Keras 3 regression-loss page

SIGNATURES_003 = {
    "MeanSquaredError": "(reduction='sum_over_batch_size', name='mean_squared_error', dtype=None)",
    "MeanAbsoluteError": "(reduction='sum_over_batch_size', name='mean_absolute_error', dtype=None)",
    "MeanAbsolutePercentageError": (
        "(reduction='sum_over_batch_size', name='mean_absolute_percentage_error', dtype=None)"
    ),
    "MeanSquaredLogarithmicError": (
        "(reduction='sum_over_batch_size', name='mean_squared_logarithmic_error', dtype=None)"
    ),
    "CosineSimilarity": "(axis=-1, reduction='sum_over_batch_size', name='cosine_similarity', dtype=None)",
    "Huber": "(delta=1.0, reduction='sum_over_batch_size', name='huber_loss', dtype=None)",
    "LogCosh": "(reduction='sum_over_batch_size', name='log_cosh', dtype=None)",
    "Tversky": (
        "(alpha=0.5, beta=0.5, reduction='sum_over_batch_size', name='tversky', axis=None, dtype=None)"
    ),
    "Dice": "(reduction='sum_over_batch_size', name='dice', axis=None, dtype=None)",
}
# Keras 3's regression losses the seed page does not list, with the signatures issue 21 gives.
SIGNATURES_LATER = {
    "Poisson": "(reduction='sum_over_batch_size', name='poisson', dtype=None)",
    # issue 22 item 4: TF Addons' and torch's training losses, their own parameters first
    "Pinball": "(tau=0.5, reduction='sum_over_batch_size', name='pinball', dtype=None)",
    "SmoothL1": "(beta=1.0, reduction='sum_over_batch_size', name='smooth_l1', dtype=None)",
    "PoissonNLL": (
        "(log_input=True, full=False, eps=1e-08, reduction='sum_over_batch_size', "
        "name='poisson_nll', dtype=None)"
    ),
}


def test_every_loss_of_the_test_table_has_its_signature_checked():
    assert sorted({**SIGNATURES_003, **SIGNATURES_LATER}) == sorted(CLASS_NAMES)


@pytest.mark.parametrize("class_name", CLASS_NAMES)
def test_seed_003_signatures_and_default_names(class_name):
    cls = getattr(losses, class_name)
    assert str(inspect.signature(cls)) == {**SIGNATURES_003, **SIGNATURES_LATER}[class_name]
    instance = cls()
    assert instance.name == inspect.signature(cls).parameters["name"].default
    assert instance.reduction == "sum_over_batch_size"
    assert instance.dtype == "float32"


DICE_TRUE = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
DICE_PRED = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]


def test_seed_003_dice_lists():
    loss = losses.Dice(axis=(1, 2, 3), reduction=None)(DICE_TRUE, DICE_PRED)
    assert loss.shape == (2,)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss, [0.5, 0.75757575], **CLOSE32)
    loss = losses.Dice()(DICE_TRUE, DICE_PRED)
    assert loss.shape == ()
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss, 0.6164384, **CLOSE32)


def test_seed_003_dice_arrays(xp):
    y_true, y_pred = xp.asarray(np.array(DICE_TRUE)), xp.asarray(np.array(DICE_PRED))
    loss = losses.Dice(axis=(1, 2, 3), reduction=None)(y_true, y_pred)
    assert loss.shape == (2,)
    np.testing.assert_allclose(to_numpy(loss), [0.5, 0.75757575], **CLOSE32)


def test_seed_003_dice_is_tversky_at_one_half():
    # The page: "With alpha=0.5 and beta=0.5, the loss value becomes equivalent to Dice Loss."
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, size=(4, 5)).astype("float64")
    y_pred = rng.random((4, 5))
    np.testing.assert_allclose(
        losses.tversky(y_true, y_pred, axis=-1), losses.dice(y_true, y_pred, axis=-1), rtol=1e-6
    )


def test_seed_003_formulas_from_the_page():
    # Each class's documented formula, evaluated independently in float64.
    y_true = np.array([[0.5, 2.0, -1.0], [3.0, 0.25, 1.0]])
    y_pred = np.array([[1.0, 1.5, -0.5], [2.0, 0.5, 4.0]])
    error = y_pred - y_true
    expected = {
        losses.MeanSquaredError: np.mean(np.square(y_true - y_pred)),
        losses.MeanAbsoluteError: np.mean(np.abs(y_true - y_pred)),
        losses.MeanAbsolutePercentageError: 100 * np.mean(np.abs((y_true - y_pred) / y_true)),
        losses.LogCosh: np.mean(np.log((np.exp(error) + np.exp(-error)) / 2)),
        losses.Huber: np.mean(np.where(np.abs(error) <= 1.0, 0.5 * error**2, np.abs(error) - 0.5)),
    }
    for cls, value in expected.items():
        np.testing.assert_allclose(cls(dtype="float64")(y_true, y_pred), value, rtol=1e-12)


# ------------------------------------------- seed 004: tf.compat.v1.losses.mean_squared_error


def test_seed_004_keras_mapping():
    # The "After" example of the migration table: Keras MeanSquaredError, SUM_OVER_BATCH_SIZE.
    mse = losses.MeanSquaredError(reduction=regloss.Reduction.SUM_OVER_BATCH_SIZE)
    result = mse(y_true=[[1.0], [2.0], [3.0]], y_pred=[[1.0], [3.0], [5.0]], sample_weight=[1, 1, 0.25])
    assert float(result) == pytest.approx(0.66667, abs=5e-6)


@pytest.mark.parametrize(("reduction", "expected"), [(None, 1.0), ("weighted_sum_over_batch_size", 0.66667)])
def test_seed_004_tf1_examples(reduction, expected):
    compat = pytest.importorskip(
        "regloss.compat.v1.losses", reason="regloss.compat (TF1 semantics) is the subject of issue 12"
    )
    kwargs = {} if reduction is None else {"reduction": reduction}
    result = compat.mean_squared_error(
        labels=[1, 2, 3], predictions=[1, 3, 5], weights=[0, 1, 0.25], **kwargs
    )
    assert float(result) == pytest.approx(expected, abs=5e-6)
