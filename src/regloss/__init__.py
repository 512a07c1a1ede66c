"""regloss: the Keras 3 and TensorFlow regression losses, exact, on any array library.

>>> import regloss
>>> float(regloss.losses.MeanSquaredError()(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [1., 0.]]))
0.5
"""

from ._version import __version__

__all__ = ["__version__", "config", "losses", "metrics", "Reduction"]


def __getattr__(name):
    # The submodules (regloss.config, regloss.losses and NumPy with it, regloss.metrics...) and
    # Reduction are imported at their first use: `import regloss` stays light, and `python -m
    # regloss` takes over Ctrl-C before NumPy is imported (regloss.cli.interrupt).
    import importlib
    import importlib.util

    if name == "Reduction":
        from .reduction import Reduction

        return Reduction
    if name.isidentifier() and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'regloss' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
