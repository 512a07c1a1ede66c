"""Per-call overhead on a small batch: regloss against each library's own loss, side by side.

A (32, 10) float32 batch, so the time is almost all per-call overhead. Candidates are timed in
interleaved rounds (each round times every candidate once, in turn) and the best round of each is
kept, so a noisy neighbour slows all of them alike; the printed ratios are what matters.

Run:  python benchmarks/overhead.py [rounds]
"""

import sys
import timeit

import numpy as np


def _best_microseconds(candidates: dict, rounds: int, number: int) -> dict:
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, function in candidates.items():
            best[name] = min(best[name], timeit.timeit(function, number=number) / number * 1e6)
    return best


def torch_rows(rounds: int):
    import torch
    import torch.nn.functional as F

    from regloss import losses

    rng = np.random.default_rng(0)
    y_true = torch.as_tensor(rng.random((32, 10), dtype=np.float32))
    y_pred = torch.as_tensor(rng.random((32, 10), dtype=np.float32))
    mse, huber = losses.MeanSquaredError(), losses.Huber(delta=1.0)
    candidates = {
        "torch F.mse_loss": lambda: F.mse_loss(y_pred, y_true),
        "regloss MeanSquaredError": lambda: mse(y_true, y_pred),
        "torch F.huber_loss": lambda: F.huber_loss(y_pred, y_true, delta=1.0),
        "regloss Huber": lambda: huber(y_true, y_pred),
    }
    best = _best_microseconds(candidates, rounds, number=2000)
    yield "regloss MSE / F.mse_loss (torch, eager)", best, "regloss MeanSquaredError", "torch F.mse_loss"
    yield "regloss Huber / F.huber_loss (torch, eager)", best, "regloss Huber", "torch F.huber_loss"


def jax_rows(rounds: int):
    import jax
    import jax.numpy as jnp

    from regloss import losses

    rng = np.random.default_rng(0)
    y_true = jnp.asarray(rng.random((32, 10), dtype=np.float32))
    y_pred = jnp.asarray(rng.random((32, 10), dtype=np.float32))
    mse, huber = losses.MeanSquaredError(), losses.Huber(delta=1.0)

    def hand_huber(t, p):
        error = jnp.abs(p - t)
        return jnp.mean(jnp.mean(jnp.where(error <= 1.0, 0.5 * error**2, error - 0.5), axis=-1))

    jitted = {
        "jnp MSE expression, jit": jax.jit(lambda t, p: jnp.mean(jnp.mean((t - p) ** 2, axis=-1))),
        "regloss MeanSquaredError, jit": jax.jit(lambda t, p: mse(t, p)),
        "jnp Huber expression, jit": jax.jit(hand_huber),
        "regloss Huber, jit": jax.jit(lambda t, p: huber(t, p)),
    }
    for function in jitted.values():
        function(y_true, y_pred).block_until_ready()  # compile outside the timing
    candidates = {name: (lambda f=f: f(y_true, y_pred).block_until_ready()) for name, f in jitted.items()}
    best = _best_microseconds(candidates, rounds, number=2000)
    mse_pair = ("regloss MeanSquaredError, jit", "jnp MSE expression, jit")
    huber_pair = ("regloss Huber, jit", "jnp Huber expression, jit")
    yield "regloss MSE / jnp expression (jax.jit)", best, *mse_pair
    yield "regloss Huber / jnp expression (jax.jit)", best, *huber_pair


def main(rounds: int = 7) -> None:
    print("per-call time on a (32, 10) float32 batch, best of interleaved rounds")
    print(f"{'comparison':<45}{'regloss us':>12}{'peer us':>10}{'ratio':>8}")
    for rows in (torch_rows(rounds), jax_rows(rounds)):
        for label, best, ours, peer in rows:
            print(f"{label:<45}{best[ours]:>12.1f}{best[peer]:>10.1f}{best[ours] / best[peer]:>8.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
