"""Checkers for the exercises of Section 6.2 on matrices: Toeplitz matrices, 2-D and volume convolutions, Sobel."""
from __future__ import annotations

import numpy as np

from .. import conv
from .._validation import check_choice
from ._base import Feedback, compare_arrays
from ._registry import checker

__all__ = ["check_toeplitz", "check_convolve2d", "check_volume_convolve", "check_separable_sobel"]


@checker
def check_toeplitz(answer, f, n: int) -> Feedback:
    """Check a Toeplitz matrix ``T(f)`` for sequences of length ``n`` (the example around (6.3)).

    >>> f = [1.0, 2.0, 3.0]
    >>> check_toeplitz(conv.toeplitz(f, 6), f, 6)
    ✔ Correct: the matrix matches (shape (8, 6)).
    >>> check_toeplitz(conv.toeplitz(f, 6).T, f, 6)
    ✘ The matrix has shape (6, 8); expected shape (8, 6).
      hint: the shape is transposed: rows and columns swapped?
    >>> check_toeplitz(conv.toeplitz(f, 6)[::-1, ::-1], f, 6)
    ✘ The matrix has the right shape but its values are off: it matches what you get when f is placed in reverse order down each column (f was flipped twice).
    """
    f = np.asarray(f, dtype=float)
    expected = conv.toeplitz(f, n)
    return compare_arrays(
        answer, expected, what="The matrix",
        variants={"f is placed in reverse order down each column (f was flipped twice)": conv.toeplitz(f[::-1], n),
                  "f runs along the rows (T[i, j] = f[j - i]) instead of down the columns (T[i, j] = f[i - j])":
                  conv.toeplitz(f, len(f) + n - 1)[:n].T},
        shape_hints={(n, n): "T(f) has len(f) + n - 1 rows, one per coefficient of the product"},
    )


@checker
def check_convolve2d(answer, x, W) -> Feedback:
    """Check the 'valid' 2-D convolution of input ``x`` with kernel ``W``, Eq. (6.7) (the chapter's ``W * x``).

    >>> W, x = np.arange(9.0).reshape(3, 3), np.arange(42.0).reshape(6, 7)
    >>> check_convolve2d(conv.convolve2d(x, W), x, W)
    ✔ Correct: your answer matches (shape (4, 5)).
    >>> check_convolve2d(conv.cross_correlate2d(x, W), x, W)
    ✘ Your answer has the right shape but its values are off: it matches what you get when the kernel was not flipped: that is the cross-correlation (6.14) that layers use, not the convolution (6.7).
    """
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    expected = conv.convolve2d(x, W)
    (K_h, K_v), (M_h, M_v) = W.shape, x.shape
    return compare_arrays(
        answer, expected,
        variants={"the kernel was not flipped: that is the cross-correlation (6.14) that layers use, not the convolution (6.7)": conv.cross_correlate2d(x, W),
                  "the kernel was flipped along one axis only": conv.cross_correlate2d(x, W[::-1, :]),
                  "the kernel was flipped along the other axis only": conv.cross_correlate2d(x, W[:, ::-1])},
        shape_hints={(M_h + K_h - 1, M_v + K_v - 1): "that is the 'full' size (6.5); the layer's 'valid' size is (6.6): M - K + 1",
                     (M_h - K_h, M_v - K_v): "missing the + 1 in M - K + 1 (6.6)",
                     (M_h, M_v): "that is the input's size: without padding the output shrinks to M - K + 1"},
    )


@checker
def check_volume_convolve(answer, x, W) -> Feedback:
    """Check the volume convolution of input ``x`` with kernel ``W``, Eq. (6.9), which flips all three axes.

    Diagnoses the usual conventions mixed up: pairing kernel channel ``i`` with input
    channel ``i`` as Eq. (6.10) is written and layers do (no flip along depth), no flip at
    all (a 3-D cross-correlation), and a depth axis dropped when ``K_c == M_c``.

    >>> rng = np.random.default_rng(1)
    >>> W, x = rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 4, 5))
    >>> check_volume_convolve(conv.volume_convolve(x, W), x, W)
    ✔ Correct: the volume convolution matches (shape (1, 3, 4)).
    >>> check_volume_convolve(conv.channel_sum_convolve(x, W)[None], x, W)
    ✘ The volume convolution has the right shape but its values are off: it matches what you get when channel i of W met channel i of x: that is the pairing of (6.10) as written (and of deep-learning layers), but (6.9) flips the depth axis too, so kernel channel K_c + 1 - i meets input channel i (channels numbered from 1, as on the page).
    >>> check_volume_convolve(conv.channel_sum_convolve(x, W[::-1]), x, W)
    ✘ The volume convolution has shape (3, 4); expected shape (1, 3, 4).
      hint: (6.8) keeps a depth axis of length M_c - K_c + 1 = 1: add it back with z[None]
    """
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    expected = conv.volume_convolve(x, W)
    (K_c, K_h, K_v), (M_c, M_h, M_v) = W.shape, x.shape
    out = expected.shape
    return compare_arrays(
        answer, expected, what="The volume convolution",
        variants={
            "channel i of W met channel i of x: that is the pairing of (6.10) as written (and of "
            "deep-learning layers), but (6.9) flips the depth axis too, so kernel channel "
            "K_c + 1 - i meets input channel i (channels numbered from 1, as on the page)":
            conv.volume_convolve(x, W[::-1]),
            "the kernel was not flipped at all: that is a 3-D cross-correlation": conv.volume_convolve(x, W[::-1, ::-1, ::-1]),
            "only the depth axis was flipped, not the two spatial axes": conv.volume_convolve(x, W[:, ::-1, ::-1]),
        },
        shape_hints={out[1:]: f"(6.8) keeps a depth axis of length M_c - K_c + 1 = {out[0]}: add it back with z[None]",
                     (M_c + K_c - 1, M_h + K_h - 1, M_v + K_v - 1): "that is the 'full' size; (6.8) is M - K + 1 along each axis",
                     (M_c - K_c, M_h - K_h, M_v - K_v): "missing the + 1 in (6.8)"},
    )


@checker
def check_separable_sobel(answer, image, direction: str = "vertical") -> Feedback:
    """Check Sobel edges computed with two 1-D convolutions (a smoothing and a derivative).

    ``answer`` should equal ``filters.sobel_edges(image, direction)``: the 'valid' 2-D
    convolution (6.7) of a grey ``image`` with ``SOBEL_VERTICAL`` (``[1, 2, 1]`` down the
    columns times ``[1, 0, -1]`` along the rows) or ``SOBEL_HORIZONTAL``.

    >>> from cnnlib import filters
    >>> img = np.add.outer(np.arange(5.0) ** 2, np.arange(6.0) ** 3)
    >>> check_separable_sobel(filters.sobel_edges(img, "vertical"), img)
    ✔ Correct: your edge map matches (shape (3, 4)).
    >>> check_separable_sobel(filters.sobel_edges(img, "horizontal"), img)
    ✘ Your edge map has the right shape but its values are off: it matches what you get when the smoothing and the derivative swapped axes: that is the other direction's kernel (W^(h) instead of W^(v)).
    """
    from .. import filters

    x = np.asarray(image, dtype=float)
    check_choice(direction, "direction", ("vertical", "horizontal"))
    other = "horizontal" if direction == "vertical" else "vertical"
    expected = filters.sobel_edges(x, direction)
    kernel = filters.SOBEL_VERTICAL if direction == "vertical" else filters.SOBEL_HORIZONTAL
    names = {"vertical": "W^(v)", "horizontal": "W^(h)"}
    M_h, M_v = x.shape
    if direction == "vertical":  # derivative along the rows only, trimmed to the valid size
        no_smoothing = conv.convolve2d(x, [[1.0, 0.0, -1.0]])[1:-1]
    else:
        no_smoothing = conv.convolve2d(x, [[1.0], [0.0], [-1.0]])[:, 1:-1]
    return compare_arrays(
        answer, expected, what="Your edge map",
        variants={f"the smoothing and the derivative swapped axes: that is the other direction's kernel "
                  f"({names[other]} instead of {names[direction]})": filters.sobel_edges(x, other),
                  "the derivative [1, 0, -1] was not flipped (a cross-correlation): the sign of every response flips":
                  conv.cross_correlate2d(x, kernel),
                  "the smoothing [1, 2, 1] was left out: that is a plain central difference": no_smoothing},
        shape_hints={(M_h + 2, M_v + 2): "that is the 'full' size (6.5); use mode='valid'",
                     (M_h, M_v): "that is the 'same' size; the 'valid' size (6.6) is M - 2 on each side"},
    )
