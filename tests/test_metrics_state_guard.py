"""A metric's state stays on its array library and device (issue 20, item 3).

A batch, or a state to merge, of another library (NumPy, torch, JAX) is a ``TypeError``, on another
device of the same library (torch ``cpu`` and ``meta``, array-api-strict's two devices) a
``ValueError``; both name the two places, and the state is bit for bit what it was, for every metric
class of :mod:`regloss.metrics` (found from its public names, so new classes are covered) and for
``Bootstrap`` around each, in ``update_state``, ``merge_state``, ``Bootstrap.update_together`` and
:func:`regloss.dask.update_state`, and in the statistics' pure ``update`` and ``merge``.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

import regloss.metrics as rm

torch = pytest.importorskip("torch")
jnp = pytest.importorskip("jax.numpy")


def _public_metric_classes():
    found = [
        value
        for name in rm.__all__
        if isinstance(value := getattr(rm, name), type)
        and issubclass(value, rm.Metric)
        and value is not rm.Metric
    ]
    assert len(found) >= 9 and rm.RootMeanSquaredError in found and rm.R2Score in found
    return found


CLASSES = _public_metric_classes()
IDS = [cls.__name__ for cls in CLASSES]


def _new(cls):
    """An instance for the batches here, of three outputs (the dataset-level correlations are
    built for a number of outputs)."""
    return cls(num_outputs=3) if "num_outputs" in inspect.signature(cls).parameters else cls()


def _numpy_batch(seed=0, rows=6, outputs=3):
    rng = np.random.default_rng(seed)
    y_true = rng.uniform(0.5, 2.0, size=(rows, outputs))  # positive: MSLE and MAPE take it too
    return y_true, y_true + rng.normal(0.0, 0.3, size=(rows, outputs)), rng.uniform(0.5, 1.5, size=rows)


# place name -> a function converting a NumPy array there
PLACES = {
    "numpy": lambda a: a,
    "torch-cpu": lambda a: torch.asarray(a),
    "torch-meta": lambda a: torch.asarray(a).to("meta"),
    "jax": lambda a: jnp.asarray(a),
}
# (state's place, batch's place, expected error): other libraries and another device
MISMATCHES = [
    ("torch-cpu", "torch-meta", ValueError),
    ("torch-meta", "torch-cpu", ValueError),
    ("numpy", "torch-cpu", TypeError),
    ("torch-cpu", "numpy", TypeError),
    ("numpy", "jax", TypeError),
    ("jax", "numpy", TypeError),
    ("torch-cpu", "jax", TypeError),
    ("jax", "torch-cpu", TypeError),
]
MISMATCH_IDS = [f"{state}-state-{batch}-batch" for state, batch, _ in MISMATCHES]
WORDS = {"numpy": "numpy", "torch-cpu": "cpu", "torch-meta": "meta", "jax": "jax"}


def _batch_at(place, seed=0, weighted=False):
    y_true, y_pred, weight = _numpy_batch(seed)
    convert = PLACES[place]
    return convert(y_true), convert(y_pred), convert(weight) if weighted else None


def _leaves(state, prefix=()):
    if isinstance(state, dict):
        for key in sorted(state):
            yield from _leaves(state[key], (*prefix, key))
    else:
        yield prefix, state


def _snapshot(state):
    """Every array of a (nested) state: library, device, dtype, shape and bytes (a meta tensor has
    no bytes: its place, dtype and shape)."""
    if state is None:
        return None
    out = {}
    for path, value in _leaves(state):
        kind = type(value).__module__.split(".")[0]
        if kind == "torch":
            data = None if value.device.type == "meta" else value.detach().cpu().numpy().tobytes()
            out[path] = (kind, str(value.device), str(value.dtype), tuple(value.shape), data)
        else:
            array = np.asarray(value)
            out[path] = (
                kind,
                str(getattr(value, "device", "cpu")),
                str(array.dtype),
                array.shape,
                array.tobytes(),
            )
    return out


def _to_meta(state):
    """A torch CPU state moved onto the meta device (a state that lives there)."""
    if isinstance(state, dict):
        return {key: _to_meta(value) for key, value in state.items()}
    return state.to("meta")


def _fed(metric, place, seed=0):
    """``metric`` with a state on ``place`` (a meta state: a CPU state moved there)."""
    source = "torch-cpu" if place == "torch-meta" else place
    metric.update_state(*_batch_at(source, seed)[:2])
    if place == "torch-meta":
        metric.state = _to_meta(metric.state)
    return metric


def _wrapped(cls, bootstrap):
    metric = _new(cls)
    return rm.Bootstrap(metric, num_replicates=8, seed=3) if bootstrap else metric


def _owner(metric):
    return "Bootstrap" if isinstance(metric, rm.Bootstrap) else type(metric).__name__


# ----------------------------------------------------------------------------------------------
# update_state
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bootstrap", [False, True], ids=["metric", "bootstrap"])
@pytest.mark.parametrize(("state_place", "batch_place", "error"), MISMATCHES, ids=MISMATCH_IDS)
@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_a_batch_elsewhere_is_refused_and_the_state_kept(cls, state_place, batch_place, error, bootstrap):
    metric = _fed(_wrapped(cls, bootstrap), state_place)
    before, before_object = _snapshot(metric.state), metric.state
    for weighted in (False, True):
        with pytest.raises(error) as raised:
            metric.update_state(*_batch_at(batch_place, seed=1, weighted=weighted))
        message = str(raised.value)
        assert _owner(metric) in message, message
        assert WORDS[state_place] in message and WORDS[batch_place] in message, message
        assert metric.state is before_object
        assert _snapshot(metric.state) == before


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_the_issue_example_meta_after_cpu(cls):
    """CPU torch tensors, then meta tensors: refused with a message naming both devices."""
    metric = _new(cls)
    metric.update_state(*_batch_at("torch-cpu")[:2])
    before = _snapshot(metric.state)
    with pytest.raises(
        ValueError, match=rf"batch on device meta .*state of {cls.__name__} lives on cpu \(torch\)"
    ):
        metric.update_state(*_batch_at("torch-meta")[:2])
    assert _snapshot(metric.state) == before
    metric.update_state(*_batch_at("torch-cpu", seed=2)[:2])  # the stream goes on where it was
    assert all(str(device) == "cpu" for _, (_, device, *_rest) in _snapshot(metric.state).items())


def test_array_api_strict_devices():
    xps = pytest.importorskip("array_api_strict")
    other = xps.Device("device1")
    for cls in CLASSES:
        metric = _new(cls)
        y_true, y_pred, _ = _numpy_batch()
        metric.update_state(xps.asarray(y_true), xps.asarray(y_pred))
        before = _snapshot(metric.state)
        with pytest.raises(ValueError, match="device1"):
            metric.update_state(xps.asarray(y_true, device=other), xps.asarray(y_pred, device=other))
        assert _snapshot(metric.state) == before, cls.__name__


def test_lists_and_dask_batches_are_numpy_batches():
    """A NumPy state takes lists and Dask arrays (computed into it); a torch state takes a batch
    whose y_pred is torch and y_true a list (converted onto its device), not a list alone."""
    da = pytest.importorskip("dask.array")
    y_true, y_pred, _ = _numpy_batch()
    metric = rm.MeanSquaredError()
    metric.update_state(y_true, y_pred)
    metric.update_state(y_true.tolist(), y_pred.tolist())
    metric.update_state(da.from_array(y_true, chunks=2), da.from_array(y_pred, chunks=2))
    on_torch = rm.MeanSquaredError()
    on_torch.update_state(torch.asarray(y_true), torch.asarray(y_pred))
    on_torch.update_state(y_true.tolist(), torch.asarray(y_pred))
    with pytest.raises(TypeError, match="numpy"):
        on_torch.update_state(y_true.tolist(), y_pred.tolist())


@pytest.mark.parametrize(("state_place", "batch_place", "error"), MISMATCHES, ids=MISMATCH_IDS)
def test_update_together_refuses_and_changes_no_state(state_place, batch_place, error):
    fine = _fed(rm.Bootstrap(rm.MeanAbsoluteError(), num_replicates=8), batch_place)
    elsewhere = _fed(rm.Bootstrap(rm.MeanSquaredError(), num_replicates=8), state_place)
    before = [_snapshot(fine.state), _snapshot(elsewhere.state)]
    y_true, y_pred, _ = _batch_at(batch_place, seed=4)
    with pytest.raises(error):
        rm.Bootstrap.update_together([(fine, y_true, y_pred), (elsewhere, y_true, y_pred)], row_offset=6)
    assert [_snapshot(fine.state), _snapshot(elsewhere.state)] == before


# ----------------------------------------------------------------------------------------------
# merge_state
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bootstrap", [False, True], ids=["metric", "bootstrap"])
@pytest.mark.parametrize(("mine", "theirs", "error"), MISMATCHES, ids=MISMATCH_IDS)
@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_merging_a_state_elsewhere_is_refused(cls, mine, theirs, error, bootstrap):
    metric = _fed(_wrapped(cls, bootstrap), mine)
    other = _fed(_wrapped(cls, bootstrap), theirs, seed=1)
    same = _fed(_wrapped(cls, bootstrap), mine, seed=2)
    before = [_snapshot(m.state) for m in (metric, other, same)]
    before_object = metric.state
    for others in ([other], [same, other], [other, same]):  # a good one first: nothing merged either
        with pytest.raises(error) as raised:
            metric.merge_state(*others)
        message = str(raised.value)
        assert WORDS[mine] in message and WORDS[theirs] in message, message
        assert metric.state is before_object
        assert [_snapshot(m.state) for m in (metric, other, same)] == before
    empty = _wrapped(cls, bootstrap)  # no state yet: the two others still disagree
    with pytest.raises(error):
        empty.merge_state(same, other)
    assert empty.state is None


def test_numpy_merging_torch_no_longer_becomes_torch():
    """The issue's case: a NumPy metric merging a torch metric used to become a torch metric."""
    mine, theirs = _fed(rm.MeanSquaredError(), "numpy"), _fed(rm.MeanSquaredError(), "torch-cpu")
    before = _snapshot(mine.state)
    with pytest.raises(TypeError, match=r"torch.*numpy|numpy.*torch"):
        mine.merge_state(theirs)
    assert _snapshot(mine.state) == before
    assert all(kind == "numpy" for kind, *_ in before.values())


@pytest.mark.parametrize(("mine", "theirs", "error"), MISMATCHES, ids=MISMATCH_IDS)
@pytest.mark.parametrize(
    "cls", [cls for cls in CLASSES if isinstance(cls().statistic, rm.statistics.MeanStatistic)]
)
def test_pure_statistic_refuses_too(cls, mine, theirs, error):
    """``metric.statistic.update`` and ``merge`` (the jit-able state machine) check the same."""
    statistic = cls().statistic
    state = _fed(cls(), mine).state
    other = _fed(cls(), theirs, seed=1).state
    before = (_snapshot(state), _snapshot(other))
    with pytest.raises(error):
        statistic.update(state, *_batch_at(theirs, seed=1)[:2])
    with pytest.raises(error):
        statistic.merge(state, other)
    with pytest.raises(error):
        statistic.merge(other, state)
    assert (_snapshot(state), _snapshot(other)) == before


def test_dask_update_state_refuses_a_torch_state():
    da = pytest.importorskip("dask.array")
    from regloss import dask as rdask

    fine, elsewhere = rm.MeanSquaredError(), _fed(rm.MeanAbsoluteError(), "torch-cpu")
    before = _snapshot(elsewhere.state)
    y_true, y_pred, _ = _numpy_batch()
    with pytest.raises(TypeError, match="MeanAbsoluteError"):
        rdask.update_state(
            [fine, elsewhere], da.from_array(y_true, chunks=3), da.from_array(y_pred, chunks=3)
        )
    assert fine.state is None and _snapshot(elsewhere.state) == before


def test_a_deep_copy_of_the_state_is_unaffected():
    """The refused batch is not modified either (inputs are never written)."""
    metric = _fed(rm.R2Score(), "torch-cpu")
    batch = _batch_at("jax", weighted=True)
    copies = [np.array(a) for a in batch]
    with pytest.raises(TypeError):
        metric.update_state(*batch)
    for given, kept in zip(batch, copies, strict=True):
        np.testing.assert_array_equal(np.asarray(given), kept)
    assert copy.deepcopy(metric).result() == metric.result()
