"""Use a regloss loss object in Keras 3 training: :func:`as_keras_loss`.

Functions need nothing: ``model.compile(loss=regloss.losses.mean_squared_error)`` works as it is,
because Keras wraps a plain function in its ``LossFunctionWrapper``, which calls it for the
per-sample losses and then weights, masks and reduces them itself.

A loss *object* must go through :func:`as_keras_loss`. A raw regloss instance passed to
``compile`` is also wrapped in ``LossFunctionWrapper``, but the instance already returns the
*reduced* loss (a scalar), and Keras then applies sample weights and masks to that scalar a
second time: with (B,) sample weights ``w`` the result is ``mean(w) * unweighted_loss`` instead of
``mean(w * losses)``, and with a mask and weights it is wrong too.

:func:`as_keras_loss` returns an instance of :class:`KerasLossAdapter`, a ``keras.losses.Loss``
subclass whose ``call(y_true, y_pred)`` is the regloss loss's per-sample losses::

    call(y_true, y_pred) = loss.call(*reconcile(y_true, y_pred))   # shape (batch, ...)

where ``reconcile`` casts both inputs to the loss dtype (float32 inside for float16/bfloat16
losses), applies Keras's rank reconciliation and checks that the shapes are then equal, as the
regloss functions do. Keras's ``Loss.__call__`` then does the rest exactly as for its own losses:
``reduce_weighted_values(losses, sample_weight, mask, reduction, dtype)``.

Example (the JAX and PyTorch Keras backends, where tensors are array-API arrays; TensorFlow
tensors are not)::

    import keras, regloss
    from regloss.keras import as_keras_loss

    model.compile(optimizer="adam", loss=as_keras_loss(regloss.losses.Huber(delta=0.5)))
    model.fit(x, y, sample_weight=w)

Decisions:

* **Keras is imported only when needed**: ``import regloss.keras`` imports no Keras; the adapter
  class is created the first time :func:`as_keras_loss`, :func:`keras_loss_class` or the module
  attribute ``regloss.keras.KerasLossAdapter`` is used.
* **Name, reduction and dtype** are the regloss loss's (``reduction="auto"`` is already
  ``"sum_over_batch_size"`` in regloss). They may be overridden with keyword arguments.
* **Masks**: when Keras attached a mask to ``y_pred`` (a ``Masking`` layer upstream) and the mask
  has the per-sample losses' shape, the masked inputs are replaced by zeros before the loss is
  computed (regloss's rule: NaN or inf in masked entries never reaches a value or a gradient).
  The masking arithmetic itself is Keras's, so finite inputs give Keras's numbers.
* **Serialization**: the adapter class is registered with
  ``keras.saving.register_keras_serializable(package="regloss")`` when it is created, so its
  registered name is ``"regloss>KerasLossAdapter"``. ``get_config()`` is
  ``{"name", "reduction", "dtype", "loss": <regloss.losses.serialize(loss)>}`` and
  ``from_config`` rebuilds the regloss loss with :func:`regloss.losses.deserialize`, which never
  imports anything named in a config. A user's ``regloss.losses.Loss`` subclass is looked up with
  ``keras.saving.get_registered_object`` (register it with
  ``@keras.saving.register_keras_serializable()`` or pass it in ``custom_objects``).
  To load a saved model in a new process, call :func:`keras_loss_class` first (or pass
  ``custom_objects=regloss.keras.custom_objects()`` to ``keras.saving.load_model``), since the
  registration happens only when the class is created.
"""

from __future__ import annotations

import array_api_compat

from ._messages import show_value
from ._xp import standardize_dtype
from .losses import classes as _classes
from .losses import registry as _registry
from .losses.functional import prepare_inputs as _prepare_inputs

__all__ = ["as_keras_loss", "keras_loss_class", "custom_objects"]

REGISTERED_PACKAGE = "regloss"
ADAPTER_NAME = "KerasLossAdapter"
_FROM_LOSS = object()
_adapter_class = None


def as_keras_loss(loss, *, name=None, reduction=_FROM_LOSS, dtype=None):
    """A ``keras.losses.Loss`` that computes ``loss``'s per-sample losses and lets Keras reduce.

    Parameters
    ----------
    loss : regloss.losses.Loss
        Any regloss loss object, a user subclass included (its ``call(y_true, y_pred)`` must
        return per-sample losses).
    name, reduction, dtype : optional
        Override the loss's own name, reduction (a Keras reduction) and dtype.

    Returns
    -------
    KerasLossAdapter
        A ``keras.losses.Loss`` for ``model.compile(loss=...)`` or direct calls
        ``adapter(y_true, y_pred, sample_weight)``.

    Examples
    --------
    >>> import regloss
    >>> from regloss.keras import as_keras_loss
    >>> adapter = as_keras_loss(regloss.losses.Huber(delta=2.0))  # doctest: +SKIP
    >>> adapter.name, adapter.reduction, adapter.regloss_loss.get_config()["delta"]  # doctest: +SKIP
    ('huber_loss', 'sum_over_batch_size', 2.0)
    """
    if not isinstance(loss, _classes.Loss):
        raise TypeError(
            "as_keras_loss takes a regloss.losses.Loss instance; received "
            f"{type(loss).__name__}. Pass regloss loss functions to compile(loss=...) directly."
        )
    return keras_loss_class()(loss, name=name, reduction=reduction, dtype=dtype)


def custom_objects() -> dict:
    """``{"regloss>KerasLossAdapter": KerasLossAdapter}`` for ``keras.saving.load_model``."""
    return {f"{REGISTERED_PACKAGE}>{ADAPTER_NAME}": keras_loss_class()}


def __getattr__(name):
    if name == ADAPTER_NAME:
        return keras_loss_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _serialize_regloss_loss(loss, keras) -> dict:
    config = _registry.serialize(loss)
    if _registry.LOSS_CLASSES.get(type(loss).__name__) is not type(loss):
        config["registered_name"] = keras.saving.get_registered_name(type(loss))
    return config


def _deserialize_regloss_loss(config, keras):
    if isinstance(config, _classes.Loss):
        return config
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            f"'loss' must be a regloss loss config with a string 'class_name'; received {show_value(config)}"
        )
    class_name = config["class_name"]
    extra = {}
    if _registry.LOSS_CLASSES.get(class_name) is None:
        for key in (config.get("registered_name"), class_name):
            found = keras.saving.get_registered_object(key) if isinstance(key, str) else None
            if isinstance(found, type) and issubclass(found, _classes.Loss):
                extra[class_name] = found
                break
        else:
            raise ValueError(
                f"Unknown regloss loss class {show_value(class_name)}: register it with "
                "@keras.saving.register_keras_serializable() or pass it in custom_objects"
            )
    return _registry.deserialize(config, custom_objects=extra)


def _zero_masked(xp, mask, y_true, y_pred):
    """Zeros in place of masked-out inputs, for a mask of the inputs' shape or without the last axis."""
    if mask is None:
        return y_true, y_pred
    if not array_api_compat.is_array_api_obj(mask):
        return y_true, y_pred
    shape = tuple(y_pred.shape)
    if tuple(mask.shape) == shape[:-1] and len(shape) >= 1:
        mask = xp.expand_dims(mask, axis=-1)
    elif tuple(mask.shape) != shape:
        return y_true, y_pred
    if not xp.isdtype(mask.dtype, "bool"):
        mask = mask != 0
    zeros = xp.zeros_like(y_pred)
    return xp.where(mask, y_true, zeros), xp.where(mask, y_pred, zeros)


def keras_loss_class():
    """The ``keras.losses.Loss`` subclass :class:`KerasLossAdapter` (imports Keras; registers it once)."""
    global _adapter_class
    if _adapter_class is not None:
        return _adapter_class

    import keras
    from keras.src.backend import get_keras_mask

    class KerasLossAdapter(keras.losses.Loss):
        """A regloss loss in Keras: per-sample losses from regloss, reduction by Keras.

        ``call(y_true, y_pred)`` returns ``regloss_loss.call`` on the reconciled inputs (same
        dtype, same shape); Keras's ``Loss.__call__`` applies ``sample_weight``, the Keras mask
        of ``y_pred`` and ``reduction`` as for its own losses.
        """

        def __init__(self, loss, name=None, reduction=_FROM_LOSS, dtype=None):
            loss = _deserialize_regloss_loss(loss, keras)
            if dtype is not None and standardize_dtype(dtype) != loss.dtype:
                # The dtype decides the computation as well as Keras's reduction: rebuild the loss.
                loss = type(loss).from_config({**loss.get_config(), "dtype": dtype})
            if reduction is _FROM_LOSS:
                reduction = loss.reduction
            super().__init__(name=name or loss.name, reduction=reduction, dtype=dtype or loss.dtype)
            self.regloss_loss = loss

        def call(self, y_true, y_pred):
            keras_mask = get_keras_mask(y_pred)
            xp = array_api_compat.array_namespace(y_true, y_pred)
            y_true, y_pred = _prepare_inputs(xp, y_true, y_pred, self.regloss_loss.dtype)
            y_true, y_pred = _zero_masked(xp, keras_mask, y_true, y_pred)
            return self.regloss_loss.call(y_true, y_pred)

        def get_config(self):
            return {
                "name": self.name,
                "reduction": self.reduction,
                "dtype": self.dtype,
                "loss": _serialize_regloss_loss(self.regloss_loss, keras),
            }

        @classmethod
        def from_config(cls, config):
            return cls(**config)

        def __repr__(self):
            return f"<KerasLossAdapter({self.regloss_loss!r})>"

    KerasLossAdapter.__module__ = __name__
    KerasLossAdapter.__qualname__ = ADAPTER_NAME
    _adapter_class = keras.saving.register_keras_serializable(package=REGISTERED_PACKAGE, name=ADAPTER_NAME)(
        KerasLossAdapter
    )
    return _adapter_class
