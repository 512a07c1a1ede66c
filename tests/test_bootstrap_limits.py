"""The bootstrap's bounds and configs (issue 20, items 6 and 11).

Item 6: ``num_replicates`` (``Bootstrap``, ``regloss.dask.evaluate``) and the command line's
``--replicates`` are at most ``MAX_REPLICATES``, refused before any memory is taken; the Poisson
counts are drawn in blocks of bounded size whatever the replicates. Item 11: a bad
``Bootstrap.from_config`` is a ``ValueError`` naming the key, never a ``KeyError``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest

import regloss.metrics as rm
from regloss import config
from regloss.metrics import bootstrap as rb
from tests._cases import METRIC_CLASS_NAMES

# ----------------------------------------------------------------------------------------------
# Item 6: the bound.
# ----------------------------------------------------------------------------------------------


def test_the_bound_is_stated_and_generous():
    assert rb.MAX_REPLICATES == 100_000
    assert rb.check_settings(rb.MAX_REPLICATES, 0.95, 0) == (rb.MAX_REPLICATES, 0.95, 0)
    assert rb.check_settings(np.int64(2), 0.5, 1) == (2, 0.5, 1)


@pytest.mark.parametrize("replicates", [rb.MAX_REPLICATES + 1, 10**9, 2**63, 10**30])
def test_too_many_replicates_are_refused_everywhere(replicates):
    started = time.monotonic()
    with pytest.raises(ValueError, match=rf"num_replicates must be an integer from 2 to {rb.MAX_REPLICATES}"):
        rm.Bootstrap(rm.MeanSquaredError(), num_replicates=replicates)
    with pytest.raises(ValueError, match="num_replicates"):
        rb.check_settings(replicates, 0.9, 0)
    config_ = rm.Bootstrap(rm.MeanSquaredError()).get_config()
    with pytest.raises(ValueError, match="num_replicates"):
        rm.Bootstrap.from_config({**config_, "num_replicates": replicates})
    da = pytest.importorskip("dask.array")
    from regloss import dask as rdask

    t = da.from_array(np.ones((10, 2)), chunks=5)
    with pytest.raises(ValueError, match="num_replicates"):
        rdask.evaluate(t, t, ["mse"], confidence=0.9, num_replicates=replicates)
    assert time.monotonic() - started < 30  # refused up front (a generous bound: no timing claim)


def test_the_message_is_bounded():
    huge = 10**5000
    with pytest.raises(ValueError) as raised:
        rb.check_settings(huge, 0.9, 0)
    assert len(str(raised.value)) < 400


def test_replicates_per_step_keep_the_counts_block_bounded():
    for replicates in (2, 200, 201, 1000, 20_000, rb.MAX_REPLICATES):
        rows = rb.rows_per_step(replicates)
        assert rows >= 1
        assert rows * replicates <= max(rb._COUNTS_PER_STEP, replicates)
    assert rb.rows_per_step(200) == rb._ROWS_PER_STEP  # the default's steps are unchanged


@pytest.fixture
def numpy_steps():
    """The NumPy steps of the bootstrap (not the numba kernel, whose memory is O(replicates))."""
    previous = config._settings.get("accelerator")
    config.set_accelerator("numpy")
    yield
    config.set_accelerator(previous)


def test_many_replicates_take_bounded_memory(numpy_steps):
    """20,000 replicates of 2,000 rows: the counts are drawn a few rows at a time, so the peak stays
    near one block (12.5 MiB) and the state, not 20,000 x 8,192 float64 counts (1.3 GB)."""
    rng = np.random.default_rng(0)
    y_true = rng.normal(size=(2000, 1))
    y_pred = y_true + rng.normal(size=(2000, 1))
    metric = rm.Bootstrap(rm.MeanSquaredError(dtype="float64"), num_replicates=20_000)
    tracemalloc.start()
    try:
        metric.update_state(y_true, y_pred)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, peak
    result = metric.result()
    assert float(result.ci_low) < float(result.value) < float(result.ci_high)


def test_step_size_changes_no_replicate_beyond_rounding(numpy_steps):
    """More replicates take fewer rows per step: the replicate sums are those of one big step (and
    of the numba kernel) up to float64 rounding."""
    rng = np.random.default_rng(1)
    y_true = rng.normal(size=(500, 2))
    y_pred = y_true + rng.normal(size=(500, 2))
    stepped = rm.Bootstrap(rm.MeanAbsoluteError(dtype="float64"), num_replicates=40_000, seed=5)
    stepped.update_state(y_true, y_pred)
    assert rb.rows_per_step(40_000) < 500
    saved = rb._COUNTS_PER_STEP
    rb._COUNTS_PER_STEP = 10**12  # one step of every row
    try:
        whole = rm.Bootstrap(rm.MeanAbsoluteError(dtype="float64"), num_replicates=40_000, seed=5)
        whole.update_state(y_true, y_pred)
    finally:
        rb._COUNTS_PER_STEP = saved
    for name in ("total", "weight"):
        np.testing.assert_allclose(
            stepped.state["replicates"][name], whole.state["replicates"][name], rtol=1e-13, atol=1e-12
        )


ADDRESS_SPACE = 3 * 2**30
"""The child's address-space limit (``resource.setrlimit(RLIMIT_AS)``): a runaway allocation fails
fast instead of growing until the machine kills something."""

_LIMITED_MAIN = (
    "import resource, sys\n"
    "limit = int(sys.argv.pop(1))\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "from regloss.cli.main import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def _run_cli_limited(args):
    """``regloss ARGS`` in a child that caps its own address space first (no preexec_fn: forking a
    process that runs JAX's threads may deadlock), with a timeout."""
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    environment.pop("REGLOSS_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-c", _LIMITED_MAIN, str(ADDRESS_SPACE), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


@pytest.fixture
def small_csv(tmp_path):
    rng = np.random.default_rng(2)
    y_true = rng.normal(size=50)
    y_pred = y_true + rng.normal(size=50)
    path = tmp_path / "data.csv"
    path.write_text(
        "y_true,y_pred\n"
        + "".join(f"{float(t)!r},{float(p)!r}\n" for t, p in zip(y_true, y_pred, strict=True))
    )
    return path


@pytest.mark.parametrize("replicates", ["1000000000", "100001", str(10**40)])
@pytest.mark.parametrize("engine", ["local", "dask"])
def test_cli_refuses_too_many_replicates_at_once(small_csv, tmp_path, replicates, engine):
    """``--replicates 1000000000`` grew memory at ~450 MB/s until killed: now exit 2 with one line,
    under a 3 GiB address-space limit and a timeout, nothing written."""
    output = tmp_path / "report.json"
    args = ["evaluate", small_csv, "--ci", "0.9", "--replicates", replicates, "--output", output]
    if engine == "dask":
        pytest.importorskip("dask.dataframe")
        args += ["--engine", "dask"]
    result = _run_cli_limited(args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "--replicates" in lines[0] and str(rb.MAX_REPLICATES) in lines[0], lines[0]
    assert not output.exists()
    assert result.stdout == ""


def test_cli_takes_the_maximum_in_bounded_memory(small_csv, tmp_path):
    output = tmp_path / "report.json"
    args = ["evaluate", small_csv, "--metrics", "mse", "--ci", "0.9", "--replicates", rb.MAX_REPLICATES]
    result = _run_cli_limited([*args, "--format", "json", "--output", output, "--quiet"])
    assert result.returncode == 0, result.stderr
    report = json.loads(output.read_text())
    assert report["metrics"]["mse"]["replicates"] == rb.MAX_REPLICATES


# ----------------------------------------------------------------------------------------------
# Item 11: from_config.
# ----------------------------------------------------------------------------------------------

GOOD = rm.Bootstrap(rm.Huber(delta=0.5), num_replicates=20, confidence=0.9, seed=4).get_config()


def _without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


BAD_CONFIGS = {
    "missing metric": (_without(GOOD, "metric"), "'metric'"),
    "unknown class name": ({**GOOD, "metric": {**GOOD["metric"], "class_name": "Nope"}}, "'Nope'"),
    "lower-case class name": ({**GOOD, "metric": {**GOOD["metric"], "class_name": "huber"}}, "class_name"),
    "missing class name": ({**GOOD, "metric": _without(GOOD["metric"], "class_name")}, "'class_name'"),
    "missing nested config": ({**GOOD, "metric": _without(GOOD["metric"], "config")}, "'config'"),
    "metric of the wrong type": ({**GOOD, "metric": "Huber"}, "'metric'"),
    "metric a list": ({**GOOD, "metric": ["Huber", {}]}, "'metric'"),
    "class name of the wrong type": ({**GOOD, "metric": {**GOOD["metric"], "class_name": 3}}, "class_name"),
    "nested config of the wrong type": ({**GOOD, "metric": {**GOOD["metric"], "config": "x"}}, "'config'"),
    "nested config with an unknown key": (
        {**GOOD, "metric": {**GOOD["metric"], "config": {**GOOD["metric"]["config"], "bogus": 1}}},
        "bogus",
    ),
    "nested config with a bad value": (
        {**GOOD, "metric": {**GOOD["metric"], "config": {**GOOD["metric"]["config"], "delta": -1.0}}},
        "delta",
    ),
    "nested config of another class": (
        {**GOOD, "metric": {"class_name": "R2Score", "config": {"delta": 0.5}}},
        "R2Score",
    ),
    "unknown setting": ({**GOOD, "replicates": 20}, "'replicates'"),
    "bad setting": ({**GOOD, "confidence": 2.0}, "confidence"),
    "name of the wrong type": ({**GOOD, "name": 5}, "name"),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_configs_are_value_errors_naming_the_key(case):
    config_, named = BAD_CONFIGS[case]
    with pytest.raises(ValueError, match=named.replace("(", r"\(")) as raised:
        rm.Bootstrap.from_config(config_)
    assert not isinstance(raised.value, KeyError)
    assert len(str(raised.value)) < 1000


@pytest.mark.parametrize("config_", [None, [("metric", {})], "config", 3])
def test_a_config_that_is_no_dict_is_a_type_error(config_):
    with pytest.raises(TypeError, match="config must be a dict"):
        rm.Bootstrap.from_config(config_)


def test_a_huge_value_in_a_config_gives_a_short_message():
    config_ = {**GOOD, "metric": {**GOOD["metric"], "class_name": "x" * 10**7}}
    with pytest.raises(ValueError) as raised:
        rm.Bootstrap.from_config(config_)
    assert len(str(raised.value)) < 1000


def test_good_configs_still_round_trip_and_are_not_modified():
    import copy

    kept = copy.deepcopy(GOOD)
    again = rm.Bootstrap.from_config(GOOD)
    assert again.get_config() == GOOD == kept
    minimal = rm.Bootstrap.from_config({"metric": {"class_name": "MeanSquaredError", "config": {}}})
    assert (minimal.num_replicates, minimal.confidence, minimal.seed) == (200, 0.95, 0)
    for class_name in METRIC_CLASS_NAMES:
        config_ = rm.Bootstrap(getattr(rm, class_name)()).get_config()
        assert rm.Bootstrap.from_config(config_).get_config() == config_
