"""Score a day-ahead temperature forecast with every regloss loss.

Data: examples/data/forecasts.csv, two years of daily temperatures at three stations (coast,
valley, summit) with a forecast for each, and a weight (weekends count half).

Run:  python examples/quickstart.py [path/to/forecasts.csv]
"""

import sys
from pathlib import Path

import numpy as np

import regloss
from regloss import losses

STATIONS = ("coast", "valley", "summit")


def load(path):
    table = np.genfromtxt(path, delimiter=",", names=True)
    y_true = np.column_stack([table[f"y_true_{s}"] for s in STATIONS])
    y_pred = np.column_stack([table[f"y_pred_{s}"] for s in STATIONS])
    return y_true, y_pred, table["weight"]


def main(path):
    y_true, y_pred, weight = load(path)
    print(f"regloss {regloss.__version__}: {len(y_true)} days x {len(STATIONS)} stations from {path}")

    rows = [
        ("mean squared error", losses.MeanSquaredError()),
        ("mean absolute error", losses.MeanAbsoluteError()),
        ("mean absolute % error", losses.MeanAbsolutePercentageError()),
        ("Huber (delta=2)", losses.Huber(delta=2.0)),
        ("log-cosh", losses.LogCosh()),
        ("cosine similarity", losses.CosineSimilarity()),
    ]
    print(f"\n{'loss':<24}{'all days':>12}{'weighted':>12}{'per-weight':>12}")
    for label, loss in rows:
        per_weight = type(loss).from_config({**loss.get_config(), "reduction": "mean_with_sample_weight"})
        print(
            f"{label:<24}"
            f"{float(loss(y_true=y_true, y_pred=y_pred)):>12.4f}"
            f"{float(loss(y_true=y_true, y_pred=y_pred, sample_weight=weight)):>12.4f}"
            f"{float(per_weight(y_true=y_true, y_pred=y_pred, sample_weight=weight)):>12.4f}"
        )

    print("(MAPE explodes here: temperatures near 0 degrees make its denominator max(|y_true|, eps) tiny.)")
    print("\nper station (float64):")
    per_station = losses.MeanAbsoluteError(reduction="none", dtype="float64")
    for index, station in enumerate(STATIONS):
        mae = per_station(y_true=y_true[:, index : index + 1], y_pred=y_pred[:, index : index + 1])
        rmse = np.sqrt(np.mean(losses.mse(y_true=y_true[:, index], y_pred=y_pred[:, index])))
        print(f"  {station:<8} MAE {float(np.mean(mae)):7.3f}   RMSE {float(rmse):7.3f}")

    summer = (np.arange(len(y_true)) % 365 >= 152) & (np.arange(len(y_true)) % 365 < 244)
    summer_mse = losses.MeanSquaredError()(y_true=y_true, y_pred=y_pred, mask=summer)
    print(f"\nMSE over summer days only (mask=): {float(summer_mse):.4f}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parent / "data" / "forecasts.csv"
    main(sys.argv[1] if len(sys.argv) > 1 else default)
