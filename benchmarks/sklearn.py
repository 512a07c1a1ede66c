"""regloss.sklearn against scikit-learn on large float64 inputs: times and ratios side by side.

Each function runs on ``--rows`` float64 rows with one output and with ten (the single-output
functions only with one), ``y_true`` and ``y_pred`` positive (every function's domain), without
sample weights, and once more with weights for MSE. Rounds are interleaved (scikit-learn, then
regloss, then the other order in the next round) and the table shows the median of ``--rounds``
rounds per side, the ratio scikit-learn / regloss (above 1: regloss is faster), and the relative
difference of the two results. regloss runs on ``regloss.config.num_threads()`` threads (printed),
scikit-learn on one (NumPy's elementwise operations are single-threaded). The CPU-time ratio (the
CPU seconds of every thread of the process, scikit-learn's over regloss's) measures the work done
and is less disturbed by other load on the machine than the wall-clock ratio.

Run:  python benchmarks/sklearn.py [--rows 1e7] [--rounds 5] [--only mean_squared_error,...]
Needs scikit-learn. Memory: about 6 arrays of rows x 10 float64 values at the peak (4.8 GB at 1e7).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# Run as a script, this file's directory comes first on sys.path, and this file would shadow the
# scikit-learn package it measures against: take the directory off.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]

import numpy as np  # noqa: E402

import regloss.sklearn as rs  # noqa: E402
from regloss import config  # noqa: E402

MULTI_OUTPUT = [
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_log_error",
    "root_mean_squared_log_error",
    "mean_pinball_loss",
    "r2_score",
    "explained_variance_score",
]
SINGLE_OUTPUT = [
    "max_error",
    "mean_tweedie_deviance",
    "mean_poisson_deviance",
    "mean_gamma_deviance",
    "d2_tweedie_score",
]
KWARGS = {
    "mean_pinball_loss": {"alpha": 0.9},
    "mean_tweedie_deviance": {"power": 1.5},
    "d2_tweedie_score": {"power": 1.5},
}


def timed(function, *args, **kwargs):
    """Wall-clock and CPU seconds (of every thread of this process) of one call, and its result."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, time.process_time() - start_cpu, result


def compare(name, y_true, y_pred, rounds, **kwargs):
    import sklearn.metrics

    theirs_function, ours_function = getattr(sklearn.metrics, name), getattr(rs, name)
    kwargs = {**KWARGS.get(name, {}), **kwargs}
    times = {"sklearn": [], "regloss": []}
    cpu_times = {"sklearn": [], "regloss": []}
    results = {}
    for round_index in range(rounds):
        order = [("sklearn", theirs_function), ("regloss", ours_function)]
        for side, function in order if round_index % 2 == 0 else order[::-1]:
            elapsed, cpu, results[side] = timed(function, y_true, y_pred, **kwargs)
            times[side].append(elapsed)
            cpu_times[side].append(cpu)
    theirs, ours = statistics.median(times["sklearn"]), statistics.median(times["regloss"])
    cpu_ratio = statistics.median(cpu_times["sklearn"]) / statistics.median(cpu_times["regloss"])
    difference = abs(results["regloss"] - results["sklearn"]) / max(abs(results["sklearn"]), 1e-300)
    return theirs, ours, cpu_ratio, difference


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated function names")
    args = parser.parse_args(argv)
    import sklearn

    rows = int(args.rows)
    only = set(filter(None, args.only.split(",")))
    rng = np.random.default_rng(0)
    print(
        f"{rows:.0e} float64 rows; scikit-learn {sklearn.__version__}, NumPy {np.__version__}; "
        f"regloss on {config.num_threads()} threads; median of {args.rounds} interleaved rounds"
    )
    print(
        "| function | outputs | scikit-learn (ms) | regloss (ms) | ratio | CPU-time ratio "
        "| relative difference |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for outputs in (1, 10):
        shape = (rows,) if outputs == 1 else (rows, outputs)
        y_true = rng.gamma(2.0, 1.5, size=shape)
        y_pred = y_true * rng.uniform(0.8, 1.2, size=shape)
        cases = [(name, {}) for name in MULTI_OUTPUT + (SINGLE_OUTPUT if outputs == 1 else [])]
        cases.insert(1, ("mean_squared_error", {"sample_weight": rng.uniform(0.0, 2.0, size=rows)}))
        for name, extra in cases:
            if only and name not in only:
                continue
            theirs, ours, cpu_ratio, difference = compare(name, y_true, y_pred, args.rounds, **extra)
            label = name + (" (weighted)" if extra else "")
            print(
                f"| {label} | {outputs} | {1e3 * theirs:.1f} | {1e3 * ours:.1f} | "
                f"{theirs / ours:.2f} | {cpu_ratio:.2f} | {difference:.1e} |",
                flush=True,
            )
        del y_true, y_pred


if __name__ == "__main__":
    main()
