"""Importing regloss is light: no array library or wrapper is imported until it is needed."""

import importlib.metadata
import json
import subprocess
import sys

import regloss

HEAVY = [
    "torch",
    "jax",
    "jaxlib",
    "cupy",
    "dask",
    "tensorflow",
    "keras",
    "array_api_strict",
    "ml_dtypes",
]
COMPAT_WRAPPERS = ["numpy", "torch", "cupy", "dask", "jax", "tensorflow", "sparse", "ndonnx"]


def _modules_after(code):
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _offending(modules, heavy=HEAVY, wrappers=COMPAT_WRAPPERS):
    bad = {m for m in modules if m.split(".")[0] in heavy}
    bad |= {m for m in modules if m.startswith("array_api_compat.") and m.split(".")[1] in wrappers}
    return sorted(bad)


def test_import_regloss_is_light():
    modules = _modules_after("import regloss")
    assert "regloss" in modules
    assert _offending(modules) == []


def test_public_attributes_are_light():
    modules = _modules_after(
        "import regloss\n"
        "regloss.__version__; regloss.losses; regloss.metrics; regloss.config; regloss.Reduction\n"
        "import regloss.losses, regloss.metrics, regloss.config\n"
        "regloss.losses.MeanSquaredError(); regloss.losses.get('mse')\n"
        "regloss.losses.serialize(regloss.losses.Huber(delta=2.0))"
    )
    assert _offending(modules) == []


def test_numpy_computation_imports_no_other_library():
    modules = _modules_after(
        "import numpy as np, regloss\n"
        "t = np.ones((2, 3)); p = np.zeros((2, 3))\n"
        "regloss.losses.MeanSquaredError()(t, p, sample_weight=np.ones(2))\n"
        "regloss.losses.Dice()(t, p); regloss.losses.mean_squared_error(t, p)\n"
        "regloss.losses.CosineSimilarity(dtype='float64')([[1.0, 2.0]], [[2.0, 1.0]])"
    )
    heavy = [m for m in HEAVY if m != "ml_dtypes"]
    wrappers = [w for w in COMPAT_WRAPPERS if w != "numpy"]
    assert _offending(modules, heavy, wrappers) == [], "a NumPy-only computation imported another library"


def test_version():
    assert isinstance(regloss.__version__, str)
    assert regloss.__version__
    assert importlib.metadata.version("regloss") == regloss.__version__
