"""Reading a book notebook: its exercises (``exercise-start``/``solution-start`` directives) and
the code cells of their solutions; the paths and names the classroom edition uses."""
from __future__ import annotations

import dataclasses
import pathlib
import re

__all__ = ["Exercise", "exercises_in", "find_book", "chapters_folder", "ROOT", "CHAPTERS", "STUDENT_DIR",
           "STUB_TAG", "KEEP_MARK"]


def find_book(start=None) -> pathlib.Path | None:
    """The book's root folder (it holds ``_toc.yml`` and ``chapters/``), or None.

    The nearest such folder at or above ``start`` (default: the working directory), else the
    clone this package was imported from (an editable install), else None (an installed
    package used outside a clone).

    Examples
    --------
    >>> find_book("/") is None or (find_book("/") / "_toc.yml").is_file()
    True
    """
    here = pathlib.Path(start if start is not None else pathlib.Path.cwd()).resolve()
    for folder in (here, *here.parents, pathlib.Path(__file__).resolve().parents[2]):
        if (folder / "_toc.yml").is_file() and (folder / "chapters").is_dir():
            return folder
    return None


def chapters_folder(source) -> pathlib.Path:
    """``source`` as a folder of the book's notebooks, or a ValueError that says what to do.

    Examples
    --------
    >>> chapters_folder("/no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: source must be a folder holding the book's notebooks, got '/no/such/folder' ...
    """
    folder = pathlib.Path(source)
    if not folder.is_dir() or not any(folder.rglob("*.ipynb")):
        raise ValueError(
            f"source must be a folder holding the book's notebooks, got {str(source)!r} (no .ipynb files there). "
            f"Run inside a clone of the book, whose chapters/ is found from the working directory "
            f"(now {pathlib.Path.cwd()}), or give the folder: --source PATH (source=PATH from Python)")
    return folder


#: The book this session works on: found from the working directory when the module is imported
#: (an installed package outside any clone falls back to the working directory itself).
ROOT = find_book() or pathlib.Path.cwd()
STUDENT_DIR = ROOT / "_build" / "student"
CHAPTERS = ROOT / "chapters"
KEEP_MARK = "# stub: keep"
STUB_TAG = "student-stub"

_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>exercise-start|exercise-end|solution-start|solution-end|"
                        r"exercise|solution)\}[ \t]*(?P<arg>[^\n]*)$")


def _segments(text: str):
    """Split markdown into ``("text", str)`` and ``("directive", name, arg, options, raw)`` parts."""
    lines = text.splitlines(keepends=True)
    parts, buf, i = [], [], 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i].rstrip("\n"))
        if not m:
            buf.append(lines[i])
            i += 1
            continue
        if buf:
            parts.append(("text", "".join(buf)))
            buf = []
        fence, raw, options = m.group("fence"), [lines[i]], {}
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            opt = re.match(r"^:(\w[\w-]*):\s*(.*)$", lines[i].strip())
            if opt:
                options[opt.group(1)] = opt.group(2)
            raw.append(lines[i])
            i += 1
        if i < len(lines):
            raw.append(lines[i])
            i += 1
        parts.append(("directive", m.group("name"), m.group("arg").strip(), options, "".join(raw)))
    if buf:
        parts.append(("text", "".join(buf)))
    return parts


@dataclasses.dataclass
class Exercise:
    """One exercise of a notebook: its label and the indices of its solution's code cells."""

    label: str
    solution_cells: list[int] = dataclasses.field(default_factory=list)
    solution_code: str = ""
    has_solution: bool = False


def exercises_in(nb) -> list[Exercise]:
    """The exercises of a notebook, in order, with the code cells of their solutions.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("```{exercise-start}\\n:label: ex-a\\n```\\nDo it.\\n"
    ...                                   "```{exercise-end}\\n```\\n```{solution-start} ex-a\\n```"),
    ...     nbformat.v4.new_code_cell("x = 1"),
    ...     nbformat.v4.new_markdown_cell("```{solution-end}\\n```")])
    >>> exercises_in(nb)
    [Exercise(label='ex-a', solution_cells=[1], solution_code='x = 1', has_solution=True)]
    """
    found, by_label, current = [], {}, None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for part in _segments(cell.source):
                if part[0] != "directive":
                    continue
                name, arg, options = part[1], part[2], part[3]
                if name in ("exercise-start", "exercise") and options.get("label"):
                    ex = Exercise(options["label"])
                    found.append(ex)
                    by_label[ex.label] = ex
                elif name in ("solution-start", "solution") and arg:
                    ex = by_label.setdefault(arg, Exercise(arg))
                    if ex not in found:
                        found.append(ex)
                    ex.has_solution = True
                    current = ex if name == "solution-start" else None  # {solution} holds only text
                elif name == "solution-end":
                    current = None
        elif cell.cell_type == "code" and current is not None:
            current.solution_cells.append(index)
    for ex in found:
        ex.solution_code = "\n\n".join(nb.cells[i].source for i in ex.solution_cells)
    return found
