"""The quick run of page 6.6.4 (issue 23): which setting trains the best GridDetector in the page's budget?

The page's scenes (48 px, 1-4 objects, textured backgrounds, distractors), its test set (500
scenes, seed 12) and its scores (AP@0.5 with the classes ignored, mAP@[.5:.95]). Part P
profiles the page's parts (scene generation, tuning the blob rule, one epoch, decoding and
scoring); part C trains each candidate setting (seed 0 unless ``--seeds``) and prints its
training seconds and scores. One thread (``OMP_NUM_THREADS=1``, as the Makefile sets); the load
average is printed at the start and at the end: timings on the shared machine scale with it.

Usage (from the repository root)::

    python bench/detection_quick.py                      # profile, then every candidate
    python bench/detection_quick.py --parts C --only page,chosen --seeds 0,1
    python bench/detection_quick.py --smoke              # tiny: checks the script runs
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _threads import pin_threads  # noqa: E402

pin_threads(1)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from cnnlib import boxes, scenes, train  # noqa: E402
from cnnlib.models import detection  # noqa: E402

SIZE = 48
SCENE = dict(size=SIZE, max_objects=4, empty=0.0, min_size=10, max_size=22)

# name: (training scenes, epochs, GridDetector keywords, fit keywords, loss keywords)
PAGE = dict(n=2000, epochs=12, net=dict(width=12), fit=dict(batch_size=32, lr=3e-3), loss={})
CANDIDATES = {
    "page": PAGE,
    "page-cl": {**PAGE, "fit": dict(batch_size=32, lr=3e-3, channels_last=True)},
    "b64-lr6e-3-cl": {**PAGE, "fit": dict(batch_size=64, lr=6e-3, channels_last=True)},
    "b64-adamw-1e-2-cl": {**PAGE, "fit": dict(batch_size=64, lr=1e-2, optimizer="adamw", weight_decay=0.05,
                                                 channels_last=True)},
    "posw3": {**PAGE, "fit": dict(batch_size=64, lr=6e-3, channels_last=True), "loss": dict(positive_weight=3.0)},
    "n4000-e6": {**PAGE, "n": 4000, "epochs": 6, "fit": dict(batch_size=64, lr=6e-3, channels_last=True)},
    "n6000-e4": {**PAGE, "n": 6000, "epochs": 4, "fit": dict(batch_size=64, lr=6e-3, channels_last=True)},
    "w8-extra": {**PAGE, "net": dict(width=8, extra=1), "fit": dict(batch_size=64, lr=6e-3, channels_last=True)},
    "w12-extra": {**PAGE, "net": dict(width=12, extra=1), "fit": dict(batch_size=64, lr=6e-3, channels_last=True)},
    "b128-lr1e-2-cl": {**PAGE, "fit": dict(batch_size=128, lr=1e-2, channels_last=True)},
    "posw5": {**PAGE, "fit": dict(batch_size=64, lr=6e-3, channels_last=True), "loss": dict(positive_weight=5.0)},
    "posw3-extra": {**PAGE, "net": dict(width=12, extra=1), "fit": dict(batch_size=64, lr=6e-3, channels_last=True),
                    "loss": dict(positive_weight=3.0)},
    "posw3-n4000-e8": {**PAGE, "n": 4000, "epochs": 8, "fit": dict(batch_size=64, lr=6e-3, channels_last=True),
                       "loss": dict(positive_weight=3.0)},
    "posw3-w16-extra-b128": {**PAGE, "net": dict(width=16, extra=1), "fit": dict(batch_size=128, lr=1e-2,
                             channels_last=True), "loss": dict(positive_weight=3.0)},
    "posw3-b128-lr1e-2": {**PAGE, "fit": dict(batch_size=128, lr=1e-2, channels_last=True),
                          "loss": dict(positive_weight=3.0)},
    "posw5-b128-lr1e-2": {**PAGE, "fit": dict(batch_size=128, lr=1e-2, channels_last=True),
                          "loss": dict(positive_weight=5.0)},
    "posw5-n3000-e8": {**PAGE, "n": 3000, "epochs": 8, "fit": dict(batch_size=64, lr=6e-3, channels_last=True),
                       "loss": dict(positive_weight=5.0)},
    "posw3-adamw": {**PAGE, "fit": dict(batch_size=64, lr=1e-2, optimizer="adamw", weight_decay=0.05,
                                          channels_last=True), "loss": dict(positive_weight=3.0)},
    "posw5-adamw": {**PAGE, "fit": dict(batch_size=64, lr=1e-2, optimizer="adamw", weight_decay=0.05,
                                          channels_last=True), "loss": dict(positive_weight=5.0)},
    "posw3-adamw-b128": {**PAGE, "fit": dict(batch_size=128, lr=1.5e-2, optimizer="adamw", weight_decay=0.05,
                                             channels_last=True), "loss": dict(positive_weight=3.0)},
    "posw8-adamw": {**PAGE, "fit": dict(batch_size=64, lr=1e-2, optimizer="adamw", weight_decay=0.05,
                                        channels_last=True), "loss": dict(positive_weight=8.0)},
    "posw5-adamw-lr2e-2": {**PAGE, "fit": dict(batch_size=64, lr=2e-2, optimizer="adamw", weight_decay=0.05,
                                               channels_last=True), "loss": dict(positive_weight=5.0)},
    "posw5-adamw-n3000": {**PAGE, "n": 3000, "fit": dict(batch_size=64, lr=1e-2, optimizer="adamw",
                                                         weight_decay=0.05, channels_last=True),
                          "loss": dict(positive_weight=5.0)},
    "posw5-adamw-lr3e-2": {**PAGE, "fit": dict(batch_size=64, lr=3e-2, optimizer="adamw", weight_decay=0.05,
                                               channels_last=True), "loss": dict(positive_weight=5.0)},
    "posw5-adamw-lr2e-2-n3000": {**PAGE, "n": 3000, "fit": dict(batch_size=64, lr=2e-2, optimizer="adamw",
                                                                weight_decay=0.05, channels_last=True),
                                 "loss": dict(positive_weight=5.0)},
    "chosen-box2": {**PAGE, "fit": dict(batch_size=64, lr=2e-2, optimizer="adamw", weight_decay=0.05,
                                        channels_last=True), "loss": dict(positive_weight=5.0, box_weight=2.0)},
    "chosen-box10": {**PAGE, "fit": dict(batch_size=64, lr=2e-2, optimizer="adamw", weight_decay=0.05,
                                         channels_last=True), "loss": dict(positive_weight=5.0, box_weight=10.0)},
    "chosen-e16": {**PAGE, "epochs": 16, "fit": dict(batch_size=64, lr=2e-2, optimizer="adamw", weight_decay=0.05,
                                                     channels_last=True), "loss": dict(positive_weight=5.0)},
}


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def make_scenes(n):
    return scenes.shape_scenes(n, seed=11, **SCENE), scenes.shape_scenes(500, seed=12, **SCENE)


def anchor_of(train_set):
    sizes = np.concatenate([np.sqrt(o[:, 3] * o[:, 4]) for o in train_set.objects])
    return float(np.exp(np.log(sizes).mean()))


def scores(dets, test_set):
    truth, classes = detection.object_boxes(test_set.objects)
    b, s, c = ([d[k] for d in dets] for k in range(3))
    return {"AP@0.5": boxes.average_precision(b, s, truth, 0.5),
            "mAP@[.5:.95]": boxes.mean_average_precision(b, s, c, truth, classes, boxes.COCO_THRESHOLDS)}


def profile(n):
    print("== P: where the page's time goes,", load())
    t = time.perf_counter()
    train_set, test_set = make_scenes(n)
    print(f"scenes ({n} + 500): {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    detection.tune_component_detections(train_set.images[:500], train_set.objects[:500])
    print(f"tune the blob rule on 500 scenes: {time.perf_counter() - t:.1f} s")
    anchor = anchor_of(train_set)
    targets = detection.encode_targets(train_set.objects, size=SIZE, grid=SIZE // 8, anchor=anchor)
    model = detection.GridDetector(width=12)
    t = time.perf_counter()
    train.fit(model, (train_set.images, targets), epochs=1, batch_size=32, lr=3e-3, loss_fn=detection.detection_loss,
              device="cpu", progress=False)
    print(f"one epoch (batch 32): {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    with torch.no_grad():
        dets = detection.decode_detections(model.eval()(test_set.images), size=SIZE, anchor=anchor, score_threshold=0.01)
    print(f"forward + decode 500 test scenes: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    scores(dets, test_set)
    print(f"AP@0.5 + mAP@[.5:.95]: {time.perf_counter() - t:.1f} s,", load())


def run(name, cfg, seed, data):
    train_set, test_set = data(cfg["n"])
    anchor = anchor_of(train_set)
    targets = detection.encode_targets(train_set.objects, size=SIZE, grid=SIZE // 8, anchor=anchor)
    train.set_seed(seed)
    model = detection.GridDetector(num_classes=2, **cfg["net"])
    loss_kw = cfg["loss"]
    loss_fn = (lambda o, t: detection.detection_loss(o, t, **loss_kw)) if loss_kw else detection.detection_loss
    t = time.perf_counter()
    train.fit(model, (train_set.images, targets), epochs=cfg["epochs"], schedule="onecycle", loss_fn=loss_fn,
              device="cpu", seed=seed, progress=False, **cfg["fit"])
    seconds = time.perf_counter() - t
    model.eval()
    with torch.no_grad():
        outputs = torch.cat([model(x) for x in test_set.images.split(250)])
    dets = detection.decode_detections(outputs, size=SIZE, anchor=anchor, score_threshold=0.01, nms_threshold=0.5)
    s = scores(dets, test_set)
    print(f"{name:22s} seed {seed}  train {seconds:6.1f} s  AP@0.5 {s['AP@0.5']:.3f}  "
          f"mAP@[.5:.95] {s['mAP@[.5:.95]']:.3f}  ({load()})", flush=True)
    return seconds, s


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="PC")
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("threads:", torch.get_num_threads(), "OMP_NUM_THREADS =", os.environ["OMP_NUM_THREADS"], load())
    cache = {}

    def data(n):
        n = 64 if args.smoke else n
        if n not in cache:
            cache.clear()
            cache[n] = make_scenes(n)
        return cache[n]

    if "P" in args.parts:
        profile(64 if args.smoke else 2000)
    if "C" in args.parts:
        names = args.only.split(",") if args.only else list(CANDIDATES)
        for name in names:
            cfg = dict(CANDIDATES[name])
            if args.smoke:
                cfg["epochs"] = 1
            for seed in (int(s) for s in args.seeds.split(",")):
                run(name, cfg, seed, data)


if __name__ == "__main__":
    main()
