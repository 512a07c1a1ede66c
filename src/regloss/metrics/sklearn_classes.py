"""scikit-learn 1.9's regression metrics as streaming classes: ``result()`` over any stream of batches
is the scikit-learn function of the concatenated data (float64, up to rounding).

Each class is a face over one statistic of :mod:`regloss.metrics.sklearn_statistics`, with the
``name=``/``dtype=``, configs, pickling, ``reset_state`` and ``merge_state`` of every
:class:`~regloss.metrics.Metric`. Batches are ``(samples,)`` or ``(samples, outputs)``;
``sample_weight`` is per sample (or per sample and output).

``multioutput`` (the classes whose scikit-learn function takes it: pinball, RMSLE, explained
variance): ``"uniform_average"`` (default), ``"raw_values"`` (one value per output), a sequence of
output weights, and ``"variance_weighted"`` for the explained variance. The Tweedie family and
D²-Tweedie, single-output in scikit-learn, give the mean over outputs of the single-output values;
``MaxError`` the max over every element (scikit-learn refuses several outputs for all of them).

>>> from regloss.metrics import MeanPinballLoss
>>> m = MeanPinballLoss(alpha=0.9)
>>> m.update_state([1.0, 2.0], [2.0, 2.0])
>>> m.update_state([3.0], [2.0])
>>> round(float(m.result()), 6)  # sklearn.metrics.mean_pinball_loss([1, 2, 3], [2, 2, 2], alpha=0.9)
0.333333
"""

from __future__ import annotations

import numbers

from .. import specs
from .._messages import show_value
from . import per_output
from .classes import METRIC_CLASSES, Metric
from .sklearn_statistics import (
    D2TweedieStatistic,
    ExplainedVarianceStatistic,
    MaxErrorStatistic,
    OutputMeanStatistic,
)


class _SklearnMetric(Metric):
    """A metric of :data:`regloss.specs.SKLEARN_METRICS`: its default name from the description."""

    spec = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.spec is not None:
            cls.default_name = cls.spec.default_name

    def _settings(self) -> dict:
        """The constructor arguments besides ``name`` and ``dtype``, as the config stores them."""
        return {}

    def get_config(self) -> dict:
        return {**super().get_config(), **self._settings()}


def _multioutput(value, owner, allowed=(per_output.RAW, per_output.UNIFORM)):
    return per_output.check_multioutput(value, owner, allowed)


class MeanPinballLoss(_SklearnMetric):
    """``mean(max(alpha e, (alpha - 1) e))``, ``e = y_true - y_pred``: the quantile loss of the
    ``alpha`` quantile (scikit-learn's ``mean_pinball_loss``), weighted, per output then combined
    by ``multioutput``."""

    spec = specs.MEAN_PINBALL_LOSS

    def __init__(self, alpha=0.5, multioutput="uniform_average", name=None, dtype=None):
        self.alpha = self.spec.standardize_params({"alpha": alpha})["alpha"]
        self.multioutput = _multioutput(multioutput, type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def _make_statistic(self):
        return OutputMeanStatistic(
            "pinball", {"alpha": self.alpha}, multioutput=self.multioutput, owner=type(self).__name__
        )

    def _settings(self) -> dict:
        return {"alpha": self.alpha, "multioutput": per_output.config_multioutput(self.multioutput)}


class RootMeanSquaredLogarithmicError(_SklearnMetric):
    """``sqrt(mean((log1p(y_true) - log1p(y_pred))**2))`` per output, then combined by
    ``multioutput`` (scikit-learn's ``root_mean_squared_log_error``: values <= -1 are a
    ``ValueError``; Keras's MSLE clips them instead)."""

    spec = specs.ROOT_MEAN_SQUARED_LOG_ERROR

    def __init__(self, multioutput="uniform_average", name=None, dtype=None):
        self.multioutput = _multioutput(multioutput, type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def _make_statistic(self):
        return OutputMeanStatistic(
            "squared_log", root=True, multioutput=self.multioutput, owner=type(self).__name__
        )

    def _settings(self) -> dict:
        return {"multioutput": per_output.config_multioutput(self.multioutput)}


class MeanTweedieDeviance(_SklearnMetric):
    """The weighted mean Tweedie unit deviance of ``power`` (scikit-learn's
    ``mean_tweedie_deviance``; ``power`` <= 0 or >= 1; the domain of each power is checked, a value
    outside it a ``ValueError``); with several outputs, the mean over outputs."""

    spec = specs.MEAN_TWEEDIE_DEVIANCE

    def __init__(self, power=0.0, name=None, dtype=None):
        self.power = self.spec.standardize_params({"power": power})["power"]
        super().__init__(name=name, dtype=dtype)

    def _make_statistic(self):
        return OutputMeanStatistic("tweedie", {"power": self.power}, owner=type(self).__name__)

    def _settings(self) -> dict:
        return {"power": self.power}


class _FixedPowerDeviance(_SklearnMetric):
    power = None

    def _make_statistic(self):
        return OutputMeanStatistic("tweedie", {"power": self.power}, owner=type(self).__name__)


class MeanPoissonDeviance(_FixedPowerDeviance):
    """The mean Tweedie deviance of power 1, ``2 (y log(y / m) - y + m)`` (y_true >= 0, y_pred > 0)."""

    spec = specs.MEAN_POISSON_DEVIANCE
    power = 1.0


class MeanGammaDeviance(_FixedPowerDeviance):
    """The mean Tweedie deviance of power 2, ``2 (log(m / y) + y / m - 1)`` (y_true, y_pred > 0)."""

    spec = specs.MEAN_GAMMA_DEVIANCE
    power = 2.0


class D2TweedieScore(_SklearnMetric):
    """``1 - D(y_pred) / D(mean(y_true))`` with ``D`` the weighted sum of Tweedie unit deviances of
    ``power`` (scikit-learn's ``d2_tweedie_score``): the denominator is a mergeable, centred null
    deviance (:mod:`regloss.metrics.tweedie_moments`). NaN below two samples; the mean over
    outputs with several."""

    spec = specs.D2_TWEEDIE_SCORE

    def __init__(self, power=0.0, name=None, dtype=None):
        self.power = self.spec.standardize_params({"power": power})["power"]
        super().__init__(name=name, dtype=dtype)

    def _make_statistic(self):
        return D2TweedieStatistic(self.power)

    def _empty_result(self, np):
        return np.asarray(float("nan"), dtype=self._dtype if self._dtype != "bfloat16" else "float32")

    def _settings(self) -> dict:
        return {"power": self.power}


class ExplainedVarianceScore(_SklearnMetric):
    """``1 - Var_w(y_true - y_pred) / Var_w(y_true)`` per output, from centred mergeable moments
    (scikit-learn's ``explained_variance_score``; ``force_finite`` as there), combined by
    ``multioutput`` (``"variance_weighted"`` weighs by ``Var_w(y_true)``)."""

    spec = specs.EXPLAINED_VARIANCE_SCORE

    def __init__(self, multioutput="uniform_average", force_finite=True, name=None, dtype=None):
        allowed = (per_output.RAW, per_output.UNIFORM, per_output.VARIANCE_WEIGHTED)
        self.multioutput = _multioutput(multioutput, type(self).__name__, allowed)
        if not isinstance(force_finite, bool | numbers.Integral) or force_finite not in (0, 1):
            raise TypeError(
                f"force_finite must be True or False; received force_finite={show_value(force_finite)}"
            )
        self.force_finite = bool(force_finite)
        super().__init__(name=name, dtype=dtype)

    def _make_statistic(self):
        return ExplainedVarianceStatistic(self.multioutput, self.force_finite)

    def _empty_result(self, np):
        return np.asarray(float("nan"), dtype=self._dtype if self._dtype != "bfloat16" else "float32")

    def _settings(self) -> dict:
        return {
            "multioutput": per_output.config_multioutput(self.multioutput),
            "force_finite": self.force_finite,
        }


class MaxError(_SklearnMetric):
    """``max |y_true - y_pred|`` over everything seen (scikit-learn's ``max_error``): a weight is a
    mask (elements of weight 0 are left out; other weights change nothing); with several outputs,
    the max over every element. 0 before any element."""

    spec = specs.MAX_ERROR

    def _make_statistic(self):
        return MaxErrorStatistic()


SKLEARN_METRIC_CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanPinballLoss,
        MeanTweedieDeviance,
        MeanPoissonDeviance,
        MeanGammaDeviance,
        D2TweedieScore,
        ExplainedVarianceScore,
        MaxError,
        RootMeanSquaredLogarithmicError,
    )
}
METRIC_CLASSES.update(SKLEARN_METRIC_CLASSES)
