"""The commonest mistakes and failures in training, as clear errors instead of PyTorch internals (issue 19).

A NaN loss stops fit at the step where it appears; a label beyond the model's outputs, a device
that is not there, a grayscale image into a colour network and an input too small for a network
each raise a ValueError that names what is wrong and what would be right.
"""
import math

import pytest
import torch
from torch import nn

from cnnlib import models, train
from cnnlib._forward_errors import explain_forward_error, minimum_input_size

torch.set_num_threads(1)
QUIET = dict(device="cpu", progress=False)


def _blobs(n=64, k=3):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % k
    return torch.randn(n, 4, generator=g) + 3 * nn.functional.one_hot(y, 4).float(), y


# ---------------------------------------------------------------- a loss that is not finite
def test_fit_stops_at_the_step_where_the_loss_becomes_nan():
    calls = []

    def loss_fn(outputs, targets):
        calls.append(1)
        loss = nn.functional.cross_entropy(outputs, targets)
        return loss * math.nan if len(calls) == 7 else loss  # 4 steps per epoch: epoch 2, step 3

    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    with pytest.raises(FloatingPointError, match=r"the training loss became nan at epoch 2, step 3\b.*smaller lr"):
        train.fit(model, _blobs(), epochs=3, batch_size=16, loss_fn=loss_fn, **QUIET)
    assert len(calls) == 7  # stopped there
    assert torch.isfinite(model.weight).all()  # before the optimizer step: the weights are not spoiled


def test_fit_stops_on_inputs_holding_nan():
    X, y = _blobs()
    X[5, 2] = math.nan
    with pytest.raises(FloatingPointError, match=r"at epoch 1, step 1\b.*torch.isfinite\(X\)"):
        train.fit(nn.Linear(4, 3), (X, y), epochs=1, batch_size=64, **QUIET)


def test_fit_stops_when_the_learning_rate_makes_the_loss_explode():
    X, y = _blobs()
    with pytest.raises(FloatingPointError, match=r"the training loss became (nan|inf) at epoch \d+, step \d+"):
        train.fit(nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 3)), (X * 1e3, y), epochs=20,
                  batch_size=8, lr=1e30, optimizer="sgd", **QUIET)


# ---------------------------------------------------------------- labels beyond the outputs
def test_a_label_beyond_the_outputs_is_named_in_fit():
    X, y = _blobs(k=3)
    y[10] = 3  # a fourth class for a model with three outputs
    with pytest.raises(ValueError, match=r"train_data labels must lie in 0\.\.2: the model has 3 outputs .* got label 3 "
                                         r"\(example 10\)"):
        train.fit(nn.Linear(4, 3), (X, y), epochs=1, **QUIET)
    with pytest.raises(ValueError, match=r"val_data labels must lie in 0\.\.2.*got label 3"):
        train.fit(nn.Linear(4, 3), _blobs(k=3), (X, y), epochs=1, **QUIET)


def test_a_negative_or_too_large_label_is_named_in_evaluate():
    X, y = _blobs(k=3)
    y[4] = -1
    with pytest.raises(ValueError, match=r"data labels must lie in 0\.\.1: the model has 2 outputs .* got label -1 "
                                         r"\(example 4\)"):
        train.evaluate(nn.Linear(4, 2), (X, y))
    with pytest.raises(ValueError, match=r"data labels must lie in 0\.\.1: the model has 2 outputs .* got label 2"):
        train.evaluate(nn.Linear(4, 2), _blobs(k=3))


# ---------------------------------------------------------------- a device that is not there
def test_cuda_without_cuda_says_so_and_what_get_device_picks(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    picks = train.get_device().type
    for call in (lambda: train.fit(nn.Linear(4, 3), _blobs(), epochs=1, device="cuda", progress=False),
                 lambda: train.evaluate(nn.Linear(4, 3), _blobs(), device="cuda"),
                 lambda: train.predict(nn.Linear(4, 3), _blobs()[0], device="cuda")):
        with pytest.raises(ValueError, match=rf"device='cuda', but CUDA is not available on this machine .*"
                                             rf"train.get_device\(\) would pick '{picks}'"):
            call()
    assert train.quick_run("cuda", verbose=False) is False  # the size switch still reads a device type


def test_a_cuda_index_beyond_the_devices(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(train.device, "get_device", lambda: torch.device("cuda"))
    with pytest.raises(ValueError, match=r"device='cuda:3', but this machine has 1 CUDA device\(s\), numbered from 0"):
        train.device.usable_device("cuda:3")


# ---------------------------------------------------------------- images the network cannot take
def test_a_grayscale_image_into_a_colour_network():
    X, y = torch.rand(4, 1, 64, 64), torch.tensor([0, 1, 0, 1])
    net = models.vgg19(num_classes=2)
    want = r"layer 'features.conv1_1' \(Conv2d\(3, 64.*expects 3 input channels, got 1.*grayscale.*x.expand\(-1, 3, -1, -1\)"
    with pytest.raises(ValueError, match=want):
        train.fit(net, (X, y), epochs=1, **QUIET)
    with pytest.raises(ValueError, match=want):
        train.predict(net, X)


def test_an_input_too_small_for_the_network_names_the_layer_and_the_minimum_size():
    net = models.alexnet(num_classes=2)
    X, y = torch.rand(2, 3, 32, 32), torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"the input, 32 x 32, is too small for this network: layer 'features.pool5' "
                                         r".*receives a 1 x 1 map.*is 63 x 63"):
        train.evaluate(net, (X, y))
    assert minimum_input_size(net, 3) == 63
    net.eval()
    with torch.no_grad():  # oracle: PyTorch's own errors at 62 and 63
        with pytest.raises(RuntimeError, match="Output size is too small"):
            net(torch.rand(1, 3, 62, 62))
        with pytest.raises(RuntimeError, match="mat1 and mat2"):  # past every window; the classifier wants 224
            net(torch.rand(1, 3, 63, 63))
    pooled = nn.Sequential(nn.Conv2d(1, 2, 5), nn.MaxPool2d(3), nn.Conv2d(2, 2, 3, dilation=2),
                           nn.AdaptiveAvgPool2d(1), nn.Flatten())
    size = minimum_input_size(pooled, 1)
    assert pooled(torch.rand(1, 1, size, size)).shape == (1, 2)
    with pytest.raises(RuntimeError):
        pooled(torch.rand(1, 1, size - 1, size - 1))


def test_an_image_of_the_wrong_size_for_a_fixed_classifier():
    with pytest.raises(ValueError, match=r"layer 'classifier.fc1' \(Linear.*expects 400 features, got 576"):
        train.predict(models.lenet5(), torch.rand(2, 1, 32, 32))


def test_other_errors_pass_through_unchanged():
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("something else")

    exc = RuntimeError("something else")
    assert explain_forward_error(Broken(), torch.zeros(1, 3, 8, 8), exc) is exc
    with pytest.raises(RuntimeError, match="something else"):
        train.predict(Broken(), torch.zeros(2, 3))


def test_a_grayscale_image_into_a_pretrained_imagenet_network_called_directly():
    net = models.squeezenet1_1(num_classes=10)
    with pytest.raises(ValueError, match=r"x must be RGB images in \[0, 1\], shape \(N, 3, H, W\).*got 1 channel\(s\), "
                                         r"shape \(2, 1, 64, 64\) \(a grayscale image: .*x.expand\(-1, 3, -1, -1\)"):
        net(torch.rand(2, 1, 64, 64))
    assert net.eval()(torch.rand(2, 3, 64, 64)).shape == (2, 10)
