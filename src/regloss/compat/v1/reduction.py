"""TensorFlow 1.x reductions (``tf.compat.v1.losses.Reduction``) and how they weight and reduce.

With ``v`` the losses, ``w`` the weights (a scalar, or of ``v``'s rank with each dimension 1 or
equal), ``W`` the weights broadcast to ``v``'s shape, ``S = sum(v * w)``:

=====================================  ========================  ==================================
reduction (string value)               result                    divisor
=====================================  ========================  ==================================
``NONE`` (``"none"``)                  ``v * w``, ``v``'s shape  none
``SUM`` (``"weighted_sum"``)           ``S``                     none
``MEAN`` (``"weighted_mean"``)         ``S / divisor``           ``sum(W)``
``SUM_OVER_BATCH_SIZE``                ``S / divisor``           number of elements of ``v``
(``"weighted_sum_over_batch_size"``)
``SUM_BY_NONZERO_WEIGHTS`` (default)   ``S / divisor``           number of non-zero entries of ``W``
(``"weighted_sum_by_nonzero_weights"``                           (negative weights count)
= ``SUM_OVER_NONZERO_WEIGHTS``)
=====================================  ========================  ==================================

Every division is TensorFlow's ``div_no_nan``: a zero divisor gives 0, even when ``S`` is not 0
(weights summing to 0 under ``MEAN``) or is NaN. Everything is computed in float32.
"""

from __future__ import annotations

from ..._messages import show_plain, show_value
from ...reduction import COUNT, WEIGHT_SUM, divide_no_nan, divisor_of
from ...reduction import Reduction as KerasReduction

_KERAS_ONLY = frozenset(value for value in KerasReduction.all() if value not in (None, "none"))


class Reduction:
    """The reductions of ``tf.compat.v1.losses`` (plain strings work too).

    ``SUM_BY_NONZERO_WEIGHTS`` is the default of every loss; ``SUM_OVER_NONZERO_WEIGHTS`` is
    another name for it (same string). These strings are accepted by
    :mod:`regloss.compat.v1.losses` only; the Keras-style losses use :class:`regloss.Reduction`.

    >>> from regloss.compat.v1.losses import Reduction
    >>> Reduction.SUM_OVER_NONZERO_WEIGHTS == Reduction.SUM_BY_NONZERO_WEIGHTS
    True
    >>> Reduction.validate("weighted_mean")
    >>> Reduction.validate("sum_over_batch_size")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Invalid Reduction Key sum_over_batch_size. ...
    """

    NONE = "none"
    SUM = "weighted_sum"
    MEAN = "weighted_mean"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        """Every value, in TensorFlow's order (the alias is listed twice, as TensorFlow lists it)."""
        return (
            cls.NONE,
            cls.SUM,
            cls.MEAN,
            cls.SUM_OVER_BATCH_SIZE,
            cls.SUM_BY_NONZERO_WEIGHTS,
            cls.SUM_OVER_NONZERO_WEIGHTS,
        )

    @classmethod
    def validate(cls, key) -> None:
        """Raise ``ValueError`` (TensorFlow's text) unless ``key`` is one of :meth:`all`."""
        if isinstance(key, str) and key in cls.all():
            return
        hint = ""
        if isinstance(key, str) and key in _KERAS_ONLY:
            hint = (
                f" {show_value(key)} is a Keras reduction: it belongs to the Keras-style losses "
                "(regloss.Reduction, regloss.losses), not to regloss.compat.v1.losses."
            )
        raise ValueError(f"Invalid Reduction Key {show_plain(key)}. Key should be one of {cls.all()}.{hint}")


def count_nonzero_weights(xp, losses, weights, per_batch: bool = False):
    """The number of non-zero weights after broadcasting them to ``losses`` (float32).

    ``per_batch=True`` counts within each batch element (all axes but the first, keeping them as
    size-1 axes), as the pairwise loss needs.

    >>> import numpy as np
    >>> losses = np.ones((2, 3), dtype=np.float32)
    >>> count_nonzero_weights(np, losses, np.asarray([[1.2], [0.0]], dtype=np.float32))
    np.float32(3.0)
    """
    present = xp.where(weights == 0, xp.zeros_like(weights), xp.ones_like(weights))
    present = present * xp.ones_like(losses)
    if not per_batch:
        return xp.sum(present)
    if present.ndim <= 1:
        return present
    return xp.sum(present, axis=tuple(range(1, present.ndim)), keepdims=True)


def weigh_and_reduce(xp, losses, weights, reduction: str):
    """``losses * weights`` reduced by a TF1 ``reduction`` (the module table); float32 arrays in.

    >>> import numpy as np
    >>> losses = np.asarray([0.0, 1.0, 4.0], dtype=np.float32)
    >>> weights = np.asarray([0.0, 1.0, 0.25], dtype=np.float32)
    >>> float(weigh_and_reduce(np, losses, weights, Reduction.SUM_BY_NONZERO_WEIGHTS))
    1.0
    """
    weighted = losses * weights
    if reduction == Reduction.NONE:
        return weighted
    total = xp.sum(weighted)
    kind = divisor_of(reduction, weighted=True)
    if kind is None:
        return total
    if kind == WEIGHT_SUM:
        divisor = xp.sum(xp.ones_like(losses) * weights)
    elif kind == COUNT:
        divisor = xp.sum(xp.ones_like(losses))
    else:
        divisor = count_nonzero_weights(xp, losses, weights)
    return divide_no_nan(xp, total, divisor)
