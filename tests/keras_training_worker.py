"""Keras training with regloss losses, on the Keras backend named by ``KERAS_BACKEND``.

Run by tests/test_keras_training.py in a subprocess (Keras fixes its backend per process). Prints
one JSON object on the last line of stdout: ``{"skip": reason}`` when Keras or the backend's
library is missing, else the measured figures, which the parent test asserts on.

Two cases, each one multi-head Keras model so that one compiled evaluate and one compiled fit
cover every loss (on JAX each compile costs about a second):

(a) ``temporal``: inputs (B, T, F) whose trailing timesteps are all zeros -> ``Masking`` ->
    one ``TimeDistributed(Dense(1))`` head per loss; targets (B, T, 1); temporal weights (B, T).
(b) ``dense``: inputs (B, F) -> one ``Dense(4, sigmoid)`` head per loss; targets in [0, 1];
    per-sample weights (B,).

The heads of a case start from identical weights. Each loss appears twice: ``<loss>_regloss``
compiled with ``as_keras_loss(regloss loss)`` and ``<loss>_keras`` with Keras's loss of the same
name and arguments. Heads have separate parameters and Adam updates each parameter on its own, so
training the multi-head model trains every head as if it were alone: twin heads must report the
same ``evaluate`` losses, the same fit history and end at the same weights. More heads: the regloss
function ``mean_squared_error`` as it is, a raw regloss instance (no adapter) with the weights and
with all-one weights, NaN targets in masked timesteps, and a user ``Loss`` subclass.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _skip(reason: str) -> None:
    print(json.dumps({"skip": reason}))
    sys.exit(0)


def main() -> None:
    started = time.perf_counter()
    backend = os.environ.get("KERAS_BACKEND", "")
    try:
        __import__({"jax": "jax", "torch": "torch"}.get(backend, backend))
    except ImportError as error:
        _skip(f"the Keras backend {backend!r} needs a library that is missing: {error}")
    try:
        import keras
    except ImportError as error:
        _skip(f"keras is missing: {error}")
    import array_api_compat
    import numpy as np

    import regloss
    from regloss.keras import as_keras_loss

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    out = {"backend": keras.backend.backend(), "keras": keras.__version__, "cases": {}}

    class MeanCubedError(regloss.losses.Loss):
        """A user subclass: per-sample ``mean(|y_true - y_pred|**3)`` on any array library."""

        def call(self, y_true, y_pred):
            xp = array_api_compat.array_namespace(y_true, y_pred)
            return xp.mean(xp.abs(y_true - y_pred) ** 3, axis=-1)

    class KerasMeanCubedError(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return keras.ops.mean(keras.ops.abs(y_true - y_pred) ** 3, axis=-1)

    keras.saving.register_keras_serializable(package="worker")(MeanCubedError)

    # ------------------------------------------------------------------------------- data
    batch, steps, features = 24, 4, 3
    x_t = rng.normal(size=(batch, steps, features)).astype("float32")
    lengths = rng.integers(2, steps + 1, size=batch)
    present = np.arange(steps)[None, :] < lengths[:, None]  # (B, T); False = masked timestep
    x_t[~present] = 0.0  # Masking(mask_value=0.0) masks these timesteps
    y_t = (x_t @ rng.normal(size=(features, 1)) + 0.5 + 0.05 * rng.normal(size=(batch, steps, 1))).astype(
        "float32"
    )
    y_t_nan = y_t.copy()
    y_t_nan[~present] = np.nan
    sw_t = rng.uniform(0.2, 2.0, size=(batch, steps)).astype("float32")

    n_dense, f_dense, outputs = 64, 5, 4
    x_d = rng.normal(size=(n_dense, f_dense)).astype("float32")
    y_d = (1.0 / (1.0 + np.exp(-(x_d @ rng.normal(size=(f_dense, outputs)))))).astype("float32")
    sw_d = rng.uniform(0.2, 2.0, size=(n_dense,)).astype("float32")

    # ------------------------------------------ (label, regloss loss, Keras loss) per case
    # Tversky: Keras 3.15.1 weights false negatives by alpha, regloss by beta (core decision 1).
    pairs = {
        "temporal": [
            ("mse", regloss.losses.MeanSquaredError(), keras.losses.MeanSquaredError()),
            ("huber", regloss.losses.Huber(delta=0.5), keras.losses.Huber(delta=0.5)),
            ("log_cosh", regloss.losses.LogCosh(), keras.losses.LogCosh()),
        ],
        "dense": [
            ("mse", regloss.losses.MeanSquaredError(), keras.losses.MeanSquaredError()),
            ("huber", regloss.losses.Huber(delta=0.1), keras.losses.Huber(delta=0.1)),
            ("log_cosh", regloss.losses.LogCosh(), keras.losses.LogCosh()),
            (
                "tversky",
                regloss.losses.Tversky(alpha=0.3, beta=0.7, axis=-1),
                keras.losses.Tversky(alpha=0.7, beta=0.3, axis=-1),
            ),
            (
                "cubed_sum",
                MeanCubedError(name="cubed", reduction="sum"),
                KerasMeanCubedError(reduction="sum"),
            ),
        ],
    }
    setups = {
        "temporal": {"x": x_t, "y": y_t, "sw": sw_t, "batch_size": 12, "epochs": 8},
        "dense": {"x": x_d, "y": y_d, "sw": sw_d, "batch_size": 16, "epochs": 8},
    }

    def evaluate(model, x, targets, weights):
        found = model.evaluate(
            x, targets, sample_weight=weights, batch_size=len(x), verbose=0, return_dict=True
        )
        return {head: float(found[f"{head}_loss"]) for head in targets}

    def max_abs_difference(first_weights, second_weights):
        zipped = zip(first_weights, second_weights, strict=True)
        return max(float(np.max(np.abs(a - b))) for a, b in zipped)

    for case, case_pairs in pairs.items():
        setup = setups[case]
        x, y, sw = setup["x"], setup["y"], setup["sw"]
        losses, targets, weights = {}, {}, {}
        for label, regloss_loss, keras_loss in case_pairs:
            losses[f"{label}_regloss"] = as_keras_loss(regloss_loss)
            losses[f"{label}_keras"] = keras_loss
        losses["mse_function"] = regloss.losses.mean_squared_error  # a function, as it is
        losses["mse_raw_instance"] = regloss.losses.MeanSquaredError()  # no adapter: wrong with weights
        losses["mse_raw_instance_unweighted"] = regloss.losses.MeanSquaredError()
        losses["mse_keras_unweighted"] = keras.losses.MeanSquaredError()
        if case == "temporal":
            losses["mse_nan_targets_regloss"] = as_keras_loss(regloss.losses.MeanSquaredError())
            losses["mse_nan_targets_keras"] = keras.losses.MeanSquaredError()
        for head in losses:
            targets[head] = y_t_nan if "nan_targets" in head else y
            weights[head] = np.ones_like(sw) if head.endswith("unweighted") else sw

        inputs = keras.Input(x.shape[1:])
        if case == "temporal":
            masked = keras.layers.Masking(mask_value=0.0)(inputs)
            heads = {h: keras.layers.TimeDistributed(keras.layers.Dense(1), name=h)(masked) for h in losses}
        else:
            heads = {h: keras.layers.Dense(outputs, activation="sigmoid", name=h)(inputs) for h in losses}
        model = keras.Model(inputs, heads)
        first = model.get_layer(next(iter(losses))).get_weights()
        for head in losses:
            model.get_layer(head).set_weights(first)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss=losses)

        clock = time.perf_counter()
        initial = evaluate(model, x, targets, weights)
        seconds = {"evaluate": time.perf_counter() - clock}
        history = model.fit(
            x,
            targets,
            sample_weight=weights,
            batch_size=setup["batch_size"],
            epochs=setup["epochs"],
            shuffle=False,
            verbose=0,
        ).history
        seconds["fit"] = time.perf_counter() - clock - seconds["evaluate"]
        trained = evaluate(model, x, targets, weights)
        seconds["evaluate_again"] = time.perf_counter() - clock - seconds["evaluate"] - seconds["fit"]

        # Independent NumPy reference of Keras's masked, weighted MSE at the initial weights:
        # sum over present entries of mse * w, divided by the number of present entries.
        kernel, bias = first
        prediction = x @ kernel + bias
        if case == "dense":
            prediction = 1.0 / (1.0 + np.exp(-prediction))
        per_sample = np.mean((y.astype("float64") - prediction) ** 2, axis=-1)
        keep = present if case == "temporal" else np.ones(per_sample.shape, bool)
        numpy_mse = float(np.sum(np.where(keep, per_sample * sw, 0.0)) / np.sum(keep))

        # What Keras makes of a raw instance: the instance returns its reduced (masked, unweighted)
        # loss, a scalar; Keras multiplies that scalar by the weights (times total/present on
        # present entries under a mask) and divides by the count of entries.
        raw_prediction = initial["mse_keras_unweighted"] * float(
            np.sum(np.where(keep, sw, 0.0)) / np.sum(keep)
        )

        rows = []
        for label, regloss_loss, _ in case_pairs:
            mine, theirs = f"{label}_regloss", f"{label}_keras"
            mine_weights = model.get_layer(mine).get_weights()
            theirs_weights = model.get_layer(theirs).get_weights()
            rows.append(
                {
                    "loss": label,
                    "regloss": repr(regloss_loss),
                    "adapter_name": losses[mine].name,
                    "regloss_name": regloss_loss.name,
                    "initial_regloss": initial[mine],
                    "initial_keras": initial[theirs],
                    "trained_regloss": trained[mine],
                    "trained_keras": trained[theirs],
                    "history_regloss": history[f"{mine}_loss"],
                    "history_keras": history[f"{theirs}_loss"],
                    "weights_max_abs_difference": max_abs_difference(mine_weights, theirs_weights),
                }
            )
        out["cases"][case] = {
            "pairs": rows,
            "seconds": seconds,
            "numpy_reference_mse_initial": numpy_mse,
            "raw_instance_prediction": raw_prediction,
            "initial": initial,
            "trained": trained,
            "history": {head: history[f"{head}_loss"] for head in losses},
            "weights_finite": {
                head: all(bool(np.all(np.isfinite(w))) for w in model.get_layer(head).get_weights())
                for head in losses
            },
        }
        out.setdefault("seconds_after", {})[case] = time.perf_counter() - started

    # ---------------------------------------------- config, serialization, a saved model
    huber = as_keras_loss(regloss.losses.Huber(delta=0.25, reduction="sum", dtype="float32"))
    again = keras.losses.deserialize(json.loads(json.dumps(keras.losses.serialize(huber))))
    cubed = as_keras_loss(MeanCubedError(name="cubed", reduction="sum"))
    cubed_again = keras.losses.deserialize(json.loads(json.dumps(keras.losses.serialize(cubed))))
    out["config"] = {
        "name": again.name,
        "reduction": again.reduction,
        "dtype": again.dtype,
        "regloss_config": again.regloss_loss.get_config(),
        "original_regloss_config": huber.regloss_loss.get_config(),
        "from_config_regloss_config": type(huber).from_config(huber.get_config()).regloss_loss.get_config(),
        "subclass_type": type(cubed_again.regloss_loss).__name__,
        "subclass_config": cubed_again.regloss_loss.get_config(),
    }
    small = keras.Sequential([keras.Input((f_dense,)), keras.layers.Dense(1)])
    small.compile(optimizer="sgd", loss=huber)
    path = os.path.join(os.environ.get("KERAS_HOME", "."), "model.keras")
    small.save(path)
    loaded = keras.saving.load_model(path)
    out["saved_model"] = {
        "loss_type": type(loaded.loss).__name__,
        "regloss_config": loaded.loss.regloss_loss.get_config(),
    }
    out["seconds"] = time.perf_counter() - started
    print(json.dumps(out))


if __name__ == "__main__":
    main()
