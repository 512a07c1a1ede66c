"""regloss.sklearn against scikit-learn 1.9.1 itself: values (1e-12 relative in float64), result
types and dtypes, exception classes and warnings, on both computation paths (the blocked NumPy
path and the generic array-API path) and on every array library of the ``xp`` fixture."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import regloss.sklearn as rs
from regloss import config

sklearn_metrics = pytest.importorskip("sklearn.metrics")

MEAN_FUNCTIONS = [
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_log_error",
    "root_mean_squared_log_error",
    "mean_pinball_loss",
]
SCORE_FUNCTIONS = ["r2_score", "explained_variance_score"]
SINGLE_OUTPUT_FUNCTIONS = [
    "mean_tweedie_deviance",
    "mean_poisson_deviance",
    "mean_gamma_deviance",
    "d2_tweedie_score",
]
ALL_FUNCTIONS = [*MEAN_FUNCTIONS, *SCORE_FUNCTIONS, *SINGLE_OUTPUT_FUNCTIONS, "max_error"]
# Inputs each function's domain accepts: "any" real, "log" > -1, "positive" > 0.
DOMAIN = {
    "mean_squared_log_error": "log",
    "root_mean_squared_log_error": "log",
    "mean_poisson_deviance": "positive",
    "mean_gamma_deviance": "positive",
}
EXTRA_KWARGS = {"mean_pinball_loss": [{"alpha": 0.5}, {"alpha": 0.1}, {"alpha": 0.93}, {}]}
TWEEDIE_POWERS = [0, -0.5, -2, 1, 1.5, 2, 3]
RTOL = 1e-12


PATHS = {"numba": "numba", "blocked": "numpy", "generic": "none"}


@pytest.fixture(params=list(PATHS))
def path(request):
    """Every computation path: the numba tier's column kernel (MSE, RMSE, MAE and MAPE of at least
    65536 elements; the blocked path otherwise), the blocked NumPy path, the generic array-API path."""
    previous = config.accelerator()
    config.set_accelerator(PATHS[request.param])
    yield request.param
    config.set_accelerator(previous)


@pytest.fixture(params=["blocked", "generic"])
def small_path(request):
    """The two paths of inputs below the numba tier's size (or of errors it does not restate)."""
    previous = config.accelerator()
    config.set_accelerator(PATHS[request.param])
    yield request.param
    config.set_accelerator(previous)


def _data(rng, n, outputs, domain):
    shape = (n,) if outputs is None else (n, outputs)
    if domain == "positive":
        y_true = rng.gamma(2.0, 1.5, size=shape)
        y_pred = rng.gamma(2.0, 1.5, size=shape)
    elif domain == "log":
        y_true = rng.uniform(-0.9, 5.0, size=shape)
        y_pred = rng.uniform(-0.9, 5.0, size=shape)
    else:
        y_true = rng.normal(3.0, 2.0, size=shape)
        y_pred = y_true + rng.normal(0.5, 1.0, size=shape)
    return y_true, y_pred


def _compare(ours, theirs):
    if isinstance(theirs, float):
        assert type(ours) is float
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0)
    else:
        assert type(ours) is np.ndarray
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0)


def _both(name, *args, **kwargs):
    return getattr(rs, name)(*args, **kwargs), getattr(sklearn_metrics, name)(*args, **kwargs)


def _multioutput_values(name, outputs, rng):
    values = ["raw_values", "uniform_average", rng.uniform(0.1, 2.0, size=outputs or 1)]
    if name in SCORE_FUNCTIONS:
        values.append("variance_weighted")
    if outputs is None or outputs == 1:
        values.pop(2)  # output weights need several outputs (both raise; tested below)
    return values


@pytest.mark.parametrize("name", MEAN_FUNCTIONS + SCORE_FUNCTIONS)
@pytest.mark.parametrize(
    "n, outputs", [(1, None), (2, 3), (37, None), (50, 1), (200, 4), (7000, 10), (70000, None)]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_output_functions_equal_sklearn(path, name, n, outputs, weighted):
    if path == "numba" and n * (outputs or 1) < 65536:
        pytest.skip("below the numba tier's size: the blocked path, tested as such")
    rng = np.random.default_rng(n * 7 + (outputs or 0) + weighted)
    y_true, y_pred = _data(rng, n, outputs, DOMAIN.get(name, "any"))
    sample_weight = rng.uniform(0.0, 3.0, size=n) if weighted else None
    for multioutput in _multioutput_values(name, outputs, rng):
        for extra in EXTRA_KWARGS.get(name, [{}]):
            kwargs = dict(sample_weight=sample_weight, multioutput=multioutput, **extra)
            with warnings.catch_warnings(record=True) as ours_warnings:
                warnings.simplefilter("always")
                ours = getattr(rs, name)(y_true, y_pred, **kwargs)
            with warnings.catch_warnings(record=True) as their_warnings:
                warnings.simplefilter("always")
                theirs = getattr(sklearn_metrics, name)(y_true, y_pred, **kwargs)
            if isinstance(theirs, float) and np.isnan(theirs):  # r2 with n < 2
                assert type(ours) is float and np.isnan(ours)
                assert [w.category for w in ours_warnings] == [w.category for w in their_warnings]
            else:
                _compare(ours, theirs)


@pytest.mark.parametrize("power", TWEEDIE_POWERS)
@pytest.mark.parametrize("name", ["mean_tweedie_deviance", "d2_tweedie_score"])
@pytest.mark.parametrize("n, two_d", [(2, False), (45, True), (40000, False)])
@pytest.mark.parametrize("weighted", [False, True])
def test_tweedie_functions_equal_sklearn(small_path, power, name, n, two_d, weighted):
    rng = np.random.default_rng(n + int(10 * power) + 100 + weighted)
    domain = "any" if power == 0 else "positive"
    y_true, y_pred = _data(rng, n, 1 if two_d else None, domain)
    if power < 0:
        y_true = y_true - 2.0  # negative targets are allowed for p < 0 (max(y, 0) in the formula)
    if 1 <= power < 2:
        y_true[::3] = 0.0  # zeros are allowed for Poisson-like powers
    sample_weight = rng.uniform(0.0, 3.0, size=n) if weighted else None
    _compare(*_both(name, y_true, y_pred, sample_weight=sample_weight, power=power))


@pytest.mark.parametrize("name", ["mean_poisson_deviance", "mean_gamma_deviance", "max_error"])
@pytest.mark.parametrize("n", [1, 17, 40000])
def test_other_single_output_functions_equal_sklearn(small_path, name, n):
    rng = np.random.default_rng(n)
    y_true, y_pred = _data(rng, n, None, "positive")
    if name == "mean_poisson_deviance":
        y_true[::4] = 0.0
    _compare(*_both(name, y_true, y_pred))
    if name != "max_error":
        weights = rng.uniform(0.5, 2.0, size=n)
        _compare(*_both(name, y_true, y_pred, sample_weight=weights))


# ------------------------------------------------------------------------ edge cases


def _outcome(function, *args, **kwargs):
    """``("value", result, warning categories)`` or ``("error", exception class)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            return ("error", type(error), str(error))
    categories = sorted({w.category.__name__ for w in caught} - {"RuntimeWarning"})
    return ("value", result, categories)


T, P = [1.0, 2.0, 3.0], [1.5, 2.0, 2.0]
T2, P2 = [[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]], [[1.0, 2.5], [3.0, 5.0], [5.5, 6.0]]
EDGE_CASES = [
    # multioutput
    ("mean_squared_error", (T, P), {"multioutput": "variance_weighted"}),
    ("mean_absolute_percentage_error", (T, P), {"multioutput": "variance_weighted"}),
    ("mean_pinball_loss", (T2, P2), {"multioutput": "variance_weighted"}),
    ("mean_squared_error", (T, P), {"multioutput": "foo"}),
    ("mean_squared_error", (T, P), {"multioutput": None}),
    ("explained_variance_score", (T2, P2), {"multioutput": None}),
    ("r2_score", (T2, P2), {"multioutput": None}),
    ("r2_score", (T2, P2), {"multioutput": 0.5}),
    ("mean_squared_error", (T, P), {"multioutput": [1.0]}),
    ("mean_squared_error", (T2, P2), {"multioutput": [1.0, 2.0, 3.0]}),
    ("mean_squared_error", (T2, P2), {"multioutput": [[1.0, 2.0]]}),
    ("mean_squared_error", (T2, P2), {"multioutput": [0.0, 0.0]}),
    ("r2_score", (T2, P2), {"multioutput": [0.0, 0.0]}),
    ("mean_squared_error", (T2, P2), {"multioutput": [np.nan, 1.0]}),
    ("mean_squared_error", (T2, P2), {"multioutput": [-1.0, 3.0]}),
    ("mean_absolute_error", (T2, P2), {"multioutput": (1, 3)}),
    ("r2_score", (T2, P2), {"multioutput": np.array([1, 2])}),
    # shapes and lengths
    ("mean_squared_error", ([1.0, 2.0], [1.0, 2.0, 3.0]), {}),
    ("mean_squared_error", (T2, [[1.0, 2.0, 3.0]] * 3), {}),
    ("mean_squared_error", ([1.0, 2.0], [[1.0], [3.0]]), {}),
    ("r2_score", ([1.0, 2.0, 4.0], [[1.0], [3.0], [3.5]]), {"multioutput": "raw_values"}),
    ("mean_squared_error", (np.ones((2, 2, 2)), np.ones((2, 2, 2))), {}),
    ("mean_squared_error", (1.0, 2.0), {}),
    ("mean_squared_error", (np.array(1.0), np.array(2.0)), {}),
    ("mean_squared_error", ([], []), {}),
    ("mean_squared_error", (np.ones((2, 0)), np.ones((2, 0))), {}),
    ("mean_squared_error", (None, P), {}),
    ("mean_squared_error", ("abc", P), {}),
    ("mean_squared_error", ([[1.0, 2.0], [3.0]], P), {}),
    ("mean_squared_error", (np.array([1 + 1j, 2, 3]), P), {}),
    ("mean_squared_error", (["a", "b", "c"], P), {}),
    ("mean_squared_error", (["1", "2", "3"], P), {}),
    ("mean_squared_error", ([True, False, True], P), {}),
    # non-finite values
    ("mean_squared_error", ([np.nan, 1.0], [1.0, 2.0]), {}),
    ("mean_absolute_error", ([0.0, 1.0], [np.inf, 2.0]), {}),
    ("mean_squared_error", ([1e200, 1.0], [-1e200, 2.0]), {}),
    ("r2_score", ([np.nan], [1.0]), {}),
    ("max_error", ([1.0, np.nan], [1.0, 5.0]), {}),
    ("mean_squared_log_error", ([np.nan, 2.0], [-2.0, 5.0]), {}),
    ("mean_squared_error", ([np.nan, 1.0], [1.0, 2.0]), {"sample_weight": [0.0, 0.0]}),
    # sample weights
    ("mean_squared_error", (T, P), {"sample_weight": [1.0, 2.0]}),
    ("mean_squared_error", (T, P), {"sample_weight": [[1.0, 2.0, 3.0]]}),
    ("mean_squared_error", (T, P), {"sample_weight": [[1.0], [2.0], [3.0]]}),
    ("mean_squared_error", (T, P), {"sample_weight": 2.0}),
    ("mean_squared_error", (T, P), {"sample_weight": np.array(2.0)}),
    ("mean_squared_error", (T, P), {"sample_weight": [0.0, 0.0, 0.0]}),
    ("r2_score", (T, P), {"sample_weight": [0.0, 0.0, 0.0]}),
    ("mean_squared_error", (T, P), {"sample_weight": [-1.0, 1.0, 0.0]}),
    ("mean_tweedie_deviance", (T, P), {"sample_weight": [-1.0, 1.0, 0.0], "power": 1}),
    ("mean_squared_error", (T, P), {"sample_weight": [-1.0, 2.0, 0.0]}),
    ("mean_squared_error", (T, P), {"sample_weight": [np.nan, 2.0, 0.0]}),
    ("mean_squared_error", (T, P), {"sample_weight": [np.inf, 2.0, 0.0]}),
    ("mean_squared_error", (T, P), {"sample_weight": "abc"}),
    ("mean_squared_error", (T, P), {"sample_weight": np.array([1, 2, 3])}),
    # max_error
    ("max_error", (T2, P2), {}),
    ("max_error", ([[1.0], [3.0]], [[1.0], [5.0]]), {}),
    ("max_error", ([1, 2], [1, 5]), {}),
    # domains
    ("mean_squared_log_error", ([-1.0, 2.0], [1.0, 5.0]), {}),
    ("mean_squared_log_error", ([-0.5, 2.0], [1.0, 5.0]), {}),
    ("root_mean_squared_log_error", ([1.0, 2.0], [-2.0, 5.0]), {}),
    ("mean_absolute_percentage_error", ([0.0, 2.0], [1.0, 5.0]), {}),
    ("mean_pinball_loss", (T, P), {"alpha": 1.5}),
    ("mean_pinball_loss", (T, P), {"alpha": -0.1}),
    ("mean_pinball_loss", (T, P), {"alpha": "x"}),
    ("mean_pinball_loss", (T, P), {"alpha": np.nan}),
    ("mean_pinball_loss", (T, P), {"alpha": True}),
    ("mean_pinball_loss", (T, P), {"alpha": np.float32(0.3)}),
    ("mean_tweedie_deviance", (T, P), {"power": 0.5}),
    ("mean_tweedie_deviance", (T, P), {"power": np.nan}),
    ("mean_tweedie_deviance", (T, P), {"power": np.inf}),
    ("mean_tweedie_deviance", (T, P), {"power": "1"}),
    ("d2_tweedie_score", (T, P), {"power": 0.99}),
    ("mean_tweedie_deviance", (T2, P2), {}),
    ("d2_tweedie_score", (T2, P2), {}),
    ("mean_tweedie_deviance", ([1.0, -2.0], [1.0, -5.0]), {"power": -1}),
    ("mean_tweedie_deviance", ([1.0, -2.0], [1.0, 5.0]), {"power": -1}),
    ("mean_tweedie_deviance", ([1.0, -2.0], [1.0, 5.0]), {"power": 1.5}),
    ("mean_tweedie_deviance", ([1.0, 0.0], [1.0, 5.0]), {"power": 3}),
    ("mean_tweedie_deviance", ([1.0, 2.0], [1.0, 0.0]), {"power": 3}),
    ("mean_poisson_deviance", ([0.0, 0.0], [1.0, 5.0]), {}),
    ("mean_poisson_deviance", ([0.0, -1.0], [1.0, 5.0]), {}),
    ("mean_poisson_deviance", ([0.0, 1.0], [0.0, 5.0]), {}),
    ("mean_gamma_deviance", ([0.0, 1.0], [1.0, 5.0]), {}),
    ("mean_gamma_deviance", ([1.0, 1.0], [-1.0, 5.0]), {}),
    ("mean_tweedie_deviance", ([1, 2], [1, 5]), {"power": 1}),
    # undefined scores
    ("d2_tweedie_score", ([1.0, 1.0], [1.0, 5.0]), {}),
    ("d2_tweedie_score", ([1.0, 1.0], [1.0, 1.0]), {}),
    ("d2_tweedie_score", ([1.0], [1.0]), {}),
    ("d2_tweedie_score", ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]), {"power": 1}),
    ("r2_score", ([1.0], [2.0]), {}),
    ("r2_score", ([[1.0, 2.0]], [[2.0, 3.0]]), {}),
    ("r2_score", ([1.0, 1.0], [1.0, 2.0]), {}),
    ("r2_score", ([1.0, 1.0], [1.0, 2.0]), {"force_finite": False}),
    ("r2_score", ([1.0, 1.0], [1.0, 1.0]), {"force_finite": False}),
    ("r2_score", ([1.0, 1.0], [1.0, 1.0]), {}),
    ("r2_score", (T, P), {"force_finite": "yes"}),
    ("r2_score", (T, P), {"force_finite": 1}),
    ("r2_score", (T, P), {"force_finite": np.bool_(False)}),
    ("r2_score", ([[1.0, 2.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 3.0]]), {"multioutput": "variance_weighted"}),
    ("r2_score", ([[1.0, 2.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 3.0]]), {"multioutput": "raw_values"}),
    (
        "r2_score",
        ([[1.0, 2.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 3.0]]),
        {"multioutput": "raw_values", "force_finite": False},
    ),
    (
        "explained_variance_score",
        ([[1.0, 2.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 3.0]]),
        {"multioutput": "variance_weighted", "force_finite": False},
    ),
    ("r2_score", (T2, P2), {"multioutput": "variance_weighted", "sample_weight": [1.0, 0.0, 2.0]}),
    ("explained_variance_score", ([1.0], [2.0]), {}),
    ("explained_variance_score", ([1.0], [2.0]), {"force_finite": False}),
    ("explained_variance_score", ([1.0, 1.0], [2.0, 3.0]), {"force_finite": False}),
    ("explained_variance_score", ([1.0, 1.0], [2.0, 3.0]), {}),
    ("explained_variance_score", ([1.0, 2.0], [2.0, 3.0]), {}),
    ("explained_variance_score", (T2, P2), {"multioutput": [0.0, 0.0]}),
    ("explained_variance_score", (T, P), {"force_finite": None}),
    # keywords
    ("max_error", (T, P), {"sample_weight": None}),
    ("mean_squared_error", (), {"y_true": T, "y_pred": P}),
]


@pytest.mark.parametrize(
    "name, args, kwargs", EDGE_CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(EDGE_CASES)]
)
def test_edge_cases_as_sklearn(small_path, name, args, kwargs):
    ours = _outcome(getattr(rs, name), *args, **kwargs)
    theirs = _outcome(getattr(sklearn_metrics, name), *args, **kwargs)
    assert ours[0] == theirs[0], (ours, theirs)
    if theirs[0] == "error":
        assert ours[1] is theirs[1], (ours, theirs)
        return
    assert ours[2] == theirs[2]
    if isinstance(theirs[1], float) and np.isnan(theirs[1]):
        assert type(ours[1]) is float and np.isnan(ours[1])
    else:
        _compare(ours[1], theirs[1])


def test_error_messages_name_the_argument_and_the_value():
    with pytest.raises(
        ValueError, match=r"multioutput of mean_squared_error .*received multioutput='variance_weighted'"
    ):
        rs.mean_squared_error(T, P, multioutput="variance_weighted")
    with pytest.raises(ValueError, match=r"alpha of mean_pinball_loss .*received alpha=1.5"):
        rs.mean_pinball_loss(T, P, alpha=1.5)
    with pytest.raises(ValueError, match=r"power of mean_tweedie_deviance .*received power=0.5"):
        rs.mean_tweedie_deviance(T, P, power=0.5)
    with pytest.raises(ValueError, match=r"mean_squared_log_error .*-1"):
        rs.mean_squared_log_error([-1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"power=2 .*strictly positive y_true and y_pred"):
        rs.mean_gamma_deviance([0.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"y_pred contains NaN"):
        rs.mean_absolute_error([0.0, 2.0], [np.nan, 1.0])
    with pytest.raises(ValueError, match=r"sample_weight has 2"):
        rs.mean_absolute_error(T, P, sample_weight=[1.0, 2.0])
    with pytest.raises(
        ValueError, match=r"y_true and y_pred must have the same number of outputs; received 2 and 3"
    ):
        rs.r2_score(T2, [[1.0, 2.0, 3.0]] * 3)


# ------------------------------------------------------------------------------ dtypes


@pytest.mark.parametrize(
    "true_dtype, pred_dtype, weight_dtype",
    [
        ("float32", "float32", None),
        ("float32", "float32", "float32"),
        ("float32", "float32", "float64"),
        ("float32", "int64", None),
        ("int64", "int64", None),
        ("int32", "bool", "float32"),
        ("float16", "float16", None),
    ],
)
@pytest.mark.parametrize(
    "name", ["mean_squared_error", "mean_absolute_percentage_error", "r2_score", "explained_variance_score"]
)
def test_compute_dtype_as_sklearn(small_path, name, true_dtype, pred_dtype, weight_dtype):
    rng = np.random.default_rng(3)
    y_true = (rng.uniform(1, 5, size=(40, 2)) * 4).astype(true_dtype)
    y_pred = (rng.uniform(1, 5, size=(40, 2)) * 4).astype(pred_dtype)
    weights = None if weight_dtype is None else rng.uniform(1, 2, size=40).astype(weight_dtype)
    ours, theirs = _both(name, y_true, y_pred, sample_weight=weights, multioutput="raw_values")
    assert type(ours) is np.ndarray and ours.dtype == theirs.dtype
    # regloss sums in float64 (scikit-learn in the compute dtype): equal to that dtype's precision
    tolerance = {np.float16: 1e-2, np.float32: 2e-6}.get(theirs.dtype.type, RTOL)
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=tolerance)
    scalar, scalar_theirs = _both(name, y_true, y_pred, sample_weight=weights)
    assert type(scalar) is float
    np.testing.assert_allclose(scalar, scalar_theirs, rtol=tolerance)


# --------------------------------------------------------------- numerical soundness


@pytest.mark.parametrize("name", ["r2_score", "explained_variance_score", "d2_tweedie_score"])
def test_near_constant_targets_at_a_large_offset(small_path, name):
    """Centred moments: 1e8 + N(0, 1e-3) keeps its R² (raw power sums would cancel to garbage)."""
    rng = np.random.default_rng(11)
    noise = rng.normal(0.0, 1e-3, size=5000)
    y_true = 1e8 + noise
    y_pred = 1e8 + 0.99 * noise + rng.normal(0.0, 1e-4, size=5000)
    ours, theirs = _both(name, y_true, y_pred)
    # float64 reference on the centred data (the offset cancels exactly in differences of centred data)
    centred_true, centred_pred = y_true - 1e8, y_pred - 1e8
    residual = centred_true - centred_pred
    if name == "explained_variance_score":
        residual = residual - residual.mean()
    reference = 1.0 - np.sum(residual**2) / np.sum((centred_true - centred_true.mean()) ** 2)
    assert abs(ours - reference) < 1e-6
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_blocks_and_threads_give_the_unblocked_sums():
    """Many blocks in threads (2e6 elements) equal math.fsum references per output."""
    import math

    rng = np.random.default_rng(5)
    y_true = rng.normal(size=(200_000, 10))
    y_pred = rng.normal(size=(200_000, 10))
    weights = rng.uniform(0, 1, size=200_000)
    ours = rs.mean_absolute_error(y_true, y_pred, sample_weight=weights, multioutput="raw_values")
    errors = np.abs(y_true - y_pred) * weights[:, None]
    reference = [math.fsum(errors[:, j]) / math.fsum(weights) for j in range(10)]
    np.testing.assert_allclose(ours, reference, rtol=1e-13)


# --------------------------------------------------------------------- any array library


def _xp_array(xp, values):
    import array_api_compat

    if xp.__name__ == "dask.array":
        return xp.from_array(np.asarray(values), chunks=7)
    array = xp.asarray(np.asarray(values))
    assert array_api_compat.array_namespace(array) is not None
    return array


def _library(array) -> str:
    return type(array).__module__.split(".")[0]


@pytest.mark.parametrize("name", ALL_FUNCTIONS)
def test_every_function_on_every_array_library(xp, name):
    rng = np.random.default_rng(1)
    single = name in SINGLE_OUTPUT_FUNCTIONS or name == "max_error"
    y_true, y_pred = _data(rng, 23, None if single else 3, DOMAIN.get(name, "positive"))
    weights = rng.uniform(0.5, 2.0, size=23)
    kwargs = {} if name == "max_error" else {"sample_weight": weights}
    kwargs_xp = {} if name == "max_error" else {"sample_weight": _xp_array(xp, weights)}
    if name in ("mean_tweedie_deviance", "d2_tweedie_score"):
        kwargs["power"] = kwargs_xp["power"] = 1.5
    true_xp, pred_xp = _xp_array(xp, y_true), _xp_array(xp, y_pred)
    copies = [np.asarray(true_xp).copy(), np.asarray(pred_xp).copy()]
    ours = getattr(rs, name)(true_xp, pred_xp, **kwargs_xp)
    theirs = getattr(sklearn_metrics, name)(y_true, y_pred, **kwargs)
    assert type(ours) is float
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)
    np.testing.assert_array_equal(np.asarray(true_xp), copies[0])  # inputs unchanged
    np.testing.assert_array_equal(np.asarray(pred_xp), copies[1])
    if not single:
        raw = getattr(rs, name)(true_xp, pred_xp, multioutput="raw_values", **kwargs_xp)
        raw_theirs = getattr(sklearn_metrics, name)(y_true, y_pred, multioutput="raw_values", **kwargs)
        assert _library(raw) == _library(true_xp) and tuple(raw.shape) == (3,)
        assert "float64" in str(raw.dtype)
        np.testing.assert_allclose(np.asarray(raw), raw_theirs, rtol=RTOL)
        # a NumPy weight and a list mixed with the library's arrays follow the library; output
        # weights may be an array of the library
        output_weights = _xp_array(xp, np.array([1.0, 2.0, 0.5]))
        mixed = getattr(rs, name)(true_xp, y_pred.tolist(), sample_weight=weights, multioutput=output_weights)
        mixed_theirs = getattr(sklearn_metrics, name)(
            y_true, y_pred, sample_weight=weights, multioutput=[1.0, 2.0, 0.5]
        )
        np.testing.assert_allclose(mixed, mixed_theirs, rtol=RTOL)


@pytest.mark.parametrize("name", ["mean_squared_log_error", "mean_poisson_deviance", "r2_score"])
def test_errors_on_every_array_library(xp, name):
    y_true = _xp_array(xp, np.array([1.0, np.nan, 2.0]))
    y_pred = _xp_array(xp, np.array([1.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="y_true contains NaN"):
        getattr(rs, name)(y_true, y_pred)
    bad = _xp_array(xp, np.array([1.0, -3.0, 2.0]))
    if name != "r2_score":
        with pytest.raises(ValueError, match="can only be used|less than or equal to -1"):
            getattr(rs, name)(bad, y_pred)


# ------------------------------------------------------------------- inputs and scorers


def test_inputs_are_not_modified(path):
    rng = np.random.default_rng(2)
    y_true, y_pred = _data(rng, 100, 3, "positive")
    weights = rng.uniform(0, 1, size=100)
    output_weights = np.array([1.0, 2.0, 3.0])
    saved = [a.copy() for a in (y_true, y_pred, weights, output_weights)]
    for name in MEAN_FUNCTIONS + SCORE_FUNCTIONS:
        getattr(rs, name)(y_true, y_pred, sample_weight=weights, multioutput=output_weights)
    for name in SINGLE_OUTPUT_FUNCTIONS:
        getattr(rs, name)(y_true[:, 0], y_pred[:, 0], sample_weight=weights)
    rs.max_error(y_true[:, 0], y_pred[:, 0])
    for before, after in zip(saved, (y_true, y_pred, weights, output_weights), strict=True):
        np.testing.assert_array_equal(before, after)


def test_make_scorer_in_cross_val_score_equals_sklearn():
    from sklearn.linear_model import Ridge
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=120)
    ours = make_scorer(rs.mean_pinball_loss, alpha=0.9, greater_is_better=False)
    theirs = make_scorer(sklearn_metrics.mean_pinball_loss, alpha=0.9, greater_is_better=False)
    ours_scores = cross_val_score(Ridge(), X, y, scoring=ours, cv=5)
    their_scores = cross_val_score(Ridge(), X, y, scoring=theirs, cv=5)
    np.testing.assert_allclose(ours_scores, their_scores, rtol=RTOL)
    assert np.all(ours_scores < 0)
    for name in ["r2_score", "mean_tweedie_deviance", "max_error", "root_mean_squared_error"]:
        a = cross_val_score(Ridge(), X, np.abs(y) + 1, scoring=make_scorer(getattr(rs, name)), cv=3)
        b = cross_val_score(
            Ridge(), X, np.abs(y) + 1, scoring=make_scorer(getattr(sklearn_metrics, name)), cv=3
        )
        np.testing.assert_allclose(a, b, rtol=RTOL)


def test_signatures_equal_sklearn():
    import inspect

    for name in ALL_FUNCTIONS:
        ours = inspect.signature(getattr(rs, name))
        theirs = inspect.signature(inspect.unwrap(getattr(sklearn_metrics, name)))
        assert str(ours) == str(theirs), name
    # the quantile functions (issue 24) are tested in tests/test_sklearn_quantiles.py
    quantile_functions = ["median_absolute_error", "d2_absolute_error_score", "d2_pinball_score"]
    assert sorted(rs.__all__) == sorted(ALL_FUNCTIONS + quantile_functions)


def test_python_blocks_of_the_docs_run():
    """Every Python block of docs/sklearn.md runs (its printed values are scikit-learn's)."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).parents[1] / "docs" / "sklearn.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "docs/sklearn.md", "exec"), {})


@pytest.mark.parametrize("outputs", [1, 3, 12])
@pytest.mark.parametrize("weighted", [False, True])
def test_numba_column_sums_are_bit_identical_for_any_thread_count(outputs, weighted):
    """The numba column kernel's partition depends on the shape only (regloss.kernels.column_sums)."""
    pytest.importorskip("numba")
    from regloss import kernels

    rng = np.random.default_rng(outputs)
    y_true = rng.normal(size=(300_000 // outputs, outputs))
    y_pred = rng.normal(size=y_true.shape)
    weights = rng.uniform(size=y_true.shape[0]) if weighted else None
    try:
        results = []
        for threads in (1, 2):
            config.set_num_threads(threads)
            results.append(kernels.column_sums("absolute_error", 0.0, 0.0, y_true, y_pred, weights))
    finally:
        config.set_num_threads(None)
    assert results[0] is not None
    np.testing.assert_array_equal(results[0], results[1])
    reference = (np.abs(y_true - y_pred) * (1.0 if weights is None else weights[:, None])).sum(axis=0)
    np.testing.assert_allclose(results[0], reference, rtol=1e-12)


def test_importing_and_calling_regloss_sklearn_imports_neither_sklearn_nor_numba():
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "import numpy as np, regloss.sklearn as rs\n"
        "rs.r2_score(np.arange(5.0), np.ones(5)); rs.mean_squared_error([1.0, 2.0], [1.0, 3.0])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'numba'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
