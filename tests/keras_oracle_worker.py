"""Keras oracle worker for ``tests/test_keras_oracle.py``.

Run as a subprocess (it is not a test module; it needs Keras, the tests do not import it):

    KERAS_BACKEND=jax JAX_ENABLE_X64=1 JAX_PLATFORMS=cpu KERAS_HOME=<tmp> \
        python keras_oracle_worker.py REQUEST.json ARRAYS.npz OUT.json OUT.npz

It imports Keras once, evaluates every requested case and writes the results:

* cases with ``"mode": "jit"`` (the default) are evaluated in batches, each batch inside ONE
  ``jax.jit`` (compiling every small eager op separately costs ~5 XLA compilations per case and
  takes minutes; a batch costs one).  The parent starts this worker with
  ``XLA_FLAGS=--xla_allow_excess_precision=false`` so float16/bfloat16 intermediates are rounded
  as in eager execution; ``request["crosscheck"]`` names cases that are also run eagerly (stored
  as ``<id>__eager``) so the parent can check that both agree.  If a batch raises, its cases are
  evaluated eagerly one by one, so each error is attributed to its case.
* cases with ``"mode": "eager"`` run op by op, as a user calling a Keras loss would.  Used where
  XLA's whole-program rewrites may change the answer (NaN propagation through a mask, float16
  overflow).
* ``request["load"|"make"|"get"]``: configuration/serialization probes (see ``Oracle``).

Output:

* ``OUT.json``: ``{"status": "ok", "keras_version": ..., "backend": ..., "cases": {id: meta},
  "extras": {...}}`` where ``meta`` is ``{"error": None | "Type: message", "dtype": str,
  "shape": [..]}``; or ``{"status": "skip", "reason": ...}`` when Keras/JAX cannot be imported.
* ``OUT.npz``: the float64 value of each successful case under its id.

This file deliberately does not import regloss: it only knows Keras.
"""

import json
import sys
import traceback

import numpy as np

# Cases per jitted batch: one XLA compilation each (~0.1 s per case eagerly, ~0.03 s batched).
JIT_CHUNK = 100


def _jsonable(obj):
    """Turn a Keras config (tuples, numpy scalars) into plain JSON data."""
    return json.loads(json.dumps(obj, default=_json_default))


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    return repr(obj)


def _err(exc):
    return f"{type(exc).__name__}: {exc}"


def _fix_kwargs(kwargs):
    """JSON turns tuples into lists; Keras wants an ``axis`` tuple."""
    out = dict(kwargs)
    if isinstance(out.get("axis"), list):
        out["axis"] = tuple(out["axis"])
    return out


class Oracle:
    def __init__(self, keras, jax, set_keras_mask, arrays):
        self.keras = keras
        self.jax = jax
        jnp = jax.numpy
        self.jnp = jnp
        self.set_keras_mask = set_keras_mask
        self.arrays = arrays

    def tensor(self, key, dtype):
        """A JAX array of ``dtype`` from the array stored under ``key``.

        The cast happens in NumPy (ml_dtypes for bfloat16) and the result is only transferred:
        every distinct XLA program costs a compilation, so none is spent on input conversion.
        """
        a = self.arrays[key]
        if dtype is not None:
            a = a.astype(self.np_dtype(dtype))
        return self.jax.device_put(a)

    def np_dtype(self, dtype):
        if dtype == "bfloat16":
            import ml_dtypes

            return ml_dtypes.bfloat16
        return np.dtype(dtype)

    def result(self, out):
        out = np.asarray(out)  # a transfer, not a compiled cast
        return out.astype(np.float64), out.dtype.name

    def prepare(self, c):
        """(arguments, pure function of them) computing one case with Keras."""
        keras = self.keras
        kwargs = _fix_kwargs(c.get("kwargs", {}))
        yt = self.tensor(c["yt"], c.get("yt_dtype"))
        yp = self.tensor(c["yp"], c.get("yp_dtype"))
        if c["kind"] == "fn":
            fn = getattr(keras.losses, c["loss"])

            def run_fn(yt, yp, sw, mask):
                return fn(yt, yp, **kwargs)

            return (yt, yp, None, None), run_fn
        loss = getattr(keras.losses, c["loss"])(**kwargs)
        sw = None
        sw_float = c.get("sw_float")
        if sw_float is not None:
            sw_float = float(sw_float)
        elif c.get("sw") is not None:
            # The stored values are exact in the loss dtype; Keras would cast float64 the same way.
            sw = self.tensor(c["sw"], kwargs.get("dtype") or "float32")
        mask = None if c.get("mask") is None else self.tensor(c["mask"], None)

        def run_class(yt, yp, sw, mask):
            if mask is not None:
                # The only way to give Keras a mask: attach it to y_pred.
                self.set_keras_mask(yp, mask)
            return loss(yt, yp, sample_weight=sw_float if sw_float is not None else sw)

        return (yt, yp, sw, mask), run_class

    def run_eager(self, c):
        args, fn = self.prepare(c)
        return self.result(fn(*args))

    def run_jit(self, cases):
        """Evaluate many cases in ONE jitted program (one XLA compilation instead of ~5 per case).

        Raises if any case fails; the caller then falls back to eager, case by case.
        """
        prepared = [self.prepare(c) for c in cases]
        fns = [fn for _, fn in prepared]

        def batch(all_args):
            return [fn(*args) for fn, args in zip(fns, all_args, strict=True)]

        outs = self.jax.jit(batch)([args for args, _ in prepared])
        return [self.result(out) for out in outs]

    # ---- serialization / config helpers -------------------------------------------------

    def evaluate(self, obj, ev):
        """Evaluate a Keras loss object or function on stored inputs."""
        yt = self.arrays[ev["yt"]]
        yp = self.arrays[ev["yp"]]
        if isinstance(obj, self.keras.losses.Loss):
            value, dtype = self.result(obj(yt, yp))
        else:
            value, dtype = self.result(obj(self.jnp.asarray(yt), self.jnp.asarray(yp)))
        return {"value": value.tolist(), "dtype": dtype}

    def describe(self, obj):
        keras = self.keras
        if isinstance(obj, keras.losses.Loss):
            info = {
                "type": "class",
                "class_name": type(obj).__name__,
                "name": obj.name,
                "reduction": obj.reduction,
                "dtype": obj.dtype,
                "config": _jsonable(obj.get_config()),
            }
            fn_kwargs = getattr(obj, "_fn_kwargs", None)
            if fn_kwargs is not None:
                info["fn_kwargs"] = _jsonable(fn_kwargs)
            return info
        if callable(obj):
            return {"type": "function", "name": getattr(obj, "__name__", repr(obj))}
        return {"type": type(obj).__name__, "repr": repr(obj)}

    def load_config(self, req):
        """Deserialize a (regloss-produced) config in Keras, two ways, and evaluate it."""
        keras = self.keras
        out = {}
        for how, loader in (
            ("saving", keras.saving.deserialize_keras_object),
            ("losses", keras.losses.deserialize),
        ):
            try:
                obj = loader(json.loads(json.dumps(req["config"])))
                info = self.describe(obj)
                if req.get("eval") is not None:
                    info["eval"] = self.evaluate(obj, req["eval"])
                out[how] = info
            except Exception as exc:
                out[how] = {"error": _err(exc)}
        return out

    def make(self, req):
        """Build a Keras loss (class or function) from a request, serialize and describe it."""
        keras = self.keras
        target = getattr(keras.losses, req["name"])
        obj = target(**_fix_kwargs(req.get("kwargs", {}))) if req["type"] == "class" else target
        info = self.describe(obj)
        info["serialized"] = _jsonable(keras.losses.serialize(obj))
        if req.get("eval") is not None:
            info["eval"] = self.evaluate(obj, req["eval"])
        if req["type"] == "class":
            # Round trip through Keras's own config.
            again = type(obj).from_config(obj.get_config())
            info["roundtrip"] = self.describe(again)
            if req.get("eval") is not None:
                info["roundtrip"]["eval"] = self.evaluate(again, req["eval"])
        return info

    def get(self, name):
        try:
            return self.describe(self.keras.losses.get(name))
        except Exception as exc:
            return {"error": _err(exc)}


def main(argv):
    req_path, arr_path, out_json, out_npz = argv[1:5]
    try:
        import jax
        import keras
        from keras.src.backend import set_keras_mask
    except Exception as exc:  # any import failure means "no oracle"
        with open(out_json, "w") as f:
            json.dump({"status": "skip", "reason": f"cannot import keras/jax: {_err(exc)}"}, f)
        return 0

    with open(req_path) as f:
        request = json.load(f)
    with np.load(arr_path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}

    oracle = Oracle(keras, jax, set_keras_mask, arrays)
    meta = {}
    values = {}

    def record(cid, thunk):
        try:
            value, dtype = thunk()
            meta[cid] = {"error": None, "dtype": dtype, "shape": list(value.shape)}
            values[cid] = value
        except Exception as exc:  # the parent decides what an error means
            meta[cid] = {"error": _err(exc), "dtype": None, "shape": None}

    cases = request.get("cases", [])
    jit_cases = [c for c in cases if c.get("mode", "jit") == "jit"]
    for start in range(0, len(jit_cases), JIT_CHUNK):
        chunk = jit_cases[start : start + JIT_CHUNK]
        try:
            results = oracle.run_jit(chunk)
        except Exception:  # some case raises: evaluate that chunk eagerly, case by case
            for c in chunk:
                record(c["id"], lambda c=c: oracle.run_eager(c))
        else:
            for c, res in zip(chunk, results, strict=True):
                record(c["id"], lambda res=res: res)
    for c in cases:
        if c.get("mode", "jit") == "eager":
            record(c["id"], lambda c=c: oracle.run_eager(c))
    for cid in request.get("crosscheck", []):  # jit vs eager on a sample: same numbers
        case = next(c for c in cases if c["id"] == cid)
        record(cid + "__eager", lambda c=case: oracle.run_eager(c))

    extras = {"load": {}, "make": {}, "get": {}}
    for req in request.get("load", []):
        extras["load"][req["id"]] = oracle.load_config(req)
    for req in request.get("make", []):
        try:
            extras["make"][req["id"]] = oracle.make(req)
        except Exception as exc:
            extras["make"][req["id"]] = {"error": _err(exc), "tb": traceback.format_exc()}
    for name in request.get("get", []):
        extras["get"][name] = oracle.get(name)

    np.savez(out_npz, **values)
    with open(out_json, "w") as f:
        json.dump(
            {
                "status": "ok",
                "keras_version": keras.__version__,
                "jax_version": jax.__version__,
                "backend": keras.backend.backend(),
                "x64": bool(jax.config.jax_enable_x64),
                "cases": meta,
                "extras": extras,
            },
            f,
            default=_json_default,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
