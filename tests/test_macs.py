"""Tests for cnnlib.counting.macs: hand counts of multiply-accumulates against PyTorch's FlopCounterMode."""
import warnings
from collections import OrderedDict

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import counting, models


def counted(model, input_shape):
    """Multiply-accumulates by PyTorch's operation counter (2 FLOPs per multiply-accumulate)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.zeros((1, *input_shape), device=next(model.parameters()).device))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("build, input_shape", [
    (lambda: models.lenet5(), (1, 28, 28)),
    (lambda: models.vgg([8, "M", 16, "M"], in_channels=1, num_classes=10, classifier=(32,), input_size=28), (1, 28, 28)),
    (lambda: models.alexnet(), (3, 224, 224)),
    (lambda: models.googlenet(), (3, 224, 224)),
    (lambda: models.googlenet(variant="torchvision"), (3, 224, 224)),
    (lambda: models.resnet(18), (3, 224, 224)),
    (lambda: models.resnet(20, in_channels=1), (1, 8, 8)),
    (lambda: models.efficientnet(0), (3, 224, 224)),
    (lambda: models.efficientnet(0, lite=True, padding="same"), (3, 224, 224)),
    (lambda: models.InceptionModule(192, 64, 96, 128, 16, 32, 32), (192, 28, 28)),
])
def test_total_matches_flop_counter(build, input_shape):
    with torch.device("meta"):
        model = build()
    table = counting.macs(model, input_shape)
    assert table.total == counted(model, input_shape)
    assert table.total_parameters == sum(p.numel() for p in model.parameters())


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 2),
       st.integers(0, 2), st.integers(1, 2), st.integers(6, 12), st.integers(6, 12))
def test_conv_hand_count(groups, c_in_per, c_out_per, k, stride, padding, dilation, h, w):
    conv = nn.Conv2d(groups * c_in_per, groups * c_out_per, k, stride=stride, padding=padding,
                     dilation=dilation, groups=groups)
    shape = (groups * c_in_per, h, w)
    row, = counting.macs(conv, shape).rows
    out = conv(torch.zeros(1, *shape)).shape
    assert row.output_shape == tuple(out[1:])
    assert row.macs == out[1] * out[2] * out[3] * c_in_per * k * k == counted(conv, shape)


def test_dense_and_pooling_hand_counts():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2), nn.AvgPool2d(2, stride=1),
                        nn.Flatten(), nn.Linear(2 * 3 * 3, 5))
    table = counting.macs(net, (1, 8, 8))
    assert [r.kind for r in table.rows] == ["Convolution", "Max-pooling", "Average-pooling", "Fully connected"]
    assert [r.macs for r in table.rows] == [2 * 8 * 8 * 9, 0, 0, 18 * 5]
    assert [r.pool_ops for r in table.rows] == [0, 2 * 4 * 4 * 3, 2 * 3 * 3 * 3, 0]
    assert table.total == counted(net, (1, 8, 8)) and table.total_pool_ops == 96 + 54


def test_inception_figure_6_13_by_hand():
    block = models.InceptionModule(192, 64, 96, 128, 16, 32, 32)
    hw = 28 * 28
    expected = hw * (64 * 192 + 96 * 192 + 128 * 96 * 9 + 16 * 192 + 32 * 16 * 25 + 32 * 192)
    table = counting.macs(block, (192, 28, 28))
    assert table.total == expected == 128_049_152
    assert len(table.rows) == 7  # six convolutions and the max-pooling


def test_depthwise_convolution_counted_per_group():
    table = counting.macs(models.MBConv(16, 24, 5, 2, 6, se_ratio=0), (16, 56, 56))
    dw = next(r for r in table.rows if "depthwise" in r.name)
    assert dw.macs == 96 * 28 * 28 * 1 * 5 * 5


def test_table_prints_and_converts():
    table = counting.macs(models.lenet5(), (1, 28, 28))
    text = str(table)
    assert "Multiply-accumulates" in text and "416,520 multiply-accumulates" in text
    assert "| Layer number |" in table.to_markdown() and "<table" in table._repr_html_()
    assert list(table.to_dataframe()["macs"]) == [r.macs for r in table.rows]
    lite = counting.macs(models.efficientnet(0, lite=True, padding="same"), (3, 224, 224))
    assert lite.rows[0].kind.startswith("Convolution")


def test_errors():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        counting.macs("lenet", (1, 28, 28))
    with pytest.raises(ValueError, match="input_shape must be a tuple"):
        counting.macs(models.lenet5(), 28)
    with pytest.raises(ValueError, match="the model does not run on inputs of shape"):
        counting.macs(models.lenet5(), (3, 28, 28))


# ---------------------------------------------------------------- every network of cnnlib.models, other layers (issue 19)
@pytest.mark.parametrize("build, input_shape", [
    (lambda: models.vgg19(), (3, 224, 224)),
    (lambda: models.squeezenet1_1(), (3, 224, 224)),
    (lambda: models.localizer(), (1, 32, 32)),
    (lambda: models.Segmenter(), (1, 32, 32)),
    (lambda: models.SiameseNetwork().embedding, (1, 28, 28)),
    (lambda: models.resnet(34), (3, 64, 64)),
    (lambda: models.efficientnet(1), (3, 96, 96)),
    (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1)),
     (1, 16, 16)),
    (lambda: nn.Sequential(nn.Conv1d(2, 6, 5, padding=2), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 20, 3)), (2, 20)),
])
def test_every_network_matches_the_flop_counter(build, input_shape):
    with torch.device("meta"):
        model = build()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing it cannot count
        table = counting.macs(model, input_shape)
    assert table.total == counted(model, input_shape)
    assert table.total_parameters == sum(p.numel() for p in model.parameters())


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 1), st.integers(1, 2), st.integers(3, 8))
def test_transposed_conv_hand_count(groups, c_in_per, c_out_per, k, stride, padding, dilation, h):
    conv = nn.ConvTranspose2d(groups * c_in_per, groups * c_out_per, k, stride=stride, padding=padding,
                              dilation=dilation, groups=groups)
    shape = (groups * c_in_per, h, h + 1)
    row, = counting.macs(conv, shape).rows
    # each input value is spread over the kernel of every output channel of its group
    assert row.macs == groups * c_in_per * h * (h + 1) * c_out_per * k * k == counted(conv, shape)
    assert row.kind == "Convolution (transposed)"


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3), st.integers(8, 20))
def test_conv1d_hand_count(groups, c_in_per, c_out_per, k, stride, n):
    conv = nn.Conv1d(groups * c_in_per, groups * c_out_per, k, stride=stride, groups=groups)
    row, = counting.macs(conv, (groups * c_in_per, n)).rows
    out = (n - k) // stride + 1
    assert row.macs == groups * c_out_per * out * c_in_per * k == counted(conv, (groups * c_in_per, n))


class _FunctionalConv(nn.Module):
    """A convolution done by F.conv2d inside forward, with a fixed kernel (a buffer, not a layer)."""

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(1, 2, 3)
        self.register_buffer("blur", torch.ones(2, 2, 3, 3) / 9)

    def forward(self, x):
        return nn.functional.conv2d(self.first(x), self.blur)


class _OwnWeight(nn.Module):
    """A layer with its own weight and a matrix product in forward: a leaf of a kind macs does not know."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(5, 3))

    def forward(self, x):
        return x @ self.weight.T


def test_work_it_cannot_count_is_a_warning_that_names_it():
    with pytest.warns(UserWarning, match=r"'blur-conv' \(_FunctionalConv\): PyTorch's counter sees 576 "
                                         r"multiply-accumulates there .* counted no work there"):
        table = counting.macs(nn.Sequential(OrderedDict([("blur-conv", _FunctionalConv())])), (1, 8, 8))
    assert table.total == 2 * 6 * 6 * 9  # the Conv2d it knows
    with pytest.warns(UserWarning, match=r"'1' \(_OwnWeight\).*15 multiply-accumulates"):
        counting.macs(nn.Sequential(nn.Flatten(), _OwnWeight()), (1, 1, 3))
    with pytest.warns(UserWarning, match=r"'0' \(Bilinear\)"):
        counting.macs(_Pair(), (4,))


class _Pair(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Bilinear(4, 4, 2))

    def forward(self, x):
        return self[0](x, x)
