"""Turn examples/data/forecasts.csv (one row per day, a column per station) into long format: one row
per station and day, with the columns station, day, weekday, weight, y_true, y_pred.

The shipped examples/data/forecasts_long.csv is this script's output::

    python examples/long_format.py examples/data/forecasts.csv examples/data/forecasts_long.csv

It is the shape that ``regloss evaluate --by station`` slices (docs/slices.md). Day 0 is a Monday.
"""

import csv
import sys

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def main(source: str, target: str) -> None:
    with open(source, newline="") as stream:
        rows = list(csv.DictReader(stream))
    stations = [name.removeprefix("y_true_") for name in rows[0] if name.startswith("y_true_")]
    with open(target, "w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["station", "day", "weekday", "weight", "y_true", "y_pred"])
        for row in rows:
            weekday = WEEKDAYS[int(row["day"]) % 7]
            for station in stations:
                writer.writerow(
                    [
                        station,
                        row["day"],
                        weekday,
                        row["weight"],
                        row[f"y_true_{station}"],
                        row[f"y_pred_{station}"],
                    ]
                )


if __name__ == "__main__":
    main(*(sys.argv[1:] or ["data/forecasts.csv", "data/forecasts_long.csv"]))
