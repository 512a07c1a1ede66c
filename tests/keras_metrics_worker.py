"""Keras oracle worker for ``tests/test_metrics_keras_oracle.py``.

Run as a subprocess (it is not a test module; it needs Keras, the tests do not import it):

    KERAS_BACKEND=numpy KERAS_HOME=<tmp> \
        python keras_metrics_worker.py REQUEST.json ARRAYS.npz OUT.json OUT.npz

It imports Keras once and feeds every requested stream of batches to a fresh ``keras.metrics``
object, batch by batch, recording ``result()`` after every batch.  A stream is
``{"id", "metric", "kwargs", "batches": [{"yt", "yp", "sw", "mask"}]}`` where each name refers to
an array of ``ARRAYS.npz`` (``sw`` and ``mask`` may be null).  A mask reaches Keras the only way
Keras takes one: attached to ``y_pred`` with ``keras.src.backend.set_keras_mask``.

Output:

* ``OUT.json``: ``{"status": "ok", "keras_version", "backend", "streams": {id: meta},
  "configs": {class name: get_config()}}`` where ``meta`` is ``{"error": None | "Type: message",
  "dtype", "shape"}`` (the shape of the stacked per-batch results); or ``{"status": "skip",
  "reason"}`` when Keras cannot be imported.
* ``OUT.npz``: per stream, the float64 results after each batch, stacked on a leading axis.

This file deliberately does not import regloss: it only knows Keras.
"""

import json
import sys
import warnings

import numpy as np


def _err(exc):
    return f"{type(exc).__name__}: {exc}"


def _kwargs(kwargs):
    out = dict(kwargs)
    if isinstance(out.get("axis"), list):
        out["axis"] = tuple(out["axis"])
    return out


def skip_without_keras(out_json, exc) -> int:
    """Write the "no oracle" answer (Keras or its backend could not be imported); exit status 0."""
    with open(out_json, "w") as f:
        json.dump({"status": "skip", "reason": f"cannot import keras: {_err(exc)}"}, f)
    return 0


def read_request(req_path, arr_path):
    """``(request, arrays)``: the JSON request and the named arrays of the ``.npz`` file."""
    with open(req_path) as f:
        request = json.load(f)
    with np.load(arr_path, allow_pickle=False) as npz:
        return request, {k: npz[k] for k in npz.files}


def _jsonable(obj):
    def default(value):
        if isinstance(value, np.generic):
            return value.item()
        return repr(value)

    return json.loads(json.dumps(obj, default=default))


def run_stream(keras, set_keras_mask, arrays, stream):
    metric = getattr(keras.metrics, stream["metric"])(**_kwargs(stream.get("kwargs", {})))
    results, dtype = [], None
    for batch in stream["batches"]:
        y_true = arrays[batch["yt"]].copy()
        y_pred = arrays[batch["yp"]].copy()  # a fresh array: a mask attached to it stays with it
        if batch.get("mask") is not None:
            set_keras_mask(y_pred, arrays[batch["mask"]])
        # a copy: on the NumPy backend Keras multiplies the mask into the weight in place
        weight = None if batch.get("sw") is None else arrays[batch["sw"]].copy()
        metric.update_state(y_true, y_pred, sample_weight=weight)
        value = np.asarray(metric.result())
        dtype = value.dtype.name
        results.append(value.astype(np.float64))
    return np.stack(results), dtype


def main(argv):
    req_path, arr_path, out_json, out_npz = argv[1:5]
    try:
        import keras
        from keras.src.backend import set_keras_mask
    except Exception as exc:  # any import failure means "no oracle"
        return skip_without_keras(out_json, exc)
    request, arrays = read_request(req_path, arr_path)

    meta, values = {}, {}
    for stream in request.get("streams", []):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # R2Score's adjusted-R2 fallbacks, 0/0
                value, dtype = run_stream(keras, set_keras_mask, arrays, stream)
        except Exception as exc:  # the parent decides what an error means
            meta[stream["id"]] = {"error": _err(exc), "dtype": None, "shape": None}
        else:
            meta[stream["id"]] = {"error": None, "dtype": dtype, "shape": list(value.shape)}
            values[stream["id"]] = value

    configs = {}
    for name in request.get("configs", []):
        try:
            configs[name] = _jsonable(getattr(keras.metrics, name)().get_config())
        except Exception as exc:
            configs[name] = {"error": _err(exc)}

    np.savez(out_npz, **values)
    with open(out_json, "w") as f:
        json.dump(
            {
                "status": "ok",
                "keras_version": keras.__version__,
                "backend": keras.backend.backend(),
                "streams": meta,
                "configs": configs,
            },
            f,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
