"""Metric names of ``regloss evaluate --metrics`` and the catalogue that ``regloss losses`` prints.

A metric is named by its short name (``mse``, ``rmse``, ``mae``, ``mape``, ``msle``, ``huber``,
``logcosh``, ``cosine``, ``r2``, ``pearson``, ``ccc``, ``row_pearson``...), its
:mod:`regloss.metrics` class name (``MeanSquaredError``), the class's default name
(``mean_squared_error``, ``r2_score``) or a loss alias of :mod:`regloss.losses` (``MSE``,
``log_cosh``, ``huber_loss``); case does not matter. A name with the suffix ``_per_output``
(``mae_per_output``, ``r2_per_output``) gives one value per output instead of one over all outputs
(for ``r2``, ``pearson`` and ``ccc``: the mean of the per-output values).

A metric with parameters takes them as ``NAME:PARAM=VALUE`` (several: ``NAME:P=V:Q=W``), e.g.
``pinball:alpha=0.9`` or ``tweedie:power=1.5``; the parameters and their checks are the
description's (:mod:`regloss.specs`), a bad name or value is a one-line error naming it, and the
key of the result is the text as given.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .. import specs
from .._messages import show_value
from ..losses import registry
from ..metrics import classes as metric_classes
from ..reduction import Reduction
from .errors import CliError

PER_OUTPUT = "_per_output"
DEFAULT_METRICS = "mse,rmse,mae,r2"
ROW_METRICS = ("cosine", "row_pearson", "row_ccc")
"""The metrics that compare whole rows of outputs: no per-output value, and several outputs needed."""
CORRCOEF_METRICS = ("pearson", "ccc")
"""The dataset-level correlations: over several outputs, the mean of the per-output coefficients."""


@dataclass(frozen=True)
class MetricInfo:
    """A metric of the command line: its short name, its class, its formula in words."""

    short: str
    class_name: str
    formula: str
    loss_function: str | None  # the regloss.losses function it averages, if any
    params: tuple = ()  # the parameters NAME:PARAM=VALUE takes (regloss.specs.Param)
    higher_is_better: bool = False  # a score or correlation (its worst value is the lowest)


def _metric_infos():
    """One :class:`MetricInfo` per metric face of :mod:`regloss.specs`: the losses' metrics in their
    order, then the other metrics."""
    found = {}
    for spec in specs.LOSSES:
        face = spec.metric
        if face is not None:
            params = tuple(param for param in spec.params if param.name != "axis")
            found[face.short] = MetricInfo(
                face.short, face.class_name, face.text or spec.text, spec.name, params, face.sign < 0
            )
    for spec in specs.METRICS:
        found[spec.short] = MetricInfo(
            spec.short, spec.class_name, spec.text, None, spec.params, spec.higher_is_better
        )
    return found


METRICS = _metric_infos()
"""Every metric of the command line, by short name. Means are weighted means over the rows."""

HIGHER_IS_BETTER = frozenset(short for short, info in METRICS.items() if info.higher_is_better)
"""The scores and correlations: their worst value is the lowest (the errors': the highest)."""

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
    params: tuple = ()  # ((name, value), ...): the parameters given as NAME:PARAM=VALUE, checked


def _suggestion(name: str) -> str:
    candidates = sorted(_LOOKUP) + [short + PER_OUTPUT for short in METRICS]
    close = difflib.get_close_matches(name.lower(), candidates, n=1)
    return f" (did you mean {show_value(close[0])}?)" if close else ""


def parse_metrics(text: str) -> list[MetricRequest]:
    """The metrics of a ``--metrics`` value (names separated by commas; repeats are ignored)."""
    requests: dict[str, MetricRequest] = {}
    for raw in text.split(","):
        key = raw.strip()
        if not key:
            raise CliError(f"--metrics takes metric names separated by commas; received {show_value(text)}")
        name, *given = (part.strip() for part in key.split(":"))
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
        if per_output and short in ROW_METRICS:
            raise CliError(f"{short} has no per-output value: it compares whole rows of outputs")
        params = _parse_params(key, short, given)
        requests.setdefault(key, MetricRequest(key, short, per_output, params))
    return list(requests.values())


def _parse_params(key: str, short: str, given: list[str]) -> tuple:
    """The checked ``((name, value), ...)`` of the ``PARAM=VALUE`` parts of a metric ``key``."""
    accepted = {param.name: param for param in METRICS[short].params}
    takes = ", ".join(accepted) if accepted else "none"
    found = {}
    for part in given:
        name, equals, value = (piece.strip() for piece in part.partition("="))
        if not equals or not name or not value:
            raise CliError(
                f"metric {show_value(key)}: parameters are given as {short}:NAME=VALUE; received "
                f"{show_value(part)} (parameters of {short}: {takes})"
            )
        if name not in accepted:
            raise CliError(
                f"metric {show_value(key)}: {short} has no parameter {show_value(name)} "
                f"(its parameters: {takes})"
            )
        if name in found:
            raise CliError(f"metric {show_value(key)}: the parameter {name} is given twice")
        try:
            number = float(value)
        except ValueError:
            raise CliError(
                f"metric {show_value(key)}: {name} must be a number; received {show_value(value)}"
            ) from None
        try:
            found[name] = accepted[name].standardize(number)
        except (TypeError, ValueError) as error:
            raise CliError(f"metric {show_value(key)}: {error}") from None
    return tuple(found.items())


def catalogue() -> str:
    """The text of ``regloss losses``: every loss and metric with its formula, aliases and reductions."""
    lines = ["Losses (regloss.losses): per-sample values over the last axis", ""]
    for function_name in registry.LOSS_FUNCTIONS:
        class_name = specs.by_function_name()[function_name].class_name
        aliases = loss_aliases(function_name)
        lines.append(f"  {function_name}  (class {class_name})" if class_name else f"  {function_name}")
        lines.append(f"      formula:  {_loss_formula(function_name)}")
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
        lines += _metric_lines(short, info.class_name, info.formula, info.params, metric_aliases(short)[1:])
    lines += [
        "",
        "Quantile metrics (regloss evaluate --metrics; regloss.metrics.AbsoluteErrorQuantile streams the",
        "sketch): exact by default, --quantiles sketch for one pass",
        "",
    ]
    for spec in specs.QUANTILE_METRICS:
        lines += _metric_lines(spec.short, spec.class_name, spec.text, spec.params, [spec.default_name])
    return "\n".join(lines) + "\n"


def _metric_lines(short: str, class_name: str, formula: str, params, aliases) -> list[str]:
    """A metric's entry in :func:`catalogue` (a parameter without default is required)."""
    lines = [f"  {short}  (class {class_name})", f"      formula:  {formula}"]
    if params:
        shown = ", ".join(
            f"{param.name} (required)" if param.default is None else f"{param.name}={param.default}"
            for param in params
        )
        lines.append(f"      parameters:  {shown}  (as {short}:NAME=VALUE)")
    lines.append(f"      aliases:  {', '.join(aliases) if aliases else '-'}")
    return lines


def _loss_formula(function_name: str) -> str:
    """The per-sample formula of a loss function, as its description states it."""
    spec = specs.by_function_name()[function_name]
    text = spec.text
    start = text.find("mean(")
    if "axis" in spec.param_names or start < 0:
        return text
    depth = 0
    for position in range(
        start + 4, len(text)
    ):  # the ")" that closes "mean(": the mean is over the last axis
        depth += {"(": 1, ")": -1}.get(text[position], 0)
        if depth == 0:
            return f"{text[:position]}, axis=-1{text[position:]}"
    return text
