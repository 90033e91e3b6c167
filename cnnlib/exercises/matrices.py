"""Checkers for the exercises of Section 6.2 on matrices: Toeplitz matrices, 2-D and volume convolutions, Sobel."""
from __future__ import annotations

import numpy as np

from .. import conv
from .._validation import check_choice
from ._base import Feedback, compare_arrays
from ._registry import checker

__all__ = ["check_toeplitz", "check_toeplitz_shape", "check_toeplitz_diagonals", "check_convolution_shape",
           "check_convolve2d", "check_volume_convolve", "check_separable_sobel"]


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


def _toeplitz_shape(f_len: int, n: int) -> tuple[int, int]:
    """The shape of T(f), read off the matrix of g -> f * g built column by column by np.convolve."""
    columns = [np.convolve(np.ones(f_len), e) for e in np.eye(n)]
    return np.column_stack(columns).shape


def _whole_pair(answer):
    try:
        got = tuple(int(a) for a in answer)
    except (TypeError, ValueError):
        return None
    return got if len(got) == 2 and got == tuple(answer) else None


@checker
def check_toeplitz_shape(answer, f_len: int, n: int) -> Feedback:
    """Check a predicted shape ``(rows, columns)`` of ``T(f)`` for ``len(f) = f_len`` and
    sequences ``g`` of length ``n`` (Section 6.2.3: ``T(f) g = f * g``).

    Diagnoses rows and columns swapped, one row too many (``len(f) + n``), and the columns
    counted by ``f`` instead of by the vector ``g`` that ``T(f)`` multiplies.

    >>> check_toeplitz_shape((13, 10), 4, 10)
    ✔ Correct: T(f) is 13 × 10.
    >>> check_toeplitz_shape((10, 13), 4, 10)
    ✘ (10, 13) is not the shape of T(f): rows and columns are swapped (one column per entry of g, one row per coefficient of f * g).
    """
    rows, cols = _toeplitz_shape(f_len, n)
    got = _whole_pair(answer)
    if got is None:
        return Feedback(False, f"Give the shape as a pair of whole numbers (rows, columns); got {answer!r}.")
    if got == (rows, cols):
        return Feedback(True, f"Correct: T(f) is {rows} × {cols}.")
    slips = {
        (cols, rows): "rows and columns are swapped (one column per entry of g, one row per coefficient of f * g)",
        (f_len + n, cols): "one row too many: f * g has len(f) + len(g) - 1 coefficients",
        (rows, f_len): "T(f) multiplies g, so it has one column per entry of g (n of them), not one per entry of f",
        (f_len + n - 1, f_len + n - 1): "T(f) is not square: one column per entry of g",
    }
    reason = slips.get(got)
    if reason:
        return Feedback(False, f"{got} is not the shape of T(f): {reason}.")
    return Feedback(False, f"{got} is not the shape of T(f).",
                    ["rows: one per coefficient of f * g (len(f) + len(g) - 1); columns: one per entry of g"])


@checker
def check_toeplitz_diagonals(answer, f_len: int, n: int) -> Feedback:
    """Check ``(diagonals, non-zero diagonals)`` of ``T(f)`` for ``len(f) = f_len``, ``len(g) = n``.

    Diagnoses the diagonals counted as rows (or columns) and the non-zero ones counted per
    column of ``T(f)`` instead of per coefficient of ``f``.

    >>> check_toeplitz_diagonals((22, 4), 4, 10)
    ✔ Correct: T(f) has 22 diagonals, 4 of them not identically zero.
    >>> check_toeplitz_diagonals((22, 10), 4, 10)
    ✘ 10 non-zero diagonals is not right: each coefficient f_k fills one whole diagonal, so there are len(f) = 4, whatever n.
    """
    rows, cols = _toeplitz_shape(f_len, n)
    T = np.column_stack([np.convolve(np.arange(1.0, f_len + 1), e) for e in np.eye(n)])
    total = rows + cols - 1
    nonzero = sum(bool(np.any(np.diagonal(T, k))) for k in range(-(rows - 1), cols))
    got = _whole_pair(answer)
    if got is None:
        return Feedback(False, f"Give a pair of whole numbers (diagonals, non-zero diagonals); got {answer!r}.")
    if got == (total, nonzero):
        return Feedback(True, f"Correct: T(f) has {total} diagonals, {nonzero} of them not identically zero.")
    if got[0] != total:
        reason = {rows: "that is the number of rows", cols: "that is the number of columns",
                  rows + cols: "one too many"}.get(got[0])
        return Feedback(False, f"{got[0]} diagonals is not right" + (f": {reason}" if reason else "") +
                        f"; a {rows} × {cols} matrix has rows + columns - 1 diagonals.")
    reason = ({n: "each coefficient f_k fills one whole diagonal, so there are len(f) = " + str(f_len) + ", whatever n",
               rows: "each coefficient f_k fills one whole diagonal, so there are len(f) = " + str(f_len)}
              .get(got[1], f"the non-zero diagonals are the ones that carry f_0, ..., f_{f_len - 1}"))
    return Feedback(False, f"{got[1]} non-zero diagonals is not right: {reason}.")


@checker
def check_convolution_shape(answer, input_shape, kernel_shape, mode: str = "valid") -> Feedback:
    """Check a predicted shape of the convolution of an input of ``input_shape`` with a kernel of
    ``kernel_shape`` (Section 6.2.4): 2-D ``"valid"`` (6.6) or ``"full"`` (6.5), or a volume
    convolution (6.8) of two 3-tensors (``"valid"``). The reference is computed here, by
    :mod:`cnnlib.conv` on arrays of ones.

    Diagnoses the full size given for the valid one (and back), the + 1 left out, and the
    channel axis of a volume convolution dropped.

    >>> check_convolution_shape((28, 28), (32, 32), (5, 5))
    ✔ Correct: (28, 28).
    >>> check_convolution_shape((36, 36), (32, 32), (5, 5))
    ✘ (36, 36) is the full size (6.5), M + K - 1; the valid size (6.6) is M - K + 1.
    """
    mode = check_choice(mode, "mode", ("valid", "full"))
    x, W = np.ones(tuple(input_shape)), np.ones(tuple(kernel_shape))
    volume = x.ndim == 3
    if volume:
        expected = conv.volume_convolve(x, W).shape
        full = tuple(m + k - 1 for m, k in zip(x.shape, W.shape))
    else:
        expected = conv.convolve2d(x, W, mode=mode).shape
        full = conv.convolve2d(x, W, mode="full").shape
    valid = tuple(m - k + 1 for m, k in zip(x.shape, W.shape))
    try:
        got = tuple(int(a) for a in np.atleast_1d(answer))
    except (TypeError, ValueError):
        return Feedback(False, f"Give the shape as a tuple of whole numbers; got {answer!r}.")
    if got == tuple(expected):
        return Feedback(True, f"Correct: {tuple(expected)}.")
    if got == full and mode == "valid":
        return Feedback(False, f"{got} is the full size (6.5), M + K - 1; the valid size (6.6) is M - K + 1.")
    if got == valid and mode == "full":
        return Feedback(False, f"{got} is the valid size (6.6), M - K + 1; the full size (6.5) is M + K - 1.")
    if got == tuple(e - 1 for e in expected):
        return Feedback(False, f"{got} is one short along each axis: the + 1 of M - K + 1 (or the - 1 of M + K - 1) "
                               "is off.")
    if volume and got == tuple(expected[1:]):
        return Feedback(False, f"{got} drops the channel axis: the volume convolution (6.8) of two "
                               f"{len(expected)}-tensors is a {len(expected)}-tensor, {tuple(expected)}.")
    return Feedback(False, f"{got} is not right.", ["valid (6.6): M - K + 1 along each axis; full (6.5): M + K - 1"])


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
