"""The convolution-arithmetic explorer: Python traits and validation, the shipped ES module, the static figure.

The browser side is exercised by tests/browser (moving a slider in the built book); here the
JavaScript arithmetic is also run under Node when Node is installed, against shapes.output_size
and the shape of torch.nn.functional.conv2d's output.
"""
import itertools
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import traitlets  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from node_esm import run_esm  # noqa: E402
from cnnlib import shapes, widgets  # noqa: E402
from cnnlib.widgets import _conv_arithmetic  # noqa: E402

LIMITS = _conv_arithmetic.LIMITS


def test_defaults_and_chapter_settings():
    w = widgets.conv_arithmetic_explorer()
    assert (w.M, w.K, w.padding, w.stride, w.dilation, w.position) == ([7, 7], [3, 3], [0, 0], [1, 1], [1, 1], 0)
    assert w.output_size() == (5, 5)
    assert widgets.conv_arithmetic_explorer((6, 7), 3).output_size() == (4, 5)  # Figure 6.3
    assert widgets.conv_arithmetic_explorer((6, 7), 3, padding=1).output_size() == (6, 7)  # Figure 6.6
    assert widgets.conv_arithmetic_explorer(10, 3, stride=(5, 4)).output_size() == (2, 2)  # Figure 6.7
    assert widgets.conv_arithmetic_explorer((6, 7), 3, dilation=2).output_size() == (2, 3)  # Figure 6.8
    w = widgets.conv_arithmetic_explorer((6, 7), 3, position=7)
    assert w.output_pixel() == (1, 2)
    w.position = 100  # clamped to the last output pixel, as the browser does
    assert w.output_pixel() == (3, 4)


@settings(max_examples=150, deadline=None)
@given(*(st.tuples(st.integers(*LIMITS[n]), st.integers(*LIMITS[n])) for n in ("M", "K", "padding", "stride", "dilation")))
def test_output_size_is_shapes_and_torch(M, K, p, s, d):
    w = widgets.conv_arithmetic_explorer(M, K, p, s, d)
    span = shapes.effective_kernel_size(K, d)
    if span[0] > M[0] + 2 * p[0] or span[1] > M[1] + 2 * p[1]:
        with pytest.raises(ValueError, match="larger than the padded input"):
            w.output_size()
        return
    want = tuple(F.conv2d(torch.zeros(1, 1, *M), torch.zeros(1, 1, *K), stride=s, padding=p, dilation=d).shape[-2:])
    assert w.output_size() == shapes.output_size(M, K, p, s, d) == want


def test_validation():
    with pytest.raises(ValueError, match="M must be at most 16 in the explorer"):
        widgets.conv_arithmetic_explorer(M=17)
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        widgets.conv_arithmetic_explorer(padding=-1)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        widgets.conv_arithmetic_explorer(stride=(1, 0))
    with pytest.raises(ValueError, match="dilation must be at most 4"):
        widgets.conv_arithmetic_explorer(dilation=5)
    with pytest.raises(TypeError, match="K must be an int or a pair of ints"):
        widgets.conv_arithmetic_explorer(K=2.5)
    with pytest.raises(ValueError, match="position must be a non-negative integer"):
        widgets.conv_arithmetic_explorer(position=-1)
    w = widgets.conv_arithmetic_explorer()
    with pytest.raises(ValueError, match="K must be at most 7"):
        w.K = [9, 9]
    with pytest.raises(traitlets.TraitError):
        w.position = "3"
    # impossible settings are allowed (the browser shows a message); output_size says why
    w = widgets.conv_arithmetic_explorer(M=3, K=3, dilation=2)
    with pytest.raises(ValueError, match=r"kernel after dilation, 5 x 5, is larger than the padded input, 3 x 3"):
        w.output_size()


def test_static_figure_panels():
    fig = widgets.conv_arithmetic_figure((6, 7), 3, padding=1, positions=[(0, 0), (5, 6)])
    assert [ax.get_title() for ax in fig.axes] == ["output pixel (0, 0) of 6 × 7", "output pixel (5, 6) of 6 × 7"]
    n_cells = 8 * 9 + 3 * 3 + 1 + 6 * 7  # padded input, taps, dashed span, output
    assert all(len(ax.patches) == n_cells for ax in fig.axes)
    assert "output 6 × 7" in fig._suptitle.get_text()
    plt.close(fig)
    fig = widgets.conv_arithmetic_figure(10, 3, stride=(5, 4))
    assert [ax.get_title() for ax in fig.axes] == ["output pixel (0, 0) of 2 × 2", "output pixel (1, 1) of 2 × 2"]
    plt.close(fig)
    fig = widgets.conv_arithmetic_figure((6, 7), 3, total_padding=(1, 2), positions=[(4, 0)])
    assert "padding (0+1, 1+1)" in fig._suptitle.get_text() and "output 5 × 7" in fig._suptitle.get_text()
    plt.close(fig)
    fig = widgets.conv_arithmetic_figure(5, 5)  # a single output pixel: one panel
    assert len(fig.axes) == 1
    plt.close(fig)


def test_static_figure_validation():
    with pytest.raises(ValueError, match=r"positions \[\(4, 0\)\] are outside the 4 × 5 output"):
        widgets.conv_arithmetic_figure((6, 7), 3, positions=[(4, 0)])
    with pytest.raises(ValueError, match="positions must hold 1 to 6 pairs"):
        widgets.conv_arithmetic_figure((6, 7), 3, positions=[])
    with pytest.raises(ValueError, match="positions must hold 1 to 6 pairs"):
        widgets.conv_arithmetic_figure((6, 7), 3, positions=[(0, 0, 0)])
    with pytest.raises(TypeError, match="positions must be a sequence of"):
        widgets.conv_arithmetic_figure((6, 7), 3, positions=[(0.5, 0)])
    with pytest.raises(ValueError, match="larger than the padded input"):
        widgets.conv_arithmetic_figure(3, 3, dilation=2)
    with pytest.raises(ValueError, match="not both"):
        widgets.conv_arithmetic_figure(6, 3, padding=1, total_padding=2)


def test_javascript_arithmetic_matches_python(tmp_path):
    cases = list(itertools.product(range(1, 9), range(1, 5), range(0, 3), range(1, 4), range(1, 4)))
    result = run_esm(tmp_path, "conv_arithmetic.js",
        "import { outputSize, effectiveKernel, taps } from MODULE;\n"
        f"const cases = {json.dumps(cases)};\n"
        "console.log(JSON.stringify({sizes: cases.map(([M, K, p, s, d]) => outputSize(M, K, p, s, d)),"
        " spans: cases.map(([M, K, p, s, d]) => effectiveKernel(K, d)),"
        " taps: taps(1, 2, [2, 3], [2, 1], [3, 2])}));\n")
    for (M, K, p, s, d), got, span in zip(cases, result["sizes"], result["spans"]):
        assert span == shapes.effective_kernel_size(K, d)
        if span > M + 2 * p:
            assert got is None
        else:
            assert got == shapes.output_size(M, K, p, s, d)
    # output (1, 2), kernel 2 x 3, stride (2, 1), dilation (3, 2): rows 2 + 3a, columns 2 + 2b
    assert result["taps"] == [[2 + 3 * a, 2 + 2 * b] for a in range(2) for b in range(3)]


FAKE_DOM = """
class Node_ {
  constructor(tag) { this.tag = tag; this.children = []; this.attrs = {}; this.style = {}; this.listeners = {};
    this._text = ""; const self = this;
    this.classList = { add: (c) => { self.className = ((self.className || "") + " " + c).trim(); } }; }
  appendChild(c) { this.children.push(c); return c; }
  replaceChildren(...c) { this.children = c; }
  setAttribute(k, v) { this.attrs[k] = v; }
  addEventListener(ev, f) { (this.listeners[ev] ||= []).push(f); }
  dispatch(ev) { (this.listeners[ev] || []).forEach((f) => f()); }
  set textContent(t) { this._text = t; } get textContent() { return this._text; }
  all() { return [this, ...this.children.flatMap((c) => c.all())]; }
}
globalThis.document = { createElement: (t) => new Node_(t), createElementNS: (ns, t) => new Node_(t),
  createTextNode: (t) => { const n = new Node_("#text"); n.textContent = t; return n; } };
globalThis.setInterval = () => 1; globalThis.clearInterval = () => {};
"""


def test_javascript_renders_and_responds_in_a_fake_dom(tmp_path):
    """render() runs without a browser: the output text follows the sliders, impossible settings give a message."""
    got = run_esm(tmp_path, "conv_arithmetic.js", FAKE_DOM + "const mod = await import(MODULE);\n" + """
const state = { M: [6, 7], K: [3, 3], padding: [0, 0], stride: [1, 1], dilation: [1, 1], position: 0 };
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; }, save_changes() {}, on() {}, off() {} };
const root = new Node_("div");
mod.default.render({ model, el: root });
const out = root.all().find((n) => (n.className || "").split(" ").includes("cnnlib-conv-arithmetic-output"));
const sliders = root.all().filter((n) => n.type === "range");
const texts = [root.className, out.textContent];
const move = (i, v) => { sliders[i].value = String(v); sliders[i].dispatch("input"); texts.push(out.textContent); };
move(3, 1);  // padding 1 per side
move(3, 0); move(5, 2);  // dilation 2
move(0, 1);  // one input row: no output
console.log(JSON.stringify({ texts, state, n: sliders.length }));
""")
    texts = got["texts"]
    assert texts[0] == "cnnlib-conv-arithmetic" and got["n"] == 7
    assert texts[1].startswith("output: 4 × 5")  # Figure 6.3
    assert texts[2].startswith("output: 6 × 7")  # Figure 6.6
    assert texts[3].startswith("output: 4 × 5")
    assert texts[4].startswith("output: 2 × 3")  # Figure 6.8
    assert texts[5].startswith("no output: the dilated kernel (5 × 5) is larger than the padded input (1 × 7)")
    assert got["state"]["M"] == [1, 7] and got["state"]["dilation"] == [2, 2]
