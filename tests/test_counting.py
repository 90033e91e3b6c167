"""cnnlib.counting.conv_params (Eq. (6.23)) and dense_params against PyTorch's own counts."""
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from cnnlib import counting


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 7), st.integers(1, 7), st.booleans())
def test_conv_params_is_nn_conv2d(c_in, c_out, K_h, K_v, bias):
    with torch.device("meta"):
        layer = nn.Conv2d(c_in, c_out, (K_h, K_v), bias=bias)
    assert counting.conv_params(c_in, c_out, (K_h, K_v), bias=bias) == n_params(layer)
    assert counting.conv_params(c_in, c_out, (K_h, K_v), bias) == c_out * (c_in * K_h * K_v + bias)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 500), st.booleans())
def test_dense_params_is_nn_linear(n_in, n_out, bias):
    with torch.device("meta"):
        layer = nn.Linear(n_in, n_out, bias=bias)
    assert counting.dense_params(n_in, n_out, bias=bias) == n_params(layer)


def test_chapter_numbers():
    assert counting.dense_params(224 * 224, 222 * 222) == 2_472_923_268  # Section 6.3
    assert counting.conv_params(1, 1, 3) == 10
    assert counting.conv_params(3, 64, 3) == 1_792  # VGG19 layer 1 (Table 6.1)
    assert counting.conv_params(512, 512, 3) == 2_359_808
    assert counting.conv_params(512, 8, 1) == 4_104  # the 1 x 1 reduction (the chapter prints 4,112)


def test_errors():
    with pytest.raises(ValueError, match="c_in must be a positive integer"):
        counting.conv_params(0, 4, 3)
    with pytest.raises(TypeError, match="c_out must be an integer"):
        counting.conv_params(3, 4.0, 3)
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        counting.conv_params(3, 4, (3, 0))
    with pytest.raises(TypeError, match="bias must be True or False"):
        counting.conv_params(3, 4, 3, bias=1)
    with pytest.raises(ValueError, match="n_out must be a positive integer"):
        counting.dense_params(3, 0)
    with pytest.raises(TypeError, match="bias must be True or False"):
        counting.dense_params(3, 4, bias="yes")
