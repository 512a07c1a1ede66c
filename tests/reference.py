"""An independent float64 reference for regloss, written from the formulas of the API notes.

Nothing here imports regloss: the tests compare regloss against these functions.

Everything is computed in float64 NumPy. Callers that test a float32 (or float16) computation
round the inputs to that dtype first and pass the rounded values here, so the reference sees
exactly the numbers that regloss sees.

Contents
--------
* ``ref_soe``: Keras's ``squeeze_or_expand_to_same_rank`` for ``(y_true, y_pred)``.
* ``ref_<loss>`` (the Keras losses, long and short names; pinball, smooth_l1 and poisson_nll
  through ``REFERENCE_LOSSES``): per-sample losses, with the axis
  semantics of the API and an optional element mask (a mask of ``y_true``'s shape).
* ``ref_per_sample``: the same, by name, also returning which samples are present.
* ``ref_reduce``: the reduction table (weights, per-sample masks, every mode and its quirks).
* ``ref_loss_call``: the whole ``Loss.__call__`` pipeline (per-sample loss, then reduction).
"""

from __future__ import annotations

import math

import numpy as np

EPSILON = 1e-7

REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None, "auto")


# ----------------------------------------------------------------------------- shapes


def as_float64(x):
    """Any array-like (including ml_dtypes bfloat16 arrays) as a float64 ndarray."""
    return np.asarray(x).astype(np.float64)


def ref_soe(x1, x2):
    """Keras ``squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True)`` on ndarrays.

    Only a rank difference of exactly one, with a trailing dimension of 1 on the higher-rank
    array, is adjusted: a rank-1 lower array is expanded to ``(N, 1)``, otherwise the
    higher-rank array is squeezed.
    """
    x1 = np.asarray(x1)
    x2 = np.asarray(x2)
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def prepare(y_true, y_pred):
    """float64 copies after ``soe``; the same checks as regloss (same shape, rank >= 1, not empty)."""
    t = as_float64(y_true)
    p = as_float64(y_pred)
    if t.ndim == 0 or p.ndim == 0:
        raise ValueError(f"rank-0 inputs: y_true {t.shape}, y_pred {p.shape}")
    t, p = ref_soe(t, p)
    if t.shape != p.shape:
        raise ValueError(f"y_true shape {t.shape} != y_pred shape {p.shape}")
    if t.shape[-1] == 0:
        raise ValueError(f"empty last axis: {t.shape}")
    return t, p


def normalize_axes(axis, ndim):
    """``axis`` (None, int or tuple of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (int(axis),)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} out of range for rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def _element_mask(mask, shape):
    if mask is None:
        return None
    m = np.asarray(mask)
    m = m != 0
    if m.shape != shape:
        raise ValueError(f"element mask of shape {m.shape} for inputs of shape {shape}")
    return m


# ----------------------------------------------------------------------------- mean-over-outputs losses
# Each elementwise function gets float64 arrays t, p (masked entries already zero) and returns the
# per-element error; the loss is its mean over the last axis (over present outputs with a mask).


def _squared(t, p, eps):
    return (t - p) ** 2


def _absolute(t, p, eps):
    return np.abs(t - p)


def _absolute_percentage(t, p, eps):
    # 100 * |t - p| / max(|t|, eps); the 100 is applied here, which is the same number as
    # applying it after the mean.
    return 100.0 * np.abs(t - p) / np.maximum(np.abs(t), eps)


def _squared_log(t, p, eps):
    # log(max(x, eps) + 1), written as in the formula (not log1p) but with float64 arithmetic.
    first = np.log(np.maximum(p, eps) + 1.0)
    second = np.log(np.maximum(t, eps) + 1.0)
    return (first - second) ** 2


def _make_huber(delta):
    def _huber(t, p, eps):
        e = p - t
        a = np.abs(e)
        return np.where(a <= delta, 0.5 * e * e, delta * a - 0.5 * delta * delta)

    return _huber


def _log_cosh(t, p, eps):
    # log(cosh(x)) = |x| + log(1 + exp(-2|x|)) - log(2), exact in float64 and never overflows.
    a = np.abs(p - t)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def _poisson(t, p, eps):
    # the Poisson negative log-likelihood without log(t!): p - t log(p + eps), in float64
    return p - t * np.log(p + eps)


def _make_pinball(tau):
    # TF Addons' PinballLoss elements: max(tau (t - p), (tau - 1) (t - p))
    def _pinball(t, p, eps):
        d = t - p
        return np.maximum(tau * d, (tau - 1.0) * d)

    return _pinball


def _make_smooth_l1(beta):
    # torch's SmoothL1Loss elements (the docs' formula); beta = 0 is |p - t| (torch's l1_loss)
    def _smooth_l1(t, p, eps):
        a = np.abs(p - t)
        if beta == 0:
            return a
        return np.where(a < beta, 0.5 * a**2 / beta, a - 0.5 * beta)

    return _smooth_l1


def _make_poisson_nll(log_input, full, nll_eps):
    # torch's PoissonNLLLoss elements (the docs' formulas), x = p the input, y = t the target
    def _poisson_nll(t, p, eps):
        values = np.exp(p) - t * p if log_input else p - t * np.log(p + nll_eps)
        if full:
            y = np.where(t > 1, t, 2.0)  # any value > 1 where the term is not added
            stirling = y * np.log(y) - y + 0.5 * np.log(2.0 * np.pi * y)
            values = values + np.where(t > 1, stirling, 0.0)
        return values

    return _poisson_nll


def _mean_over_outputs(elementwise, y_true, y_pred, mask, eps):
    t, p = prepare(y_true, y_pred)
    m = _element_mask(mask, t.shape)
    if m is None:
        with np.errstate(all="ignore"):
            return np.mean(elementwise(t, p, eps), axis=-1), None
    # masked entries become zeros before any arithmetic
    t = np.where(m, t, 0.0)
    p = np.where(m, p, 0.0)
    with np.errstate(all="ignore"):
        err = np.where(m, elementwise(t, p, eps), 0.0)
    count = m.sum(axis=-1)
    present = count > 0
    values = np.where(present, err.sum(axis=-1) / np.maximum(count, 1), 0.0)
    return values, present


def ref_mean_squared_error(y_true, y_pred, *, mask=None):
    """mean((t - p)**2, axis=-1)"""
    return _mean_over_outputs(_squared, y_true, y_pred, mask, EPSILON)[0]


def ref_mean_absolute_error(y_true, y_pred, *, mask=None):
    """mean(|t - p|, axis=-1)"""
    return _mean_over_outputs(_absolute, y_true, y_pred, mask, EPSILON)[0]


def ref_mean_absolute_percentage_error(y_true, y_pred, *, mask=None, eps=EPSILON):
    """100 * mean(|t - p| / max(|t|, eps), axis=-1)"""
    return _mean_over_outputs(_absolute_percentage, y_true, y_pred, mask, eps)[0]


def ref_mean_squared_logarithmic_error(y_true, y_pred, *, mask=None, eps=EPSILON):
    """mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))**2, axis=-1)"""
    return _mean_over_outputs(_squared_log, y_true, y_pred, mask, eps)[0]


def ref_huber(y_true, y_pred, delta=1.0, *, mask=None):
    """mean(where(|e| <= delta, e**2 / 2, delta |e| - delta**2 / 2), axis=-1), e = p - t"""
    return _mean_over_outputs(_make_huber(float(delta)), y_true, y_pred, mask, EPSILON)[0]


def ref_log_cosh(y_true, y_pred, *, mask=None):
    """mean(log(cosh(p - t)), axis=-1)"""
    return _mean_over_outputs(_log_cosh, y_true, y_pred, mask, EPSILON)[0]


# ----------------------------------------------------------------------------- sums-over-axes losses


def _over_axes(y_true, y_pred, axis, mask):
    t, p = prepare(y_true, y_pred)
    axes = normalize_axes(axis, t.ndim)
    m = _element_mask(mask, t.shape)
    present = None
    if m is not None:
        t = np.where(m, t, 0.0)
        p = np.where(m, p, 0.0)
        present = np.any(m, axis=axes)
    return t, p, axes, present


def _cosine_values(t, p, axes, eps):
    def normalized(x):
        norm = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
        return x / np.maximum(norm, eps)

    return -np.sum(normalized(t) * normalized(p), axis=axes)


def _tversky_values(t, p, axes, alpha, beta, eps):
    intersection = np.sum(t * p, axis=axes)
    false_positives = np.sum((1.0 - t) * p, axis=axes)
    false_negatives = np.sum(t * (1.0 - p), axis=axes)
    return 1.0 - intersection / (intersection + alpha * false_positives + beta * false_negatives + eps)


def _dice_values(t, p, axes, eps):
    intersection = np.sum(t * p, axis=axes)
    return 1.0 - 2.0 * intersection / (np.sum(t, axis=axes) + np.sum(p, axis=axes) + eps)


def _finish(values, present):
    values = np.asarray(values, dtype=np.float64)
    if present is not None:
        values = np.where(present, values, 0.0)
    return values


def ref_cosine_similarity(y_true, y_pred, axis=-1, *, mask=None, eps=EPSILON):
    """-sum(n(t) n(p), axis), n(x) = x / max(||x||_2 over axis, eps)"""
    t, p, axes, present = _over_axes(y_true, y_pred, axis, mask)
    return _finish(_cosine_values(t, p, axes, eps), present)


def ref_dice(y_true, y_pred, axis=None, *, mask=None, eps=EPSILON):
    """1 - 2 sum(t p) / (sum(t) + sum(p) + eps), sums over axis (None: all axes)"""
    t, p, axes, present = _over_axes(y_true, y_pred, axis, mask)
    return _finish(_dice_values(t, p, axes, eps), present)


def ref_tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None, *, mask=None, eps=EPSILON):
    """1 - I / (I + alpha FP + beta FN + eps); FP = sum((1 - t) p), FN = sum(t (1 - p))"""
    t, p, axes, present = _over_axes(y_true, y_pred, axis, mask)
    return _finish(_tversky_values(t, p, axes, float(alpha), float(beta), eps), present)


# short names
ref_mse = ref_mean_squared_error
ref_mae = ref_mean_absolute_error
ref_mape = ref_mean_absolute_percentage_error
ref_msle = ref_mean_squared_logarithmic_error
ref_cosine = ref_cosine_similarity
ref_logcosh = ref_log_cosh

# functional name in regloss.losses -> reference function
REFERENCE_LOSSES = {
    "mean_squared_error": ref_mean_squared_error,
    "mean_absolute_error": ref_mean_absolute_error,
    "mean_absolute_percentage_error": ref_mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": ref_mean_squared_logarithmic_error,
    "cosine_similarity": ref_cosine_similarity,
    "huber": ref_huber,
    "log_cosh": ref_log_cosh,
    "dice": ref_dice,
    "tversky": ref_tversky,
    "poisson": lambda y_true, y_pred, *, mask=None, eps=EPSILON: ref_per_sample(
        "poisson", y_true, y_pred, mask=mask, eps=eps
    )[0],
    "pinball": lambda y_true, y_pred, *, mask=None, **params: ref_per_sample(
        "pinball", y_true, y_pred, mask=mask, **params
    )[0],
    "smooth_l1": lambda y_true, y_pred, *, mask=None, **params: ref_per_sample(
        "smooth_l1", y_true, y_pred, mask=mask, **params
    )[0],
    "poisson_nll": lambda y_true, y_pred, *, mask=None, **params: ref_per_sample(
        "poisson_nll", y_true, y_pred, mask=mask, **params
    )[0],
}


def ref_per_sample(name, y_true, y_pred, *, mask=None, eps=None, **params):
    """Per-sample losses of the functional loss ``name`` and the per-sample presence.

    ``eps``: the fuzz factor of the Keras losses (default ``EPSILON``), or ``poisson_nll``'s own
    ``eps`` parameter (default torch's 1e-8).

    Returns ``(values, present)``; ``present`` is None without a mask, else a bool array of
    the values' shape (a sample with no present output is absent, and its value is 0).
    """
    if name == "poisson_nll":
        params["eps"] = 1e-8 if eps is None else eps
    eps = EPSILON if eps is None else eps
    if name in ("cosine_similarity", "dice", "tversky"):
        axis = params.pop("axis", -1 if name == "cosine_similarity" else None)
        alpha = params.pop("alpha", 0.5)
        beta = params.pop("beta", 0.5)
        if params:
            raise TypeError(f"unexpected parameters {params}")
        t, p, axes, present = _over_axes(y_true, y_pred, axis, mask)
        if name == "cosine_similarity":
            values = _cosine_values(t, p, axes, eps)
        elif name == "dice":
            values = _dice_values(t, p, axes, eps)
        else:
            values = _tversky_values(t, p, axes, float(alpha), float(beta), eps)
        return _finish(values, present), present
    elementwise = {
        "mean_squared_error": _squared,
        "mean_absolute_error": _absolute,
        "mean_absolute_percentage_error": _absolute_percentage,
        "mean_squared_logarithmic_error": _squared_log,
        "log_cosh": _log_cosh,
        "poisson": _poisson,
    }.get(name)
    if name == "huber":
        elementwise = _make_huber(float(params.pop("delta", 1.0)))
    if name == "pinball":
        elementwise = _make_pinball(float(params.pop("tau", 0.5)))
    if name == "smooth_l1":
        elementwise = _make_smooth_l1(float(params.pop("beta", 1.0)))
    if name == "poisson_nll":
        elementwise = _make_poisson_nll(
            params.pop("log_input", True), params.pop("full", False), float(params.pop("eps", 1e-8))
        )
    if elementwise is None:
        raise KeyError(name)
    if params:
        raise TypeError(f"unexpected parameters {params}")
    return _mean_over_outputs(elementwise, y_true, y_pred, mask, eps)


# ----------------------------------------------------------------------------- reductions


def standardize_reduction(reduction):
    """The reduction as one of the five behaviours; ValueError for anything not allowed."""
    allowed = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None, "auto")
    if not any(reduction is a or (isinstance(reduction, str) and reduction == a) for a in allowed):
        raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")
    if reduction in ("auto", "mean"):
        return "sum_over_batch_size"
    if reduction is None:
        return "none"
    return reduction


def reconcile_to_values(x, values_shape, what="sample_weight"):
    """A weight or per-sample mask reconciled with the values' shape, as the API says.

    Rank ``v.ndim + 1`` with a last dim of 1 is squeezed; rank ``v.ndim - 1`` with a values'
    last dim of 1 is expanded; then it must broadcast to the values' shape without changing it.
    """
    x = np.asarray(x)
    nv = len(values_shape)
    if x.ndim == nv + 1 and x.shape[-1] == 1:
        x = x[..., 0]
    elif x.ndim == nv - 1 and nv >= 1 and values_shape[-1] == 1:
        x = x[..., None]
    try:
        ok = np.broadcast_shapes(x.shape, tuple(values_shape)) == tuple(values_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{what} of shape {x.shape} cannot be broadcast to {tuple(values_shape)}")
    return x


def _divide_no_nan(numerator, divisor):
    return numerator / divisor if divisor != 0 else 0.0


def ref_reduce(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """The reduction table of the API, in float64.

    ``values``: per-sample losses v; ``sample_weight``: None, a number or an array;
    ``mask``: None or a per-sample mask (bool, or numbers meaning != 0) reconciled with v.
    Returns a float64 0-d array for reducing modes (and for 0-d values), v's shape for "none".
    """
    mode = standardize_reduction(reduction)
    v = as_float64(values)
    m = None
    if mask is not None:
        m = reconcile_to_values(np.asarray(mask) != 0, v.shape, "mask")
    w = None
    if sample_weight is not None:
        raw = as_float64(sample_weight)
        if raw.ndim == v.ndim - 1 and raw.ndim != 1 and v.shape[-1] == 1:
            # Keras's squeeze_or_expand_to_same_rank squeezes the values' last axis of 1 here (it
            # expands the weight only when the weight has rank 1): a batch of one with a scalar
            # weight becomes one 0-d loss, returned as v * w by every reduction
            v = v[..., 0]
            m = None if m is None else np.broadcast_to(m, v.shape + (1,))[..., 0]
        w = reconcile_to_values(raw, v.shape, "sample_weight")
    present = np.ones(v.shape, dtype=bool) if m is None else np.broadcast_to(m, v.shape)
    with np.errstate(all="ignore"):
        weighted = v if w is None else v * np.broadcast_to(w, v.shape)
        # masked entries are zeros, whatever v (NaN, inf) or the weight held there
        weighted = np.where(present, weighted, 0.0)
    if v.ndim == 0 or mode == "none":
        return np.asarray(weighted, dtype=np.float64)
    total = float(np.sum(weighted))
    if mode == "sum":
        return np.asarray(total)
    if mode == "sum_over_batch_size":
        return np.asarray(_divide_no_nan(total, float(np.sum(present))))
    # mean_with_sample_weight
    if w is None:
        divisor = float(np.sum(present))
    else:
        # the weight times the mask, NOT broadcast to v's shape (Keras quirk)
        w_eff = w if m is None else w * m
        divisor = float(np.sum(w_eff))
    return np.asarray(_divide_no_nan(total, divisor))


def ref_loss_call(
    name,
    y_true,
    y_pred,
    sample_weight=None,
    mask=None,
    reduction="sum_over_batch_size",
    *,
    eps=None,
    **params,
):
    """The whole class pipeline: per-sample losses of ``name``, then :func:`ref_reduce`.

    A mask of y_true's shape (after soe) is an element mask; any other mask is a per-sample
    mask reconciled with the per-sample losses (when both readings fit they agree).
    """
    standardize_reduction(reduction)
    t, p = prepare(y_true, y_pred)
    element_mask = None
    sample_mask = None
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape == t.shape:
            element_mask = mask
        else:
            sample_mask = mask
    values, present = ref_per_sample(name, t, p, mask=element_mask, eps=eps, **params)
    if present is not None:
        sample_mask = present
    return ref_reduce(values, sample_weight, sample_mask, reduction)
