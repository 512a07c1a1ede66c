"""Per-output weighted means of an elementwise value: the one pass behind every function here.

``column_means(targets, elementwise)`` is, for each output ``j``,

    mean_j = sum_i w_i v_ij / sum_i w_i        (w_i = 1 without sample weights)

with ``v = elementwise(xp, y_true, y_pred)`` (a formula of :mod:`regloss.formulas` or
:mod:`regloss.sklearn._elementwise`), as an array of the compute dtype.

Three paths, the same numbers (to rounding):

* NumPy float32/float64 inputs of MSE, RMSE, MAE, MAPE (and pinball, where the numba tier restates
  ``quantile_error``) with at least 65536 elements, when numba
  is installed and ``regloss.config.accelerator()`` is ``"auto"`` or ``"numba"``: one pass of the
  numba tier's column kernel (:func:`regloss.kernels.column_sums`), no temporaries at all;
  float64 MAPE, MSLE, RMSLE and the Tweedie deviances of that size take the numba tier's
  scikit-learn errors instead (:func:`regloss.kernels.sklearn_column_sums`: NumPy's SIMD
  ``log1p``/``log``/``pow`` on cache-sized row blocks, numba for the rest of the formula and the
  per-output float64 sums, the domain tested per block before any value is computed), and the
  scores their centred moments (:func:`centred_moments`);
* other NumPy float32/float64 inputs, when ``regloss.config.accelerator()`` is not ``"none"``:
  blocks of whole samples (about 32768 elements each, so that the formula's temporaries stay in
  cache) run the same ``elementwise`` with ``array_api_compat.numpy`` and are summed per output in
  float64 (:func:`_block_column_sums`), in block order, in the threads of
  :func:`regloss.kernels.blocked.run_blocks` (bit-identical for any number of threads).
  scikit-learn makes a whole-array temporary per step; this reads the inputs once per pass;
* any other library (and float16): the same formula on the whole arrays with ``xp``, summed in
  the compute dtype as scikit-learn does.

Values are checked lazily (see :mod:`regloss.sklearn._targets`): a non-finite mean or a zero weight
sum triggers :meth:`~regloss.sklearn._targets.Targets.check_values`. ``violation(xp, t, p)``, when
given, is a domain test evaluated on the same blocks (true where the function's domain is left);
``domain_error`` is then raised after the finiteness check, as scikit-learn orders them.
"""

from __future__ import annotations

import math

import array_api_compat
import numpy as np

from .. import kernels
from ..kernels.blocked import numpy_namespace, run_blocks

BLOCK_ELEMENTS = 1 << 15
"""Elements per block of the NumPy path (256 KiB of float64 per input)."""

_FAST_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def _use_blocks(targets) -> bool:
    return (
        array_api_compat.is_numpy_namespace(targets.xp)
        and targets.y_true.dtype in _FAST_DTYPES
        and kernels.active()
    )


def _map_blocks(targets, y_pred, function) -> list:
    """``function(start, stop, y_true_block, y_pred_block)`` for each block of about
    :data:`BLOCK_ELEMENTS` elements (whole samples), in block order, in the blocked tier's threads."""
    y_true = targets.y_true
    n, k = y_true.shape
    rows = max(1, BLOCK_ELEMENTS // k)
    broadcast_pred = y_pred.shape[0] != n

    def block(index):
        start, stop = index * rows, min(n, (index + 1) * rows)
        return function(start, stop, y_true[start:stop], y_pred if broadcast_pred else y_pred[start:stop])

    return run_blocks(block, -(-n // rows), n * k)


EINSUM_MIN_OUTPUTS = 10
"""From this many outputs a block's column sums are one ``einsum("i,ij->j", w, v)``; below it one
strided ``sum`` per column. Measured on (rows, outputs) float64 blocks of 32768 elements: NumPy's
``sum(axis=0)`` takes 1.2 ms with two outputs and 60 us with ten (its inner loop runs over the
outputs), ``einsum`` 57 us with two and 17 us with ten, a strided sum per column 9 us with two and
22 us with ten. A BLAS product (``w @ v``) would be faster still but starts OpenBLAS's own threads
beside the blocks' threads, which collapses on a busy machine (25x slower with one output)."""


def _block_column_sums(values, weights):
    """``sum_i w_i values_ij`` per column ``j`` of a float64 block (``w_i = 1`` when ``weights`` is
    None), in float64."""
    outputs = values.shape[1]
    if outputs >= EINSUM_MIN_OUTPUTS:
        if weights is None:
            weights = np.ones(values.shape[0])
        return np.einsum("i,ij->j", weights, values)
    if weights is not None:
        values = values * weights[:, None]
    return np.array([np.sum(values[:, column]) for column in range(outputs)])


def _parts(values) -> tuple:
    """The arrays of an elementwise result: one, or several from :func:`stacked`."""
    return values if isinstance(values, tuple) else (values,)


def _blocked_sums(targets, elementwise, violation, y_pred):
    """Per-output float64 sums of ``w v`` over blocks of samples (:func:`_block_column_sums`), the
    float64 weight sum, and whether ``violation`` held in any block."""
    weights = targets.sample_weight
    n = targets.n_samples
    xp = numpy_namespace()
    weights64 = None if weights is None else weights.astype(np.float64, copy=False)

    def block(start, stop, true, pred):
        if violation is not None and bool(violation(xp, true, pred)):
            return None  # outside the domain: not evaluated (no warnings), raised by the caller
        block_weights = None if weights is None else weights64[start:stop]
        return np.concatenate(
            [
                _block_column_sums(part.astype(np.float64, copy=False), block_weights)
                for part in _parts(elementwise(xp, true, pred))
            ]
        )

    results = _map_blocks(targets, y_pred, block)
    weight_sum = float(n) if weights is None else float(np.sum(weights64))
    if any(result is None for result in results):
        return None, weight_sum, True
    return np.sum(np.stack(results), axis=0), weight_sum, False


def stacked(*elementwise):
    """One elementwise function giving the values of each of ``elementwise`` (a tuple of arrays),
    so that one pass computes several statistics; their means come side by side (split them with
    :func:`split`)."""

    def values(xp, y_true, y_pred):
        return tuple(function(xp, y_true, y_pred) for function in elementwise)

    return values


def split(means, parts: int) -> list:
    """The ``parts`` equal slices of the means of a :func:`stacked` function."""
    width = means.shape[0] // parts
    return [means[index * width : (index + 1) * width] for index in range(parts)]


def largest(targets, elementwise) -> float:
    """``max`` of ``elementwise`` over every sample and output, a Python float (NaN if any value is
    NaN); on NumPy inputs over blocks, without whole-array temporaries."""
    if not _use_blocks(targets):
        return float(targets.xp.max(elementwise(targets.xp, targets.y_true, targets.y_pred)))
    xp = numpy_namespace()

    def block(start, stop, true, pred):
        return float(np.max(elementwise(xp, true, pred)))

    maxima = _map_blocks(targets, targets.y_pred, block)
    return math.nan if any(math.isnan(value) for value in maxima) else max(maxima)


def _fused_sums(targets, kernel):
    """The numba tier's one-pass sums for ``kernel = (name, a, b)`` (an error it restates), or None."""
    if kernel is None:
        return None
    weights = targets.sample_weight
    weights64 = None if weights is None else weights.astype(np.float64, copy=False)
    sums = kernels.column_sums(*kernel, targets.y_true, targets.y_pred, weights64)
    if sums is None:
        return None
    weight_sum = float(targets.n_samples) if weights is None else float(np.sum(weights64))
    return sums, weight_sum, False


def _sklearn_sums(targets, sklearn_kernel):
    """The numba tier's sums of a scikit-learn error ``sklearn_kernel = (name, parameter, domain)``
    (:func:`regloss.kernels.sklearn_column_sums`, float64 only), the weight sum and whether the domain
    was left, or None."""
    if sklearn_kernel is None or targets.y_true.dtype != np.float64:
        return None
    weights = targets.sample_weight
    result = kernels.sklearn_column_sums(*sklearn_kernel, targets.y_true, targets.y_pred, weights)
    if result is None:
        return None
    sums, outside = result
    weight_sum = float(targets.n_samples) if weights is None else float(np.sum(weights))
    return sums, weight_sum, outside


def column_means(
    targets, elementwise, *, y_pred=None, violation=None, domain_error=None, kernel=None, sklearn_kernel=None
):
    """The per-output weighted means of ``elementwise`` (a 1-D array of the compute dtype).

    ``y_pred`` replaces ``targets.y_pred`` (a ``(1, n_outputs)`` row broadcasts over the samples).
    ``kernel``: ``(name, a, b)`` when the numba tier restates ``elementwise`` as the error ``name``
    with parameters ``a``, ``b`` (:func:`regloss.kernels.column_sums`): large NumPy inputs then take
    its single pass (no domain to check; the blocks of ``elementwise`` otherwise).
    ``sklearn_kernel``: ``(name, parameter, domain)`` when the numba tier restates ``elementwise``
    (and ``violation``, as the domain number) as a scikit-learn error
    (:func:`regloss.kernels.sklearn_column_sums`): float64 NumPy inputs take it first.
    """
    xp = targets.xp
    y_pred = targets.y_pred if y_pred is None else y_pred
    dtype = targets.y_true.dtype
    if _use_blocks(targets):
        fused = None
        if y_pred is targets.y_pred:
            fused = _sklearn_sums(targets, sklearn_kernel)
            if fused is None and violation is None:
                fused = _fused_sums(targets, kernel)
        sums, weight_sum, violated = fused or _blocked_sums(targets, elementwise, violation, y_pred)
        if violated:
            targets.check_finite()
            raise domain_error()
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (sums / weight_sum).astype(dtype, copy=False)
        suspicious = not (np.all(np.isfinite(sums)) and math.isfinite(weight_sum) and weight_sum != 0.0)
    else:
        if violation is not None and bool(violation(xp, targets.y_true, y_pred)):
            targets.check_finite()
            raise domain_error()
        weights = targets.sample_weight
        parts = _parts(elementwise(xp, targets.y_true, y_pred))
        if weights is None:
            means = xp.concat([xp.mean(part, axis=0) for part in parts])
            weight_sum = float(targets.n_samples)
        else:
            weight_total = xp.sum(weights)
            sums = [xp.sum(part * weights[:, None], axis=0) for part in parts]
            means = xp.concat(sums) / weight_total
            weight_sum = float(weight_total)
        suspicious = not (
            bool(xp.all(xp.isfinite(means))) and math.isfinite(weight_sum) and weight_sum != 0.0
        )
    if suspicious:
        targets.check_values()
    return means


def centred_moments(targets):
    """One fused pass for the scores: per output, ``(mean_w t, mean_w (t - p)**2,
    mean_w (t - mean_w t)**2, mean_w (t - p - mean_w (t - p))**2)`` as float64 arrays, from the numba
    tier's row blocks (each centred about its own means in cache, merged with Chan et al.'s update:
    :func:`regloss.kernels.column_moments`), or None where it does not run (then the two-pass
    :func:`column_means` does): not float64 NumPy, fewer than 65536 elements, a negative weight, or a
    non-finite result (the two passes then raise scikit-learn's errors)."""
    if not _use_blocks(targets) or targets.y_true.dtype != np.float64:
        return None
    weights = targets.sample_weight
    if weights is not None and not bool(np.min(weights) >= 0):  # a negative (or NaN) weight
        return None
    moments = kernels.column_moments(targets.y_true, targets.y_pred, weights)
    if moments is None or not bool(np.all(np.isfinite(moments))) or not bool(np.all(moments[0] > 0)):
        return None
    total = moments[0]
    return moments[1], moments[3] / total, moments[2] / total, moments[5] / total
