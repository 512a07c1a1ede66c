"""Where a metric's state lives: its array library and device, and the checks that keep it there.

A state is built on the library and device of its first batch and stays there: a batch, or another
state to merge, of another library is a ``TypeError``, on another device of the same library a
``ValueError``, each naming both places, raised before anything is computed (so the state is
unchanged). A *place* is a tuple ``(library, device)``:

- the library of the arrays that are not NumPy (array-api-compat's namespace); NumPy arrays,
  Python numbers and lists are ``"numpy"``, and so are Dask arrays (a metric class computes a Dask
  batch into a NumPy state);
- the device of the first array of that library (``None`` for a traced JAX value, which has none:
  a device is compared only when both are known).
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._xp import device_of

NUMPY = "numpy"

_LIBRARY_BY_TYPE: dict = {}
"""Cache: array type -> ``(namespace, library name)``, or None for NumPy-likes and Dask arrays."""


NUMPY_PLACE = (NUMPY, "cpu")


def _show(place: tuple) -> str:
    """``"cpu (torch)"``: a place's device and library."""
    return f"{place[1]} ({place[0]})"


def _library_of(value):
    cls = type(value)
    if cls not in _LIBRARY_BY_TYPE:
        found = None
        if not issubclass(cls, (np.ndarray, np.generic)) and array_api_compat.is_array_api_obj(value):
            namespace = array_api_compat.array_namespace(value)
            if not array_api_compat.is_dask_namespace(namespace):
                found = (namespace, namespace.__name__.removeprefix("array_api_compat."))
        _LIBRARY_BY_TYPE[cls] = found
    return _LIBRARY_BY_TYPE[cls]


def _place_of(value) -> tuple | None:
    """The place of one array, or None for a NumPy-like (a NumPy array, a number, a list) or a
    Dask array."""
    found = _library_of(value)
    if found is None:
        return None
    namespace, library = found
    return (library, device_of(namespace, value))


def batch_place(*arrays) -> tuple:
    """The place of a batch: that of its first array of a library other than NumPy (the one that
    :func:`regloss._xp.resolve` converts the others into), else NumPy's."""
    for value in arrays:
        if value is not None:
            place = _place_of(value)
            if place is not None:
                return place
    return NUMPY_PLACE


def _first_leaf(state):
    while isinstance(state, dict):
        state = next(iter(state.values()))
    return state


def state_place(state: dict) -> tuple:
    """The place of a state (a dict of arrays, possibly nested, as a bootstrap's)."""
    return _place_of(_first_leaf(state)) or NUMPY_PLACE


def _mismatch(found: tuple, home: tuple) -> type[Exception] | None:
    if found[0] != home[0]:
        return TypeError
    if found[1] is not None and home[1] is not None and found[1] != home[1]:
        return ValueError
    return None


def check_batch(state: dict, owner: str, *arrays) -> None:
    """Raise when the batch ``arrays`` (y_true, y_pred, sample_weight, mask) is not where ``state``
    lives: ``TypeError`` for another library, ``ValueError`` for another device."""
    home, found = state_place(state), batch_place(*arrays)
    error = _mismatch(found, home)
    if error is not None:
        raise error(
            f"batch on device {_show(found)}, but the state of {owner} lives on {_show(home)}: a "
            "stream stays on one array library and device (move the batch there, or "
            "reset_state() first)"
        )


def check_states(states) -> None:
    """Raise when the states ``[(label, state), ...]`` (None states skipped) do not all live in one
    place: ``TypeError`` for another library, ``ValueError`` for another device; ``label`` names a
    state in the message (``"the state of argument 0"``)."""
    home = None
    for label, state in states:
        if state is None:
            continue
        place = state_place(state)
        if home is None:
            home = (label, place)
            continue
        error = _mismatch(place, home[1])
        if error is not None:
            raise error(
                f"cannot merge {label}, on {_show(place)}, with {home[0]}, on {_show(home[1])}: merge "
                "states of one array library and device"
            )
