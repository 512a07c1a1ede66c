"""One row per loss and metric: the test suite's table, written out here independently of
regloss's own descriptions (``regloss.specs``), so that a name or parameter lost there fails here.

Each :class:`LossCase` names the Keras 3 function and class, the streaming metric that averages it
(if any) and its command-line short name, example parameters for the class (the first row of
``params`` is the default), the range its inputs are drawn from, properties the tests branch on and
the fused kernel that restates it. ``METRIC_ONLY`` lists the metrics that average no loss.
Test files take their lists (and the helpers below) from here instead of retyping them; a test
that deliberately picks a few losses names them itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LossCase:
    function: str  # regloss.losses / keras.losses function name
    cls: str  # regloss.losses / keras.losses class name
    params: tuple = ({},)  # example constructor parameters (the first: the defaults)
    domain: str = "real"  # "real": any floats; "positive": y_true >= 0, y_pred > 0; "unit": in [0, 1]
    over_axes: bool = False  # per-sample values from sums over ``axis`` (cosine, Dice, Tversky)
    uses_epsilon: bool = False  # the formula reads regloss.config.epsilon()
    metric: str | None = None  # regloss.metrics class averaging it
    short: str | None = None  # its command-line name
    aliases: tuple = ()  # other names regloss.losses.get takes (Keras 3 and tf.keras 2)
    kernel: str | None = None  # the fused kernel restating its formula (a regloss.formulas name)
    home: str = "keras"  # the library whose numbers it gives: "keras", "torch" or "tfa" (TF Addons)


LOSSES = (
    LossCase("mean_squared_error", "MeanSquaredError", metric="MeanSquaredError", short="mse",
             aliases=("mse", "MSE"), kernel="squared_error"),
    LossCase("mean_absolute_error", "MeanAbsoluteError", metric="MeanAbsoluteError", short="mae",
             aliases=("mae", "MAE"), kernel="absolute_error"),
    LossCase("mean_absolute_percentage_error", "MeanAbsolutePercentageError", uses_epsilon=True,
             metric="MeanAbsolutePercentageError", short="mape", aliases=("mape", "MAPE"),
             kernel="absolute_percentage_error"),
    LossCase("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", domain="positive",
             uses_epsilon=True, metric="MeanSquaredLogarithmicError", short="msle", aliases=("msle", "MSLE"),
             kernel="squared_logarithmic_error"),
    LossCase("cosine_similarity", "CosineSimilarity", params=({}, {"axis": 0}), over_axes=True,
             uses_epsilon=True, metric="CosineSimilarity", short="cosine"),
    LossCase("huber", "Huber", params=({}, {"delta": 0.5}, {"delta": 2.0}), metric="Huber", short="huber",
             aliases=("huber_loss",), kernel="huber_error"),
    LossCase("log_cosh", "LogCosh", metric="LogCoshError", short="logcosh", aliases=("logcosh",),
             kernel="log_cosh_error"),
    LossCase("poisson", "Poisson", domain="positive", uses_epsilon=True, metric="Poisson", short="poisson",
             kernel="poisson_error"),
    LossCase("dice", "Dice", params=({}, {"axis": (1,)}), domain="unit", over_axes=True, uses_epsilon=True),
    LossCase("tversky", "Tversky", params=({}, {"alpha": 0.3, "beta": 0.7, "axis": (1,)}), domain="unit",
             over_axes=True, uses_epsilon=True),
    # training losses of other libraries (issue 22 item 4): no Keras peer, no streaming metric
    LossCase("pinball", "Pinball", params=({}, {"tau": 0.1}, {"tau": 0.9}), kernel="quantile_error",
             home="tfa"),
    LossCase("smooth_l1", "SmoothL1", params=({}, {"beta": 0.5}, {"beta": 0.0}), kernel="smooth_l1_error",
             home="torch"),
    LossCase("poisson_nll", "PoissonNLL", params=({}, {"log_input": False}, {"full": True}),
             domain="positive", kernel="poisson_nll_error", home="torch"),
)  # fmt: skip

SKLEARN_METRIC_ONLY = (
    ("MeanPinballLoss", "pinball"),
    ("MeanTweedieDeviance", "tweedie"),
    ("MeanPoissonDeviance", "poisson_deviance"),
    ("MeanGammaDeviance", "gamma_deviance"),
    ("D2TweedieScore", "d2_tweedie"),
    ("ExplainedVarianceScore", "explained_variance"),
    ("MaxError", "max_error"),
    ("RootMeanSquaredLogarithmicError", "rmsle"),
)
"""scikit-learn's metrics, streamed: class name and command-line name."""

METRIC_ONLY = (
    ("RootMeanSquaredError", "rmse"),
    ("R2Score", "r2"),
    ("PearsonCorrelation", "row_pearson"),
    ("ConcordanceCorrelation", "row_ccc"),
    ("PearsonCorrCoef", "pearson"),
    ("ConcordanceCorrCoef", "ccc"),
    *SKLEARN_METRIC_ONLY,
)
"""Streaming metrics that are not the mean of one loss: class name and command-line name."""

KERAS_LOSSES = tuple(case for case in LOSSES if case.home == "keras")
"""The rows that Keras 3 has (its oracle tests compare these)."""

SKLEARN_METRIC_CLASSES = tuple(class_name for class_name, _ in SKLEARN_METRIC_ONLY)
"""The metrics of METRIC_ONLY with scikit-learn's numbers (Keras has none of them; their oracle is
scikit-learn, in tests/test_sklearn_metrics.py)."""

METRIC_ONLY_DOMAINS = {
    "MeanPoissonDeviance": "positive",
    "MeanGammaDeviance": "strict",
    "RootMeanSquaredLogarithmicError": "positive",
}
"""The input range of a metric of METRIC_ONLY that takes no real numbers ("strict": y_true > 0 and
y_pred > 0)."""

FUNCTION_NAMES = tuple(case.function for case in LOSSES)
CLASS_NAMES = tuple(case.cls for case in LOSSES)
BY_FUNCTION = {case.function: case for case in LOSSES}
METRIC_BY_SHORT = {case.short: case.metric for case in LOSSES if case.short} | {s: c for c, s in METRIC_ONLY}
"""Every command-line metric name -> its regloss.metrics class name, in table order."""
BY_METRIC = {case.metric: case for case in LOSSES if case.metric}
METRIC_CLASS_NAMES = tuple(case.metric for case in LOSSES if case.metric) + tuple(c for c, _ in METRIC_ONLY)


def per_sample_params(case: LossCase, **chosen) -> dict:
    """Class/function parameters that give one value per sample of a ``(B, D)`` batch (``axis=-1``
    for the losses summed over axes, whose own default may sum over all of them), with ``chosen``
    ones (a test's deliberate picks) for the losses that take them."""
    names = {name for params in case.params for name in params}
    params = {"axis": -1} if case.over_axes else {}
    params.update({name: value for name, value in chosen.items() if name in names})
    return params
