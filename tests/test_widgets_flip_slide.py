"""The flip-and-slide explorer: Python traits and validation, the shipped ES module, the static figure.

The browser side is exercised by tests/browser (moving the slider in the built book); here the
JavaScript arithmetic is also run under Node when Node is installed, against numpy.convolve.
"""
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import traitlets  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from node_esm import run_esm  # noqa: E402
from cnnlib import widgets  # noqa: E402
from cnnlib.widgets import _flip_slide  # noqa: E402



def test_defaults_and_presets():
    w = widgets.flip_slide_explorer()
    assert w.preset == "box * box = triangle"
    np.testing.assert_array_equal(w.output(), [1, 2, 3, 4, 3, 2, 1])
    assert w.t == 3 and w.value() == 4.0
    for name, pair in _flip_slide.PRESETS.items():
        w = widgets.flip_slide_explorer(preset=name)
        assert w.f == pair["f"] and w.g == pair["g"] and w.preset == name
        assert 0 <= w.t <= len(w.f) + len(w.g) - 2
    custom = widgets.flip_slide_explorer([1, 2], [3, 4, 5], t=0)
    assert custom.preset == "custom" and custom.f == [1.0, 2.0] and custom.value() == 3.0


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 8), n=st.integers(1, 8), seed=st.integers(0, 2**16), data=st.data())
def test_value_is_eq_6_1_or_without_the_flip_the_cross_correlation(m, n, seed, data):
    rng = np.random.default_rng(seed)
    f, g = rng.normal(size=m), rng.normal(size=n)
    t = data.draw(st.integers(0, m + n - 2))
    w = widgets.flip_slide_explorer(f, g, t=t)
    by_definition = sum(f[t - tau] * g[tau] for tau in range(n) if 0 <= t - tau < m)
    assert np.isclose(w.value(), by_definition)
    # the "no flip" box: the page's sum_tau f(tau - l) g(tau) at the lag l = t - (m - 1)
    w.flip = False
    lag = t - (m - 1)
    assert np.isclose(w.value(), sum(f[tau - lag] * g[tau] for tau in range(n) if 0 <= tau - lag < m))
    np.testing.assert_allclose(w.output(), np.convolve(f[::-1], g), atol=1e-12)
    assert widgets.flip_slide_explorer(f, g, t=t, flip=False).value() == w.value()


def test_validation():
    with pytest.raises(ValueError, match="give both f and g"):
        widgets.flip_slide_explorer([1, 2])
    with pytest.raises(ValueError, match="preset must be one of .* got 'nope'"):
        widgets.flip_slide_explorer(preset="nope")
    with pytest.raises(ValueError, match="f must be a 1-D array"):
        widgets.flip_slide_explorer([[1, 2]], [1])
    with pytest.raises(TypeError, match="g must be an array of numbers"):
        widgets.flip_slide_explorer([1], "abc")
    with pytest.raises(ValueError, match="g must hold finite real numbers"):
        widgets.flip_slide_explorer([1], [1, np.nan])
    with pytest.raises(ValueError, match="f must have at most 40 entries"):
        widgets.flip_slide_explorer(np.ones(41), [1])
    with pytest.raises(ValueError, match=r"t must be between 0 and len\(f\) \+ len\(g\) - 2 = 3, got 4"):
        widgets.flip_slide_explorer([1, 2], [1, 2, 3], t=4)
    with pytest.raises(ValueError, match="t must be a non-negative integer"):
        widgets.flip_slide_explorer([1, 2], [1, 2, 3], t=-1)
    w = widgets.flip_slide_explorer()
    with pytest.raises(ValueError, match="f must not be empty"):
        w.f = []
    with pytest.raises(traitlets.TraitError):
        w.t = "3"
    with pytest.raises(TypeError, match="flip must be True or False, got str 'no'"):
        widgets.flip_slide_explorer(flip="no")


def test_static_figure_panels():
    fig = widgets.flip_slide_figure([1, 1, 1], [1, 2, 3, 4], [0, 2, 5])
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 9
    assert [ax.get_title() for ax in fig.axes[:3]] == ["t = 0", "t = 2", "t = 5"]
    # the middle row writes the sum of the products, which is (f * g)(t)
    sums = [t.get_text() for ax in fig.axes[3:6] for t in ax.texts]
    assert sums == [f"sum = {v:.4g}" for v in np.convolve([1, 1, 1], [1, 2, 3, 4])[[0, 2, 5]]]
    # one legend for the whole figure, outside the axes, so that it hides no marker
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["g(τ)", "f(t − τ)"]
    plt.close(fig)


def test_static_figure_validation():
    with pytest.raises(ValueError, match="ts must hold 1 to 8 shifts, got 0"):
        widgets.flip_slide_figure([1], [1], [])
    with pytest.raises(ValueError, match=r"every t in ts must be between 0 and len\(f\) \+ len\(g\) - 2 = 2"):
        widgets.flip_slide_figure([1, 1], [1, 1], [3])
    with pytest.raises(TypeError, match="ts must be a sequence of ints"):
        widgets.flip_slide_figure([1, 1], [1, 1], [0.5])
    with pytest.raises(ValueError, match="ts entry must be a non-negative integer"):
        widgets.flip_slide_figure([1, 1], [1, 1], [-1])


@pytest.mark.parametrize("js_function, flip, oracle", [
    ("convolve", "true", lambda f, g: np.convolve(f, g)),
    ("correlate", "false", lambda f, g: np.correlate(g, f, "full")),  # the "no flip" box
], ids=["convolution", "cross-correlation"])
def test_javascript_arithmetic_matches_numpy(tmp_path, js_function, flip, oracle):
    rng = np.random.default_rng(3)
    cases = [(rng.normal(size=m).tolist(), rng.normal(size=n).tolist()) for m, n in [(1, 1), (3, 5), (6, 2), (4, 4)]]
    result = run_esm(tmp_path, "flip_slide.js",
        f"import {{ {js_function} as full, terms }} from MODULE;\n"
        f"const cases = {json.dumps(cases)};\n"
        "console.log(JSON.stringify(cases.map(([f, g]) => ({out: full(f, g),"
        f" sums: full(f, g).map((_, t) => terms(f, g, t, {flip}).reduce((s, r) => s + r.prod, 0))}}))));\n")
    for (f, g), got in zip(cases, result):
        np.testing.assert_allclose(got["out"], oracle(f, g), atol=1e-12)
        np.testing.assert_allclose(got["sums"], oracle(f, g), atol=1e-12)


def test_javascript_toggle_and_y_scale_in_a_fake_dom(tmp_path):
    """render() runs without a browser: the box switches to the cross-correlation; each strip has a y scale."""
    from test_widgets_conv_arithmetic import FAKE_DOM

    got = run_esm(tmp_path, "flip_slide.js", FAKE_DOM + "const mod = await import(MODULE);\n" + """
const state = { f: [1, 2, 3, 4], g: [1, 0, 0, 0.5], t: 3, flip: true, preset: "custom", presets: {} };
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; }, save_changes() {}, on() {}, off() {} };
const root = new Node_("div");
mod.default.render({ model, el: root });
const find = (cls) => root.all().find((n) => (n.className || "").split(" ").includes(cls));
const text = () => root.all().map((n) => n.textContent).join("|");
const value = find("cnnlib-flip-slide-value"), box = find("cnnlib-flip-slide-noflip");
const ticks = () => root.all().filter((n) => n.attrs && n.attrs.class === "cnnlib-flip-slide-ytick").map((n) => n.textContent);
const shown = [value.textContent];
const before = { text: text(), ticks: ticks() };
box.checked = true; box.dispatch("change");
shown.push(value.textContent);
console.log(JSON.stringify({ shown, before, after: text(), flip: state.flip, ticks: ticks() }));
""")
    f, g = [1, 2, 3, 4], [1, 0, 0, 0.5]
    assert got["shown"] == [f"{np.convolve(f, g)[3]:g}", f"{np.correlate(g, f, 'full')[3]:g}"]  # 4.5, then 3
    assert got["flip"] is False
    assert "(f * g)(3) = Σ f(3 − τ) g(τ)" in got["before"]["text"]
    assert "(f ⋆ g)(0) = Σ f(τ − 0) g(τ)" in got["after"] and "ℓ = " in got["after"]
    # y scale: ticks at max, 0 and -max on each of the four strips (the output strip tops out at 4.5)
    assert len(got["before"]["ticks"]) == 12 and got["before"]["ticks"][-3:] == ["4.5", "0", "-4.5"]
