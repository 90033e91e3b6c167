"""What the checkers said, per exercise: the machine-readable record behind the autograder.

Nothing here changes what a reader sees. Every checker is defined with the decorator
:func:`~cnnlib.exercises._registry.checker`, which answers "not attempted yet" for a stub and
hands the :class:`~cnnlib.exercises.Feedback` it returns to :func:`register`: it is added to
the exercise being recorded, if any (see :func:`begin` and :class:`attempt`), and nowhere
otherwise.

A student notebook (``python -m cnnlib.classroom student``) ends each exercise with an
:class:`attempt` block around the exercise's checker calls. :mod:`cnnlib.classroom` grades a
notebook by executing it with a cell of its own before each exercise's cells
(:func:`begin`) and one after them (:func:`end` with a token that only the grader knows): the
verdict is the ``VERDICT_MIME`` output of that last cell (``{"label", "status", "message",
"hints", "token"}``, status ``passed``, ``wrong``, ``not attempted``, ``error`` or
``ungraded``). Nothing a student's cell writes or displays is read as a verdict.

How a verdict is reached from the checker results of one exercise:

- around a student's stub (rule ``"attempt"``), the verdicts of the :class:`attempt` blocks
  for that exercise's label count, and no other checker call;
- around an instructor's *solution* (rule ``"asserted"``), the results that the solution
  tested for truth (``assert check(...)``, ``assert feedback``) count; a solution that asserts
  none is judged by its last checker call; a solution that calls no checker is ``ungraded``;
- in an :class:`attempt` block itself (rule ``"all"``), every checker call counts.
Then: all counted results right -> ``passed``; any wrong -> ``wrong`` with the first wrong
message (and its hints); otherwise ``not attempted``.

:func:`start` (a JSON-lines file of the verdicts of :func:`end` and of :class:`attempt` blocks
outside a grader's cells) is a log for tests and tools; the grader does not read it.
"""
from __future__ import annotations

import ast
import json

from ._feedback import Feedback, is_unfinished, not_attempted

__all__ = ["attempt", "register", "recording_solution", "decide", "VERDICT_MIME", "parse_solution", "is_checker_call", "checker_calls",
           "asserted_calls",
           "start", "stop", "begin", "end", "verdict"]

STATUSES = ("passed", "wrong", "not attempted", "error", "ungraded")
RULES = ("asserted", "attempt", "all")
VERDICT_MIME = "application/vnd.cnnbook.verdict+json"

_state = {"path": None, "collector": None}


# ---------------------------------------------------------------------------------------------
# collecting verdicts

class _Collector:
    def __init__(self, label: str, rule: str):
        self.label, self.rule, self.entries = label, rule, []


def register(feedback, asserted: bool = False, *, attempt: str | None = None) -> None:
    """Add a checker's :class:`Feedback` to the exercise being recorded (if any); ``asserted``:
    the solution asserts the call that returned it; ``attempt``: the label of the
    :class:`attempt` block whose verdict it is."""
    collector = _state["collector"]
    if collector is None or not isinstance(feedback, Feedback):
        return
    collector.entries.append({"feedback": feedback, "asserted": bool(asserted), "attempt": attempt})


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


def decide(entries: list, rule: str = "all", label: str | None = None) -> tuple[str, Feedback | None]:
    """``(status, the deciding Feedback)`` from registered entries (the module docstring's rule;
    ``label``: the exercise, for rule ``"attempt"``); the Feedback is ``None`` when no entry
    counts (``ungraded``)."""
    if rule == "asserted":
        counted = [e for e in entries if e["asserted"]] or entries[-1:]
    elif rule == "attempt":
        counted = [e for e in entries if e.get("attempt") is not None and e.get("attempt") == label]
    else:
        counted = list(entries)
    feedbacks = [e["feedback"] for e in counted]
    if not feedbacks:
        return "ungraded", None
    for fb in feedbacks:
        if not fb.ok and fb.attempted:
            return "wrong", fb
    if all(fb.ok for fb in feedbacks):
        return "passed", feedbacks[-1]
    return "not attempted", next(fb for fb in feedbacks if not fb.attempted)


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
    status, fb = decide(entries, rule)
    return status, (fb.message if fb is not None else "no checker for this exercise")


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


def begin(label: str, rule: str = "asserted") -> None:
    """Collect the checker results of exercise ``label``: of its solution (rule ``"asserted"``:
    the asserted calls, else the last) or of its stub (rule ``"attempt"``: the verdicts of the
    ``attempt`` blocks for ``label``)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}; got {rule!r}")
    _state["collector"] = _Collector(label, rule)


def end(error: str | None = None, *, token: str | None = None) -> tuple[str, str]:
    """Close the exercise opened by :func:`begin` and return its verdict; with ``token`` (the
    grader's), also display it as a ``VERDICT_MIME`` output carrying the token and the hints."""
    collector, _state["collector"] = _state["collector"], None
    if collector is None:
        status, fb = "error", None
        message = "no exercise was open when its verdict was asked for (the notebook's code closed it?)"
        label = None
    else:
        label = collector.label
        status, fb = ("error", None) if error else decide(collector.entries, collector.rule, label)
        message = error or (fb.message if fb is not None else "no checker for this exercise")
        _write(label, status, message)
    if token is not None:
        from IPython.display import display

        display({VERDICT_MIME: {"label": label, "status": status, "message": message,
                                "hints": list(fb.hints) if fb is not None else [], "token": token}}, raw=True)
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
        try:
            return self._finish(exc_type, exc)
        finally:
            self._outer = None

    def _report(self, shown) -> None:
        """The block's verdict: to the grader's open exercise if there is one, else to the log."""
        if self._outer is not None:
            for fb in shown:
                register(fb, attempt=self.label)
        else:
            _write(self.label, self.status, self.message)

    def _finish(self, exc_type, exc):
        stubs = [a for a in self.answers if is_unfinished(a)]
        feedbacks = [e["feedback"] for e in self._collector.entries]
        if exc_type is not None and not issubclass(exc_type, Exception):
            return False  # KeyboardInterrupt and friends go through
        if exc_type is not None and (stubs or _mentions_stub(exc) and not self.answers):
            shown = [not_attempted("replace each ... above with your code and run the cell again.")]
        elif exc_type is not None:
            self.status, self.message = "error", f"{exc_type.__name__}: {exc}"
            if self._outer is None:
                _write(self.label, self.status, self.message)
            return False
        elif stubs and len(stubs) == len(self.answers):
            shown = [not_attempted("replace each ... above with your code and run the cell again.")]
        else:
            shown = feedbacks or [not_attempted("no check ran: keep the exercise's checker call in this cell.")]
        self.status, self.message = verdict([{"feedback": fb, "asserted": False} for fb in shown], "all")
        self._report(shown)
        _show(shown)
        return True
