"""The last step of every multi-output function: per-output values to what ``multioutput`` asks.

* ``"raw_values"``: the per-output values, a 1-D array of the input's library;
* ``"uniform_average"``: ``mean_j value_j``, a Python float;
* output weights ``a``: ``sum_j a_j value_j / sum_j a_j``, a Python float (ZeroDivisionError when
  the weights sum to zero, as NumPy's ``average``);
* ``"variance_weighted"`` (scores only): the weights are the outputs' variances of ``y_true``
  (:func:`regloss.sklearn._scores.explained_fraction` passes them in).
"""

from __future__ import annotations

import numpy as np

from .._xp import device_of


def weighted_average(xp, values, weights: np.ndarray | None, function: str) -> float:
    """``mean(values)`` or their average with ``weights`` (NumPy float64, one per output)."""
    if weights is None:
        return float(xp.mean(values))
    total = float(np.sum(weights))
    if total == 0.0:
        raise ZeroDivisionError(
            f"{function}: the multioutput weights sum to zero; received {weights.tolist()}"
        )
    as_array = xp.asarray(weights, dtype=values.dtype, device=device_of(xp, values))
    return float(xp.sum(values * as_array)) / total


def finish_outputs(targets, values):
    """``values`` (one per output) as ``targets.multioutput`` asks."""
    if targets.multioutput == "raw_values":
        return values
    return weighted_average(targets.xp, values, targets.output_weights, targets.function)
