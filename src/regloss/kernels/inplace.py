"""In-place block sums of the blocked NumPy tier: errors whose generic formula allocates.

The generic Huber error (:func:`regloss.formulas.huber_error`) keeps four block-sized temporaries
alive and clips with ``minimum`` against a Python number, a case NumPy does not vectorise: on a
block of 18432 float32 elements (AMD EPYC, NumPy 2.4), ``minimum`` with a scalar took 7.4 us, with
an array of the bound 2.4 us, ``abs`` 1.6 us; the whole generic formula with its float64 sum 39 us.
Here, for a reducing mode without weights or masks on C-contiguous inputs, each thread keeps two
buffers ``x`` and ``h`` of one block for the whole call, and each flat block of consecutive
elements (``block_elements(IN_PLACE_LIVE_ARRAYS)``, 24576 by default) is::

    x = |p - t|;   h = min(x, D) * 0.5;   x = (x - h) * h;   sum = 2 * sum_f64(x)

``D`` an array of ``delta`` (shared by the threads, read-only). With ``q = min(|e|, delta)``,
``(|e| - q/2) (q/2)`` is half the generic ``q (|e| - q/2)``: the halving and doubling are exact
(powers of two) unless ``q/2`` or the product is subnormal, where both round below 1e-38. Blocks
are merged in order, so the total is bit-identical for any number of threads.

Threads: each thread's buffers stay alive for the call, so the number of threads is capped by the
memory budget (:func:`regloss.kernels.blocked.threads_within_budget`) instead of shrinking the
blocks for more threads.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import formulas
from . import blocked

IN_PLACE_LIVE_ARRAYS = 3
"""Block-sized arrays per thread that size the blocks (:func:`regloss.kernels.blocked.block_elements`):
the two buffers, and the shared bound array counted once more."""


def _huber_block(true, pred, x, h, bound):
    """Half the sum of the Huber errors of one block, in float64 (see the module docstring)."""
    np.subtract(pred, true, out=x)
    np.abs(x, out=x)
    np.minimum(x, bound, out=h)
    np.multiply(h, 0.5, out=h)
    np.subtract(x, h, out=x)
    np.multiply(x, h, out=x)
    return np.add.reduce(x, dtype=np.float64)


KERNELS = {formulas.huber_error: (_huber_block, "delta", 2.0)}
"""The generic error function -> (block function, its bound's parameter, the factor of the sums)."""


def error_sum(formula, params: dict, true, pred):
    """``sum(error(t, p))`` in float64 over flat C-contiguous inputs of one dtype, or None when no
    in-place kernel covers ``formula``'s error (or a parameter is not a Python number)."""
    entry = KERNELS.get(formula.error)
    if entry is None:
        return None
    block_function, bound_name, factor = entry
    bound_value = params.get(bound_name, 1.0)
    if not isinstance(bound_value, (int, float)):
        return None
    true, pred = true.reshape(-1), pred.reshape(-1)
    size = true.size
    step = blocked.block_elements(IN_PLACE_LIVE_ARRAYS)
    dtype = pred.dtype
    bound = np.full(min(step, size), bound_value, dtype=dtype)
    buffers = threading.local()  # one pair of buffers per thread, for this call only

    def block(index):
        start = index * step
        stop = min(start + step, size)
        pair = getattr(buffers, "pair", None)
        if pair is None:
            pair = buffers.pair = np.empty((2, bound.size), dtype=dtype)
        n = stop - start
        return block_function(true[start:stop], pred[start:stop], pair[0, :n], pair[1, :n], bound[:n])

    threads = blocked.threads_within_budget(2 * bound.nbytes, bound.nbytes, true.nbytes + pred.nbytes)
    total = 0.0
    for value in blocked.run_blocks(block, -(-size // step), size, threads):
        total += value
    return total * factor
