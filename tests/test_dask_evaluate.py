"""regloss.dask.evaluate on Dask arrays and Dask DataFrame columns, against the metric classes in memory.

The reference of every comparison is the metric class with ``dtype="float64"`` updated once with the
whole NumPy arrays (1-D inputs as ``(rows, 1)``, as regloss.dask reads them). evaluate's per-chunk
float64 sums are merged in another order, so results agree to float64 rounding (``rtol=1e-12``).
These tests run on Dask's local schedulers; tests/test_dask_cluster.py runs a real cluster.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from dask.delayed import Delayed  # noqa: E402

from regloss import config  # noqa: E402
from regloss import dask as rdask  # noqa: E402
from regloss.metrics import (  # noqa: E402
    CosineSimilarity,
    Huber,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    R2Score,
    RootMeanSquaredError,
)
from regloss.metrics.bootstrap import MAX_REPLICATES  # noqa: E402
from regloss.metrics.statistics import _MeanBatch  # noqa: E402
from tests._cases import METRIC_BY_SHORT  # noqa: E402

# dask's Parquet reader on pandas 3.1 (not regloss).
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")

# Every metric of the test table, but "pearson" and "ccc" (the dataset-level correlations: by name,
# instances of one output) for inputs of several outputs, and "row_pearson" for 1-D inputs (rows of
# one output, where Keras's per-row Pearson correlation is 0 / 0, NaN).
CORRCOEF_NAMES = ("pearson", "ccc")
NAMES = [name for name in METRIC_BY_SHORT if name not in CORRCOEF_NAMES]
ONE_OUTPUT_NAMES = [name for name in METRIC_BY_SHORT if name != "row_pearson"]
RTOL = 1e-12


def _data(rows, outputs=None, seed=0):
    """Positive targets (MSLE, MAPE, Poisson) and positive predictions close to them (R2 well away
    from 0)."""
    rng = np.random.default_rng(seed)
    shape = (rows,) if outputs is None else (rows, outputs)
    y_true = rng.uniform(0.5, 3.0, size=shape)
    y_pred = np.abs(y_true + rng.normal(0.0, 0.3, size=shape))
    weight = rng.uniform(0.0, 2.0, size=rows)
    return y_true, y_pred, weight


def _fresh(metric):
    """A float64 instance of a name's class, or a copy of an instance's configuration."""
    if isinstance(metric, str):
        return rdask.METRIC_NAMES[metric](dtype="float64")
    return type(metric).from_config(metric.get_config())


def _column(x):
    return x[:, None] if x.ndim == 1 else x


def reference(metric, y_true, y_pred, sample_weight=None, mask=None):
    """The metric class's in-memory result on the whole arrays (1-D read as (rows, 1))."""
    fresh = _fresh(metric)
    fresh.update_state(_column(y_true), _column(y_pred), sample_weight, mask=mask)
    return np.asarray(fresh.result())


def check(results, metrics, y_true, y_pred, sample_weight=None, mask=None, rtol=RTOL):
    keys = [m if isinstance(m, str) else m.name for m in metrics]
    assert set(keys) <= set(results), (keys, list(results))
    for key, metric in zip(keys, metrics, strict=True):
        want = reference(metric, y_true, y_pred, sample_weight, mask)
        got = results[key]
        assert isinstance(got, np.ndarray | np.generic), (key, type(got))
        assert np.shape(got) == want.shape, key
        assert np.all(np.isfinite(want)), key
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0, err_msg=key)


@pytest.fixture(autouse=True)
def _threaded_scheduler():
    with dask.config.set(scheduler="threads", num_workers=2):
        yield


# ------------------------------------------------------------------------------ equality


@pytest.mark.parametrize("outputs", [None, 3], ids=["1-D", "2-D"])
@pytest.mark.parametrize("weighting", ["none", "array", "number"])
def test_every_metric_equals_the_in_memory_classes(outputs, weighting):
    y_true, y_pred, weight = _data(5003, outputs)
    trailing = () if outputs is None else (outputs,)
    t = da.from_array(y_true, chunks=((1000, 7, 2500, 1496),) + trailing)
    p = da.from_array(y_pred, chunks=(777,) + ((2, 1),) * (outputs is not None))  # other chunks, both axes
    given = {"none": None, "array": da.from_array(weight, chunks=1200), "number": 1.75}[weighting]
    expected_weight = {"none": None, "array": weight, "number": 1.75}[weighting]
    names = ONE_OUTPUT_NAMES if outputs is None else NAMES
    results = rdask.evaluate(t, p, names, given)
    check(results, names, y_true, y_pred, expected_weight)
    for value in results.values():
        assert value.dtype == np.float64


def test_configured_instances_keep_their_configuration_and_dtype():
    y_true, y_pred, weight = _data(4001, 2)
    metrics = [
        Huber(delta=0.2, dtype="float64"),
        R2Score(class_aggregation=None, dtype="float64"),
        R2Score("variance_weighted_average", num_regressors=3, name="adjusted", dtype="float64"),
        CosineSimilarity(axis=1, dtype="float64"),
        RootMeanSquaredError(),  # float32, Keras's default
    ]
    t, p = da.from_array(y_true, chunks=900), da.from_array(y_pred, chunks=(1300, 1))
    results = rdask.evaluate(t, p, metrics, da.from_array(weight, chunks=900))
    assert list(results) == ["huber", "r2_score", "adjusted", "cosine_similarity", "root_mean_squared_error"]
    check(results, metrics[:4], y_true, y_pred, weight)
    assert results["r2_score"].shape == (2,)
    assert results["root_mean_squared_error"].dtype == np.float32
    np.testing.assert_allclose(
        results["root_mean_squared_error"], reference(metrics[4], y_true, y_pred, weight), rtol=1e-6
    )
    assert all(metric.state is None for metric in metrics), "evaluate must not touch the instances' state"


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_1d_results_equal_the_in_memory_1d_call(weighted):
    """A 1-D input is read as (rows, 1) here and by the metric classes alike (issue 21, item 3):
    every metric, cosine included, gives the in-memory result of the whole 1-D arrays, and of the
    same arrays fed as 1-D batches."""
    y_true, y_pred, weight = _data(3001)
    weight = weight if weighted else None
    chunks = 700
    results = rdask.evaluate(
        da.from_array(y_true, chunks=chunks),
        da.from_array(y_pred, chunks=chunks),
        ONE_OUTPUT_NAMES,
        None if weight is None else da.from_array(weight, chunks=chunks),
    )
    for name in ONE_OUTPUT_NAMES:
        whole, streamed = _fresh(name), _fresh(name)
        whole.update_state(y_true, y_pred, weight)
        for start in range(0, len(y_true), 1000):
            part = slice(start, start + 1000)
            streamed.update_state(y_true[part], y_pred[part], None if weight is None else weight[part])
        np.testing.assert_allclose(results[name], whole.result(), rtol=RTOL, err_msg=name)
        np.testing.assert_allclose(streamed.result(), whole.result(), rtol=RTOL, err_msg=name)
        two_d = _fresh(name)
        two_d.update_state(y_true[:, None], y_pred[:, None], weight)
        np.testing.assert_allclose(whole.result(), two_d.result(), rtol=RTOL, err_msg=name)


def test_mask_and_weight_multiply():
    y_true, y_pred, weight = _data(2500, 4)
    mask = np.random.default_rng(1).random(2500) > 0.3  # per sample
    metrics = ["mse", "mae", "huber", "r2"]
    results = rdask.evaluate(
        da.from_array(y_true, chunks=600),
        da.from_array(y_pred, chunks=600),
        metrics,
        da.from_array(weight, chunks=800),
        mask=da.from_array(mask, chunks=450),
    )
    check(results, metrics, y_true, y_pred, weight, mask)


def test_three_dimensional_inputs():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.uniform(0.5, 2, (1200, 5, 3)), rng.uniform(0.5, 2, (1200, 5, 3))
    weight = rng.uniform(0, 1, (1200, 5))
    metrics = ["mse", "mape", "logcosh", CosineSimilarity(axis=2, dtype="float64")]
    results = rdask.evaluate(
        da.from_array(y_true, chunks=(250, 2, 2)), da.from_array(y_pred, chunks=300), metrics, weight
    )
    check(results, metrics, y_true, y_pred, weight)


# ------------------------------------------------------------------------------ unknown chunk sizes


def test_boolean_filtered_arrays():
    y_true, y_pred, weight = _data(6000, 2)
    t, p = da.from_array(y_true, chunks=1100), da.from_array(y_pred, chunks=1100)
    w = da.from_array(weight, chunks=1100)
    keep = t[:, 0] > 1.2
    assert np.isnan(t[keep].chunks[0]).all()
    results = rdask.evaluate(t[keep], p[keep], NAMES, w[keep])
    selected = y_true[:, 0] > 1.2
    check(results, NAMES, y_true[selected], y_pred[selected], weight[selected])


def test_filter_that_empties_whole_chunks():
    y_true, y_pred, _ = _data(3000)
    t, p = da.from_array(y_true, chunks=500), da.from_array(y_pred, chunks=500)
    keep = da.arange(3000, chunks=500) >= 2200  # the first four chunks become empty
    results = rdask.evaluate(t[keep], p[keep], ["mse", "r2"])
    check(results, ["mse", "r2"], y_true[2200:], y_pred[2200:])


def _write_parquet(directory, columns: dict, files: int, row_group_size: int):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = len(next(iter(columns.values())))
    bounds = np.linspace(0, rows, files + 1).astype(int)
    directory.mkdir()
    for index, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        table = pa.table({name: values[start:stop] for name, values in columns.items()})
        pq.write_table(table, directory / f"part-{index:03d}.parquet", row_group_size=row_group_size)
    return directory


def test_dataframe_columns_from_parquet(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    y_true, y_pred, weight = _data(20_011, 2)
    columns = {"t0": y_true[:, 0], "t1": y_true[:, 1], "p0": y_pred[:, 0], "p1": y_pred[:, 1], "w": weight}
    frame = dd.read_parquet(_write_parquet(tmp_path / "data", columns, files=3, row_group_size=4000))
    assert np.isnan(frame["t0"].to_dask_array().chunks[0]).all(), "the test needs unknown chunk sizes"
    # Series: one output per sample.
    results = rdask.evaluate(frame["t0"], frame["p0"], ONE_OUTPUT_NAMES, frame["w"])
    check(results, ONE_OUTPUT_NAMES, y_true[:, 0], y_pred[:, 0], weight)
    # DataFrames: (rows, columns); and arrays of unknown chunk sizes from to_dask_array().
    results = rdask.evaluate(frame[["t0", "t1"]], frame[["p0", "p1"]].to_dask_array(), NAMES, frame["w"])
    check(results, NAMES, y_true, y_pred, weight)


def test_unknown_chunks_of_other_partitions_fail_at_compute_time():
    t = da.from_array(np.ones(100), chunks=50)
    p = da.from_array(np.ones(100), chunks=50)
    lazy = rdask.evaluate(t[t > 0], p[:60], ["mse"], compute=False)  # 2 chunks each, 50+50 vs 50+10
    with pytest.raises(ValueError, match="different numbers of rows"):
        lazy.compute()


# ------------------------------------------------------------------------------ laziness and the graph


def _refuse(*args, **kwargs):
    raise AssertionError("something was computed")


def test_compute_false_computes_nothing(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    y_true, y_pred, weight = _data(5000)
    frame = dd.read_parquet(
        _write_parquet(tmp_path / "data", {"t": y_true, "p": y_pred}, files=2, row_group_size=1000)
    )
    w = da.from_array(weight, chunks=900)
    with dask.config.set(scheduler=_refuse):
        lazy_frame = rdask.evaluate(frame["t"], frame["p"], ONE_OUTPUT_NAMES, compute=False)
        t = da.from_array(y_true, chunks=700)
        lazy_filtered = rdask.evaluate(
            t[t > 1], da.from_array(y_pred, chunks=700)[t > 1], ONE_OUTPUT_NAMES, compute=False
        )
        lazy_weighted = rdask.evaluate(
            t, da.from_array(y_pred, chunks=1000), ONE_OUTPUT_NAMES, w, compute=False
        )
        with pytest.raises(AssertionError, match="something was computed"):
            lazy_frame.compute()
    for lazy in (lazy_frame, lazy_filtered, lazy_weighted):
        assert isinstance(lazy, Delayed)
    check(lazy_frame.compute(), ONE_OUTPUT_NAMES, y_true, y_pred)
    selected = y_true > 1
    check(lazy_filtered.compute(), ONE_OUTPUT_NAMES, y_true[selected], y_pred[selected])
    check(lazy_weighted.compute(), ONE_OUTPUT_NAMES, y_true, y_pred, weight)


def test_merge_tree_has_fan_in_eight_and_one_state_task_per_chunk():
    t = da.from_array(np.arange(1.0, 1001.0), chunks=10)  # 100 chunks (positive: every metric's domain)
    lazy = rdask.evaluate(t, t + 1, NAMES, compute=False)
    graph = dict(lazy.__dask_graph__())
    states = [
        key for key in graph if str(key[0] if isinstance(key, tuple) else key).startswith("regloss-states")
    ]
    merges = [key for key in graph if str(key).startswith("regloss-merge")]
    assert len(states) == 100
    assert len(merges) == 13 + 2 + 1  # ceil(100/8), ceil(13/8), the root
    from dask.core import get_dependencies

    fan_in = [len(get_dependencies(graph, key)) for key in merges]
    assert max(fan_in) == 8 and min(fan_in) >= 2
    assert lazy.compute()["mse"] == 1.0


def test_each_chunk_is_read_once_for_all_metrics():
    y_true, y_pred, weight = _data(4000, 2)
    reads = []
    lock = threading.Lock()

    def load(source, name, start, stop):
        with lock:
            reads.append((name, start))
        return source[start:stop]

    def lazy(source, name):
        bounds = [0, 700, 1500, 2800, 4000]
        return da.concatenate(
            [
                da.from_delayed(
                    dask.delayed(load, pure=True)(source, name, a, b),
                    shape=(b - a,) + source.shape[1:],
                    dtype=source.dtype,
                )
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            ]
        )

    results = rdask.evaluate(lazy(y_true, "t"), lazy(y_pred, "p"), NAMES, lazy(weight, "w"))
    assert sorted(reads) == sorted((name, start) for name in "tpw" for start in (0, 700, 1500, 2800))
    check(results, NAMES, y_true, y_pred, weight)


# ------------------------------------------------------------------------------ other inputs


def test_numpy_and_pandas_inputs_are_wrapped():
    pd = pytest.importorskip("pandas")
    y_true, y_pred, weight = _data(3000, 2)
    check(rdask.evaluate(y_true, y_pred, NAMES, weight), NAMES, y_true, y_pred, weight)
    check(
        rdask.evaluate(y_true, da.from_array(y_pred, chunks=333), NAMES, weight),
        NAMES,
        y_true,
        y_pred,
        weight,
    )
    results = rdask.evaluate(pd.Series(y_true[:, 0]), da.from_array(y_pred[:, 0], chunks=500), ["mae", "r2"])
    check(results, ["mae", "r2"], y_true[:, 0], y_pred[:, 0])


def test_memory_mapped_npy_files(tmp_path):
    y_true, y_pred, _ = _data(5000)
    np.save(tmp_path / "t.npy", y_true)
    np.save(tmp_path / "p.npy", y_pred)
    t = da.from_array(np.load(tmp_path / "t.npy", mmap_mode="r"), chunks=1200)
    p = da.from_array(np.load(tmp_path / "p.npy", mmap_mode="r"), chunks=1000)
    check(rdask.evaluate(t, p, ONE_OUTPUT_NAMES), ONE_OUTPUT_NAMES, y_true, y_pred)


def test_float32_inputs():
    y_true, y_pred, weight = (x.astype(np.float32) for x in _data(5000, 2))
    results = rdask.evaluate(
        da.from_array(y_true, chunks=999), da.from_array(y_pred, chunks=999), NAMES, weight
    )
    # Per-element values in float32 in both paths, float64 sums: only the order of additions differs.
    check(results, NAMES, y_true, y_pred, weight, rtol=1e-9)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # R2's 0/0
def test_empty_input():
    empty = da.from_array(np.zeros((0, 2)), chunks=1)
    results = rdask.evaluate(empty, empty, ["mse", "r2"])
    assert results["mse"] == 0.0
    assert np.isnan(results["r2"])


def test_settings_of_the_call_travel_with_the_graph():
    """MAPE with zeros in y_true depends on epsilon: the value at evaluate's call is used."""
    y_true, y_pred, _ = _data(2000)
    y_true[::7] = 0.0
    t, p = da.from_array(y_true, chunks=300), da.from_array(y_pred, chunks=300)
    config.set_epsilon(1e-3)
    try:
        lazy = rdask.evaluate(t, p, ["mape"], compute=False)
        want = reference("mape", y_true, y_pred)
    finally:
        config.set_epsilon(1e-7)
    np.testing.assert_allclose(lazy.compute()["mape"], want, rtol=RTOL)
    assert not np.isclose(rdask.evaluate(t, p, ["mape"])["mape"], want)


# ------------------------------------------------------------------------------ threads


def test_tasks_run_the_kernels_with_one_thread_and_restore_the_setting(monkeypatch):
    seen = []
    original = _MeanBatch.fused_total

    def recording(self, *args):
        seen.append(config.num_threads())
        return original(self, *args)

    monkeypatch.setattr(_MeanBatch, "fused_total", recording)
    y_true, y_pred, _ = _data(300_000, 2)
    t, p = da.from_array(y_true, chunks=60_000), da.from_array(y_pred, chunks=60_000)
    assert config._settings.get("num_threads") is None
    results = rdask.evaluate(t, p, ["mse", "mae"])
    assert len(seen) == 2 * 5 and set(seen) == {1}, seen  # two metrics, five chunks
    assert config._settings.get("num_threads") is None, "the default must be restored"
    check(results, ["mse", "mae"], y_true, y_pred)
    seen.clear()
    config.set_num_threads(2)
    try:
        rdask.evaluate(t, p, ["mse"], kernel_threads=2)
        assert seen and set(seen) == {2}
        assert config.num_threads() == 2
        seen.clear()
        rdask.evaluate(t, p, ["mse"])
        assert set(seen) == {1}
        assert config.num_threads() == 2, "an explicit setting must be restored"
    finally:
        config.set_num_threads(None)


def test_task_settings_are_shared_by_equal_requests_and_exclusive_otherwise():
    settings = rdask._TaskSettings()
    errors = []
    wanted_values = [(1, 1e-7, "float32"), (3, 1e-5, "float64")]

    def task(wanted):
        try:
            for _ in range(5):
                with settings.applied(wanted):
                    for _ in range(3):
                        now = (config.num_threads(), config.epsilon(), config.floatx())
                        if now != wanted:
                            errors.append((wanted, now))
                        time.sleep(0.001)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=task, args=(wanted_values[i % 2],)) for i in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)
    assert errors == []
    assert (config._settings.get("num_threads"), config.epsilon(), config.floatx()) == (None, 1e-7, "float32")


# ------------------------------------------------------------------------------ update_state


def test_update_state_keeps_a_small_numpy_state():
    y_true, y_pred, weight = _data(3000, 2)
    metrics = [MeanSquaredError(dtype="float64"), R2Score(dtype="float64")]
    for start, stop in ((0, 1000), (1000, 3000)):
        rdask.update_state(
            metrics,
            da.from_array(y_true[start:stop], chunks=400),
            da.from_array(y_pred[start:stop], chunks=400),
            da.from_array(weight[start:stop], chunks=400),
        )
        for metric in metrics:
            assert all(isinstance(value, np.ndarray | np.generic) for value in metric.state.values())
    for metric in metrics:
        np.testing.assert_allclose(metric.result(), reference(metric, y_true, y_pred, weight), rtol=RTOL)
    single = MeanAbsolutePercentageError(dtype="float64")
    rdask.update_state(single, da.from_array(y_true, chunks=700), y_pred)
    np.testing.assert_allclose(single.result(), reference(single, y_true, y_pred), rtol=RTOL)


# ------------------------------------------------------------------------------ errors


def test_bad_inputs_are_clear_errors():
    t = da.from_array(np.ones((10, 2)), chunks=5)
    with pytest.raises(TypeError, match=r"y_true must be a Dask array.*received list"):
        rdask.evaluate([[1.0, 2.0]], t, ["mse"])
    with pytest.raises(TypeError, match=r"sample_weight must be a Dask array.*received str"):
        rdask.evaluate(t, t, ["mse"], "heavy")
    with pytest.raises(ValueError, match=r"y_true has 9 samples \(axis 0\) and y_pred has 10"):
        rdask.evaluate(t[:9], t, ["mse"])
    with pytest.raises(ValueError, match=r"sample_weight has 3 samples"):
        rdask.evaluate(t, t, ["mse"], np.ones(3))
    with pytest.raises(ValueError, match=r"y_true must have a samples axis"):
        rdask.evaluate(da.ones(()), t, ["mse"])
    filtered = t[t[:, 0] > 0]
    with pytest.raises(ValueError, match=r"as many row chunks; received y_true: 2, y_pred: 1"):
        one_chunk = da.from_array(np.ones((10, 2)), chunks=10)
        rdask.evaluate(filtered, one_chunk[one_chunk[:, 0] > 0], ["mse"])
    with pytest.raises(ValueError, match=r"sample_weight is a NumPy array and cannot be paired"):
        rdask.evaluate(filtered, filtered, ["mse"], np.ones(10))


def test_bad_metrics_are_clear_errors():
    t = da.from_array(np.ones((10, 2)), chunks=5)
    with pytest.raises(ValueError, match=r"unknown metric name 'msq'.*valid names: mse, rmse, mae, mape"):
        rdask.evaluate(t, t, ["mse", "msq"])
    with pytest.raises(ValueError, match=r"'mean_squared_error' appears more than once"):
        rdask.evaluate(t, t, [MeanSquaredError(), "mean_squared_error"])
    with pytest.raises(TypeError, match=r"pass MeanSquaredError\(\)"):
        rdask.evaluate(t, t, [MeanSquaredError])
    with pytest.raises(TypeError, match=r"received int 3 at position 1"):
        rdask.evaluate(t, t, ["mse", 3])
    with pytest.raises(ValueError, match=r"empty list"):
        rdask.evaluate(t, t, [])
    with pytest.raises(ValueError, match=r"reduces over axis 0"):
        rdask.evaluate(t, t, [CosineSimilarity(axis=0)])
    with pytest.raises(ValueError, match=r"R2Score takes .* received 3-D inputs"):
        rdask.evaluate(da.ones((4, 2, 2)), da.ones((4, 2, 2)), ["r2"])
    with pytest.raises(ValueError, match=r"split_every must be an int >= 2"):
        rdask.evaluate(t, t, ["mse"], split_every=1)
    with pytest.raises(ValueError, match=r"kernel_threads must be an int >= 1"):
        rdask.evaluate(t, t, ["mse"], kernel_threads=0)
    assert rdask.evaluate(t, t, "mse") == {"mse": 0.0}  # one name alone is accepted


def test_import_error_names_the_install_command():
    code = "import sys; sys.modules['dask'] = None; import regloss.dask"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode != 0
    assert 'pip install "dask[array]"' in out.stderr and "regloss[dask]" in out.stderr, out.stderr


# ------------------------------------------------------------------------------ confidence intervals

INTERVAL_FIELDS = ("value", "ci_low", "ci_high", "se")


def _integer_data(rows, outputs, seed=0):
    """Small integers (and integer weights): every bootstrap sum is exact in float64, so results
    that do not depend on the order of the additions are equal bit for bit (R2's centred moments
    divide, so R2 is equal to rounding: :func:`_exact_rtol`)."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 6, size=(rows, outputs)).astype(np.float64)
    y_pred = rng.integers(0, 6, size=(rows, outputs)).astype(np.float64)
    weight = rng.integers(0, 4, size=rows).astype(np.float64)
    return y_true, y_pred, weight


def _exact_rtol(key) -> float:
    """The tolerance of another chunking on integer data: 0 (bit for bit) for the mean metrics,
    1e-12 for R2, whose moments are merged with Chan et al.'s update (issue 21, item 7)."""
    return 1e-12 if key.startswith("r2") else 0


def bootstrap_reference(metric, y_true, y_pred, sample_weight=None, mask=None, **settings):
    """``Bootstrap(metric, ...)`` updated once with the whole arrays (rows 0..n-1), as a dict."""
    from regloss.metrics import Bootstrap

    settings = {"confidence": 0.95, "num_replicates": 200, "seed": 0} | settings
    bootstrap = Bootstrap(_fresh(metric), **settings)
    bootstrap.update_state(_column(y_true), _column(y_pred), sample_weight, mask=mask)
    return bootstrap.result().as_dict()


def check_intervals(got, want, rtol):
    """``got``: an evaluate result with confidence; ``want``: another one, or Bootstrap's as_dict()."""
    assert list(got) == [*INTERVAL_FIELDS, "confidence", "replicates", "seed"]
    assert type(got["confidence"]) is float and type(got["replicates"]) is int and type(got["seed"]) is int
    assert got["confidence"] == want["confidence"] and got["seed"] == want["seed"]
    assert got["replicates"] == want.get("replicates", want.get("num_replicates"))
    for field in INTERVAL_FIELDS:
        assert isinstance(got[field], np.ndarray | np.generic), (field, type(got[field]))
        assert np.shape(got[field]) == np.shape(want[field]), field
        if rtol == 0:
            np.testing.assert_array_equal(got[field], want[field], err_msg=field)
        else:
            np.testing.assert_allclose(got[field], want[field], rtol=rtol, atol=0, err_msg=field)


def test_intervals_do_not_depend_on_the_chunking_and_equal_the_in_memory_bootstrap():
    y_true, y_pred, weight = _integer_data(4003, 2)
    metrics = ["mse", "mae", "r2", R2Score(class_aggregation=None, dtype="float64", name="r2_outputs")]
    settings = {"confidence": 0.9, "num_replicates": 60, "seed": 11}
    t1, p1 = da.from_array(y_true, chunks=1000), da.from_array(y_pred, chunks=(1000, 1))
    w1 = da.from_array(weight, chunks=1000)
    t2, p2 = (
        da.from_array(y_true, chunks=((3, 1500, 2000, 500),) + ((2,),)),
        da.from_array(y_pred, chunks=777),
    )
    keep = da.from_array(np.ones(4003, dtype=bool), chunks=777)  # unknown chunk sizes, nothing filtered
    runs = [
        rdask.evaluate(t1, p1, metrics, w1, **settings),
        rdask.evaluate(t2, p2, metrics, weight, split_every=2, **settings),
        rdask.evaluate(
            t2.rechunk(777)[keep], p2[keep], metrics, da.from_array(weight, 777)[keep], **settings
        ),
    ]
    assert np.isnan(p2[keep].chunks[0]).all()
    keys = ["mse", "mae", "r2", "r2_outputs"]
    for key, metric in zip(keys, metrics, strict=True):
        want = bootstrap_reference(
            metric,
            y_true,
            y_pred,
            weight,
            confidence=0.9,
            num_replicates=60,
            seed=11,
        )
        for results in runs:
            check_intervals(results[key], want, rtol=_exact_rtol(key))
        assert runs[0][key]["ci_low"].dtype == np.float64
    assert runs[0]["r2_outputs"]["ci_low"].shape == (2,)
    low, high = runs[0]["mse"]["ci_low"], runs[0]["mse"]["ci_high"]
    assert low < runs[0]["mse"]["value"] < high
    # Another seed, other replicates, another interval.
    other = rdask.evaluate(t1, p1, ["mse"], w1, confidence=0.9, num_replicates=60, seed=12)["mse"]
    assert other["value"] == runs[0]["mse"]["value"] and other["ci_low"] != low


def test_intervals_of_every_metric_on_real_data_agree_to_rounding():
    y_true, y_pred, weight = _data(3001, 3)
    t1, p1 = da.from_array(y_true, chunks=1000), da.from_array(y_pred, chunks=1000)
    t2, p2 = da.from_array(y_true, chunks=401), da.from_array(y_pred, chunks=(1200, 2))
    first = rdask.evaluate(t1, p1, NAMES, weight, confidence=0.95)  # 200 replicates, seed 0
    second = rdask.evaluate(t2, p2, NAMES, da.from_array(weight, chunks=999), confidence=0.95)
    for name in NAMES:
        want = bootstrap_reference(name, y_true, y_pred, weight)
        check_intervals(first[name], want, rtol=1e-12)
        check_intervals(second[name], want, rtol=1e-12)
        assert first[name]["se"] > 0, name


def test_intervals_of_dataframe_columns_are_computed_lazily_in_one_pass(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    y_true, y_pred, weight = _integer_data(9000, 1, seed=5)
    columns = {"t": y_true[:, 0], "p": y_pred[:, 0], "w": weight}
    frame = dd.read_parquet(_write_parquet(tmp_path / "data", columns, files=3, row_group_size=1100))
    assert np.isnan(frame["t"].to_dask_array().chunks[0]).all(), "the test needs unknown chunk sizes"
    settings = {"confidence": 0.8, "num_replicates": 40, "seed": 3}
    with dask.config.set(scheduler=_refuse):
        lazy = rdask.evaluate(frame["t"], frame["p"], ["mse", "r2"], frame["w"], compute=False, **settings)
    graph = dict(lazy.__dask_graph__())
    row_tasks = [key for key in graph if isinstance(key, tuple) and str(key[0]).startswith("regloss-rows")]
    state_tasks = [
        key for key in graph if isinstance(key, tuple) and str(key[0]).startswith("regloss-states")
    ]
    assert len(row_tasks) == len(state_tasks) >= 2  # a row count per chunk (Dask may join partitions)
    results = lazy.compute()
    for name in ("mse", "r2"):
        want = bootstrap_reference(name, y_true, y_pred, weight, **settings)
        check_intervals(results[name], want, rtol=_exact_rtol(name))


def test_intervals_with_unknown_chunks_read_each_chunk_once():
    y_true, y_pred, _ = _integer_data(3000, 2, seed=2)
    reads = []
    lock = threading.Lock()

    def load(source, name, start, stop):
        with lock:
            reads.append((name, start))
        return source[start:stop]

    def lazy(source, name):
        bounds = [0, 700, 1500, 3000]
        return da.concatenate(
            [
                da.from_delayed(
                    dask.delayed(load, pure=True)(source, name, a, b), shape=(b - a, 2), dtype=source.dtype
                )
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            ]
        )

    t, p = lazy(y_true, "t"), lazy(y_pred, "p")
    keep = t[:, 0] > 0  # unknown chunk sizes: the offsets are counted in the graph
    results = rdask.evaluate(t[keep], p[keep], ["mae"], confidence=0.95, num_replicates=30)
    assert sorted(reads) == sorted((name, start) for name in "tp" for start in (0, 700, 1500))
    selected = y_true[:, 0] > 0
    want = bootstrap_reference("mae", y_true[selected], y_pred[selected], num_replicates=30)
    check_intervals(results["mae"], want, rtol=0)


def test_masked_rows_keep_their_global_indices():
    y_true, y_pred, weight = _integer_data(2500, 2, seed=4)
    mask = np.random.default_rng(1).random(2500) > 0.3
    results = rdask.evaluate(
        da.from_array(y_true, chunks=600),
        da.from_array(y_pred, chunks=600),
        ["mse", "r2"],
        da.from_array(weight, chunks=800),
        mask=da.from_array(mask, chunks=450),
        confidence=0.95,
        num_replicates=30,
    )
    for name in ("mse", "r2"):
        want = bootstrap_reference(name, y_true, y_pred, weight, mask, num_replicates=30)
        check_intervals(results[name], want, rtol=_exact_rtol(name))


def test_bad_interval_settings_are_clear_errors():
    t = da.from_array(np.ones((10, 2)), chunks=5)
    for confidence in (0, 1, 1.5, -0.2, float("nan"), True, "0.9"):
        with pytest.raises(ValueError, match=r"confidence must be a number in \(0, 1\)"):
            rdask.evaluate(t, t, ["mse"], confidence=confidence)
    # issue 20, item 6: a bound, checked before any graph is built (the message changed with it)
    for replicates in (1, 0, 2.5, True, MAX_REPLICATES + 1, 10**9):
        bound = rf"num_replicates must be an integer from 2 to {MAX_REPLICATES}"
        with pytest.raises(ValueError, match=bound):
            rdask.evaluate(t, t, ["mse"], confidence=0.9, num_replicates=replicates)
    for seed in (-1, 2**32, 1.0):
        with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*32\)"):
            rdask.evaluate(t, t, ["mse"], confidence=0.9, seed=seed)
    with pytest.raises(ValueError, match=r"pass confidence= too"):
        rdask.evaluate(t, t, ["mse"], seed=3)
    results = rdask.evaluate(t, t, ["mse"], confidence=0.5, num_replicates=np.int64(2), seed=2**32 - 1)
    assert results["mse"]["replicates"] == 2 and type(results["mse"]["replicates"]) is int
