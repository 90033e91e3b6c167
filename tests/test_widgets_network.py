"""The network explorer: its JavaScript forward pass (run under Node on the ES module the browser
gets) against PyTorch, layer by layer; receptive fields against shapes.receptive_field; the
terms of Eq. (6.14) against the convolution's output; validation of models and examples; the
static figure.
"""
import base64
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from node_esm import run_esm  # noqa: E402
from cnnlib import data, models, shapes, train, widgets  # noqa: E402
from cnnlib.widgets import _network  # noqa: E402

N_DIGITS = 200


@pytest.fixture(scope="module")
def mnist_model():
    """A LeNet-5 trained briefly (one epoch on 2,000 training digits: accuracy well above chance,
    so that its ReLUs and max-pools see realistic activations) and 200 test digits."""
    train.set_seed(0)
    full = data.load_mnist(train=True, download=False, verbose=False)
    test = data.load_mnist(train=False, download=False, verbose=False)
    model = models.lenet5()
    train.fit(model, full.subset(torch.arange(2_000)), epochs=1, batch_size=64, lr=3e-3, device="cpu",
              seed=0, progress=False)
    model.eval()
    return model, test.images[:N_DIGITS], test.labels[:N_DIGITS]


def torch_layers(model, x):
    """Every leaf's output for a batch x, as NumPy arrays (batch axis kept)."""
    outs = []
    with torch.no_grad():
        for _, leaf in shapes.leaves(model):
            x = leaf(x)
            outs.append(x.numpy())
    return outs


FORWARD_JS = """
import { buildNet, forward, decodeBase64 } from MODULE;
const spec = JSON.parse(SPEC);
const net = buildNet(spec.layers, spec.weights);
const images = spec.images.map((b64) => Float32Array.from(new Float32Array(decodeBase64(b64).buffer)));
const out = images.map((x) => forward(net, x).map((h) => Array.from(h)));
console.log(JSON.stringify(out));
"""


def js_forward(tmp_path, explorer, images):
    """The ES module's forward() on each image (float32 in, every layer's output back)."""
    payload = {"layers": explorer.layers, "weights": explorer.weights,
               "images": [base64.b64encode(np.asarray(im, "<f4").tobytes()).decode() for im in images]}
    return run_esm(tmp_path, _network.ESM_FILES, FORWARD_JS.replace("SPEC", json.dumps(json.dumps(payload))))


def test_javascript_forward_pass_matches_pytorch(tmp_path, mnist_model):
    """Every layer within 1e-4 of PyTorch's on 200 test digits, and the same predicted class."""
    model, images, labels = mnist_model
    w = widgets.network_explorer(model)
    got = js_forward(tmp_path, w, images.numpy().reshape(N_DIGITS, -1))
    want = torch_layers(model, images)
    assert len(got) == N_DIGITS and len(got[0]) == len(want) == 12
    worst = {}
    for layer, spec in enumerate(w.layers):
        js = np.array([g[layer] for g in got])
        ref = want[layer].reshape(N_DIGITS, -1)
        assert js.shape == ref.shape, spec["name"]
        worst[spec["name"]] = float(np.abs(js - ref).max())
        assert worst[spec["name"]] < 1e-4, (spec["name"], worst[spec["name"]])
    js_classes = np.array([np.argmax(g[-1]) for g in got])
    assert (js_classes == want[-1].argmax(1)).all()
    # the model is trained: the comparison is not between two constant answers
    assert len(set(js_classes.tolist())) == 10 and (js_classes == labels.numpy()).mean() > 0.6
    print("largest |JS - PyTorch| per layer:", {k: f"{v:.1e}" for k, v in worst.items()})


def test_javascript_runs_other_supported_layers(tmp_path):
    """Stride, padding, dilation, tanh, average pooling, a flatten straight after a pool: the same
    code path on a network unlike LeNet-5, against PyTorch."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1, dilation=2), nn.Tanh(), nn.AvgPool2d(2),
                        nn.Conv2d(3, 4, (2, 3), padding=(1, 0)), nn.MaxPool2d((2, 1), stride=(1, 2)), nn.Flatten(),
                        nn.Linear(4 * 6 * 2, 7), nn.Tanh(), nn.Linear(7, 5))
    images = torch.rand(5, 1, 28, 28)
    w = widgets.network_explorer(net)
    got = js_forward(tmp_path, w, images.numpy().reshape(5, -1))
    want = torch_layers(net, images)
    for layer in range(len(want)):
        np.testing.assert_allclose(np.array([g[layer] for g in got]), want[layer].reshape(5, -1), atol=1e-5)


def test_spec_and_payload_size():
    model = models.lenet5()
    layers, weights = _network.network_spec(model)
    assert weights.dtype == np.float32 and weights.size == 61_706
    params = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    np.testing.assert_array_equal(weights, params)
    assert [spec["name"] for spec in layers][:3] == ["features.conv1", "features.relu1", "features.pool1"]
    assert [spec["shape"] for spec in layers] == [[6, 28, 28], [6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 10, 10],
                                                  [16, 5, 5], [400], [120], [120], [84], [84], [10]]
    w = widgets.network_explorer(model)
    decoded = np.frombuffer(base64.b64decode(w.weights), dtype="<f4")
    np.testing.assert_array_equal(decoded, params)
    assert len(w.weights) == 4 * -(-4 * 61_706 // 3) == 329_100
    assert w.payload_bytes() < 335_000
    assert len(json.dumps(params.tolist())) > 2 * len(w.weights)  # base64 float32 is the compact choice


def test_unsupported_layers_are_named():
    with pytest.raises(ValueError, match=r"layer 1 \(BatchNorm2d\) is not supported by network_explorer"):
        widgets.network_explorer(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(1352, 3)))
    with pytest.raises(ValueError, match=r"layer classifier.drop \(Dropout\) is not supported"):
        net = models.lenet5()
        net.classifier.add_module("drop", nn.Dropout())
        widgets.network_explorer(net)
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2d\) has groups=2"):
        widgets.network_explorer(nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)))
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2d\) has padding_mode='reflect'"):
        widgets.network_explorer(nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")))
    with pytest.raises(ValueError, match=r"layer 1 \(MaxPool2d\) has padding=1"):
        widgets.network_explorer(nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2, padding=1)))
    with pytest.raises(ValueError, match=r"layer 0 \(AvgPool2d\) has ceil_mode=True"):
        widgets.network_explorer(nn.Sequential(nn.AvgPool2d(3, ceil_mode=True)))
    with pytest.raises(ValueError, match=r"layer 1 \(Flatten\) has start_dim=0"):
        widgets.network_explorer(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(0)))
    with pytest.raises(ValueError, match="must take a 1 x 28 x 28 image"):
        widgets.network_explorer(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(1352, 3)))
    with pytest.raises(ValueError, match=r"must end with a vector of class scores.*\(2, 26, 26\)"):
        widgets.network_explorer(nn.Sequential(nn.Conv2d(1, 2, 3)))
    with pytest.raises(ValueError, match="must be a Sequential of layers, got a single Linear"):
        widgets.network_explorer(nn.Linear(784, 10))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        widgets.network_explorer("lenet5")


def test_examples_validation_and_encoding():
    model = models.lenet5()
    images = torch.rand(3, 1, 28, 28)
    w = widgets.network_explorer(model, (images, torch.tensor([1, 2, 3])), example=2)
    assert w.example == 2 and [e["label"] for e in w.examples] == [1, 2, 3]
    pixels = np.frombuffer(base64.b64decode(w.examples[0]["pixels"]), np.uint8)
    np.testing.assert_allclose(pixels / 255, images[0, 0].numpy().ravel(), atol=0.5 / 255 + 1e-7)
    assert widgets.network_explorer(model).example == -1
    with pytest.raises(ValueError, match="example must be an index below 3"):
        widgets.network_explorer(model, (images, torch.tensor([1, 2, 3])), example=3)
    with pytest.raises(ValueError, match="example must be -1"):
        w.example = 5
    with pytest.raises(ValueError, match=r"examples must hold 1 to 64 digits"):
        widgets.network_explorer(model, (torch.zeros(65, 28, 28), torch.zeros(65, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"values in \[0, 1\], got \[2, 2\]"):
        widgets.network_explorer(model, (2 * torch.ones(1, 28, 28), torch.zeros(1)))
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 28, 28\).*\(2, 1, 32, 32\)"):
        widgets.network_explorer(model, (torch.zeros(2, 1, 32, 32), torch.zeros(2)))
    with pytest.raises(ValueError, match="one label per image: 2 images"):
        widgets.network_explorer(model, (torch.zeros(2, 28, 28), torch.zeros(3)))
    with pytest.raises(TypeError, match="examples must be a dataset with .images and .labels"):
        widgets.network_explorer(model, torch.zeros(2, 28, 28))
    with pytest.raises(ValueError, match=r"selected must be \[\] or \[layer index"):
        w.selected = [99, 0, 0, 0]


def test_pick_examples(mnist_model):
    model, images, labels = mnist_model
    x, y = widgets.pick_examples(model, (images, labels), per_class=2, misclassified=5)
    predicted = train.predict(model, (x, y))
    right = predicted == y
    assert right[:20].all() and (~right[20:]).all() and len(x) == 20 + min(5, int((train.predict(
        model, (images, labels)) != labels).sum()))
    assert y[:20].tolist() == sorted(list(range(10)) * 2)
    with pytest.raises(ValueError, match="more than the explorer's 64"):
        widgets.pick_examples(model, (images, labels), per_class=7, misclassified=0)
    with pytest.raises(ValueError, match="per_class must be a non-negative integer"):
        widgets.pick_examples(model, (images, labels), per_class=-1)


RF_JS = """
import { buildNet, receptiveField } from MODULE;
const spec = SPEC;
const net = buildNet(spec.layers, spec.weights);
console.log(JSON.stringify(spec.units.map(([j, i, k]) => receptiveField(net, j, i, k))));
"""


def test_receptive_fields_match_shapes(tmp_path):
    """The outline drawn on the input is shapes.receptive_field's bounds, clipped to the image:
    every position of every spatial layer of LeNet-5 (one Node run)."""
    model = models.lenet5()
    w = widgets.network_explorer(model)
    rows = shapes.receptive_field(model, (1, 28, 28))
    units = [[j, i, k] for j, spec in enumerate(w.layers) if len(spec["shape"]) == 3
             for i in range(spec["shape"][1]) for k in range(spec["shape"][2])]
    units.append([len(w.layers) - 1, 0, 0])  # a dense unit sees the whole image
    got = run_esm(tmp_path, _network.ESM_FILES,
                  RF_JS.replace("SPEC", json.dumps({"layers": w.layers, "weights": w.weights, "units": units})))
    assert len(got) == len(units) == 2 * (28 * 28 + 10 * 10) + 14 * 14 + 5 * 5 + 1
    for (j, i, k), field in zip(units[:-1], got):
        (top, bottom), (left, right) = rows[j + 1].bounds(i, k)
        assert field == {"top": max(top, 0), "bottom": min(bottom, 27), "left": max(left, 0), "right": min(right, 27)}
    assert got[-1] == {"top": 0, "bottom": 27, "left": 0, "right": 27}


TERMS_JS = """
import { buildNet, forward, unitTerms, stages } from MODULE;
const spec = SPEC;
const net = buildNet(spec.layers, spec.weights);
const x = Float32Array.from(spec.image);
const outs = forward(net, x);
const units = spec.units.map(([j, c, i, k]) => unitTerms(net, outs, x, j, c, i, k));
console.log(JSON.stringify({ units, stages: stages(net).map((s) => [s.first, s.last, s.title]) }));
"""


def test_unit_terms_are_eq_6_14(tmp_path, mnist_model):
    """A clicked conv unit's numbers: per input channel, sum_a sum_b w[a, b] x[i + a, k + b] (Eq. (6.14),
    padding included), then the bias; they add up to PyTorch's output. Pools show their window,
    dense units their terms."""
    model, images, _ = mnist_model
    w = widgets.network_explorer(model)
    image = images[3]
    units = [[0, 2, 0, 5], [3, 7, 4, 6], [2, 1, 3, 3], [7, 11, 0, 0]]  # conv1 at the padded edge, conv2, pool1, fc1
    got = run_esm(tmp_path, _network.ESM_FILES, TERMS_JS.replace("SPEC", json.dumps(
        {"layers": w.layers, "weights": w.weights, "image": image.numpy().ravel().tolist(), "units": units})))
    outs = torch_layers(model, image[None])
    conv1, conv2 = model.features.conv1, model.features.conv2
    # conv1, unit (2, 0, 5): the 5 x 5 window of the zero-padded image, by hand
    padded = np.pad(image[0].numpy().astype(np.float64), 2)
    W1 = conv1.weight.detach().numpy().astype(np.float64)
    t = got["units"][0]
    np.testing.assert_allclose(t["channels"][0]["patch"], padded[0:5, 5:10].ravel(), atol=1e-7)
    np.testing.assert_allclose(t["channels"][0]["kernel"], W1[2, 0].ravel(), atol=1e-7)
    assert t["channels"][0]["sum"] == pytest.approx((W1[2, 0] * padded[0:5, 5:10]).sum(), abs=1e-5)
    assert t["z"] == pytest.approx(outs[0][0, 2, 0, 5], abs=1e-4)
    # conv2, unit (7, 4, 6): six channel sums plus the bias
    t = got["units"][1]
    a = outs[2][0].astype(np.float64)  # pool1's output feeds conv2
    W2 = conv2.weight.detach().numpy().astype(np.float64)
    sums = [(W2[7, c] * a[c, 4:9, 6:11]).sum() for c in range(6)]
    np.testing.assert_allclose([ch["sum"] for ch in t["channels"]], sums, atol=1e-5)
    assert t["bias"] == pytest.approx(float(conv2.bias[7].detach()), abs=1e-7)
    assert t["z"] == pytest.approx(outs[3][0, 7, 4, 6], abs=1e-4)
    # pool1, unit (1, 3, 3): the max of relu1's 2 x 2 window
    t = got["units"][2]
    np.testing.assert_allclose(t["window"], outs[1][0, 1, 6:8, 6:8].ravel(), atol=1e-5)
    assert t["z"] == pytest.approx(outs[2][0, 1, 3, 3], abs=1e-5)
    # fc1, unit 11: terms sorted by size, adding up to the output
    t = got["units"][3]
    prods = [term["prod"] for term in t["terms"]]
    assert prods == sorted(prods, key=abs, reverse=True) and len(prods) == 400
    assert sum(prods) + t["bias"] == pytest.approx(outs[7][0, 11], abs=1e-4)
    assert got["stages"] == [[0, 1, "conv1 + ReLU"], [2, 2, "pool1"], [3, 4, "conv2 + ReLU"], [5, 5, "pool2"],
                             [7, 8, "fc1 + ReLU"], [9, 10, "fc2 + ReLU"], [11, 11, "fc3"]]
    assert [list(s) for s in _network.layer_stages(w.layers)] == got["stages"]


def test_static_figure(mnist_model):
    model, images, labels = mnist_model
    fig = widgets.network_figure(model, images[0], unit=("conv2", 3, 4, 6), label=int(labels[0]))
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    (top, bottom), (left, right) = shapes.receptive_field(model, (1, 28, 28))[4].bounds(4, 6)
    assert titles[0] == (f"input (label {int(labels[0])})\nfield of conv2 + ReLU[3, 4, 6]:\n"
                         f"rows {top}-{bottom}, columns {left}-{right}")
    assert len(fig.axes[0].patches) == 1
    # 6 + 6 + 16 + 16 heat maps, 3 bar charts, the input
    assert len(fig.axes) == 1 + 6 + 6 + 16 + 16 + 3
    with torch.no_grad():
        predicted = int(model(images[:1]).argmax())
    assert titles[-1].startswith(f"fc3 → softmax: prediction {predicted}")
    plt.close(fig)
    with pytest.raises(ValueError, match=r"unit \('pool2', 16, 0, 0\) is outside layer pool2's output"):
        widgets.network_figure(model, images[0], unit=("pool2", 16, 0, 0))
    with pytest.raises(ValueError, match="unit's layer must name a convolution or pooling layer"):
        widgets.network_figure(model, images[0], unit=("fc1", 0, 0, 0))
    with pytest.raises(ValueError, match=r"image must have shape \(28, 28\)"):
        widgets.network_figure(model, torch.zeros(32, 32))
    with pytest.raises(TypeError, match="unit must be"):
        widgets.network_figure(model, images[0], unit="conv1")


def test_esm_is_shipped_and_synced():
    """One self-contained ES module (the shared kit, then the explorer's three parts), nothing imported;
    every part under the house limit of 600 lines."""
    from importlib import resources

    from cnnlib.widgets._esm import esm_source

    w = widgets.network_explorer(models.lenet5())
    assert w._esm == esm_source(*_network.ESM_FILES)
    assert _network.ESM_FILES[-1] == "network_explorer.js" and w._esm.count("export default") == 1
    for name in _network.ESM_FILES:
        assert len((resources.files("cnnlib") / "widgets" / name).read_text(encoding="utf-8").splitlines()) <= 600
    assert "import " not in w._esm.replace("import.meta", "")
    for css_class in ("cnnlib-network", "cnnlib-network-prediction", "cnnlib-network-input", "cnnlib-network-field",
                      "cnnlib-network-map", "cnnlib-network-detail", "cnnlib-network-clear", "cnnlib-network-bar",
                      "cnnlib-network-zoom-cell", "cnnlib-network-patches"):
        assert css_class in w._esm
    assert {"_esm", "layers", "weights", "examples", "example", "selected", "patches"} <= set(w.traits(sync=True))


# --------------------------------------------------------------------------- MNIST's normalisation of a drawing
NORMALIZE_JS = """
import { normalizeDigit, decodeBase64 } from MODULE;
const images = JSON.parse(IMAGES).map((b64) => Float32Array.from(new Float32Array(decodeBase64(b64).buffer)));
console.log(JSON.stringify(images.map((x) => Array.from(normalizeDigit(x)))));
"""


def js_normalize(tmp_path, images):
    payload = [base64.b64encode(np.asarray(im, "<f4").tobytes()).decode() for im in images]
    out = run_esm(tmp_path, _network.ESM_FILES, NORMALIZE_JS.replace("IMAGES", json.dumps(json.dumps(payload))))
    return np.array(out, dtype=np.float32).reshape(len(images), 28, 28)


def redrawn(digit, longer, top, left):
    """The digit's ink scaled so that its longer side is `longer` pixels and put at (top, left): a reader's drawing."""
    from skimage.transform import resize

    rows, cols = np.nonzero(digit > 0)
    ink = digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = longer / max(ink.shape)
    ink = resize(ink, (max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))), anti_aliasing=True)
    out = np.zeros((28, 28))
    h, w = ink.shape
    out[top:top + h, left:left + w] = ink[:28 - top, :28 - left]
    return np.clip(out, 0, 1)


def test_normalize_digit_boxes_and_centres_the_ink():
    from scipy import ndimage

    rng = np.random.default_rng(0)
    for _ in range(20):
        x = np.zeros((28, 28))
        t, l = rng.integers(0, 20, size=2)
        h, w = rng.integers(2, 28 - t), rng.integers(2, 28 - l)
        x[t:t + h, l:l + w] = rng.random((h, w))
        y = widgets.normalize_digit(x)
        rows, cols = np.nonzero(y > 0)
        H, W = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert max(H, W) == 20                                     # the longer side fills the 20-pixel box
        assert abs(H / W - h / w) <= 1.5 / min(H, W) + 1e-9         # the aspect ratio is kept (to a pixel)
        cy, cx = ndimage.center_of_mass(y)                          # pixel centres at 0..27: the frame's centre is 13.5
        assert abs(cy + 0.5 - 14) <= 0.5 + 1e-9 and abs(cx + 0.5 - 14) <= 0.5 + 1e-9
        assert y.sum() == pytest.approx(x.sum() * (20 / max(h, w)) ** 2, rel=0.15)   # area averaging keeps the ink
    assert not widgets.normalize_digit(np.zeros((1, 28, 28))).any()


def test_javascript_normalisation_is_the_python_one(tmp_path):
    rng = np.random.default_rng(1)
    images = []
    for _ in range(12):
        x = np.zeros((28, 28), dtype=np.float32)
        t, l = rng.integers(0, 24, size=2)
        h, w = rng.integers(1, 28 - t), rng.integers(1, 28 - l)
        x[t:t + h, l:l + w] = rng.random((h, w)) > 0.5
        images.append(x)
    np.testing.assert_allclose(js_normalize(tmp_path, images), [widgets.normalize_digit(x) for x in images],
                               atol=1e-5)


def test_a_digit_drawn_off_centre_or_too_large_is_still_read(tmp_path, mnist_model):
    model, images, labels = mnist_model
    with torch.no_grad():
        right = (model(images).argmax(1) == labels).numpy()
    digits, truth = images[right][:60, 0].numpy(), labels[right][:60].numpy()
    drawings = [redrawn(d, 28, 0, 0) for d in digits] + [redrawn(d, 12, 8, 0) for d in digits]  # too large; small at the left edge
    truth = np.concatenate([truth, truth])
    normalised = js_normalize(tmp_path, drawings)                    # what the explorer feeds the network
    with torch.no_grad():
        raw = model(torch.tensor(np.array(drawings), dtype=torch.float32)[:, None]).argmax(1).numpy()
        fixed = model(torch.tensor(normalised)[:, None]).argmax(1).numpy()
    assert (fixed == truth).mean() >= 0.85                           # read as drawn on MNIST's terms
    assert (raw == truth).mean() <= (fixed == truth).mean() - 0.3     # the control: without it, far fewer
