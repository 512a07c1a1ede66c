"""TensorFlow 1.x (``tf.compat.v1``) faces: ``losses``, ``name_scope`` and ``GraphKeys``.

>>> from regloss.compat import v1
>>> float(v1.losses.mean_squared_error(labels=[1, 2, 3], predictions=[1, 3, 5], weights=[0, 1, 0.25]))
1.0
"""

from . import losses
from .loss_collections import GraphKeys, name_scope

__all__ = ["GraphKeys", "losses", "name_scope"]
