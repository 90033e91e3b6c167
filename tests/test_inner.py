"""cnnlib.inner against independent oracles.

- receptive_field_box: the bounding box of the support of the input gradient of one unit of a
  network whose every path carries a positive weight (test_receptive_field's oracle), for every
  unit, border units (padding, dilated taps, ceil-mode pools) and branches (Fire, residual,
  inception) included;
- top_activations: brute force over the whole layer output, and the batches it streams;
- deconvnet: an explicit layer-by-layer reverse pass (switch unpooling, rectification,
  transposed convolutions) on small hand-made networks, with and without a concatenation;
- occlusion_map: a loop that occludes one copy at a time;
- error paths.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn

from cnnlib import inner, models
from test_receptive_field import _oracle_model, _positive_twin, stack  # shapes.receptive_field's stacks and twin


def _support_box(grad):
    rows, cols = np.nonzero(grad)
    return rows.min(), cols.min(), rows.max(), cols.max()


# --------------------------------------------------------------------------- receptive_field_box
def test_box_stops_at_the_edges_of_the_maps_in_between():
    """A later window that reaches past an earlier map's edge adds no pixels (found by hypothesis in CI).

    12 x 12 -> pool 2 -> 6 x 6 -> pool 3, stride 2 -> 2 x 2 (row 5 of the 6 x 6 map is never read)
    -> pool 4, stride 1, padding 1 -> 1 x 1. The field formula says rows 0..11; only 0..9 matter.
    """
    layers = [nn.MaxPool2d(2), nn.MaxPool2d(3, 2), nn.MaxPool2d(4, 1, 1)]
    x = torch.ones(1, 1, 12, 12, dtype=torch.float64, requires_grad=True)
    _oracle_model(layers)(x)[0, 0, 0, 0].backward()
    assert tuple(int(v) for v in _support_box(x.grad[0, 0].numpy())) == (0, 0, 9, 9)
    assert inner.receptive_field_box(nn.Sequential(*layers), "2", (0, 0), (1, 12, 12)) == (0, 0, 9, 9)


@settings(max_examples=60, deadline=None)
@given(stack(), st.integers(12, 40), st.integers(12, 40), st.data())
def test_box_contains_the_gradient_support_and_is_tight(layers, H, W, data):
    net = nn.Sequential(*layers)
    oracle = _oracle_model(layers)
    x = torch.ones(1, 1, H, W, dtype=torch.float64, requires_grad=True)
    try:
        y = oracle(x)
    except RuntimeError:  # input too small for this stack
        return
    if y.shape[-1] < 1 or y.shape[-2] < 1:
        return
    r = data.draw(st.integers(0, y.shape[-2] - 1))
    c = data.draw(st.integers(0, y.shape[-1] - 1))
    top, left, bottom, right = inner.receptive_field_box(net, str(len(layers) - 1), (r, c), (1, H, W))
    y[0, 0, r, c].backward()
    grad = x.grad[0, 0].numpy()
    assert (top, left, bottom, right) == _support_box(grad)  # dilation and strides longer than kernels too


def _fire_net(pool):
    return nn.Sequential(nn.Conv2d(2, 3, 3, stride=2), nn.ReLU(), pool(), models.Fire(3, 2, 2, 2), pool(),
                         models.Fire(4, 2, 3, 3), nn.ReLU())


@settings(max_examples=25, deadline=None)
@given(st.integers(7, 24), st.integers(7, 24), st.data())
def test_box_of_fire_modules_and_ceil_mode_pools(h, w, data):
    H, W = 2 * h + 1, 2 * w + 1  # odd sizes: the stride-2 first layer reads every pixel
    net = _fire_net(lambda: nn.MaxPool2d(3, 2, ceil_mode=True))
    oracle = _fire_net(lambda: nn.AvgPool2d(3, 2, ceil_mode=True)).double()
    with torch.no_grad():
        for p in oracle.parameters():
            p.fill_(1.0 if p.ndim > 1 else 0.0)
    x = torch.ones(1, 2, H, W, dtype=torch.float64, requires_grad=True)
    y = oracle(x)
    r = data.draw(st.integers(0, y.shape[-2] - 1))
    c = data.draw(st.integers(0, y.shape[-1] - 1))
    ch = data.draw(st.integers(0, y.shape[1] - 1))
    y[0, ch, r, c].backward()
    support = _support_box(x.grad[0].abs().sum(0).numpy())
    box = inner.receptive_field_box(net, "5", (r, c), (2, H, W))
    if ch >= 3:  # the 3 x 3 branch sees the whole field; the 1 x 1 branch a part of it
        assert support == box
    else:
        assert box[0] <= support[0] and box[1] <= support[1] and support[2] <= box[2] and support[3] <= box[3]


def test_squeezenet_fields_and_a_max_pool_network():
    model = models.squeezenet1_1()
    assert inner.receptive_field_box(model, "features.fire9", (6, 6), (3, 224, 224)) == (8, 8, 214, 214)
    assert inner.receptive_field_box(model, model.features.conv1, (0, 0), (3, 224, 224)) == (0, 0, 2, 2)
    # with max pooling only some pixels of the box matter, never one outside it
    torch.manual_seed(0)
    net = models.lenet5()
    x = torch.randn(1, 1, 28, 28, requires_grad=True)
    net.features[:5](x)[0, 3, 7, 2].backward()
    t, l, b, r = inner.receptive_field_box(net, "features.relu2", (7, 2), (1, 28, 28))
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    assert rows.min() >= t and rows.max() <= b and cols.min() >= l and cols.max() <= r


def test_box_with_dilation_at_a_border():
    """Conv2d(1, 1, 3, dilation=2, padding=2) on 5 x 5: unit (0, 1) has taps at columns -1, 1 and 3, so
    columns 1 to 3 (issue 19; walking back the effective kernel gave 0 to 3) and rows 0 to 2 (taps -2, 0, 2)."""
    net = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2, padding=2, bias=False))
    nn.init.ones_(net[0].weight)
    x = torch.ones(1, 1, 5, 5, requires_grad=True)
    net(x)[0, 0, 0, 1].backward()
    assert _support_box(x.grad[0, 0].numpy()) == (0, 1, 2, 3)
    assert inner.receptive_field_box(net, "0", (0, 1), (1, 5, 5)) == (0, 1, 2, 3)


class _SumWindows(nn.Module):
    """A max pool's windows summed with weight 1 (dilation and ceil mode included): every pixel of a window
    reaches the output through a positive weight. PyTorch's own pool says how many windows there are."""

    def __init__(self, pool):
        super().__init__()
        self.pool = pool

    def forward(self, x):
        h, w = self.pool(x).shape[-2:]
        (k, _), (s, _), (p, _), (d, _) = (nn.modules.utils._pair(v) for v in (
            self.pool.kernel_size, self.pool.stride, self.pool.padding, self.pool.dilation))
        extra = [max(0, (o - 1) * s + d * (k - 1) + 1 - (m + 2 * p)) for o, m in zip((h, w), x.shape[-2:])]
        padded = F.pad(x, (p, p + extra[1], p, p + extra[0]))
        return F.conv2d(padded, torch.ones(1, 1, k, k, dtype=x.dtype), stride=s, dilation=d)[..., :h, :w]


def _kernel_and_stride(build):
    """Layers ``build(k, s)`` for a kernel size k of 1 to 4 and a stride s of 1 to 3."""
    return st.tuples(st.integers(1, 4), st.integers(1, 3)).flatmap(lambda ks: build(*ks))


# Convolutions with any padding (a window may read padding only), stride and dilation; max pools with
# dilation and ceil mode; average pools with ceil mode; ReLUs.
_BORDERED_LAYER = st.one_of(
    _kernel_and_stride(lambda k, s: st.integers(1, 3).flatmap(lambda d: st.builds(
        nn.Conv2d, st.just(1), st.just(1), st.just(k), stride=st.just(s), dilation=st.just(d),
        padding=st.integers(0, d * (k - 1) + 1), bias=st.just(False)))),
    _kernel_and_stride(lambda k, s: st.builds(nn.Conv2d, st.just(1), st.just(1), st.just(k), padding=st.just("same"),
                                              dilation=st.integers(1, 3), bias=st.just(False))),
    _kernel_and_stride(lambda k, s: st.builds(nn.MaxPool2d, st.just(k), st.just(s), st.integers(0, k // 2),
                                              dilation=st.integers(1, 2), ceil_mode=st.booleans())),
    _kernel_and_stride(lambda k, s: st.builds(nn.AvgPool2d, st.just(k), st.just(s), st.integers(0, k // 2),
                                              ceil_mode=st.booleans())),
    st.builds(nn.ReLU))


def _ones_twin(layers):
    """``_oracle_model``'s convolutions of ones, with max pools summed over their own windows (dilation, ceil
    mode) and average pools kept as they are (ceil mode); ReLUs left out."""
    return nn.Sequential(*[_SumWindows(layer) if isinstance(layer, nn.MaxPool2d) else
                           layer if isinstance(layer, nn.AvgPool2d) else _oracle_model([layer])[0]
                           for layer in layers if not isinstance(layer, nn.ReLU)])


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(max_examples=150, deadline=None)
@given(st.lists(_BORDERED_LAYER, min_size=1, max_size=4), st.integers(3, 30), st.integers(3, 30), st.data())
def test_box_is_the_gradient_support_at_the_borders(layers, H, W, data):
    """Every unit's box is the bounding box of the pixels with a nonzero input gradient in a twin whose paths
    all carry positive weights (convolutions of ones, max pools as sums over the same windows); border
    units, whose windows reach into padding, are drawn as often as inner ones."""
    net = nn.Sequential(*layers)
    x = torch.ones(1, 1, H, W, dtype=torch.float64, requires_grad=True)
    try:
        y = _ones_twin(layers)(x)
        assert y.shape == net.double()(x).shape
    except RuntimeError:  # the input is too small for this stack
        return
    h, w = y.shape[-2:]
    r = data.draw(st.sampled_from(sorted({0, h - 1, data.draw(st.integers(0, h - 1))})))
    c = data.draw(st.sampled_from(sorted({0, w - 1, data.draw(st.integers(0, w - 1))})))
    y[0, 0, r, c].backward()
    grad = x.grad[0, 0].numpy()
    if not grad.any():  # the unit's windows read only padding
        with pytest.raises(ValueError, match=rf"position \({r}, {c}\) of layer '{len(layers) - 1}' reads only "
                                             "padding"):
            inner.receptive_field_box(net, str(len(layers) - 1), (r, c), (1, H, W))
        return
    assert inner.receptive_field_box(net, str(len(layers) - 1), (r, c), (1, H, W)) == _support_box(grad)


def _branch_support(twin, layer, unit, channels, size):
    x = torch.ones(1, 3, size, size, requires_grad=True)
    out = {}
    handle = dict(twin.named_modules())[layer].register_forward_hook(lambda m, i, o: out.setdefault("y", o))
    twin(x)
    handle.remove()
    out["y"][0, channels, unit[0], unit[1]].sum().backward()
    return _support_box(x.grad[0].abs().sum(0).numpy())


@pytest.mark.parametrize("build, layer, channels", [
    (models.squeezenet1_1, "features.fire2", slice(None)),                        # the 3 x 3 path: 15 x 15
    (models.squeezenet1_1, "features.fire2.expand1x1_activation", slice(None)),   # the 1 x 1 path: 7 x 7
    (models.squeezenet1_1, "features.fire3", slice(None)),
    (lambda: models.resnet(18), "features.stage2", slice(None)),     # a projection shortcut beside two 3 x 3
    (lambda: models.resnet(18), "features.stage3.block1.shortcut", slice(None)),
    (models.googlenet, "features.inception3a", slice(None)),         # four branches, a 5 x 5 among them
])
def test_box_follows_the_largest_path_through_branches(build, layer, channels):
    """Fire, residual and inception modules: the box is the bounding box of the gradient's support of the
    positive twin, at a corner, at the opposite corner and in the middle of the map (walking the branches
    in sequence, as the box did before, adds the kernels of parallel branches)."""
    torch.manual_seed(0)
    model = build().eval()
    twin, size = _positive_twin(model), 72
    h, w = inner.feature_maps(model, layer, torch.zeros(3, size, size)).shape[-2:]
    for unit in [(0, 0), (h - 1, w - 1), (h // 2, w // 3)]:
        box = inner.receptive_field_box(model, layer, unit, (3, size, size))
        assert box == _branch_support(twin, layer, unit, channels, size), (layer, unit)
    if layer == "features.fire2":
        assert box[2] - box[0] + 1 == 15
    if layer.endswith("expand1x1_activation"):
        assert box[2] - box[0] + 1 == 7


# --------------------------------------------------------------------------- feature maps, top activations
def _small_net():
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 3, 3), nn.ReLU())


def test_feature_maps_are_the_layer_output():
    net = _small_net()
    x = torch.randn(1, 6, 6).repeat(1, 2, 2)
    np.testing.assert_allclose(inner.feature_maps(net, "3", x), net[:4](x[None])[0].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(inner.feature_maps(net, net[1], x.numpy()), net[:2](x[None])[0].detach().numpy())


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.data())
def test_top_activations_match_brute_force(n, data):
    net = _small_net()
    k = data.draw(st.integers(1, n))
    layer = data.draw(st.sampled_from(["1", "2", "4"]))
    channel = data.draw(st.integers(0, 2))
    batch_size = data.draw(st.integers(1, 5))
    integers = data.draw(st.booleans())  # integer images make ties likely
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 10_000)))
    x = torch.randint(0, 2, (n, 1, 10, 10), generator=g).float() if integers else torch.randn(n, 1, 10, 10, generator=g)
    with torch.no_grad():
        maps = net[:int(layer) + 1](x)[:, channel].numpy()  # (n, h, w)
    flat = maps.reshape(n, -1)
    best = flat.max(axis=1)
    where = flat.argmax(axis=1)  # first maximum
    order = sorted(range(n), key=lambda i: (-best[i], i))[:k]
    expected = [(i, divmod(int(where[i]), maps.shape[2]), float(best[i])) for i in order]
    got = inner.top_activations(net, layer, channel, x, k=k, batch_size=batch_size)
    np.testing.assert_allclose([v for *_, v in got], [v for *_, v in expected], rtol=1e-5, atol=1e-6)
    for i, (r, c), v in got:  # each entry is its image's maximum, at a place where the map reaches it
        assert v == pytest.approx(best[i], rel=1e-5, abs=1e-6)
        assert maps[i, r, c] == pytest.approx(best[i], rel=1e-5, abs=1e-6)
    if not integers:  # no ties: the same images and positions, in the same order
        assert [(i, p) for i, p, _ in got] == [(i, p) for i, p, _ in expected]


def test_top_activations_break_ties_by_index_and_position():
    x = torch.zeros(6, 1, 3, 4)
    x[[1, 4, 5], 0, 2, 1] = 2.0
    x[[1, 4], 0, 0, 3] = 2.0  # a tie inside images 1 and 4 too: the first position in row-major order wins
    x[2, 0, 1, 1] = 3.0
    got = inner.top_activations(torch.nn.Sequential(torch.nn.Identity()), "0", 0, x, k=4, batch_size=2)
    assert got == [(2, (1, 1), 3.0), (1, (0, 3), 2.0), (4, (0, 3), 2.0), (5, (2, 1), 2.0)]


def test_top_activations_stream_datasets_in_batches():
    net = _small_net()
    x = torch.randn(23, 1, 8, 8)
    dataset = [(x[i], i % 3) for i in range(23)]
    seen = []
    handle = net[0].register_forward_pre_hook(lambda m, inp: seen.append(inp[0].shape[0]))
    got = inner.top_activations(net, "4", 1, dataset, k=4, batch_size=5)
    handle.remove()
    assert max(seen) <= 5 and sum(seen) == 23
    assert got == inner.top_activations(net, "4", 1, x, k=4)
    values, positions = inner.activation_maxima(net, "4", x, batch_size=7)
    assert [i for i, *_ in got] == list(np.argsort(-values[:, 1], kind="stable")[:4])


def test_top_activations_of_a_dense_layer():
    net = models.lenet5()
    x = torch.randn(6, 1, 28, 28)
    got = inner.top_activations(net, "classifier.relu3", 5, x, k=6)
    with torch.no_grad():
        v = net.classifier[:3](net.features(x))[:, 5].numpy()
    assert [i for i, *_ in got] == list(np.argsort(-v, kind="stable"))
    assert all(p == (0, 0) for _, p, _ in got)


# --------------------------------------------------------------------------- deconvnet
def _reverse_pass(w1, w2, x, channel, position, guided=False):
    """Zeiler and Fergus's deconvnet written out: conv1 (pad 1), ReLU, 2x2 max-pool, conv2, ReLU, and back.

    ``guided``: guided backpropagation, which also masks each rectified signal by where the
    ReLU's forward input was positive."""
    z1 = F.conv2d(x, w1, padding=1)
    a1 = F.relu(z1)
    p1, switches = F.max_pool2d(a1, 2, return_indices=True)
    z2 = F.conv2d(p1, w2)
    a2 = F.relu(z2)
    r, c = position
    down = torch.zeros_like(a2)
    down[0, channel, r, c] = a2[0, channel, r, c]
    down = F.relu(down) * ((z2 > 0) if guided else 1)     # rectify
    down = F.conv_transpose2d(down, w2)                   # transposed filters of conv2
    down = F.max_unpool2d(down, switches, 2, output_size=a1.shape[-2:])  # unpool with the switches
    down = F.relu(down) * ((z1 > 0) if guided else 1)     # rectify
    return F.conv_transpose2d(down, w1, padding=1)[0]     # transposed filters of conv1


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 4), st.integers(0, 3), st.integers(0, 3))
def test_deconvnet_is_the_explicit_reverse_pass(seed, channel, r, c):
    g = torch.Generator().manual_seed(seed)
    w1 = torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64)
    w2 = torch.randn(5, 3, 3, 3, generator=g, dtype=torch.float64)
    x = torch.randn(1, 2, 12, 12, generator=g, dtype=torch.float64)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(3, 5, 3, bias=False), nn.ReLU()).double()
    with torch.no_grad():
        net[0].weight.copy_(w1)
        net[3].weight.copy_(w2)
    got = inner.deconvnet(net, "4", channel, x[0], (r, c))
    np.testing.assert_allclose(got, _reverse_pass(w1, w2, x, channel, (r, c)).numpy(), rtol=1e-10, atol=1e-12)
    guided = inner.guided_backprop(net, "4", channel, x[0], (r, c))
    np.testing.assert_allclose(guided, _reverse_pass(w1, w2, x, channel, (r, c), guided=True).numpy(),
                               rtol=1e-10, atol=1e-12)
    # plain backpropagation masks by the forward pass instead: a different answer in general
    assert all(type(m).forward is nn.ReLU.forward and "forward" not in vars(m) for m in net if isinstance(m, nn.ReLU))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))
def test_deconvnet_through_a_fire_module(seed, channel, r, c):
    """A concatenation sends each channel's signal down its own branch; the squeeze layer adds the two."""
    torch.manual_seed(seed)
    fire = models.Fire(2, 3, 2, 3).double()
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    got = inner.deconvnet(fire, fire, channel, x[0], (r, c))
    # by hand
    s = F.relu(fire.squeeze(x))
    e1 = F.relu(fire.expand1x1(s))
    e3 = F.relu(fire.expand3x3(s))
    out = torch.cat([e1, e3], 1)
    down = torch.zeros_like(out)
    down[0, channel, r, c] = out[0, channel, r, c]
    down = F.relu(down)
    d1 = F.conv_transpose2d(down[:, :2], fire.expand1x1.weight)
    d3 = F.conv_transpose2d(down[:, 2:], fire.expand3x3.weight, padding=1)
    expected = F.conv_transpose2d(F.relu(d1 + d3), fire.squeeze.weight)[0]
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_deconvnet_default_position_restores_mode_and_differs_from_gradient():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU(), nn.Dropout(0.5))
    net.train()
    x = torch.randn(1, 10, 10)
    maps = inner.feature_maps(net, "3", x)
    where = np.unravel_index(maps[2].argmax(), maps[2].shape)
    proj = inner.deconvnet(net, "3", 2, x)
    np.testing.assert_allclose(proj, inner.deconvnet(net, "3", 2, x, tuple(int(v) for v in where)))
    assert net.training and net[4].training
    xg = x[None].clone().requires_grad_(True)
    net.eval()
    a = net[:4](xg)[0, 2][where]
    (grad,) = torch.autograd.grad(a, xg)
    assert not np.allclose(proj, (a * grad)[0].detach().numpy())  # the ReLU rule matters


# --------------------------------------------------------------------------- occlusion
def test_occlusion_map_matches_a_loop():
    torch.manual_seed(0)
    net = models.lenet5().eval()
    x = torch.rand(1, 28, 28)
    got = inner.occlusion_map(net, x, 3, patch=(6, 4), stride=(5, 3), fill=0.0, batch_size=7)
    with torch.no_grad():
        base = F.softmax(net(x[None]), 1)[0, 3]
        rows, cols = (28 - 6) // 5 + 1, (28 - 4) // 3 + 1
        expected = np.zeros((rows, cols), dtype=np.float32)
        for i in range(rows):
            for j in range(cols):
                y = x.clone()
                y[:, 5 * i:5 * i + 6, 3 * j:3 * j + 4] = 0.0
                expected[i, j] = F.softmax(net(y[None]), 1)[0, 3] - base
    np.testing.assert_allclose(got, expected, atol=1e-6)
    logit = inner.occlusion_map(net, x, lambda out: out[:, 3], patch=6, stride=5)
    assert logit.shape == (5, 5)


# --------------------------------------------------------------------------- layer_panel
def test_layer_panel_cuts_patches_to_the_boxes():
    net = _small_net()
    x = torch.rand(8, 1, 12, 12)
    panel = inner.layer_panel(net, "4", [0, 2], x, k=3, batch_size=3)
    for c in (0, 2):
        top = inner.top_activations(net, "4", c, x, k=3)
        assert [(u.index, u.position) for u in panel[c]] == [(i, p) for i, p, _ in top]
        for u in panel[c]:
            t, l, b, r = u.box
            assert u.box == inner.receptive_field_box(net, "4", u.position, (1, 12, 12))
            assert u.patch.shape == u.projection.shape == (1, b - t + 1, r - l + 1)
            full = inner.deconvnet(net, "4", c, x[u.index], u.position)
            np.testing.assert_allclose(u.projection, full[:, t:b + 1, l:r + 1], rtol=1e-5, atol=1e-7)  # batched vs one
            assert np.abs(full).sum() == pytest.approx(np.abs(u.projection).sum())  # nothing outside the box


# --------------------------------------------------------------------------- errors
def test_errors_name_the_argument():
    net = _small_net()
    x = torch.rand(3, 1, 8, 8)
    with pytest.raises(ValueError, match="layer must name a module of model.*'conv9'"):
        inner.feature_maps(net, "conv9", x[0])
    with pytest.raises(ValueError, match="layer must be a module inside model"):
        inner.top_activations(net, nn.ReLU(), 0, x, k=2)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        inner.feature_maps("net", "0", x[0])
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.2 .* got 3"):
        inner.top_activations(net, "4", 3, x, k=2)
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.3 .* got 7"):
        inner.deconvnet(net, "1", 7, x[0], (0, 0))
    with pytest.raises(ValueError, match=r"k must be at most the number of images \(3\), got 4"):
        inner.top_activations(net, "4", 0, x, k=4)
    with pytest.raises(ValueError, match=r"k must be at most the number of images \(3\), got 5"):
        inner.top_activations(net, "4", 0, [x[i] for i in range(3)], k=5)
    with pytest.raises(ValueError, match="k must be a positive int"):
        inner.top_activations(net, "4", 0, x, k=0)
    with pytest.raises(ValueError, match=r"position must lie on the \(2, 2\) map .* got \(2, 0\)"):
        inner.deconvnet(net, "4", 0, x[0], (2, 0))
    with pytest.raises(ValueError, match=r"position must lie on the \(2, 2\) map .* got \(0, 5\)"):
        inner.receptive_field_box(net, "4", (0, 5), (1, 8, 8))
    with pytest.raises(ValueError, match="position"):
        inner.receptive_field_box(net, "4", (-1, 0), (1, 8, 8))
    with pytest.raises(ValueError, match="position must be None or"):
        inner.deconvnet(models.lenet5(), "classifier.fc1", 0, torch.zeros(1, 28, 28), (1, 1))
    with pytest.raises(ValueError, match="comes after a flatten"):
        inner.receptive_field_box(models.lenet5(), "classifier.fc1", (0, 0), (1, 28, 28))
    with pytest.raises(ValueError, match="input_shape must be"):
        inner.receptive_field_box(net, "4", (0, 0), 8)
    with pytest.raises(ValueError, match=r"image must have shape \(C, H, W\)"):
        inner.feature_maps(net, "1", torch.zeros(8, 8))
    with pytest.raises(TypeError, match="image must be a tensor or array"):
        inner.deconvnet(net, "1", 0, [[0.0]])
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\)"):
        inner.top_activations(net, "1", 0, torch.zeros(3, 8, 8), k=1)
    with pytest.raises(TypeError, match="images must be a tensor, an array or a dataset"):
        inner.activation_maxima(net, "1", 5)
    with pytest.raises(ValueError, match="images must hold at least one image"):
        inner.activation_maxima(net, "1", torch.zeros(0, 1, 8, 8))
    with pytest.raises(ValueError, match=r"patch must fit in the \(8, 8\) image"):
        inner.occlusion_map(net, x[0], lambda o: o.sum((1, 2, 3)), patch=9, stride=1)
    with pytest.raises(ValueError, match="stride must be"):
        inner.occlusion_map(net, x[0], lambda o: o.sum((1, 2, 3)), patch=2, stride=0)
    with pytest.raises(TypeError, match="target must be a class index"):
        inner.occlusion_map(net, x[0], "cat", patch=2, stride=2)
    with pytest.raises(ValueError, match=r"target must be a class index in 0\.\.9"):
        inner.occlusion_map(models.lenet5(), torch.zeros(1, 28, 28), 10, patch=4, stride=4)
    with pytest.raises(ValueError, match=r"target\(output\) must give one score per image"):
        inner.occlusion_map(net, x[0], lambda o: o.sum(), patch=2, stride=2)
    with pytest.raises(ValueError, match=r"channels must be in 0\.\.2"):
        inner.layer_panel(net, "4", [0, 3], x, k=2)
    with pytest.raises(ValueError, match=r"k must be at most the number of images \(3\), got 9"):
        inner.layer_panel(net, "4", [0], x)
    unused = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 1))
    unused.forward = lambda t: unused[0](t)
    with pytest.raises(ValueError, match="was not used in the forward pass"):
        inner.feature_maps(unused, "1", x[0])


# --------------------------------------------------------------------------- choosing channels and winners
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(9, 30), st.integers(1, 8), st.floats(0.0, 0.9))
def test_selective_channels_skip_channels_with_fewer_than_k_positive_images(seed, N, C, dead):
    rng = np.random.default_rng(seed)
    values = rng.exponential(size=(N, C)) * (rng.random((N, C)) > dead)
    k = 9
    got = inner.selective_channels(values, C, k=k)
    # oracle: a loop over the channels
    ratios = {}
    for c in range(C):
        column = values[:, c]
        if (column > 0).sum() >= k:
            ratios[c] = np.sort(column)[::-1][:k].mean() / column.mean()
    assert sorted(got) == sorted(ratios)
    along = [ratios[c] for c in got]              # most selective first (up to rounding on ties)
    assert all(a >= b * (1 - 1e-12) for a, b in zip(along, along[1:]))
    assert all((values[:, c] > 0).sum() >= k for c in got)


def test_layer_panel_keeps_one_winner_per_group_and_can_use_guided_backprop():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    x = torch.rand(12, 1, 10, 10)
    groups = [n // 3 for n in range(12)]          # four "photographs", three crops each
    values, _ = inner.activation_maxima(net, "2", x)
    panel = inner.layer_panel(net, "2", [0, 1], x, k=9, groups=groups)
    for c, units in panel.items():
        assert len(units) == 4                    # fewer than k: one per group
        best_per_group = sorted((max(range(3 * g, 3 * g + 3), key=lambda n: (values[n, c], -n)) for g in range(4)),
                                key=lambda n: (-values[n, c], n))
        assert [u.index for u in units] == best_per_group
    guided = inner.layer_panel(net, "2", [0], x, k=3, rule="guided")
    for u in guided[0]:
        full = inner.guided_backprop(net, "2", 0, x[u.index], u.position)
        t, l, b, r = u.box
        np.testing.assert_allclose(u.projection, full[:, t:b + 1, l:r + 1], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="groups must give one label per image"):
        inner.layer_panel(net, "2", [0], x, groups=[0, 1])
    with pytest.raises(ValueError, match="rule must be one of"):
        inner.layer_panel(net, "2", [0], x, rule="lrp")


# --------------------------------------------------------------------------- activation maximisation
@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000))
def test_activation_maximization_beats_every_image_of_a_pool(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 3, 3), nn.ReLU())
    pool = torch.rand(64, 1, 12, 12)
    values, _ = inner.activation_maxima(net, "4", pool)
    channel = int(np.argmax(values.max(axis=0)))
    with torch.no_grad():
        at_the_unit = net(pool)[:, channel, 1, 1]   # the pool's activations of the unit optimised
    best = inner.activation_maximization(net, "4", channel, (1, 12, 12), steps=64, lr=0.1, jitter=0, blur=0,
                                         seed=seed)
    assert best.image.shape == (1, 12, 12) and best.image.min() >= 0 and best.image.max() <= 1
    # the value reported is the unit's activation for the image returned (oracle: a plain forward pass)
    with torch.no_grad():
        direct = net(torch.tensor(best.image)[None])[0, channel][best.position]
    assert best.value == pytest.approx(float(direct), rel=1e-5)
    assert best.position == (1, 1)                # the centre of the 3 x 3 map
    assert best.value > float(at_the_unit.max())
    assert best.history.shape == (64,)
    regularised = inner.activation_maximization(net, "4", channel, (1, 12, 12), steps=32, lr=0.1, seed=seed)
    with torch.no_grad():
        grey = float(net(torch.full((1, 1, 12, 12), 0.5))[0, channel, 1, 1])
    assert regularised.value >= grey                             # the regularised ascent never ends lower
    assert all("forward" not in vars(m) for m in net if isinstance(m, nn.ReLU))  # rules restored


def test_activation_maximization_of_a_dense_unit_and_its_errors():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3), nn.ReLU())
    best = inner.activation_maximization(net, "2", 1, (1, 4, 4), steps=32, jitter=0, blur=0)
    w = net[1].weight[1].detach().numpy().reshape(4, 4)
    np.testing.assert_array_equal(best.image[0] > 0.5, w > 0)   # the linear unit's optimum: 1 where w > 0
    assert best.position == ()
    with pytest.raises(ValueError, match="input_shape must be"):
        inner.activation_maximization(net, "2", 1, (4, 4))
    with pytest.raises(ValueError, match="lr must be a number"):
        inner.activation_maximization(net, "2", 1, (1, 4, 4), lr=-1)
    with pytest.raises(ValueError, match="value_range must be"):
        inner.activation_maximization(net, "2", 1, (1, 4, 4), value_range=(1, 0))
    with pytest.raises(ValueError, match="position must be None"):
        inner.activation_maximization(net, "2", 1, (1, 4, 4), position=(0, 0))
    with pytest.raises(ValueError, match="channel must be in 0..2"):
        inner.activation_maximization(net, "2", 3, (1, 4, 4))


def test_activation_maxima_of_several_layers_in_one_pass():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 3, 3), nn.ReLU(),
                        nn.Flatten(), nn.Linear(27, 4))
    x = torch.randn(7, 1, 12, 12)
    both = inner.activation_maxima(net, ["1", "4", "6"], x, batch_size=3)
    for name in ("1", "4", "6"):
        values, positions = inner.activation_maxima(net, name, x, batch_size=3)
        np.testing.assert_array_equal(both[name][0], values)
        np.testing.assert_array_equal(both[name][1], positions)


def test_layer_panel_boxes_of_a_fire_module_follow_the_branch_of_the_channel():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), models.Fire(4, 2, 3, 3))
    x = torch.rand(6, 1, 16, 16)
    panel = inner.layer_panel(net, "2", [0, 5], x, k=2)    # channel 0: the 1 x 1 branch; 5: the 3 x 3 branch
    for c, extra in ((0, 0), (5, 1)):
        for u in panel[c]:
            oracle = inner.receptive_field_box(net, "0", u.position, (1, 16, 16))   # conv 3 x 3 alone
            t, l, b, r = oracle
            grown = (max(t - extra, 0), max(l - extra, 0), min(b + extra, 15), min(r + extra, 15))
            assert u.box == grown

