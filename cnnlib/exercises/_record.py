"""What the checkers said, per exercise: the machine-readable record behind the autograder.

Nothing here changes what a reader sees. Every public checker of :mod:`cnnlib.exercises` is
wrapped by :func:`graded`, which

- answers "not attempted yet" when an argument is still a stub (``...``, a function whose
  body is only ``...``, or a tuple/list holding one), instead of letting the checker fail on it;
- registers the :class:`~cnnlib.exercises.Feedback` it returns with the exercise being
  recorded, if any (see :func:`begin` and :class:`attempt`), and nowhere otherwise.

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

import dis
import functools
import json
import types

import numpy as np

__all__ = ["attempt", "graded", "is_unfinished", "start", "stop", "begin", "end", "verdict"]

STATUSES = ("passed", "wrong", "not attempted", "error", "ungraded")

_state = {"path": None, "collector": None}


def _feedback_cls():
    from ._base import Feedback

    return Feedback


_EMPTY_BODIES = (
    [("LOAD_CONST", None), ("RETURN_VALUE", None)],
    [("RETURN_CONST", None)],
    [("LOAD_GLOBAL", "NotImplementedError"), ("RAISE_VARARGS", 1)],
    [("LOAD_GLOBAL", "NotImplementedError"), ("PRECALL", 0), ("CALL", 0), ("RAISE_VARARGS", 1)],
    [("LOAD_GLOBAL", "NotImplementedError"), ("CALL", 0), ("RAISE_VARARGS", 1)],
    [("PUSH_NULL", None), ("LOAD_GLOBAL", "NotImplementedError"), ("PRECALL", 0), ("CALL", 0), ("RAISE_VARARGS", 1)],
)


def _empty_function(fn) -> bool:
    code = fn.__code__
    steps = [(i.opname, i.argval) for i in dis.get_instructions(code)
             if i.opname not in ("RESUME", "NOP", "CACHE", "COPY_FREE_VARS", "MAKE_CELL")]
    return steps in _EMPTY_BODIES


def is_unfinished(obj) -> bool:
    """Whether ``obj`` is still a stub: ``...``, an empty function, or a container holding one.

    An empty function has a body of only a docstring and ``...`` (or ``pass``, or
    ``raise NotImplementedError``).

    Examples
    --------
    >>> def todo(x):
    ...     '''Your code here.'''
    ...     ...
    >>> is_unfinished(...), is_unfinished(todo), is_unfinished((1, ...)), is_unfinished([1, 2])
    (True, True, True, False)
    """
    if obj is Ellipsis:
        return True
    if isinstance(obj, types.FunctionType):
        return _empty_function(obj)
    if isinstance(obj, (tuple, list)):
        return any(item is Ellipsis or isinstance(item, types.FunctionType) and _empty_function(item)
                   for item in obj)
    if isinstance(obj, dict):
        return any(v is Ellipsis for v in obj.values())
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        return any(v is Ellipsis for v in obj.ravel()[:10_000])
    return False


def _not_attempted(message: str):
    return _feedback_cls()(False, message, attempted=False)


def graded(checker):
    """Wrap a checker: stubs get "not attempted yet", and the verdict is registered.

    Examples
    --------
    >>> from cnnlib.exercises._base import check_output_shape
    >>> graded(check_output_shape)(..., (4, 5))
    ○ Not attempted yet: replace the ... with your answer and run the cell again.
    """
    if getattr(checker, "_cnnbook_graded", False):
        return checker

    @functools.wraps(checker)
    def wrapper(*args, **kwargs):
        if _depth[0]:  # a checker calling another one: only the outermost call is the verdict
            return checker(*args, **kwargs)
        values = list(args) + list(kwargs.values())
        if any(is_unfinished(v) for v in values):
            feedback = _not_attempted("replace the ... with your answer and run the cell again.")
        else:
            _depth[0] += 1
            try:
                feedback = checker(*args, **kwargs)
            finally:
                _depth[0] -= 1
        register(feedback)
        return feedback

    wrapper._cnnbook_graded = True
    return wrapper


_depth = [0]


def wrap_checkers(namespace: dict) -> None:
    """Replace every ``check_*`` function and ``compare_arrays`` in ``namespace`` by :func:`graded`,
    there and in the module that defines it (so ``cnnlib.exercises.signals.check_x`` is
    ``cnnlib.exercises.check_x``)."""
    import sys

    for name, obj in list(namespace.items()):
        if isinstance(obj, types.FunctionType) and (name.startswith("check_") or name == "compare_arrays"):
            wrapped = graded(obj)
            namespace[name] = wrapped
            home = sys.modules.get(getattr(obj, "__module__", ""), None)
            if home is not None and getattr(home, name, None) is obj:
                setattr(home, name, wrapped)


# ---------------------------------------------------------------------------------------------
# collecting verdicts

class _Collector:
    def __init__(self, label: str, rule: str):
        self.label, self.rule, self.entries = label, rule, []


def register(feedback) -> None:
    """Add a checker's :class:`Feedback` to the exercise being recorded (if any)."""
    collector = _state["collector"]
    if collector is None or not isinstance(feedback, _feedback_cls()):
        return
    entry = {"feedback": feedback, "asserted": False}
    collector.entries.append(entry)
    feedback._cnnbook_entry = entry


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
            shown = [_not_attempted("replace each ... above with your code and run the cell again.")]
        elif exc_type is not None:
            self.status, self.message = "error", f"{exc_type.__name__}: {exc}"
            _write(self.label, self.status, self.message)
            return False
        elif stubs and len(stubs) == len(self.answers):
            shown = [_not_attempted("replace each ... above with your code and run the cell again.")]
        else:
            shown = feedbacks or [_not_attempted("no check ran: keep the exercise's checker call in this cell.")]
        self.status, self.message = verdict([{"feedback": fb, "asserted": False} for fb in shown], "all")
        _write(self.label, self.status, self.message)
        _show(shown)
        return True
