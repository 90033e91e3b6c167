"""cnnlib.layers.max_pool2d / avg_pool2d against torch.nn.functional in float64 (Section 6.4, Figure 6.11)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from cnnlib import layers


@st.composite
def pooling_case(draw):
    K = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    p = (draw(st.integers(0, K[0] // 2)), draw(st.integers(0, K[1] // 2)))
    H = draw(st.integers(max(1, K[0] - 2 * p[0]), 9))
    W = draw(st.integers(max(1, K[1] - 2 * p[1]), 9))
    batch = draw(st.booleans())
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W) if batch else (draw(st.integers(1, 3)), H, W)
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).normal(size=shape), K, s, p


@settings(max_examples=60, deadline=None)
@given(pooling_case())
def test_max_pool2d_matches_torch(case):
    x, K, s, p = case
    want = F.max_pool2d(torch.from_numpy(x), K, stride=s, padding=p).numpy()
    np.testing.assert_array_equal(layers.max_pool2d(x, K, s, p), want)


@settings(max_examples=60, deadline=None)
@given(pooling_case(), st.booleans())
def test_avg_pool2d_matches_torch(case, include):
    x, K, s, p = case
    want = F.avg_pool2d(torch.from_numpy(x), K, stride=s, padding=p, count_include_pad=include).numpy()
    np.testing.assert_allclose(layers.avg_pool2d(x, K, s, p, count_include_pad=include), want, rtol=1e-12, atol=1e-12)


def test_default_stride_is_the_kernel_size_and_channels_are_kept():
    x = np.arange(2 * 6 * 8, dtype=float).reshape(2, 6, 8)
    out = layers.max_pool2d(x, 2)
    assert out.shape == (2, 3, 4)  # channels kept, height and width halved
    np.testing.assert_array_equal(out, x[:, 1::2, 1::2])  # increasing values: the max is the bottom-right


@pytest.mark.parametrize("fn", [layers.max_pool2d, layers.avg_pool2d])
@pytest.mark.parametrize("args, error, match", [
    (([[1.0, 2.0]], 1), ValueError, r"x must be a 3-D or 4-D array, got an array of shape \(1, 2\)"),
    ((np.zeros((1, 4, 4)), 0), ValueError, "kernel_size must be an int >= 1"),
    ((np.zeros((1, 4, 4)), 2, (1, 0)), ValueError, "stride must be an int >= 1"),
    ((np.zeros((1, 4, 4)), 2, 1, -1), ValueError, "padding must be an int >= 0"),
    ((np.zeros((1, 4, 4)), 2, 1, 2), ValueError, "padding must be at most half the kernel size"),
    ((np.zeros((1, 4, 4)), 5), ValueError, r"kernel_size \(5, 5\) is larger than the padded input \(4, 4\)"),
    (("abc", 2), TypeError, "x must be an array of numbers"),
    ((np.zeros((1, 4, 4)), 2.5), TypeError, "kernel_size must be an int or a pair of ints"),
])
def test_errors(fn, args, error, match):
    with pytest.raises(error, match=match):
        fn(*args)


def test_count_include_pad_must_be_bool():
    with pytest.raises(TypeError, match="count_include_pad must be True or False, got str 'yes'"):
        layers.avg_pool2d(np.zeros((1, 4, 4)), 2, count_include_pad="yes")
