"""Grading: execute notebooks (instructor or student editions) and collect one verdict per
exercise.

The grader adds cells of its own to a copy of each notebook: one that imports the record
(:mod:`cnnlib.exercises._record`) after the bootstrap cell, and around each graded
exercise's cells (an instructor's solution, a student's stub) a ``begin`` cell and an ``end``
cell. The ``end`` cell displays the verdict with a random token written into that cell's
source only, so a verdict is read from the grader's own cells, never from what a student's
cell prints, displays or writes. What the student's code could still do, and what the sheet's
``flags`` column reports about it, is in ``instructors.md`` and :mod:`.integrity`.
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import logging
import math
import numbers
import os
import pathlib
import secrets
import sys
import tempfile
import time

import nbformat

from ..exercises._record import VERDICT_MIME
from . import integrity
from .notebooks import CHAPTERS, STUB_TAG, exercises_in

__all__ = ["GradeRow", "grade_notebook", "grade", "score"]

_RECORD = "_cnnbook_record"
_QUIET = logging.getLogger("cnnlib.classroom.kernel")  # nbclient's log: nothing on the instructor's console
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclasses.dataclass
class GradeRow:
    """One row of the grade sheet: a notebook, an exercise label, the verdict, its message,
    the hints the student saw with it, and what the notebook changed outside its answers."""

    notebook: str
    exercise: str
    status: str
    message: str
    hints: str = ""
    flags: str = ""


@dataclasses.dataclass
class _Bracket:
    """The grader's cells around one exercise: indices in the prepared notebook and the token."""

    label: str
    begin: int
    end: int
    token: str


def check_timeout(timeout) -> float:
    """``timeout`` as a float of seconds: a real number, positive and finite."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds; got {type(timeout).__name__} {timeout!r}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive, finite number of seconds; got {timeout!r}")
    return float(timeout)


def _exercise_cells(nb, student: bool) -> dict[str, list[int]]:
    """Each exercise's cells: the solution's code cells, or (student edition) its stub cell."""
    if student:
        return {c.metadata["cnnbook"]["exercise"]: [i] for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and STUB_TAG in c.metadata.get("tags", [])
                and c.metadata.get("cnnbook", {}).get("exercise")}
    return {ex.label: ex.solution_cells for ex in exercises_in(nb) if ex.solution_cells}


def _graded_labels(nb, exercises, student: bool) -> set[str]:
    """The exercises that a checker grades (the others are read by hand)."""
    if student:
        listed = set(nb.metadata.get("cnnbook", {}).get("graded", []))
        return listed | {c.metadata["cnnbook"]["exercise"] for c in nb.cells
                         if c.metadata.get("cnnbook", {}).get("graded") and c.metadata["cnnbook"].get("exercise")}
    from .stubs import derive_stub

    return {ex.label for ex in exercises if ex.solution_cells and derive_stub(ex.solution_code, ex.label).graded}


def _prepare(nb, cells_of: dict, graded: set, student: bool):
    """A copy of ``nb`` with the grader's cells, and the brackets around the graded exercises."""
    first = {cells[0]: label for label, cells in cells_of.items() if label in graded}
    last = {cells[-1]: label for label, cells in cells_of.items() if label in graded}
    rule = "attempt" if student else "asserted"
    out, brackets, opened = [], [], {}
    start = nbformat.v4.new_code_cell(f"from cnnlib.exercises import _record as {_RECORD}")
    for index, cell in enumerate(nb.cells):
        if index in first:
            opened[first[index]] = len(out)
            out.append(nbformat.v4.new_code_cell(f"{_RECORD}.begin({first[index]!r}, {rule!r})"))
        out.append(copy.deepcopy(cell))
        if index in last:
            token = secrets.token_hex(16)
            out.append(nbformat.v4.new_code_cell(f"{_RECORD}.end(token={token!r})"))
            brackets.append(_Bracket(last[index], opened[last[index]], len(out) - 1, token))
        if index == 0:
            out.append(start)
    if not nb.cells:
        out.append(start)
    prepared = copy.copy(nb)
    prepared.cells = out
    for i, c in enumerate(out):
        c["id"] = f"graded-{i}"
    return prepared, brackets


def _error_in(cells) -> str | None:
    for cell in cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"{out.get('ename')}: {out.get('evalue')}"
    return None


def _reported(cell, token: str) -> dict | None:
    """The verdict that the grader's ``end`` cell displayed with ``token``, if any."""
    for out in cell.get("outputs", []):
        data = out.get("data", {}).get(VERDICT_MIME) if out.get("output_type") == "display_data" else None
        if isinstance(data, dict) and data.get("token") == token:
            return data
    return None


def _execute(prepared, timeout: float, kernel_name: str, folder: pathlib.Path, log_file):
    """Run ``prepared`` in a fresh kernel; ``(problem, index of the cell running at the time)``,
    problem ``None`` when every cell ran, else ``"timed out"`` or ``"crashed (...)"``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    state = {"index": None, "deadline": None}

    def on_start(cell, cell_index):
        state["index"] = cell_index
        if state["deadline"] is None:  # the clock starts when the kernel is up
            state["deadline"] = time.monotonic() + timeout

    def remaining(cell):
        return max(0.5, (state["deadline"] or time.monotonic() + timeout) - time.monotonic())

    client = NotebookClient(prepared, timeout_func=remaining, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}}, on_cell_start=on_start, log=_QUIET)
    try:
        client.execute(stdout=log_file, stderr=log_file)
    except CellTimeoutError:
        return "timed out", state["index"]
    except Exception as exc:  # noqa: BLE001 - a dead or missing kernel: reported per exercise
        return f"crashed ({type(exc).__name__}: {str(exc)[:200]})", state["index"]
    return None, None


def grade_notebook(path, timeout: float = 600, kernel_name: str = "python3", *, book=CHAPTERS) -> list[GradeRow]:
    """Execute one notebook in a fresh kernel and grade each of its exercises.

    Parameters
    ----------
    path : str or pathlib.Path
        An instructor or a student notebook.
    timeout : float
        Seconds the notebook's cells may run in all (the kernel's start is not counted); at the
        time-out the exercise that was running is ``error`` ("timed out ... while running this
        exercise") and the graded exercises after it ``error`` ("not reached").
    book : str or pathlib.Path
        The book's notebooks (default: ``chapters/``), which a student edition is compared with
        to flag what it changed outside its answers.

    Returns
    -------
    list of GradeRow
        One per exercise label, in the notebook's order (one row with an empty label for a
        notebook that cannot be read). Exercises without a checker are ``ungraded``.
    """
    path = pathlib.Path(path)
    timeout = check_timeout(timeout)
    if not path.is_file():
        raise ValueError(f"path must be an existing notebook; got {str(path)!r}")
    try:
        nb = nbformat.read(path, as_version=4)
        exercises = exercises_in(nb)
    except Exception as exc:  # noqa: BLE001 - truncated, empty, not JSON, not a notebook
        return [GradeRow(str(path), "", "error", f"the notebook could not be read ({type(exc).__name__}: "
                                                 f"{str(exc)[:200]})")]
    student = integrity.is_student_edition(nb)
    cells_of = _exercise_cells(nb, student)
    graded = _graded_labels(nb, exercises, student)
    prepared, brackets = _prepare(nb, cells_of, graded, student)
    notebook_flags, label_flags = integrity.flags(nb, book)
    with tempfile.TemporaryDirectory(prefix="cnnbook-grade-") as tmp, \
            open(pathlib.Path(tmp) / "kernel.log", "w", encoding="utf-8") as log_file:
        problem, at = _execute(prepared, timeout, kernel_name, path.parent, log_file)
    what = f"timed out after {timeout:g} s" if problem == "timed out" else problem
    running = next((b for b in brackets if at is not None and b.begin <= at <= b.end), None)
    by_label = {b.label: b for b in brackets}
    rows = []
    for ex in exercises:
        status, message, hints = "ungraded", "no checker for this exercise", ""
        bracket = by_label.get(ex.label)
        if ex.label not in graded:
            pass
        elif bracket is None:
            status, message = "not attempted", "the exercise's answer cell is missing or ran no check"
        else:
            error = _error_in(prepared.cells[bracket.begin + 1:bracket.end])
            reported = _reported(prepared.cells[bracket.end], bracket.token)
            if problem and bracket is running:
                status, message = "error", f"the notebook {what} while running this exercise"
            elif error:
                status, message = "error", error
            elif reported is not None:
                status, message = reported["status"], reported["message"]
                hints = " | ".join(reported.get("hints") or [])
            elif problem and at is not None and at < bracket.begin:
                where = running.label if running else "a cell outside the exercises"
                status, message = "error", f"not reached: the notebook {what} in {where}"
            else:
                why = _error_in([prepared.cells[bracket.end]])
                status, message = "error", ("no verdict was reported for this exercise (the notebook's code "
                                            "interfered with the grader's cells?)" + (f": {why}" if why else ""))
        row_flags = "; ".join(notebook_flags + label_flags.get(ex.label, []))
        rows.append(GradeRow(str(path), ex.label, status, message, hints, row_flags))
    if not exercises and problem:
        rows.append(GradeRow(str(path), "", "error", f"the notebook {what}", "", "; ".join(notebook_flags)))
    return rows


def _notebooks(paths) -> list[pathlib.Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found = []
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.is_file():
            found.append(p)
        else:
            raise ValueError(f"path must be a notebook (.ipynb) or a folder of notebooks; got {str(p)!r}")
    return found


def score(rows) -> tuple[int, int]:
    """``(passed, graded)``: exercises passed, and exercises with a checker (not ``ungraded``)."""
    graded = [r for r in rows if r.status != "ungraded" and r.exercise]
    return sum(r.status == "passed" for r in graded), len(graded)


def grade(paths, csv_path=None, timeout: float = 600, out=sys.stdout, *, book=CHAPTERS) -> list[GradeRow]:
    """Grade notebooks (files or folders), each on its own: a notebook that cannot be read or
    graded is an ``error`` row and the others go on. Rows are written to the CSV file (if
    asked) as each notebook is graded; one line per notebook is printed to ``out``."""
    timeout = check_timeout(timeout)
    if csv_path is not None and not isinstance(csv_path, (str, os.PathLike)):
        raise TypeError(f"csv_path must be a file path (str or pathlib.Path) or None; "
                        f"got {type(csv_path).__name__} {csv_path!r}")
    notebooks = _notebooks(paths)
    if not notebooks:
        raise ValueError(f"paths must name at least one notebook; got {paths!r}")
    rows = []
    sheet = open(csv_path, "w", newline="", encoding="utf-8") if csv_path is not None else None
    try:
        writer = csv.writer(sheet) if sheet else None
        if writer:
            writer.writerow([field.name for field in dataclasses.fields(GradeRow)])
            sheet.flush()
        for nb_path in notebooks:
            t0 = time.perf_counter()
            try:
                nb_rows = grade_notebook(nb_path, timeout=timeout, book=book)
            except Exception as exc:  # noqa: BLE001 - one notebook never stops the others
                nb_rows = [GradeRow(str(nb_path), "", "error", f"the grader failed on this notebook "
                                                               f"({type(exc).__name__}: {str(exc)[:200]})")]
            if writer:
                writer.writerows(dataclasses.astuple(r) for r in nb_rows)
                sheet.flush()
            passed, graded = score(nb_rows)
            counts = {s: sum(r.status == s for r in nb_rows) for s in ("wrong", "not attempted", "error", "ungraded")}
            detail = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            flagged = " flagged" if any(r.flags for r in nb_rows) else ""
            print(f"{nb_path}: {passed}/{graded} passed" + (f" ({detail})" if detail else "") + flagged +
                  f" [{time.perf_counter() - t0:.0f} s]", file=out)
            rows += nb_rows
    finally:
        if sheet:
            sheet.close()
    return rows
