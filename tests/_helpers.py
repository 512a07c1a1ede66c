"""Helpers shared by the tests."""

import numpy as np


def to_numpy(x):
    """Any array (or number) as a NumPy array, for comparison with float64 references."""
    if isinstance(x, np.ndarray | np.generic | float | int):
        return np.asarray(x)
    if type(x).__module__.startswith("array_api_strict"):
        return np.asarray(x._array)
    return np.asarray(x)


def library_of(x):
    """The top-level module name of the library an array comes from."""
    return type(x).__module__.split(".")[0]
