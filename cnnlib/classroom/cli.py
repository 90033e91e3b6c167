"""The command line: ``python -m cnnlib.classroom {student,list,grade}``."""
from __future__ import annotations

import argparse

from .grade import grade, score
from .notebooks import CHAPTERS, STUDENT_DIR, chapters_folder
from .stubs import exercise_table, write_student_edition

__all__ = ["main"]


DESCRIPTION = "The classroom edition: student notebooks without solutions, and an autograder."


def main(argv=None) -> int:
    """The command line: ``python -m cnnlib.classroom {student,list,grade}``."""
    parser = argparse.ArgumentParser(prog="python -m cnnlib.classroom", description=DESCRIPTION)
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
    if args.command in ("student", "list"):
        try:  # an installed package outside a clone: say where the notebooks are expected
            chapters_folder(args.source)
        except ValueError as error:
            parser.error(str(error))
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

