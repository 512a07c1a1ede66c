"""``tf.compat.v1.losses`` (TensorFlow 1.x) regression losses, on any array library.

Swap ``tf.compat.v1.losses`` for ``regloss.compat.v1.losses``: same names, signatures, defaults,
reductions and numbers. The rules, all TensorFlow's:

* ``labels`` and ``predictions`` must not be ``None`` and must have the same shape: equal rank and
  dimensions, no broadcasting and no squeezing (``(2, 1)`` against ``(2,)`` is a ``ValueError``);
* ``weights`` is a scalar, or has the losses' rank with each dimension 1 or equal (per-example
  weights of ``(batch, d)`` losses have shape ``(batch, 1)``; ``(batch,)`` is a ``ValueError``);
* inputs are cast to float32 and every loss returns float32 (float64 inputs included);
  :func:`compute_weighted_loss` returns the dtype of its ``losses`` (integers are truncated);
* the default reduction is ``Reduction.SUM_BY_NONZERO_WEIGHTS``; zero divisors give 0 (see
  :mod:`regloss.compat.v1.reduction`);
* losses are added to a collection only inside :func:`collect` (see
  :mod:`regloss.compat.v1.loss_collections`).

The classification losses of ``tf.compat.v1.losses`` are not here: regloss covers regression.

>>> from regloss.compat.v1 import losses
>>> losses.mean_squared_error(labels=[1, 2, 3], predictions=[1, 3, 5], weights=[0, 1, 0.25])
array(1., dtype=float32)
>>> losses.mean_squared_error(labels=[1, 2, 3], predictions=[1, 3, 5], weights=[0, 1, 0.25],
...                           reduction=losses.Reduction.SUM_OVER_BATCH_SIZE)
array(0.6666667, dtype=float32)
"""

from __future__ import annotations

import warnings

from ... import formulas as core_formulas
from ..._shapes import normalize_axis
from ..._xp import cast, dtype_name
from ...losses.functional import finish
from ...params import real_number
from . import formulas
from .checks import (
    FLOAT32,
    as_float32,
    as_tensors,
    check_compatible_shapes,
    check_not_none,
    check_weights_broadcastable,
    check_weights_not_none,
)
from .loss_collections import (
    GraphKeys,
    add_loss,
    collect,
    get_losses,
    get_regularization_loss,
    get_regularization_losses,
    get_total_loss,
    record,
)
from .reduction import Reduction, weigh_and_reduce

__all__ = [
    "GraphKeys",
    "Reduction",
    "absolute_difference",
    "add_loss",
    "collect",
    "compute_weighted_loss",
    "cosine_distance",
    "get_losses",
    "get_regularization_loss",
    "get_regularization_losses",
    "get_total_loss",
    "huber_loss",
    "log_loss",
    "mean_pairwise_squared_error",
    "mean_squared_error",
]

_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS
_CLASSIFICATION = (
    "hinge_loss",
    "sigmoid_cross_entropy",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
)


def __getattr__(name: str):
    if name in _CLASSIFICATION:
        raise AttributeError(
            f"regloss.compat.v1.losses has no {name!r}: tf.compat.v1.losses.{name} is a "
            "classification loss, and regloss covers regression losses only"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The names TensorFlow's graph gives the returned tensor's op with NONE and with SUM, per default
# scope: they count the Mul and Sum ops the loss creates before (the dividing reductions end in
# an op named "value").
_OP_NAMES = {
    "mean_squared_error": ("Mul", "Sum"),
    "absolute_difference": ("Mul", "Sum"),
    "huber_loss": ("Mul_3", "Sum"),
    "log_loss": ("Mul_2", "Sum"),
    "cosine_distance_loss": ("Mul_1", "Sum_1"),
    "weighted_loss": ("Mul", "Sum"),
}


def _op_suffix(default_scope: str, reduction: str) -> str:
    """The name of the op of the returned tensor, as TensorFlow's graph mode names it."""
    multiply, total = _OP_NAMES[default_scope]
    return {Reduction.NONE: multiply, Reduction.SUM: total}.get(reduction, "value")


def _checked_weigh_and_reduce(xp, losses, weights, raw_weights, reduction):
    """TF1's ``compute_weighted_loss`` checks and arithmetic on float32 ``losses``."""
    Reduction.validate(reduction)
    check_weights_not_none(raw_weights)
    check_weights_broadcastable(weights, losses)
    return weigh_and_reduce(xp, losses, cast(xp, weights, FLOAT32), reduction)


def _finish_and_record(xp, result, dtype, loss_collection, scope, default_scope, suffix):
    result = finish(xp, result, dtype)
    record(result, loss_collection, scope, default_scope, suffix)
    return result


def _elementwise_loss(error, default_scope, labels, predictions, weights, scope, loss_collection, reduction):
    check_not_none(labels=labels, predictions=predictions)
    xp, arrays = as_float32(labels=labels, predictions=predictions, weights=weights)
    labels, predictions = arrays["labels"], arrays["predictions"]
    check_compatible_shapes(predictions, labels)
    losses = error(xp, labels, predictions)
    result = _checked_weigh_and_reduce(xp, losses, arrays["weights"], weights, reduction)
    return _finish_and_record(
        xp, result, FLOAT32, loss_collection, scope, default_scope, _op_suffix(default_scope, reduction)
    )


def compute_weighted_loss(
    losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT
):
    """Weight ``losses`` and reduce them by a TF1 ``reduction``; the result has ``losses``'s dtype.

    ``weights`` is a scalar or has the losses' rank with each dimension 1 or equal. The arithmetic
    is float32; the result is cast back to the dtype of ``losses`` (integer losses are truncated:
    ``[1, 2, 4]`` gives ``2``). Python numbers convert as TensorFlow converts them (floats to
    float32, ints to int32). Divisors, per reduction: ``SUM_BY_NONZERO_WEIGHTS`` (default) the
    number of non-zero broadcast weights, ``MEAN`` the sum of the broadcast weights,
    ``SUM_OVER_BATCH_SIZE`` the number of loss elements; ``SUM`` and ``NONE`` do not divide.
    Default scope name: ``weighted_loss``.

    >>> from regloss.compat.v1.losses import compute_weighted_loss, Reduction
    >>> compute_weighted_loss([[1.0, 2.0], [3.0, 4.0]], weights=[[1.0], [0.0]])
    array(1.5, dtype=float32)
    >>> compute_weighted_loss([[1.0, 2.0], [3.0, 4.0]], weights=[[1.0], [-1.0]],
    ...                       reduction=Reduction.MEAN)
    array(0., dtype=float32)
    """
    Reduction.validate(reduction)
    check_not_none(losses=losses)
    check_weights_not_none(weights)
    xp, arrays = as_tensors(losses=losses, weights=weights)
    losses = arrays["losses"]
    input_dtype = dtype_name(losses.dtype)
    result = _checked_weigh_and_reduce(xp, cast(xp, losses, FLOAT32), arrays["weights"], weights, reduction)
    suffix = _op_suffix("weighted_loss", reduction)
    return _finish_and_record(xp, result, input_dtype, loss_collection, scope, "weighted_loss", suffix)


def mean_squared_error(
    labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT
):
    """Weighted squared differences ``(predictions - labels)**2``, reduced by ``reduction``.

    With the default ``SUM_BY_NONZERO_WEIGHTS``: ``sum(w (p - l)**2) / count(w != 0)`` (weights
    broadcast to the inputs' shape first). Returns float32. Default scope: ``mean_squared_error``.

    >>> from regloss.compat.v1.losses import mean_squared_error
    >>> mean_squared_error(labels=[[0.0, 1.0]], predictions=[[2.0, 1.0]], reduction="weighted_sum")
    array(4., dtype=float32)
    """
    return _elementwise_loss(
        core_formulas.squared_error,
        "mean_squared_error",
        labels,
        predictions,
        weights,
        scope,
        loss_collection,
        reduction,
    )


def absolute_difference(
    labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES, reduction=_DEFAULT
):
    """Weighted absolute differences ``|predictions - labels|``, reduced by ``reduction``.

    Returns float32. Default scope: ``absolute_difference``.

    >>> from regloss.compat.v1.losses import absolute_difference
    >>> absolute_difference(labels=[[0.0, 1.0], [2.0, 2.0]], predictions=[[1.0, 1.0], [0.0, 2.0]],
    ...                     weights=[[1.0], [0.5]])
    array(0.5, dtype=float32)
    """
    return _elementwise_loss(
        core_formulas.absolute_error,
        "absolute_difference",
        labels,
        predictions,
        weights,
        scope,
        loss_collection,
        reduction,
    )


def huber_loss(
    labels,
    predictions,
    weights=1.0,
    delta=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=_DEFAULT,
):
    """Weighted Huber losses ``0.5 x**2`` (``|x| <= delta``) or ``0.5 delta**2 + delta (|x| - delta)``.

    ``x = predictions - labels``; computed as TF1 does (see
    :func:`regloss.compat.v1.formulas.huber_error`). ``delta`` is one real number (a Python number,
    a NumPy scalar or a one-element array; see :mod:`regloss.params`), else ``TypeError`` or
    ``ValueError`` naming it; its value is not range-checked, as in TensorFlow.
    Returns float32. Default scope: ``huber_loss``.

    >>> from regloss.compat.v1.losses import huber_loss
    >>> huber_loss(labels=[0.0, 0.0], predictions=[0.5, 3.0], reduction="weighted_sum")
    array(2.625, dtype=float32)
    """
    delta = real_number(delta, "delta")

    def error(xp, labels, predictions):
        return formulas.huber_error(xp, labels, predictions, delta=delta)

    return _elementwise_loss(
        error, "huber_loss", labels, predictions, weights, scope, loss_collection, reduction
    )


def log_loss(
    labels,
    predictions,
    weights=1.0,
    epsilon=1e-7,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=_DEFAULT,
):
    """Weighted ``-l log(p + epsilon) - (1 - l) log(1 - p + epsilon)`` (no clipping of ``p``).

    ``epsilon`` is one real number, checked as Huber's ``delta`` is. Returns float32. Default
    scope: ``log_loss``.

    >>> from regloss.compat.v1.losses import log_loss
    >>> log_loss(labels=[1.0], predictions=[0.0])
    array(16.118095, dtype=float32)
    """
    epsilon = real_number(epsilon, "epsilon")

    def error(xp, labels, predictions):
        return formulas.log_loss_error(xp, labels, predictions, epsilon=epsilon)

    return _elementwise_loss(
        error, "log_loss", labels, predictions, weights, scope, loss_collection, reduction
    )


def cosine_distance(
    labels,
    predictions,
    axis=None,
    weights=1.0,
    scope=None,
    loss_collection=GraphKeys.LOSSES,
    reduction=_DEFAULT,
    dim=None,
):
    """Weighted ``1 - sum(predictions * labels, axis)``, the axis kept with size 1.

    The inputs are **not** normalised (TF1 assumes unit vectors). The losses have the inputs'
    shape with ``axis`` set to 1, so weights are checked against that shape (full-shape weights
    are rejected) and ``SUM_OVER_BATCH_SIZE`` divides by the number of vectors. ``axis`` is
    required (an int, or a tuple of ints as TF eager accepts); ``dim`` is its deprecated name.
    Returns float32. Default scope: ``cosine_distance_loss``.

    >>> from regloss.compat.v1.losses import cosine_distance
    >>> cosine_distance(labels=[[1.0, 0.0], [0.0, 1.0]], predictions=[[1.0, 0.0], [1.0, 0.0]], axis=1)
    array(0.5, dtype=float32)
    """
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'dim' and 'axis'.")
    if dim is not None:
        warnings.warn("cosine_distance: `dim` is deprecated, use `axis`", DeprecationWarning, stacklevel=2)
        axis = dim
    if axis is None:
        raise ValueError("You must specify argument `axis`.")

    def error(xp, labels, predictions):
        axes = normalize_axis(axis, predictions.ndim)
        return formulas.cosine_distance_error(xp, labels, predictions, axes)

    return _elementwise_loss(
        error, "cosine_distance_loss", labels, predictions, weights, scope, loss_collection, reduction
    )


def mean_pairwise_squared_error(
    labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES
):
    """TF1's mean pairwise squared error, with TensorFlow's graph-mode semantics.

    For each batch element, the mean over its unordered pairs ``i < j`` of
    ``((p_i - p_j) - (l_i - l_j))**2``; the per-element values are multiplied by ``weights`` and
    **summed** over the batch (see :func:`regloss.compat.v1.formulas.mean_pairwise_squared_error_value`
    for the weights' quirks). No ``reduction`` argument. Returns float32. Default scope:
    ``mean_pairwise_squared_error``.

    TF 2.x *eager* mode differs with a non-zero scalar weight (it counts the entries of the whole
    batch instead of each element's): regloss gives the graph / ``tf.function`` numbers.

    >>> from regloss.compat.v1.losses import mean_pairwise_squared_error
    >>> loss = mean_pairwise_squared_error(labels=[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
    ...                                    predictions=[[1.0, 2.0, 4.0], [1.0, 1.0, 1.0]])
    >>> loss.dtype, round(float(loss), 5)  # (1 + 9 + 4) / 3 + 0
    (dtype('float32'), 4.66667)
    """
    check_not_none(labels=labels, predictions=predictions)
    check_weights_not_none(weights)
    xp, arrays = as_float32(labels=labels, predictions=predictions, weights=weights)
    labels, predictions, weights = arrays["labels"], arrays["predictions"], arrays["weights"]
    check_weights_broadcastable(weights, labels)
    check_compatible_shapes(predictions, labels)
    result = formulas.mean_pairwise_squared_error_value(xp, labels, predictions, weights)
    return _finish_and_record(
        xp, result, FLOAT32, loss_collection, scope, "mean_pairwise_squared_error", "value_2"
    )
