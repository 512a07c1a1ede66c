"""``--plot`` with ``--by``: one horizontal bar chart per metric (and output), the groups sorted.

Each chart shows the ``--top`` K worst groups of that metric (all up to 50, else 50), sorted
worst at the top, with the bootstrap interval ``[ci_low, ci_high]`` as an error bar under ``--ci``.
Non-finite values are left out of a chart (and its title says how many).
"""

from __future__ import annotations

import math

from .engine import Evaluation
from .names import HIGHER_IS_BETTER
from .plot import _agg_canvas
from .slices import top_count
from .slices_report import _columns, _text


def _label(by: dict) -> str:
    return ", ".join(_text(value) for value in by.values())


def draw_groups(temporary: str, form: str, evaluation: Evaluation, top: int | None) -> None:
    """Draw the per-group bar charts of ``evaluation.groups`` into ``temporary`` (format ``form``)."""
    from matplotlib.figure import Figure

    canvas = _agg_canvas()
    groups = evaluation.groups
    charts = [name for name, *_ in _columns(groups[0])]
    shorts = [result.short for result in groups[0].results for _ in range(_width(result))]
    shown = top_count(len(groups), top)
    height = max(2.2, 0.28 * shown + 1.2)  # one chart per metric, stacked
    figure = Figure(figsize=(9, height * len(charts)), layout="constrained")
    canvas(figure)
    axes_list = figure.subplots(len(charts), 1, squeeze=False)[:, 0]
    for position, (axes, name, short) in enumerate(zip(axes_list, charts, shorts, strict=True)):
        bars = [(_label(group.by), *_columns(group)[position][1:]) for group in groups]
        finite = [bar for bar in bars if math.isfinite(bar[1])]
        worst_high = short not in HIGHER_IS_BETTER
        finite.sort(key=lambda bar: bar[1], reverse=worst_high)
        finite = finite[:shown][::-1]  # barh draws from the bottom: the worst at the top
        labels = [bar[0] for bar in finite]
        values = [bar[1] for bar in finite]
        errors = None
        if evaluation.interval is not None and finite:
            errors = [
                [max(value - low, 0.0) for _, value, low, _ in finite],
                [max(high - value, 0.0) for _, value, _, high in finite],
            ]
        axes.barh(range(len(values)), values, xerr=errors, color="tab:blue", ecolor="black", capsize=2)
        axes.set_yticks(range(len(values)), labels, fontsize="small")
        left_out = len(bars) - len([bar for bar in bars if math.isfinite(bar[1])])
        title = f"{name}: {len(finite):,} of {len(groups):,} groups, worst at the top"
        if left_out:
            title += f" ({left_out} not finite, left out)"
        axes.set_title(title, fontsize="medium")
        if evaluation.interval is not None:
            axes.set_xlabel(f"{name} with its {evaluation.interval.confidence:g} bootstrap interval")
        else:
            axes.set_xlabel(name)
    figure.suptitle(f"by {', '.join(evaluation.by)}: {evaluation.rows:,} rows")
    figure.savefig(temporary, format=form, dpi=100)


def _width(result) -> int:
    return len(result.outputs) if isinstance(result.value, list) else 1
