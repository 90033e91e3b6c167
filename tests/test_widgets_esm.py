"""Both explorers ship one self-contained ES module: the shared kit, then their own file."""
from importlib import resources

import pytest

from cnnlib import widgets
from cnnlib.widgets._esm import esm_source

STATIC = resources.files("cnnlib") / "widgets"
EXPLORERS = [
    # factory, module file, CSS classes the browser tests read, synced traits
    (widgets.flip_slide_explorer, "flip_slide.js", ("cnnlib-flip-slide", "cnnlib-flip-slide-value"),
     {"f", "g", "t", "flip", "preset", "presets"}),
    (widgets.conv_arithmetic_explorer, "conv_arithmetic.js",
     ("cnnlib-conv-arithmetic", "cnnlib-conv-arithmetic-output"),
     {"M", "K", "total_padding", "stride", "dilation", "position"}),
]


@pytest.mark.parametrize("make, name, classes, traits", EXPLORERS, ids=[e[1] for e in EXPLORERS])
def test_esm_is_shipped_and_synced(make, name, classes, traits):
    w = make()
    kit = (STATIC / "widget_kit.js").read_text(encoding="utf-8")
    own = (STATIC / name).read_text(encoding="utf-8")
    assert w._esm == esm_source(name) == kit + "\n" + own
    assert "export default" in own and "render" in own
    assert "import " not in w._esm.replace("import.meta", ""), "the ES module must not import anything (offline book)"
    for helper in ("function el(", "function frame("):
        assert w._esm.count(helper) == 1, f"{helper} must be defined once, in widget_kit.js"
    for css_class in classes:
        assert css_class in w._esm
    assert 'type = "range"' in own
    assert {"_esm", *traits} <= set(w.traits(sync=True))


def test_conv_arithmetic_says_when_there_is_no_output():
    assert "no output" in (STATIC / "conv_arithmetic.js").read_text(encoding="utf-8")
