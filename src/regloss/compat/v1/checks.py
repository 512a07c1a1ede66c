"""TensorFlow 1.x input rules: no ``None``, float32 inputs, static shape checks.

TF1 compares shapes statically and never reads values: labels and predictions must have the same
rank and equal dimensions (no broadcasting, no squeezing); weights must be a scalar or have the
losses' rank with every dimension 1 or equal. Unknown dimensions (lazy arrays) match anything, as
unknown dimensions do in TensorFlow's static check.
"""

from __future__ import annotations

from ..._shapes import known_dim, same_dim, shape_of, show
from ..._xp import cast, resolve

FLOAT32 = "float32"


def check_not_none(**arguments) -> None:
    """``ValueError`` naming the first argument that is ``None`` (TensorFlow's message)."""
    for name, value in arguments.items():
        if value is None:
            raise ValueError(f"Argument `{name}` must not be None.")


def check_weights_not_none(weights) -> None:
    """TF1 fails to convert ``weights=None`` into a tensor; the error says so."""
    if weights is None:
        raise ValueError(
            "weights=None is not supported (TensorFlow: 'None values not supported.'); "
            "pass weights=1.0 for unweighted losses"
        )


def as_float32(**arguments):
    """Convert the arguments into one namespace (see :func:`regloss._xp.resolve`), then float32.

    Returns ``(xp, arrays)``; ``None`` arguments stay ``None``.
    """
    xp, arrays, _ = resolve(**arguments)
    return xp, {name: None if a is None else cast(xp, a, FLOAT32) for name, a in arrays.items()}


def as_tensors(**arguments):
    """Convert into one namespace as ``tf.convert_to_tensor`` would: Python floats (and lists of
    them) become float32 and Python ints int32; arrays keep their dtype. Returns ``(xp, arrays)``."""
    xp, arrays, weak = resolve(**arguments)
    for name in weak:
        array = arrays[name]
        if xp.isdtype(array.dtype, "real floating"):
            arrays[name] = cast(xp, array, FLOAT32)
        elif xp.isdtype(array.dtype, "signed integer"):
            arrays[name] = cast(xp, array, "int32")
    return xp, arrays


def check_compatible_shapes(predictions, labels) -> None:
    """Equal ranks and equal known dimensions, else TF's ``Shapes (P) and (L) are incompatible``."""
    first, second = shape_of(predictions), shape_of(labels)
    if len(first) != len(second) or not all(same_dim(a, b) for a, b in zip(first, second, strict=True)):
        raise ValueError(f"Shapes {show(first)} and {show(second)} are incompatible")


def _numpy_style(shape) -> str:
    return "[" + " ".join(str(int(d)) if known_dim(d) else "-1" for d in shape) + "]"


def check_weights_broadcastable(weights, values) -> None:
    """TF's ``assert_broadcastable``: ``weights`` scalar, or of ``values``'s rank with each
    dimension 1 or equal to ``values``'s. Lower-rank weights are rejected (no implicit expansion).

    >>> import numpy as np
    >>> check_weights_broadcastable(np.ones((2, 1)), np.ones((2, 3)))
    >>> check_weights_broadcastable(np.ones(2), np.ones((2, 3)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: weights can not be broadcast to values. values.rank=2. weights.rank=1. ...
    """
    weights_shape, values_shape = shape_of(weights), shape_of(values)
    if not weights_shape:
        return
    prefix = "weights can not be broadcast to values."
    if len(weights_shape) != len(values_shape):
        raise ValueError(
            f"{prefix} values.rank={len(values_shape)}. weights.rank={len(weights_shape)}. "
            f"values.shape={show(values_shape)}. weights.shape={show(weights_shape)}. "
            "Weights must be a scalar or have the rank of the losses (for per-example weights of "
            "losses of shape (batch, d), use shape (batch, 1))."
        )
    for index, (weight_dim, value_dim) in enumerate(zip(weights_shape, values_shape, strict=True)):
        if known_dim(weight_dim) and weight_dim != 1 and not same_dim(weight_dim, value_dim):
            raise ValueError(
                f"{prefix} Mismatch at dim {index}. values.shape={_numpy_style(values_shape)}, "
                f"weights.shape={_numpy_style(weights_shape)}. Each dimension of the weights must "
                "be 1 or equal to the losses'."
            )
