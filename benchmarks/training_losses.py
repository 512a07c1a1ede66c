"""Issue 22's training losses (pinball, smooth L1, Poisson NLL) on each tier, against torch.

Times one scalar call (``reduction="sum_over_batch_size"``, no weights) of each loss on
``(100000, 100)`` float32 inputs (counts and rates in [0, 1)), on the numba tier, the blocked NumPy
tier and the generic array-API path, and torch's own ``torch.nn.functional`` loss (2 threads;
TF Addons' pinball has no torch counterpart). Prints the median and the fastest of ``--rounds``
calls after a warm-up, in milliseconds.

Run:  python benchmarks/training_losses.py [--rounds 9] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from regloss import config, losses


def timings(function, rounds):
    function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    config.set_num_threads(args.threads)
    functional = torch.nn.functional
    rng = np.random.default_rng(0)
    y_true = rng.poisson(2.0, (100_000, 100)).astype(np.float32)
    y_pred = rng.random((100_000, 100), dtype=np.float32)
    target, prediction = torch.from_numpy(y_true), torch.from_numpy(y_pred)
    cases = [
        ("Pinball(tau=0.9)", losses.Pinball(tau=0.9), None),
        (
            "SmoothL1(beta=0.5)",
            losses.SmoothL1(beta=0.5),
            lambda: functional.smooth_l1_loss(prediction, target, beta=0.5),
        ),
        ("PoissonNLL()", losses.PoissonNLL(), lambda: functional.poisson_nll_loss(prediction, target)),
        (
            "PoissonNLL(full=True)",
            losses.PoissonNLL(full=True),
            lambda: functional.poisson_nll_loss(prediction, target, full=True),
        ),
    ]
    print(
        f"(100000, 100) float32, sum_over_batch_size, {args.threads} threads: median (fastest) of "
        f"{args.rounds} calls, ms"
    )
    print(f"{'loss':24s} {'numba':>15s} {'blocked NumPy':>15s} {'generic':>15s} {'torch':>15s}")
    for name, loss, peer in cases:
        cells = []
        for tier in ("numba", "numpy", "none"):
            config.set_accelerator(tier)
            try:
                cells.append(timings(lambda loss=loss: loss(y_true, y_pred), args.rounds))
            finally:
                config.set_accelerator(None)
        cells.append(timings(peer, args.rounds) if peer else None)
        text = ["-" if cell is None else f"{cell[0]:.1f} ({cell[1]:.1f})" for cell in cells]
        print(f"{name:24s} " + " ".join(f"{cell:>15s}" for cell in text))


if __name__ == "__main__":
    main()
