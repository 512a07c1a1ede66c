"""Differential tests: regloss against Keras 3.15.1 (JAX backend, x64) used as an oracle.

Keras runs in ONE subprocess per module (``tests/keras_oracle_worker.py``), started by the
module-scoped ``oracle`` fixture with ``KERAS_BACKEND=jax JAX_ENABLE_X64=1 JAX_PLATFORMS=cpu`` and a
private ``KERAS_HOME``.  Every case is generated here, deterministically (fixed numpy seed), written
to a ``.npz`` file plus a JSON request; the worker evaluates all of them in one go and writes the
results back.  Masks reach Keras through ``keras.src.backend.set_keras_mask`` on ``y_pred``.
For speed the worker evaluates most cases in a few jitted batches (eager JAX compiles every small
op separately: minutes); the cases whose answer depends on op-by-op execution (NaN behind a mask,
float16 overflow) run eagerly, and ``test_oracle_jit_batches_agree_with_eager_keras`` checks on
a sample that batching does not change Keras's numbers.

Two kinds of cases:

* ``MATCH_CASES`` must agree with Keras (value, shape and dtype).  They are generated so that none
  of regloss's deliberate differences from Keras is triggered: same shapes after rank
  reconciliation, weights/masks that never change the losses' shape, no NaN/inf, no float16
  overflow, Tversky only with ``alpha == beta``.  One Keras quirk is absorbed by the tolerance:
  Keras computes ``ops.mean`` of float64 in float32 (see ``MEAN_LOSSES``).
* Each documented difference has its own test below (``test_difference_*``), which asserts the
  difference itself against the oracle.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
    pytest.skip(
        "Keras oracle tests need keras==3.15.1 and jax (pip install 'regloss[oracle]'): "
        "keras or jax is not importable",
        allow_module_level=True,
    )

import ml_dtypes  # noqa: E402 - a dependency of jax, so present whenever the oracle is

import regloss  # noqa: E402
import regloss.losses as rl  # noqa: E402
from tests._cases import KERAS_LOSSES as CASE_TABLE  # noqa: E402
from tests._helpers import to_numpy  # noqa: E402

KERAS_VERSION = "3.15.1"
WORKER = Path(__file__).with_name("keras_oracle_worker.py")
SEED = 20250611

NP_DTYPES = {
    "float16": np.dtype(np.float16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    "bfloat16": np.dtype(ml_dtypes.bfloat16),
    "int64": np.dtype(np.int64),
    "bool": np.dtype(bool),
}
LOW = ("float16", "bfloat16")
# (rtol, atol) per computation dtype; atol is multiplied by the case's ``scale``.
TOL = {
    "float64": (1e-11, 1e-12),
    "float32": (2e-5, 2e-6),
    "float16": (4e-3, 4e-3),
    "bfloat16": (3e-2, 3e-2),
}
# Keras 3.15.1's ops.mean computes in dtypes.result_type(x.dtype, "float32"), and Keras's
# result_type maps every 64-bit type to 32-bit: float64 means are computed in FLOAT32 (the terms are
# rounded to float32, summed, divided, then cast back to float64), with or without JAX x64.  So
# for the losses built on ops.mean, a float64 Keras answer is only float32-accurate (the terms are
# all >= 0, so the relative error stays below ~3e-7).  regloss computes float64 in float64; see
# test_keras_float64_means_are_float32_accurate.
MEAN_LOSSES = {name for case in CASE_TABLE if not case.over_axes for name in (case.cls, case.function)}
FLOAT64_MEAN_RTOL = 5e-7
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None]
# A small palette of shapes: JAX compiles each (op, shape, dtype) once, so reusing shapes keeps
# the oracle fast.  Every rank 1..4, batch size 1 included, a trailing 1 included.
SHAPES = {
    1: [(4,), (1,), (3,)],
    2: [(3, 4), (1, 3), (4, 1), (2, 2)],
    3: [(2, 3, 2), (1, 2, 3), (3, 1, 2)],
    4: [(2, 1, 3, 2), (1, 2, 2, 2)],
}
# Every loss of the test table as (class name, function name, kind of data): the kind follows the
# row's domain ("positive": counts and positive rates; "unit": segmentation-like data), with the
# edge data this file deliberately draws for MAPE (zero targets), MSLE (values below -1) and
# cosine (zero vectors, norms below eps).
_EDGE_KINDS = {"mean_absolute_percentage_error": "mape", "mean_squared_logarithmic_error": "msle",
               "cosine_similarity": "cos"}  # fmt: skip
LOSSES = [
    (case.cls, case.function,
     _EDGE_KINDS.get(case.function) or {"positive": "positive", "unit": "seg"}.get(case.domain, "real"))
    for case in CASE_TABLE
]  # fmt: skip
AXIS_LOSSES = {name for case in CASE_TABLE if case.over_axes for name in (case.cls, case.function)}
KERAS_FUNCTION_NAMES = [case.function for case in CASE_TABLE]  # the losses Keras has

# ----------------------------------------------------------------------------------------------
# Deterministic case generation (numpy only: independent of regloss).
# ----------------------------------------------------------------------------------------------


def _round(a, dtype):
    """``a`` rounded to ``dtype`` and stored as float64 (exact), so both sides see equal inputs."""
    a = np.asarray(a, dtype=np.float64)
    if dtype in ("int64", "bool"):
        return a
    return a.astype(NP_DTYPES[dtype]).astype(np.float64)


def _tuplify(kwargs):
    out = dict(kwargs)
    if isinstance(out.get("axis"), list):
        out["axis"] = tuple(out["axis"])
    return out


def _jsonify(kwargs):
    out = dict(kwargs)
    if isinstance(out.get("axis"), tuple):
        out["axis"] = list(out["axis"])
    return out


def per_sample_shape(loss, kwargs, shape):
    """Shape of the per-sample losses for inputs of (post-reconciliation) ``shape``."""
    rank = len(shape)
    if loss in ("CosineSimilarity", "cosine_similarity"):
        axis = kwargs.get("axis", -1)
    elif loss in AXIS_LOSSES:
        axis = kwargs.get("axis", None)
    else:
        axis = -1
    if axis is None:
        return ()
    axes = axis if isinstance(axis, list | tuple) else (axis,)
    axes = {a % rank for a in axes}
    return tuple(d for i, d in enumerate(shape) if i not in axes)


class CaseBuilder:
    """Collects cases and their arrays (float64/bool/int64 numpy arrays, keyed for the npz)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.arrays = {}
        self.cases = []

    def add_array(self, cid, name, a):
        key = f"{cid}__{name}"
        self.arrays[key] = np.asarray(a)
        return key

    # ---- data --------------------------------------------------------------------------------

    def _kwargs(self, cls, rank):
        rng = self.rng
        if cls == "CosineSimilarity":
            opts = [None, -1]
            if rank >= 2:
                opts += [1, -2, "none", 0]
            if rank >= 3:
                opts += [(1, 2), (-2, -1)]
            ax = opts[rng.integers(len(opts))]
            if ax is None:
                return {}
            return {"axis": None if ax == "none" else ax}
        if cls == "Huber":
            d = [None, 0.5, 1.0, 1.5, 2.0, 0.25][rng.integers(6)]
            return {} if d is None else {"delta": d}
        if cls in ("Dice", "Tversky"):
            opts = ["default", None, -1]
            if rank >= 2:
                opts += [tuple(range(1, rank)), (1,)]
            if rank >= 3:
                opts += [(1, 2)]
            ax = opts[rng.integers(len(opts))]
            kw = {} if ax == "default" else {"axis": ax}
            if cls == "Tversky" and rng.random() < 0.75:
                a = float(rng.choice([0.5, 0.3, 0.7, 1.0]))
                kw.update(alpha=a, beta=a)
            return kw
        return {}

    def _seg_ok(self, cls, kwargs, yt, yp):
        """Reject ill-conditioned Dice/Tversky data (denominator cancelling to ~0)."""
        axis = kwargs.get("axis", None)
        if cls == "Dice":
            den = np.sum(yt, axis=axis) + np.sum(yp, axis=axis)
            mag = np.sum(np.abs(yt), axis=axis) + np.sum(np.abs(yp), axis=axis)
        else:
            a = kwargs.get("alpha", 0.5)
            i = np.sum(yt * yp, axis=axis)
            fp = np.sum((1 - yt) * yp, axis=axis)
            fn = np.sum(yt * (1 - yp), axis=axis)
            den = i + a * (fp + fn)
            mag = np.sum(np.abs(yt * yp), axis=axis) + a * (
                np.sum(np.abs((1 - yt) * yp), axis=axis) + np.sum(np.abs(yt * (1 - yp)), axis=axis)
            )
        return bool(np.all(np.abs(den) >= 0.3 * mag) and np.all(np.abs(den) > 0.2))

    def data(self, kind, cls, kwargs, shape, dtype):
        rng = self.rng
        low = dtype in LOW
        if kind == "real":
            s = float(rng.choice([0.5, 1.0, 3.0]))
            yt, yp = rng.normal(size=shape) * s, rng.normal(size=shape) * s
        elif kind == "mape":
            yt, yp = rng.normal(size=shape) * 2, rng.normal(size=shape) * 2
            if low:  # no zeros: float16 eps is subnormal (Keras inf): avoid overflow cases
                yt = np.where(yt < 0, -1.0, 1.0) * (0.5 + np.abs(yt))
            else:
                yt[rng.random(shape) < 0.2] = 0.0
        elif kind == "msle":
            yt, yp = rng.uniform(-2, 5, size=shape), rng.uniform(-2, 5, size=shape)
            sel = rng.random(shape) < 0.2
            yp[sel] = rng.uniform(-1, 0, size=int(sel.sum()))
        elif kind == "positive":  # counts and positive rates
            yt, yp = rng.poisson(2.0, size=shape).astype(np.float64), rng.uniform(0.1, 4.0, size=shape)
        elif kind == "cos":
            yt, yp = rng.normal(size=shape), rng.normal(size=shape)
            axis = kwargs.get("axis", -1)
            if not low and axis == -1 and len(shape) >= 2 and rng.random() < 0.3:
                idx = tuple(int(rng.integers(d)) for d in shape[:-1])
                (yt if rng.random() < 0.5 else yp)[idx] = 0.0  # zero vector: -0.0 in both
            if not low and rng.random() < 0.1:
                yp = yp * 1e-9  # norm below eps: scaled by 1/eps, not unit length, in both
        elif kind == "seg":
            for _ in range(100):
                if rng.random() < 0.2:
                    yt = rng.uniform(-0.5, 1.5, size=shape)
                    yp = rng.uniform(-0.5, 1.5, size=shape)
                else:
                    if rng.random() < 0.6:
                        yt = (rng.random(shape) < 0.5).astype(np.float64)
                    else:
                        yt = rng.random(shape)
                    yp = rng.random(shape)
                if self._seg_ok(cls, kwargs, yt, yp):
                    break
        else:  # pragma: no cover
            raise AssertionError(kind)
        return _round(yt, dtype), _round(yp, dtype)

    def weight(self, spec, vshape, dtype):
        rng = self.rng
        if spec is None:
            return None
        if spec == "float":
            return float(rng.choice([0.0, 0.5, 1.0, 2.0, 1.5]))
        if spec == "scalar":
            shape = ()
        elif spec == "full":
            shape = vshape
        elif spec == "full1":
            shape = (*vshape, 1)
        elif spec == "one":
            shape = (1,)
        elif spec == "bcast":  # e.g. (B, 1) on (B, T): broadcasts without enlarging
            shape = list(vshape)
            for i in range(1, len(shape)):
                if rng.random() < 0.6:
                    shape[i] = 1
            if shape == list(vshape):
                shape[-1] = 1
            shape = tuple(shape)
        else:  # pragma: no cover
            raise AssertionError(spec)
        w = np.asarray(rng.uniform(0, 2, size=shape))
        w = np.where(np.asarray(rng.random(shape)) < 0.2, 0.0, w)
        return _round(w, dtype)

    def mask(self, spec, vshape):
        rng = self.rng
        if spec is None:
            return None
        shape = (*vshape, 1) if spec == "full1" else vshape
        p = rng.choice([0.0, 0.5, 0.8, 1.0], p=[0.1, 0.4, 0.35, 0.15])
        m = np.asarray(rng.random(shape) < p)
        return m.astype(np.float64) if spec == "num" else m

    # ---- cases -------------------------------------------------------------------------------

    def shape(self, rank):
        opts = SHAPES[rank]
        return opts[self.rng.integers(len(opts))]

    def soe_shapes(self, shape):
        """Raw (y_true, y_pred) shapes that reconcile to ``shape`` (Keras's soe)."""
        if len(shape) == 2 and shape[-1] == 1:
            small, big = shape[:-1], shape  # (N,) vs (N, 1): the rank-1 one is expanded
        else:
            small, big = shape, (*shape, 1)  # (B, T) vs (B, T, 1): the big one is squeezed
        return (small, big) if self.rng.random() < 0.5 else (big, small)

    def class_case(self, cls, kind, red, dtype, rank=None, wspec=None):
        """A random class case; ``rank``/``wspec`` force the input rank / the weight kind."""
        rng = self.rng
        cid = f"c{len(self.cases):03d}"
        forced_w = wspec
        rank = int(rng.integers(1, 5)) if rank is None else rank
        shape = self.shape(rank)
        kwargs = self._kwargs(cls, rank)
        raw_shapes = (shape, shape)
        plain_axis = cls not in AXIS_LOSSES or (cls == "CosineSimilarity" and kwargs.get("axis", -1) == -1)
        if plain_axis and rng.random() < 0.15:  # inputs of different ranks, reconciled by soe
            if rank == 1:
                shape = (shape[0], 1)
            raw_shapes = self.soe_shapes(shape)
        vshape = per_sample_shape(cls, kwargs, shape)
        rv = len(vshape)
        wopts = [None, "scalar", "float"] + (["full", "full1", "one"] if rv else [])
        wopts += ["bcast"] if rv >= 2 else []
        mopts = [None, "full"] + (["full1", "num"] if rv else [])
        for _ in range(50):
            wspec = forced_w if forced_w in wopts[1:] else wopts[rng.integers(len(wopts))]
            mspec = mopts[rng.integers(len(mopts))] if rng.random() < 0.45 else None
            # Decision 6 ("none" only): (B, 1) weights/masks on (B,) losses give Keras (B, 1);
            # a scalar weight on (1,) losses makes Keras squeeze them to ().
            if red in ("none", None) and rv == 1 and "full1" in (wspec, mspec):
                continue
            if red in ("none", None) and vshape == (1,) and wspec in ("scalar", "float"):
                continue
            break
        yt, yp = self.data(kind, cls, kwargs, shape, dtype)
        yt_dtype = yp_dtype = dtype
        if rng.random() < 0.15:
            yt_dtype = "float64"  # cast to the loss dtype by both
        if kind == "seg" and np.all((yt == 0) | (yt == 1)) and rng.random() < 0.4:
            yt_dtype = "int64" if rng.random() < 0.5 else "bool"
        sw = self.weight(wspec, vshape, dtype)
        mask = self.mask(mspec, vshape)
        kw = dict(kwargs, reduction=red, dtype=dtype)
        if dtype == "float32" and rng.random() < 0.3:
            del kw["dtype"]  # default: floatx() == float32
        if red == "sum_over_batch_size" and rng.random() < 0.3:
            del kw["reduction"]  # the default
        n = int(np.prod(vshape)) if vshape else 1
        scale = max(1.0, float(np.max(np.abs(yt), initial=0)), float(np.max(np.abs(yp), initial=0)))
        if sw is not None:
            scale *= max(1.0, float(np.max(np.abs(sw))))
        if red in ("sum", "mean_with_sample_weight"):
            scale *= n
        case = {
            "id": cid,
            "kind": "class",
            "loss": cls,
            "kwargs": _jsonify(kw),
            "dtype": dtype,
            "yt": self.add_array(cid, "yt", yt.reshape(raw_shapes[0])),
            "yp": self.add_array(cid, "yp", yp.reshape(raw_shapes[1])),
            "yt_dtype": yt_dtype,
            "yp_dtype": yp_dtype,
            "scale": scale,
        }
        if isinstance(sw, float):
            case["sw_float"] = sw
        elif sw is not None:
            case["sw"] = self.add_array(cid, "sw", sw)
        if mask is not None:
            case["mask"] = self.add_array(cid, "mask", mask)
        shapes = f"{raw_shapes[0]}" if raw_shapes[0] == raw_shapes[1] else f"{raw_shapes}"
        case["desc"] = (
            f"{cls}({_fmt_kwargs(kwargs)}) reduction={red!r} dtype={dtype} shape={shapes} "
            f"values={vshape} weights={wspec}{'' if sw is None else np.shape(sw)} "
            f"mask={mspec}{'' if mask is None else mask.shape} yt_dtype={yt_dtype}"
        )
        self.cases.append(case)
        return case

    def fn_case(self, fn, cls, kind, dtype, soe=False, int_inputs=False):
        rng = self.rng
        cid = f"f{len(self.cases):03d}"
        rank = int(rng.integers(1, 5))
        shape = self.shape(rank)
        kwargs = self._kwargs(cls, rank)
        raw_shapes = (shape, shape)
        if soe:
            if rank == 1:
                shape = (shape[0], 1)
            raw_shapes = self.soe_shapes(shape)
        yt, yp = self.data(kind, cls, kwargs, shape, dtype)
        yt_dtype = yp_dtype = dtype
        if int_inputs:
            yt, yp = np.round(yt * 3), np.round(yp * 3)
            yt_dtype = yp_dtype = "int64"
        elif rng.random() < 0.15:
            yt_dtype = "float64"  # y_true is cast to y_pred's dtype by both
        scale = max(1.0, float(np.max(np.abs(yt), initial=0)), float(np.max(np.abs(yp), initial=0)))
        case = {
            "id": cid,
            "kind": "fn",
            "loss": fn,
            "kwargs": _jsonify(kwargs),
            "dtype": dtype,
            "yt": self.add_array(cid, "yt", yt.reshape(raw_shapes[0])),
            "yp": self.add_array(cid, "yp", yp.reshape(raw_shapes[1])),
            "yt_dtype": yt_dtype,
            "yp_dtype": yp_dtype,
            "scale": scale,
        }
        shapes = f"{raw_shapes[0]}" if raw_shapes[0] == raw_shapes[1] else f"{raw_shapes}"
        case["desc"] = (
            f"{fn}({_fmt_kwargs(kwargs)}) dtype={dtype} shape={shapes} "
            f"yt_dtype={yt_dtype} yp_dtype={yp_dtype}"
        )
        self.cases.append(case)
        return case

    def raw_case(self, cid, kind, loss, kwargs, dtype, yt, yp, sw=None, mask=None, desc="", mode="jit"):
        """A hand-written case (used by the documented-difference tests)."""
        case = {
            "id": cid,
            "mode": mode,
            "kind": kind,
            "loss": loss,
            "kwargs": _jsonify(kwargs),
            "dtype": dtype,
            "yt": self.add_array(cid, "yt", np.asarray(yt, dtype=np.float64)),
            "yp": self.add_array(cid, "yp", np.asarray(yp, dtype=np.float64)),
            "yt_dtype": dtype,
            "yp_dtype": dtype,
            "scale": 1.0,
            "desc": desc or f"{loss}({_fmt_kwargs(kwargs)}) dtype={dtype}",
        }
        if isinstance(sw, float):
            case["sw_float"] = sw
        elif sw is not None:
            case["sw"] = self.add_array(cid, "sw", np.asarray(sw, dtype=np.float64))
        if mask is not None:
            case["mask"] = self.add_array(cid, "mask", np.asarray(mask))
        self.cases.append(case)
        return case


def _fmt_kwargs(kwargs):
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def build_match_cases(b):
    """Cases that must agree with Keras exactly (up to rounding)."""
    dtypes = ["float32", "float64", "float16", "bfloat16"]
    out = []
    # Every (loss, reduction) pair 4 times, each time with another dtype.
    for rep in range(4):
        for cls, _fn, kind in LOSSES:
            for j, red in enumerate(REDUCTIONS):
                out.append(b.class_case(cls, kind, red, dtypes[(rep + j) % 4]))
    # The mean_with_sample_weight quirk (divide by the un-broadcast weights), and the same weights
    # with the default reduction: (B, 1)-like weights on (B, T) losses.
    for i, (cls, _fn, kind) in enumerate(LOSSES[:7]):
        for red in ("mean_with_sample_weight", "sum_over_batch_size"):
            out.append(b.class_case(cls, kind, red, dtypes[i % 2], rank=3 + i % 2, wspec="bcast"))
    # Per-sample masks with a trailing 1, on losses that reduce a non-last axis: the mask has
    # y_true's rank without being of y_true's shape (Keras squeezes it onto the losses).
    rng = np.random.default_rng(SEED + 2)
    for i, (cls, kw, red, dtype) in enumerate(
        [
            ("Dice", {"axis": (1,)}, "sum_over_batch_size", "float64"),
            ("CosineSimilarity", {"axis": 1}, "sum", "float32"),
            ("Tversky", {"axis": (1,), "alpha": 0.3, "beta": 0.3}, "none", "float64"),
            ("CosineSimilarity", {"axis": 0}, "mean_with_sample_weight", "float64"),
        ]
    ):
        yt = _round(rng.random((2, 3, 3)), dtype)
        yp = _round(rng.random((2, 3, 3)), dtype)
        vshape = per_sample_shape(cls, kw, yt.shape)
        mask = rng.random((*vshape, 1)) < 0.6
        sw = _round(rng.uniform(0.5, 2, size=(vshape[0], 1)), dtype) if i == 3 else None
        case = b.raw_case(
            f"k{i:02d}",
            "class",
            cls,
            dict(kw, reduction=red, dtype=dtype),
            dtype,
            yt,
            yp,
            sw=sw,
            mask=mask,
            desc=f"{cls}({_fmt_kwargs(kw)}) reduction={red!r} dtype={dtype} shape={yt.shape} "
            f"values={vshape} weights={None if sw is None else sw.shape} mask=full1{mask.shape}",
        )
        case["scale"] = 9.0
        out.append(case)
    # Functional forms: every loss in every dtype, plus extra float32/float64 variants.
    for cls, fn, kind in LOSSES:
        for dt in dtypes + ["float32", "float64"]:
            out.append(b.fn_case(fn, cls, kind, dt))
    for cls, fn, kind in LOSSES:
        # Keras 3.15.1's dice(), tversky() and poisson() functions do not reconcile ranks (they
        # broadcast); regloss's functions do, as Keras's classes (docs/losses.md)
        if cls not in ("Dice", "Tversky", "Poisson"):
            out.append(b.fn_case(fn, cls, kind, "float64", soe=True))
    for cls, fn, kind in LOSSES[:2]:
        out.append(b.fn_case(fn, cls, kind, "float32", int_inputs=True))
    return out


# ---- documented-difference cases (hand written, each used by its own test) -------------------


def build_difference_cases(b):
    rng = np.random.default_rng(SEED + 1)
    d = {}

    # 1. Tversky: regloss(alpha=a, beta=b) == Keras 3.15.1(alpha=b, beta=a).
    tv = []
    pairs = [(0.2, 0.8), (0.7, 0.3), (0.5, 1.0), (1.0, 0.1), (0.3, 0.6), (0.9, 0.4)]
    for i, (a, bb) in enumerate(pairs):
        shape = [(3, 4), (2, 3, 2), (4, 2)][i % 3]
        dtype = ["float32", "float64"][i % 2]
        yt = (rng.random(shape) < 0.75).astype(np.float64)  # mostly ones: FN != FP
        yp = _round(rng.uniform(0, 0.6, size=shape), dtype)
        axis = [None, tuple(range(1, len(shape))), (1,)][i % 3]
        kind = "class" if i < 4 else "fn"
        kw = {} if axis is None else {"axis": axis}
        red = REDUCTIONS[i % len(REDUCTIONS)]
        if kind == "class":
            kw.update(reduction=red, dtype=dtype)
        ab = b.raw_case(
            f"tv{i}_ab",
            kind,
            "Tversky" if kind == "class" else "tversky",
            dict(kw, alpha=a, beta=bb),
            dtype,
            yt,
            yp,
        )
        ba = b.raw_case(f"tv{i}_ba", kind, ab["loss"], dict(kw, alpha=bb, beta=a), dtype, yt, yp)
        tv.append((ab, ba))
    d["tversky"] = tv

    # 5. float16 computed in float32 inside: Keras overflows to inf / NaN, regloss does not.
    big_t, big_p = [[-40000.0, 0.0], [1.0, 2.0]], [[40000.0, 0.0], [1.5, 2.0]]
    f16 = []
    for cid, kind, loss, kw, yt, yp in [
        ("h16_mae", "class", "MeanAbsoluteError", {}, big_t, big_p),
        ("h16_huber", "class", "Huber", {"delta": 1.0}, big_t, big_p),
        ("h16_logcosh", "class", "LogCosh", {}, big_t, big_p),
        ("h16_cos0", "class", "CosineSimilarity", {}, [[0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0]]),
        ("h16_fmae", "fn", "mean_absolute_error", {}, big_t, big_p),
        ("h16_fhuber", "fn", "huber", {"delta": 0.5}, big_t, big_p),
        ("h16_fcos0", "fn", "cosine_similarity", {}, [[0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0]]),
    ]:
        k16 = dict(kw, dtype="float16") if kind == "class" else kw
        k64 = dict(kw, dtype="float64") if kind == "class" else kw
        f16.append(
            (
                b.raw_case(cid, kind, loss, k16, "float16", yt, yp, mode="eager"),
                b.raw_case(cid + "_f64", kind, loss, k64, "float64", yt, yp),
            )
        )
    d["float16"] = f16
    # Where the float16 result itself overflows, both agree on inf (not a difference).
    d["float16_inf"] = b.raw_case(
        "h16_mse_inf",
        "class",
        "MeanSquaredError",
        {"dtype": "float16"},
        "float16",
        [[0.0, 0.0]],
        [[300.0, 300.0]],
        mode="eager",
    )

    # 6. reduction "none" with (B, 1) weights or masks on (B,) losses: Keras (B, 1), regloss (B,).
    yt = _round(rng.normal(size=(4, 3)), "float32")
    yp = _round(rng.normal(size=(4, 3)), "float32")
    w = _round(rng.uniform(0.5, 2, size=(4, 1)), "float32")
    m = np.array([[True], [False], [True], [True]])
    none_cases = []  # (case, Keras shape, regloss shape)
    for i, red in enumerate(["none", None]):
        none_cases.append(
            (
                b.raw_case(
                    f"nw{i}", "class", "MeanSquaredError", {"reduction": red}, "float32", yt, yp, sw=w
                ),
                (4, 1),
                (4,),
            )
        )
        none_cases.append(
            (
                b.raw_case(
                    f"nm{i}", "class", "MeanAbsoluteError", {"reduction": red}, "float32", yt, yp, mask=m
                ),
                (4, 1),
                (4,),
            )
        )
        none_cases.append(
            (
                b.raw_case(f"nwm{i}", "class", "Huber", {"reduction": red}, "float32", yt, yp, sw=w, mask=m),
                (4, 1),
                (4,),
            )
        )
        # Batch of one with a scalar weight: Keras squeezes the (1,) losses to (), and so does
        # regloss since issue 21 (semantics 4): no longer a difference, kept as a check.
        none_cases.append(
            (
                b.raw_case(
                    f"ns{i}", "class", "LogCosh", {"reduction": red}, "float32", yt[:1], yp[:1], sw=2.0
                ),
                (),
                (),
            )
        )
        none_cases.append(
            (
                b.raw_case(
                    f"nsm{i}",
                    "class",
                    "MeanSquaredError",
                    {"reduction": red},
                    "float32",
                    yt[:1],
                    yp[:1],
                    sw=np.array(0.5),
                    mask=np.array([True]),
                ),
                (),
                (),
            )
        )
    d["none_b1"] = none_cases

    # 7. NaN / inf in a masked row: Keras NaN (it multiplies), regloss finite.
    yt = _round(rng.normal(size=(4, 3)), "float64")
    yp = _round(rng.normal(size=(4, 3)), "float64")
    m = np.array([True, False, True, True])
    nan_cases = []
    for i, (loss, red, bad) in enumerate(
        [
            ("MeanSquaredError", "sum_over_batch_size", np.nan),
            ("MeanAbsoluteError", "sum", np.nan),
            ("Huber", "mean_with_sample_weight", np.inf),
            ("LogCosh", "mean", np.nan),
            ("CosineSimilarity", "none", np.nan),
            ("MeanSquaredLogarithmicError", None, np.nan),
        ]
    ):
        dirty = yp.copy()
        dirty[1, 1] = bad
        clean = yp.copy()
        clean[1, :] = 0.0
        nan_cases.append(
            (
                b.raw_case(
                    f"nan{i}",
                    "class",
                    loss,
                    {"reduction": red, "dtype": "float64"},
                    "float64",
                    yt,
                    dirty,
                    mask=m,
                    mode="eager",
                ),
                b.raw_case(
                    f"nan{i}_clean",
                    "class",
                    loss,
                    {"reduction": red, "dtype": "float64"},
                    "float64",
                    yt,
                    clean,
                    mask=m,
                ),
            )
        )
    d["nan_masked"] = nan_cases
    # ... whereas a zero sample weight multiplies, in both: NaN * 0 stays NaN.
    dirty = yp.copy()
    dirty[1, 1] = np.nan
    d["nan_weight0"] = [
        b.raw_case(
            f"nanw{i}",
            "class",
            "MeanSquaredError",
            {"reduction": red, "dtype": "float64"},
            "float64",
            yt,
            dirty,
            sw=np.array([1.0, 0.0, 1.0, 1.0]),
            mode="eager",
        )
        for i, red in enumerate(["sum_over_batch_size", "sum", "mean_with_sample_weight"])
    ]

    # Not in the brief's list: Keras 3.15.1 computes ops.mean of float64 in float32.
    yt = rng.normal(size=(4, 5))
    yp = rng.normal(size=(4, 5))
    d["f64_mean"] = [
        b.raw_case(
            "m64_0", "class", "MeanSquaredError", {"dtype": "float64"}, "float64", yt, yp, mode="eager"
        ),
        b.raw_case("m64_1", "fn", "mean_absolute_error", {}, "float64", yt, yp, mode="eager"),
        b.raw_case("m64_2", "fn", "log_cosh", {}, "float64", yt, yp, mode="eager"),
    ]

    # 3. Huber delta must be finite and > 0 in regloss; Keras 3.15.1 accepts anything.
    d["huber_delta"] = [
        (
            delta,
            b.raw_case(
                f"hd{i}",
                "class",
                "Huber",
                {"delta": delta},
                "float64",
                [[0.0, 1.0], [2.0, -3.0]],
                [[0.5, 1.0], [0.0, 1.0]],
            ),
        )
        for i, delta in enumerate([0.0, -1.0])
    ]

    # 4. Shapes must agree after rank reconciliation: Keras broadcasts (3,) against (2, 3).
    d["broadcast"] = [
        b.raw_case(
            "bc0",
            "class",
            "MeanSquaredError",
            {},
            "float32",
            [1.0, 2.0, 3.0],
            [[1.0, 0.0, 3.0], [0.0, 2.0, 1.0]],
            mode="eager",
        ),
        b.raw_case(
            "bc1",
            "fn",
            "mean_absolute_error",
            {},
            "float32",
            [1.0, 2.0, 3.0],
            [[1.0, 0.0, 3.0], [0.0, 2.0, 1.0]],
            mode="eager",
        ),
        b.raw_case(
            "bc2",
            "fn",
            "dice",
            {"axis": -1},
            "float32",
            [1.0, 0.0, 1.0],
            [[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]],
            mode="eager",
        ),
    ]

    # Empty inputs: Keras NaN for an empty last axis; (0, 3) early-returns an empty array.
    d["empty_last"] = [
        b.raw_case(
            "em0", "class", "MeanSquaredError", {}, "float32", np.zeros((0,)), np.zeros((0,)), mode="eager"
        ),
        b.raw_case(
            "em1",
            "class",
            "MeanSquaredError",
            {},
            "float32",
            np.zeros((2, 0)),
            np.zeros((2, 0)),
            mode="eager",
        ),
        b.raw_case(
            "em2",
            "fn",
            "mean_absolute_error",
            {},
            "float32",
            np.zeros((2, 0)),
            np.zeros((2, 0)),
            mode="eager",
        ),
    ]
    d["empty_batch"] = [
        (
            red,
            b.raw_case(
                f"eb{i}",
                "class",
                "MeanSquaredError",
                {"reduction": red},
                "float32",
                np.zeros((0, 3)),
                np.zeros((0, 3)),
            ),
        )
        for i, red in enumerate(REDUCTIONS)
    ]
    d["empty_batch3"] = [
        (
            red,
            b.raw_case(
                f"eb3{i}",
                "class",
                "MeanSquaredError",
                {"reduction": red},
                "float32",
                np.zeros((0, 3, 2)),
                np.zeros((0, 3, 2)),
            ),
        )
        for i, red in enumerate(REDUCTIONS)
    ]
    # Rank-0 inputs: both refuse.
    d["rank0"] = b.raw_case(
        "r0", "class", "MeanSquaredError", {}, "float32", np.float64(3.0), np.float64(1.0), mode="eager"
    )
    # "auto": accepted by regloss as sum_over_batch_size, refused by Keras 3.
    d["auto"] = (
        b.raw_case(
            "auto",
            "class",
            "MeanSquaredError",
            {"reduction": "auto"},
            "float32",
            [[1.0, 2.0], [0.0, 1.0]],
            [[0.5, 2.0], [1.0, -1.0]],
            mode="eager",
        ),
        b.raw_case(
            "auto_ref",
            "class",
            "MeanSquaredError",
            {"reduction": "sum_over_batch_size"},
            "float32",
            [[1.0, 2.0], [0.0, 1.0]],
            [[0.5, 2.0], [1.0, -1.0]],
        ),
    )
    return d


_BUILDER = CaseBuilder(SEED)
MATCH_CASES = build_match_cases(_BUILDER)
DIFF = build_difference_cases(_BUILDER)
ALL_CASES = _BUILDER.cases
ARRAYS = _BUILDER.arrays
# Match cases run by the worker in jitted batches; these are also run eagerly, to check that the
# batching does not change Keras's answer.
CROSSCHECK = [
    next(c for c in MATCH_CASES if c["dtype"] == dt and c["kind"] == "class" and "mask" in c and "sw" in c)
    for dt in ("float32", "float64", "float16", "bfloat16")
]

# ---- serialization requests -------------------------------------------------------------------

EVAL_YT = np.array([[1.0, 0.0, 1.0, 0.5], [0.0, 1.0, 1.0, 0.0], [0.25, 0.75, 0.0, 1.0]])
# One error of 3.5 (> every Huber delta used) so that Huber's delta changes the value.
EVAL_YP = np.array([[0.75, 0.25, 0.5, 0.5], [0.125, 0.5, 1.0, 3.5], [0.5, 0.5, 0.0, 0.875]])
ARRAYS["eval__yt"] = EVAL_YT
ARRAYS["eval__yp"] = EVAL_YP
EVAL = {"yt": "eval__yt", "yp": "eval__yp"}


def _with_defaults(variants):
    """Every class of the test table with its defaults, then the ``variants`` not already there."""
    defaults = [(case.cls, {}) for case in CASE_TABLE]
    return defaults + [variant for variant in variants if variant not in defaults]


# regloss objects whose serialize() output Keras must load.
LOAD_OBJECTS = _with_defaults(
    [
        ("MeanSquaredError", {"reduction": "sum"}),
        ("MeanAbsoluteError", {"name": "my_mae"}),
        ("MeanSquaredLogarithmicError", {"reduction": None}),
        ("CosineSimilarity", {"axis": 0}),
        ("Huber", {"delta": 2.0}),
        ("Huber", {"delta": 0.5, "reduction": "mean_with_sample_weight", "dtype": "float64"}),
        ("LogCosh", {"reduction": "mean"}),
        ("Poisson", {"reduction": "sum", "name": "my_poisson"}),
        ("Dice", {"axis": (1,)}),
        ("Tversky", {"alpha": 0.3, "beta": 0.3, "axis": (1,)}),
        ("Tversky", {"alpha": 0.2, "beta": 0.8}),
    ]
)
FUNCTIONS = KERAS_FUNCTION_NAMES
# Keras objects whose keras.losses.serialize() output regloss must load (and compare with).
MAKE_OBJECTS = _with_defaults(
    [
        ("MeanSquaredError", {"reduction": "sum"}),
        ("MeanAbsoluteError", {"name": "my_mae"}),
        ("MeanAbsolutePercentageError", {"reduction": "none"}),
        ("MeanSquaredLogarithmicError", {"reduction": None}),
        ("CosineSimilarity", {"axis": -1, "reduction": "mean"}),
        ("Huber", {"delta": 2.0}),
        ("LogCosh", {"reduction": "mean_with_sample_weight"}),
        ("Poisson", {"reduction": "mean"}),
        ("Dice", {"axis": (1,)}),
        ("Tversky", {"alpha": 0.4, "beta": 0.4, "axis": (1,)}),
        ("Tversky", {"alpha": 0.2, "beta": 0.7, "reduction": "sum"}),
        ("Tversky", {"alpha": 0.7, "beta": 0.2, "reduction": "sum"}),
    ]
)
# Every name of the test table (functions, aliases, classes), then names Keras 3 rejects.
GET_NAMES = [
    *(name for case in CASE_TABLE for name in (case.function, *case.aliases, case.cls)),
    "cosine_proximity", "Mse",
]  # fmt: skip
# Aliases of the test table that Keras 3 dropped (a statement about Keras 3.15.1; documented:
# regloss accepts the tf.keras aliases).
TF_KERAS_ONLY_NAMES = {"logcosh", "huber_loss"}


def _make_id(cls, kwargs):
    return f"{cls}({_fmt_kwargs(kwargs)})"


def _build_request():
    load = []
    for cls, kw in LOAD_OBJECTS:
        obj = getattr(rl, cls)(**kw)
        load.append({"id": _make_id(cls, kw), "config": _plain(rl.serialize(obj)), "eval": EVAL})
    for fn in FUNCTIONS:
        load.append({"id": fn, "config": _plain(rl.serialize(getattr(rl, fn))), "eval": EVAL})
    make = [
        {"id": _make_id(c, kw), "type": "class", "name": c, "kwargs": _jsonify(kw), "eval": EVAL}
        for c, kw in MAKE_OBJECTS
    ]
    make += [{"id": fn, "type": "function", "name": fn, "eval": EVAL} for fn in FUNCTIONS]
    return {
        "cases": ALL_CASES,
        "crosscheck": [c["id"] for c in CROSSCHECK],
        "load": load,
        "make": make,
        "get": GET_NAMES,
    }


def _plain(obj):
    """JSON round trip: tuples become lists, as in a saved file."""
    return json.loads(json.dumps(obj))


# ----------------------------------------------------------------------------------------------
# The oracle fixture: one Keras subprocess for the whole module.
# ----------------------------------------------------------------------------------------------


class OracleResults:
    def __init__(self, meta, values):
        self.meta = meta
        self.values = values
        self.cases = meta["cases"]
        self.extras = meta["extras"]

    def error(self, cid):
        return self.cases[cid]["error"]

    def value(self, cid):
        info = self.cases[cid]
        if info["error"] is not None:
            raise AssertionError(f"Keras raised on case {cid}: {info['error']}")
        return self.values[cid]

    def dtype(self, cid):
        return self.cases[cid]["dtype"]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    work = tmp_path_factory.mktemp("keras_oracle")
    req_path, arr_path = work / "request.json", work / "arrays.npz"
    out_json, out_npz = work / "out.json", work / "out.npz"
    req_path.write_text(json.dumps(_build_request()))
    np.savez(arr_path, **ARRAYS)
    env = dict(os.environ)
    # Round float16/bfloat16 intermediates as eager execution does (the worker jits batches), and
    # use the faster-compiling (numerically identical) CPU emitters.
    xla_flags = "--xla_allow_excess_precision=false --xla_cpu_use_fusion_emitters=false"
    env.update(
        XLA_FLAGS=f"{env.get('XLA_FLAGS', '')} {xla_flags}".strip(),
        KERAS_BACKEND="jax",
        JAX_ENABLE_X64="1",
        JAX_PLATFORMS="cpu",
        KERAS_HOME=str(work / "keras_home"),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    args = [sys.executable, str(WORKER), str(req_path), str(arr_path), str(out_json), str(out_npz)]
    proc = subprocess.run(args, env=env, cwd=work, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not out_json.exists():
        pytest.fail(f"Keras oracle worker failed (rc={proc.returncode}):\n{proc.stderr[-4000:]}")
    meta = json.loads(out_json.read_text())
    if meta["status"] == "skip":
        print(f"SKIP Keras oracle: {meta['reason']}")
        pytest.skip(meta["reason"])
    if meta["keras_version"] != KERAS_VERSION:
        reason = f"the oracle is Keras {KERAS_VERSION}; found {meta['keras_version']}"
        print(f"SKIP Keras oracle: {reason}")
        pytest.skip(reason)
    assert meta["backend"] == "jax", meta["backend"]
    assert meta["x64"], "JAX_ENABLE_X64 did not take effect in the oracle"
    with np.load(out_npz, allow_pickle=False) as npz:
        values = {k: npz[k] for k in npz.files}
    return OracleResults(meta, values)


# ----------------------------------------------------------------------------------------------
# Running regloss on a case.
# ----------------------------------------------------------------------------------------------


def _lib(name):
    if name == "numpy":
        return np
    return pytest.importorskip(name)


def _arr(xp, a, dtype):
    a = np.asarray(a)
    if dtype is not None:
        a = a.astype(NP_DTYPES[dtype])
    return a if xp is np else xp.asarray(a)


def run_regloss(case, xp=np):
    """regloss's answer for a case, as (float64 numpy array, dtype name)."""
    kwargs = _tuplify(case["kwargs"])
    yt = _arr(xp, ARRAYS[case["yt"]], case["yt_dtype"])
    yp = _arr(xp, ARRAYS[case["yp"]], case["yp_dtype"])
    if case["kind"] == "fn":
        out = getattr(rl, case["loss"])(yt, yp, **kwargs)
    else:
        loss = getattr(rl, case["loss"])(**kwargs)
        sw = case.get("sw_float")
        if case.get("sw") is not None:
            sw = _arr(xp, ARRAYS[case["sw"]], None)
        mask = None
        if case.get("mask") is not None:
            mask = _arr(xp, ARRAYS[case["mask"]], None)
        out = loss(yt, yp, sample_weight=sw, mask=mask)
    got = to_numpy(out)
    return got.astype(np.float64), got.dtype.name


def _report(case, keras_value, got):
    return (
        f"\ncase {case['id']}: {case['desc']}\n"
        f"  keras  : {np.array2string(np.asarray(keras_value), precision=10)}\n"
        f"  regloss: {np.array2string(np.asarray(got), precision=10)}"
    )


def assert_matches(case, got, got_dtype, want, want_dtype, compare_dtype=True):
    msg = _report(case, want, got)
    assert got.shape == want.shape, f"shape {got.shape} != Keras {want.shape}" + msg
    if compare_dtype:
        assert got_dtype == want_dtype, f"dtype {got_dtype} != Keras {want_dtype}" + msg
    rtol, atol = TOL[case["dtype"]]
    if case["dtype"] == "float64" and case["loss"] in MEAN_LOSSES:
        rtol = FLOAT64_MEAN_RTOL
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * case["scale"], equal_nan=True, err_msg=msg)


def _params():
    out = []
    for c in MATCH_CASES:
        out.append(pytest.param(c, "numpy", id=f"{c['id']}-numpy-{c['desc']}"))
        if c["dtype"] in ("float32", "float64") and "int64" not in (c["yt_dtype"], c["yp_dtype"]):
            out.append(pytest.param(c, "array_api_strict", id=f"{c['id']}-strict-{c['desc']}"))
    return out


# ----------------------------------------------------------------------------------------------
# Must-match cases.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "lib"), _params())
def test_matches_keras(oracle, case, lib):
    xp = _lib(lib)
    err = oracle.error(case["id"])
    assert err is None, f"Keras raised on a must-match case {case['desc']}: {err}"
    got, got_dtype = run_regloss(case, xp)
    assert_matches(case, got, got_dtype, oracle.value(case["id"]), oracle.dtype(case["id"]))


@pytest.mark.parametrize("case", CROSSCHECK, ids=[c["id"] for c in CROSSCHECK])
def test_oracle_jit_batches_agree_with_eager_keras(oracle, case):
    """The worker jits batches of cases for speed; on a sample, eager Keras gives the same."""
    jitted, eager = oracle.value(case["id"]), oracle.value(case["id"] + "__eager")
    assert oracle.dtype(case["id"]) == oracle.dtype(case["id"] + "__eager")
    tol = {"float64": 1e-13, "float32": 3e-7, "float16": 1e-3, "bfloat16": 8e-3}[case["dtype"]]
    np.testing.assert_allclose(jitted, eager, rtol=tol, atol=tol, err_msg=case["desc"])


def test_case_inventory():
    """The generated set covers every loss x reduction x dtype and every weight/mask kind."""
    classes = {c["loss"] for c in MATCH_CASES if c["kind"] == "class"}
    fns = {c["loss"] for c in MATCH_CASES if c["kind"] == "fn"}
    assert classes == {cls for cls, _, _ in LOSSES}
    assert fns == {fn for _, fn, _ in LOSSES}
    reds = {c["kwargs"].get("reduction", "sum_over_batch_size") for c in MATCH_CASES
            if c["kind"] == "class"}  # fmt: skip
    assert reds == set(REDUCTIONS)
    assert {c["dtype"] for c in MATCH_CASES} == {"float16", "bfloat16", "float32", "float64"}
    descs = " ".join(c["desc"] for c in MATCH_CASES)
    for token in (
        "weights=full",
        "weights=full1",
        "weights=bcast",
        "weights=one",
        "weights=scalar",
        "weights=float",
        "mask=full",
        "mask=num",
        "mask=full1",
    ):
        assert token in descs, token
    assert 250 <= len(MATCH_CASES) <= 400


# ----------------------------------------------------------------------------------------------
# Documented differences, each asserted against the oracle.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("i", range(len(DIFF["tversky"])))
def test_difference_tversky_alpha_beta_swapped_in_keras(oracle, i):
    """Decision 1: regloss alpha weights FP, beta FN; Keras 3.15.1 has them swapped."""
    ab, ba = DIFF["tversky"][i]
    got, got_dtype = run_regloss(ab)
    keras_ab, keras_ba = oracle.value(ab["id"]), oracle.value(ba["id"])
    # The data is chosen so that the swap matters.
    assert not np.allclose(keras_ab, keras_ba, rtol=1e-3), "test data does not separate FP/FN"
    assert_matches(ab, got, got_dtype, keras_ba, oracle.dtype(ba["id"]))
    assert not np.allclose(got, keras_ab, rtol=1e-3), _report(ab, keras_ab, got)


def test_difference_tversky_keras_swap_confirmed(oracle):
    """Pin what Keras 3.15.1 does: its alpha multiplies FN = sum(t * (1 - p)), beta FP."""
    checked = 0
    for ab, _ in DIFF["tversky"]:
        if ab["kind"] != "fn":
            continue
        yt, yp = ARRAYS[ab["yt"]], ARRAYS[ab["yp"]]
        kw = _tuplify(ab["kwargs"])
        axis, a, b = kw.get("axis"), kw["alpha"], kw["beta"]
        inter = np.sum(yt * yp, axis=axis)
        fp = np.sum((1 - yt) * yp, axis=axis)
        fn = np.sum(yt * (1 - yp), axis=axis)
        keras_formula = 1 - inter / (inter + a * fn + b * fp + 1e-7)
        np.testing.assert_allclose(oracle.value(ab["id"]), keras_formula, rtol=1e-5)
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("i", range(7))
def test_difference_float16_computed_in_float32(oracle, i):
    """Decision 5: Keras overflows to inf/NaN in float16; regloss is finite and right."""
    c16, c64 = DIFF["float16"][i]
    keras16 = oracle.value(c16["id"])
    assert not np.all(np.isfinite(keras16)), f"Keras was finite: {keras16}"
    want = oracle.value(c64["id"]).astype(np.float16).astype(np.float64)
    got, got_dtype = run_regloss(c16)
    assert got_dtype == "float16"
    assert np.all(np.isfinite(got)), _report(c16, keras16, got)
    np.testing.assert_allclose(got, want, rtol=2e-3, err_msg=_report(c16, want, got))


def test_float16_overflowing_result_is_inf_in_both(oracle):
    c = DIFF["float16_inf"]
    got, got_dtype = run_regloss(c)
    assert_matches(c, got, got_dtype, oracle.value(c["id"]), oracle.dtype(c["id"]))
    assert np.isinf(got)


@pytest.mark.parametrize("i", range(10))
def test_difference_none_reduction_weights_keep_shape(oracle, i):
    """Decision 6, reduction none: weights/masks never change the losses' shape.

    Keras reconciles ranks by reshaping the losses: (B, 1) weights or masks on (B,) losses give
    (B, 1); a scalar weight on (1,) losses gives ().  Same values, flattened."""
    c, keras_shape, our_shape = DIFF["none_b1"][i]
    want = oracle.value(c["id"])
    got, got_dtype = run_regloss(c)
    assert want.shape == keras_shape
    assert got.shape == our_shape, _report(c, want, got)
    assert got_dtype == oracle.dtype(c["id"])
    np.testing.assert_allclose(got.reshape(-1), want.reshape(-1), rtol=2e-6, atol=1e-7,
                               err_msg=_report(c, want, got))  # fmt: skip


@pytest.mark.parametrize("i", range(6))
def test_difference_nan_in_masked_row(oracle, i):
    """Decision 7: masked entries are zeroed before arithmetic, so NaN/inf there never leaks."""
    dirty, clean = DIFF["nan_masked"][i]
    keras_dirty = oracle.value(dirty["id"])
    assert np.any(np.isnan(keras_dirty)), f"Keras did not leak NaN: {keras_dirty}"
    want = oracle.value(clean["id"])  # Keras on the same data with the masked row zeroed
    assert np.all(np.isfinite(want))
    got, got_dtype = run_regloss(dirty)
    assert np.all(np.isfinite(got)), _report(dirty, keras_dirty, got)
    assert_matches(dirty, got, got_dtype, want, oracle.dtype(clean["id"]))


@pytest.mark.parametrize("i", range(3))
def test_nan_with_zero_weight_stays_nan_like_keras(oracle, i):
    c = DIFF["nan_weight0"][i]
    got, got_dtype = run_regloss(c)
    want = oracle.value(c["id"])
    assert np.isnan(want)
    assert_matches(c, got, got_dtype, want, oracle.dtype(c["id"]))


F64_TERMS = {
    "MeanSquaredError": lambda t, p: (t - p) ** 2,
    "mean_absolute_error": lambda t, p: np.abs(t - p),
    "log_cosh": lambda t, p: np.logaddexp(p - t, t - p) - np.log(2.0),
}


@pytest.mark.parametrize("i", range(3))
def test_keras_float64_means_are_float32_accurate(oracle, i):
    """Undocumented difference: Keras 3.15.1 averages float64 in float32; regloss in float64.

    keras.src.backend.jax.numpy.mean uses compute_dtype = dtypes.result_type(x.dtype, "float32")
    and Keras's result_type maps 64-bit types to 32-bit, so the per-element terms are rounded to
    float32 before the mean (the result is then cast back to float64).  regloss is checked here
    against an independent float64 reference; Keras only against its float32 rounding."""
    c = DIFF["f64_mean"][i]
    yt, yp = ARRAYS[c["yt"]], ARRAYS[c["yp"]]
    terms = F64_TERMS[c["loss"]](yt, yp)
    exact = np.mean(terms, axis=-1)
    via_f32 = np.mean(terms.astype(np.float32), axis=-1, dtype=np.float32).astype(np.float64)
    if c["kind"] == "class":
        exact, via_f32 = np.mean(exact), np.mean(via_f32)
    keras_value = oracle.value(c["id"])
    assert oracle.dtype(c["id"]) == "float64"
    np.testing.assert_allclose(keras_value, via_f32, rtol=2e-7)
    assert np.max(np.abs(keras_value - exact) / np.abs(exact)) > 1e-12  # not float64-exact
    got, got_dtype = run_regloss(c)
    assert got_dtype == "float64"
    np.testing.assert_allclose(got, exact, rtol=1e-13, err_msg=_report(c, keras_value, got))


@pytest.mark.parametrize("i", range(2))
def test_difference_huber_delta_validated(oracle, i):
    """Decision 3: Keras 3.15.1 accepts delta <= 0 (0 gives 0, negative gives < 0)."""
    delta, c = DIFF["huber_delta"][i]
    keras_value = oracle.value(c["id"])
    if delta == 0:
        assert keras_value == 0.0
    else:
        assert keras_value < 0
    with pytest.raises(ValueError):
        rl.Huber(delta=delta)


@pytest.mark.parametrize("delta", [float("inf"), float("nan"), -0.5])
def test_difference_huber_delta_validated_more(delta):
    with pytest.raises(ValueError):
        rl.Huber(delta=delta)


@pytest.mark.parametrize("i", range(3))
def test_difference_no_broadcasting_of_inputs(oracle, i):
    """Decision 4: Keras silently broadcasts (3,) against (2, 3); regloss refuses."""
    c = DIFF["broadcast"][i]
    assert oracle.error(c["id"]) is None
    assert oracle.value(c["id"]).size >= 1
    with pytest.raises(ValueError):
        run_regloss(c)


@pytest.mark.parametrize("i", range(3))
def test_difference_empty_last_axis(oracle, i):
    """Keras gives NaN for an empty last axis; regloss raises ValueError naming the shape."""
    c = DIFF["empty_last"][i]
    assert np.all(np.isnan(oracle.value(c["id"])))
    with pytest.raises(ValueError):
        run_regloss(c)


@pytest.mark.parametrize("i", range(len(REDUCTIONS)))
def test_empty_batch(oracle, i):
    """(0, 3): Keras early-returns an empty (0,) array for every mode; regloss reduces to 0.

    (0, 3, 2): both give 0 for reducing modes (divide_no_nan) and an empty array for none."""
    red, c = DIFF["empty_batch"][i]
    want = oracle.value(c["id"])
    assert want.shape == (0,)
    got, got_dtype = run_regloss(c)
    if red in ("none", None):
        assert got.shape == (0,)
    else:  # documented difference: regloss reduces an empty batch to 0
        assert got.shape == ()
        assert got == 0.0
    assert got_dtype == "float32"
    red, c = DIFF["empty_batch3"][i]
    got, got_dtype = run_regloss(c)
    assert_matches(c, got, got_dtype, oracle.value(c["id"]), oracle.dtype(c["id"]))


def test_rank0_inputs_refused_by_both(oracle):
    c = DIFF["rank0"]
    assert oracle.error(c["id"]) is not None
    with pytest.raises(ValueError):
        run_regloss(c)


def test_difference_auto_reduction(oracle):
    """regloss accepts reduction="auto" as sum_over_batch_size; Keras 3 refuses it."""
    c, ref = DIFF["auto"]
    assert oracle.error(c["id"]).startswith("ValueError")
    got, got_dtype = run_regloss(c)
    assert_matches(c, got, got_dtype, oracle.value(ref["id"]), oracle.dtype(ref["id"]))
    assert rl.MeanSquaredError(reduction="auto").get_config()["reduction"] == ("sum_over_batch_size")


# ----------------------------------------------------------------------------------------------
# Configs and serialization, both directions.
# ----------------------------------------------------------------------------------------------

# Documented difference 2: regloss's get_config keeps every constructor argument.
EXTRA_CONFIG_KEYS = {"Huber": {"delta"}, "CosineSimilarity": {"axis"}}


def _regloss_eval(obj):
    return to_numpy(obj(EVAL_YT, EVAL_YP)).astype(np.float64)


@pytest.mark.parametrize(("cls", "kwargs"), LOAD_OBJECTS, ids=[_make_id(*o) for o in LOAD_OBJECTS])
def test_regloss_serialized_loads_in_keras(oracle, cls, kwargs):
    ours = getattr(rl, cls)(**kwargs)
    res = oracle.extras["load"][_make_id(cls, kwargs)]
    want_kwargs = _tuplify(kwargs)
    for how in ("saving", "losses"):
        info = res[how]
        assert "error" not in info, f"Keras could not load {rl.serialize(ours)}: {info}"
        assert info["class_name"] == cls
        assert info["name"] == ours.name
        assert info["reduction"] == ours.reduction
        assert info["dtype"] == kwargs.get("dtype", "float32")
        fn_kwargs = info.get("fn_kwargs", {})
        for key in ("delta", "axis", "alpha", "beta"):
            if key in want_kwargs:
                want = want_kwargs[key]
                want = list(want) if isinstance(want, tuple) else want
                assert fn_kwargs.get(key) == want, (key, fn_kwargs)
        keras_value = np.asarray(info["eval"]["value"])
        if cls == "Tversky" and kwargs.get("alpha") != kwargs.get("beta"):
            # Keras 3.15.1 swaps alpha/beta (decision 1): compare with the swapped regloss loss.
            swapped = dict(kwargs, alpha=kwargs["beta"], beta=kwargs["alpha"])
            ours_value = _regloss_eval(getattr(rl, cls)(**swapped))
        else:
            ours_value = _regloss_eval(ours)
        np.testing.assert_allclose(ours_value, keras_value, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_regloss_serialized_function_loads_in_keras(oracle, fn):
    res = oracle.extras["load"][fn]
    for how in ("saving", "losses"):
        info = res[how]
        assert "error" not in info, f"Keras could not load {rl.serialize(getattr(rl, fn))}: {info}"
        assert (info["type"], info["name"]) == ("function", fn)
        got = _regloss_eval(getattr(rl, fn))
        want = np.asarray(info["eval"]["value"])  # float64 data: Keras means are float32-accurate
        np.testing.assert_allclose(got, want, rtol=FLOAT64_MEAN_RTOL, atol=1e-13)


@pytest.mark.parametrize(("cls", "kwargs"), MAKE_OBJECTS, ids=[_make_id(*o) for o in MAKE_OBJECTS])
def test_keras_serialized_loads_in_regloss(oracle, cls, kwargs):
    info = oracle.extras["make"][_make_id(cls, kwargs)]
    assert "error" not in info, info
    config = info["serialized"]
    for obj in (rl.deserialize(_plain(config)), rl.get(_plain(config))):
        assert type(obj).__name__ == cls
        assert isinstance(obj, rl.Loss)
        assert obj.name == info["name"]
        assert obj.reduction == info["reduction"]
        ours_config = _plain(obj.get_config())
        extra = set(ours_config) - set(info["config"])
        assert extra <= EXTRA_CONFIG_KEYS.get(cls, set()), extra
        assert {k: ours_config[k] for k in info["config"]} == info["config"]
        # What the Keras config means is what Keras's own round trip computes (Huber loses delta).
        keras_value = np.asarray(info["roundtrip"]["eval"]["value"])
        if cls == "Tversky" and kwargs.get("alpha", 0.5) != kwargs.get("beta", 0.5):
            other = oracle.extras["make"][_make_id(
                cls, dict(kwargs, alpha=kwargs["beta"], beta=kwargs["alpha"]))]  # fmt: skip
            keras_value = np.asarray(other["roundtrip"]["eval"]["value"])
        np.testing.assert_allclose(_regloss_eval(obj), keras_value, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize(("cls", "kwargs"), MAKE_OBJECTS, ids=[_make_id(*o) for o in MAKE_OBJECTS])
def test_serialize_equals_keras(oracle, cls, kwargs):
    """regloss.serialize gives Keras's dict, plus only the documented extra config keys."""
    info = oracle.extras["make"][_make_id(cls, kwargs)]
    ours = _plain(rl.serialize(getattr(rl, cls)(**kwargs)))
    theirs = info["serialized"]
    extra = set(ours["config"]) - set(theirs["config"])
    assert extra <= EXTRA_CONFIG_KEYS.get(cls, set()), extra
    ours_config = {k: v for k, v in ours["config"].items() if k not in extra}
    assert {**ours, "config": ours_config} == theirs


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_serialize_function_equals_keras(oracle, fn):
    info = oracle.extras["make"][fn]
    assert _plain(rl.serialize(getattr(rl, fn))) == info["serialized"]
    obj = rl.deserialize(_plain(info["serialized"]))
    assert obj is getattr(rl, fn)
    want = np.asarray(info["eval"]["value"])  # float64 data: Keras means are float32-accurate
    np.testing.assert_allclose(_regloss_eval(obj), want, rtol=FLOAT64_MEAN_RTOL, atol=1e-13)


def test_difference_get_config_keeps_huber_delta_and_cosine_axis(oracle):
    """Decision 2: Keras 3.15.1 drops Huber delta / Cosine axis; a round trip changes its loss."""
    info = oracle.extras["make"][_make_id("Huber", {"delta": 2.0})]
    assert "delta" not in info["config"]
    assert info["roundtrip"]["fn_kwargs"]["delta"] == 1.0  # Keras lost delta=2.0
    keras_orig = np.asarray(info["eval"]["value"])
    keras_rt = np.asarray(info["roundtrip"]["eval"]["value"])
    ours = rl.Huber(delta=2.0)
    config = ours.get_config()
    assert config["delta"] == 2.0
    again = rl.Huber.from_config(config)
    np.testing.assert_allclose(_regloss_eval(again), keras_orig, rtol=2e-6)
    np.testing.assert_allclose(_regloss_eval(ours), keras_orig, rtol=2e-6)
    assert not np.allclose(keras_orig, keras_rt)  # so the evaluation data does separate them
    np.testing.assert_allclose(_regloss_eval(rl.Huber(delta=1.0)), keras_rt, rtol=2e-6)
    cos = oracle.extras["make"][_make_id("CosineSimilarity", {"axis": -1, "reduction": "mean"})]
    assert "axis" not in cos["config"]
    assert rl.CosineSimilarity(axis=0).get_config()["axis"] == 0
    assert rl.Huber(dtype="float64").get_config()["dtype"] == "float64"


@pytest.mark.parametrize("name", GET_NAMES)
def test_get_matches_keras(oracle, name):
    info = oracle.extras["get"][name]
    if "error" in info:
        if name in TF_KERAS_ONLY_NAMES:  # documented: regloss also knows the tf.keras aliases
            assert callable(rl.get(name))
            return
        with pytest.raises(ValueError):
            rl.get(name)
        return
    ours = rl.get(name)
    if info["type"] == "function":
        assert getattr(ours, "__name__", None) == info["name"]
        assert ours is getattr(rl, info["name"])
    else:
        assert type(ours).__name__ == info["class_name"]
        assert ours.name == info["name"]
        assert ours.reduction == info["reduction"]
        cfg = _plain(ours.get_config())
        assert {k: cfg[k] for k in info["config"]} == info["config"]


def test_version_attribute():
    assert isinstance(regloss.__version__, str)


# ----------------------------------------------------------------------------------------------
# Per-backend probes (numpy, torch and jax Keras backends), one subprocess per backend:
# low-precision function dtypes, Dice/Tversky rank reconciliation, tensor hyper-parameters.
# ----------------------------------------------------------------------------------------------

BACKENDS_WORKER = Path(__file__).with_name("keras_backends_worker.py")
KERAS_BACKENDS = ["numpy", "torch", "jax"]
_BACKEND_RESULTS = {}


def _backend_cases():
    rng = np.random.default_rng(SEED + 7)
    arrays, cases = {}, []
    real_t, real_p = rng.uniform(0.5, 2.0, size=(3, 4)), rng.uniform(0.5, 2.0, size=(3, 4))
    seg_t, seg_p = (rng.random((3, 4)) < 0.5).astype(np.float64), rng.uniform(0.1, 0.9, size=(3, 4))
    arrays.update(real_t=real_t, real_p=real_p, seg_t=seg_t, seg_p=seg_p)
    for dtype in LOW:
        for fn in KERAS_FUNCTION_NAMES:
            seg = fn in ("dice", "tversky")
            kwargs = {"axis": -1} if seg else {}
            yt, yp = ("seg_t", "seg_p") if seg else ("real_t", "real_p")
            case = {"id": f"fn-{fn}-{dtype}", "kind": "fn", "loss": fn, "kwargs": kwargs}
            cases.append(dict(case, yt=yt, yp=yp, dtype=dtype))
        for cls in ("MeanSquaredLogarithmicError", "MeanSquaredError", "Huber"):
            case = {"id": f"cls-{cls}-{dtype}", "kind": "class", "loss": cls, "kwargs": {"dtype": dtype}}
            cases.append(dict(case, yt="real_t", yp="real_p", dtype=dtype))
    # (B,) against (B, 1): Keras's classes reconcile, its dice/tversky/poisson functions broadcast.
    arrays.update(rank_t=np.array([1.0, 0.0, 1.0, 1.0]), rank_p=np.array([[0.8], [0.3], [0.6], [0.1]]))
    for loss, kwargs in (("dice", {}), ("dice", {"axis": -1}), ("tversky", {"alpha": 0.3, "beta": 0.3}),
                         ("tversky", {"axis": -1}), ("poisson", {})):  # fmt: skip
        name = f"{loss}-{kwargs.get('axis', 'none')}"
        cls = loss.capitalize()
        common = {"yt": "rank_t", "yp": "rank_p", "dtype": "float32"}
        cases.append({"id": f"rank-fn-{name}", "kind": "fn", "loss": loss, "kwargs": kwargs, **common})
        cases.append({"id": f"rank-cls-{name}", "kind": "class", "loss": cls,
                      "kwargs": dict(kwargs, reduction="none"), **common})  # fmt: skip
    # Hyper-parameters given as backend tensors.
    common = {"yt": "real_t", "yp": "real_p", "dtype": "float32"}
    cases.append(
        {"id": "tensor-Huber", "kind": "class", "loss": "Huber", "tensor_kwargs": {"delta": 0.5}, **common}
    )
    cases.append(
        {"id": "tensor-huber", "kind": "fn", "loss": "huber", "tensor_kwargs": {"delta": 0.75}, **common}
    )
    cases.append({"id": "tensor-Tversky", "kind": "class", "loss": "Tversky", "kwargs": {"axis": -1},
                  "tensor_kwargs": {"alpha": 0.3, "beta": 0.3}, "yt": "seg_t", "yp": "seg_p",
                  "dtype": "float32"})  # fmt: skip
    return arrays, cases


BACKEND_ARRAYS, BACKEND_CASES = _backend_cases()


def keras_on_backend(backend, tmp_path_factory):
    """Keras's results for ``BACKEND_CASES`` on one backend (one subprocess, cached)."""
    if backend not in _BACKEND_RESULTS:
        pytest.importorskip({"numpy": "numpy", "torch": "torch", "jax": "jax"}[backend])
        work = tmp_path_factory.mktemp(f"keras_{backend}")
        np.savez(work / "arrays.npz", **BACKEND_ARRAYS)
        (work / "request.json").write_text(json.dumps({"cases": BACKEND_CASES}))
        env = dict(os.environ, KERAS_BACKEND=backend, KERAS_HOME=str(work / "keras_home"),
                   JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")  # fmt: skip
        env.pop("JAX_ENABLE_X64", None)
        args = [sys.executable, str(BACKENDS_WORKER), str(work / "request.json"), str(work / "arrays.npz"),
                str(work / "out.json")]  # fmt: skip
        proc = subprocess.run(args, env=env, cwd=work, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            pytest.fail(f"Keras {backend} worker failed:\n{proc.stderr[-4000:]}")
        out = json.loads((work / "out.json").read_text())
        if out["keras_version"] != KERAS_VERSION:
            pytest.skip(f"the oracle is Keras {KERAS_VERSION}; found {out['keras_version']}")
        assert out["backend"] == backend
        _BACKEND_RESULTS[backend] = out["cases"]
    return _BACKEND_RESULTS[backend]


def _keras_case(results, case_id):
    found = results[case_id]
    assert found["error"] is None, f"Keras raised on {case_id}: {found['error']}"
    return np.asarray(found["value"]), found["dtype"]


def _run_backend_case(case, **tensor_kwargs):
    dtype = NP_DTYPES[case["dtype"]]
    yt, yp = BACKEND_ARRAYS[case["yt"]].astype(dtype), BACKEND_ARRAYS[case["yp"]].astype(dtype)
    kwargs = _tuplify(dict(case.get("kwargs", {}), **tensor_kwargs))
    if case["kind"] == "fn":
        out = getattr(rl, case["loss"])(y_true=yt, y_pred=yp, **kwargs)
    else:
        out = getattr(rl, case["loss"])(**kwargs)(y_true=yt, y_pred=yp)
    got = to_numpy(out)
    return got.astype(np.float64), got.dtype.name


# Keras 3.15.1's mean_squared_logarithmic_error *function* on float16/bfloat16 inputs: its float32
# epsilon tensor promotes the result on the NumPy and PyTorch backends; on JAX it keeps the dtype.
KERAS_MSLE_FUNCTION_DTYPE = {"numpy": "float32", "torch": "float32", "jax": None}  # None: the input's


@pytest.mark.parametrize("backend", KERAS_BACKENDS)
def test_difference_low_precision_function_dtypes_by_keras_backend(backend, tmp_path_factory):
    """Issue 21 item 5, documented in docs/losses.md: every regloss function keeps y_pred's float16 or
    bfloat16 dtype; Keras's MSLE function returns float32 on its NumPy and PyTorch backends (and its
    NumPy backend promotes several bfloat16 functions); the values agree up to the dtype's rounding."""
    results = keras_on_backend(backend, tmp_path_factory)
    for case in BACKEND_CASES:
        if not case["id"].startswith(("fn-", "cls-")):
            continue
        keras_value, keras_dtype = _keras_case(results, case["id"])
        got, got_dtype = _run_backend_case(case)
        assert got_dtype == case["dtype"], case["id"]
        if case["id"].startswith("cls-"):
            assert keras_dtype == case["dtype"], case["id"]  # the classes agree on the dtype
        if case["id"].startswith("fn-mean_squared_logarithmic_error"):
            assert keras_dtype == (KERAS_MSLE_FUNCTION_DTYPE[backend] or case["dtype"]), (
                backend,
                keras_dtype,
            )
        rtol = TOL[case["dtype"]][0]
        want = keras_value.astype(NP_DTYPES[case["dtype"]]).astype(np.float64)  # Keras's value, rounded
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=f"{backend} {case['id']}")


@pytest.mark.parametrize("backend", KERAS_BACKENDS)
def test_dice_tversky_poisson_functions_reconcile_ranks_like_keras_classes(backend, tmp_path_factory):
    """Issue 21 item 8, documented in docs/losses.md: regloss's dice/tversky/poisson functions
    reconcile (B,) against (B, 1) as Keras's Dice/Tversky/Poisson classes do; Keras's functions
    broadcast to (B, B) instead."""
    results = keras_on_backend(backend, tmp_path_factory)
    for case in BACKEND_CASES:
        if not case["id"].startswith("rank-fn-"):
            continue
        keras_fn, _ = _keras_case(results, case["id"])
        keras_cls, _ = _keras_case(results, case["id"].replace("rank-fn-", "rank-cls-"))
        got, _ = _run_backend_case(case)
        assert got.shape == keras_cls.shape, case["id"]
        np.testing.assert_allclose(got, keras_cls, rtol=2e-6, atol=1e-7, err_msg=case["id"])
        differs = keras_fn.shape != keras_cls.shape or not np.allclose(keras_fn, keras_cls, rtol=1e-3)
        assert differs, f"Keras's {case['loss']} function now reconciles ranks: update docs/losses.md"


def _native_scalar(backend, value):
    if backend == "torch":
        import torch

        return torch.tensor(value, dtype=torch.float32)
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.asarray(value, dtype=jnp.float32)
    return np.asarray(value, dtype=np.float32)


@pytest.mark.parametrize("backend", KERAS_BACKENDS)
def test_tensor_hyper_parameters_match_keras(backend, tmp_path_factory):
    """Issue 20 item 13: a delta (alpha, beta) given as a tensor of the backend's library, on NumPy
    inputs, gives Keras's number (Keras converts it to y_pred's dtype)."""
    results = keras_on_backend(backend, tmp_path_factory)
    for case in BACKEND_CASES:
        if not case["id"].startswith("tensor-"):
            continue
        keras_value, keras_dtype = _keras_case(results, case["id"])
        tensors = {name: _native_scalar(backend, value) for name, value in case["tensor_kwargs"].items()}
        got, got_dtype = _run_backend_case(case, **tensors)
        assert got_dtype == keras_dtype == "float32", case["id"]
        np.testing.assert_allclose(got, keras_value, rtol=2e-6, atol=1e-7, err_msg=f"{backend} {case['id']}")
