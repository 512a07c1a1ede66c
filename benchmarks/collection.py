"""The update phase of ``regloss evaluate``: four metrics updated one by one, or as one collection.

Feeds chunks of ``--rows`` rows (float64, ``--outputs`` outputs; optionally a ``(rows,)`` weight and
mask) to ``mse, rmse, mae, r2`` as the command line makes them (``dtype="float64"``), either with
four ``update_state`` calls per chunk or with one
:class:`regloss.metrics.MetricCollection` ``update_state`` (one shared pass), in interleaved rounds;
prints the median time of each, their ratio, and the largest relative difference of the results.

Run:  python benchmarks/collection.py [--rows 1000000] [--outputs 1] [--rounds 15] [--weighted]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from regloss import metrics as rm


def make():
    return [
        rm.MeanSquaredError(dtype="float64"),
        rm.RootMeanSquaredError(dtype="float64"),
        rm.MeanAbsoluteError(dtype="float64"),
        rm.R2Score(dtype="float64"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--outputs", type=int, default=1)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--weighted", action="store_true", help="a (rows,) weight and mask")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    chunks = []
    for _ in range(args.chunks):
        y_true = rng.normal(10.0, 5.0, (args.rows, args.outputs))
        y_pred = y_true + rng.normal(0.0, 1.5, y_true.shape)
        weight = rng.uniform(size=args.rows) if args.weighted else None
        mask = rng.uniform(size=args.rows) > 0.1 if args.weighted else None
        chunks.append((y_true, y_pred, weight, mask))

    def separate():
        found = make()
        for y_true, y_pred, weight, mask in chunks:
            for metric in found:
                metric.update_state(y_true, y_pred, weight, mask=mask)
        return [float(metric.result()) for metric in found]

    def together():
        collection = rm.MetricCollection(make())
        for y_true, y_pred, weight, mask in chunks:
            collection.update_state(y_true, y_pred, weight, mask=mask)
        return [float(value) for value in collection.result().values()]

    runs = {"separate": separate, "collection": together}
    for run in runs.values():  # compile, warm the caches
        run()
    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    first, second = separate(), together()
    difference = max(abs(a - b) / abs(a) for a, b in zip(first, second, strict=True))
    shape = f"{args.chunks} chunks of ({args.rows}, {args.outputs})"
    shape += " weighted+masked" if args.weighted else ""
    print(f"mse, rmse, mae, r2 over {shape}, medians of {args.rounds} interleaved rounds")
    per_chunk = {name: value / args.chunks * 1e3 for name, value in medians.items()}
    for name in runs:
        print(f"  {name:<11} {per_chunk[name]:8.2f} ms per chunk")
    print(f"  ratio separate / collection: {medians['separate'] / medians['collection']:.2f}x")
    print(f"  largest relative difference of the results: {difference:.1e}")


if __name__ == "__main__":
    main()
