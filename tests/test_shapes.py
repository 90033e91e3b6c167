"""cnnlib.shapes (Section 6.3): output_size (Eq. (6.17)), effective_kernel_size, dilate_kernel.

Oracles: the shape of torch.nn.functional.conv2d's actual output, and torch.nn.functional.pad
for the chapter's odd total padding; the chapter's numbers exactly.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from cnnlib import shapes

ints = st.integers


@st.composite
def geometry(draw):
    """A convolution that has at least one output pixel: (M, K, padding, stride, dilation) pairs."""
    K = (draw(ints(1, 5)), draw(ints(1, 5)))
    d = (draw(ints(1, 3)), draw(ints(1, 3)))
    p = (draw(ints(0, 3)), draw(ints(0, 3)))
    s = (draw(ints(1, 4)), draw(ints(1, 4)))
    span = [d_ * (k - 1) + 1 for d_, k in zip(d, K)]
    M = tuple(draw(ints(max(1, sp - 2 * p_), sp - 2 * p_ + 12)) for sp, p_ in zip(span, p))
    return M, K, p, s, d


def test_chapter_numbers():
    assert shapes.output_size((6, 7), (3, 3)) == (4, 5)  # Figure 6.3
    assert shapes.output_size((6, 7), (3, 3), total_padding=(2, 2)) == (6, 7)  # Figure 6.6
    assert shapes.output_size((6, 7), (3, 3), padding=(1, 1)) == (6, 7)
    assert shapes.effective_kernel_size((3, 3), (2, 2)) == (5, 5)  # Figure 6.8
    assert shapes.output_size((6, 7), 3, dilation=(2, 2)) == (2, 3)  # Figure 6.8: z is 2 x 3
    assert shapes.output_size((10, 10), 3, stride=(5, 4)) == (2, 2)  # Figure 6.7: two moves each way
    assert shapes.output_size(224, 3) == 222  # the 224 -> 222 example before the padding section


def test_special_cases_are_6_16_6_18_6_19():
    for M in range(3, 12):
        for K in range(1, M + 1):
            assert shapes.output_size(M, K) == M - K + 1  # (6.16)
            for p in range(0, 5):
                assert shapes.output_size(M, K, total_padding=p) == M - K + p + 1  # (6.18)
                for s in range(1, 5):
                    assert shapes.output_size(M, K, stride=s, total_padding=p) == 1 + (M - K + p) // s  # (6.19)


def test_int_in_int_out_pair_in_pair_out():
    assert isinstance(shapes.output_size(7, 3), int)
    assert shapes.output_size(7, 3, stride=(1, 2)) == (5, 3)
    assert shapes.output_size(7, 3, total_padding=(1, 0)) == (6, 5)
    assert isinstance(shapes.effective_kernel_size(3, 2), int)
    assert shapes.effective_kernel_size(3, (1, 2)) == (3, 5)


@settings(max_examples=2000, deadline=None)
@given(geometry(), st.booleans())
def test_output_size_is_torch_output_shape(geo, as_ints):
    M, K, p, s, d = geo
    x = torch.zeros(1, 1, *M)
    w = torch.zeros(1, 1, *K)
    got_shape = tuple(F.conv2d(x, w, padding=p, stride=s, dilation=d).shape[-2:])
    assert shapes.output_size(M, K, padding=p, stride=s, dilation=d) == got_shape
    assert shapes.output_size(M, K, stride=s, dilation=d, total_padding=(2 * p[0], 2 * p[1])) == got_shape
    if as_ints:  # one axis, all ints: an int back
        out = shapes.output_size(M[0], K[0], p[0], s[0], d[0])
        assert isinstance(out, int) and out == got_shape[0]


@settings(max_examples=200, deadline=None)
@given(geometry(), ints(0, 1), ints(0, 1))
def test_odd_total_padding_is_asymmetric_torch_pad(geo, extra_h, extra_v):
    """The chapter's odd p_h: one more zero row on one side, which PyTorch does with F.pad."""
    M, K, p, s, d = geo
    total = (2 * p[0] + extra_h, 2 * p[1] + extra_v)
    x = F.pad(torch.zeros(1, 1, *M), (p[1], p[1] + extra_v, p[0], p[0] + extra_h))
    want = tuple(F.conv2d(x, torch.zeros(1, 1, *K), stride=s, dilation=d).shape[-2:])
    assert shapes.output_size(M, K, stride=s, dilation=d, total_padding=total) == want


@settings(max_examples=100, deadline=None)
@given(ints(1, 4), ints(1, 4), ints(1, 3), ints(1, 3), ints(1, 3), ints(0, 2**16))
def test_dilated_kernel_valid_correlation_is_torch_dilation(K_h, K_v, d_h, d_v, c_out, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(c_out, 2, K_h, K_v))
    D = shapes.dilate_kernel(W, (d_h, d_v))
    assert D.shape[-2:] == shapes.effective_kernel_size((K_h, K_v), (d_h, d_v))
    assert np.count_nonzero(D == 0) >= D.size - W.size  # only zeros were added
    np.testing.assert_array_equal(D[..., ::d_h, ::d_v], W)
    x = torch.from_numpy(rng.normal(size=(1, 2, 12, 13)))
    want = F.conv2d(x, torch.from_numpy(W), dilation=(d_h, d_v))
    got = F.conv2d(x, torch.from_numpy(D))
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_dilate_kernel_figure_6_8():
    W = np.arange(1.0, 10.0).reshape(3, 3)
    D = shapes.dilate_kernel(W, 2)
    assert D.shape == (5, 5)
    assert np.count_nonzero(D) == 9
    np.testing.assert_array_equal(D[1], 0)
    np.testing.assert_array_equal(D[:, 1], 0)
    np.testing.assert_array_equal(shapes.dilate_kernel(W, 1), W)


def test_errors():
    with pytest.raises(ValueError, match="not both"):
        shapes.output_size(6, 3, padding=1, total_padding=2)
    with pytest.raises(ValueError, match=r"kernel after dilation, 5 x 5, is larger than the padded input, 4 x 4"):
        shapes.output_size(4, 3, dilation=2)
    with pytest.raises(ValueError, match=r"larger than the padded input, 2 x 7"):
        shapes.output_size((2, 7), 3)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        shapes.output_size(6, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        shapes.output_size(6, 3, padding=-1)
    with pytest.raises(ValueError, match="total_padding must be an int >= 0"):
        shapes.output_size(6, 3, total_padding=(1, -1))
    with pytest.raises(ValueError, match="dilation must be an int >= 1"):
        shapes.output_size(6, 3, dilation=0)
    with pytest.raises(ValueError, match="M must be an int >= 1"):
        shapes.output_size(0, 1)
    with pytest.raises(TypeError, match="K must be an int or a pair of ints"):
        shapes.output_size(6, 2.5)
    with pytest.raises(ValueError, match="dilation must be an int >= 1"):
        shapes.effective_kernel_size(3, 0)
    with pytest.raises(ValueError, match="W must have at least 2 axes"):
        shapes.dilate_kernel([1, 2, 3], 2)
    with pytest.raises(ValueError, match="dilation must be an int >= 1"):
        shapes.dilate_kernel(np.ones((3, 3)), (2, 0))
    with pytest.raises(TypeError, match="W must be an array of numbers"):
        shapes.dilate_kernel("abc", 2)


# ---------------------------------------------------------------- padding="same" / "valid" (issue 12)
@settings(max_examples=100, deadline=None)
@given(ints(1, 6), ints(1, 6), ints(1, 3), ints(1, 3), ints(0, 8), ints(0, 8))
def test_same_and_valid_padding_are_torch_output_shape(K_h, K_v, d_h, d_v, extra_h, extra_v):
    span = shapes.effective_kernel_size((K_h, K_v), (d_h, d_v))
    M = (span[0] + extra_h, span[1] + extra_v)
    x, w = torch.zeros(1, 1, *M), torch.zeros(1, 1, K_h, K_v)
    for name in ("same", "valid"):
        want = tuple(F.conv2d(x, w, padding=name, dilation=(d_h, d_v)).shape[-2:])
        assert shapes.output_size(M, (K_h, K_v), padding=name, dilation=(d_h, d_v)) == want
    assert shapes.output_size(M, (K_h, K_v), padding="same", dilation=(d_h, d_v)) == M
    # the per-side split adds up to the total d (K - 1), the smaller half first
    (top, bottom), (left, right) = shapes.per_side_padding("same", (K_h, K_v), dilation=(d_h, d_v))
    assert (top + bottom, left + right) == (span[0] - 1, span[1] - 1)
    assert 0 <= bottom - top <= 1 and 0 <= right - left <= 1


def test_padding_names_errors():
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same', got 'full'"):
        shapes.output_size(6, 3, padding="full")
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1 .* stride 2"):
        shapes.output_size(6, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="not both"):
        shapes.output_size(6, 3, padding="same", total_padding=2)
    with pytest.raises(TypeError, match="padding must be an int or a pair of ints"):
        shapes.per_side_padding(1.5, 3)
