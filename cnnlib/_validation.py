"""Shared argument checks for cnnlib.

Every public function validates its input here, so that a bad argument always raises a
``ValueError`` or ``TypeError`` whose message names the argument, says what was expected
and shows what came. Never ``assert`` (it disappears under ``python -O``).
"""
from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

__all__ = [
    "as_array",
    "positive_int",
    "nonnegative_int",
    "pair",
    "check_choice",
    "check_kernel_fits",
    "check_bool",
    "as_float_array",
]


def as_array(value, name: str, *, ndim: int | Sequence[int] | None = None, dtype=float) -> np.ndarray:
    """Convert ``value`` to a non-empty numeric array with the expected number of dimensions.

    Examples
    --------
    >>> as_array([1, 2, 3], "f", ndim=1)
    array([1., 2., 3.])
    >>> as_array([[1, 2]], "f", ndim=1)
    Traceback (most recent call last):
    ...
    ValueError: f must be a 1-D array, got an array of shape (1, 2) (2-D)
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__} {value!r}")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{name} must be a {want} array, got an array of shape {arr.shape} ({arr.ndim}-D)"
            )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got an array of shape {arr.shape}")
    if dtype is not None:
        if np.iscomplexobj(arr):
            arr = arr.astype(complex)
        else:
            arr = arr.astype(dtype, copy=False)
    return arr


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name: str) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 1.

    >>> positive_int(3, "n")
    3
    >>> positive_int(0, "stride")
    Traceback (most recent call last):
    ...
    ValueError: stride must be a positive integer (>= 1), got 0
    """
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value!r}")
    return int(value)


def nonnegative_int(value, name: str) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 0."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer (>= 0), got {value!r}")
    return int(value)


def pair(value, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """Return ``value`` as a pair ``(h, v)`` of integers >= ``minimum``.

    An int ``k`` means ``(k, k)``, as in PyTorch.

    >>> pair(3, "kernel_size")
    (3, 3)
    >>> pair((2, 1), "stride")
    (2, 1)
    >>> pair((1, 0), "stride")
    Traceback (most recent call last):
    ...
    ValueError: stride must be an int >= 1 or a pair of them, got (1, 0)
    >>> pair(-1, "padding", minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: padding must be an int >= 0 or a pair of them, got -1
    """
    if _is_int(value):
        values = (value, value)
    elif isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2 and all(_is_int(v) for v in value):
        values = tuple(value)
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(values[0]), int(values[1])


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``.

    >>> check_choice("same", "mode", ("full", "valid"))
    Traceback (most recent call last):
    ...
    ValueError: mode must be one of 'full', 'valid', got 'same'
    """
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_kernel_fits(kernel_shape, input_shape, *, kernel_name: str = "W", input_name: str = "x") -> None:
    """Raise if a kernel is larger than its input along some axis (a 'valid' convolution needs K <= M).

    >>> check_kernel_fits((3, 3), (6, 7))
    >>> check_kernel_fits((3, 8), (6, 7))
    Traceback (most recent call last):
    ...
    ValueError: W of shape (3, 8) is larger than x of shape (6, 7) along axis 1 (8 > 7); a 'valid' convolution needs every kernel side <= the input side
    """
    for axis, (k, m) in enumerate(zip(kernel_shape, input_shape)):
        if k > m:
            raise ValueError(
                f"{kernel_name} of shape {tuple(kernel_shape)} is larger than {input_name} of shape "
                f"{tuple(input_shape)} along axis {axis} ({k} > {m}); a 'valid' convolution needs "
                f"every kernel side <= the input side"
            )


def as_float_array(value, name: str, *, ndim: int | Sequence[int] | None = None) -> np.ndarray:
    """:func:`as_array` that keeps a floating (or complex) dtype and turns integers and booleans into float64.

    So float32 data stay float32, as in NumPy and PyTorch, while ``[1, 2]`` becomes float64.

    >>> as_float_array(np.ones(2, dtype=np.float32), "x").dtype
    dtype('float32')
    >>> as_float_array([1, 2], "x").dtype
    dtype('float64')
    """
    arr = as_array(value, name, ndim=ndim, dtype=None)
    return arr if np.issubdtype(arr.dtype, np.inexact) else arr.astype(float)


def check_bool(value, name: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (a NumPy bool too), else raise ``TypeError``.

    >>> check_bool(True, "flip")
    True
    >>> check_bool(1, "flip")
    Traceback (most recent call last):
    ...
    TypeError: flip must be True or False, got int 1
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
