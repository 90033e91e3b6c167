"""Student stubs and the student edition: :func:`derive_stub` turns a solution into the cell a
student fills in (its rule, step by step, is in its docstring); :func:`student_notebook` puts
one in place of each solution of a notebook.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import pathlib
import re

import nbformat

from ..exercises._record import asserted_calls, checker_calls, is_checker_call, parse_solution
from .notebooks import CHAPTERS, KEEP_MARK, STUB_TAG, STUDENT_DIR, _segments, chapters_folder, exercises_in

__all__ = ["Stub", "derive_stub", "student_notebook", "write_student_edition", "exercise_table"]

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _checker_names() -> set[str]:
    from .. import exercises

    return {n for n in dir(exercises) if n.startswith("check_") or n == "compare_arrays"}


@dataclasses.dataclass
class Stub:
    """A stub cell's source, whether it is graded, and the names the student fills in."""

    source: str
    graded: bool
    answers: list[str]


def derive_stub(code: str, label: str) -> Stub:
    """The stub that replaces a solution in the student edition, by the rule's five steps:

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

    Anything else of the solution does not reach the student edition.

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
    try:
        solution = _read_solution(code)
    except SyntaxError:
        return Stub(f"# {label}: your answer here.", False, [])
    checkers = _checker_names()
    graded = _graded_statements(solution, checkers)                            # step 1
    checks = _checks_only(graded, solution, checkers)                          # step 2
    checks, literal_names = _name_literal_answers(checks, solution, checkers)  # step 3
    student, reference = _student_and_reference(checks, solution, checkers)    # step 4
    return _stub_cell(label, solution, checks, student, reference, literal_names, checkers)  # step 5


# ---------------------------------------------------------------------------------------------
# the steps

@dataclasses.dataclass
class _Solution:
    """A solution's code read for its stub: its top-level statements, apart from the ``# stub: keep`` ones."""

    code: str
    tree: ast.Module
    body: list            # top-level statements, without the kept ones
    kept_verbatim: list   # statements with a line ending in ``# stub: keep``
    defined: dict         # name -> the first statement of ``body`` that binds it
    given: set            # names the kept statements bind
    functions: list       # top-level function definitions

    @property
    def names(self) -> set[str]:
        """The names that the solution defines (not the ones given by kept lines)."""
        return set(self.defined) - self.given


def _read_solution(code: str) -> _Solution:
    """Parse a solution (raises ``SyntaxError``) and sort its top-level statements."""
    tree = parse_solution(code)
    lines = code.splitlines()
    kept_verbatim = [s for s in tree.body if any(KEEP_MARK in lines[n - 1] for n in range(s.lineno, s.end_lineno + 1))]
    body = [s for s in tree.body if s not in kept_verbatim]
    defined = {}
    for stmt in body:
        for name in _bound_names(stmt):
            defined.setdefault(name, stmt)
    given = set().union(*[_bound_names(s) for s in kept_verbatim]) if kept_verbatim else set()
    functions = [s for s in body if isinstance(s, _FUNCTIONS)]
    return _Solution(code, tree, body, kept_verbatim, defined, given, functions)


def _graded_statements(solution: _Solution, checkers) -> list:
    """Step 1: the top-level statements with a checker call that the solution asserts; if none,
    the last statement with a checker call; none for a solution without one."""
    asserted = {id(c) for c in asserted_calls(solution.tree, checkers)}
    with_calls = [s for s in solution.body if checker_calls(s, checkers) and not isinstance(s, _FUNCTIONS)]
    return [s for s in with_calls if any(id(c) in asserted for c in checker_calls(s, checkers))] or with_calls[-1:]


def _checks_only(graded: list, solution: _Solution, checkers) -> list:
    """Step 2: the graded statements with ``assert``, ``print`` and ``fb = ...`` taken off their
    checker calls, and without the statements that no checker call needs."""
    asserted_names = {t.test.id for t in ast.walk(solution.tree) if isinstance(t, ast.Assert) and isinstance(t.test, ast.Name)}
    return _strip_body(graded, checkers, asserted_names)


def _name_literal_answers(checks: list, solution: _Solution, checkers) -> tuple[list, dict]:
    """Step 3: a first argument that reads no name of the solution becomes ``answer`` (``answer_2``,
    ...). Returns the checks (changed in place, without repeats) and ``{argument text: name}``."""
    literal_names: dict[str, str] = {}
    for stmt in checks:
        for call in checker_calls(stmt, checkers):
            if not call.args or isinstance(call.args[0], ast.Starred):
                continue
            inner_bound = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            inner_bound |= {a.arg for a in ast.walk(stmt) if isinstance(a, ast.arg)}
            uses = {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}
            if uses & (solution.names | inner_bound):
                continue
            text = ast.unparse(call.args[0])
            if text not in literal_names:
                taken = set(solution.defined) | set(literal_names.values()) | inner_bound
                literal_names[text] = next(n for n in ("answer", *(f"answer_{k}" for k in range(2, 1000)))
                                           if n not in taken)
            call.args[0] = ast.Name(literal_names[text], ast.Load())
    return _unique(checks), literal_names  # two calls may now read the same


def _student_and_reference(checks: list, solution: _Solution, checkers) -> tuple[list, list]:
    """Step 4: of the solution's names that the checks read, the student's (read by a first
    argument, a function, or needing one of those) and the statements that define the others
    (the reference side), in solution order. Returns ``(student names, reference statements)``."""
    defined = solution.defined
    reads = [n for n in _loaded_free_names(checks) if n in solution.names]
    first_reads = set()
    for stmt in checks:
        for call in checker_calls(stmt, checkers):
            if call.args:
                first_reads |= {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}
    student = {n for n in reads if n in first_reads or isinstance(defined[n], _FUNCTIONS)}
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
                if isinstance(stmt, _FUNCTIONS) or _bound_names(stmt) & student:
                    ok = False
                    break
                needs.append(stmt)
                todo += [m for m in _loaded_free_names([stmt]) if m in solution.names and m not in _bound_names(stmt)]
            if ok:
                reference[name] = needs
            elif name not in student:
                student.add(name)
                reference.pop(name, None)
                changed = True
    order = {id(s): i for i, s in enumerate(solution.body)}
    reference_stmts = sorted({id(s): s for ss in reference.values() for s in ss}.values(), key=lambda s: order[id(s)])
    return [n for n in reads if n in student], reference_stmts


def _stub_cell(label: str, solution: _Solution, checks: list, student: list, reference_stmts: list,
               literal_names: dict, checkers) -> Stub:
    """Step 5: the comment, the imports the stubs need, the kept lines, the reference statements,
    the stubs, then the ``attempt`` block around the checks."""
    code, defined, functions = solution.code, solution.defined, solution.functions
    order = {id(s): i for i, s in enumerate(solution.body)}
    lines = code.splitlines()
    answers = [n for n in sorted(student, key=lambda n: order[id(defined[n])]) if not isinstance(defined[n], _FUNCTIONS)]
    answers_fn = [f.name for f in functions if f.name in student]
    out = [f"# {label}: your answer. Replace each ... with your code, then run the cell."]
    imports = [s for s in solution.body if isinstance(s, (ast.Import, ast.ImportFrom)) and _bound_names(s) & set(student)]
    out += [ast.unparse(s) for s in imports]
    out += ["\n".join(lines[s.lineno - 1:s.end_lineno]) for s in solution.kept_verbatim]
    out += [ast.get_source_segment(code, s) or ast.unparse(s) for s in reference_stmts]
    ordered = sorted([(order[id(f)], "def", f) for f in functions] +
                     [(order[id(defined[n])], "name", n) for n in answers if not isinstance(defined[n], (ast.Import, ast.ImportFrom))],
                     key=lambda t: t[0])
    stub_stmts = []
    for _, kind, item in ordered:
        if stub_stmts and (kind == "def" or stub_stmts[-1].startswith(("def ", "async def "))):
            stub_stmts.append("")  # a blank line around each function
        stub_stmts.append(_def_stub(item) if kind == "def" else f"{item} = ...")
    stub_stmts += [f"{name} = ..." for name in literal_names.values()]
    out += stub_stmts
    answers = answers_fn + [n for n in answers if not isinstance(defined[n], (ast.Import, ast.ImportFrom))] + list(literal_names.values())
    answers = list(dict.fromkeys(answers))
    if not checks:
        if not functions:
            return Stub(f"# {label}: your answer here (this exercise has no automatic check).", False, [])
        out[0] = f"# {label}: your answer (this exercise has no automatic check). Replace each ... with your code."
        return Stub("\n".join(out), False, [f.name for f in functions])
    uses_module = any(isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name) and
                      c.func.value.id == "exercises" for s in checks for c in checker_calls(s, checkers))
    if not uses_module:
        out.append("from cnnlib.exercises import attempt")
    opener = "exercises.attempt" if uses_module else "attempt"
    block = f"with {opener}({label!r}{''.join(', ' + a for a in answers)}):\n"
    block += "\n".join("    " + line for s in checks for line in ast.unparse(s).splitlines())
    return Stub("\n".join(out) + "\n\n" + block, True, answers)


# ---------------------------------------------------------------------------------------------
# statements and names

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
        elif isinstance(stmt, ast.Assign) and checker_calls(stmt.value, checkers):
            targets = [t for t in stmt.targets if not (isinstance(t, ast.Name) and t.id in asserted_names)]
            out.append(ast.Assign(targets=targets, value=stmt.value, lineno=0) if targets else ast.Expr(stmt.value))
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.If)) and checker_calls(stmt, checkers):
            new = copy.copy(stmt)
            new.body = _strip_body(stmt.body, checkers, asserted_names)
            if isinstance(stmt, ast.If):
                new.orelse = _strip_body(stmt.orelse, checkers, asserted_names)
            elif hasattr(stmt, "orelse"):
                new.orelse = []
            if not new.body:
                if isinstance(stmt, (ast.For, ast.AsyncFor)) and checker_calls(stmt.iter, checkers):
                    out.append(ast.Expr(stmt.iter))
                    continue
                new.body = [ast.Pass()]
            out.append(new)
        elif _bound_names(stmt):
            out.append(stmt)  # kept only if a checker call below reads it (pruned afterwards)
    # drop plain assignments whose names no later statement of this body reads
    pruned, needed = [], set()
    for stmt in reversed(out):
        has_call = bool(checker_calls(stmt, checkers))
        if has_call or _bound_names(stmt) & needed:
            pruned.append(stmt)
            needed |= set(_loaded_free_names([stmt]))
    return _unique(list(reversed(pruned)))


def _unique(stmts):
    """``stmts`` without repeats (statements that read the same)."""
    unique, seen = [], set()
    for stmt in stmts:
        text = ast.unparse(stmt)
        if text not in seen:
            seen.add(text)
            unique.append(stmt)
    return unique


def _top_calls(expr, checkers):
    """The outermost checker calls inside ``expr``."""
    if is_checker_call(expr, checkers):
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
    source, target = chapters_folder(source), pathlib.Path(target)
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
    source = chapters_folder(source)
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
