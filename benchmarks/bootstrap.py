"""Bootstrap throughput: MSE with 200 replicates, in rows/s, beside the plain metric and torchmetrics.

Times, on the same float32 data (``--rows`` rows of one output, fed in batches of
``--batch-rows``), after a warm-up, the median of ``--repeats`` runs of:

* regloss ``MeanSquaredError()`` (the plain streaming metric);
* regloss ``Bootstrap(MeanSquaredError(), num_replicates=200)`` on the best tier (numba, when
  installed) and on the pure-NumPy tier (``regloss.config.set_accelerator("numpy")``);
* torchmetrics ``BootStrapper(MeanSquaredError(), num_bootstraps=200)`` (its default Poisson
  sampling) on torch tensors of the same data, 2 threads, when torchmetrics is installed;
* the command line's default metrics with ``--ci`` (MSE, RMSE, MAE and R2, each bootstrapped) on
  the best tier, fed one by one (``update_state``) and together (``Bootstrap.update_together``,
  one draw of the Poisson counts), in rows/s of the four.

Prints rows/s and the targets of issue 15: at least 1e6 rows/s on the best tier and 2e5 rows/s on
pure NumPy.

Run:  python benchmarks/bootstrap.py [--rows 2e6] [--batch-rows 1e5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # torch's idle threads must not spin

import numpy as np  # noqa: E402

REPLICATES = 200


def rows_per_second(run, rows: int, repeats: int) -> float:
    run()  # warm-up: imports, numba's cached kernels, torch's thread pool
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return rows / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=float, default=2e6)
    parser.add_argument("--batch-rows", type=float, default=1e5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows, batch = int(args.rows), int(args.batch_rows)

    from regloss import config
    from regloss.metrics import Bootstrap, MeanAbsoluteError, MeanSquaredError, R2Score, RootMeanSquaredError

    rng = np.random.default_rng(0)
    y_true = rng.standard_normal((rows, 1), dtype=np.float32)
    y_pred = y_true + 0.5 * rng.standard_normal((rows, 1), dtype=np.float32)
    starts = range(0, rows, batch)

    def feed(metric):
        def run():
            metric.reset_state()
            for start in starts:
                metric.update_state(y_true[start : start + batch], y_pred[start : start + batch])
            metric.result()

        return run

    results = {
        "regloss MeanSquaredError (no interval)": rows_per_second(
            feed(MeanSquaredError()), rows, args.repeats
        )
    }
    numba = importlib.util.find_spec("numba") is not None
    tiers = (["numba"] if numba else []) + ["numpy"]
    for tier in tiers:
        config.set_accelerator(tier)
        try:
            bootstrap = Bootstrap(MeanSquaredError(), num_replicates=REPLICATES)
            results[f"regloss Bootstrap, {tier} tier"] = rows_per_second(feed(bootstrap), rows, args.repeats)
        finally:
            config.set_accelerator(None)

    four = [Bootstrap(cls(), num_replicates=REPLICATES) for cls in (MeanSquaredError, RootMeanSquaredError)]
    four += [Bootstrap(MeanAbsoluteError(), num_replicates=REPLICATES), Bootstrap(R2Score(), REPLICATES)]

    def feed_four(together):
        def run():
            for metric in four:
                metric.reset_state()
            for start in starts:
                rows_ = slice(start, start + batch)
                if together:
                    Bootstrap.update_together([(metric, y_true[rows_], y_pred[rows_]) for metric in four])
                else:
                    for metric in four:
                        metric.update_state(y_true[rows_], y_pred[rows_])
            for metric in four:
                metric.result()

        return run

    for together, how in ((False, "one by one"), (True, "update_together")):
        name = f"regloss 4 Bootstraps (MSE, RMSE, MAE, R2), {how}"
        results[name] = rows_per_second(feed_four(together), rows, args.repeats)

    if importlib.util.find_spec("torchmetrics") is not None:
        import torch
        from torchmetrics import MeanSquaredError as TorchMSE
        from torchmetrics.wrappers import BootStrapper

        torch.set_num_threads(2)
        t_true, t_pred = torch.from_numpy(y_true[:, 0]), torch.from_numpy(y_pred[:, 0])
        torch_rows = min(rows, 10 * batch)  # it is slow: time a part of the data

        def torch_run():
            metric = BootStrapper(TorchMSE(), num_bootstraps=REPLICATES, sampling_strategy="poisson")
            for start in range(0, torch_rows, batch):
                metric.update(t_pred[start : start + batch], t_true[start : start + batch])
            metric.compute()

        results["torchmetrics BootStrapper (poisson), 2 threads"] = rows_per_second(
            torch_run, torch_rows, max(1, args.repeats // 2)
        )
    else:
        print("torchmetrics is not installed: no peer timing (pip install torchmetrics)")

    print(
        f"MSE, {REPLICATES} replicates, {rows:.3g} float32 rows in batches of {batch:.3g}; "
        f"{os.cpu_count()} CPUs"
    )
    for name, value in results.items():
        print(f"  {name:<62} {value:12.3g} rows/s")
    best = results.get("regloss Bootstrap, numba tier", results["regloss Bootstrap, numpy tier"])
    pure = results["regloss Bootstrap, numpy tier"]
    print("targets:")
    print(f"  best tier >= 1e6 rows/s: {best:.3g} -> {'holds' if best >= 1e6 else 'MISSED'}")
    print(f"  pure NumPy >= 2e5 rows/s: {pure:.3g} -> {'holds' if pure >= 2e5 else 'MISSED'}")


if __name__ == "__main__":
    main()
