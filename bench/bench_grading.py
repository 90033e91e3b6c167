"""How long the autograder (``python -m cnnlib.classroom grade``) takes for the whole chapter.

Grades the instructor notebooks (``chapters/``: solutions executed, every exercise should
pass) and then their student edition (written to a temporary folder: every graded exercise
should be "not attempted"), one fresh kernel per notebook, one after the other, and prints
seconds per notebook (kernel start included), per section and in total, and the scores.

Usage (from the repository root)::

    python bench/bench_grading.py                  # 1 thread per kernel
    python bench/bench_grading.py --threads 2 --only student

The kernels inherit the thread variables set here (``_threads.pin_threads``).
"""
from __future__ import annotations

import argparse
import collections
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _threads import pin_threads  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=("instructor", "student"), default=None)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    pin_threads(args.threads)
    from cnnlib import classroom

    editions = {"instructor": classroom.CHAPTERS}
    tmp = tempfile.TemporaryDirectory(prefix="cnnbook-student-")
    if args.only != "instructor":
        classroom.write_student_edition(classroom.CHAPTERS, tmp.name)
        editions["student"] = pathlib.Path(tmp.name)
    if args.only == "student":
        editions.pop("instructor")
    print(f"threads per kernel: {args.threads}; CPUs: {os.cpu_count()}")
    for name, folder in editions.items():
        per_section, total, rows = collections.defaultdict(float), 0.0, []
        for nb in classroom._notebooks([folder]):
            t0 = time.perf_counter()
            nb_rows = classroom.grade_notebook(nb, timeout=args.timeout)
            seconds = time.perf_counter() - t0
            rows += nb_rows
            rel = nb.relative_to(folder)
            section = rel.parts[0] if len(rel.parts) > 1 else rel.stem
            per_section[section] += seconds
            total += seconds
            passed, graded = classroom.score(nb_rows)
            print(f"  {name:<10} {str(rel):<48} {seconds:6.1f} s  {passed}/{graded} passed")
        passed, graded = classroom.score(rows)
        statuses = collections.Counter(r.status for r in rows)
        print(f"{name}: {total:.0f} s in all ({total / 60:.1f} min); {passed}/{graded} passed; {dict(statuses)}")
        for section, seconds in per_section.items():
            print(f"  {section:<20} {seconds:6.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
