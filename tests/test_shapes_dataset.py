"""cnnlib.data.shapes_dataset: determinism, boxes that agree with the masks, the chapter's encoding, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.measure import regionprops

from cnnlib import data


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = data.shapes_dataset(20, seed=5), data.shapes_dataset(20, seed=5), data.shapes_dataset(20, seed=6)
    for name in ("images", "labels", "masks"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert torch.equal(torch.isnan(a.boxes), torch.isnan(b.boxes))
    assert torch.equal(a.boxes.nan_to_num(-1), b.boxes.nan_to_num(-1))
    assert not torch.equal(a.images, c.images)


def test_types_shapes_and_ranges():
    ds = data.shapes_dataset(30, seed=0, size=24)
    assert ds.images.shape == (30, 1, 24, 24) and ds.images.dtype == torch.float32
    assert ds.labels.dtype == torch.int64 and ds.masks.shape == (30, 24, 24) and ds.boxes.shape == (30, 4)
    assert float(ds.images.min()) >= 0 and float(ds.images.max()) <= 1
    assert set(ds.labels.tolist()) <= {0, 1, 2} and data.SHAPE_CLASSES[0] == "nothing"
    assert len(ds) == 30 and ds[3][1] == int(ds.labels[3])  # usable as an (image, label) dataset


def test_classes_are_balanced():
    counts = torch.bincount(data.shapes_dataset(3000, seed=1).labels, minlength=3)
    assert counts.min() > 900


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(12, 40))
def test_boxes_are_the_tight_boxes_of_the_masks(seed, size):
    """Oracle: scikit-image's regionprops bounding box of each mask, in the chapter's (y_x, y_y, y_h, y_w)."""
    ds = data.shapes_dataset(8, seed=seed, size=size)
    for k in range(8):
        mask, label = ds.masks[k].numpy(), int(ds.labels[k])
        if label == 0:
            assert not mask.any() and torch.isnan(ds.boxes[k]).all()
            continue
        assert set(np.unique(mask)) == {0, label}
        (region,) = regionprops((mask > 0).astype(int))
        top, left, bottom, right = region.bbox
        expected = np.array([left, top, bottom - top, right - left]) / size
        np.testing.assert_allclose(ds.boxes[k].numpy(), expected, rtol=1e-6)
        assert size // 3 - 1 <= (bottom - top) <= 3 * size // 4 + 1


def test_objects_are_brighter_than_their_background():
    ds = data.shapes_dataset(50, seed=2, noise=0.0)
    for k in torch.nonzero(ds.labels).flatten().tolist():
        inside, outside = ds.images[k, 0][ds.masks[k] > 0], ds.images[k, 0][ds.masks[k] == 0]
        assert inside.min() > outside.max() + 0.3


def test_triangles_have_their_widest_row_at_the_bottom_and_ellipses_in_the_middle():
    ds = data.shapes_dataset(60, seed=3, noise=0.0)
    for k in torch.nonzero(ds.labels).flatten().tolist():
        widths = (ds.masks[k] > 0).sum(1)
        rows = torch.nonzero(widths).flatten()
        widest = int(rows[widths[rows].argmax()])
        if ds.labels[k] == 2:  # apex up: the rows widen downwards
            assert torch.all(torch.diff(widths[rows]) >= 0)
        else:
            assert rows[0] < widest < rows[-1]


def test_subset_keeps_boxes_and_masks():
    ds = data.shapes_dataset(10, seed=0)
    sub = ds.subset(ds.labels == 1)
    assert isinstance(sub, data.ShapesDataset) and len(sub) == int((ds.labels == 1).sum())
    assert torch.equal(sub.masks, ds.masks[ds.labels == 1]) and torch.equal(sub.boxes, ds.boxes[ds.labels == 1])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=0), ValueError, "n must be a positive integer"),
    (dict(n=2.5), TypeError, "n must be an integer"),
    (dict(seed=-1), ValueError, "seed must be a non-negative integer"),
    (dict(size=6), ValueError, "size must be at least 8 pixels, got 6"),
    (dict(min_size=2), ValueError, r"3 <= min_size <= max_size <= size=32, got min_size=2"),
    (dict(min_size=20, max_size=10), ValueError, "got min_size=20, max_size=10"),
    (dict(max_size=40), ValueError, "max_size=40"),
    (dict(noise=-0.1), ValueError, "noise must be a number >= 0, got -0.1"),
    (dict(noise="low"), ValueError, "noise must be a number >= 0"),
])
def test_errors(kwargs, error, match):
    args = dict(n=4, seed=0)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        data.shapes_dataset(**args)


def test_shapes_dataset_checks_its_parts():
    images, labels = torch.zeros(2, 1, 8, 8), torch.tensor([0, 1])
    with pytest.raises(ValueError, match=r"boxes must be a tensor of shape \(2, 4\), got \(2, 3\)"):
        data.ShapesDataset(images, labels, torch.zeros(2, 3), torch.zeros(2, 8, 8))
    with pytest.raises(ValueError, match=r"masks must be a tensor of shape \(2, 8, 8\)"):
        data.ShapesDataset(images, labels, torch.zeros(2, 4), torch.zeros(2, 8, 7))
