"""cnnlib.models.detection: targets encode boxes exactly, perfect outputs decode back to them, the loss."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import boxes
from cnnlib.models import detection


def perfect_outputs(targets, num_classes):
    """Logits that say exactly what the targets say (an independent inverse of the parametrisation)."""
    b, _, g, _ = targets.shape
    out = torch.full((b, 5 + num_classes, g, g), -30.0)
    obj = targets[:, 0] > 0.5
    out[:, 0] = torch.where(obj, 30.0, -30.0)
    out[:, 1:3] = torch.logit(targets[:, 1:3].clamp(1e-6, 1 - 1e-6))
    out[:, 3:5] = targets[:, 3:5]
    for k in range(num_classes):
        out[:, 5 + k] = torch.where(targets[:, 5] == k, 30.0, -30.0)
    return out


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 4))
def test_encode_then_decode_recovers_the_boxes(seed, n):
    rng = np.random.default_rng(seed)
    size, grid, anchor = 64, 8, 16.0
    # objects whose centres fall in distinct cells
    cells = rng.choice(grid * grid, n, replace=False)
    objs = []
    for c in cells:
        row, col = divmod(int(c), grid)
        h, w = rng.uniform(4, 30, 2)
        cx, cy = (col + rng.uniform(0.05, 0.95)) * 8, (row + rng.uniform(0.05, 0.95)) * 8
        objs.append([rng.integers(1, 3), cx - w / 2, cy - h / 2, h, w])
    objs = np.array(objs)
    targets = detection.encode_targets([objs], size=size, grid=grid, anchor=anchor)
    assert int(targets[0, 0].sum()) == n
    got_boxes, scores, classes = detection.decode_detections(perfect_outputs(targets, 2), size=size, anchor=anchor,
                                                             nms_threshold=1.0)[0]
    want = boxes.box_convert(objs[:, 1:], "xyhw", "xyxy")
    order_got, order_want = np.lexsort(got_boxes.T[::-1]), np.lexsort(want.T[::-1])
    np.testing.assert_allclose(got_boxes[order_got], want[order_want], atol=1e-3)
    assert classes[order_got].tolist() == objs[order_want, 0].astype(int).tolist()
    assert (scores > 0.99).all()


def test_loss_is_small_for_perfect_outputs_and_larger_otherwise():
    targets = detection.encode_targets([[[1, 10, 20, 12, 8]], []], size=64, grid=8, anchor=16.0)
    perfect = perfect_outputs(targets, 2)
    assert float(detection.detection_loss(perfect, targets)) < 1e-6
    worse = perfect.clone()
    worse[:, 3] += 0.5
    assert float(detection.detection_loss(worse, targets)) == pytest.approx(5.0 * 0.25, rel=1e-4)
    # no objects: only the objectness term, one cell of 128 says 30 where 0 was due (BCE = 30)
    assert float(detection.detection_loss(perfect, torch.zeros_like(targets))) == pytest.approx(30 / 128, rel=1e-4)


def test_same_cell_keeps_the_larger_object_and_errors():
    t = detection.encode_targets([[[1, 0, 0, 4, 4], [2, 0, 0, 6, 6]]], size=64, grid=8, anchor=8.0)
    assert int(t[0, 0].sum()) == 1 and t[0, 5, 0, 0] == 1  # class 2, counted from 0
    with pytest.raises(ValueError, match="anchor must be"):
        detection.encode_targets([[]], size=64, grid=8, anchor=0)
    with pytest.raises(ValueError, match="positive heights"):
        detection.encode_targets([[[1, 0, 0, 0, 4]]], size=64, grid=8, anchor=8.0)
    with pytest.raises(ValueError, match="outputs must have shape"):
        detection.decode_detections(torch.zeros(1, 4, 8, 8), size=64, anchor=8.0)
    with pytest.raises(ValueError, match="must match"):
        detection.detection_loss(torch.zeros(1, 7, 8, 8), torch.zeros(1, 6, 4, 4))
    assert detection.GridDetector(num_classes=3, poolings=2)(torch.zeros(1, 1, 32, 32)).shape == (1, 8, 8, 8)
