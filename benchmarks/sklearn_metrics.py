"""Throughput of the streaming scikit-learn metrics (regloss.metrics), with scikit-learn's one-shot
function on the same rows for scale.

For each metric: ``--rows`` float64 rows of ``--outputs`` outputs with per-row weights, fed to the
class (``dtype="float64"``) in chunks of ``--chunk-rows``; prints rows/s of the stream (best of
``--repeat``), of scikit-learn 1.9's function on the whole arrays (in memory, one shot; the Tweedie
family, D2 and max_error per output, as they are single-output there), their ratio, and the
relative difference of the values. With ``--bootstrap N``, also rows/s of ``Bootstrap(metric, N)``.

Run:  python benchmarks/sklearn_metrics.py [--rows 1e7] [--outputs 1] [--chunk-rows 1e6]
                                           [--repeat 3] [--bootstrap 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def cases():
    import sklearn.metrics as skm

    from regloss import metrics as rm

    def per_output(function, **kwargs):
        def run(t, p, w):
            return np.mean([function(t[:, j], p[:, j], sample_weight=w, **kwargs) for j in range(t.shape[1])])

        return run

    def max_error(t, p, w):
        return max(skm.max_error(t[:, j], p[:, j]) for j in range(t.shape[1]))

    return [
        ("pinball", lambda: rm.MeanPinballLoss(0.9, dtype="float64"),
         lambda t, p, w: skm.mean_pinball_loss(t, p, sample_weight=w, alpha=0.9)),
        ("rmsle", lambda: rm.RootMeanSquaredLogarithmicError(dtype="float64"),
         lambda t, p, w: skm.root_mean_squared_log_error(t, p, sample_weight=w)),
        ("explained_variance", lambda: rm.ExplainedVarianceScore(dtype="float64"),
         lambda t, p, w: skm.explained_variance_score(t, p, sample_weight=w)),
        ("tweedie:power=1.5", lambda: rm.MeanTweedieDeviance(1.5, dtype="float64"),
         per_output(skm.mean_tweedie_deviance, power=1.5)),
        ("poisson_deviance", lambda: rm.MeanPoissonDeviance(dtype="float64"),
         per_output(skm.mean_poisson_deviance)),
        ("gamma_deviance", lambda: rm.MeanGammaDeviance(dtype="float64"),
         per_output(skm.mean_gamma_deviance)),
        ("d2_tweedie:power=1.5", lambda: rm.D2TweedieScore(1.5, dtype="float64"),
         per_output(skm.d2_tweedie_score, power=1.5)),
        ("max_error (unweighted)", lambda: rm.MaxError(dtype="float64"), max_error),
    ]  # fmt: skip


def best_seconds(run, repeat: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--outputs", type=int, default=1)
    parser.add_argument("--chunk-rows", type=float, default=1e6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=0, help="replicates of a Bootstrap row (0: none)")
    args = parser.parse_args()
    rows, chunk = int(args.rows), int(args.chunk_rows)
    rng = np.random.default_rng(0)
    y_true = rng.gamma(2.0, size=(rows, args.outputs))
    y_pred = y_true * rng.uniform(0.7, 1.3, size=(rows, args.outputs))
    weight = rng.uniform(0.5, 2.0, size=rows)

    from regloss import metrics as rm

    print(f"{rows:.0e} rows x {args.outputs} output(s), float64, weighted, chunks of {chunk:.0e} rows")
    print(f"{'metric':<24} {'regloss rows/s':>15} {'sklearn rows/s':>15} {'ratio':>7} {'rel. diff':>10}")
    for name, make, reference in cases():
        unweighted = "unweighted" in name
        w = None if unweighted else weight

        def stream(make=make, w=w):
            metric = make()
            for start in range(0, rows, chunk):
                stop = start + chunk
                batch_weight = None if w is None else w[start:stop]
                metric.update_state(y_true[start:stop], y_pred[start:stop], batch_weight)
            return float(metric.result())

        def one_shot(reference=reference, w=w):
            return reference(y_true, y_pred, w)

        ours, value = best_seconds(stream, args.repeat)
        theirs, expected = best_seconds(one_shot, args.repeat)
        difference = abs(value - expected) / max(abs(expected), 1e-300)
        speeds = f"{rows / ours:>15.3g} {rows / theirs:>15.3g} {theirs / ours:>7.2f}"
        print(f"{name:<24} {speeds} {difference:>10.1e}")
        if args.bootstrap:

            def booted(make=make, w=w):
                metric = rm.Bootstrap(make(), num_replicates=args.bootstrap)
                for start in range(0, rows, chunk):
                    stop = start + chunk
                    metric.update_state(
                        y_true[start:stop], y_pred[start:stop], None if w is None else w[start:stop]
                    )
                return metric.result()

            seconds, _ = best_seconds(booted, 1)
            print(f"{'  Bootstrap(' + str(args.bootstrap) + ')':<24} {rows / seconds:>15.3g}")


if __name__ == "__main__":
    main()
