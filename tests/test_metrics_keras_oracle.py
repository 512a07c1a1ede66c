"""Differential tests: the streaming metrics of ``regloss.metrics`` against ``keras.metrics`` 3.15.1.

Keras runs in ONE subprocess for the module (``tests/keras_metrics_worker.py``, ``KERAS_BACKEND=numpy``,
a private ``KERAS_HOME``): every stream of batches is generated here, deterministically, written to
an ``.npz`` file plus a JSON request, and the worker returns Keras's ``result()`` after every batch.
Keras is never imported in this process.

Every stream is checked three ways, after every batch:

* Keras against the independent float64 reference of :mod:`tests.metrics_reference` (rtol ~1e-5:
  Keras computes in float32), which checks the reference's reading of Keras's rules;
* regloss (float32 inputs, the default float32 result) against Keras, at the same tolerance;
* regloss with ``dtype="float64"`` on the same inputs as float64 against the reference at 1e-12.

Keras has no Huber metric: its streams are checked against the reference only.  The documented
differences from Keras each have a test of their own (``test_difference_*``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None:
    pytest.skip("the Keras metric oracle needs keras==3.15.1", allow_module_level=True)

import regloss.metrics as rm  # noqa: E402
from tests._cases import BY_METRIC, METRIC_CLASS_NAMES, SKLEARN_METRIC_CLASSES  # noqa: E402
from tests._helpers import to_numpy  # noqa: E402
from tests.metrics_reference import (  # noqa: E402
    per_sample_values,
    r2_amplification,
    ref_mean_metric,
    ref_r2,
)

KERAS_VERSION = "3.15.1"
WORKER = Path(__file__).with_name("keras_metrics_worker.py")
SEED = 20250612

RTOL32, ATOL32 = 1e-5, 1e-6  # Keras (float32 throughout) and regloss's float32 result
RTOL64, ATOL64 = 1e-12, 1e-13  # regloss dtype="float64" against the float64 reference

# regloss class name -> the same metric in keras.metrics (None: Keras has none), for every metric
# of the test table but the two correlations: their Keras oracle is tests/test_correlation.py
# (keras_correlation_worker.py), and the 1-D streams here would give them rows of one value, which
# have no correlation.
_NOT_IN_KERAS = {"Huber"}  # Keras 3.15.1 has no Huber metric
_OWN_ORACLE = {"PearsonCorrelation", "ConcordanceCorrelation"}
_OWN_ORACLE |= {"PearsonCorrCoef", "ConcordanceCorrCoef"}  # torchmetrics's: tests/test_corrcoef.py
_OWN_ORACLE |= set(SKLEARN_METRIC_CLASSES)  # scikit-learn's: tests/test_sklearn_metrics.py
KERAS_NAME = {
    name: None if name in _NOT_IN_KERAS else name for name in METRIC_CLASS_NAMES if name not in _OWN_ORACLE
}
# the kind of data each metric is streamed (default "real"): its loss's domain, MAPE's targets
# away from 0, R2's correlated columns
DATA_KIND = {
    **{metric: case.domain for metric, case in BY_METRIC.items() if case.domain != "real"},
    "MeanAbsolutePercentageError": "mape",
    "R2Score": "r2",
}

# ----------------------------------------------------------------------------------------------
# Deterministic stream generation (NumPy only).
# ----------------------------------------------------------------------------------------------

ARRAYS: dict[str, np.ndarray] = {}
STREAMS: list[dict] = []  # everything regloss and the reference need
_rng = np.random.default_rng(SEED)


def _store(array) -> str:
    key = f"a{len(ARRAYS)}"
    ARRAYS[key] = array
    return key


def _data(kind, shape):
    """A float32 (y_true, y_pred) pair of ``shape`` suited to the metric."""
    if kind == "mape":  # |y_true| well away from 0
        y_true = _rng.choice([-1.0, 1.0], size=shape) * _rng.uniform(0.5, 2.0, size=shape)
        y_pred = y_true + _rng.normal(0.0, 0.5, size=shape)
    elif kind == "positive":  # counts and positive rates
        y_true, y_pred = _rng.poisson(2.0, size=shape).astype(np.float64), _rng.uniform(0.1, 4.0, size=shape)
    elif kind == "r2":  # correlated columns with different variances
        scale = _rng.uniform(0.5, 2.0, size=shape[-1:])
        y_true = 0.5 + scale * _rng.normal(size=shape)
        y_pred = y_true + _rng.normal(0.0, 0.6, size=shape) * scale
    else:
        y_true, y_pred = _rng.normal(size=shape), _rng.normal(size=shape)
    return y_true.astype(np.float32), y_pred.astype(np.float32)


def _mask(shape):
    mask = _rng.uniform(size=shape) > 0.3
    mask.reshape(-1)[0] = True  # at least one sample present
    if mask.size > 1:
        mask.reshape(-1)[-1] = False  # and one absent
    return mask


def _batch(kind, shape, values_shape, *, weight=False, mask=False, zero=None):
    y_true, y_pred = _data(kind, shape)
    sw = None
    if weight:
        sw = _rng.uniform(0.0, 2.0, size=shape[:1]).astype(np.float32)
        if zero == "all":
            sw[:] = 0.0
        elif zero == "some":
            sw[::2] = 0.0
    return {
        "yt": y_true,
        "yp": y_pred,
        "sw": sw,
        "mask": _mask(values_shape) if mask else None,
    }


def _values_shape(metric, shape, kwargs):
    if metric == "R2Score":
        return shape[:1]
    axis = kwargs.get("axis", -1) % len(shape)
    return tuple(d for i, d in enumerate(shape) if i != axis)


def _mean_stream(metric, kwargs, shapes, variant):
    """Four batches; ``variant``: "plain", "mixed" (none / weight / mask / both, shuffled) or
    "zeros" (weights, some zero, one batch all zero)."""
    kind = DATA_KIND.get(metric, "real")
    if variant == "plain":
        flags = [(False, False, None)] * len(shapes)
    elif variant == "mixed":
        flags = [(False, False, None), (True, False, None), (False, True, None), (True, True, None)]
        flags = [flags[i] for i in _rng.permutation(len(flags))]
    elif variant == "zeros":
        flags = [(True, False, "some"), (True, False, "all"), (False, False, None), (True, True, "some")]
    elif variant == "all_zero":
        flags = [(True, False, "all")] * len(shapes)
    else:
        raise ValueError(variant)
    return [
        _batch(kind, shape, _values_shape(metric, shape, kwargs), weight=w, mask=m, zero=z)
        for shape, (w, m, z) in zip(shapes, flags, strict=True)
    ]


SHAPES_2D = [(5, 3), (3, 3), (8, 3), (1, 3)]
SHAPES_3D = [(5, 4, 3), (3, 4, 3), (2, 4, 3), (6, 4, 3)]  # no batch of 4 = T (see the difference test)


def _add(sid, metric, kwargs, batches, *, keras_kwargs=None, keras_batches=None, keras=True):
    STREAMS.append(
        {
            "id": sid,
            "metric": metric,
            "kwargs": kwargs,
            "batches": batches,
            "keras_kwargs": kwargs if keras_kwargs is None else keras_kwargs,
            "keras_batches": keras_batches,
            "keras": keras and KERAS_NAME[metric] is not None,
        }
    )


def _keras_batches(metric, batches):
    """How each batch reaches Keras: y_pred carries the mask, except where Keras ignores a mask
    attached to y_pred (RootMeanSquaredError and R2Score are not ``MeanMetricWrapper``s) or cannot
    combine it with a (B,) weight (it multiplies them with trailing axes aligned): there the mask
    is folded into the weight by hand, or the weight is given repeated along the mask's axes."""
    out = []
    for b in batches:
        sw, mask = b["sw"], b["mask"]
        if mask is not None and metric in ("RootMeanSquaredError", "R2Score"):
            folded = mask.astype(np.float32)
            if sw is not None:
                folded = folded * sw.reshape(sw.shape + (1,) * (mask.ndim - 1))
            sw, mask = folded, None
        elif mask is not None and sw is not None and mask.ndim > 1:
            sw = np.ascontiguousarray(np.broadcast_to(sw[:, None], mask.shape))
        out.append({**b, "sw": sw, "mask": mask})
    return out


ONE_D_METRICS = [m for m in KERAS_NAME if m != "R2Score"]
# Keras's 1-D reading differs (RootMeanSquaredError's agrees: its values are the elements)
ONE_D_DIFFERENCES = [m for m in ONE_D_METRICS if KERAS_NAME[m] is not None and m != "RootMeanSquaredError"]


def _rmse_streams():
    """RootMeanSquaredError as Keras computes it: every element a value, weights of y_true's shape
    (issue 21, item 2); the issue's stream [1, 2, 3]/[1, 2, 5] then [0]/[1] (Keras: 1.1180)."""
    metric = "RootMeanSquaredError"

    def weighted(shape, weight_shape):
        y_true, y_pred = _data("real", shape)
        sw = None if weight_shape is None else _rng.uniform(0.0, 2.0, size=weight_shape).astype(np.float32)
        return {"yt": y_true, "yp": y_pred, "sw": sw, "mask": None}

    issue = [
        {"yt": np.array(v, np.float32), "yp": np.array(q, np.float32), "sw": None, "mask": None}
        for v, q in (([1, 2, 3], [1, 2, 5]), ([0], [1]))
    ]
    _add("RootMeanSquaredError-issue-1d", metric, {}, issue)
    layouts = {
        "2d-BD-weights": [weighted((b, 3), (b, 3)) for b in (5, 3, 8)],
        "2d-mixed-weights": [weighted((5, 3), (5, 3)), weighted((4, 3), (4,)), weighted((6, 3), None)],
        "2d-B1-weights": [weighted((b, 1), (b, 1)) for b in (5, 3, 8)],
        "3d-BTD-weights": [weighted((b, 4, 3), (b, 4, 3)) for b in (5, 3, 2)],
        "3d-BT-weights": [weighted((b, 4, 3), (b, 4)) for b in (5, 3, 2)],
        "1d-B-weights": [weighted((b,), (b,)) for b in (5, 3, 8)],
    }
    for layout, batches in layouts.items():
        if batches[-1]["sw"] is not None:
            batches[-1]["sw"].reshape(-1)[::2] = 0.0  # zero weights too
        _add(f"RootMeanSquaredError-{layout}", metric, {}, batches)


# Streams for the difference tests (Keras is expected to differ or to raise).
DIFFERENCES = {}


def _difference(sid, metric, kwargs, keras_batches, **extra):
    DIFFERENCES[sid] = {
        "id": sid,
        "metric": metric,
        "kwargs": kwargs,
        "keras_batches": keras_batches,
        **extra,
    }


def _generate():
    mean_metrics = [m for m in KERAS_NAME if m not in ("R2Score",)]
    for metric in mean_metrics:
        kwargs_list = [{}]
        if metric == "Huber":
            kwargs_list = [{"delta": 1.0}, {"delta": 0.5}]
        for kwargs in kwargs_list:
            for layout, shapes in (("2d", SHAPES_2D), ("3d", SHAPES_3D)):
                for variant in ("plain", "mixed", "zeros"):
                    sid = f"{metric}-{'-'.join(f'{k}{v}' for k, v in kwargs.items())}-{layout}-{variant}"
                    _add(sid, metric, kwargs, _mean_stream(metric, kwargs, shapes, variant))
    _add(
        "MeanSquaredError-all-zero",
        "MeanSquaredError",
        {},
        _mean_stream("MeanSquaredError", {}, SHAPES_2D[:2], "all_zero"),
    )
    # 1-D inputs: B samples of one output (regloss's rule; Keras takes one sample, the batch's mean:
    # test_difference_1d_batches_are_samples), and a scalar weight
    for metric in ONE_D_METRICS:
        batches = [_batch(DATA_KIND.get(metric, "real"), (b,), (b,)) for b in (5, 2, 7)]
        batches[1]["sw"] = np.asarray(2.5, dtype=np.float32)
        _add(f"{metric}-1d", metric, {}, batches, keras=metric == "RootMeanSquaredError")
        if metric in ONE_D_DIFFERENCES:
            _difference(f"{metric}-1d-keras", metric, {}, batches, batches=batches)
    # a scalar weight: the batch's mean value times w, counted as weight w (docs/metrics.md)
    for metric in ONE_D_METRICS:
        batches = [_batch(DATA_KIND.get(metric, "real"), shape, shape[:1]) for shape in SHAPES_2D]
        for b, weight in zip(batches, (2.5, None, 0.25, 4.0), strict=True):
            b["sw"] = None if weight is None else np.asarray(weight, dtype=np.float32)
        _add(f"{metric}-2d-scalar-weight", metric, {}, batches)
    _rmse_streams()
    # the cosine over another axis of 3-D inputs: per-sample values (B, D)
    _add("CosineSimilarity-axis1-3d-mixed", "CosineSimilarity", {"axis": 1},
         _mean_stream("CosineSimilarity", {"axis": 1}, SHAPES_3D, "mixed"))  # fmt: skip

    for aggregation in (None, "uniform_average", "variance_weighted_average"):
        for outputs in (1, 3):
            shapes = [(6, outputs), (4, outputs), (9, outputs), (2, outputs)]
            kwargs = {"class_aggregation": aggregation}
            for variant in ("plain", "mixed", "zeros"):
                batches = _mean_stream("R2Score", kwargs, shapes, variant)
                _add(f"R2Score-{aggregation}-{outputs}-{variant}", "R2Score", kwargs, batches)
    # adjusted R2 where Keras 3.15.1 agrees by construction: one output, no zero weight
    for aggregation in (None, "uniform_average", "variance_weighted_average"):
        kwargs = {"class_aggregation": aggregation, "num_regressors": 2}
        batches = [_batch("r2", (b, 1), (b,), weight=b % 2 == 0) for b in (6, 4, 9, 5)]
        for b in batches:
            if b["sw"] is not None:
                b["sw"] = b["sw"] + np.float32(0.5)
        _add(f"R2Score-adjusted-{aggregation}", "R2Score", kwargs, batches)
    # adjusted R2 where Keras 3.15.1 counts otherwise (3 outputs, zero weights, masks): the
    # reference only (test_difference_adjusted_r2_counts_rows_with_a_weight shows Keras's rule)
    for aggregation in (None, "uniform_average", "variance_weighted_average"):
        kwargs = {"class_aggregation": aggregation, "num_regressors": 3}
        for variant in ("mixed", "zeros"):
            batches = _mean_stream("R2Score", kwargs, [(6, 3), (4, 3), (9, 3), (2, 3)], variant)
            _add(f"R2Score-adjusted-{aggregation}-3-{variant}", "R2Score", kwargs, batches, keras=False)


_generate()
for _stream in STREAMS:
    if _stream["keras_batches"] is None:
        _stream["keras_batches"] = _keras_batches(_stream["metric"], _stream["batches"])

# the issue's stream: 10 errors of 1, then 1000 of 0 (the data set's MSE is 10 / 1010; Keras 0.5)
_b = [
    {"yt": np.ones(n, np.float32) * e, "yp": np.zeros(n, np.float32), "sw": None, "mask": None}
    for n, e in ((10, 1.0), (1000, 0.0))
]
for _metric in ("MeanSquaredError", "MeanAbsoluteError"):
    _difference(f"{_metric}-issue-1d-keras", _metric, {}, _b, batches=_b)
_b = [_batch("real", (5, 3), (5,), mask=True), _batch("real", (3, 3), (3,), mask=True)]
_difference("rmse-mask", "RootMeanSquaredError", {}, _b, batches=_b)
_b = [_batch("real", (5, 4, 3), (5, 4), weight=True, mask=True)]
_difference("weight-B-mask-BT", "MeanSquaredError", {}, _b, batches=_b)
_b = [_batch("r2", (7,), (7,)), _batch("r2", (5,), (5,), weight=True)]
_difference("r2-1d", "R2Score", {}, _b, batches=_b)
_difference("r2-1d-as-2d", "R2Score", {}, [{**b, "yt": b["yt"][:, None], "yp": b["yp"][:, None]} for b in _b])
_b = [_batch("r2", (6, 3), (6,), weight=True, zero="some"), _batch("r2", (8, 3), (8,))]
_difference("r2-adjusted-n", "R2Score", {"num_regressors": 2}, _b, batches=_b)
_difference("r2-raw-for-adjusted-n", "R2Score", {}, _b)
_b = [_batch("r2", (6, 2), (6,), mask=True), _batch("r2", (4, 2), (4,), mask=True)]
_difference("r2-mask", "R2Score", {}, _b, batches=_b)


# R2 of outputs without variance (SST = 0; issue 21, item 7) on small integers, so that Keras's
# float32 sums are exact and its SST is exactly 0: Keras's rule, compared exactly.
ZERO_VARIANCE = {}


def _zero_variance_streams():
    def f(rows):
        return np.asarray(rows, dtype=np.float32)

    # outputs: constant with errors, constant predicted exactly, varying; the first batch one row
    batches = [
        {"yt": f([[3, 2, 5]]), "yp": f([[4, 2, 1]]), "sw": None, "mask": None},
        {"yt": f([[3, 2, 1], [3, 2, 4]]), "yp": f([[1, 2, 2], [3, 2, 4]]), "sw": f([2, 1]), "mask": None},
        {"yt": f([[3, 2, 0]]), "yp": f([[3, 2, 1]]), "sw": f([3]), "mask": None},
    ]
    for aggregation in (None, "uniform_average", "variance_weighted_average"):
        for outputs in ((0, 1, 2), (0, 2)):  # with the 0/0 output, and without it
            picked = [{**b, "yt": b["yt"][:, outputs], "yp": b["yp"][:, outputs]} for b in batches]
            sid = f"r2-zero-variance-{aggregation}-{len(outputs)}"
            kwargs = {"class_aggregation": aggregation}
            ZERO_VARIANCE[sid] = {
                "id": sid, "metric": "R2Score", "kwargs": kwargs, "batches": picked, "keras_batches": picked
            }  # fmt: skip


_zero_variance_streams()


def _request():
    streams = []
    for stream in [*STREAMS, *DIFFERENCES.values(), *ZERO_VARIANCE.values()]:
        keras_name = KERAS_NAME[stream["metric"]]
        if keras_name is None or not stream.get("keras", True):
            continue
        batches = [
            {key: None if b[key] is None else _store(b[key]) for key in ("yt", "yp", "sw", "mask")}
            for b in stream["keras_batches"]
        ]
        kwargs = stream.get("keras_kwargs", stream["kwargs"])
        streams.append({"id": stream["id"], "metric": keras_name, "kwargs": kwargs, "batches": batches})
    configs = sorted({name for name in KERAS_NAME.values() if name is not None})
    return {"streams": streams, "configs": configs}


# ----------------------------------------------------------------------------------------------
# The oracle: one Keras subprocess for the module.
# ----------------------------------------------------------------------------------------------


class Oracle:
    def __init__(self, meta, values):
        self.meta, self.values = meta, values

    def error(self, sid):
        return self.meta["streams"][sid]["error"]

    def results(self, sid):
        info = self.meta["streams"][sid]
        if info["error"] is not None:
            raise AssertionError(f"Keras raised on stream {sid}: {info['error']}")
        return self.values[sid]

    def dtype(self, sid):
        return self.meta["streams"][sid]["dtype"]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    work = tmp_path_factory.mktemp("keras_metrics_oracle")
    paths = [work / name for name in ("request.json", "arrays.npz", "out.json", "out.npz")]
    paths[0].write_text(json.dumps(_request()))
    np.savez(paths[1], **ARRAYS)
    env = dict(os.environ)
    env.update(KERAS_BACKEND="numpy", KERAS_HOME=str(work / "keras_home"), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(WORKER), *map(str, paths)],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0 or not paths[2].exists():
        pytest.fail(f"Keras metrics worker failed (rc={proc.returncode}):\n{proc.stderr[-4000:]}")
    meta = json.loads(paths[2].read_text())
    if meta["status"] == "skip":
        pytest.skip(meta["reason"])
    if meta["keras_version"] != KERAS_VERSION:
        pytest.skip(f"the oracle is Keras {KERAS_VERSION}; found {meta['keras_version']}")
    assert meta["backend"] == "numpy", meta["backend"]
    with np.load(paths[3], allow_pickle=False) as npz:
        values = {k: npz[k] for k in npz.files}
    return Oracle(meta, values)


# ----------------------------------------------------------------------------------------------
# regloss and the reference on a stream.
# ----------------------------------------------------------------------------------------------


def _as64(x):
    if x is None:
        return None
    return x.astype(np.float64) if isinstance(x, np.ndarray) else x.double()  # NumPy or torch


def run_regloss(stream, *, dtype=None, batches=None):
    """regloss's results after every batch (float64 NumPy, stacked) and the result dtype.

    ``dtype="float64"`` feeds the inputs as float64 (the float32 values, exactly)."""
    metric = rm.METRIC_CLASSES[stream["metric"]](**stream["kwargs"], dtype=dtype)
    results, dtypes = [], set()
    for b in batches if batches is not None else stream["batches"]:
        y_true, y_pred, sw = b["yt"], b["yp"], b["sw"]
        if dtype == "float64":
            y_true, y_pred, sw = _as64(y_true), _as64(y_pred), _as64(sw)
        metric.update_state(y_true, y_pred, sw, mask=b["mask"])
        value = metric.result()
        dtypes.add(str(value.dtype))
        results.append(to_numpy(value).astype(np.float64))
    return np.stack(results), dtypes


def run_reference(stream, batches=None):
    """The float64 reference's results after every batch, stacked."""
    batches = stream["batches"] if batches is None else batches
    kwargs = dict(stream["kwargs"])
    results = []
    for end in range(1, len(batches) + 1):
        prefix = [(b["yt"], b["yp"], b["sw"], b["mask"]) for b in batches[:end]]
        if stream["metric"] == "R2Score":
            results.append(ref_r2(prefix, **kwargs))
        else:
            results.append(np.asarray(ref_mean_metric(stream["metric"], prefix, **kwargs)))
    return np.stack(results)


def _close(actual, expected, rtol, atol, what):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


KERAS_STREAMS = [s for s in STREAMS if s["keras"]]
BY_ID = {s["id"]: s for s in STREAMS}


def test_stream_palette_covers_the_brief():
    """Every Keras metric is streamed with 2-D and 3-D inputs (R2: 2-D), with and without weights
    and masks, several batches each; every R2 aggregation, with and without num_regressors."""
    covered = {(s["metric"], len(s["batches"][0]["yt"].shape)) for s in STREAMS}
    for metric in KERAS_NAME:
        ranks = (2,) if metric == "R2Score" else (2, 3)
        assert all((metric, rank) in covered for rank in ranks), metric
    for s in STREAMS:
        assert len(s["batches"]) >= 2
    assert any(b["sw"] is not None for s in STREAMS for b in s["batches"])
    assert any(b["mask"] is not None for s in STREAMS for b in s["batches"])
    r2 = {
        (s["kwargs"]["class_aggregation"], s["kwargs"].get("num_regressors", 0))
        for s in STREAMS
        if s["metric"] == "R2Score"
    }
    assert {aggregation for aggregation, _ in r2} == {None, "uniform_average", "variance_weighted_average"}
    assert {p for _, p in r2} == {0, 2, 3}


@pytest.mark.parametrize("sid", [s["id"] for s in KERAS_STREAMS])
def test_reference_agrees_with_keras(oracle, sid):
    stream = BY_ID[sid]
    _close32(oracle.results(sid), run_reference(stream), stream, f"{sid}: Keras vs reference")


@pytest.mark.parametrize("sid", [s["id"] for s in KERAS_STREAMS])
def test_regloss_agrees_with_keras(oracle, sid):
    stream = BY_ID[sid]
    results, dtypes = run_regloss(stream)
    assert dtypes == {oracle.dtype(sid)} == {"float32"}
    assert results.shape == oracle.results(sid).shape
    _close32(results, oracle.results(sid), stream, f"{sid}: regloss vs Keras")


@pytest.mark.parametrize("sid", [s["id"] for s in STREAMS])
def test_regloss_float64_agrees_with_reference(sid):
    stream = BY_ID[sid]
    results, dtypes = run_regloss(stream, dtype="float64")
    assert dtypes == {"float64"}
    _close(
        results,
        run_reference(stream),
        RTOL64,
        ATOL64 * _scale(stream),
        f"{sid}: regloss float64 vs reference",
    )


@pytest.mark.parametrize("sid", [s["id"] for s in STREAMS if not s["keras"]])
def test_float32_agrees_with_reference_where_keras_cannot_tell(sid):
    """Keras has no Huber metric, and counts n otherwise for the adjusted R2 of several outputs or
    with zero weights: the float32 result against the float64 reference."""
    stream = BY_ID[sid]
    results, dtypes = run_regloss(stream)
    assert dtypes == {"float32"}
    _close(results, run_reference(stream), RTOL32, ATOL32, f"{sid}: regloss float32 vs reference")


def _scale(stream):
    return 100.0 if stream["metric"] == "MeanAbsolutePercentageError" else 1.0


def _atol32(stream):
    """The absolute tolerance of a float32 (Keras) result after each batch: R2 amplifies the
    rounding of its float32 sums by ``|1 - r2| * Q / SST`` (large for a few close values)."""
    if stream["metric"] != "R2Score":
        return ATOL32 * _scale(stream)
    batches = [(b["yt"], b["yp"], b["sw"], b["mask"]) for b in stream["batches"]]
    return np.array([RTOL32 * r2_amplification(batches[:end]) for end in range(1, len(batches) + 1)])


def _close32(actual, expected, stream, what):
    atol = _atol32(stream)
    if np.ndim(atol):
        atol = np.reshape(atol, (-1,) + (1,) * (np.ndim(expected) - 1))
    bad = ~(np.abs(actual - expected) <= atol + RTOL32 * np.abs(expected))
    bad &= ~(np.isnan(actual) & np.isnan(expected))
    assert not bad.any(), f"{what}:\nactual   {actual}\nexpected {expected}\natol {atol}"


def test_all_zero_weights_give_zero_like_keras(oracle):
    """Keras divides with divide_no_nan: nothing counted gives 0, not NaN; regloss too."""
    assert np.all(oracle.results("MeanSquaredError-all-zero") == 0.0)
    results, _ = run_regloss(BY_ID["MeanSquaredError-all-zero"])
    assert np.all(results == 0.0)


def test_default_names_and_config_keys_match_keras(oracle):
    """Every regloss metric's default name is Keras's; its config has every key Keras's has (and
    loads Keras's own config)."""
    configs = oracle.meta["configs"]
    for name, keras_name in KERAS_NAME.items():
        if keras_name is None:
            continue
        keras_config = configs[keras_name]
        assert "error" not in keras_config, keras_config
        metric = rm.METRIC_CLASSES[name]()
        assert metric.name == keras_config["name"], name
        assert set(keras_config) <= set(metric.get_config()), (name, keras_config)
        loaded = rm.METRIC_CLASSES[name].from_config(keras_config)
        assert loaded.name == keras_config["name"]
        assert loaded.dtype == keras_config["dtype"] == "float32"


# ----------------------------------------------------------------------------------------------
# Documented differences from Keras 3.15.1.
# ----------------------------------------------------------------------------------------------


def test_difference_rmse_honours_the_mask(oracle):
    """Keras's RootMeanSquaredError is a plain ``Mean`` of the squared errors: a mask attached to
    y_pred is lost (its squared errors carry none) and Keras averages every sample.  regloss's
    RootMeanSquaredError applies ``mask=`` like every other metric."""
    stream = DIFFERENCES["rmse-mask"]
    unmasked = [{**b, "mask": None} for b in stream["batches"]]
    _close(
        oracle.results("rmse-mask"), run_reference(stream, unmasked), RTOL32, ATOL32, "Keras ignores the mask"
    )
    results, _ = run_regloss(stream, dtype="float64")
    _close(results, run_reference(stream), RTOL64, ATOL64, "regloss applies the mask")
    assert not np.allclose(results, oracle.results("rmse-mask"), rtol=1e-3)


def test_difference_weight_aligns_with_the_mask_on_leading_axes(oracle):
    """A per-sample weight (B,) with a mask (B, T) (inputs (B, T, D)): Keras multiplies them with
    trailing axes aligned, which fails (or misaligns when B == T); regloss aligns the weight on the
    leading (batch) axis, as Keras does for a (B,) weight with (B, T) values."""
    error = oracle.error("weight-B-mask-BT")
    assert error is not None and error.startswith("ValueError"), error
    stream = DIFFERENCES["weight-B-mask-BT"]
    results, _ = run_regloss(stream, dtype="float64")
    _close(results, run_reference(stream), RTOL64, ATOL64, "regloss, leading alignment")


def test_difference_r2_takes_1d_inputs_as_one_output(oracle):
    """Keras's R2Score requires 2-D inputs; regloss takes (B,) as (B, 1)."""
    assert oracle.error("r2-1d") is not None and oracle.error("r2-1d").startswith("ValueError")
    stream = DIFFERENCES["r2-1d"]
    results, _ = run_regloss({**stream, "kwargs": {}})
    _close(results, oracle.results("r2-1d-as-2d"), RTOL32, ATOL32, "regloss 1-D vs Keras (B, 1)")


def test_difference_adjusted_r2_counts_rows_with_a_weight(oracle):
    """Keras 3.15.1's adjusted R2 counts n = samples * outputs elements, zero weights included;
    regloss counts the rows with a non-zero weight (Keras master's rule)."""
    stream = DIFFERENCES["r2-adjusted-n"]
    raw = oracle.results("r2-raw-for-adjusted-n")[-1]
    elements = sum(b["yt"].size for b in stream["batches"])
    rows = sum(
        int(np.count_nonzero(b["sw"])) if b["sw"] is not None else len(b["yt"]) for b in stream["batches"]
    )
    assert rows < elements
    p = 2
    keras_rule = 1 - (1 - raw) * (elements - 1) / (elements - p - 1)
    _close(oracle.results("r2-adjusted-n")[-1], keras_rule, RTOL32, ATOL32, "Keras counts elements")
    regloss_rule = 1 - (1 - raw) * (rows - 1) / (rows - p - 1)
    results, _ = run_regloss(stream)
    _close(results[-1], regloss_rule, RTOL32, ATOL32, "regloss counts weighted rows")
    results64, _ = run_regloss(stream, dtype="float64")
    _close(results64, run_reference(stream), RTOL64, ATOL64, "regloss float64 vs reference")


def test_difference_r2_honours_the_mask(oracle):
    """Keras's R2Score ignores a mask attached to y_pred (it is no ``MeanMetricWrapper``); regloss
    multiplies ``mask=`` into the weight, as for every metric."""
    stream = DIFFERENCES["r2-mask"]
    unmasked = [{**b, "mask": None} for b in stream["batches"]]
    _close(
        oracle.results("r2-mask"), run_reference({**stream, "kwargs": {}}, unmasked), RTOL32, ATOL32, "Keras"
    )
    results, _ = run_regloss(stream, dtype="float64")
    _close(results, run_reference(stream), RTOL64, ATOL64, "regloss applies the mask")
    assert not np.allclose(results, oracle.results("r2-mask"), rtol=1e-3)


def test_difference_1d_batches_are_samples(oracle):
    """A 1-D batch of B values is B samples of one output (issue 21, item 3): a stream of 1-D
    batches gives the data set's metric, whatever the batch sizes. Keras 3.15.1 reduces a 1-D batch
    to one value (the batch's mean), counted as one sample: a mean of batch means. Every mean
    metric Keras has, against Keras itself."""
    assert ONE_D_DIFFERENCES and len(ONE_D_DIFFERENCES) == len(ONE_D_METRICS) - 2  # all but Huber, RMSE
    for metric in ONE_D_DIFFERENCES:
        sid = f"{metric}-1d-keras"
        stream = DIFFERENCES[sid]
        batches = [(b["yt"], b["yp"], b["sw"], b["mask"]) for b in stream["batches"]]
        keras_rule = np.array(
            [ref_mean_metric(metric, batches[:end], keras_1d=True) for end in range(1, len(batches) + 1)]
        )
        _close(oracle.results(sid), keras_rule, RTOL32, ATOL32 * _scale(stream), f"{sid}: Keras's rule")
        results, _ = run_regloss(stream, dtype="float64")
        _close(results, run_reference(stream), RTOL64, ATOL64 * _scale(stream), f"{sid}: regloss's rule")
        as_columns = [{**b, "yt": b["yt"][:, None], "yp": b["yp"][:, None]} for b in stream["batches"]]
        columns, _ = run_regloss(stream, dtype="float64", batches=as_columns)
        _close(results, columns, RTOL64, ATOL64 * _scale(stream), f"{sid}: 1-D equals (B, 1)")
        assert not np.allclose(results[1:], oracle.results(sid)[1:], rtol=1e-3), sid


@pytest.mark.parametrize("metric", ["MeanSquaredError", "MeanAbsoluteError"])
def test_difference_issue_stream_of_1d_batches(oracle, metric):
    """10 errors of 1, then 1000 of 0: Keras gives 0.5 (the mean of the two batch means), regloss
    the data set's 10 / 1010 = 0.0099."""
    sid = f"{metric}-issue-1d-keras"
    assert oracle.results(sid)[-1] == pytest.approx(0.5, rel=1e-6)
    results, _ = run_regloss(DIFFERENCES[sid], dtype="float64")
    assert results[-1] == pytest.approx(10 / 1010, rel=1e-12)
    assert results[0] == 1.0


def test_scalar_weights_give_the_mean_of_batch_means(oracle):
    """A scalar weight w adds the batch's mean value times w and counts w, once for the batch
    (docs/metrics.md), in Keras and regloss alike: with scalar weights w_b on every batch the result
    is sum_b w_b mean_b / sum_b w_b, whatever the batch sizes; an unweighted batch counts its rows."""
    for metric in ONE_D_METRICS:
        stream = BY_ID[f"{metric}-2d-scalar-weight"]
        total = count = 0.0
        expected = []
        for b in stream["batches"]:
            values = per_sample_values(metric, b["yt"], b["yp"])
            values = values.reshape(len(b["yt"]), -1).mean(axis=1)  # one value per row
            if b["sw"] is None:
                total, count = total + values.sum(), count + len(values)
            else:
                w = float(b["sw"])
                total, count = total + w * values.mean(), count + w
            expected.append(total / count)
        expected = np.sqrt(expected) if metric == "RootMeanSquaredError" else np.array(expected)
        results, _ = run_regloss(stream, dtype="float64")
        _close(results, expected, RTOL64, ATOL64 * _scale(stream), f"{metric}: mean of batch means")
        if stream["keras"]:
            _close32(oracle.results(stream["id"]), expected, stream, f"{metric}: Keras too")


def test_rmse_issue_stream_gives_keras_number(oracle):
    """[1, 2, 3]/[1, 2, 5] then [0]/[1]: Keras 1.1180 = sqrt(5 / 4) (issue 21, item 2)."""
    sid = "RootMeanSquaredError-issue-1d"
    assert oracle.results(sid)[-1] == pytest.approx(np.sqrt(1.25), rel=1e-6)
    results, _ = run_regloss(BY_ID[sid])
    assert results[-1] == pytest.approx(1.1180, abs=5e-5)
    _close(results, oracle.results(sid), RTOL32, ATOL32, "regloss vs Keras")


RMSE_IDS = [s["id"] for s in KERAS_STREAMS if s["metric"] == "RootMeanSquaredError"]


@pytest.mark.parametrize("sid", RMSE_IDS)
def test_rmse_on_torch_agrees_with_keras(oracle, sid):
    """RootMeanSquaredError fed torch tensors (weights of y_true's shape included) gives Keras's
    numbers, as with NumPy inputs (test_regloss_agrees_with_keras)."""
    torch = pytest.importorskip("torch")

    def to_torch(x):
        return None if x is None else torch.asarray(np.array(x, copy=True))  # 0-d stays 0-d

    stream = BY_ID[sid]
    batches = [{key: to_torch(value) for key, value in b.items()} for b in stream["batches"]]
    results, dtypes = run_regloss(stream, batches=batches)
    assert dtypes == {"torch.float32"}
    _close32(results, oracle.results(sid), stream, f"{sid}: regloss on torch vs Keras")
    results64, _ = run_regloss(stream, dtype="float64", batches=batches)
    _close(results64, run_reference(stream), RTOL64, ATOL64, f"{sid}: float64 on torch vs reference")


def test_rmse_streams_cover_the_weight_layouts():
    """(B,), (B, D), (B, 1), (B, T), (B, T, D) weights and 1-D inputs, each compared with Keras."""
    layouts = {
        (b["yt"].ndim, None if b["sw"] is None else b["sw"].ndim)
        for sid in RMSE_IDS
        for b in BY_ID[sid]["batches"]
    }
    assert {(1, None), (1, 1), (2, 1), (2, 2), (3, 2), (3, 3)} <= layouts


@pytest.mark.parametrize("sid", list(ZERO_VARIANCE))
def test_r2_of_zero_variance_follows_keras(oracle, sid):
    """SST = 0 (one row, constant outputs): Keras's 1 - SSR / SST with an infinite score made 0,
    so 0 where SSR > 0 and NaN where SSR = 0 (and in an average that meets it), after every
    batch: regloss (float32 and float64) gives Keras's values, its zeros and NaN exactly, with no
    warning."""
    stream = ZERO_VARIANCE[sid]
    keras = oracle.results(sid)
    assert np.isnan(keras).any() or (keras == 0).any()  # the stream does meet the rule
    for dtype in (None, "float64"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            results, _ = run_regloss(stream, dtype=dtype)
        assert results.shape == keras.shape
        np.testing.assert_array_equal(np.isnan(results), np.isnan(keras), err_msg=f"{sid} {dtype}")
        np.testing.assert_array_equal(results == 0, keras == 0, err_msg=f"{sid} {dtype}")
        _close(results, keras, RTOL32, ATOL32, f"{sid} {dtype}: regloss vs Keras")
    _close(run_regloss(stream, dtype="float64")[0], run_reference(stream), RTOL64, ATOL64, sid)
