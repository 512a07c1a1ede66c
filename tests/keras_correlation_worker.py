"""Keras oracle worker for ``tests/test_correlation.py``.

Run as a subprocess (it is not a test module; it needs Keras, the tests do not import it):

    KERAS_BACKEND=numpy KERAS_HOME=<tmp> \
        python keras_correlation_worker.py REQUEST.json ARRAYS.npz OUT.json OUT.npz

It imports Keras once, then:

* ``functions``: ``{"id", "fn", "yt", "yp", "axis"}``: ``keras.metrics.<fn>(y_true, y_pred,
  axis=axis)`` (``pearson_correlation`` or ``concordance_correlation``);
* ``streams``: ``{"id", "metric", "kwargs", "batches": [{"yt", "yp", "sw"}]}``: a fresh
  ``keras.metrics.<metric>(**kwargs)`` fed the batches one by one, ``result()`` recorded after each;
* ``configs``: class names whose default ``get_config()`` is returned.

Names refer to arrays of ``ARRAYS.npz`` (``sw`` may be null); an ``axis`` given as a list becomes a
tuple. Output: ``OUT.json`` ``{"status": "ok", "keras_version", "backend", "results": {id: {"error",
"dtype", "shape"}}, "configs"}`` (or ``{"status": "skip", "reason"}`` when Keras cannot be
imported) and ``OUT.npz`` with each result as float64 (a stream's results stacked per batch).

This file deliberately does not import regloss: it only knows Keras.
"""

import json
import sys
import warnings

import numpy as np


def _err(exc):
    return f"{type(exc).__name__}: {exc}"


def _axis(value):
    return tuple(value) if isinstance(value, list) else value


def _kwargs(kwargs):
    return {key: _axis(value) if key == "axis" else value for key, value in kwargs.items()}


def run_function(keras, arrays, case):
    function = getattr(keras.metrics, case["fn"])
    value = function(arrays[case["yt"]].copy(), arrays[case["yp"]].copy(), axis=_axis(case["axis"]))
    value = keras.ops.convert_to_numpy(value)
    return np.asarray(value).astype(np.float64), np.asarray(value).dtype.name


def run_stream(keras, arrays, stream):
    metric = getattr(keras.metrics, stream["metric"])(**_kwargs(stream.get("kwargs", {})))
    results, dtype = [], None
    for batch in stream["batches"]:
        weight = None if batch.get("sw") is None else arrays[batch["sw"]].copy()
        metric.update_state(arrays[batch["yt"]].copy(), arrays[batch["yp"]].copy(), sample_weight=weight)
        value = np.asarray(keras.ops.convert_to_numpy(metric.result()))
        dtype = value.dtype.name
        results.append(value.astype(np.float64))
    return np.stack(results), dtype


def main(argv):
    req_path, arr_path, out_json, out_npz = argv[1:5]
    try:
        import keras
    except Exception as exc:  # any import failure means "no oracle"
        with open(out_json, "w") as f:
            json.dump({"status": "skip", "reason": f"cannot import keras: {_err(exc)}"}, f)
        return 0

    with open(req_path) as f:
        request = json.load(f)
    with np.load(arr_path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}

    meta, values = {}, {}
    jobs = [(case, run_function) for case in request.get("functions", [])]
    jobs += [(stream, run_stream) for stream in request.get("streams", [])]
    for job, run in jobs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 0 / 0 of constant rows
                value, dtype = run(keras, arrays, job)
        except Exception as exc:  # the parent decides what an error means
            meta[job["id"]] = {"error": _err(exc), "dtype": None, "shape": None}
        else:
            meta[job["id"]] = {"error": None, "dtype": dtype, "shape": list(value.shape)}
            values[job["id"]] = value

    configs = {}
    for name in request.get("configs", []):
        config = getattr(keras.metrics, name)().get_config()
        configs[name] = {
            key: value if isinstance(value, str | int | None) else repr(value)
            for key, value in config.items()
        }

    np.savez(out_npz, **values)
    with open(out_json, "w") as f:
        json.dump(
            {
                "status": "ok",
                "keras_version": keras.__version__,
                "backend": keras.backend.backend(),
                "results": meta,
                "configs": configs,
            },
            f,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
