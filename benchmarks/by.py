"""`regloss evaluate --by` on a big CSV beside `pandas.read_csv` + `groupby` + scikit-learn per group.

Writes a CSV of ``--gigabytes`` GB with the columns ``group,y_true,y_pred`` (``group`` a text key,
``g00042``, drawn among ``G`` groups; a block of one million random rows written again and again,
so generating it is quick) for each ``G`` of ``--groups`` (default 10 and 10,000), then runs, each in
a fresh process whose peak resident memory (``VmHWM``) is read at its end:

* ``regloss evaluate FILE --by group --metrics mse,rmse,mae,r2 --format csv --quiet``;
* ``pandas.read_csv(FILE)``, ``groupby("group")`` and scikit-learn's ``mean_squared_error``,
  ``root_mean_squared_error``, ``mean_absolute_error`` and ``r2_score`` per group (the whole file
  in memory).

Prints, for each, the time, the peak resident memory and rows/s, and the largest difference
between their per-group values (which must agree), relative to the value or to 1 where it is smaller.

Run:  python benchmarks/by.py [--gigabytes 1] [--groups 10,10000] [--dir PATH]
Needs pandas and scikit-learn (``pip install pandas scikit-learn``) for the peer.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from processes import PEAK, timed, write_repeated

BLOCK_ROWS = 1_000_000
METRICS = ("mse", "rmse", "mae", "r2")

REGLOSS = PEAK + textwrap.dedent(
    """
    import contextlib, csv, io, json, sys
    from regloss.cli.main import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["evaluate", sys.argv[1], "--by", "group", "--metrics", "mse,rmse,mae,r2",
                     "--format", "csv", "--quiet"])
    values = {}
    for row in csv.DictReader(io.StringIO(out.getvalue())):
        if row["group"]:
            values.setdefault(row["group"], {})[row["metric"]] = float(row["value"])
    rows = int(sys.argv[2])
    print(json.dumps({"rows": rows, "values": values, "peak_mb": peak_mb(), "code": code}))
    """
)

PANDAS = PEAK + textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    from sklearn import metrics
    table = pd.read_csv(sys.argv[1])
    values = {}
    for key, group in table.groupby("group"):
        y_true, y_pred = group["y_true"].to_numpy(), group["y_pred"].to_numpy()
        values[key] = {
            "mse": metrics.mean_squared_error(y_true, y_pred),
            "rmse": metrics.root_mean_squared_error(y_true, y_pred),
            "mae": metrics.mean_absolute_error(y_true, y_pred),
            "r2": metrics.r2_score(y_true, y_pred),
        }
    print(json.dumps({"rows": len(table), "values": values, "peak_mb": peak_mb(), "code": 0}))
    """
)


def write_csv(path: Path, gigabytes: float, groups: int) -> int:
    rng = np.random.default_rng(0)
    keys = rng.integers(0, groups, BLOCK_ROWS)
    y_true = rng.normal(10.0, 5.0, BLOCK_ROWS)
    y_pred = y_true + rng.normal(0.0, 1.0, BLOCK_ROWS) * (1 + keys % 7)
    block = "".join(
        f"g{k:05d},{t:.6f},{p:.6f}\n" for k, t, p in zip(keys, y_true, y_pred, strict=True)
    ).encode()
    return write_repeated(path, "group,y_true,y_pred\n", block, gigabytes) * BLOCK_ROWS


def largest_difference(first: dict, second: dict) -> float:
    """The largest difference between two ``{group: {metric: value}}``, relative to the value or
    to 1 where the value is smaller (an r2 near 0); inf if the groups differ."""
    if set(first) != set(second):
        return float("inf")
    return max(
        abs(first[key][name] - second[key][name]) / max(1.0, abs(second[key][name]))
        for key in first
        for name in METRICS
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--groups", default="10,10000", help="numbers of groups, comma-separated")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    temporary = None
    if args.dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="regloss-by-bench-")
        args.dir = Path(temporary.name)
    try:
        print(f"{'':42}{'time':>9}{'peak RSS':>11}{'rows/s':>11}")
        for groups in (int(text) for text in args.groups.split(",")):
            path = args.dir / f"by{groups}.csv"
            start = time.perf_counter()
            rows = write_csv(path, args.gigabytes, groups)
            print(
                f"{groups:,} groups: {path.stat().st_size / 1e9:.2f} GB, {rows:.3g} rows "
                f"(written in {time.perf_counter() - start:.0f} s)"
            )
            results = {"regloss evaluate --by": timed(REGLOSS, path, rows)}
            try:
                results["pandas read_csv + groupby + scikit-learn"] = timed(PANDAS, path, rows)
            except subprocess.CalledProcessError as error:
                print(f"pandas + scikit-learn did not run: {error.stderr.strip().splitlines()[-1]}")
            for name, report in results.items():
                print(
                    f"  {name:<40}{report['seconds']:8.1f}s{report['peak_mb']:9.0f} MB"
                    f"{report['rows'] / report['seconds']:11.3g}"
                )
            if len(results) == 2:
                mine, theirs = (report["values"] for report in results.values())
                difference = largest_difference(mine, theirs)
                print(
                    f"  largest difference of the group values (relative; absolute below 1): {difference:.1e}"
                )
            path.unlink()
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    main()
