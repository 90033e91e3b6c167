"""The network explorer (issue 14) works in the built book with no kernel: drawing changes the
prediction, a click outlines a unit's receptive field, and both work at 390 px (a phone) as at
1280 px. The time from a stroke to the redrawn network is printed, not asserted.

The pages are the built book's (``$CNNBOOK_HTML``, default ``_build/html``): every page that
embeds the explorer is driven; 6.4.2 must embed it (and 6.4.6 when it is in the build).
"""
import math
import re
import statistics

import pytest

import checks
from conftest import HTML_DIR, PAGES

#: Pages that must carry the explorer (when they are in the build; 6.4.2 always is).
REQUIRED = ["chapters/6-4-cnn/2-training.html", "chapters/6-4-cnn/6-inner-layers.html"]
ROOT = "cnnlib-network"
WITH_EXPLORER = [rel for rel in PAGES if ROOT in (HTML_DIR / rel).read_text(encoding="utf-8")]
WIDTHS = {"desktop": 1280, "phone": 390}


def test_explorer_is_on_its_pages(html_dir):
    assert (html_dir / REQUIRED[0]).exists(), f"{REQUIRED[0]} is not in the build"
    missing = [rel for rel in REQUIRED if (html_dir / rel).exists() and ROOT not in (html_dir / rel).read_text()]
    assert not missing, f"pages without the network explorer (.{ROOT}): {missing}"


@pytest.fixture
def explorer_page(browser, site):
    """open(rel, width) -> (page, visit, root locator): the page at that viewport width, explorer in view."""
    contexts = []

    def open_(rel, width):
        context = checks.new_context(browser)
        contexts.append(context)
        page, visit = checks.open_page(context, site + rel)
        page.set_viewport_size({"width": width, "height": 900})
        root = page.locator(f".{ROOT}").first
        root.wait_for(state="attached", timeout=15_000)
        root.scroll_into_view_if_needed()
        return page, visit, root

    yield open_
    for context in contexts:
        context.close()


def predicted_class(root) -> int:
    text = root.locator(f".{ROOT}-prediction").text_content()
    match = re.match(r"(\d+) \(probability", text)
    assert match, f"prediction text {text!r}"
    return int(match.group(1))


def stroke(page, root, points):
    """Drag the mouse through ``points`` (fractions of the input box); return, per mouse move, the time
    from the event to the redrawn network and the time of the forward pass and drawing alone (ms)."""
    box = root.locator(f".{ROOT}-input").bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    times = []
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        before = root.get_attribute("data-updates")
        page.mouse.move(x, y)
        page.wait_for_function("([el, n]) => el.dataset.updates !== n", arg=[root.element_handle(), before],
                               timeout=5_000)
        times.append((float(root.get_attribute("data-update-ms")), float(root.get_attribute("data-compute-ms"))))
    page.mouse.up()
    return times


ONE = [(0.5, 0.15 + 0.7 * t / 12) for t in range(13)]
ZERO = [(0.5 + 0.22 * math.sin(a * math.pi / 8), 0.5 - 0.3 * math.cos(a * math.pi / 8)) for a in range(17)]


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("rel", WITH_EXPLORER or [pytest.param(None, marks=pytest.mark.skip("no page embeds it"))])
def test_strokes_change_the_prediction(explorer_page, rel, width):
    page, visit, root = explorer_page(rel, width)
    assert not visit.page_errors, visit.page_errors
    assert root.bounding_box()["width"] <= width, f"the explorer is wider than the {width} px screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    root.locator(f".{ROOT}-clear").click()
    empty = root.locator(f".{ROOT}-prediction").text_content()
    times = stroke(page, root, ONE)
    after_one = root.locator(f".{ROOT}-prediction").text_content()
    assert after_one != empty, "a stroke did not change the prediction"
    one = predicted_class(root)
    root.locator(f".{ROOT}-clear").click()
    times += stroke(page, root, ZERO)
    zero = predicted_class(root)
    assert one != zero, f"a vertical bar and a ring get the same class, {one}"
    to_screen, compute = [t for t, _ in times], [c for _, c in times]
    print(f"\n{rel} at {width} px: stroke -> redrawn network {statistics.median(to_screen):.1f} ms median, "
          f"{max(to_screen):.1f} ms max over {len(times)} mouse moves (forward pass + drawing alone "
          f"{statistics.median(compute):.1f} ms median); a bar is read as {one}, a ring as {zero}")


def field_bounds(i, k):
    """conv2's unit (i, k) in LeNet-5 sees input rows 2i-2 .. 2i+11 (5 x 5 conv padded 2, 2 x 2 pool, 5 x 5 conv)."""
    from cnnlib import models, shapes

    (top, bottom), (left, right) = shapes.receptive_field(models.lenet5(), (1, 28, 28))[4].bounds(i, k)
    return f"{max(top, 0)}-{min(bottom, 27)}", f"{max(left, 0)}-{min(right, 27)}"


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("rel", WITH_EXPLORER or [pytest.param(None, marks=pytest.mark.skip("no page embeds it"))])
def test_click_shows_receptive_field(explorer_page, rel, width):
    page, visit, root = explorer_page(rel, width)
    assert not visit.page_errors, visit.page_errors
    field = root.locator(f".{ROOT}-field")
    assert not field.is_visible()
    target = root.locator(f'.{ROOT}-map[data-layer="3"]').nth(5)  # conv2, channel 5
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    target.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.35})
    field.wait_for(state="visible", timeout=5_000)
    detail = root.locator(f".{ROOT}-detail").text_content()
    match = re.search(r"conv2, channel 5, row (\d+), column (\d+)", detail)
    assert match, detail
    i, k = int(match.group(1)), int(match.group(2))
    assert (field.get_attribute("data-rows"), field.get_attribute("data-cols")) == field_bounds(i, k)
    assert "Eq. (6.20)" in detail and root.locator(f".{ROOT}-kernel").count() == 6
    # the outline sits on the input, as large as the field
    # (both boxes read in one call: the click scrolls the explanation into view, smoothly, and two
    # separate reads would straddle that scroll)
    pad, outline = root.evaluate("""(el, R) => [`.${R}-input`, `.${R}-field`].map(sel => {
        const r = el.querySelector(sel).getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height}; })""", ROOT)
    (top, bottom), (left, right) = [[int(v) for v in field.get_attribute(f"data-{a}").split("-")] for a in ("rows", "cols")]
    assert abs(outline["y"] - (pad["y"] + top / 28 * pad["height"])) < 2
    assert abs(outline["height"] - (bottom - top + 1) / 28 * pad["height"]) < 2
    assert abs(outline["x"] - (pad["x"] + left / 28 * pad["width"])) < 2
    # a pooling unit and a dense unit work too
    root.locator(f'.{ROOT}-map[data-layer="2"]').first.click()
    assert re.search(r"max of the 2 × 2 window", root.locator(f".{ROOT}-sum").text_content())
    root.locator(f".{ROOT}-bar").nth(3).click()
    assert field.get_attribute("data-rows") == "0-27" and "Σ_j w_j a_j + b over 400 inputs" in \
        root.locator(f".{ROOT}-sum").text_content()


@pytest.mark.parametrize("rel", WITH_EXPLORER or [pytest.param(None, marks=pytest.mark.skip("no page embeds it"))])
def test_finger_strokes_draw_on_a_phone(browser, site, rel):
    """Touch events (a finger on a 390 px phone screen) draw on the canvas and do not scroll the page."""
    context = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(site + rel, wait_until="load")
        root = page.locator(f".{ROOT}").first
        root.wait_for(state="attached", timeout=15_000)
        root.scroll_into_view_if_needed()
        root.locator(f".{ROOT}-clear").tap()
        before = root.locator(f".{ROOT}-prediction").text_content()
        box = root.locator(f".{ROOT}-input").bounding_box()
        scroll = page.evaluate("scrollY")
        touch = context.new_cdp_session(page)
        points = [(box["x"] + 0.5 * box["width"], box["y"] + (0.15 + 0.05 * t) * box["height"]) for t in range(15)]
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [dict(zip("xy", points[0]))]})
        for point in points[1:]:
            touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [dict(zip("xy", point))]})
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.wait_for_function("([el, before]) => el.textContent !== before",
                               arg=[root.locator(f".{ROOT}-prediction").element_handle(), before], timeout=5_000)
        assert page.evaluate("scrollY") == scroll, "a finger stroke on the canvas scrolled the page"
    finally:
        context.close()


TOUCH = 24  # px: the smallest target a finger can hit (WCAG 2.2's minimum target size)


@pytest.mark.parametrize("rel", WITH_EXPLORER or [pytest.param(None, marks=pytest.mark.skip("no page embeds it"))])
def test_touch_targets_on_a_phone(explorer_page, rel):
    """At 390 px every target is at least 24 x 24 px: the controls, each channel's map, each dense
    layer's row of bars; a tap on a map opens a zoom of the unit's neighbourhood whose squares are
    targets of their own, and a tap on a square chooses that unit."""
    page, visit, root = explorer_page(rel, 390)
    assert not visit.page_errors, visit.page_errors
    boxes = root.evaluate("""(el, R) => {
        const box = (n) => { const r = n.getBoundingClientRect(); return [r.width, r.height]; };
        return { controls: [...el.querySelectorAll(`.${R}-clear, .${R}-examples`)].map(box),
                 maps: [...el.querySelectorAll(`.${R}-map`)].map(box),
                 rows: [...new Set([...el.querySelectorAll(`.${R}-bar`)].map(b => b.parentNode.parentNode))].map(box) };
    }""", ROOT)
    assert boxes["maps"] and boxes["rows"]
    small = {kind: [b for b in found if min(b) < TOUCH] for kind, found in boxes.items()}
    assert not any(small.values()), f"targets under {TOUCH} px at 390 px: {small}"
    # a conv1 unit is under 2 px on the map: the tap chooses roughly, the zoom exactly
    conv1 = root.locator(f'.{ROOT}-map[data-layer="0"]').nth(1)
    conv1.scroll_into_view_if_needed()
    assert conv1.bounding_box()["width"] / 28 < TOUCH / 10
    conv1.click()
    cells = root.locator(f".{ROOT}-zoom-cell")
    cells.first.wait_for(state="visible", timeout=5_000)
    sizes = root.evaluate(f"""el => [...el.querySelectorAll('.{ROOT}-zoom-cell')].map(c => {{
        const r = c.getBoundingClientRect(); return Math.min(r.width, r.height); }})""")
    assert len(sizes) >= 25 and min(sizes) >= TOUCH, f"zoom squares: {len(sizes)}, smallest {min(sizes):.1f} px"
    # the zoom is on the screen after the tap (the explanation scrolls into view)
    page.wait_for_function(f"""() => {{ const r = document.querySelector('.{ROOT}-zoom').getBoundingClientRect();
        return r.top >= -1 && r.bottom <= innerHeight + 1; }}""", timeout=15_000)  # 1 px: sub-pixel layout (6.4.2 ends 0.4 px below)
    square = cells.nth(3)
    row, col = square.get_attribute("data-row"), square.get_attribute("data-col")
    square.click()
    detail = root.locator(f".{ROOT}-detail").text_content()
    assert f"conv1, channel 1, row {row}, column {col}:" in detail, detail[:200]
    fc1 = root.locator(f".{ROOT}-bar").nth(40).locator("xpath=../..")   # the row of fc1's bars
    fc1.click(position={"x": fc1.bounding_box()["width"] / 3, "y": 10})
    assert re.search(r"fc1, unit \d+:", root.locator(f".{ROOT}-detail").text_content())
    assert root.locator(f".{ROOT}-zoom-cell").count() == 9


#: Pages whose explorer embeds each channel's favourite patches (6.4.6, when it is in the build).
WITH_PATCHES = [rel for rel in WITH_EXPLORER if rel.endswith("6-inner-layers.html")]


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("rel", WITH_PATCHES or [pytest.param(None, marks=pytest.mark.skip("6.4.6 is not built"))])
def test_click_shows_top_patches(explorer_page, rel, width):
    """A click on a unit shows its channel's favourite patches of the training set (embedded in the page):
    receptive fields of conv2 (14 x 14) for a conv2 unit, whole digits for a dense unit, not blank."""
    page, visit, root = explorer_page(rel, width)
    assert not visit.page_errors, visit.page_errors
    target = root.locator(f'.{ROOT}-map[data-layer="3"]').nth(2)
    target.scroll_into_view_if_needed()
    target.click()
    gallery = root.locator(f".{ROOT}-patches")
    gallery.wait_for(state="visible", timeout=10_000)
    text = gallery.text_content()
    assert re.search(r"channel 2 is positive somewhere on [\d,]+ of the first 10,000 training digits; its 9 "
                     r"favourite patches, best first, each the 14 × 14 pixels", text), text
    tiles = root.evaluate(f"""el => [...el.querySelectorAll('.{ROOT}-patch')].map(c => {{
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let p = 0; p < d.length; p += 4) if (d[p] < 200) ink++;
        const r = c.getBoundingClientRect();
        return [c.width, c.height, ink, r.width]; }})""")
    assert len(tiles) == 9 and all(t[:2] == [14, 14] and t[2] > 0 for t in tiles), tiles
    assert min(t[3] for t in tiles) >= 40, "a patch is drawn at least 40 px wide"
    fc2 = root.locator(f".{ROOT}-bar").nth(120 + 10).locator("xpath=../..")   # the row of fc2's 84 bars
    fc2.click(position={"x": fc2.bounding_box()["width"] / 2, "y": 10})
    page.wait_for_function("el => /fc2, unit/.test(el.textContent)", arg=root.locator(f".{ROOT}-detail").element_handle())
    tiles = root.evaluate(f"el => [...el.querySelectorAll('.{ROOT}-patch')].map(c => [c.width, c.height])")
    assert 0 < len(tiles) <= 6 and all(t == [28, 28] for t in tiles) or "no favourite patches" in \
        root.locator(f".{ROOT}-patches").text_content()
