"""The loss formulas, once, on any array namespace ``xp``; no validation, no conversion.

Two shapes of loss exist:

* :class:`MeanOverOutputs`: a per-element error averaged over the last axis (MSE, MAE, MAPE,
  MSLE, Huber, LogCosh). With an element mask the average runs over the present outputs only.
* :class:`OverAxes`: a per-sample value from sums over ``axis`` (cosine similarity, Dice,
  Tversky). Masked entries are zeros by the time they arrive, and zeros drop out of every sum.

Inputs arrive in the compute dtype (float32 for float16/bfloat16 losses). Which loss uses which
formula, with what parameters and names, is described once in :mod:`regloss.specs`.
"""

from __future__ import annotations

import math

from . import config
from ._shapes import normalize_axis
from ._xp import cast, clip, device_of, dtype_name


def constant(xp, value, like):
    """``value`` as a 0-d array of ``like``'s dtype and device (scalars cast as Keras casts them)."""
    if hasattr(value, "dtype"):
        return xp.astype(value, like.dtype) if value.dtype != like.dtype else value
    return xp.asarray(value, dtype=like.dtype, device=device_of(xp, like))


# ---------------------------------------------------------------------- per-element errors


def squared_error(xp, y_true, y_pred):
    """``(y_true - y_pred)**2``"""
    return (y_true - y_pred) ** 2


def absolute_error(xp, y_true, y_pred):
    """``|y_true - y_pred|``"""
    return xp.abs(y_true - y_pred)


def absolute_percentage_error(xp, y_true, y_pred):
    """``|(y_true - y_pred) / max(|y_true|, eps)|`` (a fraction: the loss multiplies by 100)"""
    return xp.abs((y_true - y_pred) / clip(xp, xp.abs(y_true), lower=config.epsilon()))


def squared_logarithmic_error(xp, y_true, y_pred):
    """``(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2``

    Values below ``eps`` (negatives included) are clamped to ``eps`` first, as Keras does.
    """
    eps = config.epsilon()
    first_log = xp.log(clip(xp, y_pred, lower=eps) + 1.0)
    second_log = xp.log(clip(xp, y_true, lower=eps) + 1.0)
    return (first_log - second_log) ** 2


def huber_error(xp, y_true, y_pred, delta=1.0):
    """``0.5 e**2`` if ``|e| <= delta`` else ``delta |e| - 0.5 delta**2``, with ``e = y_pred - y_true``

    Computed as ``c * (|e| - 0.5 c)`` with ``c = min(|e|, delta)``: the same two branches in five
    operations (``c = |e|`` gives ``0.5 e**2``; ``c = delta`` gives ``delta |e| - 0.5 delta**2``),
    with the slope ``delta`` on both sides of ``|e| == delta``.
    """
    abs_error = xp.abs(y_pred - y_true)
    if hasattr(delta, "dtype"):  # an array or traced delta, cast to y_pred's dtype as Keras does
        clipped = xp.minimum(abs_error, constant(xp, delta, y_pred))
    else:
        clipped = clip(xp, abs_error, upper=delta)
    return clipped * (abs_error - 0.5 * clipped)


def poisson_error(xp, y_true, y_pred):
    """``y_pred - y_true log(y_pred + eps)``: the Poisson negative log-likelihood of ``y_true``
    counts at the rate ``y_pred``, without the ``log(y_true!)`` term (as Keras)."""
    return y_pred - y_true * xp.log(y_pred + config.epsilon())


def log_cosh_error(xp, y_true, y_pred):
    """``log(cosh(x))`` with ``x = y_pred - y_true``, as ``|x| + log1p(exp(-2|x|)) - log(2)``

    The identity never overflows: ``x = 1000`` gives ``999.3068...``.
    """
    abs_error = xp.abs(y_pred - y_true)
    return abs_error + xp.log1p(xp.exp(-2.0 * abs_error)) - math.log(2.0)


def pinball_error(xp, y_true, y_pred, alpha=0.5):
    """``max(alpha (y_true - y_pred), (alpha - 1) (y_true - y_pred))``: the quantile (pinball) loss
    of the ``alpha`` quantile; ``alpha = 0.5`` gives half the absolute error.

    Computed as ``alpha d - min(d, 0)`` with ``d = y_true - y_pred`` (both branches in one
    expression, equal to scikit-learn's ``mean_pinball_loss`` elements).
    """
    difference = y_true - y_pred
    return alpha * difference - xp.minimum(difference, xp.zeros_like(difference))


def quantile_error(xp, y_true, y_pred, tau=0.5):
    """:func:`pinball_error` with TensorFlow Addons' parameter name: ``max(tau d, (tau - 1) d)``,
    ``d = y_true - y_pred`` (the elements of TF Addons' ``PinballLoss``).

    ``tau`` is one level, or one level per output (a tuple or 1-D array as long as the last axis:
    the output ``j`` is the ``tau[j]`` quantile)."""
    if isinstance(tau, tuple) or len(getattr(tau, "shape", ())) == 1:
        levels, outputs = len(tau) if isinstance(tau, tuple) else tau.shape[0], y_pred.shape[-1]
        if levels != outputs:
            raise ValueError(
                f"tau has {levels} levels, one per output, but y_pred has {outputs} outputs "
                f"(shape {tuple(y_pred.shape)})"
            )
        tau = constant(xp, tau, y_pred)
    return pinball_error(xp, y_true, y_pred, tau)


def smooth_l1_error(xp, y_true, y_pred, beta=1.0):
    """``0.5 e**2 / beta`` if ``|e| < beta`` else ``|e| - 0.5 beta``, with ``e = y_pred - y_true``:
    torch's ``SmoothL1Loss`` elements, in torch's order of operations (``0.5 * e * e / beta``).

    ``beta = 0`` is the absolute error ``|e|``, computed as ``sign(e) e`` so that its gradient is
    torch's ``sign(e)``, 0 at ``e = 0`` (torch then calls ``l1_loss``; no division by zero). Equal
    to ``huber_error(delta=beta) / beta`` for ``beta > 0``.
    """
    if not hasattr(beta, "dtype") and beta == 0:
        error = y_pred - y_true
        return xp.sign(error) * error  # |e|, with torch's gradient sign(e) (0 at e = 0)
    abs_error = xp.abs(y_pred - y_true)
    if not hasattr(beta, "dtype"):
        return xp.where(abs_error < beta, 0.5 * abs_error * abs_error / beta, abs_error - 0.5 * beta)
    beta = constant(xp, beta, y_pred)  # an array or traced beta (0 gives |e|, with finite gradients)
    positive = beta > 0
    divisor = xp.where(positive, beta, xp.ones_like(beta))
    quadratic = xp.logical_and(abs_error < beta, positive)
    return xp.where(quadratic, 0.5 * abs_error * abs_error / divisor, abs_error - 0.5 * beta)


def poisson_nll_error(xp, y_true, y_pred, log_input=True, full=False, eps=1e-8):
    """torch's ``PoissonNLLLoss`` elements, for targets ``y = y_true`` and predictions ``x = y_pred``:

    * ``log_input=True`` (``x`` is the log-rate): ``exp(x) - y x``;
    * ``log_input=False`` (``x`` is the rate): ``x - y log(x + eps)``;
    * ``full=True`` adds the Stirling approximation of ``log(y!)``,
      ``y log(y) - y + 0.5 log(2 pi y)``, where ``y > 1`` (0 elsewhere).
    """
    if log_input:  # noqa: SIM108 - the two definitions, as in the docstring
        values = xp.exp(y_pred) - y_true * y_pred
    else:
        values = y_pred - y_true * xp.log(y_pred + eps)
    if full:
        values = values + stirling_term(xp, y_true)
    return values


def stirling_term(xp, y_true):
    """``y log(y) - y + 0.5 log(2 pi y)`` where ``y > 1``, else 0 (torch's ``full=True`` term),
    computed on ``max(y, 1)`` so that neither the value nor a gradient meets ``log(0)``."""
    counted = y_true > 1
    safe = xp.where(counted, y_true, xp.ones_like(y_true))
    term = safe * xp.log(safe) - safe + 0.5 * xp.log((2.0 * math.pi) * safe)
    return xp.where(counted, term, xp.zeros_like(term))


def tweedie_deviance(xp, y_true, y_pred, power=0.0):
    """The unit deviance of the Tweedie distribution with ``power`` p, as scikit-learn 1.9 writes it:

    * p = 0 (normal): ``(y - m)**2``
    * p = 1 (Poisson): ``2 (y log(y / m) - y + m)``, with ``0 log 0 = 0``
    * p = 2 (gamma): ``2 (log(m / y) + y / m - 1)``
    * otherwise: ``2 (max(y, 0)**(2-p) / ((1-p)(2-p)) - y m**(1-p) / (1-p) + m**(2-p) / (2-p))``
      (``max(y, 0)`` only matters for p < 0, where y may be negative)

    with ``y = y_true`` and ``m = y_pred``. No domain check: the callers check (p in (0, 1) has no
    distribution; p >= 1 needs ``m > 0``; 1 <= p < 2 needs ``y >= 0``; p >= 2 needs ``y > 0``).
    """
    power = float(power)
    if power == 0.0:
        return (y_true - y_pred) ** 2
    if power == 1.0:
        zero = y_true == 0
        ratio = xp.where(zero, xp.ones_like(y_true), y_true / y_pred)
        safe_ratio = xp.where(zero, xp.ones_like(ratio), ratio)
        y_log_ratio = xp.where(zero, xp.zeros_like(y_true), y_true * xp.log(safe_ratio))
        return 2.0 * (y_log_ratio - y_true + y_pred)
    if power == 2.0:
        return 2.0 * (xp.log(y_pred / y_true) + y_true / y_pred - 1.0)
    base = xp.maximum(y_true, xp.zeros_like(y_true)) if power < 0.0 else y_true
    return 2.0 * (
        base ** (2.0 - power) / ((1.0 - power) * (2.0 - power))
        - y_true * y_pred ** (1.0 - power) / (1.0 - power)
        + y_pred ** (2.0 - power) / (2.0 - power)
    )


# ------------------------------------------------------------------ per-sample over axes


def inverse_norm(xp, x, axis):
    """``rsqrt(max(sum(x**2, axis), eps**2))``: ``1 / max(||x||, eps)`` as in Keras's
    ``l2_normalize``, with a finite gradient at a zero vector."""
    eps = config.epsilon()
    return 1.0 / xp.sqrt(clip(xp, xp.sum(x * x, axis=axis), lower=eps * eps))


def negative_cosine_similarity(xp, y_true, y_pred, axis):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``, computed as
    ``-sum(y_true y_pred, axis) * inverse_norm(y_true) * inverse_norm(y_pred)``: the same value
    (the norms are constant along ``axis``) in three passes over the inputs instead of six."""
    return -xp.sum(y_true * y_pred, axis=axis) * (
        inverse_norm(xp, y_true, axis) * inverse_norm(xp, y_pred, axis)
    )


def dice_loss(xp, y_true, y_pred, axis):
    """``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + eps)``"""
    eps = config.epsilon()
    intersection = xp.sum(y_true * y_pred, axis=axis)
    total = xp.sum(y_true, axis=axis) + xp.sum(y_pred, axis=axis)
    return 1.0 - (2.0 * intersection) / (total + eps)


def tversky_loss(xp, y_true, y_pred, axis, alpha=0.5, beta=0.5):
    """``1 - TP / (TP + alpha FP + beta FN + eps)`` with ``TP = sum(y_true y_pred)``,
    ``FP = sum((1 - y_true) y_pred)`` and ``FN = sum(y_true (1 - y_pred))``."""
    eps = config.epsilon()
    true_positives = xp.sum(y_true * y_pred, axis=axis)
    false_positives = xp.sum((1.0 - y_true) * y_pred, axis=axis)
    false_negatives = xp.sum(y_true * (1.0 - y_pred), axis=axis)
    denominator = true_positives + false_positives * alpha + false_negatives * beta + eps
    return 1.0 - true_positives / denominator


# ------------------------------------------------------------------------- the two shapes


class MeanOverOutputs:
    """A per-element ``error`` averaged over the last axis, then multiplied by ``scale``.

    ``live_arrays``: the most input-sized arrays the formula keeps alive at once on NumPy arrays of
    a block's size (its intermediates and result; NumPy reuses temporaries in place only above
    256 KiB); the blocked NumPy tier sizes its blocks by it
    (:func:`regloss.kernels.blocked.block_elements`), and tests/test_kernels.py checks it with
    tracemalloc.
    """

    __slots__ = ("error", "scale", "live_arrays")

    def __init__(self, error, scale: float = 1.0, live_arrays: int = 4):
        self.error = error
        self.scale = scale
        self.live_arrays = live_arrays

    def reduced_axes(self, ndim: int, params: dict) -> tuple[int, ...]:
        return (ndim - 1,)

    def per_sample(self, xp, y_true, y_pred, params: dict, element_mask=None):
        values = self.error(xp, y_true, y_pred, **params)
        if element_mask is None:
            per_sample = xp.mean(values, axis=-1)
        else:
            present = cast(xp, element_mask, dtype_name(values.dtype))
            count = xp.sum(present, axis=-1)
            kept = xp.where(element_mask, values, xp.zeros_like(values))
            per_sample = xp.sum(kept, axis=-1) / xp.maximum(count, xp.ones_like(count))
        return per_sample if self.scale == 1.0 else self.scale * per_sample


class OverAxes:
    """A per-sample value of ``formula(xp, y_true, y_pred, axis, **params)`` over ``axis``.

    ``live_arrays`` as in :class:`MeanOverOutputs`; ``live_sample_arrays``: the most per-sample
    arrays (sums over ``axis``, in the inputs' dtype) alive at once besides them. A block of ``rows``
    samples of ``cols`` elements keeps about ``live_arrays * rows * cols + live_sample_arrays * rows``
    values alive.
    """

    __slots__ = ("formula", "default_axis", "live_arrays", "live_sample_arrays")

    def __init__(self, formula, default_axis=-1, live_arrays: int = 4, live_sample_arrays: int = 4):
        self.formula = formula
        self.default_axis = default_axis
        self.live_arrays = live_arrays
        self.live_sample_arrays = live_sample_arrays

    def reduced_axes(self, ndim: int, params: dict) -> tuple[int, ...]:
        return normalize_axis(params.get("axis", self.default_axis), ndim)

    def per_sample(self, xp, y_true, y_pred, params: dict, element_mask=None):
        axes = self.reduced_axes(y_pred.ndim, params)
        other = {k: v for k, v in params.items() if k != "axis"}
        return self.formula(xp, y_true, y_pred, axes, **other)
