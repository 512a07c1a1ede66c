"""The two elementwise errors whose scikit-learn definitions differ from Keras's (the Keras ones are
in :mod:`regloss.formulas`, which holds the rest that scikit-learn shares: squared, absolute,
pinball and Tweedie), and the plain values the scores average.
"""

from __future__ import annotations

import numpy as np

from ..formulas import constant

FLOAT64_EPS = float(np.finfo(np.float64).eps)
"""scikit-learn's MAPE floor on ``|y_true|``: float64 machine epsilon (2.220446049250313e-16),
whatever the compute dtype (Keras uses ``regloss.config.epsilon()``, 1e-7)."""


def absolute_percentage_error(xp, y_true, y_pred):
    """``|y_pred - y_true| / max(|y_true|, 2.22e-16)``: a fraction, not a percentage."""
    return xp.abs(y_pred - y_true) / xp.maximum(xp.abs(y_true), constant(xp, FLOAT64_EPS, y_true))


def squared_log1p_error(xp, y_true, y_pred):
    """``(log1p(y_true) - log1p(y_pred))**2``: no clipping (values <= -1 are rejected before;
    Keras instead clips values below 1e-7)."""
    return (xp.log1p(y_true) - xp.log1p(y_pred)) ** 2


def true_values(xp, y_true, y_pred):
    """``y_true`` itself (its weighted mean is the centre of the scores' variances)."""
    return y_true


def residuals(xp, y_true, y_pred):
    """``y_true - y_pred``"""
    return y_true - y_pred
