"""cnnlib._validation: every check names the argument, what was expected and what came."""
import numpy as np
import pytest
import torch

from cnnlib import _validation as v


def test_as_array_accepts_lists_arrays_and_tensors():
    np.testing.assert_array_equal(v.as_array([1, 2], "f"), [1.0, 2.0])
    np.testing.assert_array_equal(v.as_array(torch.tensor([1.0, 2.0]), "f", ndim=1), [1.0, 2.0])
    assert v.as_array(np.ones((2, 3), dtype=int), "W", ndim=(2, 3)).dtype == float


@pytest.mark.parametrize("value, kwargs, exc, match", [
    (None, {}, TypeError, "x must be an array of numbers, got NoneType"),
    ("abc", {}, TypeError, "x must be an array of numbers, got str"),
    ([[1, 2], [3]], {}, TypeError, "x must be an array of numbers"),
    (np.array(["a"]), {}, TypeError, "dtype <U1"),
    (np.ones((2, 2)), {"ndim": 1}, ValueError, r"x must be a 1-D array, got an array of shape \(2, 2\) \(2-D\)"),
    (np.ones(3), {"ndim": (2, 3)}, ValueError, "x must be a 2-D or 3-D array"),
    (np.ones((0, 3)), {"ndim": 2}, ValueError, r"x must not be empty, got an array of shape \(0, 3\)"),
])
def test_as_array_errors(value, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        v.as_array(value, "x", **kwargs)


@pytest.mark.parametrize("fn, value, exc, match", [
    (v.positive_int, 0, ValueError, r"stride must be a positive integer \(>= 1\), got 0"),
    (v.positive_int, True, TypeError, "stride must be an integer, got bool"),
    (v.positive_int, 1.0, TypeError, "stride must be an integer, got float"),
    (v.nonnegative_int, -1, ValueError, r"stride must be a non-negative integer \(>= 0\), got -1"),
    (v.nonnegative_int, "1", TypeError, "stride must be an integer, got str"),
])
def test_integer_checks(fn, value, exc, match):
    with pytest.raises(exc, match=match):
        fn(value, "stride")


def test_integer_checks_pass_through():
    assert v.positive_int(np.int64(3), "n") == 3 and v.nonnegative_int(0, "padding") == 0


@pytest.mark.parametrize("value, minimum, exc, match", [
    ((1, 2, 3), 1, TypeError, r"stride must be an int or a pair of ints, got \(1, 2, 3\)"),
    ((1.5, 2), 1, TypeError, "stride must be an int or a pair of ints"),
    (0, 1, ValueError, "stride must be an int >= 1 or a pair of them, got 0"),
    ((2, -1), 0, ValueError, r"stride must be an int >= 0 or a pair of them, got \(2, -1\)"),
])
def test_pair_errors(value, minimum, exc, match):
    with pytest.raises(exc, match=match):
        v.pair(value, "stride", minimum=minimum)


def test_pair_values():
    assert v.pair(2, "k") == (2, 2) and v.pair([3, 1], "k") == (3, 1) and v.pair(np.array([1, 2]), "k") == (1, 2)


def test_choice_and_kernel_fit():
    assert v.check_choice("full", "mode", ("full", "valid")) == "full"
    with pytest.raises(ValueError, match="mode must be one of 'full', 'valid', got 'same'"):
        v.check_choice("same", "mode", ("full", "valid"))
    v.check_kernel_fits((3, 3), (3, 3))
    with pytest.raises(ValueError, match=r"kernel of shape \(4, 1\) is larger than image of shape \(3, 3\) along axis 0 \(4 > 3\)"):
        v.check_kernel_fits((4, 1), (3, 3), kernel_name="kernel", input_name="image")
