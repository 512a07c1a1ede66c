"""Metrics: streaming classes with mergeable states, and the functions ``tf.keras.metrics`` lists.

The classes (:mod:`regloss.metrics.classes`) keep a few float64 sums and an exact count per metric
and merge across batches, processes and machines; their numeric path is the pure state machine of
:mod:`regloss.metrics.statistics` (``metric.statistic.init / update / merge / result``), which also
works under ``jax.jit``. The functions are the loss functions themselves (per-sample values with
the last axis reduced) and Keras's per-row correlations (:mod:`regloss.metrics.correlation`); the
dataset-level correlations of torchmetrics are :mod:`regloss.metrics.corrcoef`.
:class:`Grouped` keeps one state per group key (:mod:`regloss.metrics.grouped`). scikit-learn's
regression metrics, streamed, are :mod:`regloss.metrics.sklearn_classes`.
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
from .bootstrap import Bootstrap, BootstrapResult
from .classes import (
    METRIC_CLASSES,
    CosineSimilarity,
    Huber,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Metric,
    Poisson,
    R2Score,
    RootMeanSquaredError,
)
from .collection import MetricCollection
from .corrcoef import ConcordanceCorrCoef, PearsonCorrCoef
from .correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from .grouped import Grouped
from .quantile_sketch import AbsoluteErrorQuantile
from .sklearn_classes import (
    D2TweedieScore,
    ExplainedVarianceScore,
    MaxError,
    MeanGammaDeviance,
    MeanPinballLoss,
    MeanPoissonDeviance,
    MeanTweedieDeviance,
    RootMeanSquaredLogarithmicError,
)

__all__ = [
    "Metric",
    "MeanSquaredError",
    "RootMeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "LogCoshError",
    "Huber",
    "CosineSimilarity",
    "Poisson",
    "R2Score",
    "PearsonCorrelation",
    "ConcordanceCorrelation",
    "PearsonCorrCoef",
    "ConcordanceCorrCoef",
    "MeanPinballLoss",
    "MeanTweedieDeviance",
    "MeanPoissonDeviance",
    "MeanGammaDeviance",
    "D2TweedieScore",
    "ExplainedVarianceScore",
    "MaxError",
    "RootMeanSquaredLogarithmicError",
    "AbsoluteErrorQuantile",
    "METRIC_CLASSES",
    "Bootstrap",
    "BootstrapResult",
    "Grouped",
    "MetricCollection",
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
    "pearson_correlation",
    "concordance_correlation",
]
