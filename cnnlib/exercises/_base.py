"""Shared machinery of the exercise checkers: array and shape diagnosis, calling a student's
function, reading a whole-number answer."""
from __future__ import annotations

import numbers
from typing import Callable, Mapping

import numpy as np

from ._feedback import Feedback, is_unfinished
from ._registry import checker

__all__ = ["Feedback", "compare_arrays", "check_output_shape", "call_student", "off_by", "layer_output_shape"]


def _as_count(answer):
    """Return ``answer`` as an int if it is a whole number, else None."""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        if isinstance(answer, np.ndarray) and answer.size == 1 and np.issubdtype(answer.dtype, np.number):
            answer = answer.item()
        else:
            return None
    if not np.isfinite(answer) or float(answer) != int(answer):
        return None
    return int(answer)


def _to_array(answer, what: str):
    if hasattr(answer, "detach"):
        answer = answer.detach().cpu().numpy()
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None, Feedback(False, f"{what} should be an array of numbers; got {type(answer).__name__}.")
    return arr, None


def layer_output_shape(layer, input_shape) -> tuple:
    """The shape of ``layer``'s output for an input of zeros of ``input_shape`` (evaluation mode): the
    reference of the checkers that ask for a shape or for the outputs of a layer, computed inside them."""
    import torch

    from .._modes import eval_mode

    device = next((q.device for q in layer.parameters()), torch.device("cpu"))
    with torch.no_grad(), eval_mode(layer):
        return tuple(layer(torch.zeros(tuple(input_shape), device=device)).shape)


@checker
def compare_arrays(answer, expected, *, what: str = "Your answer",
                   variants: Mapping[str, np.ndarray] | None = None,
                   shape_hints: Mapping[tuple, str] | None = None,
                   rtol: float = 1e-7, atol: float = 1e-9) -> Feedback:
    """Compare an array answer with the expected one and diagnose common slips.

    Parameters
    ----------
    answer : array_like
        What the student computed.
    expected : array_like
        The right answer.
    what : str
        How to name the answer in messages.
    variants : mapping of str to array, optional
        Known wrong answers and what they reveal, e.g.
        ``{"the kernel was not flipped": cross_correlation}``; an answer equal to one of
        them gets that diagnosis.
    shape_hints : mapping of tuple to str, optional
        Known wrong shapes and what they reveal, e.g. ``{(8, 9): "that is the 'full' size (6.5)"}``.

    Examples
    --------
    >>> compare_arrays([1, 2], [1, 2])
    ✔ Correct: your answer matches (shape (2,)).
    >>> compare_arrays([[1, 2]], [1, 2])
    ✘ Your answer has shape (1, 2); expected shape (2,).
    >>> compare_arrays([2, 1], [1, 2], variants={"the kernel was not flipped": np.array([2, 1])})
    ✘ Your answer has the right shape but its values are off: it matches what you get when the kernel was not flipped.
    """
    arr, problem = _to_array(answer, what)
    if problem is not None:
        return problem
    expected = np.asarray(expected, dtype=float)
    if arr.shape != expected.shape:
        hints = []
        if arr.shape == expected.shape[::-1] and arr.ndim == 2:
            hints.append("the shape is transposed: rows and columns swapped?")
        if shape_hints and tuple(arr.shape) in shape_hints:
            hints.append(shape_hints[tuple(arr.shape)])
        diffs = [a - e for a, e in zip(arr.shape, expected.shape)] if arr.ndim == expected.ndim else []
        if not hints and diffs and all(abs(d) <= 2 for d in diffs) and any(diffs):
            hints.append("off by one or two along some axis: check the output-size formula (+1 or -1?)")
        return Feedback(False, f"{what} has shape {arr.shape}; expected shape {expected.shape}.", hints)
    if np.allclose(arr, expected, rtol=rtol, atol=atol):
        return Feedback(True, f"Correct: {what.lower()} matches (shape {expected.shape}).")
    for reason, wrong in (variants or {}).items():
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == arr.shape and np.allclose(arr, wrong, rtol=rtol, atol=atol):
            return Feedback(False, f"{what} has the right shape but its values are off: it matches what you get when {reason}.")
    hints = []
    if arr.ndim >= 1:
        for axis in range(arr.ndim):
            for shift in (1, -1):
                if np.allclose(np.roll(arr, shift, axis=axis), expected, rtol=rtol, atol=atol):
                    hints.append(f"your values are shifted by {-shift} along axis {axis}: an off-by-one index?")
    if np.allclose(arr, -expected, rtol=rtol, atol=atol):
        hints.append("your answer is the negative of the expected one: a sign slip?")
    if np.allclose(arr, expected, rtol=1e-3, atol=1e-3):
        hints.append("very close: a rounding or dtype issue (use floats)?")
    bad = np.argwhere(~np.isclose(arr, expected, rtol=rtol, atol=atol))
    first = tuple(int(i) for i in bad[0])
    msg = (f"{what} has the right shape {expected.shape} but {len(bad)} of {expected.size} entries differ; "
           f"the first is at index {first}: got {arr[first]:.6g}, expected {expected[first]:.6g}.")
    return Feedback(False, msg, hints)


def off_by(got, right) -> str:
    """How far a wrong count is from the right one, in words that never read "1 times".

    >>> off_by(300, 100), off_by(1001, 1000), off_by(0, 50)
    ('3 times the right one', '1 more than the right one, 0.1% off', '0 times the right one')
    """
    if right == 0:
        return f"{got - right:+,} from the right one, 0"
    ratio = got / right
    if abs(ratio - 1) < 0.05:
        diff = got - right
        percent = 100 * abs(ratio - 1)
        return (f"{abs(diff):,} {'more' if diff > 0 else 'less'} than the right one, "
                + (f"{percent:.2g}% off" if percent >= 0.01 else "less than 0.01% off"))
    return f"{ratio:.3g} times the right one"


def call_student(fn: Callable, *args):
    """Call a student's function: ``(result, None)``, or ``(None, Feedback)`` when it raised,
    is still a stub (its body is ``...``) or returned ``None`` or ``...``.

    >>> def todo(x):
    ...     ...
    >>> call_student(todo, 1)
    (None, ○ Not attempted yet: your function's body is still `...`.)
    >>> call_student(lambda x: 1 / x, 0)
    (None, ✘ Your function raised ZeroDivisionError: division by zero)
    """
    if is_unfinished(fn):
        return None, Feedback(False, "your function's body is still `...`.", attempted=False)
    try:
        result = fn(*args)
    except Exception as exc:  # report the student's exception as feedback
        return None, Feedback(False, f"Your function raised {type(exc).__name__}: {exc}")
    if result is None or result is Ellipsis:
        return None, Feedback(False, f"your function returned {result!r}: finish it (does it end with "
                                     "`return`?).", attempted=False)
    return result, None


@checker
def check_output_shape(answer, expected, *, formula: str = "") -> Feedback:
    """Check a predicted output shape (a tuple of ints, or one int).

    >>> check_output_shape((4, 5), (4, 5))
    ✔ Correct: (4, 5).
    >>> check_output_shape((5, 6), (4, 5), formula="M - K + 1")
    ✘ You predicted (5, 6); the answer is (4, 5).
      hint: each side is 1 too large: recheck M - K + 1
    """
    as_tuple = lambda v: tuple(int(a) for a in np.atleast_1d(v))
    try:
        got, want = as_tuple(answer), as_tuple(expected)
    except (TypeError, ValueError):
        return Feedback(False, f"A shape should be an int or a tuple of ints; got {answer!r}.")
    if got == want:
        return Feedback(True, f"Correct: {expected}.")
    hints = []
    if len(got) == len(want):
        diffs = {g - w for g, w in zip(got, want)}
        if len(diffs) == 1 and 0 not in diffs:
            d = diffs.pop()
            hints.append(f"each side is {abs(d)} too {'large' if d > 0 else 'small'}" + (f": recheck {formula}" if formula else ""))
        elif got == want[::-1]:
            hints.append("rows and columns swapped")
        elif len(want) == 4 and got == (want[0], want[2], want[3], want[1]):
            hints.append("channels last, (N, H, W, C), as in the chapter's 'width, height, depth' and in "
                         "TensorFlow; PyTorch puts the channels second: (N, C, H, W)")
    return Feedback(False, f"You predicted {answer}; the answer is {expected}.", hints)
