"""cnnlib.layers.conv2d (Eqs. (6.20), (6.21), with padding, stride, dilation) against PyTorch float64."""
import contextlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from cnnlib import conv, layers, shapes
from test_shapes import geometry  # the same drawn geometries as the output-size tests

ints = st.integers


def layer_data(draw, M, K, transposed=False):
    """Input (batched or not), weights and an optional bias with 1 to 3 channels in and out."""
    c_in, c_out = draw(ints(1, 3)), draw(ints(1, 3))
    batch = draw(st.one_of(st.none(), ints(1, 2)))
    rng = np.random.default_rng(draw(ints(0, 2**16)))
    x = rng.normal(size=(c_in, *M) if batch is None else (batch, c_in, *M))
    w = rng.normal(size=(c_in, c_out, *K) if transposed else (c_out, c_in, *K))
    b = rng.normal(size=c_out) if draw(st.booleans()) else None
    return x, w, b


@st.composite
def conv_case(draw):
    """Random data for a geometry drawn as in test_shapes, with channels, batch and bias."""
    M, K, p, s, d = draw(geometry())
    return (*layer_data(draw, M, K), p, s, d)


def compare_with_torch(ours, theirs, case, tol=1e-10):
    """``ours`` (a cnnlib layer) and ``theirs`` (F.conv1d or F.conv2d) on one drawn case, batched or not."""
    x, w, b, p, s, d = case
    batched = x.ndim == w.ndim
    xt = torch.from_numpy(x if batched else x[None])
    want = theirs(xt, torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                  stride=s, padding=p, dilation=d).numpy()
    want = want if batched else want[0]
    got = ours(x, w, b, padding=p, stride=s, dilation=d)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    return got


@settings(max_examples=1500, deadline=None)
@given(conv_case())
def test_conv2d_matches_torch(case):
    x, w, b, p, s, d = case
    got = compare_with_torch(layers.conv2d, F.conv2d, case)
    assert got.shape[-2:] == shapes.output_size(x.shape[-2:], w.shape[-2:], p, s, d)


def test_one_channel_is_cross_correlation_not_convolution():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(6, 7)), rng.normal(size=(3, 3))
    z = layers.conv2d(x[None], W[None, None])[0]
    np.testing.assert_allclose(z, conv.cross_correlate2d(x, W), atol=1e-12)
    assert not np.allclose(z, conv.convolve2d(x, W))
    assert z.shape == (4, 5)  # the chapter's 6 x 7 -> 4 x 5


def test_channels_are_summed_and_bias_added():
    rng = np.random.default_rng(1)
    x, W, b = rng.normal(size=(3, 5, 5)), rng.normal(size=(2, 3, 2, 2)), np.array([1.5, -2.0])
    z = layers.conv2d(x, W, b)
    by_channel = sum(conv.cross_correlate2d(x[c], W[0, c]) for c in range(3)) + 1.5
    np.testing.assert_allclose(z[0], by_channel, atol=1e-12)
    np.testing.assert_allclose(z[1] - layers.conv2d(x, W)[1], -2.0, atol=1e-12)


def test_dilation_equals_dilated_kernel_and_padding_equals_np_pad():
    rng = np.random.default_rng(2)
    x, W = rng.normal(size=(2, 8, 9)), rng.normal(size=(3, 2, 3, 2))
    np.testing.assert_allclose(layers.conv2d(x, W, dilation=(2, 3)),
                               layers.conv2d(x, shapes.dilate_kernel(W, (2, 3))), atol=1e-12)
    np.testing.assert_allclose(layers.conv2d(x, W, padding=(1, 2)),
                               layers.conv2d(np.pad(x, ((0, 0), (1, 1), (2, 2))), W), atol=1e-12)
    np.testing.assert_allclose(layers.conv2d(x, W, stride=(2, 3)), layers.conv2d(x, W)[:, ::2, ::3], atol=1e-12)


def test_errors():
    x, W = np.ones((2, 6, 7)), np.ones((4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"kernel after dilation, 5 x 5 .* larger than the padded input, 6 x 4"):
        layers.conv2d(np.ones((2, 6, 4)), W, dilation=2)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        layers.conv2d(x, W, stride=0)
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        layers.conv2d(x, W, padding=(0, -1))
    with pytest.raises(ValueError, match="dilation must be an int >= 1"):
        layers.conv2d(x, W, dilation=0)
    with pytest.raises(ValueError, match=r"x has 3 channels .* W expects C_in = 2"):
        layers.conv2d(np.ones((3, 6, 7)), W)
    with pytest.raises(ValueError, match="x must be a 3-D or 4-D array"):
        layers.conv2d(np.ones((6, 7)), W)
    with pytest.raises(ValueError, match="W must be a 4-D array"):
        layers.conv2d(x, np.ones((3, 3)))
    with pytest.raises(ValueError, match="b must have one entry per output channel, C_out = 4, got length 3"):
        layers.conv2d(x, W, b=np.ones(3))
    with pytest.raises(ValueError, match="b must be a 1-D array"):
        layers.conv2d(x, W, b=np.ones((4, 1)))
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        layers.conv2d("image", W)


# ---------------------------------------------------------------- padding names, dtypes, conv1d (issue 12)
@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch notes that it copies the input
@settings(max_examples=100, deadline=None)
@given(ints(1, 4), ints(1, 4), ints(1, 2), ints(1, 2), ints(0, 5), ints(0, 5), ints(1, 3), ints(1, 3),
       st.sampled_from(["same", "valid"]), ints(0, 2**16))
def test_conv2d_padding_names_match_torch(K_h, K_v, d_h, d_v, extra_h, extra_v, c_in, c_out, name, seed):
    rng = np.random.default_rng(seed)
    span = shapes.effective_kernel_size((K_h, K_v), (d_h, d_v))
    x = rng.normal(size=(2, c_in, span[0] + extra_h, span[1] + extra_v))
    w, b = rng.normal(size=(c_out, c_in, K_h, K_v)), rng.normal(size=c_out)
    want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), padding=name, dilation=(d_h, d_v))
    got = layers.conv2d(x, w, b, padding=name, dilation=(d_h, d_v))
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-10)
    if name == "same":
        assert got.shape[-2:] == x.shape[-2:]


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-12)])
def test_conv2d_and_conv1d_keep_the_floating_dtype(dtype, rtol):
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 3, 9, 8)).astype(dtype), rng.normal(size=(4, 3, 3, 2)).astype(dtype), np.ones(4, dtype)
    z = layers.conv2d(x, w, b, padding=1, stride=2)
    assert z.dtype == dtype
    want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), padding=1, stride=2).numpy()
    np.testing.assert_allclose(z, want, rtol=rtol, atol=rtol)
    assert layers.conv1d(x[:, :, 0], w[:, :, 0], b).dtype == dtype
    assert layers.conv2d(np.ones((1, 4, 4), dtype=int), np.ones((1, 1, 2, 2), dtype=int)).dtype == np.float64
    # pooling too: float32 in, float32 out, equal to PyTorch's
    for ours, theirs, kwargs in [(layers.max_pool2d, F.max_pool2d, {}), (layers.avg_pool2d, F.avg_pool2d, {}),
                                 (layers.avg_pool2d, F.avg_pool2d, {"count_include_pad": False})]:
        pooled = ours(x, 3, 2, 1, **kwargs)
        assert pooled.dtype == dtype
        np.testing.assert_allclose(pooled, theirs(torch.from_numpy(x), 3, 2, 1, **kwargs).numpy(), rtol=rtol, atol=rtol)


# ---------------------------------------------------------------- padding without a padded copy (issue 20)
@st.composite
def padded_case(draw):
    """Padding (up to 8, often beyond the kernel's reach) with stride and dilation, unequal along
    the two axes, float32 or float64, and a tile size that makes conv2d cut the work into bands
    of output rows (tiny), whole images (medium) or one tile (the default)."""
    K = draw(ints(1, 5)), draw(ints(1, 5))
    d = draw(ints(1, 3)), draw(ints(1, 3))
    s = draw(ints(1, 4)), draw(ints(1, 4))
    p = draw(ints(0, 8)), draw(ints(0, 8))
    span = [d_ * (k - 1) + 1 for d_, k in zip(d, K)]
    M = tuple(draw(ints(max(1, sp - 2 * p_), max(1, sp - 2 * p_) + 10)) for sp, p_ in zip(span, p))
    x, w, b = layer_data(draw, M, K)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    tile_bytes = draw(st.sampled_from([1, 700, 1 << 20]))
    return x.astype(dtype), w.astype(dtype), b if b is None else b.astype(dtype), p, s, d, tile_bytes


@contextlib.contextmanager
def tiles_of(n_bytes):
    """conv2d builds its patch matrix in tiles of at most ``n_bytes`` (at least one output row) meanwhile."""
    saved, layers._TILE_BYTES = layers._TILE_BYTES, n_bytes
    try:
        yield
    finally:
        layers._TILE_BYTES = saved


@settings(max_examples=300, deadline=None)
@given(padded_case())
def test_padded_conv2d_matches_torch(case):
    *case, tile_bytes = case
    with tiles_of(tile_bytes):
        got = compare_with_torch(layers.conv2d, F.conv2d, case, tol=1e-5 if case[0].dtype == np.float32 else 1e-12)
    assert got.dtype == case[0].dtype


def test_padding_beyond_the_kernel_gives_the_bias_alone():
    """Output pixels whose whole window lies in the padding are the bias, in every tile."""
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(3, 2, 4, 5)), rng.normal(size=(2, 2, 2, 3)), np.array([0.5, -1.0])
    with tiles_of(1):  # one output row per tile
        z = layers.conv2d(x, w, b, padding=(4, 5), stride=(1, 2))
    want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), padding=(4, 5), stride=(1, 2))
    np.testing.assert_allclose(z, want.numpy(), atol=1e-12)
    np.testing.assert_array_equal(z[:, :, :3], np.broadcast_to(b[:, None, None], z[:, :, :3].shape))


def test_padding_makes_no_padded_copy():
    """Peak memory stays far below the input's size: no padded copy, the patch matrix built in tiles."""
    tracemalloc = pytest.importorskip("tracemalloc")
    x = np.ones((1, 1, 1500, 1500))  # 18 MB
    tracemalloc.start()
    try:
        z = layers.conv2d(x, np.ones((1, 1, 3, 3)), padding=1, stride=4)  # 375 x 375 outputs: 1.1 MB
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert z[0, 0, 0, 0] == 4.0 and z[0, 0, 1, 1] == 9.0  # a corner sees 4 input pixels, the interior 9
    assert peak < 0.5 * x.nbytes, f"conv2d allocated {peak / 1e6:.1f} MB for an {x.nbytes / 1e6:.0f} MB input"


@st.composite
def conv1d_case(draw):
    K, d, s, p = draw(ints(1, 5)), draw(ints(1, 3)), draw(ints(1, 3)), draw(ints(0, 3))
    span = d * (K - 1) + 1
    L = draw(ints(max(1, span - 2 * p), span - 2 * p + 12))
    return (*layer_data(draw, (L,), (K,)), p, s, d)


@settings(max_examples=100, deadline=None)
@given(conv1d_case())
def test_conv1d_matches_torch(case):
    x, w, b, p, s, d = case
    compare_with_torch(layers.conv1d, F.conv1d, case)
    # one channel in and out: conv.convolve1d, Eq. (6.1), with the kernel flipped
    row, kernel = x.reshape(-1, x.shape[-1])[0], w[0, 0]
    one = layers.conv1d(row[None], kernel[None, None], padding=p, stride=s, dilation=d)[0]
    np.testing.assert_allclose(one, conv.convolve1d(row, kernel[::-1], padding=p, stride=s, dilation=d), atol=1e-10)


def test_conv1d_same_matches_torch():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 3, 10)), rng.normal(size=(2, 3, 4))
    want = F.conv1d(torch.from_numpy(x), torch.from_numpy(w), padding="same", dilation=2).numpy()
    np.testing.assert_allclose(layers.conv1d(x, w, padding="same", dilation=2), want, atol=1e-12)


def test_new_errors():
    x, W = np.ones((2, 6, 7)), np.ones((4, 2, 3, 3))
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same', got 'full'"):
        layers.conv2d(x, W, padding="full")
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1"):
        layers.conv2d(x, W, padding="same", stride=2)
    x1, W1 = np.ones((2, 6)), np.ones((4, 2, 3))
    with pytest.raises(ValueError, match="x must be a 2-D or 3-D array"):
        layers.conv1d(np.ones(6), W1)
    with pytest.raises(ValueError, match="W must be a 3-D array"):
        layers.conv1d(x1, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"x has 3 channels .* W expects C_in = 2"):
        layers.conv1d(np.ones((3, 6)), W1)
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1 \(as in PyTorch\), got stride 2"):
        layers.conv1d(x1, W1, padding="same", stride=2)
    with pytest.raises(ValueError, match="padding must be a non-negative integer"):
        layers.conv1d(x1, W1, padding=-1)
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same'"):
        layers.conv1d(x1, W1, padding="full")
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        layers.conv1d(x1, W1, stride=0)
    with pytest.raises(ValueError, match=r"kernel after dilation spans 7 samples \(W of length 3, dilation 3\)"):
        layers.conv1d(x1, W1, dilation=3)
    with pytest.raises(ValueError, match="b must have one entry per output channel, C_out = 4, got length 2"):
        layers.conv1d(x1, W1, b=np.ones(2))


# ---------------------------------------------------------------- transposed convolution (issue 12, optional)
@st.composite
def transpose_case(draw):
    K, d, s = (draw(ints(1, 4)), draw(ints(1, 4))), (draw(ints(1, 2)), draw(ints(1, 2))), (draw(ints(1, 3)), draw(ints(1, 3)))
    M = (draw(ints(1, 5)), draw(ints(1, 5)))
    o = tuple(draw(ints(0, max(s_, d_) - 1)) for s_, d_ in zip(s, d))
    full = [(m - 1) * s_ + d_ * (k - 1) + 1 + o_ for m, s_, d_, k, o_ in zip(M, s, d, K, o)]
    p = tuple(draw(ints(0, (f - 1) // 2)) for f in full)
    return (*layer_data(draw, M, K, transposed=True), p, s, d, o)


@settings(max_examples=100, deadline=None)
@given(transpose_case())
def test_conv_transpose2d_matches_torch(case):
    x, w, b, p, s, d, o = case
    batched = x.ndim == 4
    want = F.conv_transpose2d(torch.from_numpy(x if batched else x[None]), torch.from_numpy(w),
                              None if b is None else torch.from_numpy(b), stride=s, padding=p, output_padding=o,
                              dilation=d).numpy()
    got = layers.conv_transpose2d(x, w, b, padding=p, stride=s, dilation=d, output_padding=o)
    np.testing.assert_allclose(got, want if batched else want[0], rtol=1e-10, atol=1e-10)


@settings(max_examples=100, deadline=None)
@given(conv_case())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case):
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)>: the transpose of the layer's matrix."""
    x, w, _, p, s, d = case
    z = layers.conv2d(x, w, padding=p, stride=s, dilation=d)
    y = np.random.default_rng(0).normal(size=z.shape)
    # output_padding gives back the rows (columns) of x that the strided conv2d never reached
    span = shapes.effective_kernel_size(w.shape[-2:], d)
    o = tuple((m + 2 * p_ - sp) % s_ for m, p_, sp, s_ in zip(x.shape[-2:], p, span, s))  # always < stride
    back = layers.conv_transpose2d(y, w, padding=p, stride=s, dilation=d, output_padding=o)
    assert back.shape == x.shape
    assert np.isclose(np.sum(z * y), np.sum(x * back), rtol=1e-9, atol=1e-9)


def test_conv_transpose2d_is_the_transposed_convolution_matrix():
    rng = np.random.default_rng(5)
    x, W, y = rng.normal(size=(5, 6)), rng.normal(size=(2, 3)), rng.normal(size=(4, 4))
    A = conv.convolution_matrix(W[::-1, ::-1], x.shape)  # the matrix of the cross-correlation with W
    np.testing.assert_allclose(A @ x.ravel(), layers.conv2d(x[None], W[None, None])[0].ravel(), atol=1e-12)
    np.testing.assert_allclose(A.T @ y.ravel(), layers.conv_transpose2d(y[None], W[None, None])[0].ravel(), atol=1e-12)


def test_conv_transpose2d_errors():
    x, W = np.ones((2, 3, 3)), np.ones((2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"x has 3 channels .* W expects C_in = 2 .* \(C_in, C_out, K_h, K_v\)"):
        layers.conv_transpose2d(np.ones((3, 3, 3)), W)
    with pytest.raises(ValueError, match="output_padding must be smaller than the stride or the dilation"):
        layers.conv_transpose2d(x, W, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"padding 3 removes the whole 5 x 5 result: no output"):
        layers.conv_transpose2d(x, W, padding=3)
    with pytest.raises(ValueError, match="b must have one entry per output channel, C_out = 4, got length 2"):
        layers.conv_transpose2d(x, W, b=np.ones(2))
    with pytest.raises(ValueError, match="W must be a 4-D array"):
        layers.conv_transpose2d(x, np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        layers.conv_transpose2d(x, W, stride=0)
    assert layers.conv_transpose2d(x.astype(np.float32), W.astype(np.float32)).dtype == np.float32
