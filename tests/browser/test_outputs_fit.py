"""No output line or table of the 6.5 pages is cut at 1280 px (issue 22).

The rendered 6.5 pages printed lines wider than their output boxes, which the theme clips or
scrolls, and a table whose columns ran past the column. The check: at a 1280 px window, every
``pre`` and ``table`` inside a cell's output fits its own box (no hidden or scrolled overflow),
fits every box around it up to the article (none of them overflows horizontally), and ends
inside the article column.
"""
import pytest

import checks
from conftest import PAGES

DESKTOP = 1280
SECTION = "chapters/6-5-landmarks/"
SECTION_PAGES = [rel for rel in PAGES if rel.startswith(SECTION)]

_OUTPUTS_FIT_JS = r"""() => {
  const problems = [];
  const name = a => a.tagName.toLowerCase() + (a.classList[0] ? '.' + a.classList[0] : '');
  document.querySelectorAll('article .cell_output pre, article .cell_output table').forEach(e => {
    if (e.offsetParent === null) return;
    const article = e.closest('article');
    const what = (e.tagName === 'PRE' ? 'output text' : 'table') + ' "' +
                 e.textContent.trim().replace(/\s+/g, ' ').slice(0, 50) + '"';
    if (e.scrollWidth > e.clientWidth + 1) {
      problems.push(`${what} is ${e.scrollWidth - e.clientWidth} px wider than its box`);
      return;
    }
    for (let a = e.parentElement; a && a !== article; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible' && a.scrollWidth > a.clientWidth + 1) {
        problems.push(`${what} overflows ${name(a)} by ${a.scrollWidth - a.clientWidth} px`);
        return;
      }
    }
    const b = e.getBoundingClientRect(), A = article.getBoundingClientRect();
    if (b.right > A.right + 1)
      problems.push(`${what} ends at ${Math.round(b.right)} px, right of the column (${Math.round(A.right)} px)`);
  });
  return problems;
}"""


def outputs_cut(page, width: int = DESKTOP) -> list[str]:
    """Output lines and tables that do not fit, at a window ``width`` px wide."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_timeout(300)
    return [f"at {width} px: {p}" for p in page.evaluate(_OUTPUTS_FIT_JS)]


@pytest.mark.parametrize("rel", SECTION_PAGES or [pytest.param(None, marks=pytest.mark.skip(
    reason="no built 6.5 pages: run `make book` (or set CNNBOOK_HTML)"))])
def test_no_output_line_or_table_is_cut(html_dir, fresh_page, rel):
    page, _ = fresh_page(rel)
    problems = outputs_cut(page)
    assert not problems, f"{rel}:\n  " + "\n  ".join(problems)


_PAGE = """<!doctype html><html><body style="margin:0">
<article style="width:680px; margin-left:300px">
<div class="cell_output"><div class="output" style="overflow-x:auto"><pre style="overflow:auto">{text}</pre></div></div>
<div class="cell_output"><div class="output text_html" style="overflow-x:auto"><table><tr>{cells}</tr></table></div></div>
</article></body></html>"""


@pytest.mark.parametrize("text, cells, cut", [
    ("a short line", "<td>1</td><td>2</td>", False),
    ("x" * 200, "<td>1</td>", True),                                   # a line wider than its box
    ("fits", "".join(f"<td>column {k}</td>" for k in range(40)), True),  # a table wider than the column
])
def test_the_check_catches_a_cut_line_or_table(context, tmp_path, text, cells, cut):
    (tmp_path / "page.html").write_text(_PAGE.format(text=text, cells=cells), encoding="utf-8")
    with checks.serve(tmp_path) as base:
        page = context.new_page()
        page.goto(base + "page.html")
        problems = outputs_cut(page)
        page.close()
    assert bool(problems) == cut, problems
