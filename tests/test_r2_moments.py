"""R2 from centred, mergeable moments (issue 21, item 7), and the moments module itself.

Every expected value comes from an independent computation: scikit-learn's two-pass
``r2_score``, NumPy's two-pass weighted means and centred products in float64, or exact rational
arithmetic (``fractions``). The raw power sums R2 used before (``SST = Q - S**2 / W``) give 0.0
for the 1e6-offset rows below and 0.99999999 at 1e8 (the issue's table): these tests fail on them.
"""

from __future__ import annotations

import copy
import json
import warnings
from fractions import Fraction

import numpy as np
import pytest

import regloss.metrics as rm
from regloss.metrics import moments, poisson
from tests._helpers import to_numpy

sklearn_metrics = pytest.importorskip("sklearn.metrics")

SPREAD = 1e-3
ROWS, OUTPUTS = 1000, 3
AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")
SKLEARN_AGGREGATION = {None: "raw_values", "uniform_average": "uniform_average"}
SKLEARN_AGGREGATION["variance_weighted_average"] = "variance_weighted"

# (offset relative to the spread, relative tolerance): the issue's targets
OFFSETS = [(1e4, 1e-10), (1e6, 1e-10), (1e8, 1e-6), (1e10, 1e-6)]


def _offset_data(relative_offset, seed=0, outputs=OUTPUTS):
    """1,000 rows of y_true = offset + N(0, 1e-3) (outputs at offsets of both signs), y_pred =
    y_true + N(0, 1e-4), weights in [0.5, 2) with every tenth row 0."""
    rng = np.random.default_rng(seed)
    offsets = relative_offset * SPREAD * np.array([1.0, -0.7, 2.3])[:outputs]
    y_true = offsets + rng.normal(0.0, SPREAD, size=(ROWS, outputs))
    y_pred = y_true + rng.normal(0.0, SPREAD / 10, size=(ROWS, outputs))
    weight = rng.uniform(0.5, 2.0, size=ROWS)
    weight[::10] = 0.0
    return y_true, y_pred, weight


def _sklearn_r2(y_true, y_pred, weight, aggregation, num_regressors):
    """scikit-learn's two-pass R2, adjusted with n = the rows with a non-zero weight."""
    score = sklearn_metrics.r2_score(
        y_true, y_pred, sample_weight=weight, multioutput=SKLEARN_AGGREGATION[aggregation]
    )
    if num_regressors:
        n = len(y_true) if weight is None else int(np.count_nonzero(weight))
        score = 1 - (1 - score) * (n - 1) / (n - num_regressors - 1)
    return np.asarray(score, dtype=np.float64)


def _splittings(rng):
    """Batch bounds: one batch, one row per batch, batches of 7, random cuts (some empty)."""
    cuts = np.sort(rng.integers(0, ROWS + 1, size=9)).tolist()
    return {
        "one batch": [(0, ROWS)],
        "one row each": [(i, i + 1) for i in range(ROWS)],
        "sevens": [(i, min(i + 7, ROWS)) for i in range(0, ROWS, 7)],
        "random": list(zip([0, *cuts], [*cuts, ROWS], strict=True)),
    }


def _feed(metric, y_true, y_pred, weight, bounds):
    for start, stop in bounds:
        metric.update_state(
            y_true[start:stop], y_pred[start:stop], None if weight is None else weight[start:stop]
        )
    return metric


def _states(y_true, y_pred, weight, rng):
    """``{how: state}``: the data streamed in several splittings, and split into parts merged in
    several orders (merge_state in a random order, a random binary tree of statistic.merge)."""
    states = {}
    for name, bounds in _splittings(rng).items():
        states[f"streamed, {name}"] = _feed(rm.R2Score(dtype="float64"), y_true, y_pred, weight, bounds).state
    bounds = _splittings(rng)["random"]
    parts = [_feed(rm.R2Score(dtype="float64"), y_true, y_pred, weight, [b]) for b in bounds]
    for trial in range(2):
        order = rng.permutation(len(parts))
        merged = copy.deepcopy(parts[order[0]])
        merged.merge_state(*(parts[i] for i in order[1:]))
        states[f"merge_state, order {trial}"] = merged.state
    statistic = rm.R2Score().statistic
    pool = [part.state for part in parts if part.state is not None]
    while len(pool) > 1:
        first = pool.pop(int(rng.integers(len(pool))))
        second = pool.pop(int(rng.integers(len(pool))))
        pool.append(statistic.merge(first, second))
    states["random tree"] = pool[0]
    return states


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("relative_offset", "rtol"), OFFSETS, ids=[f"{o:g}" for o, _ in OFFSETS])
def test_large_offsets_agree_with_scikit_learn(relative_offset, rtol, weighted):
    """R2Score(dtype="float64") on 1,000 rows of 3 outputs at 1e4 .. 1e10 times the spread from 0,
    streamed in four splittings and merged in three ways, every class_aggregation, plain and
    adjusted: scikit-learn's two-pass r2_score to 1e-10 (offsets up to 1e6 spreads) or 1e-6."""
    y_true, y_pred, weight = _offset_data(relative_offset, seed=int(np.log10(relative_offset)))
    weight = weight if weighted else None
    rng = np.random.default_rng(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        states = _states(y_true, y_pred, weight, rng)
        for aggregation in AGGREGATIONS:
            for num_regressors in (0, 5):
                statistic = rm.R2Score(class_aggregation=aggregation, num_regressors=num_regressors).statistic
                expected = _sklearn_r2(y_true, y_pred, weight, aggregation, num_regressors)
                assert np.all(expected > 0.9)  # the data's R2 is about 0.99
                for how, state in states.items():
                    actual = to_numpy(statistic.result(state, "float64"))
                    np.testing.assert_allclose(
                        actual,
                        expected,
                        rtol=rtol,
                        atol=0,
                        err_msg=f"{how}, {aggregation}, p={num_regressors}",
                    )


def test_the_issues_table_of_absolute_offsets():
    """The issue's measurement (offsets 1e4, 1e6, 1e8 on a spread of 1e-3, one output): the raw
    sums gave 0.98983, 0.0 and 0.99999999 where scikit-learn gives 0.98971, 0.98999, 0.99003."""
    for offset in (1e4, 1e6, 1e8):
        y_true, y_pred, _ = _offset_data(offset / SPREAD, seed=3, outputs=1)
        metric = _feed(rm.R2Score(dtype="float64"), y_true, y_pred, None, [(0, 500), (500, ROWS)])
        expected = sklearn_metrics.r2_score(y_true, y_pred)
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6, atol=0, err_msg=str(offset))


def test_float64_agrees_with_exact_rational_arithmetic():
    """The same 1e8-spread offset, weighted, 3 outputs, in batches of 13: the exact R2 of the
    float64 data (Fractions) to 1e-9, as close as scikit-learn's own value is."""
    y_true, y_pred, weight = _offset_data(1e8, seed=11)
    y_true, y_pred, weight = y_true[:300], y_pred[:300], weight[:300]
    metric = rm.R2Score(dtype="float64", class_aggregation=None)
    for start in range(0, 300, 13):
        metric.update_state(
            y_true[start : start + 13], y_pred[start : start + 13], weight[start : start + 13]
        )
    exact = []
    w = [Fraction(v) for v in weight]
    for j in range(OUTPUTS):
        t, p = [Fraction(v) for v in y_true[:, j]], [Fraction(v) for v in y_pred[:, j]]
        mean = sum(wi * ti for wi, ti in zip(w, t, strict=True)) / sum(w)
        sst = sum(wi * (ti - mean) ** 2 for wi, ti in zip(w, t, strict=True))
        ssr = sum(wi * (ti - pi) ** 2 for wi, ti, pi in zip(w, t, p, strict=True))
        exact.append(float(1 - ssr / sst))
    np.testing.assert_allclose(to_numpy(metric.result()), exact, rtol=1e-9, atol=0)
    sklearn = sklearn_metrics.r2_score(y_true, y_pred, sample_weight=weight, multioutput="raw_values")
    np.testing.assert_allclose(sklearn, exact, rtol=1e-9, atol=0)


# ----------------------------------------------------------------------------- SST = 0


ONE_ROW = (-0.1935089921084129, 1.1310359813431097, 2.9518132293838177)  # the issue's row


def _one_row_cases(xp):
    """(description, batches): one-row streams, 1-D and 2-D, weighted or not, a masked first row."""
    t, p, w = ONE_ROW
    asarray = xp.asarray
    return [
        ("1-D", [(asarray([t]), asarray([p]), None, None)]),
        ("2-D weighted", [(asarray([[t]]), asarray([[p]]), asarray([w]), None)]),
        ("1-D weighted", [(asarray([t]), asarray([p]), asarray([w]), None)]),
        ("masked first row", [(asarray([1e300, t]), asarray([0.0, p]), None, asarray([False, True]))]),
        ("zero-weight first row", [(asarray([5.0, t]), asarray([1.0, p]), asarray([0.0, w]), None)]),
        (
            "an empty batch, then the row",
            [
                (asarray(np.zeros((0, 1))), asarray(np.zeros((0, 1))), None, None),
                (asarray([[t]]), asarray([[p]]), asarray([w]), None),
            ],
        ),  # fmt: skip
        ("the row twice", [(asarray([t, t]), asarray([p, p]), asarray([w, 1.0]), None)]),
    ]


def test_one_row_streams_give_zero_without_a_warning(xp):
    """A stream of one row, or one distinct y_true: SST = 0 exactly, SSR > 0, so R2 is 0 by Keras's
    rule (1 - SSR / SST is -inf, and an infinite score becomes 0), per output and uniformly
    averaged, adjusted or not, float32 or float64, with no warning (raw sums gave -3.7e17 for the
    weighted row); the variance-weighted average of no variance is NaN (0 / 0, Keras's formula)."""
    for what, batches in _one_row_cases(xp):
        for aggregation in AGGREGATIONS:
            for num_regressors in (0, 1):
                for dtype in ("float32", "float64"):
                    metric = rm.R2Score(aggregation, num_regressors, dtype=dtype)
                    with warnings.catch_warnings():
                        warnings.simplefilter("error")
                        for y_true, y_pred, weight, mask in batches:
                            metric.update_state(y_true, y_pred, weight, mask=mask)
                        result = to_numpy(metric.result())
                    expected_shape = (1,) if aggregation is None else ()
                    assert result.shape == expected_shape and result.dtype == np.dtype(dtype), what
                    # sum(SST_j r2_j) / sum(SST_j) is 0 / 0 when every SST_j is 0: NaN, as in Keras
                    expected = np.nan if aggregation == "variance_weighted_average" else 0.0
                    np.testing.assert_array_equal(result, expected, err_msg=f"{what}, {num_regressors}")


def test_zero_variance_and_zero_residual_is_nan_without_a_warning(xp):
    """SST = 0 and SSR = 0 (a constant target predicted exactly): 1 - 0/0 is NaN in Keras and here,
    without a warning; an empty state too. A constant output beside a varying one: 0 (or NaN)
    for it, the varying one's score, and the aggregations of Keras's formulas."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = rm.R2Score(dtype="float64")
        exact.update_state(xp.asarray([0.3, 0.3, 0.3]), xp.asarray([0.3, 0.3, 0.3]))
        assert np.isnan(to_numpy(exact.result()))
        statistic = rm.R2Score().statistic
        assert np.isnan(to_numpy(statistic.result(statistic.init(xp.asarray([0.0])), "float64")))
        # 0.1 is no sum of equal terms: a mean of the raw values would round, its shift does not
        y_true = np.array([[0.1, 1.0, 0.1], [0.1, 2.0, 0.1], [0.1, 4.0, 0.1]])
        y_pred = np.array([[0.2, 1.5, 0.1], [0.1, 2.0, 0.1], [0.0, 3.0, 0.1]])
        varying = 1 - 1.25 / (((y_true[:, 1] - y_true[:, 1].mean()) ** 2).sum())
        per_output = rm.R2Score(None, dtype="float64")
        uniform = rm.R2Score(dtype="float64")
        weighted = rm.R2Score("variance_weighted_average", dtype="float64")
        for metric in (per_output, uniform, weighted):
            for row in range(3):
                metric.update_state(xp.asarray(y_true[row : row + 1]), xp.asarray(y_pred[row : row + 1]))
        np.testing.assert_allclose(to_numpy(per_output.result())[:2], [0.0, varying], rtol=1e-14)
        assert np.isnan(to_numpy(per_output.result())[2])
        assert np.isnan(to_numpy(uniform.result()))  # the mean of (0, r2, NaN)
        assert np.isnan(to_numpy(weighted.result()))  # 0 * NaN in sum(SST_j r2_j)


# ------------------------------------------------------------------- bootstrap, Dask, CLI


def test_bootstrap_replicates_agree_with_scikit_learn_at_a_large_offset():
    """Each replicate of Bootstrap(R2Score) is R2 with the rows weighted by their Poisson counts:
    scikit-learn's r2_score with sample_weight = weight * counts, to 1e-10, at 1e6 spreads from 0,
    in one batch (numba's kernel where installed) and in batches of 37 (NumPy steps)."""
    y_true, y_pred, weight = _offset_data(1e6, seed=5, outputs=2)
    replicates, seed = 30, 9
    counts = to_numpy(poisson.poisson_weights(np, seed, 0, ROWS, replicates))  # (replicates, rows)
    expected = np.stack(
        [
            sklearn_metrics.r2_score(
                y_true, y_pred, sample_weight=weight * counts[r], multioutput="raw_values"
            )
            for r in range(replicates)
        ]
    )
    for bounds in ([(0, ROWS)], [(i, min(i + 37, ROWS)) for i in range(0, ROWS, 37)]):
        metric = rm.Bootstrap(rm.R2Score(None, dtype="float64"), replicates, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for start, stop in bounds:
                metric.update_state(y_true[start:stop], y_pred[start:stop], weight[start:stop])
            values = to_numpy(metric.statistic.replicate_values(metric.state, "float64"))
        np.testing.assert_allclose(values, expected, rtol=1e-10, atol=0)
        point = sklearn_metrics.r2_score(y_true, y_pred, sample_weight=weight, multioutput="raw_values")
        np.testing.assert_allclose(to_numpy(metric.result().value), point, rtol=1e-10, atol=0)


def test_bootstrap_of_one_row_gives_zero_without_a_warning():
    t, p, w = ONE_ROW
    metric = rm.Bootstrap(rm.R2Score(dtype="float64"), num_replicates=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric.update_state(np.array([[t]]), np.array([[p]]), np.array([w]))
        result = metric.result()
    assert float(result.value) == 0.0
    # a replicate that drew the row scores 0 like the point; one that did not has no data: NaN
    values = to_numpy(metric.statistic.replicate_values(metric.state, "float64"))
    assert set(np.unique(values[~np.isnan(values)]).tolist()) <= {0.0}


def test_dask_evaluate_of_one_row_chunks_at_a_large_offset():
    """regloss.dask.evaluate over chunks of one row, and of 97 rows, at 1e6 spreads: scikit-learn
    to 1e-10; and its interval equals the in-memory Bootstrap's to 1e-10."""
    da = pytest.importorskip("dask.array")
    rdask = pytest.importorskip("regloss.dask")
    y_true, y_pred, weight = _offset_data(1e6, seed=6, outputs=2)
    y_true, y_pred, weight = y_true[:200], y_pred[:200], weight[:200]
    expected = sklearn_metrics.r2_score(y_true, y_pred, sample_weight=weight)
    for rows in (1, 97):
        t, p, w = (da.from_array(a, chunks=rows) for a in (y_true, y_pred, weight))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            results = rdask.evaluate(t, p, ["r2"], w)
            interval = rdask.evaluate(t, p, ["r2"], w, confidence=0.9, num_replicates=20, seed=4)["r2"]
        np.testing.assert_allclose(float(results["r2"]), expected, rtol=1e-10, atol=0)
        bootstrap = rm.Bootstrap(rm.R2Score(dtype="float64"), 20, 0.9, seed=4)
        bootstrap.update_state(y_true, y_pred, weight)
        want = bootstrap.result()
        for field in ("value", "ci_low", "ci_high", "se"):
            np.testing.assert_allclose(interval[field], to_numpy(getattr(want, field)), rtol=1e-10, atol=0)


def test_filtered_dask_batches_of_unknown_rows():
    """A class fed boolean-filtered Dask arrays (unknown row chunks, some empty): scikit-learn's R2
    at 1e6 spreads, weighted or not, adjusted with the right n; the caller's arrays keep their
    unknown chunks."""
    da = pytest.importorskip("dask.array")
    y_true, y_pred, weight = _offset_data(1e6, seed=9, outputs=2)
    y_true, y_pred, weight = y_true[:100], y_pred[:100], weight[:100]
    keep = np.arange(100) % 7 > 2
    keep[:25] = False  # the first chunk is empty once filtered
    t, p, w = (da.from_array(a, chunks=25)[da.from_array(keep, chunks=25)] for a in (y_true, y_pred, weight))
    for given in (None, w):
        metric = rm.R2Score(num_regressors=3, dtype="float64")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            metric.update_state(t, p, given)
        chosen = None if given is None else weight[keep]
        expected = _sklearn_r2(y_true[keep], y_pred[keep], chosen, "uniform_average", 3)
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-10, atol=0)
    assert all(np.isnan(size) for size in t.chunks[0])


def test_command_line_one_row_file_and_one_row_chunks(tmp_path):
    """The command line: a one-row file scores 0 (it gave -3.7e17 weighted), and a file read in
    chunks of one row at 1e6 spreads from 0 gives scikit-learn's R2 to 1e-10."""
    from tests.test_cli import ok_json, write_csv

    t, p, w = ONE_ROW
    one = write_csv(tmp_path / "one.csv", {"y_true": [t], "y_pred": [p], "weight": [w]})
    for flags in ((), ("--weight", "weight")):
        report = ok_json(one, "--metrics", "r2,r2_per_output", *flags)
        assert report["metrics"]["r2"]["value"] == 0.0
        assert report["metrics"]["r2_per_output"]["value"] == [0.0]
    y_true, y_pred, weight = _offset_data(1e6, seed=8, outputs=1)
    y_true, y_pred, weight = y_true[:300, 0], y_pred[:300, 0], weight[:300]
    path = write_csv(tmp_path / "offset.csv", {"y_true": y_true, "y_pred": y_pred, "weight": weight})
    report = ok_json(path, "--metrics", "r2", "--weight", "weight", "--chunk-rows", "1")
    expected = sklearn_metrics.r2_score(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(report["metrics"]["r2"]["value"], expected, rtol=1e-10, atol=0)
    assert json.loads(json.dumps(report))  # plain JSON


def test_command_line_dask_engine_on_one_row_files(tmp_path):
    """``--engine dask`` over files of one row each (one partition per file) at 1e6 spreads from 0:
    scikit-learn's R2 to 1e-10; a single one-row file scores 0."""
    from tests.test_cli import _has_regloss_dask, ok_json, write_csv

    if not _has_regloss_dask():
        pytest.skip("regloss.dask, dask.dataframe or pyarrow is not importable")
    y_true, y_pred, weight = _offset_data(1e6, seed=10, outputs=1)
    (tmp_path / "rows").mkdir()
    for row in range(6):
        columns = {"y_true": y_true[row], "y_pred": y_pred[row], "weight": weight[row : row + 1] + 0.5}
        write_csv(tmp_path / "rows" / f"row{row}.csv", columns)
    flags = ("--engine", "dask", "--weight", "weight", "--metrics", "r2")
    report = ok_json(str(tmp_path / "rows" / "row*.csv"), *flags)
    expected = sklearn_metrics.r2_score(y_true[:6, 0], y_pred[:6, 0], sample_weight=weight[:6] + 0.5)
    np.testing.assert_allclose(report["metrics"]["r2"]["value"], expected, rtol=1e-10, atol=0)
    assert ok_json(tmp_path / "rows" / "row0.csv", *flags)["metrics"]["r2"]["value"] == 0.0


# ------------------------------------------------------------------------- moments module


def _reference_moments(columns, weight):
    """(W, mean, comoment) of ``(rows, *cells, k)`` columns in float64, two-pass."""
    weight = np.broadcast_to(weight, columns.shape[:-1])
    total = weight.sum(axis=0)
    mean = (weight[..., None] * columns).sum(axis=0) / total[..., None]
    centred = columns - mean
    comoment = np.einsum("r...,r...a,r...b->...ab", weight, centred, centred)
    return total, mean, comoment


def _batch_moments(xp, precision, columns, weight):
    shift = moments.shift_of(xp, columns, weight)
    terms = moments.row_terms(xp, columns, weight, shift)
    sums = {name: xp.sum(terms[name], axis=0) for name in moments.TERMS}
    return moments.from_sums(xp, precision, shift, sums)


def test_moments_of_several_columns_merge_like_two_pass_float64(xp):
    """Three columns (co-moments: a Pearson or explained-variance statistic's state) in two cells,
    at 1e8 spreads from 0, cut into batches (one of a single row, one empty) merged along two
    different trees, on every library: NumPy's two-pass float64 moments to 1e-7 (comoments) and
    1e-15 (means); an empty state is neutral exactly."""
    import array_api_compat

    from regloss.metrics import accumulate as acc

    xp = array_api_compat.array_namespace(xp.asarray([0.0]))  # the array API face of the library
    rng = np.random.default_rng(21)
    rows = 60
    base = rng.normal(size=(rows, 2, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.0]])
    columns = 1e8 + base
    weight = rng.uniform(0.2, 3.0, size=(rows, 2))
    weight[rng.uniform(size=rows) < 0.2] = 0.0
    precision = acc.precision_of(xp)
    bounds = [(0, 1), (1, 1), (1, 17), (17, 40), (40, rows)]
    parts = [
        _batch_moments(xp, precision, xp.asarray(columns[a:b]), xp.asarray(weight[a:b])) for a, b in bounds
    ]
    left = parts[0]
    for part in parts[1:]:
        left = moments.merge(xp, precision, left, part)
    right = parts[-1]
    for part in reversed(parts[:-1]):
        right = moments.merge(xp, precision, part, right)
    expected = _reference_moments(columns, weight)
    for merged in (left, right):
        total, mean, comoment = (to_numpy(v) for v in moments.values(xp, precision, merged, xp.float64))
        np.testing.assert_allclose(total, expected[0], rtol=1e-14)
        np.testing.assert_allclose(mean, expected[1], rtol=1e-15)
        # each merge rounds the means to ulp(1e8) = 1.5e-8 spreads: about 1e-8 relative per merge
        # (raw power sums lose every digit here: 1e16 * 60 against a comoment of 60)
        np.testing.assert_allclose(comoment, expected[2], rtol=1e-7, atol=1e-7 * np.abs(expected[2]).max())
    empty = moments.zeros(xp, precision, (2,), 3, device=None)
    for merged in (moments.merge(xp, precision, empty, left), moments.merge(xp, precision, left, empty)):
        for name in moments.MOMENTS:
            assert np.array_equal(to_numpy(merged[name]), to_numpy(left[name])), name


def test_moments_of_a_constant_column_are_exactly_zero():
    """A column of one value (0.1, whose mean of raw sums rounds), weighted, in batches merged in
    any order: comoment exactly 0, mean exactly the value."""
    from regloss.metrics import accumulate as acc

    rng = np.random.default_rng(3)
    columns = np.full((40, 1, 2), 0.1)
    columns[:, 0, 1] = rng.normal(size=40)  # a varying column beside it
    weight = rng.uniform(0.1, 3.0, size=(40, 1))
    precision = acc.precision_of(np)
    parts = [_batch_moments(np, precision, columns[a : a + 9], weight[a : a + 9]) for a in range(0, 40, 9)]
    for order in (range(len(parts)), reversed(range(len(parts)))):
        order = list(order)
        merged = parts[order[0]]
        for i in order[1:]:
            merged = moments.merge(np, precision, merged, parts[i])
        assert merged["comoment"][0, 0, 0] == 0.0 and merged["comoment"][0, 0, 1] == 0.0
        assert merged["mean"][0, 0] == 0.1
