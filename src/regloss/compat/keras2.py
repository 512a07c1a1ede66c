"""tf.keras 2.x: its ``Reduction`` (with ``AUTO``) and ``tf.nn.compute_average_loss``.

Every regloss loss class accepts the values of :class:`Reduction` (``"auto"`` means
``"sum_over_batch_size"``). tf.keras 2.x refused ``AUTO`` and ``SUM_OVER_BATCH_SIZE`` under a
``tf.distribute`` strategy outside ``Model.fit``; regloss knows nothing of strategies, so the
data-parallel recipe is explicit: compute per-example losses (``reduction="none"``) and divide by
the **global** batch size with :func:`compute_average_loss`.

Data-parallel recipes (each replica holds ``B`` of the ``R * B`` examples):

* gradients **summed** over replicas (JAX ``jax.lax.psum``, ``tf.distribute``): use
  ``compute_average_loss(per_example_loss, num_replicas=R)`` as it is; the sum of the replicas'
  gradients is the gradient of the global mean.
* gradients **averaged** over replicas (PyTorch ``DistributedDataParallel``): multiply it by the
  world size, ``R * compute_average_loss(per_example_loss, num_replicas=R)``, because DDP divides
  the summed gradients by ``R``.
"""

from __future__ import annotations

import numbers

from .._messages import show_plain, show_value
from .._shapes import shape_of, show
from .._xp import cast, dtype_name, namespace_dtype, resolve
from ..formulas import constant
from ..losses.functional import finish
from ..reduction import divide_no_nan

_FLOAT32 = "float32"


class Reduction:
    """tf.keras 2.x ``tf.keras.losses.Reduction`` (``ReductionV2``): the values regloss's loss
    classes accept from tf.keras 2.x code.

    >>> from regloss.compat.keras2 import Reduction
    >>> from regloss.losses import MeanSquaredError
    >>> MeanSquaredError(reduction=Reduction.AUTO).reduction
    'sum_over_batch_size'
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple:
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key) -> None:
        """Raise ``ValueError`` (tf-keras's text) unless ``key`` is one of :meth:`all`."""
        if isinstance(key, str) and key in cls.all():
            return
        raise ValueError(f'Invalid Reduction Key: {show_plain(key)}. Expected keys are "{cls.all()}"')


def _check_global_batch_size(value):
    """``tf.nn.compute_average_loss``'s checks of ``global_batch_size``, in TensorFlow's order and
    with its exception classes: not scalar (a list or tuple of any length and content, an array of
    rank >= 1) is a ``ValueError``, a scalar that is not an integer (a float, bool, string, bytes,
    complex, or an array of such a dtype) a ``TypeError``, a negative integer a ``ValueError``
    (TensorFlow's ``InvalidArgumentError``), and a value TensorFlow cannot convert to a tensor
    (a dict, a set, any other object) a ``ValueError``. Zero is allowed (the result is 0).

    Returns the Python int, or a traced 0-d integer array unchanged (it is not read)."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (str, bytes)):
        if len(shape_of(value)) != 0:
            raise ValueError(
                "global_batch_size must be scalar; received an array of shape "
                f"{show(shape_of(value))} ({type(value).__name__})"
            )
        if "int" not in dtype_name(value.dtype):
            raise TypeError(
                f"global_batch_size must be an integer; received global_batch_size={show_value(value)} "
                f"of dtype {dtype_name(value.dtype)} ({type(value).__name__})"
            )
        try:
            number = int(value)
        except Exception:  # traced: not read
            return value
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, (numbers.Number, str, bytes)):  # bool, float, complex: scalars of another dtype
        raise TypeError(
            "global_batch_size must be an integer; received "
            f"global_batch_size={show_value(value)} ({type(value).__name__})"
        )
    elif isinstance(value, (list, tuple)):
        raise ValueError(
            f"global_batch_size must be scalar; received global_batch_size={show_value(value)} "
            f"({type(value).__name__})"
        )
    else:
        raise ValueError(
            "global_batch_size must be a scalar integer; received "
            f"global_batch_size={show_value(value)} ({type(value).__name__})"
        )
    if number < 0:
        raise ValueError(
            f"global_batch_size must be non-negative; received global_batch_size={show_value(number)}"
        )
    if number >= 2**63:  # TensorFlow's int64
        raise ValueError(
            f"global_batch_size must be below 2**63; received global_batch_size={show_value(number)}"
        )
    return number


def _check_num_replicas(num_replicas) -> None:
    integer = isinstance(num_replicas, numbers.Integral) and not isinstance(num_replicas, bool)
    if not integer or not 1 <= num_replicas < 2**63:
        raise ValueError(
            f"num_replicas must be an integer in [1, 2**63); received num_replicas={show_value(num_replicas)}"
        )


def _weights_like_tensorflow(xp, weights, rank: int):
    """tf.keras 2.x ``squeeze_or_expand_dimensions``: a weight one rank above the losses loses
    its last dimension (which must be 1), one rank below gains a last dimension of 1."""
    weights_rank = weights.ndim
    if weights_rank == 0:
        return weights
    if weights_rank == rank + 1:
        if shape_of(weights)[-1] != 1:
            raise ValueError(
                f"sample_weight of shape {show(shape_of(weights))} has one axis more than the losses, "
                "so its last dimension must be 1"
            )
        return xp.squeeze(weights, axis=-1)
    if weights_rank == rank - 1:
        return xp.expand_dims(weights, axis=-1)
    return weights


def _check_broadcast(first_shape, second_shape) -> None:
    for a, b in zip(reversed(first_shape), reversed(second_shape), strict=False):
        if a != b and a != 1 and b != 1 and isinstance(a, int) and isinstance(b, int):
            raise ValueError(
                f"Incompatible shapes: the losses of shape {show(first_shape)} and sample_weight of "
                f"shape {show(second_shape)} do not broadcast"
            )


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None, num_replicas=1):
    """Each replica's share of the global mean: ``sum(per_example_loss * sample_weight) / global_batch_size``.

    As ``tf.nn.compute_average_loss``: ``global_batch_size`` defaults to the local first dimension
    times ``num_replicas`` (a regloss argument standing for ``strategy.num_replicas_in_sync``), so
    ``[B, T]`` losses divide by ``B * num_replicas``, not ``B * T``. Summing the results of all
    replicas gives the global mean (see the module docstring for the PyTorch DDP factor).

    ``sample_weight`` one rank below or above the losses is expanded or squeezed at the end, then
    broadcast; the weighted product is computed in float32 and cast back to the losses' dtype.
    The division is ``div_no_nan`` (a zero batch size gives 0); integer losses give a float64
    result (float32 where the library has no float64 enabled), as TensorFlow's true division.

    Raises ``ValueError`` for rank-0 losses and, as TensorFlow, for a non-scalar (``[10]``) or
    negative ``global_batch_size`` or one that is no number at all; ``TypeError`` for a scalar
    that is not an integer (``10.0``, ``True``, ``"10"``).

    >>> from regloss.compat.keras2 import compute_average_loss
    >>> compute_average_loss([1.0, 2.0, 3.0, 4.0], global_batch_size=8)
    array(1.25, dtype=float32)
    >>> compute_average_loss([1.0, 2.0, 3.0, 4.0], num_replicas=2)
    array(1.25, dtype=float32)
    """
    if per_example_loss is None:
        raise ValueError("per_example_loss must not be None")
    xp, arrays, weak = resolve(per_example_loss=per_example_loss, sample_weight=sample_weight)
    losses = arrays["per_example_loss"]
    if "per_example_loss" in weak and xp.isdtype(losses.dtype, "real floating"):
        losses = cast(xp, losses, _FLOAT32)
    if losses.ndim == 0:
        raise ValueError(
            "Invalid value passed for `per_example_loss`. Expected a tensor with at least rank 1. "
            "Received a 0-d array (rank 0)"
        )
    _check_num_replicas(num_replicas)
    if global_batch_size is None:
        global_batch_size = shape_of(losses)[0] * num_replicas
    else:
        global_batch_size = _check_global_batch_size(global_batch_size)
    input_dtype = dtype_name(losses.dtype)
    weights = arrays["sample_weight"]
    if weights is not None:
        weights = _weights_like_tensorflow(xp, cast(xp, weights, _FLOAT32), losses.ndim)
        _check_broadcast(shape_of(losses), shape_of(weights))
        losses = cast(xp, cast(xp, losses, _FLOAT32) * weights, input_dtype)
    total = xp.sum(losses)
    if not xp.isdtype(losses.dtype, "real floating"):
        total = xp.astype(total, namespace_dtype(xp, "float64"))
    if isinstance(global_batch_size, int):
        divisor = constant(xp, float(global_batch_size), total)
    else:
        divisor = xp.astype(global_batch_size, total.dtype)
    return finish(xp, divide_no_nan(xp, total, divisor), dtype_name(total.dtype))


def scale_regularization_loss(regularization_loss, num_replicas=1):
    """``sum(regularization_loss) / num_replicas``, as ``tf.nn.scale_regularization_loss``: each
    replica's share, so that the sum over replicas is the full regularization loss.

    >>> from regloss.compat.keras2 import scale_regularization_loss
    >>> scale_regularization_loss([0.5, 1.5], num_replicas=2)
    array(1., dtype=float32)
    """
    xp, arrays, weak = resolve(regularization_loss=regularization_loss)
    loss = arrays["regularization_loss"]
    if "regularization_loss" in weak:
        loss = cast(xp, loss, _FLOAT32)
    _check_num_replicas(num_replicas)
    total = xp.sum(loss)
    return finish(xp, total / num_replicas, dtype_name(total.dtype))
