"""Conversion rules: which library, dtype and device a result has, whatever the caller passed."""

import numpy as np
import pytest

import regloss
from regloss import losses
from tests._helpers import library_name, library_of, to_numpy


class ArrayLike:
    """An object with ``__array__`` and ``dtype`` but no array API, as pandas and xarray objects are."""

    def __init__(self, values):
        self._values = np.asarray(values)

    @property
    def dtype(self):
        return self._values.dtype

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)


def test_array_likes_are_converted():
    y_true = ArrayLike([[0.0, 1.0], [0.0, 0.0]])
    y_pred = ArrayLike(np.array([[1.0, 1.0], [1.0, 0.0]], dtype="float64"))
    per_sample = losses.mean_squared_error(y_true=y_true, y_pred=y_pred)
    assert per_sample.dtype == np.float64  # an object with a dtype keeps it
    np.testing.assert_allclose(per_sample, [0.5, 0.5], rtol=1e-12)


def test_numpy_inputs_follow_the_other_library(xp):
    y_true = np.array([[0.0, 1.0], [0.0, 0.0]], dtype="float32")
    y_pred = xp.asarray(np.array([[1.0, 1.0], [1.0, 0.0]], dtype="float32"))
    for result in (
        losses.mean_absolute_error(y_true=y_true, y_pred=y_pred),
        losses.MeanAbsoluteError()(y_true=y_true, y_pred=y_pred, sample_weight=np.ones(2)),
        losses.MeanAbsoluteError()(y_true=[[0.0, 1.0], [0.0, 0.0]], y_pred=y_pred, mask=[True, False]),
    ):
        assert library_of(result) == library_name(xp)


@pytest.mark.parametrize(
    ("y_pred", "dtype"),
    [
        ([[1.0, 2.0]], "float32"),  # Python floats: floatx, as Keras converts them
        ([[1, 2]], "float32"),  # integers: floatx
        (np.array([[True, False]]), "float32"),  # booleans: floatx
        (np.array([[1, 2]], dtype="int64"), "float32"),
        (np.array([[1.0, 2.0]], dtype="float64"), "float64"),  # a float array keeps its dtype
        (np.array([[1.0, 2.0]], dtype="float16"), "float16"),
    ],
)
def test_functional_result_dtype(y_pred, dtype):
    result = losses.mean_squared_error(y_true=np.array([[0.0, 0.0]]), y_pred=y_pred)
    assert result.dtype == np.dtype(dtype)


def test_y_true_is_cast_to_y_pred_dtype():
    # 0.1 in float64 differs from 0.1 in float32: the float32 y_pred decides.
    y_true = np.array([[0.1]], dtype="float64")
    y_pred = np.array([[0.1]], dtype="float32")
    assert float(losses.mean_absolute_error(y_true=y_true, y_pred=y_pred)[0]) == 0.0


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "mixed_float16"])
def test_class_result_has_the_loss_dtype(dtype):
    if dtype == "bfloat16":
        pytest.importorskip("ml_dtypes", reason="bfloat16 on NumPy needs ml_dtypes")
    loss = losses.MeanSquaredError(dtype=dtype)
    expected_name = {"mixed_float16": "float16"}.get(dtype, dtype)
    assert loss.dtype == expected_name
    result = loss(y_true=[[0.0, 1.0]], y_pred=np.array([[1.0, 1.0]]))
    assert result.dtype.name == expected_name
    assert result.shape == ()
    assert float(result) == pytest.approx(0.5, rel=1e-2)


def test_dtype_is_read_only():
    with pytest.raises(AttributeError):
        losses.MeanSquaredError().dtype = "float64"


def test_read_only_inputs_work_and_stay_unchanged(xp):
    y_true = np.array([[0.0, np.nan], [1.0, 2.0]])
    y_pred = np.array([[1.0, 1.0], [1.0, 0.0]])
    weight = np.array([1.0, 2.0])
    mask = np.array([[True, False], [True, True]])
    for array in (y_true, y_pred, weight, mask):
        array.flags.writeable = False
    copies = [a.copy() for a in (y_true, y_pred, weight, mask)]
    result = losses.MeanSquaredError(dtype="float64")(y_true, xp.asarray(y_pred), weight, mask=mask)
    np.testing.assert_allclose(to_numpy(result), (1.0 + 2 * 2.0) / 2, rtol=1e-12)
    for array, copy in zip((y_true, y_pred, weight, mask), copies, strict=True):
        np.testing.assert_array_equal(array, copy)


def test_reduction_class_lists_every_value():
    assert regloss.Reduction.all() == (
        "sum_over_batch_size",
        "mean",
        "sum",
        "mean_with_sample_weight",
        "none",
        None,
        "auto",
    )
    for value in regloss.Reduction.all():
        regloss.Reduction.validate(value)
    with pytest.raises(ValueError, match="'sum_over_batch_size', 'mean', 'sum'"):
        regloss.Reduction.validate("Sum")
