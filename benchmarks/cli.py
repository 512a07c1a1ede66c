"""The command line on a big CSV: `regloss evaluate` beside `pandas.read_csv` plus scikit-learn.

Writes a CSV of ``--gigabytes`` GB (columns ``y_true,y_pred``, six decimals; a block of one million
random rows written again and again, so generating it is quick), then runs, each in a fresh
process whose peak resident memory (``VmHWM``) is read at its end:

* ``regloss evaluate FILE --metrics mse,rmse,mae,r2 --format json --quiet`` (the default
  ``--chunk-rows``);
* ``pandas.read_csv(FILE)`` then scikit-learn's ``mean_squared_error``, ``root_mean_squared_error``,
  ``mean_absolute_error`` and ``r2_score`` (the whole file in memory).

Prints, for each, the time, the peak resident memory, rows/s, and the metrics (which must agree).

With ``--src DIR`` (repeatable), ``regloss evaluate`` runs with ``PYTHONPATH=DIR`` for each, in
``--rounds`` interleaved rounds on the same file (median times): a before/after comparison of two
checkouts, e.g. ``--src /path/to/main/src --src src``.

Run:  python benchmarks/cli.py [--gigabytes 2] [--dir PATH] [--src DIR --src DIR --rounds 5]
Needs pandas and scikit-learn (``pip install pandas scikit-learn``) for the peer.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from processes import PEAK, timed, write_repeated

BLOCK_ROWS = 1_000_000

REGLOSS = PEAK + textwrap.dedent(
    """
    import contextlib, io, json, sys
    from regloss.cli.main import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["evaluate", sys.argv[1], "--metrics", "mse,rmse,mae,r2", "--format", "json", "--quiet"])
    report = json.loads(out.getvalue())
    values = {name: entry["value"] for name, entry in report["metrics"].items()}
    print(json.dumps({"rows": report["rows"], "values": values, "peak_mb": peak_mb(), "code": code}))
    # as the regloss command does (regloss.cli.interrupt): no native teardown, which on a loaded
    # machine has aborted (status -6) after a large CSV
    sys.stdout.flush()
    import os
    os._exit(0)
    """
)

PANDAS = PEAK + textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    from sklearn import metrics
    table = pd.read_csv(sys.argv[1])
    y_true, y_pred = table["y_true"].to_numpy(), table["y_pred"].to_numpy()
    values = {
        "mse": metrics.mean_squared_error(y_true, y_pred),
        "rmse": metrics.root_mean_squared_error(y_true, y_pred),
        "mae": metrics.mean_absolute_error(y_true, y_pred),
        "r2": metrics.r2_score(y_true, y_pred),
    }
    print(json.dumps({"rows": len(table), "values": values, "peak_mb": peak_mb(), "code": 0}))
    """
)


def write_csv(path: Path, gigabytes: float) -> int:
    rng = np.random.default_rng(0)
    y_true = rng.normal(10.0, 5.0, BLOCK_ROWS)
    y_pred = y_true + rng.normal(0.0, 1.5, BLOCK_ROWS)
    block = "".join(f"{t:.6f},{p:.6f}\n" for t, p in zip(y_true, y_pred, strict=True)).encode()
    return write_repeated(path, "y_true,y_pred\n", block, gigabytes) * BLOCK_ROWS


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--src", action="append", default=[], help="PYTHONPATH of a regloss to time")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds with --src")
    args = parser.parse_args()
    temporary = None
    if args.dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="regloss-cli-bench-")
        args.dir = Path(temporary.name)
    try:
        path = args.dir / "big.csv"
        start = time.perf_counter()
        rows = write_csv(path, args.gigabytes)
        size = path.stat().st_size
        print(
            f"{path}: {size / 1e9:.2f} GB, {rows:.3g} rows (written in {time.perf_counter() - start:.0f} s)"
        )
        results = {"regloss evaluate": timed(REGLOSS, path)} if not args.src else {}
        if args.src:
            rounds = {src: [] for src in args.src}
            for _ in range(args.rounds):
                for src in args.src:
                    rounds[src].append(timed(REGLOSS, path, src=src))
            for src, reports in rounds.items():
                report = reports[0]
                report["seconds"] = statistics.median(r["seconds"] for r in reports)
                results[f"regloss evaluate ({src})"[-34:]] = report
            if len(args.src) == 2:
                first, second = (statistics.median(r["seconds"] for r in rounds[src]) for src in args.src)
                ratio = first / second
                print(f"median time, first / second --src: {ratio:.3f}x ({args.rounds} rounds)")
        try:
            results["pandas.read_csv + scikit-learn"] = timed(PANDAS, path)
        except subprocess.CalledProcessError as error:
            print(f"pandas + scikit-learn did not run: {error.stderr.strip().splitlines()[-1]}")
        print(f"{'':34}{'time':>9}{'peak RSS':>11}{'rows/s':>11}   mse, rmse, mae, r2")
        for name, report in results.items():
            values = ", ".join(f"{report['values'][key]:.9g}" for key in ("mse", "rmse", "mae", "r2"))
            print(
                f"{name:<34}{report['seconds']:8.1f}s{report['peak_mb']:9.0f} MB"
                f"{report['rows'] / report['seconds']:11.3g}   {values}"
            )
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    main()
