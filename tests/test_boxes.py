"""cnnlib.boxes: formats (round trips, torchvision's semantics), box_iou, nms and average precision (brute force)."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import boxes, metrics

coords = st.floats(0, 50, allow_nan=False)
sizes = st.floats(0.5, 30, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(x=coords, y=coords, h=sizes, w=sizes, fmt_in=st.sampled_from(boxes.BOX_FORMATS),
       fmt_out=st.sampled_from(boxes.BOX_FORMATS))
def test_box_convert_round_trips_and_definitions(x, y, h, w, fmt_in, fmt_out):
    # the four descriptions of one box, written out from their definitions
    forms = {"xyxy": [x, y, x + w, y + h], "xywh": [x, y, w, h], "cxcywh": [x + w / 2, y + h / 2, w, h],
             "xyhw": [x, y, h, w]}
    np.testing.assert_allclose(boxes.box_convert(forms[fmt_in], fmt_in, fmt_out), forms[fmt_out], atol=1e-9)


def test_box_convert_matches_torchvision():
    torchvision = pytest.importorskip("torchvision")
    import torch
    rng = np.random.default_rng(0)
    b = np.concatenate([rng.uniform(0, 10, (20, 2)), rng.uniform(1, 5, (20, 2))], 1)
    for fin, fout in itertools.permutations(("xyxy", "xywh", "cxcywh"), 2):
        ours = boxes.box_convert(b, fin, fout)
        theirs = torchvision.ops.box_convert(torch.tensor(b), fin, fout).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), n=st.integers(1, 6), m=st.integers(1, 6))
def test_box_iou_matches_metrics_iou(seed, n, m):
    rng = np.random.default_rng(seed)
    a = np.concatenate([rng.uniform(0, 10, (n, 2)), rng.uniform(0.5, 6, (n, 2))], 1)  # xyhw
    b = np.concatenate([rng.uniform(0, 10, (m, 2)), rng.uniform(0.5, 6, (m, 2))], 1)
    got = boxes.box_iou(boxes.box_convert(a, "xyhw", "xyxy"), boxes.box_convert(b, "xyhw", "xyxy"))
    np.testing.assert_allclose(got, metrics.iou(a[:, None], b[None]), atol=1e-12)


def test_nms_is_the_one_mtcnn_uses():
    from cnnlib.models import mtcnn  # its tests check nms against a plain implementation
    assert mtcnn.nms is boxes.nms
    assert boxes.nms([[0, 0, 10, 10], [1, 1, 11, 11]], [0.8, 0.9], 0.5).tolist() == [1]


def _ap_oracle(det_boxes, det_scores, true_boxes, t):
    """Brute force AP: every rank written out, precision interpolated by a max over later ranks."""
    dets = sorted([(s, k, j) for k, sc in enumerate(det_scores) for j, s in enumerate(sc)], key=lambda e: -e[0])
    n_true = sum(len(tb) for tb in true_boxes)
    used, tp, prec, rec = set(), 0, [], []
    for s, k, j in dets:
        best, best_iou = None, t
        for i, tb in enumerate(true_boxes[k]):
            v = boxes.box_iou(det_boxes[k][j], tb)[0, 0]
            if (k, i) not in used and v >= best_iou and (best is None or v > best[1]):
                best = (i, v)
        if best is not None:
            used.add((k, best[0]))
            tp += 1
        prec.append(tp / (len(prec) + 1))
        rec.append(tp / n_true)
    ap, last = 0.0, 0.0
    for r in range(len(rec)):
        if rec[r] > last:
            ap += (rec[r] - last) * max(prec[r:])
            last = rec[r]
    return ap


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), images=st.integers(1, 4), t=st.sampled_from([0.3, 0.5, 0.75]))
def test_average_precision_matches_brute_force(seed, images, t):
    rng = np.random.default_rng(seed)
    true_boxes, det_boxes, det_scores = [], [], []
    for _ in range(images):
        m = rng.integers(1, 4)
        c = rng.uniform(0, 30, (m, 2))
        tb = np.concatenate([c, c + rng.uniform(4, 10, (m, 2))], 1)
        k = rng.integers(0, 6)
        jitter = tb[rng.integers(0, m, k)] + rng.normal(0, 1.5, (k, 4))
        true_boxes.append(tb)
        det_boxes.append(jitter)
        det_scores.append(rng.random(k))
    got = boxes.average_precision(det_boxes, det_scores, true_boxes, t)
    assert got == pytest.approx(_ap_oracle(det_boxes, det_scores, true_boxes, t), abs=1e-12)
    assert 0 <= got <= 1


def test_average_precision_cases_and_errors():
    truth = [[[0, 0, 4, 4]]]
    assert boxes.average_precision([np.zeros((0, 4))], [np.zeros(0)], truth) == 0.0
    assert boxes.average_precision([[[0, 0, 4, 4]]], [[1.0]], truth, [0.5, 0.75, 0.95]) == 1.0
    # a box at IoU 0.5625 counts at 0.5, not at 0.75: the mean over two thresholds is 0.5
    assert boxes.average_precision([[[1, 1, 4, 4]]], [[1.0]], truth, [0.5, 0.75]) == 0.5
    with pytest.raises(ValueError, match="iou_threshold must be in"):
        boxes.average_precision([[[0, 0, 1, 1]]], [[1.0]], truth, 0.0)
    with pytest.raises(ValueError, match="one entry per image"):
        boxes.average_precision([], [[1.0]], truth)
    with pytest.raises(ValueError, match=r"det_boxes\[0\] and det_scores\[0\]"):
        boxes.average_precision([[[0, 0, 1, 1]]], [[1.0, 0.5]], truth)
    with pytest.raises(ValueError, match="in_fmt must be"):
        boxes.box_convert([0, 0, 1, 1], "yxyx", "xyxy")
    with pytest.raises(ValueError, match="boxes must have shape"):
        boxes.box_convert([0, 0, 1], "xyxy", "xywh")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 9), t=st.sampled_from([0.0, 0.3, 0.5, 0.7]))
def test_nms_matches_torchvision_documented_semantics(seed, n, t):
    # torchvision.ops.nms: "iteratively removes lower scoring boxes which have an IoU greater than
    # iou_threshold with another (higher scoring) box"; kept indices "sorted in decreasing order of scores"
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 20, (n, 2))
    b = np.concatenate([c, c + rng.uniform(2, 10, (n, 2))], 1)
    s = rng.permutation(n) / max(n, 1)  # distinct scores
    keep = boxes.nms(b, s, t).tolist()
    # brute force: go down the scores, keep a box unless a box kept before overlaps it by more than t
    kept = []
    for i in np.argsort(-s):
        if all(boxes.box_iou(b[i], b[j])[0, 0] <= t for j in kept):
            kept.append(int(i))
    assert keep == kept
    assert all(s[keep[k]] > s[keep[k + 1]] for k in range(len(keep) - 1))


def test_nms_keeps_a_box_at_exactly_the_threshold():
    # IoU of the first two is 2 / 4 = 0.5: not greater than 0.5, so both stay
    assert boxes.nms([[0, 0, 3, 1], [1, 0, 4, 1]], [0.9, 0.8], 0.5).tolist() == [0, 1]
    assert boxes.nms([[0, 0, 3, 1], [1, 0, 4, 1]], [0.9, 0.8], 0.49).tolist() == [0]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), images=st.integers(1, 4))
def test_mean_average_precision_is_the_mean_of_per_class_brute_force(seed, images):
    rng = np.random.default_rng(seed)
    tb, tc, db, ds, dc = [], [], [], [], []
    for _ in range(images):
        m = int(rng.integers(1, 4))
        c = rng.uniform(0, 30, (m, 2))
        t = np.concatenate([c, c + rng.uniform(4, 10, (m, 2))], 1)
        k = int(rng.integers(0, 6))
        tb.append(t)
        tc.append(rng.integers(1, 3, m))
        db.append(t[rng.integers(0, m, k)] + rng.normal(0, 1.5, (k, 4)))
        ds.append(rng.random(k))
        dc.append(rng.integers(1, 3, k))
    classes = sorted(set(np.concatenate(tc).tolist()))
    want = np.mean([np.mean([_ap_oracle([d[c_ == c] for d, c_ in zip(db, dc)], [s[c_ == c] for s, c_ in zip(ds, dc)],
                                        [t[c_ == c] for t, c_ in zip(tb, tc)], th) for th in boxes.COCO_THRESHOLDS])
                    for c in classes])
    got = boxes.mean_average_precision(db, ds, dc, tb, tc, boxes.COCO_THRESHOLDS)
    assert got == pytest.approx(want, abs=1e-12)


def test_coco_thresholds_and_map_errors():
    assert boxes.COCO_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    with pytest.raises(ValueError, match="det_classes and true_classes must hold one entry per image"):
        boxes.mean_average_precision([[[0, 0, 1, 1]]], [[1.0]], [], [[[0, 0, 1, 1]]], [[1]])
    with pytest.raises(ValueError, match=r"det_classes\[0\] and true_classes\[0\] must have one class per box"):
        boxes.mean_average_precision([[[0, 0, 1, 1]]], [[1.0]], [[1, 2]], [[[0, 0, 1, 1]]], [[1]])
