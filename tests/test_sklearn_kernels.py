"""The numba tier's kernels behind regloss.sklearn on large float64 NumPy inputs (at least 65536
elements): the scikit-learn errors (MAPE, MSLE, the Tweedie deviances; regloss.kernels.sklearn_column_sums)
and the scores' centred moments (regloss.kernels.column_moments), against math.fsum float64
references of the NumPy formulas, against scikit-learn 1.9.1 itself (1e-12 relative), bit for bit
across thread counts, and with scikit-learn's exception classes for NaN, infinity and domain errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import regloss.sklearn as rs
from regloss import config

pytest.importorskip("numba")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

from regloss import kernels  # noqa: E402

ROWS = 70_000
EPS = float(np.finfo(np.float64).eps)


@pytest.fixture
def numba_path():
    previous = config.accelerator()
    config.set_accelerator("numba")
    yield
    config.set_accelerator(previous)


def _reference_errors(kernel, power, t, p):
    """The NumPy formulas, written out independently of regloss (as scikit-learn 1.9 writes them)."""
    if kernel == "absolute_percentage_error":
        return np.abs(p - t) / np.maximum(np.abs(t), EPS)
    if kernel == "squared_log1p_error":
        return (np.log1p(t) - np.log1p(p)) ** 2
    if kernel == "poisson_deviance":
        with np.errstate(divide="ignore", invalid="ignore"):
            return 2 * (np.where(t == 0, 0.0, t * np.log(t / p)) - t + p)
    if kernel == "gamma_deviance":
        return 2 * (np.log(p / t) + t / p - 1)
    base = np.maximum(t, 0) if power < 0 else t
    return 2 * (
        base ** (2 - power) / ((1 - power) * (2 - power))
        - t * p ** (1 - power) / (1 - power)
        + p ** (2 - power) / (2 - power)
    )


CASES = [
    ("absolute_percentage_error", EPS, 0, 1),
    ("absolute_percentage_error", EPS, 0, 3),
    ("squared_log1p_error", 0.0, 1, 1),
    ("squared_log1p_error", 0.0, 1, 4),
    ("poisson_deviance", 1.0, 3, 1),
    ("gamma_deviance", 2.0, 4, 1),
    ("tweedie_deviance", -0.5, 2, 1),
    ("tweedie_deviance", 1.5, 3, 1),
    ("tweedie_deviance", 3.0, 4, 1),
]


def _inputs(rng, kernel, power, outputs, rows=ROWS):
    y_true = rng.gamma(2.0, 1.5, size=(rows, outputs))
    y_pred = rng.gamma(2.0, 1.5, size=(rows, outputs))
    if kernel == "absolute_percentage_error":
        y_true[::5] = 0.0  # the eps floor
    if kernel == "squared_log1p_error":
        y_true -= 0.9
    if kernel == "poisson_deviance" or (kernel == "tweedie_deviance" and 1 <= power < 2):
        y_true[::3] = 0.0
    if kernel == "tweedie_deviance" and power < 0:
        y_true -= 2.0
    return y_true, y_pred


@pytest.mark.parametrize("kernel, parameter, domain, outputs", CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_sklearn_column_sums_equal_fsum_and_any_thread_count(
    numba_path, kernel, parameter, domain, outputs, weighted
):
    rng = np.random.default_rng(len(kernel) + outputs + weighted)
    y_true, y_pred = _inputs(rng, kernel, parameter, outputs)
    weights = rng.uniform(0.0, 2.0, size=ROWS) if weighted else None
    results = []
    try:
        for threads in (1, 2):
            config.set_num_threads(threads)
            results.append(kernels.sklearn_column_sums(kernel, parameter, domain, y_true, y_pred, weights))
    finally:
        config.set_num_threads(None)
    (sums, outside), (sums_2, outside_2) = results
    assert outside is False and outside_2 is False
    np.testing.assert_array_equal(sums, sums_2)
    errors = _reference_errors(kernel, parameter, y_true, y_pred)
    if weighted:
        errors = errors * weights[:, None]
    reference = [math.fsum(errors[:, j]) for j in range(outputs)]
    np.testing.assert_allclose(sums, reference, rtol=1e-13)


@pytest.mark.parametrize(
    "kernel, parameter, domain", [("squared_log1p_error", 0.0, 1), ("gamma_deviance", 2.0, 4)]
)
def test_sklearn_column_sums_report_a_value_outside_the_domain(numba_path, kernel, parameter, domain):
    rng = np.random.default_rng(4)
    y_true, y_pred = _inputs(rng, kernel, parameter, 1)
    y_pred[-1, 0] = -1.0 if domain == 1 else 0.0  # in the last block
    assert kernels.sklearn_column_sums(kernel, parameter, domain, y_true, y_pred, None) == (None, True)


# ---------------------------------------------------------------- the public functions


def _compare(ours, theirs):
    assert type(ours) is type(theirs) or (isinstance(theirs, float) and type(ours) is float)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("power", [0, -0.5, -2, 1, 1.5, 2, 3])
@pytest.mark.parametrize("name", ["mean_tweedie_deviance", "d2_tweedie_score"])
@pytest.mark.parametrize("weighted", [False, True])
def test_tweedie_functions_on_the_numba_path_equal_sklearn(numba_path, power, name, weighted):
    rng = np.random.default_rng(int(10 * power) + 50 + weighted)
    y_true = rng.gamma(2.0, 1.5, size=ROWS)
    y_pred = rng.gamma(2.0, 1.5, size=ROWS)
    if power < 0:
        y_true -= 2.0
    if 1 <= power < 2:
        y_true[::3] = 0.0
    weights = rng.uniform(0.0, 3.0, size=ROWS) if weighted else None
    ours = getattr(rs, name)(y_true, y_pred, sample_weight=weights, power=power)
    _compare(ours, getattr(sklearn_metrics, name)(y_true, y_pred, sample_weight=weights, power=power))


@pytest.mark.parametrize(
    "name",
    [
        "mean_poisson_deviance",
        "mean_gamma_deviance",
        "mean_absolute_percentage_error",
        "mean_squared_log_error",
        "root_mean_squared_log_error",
        "r2_score",
        "explained_variance_score",
    ],
)
@pytest.mark.parametrize("outputs", [1, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_functions_on_the_numba_path_equal_sklearn(numba_path, name, outputs, weighted):
    if outputs > 1 and name in ("mean_poisson_deviance", "mean_gamma_deviance"):
        pytest.skip("single output only")
    rng = np.random.default_rng(outputs + weighted)
    shape = (ROWS,) if outputs == 1 else (ROWS, outputs)
    y_true = rng.gamma(2.0, 1.5, size=shape)
    y_pred = y_true * rng.uniform(0.5, 1.5, size=shape)
    if name == "mean_absolute_percentage_error":
        y_true[::7] = 0.0
    weights = rng.uniform(0.0, 3.0, size=ROWS) if weighted else None
    options = (
        ["uniform_average", "raw_values"]
        if name not in ("mean_poisson_deviance", "mean_gamma_deviance")
        else [None]
    )
    if name in ("r2_score", "explained_variance_score"):
        options.append("variance_weighted")
    for multioutput in options:
        kwargs = {"sample_weight": weights} | ({} if multioutput is None else {"multioutput": multioutput})
        _compare(
            getattr(rs, name)(y_true, y_pred, **kwargs),
            getattr(sklearn_metrics, name)(y_true, y_pred, **kwargs),
        )


@pytest.mark.parametrize("name", ["r2_score", "explained_variance_score", "d2_tweedie_score"])
def test_scores_on_the_numba_path_at_a_large_offset(numba_path, name):
    """The fused moments (each block centred in cache, Chan merge) keep the digits of 1e8 + N(0, 1e-3)."""
    rng = np.random.default_rng(12)
    noise = rng.normal(0.0, 1e-3, size=ROWS)
    y_true = 1e8 + noise
    y_pred = 1e8 + 0.99 * noise + rng.normal(0.0, 1e-4, size=ROWS)
    ours = getattr(rs, name)(y_true, y_pred)
    centred_true, centred_pred = y_true - 1e8, y_pred - 1e8
    residual = centred_true - centred_pred
    if name == "explained_variance_score":
        residual = residual - residual.mean()
    reference = 1.0 - np.sum(residual**2) / np.sum((centred_true - centred_true.mean()) ** 2)
    assert abs(ours - reference) < 1e-6
    np.testing.assert_allclose(ours, getattr(sklearn_metrics, name)(y_true, y_pred), rtol=1e-9)


@pytest.mark.parametrize("outputs", [1, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_column_moments_equal_two_pass_fsum_and_any_thread_count(numba_path, outputs, weighted):
    rng = np.random.default_rng(20 + outputs + weighted)
    y_true = rng.normal(5.0, 2.0, size=(ROWS, outputs))
    y_pred = y_true + rng.normal(0.3, 1.0, size=(ROWS, outputs))
    weights = rng.uniform(0.0, 2.0, size=ROWS) if weighted else None
    results = []
    try:
        for threads in (1, 2):
            config.set_num_threads(threads)
            results.append(kernels.column_moments(y_true, y_pred, weights))
    finally:
        config.set_num_threads(None)
    np.testing.assert_array_equal(results[0], results[1])
    w = np.ones(ROWS) if weights is None else weights
    total = math.fsum(w)
    for j in range(outputs):
        t, d = y_true[:, j], y_true[:, j] - y_pred[:, j]
        true_mean = math.fsum(w * t) / total
        difference_mean = math.fsum(w * d) / total
        expected = [
            total,
            true_mean,
            math.fsum(w * (t - true_mean) ** 2),
            math.fsum(w * d**2),
            difference_mean,
            math.fsum(w * (d - difference_mean) ** 2),
        ]
        np.testing.assert_allclose(results[0][:, j], expected, rtol=1e-12)


# ---------------------------------------------------------------------- errors, as sklearn


def _raises_as_sklearn(name, y_true, y_pred, **kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(sklearn_metrics, name)(y_true, y_pred, **kwargs)
    with pytest.raises(Exception) as ours:
        getattr(rs, name)(y_true, y_pred, **kwargs)
    assert type(ours.value) is type(theirs.value)
    return str(ours.value)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("mean_squared_log_error", {}),
        ("root_mean_squared_log_error", {}),
        ("mean_absolute_percentage_error", {}),
        ("mean_poisson_deviance", {}),
        ("mean_gamma_deviance", {}),
        ("mean_tweedie_deviance", {"power": 1.5}),
        ("r2_score", {}),
        ("explained_variance_score", {}),
        ("d2_tweedie_score", {}),
    ],
)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_raise_as_sklearn_on_the_numba_path(numba_path, name, kwargs, bad):
    rng = np.random.default_rng(6)
    y_true = rng.gamma(2.0, 1.5, size=ROWS)
    y_pred = rng.gamma(2.0, 1.5, size=ROWS)
    y_pred[ROWS // 2] = bad
    before = y_pred.copy()
    message = _raises_as_sklearn(name, y_true, y_pred, **kwargs)
    assert "y_pred" in message
    np.testing.assert_array_equal(y_pred, before)


@pytest.mark.parametrize(
    "name, kwargs, value",
    [
        ("mean_squared_log_error", {}, -1.0),
        ("root_mean_squared_log_error", {}, -3.0),
        ("mean_poisson_deviance", {}, 0.0),
        ("mean_gamma_deviance", {}, -1.0),
        ("mean_tweedie_deviance", {"power": -0.5}, 0.0),
        ("mean_tweedie_deviance", {"power": 3}, 0.0),
        ("d2_tweedie_score", {"power": 1.5}, 0.0),
    ],
)
def test_domain_errors_as_sklearn_on_the_numba_path(numba_path, name, kwargs, value):
    rng = np.random.default_rng(7)
    y_true = rng.gamma(2.0, 1.5, size=ROWS)
    y_pred = rng.gamma(2.0, 1.5, size=ROWS)
    y_pred[-1] = value
    _raises_as_sklearn(name, y_true, y_pred, **kwargs)
    # NaN elsewhere: the finiteness error comes first, as in scikit-learn
    y_true[0] = np.nan
    assert "NaN" in _raises_as_sklearn(name, y_true, y_pred, **kwargs)


@pytest.mark.parametrize("constant", [0.1, 3.0, 1e6 + 0.3])
def test_constant_targets_on_the_numba_path(numba_path, constant):
    """A constant y_true has a denominator of exactly zero (each block is centred on its first value),
    so force_finite gives 0.0 (and 1.0 for a perfect fit), -inf without it, and D² raises
    ZeroDivisionError. scikit-learn gives the same where its mean of the constant is exact (3.0);
    for 0.1 or 1e6 + 0.3 on 70000 rows its mean is off by an ulp and it returns -1e33 or -2e19
    (rounding noise, not compared)."""
    rng = np.random.default_rng(13)
    y_true = np.full(ROWS, constant)
    y_pred = y_true + rng.normal(size=ROWS)
    two_true = np.stack([y_true, rng.normal(3.0, 2.0, size=ROWS)], axis=1)
    two_pred = two_true + rng.normal(size=(ROWS, 2))
    for name in ("r2_score", "explained_variance_score"):
        function = getattr(rs, name)
        assert function(y_true, y_pred) == 0.0
        assert function(y_true, y_true) == 1.0
        with np.errstate(divide="ignore"):
            assert function(y_true, y_pred, force_finite=False) == -np.inf
        scores = function(two_true, two_pred, multioutput="raw_values")
        assert scores[0] == 0.0
        if constant == 3.0:
            for kwargs in ({"multioutput": "raw_values"}, {"multioutput": "variance_weighted"}, {}):
                theirs = getattr(sklearn_metrics, name)(two_true, two_pred, **kwargs)
                np.testing.assert_allclose(function(two_true, two_pred, **kwargs), theirs, rtol=1e-12)
    with pytest.raises(ZeroDivisionError):
        rs.d2_tweedie_score(y_true, y_pred)
