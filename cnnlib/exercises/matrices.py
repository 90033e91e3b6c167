"""Checkers for the exercises of Section 6.2 on matrices: Toeplitz matrices, 2-D and volume convolutions, Sobel."""
from __future__ import annotations

import numpy as np

from .. import conv
from ._base import Feedback, compare_arrays

__all__ = ["check_toeplitz", "check_convolve2d"]


def check_toeplitz(answer, f, n: int) -> Feedback:
    """Check a Toeplitz matrix ``T(f)`` for sequences of length ``n`` (the example around (6.3)).

    >>> f = [1.0, 2.0, 3.0]
    >>> check_toeplitz(conv.toeplitz(f, 6), f, 6)
    ✔ Correct: the matrix matches (shape (8, 6)).
    >>> check_toeplitz(conv.toeplitz(f, 6).T, f, 6)
    ✘ The matrix has shape (6, 8); expected shape (8, 6).
      hint: the shape is transposed: rows and columns swapped?
    """
    f = np.asarray(f, dtype=float)
    expected = conv.toeplitz(f, n)
    return compare_arrays(
        answer, expected, what="The matrix",
        variants={"f is placed in reverse order down each column (f was flipped twice)": conv.toeplitz(f[::-1], n),
                  "f runs along the rows instead of down the columns": conv.toeplitz(f, n)[::-1, ::-1]},
        shape_hints={(n, n): "T(f) has len(f) + n - 1 rows, one per coefficient of the product"},
    )


def check_convolve2d(answer, W, x) -> Feedback:
    """Check the 'valid' 2-D convolution ``W * x`` of Eq. (6.7).

    >>> W, x = np.arange(9.0).reshape(3, 3), np.arange(42.0).reshape(6, 7)
    >>> check_convolve2d(conv.convolve2d(W, x), W, x)
    ✔ Correct: your answer matches (shape (4, 5)).
    >>> check_convolve2d(conv.cross_correlate2d(W, x), W, x)
    ✘ Your answer has the right shape but its values are off: it matches what you get when the kernel was not flipped: that is the cross-correlation (6.14) that layers use, not the convolution (6.7).
    """
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    expected = conv.convolve2d(W, x)
    (K_h, K_v), (M_h, M_v) = W.shape, x.shape
    return compare_arrays(
        answer, expected,
        variants={"the kernel was not flipped: that is the cross-correlation (6.14) that layers use, not the convolution (6.7)": conv.cross_correlate2d(W, x),
                  "the kernel was flipped along one axis only": conv.cross_correlate2d(W[::-1, :], x),
                  "the kernel was flipped along the other axis only": conv.cross_correlate2d(W[:, ::-1], x)},
        shape_hints={(M_h + K_h - 1, M_v + K_v - 1): "that is the 'full' size (6.5); the layer's 'valid' size is (6.6): M - K + 1",
                     (M_h - K_h, M_v - K_v): "missing the + 1 in M - K + 1 (6.6)",
                     (M_h, M_v): "that is the input's size: without padding the output shrinks to M - K + 1"},
    )
