"""Checkers for the exercises of Section 6.4.6: receptive-field boxes, top activations, the
deconvnet's rectification, occlusion maps.

The right answers come from :mod:`cnnlib.inner` or from a few lines of NumPy written out
here; each known slip is computed too and, when a student's answer matches it, named.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4 (Figure 6.12); M. D. Zeiler and R. Fergus, ECCV 2014.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._validation import check_choice
from ._base import Feedback, call_student, compare_arrays
from ._registry import checker

__all__ = ["check_receptive_field_box", "check_top_images", "check_relu_backward", "check_occlusion"]


def _box_tuple(answer):
    try:
        box = tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        return None
    if len(box) != 4 or any(float(a) != b for a, b in zip(answer, box)):
        return None
    return box


@checker
def check_receptive_field_box(answer, model, layer, position, input_shape) -> Feedback:
    """Check a receptive-field box ``(top, left, bottom, right)`` (inclusive, clipped to the image).

    The right box is :func:`cnnlib.inner.receptive_field_box`. Diagnoses exclusive ends (one
    too far at the bottom and right, also where that runs past the border), a box not clipped
    to the image, the order ``(top, bottom, left, right)``, the field of the unit at
    ``(col, row)`` instead of ``(row, col)``, a box that ignores the padding of the layers
    before (shifted down and right), and a box one pixel off; no message gives the answer away.

    Examples
    --------
    >>> from cnnlib import models
    >>> net = models.lenet5()
    >>> check_receptive_field_box((8, 16, 21, 27), net, "features.conv2", (5, 9), (1, 28, 28))
    ✔ Correct: unit (5, 9) of features.conv2 sees rows 8..21 and columns 16..27 of the input.
    >>> check_receptive_field_box((8, 16, 21, 29), net, "features.conv2", (5, 9), (1, 28, 28))
    ✘ Your box (8, 16, 21, 29) reaches outside the 28 x 28 image: the field does, but only pixels inside the image count; clip it.
    """
    from .. import inner

    box = _box_tuple(answer)
    if box is None:
        return Feedback(False, f"Give the box as four whole numbers (top, left, bottom, right); got {answer!r}.")
    expected = inner.receptive_field_box(model, layer, position, input_shape)
    H, W = input_shape[-2:]
    name = inner.layer_name(model, layer)
    if box == expected:
        t, l, b, r = expected
        return Feedback(True, f"Correct: unit {tuple(position)} of {name} sees rows {t}..{b} and columns "
                              f"{l}..{r} of the input.")
    t, l, b, r = expected
    hints = []
    if box == (t, l, b + 1, r + 1):  # Python's exclusive ends (past the border too: test it before clipping)
        return Feedback(False, f"Your box {box} ends one pixel too far: bottom and right are included in the box "
                               f"(Python's slices exclude their end, this box does not).")
    shift = _padding_shift(model, name)
    unpadded = [(v + d) for v, d in zip((t, l), shift)]
    if any(shift) and box[:2] == tuple(min(v, m - 1) for v, m in zip(unpadded, (H, W))) and box != expected:
        return Feedback(False, f"Your box {box} is shifted down and right, as if the layers before had no padding: "
                               f"padding adds rows and columns of zeros before the first pixel, so the field of "
                               f"unit (0, 0) starts that many pixels earlier.")
    if box[0] < 0 or box[1] < 0 or box[2] >= H or box[3] >= W:
        return Feedback(False, f"Your box {box} reaches outside the {H} x {W} image: the field does, but only pixels "
                               f"inside the image count; clip it.")
    if box == (t, b, l, r):
        return Feedback(False, f"Your box {box} lists (top, bottom, left, right); the order asked is "
                               f"(top, left, bottom, right).")
    swapped = tuple(position)[::-1]
    if swapped != tuple(position):
        try:
            if box == inner.receptive_field_box(model, layer, swapped, input_shape):
                return Feedback(False, f"Your box {box} is the field of the unit at {swapped}: a position is "
                                       f"(row, col), so its first number moves the box down, its second to the right.")
        except ValueError:  # the swapped position is not on the map
            pass
    if all(abs(x - y) <= 1 for x, y in zip(box, expected)):
        hints.append("one pixel off somewhere: check where the field of unit (0, 0) starts (padding moves it)")
    if (box[2] - box[0], box[3] - box[1]) == (b - t, r - l):
        hints.append("the size is right but the box is shifted: the start of the field, plus position * jump")
    return Feedback(False, f"Your box {box} is not right: find the centre of the field (where the field of unit "
                           f"(0, 0) is centred, plus position times the jump), go half the field's size each way "
                           f"and clip to the image.", hints)


def _padding_shift(model, layer: str) -> tuple:
    """How far (rows, columns) the box would move down and right if every layer before ``layer`` had no padding."""
    from torch import nn

    from .. import shapes

    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]
    inside = [i for i, (n, _) in enumerate(leaves) if n == layer or n.startswith(layer + ".")]
    shift, jump = [0, 0], [1, 1]
    for _, module in leaves[:inside[-1] + 1] if inside else []:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            _, s, p = shapes.layer_geometry(module)
            shift = [d + pad * j for d, pad, j in zip(shift, p, jump)]
            jump = [j * stride for j, stride in zip(jump, s)]
    return tuple(shift)


def _top_images_reference(acts: np.ndarray, k: int):
    flat = acts.reshape(len(acts), -1)
    best, where = flat.max(axis=1), flat.argmax(axis=1)
    order = sorted(range(len(acts)), key=lambda n: (-best[n], n))[:k]
    return [(int(n), tuple(int(v) for v in np.unravel_index(where[n], acts.shape[1:])), float(best[n])) for n in order]


def _as_triples(got):
    try:
        return [(int(i), (int(p[0]), int(p[1])), float(v)) for i, p, v in got]
    except (TypeError, ValueError, IndexError):
        return None


@checker
def check_top_images(student_fn: Callable) -> Feedback:
    """Check ``top_images(acts, k)``: the ``k`` images whose channel fires most, as :func:`cnnlib.inner.top_activations` gives them.

    ``acts`` has shape (N, h, w): one channel's map for each of N images. The answer is a list
    of ``(image_index, (row, col), value)``, largest first: per image the maximum over
    positions, then the ``k`` best images (ties: smaller index first). Diagnoses the
    ascending order, the mean instead of the maximum, the top ``k`` positions taken over all
    images at once (one image can then appear twice), and (col, row) positions.

    Examples
    --------
    >>> def top_images(acts, k):
    ...     flat = acts.reshape(len(acts), -1)
    ...     order = np.argsort(-flat.max(axis=1), kind="stable")[:k]
    ...     return [(n, divmod(int(flat[n].argmax()), acts.shape[2]), flat[n].max()) for n in order]
    >>> check_top_images(top_images)
    ✔ Correct on all 3 test cases: the best position of each image, then the k best images.
    >>> check_top_images(lambda acts, k: top_images(acts, k)[::-1])
    ✘ Case 1: your list is in increasing order; put the largest activation first.
    """
    rng = np.random.default_rng(646)
    cases = [(rng.normal(size=(7, 4, 5)), 3), (rng.normal(size=(12, 3, 3)), 9), (rng.normal(size=(5, 6, 2)), 5)]
    # one case where a single image holds the two largest values of all
    cases[1][0][4, 0, 0], cases[1][0][4, 2, 2] = 9.0, 8.0
    for case, (acts, k) in enumerate(cases, start=1):
        got, problem = call_student(student_fn, acts.copy(), k)
        if problem is not None:
            return problem
        expected = _top_images_reference(acts, k)
        triples = _as_triples(got) if got is not None else None
        if triples is None:
            return Feedback(False, f"Case {case}: return a list of (image_index, (row, col), value); got {got!r:.80}.")
        if len(triples) != k:
            return Feedback(False, f"Case {case}: your list has {len(triples)} entries; expected k = {k}.")
        if [(i, p) for i, p, _ in triples] == [(i, p) for i, p, _ in expected] and np.allclose(
                [v for *_, v in triples], [v for *_, v in expected]):
            continue
        ascending = _top_images_reference(acts, len(acts))[::-1][:k]
        if [i for i, *_ in triples] == [i for i, *_ in ascending] or [i for i, *_ in triples] == [
                i for i, *_ in expected][::-1]:
            return Feedback(False, f"Case {case}: your list is in increasing order; put the largest activation first.")
        means = acts.reshape(len(acts), -1).mean(axis=1)
        if [i for i, *_ in triples] == list(np.argsort(-means, kind="stable")[:k]):
            return Feedback(False, f"Case {case}: you ranked the images by their mean activation; rank them by the "
                                   "maximum over positions (the strongest response anywhere in the image).")
        if len({i for i, *_ in triples}) < len(triples):
            return Feedback(False, f"Case {case}: an image appears more than once: take the best position of each "
                                   "image first, then the k best images.")
        if [i for i, *_ in triples] == [i for i, *_ in expected]:
            if [p[::-1] for _, p, _ in triples] == [p for _, p, _ in expected]:
                return Feedback(False, f"Case {case}: the images are right but the positions are (col, row); give "
                                       "(row, col).")
            return Feedback(False, f"Case {case}: the images are right but not all positions or values are: "
                                   f"expected {expected[:2]}..., got {triples[:2]}...")
        return Feedback(False, f"Case {case}: expected the images {[i for i, *_ in expected]}, got "
                               f"{[i for i, *_ in triples]}.")
    return Feedback(True, f"Correct on all {len(cases)} test cases: the best position of each image, then the k best "
                          "images.")


_RELU_RULES = {
    "backprop": ("backpropagation: keep the signal where the ReLU's input x was positive",
                 lambda x, g: g * (x > 0)),
    "deconvnet": ("the deconvnet: a ReLU of the signal coming down, whatever x was",
                  lambda x, g: np.maximum(g, 0)),
    "guided": ("guided backpropagation: both masks, x > 0 and a positive signal",
               lambda x, g: np.maximum(g, 0) * (x > 0)),
}


@checker
def check_relu_backward(student_fn: Callable, rule: str = "deconvnet") -> Feedback:
    """Check ``relu_back(x, g)``: what a ReLU passes down given its forward input ``x`` and the signal ``g`` from above.

    Parameters
    ----------
    student_fn : callable
        ``relu_back(x, g)`` on two arrays of one shape, returning an array of that shape.
    rule : {'deconvnet', 'backprop', 'guided'}, default 'deconvnet'
        Which rule is asked for: the deconvnet's ``max(g, 0)``, backpropagation's
        ``g * (x > 0)`` or guided backpropagation's ``max(g, 0) * (x > 0)``. An answer that
        implements one of the other two is told which.

    Examples
    --------
    >>> check_relu_backward(lambda x, g: np.maximum(g, 0))
    ✔ Correct: the deconvnet: a ReLU of the signal coming down, whatever x was.
    >>> check_relu_backward(lambda x, g: g * (x > 0))
    ✘ Your output has the right shape but its values are off: it matches what you get when you implemented backpropagation: keep the signal where the ReLU's input x was positive.
    """
    check_choice(rule, "rule", tuple(_RELU_RULES))
    rng = np.random.default_rng(6)
    x, g = rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 4))
    got, problem = call_student(student_fn, x.copy(), g.copy())
    if problem is not None:
        return problem
    what, fn = _RELU_RULES[rule]
    variants = {f"you implemented {w}": f(x, g) for name, (w, f) in _RELU_RULES.items() if name != rule}
    variants["the ReLU was applied to x instead of to the signal"] = np.maximum(x, 0)
    fb = compare_arrays(got, fn(x, g), what="Your output", variants=variants)
    if fb:
        return Feedback(True, f"Correct: {what}.")
    return fb


def _occlusion_reference(score, image, patch, stride, fill):
    C, H, W = image.shape
    base = score(image)
    rows, cols = (H - patch) // stride + 1, (W - patch) // stride + 1
    out = np.zeros((rows, cols))
    raw = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            y = image.copy()
            y[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            raw[i, j] = score(y)
            out[i, j] = raw[i, j] - base
    return out, raw, base


@checker
def check_occlusion(student_fn: Callable) -> Feedback:
    """Check ``occlusion(score, image, patch, stride, fill)``: the change of a score as a square hides the image.

    ``image`` has shape (C, H, W); ``score(image)`` returns a number. The answer has shape
    ``((H - patch) // stride + 1, (W - patch) // stride + 1)``; entry ``(i, j)`` is the score
    with the ``patch`` x ``patch`` square at rows ``i * stride ...`` and columns
    ``j * stride ...`` set to ``fill``, minus the score of the intact image (what
    :func:`cnnlib.inner.occlusion_map` returns). Diagnoses the opposite sign, raw scores
    instead of changes, positions that let the square leave the image, and a stride of 1.

    Examples
    --------
    >>> def occlusion(score, image, patch, stride, fill):
    ...     base = score(image)
    ...     H, W = image.shape[1:]
    ...     out = np.zeros(((H - patch) // stride + 1, (W - patch) // stride + 1))
    ...     for i in range(out.shape[0]):
    ...         for j in range(out.shape[1]):
    ...             y = image.copy()
    ...             y[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
    ...             out[i, j] = score(y) - base
    ...     return out
    >>> check_occlusion(occlusion)
    ✔ Correct on all 2 test cases: each entry is the score with the square in place minus the intact score.
    """
    rng = np.random.default_rng(64)
    weights = rng.normal(size=(2, 11, 9))
    score = lambda img: float((np.asarray(img) * weights[:, :img.shape[1], :img.shape[2]]).sum())  # noqa: E731
    cases = [(rng.random((2, 11, 9)), 3, 2, 0.5), (rng.random((2, 10, 9)), 4, 3, 0.0)]
    for case, (image, patch, stride, fill) in enumerate(cases, start=1):
        got, problem = call_student(student_fn, score, image.copy(), patch, stride, fill)
        if problem is not None:
            return problem
        expected, raw, base = _occlusion_reference(score, image, patch, stride, fill)
        H, W = image.shape[1:]
        variants = {"the sign is reversed: take score(occluded) - score(image), negative where hiding hurts": -expected,
                    "these are the scores of the occluded images; subtract the score of the intact image": raw}
        hints = {(H // stride, W // stride): "the square must stay inside the image: (H - patch) // stride + 1 positions",
                 (H - patch + 1, W - patch + 1): "that is a stride of 1: move the square stride pixels at a time",
                 (-(-H // stride), -(-W // stride)): "the square must stay inside the image: (H - patch) // stride + 1"}
        hints = {s: h for s, h in hints.items() if s != expected.shape}
        fb = compare_arrays(got, expected, what="Your map", variants=variants, shape_hints=hints)
        if not fb:
            fb.message = f"Case {case} (image {image.shape}, patch {patch}, stride {stride}): {fb.message}"
            return fb
    return Feedback(True, f"Correct on all {len(cases)} test cases: each entry is the score with the square in place "
                          "minus the intact score.")
