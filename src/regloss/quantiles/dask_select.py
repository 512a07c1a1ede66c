"""Exact quantiles of ``|y_pred - y_true|`` over Dask chunks: :mod:`regloss.quantiles.radix`'s
passes as task graphs; and scikit-learn's D² pinball score, its denominator from the exact
``alpha`` quantile of ``y_true`` (:func:`d2_pinball`).

Each of the 4 passes is one graph: a task per row chunk reads that chunk (``y_true``, ``y_pred``
and the weights: re-read from their source in every pass, unless :func:`persist_if_fits` kept them)
and returns its histogram partial (2**16 int64 counts and 2**16 float64 weight sums per output:
1 MiB per output), and a tree of merges of at most ``split_every`` partials brings them to the
client, which picks the next digit. Memory per worker: the chunks it reads plus about
``split_every + 1`` MiB per output per running task, whatever the number of rows.

The weight of a row is ``sample_weight * (mask != 0)`` (either may be absent).
"""

from __future__ import annotations

import functools
import math
import os

import dask
import numpy as np

from . import radix

PERSIST_FRACTION = 0.25
"""The arrays are persisted before the passes when their bytes are at most this fraction of the
memory: the ``distributed`` client's workers' memory limits together, else the machine's available
memory."""


def _memory() -> float:
    """The memory the arrays may be persisted into (bytes; 0 where unknown)."""
    try:
        from distributed import default_client

        workers = default_client().scheduler_info()["workers"].values()
        return float(sum(worker.get("memory_limit") or 0 for worker in workers))
    except (ImportError, ValueError):  # no distributed, or no client: this machine
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0.0


def persist_if_fits(aligned: dict) -> tuple[dict, bool]:
    """``(arrays, persisted)``: the Dask arrays ``aligned`` persisted (computed once and kept in
    memory, so that every later pass reads them there) when their known size is at most
    :data:`PERSIST_FRACTION` of :func:`_memory`; else unchanged (re-read in every pass)."""
    size = sum(float(array.nbytes) for array in aligned.values())
    if not math.isfinite(size) or size > PERSIST_FRACTION * _memory():
        return aligned, False
    return dict(zip(aligned, dask.persist(*aligned.values()), strict=True)), True


def _errors_and_weights(true, pred, weight, mask):
    true = np.asarray(true, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    errors = np.abs(pred - true)
    errors = errors.reshape(errors.shape[0], -1) if errors.ndim != 1 else errors[:, None]
    weights = None
    if weight is not None:
        weights = np.asarray(weight, dtype=np.float64).reshape(-1)
    if mask is not None:
        kept = (np.asarray(mask).reshape(-1) != 0).astype(np.float64)
        weights = kept if weights is None else weights * kept
    return errors, weights


def _chunk_partial(prefixes, level, true, pred, weight=None, mask=None):
    errors, weights = _errors_and_weights(true, pred, weight, mask)
    return radix.histogram(radix.keys_of(errors), weights, prefixes, level)


def _merge_all(merge, *partials):
    total = partials[0]
    for partial in partials[1:]:
        total = merge(total, partial)
    return total


def _reduce(aligned: dict, chunk, merge, split_every: int):
    """``chunk(y_true, y_pred, sample_weight, mask)`` of every row chunk (None for an absent
    input), tree-merged with ``merge`` (at most ``split_every`` at a time) and computed."""
    names = [name for name in ("y_true", "y_pred", "sample_weight", "mask") if name in aligned]
    blocks = {name: aligned[name].to_delayed().ravel() for name in names}
    task = dask.delayed(chunk, pure=True)
    parts = [
        task(
            *[
                blocks[name][index] if name in blocks else None
                for name in ("y_true", "y_pred", "sample_weight", "mask")
            ]
        )
        for index in range(len(blocks["y_pred"]))
    ]
    combine = dask.delayed(functools.partial(_merge_all, merge), pure=True)
    while len(parts) > 1:
        parts = [combine(*parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    (total,) = dask.compute(parts[0])
    return total


def exact_quantile(aligned: dict, q: float, outputs: int, split_every: int, weight_number=None):
    """The ``q`` quantile of ``|y_pred - y_true|`` per output (a float64 NumPy array) of the
    row-aligned Dask arrays ``aligned`` (``y_true``, ``y_pred``, optional ``sample_weight`` 1-D and
    ``mask`` 1-D), in :data:`radix.PASSES` computations. ``weight_number``: the number every row
    weighs when ``sample_weight`` was one (a positive one changes no quantile; zero or less: NaN)."""
    weighted = "sample_weight" in aligned or "mask" in aligned
    if weight_number is not None and weight_number <= 0:
        return np.full(outputs, np.nan)  # no row weighs anything

    def scan(prefixes, level):
        chunk = functools.partial(_chunk_partial, prefixes, level)
        return _reduce(aligned, chunk, radix.merge, split_every)

    return radix.select(scan, q, outputs, weighted)


def _chunk_sketch(layout, true, pred, weight=None, mask=None):
    errors, weights = _errors_and_weights(true, pred, weight, mask)
    if weights is not None:
        weights = np.broadcast_to(weights[:, None], errors.shape)
    return layout.add(layout.new_state(), errors, weights)


def sketch_state(aligned: dict, layout, split_every: int) -> dict:
    """The merged :mod:`regloss.quantiles.sketch` state of every element's ``|y_pred - y_true|``
    (the outputs pooled, as :class:`~regloss.metrics.AbsoluteErrorQuantile`), in one pass."""
    return _reduce(aligned, functools.partial(_chunk_sketch, layout), layout.merge, split_every)


def _chunk_true_partial(prefixes, level, true, pred, weight=None, mask=None):
    true = np.asarray(true, dtype=np.float64)
    _, weights = _errors_and_weights(true, pred, weight, mask)
    keys = radix.signed_keys(true.reshape(true.shape[0], -1))
    return radix.histogram(keys, weights, prefixes, level, radix.SIGNED_INFINITY_KEY)


def true_quantile(aligned: dict, alpha: float, outputs: int, split_every: int) -> np.ndarray:
    """The weighted ``alpha`` quantile of ``y_true`` per output (scikit-learn's averaged inverted
    CDF, as :func:`exact_quantile` but over signed values: :func:`radix.signed_keys`)."""
    weighted = "sample_weight" in aligned or "mask" in aligned

    def scan(prefixes, level):
        chunk = functools.partial(_chunk_true_partial, prefixes, level)
        return _reduce(aligned, chunk, radix.merge, split_every)

    return radix.select(scan, alpha, outputs, weighted, radix.signed_value)


def _pinball(difference, alpha):
    return alpha * np.maximum(difference, 0.0) + (1 - alpha) * np.maximum(-difference, 0.0)


def _chunk_pinball_sums(quantiles, alpha, true, pred, weight=None, mask=None):
    true = np.asarray(true, dtype=np.float64)
    true = true.reshape(true.shape[0], -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(true.shape)
    _, weights = _errors_and_weights(true, pred, weight, mask)
    weights = np.ones(true.shape[0]) if weights is None else weights
    return {
        "model": weights @ _pinball(true - pred, alpha),
        "quantile": weights @ _pinball(true - quantiles[None, :], alpha),
        "rows": true.shape[0],
    }


def _add_sums(a: dict, b: dict) -> dict:
    return {name: a[name] + b[name] for name in a}


def d2_pinball(aligned: dict, alpha: float, outputs: int, split_every: int) -> np.ndarray:
    """scikit-learn's ``d2_pinball_score`` per output, in 5 computations: the 4 passes of the
    weighted ``alpha`` quantile ``Q`` of ``y_true`` (:func:`true_quantile`), then one of the
    weighted sums ``N = sum w L(y_true - y_pred)`` and ``D = sum w L(y_true - Q)`` with
    ``L(d) = alpha max(d, 0) + (1 - alpha) max(-d, 0)``:

        D2 = 1 - N / D      (N != 0, D != 0);  0 (N != 0, D = 0);  1 (N = 0)

    NaN for all outputs below 2 rows (scikit-learn's "not well-defined")."""
    quantiles = true_quantile(aligned, alpha, outputs, split_every)
    sums = _reduce(aligned, functools.partial(_chunk_pinball_sums, quantiles, alpha), _add_sums, split_every)
    if sums["rows"] < 2:
        return np.full(outputs, np.nan)
    model, baseline = sums["model"], sums["quantile"]
    scores = np.ones(outputs)
    valid = (model != 0) & (baseline != 0)
    scores[valid] = 1 - model[valid] / baseline[valid]
    scores[(model != 0) & (baseline == 0)] = 0.0
    return scores
