"""``--plot FILE.png``: three diagnostic panels of the evaluated rows, drawn with matplotlib (Agg).

1. predicted against true values, with the line ``y_pred = y_true``;
2. the histogram of the residuals ``y_pred - y_true``;
3. the residuals against the predicted values.

Files of many rows are drawn from a uniform random sample of at most 100,000 rows (seeded, kept
while streaming); beyond 5,000 points the two scatter panels become hexagonal-bin density plots.
Several outputs are pooled (scatter points coloured by output). Weights are not drawn.
matplotlib is imported only here, and only when a plot is asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .engine import Evaluation
from .errors import CliError

HEXBIN_ABOVE = 5_000


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


def _title(evaluation: Evaluation, shown: int) -> str:
    inputs = " + ".join(Path(name).name for name in evaluation.inputs)
    text = f"{inputs}: {evaluation.rows:,} rows"
    if shown < evaluation.rows:
        text += f" (a random sample of {shown:,} drawn)"
    return text


def draw(temporary: str, form: str, evaluation: Evaluation) -> None:
    """Draw the three panels of ``evaluation.sample`` into the file ``temporary`` (format ``form``)."""
    from matplotlib.figure import Figure

    canvas = _agg_canvas()
    sample = evaluation.sample
    y_true, y_pred = sample.y_true, sample.y_pred
    residual = y_pred - y_true
    outputs = list(evaluation.selection.y_true)
    dense = y_true.size > HEXBIN_ABOVE

    figure = Figure(figsize=(15, 4.8), layout="constrained")
    canvas(figure)
    versus, histogram, spread = figure.subplots(1, 3)

    def points(axes, x: np.ndarray, y: np.ndarray) -> None:
        if dense:
            cells = axes.hexbin(x.ravel(), y.ravel(), gridsize=60, mincnt=1, bins="log", cmap="viridis")
            figure.colorbar(cells, ax=axes, label="rows per cell")
            return
        for j, name in enumerate(outputs):
            axes.scatter(x[:, j], y[:, j], s=8, alpha=0.6, label=name if len(outputs) > 1 else None)
        if len(outputs) > 1:
            axes.legend(fontsize="small")

    points(versus, y_true, y_pred)
    low = float(min(y_true.min(), y_pred.min()))
    high = float(max(y_true.max(), y_pred.max()))
    versus.plot([low, high], [low, high], color="black", linewidth=1, label="_nolegend_")
    versus.set(xlabel="y_true", ylabel="y_pred", title="predicted vs true")

    histogram.hist(residual.ravel(), bins=min(60, max(10, int(np.sqrt(residual.size)))), color="tab:blue")
    histogram.axvline(0.0, color="black", linewidth=1)
    histogram.set(xlabel="y_pred - y_true", ylabel="count", title="residuals")

    points(spread, y_pred, residual)
    spread.axhline(0.0, color="black", linewidth=1)
    spread.set(xlabel="y_pred", ylabel="y_pred - y_true", title="residuals vs prediction")

    figure.suptitle(_title(evaluation, len(y_true)))
    figure.savefig(temporary, format=form, dpi=100)
