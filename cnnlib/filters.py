"""Engineered kernels: the Sobel edge detector of Sections 6.1 and 6.2.

The chapter uses edge detection as its first example of filtering (Figure 6.1) and comes
back to it at the end of Section 6.2. Each Sobel kernel approximates a derivative of the
image intensity, in one direction, smoothed in the other.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.1 and 6.2 ("Edge detection revisited").
"""
from __future__ import annotations

import numpy as np

from ._validation import as_array, check_choice
from .conv import convolve2d, volume_convolve

__all__ = ["SOBEL_HORIZONTAL", "SOBEL_VERTICAL", "sobel_edges"]

#: Kernel W^(h) for horizontal edges (responds to changes from row to row).
SOBEL_HORIZONTAL = np.array([[1.0, 2.0, 1.0],
                             [0.0, 0.0, 0.0],
                             [-1.0, -2.0, -1.0]])
SOBEL_HORIZONTAL.flags.writeable = False

#: Kernel W^(v) for vertical edges (responds to changes from column to column).
SOBEL_VERTICAL = np.array([[1.0, 0.0, -1.0],
                           [2.0, 0.0, -2.0],
                           [1.0, 0.0, -1.0]])
SOBEL_VERTICAL.flags.writeable = False


def _combine(y_h, y_v, combine):
    if combine == "sum":
        return y_h + y_v
    if combine == "average":
        return (y_h + y_v) / 2
    return np.hypot(y_h, y_v)


def sobel_edges(image, direction: str = "both", combine: str = "magnitude", color: str = "per_channel"):
    """Sobel edge responses of a grey or colour image, by 'valid' convolution (6.7).

    Parameters
    ----------
    image : array_like, shape (H, W) or (H, W, C)
        A grey image, or a colour image with channels last (the layout of
        :mod:`skimage.data` and of matplotlib). Values are used as given.
    direction : {"horizontal", "vertical", "both"}
        Which kernel: :data:`SOBEL_HORIZONTAL`, :data:`SOBEL_VERTICAL`, or both combined.
    combine : {"magnitude", "sum", "average"}
        How ``direction="both"`` merges the two responses ``y_h`` and ``y_v``:
        ``"sum"`` is ``y_h + y_v`` and ``"average"`` is ``(y_h + y_v) / 2``, the two
        superpositions the chapter mentions; ``"magnitude"`` is ``sqrt(y_h**2 + y_v**2)``,
        the usual gradient magnitude, which does not let opposite signs cancel.
    color : {"per_channel", "volume"}
        For a colour image: ``"per_channel"`` filters each channel on its own and returns
        one response per channel; ``"volume"`` uses a 3-D kernel that repeats the 2-D one
        across the channels, Eq. (6.9), which equals the sum of the per-channel responses.
        Ignored for grey images.

    Returns
    -------
    ndarray
        Shape ``(H - 2, W - 2)`` for a grey image or ``color="volume"``;
        ``(H - 2, W - 2, C)`` for ``color="per_channel"``. Responses are signed for a single
        direction and for "sum"/"average".

    Examples
    --------
    >>> step = np.zeros((5, 6)); step[:, 3:] = 1.0   # a vertical edge
    >>> sobel_edges(step, "vertical")
    array([[0., 4., 4., 0.],
           [0., 4., 4., 0.],
           [0., 4., 4., 0.]])
    >>> float(np.abs(sobel_edges(step, "horizontal")).max())
    0.0
    """
    x = as_array(image, "image", ndim=(2, 3))
    check_choice(direction, "direction", ("horizontal", "vertical", "both"))
    check_choice(combine, "combine", ("magnitude", "sum", "average"))
    check_choice(color, "color", ("per_channel", "volume"))
    if min(x.shape[:2]) < 3:
        raise ValueError(f"image must be at least 3 x 3 pixels for a 3 x 3 kernel, got shape {x.shape}")

    def respond(kernel):
        if x.ndim == 2:
            return convolve2d(x, kernel)
        channels = np.moveaxis(x, -1, 0)  # (C, H, W)
        if color == "volume":
            volume_kernel = np.broadcast_to(kernel, (channels.shape[0], 3, 3))
            return volume_convolve(channels, volume_kernel)[0]
        return np.stack([convolve2d(c, kernel) for c in channels], axis=-1)

    if direction == "horizontal":
        return respond(SOBEL_HORIZONTAL)
    if direction == "vertical":
        return respond(SOBEL_VERTICAL)
    return _combine(respond(SOBEL_HORIZONTAL), respond(SOBEL_VERTICAL), combine)
