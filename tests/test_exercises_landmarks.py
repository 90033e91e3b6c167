"""Checkers of cnnlib.exercises.landmarks: right answers (cnnlib models, PyTorch) pass, each slip is named."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import exercises, models

FIG_6_13 = (192, 64, 96, 128, 16, 32, 32)


# ---------------------------------------------------------------- inception channels
def test_inception_channels_right_answer_comes_from_the_module():
    block = models.InceptionModule(*FIG_6_13)
    assert exercises.check_inception_channels(block(torch.zeros(1, 192, 4, 4)).shape[1], *FIG_6_13)
    assert exercises.check_inception_channels(np.int64(480), 256, 128, 128, 192, 32, 96, 64)


@pytest.mark.parametrize("answer, words", [
    (64 + 128 + 32 + 192, "entering its 1 x 1 convolution"),
    (256 + 96 + 16, "1 x 1 reductions"),
    (224, "leaves out the pooling path"),
    (256 + 192, "adds the input channels"),
    (300, "is not the number of output channels"),
    (256.5, "whole number"),
    ("256", "whole number"),
])
def test_inception_channels_slips(answer, words):
    fb = exercises.check_inception_channels(answer, *FIG_6_13)
    assert not fb and words in str(fb)


# ---------------------------------------------------------------- inception parameters
def test_inception_params_right_answer():
    block = models.InceptionModule(*FIG_6_13)
    assert exercises.check_inception_params(sum(p.numel() for p in block.parameters()), *FIG_6_13)


@pytest.mark.parametrize("answer, words", [
    (163696 - 368, "leaves out the biases"),
    (64 * 193 + 128 * (192 * 9 + 1) + 32 * (192 * 25 + 1) + 32 * 193, "leaves out the 1 x 1 reductions"),
    (163696 - 32 * 193, "pooling path"),
    (163696 - 32 * (16 * 25 + 1) + 32 * (16 * 9 + 1), "3 x 3 kernels in the third path"),
    (1, "is not the number of parameters"),
])
def test_inception_params_slips(answer, words):
    fb = exercises.check_inception_params(answer, *FIG_6_13)
    assert not fb and words in str(fb)


def test_inception_checkers_validate_the_module():
    with pytest.raises(ValueError, match="c5 must be a positive integer"):
        exercises.check_inception_channels(1, 192, 64, 96, 128, 16, 0, 32)


# ---------------------------------------------------------------- residual forward
def block_from_module(x, W1, W2):
    """The right answer via models.ResidualBlock without batch norm, its weights set to W1, W2."""
    C = x.shape[1]
    block = models.ResidualBlock(C, C, batch_norm=False).double()
    with torch.no_grad():
        block.residual.conv1.weight.copy_(torch.tensor(W1)), block.residual.conv1.bias.zero_()
        block.residual.conv2.weight.copy_(torch.tensor(W2)), block.residual.conv2.bias.zero_()
        return block(torch.tensor(x)).numpy()


def residual(shortcut=True, relu_before_add=False, middle_relu=True, flip=False, pad=1, final_relu=True):
    def fn(x, W1, W2):
        t = torch.tensor(x)
        conv = lambda v, W: F.conv2d(v, torch.tensor(W).flip(-1, -2) if flip else torch.tensor(W), padding=pad)
        h = conv(t, W1)
        h = F.relu(h) if middle_relu else h
        r = conv(h, W2)
        if relu_before_add:
            return (F.relu(r) + t).numpy()
        out = r + t if shortcut else r
        return (F.relu(out) if final_relu else out).numpy()
    return fn


def test_residual_forward_right_answers_pass():
    assert exercises.check_residual_forward(block_from_module)
    assert exercises.check_residual_forward(residual())


def test_residual_forward_accepts_float32():
    def in_float32(x, W1, W2):
        x, W1, W2 = (torch.as_tensor(a, dtype=torch.float32) for a in (x, W1, W2))
        return F.relu(F.conv2d(F.relu(F.conv2d(x, W1, padding=1)), W2, padding=1) + x).numpy()
    assert exercises.check_residual_forward(in_float32)


@pytest.mark.parametrize("fn, words", [
    (residual(shortcut=False), "the shortcut is missing"),
    (residual(relu_before_add=True), "ReLU was applied to r(x) before adding x"),
    (residual(middle_relu=False), "ReLU between the two convolutions is missing"),
    (residual(flip=True), "kernels were flipped"),
    (residual(final_relu=False), "no final ReLU"),
    (residual(shortcut=False, pad=0), "lost a border"),
    (lambda x, W1, W2: 1 / 0, "ZeroDivisionError"),
])
def test_residual_forward_slips(fn, words):
    fb = exercises.check_residual_forward(fn)
    assert not fb and words in str(fb)


# ---------------------------------------------------------------- ResNet depth
@pytest.mark.parametrize("n", [1, 3, 9, 18])
def test_resnet_depth_right_answer_matches_the_model(n):
    model = models.resnet(6 * n + 2)
    weighted = [m for m in model.modules() if isinstance(m, torch.nn.Linear)
                or (isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3))]
    assert exercises.check_resnet_depth(len(weighted), n)


@pytest.mark.parametrize("answer, words", [(54, "leaves out the stem"), (55, "leaves out one of"),
                                           (29, "counts each block once"), (58, "projection shortcuts"),
                                           (100, "is not the depth"), (None, "whole number")])
def test_resnet_depth_slips(answer, words):
    fb = exercises.check_resnet_depth(answer, 9)
    assert not fb and words in str(fb)


def test_resnet_depth_near_miss_never_says_one_times():
    fb = exercises.check_resnet_depth(1203, 200)
    assert not fb and "1 more than the right one" in str(fb) and "1 times" not in str(fb)
    assert exercises.check_resnet_depth(1202, 200)  # the 1,202-layer network of He et al. (built on meta)


def test_resnet_depth_validates_n():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        exercises.check_resnet_depth(2, 0)


# ---------------------------------------------------------------- compound scaling
@pytest.mark.parametrize("phi", [0, 1, 2.5, 7])
def test_compound_scaling_right_answer(phi):
    s = models.compound_scaling(phi)
    assert exercises.check_compound_scaling([s["depth"], s["width"], 1.15 ** phi], phi)


def test_compound_scaling_accepts_tuples_rounded_to_three_decimals():
    assert exercises.check_compound_scaling((1.728, 1.331, 1.521), 3)
    assert exercises.check_compound_scaling(tuple(np.float32(v) for v in (1.2 ** 3, 1.1 ** 3, 1.15 ** 3)), 3)
    assert not exercises.check_compound_scaling((1.73, 1.33, 1.52), 3)  # two decimals are too coarse


@pytest.mark.parametrize("answer, words", [
    ((1.1 ** 3, 1.2 ** 3, 1.15 ** 3), "depth and width are swapped"),
    ((1.6, 1.3, 1.45), "grow linearly"),
    ((3.6, 3.3, 3.45), "multiplied by phi"),
    ((1.2 ** 3, 1.1 ** 3, 224 * 1.15 ** 3), "resolution was given in pixels"),
    ((1.2 ** 3, 1.1 ** 3), "shape"),
])
def test_compound_scaling_slips(answer, words):
    fb = exercises.check_compound_scaling(answer, 3)
    assert not fb and words in str(fb)
