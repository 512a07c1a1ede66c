"""Keras worker for the per-backend probes of ``tests/test_keras_oracle.py`` (it is not a test module).

    KERAS_BACKEND=torch KERAS_HOME=<tmp> python keras_backends_worker.py REQUEST.json ARRAYS.npz OUT.json

Runs under any Keras backend (numpy, torch, jax). For each requested case it calls a Keras loss
function or class on backend tensors made from the stored arrays (cast to the case's dtype in
NumPy, with ml_dtypes for bfloat16) and records the result's dtype name and float64 values.
``tensor_kwargs`` are hyper-parameters passed as backend tensors (``keras.ops.convert_to_tensor``
of a float32 value), as a user passing ``delta=torch.tensor(1.0)`` would.

This file does not import regloss: it only knows Keras.
"""

import json
import sys

import numpy as np


def _np_dtype(name):
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


def main(argv):
    request_path, arrays_path, out_path = argv[1:4]
    import keras

    with open(request_path) as handle:
        request = json.load(handle)
    with np.load(arrays_path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    results = {}
    for case in request["cases"]:
        try:
            dtype = _np_dtype(case["dtype"])
            y_true = keras.ops.convert_to_tensor(arrays[case["yt"]].astype(dtype))
            y_pred = keras.ops.convert_to_tensor(arrays[case["yp"]].astype(dtype))
            kwargs = dict(case.get("kwargs", {}))
            if isinstance(kwargs.get("axis"), list):
                kwargs["axis"] = tuple(kwargs["axis"])
            for name, value in case.get("tensor_kwargs", {}).items():
                kwargs[name] = keras.ops.convert_to_tensor(np.float32(value))
            if case["kind"] == "fn":
                out = getattr(keras.losses, case["loss"])(y_true, y_pred, **kwargs)
            else:
                out = getattr(keras.losses, case["loss"])(**kwargs)(y_true, y_pred)
            value = keras.ops.convert_to_numpy(out)
            results[case["id"]] = {
                "error": None,
                "dtype": keras.backend.standardize_dtype(out.dtype),
                "value": np.asarray(value, dtype=np.float64).tolist(),
            }
        except Exception as error:  # the parent decides what an error means
            results[case["id"]] = {"error": f"{type(error).__name__}: {error}"}
    with open(out_path, "w") as handle:
        json.dump(
            {"keras_version": keras.__version__, "backend": keras.backend.backend(), "cases": results},
            handle,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
