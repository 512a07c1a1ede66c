"""Mergeable null deviances: the denominator of D²-Tweedie, kept centred as a variance is.

The Tweedie unit deviance of power ``p`` (:func:`regloss.formulas.tweedie_deviance`) is a Bregman
divergence, so the null deviance of a weighted set of values ``y`` about their weighted mean ``m``,
``D = sum(w dev(y, m))``, merges as Chan et al.'s centred sum of squares does (``p = 0`` *is* that
update). For any ``c``::

    sum(w dev(y, c)) = D + W dev(m, c)                                   (1)

because ``dev(y, c) - dev(y, m)`` is linear in ``y`` and vanishes in mean. Hence

* one batch, shifted by ``c`` (its weighted mean, or 1 where that is not > 0: :func:`shift_of`): the sums
  of its per-row terms ``w``, ``w (y - c)`` and ``w dev(y, c)`` give ``W``, ``m = c + S / W`` and
  ``D = sum(w dev(y, c)) - W dev(m, c)``;
* two states: ``W = W1 + W2``, ``m = m1 + (m2 - m1) W2 / W`` and
  ``D = D1 + D2 + W1 dev(m1, m) + W2 dev(m2, m)``.

A state is ``{"weight": W, "mean": m, "deviance": D}`` (:mod:`regloss.metrics.accumulate` sums, one
per cell: the outputs, a bootstrap's replicates). ``p = 0`` keeps the moments of
:mod:`regloss.metrics.moments` (one column), whose ``C_00`` is ``D``: every function here then
delegates to it.

Precision. No raw power sum (``sum(w y**(2-p))``, ``sum(w y log y)``, ``sum(w log y)``) is formed: at
``y = 1e6 + N(0, 1e-3)`` those sums agree to 19 digits and their difference is lost in float64.
What remains is the deviance of two *close* values, ``dev(y, c)`` and ``dev(m1, m)``: the textbook
formula (scikit-learn's) subtracts terms of size ``m**(2-p)`` to leave one of size
``m**(2-p) r**2``, ``r = (y - m) / m``, losing ``log10(1 / r**2)`` digits. :func:`unit_deviance`
therefore writes ``dev(y, m) = 2 m**(2-p) h(r)`` with the Taylor series
``h(r) = sum_{k>=2} c_k r**k``, ``c_2 = 1/2``, ``c_{k+1} = c_k (2 - p - k) / (k + 1)``, for
``|r| < 0.01 / max(1, |2 - p|)`` (9 terms: full float64 precision), and the formula elsewhere (at
most ``log10(1 / r**2)``, 4 to 6 digits, lost to that subtraction, on elements whose deviance is
then a small share of any sum). The limit left is the rounding of ``y - m`` itself: relative ``1e-16 |m| /
spread`` (1e-7 at ``1e6 + N(0, 1e-3)``, where scikit-learn's own two-pass value has no correct
digit).
"""

from __future__ import annotations

from .. import formulas
from . import accumulate as acc
from . import moments

NAMES = ("weight", "mean", "deviance")
"""The keys of a state for ``p != 0`` (``p = 0``: :data:`regloss.metrics.moments.MOMENTS`)."""

TERMS = ("weight", "sum", "deviance")
"""The per-row terms for ``p != 0`` (``p = 0``: :data:`regloss.metrics.moments.TERMS`)."""

_SERIES_BELOW = 0.01
"""The series is used where ``|r| < 0.01 / max(1, |2 - p|)`` (the coefficients grow with ``|2 - p|``)."""
_SERIES_TERMS = 10


def names(power: float) -> tuple:
    return moments.MOMENTS if power == 0 else NAMES


def term_names(power: float) -> tuple:
    return moments.TERMS if power == 0 else TERMS


def unit_deviance(xp, y, m, power: float):
    """``dev(y, m)`` of power ``power`` (:func:`regloss.formulas.tweedie_deviance`), accurate where
    ``y`` is close to ``m`` (module docstring): ``(y - m)**2`` for ``p = 0``; otherwise the series
    ``2 m**(2-p) h((y - m) / m)`` where ``|y - m| < 0.1 |m|``, the formula elsewhere."""
    power = float(power)
    if power == 0.0:
        return (y - m) ** 2
    ratio = (y - m) / m
    near = xp.abs(ratio) < _SERIES_BELOW / max(1.0, abs(2.0 - power))
    small = xp.where(near, ratio, xp.zeros_like(ratio))  # no large power of a far ratio
    coefficients = [0.5]
    for k in range(2, _SERIES_TERMS + 1):
        coefficients.append(coefficients[-1] * (2.0 - power - k) / (k + 1))
    series = xp.zeros_like(small)
    for coefficient in reversed(coefficients):
        series = (series + coefficient) * small
    series = 2.0 * m ** (2.0 - power) * series * small
    # the formula only where it is used: elsewhere y = m (deviance 0), which it takes without warning
    far_y = xp.where(near, m, y)
    return xp.where(near, series, formulas.tweedie_deviance(xp, far_y, m, power))


def zeros(xp, precision: str, cells: tuple, power: float, device=None) -> dict:
    """The empty state of the ``cells``."""
    if power == 0:
        return moments.zeros(xp, precision, cells, 1, device)
    return {name: acc.zeros_sum(xp, precision, cells, device) for name in NAMES}


def shift_of(xp, values, weight, power: float):
    """The shift ``c`` of a batch, one per cell: for ``p = 0`` one of its rows
    (:func:`regloss.metrics.moments.shift_of`); otherwise its weighted mean where that is > 0
    (where the deviance is defined for every power), else 1 (any ``c > 0`` satisfies (1))."""
    if power == 0:
        return moments.shift_of(xp, values[..., None], weight)[..., 0]
    if weight is None:
        total, count = xp.sum(values, axis=0), xp.sum(xp.ones_like(values), axis=0)
    else:
        total, count = xp.sum(weight * values, axis=0), xp.sum(weight, axis=0)
    positive = (count > 0) & (total > 0)
    safe = xp.where(positive, count, xp.ones_like(count))
    return xp.where(positive, total / safe, xp.ones_like(total))


def row_terms(xp, values, weight, shift, power: float) -> dict:
    """What each row adds (:func:`term_names`): ``values`` of shape ``(rows, *cells)``, ``weight``
    of that shape or None (every weight 1), ``shift`` of shape ``cells``."""
    if power == 0:
        return moments.row_terms(xp, values[..., None], weight, shift[..., None])
    if weight is None:
        weight = xp.ones_like(values)
    deviance = unit_deviance(xp, values, xp.broadcast_to(shift, values.shape), power)
    return {"weight": weight, "sum": weight * (values - shift), "deviance": weight * deviance}


def from_sums(xp, precision: str, shift, sums: dict, power: float) -> dict:
    """The state of one batch from the sums of its :func:`row_terms` (any leading axes)."""
    if power == 0:
        return moments.from_sums(xp, precision, shift[..., None], sums)
    weight = sums["weight"]
    empty = weight == 0
    safe = xp.where(empty, xp.ones_like(weight), weight)
    offset = xp.where(empty, xp.zeros_like(weight), sums["sum"] / safe)  # m - c
    shift = xp.where(empty, xp.zeros_like(offset), xp.broadcast_to(shift, offset.shape))
    # (1): D = sum(w dev(y, c)) - W dev(m, c)
    deviance = sums["deviance"] - weight * _deviance_near(xp, shift, offset, empty, power)
    return {
        "weight": acc.as_sum(xp, precision, weight),
        # c + (m - c): where the sums are float32 (hi, lo) pairs, the pair keeps it unrounded
        "mean": acc.add_sum(xp, precision, acc.as_sum(xp, precision, shift), offset),
        "deviance": acc.as_sum(xp, precision, deviance),
    }


def _deviance_near(xp, base, difference, empty, power: float):
    """``dev(base + difference, base)``, with ``difference`` known more precisely than the sum
    (0 where ``empty``, without evaluating the formula there)."""
    same = empty | (difference == 0) | (base == 0)  # dev(m, m) = 0 (base 0: both means 0)
    base = xp.where(same, xp.ones_like(base), base)
    value = xp.where(same, base, base + difference)
    return xp.where(same, xp.zeros_like(base), unit_deviance(xp, value, base, power))


def merge(xp, precision: str, first: dict, second: dict, power: float) -> dict:
    """The state of both states' values (module docstring)."""
    if power == 0:
        return moments.merge(xp, precision, first, second)
    wide = acc.sum_dtype(xp, precision)
    weight = acc.merge_sums(xp, precision, first["weight"], second["weight"])
    first_weight = acc.sum_value(xp, precision, first["weight"], wide)
    second_weight = acc.sum_value(xp, precision, second["weight"], wide)
    total_weight = first_weight + second_weight
    empty = total_weight == 0
    share = second_weight / xp.where(empty, xp.ones_like(total_weight), total_weight)  # W2 / W
    share = xp.where(empty, xp.zeros_like(share), share)
    delta = acc.difference(xp, precision, first["mean"], second["mean"])  # m2 - m1
    mean = acc.add_sum(xp, precision, first["mean"], delta * share)
    merged = acc.sum_value(xp, precision, mean, wide)
    # W1 dev(m1, m) + W2 dev(m2, m), with m1 - m = -delta W2 / W and m2 - m = delta W1 / W
    between = first_weight * _deviance_near(xp, merged, -delta * share, first_weight == 0, power)
    between = between + second_weight * _deviance_near(
        xp, merged, delta * (1 - share), second_weight == 0, power
    )
    deviance = acc.merge_sums(xp, precision, first["deviance"], second["deviance"])
    return {"weight": weight, "mean": mean, "deviance": acc.add_sum(xp, precision, deviance, between)}


def add(xp, precision: str, state: dict, shift, sums: dict, power: float) -> dict:
    """``state`` merged with one more batch (its shift and sums: :func:`from_sums`)."""
    return merge(xp, precision, state, from_sums(xp, precision, shift, sums, power), power)


def null_deviance(xp, precision: str, state: dict, dtype, power: float):
    """``(W, m, D)`` of a state as plain arrays of ``dtype``, one per cell."""
    if power == 0:
        weight, mean, comoment = moments.values(xp, precision, state, dtype)
        return weight, mean[..., 0], comoment[..., 0, 0]
    return tuple(acc.sum_value(xp, precision, state[name], dtype) for name in NAMES)
