"""The formulas that exist only in TensorFlow 1.x, once, on any namespace ``xp`` (float32 in).

The squared and absolute differences are the core's (:mod:`regloss.formulas`); these differ
from anything in Keras 3: TF1's Huber form, the unnormalised cosine distance, the log loss with an
additive epsilon and the mean pairwise squared error.
"""

from __future__ import annotations

from ...formulas import constant
from .reduction import count_nonzero_weights, divide_no_nan


def huber_error(xp, labels, predictions, delta=1.0):
    """``0.5 q**2 + delta (a - q)`` with ``a = |predictions - labels|`` and ``q = min(a, delta)``.

    Equal to ``0.5 x**2`` for ``|x| <= delta`` and ``0.5 delta**2 + delta (|x| - delta)`` beyond;
    written as TF1 writes it, so that rounding and the gradient at ``|x| == delta`` (where the
    linear part contributes 0) are TensorFlow's.

    >>> import numpy as np
    >>> huber_error(np, np.float32([0.0, 0.0]), np.float32([0.5, 3.0]))
    array([0.125, 2.5  ], dtype=float32)
    """
    abs_error = xp.abs(predictions - labels)
    quadratic = xp.minimum(abs_error, constant(xp, delta, abs_error))
    linear = abs_error - quadratic
    return 0.5 * (quadratic * quadratic) + constant(xp, delta, abs_error) * linear


def log_loss_error(xp, labels, predictions, epsilon=1e-7):
    """``-labels log(predictions + eps) - (1 - labels) log(1 - predictions + eps)``, no clipping.

    Predictions outside ``[0, 1]`` can give NaN, as in TensorFlow.

    >>> import numpy as np
    >>> log_loss_error(np, np.float32([1.0]), np.float32([0.0]))
    array([16.118095], dtype=float32)
    """
    eps = constant(xp, epsilon, predictions)
    return -(labels * xp.log(predictions + eps)) - (1 - labels) * xp.log(1 - predictions + eps)


def cosine_distance_error(xp, labels, predictions, axes: tuple[int, ...]):
    """``1 - sum(predictions * labels, axes)`` with the axes kept (size 1); **no normalisation**:
    the inputs are assumed to be unit vectors already.

    >>> import numpy as np
    >>> cosine_distance_error(np, np.float32([[0.6, 0.8]]), np.float32([[0.6, 0.8]]), (1,))
    array([[0.]], dtype=float32)
    """
    return 1 - xp.sum(predictions * labels, axis=axes, keepdims=True)


def mean_pairwise_squared_error_value(xp, labels, predictions, weights):
    """TF1's mean pairwise squared error, graph-mode semantics, summed over the batch.

    Per batch element ``b`` with differences ``d = predictions - labels`` over its ``n_b`` entries
    (``n_b`` = non-zero weights after broadcasting to ``d``; zero-weight entries still count in
    the sums)::

        value_b = 2 sum(d**2) / (n_b - 1) - 2 sum(d)**2 / (n_b (n_b - 1))
                = mean over the unordered pairs i < j of ((p_i - p_j) - (l_i - l_j))**2

    The result is ``sum(value_b * weights)`` (``value_b`` broadcast to the weights' shape, so
    full-shape weights count each batch element once per entry), and 0 when no weight is
    non-zero. Divisions by 0 give 0.

    >>> import numpy as np
    >>> labels, predictions = np.float32([[0.0, 0.0, 0.0]]), np.float32([[1.0, 2.0, 4.0]])
    >>> round(float(mean_pairwise_squared_error_value(np, labels, predictions, np.float32(1.0))), 5)
    4.66667
    """
    differences = predictions - labels
    if differences.ndim <= 1:
        square_sum, plain_sum = differences * differences, differences
    else:
        axes = tuple(range(1, differences.ndim))
        square_sum = xp.sum(differences * differences, axis=axes, keepdims=True)
        plain_sum = xp.sum(differences, axis=axes, keepdims=True)
    count = count_nonzero_weights(xp, differences, weights, per_batch=True)
    zero = xp.zeros_like(count)
    first = 2.0 * divide_no_nan(xp, square_sum, xp.maximum(count - 1, zero))
    second = 2.0 * divide_no_nan(xp, plain_sum * plain_sum, xp.maximum(count * (count - 1), zero))
    total = xp.sum((first - second) * weights)
    return xp.where(xp.sum(count) > 0, total, xp.zeros_like(total))
