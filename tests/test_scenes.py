"""cnnlib.scenes: textured shape scenes (masks, instances and boxes agree) and the threshold baseline."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from cnnlib import scenes


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), max_objects=st.integers(1, 4), size=st.sampled_from([16, 32, 48]),
       distractors=st.integers(0, 3))
def test_masks_instances_and_boxes_agree(seed, max_objects, size, distractors):
    ds = scenes.shape_scenes(6, seed=seed, size=size, max_objects=max_objects, distractors=distractors)
    assert ds.images.shape == (6, 1, size, size) and ds.images.dtype == torch.float32
    assert 0 <= ds.images.min() and ds.images.max() <= 1
    for k in range(6):
        inst, mask, objs = ds.instances[k].numpy(), ds.masks[k].numpy(), ds.objects[k]
        assert ((inst > 0) == (mask > 0)).all()
        assert len(objs) <= max_objects
        ids = [j for j in np.unique(inst) if j]
        assert len(ids) == len(objs)
        for j, (cls, x, y, h, w) in zip(ids, objs):
            rows, cols = np.nonzero(inst == j)  # oracle: the tightest box by brute force
            assert (x, y, h, w) == (cols.min(), rows.min(), rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
            assert (mask[inst == j] == cls).all() and cls in (1, 2)
        if len(objs):
            assert ds.labels[k] == objs[0, 0]
            np.testing.assert_allclose(ds.boxes[k].numpy(), objs[0, 1:] / size, rtol=1e-6)
        else:
            assert ds.labels[k] == 0 and torch.isnan(ds.boxes[k]).all()


def test_same_seed_same_scenes_and_subset():
    a, b = scenes.shape_scenes(5, seed=3, max_objects=3), scenes.shape_scenes(5, seed=3, max_objects=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.instances, b.instances)
    sub = a.subset([4, 1])
    assert torch.equal(sub.images, a.images[[4, 1]]) and np.array_equal(sub.objects[0], a.objects[4])


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_threshold_rule_finds_the_largest_blob(data):
    side = 16
    image = np.zeros((side, side))
    rects = data.draw(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(1, 4), st.integers(1, 4)),
                               min_size=1, max_size=3))
    for x, y, h, w in rects:
        image[y:y + h, x:x + w] = 1.0
    labels, boxes, masks = scenes.threshold_rule(image[None], 0.5, 0.64)
    blobs, count = ndimage.label(image > 0.5)  # oracle: scipy's labelling and find_objects
    sizes = np.bincount(blobs.ravel())[1:]
    big = 1 + int(sizes.argmax())
    if np.median(image) > 0.5:  # mostly ones: the rule looks at the zeros instead
        return
    rs, cs = ndimage.find_objects(blobs)[big - 1]
    np.testing.assert_allclose(boxes[0] * side, [cs.start, rs.start, rs.stop - rs.start, cs.stop - cs.start])
    fill = sizes.max() / ((rs.stop - rs.start) * (cs.stop - cs.start))
    assert labels[0] == (1 if fill > 0.64 else 2)
    assert ((masks[0] > 0) == (blobs == big)).all()


def test_threshold_rule_min_area_and_tuning():
    image = np.zeros((1, 12, 12))
    image[0, 3:5, 3:5] = 1
    assert scenes.threshold_rule(image, 0.5, 0.6, min_area=5)[0].tolist() == [0]
    assert scenes.threshold_rule(image, 0.5, 0.6, min_area=4)[0].tolist() == [1]
    easy = scenes.shape_scenes(30, seed=0, distractors=0, contrast=(5, 6), noise=0.0)
    best = scenes.tune_threshold_rule(easy.images, easy.labels, easy.boxes)
    assert best["score"] > 1.5  # clean, high-contrast shapes: the rule is nearly perfect


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "n must be"), ({"size": 8}, "size must be at least 16"),
    ({"min_size": 3}, "min_size and max_size"), ({"empty": 1.0}, "empty must be"),
    ({"contrast": (2, 1)}, "contrast must be"), ({"noise": -1.0}, "noise must be"),
])
def test_shape_scenes_errors(kwargs, match):
    args = {"n": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        scenes.shape_scenes(**args)


def test_scene_dataset_errors():
    ds = scenes.shape_scenes(2, seed=0)
    with pytest.raises(ValueError, match="instances must be"):
        scenes.SceneDataset(ds.images, ds.labels, ds.boxes, ds.masks, ds.instances[:1], ds.objects)
    with pytest.raises(ValueError, match="objects must hold"):
        scenes.SceneDataset(ds.images, ds.labels, ds.boxes, ds.masks, ds.instances, ds.objects[:1])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), threshold=st.floats(0.05, 0.6))
def test_threshold_rule_labels_a_stack_as_each_image_alone(seed, n, threshold):
    """All images are labelled in one call: no blob crosses from one image to the next, ties go to raster order."""
    rng = np.random.default_rng(seed)
    images = rng.random((n, 12, 12)).round(1)  # many equal blobs: ties must break as argmax does
    labels, boxes, masks = scenes.threshold_rule(images, threshold, 0.64)
    for k in range(n):  # oracle: scipy on each image alone, the first of the largest blobs
        blobs, count = ndimage.label(np.abs(images[k] - np.median(images[k])) > threshold)
        if not count:
            assert labels[k] == 0 and np.isnan(boxes[k]).all() and not masks[k].any()
            continue
        sizes = np.bincount(blobs.ravel())[1:]
        big = 1 + int(sizes.argmax())
        rs, cs = ndimage.find_objects(blobs)[big - 1]
        np.testing.assert_allclose(boxes[k] * 12, [cs.start, rs.start, rs.stop - rs.start, cs.stop - cs.start])
        assert ((masks[k] > 0) == (blobs == big)).all()
        fill = sizes.max() / ((rs.stop - rs.start) * (cs.stop - cs.start))
        assert labels[k] == (1 if fill > 0.64 else 2)
