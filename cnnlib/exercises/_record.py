"""What the checkers said, per exercise: the machine-readable record behind the autograder.

Nothing here changes what a reader sees. Every checker is defined with the decorator
:func:`~cnnlib.exercises._registry.checker`, which answers "not attempted yet" for a stub and
hands the :class:`~cnnlib.exercises.Feedback` it returns to :func:`register`: it is added to
the exercise being recorded, if any (see :func:`begin` and :class:`attempt`), and nowhere
otherwise.

A student notebook (``python -m cnnlib.classroom student``) ends each exercise with an
:class:`attempt` block around the exercise's checker calls; :mod:`cnnlib.classroom` opens a
record file with :func:`start` before it executes a notebook and reads one JSON line per
exercise from it afterwards: ``{"label", "status", "message"}`` with status ``passed``,
``wrong``, ``not attempted``, ``error`` or ``ungraded``.

How a verdict is reached from the checker results of one exercise:

- in an :class:`attempt` block (student notebooks), every checker call counts;
- between :func:`begin` and :func:`end` (the grader wraps each *solution* of an instructor
  notebook so), the results that the solution tested for truth (``assert check(...)``,
  ``assert feedback``) count; a solution that asserts none is judged by its last checker call;
  a solution that calls no checker is ``ungraded``.
Then: all counted results right -> ``passed``; any wrong -> ``wrong`` with the first wrong
message; otherwise ``not attempted``.
"""
from __future__ import annotations

import ast
import json

from ._feedback import Feedback, is_unfinished, not_attempted

__all__ = ["attempt", "register", "recording_solution", "parse_solution", "is_checker_call", "checker_calls",
           "asserted_calls",
           "start", "stop", "begin", "end", "verdict"]

STATUSES = ("passed", "wrong", "not attempted", "error", "ungraded")

_state = {"path": None, "collector": None}


# ---------------------------------------------------------------------------------------------
# collecting verdicts

class _Collector:
    def __init__(self, label: str, rule: str):
        self.label, self.rule, self.entries = label, rule, []


def register(feedback, asserted: bool = False) -> None:
    """Add a checker's :class:`Feedback` to the exercise being recorded (if any); ``asserted``:
    the solution asserts the call that returned it."""
    collector = _state["collector"]
    if collector is None or not isinstance(feedback, Feedback):
        return
    collector.entries.append({"feedback": feedback, "asserted": bool(asserted)})


def recording_solution() -> bool:
    """Whether an instructor's solution is being recorded (between :func:`begin` and :func:`end`),
    where only the asserted checker calls count."""
    collector = _state["collector"]
    return collector is not None and collector.rule == "asserted"


def _strip_magics(code: str) -> str:
    return "\n".join("pass  # " + line if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())


def parse_solution(code: str) -> ast.Module:
    """Parse a solution's code; IPython magics (``%``, ``!`` lines) become ``pass`` on the same
    lines. Raises ``SyntaxError`` for code that is not Python."""
    return ast.parse(_strip_magics(code))


def is_checker_call(node, checkers) -> bool:
    """Whether ``node`` calls a function named in ``checkers`` (``check(...)``, ``exercises.check(...)``)."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id in checkers) or (isinstance(f, ast.Attribute) and f.attr in checkers)


def checker_calls(node, checkers) -> list[ast.Call]:
    """Every checker call inside ``node`` (itself included)."""
    return [n for n in ast.walk(node) if is_checker_call(n, checkers)]


def asserted_calls(tree, checkers) -> list[ast.Call]:
    """The checker calls (a ``check_*`` named in ``checkers``) whose result the solution asserts.

    ``assert check(...)``; ``fb = check(...)`` (or ``for fb in ...``) and then ``assert fb``.

    Examples
    --------
    >>> tree = parse_solution("print(check_a(1)); fb = check_b(2); assert fb; assert check_a(3)")
    >>> [ast.unparse(c) for c in asserted_calls(tree, {"check_a", "check_b"})]
    ['check_b(2)', 'check_a(3)']
    """
    found = []
    asserted_names = {t.test.id for t in ast.walk(tree) if isinstance(t, ast.Assert) and isinstance(t.test, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found += checker_calls(node.test, checkers)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in asserted_names for t in node.targets):
            found += checker_calls(node.value, checkers)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id in asserted_names:
            found += checker_calls(node.iter, checkers)
    return sorted(found, key=lambda c: (c.lineno, c.col_offset))


def verdict(entries: list, rule: str = "all") -> tuple[str, str]:
    """``(status, message)`` from registered entries (see the module docstring for the rule).

    Examples
    --------
    >>> from cnnlib.exercises import Feedback
    >>> right, wrong = Feedback(True, "Correct."), Feedback(False, "Wrong shape.")
    >>> verdict([{"feedback": right, "asserted": False}, {"feedback": wrong, "asserted": False}])
    ('wrong', 'Wrong shape.')
    >>> verdict([{"feedback": wrong, "asserted": False}, {"feedback": right, "asserted": True}], "asserted")
    ('passed', 'Correct.')
    >>> verdict([], "asserted")
    ('ungraded', 'no checker for this exercise')
    """
    if rule == "asserted":
        counted = [e for e in entries if e["asserted"]] or entries[-1:]
    else:
        counted = list(entries)
    if not counted:
        return "ungraded", "no checker for this exercise"
    feedbacks = [e["feedback"] for e in counted]
    for fb in feedbacks:
        if not fb.ok and fb.attempted:
            return "wrong", fb.message
    if all(fb.ok for fb in feedbacks):
        return "passed", feedbacks[-1].message
    missing = [fb for fb in feedbacks if not fb.attempted]
    return "not attempted", missing[0].message


def start(path) -> None:
    """Record verdicts from now on, one JSON line per exercise appended to ``path``."""
    _state["path"] = str(path)
    open(path, "a", encoding="utf-8").close()


def stop() -> None:
    """Stop writing verdicts to a file."""
    _state["path"], _state["collector"] = None, None


def _write(label: str, status: str, message: str) -> None:
    if _state["path"] is None:
        return
    with open(_state["path"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"label": label, "status": status, "message": message}) + "\n")


def begin(label: str) -> None:
    """Collect the checker results of the solution of exercise ``label`` (rule: asserted, else last)."""
    _state["collector"] = _Collector(label, "asserted")


def end(error: str | None = None) -> tuple[str, str]:
    """Close the exercise opened by :func:`begin`, write and return its verdict."""
    collector, _state["collector"] = _state["collector"], None
    if collector is None:
        return "ungraded", "no exercise was open"
    status, message = ("error", error) if error else verdict(collector.entries, collector.rule)
    _write(collector.label, status, message)
    return status, message


def _mentions_stub(exc: BaseException) -> bool:
    text = str(exc)
    return "ellipsis" in text or "NoneType" in text


def _show(feedbacks) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        shell = None
    for fb in feedbacks:
        if shell is not None and getattr(shell, "kernel", None) is not None:
            display(fb)
        else:
            print(fb)


class attempt:
    """Check a student's answer to one exercise: ``with attempt(label, *answers): <checker calls>``.

    The checker calls inside the block are collected and their verdicts shown when it ends
    (✔ right, ✘ wrong with a diagnosis, ○ not attempted yet). While any of ``answers`` (the
    names the student is asked to fill in) is still a stub, an exception inside the block
    means "not attempted yet" and is not raised; once every answer is filled in, an exception
    is the student's to see, and is raised. A recording grader gets one verdict per block.

    Parameters
    ----------
    label : str
        The exercise's label, e.g. ``"ex-6-2-implement-convolve2d"``.
    *answers : object
        The student's answers (functions, arrays, numbers) that the block checks.

    Examples
    --------
    >>> from cnnlib import exercises
    >>> answer = ...
    >>> with exercises.attempt("ex-demo", answer):
    ...     fb = exercises.check_output_shape(answer, (4, 5))
    ○ Not attempted yet: replace each ... above with your code and run the cell again.
    >>> answer = (4, 6)
    >>> with exercises.attempt("ex-demo", answer):
    ...     fb = exercises.check_output_shape(answer, (4, 5))
    ✘ You predicted (4, 6); the answer is (4, 5).
    """

    def __init__(self, label: str, *answers):
        if not isinstance(label, str):
            raise TypeError(f"label must be an exercise label (str); got {label!r}")
        self.label, self.answers = label, answers
        self.status = self.message = None

    def __enter__(self):
        self._outer = _state["collector"]
        self._collector = _state["collector"] = _Collector(self.label, "all")
        return self

    def __exit__(self, exc_type, exc, tb):
        _state["collector"] = self._outer
        stubs = [a for a in self.answers if is_unfinished(a)]
        feedbacks = [e["feedback"] for e in self._collector.entries]
        if exc_type is not None and not issubclass(exc_type, Exception):
            return False  # KeyboardInterrupt and friends go through
        if exc_type is not None and (stubs or _mentions_stub(exc) and not self.answers):
            shown = [not_attempted("replace each ... above with your code and run the cell again.")]
        elif exc_type is not None:
            self.status, self.message = "error", f"{exc_type.__name__}: {exc}"
            _write(self.label, self.status, self.message)
            return False
        elif stubs and len(stubs) == len(self.answers):
            shown = [not_attempted("replace each ... above with your code and run the cell again.")]
        else:
            shown = feedbacks or [not_attempted("no check ran: keep the exercise's checker call in this cell.")]
        self.status, self.message = verdict([{"feedback": fb, "asserted": False} for fb in shown], "all")
        _write(self.label, self.status, self.message)
        _show(shown)
        return True
