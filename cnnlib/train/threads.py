"""How many CPU threads torch uses for training: chosen by the page, not left to chance."""
from __future__ import annotations

import contextlib
import os

import torch

from .._validation import positive_int

__all__ = ["available_cpus", "use_threads", "threads_while_training"]


def available_cpus() -> int:
    """The CPUs this process may use: its CPU affinity, cut to the container's quota (cgroup v2 ``cpu.max``).

    Examples
    --------
    >>> available_cpus() >= 1
    True
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        cpus = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def use_threads(n: int | None = None, *, verbose: bool = True) -> int:
    """Set the number of CPU threads torch computes with (``torch.set_num_threads``), and say so.

    Parameters
    ----------
    n : int, optional
        The number of threads. ``None`` (the default) chooses: the CPUs this process may use
        (:func:`available_cpus`, or ``OMP_NUM_THREADS`` when it is set, as the book's
        ``Makefile`` does), less those that other processes keep busy (the one-minute load
        average, rounded), and at least one.
    verbose : bool
        Print one line with the choice and why.

    Returns
    -------
    int
        The number of threads now in use.

    Notes
    -----
    More threads than free cores makes training *slower*, not a little less fast: the threads
    of one operation wait for each other at its end, and a thread that shares its core with
    another process arrives late every time. On the book's 2-core build machine, loaded by
    other jobs, two threads trained LeNet-5 several times slower than one; on an idle 2-core
    machine two threads are faster (``bench/quick_lenet_search.py``, part B). Hence the rule:
    two or more threads only where they have cores to themselves.

    Examples
    --------
    >>> use_threads(1)
    torch uses 1 CPU thread (asked for).
    1
    >>> use_threads(verbose=False) >= 1
    True
    """
    if n is not None:
        n = positive_int(n, "n")
        why = "asked for"
    else:
        env = os.environ.get("OMP_NUM_THREADS", "").strip()
        limit = int(env) if env.isdigit() and int(env) > 0 else available_cpus()
        limit = min(limit, available_cpus())
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        n = max(1, min(limit, available_cpus() - round(load)))
        cpus = available_cpus()  # kept short: the line must fit an output box of the book (tests/browser)
        why = (f"{cpus} CPU{'s' if cpus > 1 else ''}" + (f", OMP_NUM_THREADS={env}" if env else "")
               + f", load average {load:.1f}")
    torch.set_num_threads(n)
    if verbose:
        print(f"torch uses {n} CPU thread{'s' if n > 1 else ''} ({why}).")
    return n


@contextlib.contextmanager
def threads_while_training():
    """Within the ``with`` block, one thread per free core (:func:`use_threads`, silently); the
    caller's thread count comes back afterwards, even on an error.

    For library functions that may have to train (``trained_lenet5`` and the ``trained_*``
    functions of :mod:`cnnlib.recipes`): a page that calls one on busy cores before the weights
    are cached does not crawl, and its own thread setting is left as it was.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with threads_while_training() as n:
    ...     n >= 1
    True
    >>> torch.get_num_threads() == before
    True
    """
    callers_threads = torch.get_num_threads()
    try:
        yield use_threads(verbose=False)
    finally:
        torch.set_num_threads(callers_threads)
