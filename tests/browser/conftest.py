"""Fixtures for the browser tests: the built book, a local server, headless Chromium.

The book is read from ``$CNNBOOK_HTML`` (default ``_build/html``): build it first
(``make book``). Screenshots of every page go to ``<html>/../screenshots`` (``_build/screenshots``).
Every test here is marked ``browser``; without Debian's chromium they are skipped.
"""
import json
import os
import pathlib
import sys
import time

import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import checks  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML_DIR = pathlib.Path(os.environ.get("CNNBOOK_HTML", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = HTML_DIR.parent / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
PAGES = checks.discover_pages(HTML_DIR) if HTML_DIR.is_dir() else []
# Counts of what was checked, printed at the end of the session and saved beside the screenshots.
TOTALS = {"pages": 0, "formulas": 0, "equation_tags": 0, "images": 0, "figures": 0, "solutions": 0,
          "widgets": 0}


def pytest_collection_modifyitems(items):
    for item in items:
        if pathlib.Path(str(item.fspath)).parent == pathlib.Path(__file__).parent:
            item.add_marker(pytest.mark.browser)
            # `make browser` runs these on two workers (-n 2 --dist loadgroup): every test of one
            # page goes to the same worker, which loads the page once (visit_page caches it).
            page = getattr(item, "callspec", None) and item.callspec.params.get("page_rel")
            item.add_marker(pytest.mark.xdist_group(f"page:{page}" if page else f"file:{item.fspath.basename}"))


def pytest_generate_tests(metafunc):
    if "page_rel" in metafunc.fixturenames:
        metafunc.parametrize("page_rel", PAGES or [pytest.param(None, marks=pytest.mark.skip(
            reason=f"no built book at {HTML_DIR}: run `make book` (or set CNNBOOK_HTML)"))])


@pytest.fixture(scope="session")
def html_dir():
    if not (HTML_DIR / "index.html").exists():
        pytest.skip(f"no built book at {HTML_DIR}: run `make book` (or set CNNBOOK_HTML)")
    return HTML_DIR


@pytest.fixture(scope="session")
def browser():
    if checks.chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; "
                    "`make browser` installs it when it can); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = checks.launch(p)
        yield b
        b.close()


@pytest.fixture(scope="session")
def site(html_dir):
    with checks.serve(html_dir) as base:
        yield base


@pytest.fixture(scope="session")
def context(browser):
    ctx = checks.new_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def visit_page(context, site, html_dir):
    """visit_page(rel) -> dict of problems per check for that page (each page loaded once)."""
    cache = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def visit(rel):
        if rel in cache:
            return cache[rel]
        page, visit = checks.open_page(context, site + rel)
        source = (html_dir / rel).read_text(encoding="utf-8")
        result = {
            "loads": checks.check_loads_cleanly(visit),
            "math": checks.check_math(page, source),
            "images": checks.check_images(page) + checks.check_figures_have_captions(page),
            "launch": checks.check_launch_buttons(
                page, rel, CONFIG["repository"]["url"], CONFIG["repository"].get("branch", "main"), html_dir),
        }
        TOTALS["pages"] += 1
        TOTALS["formulas"] += checks.check_math.last_count
        TOTALS["equation_tags"] += checks.check_math.last_tags
        TOTALS["images"] += checks.check_images.last_count
        TOTALS["figures"] += page.locator("article figure").count()
        TOTALS["widgets"] += page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
        # A full-page shot of a long page (6.4.6: 19 figures and an explorer) took over the default
        # 30 s on two busy cores.
        page.screenshot(path=str(SCREENSHOTS / (rel.replace("/", "__")[:-5] + ".png")), full_page=True,
                        timeout=120_000)
        # Solutions last: opening them changes the page.
        result["solutions"] = checks.check_solutions_toggle(page)
        TOTALS["solutions"] += checks.check_solutions_toggle.last_count
        page.close()
        cache[rel] = result
        return result

    return visit


@pytest.fixture
def fresh_page(context, site):
    """open(rel) -> (page, Visit): a page loaded on its own, for interaction tests."""
    opened = []

    def open_(rel):
        page, visit = checks.open_page(context, site + rel)
        opened.append(page)
        return page, visit

    yield open_
    for page in opened:
        page.close()


_START = time.time()


def pytest_sessionstart(session):
    if not os.environ.get("PYTEST_XDIST_WORKER") and SCREENSHOTS.is_dir():
        for stale in SCREENSHOTS.glob("summary-gw*.json"):  # left by an interrupted run
            stale.unlink()


def pytest_sessionfinish(session):
    """On an xdist worker, leave this worker's counts for the controller to add up."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and TOTALS["pages"] and SCREENSHOTS.is_dir():
        (SCREENSHOTS / f"summary-{worker}.json").write_text(json.dumps(TOTALS))


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    parts = sorted(SCREENSHOTS.glob("summary-gw*.json")) if SCREENSHOTS.is_dir() else []
    for part in parts:  # the workers' counts (a run with -n)
        for key, value in json.loads(part.read_text()).items():
            if key != "seconds":
                TOTALS[key] += value
        part.unlink()
    if TOTALS["pages"]:
        TOTALS["seconds"] = round(time.time() - _START, 1)
        terminalreporter.write_line(
            "browser checks: {pages} pages, {formulas} formulas ({equation_tags} tagged equations), "
            "{images} images ({figures} figures), {solutions} solutions, {widgets} widget views; "
            "{seconds} s".format(**TOTALS))
        if SCREENSHOTS.is_dir():
            (SCREENSHOTS / "summary.json").write_text(json.dumps(TOTALS, indent=1))
