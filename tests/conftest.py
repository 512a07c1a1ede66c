"""Shared fixtures: the suite runs on every installed array library through ``xp``."""

import importlib
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ARRAY_LIBRARIES = ["numpy", "array_api_strict"]


def _load(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@pytest.fixture(params=ARRAY_LIBRARIES)
def xp(request):
    """The namespace of one array library: ``numpy`` or ``array_api_strict``."""
    module = _load(request.param)
    if module is None:
        pytest.skip(f"{request.param} is not installed")
    return module
