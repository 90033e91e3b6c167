"""Checkers of Section 6.4.6: right answers pass, each known slip gets its diagnosis, against cnnlib.inner."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from cnnlib import exercises, inner, models
from cnnlib.exercises import inner as ex


# --------------------------------------------------------------------------- receptive-field boxes
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 9), st.integers(0, 9))
def test_box_checker_agrees_with_inner(r, c):
    net = models.lenet5()
    box = inner.receptive_field_box(net, "features.conv2", (r, c), (1, 28, 28))
    assert exercises.check_receptive_field_box(box, net, "features.conv2", (r, c), (1, 28, 28))
    t, l, b, rr = box
    assert not exercises.check_receptive_field_box((t, l, b + 1, rr + 1), net, "features.conv2", (r, c), (1, 28, 28))


def test_box_checker_diagnoses():
    net = models.lenet5()
    args = (net, "features.conv2", (5, 9), (1, 28, 28))  # the answer is (8, 16, 21, 27)
    assert "clip it" in str(exercises.check_receptive_field_box((8, 16, 21, 29), *args))
    assert "clip it" in str(exercises.check_receptive_field_box((-2, 0, 11, 11), net, "features.conv2", (0, 0), (1, 28, 28)))
    fb = exercises.check_receptive_field_box((8, 12, 22, 26), net, "features.conv2", (5, 7), (1, 28, 28))
    assert "one pixel too far" in str(fb)  # unit (5, 7) sees (8, 12, 21, 25)
    assert "(top, bottom, left, right)" in str(exercises.check_receptive_field_box((8, 21, 16, 27), *args))
    fb = exercises.check_receptive_field_box((9, 15, 22, 26), *args)
    assert not fb and "shifted" in str(fb) and "one pixel off" in str(fb)
    assert "four whole numbers" in str(exercises.check_receptive_field_box((8, 16, 21), *args))
    assert "four whole numbers" in str(exercises.check_receptive_field_box("box", *args))


# --------------------------------------------------------------------------- top images
def _top_images(acts, k):
    flat = acts.reshape(len(acts), -1)
    order = np.argsort(-flat.max(axis=1), kind="stable")[:k]
    return [(int(n), divmod(int(flat[n].argmax()), acts.shape[2]), float(flat[n].max())) for n in order]


def test_top_images_reference_is_inner_top_activations():
    acts = np.random.default_rng(0).normal(size=(9, 4, 6)).astype(np.float32)
    identity = torch.nn.Sequential(torch.nn.Identity())
    got = inner.top_activations(identity, "0", 0, torch.tensor(acts[:, None]), k=5)
    assert [(i, p) for i, p, _ in got] == [(i, p) for i, p, _ in ex._top_images_reference(acts, 5)]


def test_top_images_checker():
    assert exercises.check_top_images(_top_images)
    assert "increasing order" in str(exercises.check_top_images(lambda a, k: _top_images(a, len(a))[::-1][:k]))
    assert "increasing order" in str(exercises.check_top_images(lambda a, k: _top_images(a, k)[::-1]))

    def by_mean(acts, k):
        flat = acts.reshape(len(acts), -1)
        order = np.argsort(-flat.mean(axis=1), kind="stable")[:k]
        return [(int(n), divmod(int(flat[n].argmax()), acts.shape[2]), float(flat[n].max())) for n in order]

    assert "mean activation" in str(exercises.check_top_images(by_mean))

    def pooled(acts, k):  # the k largest values over all images and positions
        flat = acts.reshape(-1)
        order = np.argsort(-flat, kind="stable")[:k]
        return [(int(i // acts[0].size), divmod(int(i % acts[0].size), acts.shape[2]), float(flat[i])) for i in order]

    assert "appears more than once" in str(exercises.check_top_images(pooled))
    assert "(col, row)" in str(exercises.check_top_images(lambda a, k: [(i, p[::-1], v) for i, p, v in _top_images(a, k)]))
    assert "entries" in str(exercises.check_top_images(lambda a, k: _top_images(a, k)[:-1]))
    assert "return a list" in str(exercises.check_top_images(lambda a, k: 3))
    assert "raised ZeroDivisionError" in str(exercises.check_top_images(lambda a, k: 1 / 0))


# --------------------------------------------------------------------------- ReLU rules
def test_relu_backward_checker_names_each_rule():
    deconv, backprop, guided = (lambda x, g: np.maximum(g, 0)), (lambda x, g: g * (x > 0)), \
        (lambda x, g: np.maximum(g, 0) * (x > 0))
    assert exercises.check_relu_backward(deconv)
    assert exercises.check_relu_backward(backprop, rule="backprop")
    assert exercises.check_relu_backward(guided, rule="guided")
    assert "backpropagation: keep the signal" in str(exercises.check_relu_backward(backprop))
    assert "guided backpropagation" in str(exercises.check_relu_backward(guided))
    assert "the deconvnet" in str(exercises.check_relu_backward(deconv, rule="guided"))
    assert "applied to x" in str(exercises.check_relu_backward(lambda x, g: np.maximum(x, 0)))
    with pytest.raises(ValueError, match="rule"):
        exercises.check_relu_backward(deconv, rule="lrp")


def test_deconvnet_rule_is_what_inner_uses():
    """The checker's deconvnet rule, applied by hand at the ReLU of conv -> ReLU, gives inner.deconvnet."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, bias=False), torch.nn.ReLU(), torch.nn.Conv2d(2, 1, 2, bias=False))
    x = torch.randn(1, 6, 6)
    got = inner.deconvnet(net, "2", 0, x, (1, 2))
    with torch.no_grad():
        z1 = net[0](x[None])
        out = net[2](net[1](z1))
        seed = torch.zeros_like(out)
        seed[0, 0, 1, 2] = out[0, 0, 1, 2]
        g = torch.nn.functional.conv_transpose2d(seed, net[2].weight)
        g = torch.tensor(ex._RELU_RULES["deconvnet"][1](z1.numpy(), g.numpy()))
        expected = torch.nn.functional.conv_transpose2d(g, net[0].weight)[0]
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- occlusion
def _occlusion(score, image, patch, stride, fill):
    H, W = image.shape[1:]
    base = score(image)
    out = np.zeros(((H - patch) // stride + 1, (W - patch) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            y = image.copy()
            y[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            out[i, j] = score(y) - base
    return out


def test_occlusion_reference_is_inner_occlusion_map():
    rng = np.random.default_rng(1)
    weights = torch.tensor(rng.normal(size=(2, 11, 9)))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 11 * 9, 1, bias=False)).double()
    with torch.no_grad():
        model[1].weight.copy_(weights.reshape(1, -1))
    image = rng.random((2, 11, 9))
    got = inner.occlusion_map(model, torch.tensor(image), lambda out: out[:, 0], 3, 2, fill=0.5)
    expected, _, _ = ex._occlusion_reference(lambda im: float((im * weights.numpy()).sum()), image, 3, 2, 0.5)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_occlusion_checker():
    assert exercises.check_occlusion(_occlusion)
    assert "sign is reversed" in str(exercises.check_occlusion(lambda *a: -_occlusion(*a)))

    def raw(score, image, patch, stride, fill):
        return _occlusion(score, image, patch, stride, fill) + score(image)

    assert "subtract the score of the intact image" in str(exercises.check_occlusion(raw))
    assert "stride of 1" in str(exercises.check_occlusion(lambda s, im, p, st_, f: _occlusion(s, im, p, 1, f)))

    def too_many(score, image, patch, stride, fill):
        H, W = image.shape[1:]
        return np.zeros((-(-H // stride), -(-W // stride)))  # positions where the square spills out

    assert "stay inside the image" in str(exercises.check_occlusion(too_many))
