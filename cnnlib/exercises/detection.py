"""Checkers for the exercises of Section 6.6.4, object detection: decoding a grid cell, non-maximum
suppression and average precision.

The right answers come from :mod:`cnnlib.boxes` and :mod:`cnnlib.models.detection` (tested
against brute force and torchvision's documented semantics); each known slip is computed here in
NumPy and, when a student's answer matches it, named in the feedback.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import Feedback, _to_array, call_student, compare_arrays
from ._registry import checker

__all__ = ["check_decode_cell", "check_nms", "check_average_precision"]


def _first_failure(student_fn: Callable, cases, judge):
    """Call ``student_fn(*case)`` for each case; ``judge(k, case, got)`` gives feedback on a wrong answer, else None.

    Returns the first problem (a stub, an exception, a wrong answer), or None when every case passes.
    """
    for k, case in enumerate(cases, start=1):
        got, problem = call_student(student_fn, *case)
        if problem is None:
            problem = judge(k, case, got)
        if problem is not None:
            return problem
    return None


# ---------------------------------------------------------------- decoding one cell
def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _decode_variants(t, row, col, cell, anchor):
    tx, ty, tw, th = t

    def corners(cx, cy, w, h):
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    cx, cy = (col + _sigmoid(tx)) * cell, (row + _sigmoid(ty)) * cell
    w, h = anchor * np.exp(tw), anchor * np.exp(th)
    right = corners(cx, cy, w, h)
    return right, {
        "the sizes were taken as A t_w and A t_h: t_w and t_h are logarithms, w = A exp(t_w)":
            corners(cx, cy, anchor * tw, anchor * th),
        "the anchor was left out: w = A exp(t_w), not exp(t_w)": corners(cx, cy, np.exp(tw), np.exp(th)),
        "the offsets were used without the sigmoid: the centre is (col + sigma(t_x)) x cell, inside the cell":
            corners((col + tx) * cell, (row + ty) * cell, w, h),
        "the cell's own position was left out: add its column (for x) and row (for y) before multiplying by the "
        "cell size": corners(_sigmoid(tx) * cell, _sigmoid(ty) * cell, w, h),
        "row and column were swapped: x runs along the columns, so x uses col and y uses row":
            corners((row + _sigmoid(tx)) * cell, (col + _sigmoid(ty)) * cell, w, h),
        "width and height were swapped: t_w gives the width (along x), t_h the height":
            corners(cx, cy, anchor * np.exp(th), anchor * np.exp(tw)),
        "the box was returned as centre and size (cx, cy, w, h); the exercise asks for corners (x1, y1, x2, y2)":
            np.array([cx, cy, w, h]),
        "the box was returned as corner and size (x1, y1, w, h); the exercise asks for corners (x1, y1, x2, y2)":
            np.array([cx - w / 2, cy - h / 2, w, h]),
        "the centre was used as the upper-left corner: the box extends w/2 on each side of the centre":
            np.array([cx, cy, cx + w, cy + h]),
    }


@checker
def check_decode_cell(student_fn: Callable) -> Feedback:
    """Check ``decode_cell(t, row, col, cell, anchor)``: one grid cell's output as a corner box.

    ``t = (t_x, t_y, t_w, t_h)`` are the raw outputs of the cell in row ``row`` and column
    ``col``; the box has centre ``((col + sigma(t_x)) cell, (row + sigma(t_y)) cell)``, width
    ``anchor exp(t_w)`` and height ``anchor exp(t_h)``, and the answer is its corners
    ``(x1, y1, x2, y2)`` (as :func:`cnnlib.models.detection.decode_detections` computes).
    Diagnoses the exp of the log sizes forgotten, the anchor left out, the sigmoid left out, the
    cell's position left out, row and column swapped, width and height swapped, and a box
    returned in another format (centre and size, corner and size, the centre as the corner).

    Examples
    --------
    >>> def right(t, row, col, cell, anchor):
    ...     sig = lambda v: 1 / (1 + np.exp(-v))
    ...     cx, cy = (col + sig(t[0])) * cell, (row + sig(t[1])) * cell
    ...     w, h = anchor * np.exp(t[2]), anchor * np.exp(t[3])
    ...     return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    >>> check_decode_cell(right)
    ✔ Correct on all 4 cells: centre (col + sigma(t_x), row + sigma(t_y)) x cell, size A exp(t_w) by A exp(t_h), as corners.
    >>> def no_exp(t, row, col, cell, anchor):
    ...     sig = lambda v: 1 / (1 + np.exp(-v))
    ...     cx, cy = (col + sig(t[0])) * cell, (row + sig(t[1])) * cell
    ...     w, h = anchor * t[2], anchor * t[3]
    ...     return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    >>> check_decode_cell(no_exp)  # doctest: +ELLIPSIS
    ✘ Cell 1 ...: it matches what you get when the sizes were taken as A t_w and A t_h: t_w and t_h are logarithms, w = A exp(t_w).
    """
    cases = [((0.4, -1.0, 0.3, -0.5), 2, 5, 8.0, 12.0), ((-0.7, 0.9, -0.2, 0.6), 6, 1, 8.0, 12.0),
             ((1.5, 0.2, 0.8, 0.1), 0, 3, 16.0, 20.0), ((0.0, 0.0, 0.0, 0.0), 4, 4, 8.0, 10.0)]
    def judge(k, case, got):
        t, row, col, cell, anchor = case
        right, variants = _decode_variants(t, row, col, cell, anchor)
        fb = compare_arrays(got, right, what="your box", variants=variants, rtol=1e-5, atol=1e-6)
        if fb:
            return None
        fb.message = f"Cell {k} (t = {tuple(t)}, row {row}, column {col}, cell {cell:g} px, anchor {anchor:g} px): {fb.message}"
        return fb

    failure = _first_failure(student_fn, [(np.array(t), *rest) for t, *rest in cases], judge)
    if failure is not None:
        return failure
    return Feedback(True, f"Correct on all {len(cases)} cells: centre (col + sigma(t_x), row + sigma(t_y)) x cell, "
                          "size A exp(t_w) by A exp(t_h), as corners.")


# ---------------------------------------------------------------- non-maximum suppression
def _iou_matrix(b):
    w = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area[:, None] + area[None, :] - inter)


def _greedy(iou, order, drop):
    """Greedy suppression in the given order; drop(v) says whether overlap v with a kept box removes a box."""
    keep, removed = [], set()
    for i in order:
        if i in removed:
            continue
        keep.append(int(i))
        removed |= {int(j) for j in order if j != i and drop(iou[i, j])}
    return keep


def _nms_variants(boxes, scores, t):
    iou, order = _iou_matrix(boxes), list(np.argsort(-scores, kind="stable"))
    right = _greedy(iou, order, lambda v: v > t)
    any_better = [int(i) for i in order if not any(iou[i, j] > t for j in order[:order.index(i)])]
    return right, {
        "the indices kept are right but not best score first: return them in order of decreasing score":
            sorted(right),
        "boxes overlapping a kept box by *less* than the threshold were removed: the threshold direction is "
        "reversed; a box is removed when its IoU with a kept box is *above* the threshold":
            _greedy(iou, order, lambda v: v <= t),
        "the boxes were taken in the order given, not by decreasing score: sort by score first":
            _greedy(iou, list(range(len(scores))), lambda v: v > t),
        "a box was removed for overlapping *any* better box, even one that was itself removed; only kept boxes "
        "remove others (greedy: keep the best, remove its overlaps, repeat with what is left)": any_better,
        "a box whose IoU equals the threshold was removed: NMS (as torchvision.ops.nms) removes boxes whose IoU is "
        "strictly greater than the threshold": _greedy(iou, order, lambda v: v >= t - 1e-12),
    }


@checker
def check_nms(student_fn: Callable) -> Feedback:
    """Check ``nms(boxes, scores, threshold)``: greedy non-maximum suppression of corner boxes.

    The answer lists the indices of the boxes kept, best score first: take the best remaining
    box, keep it, remove every remaining box whose IoU with it is greater than ``threshold``,
    repeat (as :func:`cnnlib.boxes.nms` and ``torchvision.ops.nms``). Diagnoses the threshold's
    direction reversed, boxes not sorted by score, removal by boxes that were themselves
    removed, ``>=`` instead of ``>``, and the right indices in the wrong order.

    Examples
    --------
    >>> from cnnlib.boxes import nms
    >>> check_nms(lambda b, s, t: nms(b, s, t).tolist())
    ✔ Correct on all 4 cases (a chain of overlaps, an IoU exactly at the threshold, unsorted scores, separate boxes).
    >>> check_nms(lambda b, s, t: list(range(len(s))))  # keeps everything
    ✘ Case 1: you kept [0, 1, 2], expected [1, 2] (IoU threshold 0.5).
    """
    from ..boxes import nms

    cases = [  # a chain: 1 (best) overlaps 0, 0 overlaps 2, but 1 and 2 overlap little
        ([[0, 0, 10, 10], [3, 0, 13, 10], [-3, 0, 7, 10]], [0.8, 0.9, 0.7], 0.5),
        ([[0, 0, 3, 1], [1, 0, 4, 1], [10, 10, 12, 12]], [0.9, 0.8, 0.6], 0.5),  # IoU of 0 and 1 exactly 0.5
        ([[20, 20, 30, 30], [0, 0, 10, 10], [1, 1, 11, 11], [21, 21, 31, 31]], [0.3, 0.6, 0.9, 0.5], 0.5),
        ([[0, 0, 4, 4], [10, 0, 14, 4], [0, 10, 4, 14]], [0.2, 0.9, 0.5], 0.5),
    ]
    def judge(k, case, got):
        b, s, t = case
        right = nms(b, s, t).tolist()
        arr, problem = _to_array(got, "Your answer")
        if problem is not None:
            return problem
        if arr.ndim != 1 or (arr.size and not np.allclose(arr, np.round(arr))):
            return Feedback(False, f"Case {k}: return the kept boxes' indices as a list of whole numbers (got {got!r}); "
                                   "if you returned the boxes themselves, return their positions in `boxes` instead.")
        got = arr.astype(int).tolist()
        if got == right:
            return None
        _, variants = _nms_variants(b, s, t)
        reason = next((r for r, wrong in variants.items() if wrong != right and got == wrong), None)
        return Feedback(False, f"Case {k}: you kept {got}, expected {right} (IoU threshold {t})"
                               + (f": {reason}." if reason else "."))

    failure = _first_failure(student_fn, [(np.array(b, dtype=float), np.array(s), t) for b, s, t in cases], judge)
    if failure is not None:
        return failure
    return Feedback(True, f"Correct on all {len(cases)} cases (a chain of overlaps, an IoU exactly at the threshold, "
                          "unsorted scores, separate boxes).")


# ---------------------------------------------------------------- average precision
def _ap_variants(hits, n_true):
    hits = np.asarray(hits, dtype=float)
    tp = np.cumsum(hits)
    precision, recall = tp / np.arange(1, len(hits) + 1), tp / n_true
    steps = np.diff(np.concatenate([[0.0], recall]))
    interpolated = np.maximum.accumulate(precision[::-1])[::-1]
    right = float((steps * interpolated).sum())
    eleven = np.mean([interpolated[recall >= r].max() if (recall >= r).any() else 0.0 for r in np.linspace(0, 1, 11)])
    trapezoid = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * (precision + np.concatenate([[1.0], precision[:-1]])) / 2))
    return right, {
        "the precision was not interpolated: each recall step was weighted by the precision at that rank, not by the "
        "best precision at any higher recall": float((steps * precision).sum()),
        "the 11-point interpolation of VOC 2007 was used; the exercise (like VOC since 2010 and this page) uses all "
        "points": float(eleven),
        "the precisions at the hits were averaged over the hits only: objects never detected must count, so divide by "
        "the number of true objects": float((precision * hits).sum() / max(hits.sum(), 1)),
        "the recall was divided by the number of detections instead of the number of true objects":
            float((np.diff(np.concatenate([[0.0], tp / len(hits)])) * interpolated).sum()),
        "the area was computed with the trapezoid rule between ranks; AP sums rectangles (recall step x interpolated "
        "precision)": trapezoid,
    }


@checker
def check_average_precision(student_fn: Callable) -> Feedback:
    """Check ``ap(hits, n_true)``: the all-point interpolated average precision from ranked hits.

    ``hits`` holds 1 (true positive) or 0 (false positive) for the detections sorted by
    decreasing score, ``n_true`` the number of true objects. The answer is the sum over the
    ranks that raise the recall of (recall step) x (best precision at that rank or later), as
    :func:`cnnlib.boxes.average_precision` computes it. Diagnoses the precision not
    interpolated, VOC 2007's 11 points, the mean over the hits only (missed objects ignored), the
    recall divided by the number of detections, and the trapezoid rule.

    Examples
    --------
    >>> def right(hits, n_true):
    ...     hits = np.asarray(hits, float)
    ...     tp = np.cumsum(hits)
    ...     precision, recall = tp / np.arange(1, len(hits) + 1), tp / n_true
    ...     best = np.maximum.accumulate(precision[::-1])[::-1]
    ...     return float((np.diff(recall, prepend=0) * best).sum())
    >>> check_average_precision(right)
    ✔ Correct on all 4 rankings: the sum of recall steps times the interpolated precision.
    >>> def hits_only(hits, n_true):
    ...     hits = np.asarray(hits, float)
    ...     precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    ...     return float((precision * hits).sum() / hits.sum())
    >>> check_average_precision(hits_only)  # doctest: +ELLIPSIS
    ✘ Ranking 1 ...: it matches what you get when the precisions at the hits were averaged over the hits only: ...
    """
    cases = [([1, 0, 1, 1, 0, 0, 1, 0], 6), ([0, 1, 1, 0, 1], 4), ([1, 1, 0, 0, 0, 1], 3), ([1, 0, 0, 1, 1, 0, 1], 5)]
    def judge(k, case, got):
        hits, n_true = case
        arr, problem = _to_array(got, "Your AP")
        if problem is not None:
            return problem
        if arr.size != 1:
            return Feedback(False, f"Ranking {k}: return one number (the area), got an array of shape {arr.shape}.")
        right, variants = _ap_variants(hits, n_true)
        fb = compare_arrays(float(arr.reshape(())), right, what="your AP", variants=variants, rtol=1e-6, atol=1e-9)
        if fb:
            return None
        fb.message = f"Ranking {k} (hits {hits.tolist()}, {n_true} true objects): {fb.message}"
        return fb

    failure = _first_failure(student_fn, [(np.array(h), n) for h, n in cases], judge)
    if failure is not None:
        return failure
    return Feedback(True, f"Correct on all {len(cases)} rankings: the sum of recall steps times the interpolated precision.")
