"""cnnlib.shapes.receptive_field against a brute-force oracle: the support of a backpropagated one-hot gradient."""
import copy
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


# ---------------------------------------------------------------- branched networks (issue 19)
def _positive_twin(model):
    """The same network with every path positive: weights 1 / fan-in, biases 0, max-pools as average
    pools over the same windows, LRN (which mixes channels only) left out. The gradient of an output
    unit with respect to the input is then nonzero exactly on the unit's receptive field."""
    twin = copy.deepcopy(model)
    for module in list(twin.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.MaxPool2d):
                setattr(module, name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                   ceil_mode=child.ceil_mode, count_include_pad=True))
            elif isinstance(child, nn.LocalResponseNorm):
                setattr(module, name, nn.Identity())
    with torch.no_grad():
        for m in twin.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
    return twin.eval()


def _support(features, unit, size):
    x = torch.ones(1, 3, size, size, requires_grad=True)
    features(x)[0, :, unit[0], unit[1]].sum().backward()
    rows, cols = np.nonzero(x.grad[0].abs().sum(0).numpy())
    return (rows.min(), rows.max()), (cols.min(), cols.max())


@pytest.mark.parametrize("build, field", [(lambda: models.resnet(18), 435), (lambda: models.googlenet(), 715)])
def test_the_largest_path_through_branches_is_the_gradients_support(build, field):
    """Residual blocks and inception modules: the field is the largest path through the branches (the
    shortcut's 1 x 1 convolutions and the parallel branches are not layers in sequence: walking them
    in sequence gave 1,891 for ResNet-18 and 1,339 for GoogLeNet). GoogLeNet's paper variant has the
    3 x 3 / 2 pool4 of its Table 1: 16 more than with a 2 x 2 pool (the jump there is 16)."""
    torch.manual_seed(0)
    model = build()
    rows = shapes.receptive_field(model, (3, 224, 224))
    assert rows[-1].size == (field, field) and rows[-1].jump == (32, 32)
    size = 480  # large enough for one edge of the field of a corner unit to lie inside the image
    last = shapes.receptive_field(model, (3, size, size))[-1]
    twin = _positive_twin(model)
    h, w = last.output_size
    (top, _), (left, _) = last.bounds(h - 1, w - 1)  # the far corner's field starts inside the image
    assert top > 0 and left > 0
    assert [a for a, _ in _support(twin.features, (h - 1, w - 1), size)] == [top, left]
    (_, bottom), (_, right) = last.bounds(0, 0)
    assert bottom < size - 1 and right < size - 1
    assert [b for _, b in _support(twin.features, (0, 0), size)] == [bottom, right]


def test_fire_branches_and_the_merge_row():
    with torch.device("meta"):
        model = models.squeezenet1_1()
    rows = {(r.name, r.kind): r for r in shapes.receptive_field(model, (3, 224, 224))}
    one, three = rows[("features.fire2.expand1x1", "Conv2d")], rows[("features.fire2.expand3x3", "Conv2d")]
    assert one.size == (7, 7) and three.size == (15, 15)  # conv1 3 x 3 /2, pool1 3 x 3 /2, then 1 x 1 or 3 x 3
    merged = rows[("features.fire2", "Concatenate")]
    assert merged.size == (15, 15) and merged.start == three.start


class _Upsampler(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return nn.functional.interpolate(self.conv(x), scale_factor=2) + 1


def test_what_it_cannot_follow_is_an_error_and_a_global_pooling_ends_the_maps():
    with pytest.raises(TypeError, match=r"receptive_field cannot follow interpolate in '': it changes the size of the "
                                        r"maps \(\[\(6, 6\)\] to \(12, 12\)\)"):
        shapes.receptive_field(_Upsampler(), (1, 8, 8))
    rows = shapes.receptive_field(models.Segmenter(), (1, 32, 32))  # its global max (amax) ends the maps
    assert rows[-1].name == "coarse.relu3" and rows[-1].size == (26, 26)  # 3, +1, +2 x 2, +1 x 2, +4 x 4 (dilated)


def test_dilation_at_the_border_of_the_box():
    """Conv2d(1, 1, 3, dilation=2, padding=2) on 5 x 5: unit (0, 1) reads columns -1, 1, 3 (taps two
    apart), so within the image its box is columns 1 to 3, not 0 to 3."""
    net = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2, padding=2))
    (top, bottom), (left, right) = shapes.receptive_field(net, (1, 5, 5))[-1].bounds(0, 1)
    assert (left, right) == (-1, 3)  # the formula's field, into the padding
    x = torch.ones(1, 1, 5, 5, requires_grad=True)
    nn.init.ones_(net[0].weight)
    net(x)[0, 0, 0, 1].backward()
    cols = np.nonzero(x.grad[0, 0].sum(0).numpy())[0]
    assert (cols.min(), cols.max()) == (1, 3)


@pytest.mark.parametrize("size", [(9, 10), (12, 7)])
def test_tensorflow_same_padding_against_the_gradient(size):
    """Conv2dSame (EfficientNet-Lite's padding: the extra zero after) shifts the fields by its input size."""
    torch.manual_seed(0)
    from cnnlib.models.blocks import Conv2dSame

    net = nn.Sequential(Conv2dSame(1, 1, 3, stride=2, bias=False), nn.ReLU(),
                        Conv2dSame(1, 1, 4, stride=2, dilation=1, bias=False))
    for conv in (net[0], net[2]):
        nn.init.constant_(conv.weight, 0.5)
    last = shapes.receptive_field(net, (1, *size))[-1]
    x = torch.ones(1, 1, *size, requires_grad=True)
    out = net(x)
    assert tuple(out.shape[-2:]) == last.output_size
    for i in range(last.output_size[0]):
        for k in range(last.output_size[1]):
            x.grad = None
            net(x)[0, 0, i, k].backward()
            rows, cols = np.nonzero(x.grad[0, 0].numpy())
            (top, bottom), (left, right) = last.bounds(i, k)
            assert (rows.min(), rows.max()) == (max(top, 0), min(bottom, size[0] - 1))
            assert (cols.min(), cols.max()) == (max(left, 0), min(right, size[1] - 1))
