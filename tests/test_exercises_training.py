"""Checkers of cnnlib.exercises.training: right answers (PyTorch modules as oracles) pass, each slip is named."""
import numpy as np
import pytest
import torch
from torch import nn

from cnnlib import exercises


# ---------------------------------------------------------------- batch normalization
def bn_torch(z, gamma, beta, eps):
    layer = nn.BatchNorm2d(z.shape[1], eps=eps).double().train()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(gamma)), layer.bias.copy_(torch.tensor(beta))
        return layer(torch.tensor(z)).numpy()


def bn_numpy(axes=(0, 2, 3), ddof=0, eps_mode="inside", affine="normal"):
    def fn(z, gamma, beta, eps):
        mean, var = z.mean(axes, keepdims=True), z.var(axes, keepdims=True, ddof=ddof)
        scale = {"inside": np.sqrt(var + eps), "none": np.sqrt(var), "std": np.sqrt(var) + eps}[eps_mode]
        zbar = (z - mean) / scale
        g, b = gamma[None, :, None, None], beta[None, :, None, None]
        return {"normal": g * zbar + b, "none": zbar, "swapped": b * zbar + g}[affine]
    return fn


def test_batch_norm_right_answers_pass():
    assert exercises.check_batch_norm(bn_torch)
    assert exercises.check_batch_norm(bn_numpy())


@pytest.mark.parametrize("fn, words", [
    (bn_numpy(axes=(1, 2, 3)), "layer normalization"),
    (bn_numpy(axes=(2, 3)), "instance normalization"),
    (bn_numpy(axes=0), "per position (i, j) over the mini-batch only"),
    (bn_numpy(axes=(0, 1, 2, 3)), "over the whole tensor"),
    (bn_numpy(ddof=1), "unbiased"),
    (bn_numpy(eps_mode="none"), "eps was left out"),
    (bn_numpy(eps_mode="std"), "eps was added to the standard deviation"),
    (bn_numpy(affine="none"), "gamma and beta were not applied"),
    (bn_numpy(affine="swapped"), "gamma and beta were swapped"),
    (lambda z, g, b, eps: z[:, :, 1:], "shape"),
    (lambda z, g, b, eps: 1 / 0, "ZeroDivisionError"),
])
def test_batch_norm_slips_are_named(fn, words):
    fb = exercises.check_batch_norm(fn)
    assert not fb and words in str(fb)


# ---------------------------------------------------------------- group normalization
def gn_torch(z, G, gamma, beta, eps):
    layer = nn.GroupNorm(G, z.shape[1], eps=eps).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(gamma)), layer.bias.copy_(torch.tensor(beta))
        return layer(torch.tensor(z)).numpy()


def gn_numpy(over_batch=False, round_robin=False, ddof=0, eps_on=True, affine=True):
    def fn(z, G, gamma, beta, eps):
        N, C, H, W = z.shape
        perm = np.argsort(np.arange(C) % G, kind="stable") if round_robin else np.arange(C)
        g = z[:, perm].reshape(N, G, -1)
        axes = (0, 2) if over_batch else (2,)
        zbar = (g - g.mean(axes, keepdims=True)) / np.sqrt(g.var(axes, keepdims=True, ddof=ddof) + (eps if eps_on else 0))
        out = np.empty_like(z)
        out[:, perm] = zbar.reshape(N, C, H, W)
        return gamma[None, :, None, None] * out + beta[None, :, None, None] if affine else out
    return fn


def test_group_norm_right_answers_pass():
    assert exercises.check_group_norm(gn_torch)
    assert exercises.check_group_norm(gn_numpy())


@pytest.mark.parametrize("fn, words", [
    (gn_numpy(over_batch=True), "also averaged over the mini-batch"),
    (gn_numpy(round_robin=True), "round-robin"),
    (gn_numpy(ddof=1), "unbiased"),
    (gn_numpy(eps_on=False), "eps was left out"),
    (gn_numpy(affine=False), "gamma and beta were not applied"),
    (lambda z, G, g, b, eps: bn_torch(z, g, b, eps), "batch normalization"),
    (lambda z, G, g, b, eps: gn_torch(z, z.shape[1], g, b, eps), "instance normalization"),
    (lambda z, G, g, b, eps: gn_torch(z, 1, g, b, eps), "the case G = 1"),
])
def test_group_norm_slips_are_named(fn, words):
    fb = exercises.check_group_norm(fn)
    assert not fb and words in str(fb)


def test_group_norm_identities_behind_the_checker():
    """G = C is instance norm and G = 1 is layer norm over (C, H, W), per PyTorch's own modules."""
    z = torch.randn(3, 4, 5, 5, dtype=torch.float64)
    inst = nn.InstanceNorm2d(4, affine=True).double()
    np.testing.assert_allclose(nn.GroupNorm(4, 4).double()(z).detach(), inst(z).detach(), atol=1e-12)
    np.testing.assert_allclose(nn.GroupNorm(1, 4).double()(z).detach(),
                               nn.LayerNorm((4, 5, 5)).double()(z).detach(), atol=1e-12)


# ---------------------------------------------------------------- dropout
def right_dropout(x, p, rng):
    return x * (rng.random(x.shape) >= p) / (1 - p)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_dropout_right_answer_passes(p):
    assert exercises.check_dropout(right_dropout, p=p)


def test_dropout_torch_style_answer_passes():
    def via_torch(x, p, rng):
        g = torch.Generator().manual_seed(int(rng.integers(2**31)))
        mask = torch.rand(x.shape, generator=g, dtype=torch.float64).numpy() >= p
        return x * mask / (1 - p)
    assert exercises.check_dropout(via_torch)


@pytest.mark.parametrize("fn, words", [
    (lambda x, p, rng: x * (rng.random(x.shape) >= p), "kept ones are unchanged"),
    (lambda x, p, rng: x * (rng.random(x.shape) >= p) * (1 - p), "multiplied by 1 - p"),
    (lambda x, p, rng: x * (rng.random(x.shape) < p) / p, "not of keeping it"),
    (lambda x, p, rng: x * (np.random.default_rng(7).random(x.shape) >= p) / (1 - p), "does not come from rng"),
    (lambda x, p, rng: x * (rng.random((x.shape[0], 1)) >= p) / (1 - p), "Whole rows or columns"),
    (lambda x, p, rng: x, "No entry was zeroed"),
    (lambda x, p, rng: 0 * x, "Every entry was zeroed"),
    (lambda x, p, rng: x[:10], "shape"),
    (lambda x, p, rng: x * (rng.random(x.shape) >= 0.5) / 0.5, "expected 30%"),
    (lambda x, p, rng: x * (rng.random(x.shape) >= p) * rng.random(x.shape), "should all equal"),
])
def test_dropout_slips_are_named(fn, words):
    fb = exercises.check_dropout(fn, p=0.3)
    assert not fb and words in str(fb)


# ---------------------------------------------------------------- confusion matrix and frozen counts
def test_confusion_matrix_against_a_loop():
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    C = np.zeros((4, 4))
    for a, b in zip(t, p):
        C[a, b] += 1
    assert exercises.check_confusion_matrix(C, torch.tensor(t), torch.tensor(p))
    assert "swapped" in str(exercises.check_confusion_matrix(C.T, t, p))
    assert "each row is divided" in str(exercises.check_confusion_matrix(C / C.sum(1, keepdims=True), t, p))
    assert "each column is divided" in str(exercises.check_confusion_matrix(C / C.sum(0, keepdims=True), t, p))
    assert "one class is missing" in str(exercises.check_confusion_matrix(C[:3, :3], t, p))
    with pytest.raises(ValueError, match="y_true and y_pred must have the same length, got 50 and 49"):
        exercises.check_confusion_matrix(C, t, p[:-1])


def test_trainable_count():
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.Linear(6, 10))
    net[0].requires_grad_(False)
    assert exercises.check_trainable_count(70, net)
    assert "frozen ones included" in str(exercises.check_trainable_count(226, net))
    assert "number of frozen parameters" in str(exercises.check_trainable_count(156, net))
    assert "not the biases" in str(exercises.check_trainable_count(60, net))
    assert "not the number" in str(exercises.check_trainable_count(71, net))
    assert "whole number" in str(exercises.check_trainable_count(70.5, net))
    assert "whole number" in str(exercises.check_trainable_count("seventy", net))


# ---------------------------------------------------------------- 1x1 convolutions and their cost
from hypothesis import given, settings, strategies as st  # noqa: E402


def pointwise_torch(x, W, b):
    """The oracle: an nn.Conv2d with kernel_size=1 and the weights copied in."""
    K, C = W.shape
    layer = nn.Conv2d(C, K, kernel_size=1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W).reshape(K, C, 1, 1)), layer.bias.copy_(torch.tensor(b))
        return layer(torch.tensor(x)).numpy()


def pointwise_loop(x, W, b):
    N, C, H, Wd = x.shape
    out = np.zeros((N, W.shape[0], H, Wd))
    for n in range(N):
        for i in range(H):
            for j in range(Wd):
                out[n, :, i, j] = W @ x[n, :, i, j] + b
    return out


def test_pointwise_conv_right_answers_pass():
    assert exercises.check_pointwise_conv(pointwise_torch)
    assert exercises.check_pointwise_conv(pointwise_loop)


@pytest.mark.parametrize("fn, words", [
    (lambda x, W, b: np.einsum("kc,nchw->nkhw", W, x), "bias b was left out"),
    (lambda x, W, b: np.einsum("ck,nchw->nkhw", W, x) + b[None, :, None, None], "W was transposed"),
    (lambda x, W, b: np.einsum("kc,nchw->nhwk", W, x) + b, "channels-last"),
    (lambda x, W, b: np.einsum("kc,nchw->nk", W, x) + b, "summed or averaged away"),
    (lambda x, W, b: np.einsum("kc,nchw->nk", W, x) / (x.shape[2] * x.shape[3]) + b, "summed or averaged away"),
    (lambda x, W, b: x, "returned unchanged"),
    (lambda x, W, b: pointwise_loop(x, W, b) if W.shape[0] == W.shape[1] else x, "input's shape"),
    (lambda x, W, b: 1 / 0, "ZeroDivisionError"),
])
def test_pointwise_conv_slips_are_named(fn, words):
    fb = exercises.check_pointwise_conv(fn)
    assert not fb
    assert words in str(fb)


def test_pointwise_conv_bias_before_mixing_is_named():
    fb = exercises.check_pointwise_conv(lambda x, W, b: np.einsum("kc,nchw->nkhw", W, x + b[None, :, None, None]))
    assert not fb and "added to the input channels" in str(fb)


def test_pointwise_conv_later_case_reported():
    # right on the square case, wrong (no bias) once K != C: the message names that case
    def fn(x, W, b):
        out = np.einsum("kc,nchw->nkhw", W, x)
        return out + b[None, :, None, None] if W.shape[0] == W.shape[1] else out
    fb = exercises.check_pointwise_conv(fn)
    assert not fb and str(fb).startswith("✘ Case 2") and "bias b was left out" in str(fb)


def macs_flop_counter(c_in, c_out, k, size):
    """Independent count: PyTorch's FlopCounterMode counts 2 FLOPs per multiply-add of a convolution."""
    from torch.utils.flop_counter import FlopCounterMode

    pad = (k - 1) // 2
    layer = nn.Conv2d(c_in, c_out, k, padding=pad, bias=False)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = layer(torch.zeros(1, c_in, size, size))
    return counter.get_total_flops() // 2, out.shape[-1]


@settings(max_examples=25, deadline=None)
@given(c_in=st.integers(1, 12), c_out=st.integers(1, 12), k=st.sampled_from([1, 3, 5]), size=st.integers(5, 12))
def test_conv_macs_agrees_with_flop_counter(c_in, c_out, k, size):
    macs, out_size = macs_flop_counter(c_in, c_out, k, size)
    assert exercises.check_conv_macs(macs, c_in, c_out, k, out_size)
    assert not exercises.check_conv_macs(macs + 1, c_in, c_out, k, out_size)


def test_conv_macs_chapter_inception_numbers():
    # the 5x5 path of the inception module of Figure 6.13, without and with the 1x1 reduction to 16 channels
    assert exercises.check_conv_macs(120_422_400, 192, 32, 5, 28)
    assert exercises.check_conv_macs(2_408_448, 192, 16, 1, 28)
    assert exercises.check_conv_macs(10_035_200, 16, 32, (5, 5), (28, 28))


@pytest.mark.parametrize("answer, words", [
    (32 * 192 * 25, "one output position"),
    (28 * 28 * 192 * 25, "one output channel"),
    (32 * 192 * 25 + 32, "number of parameters"),
    (32 * 192 * 25 - 1, "not the count"),
    (32 * 28 * 28 * 25, "leaves out the 192 input channels"),
    (32 * 28 * 28 * 192, "kernel positions"),
    ("many", "whole number"),
    (1.5, "whole number"),
    (True, "whole number"),
])
def test_conv_macs_slips_are_named(answer, words):
    fb = exercises.check_conv_macs(answer, 192, 32, 5, 28)
    assert not fb
    assert words in str(fb)


def test_conv_macs_weights_without_bias_named():
    fb = exercises.check_conv_macs(32 * 192 * 25, 192, 32, 5, (1, 1))  # one position: that is the right answer
    assert fb
    fb = exercises.check_conv_macs(32 * 192 * 25, 192, 32, 5, (2, 1))
    assert not fb and "one output position" in str(fb)


@pytest.mark.parametrize("kwargs, match", [
    (dict(in_channels=0), "in_channels must be"),
    (dict(out_channels=2.5), "out_channels must be"),
    (dict(kernel_size=(3, 0)), "kernel_size must be"),
    (dict(output_size="big"), "output_size must be"),
])
def test_conv_macs_bad_arguments(kwargs, match):
    args = dict(in_channels=3, out_channels=4, kernel_size=3, output_size=5) | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        exercises.check_conv_macs(10, **args)
