"""The network explorer's favourite patches (widgets.top_patches): each channel's best digits against
a PyTorch forward pass ranked with NumPy, the patches against the digits cut at the receptive-field
box, dead units, the size budget, and the browser's unpacking (run under Node) against Python's.
"""
import base64
import json
import zlib

import numpy as np
import pytest
import torch

from node_esm import run_esm
from cnnlib import data, inner, models, shapes, widgets
from cnnlib.widgets import _network

N = 300


@pytest.fixture(scope="module")
def model_and_digits():
    """LeNet-5 (seeded random weights: ranking does not need training) with fc1's unit 0 dead, and 300
    test digits."""
    torch.manual_seed(0)
    model = models.lenet5().eval()
    with torch.no_grad():
        model.classifier.fc1.bias[0] = -1e6
    digits = data.load_mnist(train=False, download=False, verbose=False).images[:N]
    return model, digits


def unpacked(patches):
    return np.frombuffer(zlib.decompress(base64.b64decode(patches["data"])), dtype=np.uint8)


def stage_outputs(model, digits):
    """Every leaf's output (PyTorch, batch kept), as NumPy arrays."""
    outs, x = [], digits
    with torch.no_grad():
        for _, leaf in shapes.leaves(model):
            x = leaf(x)
            outs.append(x.numpy())
    return outs


def test_each_channel_gets_its_best_digits(model_and_digits):
    model, digits = model_and_digits
    p = widgets.top_patches(model, digits, k=9, dense_k=4)
    layers, _ = _network.network_spec(model)
    outs = stage_outputs(model, digits)
    pixels = np.rint(digits[:, 0].numpy() * 255).astype(np.uint8)
    raw = unpacked(p)
    assert p["count"] == N and p["source"] == f"{N} digits"
    assert sorted(p["layers"], key=int) == [str(first) for first, _, _ in _network.layer_stages(layers)]
    for first, last, title in _network.layer_stages(layers):
        stage = p["layers"][str(first)]
        out = outs[last]
        eta = out.reshape(N, out.shape[1], -1).max(axis=2)                     # the chapter's eta
        spatial = out.ndim == 4
        assert stage["name"] == title and stage["positive"] == (eta > 0).sum(axis=0).tolist()
        for c, entries in enumerate(stage["units"]):
            order = np.argsort(-eta[:, c], kind="stable")[:9 if spatial else 4]
            order = order[eta[order, c] > 0]
            assert len(entries) == len(order)
            np.testing.assert_allclose([e[3] for e in entries], eta[order, c], rtol=1e-3, atol=1e-5)
            for (offset, rows, cols, value, i, j), n in zip(entries, order):
                patch = raw[offset:offset + rows * cols].reshape(rows, cols)
                assert value > 0
                if not spatial:
                    np.testing.assert_array_equal(patch, pixels[n])
                    continue
                assert out[n, c, i, j] == pytest.approx(value, rel=1e-3)  # the winning unit
                t, left, b, r = inner.receptive_field_box(model, layers[last]["name"], (i, j), (1, 28, 28))
                top = t if t > 0 or b - t + 1 == rows else b - rows + 1  # where the box starts, padding included
                lft = left if left > 0 or r - left + 1 == cols else r - cols + 1
                inside = patch[t - top:b - top + 1, left - lft:r - lft + 1]
                np.testing.assert_array_equal(inside, pixels[n, t:b + 1, left:r + 1])
                assert inside.sum() == patch.sum(), "outside the image a patch is the zero padding"


def test_dead_units_and_shared_digits(model_and_digits):
    model, digits = model_and_digits
    p = widgets.top_patches(model, digits, k=3, dense_k=6)
    fc1 = p["layers"]["7"]
    assert fc1["units"][0] == [] and fc1["positive"][0] == 0          # the dead unit shows no digit
    dense = [e for key in ("7", "9", "11") for units in p["layers"][key]["units"] for e in units]
    assert len({e[0] for e in dense}) < len(dense), "a digit that several dense units like is stored once"
    assert len(unpacked(p)) == len({e[0] for e in dense}) * 784 + sum(
        e[1] * e[2] for key in ("0", "2", "3", "5") for units in p["layers"][key]["units"] for e in units)


def test_budget_and_validation(model_and_digits):
    model, digits = model_and_digits
    with pytest.raises(ValueError, match=r"more than budget=1,000; lower k \(got 9\) or dense_k \(got 6\)"):
        widgets.top_patches(model, digits[:20], budget=1_000)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        widgets.top_patches(model, digits, k=0)
    with pytest.raises(TypeError, match="dataset must be a dataset with .images"):
        widgets.top_patches(model, "digits")
    with pytest.raises(ValueError, match=r"dataset images must have shape \(N, 1, 28, 28\)"):
        widgets.top_patches(model, torch.zeros(4, 1, 32, 32))
    with pytest.raises(ValueError, match=r"values in \[0, 1\], got \[0, 2\]"):
        widgets.top_patches(model, 2 * digits[:4])
    with pytest.raises(ValueError, match="patches must be {} or what widgets.top_patches returns"):
        widgets.network_explorer(model, patches={"data": ""})


UNPACK_JS = """
import { inflate, patchesOf } from MODULE;
const p = JSON.parse(PATCHES);
const bytes = await inflate(p.data);
const stage = p.layers["3"];
console.log(JSON.stringify({ length: bytes.length,
  conv2: stage.units.map((entries) => patchesOf(bytes, entries).map((q) => [q.rows, q.cols, q.value, Array.from(q.pixels)])) }));
"""


def test_the_browser_unpacks_what_python_packed(tmp_path, model_and_digits):
    model, digits = model_and_digits
    p = widgets.top_patches(model, digits[:60], k=2, dense_k=1)
    w = widgets.network_explorer(model, patches=p)
    assert w.patches == p and w.payload_bytes() > len(p["data"]) + len(w.weights)
    got = run_esm(tmp_path, _network.ESM_FILES, UNPACK_JS.replace("PATCHES", json.dumps(json.dumps(p))))
    raw = unpacked(p)
    assert got["length"] == len(raw)
    for js, entries in zip(got["conv2"], p["layers"]["3"]["units"]):
        assert len(js) == len(entries)
        for (rows, cols, value, pixels), (offset, r, c, v, _, _) in zip(js, entries):
            assert (rows, cols, value) == (r, c, v) == (14, 14, v)
            np.testing.assert_allclose(pixels, raw[offset:offset + r * c] / 255)
