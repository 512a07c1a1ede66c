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
is the identity, or the square root for the root mean squared error. So a scalar ``w`` weighs the
batch (its mean value, counted ``w`` once), as in Keras: batches of scalar weights give the
weighted mean of batch means.

A 1-D batch of ``B`` values is read as ``(B, 1)``: ``B`` samples of one output (Keras reads it as
one sample, its mean; the loss classes keep that). With ``elementwise`` (Keras's
``RootMeanSquaredError``) a weight of the inputs' rank gives the inputs a trailing axis of 1, so
that every element is a sample's value: ``total += sum(w e) / prod(shape[1:])``.

A batch, or a state to merge, of another array library than the state is a ``TypeError``, on
another device a ``ValueError`` (:mod:`regloss.metrics.placement`).

:class:`R2Statistic`, the coefficient of determination per output ``j`` (``w`` broadcast to
``(rows, outputs)``), from centred moments of ``y_j`` (:mod:`regloss.metrics.moments`: each batch
shifted by one of its rows, batches merged with Chan et al.'s update) and a residual sum::

    W_j = sum(w)        m_j = sum(w y_j) / W_j        SST_j = sum(w (y_j - m_j)**2)
    R_j = sum(w (y_j - p_j)**2)        n += rows with a non-zero weight
    r2_j = 1 - R_j / SST_j     (Keras's rule: an infinite r2_j becomes 0, so SST_j = 0 gives 0
                                where R_j != 0 and NaN where R_j = 0; nothing warns)

then ``class_aggregation``: ``None`` (one per output), ``"uniform_average"`` (their mean),
``"variance_weighted_average"`` (``sum(SST_j r2_j) / sum(SST_j)``, an IEEE division: NaN when
every ``SST_j`` is 0, as in Keras); and with ``num_regressors = p > 0`` and ``n - p - 1 > 0`` the
adjusted ``1 - (1 - r2) (n - 1) / (n - p - 1)``.

On NumPy inputs the batch sums of :class:`MeanStatistic` come from the fused kernels
(:mod:`regloss.kernels`), which accumulate every element in float64.
"""

from __future__ import annotations

import math

from .. import config, formulas, kernels, specs
from .._messages import show_value
from .._shapes import known_dim, reconcile_rank, shape_of, show
from .._xp import cast, compute_dtype_name, device_of, dtype_name, is_float, keras_mask, resolve
from ..losses.functional import finish, prepare_inputs
from . import accumulate as acc
from . import moments, placement


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
        keras_mask=keras_mask(y_pred),
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

    ``formula`` is one of :mod:`regloss.formulas`' formulas, ``params`` its
    hyper-parameters, ``sign`` -1 to negate the values (the cosine similarity metric is +cos),
    ``root`` whether the result is the square root of the mean, ``elementwise`` whether every
    element is a value of its own (Keras's ``RootMeanSquaredError``: a weight of the inputs' shape
    weighs each element; the formula then sees each element as a sample of one output).
    """

    __slots__ = ("formula", "params", "sign", "root", "elementwise")

    def __init__(
        self,
        formula,
        params: dict | None = None,
        *,
        sign: float = 1.0,
        root: bool = False,
        elementwise: bool = False,
    ):
        self.formula = formula
        self.params = dict(params or {})
        self.sign = sign
        self.root = root
        self.elementwise = elementwise

    def _key(self):
        return (self.formula, tuple(sorted(self.params.items())), self.sign, self.root, self.elementwise)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        extra = ", elementwise=True" if self.elementwise else ""
        return f"MeanStatistic({self.formula!r}, {self.params!r}, sign={self.sign}, root={self.root}{extra})"

    # ---------------------------------------------------------------- the state machine

    def init(self, like) -> dict:
        """The empty state, on ``like``'s library and device."""
        xp, precision, device = _state_like(*_namespace_of(like))
        return {
            "total": acc.zeros_sum(xp, precision, device=device),
            "weight": acc.zeros_sum(xp, precision, device=device),
            "rows": acc.zeros_count(xp, precision, device=device),
        }

    def _batch(self, y_true, y_pred, sample_weight, mask) -> _MeanBatch:
        """The batch prepared: inputs converted and checked, a 1-D batch of ``B`` values read as
        ``(B, 1)`` (``B`` samples of one output), and with ``elementwise`` a weight of the inputs'
        rank given a trailing axis of 1 on the inputs (so that it weighs single elements)."""
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        if pred.ndim == 1:
            true, pred = xp.expand_dims(true, axis=-1), xp.expand_dims(pred, axis=-1)
        weighs_elements = (
            self.elementwise
            and weight is not None
            and pred.ndim
            and reconcile_rank(xp, weight, shape_of(pred)).ndim == pred.ndim
        )
        if weighs_elements:
            true, pred = xp.expand_dims(true, axis=-1), xp.expand_dims(pred, axis=-1)
        return _MeanBatch(self, xp, true, pred, weight, present)

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        """The state after one more batch (``state`` is not modified; a batch of another library or
        device than the state is a ``TypeError`` / ``ValueError``)."""
        placement.check_batch(state, "this statistic", y_pred, y_true, sample_weight, mask)
        batch = self._batch(y_true, y_pred, sample_weight, mask)
        xp = batch.xp
        total = batch.fused_total()
        if total is None:
            total = xp.sum(batch.row_totals())
        precision, new = batch.precision, dict(state)
        new["total"] = acc.add_sum(xp, precision, state["total"], total)
        if batch.weight is None:
            new["rows"] = acc.add_count(xp, precision, state["rows"], batch.rows)
        else:
            new["weight"] = acc.add_sum(xp, precision, state["weight"], xp.sum(batch.row_weights()))
        return new

    def row_terms(self, y_true, y_pred, sample_weight=None, mask=None):
        """``(xp, {"total": t, "weight": w})``: what each row (sample along axis 0; a 1-D batch
        of ``B`` values is ``B`` rows) adds to the state's sums, arrays of shape ``(rows,)`` (``w``
        is 1 for an unweighted row). ``update`` adds their sums; the bootstrap adds them times
        Poisson counts."""
        batch = self._batch(y_true, y_pred, sample_weight, mask)
        return batch.xp, {"total": batch.row_totals(), "weight": batch.row_weights()}

    # ------------------------------------------------- the shared pass of MetricCollection

    def shared_needs(self) -> tuple | None:
        """What a batch adds to this statistic, as sums that a collection's one pass over the batch
        computes for all its metrics (:mod:`regloss.metrics.collection`): ``(("error", kernel,
        params),)``, the per-output weighted sums of an error the fused kernels restate, for a mean
        over the last axis with scalar parameters; None for any other (it updates on its own)."""
        kernel = specs.kernel_of(self.formula)
        if (
            type(self.formula) is not formulas.MeanOverOutputs
            or kernel not in kernels.RESTATED_ERRORS
            or any(hasattr(value, "dtype") for value in self.params.values())
        ):
            return None
        return (("error", kernel, tuple(sorted(self.params.items()))),)

    def add_shared(self, state: dict, sums: dict) -> dict:
        """The state after a batch given its shared sums (:func:`regloss.metrics.collection.
        shared_sums`): ``total += sign * scale * sum_j E_j / outputs`` with ``E_j = sum_r w_r
        error(y_rj, p_rj)``; ``weight += sum_r w_r`` (weights or a mask), else ``rows += rows``."""
        (need,) = self.shared_needs()
        errors = sums[need]
        total = float(sum(errors.tolist())) * self.formula.scale / errors.shape[0] * self.sign
        xp, precision = _merge_namespace(state, state)
        new = dict(state)
        new["total"] = acc.add_sum(xp, precision, state["total"], xp.asarray(total))
        if sums["weighted"]:
            new["weight"] = acc.add_sum(xp, precision, state["weight"], xp.asarray(sums["weight"]))
        else:
            new["rows"] = acc.add_count(xp, precision, state["rows"], sums["rows"])
        return new

    def merge(self, first: dict, second: dict) -> dict:
        """The state of both streams together (associative and commutative up to rounding)."""
        xp, precision = _merge_namespace(first, second)
        return {
            "total": acc.merge_sums(xp, precision, first["total"], second["total"]),
            "weight": acc.merge_sums(xp, precision, first["weight"], second["weight"]),
            "rows": acc.merge_counts(xp, precision, first["rows"], second["rows"]),
        }

    # ------------------------------------------------- the interface of Bootstrap and regloss.dask
    # Every statistic has these (see R2Statistic too), so that the bootstrap and regloss.dask call
    # them without asking what statistic they hold.

    resamples_rows = False
    """Whether updates need the batch's global row offset (a bootstrap's do)."""

    replicate_names = ("total", "weight")
    """The sums a bootstrap replicate keeps (a replicate's state, without the row count)."""

    term_names = replicate_names
    """The per-row terms whose Poisson-weighted sums a batch adds to each replicate."""

    def bootstrap_terms(self, point_state: dict, y_true, y_pred, sample_weight=None, mask=None):
        """``(xp, terms, shift)``: the batch's row terms (:meth:`row_terms`) and its shift (None:
        a mean's sums need none)."""
        xp, terms = self.row_terms(y_true, y_pred, sample_weight, mask)
        return xp, terms, None

    def add_replicate_sums(self, xp, precision, replicates: dict, sums: dict, shift) -> dict:
        """The replicates after adding a batch's ``(replicates, ...)`` sums of row terms."""
        return {name: acc.add_sum(xp, precision, replicates[name], sums[name]) for name in replicates}

    def merge_replicates(self, first: dict, second: dict) -> dict:
        xp, precision = _merge_namespace(first, second)
        return {name: acc.merge_sums(xp, precision, first[name], second[name]) for name in first}

    def replicate_state(self, replicates: dict, like) -> dict:
        """A state :meth:`result` takes for every replicate at once (a zero count on ``like``'s
        device: a replicate's rows are all weighted by their Poisson counts)."""
        xp, array = _namespace_of(like)
        return {**replicates, "rows": acc.zeros_count(xp, acc.precision_of(xp), device_of(xp, array))}

    def check_chunkable(self, ndim: int) -> None:
        """Raise when the per-sample values of ``ndim``-D inputs reduce over axis 0, the samples
        axis that :func:`regloss.dask.evaluate` splits into chunks."""
        reduced = self.formula.reduced_axes(ndim, self.params)
        if 0 in reduced:
            raise ValueError(
                f"a metric with per-sample reduction over axes {reduced} of {ndim}-D inputs reduces over "
                "axis 0, the samples axis that evaluate splits into chunks (the axis of CosineSimilarity and "
                f"of the correlations must leave axis 0 out); received {show_value(self)}"
            )

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


class _MeanBatch:
    """One batch of a :class:`MeanStatistic`: per-sample values ``v`` (shape ``V``, masked-out
    samples zeroed, so that NaN or inf there never reaches a sum) and the weight ``w`` fitted to
    the leading axes of ``V`` (rank ``k``); per row ``b`` (module docstring)::

        no weight:  total_b = mean(v_b)                   weight_b = 1
        k >= 1:     total_b = sum(v_b w_b) / prod(V[1:])  weight_b = sum(w_b) / prod(V[1:k])
        k == 0:     total_b = mean(v_b) w / V[0]          weight_b = w / V[0]
    """

    def __init__(self, statistic, xp, true, pred, weight, present):
        self.statistic, self.xp, self.true, self.pred, self.present = statistic, xp, true, pred, present
        self.precision = acc.precision_of(xp)
        self.wide = acc.sum_dtype(xp, self.precision)
        reduced = statistic.formula.reduced_axes(pred.ndim, statistic.params)
        self.shape = tuple(d for i, d in enumerate(shape_of(pred)) if i not in reduced)
        self.rows = self.shape[0] if self.shape else 1
        self.weight, self.k, self.expanded = weight, None, None
        if weight is not None:
            self.weight, self.k = _fit_leading(xp, weight, self.shape)
            trailing = (1,) * (len(self.shape) - self.k)
            self.expanded = (
                xp.reshape(self.weight, shape_of(self.weight) + trailing) if self.k else self.weight
            )

    def _fusable(self, *arrays) -> bool:
        return self.precision == acc.WIDE and kernels.numpy_arrays(*arrays) and kernels.active()

    def fused_total(self):
        """``sum_b total_b`` from the fused kernels (NumPy inputs without a mask), or None."""
        if self.present is not None or not self._fusable(self.true, self.pred, self.expanded):
            return None
        statistic = self.statistic
        total = kernels.evaluate(
            statistic.formula, statistic.params, self.true, self.pred, None, self.expanded, "sum", "float64"
        )
        if total is None:
            return None
        samples = math.prod(self.shape[1:]) if self.k != 0 else math.prod(self.shape)
        return self.xp.asarray(total * statistic.sign / samples)

    def values(self):
        """The per-sample values in the sum dtype, masked-out samples zeroed, signed."""
        xp, statistic = self.xp, self.statistic
        values = None
        if self._fusable(self.true, self.pred):
            values = kernels.evaluate(
                statistic.formula, statistic.params, self.true, self.pred, None, None, None, "float64"
            )
        if values is None:
            values = statistic.formula.per_sample(xp, self.true, self.pred, statistic.params)
        values = xp.astype(xp.asarray(values), self.wide)
        if self.present is not None:
            present = reconcile_rank(xp, self.present, self.shape)
            present = xp.reshape(present, shape_of(present) + (1,) * (len(self.shape) - present.ndim))
            values = xp.where(present, values, xp.zeros_like(values))
        return values if statistic.sign == 1.0 else statistic.sign * values

    def _per_row(self, array):
        """``array`` (of shape ``V``) as one value per row: summed over the trailing axes."""
        xp = self.xp
        if not self.shape:
            return xp.reshape(array, (1,))
        if len(self.shape) == 1:
            return array
        return xp.sum(array, axis=tuple(range(1, len(self.shape))))

    def row_totals(self):
        xp, values = self.xp, self.values()
        if self.k:
            values = values * xp.astype(self.expanded, self.wide)
        totals = self._per_row(values)
        trailing = math.prod(self.shape[1:])
        if trailing != 1:
            totals = totals / trailing
        if self.k == 0:  # a scalar weight: the batch's mean times the weight, spread over its rows
            totals = totals * (xp.astype(self.weight, self.wide) / self.rows)
        return totals

    def row_weights(self):
        xp = self.xp
        if self.weight is None:
            return xp.ones((self.rows,), dtype=self.wide, device=device_of(xp, self.pred))
        weight = xp.astype(self.weight, self.wide)
        if self.k == 0:
            return xp.broadcast_to(weight / self.rows, (self.rows,))
        leading = xp.broadcast_to(weight, self.shape[: self.k])
        per_row = leading if self.k == 1 else xp.sum(leading, axis=tuple(range(1, self.k)))
        divisor = math.prod(self.shape[1 : self.k])
        return per_row / divisor if divisor != 1 else per_row


class MomentsStatistic:
    """The common part of the statistics kept as centred moments of per-output columns
    (:class:`R2Statistic`, :class:`regloss.metrics.corrcoef.CorrCoefStatistic`): their inputs
    ``(samples,)`` or ``(samples, outputs)``, their weights, and the interface of the bootstrap and
    :mod:`regloss.dask` (a replicate's state is the statistic's own state, merged the same way).

    A subclass has ``label`` (the metric's name in messages) and ``_key``, and defines ``row_terms``,
    ``add_sums``, ``merge`` and ``result``."""

    __slots__ = ()
    label = "this metric"

    def _key(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    def _shape_error(self, shape: str) -> ValueError:
        return ValueError(
            f"{self.label} takes y_true and y_pred of shape (samples,) or (samples, outputs); "
            f"received {shape}"
        )

    def _outputs_in(self, shape: tuple) -> int:
        """The number of outputs of inputs of ``shape`` (1 for a 1-D batch)."""
        if len(shape) not in (1, 2):
            raise self._shape_error(f"shape {show(shape)}")
        return 1 if len(shape) == 1 else shape[1]

    def _outputs_error(self, expected: int, found: int, shape: tuple) -> ValueError:
        return ValueError(
            f"{self.label} has seen {expected} output(s) per sample; this batch has {found} "
            f"(y_pred of shape {show(shape)})"
        )

    def _columns(self, xp, state, true, pred, weight, present, outputs=None):
        """``(true, pred, weight)`` of a batch as arrays of the sum dtype of shape ``(rows,
        outputs)`` (a 1-D batch is one output; ``weight`` broadcast, or None), masked-out samples
        zeroed (so that NaN there never reaches a sum); the number of outputs checked against the
        state's (or ``outputs``)."""
        true, pred, weight, present = _known_rows(true, pred, weight, present)
        if pred.ndim == 1:
            true, pred = true[:, None], pred[:, None]
        if pred.ndim != 2:
            raise self._shape_error(f"shape {show(shape_of(pred))}")
        rows, found = shape_of(pred)
        expected = shape_of(state["weight"])[-1] if state is not None else outputs
        if expected is not None and found != expected:
            raise self._outputs_error(expected, found, shape_of(pred))
        wide = acc.sum_dtype(xp, acc.precision_of(xp))
        true, pred = xp.astype(true, wide), xp.astype(pred, wide)
        if present is not None:
            present = xp.reshape(present, (shape_of(present)[0], 1)) if present.ndim else present
            true = xp.where(present, true, xp.zeros_like(true))
            pred = xp.where(present, pred, xp.zeros_like(pred))
        if weight is not None:
            weight = xp.astype(weight, wide)
            if weight.ndim == 1:
                weight = weight[:, None]
            fits = all(d in (1, t) for d, t in zip(shape_of(weight), (rows, found), strict=False))
            if weight.ndim > 2 or not fits:
                raise ValueError(
                    f"sample_weight (times mask) of shape {show(shape_of(weight))} cannot be broadcast "
                    f"to y_true of shape {show((rows, found))}"
                )
            weight = xp.broadcast_to(weight, (rows, found))
        return true, pred, weight

    # ------------------------------------------------- the interface of Bootstrap and regloss.dask

    resamples_rows = False

    shifts_by_row = False
    """Whether :meth:`bootstrap_terms` takes ``shift_rows`` (each row centred on a chosen row: a
    grouped metric's per-group shifts)."""

    def bootstrap_terms(
        self, point_state: dict, y_true, y_pred, sample_weight=None, mask=None, *, shift_rows=None
    ):
        """``(xp, terms, shift)``: the batch's row terms and shift (``row_terms``)."""
        outputs = shape_of(point_state["weight"])[-1]
        extra = {} if shift_rows is None else {"shift_rows": shift_rows}
        xp, shift, terms = self.row_terms(y_true, y_pred, sample_weight, mask, outputs=outputs, **extra)
        return xp, terms, shift

    def add_replicate_sums(self, xp, precision, replicates: dict, sums: dict, shift) -> dict:
        """Each replicate's centred moments of the batch (about its shift), merged into the
        replicate's with Chan et al.'s update (``add_sums``)."""
        return self.add_sums(replicates, shift, sums)

    def merge_replicates(self, first: dict, second: dict) -> dict:
        return self.merge(first, second)  # the replicates' moments merge as the point's do

    def replicate_state(self, replicates: dict, like) -> dict:
        return replicates

    def check_chunkable(self, ndim: int) -> None:
        """Raise unless the inputs are ``(samples,)`` or ``(samples, outputs)``."""
        if ndim > 2:
            raise self._shape_error(f"{ndim}-D inputs")

    def _check_mergeable(self, first: dict, second: dict) -> None:
        if shape_of(first["weight"]) != shape_of(second["weight"]):
            raise ValueError(
                f"cannot merge {self.label} states of {shape_of(first['weight'])[-1]} and "
                f"{shape_of(second['weight'])[-1]} outputs"
            )


R2_TERMS = (*moments.TERMS, "residual", "samples")
"""The per-row terms of R2 (:meth:`R2Statistic.row_terms`), whose sums make a batch's moments."""


class R2Statistic(MomentsStatistic):
    """The coefficient of determination (module docstring)."""

    __slots__ = ("class_aggregation", "num_regressors")
    label = "R2Score"

    def __init__(self, class_aggregation="uniform_average", num_regressors: int = 0):
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors

    def _key(self):
        return (self.class_aggregation, self.num_regressors)

    def __repr__(self):
        return f"R2Statistic({self.class_aggregation!r}, num_regressors={self.num_regressors})"

    def init(self, like) -> dict:
        """The empty state; ``like`` (an array like ``y_pred``) gives the library, the device and
        the number of outputs (its last dimension; 1 for a 1-D array)."""
        xp, array = _namespace_of(like)
        xp, precision, device = _state_like(xp, array)
        outputs = (self._outputs_in(shape_of(array)),)
        return {
            **moments.zeros(xp, precision, outputs, 1, device),
            "residual": acc.zeros_sum(xp, precision, outputs, device),
            "samples": acc.zeros_count(xp, precision, device=device),
        }

    def update(self, state: dict, y_true, y_pred, sample_weight=None, mask=None) -> dict:
        """The state after one more batch (``state`` is not modified; a batch of another library or
        device than the state is a ``TypeError`` / ``ValueError``)."""
        placement.check_batch(state, "this statistic", y_pred, y_true, sample_weight, mask)
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        _check_state_library(xp, state)
        shift, terms = self._terms(xp, state, true, pred, weight, present)
        sums = {name: xp.sum(terms[name], axis=0) for name in R2_TERMS if name != "samples"}
        rows = shape_of(terms["samples"])[0]
        if weight is not None or not known_dim(rows):  # a lazy array's rows may be unknown
            rows = xp.sum(xp.astype(terms["samples"], xp.int32))
        sums["samples"] = rows
        return self.add_sums(state, shift, sums)

    def row_terms(self, y_true, y_pred, sample_weight=None, mask=None, *, outputs=None, shift_rows=None):
        """``(xp, shift, terms)``: the batch's shift (one row of ``y_true``, shape ``(outputs, 1)``)
        and what each row adds to its sums (:data:`R2_TERMS`), arrays of shape ``(rows, outputs,
        ...)`` (``"samples"``: ``(rows,)``, 1 where the row's weight is non-zero); ``update`` adds
        their sums, the bootstrap their sums times Poisson counts, both with :meth:`add_sums`.

        ``shift_rows`` (an integer array, one index per row): row ``i`` is centred on row
        ``shift_rows[i]`` instead, and the shift returned is per row, ``(rows, outputs, 1)`` (a
        grouped metric centres each group on one of its own rows)."""
        xp, true, pred, weight, present = _inputs(y_true, y_pred, sample_weight, mask)
        return (xp, *self._terms(xp, None, true, pred, weight, present, outputs, shift_rows))

    def add_sums(self, state: dict, shift, sums: dict) -> dict:
        """``state`` with a batch added, given the batch's shift and the sums of its row terms
        (with any leading axes: a bootstrap's replicates). The moments of ``y_true`` are merged
        with Chan et al.'s update (:mod:`regloss.metrics.moments`); the residual sum and the
        sample count are added (a count, or a float sum for a bootstrap's Poisson-weighted one)."""
        xp, precision = _merge_namespace(state, state)
        new = moments.add(xp, precision, state, shift, sums)
        new["residual"] = acc.add_sum(xp, precision, state["residual"], sums["residual"])
        new["samples"] = _add_samples(xp, precision, state["samples"], sums["samples"])
        return new

    def shared_needs(self) -> tuple:
        """The sums a collection's shared pass computes for R2 (:meth:`MeanStatistic.shared_needs`):
        the squared errors' per-output sums (its residual) and the moments of ``y_true`` about the
        batch's shift."""
        return (("error", "squared_error", ()), ("moments",))

    def add_shared(self, state: dict, sums: dict) -> dict:
        """The state after a batch given its shared sums: ``W``, ``S_j = sum w (y_j - c_j)``,
        ``P_j = sum w (y_j - c_j)**2``, the residual ``sum w (y_j - p_j)**2`` and the rows of
        non-zero weight, added with :meth:`add_sums` as ``update`` adds its own."""
        shape = sums["shape"]
        outputs = shape_of(state["weight"])[-1]
        if self._outputs_in(shape) != outputs:
            raise self._outputs_error(outputs, self._outputs_in(shape), shape)
        xp, _ = _merge_namespace(state, state)
        weight = sums["weight"] if sums["weighted"] else float(sums["rows"])
        batch = {
            "weight": xp.full((outputs,), weight, dtype=xp.float64),
            "sum": xp.reshape(sums["sum"], (outputs, 1)),
            "products": xp.reshape(sums["squares"], (outputs, 1, 1)),
            "residual": sums[("error", "squared_error", ())],
            "samples": sums["nonzero"] if sums["weighted"] else sums["rows"],
        }
        return self.add_sums(state, xp.reshape(sums["shift"], (outputs, 1)), batch)

    def _terms(self, xp, state, true, pred, weight, present, outputs=None, shift_rows=None):
        true, pred, weight = self._columns(xp, state, true, pred, weight, present, outputs)
        wide = true.dtype
        columns = true[..., None]  # one column per output: (rows, outputs, 1)
        if shift_rows is None:
            shift = moments.shift_of(xp, columns, weight)
        else:
            shift = xp.take(columns, xp.asarray(shift_rows, device=device_of(xp, columns)), axis=0)
        terms = moments.row_terms(xp, columns, weight, shift)
        squared_residuals = (true - pred) ** 2
        if weight is None:
            terms["residual"] = squared_residuals
            terms["samples"] = terms["weight"][:, 0]  # ones
        else:
            terms["residual"] = weight * squared_residuals
            terms["samples"] = xp.astype(xp.any(weight != 0, axis=1), wide)
        return shift, terms

    replicate_names = (*moments.MOMENTS, "residual", "samples")
    """The sums a bootstrap replicate keeps: its own centred moments, residual sum and count."""

    term_names = R2_TERMS

    shifts_by_row = True
    """Its :meth:`bootstrap_terms` take ``shift_rows`` (a grouped metric's per-group shifts)."""

    def merge(self, first: dict, second: dict) -> dict:
        """The state of both streams together (Chan et al.'s update of the moments; the sums and
        counts added). Works on states with leading axes too (a bootstrap's replicates)."""
        xp, precision = _merge_namespace(first, second)
        self._check_mergeable(first, second)
        return {
            **moments.merge(xp, precision, first, second),
            "residual": acc.merge_sums(xp, precision, first["residual"], second["residual"]),
            "samples": _add_samples(xp, precision, first["samples"], second["samples"], merging=True),
        }

    def result(self, state: dict, dtype: str = "float32"):
        """The score (module docstring) as an array of ``dtype``: 0-d, or one per output for
        ``class_aggregation=None`` (with a leading axis for a bootstrap's replicate states)."""
        xp, precision = _merge_namespace(state, state)
        wide = acc.sum_dtype(xp, precision)
        _, _, comoment = moments.values(xp, precision, state, wide)
        variation = comoment[..., 0, 0]  # SST_j, the centred sum of squares of y_true
        residual = acc.sum_value(xp, precision, state["residual"], wide)
        # Keras's rule: 1 - SSR / SST, an infinite value becomes 0 (SST = 0: 0 where SSR != 0,
        # NaN where SSR = 0); computed without a division by zero, so nothing warns
        scores = 1 - _ieee_divide(xp, residual, variation)
        scores = xp.where(xp.isinf(scores), xp.zeros_like(scores), scores)
        # axis=-1: the outputs (a bootstrap's replicate states add a leading axis)
        if self.class_aggregation == "uniform_average":
            scores = xp.mean(scores, axis=-1)
        elif self.class_aggregation == "variance_weighted_average":
            scores = _ieee_divide(xp, xp.sum(variation * scores, axis=-1), xp.sum(variation, axis=-1))
        if self.num_regressors:
            n = acc.count_value(xp, precision, state["samples"], wide)
            if scores.ndim > n.ndim:
                n = xp.reshape(n, shape_of(n) + (1,) * (scores.ndim - n.ndim))
            denominator = n - self.num_regressors - 1
            safe = xp.where(denominator > 0, denominator, xp.ones_like(denominator))
            adjusted = 1 - (1 - scores) * (n - 1) / safe
            scores = xp.where(denominator > 0, adjusted, scores)
        return finish(xp, scores, result_dtype(precision, dtype))


def _known_rows(*arrays):
    """The arrays, with Dask arrays of unknown rows (boolean-filtered) replaced by copies whose
    chunk sizes are computed (a pass over the data) and empty row chunks dropped: R2's shift is one
    of the batch's rows, and Dask can neither reshape an axis of unknown length nor arg-reduce
    over empty chunks."""
    out = []
    for array in arrays:
        if array is not None and array.ndim and hasattr(array, "compute_chunk_sizes"):
            if not known_dim(shape_of(array)[0]):
                array = array.copy().compute_chunk_sizes()
            rows = array.chunks[0]
            if 0 in rows and any(rows):
                array = array.rechunk({0: tuple(size for size in rows if size)})
        out.append(array)
    return tuple(out)


def _add_samples(xp, precision, count, added, merging=False):
    """R2's sample count plus ``added``: a count (int64, or two uint32 words), or, in a bootstrap's
    replicates, a float sum of Poisson counts."""
    if xp.isdtype(count.dtype, "real floating"):
        return (acc.merge_sums if merging else acc.add_sum)(xp, precision, count, added)
    return (acc.merge_counts if merging else acc.add_count)(xp, precision, count, added)


def _ieee_divide(xp, numerator, denominator):
    """``numerator / denominator`` as IEEE 754 gives it (``x / 0`` is ``+-inf`` for ``x != 0``, NaN
    for ``x = 0`` or NaN), without dividing by zero: NumPy warns about those divisions."""
    zero = denominator == 0
    quotient = numerator / xp.where(zero, xp.ones_like(denominator), denominator)
    infinite = xp.where(numerator > 0, xp.full_like(quotient, math.inf), xp.full_like(quotient, -math.inf))
    by_zero = xp.where((numerator > 0) | (numerator < 0), infinite, xp.full_like(quotient, math.nan))
    return xp.where(zero, by_zero, quotient)


def _namespace_of(like):
    """``(xp, array)`` of an array-like (a list or number becomes a NumPy array)."""
    xp, arrays, _ = resolve(y_pred=like)
    return xp, arrays["y_pred"]


def result_dtype(precision: str, dtype: str) -> str:
    """The result dtype: ``dtype``, but float32 where the library has no float64 (JAX without x64)."""
    return "float32" if precision == acc.PAIRED and dtype == "float64" else dtype


def _merge_namespace(first: dict, second: dict):
    """The namespace and precision of two states, which must be of one library, device and
    precision (``TypeError`` for another library or precision, ``ValueError`` for another device)."""
    if first is not second:
        placement.check_states([("the first state", first), ("the second state", second)])
    first_any, second_any = next(iter(first.values())), next(iter(second.values()))
    xp, arrays, _ = resolve(first=first_any, second=second_any)
    precision = acc.precision_of(xp)
    if dtype_name(first_any.dtype) != dtype_name(second_any.dtype):
        raise TypeError(
            f"cannot merge a state of {dtype_name(first_any.dtype)} sums with one of "
            f"{dtype_name(second_any.dtype)} sums"
        )
    return xp, precision
