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


@pytest.fixture(scope="module", params=[None, "none"], ids=["accelerator-as-set", "accelerator-none"])
def generic_path_too(request):
    """Run each test of a module twice: with ``REGLOSS_ACCELERATOR`` as set, then with
    ``REGLOSS_ACCELERATOR=none`` (the generic array-API path for NumPy inputs too). regloss reads
    the variable when it is imported, so the second run sets both the variable (for the
    subprocesses the tests start) and the value regloss read from it; both are restored after the
    module. Used by the modules of the fused NumPy paths and of bad input (``pytestmark``)."""
    if request.param is None:
        yield
        return
    from regloss import config

    saved_variable = os.environ.get("REGLOSS_ACCELERATOR")
    saved_read = config._ENVIRONMENT["REGLOSS_ACCELERATOR"]
    os.environ["REGLOSS_ACCELERATOR"] = request.param
    config._ENVIRONMENT["REGLOSS_ACCELERATOR"] = request.param
    try:
        yield
    finally:
        config._ENVIRONMENT["REGLOSS_ACCELERATOR"] = saved_read
        if saved_variable is None:
            os.environ.pop("REGLOSS_ACCELERATOR", None)
        else:
            os.environ["REGLOSS_ACCELERATOR"] = saved_variable
