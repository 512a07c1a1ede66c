"""The streaming metrics' one numeric path: pure state machines ``init / update / merge / result``.

A *statistic* is an immutable, hashable description of a metric (its formula and parameters). Its
state is a ``dict`` of arrays of the input's library, on the input's device (a pytree: it passes
through ``jax.jit``, pickles and deep-copies). Sums are float64 and counts int64, or on JAX without
x64 a float32 ``(hi, lo)`` pair and two uint32 words (:mod:`regloss.metrics.accumulate`).

:class:`MeanStatistic`, the weighted mean of per-sample values across batches (Keras 3's
``MeanMetricWrapper``; ``v`` the per-sample values of a batch, of shape ``V``; ``w`` the sample
weight times the mask, of rank ``k`` after Keras's rank reconciliation, aligned with the leading
axes of ``V``)::

    no weight:  total += sum(v) / prod(V[1:])          rows   += V[0]   (1 for a 0-d v)
    k >= 1:     total += sum(v * w) / prod(V[1:])      weight += sum(w) / prod(V[1:k])
    k == 0:     total += mean(v) * w                   weight += w
    result    = finish(total / (weight + rows))        (0 when the divisor is 0)

that is, each sample's values are averaged over its non-batch axes first, as Keras does. ``finish``
is the identity, or the square root for the root mean squared error.

:class:`R2Statistic`, the coefficient of determination per output ``j`` (``w`` broadcast to
``(rows, outputs)``)::

    S_j = sum(w y_j)   Q_j = sum(w y_j**2)   R_j = sum(w (y_j - p_j)**2)   W_j = sum(w)
    n  += rows with a non-zero weight
    SST_j = Q_j - S_j**2 / W_j          r2_j = 1 - R_j / SST_j     (an infinite r2_j becomes 0)

then ``class_aggregation``: ``None`` (one per output), ``"uniform_average"`` (their mean),
``"variance_weighted_average"`` (``sum(SST_j r2_j) / sum(SST_j)``); and with ``num_regressors = p >
0`` and ``n - p - 1 > 0`` the adjusted ``1 - (1 - r2) (n - 1) / (n - p - 1)``.

On NumPy inputs the batch sums of :class:`MeanStatistic` come from the fused kernels
(:mod:`regloss.kernels`), which accumulate every element in float64.
"""

from __future__ import annotations

import math

from .. import config, kernels
from .._shapes import reconcile_rank, shape_of, show
from .._xp import cast, compute_dtype_name, device_of, dtype_name, is_float, resolve
from ..losses.classes import _keras_mask
from ..losses.functional import finish, prepare_inputs
from . import accumulate as acc


def _inputs(y_true, y_pred, sample_weight, mask):
    """``(xp, y_true, y_pred, weight, present)``: the inputs converted, cast to their compute dtype
    (a float ``y_pred`` keeps its dtype; float16/bfloat16 compute in float32; anything else in
    ``floatx``), ranks reconciled and shapes checked; ``present`` the boolean mask (``mask=`` and a
    Keras mask on ``y_pred``, non-zero meaning present) or None, also folded into ``weight``."""
    for argument, value in (("y_true", y_true), ("y_pred", y_pred)):
        if value is None:
            raise TypeError(f"{argument} must be an array; received None")
    xp, arrays, weak = resolve(
        y_true=y_true,
        y_pred=y_pred,
        sample_weight=sample_weight,
        mask=mask,
        keras_mask=_keras_mask(y_pred),
    )
    pred = arrays["y_pred"]
    keeps_dtype = is_float(xp, pred) and "y_pred" not in weak
    dtype = compute_dtype_name(dtype_name(pred.dtype) if keeps_dtype else config.floatx())
    true, pred = prepare_inputs(xp, arrays["y_true"], pred, dtype)
    weight = arrays["sample_weight"]
    if weight is not None:
        weight = cast(xp, weight, dtype)
    present = None
    for argument in ("mask", "keras_mask"):
        given = arrays[argument]
        if given is None:
            continue
        # non-zero means present, whatever the mask's dtype (an integer 2 counts once, as 2.0 does)
        found = given if dtype_name(given.dtype) == "bool" else given != 0
        present = found if present is None else _leading_product(xp, present, found)
    if present is not None:
        as_weight = cast(xp, present, dtype)
        weight = as_weight if weight is None else _leading_product(xp, weight, as_weight)
    return xp, true, pred, weight, present


def _leading_product(xp, first, second):
    """``first * second`` with both aligned on their leading axes (a per-sample weight of shape
    ``(B,)`` times a mask of shape ``(B, T)``)."""
    rank = max(first.ndim, second.ndim)
    if first.ndim and second.ndim:
        first = xp.reshape(first, shape_of(first) + (1,) * (rank - first.ndim))
        second = xp.reshape(second, shape_of(second) + (1,) * (rank - second.ndim))
    if dtype_name(first.dtype) == "bool":
        return first & second
    return first * second


def _fit_leading(xp, weight, values_shape: tuple):
    """The weight reconciled with the per-sample values (Keras's rank rules) and checked to
    broadcast onto their leading axes; returns ``(weight, k)``."""
    weight = reconcile_rank(xp, weight, values_shape)
    k = weight.ndim
    leading = values_shape[:k]
    if k > len(values_shape) or not all(
        d == 1 or d == t or d is None or t is None for d, t in zip(shape_of(weight), leading, strict=True)
    ):
        raise ValueError(
            f"sample_weight (times mask) of shape {show(shape_of(weight))} cannot be broadcast to "
            f"the leading axes of the per-sample values of shape {show(values_shape)}"
        )
    return weight, k


def _check_state_library(xp, state: dict) -> None:
    """A state must be of the batch's library: ``TypeError`` otherwise (a stream cannot change
    library half-way; merge states of one library)."""
    sample = next(iter(state.values()))
    try:
        state_xp, _, _ = resolve(y_pred=sample)
    except TypeError:
        state_xp = None
    if state_xp is not xp and not _dask_state_with_numpy(xp, state_xp):
        raise TypeError(
            f"this metric's state holds {type(sample).__module__}.{type(sample).__name__} values, "
            f"but the batch is of {getattr(xp, '__name__', xp)}: a stream must stay in one array "
            "library (reset_state() first, or use another metric)"
        )


def _dask_state_with_numpy(xp, state_xp) -> bool:
    """A NumPy state may take a Dask batch (the classes compute Dask batches into NumPy states)."""
    import array_api_compat

    return (
        array_api_compat.is_dask_namespace(xp)
        and state_xp is not None
        and (array_api_compat.is_numpy_namespace(state_xp))
    )


def _state_like(xp, array):
    return xp, acc.precision_of(xp), device_of(xp, array)


class MeanStatistic:
    """The weighted mean across batches of a loss's per-sample values (module docstring).

    ``formula`` is one of :mod:`regloss.losses.formulas`' formulas, ``params`` its
    hyper-parameters, ``sign`` -1 to negate the values (the cosine similarity metric is +cos),
    ``root`` whether the result is the square root of the mean.
    """

    __slots__ = ("formula", "params", "sign", "root")

    def __init__(self, formula, params: dict | None = None, *, sign: float = 1.0, root: bool = False):
        self.formula = formula
        self.params = dict(params or {})
        self.sign = sign
        self.root = root

    def _key(self):
        return (self.formula, tuple(sorted(self.params.items())), self.sign, self.root)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"MeanStatistic({self.formula!r}, {self.params!r}, sign={self.sign}, root={self.root})"

    # ---------------------------------------------------------------- the state machine

    def init(self, like) -> dict:
        """The empty state, on ``like``'s library and device."""
        xp, precision, device = _state_like(*_namespace_of(like))
        return {
            "total": acc.zeros_sum(xp, precision, device=device),
            "weight": acc.zeros_sum(xp, precision, device=device),
            "rows": acc.zeros_count(xp, precision, device=device),
        }

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        """The state after one more batch (``state`` is not modified)."""
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        _check_state_library(xp, state)
        precision = acc.precision_of(xp)
        total, weight_total, rows = self._batch_sums(xp, precision, true, pred, weight, present)
        new = dict(state)
        new["total"] = acc.add_sum(xp, precision, state["total"], total)
        if weight_total is not None:
            new["weight"] = acc.add_sum(xp, precision, state["weight"], weight_total)
        else:
            new["rows"] = acc.add_count(xp, precision, state["rows"], rows)
        return new

    def _batch_sums(self, xp, precision, true, pred, weight, present=None):
        """``(total, weight_sum or None, rows)`` of one batch. Masked-out samples' values are
        replaced by 0 before weighting, so a NaN or inf there never reaches the sums."""
        reduced = self.formula.reduced_axes(pred.ndim, self.params)
        values_shape = tuple(d for i, d in enumerate(shape_of(pred)) if i not in reduced)
        k = None
        if weight is not None:
            weight, k = _fit_leading(xp, weight, values_shape)
        samples = math.prod(values_shape[1:]) if k != 0 else math.prod(values_shape)
        wide = acc.sum_dtype(xp, precision)
        expanded = None
        if weight is not None:
            expanded = xp.reshape(weight, shape_of(weight) + (1,) * (len(values_shape) - k)) if k else weight
        fused = None
        if precision == acc.WIDE and present is None:
            fused = self._fused_sum(true, pred, expanded)
        if fused is not None:
            total = xp.asarray(fused)
        else:
            values = xp.astype(self.formula.per_sample(xp, true, pred, self.params), wide)
            if present is not None:
                present, rank = reconcile_rank(xp, present, values_shape), len(values_shape)
                present = xp.reshape(present, shape_of(present) + (1,) * (rank - present.ndim))
                values = xp.where(present, values, xp.zeros_like(values))
            if expanded is not None:
                values = values * xp.astype(expanded, wide)
            total = xp.sum(values)
        total = total * self.sign / samples if samples != 1 or self.sign != 1 else total
        if weight is None:
            return total, None, values_shape[0] if values_shape else 1
        leading = xp.broadcast_to(xp.astype(weight, wide), values_shape[:k]) if k else xp.astype(weight, wide)
        divisor = math.prod(values_shape[1:k]) if k else 1
        weight_sum = xp.sum(leading) / divisor if divisor != 1 else xp.sum(leading)
        return total, weight_sum, 0

    def _fused_sum(self, true, pred, weight):
        """``sum(v * w)`` in float64 from the fused kernels (NumPy inputs), or None."""
        if not (kernels.numpy_arrays(true, pred, weight) and kernels.active()):
            return None
        return kernels.evaluate(self.formula, self.params, true, pred, None, weight, "sum", "float64")

    def merge(self, first: dict, second: dict) -> dict:
        """The state of both streams together (associative and commutative up to rounding)."""
        xp, precision = _merge_namespace(first, second)
        return {
            "total": acc.merge_sums(xp, precision, first["total"], second["total"]),
            "weight": acc.merge_sums(xp, precision, first["weight"], second["weight"]),
            "rows": acc.merge_counts(xp, precision, first["rows"], second["rows"]),
        }

    def result(self, state: dict, dtype: str = "float32"):
        """``finish(total / (weight + rows))`` as a 0-d array of ``dtype`` (0 for an empty state)."""
        xp, precision = _merge_namespace(state, state)
        wide = acc.sum_dtype(xp, precision)
        total = acc.sum_value(xp, precision, state["total"], wide)
        divisor = acc.sum_value(xp, precision, state["weight"], wide) + acc.count_value(
            xp, precision, state["rows"], wide
        )
        safe = xp.where(divisor == 0, xp.ones_like(divisor), divisor)
        mean = xp.where(divisor == 0, xp.zeros_like(total), total / safe)
        if self.root:
            mean = xp.sqrt(mean)
        return finish(xp, mean, result_dtype(precision, dtype))  # a NumPy scalar becomes a 0-d array


_R2_SUMS = ("sum", "squares", "residual", "weight")


class R2Statistic:
    """The coefficient of determination (module docstring)."""

    __slots__ = ("class_aggregation", "num_regressors")

    def __init__(self, class_aggregation="uniform_average", num_regressors: int = 0):
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors

    def _key(self):
        return (self.class_aggregation, self.num_regressors)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"R2Statistic({self.class_aggregation!r}, num_regressors={self.num_regressors})"

    def init(self, like) -> dict:
        """The empty state; ``like`` (an array like ``y_pred``) gives the library, the device and
        the number of outputs (its last dimension; 1 for a 1-D array)."""
        xp, array = _namespace_of(like)
        xp, precision, device = _state_like(xp, array)
        outputs = (_outputs_of(shape_of(array)),)
        sums = {name: acc.zeros_sum(xp, precision, outputs, device) for name in _R2_SUMS}
        return {**sums, "samples": acc.zeros_count(xp, precision, device=device)}

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        _check_state_library(xp, state)
        if pred.ndim == 1:
            true, pred = true[:, None], pred[:, None]
        if pred.ndim != 2:
            raise ValueError(
                "R2Score takes y_true and y_pred of shape (samples,) or (samples, outputs); "
                f"received shape {show(shape_of(pred))}"
            )
        rows, outputs = shape_of(pred)
        expected = shape_of(state["sum"])[-1]
        if outputs != expected:
            raise ValueError(
                f"R2Score has seen {expected} output(s) per sample; this batch has {outputs} "
                f"(y_pred of shape {show(shape_of(pred))})"
            )
        precision = acc.precision_of(xp)
        wide = acc.sum_dtype(xp, precision)
        true, pred = xp.astype(true, wide), xp.astype(pred, wide)
        if present is not None:  # masked-out samples: zeros, so that NaN there never reaches a sum
            present = xp.reshape(present, (shape_of(present)[0], 1)) if present.ndim else present
            true = xp.where(present, true, xp.zeros_like(true))
            pred = xp.where(present, pred, xp.zeros_like(pred))
        squared_residuals = (true - pred) ** 2
        if weight is None:
            sums = {
                "sum": xp.sum(true, axis=0),
                "squares": xp.sum(true * true, axis=0),
                "residual": xp.sum(squared_residuals, axis=0),
            }
            sums["weight"] = xp.zeros_like(sums["sum"]) + rows
            samples = rows
        else:
            weight = xp.astype(weight, wide)
            if weight.ndim == 1:
                weight = weight[:, None]
            fits = all(d in (1, t) for d, t in zip(shape_of(weight), (rows, outputs), strict=False))
            if weight.ndim > 2 or not fits:
                raise ValueError(
                    f"sample_weight (times mask) of shape {show(shape_of(weight))} cannot be broadcast "
                    f"to y_true of shape {show((rows, outputs))}"
                )
            weight = xp.broadcast_to(weight, (rows, outputs))
            samples = xp.sum(xp.astype(xp.any(weight != 0, axis=1), xp.int32))
            weighted_true = weight * true
            sums = {
                "sum": xp.sum(weighted_true, axis=0),
                "squares": xp.sum(weighted_true * true, axis=0),
                "residual": xp.sum(weight * squared_residuals, axis=0),
                "weight": xp.sum(weight, axis=0),
            }
        new = {name: acc.add_sum(xp, precision, state[name], sums[name]) for name in _R2_SUMS}
        new["samples"] = acc.add_count(xp, precision, state["samples"], samples)
        return new

    def merge(self, first: dict, second: dict) -> dict:
        xp, precision = _merge_namespace(first, second)
        if shape_of(first["sum"]) != shape_of(second["sum"]):
            raise ValueError(
                f"cannot merge R2Score states of {shape_of(first['sum'])[-1]} and "
                f"{shape_of(second['sum'])[-1]} outputs"
            )
        merged = {name: acc.merge_sums(xp, precision, first[name], second[name]) for name in _R2_SUMS}
        return {**merged, "samples": acc.merge_counts(xp, precision, first["samples"], second["samples"])}

    def result(self, state: dict, dtype: str = "float32"):
        xp, precision = _merge_namespace(state, state)
        wide = acc.sum_dtype(xp, precision)
        total, squares, residual, weight = (
            acc.sum_value(xp, precision, state[name], wide) for name in _R2_SUMS
        )
        variation = squares - total * (total / weight)
        scores = 1 - residual / variation
        scores = xp.where(xp.isinf(scores), xp.zeros_like(scores), scores)
        if self.class_aggregation == "uniform_average":
            scores = xp.mean(scores)
        elif self.class_aggregation == "variance_weighted_average":
            scores = xp.sum(variation * scores) / xp.sum(variation)
        if self.num_regressors:
            n = acc.count_value(xp, precision, state["samples"], wide)
            denominator = n - self.num_regressors - 1
            safe = xp.where(denominator > 0, denominator, xp.ones_like(denominator))
            adjusted = 1 - (1 - scores) * (n - 1) / safe
            scores = xp.where(denominator > 0, adjusted, scores)
        return finish(xp, scores, result_dtype(precision, dtype))


def _outputs_of(shape: tuple) -> int:
    if len(shape) not in (1, 2):
        raise ValueError(
            "R2Score takes y_true and y_pred of shape (samples,) or (samples, outputs); "
            f"received shape {show(shape)}"
        )
    return 1 if len(shape) == 1 else shape[1]


def _namespace_of(like):
    """``(xp, array)`` of an array-like (a list or number becomes a NumPy array)."""
    xp, arrays, _ = resolve(y_pred=like)
    return xp, arrays["y_pred"]


def result_dtype(precision: str, dtype: str) -> str:
    """The result dtype: ``dtype``, but float32 where the library has no float64 (JAX without x64)."""
    return "float32" if precision == acc.PAIRED and dtype == "float64" else dtype


def _merge_namespace(first: dict, second: dict):
    """The namespace and precision of two states, which must be of one library and precision."""
    first_any, second_any = next(iter(first.values())), next(iter(second.values()))
    xp, arrays, _ = resolve(first=first_any, second=second_any)
    precision = acc.precision_of(xp)
    if dtype_name(first_any.dtype) != dtype_name(second_any.dtype):
        raise TypeError(
            f"cannot merge a state of {dtype_name(first_any.dtype)} sums with one of "
            f"{dtype_name(second_any.dtype)} sums"
        )
    return xp, precision
