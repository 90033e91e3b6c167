"""Checkers of cnnlib.exercises.beyond: right answers (cnnlib and PyTorch as oracles) pass, each slip is named."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import exercises, metrics


# ---------------------------------------------------------------- IoU
def iou_variant(clip=True, subtract=True, swap=False, corners=False, first_area=False):
    def fn(a, b):
        (xa, ya, ha, wa), (xb, yb, hb, wb) = a, b
        if swap:
            ha, wa, hb, wb = wa, ha, wb, hb
        if corners:  # (x1, y1, x2, y2) read from (x, y, h, w)
            ix = min(ha, hb) - max(xa, xb)
            iy = min(wa, wb) - max(ya, yb)
            ix, iy = max(ix, 0), max(iy, 0)
            return ix * iy / ((ha - xa) * (wa - ya) + (hb - xb) * (wb - yb) - ix * iy)
        ix = min(xa + wa, xb + wb) - max(xa, xb)
        iy = min(ya + ha, yb + hb) - max(ya, yb)
        if clip:
            ix, iy = max(ix, 0), max(iy, 0)
        if first_area:
            return ix * iy / (ha * wa)
        return ix * iy / (ha * wa + hb * wb - (ix * iy if subtract else 0))
    return fn


def test_iou_right_answers_pass():
    assert exercises.check_iou(iou_variant())
    assert exercises.check_iou(lambda a, b: metrics.iou(a, b))
    assert exercises.check_iou(lambda a, b: torch.tensor(metrics.iou(a, b)))


@pytest.mark.parametrize("fn, words", [
    (iou_variant(clip=False), "not clipped at 0"),
    (iou_variant(subtract=False), "subtract the intersection"),
    (iou_variant(swap=True), "height was used along the columns"),
    (iou_variant(corners=True), "read as corners"),
    (iou_variant(first_area=True), "area of the first box only"),
    (lambda a, b: [0.5, 0.5], "single number"),
    (lambda a, b: "big", "should be a number"),
    (lambda a, b: 1 / 0, "ZeroDivisionError"),
    (lambda a, b: 0.3, "expected"),
])
def test_iou_slips_are_named(fn, words):
    fb = exercises.check_iou(fn)
    assert not fb and words in str(fb)


# ---------------------------------------------------------------- localization loss
def loc_variant(mask=True, gamma_on="box", reduce="mean", box_mean=False, sign=1, nan_safe=True):
    def fn(logits, boxes, labels, target, gamma):
        ce = F.cross_entropy(torch.tensor(logits), torch.tensor(labels), reduction="none").numpy() * sign
        t = np.nan_to_num(target) if nan_safe else target
        se = ((boxes - t) ** 2).sum(1) / (4 if box_mean else 1)
        if mask:
            se = np.where(labels != 0, se, 0.0) if nan_safe else se * (labels != 0)
        g = {"box": (1, gamma), "ce": (gamma, 1), "none": (1, 1)}[gamma_on]
        per = g[0] * ce + g[1] * se
        return per.mean() if reduce == "mean" else per.sum()
    return fn


def test_localization_loss_right_answers_pass():
    assert exercises.check_localization_loss(loc_variant())
    from cnnlib import losses
    assert exercises.check_localization_loss(
        lambda lg, b, l, t, g: losses.localization_loss(*(torch.tensor(v) for v in (lg, b, l, t)), gamma=g))


@pytest.mark.parametrize("fn, words", [
    (loc_variant(mask=False), "'nothing' images too"),
    (loc_variant(nan_safe=False), "your loss is NaN"),
    (loc_variant(gamma_on="none"), "gamma was left out"),
    (loc_variant(gamma_on="ce"), "gamma multiplied the cross-entropy"),
    (loc_variant(reduce="sum"), "summed over the batch"),
    (loc_variant(box_mean=True), "averaged over the four box numbers"),
    (loc_variant(sign=-1), "minus sign"),
])
def test_localization_loss_slips_are_named(fn, words):
    fb = exercises.check_localization_loss(fn)
    assert not fb and words in str(fb)


# ---------------------------------------------------------------- triplet loss
def triplet_variant(clip=True, squared=True, margin_sign=1, swap=False, reduce="mean"):
    def fn(a, s, d, margin):
        if swap:
            s, d = d, s
        ds, dd = ((a - s) ** 2).sum(1), ((a - d) ** 2).sum(1)
        if not squared:
            ds, dd = np.sqrt(ds), np.sqrt(dd)
        v = ds - dd + margin_sign * margin
        v = np.maximum(v, 0) if clip else v
        return v.mean() if reduce == "mean" else v.sum()
    return fn


def test_triplet_right_answers_pass():
    assert exercises.check_triplet_loss(triplet_variant())
    # oracle: PyTorch's triplet_margin_loss on squared distances written as a custom distance
    sq = lambda x, y: ((x - y) ** 2).sum(1)
    assert exercises.check_triplet_loss(lambda a, s, d, m: F.triplet_margin_with_distance_loss(
        *(torch.tensor(v) for v in (a, s, d)), distance_function=sq, margin=m))


@pytest.mark.parametrize("fn, words", [
    (triplet_variant(clip=False), "max(., 0) was left out"),
    (triplet_variant(squared=False), "plain Euclidean distances"),
    (triplet_variant(margin_sign=-1), "margin was subtracted"),
    (triplet_variant(swap=True), "swapped roles"),
    (triplet_variant(reduce="sum"), "summed over the batch"),
    (lambda a, s, d, m: np.zeros(8), "single number"),
])
def test_triplet_slips_are_named(fn, words):
    fb = exercises.check_triplet_loss(fn)
    assert not fb and words in str(fb)


# ---------------------------------------------------------------- verification
def test_verification_right_answers_pass():
    assert exercises.check_verification_accuracy(lambda d, s, t: np.mean((d < t) == (s == 1)))
    # oracle: cnnlib.metrics on minus the distance (larger = more alike)
    assert exercises.check_verification_accuracy(lambda d, s, t: metrics.verification_accuracy(-d, s, -t))


@pytest.mark.parametrize("fn, words", [
    (lambda d, s, t: np.mean((d > t) == (s == 1)), "wrong way"),
    (lambda d, s, t: np.mean((d < t)[s == 1]), "true positive rate"),
    (lambda d, s, t: np.mean(~(d < t)[s == 0]), "true negative rate"),
    (lambda d, s, t: np.sum((d < t) == (s == 1)), "counted, not divided"),
    (lambda d, s, t: "high", "should be a number"),
])
def test_verification_slips_are_named(fn, words):
    fb = exercises.check_verification_accuracy(fn)
    assert not fb and words in str(fb)
