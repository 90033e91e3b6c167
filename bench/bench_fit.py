"""Time cnnlib.train.fit against a textbook PyTorch training loop (images per second).

Both train the same network (cnnlib.models.lenet5, same initial weights) on the same MNIST
images with the same optimiser (Adam), batch size and number of epochs. The textbook loop is
what most tutorials write: a DataLoader over a TensorDataset (shuffle=True), float32, default
settings, and ``loss.item()`` / ``.sum().item()`` after every batch to track the loss and
accuracy. ``fit`` indexes pre-loaded tensors with one permutation per epoch, keeps the data on
the GPU, and there uses mixed precision, channels-last tensors and cuDNN autotuning.

Usage (from the repository root)::

    python bench/bench_fit.py                 # CPU, and CUDA/MPS when present
    python bench/bench_fit.py --threads 4 --epochs 3 --repeats 3

Each method first runs one untimed warm-up epoch; then each timed run alternates between the
two methods and the best run of each is kept (the least disturbed by other processes).
Thread counts are set before torch is imported and printed with the results.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch, OpenMP and MKL (default 1)")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per run (default 2)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=2, help="timed runs per method; the best is kept (default 2)")
    p.add_argument("--devices", default="all", help="comma-separated: cpu,cuda,mps or 'all' (default)")
    p.add_argument("--max-images", type=int, default=60000, help="cap on the number of training images")
    p.add_argument("--race", action="store_true",
                   help="instead: time to 99%% test accuracy on the full MNIST for a grid of settings (a GPU)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per setting in --race (default 3)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    return p.parse_args(argv)


ARGS = parse_args()
# Thread counts must be fixed before torch (and its OpenMP/MKL runtimes) is imported.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import copy  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from cnnlib import data, models, train  # noqa: E402

torch.set_num_threads(ARGS.threads)


def textbook_epochs(model, X, y, *, epochs, batch_size, device, lr=1e-3):
    """The loop of a typical tutorial: DataLoader, fp32, .item() after every batch."""
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        total, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += (out.argmax(1) == yb).sum().item()
            seen += len(yb)
    return total / seen, correct / seen


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_device(device, ds, model0):
    n = len(ds)
    X, y = ds.images, ds.labels
    methods = {"textbook loop": lambda m, epochs: textbook_epochs(
        m, X, y, epochs=epochs, batch_size=ARGS.batch_size, device=device)}
    if device.type == "cuda":  # fit's ordinary step and its CUDA-graph step, side by side
        methods["fit (eager step)"] = lambda m, epochs: train.fit(
            m, ds, epochs=epochs, batch_size=ARGS.batch_size, device=device, progress=False, cuda_graph=False)
        methods["fit (CUDA graph)"] = lambda m, epochs: train.fit(
            m, ds, epochs=epochs, batch_size=ARGS.batch_size, device=device, progress=False, cuda_graph=True)
    else:
        methods["cnnlib.train.fit"] = lambda m, epochs: train.fit(
            m, ds, epochs=epochs, batch_size=ARGS.batch_size, device=device, progress=False)
    runs = {k: [] for k in methods}
    # warm-up (allocators, cuDNN autotuning, lazy initialisation): one epoch each, untimed
    for fn in methods.values():
        fn(copy.deepcopy(model0), 1)
    for _ in range(ARGS.repeats):
        for name, fn in methods.items():
            m = copy.deepcopy(model0)
            runs[name].append(timed(lambda: fn(m, ARGS.epochs)))
    # images actually trained per epoch (the graph step leaves out the last incomplete batch)
    per_epoch = {k: (n // ARGS.batch_size) * ARGS.batch_size if "graph" in k else n for k in methods}
    speed = {k: per_epoch[k] * ARGS.epochs / min(v) for k, v in runs.items()}
    for k, v in speed.items():
        print(f"  {k:<18} {v:>10,.0f} images/s   (best of {ARGS.repeats}: {min(runs[k]):.3f} s for {ARGS.epochs} epochs)")
    ratios = {k: speed[k] / speed["textbook loop"] for k in speed if k != "textbook loop"}
    for k, r in ratios.items():
        print(f"  ratio {k} / textbook loop: {r:.2f}x")
    return speed, ratios


# (batch size, peak learning rate, epochs) tried by --race: AdamW, one-cycle, LeNet-5
RACE = [(512, 1e-2, 8), (512, 1e-2, 6), (1024, 2e-2, 8), (1024, 2e-2, 6), (256, 6e-3, 5)]


def race(device, train_set, test_set):
    """Seconds of training until the official test accuracy first reaches 99%, per setting and seed."""
    results = []
    # warm-up: the first CUDA context, cuDNN's choices and the allocator, untimed
    train.fit(models.lenet5(), train_set, epochs=1, batch_size=512, device=device, progress=False)
    for batch, lr, epochs in RACE:
        for seed in range(ARGS.seeds):
            torch.manual_seed(seed)
            model = models.lenet5()
            h = train.fit(model, train_set, test_set, epochs=epochs, batch_size=batch, lr=lr, optimizer="adamw",
                          weight_decay=0.01, schedule="onecycle", device=device, seed=seed, progress=False)
            elapsed = [sum(h.seconds[:i + 1]) for i in range(h.epochs)]
            first = next((i for i, a in enumerate(h.val_accuracy) if a >= 0.99), None)
            row = dict(batch=batch, lr=lr, epochs=epochs, seed=seed, step=h.step, final=h.val_accuracy[-1],
                       seconds=elapsed[-1], first_99_epoch=None if first is None else first + 1,
                       first_99_seconds=None if first is None else elapsed[first],
                       images_per_second=h.images_per_second)
            results.append(row)
            to99 = "never" if first is None else f"after epoch {first + 1} at {elapsed[first]:.3f} s"
            print(f"  batch {batch:>4}, lr {lr:g}, {epochs} epochs, seed {seed}: test {h.val_accuracy[-1]:.4f} "
                  f"in {elapsed[-1]:.3f} s ({h.images_per_second:,.0f} images/s, {h.step}); >= 99% {to99}")
    return results


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def main():
    if ARGS.race:
        import json
        device = train.get_device()
        name = torch.cuda.get_device_name() if device.type == "cuda" else device.type
        print(f"race to 99% on the official MNIST test set; {name}; torch {torch.__version__}")
        results = race(device, data.load_mnist(train=True), data.load_mnist(train=False))
        if ARGS.json:
            with open(ARGS.json, "w") as fh:
                json.dump(dict(device=name, torch=torch.__version__, results=results), fh, indent=1)
        return
    ds = data.load_mnist(train=True)
    if len(ds) > ARGS.max_images:
        ds = ds.subset(torch.arange(ARGS.max_images))
    torch.manual_seed(0)
    model0 = models.lenet5()
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    if ARGS.devices != "all":
        devices = [d for d in devices if d in ARGS.devices.split(",")]
    print(f"python {platform.python_version()}, torch {torch.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} logical CPUs visible")
    print(f"threads: torch.get_num_threads()={torch.get_num_threads()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
          f"MKL_NUM_THREADS={os.environ['MKL_NUM_THREADS']}")
    print(f"model: cnnlib.models.lenet5 ({train.count_trainable(model0):,} parameters); data: {ds.source}")
    print(f"{len(ds):,} images, batch size {ARGS.batch_size}, {ARGS.epochs} timed epochs per run, Adam lr 1e-3")
    for device in devices:
        name = torch.cuda.get_device_name() if device == "cuda" else cpu_name() if device == "cpu" else device
        print(f"\n[{device}] {name}")
        bench_device(torch.device(device), ds, model0)


if __name__ == "__main__":
    main()
