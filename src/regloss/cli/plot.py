"""``--plot FILE.png``: three diagnostic panels of the evaluated rows, drawn with matplotlib (Agg).

1. predicted against true values, with the line ``y_pred = y_true``;
2. the histogram of the residuals ``y_pred - y_true``;
3. the residuals against the predicted values.

Files of many rows are drawn from a uniform random sample of at most 100,000 rows (seeded, kept
while streaming); beyond 5,000 points the two scatter panels become hexagonal-bin density plots.
Several outputs are pooled (scatter points coloured by output). Weights are not drawn.
matplotlib is imported only here, and only when a plot is asked for.

A point is one (row, output) pair. Points that matplotlib cannot draw are left out, and counted
(:func:`drawable`): a value or a residual that is not finite (``y_pred - y_true`` overflows for
``y_true = -1e308, y_pred = 1e308``) or of magnitude above ``1e300`` (matplotlib's axis transforms overflow
there). With no point left the panels are drawn empty, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .engine import Evaluation
from .errors import CliError

HEXBIN_ABOVE = 5_000
LIMIT = 1e300
"""The largest magnitude drawn: beyond it matplotlib's transforms overflow (1e307 already fails
when the residuals are on another scale)."""


@dataclass(frozen=True)
class Points:
    """The sample's values (``(rows, outputs)`` arrays), their residuals ``y_pred - y_true`` and
    ``drawn``, which points can be drawn."""

    y_true: np.ndarray
    y_pred: np.ndarray
    residual: np.ndarray
    drawn: np.ndarray

    @property
    def left_out(self) -> int:
        return int(self.drawn.size - np.count_nonzero(self.drawn))

    def describe_left_out(self) -> str:
        return (
            f"left out {self.left_out:,} of {self.drawn.size:,} point(s) whose value or residual is "
            f"not finite or of magnitude above {LIMIT:g}"
        )


def drawable(y_true: np.ndarray, y_pred: np.ndarray) -> Points:
    """The points of a sample and which are drawn: ``y_true``, ``y_pred`` and the residual all
    finite with ``|value| <= LIMIT``."""
    with np.errstate(over="ignore", invalid="ignore"):
        residual = y_pred - y_true
    drawn = np.ones(y_true.shape, dtype=bool)
    for values in (y_true, y_pred, residual):
        drawn &= np.abs(values) <= LIMIT  # False for NaN and infinities too
    return Points(y_true, y_pred, residual, drawn)


def _bin_edges(values: np.ndarray, count: int) -> np.ndarray:
    """``count`` equal bins over the values, computed without overflow (the span of values near
    ``±LIMIT`` is not representable) and of non-zero width when every value is the same."""
    low, high = float(values.min()), float(values.max())
    if low == high:
        half = max(0.5, abs(low) * 1e-3)
        low, high = low - half, high + half
    steps = np.linspace(0.0, 1.0, count + 1)
    return np.maximum.accumulate(low * (1.0 - steps) + high * steps)  # rounding never decreases


def _agg_canvas():
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: the plot only goes to a file
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as error:
        raise CliError(
            '--plot needs matplotlib: pip install matplotlib (or pip install "regloss[plot]")'
        ) from error
    return FigureCanvasAgg


def plot_format(path: Path) -> str:
    """The image format of ``path`` from its suffix, checked before any data is read (a CliError
    if matplotlib is missing or cannot write that format)."""
    canvas = _agg_canvas()
    form = path.suffix[1:].lower()
    supported = canvas.get_supported_filetypes()
    if form not in supported:
        raise CliError(
            f"cannot tell the image format of --plot {path} from its suffix: use one of "
            f"{', '.join('.' + name for name in sorted(supported))}"
        )
    return form


def _title(evaluation: Evaluation, points: Points) -> str:
    inputs = " + ".join(Path(name).name for name in evaluation.inputs)
    text = f"{inputs}: {evaluation.rows:,} rows"
    shown = len(points.y_true)
    if shown < evaluation.rows:
        text += f" (a random sample of {shown:,} drawn)"
    if points.left_out:
        text += f"; {points.describe_left_out()}"
    return text


def draw(temporary: str, form: str, evaluation: Evaluation, points: Points) -> None:
    """Draw the three panels of the drawable ``points`` of ``evaluation.sample`` into the file
    ``temporary`` (format ``form``)."""
    from matplotlib.figure import Figure

    canvas = _agg_canvas()
    drawn = points.drawn
    outputs = list(evaluation.selection.y_true)
    dense = np.count_nonzero(drawn) > HEXBIN_ABOVE

    figure = Figure(figsize=(15, 4.8), layout="constrained")
    canvas(figure)
    versus, histogram, spread = figure.subplots(1, 3)

    def scatter(axes, x: np.ndarray, y: np.ndarray) -> None:
        if dense:
            cells = axes.hexbin(x[drawn], y[drawn], gridsize=60, mincnt=1, bins="log", cmap="viridis")
            figure.colorbar(cells, ax=axes, label="rows per cell")
            return
        for j, name in enumerate(outputs):
            shown = drawn[:, j]
            axes.scatter(x[shown, j], y[shown, j], s=8, alpha=0.6, label=name if len(outputs) > 1 else None)
        if len(outputs) > 1:
            axes.legend(fontsize="small")

    scatter(versus, points.y_true, points.y_pred)
    scatter(spread, points.y_pred, points.residual)
    if drawn.any():
        values = np.concatenate([points.y_true[drawn], points.y_pred[drawn]])
        low, high = float(values.min()), float(values.max())
        versus.plot([low, high], [low, high], color="black", linewidth=1, label="_nolegend_")
        residual = points.residual[drawn]
        bins = min(60, max(10, int(np.sqrt(residual.size))))
        histogram.hist(residual, bins=_bin_edges(residual, bins), color="tab:blue")
    else:
        for axes in (versus, histogram, spread):
            axes.text(0.5, 0.5, "no finite point to draw", ha="center", va="center", transform=axes.transAxes)
    histogram.axvline(0.0, color="black", linewidth=1)
    spread.axhline(0.0, color="black", linewidth=1)
    versus.set(xlabel="y_true", ylabel="y_pred", title="predicted vs true")
    histogram.set(xlabel="y_pred - y_true", ylabel="count", title="residuals")
    spread.set(xlabel="y_pred", ylabel="y_pred - y_true", title="residuals vs prediction")

    figure.suptitle(_title(evaluation, points))
    figure.savefig(temporary, format=form, dpi=100)
