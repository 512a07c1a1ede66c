"""The fused CPU path for NumPy inputs: the one place where ``np.`` appears in the numeric path.

Entered from :meth:`regloss.losses.Loss.__call__` and the functional losses when every array
argument is exactly a ``numpy.ndarray`` (``type(x) is np.ndarray``; a ``numpy.memmap``, a file's
data with the same arithmetic, too), a Python number or ``None``, and
``regloss.config.accelerator()`` is not ``"none"`` (``REGLOSS_ACCELERATOR=none`` forces the
generic array-API path, which is the reference this path is tested against). Two entries:

* :func:`fast_functional` / :func:`fast_loss_call`, *before* validation, for calls that the
  generic validation provably accepts unchanged (both inputs one float32/float64 dtype, equal to
  the result dtype, one shape, rank >= 1, a non-empty last axis; no weights, no masks): they skip
  the conversion machinery, which is most of the time of a (32, 10) call;
* :func:`evaluate`, *after* the generic validation (conversion, casts, rank reconciliation, shape
  checks, masks, weights), so that errors are the generic path's.

Either returns ``None`` when the call is not covered (see
:func:`regloss.kernels.blocked.trailing_split`), and the generic path continues. Tiers (see
:func:`_tier`): the numba tier (:mod:`regloss.kernels.numba_tier`, the ``fast`` extra) for inputs of
at least 65536 elements when numba is installed and ``accelerator()`` is ``"auto"`` or ``"numba"``
(what it does not cover goes on to the blocked tier), else the blocked NumPy tier
(:mod:`regloss.kernels.blocked`; ``accelerator()`` ``"numpy"`` forces it). numba is imported at the
first large call, never by ``import regloss``.
"""

from __future__ import annotations

import numpy as np

from .. import config
from .._xp import namespace_dtype
from . import blocked

RESTATED_ERRORS = (
    "squared_error",
    "absolute_error",
    "absolute_percentage_error",
    "huber_error",
    "quantile_error",
    "smooth_l1_error",
)
"""The kernel ids (:attr:`regloss.specs.LossSpec.kernel`) whose per-element errors the numba tier
restates (in this order: their ``kind`` numbers there); known here without importing numba."""

_DIRECT_DTYPES = {np.dtype("float32"): "float32", np.dtype("float64"): "float64"}


def active() -> bool:
    """Whether NumPy inputs take the fused path (``regloss.config.accelerator() != "none"``)."""
    return config.accelerator() != "none"


_ARRAY_TYPES = (np.ndarray, np.memmap)
_PLAIN_TYPES = (*_ARRAY_TYPES, float, int, bool, type(None))


def numpy_arrays(*values) -> bool:
    """Whether every value is exactly a ``numpy.ndarray`` (or ``numpy.memmap``), a Python number (a
    scalar sample weight) or ``None``: no other subclass, no list, no array of another library."""
    for value in values:  # noqa: SIM110 - a loop, not all(<generator>): measured faster per call
        if type(value) not in _PLAIN_TYPES:
            return False
    return True


_numba = {"module": None, "available": None}


def _numba_tier():
    """:mod:`regloss.kernels.numba_tier` when numba can be imported (looked up once), else None."""
    if _numba["available"] is None:
        import importlib.util

        _numba["available"] = importlib.util.find_spec("numba") is not None
    if _numba["available"] and _numba["module"] is None:
        try:
            from . import numba_tier
        except (ImportError, OSError):  # numba present but broken (a NumPy it does not support; llvmlite
            # unable to map its library under an address-space limit)
            _numba["available"] = False
            return None
        _numba["module"] = numba_tier
    return _numba["module"]


def _tier(size: int = 0):
    """The tier of an input of ``size`` elements: numba for large inputs when it is installed and
    ``accelerator()`` is ``"auto"`` or ``"numba"``, else the blocked NumPy tier."""
    if size >= _NUMBA_MIN_ELEMENTS and config.accelerator() in ("auto", "numba"):
        return _numba_tier() or blocked
    return blocked


_NUMBA_MIN_ELEMENTS = 1 << 16  # below: a blocked-tier call is a few microseconds; numba not imported


def _evaluate(formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype):
    """The chosen tier's result; calls the numba tier does not cover go to the blocked tier.
    None (the generic path) for a parameter with one value per output (Pinball's ``tau``)."""
    for key, value in params.items():  # (a loop, not any(<generator>): faster per small call)
        if isinstance(value, tuple) and key != "axis":
            return None
    size = y_pred.size
    tier = blocked if size < _NUMBA_MIN_ELEMENTS else _tier(size)  # small calls: no further lookup
    result = tier.evaluate(formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype)
    if result is None and tier is not blocked:
        result = blocked.evaluate(
            formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype
        )
    return result


def _direct_dtype(y_true, y_pred):
    """The dtype name when the generic validation would leave both inputs unchanged, else None."""
    if type(y_pred) not in _ARRAY_TYPES or type(y_true) not in _ARRAY_TYPES:
        return None
    dtype = y_pred.dtype
    shape = y_pred.shape
    if dtype != y_true.dtype or shape != y_true.shape or not shape or not shape[-1]:
        return None
    return _DIRECT_DTYPES.get(dtype)


def fast_functional(formula, y_true, y_pred, params: dict):
    """Per-sample losses of exact, already valid NumPy inputs (result in their dtype), or None."""
    dtype = _direct_dtype(y_true, y_pred)
    if dtype is None or not active():
        return None
    return _evaluate(formula, params, y_true, y_pred, None, None, None, y_pred.dtype)


def fast_loss_call(formula, params: dict, reduction, dtype: str, y_true, y_pred):
    """A loss class's call without weights or masks on exact, already valid NumPy inputs of the
    loss dtype (float32 or float64), or None."""
    if _direct_dtype(y_true, y_pred) != dtype or not active():
        return None
    return _evaluate(formula, params, y_true, y_pred, None, None, reduction, y_pred.dtype)


def evaluate(formula, params: dict, y_true, y_pred, element_mask, sample_weight, reduction, dtype: str):
    """The loss of validated inputs (see :func:`regloss.kernels.blocked.evaluate`), or None.

    ``dtype`` is the result dtype name (float16/bfloat16 results are computed from float32 inputs).
    """
    out_dtype = np.dtype(namespace_dtype(blocked.numpy_namespace(), dtype))
    return _evaluate(formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype)


def poisson_weighted_sums(row_keys, replicate_keys, thresholds, terms):
    """The bootstrap's replicate sums from the numba tier
    (:func:`regloss.kernels.numba_tier.poisson_weighted_sums`), or None when NumPy inputs do not
    take the accelerated tier (numba missing, ``accelerator()`` not ``"auto"``/``"numba"``)."""
    if config.accelerator() not in ("auto", "numba"):
        return None
    tier = _numba_tier()
    if tier is None:
        return None
    return tier.poisson_weighted_sums(row_keys, replicate_keys, thresholds, terms)


def column_sums(kernel: str, a: float, b: float, y_true, y_pred, sample_weight):
    """Per-output float64 sums of an error from the numba tier
    (:func:`regloss.kernels.numba_tier.column_sums`; ``regloss.sklearn``'s one-pass path), or None
    when it does not run: ``accelerator()`` not ``"auto"``/``"numba"``, fewer than 65536 elements,
    numba missing, or a call the kernel does not cover."""
    if y_pred.size < _NUMBA_MIN_ELEMENTS or config.accelerator() not in ("auto", "numba"):
        return None
    tier = _numba_tier()
    if tier is None:
        return None
    return tier.column_sums(kernel, a, b, y_true, y_pred, sample_weight)


def column_moments(y_true, y_pred, sample_weight):
    """Per-output centred moments of ``y_true`` and ``y_true - y_pred`` from the numba tier
    (:func:`regloss.kernels.numba_tier.column_moments`; ``regloss.sklearn``'s scores), or None when
    it does not run (as :func:`column_sums`)."""
    if y_pred.size < _NUMBA_MIN_ELEMENTS or config.accelerator() not in ("auto", "numba"):
        return None
    tier = _numba_tier()
    if tier is None:
        return None
    return tier.column_moments(y_true, y_pred, sample_weight)


def sklearn_column_sums(kernel: str, parameter: float, domain: int, y_true, y_pred, sample_weight):
    """Per-output float64 sums of a scikit-learn error and whether the domain was left, from the
    numba tier (:func:`regloss.kernels.numba_tier.sklearn_column_sums`), or None (as
    :func:`column_sums`)."""
    if y_pred.size < _NUMBA_MIN_ELEMENTS or config.accelerator() not in ("auto", "numba"):
        return None
    tier = _numba_tier()
    if tier is None:
        return None
    return tier.sklearn_column_sums(kernel, parameter, domain, y_true, y_pred, sample_weight)


def shared_sums(errors, moments: bool, y_true, y_pred, sample_weight, present, shift):
    """The sums a group of metrics needs from one chunk, from one launch of the numba tier's shared
    kernel (:func:`regloss.kernels.numba_tier.shared_sums`; :class:`regloss.metrics.MetricCollection`),
    or None when it does not run (as :func:`column_sums`)."""
    if y_pred.size < _NUMBA_MIN_ELEMENTS or config.accelerator() not in ("auto", "numba"):
        return None
    tier = _numba_tier()
    if tier is None:
        return None
    return tier.shared_sums(errors, moments, y_true, y_pred, sample_weight, present, shift)
