"""Landmarks: regressing the vertices of triangles on textured backgrounds (Section 6.6).

A landmark (keypoint) detector answers with the coordinates of a fixed number of points, as
MTCNN answers with five points of a face (:mod:`cnnlib.models.mtcnn`). Here the points are the
three vertices of a triangle of random shape and orientation, cut into a texture
(:func:`triangle_scenes`). The vertices of a triangle have no natural order, so the loss and the
error are both computed after the best matching of predicted to true points
(:func:`keypoint_loss`, :func:`keypoint_error`); :func:`hull_triangle` is the non-learned
baseline: the largest triangle on the convex hull of a blob.

Points are ``(x, y)`` = (column, row) in pixels, the pixel ``[i, j]`` covering
``j <= x < j + 1`` and ``i <= y < i + 1`` (its centre at ``(j + 0.5, i + 0.5)``).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (Figure 6.16, landmark detection).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from scipy import optimize, spatial

from ._textures import texture_crop, texture_pool
from ._validation import as_array, nonnegative_int, positive_int

__all__ = ["KeypointScenes", "triangle_scenes", "dihedral", "keypoint_loss", "keypoint_error", "hull_triangle"]


@dataclass
class KeypointScenes:
    """Scenes of :func:`triangle_scenes`.

    Attributes
    ----------
    images : Tensor, shape (N, 1, S, S), float32 in [0, 1]
    points : Tensor, shape (N, 3, 2), float32
        The vertices ``(x, y)`` in pixels, in the random order they were drawn in.
    masks : Tensor of bool, shape (N, S, S)
        The pixels whose centre lies inside the triangle.
    source : str
    """

    images: torch.Tensor
    points: torch.Tensor
    masks: torch.Tensor
    source: str = "triangle scenes"

    @property
    def size(self) -> int:
        """The side S of the scenes in pixels."""
        return int(self.images.shape[-1])

    def targets(self) -> torch.Tensor:
        """The regression targets: the points as fractions of S, flattened to shape (N, 6)."""
        return (self.points / self.size).reshape(len(self.points), -1)

    def __len__(self) -> int:
        return len(self.points)

    def __repr__(self) -> str:
        return f"KeypointScenes({self.source}: {len(self)} images of {self.size} x {self.size}, 3 points each)"


def _inside(points: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pixel centres (xs, ys) inside the triangle ``points`` (3, 2): on the same side of all three edges."""
    sides = []
    for (x0, y0), (x1, y1) in zip(points, np.roll(points, -1, axis=0)):
        sides.append((x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0))
    sides = np.stack(sides)
    return (sides >= 0).all(0) | (sides <= 0).all(0)


def triangle_scenes(n: int, seed: int = 0, *, size: int = 32, radius=(0.2, 0.42), min_angle: float = 40.0,
                    contrast=(2.5, 4.0), distractors: int = 2, noise: float = 0.05) -> KeypointScenes:
    """Triangles of random shape and orientation on textured backgrounds, with their three vertices.

    Each triangle's vertices lie at distances ``radius`` (fractions of S, each drawn
    separately) from a centre near the middle of the image, at angles at least ``min_angle``
    degrees apart; it is filled with a texture a little brighter or darker than the background
    around it. Up to ``distractors`` rectangles or bars of the same kind of contrast are drawn
    *under* the triangle, so its vertices stay visible.

    Parameters
    ----------
    n : int
        Number of images (>= 1).
    seed : int
        Seed (>= 0): the same arguments give the same images.
    size : int
        Side S in pixels (>= 16).
    radius : (float, float)
        Range of the distance of each vertex from the centre, as fractions of S (0 < low <= high <= 0.45).
    min_angle : float
        Smallest angle in degrees between two vertices seen from the centre (0 <= min_angle <= 110).
    contrast : (float, float)
        Range of the difference between the triangle's mean grey level and the background's, in
        units of the background texture's standard deviation.
    distractors : int
        Each image holds between 0 and ``distractors`` distractors (>= 0).
    noise : float
        Standard deviation of the Gaussian pixel noise (>= 0).

    Returns
    -------
    KeypointScenes

    Examples
    --------
    >>> ds = triangle_scenes(4, seed=0)
    >>> ds.images.shape, ds.points.shape, ds.targets().shape
    (torch.Size([4, 1, 32, 32]), torch.Size([4, 3, 2]), torch.Size([4, 6]))
    >>> bool(((ds.points > 0) & (ds.points < 32)).all()), torch.equal(triangle_scenes(4, seed=0).images, ds.images)
    (True, True)
    """
    n, seed, size = positive_int(n, "n"), nonnegative_int(seed, "seed"), positive_int(size, "size")
    distractors = nonnegative_int(distractors, "distractors")
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    r_lo, r_hi = as_array(radius, "radius", ndim=1) if np.size(radius) == 2 else (np.nan, np.nan)
    if not 0 < r_lo <= r_hi <= 0.45:
        raise ValueError(f"radius must be two fractions 0 < low <= high <= 0.45, got {radius!r}")
    c_lo, c_hi = as_array(contrast, "contrast", ndim=1) if np.size(contrast) == 2 else (np.nan, np.nan)
    if not 0 <= c_lo <= c_hi:
        raise ValueError(f"contrast must be two numbers 0 <= low <= high, got {contrast!r}")
    for value, name, high in ((min_angle, "min_angle", 110.0), (noise, "noise", np.inf)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
            raise ValueError(f"{name} must be a number in [0, {high}], got {value!r}")
    pool = texture_pool()
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    images = np.empty((n, size, size), dtype=np.float32)
    points = np.empty((n, 3, 2), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=bool)
    spare = 2 * np.pi - 3 * np.radians(min_angle)
    for k in range(n):
        level, spread = rng.uniform(0.35, 0.65), rng.uniform(0.06, 0.12)
        image = level + spread * texture_crop(rng, pool, size)
        for _ in range(int(rng.integers(0, distractors + 1))):
            h, w = rng.uniform(3, 0.75 * size, size=2)
            top, left = rng.uniform(0, size - h), rng.uniform(0, size - w)
            bar = (ys >= top) & (ys < top + h) & (xs >= left) & (xs < left + w)
            fill = level + rng.choice((-1.0, 1.0)) * rng.uniform(c_lo, c_hi) * spread + spread * texture_crop(rng, pool, size)
            image[bar] = fill[bar]
        centre = rng.uniform(0.4 * size, 0.6 * size, size=2)
        gaps = np.radians(min_angle) + spare * rng.dirichlet(np.ones(3))
        angles = rng.uniform(0, 2 * np.pi) + np.concatenate(([0.0], np.cumsum(gaps[:2])))
        vertices = centre + size * rng.uniform(r_lo, r_hi, size=(3, 1)) * np.stack([np.cos(angles), np.sin(angles)], 1)
        vertices = np.clip(vertices, 0.5, size - 0.5)[rng.permutation(3)]
        inside = _inside(vertices, xs, ys)
        fill = level + rng.choice((-1.0, 1.0)) * rng.uniform(c_lo, c_hi) * spread + spread * texture_crop(rng, pool, size)
        image[inside] = fill[inside]
        images[k] = np.clip(image + noise * rng.standard_normal((size, size)), 0.0, 1.0)
        points[k], masks[k] = vertices, inside
    return KeypointScenes(torch.from_numpy(images).unsqueeze(1), torch.from_numpy(points), torch.from_numpy(masks),
                          f"triangle scenes (n={n}, seed={seed}, size={size})")


def dihedral(scenes: KeypointScenes) -> KeypointScenes:
    """The scenes under the 8 symmetries of the square (turns by 90 degrees, mirror images): 8 times as many.

    A cheap way to more training data: each image turned and mirrored is another plausible
    image, and its points move with it. The first ``len(scenes)`` images are the originals.

    Examples
    --------
    >>> ds = triangle_scenes(2, seed=0)
    >>> more = dihedral(ds)
    >>> len(more), torch.equal(more.images[:2], ds.images)
    (16, True)
    """
    if not isinstance(scenes, KeypointScenes):
        raise TypeError(f"scenes must be KeypointScenes (from triangle_scenes), got {type(scenes).__name__}")
    size = scenes.size
    images, points, masks = [], [], []
    for transpose in (False, True):
        for flip_x in (False, True):
            for flip_y in (False, True):
                x, p, m = scenes.images, scenes.points.clone(), scenes.masks
                if transpose:
                    x, m, p = x.transpose(-1, -2), m.transpose(-1, -2), p.flip(-1)
                if flip_x:
                    x, m = x.flip(-1), m.flip(-1)
                    p[..., 0] = size - p[..., 0]
                if flip_y:
                    x, m = x.flip(-2), m.flip(-2)
                    p[..., 1] = size - p[..., 1]
                images.append(x)
                points.append(p)
                masks.append(m)
    return KeypointScenes(torch.cat(images).contiguous(), torch.cat(points), torch.cat(masks).contiguous(),
                          f"{scenes.source}, 8 symmetries")


def _point_sets(value, name: str, num_points: int | None = None) -> torch.Tensor:
    """(B, K, 2) from (B, 2K) or (B, K, 2)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(value).__name__}")
    if value.ndim == 2 and value.shape[1] % 2 == 0:
        value = value.reshape(len(value), -1, 2)
    if value.ndim != 3 or value.shape[2] != 2 or value.shape[1] < 1:
        raise ValueError(f"{name} must have shape (B, 2K) or (B, K, 2), got {tuple(value.shape)}")
    if value.shape[1] > 6:
        raise ValueError(f"{name} holds {value.shape[1]} points; the matching tries all K! orders, so K <= 6")
    return value


#: All k! orders of k points per (k, device), made once (no copy to the GPU inside a CUDA-graph capture). A plain
#: dict, not ``functools.lru_cache``: ``cached_fit`` keys ``keypoint_loss`` by the code and values it reads, and an
#: lru_cache wrapper shows there only as its repr, whose address changes from run to run (a cache miss every run).
_ORDERS: dict = {}


def _orders(k: int, device: torch.device) -> torch.Tensor:
    """All k! orders of k points, shape (k!, k), on ``device``."""
    key = (k, str(device))
    if key not in _ORDERS:
        _ORDERS[key] = torch.tensor(list(itertools.permutations(range(k))), device=device)
    return _ORDERS[key]


def keypoint_loss(pred: torch.Tensor, target: torch.Tensor, *, matched: bool = True) -> torch.Tensor:
    """Mean squared distance between predicted and true points, after the best matching of the two.

    For each example: the squared Euclidean distance of each predicted point to the true point
    it is matched with, averaged over the K points, for the order of the predictions that makes
    this smallest (all K! orders are tried); then the mean over the batch.

    Parameters
    ----------
    pred, target : Tensor, shape (B, 2K) or (B, K, 2)
        Points ``(x, y)``; the flat form lists ``x_1, y_1, x_2, y_2, ...``.
    matched : bool, default True
        ``False`` gives the plain loss that takes the points in the order given.

    Returns
    -------
    Tensor
        A scalar; differentiable in ``pred``.

    Examples
    --------
    >>> t = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0, 1.0]])
    >>> p = torch.tensor([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])  # the same points, another order
    >>> float(keypoint_loss(p, t)), round(float(keypoint_loss(p, t, matched=False)), 4)
    (0.0, 1.3333)
    """
    p, t = _point_sets(pred, "pred"), _point_sets(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"pred and target must hold the same number of points, got shapes {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    if not matched:
        return ((p - t) ** 2).sum(2).mean()
    orders = _orders(p.shape[1], p.device)  # (P, K)
    squared = ((p[:, orders] - t[:, None]) ** 2).sum(3).mean(2)  # (B, P)
    return squared.min(1).values.mean()


def keypoint_error(pred, target, *, scale: float = 1.0) -> np.ndarray:
    """Mean distance from each true point to the predicted point matched with it, per example.

    The matching is the one that makes the sum of distances smallest (the Hungarian algorithm,
    ``scipy.optimize.linear_sum_assignment``); distances are multiplied by ``scale`` (e.g. the
    image side, for points given as fractions of it).

    Parameters
    ----------
    pred, target : array_like, shape (B, 2K) or (B, K, 2)
    scale : float, default 1.0

    Returns
    -------
    ndarray, shape (B,)

    Examples
    --------
    >>> keypoint_error([[0, 0, 3, 4]], [[3, 4, 0, 1]]).tolist()
    [0.5]
    >>> keypoint_error([[0.0, 0.0, 0.1, 0.0]], [[0.1, 0.0, 0.0, 0.05]], scale=32).round(3).tolist()
    [0.8]
    """
    p = as_array(pred, "pred", ndim=(2, 3))
    t = as_array(target, "target", ndim=(2, 3))
    p, t = p.reshape(len(p), -1, 2), t.reshape(len(t), -1, 2)
    if p.shape != t.shape:
        raise ValueError(f"pred and target must hold the same points, got shapes {np.shape(pred)} and {np.shape(target)}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    errors = np.empty(len(p))
    for k, (a, b) in enumerate(zip(p, t)):
        cost = np.linalg.norm(a[:, None] - b[None], axis=2)
        rows, cols = optimize.linear_sum_assignment(cost)
        errors[k] = cost[rows, cols].mean()
    return errors * scale


def hull_triangle(mask) -> np.ndarray:
    """The non-learned baseline: the largest triangle whose corners are corners of the blob's convex hull.

    The hull is taken around the centres of the pixels of ``mask``; of all triangles with three
    of its vertices as corners, the one of largest area is returned (a triangle's own pixels
    give back its vertices to within about a pixel). An empty mask gives the centre of the image
    three times; a mask of fewer than three non-collinear pixels, their centres.

    Parameters
    ----------
    mask : array_like of bool, shape (S, S)

    Returns
    -------
    ndarray, shape (3, 2)
        Three points ``(x, y)`` in pixels.

    Examples
    --------
    >>> mask = np.zeros((8, 8), bool)
    >>> for i in range(6): mask[1 + i, 1:2 + i] = True  # a right triangle, corners at pixels (1,1), (6,1), (6,6)
    >>> sorted(hull_triangle(mask).tolist())
    [[1.5, 1.5], [1.5, 6.5], [6.5, 6.5]]
    """
    m = as_array(mask, "mask", ndim=2) != 0
    rows, cols = np.nonzero(m)
    pts = np.stack([cols + 0.5, rows + 0.5], 1)
    if len(pts) == 0:
        return np.full((3, 2), m.shape[1] / 2.0)
    try:
        corners = pts[spatial.ConvexHull(pts).vertices]
    except spatial.QhullError:  # collinear or too few pixels
        corners = pts[[0, len(pts) // 2, -1]]
    if len(corners) <= 3:
        return corners[np.arange(3) % len(corners)]
    i, j, k = np.array(list(itertools.combinations(range(len(corners)), 3))).T
    a, b, c = corners[i], corners[j], corners[k]
    area = np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    best = int(area.argmax())
    return np.stack([a[best], b[best], c[best]])
