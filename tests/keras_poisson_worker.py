"""Keras oracle worker for ``tests/test_poisson.py``: Keras 3's Poisson loss and metric.

Run as a subprocess, one Keras backend per process (it is not a test module; the tests never
import Keras):

    KERAS_BACKEND=numpy|jax|torch KERAS_HOME=<tmp> [JAX_ENABLE_X64=1 JAX_PLATFORMS=cpu] \
        python keras_poisson_worker.py REQUEST.json ARRAYS.npz OUT.json OUT.npz

Every name in the request refers to an array of ``ARRAYS.npz``, given to Keras as the NumPy array
it is (as a user would); the request holds:

* ``fn``: ``[{"id", "yt", "yp"}]``, ``keras.losses.poisson(yt, yp)``;
* ``cls``: ``[{"id", "kwargs", "yt", "yp", "sw", "sw_float", "eager"}]``,
  ``keras.losses.Poisson(**kwargs)(yt, yp, sample_weight=...)`` where the weight is the array
  ``sw``, the Python float ``sw_float`` or None; ``eager`` marks the cases expected to raise;
* ``streams``: ``[{"id", "batches": [{"yt", "yp", "sw"}]}]``, a fresh ``keras.metrics.Poisson()``
  fed batch by batch through its stateless API (``stateless_update_state`` /
  ``stateless_result``: the arithmetic of ``update_state`` / ``result``), the result after every
  batch stacked; the first stream also through ``update_state`` / ``result`` (as ``<id>:stateful``,
  not on JAX, where eager metric updates compile every op of every batch);
* ``load``: ``[{"id", "config", "yt", "yp"}]``, a config (made by regloss) loaded with
  ``keras.losses.deserialize`` and ``keras.saving.deserialize_keras_object``, described
  (``extras["load"]``) and evaluated on ``yt, yp`` (as ``load:<id>:<losses|saving>``);
* ``make``: ``[{"id", "kwargs", "yt", "yp"}]``, ``keras.losses.serialize`` of
  ``keras.losses.Poisson(**kwargs)`` (``extras["make"]``) and its value on ``yt, yp`` (as
  ``make:<id>``); ``id == "function"`` serializes ``keras.losses.poisson`` instead.

On the JAX backend (x64 on) the cases of each section are evaluated in ONE ``jax.jit`` (eager JAX
compiles every small op for every shape: seconds); the parent sets
``XLA_FLAGS=--xla_allow_excess_precision=false`` so float16 intermediates are rounded as in eager
execution.  The NumPy and torch backends run every case eagerly.

Output: ``OUT.json`` is ``{"status": "ok", "keras_version", "backend", "meta": {id: {"error":
None | "Type: message", "dtype", "shape"}}, "extras": {"load", "make", "metric_config"}}`` (or
``{"status": "skip", "reason"}`` when Keras or its backend cannot be imported); ``OUT.npz`` the
float64 value of every case that ran, under its id with ``:`` written ``__``.

This file deliberately does not import regloss: it only knows Keras.
"""

import json
import sys
import warnings

import numpy as np

try:  # run as a script (the worker subprocess: tests/ is on sys.path)
    from keras_metrics_worker import _err, read_request, skip_without_keras
except ImportError:  # imported as tests.keras_poisson_worker (pytest's doctest collection)
    from tests.keras_metrics_worker import _err, read_request, skip_without_keras


def _jsonable(obj):
    def default(value):
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, tuple):
            return list(value)
        return repr(value)

    return json.loads(json.dumps(obj, default=default))


def _to_numpy(value):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class Runner:
    """Evaluates the request's cases.  On JAX, a section's cases run in one ``jax.jit``; a section
    whose batch fails is run case by case, so each error is attributed to its case.  Cases marked
    eager (those expected to raise) always run one by one, on JAX traced first with
    ``jax.eval_shape`` (a shape error found without compiling)."""

    def __init__(self, keras, arrays, backend):
        self.keras, self.arrays, self.backend = keras, arrays, backend
        self.meta, self.values, self.extras = {}, {}, {}

    def store(self, cid, value):
        value = _to_numpy(value)
        self.meta[cid] = {"error": None, "dtype": value.dtype.name, "shape": list(value.shape)}
        self.values[cid] = value.astype(np.float64)

    def fail(self, cid, exc):
        self.meta[cid] = {"error": _err(exc), "dtype": None, "shape": None}

    def run(self, prepared):
        """``prepared``: ``[(id, args, pure function of args, eager)]``; stores every result."""
        eager = [p for p in prepared if p[3]]
        batch = [p for p in prepared if not p[3]]
        if self.backend == "jax" and batch:
            import jax

            def together(all_args):
                return [fn(*args) for (_, _, fn, _), args in zip(batch, all_args, strict=True)]

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    outs = jax.jit(together)([args for _, args, _, _ in batch])
            except Exception:  # find the culprit: case by case
                eager = eager + batch
            else:
                for (cid, _, _, _), out in zip(batch, outs, strict=True):
                    self.store(cid, out)
        else:
            eager = eager + batch
        for cid, args, fn, _ in eager:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if self.backend == "jax":
                        import jax

                        jax.eval_shape(fn, *args)  # a shape error, found by tracing, compiles nothing
                    out = fn(*args)
            except Exception as exc:  # the parent decides what an error means
                self.fail(cid, exc)
            else:
                self.store(cid, out)

    def arr(self, key):
        return None if key is None else self.arrays[key].copy()

    def fn(self, case):
        return case["id"], (self.arr(case["yt"]), self.arr(case["yp"])), self.keras.losses.poisson, False

    def cls(self, case):
        loss = self.keras.losses.Poisson(**case.get("kwargs", {}))
        w_float = case.get("sw_float")

        def compute(y_true, y_pred, weight):
            return loss(y_true, y_pred, sample_weight=w_float if w_float is not None else weight)

        args = (self.arr(case["yt"]), self.arr(case["yp"]), self.arr(case.get("sw")))
        return case["id"], args, compute, bool(case.get("eager"))

    def stream(self, case):
        """A fresh ``keras.metrics.Poisson()`` fed batch by batch, through its stateless API (the
        same arithmetic as ``update_state``/``result``, and a pure function for ``jax.jit``)."""
        metric = self.keras.metrics.Poisson()
        ops = self.keras.ops

        def compute(*flat):
            variables = [v.value for v in metric.variables]
            results = []
            for i in range(0, len(flat), 3):
                y_true, y_pred, weight = flat[i : i + 3]
                variables = metric.stateless_update_state(variables, y_true, y_pred, sample_weight=weight)
                results.append(metric.stateless_result(variables))
            return ops.stack(results)

        flat = []
        for b in case["batches"]:
            flat += [self.arr(b["yt"]), self.arr(b["yp"]), self.arr(b["sw"])]
        return case["id"], tuple(flat), compute, False

    def stream_stateful(self, case):
        """The first stream also through ``update_state``/``result``, eagerly, as a user would."""
        metric = self.keras.metrics.Poisson()
        results = []
        try:
            for b in case["batches"]:
                metric.update_state(self.arr(b["yt"]), self.arr(b["yp"]), sample_weight=self.arr(b["sw"]))
                results.append(_to_numpy(metric.result()))
        except Exception as exc:
            self.fail(case["id"] + ":stateful", exc)
            return
        self.store(case["id"] + ":stateful", np.stack(results))

    def describe(self, obj):
        if isinstance(obj, self.keras.losses.Loss):
            return {
                "type": "class",
                "class_name": type(obj).__name__,
                "name": obj.name,
                "reduction": obj.reduction,
                "dtype": obj.dtype,
                "config": _jsonable(obj.get_config()),
            }
        return {"type": "function", "name": getattr(obj, "__name__", repr(obj))}

    def load(self, case):
        keras = self.keras
        out, prepared = {}, []
        for how, loader in (
            ("losses", keras.losses.deserialize),
            ("saving", keras.saving.deserialize_keras_object),
        ):
            try:
                obj = loader(json.loads(json.dumps(case["config"])))
                out[how] = self.describe(obj)
            except Exception as exc:
                out[how] = {"error": _err(exc)}
                continue
            prepared.append(
                (f"load:{case['id']}:{how}", (self.arr(case["yt"]), self.arr(case["yp"])), obj, False)
            )
        self.extras.setdefault("load", {})[case["id"]] = out
        return prepared

    def make(self, case):
        keras = self.keras
        obj = (
            keras.losses.poisson
            if case["id"] == "function"
            else keras.losses.Poisson(**case.get("kwargs", {}))
        )
        self.extras.setdefault("make", {})[case["id"]] = _jsonable(keras.losses.serialize(obj))
        return f"make:{case['id']}", (self.arr(case["yt"]), self.arr(case["yp"])), obj, False


def main(argv):
    req_path, arr_path, out_json, out_npz = argv[1:5]
    try:
        import keras

        backend = keras.backend.backend()
        if backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
    except Exception as exc:  # any import failure means "no oracle"
        return skip_without_keras(out_json, exc)
    request, arrays = read_request(req_path, arr_path)

    runner = Runner(keras, arrays, backend)
    runner.run([runner.fn(case) for case in request.get("fn", [])])
    runner.run([runner.cls(case) for case in request.get("cls", [])])
    streams = request.get("streams", [])
    runner.run([runner.stream(case) for case in streams])
    if streams and backend != "jax":  # eager JAX would compile every op of every batch: seconds
        runner.stream_stateful(streams[0])
    prepared = [p for case in request.get("load", []) for p in runner.load(case)]
    runner.run(prepared + [runner.make(case) for case in request.get("make", [])])
    try:
        runner.extras["metric_config"] = _jsonable(keras.metrics.Poisson().get_config())
    except Exception as exc:
        runner.extras["metric_config"] = {"error": _err(exc)}

    np.savez(out_npz, **{k.replace(":", "__"): v for k, v in runner.values.items()})
    with open(out_json, "w") as f:
        json.dump(
            {
                "status": "ok",
                "keras_version": keras.__version__,
                "backend": backend,
                "meta": runner.meta,
                "extras": runner.extras,
            },
            f,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
