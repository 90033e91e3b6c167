"""cnnlib.metrics: IoU cases, segmentation scores, cosine distance and verification metrics vs scikit-learn/SciPy."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cosine as scipy_cosine
from sklearn import metrics as skm

from cnnlib import metrics


# ---------------------------------------------------------------- IoU of boxes (y_x, y_y, y_h, y_w)
@pytest.mark.parametrize("a, b, expected", [
    ([0, 0, 2, 2], [0, 0, 2, 2], 1.0),               # identical
    ([0, 0, 2, 2], [1, 1, 2, 2], 1 / 7),             # corner overlap 1 x 1
    ([0, 0, 2, 2], [2, 0, 2, 2], 0.0),               # touching edges: no area in common
    ([0, 0, 2, 2], [5, 5, 1, 1], 0.0),               # far apart (no negative overlap)
    ([0, 0, 4, 4], [1, 1, 2, 2], 4 / 16),            # one inside the other
    ([0, 0, 1, 4], [0, 0, 4, 1], 1 / 7),             # 1 high x 4 wide against 4 high x 1 wide
    ([1, 0, 2, 3], [0, 0, 2, 3], 4 / 8),             # shifted one column: h = 2 rows, w = 3 columns
    ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),               # degenerate boxes
])
def test_iou_cases(a, b, expected):
    assert metrics.iou(a, b) == pytest.approx(expected)
    assert metrics.iou(b, a) == pytest.approx(expected)


def _iou_by_pixels(a, b, side=12):
    """Oracle: rasterize integer boxes on a grid and count pixels."""
    def mask(box):
        x, y, h, w = box
        m = np.zeros((side, side), bool)
        m[y:y + h, x:x + w] = True
        return m
    ma, mb = mask(a), mask(b)
    union = (ma | mb).sum()
    return (ma & mb).sum() / union if union else 0.0


box = st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(1, 6), st.integers(1, 6))


@settings(max_examples=100, deadline=None)
@given(a=box, b=box)
def test_iou_matches_pixel_counting(a, b):
    assert metrics.iou(a, b) == pytest.approx(_iou_by_pixels(a, b))


def test_iou_broadcasts_and_takes_tensors():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    got = metrics.iou(a, torch.tensor([0.0, 0.0, 2.0, 2.0]))
    np.testing.assert_allclose(got, [1.0, 0.25])
    np.testing.assert_allclose(metrics.box_corners(a), [[0, 0, 2, 2], [1, 1, 2, 2]])


@pytest.mark.parametrize("a, b, match", [
    ([0, 0, 1], [0, 0, 1, 1], r"box_a must have shape \(4,\) or \(N, 4\)"),
    ([0, 0, -1, 1], [0, 0, 1, 1], "box_a must have heights and widths"),
    ([0, 0, 1, 1], [0, 0, 1, np.nan], "box_b must hold finite numbers"),
    ([[0, 0, 1, 1]] * 3, [[0, 0, 1, 1]] * 2, "box_a and box_b must broadcast"),
])
def test_iou_errors(a, b, match):
    with pytest.raises(ValueError, match=match):
        metrics.iou(a, b)


# ---------------------------------------------------------------- segmentation
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), K=st.integers(2, 4))
def test_class_iou_and_pixel_accuracy_match_sklearn(seed, K):
    rng = np.random.default_rng(seed)
    target, pred = rng.integers(0, K, size=(3, 5, 6)), rng.integers(0, K, size=(3, 5, 6))
    present = np.union1d(np.unique(target), np.unique(pred))
    expected = skm.jaccard_score(target.ravel(), pred.ravel(), labels=present, average=None)
    got = metrics.class_iou(pred, target, K)
    np.testing.assert_allclose(got[present], expected)
    assert np.isnan(np.delete(got, present)).all()
    assert metrics.pixel_accuracy(pred, target) == pytest.approx(skm.accuracy_score(target.ravel(), pred.ravel()))


def test_segmentation_errors():
    with pytest.raises(ValueError, match=r"pred and target must have the same shape, got \(2,\) and \(3,\)"):
        metrics.pixel_accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match=r"target must hold classes in 0..1"):
        metrics.class_iou([0, 1], [0, 2], 2)
    with pytest.raises(TypeError, match="pred must hold integer labels"):
        metrics.class_iou([0.5, 1.0], [0, 1], 2)
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        metrics.class_iou([0], [0], 0)


# ---------------------------------------------------------------- embeddings and verification
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), D=st.integers(1, 8))
def test_cosine_distance_matches_scipy(seed, D):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(4, D)), rng.normal(size=(4, D))
    np.testing.assert_allclose(metrics.cosine_distance(a, b), [scipy_cosine(u, v) for u, v in zip(a, b)], atol=1e-12)


def test_cosine_distance_errors():
    with pytest.raises(ValueError, match="a and b must have the same embedding size"):
        metrics.cosine_distance(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="b must not contain zero vectors"):
        metrics.cosine_distance(np.ones(3), np.zeros(3))


scores_and_labels = st.integers(2, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 6).map(float), min_size=n, max_size=n),  # few values: many ties
    st.lists(st.integers(0, 1), min_size=n, max_size=n)))


@settings(max_examples=100, deadline=None)
@given(data=scores_and_labels)
def test_roc_and_auc_match_sklearn(data):
    scores, same = map(np.array, data)
    if same.min() == same.max():
        with pytest.raises(ValueError, match="same must contain both kinds of pairs"):
            metrics.roc_curve(scores, same)
        return
    fpr, tpr, thresholds = metrics.roc_curve(scores, same)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(same, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thresholds[1:], sk_thr[1:])
    assert metrics.roc_auc(scores, same) == pytest.approx(skm.roc_auc_score(same, scores))


@settings(max_examples=100, deadline=None)
@given(data=scores_and_labels)
def test_best_threshold_beats_every_threshold(data):
    scores, same = map(np.array, data)
    best = metrics.best_threshold(scores, same)
    acc = metrics.verification_accuracy(scores, same, best)
    grid = np.concatenate([np.unique(scores) - 0.5, np.unique(scores) + 0.5])
    assert all(acc >= metrics.verification_accuracy(scores, same, t) for t in grid)
    assert acc == pytest.approx(skm.accuracy_score(same, scores > best))


def test_verification_accuracy_by_hand_and_errors():
    assert metrics.verification_accuracy([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1], 0.5) == 0.5
    assert metrics.verification_accuracy([-0.1, -0.8], [1, 0], -0.5) == 1.0  # minus distances
    with pytest.raises(ValueError, match=r"same must hold only 0 \(different\) and 1 \(same\), got values \[0, 2\]"):
        metrics.verification_accuracy([0.1, 0.2], [0, 2], 0.5)
    with pytest.raises(ValueError, match=r"scores and same must have the same shape"):
        metrics.verification_accuracy([0.1, 0.2, 0.3], [0, 1], 0.5)
    with pytest.raises(ValueError, match="scores must be a 1-D array"):
        metrics.best_threshold([[0.1, 0.2]], [0, 1])
    with pytest.raises(ValueError, match="threshold must be a 0-D array"):
        metrics.verification_accuracy([0.1, 0.2], [0, 1], [0.5, 0.6])


# ---------------------------------------------------------------- impossible input (issue 19)
@pytest.mark.parametrize("score_fn", [metrics.roc_auc, metrics.roc_curve, metrics.best_threshold,
                                      lambda s, y: metrics.verification_accuracy(s, y, 0.5)])
def test_a_nan_score_is_an_error_not_a_perfect_verifier(score_fn):
    """A NaN (a diverged network, a cosine of a zero vector) sorts arbitrarily: roc_auc gave 1.0."""
    with pytest.raises(ValueError, match=r"scores must not contain NaN, got NaN at position\(s\) \[1\]"):
        score_fn([0.9, float("nan"), 0.6, 0.4], [1, 0, 1, 0])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 30), far=st.sampled_from([0.0, 0.01, 0.1, 0.3, 1.0]))
def test_true_accept_rate_matches_brute_force(seed, n, far):
    rng = np.random.default_rng(seed)
    same = np.r_[0, 1, rng.integers(0, 2, n)]
    scores = rng.integers(0, 6, len(same)).astype(float)  # ties on purpose
    best = 0.0
    for t in np.r_[np.inf, scores]:  # every threshold "accept when score >= t"
        if np.mean(scores[same == 0] >= t) <= far:
            best = max(best, np.mean(scores[same == 1] >= t))
    assert metrics.true_accept_rate(scores, same, far) == pytest.approx(best)


def test_true_accept_rate_errors():
    with pytest.raises(ValueError, match="false_accept_rate must be a number in"):
        metrics.true_accept_rate([0.1, 0.2], [0, 1], 1.5)
