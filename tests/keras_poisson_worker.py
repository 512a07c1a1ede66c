"""Keras oracle worker for ``tests/test_poisson.py``: Keras 3's Poisson loss and metric.

Run as a subprocess, one Keras backend per process (it is not a test module; the tests never
import Keras):

    KERAS_BACKEND=numpy|jax|torch KERAS_HOME=<tmp> [JAX_ENABLE_X64=1 JAX_PLATFORMS=cpu] \
        python keras_poisson_worker.py REQUEST.json ARRAYS.npz OUT.json OUT.npz

Every name in the request refers to an array of ``ARRAYS.npz``, given to Keras as the NumPy array
it is (as a user would); the request holds:

* ``fn``: ``[{"id", "yt", "yp"}]``, ``keras.losses.poisson(yt, yp)``;
* ``cls``: ``[{"id", "kwargs", "yt", "yp", "sw", "sw_float"}]``,
  ``keras.losses.Poisson(**kwargs)(yt, yp, sample_weight=...)`` where the weight is the array
  ``sw``, the Python float ``sw_float`` or None;
* ``streams``: ``[{"id", "batches": [{"yt", "yp", "sw"}]}]``, a fresh ``keras.metrics.Poisson()``
  fed batch by batch, ``result()`` recorded after every batch (stacked);
* ``load``: ``[{"id", "config", "yt", "yp"}]``, a config (made by regloss) loaded with
  ``keras.losses.deserialize`` and ``keras.saving.deserialize_keras_object``, described and
  evaluated on ``yt, yp`` (a loss object, or a function);
* ``make``: ``[{"id", "kwargs", "yt", "yp"}]``, ``keras.losses.serialize(keras.losses.Poisson(**kwargs))``
  and its value on ``yt, yp``; ``id == "function"`` serializes ``keras.losses.poisson`` instead.

Output: ``OUT.json`` is ``{"status": "ok", "keras_version", "backend", "meta": {id: {"error":
None | "Type: message", "dtype", "shape"}}, "extras": {...}}`` (or ``{"status": "skip", "reason"}``
when Keras or its backend cannot be imported); ``OUT.npz`` the float64 value of every case that ran.
Load and make results are stored like cases, under ``load:<id>:<how>`` and ``make:<id>``.

This file deliberately does not import regloss: it only knows Keras.
"""

import json
import sys
import warnings

import numpy as np


def _err(exc):
    return f"{type(exc).__name__}: {exc}"


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
    def __init__(self, keras, arrays):
        self.keras, self.arrays = keras, arrays
        self.meta, self.values, self.extras = {}, {}, {}

    def record(self, cid, compute):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = _to_numpy(compute())
        except Exception as exc:  # the parent decides what an error means
            self.meta[cid] = {"error": _err(exc), "dtype": None, "shape": None}
            return
        self.meta[cid] = {"error": None, "dtype": value.dtype.name, "shape": list(value.shape)}
        self.values[cid] = value.astype(np.float64)

    def arr(self, key):
        return None if key is None else self.arrays[key].copy()

    def fn(self, case):
        self.record(case["id"], lambda: self.keras.losses.poisson(self.arr(case["yt"]), self.arr(case["yp"])))

    def cls(self, case):
        def compute():
            loss = self.keras.losses.Poisson(**case.get("kwargs", {}))
            weight = case.get("sw_float")
            if weight is None:
                weight = self.arr(case.get("sw"))
            return loss(self.arr(case["yt"]), self.arr(case["yp"]), sample_weight=weight)

        self.record(case["id"], compute)

    def stream(self, case):
        def compute():
            metric = self.keras.metrics.Poisson()
            results = []
            for batch in case["batches"]:
                metric.update_state(
                    self.arr(batch["yt"]), self.arr(batch["yp"]), sample_weight=self.arr(batch["sw"])
                )
                value = _to_numpy(metric.result())
                self.extras.setdefault("stream_dtypes", {})[case["id"]] = value.dtype.name
                results.append(value.astype(np.float64))
            return np.stack(results)

        self.record(case["id"], compute)

    def evaluate(self, obj, case):
        if isinstance(obj, self.keras.losses.Loss):
            return obj(self.arr(case["yt"]), self.arr(case["yp"]))
        return obj(self.arr(case["yt"]), self.arr(case["yp"]))

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
        out = {}
        for how, loader in (
            ("losses", keras.losses.deserialize),
            ("saving", keras.saving.deserialize_keras_object),
        ):
            key = f"load:{case['id']}:{how}"
            try:
                obj = loader(json.loads(json.dumps(case["config"])))
                out[how] = self.describe(obj)
            except Exception as exc:
                out[how] = {"error": _err(exc)}
                continue
            self.record(key, lambda obj=obj: self.evaluate(obj, case))
        self.extras.setdefault("load", {})[case["id"]] = out

    def make(self, case):
        keras = self.keras
        if case["id"] == "function":
            obj = keras.losses.poisson
        else:
            obj = keras.losses.Poisson(**case.get("kwargs", {}))
        self.extras.setdefault("make", {})[case["id"]] = _jsonable(keras.losses.serialize(obj))
        self.record(f"make:{case['id']}", lambda: self.evaluate(obj, case))


def main(argv):
    req_path, arr_path, out_json, out_npz = argv[1:5]
    try:
        import keras

        backend = keras.backend.backend()
        if backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
    except Exception as exc:  # any import failure means "no oracle"
        with open(out_json, "w") as f:
            json.dump({"status": "skip", "reason": f"cannot import keras: {_err(exc)}"}, f)
        return 0

    with open(req_path) as f:
        request = json.load(f)
    with np.load(arr_path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}

    runner = Runner(keras, arrays)
    for case in request.get("fn", []):
        runner.fn(case)
    for case in request.get("cls", []):
        runner.cls(case)
    for case in request.get("streams", []):
        runner.stream(case)
    for case in request.get("load", []):
        runner.load(case)
    for case in request.get("make", []):
        runner.make(case)
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
