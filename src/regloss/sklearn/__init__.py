"""scikit-learn 1.9's regression metrics, with its signatures and numbers, on any array library.

Every function takes what scikit-learn's takes and gives what it gives:

* inputs: arrays of NumPy, torch, JAX, Dask, CuPy or array-api-strict, lists, or objects with
  ``__array__`` (pandas); the one non-NumPy library among them decides where the computation runs
  (:func:`regloss._xp.resolve`). ``y_true``/``y_pred`` are 1-D (one output) or 2-D
  ``(n_samples, n_outputs)``; ``sample_weight`` is 1-D;
* dtype: the promoted float dtype of the float arrays among ``y_true``, ``y_pred`` and
  ``sample_weight``, else the library's default float (float64 on NumPy), as scikit-learn;
* results: a Python float, or with ``multioutput="raw_values"`` a 1-D array of the input's library;
* errors: the same exception classes as scikit-learn (its ``InvalidParameterError`` for bad
  parameters, ``ValueError`` for bad data, ``ZeroDivisionError`` for weights summing to zero), with
  messages naming the argument and the value received; ``UndefinedMetricWarning`` and NaN for
  scores of fewer than two samples.

On NumPy float32/float64 inputs the per-output sums run over cache-sized blocks in float64 (one
read of the inputs, no whole-array temporaries: see :mod:`regloss.sklearn._columns`), several
times faster than scikit-learn on large inputs (docs/performance.md).

>>> import regloss.sklearn as rs
>>> rs.mean_squared_error([[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]], multioutput="raw_values")
array([0.41666667, 1.        ])
"""

from ._deviance import d2_tweedie_score, mean_gamma_deviance, mean_poisson_deviance, mean_tweedie_deviance
from ._max_error import max_error
from ._means import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_pinball_loss,
    mean_squared_error,
    mean_squared_log_error,
    root_mean_squared_error,
    root_mean_squared_log_error,
)
from ._median import d2_absolute_error_score, d2_pinball_score, median_absolute_error
from ._scores import explained_variance_score, r2_score

__all__ = [
    "d2_absolute_error_score",
    "d2_pinball_score",
    "d2_tweedie_score",
    "explained_variance_score",
    "max_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_gamma_deviance",
    "mean_pinball_loss",
    "mean_poisson_deviance",
    "mean_squared_error",
    "mean_squared_log_error",
    "mean_tweedie_deviance",
    "median_absolute_error",
    "r2_score",
    "root_mean_squared_error",
    "root_mean_squared_log_error",
]
