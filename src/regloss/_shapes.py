"""Shape rules: Keras's rank reconciliation, axis normalisation and broadcasting checks.

Only known dimensions are compared: lazy arrays (Dask from a DataFrame) may report ``None`` or
``nan`` for a dimension, which matches anything.
"""

from __future__ import annotations

import math
import operator

from ._messages import show_value


def shape_of(array) -> tuple:
    return tuple(array.shape)


def known_dim(dim) -> bool:
    """Whether a dimension is known (lazy arrays report ``None`` or ``nan`` for an unknown one)."""
    return dim is not None and not (isinstance(dim, float) and math.isnan(dim))


def same_dim(a, b) -> bool:
    """Whether two dimensions may be equal: equal, or at least one of them unknown."""
    return not (known_dim(a) and known_dim(b)) or a == b


def show(shape) -> str:
    """A shape as users write it: ``(3,)``, ``(2, 3)``, ``()``."""
    return str(tuple(None if not known_dim(d) else int(d) for d in shape))


def squeeze_or_expand_to_same_rank(xp, first, second):
    """Keras's rank reconciliation of two arrays whose ranks differ by exactly one.

    When the higher-rank array ends in a dimension of 1: a rank-1 partner is expanded to
    ``(n, 1)``; otherwise the higher-rank array is squeezed. Any other pair is returned unchanged.
    """
    first_rank, second_rank = first.ndim, second.ndim
    if first_rank == second_rank + 1 and shape_of(first)[-1] == 1:
        if second_rank == 1:
            return first, second[..., None]
        return xp.squeeze(first, axis=-1), second
    if second_rank == first_rank + 1 and shape_of(second)[-1] == 1:
        if first_rank == 1:
            return first[..., None], second
        return first, xp.squeeze(second, axis=-1)
    return first, second


def same_shape(first: tuple, second: tuple) -> bool:
    """Whether two shapes are equal in every dimension known in both (lazy arrays may not know)."""
    return len(first) == len(second) and all(same_dim(a, b) for a, b in zip(first, second, strict=True))


def check_same_shape(y_true, y_pred) -> None:
    """After reconciliation ``y_true`` and ``y_pred`` must have one shape (no silent broadcasting)."""
    true_shape, pred_shape = shape_of(y_true), shape_of(y_pred)
    if true_shape != pred_shape and not same_shape(true_shape, pred_shape):
        raise ValueError(
            f"y_true of shape {show(true_shape)} and y_pred of shape {show(pred_shape)} must have "
            "the same shape (after Keras's rank reconciliation: a trailing dimension of 1 may be "
            "added or removed)"
        )


def check_has_outputs(array, argument: str = "y_true and y_pred") -> None:
    """Inputs need at least one axis, and the last (output) axis must not be empty."""
    shape = shape_of(array)
    if not shape:
        raise ValueError(
            f"{argument} must have at least one axis (the outputs of a sample); received shape ()"
        )
    if known_dim(shape[-1]) and shape[-1] == 0:
        raise ValueError(
            f"y_true and y_pred have an empty last axis: shape {show(shape)}; every sample "
            "needs at least one output"
        )


def normalize_axis(axis, ndim: int, argument: str = "axis") -> tuple[int, ...]:
    """``axis`` (an int, a tuple of ints, or ``None`` for every axis) as sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for item in items:
        if isinstance(item, bool):
            raise TypeError(
                f"{argument} must be an int, a tuple of ints or None; received {show_value(axis)}"
            )
        try:
            index = operator.index(item)
        except TypeError:
            raise TypeError(
                f"{argument} must be an int, a tuple of ints or None; received {show_value(axis)}"
            ) from None
        if not -ndim <= index < ndim:
            raise ValueError(f"{argument}={show_value(axis)} is out of range for inputs of rank {ndim}")
        normalized.append(index % ndim)
    if not normalized:
        raise ValueError(f"{argument} must name at least one axis; received {show_value(axis)}")
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{argument}={show_value(axis)} names an axis twice")
    return tuple(sorted(normalized))


def standardize_axis_argument(axis, argument: str = "axis"):
    """Check the type of an ``axis`` argument before any rank is known; return it as plain Python
    ints (a tuple for several axes) so that configs are JSON."""
    if axis is None:
        return None
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    if not items:
        raise ValueError(f"{argument} must name at least one axis; received {show_value(axis)}")
    for item in items:
        if isinstance(item, bool) or not hasattr(item, "__index__"):
            raise TypeError(
                f"{argument} must be an int, a tuple of ints or None; received {show_value(axis)}"
            )
    if isinstance(axis, (tuple, list)):
        return tuple(operator.index(item) for item in axis)
    return operator.index(axis)


def remove_axes(shape: tuple, axes: tuple[int, ...]) -> tuple:
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def reconcile_rank(xp, array, losses_shape: tuple):
    """Keras's reconciliation of a weight or mask with the per-sample losses, never changing the
    losses: a trailing dimension of 1 is squeezed, or one is added when the losses end in 1."""
    rank = len(losses_shape)
    if array.ndim == rank + 1 and shape_of(array)[-1] == 1:
        return xp.squeeze(array, axis=-1)
    if array.ndim + 1 == rank and array.ndim > 0 and losses_shape[-1] == 1:
        return array[..., None]
    return array


def broadcasts_to(shape: tuple, target_shape: tuple) -> bool:
    """Whether ``shape`` broadcasts to ``target_shape`` and leaves it unchanged."""
    return len(shape) <= len(target_shape) and all(
        not known_dim(d) or d == 1 or same_dim(d, t)
        for d, t in zip(reversed(shape), reversed(target_shape), strict=False)
    )


def fit_to_losses(xp, array, losses_shape: tuple, argument: str):
    """A ``sample_weight`` or mask reconciled with the per-sample losses (:func:`reconcile_rank`);
    it must then broadcast to ``losses_shape`` without changing it, else ``ValueError``."""
    array = reconcile_rank(xp, array, losses_shape)
    check_broadcasts_to(array, losses_shape, argument, "the losses")
    return array


def check_broadcasts_to(array, target_shape: tuple, argument: str, target: str) -> None:
    shape = shape_of(array)
    if not broadcasts_to(shape, target_shape):
        raise ValueError(
            f"{argument} of shape {show(shape)} cannot be broadcast to {target} of shape "
            f"{show(target_shape)} without changing their shape"
        )
