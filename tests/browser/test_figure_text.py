"""The text of 6.4.6's figures is legible (issue 21): the rendered height of each figure's
smallest text, from its size in points, the PNG's resolution (its pHYs chunk: matplotlib writes
the dpi there) and the image's rendered width against its natural width,

    height (CSS px) = points / 72 * dpi * rendered width / natural width,

is at least 9 px at 1280 px and at 390 px (a phone: a 342 px column) for every figure of the page
that has text. The size in points is measured on cnnlib's own drawing functions (plot_layer_panel,
plot_feature_maps, network_figure, plot_kernels: their smallest text, tick labels included) or read
from the cell: the smallest ``fontsize=`` or ``labelsize=`` it passes, and matplotlib's default size
where it draws labels, ticks or a colour bar without one.
"""
import base64
import json
import re
import struct
import urllib.parse

import pytest

import checks
from conftest import HTML_DIR, ROOT

PAGE = "chapters/6-4-cnn/6-inner-layers.html"
NOTEBOOK = ROOT / "chapters" / "6-4-cnn" / "6-inner-layers.ipynb"
MIN_PX = 9.0
WIDTHS = {"desktop": 1280, "phone": 390}


def smallest_text(figure_of) -> float:
    """The smallest text (titles, labels, tick labels) in points of the figure that ``figure_of(module)``
    draws with cnnlib's own functions on stand-in data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = figure_of()
    fig.canvas.draw()
    texts = list(fig.texts) + ([fig._suptitle] if fig._suptitle else [])
    for ax in fig.axes:
        texts += list(ax.texts) + [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        if ax.axison:                                                # axis("off") draws no tick labels
            texts += ax.get_xticklabels() + ax.get_yticklabels()
    sizes = [t.get_fontsize() for t in texts if t.get_text().strip() and t.get_visible()]
    plt.close(fig)
    return min(sizes, default=float("inf"))                     # no text: nothing to read


def panel_figure():
    from types import SimpleNamespace

    import numpy as np

    from cnnlib import visualize

    unit = SimpleNamespace(patch=np.zeros((1, 5, 5)), projection=np.zeros((1, 5, 5)), value=1.0)
    return visualize.plot_layer_panel({0: [unit]}, title="layer")


def network_figure():
    import torch

    from cnnlib import models, widgets

    return widgets.network_figure(models.lenet5(), torch.zeros(28, 28), unit=("conv2", 0, 4, 4), label=7)


def feature_maps_figure(source: str):
    """plot_feature_maps as the cell calls it: with its ``fontsize=`` and ``title=`` if it passes them."""
    import numpy as np

    from cnnlib import visualize

    size = re.search(r"fontsize=(\d+(?:\.\d+)?)", source)
    return lambda: visualize.plot_feature_maps(np.zeros((16, 5, 5)), title="maps" if "title=" in source else None,
                                               **({"fontsize": float(size.group(1))} if size else {}))


def kernels_figure(source: str):
    import numpy as np

    from cnnlib import visualize

    return lambda: visualize.plot_kernels(np.zeros((6, 1, 5, 5)), title="kernels" if "title=" in source else None)


TICKS = ("colorbar(", "bar(", "plot(", "set_xticks(", "set_yticks(")   # calls that draw tick labels
LABELS = ("set_xlabel(", "set_ylabel(")


def cell_points(source: str) -> float:
    """The smallest text size in points of a figure that the cell draws with matplotlib itself: the
    ``fontsize=`` and ``labelsize=`` it passes, and matplotlib's default size for tick labels (without a
    ``labelsize=`` in the cell) and for axis labels (without a ``fontsize=`` on their line)."""
    import matplotlib

    sizes = [float(s) for s in re.findall(r"(?:fontsize|labelsize)=(\d+(?:\.\d+)?)", source)]
    ticks = any(call in source for call in TICKS) or ("imshow(" in source and 'axis("off")' not in source)
    if ticks and "labelsize=" not in source:
        sizes.append(matplotlib.font_manager.FontProperties(size=matplotlib.rcParams["xtick.labelsize"])
                     .get_size_in_points())
    if any(call in line and "fontsize=" not in line for line in source.splitlines() for call in LABELS):
        sizes.append(matplotlib.rcParams["font.size"])
    return min(sizes, default=float("inf"))


def title_points() -> dict:
    """{figure name: smallest text size in points} for every figure of the page's notebook."""
    found = {}
    for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]:
        name = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
        source = "".join(cell["source"])
        if not name:
            continue
        if "plot_layer_panel(" in source:
            found[name] = smallest_text(panel_figure)
        elif "network_figure(" in source:
            found[name] = smallest_text(network_figure)
        elif "plot_feature_maps(" in source:
            found[name] = smallest_text(feature_maps_figure(source))
        elif "plot_kernels(" in source:
            found[name] = smallest_text(kernels_figure(source))
        else:
            found[name] = cell_points(source)
    return found


def png_dpi(data: bytes) -> float:
    """The resolution a PNG states in its pHYs chunk (pixels per metre), in dots per inch."""
    at = data.find(b"pHYs")
    assert at > 0, "the PNG has no pHYs chunk (matplotlib writes one with the figure's dpi)"
    x, _, unit = struct.unpack(">IIB", data[at + 4:at + 13])
    assert unit == 1, "pHYs unit is not the metre"
    return x * 0.0254


def image_bytes(src: str, site: str) -> bytes:
    if src.startswith("data:"):
        return base64.b64decode(src.split(",", 1)[1])
    path = urllib.parse.urlsplit(src).path[len(urllib.parse.urlsplit(site).path):]
    return (HTML_DIR / urllib.parse.unquote(path)).read_bytes()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_figure_text_is_at_least_9_px(browser, site, html_dir, width):
    if not (html_dir / PAGE).exists():
        pytest.skip(f"{PAGE} is not in the build")
    points = title_points()
    assert len(points) >= 15, f"the page's figures were not all found: {sorted(points)}"
    context = checks.new_context(browser)
    try:
        page, _ = checks.open_page(context, site + PAGE)
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        shown = page.evaluate("""() => [...document.querySelectorAll('figure[id] img')].map(img => ({
            id: img.closest('figure').id, src: img.src, natural: img.naturalWidth,
            rendered: img.getBoundingClientRect().width }))""")
    finally:
        context.close()
    heights, small = {}, []
    for fig in shown:
        if fig["id"] not in points or points[fig["id"]] == float("inf"):   # no text in the figure
            continue
        pt = points[fig["id"]]
        px = pt / 72 * png_dpi(image_bytes(fig["src"], site)) * fig["rendered"] / fig["natural"]
        heights[fig["id"]] = px
        if px < MIN_PX:
            small.append(f"{fig['id']}: {pt:g} pt text renders at {px:.1f} px")
    missing = sorted({k for k, v in points.items() if v != float("inf")} - set(heights))
    assert not missing, f"figures of the notebook not found on the page: {missing}"
    print(f"\n{width} px: smallest text per figure (px): " +
          ", ".join(f"{k.removeprefix('fig-6-4-6-')} {v:.1f}" for k, v in sorted(heights.items(), key=lambda kv: kv[1])))
    assert not small, f"text under {MIN_PX:g} px at {width} px: {small}"
