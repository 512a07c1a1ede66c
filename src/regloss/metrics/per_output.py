"""What scikit-learn's regression metrics share: a batch as ``(rows, outputs)`` columns
(:class:`Batch`, made by :class:`regloss.metrics.sklearn_statistics`), value checks, and the
aggregation over outputs (``multioutput``).

A batch is ``(samples,)`` (one output) or ``(samples, outputs)``; ``sample_weight`` is a number,
``(samples,)`` (scikit-learn's), ``(samples, 1)`` or ``(samples, outputs)``, times the mask. Rows
masked out are set to 1 in ``y_true`` and ``y_pred`` (a value every domain takes, so that NaN or a
forbidden value there is never read) and weigh 0.

``multioutput`` (:func:`check_multioutput`, :func:`aggregate`), as scikit-learn 1.9 takes it:
``"raw_values"`` (one value per output), ``"uniform_average"`` (their mean), ``"variance_weighted"``
(where allowed: their mean weighted by each output's variance of ``y_true``; uniform when every
variance is 0) or a sequence of non-negative output weights (their weighted mean,
``sum(a_j v_j) / sum(a_j)``).
"""

from __future__ import annotations

import math
import numbers

from .._messages import show_value
from .._shapes import shape_of
from .._xp import device_of

UNIFORM = "uniform_average"
RAW = "raw_values"
VARIANCE_WEIGHTED = "variance_weighted"


class DomainError(ValueError):
    """A value outside a metric's domain (scikit-learn raises ``ValueError`` there too)."""


class Batch:
    """One batch as columns: ``xp``, ``true`` and ``pred`` of shape
    ``(rows, outputs)`` in the sums' dtype, ``weight`` of that shape or None, ``present`` the
    ``(rows,)`` or ``(rows, outputs)`` mask or None."""

    __slots__ = ("xp", "true", "pred", "weight", "present", "precision", "wide")

    def __init__(self, xp, true, pred, weight, present, precision, wide):
        self.xp, self.true, self.pred, self.weight, self.present = xp, true, pred, weight, present
        self.precision, self.wide = precision, wide

    @property
    def outputs(self) -> int:
        return shape_of(self.pred)[1]

    @property
    def rows(self):
        return shape_of(self.pred)[0]


def check_values(xp, bad, message: str) -> None:
    """:class:`DomainError` (a ``ValueError``) with ``message`` when any of ``bad`` is true;
    skipped where the values cannot be read (a traced JAX value under ``jax.jit``, a torch ``meta``
    tensor)."""
    try:
        found = bool(xp.any(bad))
    except (TypeError, RuntimeError, NotImplementedError):
        return
    if found:
        raise DomainError(message)


def check_multioutput(value, owner: str, allowed=(RAW, UNIFORM)):
    """``value`` as stored: one of ``allowed``, or a tuple of non-negative finite floats with a
    positive sum (from any sequence or 1-D array); ``ValueError``/``TypeError`` naming it."""
    if isinstance(value, str):
        if value not in allowed:
            raise ValueError(
                f"multioutput of {owner} must be one of {', '.join(map(repr, allowed))} or a sequence of "
                f"output weights; received multioutput={show_value(value)}"
            )
        return value
    try:
        import numpy as np

        weights = np.asarray(value.tolist() if hasattr(value, "tolist") else value)
    except Exception as error:  # an object NumPy cannot read
        raise TypeError(
            f"multioutput must be a string or a sequence of numbers; received {show_value(value)}"
        ) from error
    if weights.ndim != 1 or weights.size == 0 or weights.dtype.kind not in "biuf":
        raise TypeError(
            "multioutput must be a string or a 1-D sequence of output weights; received "
            f"multioutput={show_value(value)}"
        )
    stored = tuple(float(w) for w in weights)
    if not all(math.isfinite(w) and w >= 0 for w in stored) or sum(stored) <= 0:
        raise ValueError(
            "multioutput weights must be finite, >= 0 and not all 0; received "
            f"multioutput={show_value(value)}"
        )
    return stored


def check_outputs(multioutput, outputs: int, owner: str) -> None:
    """A ``ValueError`` when a sequence of output weights does not have one weight per output."""
    if isinstance(multioutput, tuple) and len(multioutput) != outputs:
        raise ValueError(
            f"{owner} was given {len(multioutput)} output weights (multioutput) for {outputs} output(s)"
        )


def aggregate(xp, values, multioutput, variances=None):
    """The values of the outputs (the last axis) combined as ``multioutput`` says (module
    docstring); ``variances`` are the weights of ``"variance_weighted"``."""
    if multioutput == RAW:
        return values
    if multioutput == UNIFORM:
        return xp.mean(values, axis=-1)
    if multioutput == VARIANCE_WEIGHTED:
        total = xp.sum(variances, axis=-1, keepdims=True)
        none = total == 0
        count = variances.shape[-1]
        weights = xp.where(
            none, xp.ones_like(variances) / count, variances / xp.where(none, xp.ones_like(total), total)
        )
        return xp.sum(weights * values, axis=-1)
    weights = xp.asarray(multioutput, dtype=values.dtype, device=device_of(xp, values))
    return xp.sum(values * weights, axis=-1) / sum(multioutput)


def config_multioutput(multioutput):
    """``multioutput`` as a JSON value (a list for output weights)."""
    return list(multioutput) if isinstance(multioutput, tuple) else multioutput


def is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
