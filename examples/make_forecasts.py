"""Generate examples/data/forecasts.csv: two years of daily temperatures at three stations, with a
day-ahead forecast for each and a weight (weekend days count half).

The shipped file is this script's output (``python examples/make_forecasts.py
examples/data/forecasts.csv``; fixed seed: the same file every time).

The truth at each station is a seasonal cycle (coldest in mid-January, warmest in mid-July) plus
weather anomalies that persist for a few days (an AR(1) process) and are partly shared between the
stations. The forecasts miss by a small bias plus errors that grow with the station's height and
persist a little; the summit's errors have heavy tails (the odd badly missed front). Day 0 is a
Monday.

Run:  python examples/make_forecasts.py [output.csv]     (default: forecasts.csv here)
"""

import sys
from pathlib import Path

import numpy as np

SEED = 14
DAYS = 730
# station: (annual mean, seasonal amplitude, anomaly sd, forecast bias, forecast error sd)
STATIONS = {
    "coast": (14.0, 6.2, 1.6, 0.15, 0.9),
    "valley": (11.0, 9.5, 2.6, -0.4, 1.6),
    "summit": (2.2, 12.3, 3.6, 0.35, 2.7),
}


def ar1(rng, size: int, phi: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series of standard deviation ``sd``."""
    shocks = rng.normal(scale=sd * np.sqrt(1 - phi**2), size=size)
    series = np.empty(size)
    series[0] = rng.normal(scale=sd)
    for day in range(1, size):
        series[day] = phi * series[day - 1] + shocks[day]
    return series


def make(seed: int = SEED) -> dict:
    rng = np.random.default_rng(seed)
    day = np.arange(DAYS)
    season = -np.cos(2 * np.pi * (day - 15) / 365.25)  # -1 in mid-January, +1 in mid-July
    regional = ar1(rng, DAYS, 0.7, 1.0)  # the weather all three stations share
    columns = {"day": day, "weight": np.where(day % 7 >= 5, 0.5, 1.0)}
    truths, forecasts = {}, {}
    for name, (mean, amplitude, anomaly_sd, bias, error_sd) in STATIONS.items():
        anomaly = anomaly_sd * (0.6 * regional + 0.8 * ar1(rng, DAYS, 0.6, 1.0))
        truths[name] = mean + amplitude * season + anomaly
        if name == "summit":
            noise = rng.standard_t(4, size=DAYS) / np.sqrt(2.0)  # unit variance, heavy tails
            error = error_sd * (0.3 * ar1(rng, DAYS, 0.3, 1.0) + 0.95 * noise)
        else:
            error = ar1(rng, DAYS, 0.3, error_sd)
        forecasts[name] = truths[name] + bias + error
    for name in STATIONS:
        columns[f"y_true_{name}"] = truths[name]
    for name in STATIONS:
        columns[f"y_pred_{name}"] = forecasts[name]
    return columns


def write(path: Path, columns: dict) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(",".join(columns) + "\n")
        for row in range(DAYS):
            cells = [str(int(columns["day"][row])), f"{columns['weight'][row]:.1f}"]
            cells += [f"{columns[name][row]:.2f}" for name in list(columns)[2:]]
            stream.write(",".join(cells) + "\n")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("forecasts.csv")
    write(target, make())
    print(f"wrote {DAYS} days x {len(STATIONS)} stations to {target}")
