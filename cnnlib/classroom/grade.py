"""Grading: execute notebooks (instructor or student editions) and collect one verdict per
exercise from the record that :mod:`cnnlib.exercises._record` writes."""
from __future__ import annotations

import asyncio
import copy
import csv
import dataclasses
import json
import pathlib
import sys
import tempfile
import time

import nbformat

from .notebooks import STUB_TAG, exercises_in

__all__ = ["GradeRow", "grade_notebook", "grade", "score"]


@dataclasses.dataclass
class GradeRow:
    """One row of the grade sheet: a notebook, an exercise label, the verdict and its message."""

    notebook: str
    exercise: str
    status: str
    message: str


def _prepare(nb, record_path: str):
    """A copy of ``nb`` that records verdicts: a start cell after the bootstrap cell, and
    begin/end cells around each solution (instructor notebooks)."""
    nb = copy.deepcopy(nb)
    exercises = exercises_in(nb)
    before, after = {}, {}
    for ex in exercises:
        if ex.solution_cells:
            before[ex.solution_cells[0]] = ex.label
            after[ex.solution_cells[-1]] = ex.label
    helper = "_cnnbook_record"
    cells = []
    for index, cell in enumerate(nb.cells):
        if index in before:
            cells.append(nbformat.v4.new_code_cell(f"{helper}.begin({before[index]!r})"))
        cells.append(cell)
        if index in after:
            cells.append(nbformat.v4.new_code_cell(f"{helper}.end()"))
        if index == 0:
            cells.append(nbformat.v4.new_code_cell(
                f"from cnnlib.exercises import _record as {helper}\n{helper}.start({record_path!r})"))
    if len(nb.cells) == 0:
        cells.append(nbformat.v4.new_code_cell(f"from cnnlib.exercises import _record as {helper}\n"
                                               f"{helper}.start({record_path!r})"))
    for i, c in enumerate(cells):
        c["id"] = f"graded-{i}"
    nb.cells = cells
    return nb, exercises


def _errors_by_label(nb, exercises):
    """Labels whose solution or stub cells raised, with the error."""
    found = {}
    stub_of = {c.metadata.get("cnnbook", {}).get("exercise"): c for c in nb.cells if c.cell_type == "code"
               and STUB_TAG in c.metadata.get("tags", [])}
    for ex in exercises:
        cells = [nb.cells[i] for i in ex.solution_cells] + ([stub_of[ex.label]] if ex.label in stub_of else [])
        for cell in cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    found.setdefault(ex.label, f"{out.get('ename')}: {out.get('evalue')}")
    return found


def grade_notebook(path, timeout: float = 600, kernel_name: str = "python3") -> list[GradeRow]:
    """Execute one notebook in a fresh kernel and grade each of its exercises.

    Parameters
    ----------
    path : str or pathlib.Path
        An instructor or a student notebook.
    timeout : float
        Seconds the whole notebook may run; a notebook that runs longer is stopped and its
        exercises not reached are graded ``error`` ("timed out").

    Returns
    -------
    list of GradeRow
        One per exercise label, in the notebook's order; an exercise whose cells raised is
        ``error``.
    """
    from nbclient import NotebookClient

    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing notebook; got {str(path)!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="cnnbook-grade-") as tmp:
        record = pathlib.Path(tmp) / "record.jsonl"
        prepared, exercises = _prepare(nb, str(record))
        client = NotebookClient(prepared, timeout=timeout + 30, kernel_name=kernel_name, allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        problem, started = None, time.monotonic()
        try:
            asyncio.run(asyncio.wait_for(client.async_execute(), timeout=timeout))
        except Exception as exc:  # a time-out, a dead kernel, a missing kernel: reported per exercise
            if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or time.monotonic() - started >= timeout:
                problem = f"the notebook timed out after {timeout:g} s before this exercise"
            else:
                problem = f"the notebook crashed before this exercise ({type(exc).__name__}: {exc})"
        verdicts = {}
        if record.exists():
            for line in record.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                verdicts.setdefault(entry["label"], (entry["status"], entry["message"]))
    errors = _errors_by_label(prepared, exercises_in(prepared))
    expected = set(nb.metadata.get("cnnbook", {}).get("graded", []))  # a student edition's graded labels
    rows = []
    for ex in exercises:
        if ex.label in errors:
            status, message = "error", errors[ex.label]
        elif ex.label in verdicts:
            status, message = verdicts[ex.label]
        elif problem:
            status, message = "error", problem
        elif ex.label in expected:
            status, message = "not attempted", "the exercise's answer cell is missing or ran no check"
        else:
            status, message = "ungraded", "no checker for this exercise"
        rows.append(GradeRow(str(path), ex.label, status, message))
    if not exercises and problem:
        rows.append(GradeRow(str(path), "", "error", problem.replace(" before this exercise", "")))
    return rows


def _notebooks(paths) -> list[pathlib.Path]:
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


def grade(paths, csv_path=None, timeout: float = 600, out=sys.stdout) -> list[GradeRow]:
    """Grade notebooks (files or folders); write a CSV if asked; print one line per notebook."""
    rows = []
    for nb_path in _notebooks(paths):
        t0 = time.perf_counter()
        nb_rows = grade_notebook(nb_path, timeout=timeout)
        passed, graded = score(nb_rows)
        counts = {s: sum(r.status == s for r in nb_rows) for s in ("wrong", "not attempted", "error", "ungraded")}
        detail = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"{nb_path}: {passed}/{graded} passed" + (f" ({detail})" if detail else "") +
              f" [{time.perf_counter() - t0:.0f} s]", file=out)
        rows += nb_rows
    if csv_path is not None:
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([field.name for field in dataclasses.fields(GradeRow)])
            writer.writerows(dataclasses.astuple(r) for r in rows)
    return rows
