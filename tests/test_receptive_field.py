"""cnnlib.shapes.receptive_field against a brute-force oracle: the support of a backpropagated one-hot gradient."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from cnnlib import models, shapes


@st.composite
def stack(draw):
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "pool", "avg", "relu"]))
        k = draw(st.integers(1, 4))
        s = draw(st.integers(1, 3))
        p = draw(st.integers(0, k // 2))
        if kind == "conv":
            layers.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=draw(st.integers(1, 2)), bias=False))
        elif kind == "pool":
            layers.append(nn.MaxPool2d(k, stride=s, padding=p))
        elif kind == "avg":
            layers.append(nn.AvgPool2d(k, stride=s, padding=p))
        else:
            layers.append(nn.ReLU())
    return layers


def _oracle_model(layers):
    """Same geometry, but every path carries a positive weight: convs of ones, max-pools as avg-pools."""
    out = []
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            conv = nn.Conv2d(1, 1, layer.kernel_size, layer.stride, layer.padding, layer.dilation, bias=False).double()
            nn.init.ones_(conv.weight)
            out.append(conv)
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            out.append(nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, count_include_pad=True))
    return nn.Sequential(*out)


@settings(max_examples=60, deadline=None)
@given(stack())
def test_field_is_the_support_of_the_gradient(layers):
    rows = shapes.receptive_field(nn.Sequential(*layers), (1, 200, 200))
    last = rows[-1]
    oracle = _oracle_model(layers)
    x = torch.ones(1, 1, 200, 200, dtype=torch.float64, requires_grad=True)
    y = oracle(x)
    assert tuple(y.shape[-2:]) == last.output_size
    # an output unit whose field lies inside the image (away from the padding)
    i = next(i for i in range(last.output_size[0]) if last.bounds(i, 0)[0][0] >= 0)
    k = next(k for k in range(last.output_size[1]) if last.bounds(0, k)[1][0] >= 0)
    (top, bottom), (left, right) = last.bounds(i, k)
    if bottom >= 200 or right >= 200:
        return
    y[0, 0, i, k].backward()
    rows_nz, cols_nz = np.nonzero(x.grad[0, 0].numpy())
    assert (rows_nz.min(), rows_nz.max()) == (top, bottom)
    assert (cols_nz.min(), cols_nz.max()) == (left, right)


def test_known_values_for_stacks_of_3x3_convolutions():
    # n stacked 3x3 convolutions see 2n + 1 pixels (Simonyan and Zisserman's argument for VGG)
    for n in range(1, 6):
        net = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(n)])
        assert shapes.receptive_field(net, (32, 32))[-1].size == (2 * n + 1, 2 * n + 1)


def test_vgg19_last_pool():
    with torch.device("meta"):
        model = models.vgg19()
    rows = shapes.receptive_field(model, (3, 224, 224))
    assert rows[-1].kind == "MaxPool2d" and rows[-1].output_size == (7, 7)
    # by hand: each 3x3 conv adds 2 * jump, each 2x2 pool adds 1 * jump and doubles the jump
    size, jump = 1, 1
    for item in models.VGG_CONFIGS["vgg19"]:
        size, jump = (size + jump, 2 * jump) if item == "M" else (size + 2 * jump, jump)
    assert rows[-1].jump == (jump, jump) == (32, 32) and rows[-1].size == (size, size) == (268, 268)
    assert len(rows) == 1 + 16 * 2 + 5  # stops at the flatten


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_same_padding_and_ceil_mode_match_torch():
    net = nn.Sequential(nn.Conv2d(1, 1, 4, padding="same"), nn.MaxPool2d(2, ceil_mode=True), nn.Conv2d(1, 1, 3, padding="valid"))
    rows = shapes.receptive_field(net, (1, 11, 9))
    assert rows[-1].output_size == tuple(net(torch.zeros(1, 1, 11, 9)).shape[-2:])


def test_renders_as_text_markdown_and_html():
    rows = shapes.receptive_field(models.lenet5(), (1, 28, 28))
    assert "receptive field" in str(rows) and "| # |" in rows.to_markdown() and "<table>" in rows._repr_html_()
    assert rows[-1].size == (16, 16)


@pytest.mark.parametrize("model, shape, error, match", [
    ("net", (1, 8, 8), TypeError, "model must be a torch.nn.Module, got str"),
    (nn.Sequential(nn.Conv2d(1, 1, 3)), (8,), ValueError, r"input_shape must be \(C, H, W\) or \(H, W\)"),
    (nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 0, 8), ValueError, "input_shape must be a positive integer"),
    (nn.Sequential(nn.Conv2d(1, 1, 5)), (1, 3, 8), ValueError, r"layer 0 \(Conv2d\) gets an input of size \(3, 8\)"),
    (nn.Sequential(nn.Upsample(scale_factor=2)), (1, 4, 4), TypeError, r"does not know how layer 0 \(Upsample\)"),
])
def test_errors(model, shape, error, match):
    with pytest.raises(error, match=match):
        shapes.receptive_field(model, shape)
