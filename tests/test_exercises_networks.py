"""Tests of cnnlib.exercises.networks against PyTorch (autograd, nn modules) as the oracle."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnlib import exercises, models
from cnnlib.exercises import networks

LENET = dict(L=7, L_train=5, L_pool=2, L_conv=2, L_dense=3)


def meta_vgg(config):
    with torch.device("meta"):
        return models.vgg(config)


# ---------------------------------------------------------------- layer counts (6.22)

def test_layer_counts_vgg19_chapter_numbers():
    with torch.device("meta"):
        model = models.vgg19()
    fb = exercises.check_layer_counts(dict(L=24, L_train=19, L_pool=5, L_conv=16, L_dense=3), model, (3, 224, 224))
    assert fb, str(fb)


@pytest.mark.parametrize("answer, hint", [
    (dict(L=12, L_train=5, L_pool=7, L_conv=2, L_dense=3), "activations"),
    (dict(L=8, L_train=5, L_pool=3, L_conv=2, L_dense=3), "flattening"),
    (dict(L=5, L_train=5, L_pool=0, L_conv=2, L_dense=3), "pooling layers have no parameters"),
    (dict(L=7, L_train=7, L_pool=0, L_conv=4, L_dense=3), "learn nothing"),
    (dict(L=7, L_train=5, L_pool=2, L_conv=3, L_dense=3), "(6.22)"),
])
def test_layer_counts_slips(answer, hint):
    fb = exercises.check_layer_counts(answer, models.lenet5(), (1, 28, 28))
    assert not fb
    assert hint in str(fb)


def test_layer_counts_right_and_malformed():
    assert exercises.check_layer_counts(LENET, models.lenet5(), (1, 28, 28))
    assert "dict" in str(exercises.check_layer_counts([7, 5], models.lenet5(), (1, 28, 28)))
    assert "L_dense" in str(exercises.check_layer_counts({k: v for k, v in LENET.items() if k != "L_dense"},
                                                         models.lenet5(), (1, 28, 28)))
    assert "whole number" in str(exercises.check_layer_counts(dict(LENET, L=7.5), models.lenet5(), (1, 28, 28)))


# ---------------------------------------------------------------- pooling

def good_pool(kind):
    def pool(x, k):
        t = torch.as_tensor(x, dtype=torch.float64)[None, None]
        fn = F.max_pool2d if kind == "max" else F.avg_pool2d
        return fn(t, k).numpy()[0, 0]
    return pool


@pytest.mark.parametrize("kind", ["max", "avg"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_pool_checker_accepts_torch(kind, data):
    K = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    H, W = data.draw(st.integers(K[0], 9)), data.draw(st.integers(K[1], 9))
    x = np.random.default_rng(data.draw(st.integers(0, 99))).normal(size=(H, W))
    assert exercises.check_pool_output(good_pool("max" if kind == "max" else "avg"), kind, K, x=x)


def loop_pool(kind, *, step=None, stop_shift=1, ceil=False, reduce=None, transpose=False, rows_only=False):
    """A hand-written pooling loop with a configurable slip."""
    def pool(x, k):
        s = k if step is None else step
        H, W = x.shape
        stop_h = H if ceil else H - k + stop_shift
        stop_w = W if ceil else (W - k + 1 if rows_only else W - k + stop_shift)
        red = reduce or (np.max if kind == "max" else np.mean)
        out = np.array([[red(x[i:i + k, j:j + k]) for j in range(0, stop_w, s)] for i in range(0, stop_h, s)])
        return out.T if transpose else out
    return pool


@pytest.mark.parametrize("fn, kind, phrase", [
    (loop_pool("max"), "max", None),
    (loop_pool("avg"), "avg", None),
    (loop_pool("max", step=1), "max", "stride 1"),
    (loop_pool("avg", step=1), "avg", "stride 1"),
    (loop_pool("max", stop_shift=0), "max", "last row of windows"),
    (loop_pool("max", ceil=True), "max", "incomplete windows"),
    (loop_pool("max", reduce=np.mean), "max", "average-pooling"),
    (loop_pool("avg", reduce=np.max), "avg", "max-pooling"),
    (loop_pool("avg", reduce=np.sum), "avg", "summed"),
])
def test_pool_checker_diagnoses(fn, kind, phrase):
    fb = exercises.check_pool_output(fn, kind)
    if phrase is None:
        assert fb, str(fb)
    else:
        assert not fb
        assert phrase in str(fb)


def test_pool_checker_transposed_and_crash():
    x = np.arange(36.0).reshape(6, 6) % 7
    fb = exercises.check_pool_output(loop_pool("max", stop_shift=0), "max", x=x)
    assert not fb and "last row and column" in str(fb)
    fb = exercises.check_pool_output(loop_pool("max", stop_shift=0, rows_only=True), "max", x=x)
    assert not fb and "last row of windows" in str(fb)
    fb = exercises.check_pool_output(loop_pool("max", transpose=True), "max", x=x)
    assert not fb and "swapped" in str(fb)

    def broken(x, k):
        raise IndexError("index 7 is out of bounds")
    assert "IndexError" in str(exercises.check_pool_output(broken))


def test_pool_checker_errors():
    with pytest.raises(ValueError, match="kind must be one of"):
        exercises.check_pool_output(good_pool("max"), "min")
    with pytest.raises(ValueError, match="smaller than kernel_size"):
        exercises.check_pool_output(good_pool("max"), "max", 3, x=np.ones((2, 5)))
    with pytest.raises(ValueError, match="x must"):
        exercises.check_pool_output(good_pool("max"), "max", x=np.ones(5))


# ---------------------------------------------------------------- receptive fields

def autograd_field(specs):
    """Field size along one axis: input pixels with a nonzero gradient of one output unit."""
    mods = [nn.Conv1d(1, 1, K, stride=s, dilation=d, bias=False) for K, s, d in specs]
    for m in mods:
        nn.init.constant_(m.weight, 1.0)
    net = nn.Sequential(*mods).double()
    n = 1
    for K, s, d in reversed(specs):
        n = (n - 1) * s + d * (K - 1) + 1
    x = torch.ones(1, 1, n + 20, dtype=torch.float64, requires_grad=True)
    net(x)[0, 0, 0].backward()
    nz = torch.nonzero(x.grad[0, 0]).flatten()
    return int(nz.max() - nz.min() + 1)


layer_spec = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 2))


@settings(max_examples=40, deadline=None)
@given(st.lists(layer_spec, min_size=1, max_size=5))
def test_receptive_field_size_matches_autograd(specs):
    assert networks.receptive_field_size(specs) == autograd_field(specs)
    assert exercises.check_receptive_field(autograd_field(specs), specs)


def test_receptive_field_size_matches_shapes_module_on_vgg19():
    from cnnlib import shapes
    with torch.device("meta"):
        model = models.vgg19()
    rows = shapes.receptive_field(model, (3, 224, 224))
    specs = [(3, 1) if "conv" in r.name else (2, 2) for r in rows[1:] if r.kind in ("Conv2d", "MaxPool2d")]
    assert networks.receptive_field_size(specs) == rows[-1].size[0] == 268


@pytest.mark.parametrize("answer, phrase", [
    (11, "not multiplied by its jump"),
    (1 + 2 + 2 + 2 + 4 + 4 + 4, "own stride"),
    (4, "final jump"),
    (15, "off by one"),
    (30, "layer by layer"),
    ("sixteen", "whole number"),
])
def test_receptive_field_slips(answer, phrase):
    stack = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]
    fb = exercises.check_receptive_field(answer, stack)
    assert not fb
    assert phrase in str(fb)


def test_receptive_field_sum_of_kernels():
    fb = exercises.check_receptive_field(3 + 5 + 3, [(3, 1), (5, 1), (3, 1)])
    assert not fb and "sum of the kernel sizes" in str(fb)
    assert exercises.check_receptive_field(9, [(3, 1), (5, 1), (3, 1)])


def test_receptive_field_errors():
    with pytest.raises(TypeError, match="layers must be a list"):
        exercises.check_receptive_field(3, "conv")
    with pytest.raises(ValueError, match=r"layers\[0\] must be"):
        exercises.check_receptive_field(3, [3])
    with pytest.raises(ValueError, match="at least one"):
        exercises.check_receptive_field(3, [])
    with pytest.raises(ValueError, match=r"layers\[1\] stride must be a positive"):
        exercises.check_receptive_field(3, [(3, 1), (3, 0)])


# ---------------------------------------------------------------- VGG parameter counts

@pytest.mark.parametrize("config", ["vgg11", "vgg13", "vgg16", "vgg19"])
def test_vgg_count_matches_torch(config):
    total = sum(p.numel() for p in meta_vgg(config).parameters())
    assert exercises.check_vgg_parameter_count(total, config)
    assert not exercises.check_vgg_parameter_count(total + 1, config)


def test_vgg16_known_total():
    assert exercises.check_vgg_parameter_count(138_357_544, "vgg16")


def split_counts(config):
    model = meta_vgg(config)
    conv_w = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))
    conv_b = sum(m.bias.numel() for m in model.modules() if isinstance(m, nn.Conv2d))
    lin = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return conv_w, conv_b, sum(m.weight.numel() for m in lin), sum(m.bias.numel() for m in lin), lin


@pytest.mark.parametrize("slip, phrase", [
    ("weights", "weights only"), ("conv_bias", "convolutions' biases"), ("dense_bias", "dense layers' biases"),
    ("conv_only", "convolutions only"), ("dense_only", "dense layers only"), ("flatten", "takes C inputs"),
])
def test_vgg_count_slips(slip, phrase):
    cw, cb, dw, db, lin = split_counts("vgg16")
    answer = {"weights": cw + dw, "conv_bias": cw + dw + db, "dense_bias": cw + cb + dw,
              "conv_only": cw + cb, "dense_only": dw + db,
              "flatten": cw + cb + dw + db - lin[0].weight.numel() + 512 * 4096}[slip]
    fb = exercises.check_vgg_parameter_count(answer, "vgg16")
    assert not fb
    assert phrase in str(fb)


def test_vgg_count_same_depth_and_misc():
    _, _, dw, db, _ = split_counts("vgg11")
    convs = [c for c in models.VGG_CONFIGS["vgg11"] if c != "M"]
    fb = exercises.check_vgg_parameter_count(sum(c * (9 * c + 1) for c in convs) + dw + db, "vgg11")
    assert not fb and "as deep as the layer's *input*" in str(fb)
    assert "whole number" in str(exercises.check_vgg_parameter_count(1.5, "vgg11"))
    total = sum(p.numel() for p in meta_vgg("vgg16").parameters())
    assert "one convolution" in str(exercises.check_vgg_parameter_count(total - (512 * 512 * 9 + 512), "vgg16"))


def test_vgg_count_errors():
    with pytest.raises(ValueError, match="config must be one of"):
        exercises.check_vgg_parameter_count(1, "vgg17")
    with pytest.raises(ValueError, match="num_classes must be a positive"):
        exercises.check_vgg_parameter_count(1, "vgg16", num_classes=0)


# ---------------------------------------------------------------- neuron counts

def test_neuron_count_vgg19_block3_vs_torch():
    with torch.device("meta"):
        model = models.vgg19()
    x = torch.empty(1, 3, 224, 224, device="meta")
    sizes = []
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
            sizes.append(x.numel())
    block3 = sum(sizes[6:11])          # layers 7-11 of Table 6.1
    assert block3 == 4 * 802_816 + 200_704
    assert exercises.check_neuron_count(block3, model, (3, 224, 224), range(7, 12))
    fb = exercises.check_neuron_count(block3 - 200_704, model, (3, 224, 224), range(7, 12))
    assert not fb and "leaves out layer 11" in str(fb) and "pooling" in str(fb)
    fb = exercises.check_neuron_count(block3 + 401_408, model, (3, 224, 224), range(7, 12))
    assert not fb and "also counts layer 6" in str(fb)
    fb = exercises.check_neuron_count(4 * 56 * 56 + 28 * 28, model, (3, 224, 224), range(7, 12))
    assert not fb and "height × width" in str(fb)
    assert "different" in str(exercises.check_neuron_count(7, model, (3, 224, 224), [7]))
    assert "whole number" in str(exercises.check_neuron_count("many", model, (3, 224, 224), [7]))


def test_neuron_count_errors():
    with pytest.raises(ValueError, match="numbers must be layer numbers between 1 and 7"):
        exercises.check_neuron_count(1, models.lenet5(), (1, 28, 28), [0, 8])
    with pytest.raises(ValueError, match="numbers must be layer numbers"):
        exercises.check_neuron_count(1, models.lenet5(), (1, 28, 28), [])
