"""Many identities for open-set verification (Section 6.6): procedurally generated glyphs.

A face-verification system must decide "same person?" for people it never saw in training.
Ten MNIST digits are far too few identities to test that: hold some digits out and there are
only a handful left to learn from. :func:`glyph_identities` draws as many identities as
wanted: each identity is a glyph, a few pen strokes between random points of a 4 x 4 grid, and
each *sample* of an identity redraws it with its own variation (points moved, pen width, a
small rotation, scaling and shift, noise), as two photographs of one face differ.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (siamese networks and the triplet loss).
"""
from __future__ import annotations

import numpy as np
import torch

from ._validation import nonnegative_int, positive_int
from .data import ImageDataset

__all__ = ["glyph_identities"]


def _segment_distance(rows, cols, p, q):
    """Distance of every pixel centre to each segment p[k]-q[k] (points as (row, col)): shape (K, *rows.shape)."""
    d = q - p
    length2 = np.maximum((d * d).sum(1), 1e-9)[:, None, None]
    p0, p1, d0, d1 = (v[:, None, None] for v in (p[:, 0], p[:, 1], d[:, 0], d[:, 1]))
    t = np.clip(((rows - p0) * d0 + (cols - p1) * d1) / length2, 0.0, 1.0)
    return np.hypot(rows - p0 - t * d0, cols - p1 - t * d1)


def glyph_identities(n_identities: int, per_identity: int, *, seed: int = 0, first: int = 0, size: int = 28,
                     strokes=(3, 5), jitter: float = 0.04, noise: float = 0.05) -> ImageDataset:
    """Images of ``n_identities`` glyph identities, ``per_identity`` varied samples of each.

    Parameters
    ----------
    n_identities, per_identity : int
        Number of identities and of samples per identity (>= 1).
    seed : int
        Seed of the *identities*: identity k is the same glyph for every call with this seed
        (>= 0). The samples' variation is drawn from ``seed`` and ``first`` too, so two calls
        with the same arguments give the same images.
    first : int
        Index of the first identity: ``first=300`` gives identities 300, 301, ..., which
        never occur in a call with ``first=0, n_identities=300`` (a disjoint set of identities).
    size : int
        Side of the square images (>= 12).
    strokes : (int, int)
        Range of the number of strokes of a glyph.
    jitter : float
        Standard deviation of the per-sample displacement of the stroke end points, as a
        fraction of the side.
    noise : float
        Standard deviation of the Gaussian pixel noise.

    Returns
    -------
    ImageDataset
        ``.images`` float32 in [0, 1], shape (n_identities * per_identity, 1, size, size);
        ``.labels`` int64: the identity (``first`` ... ``first + n_identities - 1``).

    Examples
    --------
    >>> ds = glyph_identities(5, 3, seed=0)
    >>> ds.images.shape, ds.labels.tolist()
    (torch.Size([15, 1, 28, 28]), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
    >>> later = glyph_identities(2, 3, seed=0, first=3)  # identities 3 and 4 again
    >>> bool(torch.equal(later.labels, ds.labels[9:])), later.images.shape[0]
    (True, 6)
    """
    n_identities, per_identity, size = (positive_int(v, n) for v, n in (
        (n_identities, "n_identities"), (per_identity, "per_identity"), (size, "size")))
    seed, first = nonnegative_int(seed, "seed"), nonnegative_int(first, "first")
    if size < 12:
        raise ValueError(f"size must be at least 12 pixels, got {size}")
    lo, hi = (positive_int(v, "strokes") for v in strokes)
    if lo > hi:
        raise ValueError(f"strokes must be (low, high) with 1 <= low <= high, got {strokes!r}")
    for value, name in ((jitter, "jitter"), (noise, "noise")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < np.inf:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    rows, cols = np.mgrid[0:size, 0:size] + 0.5
    grid = (np.arange(4) + 0.5) / 4 * 0.7 + 0.15  # 4 x 4 grid of points inside the central 70%
    images = np.empty((n_identities * per_identity, size, size), dtype=np.float32)
    labels = np.repeat(np.arange(first, first + n_identities), per_identity)
    for i, identity in enumerate(range(first, first + n_identities)):
        shape_rng = np.random.default_rng([seed, identity])
        n_strokes = int(shape_rng.integers(lo, hi + 1))
        points = grid[shape_rng.integers(0, 4, size=(n_strokes + 1, 2))]
        # a pen path through the points, some strokes lifted (drawn from a new point)
        starts = np.where(shape_rng.random((n_strokes, 1)) < 0.3, grid[shape_rng.integers(0, 4, size=(n_strokes, 2))], points[:-1])
        sample_rng = np.random.default_rng([seed, identity, 1])
        for j in range(per_identity):
            a = starts + jitter * sample_rng.standard_normal(starts.shape)
            b = points[1:] + jitter * sample_rng.standard_normal(starts.shape)
            angle, scale = np.deg2rad(sample_rng.uniform(-12, 12)), sample_rng.uniform(0.9, 1.1)
            shift = sample_rng.uniform(-0.06, 0.06, size=2)
            rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            a, b = ((x - 0.5) @ rot.T + 0.5 + shift for x in (a, b))
            width = sample_rng.uniform(0.9, 1.6) * size / 28
            d = _segment_distance(rows, cols, a * size, b * size).min(axis=0)
            image = np.clip(width + 0.5 - d, 0.0, 1.0)  # a pen of half-width `width`, one pixel of soft edge
            images[i * per_identity + j] = np.clip(image + noise * sample_rng.standard_normal((size, size)), 0, 1)
    return ImageDataset(torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels),
                        f"glyph identities {first}..{first + n_identities - 1} (seed={seed}, {per_identity} each)")
