"""Array namespaces, devices, conversion of array-likes, and dtype rules.

Every public entry point calls :func:`resolve` once. The rule: the one non-NumPy array library among
the arguments decides the namespace; NumPy arrays, Python numbers, lists and objects with
``__array__`` (pandas, xarray) are converted with ``np.asarray`` and then moved into that library,
onto ``y_pred``'s device (or the device of the first non-NumPy argument). No validation reads array
values.
"""

from __future__ import annotations

import sys

import array_api_compat
import numpy as np

from . import config
from ._messages import show_value

_REJECTED_TYPES = (str, bytes, dict, set, frozenset)

# The name regloss.losses.registry imports.
short_repr = show_value


def keras_mask(y_pred):
    """The mask Keras attached to ``y_pred``, read only when Keras is already imported."""
    if "keras" not in sys.modules:
        return None
    try:
        from keras.src.backend import get_keras_mask
    except ImportError:
        return None
    return get_keras_mask(y_pred)


def received(value) -> str:
    """A short description of a value for error messages: its type, and its bounded repr
    (:func:`regloss._messages.show_value`), or the shape and dtype of an array."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {dtype_name(value.dtype)}"
    return f"{type(value).__name__} {show_value(value)}"


def dtype_name(dtype) -> str:
    """The plain name of a dtype of any library: ``"float32"``, ``"bfloat16"``, ``"int64"``..."""
    name = getattr(dtype, "name", None)
    if isinstance(name, str):
        return name
    return str(dtype).rsplit(".", 1)[-1]


# Cache: array type -> its namespace, or None for NumPy arrays and array-likes (lists, numbers,
# objects with __array__). A type always has the same namespace, so this only saves the lookup.
_NAMESPACE_BY_TYPE: dict = {}
_UNKNOWN = object()


def _foreign_namespace(value):
    """The namespace of a non-NumPy array, or ``None`` for anything NumPy converts."""
    cls = type(value)
    namespace = _NAMESPACE_BY_TYPE.get(cls, _UNKNOWN)
    if namespace is _UNKNOWN:
        if issubclass(cls, (np.ndarray, np.generic)) or not array_api_compat.is_array_api_obj(value):
            namespace = None
        else:
            namespace = array_api_compat.array_namespace(value)
        _NAMESPACE_BY_TYPE[cls] = namespace
    return namespace


def _is_real_dtype_name(name: str) -> bool:
    return name == "bool" or name.startswith(("int", "uint", "float", "bfloat"))


def _library_name(namespace) -> str:
    name = namespace.__name__
    return name.removeprefix("array_api_compat.")


def _check_acceptable(name: str, value) -> None:
    if isinstance(value, np.matrix):
        raise TypeError(f"{name} must be an array, not np.matrix; use np.asarray({name})")
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} must be a plain array, not a NumPy masked array; pass its mask with mask= instead"
        )
    if isinstance(value, _REJECTED_TYPES) or value is None:
        raise TypeError(f"{name} must be an array or a number; received {received(value)}")


def _as_numpy(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} could not be converted to an array (ragged nested sequences?); "
            f"received {received(value)}"
        ) from error
    if array.dtype.kind == "f" and array.dtype.name not in LOSS_DTYPE_NAMES[:4]:
        raise TypeError(
            f"{name} has dtype {array.dtype.name}, which the array API does not have; "
            "cast it to float64 first"
        )
    if array.dtype.kind not in "biuf" and array.dtype.name != "bfloat16":
        raise TypeError(
            f"{name} must hold booleans, integers or real floats; received dtype "
            f"{array.dtype.name} from {received(value)}"
        )
    return array


def resolve(**arguments):
    """Find the namespace of the arguments and convert every one of them into it.

    Returns ``(xp, arrays, weak)``: ``arrays`` maps each name to an array of ``xp`` (``None``
    stays ``None``); ``weak`` is the set of names given as Python numbers or (nested) lists, whose
    float dtype is decided by ``floatx`` as in Keras rather than by NumPy's float64 default.
    """
    same_library = _same_library_pair(arguments)
    if same_library is not None:
        return same_library, arguments, set()
    foreign, namespaces = {}, {}
    for name, value in arguments.items():
        if value is None and name not in ("y_true", "y_pred"):
            continue
        _check_acceptable(name, value)
        namespace = _foreign_namespace(value)
        if namespace is not None:
            foreign[name] = value
            namespaces.setdefault(namespace, name)
    if len(namespaces) > 1:
        (first, first_name), (second, second_name) = list(namespaces.items())[:2]
        raise TypeError(
            f"{first_name} is a {_library_name(first)} array but {second_name} is a "
            f"{_library_name(second)} array; pass arrays of one library (NumPy arrays and lists "
            "may be mixed with any one library)"
        )

    if not foreign:
        xp = _numpy_namespace()
        arrays, weak = _convert_numpy_likes(arguments, xp, None)
        return xp, arrays, weak

    xp = next(iter(namespaces))
    lead = "y_pred" if "y_pred" in foreign else next(iter(foreign))
    devices = {name: device_of(xp, value) for name, value in foreign.items()}
    # A traced value (jax.jit) has no device: only known devices are compared.
    device = (
        devices[lead]
        if devices[lead] is not None
        else next((d for d in devices.values() if d is not None), None)
    )
    for name, other in devices.items():
        if device is not None and other is not None and other != device:
            raise ValueError(
                f"{lead} is on device {device} but {name} is on device {other}; move them to one device"
            )
    for name, value in foreign.items():
        if not _is_real_dtype_name(dtype_name(value.dtype)):
            raise TypeError(f"{name} must hold booleans, integers or real floats; received {received(value)}")
    arrays, weak = _convert_numpy_likes(arguments, xp, device, foreign)
    return xp, arrays, weak


def _same_library_pair(arguments: dict):
    """The namespace when ``resolve`` has nothing to convert: ``y_true`` and ``y_pred`` arrays of
    one non-NumPy type, on one known device, of real dtypes, and every other argument None (the
    common call, whose general resolution is a noticeable share of a small eager call); else None."""
    y_true, y_pred = arguments.get("y_true"), arguments.get("y_pred")
    cls = type(y_pred)
    if type(y_true) is not cls:
        return None
    for name, value in arguments.items():
        if value is not None and name != "y_true" and name != "y_pred":
            return None
    xp = _NAMESPACE_BY_TYPE.get(cls)
    if xp is None:  # NumPy, array-likes, or a type not seen yet: the general path
        return None
    device = device_of(xp, y_pred)
    if device is None or device_of(xp, y_true) != device:
        return None
    dtype = y_pred.dtype
    if not _is_real_dtype(dtype):
        return None
    if y_true.dtype != dtype and not _is_real_dtype(y_true.dtype):
        return None
    return xp


_REAL_BY_DTYPE: dict = {}


def _is_real_dtype(dtype) -> bool:
    """:func:`_is_real_dtype_name` of a dtype object, remembered per dtype (a few a process)."""
    key = (type(dtype), dtype)  # the type first: dtypes of two libraries are never compared
    try:
        return _REAL_BY_DTYPE[key]
    except KeyError:
        real = _REAL_BY_DTYPE[key] = _is_real_dtype_name(dtype_name(dtype))
        return real
    except TypeError:  # an unhashable dtype object
        return _is_real_dtype_name(dtype_name(dtype))


def _numpy_namespace():
    import array_api_compat.numpy as numpy_namespace

    return numpy_namespace


def _convert_numpy_likes(arguments: dict, xp, device, foreign=None):
    """Every argument as an array of ``xp``: NumPy-likes through ``np.asarray``, onto ``device``."""
    arrays, weak = {}, set()
    for name, value in arguments.items():
        if foreign and name in foreign:
            arrays[name] = value
        elif value is None:
            arrays[name] = None
        else:
            if not hasattr(value, "dtype"):
                weak.add(name)
            arrays[name] = _into(xp, _as_numpy(name, value), device)
    return arrays, weak


def device_of(xp, array):
    """The device of an array of ``xp``. A torch tensor's is read directly: array-api-compat's
    generic lookup tries every library in turn, a noticeable share of a small call."""
    if array_api_compat.is_torch_namespace(xp):
        return array.device
    return array_api_compat.device(array)


def _into(xp, array: np.ndarray, device):
    if array_api_compat.is_numpy_namespace(xp):
        return array
    # A read-only NumPy array is copied: some libraries (torch) would otherwise share its memory
    # as a writable tensor.
    copy = True if not array.flags.writeable else None
    return xp.asarray(array, device=device, copy=copy)


# ---------------------------------------------------------------------------------- adapters


def clip(xp, x, lower=None, upper=None):
    """``x`` clipped to Python-number bounds, in ``x``'s dtype (a weak scalar, never promoting).

    The one per-library primitive: array-api-compat's Dask ``clip`` broadcasts shapes eagerly
    and fails on arrays of unknown size (from a DataFrame), so Dask uses its own lazy method; on
    NumPy, ``maximum``/``minimum`` do the same work without the compat layer's overhead.
    """
    if array_api_compat.is_dask_namespace(xp):
        return x.clip(lower, upper)
    if array_api_compat.is_torch_namespace(xp):
        # torch's own clamp with Python-number bounds: the compat layer's clip checks its
        # arguments in Python first (~1 us, a share of a small eager call).
        return x.clamp(lower, upper)
    if array_api_compat.is_numpy_namespace(xp):
        # array-api-compat's NumPy clip checks and broadcasts its bounds in Python (~17 us a call,
        # more than the arithmetic of a block); a weak Python scalar keeps x's dtype here.
        if lower is not None:
            x = xp.maximum(x, float(lower))
        return x if upper is None else xp.minimum(x, float(upper))
    return xp.clip(x, min=lower, max=upper)


# ----------------------------------------------------------------------------------- dtypes

LOSS_DTYPE_NAMES = ("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16")
_POLICY_COMPUTE = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
LOW_PRECISION = ("float16", "bfloat16")


def standardize_dtype(dtype, argument: str = "dtype") -> str:
    """The compute dtype name of a loss ``dtype`` argument (Keras semantics).

    ``None`` means ``config.floatx()``; a policy name ``"mixed_float16"`` computes in ``float16``;
    a Keras ``DTypePolicy`` (or its config dict) contributes its compute dtype; NumPy, JAX and
    torch float dtypes are accepted by name.
    """
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, dict):
        inner = dtype.get("config")
        name = inner.get("name") if isinstance(inner, dict) else None
        if dtype.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(name, str):
            return standardize_dtype(name, argument)
    elif isinstance(dtype, str):
        name = dtype.removeprefix("torch.")
        if name in LOSS_DTYPE_NAMES:
            return _POLICY_COMPUTE.get(name, name)
    elif isinstance(getattr(dtype, "compute_dtype", None), str):
        return standardize_dtype(dtype.compute_dtype, argument)
    else:
        name = _dtype_object_name(dtype)
        if name in LOSS_DTYPE_NAMES[:4]:
            return name
    raise ValueError(
        f"{argument} must be one of {', '.join(map(repr, LOSS_DTYPE_NAMES))} or None; "
        f"received {argument}={show_value(dtype)}"
    )


def _dtype_object_name(dtype) -> str | None:
    """The name of a NumPy, JAX or torch dtype object (or type), ``None`` for anything else: lists,
    nested or not, and objects whose ``str`` fails are no dtypes."""
    if isinstance(dtype, (list, tuple, set, frozenset, bytes)):
        return None
    try:
        return dtype_name(np.dtype(dtype))
    except TypeError:
        pass
    except Exception:  # NumPy's own errors on odd objects: no dtype
        return None
    try:
        return dtype_name(dtype)
    except Exception:  # a str() that fails: no dtype
        return None


def namespace_dtype(xp, name: str):
    """The dtype object called ``name`` in namespace ``xp`` (``bfloat16`` via ``ml_dtypes`` on NumPy)."""
    found = getattr(xp, name, None)
    if found is not None:
        return found
    if name == "bfloat16" and array_api_compat.is_numpy_namespace(xp):
        try:
            import ml_dtypes
        except ImportError as error:
            raise ValueError(
                "dtype 'bfloat16' on NumPy arrays needs the ml_dtypes package: "
                "pip install 'regloss[bfloat16]'"
            ) from error
        return ml_dtypes.bfloat16
    raise ValueError(f"dtype {name!r} is not supported by the array library {xp.__name__}")


def compute_dtype_name(name: str) -> str:
    """float16 and bfloat16 losses compute in float32 inside; other dtypes compute in themselves."""
    return "float32" if name in LOW_PRECISION else name


def is_float(xp, array) -> bool:
    name = dtype_name(array.dtype)
    return name in LOSS_DTYPE_NAMES[:4]


def cast(xp, array, name: str):
    """``array`` as dtype ``name`` (no copy when it already is)."""
    target = namespace_dtype(xp, name)
    if array.dtype == target:
        return array
    return xp.astype(array, target)


def host_array(value) -> np.ndarray:
    """``value`` as a NumPy array on the host: NumPy arrays and Python values as they are, an array
    of another library (torch, JAX, CuPy, which may refuse ``np.asarray``) copied to the CPU."""
    try:
        return np.asarray(value)
    except TypeError:
        if isinstance(value, (np.ndarray, np.generic)) or not array_api_compat.is_array_api_obj(value):
            raise
        return np.asarray(array_api_compat.to_device(value, "cpu"))
