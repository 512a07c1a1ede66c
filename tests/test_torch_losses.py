"""Issue 22 item 4: the training losses ``pinball``, ``smooth_l1`` and ``poisson_nll`` against their
home libraries.

* ``smooth_l1``/``SmoothL1`` and ``poisson_nll``/``PoissonNLL`` against torch's own
  ``torch.nn.functional.smooth_l1_loss`` and ``poisson_nll_loss`` (torch's argument order is
  ``(input=y_pred, target=y_true)``): values for every reduction, with sample weights, float32 and
  float64, on NumPy inputs (the fused path) and torch tensors (the generic path); gradients with
  respect to ``y_pred`` by torch autograd and by ``jax.grad``; random shapes by hypothesis.
* ``pinball``/``Pinball`` against an independent float64 transcription of TensorFlow Addons'
  ``pinball_loss`` (``max(tau d, (tau - 1) d)``, ``d = y_true - y_pred``, mean over the last
  axis); TF Addons is unmaintained and not installable next to Keras 3. Its gradient against the
  analytic one (``-tau`` per under-predicted element, ``1 - tau`` per over-predicted one).

Reductions. For ``(B, D)`` inputs regloss's ``"sum_over_batch_size"`` (and ``"mean"``) is torch's
``reduction="mean"``; ``"none"`` is torch's ``reduction="none"`` averaged over the last axis; and
``"sum"`` is Keras's sum of per-sample means, which is torch's ``reduction="sum"`` divided by ``D``
(equal for one output). With a weight ``w`` of shape ``(B,)`` the per-sample means are multiplied by
``w`` as in every Keras loss: the references below build that from torch's ``reduction="none"``
elements in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from regloss import config, losses

torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[test]')")
F = torch.nn.functional

REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none")
TOLERANCE = {"float32": 2e-6, "float64": 1e-12}


# ------------------------------------------------------------------------------ references


def torch_elements(name, y_true, y_pred, params):
    """torch's elementwise values (``reduction="none"``), in float64, of the loss ``name``."""
    target, prediction = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (y_true, y_pred))
    if name == "smooth_l1":
        return F.smooth_l1_loss(prediction, target, reduction="none", beta=params.get("beta", 1.0)).numpy()
    return F.poisson_nll_loss(
        prediction,
        target,
        log_input=params.get("log_input", True),
        full=params.get("full", False),
        eps=params.get("eps", 1e-8),
        reduction="none",
    ).numpy()


def tfa_pinball_elements(y_true, y_pred, tau=0.5):
    """TensorFlow Addons' ``pinball_loss`` before its mean, in float64."""
    delta_y = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return np.maximum(tau * delta_y, (tau - 1.0) * delta_y)


def reference_elements(name, y_true, y_pred, params):
    if name == "pinball":
        return tfa_pinball_elements(y_true, y_pred, **params)
    return torch_elements(name, y_true, y_pred, params)


def keras_reduce(per_sample, weight, reduction):
    """The Keras reduction of float64 per-sample losses of a ``(B,)`` batch with a ``(B,)`` weight."""
    weighted = per_sample if weight is None else per_sample * weight
    if reduction == "none":
        return weighted
    total = weighted.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        return total / weight.sum()
    return total / per_sample.size


LOSSES = {
    "pinball": (losses.pinball, losses.Pinball, ({}, {"tau": 0.1}, {"tau": 0.9}, {"tau": 0.0}, {"tau": 1.0})),
    "smooth_l1": (losses.smooth_l1, losses.SmoothL1, ({}, {"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0})),
    "poisson_nll": (
        losses.poisson_nll,
        losses.PoissonNLL,
        (
            {},
            {"full": True},
            {"log_input": False},
            {"log_input": False, "full": True, "eps": 1e-3},
        ),
    ),
}
CASES = [(name, params) for name, (_, _, examples) in LOSSES.items() for params in examples]
CASE_IDS = [f"{name}-{params}" for name, params in CASES]


def draw_inputs(name, params, shape, seed):
    """Targets and predictions in the loss's domain: counts and (log-)rates for PoissonNLL, with
    ties and the quadratic/linear boundary of SmoothL1 included."""
    rng = np.random.default_rng(seed)
    if name == "poisson_nll":
        y_true = rng.poisson(2.5, shape).astype(np.float64)
        if params.get("log_input", True):
            y_pred = rng.normal(0.5, 1.0, shape)
        else:
            y_pred = rng.gamma(2.0, 1.0, shape)
            y_pred.flat[0] = 0.0  # log(0 + eps)
        return y_true, y_pred
    y_true = rng.normal(size=shape) * 2
    y_pred = rng.normal(size=shape) * 2
    y_pred.flat[0] = y_true.flat[0]  # an exact tie
    if name == "smooth_l1" and y_pred.size > 1:
        y_pred.flat[1] = y_true.flat[1] + params.get("beta", 1.0)  # on the boundary (|e| == beta)
    return y_true, y_pred


def assert_close(got, want, dtype):
    tolerance = TOLERANCE[dtype]
    got = np.asarray(got, dtype=np.float64)
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * max(1.0, np.max(np.abs(want))))


# ------------------------------------------------------------------------------ values


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, params", CASES, ids=CASE_IDS)
def test_every_reduction_with_and_without_weights_equals_the_home_library(name, params, dtype):
    function, cls, _ = LOSSES[name]
    y_true, y_pred = (a.astype(dtype) for a in draw_inputs(name, params, (16, 5), seed=1))
    weight = np.random.default_rng(2).uniform(0.0, 3.0, 16)
    elements = reference_elements(name, y_true, y_pred, params)
    per_sample = elements.mean(axis=-1)
    assert_close(function(y_true, y_pred, **params), per_sample, dtype)
    for library in ("numpy", "torch"):
        convert = (lambda a: a) if library == "numpy" else torch.as_tensor
        for reduction in REDUCTIONS:
            loss = cls(reduction=reduction, dtype=dtype, **params)
            for w in (None, weight):
                got = loss(convert(y_true), convert(y_pred), None if w is None else convert(w))
                assert str(got.dtype).endswith(dtype), (library, reduction)
                assert_close(got, keras_reduce(per_sample, w, reduction), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, params", [case for case in CASES if case[0] != "pinball"])
def test_torch_reductions_mean_and_sum(name, params, dtype):
    """``"sum_over_batch_size"`` is torch's ``"mean"``; ``"sum"`` is torch's ``"sum"`` / D (D = 1:
    torch's ``"sum"``), computed by torch itself in the same dtype."""
    _, cls, _ = LOSSES[name]
    for shape in ((32, 4), (32, 1)):
        y_true, y_pred = (torch.as_tensor(a.astype(dtype)) for a in draw_inputs(name, params, shape, seed=3))
        torch_loss = torch.nn.SmoothL1Loss if name == "smooth_l1" else torch.nn.PoissonNLLLoss
        for torch_reduction, reduction, divisor in (
            ("mean", "sum_over_batch_size", 1),
            ("sum", "sum", shape[1]),
        ):
            want = torch_loss(reduction=torch_reduction, **params)(y_pred, y_true) / divisor
            got = cls(reduction=reduction, dtype=dtype, **params)(y_true, y_pred)
            assert got.dtype == want.dtype
            tolerance = 1e-5 if dtype == "float32" else 1e-12
            torch.testing.assert_close(got, want, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name, params", CASES, ids=CASE_IDS)
def test_large_inputs_on_every_tier_equal_the_reference(name, params):
    """Inputs large enough for the numba tier (and the blocked tier, and the generic path)."""
    _, cls, _ = LOSSES[name]
    y_true, y_pred = draw_inputs(name, params, (40_000, 3), seed=4)
    weight = np.random.default_rng(5).uniform(0.0, 2.0, 40_000)
    per_sample = reference_elements(name, y_true, y_pred, params).mean(axis=-1)
    for tier in ("auto", "numpy", "none"):
        config.set_accelerator(tier)
        try:
            for reduction in ("sum_over_batch_size", "sum", "none"):
                for w in (None, weight):
                    got = cls(reduction=reduction, dtype="float64", **params)(y_true, y_pred, w)
                    assert_close(got, keras_reduce(per_sample, w, reduction), "float64")
        finally:
            config.set_accelerator(None)


@settings(max_examples=40, deadline=None)
@given(
    name_params=st.sampled_from(CASES),
    shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=7),
    seed=st.integers(0, 2**32 - 1),
    reduction=st.sampled_from(REDUCTIONS),
    dtype=st.sampled_from(["float32", "float64"]),
    weighted=st.booleans(),
)
def test_random_shapes_equal_the_home_library(name_params, shape, seed, reduction, dtype, weighted):
    name, params = name_params
    _, cls, _ = LOSSES[name]
    y_true, y_pred = (a.astype(dtype) for a in draw_inputs(name, params, shape, seed))
    weight = np.random.default_rng(seed).uniform(0.0, 2.0, shape[:-1]) if weighted else None
    per_sample = reference_elements(name, y_true, y_pred, params).mean(axis=-1)
    want = keras_reduce(per_sample.reshape(-1), None if weight is None else weight.reshape(-1), reduction)
    got = cls(reduction=reduction, dtype=dtype, **params)(
        torch.as_tensor(y_true), torch.as_tensor(y_pred), weight
    )
    assert_close(got.numpy().reshape(np.shape(want)), want, dtype)


def test_pinball_is_tf_addons_on_its_documented_example():
    """TF Addons' docstring: ``pinball_loss([0., 0., 1., 1.], [1., 1., 1., 0.], tau=.1)`` is 0.475."""
    got = losses.Pinball(tau=0.1)(np.array([0.0, 0.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0, 0.0]))
    assert float(got) == pytest.approx(0.475, rel=1e-7)


def test_smooth_l1_is_huber_over_beta():
    """torch's documented relation: ``smooth_l1(beta) == huber(delta=beta) / beta`` for beta > 0, and
    ``beta = 0`` is the mean absolute error."""
    y_true, y_pred = draw_inputs("smooth_l1", {}, (50, 4), seed=6)
    for beta in (0.25, 1.0, 3.0):
        np.testing.assert_allclose(
            losses.smooth_l1(y_true, y_pred, beta=beta),
            losses.huber(y_true, y_pred, delta=beta) / beta,
            rtol=1e-14,
        )
    np.testing.assert_allclose(
        losses.smooth_l1(y_true, y_pred, beta=0.0), np.abs(y_true - y_pred).mean(axis=-1), rtol=1e-15
    )


def test_dtypes_follow_y_pred_and_the_loss_dtype():
    for function, cls, _ in LOSSES.values():
        for dtype in ("float16", "float32", "float64"):
            y = np.ones((3, 2), dtype=dtype)
            assert function(y, y).dtype == np.dtype(dtype)
            assert cls(dtype=dtype)(y, y).dtype == np.dtype(dtype)
            assert torch.is_tensor(function(torch.ones(3, 2), torch.ones(3, 2)))
        assert function([[1.0, 2.0]], [[1.0, 2.0]]).dtype == np.float32  # lists: floatx


# ------------------------------------------------------------------------------ gradients


def torch_gradient(name, params, y_true, y_pred, reduction, weight):
    """The gradient w.r.t. ``y_pred`` of torch's loss, reduced as regloss reduces it (float64)."""
    prediction = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    target = torch.tensor(y_true, dtype=torch.float64)
    if name == "smooth_l1":
        elements = F.smooth_l1_loss(prediction, target, reduction="none", beta=params.get("beta", 1.0))
        if weight is None and reduction == "sum_over_batch_size":  # torch's own "mean"
            elements = None
            total = F.smooth_l1_loss(prediction, target, reduction="mean", beta=params.get("beta", 1.0))
    else:
        elements = F.poisson_nll_loss(prediction, target, reduction="none", **params)
    if elements is not None:
        per_sample = elements.mean(dim=-1)
        w = None if weight is None else torch.as_tensor(weight)
        weighted = per_sample if w is None else per_sample * w
        total = weighted.sum() if reduction == "sum" else weighted.sum() / per_sample.numel()
    total.backward()
    return prediction.grad.numpy()


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
@pytest.mark.parametrize("name, params", [case for case in CASES if case[0] != "pinball"])
def test_gradients_equal_torchs(name, params, reduction):
    _, cls, _ = LOSSES[name]
    y_true, y_pred = draw_inputs(name, params, (12, 3), seed=7)
    weight = np.random.default_rng(8).uniform(0.5, 2.0, 12)
    for w in (None, weight):
        want = torch_gradient(name, params, y_true, y_pred, reduction, w)
        prediction = torch.tensor(y_pred, requires_grad=True)
        loss = cls(reduction=reduction, dtype="float64", **params)
        loss(torch.as_tensor(y_true), prediction, None if w is None else torch.as_tensor(w)).backward()
        np.testing.assert_allclose(prediction.grad.numpy(), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, params", [case for case in CASES if case[0] != "pinball"])
def test_jax_grad_equals_torchs(name, params):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    _, cls, _ = LOSSES[name]
    y_true, y_pred = draw_inputs(name, params, (12, 3), seed=9)
    want = torch_gradient(name, params, y_true, y_pred, "sum_over_batch_size", None)
    loss = cls(dtype="float64", **params)
    got = jax.grad(lambda p: loss(jax.numpy.asarray(y_true), p))(jax.numpy.asarray(y_pred))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("tau", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_pinball_gradient_is_the_quantile_slope(tau):
    """``d/dp mean(max(tau d, (tau - 1) d)) = (-tau if p < t else 1 - tau) / (B D)``, by torch autograd
    and by jax.grad (no ties: the subgradient there is a choice)."""
    rng = np.random.default_rng(10)
    y_true, y_pred = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    want = np.where(y_pred < y_true, -tau, 1.0 - tau) / y_true.size
    prediction = torch.tensor(y_pred, requires_grad=True)
    losses.Pinball(tau=tau, dtype="float64")(torch.as_tensor(y_true), prediction).backward()
    np.testing.assert_allclose(prediction.grad.numpy(), want, rtol=1e-14)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    loss = losses.Pinball(tau=tau, dtype="float64")
    got = jax.grad(lambda p: loss(jax.numpy.asarray(y_true), p))(jax.numpy.asarray(y_pred))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-14)


def test_traced_hyper_parameters_under_jax_jit_and_grad():
    """``tau``, ``beta`` and ``eps`` passed as traced arrays: the values and the gradient w.r.t. the
    parameter itself (``beta = 0`` included, where the quadratic branch must not divide by zero)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    y_true, y_pred = draw_inputs("smooth_l1", {}, (8, 3), seed=11)
    t, p = jnp.asarray(y_true), jnp.asarray(y_pred)
    for beta in (0.0, 0.7):
        got = jax.jit(lambda b: losses.smooth_l1(t, p, beta=b))(jnp.asarray(beta))
        want = reference_elements("smooth_l1", y_true, y_pred, {"beta": beta}).mean(axis=-1)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-14)
        slope = jax.grad(lambda b: losses.SmoothL1(beta=b, dtype="float64")(t, p))(jnp.asarray(beta))
        assert np.isfinite(float(slope))
    for tau in (0.2, 0.8):
        got = jax.jit(lambda q: losses.pinball(t, p, tau=q))(jnp.asarray(tau))
        np.testing.assert_allclose(
            np.asarray(got), tfa_pinball_elements(y_true, y_pred, tau).mean(-1), rtol=1e-14
        )
    counts, rates = draw_inputs("poisson_nll", {"log_input": False}, (8, 3), seed=12)
    got = jax.jit(
        lambda e: losses.poisson_nll(jnp.asarray(counts), jnp.asarray(rates), log_input=False, eps=e)
    )(jnp.asarray(1e-3))
    want = torch_elements("poisson_nll", counts, rates, {"log_input": False, "eps": 1e-3}).mean(-1)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13)


TAU_LEVELS = (0.1, 0.5, 0.9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", ["list", "tuple", "numpy", "torch"])
def test_pinball_with_one_level_per_output_equals_the_reference(form, dtype):
    """TF Addons' tensor ``tau``: output ``j`` is scored as the ``tau[j]`` quantile. Every reduction,
    with and without weights and an element mask, on NumPy and torch inputs, against the float64
    transcription with the levels broadcast over the last axis."""
    tau = {
        "list": list(TAU_LEVELS),
        "tuple": TAU_LEVELS,
        "numpy": np.asarray(TAU_LEVELS),
        "torch": torch.tensor(TAU_LEVELS, dtype=torch.float64),
    }[form]
    rng = np.random.default_rng(21)
    y_true, y_pred = (rng.normal(size=(300, 3)).astype(dtype) for _ in range(2))
    weight = rng.uniform(0.0, 2.0, 300)
    mask = rng.uniform(size=(300, 3)) < 0.7
    mask[:, 1] = True  # no sample wholly masked: its mean over the present outputs is the reference
    elements = tfa_pinball_elements(y_true, y_pred, np.asarray(TAU_LEVELS))
    per_sample = elements.mean(axis=-1)
    masked = (elements * mask).sum(-1) / np.maximum(mask.sum(-1), 1)
    np.testing.assert_allclose(losses.pinball(y_true, y_pred, tau=tau), per_sample, rtol=TOLERANCE[dtype])
    for reduction in REDUCTIONS:
        loss = losses.Pinball(tau=tau, reduction=reduction, dtype=dtype)
        assert loss.get_config()["tau"] == TAU_LEVELS
        for library in (np.asarray, torch.as_tensor):
            t, p = library(y_true), library(y_pred)
            for w in (None, weight):
                got = loss(t, p, sample_weight=None if w is None else library(w))
                np.testing.assert_allclose(
                    np.asarray(got), keras_reduce(per_sample, w, reduction), rtol=TOLERANCE[dtype], atol=1e-7
                )
            got = loss(t, p, mask=library(mask))
            np.testing.assert_allclose(
                np.asarray(got), keras_reduce(masked, None, reduction), rtol=TOLERANCE[dtype], atol=1e-7
            )


def test_pinball_levels_must_match_the_outputs_and_round_trip_through_configs():
    import json

    y = np.ones((4, 2))
    for call in (
        lambda: losses.pinball(y, y, tau=list(TAU_LEVELS)),
        lambda: losses.Pinball(tau=TAU_LEVELS)(y, y),
    ):
        with pytest.raises(ValueError, match=r"tau has 3 levels, one per output, but y_pred has 2 outputs"):
            call()
    loss = losses.Pinball(tau=[0.25, 0.75], reduction="sum")
    again = losses.deserialize(json.loads(json.dumps(losses.serialize(loss))))
    assert (
        again.get_config()
        == loss.get_config()
        == {"name": "pinball", "reduction": "sum", "tau": (0.25, 0.75)}
    )
    assert losses.Pinball(tau=[0.3]).get_config()["tau"] == 0.3  # a list of one level is that level


def test_pinball_levels_traced_under_jax_jit_and_grad():
    """A traced 1-D ``tau`` under ``jax.jit``; the gradient of the mean of ``tau_j d - min(d, 0)``
    with respect to ``tau_j`` is ``sum over rows of d_ij / (B D)``."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(22)
    y_true, y_pred = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    t, p = jnp.asarray(y_true), jnp.asarray(y_pred)
    levels = np.asarray(TAU_LEVELS)
    got = jax.jit(lambda q: losses.pinball(t, p, tau=q))(jnp.asarray(levels))
    np.testing.assert_allclose(
        np.asarray(got), tfa_pinball_elements(y_true, y_pred, levels).mean(-1), rtol=1e-14
    )
    slope = jax.grad(lambda q: losses.Pinball(tau=q, dtype="float64")(t, p))(jnp.asarray(levels))
    np.testing.assert_allclose(np.asarray(slope), (y_true - y_pred).sum(axis=0) / y_true.size, rtol=1e-12)


def test_torch_compile_with_every_parameter_form():
    for params in ({"full": True}, {"log_input": False, "eps": 1e-3}):
        y_true, y_pred = (torch.as_tensor(a) for a in draw_inputs("poisson_nll", params, (10, 3), seed=13))
        loss = losses.PoissonNLL(dtype="float64", **params)
        compiled = torch.compile(lambda t, p, loss=loss: loss(t, p), fullgraph=True, backend="eager")
        want = F.poisson_nll_loss(y_pred, y_true, reduction="mean", **params)
        torch.testing.assert_close(compiled(y_true, y_pred), want, rtol=1e-12, atol=1e-12)
    loss = losses.SmoothL1(beta=0.0, dtype="float64")
    compiled = torch.compile(lambda t, p: loss(t, p), fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(y_true, y_pred), F.l1_loss(y_pred, y_true), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------ parameters


BAD_PARAMETERS = [
    ("pinball", {"tau": -0.1}, ValueError, "tau must be in [0, 1]; received tau=-0.1"),
    ("pinball", {"tau": 1.5}, ValueError, "tau must be in [0, 1]"),
    ("pinball", {"tau": math.nan}, ValueError, "tau"),
    ("pinball", {"tau": "0.5"}, TypeError, "tau must be a real number"),
    ("pinball", {"tau": True}, TypeError, "tau"),
    ("pinball", {"tau": np.array([[0.1, 0.9]])}, ValueError, "tau must be a single number"),
    ("pinball", {"tau": [0.1, 1.5, 0.5]}, ValueError, "tau must be in [0, 1]; received tau[1]=1.5"),
    ("pinball", {"tau": (0.1, "0.5", 0.9)}, TypeError, "tau[1] must be a real number"),
    ("pinball", {"tau": []}, ValueError, "tau must be one number or a list of them"),
    ("smooth_l1", {"beta": -1.0}, ValueError, "beta must be finite and >= 0; received beta=-1.0"),
    ("smooth_l1", {"beta": math.inf}, ValueError, "beta"),
    ("smooth_l1", {"beta": None}, TypeError, "beta must be a real number"),
    ("poisson_nll", {"eps": 0.0}, ValueError, "eps must be finite and > 0; received eps=0.0"),
    ("poisson_nll", {"eps": -1e-8}, ValueError, "eps"),
    (
        "poisson_nll",
        {"log_input": "yes"},
        TypeError,
        "log_input must be True or False; received log_input='yes'",
    ),
    ("poisson_nll", {"log_input": 1}, TypeError, "log_input must be True or False"),
    ("poisson_nll", {"full": None}, TypeError, "full must be True or False"),
    ("poisson_nll", {"full": np.array([True, False])}, TypeError, "full"),
]


@pytest.mark.parametrize("name, params, error, message", BAD_PARAMETERS)
def test_bad_parameters_are_refused_by_the_function_and_the_class(name, params, error, message):
    function, cls, _ = LOSSES[name]
    y_true = np.ones((2, 3))
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        function(y_true, y_true.copy(), **params)
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        cls(**params)


def test_negative_beta_is_refused_as_torch_refuses_it():
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(torch.ones(2), torch.ones(2), beta=-1.0)
    with pytest.raises(ValueError, match="beta"):
        losses.SmoothL1(beta=-1.0)


def test_accepted_parameter_forms():
    assert losses.Pinball(tau=np.float32(0.25)).get_config()["tau"] == 0.25
    assert losses.Pinball(tau=torch.tensor([0.75])).get_config()["tau"] == 0.75
    assert losses.SmoothL1(beta=0).get_config()["beta"] == 0
    assert losses.PoissonNLL(log_input=np.bool_(False)).get_config()["log_input"] is False
    assert losses.PoissonNLL(eps=np.array(1e-3)).get_config()["eps"] == 1e-3


def test_inputs_are_not_modified():
    for name, params in CASES:
        function, cls, _ = LOSSES[name]
        y_true, y_pred = draw_inputs(name, params, (4, 3), seed=14)
        weight = np.ones(4)
        copies = [a.copy() for a in (y_true, y_pred, weight)]
        function(y_true, y_pred, **params)
        cls(**params)(y_true, y_pred, weight)
        for before, after in zip(copies, (y_true, y_pred, weight), strict=True):
            np.testing.assert_array_equal(before, after)


# ------------------------------------------------------------------------------ configs


@pytest.mark.parametrize("name, params", CASES, ids=CASE_IDS)
def test_configs_round_trip_through_get_serialize_and_deserialize(name, params):
    function, cls, _ = LOSSES[name]
    loss = cls(reduction="sum", name="mine", dtype="float64", **params)
    config_dict = loss.get_config()
    expected = {**cls(**params).get_config(), "name": "mine", "reduction": "sum", "dtype": "float64"}
    assert config_dict == expected
    rebuilt = losses.deserialize(losses.serialize(loss))
    assert type(rebuilt) is cls and rebuilt.get_config() == config_dict
    assert type(losses.get(cls.__name__)) is cls
    assert losses.get(name) is function
    assert losses.deserialize(losses.serialize(function)) is function
    assert type(losses.get({"class_name": cls.__name__, "config": params})) is cls


def test_default_names_and_parameters():
    assert losses.Pinball().get_config() == {
        "name": "pinball",
        "reduction": "sum_over_batch_size",
        "tau": 0.5,
    }
    assert losses.SmoothL1().get_config() == {
        "name": "smooth_l1",
        "reduction": "sum_over_batch_size",
        "beta": 1.0,
    }
    assert losses.PoissonNLL().get_config() == {
        "name": "poisson_nll",
        "reduction": "sum_over_batch_size",
        "log_input": True,
        "full": False,
        "eps": 1e-8,
    }
