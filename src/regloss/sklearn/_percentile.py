"""scikit-learn's weighted percentile: the averaged inverted CDF (its ``_weighted_percentile`` with
``average=True``), on NumPy columns.

For one column with values ``v`` sorted ascending and weights ``w`` in that order, cumulative
weights ``c_i = w_1 + ... + w_i`` (summed in order, in the column's dtype) and the rank
``r = (p / 100) * c_n`` (``r = 0`` is moved to the next float up, so that leading zero weights are
skipped):

* ``i`` is the first index with ``c_i >= r`` (clipped to the last sample);
* if ``c_i - r > eps`` (the dtype's machine epsilon, an absolute threshold as in scikit-learn), the
  percentile is ``v_i``: the rank falls inside sample ``i``'s weight;
* otherwise the rank sits on the boundary after ``v_i`` and the percentile is ``(v_i + v_j) / 2``,
  with ``j = i + 1``, or, when sample ``i + 1`` has zero weight, the first index whose cumulative
  weight exceeds ``c_i`` (``i`` itself when there is none).

With unit weights and ``p = 50`` this is the ordinary median (the mean of the two middle values
for even ``n``). The sort is NumPy's default ``argsort``, as scikit-learn's on NumPy inputs, so
ties of unequal weights sum in the same order.
"""

from __future__ import annotations

import numpy as np


def _column_percentile(values: np.ndarray, weights: np.ndarray, rank: np.floating):
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    target = rank / 100 * cumulative[-1]
    if target == 0:
        target = np.nextafter(target, target + 1)
    last = values.shape[0] - 1
    index = min(int(np.searchsorted(cumulative, target)), last)
    if cumulative[index] - target > np.finfo(values.dtype).eps:
        return values[order[index]]
    following = min(index + 1, last)
    if weights[order[following]] == 0:
        following = int(np.searchsorted(cumulative, cumulative[index], side="right"))
        if following > last:
            following = index
    return (values[order[index]] + values[order[following]]) / 2


def weighted_percentile(values: np.ndarray, weights: np.ndarray, percent: float) -> np.ndarray:
    """The averaged-inverted-CDF ``percent`` percentile of each column of ``values`` (``(n, k)``,
    a float dtype) under the 1-D ``weights`` (cast to that dtype); one value per column."""
    dtype = values.dtype
    weights = weights.astype(dtype, copy=False)
    rank = dtype.type(percent)
    return np.array(
        [_column_percentile(values[:, column], weights, rank) for column in range(values.shape[1])],
        dtype=dtype,
    )
