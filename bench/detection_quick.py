"""The quick run of page 6.6.4 (issues 23 and 20): which setting trains the best GridDetector in the page's budget?

Every setting is chosen on the **validation scenes** (500 scenes of their own seed,
``cnnlib.recipes.detection.VAL_SEED``), never on the test scenes: each candidate is trained (seed
0 unless ``--seeds``) and scored on the validation scenes by AP@0.5 (classes ignored) and
mAP@[.5:.95], decoded with and without mirror averaging at test time (``mirror``) and at NMS
IoU thresholds 0.4, 0.5 and 0.6. ``--test`` scores the page's chosen setting on the test scenes
too: run it once, after the choice. One thread (``OMP_NUM_THREADS=1``, as the Makefile sets);
``cpu s`` is the process CPU time of the training (load-independent), ``wall s`` its wall time,
the load average printed beside it.

Usage (from the repository root)::

    python bench/detection_quick.py                       # every candidate, seed 0
    python bench/detection_quick.py --only page --seeds 0,1 --test
    python bench/detection_quick.py --smoke               # tiny: checks the script runs

Measured (3 December 2026, seed 0, one thread, load 8-14: ``cpu s`` is the training's CPU time;
validation AP@0.5 / mAP@[.5:.95] at NMS 0.5, one view and mirror-averaged at test time):

| candidate | training images x epochs | cpu s | one view | mirror-averaged |
| --- | --- | --- | --- | --- |
| old-page (no mirrors) | 2,000 x 12 | ~30 | 0.806 / 0.367 | 0.840 / 0.421 |
| n2000-e6 | 4,000 x 6 | 31.3 | 0.829 / 0.399 | 0.843 / 0.436 |
| n2000-e8 | 4,000 x 8 | 39.4 | 0.835 / 0.411 | - |
| n2000-e6-posw3 (omega_+ = 3) | 4,000 x 6 | 28.8 | 0.811 / 0.383 | 0.832 / 0.421 |
| n2000-e6-lr1e-2 (peak 0.01) | 4,000 x 6 | 26.5 | 0.815 / 0.372 | 0.835 / 0.415 |
| **page** (n3000-e5) | 6,000 x 5 | 35.5 | **0.849** / 0.427 | **0.872** / 0.467 |

Chosen: 3,000 scenes and their mirrors, 5 epochs (the best validation AP@0.5 within the page's
budget of about 35 s of training per seed), omega_+ = 5 (3 is worse), peak rate 0.02 (0.01 is worse); on the
page, the decoding (mirror averaging, NMS threshold) is chosen again on the validation scenes.
The batch size (64) and AdamW with weight decay 0.05 come from this script's earlier search,
which scored on the test scenes before the validation split existed.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _threads import pin_threads  # noqa: E402

pin_threads(1)

import torch  # noqa: E402

from cnnlib import boxes, scenes, train  # noqa: E402
from cnnlib.models import detection  # noqa: E402
from cnnlib.recipes import detection as recipe  # noqa: E402

PAGE = dict(n=3000, mirror=True, **{k: v for k, v in recipe.detection_recipe(True).items() if k != "loss_fn"})
# name: changes to the page's setting (n = training scenes before mirroring; mirror = train on the mirrors too;
# loss = keywords of detection_loss other than the page's omega_+ = 5 and lambda = 5)
CANDIDATES = {
    "page": {},  # 3,000 scenes and their mirrors, 5 epochs
    "old-page": dict(n=2000, mirror=False, epochs=12),
    "n2000-e6": dict(n=2000, epochs=6),  # the old page's training cost, with mirrors
    "n2000-e8": dict(n=2000, epochs=8),
    "n2000-e6-posw3": dict(n=2000, epochs=6, loss=dict(positive_weight=3.0)),
    "n2000-e6-lr1e-2": dict(n=2000, epochs=6, lr=0.01),
}
NMS = (0.4, 0.5, 0.6)


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def scores(dets, dataset):
    truth, classes = detection.object_boxes(dataset.objects)
    b, s, c = ([d[k] for d in dets] for k in range(3))
    return (boxes.average_precision(b, s, truth, 0.5),
            boxes.mean_average_precision(b, s, c, truth, classes, boxes.COCO_THRESHOLDS))


def run(name, cfg, seed, val_set, test_set):
    train_set = scenes.shape_scenes(cfg["n"], seed=recipe.TRAIN_SEED, **recipe.SCENE)
    if cfg["mirror"]:
        data, anchor = recipe.training_data(train_set)
    else:
        anchor = recipe.anchor_size(train_set.objects)
        data = (train_set.images, detection.encode_targets(train_set.objects, size=recipe.SIZE, grid=recipe.GRID,
                                                           anchor=anchor))
    fit = {k: v for k, v in cfg.items() if k not in ("n", "mirror", "loss")}
    weights = {"positive_weight": recipe.POSITIVE_WEIGHT, "box_weight": recipe.BOX_WEIGHT, **cfg.get("loss", {})}
    loss_fn = functools.partial(detection.detection_loss, **weights) if "loss" in cfg else recipe.loss
    train.set_seed(seed)
    model = recipe.detector(True)
    cpu, wall = time.process_time(), time.perf_counter()
    train.fit(model, data, loss_fn=loss_fn, device="cpu", seed=seed, progress=False, **fit)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sets = {"val": val_set, **({"TEST": test_set} if test_set is not None else {})}
    for set_name, dataset in sets.items():
        for mirror in (False, True):
            outputs = detection.detector_outputs(model, dataset.images, mirror=mirror)
            cells = []
            for nms in NMS:
                ap, m = scores(detection.decode_detections(outputs, size=recipe.SIZE, anchor=anchor,
                                                           score_threshold=0.01, nms_threshold=nms), dataset)
                cells.append(f"nms {nms}: {ap:.3f} / {m:.3f}")
            print(f"{name:18s} seed {seed} {set_name:4s} mirror {mirror!s:5s} | " + " | ".join(cells)
                  + f" | cpu {cpu:.1f} s, wall {wall:.1f} s ({load()})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--test", action="store_true", help="score on the test scenes too (the chosen setting only)")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("threads:", torch.get_num_threads(), "OMP_NUM_THREADS =", os.environ["OMP_NUM_THREADS"], load())
    print("cells: AP@0.5 (classes ignored) / mAP@[.5:.95]")
    n_eval = 32 if args.smoke else recipe.N_VAL
    val_set = scenes.shape_scenes(n_eval, seed=recipe.VAL_SEED, **recipe.SCENE)
    test_set = scenes.shape_scenes(n_eval, seed=recipe.TEST_SEED, **recipe.SCENE) if args.test else None
    for name in (args.only.split(",") if args.only else list(CANDIDATES)):
        cfg = {**PAGE, **CANDIDATES[name]}
        if args.smoke:
            cfg.update(n=64, epochs=1)
        print(name, json.dumps(cfg), flush=True)
        for seed in (int(s) for s in args.seeds.split(",")):
            run(name, cfg, seed, val_set, test_set)


if __name__ == "__main__":
    main()
