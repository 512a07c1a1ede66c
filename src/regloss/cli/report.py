"""The report of ``regloss evaluate`` as a table, a JSON object or CSV.

JSON (one object)::

    {"regloss": "0.1.0", "rows": 730, "dropped_rows": 0, "weight": "weight",
     "y_true": ["y_true_coast", ...], "y_pred": ["y_pred_coast", ...],
     "metrics": {"mse": {"value": 2.41}, "r2_per_output": {"value": [0.95, ...], "outputs": [...]}}}

Metric keys are the names as typed after ``--metrics``; a value is a float (``repr``-exact, so it
reads back as the same float64) or a list of floats, one per output; NaN and infinities are
``null``. CSV has the header ``metric,output,value`` (``output`` empty for a value over all outputs;
non-finite values as ``nan``, ``inf``, ``-inf``).
"""

from __future__ import annotations

import csv
import io
import json
import math

from .._version import __version__
from .engine import Evaluation, MetricResult

FORMATS = ("table", "json", "csv")


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _rows(result: MetricResult) -> list[tuple[str, str, float]]:
    """``(metric, output, value)`` rows of one result (output empty for a single value)."""
    if isinstance(result.value, list):
        return [
            (result.key, output, value) for output, value in zip(result.outputs, result.value, strict=True)
        ]
    return [(result.key, "", result.value)]


def as_json(evaluation: Evaluation) -> str:
    metrics = {}
    for result in evaluation.results:
        if isinstance(result.value, list):
            metrics[result.key] = {
                "value": [_json_number(value) for value in result.value],
                "outputs": list(result.outputs),
            }
        else:
            metrics[result.key] = {"value": _json_number(result.value)}
    document = {
        "regloss": __version__,
        "rows": evaluation.rows,
        "dropped_rows": evaluation.dropped_rows,
        "weight": evaluation.selection.weight,
        "y_true": list(evaluation.selection.y_true),
        "y_pred": list(evaluation.selection.y_pred),
        "metrics": metrics,
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def as_csv(evaluation: Evaluation) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "output", "value"])
    for result in evaluation.results:
        for metric, output, value in _rows(result):
            writer.writerow([metric, output, repr(value)])
    return buffer.getvalue()


def as_table(evaluation: Evaluation) -> str:
    selection = evaluation.selection
    dropped = f", {evaluation.dropped_rows:,} dropped (NaN or infinite)" if evaluation.dropped_rows else ""
    lines = [
        f"rows:    {evaluation.rows:,}{dropped}",
        f"weight:  {selection.weight if selection.weight is not None else 'none'}",
        f"y_true:  {', '.join(selection.y_true)}",
        f"y_pred:  {', '.join(selection.y_pred)}",
        "",
    ]
    rows = [("metric", "output", "value")]
    for result in evaluation.results:
        rows += [(metric, output, f"{value:.8g}") for metric, output, value in _rows(result)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    has_outputs = any(row[1] for row in rows[1:])
    for metric, output, value in rows:
        cells = [metric.ljust(widths[0])]
        if has_outputs:
            cells.append(output.ljust(widths[1]))
        cells.append(value.rjust(widths[2]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def render(evaluation: Evaluation, form: str) -> str:
    """The report in ``form``: ``"table"``, ``"json"`` or ``"csv"``."""
    return {"table": as_table, "json": as_json, "csv": as_csv}[form](evaluation)
