"""The groups of ``regloss evaluate --by`` in the report (:mod:`regloss.cli.report`).

JSON: the usual keys (``metrics`` holds the overall values), plus ``"groups"``, sorted by key
(missing keys last)::

    "groups": [{"by": {"station": "coast"}, "rows": 365, "metrics": {"mae": {"value": 1.2}}}, ...]

A missing key is ``null``; keys that are not JSON values (dates) are written as text.

CSV: the group columns first, then ``metric,output,value`` (and the interval's columns); the
overall rows come first with empty group cells, then the groups in key order; a missing key is
written ``null``.

Table: after the overall table, one line per group sorted by the first metric, worst first
(highest error; lowest r2, pearson, ccc, cosine), the ``--top`` K worst (all up to 50 groups, else
50), with the interval ``[ci_low, ci_high]`` beside each value under ``--ci``.
"""

from __future__ import annotations

import datetime
import math

from .engine import Evaluation
from .slices import GroupResult, top_count, worst_first

MISSING = "null"


def _json_key(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def groups_json(evaluation: Evaluation, metric_entries) -> dict:
    """``{"groups": [...]}`` (module docstring)."""
    groups = [
        {
            "by": {column: _json_key(value) for column, value in group.by.items()},
            "rows": group.rows,
            "metrics": metric_entries(group.results, evaluation.interval),
        }
        for group in evaluation.groups
    ]
    return {"groups": groups}


def _text(value) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return repr(value)
    key = _json_key(value)
    return key if isinstance(key, str) else str(key)


def csv_cells(group: GroupResult) -> list[str]:
    """The group columns of a group's CSV rows."""
    return [_text(value) for value in group.by.values()]


def _columns(group: GroupResult) -> list[tuple[str, float, float | None, float | None]]:
    """``(heading, value, ci_low, ci_high)`` of each metric (and output) of a group."""
    found = []
    for result in group.results:
        if isinstance(result.value, list):
            for j, output in enumerate(result.outputs):
                low = result.ci_low[j] if result.ci_low is not None else None
                high = result.ci_high[j] if result.ci_high is not None else None
                found.append((f"{result.key}[{output}]", result.value[j], low, high))
        else:
            found.append((result.key, result.value, result.ci_low, result.ci_high))
    return found


def groups_table(evaluation: Evaluation, top: int | None) -> str:
    """The groups' lines of the table (module docstring)."""
    groups = worst_first(evaluation.groups)
    shown = top_count(len(groups), top)
    first = groups[0].results[0].key if groups else ""
    heading = f"\nby {', '.join(evaluation.by)}: {len(groups):,} group(s), sorted by {first}, worst first" + (
        f"; the {shown:,} worst shown (--top)" if shown < len(groups) else ""
    )
    rows = []
    for group in groups[:shown]:
        cells = [_text(value) for value in group.by.values()] + [f"{group.rows:,}"]
        for _, value, low, high in _columns(group):
            text = f"{value:.6g}"
            if low is not None:
                text += f" [{low:.6g}, {high:.6g}]"
            cells.append(text)
        rows.append(cells)
    names = [name for name, *_ in _columns(groups[0])] if groups else []
    header = [*evaluation.by, "rows", *names]
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    keys = len(evaluation.by)
    lines = [heading]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row[:keys], widths, strict=False)]
        cells += [cell.rjust(width) for cell, width in zip(row[keys:], widths[keys:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"
