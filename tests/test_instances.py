"""cnnlib.instances: connected components, merged objects, matching, and the centre-and-offset method's targets and grouping."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage import measure

from cnnlib import instances, scenes

maps = st.integers(0, 10_000).map(lambda seed: np.random.default_rng(seed).integers(0, 4, size=(7, 9)))


def same_partition(a, b):
    """Two label maps describe the same objects (up to the numbering), background 0 in both."""
    if not ((a > 0) == (b > 0)).all():
        return False
    pairs = set(zip(a[a > 0].tolist(), b[b > 0].tolist()))
    return len(pairs) == len({p for p, _ in pairs}) == len({q for _, q in pairs})


@settings(max_examples=40, deadline=None)
@given(maps)
def test_connected_instances_match_skimage(semantic):
    ours = instances.connected_instances(semantic)
    oracle = np.zeros_like(semantic)
    for c in (1, 2, 3):  # oracle: scikit-image's labelling of each class, 4-connectivity
        lab = measure.label(semantic == c, connectivity=1)
        oracle[lab > 0] = lab[lab > 0] + 100 * c
    assert same_partition(ours, oracle)
    assert instances.connected_instances(semantic[None]).shape == (1, 7, 9)


def brute_force_iou(pred, true):
    ps, ts = [p for p in np.unique(pred) if p], [t for t in np.unique(true) if t]
    return np.array([[((pred == p) & (true == t)).sum() / ((pred == p) | (true == t)).sum() for t in ts] for p in ps]).reshape(len(ps), len(ts))


@settings(max_examples=40, deadline=None)
@given(maps, maps, st.sampled_from([0.3, 0.5, 0.75]))
def test_iou_and_matching_match_brute_force(pred, true, threshold):
    iou, _, _ = instances.instance_iou(pred, true)
    expected = brute_force_iou(pred, true)
    np.testing.assert_allclose(iou, expected)
    ious, n_pred, n_true = instances.match_instances(pred, true, threshold)
    assert (n_pred, n_true) == expected.shape
    best = 0.0  # oracle: every one-to-one assignment of the smaller side, the total IoU at its largest
    small, large = sorted(expected.shape)
    m = expected if expected.shape[0] <= expected.shape[1] else expected.T
    for cols in itertools.permutations(range(large), small):
        best = max(best, m[np.arange(small), list(cols)].sum())
    rows, cols = __import__("scipy").optimize.linear_sum_assignment(expected, maximize=True)
    assert np.isclose(expected[rows, cols].sum(), best)
    assert np.all(ious > threshold)
    if threshold >= 0.5:  # then every pair above the threshold is in the matching
        assert len(ious) == (expected > threshold).sum()


def test_a_hit_needs_an_iou_above_the_threshold():
    # one region covering two objects of equal size: IoU exactly 0.5 with each, a hit with neither
    ious, n_pred, n_true = instances.match_instances([[1, 1, 1, 1]], [[1, 1, 2, 2]])
    assert len(ious) == 0 and (n_pred, n_true) == (1, 2)


def test_scores_count_merged_objects():
    true = np.array([[[1, 1, 2, 2, 3, 3, 0, 4]]] * 2)
    pred = np.array([[[1, 1, 1, 1, 1, 1, 0, 2]], [[1, 1, 2, 2, 3, 3, 0, 4]]])
    s = instances.instance_scores(pred, true)
    assert (s["matched"], s["predicted"], s["true"]) == (5, 6, 8)
    assert np.isclose(s["precision"], 5 / 6) and np.isclose(s["recall"], 5 / 8) and s["mean_iou"] == 1.0
    assert instances.instance_scores(np.zeros((1, 3, 3)), np.zeros((1, 3, 3)))["f1"] == 0.0


def test_merged_objects_by_hand():
    inst = np.array([[1, 1, 0, 3, 0],
                     [2, 2, 0, 0, 4],
                     [0, 0, 0, 0, 0]])
    assert instances.merged_objects(inst) == (2, 4)  # 1 and 2 touch; 3 and 4 only diagonally
    sem = np.array([[1, 1, 0, 1, 0], [2, 2, 0, 0, 2], [0, 0, 0, 0, 0]])
    assert instances.merged_objects(inst, sem) == (0, 4)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_merged_objects_agree_with_connected_components(seed):
    ds = scenes.shape_scenes(4, seed=seed, max_objects=4, empty=0)
    merged, total = instances.merged_objects(ds.instances.numpy(), ds.masks.numpy())
    assert total == sum(len(o) for o in ds.objects)
    cc = instances.connected_instances(ds.masks.numpy())
    oracle = 0  # an object is merged when its main component holds another object's pixels
    for c, inst in zip(cc, ds.instances.numpy()):
        for k in np.unique(inst[inst > 0]):
            comp = np.bincount(c[inst == k]).argmax()
            oracle += len(set(np.unique(inst[c == comp])) - {0, k}) > 0
    assert merged == oracle


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_perfect_outputs_give_back_separated_objects(seed):
    rng = np.random.default_rng(seed)
    inst = np.zeros((2, 24, 24), dtype=int)
    for k in range(2):  # up to four rectangles in the four quadrants, touching or not
        for q, (r0, c0) in enumerate(((0, 0), (0, 12), (12, 0), (12, 12)), start=1):
            if rng.random() < 0.8:
                h, w = rng.integers(4, 13, size=2)
                inst[k, r0 + 12 - h:r0 + 12, c0 + 12 - w:c0 + 12] = q
    t = instances.instance_targets(inst)
    logits = torch.logit(t.clamp(1e-4, 1 - 1e-4))
    logits[:, 2:] = t[:, 2:]
    for got in (instances.group_instances(logits), instances.group_instances(logits, objects=inst > 0)):
        for a, b in zip(got, inst):
            assert same_partition(a, b)
    assert torch.equal(t[:, 0], torch.from_numpy((inst > 0).astype(np.float32)))
    assert float(instances.instance_loss(logits, t)) < float(instances.instance_loss(torch.zeros_like(t), t))


def test_no_centre_gives_one_instance():
    out = torch.zeros(1, 4, 3, 3)
    out[:, 0], out[:, 1] = 5.0, -5.0  # every pixel an object, no centre anywhere
    assert (instances.group_instances(out) == 1).all()


@pytest.mark.parametrize("call, error, match", [
    (lambda: instances.connected_instances(np.zeros(4)), ValueError, "semantic must be a 2-D or 3-D array"),
    (lambda: instances.connected_instances(np.full((2, 2), 0.5)), ValueError, "non-negative integer labels"),
    (lambda: instances.merged_objects(np.zeros((2, 2)), np.zeros((3, 3))), ValueError, "semantic must have the shape"),
    (lambda: instances.instance_iou(np.zeros((2, 2)), np.zeros((2, 3))), ValueError, "two maps of the same shape"),
    (lambda: instances.match_instances(np.zeros((2, 2)), np.zeros((2, 2)), 0), ValueError, r"threshold must be a number in \(0, 1\]"),
    (lambda: instances.instance_scores(np.zeros((1, 2, 2)), np.zeros((2, 2, 2))), ValueError, "same shape"),
    (lambda: instances.instance_targets(np.zeros((2, 2)), sigma=0), ValueError, "sigma must be a positive"),
    (lambda: instances.instance_loss(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)), ValueError, r"\(B, 4, S, S\)"),
    (lambda: instances.group_instances(torch.zeros(1, 3, 2, 2)), ValueError, r"outputs must be a tensor of shape \(N, 4, S, S\)"),
    (lambda: instances.group_instances(torch.zeros(1, 4, 2, 2), objects=np.zeros((1, 3, 3))), ValueError, "objects must have shape"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


masks = st.integers(0, 10_000).map(lambda seed: np.random.default_rng(seed).random((12, 14)) < 0.55)


@settings(max_examples=40, deadline=None)
@given(masks, st.integers(1, 4), st.sampled_from([0.0, 1.0, 2.0]))
def test_watershed_splits_components_and_covers_the_mask(mask, min_distance, min_height):
    """Each watershed region lies in one connected component; regions cover exactly the mask; >= 1 per component."""
    ws = instances.watershed_instances(mask, min_distance, min_height=min_height)
    assert ((ws > 0) == mask).all()
    components = measure.label(mask, connectivity=1)  # oracle: scikit-image's components
    for region in np.unique(ws[ws > 0]):
        assert len(np.unique(components[ws == region])) == 1
    assert len(np.unique(ws[ws > 0])) >= components.max()


def test_watershed_cuts_a_waist_not_a_square():
    two = np.zeros((9, 19), bool)
    two[1:8, 1:8] = two[1:8, 11:18] = True
    two[4, 8:11] = True  # a bridge one pixel wide
    ws = instances.watershed_instances(two, 2)
    assert len(np.unique(ws[ws > 0])) == 2 and ws[4, 4] != ws[4, 14]
    square = np.zeros((9, 9), bool)
    square[1:8, 1:8] = True
    assert np.unique(instances.watershed_instances(square, 2)).tolist() == [0, 1]
    assert instances.watershed_instances(np.zeros((2, 5, 5), bool)).shape == (2, 5, 5)


@pytest.mark.parametrize("kwargs, match", [(dict(min_distance=0), "min_distance"), (dict(min_distance=1.5), "min_distance"),
                                           (dict(min_height=-1.0), "min_height")])
def test_watershed_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        instances.watershed_instances(np.ones((4, 4), bool), **kwargs)
