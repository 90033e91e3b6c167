"""The :func:`checker` decorator: what makes a function a checker of :mod:`cnnlib.exercises`.

Every checker is defined as ``@checker def check_...``; the decorator registers it (by name, in
:data:`CHECKERS`) and makes it graded, there and then, with nothing patched at import time:

- an answer that is still a stub (``...``, a function whose body is only ``...``, or a
  tuple/list holding one; :func:`~._feedback.is_unfinished`) gets "not attempted yet" instead
  of letting the checker fail on it;
- when the checker returns, its :class:`~._feedback.Feedback` is reported to the autograder's
  record (:func:`._record.register`), marked *asserted* when an instructor's solution is being
  recorded and the call is one that the solution asserts (the rule of
  :func:`._record.asserted_calls`, read from the caller's source).
"""
from __future__ import annotations

import ast
import functools
import linecache
import sys

from . import _record
from ._feedback import is_unfinished, not_attempted

__all__ = ["checker", "CHECKERS"]

CHECKERS: dict = {}
"""Every checker, by name: ``{"check_convolve1d": <function>, ...}``."""

_depth = [0]  # > 0 while a checker runs: a checker calling another one is not a verdict


def checker(fn):
    """Make ``fn`` a checker: register it, answer "not attempted yet" for stubs, report its verdict.

    Examples
    --------
    >>> from cnnlib.exercises._feedback import Feedback
    >>> @checker
    ... def check_positive(answer):
    ...     return Feedback(answer > 0, "positive" if answer > 0 else "not positive")
    >>> check_positive(...)
    ○ Not attempted yet: replace the ... with your answer and run the cell again.
    >>> check_positive(3), CHECKERS["check_positive"] is check_positive
    (✔ positive, True)
    >>> del CHECKERS["check_positive"]
    """

    @functools.wraps(fn)
    def graded(*args, **kwargs):
        if _depth[0]:  # a checker calling another one: only the outermost call is the verdict
            return fn(*args, **kwargs)
        if any(is_unfinished(v) for v in (*args, *kwargs.values())):
            feedback = not_attempted("replace the ... with your answer and run the cell again.")
        else:
            _depth[0] += 1
            try:
                feedback = fn(*args, **kwargs)
            finally:
                _depth[0] -= 1
        asserted = _record.recording_solution() and _caller_asserts(sys._getframe(1))
        _record.register(feedback, asserted)
        return feedback

    if fn.__name__ in CHECKERS:
        raise ValueError(f"a checker named {fn.__name__!r} is already registered "
                         f"(from {CHECKERS[fn.__name__].__module__})")
    CHECKERS[fn.__name__] = graded
    return graded


# ---------------------------------------------------------------------------------------------
# is the call being returned from one that the caller's source asserts?

_asserted_positions: dict[str, set] = {}  # source -> positions of its asserted checker calls


def _positions_asserted_in(source: str) -> set:
    if source not in _asserted_positions:
        try:
            tree = _record.parse_solution(source)
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        _asserted_positions[source] = {(c.lineno, c.end_lineno, c.col_offset, c.end_col_offset)
                                       for c in _record.asserted_calls(tree, set(CHECKERS))}
    return _asserted_positions[source]


def _caller_asserts(frame) -> bool:
    """Whether ``frame`` is executing a checker call that its source (a notebook cell, a file)
    asserts; ``False`` when the source cannot be read."""
    try:
        position = list(frame.f_code.co_positions())[frame.f_lasti // 2]
    except (AttributeError, IndexError):  # pragma: no cover - Python >= 3.11 has co_positions
        return False
    source = "".join(linecache.getlines(frame.f_code.co_filename, frame.f_globals))
    return bool(source) and position in _positions_asserted_in(source)
