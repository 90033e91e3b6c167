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
    runs = {"textbook loop": [], "cnnlib.train.fit": []}
    # warm-up (allocators, cuDNN autotuning, lazy initialisation): one epoch each, untimed
    textbook_epochs(copy.deepcopy(model0), X, y, epochs=1, batch_size=ARGS.batch_size, device=device)
    train.fit(copy.deepcopy(model0), ds, epochs=1, batch_size=ARGS.batch_size, device=device, progress=False)
    for _ in range(ARGS.repeats):
        m = copy.deepcopy(model0)
        runs["textbook loop"].append(timed(lambda: textbook_epochs(
            m, X, y, epochs=ARGS.epochs, batch_size=ARGS.batch_size, device=device)))
        m = copy.deepcopy(model0)
        runs["cnnlib.train.fit"].append(timed(lambda: train.fit(
            m, ds, epochs=ARGS.epochs, batch_size=ARGS.batch_size, device=device, progress=False)))
    speed = {k: n * ARGS.epochs / min(v) for k, v in runs.items()}
    for k, v in speed.items():
        print(f"  {k:<18} {v:>10,.0f} images/s   (best of {ARGS.repeats}: {min(runs[k]):.2f} s for {ARGS.epochs} epochs)")
    ratio = speed["cnnlib.train.fit"] / speed["textbook loop"]
    print(f"  ratio fit / textbook: {ratio:.2f}x")
    return speed, ratio


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
