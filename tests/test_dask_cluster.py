"""regloss.dask.evaluate on a real distributed cluster: 2e7 rows from partitioned files, a worker
killed while the evaluation runs, and bootstrap intervals (small files) equal to the in-memory ones.

One ``LocalCluster`` of two single-threaded worker processes serves the module. The data (float32
y_true, y_pred and sample weights, written once per module as Parquet files and as one .npy file
per column and partition) is compared with the metric classes' in-memory result on the whole
arrays. Deselect with ``-m "not cluster"``.
"""

from __future__ import annotations

import logging
import os
import signal
import time

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from regloss import dask as rdask  # noqa: E402
from tests._cases import METRIC_BY_SHORT  # noqa: E402

pytestmark = [
    pytest.mark.cluster,
    # dask's Parquet reader on pandas 3.1 (not regloss).
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index"),
]

ROWS = 20_000_000
PARTITIONS = 8
COLUMNS = ("t", "p", "w")
# Every metric of the test table but Keras's per-row Pearson correlation: the columns are 1-D, rows
# of one output, where it is 0 / 0 (NaN).
NAMES = [name for name in METRIC_BY_SHORT if name != "row_pearson"]
# Per-element values are float32 in both paths and every sum float64: only the order of the
# additions differs (2e7 terms).
RTOL = 1e-10
WAIT_S = 120  # the bound of every wait in these tests


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """``(columns, reference, directory)``: the arrays, the in-memory results, the files' folder."""
    rng = np.random.default_rng(20)
    t = rng.uniform(0.5, 3.0, ROWS).astype(np.float32)
    p = np.abs(t + rng.normal(0.0, 0.3, ROWS).astype(np.float32)).astype(np.float32)  # > 0: Poisson
    w = rng.uniform(0.0, 2.0, ROWS).astype(np.float32)
    columns = {"t": t, "p": p, "w": w}
    directory = tmp_path_factory.mktemp("partitions")
    (directory / "parquet").mkdir()
    bounds = np.linspace(0, ROWS, PARTITIONS + 1).astype(int)
    for k, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        table = pa.table({name: values[start:stop] for name, values in columns.items()})
        pq.write_table(table, directory / "parquet" / f"part-{k}.parquet", row_group_size=1_250_000)
        for name, values in columns.items():
            np.save(directory / f"{name}-{k}.npy", values[start:stop])
    reference = {}
    for name in NAMES:
        metric = rdask.METRIC_NAMES[name](dtype="float64")
        metric.update_state(t[:, None], p[:, None], w)
        reference[name] = np.asarray(metric.result())
    return columns, reference, directory, bounds


@pytest.fixture(scope="module")
def cluster_client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close(timeout=30)


@pytest.fixture
def client(cluster_client):
    cluster_client.wait_for_workers(2, timeout=WAIT_S)
    return cluster_client


def _check(results, reference, names=NAMES):
    assert list(results) == names
    for name in names:
        assert isinstance(results[name], np.float64), (name, type(results[name]))
        assert np.isfinite(reference[name]), name
        np.testing.assert_allclose(results[name], reference[name], rtol=RTOL, atol=0, err_msg=name)


def _npy_column(directory, bounds, name, loader=np.load, extra=()):
    """A column of the .npy partitions: one lazily loaded memory map per file."""
    parts = []
    for k, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        loaded = dask.delayed(loader, pure=True)(str(directory / f"{name}-{k}.npy"), *extra, mmap_mode="r")
        parts.append(da.from_delayed(loaded, shape=(int(stop - start),), dtype=np.float32))
    return da.concatenate(parts)


# ------------------------------------------------------------------------------ results


def test_parquet_columns_on_a_cluster(client, data):
    dd = pytest.importorskip("dask.dataframe")
    _, reference, directory, _ = data
    frame = dd.read_parquet(directory / "parquet")
    assert np.isnan(frame["t"].to_dask_array().chunks[0]).all()
    _check(rdask.evaluate(frame["t"], frame["p"], NAMES, frame["w"]), reference)


def test_npy_memory_maps_on_a_cluster(client, data):
    _, reference, directory, bounds = data
    t, p, w = (_npy_column(directory, bounds, name) for name in COLUMNS)
    lazy = rdask.evaluate(t, p, NAMES, w, compute=False)
    _check(client.compute(lazy).result(timeout=WAIT_S), reference)


# ------------------------------------------------------------------------------ a worker dies


def _load_after_barrier(path, barrier, log, mmap_mode=None):
    """np.load(path) once ``barrier`` exists; each start is logged as ``path pid``."""
    with open(log, "a") as stream:
        stream.write(f"{path} {os.getpid()}\n")
    deadline = time.monotonic() + WAIT_S
    while not os.path.exists(barrier):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{barrier} never appeared")
        time.sleep(0.02)
    return np.load(path, mmap_mode=mmap_mode)


def _wait(condition, what):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {WAIT_S} s for {what}")
        time.sleep(0.05)


def _processing(dask_scheduler):
    return {address: [ts.key for ts in state.processing] for address, state in dask_scheduler.workers.items()}


def _starts(log):
    """``[(path, pid), ...]`` in the order the loads started."""
    if not log.exists():
        return []
    complete = log.read_text().split("\n")[:-1]  # a line being written has no newline yet
    return [(line.rsplit(" ", 1)[0], int(line.rsplit(" ", 1)[1])) for line in complete]


def test_killing_a_worker_mid_evaluation_reruns_its_tasks(client, data, tmp_path):
    _, reference, directory, bounds = data
    barrier, log = tmp_path / "barrier", tmp_path / "starts.log"
    t, p, w = (
        _npy_column(directory, bounds, name, _load_after_barrier, (str(barrier), str(log)))
        for name in COLUMNS
    )
    names = ["mse", "mape", "r2"]
    lazy = rdask.evaluate(t, p, names, w, compute=False)
    pids = client.run(os.getpid)  # {worker address: pid}
    future = client.compute(lazy)
    try:
        # Every load waits at the barrier: the worker of the first one to start holds that task.
        _wait(lambda: _starts(log), "a partition task to start")
        victim_pid = _starts(log)[0][1]
        victim = next(address for address, pid in pids.items() if pid == victim_pid)
        held = client.run_on_scheduler(_processing)[victim]
        assert held, "the worker to kill holds no task"
        os.kill(victim_pid, signal.SIGKILL)
        _wait(
            lambda: (
                victim not in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.workers))
            ),
            "the scheduler to remove the killed worker",
        )
    finally:
        barrier.touch()  # never leave tasks waiting, whatever happened above
    try:
        results = future.result(timeout=WAIT_S)
    finally:
        future.cancel()
    _check(results, reference, names)

    # The log: a load started by the killed process started again in another one.
    starts = _starts(log)
    killed_paths = {path for path, pid in starts if pid == victim_pid}
    rerun = {path for path, pid in starts if path in killed_paths and pid != victim_pid}
    assert rerun, f"no load of the killed worker ran again: {starts}"
    # The scheduler's records (key, start, finish, recommendations, stimulus): a task that was processing
    # on the killed worker left that state unfinished, then was processed again to the end.
    story = client.run_on_scheduler(
        lambda dask_scheduler: [tuple(r[:5]) for r in dask_scheduler.story(*held)]
    )
    for key in held:
        records = [r for r in story if r[0] == key]
        lost = [i for i, r in enumerate(records) if r[1] == "processing" and r[2] != "memory"]
        if lost and any(r[1:3] == ("processing", "memory") for r in records[lost[0] :]):
            break
    else:
        pytest.fail(f"no task of the killed worker was re-run according to the scheduler: {story}")


# ------------------------------------------------------------------------------ confidence intervals


def test_bootstrap_intervals_on_a_cluster_equal_the_in_memory_bootstrap(client, tmp_path):
    """Small-integer data (exact sums): the intervals from Parquet partitions of unknown sizes and from
    arrays of known chunks, computed by the two worker processes, equal Bootstrap's bit for bit (R2,
    whose centred moments divide, to 1e-12)."""
    from regloss.metrics import Bootstrap

    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(15)
    rows = 30_000
    t, p = (rng.integers(0, 8, rows).astype(np.float64) for _ in range(2))
    w = rng.integers(0, 3, rows).astype(np.float64)
    (tmp_path / "parts").mkdir()
    for k, (start, stop) in enumerate(((0, 9000), (9000, 9001), (9001, 21_000), (21_000, rows))):
        table = pa.table({"t": t[start:stop], "p": p[start:stop], "w": w[start:stop]})
        pq.write_table(table, tmp_path / "parts" / f"part-{k}.parquet", row_group_size=4000)
    settings = {"confidence": 0.9, "num_replicates": 100, "seed": 21}
    names = ["mse", "mae", "r2"]
    frame = dd.read_parquet(tmp_path / "parts")
    from_files = rdask.evaluate(frame["t"], frame["p"], names, frame["w"], compute=False, **settings)
    arrays = rdask.evaluate(
        da.from_array(t, chunks=7000), da.from_array(p, chunks=4500), names, w, compute=False, **settings
    )
    results = client.compute([from_files, arrays], sync=True)
    for name in names:
        bootstrap = Bootstrap(rdask.METRIC_NAMES[name](dtype="float64"), **settings)
        bootstrap.update_state(t[:, None], p[:, None], w)
        want = bootstrap.result().as_dict()
        for found in results:
            got = found[name]
            assert got["replicates"] == 100 and got["seed"] == 21 and got["confidence"] == 0.9
            for field in ("value", "ci_low", "ci_high", "se"):
                if name == "r2":
                    np.testing.assert_allclose(got[field], want[field], rtol=1e-12, atol=0, err_msg=field)
                else:
                    assert got[field] == want[field], (name, field, got[field], want[field])
