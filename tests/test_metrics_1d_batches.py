"""A 1-D batch of B values is B samples of one output in every streaming face (issue 21, item 3).

``regloss.metrics`` (every mean metric), ``Bootstrap``, ``regloss.dask`` and the command line read a
1-D batch as ``(B, 1)``: a stream of 1-D batches gives the metric of the whole data set, whatever the
batch sizes. Values come from the independent float64 reference of :mod:`tests.metrics_reference`
(written from the rule, not from regloss) or from the same data fed as ``(B, 1)``. Keras's mean of
batch means is asserted against Keras itself in ``tests/test_metrics_keras_oracle.py``
(``test_difference_1d_batches_are_samples``); the loss classes keep Keras's convention (a 1-D input
is one sample), checked here too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import regloss.metrics as rm
from regloss import losses
from regloss.metrics.statistics import MeanStatistic
from tests._cases import METRIC_CLASS_NAMES
from tests._helpers import metric_data, to_numpy
from tests.metrics_reference import MEAN_METRICS, ref_mean_metric

METRIC_CLASSES = [getattr(rm, name) for name in METRIC_CLASS_NAMES]
MEAN_CLASSES = [cls for cls in METRIC_CLASSES if isinstance(cls().statistic, MeanStatistic)]
REFERENCE_CLASSES = [cls for cls in MEAN_CLASSES if cls.__name__ in MEAN_METRICS]
SIZES = (10, 1000, 7, 1, 33)


def _data(cls, rng, size):
    return metric_data(cls.__name__, rng, size)


def _stream(cls, seed=0, *, weighted=False, masked=False):
    rng = np.random.default_rng(seed)
    batches = []
    for size in SIZES:
        y_true, y_pred = _data(cls, rng, size)
        weight = rng.uniform(0.0, 2.0, size=size) if weighted else None
        mask = rng.uniform(size=size) > 0.3 if masked else None
        batches.append((y_true, y_pred, weight, mask))
    return batches


def _fed(metric, xp, batches):
    for y_true, y_pred, weight, mask in batches:
        convert = (lambda a: None if a is None else xp.asarray(a)) if xp is not None else (lambda a: a)
        metric.update_state(convert(y_true), convert(y_pred), convert(weight), mask=convert(mask))
    return metric


def test_every_mean_metric_is_covered():
    exported = {
        name
        for name in rm.__all__
        if isinstance(value := getattr(rm, name), type)
        and issubclass(value, rm.Metric)
        and value is not rm.Metric
    }
    assert exported == set(METRIC_CLASS_NAMES)
    assert len(MEAN_CLASSES) >= 8 and rm.CosineSimilarity in MEAN_CLASSES
    assert set(MEAN_METRICS) <= {cls.__name__ for cls in REFERENCE_CLASSES}


@pytest.mark.parametrize(("cls", "expected"), [
    (rm.MeanSquaredError, 10 / 1010),
    (rm.MeanAbsoluteError, 10 / 1010),
    (rm.RootMeanSquaredError, np.sqrt(10 / 1010)),
    (rm.LogCoshError, 10 * np.log(np.cosh(1.0)) / 1010),
])  # fmt: skip
def test_the_issue_example(xp, cls, expected):
    """10 errors of 1, then 1000 of 0: the data set's value (MSE 0.0099), not 0.5."""
    metric = cls(dtype="float64")
    metric.update_state(xp.asarray(np.ones(10)), xp.asarray(np.zeros(10)))
    metric.update_state(xp.asarray(np.zeros(1000)), xp.asarray(np.zeros(1000)))
    assert float(to_numpy(metric.result())) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("cls", REFERENCE_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("variant", ["plain", "weighted", "masked", "both"])
def test_a_stream_of_1d_batches_gives_the_data_sets_metric(xp, cls, variant):
    batches = _stream(cls, weighted=variant in ("weighted", "both"), masked=variant in ("masked", "both"))
    metric = _fed(cls(dtype="float64"), xp, batches)
    expected = ref_mean_metric(cls.__name__, batches)
    np.testing.assert_allclose(to_numpy(metric.result()), expected, rtol=1e-12, atol=1e-14)
    # one batch of the whole data set, 1-D and as (B, 1): the same value
    y_true, y_pred = (np.concatenate([b[i] for b in batches]) for i in (0, 1))
    weight = None if batches[0][2] is None else np.concatenate([b[2] for b in batches])
    mask = None if batches[0][3] is None else np.concatenate([b[3] for b in batches])
    for shape in ((-1,), (-1, 1)):
        whole = _fed(cls(dtype="float64"), xp, [(y_true.reshape(shape), y_pred.reshape(shape), weight, mask)])
        np.testing.assert_allclose(to_numpy(whole.result()), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls", MEAN_CLASSES, ids=lambda c: c.__name__)
def test_1d_equals_column_for_every_mean_class(cls):
    """Every mean metric class (new ones included): a 1-D stream equals the (B, 1) stream."""
    batches = _stream(cls, seed=3, weighted=True)
    columns = [(t[:, None], p[:, None], w, m) for t, p, w, m in batches]
    np.testing.assert_allclose(
        to_numpy(_fed(cls(dtype="float64"), None, batches).result()),
        to_numpy(_fed(cls(dtype="float64"), None, columns).result()),
        rtol=1e-13,
    )


@pytest.mark.parametrize("cls", METRIC_CLASSES, ids=lambda c: c.__name__)
def test_bootstrap_of_1d_equals_bootstrap_of_a_column(xp, cls):
    rng = np.random.default_rng(4)
    y_true, y_pred = _data(cls, rng, 3000)
    flat = rm.Bootstrap(cls(dtype="float64"), num_replicates=50, seed=9)
    column = rm.Bootstrap(cls(dtype="float64"), num_replicates=50, seed=9)
    for start in (0, 1200):
        part = slice(start, start + 1800 if start == 0 else None)
        flat.update_state(xp.asarray(y_true[part]), xp.asarray(y_pred[part]))
        column.update_state(xp.asarray(y_true[part, None]), xp.asarray(y_pred[part, None]))
    got, want = flat.result(), column.result()
    for name in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(to_numpy(getattr(got, name)), to_numpy(getattr(want, name)), rtol=1e-13)


def test_bootstrap_of_one_1d_batch_is_no_degenerate_interval():
    """The issue: Bootstrap(MeanSquaredError()) of one 1-D array of 3,000 rows returned [0, value]."""
    rng = np.random.default_rng(5)
    y_true = rng.normal(size=3000)
    y_pred = y_true + rng.normal(scale=0.7, size=3000)
    metric = rm.Bootstrap(rm.MeanSquaredError(dtype="float64"), seed=1)
    metric.update_state(y_true, y_pred)
    result = metric.result()
    value = float(result.value)
    assert value == pytest.approx(np.mean((y_true - y_pred) ** 2), rel=1e-12)
    assert 0.9 * value < float(result.ci_low) < value < float(result.ci_high) < 1.1 * value
    assert float(result.se) == pytest.approx(value * np.sqrt(2 / 3000), rel=0.25)  # chi-square spread


def test_dask_reads_1d_like_the_classes():
    da = pytest.importorskip("dask.array")
    from regloss import dask as rdask

    batches = _stream(rm.MeanSquaredError, seed=6, weighted=True)
    y_true, y_pred, weight = (np.concatenate([b[i] for b in batches]) for i in range(3))
    chunks = [len(b[0]) for b in batches]
    results = rdask.evaluate(
        da.from_array(y_true, chunks=(tuple(chunks),)),
        da.from_array(y_pred, chunks=(tuple(chunks),)),
        ["mse", "mae", "rmse"],
        da.from_array(weight, chunks=(tuple(chunks),)),
    )
    for key, cls in (
        ("mse", rm.MeanSquaredError),
        ("mae", rm.MeanAbsoluteError),
        ("rmse", rm.RootMeanSquaredError),
    ):
        streamed = _fed(cls(dtype="float64"), None, batches)
        np.testing.assert_allclose(results[key], to_numpy(streamed.result()), rtol=1e-12)
        np.testing.assert_allclose(results[key], ref_mean_metric(cls.__name__, batches), rtol=1e-12)


def test_the_command_line_gives_the_data_sets_metric(tmp_path):
    """A one-column CSV of 10 errors of 1 and 1000 of 0, in chunks of 7 rows: the data set's MSE."""
    path = tmp_path / "errors.csv"
    path.write_text("y_true,y_pred\n" + "1.0,0.0\n" * 10 + "0.0,0.0\n" * 1000)
    environment = {**os.environ}
    environment.pop("REGLOSS_TRACEBACK", None)
    result = subprocess.run(
        [sys.executable, "-m", "regloss", "evaluate", path, "--metrics", "mse,mae,rmse", "--format", "json",
         "--chunk-rows", "7", "--quiet"],
        capture_output=True, text=True, timeout=300, env=environment, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["mse"]["value"] == pytest.approx(10 / 1010, rel=1e-12)
    assert metrics["mae"]["value"] == pytest.approx(10 / 1010, rel=1e-12)
    assert metrics["rmse"]["value"] == pytest.approx(np.sqrt(10 / 1010), rel=1e-12)


def test_loss_classes_keep_keras_convention():
    """The losses are unchanged: a 1-D input is one sample (its mean over the last axis)."""
    y_true, y_pred = np.ones(10), np.zeros(10)
    per_sample = losses.MeanSquaredError(reduction="none", dtype="float64")(y_true, y_pred)
    assert np.shape(per_sample) == () and float(per_sample) == 1.0
    summed = losses.MeanSquaredError(reduction="sum", dtype="float64")(y_true, y_pred)
    assert float(summed) == 1.0  # one sample's mean, not the sum of ten errors
