"""Keras oracle worker for ``tests/test_correlation.py``.

Run as a subprocess (it is not a test module; it needs Keras, the tests do not import it):

    KERAS_BACKEND=numpy KERAS_HOME=<tmp> \
        python keras_correlation_worker.py REQUEST.json ARRAYS.npz OUT.json OUT.npz

It imports Keras once, then runs the request's

* ``functions``: ``{"id", "fn", "yt", "yp", "axis"}``: ``keras.metrics.<fn>(y_true, y_pred,
  axis=axis)`` (``pearson_correlation`` or ``concordance_correlation``);
* ``streams``: the streams of ``tests/keras_metrics_worker.py`` (its ``run_stream``: a fresh
  ``keras.metrics.<metric>(**kwargs)`` fed the batches, ``result()`` recorded after each);
* ``configs``: class names whose default ``get_config()`` is returned.

Names refer to arrays of ``ARRAYS.npz``; an ``axis`` given as a list becomes a tuple. Output:
``OUT.json`` ``{"status": "ok", "keras_version", "backend", "results": {id: {"error", "dtype",
"shape"}}, "configs"}`` (or ``{"status": "skip", "reason"}`` when Keras cannot be imported) and
``OUT.npz`` with each result as float64 (a stream's results stacked per batch).

This file deliberately does not import regloss: it only knows Keras.
"""

import json
import sys
import warnings

import numpy as np

try:  # run as a script (the worker subprocess: tests/ is on sys.path)
    from keras_metrics_worker import _err, _jsonable, read_request, run_stream, skip_without_keras
except ImportError:  # imported as tests.keras_correlation_worker (pytest's doctest collection)
    from tests.keras_metrics_worker import _err, _jsonable, read_request, run_stream, skip_without_keras


def run_function(keras, case):
    function = getattr(keras.metrics, case["fn"])
    axis = tuple(case["axis"]) if isinstance(case["axis"], list) else case["axis"]
    value = np.asarray(keras.ops.convert_to_numpy(function(case["yt"], case["yp"], axis=axis)))
    return value.astype(np.float64), value.dtype.name


def main(argv):
    req_path, arr_path, out_json, out_npz = argv[1:5]
    try:
        import keras
        from keras.src.backend import set_keras_mask
    except Exception as exc:  # any import failure means "no oracle"
        return skip_without_keras(out_json, exc)
    request, arrays = read_request(req_path, arr_path)

    jobs = {
        case["id"]: lambda case=case: run_function(
            keras, {**case, "yt": arrays[case["yt"]], "yp": arrays[case["yp"]]}
        )
        for case in request.get("functions", [])
    }
    for stream in request.get("streams", []):
        jobs[stream["id"]] = lambda stream=stream: run_stream(keras, set_keras_mask, arrays, stream)
    meta, values = {}, {}
    for job_id, job in jobs.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 0 / 0 of constant rows
                values[job_id], dtype = job()
            meta[job_id] = {"error": None, "dtype": dtype, "shape": list(values[job_id].shape)}
        except Exception as exc:  # the parent decides what an error means
            meta[job_id] = {"error": _err(exc), "dtype": None, "shape": None}
    configs = {
        name: _jsonable(getattr(keras.metrics, name)().get_config()) for name in request.get("configs", [])
    }

    np.savez(out_npz, **values)
    with open(out_json, "w") as f:
        info = {"keras_version": keras.__version__, "backend": keras.backend.backend()}
        json.dump({"status": "ok", **info, "results": meta, "configs": configs}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
