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
    limit per notebook and writes one row per notebook and exercise label as it goes:
    ``passed``, ``wrong`` (with the checker's message and hints), ``not attempted``, ``error``
    or ``ungraded`` (an exercise without a checker), and the notebook's ``flags`` (what it
    changed outside its answers, :mod:`.integrity`). A notebook that cannot be read, crashes
    or times out is reported in its rows, not fatal.

How a stub is derived from a solution: :func:`derive_stub` (its docstring states the rule, step by
step; ``tests/test_classroom.py`` checks it on every exercise of the book). The autograder's
record is kept by :mod:`cnnlib.exercises._record`.

Modules: ``notebooks`` (reading a notebook's exercises), ``stubs`` (:func:`derive_stub` and the
student edition), ``grade`` (executing and grading notebooks), ``integrity`` (the flags: a
student edition compared with its book page), ``cli`` (the command line).
"""
from .cli import main
from .grade import GradeRow, grade, grade_notebook, score
from .notebooks import CHAPTERS, ROOT, STUB_TAG, STUDENT_DIR, Exercise, exercises_in
from .stubs import Stub, derive_stub, exercise_table, student_notebook, write_student_edition

__all__ = ["Exercise", "Stub", "exercises_in", "derive_stub", "student_notebook", "write_student_edition", "exercise_table",
           "grade_notebook", "grade", "score", "GradeRow", "main", "ROOT", "CHAPTERS", "STUDENT_DIR", "STUB_TAG"]
