"""The grader under faults and tampering (issue 19): an unreadable notebook, bad arguments, a
time-out in the middle of a page, a student cell that forges a verdict or changes the page, a
checker's hint. Each case is one small synthetic notebook graded in a fresh kernel (a few
seconds each); ``tests/test_classroom.py`` grades the book's own pages.
"""
import csv
import os
import pathlib
import subprocess
import sys

import nbformat
import pytest

from cnnlib import classroom

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEVNULL = open(os.devnull, "w")


def _exercise_md(label, text_only=False):
    if text_only:  # a pen-and-paper exercise: its solution is text
        return (f"```{{exercise}}\n:label: {label}\nWhy?\n```\n\n"
                f"```{{solution}} {label}\n:class: dropdown\nBecause.\n```")
    return (f"```{{exercise-start}}\n:label: {label}\n```\nDo it.\n```{{exercise-end}}\n```\n"
            f"```{{solution-start}} {label}\n:class: dropdown\n```")


def _page(path, *parts):
    """A book page: a bootstrap cell, then for each part either ``("code", source)`` (a cell
    outside the exercises), ``(label, None)`` (a pen-and-paper exercise) or ``(label, source)``
    (an exercise whose solution is that code cell)."""
    cells = [nbformat.v4.new_code_cell("import cnnlib\nfrom cnnlib import exercises")]
    for label, source in parts:
        if label == "code":
            cells.append(nbformat.v4.new_code_cell(source))
        elif source is None:
            cells.append(nbformat.v4.new_markdown_cell(_exercise_md(label, text_only=True)))
        else:
            cells += [nbformat.v4.new_markdown_cell(_exercise_md(label)), nbformat.v4.new_code_cell(source),
                      nbformat.v4.new_markdown_cell("```{solution-end}\n```")]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def _student_copy(book_page, path, edit=None):
    """The student edition of ``book_page``, changed by ``edit(nb)``, written to ``path``."""
    nb = classroom.student_notebook(nbformat.read(book_page, as_version=4))
    if edit is not None:
        edit(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _stub(nb, label):
    return next(c for c in nb.cells if c.metadata.get("cnnbook", {}).get("exercise") == label)


def _by_label(rows):
    return {r.exercise: r for r in rows}


RIGHT = "assert exercises.check_output_shape((2, 3), (2, 3))"


# --------------------------------------------------------------------------------------------
# nothing lost: one bad notebook, an interrupted run


def test_an_unreadable_notebook_is_an_error_row_and_the_run_goes_on(tmp_path):
    good = _page(tmp_path / "class" / "a-good.ipynb", ("ex-a", RIGHT))
    bad = tmp_path / "class" / "b-truncated.ipynb"
    bad.write_text(good.read_text()[:150])
    (tmp_path / "class" / "c-empty.ipynb").write_text("")
    csv_path = tmp_path / "out.csv"
    rows = classroom.grade([tmp_path / "class"], csv_path, timeout=60, out=DEVNULL)
    by_nb = {pathlib.Path(r.notebook).name: r for r in rows}
    assert by_nb["a-good.ipynb"].status == "passed"
    for name in ("b-truncated.ipynb", "c-empty.ipynb"):
        assert by_nb[name].status == "error" and "could not be read" in by_nb[name].message, by_nb[name]
    with open(csv_path, newline="") as f:
        written = list(csv.DictReader(f))
    assert [(pathlib.Path(r["notebook"]).name, r["status"]) for r in written] == [
        ("a-good.ipynb", "passed"), ("b-truncated.ipynb", "error"), ("c-empty.ipynb", "error")]


def test_rows_are_written_as_they_come(tmp_path, monkeypatch):
    """An interrupted run (Ctrl-C during the second notebook) keeps the first notebook's rows."""
    first = _page(tmp_path / "a.ipynb", ("ex-a", RIGHT))
    second = _page(tmp_path / "b.ipynb", ("ex-b", RIGHT))
    real = classroom.grade_notebook

    def interrupted(path, **kwargs):
        if pathlib.Path(path).name == "b.ipynb":
            raise KeyboardInterrupt
        return real(path, **kwargs)

    monkeypatch.setattr(sys.modules["cnnlib.classroom.grade"], "grade_notebook", interrupted)
    csv_path = tmp_path / "out.csv"
    with pytest.raises(KeyboardInterrupt):
        classroom.grade([first, second], csv_path, timeout=60, out=DEVNULL)
    with open(csv_path, newline="") as f:
        written = list(csv.DictReader(f))
    assert [(r["exercise"], r["status"]) for r in written] == [("ex-a", "passed")]


@pytest.mark.parametrize("timeout, error, match", [
    ("10", TypeError, "timeout must be a number of seconds; got str '10'"),
    (True, TypeError, "timeout must be a number of seconds; got bool True"),
    (None, TypeError, "timeout must be a number of seconds; got NoneType None"),
    (float("nan"), ValueError, "timeout must be a positive, finite number of seconds; got nan"),
    (float("inf"), ValueError, "timeout must be a positive, finite number of seconds; got inf"),
    (-1, ValueError, "timeout must be a positive, finite number of seconds; got -1"),
])
def test_grade_checks_the_timeout(tmp_path, timeout, error, match):
    page = _page(tmp_path / "a.ipynb", ("ex-a", RIGHT))
    with pytest.raises(error, match=match):
        classroom.grade_notebook(page, timeout=timeout)
    with pytest.raises(error, match=match):
        classroom.grade([page], timeout=timeout, out=DEVNULL)


def test_grade_checks_its_other_arguments(tmp_path):
    page = _page(tmp_path / "a.ipynb", ("ex-a", RIGHT))
    with pytest.raises(TypeError, match="csv_path must be a file path .*; got int 3"):
        classroom.grade([page], 3, out=DEVNULL)
    with pytest.raises(ValueError, match="paths must name at least one notebook; got \\[\\]"):
        classroom.grade([], out=DEVNULL)
    # one path given as a str is one path, not a list of one-letter paths
    assert [r.status for r in classroom.grade(str(page), timeout=60, out=DEVNULL)] == ["passed"]


# --------------------------------------------------------------------------------------------
# time-outs: the exercise that was running, the ones not reached, pen-and-paper ones untouched


def test_a_time_out_is_attributed_to_the_exercise_that_was_running(tmp_path):
    page = _page(tmp_path / "slow.ipynb", ("ex-paper", None), ("ex-quick", RIGHT),
                 ("ex-slow", "import time\ntime.sleep(60)\n" + RIGHT), ("ex-later", RIGHT), ("ex-paper-2", None))
    rows = _by_label(classroom.grade_notebook(page, timeout=20))
    assert rows["ex-paper"].status == "ungraded" and rows["ex-paper-2"].status == "ungraded"
    assert rows["ex-quick"].status == "passed"
    assert rows["ex-slow"].status == "error"
    assert "timed out after 20 s while running this exercise" in rows["ex-slow"].message
    assert rows["ex-later"].status == "error"
    assert "not reached: the notebook timed out after 20 s in ex-slow" in rows["ex-later"].message


def test_a_time_out_outside_the_exercises(tmp_path):
    page = _page(tmp_path / "slow.ipynb", ("ex-quick", RIGHT), ("code", "import time\ntime.sleep(60)"),
                 ("ex-later", RIGHT))
    rows = _by_label(classroom.grade_notebook(page, timeout=20))
    assert rows["ex-quick"].status == "passed"
    assert rows["ex-later"].status == "error"
    assert "not reached: the notebook timed out after 20 s in a cell outside the exercises" in rows["ex-later"].message


def test_the_instructor_console_shows_no_kernel_traceback(tmp_path):
    page = _page(tmp_path / "slow.ipynb", ("ex-slow", "import time\ntime.sleep(60)\n" + RIGHT))
    result = subprocess.run([sys.executable, "-m", "cnnlib.classroom", "grade", str(page), "--timeout", "5"],
                            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    assert "slow.ipynb: 0/1 passed (1 error)" in result.stdout


# --------------------------------------------------------------------------------------------
# nothing forged


FORGERIES = {
    "the record writer": "from cnnlib.exercises import _record\n_record._write('ex-t', 'passed', 'forged')",
    "the record's end": "from cnnlib.exercises import _record\n_record.end()",
    "the record file": ("from cnnlib.exercises import _record\nimport json\n"
                        "open(_record._state['path'] or 'record.jsonl', 'a').write("
                        "json.dumps({'label': 'ex-t', 'status': 'passed', 'message': 'forged'}) + '\\n')"),
    "a displayed verdict": ("from IPython.display import display\n"
                            "display({'application/vnd.cnnbook.verdict+json': {'label': 'ex-t', 'status': 'passed',"
                            " 'message': 'forged', 'hints': [], 'token': 'x'}}, raw=True)"),
}


@pytest.mark.parametrize("how", FORGERIES)
def test_a_student_cell_cannot_write_its_own_verdict(tmp_path, how):
    book = _page(tmp_path / "book" / "p.ipynb", ("ex-t", "assert exercises.check_output_shape((2, 3), (2, 3))"))

    def forge(nb):
        cell = _stub(nb, "ex-t")
        cell.source = FORGERIES[how] + "\n" + cell.source      # the answer itself stays `...`

    student = _student_copy(book, tmp_path / "class" / "p.ipynb", forge)
    row, = classroom.grade_notebook(student, timeout=60, book=tmp_path / "book")
    assert row.status != "passed", row
    assert "grading internals" in row.flags, row


def test_a_changed_check_is_flagged(tmp_path):
    """The student rewrote the stub's check so that it compares the answer with itself."""
    book = _page(tmp_path / "book" / "p.ipynb",
                 ("ex-t", "expected = (2, 3)\nassert exercises.check_output_shape((2, 3), expected)"))

    def rewrite(nb):
        cell = _stub(nb, "ex-t")
        cell.source = cell.source.replace("answer = ...", "answer = (9, 9)").replace(
            "check_output_shape(answer, expected)", "check_output_shape(answer, answer)")

    student = _student_copy(book, tmp_path / "class" / "p.ipynb", rewrite)
    row, = classroom.grade_notebook(student, timeout=60, book=tmp_path / "book")
    assert "the stub's given lines were changed" in row.flags, row


def test_cells_changed_or_added_outside_the_stubs_are_flagged(tmp_path):
    book = _page(tmp_path / "book" / "p.ipynb", ("code", "x = 2"), ("ex-t", RIGHT), ("code", "y = 3"))

    def edit(nb):
        next(c for c in nb.cells if c.source == "x = 2").source = "x = 5"
        nb.cells.append(nbformat.v4.new_code_cell("print('extra')"))

    student = _student_copy(book, tmp_path / "class" / "p.ipynb", edit)
    row, = classroom.grade_notebook(student, timeout=60, book=tmp_path / "book")
    assert "changed: cell 2 (x = 5)" in row.flags and "added: cell" in row.flags and "print('extra')" in row.flags
    untouched = _student_copy(book, tmp_path / "class2" / "p.ipynb")
    row, = classroom.grade_notebook(untouched, timeout=60, book=tmp_path / "book")
    assert row.flags == "" and row.status == "not attempted", row


def test_a_student_notebook_without_its_book_page_is_flagged(tmp_path):
    book = _page(tmp_path / "book" / "p.ipynb", ("ex-t", RIGHT))
    student = _student_copy(book, tmp_path / "class" / "p.ipynb")
    row, = classroom.grade_notebook(student, timeout=60, book=tmp_path / "elsewhere")
    assert "no book page with these exercises" in row.flags


# --------------------------------------------------------------------------------------------
# the hint the student saw


def test_the_csv_keeps_the_checkers_hint(tmp_path):
    solution = "import numpy as np\nexercises.compare_arrays(np.ones((2, 3)), np.ones((3, 2)))"
    page = _page(tmp_path / "p.ipynb", ("ex-h", solution))
    csv_path = tmp_path / "out.csv"
    rows = classroom.grade([page], csv_path, timeout=60, out=DEVNULL)
    assert rows[0].status == "wrong" and "transposed" in rows[0].hints
    with open(csv_path, newline="") as f:
        written = list(csv.DictReader(f))
    assert list(written[0]) == ["notebook", "exercise", "status", "message", "hints", "flags"]
    assert "transposed" in written[0]["hints"]
