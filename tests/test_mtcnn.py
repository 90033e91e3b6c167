"""cnnlib.models.mtcnn: the MTCNN networks (shapes, sliding-window property), NMS, and detection on a real photograph."""
import numpy as np
import pytest
import skimage.data
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import metrics
from cnnlib.models import mtcnn

needs_weights = pytest.mark.skipif(not mtcnn.available(), reason="facenet-pytorch's MTCNN weight files are not installed")


def test_pnet_map_is_pnet_on_each_12x12_window():
    """PNet is fully convolutional: output (i, j) is PNet on the 12 x 12 crop starting at (2i, 2j)."""
    torch.manual_seed(0)
    pnet = mtcnn.PNet().eval()
    x = torch.randn(1, 3, 20, 26)
    with torch.no_grad():
        reg, prob = pnet(x)
        assert reg.shape == (1, 4, 5, 8) and prob.shape == (1, 5, 8)
        for i, j in [(0, 0), (2, 3), (4, 7)]:
            r, p = pnet(x[:, :, 2 * i:2 * i + 12, 2 * j:2 * j + 12])
            torch.testing.assert_close(r[0, :, 0, 0], reg[0, :, i, j], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(p[0, 0, 0], prob[0, i, j], rtol=1e-5, atol=1e-5)


def test_probabilities_are_probabilities():
    torch.manual_seed(1)
    _, prob = mtcnn.RNet()(torch.randn(3, 3, 24, 24))
    _, marks, prob_o = mtcnn.ONet()(torch.randn(3, 3, 48, 48))
    for p in (prob, prob_o):
        assert torch.all((p > 0) & (p < 1))
    assert marks.shape == (3, 10)


def _nms_oracle(boxes, scores, threshold):
    """Plain-Python NMS with metrics.iou on (x, y, h, w) boxes."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep = []
    for i in order:
        as_xyhw = lambda b: (b[0], b[1], b[3] - b[1], b[2] - b[0])
        if all(metrics.iou(as_xyhw(boxes[i]), as_xyhw(boxes[k])) <= threshold for k in keep):
            keep.append(i)
    return keep


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12), threshold=st.floats(0.1, 0.9))
def test_nms_matches_a_plain_implementation(seed, n, threshold):
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 20, size=(n, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(1, 10, size=(n, 2))], axis=1)
    scores = rng.permutation(n) / n  # distinct scores
    assert mtcnn.nms(boxes, scores, threshold).tolist() == _nms_oracle(boxes, scores, threshold)


def test_nms_min_mode_and_errors():
    boxes = [[0, 0, 10, 10], [2, 2, 6, 6]]  # the second lies inside the first: IoU 0.16, min-overlap 1
    assert mtcnn.nms(boxes, [0.9, 0.8], 0.5).tolist() == [0, 1]
    assert mtcnn.nms(boxes, [0.9, 0.8], 0.5, mode="min").tolist() == [0]
    with pytest.raises(ValueError, match="mode must be one of 'union', 'min'"):
        mtcnn.nms(boxes, [0.9, 0.8], 0.5, mode="max")
    with pytest.raises(ValueError, match="boxes and scores must have the same length, got 2 and 1"):
        mtcnn.nms(boxes, [0.9], 0.5)


def test_missing_weights_give_a_clear_error(monkeypatch):
    monkeypatch.setattr(mtcnn, "weights_path", lambda name: None)
    assert not mtcnn.available()
    with pytest.raises(ImportError, match="pip install --no-deps facenet-pytorch==2.6.0"):
        mtcnn.load_mtcnn()


def test_detect_faces_errors():
    nets = (mtcnn.PNet(), mtcnn.RNet(), mtcnn.ONet())
    with pytest.raises(ValueError, match=r"image must have shape \(H, W, 3\)"):
        mtcnn.detect_faces(np.zeros((20, 20, 4)), nets)
    with pytest.raises(ValueError, match="image must be a 3-D array"):
        mtcnn.detect_faces(np.zeros((20, 20)), nets)
    with pytest.raises(ValueError, match="factor must lie strictly between 0 and 1, got 1.5"):
        mtcnn.detect_faces(np.zeros((20, 20, 3)), nets, factor=1.5)
    with pytest.raises(ValueError, match="thresholds must hold three numbers"):
        mtcnn.detect_faces(np.zeros((20, 20, 3)), nets, thresholds=(0.5, 0.5))
    with pytest.raises(ValueError, match="name must be one of"):
        mtcnn.weights_path("facenet.pt")


@needs_weights
def test_astronaut_has_one_face_with_sensible_landmarks():
    boxes, points = mtcnn.detect_faces(skimage.data.astronaut())
    assert boxes.shape == (1, 5) and points.shape == (1, 5, 2) and boxes[0, 4] > 0.99
    x1, y1, x2, y2 = boxes[0, :4]
    # Eileen Collins' face lies in the upper middle of the 512 x 512 photograph
    assert 150 < x1 < x2 < 300 and 30 < y1 < y2 < 200 and 60 < x2 - x1 < 130
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = points[0]
    assert np.all((points[0, :, 0] > x1) & (points[0, :, 0] < x2) & (points[0, :, 1] > y1) & (points[0, :, 1] < y2))
    assert lx < nx < rx and mlx < mrx  # left eye, nose, right eye from left to right
    assert max(ly, ry) < ny < min(mly, mry)  # eyes above the nose above the mouth


@needs_weights
def test_blank_image_has_no_face():
    boxes, points = mtcnn.detect_faces(np.full((120, 160, 3), 128.0))
    assert boxes.shape == (0, 5) and points.shape == (0, 5, 2)
