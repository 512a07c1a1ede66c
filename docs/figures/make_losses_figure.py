"""Draw docs/figures/losses.png: each regression loss of regloss as a function of the error.

Left panel: MSE, MAE, Huber (delta 0.5, 1 and 2) and LogCosh against the error
``e = y_pred - y_true`` over [-3, 3] (these losses depend on the error alone). Right panel: MSLE,
which depends on both values, against ``y_pred`` for a fixed ``y_true = 2``.

Every value comes from regloss itself (the functional losses on one-output samples, float64).

Run:  python docs/figures/make_losses_figure.py [OUTPUT.png]   (needs matplotlib)
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from regloss import losses  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "losses.png"
FIGSIZE = (10.0, 4.2)  # inches
DPI = 100  # 1000 x 420 pixels
ERRORS = np.linspace(-3.0, 3.0, 601)
MSLE_TRUE = 2.0
MSLE_PREDICTIONS = np.linspace(0.0, 8.0, 801)


def per_sample(function, y_true, y_pred, **params):
    """The loss of each value as its own one-output sample: inputs of shape (n, 1), result (n,)."""
    return np.asarray(function(y_true=y_true[:, None], y_pred=y_pred[:, None], **params))


def error_curves():
    """``(label, losses over ERRORS)`` for the losses that depend on the error alone."""
    y_true = np.zeros_like(ERRORS)
    y_pred = ERRORS  # e = y_pred - y_true
    curves = [
        ("MSE", per_sample(losses.mean_squared_error, y_true, y_pred)),
        ("MAE", per_sample(losses.mean_absolute_error, y_true, y_pred)),
    ]
    for delta in (0.5, 1.0, 2.0):
        curves.append((f"Huber, delta={delta:g}", per_sample(losses.huber, y_true, y_pred, delta=delta)))
    curves.append(("LogCosh", per_sample(losses.log_cosh, y_true, y_pred)))
    return curves


def main(output=OUTPUT):
    figure, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE, dpi=DPI, width_ratios=(3, 2))

    styles = ["-", "-", "--", "--", "--", ":"]
    for (label, values), style in zip(error_curves(), styles, strict=True):
        left.plot(ERRORS, values, style, linewidth=1.8, label=label)
    left.set_xlim(ERRORS[0], ERRORS[-1])
    left.set_ylim(0.0, 4.5)
    left.set_xlabel("error e = y_pred - y_true")
    left.set_ylabel("loss of one value")
    left.set_title("Losses of the error alone")
    left.grid(True, alpha=0.3)
    left.legend(loc="upper center", fontsize=8, ncols=2)

    y_true = np.full_like(MSLE_PREDICTIONS, MSLE_TRUE)
    right.plot(MSLE_PREDICTIONS, per_sample(losses.mean_squared_logarithmic_error, y_true, MSLE_PREDICTIONS))
    right.axvline(MSLE_TRUE, color="0.5", linewidth=1.0, linestyle=":")
    right.set_xlim(MSLE_PREDICTIONS[0], MSLE_PREDICTIONS[-1])
    right.set_ylim(bottom=0.0)
    right.set_xlabel(f"y_pred (y_true = {MSLE_TRUE:g})")
    right.set_ylabel("loss of one value")
    right.set_title("MSLE: against y_pred, y_true fixed")
    right.grid(True, alpha=0.3)

    figure.tight_layout()
    # No "Software" entry: the file changes only when the picture does.
    figure.savefig(output, dpi=DPI, metadata={"Software": None})
    plt.close(figure)
    return output


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else OUTPUT))
