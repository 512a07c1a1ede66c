"""Older TensorFlow semantics, without TensorFlow.

* :mod:`regloss.compat.v1.losses`: ``tf.compat.v1.losses`` (TensorFlow 1.x) regression losses, their
  ``Reduction`` table, ``compute_weighted_loss`` and the loss collections (held only inside
  :func:`regloss.compat.v1.losses.collect`).
* :mod:`regloss.compat.keras2`: tf.keras 2.x's ``Reduction`` (``AUTO`` included) and
  ``tf.nn.compute_average_loss`` for data-parallel training.

See ``docs/migration.md`` for the argument-by-argument mapping.
"""

from . import keras2, v1

__all__ = ["keras2", "v1"]
