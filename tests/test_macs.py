"""Tests for cnnlib.counting.macs: hand counts of multiply-accumulates against PyTorch's FlopCounterMode."""
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
