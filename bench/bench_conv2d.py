"""Time cnnlib.layers.conv2d (NumPy) against torch.nn.functional.conv2d on the same CPU thread.

The four settings of issue 8, part 5 (batch 8, float32, no padding):

1. 3 -> 16 channels, 64 x 64 input, 3 x 3 kernel;
2. 16 -> 32 channels, 32 x 32 input, 3 x 3 kernel;
3. 64 -> 64 channels, 32 x 32 input, 3 x 3 kernel, stride 2;
4. 3 -> 8 channels, 224 x 224 input, 5 x 5 kernel, dilation 2;

and the same four with zero padding (issue 20), as most of the book's layers have it: padding 1
for the first three, padding 2 for the last.

Goal: the NumPy layer at most 3x slower than PyTorch on the 3 x 3 settings and 6x on the
3 -> 8 channels at 224 x 224, with and without padding.

Usage (from the repository root)::

    python bench/bench_conv2d.py                   # 1 thread, best of 7
    python bench/bench_conv2d.py --threads 2 --repeats 15 --dtype float64

Thread counts are fixed before NumPy and torch are imported (their BLAS and OpenMP runtimes
read them once). Each function runs once untimed, then ``--repeats`` timed runs alternate
between the two; the best of each is kept (the run least disturbed by other processes) and
the ratio is NumPy time / PyTorch time. Both results are compared before timing.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="threads for BLAS, OpenMP and torch (default 1)")
    p.add_argument("--repeats", type=int, default=7, help="timed runs of each function; the best is kept")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    return p.parse_args(argv)


ARGS = parse_args()
sys.path.insert(0, os.path.dirname(__file__))
from _threads import pin_threads  # noqa: E402

pin_threads(ARGS.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from cnnlib import layers  # noqa: E402

torch.set_num_threads(ARGS.threads)

# (name, input shape N x C_in x H x W, kernel shape C_out x C_in x K_h x K_v, stride, dilation, goal)
UNPADDED = [
    ("3->16, 64x64, 3x3", (8, 3, 64, 64), (16, 3, 3, 3), 1, 1, 3.0),
    ("16->32, 32x32, 3x3", (8, 16, 32, 32), (32, 16, 3, 3), 1, 1, 3.0),
    ("64->64, 32x32, 3x3, stride 2", (8, 64, 32, 32), (64, 64, 3, 3), 2, 1, 3.0),
    ("3->8, 224x224, 5x5, dilation 2", (8, 3, 224, 224), (8, 3, 5, 5), 1, 2, 6.0),
]
# The same settings with zero padding (issue 20): 1 on each side for the 3 x 3 kernels, 2 for the 5 x 5.
# Each row: (name, x shape, W shape, padding, stride, dilation, goal).
SETTINGS = ([(name, x, w, 0, s, d, goal) for name, x, w, s, d, goal in UNPADDED]
            + [(f"{name}, padding {p}", x, w, p, s, d, goal)
               for (name, x, w, s, d, goal), p in zip(UNPADDED, (1, 1, 1, 2))])


def best_times(functions, repeats):
    """Best wall-clock time of each function, the timed runs interleaved."""
    for f in functions:
        f()  # warm-up: allocations, BLAS start-up
    best = [float("inf")] * len(functions)
    for _ in range(repeats):
        for i, f in enumerate(functions):
            start = time.perf_counter()
            f()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main():
    dtype = np.dtype(ARGS.dtype)
    print(f"cnnlib.layers.conv2d vs torch.nn.functional.conv2d | {dtype} | best of {ARGS.repeats}")
    print(f"threads {ARGS.threads} (OMP/MKL/OPENBLAS_NUM_THREADS, torch.get_num_threads() = {torch.get_num_threads()}) "
          f"| numpy {np.__version__} | torch {torch.__version__} | {platform.processor() or platform.machine()}")
    print(f"{'setting':45s} {'torch ms':>9s} {'numpy ms':>9s} {'ratio':>6s} {'goal':>5s}")
    rng = np.random.default_rng(0)
    all_met = True
    for name, x_shape, w_shape, padding, stride, dilation, goal in SETTINGS:
        x = rng.normal(size=x_shape).astype(dtype)
        w = rng.normal(size=w_shape).astype(dtype)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        kwargs = dict(padding=padding, stride=stride, dilation=dilation)
        ours = layers.conv2d(x, w, **kwargs)
        theirs = F.conv2d(xt, wt, **kwargs).numpy()
        tol = 1e-3 if dtype == np.float32 else 1e-9
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * np.abs(theirs).max())
        t_torch, t_numpy = best_times([lambda: F.conv2d(xt, wt, **kwargs),
                                       lambda: layers.conv2d(x, w, **kwargs)], ARGS.repeats)
        ratio = t_numpy / t_torch
        all_met &= ratio <= goal
        print(f"{name:45s} {t_torch * 1e3:9.2f} {t_numpy * 1e3:9.2f} {ratio:5.2f}x {goal:4.0f}x"
              f"{'' if ratio <= goal else '  (over the goal)'}")
    print("all goals met" if all_met else "some goals missed")


if __name__ == "__main__":
    main()
