"""regloss.sklearn's median absolute error and D² pinball/absolute-error scores against
scikit-learn 1.9.1 itself: the median to the last bit (the same averaged inverted CDF), the D²
scores to 1e-12 relative (their pinball means sum in float64 over blocks), on random and
adversarial inputs (ties, integer weights, zero weights, n = 1, even and odd n), exceptions,
dtypes and every array library."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import regloss.sklearn as rs
from regloss import config

sklearn_metrics = pytest.importorskip("sklearn.metrics")

FUNCTIONS = ["median_absolute_error", "d2_absolute_error_score", "d2_pinball_score"]
RTOL = 1e-12


@pytest.fixture(params=["numpy", "none"])
def path(request):
    previous = config.accelerator()
    config.set_accelerator(request.param)
    yield request.param
    config.set_accelerator(previous)


def _both(name, *args, **kwargs):
    return getattr(rs, name)(*args, **kwargs), getattr(sklearn_metrics, name)(*args, **kwargs)


def _assert_equal(name, ours, theirs):
    if name == "median_absolute_error":  # the same selection and the same (a + b) / 2: bit for bit
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    else:  # 1 - ratio: compare the ratios (a score near 0 cancels 1 - ratio's digits)
        np.testing.assert_allclose(1 - np.asarray(ours), 1 - np.asarray(theirs), rtol=RTOL)


def _weights(rng, kind, n):
    if kind is None:
        return None
    if kind == "float":
        return rng.uniform(0.1, 3.0, size=n)
    if kind == "integer":
        return rng.integers(0, 4, size=n).astype(np.float64) + (np.arange(n) == 0)  # some zeros, not all
    if kind == "zeros":  # many zero weights, at both ends of the order too
        weights = rng.integers(0, 2, size=n).astype(np.float64)
        weights[rng.integers(0, n)] = 1.0
        return weights
    if kind == "int_array":
        return rng.integers(1, 5, size=n)
    raise AssertionError(kind)


def _values(rng, kind, shape):
    if kind == "normal":
        return rng.normal(3.0, 2.0, size=shape), rng.normal(3.0, 2.0, size=shape)
    if kind == "ties":  # few distinct values: the rank lands on boundaries between equal values
        return rng.integers(0, 4, size=shape).astype(np.float64), rng.integers(0, 3, size=shape) * 0.5
    if kind == "heavy":
        return rng.standard_cauchy(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape), np.zeros(shape)
    raise AssertionError(kind)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 10, 11, 64, 257])
@pytest.mark.parametrize("values", ["normal", "ties", "heavy"])
@pytest.mark.parametrize("weights", [None, "float", "integer", "zeros", "int_array"])
def test_equal_sklearn_random_and_adversarial(path, name, n, values, weights):
    for seed in range(4):
        rng = np.random.default_rng(seed * 1000 + n)
        outputs = [None, 1, 3][seed % 3]
        y_true, y_pred = _values(rng, values, (n,) if outputs is None else (n, outputs))
        sample_weight = _weights(rng, weights, n)
        kwargs = {"sample_weight": sample_weight}
        if name == "d2_pinball_score":
            kwargs["alpha"] = [0.5, 0.1, 0.9, 0.25][seed]
        options = ["uniform_average", "raw_values"]
        if outputs == 3:
            options.append(np.array([0.3, 1.0, 2.5]))
        for multioutput in options:
            with warnings.catch_warnings(record=True) as ours_warned:
                warnings.simplefilter("always")
                ours = getattr(rs, name)(y_true, y_pred, multioutput=multioutput, **kwargs)
            with warnings.catch_warnings(record=True) as theirs_warned:
                warnings.simplefilter("always")
                theirs = getattr(sklearn_metrics, name)(y_true, y_pred, multioutput=multioutput, **kwargs)
            assert [w.category for w in ours_warned] == [w.category for w in theirs_warned]
            assert type(ours) is type(theirs)
            if isinstance(theirs, np.ndarray):
                assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
            _assert_equal(name, ours, theirs)


def _reference_weighted_median(values, weights):
    """The averaged inverted CDF from its definition (Hyndman and Fan's type 2 with weights), in
    exact rational arithmetic: the smallest v with W(<= v) >= W/2, averaged with the next value
    that carries weight when W(<= v) == W/2 exactly."""
    from fractions import Fraction

    order = sorted(range(len(values)), key=lambda i: values[i])
    total = sum(Fraction(w) for w in weights)
    cumulative = Fraction(0)
    for position, i in enumerate(order):
        cumulative += Fraction(weights[i])
        if cumulative >= total / 2 and weights[i] != 0 or cumulative > total / 2:
            if cumulative == total / 2:
                following = next((j for j in order[position + 1 :] if weights[j] != 0), i)
                return (values[i] + values[following]) / 2
            return values[i]
    raise AssertionError


@pytest.mark.parametrize("seed", range(30))
def test_weighted_median_equals_its_definition_with_integer_weights(seed):
    """Integer weights make every cumulative sum exact, so the definition decides every tie."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    y_true = rng.integers(0, 6, size=n).astype(np.float64)
    weights = rng.integers(0, 4, size=n).astype(np.float64)
    weights[rng.integers(0, n)] += 1
    ours = rs.median_absolute_error(y_true, np.zeros(n), sample_weight=weights)
    assert ours == _reference_weighted_median(list(y_true), list(weights))


@pytest.mark.parametrize(
    ("true_dtype", "pred_dtype", "weight_dtype"),
    [
        ("float32", "float32", None),
        ("float64", "float32", None),
        ("int64", "int64", None),
        ("int32", "int32", "float64"),
        ("float32", "float32", "float32"),
        ("float32", "float32", "float64"),
    ],
)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_dtypes_as_sklearn(name, true_dtype, pred_dtype, weight_dtype):
    rng = np.random.default_rng(5)
    y_true = (rng.uniform(1, 5, size=(41, 2)) * 4).astype(true_dtype)
    y_pred = (rng.uniform(1, 5, size=(41, 2)) * 4).astype(pred_dtype)
    weights = None if weight_dtype is None else rng.uniform(1, 2, size=41).astype(weight_dtype)
    ours, theirs = _both(name, y_true, y_pred, sample_weight=weights, multioutput="raw_values")
    assert ours.dtype == theirs.dtype
    tolerance = 2e-6 if theirs.dtype == np.float32 and name != "median_absolute_error" else RTOL
    np.testing.assert_allclose(ours, theirs, rtol=tolerance)
    scalar, scalar_theirs = _both(name, y_true, y_pred, sample_weight=weights)
    assert type(scalar) is float
    np.testing.assert_allclose(scalar, scalar_theirs, rtol=tolerance)


CASES = [
    ([1.0, np.nan], [1.0, 2.0], {}),
    ([1.0, 2.0], [np.inf, 2.0], {}),
    ([1.0, 2.0], [1.0, 2.0], {"sample_weight": [0.0, 0.0]}),
    ([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], {"sample_weight": [-1.0, 1.0, 0.0]}),
    ([1.0, 2.0], [1.0, 2.0, 3.0], {}),
    ([[1.0, 2.0]], [[1.0, 2.0, 3.0]], {}),
    ([1.0, 2.0], [1.0, 2.0], {"multioutput": "variance_weighted"}),
    ([1.0, 2.0], [1.0, 2.0], {"multioutput": [0.5, 0.5]}),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]], {"multioutput": [0.5, 0.5, 1.0]}),
    ([1.0, 2.0], [1.0, 2.0], {"sample_weight": [[1.0, 1.0]]}),
    ("ab", [1.0, 2.0], {}),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]], {"multioutput": [1.0, -1.0]}),
]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("y_true", "y_pred", "kwargs"), CASES)
def test_exceptions_as_sklearn(name, y_true, y_pred, kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(sklearn_metrics, name)(y_true, y_pred, **kwargs)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        with pytest.raises(type(error)):
            getattr(rs, name)(y_true, y_pred, **kwargs)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(rs, name)(y_true, y_pred, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, "0.5", None])
def test_bad_alpha_names_the_argument(alpha):
    error = type(sklearn_metrics_error(alpha))
    with pytest.raises(error, match="alpha"):
        rs.d2_pinball_score([1.0, 2.0], [1.0, 2.0], alpha=alpha)


def sklearn_metrics_error(alpha):
    try:
        sklearn_metrics.d2_pinball_score([1.0, 2.0], [1.0, 2.0], alpha=alpha)
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError("scikit-learn accepted alpha")


def test_signatures_equal_sklearn():
    for name in FUNCTIONS:
        ours = inspect.signature(getattr(rs, name))
        theirs = inspect.signature(inspect.unwrap(getattr(sklearn_metrics, name)))
        assert str(ours) == str(theirs), name


def _xp_array(xp, values):
    if xp.__name__ == "dask.array":
        return xp.from_array(np.asarray(values), chunks=7)
    return xp.asarray(np.asarray(values))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_array_library(xp, name):
    rng = np.random.default_rng(8)
    y_true, y_pred = rng.normal(size=(23, 3)), rng.normal(size=(23, 3))
    weights = rng.uniform(0.5, 2.0, size=23)
    true_xp, pred_xp, weights_xp = (_xp_array(xp, a) for a in (y_true, y_pred, weights))
    saved = [np.asarray(a).copy() for a in (true_xp, pred_xp, weights_xp)]
    for kwargs, kwargs_xp in [({}, {}), ({"sample_weight": weights}, {"sample_weight": weights_xp})]:
        ours = getattr(rs, name)(true_xp, pred_xp, **kwargs_xp)
        assert type(ours) is float
        _assert_equal(name, ours, getattr(sklearn_metrics, name)(y_true, y_pred, **kwargs))
        raw = getattr(rs, name)(true_xp, pred_xp, multioutput="raw_values", **kwargs_xp)
        assert type(raw).__module__.split(".")[0] == type(true_xp).__module__.split(".")[0]
        theirs = getattr(sklearn_metrics, name)(y_true, y_pred, multioutput="raw_values", **kwargs)
        _assert_equal(name, np.asarray(raw), theirs)
    for before, after in zip(saved, (true_xp, pred_xp, weights_xp), strict=True):
        np.testing.assert_array_equal(before, np.asarray(after))


def test_make_scorer_equals_sklearn():
    from sklearn.linear_model import Ridge
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.standard_t(2, size=120)
    for name, kwargs in [("median_absolute_error", {}), ("d2_pinball_score", {"alpha": 0.9})]:
        ours = cross_val_score(Ridge(), X, y, scoring=make_scorer(getattr(rs, name), **kwargs), cv=4)
        theirs = cross_val_score(
            Ridge(), X, y, scoring=make_scorer(getattr(sklearn_metrics, name), **kwargs), cv=4
        )
        np.testing.assert_allclose(ours, theirs, rtol=RTOL)
