"""How good is a localizer, a segmenter or a verifier? Scores for Section 6.6.

Boxes use the chapter's encoding :math:`(y_x, y_y, y_h, y_w)`: the column and row of the
upper-left corner, then the height and the width (any unit, the same for both boxes).

- :func:`iou`: intersection over union of two boxes (or of two arrays of boxes);
- :func:`pixel_accuracy` and :func:`class_iou`: scores of a semantic segmentation;
- :func:`cosine_distance`: one minus the cosine of the angle between embeddings;
- :func:`verification_accuracy`, :func:`best_threshold`, :func:`roc_curve` and
  :func:`roc_auc`: scores of a same/different decision made by thresholding a score.

Inputs may be NumPy arrays, lists or PyTorch tensors; results are NumPy arrays or floats.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6.

T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27, 2006.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_array, positive_int

__all__ = [
    "box_corners",
    "iou",
    "pixel_accuracy",
    "class_iou",
    "cosine_distance",
    "verification_accuracy",
    "best_threshold",
    "roc_curve",
    "roc_auc",
    "true_accept_rate",
]


def _boxes(value, name: str) -> np.ndarray:
    arr = as_array(value, name)
    if arr.shape[-1:] != (4,):
        raise ValueError(f"{name} must have shape (4,) or (N, 4): (y_x, y_y, y_h, y_w) per box, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must hold finite numbers, got NaN or infinity")
    if (arr[..., 2:] < 0).any():
        raise ValueError(f"{name} must have heights and widths (columns 2 and 3) >= 0, got {arr[..., 2:].min():g}")
    return arr


def box_corners(boxes) -> np.ndarray:
    """Convert boxes (y_x, y_y, y_h, y_w) to corners (left, top, right, bottom).

    Parameters
    ----------
    boxes : array_like, shape (..., 4)

    Returns
    -------
    ndarray, shape (..., 4)
        ``(x1, y1, x2, y2) = (y_x, y_y, y_x + y_w, y_y + y_h)``.

    Examples
    --------
    >>> box_corners([2, 1, 3, 5]).tolist()  # 3 high, 5 wide
    [2.0, 1.0, 7.0, 4.0]
    """
    b = _boxes(boxes, "boxes")
    x, y, h, w = np.moveaxis(b, -1, 0)
    return np.stack([x, y, x + w, y + h], axis=-1)


def iou(box_a, box_b):
    """Intersection over union of boxes (y_x, y_y, y_h, y_w), elementwise with broadcasting.

    Parameters
    ----------
    box_a, box_b : array_like, shape (4,) or (N, 4)
        Boxes in the chapter's encoding; heights and widths must be >= 0.

    Returns
    -------
    float or ndarray, shape (N,)
        :math:`|A \\cap B| / |A \\cup B|` in [0, 1]: 1 for identical boxes, 0 for boxes that do
        not overlap; 0 as well where both boxes have zero area.

    Notes
    -----
    The overlap of two intervals :math:`[a_1, a_2]` and :math:`[b_1, b_2]` has length
    :math:`\\max(0, \\min(a_2, b_2) - \\max(a_1, b_1))`; the intersection is the product of the
    overlaps of the columns and of the rows, and the union is the sum of the two areas minus
    the intersection.

    Examples
    --------
    >>> iou([0, 0, 2, 2], [1, 1, 2, 2])  # overlap 1 x 1, union 4 + 4 - 1
    0.14285714285714285
    >>> iou([0, 0, 2, 2], [[0, 0, 2, 2], [5, 5, 1, 1]]).tolist()
    [1.0, 0.0]
    """
    a, b = box_corners(_boxes(box_a, "box_a")), box_corners(_boxes(box_b, "box_b"))
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(f"box_a and box_b must broadcast: got shapes {a.shape} and {b.shape}") from None
    overlap_x = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    overlap_y = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = overlap_x * overlap_y
    area = lambda c: (c[..., 2] - c[..., 0]) * (c[..., 3] - c[..., 1])
    union = area(a) + area(b) - inter
    out = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return float(out) if out.ndim == 0 else out


def _labels(value, name: str) -> np.ndarray:
    arr = as_array(value, name, dtype=None)
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise TypeError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def pixel_accuracy(pred, target) -> float:
    """Fraction of pixels whose predicted class is the true class.

    Parameters
    ----------
    pred, target : array_like of int, shape (N, H, W) (any shape, the same for both)

    Returns
    -------
    float

    Examples
    --------
    >>> pixel_accuracy([[0, 1], [1, 1]], [[0, 1], [0, 1]])
    0.75
    """
    p, t = _labels(pred, "pred"), _labels(target, "target")
    _same_shape(p, t, "pred", "target")
    return float((p == t).mean())


def class_iou(pred, target, num_classes: int) -> np.ndarray:
    """Intersection over union of the predicted and true pixel sets of every class.

    Parameters
    ----------
    pred, target : array_like of int, shape (N, H, W) (any shape, the same for both)
        Class of every pixel, in 0..num_classes-1.
    num_classes : int

    Returns
    -------
    ndarray, shape (num_classes,)
        :math:`|P_c \\cap T_c| / |P_c \\cup T_c|` for each class c, where :math:`P_c` and
        :math:`T_c` are the pixels predicted as and truly of class c; NaN for a class that
        appears in neither (so ``np.nanmean`` gives the mean IoU over the classes present).

    Examples
    --------
    >>> class_iou([[0, 1], [1, 1]], [[0, 1], [0, 1]], 3).tolist()
    [0.5, 0.6666666666666666, nan]
    """
    num_classes = positive_int(num_classes, "num_classes")
    p, t = _labels(pred, "pred"), _labels(target, "target")
    _same_shape(p, t, "pred", "target")
    for name, arr in (("pred", p), ("target", t)):
        if arr.min() < 0 or arr.max() >= num_classes:
            raise ValueError(f"{name} must hold classes in 0..{num_classes - 1}, got values from {arr.min()} to {arr.max()}")
    scores = np.full(num_classes, np.nan)
    for c in range(num_classes):
        inter = np.sum((p == c) & (t == c))
        union = np.sum((p == c) | (t == c))
        if union:
            scores[c] = inter / union
    return scores


def cosine_distance(a, b) -> np.ndarray:
    """One minus the cosine similarity of embeddings, row by row.

    Parameters
    ----------
    a, b : array_like, shape (N, D) or (D,)

    Returns
    -------
    ndarray, shape (N,), or float
        :math:`1 - a \\cdot b / (\\|a\\| \\|b\\|)`, between 0 (same direction) and 2 (opposite).

    Examples
    --------
    >>> cosine_distance([1.0, 0.0], [[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]).tolist()
    [0.0, 1.0, 2.0]
    """
    a, b = as_array(a, "a", ndim=(1, 2)), as_array(b, "b", ndim=(1, 2))
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"a and b must have the same embedding size (last axis), got shapes {a.shape} and {b.shape}")
    for name, arr in (("a", a), ("b", b)):
        if (np.linalg.norm(arr, axis=-1) == 0).any():
            raise ValueError(f"{name} must not contain zero vectors: their direction, and so the cosine, is undefined")
    cos = np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    out = 1.0 - np.clip(cos, -1.0, 1.0)
    return float(out) if out.ndim == 0 else out


def _scores_and_same(scores, same) -> tuple[np.ndarray, np.ndarray]:
    s = as_array(scores, "scores", ndim=1)
    if np.isnan(s).any():  # NaN compares false with everything: the ranking would be arbitrary
        where = np.flatnonzero(np.isnan(s))
        raise ValueError(f"scores must not contain NaN, got NaN at position(s) {where[:10].tolist()}"
                         f"{' ...' if len(where) > 10 else ''} of {len(s)}")
    y = _labels(same, "same")
    if y.ndim != 1:
        raise ValueError(f"same must be a 1-D array of 0/1 labels, got shape {y.shape}")
    _same_shape(s, y, "scores", "same")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"same must hold only 0 (different) and 1 (same), got values {sorted(set(y.tolist()))}")
    return s, y


def verification_accuracy(scores, same, threshold: float) -> float:
    """Accuracy of deciding "same" when the score is above a threshold.

    Parameters
    ----------
    scores : array_like, shape (N,)
        One score per pair; larger means "more likely the same" (a probability of a comparison
        network, or minus a distance).
    same : array_like of 0/1, shape (N,)
        1 for pairs of the same identity, 0 for different ones.
    threshold : float
        A pair is declared "same" when its score is > threshold.

    Returns
    -------
    float

    Examples
    --------
    >>> verification_accuracy([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1], threshold=0.5)
    0.5
    """
    s, y = _scores_and_same(scores, same)
    threshold = float(as_array(threshold, "threshold", ndim=0))
    return float(((s > threshold) == (y == 1)).mean())


def best_threshold(scores, same) -> float:
    """The threshold that maximizes :func:`verification_accuracy` on these pairs.

    Choose it on validation pairs, then report the accuracy on other (test) pairs.

    Returns
    -------
    float
        Midway between two consecutive distinct scores, or 1 below the smallest or above the
        largest score; the smallest such threshold when several give the best accuracy.

    Examples
    --------
    >>> best_threshold([0.9, 0.2, 0.6, 0.4], [1, 0, 1, 0])
    0.5
    """
    s, y = _scores_and_same(scores, same)
    values, accepted_same, accepted_different = _accepted_counts(s, y)  # accept: score >= values[k]
    # thresholds from low to high: below the smallest score, between neighbours, above the largest
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    correct = np.concatenate([accepted_same, [0]]) + (len(y) - y.sum()) - np.concatenate([accepted_different, [0]])
    return float(candidates[np.argmax(correct)])


def _accepted_counts(s: np.ndarray, y: np.ndarray):
    """Distinct scores (ascending) and, for each, how many same and different pairs score >= it."""
    values, inverse = np.unique(s, return_inverse=True)
    same_at = np.bincount(inverse, weights=y, minlength=len(values))
    different_at = np.bincount(inverse, weights=1 - y, minlength=len(values))
    return values, np.cumsum(same_at[::-1])[::-1], np.cumsum(different_at[::-1])[::-1]


def roc_curve(scores, same) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The receiver operating characteristic: false and true positive rates at every threshold.

    Parameters
    ----------
    scores : array_like, shape (N,)
        Larger means "more likely the same".
    same : array_like of 0/1, shape (N,)
        Needs at least one pair of each kind.

    Returns
    -------
    fpr, tpr, thresholds : ndarray, shape (T,)
        Deciding "same" when score >= thresholds[k] accepts a fraction ``fpr[k]`` of the
        different pairs and ``tpr[k]`` of the same pairs. The first threshold is infinity
        (nothing accepted), then the distinct scores in decreasing order.

    Examples
    --------
    >>> fpr, tpr, t = roc_curve([0.9, 0.2, 0.6, 0.4], [1, 0, 1, 0])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, 1.0, 1.0])
    """
    s, y = _scores_and_same(scores, same)
    positives, negatives = int(y.sum()), int((1 - y).sum())
    if positives == 0 or negatives == 0:
        raise ValueError(f"same must contain both kinds of pairs, got {positives} same and {negatives} different")
    values, accepted_same, accepted_different = _accepted_counts(s, y)
    thresholds = np.concatenate([[np.inf], values[::-1]])
    tpr = np.concatenate([[0.0], accepted_same[::-1]]) / positives
    fpr = np.concatenate([[0.0], accepted_different[::-1]]) / negatives
    return fpr, tpr, thresholds


def roc_auc(scores, same) -> float:
    """Area under the ROC curve: the chance that a random "same" pair outscores a random "different" one.

    Ties count one half.

    Examples
    --------
    >>> roc_auc([0.9, 0.2, 0.6, 0.4], [1, 0, 1, 0])
    1.0
    >>> roc_auc([0.5, 0.5], [1, 0])
    0.5
    """
    fpr, tpr, _ = roc_curve(scores, same)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids: ties give the half


def true_accept_rate(scores, same, false_accept_rate: float) -> float:
    """Share of "same" pairs accepted at the strictest threshold that accepts at most the given share of "different" pairs.

    The number quoted for face verification ("TAR at FAR = 0.1%"): the point of the ROC curve
    (:func:`roc_curve`) with the largest true positive rate among those whose false positive
    rate does not exceed ``false_accept_rate``.

    Parameters
    ----------
    scores : array_like, shape (N,)
        Larger means "more likely the same".
    same : array_like of 0/1, shape (N,)
    false_accept_rate : float
        In [0, 1].

    Examples
    --------
    >>> true_accept_rate([0.9, 0.8, 0.7, 0.3, 0.2], [1, 0, 1, 1, 0], 0.0)  # 0.8 must be refused
    0.3333333333333333
    >>> true_accept_rate([0.9, 0.8, 0.7, 0.3, 0.2], [1, 0, 1, 1, 0], 0.5)
    1.0
    """
    if isinstance(false_accept_rate, bool) or not isinstance(false_accept_rate, (int, float)) \
            or not 0 <= false_accept_rate <= 1:
        raise ValueError(f"false_accept_rate must be a number in [0, 1], got {false_accept_rate!r}")
    fpr, tpr, _ = roc_curve(scores, same)
    return float(tpr[fpr <= false_accept_rate + 1e-12].max())
