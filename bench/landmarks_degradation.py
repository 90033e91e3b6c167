"""The degradation experiment of page 6.5.2 in its full setting (QUICK = False), as a script.

Plain and residual small-image networks (``cnnlib.models.resnet(depth, residual=...)``) trained
identically on MNIST digits averaged down to 8 x 8 (SGD with Nesterov momentum, batch 50, constant
rate 0.05 by default), several seeds each; prints the final training error per run, its mean and
spread, how much the seed-mean error moved over the last fifth of the iterations (each end the
mean of three epochs; "flat" below 2 percentage points, the page's criterion), and the seconds
and CPU seconds each run took (timings stay here, out of the book's pages).

    PYTHONPATH=. python3 bench/landmarks_degradation.py            # the page's full setting
    PYTHONPATH=. python3 bench/landmarks_degradation.py --quick    # the page's CPU setting
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib import data, models, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the page's CPU setting")
    parser.add_argument("--device", default=None, help="default: train.get_device()")
    parser.add_argument("--json", default=None, help="write the results to this file")
    parser.add_argument("--schedule", default="constant", choices=train.SCHEDULES, help="learning-rate schedule")
    parser.add_argument("--epochs", type=int, default=None, help="override the setting's epochs")
    parser.add_argument("--lr", type=float, default=0.05, help="(peak) learning rate")
    parser.add_argument("--n-train", type=int, default=None, help="override the setting's number of images")
    parser.add_argument("--batch-size", type=int, default=None, help="override the setting's batch size")
    parser.add_argument("--depths", type=int, nargs="+", default=None, help="override the setting's depths")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else train.get_device()
    mnist = data.load_mnist(train=True, verbose=False)
    if args.quick:  # the page's QUICK setting
        depths, seeds, n_train, width, epochs = (8, 14, 20), (0, 1), 600, 4, 12
    else:
        depths, seeds, n_train, width, epochs = (8, 20, 32, 44, 56), (0, 1, 2), 5000, 16, 24
    epochs = args.epochs or epochs
    depths = tuple(args.depths) if args.depths else depths
    batch_size = args.batch_size or 50
    n_train = args.n_train or n_train
    X = F.adaptive_avg_pool2d(mnist.images[:n_train], 8)
    X = (X - X.mean()) / X.std()
    y = mnist.labels[:n_train]
    print(f"device {device}; {mnist.source}; schedule {args.schedule}, lr {args.lr}; {n_train} images; batch {batch_size}; depths {depths}; "
          f"seeds {seeds}; width {width}; {epochs} epochs", flush=True)
    results = {}
    for residual in (False, True):
        for depth in depths:
            errs, curves, secs, cpu = [], [], [], []
            for seed in seeds:
                train.set_seed(seed)
                model = models.resnet(depth, in_channels=1, width=width, residual=residual)
                start, start_cpu = time.perf_counter(), time.process_time()
                h = train.fit(model, (X, y), epochs=epochs, batch_size=batch_size, lr=args.lr, optimizer="sgd",
                              schedule=args.schedule, device=device, seed=seed, progress=False)
                secs.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
                errs.append(1 - h.train_accuracy[-1])
                curves.append(1 - np.array(h.train_accuracy))
            curve = np.mean(curves, axis=0)
            k = max(1, round(len(curve) / 5))  # as the page: each end the mean of three epochs
            change = curve[-3:].mean() - curve[-k - 3:-k].mean()
            name = f"{'residual' if residual else 'plain'}-{depth}"
            a = np.array(errs)
            results[name] = {"error": errs, "error_change_last_fifth": change, "seconds": secs, "cpu_seconds": cpu,
                             "curves": [c.tolist() for c in curves]}
            print(f"{name:<12} error " + " ".join(f"{v:.3f}" for v in errs)
                  + f"   mean {a.mean():.3f} (min {a.min():.3f}, max {a.max():.3f}); change over the last fifth "
                  + f"{change:+.3f} ({'flat' if abs(change) < 0.02 else 'moving'}); {np.mean(secs):.1f} s "
                  + f"({np.mean(cpu):.1f} CPU s) per run", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
