"""Plain training loops with regloss losses: PyTorch with ``torch.optim``, JAX with optax.

Each loop fits a tiny linear model ``y = x @ W + b`` on noise-free data with sample weights, so
the weighted minimiser is the true ``(W, b)``: the loss must fall and the parameters approach the
true ones. Also the README's three lines (NumPy, PyTorch, JAX) with their gradients, against an
analytic float64 Huber gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import regloss

N_SAMPLES, N_FEATURES, N_OUTPUTS = 128, 3, 2
STEPS = 150


def _linear_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype("float32")
    w_true = rng.normal(size=(N_FEATURES, N_OUTPUTS)).astype("float32")
    b_true = rng.normal(size=(N_OUTPUTS,)).astype("float32")
    y = x @ w_true + b_true
    sample_weight = rng.uniform(0.2, 2.0, size=(N_SAMPLES,)).astype("float32")
    return x, y, sample_weight, w_true, b_true


def test_torch_optim_loop_with_sample_weights_and_masked_nan_rows():
    """Adam on a weighted Huber loss; rows with NaN targets are masked out and never leak."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x, y, sample_weight, w_true, b_true = _linear_data()
    y[::10] = np.nan  # missing targets, masked below
    present = ~np.isnan(y).any(axis=1)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    sample_weight, present = torch.from_numpy(sample_weight), torch.from_numpy(present)

    model = torch.nn.Linear(N_FEATURES, N_OUTPUTS)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    loss_fn = regloss.losses.Huber(delta=1.0)
    history = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(y_true=y, y_pred=model(x), sample_weight=sample_weight, mask=present)
        loss.backward()
        optimizer.step()
        history.append(loss.item())

    assert isinstance(loss, torch.Tensor) and loss.ndim == 0 and loss.dtype == torch.float32
    assert all(np.isfinite(history)), "a NaN in a masked row leaked into the loss"
    assert history[-1] < 1e-3 * history[0]
    np.testing.assert_allclose(model.weight.detach().numpy().T, w_true, atol=2e-2)
    np.testing.assert_allclose(model.bias.detach().numpy(), b_true, atol=2e-2)


def test_jax_optax_loop_under_jit():
    """optax Adam on a weighted MSE, the loss object closed over in a jitted step."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    x, y, sample_weight, w_true, b_true = _linear_data(seed=1)
    x, y, sample_weight = jnp.asarray(x), jnp.asarray(y), jnp.asarray(sample_weight)
    loss_fn = regloss.losses.MeanSquaredError()

    def objective(params):
        y_pred = x @ params["w"] + params["b"]
        return loss_fn(y_true=y, y_pred=y_pred, sample_weight=sample_weight)

    optimizer = optax.adam(learning_rate=0.1)

    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(objective)(params)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    params = {"w": jnp.zeros((N_FEATURES, N_OUTPUTS)), "b": jnp.zeros((N_OUTPUTS,))}
    state = optimizer.init(params)
    history = []
    for _ in range(STEPS):
        params, state, loss = step(params, state)
        history.append(float(loss))

    assert isinstance(loss, jax.Array) and loss.shape == () and loss.dtype == jnp.float32
    assert history[-1] < 1e-3 * history[0]
    np.testing.assert_allclose(np.asarray(params["w"]), w_true, atol=2e-2)
    np.testing.assert_allclose(np.asarray(params["b"]), b_true, atol=2e-2)


# ------------------------------------------------------------------------- README snippet

Y_TRUE = [[0.0, 1.0], [0.0, 0.0]]
Y_PRED = [[0.6, 0.4], [0.4, 3.0]]
WEIGHTS = [0.7, 0.3]


def _huber_reference(delta: float = 1.0):
    """Weighted Huber, sum_over_batch_size, and its gradient in y_pred, in float64."""
    error = np.array(Y_PRED) - np.array(Y_TRUE)
    small = np.abs(error) <= delta
    per_element = np.where(small, 0.5 * error**2, delta * np.abs(error) - 0.5 * delta**2)
    weights = np.array(WEIGHTS)[:, None]
    batch, outputs = error.shape
    value = np.sum(per_element.mean(axis=1) * weights[:, 0]) / batch
    gradient = np.where(small, error, delta * np.sign(error)) * weights / (outputs * batch)
    return value, gradient


def test_readme_three_lines_numpy_torch_jax():
    value, gradient = _huber_reference()
    loss = regloss.losses.Huber(delta=1.0)

    result = loss(y_true=np.array(Y_TRUE), y_pred=np.array(Y_PRED), sample_weight=np.array(WEIGHTS))
    assert isinstance(result, np.ndarray) and result.dtype == np.float32
    np.testing.assert_allclose(result, value, rtol=1e-6)

    torch = pytest.importorskip("torch")
    y_pred = torch.tensor(Y_PRED, requires_grad=True)
    result = loss(y_true=torch.tensor(Y_TRUE), y_pred=y_pred, sample_weight=torch.tensor(WEIGHTS))
    result.backward()
    np.testing.assert_allclose(result.item(), value, rtol=1e-6)
    np.testing.assert_allclose(y_pred.grad.numpy(), gradient, rtol=1e-6, atol=1e-7)

    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    gradient_jax = jax.grad(
        lambda p: loss(y_true=jnp.array(Y_TRUE), y_pred=p, sample_weight=jnp.array(WEIGHTS))
    )(jnp.array(Y_PRED))
    np.testing.assert_allclose(np.asarray(gradient_jax), gradient, rtol=1e-6, atol=1e-7)
