"""Checkers of cnnlib.exercises.keypoints_instances: right answers pass (cnnlib, SciPy and brute force as oracles), each slip is named."""
import itertools

import numpy as np
import pytest
from scipy import ndimage

from cnnlib import exercises, instances, keypoints


def pixel_error(pred, target, size, scale=True, match=True, squared=False):
    p, t = pred.reshape(len(pred), 3, 2), target.reshape(len(target), 3, 2)
    orders = list(itertools.permutations(range(3))) if match else [(0, 1, 2)]
    per_image = []
    for a, b in zip(p, t):
        options = [np.linalg.norm(a[list(o)] - b, axis=1) * (size if scale else 1) for o in orders]
        per_image.append(min((o ** 2 if squared else o).mean() for o in options))
    return np.mean(per_image)


def test_keypoint_error_right_answers_pass():
    assert exercises.check_keypoint_error(pixel_error)
    assert exercises.check_keypoint_error(lambda p, t, s: keypoints.keypoint_error(p, t, scale=s).mean())


@pytest.mark.parametrize("fn, words", [
    (lambda p, t, s: pixel_error(p, t, s, scale=False), "fractions of the image side"),
    (lambda p, t, s: pixel_error(p, t, s, match=False), "compared in the order given"),
    (lambda p, t, s: pixel_error(p, t, s, squared=True), "squared distances"),
    (lambda p, t, s: s * np.mean([min(np.linalg.norm(a[list(o)] - b) for o in itertools.permutations(range(3)))
                                  for a, b in zip(p.reshape(-1, 3, 2), t.reshape(-1, 3, 2))]), "two 6-vectors"),
    (lambda p, t, s: s * np.mean([min(np.abs(a[list(o)] - b).mean() for o in itertools.permutations(range(3)))
                                  for a, b in zip(p.reshape(-1, 3, 2), t.reshape(-1, 3, 2))]), "absolute errors"),
    (lambda p, t, s: 1.0, "expected 1.48"),
])
def test_keypoint_error_slips_are_named(fn, words):
    fb = exercises.check_keypoint_error(fn)
    assert not fb and words in fb.message


def iou_matrix(pred, true, background=False, union_twice=False, over_true=False):
    ps = np.unique(pred) if background else np.unique(pred[pred > 0])
    ts = np.unique(true) if background else np.unique(true[true > 0])
    out = np.zeros((len(ps), len(ts)))
    for i, p in enumerate(ps):
        for j, t in enumerate(ts):
            inter = ((pred == p) & (true == t)).sum()
            union = (pred == p).sum() + (true == t).sum() - (0 if union_twice else inter)
            out[i, j] = inter / ((true == t).sum() if over_true else union)
    return out


def test_iou_matrix_right_answers_pass():
    assert exercises.check_iou_matrix(iou_matrix)
    assert exercises.check_iou_matrix(lambda p, t: instances.instance_iou(p, t)[0])


@pytest.mark.parametrize("fn, words", [
    (lambda p, t: iou_matrix(p, t, background=True), "background (label 0) was counted"),
    (lambda p, t: iou_matrix(p, t).T, "rows and columns were swapped"),
    (lambda p, t: iou_matrix(p, t, union_twice=True), "sum of the areas"),
    (lambda p, t: iou_matrix(p, t, over_true=True), "true object's area only"),
])
def test_iou_matrix_slips_are_named(fn, words):
    fb = exercises.check_iou_matrix(fn)
    assert not fb and words in str(fb)


def count_merged(inst, corners=False, components=False, lost=False):
    comps, n = ndimage.label(inst > 0, structure=np.ones((3, 3)) if corners else None)
    objects = np.unique(inst[inst > 0])
    if lost:
        return len(objects) - n
    if components:
        return sum(len(np.unique(inst[comps == c])) > 1 for c in range(1, n + 1))
    return sum(len(set(np.unique(inst[comps == np.bincount(comps[inst == k]).argmax()])) - {0}) > 1 for k in objects)


def test_merged_count_right_answers_pass():
    assert exercises.check_merged_count(count_merged)
    assert exercises.check_merged_count(lambda inst: instances.merged_objects(inst)[0])


@pytest.mark.parametrize("fn, words", [
    (lambda i: count_merged(i, corners=True), "8-neighbours"),
    (lambda i: count_merged(i, components=True), "components holding several objects"),
    (lambda i: count_merged(i, lost=True), "how many objects are lost"),
    (lambda i: "three", "array of numbers"),
])
def test_merged_count_slips_are_named(fn, words):
    fb = exercises.check_merged_count(fn)
    assert not fb and words in str(fb)


def test_stubs_are_not_attempted():
    def stub(*args):
        ...
    for check in (exercises.check_keypoint_error, exercises.check_iou_matrix, exercises.check_merged_count):
        fb = check(stub)
        assert not fb and "Not attempted yet" in str(fb)
