"""Tests for cnnlib.models: shapes, parameter counts (Eq. (6.23)), named layers, errors."""
import pytest
import torch
from torch import nn

from cnnlib import models


def _params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("num_classes, in_channels", [(10, 1), (3, 3), (1, 2)])
def test_lenet5_shapes_and_count(num_classes, in_channels):
    model = models.lenet5(num_classes, in_channels)
    assert model(torch.zeros(4, in_channels, 28, 28)).shape == (4, num_classes)
    # Eq. (6.23) for the two convolutions, N_in * N_out + N_out for the dense layers
    expected = (6 * (in_channels * 25 + 1) + 16 * (6 * 25 + 1)
                + 400 * 120 + 120 + 120 * 84 + 84 + 84 * num_classes + num_classes)
    assert _params(model) == expected


def test_lenet5_has_named_blocks_that_freeze():
    model = models.lenet5()
    assert isinstance(model.features, nn.Sequential) and isinstance(model.classifier, nn.Sequential)
    assert isinstance(model.features.conv2, nn.Conv2d) and isinstance(model.classifier.fc3, nn.Linear)
    for p in model.features.parameters():
        p.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == _params(model.classifier)


@pytest.mark.parametrize("activation, pool, act_type, pool_type",
                         [("relu", "max", nn.ReLU, nn.MaxPool2d), ("tanh", "avg", nn.Tanh, nn.AvgPool2d)])
def test_lenet5_options(activation, pool, act_type, pool_type):
    model = models.lenet5(activation=activation, pool=pool)
    assert isinstance(model.features.relu1, act_type) and isinstance(model.features.pool1, pool_type)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_classes=0), ValueError, "num_classes must be a positive integer"),
    (dict(in_channels=1.5), TypeError, "in_channels must be an integer"),
    (dict(activation="sigmoid"), ValueError, "activation must be one of 'relu', 'tanh', got 'sigmoid'"),
    (dict(pool="min"), ValueError, "pool must be one of 'max', 'avg', got 'min'"),
])
def test_lenet5_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        models.lenet5(**kwargs)


def _vgg_count(config, in_channels, hidden, num_classes, side):
    """Parameters by Eq. (6.23) and N_in * N_out + N_out, written independently of cnnlib."""
    total, c = 0, in_channels
    for item in config:
        if item == "M":
            side //= 2
        else:
            total += item * (c * 9 + 1)
            c = item
    n = c * side * side
    for width in list(hidden) + [num_classes]:
        total += n * width + width
        n = width
    return total


@pytest.mark.parametrize("name", ["vgg11", "vgg13", "vgg16", "vgg19"])
def test_vgg_configs_count(name):
    with torch.device("meta"):
        model = models.vgg(name)
    assert _params(model) == _vgg_count(models.VGG_CONFIGS[name], 3, (4096, 4096), 1000, 224)


def test_vgg19_matches_table_6_1_totals():
    with torch.device("meta"):
        model = models.vgg19()
        out = model(torch.empty(1, 3, 224, 224))
    assert _params(model) == 143_667_240  # Table 6.1 of the chapter
    assert out.shape == (1, 1000)
    kinds = [type(m) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.Linear))]
    assert kinds.count(nn.Conv2d) == 16 and kinds.count(nn.MaxPool2d) == 5 and kinds.count(nn.Linear) == 3


def test_vgg19_convolutions_keep_the_size_and_pools_halve_it():
    with torch.device("meta"):
        model = models.vgg19()
    x, sides = torch.empty(1, 3, 224, 224, device="meta"), []
    for layer in model.features:
        y = layer(x)
        if isinstance(layer, nn.Conv2d):
            assert y.shape[-2:] == x.shape[-2:]
        if isinstance(layer, nn.MaxPool2d):
            sides.append(y.shape[-1])
        x = y
    assert sides == [112, 56, 28, 14, 7]


@pytest.mark.parametrize("config, classifier, size", [([4, "M", 8], (16,), 12), ([3, 3, "M", "M", 5], (), 17),
                                                        ([2, "M"], (6, 7), (10, 14))])
def test_vgg_small_configs(config, classifier, size):
    model = models.vgg(config, in_channels=2, num_classes=3, classifier=classifier, input_size=size)
    h, w = (size, size) if isinstance(size, int) else size
    assert model(torch.zeros(2, 2, h, w)).shape == (2, 3)
    n_fc = sum(isinstance(m, nn.Linear) for m in model.modules())
    assert n_fc == len(classifier) + 1


def test_vgg_dropout_zero_leaves_it_out():
    model = models.vgg([4, "M"], classifier=(8,), dropout=0, input_size=8)
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(config="vgg20"), ValueError, "config must be one of"),
    (dict(config=42), TypeError, "config must be a list of ints and 'M'"),
    (dict(config=[64, "X"]), ValueError, r"config\[1\] must be a positive int .* got 'X'"),
    (dict(config=[0, "M"]), ValueError, r"config\[0\] must be a positive int"),
    (dict(config=["M", "M"]), ValueError, "config must contain at least one convolution"),
    (dict(config=[4, "M", "M"], input_size=3), ValueError, "input_size 3 is too small"),
    (dict(config=[4], classifier=5), TypeError, "classifier must be a sequence of positive ints"),
    (dict(config=[4], classifier=(0,)), ValueError, r"classifier\[0\] must be a positive integer"),
    (dict(config=[4], dropout=1.0), ValueError, r"dropout must be a probability in \[0, 1\), got 1.0"),
    (dict(config=[4], input_size=(0, 3)), ValueError, "input_size must be an int >= 1"),
    (dict(config=[4], num_classes=0), ValueError, "num_classes must be a positive integer"),
])
def test_vgg_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        models.vgg(**kwargs)


@pytest.mark.parametrize("build, shape", [
    (lambda: models.lenet5(), (1, 28, 28)),
    (lambda: models.vgg([4, "M", 6, "M"], in_channels=2, num_classes=5, classifier=(7, 9), input_size=(12, 8)), (2, 12, 8)),
    (lambda: models.vgg([3], in_channels=1, num_classes=4, classifier=(), input_size=5), (1, 5, 5)),
])
def test_convolutionalize_equals_the_original_in_float64(build, shape):
    torch.manual_seed(0)
    net = build().double().eval()
    fcn = convolutionalize_and_check(net, shape)
    x = torch.randn(3, *shape, dtype=torch.float64)
    out = fcn(x)
    assert out.shape[-2:] == (1, 1)
    torch.testing.assert_close(out.flatten(1), net(x), rtol=1e-12, atol=1e-12)


def convolutionalize_and_check(net, shape):
    fcn = models.convolutionalize(net, shape)
    assert not any(isinstance(m, (nn.Linear, nn.Flatten)) for m in fcn.modules())
    return fcn


def test_convolutionalize_float32_and_inferred_shape():
    torch.manual_seed(1)
    net = models.lenet5().eval()
    fcn = models.convolutionalize(net)  # square map inferred from conv2's 16 channels
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(fcn(x).flatten(1), net(x), rtol=1e-5, atol=1e-5)
    assert net.classifier.fc1.weight.shape == (120, 400)  # original untouched


def test_convolutionalize_slides_over_larger_inputs():
    # no padding, so each window of the large input is exactly what the original network sees
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3), nn.ReLU(),
                        nn.Flatten(), nn.Linear(4 * 2 * 2, 6), nn.ReLU(), nn.Linear(6, 5)).double().eval()
    fcn = models.convolutionalize(net, (1, 10, 10))
    big = torch.randn(1, 1, 14, 18, dtype=torch.float64)
    out = fcn(big)
    assert out.shape == (1, 5, 3, 5)  # (14 - 10) / 2 + 1, (18 - 10) / 2 + 1: the total stride is 2
    for i in range(3):
        for j in range(5):
            crop = big[:, :, 2 * i:2 * i + 10, 2 * j:2 * j + 10]
            torch.testing.assert_close(out[:, :, i, j], net(crop), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("model, shape, error, match", [
    ("not a model", None, TypeError, "model must be a torch.nn.Module, got str"),
    (nn.Sequential(nn.Conv2d(1, 2, 3)), None, ValueError, "no nn.Linear layer"),
    (nn.Sequential(nn.Linear(4, 2)), None, ValueError, "no nn.Flatten layer"),
    (nn.Sequential(nn.Linear(4, 2)), (1, 2, 2), ValueError, "no nn.Flatten layer"),
    (nn.Sequential(nn.Conv2d(1, 3, 1), nn.Flatten(), nn.Linear(6, 2)), None, ValueError, "cannot infer a square feature map"),
    (nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), None, ValueError, r"cannot infer .* \(no Conv2d\)"),
    (nn.Sequential(nn.Conv2d(1, 2, 1), nn.Flatten(), nn.Linear(8, 2)), (1, 2), ValueError, r"input_shape must be \(C, H, W\)"),
    (nn.Sequential(nn.Conv2d(1, 2, 1), nn.Linear(2, 2), nn.Flatten(), nn.Linear(8, 2)), (1, 2, 2), ValueError, "nn.Linear before any nn.Flatten"),
    (nn.Sequential(nn.Conv2d(1, 2, 1), nn.Flatten(), nn.Linear(8, 2)), (1, 3, 3), ValueError, r"model does not run on inputs of shape \(1, 3, 3\)"),
    (nn.Sequential(nn.Conv2d(1, 2, 1), nn.Flatten(), nn.ModuleList([nn.Linear(8, 2)])), None, TypeError, "only nn.Sequential"),
])
def test_convolutionalize_errors(model, shape, error, match):
    with pytest.raises(error, match=match):
        models.convolutionalize(model, shape)

