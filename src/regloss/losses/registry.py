"""Names, aliases, and ``get`` / ``serialize`` / ``deserialize`` in Keras 3's formats.

Only objects registered here, or passed in ``custom_objects``, ever come back: nothing named in a
config is imported or evaluated, and the ``module`` and ``registered_name`` fields select nothing.
"""

from __future__ import annotations

import inspect

from .. import specs
from .._xp import short_repr
from . import classes, functional

LOSS_CLASSES = {
    "Loss": classes.Loss,
    **{spec.class_name: getattr(classes, spec.class_name) for spec in specs.LOSSES},
}
"""Every loss class by name: the base class and one per description of :mod:`regloss.specs`."""

KERAS_CLASS_NAMES = frozenset({"Loss", *(spec.class_name for spec in specs.LOSSES if spec.in_keras)})
"""The classes Keras 3 has too: they serialize as ``module: "keras.losses"``. The others (torch's and TF
Addons' losses) serialize as ``module: "regloss.losses"``, ``registered_name: "regloss>NAME"``, Keras's
form for a registered custom object (``keras.saving.deserialize_keras_object(config,
custom_objects={"regloss>Pinball": regloss.losses.Pinball})`` loads one)."""

LOSS_FUNCTIONS = {spec.name: getattr(functional, spec.name) for spec in specs.LOSSES}
"""Every loss function by its Keras 3 name."""

FUNCTION_ALIASES = specs.function_aliases()
"""Other names of the loss functions: Keras 3's (``"mse"``...) and tf.keras 2.x's (``"logcosh"``,
``"huber_loss"``) -> the Keras 3 name."""


def _lookup(name, custom_objects):
    if not isinstance(name, str):
        return None
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in LOSS_CLASSES:
        return LOSS_CLASSES[name]
    return LOSS_FUNCTIONS.get(FUNCTION_ALIASES.get(name, name))


def _check_custom_objects(custom_objects):
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict or None; received {type(custom_objects).__name__}")


def get(identifier):
    """A loss from a name, a config dict, a class or a callable (``None`` gives ``None``).

    Names are exact and case-sensitive: Keras 3's (``"mse"``, ``"MeanSquaredError"``...) and the
    tf.keras 2.x ``"logcosh"`` and ``"huber_loss"``. A class name gives a default instance; a
    function name gives the function.

    >>> from regloss.losses import get
    >>> get("mse").__name__, get("Huber")
    ('mean_squared_error', Huber(name='huber_loss', reduction='sum_over_batch_size', delta=1.0))
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        found = deserialize(identifier)
    elif isinstance(identifier, str):
        found = _lookup(identifier, None)
    else:
        found = identifier
    if inspect.isclass(found) and issubclass(found, classes.Loss):
        return found()
    if callable(found) and not inspect.isclass(found):
        return found
    raise ValueError(f"Could not interpret loss identifier: {short_repr(identifier)}")


def serialize(loss) -> dict:
    """A loss object or function in Keras 3's format, which ``keras.losses.deserialize`` loads.

    >>> from regloss.losses import MeanSquaredError, serialize
    >>> serialize(MeanSquaredError())["config"]
    {'name': 'mean_squared_error', 'reduction': 'sum_over_batch_size'}
    """
    if isinstance(loss, classes.Loss):
        name = type(loss).__name__
        if LOSS_CLASSES.get(name) is not type(loss):
            module, registered_name = type(loss).__module__, name
        elif name in KERAS_CLASS_NAMES:
            module, registered_name = "keras.losses", None
        else:
            module, registered_name = "regloss.losses", f"regloss>{name}"
        return {
            "module": module,
            "class_name": name,
            "config": loss.get_config(),
            "registered_name": registered_name,
        }
    name = getattr(loss, "__name__", None)
    if isinstance(name, str) and LOSS_FUNCTIONS.get(name) is loss:
        return {
            "module": "builtins",
            "class_name": "function",
            "config": name,
            "registered_name": "function",
        }
    raise ValueError(f"Cannot serialize {short_repr(loss)}: not a regloss loss or loss function")


def deserialize(config, custom_objects=None):
    """A loss object or function from a name or a Keras-format dict.

    ``custom_objects`` maps names to user classes or functions, which come back like the
    built-in ones. Unknown names are a ``ValueError``; nothing is ever imported.

    >>> from regloss.losses import deserialize
    >>> deserialize({"module": "keras.losses", "class_name": "Huber",
    ...              "config": {"name": "huber_loss", "reduction": "sum", "delta": 2.0}})
    Huber(name='huber_loss', reduction='sum', delta=2.0)
    >>> deserialize("logcosh").__name__
    'log_cosh'
    """
    _check_custom_objects(custom_objects)
    if isinstance(config, str):
        found = _lookup(config, custom_objects)
        if found is None:
            raise ValueError(f"Unknown loss: {short_repr(config)}")
        return found
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict or a string; received {type(config).__name__}")
    if "class_name" not in config:
        raise ValueError(f"A loss config needs a 'class_name' key; received {short_repr(config)}")
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "function":
        found = _lookup(inner, custom_objects)
        if found is None or inspect.isclass(found):
            raise ValueError(f"Unknown loss function: {short_repr(inner)}")
        return found
    found = _lookup(class_name, custom_objects)
    if found is None:
        raise ValueError(f"Unknown loss class: {short_repr(class_name)}")
    if not inspect.isclass(found):
        return found
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise TypeError(f"the 'config' of a {class_name} must be a dict; received {type(inner).__name__}")
    if hasattr(found, "from_config"):
        return found.from_config(inner)
    return found(**inner)
