"""An independent float64 reference for the streaming metrics of ``regloss.metrics``.

Nothing here imports regloss.  The per-sample values come from :mod:`tests.reference` (the float64
reference of the losses); this module adds what a streaming metric does with them, written from
the rules of Keras 3's ``Mean`` metric and ``R2Score`` (and regloss's documented choices):

* a batch is ``(y_true, y_pred, sample_weight, mask)`` of NumPy arrays (weight and mask may be
  None); the mask is per-sample (the shape of the per-sample values), non-zero meaning present,
  and multiplies into the weight, a weight of lower rank aligned with the mask's leading axes;
* mean metrics: a 1-D batch of ``B`` values is ``B`` samples of one output, ``(B, 1)`` (regloss's
  documented choice; ``keras_1d=True`` gives Keras's reading, one sample whose value is the mean
  of the batch); ``RootMeanSquaredError`` takes every element as a value (Keras's rule: its
  squared errors are not averaged over the last axis before a weight of the inputs' shape
  weighs them); the weight is reconciled with the per-sample values (Keras's squeeze-or-expand of
  a trailing 1), the values are averaged over the axes the weight lacks, multiplied by the weight
  (broadcast), then every sample's weighted value and weight is averaged over its non-batch axes;
  the result is the sum of those values over the sum of those weights (an unweighted batch counts
  weight 1 per sample), 0 when nothing was counted;
* R2: everything is concatenated and computed by the two-pass formula
  ``SST_j = sum(w (y_j - ybar_j)**2)`` (not the one-pass sums the metric keeps).
"""

from __future__ import annotations

import numpy as np

from tests._cases import LOSSES
from tests.correlation_reference import COEFFICIENTS, ref_row_coefficients
from tests.reference import ref_per_sample

# regloss class name -> (per-sample reference name, sign, root): the mean of every loss of the
# test table that has a metric, then the metric-only rows that are means of per-sample values.
MEAN_METRICS = {
    **{
        # the CosineSimilarity metric is +cos, the loss -cos
        case.metric: (case.function, -1.0 if case.function == "cosine_similarity" else 1.0, False)
        for case in LOSSES
        if case.metric
    },
    "RootMeanSquaredError": ("mean_squared_error", 1.0, True),
    "PearsonCorrelation": ("pearson_correlation", 1.0, False),  # tests/correlation_reference.py
    "ConcordanceCorrelation": ("concordance_correlation", 1.0, False),
}


def _f64(x):
    return None if x is None else np.asarray(x, dtype=np.float64)


def combined_weight(sample_weight, mask):
    """``sample_weight * (mask != 0)`` with a lower-rank factor aligned on the leading axes."""
    weight = _f64(sample_weight)
    if mask is None:
        return weight
    present = (np.asarray(mask) != 0).astype(np.float64)
    if weight is None:
        return present
    if weight.ndim and present.ndim:
        rank = max(weight.ndim, present.ndim)
        weight = weight.reshape(weight.shape + (1,) * (rank - weight.ndim))
        present = present.reshape(present.shape + (1,) * (rank - present.ndim))
    return weight * present


def _reconcile(weight, values):
    """Keras's squeeze-or-expand of the weight against the values (a trailing 1, rank +-1)."""
    if weight.ndim == values.ndim + 1 and weight.shape[-1] == 1:
        return weight[..., 0]
    if values.ndim == weight.ndim + 1 and values.shape[-1] == 1:
        return weight[..., None]
    return weight


def batch_contribution(values, weight):
    """``(weighted value sum, weight sum)`` that one batch adds to a mean metric."""
    values = _f64(values)
    if weight is None:
        if values.ndim == 0:
            return float(values), 1.0
        per_sample = values.reshape(values.shape[0], -1).mean(axis=1)
        return float(per_sample.sum()), float(values.shape[0])
    weight = _reconcile(_f64(weight), values)
    k = weight.ndim
    if values.ndim > k:
        values = values.mean(axis=tuple(range(k, values.ndim)))
    weight = np.broadcast_to(weight, values.shape)
    weighted = values * weight
    if k == 0:
        return float(weighted), float(weight)
    total = weighted.reshape(weighted.shape[0], -1).mean(axis=1).sum()
    count = weight.reshape(weight.shape[0], -1).mean(axis=1).sum()
    return float(total), float(count)


ELEMENTWISE = {"RootMeanSquaredError"}
"""Metrics whose values are the elements themselves (Keras's ``RootMeanSquaredError``)."""


def per_sample_values(metric, y_true, y_pred, **params):
    """The per-sample values of a mean metric (float64), with the metric's sign."""
    name, sign, _ = MEAN_METRICS[metric]
    t, p = _f64(y_true), _f64(y_pred)
    if name in COEFFICIENTS:  # tests/correlation_reference.py
        return ref_row_coefficients(name, t, p, **params)
    if metric in ELEMENTWISE:  # every element a sample of one output
        t, p = t[..., None], p[..., None]
    values, _ = ref_per_sample(name, t, p, **params)
    return sign * values


def ref_mean_metric(metric, batches, *, keras_1d=False, **params):
    """The mean metric ``metric`` (a regloss class name) of a stream of batches, float64; a 1-D
    batch is ``(B, 1)``, or with ``keras_1d`` one sample (Keras's mean of batch means)."""
    total = count = 0.0
    for y_true, y_pred, sample_weight, mask in batches:
        if not keras_1d and np.ndim(y_true) == 1 and np.ndim(y_pred) == 1:
            y_true, y_pred = np.reshape(y_true, (-1, 1)), np.reshape(y_pred, (-1, 1))
        values = per_sample_values(metric, y_true, y_pred, **params)
        t, c = batch_contribution(values, combined_weight(sample_weight, mask))
        total += t
        count += c
    mean = total / count if count != 0 else 0.0
    return float(np.sqrt(mean)) if MEAN_METRICS[metric][2] else float(mean)


def ref_r2(batches, class_aggregation="uniform_average", num_regressors=0):
    """R2 of a stream of batches of shape (B,) or (B, D), float64, by the two-pass formula.

    ``n`` for the adjusted score is the number of rows with a non-zero weight (regloss's rule).
    """
    trues, preds, weights = [], [], []
    for y_true, y_pred, sample_weight, mask in batches:
        t, p = _f64(y_true), _f64(y_pred)
        if t.ndim == 1:
            t, p = t[:, None], p[:, None]
        w = combined_weight(sample_weight, mask)
        if w is None:
            w = np.ones(t.shape)
        elif w.ndim == 1:
            w = w[:, None]
        trues.append(t)
        preds.append(p)
        weights.append(np.broadcast_to(w, t.shape))
    t, p, w = np.concatenate(trues), np.concatenate(preds), np.concatenate(weights)
    with np.errstate(all="ignore"):
        mean = (w * t).sum(axis=0) / w.sum(axis=0)
        sst = (w * (t - mean) ** 2).sum(axis=0)
        ssr = (w * (t - p) ** 2).sum(axis=0)
        scores = 1.0 - ssr / sst
    scores = np.where(np.isinf(scores), 0.0, scores)
    if class_aggregation == "uniform_average":
        scores = scores.mean()
    elif class_aggregation == "variance_weighted_average":
        with np.errstate(all="ignore"):  # 0 / 0 where no output varies: NaN, as in Keras
            scores = (sst * scores).sum() / sst.sum()
    n = int(np.count_nonzero(np.any(w != 0, axis=1)))
    if num_regressors and n - num_regressors - 1 > 0:
        scores = 1.0 - (1.0 - scores) * (n - 1) / (n - num_regressors - 1)
    return np.asarray(scores, dtype=np.float64)


def r2_amplification(batches):
    """How much R2 amplifies a relative rounding error of the one-pass sums it is computed from:
    ``max_j |1 - r2_j| * Q_j / SST_j`` (``Q_j = sum(w y_j**2)``).  Keras keeps those sums in
    float32, so its R2 is only accurate to about ``float32 eps`` times this."""
    trues, weights = [], []
    for y_true, _, sample_weight, mask in batches:
        t = _f64(y_true)
        t = t[:, None] if t.ndim == 1 else t
        w = combined_weight(sample_weight, mask)
        w = np.ones(t.shape) if w is None else (w[:, None] if w.ndim == 1 else w)
        trues.append(t)
        weights.append(np.broadcast_to(w, t.shape))
    t, w = np.concatenate(trues), np.concatenate(weights)
    with np.errstate(all="ignore"):
        mean = (w * t).sum(axis=0) / w.sum(axis=0)
        sst = (w * (t - mean) ** 2).sum(axis=0)
        amplification = (w * t * t).sum(axis=0) / sst
    r2 = ref_r2(batches, class_aggregation=None)
    return float(np.nanmax(np.abs(1.0 - r2) * amplification, initial=1.0))
