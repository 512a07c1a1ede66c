"""TensorFlow oracle worker for ``tests/test_compat_tf_oracle.py`` (never imported by pytest).

Run by a Python that has ``tensorflow`` (e.g. ``tensorflow-cpu==2.21.0``):

    python tf_oracle_worker.py REQUEST.json ARRAYS.npz OUT.json OUT.npz

``REQUEST.json`` is ``{"cases": [{"id", "function", "kwargs", "mode"}]}``: ``function`` names a
function of ``tf.compat.v1.losses`` or ``"compute_average_loss"`` (``tf.nn``); in ``kwargs`` a value
``{"array": key}`` is the array ``key`` of ``ARRAYS.npz`` (dtype kept) and anything else is passed
as is. ``mode`` is ``"graph"`` (a fresh ``tf.Graph`` and ``Session``, as the TF1 tests run) or
``"eager"``. ``OUT.json`` holds, per case, ``{"error": None | [type name, message], "dtype",
"shape", "names"}`` (``names``: the tensor names in the ``losses`` collection, graph mode only);
``OUT.npz`` the float64 value of each successful case. This file does not import regloss.
"""

import json
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def main(request_path, arrays_path, out_json, out_npz):
    try:
        import tensorflow as tf
    except Exception as error:  # pragma: no cover - reported to the test, which skips
        with open(out_json, "w") as handle:
            json.dump({"status": "skip", "reason": f"tensorflow cannot be imported: {error!r}"}, handle)
        return
    tf.get_logger().setLevel("ERROR")
    with open(request_path) as handle:
        request = json.load(handle)
    arrays = dict(np.load(arrays_path))

    def function_of(name):
        if name == "compute_average_loss":
            return tf.nn.compute_average_loss
        return getattr(tf.compat.v1.losses, name)

    def arguments(kwargs):
        return {
            key: arrays[value["array"]] if isinstance(value, dict) and "array" in value else value
            for key, value in kwargs.items()
        }

    results, values = {}, {}
    for case in request["cases"]:
        function = function_of(case["function"])
        meta = {"error": None, "dtype": None, "shape": None, "names": None}
        try:
            if case["mode"] == "eager":
                kwargs = {
                    key: tf.constant(value) if isinstance(value, np.ndarray) else value
                    for key, value in arguments(case["kwargs"]).items()
                }
                value = function(**kwargs).numpy()
            else:
                graph = tf.Graph()
                with graph.as_default():
                    kwargs = {
                        key: tf.constant(value) if isinstance(value, np.ndarray) else value
                        for key, value in arguments(case["kwargs"]).items()
                    }
                    tensor = function(**kwargs)
                    meta["names"] = [t.name for t in graph.get_collection("losses")]
                    with tf.compat.v1.Session(graph=graph) as session:
                        value = session.run(tensor)
            value = np.asarray(value)
            meta["dtype"] = value.dtype.name
            meta["shape"] = list(value.shape)
            values[case["id"]] = value.astype(np.float64)
        except Exception as error:
            meta["error"] = [type(error).__name__, str(error)[:500]]
        results[case["id"]] = meta
    with open(out_json, "w") as handle:
        json.dump({"status": "ok", "tensorflow_version": tf.__version__, "cases": results}, handle)
    np.savez(out_npz, **values)


if __name__ == "__main__":
    try:
        main(*sys.argv[1:5])
    except Exception:
        traceback.print_exc()
        sys.exit(1)
