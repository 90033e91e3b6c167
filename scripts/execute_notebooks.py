"""Execute the book's notebooks in parallel into Jupyter Book's execution cache.

Jupyter Book 1.x executes the notebooks of a build one after another. With ``execute_notebooks:
cache`` (our ``_config.yml``) it first looks each notebook up in ``_build/.jupyter_cache`` and
only runs the ones it does not find. This script fills that cache with several notebooks at a
time, each in its own kernel, exactly as myst-nb would run them (the same
``jupyter_cache.executors.utils.single_nb_execution``, the notebook's folder as working directory,
the time-out of ``_config.yml``), so that the build that follows finds every notebook cached.
On the 2-core CI machine, with ``OMP_NUM_THREADS=1`` (the Makefile's), two at a time halve the
build's execution time.

    python scripts/execute_notebooks.py              # every notebook of _toc.yml, os.cpu_count() at a time
    python scripts/execute_notebooks.py --jobs 1     # one at a time (what the build alone would do)

A notebook that fails is reported with its traceback and left out of the cache (the build then
runs it again and fails on it with ``-W``); the script's exit status is 1 when any failed.
Notebooks are started longest first (the times of the last run, kept in the cache, or the
order of ``LONG_FIRST`` on a clean build), so that the slowest page does not start last.
Pages that share trained weights (``train.cached_fit``) are safe to run at once: the cache
takes a lock per entry, and the second page waits for the first page's weights.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import sys
import time

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Pages that train (slowest first, as measured on 2 cores): started first on a clean build.
#: 6.4.2 trains the LeNet-5 that 6.4.4 and 6.4.6 reuse, so it goes first of all.
LONG_FIRST = (
    "chapters/6-4-cnn/2-training.ipynb",
    "chapters/6-6-beyond/3-segmentation.ipynb",
    "chapters/6-5-landmarks/2-residual.ipynb",
    "chapters/6-6-beyond/2-siamese.ipynb",
    "chapters/6-6-beyond/4-detection.ipynb",
    "chapters/6-6-beyond/5-landmarks-instances.ipynb",
    "chapters/6-6-beyond/1-localization.ipynb",
)


def toc_notebooks(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """Every ``.ipynb`` that ``_toc.yml`` names, in the book's order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found: list[pathlib.Path] = []

    def walk(entries):
        for entry in entries or ():
            if "file" in entry:
                path = root / (entry["file"] + ".ipynb")
                if path.exists():
                    found.append(path)
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk([{"file": toc["root"]}])
    walk(toc.get("chapters"))
    walk(toc.get("parts"))
    return found


def execution_settings(root: pathlib.Path = ROOT) -> tuple[int, bool]:
    """``(timeout, allow_errors)`` from ``_config.yml``'s ``execute`` section."""
    execute = yaml.safe_load((root / "_config.yml").read_text()).get("execute", {})
    if execute.get("run_in_temp", False):
        raise SystemExit("execute_notebooks.py runs notebooks in their own folder; _config.yml says run_in_temp")
    return int(execute.get("timeout", 30)), bool(execute.get("allow_errors", False))


def _run(path: str, timeout: int, allow_errors: bool) -> tuple[str, str, float, str | None]:
    """Execute one notebook in a fresh kernel (in a worker process); return it as JSON."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(pathlib.Path(path).parent), timeout=timeout,
                                 allow_errors=allow_errors, meta_override=True)
    return path, nbformat.writes(result.nb), result.time, result.exc_string if result.err else None


def _order(paths: list[pathlib.Path], cache, root: pathlib.Path) -> list[pathlib.Path]:
    """Longest first: the previous run's times where the cache has them, else LONG_FIRST."""
    previous = {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None and record.uri:
            previous[pathlib.Path(record.uri).resolve()] = max(seconds, previous.get(pathlib.Path(record.uri).resolve(), 0))
    rank = {(root / p).resolve(): len(LONG_FIRST) - i for i, p in enumerate(LONG_FIRST)}
    return sorted(paths, key=lambda p: (-previous.get(p.resolve(), 0), -rank.get(p, 0)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks run at once (default: the number of CPU cores)")
    parser.add_argument("--root", type=pathlib.Path, default=ROOT,
                        help="the book's folder (default: this repository); the cache is ROOT/_build/.jupyter_cache")
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to run (default: every notebook of _toc.yml)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = args.root.resolve()
    timeout, allow_errors = execution_settings(root)
    cache = get_cache(str(root / "_build" / ".jupyter_cache"))
    paths = [p.resolve() for p in args.notebooks] or toc_notebooks(root)
    todo = []
    for path in _order(paths, cache, root):
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    print(f"execute_notebooks: {len(paths) - len(todo)} of {len(paths)} notebooks already cached; "
          f"running {len(todo)}, {args.jobs} at a time", flush=True)
    failed = []
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_run, str(p), timeout, allow_errors) for p in todo]
        for future in concurrent.futures.as_completed(futures):
            path, text, seconds, error = future.result()
            name = os.path.relpath(path, root)
            if error is not None:
                failed.append(name)
                print(f"FAILED {name} after {seconds:.0f} s\n{error}", flush=True)
                continue
            # The build matches notebooks by their code and metadata, not by path; the uri is
            # what `jcache` lists.
            record = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(CacheBundleIn(nbformat.reads(text, as_version=4), record.uri,
                                                      data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            print(f"{seconds:6.0f} s  {name}", flush=True)
    print(f"execute_notebooks: {len(todo)} notebooks in {time.perf_counter() - start:.0f} s wall"
          + (f"; {len(failed)} failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
