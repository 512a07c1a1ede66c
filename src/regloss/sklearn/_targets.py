"""scikit-learn's checks of a regression task (its ``_check_reg_targets``), on any array library.

:func:`check_targets` converts and checks the shapes at once; the checks that read every value
(NaN and infinity in the inputs, weights that are all zero or sum to zero) are deferred to
:meth:`Targets.check_values`, which :mod:`regloss.sklearn._columns` calls only when a computed
total shows that something is off (a NaN or an infinite input makes its output's total non-finite;
a zero weight sum shows in the totals), so a valid call reads its inputs once. The order of the
errors is scikit-learn's: non-finite inputs, then domain errors, then weights that sum to zero.

Dtype rule (scikit-learn's ``_find_matching_floating_dtype``): the computation runs in the
promoted float dtype of those of ``y_true``, ``y_pred`` and ``sample_weight`` that are float arrays
(lists and numbers do not count), else in the library's default float dtype (float64 on NumPy,
``torch.get_default_dtype()`` on torch). Integers and booleans are cast to it.
"""

from __future__ import annotations

import array_api_compat
import numpy as np

from .._messages import show_value
from .._xp import host_array, received, resolve
from ._params import check_array_like


class Targets:
    """Checked inputs: ``y_true`` and ``y_pred`` as ``(n_samples, n_outputs)`` arrays of ``xp`` in the
    compute dtype, ``sample_weight`` a 1-D array of it or None, ``output_weights`` a float64 NumPy
    array of ``n_outputs`` weights or None, and ``multioutput`` the option string or ``"weights"``."""

    __slots__ = ("function", "xp", "y_true", "y_pred", "sample_weight", "multioutput", "output_weights")

    def __init__(self, function, xp, y_true, y_pred, sample_weight, multioutput, output_weights):
        self.function = function
        self.xp = xp
        self.y_true = y_true
        self.y_pred = y_pred
        self.sample_weight = sample_weight
        self.multioutput = multioutput
        self.output_weights = output_weights

    @property
    def n_samples(self) -> int:
        return self.y_true.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.y_true.shape[1]

    def check_finite(self) -> None:
        """ValueError naming the first of ``y_true``, ``y_pred``, ``sample_weight`` with a NaN or an
        infinity (scikit-learn's ``check_array``)."""
        xp = self.xp
        for name in ("y_true", "y_pred", "sample_weight"):
            array = getattr(self, name)
            if array is None or bool(xp.all(xp.isfinite(array))):
                continue
            kind = "NaN" if bool(xp.any(xp.isnan(array))) else "infinity"
            raise ValueError(f"{self.function}: {name} contains {kind}; every value must be finite")

    def check_weights(self) -> None:
        """ValueError when every sample weight is zero; ZeroDivisionError when they sum to zero
        (scikit-learn's ``_check_sample_weight`` and ``_average``)."""
        weights = self.sample_weight
        if weights is None:
            return
        xp = self.xp
        if not bool(xp.any(weights != 0)):
            raise ValueError(
                f"{self.function}: sample_weight must contain at least one non-zero number; "
                "received only zeros"
            )
        if float(xp.sum(weights)) == 0.0:
            raise ZeroDivisionError(
                f"{self.function}: sample_weight sums to zero; the weighted mean is undefined"
            )

    def check_values(self) -> None:
        """Both checks, in scikit-learn's order."""
        self.check_finite()
        self.check_weights()


def _is_foreign(value) -> bool:
    """Whether ``value`` is an array of a library other than NumPy (torch, JAX, Dask, CuPy...)."""
    return not isinstance(value, (np.ndarray, np.generic)) and array_api_compat.is_array_api_obj(value)


def _numpy_like(function: str, name: str, value):
    """A NumPy array of a value no other array library owns: complex values are a ValueError and
    strings are parsed as numbers, as scikit-learn's ``check_array`` does."""
    if _is_foreign(value):
        return value
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{function}: {name} could not be converted to an array (ragged nested sequences?); "
            f"received {received(value)}"
        ) from error
    if array.dtype.kind == "c":
        raise ValueError(f"{function}: {name} must hold real numbers; received complex {received(array)}")
    if array.dtype.kind in "USO":
        try:
            array = array.astype(np.float64)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{function}: {name} must hold numbers; received {received(value)}") from error
    return array


def _check_lengths(function: str, arrays: dict) -> int:
    for name, array in arrays.items():
        if array is not None and array.ndim == 0:
            raise TypeError(
                f"{function}: {name} must have at least one dimension (a collection of samples); "
                f"received a 0-d {received(array)}"
            )
    lengths = {name: int(array.shape[0]) for name, array in arrays.items() if array is not None}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"{function}: inputs with inconsistent numbers of samples: {shown}")
    return next(iter(lengths.values()))


def _check_target_shape(function: str, name: str, array) -> None:
    if array.ndim > 2:
        raise ValueError(f"{function}: {name} must be 1-D or 2-D; received {received(array)}")
    if array.shape[0] == 0:
        raise ValueError(f"{function}: {name} must hold at least one sample; received {received(array)}")
    if array.ndim == 2 and array.shape[1] == 0:
        raise ValueError(f"{function}: {name} must hold at least one output; received {received(array)}")


def compute_dtype(xp, arrays: dict, weak: set):
    """The float dtype of the computation (see the module docstring)."""
    floats = [
        array.dtype
        for name, array in arrays.items()
        if array is not None and name not in weak and xp.isdtype(array.dtype, "real floating")
    ]
    if floats:
        return xp.result_type(*floats)
    return xp.asarray(0.0).dtype


def _output_weights(function: str, multioutput, n_outputs: int) -> np.ndarray:
    try:
        weights = host_array(multioutput).astype(np.float64)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{function}: multioutput weights must be numbers; received {show_value(multioutput)}"
        ) from error
    if weights.ndim > 2 or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"{function}: multioutput weights must be a finite 1-D array; received {show_value(multioutput)}"
        )
    if n_outputs == 1:
        raise ValueError(
            f"{function}: multioutput weights are only meaningful with several outputs; received "
            f"multioutput={show_value(multioutput)} for a single output"
        )
    if weights.ndim == 0 or weights.shape[0] != n_outputs:
        raise ValueError(
            f"{function}: multioutput must hold one weight per output ({n_outputs}); received "
            f"{weights.size} weights: {show_value(multioutput)}"
        )
    if weights.ndim != 1:
        raise TypeError(f"{function}: multioutput weights must be 1-D; received shape {weights.shape}")
    return weights


def check_targets(
    function: str, y_true, y_pred, sample_weight=None, multioutput="uniform_average"
) -> Targets:
    """Validate and convert the inputs of ``function`` (its name, for the messages).

    ``multioutput`` must already be a valid option or array-like
    (:func:`regloss.sklearn._params.check_multioutput`); ``None`` is for the functions without one.
    """
    check_array_like(function, "y_true", y_true)
    check_array_like(function, "y_pred", y_pred)
    check_array_like(function, "sample_weight", sample_weight, optional=True)
    given = {"y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight}
    weak = {name for name, value in given.items() if value is not None and not hasattr(value, "dtype")}
    converted = {
        name: None if value is None else _numpy_like(function, name, value) for name, value in given.items()
    }
    xp, arrays, _ = resolve(**converted)
    _check_lengths(function, arrays)
    _check_target_shape(function, "y_true", arrays["y_true"])
    _check_target_shape(function, "y_pred", arrays["y_pred"])
    weights = arrays["sample_weight"]
    if weights is not None and weights.ndim != 1:
        raise ValueError(
            f"{function}: sample_weight must be a 1-D array of one weight per sample; "
            f"received {received(weights)}"
        )
    dtype = compute_dtype(xp, arrays, weak)
    cast = {
        name: None if array is None else (array if array.dtype == dtype else xp.astype(array, dtype))
        for name, array in arrays.items()
    }
    true, pred = cast["y_true"], cast["y_pred"]
    if true.ndim == 1:
        true = xp.reshape(true, (-1, 1))
    if pred.ndim == 1:
        pred = xp.reshape(pred, (-1, 1))
    if true.shape[1] != pred.shape[1]:
        raise ValueError(
            f"{function}: y_true and y_pred must have the same number of outputs; received "
            f"{true.shape[1]} and {pred.shape[1]}"
        )
    output_weights = None
    if multioutput is not None and not isinstance(multioutput, str):
        output_weights = _output_weights(function, multioutput, true.shape[1])
        multioutput = "weights"
    return Targets(function, xp, true, pred, cast["sample_weight"], multioutput, output_weights)
