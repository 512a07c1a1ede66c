"""AbsoluteErrorQuantile's guarantee, |r - x| <= relative_accuracy * x for the exact lower sample
quantile x (computed here by sorting, independently of the sketch), on adversarial inputs
(hypothesis: heavy tails, duplicates, zeros, values over 16 and over 600 orders of magnitude), and
its invariance to batching and merge order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regloss.metrics import AbsoluteErrorQuantile

SMALLEST_NORMAL = 2.2250738585072014e-308


def _lower_quantile(errors: np.ndarray, q: float, weights=None) -> float:
    """The smallest x with (weight of errors <= x) >= q * total (q = 0: the smallest of positive weight)."""
    order = np.argsort(errors, kind="stable")
    values = errors[order]
    w = np.ones_like(values) if weights is None else weights[order]
    cumulative = np.cumsum(w)
    target = q * cumulative[-1]
    index = int(np.searchsorted(cumulative, target if target > 0 else math.ulp(0.0)))
    return float(values[min(index, len(values) - 1)])


def _check(result: float, exact: float, accuracy: float) -> None:
    if exact == 0.0 or math.isinf(exact):
        assert result == exact
    elif exact >= SMALLEST_NORMAL:
        assert abs(result - exact) <= accuracy * exact


magnitudes = st.floats(min_value=0.0, max_value=1e300, allow_nan=False, allow_infinity=False)
wide = st.builds(lambda m, e: m * 10.0**e, st.floats(0, 10), st.integers(-300, 300))
sixteen = st.builds(lambda m, e: m * 10.0**e, st.sampled_from([0.0, 1.0, 1.5, 3.0]), st.integers(-8, 8))
error_lists = st.one_of(
    st.lists(magnitudes, min_size=1, max_size=300),
    st.lists(wide, min_size=1, max_size=300),
    st.lists(sixteen, min_size=1, max_size=300),  # few distinct values: duplicates and zeros
)
levels = st.sampled_from([0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0]) | st.floats(0.0, 1.0)
accuracies = st.sampled_from([0.01, 0.05, 0.001, 0.2])


@settings(max_examples=300, deadline=None)
@given(errors=error_lists, q=levels, accuracy=accuracies)
def test_relative_bound_on_the_lower_quantile(errors, q, accuracy):
    errors = np.array(errors)
    metric = AbsoluteErrorQuantile(q=q, relative_accuracy=accuracy)
    metric.update_state(np.zeros_like(errors), errors)
    _check(float(metric.result()), _lower_quantile(errors, q), accuracy)


@settings(max_examples=150, deadline=None)
@given(errors=error_lists, q=levels, data=st.data())
def test_integer_weights_bound_and_merge_order(errors, q, data):
    errors = np.array(errors)
    counts = st.lists(st.integers(0, 5), min_size=len(errors), max_size=len(errors))
    weights = np.array(data.draw(counts), float)
    weights[0] += 1
    cuts = sorted(data.draw(st.lists(st.integers(0, len(errors)), max_size=5)))
    parts = []
    for start, stop in zip([0, *cuts], [*cuts, len(errors)], strict=True):
        part = AbsoluteErrorQuantile(q=q)
        if stop > start:
            part.update_state(np.zeros(stop - start), errors[start:stop], sample_weight=weights[start:stop])
        parts.append(part)
    permutation = data.draw(st.permutations(range(len(parts))))
    forward, shuffled = AbsoluteErrorQuantile(q=q), AbsoluteErrorQuantile(q=q)
    forward.merge_state(parts)
    shuffled.merge_state([parts[i] for i in permutation])
    whole = AbsoluteErrorQuantile(q=q)
    whole.update_state(np.zeros_like(errors), errors, sample_weight=weights)
    assert float(forward.result()) == float(shuffled.result()) == float(whole.result())
    _check(float(whole.result()), _lower_quantile(errors, q, weights), 0.01)


def test_heavy_tails_and_state_size_do_not_grow():
    rng = np.random.default_rng(0)
    metric = AbsoluteErrorQuantile(q=0.99)
    seen = []
    for _ in range(20):
        batch = np.abs(rng.standard_cauchy(5000)) ** 4
        seen.append(batch)
        metric.update_state(np.zeros(5000), batch)
        assert metric.state["buckets"].nbytes == metric.state_bytes
    _check(float(metric.result()), _lower_quantile(np.concatenate(seen), 0.99), 0.01)


def test_nan_mask_and_bad_arguments():
    metric = AbsoluteErrorQuantile()
    metric.update_state([[0.0, 1.0], [0.0, 5.0]], [[1.0, np.nan], [2.0, 5.0]], mask=[[1, 0], [1, 1]])
    assert float(metric.result()) == pytest.approx(1.0, rel=0.01)  # errors 1, 2, 0: lower median 1
    metric.update_state([0.0], [np.nan])
    assert math.isnan(float(metric.result()))
    bad = ({"q": 1.5}, {"q": -0.1}, {"relative_accuracy": 0.0}, {"relative_accuracy": 1.0}, {"q": "a"})
    for kwargs in bad:
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            AbsoluteErrorQuantile(**kwargs)
    with pytest.raises(ValueError, match="sample_weight"):
        AbsoluteErrorQuantile().update_state([1.0, 2.0], [1.0, 2.0], sample_weight=[1.0, 2.0, 3.0])
    assert float(AbsoluteErrorQuantile().result()) == 0.0
    config = AbsoluteErrorQuantile(q=0.9, relative_accuracy=0.02).get_config()
    assert AbsoluteErrorQuantile.from_config(config).get_config() == config


def test_bootstrap_one_sketch_per_replicate():
    """Bootstrap(AbsoluteErrorQuantile): the same replicates for any batching and merge (counts),
    each replicate within the bound of the lower quantile of its Poisson-weighted rows, and the
    state's size is (replicates + 1) sketches."""
    import array_api_compat.numpy as xp

    from regloss.metrics import Bootstrap
    from regloss.metrics.poisson import poisson_weights

    rng = np.random.default_rng(2)
    y_true, y_pred = rng.normal(size=(3000, 1)), rng.standard_cauchy(size=(3000, 1))
    whole = Bootstrap(AbsoluteErrorQuantile(q=0.9), num_replicates=20, seed=4)
    whole.update_state(y_true, y_pred)
    first, second = (Bootstrap(AbsoluteErrorQuantile(q=0.9), num_replicates=20, seed=4) for _ in range(2))
    second.update_state(y_true[1000:], y_pred[1000:], row_offset=1000)
    first.update_state(y_true[:1000], y_pred[:1000])
    first.merge_state([second])
    assert first.result().as_dict() == whole.result().as_dict()
    counts = np.asarray(poisson_weights(xp, 4, 0, 3000, 20, dtype=xp.float64))
    errors = np.abs(y_pred - y_true)[:, 0]
    for replicate, row_counts in zip(whole.replicates, counts, strict=True):
        _check(float(replicate.result()), _lower_quantile(errors, 0.9, row_counts), 0.01)
    result = whole.result()
    assert result.ci_low <= result.ci_high and result.se > 0
    assert whole.state_bytes == 21 * AbsoluteErrorQuantile().state_bytes


def test_grouped_one_sketch_per_group():
    """Grouped(AbsoluteErrorQuantile): each group's result is the sketch of its rows alone, within
    the bound of the group's exact lower quantile; merging two streams equals one stream."""
    from regloss.metrics import Grouped

    rng = np.random.default_rng(3)
    y_true, y_pred = rng.normal(size=600), rng.standard_cauchy(size=600)
    groups = rng.choice(["a", "b", "c"], size=600)
    whole = Grouped(AbsoluteErrorQuantile(q=0.75))
    whole.update_state(y_true, y_pred, groups=groups)
    first, second = Grouped(AbsoluteErrorQuantile(q=0.75)), Grouped(AbsoluteErrorQuantile(q=0.75))
    first.update_state(y_true[:250], y_pred[:250], groups=groups[:250])
    second.update_state(y_true[250:], y_pred[250:], groups=groups[250:])
    first.merge_state(second)
    result = whole.result()
    assert list(result) == ["a", "b", "c"]
    assert {k: float(v) for k, v in first.result().items()} == {k: float(v) for k, v in result.items()}
    for key, value in result.items():
        rows = groups == key
        _check(float(value), _lower_quantile(np.abs(y_pred[rows] - y_true[rows]), 0.75), 0.01)
