"""``regloss.dask.evaluate(..., ["d2_absolute_error_score", "d2_pinball_score"])``: exact over Dask
chunks (the ``alpha`` quantile of ``y_true`` by radix selection over signed keys), equal to
scikit-learn's scores on the whole arrays: random and adversarial cases (ties, integer and zero
weights, negative values, n = 1, even and odd n, constant truth, several outputs)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

from regloss.dask import evaluate  # noqa: E402
from regloss.quantiles import radix  # noqa: E402
from regloss.sklearn._percentile import weighted_percentile  # noqa: E402


def _case(name, n, outputs, rng):
    y_true = rng.standard_cauchy((n, outputs))
    if name == "ties":
        y_true = np.round(y_true)
    if name == "constant":
        y_true = np.full((n, outputs), -2.5)
    y_pred = np.round(y_true + rng.normal(size=(n, outputs)), 1)
    return y_true, y_pred


@pytest.mark.parametrize("name", ["random", "ties", "constant"])
@pytest.mark.parametrize("n", [1, 2, 7, 300, 301])
@pytest.mark.parametrize("weighting", [None, "integer", "zeros"])
def test_d2_scores_equal_sklearn(name, n, weighting):
    rng = np.random.default_rng(n)
    outputs = 2
    y_true, y_pred = _case(name, n, outputs, rng)
    weights = None
    if weighting is not None:
        weights = rng.integers(1, 4, n).astype(np.float64)
        if weighting == "zeros":
            weights[rng.random(n) < 0.4] = 0.0
            weights[0] = 1.0
    chunks = max(1, n // 4)
    found = evaluate(
        da.from_array(y_true, chunks=(chunks, outputs)),
        da.from_array(y_pred, chunks=(chunks, outputs)),
        ["d2_absolute_error_score", "d2_pinball_score"],
        None if weights is None else da.from_array(weights, chunks=chunks),
    )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n = 1: scikit-learn's UndefinedMetricWarning
        expected = sklearn_metrics.d2_absolute_error_score(y_true, y_pred, sample_weight=weights)
        pinball = sklearn_metrics.d2_pinball_score(y_true, y_pred, sample_weight=weights)
    for value, reference in (
        (found["d2_absolute_error_score"], expected),
        (found["d2_pinball_score"], pinball),
    ):
        if np.isnan(reference):
            assert np.isnan(value)
        else:
            assert float(value) == pytest.approx(reference, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_signed_radix_quantile_equals_sklearn_percentile(alpha):
    rng = np.random.default_rng(5)
    values = np.concatenate(
        [rng.standard_cauchy((200, 2)), [[-0.0, 0.0], [-np.inf, np.inf], [1e-310, -1e-310]]]
    )
    values[:50] = np.round(values[:50])
    weights = rng.integers(0, 3, len(values)).astype(np.float64)
    weights[0] = 1.0
    keys = radix.signed_keys(values)

    def scan(prefixes, level):
        return radix.histogram(keys, weights, prefixes, level, radix.SIGNED_INFINITY_KEY)

    found = radix.select(scan, alpha, None, True, radix.signed_value)
    expected = weighted_percentile(values, weights, alpha * 100)
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("fraction", [0.0, 0.25])
def test_exact_passes_read_the_chunks_once_when_they_fit(monkeypatch, fraction):
    """Persisted (they fit): each chunk is read once for the 4 passes; not (fraction 0): 4 times."""
    import dask

    from regloss.quantiles import dask_select

    monkeypatch.setattr(dask_select, "PERSIST_FRACTION", fraction)
    reads = []
    rng = np.random.default_rng(4)
    parts = [rng.normal(size=(50, 2)) for _ in range(3)]

    def read(index):
        reads.append(index)
        return parts[index]

    blocks = [da.from_delayed(dask.delayed(read)(i), (50, 2), np.float64) for i in range(3)]
    true = da.concatenate(blocks)
    pred = da.zeros_like(true)
    with dask.config.set(scheduler="synchronous"):
        found = evaluate(true, pred, ["median_absolute_error"])
    whole = np.concatenate(parts)
    assert float(found["median_absolute_error"]) == sklearn_metrics.median_absolute_error(whole, whole * 0)
    assert sorted(reads) == sorted(list(range(3)) * (1 if fraction else 4))
