"""Gradients through every loss and reduction, in PyTorch (autograd, torch.func.grad) and JAX.

The reference is a central finite difference of the float64 NumPy reference (tests/reference.py),
or an analytic value at the special points named in the issue.
"""

import numpy as np
import pytest

from regloss import losses
from tests._cases import LOSSES, per_sample_params
from tests.reference import ref_loss_call

torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[test]')")
jax = pytest.importorskip("jax", reason="jax is not installed (pip install -e '.[oracle]')")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

# Every loss of the test table, per sample, with non-default Huber and Tversky parameters.
CASES = {
    case.function: (getattr(losses, case.cls), per_sample_params(case, delta=0.7, alpha=0.3, beta=0.7))
    for case in LOSSES
}
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight"]


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.2, 1.5, size=(4, 3))
    y_pred = rng.uniform(0.1, 1.6, size=(4, 3))
    weight = rng.uniform(0.5, 2.0, size=(4,))
    mask = np.array([True, True, False, True])
    return y_true, y_pred, weight, mask


def _finite_difference(name, params, y_true, y_pred, weight, mask, reduction, step=1e-6):
    def value(p):
        return float(np.sum(ref_loss_call(name, y_true, p, weight, mask, reduction, **params)))

    gradient = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        up, down = y_pred.copy(), y_pred.copy()
        up[index] += step
        down[index] -= step
        gradient[index] = (value(up) - value(down)) / (2 * step)
    return gradient


def _torch_autograd(loss, y_true, y_pred, weight, mask):
    prediction = torch.tensor(y_pred, requires_grad=True)
    loss(torch.tensor(y_true), prediction, torch.tensor(weight), mask=torch.tensor(mask)).sum().backward()
    return prediction.grad.numpy()


def _torch_func(loss, y_true, y_pred, weight, mask):
    arguments = torch.tensor(y_true), torch.tensor(weight), torch.tensor(mask)

    def scalar(prediction):
        return loss(arguments[0], prediction, arguments[1], mask=arguments[2]).sum()

    return torch.func.grad(scalar)(torch.tensor(y_pred)).numpy()


def _jax(loss, y_true, y_pred, weight, mask):
    arguments = jnp.asarray(y_true), jnp.asarray(weight), jnp.asarray(mask)

    def scalar(prediction):
        return jnp.sum(loss(arguments[0], prediction, arguments[1], mask=arguments[2]))

    return np.asarray(jax.grad(scalar)(jnp.asarray(y_pred)))


ENGINES = {"torch-autograd": _torch_autograd, "torch.func.grad": _torch_func, "jax.grad": _jax}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_gradient_matches_finite_differences(name, reduction, engine):
    cls, params = CASES[name]
    y_true, y_pred, weight, mask = _problem()
    loss = cls(reduction=reduction, dtype="float64", **params)
    got = ENGINES[engine](loss, y_true, y_pred, weight, mask)
    want = _finite_difference(name, params, y_true, y_pred, weight, mask, reduction)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)


def _gradient_everywhere(loss, y_true, y_pred, mask=None):
    """Gradients with respect to y_pred from the three engines."""
    mask = np.ones(y_pred.shape[:-1], dtype=bool) if mask is None else mask
    weight = np.ones(y_pred.shape[:-1])
    return {engine: run(loss, y_true, y_pred, weight, mask) for engine, run in ENGINES.items()}


def test_huber_gradient_at_delta():
    # error == delta exactly: both branches have slope delta; mean over 2 elements.
    delta = 0.5
    loss = losses.Huber(delta=delta, dtype="float64", reduction="sum")
    for engine, gradient in _gradient_everywhere(loss, np.zeros((1, 2)), np.array([[delta, -delta]])).items():
        np.testing.assert_allclose(gradient, [[delta / 2, -delta / 2]], rtol=1e-12, err_msg=engine)


def test_log_cosh_gradient_at_large_errors():
    # d/dx log cosh x = tanh x: exactly +-1 at |x| = 1000, with no overflow on the way.
    loss = losses.LogCosh(dtype="float64", reduction="sum")
    y_pred = np.array([[1000.0, -1000.0, 0.0]])
    for engine, gradient in _gradient_everywhere(loss, np.zeros((1, 3)), y_pred).items():
        np.testing.assert_allclose(gradient, [[1 / 3, -1 / 3, 0.0]], rtol=1e-12, err_msg=engine)
    loss32 = losses.LogCosh(reduction="sum")
    prediction = torch.tensor([[1e4, -1e4]], dtype=torch.float32, requires_grad=True)
    loss32(torch.zeros((1, 2)), prediction).backward()
    assert torch.all(torch.isfinite(prediction.grad))


def test_cosine_gradient_at_a_zero_vector_is_finite():
    loss = losses.CosineSimilarity(dtype="float64", reduction="sum")
    y_true = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y_pred = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    for engine, gradient in _gradient_everywhere(loss, y_true, y_pred).items():
        assert np.all(np.isfinite(gradient)), engine
        # At a zero prediction, the loss is -<t/|t|, p>/eps locally: slope -t/(|t| eps).
        np.testing.assert_allclose(gradient[0], -y_true[0] / np.linalg.norm(y_true[0]) / 1e-7, rtol=1e-6)
        np.testing.assert_allclose(gradient[1], 0.0, atol=0.0, err_msg=engine)


def test_msle_gradient_near_minus_one_is_finite():
    # Values below eps are clamped to eps: the loss is flat there, the gradient 0, never inf.
    loss = losses.MeanSquaredLogarithmicError(dtype="float64", reduction="sum")
    y_pred = np.array([[-0.9999999, -1.0, 2.0]])
    for engine, gradient in _gradient_everywhere(loss, np.ones((1, 3)), y_pred).items():
        assert np.all(np.isfinite(gradient)), engine
        np.testing.assert_allclose(gradient[0, :2], 0.0, err_msg=engine)
        expected = 2 * (np.log(3.0) - np.log(2.0)) / 3.0 / 3.0
        np.testing.assert_allclose(gradient[0, 2], expected, rtol=1e-12, err_msg=engine)


@pytest.mark.parametrize("name", list(CASES))
def test_masked_rows_with_nan_targets_have_finite_gradients(name):
    cls, params = CASES[name]
    y_true, y_pred, weight, mask = _problem(1)
    poisoned = y_true.copy()
    poisoned[2] = [np.nan, np.inf, -np.inf]  # row 2 is masked
    loss = cls(dtype="float64", **params)
    for engine, run in ENGINES.items():
        got = run(loss, poisoned, y_pred, weight, mask)
        assert np.all(np.isfinite(got)), engine
        clean = run(loss, y_true, y_pred, weight, mask)
        np.testing.assert_allclose(got, clean, rtol=1e-12, err_msg=engine)
        np.testing.assert_array_equal(got[2], 0.0)


def test_functional_forms_are_differentiable():
    y_true, y_pred, _, _ = _problem(2)
    for name in CASES:
        function = getattr(losses, name)
        prediction = torch.tensor(y_pred, requires_grad=True)
        function(torch.tensor(y_true), prediction).sum().backward()
        jax_gradient = jax.grad(lambda p, f=function: jnp.sum(f(jnp.asarray(y_true), p)))(jnp.asarray(y_pred))
        np.testing.assert_allclose(prediction.grad.numpy(), np.asarray(jax_gradient), rtol=1e-10, atol=1e-12)
