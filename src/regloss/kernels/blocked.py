"""The blocked NumPy tier: each input read once, in blocks, every sum accumulated in float64.

The inputs (already validated, of one shape and in the compute dtype) are seen as a matrix of
``rows`` samples by ``cols`` reduced elements: ``rows = prod(shape[:k])``, ``cols = prod(shape[k:])``,
where the losses reduce the trailing axes ``k, ..., ndim - 1`` (the last axis for the
mean-over-outputs losses; ``axis`` for cosine, Dice and Tversky when it names trailing axes).

Partition (fixed by the shape, the loss and the presence of a mask; never by the thread count)
    * *flat* blocks of ``B`` consecutive elements (:data:`TEMPORARY_ELEMENTS`: from 13653 to 40960,
      by how many arrays the loss's generic formula keeps alive), used when no statistic per
      sample is needed (a reducing mode without weights or masks of a mean-over-outputs loss, and the
      whole-batch Dice/Tversky with ``axis=None``);
    * *row* blocks of whole samples otherwise (as many as keep their elements' and per-sample values'
      live arrays within :data:`TEMPORARY_ELEMENTS`, at least one); a sample longer than a flat
      block is summed over flat column blocks of its own, in order.

In a block the generic elementwise function of :mod:`regloss.formulas` runs with
``xp = array_api_compat.numpy`` (see :func:`numpy_namespace`) in the
input's float dtype; every sum (of errors, per-sample
losses, weights, counts) is taken with ``dtype=float64``. The block results are merged in block
order, so the result is bit-identical for any number of threads.

Statistics per block and how they finish (``e`` the elementwise error, ``m`` the element mask,
``v`` the per-sample losses, ``w`` the sample weight, ``s`` the per-sample mask):

* mean over outputs: ``v_r = scale * sum_c(m e) / max(sum_c m, 1)`` (``cols`` without a mask);
  without weights or masks, the reducing modes only need ``S = sum(e)``: ``sum`` is
  ``scale * S / cols`` and the means are ``scale * S / (rows * cols)``;
* cosine, Dice, Tversky over trailing axes: ``v_r`` is the generic formula on the rows of a block;
* Dice and Tversky with ``axis=None`` depend on the inputs only through ``I = sum(t p)``,
  ``T = sum(t)`` and ``P = sum(p)``: these are summed in float64 and the generic formula is evaluated
  in float64 on the three-element witness ``t = (1, T - 1, 0)``, ``p = (I, 0, P - I)``, which has the
  same three sums;
* reduction: ``total = sum_r s_r v_r w_r``; the divisor is ``sum s`` (``rows`` without a mask), or
  for ``mean_with_sample_weight`` with weights ``sum(w s)`` (``sum(w)`` of the un-broadcast weight
  without a mask); a zero divisor gives 0. ``"none"`` writes ``s v w`` per sample.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading

import numpy as np

from .. import config, formulas
from ..reduction import finish_totals

TEMPORARY_ELEMENTS = 73728
"""Elements that the live temporaries of one block may hold (288 KiB of float32): a loss whose generic
formula keeps ``live_arrays`` block-sized arrays alive at once gets blocks of
``TEMPORARY_ELEMENTS // live_arrays`` elements (:func:`block_elements`): 36864 for MSE, MAE and
Dice and Tversky over every axis, 24576 for MAPE and LogCosh, 18432 for MSLE and Huber; a mask adds
three live arrays. Row blocks also count the per-sample values (:meth:`_Call.rows_per_block`).

The size is the largest that keeps every loss's tracemalloc peak under 1% of its inputs on 2
threads (the memory target) while leaving blocks large enough that the GIL hand-offs between the
threads' NumPy calls do not dominate; the measurements are in docs/performance.md ("Why the
kernels are built this way")."""

PARALLEL_ELEMENTS = 1 << 18
"""Inputs with fewer elements run on the calling thread (a thread hand-off costs ~50 us)."""

_F64 = np.float64


# ------------------------------------------------------------------------------ threads

_pool = {"executor": None, "workers": 0, "pid": None}
_pool_lock = threading.Lock()


def _executor(workers: int):
    """A shared ``ThreadPoolExecutor`` with at least ``workers`` threads (rebuilt after ``fork``)."""
    from concurrent.futures import ThreadPoolExecutor

    with _pool_lock:
        if _pool["executor"] is None or _pool["workers"] < workers or _pool["pid"] != os.getpid():
            if _pool["executor"] is not None and _pool["pid"] == os.getpid():
                _pool["executor"].shutdown(wait=False)
            _pool.update(
                executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="regloss"),
                workers=workers,
                pid=os.getpid(),
            )
        return _pool["executor"]


def run_blocks(block, count: int, elements: int, max_threads: int | None = None) -> list:
    """``[block(0), ..., block(count - 1)]``, in that order; in threads when ``elements`` is large
    (at most ``max_threads`` when given, see :func:`threads_within_budget`).

    Each thread takes one contiguous run of block indices (the calling thread the first), so a
    block's result never depends on the thread that computed it.
    """
    threads = min(config.num_threads(), count) if elements >= PARALLEL_ELEMENTS else 1
    if max_threads is None:
        # each thread's block keeps about TEMPORARY_ELEMENTS elements alive (4 bytes: the smallest
        # inputs'), the inputs are two of ``elements``; at least 2 threads, the count the block size
        # is measured for (a 16-core machine runs a (100000, 100) float32 call on 2 threads, a 10x
        # larger one on up to 19)
        max_threads = max(2, threads_within_budget(4 * TEMPORARY_ELEMENTS, 0, 2 * 4 * elements))
    threads = max(1, min(threads, max_threads))
    if threads <= 1:
        return [block(index) for index in range(count)]
    bounds = [count * part // threads for part in range(threads + 1)]

    def run(part):
        return [block(index) for index in range(bounds[part], bounds[part + 1])]

    futures = [_executor(threads - 1).submit(run, part) for part in range(1, threads)]
    results = run(0)
    for future in futures:
        results.extend(future.result())
    return results


MEMORY_FRACTION = 0.009
"""The share of the inputs' bytes that the buffers of a call whose buffers live for the whole call
may take (:func:`threads_within_budget`; the memory target is 1%)."""


def threads_within_budget(thread_bytes: int, shared_bytes: int, input_bytes: int) -> int:
    """The most threads whose buffers (``thread_bytes`` each, plus NumPy's float64 cast buffer of a
    reduction, plus ``shared_bytes`` once) fit in :data:`MEMORY_FRACTION` of ``input_bytes``, at
    least 1: a call caps its threads by the memory budget instead of shrinking its blocks (fewer,
    larger blocks: fewer NumPy calls and GIL hand-offs per element)."""
    per_thread = thread_bytes + 8 * np.getbufsize()
    return max(1, int((MEMORY_FRACTION * input_bytes - shared_bytes) // per_thread))


OVERLAP_LIVE_ARRAYS = 2
"""Live arrays of :meth:`_Call.overlap_sums` without a mask (one product; measured: about two)."""
MASK_LIVE_ARRAYS = 3
"""Live arrays a mask adds to a block: the inputs with masked entries zeroed, and the masked errors."""
SAMPLE_LIVE_ARRAYS = 4
"""Per-sample arrays of a row block besides its elements' (float64 sums, losses and weighted losses
count twice for float32 inputs), or the formula's ``live_sample_arrays`` when larger."""


def block_elements(live_arrays: int) -> int:
    """Elements per block of a loss whose generic formula keeps ``live_arrays`` block-sized arrays
    alive (see :data:`TEMPORARY_ELEMENTS`)."""
    return max(1, TEMPORARY_ELEMENTS // live_arrays)


_NAMESPACE: list = []


def numpy_namespace():
    """The ``xp`` the generic formulas get on blocks: ``array_api_compat.numpy`` (imported at the
    first call, so that importing regloss stays light; then kept)."""
    if not _NAMESPACE:
        import array_api_compat.numpy as compat_numpy

        _NAMESPACE.append(compat_numpy)
    return _NAMESPACE[0]


def array_valued(params: dict) -> bool:
    """Whether a hyper-parameter is an array (this tier takes Python numbers only)."""
    for value in params.values():  # noqa: SIM110 - a loop, not any(<generator>): faster per call
        if hasattr(value, "dtype"):
            return True
    return False


def _sum(values, axis=None):
    return np.add.reduce(values, axis=axis, dtype=_F64)


# ------------------------------------------------------------------------------ coverage


_SPLITS: dict = {}
"""``(formula, ndim, axis)`` -> :func:`trailing_split`'s answer (small calls look it up)."""


def trailing_split(formula, params: dict, ndim: int) -> int | None:
    """``k`` such that the loss reduces the axes ``k..ndim-1``, or ``None`` when this tier does not
    cover the call (array-valued hyper-parameters, non-trailing axes, cosine with ``axis=None``)."""
    if array_valued(params):
        return None
    key = (formula, ndim, params.get("axis"))
    try:
        return _SPLITS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable axis (not cached)
        split = _trailing_split(formula, params, ndim)
    with contextlib.suppress(TypeError):
        _SPLITS[key] = split
    return split


def _trailing_split(formula, params: dict, ndim: int) -> int | None:
    if isinstance(formula, formulas.MeanOverOutputs):
        return ndim - 1
    if not isinstance(formula, formulas.OverAxes):
        return None
    axes = formula.reduced_axes(ndim, params)
    if axes != tuple(range(axes[0], ndim)):
        return None
    if axes[0] == 0 and formula.formula not in (formulas.dice_loss, formulas.tversky_loss):
        return None
    return axes[0]


# ------------------------------------------------------------------ cosine, Dice, Tversky

OVERLAPS = {"negative_cosine_similarity": 0, "dice_loss": 1, "tversky_loss": 2}
"""The name of an ``OverAxes`` formula of :mod:`regloss.formulas` -> its ``kind`` in
:func:`overlap_loss` (and :func:`regloss.kernels.numba_tier.overlap_sums`)."""


def overlap_loss(kind, s0, s1, s2, eps, alpha, beta):
    """Cosine, Dice or Tversky from three float64 sums over the reduced elements, in float64
    (float64 arrays of per-sample sums, or scalars: the numba tier compiles this function).

    * cosine (kind 0), ``s = (sum(t p), sum(t t), sum(p p))``:
      ``-s0 / sqrt(max(s1, eps**2) max(s2, eps**2))`` (the generic
      ``-s0 * inverse_norm(t) * inverse_norm(p)``);
    * Dice (1), ``s = (sum(t p), sum(t), sum(p))``: ``1 - 2 s0 / (s1 + s2 + eps)``;
    * Tversky (2), the same sums: ``1 - TP / (TP + alpha FP + beta FN + eps)`` with ``TP = s0``,
      ``FP = sum((1 - t) p) = s2 - s0`` and ``FN = sum(t (1 - p)) = s1 - s0`` (the identities of
      the witness in the module docstring).

    NaN propagates through the clamps (``maximum``), as in the generic formula.
    """
    if kind == 0:
        floor = eps * eps
        return -s0 / np.sqrt(np.maximum(s1, floor) * np.maximum(s2, floor))
    if kind == 1:
        return 1.0 - (2.0 * s0) / ((s1 + s2) + eps)
    return 1.0 - s0 / (((s0 + (s2 - s0) * alpha) + (s1 - s0) * beta) + eps)


_ROW_SUM_VECTORS: dict = {}
"""``cols`` -> a read-only float64 ``ones(cols)`` (allocating it took about as long as the product
it sums): the row-sum vector of :func:`_one_block_over_axes`."""


def _row_sum_vector(cols: int):
    vector = _ROW_SUM_VECTORS.get(cols)
    if vector is None:
        if len(_ROW_SUM_VECTORS) >= 64:  # a bounded cache: many widths keep only the latest
            _ROW_SUM_VECTORS.clear()
        vector = _ROW_SUM_VECTORS[cols] = np.ones(cols, dtype=_F64)
        vector.flags.writeable = False
    return vector


def _one_block_over_axes(formula, params, y_true, y_pred, reduction, out_dtype):
    """Cosine, Dice or Tversky of a small C-contiguous batch without weights or masks, with no
    partition (the minimal-overhead path of small calls), or None when not covered: the three
    float64 sums per sample (the products in float64, exact for float32), then
    :func:`overlap_loss`. Each NumPy call costs about 0.2-1 us on a (32, 10) batch, so the sums
    take as few calls as possible:

    * one loss over every element (Dice/Tversky with ``axis=None``): ``sum(t p)`` is one ``dot``,
      ``sum(t)`` and ``sum(p)`` one ``np.add.reduce`` of the stacked float64 copies;
    * per sample, the three products are stacked in a ``(3, rows, cols)`` float64 array and summed
      by one product with ``ones(cols)`` (measured 2.8x faster than ``np.add.reduce`` over the
      last axis): for cosine, ``z = (t, t, p, p)`` (two broadcast copies) gives
      ``z[:3] * z[1:] = (t t, t p, p p)`` in one multiplication; for Dice and Tversky
      ``(t p, t, p)``.
    """
    kind = OVERLAPS.get(formula.formula.__name__)
    if kind is None or not (y_true.flags.c_contiguous and y_pred.flags.c_contiguous):
        return None
    k = trailing_split(formula, params, y_pred.ndim)
    if k is None:
        return None
    eps = config.epsilon()
    alpha, beta = (params.get("alpha", 0.5), params.get("beta", 0.5)) if kind == 2 else (0.5, 0.5)
    if k == 0:  # Dice/Tversky with axis=None (trailing_split covers no cosine over every axis)
        flat = np.empty((2, y_pred.size), dtype=_F64)
        flat[0] = y_true.reshape(-1)  # cast to float64 on the copy
        flat[1] = y_pred.reshape(-1)
        s1, s2 = np.add.reduce(flat, axis=1).tolist()
        s0 = float(np.dot(flat[0], flat[1]))
        return _finish_sample(overlap_loss(kind, s0, s1, s2, eps, alpha, beta), None, None, out_dtype)
    shape = y_pred.shape
    rows = shape[0] if k == 1 else math.prod(shape[:k])
    cols = y_pred.size // rows
    if len(shape) != 2:  # (rows, cols) views of the inputs
        y_true, y_pred = y_true.reshape(rows, cols), y_pred.reshape(rows, cols)
    if kind == 0:
        stacked = np.empty((4, rows, cols), dtype=_F64)
        stacked[:2] = y_true  # cast to float64 on the copy
        stacked[2:] = y_pred
        sums = np.matmul(stacked[:3] * stacked[1:], _row_sum_vector(cols))
        s0, s1, s2 = sums[1], sums[0], sums[2]  # (indexing: measured 2.5x faster than unpacking)
    else:
        terms = np.empty((3, rows, cols), dtype=_F64)
        terms[1] = y_true
        terms[2] = y_pred
        np.multiply(terms[1], terms[2], out=terms[0])
        sums = np.matmul(terms, _row_sum_vector(cols))
        s0, s1, s2 = sums[0], sums[1], sums[2]
    losses = overlap_loss(kind, s0, s1, s2, eps, alpha, beta)
    if reduction is None or reduction == "none":
        return losses.astype(out_dtype).reshape(shape[:k])
    total = float(np.dot(losses, _row_sum_vector(rows)))  # (one BLAS call: faster than a reduce)
    return finish(reduction, False, out_dtype, total, count=rows)


# ------------------------------------------------------------------------------ evaluation


class _Call:
    """One evaluation: the 2-D views, the partition, and the block functions."""

    def __init__(self, formula, params, y_true, y_pred, k, element_mask, sample_weight):
        shape = y_pred.shape
        self.formula, self.params = formula, params
        self.xp = numpy_namespace()
        self.rows, self.cols = math.prod(shape[:k]), math.prod(shape[k:])
        self.size = self.rows * self.cols
        self.per_sample_shape = shape[:k]
        self.mean = isinstance(formula, formulas.MeanOverOutputs)
        # the arrays a block keeps alive: the generic formula's, or those of overlap_sums for Dice
        # and Tversky over every axis; with a mask, also the masked copies of both inputs and errors
        live = formula.live_arrays if self.mean or k > 0 else OVERLAP_LIVE_ARRAYS
        self.live = live + (MASK_LIVE_ARRAYS if element_mask is not None else 0)
        self.block = block_elements(self.live)
        self.live_per_sample = max(SAMPLE_LIVE_ARRAYS, getattr(formula, "live_sample_arrays", 0))
        self.true = y_true.reshape(self.rows, self.cols)
        self.pred = y_pred.reshape(self.rows, self.cols)
        self.mask = None if element_mask is None else element_mask.reshape(self.rows, self.cols)
        self.weight = None
        if sample_weight is not None:
            self.weight = np.broadcast_to(sample_weight, self.per_sample_shape).reshape(self.rows)
        if self.mean:
            self.error = formula.error
            self.other = params
        else:
            self.other = {key: value for key, value in params.items() if key != "axis"}

    # ---- flat blocks: sums over all elements
    def flat_blocks(self, statistics):
        """Sum ``statistics(true, pred, mask)`` (a tuple of float64 sums) over flat blocks."""
        true, pred = self.true.reshape(-1), self.pred.reshape(-1)
        mask = None if self.mask is None else self.mask.reshape(-1)
        step = self.block

        def block(index):
            start, stop = index * step, (index + 1) * step
            return statistics(true[start:stop], pred[start:stop], None if mask is None else mask[start:stop])

        results = run_blocks(block, -(-self.size // step), self.size)
        totals = [0.0] * len(results[0]) if results else []
        for result in results:
            totals = [total + value for total, value in zip(totals, result, strict=True)]
        return totals

    def error_sum(self, true, pred, mask):
        """``(sum(m e), sum(m))``, the masked inputs zeroed first (count is 0 without a mask)."""
        if mask is None:
            return (_sum(self.error(self.xp, true, pred, **self.other)), 0)
        true, pred = np.where(mask, true, 0), np.where(mask, pred, 0)
        errors = np.where(mask, self.error(self.xp, true, pred, **self.other), 0)
        return (_sum(errors), int(np.count_nonzero(mask)))

    @staticmethod
    def overlap_sums(true, pred, mask):
        """``(sum(t p), sum(t), sum(p))`` of Dice and Tversky, masked entries zeroed."""
        if mask is not None:
            true, pred = np.where(mask, true, 0), np.where(mask, pred, 0)
        return (_sum(true * pred), _sum(true), _sum(pred), int(mask is None or mask.any()))

    def witness_loss(self):
        """Dice or Tversky over every axis, from the float64 sums (see the module docstring)."""
        intersection, true_sum, pred_sum, present = self.flat_blocks(self.overlap_sums)
        witness_true = np.array([1.0, true_sum - 1.0, 0.0])
        witness_pred = np.array([intersection, 0.0, pred_sum - intersection])
        value = self.formula.formula(self.xp, witness_true, witness_pred, (0,), **self.other)
        return np.float64(value), bool(present)

    # ---- row blocks: per-sample losses
    def rows_per_block(self) -> int:
        """Samples per row block: their elements' and their per-sample values' live arrays within
        :data:`TEMPORARY_ELEMENTS`."""
        return max(1, TEMPORARY_ELEMENTS // (self.live * self.cols + self.live_per_sample))

    def sample_losses(self, start, stop):
        """``(v, s)`` of the samples ``start..stop-1``: float64 losses and presence (or None)."""
        if self.mean and self.cols > self.block:  # one long sample, summed over column blocks
            total = count = 0.0
            for column in range(0, self.cols, self.block):
                columns = slice(column, column + self.block)
                mask = None if self.mask is None else self.mask[start, columns]
                block_sum, block_count = self.error_sum(
                    self.true[start, columns], self.pred[start, columns], mask
                )
                total, count = total + block_sum, count + block_count
            sums, counts = np.array([total]), np.array([count if self.mask is not None else self.cols])
        else:
            true, pred = self.true[start:stop], self.pred[start:stop]
            mask = None if self.mask is None else self.mask[start:stop]
            if mask is not None:
                true, pred = np.where(mask, true, 0), np.where(mask, pred, 0)
            if not self.mean:
                losses = self.formula.formula(self.xp, true, pred, (1,), **self.other)
                return losses.astype(_F64), None if mask is None else mask.any(axis=1)
            errors = self.error(self.xp, true, pred, **self.other)
            if mask is None:
                sums, counts = _sum(errors, axis=1), self.cols
            else:
                sums = _sum(np.where(mask, errors, 0), axis=1)
                counts = np.count_nonzero(mask, axis=1)
        present = None if self.mask is None else counts > 0
        losses = sums / np.maximum(counts, 1)
        if self.formula.scale != 1.0:
            losses *= self.formula.scale
        return losses, present


def evaluate(formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype):
    """The loss of validated NumPy inputs, or ``None`` when this tier does not cover the call.

    ``y_true``/``y_pred``: one shape, in the compute dtype; ``element_mask``: bool, of their shape,
    or None; ``sample_weight``: fitted to the per-sample losses (broadcasts to them), or None;
    ``reduction``: a standardized reduction, ``"none"`` or None for per-sample losses;
    ``out_dtype``: the result's NumPy dtype. Returns what the generic path returns (a 0-d array for
    reducing modes and 0-d losses), computed as the module docstring says.
    """
    if (
        element_mask is None
        and sample_weight is None
        and type(formula) is formulas.MeanOverOutputs
        and 0 < y_pred.size <= block_elements(formula.live_arrays)
        and not array_valued(params)
    ):
        return _one_block_mean(formula, params, y_true, y_pred, reduction, out_dtype)
    if (
        element_mask is None
        and sample_weight is None
        and type(formula) is formulas.OverAxes
        and 0 < y_pred.size <= TEMPORARY_ELEMENTS // 4
    ):
        result = _one_block_over_axes(formula, params, y_true, y_pred, reduction, out_dtype)
        if result is not None:
            return result
    k = trailing_split(formula, params, y_pred.ndim)
    if k is None or y_pred.size == 0:  # empty batches: the generic path (nothing to gain)
        return None
    call = _Call(formula, params, y_true, y_pred, k, element_mask, sample_weight)
    reducing = reduction is not None and reduction != "none" and k > 0
    has_weights = sample_weight is not None

    if k == 0 and not call.mean:  # Dice / Tversky with axis=None: one loss for the batch
        loss, present = call.witness_loss()
        return _finish_sample(loss, present, sample_weight, out_dtype)
    if k == 0:  # rank-1 inputs: one sample
        losses, present = call.sample_losses(0, 1)
        return _finish_sample(losses[0], None if present is None else present[0], sample_weight, out_dtype)

    if reducing and element_mask is None and sample_weight is None and call.mean and _flat_ok(y_true, y_pred):
        from . import inplace  # (inplace builds on this module: imported here, not at its top)

        total = inplace.error_sum(formula, params, y_true, y_pred)
        if total is None:
            (total, _) = call.flat_blocks(call.error_sum)
        total = total * formula.scale / call.cols
        return finish(reduction, False, out_dtype, total, count=call.rows)

    per_block = call.rows_per_block()
    count = -(-call.rows // per_block)
    output = None if reducing else np.empty(call.rows, dtype=out_dtype)

    def block(index):
        start, stop = index * per_block, min((index + 1) * per_block, call.rows)
        losses, present = call.sample_losses(start, stop)
        weight = None if call.weight is None else call.weight[start:stop]
        weighted = losses if weight is None else losses * weight
        if present is not None:
            weighted = np.where(present, weighted, 0.0)
        if output is not None:
            output[start:stop] = weighted
            return None
        weight_sum = 0.0
        if has_weights and present is not None:
            weight_sum = _sum(weight * present)  # NaN * 0 stays NaN, as the generic divisor
        present_count = stop - start if present is None else int(np.count_nonzero(present))
        return _sum(weighted), present_count, weight_sum

    results = run_blocks(block, count, call.size)
    if output is not None:
        return output.reshape(call.per_sample_shape)
    total = present_count = weight_sum = 0.0
    for block_total, block_count, block_weight_sum in results:
        total, present_count = total + block_total, present_count + block_count
        weight_sum = weight_sum + block_weight_sum
    if has_weights and element_mask is None:
        weight_sum = _sum(sample_weight)  # Keras: the un-broadcast weight (a scalar w divides by w)
    return finish(reduction, has_weights, out_dtype, total, present_count, weight_sum)


def _flat_ok(y_true, y_pred) -> bool:
    """Flat blocks need flat views: C-contiguous inputs (anything else uses row blocks)."""
    return y_true.flags.c_contiguous and y_pred.flags.c_contiguous


def _finish_sample(loss, present, sample_weight, out_dtype):
    """A 0-d loss: ``v * w``, 0 when masked, as every reduction returns it."""
    weighted = loss if sample_weight is None else loss * _F64(sample_weight)
    if present is not None and not present:
        weighted = 0.0
    return np.asarray(weighted, dtype=out_dtype)


def _one_block_mean(formula, params, y_true, y_pred, reduction, out_dtype):
    """A mean-over-outputs loss of at most one block, without weights or masks: the statistics of
    :func:`evaluate` with no partition (the minimal-overhead path of small calls)."""
    errors = formula.error(numpy_namespace(), y_true, y_pred, **params)
    shape = y_pred.shape
    cols = shape[-1]
    if reduction is None or reduction == "none" or len(shape) == 1:
        losses = _sum(errors, axis=-1) / cols
        if formula.scale != 1.0:
            losses = losses * formula.scale
        return np.asarray(losses).astype(out_dtype)
    total = _sum(errors) * formula.scale / cols
    return np.asarray(finish_totals(np, reduction, False, total, math.prod(shape[:-1]))).astype(out_dtype)


def finish(reduction, weighted: bool, out_dtype, total, count=None, weight_sum=None):
    """The reduced loss of float64 totals (:func:`regloss.reduction.finish_totals`) as a 0-d array
    of ``out_dtype``."""
    return np.asarray(finish_totals(np, reduction, weighted, total, count, weight_sum), dtype=out_dtype)
