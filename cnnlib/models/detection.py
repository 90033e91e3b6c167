"""A one-stage grid detector in the style of YOLO (Section 6.6): every cell of a grid predicts a box.

The image is cut into a G x G grid. The cell that holds the *centre* of an object is
responsible for it and predicts, from the feature vector the backbone computed there:

- an objectness score (is there an object centred in this cell?);
- the box, parametrised relative to the cell and to an *anchor* size A (in pixels):
  :math:`t_x, t_y` with :math:`\\sigma(t_x), \\sigma(t_y) \\in (0, 1)` the centre's position
  inside the cell, and :math:`t_w = \\log(w / A)`, :math:`t_h = \\log(h / A)`, so that any
  positive size is reachable and the errors of large and small boxes count alike;
- class scores.

:func:`encode_targets` turns lists of boxes into that layout, :func:`decode_detections` turns
the network's output back into boxes (with :func:`cnnlib.boxes.nms`), and
:func:`detection_loss` is the loss; :func:`detector_outputs` runs a model over many images,
optionally averaging each image's outputs with those of its mirror image (:func:`unmirror_outputs`
puts the mirror's back in the image's frame). :func:`object_boxes` reads the true boxes of a
:class:`cnnlib.scenes.SceneDataset`; :func:`component_detections` (tuned by
:func:`tune_component_detections`) is the non-learned baseline: every connected blob of pixels
that differ from the median grey level is a detection.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6. J. Redmon et al., "You only look once: unified, real-time object
detection", CVPR 2016 (the grid); J. Redmon and A. Farhadi, "YOLO9000", CVPR 2017 (the offsets
and log sizes relative to anchors).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from .._validation import as_array, check_bool, check_choice, nonnegative_int, positive_int
from ..boxes import average_precision, box_convert, mean_average_precision, nms

__all__ = ["GridDetector", "encode_targets", "decode_detections", "detection_loss", "unmirror_outputs",
           "detector_outputs", "object_boxes", "component_detections", "tune_component_detections"]


class GridDetector(nn.Module):
    """A small fully convolutional detector: a backbone that pools down to the grid, a 1 x 1 head.

    Parameters
    ----------
    num_classes : int, default 2
    in_channels : int, default 1
    width : int, default 16
        Channels of the first block (doubled after each pooling, at most 4 x width).
    poolings : int, default 3
        Number of 2 x 2 poolings: a 64 x 64 image gives an 8 x 8 grid with 3.
    extra : int, default 0
        Further 3 x 3 convolutions (with batch normalization and ReLU) at the grid's
        resolution, before the head: cheap there, and each widens the region a cell sees.

    Shape
    -----
    (B, in_channels, H, W) -> (B, 5 + num_classes, H / 2^poolings, W / 2^poolings): per cell
    the objectness logit, :math:`t_x, t_y, t_w, t_h`, then the class scores.

    Examples
    --------
    >>> GridDetector()(torch.zeros(2, 1, 64, 64)).shape
    torch.Size([2, 7, 8, 8])
    """

    def __init__(self, num_classes: int = 2, in_channels: int = 1, *, width: int = 16, poolings: int = 3,
                 extra: int = 0):
        super().__init__()
        num_classes, in_channels, width, poolings = (positive_int(v, n) for v, n in (
            (num_classes, "num_classes"), (in_channels, "in_channels"), (width, "width"), (poolings, "poolings")))
        extra = nonnegative_int(extra, "extra")
        layers, c_in = [], in_channels
        for k in range(poolings + 1 + extra):
            c_out = width * min(2 ** min(k, poolings), 4)
            layers += [(f"conv{k + 1}", nn.Conv2d(c_in, c_out, 3, padding=1)), (f"bn{k + 1}", nn.BatchNorm2d(c_out)),
                       (f"relu{k + 1}", nn.ReLU())]
            if k < poolings:
                layers.append((f"pool{k + 1}", nn.MaxPool2d(2)))
            c_in = c_out
        self.features = nn.Sequential(OrderedDict(layers))
        self.head = nn.Conv2d(c_in, 5 + num_classes, kernel_size=1)
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def encode_targets(objects, *, size: int, grid: int, anchor: float) -> torch.Tensor:
    """Targets of shape (B, 6, grid, grid) from each image's objects.

    Parameters
    ----------
    objects : list of array_like, shape (K_i, 5)
        Per image: ``(class, y_x, y_y, y_h, y_w)`` in pixels (the chapter's box encoding, as
        :attr:`cnnlib.scenes.SceneDataset.objects`), classes counted from 1.
    size : int
        Side of the square images in pixels.
    grid : int
        Cells per side.
    anchor : float
        The anchor size A in pixels.

    Returns
    -------
    Tensor, shape (B, 6, grid, grid)
        Channel 0: 1 where a cell holds an object's centre; 1-2: the centre's position inside
        the cell, in (0, 1); 3-4: :math:`\\log(w / A)` and :math:`\\log(h / A)`; 5: the class
        index counted from 0. Where two centres fall in one cell, the larger object is kept.

    Examples
    --------
    >>> t = encode_targets([[[1, 8, 16, 16, 8]]], size=64, grid=8, anchor=16.0)  # centre (12, 24)
    >>> t[0, :, 3, 1].tolist()  # row 24 // 8 = 3, column 12 // 8 = 1
    [1.0, 0.5, 0.0, -0.6931471824645996, 0.0, 0.0]
    """
    size, grid = positive_int(size, "size"), positive_int(grid, "grid")
    if not anchor > 0:
        raise ValueError(f"anchor must be a positive number of pixels, got {anchor!r}")
    cell = size / grid
    targets = torch.zeros(len(objects), 6, grid, grid)
    for b, objs in enumerate(objects):
        objs = np.asarray(objs, dtype=float).reshape(-1, 5)
        for cls, x, y, h, w in sorted(objs.tolist(), key=lambda o: o[3] * o[4]):  # larger objects last: they win
            if h <= 0 or w <= 0:
                raise ValueError(f"objects[{b}] must have positive heights and widths, got h={h}, w={w}")
            cx, cy = x + w / 2, y + h / 2
            col, row = min(int(cx // cell), grid - 1), min(int(cy // cell), grid - 1)
            targets[b, :, row, col] = torch.tensor([1.0, cx / cell - col, cy / cell - row,
                                                    np.log(w / anchor), np.log(h / anchor), cls - 1])
    return targets


def decode_detections(outputs: torch.Tensor, *, size: int, anchor: float, score_threshold: float = 0.3,
                      nms_threshold: float = 0.5, per_class: bool = True):
    """Boxes, scores and classes from a detector's output: one tuple per image.

    The score of a cell is :math:`\\sigma(\\text{objectness}) \\times` its largest class
    probability; cells above ``score_threshold`` become boxes, and non-maximum suppression
    (:func:`cnnlib.boxes.nms`) removes boxes that overlap a better one by more than
    ``nms_threshold``: only boxes of the same class when ``per_class`` (the default), any box
    otherwise (then two neighbouring cells that see one object but name it differently give one
    detection, not two).

    Returns
    -------
    list of (boxes, scores, classes)
        ``boxes`` (K, 4) corners (x1, y1, x2, y2) in pixels, ``scores`` (K,), ``classes`` (K,)
        counted from 1 (as in the objects), best score first.
    """
    if outputs.ndim != 4 or outputs.shape[1] < 6:
        raise ValueError(f"outputs must have shape (B, 5 + num_classes, G, G), got {tuple(outputs.shape)}")
    grid = outputs.shape[-1]
    cell = size / grid
    out = outputs.detach().float().cpu()
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    cx = (cols + torch.sigmoid(out[:, 1])) * cell
    cy = (rows + torch.sigmoid(out[:, 2])) * cell
    w, h = anchor * torch.exp(out[:, 3].clamp(max=10)), anchor * torch.exp(out[:, 4].clamp(max=10))
    prob, cls = out[:, 5:].softmax(1).max(1)
    score = torch.sigmoid(out[:, 0]) * prob
    results = []
    for b in range(len(out)):
        keep = score[b] > score_threshold
        boxes = box_convert(torch.stack([cx[b][keep], cy[b][keep], w[b][keep], h[b][keep]], 1).numpy().reshape(-1, 4),
                            "cxcywh", "xyxy")
        s, c = score[b][keep].numpy(), cls[b][keep].numpy() + 1
        groups = [c == k for k in np.unique(c)] if per_class else [np.ones(len(s), dtype=bool)]
        chosen = np.concatenate([np.flatnonzero(g)[nms(boxes[g], s[g], nms_threshold)]
                                 for g in groups]).astype(int) if len(s) else np.zeros(0, dtype=int)
        chosen = chosen[np.argsort(-s[chosen], kind="stable")]
        results.append((boxes[chosen], s[chosen], c[chosen]))
    return results


def detection_loss(outputs: torch.Tensor, targets: torch.Tensor, *, box_weight: float = 5.0,
                   positive_weight: float = 1.0) -> torch.Tensor:
    """The detector's loss: objectness everywhere, box and class where an object is centred.

    Binary cross-entropy of the objectness logit on every cell, plus, on the cells that hold an
    object, ``box_weight`` times the squared error of :math:`(\\sigma(t_x), \\sigma(t_y), t_w, t_h)`
    (summed over the four) and the cross-entropy of the classes; the box and class terms are
    averaged over the objects, the objectness over the cells. ``positive_weight`` multiplies the
    objectness term of the cells that hold an object (``pos_weight`` of
    :func:`torch.nn.functional.binary_cross_entropy_with_logits`): most cells are empty, and a
    weight above 1 keeps the few that are not from being drowned out.

    Examples
    --------
    >>> targets = encode_targets([[[2, 8, 16, 16, 8]]], size=64, grid=8, anchor=16.0)
    >>> float(detection_loss(torch.zeros(1, 7, 8, 8), targets)) > 0
    True
    """
    if outputs.shape[0] != targets.shape[0] or outputs.shape[2:] != targets.shape[2:] or targets.shape[1] != 6:
        raise ValueError(f"outputs (B, 5 + K, G, G) and targets (B, 6, G, G) must match, got "
                         f"{tuple(outputs.shape)} and {tuple(targets.shape)}")
    if not positive_weight > 0:
        raise ValueError(f"positive_weight must be a positive number, got {positive_weight!r}")
    obj = targets[:, 0]
    weight = None if positive_weight == 1 else torch.tensor(float(positive_weight), device=outputs.device)
    objectness = nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], obj, pos_weight=weight)
    where = obj > 0.5
    if not where.any():
        return objectness
    pred = outputs.permute(0, 2, 3, 1)[where]  # (n, 5 + K)
    true = targets.permute(0, 2, 3, 1)[where]  # (n, 6)
    box = torch.cat([torch.sigmoid(pred[:, 1:3]), pred[:, 3:5]], 1)
    box_error = ((box - true[:, 1:5]) ** 2).sum(1).mean()
    classes = nn.functional.cross_entropy(pred[:, 5:], true[:, 5].long())
    return objectness + box_weight * box_error + classes


def unmirror_outputs(outputs: torch.Tensor) -> torch.Tensor:
    """A detector's outputs on mirrored images (flipped left to right), put back in the original frame.

    Cell ``(i, j)`` of the mirror image is cell ``(i, G - 1 - j)`` of the original, and a centre at
    :math:`\\sigma(t_x)` of the way across a mirrored cell lies at :math:`1 - \\sigma(t_x) =
    \\sigma(-t_x)` of the way across the original one: the columns are reversed and :math:`t_x`
    changes sign; the objectness, :math:`t_y`, the log sizes and the class scores stay.

    Examples
    --------
    >>> out = torch.zeros(1, 7, 2, 2); out[0, 1, 0, 0] = 2.0  # t_x = 2 in the top-left cell
    >>> unmirror_outputs(out)[0, 1].tolist()  # now in the top-right cell, with t_x = -2
    [[0.0, -2.0], [0.0, 0.0]]
    """
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 4 or outputs.shape[1] < 6:
        raise ValueError(f"outputs must be a tensor of shape (B, 5 + num_classes, G, G), got "
                         f"{tuple(getattr(outputs, 'shape', ())) or type(outputs).__name__}")
    back = outputs.flip(-1).clone()
    back[:, 1] = -back[:, 1]
    return back


def detector_outputs(model: nn.Module, images: torch.Tensor, *, mirror: bool = False, batch_size: int = 250,
                     device=None) -> torch.Tensor:
    """The model's raw outputs on ``images`` (on the CPU, float), ``batch_size`` images at a time.

    With ``mirror=True``, the outputs on the images and on their mirror images
    (:func:`unmirror_outputs`) are averaged, number by number: *test-time augmentation*. The
    objects look the same in a mirror, so the two views are two opinions on one scene, and their
    mean is steadier than either. The model is put in evaluation mode.

    Examples
    --------
    >>> net = GridDetector(width=4)
    >>> detector_outputs(net, torch.zeros(3, 1, 32, 32), mirror=True, batch_size=2).shape
    torch.Size([3, 7, 4, 4])
    """
    check_bool(mirror, "mirror")
    batch_size = positive_int(batch_size, "batch_size")
    if device is None:
        device = next(model.parameters()).device
    model.eval()
    parts = []
    with torch.no_grad():
        for x in images.split(batch_size):
            x = x.to(device)
            out = model(x).float().cpu()
            if mirror:
                out = (out + unmirror_outputs(model(x.flip(-1)).float().cpu())) / 2
            parts.append(out)
    return torch.cat(parts)


def object_boxes(objects):
    """The true corner boxes and classes of each scene, from ``(class, y_x, y_y, y_h, y_w)`` rows.

    Returns
    -------
    boxes : list of ndarray, shape (K_i, 4)
        Corners (x1, y1, x2, y2) in pixels.
    classes : list of ndarray of int, shape (K_i,)

    Examples
    --------
    >>> b, c = object_boxes([[[2, 8, 16, 16, 8]]])
    >>> b[0].tolist(), c[0].tolist()
    ([[8.0, 16.0, 16.0, 32.0]], [2])
    """
    rows = [np.asarray(o, dtype=float).reshape(-1, 5) for o in objects]
    return [box_convert(r[:, 1:], "xyhw", "xyxy") for r in rows], [r[:, 0].astype(int) for r in rows]


def _offsets(x: np.ndarray, sigma: float) -> np.ndarray:
    """Each image (smoothed when ``sigma > 0``) less its median grey level."""
    x = ndimage.gaussian_filter(x, (0, sigma, sigma)) if sigma > 0 else x
    return x - np.median(x.reshape(len(x), -1), axis=1)[:, None, None]


_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[1] = ndimage.generate_binary_structure(2, 1)  # 4-neighbours within an image, none across images


def _components(offsets: np.ndarray, threshold: float) -> list:
    """Per image, one row per blob: (area, contrast, x1, y1, x2, y2, fill of its box).

    All images are labelled at once (a blob never crosses from one image into the next), the
    brighter and the darker blobs apart: they never share a pixel, so their labels can be added.
    """
    bright, n_bright = ndimage.label(offsets > threshold, _IN_PLANE)
    dark, n_dark = ndimage.label(offsets < -threshold, _IN_PLANE)
    blobs = bright + np.where(dark > 0, dark + n_bright, 0)
    count = n_bright + n_dark
    areas = np.bincount(blobs.ravel(), minlength=count + 1)[1:].astype(float)
    contrast = np.bincount(blobs.ravel(), weights=np.abs(offsets).ravel(), minlength=count + 1)[1:] / np.maximum(areas, 1)
    pixels = np.flatnonzero(blobs)
    labels = blobs.ravel()[pixels]
    by_label = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[by_label], np.arange(1, count + 1))  # every label has a pixel
    image, row, col = (v[by_label] for v in np.unravel_index(pixels, blobs.shape))
    spans = np.column_stack([image[starts], np.minimum.reduceat(col, starts), np.minimum.reduceat(row, starts),
                             np.maximum.reduceat(col, starts) + 1, np.maximum.reduceat(row, starts) + 1]
                            ).astype(float) if count else np.zeros((0, 5))
    fill = areas / np.maximum((spans[:, 3] - spans[:, 1]) * (spans[:, 4] - spans[:, 2]), 1)
    order = np.argsort(spans[:, 0], kind="stable")  # image by image; in each, its bright blobs, then its dark ones
    rows = np.column_stack([areas, contrast, spans[:, 1:], fill])[order]
    bounds = np.searchsorted(spans[order, 0], np.arange(len(offsets) + 1))
    return [rows[bounds[k]:bounds[k + 1]] for k in range(len(offsets))]


def _select(rows: list, min_area: int, fill: float, score: str) -> list:
    """Per image: (boxes, scores, classes) of its blobs of at least ``min_area`` pixels, best score first."""
    n_images = len(rows)
    image = np.repeat(np.arange(n_images), [len(r) for r in rows])
    rows = np.concatenate(rows) if n_images else np.zeros((0, 7))
    big = rows[:, 0] >= max(min_area, 1)
    rows, image = rows[big], image[big]
    scores = rows[:, 0] if score == "area" else rows[:, 1]
    order = np.lexsort((-scores, image))  # image by image, best score first (stable: ties keep their order)
    rows, scores, image = rows[order], scores[order], image[order]
    classes = np.where(rows[:, 6] > fill, 1, 2)
    bounds = np.searchsorted(image, np.arange(n_images + 1))
    return [(rows[a:b, 2:6], scores[a:b], classes[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def component_detections(images, threshold: float, *, min_area: int = 1, sigma: float = 0.0, fill: float = 0.64,
                         score: str = "area"):
    """The non-learned baseline: each connected blob brighter or darker than the background is a detection.

    For each image (smoothed first by a Gaussian of width ``sigma`` pixels when ``sigma > 0``):
    the pixels above the median grey level by more than ``threshold``, and separately those below
    it by more than ``threshold``, are grouped into connected components (4-neighbours); each
    component of at least ``min_area`` pixels is a detection with the tightest box around it,
    class 1 (ellipse) if it fills more than ``fill`` of its box (an ellipse fills pi/4, a
    triangle 1/2) and class 2 otherwise, scored by its ``"area"`` in pixels or by its
    ``"contrast"`` (mean distance of its grey levels to the median).

    Parameters
    ----------
    images : array_like, shape (N, 1, S, S) or (N, S, S)
    threshold : float
    min_area : int
    sigma : float
    fill : float
    score : {"area", "contrast"}

    Returns
    -------
    list of (boxes, scores, classes)
        As :func:`decode_detections`: corners in pixels, best score first.

    Examples
    --------
    >>> image = np.full((1, 8, 8), 0.5); image[0, 2:6, 1:4] = 0.9; image[0, 6:8, 6:8] = 0.1
    >>> [(b.tolist(), s.tolist(), c.tolist()) for b, s, c in component_detections(image, 0.2, min_area=2)]
    [([[1.0, 2.0, 4.0, 6.0], [6.0, 6.0, 8.0, 8.0]], [12.0, 4.0], [1, 1])]
    """
    x = as_array(images, "images", ndim=(3, 4))
    check_choice(score, "score", ("area", "contrast"))
    min_area = nonnegative_int(min_area, "min_area")
    if not sigma >= 0:
        raise ValueError(f"sigma must be a width >= 0 in pixels, got {sigma!r}")
    offsets = _offsets(x.reshape(len(x), *x.shape[-2:]), float(sigma))
    return _select(_components(offsets, threshold), min_area, fill, score)


def tune_component_detections(images, objects, *, thresholds=None, sigmas=(0.0, 1.0), min_areas=(8, 16, 32, 64),
                              scores=("area", "contrast"), fills=(0.55, 0.6, 0.65, 0.7, 0.75)):
    """Choose :func:`component_detections`' parameters on training scenes: the best AP@0.5, then the best fill.

    The threshold, smoothing, smallest area and score are chosen for the largest AP at IoU 0.5
    of the boxes (classes ignored); then the fill that separates ellipses from triangles, for the
    largest mean over the two classes of their APs.

    Parameters
    ----------
    images : array_like, shape (N, 1, S, S) or (N, S, S)
    objects : list of array_like, shape (K_i, 5)
        The true ``(class, y_x, y_y, y_h, y_w)`` of each scene (:attr:`cnnlib.scenes.SceneDataset.objects`).
    thresholds, sigmas, min_areas, scores, fills : sequences
        The grid searched (thresholds default to 7 values from 0.06 to 0.3).

    Returns
    -------
    dict
        The chosen ``threshold``, ``sigma``, ``min_area``, ``score``, ``fill``, and the ``ap``
        (AP@0.5, classes ignored) and ``class_map`` (mean over classes of AP@0.5) they reach.

    Examples
    --------
    >>> image = np.full((2, 16, 16), 0.5); image[:, 2:9, 3:7] = 0.9
    >>> best = tune_component_detections(image, [[[1, 3, 2, 7, 4]], [[1, 3, 2, 7, 4]]], sigmas=(0.0,))
    >>> best["ap"], best["class_map"]
    (1.0, 1.0)
    """
    x = as_array(images, "images", ndim=(3, 4))
    x = x.reshape(len(x), *x.shape[-2:])
    if len(objects) != len(x):
        raise ValueError(f"objects must hold one array per image ({len(x)}), got {len(objects)}")
    for name in scores:
        check_choice(name, "scores", ("area", "contrast"))
    truth, classes = object_boxes(objects)
    thresholds = np.linspace(0.06, 0.3, 7) if thresholds is None else thresholds
    best, best_rows = {"ap": -1.0}, None
    for sigma in sigmas:
        offsets = _offsets(x, float(sigma))
        for t in thresholds:
            rows = _components(offsets, float(t))
            for area in min_areas:
                for name in scores:
                    dets = _select(rows, area, 0.5, name)
                    ap = average_precision([d[0] for d in dets], [d[1] for d in dets], truth, 0.5)
                    if ap > best["ap"]:
                        best = {"threshold": float(t), "sigma": float(sigma), "min_area": int(area), "score": name,
                                "ap": float(ap)}
                        best_rows = rows
    best["class_map"] = -1.0
    for f in fills:
        dets = _select(best_rows, best["min_area"], float(f), best["score"])
        m = mean_average_precision([d[0] for d in dets], [d[1] for d in dets], [d[2] for d in dets], truth, classes, 0.5)
        if m > best["class_map"]:
            best["fill"], best["class_map"] = float(f), float(m)
    return best
