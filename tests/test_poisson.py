"""Differential tests: regloss's Poisson loss and metric against Keras 3.15.1, on three backends.

Keras runs in one subprocess per backend (``tests/keras_poisson_worker.py`` with
``KERAS_BACKEND=numpy``, ``jax`` (x64) and ``torch``, each with a private ``KERAS_HOME``), started
together by the module-scoped ``oracle`` fixture; Keras is never imported in this process.  Every
case is generated here from a fixed seed, written to an ``.npz`` file plus a JSON request, and each
worker returns its values for all of them.

Inputs are counts (non-negative integers held as floats) for ``y_true`` and positive rates for
``y_pred``, with exact zeros in ``y_pred`` (``log(0 + 1e-7)``) in most cases.  Each case is checked
three ways: regloss against each Keras backend, regloss against the independent float64 reference
written below (``ref_*``), and Keras against that reference (which checks the reference's reading
of Keras's rules: rank fixing of weights, the divisor of every reduction).

Tolerances.  An absolute tolerance is scaled by the magnitude of what was summed (the same
reduction of ``|y_pred| + |y_true log(y_pred + eps)|`` with ``|weights|``, at least 1): Poisson terms
have both signs, so a mean near zero carries the rounding of its larger parts.

* float32: rtol 1e-6, atol 1e-6 x magnitude;
* float64: rtol 1e-12, atol 1e-12 x magnitude against the reference.  Keras 3.15.1's float64 Poisson
  is only float32-accurate on every backend (its ``ops.mean`` of float64 is taken in float32 on JAX
  and torch; the NumPy backend's ``poisson`` converts float64 inputs to float32, so there a float64
  call of the function returns float32): regloss's float64 is checked against Keras at the float32
  tolerance (README, "Where regloss follows Keras");
* float16: rtol 2e-3, atol 3e-3 x magnitude (Keras computes in float16, regloss in float32 inside).

Documented differences asserted as such (README decision 6): with ``reduction="none"``, a
``(B, 1)`` weight on ``(B,)`` losses gives ``(B,)`` here (Keras ``(B, 1)``), and a scalar weight on
the ``(1,)`` losses of a batch of one gives ``(1,)`` (Keras ``()``); the values are the same.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None:
    pytest.skip("the Keras Poisson oracle needs keras==3.15.1", allow_module_level=True)

import regloss.losses as rl  # noqa: E402
import regloss.metrics as rm  # noqa: E402
from tests._helpers import library_name, library_of, to_numpy  # noqa: E402

KERAS_VERSION = "3.15.1"
WORKER = Path(__file__).with_name("keras_poisson_worker.py")
SEED = 20261207
EPS = 1e-7  # Keras's (and regloss's) default epsilon
BACKENDS = ["numpy"] + [b for b in ("jax", "torch") if importlib.util.find_spec(b) is not None]

TOL = {"float32": (1e-6, 1e-6), "float64": (1e-12, 1e-12), "float16": (2e-3, 3e-3)}
KERAS64_TOL = TOL["float32"]  # Keras's float64 Poisson is float32-accurate (module docstring)
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None]

# ----------------------------------------------------------------------------------------------
# The independent float64 reference (NumPy only; Keras 3.15.1's rules written out).
# ----------------------------------------------------------------------------------------------


def ref_terms(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    return y_pred - y_true * np.log(y_pred + EPS)


def ref_parts(y_true, y_pred):
    """The magnitude of the parts of each term, for the absolute tolerances."""
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    return np.abs(y_pred) + np.abs(y_true * np.log(y_pred + EPS))


def ref_poisson(y_true, y_pred):
    """``keras.losses.poisson``: the mean of the terms over the last axis."""
    return np.mean(ref_terms(y_true, y_pred), axis=-1)


def _fix_ranks(values, weight):
    """Keras's ``squeeze_or_expand_to_same_rank(values, weight)``."""
    if values.ndim == weight.ndim + 1 and values.shape[-1] == 1:
        if weight.ndim == 1:
            weight = weight[:, None]
        else:
            values = values[..., 0]
    if weight.ndim == values.ndim + 1 and weight.shape[-1] == 1:
        if values.ndim == 1:
            values = values[:, None]
        else:
            weight = weight[..., 0]
    return values, weight


def ref_reduce(values, sample_weight, reduction):
    """Keras's ``reduce_weighted_values`` for per-sample losses ``values`` (float64), in Keras's
    shape: the weight and the losses brought to the same rank, multiplied, then reduced; a 0-d
    product is returned as it is, whatever the reduction; ``mean_with_sample_weight`` divides by
    the sum of the weight as given (not broadcast), the other means by the number of losses."""
    values = np.asarray(values, np.float64)
    weight = None
    if sample_weight is not None:
        weight = np.asarray(sample_weight, np.float64)
        values, weight = _fix_ranks(values, weight)
        values = values * weight
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    total = np.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        divisor = np.sum(weight)
    else:
        divisor = float(values.size)
    return total / divisor if divisor != 0 else np.float64(0.0)


def ref_stream(batches):
    """``keras.metrics.Poisson`` after every batch: ``sum(w * loss) / sum(w)`` over all batches so
    far (the weight broadcast to the per-sample losses), in float64."""
    total = count = 0.0
    out = []
    for b in batches:
        losses = ref_poisson(b["yt"], b["yp"])
        w = (
            np.ones_like(losses)
            if b["sw"] is None
            else np.broadcast_to(np.asarray(b["sw"], np.float64), losses.shape)
        )
        total += float(np.sum(w * losses))
        count += float(np.sum(w))
        out.append(total / count if count else 0.0)
    return np.array(out)


def ref_stream_scale(batches):
    total = count = 0.0
    out = []
    for b in batches:
        parts = np.mean(ref_parts(b["yt"], b["yp"]), axis=-1)
        w = np.ones_like(parts) if b["sw"] is None else np.abs(np.asarray(b["sw"], np.float64))
        total += float(np.sum(w * parts))
        count += float(np.sum(w))
        out.append(total / count if count else 0.0)
    return np.array(out)


# ----------------------------------------------------------------------------------------------
# Deterministic cases (NumPy only).
# ----------------------------------------------------------------------------------------------

ARRAYS: dict[str, np.ndarray] = {}
_rng = np.random.default_rng(SEED)


def _store(array):
    if array is None:
        return None
    key = f"a{len(ARRAYS)}"
    ARRAYS[key] = np.asarray(array)
    return key


def _counts(shape):
    return _rng.integers(0, 7, size=shape).astype(np.float64)


def _rates(shape, y_true, zeros):
    """Positive rates; with ``zeros``, about a quarter of them exactly 0, both where the count is
    0 and where it is not (when the shape allows)."""
    y_pred = _rng.uniform(0.05, 6.0, size=shape)
    if zeros:
        y_pred[_rng.uniform(size=shape) < 0.25] = 0.0
        flat_t, flat_p = y_true.reshape(-1), y_pred.reshape(-1)
        flat_t[0], flat_p[0] = 3.0, 0.0  # a count at rate 0: y_true * log(eps)
        if flat_p.size > 1:
            flat_t[-1], flat_p[-1] = 0.0, 0.0  # nothing at rate 0: a zero term
    return y_pred


def _pair(shape, dtype, zeros):
    y_true = _counts(shape)
    y_pred = _rates(shape, y_true, zeros)
    return y_true.astype(dtype), y_pred.astype(dtype)


FN_SHAPES = [(5, 3), (4, 2, 3), (7, 1), (3,)]
FN_CASES = {}
for _shape in FN_SHAPES:
    for _dtype in ("float32", "float64"):
        for _zeros in (False, True):
            _yt, _yp = _pair(_shape, _dtype, _zeros)
            _cid = f"fn-{'x'.join(map(str, _shape))}-{_dtype}-{'zeros' if _zeros else 'rates'}"
            FN_CASES[_cid] = {
                "id": _cid,
                "yt": _store(_yt),
                "yp": _store(_yp),
                "dtype": _dtype,
                "shape": _shape,
            }


def _weight(kind, batch):
    """``(array or None, float or None)``: a sample weight of kind ``"none"``, ``"scalar"`` (0.7),
    ``"B"`` or ``"B1"`` (shapes ``(B,)`` and ``(B, 1)``, one zero among them when B > 2)."""
    if kind == "none":
        return None, None
    if kind == "scalar":
        return None, 0.7
    shape = (batch,) if kind == "B" else (batch, 1)
    w = _rng.uniform(0.0, 2.0, size=shape)
    if batch > 2:
        w.reshape(-1)[1] = 0.0
    return w, None


CLS_CASES = {}


def _cls(cid, shape, weight, reduction, dtype=None, zeros=True, input_dtype="float32", expect=None):
    y_true, y_pred = _pair(shape, input_dtype, zeros)
    w, w_float = _weight(weight, shape[0])
    kwargs = {"reduction": reduction} if dtype is None else {"reduction": reduction, "dtype": dtype}
    if w is not None:
        w = w.astype(input_dtype)
    CLS_CASES[cid] = {
        "id": cid,
        "kwargs": kwargs,
        "yt": _store(y_true),
        "yp": _store(y_pred),
        "sw": _store(w),
        "sw_float": w_float,
        "dtype": dtype or "float32",
        "weight": weight,
        "expect": expect,
    }


for _shape in [(5, 3), (4, 2, 3)]:
    for _w in ("none", "B", "B1", "scalar"):
        for _red in REDUCTIONS:
            # A (B,) weight on (B, T) losses: Keras's broadcasting fails (in the backend's own
            # error), and regloss refuses it with a ValueError.
            _expect = "ValueError" if (_w == "B" and len(_shape) == 3) else None
            _cls(f"cls-{'x'.join(map(str, _shape))}-w{_w}-{_red}", _shape, _w, _red, expect=_expect)
for _w in ("scalar", "B", "none"):  # a batch of one
    for _red in REDUCTIONS:
        _cls(f"cls-1x3-w{_w}-{_red}", (1, 3), _w, _red)
for _w in ("none", "B", "scalar"):  # the other loss dtypes
    for _red in REDUCTIONS:
        _cls(f"cls-float64-w{_w}-{_red}", (5, 3), _w, _red, dtype="float64", input_dtype="float64")
        # float16: positive rates only (a rate of 0 is test_float16_loss_with_zero_rates_matches_keras)
        _cls(
            f"cls-float16-w{_w}-{_red}", (5, 3), _w, _red, dtype="float16", zeros=False, input_dtype="float64"
        )
F16_ZERO_CASES = []
for _red in ("sum_over_batch_size", "none"):
    _cid = f"cls-float16-zeros-{_red}"
    _cls(_cid, (5, 3), "none", _red, dtype="float16", zeros=True, input_dtype="float64")
    F16_ZERO_CASES.append(_cid)
MAIN_CLS = [cid for cid in CLS_CASES if cid not in F16_ZERO_CASES]

# Metric streams: 2-D batches only (regloss takes a 1-D batch as B samples, Keras as one).
STREAMS = {}


def _stream(sid, shapes, weights):
    batches = []
    for shape, weighted in zip(shapes, weights, strict=True):
        y_true, y_pred = _pair(shape, "float32", True)
        sw = None
        if weighted:
            sw = _rng.uniform(0.0, 2.0, size=shape[:1]).astype(np.float32)
            sw[::3] = 0.0
        batches.append({"yt": y_true, "yp": y_pred, "sw": sw})
    STREAMS[sid] = batches


_stream("plain", [(5, 3), (3, 3), (8, 3), (1, 3)], [False] * 4)
_stream("weighted", [(6, 3), (4, 3), (7, 3), (2, 3)], [True] * 4)
_stream("mixed", [(5, 4), (6, 4), (3, 4), (4, 4)], [False, True, False, True])
_stream("one-output", [(6, 1), (4, 1), (9, 1)], [True, False, True])

# Serialization: Keras configs that regloss loads, regloss configs that Keras loads.
_SER_T, _SER_P = _pair((5, 3), "float32", True)
SER = {"yt": _store(_SER_T), "yp": _store(_SER_P)}
MAKE = {"p": {"reduction": "sum", "name": "p"}, "default": {}, "function": None}
LOAD = {
    "default": rl.Poisson(),
    "sum-p": rl.Poisson(reduction="sum", name="p"),
    "none-float64": rl.Poisson(reduction="none", name="p64", dtype="float64"),
    "function": rl.poisson,
}


def _request():
    def batches(sid):
        return [{k: _store(b[k]) for k in ("yt", "yp", "sw")} for b in STREAMS[sid]]

    return {
        "fn": [{"id": c["id"], "yt": c["yt"], "yp": c["yp"]} for c in FN_CASES.values()],
        "cls": [
            {
                **{k: c[k] for k in ("id", "kwargs", "yt", "yp", "sw", "sw_float")},
                "eager": c["expect"] is not None,
            }
            for c in CLS_CASES.values()
        ],
        "streams": [{"id": sid, "batches": batches(sid)} for sid in STREAMS],
        "load": [{"id": lid, "config": rl.serialize(obj), **SER} for lid, obj in LOAD.items()],
        "make": [{"id": mid, "kwargs": kwargs or {}, **SER} for mid, kwargs in MAKE.items()],
    }


REQUEST = _request()

# ----------------------------------------------------------------------------------------------
# The oracle: one Keras subprocess per backend, run side by side.
# ----------------------------------------------------------------------------------------------


class Oracle:
    def __init__(self, backend, meta, values):
        self.backend, self.meta, self.values = backend, meta, values

    def error(self, cid):
        return self.meta["meta"][cid]["error"]

    def value(self, cid):
        info = self.meta["meta"][cid]
        if info["error"] is not None:
            raise AssertionError(f"Keras ({self.backend}) raised on {cid}: {info['error']}")
        return self.values[cid]

    def dtype(self, cid):
        return self.meta["meta"][cid]["dtype"]

    @property
    def extras(self):
        return self.meta["extras"]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    work = tmp_path_factory.mktemp("keras_poisson_oracle")
    (work / "request.json").write_text(json.dumps(REQUEST))
    np.savez(work / "arrays.npz", **ARRAYS)
    procs = {}
    for backend in BACKENDS:
        env = dict(os.environ)
        env.update(
            KERAS_BACKEND=backend,
            KERAS_HOME=str(work / f"keras_home_{backend}"),
            JAX_ENABLE_X64="1",
            JAX_PLATFORMS="cpu",
            TF_CPP_MIN_LOG_LEVEL="3",
            # the JAX worker jits its cases: float16 intermediates rounded as in eager execution
            XLA_FLAGS="--xla_allow_excess_precision=false",
        )
        out = [work / f"out_{backend}.json", work / f"out_{backend}.npz"]
        args = [
            sys.executable,
            str(WORKER),
            str(work / "request.json"),
            str(work / "arrays.npz"),
            *map(str, out),
        ]
        proc = subprocess.Popen(
            args, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        procs[backend] = (proc, out)
    oracles = {}
    for backend, (proc, (out_json, out_npz)) in procs.items():
        _, stderr = proc.communicate(timeout=300)
        if proc.returncode != 0 or not out_json.exists():
            pytest.fail(f"Keras Poisson worker ({backend}) failed (rc={proc.returncode}):\n{stderr[-4000:]}")
        meta = json.loads(out_json.read_text())
        if meta["status"] == "skip":
            if backend == "numpy":
                pytest.skip(meta["reason"])
            continue  # an optional backend that Keras cannot use here
        if meta["keras_version"] != KERAS_VERSION:
            pytest.skip(f"the oracle is Keras {KERAS_VERSION}; found {meta['keras_version']}")
        assert meta["backend"] == backend, meta["backend"]
        with np.load(out_npz, allow_pickle=False) as npz:
            values = {k.replace("__", ":"): npz[k] for k in npz.files}
        oracles[backend] = Oracle(backend, meta, values)
    return oracles


# ----------------------------------------------------------------------------------------------
# Helpers.
# ----------------------------------------------------------------------------------------------


def _close(actual, expected, scale, tol, what):
    rtol, atol = tol
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.size == expected.size, f"{what}: sizes {actual.shape} vs {expected.shape}"
    actual, expected = actual.reshape(-1), expected.reshape(-1)
    scale = np.maximum(np.broadcast_to(np.asarray(scale, np.float64).reshape(-1), expected.shape), 1.0)
    err = np.abs(actual - expected)
    bad = ~(err <= atol * scale + rtol * np.abs(expected))
    assert not bad.any(), (
        f"{what}:\n  got      {actual.tolist()}\n  expected {expected.tolist()}\n"
        f"  |diff|   {err.tolist()}\n  allowed  {(atol * scale + rtol * np.abs(expected)).tolist()}"
    )


def _xp_array(xp, array):
    return array if xp is np else xp.asarray(array)


def _weight_arg(xp, case):
    if case["sw_float"] is not None:
        return case["sw_float"]
    return None if case["sw"] is None else _xp_array(xp, ARRAYS[case["sw"]])


def _case_weight(case):
    if case["sw_float"] is not None:
        return case["sw_float"]
    return None if case["sw"] is None else ARRAYS[case["sw"]]


def ref_class(case):
    """(value, scale) of the reference for a class case, in Keras's shape; the inputs as the loss
    dtype holds them."""
    dt = np.dtype(case["dtype"])  # Keras and regloss cast the inputs and the weight to the loss dtype
    y_true = ARRAYS[case["yt"]].astype(dt).astype(np.float64)
    y_pred = ARRAYS[case["yp"]].astype(dt).astype(np.float64)
    weight = _case_weight(case)
    if weight is not None and not isinstance(weight, float):
        weight = np.asarray(weight).astype(dt).astype(np.float64)
    elif weight is not None:
        weight = float(np.asarray(weight, dt))
    reduction = case["kwargs"]["reduction"]
    value = ref_reduce(ref_poisson(y_true, y_pred), weight, reduction)
    abs_weight = None if weight is None else np.abs(weight)
    scale = ref_reduce(np.mean(ref_parts(y_true, y_pred), axis=-1), abs_weight, reduction)
    return value, scale


def run_class(case, xp=np):
    loss = rl.Poisson(**case["kwargs"])
    out = loss(
        y_true=_xp_array(xp, ARRAYS[case["yt"]]),
        y_pred=_xp_array(xp, ARRAYS[case["yp"]]),
        sample_weight=_weight_arg(xp, case),
    )
    return out


def _per_sample_shape(case):
    return tuple(ARRAYS[case["yt"]].shape[:-1])


def _documented_shape_difference(case):
    """README decision 6: ``reduction="none"`` with a ``(B, 1)`` weight on ``(B,)`` losses gives
    ``(B,)`` (Keras expands the losses to ``(B, 1)``)."""
    return (
        case["kwargs"]["reduction"] in (None, "none")
        and case["weight"] == "B1"
        and len(_per_sample_shape(case)) == 1
    )


def _expected_shape(case, keras_shape):
    """regloss's shape for a class case: Keras's, except for the documented difference."""
    return _per_sample_shape(case) if _documented_shape_difference(case) else tuple(keras_shape)


MEAN_REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight")


def _keras_class_dtype(case, backend):
    """The dtype of Keras 3.15.1's class result: the loss dtype, except that on the NumPy and torch
    backends a float64 loss's mean reductions come back float32 (its ``divide_no_nan`` by the
    count); regloss returns the loss dtype throughout."""
    dtype = case["dtype"]
    if (
        dtype == "float64"
        and backend in ("numpy", "torch")
        and case["kwargs"]["reduction"] in MEAN_REDUCTIONS
    ):
        # a batch of one with a scalar weight is returned unreduced (never in a float64 case here)
        return "float32"
    return dtype


def _keras_tol(dtype):
    return KERAS64_TOL if dtype == "float64" else TOL[dtype]


# ----------------------------------------------------------------------------------------------
# The function.
# ----------------------------------------------------------------------------------------------


def test_case_inventory(oracle):
    assert set(oracle) == set(BACKENDS) and "numpy" in oracle
    assert len(FN_CASES) == 16
    assert {c["kwargs"]["reduction"] for c in CLS_CASES.values()} == set(REDUCTIONS)
    assert {c["weight"] for c in CLS_CASES.values()} == {"none", "B", "B1", "scalar"}
    assert {c["dtype"] for c in CLS_CASES.values()} == {"float32", "float64", "float16"}
    zero_rates = sum(np.count_nonzero(ARRAYS[c["yp"]] == 0) for c in FN_CASES.values())
    assert zero_rates >= 8


@pytest.mark.parametrize("cid", list(FN_CASES))
def test_function_matches_keras(oracle, xp, cid):
    """``regloss.losses.poisson`` on every array library against ``keras.losses.poisson`` on every
    Keras backend: the result is of the input's library, dtype and Keras's shape."""
    case = FN_CASES[cid]
    y_true, y_pred = ARRAYS[case["yt"]], ARRAYS[case["yp"]]
    out = rl.poisson(_xp_array(xp, y_true), _xp_array(xp, y_pred))
    assert library_of(out) == library_name(xp)
    got = to_numpy(out)
    assert got.dtype.name == case["dtype"]
    reference, scale = ref_poisson(y_true, y_pred), np.mean(ref_parts(y_true, y_pred), axis=-1)
    assert got.shape == reference.shape == case["shape"][:-1]
    for backend, keras in oracle.items():
        want = keras.value(cid)
        assert tuple(want.shape) == got.shape, (backend, want.shape, got.shape)
        if case["dtype"] == "float32" or backend != "numpy":
            # Keras's NumPy backend converts float64 inputs of the function to float32.
            assert keras.dtype(cid) == case["dtype"], (backend, keras.dtype(cid))
        _close(
            got,
            want,
            scale,
            _keras_tol(case["dtype"]),
            f"{cid} on {library_name(xp)}: regloss vs Keras ({backend})",
        )
        _close(want, reference, scale, TOL["float32"], f"{cid}: Keras ({backend}) vs reference")
    _close(got, reference, scale, TOL[case["dtype"]], f"{cid} on {library_name(xp)}: regloss vs reference")


def test_function_rate_zero_is_log_epsilon():
    """A count at rate 0 costs ``-y_true * log(1e-7)``; no count at rate 0 costs 0."""
    y_true = np.array([[3.0, 0.0]])
    for dtype in ("float32", "float64"):
        got = to_numpy(rl.poisson(y_true.astype(dtype), np.zeros((1, 2), dtype)))
        np.testing.assert_allclose(got, [-3.0 * np.log(1e-7) / 2], rtol=1e-6 if dtype == "float32" else 1e-14)


# ----------------------------------------------------------------------------------------------
# The class.
# ----------------------------------------------------------------------------------------------


def _check_class(oracle, case, out, what):
    dtype = case["dtype"]
    got = to_numpy(out)
    assert got.dtype.name == dtype, (what, got.dtype)
    reference, scale = ref_class(case)
    for backend, keras in oracle.items():
        want = keras.value(case["id"])
        assert keras.dtype(case["id"]) == _keras_class_dtype(case, backend), (
            backend,
            keras.dtype(case["id"]),
        )
        assert got.shape == _expected_shape(case, want.shape), (what, backend, got.shape, want.shape)
        _close(got, want, scale, _keras_tol(dtype), f"{what}: regloss vs Keras ({backend})")
        _close(
            want,
            reference,
            scale,
            TOL["float16" if dtype == "float16" else "float32"],
            f"{case['id']}: Keras ({backend}) vs reference",
        )
    assert reference.size == got.size
    _close(got, reference, scale, TOL[dtype], f"{what}: regloss vs reference")


@pytest.mark.parametrize("cid", MAIN_CLS)
def test_class_matches_keras(oracle, cid):
    """``regloss.losses.Poisson`` with every reduction, weights ``(B,)``, ``(B, 1)``, scalar and
    none, a batch of one, and float64 / float16 losses, against ``keras.losses.Poisson``."""
    case = CLS_CASES[cid]
    if case["expect"] is not None:
        for backend, keras in oracle.items():
            error = keras.error(cid)
            assert error is not None and ("broadcast" in error or "must match" in error), (backend, error)
        with pytest.raises(ValueError, match="sample_weight"):
            run_class(case)
        return
    _check_class(oracle, case, run_class(case), cid)


def test_class_on_every_library(oracle, xp):
    """The float32 and float64 class cases on every array library: the result is of that library."""
    checked = 0
    for cid in MAIN_CLS:
        case = CLS_CASES[cid]
        if case["expect"] is not None or case["dtype"] == "float16":
            continue
        out = run_class(case, xp)
        assert library_of(out) == library_name(xp), cid
        _check_class(oracle, case, out, f"{cid} on {library_name(xp)}")
        checked += 1
    assert checked >= 40


def test_documented_shape_differences_are_the_only_ones(oracle):
    """README decision 6: the only shapes that differ from Keras's are those of
    ``reduction="none"`` with a ``(B, 1)`` weight on ``(B,)`` losses (Keras ``(B, 1)``, regloss the
    per-sample ``(B,)``).  A scalar weight on the ``(1,)`` losses of a batch of one gives ``()`` in
    both (Keras squeezes the losses to the weight's rank)."""
    keras = oracle["numpy"]
    differ = set()
    for cid in MAIN_CLS:
        case = CLS_CASES[cid]
        if case["expect"] is not None:
            continue
        if tuple(to_numpy(run_class(case)).shape) != tuple(keras.value(cid).shape):
            differ.add(cid)
    expected = {cid for cid in MAIN_CLS if _documented_shape_difference(CLS_CASES[cid])}
    assert expected == {"cls-5x3-wB1-none", "cls-5x3-wB1-None"}
    assert differ == expected


def test_float16_loss_with_zero_rates_is_decision_5(oracle):
    """README decision 5 on Poisson: a float16 loss computes in float32 inside, where Keras 3.15.1
    computes in float16 and its epsilon 1e-7 is held as 1.19e-7 (``log`` -15.94 instead of -16.12),
    so at rates of exactly 0 the two differ by about 1%. regloss's value is the nearer to the
    float64 reference (of the float16-rounded inputs, eps 1e-7) on every Keras backend."""
    for cid in F16_ZERO_CASES:
        case = CLS_CASES[cid]
        got = to_numpy(run_class(case)).astype(np.float64)
        reference, _ = ref_class(case)
        regloss_error = np.max(np.abs(got - reference))
        for backend, keras in oracle.items():
            keras_error = np.max(np.abs(np.asarray(keras.value(cid), dtype=np.float64) - reference))
            assert regloss_error < keras_error, (cid, backend, regloss_error, keras_error)
            assert np.max(np.abs(got - reference) / np.maximum(np.abs(reference), 1.0)) < 2e-3


def test_batch_of_one_with_a_scalar_weight(oracle):
    """A batch of one with a scalar weight: Keras multiplies the single loss by the weight and
    returns it for every reduction (``mean_with_sample_weight`` included); so does regloss."""
    keras = oracle["numpy"]
    for red in REDUCTIONS:
        case = CLS_CASES[f"cls-1x3-wscalar-{red}"]
        y_true, y_pred = ARRAYS[case["yt"]], ARRAYS[case["yp"]]
        product = 0.7 * ref_poisson(y_true, y_pred)[0]
        got = to_numpy(run_class(case))
        _close(got, product, 1.0, TOL["float32"], f"{case['id']}: regloss")
        _close(keras.value(case["id"]), product, 1.0, TOL["float32"], f"{case['id']}: Keras")


# ----------------------------------------------------------------------------------------------
# The streaming metric.
# ----------------------------------------------------------------------------------------------


def _feed(metric, batches, dtype=None):
    results = []
    for b in batches:
        y_true, y_pred, sw = b["yt"], b["yp"], b["sw"]
        if dtype is not None:
            y_true, y_pred = y_true.astype(dtype), y_pred.astype(dtype)
            sw = None if sw is None else sw.astype(dtype)
        metric.update_state(y_true, y_pred, sample_weight=sw)
        results.append(to_numpy(metric.result()))
    return results


@pytest.mark.parametrize("sid", list(STREAMS))
def test_metric_stream_matches_keras(oracle, sid):
    """``regloss.metrics.Poisson`` after every batch against ``keras.metrics.Poisson`` (float32
    results), and its float64 version against the reference."""
    batches = STREAMS[sid]
    reference, scale = ref_stream(batches), ref_stream_scale(batches)
    results = _feed(rm.Poisson(), batches)
    assert {r.dtype.name for r in results} == {"float32"}
    assert all(r.shape == () for r in results)
    got = np.array([float(r) for r in results])
    for backend, keras in oracle.items():
        want = keras.value(sid)
        assert keras.dtype(sid) == "float32"
        assert want.shape == (len(batches),)
        _close(got, want, scale, TOL["float32"], f"metric stream {sid}: regloss vs Keras ({backend})")
        _close(want, reference, scale, TOL["float32"], f"metric stream {sid}: Keras ({backend}) vs reference")
    stateful = [(b, k) for b, k in oracle.items() if f"{sid}:stateful" in k.meta["meta"]]
    if sid == "plain":  # Keras's update_state/result, eagerly, as a user calls them
        assert {b for b, _ in stateful} == set(BACKENDS) - {"jax"}
    for backend, keras in stateful:
        assert keras.dtype(f"{sid}:stateful") == "float32"
        _close(
            got,
            keras.value(f"{sid}:stateful"),
            scale,
            TOL["float32"],
            f"{sid}: regloss vs Keras update_state ({backend})",
        )
    results64 = _feed(rm.Poisson(dtype="float64"), batches, dtype=np.float64)
    assert {r.dtype.name for r in results64} == {"float64"}
    _close(
        [float(r) for r in results64],
        reference,
        scale,
        TOL["float64"],
        f"metric stream {sid}: float64 vs reference",
    )


@pytest.mark.parametrize("sid", list(STREAMS))
def test_metric_merge_state_equals_one_metric(oracle, sid):
    """Two metrics fed the two halves of a stream, merged, give the one metric fed all of it (and
    Keras's value at the end)."""
    batches = STREAMS[sid]
    half = len(batches) // 2
    for dtype, tol in ((None, TOL["float32"]), ("float64", TOL["float64"])):
        np_dtype = None if dtype is None else np.float64
        whole = rm.Poisson(dtype=dtype)
        _feed(whole, batches, np_dtype)
        first, second = rm.Poisson(dtype=dtype), rm.Poisson(dtype=dtype)
        _feed(first, batches[:half], np_dtype)
        _feed(second, batches[half:], np_dtype)
        first.merge_state(second)
        merged = to_numpy(first.result())
        assert merged.dtype == to_numpy(whole.result()).dtype
        scale = ref_stream_scale(batches)[-1]
        _close(merged, to_numpy(whole.result()), scale, tol, f"{sid} ({dtype}): merged vs one metric")
        _close(merged, ref_stream(batches)[-1], scale, tol, f"{sid} ({dtype}): merged vs reference")
        if dtype is None:
            for backend, keras in oracle.items():
                _close(merged, keras.value(sid)[-1], scale, tol, f"{sid}: merged vs Keras ({backend})")


def test_metric_reset_and_config_match_keras(oracle):
    config = oracle["numpy"].extras["metric_config"]
    assert config == {"name": "poisson", "dtype": "float32"}
    metric = rm.Poisson.from_config(config)
    assert metric.name == "poisson" and rm.Poisson().name == "poisson"
    batches = STREAMS["weighted"]
    _feed(metric, batches[:2])
    metric.reset_state()
    got = _feed(metric, batches)[-1]
    _close(
        got,
        oracle["numpy"].value("weighted")[-1],
        ref_stream_scale(batches)[-1],
        TOL["float32"],
        "after reset",
    )


# ----------------------------------------------------------------------------------------------
# Names and configs.
# ----------------------------------------------------------------------------------------------


def _ser_inputs():
    return ARRAYS[SER["yt"]], ARRAYS[SER["yp"]]


def test_keras_config_loads_in_regloss(oracle):
    """``keras.losses.serialize(keras.losses.Poisson(reduction="sum", name="p"))`` (and the default
    one, and the function) load in ``regloss.losses.deserialize`` and give Keras's values."""
    y_true, y_pred = _ser_inputs()
    scale = np.sum(np.mean(ref_parts(y_true, y_pred), axis=-1))
    for backend, keras in oracle.items():
        made = keras.extras["make"]
        assert made["p"]["class_name"] == "Poisson" and made["p"]["config"] == {
            "name": "p",
            "reduction": "sum",
        }
        loss = rl.deserialize(made["p"])
        assert isinstance(loss, rl.Poisson) and loss.name == "p" and loss.reduction == "sum"
        _close(
            to_numpy(loss(y_true=y_true, y_pred=y_pred)),
            keras.value("make:p"),
            scale,
            TOL["float32"],
            f"Keras config 'p' ({backend})",
        )
        default = rl.deserialize(made["default"])
        assert isinstance(default, rl.Poisson) and default.name == "poisson"
        assert default.reduction == "sum_over_batch_size"
        _close(
            to_numpy(default(y_true=y_true, y_pred=y_pred)),
            keras.value("make:default"),
            scale,
            TOL["float32"],
            f"Keras default config ({backend})",
        )
        assert rl.deserialize(made["function"]) is rl.poisson
        _close(
            to_numpy(rl.poisson(y_true, y_pred)),
            keras.value("make:function"),
            scale,
            TOL["float32"],
            f"Keras function config ({backend})",
        )


@pytest.mark.parametrize("lid", list(LOAD))
def test_regloss_config_loads_in_keras(oracle, lid):
    """``regloss.losses.serialize(...)`` loads in ``keras.losses.deserialize`` and
    ``keras.saving.deserialize_keras_object`` and gives regloss's value there."""
    obj = LOAD[lid]
    y_true, y_pred = _ser_inputs()
    ours = rl.poisson(y_true, y_pred) if obj is rl.poisson else obj(y_true=y_true, y_pred=y_pred)
    ours = to_numpy(ours)
    scale = np.mean(ref_parts(y_true, y_pred), axis=-1)
    if obj is not rl.poisson and obj.reduction not in (None, "none"):
        scale = np.sum(scale)
    dtype = "float32" if obj is rl.poisson or obj.dtype in (None, "float32") else obj.dtype
    for backend, keras in oracle.items():
        for how, info in keras.extras["load"][lid].items():
            assert "error" not in info, (backend, how, info)
            if obj is rl.poisson:
                assert info == {"type": "function", "name": "poisson"}
            else:
                assert info["class_name"] == "Poisson"
                assert (info["name"], info["reduction"]) == (obj.name, obj.reduction)
                assert info["dtype"] == dtype
            want = keras.value(f"load:{lid}:{how}")
            assert tuple(want.shape) == ours.shape
            _close(ours, want, scale, _keras_tol(dtype), f"regloss config {lid} in Keras ({backend}, {how})")


def test_get_and_config_round_trip(oracle):
    """``get("poisson")`` is the function, ``get("Poisson")`` a default instance; a config survives
    get_config/from_config and serialize/deserialize; all give Keras's values."""
    y_true, y_pred = _ser_inputs()
    keras = oracle["numpy"]
    scale = np.mean(ref_parts(y_true, y_pred), axis=-1)
    assert rl.get("poisson") is rl.poisson
    _close(
        to_numpy(rl.get("poisson")(y_true, y_pred)),
        keras.value("make:function"),
        scale,
        TOL["float32"],
        "get",
    )
    loss = rl.get("Poisson")
    assert isinstance(loss, rl.Poisson) and (loss.name, loss.reduction) == ("poisson", "sum_over_batch_size")
    _close(
        to_numpy(loss(y_true=y_true, y_pred=y_pred)),
        keras.value("make:default"),
        np.mean(scale),
        TOL["float32"],
        "get('Poisson')",
    )
    original = rl.Poisson(reduction="mean", name="x", dtype="float64")
    for copy in (rl.Poisson.from_config(original.get_config()), rl.deserialize(rl.serialize(original))):
        assert type(copy) is rl.Poisson and copy.get_config() == original.get_config()
        assert to_numpy(copy(y_true=y_true, y_pred=y_pred)) == to_numpy(
            original(y_true=y_true, y_pred=y_pred)
        )
    assert rl.serialize(rl.poisson) == keras.extras["make"]["function"]
    assert rl.serialize(rl.Poisson()) == keras.extras["make"]["default"]
