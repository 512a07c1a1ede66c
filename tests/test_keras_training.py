"""Keras 3 training with regloss losses, on the JAX and the PyTorch Keras backends.

Keras fixes its backend per process, so each backend runs tests/keras_training_worker.py once in a
subprocess (``KERAS_BACKEND``, a temporary ``KERAS_HOME``, ``JAX_PLATFORMS=cpu``) and prints its
figures as JSON; the tests below assert on them. See the worker's docstring for the models.

Agreement is "float32 tolerance": relative 1e-5 (absolute 1e-7) on losses, 1e-5 absolute on trained
weights of order 1. Measured on both backends: before training at most 1.1e-7 relative; after 8
epochs at most 5.6e-6 relative (LogCosh, 4e-9 absolute) and weights within 2.4e-7.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("keras_training_worker.py")
BACKENDS = ["jax", "torch"]
RTOL = 1e-5
# XLA's CPU optimisation passes only slow down compiling these tiny models (seconds each).
FAST_XLA = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"


@functools.cache
def _run_worker(backend: str) -> dict:
    missing = [name for name in ("keras", backend) if importlib.util.find_spec(name) is None]
    if missing:
        return {"skip": f"not installed: {', '.join(missing)}"}
    with tempfile.TemporaryDirectory() as keras_home:
        env = dict(os.environ, KERAS_BACKEND=backend, KERAS_HOME=keras_home, JAX_PLATFORMS="cpu")
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {FAST_XLA}".strip()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(WORKER.parent.parent), env.get("PYTHONPATH")]))
        done = subprocess.run(
            [sys.executable, str(WORKER)], capture_output=True, text=True, env=env, timeout=300, check=False
        )
    assert done.returncode == 0, f"worker failed on {backend}:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(params=BACKENDS)
def run(request):
    found = _run_worker(request.param)
    if "skip" in found:
        print(f"SKIPPED Keras {request.param} backend: {found['skip']}")
        pytest.skip(found["skip"])
    return found


def _close(first: float, second: float, rtol: float = RTOL) -> bool:
    return math.isclose(first, second, rel_tol=rtol, abs_tol=1e-7)


def _pairs(run):
    for case, found in run["cases"].items():
        for pair in found["pairs"]:
            yield case, pair


def test_adapter_evaluate_matches_keras_loss_of_same_name(run):
    """evaluate() with as_keras_loss(regloss loss) equals Keras's loss, before and after training,
    with masks, (B, T) and (B,) weights, on identical weights."""
    for case, pair in _pairs(run):
        where = f"{run['backend']} {case} {pair['loss']}"
        assert _close(pair["initial_regloss"], pair["initial_keras"]), where
        assert _close(pair["trained_regloss"], pair["trained_keras"]), where
        assert pair["adapter_name"] == pair["regloss_name"], where


def test_keras_mse_matches_independent_numpy_reference(run):
    """Guards the comparison itself: the mask and the weights really reached both losses."""
    for case, found in run["cases"].items():
        assert _close(found["initial"]["mse_keras"], found["numpy_reference_mse_initial"]), case
        assert _close(found["initial"]["mse_regloss"], found["numpy_reference_mse_initial"]), case


def test_adapter_trains_like_keras_loss(run):
    """The loss decreases, and the regloss head follows the Keras head's trajectory exactly."""
    for case, pair in _pairs(run):
        where = f"{run['backend']} {case} {pair['loss']}"
        history = pair["history_regloss"]
        assert history[-1] < history[0], where
        assert pair["trained_regloss"] < 0.75 * pair["initial_regloss"], where
        assert all(_close(a, b, 1e-4) for a, b in zip(history, pair["history_keras"], strict=True)), where
        assert pair["weights_max_abs_difference"] < 1e-5, where


def test_regloss_function_works_in_compile_as_it_is(run):
    """compile(loss=regloss.losses.mean_squared_error): Keras weights, masks and reduces."""
    for case, found in run["cases"].items():
        assert _close(found["initial"]["mse_function"], found["initial"]["mse_keras"]), case
        history = found["history"]["mse_function"]
        assert history[-1] < 0.75 * history[0], case
        keras_history = found["history"]["mse_keras"]
        assert all(_close(a, b, 1e-4) for a, b in zip(history, keras_history, strict=True)), case


def test_raw_instance_in_compile_gives_wrong_numbers_with_weights(run):
    """A regloss instance without the adapter: Keras re-weights the already reduced loss.

    With weights the result is ``unweighted_loss * sum(w over present) / n_present`` instead of the
    weighted mean; with a mask only (all-one weights) it happens to be right, because the instance
    reads Keras's mask itself and Keras's mask rescaling of a scalar averages to one.
    """
    for case, found in run["cases"].items():
        initial = found["initial"]
        assert not _close(initial["mse_raw_instance"], initial["mse_keras"], 1e-3), case
        assert _close(initial["mse_raw_instance"], found["raw_instance_prediction"]), case
        assert _close(initial["mse_raw_instance_unweighted"], initial["mse_keras_unweighted"]), case


def test_nan_targets_in_masked_timesteps_stay_out(run):
    """Masked timesteps with NaN targets: the adapter zeroes them first (finite loss, finite
    weights after training); Keras 3.15.1's own loss multiplies NaN by its mask and gives NaN."""
    found = run["cases"]["temporal"]
    assert _close(found["initial"]["mse_nan_targets_regloss"], found["initial"]["mse_regloss"])
    assert all(math.isfinite(v) for v in found["history"]["mse_nan_targets_regloss"])
    assert found["weights_finite"]["mse_nan_targets_regloss"]
    print(f"Keras's own MSE with NaN in masked targets: {found['initial']['mse_nan_targets_keras']}")


def test_config_round_trips_and_model_saves(run):
    config = run["config"]
    assert (
        config["regloss_config"] == config["original_regloss_config"] == config["from_config_regloss_config"]
    )
    assert config["regloss_config"]["delta"] == 0.25
    assert (config["name"], config["reduction"], config["dtype"]) == ("huber_loss", "sum", "float32")
    assert config["subclass_type"] == "MeanCubedError"
    assert config["subclass_config"] == {"name": "cubed", "reduction": "sum"}
    saved = run["saved_model"]
    assert saved["loss_type"] == "KerasLossAdapter"
    assert saved["regloss_config"] == config["original_regloss_config"]


def test_import_regloss_keras_does_not_import_keras():
    code = (
        "import sys, regloss, regloss.keras\n"
        "from regloss.keras import as_keras_loss\n"
        "assert 'keras' not in sys.modules, sorted(m for m in sys.modules if m.startswith('keras'))\n"
        "try:\n"
        "    as_keras_loss(regloss.losses.mean_squared_error)\n"
        "except TypeError:\n"
        "    pass\n"
        "assert 'keras' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_as_keras_loss_rejects_what_is_not_a_regloss_loss():
    import regloss
    from regloss.keras import as_keras_loss

    for wrong in (regloss.losses.mean_squared_error, "mse", None, regloss.losses.MeanSquaredError):
        with pytest.raises(TypeError, match="regloss.losses.Loss instance"):
            as_keras_loss(wrong)
