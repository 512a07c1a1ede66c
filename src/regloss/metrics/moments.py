"""Centred, mergeable weighted moments: the one state of every statistic that needs a variance.

Columns ``x_1 .. x_k`` (the last axis), seen with weights ``w``, in any leading *cells* (R²'s
outputs, a bootstrap's replicates) that are independent of one another. A *moments* state is three
arrays (:mod:`regloss.metrics.accumulate` sums: float64, or float32 ``(hi, lo)`` pairs on JAX
without x64)::

    "weight"    W      = sum(w)                                   shape (*cells,)
    "mean"      m_a    = sum(w x_a) / W                           shape (*cells, k)
    "comoment"  C_ab   = sum(w (x_a - m_a) (x_b - m_b))           shape (*cells, k, k)

so that ``C_aa`` is the centred (total) sum of squares of column ``a``, ``C_aa / W`` its weighted
variance and ``C_ab / sqrt(C_aa C_bb)`` the correlation of two columns. A state with ``W = 0`` has
``m = 0`` and ``C = 0`` (the empty state).

One batch (:func:`shift_of`, :func:`row_terms`, :func:`from_sums`): the power sums of the raw
columns cancel catastrophically (``sum(w x**2) - sum(w x)**2 / W`` loses every digit when the mean is
``1e8`` times the spread), so each batch is shifted by ``c``, one of its own rows (the first with a
non-zero weight): ``d = x - c`` is of the spread's size, and::

    W = sum(w)        S_a = sum(w d_a)        P_ab = sum(w d_a d_b)
    m_a  = c_a + S_a / W
    C_ab = P_ab - S_a S_b / W

``S / W`` is the distance from ``c`` to the mean, a few spreads, so the subtraction loses almost
nothing; a batch of one row, or a constant column, gives ``d = 0`` and ``C = 0`` exactly. The sums
may be Poisson-weighted over the rows (one per bootstrap replicate): any weights give moments.

Two states merge with Chan, Golub and LeVeque's pairwise update (weighted form; "Updating formulae
and a pairwise algorithm for computing sample variances", 1979)::

    W = W1 + W2        delta = m2 - m1
    m    = m1 + delta W2 / W
    C_ab = C1_ab + C2_ab + delta_a delta_b W1 W2 / W

exact in exact arithmetic, so that batching and merge order change the result by rounding only; an
empty state is a neutral element. Every function is pure, written on the array API and jit-safe (no
Python branch reads an array value).
"""

from __future__ import annotations

import math

from .._shapes import shape_of
from .._xp import device_of
from . import accumulate as acc

MOMENTS = ("weight", "mean", "comoment")
"""The keys of a moments state."""

TERMS = ("weight", "sum", "products")
"""The keys of a batch's per-row terms and of their sums (:func:`row_terms`, :func:`from_sums`)."""


def zeros(xp, precision: str, cells: tuple, columns: int, device=None) -> dict:
    """The empty moments state of ``columns`` columns in each of the leading ``cells``."""
    return {
        "weight": acc.zeros_sum(xp, precision, cells, device),
        "mean": acc.zeros_sum(xp, precision, (*cells, columns), device),
        "comoment": acc.zeros_sum(xp, precision, (*cells, columns, columns), device),
    }


def shift_of(xp, columns, weight=None):
    """The shift ``c`` of a batch: the columns of its first row with a non-zero weight (the first
    row without weights, or where every weight is 0; zeros for a batch of no rows), per cell.

    ``columns``: ``(rows, *cells, k)``; ``weight``: ``(rows, *cells)`` or None. Returns
    ``(*cells, k)``, exactly values of the data (masked-out or zero-weight rows, which may hold
    NaN, are never picked)."""
    shape = shape_of(columns)
    rows = shape[0]
    if rows == 0:
        return xp.zeros(shape[1:], dtype=columns.dtype, device=device_of(xp, columns))
    if weight is None:
        return columns[0, ...]
    cells = math.prod(shape[1:-1])
    first = xp.argmax(xp.astype(weight != 0, xp.int8), axis=0)  # the first maximum, per cell
    # row `first[c]` of cell `c` is row `first[c] * cells + c` of the columns seen as (rows * cells, k)
    picked = xp.reshape(first, (cells,)) * cells + xp.arange(cells, device=device_of(xp, columns))
    flat = xp.reshape(columns, (rows * cells, shape[-1]))
    return xp.reshape(xp.take(flat, picked, axis=0), shape[1:])


def row_terms(xp, columns, weight, shift) -> dict:
    """What each row adds to a batch's sums (:data:`TERMS`), with ``d = columns - shift``::

        "weight": w  (*cells)     "sum": w d  (*cells, k)     "products": w d_a d_b  (*cells, k, k)

    for ``columns`` of shape ``(rows, *cells, k)`` and ``weight`` of shape ``(rows, *cells)``
    (None: every weight 1). Their sums over rows, plain or Poisson-weighted, go to :func:`from_sums`."""
    centred = columns - shift
    if weight is None:  # ones_like: a lazy array's rows may be unknown
        weight, weighted = xp.ones_like(columns[..., 0]), centred
    else:  # `[..., None]`, not expand_dims: Dask reshapes, which needs known rows
        weighted = weight[..., None] * centred
    return {"weight": weight, "sum": weighted, "products": weighted[..., None] * centred[..., None, :]}


def from_sums(xp, precision: str, shift, sums: dict) -> dict:
    """The moments state of one batch from the sums of its :func:`row_terms` (plain arrays of the
    compute dtype, with any leading axes before the cells, such as a bootstrap's replicates)::

        m_a = c_a + S_a / W        C_ab = P_ab - S_a S_b / W        (m = C = 0 where W = 0)
    """
    weight, total, products = sums["weight"], sums["sum"], sums["products"]
    empty = weight == 0
    safe = xp.where(empty, xp.ones_like(weight), weight)
    offset = total / xp.expand_dims(safe, axis=-1)  # m - c, a few spreads
    offset = xp.where(xp.expand_dims(empty, axis=-1), xp.zeros_like(offset), offset)
    outer = xp.expand_dims(total, axis=-1) * xp.expand_dims(total, axis=-2)
    comoment = products - outer / xp.expand_dims(xp.expand_dims(safe, axis=-1), axis=-1)
    shift = xp.broadcast_to(shift, shape_of(offset))
    shift = xp.where(xp.expand_dims(empty, axis=-1), xp.zeros_like(offset), shift)
    return {
        "weight": acc.as_sum(xp, precision, weight),
        # c + (m - c): where the sums are float32 (hi, lo) pairs, the pair keeps it unrounded
        "mean": acc.add_sum(xp, precision, acc.as_sum(xp, precision, shift), offset),
        "comoment": acc.as_sum(xp, precision, comoment),
    }


def merge(xp, precision: str, first: dict, second: dict) -> dict:
    """The moments of both states' data (Chan et al.'s pairwise update, module docstring)."""
    wide = acc.sum_dtype(xp, precision)
    weight = acc.merge_sums(xp, precision, first["weight"], second["weight"])
    first_weight = acc.sum_value(xp, precision, first["weight"], wide)
    second_weight = acc.sum_value(xp, precision, second["weight"], wide)
    total_weight = acc.sum_value(xp, precision, weight, wide)
    empty = total_weight == 0
    share = second_weight / xp.where(empty, xp.ones_like(total_weight), total_weight)  # W2 / W
    share = xp.where(empty, xp.zeros_like(share), share)
    delta = acc.difference(xp, precision, first["mean"], second["mean"])  # m2 - m1
    mean = acc.add_sum(xp, precision, first["mean"], delta * xp.expand_dims(share, axis=-1))
    spread = xp.expand_dims(delta, axis=-1) * xp.expand_dims(delta, axis=-2)
    between = spread * xp.expand_dims(xp.expand_dims(first_weight * share, axis=-1), axis=-1)
    comoment = acc.merge_sums(xp, precision, first["comoment"], second["comoment"])
    return {"weight": weight, "mean": mean, "comoment": acc.add_sum(xp, precision, comoment, between)}


def add(xp, precision: str, state: dict, shift, sums: dict) -> dict:
    """``state`` merged with the moments of one more batch (its shift and sums: :func:`from_sums`)."""
    return merge(xp, precision, state, from_sums(xp, precision, shift, sums))


def values(xp, precision: str, state: dict, dtype) -> tuple:
    """``(W, m, C)`` of a state as plain arrays of ``dtype``."""
    return tuple(acc.sum_value(xp, precision, state[name], dtype) for name in MOMENTS)
