"""Hostile input to every config entry point (issue 20, items 12-15).

* Item 12: values nested 5,000 deep, 50 MB strings, million-element lists and objects whose
  ``__repr__`` raises or recurses give a ``ValueError``/``TypeError`` with a short message naming
  the argument, never ``RecursionError``, and change nothing the caller passed.
* Item 13: hyper-parameters given as one-element arrays of NumPy, torch and JAX work on inputs of
  any library (their value is used, as Keras converts a tensor ``delta``); anything else is refused
  naming the argument.
* Item 14: the fused NumPy path and the generic path at float32's limit (a documented difference).
* Item 15: string hyper-parameters of ``regloss.compat.v1`` name the argument and the value.

The references are written here: float64 NumPy formulas, and torch as a peer for item 14.
"""

import copy
import importlib.util
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from regloss import config
from regloss import losses as L
from regloss import metrics as M
from regloss.compat import keras2
from regloss.compat.v1 import losses as v1
from tests._helpers import to_numpy

# A message that shows a received value stays under this length whatever the value.
MESSAGE_LIMIT = 1_000
DEPTH = 5_000


def _nested_list(depth=DEPTH, leaf=1):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth=DEPTH, leaf="float32"):
    value = leaf
    for _ in range(depth):
        value = {"config": value}
    return value


def _nested_tuple(depth=DEPTH):
    value = 0
    for _ in range(depth):
        value = (value,)
    return value


class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("the user's __repr__ failed")

    __str__ = __repr__


class RecursingRepr:
    def __repr__(self):
        return repr(self)

    __str__ = __repr__


HUGE_STRING = "x" * 50_000_000

HOSTILE = {
    "list_5000_deep": lambda: _nested_list(),
    "dict_5000_deep": lambda: _nested_dict(),
    "tuple_5000_deep": lambda: _nested_tuple(),
    "string_50MB": lambda: HUGE_STRING,
    "list_1e6": lambda: list(range(1_000_000)),
    "raising_repr": RaisingRepr,
    "recursing_repr": RecursingRepr,
    "int_10000_digits": lambda: 10**10_000,
    "negative_int_10000_digits": lambda: -(10**10_000),
}


def _bootstrap(**settings):
    return M.Bootstrap(M.MeanSquaredError(), **settings)


# (entry point, the argument its message must name); each is called with a hostile value.
ENTRY_POINTS = {
    "Loss(dtype=)": (lambda v: L.MeanSquaredError(dtype=v), "dtype"),
    "Huber(dtype=)": (lambda v: L.Huber(dtype=v), "dtype"),
    "Loss(reduction=)": (lambda v: L.MeanAbsoluteError(reduction=v), "reduction"),
    "Loss(name=)": (lambda v: L.LogCosh(name=v), "name"),
    "CosineSimilarity(axis=)": (lambda v: L.CosineSimilarity(axis=v), "axis"),
    "Dice(axis=[v])": (lambda v: L.Dice(axis=[v]), "axis"),
    "cosine_similarity(axis=)": (lambda v: L.cosine_similarity([[1.0, 2.0]], [[1.0, 0.0]], axis=v), "axis"),
    "Huber(delta=)": (lambda v: L.Huber(delta=v), "delta"),
    "huber(delta=)": (lambda v: L.huber([[1.0]], [[2.0]], delta=v), "delta"),
    "Tversky(alpha=)": (lambda v: L.Tversky(alpha=v), "alpha"),
    "tversky(beta=)": (lambda v: L.tversky([[1.0]], [[0.5]], beta=v), "beta"),
    "Loss.from_config(dtype)": (lambda v: L.MeanSquaredError.from_config({"dtype": v}), "dtype"),
    "Loss.from_config(key)": (lambda v: L.MeanSquaredError.from_config({_key(v): 1}), "from_config"),
    "deserialize(class_name)": (lambda v: L.deserialize({"class_name": v, "config": {}}), "class"),
    "deserialize(config.dtype)": (
        lambda v: L.deserialize({"class_name": "Huber", "config": {"dtype": v}}),
        "dtype",
    ),
    "deserialize(function)": (lambda v: L.deserialize({"class_name": "function", "config": v}), "function"),
    "get()": (lambda v: L.get(v), "loss"),
    "Metric(dtype=)": (lambda v: M.MeanSquaredError(dtype=v), "dtype"),
    "Metric(name=)": (lambda v: M.MeanAbsoluteError(name=v), "name"),
    "Metric.from_config(dtype)": (lambda v: M.RootMeanSquaredError.from_config({"dtype": v}), "dtype"),
    "Metric.from_config(key)": (lambda v: M.MeanSquaredError.from_config({_key(v): 1}), "from_config"),
    "metrics.Huber(delta=)": (lambda v: M.Huber(delta=v), "delta"),
    "R2Score(class_aggregation=)": (lambda v: M.R2Score(class_aggregation=v), "class_aggregation"),
    "R2Score(num_regressors=)": (lambda v: M.R2Score(num_regressors=v), "num_regressors"),
    "Bootstrap(num_replicates=)": (lambda v: _bootstrap(num_replicates=v), "num_replicates"),
    "Bootstrap(confidence=)": (lambda v: _bootstrap(confidence=v), "confidence"),
    "Bootstrap(seed=)": (lambda v: _bootstrap(seed=v), "seed"),
    "Bootstrap.from_config(metric dtype)": (
        lambda v: M.Bootstrap.from_config(
            {"metric": {"class_name": "MeanSquaredError", "config": {"name": "mse", "dtype": v}}}
        ),
        "dtype",
    ),
    "config.set_epsilon": (lambda v: config.set_epsilon(v), "epsilon"),
    "config.set_floatx": (lambda v: config.set_floatx(v), "floatx"),
    "config.set_accelerator": (lambda v: config.set_accelerator(v), "accelerator"),
    "config.set_num_threads": (lambda v: config.set_num_threads(v), "num_threads"),
    "v1 reduction": (lambda v: v1.mean_squared_error([1.0], [2.0], reduction=v), "Reduction"),
    "v1 huber_loss(delta=)": (lambda v: v1.huber_loss([1.0], [2.0], delta=v), "delta"),
    "v1 log_loss(epsilon=)": (lambda v: v1.log_loss([1.0], [0.5], epsilon=v), "epsilon"),
    "v1 cosine_distance(axis=)": (lambda v: v1.cosine_distance([[1.0]], [[1.0]], axis=v), "axis"),
    "keras2 Reduction.validate": (lambda v: keras2.Reduction.validate(v), "Reduction"),
    "keras2 global_batch_size": (
        lambda v: keras2.compute_average_loss([1.0, 2.0], global_batch_size=v),
        "global_batch_size",
    ),
    "keras2 num_replicas": (
        lambda v: keras2.scale_regularization_loss([1.0], num_replicas=v),
        "num_replicas",
    ),
    "loss y_true": (lambda v: L.mean_squared_error(v, [[1.0]]), "y_true"),
    "loss sample_weight": (
        lambda v: L.MeanSquaredError()([[1.0]], [[1.0]], sample_weight=v),
        "sample_weight",
    ),
}


# Hostile but valid: a 50 MB name is a name; any ints are an axis until the inputs' rank is known;
# a huge integer is a number of regressors or threads (num_replicates is bounded in issue 20 item 6).
VALID = {
    ("Loss(name=)", "string_50MB"),
    ("Metric(name=)", "string_50MB"),
    ("CosineSimilarity(axis=)", "list_1e6"),
    ("CosineSimilarity(axis=)", "int_10000_digits"),
    ("Dice(axis=[v])", "int_10000_digits"),
    ("R2Score(num_regressors=)", "int_10000_digits"),
    ("config.set_num_threads", "int_10000_digits"),
    ("Bootstrap(num_replicates=)", "int_10000_digits"),
    ("CosineSimilarity(axis=)", "negative_int_10000_digits"),
    ("Dice(axis=[v])", "negative_int_10000_digits"),
}


def _key(value):
    """A dict key made of a hostile value (unhashable ones become their type's name repeated)."""
    try:
        hash(value)
    except TypeError:
        return "k" * 10_000_000
    return value


@pytest.fixture(autouse=True)
def _restore_config():
    yield
    config.set_epsilon(1e-7)
    config.set_floatx("float32")
    config.set_accelerator(None)
    config.set_num_threads(None)


@pytest.mark.parametrize("value_name", list(HOSTILE))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_hostile_value_gives_a_short_error_naming_the_argument(entry, value_name):
    call, argument = ENTRY_POINTS[entry]
    if (entry, value_name) in VALID:
        pytest.skip("a valid value here")
    value = HOSTILE[value_name]()
    with pytest.raises((ValueError, TypeError)) as caught:
        call(value)
    assert not isinstance(caught.value, RecursionError)
    message = str(caught.value)
    assert len(message) <= MESSAGE_LIMIT, f"{entry}: a message of {len(message)} characters"
    assert argument in message, f"{entry}: {message!r} does not name {argument!r}"


def test_a_hostile_config_is_not_modified():
    inner = {"dtype": _nested_list(), "name": "mse"}
    config_dict = {"class_name": "MeanSquaredError", "config": inner}
    before = {"keys": list(config_dict), "inner": dict(inner), "leaf": inner["dtype"]}
    with pytest.raises(ValueError):
        L.deserialize(config_dict)
    assert list(config_dict) == before["keys"] and config_dict["config"] is inner
    assert inner == before["inner"] and inner["dtype"] is before["leaf"]
    axis = [0, "x" * 1000]
    kept = copy.deepcopy(axis)
    with pytest.raises(TypeError):
        L.Dice(axis=axis)
    assert axis == kept


def test_show_value_is_bounded_and_never_raises():
    from regloss._messages import show_value

    for make in HOSTILE.values():
        value = make()
        shown = show_value(value)
        assert isinstance(shown, str) and 0 < len(shown) <= 200
    assert show_value("abc") == "'abc'" and show_value(None) == "None"
    assert len(show_value("y" * 1000, limit=50)) == 50


KERAS_ADAPTER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import regloss
    from regloss.keras import as_keras_loss, keras_loss_class

    def nested(depth, leaf):
        for _ in range(depth):
            leaf = [leaf]
        return leaf

    class RaisingRepr:
        def __repr__(self):
            raise RuntimeError("the user's __repr__ failed")

    adapter = keras_loss_class()
    values = {
        "list_5000_deep": nested(5000, 1),
        "dict_5000_deep": {"class_name": nested(5000, "Huber")},
        "string_50MB": "x" * 50_000_000,
        "raising_repr": RaisingRepr(),
        "unknown_class": {"class_name": "y" * 50_000_000, "config": {}},
        "config_dtype_deep": {"class_name": "Huber", "config": {"dtype": nested(5000, "float32")}},
    }
    out = {}
    for name, value in values.items():
        for how, call in (
            ("from_config", lambda v: adapter.from_config({"loss": v})),
            ("constructor", lambda v: adapter(v)),
            ("dtype", lambda v: as_keras_loss(regloss.losses.Huber(), dtype=v)),
        ):
            try:
                call(value)
                out[name + "/" + how] = "no error"
            except BaseException as error:
                out[name + "/" + how] = [type(error).__name__, str(error)[:2000], len(str(error))]
    print(json.dumps(out))
    """
)


def test_keras_adapter_loss_config_hostile_values(tmp_path):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    env = dict(os.environ, KERAS_BACKEND="numpy", KERAS_HOME=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-c", KERAS_ADAPTER_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for case, outcome in results.items():
        assert outcome != "no error", case
        kind, message, length = outcome
        assert kind in ("ValueError", "TypeError"), (case, kind, message)
        assert length <= MESSAGE_LIMIT, (case, length)
        assert "loss" in message or "dtype" in message, (case, message)


# ------------------------------------------------------------------ item 13: array hyper-parameters


def _huber_reference(y_true, y_pred, delta):
    error = np.abs(np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64))
    return np.mean(np.where(error <= delta, 0.5 * error**2, delta * error - 0.5 * delta**2), axis=-1)


def _tversky_reference(y_true, y_pred, alpha, beta):
    t, p = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    tp, fp, fn = np.sum(t * p, -1), np.sum((1 - t) * p, -1), np.sum(t * (1 - p), -1)
    return 1 - tp / (tp + alpha * fp + beta * fn + 1e-7)


def _one_element(library, value, shape):
    array = np.full(shape, value, dtype=np.float32)
    if library == "numpy":
        return array
    if library == "numpy_scalar":
        return np.float32(value)
    if library == "torch":
        torch = pytest.importorskip("torch")
        return torch.from_numpy(array)
    jnp = pytest.importorskip("jax.numpy")
    return jnp.asarray(array)


def _inputs(library, *arrays):
    if library == "numpy":
        return arrays
    if library == "torch":
        torch = pytest.importorskip("torch")
        return tuple(torch.from_numpy(a) for a in arrays)
    jnp = pytest.importorskip("jax.numpy")
    return tuple(jnp.asarray(a) for a in arrays)


Y_TRUE = np.array([[0.0, 1.0, 2.0], [0.5, 0.0, -1.0]], dtype=np.float32)
Y_PRED = np.array([[0.3, 2.5, 2.0], [0.5, -2.0, 0.75]], dtype=np.float32)
SEG_TRUE = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=np.float32)
SEG_PRED = np.array([[0.9, 0.2, 0.4], [0.1, 0.7, 0.3]], dtype=np.float32)
HYPER_LIBRARIES = ["numpy", "numpy_scalar", "torch", "jax"]
HYPER_SHAPES = [(), (1,), (1, 1)]


@pytest.mark.parametrize("inputs", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("shape", HYPER_SHAPES)
@pytest.mark.parametrize("library", HYPER_LIBRARIES)
def test_array_delta_of_any_library_on_inputs_of_any_library(library, shape, inputs):
    if library == "numpy_scalar" and shape != ():
        pytest.skip("a NumPy scalar has no shape")
    delta = _one_element(library, 0.75, shape)
    y_true, y_pred = _inputs(inputs, Y_TRUE, Y_PRED)
    want = _huber_reference(Y_TRUE, Y_PRED, np.float64(np.float32(0.75)))
    np.testing.assert_allclose(to_numpy(L.huber(y_true=y_true, y_pred=y_pred, delta=delta)), want, rtol=1e-6)
    loss = L.Huber(delta=delta)
    np.testing.assert_allclose(to_numpy(loss(y_true=y_true, y_pred=y_pred)), want.mean(), rtol=1e-6)
    assert loss.get_config()["delta"] == 0.75 and type(loss.get_config()["delta"]) is float
    json.dumps(loss.get_config())
    metric = M.Huber(delta=delta)
    metric.update_state(y_true=y_true, y_pred=y_pred)
    np.testing.assert_allclose(float(to_numpy(metric.result())), want.mean(), rtol=1e-6)
    tf1_want = np.sum(_huber_reference(Y_TRUE[..., None], Y_PRED[..., None], 0.75)) / Y_TRUE.size
    np.testing.assert_allclose(to_numpy(v1.huber_loss(y_true, y_pred, delta=delta)), tf1_want, rtol=1e-6)


@pytest.mark.parametrize("shape", HYPER_SHAPES)
@pytest.mark.parametrize("library", HYPER_LIBRARIES)
def test_array_alpha_beta_and_epsilon(library, shape):
    if library == "numpy_scalar" and shape != ():
        pytest.skip("a NumPy scalar has no shape")
    alpha, beta = _one_element(library, 0.25, shape), _one_element(library, 0.75, shape)
    want = _tversky_reference(SEG_TRUE, SEG_PRED, 0.25, 0.75)
    got = L.tversky(y_true=SEG_TRUE, y_pred=SEG_PRED, alpha=alpha, beta=beta, axis=-1)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6)
    loss = L.Tversky(alpha=alpha, beta=beta, axis=-1, reduction="none")
    np.testing.assert_allclose(to_numpy(loss(SEG_TRUE, SEG_PRED)), want, rtol=1e-6)
    assert (loss.get_config()["alpha"], loss.get_config()["beta"]) == (0.25, 0.75)
    epsilon = _one_element(library, 0.125, shape)
    t, p = SEG_TRUE.astype(np.float64), SEG_PRED.astype(np.float64)
    log_want = np.mean(-t * np.log(p + 0.125) - (1 - t) * np.log(1 - p + 0.125))
    np.testing.assert_allclose(
        to_numpy(v1.log_loss(SEG_TRUE, SEG_PRED, epsilon=epsilon)), log_want, rtol=1e-6
    )


BAD_HYPER_PARAMETERS = [
    pytest.param("big", TypeError, id="string"),
    pytest.param("1.0", TypeError, id="numeric-string"),
    pytest.param(b"1", TypeError, id="bytes"),
    pytest.param(True, TypeError, id="bool"),
    pytest.param(None, TypeError, id="None"),
    pytest.param([1.0], TypeError, id="list"),
    pytest.param(1j, TypeError, id="complex"),
    pytest.param(np.array(True), TypeError, id="bool-array"),
    pytest.param(np.array([1.0, 2.0]), ValueError, id="two-values"),
    pytest.param(np.ones((2, 1)), ValueError, id="two-rows"),
    pytest.param(np.zeros((0,)), ValueError, id="empty-array"),
]

HYPER_PARAMETER_FACES = {
    "Huber(delta)": (lambda v: L.Huber(delta=v), "delta"),
    "huber(delta)": (lambda v: L.huber(Y_TRUE, Y_PRED, delta=v), "delta"),
    "metrics.Huber(delta)": (lambda v: M.Huber(delta=v), "delta"),
    "Tversky(alpha)": (lambda v: L.Tversky(alpha=v), "alpha"),
    "Tversky(beta)": (lambda v: L.Tversky(beta=v), "beta"),
    "tversky(alpha)": (lambda v: L.tversky(SEG_TRUE, SEG_PRED, alpha=v), "alpha"),
    "v1.huber_loss(delta)": (lambda v: v1.huber_loss(Y_TRUE, Y_PRED, delta=v), "delta"),
    "v1.log_loss(epsilon)": (lambda v: v1.log_loss(SEG_TRUE, SEG_PRED, epsilon=v), "epsilon"),
}


@pytest.mark.parametrize(("value", "expected"), BAD_HYPER_PARAMETERS)
@pytest.mark.parametrize("face", list(HYPER_PARAMETER_FACES))
def test_bad_hyper_parameters_name_the_argument(face, value, expected):
    call, argument = HYPER_PARAMETER_FACES[face]
    with pytest.raises(expected) as caught:
        call(value)
    message = str(caught.value)
    assert argument in message, message
    if not hasattr(value, "shape"):
        assert repr(value) in message, message  # the received value is shown


@pytest.mark.parametrize("delta", [0.0, -1.0, math.inf, math.nan])
def test_array_delta_is_range_checked_like_a_number(delta):
    for value in (np.float32(delta), np.array([delta])):
        with pytest.raises(ValueError, match="delta must be finite and > 0"):
            L.Huber(delta=value)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="delta must be finite and > 0"):
        L.huber(Y_TRUE, Y_PRED, delta=torch.tensor(delta))


def test_traced_delta_stays_an_array_under_jit_and_grad():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    y_true, y_pred = jnp.asarray(Y_TRUE), jnp.asarray(Y_PRED)

    def total(delta):
        return jnp.sum(L.huber(y_true=y_true, y_pred=y_pred, delta=delta))

    want = _huber_reference(Y_TRUE, Y_PRED, 0.75).sum()
    np.testing.assert_allclose(float(jax.jit(total)(0.75)), want, rtol=1e-6)
    # d/d delta of the linear branch (|e| - delta) is |e| - delta, per element, over the outputs' mean
    error = np.abs(Y_PRED.astype(np.float64) - Y_TRUE)
    want_grad = np.sum(np.where(error <= 0.75, 0.0, error - 0.75) / Y_TRUE.shape[-1])
    np.testing.assert_allclose(float(jax.grad(total)(jnp.float32(0.75))), want_grad, rtol=1e-5)


def test_string_hyper_parameters_of_compat_v1_show_the_value():
    with pytest.raises(TypeError, match=r"delta must be a real number; received delta='big'"):
        v1.huber_loss([[0.0]], [[1.0]], delta="big")
    with pytest.raises(TypeError, match=r"epsilon must be a real number; received epsilon='small'"):
        v1.log_loss([[0.0]], [[0.5]], epsilon="small")


# --------------------------------------------------------------- item 14: the float32 sum's range


def test_float32_sum_beyond_range_fused_vs_generic():
    """Documented difference (docs/performance.md): the fused NumPy path adds in float64 and gives the
    exact mean 1e36; the generic path adds in float32 and gives inf, as torch does."""
    torch = pytest.importorskip("torch")
    y_true = np.zeros((100_000, 1), dtype=np.float32)
    y_pred = np.full((100_000, 1), 1e18, dtype=np.float32)
    exact = np.mean((y_pred.astype(np.float64) - y_true) ** 2)  # 1e36, within float32's range
    peer = torch.nn.functional.mse_loss(torch.from_numpy(y_pred), torch.from_numpy(y_true))
    assert math.isinf(float(peer))
    reductions = ["sum_over_batch_size", "mean", "mean_with_sample_weight"]
    weights = np.ones(100_000, dtype=np.float32)
    with np.errstate(over="ignore"):
        for accelerator in ("auto", "numpy", "none"):
            config.set_accelerator(accelerator)
            for reduction in reductions:
                loss = L.MeanSquaredError(reduction=reduction)
                for got in (loss(y_true, y_pred), loss(y_true, y_pred, sample_weight=weights)):
                    assert got.dtype == np.float32
                    if accelerator == "none":
                        assert math.isinf(float(got)) and float(got) == float(peer)
                    else:
                        np.testing.assert_allclose(float(got), exact, rtol=1e-6)
            # the result itself beyond float32: inf on every path
            assert math.isinf(float(L.MeanSquaredError(reduction="sum")(y_true, y_pred)))
            # per-sample values and the float64 metric state never overflow
            np.testing.assert_allclose(L.mean_squared_error(y_true, y_pred)[:3], [exact] * 3, rtol=1e-6)
            metric = M.MeanSquaredError()
            metric.update_state(y_true, y_pred)
            np.testing.assert_allclose(float(metric.result()), exact, rtol=1e-6)
    config.set_accelerator(None)
    torch_loss = L.MeanSquaredError()(torch.from_numpy(y_true), torch.from_numpy(y_pred))
    assert math.isinf(float(torch_loss))


def test_generic_path_selected_by_environment(tmp_path):
    """REGLOSS_ACCELERATOR=none, read at import, gives the generic path's inf (as
    tests/conftest.py's generic_path_too sets it)."""
    script = (
        "import numpy as np, regloss.losses as L\n"
        "t = np.zeros((100000, 1), np.float32); p = np.full((100000, 1), 1e18, np.float32)\n"
        "print(float(L.MeanSquaredError()(t, p)))\n"
    )
    for value, expected in (("none", math.inf), ("numpy", 1e36)):
        env = dict(os.environ, REGLOSS_ACCELERATOR=value)
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        got = float(done.stdout.strip().splitlines()[-1])
        if math.isinf(expected):
            assert math.isinf(got)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-6)


# ------------------------------------------------------------------- the command line's messages


def _cli(*args):
    env = {key: value for key, value in os.environ.items() if key != "REGLOSS_TRACEBACK"}
    return subprocess.run(
        [sys.executable, "-m", "regloss", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def _assert_short_cli_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip("\n").splitlines()
    assert len(lines) == 1 and lines[0].startswith("regloss: error: "), result.stderr[:2000]
    assert len(lines[0]) <= MESSAGE_LIMIT, len(lines[0])
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_cli_messages_bound_huge_names(tmp_path):
    huge = "c" * 100_000  # an argument may hold up to 128 KiB
    duplicated = tmp_path / "twice.csv"
    duplicated.write_text(f"{huge},{huge},y_pred\n1.0,1.0,2.0\n")
    _assert_short_cli_error(
        _cli("evaluate", duplicated, "--y-true", huge, "--y-pred", "y_pred"), "appears 2 times", "ccc"
    )
    wide = tmp_path / "wide.csv"
    wide.write_text(f"{huge},y_pred\n1.0,2.0\n")
    _assert_short_cli_error(
        _cli("evaluate", wide, "--y-true", "y_tru", "--y-pred", "y_pred"), "unknown column"
    )
    good = tmp_path / "good.csv"
    good.write_text("y_true,y_pred\n1.0,2.0\n")
    _assert_short_cli_error(_cli("evaluate", good, "--metrics", "m" * 100_000), "unknown metric", "mmm")
    _assert_short_cli_error(_cli("evaluate", good, "--huber-delta", "9" * 100_000 + "x"), "--huber-delta")
