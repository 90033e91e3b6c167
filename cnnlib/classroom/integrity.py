"""What a submitted notebook changed outside its answers: the flags of the grade sheet.

Grading runs the student's code, which could alter anything in its own kernel, so a verdict
alone proves little about a notebook whose page was changed. These checks are static (they
read the notebook, run nothing) and are reported beside the verdicts, for the instructor to
look at:

- a student edition is compared with the student edition of its book page (the page under
  the book's ``chapters/`` with the same exercise labels, in order): code cells outside the
  stubs changed, added or deleted; in each stub, the lines it gave (the reference, the data,
  the ``attempt`` block with its checks) changed or removed, or a given name bound again;
- in any notebook, code that names the grading machinery (``cnnlib.exercises._record``, the
  grader's ``_cnnbook_record``, the verdict's MIME type, a ``Feedback(...)`` made by hand).
"""
from __future__ import annotations

import ast
import difflib
import pathlib
import re

import nbformat

from .notebooks import STUB_TAG, exercises_in

__all__ = ["INTERNALS", "is_student_edition", "find_book_page", "flags"]

INTERNALS = re.compile(r"_record\b|_registry\b|_cnnbook|cnnlib\.exercises\._|\bCHECKERS\b|VERDICT_MIME|vnd\.cnnbook|"
                       r"\bFeedback\s*\(|\bdecide\s*\(")
"""Code that reaches into the grading machinery."""

_pages: dict = {}  # (book, files and their mtimes) -> {labels: page}


def is_student_edition(nb) -> bool:
    """Whether ``nb`` is a student edition (its metadata says so, or it has stub cells)."""
    return nb.metadata.get("cnnbook", {}).get("edition") == "student" or any(
        STUB_TAG in c.metadata.get("tags", []) for c in nb.cells)


def find_book_page(nb, book) -> pathlib.Path | None:
    """The notebook under ``book`` with the same exercise labels as ``nb``, in the same order."""
    labels = tuple(e.label for e in exercises_in(nb))
    book = pathlib.Path(book)
    if not labels or not book.is_dir():
        return None
    files = tuple(sorted((str(p), p.stat().st_mtime) for p in book.rglob("*.ipynb")
                         if ".ipynb_checkpoints" not in p.parts))
    key = (str(book.resolve()), files)
    if key not in _pages:
        index = {}
        for name, _ in files:
            try:
                page = nbformat.read(name, as_version=4)
            except Exception:  # noqa: BLE001 - an unreadable page of the book matches nothing
                continue
            index.setdefault(tuple(e.label for e in exercises_in(page)), pathlib.Path(name))
        _pages.clear()
        _pages[key] = index
    return _pages[key].get(labels)


def _preview(source: str) -> str:
    line = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    return line if len(line) <= 40 else line[:37] + "..."


def _stub_label(cell):
    return cell.metadata.get("cnnbook", {}).get("exercise") if STUB_TAG in cell.metadata.get("tags", []) else None


def _given(tree: ast.Module) -> list:
    """A stub's given statements: all but ``name = ...`` and the ``def``s whose body is ``...``."""
    given = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                isinstance(stmt.body[-1], ast.Expr) and getattr(stmt.body[-1].value, "value", None) is Ellipsis:
            continue
        given.append(stmt)
    return given


def _bound(stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | (
        {stmt.name} if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else set()) | (
        {(a.asname or a.name).split(".")[0] for a in stmt.names} if isinstance(stmt, (ast.Import, ast.ImportFrom)) else set())


def _stub_changes(original: str, submitted: str) -> list[str]:
    try:
        orig, sub = ast.parse(original), ast.parse(submitted)
    except SyntaxError:
        return []  # a stub that does not parse raises when it runs: its row says so
    given = _given(orig)
    sub_dumps = {ast.dump(s) for s in sub.body}
    problems = []
    if any(ast.dump(s) not in sub_dumps for s in given):
        problems.append("the stub's given lines were changed (its reference, data or checks)")
    protected = set().union(*map(_bound, given)) if given else set()
    protected |= {"exercises", "attempt"}
    given_dumps = {ast.dump(s) for s in given}
    rebound = sorted({n for s in sub.body if ast.dump(s) not in given_dumps for n in _bound(s) & protected})
    if rebound:
        problems.append(f"the stub binds given name(s) again: {', '.join(rebound)}")
    return problems


def flags(nb, book) -> tuple[list[str], dict[str, list[str]]]:
    """``(notebook flags, {label: flags})`` for a notebook about to be graded (see the module docstring)."""
    notebook, per_label = [], {}
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code" and INTERNALS.search(cell.source):
            label = _stub_label(cell)
            where = per_label.setdefault(label, []) if label else notebook
            where.append(f"grading internals named in cell {number} ({_preview(cell.source)})")
    if not is_student_edition(nb):
        return notebook, per_label
    page = find_book_page(nb, book)
    if page is None:
        notebook.append(f"no book page with these exercises under {book}: cells not compared")
        return notebook, per_label
    from .stubs import student_notebook

    original = student_notebook(nbformat.read(page, as_version=4))
    orig_cells = [c.source for c in original.cells if c.cell_type == "code" and _stub_label(c) is None]
    sub_cells = [(n, c.source) for n, c in enumerate(nb.cells, start=1) if c.cell_type == "code" and _stub_label(c) is None]
    matcher = difflib.SequenceMatcher(None, orig_cells, [s for _, s in sub_cells], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("replace", "insert"):
            word = "changed" if op == "replace" else "added"
            notebook += [f"{word}: cell {n} ({_preview(s)})" for n, s in sub_cells[j1:j2]]
        if op == "delete" or op == "replace" and i2 - i1 > j2 - j1:
            notebook += [f"deleted: the page's cell ({_preview(s)})" for s in orig_cells[i1 + (j2 - j1):i2]]
    stubs = {_stub_label(c): c.source for c in original.cells if _stub_label(c)}
    for cell in nb.cells:
        label = _stub_label(cell)
        if label in stubs:
            per_label.setdefault(label, []).extend(_stub_changes(stubs[label], cell.source))
    return notebook, per_label
