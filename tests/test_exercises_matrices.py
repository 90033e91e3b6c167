"""Checkers of cnnlib.exercises.matrices: right answers pass, each known slip gets its own diagnosis.

The right answers are computed independently of cnnlib (SciPy, PyTorch float64, NumPy), so a
bug in cnnlib.conv would make these tests fail rather than pass by agreement with itself.
"""
import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import exercises
from cnnlib.filters import SOBEL_HORIZONTAL, SOBEL_VERTICAL

small = st.integers(1, 4)


def _volume_oracle(W, x):
    """Eq. (6.9) by brute force: flip all three axes of W and slide it over x."""
    Wf = W[::-1, ::-1, ::-1]
    K = W.shape
    out = tuple(m - k + 1 for m, k in zip(x.shape, K))
    z = np.empty(out)
    for idx in np.ndindex(*out):
        z[idx] = np.sum(Wf * x[idx[0]:idx[0] + K[0], idx[1]:idx[1] + K[1], idx[2]:idx[2] + K[2]])
    return z


@settings(max_examples=25, deadline=None)
@given(m=st.integers(2, 4), n=small, seed=st.integers(0, 2**16))
def test_check_toeplitz_against_scipy(m, n, seed):
    f = np.random.default_rng(seed).normal(size=m)
    assert exercises.check_toeplitz(scipy.linalg.convolution_matrix(f, n, mode="full"), f, n)
    fb = exercises.check_toeplitz(scipy.linalg.convolution_matrix(f, n, mode="full").T, f, n)
    assert not fb and "shape" in str(fb)


def test_check_toeplitz_spots_f_along_the_rows():
    f, n = np.array([1.0, 2.0, 3.0]), 6
    rows = np.zeros((len(f) + n - 1, n))
    for i in range(n):                       # the slip: row i holds f from column i on
        rows[i, i:i + len(f)] = f[: n - i]
    fb = exercises.check_toeplitz(rows, f, n)
    assert not fb and "f runs along the rows" in str(fb)


@settings(max_examples=25, deadline=None)
@given(K_h=st.integers(2, 4), K_v=st.integers(2, 4), extra_h=st.integers(0, 3), extra_v=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_check_convolve2d_against_scipy(K_h, K_v, extra_h, extra_v, seed):
    rng = np.random.default_rng(seed)
    W, x = rng.normal(size=(K_h, K_v)), rng.normal(size=(K_h + extra_h, K_v + extra_v))
    assert exercises.check_convolve2d(scipy.signal.convolve2d(x, W, mode="valid"), x, W)
    fb = exercises.check_convolve2d(scipy.signal.convolve2d(x, W, mode="full"), x, W)
    assert not fb and "'full' size (6.5)" in str(fb)


@settings(max_examples=25, deadline=None)
@given(K_c=small, K_h=small, K_v=small, extra=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
       seed=st.integers(0, 2**16))
def test_check_volume_convolve_right_answer(K_c, K_h, K_v, extra, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(K_c, K_h, K_v))
    x = rng.normal(size=(K_c + extra[0], K_h + extra[1], K_v + extra[2]))
    assert exercises.check_volume_convolve(_volume_oracle(W, x), x, W)
    # scipy's N-D convolution flips every axis, as (6.9) does.
    assert exercises.check_volume_convolve(scipy.signal.convolve(x, W, mode="valid"), x, W)


@settings(max_examples=25, deadline=None)
@given(K_c=st.integers(2, 4), K=small, extra=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_check_volume_convolve_spots_the_layer_pairing(K_c, K, extra, seed):
    """torch's conv2d pairs channel i with channel i (and does not flip): the (6.10) convention."""
    rng = np.random.default_rng(seed)
    W, x = rng.normal(size=(K_c, K, K)), rng.normal(size=(K_c, K + extra, K + extra))
    # Flip the spatial axes ourselves, so that only the channel pairing differs from (6.9).
    layer = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(W[:, ::-1, ::-1].copy())[None])[0]
    if np.allclose(W, W[::-1]):
        return  # a kernel symmetric in depth: both pairings agree
    fb = exercises.check_volume_convolve(layer.numpy(), x, W)
    assert not fb and "pairing of (6.10)" in str(fb)
    fb = exercises.check_volume_convolve(layer.numpy()[0], x, W)
    assert not fb and "add it back with z[None]" in str(fb)


def test_check_volume_convolve_other_slips():
    rng = np.random.default_rng(3)
    W, x = rng.normal(size=(2, 2, 3)), rng.normal(size=(4, 5, 6))
    no_flip = scipy.signal.correlate(x, W, mode="valid")
    assert "not flipped at all" in str(exercises.check_volume_convolve(no_flip, x, W))
    depth_only = scipy.signal.correlate(x, W[::-1], mode="valid")
    assert "only the depth axis" in str(exercises.check_volume_convolve(depth_only, x, W))
    assert "'full' size" in str(exercises.check_volume_convolve(scipy.signal.convolve(x, W), x, W))
    assert "missing the + 1" in str(exercises.check_volume_convolve(np.zeros((2, 3, 3)), x, W))


def _separable(img, smooth_axis):
    """Sobel by two 1-D 'valid' convolutions with SciPy: [1, 2, 1] along smooth_axis, [1, 0, -1] along the other."""
    smooth, deriv = np.array([1.0, 2.0, 1.0]), np.array([1.0, 0.0, -1.0])
    col, row = (smooth, deriv) if smooth_axis == 0 else (deriv, smooth)
    out = scipy.signal.convolve2d(img, col[:, None], mode="valid")
    return scipy.signal.convolve2d(out, row[None, :], mode="valid")


@settings(max_examples=25, deadline=None)
@given(M_h=st.integers(3, 9), M_v=st.integers(3, 9), seed=st.integers(0, 2**16))
def test_check_separable_sobel(M_h, M_v, seed):
    img = np.random.default_rng(seed).normal(size=(M_h, M_v))
    assert exercises.check_separable_sobel(_separable(img, 0), img, "vertical")
    assert exercises.check_separable_sobel(_separable(img, 1), img, "horizontal")
    fb = exercises.check_separable_sobel(_separable(img, 1), img, "vertical")
    assert not fb and "other direction" in str(fb)
    flipped = scipy.signal.correlate2d(img, SOBEL_VERTICAL, mode="valid")
    fb = exercises.check_separable_sobel(flipped, img, "vertical")
    assert not fb and "not flipped" in str(fb)
    no_smooth = scipy.signal.convolve2d(img, [[1.0, 0.0, -1.0]], mode="valid")[1:-1]
    fb = exercises.check_separable_sobel(no_smooth, img, "vertical")
    assert not fb and "smoothing [1, 2, 1] was left out" in str(fb)
    no_smooth_h = scipy.signal.convolve2d(img, [[1.0], [0.0], [-1.0]], mode="valid")[:, 1:-1]
    fb = exercises.check_separable_sobel(no_smooth_h, img, "horizontal")
    assert not fb and "left out" in str(fb)
    fb = exercises.check_separable_sobel(scipy.signal.convolve2d(img, SOBEL_HORIZONTAL, mode="same"), img, "horizontal")
    assert not fb and "'same' size" in str(fb)


def test_check_separable_sobel_rejects_a_bad_direction():
    with pytest.raises(ValueError, match="direction must be one of 'vertical', 'horizontal', got 'diagonal'"):
        exercises.check_separable_sobel(np.zeros((1, 1)), np.zeros((3, 3)), "diagonal")
