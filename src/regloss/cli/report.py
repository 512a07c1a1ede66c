"""The report of ``regloss evaluate`` as a table, a JSON object or CSV.

JSON (one object)::

    {"regloss": "0.1.0", "rows": 730, "dropped_rows": 0, "weight": "weight",
     "y_true": ["y_true_coast", ...], "y_pred": ["y_pred_coast", ...],
     "metrics": {"mse": {"value": 2.41}, "r2_per_output": {"value": [0.95, ...], "outputs": [...]}}}

Metric keys are the names as typed after ``--metrics``; a value is a float (``repr``-exact, so it
reads back as the same float64) or a list of floats, one per output; NaN and infinities are
``null``. CSV has the header ``metric,output,value`` (``output`` empty for a value over all outputs;
non-finite values as ``nan``, ``inf``, ``-inf``).

With ``--ci`` each metric's object also has ``ci_low``, ``ci_high``, ``se`` (shaped like
``value``), ``confidence``, ``replicates`` and ``seed``, right after ``value``; CSV appends the
columns ``ci_low,ci_high,se,confidence,replicates,seed``; the table has the columns ``ci_low``,
``ci_high`` and ``se`` and a line ``interval:`` with the settings.

With ``--by``, JSON adds ``"groups"``, CSV starts each row with the group columns
(empty on the overall rows) and the table ends with one line per group, worst first
(:mod:`regloss.cli.slices_report`).
"""

from __future__ import annotations

import csv
import io
import json
import math

from .._version import __version__
from .engine import Evaluation, MetricResult

FORMATS = ("table", "json", "csv")
BOUNDS = ("ci_low", "ci_high", "se")
SETTINGS = ("confidence", "replicates", "seed")


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _numbers(result: MetricResult, interval) -> list[str]:
    """The names of a result's numbers: ``value``, and the interval's with ``--ci``."""
    return ["value", *BOUNDS] if interval is not None else ["value"]


def _rows(result: MetricResult, interval=None) -> list[tuple]:
    """``(metric, output, value[, ci_low, ci_high, se])`` rows of one result (output empty for a
    single value)."""
    columns = [getattr(result, name) for name in _numbers(result, interval)]
    if isinstance(result.value, list):
        return [
            (result.key, output, *numbers) for output, *numbers in zip(result.outputs, *columns, strict=True)
        ]
    return [(result.key, "", *columns)]


def metric_entries(results: list[MetricResult], interval) -> dict:
    """``{metric key: {"value": ..., ...}}``: the JSON of a list of results."""
    metrics = {}
    for result in results:
        entry = {}
        for name in _numbers(result, interval):
            number = getattr(result, name)
            if isinstance(number, list):
                entry[name] = [_json_number(value) for value in number]
            else:
                entry[name] = _json_number(number)
        if interval is not None:
            entry.update({name: getattr(interval, name) for name in SETTINGS})
        if isinstance(result.value, list):
            entry["outputs"] = list(result.outputs)
        metrics[result.key] = entry
    return metrics


def as_json(evaluation: Evaluation) -> str:
    metrics = metric_entries(evaluation.results, evaluation.interval)
    document = {
        "regloss": __version__,
        "rows": evaluation.rows,
        "dropped_rows": evaluation.dropped_rows,
        "weight": evaluation.selection.weight,
        "y_true": list(evaluation.selection.y_true),
        "y_pred": list(evaluation.selection.y_pred),
        "metrics": metrics,
    }
    if evaluation.groups is not None:
        from .slices_report import groups_json

        document.update(groups_json(evaluation, metric_entries))
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def as_csv(evaluation: Evaluation) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    interval = evaluation.interval
    settings = [] if interval is None else [repr(interval.confidence), interval.replicates, interval.seed]
    by = evaluation.by if evaluation.groups is not None else []
    header = ["metric", "output", "value", *(() if interval is None else (*BOUNDS, *SETTINGS))]
    writer.writerow([*by, *header])
    sections = [([""] * len(by), evaluation.results)]
    if evaluation.groups is not None:
        from .slices_report import csv_cells

        sections += [(csv_cells(group), group.results) for group in evaluation.groups]
    for cells, results in sections:
        for result in results:
            for metric, output, *numbers in _rows(result, interval):
                writer.writerow([*cells, metric, output, *map(repr, numbers), *settings])
    return buffer.getvalue()


def as_table(evaluation: Evaluation) -> str:
    selection = evaluation.selection
    dropped = f", {evaluation.dropped_rows:,} dropped (NaN or infinite)" if evaluation.dropped_rows else ""
    lines = [
        f"rows:    {evaluation.rows:,}{dropped}",
        f"weight:  {selection.weight if selection.weight is not None else 'none'}",
        f"y_true:  {', '.join(selection.y_true)}",
        f"y_pred:  {', '.join(selection.y_pred)}",
    ]
    interval = evaluation.interval
    if interval is not None:
        lines.append(
            f"ci:      {interval.confidence:g} (Poisson bootstrap percentile interval; {interval.replicates} "
            f"replicates, seed {interval.seed})"
        )
    lines.append("")
    rows = [("metric", "output", "value", *(() if interval is None else BOUNDS))]
    for result in evaluation.results:
        rows += [
            (metric, output, *(f"{number:.8g}" for number in numbers))
            for metric, output, *numbers in _rows(result, interval)
        ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    has_outputs = any(row[1] for row in rows[1:])
    for metric, output, *numbers in rows:
        cells = [metric.ljust(widths[0])]
        if has_outputs:
            cells.append(output.ljust(widths[1]))
        cells += [number.rjust(width) for number, width in zip(numbers, widths[2:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def render(evaluation: Evaluation, form: str, top: int | None = None) -> str:
    """The report in ``form``: ``"table"``, ``"json"`` or ``"csv"`` (``top``: the groups the
    table shows with ``--by``)."""
    text = {"table": as_table, "json": as_json, "csv": as_csv}[form](evaluation)
    if form == "table" and evaluation.groups is not None:
        from .slices_report import groups_table

        text += groups_table(evaluation, top)
    return text
