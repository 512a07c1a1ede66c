"""Global numeric settings, read at call time like ``keras.config``.

Under ``jax.jit`` or ``torch.compile`` the values are read when the function is traced, so a
change after tracing does not reach an already compiled function.
"""

import math

FLOAT_DTYPE_NAMES = ("float16", "bfloat16", "float32", "float64")

_settings = {"epsilon": 1e-7, "floatx": "float32"}


def epsilon() -> float:
    """The fuzz factor used to avoid division by zero (default ``1e-7``).

    >>> import regloss
    >>> regloss.config.epsilon()
    1e-07
    """
    return _settings["epsilon"]


def set_epsilon(value: float) -> None:
    """Set the fuzz factor; it must be a finite number > 0.

    >>> import regloss
    >>> regloss.config.set_epsilon(1e-4)
    >>> float(regloss.losses.MeanAbsolutePercentageError()(y_true=[[0.0]], y_pred=[[1.0]]))
    1000000.0
    >>> regloss.config.set_epsilon(1e-7)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"epsilon must be a number; received value={value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"epsilon must be finite and > 0; received value={value!r}")
    _settings["epsilon"] = float(value)


def floatx() -> str:
    """The default float dtype name of losses and of integer inputs (default ``"float32"``).

    >>> import regloss
    >>> regloss.config.floatx()
    'float32'
    """
    return _settings["floatx"]


def set_floatx(value: str) -> None:
    """Set the default float dtype: one of ``float16``, ``bfloat16``, ``float32``, ``float64``.

    >>> import regloss
    >>> regloss.config.set_floatx("float64")
    >>> regloss.losses.MeanSquaredError().dtype
    'float64'
    >>> regloss.config.set_floatx("float32")
    """
    if not isinstance(value, str) or value not in FLOAT_DTYPE_NAMES:
        raise ValueError(
            f"floatx must be one of {', '.join(map(repr, FLOAT_DTYPE_NAMES))}; received value={value!r}"
        )
    _settings["floatx"] = value
