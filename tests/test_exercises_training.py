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
