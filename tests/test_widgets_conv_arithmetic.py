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
import numpy as np  # noqa: E402
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
    assert (w.M, w.K, w.total_padding, w.stride, w.dilation, w.position) == ([7, 7], [3, 3], [0, 0], [1, 1], [1, 1], 0)
    assert w.output_size() == (5, 5)
    assert widgets.conv_arithmetic_explorer((6, 7), 3).output_size() == (4, 5)  # Figure 6.3
    assert widgets.conv_arithmetic_explorer((6, 7), 3, padding=1).output_size() == (6, 7)  # Figure 6.6
    w = widgets.conv_arithmetic_explorer((6, 7), 3, total_padding=2)
    assert w.total_padding == [2, 2] and w.output_size() == (6, 7)
    assert widgets.conv_arithmetic_explorer((6, 7), 4, total_padding=(3, 3)).output_size() == (6, 7)  # odd totals
    assert widgets.conv_arithmetic_explorer(10, 3, stride=(5, 4)).output_size() == (2, 2)  # Figure 6.7
    assert widgets.conv_arithmetic_explorer((6, 7), 3, dilation=2).output_size() == (2, 3)  # Figure 6.8
    w = widgets.conv_arithmetic_explorer((6, 7), 3, position=7)
    assert w.output_pixel() == (1, 2)
    w.position = 100  # clamped to the last output pixel, as the browser does
    assert w.output_pixel() == (3, 4)


def _torch_geometry(M, K, p, s, d):
    """Oracle: the output size of F.conv2d on F.pad's padding (extra zero after), and the input
    rows (columns) that no output row (column) reads, from autograd along each axis: an input
    position is unread exactly when the gradient of the sum of a 1-D convolution with a kernel
    of ones is zero there.
    """
    padded = F.pad(torch.zeros(1, 1, *M), (p[1] // 2, p[1] - p[1] // 2, p[0] // 2, p[0] - p[0] // 2))
    size = tuple(F.conv2d(padded, torch.zeros(1, 1, *K), stride=s, dilation=d).shape[-2:])
    unread = []
    for a in range(2):
        x = torch.zeros(1, 1, M[a], dtype=torch.float64, requires_grad=True)
        z = F.conv1d(F.pad(x, (p[a] // 2, p[a] - p[a] // 2)), torch.ones(1, 1, K[a], dtype=torch.float64),
                     stride=s[a], dilation=d[a])
        z.sum().backward()
        unread.append([i for i in range(M[a]) if x.grad[0, 0, i] == 0])
    return size, tuple(unread)


@settings(max_examples=150, deadline=None)
@given(*(st.tuples(st.integers(*LIMITS[n]), st.integers(*LIMITS[n]))
         for n in ("M", "K", "total_padding", "stride", "dilation")))
def test_output_size_and_unread_rows_are_shapes_and_torch(M, K, p, s, d):
    w = widgets.conv_arithmetic_explorer(M, K, stride=s, dilation=d, total_padding=p)
    span = shapes.effective_kernel_size(K, d)
    if span[0] > M[0] + p[0] or span[1] > M[1] + p[1]:
        with pytest.raises(ValueError, match="larger than the padded input"):
            w.output_size()
        return
    size, unread = _torch_geometry(M, K, p, s, d)
    assert w.output_size() == shapes.output_size(M, K, stride=s, dilation=d, total_padding=p) == size
    assert w.unread() == unread


def test_figure_6_7_rows_never_read():
    # stride (5, 4) on 10 x 10 with a 3 x 3 kernel: rows 3, 4, 8, 9 and columns 3, 7, 8, 9 are skipped
    assert widgets.conv_arithmetic_explorer(10, 3, stride=(5, 4)).unread() == ([3, 4, 8, 9], [3, 7, 8, 9])
    assert _torch_geometry((10, 10), (3, 3), (0, 0), (5, 4), (1, 1))[1] == ([3, 4, 8, 9], [3, 7, 8, 9])


def test_validation():
    with pytest.raises(ValueError, match="M must be at most 16 in the explorer"):
        widgets.conv_arithmetic_explorer(M=17)
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        widgets.conv_arithmetic_explorer(padding=-1)
    with pytest.raises(ValueError, match="total_padding must be at most 8"):
        widgets.conv_arithmetic_explorer(total_padding=9)
    with pytest.raises(ValueError, match="total_padding must be at most 8"):
        widgets.conv_arithmetic_explorer(padding=5)
    with pytest.raises(ValueError, match="padding .* or total_padding .*, not both"):
        widgets.conv_arithmetic_explorer(padding=1, total_padding=2)
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
    assert "pink" not in fig._suptitle.get_text()
    fig = widgets.conv_arithmetic_figure(10, 3, stride=(5, 4))
    assert [ax.get_title() for ax in fig.axes] == ["output pixel (0, 0) of 2 × 2", "output pixel (1, 1) of 2 × 2"]
    # Figure 6.7: the skipped rows and columns are pink (4 rows x 10 + 4 columns x 10 - 16 shared cells)
    pink = matplotlib.colors.to_rgba(_conv_arithmetic._UNREAD)
    assert sum(patch.get_facecolor() == pink for patch in fig.axes[0].patches) == 64
    assert "pink: input rows/columns no output reads" in fig._suptitle.get_text()
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
    cases = list(itertools.product(range(1, 9), range(1, 5), range(0, 5), range(1, 4), range(1, 4)))
    result = run_esm(tmp_path, "conv_arithmetic.js",
        "import { outputSize, effectiveKernel, taps, unread, padSplit } from MODULE;\n"
        f"const cases = {json.dumps(cases)};\n"
        "console.log(JSON.stringify({sizes: cases.map(([M, K, p, s, d]) => outputSize(M, K, p, s, d)),"
        " spans: cases.map(([M, K, p, s, d]) => effectiveKernel(K, d)),"
        " unread: cases.map(([M, K, p, s, d]) => unread(M, K, p, s, d)),"
        " splits: [0, 1, 2, 3, 7].map(padSplit),"
        " taps: taps(1, 2, [2, 3], [2, 1], [3, 2])}));\n")
    for (M, K, p, s, d), got, span, skipped in zip(cases, result["sizes"], result["spans"], result["unread"]):
        assert span == shapes.effective_kernel_size(K, d)
        if span > M + p:  # p is the chapter's total padding
            assert got is None and skipped == []
        else:
            assert got == shapes.output_size(M, K, total_padding=p, stride=s, dilation=d)
            assert skipped == _conv_arithmetic.unread_indices(M, K, p, s, d)[0]
    assert result["splits"] == [[0, 0], [0, 1], [1, 1], [1, 2], [3, 4]]  # the extra zero after
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
const state = { M: [6, 7], K: [3, 3], total_padding: [0, 0], stride: [1, 1], dilation: [1, 1], position: 0 };
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; }, save_changes() {}, on() {}, off() {} };
const root = new Node_("div");
mod.default.render({ model, el: root });
const out = root.all().find((n) => (n.className || "").split(" ").includes("cnnlib-conv-arithmetic-output"));
const sliders = root.all().filter((n) => n.type === "range");
const texts = [root.className, out.textContent];
const move = (i, v) => { sliders[i].value = String(v); sliders[i].dispatch("input"); texts.push(out.textContent); };
// sliders: M_h, M_v, K_h, K_v, p_h, p_v, s_h, s_v, d_h, d_v, output pixel
move(4, 2); move(5, 2);  // total padding (2, 2)
move(4, 0); move(5, 0); move(8, 2); move(9, 2);  // dilation 2
move(8, 1); move(9, 1); move(0, 10); move(1, 10); move(6, 5); move(7, 4);  // Figure 6.7
move(5, 1); move(6, 1); move(7, 1); move(0, 6); move(1, 7); move(3, 4);  // kernel 3 x 4, p_v = 1: odd total
move(0, 1);  // one input row: no output
console.log(JSON.stringify({ texts, state, formula: root.all().map((n) => n.textContent).join("|"),
                             n: sliders.length }));
""")
    texts = got["texts"]
    assert texts[0] == "cnnlib-conv-arithmetic" and got["n"] == 11
    assert texts[1].startswith("output: 4 × 5") and texts[1].endswith("every input pixel is read")  # Figure 6.3
    assert texts[3].startswith("output: 6 × 7")  # Figure 6.6, total padding (2, 2)
    assert texts[7].startswith("output: 2 × 3")  # Figure 6.8
    assert texts[13].startswith("output: 2 × 2")  # Figure 6.7
    assert texts[13].endswith("input never read (pink, counted from 0): rows 3, 4, 8, 9; columns 3, 7, 8, 9")
    assert texts[-2].startswith("output: 4 × 5   (input 6 × 7, padded 6 × 8,")  # (7 + 1 - 4) + 1 = 5 columns
    assert texts[-1].startswith("no output: the dilated kernel (3 × 4) is larger than the padded input (1 × 8)")
    assert "p is the total padding, as in the chapter" in got["formula"]
    assert "M'_v = ⌊(M_v + p_v − d_v(K_v − 1) − 1)/s_v⌋ + 1 = ⌊(7 + 1 − 1·(4 − 1) − 1)/1⌋ + 1 = 5" in got["formula"]
    assert got["state"]["M"] == [1, 7] and got["state"]["total_padding"] == [0, 1] and got["state"]["K"] == [3, 4]


# ---------------------------------------------------------------- transposed convolution figure (issue 12, optional)
@pytest.mark.parametrize("M, K, s, p", [(2, 3, 2, 0), (3, 3, 2, 1), ((2, 4), (3, 2), (1, 3), (0, 1)), (1, 1, 1, 0)])
def test_transposed_conv_figure_counts_the_writes(M, K, s, p):
    """The numbers drawn are how many input pixels write each cell: conv_transpose2d of ones with a kernel of ones."""
    from cnnlib import layers
    from cnnlib._validation import pair

    fig = widgets.transposed_conv_figure(M, K, stride=s, padding=p)
    M, K, s, p = (pair(v, "v", minimum=0) for v in (M, K, s, p))
    writes = layers.conv_transpose2d(np.ones((1, *M)), np.ones((1, 1, *K)), stride=s, padding=p)[0]
    shown = [int(t.get_text()) for t in fig.axes[0].texts]
    assert shown == writes.astype(int).ravel().tolist()
    assert f"output {writes.shape[0]} × {writes.shape[1]}" in fig._suptitle.get_text()
    want = F.conv_transpose2d(torch.ones(1, 1, *M), torch.ones(1, 1, *K), stride=s, padding=p)
    assert tuple(want.shape[-2:]) == writes.shape
    plt.close(fig)


def test_transposed_conv_figure_validation():
    with pytest.raises(ValueError, match=r"positions \[\(2, 0\)\] are outside the 2 × 2 input"):
        widgets.transposed_conv_figure(2, 3, positions=[(2, 0)])
    with pytest.raises(ValueError, match="positions must hold 1 to 6 pairs"):
        widgets.transposed_conv_figure(2, 3, positions=[])
    with pytest.raises(TypeError, match="positions must be a sequence of"):
        widgets.transposed_conv_figure(2, 3, positions=[(0.5, 0)])
    with pytest.raises(ValueError, match=r"padding 2 removes the whole 3 × 3 result: no output"):
        widgets.transposed_conv_figure(1, 3, padding=2)
    with pytest.raises(ValueError, match="K must be at most 7"):
        widgets.transposed_conv_figure(2, 8)
