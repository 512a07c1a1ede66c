"""Metric names of ``regloss evaluate --metrics`` and the catalogue that ``regloss losses`` prints.

A metric is named by its short name (``mse``, ``rmse``, ``mae``, ``mape``, ``msle``, ``huber``,
``logcosh``, ``cosine``, ``r2``), its :mod:`regloss.metrics` class name (``MeanSquaredError``), the
class's default name (``mean_squared_error``, ``r2_score``) or a loss alias of
:mod:`regloss.losses` (``MSE``, ``log_cosh``, ``huber_loss``); case does not matter. A name with
the suffix ``_per_output`` (``mae_per_output``, ``r2_per_output``) gives one value per output
instead of one over all outputs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .._messages import show_value
from ..losses import registry
from ..metrics import classes as metric_classes
from ..reduction import Reduction
from .errors import CliError

PER_OUTPUT = "_per_output"
DEFAULT_METRICS = "mse,rmse,mae,r2"


@dataclass(frozen=True)
class MetricInfo:
    """A metric of the command line: its short name, its class, its formula in words."""

    short: str
    class_name: str
    formula: str
    loss_function: str | None  # the regloss.losses function it averages, if any


METRICS = {
    info.short: info
    for info in (
        MetricInfo("mse", "MeanSquaredError", "mean((y_true - y_pred)**2)", "mean_squared_error"),
        MetricInfo("rmse", "RootMeanSquaredError", "sqrt(mean((y_true - y_pred)**2))", None),
        MetricInfo("mae", "MeanAbsoluteError", "mean(|y_true - y_pred|)", "mean_absolute_error"),
        MetricInfo(
            "mape",
            "MeanAbsolutePercentageError",
            "100 * mean(|y_true - y_pred| / max(|y_true|, eps))",
            "mean_absolute_percentage_error",
        ),
        MetricInfo(
            "msle",
            "MeanSquaredLogarithmicError",
            "mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)",
            "mean_squared_logarithmic_error",
        ),
        MetricInfo(
            "huber",
            "Huber",
            "mean(0.5 e**2 if |e| <= delta else delta (|e| - 0.5 delta)), e = y_pred - y_true",
            "huber",
        ),
        MetricInfo("logcosh", "LogCoshError", "mean(log(cosh(y_pred - y_true)))", "log_cosh"),
        MetricInfo(
            "cosine",
            "CosineSimilarity",
            "mean over rows of sum(y_true * y_pred) / (|y_true| |y_pred|) (needs several outputs)",
            "cosine_similarity",
        ),
        MetricInfo(
            "r2",
            "R2Score",
            "1 - sum(w (y_true - y_pred)**2) / sum(w (y_true - weighted mean of y_true)**2), "
            "averaged over the outputs",
            None,
        ),
    )
}
"""Every metric of the command line, by short name. Means are weighted means over the rows."""

LOSS_FORMULAS = {
    "mean_squared_error": "mean((y_true - y_pred)**2, axis=-1)",
    "mean_absolute_error": "mean(|y_true - y_pred|, axis=-1)",
    "mean_absolute_percentage_error": "100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)",
    "mean_squared_logarithmic_error": (
        "mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)"
    ),
    "cosine_similarity": "-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis=-1)",
    "huber": "mean(0.5 e**2 if |e| <= delta else delta |e| - 0.5 delta**2, axis=-1), e = y_pred - y_true",
    "log_cosh": "mean(log(cosh(y_pred - y_true)), axis=-1)",
    "dice": "1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps), sums over axis (default: all)",
    "tversky": (
        "1 - TP / (TP + alpha FP + beta FN + eps), TP = sum(y_true y_pred), "
        "FP = sum((1 - y_true) y_pred), FN = sum(y_true (1 - y_pred))"
    ),
}
"""The formula of each loss function of :mod:`regloss.losses` (the per-sample value)."""

LOSS_CLASS_OF = {
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "cosine_similarity": "CosineSimilarity",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "dice": "Dice",
    "tversky": "Tversky",
}

REDUCTIONS = {
    Reduction.SUM_OVER_BATCH_SIZE: "sum of the weighted per-sample losses / their number (the default)",
    Reduction.MEAN: "the same as sum_over_batch_size",
    Reduction.SUM: "sum of the weighted per-sample losses",
    Reduction.MEAN_WITH_SAMPLE_WEIGHT: "sum of the weighted per-sample losses / sum of the weights",
    Reduction.NONE: "the weighted per-sample losses, not reduced",
    Reduction.AUTO: "sum_over_batch_size (the tf.keras 2.x name)",
}


def loss_aliases(function_name: str) -> list[str]:
    """The other names :func:`regloss.losses.get` takes for a loss function."""
    return [alias for alias, target in registry.FUNCTION_ALIASES.items() if target == function_name]


def metric_aliases(short: str) -> list[str]:
    """Every name ``--metrics`` takes for a metric (its short name first)."""
    info = METRICS[short]
    cls = metric_classes.METRIC_CLASSES[info.class_name]
    names = [short, info.class_name, cls.default_name]
    if info.loss_function is not None:
        names += [info.loss_function, *loss_aliases(info.loss_function)]
    return list(dict.fromkeys(names))


_LOOKUP = {alias.lower(): short for short in METRICS for alias in metric_aliases(short)}


@dataclass(frozen=True)
class MetricRequest:
    """One metric of ``--metrics``: the name as typed (the key of the results), the metric's
    short name, and whether it gives one value per output."""

    key: str
    short: str
    per_output: bool


def _suggestion(name: str) -> str:
    candidates = sorted(_LOOKUP) + [short + PER_OUTPUT for short in METRICS]
    close = difflib.get_close_matches(name.lower(), candidates, n=1)
    return f" (did you mean {show_value(close[0])}?)" if close else ""


def parse_metrics(text: str) -> list[MetricRequest]:
    """The metrics of a ``--metrics`` value (names separated by commas; repeats are ignored)."""
    requests: dict[str, MetricRequest] = {}
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            raise CliError(f"--metrics takes metric names separated by commas; received {show_value(text)}")
        base, per_output = name, False
        if name.lower().endswith(PER_OUTPUT):
            base, per_output = name[: -len(PER_OUTPUT)], True
        short = _LOOKUP.get(base.lower())
        if short is None:
            if base in registry.LOSS_FUNCTIONS or base in registry.LOSS_CLASSES:
                raise CliError(
                    f"{show_value(name)} is a loss without a streaming metric; metrics: {', '.join(METRICS)}"
                )
            raise CliError(
                f"unknown metric {show_value(name)}{_suggestion(name)}; metrics: {', '.join(METRICS)} "
                f"(or a name with {PER_OUTPUT}; regloss losses lists every alias)"
            )
        if per_output and short == "cosine":
            raise CliError("cosine has no per-output value: it compares whole rows of outputs")
        requests.setdefault(name, MetricRequest(name, short, per_output))
    return list(requests.values())


def catalogue() -> str:
    """The text of ``regloss losses``: every loss and metric with its formula, aliases and reductions."""
    lines = ["Losses (regloss.losses): per-sample values over the last axis", ""]
    for function_name in registry.LOSS_FUNCTIONS:
        class_name = LOSS_CLASS_OF.get(function_name, "")
        aliases = loss_aliases(function_name)
        lines.append(f"  {function_name}  (class {class_name})" if class_name else f"  {function_name}")
        lines.append(f"      formula:  {LOSS_FORMULAS.get(function_name, _docstring_summary(function_name))}")
        lines.append(f"      aliases:  {', '.join(aliases) if aliases else '-'}")
    lines += ["", "Reductions of every loss class (reduction=...):", ""]
    width = max(len(name) for name in REDUCTIONS)
    lines += [f"  {name:<{width}}  {meaning}" for name, meaning in REDUCTIONS.items()]
    lines += [
        "",
        "Metrics (regloss.metrics, and regloss evaluate --metrics): weighted means over the rows,",
        f"one value over all outputs; add {PER_OUTPUT} to a name for one value per output",
        "",
    ]
    for short, info in METRICS.items():
        lines.append(f"  {short}  (class {info.class_name})")
        lines.append(f"      formula:  {info.formula}")
        lines.append(f"      aliases:  {', '.join(metric_aliases(short)[1:])}")
    return "\n".join(lines) + "\n"


def _docstring_summary(function_name: str) -> str:
    doc = registry.LOSS_FUNCTIONS[function_name].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else "-"
