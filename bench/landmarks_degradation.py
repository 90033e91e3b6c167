"""The degradation experiment of page 6.5.2 in its full setting (QUICK = False), as a script.

Plain and residual small-image networks (``cnnlib.models.resnet(depth, residual=...)``) trained
identically on scikit-learn's 8 x 8 digits (SGD with Nesterov momentum, batch 50, constant rate
0.05 by default), several seeds each; prints the final training error per run, its mean and
spread, how much the loss still fell over the last fifth of the iterations, and the seconds each
run took (timings stay here, out of the book's pages).

    PYTHONPATH=. python3 bench/landmarks_degradation.py            # the page's full setting
    PYTHONPATH=. python3 bench/landmarks_degradation.py --quick    # the page's CPU setting
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

from cnnlib import models, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the page's CPU setting")
    parser.add_argument("--device", default=None, help="default: train.get_device()")
    parser.add_argument("--json", default=None, help="write the results to this file")
    parser.add_argument("--schedule", default="constant", choices=train.SCHEDULES, help="learning-rate schedule")
    parser.add_argument("--epochs", type=int, default=None, help="override the setting's epochs")
    parser.add_argument("--lr", type=float, default=0.05, help="(peak) learning rate")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else train.get_device()
    digits = load_digits()
    X = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    X = (X - X.mean()) / X.std()
    y = torch.tensor(digits.target)
    if args.quick:  # the page's QUICK setting
        depths, seeds, n_train, width, epochs = (8, 20, 44), (0, 1, 2), 500, 4, 30
    else:
        depths, seeds, n_train, width, epochs = (8, 20, 32, 44, 56), (0, 1, 2, 3, 4), len(y), 16, 20
    epochs = args.epochs or epochs
    X, y = X[:n_train], y[:n_train]
    print(f"device {device}; schedule {args.schedule}, lr {args.lr}; {n_train} images; depths {depths}; seeds {seeds}; width {width}; {epochs} epochs",
          flush=True)
    results = {}
    for residual in (False, True):
        for depth in depths:
            errs, falls, secs = [], [], []
            for seed in seeds:
                train.set_seed(seed)
                model = models.resnet(depth, in_channels=1, width=width, residual=residual)
                start = time.perf_counter()
                h = train.fit(model, (X, y), epochs=epochs, batch_size=50, lr=args.lr, optimizer="sgd",
                              schedule=args.schedule, device=device, seed=seed, progress=False)
                secs.append(time.perf_counter() - start)
                errs.append(1 - h.train_accuracy[-1])
                loss = np.array(h.train_loss)
                k = max(1, len(loss) // 5)  # as the page: three epochs each, against the noise
                falls.append(1 - loss[-3:].mean() / loss[-k - 3:-k].mean())
            name = f"{'residual' if residual else 'plain'}-{depth}"
            a = np.array(errs)
            results[name] = {"error": errs, "loss_fall_last_fifth": falls, "seconds": secs}
            print(f"{name:<12} error " + " ".join(f"{v:.3f}" for v in errs)
                  + f"   mean {a.mean():.3f} (min {a.min():.3f}, max {a.max():.3f}); loss fall over the last fifth "
                  + f"{np.median(falls):.0%}; {np.mean(secs):.1f} s per run", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
