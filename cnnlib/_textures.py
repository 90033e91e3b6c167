"""The textures and photographs of scikit-image that the generated scenes are cut from (Section 6.6).

Shared by :mod:`cnnlib.scenes` (shapes for localization, detection and segmentation) and
:mod:`cnnlib.keypoints` (triangles whose vertices are the landmarks); imports no sibling.
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = ["TEXTURES", "texture_pool", "texture_crop"]

#: The scikit-image images (shipped with the package, no download) the scenes are cut from.
TEXTURES = ("brick", "grass", "gravel", "camera", "moon", "coffee", "astronaut", "chelsea", "rocket", "coins")


@functools.lru_cache(maxsize=1)
def texture_pool() -> tuple[np.ndarray, ...]:
    """The textures in grey, halved in size (2 x 2 means), each scaled to mean 0 and standard deviation 1."""
    import skimage.data
    from skimage.color import rgb2gray

    pool = []
    for name in TEXTURES:
        image = np.asarray(getattr(skimage.data, name)(), dtype=float)
        image = rgb2gray(image) if image.ndim == 3 else image / 255.0
        h, w = (s // 2 * 2 for s in image.shape)
        image = image[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        pool.append((image - image.mean()) / image.std())
    return tuple(pool)


def texture_crop(rng: np.random.Generator, pool, size: int) -> np.ndarray:
    """A random ``size`` x ``size`` crop of a random texture of ``pool``, turned by a random multiple of 90 degrees.

    >>> texture_crop(np.random.default_rng(0), texture_pool(), 16).shape
    (16, 16)
    """
    texture = pool[rng.integers(len(pool))]
    top, left = rng.integers(0, texture.shape[0] - size + 1), rng.integers(0, texture.shape[1] - size + 1)
    patch = texture[top:top + size, left:left + size]
    return np.rot90(patch, rng.integers(4))
