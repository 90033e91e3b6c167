"""The browser checks fail on a broken page: a test of the tests.

A copy of the built book is served from a temporary folder; pages of it are broken on
purpose (MathJax removed, an image missing, a script that throws, a request to the internet,
the widget state dropped, ...) and each check must report the breakage. The unbroken page is
checked too, so that a check that always complains would be caught as well.
"""
import re
import shutil

import pytest

import checks
from conftest import CONFIG, PAGES, HTML_DIR


def _first_page(predicate, what):
    for rel in PAGES:
        if predicate((HTML_DIR / rel).read_text(encoding="utf-8")):
            return rel
    pytest.skip(f"no page of the build has {what}")


@pytest.fixture(scope="module")
def broken_site(html_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("broken-book") / "html"
    shutil.copytree(html_dir, root)
    with checks.serve(root) as base:
        yield root, base


def _variant(root, rel, name, edit):
    """Write an edited copy of page ``rel`` beside it (so relative links still work)."""
    html = (root / rel).read_text(encoding="utf-8")
    changed = edit(html)
    assert changed != html, f"the edit '{name}' did not change {rel}"
    out = rel[:-5] + f"--broken-{name}.html"
    (root / out).write_text(changed, encoding="utf-8")
    return out


def _inject(html, snippet):
    return html.replace("</article>", snippet + "</article>", 1)


def _open(context, base, rel):
    page, visit = checks.open_page(context, base + rel, timeout_ms=20_000, settle_ms=6_000)
    return page, visit


MATH = re.compile(r'class="(?:[^"]* )?math[ "]')


def test_math_check_catches_missing_mathjax(broken_site, context):
    root, base = broken_site
    rel = _first_page(lambda h: MATH.search(h) and "tex-mml-chtml.js" in h, "display or inline math")
    page, _ = _open(context, base, rel)
    assert checks.check_math(page, (root / rel).read_text()) == []  # the real page is fine
    page.close()
    bad = _variant(root, rel, "no-mathjax",
                   lambda h: re.sub(r'<script[^>]*tex-mml-chtml\.js[^>]*></script>', "", h))
    page, _ = _open(context, base, bad)
    problems = checks.check_math(page, (root / bad).read_text())
    page.close()
    assert any("MathJax did not load" in p for p in problems), problems
    assert any("raw TeX" in p for p in problems), problems


def test_math_check_catches_the_running_equation_number(broken_site, context):
    root, base = broken_site
    rel = _first_page(lambda h: checks.tags_on_page(h) and 'class="eqno"' in h, "a \\tag{...} equation")
    bad = _variant(root, rel, "no-book-css", lambda h: re.sub(r'<link[^>]*book\.css[^>]*/?>', "", h))
    page, _ = _open(context, base, bad)
    problems = checks.check_math(page, (root / bad).read_text())
    page.close()
    assert any("running equation number" in p for p in problems), problems


def test_load_checks_catch_missing_image_exception_console_error_and_internet(broken_site, context):
    root, base = broken_site
    rel = PAGES[0]
    page, visit = _open(context, base, rel)
    assert checks.check_loads_cleanly(visit) == [] and checks.check_images(page) == []
    page.close()

    bad = _variant(root, rel, "missing-image", lambda h: _inject(h, '<img src="_images/no-such-figure.png" alt="x">'))
    page, visit = _open(context, base, bad)
    assert any("no-such-figure.png" in p for p in checks.check_images(page))
    assert any("failed request" in p and "no-such-figure.png" in p for p in checks.check_loads_cleanly(visit))
    page.close()

    bad = _variant(root, rel, "throws", lambda h: _inject(h, '<script>throw new Error("boom from a test")</script>'))
    _, visit = _open(context, base, bad)
    assert any("uncaught exception" in p and "boom from a test" in p for p in checks.check_loads_cleanly(visit))

    bad = _variant(root, rel, "console", lambda h: _inject(h, '<script>console.error("bad thing")</script>'))
    _, visit = _open(context, base, bad)
    assert any("console error: bad thing" in p for p in checks.check_loads_cleanly(visit))

    bad = _variant(root, rel, "cdn", lambda h: _inject(
        h, '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'))
    _, visit = _open(context, base, bad)
    assert any("external request" in p and "cdn.jsdelivr.net" in p for p in checks.check_loads_cleanly(visit))


def test_caption_check_catches_a_figure_without_caption(broken_site, context):
    root, base = broken_site
    bad = _variant(root, PAGES[0], "no-caption", lambda h: _inject(
        h, '<figure><img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" alt=""></figure>'))
    page, _ = _open(context, base, bad)
    assert checks.check_figures_have_captions(page), "a figure without a caption went unnoticed"
    page.close()


def test_solution_check_catches_a_dead_toggle(broken_site, context):
    root, base = broken_site
    rel = _first_page(lambda h: "solution dropdown" in h, "a dropdown solution")
    bad = _variant(root, rel, "no-togglebutton", lambda h: re.sub(r'<script[^>]*togglebutton\.js[^>]*></script>', "", h))
    page, _ = _open(context, base, bad)
    problems = checks.check_solutions_toggle(page)
    page.close()
    assert any("no toggle button" in p for p in problems), problems


def test_widget_checks_catch_missing_state_and_missing_anywidget(broken_site, context):
    root, base = broken_site
    rel = _first_page(lambda h: "widget-state+json" in h and "anywidget" in h, "an embedded anywidget")
    no_state = _variant(root, rel, "no-widget-state", lambda h: re.sub(
        r'<script type="application/vnd\.jupyter\.widget-state\+json">.*?</script>', "", h, flags=re.S))
    _, visit = _open(context, base, no_state)
    assert any("did not render" in p for p in checks.check_loads_cleanly(visit))

    # Without widgets-offline.js the html-manager looks anywidget up on its CDN (blocked here).
    no_local = _variant(root, rel, "no-offline-config", lambda h: re.sub(
        r'<script[^>]*widgets-offline\.js[^>]*></script>', "", h))
    _, visit = _open(context, base, no_local)
    problems = checks.check_loads_cleanly(visit)
    assert any("external request" in p for p in problems), problems


def test_slider_check_catches_a_frozen_explorer(broken_site, context):
    root, base = broken_site
    rel = _first_page(lambda h: "cnnlib-flip-slide" in h, "the flip-slide explorer")
    page, _ = _open(context, base, rel)
    assert checks.check_slider_widget(page, "cnnlib-flip-slide", "cnnlib-flip-slide-value") == []
    page.close()
    # Freeze the explorer: swallow every 'input' and 'change' event before the widget sees it.
    frozen = _variant(root, rel, "frozen", lambda h: h.replace("<head>", "<head><script>"
                      "['input','change'].forEach(t => window.addEventListener(t, e => e.stopImmediatePropagation(), true));"
                      "</script>", 1))
    page, _ = _open(context, base, frozen)
    problems = checks.check_slider_widget(page, "cnnlib-flip-slide", "cnnlib-flip-slide-value")
    page.close()
    assert problems and "did not change" in problems[0], problems


def test_launch_button_check_catches_wrong_urls(broken_site, context):
    root, base = broken_site
    rel = _first_page(lambda h: "mybinder.org" in h, "launch buttons")
    page, _ = _open(context, base, rel)
    repo, branch = CONFIG["repository"]["url"], CONFIG["repository"].get("branch", "main")
    assert checks.check_launch_buttons(page, rel, repo, branch, root) == []
    assert len(checks.check_launch_buttons(page, rel, repo, "not-the-branch", root)) == 2
    assert len(checks.check_launch_buttons(page, rel, "https://github.com/someone/else", branch, root)) == 2
    page.close()
