"""The Keras 3 reductions: one table, owned here.

With ``v`` the per-sample losses, ``w`` the sample weight (broadcast to ``v``'s shape unless said
otherwise), ``m`` the mask (1 where present) and ``N`` the number of elements of ``v``:

=============================  ==========================  ==========================================
reduction                      result                      divisor
=============================  ==========================  ==========================================
``"sum_over_batch_size"``      ``sum(m*v*w) / divisor``    ``sum(m)``, or ``N`` without a mask
``"mean"``                     same as above               same as above
``"sum"``                      ``sum(m*v*w)``              none
``"mean_with_sample_weight"``  ``sum(m*v*w) / divisor``    ``sum(w*m)`` with ``w`` *not* broadcast to
                                                           ``v`` when there is no mask (Keras: a scalar
                                                           ``w`` divides by ``w``); ``sum(m)`` without
                                                           weights; ``N`` without either
``"none"`` / ``None``          ``m*v*w``, ``v``'s shape    none
``"auto"``                     as ``"sum_over_batch_size"`` (tf.keras 2.x ``Reduction.AUTO``)
=============================  ==========================  ==========================================

A zero divisor gives 0 (an empty batch, or everything masked). A 0-d ``v`` (Dice with
``axis=None``, rank-1 inputs, or a batch of one with a scalar weight, whose ``(1,)`` losses Keras
squeezes to the weight's rank) is returned as ``m*v*w`` by every mode, as in Keras.

Every path (the generic one below, the fused tiers of :mod:`regloss.kernels`, TF1's
:mod:`regloss.compat.v1.reduction`) computes running :class:`Totals` and takes its divisor from
:func:`divisor_of`, the one rule that picks it.
"""

from __future__ import annotations

import math

from ._messages import show_value
from ._xp import cast, dtype_name


class Reduction:
    """Names of the reductions a Keras-style loss accepts (plain strings work too).

    >>> from regloss import Reduction
    >>> from regloss.losses import MeanSquaredError
    >>> y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    >>> MeanSquaredError(reduction=Reduction.SUM)(y_true=y_true, y_pred=y_pred)
    array(1., dtype=float32)
    >>> MeanSquaredError(reduction=Reduction.MEAN_WITH_SAMPLE_WEIGHT)(
    ...     y_true=y_true, y_pred=y_pred, sample_weight=[3.0, 1.0])
    array(0.5, dtype=float32)
    """

    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
    MEAN = "mean"
    SUM = "sum"
    MEAN_WITH_SAMPLE_WEIGHT = "mean_with_sample_weight"
    NONE = "none"
    AUTO = "auto"

    @classmethod
    def all(cls) -> tuple:
        """Every accepted value, in a stable order (``None`` means ``"none"``)."""
        return (
            cls.SUM_OVER_BATCH_SIZE,
            cls.MEAN,
            cls.SUM,
            cls.MEAN_WITH_SAMPLE_WEIGHT,
            cls.NONE,
            None,
            cls.AUTO,
        )

    @classmethod
    def validate(cls, key) -> None:
        """Raise ``ValueError`` unless ``key`` is an accepted reduction."""
        standardize_reduction(key)


_TF1_REDUCTIONS = frozenset(
    {
        "weighted_sum",
        "weighted_mean",
        "weighted_sum_over_batch_size",
        "weighted_sum_by_nonzero_weights",
    }
)


def standardize_reduction(reduction):
    """The reduction a loss stores: ``"auto"`` becomes ``"sum_over_batch_size"``; bad values raise."""
    if reduction is None or (isinstance(reduction, str) and reduction in Reduction.all()):
        return Reduction.SUM_OVER_BATCH_SIZE if reduction == Reduction.AUTO else reduction
    allowed = ", ".join(repr(value) for value in Reduction.all())
    hint = ""
    if isinstance(reduction, str) and reduction in _TF1_REDUCTIONS:
        hint = (
            " (this is a TensorFlow 1.x reduction of tf.compat.v1.losses.Reduction: it belongs to "
            "regloss.compat.v1.losses, not to the Keras-style losses)"
        )
    raise ValueError(
        f"Invalid value for argument reduction: expected one of {allowed}; "
        f"received reduction={show_value(reduction)}{hint}"
    )


COUNT = "count"
WEIGHT_SUM = "weight_sum"
NONZERO_WEIGHTS = "nonzero_weights"

_DIVISORS = {
    # Keras 3
    Reduction.SUM_OVER_BATCH_SIZE: COUNT,
    Reduction.MEAN: COUNT,
    Reduction.SUM: None,
    Reduction.MEAN_WITH_SAMPLE_WEIGHT: WEIGHT_SUM,
    Reduction.AUTO: COUNT,  # tf.keras 2.x's name of sum_over_batch_size
    # TensorFlow 1.x (tf.compat.v1.losses.Reduction), whose losses always carry weights
    "weighted_sum": None,
    "weighted_mean": WEIGHT_SUM,
    "weighted_sum_over_batch_size": COUNT,
    "weighted_sum_by_nonzero_weights": NONZERO_WEIGHTS,
}


def _divisor_rule(reduction, weighted: bool):
    kind = _DIVISORS[reduction]
    keras = reduction not in _TF1_REDUCTIONS
    return COUNT if kind == WEIGHT_SUM and not weighted and keras else kind


_DIVISOR_OF = {
    weighted: {reduction: _divisor_rule(reduction, weighted) for reduction in _DIVISORS}
    for weighted in (False, True)
}


def divisor_of(reduction, weighted: bool):
    """Which running total divides the weighted sum under ``reduction``: the one rule, for every
    path (generic, blocked NumPy, numba, TF1 compat).

    ``COUNT``: the present per-sample losses (``sum(m)``, or ``N`` without a mask);
    ``WEIGHT_SUM``: the weights' sum (Keras's ``mean_with_sample_weight`` with weights: ``sum(w m)``,
    the *un-broadcast* ``sum(w)`` without a mask; TF1's ``weighted_mean``: ``sum(W)`` broadcast), or
    ``COUNT`` when a Keras loss has no weights; ``NONZERO_WEIGHTS``: TF1's default, the non-zero
    entries of the broadcast weights; ``None``: no division (``sum``, ``weighted_sum``).
    """
    return _DIVISOR_OF[bool(weighted)][reduction]


def finish_totals(xp, reduction, weighted: bool, total, count=None, weight_sum=None, nonzero_weights=None):
    """The reduced loss from running totals (what every path computes before the finish:
    ``total = sum(m v w)``, the present ``count``, the ``weight_sum``, TF1's ``nonzero_weights``;
    those a path does not need may be None): ``total / divisor`` with the divisor of
    :func:`divisor_of`, 0 for a zero divisor, ``total`` when nothing divides."""
    kind = _DIVISOR_OF[weighted][reduction]
    if kind is None:
        return total
    divisor = count if kind is COUNT else weight_sum if kind is WEIGHT_SUM else nonzero_weights
    if isinstance(divisor, _NUMBERS) and divisor:  # the common case, without a further call
        return total / divisor
    return divide_no_nan(xp, total, divisor)


def _element_count(xp, values):
    count = math.prod(values.shape) if all(isinstance(d, int) for d in values.shape) else None
    if count is None:
        count = xp.sum(xp.ones_like(values))
    return count


_NUMBERS = (int, float)


def divide_no_nan(xp, total, divisor):
    """``total / divisor``, and 0 where ``divisor`` is 0 (a number, or an array of ``xp``)."""
    if isinstance(divisor, _NUMBERS):  # a Python or NumPy number (the fused tiers, static counts)
        if divisor:
            return total / divisor
        return xp.zeros_like(total) if hasattr(total, "shape") else 0.0
    safe = xp.where(divisor == 0, xp.ones_like(divisor), divisor)
    return xp.where(divisor == 0, xp.zeros_like(total), total / safe)


def reduce_weighted(xp, values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Weight, mask and reduce per-sample losses (see the module table) on the generic path.

    ``sample_weight`` must already be reconciled with ``values`` (it broadcasts to their shape);
    ``mask`` is a boolean array of ``values``'s shape or ``None``.
    """
    weighted = values if sample_weight is None else values * sample_weight
    if mask is not None:
        weighted = xp.where(mask, weighted, xp.zeros_like(weighted))
    if reduction is None or reduction == Reduction.NONE or values.ndim == 0:
        return weighted
    kind = divisor_of(reduction, sample_weight is not None)
    if kind == COUNT and mask is None:
        count = _element_count(xp, values)
        if isinstance(count, int):  # sum / N as one mean (0 for an empty batch, as divide_no_nan)
            return xp.mean(weighted) if count else xp.sum(weighted)
    total = xp.sum(weighted)
    if kind is None:
        return total
    float_mask = None if mask is None else cast(xp, mask, dtype_name(values.dtype))
    if kind == WEIGHT_SUM:
        effective = sample_weight if float_mask is None else sample_weight * float_mask
        divisor = xp.sum(effective)
    elif float_mask is not None:
        divisor = xp.sum(float_mask)
    else:
        divisor = _element_count(xp, values)
    return divide_no_nan(xp, total, divisor)
