"""Checkers for the exercises of Sections 6.1 and 6.2 (one-dimensional convolution, LTI systems, probability)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import conv
from ._base import Feedback, call_student, compare_arrays

__all__ = ["check_convolve1d"]


def check_convolve1d(student_fn: Callable) -> Feedback:
    """Check a student's ``convolve(f, g)`` for the full 1-D convolution (6.1).

    Tries several pairs of sequences (different lengths, both orders) against
    :func:`cnnlib.conv.convolve1d` and diagnoses a missing flip (a correlation), a
    'valid' or 'same' length instead of the full one, and off-by-one slips.

    >>> check_convolve1d(lambda f, g: np.convolve(f, g))
    ✔ Correct on all 4 test cases.
    >>> check_convolve1d(lambda f, g: np.correlate(f, g, mode="full"))
    ✘ Case 1 (f of length 3, g of length 3): your answer has the right shape but its values are off: it matches what you get when one sequence was not flipped (that is a cross-correlation, not a convolution).
    """
    rng = np.random.default_rng(6)
    cases = [(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, -1.0])),
             (np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, -2.0, 4.0])),
             (rng.normal(size=5), rng.normal(size=2)),
             (rng.normal(size=1), rng.normal(size=6))]
    for k, (f, g) in enumerate(cases, start=1):
        got, problem = call_student(student_fn, f.copy(), g.copy())
        if problem is not None:
            return problem
        expected = conv.convolve1d(f, g)
        n, m = len(f), len(g)
        fb = compare_arrays(
            got, expected, what="your answer",
            variants={"one sequence was not flipped (that is a cross-correlation, not a convolution)":
                      np.correlate(f, g, mode="full")},
            shape_hints={(max(n, m) - min(n, m) + 1,): "that is the 'valid' length; the full convolution has length len(f) + len(g) - 1",
                         (max(n, m),): "that is the 'same' length; the full convolution has length len(f) + len(g) - 1"},
        )
        if not fb:
            fb.message = f"Case {k} (f of length {n}, g of length {m}): {fb.message}"
            return fb
    return Feedback(True, f"Correct on all {len(cases)} test cases.")
