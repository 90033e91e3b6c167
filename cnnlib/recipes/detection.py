"""The detector of page 6.6.4 (Object detection): its scenes, its model, its settings, trained once.

The page trains a :class:`cnnlib.models.detection.GridDetector` on scenes of
:func:`cnnlib.scenes.shape_scenes` (48 px, one to four shapes on textured photographs, with
distractors), each also seen mirrored left to right; it chooses the decoding on validation
scenes of their own seed and reports its scores on test scenes of a third seed. This module
holds all of that, so that the page and :func:`trained_detector` (used by the page that redraws
the chapter's Figure 6.16) build exactly the same data and network and reach the same entry of
:func:`cnnlib.train.cached_fit`.

Seeds of the three sets of scenes: :data:`TRAIN_SEED` (training), :data:`VAL_SEED` (validation:
every setting of the page and of ``bench/detection_quick.py`` is chosen on these) and
:data:`TEST_SEED` (test: scored once, with the chosen settings).
"""
from __future__ import annotations

import numpy as np
import torch

from .._validation import check_bool, nonnegative_int
from ..models import detection as _detection

__all__ = ["SIZE", "GRID", "SCENE", "TRAIN_SEED", "VAL_SEED", "TEST_SEED", "NAME", "POSITIVE_WEIGHT",
           "detection_scenes", "mirrored", "anchor_size", "training_data", "detector", "loss",
           "detection_recipe", "trained_detector"]

SIZE = 48            #: pixels per side of a scene
GRID = SIZE // 8     #: cells per side (cells of 8 pixels)
#: The page's scenes: one to four objects of 10 to 22 pixels, never an empty scene.
SCENE = dict(size=SIZE, max_objects=4, empty=0.0, min_size=10, max_size=22)
TRAIN_SEED, VAL_SEED, TEST_SEED = 11, 13, 12
N_VAL = N_TEST = 500
NAME = "detection-grid"  #: file names under data/weights: ``f"{NAME}-s{seed}-<key>"``
POSITIVE_WEIGHT = 5.0    #: omega_+ of the page's loss: the objectness weight of the cells that hold an object
BOX_WEIGHT = 5.0         #: lambda of the page's loss

#: Training scenes (before mirroring) and width of the first convolution, quick run / full run.
_SIZES = {True: dict(n_train=3_000, width=12), False: dict(n_train=20_000, width=32)}
_FIT = dict(batch_size=64, lr=0.02, optimizer="adamw", weight_decay=0.05, schedule="onecycle", channels_last=True)
_EPOCHS = {True: 5, False: 15}


def detection_scenes(quick: bool):
    """The page's training, validation and test scenes (:class:`cnnlib.scenes.SceneDataset`).

    Examples
    --------
    >>> train_set, val_set, test_set = detection_scenes(True)  # doctest: +SKIP
    """
    from .. import scenes

    check_bool(quick, "quick")
    return (scenes.shape_scenes(_SIZES[quick]["n_train"], seed=TRAIN_SEED, **SCENE),
            scenes.shape_scenes(N_VAL, seed=VAL_SEED, **SCENE), scenes.shape_scenes(N_TEST, seed=TEST_SEED, **SCENE))


def mirrored(images: torch.Tensor, objects):
    """The scenes mirrored left to right: images flipped along their width, boxes moved to match.

    An object ``(class, x, y, h, w)`` (top-left corner ``(x, y)``) of a scene ``S`` pixels wide
    lands at ``x' = S - x - w``; the other numbers stay. The classes survive the mirror (an
    ellipse stays an ellipse, an apex-up triangle stays apex-up); a flip upside down would not
    keep the triangles' class, so the page does not use one.

    Examples
    --------
    >>> images, objects = mirrored(torch.arange(4.0).reshape(1, 1, 1, 4), [np.array([[2, 0, 0, 1, 1]])])
    >>> images.flatten().tolist(), objects[0].tolist()
    ([3.0, 2.0, 1.0, 0.0], [[2.0, 3.0, 0.0, 1.0, 1.0]])
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a tensor of shape (N, C, H, W), got {getattr(images, 'shape', images)!r}")
    if len(objects) != len(images):
        raise ValueError(f"objects must hold one array per image ({len(images)}), got {len(objects)}")
    width = images.shape[-1]
    flipped = []
    for o in objects:
        o = np.asarray(o, dtype=float).reshape(-1, 5)
        flipped.append(np.column_stack([o[:, 0], width - o[:, 1] - o[:, 4], o[:, 2:]]))
    return images.flip(-1), flipped


def anchor_size(objects) -> float:
    """The anchor A: the geometric mean over the objects of :math:`\\sqrt{h w}`, in pixels.

    Examples
    --------
    >>> anchor_size([np.array([[1, 0, 0, 4, 4], [2, 0, 0, 16, 16]])])
    8.0
    """
    sizes = np.concatenate([np.sqrt(np.asarray(o, dtype=float).reshape(-1, 5)[:, 3]
                                    * np.asarray(o, dtype=float).reshape(-1, 5)[:, 4]) for o in objects])
    return float(np.exp(np.log(sizes).mean()))


def training_data(train_set):
    """The training pair (images, targets) and the anchor: the scenes and their mirror images.

    Returns
    -------
    (images, targets) : tuple of Tensor
        ``2 N`` images (the scenes, then their mirrors) and their targets
        (:func:`cnnlib.models.detection.encode_targets`).
    anchor : float
        :func:`anchor_size` of the training objects (the mirror keeps every size).
    """
    flipped, flipped_objects = mirrored(train_set.images, train_set.objects)
    anchor = anchor_size(train_set.objects)
    images = torch.cat([train_set.images, flipped])
    targets = _detection.encode_targets(list(train_set.objects) + flipped_objects, size=SIZE, grid=GRID,
                                        anchor=anchor)
    return (images, targets), anchor


def detector(quick: bool) -> _detection.GridDetector:
    """A freshly initialised GridDetector of the page (set the seed first): width 12 (quick) or 32."""
    check_bool(quick, "quick")
    return _detection.GridDetector(num_classes=2, width=_SIZES[quick]["width"])


def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The page's loss: :func:`cnnlib.models.detection.detection_loss` with omega_+ = 5 and lambda = 5."""
    return _detection.detection_loss(outputs, targets, positive_weight=POSITIVE_WEIGHT, box_weight=BOX_WEIGHT)


def detection_recipe(quick: bool) -> dict:
    """The keyword arguments of :func:`cnnlib.train.fit` with which page 6.6.4 trains its detector.

    AdamW (weight decay 0.05), the one-cycle schedule with peak rate 0.02, mini-batches of 64 in
    the channels-last layout, the page's :func:`loss`; 5 epochs over the 6,000 training images
    (3,000 scenes and their mirrors) in the quick run, 15 over 40,000 in the full run. Chosen on
    the validation scenes by ``bench/detection_quick.py``. The seed is not among them: the page
    trains several (``seed=`` of :func:`cnnlib.train.fit`, 0 for :func:`trained_detector`).

    Examples
    --------
    >>> r = detection_recipe(True)
    >>> r["epochs"], r["batch_size"], r["loss_fn"].__name__
    (5, 64, 'loss')
    """
    check_bool(quick, "quick")
    return dict(_FIT, epochs=_EPOCHS[quick], loss_fn=loss)


def trained_detector(quick: bool | None = None, *, seed: int = 0, device=None, verbose: bool = True):
    """The detector that page 6.6.4 trains with this seed: trained once, then loaded from ``data/weights``.

    Same scenes (:func:`detection_scenes`, :func:`training_data`), same initial weights
    (:func:`cnnlib.train.set_seed` with ``seed``, then :func:`detector`) and same settings
    (:func:`detection_recipe`) as the page, through :func:`cnnlib.train.cached_fit` with the
    name ``f"{NAME}-s{seed}"``: after the page has run, this loads its weights; before, it trains
    them (on a CPU with one thread per free core, the caller's thread count given back).

    Returns
    -------
    model : GridDetector
        In evaluation mode, on ``device``; ``model.anchor`` holds the anchor in pixels for
        :func:`cnnlib.models.detection.decode_detections`.
    history : cnnlib.train.History
    """
    from .. import train
    from ..train.device import resolve_device

    seed = nonnegative_int(seed, "seed")
    device = resolve_device(device)
    if quick is None:
        quick = train.quick_run(device, verbose=verbose)
    train_set, _, _ = detection_scenes(quick)
    data, anchor = training_data(train_set)
    train.set_seed(seed)
    model = detector(quick)
    with train.threads_while_training():  # if it has to train: one thread per free core (page 6.4.2)
        history = train.cached_fit(model, data, name=f"{NAME}-s{seed}", device=device, seed=seed, progress=False,
                                   verbose=verbose, **detection_recipe(quick))
    model.eval()
    model.anchor = anchor
    return model, history
