"""The functional losses: per-sample values, the last axis (or ``axis``) reduced, as Keras returns them.

Each function converts its inputs once (see :mod:`regloss._xp`), reconciles ranks by Keras's rule
(as Keras's loss classes do; Keras 3.15.1's ``dice`` and ``tversky`` functions skip it and
broadcast), checks that ``y_true`` and ``y_pred`` then have one shape, and evaluates a formula of
:mod:`regloss.formulas`. The result keeps ``y_pred``'s float dtype (integer, boolean and
Python-number inputs become ``regloss.config.floatx()``); float16 and bfloat16 compute in float32
inside and are cast back.
"""

from __future__ import annotations

import array_api_compat

from .. import config, kernels, specs
from .._shapes import (
    check_has_outputs,
    check_same_shape,
    normalize_axis,
    squeeze_or_expand_to_same_rank,
)
from .._xp import cast, compute_dtype_name, dtype_name, is_float, resolve


def prepare_inputs(xp, y_true, y_pred, dtype: str):
    """Cast both inputs to ``dtype`` then to its compute dtype, reconcile ranks, check shapes."""
    shape = y_pred.shape
    if (
        y_true.shape == shape
        and shape
        and isinstance(shape[-1], int)
        and shape[-1] > 0
        and y_true.dtype == y_pred.dtype
        and dtype_name(y_pred.dtype) == dtype == compute_dtype_name(dtype)
    ):  # nothing to cast or reconcile: the common call, whose general checks cost a few us
        return y_true, y_pred
    for argument, array in (("y_true", y_true), ("y_pred", y_pred)):
        if array.ndim == 0:
            check_has_outputs(array, argument)
    compute = compute_dtype_name(dtype)
    y_pred, y_true = cast(xp, y_pred, dtype), cast(xp, y_true, dtype)
    if compute != dtype:
        y_pred, y_true = cast(xp, y_pred, compute), cast(xp, y_true, compute)
    y_true, y_pred = squeeze_or_expand_to_same_rank(xp, y_true, y_pred)
    check_same_shape(y_true, y_pred)
    check_has_outputs(y_pred)
    return y_true, y_pred


def finish(xp, result, dtype: str):
    """Cast a result to ``dtype``; a NumPy scalar becomes a 0-d array."""
    result = cast(xp, result, dtype)
    if array_api_compat.is_numpy_namespace(xp):
        result = xp.asarray(result)
    return result


def _evaluate(spec, y_true, y_pred, **given):
    """The per-sample losses of the loss ``spec`` (:mod:`regloss.specs`), its parameters checked."""
    params = spec.standardize_params(given)
    formula = spec.per_sample
    # NumPy arrays take the fused path (regloss.kernels): before validation when it would change
    # nothing, after it otherwise; None means not covered there.
    fused = kernels.fast_functional(formula, y_true, y_pred, params)
    if fused is not None:
        return fused
    xp, arrays, weak = resolve(y_true=y_true, y_pred=y_pred)
    y_pred_array = arrays["y_pred"]
    keeps_dtype = is_float(xp, y_pred_array) and "y_pred" not in weak
    dtype = dtype_name(y_pred_array.dtype) if keeps_dtype else config.floatx()
    true, pred = prepare_inputs(xp, arrays["y_true"], y_pred_array, dtype)
    if "axis" in params:
        normalize_axis(params["axis"], pred.ndim)
    if kernels.numpy_arrays(y_true, y_pred) and kernels.active():
        fused = kernels.evaluate(formula, params, true, pred, None, None, None, dtype)
        if fused is not None:
            return fused
    return finish(xp, formula.per_sample(xp, true, pred, params), dtype)


# ------------------------------------------------------------------------ public functions


def mean_squared_error(y_true, y_pred):
    """Mean squared error over the last axis: ``mean((y_true - y_pred)**2, axis=-1)``.

    Parameters
    ----------
    y_true, y_pred : arrays of shape ``(batch, ..., outputs)``
        Pass them by keyword: PyTorch's losses take ``(input, target)``, the other order.

    Returns
    -------
    Per-sample losses of shape ``y_pred.shape[:-1]``, in ``y_pred``'s float dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from regloss.losses import mean_squared_error
    >>> mean_squared_error(y_true=np.array([[0., 1.], [0., 0.]], dtype="float32"),
    ...                    y_pred=np.array([[1., 1.], [1., 0.]], dtype="float32"))
    array([0.5, 0.5], dtype=float32)
    """
    return _evaluate(specs.MEAN_SQUARED_ERROR, y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error over the last axis: ``mean(|y_true - y_pred|, axis=-1)``.

    Examples
    --------
    >>> from regloss.losses import mean_absolute_error
    >>> mean_absolute_error(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [1., 0.]])
    array([0.5, 0.5], dtype=float32)
    """
    return _evaluate(specs.MEAN_ABSOLUTE_ERROR, y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """Mean absolute percentage error: ``100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)``.

    ``eps`` is ``regloss.config.epsilon()``; a zero target therefore gives ``|y_pred| * 1e9``.

    Examples
    --------
    >>> from regloss.losses import mean_absolute_percentage_error
    >>> mean_absolute_percentage_error(y_true=[[2., 4.]], y_pred=[[1., 5.]])
    array([37.5], dtype=float32)
    """
    return _evaluate(specs.MEAN_ABSOLUTE_PERCENTAGE_ERROR, y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean squared logarithmic error over the last axis, in ``y_pred``'s dtype.

    ``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)``: values below
    ``eps`` (negatives too) count as ``eps``, as in Keras.

    Examples
    --------
    >>> import numpy as np
    >>> from regloss.losses import mean_squared_logarithmic_error
    >>> loss = mean_squared_logarithmic_error(y_true=[[0., 1.]], y_pred=[[1., 1.]])
    >>> bool(np.isclose(loss[0], np.log(2.0) ** 2 / 2))
    True
    """
    return _evaluate(specs.MEAN_SQUARED_LOGARITHMIC_ERROR, y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``.

    ``l2_normalize(x) = x * rsqrt(max(sum(x**2, axis), eps**2))``, i.e. ``x / max(||x||, eps)``:
    a zero vector gives ``-0.0`` (and a finite gradient). ``axis`` is an int, a tuple of ints, or
    ``None`` for every axis (one scalar). The result lies in ``[-1, 1]``; ``-1`` means identical
    directions.

    Examples
    --------
    >>> from regloss.losses import cosine_similarity
    >>> cosine_similarity(y_true=[[0., 1.], [1., 1.]], y_pred=[[1., 0.], [1., 1.]])
    array([-0.        , -0.99999994], dtype=float32)
    """
    return _evaluate(specs.COSINE_SIMILARITY, y_true, y_pred, axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss over the last axis, with ``e = y_pred - y_true``.

    ``mean(where(|e| <= delta, 0.5 * e**2, delta * |e| - 0.5 * delta**2), axis=-1)``;
    ``delta`` (finite, > 0; a number or a one-element array, see :mod:`regloss.params`) is where
    the loss turns from quadratic to linear.

    Examples
    --------
    >>> from regloss.losses import huber
    >>> huber(y_true=[[0., 1.], [0., 0.]], y_pred=[[0.6, 0.4], [0.4, 3.]])
    array([0.18, 1.29], dtype=float32)
    """
    return _evaluate(specs.HUBER, y_true, y_pred, delta=delta)


def log_cosh(y_true, y_pred):
    """Logarithm of the hyperbolic cosine of the error, over the last axis.

    ``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as ``|x| + log1p(exp(-2|x|)) - log 2``
    so that large errors do not overflow: about ``x**2 / 2`` for small ``x``, ``|x| - log 2`` for
    large ones.

    Examples
    --------
    >>> from regloss.losses import log_cosh
    >>> log_cosh(y_true=[[0., 1.]], y_pred=[[1000., 1.]])
    array([499.6534], dtype=float32)
    """
    return _evaluate(specs.LOG_COSH, y_true, y_pred)


def dice(y_true, y_pred, axis=None):
    """Dice loss: ``1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)``.

    The sums run over ``axis``; the default ``None`` sums over every axis, the batch included, and
    gives one scalar for the whole batch (Keras's default). A tuple such as ``(1, 2, 3)`` gives one
    loss per sample. Ranks are reconciled as in every regloss function, which is what Keras's
    ``Dice`` class does; Keras 3.15.1's ``dice`` function does not (``(B,)`` against ``(B, 1)``
    broadcasts to ``(B, B)`` there).

    Examples
    --------
    >>> from regloss.losses import dice
    >>> dice(y_true=[[1., 1.], [0., 0.]], y_pred=[[1., 0.], [0., 1.]], axis=-1)
    array([0.3333333, 1.       ], dtype=float32)
    """
    return _evaluate(specs.DICE, y_true, y_pred, axis=axis)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss: ``1 - TP / (TP + alpha * FP + beta * FN + eps)``.

    ``TP = sum(y_true * y_pred)``, ``FP = sum((1 - y_true) * y_pred)`` (false positives, weighted by
    ``alpha``) and ``FN = sum(y_true * (1 - y_pred))`` (false negatives, weighted by ``beta``), over
    ``axis`` as in :func:`dice`, ranks reconciled as there (Keras's ``Tversky`` class does, its
    ``tversky`` function does not). ``alpha = beta = 0.5`` is the Dice loss. ``alpha`` and ``beta``
    are real numbers (one-element arrays count as their value, see :mod:`regloss.params`).

    .. warning:: Keras up to 3.15.1 weights false *negatives* by ``alpha``; a Tversky config from
       those versions means the other thing here (and in Keras's later releases).

    Examples
    --------
    >>> from regloss.losses import tversky
    >>> tversky(y_true=[[1., 0.]], y_pred=[[1., 1.]], alpha=0.25, beta=0.75, axis=-1)
    array([0.2], dtype=float32)
    """
    return _evaluate(specs.TVERSKY, y_true, y_pred, alpha=alpha, beta=beta, axis=axis)


def poisson(y_true, y_pred):
    """Poisson loss over the last axis: ``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``.

    The negative log-likelihood of counts ``y_true`` under Poisson rates ``y_pred`` (without the
    ``log(y_true!)`` term, which does not depend on ``y_pred``); ``eps`` is
    ``regloss.config.epsilon()``. Rates should be positive: ``y_pred <= -eps`` gives NaN, as in Keras.

    Examples
    --------
    >>> from regloss.losses import poisson
    >>> poisson(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [0., 0.]])
    array([0.99999994, 0.        ], dtype=float32)
    """
    return _evaluate(specs.POISSON, y_true, y_pred)


def pinball(y_true, y_pred, tau=0.5):
    """Pinball (quantile) loss over the last axis, TensorFlow Addons' ``pinball_loss``.

    ``mean(max(tau * d, (tau - 1) * d), axis=-1)`` with ``d = y_true - y_pred``: an
    under-prediction costs ``tau`` per unit, an over-prediction ``1 - tau``, so the minimiser is the
    ``tau`` quantile. ``tau`` is in ``[0, 1]`` (``ValueError`` otherwise); ``tau = 0.5`` is half the
    absolute error (scikit-learn's ``mean_pinball_loss`` with ``alpha = tau``, per sample).
    ``tau`` may also hold one level per output (a list or 1-D array as long as the last axis, as TF
    Addons' tensor ``tau``): one model predicting several quantiles at once.

    Examples
    --------
    >>> from regloss.losses import pinball
    >>> pinball(y_true=[[1., 1.], [0., 0.]], y_pred=[[0., 3.], [0., 0.]], tau=0.9)
    array([0.55, 0.  ], dtype=float32)
    >>> pinball(y_true=[[1., 1.], [0., 0.]], y_pred=[[0., 3.], [0., 0.]], tau=[0.1, 0.9])
    array([0.15, 0.  ], dtype=float32)
    """
    return _evaluate(specs.PINBALL, y_true, y_pred, tau=tau)


def smooth_l1(y_true, y_pred, beta=1.0):
    """Smooth L1 loss over the last axis, with torch's ``SmoothL1Loss`` elements (``e = y_pred - y_true``).

    ``mean(where(|e| < beta, 0.5 * e**2 / beta, |e| - 0.5 * beta), axis=-1)``. ``beta`` (finite,
    >= 0) is where the loss turns from quadratic to linear; ``beta = 0`` is the mean absolute
    error, as in torch. ``smooth_l1(beta=b) == huber(delta=b) / b``: the linear part has slope 1
    here, ``delta`` in Huber.

    Examples
    --------
    >>> from regloss.losses import smooth_l1
    >>> smooth_l1(y_true=[[0., 1.], [0., 0.]], y_pred=[[0.6, 0.4], [0.4, 3.]])
    array([0.18, 1.29], dtype=float32)
    >>> smooth_l1(y_true=[[0., 0.]], y_pred=[[0.5, 4.]], beta=2.0)
    array([1.53125], dtype=float32)
    """
    return _evaluate(specs.SMOOTH_L1, y_true, y_pred, beta=beta)


def poisson_nll(y_true, y_pred, log_input=True, full=False, eps=1e-8):
    """Poisson negative log-likelihood over the last axis, with torch's ``PoissonNLLLoss`` elements.

    With targets ``y = y_true`` and predictions ``x = y_pred``, the mean over the last axis of

    * ``exp(x) - y * x`` when ``log_input`` (``x`` is the log of the rate; the default), or
    * ``x - y * log(x + eps)`` otherwise (``x`` is the rate; ``eps > 0`` keeps ``log`` finite at 0),
    * plus, when ``full``, the Stirling term ``y * log(y) - y + 0.5 * log(2 * pi * y)`` where
      ``y > 1`` (0 elsewhere), which approximates ``log(y!)``.

    torch takes ``(input, target)``: ``input`` is ``y_pred`` here. ``log_input`` and ``full`` are
    ``True``/``False`` (``TypeError`` otherwise), ``eps`` finite and > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from regloss.losses import poisson_nll
    >>> poisson_nll(y_true=[[0., 2.]], y_pred=[[0., np.log(2.)]])
    array([0.8068528], dtype=float32)
    >>> poisson_nll(y_true=[[0., 2.]], y_pred=[[1., 2.]], log_input=False)
    array([0.8068528], dtype=float32)
    """
    return _evaluate(specs.POISSON_NLL, y_true, y_pred, log_input=log_input, full=full, eps=eps)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
