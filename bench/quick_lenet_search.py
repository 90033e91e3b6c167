"""The quick LeNet-5 recipe (issue 20): which CPU setting reaches 99% on MNIST's test set fastest?

Three parts, all in one process so that they share the machine's load:

A. **Recipes.** LeNet-5 trained by ``cnnlib.train.fit`` (AdamW, weight decay 0.01, one-cycle
   schedule, seed 0) for each candidate batch size, peak rate, number of epochs and training
   set (the book's 55,000 training digits, or the old quick run's 10,000). After every epoch
   the official 10,000 test digits are scored (``fit``'s validation pass, not timed): the table
   gives the epoch at which the test accuracy first reaches 99%, the training seconds up to
   then, the training seconds in all and the final test accuracy. The first row is the
   issue's reference (batch 128, lr 3e-3, 5 epochs on 55,000).
B. **Speed options**, which do not change what is learned, only how fast: threads (1 or 2),
   the channels-last layout, and bfloat16 autocast (through a wrapper: ``fit`` uses autocast
   on CUDA only). Each option trains ``--steps`` mini-batches; the options take turns, round
   after round (``--rounds``), and the median of the rounds is kept, so a change of load
   between them hits all alike. Seconds per epoch = steps-per-epoch x median seconds per step.
C. **Seeds.** The chosen recipe (``cnnlib.models.lenet5_recipe(True)``, the one the book uses)
   with seeds 0, 1, 2 (the initial weights and the shuffling).

Usage (from the repository root)::

    python bench/quick_lenet_search.py                     # everything (about half an hour on 2 busy cores)
    python bench/quick_lenet_search.py --parts B --rounds 5
    python bench/quick_lenet_search.py --smoke             # a few hundred images: checks the script runs

Threads: ``OMP_NUM_THREADS`` and friends are set to 2 before torch is imported (so that a
second thread exists), and ``torch.set_num_threads`` picks 1 or 2 for each run; parts A and C
use ``--threads`` (default 1). The load average is printed at the start and at the end.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _threads import pin_threads  # noqa: E402

pin_threads(2)

import time  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from cnnlib import data, models, train  # noqa: E402

#: (label, training set, batch size, peak rate, epochs); the first is the issue's reference.
RECIPES = [
    ("reference", "55k", 128, 3e-3, 5),
    ("", "55k", 128, 3e-3, 3),
    ("", "55k", 128, 3e-3, 4),
    ("", "55k", 256, 5e-3, 3),
    ("", "55k", 256, 5e-3, 4),
    ("", "55k", 256, 1e-2, 3),
    ("book's quick run", "55k", 256, 1e-2, 4),
    ("", "55k", 512, 1e-2, 3),
    ("", "55k", 512, 1e-2, 4),
    ("", "55k", 128, 5e-3, 2),
    ("old quick run", "10k", 64, 3e-3, 10),
]

#: (label, batch size, threads, channels_last, bfloat16) for part B.
SPEED_OPTIONS = [
    ("1 thread", 128, 1, False, False),
    ("1 thread, channels_last", 128, 1, True, False),
    ("2 threads", 128, 2, False, False),
    ("2 threads, channels_last", 128, 2, True, False),
    ("1 thread, channels_last, bf16 autocast", 128, 1, True, True),
    ("1 thread, channels_last", 64, 1, True, False),
    ("1 thread, channels_last", 256, 1, True, False),
    ("2 threads, channels_last", 256, 2, True, False),
    ("1 thread, channels_last", 512, 1, True, False),
]


class BF16(nn.Module):
    """Runs the wrapped network under bfloat16 autocast on the CPU (float32 logits out)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.net(x).float()


def load_average() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def recipe_run(train_set, test_set, batch, lr, epochs, *, seed=0, threads=1, channels_last=True):
    torch.set_num_threads(threads)
    train.set_seed(seed)
    model = models.lenet5()
    h = train.fit(model, train_set, test_set, epochs=epochs, batch_size=batch, lr=lr, optimizer="adamw",
                  weight_decay=0.01, schedule="onecycle", device="cpu", seed=seed, progress=False,
                  channels_last=channels_last)
    elapsed, reached = 0.0, None
    for epoch, (s, acc) in enumerate(zip(h.seconds, h.val_accuracy), start=1):
        elapsed += s
        if reached is None and acc >= 0.99:
            reached = (epoch, elapsed)
    return dict(seconds=sum(h.seconds), per_epoch=statistics.median(h.seconds), reached=reached,
                final=h.val_accuracy[-1], accuracies=h.val_accuracy)


def part_a(sets, test_set, threads):
    print(f"\n## A. Recipes ({threads} thread(s), channels_last, seed 0; evaluation not timed)  [{load_average()}]")
    print("| recipe | training set | batch | peak lr | epochs | s/epoch | training s | first >= 99% "
          "(epoch: s) | final test accuracy |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for label, which, batch, lr, epochs in RECIPES:
        r = recipe_run(sets[which], test_set, batch, lr, epochs, threads=threads)
        first = f"{r['reached'][0]}: {r['reached'][1]:.1f} s" if r["reached"] else "not reached"
        print(f"| {label} | {len(sets[which]):,} | {batch} | {lr:g} | {epochs} | {r['per_epoch']:.1f} | "
              f"{r['seconds']:.1f} | {first} | {r['final']:.4f} |", flush=True)
        rows.append(r)
    return rows


def part_b(train_set, steps, rounds):
    print(f"\n## B. Speed options: {steps} steps each, {rounds} rounds taking turns, median  [{load_average()}]")
    X, y = train_set.images, train_set.labels
    times = {opt: [] for opt in SPEED_OPTIONS}
    for _ in range(rounds):
        for opt in SPEED_OPTIONS:
            _, batch, threads, cl, bf16 = opt
            torch.set_num_threads(threads)
            train.set_seed(0)
            net = models.lenet5()
            net = BF16(net) if bf16 else net
            # one warm-up epoch of 3 steps, then the timed epoch of `steps` steps
            train.fit(net, (X[: 3 * batch], y[: 3 * batch]), epochs=1, batch_size=batch, device="cpu",
                      progress=False, channels_last=cl)
            n = min(len(X), batch * steps)
            h = train.fit(net, (X[:n], y[:n]), epochs=1, batch_size=batch,
                          optimizer="adamw", weight_decay=0.01, device="cpu", progress=False, channels_last=cl)
            times[opt].append(h.seconds[0] / steps)
    print("| option | batch | median ms per step | images/s | s per epoch of 55,000 | runs (ms per step) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for opt, ts in times.items():
        label, batch = opt[0], opt[1]
        m = statistics.median(ts)
        per_epoch = m * -(-len(X) // batch)
        print(f"| {label} | {batch} | {1000 * m:.1f} | {batch / m:,.0f} | {per_epoch:.1f} | "
              f"{', '.join(f'{1000 * t:.0f}' for t in ts)} |", flush=True)
    return times


def part_c(train_set, test_set, threads):
    recipe = models.lenet5_recipe(True)
    print(f"\n## C. The chosen recipe, three seeds ({threads} thread(s))  [{load_average()}]")
    print({k: v for k, v in recipe.items() if k != "seed"})
    print("| seed | s/epoch | training s | first >= 99% (epoch: s) | final test accuracy |")
    print("| --- | --- | --- | --- | --- |")
    for seed in (0, 1, 2):
        r = recipe_run(train_set, test_set, recipe["batch_size"], recipe["lr"], recipe["epochs"], seed=seed,
                       threads=threads, channels_last=recipe.get("channels_last", False))
        first = f"{r['reached'][0]}: {r['reached'][1]:.1f} s" if r["reached"] else "not reached"
        print(f"| {seed} | {r['per_epoch']:.1f} | {r['seconds']:.1f} | {first} | {r['final']:.4f} |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="ABC", help="which parts to run (default ABC)")
    p.add_argument("--threads", type=int, default=1, choices=(1, 2), help="threads for parts A and C (default 1)")
    p.add_argument("--steps", type=int, default=60, help="timed steps per option in part B (default 60)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of part B (default 3)")
    p.add_argument("--smoke", action="store_true", help="tiny data and one epoch: only checks that it runs")
    args = p.parse_args(argv)

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {load_average()}")
    started = time.perf_counter()
    full, _, test_set = data.mnist_splits(False, verbose=False)
    small = full.subset(data.stratified_indices(full.labels, 1_000, seed=1))
    sets = {"55k": full, "10k": small}
    if args.smoke:
        global RECIPES, SPEED_OPTIONS
        sets = {k: v.subset(torch.arange(512)) for k, v in sets.items()}
        test_set = test_set.subset(torch.arange(256))
        RECIPES = [(label, which, batch, lr, 1) for label, which, batch, lr, _ in RECIPES[:2]]
        SPEED_OPTIONS = SPEED_OPTIONS[:2]
        args.steps, args.rounds = 2, 1
    if "A" in args.parts:
        part_a(sets, test_set, args.threads)
    if "B" in args.parts:
        part_b(sets["55k"], args.steps, args.rounds)
    if "C" in args.parts:
        part_c(sets["55k"], test_set, args.threads)
    print(f"\ntotal {time.perf_counter() - started:.0f} s; at the end: {load_average()}")


if __name__ == "__main__":
    main()
