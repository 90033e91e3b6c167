"""Every page of the built book works in a browser with no internet (see checks.py)."""
import pytest

import checks
from conftest import HTML_DIR, PAGES


def test_book_is_built():
    assert (HTML_DIR / "index.html").exists(), f"no built book at {HTML_DIR}: run `make book`"
    assert len(PAGES) >= 2, f"only {PAGES} found under {HTML_DIR}"


# What each check requires of every page (visit_page runs them all on one load of the page).
PAGE_CHECKS = {
    "loads": "no request leaves 127.0.0.1, none fails, no uncaught exception, no console error",
    "math": "every formula is typeset by the local MathJax, tags (6.k) included; no raw TeX is left",
    "images": "every <img> loads (naturalWidth > 0) and every figure has a caption",
    "solutions": "dropdown solutions start hidden and open on click",
    "launch": "notebook pages link to Binder and Colab for this repository, branch and notebook",
}


@pytest.mark.parametrize("check", PAGE_CHECKS)
def test_page(visit_page, page_rel, check):
    problems = visit_page(page_rel)[check]
    assert not problems, f"{page_rel} ({check}: {PAGE_CHECKS[check]}):\n  " + "\n  ".join(problems)


def test_notebook_pages_embed_widget_state(html_dir):
    """Pages with widget views carry the widget state (saved by nbclient at build time)."""
    missing = []
    for rel in PAGES:
        text = (html_dir / rel).read_text(encoding="utf-8")
        if "application/vnd.jupyter.widget-view+json" in text and \
                'type="application/vnd.jupyter.widget-state+json"' not in text:
            missing.append(rel)
    assert not missing, f"widget views without embedded state: {missing}"


# The kernel-free explorers: page -> (root CSS class, class of the element showing the result).
EXPLORERS = {
    "chapters/6-2-convolution/index.html": ("cnnlib-flip-slide", "cnnlib-flip-slide-value"),
    "chapters/6-3-conv-layer/2-padding-stride-dilation.html": ("cnnlib-conv-arithmetic",
                                                               "cnnlib-conv-arithmetic-output"),
}


@pytest.mark.parametrize("rel", EXPLORERS)
def test_explorer_responds_without_a_kernel(html_dir, fresh_page, rel):
    """The flip-and-slide explorer (6.2) and the convolution-arithmetic explorer (6.3) work in
    the static page: moving a slider changes the value they show."""
    root, value = EXPLORERS[rel]
    assert (html_dir / rel).exists(), f"{rel} is not in the build"
    assert root in (html_dir / rel).read_text(encoding="utf-8"), f"{rel} does not embed its explorer (.{root})"
    page, visit = fresh_page(rel)
    problems = checks.check_loads_cleanly(visit) + checks.check_slider_widget(page, root, value)
    assert not problems, f"{rel}:\n" + "\n".join(problems)


def test_notebook_figures_are_in_the_book(html_dir):
    """Every figure a notebook makes reaches its page: a cell with figure metadata becomes a
    <figure> with an image, and a notebook that plots shows at least that many output images.
    (With MPLBACKEND=Agg leaking into the build's kernels, plots vanish silently.)"""
    import json
    import re

    from conftest import ROOT

    problems = []
    for nb in sorted((ROOT / "chapters").rglob("*.ipynb")):
        rel = nb.relative_to(ROOT).with_suffix(".html").as_posix()
        if not (html_dir / rel).exists():
            continue
        cells = json.loads(nb.read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        with_meta = sum("figure" in c.get("metadata", {}).get("mystnb", {}) for c in cells)
        plots = sum(("plt." in c or "_figure(" in c) for c in code)
        html = (html_dir / rel).read_text(encoding="utf-8")
        outputs = re.split(r'class="cell_output', html)[1:]
        images = sum(part.split('class="cell', 1)[0].count("<img") for part in outputs)
        figures = len(re.findall(r"<figure[^>]*>\s*(?:<[^>]*>\s*)*<img", html))
        if figures < with_meta:
            problems.append(f"{rel}: {with_meta} cells carry figure metadata, {figures} <figure>s with an image")
        if images < max(with_meta, 1 if plots else 0):
            problems.append(f"{rel}: its notebook plots in {plots} cells, the page shows {images} output images")
    assert not problems, "\n".join(problems)


# Controls beyond the first slider (issue 12): page -> (root class, control selector, new value or None
# to click, value class, text the value must then contain).
EXPLORER_CONTROLS = {
    "flip-slide no-flip box": ("chapters/6-2-convolution/index.html", "cnnlib-flip-slide",
                               "input.cnnlib-flip-slide-noflip", None, "cnnlib-flip-slide-value", None),
    "conv-arithmetic stride s_h": ("chapters/6-3-conv-layer/2-padding-stride-dilation.html", "cnnlib-conv-arithmetic",
                                   "input.cnnlib-conv-arithmetic-stride-h", "4", "cnnlib-conv-arithmetic-output",
                                   "input never read"),
}


@pytest.mark.parametrize("name", EXPLORER_CONTROLS)
def test_explorer_controls_without_a_kernel(html_dir, fresh_page, name):
    """The no-flip box of the flip-and-slide explorer changes the value shown; in the conv-arithmetic
    explorer (6 x 7 input, 3 x 3 kernel, total padding 2) a row stride of 4 leaves input rows unread."""
    rel, root, control, new_value, value, expected = EXPLORER_CONTROLS[name]
    assert (html_dir / rel).exists(), f"{rel} is not in the build"
    page, _ = fresh_page(rel)
    explorer = page.locator(f".{root}").first
    explorer.wait_for(state="attached", timeout=15_000)
    explorer.scroll_into_view_if_needed()
    shown = explorer.locator(f".{value}").first
    before = shown.text_content()
    widget = explorer.locator(control).first
    assert widget.count() == 1, f"{rel}: no {control} in .{root}"
    if new_value is None:
        widget.click()
    else:
        widget.evaluate("""(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }""",
                        new_value)
    page.wait_for_function("([el, before]) => el.textContent !== before", arg=[shown.element_handle(), before],
                           timeout=5_000)
    if expected is not None:
        assert expected in shown.text_content(), f"{rel}: {shown.text_content()!r} lacks {expected!r}"
