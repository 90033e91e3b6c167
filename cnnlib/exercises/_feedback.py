"""The verdict of a checker (:class:`Feedback`) and what counts as a stub (:func:`is_unfinished`).

The bottom of :mod:`cnnlib.exercises`: it imports nothing from its siblings. A :class:`Feedback`
is a plain value (testing it for truth changes nothing); the grader's record of verdicts is
:mod:`._record`, and the decorator that makes a function a checker is :mod:`._registry`.
"""
from __future__ import annotations

import dis
import types
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Feedback", "is_unfinished", "not_attempted"]


@dataclass
class Feedback:
    """The verdict of a checker: ``ok`` and a message for the student.

    ``attempted=False`` marks an answer that is still a stub (``...``): "not attempted yet"
    rather than wrong. :attr:`status` is ``"passed"``, ``"wrong"`` or ``"not attempted"``.

    >>> Feedback(True, "Correct.")
    ✔ Correct.
    >>> bool(Feedback(False, "Wrong shape."))
    False
    >>> Feedback(False, "replace the ... with your answer.", attempted=False).status
    'not attempted'
    """

    ok: bool
    message: str
    hints: list[str] = field(default_factory=list)
    attempted: bool = True

    def __bool__(self) -> bool:
        return bool(self.ok)

    @property
    def status(self) -> str:
        return "passed" if self.ok else ("wrong" if self.attempted else "not attempted")

    def _mark(self) -> str:
        return "✔" if self.ok else ("✘" if self.attempted else "○")

    def __str__(self) -> str:
        mark = self._mark()
        head = self.message if self.attempted or self.ok else f"Not attempted yet: {self.message}"
        lines = [f"{mark} {head}"] + [f"  hint: {h}" for h in self.hints]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        colour = "green" if self.ok else ("crimson" if self.attempted else "grey")
        mark = self._mark()
        if not (self.attempted or self.ok):
            return f"<span style='color:{colour}'>**{mark}**</span> Not attempted yet: {self.message}"
        hints = "".join(f"\n- *hint:* {h}" for h in self.hints)
        return f"<span style='color:{colour}'>**{mark}**</span> {self.message}{hints}"


def not_attempted(message: str) -> Feedback:
    """The verdict "not attempted yet" with ``message`` (what to do)."""
    return Feedback(False, message, attempted=False)


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
