"""Forward time of the Section 6.5 landmark networks for one image (timings stay here, out of the pages).

For each network of page 6.5's table: parameters and multiply-accumulates (``counting.macs``),
then the median time of a forward pass on one image (after warm-up) on the chosen device,
and the multiply-accumulates per second that this implies.

    PYTHONPATH=. python3 bench/landmarks_forward.py                      # train.get_device()
    PYTHONPATH=. python3 bench/landmarks_forward.py --device cpu --threads 1
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from cnnlib import counting, models, train

LANDMARKS = [
    ("LeNet-5", lambda: models.lenet5(), (1, 28, 28)),
    ("AlexNet", lambda: models.alexnet(), (3, 224, 224)),
    ("VGG19", lambda: models.vgg19(), (3, 224, 224)),
    ("GoogLeNet", lambda: models.googlenet(), (3, 224, 224)),
    ("ResNet-18", lambda: models.resnet(18), (3, 224, 224)),
    ("ResNet-34", lambda: models.resnet(34), (3, 224, 224)),
    ("EfficientNet-B0", lambda: models.efficientnet(0), (3, 224, 224)),
    ("EfficientNet-Lite0", lambda: models.efficientnet(0, lite=True, padding="same"), (3, 224, 224)),
]


def time_forward(model, x, repeats: int) -> float:
    """Median seconds of ``model(x)`` over ``repeats`` runs after three warm-up runs."""
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    times = []
    with torch.no_grad():
        for i in range(repeats + 3):
            sync()
            start = time.perf_counter()
            model(x)
            sync()
            if i >= 3:
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else train.get_device()
    print(f"device {device}, {torch.get_num_threads()} CPU threads, batch of 1, median of {args.repeats}")
    print(f"{'network':<20} {'parameters':>12} {'MACs':>15} {'ms':>9} {'GMAC/s':>8}")
    for name, build, shape in LANDMARKS:
        torch.manual_seed(0)
        model = build().eval().to(device)
        macs = counting.macs(model, shape).total
        seconds = time_forward(model, torch.randn(1, *shape, device=device), args.repeats)
        params = sum(p.numel() for p in model.parameters())
        print(f"{name:<20} {params:>12,} {macs:>15,} {1e3 * seconds:>9.2f} {macs / seconds / 1e9:>8.1f}", flush=True)
        del model


if __name__ == "__main__":
    main()
