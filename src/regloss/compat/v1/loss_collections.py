"""TF1 loss collections, held only inside an explicit ``collect()`` block.

TensorFlow 1.x adds every loss it computes to a graph collection (``tf.GraphKeys.LOSSES``); in
TF2 eager mode it adds nothing, because holding every loss would leak memory. regloss follows
eager mode by default and collects **only inside** ``with collect() as collection:``. Outside one,
:func:`add_loss` does nothing and the getters return nothing, so autograd graphs and JAX tracers
are never kept alive behind your back.

The active collection is a :mod:`contextvars` variable:

* the innermost ``collect()`` receives the losses, and does not pass them to an outer one;
* ``asyncio`` tasks created inside a block copy the context when they are created, so they add to
  that block's collection (even if they finish after the block ends);
* a new ``threading.Thread`` starts with an empty context: it collects nothing unless its target
  is run through ``contextvars.copy_context().run`` (or ``ctx.run``) from inside the block.

Each entry is ``(name, value)``. The name mimics the TensorFlow tensor name without ``:0``: the
active :func:`name_scope` names, then the loss's ``scope`` (or TF's default scope, such as
``mean_squared_error``), then TF's op suffix (``value`` for the dividing reductions, ``Mul`` for
``NONE``, ``Sum`` for ``SUM``). TensorFlow makes repeated scopes unique (``mean_squared_error_1``);
regloss does not, which changes nothing for prefix filters.

>>> from regloss.compat.v1 import losses, name_scope
>>> with losses.collect() as collection:
...     with name_scope("tower1"):
...         _ = losses.absolute_difference(labels=[1.0, 2.0], predictions=[2.0, 2.0])
...     _ = losses.mean_squared_error(labels=[1.0], predictions=[2.0])
...     tower_losses = losses.get_losses(scope="tower1")
>>> [name for name, _ in collection.entries()]
['tower1/absolute_difference/value', 'mean_squared_error/value']
>>> [float(value) for value in tower_losses]
[0.5]
>>> losses.get_losses()  # outside collect(): nothing is held
[]
"""

from __future__ import annotations

import contextlib
import contextvars
import re

from ..._messages import show_value
from ..._shapes import shape_of, show
from ..._xp import dtype_name
from .checks import as_tensors


class GraphKeys:
    """The two collection names the TF1 losses use."""

    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"


_active_collections: contextvars.ContextVar = contextvars.ContextVar(
    "regloss_compat_v1_collections", default=None
)
_name_scopes: contextvars.ContextVar = contextvars.ContextVar("regloss_compat_v1_name_scopes", default=())


class LossCollections:
    """The losses collected by one :func:`collect` block: ``(name, value)`` entries per key."""

    def __init__(self):
        self._entries: dict[str, list[tuple[str, object]]] = {}

    def add(self, name: str, value, loss_collection: str = GraphKeys.LOSSES) -> None:
        """Append ``(name, value)`` to ``loss_collection`` (a list: adding twice stores twice)."""
        self._entries.setdefault(loss_collection, []).append((name, value))

    def entries(self, loss_collection: str = GraphKeys.LOSSES, scope: str | None = None) -> list:
        """A new list of the ``(name, value)`` entries whose name ``re.match``-es ``scope``."""
        found = self._entries.get(loss_collection, [])
        if scope is None:
            return list(found)
        return [(name, value) for name, value in found if re.match(scope, name)]

    def keys(self) -> list[str]:
        """The collection names that hold at least one entry."""
        return [key for key, found in self._entries.items() if found]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{key!r}: {len(found)}" for key, found in self._entries.items())
        return f"LossCollections({{{sizes}}})"


@contextlib.contextmanager
def collect():
    """Collect the TF1 losses computed inside the block (the innermost block receives them).

    >>> from regloss.compat.v1 import losses
    >>> with losses.collect() as collection:
    ...     _ = losses.mean_squared_error(labels=[0.0, 1.0], predictions=[1.0, 1.0])
    ...     total = losses.get_total_loss()
    >>> float(total), len(collection.entries())
    (0.5, 1)
    """
    collections = LossCollections()
    token = _active_collections.set(collections)
    try:
        yield collections
    finally:
        _active_collections.reset(token)


def active_collections() -> LossCollections | None:
    """The collection of the innermost :func:`collect` block of this context, or ``None``."""
    return _active_collections.get()


@contextlib.contextmanager
def name_scope(name: str | None):
    """Prefix the names of the losses collected inside the block with ``name/`` (nestable).

    ``None`` or ``""`` adds nothing; a name ending in ``/`` replaces the enclosing scopes, as in
    TensorFlow.

    >>> from regloss.compat.v1 import name_scope
    >>> from regloss.compat.v1.loss_collections import qualified_name
    >>> with name_scope("outer"), name_scope("inner"):
    ...     qualified_name(None, "huber_loss", "value")
    'outer/inner/huber_loss/value'
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a string or None; received name={show_value(name)}")
    if not name:
        yield current_scope()
        return
    scopes = tuple(name.rstrip("/").split("/")) if name.endswith("/") else (*_name_scopes.get(), name)
    token = _name_scopes.set(scopes)
    try:
        yield current_scope()
    finally:
        _name_scopes.reset(token)


def current_scope() -> str:
    """The active name scopes joined by ``/`` and followed by ``/`` (``""`` when none)."""
    scopes = _name_scopes.get()
    return "/".join(scopes) + "/" if scopes else ""


def qualified_name(scope: str | None, default_scope: str, suffix: str) -> str:
    """``<name scopes>/<scope or default_scope>/<suffix>``; a ``scope`` ending in ``/`` is absolute."""
    if scope and scope.endswith("/"):
        return scope + suffix
    return f"{current_scope()}{scope or default_scope}/{suffix}"


def record(value, loss_collection, scope: str | None, default_scope: str, suffix: str) -> None:
    """Add a computed loss to the active collection (nothing outside :func:`collect`)."""
    collections = _active_collections.get()
    if collections is not None and loss_collection:
        collections.add(qualified_name(scope, default_scope, suffix), value, loss_collection)


def add_loss(loss, loss_collection: str = GraphKeys.LOSSES, *, name: str = "loss") -> None:
    """Add ``loss`` to ``loss_collection`` of the active :func:`collect` block.

    A no-op outside one, or when ``loss_collection`` is ``None`` or ``""`` (as TF2 eager mode is
    a no-op). The entry is named ``<name scopes>/<name>``; ``name`` is a regloss addition (a
    TensorFlow tensor carries its own name).

    >>> from regloss.compat.v1 import losses, name_scope
    >>> with losses.collect():
    ...     with name_scope("scope1"):
    ...         losses.add_loss(-1.0, loss_collection="regularization_losses")
    ...     float(losses.get_regularization_loss("scope1"))
    -1.0
    """
    collections = _active_collections.get()
    if collections is not None and loss_collection:
        collections.add(current_scope() + name, loss, loss_collection)


def get_losses(scope: str | None = None, loss_collection: str = GraphKeys.LOSSES) -> list:
    """The values in ``loss_collection`` whose name ``re.match``-es ``scope``, in insertion order;
    ``[]`` outside :func:`collect`."""
    collections = _active_collections.get()
    if collections is None:
        return []
    return [value for _, value in collections.entries(loss_collection, scope)]


def get_regularization_losses(scope: str | None = None) -> list:
    """``get_losses(scope, GraphKeys.REGULARIZATION_LOSSES)``."""
    return get_losses(scope, GraphKeys.REGULARIZATION_LOSSES)


def _add_n(values: list):
    """The elementwise sum of arrays of one shape and dtype (TensorFlow's ``add_n``)."""
    _, converted = as_tensors(**{f"loss_{index}": value for index, value in enumerate(values)})
    arrays = list(converted.values())
    first = arrays[0]
    for index, array in enumerate(arrays[1:], start=1):
        if shape_of(array) != shape_of(first) or array.dtype != first.dtype:
            raise ValueError(
                "the collected losses must have one shape and dtype to be added: loss 0 has shape "
                f"{show(shape_of(first))} and dtype {dtype_name(first.dtype)}, loss {index} has shape "
                f"{show(shape_of(array))} and dtype {dtype_name(array.dtype)}"
            )
    total = first
    for array in arrays[1:]:
        total = total + array
    return total


def get_regularization_loss(scope: str | None = None, name: str = "total_regularization_loss"):
    """The sum of the regularization losses (``scope``-filtered), or a float32 ``0.0`` if none.

    ``name`` is accepted for TensorFlow compatibility; results carry no names here.
    """
    found = get_regularization_losses(scope)
    if not found:
        return as_tensors(zero=0.0)[1]["zero"]
    return _add_n(found)


def get_total_loss(
    add_regularization_losses: bool = True, name: str = "total_loss", scope: str | None = None
):
    """The sum of the collected losses, plus the regularization losses when the flag is set.

    Raises ``ValueError`` when there is nothing to add (always the case outside :func:`collect`,
    as in TF2 eager mode).
    """
    found = get_losses(scope=scope)
    if add_regularization_losses:
        found += get_regularization_losses(scope=scope)
    if not found:
        raise ValueError(
            "get_total_loss found no losses to add (TensorFlow: 'Inputs must be an iterable of at "
            "least one Tensor/IndexedSlices with the same dtype and shape.'); losses are collected "
            "only inside `with regloss.compat.v1.losses.collect():`"
        )
    return _add_n(found)
