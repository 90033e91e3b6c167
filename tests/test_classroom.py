"""The classroom edition: student notebooks (cnnlib.classroom.student_notebook), the stubs'
derivation rule, the checkers' "not attempted yet", and the autograder.

Static checks run on every notebook of the book. Executing notebooks costs a kernel each, so
the execution tests grade one small page (6.2, about 15 s a run) as instructor, fresh student
and half-solved student, plus two tiny synthetic notebooks (a crash, a timeout): about a
minute in all. ``CNNBOOK_CLASSROOM_ALL=1`` also executes every student notebook.
"""
import ast
import inspect
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from cnnlib import classroom, exercises
from cnnlib.exercises import Feedback, _record

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
IDS = [str(p.relative_to(ROOT / "chapters")) for p in NOTEBOOKS]
SAMPLE = ROOT / "chapters" / "6-2-convolution" / "index.ipynb"
CHECKERS = sorted(n for n in dir(exercises) if n.startswith("check_") or n == "compare_arrays")


def _student(path):
    return classroom.student_notebook(nbformat.read(path, as_version=4))


def _code_lines(cells):
    return {line.strip() for c in cells if c.cell_type == "code" for line in c.source.splitlines() if line.strip()}


def _checker_calls(tree):
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and
            ((isinstance(n.func, ast.Attribute) and n.func.attr in CHECKERS) or
             (isinstance(n.func, ast.Name) and n.func.id in CHECKERS))]


# --------------------------------------------------------------------------------------------
# the checkers: "not attempted yet" instead of a crash, and the record


def test_every_checker_is_registered():
    """Every public check_* (and compare_arrays) is defined with @checker: the registry holds it."""
    from cnnlib.exercises._registry import CHECKERS as REGISTERED

    unregistered = [n for n in CHECKERS if REGISTERED.get(n) is not getattr(exercises, n)]
    assert not unregistered, f"checkers not defined with @checker (cnnlib/exercises/_registry.py): {unregistered}"
    assert set(REGISTERED) == set(CHECKERS), "a registered checker is not exported by cnnlib.exercises"


def _relative_imports(path, package):
    """The sibling modules that a module of ``package`` imports (at any level, functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
    return found - {"__init__"}


def test_exercises_have_no_import_circle():
    """No module of cnnlib.exercises imports (even inside a function) one that imports it back."""
    folder = ROOT / "cnnlib" / "exercises"
    graph = {p.stem: _relative_imports(p, "exercises") for p in folder.glob("*.py") if p.stem != "__init__"}
    done, path = set(), []

    def visit(name):
        assert name not in path, f"import circle: {' -> '.join(path[path.index(name):] + [name])}"
        if name in done or name not in graph:
            return
        path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


@pytest.mark.parametrize("module", sorted(p.stem for p in (ROOT / "cnnlib" / "exercises").glob("[!_]*.py")) + ["_base"])
def test_each_exercises_module_imports_alone(module):
    """A fresh interpreter imports each submodule first, alone, and then finds every checker registered."""
    code = (f"import importlib; m = importlib.import_module('cnnlib.exercises.{module}'); "
            "from cnnlib.exercises._registry import CHECKERS; "
            "assert all(CHECKERS[n] is getattr(m, n) for n in getattr(m, '__all__', []) if n.startswith('check_'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr


def test_feedback_has_no_side_effects():
    """Testing a verdict for truth changes nothing: the registry marks asserted calls when they return."""
    fb = Feedback(True, "Correct.")
    before = dict(vars(fb))
    assert fb and bool(fb)
    assert vars(fb) == before


@pytest.mark.parametrize("name", CHECKERS)
def test_every_checker_says_not_attempted_for_a_stub(name):
    fb = getattr(exercises, name)(...)
    assert isinstance(fb, Feedback) and fb.status == "not attempted" and not fb
    assert str(fb).startswith("○ Not attempted yet")


def test_empty_function_and_none_are_not_attempted(capsys):
    def todo(f, g):
        """Full convolution."""
        ...

    fb = exercises.check_convolve1d(todo)
    assert fb.status == "not attempted", fb
    def forgot_return(f, g):
        out = f[:1] * g[:1]  # noqa: F841

    fb = exercises.check_convolve1d(forgot_return)
    assert fb.status == "not attempted" and "return" in fb.message
    with exercises.attempt("ex-z", todo) as a:   # a stub's None answer: not attempted, not wrong
        exercises.check_convolve2d(todo([[1.0]], [[2.0]]), [[1.0]], [[2.0]])
    assert a.status == "not attempted"


def test_wrong_answers_keep_their_diagnosis():
    fb = exercises.check_output_shape((5, 6), (4, 5), formula="M - K + 1")
    assert fb.status == "wrong" and "1 too large" in str(fb)
    fb = exercises.check_convolve1d(lambda f, g: __import__("numpy").correlate(g, f, mode="full"))
    assert fb.status == "wrong" and fb.attempted


def test_solution_verdict_counts_asserted_results(tmp_path):
    record = tmp_path / "r.jsonl"
    _record.start(record)
    try:
        _record.begin("ex-a")
        print(exercises.check_output_shape((5, 5), (4, 4)))  # a slip shown for comparison
        assert exercises.check_output_shape((4, 4), (4, 4))
        assert _record.end() == ("passed", "Correct: (4, 4).")
        _record.begin("ex-b")
        exercises.check_output_shape((4, 4), (4, 4))
        exercises.check_output_shape((5, 4), (4, 4))   # no assert: the last call decides
        assert _record.end()[0] == "wrong"
        _record.begin("ex-c")
        assert _record.end()[0] == "ungraded"
        _record.begin("ex-d")
        fb = exercises.check_output_shape((4, 4), (4, 4))
        assert fb
        exercises.check_output_shape((5, 4), (4, 4))   # a slip after the asserted call: not counted
        assert _record.end()[0] == "passed"
    finally:
        _record.stop()
    lines = [json.loads(x) for x in record.read_text().splitlines()]
    assert [(e["label"], e["status"]) for e in lines] == [("ex-a", "passed"), ("ex-b", "wrong"), ("ex-c", "ungraded"),
                                                           ("ex-d", "passed")]


def test_attempt_verdicts(capsys):
    answer = ...
    with exercises.attempt("ex-x", answer) as a:
        exercises.check_output_shape(answer.shape, (4, 5))   # would raise on ...: not attempted
    assert a.status == "not attempted"
    answer = (4, 5)
    with exercises.attempt("ex-x", answer) as a:
        exercises.check_output_shape(answer, (4, 5))
    assert a.status == "passed"
    first, second = (4, 5), ...
    with exercises.attempt("ex-x", first, second) as a:
        exercises.check_output_shape(first, (4, 6))
        exercises.check_output_shape(second, (4, 5))
    assert a.status == "wrong" and "(4, 6)" in a.message
    assert "✘" in capsys.readouterr().out


def test_attempt_without_a_check_is_not_attempted(capsys):
    with exercises.attempt("ex-w", 3) as a:
        pass
    assert a.status == "not attempted" and "no check ran" in a.message


def test_attempt_raises_a_finished_answers_error(tmp_path):
    record = tmp_path / "r.jsonl"
    _record.start(record)
    try:
        with pytest.raises(ZeroDivisionError):
            with exercises.attempt("ex-y", 1):
                1 / 0
    finally:
        _record.stop()
    assert json.loads(record.read_text())["status"] == "error"


def test_attempt_needs_a_label():
    with pytest.raises(TypeError, match="label must be an exercise label"):
        exercises.attempt(3)


# --------------------------------------------------------------------------------------------
# the stub rule


def test_stub_replaces_literal_answers_and_keeps_reference():
    solution = '''
with torch.device("meta"):
    expected = tuple(nn.Conv2d(3, 64, 7, stride=2, padding=3)(torch.empty(1, 3, 224, 224)).shape[-2:])
feedback = exercises.check_output_shape((112, 112), expected)
print(feedback)
assert feedback
'''
    stub = classroom.derive_stub(solution, "ex-s")
    assert stub.graded and stub.answers == ["answer"]
    assert "(112, 112)" not in stub.source and "answer = ..." in stub.source
    assert "expected = tuple(nn.Conv2d" in stub.source          # the reference side stays
    assert "exercises.check_output_shape(answer, expected)" in stub.source


def test_stub_answer_names_do_not_collide():
    stub = classroom.derive_stub("answer = f(2)\nassert exercises.check_output_shape(answer, (3,))\n"
                                 "assert exercises.check_output_shape((4,), g(2))\n", "ex-n")
    assert stub.answers == ["answer", "answer_2"]
    assert "check_output_shape(answer_2, g(2))" in stub.source and "(4,)" not in stub.source


def test_stub_of_a_loop_and_of_a_function():
    solution = '''
def my_pool(x, k, kind):
    """Pool x."""
    reduce = np.max if kind == "max" else np.mean
    return np.array([[reduce(x[i:i + k, j:j + k]) for j in range(0, x.shape[1], k)] for i in range(0, x.shape[0], k)])


for kind in ("max", "avg"):
    feedback = exercises.check_pool_output(lambda a, k: my_pool(a, k, kind), kind)
    print(feedback)
    assert feedback
print(exercises.check_pool_output(lambda a, k: a, "max"))
'''
    stub = classroom.derive_stub(solution, "ex-p")
    assert stub.answers == ["my_pool"]
    assert "reduce" not in stub.source and '"""Pool x."""' in stub.source
    assert "for kind in ('max', 'avg'):" in stub.source
    assert "lambda a, k: a," not in stub.source                   # the un-asserted slip is dropped
    ast.parse(stub.source)


def test_stub_keep_marker_and_ungraded():
    solution = "data = [1, 2, 3]  # stub: keep\ntotal = sum(data)\nassert exercises.compare_arrays(total, 6)\n"
    stub = classroom.derive_stub(solution, "ex-k")
    assert "data = [1, 2, 3]  # stub: keep" in stub.source and "total = ..." in stub.source
    assert "sum(data)" not in stub.source
    stub = classroom.derive_stub("def f(x):\n    return 2 * x\n\nprint(f(3))\n", "ex-u")
    assert not stub.graded and "def f(x):" in stub.source and "2 * x" not in stub.source


def test_text_only_solution_directive_is_removed():
    md = "```{exercise}\n:label: ex-q\nWhy?\n```\n\n```{solution} ex-q\n:class: dropdown\nBecause.\n```\nAfter."
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import cnnlib"), nbformat.v4.new_markdown_cell(md),
                                         nbformat.v4.new_code_cell("x = 2")])
    student = classroom.student_notebook(nb)
    assert [c.source for c in student.cells] == [
        "import cnnlib", "```{exercise}\n:label: ex-q\nWhy?\n```",
        "# ex-q: your answer here (this exercise has no automatic check).", "After.", "x = 2"]


def test_derive_stub_checks_its_arguments():
    with pytest.raises(TypeError, match="code must be a str; got int"):
        classroom.derive_stub(3, "ex-a")
    with pytest.raises(TypeError, match="label must be a str"):
        classroom.derive_stub("x = 1", None)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_edition_structure(path):
    """Same exercises; one tagged stub each; the rest of the page unchanged; stubs compile."""
    nb = nbformat.read(path, as_version=4)
    student = _student(path)
    labels = [e.label for e in classroom.exercises_in(nb)]
    assert [e.label for e in classroom.exercises_in(student)] == labels
    stubs = [c for c in student.cells if classroom.STUB_TAG in c.metadata.get("tags", [])]
    assert [c.metadata["cnnbook"]["exercise"] for c in stubs] == [e.label for e in classroom.exercises_in(nb)
                                                                  if e.has_solution]
    for cell in stubs:
        ast.parse(cell.source)
    inside = {i for e in classroom.exercises_in(nb) for i in e.solution_cells}
    kept_code = [c.source for i, c in enumerate(nb.cells) if c.cell_type == "code" and i not in inside]
    assert [c.source for c in student.cells if c.cell_type == "code" and c not in stubs] == kept_code
    text = "".join(c.source for c in student.cells if c.cell_type == "markdown")
    assert "solution-start" not in text and "solution-end" not in text
    assert student.cells[0].metadata.get("tags") == nb.cells[0].metadata.get("tags")  # bootstrap kept
    nbformat.validate(student)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_solution_code_survives(path):
    """A solution line may reach the student edition only if it also appears outside the
    solutions, is a def line or docstring, a checker call whose answer is a name, or a statement
    that binds none of the names the checker calls take as answers (reference data)."""
    nb = nbformat.read(path, as_version=4)
    student_lines = _code_lines(_student(path).cells)
    inside = {i for e in classroom.exercises_in(nb) for i in e.solution_cells}
    outside_lines = _code_lines([c for i, c in enumerate(nb.cells) if i not in inside])
    for i in inside:  # what an author gives with `# stub: keep` counts as outside the solutions
        code = nb.cells[i].source
        lines = code.splitlines()
        for stmt in ast.parse(code).body:
            span = lines[stmt.lineno - 1:stmt.end_lineno]
            if any(classroom.notebooks.KEEP_MARK in line for line in span):
                outside_lines |= {line.strip() for line in span if line.strip()}
    problems = []
    for ex in classroom.exercises_in(nb):
        for i in ex.solution_cells:
            code = nb.cells[i].source
            tree = ast.parse(code)
            answer_names = {n.id for call in _checker_calls(tree) if call.args for n in ast.walk(call.args[0])
                            if isinstance(n, ast.Name)}
            body_lines, doc_lines, def_lines = set(), set(), set()
            for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))]:
                if isinstance(fn, ast.FunctionDef):
                    def_lines |= set(range(fn.lineno, fn.body[0].lineno))
                    doc = fn.body[0] if ast.get_docstring(fn) else None
                    if doc is not None:
                        doc_lines |= set(range(doc.lineno, doc.end_lineno + 1))
                    body_lines |= set(range(fn.body[0].lineno, fn.end_lineno + 1)) - doc_lines
            binders = {}
            for stmt in tree.body:
                bound = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                for ln in range(stmt.lineno, stmt.end_lineno + 1):
                    binders[ln] = bound
            lines = code.splitlines()
            for ln, line in enumerate(lines, start=1):
                text = line.strip()
                if not text or text.startswith("#") or text not in student_lines or text in outside_lines \
                        or ln in def_lines | doc_lines:
                    continue
                if ln in body_lines:
                    problems.append(f"{ex.label}: function body line survives: {text}")
                elif binders.get(ln, set()) & answer_names:
                    problems.append(f"{ex.label}: the answer's code survives: {text}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_fresh_stub_answers_are_all_stubs(path):
    """Every checker call in a stub takes as its answer (first argument) one of the names the
    stub leaves as ``...``, so a fresh student notebook scores 0 (not attempted), never passed."""
    problems = []
    for cell in _student(path).cells:
        if classroom.STUB_TAG not in cell.metadata.get("tags", []) or not cell.metadata["cnnbook"]["graded"]:
            continue
        tree = ast.parse(cell.source)
        with_blocks = [n for n in tree.body if isinstance(n, ast.With) and isinstance(n.items[0].context_expr, ast.Call)
                       and ast.unparse(n.items[0].context_expr.func).endswith("attempt")]
        assert len(with_blocks) == 1 and tree.body[-1] is with_blocks[0], cell.source
        item = with_blocks[0].items[0].context_expr
        names = {a.id for a in item.args[1:]}
        stubbed = {t.id for s in tree.body if isinstance(s, ast.Assign) and ast.unparse(s.value) == "..."
                   for t in s.targets if isinstance(t, ast.Name)}
        stubbed |= {s.name for s in tree.body if isinstance(s, ast.FunctionDef)
                    and ast.unparse(s.body[-1]) == "..."}
        assert names <= stubbed, cell.source
        for call in _checker_calls(with_blocks[0]):
            reads = {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}
            if not reads & names:
                problems.append(f"{cell.metadata['cnnbook']['exercise']}: {ast.unparse(call)}")
    assert not problems, "checker calls whose answer is not a stub:\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# grading: execution in fresh kernels


@pytest.fixture(scope="module")
def student_sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("student")
    out = folder / SAMPLE.name
    nbformat.write(_student(SAMPLE), out)
    return out


def _by_label(rows):
    return {r.exercise: r for r in rows}


def test_instructor_notebook_grades_100_percent():
    rows = classroom.grade_notebook(SAMPLE, timeout=300)
    passed, graded = classroom.score(rows)
    assert graded >= 2 and passed == graded, rows


def test_fresh_student_notebook_runs_and_grades_0_percent(student_sample):
    rows = classroom.grade_notebook(student_sample, timeout=300)
    graded = [r for r in rows if r.status != "ungraded"]
    assert graded and all(r.status == "not attempted" for r in graded), rows
    assert classroom.score(rows)[0] == 0


def test_half_solved_student_notebook(student_sample, tmp_path):
    nb = nbformat.read(student_sample, as_version=4)
    for cell in nb.cells:
        label = cell.metadata.get("cnnbook", {}).get("exercise")
        if label == "ex-6-2-0-by-hand":      # wrong: the valid part instead of the full convolution
            cell.source = cell.source.replace("ans_full = ...", "ans_full = np.array([1.0, 1.0, 1.0])")
        elif label == "ex-6-2-0-convolve-loop":  # right
            cell.source = cell.source.replace("    ...  # your code here", "    return np.convolve(f, g)")
    path = tmp_path / "half.ipynb"
    nbformat.write(nb, path)
    rows = _by_label(classroom.grade_notebook(path, timeout=300))
    assert rows["ex-6-2-0-convolve-loop"].status == "passed"
    assert rows["ex-6-2-0-by-hand"].status == "wrong"
    assert "shape (3,); expected shape (5,)" in rows["ex-6-2-0-by-hand"].message
    assert classroom.score(rows.values()) == (1, 2)


def _tiny_notebook(path, stub_source, extra=None):
    md = ("```{exercise-start}\n:label: ex-t\n```\nDo it.\n```{exercise-end}\n```\n"
          "```{solution-start} ex-t\n:class: dropdown\n```")
    cells = [nbformat.v4.new_code_cell("import cnnlib"), nbformat.v4.new_markdown_cell(md),
             nbformat.v4.new_code_cell(stub_source), nbformat.v4.new_markdown_cell("```{solution-end}\n```")]
    cells += [nbformat.v4.new_code_cell(extra)] if extra else []
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_crash_and_timeout_are_reported_not_fatal(tmp_path):
    crash = _tiny_notebook(tmp_path / "crash.ipynb", "from cnnlib import exercises\n"
                           "assert exercises.check_output_shape(1 / 0, (1,))")
    slow = _tiny_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)\nfrom cnnlib import exercises\n"
                          "assert exercises.check_output_shape((2,), (2,))")
    # a student who deleted the answer cell: not attempted (the student edition lists its graded labels)
    gone = classroom.student_notebook(nbformat.read(_tiny_notebook(tmp_path / "gone.ipynb", "assert exercises."
                                                                   "check_output_shape((2,), (2,))"), as_version=4))
    gone.cells = [c for c in gone.cells if classroom.STUB_TAG not in c.metadata.get("tags", [])]
    nbformat.write(gone, tmp_path / "gone.ipynb")
    csv_path = tmp_path / "out.csv"
    rows = classroom.grade([crash, slow, tmp_path / "gone.ipynb"], csv_path, timeout=20, out=open(os.devnull, "w"))
    by_nb = {pathlib.Path(r.notebook).name: r for r in rows}
    assert by_nb["gone.ipynb"].status == "not attempted", by_nb["gone.ipynb"]
    assert by_nb["crash.ipynb"].status == "error" and "ZeroDivisionError" in by_nb["crash.ipynb"].message
    assert by_nb["slow.ipynb"].status == "error" and "timed out" in by_nb["slow.ipynb"].message
    text = csv_path.read_text()
    assert text.splitlines()[0] == "notebook,exercise,status,message,hints,flags" and text.count("ex-t") == 3


def test_grader_counts_what_a_notebook_solution_asserts(tmp_path):
    """In a kernel, the asserted call decides (read from the cell's source), not the slip after it;
    a magic line in the cell does not hide the assert."""
    path = _tiny_notebook(tmp_path / "slip.ipynb", "%matplotlib inline\nfrom cnnlib import exercises\n"
                          "fb = exercises.check_output_shape((2,), (2,))\nassert fb\n"
                          "exercises.check_output_shape((3,), (2,))  # a slip shown for comparison")
    rows = classroom.grade_notebook(path, timeout=120)
    assert [(r.exercise, r.status) for r in rows] == [("ex-t", "passed")], rows


def test_grade_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="path must be an existing notebook; got"):
        classroom.grade_notebook(tmp_path / "missing.ipynb")
    nb = _tiny_notebook(tmp_path / "t.ipynb", "x = 1")
    with pytest.raises(ValueError, match="timeout must be a positive, finite number of seconds; got 0"):
        classroom.grade_notebook(nb, timeout=0)
    with pytest.raises(ValueError, match=r"path must be a notebook \(.ipynb\) or a folder"):
        classroom.grade([tmp_path / "notes.txt"])


@pytest.mark.skipif(os.environ.get("CNNBOOK_CLASSROOM_ALL") != "1", reason="set CNNBOOK_CLASSROOM_ALL=1 (minutes)")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_student_notebook_runs_and_grades_0_percent(path, tmp_path):
    out = tmp_path / path.name
    nbformat.write(_student(path), out)
    rows = classroom.grade_notebook(out, timeout=600)
    assert all(r.status in ("not attempted", "ungraded") for r in rows), rows


# --------------------------------------------------------------------------------------------
# the command line, make student, the student branch


def test_command_line_student(tmp_path):
    src = tmp_path / "chapters" / "6-9-demo"
    src.mkdir(parents=True)
    _tiny_notebook(src / "page.ipynb", "assert exercises.check_output_shape((24, 24), (24, 24))")
    result = subprocess.run([sys.executable, "-m", "cnnlib.classroom", "student", "--source", str(tmp_path / "chapters"),
                             "--out", str(tmp_path / "student")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = nbformat.read(tmp_path / "student" / "6-9-demo" / "page.ipynb", as_version=4)
    stub = [c for c in out.cells if classroom.STUB_TAG in c.metadata.get("tags", [])]
    assert len(stub) == 1 and "(24, 24), (24, 24)" not in stub[0].source and "answer = ..." in stub[0].source


def test_command_line_list():
    result = subprocess.run([sys.executable, "-m", "cnnlib.classroom", "list"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "ex-6-2-0-convolve-loop" in result.stdout and "graded by a checker" in result.stdout


def test_instructors_page_shows_the_real_stub():
    """The example stub on instructors.md is what derive_stub makes of that solution today."""
    text = (ROOT / "instructors.md").read_text(encoding="utf-8")
    shown = re.search(r"```python\n(# ex-6-2-0-convolve-loop:.*?)\n```", text, re.S).group(1)
    ex = next(e for e in classroom.exercises_in(nbformat.read(SAMPLE, as_version=4))
              if e.label == "ex-6-2-0-convolve-loop")
    assert shown == classroom.derive_stub(ex.solution_code, ex.label).source


def test_makefile_has_a_student_target():
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^student:.*\n\t.*cnnlib\.classroom student", text, re.M), "make student is missing"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_student_branch_script(tmp_path):
    """scripts/student_branch.sh commits the student edition to branch `student` (chapters/
    replaced, everything else as on the source commit) without touching the working tree."""
    repo = tmp_path / "repo"
    (repo / "chapters" / "6-9-demo").mkdir(parents=True)
    (repo / "binder").mkdir()
    (repo / "binder" / "requirements.txt").write_text("numpy\n")
    _tiny_notebook(repo / "chapters" / "6-9-demo" / "page.ipynb",
                   "assert exercises.check_output_shape((24, 24), (24, 24))")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", PYTHON=sys.executable, PYTHONPATH=str(ROOT))
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "book")
    result = subprocess.run(["bash", str(ROOT / "scripts" / "student_branch.sh")], cwd=repo, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    page = json.loads(git("show", "student:chapters/6-9-demo/page.ipynb"))
    sources = ["".join(c["source"]) for c in page["cells"]]
    assert any("answer = ..." in s for s in sources) and not any("(24, 24), (24, 24)" in s for s in sources)
    assert git("show", "student:binder/requirements.txt") == "numpy\n"
    assert git("status", "--porcelain") == "", "the working tree was changed"
    assert git("rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_student_launch_links_script():
    """assets/student-links.js turns the page's launch URLs into the student branch's."""
    script = ROOT / "assets" / "student-links.js"
    colab = "https://colab.research.google.com/github/the-cnn-book/cnn-book/blob/main/chapters/6-2-convolution/index.ipynb"
    binder = "https://mybinder.org/v2/gh/the-cnn-book/cnn-book/main?urlpath=tree/chapters/6-2-convolution/index.ipynb"
    code = (f"const m = require({json.dumps(str(script))});"
            f"console.log(JSON.stringify([m.studentUrl({json.dumps(colab)}), m.studentUrl({json.dumps(binder)}),"
            f"m.studentUrl('https://example.org/x')]));")
    out = json.loads(subprocess.run(["node", "-e", code], capture_output=True, text=True, check=True).stdout)
    assert out == [colab.replace("/blob/main/", "/blob/student/"),
                   binder.replace("/cnn-book/main?", "/cnn-book/student?"), None]


# --------------------------------------------------------------------------------------------
# issue 19: the stubs that graded wrongly or handed over the answer. Each stub is run in this
# process (the page's names given), fresh, with a right answer and with a wrong one.

STUB_CASES = {  # label: (page, right answers, wrong answers, diagnosis, text the stub must not show)
    "ex-6-2-1-impulse-response": (
        "6-2-convolution/1-lti-systems.ipynb",
        {"w_mystery": "np.array([1.0, -1.0, 0.5, 0.0, 0.0, 0.0])", "prediction": "np.array([1.0, 1.0, 1.5, -2.0, 1.5, 0.0])"},
        {"w_mystery": "np.array([0.0, 1.0, -1.0, 0.5, 0.0, 0.0])", "prediction": "np.array([1.0, 1.0, 1.5, -2.0, 1.5, 0.0])"},
        r"impulse sat at t = 1", ["[1.0, -1.0, 0.5", "convolve1d("]),
    "ex-6-2-2-poisson": (
        "6-2-convolution/2-probability.ipynb",
        {"probs_p": "np.convolve(scipy.stats.poisson.pmf(np.arange(16), 2), scipy.stats.poisson.pmf(np.arange(16), 3))"},
        {"probs_p": "np.zeros(31)"}, r"entries differ", ["exact_p", "poisson.pmf", "signals.sum_pmf"]),
    "ex-6-2-2-galileo": (
        "6-2-convolution/2-probability.ipynb", {"p9": "25 / 216", "p10": "27 / 216"},
        {"p9": "6 / 216", "p10": "6 / 216"}, r"unordered ways", ["range(1, 7)", "ordered", "count("]),
    "ex-6-2-toeplitz-size": (
        "6-2-convolution/3-polynomials-toeplitz.ipynb", {"shape_Tf": "(13, 10)", "shape_Tg": "(13, 4)", "diagonals": "(22, 4)"},
        {"shape_Tf": "(10, 13)", "shape_Tg": "(13, 4)", "diagonals": "(22, 4)"}, r"rows and columns are swapped",
        [".shape", "matrix_of", "np.convolve", "toeplitz("]),
    "ex-6-3-1-mnist-count": (
        "6-3-conv-layer/1-dense-to-conv.ipynb", {"out_size": "(24, 24)", "n_conv": "26", "n_dense": "452_160"},
        {"out_size": "(28, 28)", "n_conv": "26", "n_dense": "452_160"}, r"the \+ 1 is missing|input's height",
        ["out_ex", ".shape", "torch.zeros", "24", "576"]),
    "ex-6-3-2-predict-resnet-stem": (
        "6-3-conv-layer/2-padding-stride-dilation.ipynb", {"answer": "(112, 112)"}, {"answer": "(224, 224)"},
        r"stride was ignored", [".shape", "expected", "torch.empty"]),
    "ex-6-3-2-transposed-size": (
        "6-3-conv-layer/2-padding-stride-dilation.ipynb", {"answer": "(32, 32)"}, {"answer": "(31, 31)"},
        r"each side is 1 too small", [".shape", "expected", "torch.empty"]),
    "ex-6-2-output-size": (
        "6-2-convolution/4-multidimensional.ipynb", {"valid": "(28, 28)", "full": "(36, 36)", "volume": "(1, 28, 28)"},
        {"valid": "(36, 36)", "full": "(36, 36)", "volume": "(1, 28, 28)"}, r"full size \(6\.5\)",
        [".shape", "convolve2d(", "volume_convolve("]),
    "ex-6-3-layer-shapes": (
        "6-3-conv-layer/index.ipynb", {"weight_shape": "(16, 3, 5, 5)", "n_params": "1216", "out_shape": "(16, 28, 28)"},
        {"weight_shape": "(3, 16, 5, 5)", "n_params": "1216", "out_shape": "(16, 28, 28)"}, r"channels swapped",
        [".shape", "ex_out", "torch.zeros"]),
    "ex-6-4-4-map-size": (  # fcn: the page's convolutionalized LeNet-5 (untrained weights suffice for shapes)
        "6-4-cnn/4-one-by-one.ipynb", {"prediction": "(1, 10, 19, 9)"}, {"prediction": "(1, 10, 20, 10)"},
        r"each side is 1 too large", [".shape", "actual", "torch.zeros"]),
    "ex-6-5-3-stage-shape": (
        "6-5-landmarks/3-efficientnet.ipynb", {"prediction": "(192, 7, 7)"}, {"prediction": "(320, 7, 7)"},
        r"the channels are not", [".shape", "actual", "torch.zeros"]),
    "ex-6-6-yhat-shape": (
        "6-6-beyond/index.ipynb", {"prediction": "(8, 5, 48, 64)"}, {"prediction": "(8, 3, 48, 64)"},
        r"the channels are not", [".shape", "actual", "torch.zeros"]),
}


def _stub_of(page, label):
    nb = nbformat.read(ROOT / "chapters" / page, as_version=4)
    ex = next(e for e in classroom.exercises_in(nb) if e.label == label)
    return classroom.derive_stub(ex.solution_code, label)


def _run_stub(source, label, fills):
    """Fill in the stub's ``name = ...`` lines and run it here; the verdict of its attempt block."""
    import numpy as np
    import scipy.stats
    import torch
    from torch import nn

    from cnnlib import conv, models, signals

    for name, value in fills.items():
        assert f"\n{name} = ...\n" in source, (name, source)
        source = source.replace(f"\n{name} = ...\n", f"\n{name} = {value}\n", 1)
    namespace = dict(np=np, scipy=scipy, torch=torch, nn=nn, conv=conv, models=models, signals=signals,
                     exercises=exercises)
    if "fcn" in source:  # the page's fully convolutional LeNet-5 (6.4.4)
        namespace["fcn"] = models.convolutionalize(models.lenet5(), input_shape=(1, 28, 28)).eval()
    _record.begin(label, "attempt")
    try:
        exec(compile(source, f"<stub of {label}>", "exec"), namespace)
    finally:
        status, message = _record.end()
    return status, message


@pytest.mark.parametrize("label", STUB_CASES)
def test_stub_grades_right_and_wrong_answers_and_shows_no_answer(label, capsys):
    page, right, wrong, diagnosis, hidden = STUB_CASES[label]
    stub = _stub_of(page, label)
    assert stub.graded and sorted(stub.answers) == sorted(right), stub.source
    shown = [text for text in hidden if text in stub.source]
    assert not shown, f"the stub computes or shows the answer ({shown}):\n{stub.source}"
    assert _run_stub(stub.source, label, {})[0] == "not attempted"
    assert _run_stub(stub.source, label, right)[0] == "passed"
    status, message = _run_stub(stub.source, label, wrong)
    assert status == "wrong" and re.search(diagnosis, message), (status, message)


def test_impulse_response_stub_gives_the_system_and_flags_a_rewritten_one():
    """The system ``mystery`` is given (a right answer is not 'not attempted'); a student who
    rewrites it to match a wrong answer is flagged."""
    stub = _stub_of(*STUB_CASES["ex-6-2-1-impulse-response"][:1], "ex-6-2-1-impulse-response")
    assert "signals.delay(x, 1)" in stub.source and "mystery" not in stub.answers
    nb = _student(ROOT / "chapters" / STUB_CASES["ex-6-2-1-impulse-response"][0])
    cell = next(c for c in nb.cells if c.metadata.get("cnnbook", {}).get("exercise") == "ex-6-2-1-impulse-response")
    cell.source = cell.source.replace("+ 0.5 * signals.delay(x, 2)", "+ 0.0 * signals.delay(x, 2)")
    _, per_label = classroom.integrity.flags(nb, ROOT / "chapters")
    assert any("given lines were changed" in f for f in per_label["ex-6-2-1-impulse-response"]), per_label
