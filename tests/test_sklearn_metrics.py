"""scikit-learn's regression metrics as streaming classes (issue 22, item 2).

Every expected value comes from scikit-learn 1.9.1 on the concatenated data, from NumPy on it
(the mean over outputs of scikit-learn's single-output values, where scikit-learn refuses several
outputs), or from exact decimal arithmetic (60 digits) for near-constant targets at large offsets,
where scikit-learn's own float64 two-pass deviance has no correct digit.
"""

from __future__ import annotations

import copy
import json
import pickle
from decimal import Decimal, getcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import regloss.metrics as rm
from tests._helpers import library_name, to_numpy

skm = pytest.importorskip("sklearn.metrics")

POWERS = (-1.0, 0.0, 1.0, 1.5, 2.0, 3.0)
MULTIOUTPUTS = ("raw_values", "uniform_average", (0.2, 0.5, 0.3))


def _data(seed=0, rows=240, outputs=3, weighted=True):
    """Positive targets and predictions (every power's domain), weights in [0, 2) with zeros."""
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.2, 4.0, size=(rows, outputs))
    y_pred = np.clip(y_true + rng.normal(0.0, 0.8, size=(rows, outputs)), 0.05, None)
    weight = rng.uniform(0.0, 2.0, size=rows) if weighted else None
    if weight is not None:
        weight[::13] = 0.0
    return y_true, y_pred, weight


def _sklearn_single(function, y_true, y_pred, weight, **kwargs):
    """scikit-learn's single-output function, averaged over the outputs (columns)."""
    y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    return np.mean(
        [function(y_true[:, j], y_pred[:, j], sample_weight=weight, **kwargs) for j in range(y_true.shape[1])]
    )


def _max_error(y_true, y_pred, weight):
    """scikit-learn's max_error over the rows of non-zero weight, the max over the outputs."""
    keep = slice(None) if weight is None else weight != 0
    y_true, y_pred = y_true.reshape(len(y_true), -1)[keep], y_pred.reshape(len(y_pred), -1)[keep]
    return max(skm.max_error(y_true[:, j], y_pred[:, j]) for j in range(y_true.shape[1]))


# (id, class, constructor arguments, reference(y_true, y_pred, weight))
CASES = [
    *(
        (
            f"pinball-{alpha}-{multioutput}",
            rm.MeanPinballLoss,
            {"alpha": alpha, "multioutput": multioutput},
            lambda t, p, w, a=alpha, m=multioutput: skm.mean_pinball_loss(
                t, p, sample_weight=w, alpha=a, multioutput=m
            ),
        )
        for alpha in (0.1, 0.5, 0.9)
        for multioutput in MULTIOUTPUTS
    ),
    *(
        (
            f"rmsle-{multioutput}",
            rm.RootMeanSquaredLogarithmicError,
            {"multioutput": multioutput},
            lambda t, p, w, m=multioutput: skm.root_mean_squared_log_error(
                t, p, sample_weight=w, multioutput=m
            ),
        )
        for multioutput in MULTIOUTPUTS
    ),
    *(
        (
            f"explained_variance-{multioutput}-{finite}",
            rm.ExplainedVarianceScore,
            {"multioutput": multioutput, "force_finite": finite},
            lambda t, p, w, m=multioutput, f=finite: skm.explained_variance_score(
                t, p, sample_weight=w, multioutput=m, force_finite=f
            ),
        )
        for multioutput in (*MULTIOUTPUTS, "variance_weighted")
        for finite in (True, False)
    ),
    *(
        (
            f"tweedie-{power}",
            rm.MeanTweedieDeviance,
            {"power": power},
            lambda t, p, w, q=power: _sklearn_single(skm.mean_tweedie_deviance, t, p, w, power=q),
        )
        for power in POWERS
    ),
    (
        "poisson",
        rm.MeanPoissonDeviance,
        {},
        lambda t, p, w: _sklearn_single(skm.mean_poisson_deviance, t, p, w),
    ),
    ("gamma", rm.MeanGammaDeviance, {}, lambda t, p, w: _sklearn_single(skm.mean_gamma_deviance, t, p, w)),
    *(
        (
            f"d2_tweedie-{power}",
            rm.D2TweedieScore,
            {"power": power},
            lambda t, p, w, q=power: _sklearn_single(skm.d2_tweedie_score, t, p, w, power=q),
        )
        for power in POWERS
    ),
    ("max_error", rm.MaxError, {}, _max_error),
]
CASE_IDS = [case[0] for case in CASES]


def _some_cases(*extra_ids):
    """The first case of every class, and the cases ``extra_ids``: ``(cases, ids)``."""
    chosen = [case for i, case in enumerate(CASES) if all(case[1] is not other[1] for other in CASES[:i])]
    chosen += [case for case in CASES if case[0] in extra_ids and case not in chosen]
    return chosen, [case[0] for case in chosen]


XP_CASES, XP_IDS = _some_cases(
    "pinball-0.9-raw_values", "explained_variance-variance_weighted-False", "tweedie-1.5", "d2_tweedie-2.0"
)


def _stream(metric, y_true, y_pred, weight, cuts):
    """``metric`` fed the batches between ``cuts`` (empty batches skipped)."""
    bounds = [0, *cuts, len(y_true)]
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        if stop > start:
            metric.update_state(
                y_true[start:stop], y_pred[start:stop], None if weight is None else weight[start:stop]
            )
    return metric


def _close(found, expected, rtol=1e-12, atol=1e-13):
    np.testing.assert_allclose(to_numpy(found), np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------ scikit-learn's values


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("case_id", "cls", "kwargs", "reference"), CASES, ids=CASE_IDS)
def test_one_shot_and_a_stream_give_scikit_learns_value(case_id, cls, kwargs, reference, weighted):
    y_true, y_pred, weight = _data(seed=len(case_id), weighted=weighted)
    expected = reference(y_true, y_pred, weight)
    one_shot = cls(**kwargs, dtype="float64")
    one_shot.update_state(y_true, y_pred, weight)
    _close(one_shot.result(), expected)
    streamed = _stream(cls(**kwargs, dtype="float64"), y_true, y_pred, weight, [1, 2, 50, 50, 170])
    _close(streamed.result(), expected)


@pytest.mark.parametrize(("case_id", "cls", "kwargs", "reference"), CASES, ids=CASE_IDS)
def test_one_output_as_1d_batches(case_id, cls, kwargs, reference):
    """A 1-D batch of B values is B samples of one output, with scikit-learn's 1-D value."""
    y_true, y_pred, weight = _data(seed=3, outputs=1)
    if isinstance(kwargs.get("multioutput"), tuple):  # scikit-learn takes no output weights for one output
        kwargs = {**kwargs, "multioutput": (2.0,)}
        uniform_id = case_id.replace(str(MULTIOUTPUTS[2]), "uniform_average")
        reference = next(case[3] for case in CASES if case[0] == uniform_id)
    expected = reference(y_true[:, 0], y_pred[:, 0], weight)
    metric = _stream(cls(**kwargs, dtype="float64"), y_true[:, 0], y_pred[:, 0], weight, [7, 100])
    _close(np.reshape(to_numpy(metric.result()), -1), np.reshape(expected, -1))


@settings(max_examples=20, deadline=None)
@given(
    case=st.sampled_from(CASES),
    cuts=st.lists(st.integers(0, 60), max_size=6).map(sorted),
    merge_at=st.integers(0, 60),
    weighted=st.booleans(),
)
def test_stream_and_merge_equal_one_shot(case, cuts, merge_at, weighted):
    """Any split into batches, and any split into two merged streams, give the one-shot value."""
    _, cls, kwargs, reference = case
    y_true, y_pred, weight = _data(seed=5, rows=60, weighted=weighted)
    one_shot = cls(**kwargs, dtype="float64")
    one_shot.update_state(y_true, y_pred, weight)
    streamed = _stream(cls(**kwargs, dtype="float64"), y_true, y_pred, weight, cuts)
    _close(streamed.result(), one_shot.result(), rtol=1e-12)
    first = _stream(cls(**kwargs, dtype="float64"), y_true[:merge_at], y_pred[:merge_at],
                    None if weight is None else weight[:merge_at], [])  # fmt: skip
    second = _stream(cls(**kwargs, dtype="float64"), y_true[merge_at:], y_pred[merge_at:],
                     None if weight is None else weight[merge_at:], cuts)  # fmt: skip
    first.merge_state(second)
    _close(first.result(), one_shot.result(), rtol=1e-12)
    _close(first.result(), reference(y_true, y_pred, weight), rtol=1e-11)


def test_a_mask_is_a_zero_weight_and_masked_values_are_never_read():
    y_true, y_pred, weight = _data(seed=8, outputs=1)
    keep = weight != 0
    y_true[~keep, 0], y_pred[~keep, 0] = -5.0, np.nan  # outside every domain: masked out
    for cls, kwargs, function in [
        (rm.MeanGammaDeviance, {}, skm.mean_gamma_deviance),
        (rm.RootMeanSquaredLogarithmicError, {}, skm.root_mean_squared_log_error),
        (rm.D2TweedieScore, {"power": 1.5}, lambda t, p: skm.d2_tweedie_score(t, p, power=1.5)),
        (rm.MaxError, {}, skm.max_error),
    ]:
        metric = cls(**kwargs, dtype="float64")
        metric.update_state(y_true, y_pred, mask=keep)
        _close(metric.result(), function(y_true[keep, 0], y_pred[keep, 0]))


# ------------------------------------------------------------------ near-constant targets, large offsets

getcontext().prec = 60


def _decimal_deviance(y: Decimal, m: Decimal, p: Decimal) -> Decimal:
    if p == 0:
        return (y - m) ** 2
    if p == 1:
        return 2 * (y * (y / m).ln() - y + m)
    if p == 2:
        return 2 * ((m / y).ln() + y / m - 1)
    return 2 * (y ** (2 - p) / ((1 - p) * (2 - p)) - y * m ** (1 - p) / (1 - p) + m ** (2 - p) / (2 - p))


def _decimal_d2(y_true, y_pred, weight, power) -> float:
    """D² Tweedie in 60-digit decimal arithmetic from the exact float64 inputs (two passes)."""
    p = Decimal(power)
    ys, ms, ws = ([Decimal(float(v)) for v in a] for a in (y_true, y_pred, weight))
    total = sum(ws)
    mean = sum(w * y for w, y in zip(ws, ys, strict=True)) / total
    residual = sum(w * _decimal_deviance(y, m, p) for w, y, m in zip(ws, ys, ms, strict=True))
    null = sum(w * _decimal_deviance(y, mean, p) for w, y in zip(ws, ys, strict=True))
    return float(1 - residual / null)


@pytest.mark.parametrize(("offset", "rtol"), [(1e3, 1e-10), (1e6, 1e-6)], ids=["1e6-spreads", "1e9-spreads"])
@pytest.mark.parametrize("power", [0.0, 1.0, 1.5, 2.0, 3.0])
def test_d2_tweedie_near_constant_targets_at_large_offsets(power, offset, rtol):
    """y_true = offset + N(0, 1e-3), y_pred = y_true + N(0, 1e-4): one shot, streamed in batches
    of 7 and merged, against the exact decimal value (about 0.99)."""
    rng = np.random.default_rng(11)
    y_true = offset + rng.normal(0.0, 1e-3, size=500)
    y_pred = y_true + rng.normal(0.0, 1e-4, size=500)
    weight = rng.uniform(0.5, 2.0, size=500)
    expected = _decimal_d2(y_true, y_pred, weight, power)
    assert 0.95 < expected < 1.0
    one_shot = rm.D2TweedieScore(power, dtype="float64")
    one_shot.update_state(y_true, y_pred, weight)
    _close(one_shot.result(), expected, rtol=rtol, atol=0)
    sevens = list(range(7, 500, 7))
    streamed = _stream(rm.D2TweedieScore(power, dtype="float64"), y_true, y_pred, weight, sevens)
    _close(streamed.result(), expected, rtol=rtol, atol=0)
    other = _stream(rm.D2TweedieScore(power, dtype="float64"), y_true[:123], y_pred[:123], weight[:123], [50])
    rest = _stream(rm.D2TweedieScore(power, dtype="float64"), y_true[123:], y_pred[123:], weight[123:], [200])
    other.merge_state(rest)
    _close(other.result(), expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("offset", [1e3, 1e6, 1e9])
def test_explained_variance_near_constant_targets_at_large_offsets(offset):
    """scikit-learn's two-pass value (exact enough here: it centres), from a stream of batches of 7."""
    rng = np.random.default_rng(12)
    y_true = offset + rng.normal(0.0, 1e-3, size=(700, 2))
    y_pred = y_true + rng.normal(0.0, 1e-4, size=(700, 2))
    weight = rng.uniform(0.5, 2.0, size=700)
    expected = skm.explained_variance_score(y_true, y_pred, sample_weight=weight, multioutput="raw_values")
    sevens = list(range(7, 700, 7))
    metric = _stream(rm.ExplainedVarianceScore("raw_values", dtype="float64"), y_true, y_pred, weight, sevens)
    _close(metric.result(), expected, rtol=1e-10 if offset < 1e6 else 1e-6, atol=0)


def test_raw_power_sums_would_fail_the_offset_test():
    """The control: D² at power 2 from raw sums (W, sum w y, sum w log y) at 1e6 + N(0, 1e-3) is far
    from the decimal value, which the test above holds regloss to."""
    rng = np.random.default_rng(11)
    y_true = 1e6 + rng.normal(0.0, 1e-3, size=500)
    y_pred = y_true + rng.normal(0.0, 1e-4, size=500)
    weight = rng.uniform(0.5, 2.0, size=500)
    total, mean = weight.sum(), np.sum(weight * y_true) / weight.sum()
    null_from_sums = 2 * (total * np.log(mean) - np.sum(weight * np.log(y_true)))
    with np.errstate(divide="ignore", invalid="ignore"):  # the sums cancel to 0 or a few ulps
        raw = 1 - np.sum(weight * 2 * (np.log(y_pred / y_true) + y_true / y_pred - 1)) / null_from_sums
    assert abs(raw - _decimal_d2(y_true, y_pred, weight, 2.0)) > 1e-3


# ------------------------------------------------------------------------------ edge values


def test_scikit_learns_edge_values():
    # explained variance: a perfect constant prediction is 1 (force_finite) or NaN; a constant
    # target with errors 0 (force_finite) or -inf
    for y_pred, finite, expected in [
        ([-2.0, -2.0, -2.0], True, 1.0),
        ([-2.0, -2.0, -2.0], False, np.nan),
        ([-2.0, -2.0, -2.0 + 1e-8], True, 0.0),
        ([-2.0, -2.0, -2.0 + 1e-8], False, -np.inf),
    ]:
        metric = rm.ExplainedVarianceScore(force_finite=finite, dtype="float64")
        metric.update_state(np.array([-2.0, -2.0, -2.0]), np.array(y_pred))  # lists would be floatx
        _close(metric.result(), expected)
        with np.errstate(all="ignore"):
            _close(expected, skm.explained_variance_score([-2, -2, -2], y_pred, force_finite=finite))
    # D2 of one sample is NaN, as scikit-learn's (which warns)
    metric = rm.D2TweedieScore(1.0, dtype="float64")
    metric.update_state([3.0], [2.0])
    assert np.isnan(to_numpy(metric.result()))
    # variance_weighted with every variance 0 falls back to the uniform mean
    metric = rm.ExplainedVarianceScore("variance_weighted", dtype="float64")
    metric.update_state([[1.0, 2.0], [1.0, 2.0]], [[1.0, 2.5], [1.0, 1.5]])
    _close(metric.result(), skm.explained_variance_score([[1, 2], [1, 2]], [[1, 2.5], [1, 1.5]],
                                                          multioutput="variance_weighted"))  # fmt: skip
    # Poisson deviance at y_true = 0
    metric = rm.MeanPoissonDeviance(dtype="float64")
    metric.update_state([0.0, 1.0, 0.0], [0.5, 2.0, 1.0])
    _close(metric.result(), skm.mean_poisson_deviance([0, 1, 0], [0.5, 2, 1]))


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("make", "y_true", "y_pred", "words"),
    [
        (lambda: rm.MeanGammaDeviance(), [1.0, 0.0], [1.0, 1.0], "y_true must be > 0"),
        (lambda: rm.MeanGammaDeviance(), [1.0, 2.0], [1.0, -1.0], "y_pred must be > 0"),
        (lambda: rm.MeanPoissonDeviance(), [-1.0, 2.0], [1.0, 1.0], "y_true must be >= 0"),
        (lambda: rm.MeanPoissonDeviance(), [1.0, 2.0], [0.0, 1.0], "y_pred must be > 0"),
        (lambda: rm.MeanTweedieDeviance(-1.0), [-1.0, 2.0], [0.0, 1.0], "y_pred must be > 0"),
        (lambda: rm.MeanTweedieDeviance(3.0), [0.0, 2.0], [1.0, 1.0], "y_true must be > 0"),
        (lambda: rm.D2TweedieScore(1.5), [-1.0, 2.0], [1.0, 1.0], "y_true must be >= 0"),
        (lambda: rm.RootMeanSquaredLogarithmicError(), [-1.0, 2.0], [1.0, 1.0], "y_true must be > -1"),
        (lambda: rm.RootMeanSquaredLogarithmicError(), [0.0, 2.0], [1.0, -1.5], "y_pred must be > -1"),
    ],
)
def test_values_outside_the_domain_are_a_value_error_and_the_state_is_kept(make, y_true, y_pred, words):
    metric = make()
    metric.update_state([1.0, 2.0], [1.5, 2.5])
    before = copy.deepcopy(metric.state)
    with pytest.raises(ValueError, match="y_true|y_pred") as raised:
        metric.update_state(y_true, y_pred)
    assert words in str(raised.value)
    for key in before:
        np.testing.assert_array_equal(metric.state[key], before[key])
    with pytest.raises(ValueError), np.errstate(all="ignore"):  # scikit-learn refuses the same values
        function = {
            rm.MeanGammaDeviance: skm.mean_gamma_deviance,
            rm.MeanPoissonDeviance: skm.mean_poisson_deviance,
            rm.RootMeanSquaredLogarithmicError: skm.root_mean_squared_log_error,
        }.get(type(metric))
        if function is None:
            function = {
                rm.MeanTweedieDeviance: skm.mean_tweedie_deviance,
                rm.D2TweedieScore: skm.d2_tweedie_score,
            }[type(metric)]
            function(y_true, y_pred, power=metric.power)
        else:
            function(y_true, y_pred)


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: rm.MeanPinballLoss(alpha=1.5), ValueError, "alpha"),
        (lambda: rm.MeanPinballLoss(alpha=-0.1), ValueError, "alpha"),
        (lambda: rm.MeanPinballLoss(alpha="0.5"), TypeError, "alpha"),
        (lambda: rm.MeanTweedieDeviance(power=0.5), ValueError, "power"),
        (lambda: rm.D2TweedieScore(power=0.99), ValueError, "power"),
        (lambda: rm.MeanTweedieDeviance(power=float("nan")), ValueError, "power"),
        (lambda: rm.MeanTweedieDeviance(power=None), TypeError, "power"),
        (lambda: rm.MeanPinballLoss(multioutput="variance_weighted"), ValueError, "multioutput"),
        (lambda: rm.ExplainedVarianceScore(multioutput="mean"), ValueError, "multioutput"),
        (lambda: rm.RootMeanSquaredLogarithmicError(multioutput=[1.0, -1.0]), ValueError, "multioutput"),
        (lambda: rm.RootMeanSquaredLogarithmicError(multioutput=[[1.0]]), TypeError, "multioutput"),
        (lambda: rm.ExplainedVarianceScore(force_finite="yes"), TypeError, "force_finite"),
    ],
)
def test_bad_parameters_name_the_argument(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_shapes_are_checked():
    metric = rm.MeanPinballLoss(multioutput=(1.0, 2.0))
    with pytest.raises(ValueError, match="output weights"):
        metric.update_state(np.ones((4, 3)), np.ones((4, 3)))
    metric = rm.ExplainedVarianceScore()
    metric.update_state(np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="3 output"):
        metric.update_state(np.ones((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="shape"):
        rm.MaxError().update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="sample_weight"):
        rm.MeanPoissonDeviance().update_state(np.ones((4, 2)), np.ones((4, 2)), np.ones(3))


# ------------------------------------------------------------------------------ configs, copies


@pytest.mark.parametrize(("case_id", "cls", "kwargs", "reference"), XP_CASES, ids=XP_IDS)
def test_configs_pickles_and_resets(case_id, cls, kwargs, reference):
    y_true, y_pred, weight = _data(seed=2)
    metric = cls(**kwargs, name="mine", dtype="float64")
    config = json.loads(json.dumps(metric.get_config()))
    rebuilt = cls.from_config(config)
    assert rebuilt.get_config() == metric.get_config() and rebuilt.name == "mine"
    metric.update_state(y_true, y_pred, weight)
    copied = pickle.loads(pickle.dumps(metric))
    _close(copied.result(), reference(y_true, y_pred, weight))
    rebuilt.update_state(y_true, y_pred, weight)
    _close(rebuilt.result(), copied.result(), rtol=0, atol=0)
    metric.reset_state()
    assert metric.state is None
    assert cls().name == cls.default_name


def test_default_names_dtype_and_merge_refusals():
    assert rm.MeanPinballLoss().name == "mean_pinball_loss"
    assert rm.RootMeanSquaredLogarithmicError().name == "root_mean_squared_log_error"
    metric = rm.MeanTweedieDeviance(1.5)
    metric.update_state([1.0, 2.0], [1.5, 2.5])
    assert to_numpy(metric.result()).dtype == np.float32
    with pytest.raises(ValueError, match="configuration"):
        metric.merge_state(rm.MeanTweedieDeviance(2.0))
    with pytest.raises(TypeError, match="MeanTweedieDeviance"):
        metric.merge_state(rm.MeanGammaDeviance())


# ------------------------------------------------------------------------------ Bootstrap, Dask


@pytest.mark.parametrize(("case_id", "cls", "kwargs", "reference"), XP_CASES, ids=XP_IDS)
def test_bootstrap_point_value_and_batching(case_id, cls, kwargs, reference):
    """The bootstrap's value is scikit-learn's; batching changes its interval by rounding only."""
    y_true, y_pred, weight = _data(seed=4, rows=300)
    whole = rm.Bootstrap(cls(**kwargs, dtype="float64"), num_replicates=40, seed=7)
    whole.update_state(y_true, y_pred, weight)
    parts = rm.Bootstrap(cls(**kwargs, dtype="float64"), num_replicates=40, seed=7)
    for start in range(0, 300, 70):
        parts.update_state(y_true[start : start + 70], y_pred[start : start + 70], weight[start : start + 70])
    found, batched = whole.result(), parts.result()
    _close(found.value, reference(y_true, y_pred, weight))  # one per output for "raw_values"
    for name in ("value", "ci_low", "ci_high", "se"):
        _close(getattr(batched, name), getattr(found, name), rtol=1e-10)
    assert np.all(to_numpy(found.ci_low) < to_numpy(found.ci_high))
    assert np.all(to_numpy(found.ci_low) <= to_numpy(found.value) + 1e-12)


def test_max_error_bootstrap_replicates_are_the_max_over_the_drawn_rows():
    from regloss.metrics import poisson

    y_true, y_pred, weight = _data(seed=9, rows=500, outputs=2)
    metric = rm.Bootstrap(rm.MaxError(dtype="float64"), num_replicates=30, seed=5)
    metric.update_state(y_true, y_pred, weight)
    counts = np.asarray(poisson.poisson_weights(np, 5, 0, 500, 30, np.float64, None))  # (replicates, rows)
    errors = np.where(weight[:, None] != 0, np.abs(y_true - y_pred), 0.0).max(axis=1)
    replicates = np.where(counts > 0, errors[None, :], 0.0).max(axis=1)
    values = np.asarray(metric.statistic.replicate_values(metric.state))
    np.testing.assert_array_equal(np.sort(values), np.sort(replicates))
    assert float(metric.result().ci_high) <= _max_error(y_true, y_pred, weight)


def test_dask_evaluate_by_name_gives_scikit_learns_values():
    da = pytest.importorskip("dask.array")
    from regloss.dask import evaluate

    y_true, y_pred, weight = _data(seed=6, rows=400, outputs=1)
    t, p, w = (da.from_array(a, chunks=57) for a in (y_true[:, 0], y_pred[:, 0], weight))
    names = ["pinball", "tweedie", "poisson_deviance", "gamma_deviance", "d2_tweedie", "explained_variance",
             "max_error", "rmsle", "MeanPinballLoss", "mean_pinball_loss"]  # fmt: skip
    found = evaluate(t, p, names, w)
    t, p = y_true[:, 0], y_pred[:, 0]
    expected = {
        "pinball": skm.mean_pinball_loss(t, p, sample_weight=weight),
        "tweedie": skm.mean_tweedie_deviance(t, p, sample_weight=weight),
        "poisson_deviance": skm.mean_poisson_deviance(t, p, sample_weight=weight),
        "gamma_deviance": skm.mean_gamma_deviance(t, p, sample_weight=weight),
        "d2_tweedie": skm.d2_tweedie_score(t, p, sample_weight=weight),
        "explained_variance": skm.explained_variance_score(t, p, sample_weight=weight),
        "max_error": _max_error(t, p, weight),
        "rmsle": skm.root_mean_squared_log_error(t, p, sample_weight=weight),
    }
    expected["MeanPinballLoss"] = expected["mean_pinball_loss"] = expected["pinball"]
    for name in names:
        _close(found[name], expected[name])
    instances = [rm.D2TweedieScore(1.5, dtype="float64"), rm.MeanTweedieDeviance(3.0, dtype="float64")]
    intervals = evaluate(da.from_array(t, chunks=33), da.from_array(p, chunks=33), instances, weight,
                         confidence=0.9, num_replicates=20)  # fmt: skip
    _close(intervals["d2_tweedie_score"]["value"],
           skm.d2_tweedie_score(t, p, sample_weight=weight, power=1.5))  # fmt: skip
    _close(intervals["mean_tweedie_deviance"]["value"],
           skm.mean_tweedie_deviance(t, p, sample_weight=weight, power=3.0))  # fmt: skip


# ------------------------------------------------------------------------------ every array library


@pytest.mark.parametrize(("case_id", "cls", "kwargs", "reference"), XP_CASES, ids=XP_IDS)
def test_every_array_library(xp, case_id, cls, kwargs, reference):
    """Batches of each library give scikit-learn's value, a result of that library (a NumPy one
    for Dask batches, which the classes compute into NumPy states)."""
    y_true, y_pred, weight = _data(seed=10, rows=90)
    metric = cls(**kwargs, dtype="float64")
    for start in (0, 40):
        stop = start + 50 if start else 40
        batch = [xp.asarray(a[start:stop]) for a in (y_true, y_pred, weight)]
        metric.update_state(*batch)
    result = metric.result()
    expected_library = "numpy" if library_name(xp) == "dask" else library_name(xp)
    assert type(result).__module__.split(".")[0].replace("jaxlib", "jax") in (expected_library, "jax")
    assert str(result.dtype).endswith("float64")
    _close(result, reference(y_true, y_pred, weight))


def test_jax_jit_of_update_and_result_gives_the_eager_values():
    """The statistics are pure and jit-safe (the domain checks are skipped where values are traced)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)  # as the conftest does for the float64 tests
    jnp = jax.numpy
    statistics = {case_id: cls(**kwargs).statistic for case_id, cls, kwargs, _ in XP_CASES}
    y_true, y_pred, weight = _data(seed=13, rows=30)

    def update_all(states, y_true, y_pred, weight):
        return {name: s.update(states[name], y_true, y_pred, weight) for name, s in statistics.items()}

    def results(states):
        return {name: s.result(states[name], "float64") for name, s in statistics.items()}

    eager = jitted = {name: s.init(jnp.asarray(y_pred)) for name, s in statistics.items()}
    jitted_update = jax.jit(update_all)
    for start in (0, 10, 20):
        batch = [jnp.asarray(a[start : start + 10]) for a in (y_true, y_pred, weight)]
        eager, jitted = update_all(eager, *batch), jitted_update(jitted, *batch)
    expected, found = results(eager), jax.jit(results)(jitted)
    for case_id, _, _, reference in XP_CASES:
        _close(found[case_id], expected[case_id], rtol=1e-12)
        _close(found[case_id], reference(y_true, y_pred, weight))


def test_update_together_with_max_error_changes_no_bit_of_the_others():
    """A max among summed statistics: the sums still take the fused path (>= 65536 counts), and every
    state is, bit for bit, what its own update_state gives."""
    y_true, y_pred, weight = _data(seed=14, rows=2000, outputs=2)
    makers = [lambda: rm.MeanSquaredError(dtype="float64"), lambda: rm.MaxError(dtype="float64"),
              lambda: rm.ExplainedVarianceScore(dtype="float64")]  # fmt: skip
    together = [rm.Bootstrap(make(), num_replicates=100, seed=2) for make in makers]
    rm.Bootstrap.update_together([(b, y_true, y_pred, weight) for b in together])
    for make, found in zip(makers, together, strict=True):
        alone = rm.Bootstrap(make(), num_replicates=100, seed=2)
        alone.update_state(y_true, y_pred, weight)
        for key, value in alone.state["replicates"].items():
            np.testing.assert_array_equal(found.state["replicates"][key], value)


@pytest.mark.parametrize(("case_id", "cls", "kwargs", "reference"), XP_CASES, ids=XP_IDS)
def test_grouped_gives_each_groups_scikit_learn_value(case_id, cls, kwargs, reference):
    """``Grouped(metric)`` fed batches of mixed groups: each group's value is scikit-learn's on its
    rows (MaxError's per-group max too); with a bootstrap, each group's interval holds its value."""
    y_true, y_pred, weight = _data(seed=15, rows=400)
    groups = np.random.default_rng(15).integers(0, 3, size=400)
    metric = rm.Grouped(cls(**kwargs, dtype="float64"))
    for start in (0, 150):
        rows = slice(start, start + 150 if start == 0 else None)
        metric.update_state(y_true[rows], y_pred[rows], weight[rows], groups=groups[rows])
    found = metric.result()
    assert sorted(found) == [0, 1, 2]
    for key, value in found.items():
        rows = groups == key
        _close(value, reference(y_true[rows], y_pred[rows], weight[rows]))
    booted = rm.Grouped(rm.Bootstrap(cls(**kwargs, dtype="float64"), num_replicates=30))
    booted.update_state(y_true, y_pred, weight, groups=groups)
    for key, interval in booted.result().items():
        _close(interval.value, found[key], rtol=1e-10)
        assert np.all(to_numpy(interval.ci_low) <= to_numpy(interval.value) + 1e-12)
        assert np.all(to_numpy(interval.ci_high) >= to_numpy(interval.value) - 1e-12)
