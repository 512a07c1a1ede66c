"""Streaming metric classes with Keras 3's semantics, mergeable states and lossless configs.

Each class is a thin face over one statistic of :mod:`regloss.metrics.statistics`: ``update_state``
replaces the state with ``statistic.update(state, ...)`` (the state is built from the first batch,
on its library and device), ``merge_state`` with ``statistic.merge``, ``result`` is
``statistic.result(state, dtype)``. A failed ``update_state`` or ``merge_state`` raises before the
state is replaced, so the state is exactly what it was.
"""

from __future__ import annotations

import numbers

from .. import specs
from .._messages import check_keywords, show_value
from .._xp import resolve, standardize_dtype
from . import placement
from .statistics import MeanStatistic, R2Statistic


def _computed(state: dict) -> dict:
    """``state`` with its Dask arrays computed (in one pass); any other state unchanged."""
    if not any(hasattr(value, "__dask_graph__") for value in state.values()):
        return state
    import dask

    (computed,) = dask.compute(state)
    return computed


def merged_state(metric, others):
    """The state of ``metric`` merged with those of ``others`` (``merge_state``'s work, shared by
    the metric classes and :class:`regloss.metrics.Bootstrap`): each must be of ``metric``'s class
    and have its ``_comparable_config()`` and its state on the same library and device, else
    ``TypeError`` / ``ValueError`` before anything is merged."""
    merged = metric.state
    for position, other in enumerate(others):
        if type(other) is not type(metric):
            raise TypeError(
                f"merge_state takes {type(metric).__name__} metrics; received "
                f"{type(other).__name__} as argument {position}"
            )
        mine, theirs = metric._comparable_config(), other._comparable_config()
        if mine != theirs:
            raise ValueError(
                f"merge_state takes metrics of one configuration; this one has {mine}, "
                f"argument {position} has {theirs}"
            )
    owner = type(metric).__name__
    placement.check_states(
        [(f"the state of this {owner}", metric.state)]
        + [(f"the state of argument {i}", other.state) for i, other in enumerate(others)]
    )
    for other in others:
        if other.state is not None:
            merged = other.state if merged is None else metric.statistic.merge(merged, other.state)
    return merged


class Metric:
    """Base class: a statistic, its state, a name and a result dtype.

    Parameters
    ----------
    name : str, optional
        Defaults to the class's Keras name.
    dtype : str, optional
        The result dtype: ``"float32"`` by default (as Keras), ``"float64"`` for the full precision
        of the float64 state. The state itself is float64 whatever ``dtype`` is.
    """

    default_name = "metric"

    def __init__(self, name=None, dtype=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None; received name={show_value(name)}")
        self.name = name or self.default_name
        self._dtype_argument = dtype
        self._dtype = standardize_dtype(dtype) if dtype is not None else "float32"
        self.statistic = self._make_statistic()
        self.state = None

    @property
    def dtype(self) -> str:
        return self._dtype

    def _make_statistic(self):
        raise NotImplementedError

    # ------------------------------------------------------------------ streaming

    def update_state(self, y_true, y_pred, sample_weight=None, *, mask=None):
        """Add one batch: per-sample values weighted by ``sample_weight`` times ``mask`` (a mask
        of the per-sample values' shape: Keras's ``"sum"`` semantics). Returns None.

        A batch of Dask arrays is computed here (its few sums only): the one exception to Dask's
        laziness, so that the state stays a few NumPy numbers instead of a task graph that grows
        with every batch. To evaluate a whole data set lazily, use :func:`regloss.dask.evaluate`."""
        state = self.state
        if state is not None:
            placement.check_batch(state, type(self).__name__, y_pred, y_true, sample_weight, mask)
        else:
            # the batch's library and device: a list y_pred with a torch y_true is a torch batch
            _, arrays, _ = resolve(y_true=y_true, y_pred=y_pred, sample_weight=sample_weight, mask=mask)
            state = self.statistic.init(arrays["y_pred"])
        self.state = _computed(self.statistic.update(state, y_true, y_pred, sample_weight, mask))

    def result(self):
        """The metric of everything seen so far, a 0-d array (per output for ``R2Score`` with
        ``class_aggregation=None``) of :attr:`dtype`, on the inputs' library; 0 before any batch."""
        if self.state is None:
            import numpy as np

            return self._empty_result(np)
        return self.statistic.result(self.state, self._dtype)

    def _empty_result(self, np):
        return np.asarray(0.0, dtype=self._dtype if self._dtype != "bfloat16" else "float32")

    def reset_state(self):
        """Forget every batch."""
        self.state = None

    def merge_state(self, *others):
        """Add the states of other metrics of this class and configuration (their data, as if
        this metric had seen it too). ``TypeError`` for another class, ``ValueError`` for another
        configuration; on any error the state is unchanged."""
        self.state = merged_state(self, others)

    def _comparable_config(self) -> dict:
        config = self.get_config()
        config.pop("name", None)
        config.pop("dtype", None)
        return config

    # ------------------------------------------------------------------ configs and copies

    def get_config(self) -> dict:
        """Every constructor argument: ``Type.from_config(metric.get_config())`` is an equal metric."""
        return {"name": self.name, "dtype": self._dtype_argument}

    @classmethod
    def from_config(cls, config: dict):
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict; received {type(config).__name__}")
        check_keywords(cls, config, f"{cls.__name__}.from_config")
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class _MeanMetric(Metric):
    """A weighted mean across batches of the per-sample values of the loss ``spec``
    (:mod:`regloss.specs`; its default name and sign come from the description's metric face); a
    1-D batch of ``B`` values is ``B`` samples of one output (the mean over the data set, not
    Keras's mean of batch means)."""

    spec = None
    formula = None
    sign = 1.0
    root = False
    elementwise = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.spec is not None:
            cls.formula = cls.spec.per_sample
            if cls.spec.metric is not None and cls.spec.metric.class_name == cls.__name__:
                cls.default_name = cls.spec.metric.default_name
                cls.sign = cls.spec.metric.sign

    def _params(self) -> dict:
        return {}

    def _make_statistic(self):
        return MeanStatistic(
            self.formula, self._params(), sign=self.sign, root=self.root, elementwise=self.elementwise
        )


class MeanSquaredError(_MeanMetric):
    """``mean((y_true - y_pred)**2)``: per-sample means over the last axis, weighted across batches.

    >>> import numpy as np
    >>> from regloss.metrics import MeanSquaredError
    >>> m = MeanSquaredError()
    >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]])
    >>> float(m.result())
    0.5
    """

    spec = specs.MEAN_SQUARED_ERROR


class RootMeanSquaredError(_MeanMetric):
    """``sqrt(mean((y_true - y_pred)**2))`` over everything seen (the root of the weighted mean).

    As in Keras, every element is a value: a weight of ``y_true``'s shape (``(B, D)`` for inputs
    ``(B, D)``) weighs each squared error, ``sqrt(sum(w e**2) / sum(w))``; a ``(B,)`` weight weighs
    each row's mean squared error.

    >>> from regloss.metrics import RootMeanSquaredError
    >>> m = RootMeanSquaredError()
    >>> m.update_state([[0.0, 1.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
    >>> float(m.result())
    0.7071067690849304
    """

    default_name = specs.ROOT_MEAN_SQUARED_ERROR.default_name
    spec = specs.MEAN_SQUARED_ERROR
    root = True
    elementwise = True


class MeanAbsoluteError(_MeanMetric):
    """``mean(|y_true - y_pred|)``, weighted across batches."""

    spec = specs.MEAN_ABSOLUTE_ERROR


class MeanAbsolutePercentageError(_MeanMetric):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, epsilon))``, weighted across batches."""

    spec = specs.MEAN_ABSOLUTE_PERCENTAGE_ERROR


class MeanSquaredLogarithmicError(_MeanMetric):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)``, weighted across batches."""

    spec = specs.MEAN_SQUARED_LOGARITHMIC_ERROR


class LogCoshError(_MeanMetric):
    """``mean(log(cosh(y_pred - y_true)))``, weighted across batches (Keras name ``"logcosh"``)."""

    spec = specs.LOG_COSH


class Huber(_MeanMetric):
    """The Huber loss as a metric (Keras has none): ``mean(0.5 e**2 if |e| <= delta else
    delta (|e| - 0.5 delta))``, weighted across batches; ``delta`` round-trips in the config."""

    spec = specs.HUBER

    def __init__(self, delta=1.0, name=None, dtype=None):
        self.delta = specs.HUBER.standardize_params({"delta": delta})["delta"]
        super().__init__(name=name, dtype=dtype)

    def _params(self) -> dict:
        return {"delta": self.delta}

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta}


class AxisMeanMetric(_MeanMetric):
    """A weighted mean of per-sample values over ``axis`` (cosine, the correlations); ``axis``
    round-trips in the config, a tuple through JSON too."""

    def __init__(self, name=None, dtype=None, axis=-1):
        self.axis = specs.AXIS.standardize(axis)
        super().__init__(name=name, dtype=dtype)

    def _params(self) -> dict:
        return {"axis": self.axis}

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}

    @classmethod
    def from_config(cls, config: dict):
        if isinstance(config, dict) and isinstance(config.get("axis"), list):
            config = {**config, "axis": tuple(config["axis"])}
        return super().from_config(config)


class CosineSimilarity(AxisMeanMetric):
    """``+cos(y_true, y_pred)`` over ``axis`` per sample (the metric is +cos, the loss -cos), weighted
    across batches; ``axis`` round-trips in the config (Keras's drops it)."""

    spec = specs.COSINE_SIMILARITY


class Poisson(_MeanMetric):
    """``mean(y_pred - y_true * log(y_pred + eps))``, weighted across batches (Keras's ``Poisson``).

    >>> from regloss.metrics import Poisson
    >>> m = Poisson()
    >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    >>> round(float(m.result()), 6)
    0.5
    """

    spec = specs.POISSON


_CLASS_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """The coefficient of determination, streamed (see :class:`regloss.metrics.statistics.R2Statistic`).

    Inputs are ``(samples, outputs)`` or ``(samples,)`` (one output; Keras requires 2-D).
    ``class_aggregation``: ``"uniform_average"`` (default), ``"variance_weighted_average"`` or
    ``None`` (one score per output). ``num_regressors > 0`` gives the adjusted R², with ``n`` the
    number of samples with a non-zero weight (Keras 3.15.1 counts ``samples * outputs`` elements).

    >>> from regloss.metrics import R2Score
    >>> m = R2Score()
    >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    >>> round(float(m.result()), 6)
    0.571429
    """

    default_name = specs.R2_SCORE.default_name

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name=None, dtype=None):
        if class_aggregation not in _CLASS_AGGREGATIONS:
            raise ValueError(
                f"class_aggregation must be one of {_CLASS_AGGREGATIONS}; received "
                f"class_aggregation={show_value(class_aggregation)}"
            )
        if (
            isinstance(num_regressors, bool)
            or not isinstance(num_regressors, numbers.Integral)
            or num_regressors < 0
        ):
            raise ValueError(
                "num_regressors must be an integer >= 0; "
                f"received num_regressors={show_value(num_regressors)}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        super().__init__(name=name, dtype=dtype)

    def _make_statistic(self):
        return R2Statistic(self.class_aggregation, self.num_regressors)

    def _empty_result(self, np):
        return np.asarray(float("nan"), dtype=self._dtype if self._dtype != "bfloat16" else "float32")

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }


METRIC_CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        RootMeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        LogCoshError,
        Huber,
        CosineSimilarity,
        Poisson,
        R2Score,
    )
}
