"""A real pretrained localizer: the three small networks of MTCNN (Section 6.6).

MTCNN (Zhang et al., 2016) finds faces with a cascade of three convolutional networks, each
of which does the chapter's *localization and classification* on a crop: a face/no-face
probability and a correction of the crop's box; the last one also predicts five facial
landmarks (eyes, nose, mouth corners), the chapter's landmark detection.

- :class:`PNet` (proposal network) is fully convolutional: run on an image pyramid, its
  output map scores every 12 x 12 window at once (the sliding-window view of Section 6.4);
- :class:`RNet` (refinement) re-scores each proposal, cropped and resized to 24 x 24;
- :class:`ONet` (output) re-scores 48 x 48 crops and adds the landmarks.

The weights are the ones shipped in the ``facenet-pytorch`` wheel (MIT licence), read with
``torch.load(..., weights_only=True)``; none of that package's code is imported (it needs
torchvision). The layer names here match its state dicts. :func:`detect_faces` follows its
detection procedure (image pyramid, non-maximum suppression, box regression, squaring).
Without the wheel, :func:`available` is ``False`` and :func:`load_mtcnn` raises an
``ImportError`` that gives the pip line.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (localization, landmark detection).

K. Zhang, Z. Zhang, Z. Li and Y. Qiao, "Joint face detection and alignment using multitask
cascaded convolutional networks", IEEE Signal Processing Letters 23(10), 2016.

T. Esler, facenet-pytorch (MIT licence), https://github.com/timesler/facenet-pytorch.
"""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import as_array, check_choice
from ..boxes import nms

__all__ = ["PNet", "RNet", "ONet", "weights_path", "available", "load_mtcnn", "nms", "detect_faces"]

_DIST = "facenet-pytorch"


def weights_path(name: str) -> Path | None:
    """Path of ``pnet.pt``, ``rnet.pt`` or ``onet.pt`` inside the installed facenet-pytorch wheel, or None.

    Examples
    --------
    >>> p = weights_path("pnet.pt")
    >>> p is None or p.name == "pnet.pt"
    True
    """
    check_choice(name, "name", ("pnet.pt", "rnet.pt", "onet.pt"))
    try:
        path = Path(importlib.metadata.distribution(_DIST).locate_file(f"facenet_pytorch/data/{name}"))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def available() -> bool:
    """Whether the three MTCNN weight files are installed (``pip install --no-deps facenet-pytorch==2.6.0``)."""
    return all(weights_path(n) is not None for n in ("pnet.pt", "rnet.pt", "onet.pt"))


class PNet(nn.Module):
    """MTCNN's proposal network, fully convolutional: (B, 3, H, W) -> box corrections and face probabilities.

    Shape
    -----
    Input (B, 3, H, W) scaled to about [-1, 1]; outputs ``reg`` (B, 4, H', W') and ``prob``
    (B, H', W') with H' = ceil((H - 2) / 2) - 4: one 12 x 12 window every 2 pixels.

    Examples
    --------
    >>> reg, prob = PNet()(torch.zeros(1, 3, 12, 12))
    >>> reg.shape, prob.shape
    (torch.Size([1, 4, 1, 1]), torch.Size([1, 1, 1]))
    """

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)  # face / no face, a 1 x 1 convolution at every window
        self.conv4_2 = nn.Conv2d(32, 4, 1)  # box corrections

    def forward(self, x):
        x = self.prelu1(self.conv1(x))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(self.pool1(x)))))
        return self.conv4_2(x), self.conv4_1(x).softmax(dim=1)[:, 1]


class _CropNet(nn.Module):
    """Shared forward of RNet and ONet: convolutions, then dense layers on the flattened volume."""

    def _dense_input(self, x):
        # the weights were converted from a model that flattens in (W, H, C) order
        return x.permute(0, 3, 2, 1).reshape(len(x), -1)


class RNet(_CropNet):
    """MTCNN's refinement network: 24 x 24 crops -> box corrections (B, 4) and face probabilities (B,).

    Examples
    --------
    >>> reg, prob = RNet()(torch.zeros(2, 3, 24, 24))
    >>> reg.shape, prob.shape
    (torch.Size([2, 4]), torch.Size([2]))
    """

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu4(self.dense4(self._dense_input(self.prelu3(self.conv3(x)))))
        return self.dense5_2(x), self.dense5_1(x).softmax(dim=1)[:, 1]


class ONet(_CropNet):
    """MTCNN's output network: 48 x 48 crops -> box corrections (B, 4), landmarks (B, 10), face probabilities (B,).

    The landmarks are five x coordinates then five y coordinates, as fractions of the crop.

    Examples
    --------
    >>> reg, landmarks, prob = ONet()(torch.zeros(2, 3, 48, 48))
    >>> reg.shape, landmarks.shape, prob.shape
    (torch.Size([2, 4]), torch.Size([2, 10]), torch.Size([2]))
    """

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu5(self.dense5(self._dense_input(self.prelu4(self.conv4(x)))))
        return self.dense6_2(x), self.dense6_3(x), self.dense6_1(x).softmax(dim=1)[:, 1]


def load_mtcnn(device=None) -> tuple[PNet, RNet, ONet]:
    """The three MTCNN networks with their pretrained weights, in evaluation mode.

    Raises
    ------
    ImportError
        When the facenet-pytorch wheel (which holds the weights) is not installed; the message
        gives the pip line.

    Examples
    --------
    >>> if available():
    ...     pnet, rnet, onet = load_mtcnn("cpu")
    ...     assert not pnet.training
    """
    nets = []
    for cls, name in ((PNet, "pnet.pt"), (RNet, "rnet.pt"), (ONet, "onet.pt")):
        path = weights_path(name)
        if path is None:
            raise ImportError(
                f"the MTCNN weights {name} come from the package facenet-pytorch, which is not installed: "
                f"pip install --no-deps facenet-pytorch==2.6.0 (only its weight files are used; --no-deps "
                f"because its own pins clash with ours)")
        net = cls()
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        nets.append(net.to(device or "cpu").eval())
    return tuple(nets)


def _square(boxes):
    """Grow each box (x1, y1, x2, y2, ...) to a square around its centre."""
    boxes = boxes.clone()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    boxes[:, 0] += w / 2 - side / 2
    boxes[:, 1] += h / 2 - side / 2
    boxes[:, 2], boxes[:, 3] = boxes[:, 0] + side, boxes[:, 1] + side
    return boxes


def _regress(boxes, reg):
    """Move the corners by the predicted corrections, in units of the box's size."""
    boxes = boxes.clone()
    w, h = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, :4] += reg * torch.stack([w, h, w, h], dim=1)
    return boxes


def _crops(img, boxes, size):
    """Crop each box (clipped to the image) from img (1, 3, H, W) and resize it to size x size."""
    H, W = img.shape[-2:]
    b = boxes[:, :4].trunc().int().tolist()
    out = []
    for x1, y1, x2, y2 in b:
        x1, y1, x2, y2 = max(x1, 1), max(y1, 1), min(x2, W), min(y2, H)
        crop = img[:, :, y1 - 1:y2, x1 - 1:x2] if (x2 > x1 - 1 and y2 > y1 - 1) else img[:, :, :1, :1]
        out.append(F.interpolate(crop, size=(size, size), mode="area"))
    return (torch.cat(out) - 127.5) / 128.0


def _keep(boxes, *others, index):
    index = torch.as_tensor(index, dtype=torch.long)
    return (boxes[index],) + tuple(o[index] for o in others)


@torch.no_grad()
def detect_faces(image, nets=None, *, min_face: int = 20, thresholds=(0.6, 0.7, 0.7), factor: float = 0.709):
    """Find faces in an RGB image with the MTCNN cascade: boxes, probabilities and five landmarks each.

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
        An RGB image with values 0..255 (e.g. ``skimage.data.astronaut()``).
    nets : (PNet, RNet, ONet), optional
        Defaults to :func:`load_mtcnn`.
    min_face : int
        Smallest face side, in pixels, to look for (sets the largest scale of the pyramid).
    thresholds : three floats
        Face-probability thresholds of the three stages.
    factor : float
        Ratio between consecutive scales of the image pyramid (0 < factor < 1).

    Returns
    -------
    boxes : ndarray, shape (N, 5)
        Corners (x1, y1, x2, y2) in pixels (x = column) and the face probability.
    landmarks : ndarray, shape (N, 5, 2)
        (x, y) of the two eyes, the nose and the two mouth corners.

    Examples
    --------
    >>> import skimage.data
    >>> if available():
    ...     boxes, points = detect_faces(skimage.data.astronaut())
    ...     assert boxes.shape[1] == 5 and points.shape[1:] == (5, 2)
    """
    arr = as_array(image, "image", ndim=3, dtype=np.float32)
    if arr.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3) (RGB), got {arr.shape}")
    if not 0 < factor < 1:
        raise ValueError(f"factor must lie strictly between 0 and 1, got {factor!r}")
    if len(thresholds) != 3:
        raise ValueError(f"thresholds must hold three numbers (one per network), got {thresholds!r}")
    pnet, rnet, onet = load_mtcnn() if nets is None else nets
    device = next(pnet.parameters()).device
    img = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).unsqueeze(0).to(device)
    H, W = img.shape[-2:]
    empty = np.zeros((0, 5)), np.zeros((0, 5, 2))
    # stage 1: PNet on an image pyramid; a window of 12 pixels at scale s is a face of 12/s pixels
    scale, scales = 12.0 / min_face, []
    while min(H, W) * scale >= 12:
        scales.append(scale)
        scale *= factor
    found = []
    for s in scales:
        small = F.interpolate(img, size=(int(H * s + 1), int(W * s + 1)), mode="area")
        reg, prob = pnet((small - 127.5) / 128.0)
        mask = prob[0] >= thresholds[0]
        cells = mask.nonzero().to(img.dtype).flip(1)  # (x, y) of each window on the output map
        boxes = torch.cat([((2 * cells + 1) / s).floor(), ((2 * cells + 12) / s).floor(),
                           prob[0][mask][:, None], reg[0][:, mask].T], dim=1)
        found.append(boxes[nms(boxes[:, :4].cpu(), boxes[:, 4].cpu(), 0.5)])
    boxes = torch.cat(found)
    if not len(boxes):
        return empty
    boxes = boxes[nms(boxes[:, :4].cpu(), boxes[:, 4].cpu(), 0.7)]
    size = torch.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]] * 2, dim=1)
    boxes = _square(torch.cat([boxes[:, :4] + boxes[:, 5:9] * size, boxes[:, 4:5]], dim=1))
    # stage 2: RNet re-scores 24 x 24 crops and corrects the boxes
    reg, prob = rnet(_crops(img, boxes, 24))
    ok = prob > thresholds[1]
    boxes, reg = torch.cat([boxes[ok, :4], prob[ok, None]], dim=1), reg[ok]
    if not len(boxes):
        return empty
    boxes, reg = _keep(boxes, reg, index=nms(boxes[:, :4].cpu(), boxes[:, 4].cpu(), 0.7))
    boxes = _square(_regress(boxes, reg))
    # stage 3: ONet on 48 x 48 crops: final probabilities, boxes and landmarks
    reg, marks, prob = onet(_crops(img, boxes, 48))
    ok = prob > thresholds[2]
    boxes, reg, marks = torch.cat([boxes[ok, :4], prob[ok, None]], dim=1), reg[ok], marks[ok]
    if not len(boxes):
        return empty
    w, h = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
    points = torch.stack([w[:, None] * marks[:, :5] + boxes[:, 0:1] - 1,
                          h[:, None] * marks[:, 5:] + boxes[:, 1:2] - 1], dim=2)  # (N, 5, 2)
    boxes = _regress(boxes, reg)
    boxes, points = _keep(boxes, points, index=nms(boxes[:, :4].cpu(), boxes[:, 4].cpu(), 0.7, mode="min"))
    return boxes.cpu().numpy(), points.cpu().numpy()
