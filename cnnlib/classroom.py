"""The classroom edition: student notebooks without solutions, and an autograder.

Three commands (``python -m cnnlib.classroom --help``):

``student``
    writes a student edition of every notebook under ``chapters/`` to ``_build/student/``
    (path for path: ``chapters/6-2-convolution/index.ipynb`` becomes
    ``_build/student/6-2-convolution/index.ipynb``). Each exercise's solution (everything
    between its ``solution-start`` and ``solution-end`` directives, code and text) is replaced
    by one *stub cell* derived from the solution by :func:`derive_stub`; the rest of the page
    is unchanged.
``list``
    prints each page's exercises, graded (the solution calls a checker) or not.
``grade PATH... [--csv results.csv] [--timeout SECONDS]``
    executes each notebook (or every notebook in a folder) in a fresh kernel with a time
    limit per notebook and writes one row per notebook and exercise label: ``passed``,
    ``wrong`` (with the checker's message), ``not attempted``, ``error`` or ``ungraded`` (an
    exercise without a checker). A notebook that crashes or times out is reported, not fatal.

How a stub is derived from a solution (:func:`derive_stub`; ``tests/test_classroom.py``
checks the rule on every exercise of the book):

1. The *graded statements* are the solution's top-level statements whose checker calls (a
   ``check_*`` function or ``compare_arrays`` of :mod:`cnnlib.exercises`) the solution
   asserts (``assert check(...)``, or ``fb = check(...)`` then ``assert fb``); a solution
   that asserts none is graded by its last statement with a checker call; a solution with no
   checker call is ungraded. The same rule picks the verdict when an instructor notebook is
   graded, so both editions are judged by the same calls.
2. In the graded statements, ``assert``, ``print`` and ``fb = ...`` around checker calls are
   removed (the :class:`~cnnlib.exercises.attempt` block shows the verdicts); statements
   without a checker call are dropped.
3. The first argument of every checker call is the student's answer. If it uses no name that
   the solution defines (a literal such as ``(24, 24)``, or code that computes the answer),
   it is replaced by a name ``answer`` (``answer_2``, ...) for the student to fill in.
4. Every name that the first arguments read and the solution defines becomes a stub:
   ``name = ...``, or, for a function, its ``def`` line and docstring with ``...`` as body;
   so does every other top-level function of the solution. A name that only the other
   arguments read (the reference the answer is compared with, e.g. ``expected`` from
   ``nn.Conv2d``, or data the exercise gives) keeps its defining statements, unless they need
   a stubbed name or function, in which case it becomes a stub too.
5. The stub cell is: a comment naming the exercise; the stubs; then
   ``with exercises.attempt(label, <stubbed names>):`` around the graded statements.
   Solution lines ending with ``# stub: keep`` are copied to the stub unchanged (a
   solution's author can keep given data, for example).

Nothing else of a solution reaches the student edition. The autograder's record is kept by
:mod:`cnnlib.exercises._record`.
"""
from __future__ import annotations

import argparse
import ast
import asyncio
import copy
import csv
import dataclasses
import json
import pathlib
import re
import sys
import tempfile
import time

import nbformat


__all__ = ["Exercise", "Stub", "exercises_in", "derive_stub", "student_notebook", "write_student_edition", "exercise_table",
           "grade_notebook", "grade", "score", "GradeRow", "main", "ROOT", "CHAPTERS", "STUDENT_DIR", "STUB_TAG"]

ROOT = pathlib.Path(__file__).resolve().parents[1]
STUDENT_DIR = ROOT / "_build" / "student"
CHAPTERS = ROOT / "chapters"
KEEP_MARK = "# stub: keep"
STUB_TAG = "student-stub"

_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>exercise-start|exercise-end|solution-start|solution-end|"
                        r"exercise|solution)\}[ \t]*(?P<arg>[^\n]*)$")


# ---------------------------------------------------------------------------------------------
# reading the exercises of a notebook

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


# ---------------------------------------------------------------------------------------------
# deriving a stub from a solution

def _checker_names() -> set[str]:
    from . import exercises

    return {n for n in dir(exercises) if n.startswith("check_") or n == "compare_arrays"}


def _is_checker_call(node, checkers) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id in checkers) or (isinstance(f, ast.Attribute) and f.attr in checkers)


def _calls(node, checkers):
    return [n for n in ast.walk(node) if _is_checker_call(n, checkers)]


def _bound_names(stmt) -> set[str]:
    """Names a statement binds at its own level (assignment targets, defs, loop targets, imports)."""
    names = set()
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    targets = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    for t in targets:
        names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    for field in ("body", "orelse", "finalbody"):  # compound statements bind at the same level
        for inner in getattr(stmt, field, []) or []:
            names |= _bound_names(inner)
    for handler in getattr(stmt, "handlers", []) or []:
        for inner in handler.body:
            names |= _bound_names(inner)
    return names


def _loaded_free_names(nodes) -> list[str]:
    """Names read by ``nodes`` that they do not bind themselves (loop targets, lambda arguments,
    comprehension variables, assignments inside), in order of first use."""
    bound, loaded = set(), []
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                bound.add(n.id)
            elif isinstance(n, ast.arg):
                bound.add(n.arg)
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound and n.id not in loaded:
                loaded.append(n.id)
    return loaded


def _asserted_calls(tree, checkers) -> set[int]:
    """ids of the checker-call nodes whose result the solution asserts."""
    asserted = set()
    asserted_names = {t.test.id for t in ast.walk(tree) if isinstance(t, ast.Assert) and isinstance(t.test, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            asserted |= {id(c) for c in _calls(node.test, checkers)}
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in asserted_names for t in node.targets):
            asserted |= {id(c) for c in _calls(node.value, checkers)}
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id in asserted_names:
            asserted |= {id(c) for c in _calls(node.iter, checkers)}
    return asserted


def _strip_body(body, checkers, asserted_names):
    """Keep what a graded statement needs: checker calls without assert/print/assignment."""
    out = []
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            out += [ast.Expr(c) for c in _top_calls(stmt.test, checkers)]
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
                isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "print":
            for arg in stmt.value.args:
                out += [ast.Expr(c) for c in _top_calls(arg, checkers)]
        elif isinstance(stmt, ast.Expr):
            out += [ast.Expr(c) for c in _top_calls(stmt.value, checkers)]
        elif isinstance(stmt, ast.Assign) and _calls(stmt.value, checkers):
            targets = [t for t in stmt.targets if not (isinstance(t, ast.Name) and t.id in asserted_names)]
            out.append(ast.Assign(targets=targets, value=stmt.value, lineno=0) if targets else ast.Expr(stmt.value))
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.If)) and _calls(stmt, checkers):
            new = copy.copy(stmt)
            new.body = _strip_body(stmt.body, checkers, asserted_names)
            if isinstance(stmt, ast.If):
                new.orelse = _strip_body(stmt.orelse, checkers, asserted_names)
            elif hasattr(stmt, "orelse"):
                new.orelse = []
            if not new.body:
                if isinstance(stmt, (ast.For, ast.AsyncFor)) and _calls(stmt.iter, checkers):
                    out.append(ast.Expr(stmt.iter))
                    continue
                new.body = [ast.Pass()]
            out.append(new)
        elif _bound_names(stmt):
            out.append(stmt)  # kept only if a checker call below reads it (pruned afterwards)
    # drop plain assignments whose names no later statement of this body reads
    pruned, needed = [], set()
    for stmt in reversed(out):
        has_call = bool(_calls(stmt, checkers))
        if has_call or _bound_names(stmt) & needed:
            pruned.append(stmt)
            needed |= set(_loaded_free_names([stmt]))
    unique, seen = [], set()
    for stmt in reversed(pruned):
        text = ast.unparse(stmt)
        if text not in seen:
            seen.add(text)
            unique.append(stmt)
    return unique


def _top_calls(expr, checkers):
    """The outermost checker calls inside ``expr``."""
    if _is_checker_call(expr, checkers):
        return [expr]
    found = []
    for child in ast.iter_child_nodes(expr):
        found += _top_calls(child, checkers)
    return found


def _def_stub(fn: ast.FunctionDef) -> str:
    new = copy.deepcopy(fn)
    doc = ast.get_docstring(fn, clean=False)
    new.body = ([ast.Expr(ast.Constant(doc))] if doc is not None else []) + [ast.Expr(ast.Constant(...))]
    lines = ast.unparse(new).splitlines()
    lines[-1] += "  # your code here"
    return "\n".join(lines)


@dataclasses.dataclass
class Stub:
    """A stub cell's source, whether it is graded, and the names the student fills in."""

    source: str
    graded: bool
    answers: list[str]


def _strip_magics(code: str) -> str:
    return "\n".join("pass  # " + line if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())


def derive_stub(code: str, label: str) -> Stub:
    """The stub that replaces a solution in the student edition (rule: the module docstring).

    Parameters
    ----------
    code : str
        The solution's code cells, joined.
    label : str
        The exercise's label.

    Examples
    --------
    >>> solution = '''
    ... def my_dropout(x, p, rng):
    ...     mask = rng.binomial(1, 1 - p, size=x.shape)
    ...     return x * mask / (1 - p)
    ...
    ... print(exercises.check_dropout(my_dropout))
    ... assert exercises.check_dropout(my_dropout)
    ... '''
    >>> print(derive_stub(solution, "ex-6-4-5-dropout").source)
    # ex-6-4-5-dropout: your answer. Replace each ... with your code, then run the cell.
    def my_dropout(x, p, rng):
        ...  # your code here
    <BLANKLINE>
    with exercises.attempt('ex-6-4-5-dropout', my_dropout):
        exercises.check_dropout(my_dropout)
    >>> print(derive_stub("assert exercises.check_conv_params(128 * (64 * 9 + 1), 64, 128, 3)", "ex-c").source)
    # ex-c: your answer. Replace each ... with your code, then run the cell.
    answer = ...
    <BLANKLINE>
    with exercises.attempt('ex-c', answer):
        exercises.check_conv_params(answer, 64, 128, 3)
    """
    for name, value in (("code", code), ("label", label)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str; got {type(value).__name__} {value!r:.60}")
    head = f"# {label}: your answer. Replace each ... with your code, then run the cell."
    try:
        tree = ast.parse(_strip_magics(code))
    except SyntaxError:
        return Stub(f"# {label}: your answer here.", False, [])
    checkers = _checker_names()
    lines = code.splitlines()
    kept_verbatim = [s for s in tree.body if any(KEEP_MARK in lines[n - 1] for n in range(s.lineno, s.end_lineno + 1))]
    body = [s for s in tree.body if s not in kept_verbatim]
    defined = {}
    for stmt in body:
        for name in _bound_names(stmt):
            defined.setdefault(name, stmt)
    given = set().union(*[_bound_names(s) for s in kept_verbatim]) if kept_verbatim else set()
    functions = [s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]

    asserted = _asserted_calls(tree, checkers)
    with_calls = [s for s in body if _calls(s, checkers) and not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
    graded_stmts = [s for s in with_calls if any(id(c) in asserted for c in _calls(s, checkers))] or with_calls[-1:]
    asserted_names = {t.test.id for t in ast.walk(tree) if isinstance(t, ast.Assert) and isinstance(t.test, ast.Name)}
    kept = _strip_body(graded_stmts, checkers, asserted_names)

    # 3. the first argument of each checker call belongs to the student
    literal_names: dict[str, str] = {}
    solution_names = set(defined) - given
    for stmt in kept:
        for call in _calls(stmt, checkers):
            if not call.args or isinstance(call.args[0], ast.Starred):
                continue
            inner_bound = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            inner_bound |= {a.arg for a in ast.walk(stmt) if isinstance(a, ast.arg)}
            uses = {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}
            if uses & (solution_names | inner_bound):
                continue
            text = ast.unparse(call.args[0])
            if text not in literal_names:
                taken = set(defined) | set(literal_names.values()) | inner_bound
                literal_names[text] = next(n for n in ("answer", *(f"answer_{k}" for k in range(2, 1000)))
                                           if n not in taken)
            call.args[0] = ast.Name(literal_names[text], ast.Load())
    # dedupe again: two calls may now read the same
    unique, seen = [], set()
    for stmt in kept:
        text = ast.unparse(stmt)
        if text not in seen:
            seen.add(text)
            unique.append(stmt)
    kept = unique

    # 4. stubs for what the graded statements read and the solution defines; what only the
    # other arguments (the reference side) read is kept, unless it needs a student's name
    reads = [n for n in _loaded_free_names(kept) if n in solution_names]
    first_reads = set()
    for stmt in kept:
        for call in _calls(stmt, checkers):
            if call.args:
                first_reads |= {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}
    student = {n for n in reads if n in first_reads or isinstance(defined[n], (ast.FunctionDef, ast.AsyncFunctionDef))}
    reference = {}  # name -> statements (its definition and what that needs), in solution order
    changed = True
    while changed:
        changed = False
        for name in reads:
            if name in student:
                continue
            needs, todo, ok = [], [name], True
            while todo and ok:
                n = todo.pop()
                stmt = defined[n]
                if stmt in needs:
                    continue
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or _bound_names(stmt) & student:
                    ok = False
                    break
                needs.append(stmt)
                todo += [m for m in _loaded_free_names([stmt]) if m in solution_names and m not in _bound_names(stmt)]
            if ok:
                reference[name] = needs
            elif name not in student:
                student.add(name)
                reference.pop(name, None)
                changed = True
    reads = [n for n in reads if n in student]
    order = {id(s): i for i, s in enumerate(body)}
    reference_stmts = sorted({id(s): s for ss in reference.values() for s in ss}.values(), key=lambda s: order[id(s)])
    stub_stmts, answers = [], []
    for name in sorted(reads, key=lambda n: order[id(defined[n])]):
        stmt = defined[name]
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        answers.append(name)
    answers_fn = [f.name for f in functions if f.name in reads]
    out = [head]
    imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom)) and _bound_names(s) & set(reads)]
    out += [ast.unparse(s) for s in imports]
    out += ["\n".join(lines[s.lineno - 1:s.end_lineno]) for s in kept_verbatim]
    out += [ast.get_source_segment(code, s) or ast.unparse(s) for s in reference_stmts]
    ordered = sorted([(order[id(f)], "def", f) for f in functions] +
                     [(order[id(defined[n])], "name", n) for n in answers if not isinstance(defined[n], (ast.Import, ast.ImportFrom))],
                     key=lambda t: t[0])
    for _, kind, item in ordered:
        if stub_stmts and (kind == "def" or stub_stmts[-1].startswith(("def ", "async def "))):
            stub_stmts.append("")  # a blank line around each function
        stub_stmts.append(_def_stub(item) if kind == "def" else f"{item} = ...")
    stub_stmts += [f"{name} = ..." for name in literal_names.values()]
    out += stub_stmts
    answers = answers_fn + [n for n in answers if not isinstance(defined[n], (ast.Import, ast.ImportFrom))] + list(literal_names.values())
    answers = list(dict.fromkeys(answers))
    if not kept:
        if not functions:
            return Stub(f"# {label}: your answer here (this exercise has no automatic check).", False, [])
        out[0] = f"# {label}: your answer (this exercise has no automatic check). Replace each ... with your code."
        return Stub("\n".join(out), False, [f.name for f in functions])
    uses_module = any(isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name) and
                      c.func.value.id == "exercises" for s in kept for c in _calls(s, checkers))
    if not uses_module:
        out.append("from cnnlib.exercises import attempt")
    opener = "exercises.attempt" if uses_module else "attempt"
    block = f"with {opener}({label!r}{''.join(', ' + a for a in answers)}):\n"
    block += "\n".join("    " + line for s in kept for line in ast.unparse(s).splitlines())
    return Stub("\n".join(out) + "\n\n" + block, True, answers)


# ---------------------------------------------------------------------------------------------
# the student edition

def _cell_id(base: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", base)[-64:]


def student_notebook(nb):
    """The student edition of a notebook (a new notebook; ``nb`` is not changed).

    Text and code outside the solutions are kept as they are; each solution (code and
    text between ``solution-start`` and ``solution-end``) is replaced by the stub cell of
    :func:`derive_stub`, tagged ``student-stub`` with the exercise's label in its metadata
    (``metadata["cnnbook"]["exercise"]``).
    """
    exercises = {ex.label: ex for ex in exercises_in(nb)}
    new = copy.deepcopy(nb)
    cells, current, text = [], None, []

    def flush(template, part):
        if "".join(text).strip():
            cell = copy.deepcopy(template)
            cell.source = "".join(text).strip("\n")
            if part:
                cell["id"] = _cell_id(f"{template.get('id', 'md')}-{part}")
            cells.append(cell)
        text.clear()

    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            if current is None:
                cells.append(copy.deepcopy(cell))
            continue
        part = 0
        for seg in _segments(cell.source):
            if seg[0] == "directive" and seg[1] == "solution-start":
                current = seg[2]
            elif seg[0] == "directive" and (seg[1] == "solution-end" or seg[1] == "solution" and current is None):
                current = seg[2] if seg[1] == "solution" else current
                flush(cell, part)
                part += 1
                ex = exercises.get(current)
                stub = derive_stub(ex.solution_code if ex else "", current or "exercise")
                stub_cell = nbformat.v4.new_code_cell(stub.source)
                stub_cell["id"] = _cell_id(f"stub-{current}")
                stub_cell.metadata = {"tags": [STUB_TAG], "cnnbook": {"exercise": current, "graded": stub.graded}}
                cells.append(stub_cell)
                current = None
            elif current is None:
                text.append(seg[1] if seg[0] == "text" else seg[4])
        flush(cell, part)
    new.cells = cells
    graded = [c.metadata["cnnbook"]["exercise"] for c in cells
              if c.cell_type == "code" and c.metadata.get("cnnbook", {}).get("graded")]
    new.metadata.setdefault("cnnbook", {}).update(edition="student", graded=graded)
    return new


def write_student_edition(source=CHAPTERS, target=STUDENT_DIR) -> list[pathlib.Path]:
    """Write the student edition of every notebook under ``source`` to ``target``, path for path."""
    source, target = pathlib.Path(source), pathlib.Path(target)
    written = []
    for path in sorted(source.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), out)
        written.append(out)
    return written


def exercise_table(source=CHAPTERS) -> list[dict]:
    """One row per notebook under ``source``: its path, title and exercises, graded or not.

    Examples
    --------
    >>> rows = exercise_table()
    >>> sorted(rows[0])
    ['graded', 'page', 'title', 'ungraded']
    """
    source = pathlib.Path(source)
    rows = []
    pages = [p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    for path in sorted(pages, key=lambda p: (p.relative_to(source).parent.parts, p.stem != "index", p.name)):
        nb = nbformat.read(path, as_version=4)
        title = next((c.source.lstrip().splitlines()[0].lstrip("# ").strip() for c in nb.cells
                      if c.cell_type == "markdown" and c.source.lstrip().startswith("# ")), path.stem)
        graded, ungraded = [], []
        for ex in exercises_in(nb):
            (graded if derive_stub(ex.solution_code, ex.label).graded else ungraded).append(ex.label)
        rows.append({"page": str(path.relative_to(source).with_suffix("")), "title": title,
                     "graded": graded, "ungraded": ungraded})
    return rows


# ---------------------------------------------------------------------------------------------
# grading

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


def main(argv=None) -> int:
    """The command line: ``python -m cnnlib.classroom {student,grade}``."""
    parser = argparse.ArgumentParser(prog="python -m cnnlib.classroom", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("student", help="write the student edition of the notebooks")
    st.add_argument("--source", default=str(CHAPTERS), help="folder of instructor notebooks (default: chapters/)")
    st.add_argument("--out", default=str(STUDENT_DIR), help="where to write it (default: _build/student/)")
    ls = sub.add_parser("list", help="list each page's exercises, graded (with a checker) or not")
    ls.add_argument("--source", default=str(CHAPTERS), help="folder of instructor notebooks (default: chapters/)")
    gr = sub.add_parser("grade", help="execute notebooks and grade their exercises")
    gr.add_argument("paths", nargs="+", help="notebooks, or folders of notebooks")
    gr.add_argument("--csv", help="write one row per notebook and exercise to this CSV file")
    gr.add_argument("--timeout", type=float, default=600, help="seconds per notebook (default 600)")
    args = parser.parse_args(argv)
    if args.command == "student":
        written = write_student_edition(args.source, args.out)
        print(f"wrote {len(written)} student notebooks to {args.out}")
        return 0
    if args.command == "list":
        rows = exercise_table(args.source)
        for row in rows:
            print(f"{row['page']}  ({row['title']})")
            print("  graded:   " + (", ".join(row["graded"]) or "none"))
            print("  ungraded: " + (", ".join(row["ungraded"]) or "none"))
        n_graded = sum(len(r["graded"]) for r in rows)
        print(f"{len(rows)} pages, {n_graded + sum(len(r['ungraded']) for r in rows)} exercises, "
              f"{n_graded} graded by a checker")
        return 0
    rows = grade(args.paths, args.csv, args.timeout)
    passed, graded = score(rows)
    print(f"total: {passed}/{graded} exercises passed in {len({r.notebook for r in rows})} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
