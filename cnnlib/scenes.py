"""Scenes that need learning: shapes on photographed textures, with distractors and occlusion (Section 6.6).

The images of :func:`cnnlib.data.shapes_dataset` are solved by a threshold: a bright shape on a
flat background. The scenes here are made so that no rule on grey levels alone solves them:

- the background is a random crop of one of the textures and photographs that scikit-image
  ships (brick, grass, gravel, the moon, the cameraman, coffee, ...), at a random contrast;
- each object (an ellipse or an apex-up triangle, the classes of :data:`cnnlib.data.SHAPE_CLASSES`)
  is filled with another texture, a little brighter *or darker* than the background around it;
- distractors (rectangles and bars of the same kind of contrast, labelled background) may lie
  anywhere, also on top of the objects (occlusion).

:func:`shape_scenes` returns a :class:`SceneDataset`: the fields of :class:`~cnnlib.data.ShapesDataset`
(the class and box of the first object, a class per pixel) plus an instance mask and the list of
objects of every scene, so one generator serves localization, detection and both segmentations.
:func:`threshold_rule` and :func:`tune_threshold_rule` are the non-learned baseline every result
of Section 6.6 is compared with.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (Figure 6.16).

S. van der Walt et al., "scikit-image: image processing in Python", PeerJ 2:e453, 2014 (the
textures and photographs of ``skimage.data``).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from ._textures import TEXTURES, texture_crop as _crop, texture_pool as _texture_pool
from ._validation import as_array, nonnegative_int, positive_int
from .data import SHAPE_CLASSES, ShapesDataset

__all__ = ["TEXTURES", "SceneDataset", "shape_scenes", "threshold_rule", "tune_threshold_rule"]

def _shape_mask(label: int, top: float, left: float, h: float, w: float, rows, cols) -> np.ndarray:
    if label == 1:
        return ((rows - top - h / 2) / (h / 2)) ** 2 + ((cols - left - w / 2) / (w / 2)) ** 2 <= 1.0
    depth = (rows - top) / h
    return (depth >= 0) & (depth <= 1) & (np.abs(cols - (left + w / 2)) <= depth * w / 2)


def _tight_box(inside: np.ndarray) -> tuple[float, float, float, float]:
    on_rows, on_cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    return (on_cols[0], on_rows[0], on_rows[-1] - on_rows[0] + 1, on_cols[-1] - on_cols[0] + 1)


class SceneDataset(ShapesDataset):
    """Scenes of :func:`shape_scenes`: a :class:`~cnnlib.data.ShapesDataset` with instances and object lists.

    Parameters
    ----------
    images, labels, boxes, masks :
        As in :class:`~cnnlib.data.ShapesDataset`: ``labels`` and ``boxes`` describe the scene's
        first object (0 and NaN for an empty scene), ``masks`` the class of every pixel.
    instances : Tensor of int64, shape (N, S, S)
        0 for background, k for the pixels of the scene's k-th object (1-based).
    objects : list of ndarray, one of shape (K_i, 5) per scene
        ``(class, y_x, y_y, y_h, y_w)`` of each object in pixels: the tightest box around its
        visible pixels (the chapter's encoding).
    source : str

    Examples
    --------
    >>> ds = shape_scenes(3, seed=0, max_objects=3, size=48)
    >>> len(ds.subset([0, 2]).objects), ds.instances.shape
    (2, torch.Size([3, 48, 48]))
    """

    def __init__(self, images, labels, boxes, masks, instances, objects, source: str = "scenes"):
        super().__init__(images, labels, boxes, masks, source)
        if not isinstance(instances, torch.Tensor) or instances.shape != self.masks.shape:
            got = tuple(instances.shape) if isinstance(instances, torch.Tensor) else type(instances).__name__
            raise ValueError(f"instances must be a tensor of shape {tuple(self.masks.shape)}, got {got}")
        if len(objects) != len(self.labels):
            raise ValueError(f"objects must hold one array per scene ({len(self.labels)}), got {len(objects)}")
        self.instances = instances.long()
        self.objects = [np.asarray(o, dtype=np.float32).reshape(-1, 5) for o in objects]

    def subset(self, index) -> "SceneDataset":
        """The scenes selected by ``index`` (a boolean mask or integer indices)."""
        index = torch.as_tensor(index)
        picks = torch.arange(len(self.labels))[index].tolist()
        return SceneDataset(self.images[index], self.labels[index], self.boxes[index], self.masks[index],
                            self.instances[index], [self.objects[k] for k in picks], self.source)


def shape_scenes(n: int, seed: int = 0, *, size: int = 32, max_objects: int = 1, empty: float = 1 / 3,
                 min_size: int | None = None, max_size: int | None = None, contrast=(2.5, 4.0),
                 distractors: int = 2, noise: float = 0.05, min_visible: float = 0.6) -> SceneDataset:
    """Shapes on textured backgrounds, with distractors that may occlude them.

    Parameters
    ----------
    n : int
        Number of scenes (>= 1).
    seed : int
        Seed (>= 0): the same arguments give the same scenes.
    size : int
        Side S of the square scenes in pixels (>= 16).
    max_objects : int
        Each non-empty scene holds between 1 and ``max_objects`` objects (uniformly).
    empty : float
        Probability of a scene with no object (0 <= empty < 1).
    min_size, max_size : int, optional
        Range of the objects' heights and widths in pixels (default ``size // 3`` and
        ``3 * size // 4``; needs ``4 <= min_size <= max_size <= size``).
    contrast : (float, float)
        Range of the difference between an object's mean grey level and the background's, in
        units of the background texture's standard deviation; its sign is random (brighter or darker).
    distractors : int
        Each scene holds between 0 and ``distractors`` rectangles or bars of the same kind of
        contrast, drawn after the objects (so they may hide parts of them); they are background.
    noise : float
        Standard deviation of the Gaussian pixel noise (>= 0).
    min_visible : float
        A placement is redrawn when less than this fraction of an object would stay visible.

    Returns
    -------
    SceneDataset
        Images float32 in [0, 1], shape (n, 1, S, S); class masks and instance masks (n, S, S);
        ``labels``/``boxes``: the first object's class and box (fractions of S, NaN if none);
        ``objects``: every object's class and box in pixels.

    Examples
    --------
    >>> ds = shape_scenes(8, seed=1)
    >>> ds.images.shape, ds.labels.tolist()
    (torch.Size([8, 1, 32, 32]), [0, 0, 2, 0, 0, 0, 0, 1])
    >>> [len(o) for o in ds.objects] == [int(k > 0) for k in ds.labels.tolist()]
    True
    >>> torch.equal(shape_scenes(8, seed=1).images, ds.images)
    True
    """
    n, seed, size, max_objects = (f(v, name) for f, v, name in (
        (positive_int, n, "n"), (nonnegative_int, seed, "seed"), (positive_int, size, "size"),
        (positive_int, max_objects, "max_objects")))
    distractors = nonnegative_int(distractors, "distractors")
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    min_size = size // 3 if min_size is None else positive_int(min_size, "min_size")
    max_size = 3 * size // 4 if max_size is None else positive_int(max_size, "max_size")
    if not 4 <= min_size <= max_size <= size:
        raise ValueError(f"min_size and max_size must satisfy 4 <= min_size <= max_size <= size={size}, "
                         f"got min_size={min_size}, max_size={max_size}")
    for value, name, low, high in ((empty, "empty", 0, 1), (noise, "noise", 0, np.inf), (min_visible, "min_visible", 0, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high or value == 1 and name == "empty":
            raise ValueError(f"{name} must be a number in [{low}, {high}{')' if name == 'empty' else ']'}, got {value!r}")
    lo, hi = as_array(contrast, "contrast", ndim=1)
    if not 0 <= lo <= hi or len(as_array(contrast, "contrast", ndim=1)) != 2:
        raise ValueError(f"contrast must be two numbers 0 <= low <= high, got {contrast!r}")
    pool = _texture_pool()
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size] + 0.5
    images = np.empty((n, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    instances = np.zeros((n, size, size), dtype=np.int64)
    labels, boxes, objects = np.zeros(n, dtype=np.int64), np.full((n, 4), np.nan, dtype=np.float32), []
    for k in range(n):
        level, spread = rng.uniform(0.35, 0.65), rng.uniform(0.06, 0.12)
        image = level + spread * _crop(rng, pool, size)
        count = 0 if rng.random() < empty else int(rng.integers(1, max_objects + 1))
        for i in range(1, count + 1):
            for _ in range(20):  # redraw a placement that would hide too much of an earlier object
                label = int(rng.integers(1, len(SHAPE_CLASSES)))
                h, w = rng.uniform(min_size, max_size, size=2)
                top, left = rng.uniform(0, size - h), rng.uniform(0, size - w)
                inside = _shape_mask(label, top, left, h, w, rows, cols)
                if inside.sum() >= 8 and all(
                        ((instances[k] == j) & ~inside).sum() >= min_visible * (instances[k] == j).sum() for j in range(1, i)):
                    break
            sign = rng.choice((-1.0, 1.0))
            fill = level + sign * rng.uniform(lo, hi) * spread + spread * _crop(rng, pool, size)
            image[inside] = fill[inside]
            masks[k][inside], instances[k][inside] = label, i
        for _ in range(int(rng.integers(0, distractors + 1))):
            h, w = rng.uniform(3, max_size, size=2)
            top, left = rng.uniform(0, size - h), rng.uniform(0, size - w)
            bar = (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)
            ids = np.unique(instances[k][bar])
            if any(((instances[k] == j) & ~bar).sum() < min_visible * (instances[k] == j).sum() for j in ids if j):
                continue  # would hide too much of an object
            fill = level + rng.choice((-1.0, 1.0)) * rng.uniform(lo, hi) * spread + spread * _crop(rng, pool, size)
            image[bar] = fill[bar]
            masks[k][bar], instances[k][bar] = 0, 0
        found = []
        for i in range(1, count + 1):
            inside = instances[k] == i
            if inside.any():
                found.append((masks[k][inside][0], *_tight_box(inside)))
        objects.append(np.array(found, dtype=np.float32).reshape(-1, 5))
        if found:
            labels[k], boxes[k] = int(found[0][0]), np.array(found[0][1:]) / size
        images[k] = np.clip(image + noise * rng.standard_normal((size, size)), 0.0, 1.0)
    return SceneDataset(torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels), torch.from_numpy(boxes),
                        torch.from_numpy(masks), torch.from_numpy(instances), objects,
                        f"shape scenes (n={n}, seed={seed}, size={size}, max_objects={max_objects})")


def _largest_blobs(x: np.ndarray, threshold: float, median: np.ndarray | None = None):
    """Per image: the largest group of pixels farther than threshold from the median, its area, fill and box.

    All images are labelled in one call (a structure that links 4-neighbours within an image,
    never across images); among equally large groups the first in raster order wins.
    """
    n, side = len(x), x.shape[-1]
    median = np.median(x, axis=(1, 2)) if median is None else median
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)
    blobs, count = ndimage.label(np.abs(x - median[:, None, None]) > threshold, structure)
    areas, fills, boxes = np.zeros(n), np.zeros(n), np.full((n, 4), np.nan)
    if not count:
        return areas, fills, boxes, np.zeros(x.shape, dtype=bool)
    sizes = np.bincount(blobs.ravel(), minlength=count + 1)
    first = np.zeros(count + 1, dtype=np.int64)  # the image each group lies in
    where = np.flatnonzero(blobs)
    first[blobs.ravel()[where]] = where // (x.shape[1] * x.shape[2])
    ids = np.arange(1, count + 1)
    order = np.lexsort((ids, -sizes[1:], first[1:]))  # by image, then largest, then first label
    ids, images = ids[order], first[1:][order]
    keep = np.r_[True, images[1:] != images[:-1]]
    best = np.zeros(n, dtype=np.int64)
    best[images[keep]] = ids[keep]
    blobs_of = (blobs == best[:, None, None]) & (best[:, None, None] > 0)
    has = best > 0
    on_rows, on_cols = blobs_of.any(2), blobs_of.any(1)
    top, left = on_rows.argmax(1), on_cols.argmax(1)
    h = x.shape[1] - on_rows[:, ::-1].argmax(1) - top
    w = x.shape[2] - on_cols[:, ::-1].argmax(1) - left
    areas[has] = sizes[best[has]]
    fills[has] = areas[has] / (h[has] * w[has])
    boxes[has] = np.stack([left, top, h, w], axis=1)[has] / side
    return areas, fills, boxes, blobs_of


def threshold_rule(images, threshold: float, fill: float, min_area: int = 1):
    """The non-learned baseline: threshold the distance to the median grey level, read the largest blob.

    For each image: pixels whose grey level differs from the image's median by more than
    ``threshold`` are "object"; the largest connected group of them (4-neighbours) is the object
    if it has at least ``min_area`` pixels, its box is the tightest box around it, and it is an
    ellipse if it fills more than ``fill`` of that box (an ellipse fills pi/4 = 0.785 of its box,
    a triangle 1/2), else a triangle. Every pixel of the blob gets that class.

    Parameters
    ----------
    images : array_like, shape (N, 1, S, S) or (N, S, S)
    threshold : float
    fill : float
    min_area : int

    Returns
    -------
    labels : ndarray of int, shape (N,)
        0 (nothing), 1 (ellipse) or 2 (triangle).
    boxes : ndarray, shape (N, 4)
        (y_x, y_y, y_h, y_w) as fractions of S (NaN where the label is 0).
    masks : ndarray of int, shape (N, S, S)

    Examples
    --------
    >>> image = np.zeros((1, 8, 8)); image[0, 2:6, 1:4] = 1.0
    >>> labels, boxes, masks = threshold_rule(image, 0.5, 0.64)
    >>> labels.tolist(), (boxes * 8).tolist(), int(masks.sum())
    ([1], [[1.0, 2.0, 4.0, 3.0]], 12)
    """
    x = as_array(images, "images", ndim=(3, 4))
    x = x.reshape(len(x), *x.shape[-2:])
    areas, fills, boxes, blobs = _largest_blobs(x, float(threshold))
    labels = np.where(areas >= max(min_area, 1), np.where(fills > fill, 1, 2), 0)
    boxes[labels == 0] = np.nan
    masks = blobs * labels[:, None, None]
    return labels, boxes, masks.astype(np.int64)


def tune_threshold_rule(images, labels, boxes, *, thresholds=None, fills=None, min_areas=(1, 10, 20, 40, 60, 100)):
    """Choose :func:`threshold_rule`'s parameters on a training split (the best accuracy plus mean IoU).

    Parameters
    ----------
    images : array_like, shape (N, 1, S, S) or (N, S, S)
    labels : array_like of int, shape (N,)
    boxes : array_like, shape (N, 4)
        True boxes as fractions of S (NaN where the label is 0).
    thresholds, fills, min_areas : sequences, optional
        The grid searched (thresholds default to 20 values from 0.02 to 0.4, fills to 0.5 ... 0.8).

    Returns
    -------
    dict
        ``threshold``, ``fill`` and ``min_area`` of the best combination, with its ``score``
        (accuracy + mean IoU of the images with an object, a miss counting 0).

    Examples
    --------
    >>> ds = shape_scenes(40, seed=3, distractors=0, contrast=(4, 5))
    >>> best = tune_threshold_rule(ds.images, ds.labels, ds.boxes)
    >>> sorted(best), best["score"] > 1.0
    (['fill', 'min_area', 'score', 'threshold'], True)
    """
    from .metrics import iou

    x = as_array(images, "images", ndim=(3, 4))
    x = x.reshape(len(x), *x.shape[-2:])
    labels, boxes = np.asarray(labels), np.asarray(boxes, dtype=float)
    thresholds = np.linspace(0.02, 0.4, 20) if thresholds is None else thresholds
    fills = np.linspace(0.5, 0.8, 13) if fills is None else fills
    has = labels > 0
    best = {"score": -np.inf}
    median = np.median(x, axis=(1, 2))
    for t in thresholds:
        areas, blob_fills, got_boxes, _ = _largest_blobs(x, float(t), median)
        ious = np.zeros(len(x))
        ok = has & (areas > 0)
        ious[ok] = iou(got_boxes[ok], boxes[ok])
        for area in min_areas:
            found = areas >= max(area, 1)
            mean_iou = np.where(found, ious, 0.0)[has].mean() if has.any() else 0.0
            for f in fills:
                got = np.where(found, np.where(blob_fills > f, 1, 2), 0)
                score = (got == labels).mean() + mean_iou
                if score > best["score"]:
                    best = {"threshold": float(t), "fill": float(f), "min_area": int(area), "score": float(score)}
    return best
