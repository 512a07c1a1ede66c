"""``Loss``, the ten Keras 3 loss classes and the three training losses of other libraries
(``Pinball``, ``SmoothL1``, ``PoissonNLL``).

A call runs one pipeline (:meth:`Loss.__call__`):

1. convert ``y_true``, ``y_pred``, ``sample_weight`` and ``mask`` into one namespace and device;
2. cast the inputs to the loss dtype (then to float32 inside for float16/bfloat16 losses),
   reconcile ranks and check shapes;
3. turn the masks (``mask=`` and a Keras mask attached to ``y_pred``) into one element mask and
   replace masked-out inputs by zeros, so NaN or inf there never reaches a value or a gradient;
4. compute the per-sample losses (:meth:`Loss.call`);
5. weight, mask and reduce them (:func:`regloss.reduction.reduce_weighted`), cast to the loss dtype.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import array_api_compat

from .. import formulas, kernels, specs
from .._messages import check_keywords, show_value
from .._shapes import (
    broadcasts_to,
    fit_to_losses,
    reconcile_rank,
    remove_axes,
    same_shape,
    shape_of,
    show,
)
from .._xp import cast, compute_dtype_name, keras_mask, resolve, standardize_dtype
from ..reduction import COUNT, Reduction, divisor_of, reduce_weighted, standardize_reduction
from .functional import finish, prepare_inputs


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _element_mask(xp, mask, like, axes, per_sample_shape, argument):
    """A boolean mask of the inputs' shape (that of ``like``) from a mask of:

    * the per-sample losses' shape, reconciled like a sample weight (tried first);
    * the inputs' shape, masking single outputs;
    * the inputs' shape without the last axis, as a Keras ``Masking`` layer makes for
      ``(batch, timesteps, features)`` inputs (every feature of a timestep shares its entry).
    """
    input_shape = shape_of(like)
    if not xp.isdtype(mask.dtype, "bool"):
        mask = mask != 0
    per_sample = reconcile_rank(xp, mask, per_sample_shape)
    if broadcasts_to(shape_of(per_sample), per_sample_shape):
        # Give it the per-sample rank, then a new axis of length 1 at each reduced axis.
        missing = len(per_sample_shape) - per_sample.ndim
        if missing:
            per_sample = per_sample[(None,) * missing + (...,)]
        mask = per_sample[tuple(None if axis in axes else slice(None) for axis in range(len(input_shape)))]
    elif mask.ndim == len(input_shape) and broadcasts_to(shape_of(mask), input_shape):
        pass
    elif mask.ndim == len(input_shape) - 1 and broadcasts_to(shape_of(mask), input_shape[:-1]):
        mask = mask[..., None]
    else:
        raise ValueError(
            f"{argument} of shape {show(shape_of(mask))} fits neither the per-sample losses of shape "
            f"{show(per_sample_shape)} nor y_true of shape {show(input_shape)} (nor that shape "
            "without its last axis)"
        )
    if shape_of(mask) == input_shape and all(isinstance(extent, int) for extent in input_shape):
        return mask  # already the inputs' shape: no copy (read, never written, by the losses)
    # Broadcast lazily against the inputs (Dask arrays may not know their length).
    return xp.logical_and(mask, xp.ones_like(like, dtype=xp.bool))


_DIVIDED_BY_COUNT = frozenset(
    reduction
    for reduction in Reduction.all()
    if reduction not in (None, Reduction.NONE) and divisor_of(reduction, weighted=False) == COUNT
)
"""The reductions whose unweighted, unmasked loss is the mean of every per-sample loss (read from
the one rule, :func:`regloss.reduction.divisor_of`)."""


class _Prepared(NamedTuple):
    """A call's inputs after :meth:`Loss._prepare`: converted, cast, checked, masks combined."""

    xp: object
    y_true: object
    y_pred: object
    sample_weight: object
    masks: list  # (argument, mask) pairs as given
    element_mask: object  # bool, of the inputs' shape, or None
    axes: tuple | None  # the axes the per-sample losses reduce (None without weights or masks)
    per_sample_shape: tuple | None
    keras_squeeze: bool


def _keras_squeezes(per_sample_shape: tuple, weight) -> bool:
    """Whether Keras squeezes the losses' last axis to the weight's rank: losses ending in 1 of one
    rank more than the weight, unless the weight has rank 1 (then Keras expands the weight)."""
    if weight is None or not per_sample_shape or per_sample_shape[-1] != 1:
        return False
    return weight.ndim == len(per_sample_shape) - 1 and weight.ndim != 1


class Loss:
    """Base class of the losses: a subclass implements ``call(y_true, y_pred)``.

    ``call`` returns per-sample losses (by convention the last axis reduced); calling the instance
    adds sample weights, masks and the reduction.

    Parameters
    ----------
    name : str, optional
        Defaults to the class name in snake_case.
    reduction : str or None
        One of :class:`regloss.Reduction`: ``"sum_over_batch_size"`` (default), ``"mean"``,
        ``"sum"``, ``"mean_with_sample_weight"``, ``"none"``/``None``, or ``"auto"`` (tf.keras 2.x,
        same as ``"sum_over_batch_size"``).
    dtype : str, optional
        The dtype of the loss: ``None`` (``regloss.config.floatx()``), ``"float16"``,
        ``"bfloat16"``, ``"float32"``, ``"float64"``, ``"mixed_float16"``, ``"mixed_bfloat16"``.

    Examples
    --------
    >>> import numpy as np
    >>> from regloss.losses import Loss
    >>> class MeanCubedError(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return np.mean(np.abs(y_true - y_pred) ** 3, axis=-1)
    >>> loss = MeanCubedError()
    >>> loss.name, float(loss(y_true=[[0., 2.]], y_pred=[[1., 0.]]))
    ('mean_cubed_error', 4.5)
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None; received name={show_value(name)}")
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = standardize_dtype(dtype)
        self._dtype_argument = dtype if isinstance(dtype, str) or dtype is None else self._dtype

    @property
    def dtype(self) -> str:
        """The loss dtype name (read-only): the result of a call has this dtype."""
        return self._dtype

    def call(self, y_true, y_pred):
        """Per-sample losses; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def _reduced_axes(self, ndim: int) -> tuple[int, ...]:
        return (ndim - 1,)

    def _per_sample(self, xp, y_true, y_pred, element_mask):
        return self.call(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None, *, mask=None):
        """The reduced loss: a 0-d array for reducing modes, per-sample losses for ``"none"``.

        ``sample_weight`` (scalar, per-sample, or anything that broadcasts to the per-sample
        losses without changing their shape) multiplies the losses. ``mask`` is boolean (or
        numbers, ``!= 0`` meaning present) of the per-sample losses' shape, or of ``y_true``'s
        shape to mask single outputs. A subclass's ``call`` may return losses of any shape: masks
        and weights are then fitted to that shape, as Keras fits them.
        """
        formula = self._kernel_formula()
        if formula is not None and sample_weight is None and mask is None:  # the cached plan of small calls
            fused = kernels.fast_loss_call(formula, self._params, self.reduction, self._dtype, y_true, y_pred)
            if fused is not None:
                return fused
        fusable = formula is not None and kernels.numpy_arrays(y_true, y_pred, sample_weight, mask)
        call = self._prepare(y_true, y_pred, sample_weight, mask)
        result = None
        if fusable and kernels.active() and not call.keras_squeeze:
            weight = self._fit_weight(call.xp, call.sample_weight, call.per_sample_shape)
            result = kernels.evaluate(
                formula, self._params, call.y_true, call.y_pred, call.element_mask, weight, self.reduction,
                self.dtype,
            )  # fmt: skip
        if result is None:
            result = self._generic(call, formula)
        return result

    def _prepare(self, y_true, y_pred, sample_weight, mask) -> _Prepared:
        """Convert, cast and check the inputs once, and turn the masks into one element mask."""
        xp, arrays, _ = resolve(
            y_true=y_true,
            y_pred=y_pred,
            sample_weight=sample_weight,
            mask=mask,
            keras_mask=keras_mask(y_pred),
        )
        y_true, y_pred = prepare_inputs(xp, arrays["y_true"], arrays["y_pred"], self.dtype)
        weight = arrays["sample_weight"]
        masks = []
        if arrays["mask"] is not None:
            masks.append(("mask", arrays["mask"]))
        if arrays["keras_mask"] is not None:
            masks.append(("Keras mask", arrays["keras_mask"]))
        if weight is None and not masks:  # the common call: nothing to fit, no axes needed
            return _Prepared(xp, y_true, y_pred, None, masks, None, None, None, False)
        input_shape = shape_of(y_pred)
        axes = self._reduced_axes(len(input_shape))
        per_sample_shape = remove_axes(input_shape, axes)
        element_mask = None
        for argument, given in masks:
            try:
                found = _element_mask(xp, given, y_pred, axes, per_sample_shape, argument)
            except ValueError:
                if self._kernel_formula() is not None or type(self)._per_sample is not Loss._per_sample:
                    raise
                continue  # a user's call(): the mask may fit the losses it returns (fitted after it)
            element_mask = found if element_mask is None else element_mask & found
        return _Prepared(
            xp, y_true, y_pred, weight, masks, element_mask, axes, per_sample_shape,
            keras_squeeze=_keras_squeezes(per_sample_shape, weight),
        )  # fmt: skip

    def _generic(self, call: _Prepared, formula):
        """The array-API path: per-sample losses, masks and weights fitted to them, the reduction."""
        xp, y_true, y_pred = call.xp, call.y_true, call.y_pred
        if not call.masks and call.sample_weight is None:
            mean = self._mean_of_all_errors(xp, formula, y_true, y_pred)
            if mean is not None:
                return finish(xp, mean, self.dtype)
        if call.element_mask is not None:
            zeros = xp.zeros_like(y_pred)
            y_true = xp.where(call.element_mask, y_true, zeros)
            y_pred = xp.where(call.element_mask, y_pred, zeros)
        losses = self._per_sample(xp, y_true, y_pred, call.element_mask)
        if not hasattr(losses, "shape"):  # a user's call() returned a list or a number
            losses = xp.asarray(losses)
        sample_mask = None
        if call.masks:
            if call.element_mask is not None and same_shape(shape_of(losses), call.per_sample_shape):
                sample_mask = self._sample_mask(xp, call, losses)
            else:  # losses of another shape (a user's call()): fit each mask to them, as Keras
                sample_mask = self._masks_of_losses(xp, call.masks, losses)
        weight = self._fit_weight(xp, call.sample_weight, shape_of(losses))
        if call.keras_squeeze and shape_of(losses)[-1:] == (1,):
            # Keras squeezes the losses' last axis of 1 to the weight's rank (a batch of one with a
            # scalar weight becomes one 0-d loss, which every reduction returns as v * w)
            losses = xp.squeeze(losses, axis=-1)
            sample_mask = None if sample_mask is None else xp.squeeze(sample_mask, axis=-1)
            weight = weight if weight.ndim <= losses.ndim else xp.squeeze(weight, axis=-1)
        result = reduce_weighted(xp, losses, weight, sample_mask, self.reduction)
        return finish(xp, result, self.dtype)

    def _sample_mask(self, xp, call: _Prepared, losses):
        """The per-sample mask of the element mask: a sample is present where any of its elements
        is. Where the reduced axes hold no element (a ``(0, D)`` batch reduced over axis 0), the
        element mask carries nothing, so masks given per sample are fitted to the losses as given."""
        extents = [shape_of(call.y_pred)[axis] for axis in call.axes]
        if all(isinstance(extent, int) and extent > 0 for extent in extents):
            return xp.any(call.element_mask, axis=call.axes)
        try:
            return self._masks_of_losses(xp, call.masks, losses)
        except ValueError:  # an element-shaped mask over no elements: nothing is present
            return xp.any(call.element_mask, axis=call.axes)

    @staticmethod
    def _masks_of_losses(xp, masks, losses):
        """The masks fitted to losses of any shape (reconciled like a sample weight), combined."""
        combined = None
        for argument, given in masks:
            present = given if xp.isdtype(given.dtype, "bool") else given != 0
            present = fit_to_losses(xp, present, shape_of(losses), argument)
            present = xp.logical_and(present, xp.ones_like(losses, dtype=xp.bool))
            combined = present if combined is None else combined & present
        return combined

    def _mean_of_all_errors(self, xp, formula, y_true, y_pred):
        """``scale * mean(error)`` over every element, for a mean-over-outputs loss reduced by
        ``"sum_over_batch_size"``/``"mean"`` without weights or masks (equal to the mean of the
        per-sample means, as every sample has the same number of outputs): one reduction instead
        of two, a noticeable share of a small call. None when that does not apply."""
        shape = shape_of(y_pred)
        if (
            self.reduction not in _DIVIDED_BY_COUNT
            or not isinstance(formula, formulas.MeanOverOutputs)
            or not all(isinstance(d, int) for d in shape)
            or not math.prod(shape)
        ):
            return None
        mean = xp.mean(formula.error(xp, y_true, y_pred, **self._params))
        return mean if formula.scale == 1.0 else formula.scale * mean

    def _fit_weight(self, xp, weight, losses_shape):
        if weight is None:
            return None
        weight = cast(xp, weight, compute_dtype_name(self.dtype))
        return fit_to_losses(xp, weight, losses_shape, "sample_weight")

    def _kernel_formula(self):
        """The formula the fused path may evaluate for this loss: None for a user's ``call``."""
        return None

    def get_config(self) -> dict:
        """Every constructor argument: ``Type.from_config(loss.get_config())`` is an equal loss."""
        config = {"name": self.name, "reduction": self.reduction}
        if self._dtype_argument is not None:
            config["dtype"] = self._dtype_argument
        return config

    @classmethod
    def from_config(cls, config: dict):
        """A loss from the output of :meth:`get_config` (Keras 3 configs load too)."""
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict; received {type(config).__name__}")
        check_keywords(cls, config, f"{cls.__name__}.from_config")
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class _FormulaLoss(Loss):
    """A loss class bound to one description of :mod:`regloss.specs` (``spec``): its formula and
    its parameters, checked and stored as the description says."""

    spec = None
    formula = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.spec is not None:
            cls.formula = cls.spec.per_sample

    def __init__(self, reduction, name, dtype, **given):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._params = self.spec.standardize_params(given) if self.spec is not None else given

    def call(self, y_true, y_pred):
        xp = array_api_compat.array_namespace(y_true, y_pred)
        return self.formula.per_sample(xp, y_true, y_pred, self._params)

    def _reduced_axes(self, ndim: int) -> tuple[int, ...]:
        return self.formula.reduced_axes(ndim, self._params)

    def _per_sample(self, xp, y_true, y_pred, element_mask):
        if type(self).call is not _FormulaLoss.call:  # a subclass's own call() wins
            return self.call(y_true, y_pred)
        return self.formula.per_sample(xp, y_true, y_pred, self._params, element_mask)

    def _kernel_formula(self):
        """The class's plan, decided once per class: its formula when the class keeps the formula
        methods (the fused path may evaluate it), None when a subclass overrides one of them."""
        cls = type(self)
        try:
            return _PLANS[cls]
        except KeyError:
            same = (cls.call, cls._per_sample, cls._reduced_axes) == _FORMULA_METHODS
            plan = _PLANS[cls] = cls.formula if same else None
            return plan

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._params)
        return config

    @classmethod
    def from_config(cls, config: dict):
        if isinstance(config, dict) and isinstance(config.get("axis"), list):
            config = {**config, "axis": tuple(config["axis"])}
        return super().from_config(config)


_PLANS: dict = {}
"""Loss class -> the formula its calls may take on the fused path (None: a user's ``call``)."""

_FORMULA_METHODS = (_FormulaLoss.call, _FormulaLoss._per_sample, _FormulaLoss._reduced_axes)


class MeanSquaredError(_FormulaLoss):
    """Mean of squared errors: ``mean((y_true - y_pred)**2)`` per sample, then the reduction.

    Examples
    --------
    >>> from regloss.losses import MeanSquaredError
    >>> y_true, y_pred = [[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]
    >>> MeanSquaredError()(y_true=y_true, y_pred=y_pred)
    array(0.5, dtype=float32)
    >>> MeanSquaredError(reduction="none")(y_true=y_true, y_pred=y_pred, sample_weight=[0.7, 0.3])
    array([0.35, 0.15], dtype=float32)
    """

    spec = specs.MEAN_SQUARED_ERROR

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(reduction, name, dtype)


class MeanAbsoluteError(_FormulaLoss):
    """Mean of absolute errors: ``mean(|y_true - y_pred|)`` per sample, then the reduction.

    Examples
    --------
    >>> from regloss.losses import MeanAbsoluteError
    >>> MeanAbsoluteError(reduction="sum")(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [1., 0.]])
    array(1., dtype=float32)
    """

    spec = specs.MEAN_ABSOLUTE_ERROR

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(reduction, name, dtype)


class MeanAbsolutePercentageError(_FormulaLoss):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps))`` per sample, then the reduction.

    Examples
    --------
    >>> from regloss.losses import MeanAbsolutePercentageError
    >>> MeanAbsolutePercentageError()(y_true=[[2., 4.]], y_pred=[[1., 5.]])
    array(37.5, dtype=float32)
    """

    spec = specs.MEAN_ABSOLUTE_PERCENTAGE_ERROR

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_absolute_percentage_error",
        dtype=None,
    ):
        super().__init__(reduction, name, dtype)


class MeanSquaredLogarithmicError(_FormulaLoss):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)`` per sample.

    Examples
    --------
    >>> from regloss.losses import MeanSquaredLogarithmicError
    >>> MeanSquaredLogarithmicError()(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [1., 0.]])
    array(0.24022643, dtype=float32)
    """

    spec = specs.MEAN_SQUARED_LOGARITHMIC_ERROR

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_squared_logarithmic_error",
        dtype=None,
    ):
        super().__init__(reduction, name, dtype)


class CosineSimilarity(_FormulaLoss):
    """Negative cosine similarity over ``axis``: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred))``.

    Examples
    --------
    >>> from regloss.losses import CosineSimilarity
    >>> CosineSimilarity(axis=1)(y_true=[[0., 1.], [1., 1.]], y_pred=[[1., 0.], [1., 1.]])
    array(-0.49999997, dtype=float32)
    """

    spec = specs.COSINE_SIMILARITY

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(reduction, name, dtype, axis=axis)


class Huber(_FormulaLoss):
    """Huber loss: quadratic for ``|error| <= delta``, linear beyond (``delta`` finite and > 0).

    Examples
    --------
    >>> from regloss.losses import Huber
    >>> Huber(delta=1.0)(y_true=[[0., 1.], [0., 0.]], y_pred=[[0.6, 0.4], [0.4, 3.]])
    array(0.735, dtype=float32)
    """

    spec = specs.HUBER

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(reduction, name, dtype, delta=delta)


class LogCosh(_FormulaLoss):
    """Mean of ``log(cosh(y_pred - y_true))`` per sample, computed without overflow.

    Examples
    --------
    >>> from regloss.losses import LogCosh
    >>> LogCosh()(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [0., 0.]])
    array(0.1084452, dtype=float32)
    """

    spec = specs.LOG_COSH

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction, name, dtype)


class Poisson(_FormulaLoss):
    """Poisson loss: ``mean(y_pred - y_true * log(y_pred + eps))`` per sample, then the reduction.

    Examples
    --------
    >>> from regloss.losses import Poisson
    >>> Poisson()(y_true=[[0., 1.], [0., 0.]], y_pred=[[1., 1.], [0., 0.]])
    array(0.49999997, dtype=float32)
    """

    spec = specs.POISSON

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction, name, dtype)


class Dice(_FormulaLoss):
    """Dice loss ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + eps)`` over ``axis``.

    The default ``axis=None`` gives one loss for the whole batch, which every reduction returns
    unchanged; ``axis=(1, 2, 3)`` gives one loss per sample of an image batch.

    Examples
    --------
    >>> from regloss.losses import Dice
    >>> y_true = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
    >>> y_pred = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]
    >>> Dice()(y_true=y_true, y_pred=y_pred)
    array(0.6164384, dtype=float32)
    >>> Dice(axis=(1, 2, 3), reduction=None)(y_true=y_true, y_pred=y_pred)
    array([0.5       , 0.75757575], dtype=float32)
    """

    spec = specs.DICE

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(reduction, name, dtype, axis=axis)


class Tversky(_FormulaLoss):
    """Tversky loss ``1 - TP / (TP + alpha FP + beta FN + eps)`` over ``axis``.

    ``alpha`` weights false positives and ``beta`` false negatives, as documented by Keras (Keras
    up to 3.15.1 swaps them in its code).

    Examples
    --------
    >>> from regloss.losses import Tversky
    >>> Tversky(alpha=0.25, beta=0.75, axis=-1)(y_true=[[1., 0.]], y_pred=[[1., 1.]])
    array(0.2, dtype=float32)
    """

    spec = specs.TVERSKY

    def __init__(
        self,
        alpha=0.5,
        beta=0.5,
        reduction="sum_over_batch_size",
        name="tversky",
        axis=None,
        dtype=None,
    ):
        super().__init__(reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


class Pinball(_FormulaLoss):
    """Pinball (quantile) loss ``mean(max(tau d, (tau - 1) d))``, ``d = y_true - y_pred``, per
    sample, then the reduction: TensorFlow Addons' ``PinballLoss`` (``tau`` in ``[0, 1]``).

    Examples
    --------
    >>> from regloss.losses import Pinball
    >>> Pinball(tau=0.9)(y_true=[[1., 1.], [0., 0.]], y_pred=[[0., 3.], [0., 0.]])
    array(0.275, dtype=float32)
    """

    spec = specs.PINBALL

    def __init__(self, tau=0.5, reduction="sum_over_batch_size", name="pinball", dtype=None):
        super().__init__(reduction, name, dtype, tau=tau)


class SmoothL1(_FormulaLoss):
    """torch's ``SmoothL1Loss``: ``0.5 e**2 / beta`` if ``|e| < beta`` else ``|e| - 0.5 beta``,
    averaged per sample, then the reduction (``beta`` finite and >= 0; 0 is the absolute error).

    ``reduction="sum_over_batch_size"`` of ``(B, D)`` inputs is torch's ``reduction="mean"``.

    Examples
    --------
    >>> from regloss.losses import SmoothL1
    >>> SmoothL1(beta=1.0)(y_true=[[0., 1.], [0., 0.]], y_pred=[[0.6, 0.4], [0.4, 3.]])
    array(0.735, dtype=float32)
    """

    spec = specs.SMOOTH_L1

    def __init__(self, beta=1.0, reduction="sum_over_batch_size", name="smooth_l1", dtype=None):
        super().__init__(reduction, name, dtype, beta=beta)


class PoissonNLL(_FormulaLoss):
    """torch's ``PoissonNLLLoss`` elements (see :func:`regloss.losses.poisson_nll`) averaged per
    sample, then the reduction; ``y_pred`` is torch's ``input`` (a log-rate when ``log_input``).

    Examples
    --------
    >>> from regloss.losses import PoissonNLL
    >>> PoissonNLL(log_input=False)(y_true=[[0., 2.], [1., 1.]], y_pred=[[1., 2.], [1., 1.]])
    array(0.9034264, dtype=float32)
    """

    spec = specs.POISSON_NLL

    def __init__(
        self,
        log_input=True,
        full=False,
        eps=1e-8,
        reduction="sum_over_batch_size",
        name="poisson_nll",
        dtype=None,
    ):
        super().__init__(reduction, name, dtype, log_input=log_input, full=full, eps=eps)
