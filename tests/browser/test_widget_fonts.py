"""Every font that a page with kernel-free widgets declares can be loaded from the book.

The vendored html-manager (``assets/vendor/html-manager/embed-amd.js``) defines several
bundles by name (``@jupyter-widgets/base``, ``controls``, ...), and each bundle places its
icon fonts next to its own module URL. Without a require.js path for each name
(``assets/vendor/widgets-offline.js``), that URL is ``<page folder>/@jupyter-widgets/``, and the
fonts 404 whenever the browser happens to need an icon: a failure that came and went from run
to run. Here every ``@font-face`` source on a widget page is loaded on purpose, so the check
does not depend on luck.
"""
import pytest

from conftest import HTML_DIR, PAGES

WIDGET_PAGES = [rel for rel in PAGES
                if "application/vnd.jupyter.widget-view+json" in (HTML_DIR / rel).read_text(encoding="utf-8")]

_LOAD_ALL_FONTS = """async () => {
    const failed = [];
    for (const font of document.fonts) {
        try { await font.load(); } catch (e) { failed.push(font.family); }
    }
    return failed;
}"""


def test_there_are_widget_pages():
    assert WIDGET_PAGES, "no page embeds a widget view: the font check below would test nothing"


@pytest.mark.parametrize("rel", WIDGET_PAGES)
def test_every_declared_font_loads(fresh_page, rel):
    page, _ = fresh_page(rel)
    bad = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.wait_for_function("() => document.querySelector('.widget-subarea, .cnnlib-network, .lm-Widget') !== null",
                           timeout=30_000)
    failed = page.evaluate(_LOAD_ALL_FONTS)
    page.wait_for_timeout(300)
    assert not bad and not failed, f"{rel}: fonts that do not load: {failed}; failed requests: {bad}"
