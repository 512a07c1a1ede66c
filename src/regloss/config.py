"""Global numeric settings, read at call time like ``keras.config``.

Under ``jax.jit`` or ``torch.compile`` the values are read when the function is traced, so a
change after tracing does not reach an already compiled function.
"""

import math
import numbers
import os

from ._messages import show_value

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
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"epsilon must be a number; received value={show_value(value)}")
    if abs(value) >= 2**1024 or not math.isfinite(value) or value <= 0:  # huge ints: no float
        raise ValueError(f"epsilon must be finite and > 0; received value={show_value(value)}")
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
            f"floatx must be one of {', '.join(map(repr, FLOAT_DTYPE_NAMES))}; "
            f"received value={show_value(value)}"
        )
    _settings["floatx"] = value


# ------------------------------------------------------------------ the fused NumPy path

ACCELERATORS = ("auto", "numba", "numpy", "none")


def _read_environment(name: str) -> str | None:
    value = os.environ.get(name, "").strip().lower()
    return value or None


# Read once, when regloss is imported (a lookup per call would cost more than a small loss).
_ENVIRONMENT = {name: _read_environment(name) for name in ("REGLOSS_ACCELERATOR", "REGLOSS_NUM_THREADS")}


def _environment(name: str) -> str | None:
    return _ENVIRONMENT[name]


def accelerator() -> str:
    """The fused path NumPy inputs take: ``"auto"`` (default: the best installed tier of
    :mod:`regloss.kernels`: numba for large inputs when it is installed, else the blocked NumPy
    tier), ``"numba"`` (the same; the blocked tier without numba), ``"numpy"`` (the blocked NumPy
    tier) or ``"none"`` (the generic array-API path, also for NumPy). Set by
    :func:`set_accelerator`, else ``REGLOSS_ACCELERATOR`` (read when regloss is imported).

    >>> import regloss
    >>> regloss.config.accelerator() in ("auto", "numba", "numpy", "none")
    True
    """
    chosen = _settings.get("accelerator") or _environment("REGLOSS_ACCELERATOR") or "auto"
    if chosen not in ACCELERATORS:
        raise ValueError(
            f"REGLOSS_ACCELERATOR must be one of {', '.join(map(repr, ACCELERATORS))}; "
            f"received REGLOSS_ACCELERATOR={show_value(chosen)}"
        )
    return chosen


def set_accelerator(value: str | None) -> None:
    """Choose the fused path: ``"auto"``, ``"numba"``, ``"numpy"`` or ``"none"``; ``None`` goes back to
    ``REGLOSS_ACCELERATOR`` (or ``"auto"``). Results agree to rounding whatever the choice, except
    where a float32 sum leaves float32's range while the result does not: the fused
    paths add in float64 and give the finite result, the generic path (``"none"``) gives ``inf``
    as Keras does (docs/performance.md)."""
    if value is not None and value not in ACCELERATORS:
        raise ValueError(
            f"accelerator must be one of {', '.join(map(repr, ACCELERATORS))} or None; "
            f"received value={show_value(value)}"
        )
    _settings["accelerator"] = value


def num_threads() -> int:
    """Threads the fused path may use for one large call: :func:`set_num_threads`, else
    ``REGLOSS_NUM_THREADS`` (read when regloss is imported), else the CPUs this process may run
    on (``os.sched_getaffinity``). Results are bit-identical whatever the number (a fixed block
    partition, merged in order)."""
    chosen = _settings.get("num_threads")
    if chosen is None:
        text = _environment("REGLOSS_NUM_THREADS")
        if text is not None and not (text.isdigit() and int(text) > 0):
            raise ValueError(
                "REGLOSS_NUM_THREADS must be an integer >= 1; "
                f"received REGLOSS_NUM_THREADS={show_value(text)}"
            )
        chosen = int(text) if text is not None else None
    if chosen is None:
        try:
            chosen = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS, Windows
            chosen = os.cpu_count() or 1
    return chosen


def set_num_threads(value: int | None) -> None:
    """Limit the threads of the fused path to ``value >= 1``; ``None`` restores the default."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"num_threads must be an int >= 1 or None; received value={show_value(value)}")
    _settings["num_threads"] = value
