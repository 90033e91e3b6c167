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
