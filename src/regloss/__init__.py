"""regloss: the Keras 3 and TensorFlow regression losses, exact, on any array library.

>>> import regloss
>>> float(regloss.losses.MeanSquaredError()(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [1., 0.]]))
0.5
"""

from . import config, losses
from ._version import __version__
from .reduction import Reduction

__all__ = ["__version__", "config", "losses", "metrics", "Reduction"]


def __getattr__(name):
    # regloss.metrics (streaming metrics, the bootstrap) is imported at its first use, so that
    # `import regloss` stays as light as the losses need.
    if name == "metrics":
        import importlib

        return importlib.import_module(".metrics", __name__)
    raise AttributeError(f"module 'regloss' has no attribute {name!r}")
