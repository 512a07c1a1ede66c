"""Shared fixtures: the suite runs on every installed array library through ``xp``."""

import importlib
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The namespace module each fixture value stands for (imported lazily, skipped when missing).
ARRAY_LIBRARIES = {
    "numpy": "numpy",
    "array_api_strict": "array_api_strict",
    "torch": "torch",
    "jax": "jax.numpy",
    "dask": "dask.array",
    "cupy": "cupy",
}


def _load(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if module_name == "jax.numpy":
        # float64 tests need JAX's x64 mode; regloss itself never switches it on.
        import jax

        jax.config.update("jax_enable_x64", True)
    if module_name == "cupy":
        try:
            module.cuda.runtime.getDeviceCount()
        except Exception:  # no driver or no device
            return None
    return module


@pytest.fixture(params=list(ARRAY_LIBRARIES))
def xp(request):
    """The namespace of one array library: numpy, array_api_strict, torch, jax.numpy, dask.array, cupy."""
    module = _load(ARRAY_LIBRARIES[request.param])
    if module is None:
        pytest.skip(f"{request.param} is not installed (or has no device)")
    return module
