"""Differential tests: ``regloss.compat`` against TensorFlow itself (``tensorflow-cpu==2.21.0``).

TensorFlow runs in ONE subprocess for the whole module (``tests/tf_oracle_worker.py``), in graph
mode (a fresh graph per case, as TensorFlow's own TF1 tests run). The Python is the current one
when it can import ``tensorflow``, else the one named by ``REGLOSS_TF_PYTHON``; with neither the
module is skipped. Set up the oracle once (about a minute, 1.3 GB), beside the project's venv:

    python3 -m venv /path/venv-tf && /path/venv-tf/bin/pip install -c constraints.txt tensorflow-cpu numpy
    REGLOSS_TF_PYTHON=/path/venv-tf/bin/python python -m pytest tests/test_compat_tf_oracle.py

Cases are generated deterministically: random shapes of rank 0 to 4 (empty dimensions included),
weights of every allowed shape (scalar, full, every pattern of 1s, with zeros and negatives),
every reduction, several dtypes; and bad inputs, compared by exception type (TensorFlow's
``InvalidArgumentError`` counts as ``ValueError`` here).
"""

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from regloss.compat import keras2
from regloss.compat.v1 import losses as v1
from tests._helpers import to_numpy

WORKER = Path(__file__).with_name("tf_oracle_worker.py")
SEED = 20240612
REDUCTIONS = [
    "none",
    "weighted_sum",
    "weighted_mean",
    "weighted_sum_over_batch_size",
    "weighted_sum_by_nonzero_weights",
    None,  # the default
]
ELEMENTWISE = ["mean_squared_error", "absolute_difference", "huber_loss", "log_loss"]
ERROR_TYPES = {"InvalidArgumentError": "ValueError"}


def _tf_python():
    if importlib.util.find_spec("tensorflow") is not None:
        return sys.executable
    return os.environ.get("REGLOSS_TF_PYTHON")


TF_PYTHON = _tf_python()
if not TF_PYTHON:
    reason = (
        "TensorFlow oracle skipped: tensorflow is not importable here and REGLOSS_TF_PYTHON is not "
        "set (see the module docstring of tests/test_compat_tf_oracle.py for the set-up command)"
    )
    print(reason)
    pytest.skip(reason, allow_module_level=True)


# ------------------------------------------------------------------------------ case generation


class Cases:
    """Collects cases and their arrays for the worker."""

    def __init__(self):
        self.cases, self.arrays = [], {}

    def add(self, function, kwargs, mode="graph", tag=""):
        case_id = f"{len(self.cases):04d}-{function}-{tag}"
        encoded = {}
        for key, value in kwargs.items():
            if isinstance(value, np.generic):
                value = np.asarray(value)
            if isinstance(value, np.ndarray):
                name = f"{case_id}-{key}"
                self.arrays[name] = value
                encoded[key] = {"array": name}
            else:
                encoded[key] = value
        self.cases.append({"id": case_id, "function": function, "kwargs": encoded, "mode": mode})


def _shape(rng, rank, allow_empty=True):
    dims = rng.integers(1, 5, size=rank)
    if allow_empty and rank and rng.random() < 0.08:
        dims[rng.integers(rank)] = 0
    return tuple(int(d) for d in dims)


def _weights_variants(rng, shape):
    """(tag, weights) of every allowed kind for losses of ``shape``; ``None`` means 'omit'."""
    variants = [("default", None), ("scalar", np.float32(rng.uniform(0.1, 2.0))), ("zero", 0.0)]
    if shape:
        full = rng.uniform(0.0, 2.0, size=shape).astype(np.float32)
        full[rng.random(shape) < 0.3] = 0.0
        variants.append(("full", full))
        for ones in itertools.product([False, True], repeat=len(shape)):
            if any(ones) and rng.random() < 0.6:
                wshape = tuple(1 if one else d for one, d in zip(ones, shape, strict=True))
                weights = rng.uniform(-0.5, 2.0, size=wshape)
                weights[rng.random(wshape) < 0.3] = 0.0
                variants.append(("ones" + "".join("1" if one else "d" for one in ones), weights))
    return variants


def _data(rng, function, shape, dtype="float32"):
    if function == "log_loss":
        labels = (rng.random(shape) < 0.5).astype(np.float32)
        predictions = rng.uniform(0.0, 1.0, size=shape).astype(np.float32)
    else:
        labels = rng.normal(size=shape).astype(np.float32)
        predictions = rng.normal(size=shape).astype(np.float32)
    if dtype == "float64":
        labels, predictions = labels.astype(np.float64), predictions.astype(np.float64)
    elif dtype == "int64":
        labels = np.round(labels * 3).astype(np.int64)
        predictions = np.round(predictions * 3).astype(np.int64)
    elif dtype == "bool":
        labels = labels > 0.5
    return labels, predictions


def _some_reductions(rng, function):
    """Two random reductions (all of them over the cases of a function); the pairwise loss has none."""
    if function == "mean_pairwise_squared_error":
        return [None]
    return [REDUCTIONS[i] for i in rng.choice(len(REDUCTIONS), size=2, replace=False)]


def _build_cases():
    rng = np.random.default_rng(SEED)
    cases = Cases()
    for function in [*ELEMENTWISE, "cosine_distance", "mean_pairwise_squared_error"]:
        for rank in range(5):
            if rank == 0 and function in ("cosine_distance", "mean_pairwise_squared_error"):
                continue
            for _ in range(2):
                shape = _shape(rng, rank)
                dtype = rng.choice(["float32", "float32", "float64", "int64", "bool"])
                if dtype == "bool" and function != "log_loss":
                    dtype = "float32"
                labels, predictions = _data(rng, function, shape, dtype)
                extra, loss_shape = {}, shape
                if function == "huber_loss":
                    extra["delta"] = float(rng.choice([1.0, 0.5, 2.5]))
                if function == "cosine_distance":
                    axis = int(rng.integers(-rank, rank))
                    extra["axis"] = axis
                    loss_shape = tuple(1 if i == axis % rank else d for i, d in enumerate(shape))
                if rng.random() < 0.3:
                    extra["scope"] = "my_scope"
                for tag, weights in _weights_variants(rng, loss_shape):
                    for reduction in _some_reductions(rng, function):
                        kwargs = {"labels": labels, "predictions": predictions, **extra}
                        if weights is not None:
                            kwargs["weights"] = weights
                        if reduction is not None:
                            kwargs["reduction"] = reduction
                        cases.add(function, kwargs, tag=f"r{rank}-{tag}-{reduction}")
    # compute_weighted_loss on several dtypes
    for rank in range(4):
        shape = _shape(rng, rank)
        for dtype in ["float32", "float64", "int64", "int32"]:
            losses = (rng.normal(size=shape) * 4).astype(dtype)
            if dtype.startswith("int"):  # exact sums: no rounding before the truncation
                losses = np.round(losses)
            for tag, weights in _weights_variants(rng, shape):
                if dtype.startswith("int") and isinstance(weights, np.ndarray):
                    weights = np.round(weights * 4) / 4
                for reduction in _some_reductions(rng, "compute_weighted_loss"):
                    kwargs = {"losses": losses}
                    if weights is not None:
                        kwargs["weights"] = weights
                    if reduction is not None:
                        kwargs["reduction"] = reduction
                    cases.add("compute_weighted_loss", kwargs, tag=f"{dtype}-{tag}-{reduction}")
    _error_cases(rng, cases)
    _average_loss_cases(rng, cases)
    # the eager-mode difference of the pairwise loss (documented, not reproduced)
    labels, predictions = _data(rng, "mean_pairwise_squared_error", (2, 3))
    for weights in (1.0, np.asarray([[1.0], [1.0]], dtype=np.float32)):
        kwargs = {"labels": labels, "predictions": predictions, "weights": weights}
        tag = "scalar" if isinstance(weights, float) else "column"
        cases.add("mean_pairwise_squared_error", kwargs, mode="eager", tag=f"eager-{tag}")
    return cases


def _error_cases(rng, cases):
    shape = (3, 2)
    labels, predictions = _data(rng, "mean_squared_error", shape)
    bad = [
        ("weights-rank-lower", {"weights": np.ones(3, np.float32)}),
        ("weights-rank-lower-last", {"weights": np.ones(2, np.float32)}),
        ("weights-rank-higher", {"weights": np.ones((3, 2, 1), np.float32)}),
        ("weights-dim", {"weights": np.ones((2, 2), np.float32)}),
        ("weights-dim-last", {"weights": np.ones((3, 3), np.float32)}),
        ("weights-none", {"weights": None}),
        ("reduction-keras", {"reduction": "sum_over_batch_size"}),
        ("reduction-auto", {"reduction": "auto"}),
        ("reduction-sum", {"reduction": "sum"}),
        ("reduction-mean", {"reduction": "mean"}),
        ("reduction-bogus", {"reduction": "bogus"}),
        ("predictions-transposed", {"predictions": predictions.T.copy()}),
        ("predictions-squeezed", {"predictions": predictions[:, :1].copy(), "labels": labels[:, 0].copy()}),
        ("labels-none", {"labels": None}),
        ("predictions-none", {"predictions": None}),
    ]
    for function in [*ELEMENTWISE, "mean_pairwise_squared_error"]:
        for tag, change in bad:
            if function == "mean_pairwise_squared_error" and "reduction" in change:
                continue
            kwargs = {"labels": labels, "predictions": predictions, **change}
            if function == "log_loss" and kwargs["predictions"] is not None:
                kwargs["predictions"] = np.abs(kwargs["predictions"])
            cases.add(function, kwargs, tag=f"error-{tag}")
    cosine = {"labels": labels, "predictions": predictions}
    cases.add("cosine_distance", cosine, tag="error-no-axis")
    cases.add("cosine_distance", {**cosine, "axis": 1, "dim": 1}, tag="error-axis-and-dim")
    cases.add("cosine_distance", {**cosine, "dim": 1}, tag="dim")
    full = np.ones(shape, np.float32)
    cases.add("cosine_distance", {**cosine, "axis": 1, "weights": full}, tag="error-full")
    lower = np.ones(3, np.float32)
    cases.add("compute_weighted_loss", {"losses": labels, "weights": lower}, tag="error-rank")
    cases.add("compute_weighted_loss", {"losses": labels, "reduction": "mean"}, tag="error-reduction")


def _average_loss_cases(rng, cases):
    for rank in (1, 2, 3):
        shape = _shape(rng, rank, allow_empty=False)
        losses = rng.uniform(0, 3, size=shape).astype(np.float32)
        weight_options = [None, np.float32(0.5), rng.uniform(0, 2, size=shape).astype(np.float32)]
        weight_options.append(rng.uniform(0, 2, size=shape[:1]).astype(np.float32))
        weight_options.append(rng.uniform(0, 2, size=(*shape, 1)).astype(np.float32))
        for weights, gbs in itertools.product(weight_options, [None, 7, 0]):
            kwargs = {"per_example_loss": losses}
            if weights is not None:
                kwargs["sample_weight"] = weights
            if gbs is not None:
                kwargs["global_batch_size"] = gbs
            cases.add("compute_average_loss", kwargs, tag=f"r{rank}")
    ints = np.asarray([1, 2, 3, 4, 5], dtype=np.int32)
    cases.add("compute_average_loss", {"per_example_loss": ints, "global_batch_size": 10}, tag="int")
    scalar = np.float32(2.0)
    cases.add("compute_average_loss", {"per_example_loss": scalar}, tag="error-rank0")
    floats = np.ones(4, np.float32)
    for tag, change in [("float", {"global_batch_size": 4.0}), ("neg", {"global_batch_size": -1})]:
        cases.add("compute_average_loss", {"per_example_loss": floats, **change}, tag=f"error-{tag}")
    three = np.ones(3)
    cases.add("compute_average_loss", {"per_example_loss": floats, "sample_weight": three}, tag="error-w")


CASES = _build_cases()


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """Run every case through TensorFlow once; ``{id: (meta, value)}``."""
    folder = tmp_path_factory.mktemp("tf_oracle")
    request, arrays = folder / "request.json", folder / "arrays.npz"
    out_json, out_npz = folder / "out.json", folder / "out.npz"
    request.write_text(json.dumps({"cases": CASES.cases}))
    np.savez(arrays, **CASES.arrays)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [TF_PYTHON, str(WORKER), str(request), str(arrays), str(out_json), str(out_npz)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"TensorFlow worker failed:\n{done.stderr[-3000:]}")
    answer = json.loads(out_json.read_text())
    if answer["status"] != "ok":
        pytest.skip(answer["reason"])
    values = dict(np.load(out_npz))
    return {case_id: (meta, values.get(case_id)) for case_id, meta in answer["cases"].items()}


def _ours(function, kwargs, xp):
    converted = {
        key: xp.asarray(value) if isinstance(value, np.ndarray) else value for key, value in kwargs.items()
    }
    if function == "compute_average_loss":
        return keras2.compute_average_loss(**converted)
    return getattr(v1, function)(**converted)


def _decode(case):
    return {
        key: CASES.arrays[value["array"]] if isinstance(value, dict) else value
        for key, value in case["kwargs"].items()
    }


def _compare(oracle, xp, functions, record):
    failures = []
    # every case on NumPy and array-api-strict; every 5th elsewhere (dask is slow per call)
    stride = 1 if xp.__name__.split(".")[-1] in ("numpy", "array_api_strict") else 5
    for case in CASES.cases[::stride]:
        if case["function"] not in functions or case["mode"] != "graph":
            continue
        meta, expected = oracle[case["id"]]
        kwargs = _decode(case)
        try:
            with v1.collect() as collection:
                got = _ours(case["function"], kwargs, xp)
        except Exception as error:  # compared by type with TensorFlow's
            if meta["error"] is None:
                failures.append(f"{case['id']}: regloss raised {error!r}, TF gave {expected}")
            elif ERROR_TYPES.get(meta["error"][0], meta["error"][0]) != type(error).__name__:
                failures.append(f"{case['id']}: regloss raised {error!r}, TF raised {meta['error']}")
            record["errors"] += 1
            continue
        if meta["error"] is not None:
            failures.append(f"{case['id']}: TF raised {meta['error']}, regloss gave {got!r}")
            continue
        got_np = to_numpy(got)
        if got_np.dtype.name != meta["dtype"] or list(got_np.shape) != meta["shape"]:
            failures.append(f"{case['id']}: dtype/shape {got_np.dtype}{got_np.shape} vs {meta}")
            continue
        difference = np.abs(got_np.astype(np.float64) - expected)
        scale = 1.0 + np.abs(expected)
        with np.errstate(invalid="ignore"):
            bad = ~((difference <= 2e-5 * scale) | (np.isnan(expected) & np.isnan(got_np.astype(float))))
        if bad.any():
            largest = difference.max()
            failures.append(f"{case['id']}: max difference {largest} (TF {expected}, regloss {got_np})")
        if expected.size:
            finite = np.isfinite(difference)
            record["max_abs"] = max(record["max_abs"], float(difference[finite].max(initial=0.0)))
            record["max_rel"] = max(record["max_rel"], float((difference / scale)[finite].max(initial=0.0)))
        if meta["names"] is not None and meta["dtype"] == "float32":
            names = [name.removesuffix(":0") for name in meta["names"]]
            ours = [name for name, _ in collection.entries()]
            if names != ours:
                failures.append(f"{case['id']}: collection names {ours} vs TF {names}")
        record["values"] += 1
    return failures


@pytest.mark.parametrize(
    "functions",
    [
        ELEMENTWISE,
        ["cosine_distance"],
        ["mean_pairwise_squared_error"],
        ["compute_weighted_loss"],
        ["compute_average_loss"],
    ],
    ids=["elementwise", "cosine", "pairwise", "compute_weighted_loss", "compute_average_loss"],
)
def test_agrees_with_tensorflow(oracle, xp, functions):
    record = {"values": 0, "errors": 0, "max_abs": 0.0, "max_rel": 0.0}
    failures = _compare(oracle, xp, functions, record)
    print(f"{xp.__name__} {functions}: {record}")
    assert not failures, "\n".join(failures[:20]) + f"\n({len(failures)} failures)"
    assert record["values"] > 0


def test_pairwise_eager_mode_differs_with_scalar_weights(oracle):
    """TF 2.x eager counts the whole batch with a scalar weight; regloss keeps graph semantics."""
    eager = {case["id"]: case for case in CASES.cases if case["mode"] == "eager"}
    for case_id, case in eager.items():
        meta, expected = oracle[case_id]
        got = np.asarray(v1.mean_pairwise_squared_error(**_decode(case)))
        if case_id.endswith("scalar"):
            assert not np.isclose(got, expected, rtol=1e-3)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_oracle_covers_every_function(oracle):
    functions = {case["function"] for case in CASES.cases}
    assert functions == {*ELEMENTWISE, "cosine_distance", "mean_pairwise_squared_error"} | {
        "compute_weighted_loss",
        "compute_average_loss",
    }
    print(f"{len(CASES.cases)} TensorFlow cases")
