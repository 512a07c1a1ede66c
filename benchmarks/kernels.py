"""The fused NumPy path against its peers: every loss, small and large float32 batches.

Times, in one run, after a warm-up, interleaved (every round times every candidate once, in turn),
the median and interquartile range of at least 15 rounds of:

* regloss, a class instance built once (``loss(y_true, y_pred)``) and, on small inputs, the
  functional form (per-sample losses), on the blocked NumPy tier (``accelerator="numpy"``), the
  class on the numba tier when numba is installed (``accelerator="numba"``: column ``numba``; the
  losses it does not cover run the blocked tier there) and on the generic array-API path
  (``accelerator="none"``);
* the plain NumPy formula (float32, as written in issue 11), scalar and per sample;
* torch with 2 threads: ``torch.nn.functional`` where it has the loss, the torch expression otherwise;
* ``jax.jit`` of the jnp formula;
* the floor ``torch.sum(a) + torch.sum(b)`` (reads each input once);
* Keras 3 on its NumPy backend, in a subprocess (not interleaved: timed before the others).

Prints the CPU model and L3 size, the numba tier's compile time (cold, in a subprocess with an empty
cache) and its load time from the on-disk cache, each median with its IQR, the ratios of regloss
(the faster of its two tiers, ``best``) to the floor
and to each peer, the relative error of each scalar against an exact float64 reference (float64
values, chunk sums added with ``math.fsum``) and the tracemalloc peak of each NumPy candidate.

Fairness: torch's OpenMP threads spin for a while after each parallel call and slow whatever runs
next on this 2-core machine (measured: the candidate timed right after the floor took 2x its time);
so this script sets ``OMP_WAIT_POLICY=passive`` (unless the environment sets it) before importing
torch, and each round times the candidates in a fresh random order (fixed seed).

Run:  python benchmarks/kernels.py [--rounds 15] [--no-keras] [--threads N] [--only MSE,MAE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before torch: see the module docstring

import numpy as np  # noqa: E402

EPS = 1e-7
DELTA = 1.0
ALPHA, BETA = 0.5, 0.5
SMALL, LARGE = (32, 10), (100_000, 100)
LOSSES = {
    # regloss functional name: (class name, Keras class name)
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "cosine_similarity": "CosineSimilarity",
    "dice": "Dice",
    "tversky": "Tversky",
}
SHORT = {
    "mean_squared_error": "MSE",
    "mean_absolute_error": "MAE",
    "mean_absolute_percentage_error": "MAPE",
    "mean_squared_logarithmic_error": "MSLE",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "cosine_similarity": "Cosine",
    "dice": "Dice",
    "tversky": "Tversky",
}


def make_inputs(shape, seed=0):
    """Targets in [0, 1) (Dice/Tversky/MSLE need them there), predictions near them."""
    rng = np.random.default_rng(seed)
    y_true = rng.random(shape, dtype=np.float32)
    y_pred = (y_true + 0.5 * rng.standard_normal(shape, dtype=np.float32)).clip(0, None)
    return y_true, y_pred


def cpu_description() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    l3 = "?"
    for index in range(5):
        base = f"/sys/devices/system/cpu/cpu0/cache/index{index}"
        try:
            with open(f"{base}/level") as level, open(f"{base}/size") as size:
                if level.read().strip() == "3":
                    l3 = size.read().strip()
        except OSError:
            continue
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, L3 {l3}, {cpus} CPUs usable"


# ------------------------------------------------------------------------------ formulas


def numpy_formulas(np_):
    """The plain formulas of issue 11 on a NumPy-like module (NumPy or jax.numpy), float32 in,
    float32 arithmetic: scalar losses (the class's default reduction)."""
    log2 = math.log(2.0)  # a Python float: float32 arithmetic on float32 inputs, exact on float64

    def elementwise(name, a, b):
        if name == "mean_squared_error":
            return np_.square(a - b)
        if name == "mean_absolute_error":
            return np_.abs(a - b)
        if name == "mean_absolute_percentage_error":
            return np_.abs((a - b) / np_.maximum(np_.abs(a), EPS))
        if name == "mean_squared_logarithmic_error":
            return np_.square(np_.log(np_.maximum(b, EPS) + 1) - np_.log(np_.maximum(a, EPS) + 1))
        if name == "huber":
            error = b - a
            absolute = np_.abs(error)
            return np_.where(absolute <= DELTA, 0.5 * error * error, DELTA * absolute - 0.5 * DELTA**2)
        if name == "log_cosh":
            x = b - a
            return x + np_.logaddexp(-2 * x, np_.float32(0)) - log2
        raise KeyError(name)

    def cosine(a, b):
        norm_a = np_.sqrt(np_.maximum(np_.sum(a * a, axis=-1), EPS * EPS))
        norm_b = np_.sqrt(np_.maximum(np_.sum(b * b, axis=-1), EPS * EPS))
        return -np_.sum(a * b, axis=-1) / (norm_a * norm_b)

    def per_sample(name, a, b):
        if name == "cosine_similarity":
            return cosine(a, b)
        scale = 100 if name == "mean_absolute_percentage_error" else 1
        return scale * np_.mean(elementwise(name, a, b), axis=-1)

    def scalar(name, a, b):
        """One reduction, as issue 11 writes them: ``np.mean(np.square(a - b))``..."""
        if name == "dice":
            return 1 - 2 * np_.sum(a * b) / (np_.sum(a) + np_.sum(b) + EPS)
        if name == "tversky":
            intersection = np_.sum(a * b)
            false_positives = np_.sum((1 - a) * b)
            false_negatives = np_.sum(a * (1 - b))
            return 1 - intersection / (intersection + ALPHA * false_positives + BETA * false_negatives + EPS)
        if name == "cosine_similarity":
            return np_.mean(cosine(a, b))
        scale = 100 if name == "mean_absolute_percentage_error" else 1
        return scale * np_.mean(elementwise(name, a, b))

    return scalar, per_sample


def torch_candidates(torch, a, b):
    import torch.nn.functional as F

    log2 = math.log(2.0)

    def dice(a, b):
        return 1 - 2 * torch.sum(a * b) / (torch.sum(a) + torch.sum(b) + EPS)

    def tversky(a, b):
        intersection = torch.sum(a * b)
        return 1 - intersection / (
            intersection + ALPHA * torch.sum((1 - a) * b) + BETA * torch.sum(a * (1 - b)) + EPS
        )

    return {
        "mean_squared_error": lambda: F.mse_loss(b, a),
        "mean_absolute_error": lambda: F.l1_loss(b, a),
        "mean_absolute_percentage_error": lambda: (
            100 * torch.mean(torch.abs((a - b) / torch.clamp(torch.abs(a), min=EPS)))
        ),
        "mean_squared_logarithmic_error": lambda: torch.mean(
            torch.square(torch.log(torch.clamp(b, min=EPS) + 1) - torch.log(torch.clamp(a, min=EPS) + 1))
        ),
        "huber": lambda: F.huber_loss(b, a, delta=DELTA),
        "log_cosh": lambda: torch.mean((b - a) + F.softplus(-2 * (b - a)) - log2),
        "cosine_similarity": lambda: -torch.mean(F.cosine_similarity(a, b, dim=-1, eps=EPS)),
        "dice": lambda: dice(a, b),
        "tversky": lambda: tversky(a, b),
    }


# ------------------------------------------------------------------------------ reference


def exact_reference(name, a, b, rows_per_chunk=10_000) -> float:
    """The scalar loss in float64 from the float32 inputs, chunk by chunk (sums by math.fsum)."""
    scalar, per_sample = numpy_formulas(np)
    if name in ("dice", "tversky"):
        sums = {"tp": [], "t": [], "p": [], "fp": [], "fn": []}
        for start in range(0, a.shape[0], rows_per_chunk):
            t, p = (
                a[start : start + rows_per_chunk].astype(np.float64),
                b[start : start + rows_per_chunk].astype(np.float64),
            )
            for key, value in (("tp", t * p), ("t", t), ("p", p), ("fp", (1 - t) * p), ("fn", t * (1 - p))):
                sums[key].append(float(np.sum(value)))
        tp, t, p, fp, fn = (math.fsum(sums[key]) for key in ("tp", "t", "p", "fp", "fn"))
        if name == "dice":
            return 1 - 2 * tp / (t + p + EPS)
        return 1 - tp / (tp + ALPHA * fp + BETA * fn + EPS)
    chunks = []
    for start in range(0, a.shape[0], rows_per_chunk):
        t, p = (
            a[start : start + rows_per_chunk].astype(np.float64),
            b[start : start + rows_per_chunk].astype(np.float64),
        )
        chunks.append(float(np.sum(per_sample(name, t, p))))
    return math.fsum(chunks) / a.shape[0]


# ------------------------------------------------------------------------------ Keras

KERAS_WORKER = r"""
import json, os, sys, time
os.environ["KERAS_BACKEND"] = "numpy"
import numpy as np
import keras
sys.path.insert(0, os.path.dirname(sys.argv[1]))
from kernels import LOSSES, SMALL, LARGE, make_inputs
rounds = int(sys.argv[2])
out = {}
for label, shape, inner in (("small", SMALL, 50), ("large", LARGE, 1)):
    a, b = make_inputs(shape)
    for name, cls in LOSSES.items():
        loss = getattr(keras.losses, cls)()
        loss(a, b)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(inner):
                loss(a, b)
            times.append((time.perf_counter() - start) / inner)
        out[f"{label}/{name}"] = times
print(json.dumps(out))
"""


def keras_times(rounds: int) -> dict:
    try:
        result = subprocess.run(
            [sys.executable, "-c", KERAS_WORKER, os.path.abspath(__file__), str(rounds)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as error:
        print(f"(Keras NumPy backend not timed: {type(error).__name__})")
        return {}


# ------------------------------------------------------------------------------ numba

NUMBA_WORKER = r"""
import sys, time
start = time.perf_counter()
import numpy as np
import regloss
from regloss import config
config.set_accelerator("numba")
a = np.ones((1000, 100), np.float32)
for dtype in (np.float32, np.float64):
    x = a.astype(dtype)
    for cls in ("MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "Huber",
                "MeanSquaredLogarithmicError", "LogCosh"):
        getattr(regloss.losses, cls)()(x, x)
        getattr(regloss.losses, cls)(reduction="none")(x, x, np.ones(1000, dtype))
        getattr(regloss.losses, cls)(reduction="sum")(x, x, np.ones(1000, dtype))
print(time.perf_counter() - start)
"""


def numba_startup() -> str:
    """The numba tier's first-use cost in fresh processes: cold (an empty cache directory: import and
    compile every kernel signature) and warm (the same directory again: import and load)."""
    import tempfile

    seconds = []
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(2):
            result = subprocess.run(
                [sys.executable, "-c", NUMBA_WORKER],
                env={**os.environ, "NUMBA_CACHE_DIR": cache},
                capture_output=True,
                text=True,
                timeout=300,
            )
            if result.returncode:
                return f"numba tier failed: {result.stderr.strip().splitlines()[-1:]}"
            seconds.append(float(result.stdout.split()[-1]))
    return (
        f"numba tier first use (import regloss + numba, every kernel signature, float32 and float64): "
        f"{seconds[0]:.1f} s cold (compiled), {seconds[1]:.1f} s from the on-disk cache"
    )


# ------------------------------------------------------------------------------ timing


def interleaved(
    candidates: dict, rounds: int, max_inner: int, sample_seconds: float = 1e-3, pause: float = 0.005
) -> dict:
    """``{key: [seconds per call, one per round]}``, every candidate once per round, in an order
    shuffled each round (``random.Random(0)``), so that no candidate always follows the same one.

    After a warm-up call (JIT, thread pools, caches), each candidate's sample is a loop of up to
    ``max_inner`` calls lasting about ``sample_seconds`` (one call when a call takes longer), judged
    by the fastest of three more warm-up calls (none when ``max_inner`` is 1). Each
    sample starts after an untimed ``pause``: the thread pools of the previous candidate (XLA's,
    numba's, torch's) spin for a while after their work, and on 2 cores that halved the speed of
    whatever came next (numba's MSE: IQR 3.6 ms around a 6.9 ms median without the pause).
    """
    inner = {}
    for key, function in candidates.items():
        function()
        if max_inner == 1:  # one call per sample whatever its length: no need to time it
            inner[key] = 1
            continue
        once = math.inf
        for _ in range(3):  # the fastest of three: a slow first call must not shrink the sample
            start = time.perf_counter()
            function()
            once = min(once, time.perf_counter() - start)
        inner[key] = max(1, min(max_inner, int(sample_seconds / max(once, 1e-9))))
    times = {key: [] for key in candidates}
    order = list(candidates)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for key in order:
            function = candidates[key]
            count = inner[key]
            time.sleep(pause)
            start = time.perf_counter()
            for _ in range(count):
                function()
            times[key].append((time.perf_counter() - start) / count)
    return times


def median_iqr(values):
    if not values:
        return None, None
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return statistics.median(values), quartiles[2] - quartiles[0]


def peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def select_losses(only: str) -> None:
    """Keep only the losses named in ``only`` (short names such as ``MSE``, or functional names,
    comma-separated) in :data:`LOSSES`: every table and verdict then covers those alone."""
    wanted = {name.strip().lower() for name in only.split(",") if name.strip()}
    kept = {name: cls for name, cls in LOSSES.items() if {name, SHORT[name].lower()} & wanted}
    unknown = wanted - {key.lower() for name in kept for key in (name, SHORT[name])}
    if unknown or not kept:
        raise SystemExit(f"--only: unknown loss(es) {sorted(unknown)}; choose from {sorted(SHORT.values())}")
    LOSSES.clear()
    LOSSES.update(kept)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="regloss.config.set_num_threads")
    parser.add_argument(
        "--only", default=None, help="comma-separated losses to time (short names: MSE,MAE,...); default all"
    )
    args = parser.parse_args()
    if args.only:
        select_losses(args.only)
    started = time.perf_counter()

    import regloss
    from regloss import config, losses

    try:
        import torch
    except ImportError:
        torch = None
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        jax = None

    if args.threads:
        config.set_num_threads(args.threads)
    print(f"CPU: {cpu_description()}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    print(
        f"regloss {regloss.__version__} (fused threads {config.num_threads()}), numpy {np.__version__}"
        + (f", torch {torch.__version__} (2 threads)" if torch else ", no torch: no floor, no verdict")
        + (f", jax {jax.__version__}" if jax else "")
    )
    try:
        import numba
    except ImportError:
        numba = None
    print(numba_startup() if numba else "numba not installed: no numba tier (pip install regloss[fast])")
    keras = {} if args.no_keras else keras_times(args.rounds)
    print(f"(Keras subprocess done at {time.perf_counter() - started:.0f} s)")
    if torch is not None:
        torch.set_num_threads(2)
    numpy_scalar, numpy_per_sample = numpy_formulas(np)

    def with_path(path, function):
        def run():
            config.set_accelerator(path)
            return function()

        return run

    tables = {}
    for label, shape in (("small", SMALL), ("large", LARGE)):
        a, b = make_inputs(shape)
        inner_calls = 100 if label == "small" else 1
        candidates = {}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            candidates["floor"] = lambda ta=ta, tb=tb: torch.sum(ta) + torch.sum(tb)
            torch_losses = torch_candidates(torch, ta, tb)
        if jax is not None:
            ja, jb = jnp.asarray(a), jnp.asarray(b)
            jax_scalar, _ = numpy_formulas(jnp)
        for name, cls in LOSSES.items():
            instance = getattr(losses, cls)()
            function = getattr(losses, name)
            candidates[f"{name}/class"] = with_path("numpy", lambda i=instance, a=a, b=b: i(a, b))
            if label == "small":  # the functional target is a small-call one
                candidates[f"{name}/functional"] = with_path("numpy", lambda f=function, a=a, b=b: f(a, b))
            if numba is not None and label == "large" and name in NUMBA_LOSSES:
                candidates[f"{name}/numba"] = with_path("numba", lambda i=instance, a=a, b=b: i(a, b))
            if label == "large":
                variant_candidates(candidates, name, cls, a, b, with_path, numba is not None)
            candidates[f"{name}/generic"] = with_path("none", lambda i=instance, a=a, b=b: i(a, b))
            candidates[f"{name}/numpy"] = lambda n=name, a=a, b=b: numpy_scalar(n, a, b)
            if name not in ("dice", "tversky") and label == "small":
                candidates[f"{name}/numpy per sample"] = lambda n=name, a=a, b=b: numpy_per_sample(n, a, b)
            if torch is not None:
                candidates[f"{name}/torch"] = torch_losses[name]
            if jax is not None:
                compiled = jax.jit(lambda x, y, n=name, f=jax_scalar: f(n, x, y))
                candidates[f"{name}/jax"] = lambda c=compiled, x=ja, y=jb: c(x, y).block_until_ready()
        if label == "large":
            candidates.update(ufunc_candidates(a))
        times = interleaved(candidates, args.rounds, inner_calls)
        config.set_accelerator(None)
        for key, values in keras.items():
            if key.startswith(label + "/"):
                times[key.split("/", 1)[1] + "/keras"] = values
        tables[label] = (a, b, times, candidates)
        print(f"({label} timed at {time.perf_counter() - started:.0f} s)")

    for label, (a, b, times, candidates) in tables.items():
        report(label, a, b, times, candidates, label == "large")
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


TARGETS = (
    # (losses, peer, limit, what): best-tier median / peer median must be at most limit
    (("mean_squared_error", "mean_absolute_error"), "floor", 1.5, "within 1.5x of the floor"),
    (("mean_squared_error", "mean_absolute_error"), "jax", 1.0, "at or ahead of jax.jit"),
    (("huber",), "floor", 2.0, "within 2x of the floor"),
    (("mean_squared_logarithmic_error", "log_cosh"), "keras", 0.1, ">= 10x faster than Keras (NumPy)"),
    (("mean_squared_logarithmic_error", "log_cosh"), "numpy", 1 / 3, ">= 3x faster than the plain formula"),
)


NUMBA_LOSSES = (
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "huber",
    "mean_squared_logarithmic_error",
    "log_cosh",
    "cosine_similarity",
    "dice",
    "tversky",
)
"""The losses of the numba tier (regloss.kernels.numba_tier.ERRORS, HYBRID and OVERLAPS); inputs
below 65536 elements run the blocked NumPy tier under ``accelerator="numba"`` too."""


# ---------------------------------------------------------------- issue 25: variants and targets

MASK_FRACTION = 0.9
"""Fraction of the entries an element mask keeps in the masked candidates."""
REDUCTION_COLUMNS = ("sum_over_batch_size", "sum", "none", "mask", "weights")
"""The variant columns of the loss x tier x reduction table (``mask``: an element mask with the
default reduction; ``weights``: a ``(B,)`` sample weight with the default reduction, over the last
axis for Dice and Tversky, whose default axis=None takes only a scalar weight)."""


def variant_candidates(candidates, name, cls, a, b, with_path, numba):
    """The large variants of issue 25 for the blocked tier (``class <variant>``) and the numba tier
    (``numba <variant>``): reductions ``sum`` and ``none``, an element mask, a ``(B,)`` weight."""
    from regloss import losses

    rng = np.random.default_rng(1)
    mask = rng.random(a.shape) < MASK_FRACTION
    weight = rng.random(a.shape[0], dtype=np.float32)
    axis = {"axis": -1} if name in ("dice", "tversky") else {}
    loss = getattr(losses, cls)
    variants = {
        "sum": (loss(reduction="sum"), {}),
        "none": (loss(reduction="none"), {}),
        "mask": (loss(), {"mask": mask}),
        "weights": (loss(**axis), {"sample_weight": weight}),
    }
    if axis:  # the scalar reference of the weighted per-sample variant
        variants["axis"] = (loss(**axis), {})
    tiers = [("class", "numpy")] + ([("numba", "numba")] if numba and name in NUMBA_LOSSES else [])
    for column, path in tiers:
        for variant, (instance, keywords) in variants.items():
            candidates[f"{name}/{column} {variant}"] = with_path(
                path, lambda i=instance, k=keywords: i(a, b, **k)
            )


def ufunc_candidates(a):
    """NumPy's SIMD ``log``, ``exp`` and ``log1p`` over the large input (into a preallocated
    buffer, one thread): the throughput that bounds MSLE (two logs per element) and LogCosh (one
    exp and one log1p per element)."""
    buffer = np.empty_like(a)
    positive = a + np.float32(1.0)
    return {
        "ufunc/log": lambda: np.log(positive, out=buffer),
        "ufunc/exp": lambda: np.exp(-a, out=buffer),
        "ufunc/log1p": lambda: np.log1p(a, out=buffer),
        "ufunc/write": lambda: buffer[: a.shape[0]].fill(1.0),
    }


def median_of(times, key):
    return median_iqr(times.get(key, []))[0]


def variant_time(times, name, tier, variant):
    """The median of a loss's variant on a tier (``numba`` falls back to the blocked tier where
    the loss has no numba kernel); the default reduction is the plain ``class``/``numba`` call."""
    column = "class" if tier == "numpy" or name not in NUMBA_LOSSES else "numba"
    key = f"{name}/{column}" if variant == "sum_over_batch_size" else f"{name}/{column} {variant}"
    return median_of(times, key)


def tier_table(times, floor):
    """The loss x tier x reduction table as Markdown (docs/performance.md takes it as printed):
    median ms and, in parentheses, the ratio to the floor."""
    print("\nloss x tier x reduction, large (100000, 100) float32: median ms (x floor); Markdown")
    print("| loss | tier | " + " | ".join(REDUCTION_COLUMNS) + " |")
    print("|---|---|" + "---|" * len(REDUCTION_COLUMNS))
    for name in LOSSES:
        for tier in ("numba", "numpy"):
            cells = []
            for variant in REDUCTION_COLUMNS:
                value = variant_time(times, name, tier, variant)
                cells.append(f"{value * 1e3:.3g} ({value / floor:.2f}x)" if value and floor else "-")
            print(f"| {SHORT[name]} | {tier} | " + " | ".join(cells) + " |")


def issue25_verdicts(times, floor):
    """Every large target of issue 25 with its measured ratio and verdict."""
    print("\ntargets of issue 25 (large, best tier unless named):")
    write = median_of(times, "ufunc/write") or 0.0
    for name in ("cosine_similarity", "dice", "tversky"):
        if name not in LOSSES:  # --only
            continue
        best = best_tier(name, times, True)[0]
        print(verdict_line(SHORT[name], "within 1.5x of the floor", best, floor, "floor", 1.5))
        print(
            verdict_line(SHORT[name], "ahead of jax.jit", best, median_of(times, f"{name}/jax"), "jax", 1.0)
        )
    for name in LOSSES:
        plain = variant_time(times, name, "numba", "sum_over_batch_size")
        masked = variant_time(times, name, "numba", "mask")
        print(
            verdict_line(
                SHORT[name], "with an element mask within 1.3x of without", masked, plain, "no mask", 1.3
            )
        )
    for name in ("mean_squared_logarithmic_error", "log_cosh"):
        if name not in LOSSES:  # --only
            continue
        plain = variant_time(times, name, "numba", "sum_over_batch_size")
        weighted = variant_time(times, name, "numba", "weights")
        print(
            verdict_line(
                SHORT[name], "with (B,) weights within 1.2x of without", weighted, plain, "unweighted", 1.2
            )
        )
    for name in LOSSES:
        for variant in ("sum", "none", "weights"):
            # a weighted Dice/Tversky reduces over the last axis: its scalar is that of axis=-1
            reference = (
                "axis" if variant == "weights" and name in ("dice", "tversky") else "sum_over_batch_size"
            )
            scalar = variant_time(times, name, "numba", reference)
            value = variant_time(times, name, "numba", variant)
            if value is None or scalar is None:
                continue
            allowance = 1.2 * scalar + (write if variant in ("none",) else 0.0)
            print(
                verdict_line(
                    SHORT[name],
                    f"reduction {variant} within 1.2x of the scalar (+ write)",
                    value,
                    allowance / 1.2,
                    "scalar",
                    1.2,
                )
            )
    huber, torch_huber = median_of(times, "huber/class"), median_of(times, "huber/torch")
    print(
        verdict_line(
            "Huber", "blocked NumPy tier ahead of torch (2 threads)", huber, torch_huber, "torch", 1.0
        )
    )
    log, exp, log1p = (median_of(times, f"ufunc/{u}") for u in ("log", "exp", "log1p"))
    if log and exp and log1p:
        from regloss import config

        threads = config.num_threads()
        size = LARGE[0] * LARGE[1]
        print(
            f"\nNumPy SIMD per element, one thread: log {log / size * 1e9:.2f} ns, "
            f"exp {exp / size * 1e9:.2f} ns, log1p {log1p / size * 1e9:.2f} ns; fused threads {threads}"
        )
        for name, limit in (("mean_squared_logarithmic_error", 2 * log), ("log_cosh", exp + log1p)):
            if name not in LOSSES:  # --only
                continue
            kernel = best_tier(name, times, True)[0]
            bound = limit / threads
            print(
                f"  {SHORT[name]:8} transcendental limit {bound * 1e3:.3g} ms ({bound / floor:.2f}x floor)"
                f" on {threads} threads; kernel {kernel * 1e3:.3g} ms = {kernel / bound:.2f}x that limit"
            )


def issue25_small_verdicts(times):
    """Small (32, 10): every loss class within 2x of its bare NumPy expression; cosine, Dice and
    Tversky under 12 us."""
    print("\ntargets of issue 25 (small):")
    for name in LOSSES:
        mine, bare = median_of(times, f"{name}/class"), median_of(times, f"{name}/numpy")
        print(
            verdict_line(
                SHORT[name], "class within 2x of the bare NumPy expression", mine, bare, "numpy", 2.0
            )
        )
    for name in ("cosine_similarity", "dice", "tversky"):
        mine = median_of(times, f"{name}/class")
        if mine:
            verdict = "holds" if mine < 12e-6 else "MISSED"
            print(f"  {SHORT[name]:8} class under 12 us: {mine * 1e6:.1f} us -> {verdict}")


def best_tier(name, times, large):
    """``(median, tier)`` of the faster tier of the class call (numba only where it has a kernel)."""
    blocked_time, _ = median_iqr(times[f"{name}/class"])
    numba_time, _ = median_iqr(times.get(f"{name}/numba", []))
    if large and name in NUMBA_LOSSES and numba_time and numba_time < blocked_time:
        return numba_time, "numba"
    return blocked_time, "numpy"


BLOCKED_TARGETS = (
    # the same, for the blocked NumPy tier (the class call under accelerator="numpy")
    (("mean_squared_error",), "floor", 3.0, "within 3x of the floor"),
    (("mean_absolute_error",), "floor", 4.0, "within 4x of the floor"),
    (tuple(LOSSES), "numpy", 1.0, "faster than the plain NumPy formula"),
    (tuple(LOSSES), "torch", 1.0, "faster than torch (2 threads)"),
)

SMALL_TARGETS = (
    # (candidate, peer, limit, what) for the (32, 10) call of MSE
    (
        "mean_squared_error/class",
        "mean_squared_error/numpy",
        2.0,
        "class call within 2x of np.mean(np.square(a - b))",
    ),
    (
        "mean_squared_error/functional",
        "mean_squared_error/numpy per sample",
        1.3,
        "functional within 1.3x of np.mean(np.square(a - b), axis=-1)",
    ),
)


def verdict_line(label, what, mine, other, peer, limit):
    if not mine or not other:
        return f"  {label:8} {what}: no {peer} timing"
    ratio = mine / other
    return f"  {label:8} {what}: {ratio:.2f}x of {peer} -> {'holds' if ratio <= limit else 'MISSED'}"


def verdicts(times, floor):
    """The large-input targets of issue 11 for the best tier and for the blocked NumPy tier, each
    with its measured ratio."""
    for title, targets, tier_time in (
        ("best tier", TARGETS, lambda name: best_tier(name, times, True)[0]),
        ("blocked NumPy tier", BLOCKED_TARGETS, lambda name: median_iqr(times[f"{name}/class"])[0]),
    ):
        print(f"\ntargets (large, {title}):")
        for names, peer, limit, what in targets:
            for name in names:
                if name not in LOSSES:  # --only
                    continue
                other = floor if peer == "floor" else median_iqr(times.get(f"{name}/{peer}", []))[0]
                print(verdict_line(SHORT[name], what, tier_time(name), other, peer, limit))


def small_verdicts(times):
    """The (32, 10) targets of issue 11 (blocked tier: small calls never take numba)."""
    print("\ntargets (small):")
    for candidate, peer, limit, what in SMALL_TARGETS:
        mine, other = median_iqr(times.get(candidate, []))[0], median_iqr(times.get(peer, []))[0]
        print(verdict_line("MSE", what, mine, other, peer.split("/")[1], limit))


def report(label, a, b, times, candidates, large):
    from regloss import config

    unit, scale = ("ms", 1e3) if large else ("us", 1e6)
    floor, floor_iqr = median_iqr(times.get("floor", []))
    print(f"\n== {label} {a.shape} float32: median [IQR] in {unit}", end="")
    print(
        f"; floor torch.sum(a) + torch.sum(b): {floor * scale:.3g} [{floor_iqr * scale:.2g}]" if floor else ""
    )
    columns = ["class", "numba", "functional", "generic", "numpy", "numpy per sample", "torch", "jax"]
    columns.append("keras")
    print(f"{'loss':8}" + "".join(f"{c:>17}" for c in columns))
    for name in LOSSES:
        cells = []
        for column in columns:
            median, iqr = median_iqr(times.get(f"{name}/{column}", []))
            cells.append(f"{median * scale:9.3g} [{iqr * scale:.2g}]" if median else "-")
        print(f"{SHORT[name]:8}" + "".join(f"{cell:>17}" for cell in cells))

    print(
        f"\nratios ({label}): regloss class, best tier (numba or blocked NumPy) / X (below 1: regloss "
        "faster); blocked tier / floor; functional / numpy per sample"
    )
    peers = ["floor", "numpy", "torch", "jax", "keras", "generic"]
    print(
        f"{'loss':8}{'best':>7}"
        + "".join(f"{'best/' + p:>13}" for p in peers)
        + f"{'blocked/floor':>14}{'func/np-per-s':>15}"
    )
    for name in LOSSES:
        blocked_time, _ = median_iqr(times[f"{name}/class"])
        mine, best = best_tier(name, times, large)
        cells = []
        for peer in peers:
            other, _ = median_iqr(times.get("floor" if peer == "floor" else f"{name}/{peer}", []))
            cells.append(f"{mine / other:13.2f}" if other else f"{'-':>13}")
        cells.append(f"{blocked_time / floor:14.2f}" if floor else f"{'-':>14}")
        functional, _ = median_iqr(times.get(f"{name}/functional", []))
        per_sample, _ = median_iqr(times.get(f"{name}/numpy per sample", []))
        cells.append(f"{functional / per_sample:15.2f}" if functional and per_sample else f"{'-':>15}")
        print(f"{SHORT[name]:8}{best:>7}" + "".join(cells))
    if large and floor:
        verdicts(times, floor)
        issue25_verdicts(times, floor)
        tier_table(times, floor)
    if not large:
        small_verdicts(times)
        issue25_small_verdicts(times)

    if not large:
        return
    print("\naccuracy (relative error of the scalar against an exact float64 reference) and tracemalloc peak")
    print(
        f"{'loss':8}{'fused f64':>11}{'class':>11}{'numba':>11}{'generic':>11}{'numpy':>11}{'torch':>11}"
        f"{'jax':>11}"
        f"{'peak class':>13}{'numba':>13}{'generic':>11}{'numpy':>11}"
    )
    import regloss

    for name in LOSSES:
        exact = exact_reference(name, a, b)
        # the fused path's float64 value, before the result is rounded to float32
        instance = getattr(regloss.losses, LOSSES[name])()
        config.set_accelerator("numpy")
        before_rounding = regloss.kernels.evaluate(
            instance.formula, instance._params, a, b, None, None, "sum_over_batch_size", "float64"
        )
        errors = [f"{abs(float(before_rounding) - exact) / abs(exact):11.1e}"]
        for column in ("class", "numba", "generic", "numpy", "torch", "jax"):
            function = candidates.get(f"{name}/{column}")
            if function is None:
                errors.append(f"{'-':>11}")
                continue
            value = float(np.asarray(function()))
            errors.append(f"{abs(value - exact) / abs(exact):11.1e}")
        peaks = [
            peak_bytes(candidates[f"{name}/{column}"]) / (a.nbytes + b.nbytes)
            if f"{name}/{column}" in candidates
            else None
            for column in ("class", "numba", "generic", "numpy")
        ]
        cells = [
            f"{'-':>12} " if peak is None else f"{peak:12.2%} " if i < 2 else f"{peak:10.0%} "
            for i, peak in enumerate(peaks)
        ]
        print(f"{SHORT[name]:8}" + "".join(errors) + "".join(cells))
    config.set_accelerator(None)
    print(
        "(peaks are fractions of the inputs' bytes; torch and JAX allocations are invisible to tracemalloc)"
    )


if __name__ == "__main__":
    main()
