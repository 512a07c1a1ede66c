"""Exact radix selection (regloss.quantiles.radix) against numpy.median and scikit-learn's
weighted percentile, on adversarial values: ties, zeros, values over 600 orders of magnitude,
subnormals, infinities, integer and zero weights, one row, chunks of one row."""

from __future__ import annotations

import numpy as np
import pytest

from regloss.quantiles import radix

sklearn_stats = pytest.importorskip("sklearn.utils.stats")


def _errors(rng, kind, shape):
    if kind == "cauchy":
        return np.abs(rng.standard_cauchy(shape))
    if kind == "ties":
        return rng.integers(0, 4, shape).astype(np.float64)
    if kind == "magnitudes":
        return np.abs(rng.normal(size=shape)) * 10.0 ** rng.integers(-300, 300, shape)
    if kind == "extremes":
        choices = np.array([0.0, 5e-324, 2.2250738585072014e-308, 1.0, 1.7976931348623157e308, np.inf])
        return rng.choice(choices, shape)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["cauchy", "ties", "magnitudes", "extremes"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 17, 100])
@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_unweighted_median_equals_numpy_median_bit_for_bit(kind, n, chunk):
    rng = np.random.default_rng(n * 31 + chunk)
    errors = _errors(rng, kind, (n, 3))
    with np.errstate(invalid="ignore", over="ignore"):
        expected = np.median(errors, axis=0)
    ours = radix.select(radix.in_memory_scan(errors, rows_per_chunk=chunk), 0.5, 3, weighted=False)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("kind", ["cauchy", "ties", "magnitudes"])
@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("weights", [None, "integer", "zeros"])
def test_quantiles_equal_sklearn_averaged_inverted_cdf(kind, q, weights):
    for seed in range(5):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 80))
        errors = _errors(rng, kind, (n, 2))
        if weights is None:
            sample_weight = np.ones(n)
        elif weights == "integer":
            sample_weight = rng.integers(1, 5, n).astype(np.float64)
        else:
            sample_weight = rng.integers(0, 2, n).astype(np.float64)
            sample_weight[rng.integers(0, n)] = 1.0
        expected = sklearn_stats._weighted_percentile(errors, sample_weight, q * 100, average=True)
        scan = radix.in_memory_scan(errors, None if weights is None else sample_weight, rows_per_chunk=5)
        ours = radix.select(scan, q, 2, weighted=weights is not None)
        np.testing.assert_array_equal(ours, expected)


def test_nan_gives_nan_and_merge_is_order_free():
    errors = np.array([[1.0], [np.nan], [3.0]])
    assert np.isnan(radix.select(radix.in_memory_scan(errors), 0.5, 1, weighted=False)[0])
    rng = np.random.default_rng(0)
    keys = radix.keys_of(np.abs(rng.normal(size=(50, 1))))
    prefixes = np.zeros(1, np.uint64)
    parts = [radix.histogram(keys[i : i + 10], None, prefixes, 0) for i in range(0, 50, 10)]
    forward, backward = parts[0], parts[-1]
    for part in parts[1:]:
        forward = radix.merge(forward, part)
    for part in reversed(parts[:-1]):
        backward = radix.merge(part, backward)
    whole = radix.histogram(keys, None, prefixes, 0)
    for name in whole:
        np.testing.assert_array_equal(forward[name], whole[name])
        np.testing.assert_array_equal(backward[name], whole[name])


@pytest.mark.parametrize("level", range(radix.PASSES))
def test_accumulating_chunks_of_any_size_in_place_equals_one_histogram(level):
    """``accumulate`` adds chunks into one partial, by ``numpy.add.at`` for chunks of few keys and
    by ``bincount`` for large ones: the sum is the histogram of all the rows, weighted or not."""
    rng = np.random.default_rng(level)
    errors = np.abs(rng.standard_cauchy((30_000, 2)))
    errors[5, 1] = np.nan
    keys, weights = radix.keys_of(errors), rng.uniform(0, 2, len(errors))
    prefixes = None if level == 0 else keys[7] & ~np.uint64((1 << (64 - 16 * level)) - 1)
    whole = radix.histogram(keys, weights, prefixes, level)
    partial = radix.new_partial(2)
    for lo, hi in [(0, 3), (3, 20_003), (20_003, 20_100), (20_100, 30_000)]:  # small, large, small, large
        radix.accumulate(partial, keys[lo:hi], weights[lo:hi], prefixes, level)
    np.testing.assert_array_equal(partial["counts"], whole["counts"])
    np.testing.assert_allclose(partial["weights"], whole["weights"], rtol=1e-12)
    np.testing.assert_array_equal(partial["above"], whole["above"])
    np.testing.assert_array_equal(partial["nan"], whole["nan"])
    assert partial["counts"].sum() > 0


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_bins_of_many_groups_give_each_groups_exact_quantile(weighted):
    """Groups of very different sizes in chunks, kept as sparse bins (compacted as they grow):
    each group's quantile equals numpy's averaged inverted CDF of its rows (integer weights are
    repeated rows); the chunks' distinct bins are many enough that compaction runs."""
    rng = np.random.default_rng(5)
    rows, groups, q = 400_000, 7, 0.3
    values = 10.0 ** rng.uniform(-300, 300, rows)  # ~20,000 distinct first digits per chunk of group 0
    codes = rng.choice(groups, rows, p=[0.6, 0.3, 0.05, 0.04, 0.009, 0.0009, 0.0001])
    weights = rng.integers(0, 4, rows).astype(float) if weighted else None
    keys = radix.keys_of(values[:, None])
    chunks = np.array_split(np.arange(rows), 8)
    compactions = []

    def scan(prefixes, level):
        partial = radix.SparsePartial(weighted)
        partial.add_columns(groups)
        for chunk in chunks:
            for g in range(groups):
                rows_g = chunk[codes[chunk] == g]
                own = None if prefixes is None else prefixes[g : g + 1]
                w = None if weights is None else weights[rows_g]
                radix.accumulate_sparse(partial, g, keys[rows_g], w, own, level)
        compactions.append(len(partial.bins._pieces[0]) < len(chunks))  # pieces merged on the way
        return partial.as_partial()

    got = radix.select(scan, q, None, weighted)
    for g in range(groups):
        mine = values[codes == g]
        if weighted:
            mine = np.repeat(mine, weights[codes == g].astype(int))
        want = np.quantile(mine, q, method="averaged_inverted_cdf") if mine.size else np.nan
        np.testing.assert_array_equal(got[g], want)
    assert compactions[0], "the first pass should have compacted the largest group's bins"


@pytest.mark.parametrize("weighted", [False, True])
def test_a_sparse_column_without_keys_reads_as_empty_bins(weighted):
    """A group with no key inside its range in a pass: zero bins, zero total (weighted or not)."""
    bins = radix.SparseBins(weighted)
    bins.add_columns(2)
    bins.add(0, np.array([3, 3, 5]), np.array([1.0, 2.0, 3.0]) if weighted else None)
    np.testing.assert_array_equal(bins.totals(weighted), [6.0, 0.0] if weighted else [3, 0])
    assert not bins.column(1, weighted).any()
    np.testing.assert_array_equal(bins.column(0, weighted)[[3, 5]], [3.0, 3.0] if weighted else [2, 1])
