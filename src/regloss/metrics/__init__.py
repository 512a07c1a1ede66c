"""Metric functions: the aliases listed under ``tf.keras.metrics`` (streaming classes come later).

They are the loss functions themselves: per-sample values with the last axis reduced.
"""

from ..losses.functional import (
    MAE,
    MAPE,
    MSE,
    MSLE,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
)

__all__ = [
    "MSE",
    "mse",
    "mean_squared_error",
    "MAE",
    "mae",
    "mean_absolute_error",
    "MAPE",
    "mape",
    "mean_absolute_percentage_error",
    "MSLE",
    "msle",
    "mean_squared_logarithmic_error",
]
