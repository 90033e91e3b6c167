"""Data sets held as tensors: :class:`ImageDataset`, stratified subsets, and the generated
shapes of Section 6.6 (:func:`shapes_dataset`). Re-exported by :mod:`cnnlib.data`, which adds
where the MNIST digits come from.
"""
from __future__ import annotations

import numpy as np
import torch

from ._validation import nonnegative_int, positive_int

__all__ = ["ImageDataset", "stratified_indices", "SHAPE_CLASSES", "ShapesDataset", "shapes_dataset"]


class ImageDataset(torch.utils.data.Dataset):
    """Images and integer labels held as two tensors, usable as a PyTorch ``Dataset``.

    Parameters
    ----------
    images : Tensor, shape (N, C, H, W)
        Float images.
    labels : Tensor, shape (N,)
        Integer class labels.
    source : str
        Where the data came from (shown by ``repr`` and in notices).

    Examples
    --------
    >>> ds = ImageDataset(torch.zeros(3, 1, 2, 2), torch.tensor([0, 1, 1]), "zeros")
    >>> len(ds), ds[1][0].shape, ds[1][1]
    (3, torch.Size([1, 2, 2]), 1)
    >>> ds.subset(ds.labels == 1)
    ImageDataset(2 images of shape (1, 2, 2), 1 class, source='zeros')
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, source: str = "tensors"):
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"images must be a tensor of shape (N, C, H, W), got {shape}")
        if not isinstance(labels, torch.Tensor) or labels.ndim != 1:
            shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
            raise ValueError(f"labels must be a 1-D tensor of shape (N,), got {shape}")
        if len(images) != len(labels):
            raise ValueError(
                f"images and labels must have the same length, got {len(images)} images and {len(labels)} labels"
            )
        self.images = images
        self.labels = labels.long()
        self.source = str(source)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], int(self.labels[index])

    def subset(self, index) -> "ImageDataset":
        """The images selected by ``index`` (a boolean mask or integer indices), as a new dataset."""
        index = torch.as_tensor(index)
        return ImageDataset(self.images[index], self.labels[index], self.source)

    def __repr__(self) -> str:
        n_classes = int(torch.unique(self.labels).numel()) if len(self) else 0
        return (f"ImageDataset({len(self)} images of shape {tuple(self.images.shape[1:])}, "
                f"{n_classes} class{'es' if n_classes != 1 else ''}, source={self.source!r})")


def stratified_indices(labels, per_class: int, *, seed: int = 0, offset: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, chosen at random with a fixed seed.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Class labels.
    per_class : int
        How many examples to take from each class (every class must have at least
        ``offset + per_class``).
    seed : int
        Seed of the random permutation inside each class.
    offset : int
        Skip the first ``offset`` examples of each class's permutation: with the same seed,
        ``offset=0`` and ``offset=per_class`` give disjoint index sets.

    Returns
    -------
    ndarray of int, shape (per_class * n_classes,)
        Sorted indices.

    Examples
    --------
    >>> labels = np.array([0, 0, 0, 1, 1, 1])
    >>> idx = stratified_indices(labels, 2, seed=1)
    >>> np.bincount(labels[idx]).tolist()
    [2, 2]
    >>> set(idx) & set(stratified_indices(labels, 1, seed=1, offset=2))
    set()
    """
    per_class = positive_int(per_class, "per_class")
    offset = nonnegative_int(offset, "offset")
    labels = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        if len(members) < offset + per_class:
            raise ValueError(
                f"per_class={per_class} with offset={offset} needs {offset + per_class} examples of class {c}, "
                f"but there are only {len(members)}"
            )
        chosen.append(members[offset:offset + per_class])
    return np.sort(np.concatenate(chosen))


# --------------------------------------------------------------------------- generated shapes (Section 6.6)
#: Class names of :func:`shapes_dataset`, by label: 0 is the chapter's "nothing".
SHAPE_CLASSES = ("nothing", "ellipse", "triangle")


class ShapesDataset(ImageDataset):
    """Generated images with a class, a bounding box and a per-pixel mask (see :func:`shapes_dataset`).

    Parameters
    ----------
    images : Tensor, shape (N, 1, S, S)
        Grey images with values in [0, 1].
    labels : Tensor of int64, shape (N,)
        0 ("nothing"), 1 ("ellipse") or 2 ("triangle"), indices into :data:`SHAPE_CLASSES`.
    boxes : Tensor of float32, shape (N, 4)
        ``(y_x, y_y, y_h, y_w)``: column and row of the box's upper-left corner, then its height
        and width, all as fractions of the image side S; NaN ("do not care") where the label is 0.
    masks : Tensor of int64, shape (N, S, S)
        The label of every pixel: 0 for background, otherwise the object's label.
    source : str

    Examples
    --------
    >>> ds = shapes_dataset(4, seed=1)
    >>> ds.subset([0, 2]).boxes.shape
    torch.Size([2, 4])
    """

    def __init__(self, images, labels, boxes, masks, source: str = "shapes"):
        super().__init__(images, labels, source)
        n, side = len(self.labels), tuple(images.shape[-2:])
        if not isinstance(boxes, torch.Tensor) or tuple(boxes.shape) != (n, 4):
            got = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
            raise ValueError(f"boxes must be a tensor of shape ({n}, 4), got {got}")
        if not isinstance(masks, torch.Tensor) or tuple(masks.shape) != (n, *side):
            got = tuple(masks.shape) if isinstance(masks, torch.Tensor) else type(masks).__name__
            raise ValueError(f"masks must be a tensor of shape ({n}, {side[0]}, {side[1]}), got {got}")
        self.boxes = boxes.float()
        self.masks = masks.long()

    def subset(self, index) -> "ShapesDataset":
        """The images selected by ``index`` (a boolean mask or integer indices), with their boxes and masks."""
        index = torch.as_tensor(index)
        return ShapesDataset(self.images[index], self.labels[index], self.boxes[index], self.masks[index],
                             self.source)


def _draw_shape(label: int, top: float, left: float, h: float, w: float, rows, cols) -> np.ndarray:
    """Boolean mask of an ellipse (label 1) or an apex-up triangle (label 2); rows, cols: pixel centres."""
    if label == 1:
        cy, cx = top + h / 2, left + w / 2
        return ((rows - cy) / (h / 2)) ** 2 + ((cols - cx) / (w / 2)) ** 2 <= 1.0
    depth = (rows - top) / h  # 0 at the apex, 1 at the base
    return (depth >= 0) & (depth <= 1) & (np.abs(cols - (left + w / 2)) <= depth * w / 2)


def shapes_dataset(n: int, seed: int = 0, *, size: int = 32, min_size: int | None = None,
                   max_size: int | None = None, noise: float = 0.05) -> ShapesDataset:
    """Generated images holding nothing, one ellipse or one triangle, with boxes and masks.

    A small stand-in for the "nothing / bird / plane" example of Section 6.6 of the chapter,
    generated on the spot (no download) and identical for the same arguments. Each image has a
    random grey background with Gaussian noise; two images in three (on average) also hold one
    brighter object, an axis-aligned ellipse or an apex-up isosceles triangle, of random height
    and width.

    Parameters
    ----------
    n : int
        Number of images (>= 1).
    seed : int
        Seed of the generator (>= 0): the same seed gives the same images.
    size : int
        Side S of the square images in pixels (>= 8).
    min_size, max_size : int, optional
        Range of the object's height and width in pixels; they default to ``size // 3`` and
        ``3 * size // 4`` (10 and 24 for S = 32). Needs ``3 <= min_size <= max_size <= size``.
    noise : float
        Standard deviation of the Gaussian pixel noise (>= 0); values are clipped to [0, 1].

    Returns
    -------
    ShapesDataset
        ``.images`` float32, shape (n, 1, S, S); ``.labels`` int64, shape (n,), 0 = nothing,
        1 = ellipse, 2 = triangle (:data:`SHAPE_CLASSES`); ``.boxes`` float32, shape (n, 4);
        ``.masks`` int64, shape (n, S, S).

    Notes
    -----
    The box follows the chapter's output encoding :math:`(y_x, y_y, y_h, y_w)`: the column and
    row of the upper-left corner, then the height and width. It is the tightest box around the
    object's pixels, so the box and the mask always agree, and it is given as fractions of the
    side S (multiply by S for pixels). Images of class 0 have no box: their row is NaN, the
    chapter's "do not care" values. A triangle's three vertices (landmarks) are the box's
    top-middle point and its two bottom corners, up to the pixel grid.

    Examples
    --------
    >>> ds = shapes_dataset(6, seed=0)
    >>> ds.images.shape, ds.masks.shape
    (torch.Size([6, 1, 32, 32]), torch.Size([6, 32, 32]))
    >>> [SHAPE_CLASSES[k] for k in ds.labels.tolist()]
    ['triangle', 'ellipse', 'ellipse', 'nothing', 'nothing', 'nothing']
    >>> bool(torch.isnan(ds.boxes[ds.labels == 0]).all())
    True
    >>> torch.equal(shapes_dataset(6, seed=0).images, ds.images)
    True
    """
    n = positive_int(n, "n")
    seed = nonnegative_int(seed, "seed")
    size = positive_int(size, "size")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    min_size = size // 3 if min_size is None else min_size
    max_size = 3 * size // 4 if max_size is None else max_size
    min_size, max_size = positive_int(min_size, "min_size"), positive_int(max_size, "max_size")
    if not 3 <= min_size <= max_size <= size:
        raise ValueError(f"min_size and max_size must satisfy 3 <= min_size <= max_size <= size={size}, "
                         f"got min_size={min_size}, max_size={max_size}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    boxes = np.full((n, 4), np.nan, dtype=np.float32)
    labels = rng.integers(0, len(SHAPE_CLASSES), size=n)
    rows, cols = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    for k in range(n):
        background = rng.uniform(0.0, 0.35)
        image = np.full((size, size), background)
        if labels[k]:
            h, w = rng.uniform(min_size, max_size, size=2)
            top, left = rng.uniform(0, size - h), rng.uniform(0, size - w)
            inside = _draw_shape(int(labels[k]), top, left, h, w, rows, cols)
            image[inside] = background + rng.uniform(0.4, 0.65)
            masks[k][inside] = labels[k]
            on_rows, on_cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
            boxes[k] = (on_cols[0], on_rows[0], on_rows[-1] - on_rows[0] + 1, on_cols[-1] - on_cols[0] + 1)
        images[k] = np.clip(image + noise * rng.standard_normal((size, size)), 0.0, 1.0)
    return ShapesDataset(torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels),
                         torch.from_numpy(boxes / size), torch.from_numpy(masks),
                         f"generated shapes (n={n}, seed={seed}, size={size})")
