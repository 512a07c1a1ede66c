"""Helpers shared by the tests."""

import contextlib

import numpy as np

from regloss import config
from tests._cases import FUNCTION_NAMES

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


@contextlib.contextmanager
def threads(count):
    """Run the block with the fused path limited to ``count`` threads."""
    config.set_num_threads(count)
    try:
        yield
    finally:
        config.set_num_threads(None)
