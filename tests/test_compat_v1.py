"""regloss.compat.v1.losses: TF1 semantics, each edge case of tf1_losses.md section 6, bad inputs,
collections and contextvars. References are float64 NumPy, written here; values verified on TF 2.21."""

import asyncio
import contextvars
import threading

import numpy as np
import pytest

import regloss
from regloss.compat import keras2
from regloss.compat.v1 import losses as v1
from regloss.compat.v1 import name_scope
from tests._helpers import library_of, to_numpy

LOSS_FUNCTIONS = ["mean_squared_error", "absolute_difference", "huber_loss", "log_loss"]


def _f32(xp, value):
    return xp.asarray(np.asarray(value, dtype=np.float32))


# ------------------------------------------------------------------------------------- seeds


@pytest.mark.parametrize(("reduction", "expected"), [(None, 1.0), ("weighted_sum_over_batch_size", 2 / 3)])
def test_seed_004(xp, reduction, expected):
    kwargs = {} if reduction is None else {"reduction": reduction}
    result = v1.mean_squared_error(
        labels=_f32(xp, [1, 2, 3]), predictions=_f32(xp, [1, 3, 5]), weights=_f32(xp, [0, 1, 0.25]), **kwargs
    )
    assert library_of(result) == library_of(xp.asarray(0.0))
    assert float(to_numpy(result)) == pytest.approx(expected, abs=5e-6)


def test_seed_004_table_with_sum_by_nonzero_weights():
    """The migration table: TF1 reduction -> number, for the seed's example."""
    labels, predictions, weights = [1, 2, 3], [1, 3, 5], [0, 1, 0.25]
    expected = {
        v1.Reduction.NONE: [0.0, 1.0, 1.0],
        v1.Reduction.SUM: 2.0,
        v1.Reduction.MEAN: 2 / 1.25,
        v1.Reduction.SUM_OVER_BATCH_SIZE: 2 / 3,
        v1.Reduction.SUM_BY_NONZERO_WEIGHTS: 1.0,
    }
    for reduction, value in expected.items():
        got = v1.mean_squared_error(labels, predictions, weights, reduction=reduction)
        np.testing.assert_allclose(got, value, rtol=1e-6)


# ----------------------------------------------------------------- section 6 edge cases


def test_default_reduction_counts_nonzero_weights_after_broadcasting(xp):
    losses = _f32(xp, [[1, 2, 3], [4, 5, 6]])
    got = v1.compute_weighted_loss(losses, weights=_f32(xp, [[1.2], [0.0]]))
    np.testing.assert_allclose(to_numpy(got), 1.2 * 6 / 3, rtol=1e-6)
    negative = v1.compute_weighted_loss(losses, weights=_f32(xp, [[1.0], [-1.0]]))
    np.testing.assert_allclose(to_numpy(negative), (6 - 15) / 6, rtol=1e-6)


def test_sum_over_batch_size_divides_by_the_element_count(xp):
    losses = _f32(xp, [[1, 2, 3], [4, 5, 6]])
    weights = _f32(xp, [[1.2], [0.0]])
    got = v1.compute_weighted_loss(losses, weights, reduction=v1.Reduction.SUM_OVER_BATCH_SIZE)
    np.testing.assert_allclose(to_numpy(got), 1.2 * 6 / 6, rtol=1e-6)


def test_cosine_sum_over_batch_size_counts_vectors(xp):
    ones = _f32(xp, np.ones((3, 2, 3)))
    got = v1.cosine_distance(ones, ones, axis=2, reduction=v1.Reduction.SUM_OVER_BATCH_SIZE)
    np.testing.assert_allclose(to_numpy(got), -2.0)  # 6 vectors of 1 - 3; no normalisation


@pytest.mark.parametrize("reduction", ["weighted_mean", "weighted_sum_by_nonzero_weights"])
def test_zero_denominator_gives_zero(xp, reduction):
    losses = _f32(xp, [[7.0], [70.0]])
    zero = v1.compute_weighted_loss(losses, weights=_f32(xp, [[0.0], [0.0]]), reduction=reduction)
    assert float(to_numpy(zero)) == 0.0
    empty = v1.compute_weighted_loss(_f32(xp, np.zeros((0, 3))), reduction=v1.Reduction.SUM_OVER_BATCH_SIZE)
    assert float(to_numpy(empty)) == 0.0


def test_mean_with_weights_summing_to_zero_gives_zero(xp):
    losses = _f32(xp, [[7.0], [84.0]])
    weights = _f32(xp, [[1.0], [-1.0]])
    assert float(to_numpy(v1.compute_weighted_loss(losses, weights, reduction="weighted_sum"))) == -77.0
    assert float(to_numpy(v1.compute_weighted_loss(losses, weights, reduction="weighted_mean"))) == 0.0


@pytest.mark.parametrize("weights_shape", [(2,), (3,), (2, 3, 1), (1, 2), (3, 3)])
def test_weights_must_be_scalar_or_same_rank(xp, weights_shape):
    labels = _f32(xp, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        v1.mean_squared_error(labels, labels, weights=_f32(xp, np.ones(weights_shape)))


@pytest.mark.parametrize("weights_shape", [(), (1, 1), (2, 1), (1, 3), (2, 3)])
def test_allowed_weight_shapes(xp, weights_shape):
    labels, predictions = np.zeros((2, 3)), np.arange(6.0).reshape(2, 3)
    weights = np.full(weights_shape, 2.0)
    got = v1.mean_squared_error(_f32(xp, labels), _f32(xp, predictions), _f32(xp, weights), reduction="none")
    np.testing.assert_allclose(to_numpy(got), 2.0 * predictions**2)
    assert to_numpy(got).shape == (2, 3)


def test_regression_losses_return_float32(xp):
    labels = xp.asarray(np.asarray([0.0, 1.0], dtype=np.float64))
    for name in LOSS_FUNCTIONS:
        assert to_numpy(getattr(v1, name)(labels, labels)).dtype == np.float32
    ints = xp.asarray(np.asarray([1, 2, 4], dtype=np.int32))
    result = v1.compute_weighted_loss(ints)
    assert to_numpy(result).dtype == np.int32 and int(to_numpy(result)) == 2  # 7 / 3 truncated
    assert to_numpy(v1.compute_weighted_loss(xp.asarray(np.ones(2)))).dtype == np.float64


@pytest.mark.parametrize(
    ("predictions_shape", "labels_shape", "message"),
    [
        ((2, 1), (2,), r"Shapes \(2, 1\) and \(2,\) are incompatible"),
        ((3, 2), (2, 3), r"\(3, 2\) and \(2, 3\)"),
    ],
)
def test_shapes_must_match_without_broadcasting(xp, predictions_shape, labels_shape, message):
    for name in [*LOSS_FUNCTIONS, "mean_pairwise_squared_error"]:
        with pytest.raises(ValueError, match=message):
            getattr(v1, name)(_f32(xp, np.zeros(labels_shape)), _f32(xp, np.zeros(predictions_shape)))


def test_cosine_distance_edge_cases(xp):
    labels = _f32(xp, np.ones((3, 2, 3)))
    assert to_numpy(v1.cosine_distance(labels, labels, axis=2, reduction="none")).shape == (3, 2, 1)
    assert float(to_numpy(v1.cosine_distance(labels, labels, axis=-1))) == -2.0  # negative axis, no norm
    for weights in (np.ones((3, 2, 1)), np.ones((3, 1, 1)), 2.0):
        weights = weights if np.isscalar(weights) else _f32(xp, weights)
        v1.cosine_distance(labels, labels, axis=2, weights=weights)
    with pytest.raises(ValueError, match="Mismatch at dim 2"):
        v1.cosine_distance(labels, labels, axis=2, weights=_f32(xp, np.ones((3, 2, 3))))
    with pytest.raises(ValueError, match="You must specify argument `axis`"):
        v1.cosine_distance(labels, labels)
    with pytest.raises(ValueError, match="Cannot specify both 'dim' and 'axis'"):
        v1.cosine_distance(labels, labels, axis=2, dim=2)
    with pytest.warns(DeprecationWarning):
        assert float(to_numpy(v1.cosine_distance(labels, labels, dim=2))) == -2.0
    # a list of axes works as TF eager (TF graph mode rejects it)
    unit = _f32(xp, [[[0.6, 0.8], [0.0, 0.0]]])
    got = v1.cosine_distance(unit, unit, axis=[1, 2], reduction="none")
    np.testing.assert_allclose(to_numpy(got), [[[0.0]]], atol=1e-6)


def _pairwise_reference(labels, predictions, weights=1.0):
    """Mean over unordered pairs per batch element, weighted by per-batch weights, summed."""
    labels, predictions = np.asarray(labels, float), np.asarray(predictions, float)
    total = 0.0
    for b in range(labels.shape[0]):
        d = (predictions[b] - labels[b]).ravel()
        pairs = [(d[i] - d[j]) ** 2 for i in range(d.size) for j in range(i + 1, d.size)]
        total += np.mean(pairs) * np.asarray(weights, float).reshape(-1)[b if np.ndim(weights) else 0]
    return total


def test_mean_pairwise_squared_error_values(xp):
    labels = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
    predictions = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)
    got = v1.mean_pairwise_squared_error(_f32(xp, labels), _f32(xp, predictions))
    np.testing.assert_allclose(to_numpy(got), 192.66667, rtol=1e-6)  # TF 2.21 tf.function value
    np.testing.assert_allclose(to_numpy(got), _pairwise_reference(labels, predictions), rtol=1e-6)
    column = v1.mean_pairwise_squared_error(_f32(xp, labels), _f32(xp, predictions), _f32(xp, [[3.0], [0.0]]))
    expected = _pairwise_reference(labels, predictions, [3.0, 0.0])
    np.testing.assert_allclose(to_numpy(column), expected, rtol=1e-6)
    full = v1.mean_pairwise_squared_error(_f32(xp, labels), _f32(xp, predictions), _f32(xp, np.ones((2, 3))))
    np.testing.assert_allclose(to_numpy(full), 3 * 192.66667, rtol=1e-6)  # full weights: x elements per row
    with pytest.raises(ValueError, match="weights can not be broadcast"):
        v1.mean_pairwise_squared_error(_f32(xp, labels), _f32(xp, predictions), _f32(xp, [1.0, 1.0]))


def test_mean_pairwise_elementwise_zero_weight_changes_only_n(xp):
    labels = np.zeros((1, 3), np.float32)
    predictions = np.asarray([[1.0, 2.0, 4.0]], np.float32)
    got = v1.mean_pairwise_squared_error(_f32(xp, labels), _f32(xp, predictions), _f32(xp, [[1.0, 1.0, 0.0]]))
    ssq, sd, n = 1 + 4 + 16, 7.0, 2  # the masked element still counts in the sums
    expected = (2 * ssq / (n - 1) - 2 * sd**2 / (n * (n - 1))) * 1.0
    per_position = expected * 2  # (term1 - term2) broadcast to the weights, two non-zero positions
    np.testing.assert_allclose(to_numpy(got), per_position, rtol=1e-6)


def test_eager_collections_stay_empty():
    v1.mean_squared_error([1.0], [2.0])
    v1.add_loss(3.0)
    assert v1.get_losses() == [] and v1.get_regularization_losses() == []
    with pytest.raises(ValueError, match="no losses"):
        v1.get_total_loss()
    zero = v1.get_regularization_loss()
    assert to_numpy(zero).dtype == np.float32 and float(zero) == 0.0


# ------------------------------------------------------------------------------ bad inputs


@pytest.mark.parametrize("name", [*LOSS_FUNCTIONS, "mean_pairwise_squared_error"])
def test_none_inputs(name):
    with pytest.raises(ValueError, match="Argument `labels` must not be None"):
        getattr(v1, name)(None, [1.0])
    with pytest.raises(ValueError, match="Argument `predictions` must not be None"):
        getattr(v1, name)([1.0], None)
    with pytest.raises(ValueError, match="weights=None"):
        getattr(v1, name)([1.0], [1.0], weights=None)


KERAS_ONLY = ["sum_over_batch_size", "mean_with_sample_weight", "auto", "mean", "sum"]


@pytest.mark.parametrize("reduction", KERAS_ONLY)
def test_v1_rejects_keras_reductions(reduction):
    with pytest.raises(ValueError, match=r"Invalid Reduction Key .*regloss\.Reduction"):
        v1.mean_squared_error([1.0], [2.0], reduction=reduction)
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        v1.compute_weighted_loss([1.0], reduction=reduction)


@pytest.mark.parametrize("reduction", ["weighted_sum", "weighted_mean", "weighted_sum_by_nonzero_weights"])
def test_keras_classes_reject_v1_reductions(reduction):
    with pytest.raises(ValueError, match="regloss.compat.v1.losses"):
        regloss.losses.MeanSquaredError(reduction=reduction)


def test_none_is_shared_and_python_none_is_not_a_v1_reduction():
    assert v1.mean_squared_error([1.0, 2.0], [2.0, 2.0], reduction="none").shape == (2,)
    with pytest.raises(ValueError, match="Invalid Reduction Key None"):
        v1.mean_squared_error([1.0], [2.0], reduction=None)


def test_reduction_tables():
    assert v1.Reduction.all() == (
        "none",
        "weighted_sum",
        "weighted_mean",
        "weighted_sum_over_batch_size",
        "weighted_sum_by_nonzero_weights",
        "weighted_sum_by_nonzero_weights",
    )
    with pytest.raises(ValueError, match=r"^Invalid Reduction Key bogus\. Key should be one of \('none'"):
        v1.Reduction.validate("bogus")
    assert keras2.Reduction.all() == ("auto", "none", "sum", "sum_over_batch_size")
    with pytest.raises(ValueError, match='Invalid Reduction Key: bogus. Expected keys are "'):
        keras2.Reduction.validate("bogus")
    for value in keras2.Reduction.all():
        regloss.losses.MeanSquaredError(reduction=value)


@pytest.mark.parametrize(
    "name", ["hinge_loss", "sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"]
)
def test_classification_losses_are_not_here(name):
    with pytest.raises(AttributeError, match="regression losses"):
        getattr(v1, name)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        v1.nonexistent  # noqa: B018


def test_log_loss_and_huber_values(xp):
    np.testing.assert_allclose(to_numpy(v1.log_loss(_f32(xp, [1.0]), _f32(xp, [0.0]))), 16.118095, rtol=1e-6)
    errors = np.asarray([0.5, 1.0, 3.0])
    got = v1.huber_loss(_f32(xp, np.zeros(3)), _f32(xp, errors), delta=1.0, reduction="none")
    np.testing.assert_allclose(to_numpy(got), [0.125, 0.5, 2.5])


# ----------------------------------------------------------------------------- collections


def test_collections_reference_example():
    """tf1_losses.md section 3 (verified on TF 2.21 graph mode)."""
    with v1.collect() as collection:
        v1.mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])  # 0.5
        with name_scope("tower1"):
            v1.absolute_difference([[0.0, 1.0]], [[1.0, 2.0]])  # 1.0
        v1.add_loss(10.0)
        v1.add_loss(0.5, loss_collection="regularization_losses")
        with name_scope("tower1"):
            v1.add_loss(0.25, loss_collection="regularization_losses")
        v1.add_loss(100.0, loss_collection="my_losses")
        assert float(v1.get_total_loss()) == 12.25
        assert float(v1.get_total_loss(add_regularization_losses=False)) == 11.5
        assert float(v1.get_total_loss(scope="tower1")) == 1.25
        assert float(v1.get_regularization_loss()) == 0.75
        assert float(v1.get_regularization_loss("tower1")) == 0.25
        assert len(v1.get_losses(loss_collection="my_losses")) == 1
    assert [name for name, _ in collection.entries()] == [
        "mean_squared_error/value",
        "tower1/absolute_difference/value",
        "loss",
    ]
    assert v1.get_losses() == []  # nothing held outside the block


def test_each_call_adds_one_entry_and_none_collection_adds_nothing():
    with v1.collect() as collection:
        for reduction in v1.Reduction.all()[:5]:
            v1.compute_weighted_loss([1.0, 2.0], reduction=reduction)
            v1.compute_weighted_loss([1.0, 2.0], reduction=reduction, loss_collection=None)
    assert len(collection.entries()) == 5
    assert [name for name, _ in collection.entries()][:2] == ["weighted_loss/Mul", "weighted_loss/Sum"]


def test_innermost_collect_receives():
    with v1.collect() as outer:
        v1.mean_squared_error([1.0], [2.0])
        with v1.collect() as inner:
            v1.absolute_difference([1.0], [2.0])
        v1.huber_loss([1.0], [2.0])
    assert [n for n, _ in outer.entries()] == ["mean_squared_error/value", "huber_loss/value"]
    assert [n for n, _ in inner.entries()] == ["absolute_difference/value"]


def test_asyncio_tasks_created_inside_add_to_the_block():
    async def compute():
        await asyncio.sleep(0)
        v1.mean_squared_error([1.0], [3.0])

    async def main():
        with v1.collect() as collection:
            await asyncio.gather(asyncio.create_task(compute()), asyncio.create_task(compute()))
        return collection

    assert len(asyncio.run(main()).entries()) == 2


def test_new_threads_do_not_collect_unless_run_in_a_copied_context():
    def compute():
        v1.mean_squared_error([1.0], [3.0])

    with v1.collect() as collection:
        plain = threading.Thread(target=compute)
        plain.start()
        plain.join()
        assert collection.entries() == []
        copied = threading.Thread(target=contextvars.copy_context().run, args=(compute,))
        copied.start()
        copied.join()
    assert len(collection.entries()) == 1


def test_scope_argument_and_regex_filter():
    with v1.collect():
        v1.mean_squared_error([1.0], [2.0], scope="head_a")
        v1.mean_squared_error([1.0], [2.0], scope="head_b")
        v1.mean_pairwise_squared_error([[1.0, 2.0]], [[2.0, 2.0]])
        assert len(v1.get_losses(scope="head_")) == 2
        assert len(v1.get_losses(scope=r"head_[b]")) == 1
        assert len(v1.get_losses(scope="mean_pairwise")) == 1


def test_total_loss_needs_one_shape():
    with v1.collect():
        v1.mean_squared_error([1.0, 2.0], [2.0, 2.0], reduction="none")
        v1.mean_squared_error([1.0, 2.0], [2.0, 2.0])
        with pytest.raises(ValueError, match="one shape and dtype"):
            v1.get_total_loss()


# ------------------------------------------------------------------------- tf.keras 2.x


def test_compute_average_loss(xp):
    losses = _f32(xp, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(to_numpy(keras2.compute_average_loss(losses)), 10 / 2)  # first dim only
    np.testing.assert_allclose(to_numpy(keras2.compute_average_loss(losses, num_replicas=2)), 10 / 4)
    weighted = keras2.compute_average_loss(losses, sample_weight=_f32(xp, [1.0, 0.0]), global_batch_size=4)
    np.testing.assert_allclose(to_numpy(weighted), 3 / 4)  # (B,) weights expanded to (B, 1)
    assert float(to_numpy(keras2.compute_average_loss(losses, global_batch_size=0))) == 0.0
    ints = keras2.compute_average_loss(xp.asarray(np.arange(1, 6, dtype=np.int32)), global_batch_size=10)
    assert to_numpy(ints).dtype == np.float64 and float(to_numpy(ints)) == 1.5
    with pytest.raises(TypeError):
        keras2.compute_average_loss(losses, global_batch_size=4.0)
    with pytest.raises(ValueError, match="non-negative"):
        keras2.compute_average_loss(losses, global_batch_size=-1)
    with pytest.raises(ValueError, match="at least rank 1"):
        keras2.compute_average_loss(_f32(xp, 2.0))
    np.testing.assert_allclose(to_numpy(keras2.scale_regularization_loss(_f32(xp, [1.0, 3.0]), 2)), 2.0)


# --------------------------------------------------------------------- torch and JAX explicitly


def test_torch_values_and_gradients():
    torch = pytest.importorskip("torch")
    predictions = torch.tensor([1.0, 3.0, 5.0], requires_grad=True)
    loss = v1.mean_squared_error(torch.tensor([1.0, 2.0, 3.0]), predictions, torch.tensor([0.0, 1.0, 0.25]))
    assert isinstance(loss, torch.Tensor) and loss.dtype == torch.float32
    loss.backward()
    # d/dp sum(w (p - l)^2) / 2 = w (p - l)
    np.testing.assert_allclose(predictions.grad.numpy(), [0.0, 1.0, 0.5])
    pairwise = v1.mean_pairwise_squared_error(torch.zeros(1, 3), torch.tensor([[1.0, 2.0, 4.0]]))
    assert float(pairwise) == pytest.approx(14 / 3, rel=1e-6)


def test_jax_under_jit():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    @jax.jit
    def loss(predictions, weights):
        return v1.huber_loss(jnp.zeros(3), predictions, weights, delta=1.0)

    got = loss(jnp.asarray([0.5, 1.0, 3.0]), jnp.asarray([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(np.asarray(got), (0.125 + 2.5) / 2, rtol=1e-6)
    gradient = jax.grad(lambda p: v1.huber_loss(jnp.zeros(2), p))(jnp.asarray([1.0, -1.0]))
    np.testing.assert_allclose(np.asarray(gradient), [0.5, -0.5])  # at |x| == delta, linear part adds 0
    with v1.collect() as collection:
        jax.jit(lambda p: v1.mean_squared_error(jnp.zeros(2), p))(jnp.ones(2))
    assert len(collection.entries()) == 1  # a tracer is held only because collect() asked for it


# global_batch_size as tf.nn.compute_average_loss checks it (shared/reference/tf1_losses.md 4.2):
# assert_scalar (ValueError), then assert_integer (TypeError), then non-negative (TensorFlow's
# InvalidArgumentError, a ValueError here); an object convert_to_tensor refuses is a ValueError.
BAD_GLOBAL_BATCH_SIZES = [
    pytest.param([10], ValueError, "must be scalar", id="list"),
    pytest.param([], ValueError, "must be scalar", id="empty-list"),
    pytest.param([[10]], ValueError, "must be scalar", id="nested-list"),
    pytest.param((10,), ValueError, "must be scalar", id="tuple"),
    pytest.param(["10"], ValueError, "must be scalar", id="list-of-string"),
    pytest.param([10.5], ValueError, "must be scalar", id="list-of-float"),
    pytest.param([[1], [1, 2]], ValueError, "must be scalar", id="ragged-list"),
    pytest.param(np.array([10]), ValueError, "must be scalar", id="1-d-int-array"),
    pytest.param(np.array([10.0]), ValueError, "must be scalar", id="1-d-float-array"),
    pytest.param("10", TypeError, "must be an integer", id="string"),
    pytest.param("big", TypeError, "must be an integer", id="word"),
    pytest.param(b"10", TypeError, "must be an integer", id="bytes"),
    pytest.param(10.0, TypeError, "must be an integer", id="float"),
    pytest.param(np.float64(10), TypeError, "must be an integer", id="numpy-float"),
    pytest.param(True, TypeError, "must be an integer", id="bool"),
    pytest.param(1j, TypeError, "must be an integer", id="complex"),
    pytest.param(np.array(10.0), TypeError, "must be an integer", id="0-d-float-array"),
    pytest.param(np.array(True), TypeError, "must be an integer", id="0-d-bool-array"),
    pytest.param(-1, ValueError, "non-negative", id="negative"),
    pytest.param(np.int64(-3), ValueError, "non-negative", id="negative-numpy-int"),
    pytest.param(np.array(-2), ValueError, "non-negative", id="negative-0-d-array"),
    pytest.param({}, ValueError, "global_batch_size", id="dict"),
    pytest.param({10}, ValueError, "global_batch_size", id="set"),
    pytest.param(object(), ValueError, "global_batch_size", id="object"),
]


@pytest.mark.parametrize(("global_batch_size", "expected", "text"), BAD_GLOBAL_BATCH_SIZES)
def test_compute_average_loss_bad_global_batch_size_like_tensorflow(xp, global_batch_size, expected, text):
    losses = _f32(xp, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(expected, match=text) as caught:
        keras2.compute_average_loss(losses, global_batch_size=global_batch_size)
    assert "global_batch_size" in str(caught.value)


@pytest.mark.parametrize(
    "global_batch_size",
    [8, np.int64(8), np.uint8(8), np.int32(8), np.array(8), np.array(8, dtype=np.int16)],
    ids=["int", "int64", "uint8", "int32", "0-d-array", "0-d-int16-array"],
)
def test_compute_average_loss_integer_global_batch_sizes(xp, global_batch_size):
    losses = _f32(xp, [1.0, 2.0, 3.0, 4.0])
    got = keras2.compute_average_loss(losses, global_batch_size=global_batch_size)
    assert library_of(got) == library_of(losses)
    np.testing.assert_allclose(to_numpy(got), 10.0 / 8)
    zero = keras2.compute_average_loss(losses, global_batch_size=0 * global_batch_size)
    assert float(to_numpy(zero)) == 0.0  # div_no_nan


def test_compute_average_loss_global_batch_size_of_the_losses_library(xp):
    losses = _f32(xp, [1.0, 2.0, 3.0, 4.0])
    size = xp.asarray(np.array(8, dtype=np.int32))
    np.testing.assert_allclose(to_numpy(keras2.compute_average_loss(losses, global_batch_size=size)), 1.25)
    with pytest.raises(ValueError, match="must be scalar"):
        keras2.compute_average_loss(losses, global_batch_size=xp.asarray(np.array([8], dtype=np.int32)))
    with pytest.raises(TypeError, match="must be an integer"):
        keras2.compute_average_loss(losses, global_batch_size=xp.asarray(np.array(8.0, dtype=np.float32)))


@pytest.mark.parametrize(
    ("call", "argument", "value"),
    [
        (lambda v: v1.huber_loss([[0.0]], [[1.0]], delta=v), "delta", "big"),
        (lambda v: v1.huber_loss([[0.0]], [[1.0]], delta=v), "delta", "1.0"),
        (lambda v: v1.log_loss([[0.0]], [[0.5]], epsilon=v), "epsilon", "small"),
        (lambda v: v1.log_loss([[0.0]], [[0.5]], epsilon=v), "epsilon", [1e-7]),
        (lambda v: v1.huber_loss([[0.0]], [[1.0]], delta=v), "delta", None),
        (lambda v: keras2.scale_regularization_loss([1.0], num_replicas=v), "num_replicas", "2"),
        (lambda v: keras2.compute_average_loss([1.0], num_replicas=v), "num_replicas", 2.0),
    ],
)
def test_numeric_hyper_parameters_refuse_other_types(call, argument, value):
    with pytest.raises((TypeError, ValueError)) as caught:
        call(value)
    message = str(caught.value)
    assert f"{argument}={value!r}" in message, message
