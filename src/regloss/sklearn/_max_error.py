"""scikit-learn's ``max_error``: ``max_i |y_true_i - y_pred_i|`` of a single output, no weights."""

from __future__ import annotations

import math

from .. import formulas
from ._columns import largest
from ._targets import check_targets


def max_error(y_true, y_pred):
    """The largest absolute residual, a Python float. Several outputs: ValueError.

    >>> from regloss.sklearn import max_error
    >>> max_error([3, 2, 7, 1], [4, 2, 7, 1])
    1.0
    """
    targets = check_targets("max_error", y_true, y_pred, multioutput=None)
    if targets.n_outputs != 1:
        raise ValueError(
            f"max_error supports a single output only; received y_true with {targets.n_outputs} outputs"
        )
    result = largest(targets, formulas.absolute_error)
    if not math.isfinite(result):
        targets.check_finite()
    return result
