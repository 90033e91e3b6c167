"""cnnlib.layers.conv2d (Eqs. (6.20), (6.21), with padding, stride, dilation) against PyTorch float64."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from cnnlib import conv, layers, shapes
from test_shapes import geometry  # the same drawn geometries as the output-size tests

ints = st.integers


@st.composite
def conv_case(draw):
    """Random data for a geometry drawn as in test_shapes, with channels, batch and bias."""
    M, K, p, s, d = draw(geometry())
    c_in, c_out = draw(ints(1, 3)), draw(ints(1, 3))
    batch = draw(st.one_of(st.none(), ints(1, 2)))
    rng = np.random.default_rng(draw(ints(0, 2**16)))
    x = rng.normal(size=(c_in, *M) if batch is None else (batch, c_in, *M))
    w = rng.normal(size=(c_out, c_in, *K))
    b = rng.normal(size=c_out) if draw(st.booleans()) else None
    return x, w, b, p, s, d


@settings(max_examples=1500, deadline=None)
@given(conv_case())
def test_conv2d_matches_torch(case):
    x, w, b, p, s, d = case
    xt = torch.from_numpy(x if x.ndim == 4 else x[None])
    want = F.conv2d(xt, torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                    stride=s, padding=p, dilation=d).numpy()
    if x.ndim == 3:
        want = want[0]
    got = layers.conv2d(x, w, b, padding=p, stride=s, dilation=d)
    assert got.shape == want.shape
    assert got.shape[-2:] == shapes.output_size(x.shape[-2:], w.shape[-2:], p, s, d)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_one_channel_is_cross_correlation_not_convolution():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(6, 7)), rng.normal(size=(3, 3))
    z = layers.conv2d(x[None], W[None, None])[0]
    np.testing.assert_allclose(z, conv.cross_correlate2d(W, x), atol=1e-12)
    assert not np.allclose(z, conv.convolve2d(W, x))
    assert z.shape == (4, 5)  # the chapter's 6 x 7 -> 4 x 5


def test_channels_are_summed_and_bias_added():
    rng = np.random.default_rng(1)
    x, W, b = rng.normal(size=(3, 5, 5)), rng.normal(size=(2, 3, 2, 2)), np.array([1.5, -2.0])
    z = layers.conv2d(x, W, b)
    by_channel = sum(conv.cross_correlate2d(W[0, c], x[c]) for c in range(3)) + 1.5
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
