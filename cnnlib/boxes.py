"""Boxes for detection (Section 6.6): formats, non-maximum suppression and average precision.

- :func:`box_convert`: between the chapter's ``"xyhw"`` :math:`(y_x, y_y, y_h, y_w)` (corner
  column and row, height, width; what :func:`cnnlib.metrics.iou` takes) and torchvision's names
  ``"xyxy"`` (corners :math:`(x_1, y_1, x_2, y_2)`), ``"xywh"`` (corner, width, height) and
  ``"cxcywh"`` (centre, width, height);
- :func:`box_iou`: the IoU of every pair of two sets of corner boxes;
- :func:`nms`: greedy non-maximum suppression (used by :mod:`cnnlib.models.mtcnn` too);
- :func:`precision_recall` and :func:`average_precision`: how detections are scored, the area
  under the precision–recall curve at one IoU threshold; averaged over the thresholds
  :data:`COCO_THRESHOLDS` (0.5, 0.55, ..., 0.95) it is COCO's mAP@[.5:.95];
- :func:`mean_average_precision`: the mean over classes of each class's AP (the "m" of mAP).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6.

M. Everingham et al., "The PASCAL visual object classes (VOC) challenge", IJCV 88, 2010
(average precision); T.-Y. Lin et al., "Microsoft COCO: common objects in context", ECCV 2014.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_array, check_choice

__all__ = ["BOX_FORMATS", "COCO_THRESHOLDS", "box_convert", "box_iou", "nms", "precision_recall", "average_precision",
           "mean_average_precision"]

#: The box formats of :func:`box_convert` (torchvision's names, plus the chapter's ``"xyhw"``).
BOX_FORMATS = ("xyxy", "xywh", "cxcywh", "xyhw")

#: COCO's IoU thresholds 0.50, 0.55, ..., 0.95: the AP averaged over them is mAP@[.5:.95].
COCO_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2).tolist())


def _as_boxes(value, name: str) -> np.ndarray:
    arr = as_array(value, name)
    if arr.shape[-1:] != (4,):
        raise ValueError(f"{name} must have shape (4,) or (N, 4), got shape {arr.shape}")
    return arr


def box_convert(boxes, in_fmt: str, out_fmt: str) -> np.ndarray:
    """Convert boxes between the corner, corner-and-size, centre and chapter formats.

    Parameters
    ----------
    boxes : array_like, shape (..., 4)
    in_fmt, out_fmt : {"xyxy", "xywh", "cxcywh", "xyhw"}
        ``"xyxy"``: (x1, y1, x2, y2), left, top, right, bottom; ``"xywh"``: (x1, y1, width,
        height); ``"cxcywh"``: (centre x, centre y, width, height) — these three as in
        ``torchvision.ops.box_convert``; ``"xyhw"``: the chapter's :math:`(y_x, y_y, y_h, y_w)`,
        column and row of the upper-left corner, then height and width.

    Returns
    -------
    ndarray, shape (..., 4)

    Examples
    --------
    >>> box_convert([2, 1, 3, 5], "xyhw", "xyxy").tolist()  # 3 high, 5 wide
    [2.0, 1.0, 7.0, 4.0]
    >>> box_convert([2, 1, 7, 4], "xyxy", "cxcywh").tolist()
    [4.5, 2.5, 5.0, 3.0]
    """
    b = _as_boxes(boxes, "boxes")
    check_choice(in_fmt, "in_fmt", BOX_FORMATS)
    check_choice(out_fmt, "out_fmt", BOX_FORMATS)
    a, c, d, e = np.moveaxis(b, -1, 0)
    if in_fmt == "xyxy":
        x1, y1, x2, y2 = a, c, d, e
    elif in_fmt == "xywh":
        x1, y1, x2, y2 = a, c, a + d, c + e
    elif in_fmt == "cxcywh":
        x1, y1, x2, y2 = a - d / 2, c - e / 2, a + d / 2, c + e / 2
    else:  # xyhw: corner, then height and width
        x1, y1, x2, y2 = a, c, a + e, c + d
    out = {"xyxy": (x1, y1, x2, y2), "xywh": (x1, y1, x2 - x1, y2 - y1),
           "cxcywh": ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), "xyhw": (x1, y1, y2 - y1, x2 - x1)}[out_fmt]
    return np.stack(out, axis=-1)


def box_iou(boxes_a, boxes_b) -> np.ndarray:
    """Intersection over union of every pair of corner boxes: shape (N, M) for (N, 4) and (M, 4).

    Examples
    --------
    >>> box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]).round(4).tolist()
    [[0.1429, 1.0, 0.0]]
    """
    a = _as_boxes(boxes_a, "boxes_a").reshape(-1, 4)
    b = _as_boxes(boxes_b, "boxes_b").reshape(-1, 4)
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes, scores, threshold: float, mode: str = "union") -> np.ndarray:
    """Greedy non-maximum suppression: keep the best box, drop boxes overlapping it too much, repeat.

    Parameters
    ----------
    boxes : array_like, shape (N, 4)
        Corners (x1, y1, x2, y2).
    scores : array_like, shape (N,)
    threshold : float
        Boxes whose overlap with a kept box exceeds this are dropped.
    mode : {"union", "min"}
        Overlap as intersection over union (as ``torchvision.ops.nms``), or intersection over
        the smaller area.

    Returns
    -------
    ndarray of int
        Indices of the kept boxes, best score first.

    Examples
    --------
    >>> nms([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], [0.9, 0.8, 0.7], 0.5).tolist()
    [0, 2]
    """
    check_choice(mode, "mode", ("union", "min"))
    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    s = np.asarray(scores, dtype=float).reshape(-1)
    if len(b) != len(s):
        raise ValueError(f"boxes and scores must have the same length, got {len(b)} and {len(s)}")
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    order, keep = np.argsort(-s, kind="stable"), []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(int(i))
        w = np.clip(np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0]), 0, None)
        h = np.clip(np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1]), 0, None)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if mode == "min" else area[i] + area[rest] - inter
        overlap = np.divide(inter, denom, out=np.zeros_like(inter), where=denom > 0)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=int)


def _check_lists(det_boxes, det_scores, true_boxes):
    if not (len(det_boxes) == len(det_scores) == len(true_boxes)):
        raise ValueError(f"det_boxes, det_scores and true_boxes must hold one entry per image, got "
                         f"{len(det_boxes)}, {len(det_scores)} and {len(true_boxes)}")
    out = []
    for k, (b, s, t) in enumerate(zip(det_boxes, det_scores, true_boxes)):
        b, s, t = (np.asarray(v, dtype=float) for v in (b, s, t))
        b, t = b.reshape(-1, 4), t.reshape(-1, 4)
        if len(b) != s.size:
            raise ValueError(f"det_boxes[{k}] and det_scores[{k}] must have the same length, got {len(b)} and {s.size}")
        out.append((b, s.reshape(-1), t))
    return out


def precision_recall(det_boxes, det_scores, true_boxes, iou_threshold: float = 0.5):
    """Precision and recall of detections taken in order of decreasing score (one class).

    All detections of all images are sorted by score. Going down the list, a detection is a true
    positive if it overlaps a true box of its image, not yet claimed by a better detection, with
    an IoU of at least ``iou_threshold`` (it claims the one it overlaps most); otherwise it is a
    false positive. After the k-th detection, precision = TP / k and recall = TP / (number of
    true boxes).

    Parameters
    ----------
    det_boxes : list of array_like, shape (K_i, 4)
        Detected corner boxes (x1, y1, x2, y2) of each image.
    det_scores : list of array_like, shape (K_i,)
    true_boxes : list of array_like, shape (M_i, 4)
        True corner boxes of each image.
    iou_threshold : float

    Returns
    -------
    precision, recall, scores : ndarray, shape (K,)
        After each detection, in order of decreasing score.

    Examples
    --------
    >>> p, r, s = precision_recall([[[0, 0, 2, 2], [5, 5, 7, 7]]], [[0.9, 0.8]], [[[0, 0, 2, 2], [3, 3, 4, 4]]])
    >>> p.tolist(), r.tolist()
    ([1.0, 0.5], [0.5, 0.5])
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold!r}")
    images = _check_lists(det_boxes, det_scores, true_boxes)
    return _curves(images, [float(iou_threshold)])[0]


def _padded_ious(images):
    """IoUs of every image's detections (in order of decreasing score) with its true boxes, padded with -1.

    Returns the array (N, D, M) of IoUs for D the most detections and M the most true boxes of
    an image (-1 where either is padding), and the order of each image's detections.
    """
    orders = [np.argsort(-s, kind="stable") for _, s, _ in images]
    n_det = max((len(b) for b, _, _ in images), default=0)
    n_true = max((len(t) for _, _, t in images), default=0)
    det = np.zeros((len(images), n_det, 4))
    true = np.zeros((len(images), n_true, 4))
    valid = np.zeros((len(images), n_det, n_true), dtype=bool)
    for k, ((b, _, t), order) in enumerate(zip(images, orders)):
        det[k, :len(b)], true[k, :len(t)] = b[order], t
        valid[k, :len(b), :len(t)] = True
    w = np.clip(np.minimum(det[:, :, None, 2], true[:, None, :, 2]) - np.maximum(det[:, :, None, 0], true[:, None, :, 0]), 0, None)
    h = np.clip(np.minimum(det[:, :, None, 3], true[:, None, :, 3]) - np.maximum(det[:, :, None, 1], true[:, None, :, 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    union = area(det)[:, :, None] + area(true)[:, None, :] - inter
    ious = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return np.where(valid, ious, -1.0), orders


def _curves(images, thresholds):
    """(precision, recall, scores) at each IoU threshold: the greedy matching of all images at once.

    Each image's detections claim, in order of decreasing score, the unclaimed true box they
    overlap most if that IoU is at least the threshold; the step over ranks runs for every image
    together (rank j of each image), which gives the same matches as one image at a time.
    """
    n_true = sum(len(t) for _, _, t in images)
    ious, orders = _padded_ious(images)
    all_scores = np.concatenate([s for _, s, _ in images]) if images else np.zeros(0)
    order = np.argsort(-all_scores, kind="stable")  # ties keep the order of the images and their detections
    rows = np.arange(len(images))
    out = []
    for threshold in thresholds:
        claimed = np.zeros(ious.shape[::2], dtype=bool)
        hits = np.zeros(ious.shape[:2])
        for j in range(ious.shape[1]):
            overlap = np.where(claimed, -1.0, ious[:, j])
            if not overlap.size:
                break
            best = overlap.argmax(1)
            hit = overlap[rows, best] >= threshold
            claimed[rows[hit], best[hit]] = True
            hits[hit, j] = 1
        per_image = []
        for k, ((b, _, _), o) in enumerate(zip(images, orders)):  # back to each image's own order
            h = np.zeros(len(b))
            h[o] = hits[k, :len(b)]
            per_image.append(h)
        tp = np.cumsum(np.concatenate(per_image)[order] if images else np.zeros(0))
        precision = tp / np.arange(1, len(order) + 1)
        recall = tp / n_true if n_true else np.zeros(len(order))
        out.append((precision, recall, all_scores[order]))
    return out


def average_precision(det_boxes, det_scores, true_boxes, iou_threshold=0.5) -> float:
    """Area under the precision–recall curve of :func:`precision_recall` (all-point interpolation).

    The precision at recall r is taken as the best precision at any recall >= r (the curve is
    made non-increasing), and the area is the sum over the detections that raise the recall of
    (recall step) x (that precision): PASCAL VOC's definition since 2010. With several
    thresholds, e.g. ``np.arange(0.5, 0.96, 0.05)``, the result is the mean of the APs: COCO's
    mAP@[.5:.95] (COCO samples the curve at 101 recalls instead, which differs slightly).

    Parameters
    ----------
    det_boxes, det_scores, true_boxes :
        As in :func:`precision_recall`.
    iou_threshold : float or sequence of float

    Returns
    -------
    float
        In [0, 1]; 0 when there is no true box.

    Examples
    --------
    >>> truth = [[[0, 0, 2, 2]], [[4, 4, 6, 6]]]
    >>> average_precision([[[0, 0, 2, 2]], [[4, 4, 6, 6]]], [[0.9], [0.8]], truth)
    1.0
    >>> average_precision([[[0, 0, 2, 2]], [[0, 0, 1, 1]]], [[0.9], [0.95]], truth)  # a false alarm first
    0.25
    """
    thresholds = np.atleast_1d(np.asarray(iou_threshold, dtype=float))
    for t in thresholds:
        if not 0 < t <= 1:
            raise ValueError(f"iou_threshold must be in (0, 1], got {float(t)!r}")
    aps = []
    for precision, recall, _ in _curves(_check_lists(det_boxes, det_scores, true_boxes), thresholds.tolist()):
        if not len(recall) or recall[-1] == 0:
            aps.append(0.0)
            continue
        best_after = np.maximum.accumulate(precision[::-1])[::-1]
        steps = np.diff(np.concatenate([[0.0], recall]))
        aps.append(float((steps * best_after).sum()))
    return float(np.mean(aps))


def mean_average_precision(det_boxes, det_scores, det_classes, true_boxes, true_classes,
                           iou_threshold=0.5) -> float:
    """The mean over classes of :func:`average_precision`: each class's detections against its true boxes.

    A detection counts only for a true box of its own class. The mean runs over the classes that
    have at least one true box (as in PASCAL VOC and COCO); with ``iou_threshold=COCO_THRESHOLDS``
    each class's AP is itself the mean over the ten thresholds, so the result is mAP@[.5:.95].

    Parameters
    ----------
    det_boxes, det_scores, true_boxes :
        As in :func:`precision_recall`.
    det_classes : list of array_like, shape (K_i,)
        The class of each detection.
    true_classes : list of array_like, shape (M_i,)
        The class of each true box.
    iou_threshold : float or sequence of float

    Returns
    -------
    float

    Examples
    --------
    >>> truth, classes = [[[0, 0, 2, 2], [4, 4, 6, 6]]], [[1, 2]]
    >>> mean_average_precision([[[0, 0, 2, 2], [4, 4, 6, 6]]], [[0.9, 0.8]], [[1, 2]], truth, classes)
    1.0
    >>> mean_average_precision([[[0, 0, 2, 2], [4, 4, 6, 6]]], [[0.9, 0.8]], [[2, 1]], truth, classes)  # names swapped
    0.0
    """
    images = _check_lists(det_boxes, det_scores, true_boxes)
    if not (len(det_classes) == len(true_classes) == len(images)):
        raise ValueError(f"det_classes and true_classes must hold one entry per image ({len(images)}), got "
                         f"{len(det_classes)} and {len(true_classes)}")
    det_c = [np.asarray(c).reshape(-1) for c in det_classes]
    true_c = [np.asarray(c).reshape(-1) for c in true_classes]
    for k, ((b, _, t), dc, tc) in enumerate(zip(images, det_c, true_c)):
        if len(dc) != len(b) or len(tc) != len(t):
            raise ValueError(f"det_classes[{k}] and true_classes[{k}] must have one class per box, got {len(dc)} "
                             f"for {len(b)} detections and {len(tc)} for {len(t)} true boxes")
    present = np.unique(np.concatenate(true_c)) if true_c else np.zeros(0)
    if not len(present):
        return 0.0
    aps = [average_precision([b[dc == c] for (b, _, _), dc in zip(images, det_c)],
                             [s[dc == c] for (_, s, _), dc in zip(images, det_c)],
                             [t[tc == c] for (_, _, t), tc in zip(images, true_c)], iou_threshold)
           for c in present]
    return float(np.mean(aps))
