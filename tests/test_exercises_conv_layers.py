"""cnnlib.exercises.conv_layers: every diagnosis is triggered by the slip it names; right answers pass.

Oracles: torch.nn.functional.conv2d (float64) and nn.Conv2d's parameter count.
"""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib import exercises, layers
from cnnlib.exercises import conv_layers


def torch_layer(x, W, b, **kw):
    return F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(W), torch.from_numpy(b), **kw)[0].numpy()


def test_exported():
    for name in conv_layers.__all__:
        assert getattr(exercises, name) is getattr(conv_layers, name)


# --- check_output_size ---------------------------------------------------------------

def right(M, K, p, s, d):
    return (M + p - d * (K - 1) - 1) // s + 1


@pytest.mark.parametrize("fn, reason", [
    (lambda M, K, p, s, d: (M + p - d * (K - 1) - 1) // s, r"\+ 1 is missing"),
    (lambda M, K, p, s, d: (M + 2 * p - d * (K - 1) - 1) // s + 1, "padding was doubled"),
    (lambda M, K, p, s, d: (M + p - K) // s + 1, "dilation was ignored"),
    (lambda M, K, p, s, d: (M + p - d * K) // s + 1, r"d K instead of d \(K - 1\) \+ 1"),
    (lambda M, K, p, s, d: -(-(M + p - d * (K - 1) - 1) // s) + 1, "rounded up"),
    (lambda M, K, p, s, d: M + p - d * (K - 1), "stride was ignored"),
    (lambda M, K, p, s, d: (M + p - d * (K - 1)) // s, r"\+ 1 included, by the stride"),
])
def test_output_size_diagnoses(fn, reason):
    fb = exercises.check_output_size(fn)
    assert not fb
    assert re.search(reason, fb.message), fb.message


def test_output_size_right_answers_and_torch():
    assert exercises.check_output_size(right)
    # the checker's cases agree with what PyTorch produces (total padding even there)
    for M, K, p, s, d in conv_layers.OUTPUT_SIZE_CASES:
        if p % 2 == 0:
            out = F.conv2d(torch.zeros(1, 1, M, M), torch.zeros(1, 1, K, K), padding=p // 2, stride=s, dilation=d)
            assert out.shape[-1] == right(M, K, p, s, d)
    per_side = lambda M, K, p, s, d: (M + 2 * p - d * (K - 1) - 1) // s + 1  # noqa: E731
    assert exercises.check_output_size(per_side, padding="per_side")
    fb = exercises.check_output_size(right, padding="per_side")
    assert not fb and "counted once" in fb.message


def test_output_size_other_failures():
    fb = exercises.check_output_size(lambda M, K, p, s, d: (M + p - d * (K - 1) - 1) / s + 1)
    assert not fb and "not a whole number" in fb.message and "use //" in fb.hints[0]
    fb = exercises.check_output_size(lambda M, K, p, s, d: 1 / 0)
    assert not fb and "ZeroDivisionError" in fb.message
    fb = exercises.check_output_size(lambda M, K, p, s, d: 7)
    assert not fb and "off on" in fb.message and "for example" in fb.hints[0]
    fb = exercises.check_output_size(5)
    assert not fb and "Pass your function itself" in fb.message
    with pytest.raises(ValueError, match="padding must be one of 'total', 'per_side'"):
        exercises.check_output_size(right, padding="both")


# --- check_same_padding --------------------------------------------------------------

@pytest.mark.parametrize("K, d", [(3, 1), (3, 2), (5, 1), (5, 3), (4, 1), ((3, 5), (2, 1))])
def test_same_padding_right_and_torch(K, d):
    K2, d2 = (K, K) if isinstance(K, int) else K, (d, d) if isinstance(d, int) else d
    total = tuple(dd * (k - 1) for k, dd in zip(K2, d2))
    answer = total if isinstance(K, tuple) else total[0]
    assert exercises.check_same_padding(answer, K, d)
    x = torch.zeros(1, 1, 11, 12)
    padded = F.pad(x, (total[1] // 2, total[1] - total[1] // 2, total[0] // 2, total[0] - total[0] // 2))
    assert F.conv2d(padded, torch.zeros(1, 1, *K2), dilation=d2).shape == x.shape
    if all(t % 2 == 0 for t in total):
        half = tuple(t // 2 for t in total)
        assert exercises.check_same_padding(half if isinstance(K, tuple) else half[0], K, d, padding="per_side")


@pytest.mark.parametrize("answer, K, d, kind, reason", [
    (2, 3, 2, "total", "ignores the dilation"),
    (1, 3, 2, "per_side", "ignores the dilation"),
    (3, 3, 3, "total", "padding on each side"),
    (1, 3, 1, "total", "padding on each side"),
    (2, 3, 1, "per_side", "that is the total padding"),
    (5, 3, 2, "total", "effective kernel size"),
    (5, 5, 1, "total", "effective kernel size"),
    (3, 5, 1, "total", "one too few"),
    (3, 5, 1, "per_side", "one row too many on each side"),
    (3, 5, 2, "per_side", "one row too few on each side"),
])
def test_same_padding_diagnoses(answer, K, d, kind, reason):
    fb = exercises.check_same_padding(answer, K, d, padding=kind)
    assert not fb and reason in fb.message, fb.message


def test_same_padding_errors():
    fb = exercises.check_same_padding("two", 3)
    assert not fb and "int or a pair" in fb.message
    fb = exercises.check_same_padding(7, 3)
    assert not fb and "solve" in fb.hints[0]
    fb = exercises.check_same_padding((4, 3), 5)
    assert not fb and "one too few" in fb.message
    with pytest.raises(ValueError, match=r"no per-side padding gives 'same' output .* is odd"):
        exercises.check_same_padding(1, 4, padding="per_side")
    with pytest.raises(ValueError, match="dilation must be an int >= 1"):
        exercises.check_same_padding(1, 3, 0)


# --- check_conv_params ---------------------------------------------------------------

@pytest.mark.parametrize("c_in, c_out, K", [(3, 64, 3), (1, 6, 5), (6, 16, 5), (64, 128, (3, 1))])
def test_conv_params_right_matches_nn(c_in, c_out, K):
    with torch.device("meta"):
        n = sum(p.numel() for p in nn.Conv2d(c_in, c_out, K).parameters())
    assert exercises.check_conv_params(n, c_in, c_out, K)
    assert exercises.check_conv_params(np.int64(n), c_in, c_out, K)


@pytest.mark.parametrize("answer, reason", [
    (6 * 16 * 25, "biases are missing"),
    (16 * 26, "input channels are missing"),
    (16 * 6 * 26, "one bias per kernel volume"),
    (6 * 25 + 1, "that is one kernel"),
    (16 * (6 * 10 + 1), "not K_h \\+ K_v".replace("\\", "")),
    (16 * (6 * 5 + 1), "not K"),
    (6 * 16 + 16, "dense layer"),
    (2 * 6 * 16 * 25, "not per weight"),
])
def test_conv_params_diagnoses(answer, reason):
    fb = exercises.check_conv_params(answer, 6, 16, 5)
    assert not fb and reason in fb.message, fb.message


def test_conv_params_other():
    fb = exercises.check_conv_params(12.5, 6, 16, 5)
    assert not fb and "whole number" in fb.message
    fb = exercises.check_conv_params(3, 6, 16, 5)
    assert not fb and "Eq. (6.23)" in fb.hints[0]
    with pytest.raises(ValueError, match="c_in must be a positive integer"):
        exercises.check_conv_params(1, 0, 16, 5)
    with pytest.raises(ValueError, match="K must be an int >= 1"):
        exercises.check_conv_params(1, 1, 16, (5, 0))


# --- check_conv2d --------------------------------------------------------------------

def test_conv2d_right_answers():
    assert exercises.check_conv2d(torch_layer)
    assert exercises.check_conv2d(lambda x, W, b, **kw: torch_layer(x, W, b, **kw), padding=1, stride=2, dilation=2)
    assert exercises.check_conv2d(layers.conv2d, padding=(1, 0), stride=(1, 2))


@pytest.mark.parametrize("fn, reason", [
    (lambda x, W, b: torch_layer(x, W[..., ::-1, ::-1].copy(), b), "kernel was flipped"),
    (lambda x, W, b: torch_layer(x, W, 0 * b), "bias was left out"),
    (lambda x, W, b: torch_layer(x, W, 3 * b), "once per input channel"),
    (lambda x, W, b: torch_layer(x[:1].copy(), W[:, :1].copy(), b), "only the first input channel"),
    (lambda x, W, b: torch_layer(x, W.swapaxes(-1, -2).copy(), b), "kernel was transposed"),
    (lambda x, W, b: torch_layer(x, W[:, ::-1].copy(), b), "reverse order"),
])
def test_conv2d_value_diagnoses(fn, reason):
    fb = exercises.check_conv2d(fn)
    assert not fb and reason in fb.message, fb.message


def per_channel(x, W, b):
    return np.stack([torch_layer(x[c:c + 1].copy(), W[:, c:c + 1].copy(), b * 0) for c in range(x.shape[0])], axis=1)


@pytest.mark.parametrize("fn, hint", [
    (per_channel, "one result per input channel"),
    (lambda x, W, b: torch_layer(x, W, b)[0], "output-channel axis is missing"),
    (lambda x, W, b: torch_layer(x, W, b, padding=2), "'full' size"),
    (lambda x, W, b: torch_layer(x, W, b)[:, :-1, :-1], r"+ 1 of Eq. (6.17)"),
    (lambda x, W, b: torch_layer(x, W, b, padding=1), "input's size"),
])
def test_conv2d_shape_diagnoses(fn, hint):
    fb = exercises.check_conv2d(fn)
    assert not fb and "shape" in fb.message and any(hint in h for h in fb.hints), (fb.message, fb.hints)


def test_conv2d_other():
    fb = exercises.check_conv2d(lambda x, W, b: x.undefined)
    assert not fb and "AttributeError" in fb.message
    fb = exercises.check_conv2d(lambda x, W, b: torch_layer(x, W, b), stride=2)
    assert not fb and "TypeError" in fb.message  # the settings are passed as keywords
    fb = exercises.check_conv2d(np.zeros(3))
    assert not fb and "Pass your function itself" in fb.message
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        exercises.check_conv2d(torch_layer, stride=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        exercises.check_conv2d(torch_layer, seed=-1)
