"""Every page of the built book works in a browser with no internet (see checks.py)."""
import pytest

import checks
from conftest import HTML_DIR, PAGES


def test_book_is_built():
    assert (HTML_DIR / "index.html").exists(), f"no built book at {HTML_DIR}: run `make book`"
    assert len(PAGES) >= 2, f"only {PAGES} found under {HTML_DIR}"


def test_page_loads_offline(visit_page, page_rel):
    """No request leaves 127.0.0.1, none fails, no uncaught exception, no console error."""
    problems = visit_page(page_rel)["loads"]
    assert not problems, f"{page_rel}:\n  " + "\n  ".join(problems)


def test_page_math_renders(visit_page, page_rel):
    """Every formula is typeset by the local MathJax, tags (6.k) included; no raw TeX is left."""
    problems = visit_page(page_rel)["math"]
    assert not problems, f"{page_rel}:\n  " + "\n  ".join(problems)


def test_page_images_load(visit_page, page_rel):
    """Every <img> loads (naturalWidth > 0) and every figure has a caption."""
    problems = visit_page(page_rel)["images"]
    assert not problems, f"{page_rel}:\n  " + "\n  ".join(problems)


def test_page_solutions_open(visit_page, page_rel):
    """Dropdown solutions start hidden and open on click."""
    problems = visit_page(page_rel)["solutions"]
    assert not problems, f"{page_rel}:\n  " + "\n  ".join(problems)


def test_page_launch_buttons(visit_page, page_rel):
    """Notebook pages link to Binder and Colab for this repository, branch and notebook."""
    problems = visit_page(page_rel)["launch"]
    assert not problems, f"{page_rel}:\n  " + "\n  ".join(problems)


def test_notebook_pages_embed_widget_state(html_dir):
    """Pages with widget views carry the widget state (saved by nbclient at build time)."""
    missing = []
    for rel in PAGES:
        text = (html_dir / rel).read_text(encoding="utf-8")
        if "application/vnd.jupyter.widget-view+json" in text and \
                'type="application/vnd.jupyter.widget-state+json"' not in text:
            missing.append(rel)
    assert not missing, f"widget views without embedded state: {missing}"


FLIP_SLIDE_PAGE = "chapters/6-2-convolution/index.html"


def test_flip_slide_explorer_responds(html_dir, fresh_page):
    """The flip-and-slide explorer of Section 6.2 works without a kernel: moving its slider
    changes the value it shows."""
    assert (html_dir / FLIP_SLIDE_PAGE).exists(), f"{FLIP_SLIDE_PAGE} is not in the build"
    page, visit = fresh_page(FLIP_SLIDE_PAGE)
    problems = checks.check_loads_cleanly(visit) + checks.check_slider_widget(
        page, "cnnlib-flip-slide", "cnnlib-flip-slide-value")
    assert not problems, "\n".join(problems)


CONV_ARITHMETIC_PAGE = "chapters/6-3-conv-layer/2-padding-stride-dilation.html"


def test_conv_arithmetic_explorer_responds(html_dir, fresh_page):
    """The convolution-arithmetic explorer of Section 6.3 works without a kernel: moving a
    slider changes the output size it prints."""
    assert (html_dir / CONV_ARITHMETIC_PAGE).exists(), f"{CONV_ARITHMETIC_PAGE} is not in the build"
    assert "cnnlib-conv-arithmetic" in (html_dir / CONV_ARITHMETIC_PAGE).read_text(encoding="utf-8"), \
        f"{CONV_ARITHMETIC_PAGE} does not embed conv_arithmetic_explorer()"
    page, visit = fresh_page(CONV_ARITHMETIC_PAGE)
    problems = checks.check_loads_cleanly(visit) + checks.check_slider_widget(
        page, "cnnlib-conv-arithmetic", "cnnlib-conv-arithmetic-output")
    assert not problems, f"{CONV_ARITHMETIC_PAGE}:\n" + "\n".join(problems)


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
