"""The executed 6.5 pages print nothing raw and no line wider than the column (issue 22).

Browser-independent twin of ``test_outputs_fit.py``: it reads the notebooks as the book build
executed them (``_build/jupyter_execute``, beside ``$CNNBOOK_HTML``), so it runs after the build
even where Chromium is missing. What the reader sees of each output is checked:

- a line of text output (a stream, or a result shown as plain text) is at most 79 characters,
  what the column holds at 1280 px (an 86-character line was 52 px wider than its box);
- no float printed raw, with six or more decimals (pandas' ``15.300000``);
- no citation key of ``references.bib`` (``he2016deep``) printed instead of a formatted source.

Tables shown as HTML are checked for the last two only (their width is the browser test's).
"""
import html
import pathlib
import re

import nbformat
import pytest

from conftest import HTML_DIR, ROOT

SECTION = "chapters/6-5-landmarks"
EXECUTED = HTML_DIR.parent / "jupyter_execute" / SECTION
NOTEBOOKS = sorted(EXECUTED.glob("*.ipynb")) if EXECUTED.is_dir() else []
COLUMN_CHARS = 79
RAW_FLOAT = re.compile(r"(?<![\w.])\d+\.\d{6,}(?![\w.])")
BIB_KEYS = re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", (ROOT / "references.bib").read_text(encoding="utf-8"))


def _shown_text(output) -> tuple[str, bool]:
    """What the reader sees of one output, and whether it is preformatted text (a ``pre``)."""
    if output.output_type == "stream":
        return output.text, True
    data = output.get("data", {})
    if "text/html" in data:
        return html.unescape(re.sub(r"<[^>]+>", " ", data["text/html"])), False
    if any(k.startswith("image/") or k.startswith("application/") for k in data):
        return "", False
    return data.get("text/plain", ""), True


def output_problems(nb, keys=BIB_KEYS, width: int = COLUMN_CHARS) -> list[str]:
    """Over-wide lines, raw floats and raw citation keys in the outputs of ``nb``."""
    key_pattern = re.compile(r"\b(" + "|".join(map(re.escape, keys)) + r")\b") if keys else None
    problems = []
    for number, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            text, pre = _shown_text(output)
            where = f"cell {number}"
            if pre:
                problems += [f"{where}: a {len(line)}-character line (> {width}): {line[:60]!r}..."
                             for line in text.splitlines() if len(line) > width]
            problems += [f"{where}: raw float {m!r}" for m in RAW_FLOAT.findall(text)]
            if key_pattern:
                problems += [f"{where}: raw citation key {m!r}" for m in key_pattern.findall(text)]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"no executed 6.5 notebooks in {EXECUTED}: run `make book`"))], ids=lambda p: getattr(p, "name", "none"))
def test_outputs_are_formatted_and_fit(path):
    problems = output_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def _notebook(*outputs):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("...", outputs=list(outputs)))
    return nb


@pytest.mark.parametrize("output, caught", [
    (nbformat.v4.new_output("stream", text="a short line\n" + "x" * 79 + "\n"), False),
    (nbformat.v4.new_output("stream", text="x" * 80 + "\n"), True),
    (nbformat.v4.new_output("execute_result", {"text/plain": "  error\n0 15.300000"}), True),
    (nbformat.v4.new_output("execute_result", {"text/html": "<td>15.300000</td>", "text/plain": "..."}), True),
    (nbformat.v4.new_output("execute_result", {"text/html": "<td>15.3</td>", "text/plain": "y" * 200}), False),
    (nbformat.v4.new_output("stream", text="source: he2016deep\n"), True),
    (nbformat.v4.new_output("stream", text="source: He et al. 2016, 0.00417 billion\n"), False),
    (nbformat.v4.new_output("display_data", {"image/png": "iVBOR", "text/plain": "<Figure size 640x480>" + "z" * 90}), False),
])
def test_the_check_catches_what_it_should(output, caught):
    problems = output_problems(_notebook(output), keys=["he2016deep", "tan2019efficientnet"])
    assert bool(problems) == caught, problems


def test_the_bibliography_keys_are_read():
    assert "he2016deep" in BIB_KEYS and len(BIB_KEYS) >= 60
