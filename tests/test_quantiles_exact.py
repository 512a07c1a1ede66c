"""Exact quantiles of the absolute error out of memory: ``regloss.dask.evaluate`` with
``"median_absolute_error"`` equals scikit-learn's ``median_absolute_error`` on the whole arrays
(bit for bit without weights; with integer weights too), whatever the chunking, on the threaded
scheduler and on a LocalCluster."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

from regloss.dask import evaluate  # noqa: E402


def _data(rng, n, outputs):
    shape = (n,) if outputs is None else (n, outputs)
    y_true = rng.standard_cauchy(shape)
    y_pred = np.round(y_true + rng.normal(size=shape), 1)  # ties among the errors
    return y_true, y_pred


@pytest.mark.parametrize("n", [1, 2, 9, 1000, 4097])
@pytest.mark.parametrize("outputs", [None, 1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_dask_median_equals_sklearn(n, outputs, weighted):
    rng = np.random.default_rng(n)
    y_true, y_pred = _data(rng, n, outputs)
    weights = rng.integers(0, 4, n).astype(np.float64) if weighted else None
    if weighted:
        weights[0] = 1.0
    expected = sklearn_metrics.median_absolute_error(y_true, y_pred, sample_weight=weights)
    for chunks in (1, 7, 1 << 20) if n < 10 else (97, 1 << 20):
        dask_weights = None if weights is None else da.from_array(weights, chunks=chunks + 2)
        result = evaluate(
            da.from_array(y_true, chunks=chunks),
            da.from_array(y_pred, chunks=chunks + 1),
            ["mae", "median_absolute_error"],
            sample_weight=dask_weights,
            split_every=3,
        )
        assert list(result) == ["mae", "median_absolute_error"]
        assert float(result["median_absolute_error"]) == expected
        mae = sklearn_metrics.mean_absolute_error(y_true, y_pred, sample_weight=weights)
        np.testing.assert_allclose(result["mae"], mae, rtol=1e-12)


def test_mask_drops_rows_and_refusals():
    rng = np.random.default_rng(3)
    y_true, y_pred = _data(rng, 200, None)
    mask = rng.integers(0, 2, 200)
    mask[0] = 1
    true, pred = da.from_array(y_true, chunks=30), da.from_array(y_pred, chunks=30)
    result = evaluate(true, pred, "median_ae", mask=mask)
    kept = mask != 0
    assert float(result["median_ae"]) == sklearn_metrics.median_absolute_error(y_true[kept], y_pred[kept])
    for options in ({"compute": False}, {"confidence": 0.9}):
        with pytest.raises(ValueError, match="several passes"):
            evaluate(da.from_array(y_true), da.from_array(y_pred), ["median_absolute_error"], **options)


def test_local_cluster_equals_in_memory():
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(5)
    y_true, y_pred = _data(rng, 5001, 2)
    expected = sklearn_metrics.median_absolute_error(y_true, y_pred)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        true, pred = da.from_array(y_true, chunks=600), da.from_array(y_pred, chunks=600)
        result = evaluate(true, pred, "median_absolute_error")
    assert float(result["median_absolute_error"]) == expected


def test_python_blocks_of_the_docs_run():
    """Every Python block of docs/quantiles.md runs, and its printed comments are the values."""
    import contextlib
    import io
    import pathlib
    import re

    text = (pathlib.Path(__file__).parents[1] / "docs" / "quantiles.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 4
    for block in blocks:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(block, "docs/quantiles.md", "exec"), {})
        printed = output.getvalue().splitlines()
        prints = [line for line in block.splitlines() if line.startswith("print(")]
        assert len(printed) == len(prints)
        for shown, statement in zip(printed, prints, strict=True):
            if "# " in statement:
                assert float(shown) == float(statement.split("# ")[1])


@pytest.mark.parametrize("weighted", [False, True])
def test_dask_sketch_equals_the_in_memory_sketch(weighted):
    """AbsoluteErrorQuantile through regloss.dask.evaluate: one pass, the chunks' sketches merged;
    with counts (integer weights) equal to the class fed the whole arrays, whatever the chunking."""
    from regloss.metrics import AbsoluteErrorQuantile

    rng = np.random.default_rng(9)
    y_true, y_pred = _data(rng, 3001, 2)
    weights = rng.integers(0, 3, 3001).astype(np.float64) if weighted else None
    whole = AbsoluteErrorQuantile(q=0.9)
    whole.update_state(y_true, y_pred, sample_weight=weights)
    metric = AbsoluteErrorQuantile(q=0.9, name="p90")
    for chunks in (100, 1001):
        dask_weights = None if weights is None else da.from_array(weights, chunks=chunks)
        result = evaluate(
            da.from_array(y_true, chunks=chunks),
            da.from_array(y_pred, chunks=chunks),
            [metric, "median_ae"],
            sample_weight=dask_weights,
        )
        assert float(result["p90"]) == float(whole.result())
        assert metric.state is None  # the instance's own state is not changed
