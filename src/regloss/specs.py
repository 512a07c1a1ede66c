"""One description per loss and metric: the facts every face of regloss derives from.

A :class:`LossSpec` holds what is true of a loss wherever it appears: its per-sample formula (a
:class:`regloss.formulas.MeanOverOutputs` or :class:`regloss.formulas.OverAxes` over one elementwise
function), its parameters with their defaults and checks, its Keras 3 names and aliases, the
tf.keras 2 aliases, the streaming metric that averages it (class name and command-line short name),
the fused kernel that restates it, and the one-line formula text that ``regloss losses``, the docs
and error messages show. A :class:`MetricSpec` describes a metric that is not the mean of a loss
(RMSE, R²).

The loss functions and classes of :mod:`regloss.losses`, the registry (``get`` / ``serialize``),
the metric classes, the command line's names and catalogue and :mod:`regloss.dask`'s names read
these descriptions; none of them restates a name, a default or a formula.

This module imports only :mod:`regloss.formulas` and :mod:`regloss.params` (which import nothing
above them), so every other module may import it.

Adding a loss: its elementwise function in :mod:`regloss.formulas`, a description here, a few-line
function and class in :mod:`regloss.losses`, a metric class if it has one, tests and docs.
"""

from __future__ import annotations

from . import formulas
from .params import (
    axis_argument,
    boolean,
    non_negative_number,
    positive_number,
    real_number,
    tweedie_power,
    unit_interval_levels,
    unit_interval_number,
)


class _Description:
    """A read-only record (plain slots rather than a dataclass: ``import regloss`` stays fast)."""

    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only")

    def _set(self, **values):
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Param(_Description):
    """A hyper-parameter: its name, its default and the check that turns a given value into the
    stored one (raising ``TypeError``/``ValueError`` that name it)."""

    __slots__ = ("name", "default", "check")

    def __init__(self, name: str, default, check=None):
        self._set(name=name, default=default, check=check)

    def standardize(self, value):
        return value if self.check is None else self.check(value, self.name)


class MetricFace(_Description):
    """The streaming metric that averages a loss's per-sample values: its :mod:`regloss.metrics`
    class name, its default name, its command-line short name, its sign (``-1`` when the metric is
    the negated loss, as cosine similarity) and its formula text when it is not the loss's."""

    __slots__ = ("class_name", "default_name", "short", "sign", "text")

    def __init__(self, class_name: str, default_name: str, short: str, sign: float = 1.0, text=None):
        self._set(class_name=class_name, default_name=default_name, short=short, sign=sign, text=text)


class LossSpec(_Description):
    """One loss: see the module docstring. ``name`` is the Keras 3 function name, ``class_name``
    and ``default_name`` the loss class and its default ``name=``; ``aliases`` the other names
    ``regloss.losses.get`` takes (Keras 3's), ``keras2_aliases`` those of tf.keras 2.x that Keras 3
    dropped; ``kernel`` the id of the fused kernel that restates the formula
    (:mod:`regloss.kernels.numba_tier`), or None; ``in_keras`` whether Keras 3 has the loss (a
    loss from another library, as torch's ``SmoothL1Loss``, serializes as ``regloss.losses``)."""

    __slots__ = (
        "name", "class_name", "default_name", "per_sample", "text", "params", "aliases",
        "keras2_aliases", "metric", "kernel", "param_names", "in_keras",
    )  # fmt: skip

    def __init__(
        self, *, name, class_name, default_name, per_sample, text, params=(), aliases=(),
        keras2_aliases=(), metric=None, kernel=None, in_keras=True,
    ):  # fmt: skip
        self._set(
            name=name, class_name=class_name, default_name=default_name, per_sample=per_sample,
            text=text, params=tuple(params), aliases=tuple(aliases), keras2_aliases=tuple(keras2_aliases),
            metric=metric, kernel=kernel, param_names=tuple(param.name for param in params),
            in_keras=in_keras,
        )  # fmt: skip

    def standardize_params(self, given: dict) -> dict:
        """The stored value of every parameter (checked), in the description's order."""
        return {param.name: param.standardize(given[param.name]) for param in self.params}


class MetricSpec(_Description):
    """A metric that is not the mean of a loss: class name, default name, short name, formula text,
    its parameters (:class:`Param`, those that the command line takes as ``short:name=value``), and
    whether a higher value is better (a score or a correlation; an error otherwise)."""

    __slots__ = ("class_name", "default_name", "short", "text", "params", "higher_is_better")

    def __init__(
        self, class_name: str, default_name: str, short: str, text: str, params=(), *,
        higher_is_better: bool = False,
    ):  # fmt: skip
        self._set(
            class_name=class_name, default_name=default_name, short=short, text=text,
            params=tuple(params), higher_is_better=higher_is_better,
        )  # fmt: skip

    def standardize_params(self, given: dict) -> dict:
        """The stored value of every parameter (checked; the default where not given)."""
        return {param.name: param.standardize(given.get(param.name, param.default)) for param in self.params}


AXIS = Param("axis", -1, axis_argument)

MEAN_SQUARED_ERROR = LossSpec(
    name="mean_squared_error",
    class_name="MeanSquaredError",
    default_name="mean_squared_error",
    per_sample=formulas.MeanOverOutputs(formulas.squared_error, live_arrays=2),
    text="mean((y_true - y_pred)**2)",
    aliases=("mse", "MSE"),
    metric=MetricFace("MeanSquaredError", "mean_squared_error", "mse"),
    kernel="squared_error",
)
MEAN_ABSOLUTE_ERROR = LossSpec(
    name="mean_absolute_error",
    class_name="MeanAbsoluteError",
    default_name="mean_absolute_error",
    per_sample=formulas.MeanOverOutputs(formulas.absolute_error, live_arrays=2),
    text="mean(|y_true - y_pred|)",
    aliases=("mae", "MAE"),
    metric=MetricFace("MeanAbsoluteError", "mean_absolute_error", "mae"),
    kernel="absolute_error",
)
MEAN_ABSOLUTE_PERCENTAGE_ERROR = LossSpec(
    name="mean_absolute_percentage_error",
    class_name="MeanAbsolutePercentageError",
    default_name="mean_absolute_percentage_error",
    per_sample=formulas.MeanOverOutputs(formulas.absolute_percentage_error, scale=100.0, live_arrays=3),
    text="100 * mean(|y_true - y_pred| / max(|y_true|, eps))",
    aliases=("mape", "MAPE"),
    metric=MetricFace("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "mape"),
    kernel="absolute_percentage_error",
)
MEAN_SQUARED_LOGARITHMIC_ERROR = LossSpec(
    name="mean_squared_logarithmic_error",
    class_name="MeanSquaredLogarithmicError",
    default_name="mean_squared_logarithmic_error",
    per_sample=formulas.MeanOverOutputs(formulas.squared_logarithmic_error, live_arrays=4),
    text="mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)",
    aliases=("msle", "MSLE"),
    metric=MetricFace("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "msle"),
    kernel="squared_logarithmic_error",
)
COSINE_SIMILARITY = LossSpec(
    name="cosine_similarity",
    class_name="CosineSimilarity",
    default_name="cosine_similarity",
    per_sample=formulas.OverAxes(
        formulas.negative_cosine_similarity, default_axis=-1, live_arrays=1, live_sample_arrays=3
    ),
    text="-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)",
    params=(AXIS,),
    metric=MetricFace(
        "CosineSimilarity",
        "cosine_similarity",
        "cosine",
        sign=-1.0,
        text="mean over rows of sum(y_true * y_pred) / (|y_true| |y_pred|) (needs several outputs)",
    ),
)
HUBER = LossSpec(
    name="huber",
    class_name="Huber",
    default_name="huber_loss",
    per_sample=formulas.MeanOverOutputs(formulas.huber_error, live_arrays=4),
    text="mean(0.5 e**2 if |e| <= delta else delta |e| - 0.5 delta**2), e = y_pred - y_true",
    params=(Param("delta", 1.0, positive_number),),
    keras2_aliases=("huber_loss",),
    metric=MetricFace("Huber", "huber", "huber"),
    kernel="huber_error",
)
LOG_COSH = LossSpec(
    name="log_cosh",
    class_name="LogCosh",
    default_name="log_cosh",
    per_sample=formulas.MeanOverOutputs(formulas.log_cosh_error, live_arrays=3),
    text="mean(log(cosh(y_pred - y_true)))",
    keras2_aliases=("logcosh",),
    metric=MetricFace("LogCoshError", "logcosh", "logcosh"),
    kernel="log_cosh_error",
)
POISSON = LossSpec(
    name="poisson",
    class_name="Poisson",
    default_name="poisson",
    per_sample=formulas.MeanOverOutputs(formulas.poisson_error, live_arrays=3),
    text="mean(y_pred - y_true * log(y_pred + eps))",
    metric=MetricFace("Poisson", "poisson", "poisson"),
    kernel="poisson_error",
)
DICE = LossSpec(
    name="dice",
    class_name="Dice",
    default_name="dice",
    per_sample=formulas.OverAxes(formulas.dice_loss, default_axis=None, live_arrays=1, live_sample_arrays=4),
    text="1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps), sums over axis (default: all)",
    params=(Param("axis", None, axis_argument),),
)
TVERSKY = LossSpec(
    name="tversky",
    class_name="Tversky",
    default_name="tversky",
    per_sample=formulas.OverAxes(
        formulas.tversky_loss, default_axis=None, live_arrays=2, live_sample_arrays=4
    ),
    text=(
        "1 - TP / (TP + alpha FP + beta FN + eps), TP = sum(y_true y_pred), "
        "FP = sum((1 - y_true) y_pred), FN = sum(y_true (1 - y_pred))"
    ),
    params=(
        Param("alpha", 0.5, real_number),
        Param("beta", 0.5, real_number),
        Param("axis", None, axis_argument),
    ),
)

PINBALL = LossSpec(
    name="pinball",
    class_name="Pinball",
    default_name="pinball",
    per_sample=formulas.MeanOverOutputs(formulas.quantile_error, live_arrays=4),
    text="mean(max(tau d, (tau - 1) d)), d = y_true - y_pred (TF Addons' PinballLoss)",
    params=(Param("tau", 0.5, unit_interval_levels),),
    kernel="quantile_error",
    in_keras=False,
)
SMOOTH_L1 = LossSpec(
    name="smooth_l1",
    class_name="SmoothL1",
    default_name="smooth_l1",
    per_sample=formulas.MeanOverOutputs(formulas.smooth_l1_error, live_arrays=5),
    text=(
        "mean(0.5 e**2 / beta if |e| < beta else |e| - 0.5 beta), e = y_pred - y_true (torch's SmoothL1Loss)"
    ),
    params=(Param("beta", 1.0, non_negative_number),),
    kernel="smooth_l1_error",
    in_keras=False,
)
POISSON_NLL = LossSpec(
    name="poisson_nll",
    class_name="PoissonNLL",
    default_name="poisson_nll",
    per_sample=formulas.MeanOverOutputs(formulas.poisson_nll_error, live_arrays=4),
    text=(
        "mean(v), v = exp(y_pred) - y_true y_pred if log_input else y_pred - y_true log(y_pred + eps), "
        "plus y log(y) - y + 0.5 log(2 pi y) where y = y_true > 1 if full (torch's PoissonNLLLoss)"
    ),
    params=(
        Param("log_input", True, boolean),
        Param("full", False, boolean),
        Param("eps", 1e-8, positive_number),
    ),
    kernel="poisson_nll_error",
    in_keras=False,
)

LOSSES = (
    MEAN_SQUARED_ERROR,
    MEAN_ABSOLUTE_ERROR,
    MEAN_ABSOLUTE_PERCENTAGE_ERROR,
    MEAN_SQUARED_LOGARITHMIC_ERROR,
    COSINE_SIMILARITY,
    HUBER,
    LOG_COSH,
    POISSON,
    DICE,
    TVERSKY,
    PINBALL,
    SMOOTH_L1,
    POISSON_NLL,
)
"""Every loss, in the order of the catalogue."""

ROOT_MEAN_SQUARED_ERROR = MetricSpec(
    "RootMeanSquaredError", "root_mean_squared_error", "rmse", "sqrt(mean((y_true - y_pred)**2))"
)
R2_SCORE = MetricSpec(
    "R2Score",
    "r2_score",
    "r2",
    "1 - sum(w (y_true - y_pred)**2) / sum(w (y_true - weighted mean of y_true)**2), "
    "averaged over the outputs",
    higher_is_better=True,
)

PEARSON_CORRELATION = MetricSpec(
    "PearsonCorrelation",
    "pearson_correlation",
    "row_pearson",
    "mean over rows of the Pearson correlation of y_true and y_pred across the outputs "
    "(NaN for a constant row; needs several outputs)",
    higher_is_better=True,
)
CONCORDANCE_CORRELATION = MetricSpec(
    "ConcordanceCorrelation",
    "concordance_correlation",
    "row_ccc",
    "mean over rows of 2 cov(t, p) / (var(t) + var(p) + (mean(t) - mean(p))**2 + eps) across the "
    "outputs (needs several outputs)",
    higher_is_better=True,
)

PEARSON_CORRCOEF = MetricSpec(
    "PearsonCorrCoef",
    "pearson_corrcoef",
    "pearson",
    "sum(w (t - mean t) (p - mean p)) / sqrt(sum(w (t - mean t)**2) sum(w (p - mean p)**2)) over all "
    "rows, per output (torchmetrics; NaN for a constant column); several outputs: their mean",
    higher_is_better=True,
)
CONCORDANCE_CORRCOEF = MetricSpec(
    "ConcordanceCorrCoef",
    "concordance_corrcoef",
    "ccc",
    "2 r st sp / (st**2 + sp**2 + (mean t - mean p)**2) over all rows, per output, with n - 1 variances "
    "(torchmetrics; NaN for a constant column); several outputs: their mean",
    higher_is_better=True,
)

# scikit-learn 1.9's regression metrics, streamed (regloss.metrics.sklearn_classes); e = y_true - y_pred
POWER = Param("power", 0.0, tweedie_power)
_DEVIANCE = (
    "2 (max(y,0)**(2-p) / ((1-p)(2-p)) - y m**(1-p) / (1-p) + m**(2-p) / (2-p)), y = y_true, m = y_pred "
    "(p=0: (y-m)**2; p=1: 2 (y log(y/m) - y + m); p=2: 2 (log(m/y) + y/m - 1))"
)
MEAN_PINBALL_LOSS = MetricSpec(
    "MeanPinballLoss",
    "mean_pinball_loss",
    "pinball",
    "mean(max(alpha e, (alpha - 1) e)), weighted, per output then averaged",
    params=(Param("alpha", 0.5, unit_interval_number),),
)
MEAN_TWEEDIE_DEVIANCE = MetricSpec(
    "MeanTweedieDeviance",
    "mean_tweedie_deviance",
    "tweedie",
    f"weighted mean of {_DEVIANCE}",
    params=(POWER,),
)
MEAN_POISSON_DEVIANCE = MetricSpec(
    "MeanPoissonDeviance",
    "mean_poisson_deviance",
    "poisson_deviance",
    "weighted mean of 2 (y log(y / m) - y + m), y = y_true >= 0, m = y_pred > 0",
)
MEAN_GAMMA_DEVIANCE = MetricSpec(
    "MeanGammaDeviance",
    "mean_gamma_deviance",
    "gamma_deviance",
    "weighted mean of 2 (log(m / y) + y / m - 1), y = y_true > 0, m = y_pred > 0",
)
D2_TWEEDIE_SCORE = MetricSpec(
    "D2TweedieScore",
    "d2_tweedie_score",
    "d2_tweedie",
    "1 - sum(w dev_p(y_true, y_pred)) / sum(w dev_p(y_true, weighted mean of y_true)), per output then "
    "averaged (NaN below 2 samples)",
    params=(POWER,),
    higher_is_better=True,
)
EXPLAINED_VARIANCE_SCORE = MetricSpec(
    "ExplainedVarianceScore",
    "explained_variance_score",
    "explained_variance",
    "1 - Var_w(y_true - y_pred) / Var_w(y_true), per output then averaged (1 where both are 0, 0 where "
    "only Var_w(y_true) is)",
    higher_is_better=True,
)
MAX_ERROR = MetricSpec(
    "MaxError", "max_error", "max_error", "max(|y_true - y_pred|) over the elements of non-zero weight"
)
ROOT_MEAN_SQUARED_LOG_ERROR = MetricSpec(
    "RootMeanSquaredLogarithmicError",
    "root_mean_squared_log_error",
    "rmsle",
    "sqrt(weighted mean((log1p(y_true) - log1p(y_pred))**2)) per output, then averaged (values > -1)",
)
SKLEARN_METRICS = (
    MEAN_PINBALL_LOSS,
    MEAN_TWEEDIE_DEVIANCE,
    MEAN_POISSON_DEVIANCE,
    MEAN_GAMMA_DEVIANCE,
    D2_TWEEDIE_SCORE,
    EXPLAINED_VARIANCE_SCORE,
    MAX_ERROR,
    ROOT_MEAN_SQUARED_LOG_ERROR,
)
"""scikit-learn's regression metrics, streamed."""

# the quantiles of |y_true - y_pred| of regloss evaluate (regloss.cli.quantiles): not streaming sums
_QUANTILE_MODES = (
    "per output, then averaged; exact in 4 passes over the data (scikit-learn's averaged inverted "
    "CDF), or within 1% of the lower quantile with --quantiles sketch"
)
MEDIAN_ABSOLUTE_ERROR = MetricSpec(
    "AbsoluteErrorQuantile",
    "median_absolute_error",
    "median_ae",
    f"weighted median of |y_true - y_pred| {_QUANTILE_MODES}",
)
ABSOLUTE_ERROR_QUANTILE = MetricSpec(
    "AbsoluteErrorQuantile",
    "absolute_error_quantile",
    "ae_quantile",
    f"weighted q quantile of |y_true - y_pred| {_QUANTILE_MODES}",
    params=(Param("q", None, unit_interval_number),),
)
QUANTILE_METRICS = (MEDIAN_ABSOLUTE_ERROR, ABSOLUTE_ERROR_QUANTILE)
"""The quantile metrics of ``regloss evaluate`` (their parameter without default is required)."""

METRICS = (
    ROOT_MEAN_SQUARED_ERROR,
    R2_SCORE,
    PEARSON_CORRELATION,
    CONCORDANCE_CORRELATION,
    PEARSON_CORRCOEF,
    CONCORDANCE_CORRCOEF,
    *SKLEARN_METRICS,
)
"""The metrics that are not the mean of one loss."""


def function_aliases() -> dict:
    """Every other name of a loss function -> its Keras 3 name (Keras 3's and tf.keras 2's)."""
    return {alias: spec.name for spec in LOSSES for alias in (*spec.aliases, *spec.keras2_aliases)}


def by_function_name() -> dict:
    return {spec.name: spec for spec in LOSSES}


_KERNELS = {spec.per_sample: spec.kernel for spec in LOSSES if spec.kernel is not None}


def kernel_of(per_sample) -> str | None:
    """The fused kernel id of a loss's per-sample formula (None when no kernel restates it)."""
    return _KERNELS.get(per_sample)
