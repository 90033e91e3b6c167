"""cnnlib.conv against independent oracles (NumPy, SciPy, PyTorch) and the chapter's numbers."""
import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnlib import conv, shapes

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def vectors(min_size=1, max_size=12):
    return st.integers(min_size, max_size).flatmap(lambda n: arrays(np.float64, n, elements=finite))


def matrices(max_side=9):
    shape = st.tuples(st.integers(1, max_side), st.integers(1, max_side))
    return shape.flatmap(lambda s: arrays(np.float64, s, elements=finite))


# ---------------------------------------------------------------- 1-D, Eq. (6.1)
@given(vectors(), vectors())
def test_convolve1d_full_matches_numpy(f, g):
    np.testing.assert_allclose(conv.convolve1d(f, g), np.convolve(f, g), atol=1e-9)


@given(vectors(), vectors())
def test_convolve1d_valid_matches_numpy(f, g):
    np.testing.assert_allclose(conv.convolve1d(f, g, mode="valid"), np.convolve(f, g, mode="valid"), atol=1e-9)


@given(vectors(), vectors())
def test_convolve1d_is_commutative(f, g):
    np.testing.assert_allclose(conv.convolve1d(f, g), conv.convolve1d(g, f), atol=1e-9)


@given(vectors(), vectors(), vectors())
def test_convolve1d_is_associative(f, g, h):
    np.testing.assert_allclose(conv.convolve1d(conv.convolve1d(f, g), h),
                               conv.convolve1d(f, conv.convolve1d(g, h)), rtol=1e-9, atol=1e-6)


@st.composite
def strided_case(draw):
    """An input, a kernel, per-side padding, stride and dilation with at least one output."""
    x = draw(vectors(1, 14))
    K = draw(st.integers(1, 5))
    w = draw(arrays(np.float64, K, elements=finite))
    d, s, p = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(0, 4))
    span = d * (K - 1) + 1
    if span > len(x) + 2 * p:
        p = (span - len(x) + 1) // 2
    return x, w, p, s, d


@settings(max_examples=100, deadline=None)
@given(strided_case())
def test_convolve1d_with_padding_stride_dilation_matches_torch_conv1d(case):
    # PyTorch's conv1d does not flip the kernel: flip it for the oracle.
    x, w, p, s, d = case
    want = torch.nn.functional.conv1d(torch.from_numpy(x)[None, None], torch.from_numpy(w[::-1].copy())[None, None],
                                      padding=p, stride=s, dilation=d)[0, 0].numpy()
    got = conv.convolve1d(x, w, padding=p, stride=s, dilation=d)
    assert got.shape == want.shape == (shapes.output_size(len(x), len(w), p, s, d),)
    np.testing.assert_allclose(got, want, atol=1e-9)


@given(vectors(), vectors(1, 5), st.integers(1, 3))
def test_convolve1d_full_with_stride_subsamples_numpy(x, w, s):
    np.testing.assert_allclose(conv.convolve1d(x, w, stride=s), np.convolve(x, w)[::s], atol=1e-9)
    np.testing.assert_allclose(conv.convolve1d(x, w, "valid", stride=s), np.convolve(x, w, "valid")[::s], atol=1e-9)
    np.testing.assert_allclose(conv.convolve1d(x, w, "full", stride=s),
                               conv.convolve1d(x, w, padding=len(w) - 1, stride=s), atol=1e-9)


@given(vectors(2, 12), vectors(1, 4), st.integers(1, 3))
def test_convolve1d_dilation_equals_a_kernel_with_zeros(x, w, d):
    dilated = np.zeros(d * (len(w) - 1) + 1)
    dilated[::d] = w
    np.testing.assert_allclose(conv.convolve1d(x, w, dilation=d), np.convolve(x, dilated), atol=1e-9)


# ---------------------------------------------------------------- dtypes: float32 in, float32 out
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_keep_the_floating_dtype(dtype):
    rng = np.random.default_rng(0)
    x1, x2, x3 = (rng.normal(size=s).astype(dtype) for s in [(9,), (6, 7), (3, 6, 7)])
    w1, w2, w3 = (rng.normal(size=s).astype(dtype) for s in [(3,), (3, 3), (3, 2, 2)])
    results = [conv.convolve1d(x1, w1), conv.convolve1d(x1, w1, padding=1, stride=2, dilation=2),
               conv.convolve2d(x2, w2), conv.convolve2d(x2, w2, "full"), conv.cross_correlate2d(x2, w2),
               conv.volume_convolve(x3, w3), conv.channel_sum_convolve(x3, w3), conv.convolution_matrix(w2, (6, 7))]
    assert [r.dtype for r in results] == [np.dtype(dtype)] * len(results)
    np.testing.assert_allclose(conv.convolve2d(x2, w2), scipy.signal.convolve2d(x2, w2, "valid"),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_integers_become_float64():
    assert conv.convolve1d([1, 2, 3], [1, 1]).dtype == np.float64
    assert conv.convolve2d(np.ones((3, 3), dtype=np.int32), [[1, 0], [0, 1]]).dtype == np.float64


# ---------------------------------------------------------------- Toeplitz, (6.3)
@given(vectors(), vectors())
def test_toeplitz_times_g_is_the_convolution(f, g):
    T = conv.toeplitz(f, len(g))
    assert T.shape == (len(f) + len(g) - 1, len(g))
    np.testing.assert_allclose(T @ g, conv.convolve1d(f, g), atol=1e-9)
    np.testing.assert_allclose(T, scipy.linalg.convolution_matrix(f, len(g), mode="full"))


@given(vectors(), st.integers(1, 10))
def test_toeplitz_has_constant_diagonals(f, n):
    T = conv.toeplitz(f, n)
    for k in range(-T.shape[1] + 1, T.shape[0]):
        d = np.diagonal(T, offset=-k)
        assert np.all(d == d[0])


def test_chapter_toeplitz_shapes():
    f, g = np.array([1.0, 2.0, 3.0]), np.arange(1.0, 7.0)
    Tf, Tg = conv.toeplitz(f, len(g)), conv.toeplitz(g, len(f))
    assert Tf.shape == (8, 6) and Tg.shape == (8, 3)  # the chapter's 8 x 6 T(f) and 8 x 3 T(g)
    np.testing.assert_allclose(Tf @ g, Tg @ f)
    np.testing.assert_allclose(Tf @ g, np.polynomial.polynomial.polymul(f, g))  # (6.3)


# ---------------------------------------------------------------- 2-D, (6.4)-(6.7)
@st.composite
def kernel_and_input(draw, max_side=9):
    M_h, M_v = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    K_h, K_v = draw(st.integers(1, M_h)), draw(st.integers(1, M_v))
    W = draw(arrays(np.float64, (K_h, K_v), elements=finite))
    x = draw(arrays(np.float64, (M_h, M_v), elements=finite))
    return W, x


@given(kernel_and_input())
def test_convolve2d_valid_matches_scipy(Wx):
    W, x = Wx
    z = conv.convolve2d(x, W)
    assert z.shape == (x.shape[0] - W.shape[0] + 1, x.shape[1] - W.shape[1] + 1)  # (6.6)
    np.testing.assert_allclose(z, scipy.signal.convolve2d(x, W, mode="valid"), atol=1e-8)


@given(matrices(), matrices())
def test_convolve2d_full_matches_scipy_and_commutes(W, x):
    z = conv.convolve2d(x, W, mode="full")
    assert z.shape == (x.shape[0] + W.shape[0] - 1, x.shape[1] + W.shape[1] - 1)  # (6.5)
    np.testing.assert_allclose(z, scipy.signal.convolve2d(x, W, mode="full"), atol=1e-8)
    np.testing.assert_allclose(z, conv.convolve2d(W, x, mode="full"), atol=1e-8)


@given(kernel_and_input())
def test_cross_correlate2d_matches_torch(Wx):
    W, x = Wx
    expected = torch.nn.functional.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(W)[None, None])[0, 0]
    np.testing.assert_allclose(conv.cross_correlate2d(x, W), expected.numpy(), atol=1e-8)
    np.testing.assert_allclose(conv.cross_correlate2d(x, W), conv.convolve2d(x, W[::-1, ::-1]), atol=1e-8)


def test_chapter_figure_6_3_shape_and_first_entry():
    W = np.arange(1.0, 10.0).reshape(3, 3)
    x = np.arange(1.0, 43.0).reshape(6, 7)
    z = conv.convolve2d(x, W)
    assert z.shape == (4, 5)  # 3 x 3 on 6 x 7 gives 4 x 5
    assert z[0, 0] == np.sum(W[::-1, ::-1] * x[:3, :3])  # z_11: flipped W times the top-left window
    assert z[0, 1] == np.sum(W[::-1, ::-1] * x[:3, 1:4])  # z_12: the window slid one column right


# ---------------------------------------------------------------- volumes, (6.8)-(6.10)
@st.composite
def volumes(draw, equal_depth=False):
    M = [draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 6))]
    K = [M[0] if equal_depth else draw(st.integers(1, M[0])), draw(st.integers(1, M[1])), draw(st.integers(1, M[2]))]
    return (draw(arrays(np.float64, tuple(K), elements=finite)), draw(arrays(np.float64, tuple(M), elements=finite)))


@given(volumes())
def test_volume_convolve_matches_scipy_nd(Wx):
    W, x = Wx
    z = conv.volume_convolve(x, W)
    assert z.shape == tuple(m - k + 1 for m, k in zip(x.shape, W.shape))  # (6.8)
    np.testing.assert_allclose(z, scipy.signal.convolve(x, W, mode="valid", method="direct"), atol=1e-8)


@given(volumes(equal_depth=True))
def test_volume_convolve_pairs_channels_in_reverse(Wx):
    W, x = Wx
    z = conv.volume_convolve(x, W)
    assert z.shape[0] == 1
    # (6.9) flips depth: kernel channel K_c-1-i meets input channel i; (6.10) pairs i with i.
    np.testing.assert_allclose(z[0], conv.channel_sum_convolve(x, W[::-1]), atol=1e-8)
    np.testing.assert_allclose(conv.channel_sum_convolve(x, W),
                               sum(conv.convolve2d(x[i], W[i]) for i in range(len(W))), atol=1e-8)


@given(volumes(equal_depth=True))
def test_channel_sum_convolve_is_what_a_layer_computes_with_a_flipped_kernel(Wx):
    W, x = Wx
    layer = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(W[:, ::-1, ::-1].copy())[None])[0, 0]
    np.testing.assert_allclose(conv.channel_sum_convolve(x, W), layer.numpy(), atol=1e-8)


# ---------------------------------------------------------------- the convolution matrix
@given(kernel_and_input(max_side=7), st.sampled_from(["valid", "full"]))
def test_convolution_matrix_reproduces_convolve2d(Wx, mode):
    W, x = Wx
    A = conv.convolution_matrix(W, x.shape, mode=mode)
    np.testing.assert_allclose(A @ x.ravel(), conv.convolve2d(x, W, mode=mode).ravel(), atol=1e-8)


def test_convolution_matrix_is_doubly_blocked_toeplitz():
    rng = np.random.default_rng(0)
    W, (M_h, M_v) = rng.normal(size=(2, 3)), (4, 5)
    A = conv.convolution_matrix(W, (M_h, M_v))
    out_h, out_v = M_h - 1, M_v - 2
    blocks = A.reshape(out_h, out_v, M_h, M_v).transpose(0, 2, 1, 3)  # block (i, r) is out_v x M_v
    for i in range(out_h):
        for r in range(M_h):
            if i + 1 < out_h and r + 1 < M_h:
                np.testing.assert_array_equal(blocks[i, r], blocks[i + 1, r + 1])  # block Toeplitz
            B = blocks[i, r]
            for k in range(-B.shape[1] + 1, B.shape[0]):
                d = np.diagonal(B, offset=-k)
                assert np.all(d == d[0])  # each block Toeplitz


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("call, exc, match", [
    (lambda: conv.convolve1d([], [1.0]), ValueError, "x must not be empty"),
    (lambda: conv.convolve1d([[1.0]], [1.0]), ValueError, r"x must be a 1-D array, got an array of shape \(1, 1\)"),
    (lambda: conv.convolve1d([1.0], [[1.0]]), ValueError, r"w must be a 1-D array"),
    (lambda: conv.convolve1d([1.0], [1.0], mode="same"), ValueError, "mode must be one of 'full', 'valid', got 'same'"),
    (lambda: conv.convolve1d("abc", [1.0]), TypeError, "x must be an array of numbers"),
    (lambda: conv.convolve1d([1.0, 2.0], [1.0], mode="full", padding=1), ValueError, "give mode or padding, not both"),
    (lambda: conv.convolve1d([1.0, 2.0], [1.0], padding=-1), ValueError, r"padding must be a non-negative integer \(>= 0\), got -1"),
    (lambda: conv.convolve1d([1.0, 2.0], [1.0], padding=1.5), TypeError, "padding must be an integer, got float"),
    (lambda: conv.convolve1d([1.0, 2.0], [1.0], stride=0), ValueError, r"stride must be a positive integer \(>= 1\), got 0"),
    (lambda: conv.convolve1d([1.0, 2.0], [1.0], dilation=0), ValueError, r"dilation must be a positive integer \(>= 1\), got 0"),
    (lambda: conv.convolve1d([1.0, 2.0, 3.0], [1.0, 1.0], padding=0, dilation=3), ValueError,
     r"kernel after dilation spans 4 samples \(w of length 2, dilation 3\), more than the padded input's 3"),
    (lambda: conv.toeplitz([1.0, 2.0], 0), ValueError, r"n must be a positive integer \(>= 1\), got 0"),
    (lambda: conv.toeplitz([1.0, 2.0], 2.5), TypeError, "n must be an integer, got float"),
    (lambda: conv.convolve2d(np.ones((3, 5)), np.ones((4, 4))), ValueError, r"W of shape \(4, 4\) is larger than x of shape \(3, 5\) along axis 0"),
    (lambda: conv.convolve2d(np.ones((3, 5)), np.ones(3)), ValueError, "W must be a 2-D array"),
    (lambda: conv.cross_correlate2d(np.ones((0, 5)), np.ones((2, 2))), ValueError, "x must not be empty"),
    (lambda: conv.volume_convolve(np.ones((3, 5, 5)), np.ones((4, 2, 2))), ValueError, "larger than x"),
    (lambda: conv.channel_sum_convolve(np.ones((3, 5, 5)), np.ones((2, 2, 2))), ValueError, r"same number of channels, got x with 3 \(shape \(3, 5, 5\)\) and W with 2"),
    (lambda: conv.convolution_matrix(np.ones((2, 2)), (1, 5)), ValueError, "larger than the input"),
    (lambda: conv.convolution_matrix(np.ones((2, 2)), 5), TypeError, "input_shape must be a pair"),
    (lambda: conv.convolution_matrix(np.ones((2, 2)), (0, 5)), ValueError, r"input_shape\[0\] must be a positive integer"),
])
def test_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
