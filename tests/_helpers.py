"""Helpers shared by the tests."""

import contextlib
import tracemalloc

import numpy as np

from regloss import config
from tests._cases import BY_METRIC, FUNCTION_NAMES, METRIC_ONLY_DOMAINS

_LIBRARY_BY_MODULE = {"jaxlib": "jax", "jax": "jax"}

# The Keras 3 regression loss functions, by name (from the test table, not read from regloss).
LOSS_FUNCTION_NAMES = list(FUNCTION_NAMES)


def to_numpy(x):
    """Any array (or number) of any library as a NumPy array, for comparison with float64 references."""
    if isinstance(x, np.ndarray | np.generic | float | int):
        return np.asarray(x)
    library = library_of(x)
    if library == "array_api_strict":
        return np.asarray(x._array)
    if library == "torch":
        import torch

        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    if library == "cupy":
        return x.get()
    if library == "dask":
        return np.asarray(x.compute())
    return np.asarray(x)


def library_of(x):
    """The name of the library an array comes from: numpy, array_api_strict, torch, jax, dask, cupy."""
    top = type(x).__module__.split(".")[0]
    return _LIBRARY_BY_MODULE.get(top, top)


def library_name(xp):
    """The library name of a namespace module (``jax.numpy`` -> ``jax``)."""
    return xp.__name__.split(".")[0]


def peak_of(function) -> int:
    """The tracemalloc peak, in bytes, of one call of ``function()``."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@contextlib.contextmanager
def threads(count):
    """Run the block with the fused path limited to ``count`` threads."""
    config.set_num_threads(count)
    try:
        yield
    finally:
        config.set_num_threads(None)


def run_keras_worker(worker, work, backend: str, request: dict, arrays: dict, version: str = "3.15.1"):
    """Run a Keras oracle worker script (``worker REQUEST.json ARRAYS.npz OUT.json OUT.npz``) in a
    subprocess with ``KERAS_BACKEND=backend`` and a private ``KERAS_HOME`` under the folder
    ``work``; returns ``(meta, values)``: the worker's JSON and its arrays. Skips the test when
    the worker cannot import Keras or finds a version other than ``version``."""
    import json
    import os
    import subprocess
    import sys

    import pytest

    paths = [work / f"{backend}-{name}" for name in ("request.json", "arrays.npz", "out.json", "out.npz")]
    paths[0].write_text(json.dumps(request))
    np.savez(paths[1], **arrays)
    env = {**os.environ, "KERAS_BACKEND": backend, "KERAS_HOME": str(work / f"keras_home_{backend}")}
    proc = subprocess.run(
        [sys.executable, str(worker), *map(str, paths)],
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0 or not paths[2].exists():
        pytest.fail(
            f"Keras worker {worker} ({backend}) failed (rc={proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    meta = json.loads(paths[2].read_text())
    if meta["status"] == "skip":
        pytest.skip(meta["reason"])
    if meta["keras_version"] != version:
        pytest.skip(f"the oracle is Keras {version}; found {meta['keras_version']}")
    assert meta["backend"] == backend, meta["backend"]
    with np.load(paths[3], allow_pickle=False) as npz:
        return meta, {k: npz[k] for k in npz.files}


def metric_data(class_name, rng, shape):
    """(y_true, y_pred) float64 NumPy arrays for the metric ``class_name``, in the domain of the
    loss it averages (the test table's column): counts and positive rates for "positive", values
    in [0, 1] for "unit"; MAPE's targets stay away from 0, where percentages explode; R2's
    predictions follow the targets (off-centre), so that the score is far from 0."""
    domain = (
        BY_METRIC[class_name].domain
        if class_name in BY_METRIC
        else METRIC_ONLY_DOMAINS.get(class_name, "real")
    )
    if class_name == "MeanAbsolutePercentageError":
        y_true = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
        return y_true, y_true + rng.normal(0.0, 0.5, size=shape)
    if class_name == "R2Score":
        y_true = 0.5 + rng.normal(size=shape)
        return y_true, y_true + rng.normal(0.0, 0.6, size=shape)
    if domain == "positive":
        return rng.poisson(2.0, size=shape).astype(float), rng.uniform(0.1, 4.0, size=shape)
    if domain == "strict":
        return rng.uniform(0.1, 4.0, size=shape), rng.uniform(0.1, 4.0, size=shape)
    if domain == "unit":
        return rng.uniform(0.0, 1.0, size=shape), rng.uniform(0.0, 1.0, size=shape)
    return rng.normal(size=shape), rng.normal(size=shape)
