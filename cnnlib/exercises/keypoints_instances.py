"""Checkers for the exercises of Section 6.6.5: the keypoint error in pixels, the IoU of every pair of
instances, and the count of objects that connected components merge.

The right answers come from :mod:`cnnlib.keypoints` and :mod:`cnnlib.instances` (tested against
SciPy, scikit-image and brute force); each known slip is computed here and, when a student's
answer matches it, named in the feedback.
"""
from __future__ import annotations

import itertools
from typing import Callable

import numpy as np
from scipy import ndimage

from ._base import Feedback, call_student, compare_arrays
from ._registry import checker

__all__ = ["check_keypoint_error", "check_iou_matrix", "check_merged_count"]


def _keypoint_case(seed: int):
    """Predicted and true triangles (B, 6) as fractions of the side, the predictions in shuffled order."""
    rng = np.random.default_rng(seed)
    target = rng.uniform(0.1, 0.9, size=(5, 3, 2))
    pred = target + rng.normal(0, 0.04, size=target.shape)
    for k in range(5):
        pred[k] = pred[k, rng.permutation(3)]
    return pred.reshape(5, 6), target.reshape(5, 6)


@checker
def check_keypoint_error(student_fn: Callable) -> Feedback:
    """Check ``pixel_error(pred, target, size)``: the mean distance in pixels between matched points.

    ``pred`` and ``target`` have shape (B, 6): three points ``(x, y)`` per image as fractions of
    the image side ``size``; the predicted points come in any order. The answer is, averaged over
    the 3B true points, the Euclidean distance in pixels to the predicted point matched with it,
    under the order of the predictions that makes the image's mean distance smallest
    (:func:`cnnlib.keypoints.keypoint_error`, then the mean). Diagnoses a missing scaling to
    pixels, the points taken in the order given (no matching), squared distances, the distance
    between the two 6-vectors, and a mean of absolute coordinate errors.

    Examples
    --------
    >>> import itertools
    >>> def right(pred, target, size):
    ...     p, t = pred.reshape(len(pred), 3, 2), target.reshape(len(target), 3, 2)
    ...     return size * np.mean([min(np.linalg.norm(a[list(o)] - b, axis=1).mean()
    ...                                for o in itertools.permutations(range(3))) for a, b in zip(p, t)])
    >>> check_keypoint_error(right)
    ✔ Correct on 2 batches (sides 32 and 64): distances in pixels, after the best matching of the points.
    """
    from ..keypoints import keypoint_error

    for k, size in enumerate((32, 64), start=1):
        pred, target = _keypoint_case(k)
        got, problem = call_student(student_fn, pred.copy(), target.copy(), size)
        if problem is not None:
            return problem
        expected = keypoint_error(pred, target, scale=size).mean()
        p, t = pred.reshape(-1, 3, 2), target.reshape(-1, 3, 2)

        def best(per_image):  # the smallest value of per_image(a[order], b) over the 6 orders, mean over images
            return np.mean([min(per_image(a[list(o)], b) for o in itertools.permutations(range(3))) for a, b in zip(p, t)])

        variants = {
            "the distances were left in fractions of the image side: multiply by the side to get pixels":
                expected / size,
            "the points were compared in the order given: a triangle's vertices have no order, so match each "
            "prediction with a true vertex first (the best of the 6 orders)": size * np.linalg.norm(p - t, axis=2).mean(),
            "squared distances were averaged (that is the loss, not the error in pixels)":
                size ** 2 * best(lambda a, b: (np.linalg.norm(a - b, axis=1) ** 2).mean()),
            "the distance between the two 6-vectors was taken per image; take one distance per point":
                size * best(lambda a, b: np.linalg.norm(a - b)),
            "absolute errors of the coordinates were averaged; the error of a point is its Euclidean distance":
                size * best(lambda a, b: np.abs(a - b).mean()),
        }
        fb = compare_arrays(got, expected, what=f"Your error (batch {k}, side {size})", variants=variants, rtol=1e-6)
        if not fb:
            return fb
    return Feedback(True, "Correct on 2 batches (sides 32 and 64): distances in pixels, after the best matching of "
                          "the points.")


_PRED = np.array([[1, 1, 1, 0, 2, 2],
                  [1, 1, 1, 0, 2, 2],
                  [0, 0, 0, 0, 2, 2],
                  [3, 3, 0, 0, 0, 0],
                  [3, 3, 0, 0, 4, 4]])
_TRUE = np.array([[1, 1, 2, 0, 3, 3],
                  [1, 1, 2, 0, 3, 3],
                  [0, 0, 0, 0, 3, 3],
                  [0, 4, 4, 0, 0, 0],
                  [0, 4, 4, 0, 0, 0]])


@checker
def check_iou_matrix(student_fn: Callable) -> Feedback:
    """Check ``iou_matrix(pred, true)``: the IoU of every predicted object with every true object.

    Two integer maps of the same shape, 0 for background; rows are the predicted objects and
    columns the true ones, each in increasing order of their labels, background left out.
    Diagnoses the background counted as an object, the matrix transposed, a union that counts
    the intersection twice, and the intersection divided by the true object's area only.

    Examples
    --------
    >>> def right(pred, true):
    ...     ps, ts = np.unique(pred[pred > 0]), np.unique(true[true > 0])
    ...     return np.array([[((pred == p) & (true == t)).sum() / ((pred == p) | (true == t)).sum() for t in ts]
    ...                      for p in ps])
    >>> check_iou_matrix(right)
    ✔ Correct: the IoU of each of the 4 predicted objects (rows) with each of the 4 true objects (columns).
    """
    from ..instances import instance_iou

    got, problem = call_student(student_fn, _PRED.copy(), _TRUE.copy())
    if problem is not None:
        return problem
    expected, _, _ = instance_iou(_PRED, _TRUE)
    ps, ts = np.unique(_PRED), np.unique(_TRUE)
    inter = np.array([[((_PRED == p) & (_TRUE == t)).sum() for t in ts] for p in ps], dtype=float)
    area_p, area_t = np.array([(_PRED == p).sum() for p in ps]), np.array([(_TRUE == t).sum() for t in ts])
    with_background = inter / (area_p[:, None] + area_t[None] - inter)
    inter, area_p, area_t = inter[1:, 1:], area_p[1:], area_t[1:]
    shape_hints = {with_background.shape: "that is one row and one column too many: the background (label 0) was "
                                          "counted as an object; leave it out"}
    variants = {
        "rows and columns were swapped: rows are the predicted objects, columns the true ones": expected.T,
        "the union was taken as the sum of the areas; subtract the intersection (it is counted twice)":
            inter / (area_p[:, None] + area_t[None]),
        "the intersection was divided by the true object's area only (that is the share of it covered, not the IoU)":
            inter / area_t[None],
    }
    fb = compare_arrays(got, expected, what="Your IoU matrix", variants=variants, shape_hints=shape_hints)
    if not fb:
        return fb
    return Feedback(True, f"Correct: the IoU of each of the {expected.shape[0]} predicted objects (rows) with each of "
                          f"the {expected.shape[1]} true objects (columns).")


_MERGE_CASES = (
    np.array([[1, 1, 1, 0, 0, 0],
              [1, 2, 2, 0, 3, 0],
              [0, 2, 2, 3, 3, 0],
              [0, 0, 0, 0, 0, 0],
              [4, 4, 0, 0, 5, 5]]),
    np.array([[1, 1, 2, 2, 0, 0, 3],
              [1, 1, 2, 2, 0, 4, 0],
              [0, 0, 0, 0, 0, 4, 4],
              [5, 5, 0, 6, 6, 0, 0],
              [5, 5, 5, 6, 6, 0, 7]]),
)


@checker
def check_merged_count(student_fn: Callable) -> Feedback:
    """Check ``count_merged(instances)``: how many objects share a connected component with another object.

    ``instances`` is one integer map (0 for background); components are those of the
    foreground ``instances > 0`` with 4-neighbours (``scipy.ndimage.label``'s default), and an
    object is merged when the component holding most of its pixels holds another object too
    (:func:`cnnlib.instances.merged_objects`). Diagnoses counting the merged *components*
    instead of the objects in them, 8-neighbours (objects touching only at a corner merged too),
    and the number of objects minus the number of components.

    Examples
    --------
    >>> from scipy import ndimage
    >>> def right(instances):
    ...     comps, _ = ndimage.label(instances > 0)
    ...     return sum(len(set(np.unique(instances[comps == comps[instances == k][0]])) - {0}) > 1
    ...                for k in np.unique(instances[instances > 0]))
    >>> check_merged_count(right)
    ✔ Correct on 2 maps: the objects whose component holds another object.
    """
    from ..instances import merged_objects

    for k, inst in enumerate(_MERGE_CASES, start=1):
        got, problem = call_student(student_fn, inst.copy())
        if problem is not None:
            return problem
        expected = merged_objects(inst)[0]
        n_objects = len(np.unique(inst[inst > 0]))
        comps, n_comps = ndimage.label(inst > 0)
        merged_comps = sum(len(np.unique(inst[comps == c])) > 1 for c in range(1, n_comps + 1))
        comps8, _ = ndimage.label(inst > 0, structure=np.ones((3, 3)))
        with_corners = sum(len(set(np.unique(inst[comps8 == comps8[inst == j][0]])) - {0}) > 1
                           for j in np.unique(inst[inst > 0]))
        variants = {
            "the components holding several objects were counted; count the objects in them": merged_comps,
            "8-neighbours were used: objects that touch only at a corner were merged too (ndimage.label's default "
            "structure is the 4-neighbourhood)": with_corners,
            "the number of objects minus the number of components was computed: that is how many objects are "
            "lost, not how many are merged": n_objects - n_comps,
        }
        variants = {reason: v for reason, v in variants.items() if v != expected}
        fb = compare_arrays(got, expected, what=f"Your count (map {k})", variants=variants)
        if not fb:
            return fb
    return Feedback(True, "Correct on 2 maps: the objects whose component holds another object.")
