"""The numba tier: fused single-pass kernels for the mean-over-outputs losses of large NumPy inputs.

Imported only when :func:`regloss.kernels._tier` picks it (numba importable, ``accelerator()`` is
``"auto"`` or ``"numba"``, an input of at least 65536 elements: below that a blocked-tier call takes
a few microseconds and numba is not even imported), so that importing regloss never imports numba.
This file restates the per-element errors of :mod:`regloss.formulas` once each (the only
duplication allowed; each is tested bit for bit against the generic function in
tests/test_kernels_numba.py) and sums them in three kernels.

Kernels (compiled at the first call per dtype, ``cache=True``: later processes load them from disk)
    They take 1-D C-contiguous float32 or float64 views of ``y_true``/``y_pred`` and the error's
    number ``kind`` (:data:`ERRORS`, dispatched in :func:`_error`: a jitted function passed as an
    argument would not be cached across processes). The error is computed in the input's dtype (its
    parameters arrive as scalars of that dtype, so no float64 constant promotes the arithmetic);
    every sum is a float64 accumulator:

    * :func:`_flat_kernel`: the sums of the error over *flat blocks* of :data:`BLOCK_ELEMENTS`
      consecutive elements, one float64 per block (reducing modes without weights);
    * :func:`_row_kernel`: per-sample losses ``v = scale * sum_c(m e) / max(sum_c m, 1)`` (``cols``
      without an element mask ``m``) times the weight, over *row blocks* of
      ``max(1, BLOCK_ELEMENTS // cols)`` samples: written to the result for ``reduction="none"``
      (in its dtype: no float64 copy), and summed per block with the present samples and their
      weights for the reducing modes;
    * :func:`_overlap_flat_kernel` / :func:`_overlap_row_kernel`: cosine, Dice and Tversky, from
      three float64 sums per sample (or per flat block for Dice/Tversky over every axis) collected
      in one pass over both inputs (:func:`overlap_sums`), finished in float64
      (:func:`overlap_loss`), with masks, weights and every reduction as :func:`_row_kernel`.

    ``prange`` runs over the blocks (or rows) of a partition fixed by the shape alone; each block is
    summed in order by the same machine code whatever thread runs it, and the per-block float64 sums
    are added in block order in Python: results are bit-identical for any number of threads
    (``numba.set_num_threads(regloss.config.num_threads())`` before each launch). ``fastmath`` is only
    ``reassoc``, on the kernels' accumulation (LLVM vectorises the float64 sum with a fixed set of
    partial sums); the errors are compiled without fastmath, so they are the generic function's
    values bit for bit, and NaN and inf propagate.

Coverage (the measurements behind it: docs/performance.md, "Why the kernels are built this way")
    * MSE, MAE, Huber, MAPE, pinball (``quantile_error``) and SmoothL1: every reduction, with or
      without a sample weight or an element mask;
    * cosine, Dice and Tversky over trailing axes (``axis=-1``, the default of cosine), and Dice
      and Tversky over every axis (their default ``axis=None``): every reduction, weights, masks;
    * MSLE, LogCosh, Poisson and PoissonNLL: PyPI's numba has no SVML, so its ``log``/``exp``/
      ``log1p`` are scalar libm calls, slower than NumPy's SIMD ufuncs; these keep NumPy's ufuncs for the
      transcendental step, on blocks (of the blocked tier's size for two live arrays) in its
      threads, with numba fusing the steps before it (into block buffers) and the float64 sums after
      it: flat blocks for scalar reductions without weights or masks (:data:`HYBRID`), row blocks
      for MSLE, LogCosh and Poisson with weights, masks or per-sample results
      (:data:`HYBRID_ROWS`).

    Not covered (``evaluate`` returns None and the blocked NumPy tier runs): array-valued
    hyper-parameters, strided and rank-1 inputs (of the mean-over-outputs losses), non-trailing
    axes of cosine/Dice/Tversky, and PoissonNLL with weights, masks or per-sample results (its
    Stirling term and ``log_input`` branch would need buffers and terms of their own).

Threads
    The kernels launch on numba's threading layer; where numba would pick GNU OpenMP (PyPI wheels
    without TBB), which kills a forked child at its next launch, this module asks for ``"forksafe"``
    unless ``NUMBA_THREADING_LAYER`` says otherwise: TBB when the ``tbb`` package is installed (the
    ``fast`` extra installs it on Linux x86-64; :func:`_preload_tbb`), else the workqueue layer.
    The workqueue layer does not take concurrent launches, so launches are serialised by a lock.
"""

from __future__ import annotations

import math
import os
import threading

import numba
import numpy as np

from .. import config, formulas, specs
from . import RESTATED_ERRORS, blocked

BLOCK_ELEMENTS = 1 << 16
"""Elements per flat block (and the target of a row block): 256 KiB of float32 per input."""


def _preload_tbb() -> bool:
    """Load the ``tbb`` package's ``libtbb.so.12`` (installed by ``pip install tbb``, a dependency
    of the ``fast`` extra on Linux x86-64) so that numba's TBB layer finds it: pip puts it in the
    environment's ``lib`` directory, which the dynamic loader does not search. True if loaded."""
    import ctypes
    import sys

    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        path = os.path.join(prefix, "lib", "libtbb.so.12")
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return True
            except OSError:
                return False
    return False


if numba.config.THREADING_LAYER == "default" and "NUMBA_THREADING_LAYER" not in os.environ:
    # numba's default picks GNU OpenMP where TBB is missing (PyPI wheels), and a process that forks
    # after using it aborts in the child at the next parallel launch ("fork() called from a process
    # already using GNU OpenMP"): DataLoader workers, multiprocessing. "forksafe" takes TBB or a
    # fork-safe OpenMP when present, else the workqueue layer; set NUMBA_THREADING_LAYER to choose.
    # It only acts when no parallel numba code has run in this process yet. TBB is also the
    # steadiest layer (docs/performance.md).
    _preload_tbb()
    numba.config.THREADING_LAYER = "forksafe"

_F64 = np.float64
_KERNEL_FLAGS = {"reassoc"}  # the float64 accumulation only; see the module docstring
_launch = threading.Lock()  # the workqueue layer is not safe for concurrent launches


# ---------------------------------------------------------------------- per-element errors
# Each is ``error(t, p, a, b)`` on scalars of the input dtype; ``a``, ``b``: its parameters as
# scalars of that dtype (unused ones are 0). Each is tested against the function it restates.


@numba.njit(cache=True)
def squared_error(t, p, a, b):
    """:func:`regloss.formulas.squared_error`"""
    d = t - p
    return d * d


@numba.njit(cache=True)
def absolute_error(t, p, a, b):
    """:func:`regloss.formulas.absolute_error`"""
    return abs(t - p)


@numba.njit(cache=True, error_model="numpy")
def absolute_percentage_error(t, p, eps, b):
    """:func:`regloss.formulas.absolute_percentage_error` (``eps`` the fuzz factor). The divisor is
    at least ``eps > 0``; ``error_model="numpy"`` drops the zero-division test of Python's model,
    a branch per element that kept the loops from vectorising (the kernel took 1.1-1.7x the time
    of the blocked NumPy tier; the quotient is the same IEEE division)."""
    magnitude = abs(t)
    return abs((t - p) / (magnitude if magnitude > eps else eps))


@numba.njit(cache=True)
def huber_error(t, p, delta, half):
    """:func:`regloss.formulas.huber_error` (``half`` is 0.5 in the input dtype)"""
    e = abs(p - t)
    c = e if e < delta else delta
    return c * (e - half * c)


@numba.njit(cache=True)
def quantile_error(t, p, tau, zero):
    """:func:`regloss.formulas.quantile_error` (``tau d - min(d, 0)``; ``zero`` is 0 in the input
    dtype: a literal 0 would promote float32 to float64)"""
    d = t - p
    return tau * d - (d if d <= zero else zero)


@numba.njit(cache=True, error_model="numpy")
def smooth_l1_error(t, p, beta, half):
    """:func:`regloss.formulas.smooth_l1_error` (``half`` is 0.5 in the input dtype; ``beta = 0``
    takes the linear branch, ``|e|``, as the generic function, so the division never sees a zero:
    ``error_model="numpy"``, as :func:`absolute_percentage_error`)"""
    e = abs(p - t)
    if e < beta:
        return half * e * e / beta
    return e - half * beta


@numba.njit(cache=True)
def _error(kind, t, p, a, b):
    """The error number ``kind`` (an index of :data:`ERRORS`): one function, so that the kernels
    have one cacheable signature per dtype (a jitted function passed as an argument is not cached
    across processes); the branch is loop-invariant and hoisted out of the loops by LLVM."""
    if kind == 0:
        return squared_error(t, p, a, b)
    if kind == 1:
        return absolute_error(t, p, a, b)
    if kind == 2:
        return absolute_percentage_error(t, p, a, b)
    if kind == 4:
        return quantile_error(t, p, a, b)
    if kind == 5:
        return smooth_l1_error(t, p, a, b)
    return huber_error(t, p, a, b)


# MSLE, LogCosh (and Poisson, below): the transcendental step is NumPy's SIMD ufunc on a block
# (PyPI numba has no SVML); numba fuses what comes before it (into two block buffers) and the
# float64 sum after it.


@numba.njit(cache=True, nogil=True)
def squared_logarithmic_arguments(t, p, eps, one, first, second):
    """:func:`regloss.formulas.squared_logarithmic_error`, before its logs:
    ``first = max(p, eps) + 1`` and ``second = max(t, eps) + 1`` (NaN stays NaN, as in np.maximum)."""
    for i in range(t.size):
        x = p[i]
        first[i] = (eps if x < eps else x) + one
        y = t[i]
        second[i] = (eps if y < eps else y) + one


@numba.njit(cache=True, nogil=True)
def hybrid_term(kind, x, y, c):
    """One error of MSLE (kind 0: ``(x - y)**2``, ``x``/``y`` the two logs), LogCosh (kind 1:
    ``(x + y) - c``, ``x = |e|``, ``y = log1p(exp(-2|e|))``, ``c = log(2)``) or Poisson (kind 2:
    ``x - y``, ``x = p``, ``y = t log(p + eps)``) from its buffers."""
    if kind == 0:
        d = x - y
        return d * d
    if kind == 2:
        return x - y
    return (x + y) - c


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def squared_logarithmic_sum(first_log, second_log):
    """... and after them: ``sum((log(first) - log(second))**2)`` in float64."""
    total = 0.0
    for i in range(first_log.size):
        total += hybrid_term(0, first_log[i], second_log[i], first_log[i])
    return total


@numba.njit(cache=True, nogil=True)
def log_cosh_arguments(t, p, minus_two, absolute, scaled):
    """:func:`regloss.formulas.log_cosh_error`, before ``log1p(exp(.))``:
    ``absolute = |p - t|`` and ``scaled = -2 absolute``."""
    for i in range(t.size):
        a = abs(p[i] - t[i])
        absolute[i] = a
        scaled[i] = minus_two * a


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def log_cosh_sum(absolute, softplus, log_two):
    """... and after it: ``sum(absolute + log1p(exp(-2 absolute)) - log(2))`` in float64."""
    total = 0.0
    for i in range(absolute.size):
        total += hybrid_term(1, absolute[i], softplus[i], log_two)
    return total


def _squared_logarithmic_buffers(t, p, dtype):
    """``(log(max(p, eps) + 1), log(max(t, eps) + 1), 0)``: MSLE's :func:`hybrid_term` buffers."""
    first, second = np.empty(t.size, dtype), np.empty(t.size, dtype)
    squared_logarithmic_arguments(t, p, dtype.type(config.epsilon()), dtype.type(1.0), first, second)
    np.log(first, out=first)
    np.log(second, out=second)
    return first, second, dtype.type(0.0)


def _squared_logarithmic_block(t, p, dtype):
    first, second, _ = _squared_logarithmic_buffers(t, p, dtype)
    return squared_logarithmic_sum(first, second)


def _log_cosh_buffers(t, p, dtype):
    """``(|e|, log1p(exp(-2|e|)), log(2))``: LogCosh's :func:`hybrid_term` buffers."""
    absolute, scaled = np.empty(t.size, dtype), np.empty(t.size, dtype)
    log_cosh_arguments(t, p, dtype.type(-2.0), absolute, scaled)
    np.exp(scaled, out=scaled)
    np.log1p(scaled, out=scaled)
    return absolute, scaled, dtype.type(math.log(2.0))


def _log_cosh_block(t, p, dtype):
    absolute, softplus, log_two = _log_cosh_buffers(t, p, dtype)
    return log_cosh_sum(absolute, softplus, log_two)


@numba.njit(cache=True, nogil=True)
def poisson_arguments(p, eps, shifted):
    """:func:`regloss.formulas.poisson_error`, before its log: ``shifted = p + eps``."""
    for i in range(p.size):
        shifted[i] = p[i] + eps


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def poisson_sum(t, p, logs):
    """... and after it: ``sum(p - t log(p + eps))`` in float64 (each term in the input dtype)."""
    total = 0.0
    for i in range(t.size):
        total += p[i] - t[i] * logs[i]
    return total


def _poisson_buffers(t, p, dtype):
    """``(p, t log(p + eps), 0)``: Poisson's :func:`hybrid_term` buffers (``p`` the input's view;
    the product rounded to the input dtype, as the generic function forms it)."""
    scaled = np.empty(t.size, dtype)
    poisson_arguments(p, dtype.type(config.epsilon()), scaled)
    np.log(scaled, out=scaled)
    np.multiply(t, scaled, out=scaled)
    return p, scaled, dtype.type(0.0)


HYBRID_ROWS = {
    "squared_logarithmic_error": (0, _squared_logarithmic_buffers),
    "log_cosh_error": (1, _log_cosh_buffers),
    "poisson_error": (2, _poisson_buffers),
}
"""MSLE, LogCosh and Poisson with weights, masks or per-sample results: the ``kind`` of
:func:`hybrid_term` and the function filling a block's two buffers (NumPy's ufuncs), summed per
sample by :func:`hybrid_rows`."""


def _poisson_block(t, p, dtype):
    shifted = np.empty(t.size, dtype)
    poisson_arguments(p, dtype.type(config.epsilon()), shifted)
    np.log(shifted, out=shifted)
    return poisson_sum(t, p, shifted)


# torch's PoissonNLLLoss: NumPy's exp (log_input) or log (the rate) on a block, and with full=True
# NumPy's logs of the Stirling term; numba fuses the rest and the float64 sum.


@numba.njit(cache=True, nogil=True)
def stirling_arguments(t, one, two_pi, safe, scaled):
    """:func:`regloss.formulas.stirling_term`, before its logs: ``safe = t if t > 1 else 1`` and
    ``scaled = 2 pi safe``."""
    for i in range(t.size):
        y = t[i]
        s = y if y > one else one
        safe[i] = s
        scaled[i] = two_pi * s


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def poisson_nll_sum(t, p, transformed, log_input, full, safe_log, scaled_log, half):
    """... and after them: ``sum(exp(p) - t p)`` (``transformed = exp(p)``, ``log_input``) or
    ``sum(p - t log(p + eps))`` (``transformed = log(p + eps)``), plus the Stirling term where
    ``t > 1`` when ``full`` (``safe_log = log(max(t, 1))``, ``scaled_log = log(2 pi max(t, 1))``),
    each term in the input dtype, the sum in float64."""
    total = 0.0
    for i in range(t.size):
        y = t[i]
        x = p[i]
        if log_input:  # noqa: SIM108 - as the generic function
            value = transformed[i] - y * x
        else:
            value = x - y * transformed[i]
        if full and y > 1:  # elsewhere the generic function adds an exact 0
            value = value + ((y * safe_log[i] - y) + half * scaled_log[i])
        total += value
    return total


def _poisson_nll_block(t, p, dtype, log_input=True, full=False, eps=1e-8):
    transformed = np.empty(t.size, dtype)
    if log_input:
        np.exp(p, out=transformed)
    else:
        poisson_arguments(p, dtype.type(eps), transformed)
        np.log(transformed, out=transformed)
    safe_log = scaled_log = transformed  # unused without full
    if full:
        safe_log, scaled_log = np.empty(t.size, dtype), np.empty(t.size, dtype)
        stirling_arguments(t, dtype.type(1.0), dtype.type(2.0 * math.pi), safe_log, scaled_log)
        np.log(safe_log, out=safe_log)
        np.log(scaled_log, out=scaled_log)
    half = dtype.type(0.5)
    return poisson_nll_sum(t, p, transformed, bool(log_input), bool(full), safe_log, scaled_log, half)


HYBRID = {
    "squared_logarithmic_error": _squared_logarithmic_block,
    "log_cosh_error": _log_cosh_block,
    "poisson_error": _poisson_block,
    "poisson_nll_error": _poisson_nll_block,
}
"""Kernel id (:attr:`regloss.specs.LossSpec.kernel`) -> the sum of its errors over one block, NumPy
ufuncs for the transcendental step (scalar reductions without weights; other calls take the
blocked tier)."""


def _parameters(kernel: str, params: dict):
    """``(a, b)`` of the error ``kernel`` as Python floats (cast to the input dtype at the call)."""
    if kernel == "absolute_percentage_error":
        return config.epsilon(), 0.0
    if kernel == "huber_error":
        return float(params.get("delta", 1.0)), 0.5
    if kernel == "quantile_error":
        return float(params.get("tau", 0.5)), 0.0
    if kernel == "smooth_l1_error":
        return float(params.get("beta", 1.0)), 0.5
    return 0.0, 0.0


# ------------------------------------------------------------------------------ kernels


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True)
def _error_sum(kind, t, p, a, b):
    """``sum(error(t_i, p_i))`` of two 1-D views of one length, in float64. The kernels call it on
    slices: a loop over a whole view vectorises, one over ``range(start, stop)`` of the full arrays
    inside a ``prange`` body does not."""
    total = 0.0
    for i in range(t.size):
        total += _error(kind, t[i], p[i], a, b)
    return total


@numba.njit(parallel=True, cache=True)
def _flat_kernel(kind, t, p, a, b, block, out):
    n = t.size
    for k in numba.prange(out.size):
        start = k * block
        stop = min(start + block, n)
        out[k] = _error_sum(kind, t[start:stop], p[start:stop], a, b)


_SLICED_ROW_COLUMNS = 64
"""Rows at least this long are summed over their own slices (vectorised); shorter ones element by
element (a slice per short row costs more than its sum; docs/performance.md)."""


@numba.njit(cache=True, nogil=True)
def _row_value(total, count, cols, masked, scale, w):
    """``(v w, present)`` of one sample: ``v = scale * total / max(count, 1)`` (``count = cols``
    without a mask), 0 when every entry is masked."""
    kept = count if masked else cols
    loss = total / (kept if kept > 1 else 1)
    if scale != 1.0:
        loss *= scale
    if kept == 0:
        return 0.0, 0.0
    return loss * w, 1.0


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS, inline="always")
def _rows_of(kind, masked, t, p, m, a, b, cols, first, sums, counts):
    """``sums[i] = sum_c e(t', p')`` of the sample ``first + i`` (rows of ``cols``), each a float64
    sum, and with an element mask (``masked``; ``m`` its uint8 view) ``counts[i] = sum_c m``, where
    ``t' = t if m else 0`` (``p'`` alike; NaN included, as the generic path zeroes masked entries):
    every restated error is an exact 0 at ``t = p = 0``. Each row is a loop over its own slices
    that the compiler vectorises (the masked one a select), once ``kind`` is a constant (see
    :func:`_row_sums`); short rows without a mask are summed element by element (a slice per
    short row costs more than its sum)."""
    zero = a - a  # 0 in the input dtype (the parameters are finite)
    if masked:
        for i in range(sums.size):
            start = (first + i) * cols
            tt = t[start : start + cols]
            pp = p[start : start + cols]
            mm = m[start : start + cols]
            total = 0.0
            count = 0
            for j in range(cols):
                keep = mm[j] != 0
                total += _error(kind, tt[j] if keep else zero, pp[j] if keep else zero, a, b)
                count += mm[j]
            sums[i] = total
            counts[i] = count
    elif cols >= _SLICED_ROW_COLUMNS:
        for i in range(sums.size):
            start = (first + i) * cols
            tt = t[start : start + cols]
            pp = p[start : start + cols]
            total = 0.0
            for j in range(cols):
                total += _error(kind, tt[j], pp[j], a, b)
            sums[i] = total
    else:
        for i in range(sums.size):
            start = (first + i) * cols
            total = 0.0
            for j in range(start, start + cols):
                total += _error(kind, t[j], p[j], a, b)
            sums[i] = total


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def _row_sums(kind, masked, t, p, m, a, b, cols, first, sums, counts):
    """:func:`_rows_of` with ``kind`` a literal in each branch: it is inlined in numba's IR
    (``inline="always"``), so each copy has its error's loops alone. With ``kind`` a variable, the
    masked select defeats the hoisting of :func:`_error`'s branch (measured 4-10x slower), and
    with more branches around them the unmasked loops too; a dispatch per row instead of per
    block was 1.1-1.3x slower."""
    if kind == 0:
        _rows_of(0, masked, t, p, m, a, b, cols, first, sums, counts)
    elif kind == 1:
        _rows_of(1, masked, t, p, m, a, b, cols, first, sums, counts)
    elif kind == 2:
        _rows_of(2, masked, t, p, m, a, b, cols, first, sums, counts)
    elif kind == 3:
        _rows_of(3, masked, t, p, m, a, b, cols, first, sums, counts)
    elif kind == 4:
        _rows_of(4, masked, t, p, m, a, b, cols, first, sums, counts)
    else:
        _rows_of(5, masked, t, p, m, a, b, cols, first, sums, counts)


@numba.njit(cache=True, nogil=True)
def _finish_row_block(sums, counts, masked, cols, scale, weight, first, rows, out):
    """``(sum v w, present samples, sum of the present samples' weights)`` of the samples
    ``first + i`` from their sums (and kept counts when ``masked``; :func:`_row_value`), writing
    ``v w`` into ``out[first + i]`` when ``out`` has ``rows`` entries."""
    write = out.size == rows
    total = 0.0
    count = 0.0
    weight_sum = 0.0
    for i in range(sums.size):
        r = first + i
        w = _F64(weight[r] if weight.size == rows else weight[0])
        value, present = _row_value(sums[i], counts[i] if masked else cols, cols, masked, scale, w)
        if write:
            out[r] = value
        total += value
        count += present
        weight_sum += w * present
    return total, count, weight_sum


@numba.njit(parallel=True, cache=True)
def _row_kernel(kind, t, p, m, masked, a, b, cols, scale, weight, per_block, rows, out, totals):
    """Mean-over-outputs losses per sample, in row blocks of ``per_block`` samples: the rows'
    sums (with an element mask when ``masked``; :func:`_row_sums`) into a block buffer, then
    ``v w`` per sample into ``out`` when it has ``rows`` entries (``reduction="none"``), and per
    block ``totals[k] = (sum v w, present samples, sum of the present samples' weights)``
    (:func:`_finish_row_block`). The row loops are functions of their own: written inside the
    ``prange`` body they compiled to code 1.3-1.7x slower (measured on the whole call)."""
    for k in numba.prange(totals.shape[0]):
        first, last = k * per_block, min((k + 1) * per_block, rows)
        sums = np.empty(last - first, dtype=_F64)
        counts = np.empty(last - first if masked else 0, dtype=np.int64)
        _row_sums(kind, masked, t, p, m, a, b, cols, first, sums, counts)
        total, count, weight_sum = _finish_row_block(
            sums, counts, masked, cols, scale, weight, first, rows, out
        )
        totals[k, 0] = total
        totals[k, 1] = count
        totals[k, 2] = weight_sum


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS, inline="always")
def _hybrid_rows_of(kind, masked, x, y, c, m, cols, sums, counts):
    """``sums[i] = sum_c (m) term`` and, when ``masked``, ``counts[i] = sum_c m`` of the row ``i``
    of a block's :func:`hybrid_term` buffers (rows of ``cols``; each over the row's own slices: a
    loop over a whole view vectorises). Masked terms are selected away, so NaN and inf there never
    reach a sum. Inlined with ``kind`` a literal (:func:`hybrid_rows`), as :func:`_rows_of`; an
    inlined function takes its caller's fastmath flags (the caller needs ``reassoc`` for the sums
    to vectorise: measured 5x slower without), while the terms keep their own (none), since
    :func:`hybrid_term` and :func:`_error` stay calls in numba's IR."""
    if masked:
        for i in range(sums.size):
            start = i * cols
            xx = x[start : start + cols]
            yy = y[start : start + cols]
            mm = m[start : start + cols]
            total = 0.0
            count = 0
            for j in range(cols):
                keep = mm[j]
                term = hybrid_term(kind, xx[j], yy[j], c)
                total += term if keep else 0.0
                count += keep
            sums[i] = total
            counts[i] = count
    else:
        for i in range(sums.size):
            start = i * cols
            xx = x[start : start + cols]
            yy = y[start : start + cols]
            total = 0.0
            for j in range(cols):
                total += hybrid_term(kind, xx[j], yy[j], c)
            sums[i] = total


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def hybrid_rows(kind, x, y, c, m, masked, cols, scale, weight, first, rows, out, totals, block):
    """The samples ``first, first + 1, ...`` whose :func:`hybrid_term` buffers are ``x``/``y`` (whole
    rows of ``cols``; ``m`` the mask's uint8 view of the same rows when ``masked``): their sums
    (:func:`_hybrid_rows_of`), then ``v w`` into ``out[first + r]`` when ``out`` has ``rows``
    entries, and ``totals[block] = (sum v w, present samples, sum of the present samples'
    weights)`` (:func:`_finish_row_block`)."""
    samples = x.size // cols
    sums = np.empty(samples, dtype=_F64)
    counts = np.empty(samples if masked else 0, dtype=np.int64)
    if kind == 0:
        _hybrid_rows_of(0, masked, x, y, c, m, cols, sums, counts)
    elif kind == 1:
        _hybrid_rows_of(1, masked, x, y, c, m, cols, sums, counts)
    else:
        _hybrid_rows_of(2, masked, x, y, c, m, cols, sums, counts)
    total, count, weight_sum = _finish_row_block(sums, counts, masked, cols, scale, weight, first, rows, out)
    totals[block, 0] = total
    totals[block, 1] = count
    totals[block, 2] = weight_sum


@numba.njit(parallel=True, fastmath=_KERNEL_FLAGS, cache=True)
def _column_kernel(kind, t, p, a, b, cols, weight, weighted, per_block, out):
    """Per-output sums ``out[k, j] = sum_r w_r error(t_rj, p_rj)`` over row blocks ``k`` of
    ``per_block`` samples (``w_r = 1`` unless ``weighted``); ``out`` starts at zero. One output:
    each block is one vectorised :func:`_error_sum` (times the weights, row by row, if weighted)."""
    rows = t.size // cols
    for k in numba.prange(out.shape[0]):
        first, last = k * per_block, min((k + 1) * per_block, rows)
        if cols == 1 and not weighted:
            out[k, 0] = _error_sum(kind, t[first:last], p[first:last], a, b)
        elif cols == 1:
            total = 0.0
            for r in range(first, last):
                total += weight[r] * _error(kind, t[r], p[r], a, b)
            out[k, 0] = total
        else:
            for r in range(first, last):
                w = weight[r] if weighted else 1.0
                base = r * cols
                for j in range(cols):
                    out[k, j] += w * _error(kind, t[base + j], p[base + j], a, b)


ERRORS = {kernel: kind for kind, kernel in enumerate(RESTATED_ERRORS)}
"""Kernel id (:attr:`regloss.specs.LossSpec.kernel`) -> the ``kind`` of its restatement in
:func:`_error`. MSLE, LogCosh, Poisson and PoissonNLL are left to the blocked tier, whose NumPy
ufuncs are SIMD (see the module docstring), except for the scalar reductions of :data:`HYBRID`."""


def _set_threads():
    numba.set_num_threads(max(1, min(config.num_threads(), numba.config.NUMBA_NUM_THREADS)))


# ------------------------------------------------------------------------------ evaluation


def evaluate(formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype):
    """The loss of validated NumPy inputs as :func:`regloss.kernels.blocked.evaluate` computes it,
    or ``None`` when this tier does not cover the call (the blocked tier then runs)."""
    if type(formula) is formulas.OverAxes:
        return _over_axes(formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype)
    if type(formula) is not formulas.MeanOverOutputs:
        return None
    kernel = specs.kernel_of(formula)
    plain = element_mask is None and sample_weight is None and reduction is not None and reduction != "none"
    if kernel in HYBRID and (plain or kernel not in HYBRID_ROWS):
        if element_mask is not None:
            return None
        return _hybrid(kernel, formula, params, y_true, y_pred, sample_weight, reduction, out_dtype)
    if kernel in HYBRID_ROWS or not plain:
        arrays = (y_true, y_pred, element_mask, sample_weight)
        return _rows(kernel, formula, params, *arrays, reduction, out_dtype)
    kind = ERRORS.get(kernel)
    if kind is None or not _covered_arrays(y_true, y_pred, None) or _array_params(params):
        return None
    dtype = y_pred.dtype
    a, b = (dtype.type(value) for value in _parameters(kernel, params))
    true, pred = y_true.reshape(-1), y_pred.reshape(-1)
    cols = y_pred.shape[-1]
    out = np.empty(-(-true.size // BLOCK_ELEMENTS), dtype=_F64)
    with _launch:
        _set_threads()
        _flat_kernel(kind, true, pred, a, b, BLOCK_ELEMENTS, out)
    total = float(np.add.reduce(out)) * formula.scale / cols
    return blocked.finish(reduction, False, out_dtype, total, count=true.size // cols)


def _array_params(params) -> bool:
    """Whether a hyper-parameter is an array (these calls take the blocked or generic path)."""
    return any(hasattr(value, "dtype") for value in params.values())


def _covered_arrays(y_true, y_pred, element_mask) -> bool:
    """Inputs of one float32/float64 dtype and shape, rank >= 2, non-empty, C-contiguous (the
    mask too)."""
    shape, dtype = y_pred.shape, y_pred.dtype
    return (
        len(shape) >= 2
        and y_pred.size > 0
        and dtype in (np.float32, np.float64)
        and y_true.dtype == dtype
        and y_true.shape == shape
        and y_true.flags.c_contiguous
        and y_pred.flags.c_contiguous
        and (element_mask is None or element_mask.flags.c_contiguous)
    )


def _row_outputs(reduction, rows, per_block, out_dtype):
    """``(reducing, out, totals)`` of a row-block kernel: ``out`` holds the per-sample results for
    ``"none"`` (in ``out_dtype`` when float32/float64: no float64 copy), else is empty."""
    reducing = reduction is not None and reduction != "none"
    direct = out_dtype in (np.float32, np.float64)
    out = np.empty(0 if reducing else rows, dtype=out_dtype if direct else _F64)
    totals = np.empty((-(-rows // per_block), 3), dtype=_F64)
    return reducing, out, totals


def _finish_rows(reducing, out, totals, per_sample_shape, sample_weight, masked, reduction, out_dtype):
    """The result of a row-block kernel: the per-sample values, or the reduced block totals (added
    in block order: bit-identical for any thread count) as :func:`regloss.kernels.blocked.evaluate`
    reduces them (without a mask, a weighted mean divides by the sum of the un-broadcast weight)."""
    if not reducing:
        return (out if out.dtype == out_dtype else out.astype(out_dtype)).reshape(per_sample_shape)
    total = count = weight_sum = 0.0
    for block_total, block_count, block_weight_sum in totals:
        total, count, weight_sum = total + block_total, count + block_count, weight_sum + block_weight_sum
    weighted = sample_weight is not None
    if weighted and not masked:
        weight_sum = float(np.add.reduce(np.asarray(sample_weight), axis=None, dtype=_F64))
    return blocked.finish(reduction, weighted, out_dtype, total, count, weight_sum)


def _rows(kernel, formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype):
    """Mean-over-outputs losses per sample: with an element mask (the restated errors of
    :data:`ERRORS` in :func:`_row_kernel`), and MSLE/LogCosh/Poisson with weights, masks or
    per-sample results (:data:`HYBRID_ROWS`: NumPy's ufuncs on row blocks in the blocked tier's
    threads, :func:`hybrid_rows` after them); None when not covered."""
    if not _covered_arrays(y_true, y_pred, element_mask) or _array_params(params):
        return None
    kind = ERRORS.get(kernel)
    if kernel not in HYBRID_ROWS and kind is None:
        return None
    shape, dtype = y_pred.shape, y_pred.dtype
    true, pred = y_true.reshape(-1), y_pred.reshape(-1)
    cols = shape[-1]
    rows = true.size // cols
    weight = _row_weights(sample_weight, shape[:-1], rows)
    masked = element_mask is not None
    mask = _mask_bytes(element_mask)
    scale = float(formula.scale)
    if kind is not None:
        per_block = max(1, BLOCK_ELEMENTS // cols)
        reducing, out, totals = _row_outputs(reduction, rows, per_block, out_dtype)
        a, b = (dtype.type(value) for value in _parameters(kernel, params))
        with _launch:
            _set_threads()
            _row_kernel(
                kind, true, pred, mask, masked, a, b, cols, scale, weight, per_block, rows, out, totals
            )
        return _finish_rows(reducing, out, totals, shape[:-1], sample_weight, masked, reduction, out_dtype)

    term, buffers = HYBRID_ROWS[kernel]
    # the two buffers of a block per thread, as the scalar call's flat blocks (:func:`_hybrid`);
    # per-sample results are the call's output, not counted in the 1% memory target (they take
    # 4 bytes per sample whatever the blocks: half-size blocks for them cost 1.2-1.4x the time)
    per_block = max(1, blocked.block_elements(2) // cols)
    reducing, out, totals = _row_outputs(reduction, rows, per_block, out_dtype)

    def block(index):
        first, last = index * per_block, min((index + 1) * per_block, rows)
        view = slice(first * cols, last * cols)
        x, y, c = buffers(true[view], pred[view], dtype)
        block_mask = mask[view] if masked else mask
        hybrid_rows(term, x, y, c, block_mask, masked, cols, scale, weight, first, rows, out, totals, index)

    blocked.run_blocks(block, totals.shape[0], true.size)
    return _finish_rows(reducing, out, totals, shape[:-1], sample_weight, masked, reduction, out_dtype)


def _hybrid(kernel, formula, params, y_true, y_pred, sample_weight, reduction, out_dtype):
    """MSLE, LogCosh, Poisson and PoissonNLL reduced to a scalar without weights: flat blocks of
    ``regloss.kernels.blocked.block_elements(2)`` elements (the two buffers of a block are its live
    arrays), in the blocked tier's threads (the numba steps release the GIL), summed in block order."""
    shape, dtype = y_pred.shape, y_pred.dtype
    if (
        reduction is None
        or reduction == "none"
        or sample_weight is not None
        or len(shape) < 2
        or y_pred.size == 0
        or dtype not in (np.float32, np.float64)
        or y_true.dtype != dtype
        or y_true.shape != shape
        or not (y_true.flags.c_contiguous and y_pred.flags.c_contiguous)
    ):
        return None
    block_sum = HYBRID[kernel]
    true, pred = y_true.reshape(-1), y_pred.reshape(-1)
    size = true.size
    step = blocked.block_elements(3 if params.get("full") else 2)  # PoissonNLL's full: 3 buffers

    def block(index):
        start, stop = index * step, (index + 1) * step
        return block_sum(true[start:stop], pred[start:stop], dtype, **params)

    total = 0.0
    for value in blocked.run_blocks(block, -(-size // step), size):
        total += value
    cols = shape[-1]
    total = total * formula.scale / cols
    return blocked.finish(reduction, False, out_dtype, total, count=size // cols)


# ------------------------------------------------------------------ cosine, Dice, Tversky
# The per-sample value of an ``OverAxes`` loss depends on its inputs through three sums over the
# reduced elements (:data:`OVERLAPS`): one pass over both inputs collects them in float64 (each
# product in the input dtype, as the generic formula forms it), and the loss is finished from them
# in float64 (:func:`overlap_loss`). Masked entries are zeros in the generic formula: they are
# skipped here, which adds the same zeros.

OVERLAPS = blocked.OVERLAPS


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True)
def overlap_sums(kind, t, p, m, masked, one):
    """``(s0, s1, s2, present)`` over two 1-D views of one length (``m``: the mask's view, read when
    ``masked``; ``present``: 1.0 when an entry is kept): cosine (kind 0) ``sum(t p)``, ``sum(t t)``,
    ``sum(p p)``; Dice (1) and Tversky (2) ``sum(t p)``, ``sum(t)``, ``sum(p)``; float64 sums of
    input-dtype terms (``one`` is 1 in the input dtype)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    kept = 0
    zero = one - one
    for i in range(t.size):
        x = t[i]
        y = p[i]
        if masked:
            keep = m[i]
            x = x if keep else zero
            y = y if keep else zero
            kept += keep
        s0 += x * y
        if kind == 0:
            s1 += x * x
            s2 += y * y
        else:
            s1 += x
            s2 += y
    present = 1.0 if (kept > 0 or not masked) else 0.0
    return s0, s1, s2, present


_inlined_overlap_sums = numba.njit(fastmath=_KERNEL_FLAGS, cache=True, inline="always")(overlap_sums.py_func)
""":func:`overlap_sums` inlined where its ``kind`` and ``masked`` are literals (the row kernel); the
flat kernel calls the function itself (inlined there with ``kind`` a variable it took 1.6-1.8x the
floor for Dice and Tversky instead of 1.0-1.1x)."""

overlap_loss = numba.njit(cache=True)(blocked.overlap_loss)
""":func:`regloss.kernels.blocked.overlap_loss`, compiled (the kernels call it on scalars)."""


@numba.njit(parallel=True, cache=True)
def _overlap_flat_kernel(kind, t, p, m, masked, one, block, out):
    """Flat blocks of ``block`` elements -> ``out[k] = (s0, s1, s2, present)`` of block ``k``."""
    n = t.size
    for k in numba.prange(out.shape[0]):
        start = k * block
        stop = min(start + block, n)
        ms = m[start:stop] if masked else m
        s0, s1, s2, present = overlap_sums(kind, t[start:stop], p[start:stop], ms, masked, one)
        out[k, 0] = s0
        out[k, 1] = s1
        out[k, 2] = s2
        out[k, 3] = present


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS, inline="always")
def _overlap_rows_of(kind, masked, t, p, m, one, cols, first, sums):
    """``sums[i] = (s0, s1, s2, present)`` (:func:`overlap_sums`) of the sample ``first + i``, rows
    of ``cols``. Inlined with ``kind`` a literal (:func:`_overlap_row_sums`), so that each copy's
    row loop is its own sums alone, which the compiler vectorises (with ``kind`` a variable the
    cosine rows took 1.3x longer: measured 5.3 against 4.0 ms on ``(100000, 100)`` float32)."""
    for i in range(sums.shape[0]):
        start = (first + i) * cols
        tt, pp = t[start : start + cols], p[start : start + cols]
        if masked:  # a literal in each call: the unmasked loop has no select
            s0, s1, s2, present = _inlined_overlap_sums(kind, tt, pp, m[start : start + cols], True, one)
        else:
            s0, s1, s2, present = _inlined_overlap_sums(kind, tt, pp, m, False, one)
        sums[i, 0] = s0
        sums[i, 1] = s1
        sums[i, 2] = s2
        sums[i, 3] = present


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def _overlap_row_sums(kind, masked, t, p, m, one, cols, first, sums):
    """:func:`_overlap_rows_of` with ``kind`` a literal in each branch (as :func:`_row_sums`)."""
    if kind == 0:
        _overlap_rows_of(0, masked, t, p, m, one, cols, first, sums)
    elif kind == 1:
        _overlap_rows_of(1, masked, t, p, m, one, cols, first, sums)
    else:
        _overlap_rows_of(2, masked, t, p, m, one, cols, first, sums)


@numba.njit(parallel=True, cache=True)
def _overlap_row_kernel(
    kind, t, p, m, masked, one, cols, eps, alpha, beta, weight, per_block, rows, out, totals
):
    """Per-sample losses of row blocks of ``per_block`` samples: ``v_r w_r`` (0 for a sample with
    every entry masked) into ``out`` when it has ``rows`` entries (``reduction="none"``), and per
    block ``totals[k] = (sum v w, present samples, sum of the present samples' weights)``;
    ``weight`` holds one value per sample, or one for all (see :func:`_row_weights`). The rows'
    sums go to a block buffer first (:func:`_overlap_row_sums`)."""
    write = out.size == rows
    for k in numba.prange(totals.shape[0]):
        first, last = k * per_block, min((k + 1) * per_block, rows)
        sums = np.empty((last - first, 4), dtype=_F64)
        _overlap_row_sums(kind, masked, t, p, m, one, cols, first, sums)
        total = 0.0
        count = 0.0
        weight_sum = 0.0
        for i in range(last - first):
            r = first + i
            present = sums[i, 3]
            loss = overlap_loss(kind, sums[i, 0], sums[i, 1], sums[i, 2], eps, alpha, beta)
            w = _F64(weight[r] if weight.size == rows else weight[0])
            value = loss * w if present > 0.0 else 0.0
            if write:
                out[r] = value
            total += value
            count += present
            weight_sum += w * present
        totals[k, 0] = total
        totals[k, 1] = count
        totals[k, 2] = weight_sum


def _mask_bytes(element_mask):
    """The element mask as a flat uint8 view (no copy; measured ~20% faster in the kernels than a
    bool view), or one zero byte without a mask."""
    if element_mask is None:
        return np.zeros(1, dtype=np.uint8)
    return element_mask.reshape(-1).view(np.uint8)


def _row_weights(sample_weight, per_sample_shape, rows):
    """A 1-D float32/float64 view of the weight with one value per sample (no copy when it is
    already one), or a one-element array when one value applies to every sample (1 without weights)."""
    if sample_weight is None:
        return np.ones(1, dtype=_F64)
    weight = np.asarray(sample_weight)
    if weight.size == 1 and rows != 1:
        return weight.astype(_F64).reshape(1)
    weight = np.broadcast_to(weight, per_sample_shape).reshape(-1)
    if weight.dtype not in (np.float32, np.float64) or not weight.flags.c_contiguous:
        weight = np.ascontiguousarray(weight, dtype=_F64)
    return weight


def _over_axes(formula, params, y_true, y_pred, element_mask, sample_weight, reduction, out_dtype):
    """Cosine, Dice and Tversky over trailing axes (and Dice/Tversky over every axis) of
    C-contiguous inputs, as :func:`regloss.kernels.blocked.evaluate` computes them, or None."""
    kind = OVERLAPS.get(getattr(formula.formula, "__name__", None))
    shape, dtype = y_pred.shape, y_pred.dtype
    if (
        kind is None
        or y_pred.size == 0
        or dtype not in (np.float32, np.float64)
        or y_true.dtype != dtype
        or y_true.shape != shape
        or not (y_true.flags.c_contiguous and y_pred.flags.c_contiguous)
        or (element_mask is not None and not element_mask.flags.c_contiguous)
    ):
        return None
    k = blocked.trailing_split(formula, params, y_pred.ndim)
    if k is None:
        return None
    true, pred = y_true.reshape(-1), y_pred.reshape(-1)
    masked = element_mask is not None
    mask = _mask_bytes(element_mask)
    one = dtype.type(1.0)
    eps = float(config.epsilon())
    alpha, beta = float(params.get("alpha", 0.5)), float(params.get("beta", 0.5))
    if k == 0:  # Dice / Tversky over every axis: one loss for the batch
        out = np.empty((-(-true.size // BLOCK_ELEMENTS), 4), dtype=_F64)
        with _launch:
            _set_threads()
            _overlap_flat_kernel(kind, true, pred, mask, masked, one, BLOCK_ELEMENTS, out)
        s0 = s1 = s2 = present = 0.0
        for row in out:  # in block order: bit-identical for any thread count
            s0, s1, s2, present = s0 + row[0], s1 + row[1], s2 + row[2], max(present, row[3])
        loss = _F64(overlap_loss(kind, s0, s1, s2, eps, alpha, beta))
        return blocked._finish_sample(loss, bool(present) if masked else None, sample_weight, out_dtype)

    rows = math.prod(shape[:k])
    cols = true.size // rows
    per_sample_shape = shape[:k]
    weight = _row_weights(sample_weight, per_sample_shape, rows)
    per_block = max(1, BLOCK_ELEMENTS // cols)
    reducing, out, totals = _row_outputs(reduction, rows, per_block, out_dtype)
    with _launch:
        _set_threads()
        _overlap_row_kernel(
            kind, true, pred, mask, masked, one, cols, eps, alpha, beta, weight, per_block, rows, out,
            totals,
        )  # fmt: skip
    return _finish_rows(reducing, out, totals, per_sample_shape, sample_weight, masked, reduction, out_dtype)


# ------------------------------------------------------------------------------ bootstrap


@numba.njit(cache=True)
def poisson_mix(x):
    """:func:`regloss.metrics.poisson` ``mix`` on a word held in uint64 (products reduced mod 2**32)."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


_POISSON_TABLE_SIZE = 12
"""``len(regloss.metrics.poisson.THRESHOLDS)``, checked at each call of the kernel."""


@numba.njit(cache=True)
def poisson_count(word, thresholds):
    """:func:`regloss.metrics.poisson.counts_from_bits` of one word: the thresholds it reaches
    (every one compared: a loop that stops early mispredicts its branch)."""
    count = 0
    for k in range(_POISSON_TABLE_SIZE):  # a compile-time bound: unrolled (3x faster than .size)
        count += word >= thresholds[k]
    return count


_POISSON_BLOCK = 4096
"""Rows per block of counts (a float64 buffer that stays in L1/L2)."""


@numba.njit(parallel=True, fastmath=_KERNEL_FLAGS, cache=True)
def _poisson_weighted_sums(row_keys, replicate_keys, thresholds, terms_by_column, out):
    columns, rows = terms_by_column.shape
    for r in numba.prange(replicate_keys.size):
        key = numba.uint64(replicate_keys[r])
        counts = np.empty(_POISSON_BLOCK, dtype=np.float64)
        sums = np.zeros(columns, dtype=np.float64)
        for first in range(0, rows, _POISSON_BLOCK):
            size = min(_POISSON_BLOCK, rows - first)
            for b in range(size):
                counts[b] = poisson_count(poisson_mix(numba.uint64(row_keys[first + b]) ^ key), thresholds)
            for j in range(columns):
                total = 0.0
                for b in range(size):
                    total += counts[b] * terms_by_column[j, first + b]
                sums[j] += total
        for j in range(columns):
            out[r, j] = sums[j]


def poisson_weighted_sums(row_keys, replicate_keys, thresholds, terms):
    """``out[r, j] = sum_b c(r, b) * terms[b, j]`` with ``c`` the Poisson count of row ``b`` in
    replicate ``r``: the bootstrap's
    replicate sums in one pass, parallel over replicates; each replicate's sum runs over blocks of
    rows in order, with a fixed vectorised order inside a block, so it is bit-identical for any
    thread count. ``row_keys``/``replicate_keys``: uint32 keys of :mod:`regloss.metrics.poisson`;
    ``terms``: float64 ``(rows, columns)``."""
    if len(thresholds) != _POISSON_TABLE_SIZE:
        raise ValueError(f"the Poisson table has {len(thresholds)} thresholds; the kernel expects 12")
    out = np.empty((replicate_keys.size, terms.shape[1]), dtype=_F64)
    with _launch:
        _set_threads()
        _poisson_weighted_sums(
            np.ascontiguousarray(row_keys, dtype=np.uint32),
            np.ascontiguousarray(replicate_keys, dtype=np.uint32),
            np.asarray(thresholds, dtype=np.uint64),
            np.ascontiguousarray(np.asarray(terms, dtype=_F64).T),
            out,
        )
    return out


def column_sums(kernel: str, a: float, b: float, y_true, y_pred, sample_weight):
    """Per-output float64 sums ``sum_i w_i error(y_true_ij, y_pred_ij)`` of ``(rows, cols)``
    C-contiguous float32/float64 arrays of one dtype (``w`` float64 1-D or None), by row blocks of
    about :data:`BLOCK_ELEMENTS` elements summed in block order (bit-identical for any number of
    threads); ``a``, ``b``: the error's parameters. ``None`` when ``kernel`` has no restatement here
    or the arrays do not qualify (the caller's NumPy path runs)."""
    kind = ERRORS.get(kernel)
    dtype = y_pred.dtype
    if (
        kind is None
        or y_pred.ndim != 2
        or y_true.shape != y_pred.shape
        or y_pred.size == 0
        or dtype not in (np.float32, np.float64)
        or y_true.dtype != dtype
        or not (y_true.flags.c_contiguous and y_pred.flags.c_contiguous)
    ):
        return None
    rows, cols = y_pred.shape
    per_block = max(1, BLOCK_ELEMENTS // cols)
    weighted = sample_weight is not None
    weight = np.ascontiguousarray(sample_weight, dtype=_F64) if weighted else np.ones(1, dtype=_F64)
    out = np.zeros((-(-rows // per_block), cols), dtype=_F64)
    with _launch:
        _set_threads()
        _column_kernel(
            kind,
            y_true.reshape(-1),
            y_pred.reshape(-1),
            dtype.type(a),
            dtype.type(b),
            cols,
            weight,
            weighted,
            per_block,
            out,
        )
    return np.add.reduce(out, axis=0)


# ------------------------------------------------------- the metrics' shared pass (MetricCollection)


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True, nogil=True)
def _error_sum_weighted(kind, t, p, w, a, b):
    """``sum_i w_i error(t_i, p_i)`` of 1-D views of one length."""
    total = 0.0
    for i in range(t.size):
        total += w[i] * _error(kind, t[i], p[i], a, b)
    return total


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True, nogil=True)
def _error_sum_masked(kind, t, p, w, m, weighted, a, b):
    """``sum_i w_i error(t_i, p_i)`` over the ``i`` with ``m_i != 0`` (NaN elsewhere adds nothing;
    ``w_i = 1`` unless ``weighted``)."""
    total = 0.0
    for i in range(t.size):
        value = _error(kind, t[i], p[i], a, b)
        if weighted:
            value *= w[i]
        total += value if m[i] != 0 else 0.0
    return total


@numba.njit(cache=True, nogil=True)
def _weighted_error_sum(kind, t, p, w, m, weighted, masked, a, b):
    """``sum_i w_i m_i error(t_i, p_i)`` of 1-D views of one length (``w_i = 1`` unless
    ``weighted``; rows with ``m_i == 0`` add nothing, NaN there included, if ``masked``): one
    function per case, each a loop that LLVM vectorises with the error's branch hoisted."""
    if masked:
        return _error_sum_masked(kind, t, p, w, m, weighted, a, b)
    if weighted:
        return _error_sum_weighted(kind, t, p, w, a, b)
    return _error_sum(kind, t, p, a, b)


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True, nogil=True)
def _plain_shifted_sums(t, c):
    """``(sum_i d_i, sum_i d_i**2)`` with ``d = t - c``."""
    first = 0.0
    second = 0.0
    for i in range(t.size):
        d = t[i] - c
        first += d
        second += d * d
    return first, second


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True, nogil=True)
def _weighted_shifted_sums(t, c, w, m, weighted, masked):
    """``(sum_i w_i m_i d_i, sum_i w_i m_i d_i**2)`` with ``d = t - c`` (``w_i = 1`` unless
    ``weighted``, ``m_i`` 1 unless ``masked``; a masked-out NaN adds nothing)."""
    first = 0.0
    second = 0.0
    for i in range(t.size):
        kept = m[i] != 0 if masked else True
        d = t[i] - c if kept else 0.0
        wd = w[i] * d if weighted else d
        first += wd
        second += wd * d
    return first, second


@numba.njit(cache=True, nogil=True)
def _shifted_sums(t, c, w, m, weighted, masked):
    """``(sum_i w_i m_i d_i, sum_i w_i m_i d_i**2)`` with ``d = t - c`` (as
    :func:`_weighted_error_sum`)."""
    if weighted or masked:
        return _weighted_shifted_sums(t, c, w, m, weighted, masked)
    return _plain_shifted_sums(t, c)


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True, nogil=True)
def _weight_sums(w, m, weighted, masked, rows):
    """``(sum_i w_i m_i, rows with w_i m_i != 0)`` over ``rows`` rows (as :func:`_weighted_error_sum`)."""
    if not weighted and not masked:
        return float(rows), float(rows)
    total = 0.0
    nonzero = 0.0
    for i in range(rows):
        value = w[i] if weighted else 1.0
        kept = (m[i] != 0) if masked else True
        total += value if kept else 0.0
        nonzero += 1.0 if kept and value != 0.0 else 0.0
    return total, nonzero


@numba.njit(cache=True, nogil=True)
def _shared_block(
    kinds, a, b, t, p, weight, weighted, present, masked, shift, moments, cols, first, last, out
):
    """The sums of the rows ``first:last`` of one block into ``out``: row ``q < K`` the per-output
    ``sum_r w_r error_q(t_rj, p_rj)``; with ``moments``, rows ``K`` and ``K + 1`` ``sum_r w_r d_rj``
    and ``sum_r w_r d_rj**2`` (``d = t - shift``); ``out[K + 2, 0]`` the weight ``sum_r w_r`` and
    ``out[K + 3, 0]`` the rows of non-zero weight. Masked-out rows (``present[r] == 0``) add
    nothing, NaN there included. The block (about :data:`BLOCK_ELEMENTS` elements) stays in cache
    across the loops: it is read from memory once."""
    count = kinds.size
    w = weight[first:last] if weighted else weight
    m = present[first:last] if masked else present
    for j in range(cols):
        if cols == 1:  # contiguous views (a separate call: unified with the strided ones, no SIMD)
            true, pred = t[first:last], p[first:last]
            _column_sums(kinds, a, b, true, pred, w, weighted, m, masked, shift[j], moments, out[:, j])
        else:
            true, pred = t[first * cols + j : last * cols : cols], p[first * cols + j : last * cols : cols]
            _column_sums(kinds, a, b, true, pred, w, weighted, m, masked, shift[j], moments, out[:, j])
    out[count + 2, 0], out[count + 3, 0] = _weight_sums(w, m, weighted, masked, last - first)


@numba.njit(cache=True, nogil=True)
def _column_sums(kinds, a, b, true, pred, w, weighted, m, masked, shift, moments, out):
    """One output's sums of one block into ``out`` (:func:`_shared_block`)."""
    count = kinds.size
    for q in range(count):
        out[q] = _weighted_error_sum(kinds[q], true, pred, w, m, weighted, masked, a[q], b[q])
    if moments:
        out[count], out[count + 1] = _shifted_sums(true, shift, w, m, weighted, masked)


@numba.njit(parallel=True, cache=True)
def _shared_kernel(
    kinds, a, b, t, p, weight, weighted, present, masked, shift, moments, cols, per_block, out
):
    """:func:`_shared_block` of each row block ``k`` of ``per_block`` samples into ``out[k]``."""
    rows = t.size // cols
    for k in numba.prange(out.shape[0]):
        first, last = k * per_block, min((k + 1) * per_block, rows)
        _shared_block(
            kinds, a, b, t, p, weight, weighted, present, masked, shift, moments, cols, first, last, out[k]
        )


def shared_sums(errors, moments: bool, y_true, y_pred, sample_weight, present, shift):
    """Every sum a group of metrics needs from one chunk, in one kernel launch: a dict with
    ``"errors"`` (``(K, cols)``: ``sum_r w_r error_q(y_true_rj, y_pred_rj)`` for each ``(kernel,
    params)`` of ``errors``), with ``moments`` ``"sum"`` and ``"squares"`` (``(cols,)``: ``sum_r w_r
    d_rj`` and ``sum_r w_r d_rj**2``, ``d = y_true - shift``), ``"weight"`` (``sum_r w_r``) and
    ``"nonzero"`` (rows of non-zero weight); ``w_r`` is ``sample_weight`` (1 when None) and rows
    with ``present[r]`` false are left out. ``(rows, cols)`` C-contiguous float64 inputs, 1-D
    weight and mask of ``rows``; row blocks of about :data:`BLOCK_ELEMENTS` elements, each read
    once and summed over while in cache, added in block order (bit-identical for any number of
    threads). None when an error has no restatement here or array parameters."""
    kinds = [ERRORS.get(kernel) for kernel, _ in errors]
    if None in kinds or any(_array_params(params) for _, params in errors):
        return None
    rows, cols = y_pred.shape
    per_block = max(1, BLOCK_ELEMENTS // cols)
    parameters = np.array([_parameters(kernel, params) for kernel, params in errors], dtype=_F64).reshape(
        -1, 2
    )
    weighted, masked = sample_weight is not None, present is not None
    weight = np.ascontiguousarray(sample_weight, dtype=_F64) if weighted else np.ones(1, dtype=_F64)
    mask = present.view(np.uint8) if masked else np.zeros(1, dtype=np.uint8)
    count = len(kinds)
    out = np.zeros((-(-rows // per_block), count + 4, cols), dtype=_F64)
    with _launch:
        _set_threads()
        _shared_kernel(
            np.array(kinds, dtype=np.int64),
            np.ascontiguousarray(parameters[:, 0]),
            np.ascontiguousarray(parameters[:, 1]),
            y_true.reshape(-1),
            y_pred.reshape(-1),
            weight,
            weighted,
            mask,
            masked,
            np.ascontiguousarray(shift, dtype=_F64),
            moments,
            cols,
            per_block,
            out,
        )
    summed = np.add.reduce(out, axis=0)
    found = {
        "errors": summed[:count],
        "weight": float(summed[count + 2, 0]),
        "nonzero": int(summed[count + 3, 0]),
    }
    if moments:
        found["sum"], found["squares"] = summed[count], summed[count + 1]
    return found


# ------------------------------------------------------------------ regloss.sklearn's scores


@numba.njit(fastmath=_KERNEL_FLAGS, cache=True, nogil=True)
def _block_moments(t, p, weight, weighted, first, last, cols, out):
    """The centred moments of the rows ``first:last`` of one block, per output ``j``, into ``out``
    (rows: ``W``, ``mean_w t``, ``sum w (t - mean_w t)**2``, ``sum w (t - p)**2``,
    ``mean_w (t - p)``, ``sum w (t - p - mean_w (t - p))**2``): a first pass for the sums, a second
    for the squares about the block's means, both over a block that stays in cache. Both passes
    run on the values minus the block's first value (``x - x_0``), so a constant block has centred
    squares of exactly zero (scikit-learn's zero denominator of a constant target)."""
    total = 0.0
    for r in range(first, last):
        total += weight[r] if weighted else 1.0
    for j in range(cols):
        true_shift = t[first * cols + j]
        difference_shift = true_shift - p[first * cols + j]
        true_sum = 0.0
        difference_sum = 0.0
        squared = 0.0
        for r in range(first, last):
            w = weight[r] if weighted else 1.0
            x = t[r * cols + j]
            d = x - p[r * cols + j]
            true_sum += w * (x - true_shift)
            difference_sum += w * (d - difference_shift)
            squared += w * (d * d)
        true_mean = true_sum / total if total != 0.0 else 0.0
        difference_mean = difference_sum / total if total != 0.0 else 0.0
        true_centred = 0.0
        difference_centred = 0.0
        for r in range(first, last):
            w = weight[r] if weighted else 1.0
            x = t[r * cols + j]
            a = (x - true_shift) - true_mean
            b = ((x - p[r * cols + j]) - difference_shift) - difference_mean
            true_centred += w * (a * a)
            difference_centred += w * (b * b)
        out[0, j] = total
        out[1, j] = true_shift + true_mean
        out[2, j] = true_centred
        out[3, j] = squared
        out[4, j] = difference_shift + difference_mean
        out[5, j] = difference_centred


@numba.njit(parallel=True, cache=True)
def _moments_kernel(t, p, weight, weighted, cols, per_block, out):
    """:func:`_block_moments` of each row block ``k`` of ``per_block`` samples into ``out[k]``."""
    rows = t.size // cols
    for k in numba.prange(out.shape[0]):
        _block_moments(t, p, weight, weighted, k * per_block, min((k + 1) * per_block, rows), cols, out[k])


@numba.njit(cache=True)
def _merge_moments(blocks):
    """Chan et al.'s pairwise update of the blocks' moments, in block order: for two parts of
    weights ``W_a``, ``W_b`` and means ``m_a``, ``m_b`` (``delta = m_b - m_a``), the merged
    ``W = W_a + W_b``, ``m = m_a + delta W_b / W``, ``M2 = M2_a + M2_b + delta**2 W_a W_b / W``
    (for ``t`` and for ``t - p``; the squared errors simply add). Blocks of zero weight are skipped."""
    merged = blocks[0].copy()
    for k in range(1, blocks.shape[0]):
        block = blocks[k]
        for j in range(blocks.shape[2]):
            w_a, w_b = merged[0, j], block[0, j]
            if w_b == 0.0:
                merged[3, j] += block[3, j]
                continue
            total = w_a + w_b
            for mean_row, m2_row in ((1, 2), (4, 5)):
                delta = block[mean_row, j] - merged[mean_row, j]
                merged[mean_row, j] += delta * (w_b / total)
                merged[m2_row, j] += block[m2_row, j] + delta * delta * (w_a * w_b / total)
            merged[0, j] = total
            merged[3, j] += block[3, j]
    return merged


def _float64_matrices(y_true, y_pred) -> bool:
    """Whether the scikit-learn kernels take the pair: non-empty C-contiguous float64 ``(rows,
    cols)`` arrays of one shape."""
    return (
        y_pred.ndim == 2
        and y_true.shape == y_pred.shape
        and y_pred.size > 0
        and y_pred.dtype == _F64
        and y_true.dtype == _F64
        and y_true.flags.c_contiguous
        and y_pred.flags.c_contiguous
    )


def column_moments(y_true, y_pred, sample_weight):
    """Per-output float64 ``(6, cols)`` moments of :func:`_block_moments` over the whole
    ``(rows, cols)`` C-contiguous float64 arrays (``sample_weight`` float64 1-D, non-negative, or
    None): row blocks of about :data:`BLOCK_ELEMENTS` elements, each two-pass in cache, merged in
    block order (:func:`_merge_moments`; bit-identical for any number of threads). ``None`` when the
    arrays do not qualify."""
    if not _float64_matrices(y_true, y_pred):
        return None
    rows, cols = y_pred.shape
    per_block = max(1, BLOCK_ELEMENTS // cols)
    weighted = sample_weight is not None
    weight = np.ascontiguousarray(sample_weight, dtype=_F64) if weighted else np.ones(1, dtype=_F64)
    out = np.empty((-(-rows // per_block), 6, cols), dtype=_F64)
    with _launch:
        _set_threads()
        _moments_kernel(y_true.reshape(-1), y_pred.reshape(-1), weight, weighted, cols, per_block, out)
    return _merge_moments(out)


# ------------------------------------------------------------ regloss.sklearn's mean-type errors
# scikit-learn's errors whose NumPy forms differ from the Keras ones above (MAPE's float64-eps floor
# and ``|p - t|`` order, MSLE without clipping, the Tweedie deviances): NumPy's SIMD ufuncs take the
# transcendental steps on a block (PyPI numba's scalar libm log1p and pow measured 4-8x slower here),
# numba fuses the arithmetic around them, the domain test and the per-output float64 sums.

SKLEARN_ERRORS = {
    "absolute_percentage_error": 0,
    "squared_log1p_error": 1,
    "poisson_deviance": 2,
    "gamma_deviance": 3,
    "tweedie_deviance": 4,
}
"""Error id (``regloss.sklearn``) -> ``kind``: its index in :data:`_SKLEARN_VALUES`."""


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _percentage_values(t, p, first, second, third, a, b, c, out):
    """MAPE: ``|p - t| / max(|t|, a)`` (``a``: float64 eps)."""
    for i in range(t.size):
        out[i] = abs(p[i] - t[i]) / max(abs(t[i]), a)


@numba.njit(cache=True, nogil=True)
def _squared_log_values(t, p, first, second, third, a, b, c, out):
    """MSLE: ``(first - second)**2`` (``first = log1p(t)``, ``second = log1p(p)``)."""
    for i in range(t.size):
        d = first[i] - second[i]
        out[i] = d * d


@numba.njit(cache=True, nogil=True)
def _poisson_values(t, p, first, second, third, a, b, c, out):
    """Poisson deviance: ``2 ((0 if t == 0 else t first) - t + p)`` (``first = log(t / p)``, 0 where
    ``t == 0``)."""
    for i in range(t.size):
        y = t[i]
        out[i] = 2.0 * (((0.0 if y == 0.0 else y * first[i]) - y) + p[i])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _gamma_values(t, p, first, second, third, a, b, c, out):
    """Gamma deviance: ``2 (first + t / p - 1)`` (``first = log(p / t)``)."""
    for i in range(t.size):
        out[i] = 2.0 * ((first[i] + t[i] / p[i]) - 1.0)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tweedie_values(t, p, first, second, third, a, b, c, out):
    """Tweedie deviance of another power: ``2 (first / a - t second / b + third / c)``
    (``first = max(t, 0)**(2 - power)``, or ``t**(2 - power)`` for ``power >= 0``,
    ``second = p**(1 - power)``, ``third = p**(2 - power)``; ``a = (1 - power)(2 - power)``,
    ``b = 1 - power``, ``c = 2 - power``)."""
    for i in range(t.size):
        out[i] = 2.0 * ((first[i] / a - t[i] * second[i] / b) + third[i] / c)


_SKLEARN_VALUES = (
    _percentage_values,
    _squared_log_values,
    _poisson_values,
    _gamma_values,
    _tweedie_values,
)
"""The errors of :data:`SKLEARN_ERRORS` by ``kind``, written as :mod:`regloss.sklearn._elementwise` and
:func:`regloss.formulas.tweedie_deviance` write them (the same operations in the same order), from the
inputs and the ufunc results of :func:`_sklearn_logs`."""


@numba.njit(cache=True, nogil=True, fastmath=_KERNEL_FLAGS)
def _weighted_column_sums(values, weight, weighted, cols, out):
    """``out[j] = sum_r w_r values_rj`` of a block's errors (flat, ``rows * cols``), in float64."""
    if cols == 1:
        total = 0.0
        if weighted:
            for i in range(values.size):
                total += weight[i] * values[i]
        else:
            for i in range(values.size):
                total += values[i]
        out[0] = total
        return
    # a local accumulator and the weight branch outside the row loop: 0.32 ns per element of a
    # ten-output block in cache, against 0.42 ns for ``out[j] += w * value`` (measured)
    total = np.zeros(cols)
    if weighted:
        for r in range(values.size // cols):
            w = weight[r]
            base = r * cols
            for j in range(cols):
                total[j] += w * values[base + j]
    else:
        for r in range(values.size // cols):
            base = r * cols
            for j in range(cols):
                total[j] += values[base + j]
    for j in range(cols):
        out[j] = total[j]


_DOMAINS = {0: (None, None), 1: (-1.0, -1.0), 2: (None, 0.0), 3: (0.0, 0.0), 4: (0.0, 0.0)}
"""Domain number -> the bounds ``(t, p)`` that a minimum must pass: 0 none; 1 ``t <= -1`` or
``p <= -1`` leaves it (MSLE); 2 ``p <= 0``; 3 ``t < 0`` or ``p <= 0``; 4 ``t <= 0`` or ``p <= 0``."""


def _outside(domain: int, t, p) -> bool:
    """Whether a block leaves the domain number ``domain`` (:data:`_DOMAINS`), from NumPy's SIMD
    minima; NaN is inside (the finiteness check, which scikit-learn runs first, reports it)."""
    if domain == 0:
        return False
    t_bound, p_bound = _DOMAINS[domain]
    if p.min() <= p_bound:
        return True
    if t_bound is None:
        return False
    t_min = t.min()
    return bool(t_min < t_bound if domain == 3 else t_min <= t_bound)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _poisson_ratio(t, p, out):
    """``out = t / p``, 1 where ``t == 0`` (the argument of the Poisson deviance's log)."""
    for i in range(t.size):
        out[i] = 1.0 if t[i] == 0.0 else t[i] / p[i]


def _sklearn_logs(kind, power, t, p):
    """The transcendental steps of error ``kind`` on one block, by NumPy's ufuncs (unused ones are
    ``t``); values outside the domain give NaN or inf silently (the caller raises)."""
    with np.errstate(all="ignore"):
        if kind == 1:
            return np.log1p(t), np.log1p(p), t
        if kind == 2:
            ratio = np.empty_like(t)
            _poisson_ratio(t, p, ratio)
            return np.log(ratio, out=ratio), t, t
        if kind == 3:
            ratio = np.divide(p, t)
            return np.log(ratio, out=ratio), t, t
        if kind == 4:
            base = np.maximum(t, 0.0) if power < 0 else t
            return np.power(base, 2.0 - power), np.power(p, 1.0 - power), np.power(p, 2.0 - power)
    return t, t, t


def sklearn_column_sums(kernel: str, parameter: float, domain: int, y_true, y_pred, sample_weight):
    """Per-output float64 sums ``sum_i w_i error(y_true_ij, y_pred_ij)`` of a scikit-learn error
    (:data:`SKLEARN_ERRORS`; ``parameter``: MAPE's eps or the Tweedie power) over ``(rows, cols)``
    C-contiguous float64 arrays (``sample_weight`` float64 1-D or None), and whether any element
    left the domain ``domain`` (:func:`_outside`; then the sums are None). Row blocks of about
    ``blocked.block_elements(4)`` elements run in the blocked tier's threads (NumPy ufuncs and the
    numba steps release the GIL) and are summed in block order: bit-identical for any number of
    threads. ``None`` when the arrays do not qualify."""
    kind = SKLEARN_ERRORS.get(kernel)
    if kind is None or not _float64_matrices(y_true, y_pred):
        return None
    rows, cols = y_true.shape
    power = float(parameter)
    if kind == 0:
        a, b, c = power, 0.0, 0.0
    else:
        a, b, c = (1.0 - power) * (2.0 - power), 1.0 - power, 2.0 - power
    per_block = max(1, blocked.block_elements(4) // cols)
    weighted = sample_weight is not None
    weight = np.ascontiguousarray(sample_weight, dtype=_F64) if weighted else np.ones(1, dtype=_F64)
    true, pred = y_true.reshape(-1), y_pred.reshape(-1)

    def block(index):
        first_row, last_row = index * per_block, min(rows, (index + 1) * per_block)
        t, p = true[first_row * cols : last_row * cols], pred[first_row * cols : last_row * cols]
        if _outside(domain, t, p):
            return None, True  # not evaluated: the caller raises
        first, second, third = _sklearn_logs(kind, power, t, p)
        values = np.empty(t.size, dtype=_F64)
        _SKLEARN_VALUES[kind](t, p, first, second, third, a, b, c, values)
        sums = np.empty(cols, dtype=_F64)
        block_weight = weight[first_row:last_row] if weighted else weight
        _weighted_column_sums(values, block_weight, weighted, cols, sums)
        return sums, False

    results = blocked.run_blocks(block, -(-rows // per_block), y_true.size)
    total = np.zeros(cols, dtype=_F64)
    for sums, block_outside in results:
        if block_outside:
            return None, True
        total += sums
    return total, False
