"""Streaming metrics at scale: one process against a Dask cluster, memory, accuracy, scaling.

Writes ``--rows`` rows of float32 ``(y_true, y_pred)`` as ``.npy`` partitions of
``--partition-rows`` rows each (one file per column and partition, in ``--dir``, a temporary
directory by default), then, each measurement in a fresh subprocess:

* (a) one process: ``MeanSquaredError``, ``MeanAbsoluteError`` and ``R2Score`` (``dtype="float64"``)
  updated chunk by chunk (``--chunk-rows``) from the memory-mapped partitions: rows/s and peak
  resident memory;
* (b) ``regloss.dask.evaluate(t, p, ["mse", "mae", "r2"])`` on a ``LocalCluster`` of 2 worker
  processes (1 thread each), the chunks loaded inside the workers: the cluster's start-up time, the
  evaluation's rows/s, and each worker's peak resident memory, at ``--rows / 4`` and ``--rows``
  rows (the same chunks: the peak should not grow with the data);
* the scheduler's cost per task (the same evaluation on 2000 tiny chunks) and the merge cost of
  eight states, which give the scaling model printed at the end;
* accuracy: the mean of ``--accuracy-values`` float32 values (chunks generated on the fly, never
  stored) through ``MeanAbsoluteError(dtype="float64")`` against an exact reference (float64 chunk
  sums added with ``math.fsum``).

Run:  python benchmarks/metrics.py [--rows 2e8] [--partition-rows 1e7] [--chunk-rows 1e6]
                                   [--accuracy-values 1e9] [--dir PATH]
Needs ``regloss[dask]`` (dask, distributed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

METRICS = ("mse", "mae", "r2")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------ data


def partition_paths(directory: Path, index: int):
    return directory / f"y_true_{index:04d}.npy", directory / f"y_pred_{index:04d}.npy"


def write_partitions(directory: Path, rows: int, partition_rows: int) -> int:
    """``(n, 1)`` float32 targets and predictions (``y_pred = 2 y_true + 1 + noise``), seeded per
    partition; returns the number of partitions."""
    count = -(-rows // partition_rows)
    for index in range(count):
        n = min(partition_rows, rows - index * partition_rows)
        true_path, pred_path = partition_paths(directory, index)
        if true_path.exists() and np.load(true_path, mmap_mode="r").shape == (n, 1):
            continue
        rng = np.random.default_rng(index)
        y_true = rng.standard_normal((n, 1), dtype=np.float32)
        noise = rng.standard_normal((n, 1), dtype=np.float32)
        np.save(true_path, y_true)
        np.save(pred_path, 2 * y_true + 1 + 0.5 * noise)
    return count


def load_rows(path: str, start: int, stop: int) -> np.ndarray:
    return np.array(np.load(path, mmap_mode="r")[start:stop])


# ------------------------------------------------------------------------------ (a) one process


def one_process(directory: Path, partitions: int, chunk_rows: int) -> dict:
    from regloss import metrics

    streaming = [
        metrics.MeanSquaredError(dtype="float64"),
        metrics.MeanAbsoluteError(dtype="float64"),
        metrics.R2Score(dtype="float64"),
    ]
    rows = 0
    start = time.perf_counter()
    for index in range(partitions):
        true_path, pred_path = partition_paths(directory, index)
        y_true, y_pred = np.load(true_path, mmap_mode="r"), np.load(pred_path, mmap_mode="r")
        for first in range(0, len(y_true), chunk_rows):
            t = np.asarray(y_true[first : first + chunk_rows])
            p = np.asarray(y_pred[first : first + chunk_rows])
            for metric in streaming:
                metric.update_state(t, p)
            rows += len(t)
    seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": rows / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "values": [float(metric.result()) for metric in streaming],
    }


# ------------------------------------------------------------------------------ (b) Dask cluster


def dask_inputs(directory: Path, partitions: int, chunk_rows: int, rows_limit: int):
    import dask
    import dask.array as da

    columns = {"true": [], "pred": []}
    taken = 0
    for index in range(partitions):
        for side, path in zip(("true", "pred"), partition_paths(directory, index), strict=True):
            n = np.load(path, mmap_mode="r").shape[0]
            blocks = []
            for first in range(0, n, chunk_rows):
                stop = min(first + chunk_rows, n, rows_limit - taken)
                if stop <= first:
                    break
                load = dask.delayed(load_rows, pure=True)(str(path), first, stop)
                blocks.append(da.from_delayed(load, shape=(stop - first, 1), dtype=np.float32))
            columns[side].extend(blocks)
        taken += min(n, rows_limit - taken)
        if taken >= rows_limit:
            break
    return da.concatenate(columns["true"]), da.concatenate(columns["pred"])


def cluster(directory: Path, partitions: int, chunk_rows: int, sizes: list[int]) -> dict:
    from distributed import Client, LocalCluster

    import regloss.dask

    start = time.perf_counter()
    local = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = Client(local)
    startup = time.perf_counter() - start
    report = {"startup_seconds": startup, "runs": []}
    try:
        for size in sizes:
            client.restart()  # fresh worker processes: their peak memory is this run's
            warm_true, warm_pred = dask_inputs(directory, partitions, chunk_rows, 2 * chunk_rows)
            regloss.dask.evaluate(warm_true, warm_pred, list(METRICS))  # imports, numba cache loads
            y_true, y_pred = dask_inputs(directory, partitions, chunk_rows, size)
            start = time.perf_counter()
            values = regloss.dask.evaluate(y_true, y_pred, list(METRICS))
            seconds = time.perf_counter() - start
            peaks = client.run(peak_rss_mb)
            report["runs"].append(
                {
                    "rows": size,
                    "seconds": seconds,
                    "rows_per_second": size / seconds,
                    "worker_peak_rss_mb": sorted(peaks.values()),
                    "values": [float(values[name]) for name in METRICS],
                }
            )
        # The scheduler's cost per task: the same evaluation over 2000 chunks of 100 rows.
        import dask.array as da

        tiny = da.ones((200_000, 1), chunks=(100, 1), dtype=np.float32)
        regloss.dask.evaluate(tiny, tiny, list(METRICS))
        start = time.perf_counter()
        regloss.dask.evaluate(tiny, tiny, list(METRICS))
        tiny_seconds = time.perf_counter() - start
        tasks = 2000 * 2  # a load and a state per chunk (the merges are few)
        report["scheduler_seconds_per_task"] = tiny_seconds / tasks
    finally:
        client.close()
        local.close()
    return report


def merge_cost() -> float:
    """Seconds to merge eight states of the three metrics (one merge task of the tree)."""
    from regloss import metrics

    rng = np.random.default_rng(0)
    states = []
    for _ in range(8):
        batch = [
            m(dtype="float64") for m in (metrics.MeanSquaredError, metrics.MeanAbsoluteError, metrics.R2Score)
        ]
        t = rng.standard_normal((1000, 1), dtype=np.float32)
        for metric in batch:
            metric.update_state(t, t + 1)
        states.append(batch)
    start = time.perf_counter()
    repeats = 200
    for _ in range(repeats):
        for position, metric in enumerate(states[0]):
            merged = metric.state
            for other in states[1:]:
                merged = metric.statistic.merge(merged, other[position].state)
    return (time.perf_counter() - start) / repeats


# ------------------------------------------------------------------------------ accuracy


def accuracy(values: int, chunk: int = 10_000_000) -> dict:
    from regloss import metrics

    metric = metrics.MeanAbsoluteError(dtype="float64")
    exact_sums = []
    zeros = np.zeros((chunk, 1), np.float32)
    start = time.perf_counter()
    for index in range(0, values, chunk):
        n = min(chunk, values - index)
        rng = np.random.default_rng(10_000 + index // chunk)
        data = rng.random((n, 1), dtype=np.float32)
        data += np.float32(1000.0)  # a large mean: where a float32 running sum loses digits
        metric.update_state(zeros[:n], data)
        exact_sums.append(float(np.sum(data.astype(np.float64))))  # float64 pairwise: ~1e-16 relative
    exact = math.fsum(exact_sums) / values
    value = float(metric.result())
    return {
        "values": values,
        "regloss": value,
        "exact": exact,
        "relative_error": abs(value - exact) / exact,
        "seconds": time.perf_counter() - start,
    }


# ------------------------------------------------------------------------------ driver


def run_child(mode: str, args) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--dir", str(args.dir)] + [
        f"--{key.replace('_', '-')}={value}"
        for key, value in vars(args).items()
        if key in ("rows", "partition_rows", "chunk_rows", "accuracy_values")
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=float, default=2e8)
    parser.add_argument("--partition-rows", type=float, default=1e7)
    parser.add_argument("--chunk-rows", type=float, default=1e6)
    parser.add_argument("--accuracy-values", type=float, default=1e9)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows, partition_rows, chunk_rows = int(args.rows), int(args.partition_rows), int(args.chunk_rows)
    partitions = -(-rows // partition_rows)

    if args.child == "one_process":
        print(json.dumps(one_process(args.dir, partitions, chunk_rows)))
        return
    if args.child == "cluster":
        print(json.dumps(cluster(args.dir, partitions, chunk_rows, [rows // 4, rows])))
        return
    if args.child == "accuracy":
        print(json.dumps(accuracy(int(args.accuracy_values))))
        return

    temporary = None
    if args.dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="regloss-bench-")
        args.dir = Path(temporary.name)
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        write_partitions(args.dir, rows, partition_rows)
        gigabytes = rows * 8 / 1e9
        print(
            f"data: {rows:.3g} rows x (y_true, y_pred) float32 = "
            f"{gigabytes:.2f} GB in {partitions} .npy partitions"
        )
        print(
            f"      written in {time.perf_counter() - start:.1f} "
            f"s to {args.dir}; chunks of {chunk_rows:.3g} rows"
        )
        print(f"host: {os.cpu_count()} CPUs")

        a = run_child("one_process", args)
        print(
            f"(a) one process, streaming classes: {a['rows_per_second']:.3g} rows/s "
            f"({a['seconds']:.2f} s), peak RSS {a['peak_rss_mb']:.0f} MB"
        )
        b = run_child("cluster", args)
        print(f"(b) LocalCluster, 2 workers x 1 thread: start-up {b['startup_seconds']:.2f} s")
        for run in b["runs"]:
            print(
                f"    {run['rows']:.3g} rows: {run['rows_per_second']:.3g} rows/s ({run['seconds']:.2f} s), "
                f"worker peak RSS {', '.join(f'{m:.0f}' for m in run['worker_peak_rss_mb'])} MB"
            )
        full = b["runs"][-1]
        agree = max(
            abs(x - y) / max(abs(y), 1e-300) for x, y in zip(full["values"], a["values"], strict=True)
        )
        print(
            f"    (a) and (b) agree to {agree:.1e} relative (mse, mae, "
            f"r2 = {', '.join(f'{v:.12g}' for v in a['values'])})"
        )
        verdict = "holds" if full["seconds"] <= a["seconds"] + b["startup_seconds"] else "MISSED"
        print(
            f"    target: (b) within the cluster's start-up cost of (a): {full['seconds']:.2f} s <= "
            f"{a['seconds']:.2f} + {b['startup_seconds']:.2f} s -> {verdict}"
        )

        per_task = b["scheduler_seconds_per_task"]
        merge = merge_cost()
        worker_rate = full["rows_per_second"] / 2
        task_seconds = chunk_rows / worker_rate
        print(
            "scaling model (per chunk of rows: one load task and one state task, "
            "then a merge tree of fan-in 8):"
        )
        print(
            f"    measured: per-worker throughput {worker_rate:.3g} "
            f"rows/s ({task_seconds * 1e3:.1f} ms per chunk),"
        )
        print(
            f"              scheduler {per_task * 1e3:.2f} ms "
            f"per task, merge of 8 states {merge * 1e6:.0f} us"
        )
        print(
            "    time(W) ~ rows / (W * per-worker rate) + 2 * chunks * scheduler cost + depth * merge cost;"
        )
        workers_until_scheduler = task_seconds / (2 * per_task)
        print(
            f"    the scheduler dominates once W > chunk time / (2 "
            f"* per-task cost) = {workers_until_scheduler:.0f} "
            f"workers (for {chunk_rows:.3g}-row chunks; larger chunks push it further out);"
        )
        chunks = rows / chunk_rows
        depth = math.ceil(math.log(max(chunks, 2), 8))
        print(
            f"    the merge tree ({chunks:.0f} states, depth {depth}) "
            f"costs {depth * merge * 1e3:.2f} ms on the critical path: "
            "never the bottleneck"
        )

        c = run_child("accuracy", args)
        print(
            f"accuracy: mean of {c['values']:.3g} float32 values via MeanAbsoluteError(dtype='float64'): "
            f"relative error {c['relative_error']:.1e} (target < 1e-9; {c['seconds']:.1f} s)"
        )
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    main()
