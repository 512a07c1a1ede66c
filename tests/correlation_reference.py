"""An independent float64 reference of Keras 3's per-row correlations (nothing here imports regloss).

Each row (the elements along ``axis``) is taken on its own, in a Python loop, and its coefficient
computed with NumPy's own statistics, from the textbook definitions:

* Pearson: ``numpy.corrcoef(t, p)[0, 1]``; NaN when ``t`` or ``p`` has one distinct value
  (``0 / 0``: the rule regloss documents, and what Keras 3.15.1 returns);
* Lin's concordance, population moments and Keras's ``eps`` in the denominator:
  ``2 cov(t, p) / (var(t) + var(p) + (mean(t) - mean(p))**2 + eps)``, with
  ``cov = numpy.cov(t, p, bias=True)[0, 1]`` and ``var = numpy.var``.

A 1-D input is one row, as Keras's functions take it (the streaming metrics read a 1-D batch as
``(B, 1)``: :func:`tests.metrics_reference.ref_mean_metric` reshapes it first).
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7


def _pearson(t, p, eps):
    if np.all(t == t[0]) or np.all(p == p[0]):
        return np.nan
    return np.corrcoef(t, p)[0, 1]


def _concordance(t, p, eps):
    covariance = np.cov(t, p, bias=True)[0, 1]
    return 2.0 * covariance / (np.var(t) + np.var(p) + (t.mean() - p.mean()) ** 2 + eps)


COEFFICIENTS = {"pearson_correlation": _pearson, "concordance_correlation": _concordance}


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(int(a) % ndim for a in items))


def ref_row_coefficients(name, y_true, y_pred, axis=-1, *, eps=EPSILON):
    """The coefficient ``name`` of every row of ``y_true`` and ``y_pred`` (one shape), float64,
    of the inputs' shape without ``axis``."""
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    assert t.shape == p.shape, (t.shape, p.shape)
    axes = _axes(axis, t.ndim)
    kept = [a for a in range(t.ndim) if a not in axes]
    out_shape = tuple(t.shape[a] for a in kept)
    rows_t = np.moveaxis(t, axes, range(t.ndim - len(axes), t.ndim)).reshape(out_shape + (-1,))
    rows_p = np.moveaxis(p, axes, range(p.ndim - len(axes), p.ndim)).reshape(out_shape + (-1,))
    flat_t, flat_p = rows_t.reshape(-1, rows_t.shape[-1]), rows_p.reshape(-1, rows_p.shape[-1])
    coefficient = COEFFICIENTS[name]
    values = np.array([coefficient(a, b, eps) for a, b in zip(flat_t, flat_p, strict=True)])
    return values.reshape(out_shape)


def ref_dataset_coefficient(kind: str, t, p, w=None) -> float:
    """torchmetrics's dataset-level ``PearsonCorrCoef`` (``kind="pearson"``) or
    ``ConcordanceCorrCoef`` (``"ccc"``) of two 1-D columns, two passes in float64 (means first, then
    centred sums), ``w`` frequency weights (a weight of 2 counts a row twice)::

        r   = sum(w dt dp) / sqrt(sum(w dt**2) sum(w dp**2))        dt = t - mean_w(t)
        ccc = 2 r st sp / (st**2 + sp**2 + (mean t - mean p)**2)     st**2 = sum(w dt**2) / (n - 1)

    NaN where the rows of non-zero weight hold one distinct value of ``t`` or ``p`` (fewer than
    two rows included), and for ``ccc`` where ``n = sum(w) <= 1``."""
    t, p = np.asarray(t, np.float64), np.asarray(p, np.float64)
    w = np.ones_like(t) if w is None else np.broadcast_to(np.asarray(w, np.float64), t.shape)
    kept = w != 0
    if not kept.any() or np.all(t[kept] == t[kept][0]) or np.all(p[kept] == p[kept][0]):
        return np.nan
    n = np.sum(w)
    mean_t, mean_p = np.sum(w * t) / n, np.sum(w * p) / n
    # one refinement step (the corrected two-pass mean: its rounding is at the scale of the spread)
    mean_t, mean_p = mean_t + np.sum(w * (t - mean_t)) / n, mean_p + np.sum(w * (p - mean_p)) / n
    dt, dp = t - mean_t, p - mean_p
    stt, spp, stp = np.sum(w * dt * dt), np.sum(w * dp * dp), np.sum(w * dt * dp)
    r = float(np.clip(stp / np.sqrt(stt * spp), -1.0, 1.0))
    if kind == "pearson":
        return r
    if n <= 1:
        return np.nan
    vt, vp = stt / (n - 1), spp / (n - 1)
    difference = np.sum(w * (t - p)) / n  # mean(t) - mean(p), without two large means cancelling
    return float(2 * r * np.sqrt(vt) * np.sqrt(vp) / (vt + vp + difference**2))
