"""Checkers for the exercises of Section 6.6: IoU, the localization loss, the triplet loss (6.27)
and verification by a distance threshold.

The right answers come from :mod:`cnnlib.metrics` and :mod:`cnnlib.losses` (themselves tested
against scikit-learn and PyTorch); each known slip is computed in NumPy and, when a student's
answer matches it, named in the feedback.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._base import Feedback, _to_array, call_student
from ._registry import checker

__all__ = ["check_iou", "check_localization_loss", "check_triplet_loss", "check_verification_accuracy"]


def _number(value, what: str):
    arr, problem = _to_array(value, what)
    if problem is not None:
        return None, Feedback(False, f"{what} should be a number; got {type(value).__name__}.")
    if arr.size != 1:
        return None, Feedback(False, f"{what} should be a single number; got an array of shape {arr.shape} "
                                     f"(reduce it: a mean over the batch?).")
    return float(arr.reshape(())), None


def _diagnose(got: float, expected: float, variants: dict, *, case: str, rtol: float = 1e-6) -> Feedback | None:
    """None when ``got`` is right; otherwise feedback naming a matching slip, if any."""
    if np.isclose(got, expected, rtol=rtol, atol=1e-9):
        return None
    if np.isnan(got):
        return Feedback(False, f"{case}: your answer is NaN.")
    for reason, wrong in variants.items():
        if not np.isclose(wrong, expected, rtol=rtol, atol=1e-9) and np.isclose(got, wrong, rtol=rtol, atol=1e-9):
            return Feedback(False, f"{case}: you got {got:.6g}, expected {expected:.6g}: it matches what you get when {reason}.")
    return Feedback(False, f"{case}: you got {got:.6g}, expected {expected:.6g}.")


# ---------------------------------------------------------------- IoU
def _iou_variants(a, b):
    def overlap(lo_a, len_a, lo_b, len_b, clamp=True):
        d = min(lo_a + len_a, lo_b + len_b) - max(lo_a, lo_b)
        return max(d, 0.0) if clamp else d
    (xa, ya, ha, wa), (xb, yb, hb, wb) = a, b
    inter = overlap(xa, wa, xb, wb) * overlap(ya, ha, yb, hb)
    raw = overlap(xa, wa, xb, wb, False) * overlap(ya, ha, yb, hb, False)
    union = ha * wa + hb * wb
    swapped = overlap(xa, ha, xb, hb) * overlap(ya, wa, yb, wb)  # heights read along the columns
    corners_w, corners_h = max(min(ha, hb) - max(xa, xb), 0), max(min(wa, wb) - max(ya, yb), 0)
    corners_union = (ha - xa) * (wa - ya) + (hb - xb) * (wb - yb) - corners_w * corners_h
    return {
        "the overlaps were not clipped at 0: boxes apart in both directions give a positive product of two "
        "negative overlaps; use max(0, ...)": raw / (union - raw) if union != raw else np.nan,
        "the union was taken as the sum of the areas; subtract the intersection (it is counted twice)": inter / union,
        "the height was used along the columns (x) and the width along the rows (y); the box is (y_x, y_y, y_h, y_w) "
        "with y_h the height (rows) and y_w the width (columns)": swapped / (union - swapped),
        "the box was read as corners (x1, y1, x2, y2); here it is (y_x, y_y, y_h, y_w): corner, height, width":
            corners_w * corners_h / corners_union if corners_union > 0 else np.nan,
        "the intersection was divided by the area of the first box only": inter / (ha * wa),
    }


@checker
def check_iou(student_fn: Callable) -> Feedback:
    """Check ``iou(box_a, box_b)`` for two boxes in the chapter's encoding (y_x, y_y, y_h, y_w).

    The answer is a number: the area of the intersection of the two rectangles over the area of
    their union. Diagnoses overlaps that are not clipped at zero, a union that counts the
    intersection twice, height and width swapped, integer division ``//``, boxes read as
    corners, and a division by one box's area.

    Examples
    --------
    >>> def right(a, b):
    ...     (xa, ya, ha, wa), (xb, yb, hb, wb) = a, b
    ...     ix = max(0, min(xa + wa, xb + wb) - max(xa, xb))
    ...     iy = max(0, min(ya + ha, yb + hb) - max(ya, yb))
    ...     return ix * iy / (ha * wa + hb * wb - ix * iy)
    >>> check_iou(right)
    ✔ Correct on all 6 pairs of boxes (overlapping, nested, disjoint, touching, tall against wide).
    >>> def no_subtraction(a, b):
    ...     (xa, ya, ha, wa), (xb, yb, hb, wb) = a, b
    ...     ix = max(0, min(xa + wa, xb + wb) - max(xa, xb))
    ...     iy = max(0, min(ya + ha, yb + hb) - max(ya, yb))
    ...     return ix * iy / (ha * wa + hb * wb)
    >>> check_iou(no_subtraction)
    ✘ Pair 1, boxes (2, 1, 4, 6) and (4, 3, 5, 3): you got 0.153846, expected 0.181818: it matches what you get when the union was taken as the sum of the areas; subtract the intersection (it is counted twice).
    """
    from ..metrics import iou

    pairs = [((2, 1, 4, 6), (4, 3, 5, 3)), ((0, 0, 10, 10), (3, 2, 4, 5)), ((1, 2, 3, 5), (1, 2, 3, 5)),
             ((0, 0, 2, 3), (6, 5, 2, 2)), ((0, 0, 4, 4), (4, 0, 4, 4)), ((3, 0, 8, 2), (0, 3, 2, 8))]
    for k, (a, b) in enumerate(pairs, start=1):
        got, problem = call_student(student_fn, a, b)
        if problem is not None:
            return problem
        if isinstance(got, (int, np.integer)) and not isinstance(got, bool) and iou(a, b) not in (0.0, 1.0):
            return Feedback(False, f"Pair {k}, boxes {a} and {b}: you got the whole number {got!r}, expected "
                                   f"{iou(a, b):.6g}: integer division (//) was used, which rounds the ratio down; use /.")
        got, problem = _number(got, "Your IoU")
        if problem is not None:
            return problem
        fb = _diagnose(got, iou(a, b), _iou_variants(np.array(a, float), np.array(b, float)),
                       case=f"Pair {k}, boxes {a} and {b}")
        if fb is not None:
            return fb
    return Feedback(True, f"Correct on all {len(pairs)} pairs of boxes (overlapping, nested, disjoint, touching, "
                          "tall against wide).")


# ---------------------------------------------------------------- localization loss
def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _localization_case(seed):
    rng = np.random.default_rng(seed)
    B, K = 6, 3
    logits, boxes = rng.normal(size=(B, K)), rng.uniform(0, 1, size=(B, 4))
    labels = np.array([0, 1, 2, 1, 0, 2])
    target = rng.uniform(0, 1, size=(B, 4))
    target[labels == 0] = np.nan  # "do not care"
    return logits, boxes, labels, target


@checker
def check_localization_loss(student_fn: Callable) -> Feedback:
    """Check ``loc_loss(logits, boxes, labels, target_boxes, gamma)``: the chapter's localization loss.

    NumPy inputs: ``logits`` (B, K), ``boxes`` and ``target_boxes`` (B, 4), ``labels`` (B,) with
    0 = "nothing" (whose target rows are NaN: "do not care"), ``gamma`` a number. The answer is
    the mean over the batch of the cross-entropy plus ``gamma * (1 - y_1)`` times the squared
    error summed over the four box numbers (:func:`cnnlib.losses.localization_loss`).
    Diagnoses a box term on "nothing" rows, a missing or misplaced ``gamma``, a sum instead of
    a mean, a mean over the four box numbers (our convention sums them), an L1 box error, and a
    missing minus sign or log.

    Examples
    --------
    >>> def right(logits, boxes, labels, target, gamma):
    ...     z = logits - logits.max(1, keepdims=True)
    ...     ce = -(z - np.log(np.exp(z).sum(1, keepdims=True)))[np.arange(len(labels)), labels]
    ...     has = labels != 0
    ...     se = np.zeros(len(labels))
    ...     se[has] = ((boxes[has] - target[has]) ** 2).sum(1)
    ...     return np.mean(ce + gamma * se)
    >>> check_localization_loss(right)
    ✔ Correct on 2 batches (gamma = 1 and 2.5): cross-entropy plus gamma times the squared box error, for objects only.
    """
    import torch

    from ..losses import localization_loss

    for k, gamma in enumerate((1.0, 2.5), start=1):
        logits, boxes, labels, target = _localization_case(k)
        got, problem = call_student(student_fn, logits.copy(), boxes.copy(), labels.copy(), target.copy(), gamma)
        if problem is not None:
            return problem
        got, problem = _number(got, "Your loss")
        if problem is not None:
            return problem
        expected = float(localization_loss(*(torch.tensor(v) for v in (logits, boxes, labels, target)), gamma=gamma))
        ce = -_log_softmax(logits)[np.arange(len(labels)), labels]
        has = labels != 0
        se = np.where(has, ((boxes - np.nan_to_num(target)) ** 2).sum(1), 0.0)
        se_all = ((boxes - np.nan_to_num(target)) ** 2).sum(1)  # NaN targets read as 0
        case = f"Batch {k} (gamma = {gamma})"
        if np.isnan(got):
            return Feedback(False, f"{case}: your loss is NaN: the box error was computed for 'nothing' images, "
                                   "whose target boxes are NaN ('do not care'); multiply by (1 - y_1) *before* it can "
                                   "touch them, e.g. compute it only for rows with label != 0.")
        variants = {
            "the box error was added for 'nothing' images too (their target read as 0); the factor (1 - y_1) "
            "switches it off": np.mean(ce + gamma * se_all),
            "gamma was left out": np.mean(ce + se),
            "gamma multiplied the cross-entropy instead of the box error": np.mean(gamma * ce + se),
            "the losses were summed over the batch; take the mean": np.sum(ce + gamma * se),
            "the squared error was averaged over the four box numbers; the chapter allows 'mean squared error "
            "or some variant', and our convention (cnnlib.losses.localization_loss) sums the four squared errors "
            "of (y_x, y_y, y_h, y_w)": np.mean(ce + gamma * se / 4),
            "absolute errors were used for the box (an L1 loss); this exercise squares them": np.mean(
                ce + gamma * np.where(has, np.abs(boxes - np.nan_to_num(target)).sum(1), 0.0)),
            "the cross-entropy lost its minus sign (it must be -log p of the true class)": np.mean(-ce + gamma * se),
            "only the box error was computed (no cross-entropy)": np.mean(gamma * se),
        }
        fb = _diagnose(got, expected, variants, case=case)
        if fb is not None:
            return fb
    return Feedback(True, "Correct on 2 batches (gamma = 1 and 2.5): cross-entropy plus gamma times the squared "
                          "box error, for objects only.")


# ---------------------------------------------------------------- triplet loss
@checker
def check_triplet_loss(student_fn: Callable) -> Feedback:
    """Check ``triplet(anchor, positive, negative, margin)``: the mean over the batch of (6.27).

    NumPy inputs of shape (B, D) and a margin alpha > 0; the answer is the mean of
    ``max(||a - s||^2 - ||a - d||^2 + alpha, 0)`` with squared Euclidean distances, as
    :func:`cnnlib.losses.triplet_loss` computes. Diagnoses a missing ``max(., 0)``, the max taken
    after the mean, plain instead of squared distances, cosine distances, the margin with the
    wrong sign, positive and negative swapped, a sum instead of a mean, and a mean over the
    active triplets only.

    Examples
    --------
    >>> def right(a, s, d, margin):
    ...     d_same, d_diff = ((a - s) ** 2).sum(1), ((a - d) ** 2).sum(1)
    ...     return np.maximum(d_same - d_diff + margin, 0).mean()
    >>> check_triplet_loss(right)
    ✔ Correct on 2 batches of triplets: squared distances, the margin added, negative values clipped to 0, a mean.
    >>> def no_clip(a, s, d, margin):
    ...     return (((a - s) ** 2).sum(1) - ((a - d) ** 2).sum(1) + margin).mean()
    >>> print(check_triplet_loss(no_clip).message.split(": it")[1])
     matches what you get when the max(., 0) was left out (or applied after the mean): each triplet's loss is clipped at 0 before averaging, since admissible triplets (6.28) must cost 0, not a negative amount.
    """
    import torch

    from ..losses import triplet_loss

    for k, margin in enumerate((0.5, 1.5), start=1):
        rng = np.random.default_rng(100 + k)
        a, s, d = (rng.normal(size=(8, 3)) for _ in range(3))
        got, problem = call_student(student_fn, a.copy(), s.copy(), d.copy(), margin)
        if problem is not None:
            return problem
        got, problem = _number(got, "Your loss")
        if problem is not None:
            return problem
        expected = float(triplet_loss(*(torch.tensor(v) for v in (a, s, d)), margin=margin))
        sq_same, sq_diff = ((a - s) ** 2).sum(1), ((a - d) ** 2).sum(1)
        clipped = np.maximum(sq_same - sq_diff + margin, 0)
        cos = lambda u, v: 1 - (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)  # noqa: E731
        variants = {
            "the max(., 0) was left out (or applied after the mean): each triplet's loss is clipped at 0 before "
            "averaging, since admissible triplets (6.28) must cost 0, not a negative amount":
                np.mean(sq_same - sq_diff + margin),
            "plain Euclidean distances were used; (6.27) squares them": np.mean(
                np.maximum(np.sqrt(sq_same) - np.sqrt(sq_diff) + margin, 0)),
            "the margin was subtracted; (6.27) adds alpha to d_same - d_different":
                np.mean(np.maximum(sq_same - sq_diff - margin, 0)),
            "the positive and the negative swapped roles; d_same uses the image of the same identity":
                np.mean(np.maximum(sq_diff - sq_same + margin, 0)),
            "the losses were summed over the batch; take the mean": np.sum(clipped),
            "the max(., 0) was taken after the mean; clip each triplet's loss first, then average":
                max(np.mean(sq_same - sq_diff + margin), 0.0),
            "the sum was divided by the number of active triplets (those with a positive loss), as the training "
            "loop of 6.6.2 does; the exercise asks for the mean over all triplets": np.sum(clipped) / max(1, np.sum(clipped > 0)),
            "cosine distances were used; (6.27) uses squared Euclidean distances":
                np.mean(np.maximum(cos(a, s) - cos(a, d) + margin, 0)),
        }
        fb = _diagnose(got, expected, variants, case=f"Batch {k} (margin {margin})")
        if fb is not None:
            return fb
    return Feedback(True, "Correct on 2 batches of triplets: squared distances, the margin added, negative values "
                          "clipped to 0, a mean.")


# ---------------------------------------------------------------- verification
@checker
def check_verification_accuracy(student_fn: Callable) -> Feedback:
    """Check ``accuracy(distances, same, threshold)``: declare "same" when the distance is below the threshold.

    NumPy inputs: ``distances`` (N,), ``same`` (N,) of 0/1, a number ``threshold``. The
    answer is the fraction of pairs decided correctly. Diagnoses the inequality the wrong way
    round, the accuracy on one kind of pair only (true or false positive rates), a count
    instead of a fraction, and a percentage.

    Examples
    --------
    >>> def right(distances, same, threshold):
    ...     return np.mean((distances < threshold) == (same == 1))
    >>> check_verification_accuracy(right)
    ✔ Correct on 3 thresholds: a pair is 'same' when its distance is below the threshold.
    >>> print(check_verification_accuracy(lambda d, s, t: np.mean((d > t) == (s == 1))).message)
    Threshold 0.3: you got 0.333333, expected 0.666667: it matches what you get when the inequality points the wrong way: small distances mean 'same'.
    """
    rng = np.random.default_rng(7)
    same = np.array([1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0])
    distances = np.where(same == 1, rng.uniform(0.0, 0.45, size=12), rng.uniform(0.15, 1.0, size=12))
    for threshold in (0.3, 0.2, 0.5):
        got, problem = call_student(student_fn, distances.copy(), same.copy(), threshold)
        if problem is not None:
            return problem
        got, problem = _number(got, "Your accuracy")
        if problem is not None:
            return problem
        decided = distances < threshold
        expected = float(np.mean(decided == (same == 1)))
        variants = {
            "the inequality points the wrong way: small distances mean 'same'": np.mean((distances > threshold) == (same == 1)),
            "only the 'same' pairs were scored (that is the true positive rate)": np.mean(decided[same == 1]),
            "only the 'different' pairs were scored (that is the true negative rate)": np.mean(~decided[same == 0]),
            "the correct decisions were counted, not divided by the number of pairs": float(np.sum(decided == (same == 1))),
            "the accuracy was given in percent; give a fraction between 0 and 1": 100 * expected,
        }
        fb = _diagnose(got, expected, variants, case=f"Threshold {threshold}")
        if fb is not None:
            return fb
    return Feedback(True, "Correct on 3 thresholds: a pair is 'same' when its distance is below the threshold.")
