"""Quantiles of the absolute error: exact (radix selection) and sketch rows/s beside numpy.median
and dask.array.percentile, and peak memory of the Dask exact path at two sizes.

    PYTHONPATH=src python benchmarks/quantiles.py --rows 10000000 --dask-rows 1000000 10000000

Rows/s are of the in-memory absolute errors (float64, |N(0, 1)|) except the Dask rows, whose
chunks are generated inside the tasks (dask.array.random) so that no input is held in memory and
every pass regenerates (re-reads) them; "peak" is tracemalloc's peak of Python and NumPy
allocations during the call (NumPy reports its buffers to tracemalloc), not the process RSS.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def in_memory(rows: int) -> None:
    from regloss.quantiles import radix
    from regloss.quantiles.sketch import Layout

    errors = np.abs(np.random.default_rng(0).normal(size=(rows, 1)))
    layout = Layout(0.01)
    median, seconds = _timed(lambda: float(np.median(errors)))
    print(f"numpy.median                 {rows:>11,} rows  {rows / seconds:12.3g} rows/s  {median!r}")
    exact, seconds = _timed(lambda: radix.select(radix.in_memory_scan(errors), 0.5, 1, weighted=False)[0])
    print(f"exact (4 radix passes)       {rows:>11,} rows  {rows / seconds:12.3g} rows/s  {exact!r}")
    sketch, seconds = _timed(lambda: layout.quantile(layout.add(layout.new_state(), errors, None), 0.5))
    print(f"sketch (a = 0.01, one pass)  {rows:>11,} rows  {rows / seconds:12.3g} rows/s  {sketch!r}")


def on_dask(rows: int, chunk: int) -> None:
    import dask
    import dask.array as da

    from regloss.dask import evaluate

    def arrays():
        state = da.random.RandomState(0)
        return state.normal(size=rows, chunks=chunk), state.normal(size=rows, chunks=chunk)

    with dask.config.set(scheduler="threads"):
        true, pred = arrays()
        tracemalloc.start()
        result, seconds = _timed(lambda: evaluate(true, pred, "median_ae")["median_ae"])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"dask exact median            {rows:>11,} rows  {rows / seconds:12.3g} rows/s  "
            f"peak {peak / 2**20:7.1f} MiB  {float(result)!r}"
        )
        true, pred = arrays()
        tracemalloc.start()
        approx, seconds = _timed(lambda: float(np.ravel(da.percentile(abs(pred - true), 50).compute())[0]))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"dask.array.percentile (apx)  {rows:>11,} rows  {rows / seconds:12.3g} rows/s  "
            f"peak {peak / 2**20:7.1f} MiB  {approx!r}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dask-rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--chunk", type=int, default=1_000_000)
    args = parser.parse_args()
    in_memory(args.rows)
    for rows in args.dask_rows:
        on_dask(rows, args.chunk)


if __name__ == "__main__":
    main()
