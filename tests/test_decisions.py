"""One test per deliberate difference from Keras 3.15.1 (README, "where regloss does better").

Expected values are written out in float64 NumPy here, independently of regloss; the Keras side of
each difference is checked against Keras itself in test_keras_oracle.py.
"""

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import regloss
from regloss import losses
from tests._helpers import to_numpy

HAS_JAX = importlib.util.find_spec("jax") is not None
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (pip install -e '.[oracle]')")


def test_1_tversky_alpha_weights_false_positives(xp):
    y_true = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    y_pred = np.array([[0.9, 0.2, 0.7, 0.1], [0.3, 0.6, 0.0, 1.0]])
    alpha, beta = 0.2, 0.8
    tp = np.sum(y_true * y_pred, axis=-1)
    fp = np.sum((1 - y_true) * y_pred, axis=-1)
    fn = np.sum(y_true * (1 - y_pred), axis=-1)
    expected = 1 - tp / (tp + alpha * fp + beta * fn + 1e-7)
    got = losses.Tversky(alpha=alpha, beta=beta, axis=-1, reduction="none", dtype="float64")(
        xp.asarray(y_true), xp.asarray(y_pred)
    )
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-12)
    swapped = 1 - tp / (tp + alpha * fn + beta * fp + 1e-7)  # what Keras <= 3.15.1 computes
    assert not np.allclose(to_numpy(got), swapped)


@pytest.mark.parametrize(
    "loss",
    [
        losses.Huber(delta=2.5, reduction="sum", name="h", dtype="float64"),
        losses.CosineSimilarity(axis=0, reduction="none"),
        losses.Dice(axis=(1, 2), dtype="mixed_float16"),
        losses.Tversky(alpha=0.3, beta=0.7, axis=-1, reduction="mean_with_sample_weight"),
    ],
    ids=repr,
)
def test_2_configs_hold_every_constructor_argument(loss):
    config = loss.get_config()
    again = type(loss).from_config(config)
    assert again.get_config() == config
    for attribute in ("name", "reduction", "dtype"):
        assert getattr(again, attribute) == getattr(loss, attribute)
    assert config["name"] == loss.name


def test_2_huber_delta_survives_a_round_trip():
    y_true, y_pred = np.array([[0.0, 0.0]]), np.array([[3.0, 1.0]])
    loss = losses.Huber(delta=2.0, dtype="float64")
    reloaded = losses.deserialize(losses.serialize(loss))
    # delta 2: 3 -> 2*3 - 2 = 4, 1 -> 0.5; mean 2.25. With delta 1 it would be (2.5 + 0.5) / 2 = 1.5.
    assert float(reloaded(y_true, y_pred)) == pytest.approx(2.25, rel=1e-12)


@pytest.mark.parametrize("delta", [0, 0.0, -1.0, float("nan"), float("inf"), -float("inf")])
def test_3_huber_delta_must_be_finite_and_positive(delta):
    with pytest.raises(ValueError, match="delta"):
        losses.Huber(delta=delta)
    with pytest.raises(ValueError, match="delta"):
        losses.huber([[0.0]], [[1.0]], delta=delta)


@needs_jax
def test_3_traced_delta_is_not_inspected():
    import jax
    import jax.numpy as jnp

    y_true, y_pred = jnp.asarray([[0.0, 0.0]]), jnp.asarray([[3.0, 1.0]])
    result = jax.jit(lambda d: losses.Huber(delta=d)(y_true, y_pred))(jnp.float32(2.0))
    assert float(result) == pytest.approx(2.25, rel=1e-6)


def test_4_shapes_must_match_after_reconciliation(xp):
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        losses.MeanSquaredError()(xp.ones((3,)), xp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        losses.mean_squared_error(xp.ones((3,)), xp.ones((2, 3)))
    # The reconciliation itself still works: (3,) against (3, 1) is one shape (3, 1).
    result = losses.mean_absolute_error(xp.ones((3,)), xp.zeros((3, 1)))
    assert result.shape == (3,)


def test_5_float16_computes_in_float32_inside():
    # Errors of 300 square to 90000, over float16's maximum 65504, but their mean fits.
    y_true = np.zeros((1, 4), dtype="float16")
    y_pred = np.array([[300.0, 0.0, 0.0, 0.0]], dtype="float16")
    mse = losses.MeanSquaredError(dtype="float16")(y_true, y_pred)
    assert mse.dtype == np.float16
    assert float(mse) == pytest.approx(22500.0, rel=1e-3)
    # log(cosh(-60000)) = 60000 - log 2 (Keras's x + softplus(-2x) overflows in float16).
    logcosh = losses.LogCosh(dtype="float16")([[0.0]], [[-60000.0]])
    assert float(logcosh) == pytest.approx(60000 - np.log(2), rel=1e-3)
    # The cosine of a zero vector is -0.0, not NaN (Keras's 1/eps floor overflows in float16).
    cosine = losses.CosineSimilarity(dtype="float16")([[0.0, 0.0]], [[1.0, 2.0]])
    assert float(cosine) == 0.0


def test_5_functional_float16_keeps_its_dtype():
    y_true = np.zeros((2, 4), dtype="float16")
    y_pred = np.full((2, 4), 200.0, dtype="float16")
    result = losses.mean_squared_error(y_true, y_pred)
    assert result.dtype == np.float16
    np.testing.assert_allclose(result.astype("float64"), [40000.0, 40000.0], rtol=1e-3)


def test_6_weights_never_change_the_losses_shape(xp):
    y_true, y_pred = xp.asarray([[0.0, 1.0], [0.0, 0.0]]), xp.asarray([[1.0, 1.0], [1.0, 0.0]])
    per_sample = losses.MeanSquaredError(reduction="none")(y_true, y_pred, xp.asarray([[2.0], [4.0]]))
    assert per_sample.shape == (2,)
    np.testing.assert_allclose(to_numpy(per_sample), [1.0, 2.0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2, 2\).*\(2,\)"):
        losses.MeanSquaredError()(y_true, y_pred, sample_weight=xp.ones((2, 2)))
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2,\).*\(\)"):
        losses.Dice()(y_true, y_pred, sample_weight=xp.asarray([1.0, 3.0]))


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"])
def test_7_nan_in_masked_rows_never_leaks(xp, reduction):
    y_true = np.array([[1.0, 2.0], [np.nan, np.inf], [3.0, 5.0]])
    y_pred = np.array([[1.5, 2.0], [0.0, 1.0], [3.0, 4.0]])
    mask = np.array([True, False, True])
    loss = losses.MeanSquaredError(reduction=reduction, dtype="float64")
    got = to_numpy(loss(xp.asarray(y_true), xp.asarray(y_pred), mask=xp.asarray(mask)))
    assert np.all(np.isfinite(got))
    per_sample = np.array([0.125, 0.0, 0.5])
    expected = {
        "sum_over_batch_size": 0.625 / 2,
        "sum": 0.625,
        "mean_with_sample_weight": 0.625 / 2,
        "none": per_sample,
    }[reduction]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_7_zero_weight_multiplies_like_keras():
    y_true = np.array([[1.0], [np.nan]])
    y_pred = np.array([[1.5], [0.0]])
    result = losses.MeanSquaredError()(y_true, y_pred, sample_weight=[1.0, 0.0])
    assert np.isnan(float(result))


@needs_jax
def test_7_and_8_gradients_are_finite():
    import jax
    import jax.numpy as jnp

    y_true = jnp.asarray([[1.0, 2.0], [jnp.nan, 1.0]])
    mask = jnp.asarray([True, False])
    for loss in (losses.MeanSquaredError(), losses.LogCosh(), losses.MeanSquaredLogarithmicError()):
        grad = jax.grad(lambda p, loss=loss: loss(y_true, p, mask=mask))(jnp.ones((2, 2)))
        assert bool(jnp.all(jnp.isfinite(grad))), type(loss).__name__
    zero = jnp.zeros((1, 3))
    grad = jax.grad(lambda p: losses.CosineSimilarity()(jnp.ones((1, 3)), p))(zero)
    assert bool(jnp.all(jnp.isfinite(grad)))


def test_8_cosine_normalisation_floor(xp):
    # |[1e-8, 0]| is below eps = 1e-7: it is divided by eps, not by its norm (Keras's value, -0.1).
    got = losses.cosine_similarity(xp.asarray([[1e-8, 0.0]]), xp.asarray([[1.0, 0.0]]))
    np.testing.assert_allclose(to_numpy(got), [-0.1], rtol=1e-5)
    zero = losses.cosine_similarity(xp.asarray([[0.0, 0.0]]), xp.asarray([[1.0, 0.0]]))
    assert to_numpy(zero)[0] == 0.0


@pytest.fixture
def restore_config():
    yield
    regloss.config.set_epsilon(1e-7)
    regloss.config.set_floatx("float32")


def test_9_epsilon_and_floatx_are_read_at_call_time(restore_config):
    loss = losses.MeanAbsolutePercentageError()
    before = float(loss([[0.0]], [[1.0]]))
    assert before == pytest.approx(100 / 1e-7, rel=1e-6)
    regloss.config.set_epsilon(1e-3)
    assert float(loss([[0.0]], [[1.0]])) == pytest.approx(100 / 1e-3, rel=1e-6)
    regloss.config.set_floatx("float64")
    assert losses.mean_squared_error([[1, 2]], [[0, 0]]).dtype == np.float64
    assert losses.MeanSquaredError().dtype == "float64"


def test_empty_and_rank_0_inputs_are_errors(xp):
    for shape in [(0,), (2, 0)]:
        with pytest.raises(ValueError, match=r"shape \((0,|2, 0)\)"):
            losses.MeanSquaredError()(xp.ones(shape), xp.ones(shape))
    with pytest.raises(ValueError, match=r"shape \(\)"):
        losses.mean_squared_error(xp.asarray(1.0), xp.asarray(2.0))


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight"])
def test_empty_batch_reduces_to_zero(xp, reduction):
    result = losses.MeanSquaredError(reduction=reduction)(xp.ones((0, 3)), xp.ones((0, 3)))
    assert result.shape == ()
    assert float(result) == 0.0
    per_sample = losses.MeanSquaredError(reduction="none")(xp.ones((0, 3)), xp.ones((0, 3)))
    assert per_sample.shape == (0,)


def test_element_mask_averages_present_outputs(xp):
    y_true = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y_pred = np.array([[2.0, 2.0, 5.0], [9.0, 9.0, 9.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    per_sample = losses.MeanSquaredError(reduction="none", dtype="float64")(
        xp.asarray(y_true), xp.asarray(y_pred), mask=xp.asarray(mask)
    )
    np.testing.assert_allclose(to_numpy(per_sample), [(1 + 4) / 2, 0.0], rtol=1e-12)
    mean = losses.MeanSquaredError(dtype="float64")(y_true, y_pred, mask=mask.astype("int32"))
    assert float(mean) == pytest.approx(2.5, rel=1e-12)  # the second sample counts as masked


def test_keras_mask_is_honoured():
    if importlib.util.find_spec("keras") is None or not HAS_JAX:
        pytest.skip("keras and jax are needed (pip install -e '.[oracle]')")
    script = textwrap.dedent(
        """
        import jax.numpy as jnp
        import keras
        from keras.src.backend import set_keras_mask
        from regloss import losses
        y_true = jnp.asarray([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
        y_pred = jnp.asarray([[0.0, 1.0], [5.0, 5.0], [2.0, 4.0]])
        set_keras_mask(y_pred, jnp.asarray([True, False, True]))
        print(float(losses.MeanSquaredError()(y_true, y_pred)))
        print(float(losses.MeanSquaredError()(y_true, y_pred, mask=jnp.asarray([True, True, False]))))
        """
    )
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    with_tmp_home = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=dict(env, KERAS_HOME=str(os.path.join(os.environ.get("TMPDIR", "/tmp"), "regloss-keras"))),
        check=True,
    )
    keras_only, combined = (float(line) for line in with_tmp_home.stdout.split())
    assert keras_only == pytest.approx((0.5 + 2.0) / 2)  # rows 0 and 2
    assert combined == pytest.approx(0.5)  # row 0 only: the two masks are combined with AND


def test_a_subclass_call_overrides_the_formula(xp):
    class DoubledSquaredError(losses.MeanSquaredError):
        def call(self, y_true, y_pred):
            return 2 * losses.mean_squared_error(y_true, y_pred)

    y_true, y_pred = xp.asarray([[0.0, 1.0], [0.0, 0.0]]), xp.asarray([[1.0, 1.0], [1.0, 0.0]])
    assert float(DoubledSquaredError()(y_true, y_pred)) == pytest.approx(1.0)  # 2 * mean([0.5, 0.5])


def test_keras_style_mask_without_the_last_axis(xp):
    # A Masking layer gives (batch, timesteps) for (batch, timesteps, features) inputs.
    rng = np.random.default_rng(5)
    y_true, y_pred = rng.random((2, 3, 4)), rng.random((2, 3, 4))
    timesteps = np.array([[True, True, False], [True, False, False]])
    got = losses.Dice(dtype="float64")(xp.asarray(y_true), xp.asarray(y_pred), mask=xp.asarray(timesteps))
    t, p = y_true[timesteps], y_pred[timesteps]
    want = 1 - 2 * np.sum(t * p) / (np.sum(t) + np.sum(p) + 1e-7)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)


def test_numpy_scalar_hyper_parameters_on_other_libraries(xp):
    y_true, y_pred = xp.asarray([[0.0, 0.0]]), xp.asarray([[3.0, 1.0]])
    got = losses.huber(y_true, y_pred, delta=np.float32(2.0))
    np.testing.assert_allclose(to_numpy(got), [2.25], rtol=1e-6)
    got = losses.tversky(y_true, y_pred, alpha=np.float64(0.25), beta=np.float32(0.75), axis=-1)
    assert to_numpy(got).shape == (1,)


def test_rank_0_error_names_the_argument():
    with pytest.raises(ValueError, match="y_true must have at least one axis"):
        losses.mean_squared_error(1.0, [2.0])
