"""Drawing what :mod:`cnnlib.inner` computes: kernels, feature maps and Figure 6.12-style panels (Section 6.4.6).

- :func:`plot_kernels` draws a convolution's kernels as a mosaic of small images (colour for
  three input channels, grey for one).
- :func:`plot_feature_maps` draws the channels of one layer's output on one common scale.
- :func:`plot_layer_panel` draws, for chosen channels, the deconvnet projections of their
  strongest units beside the image patches that excite them (Zeiler and Fergus's Figure 2,
  the chapter's Figure 6.12), from :func:`cnnlib.inner.layer_panel`.

These functions draw only; the numbers come from :mod:`cnnlib.inner`.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4.6 (Figure 6.12).
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from .._validation import as_array, check_bool, positive_int

__all__ = ["plot_kernels", "plot_feature_maps", "plot_layer_panel"]


def _as_numpy(value, name: str) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return as_array(value, name)


def _stretch(image: np.ndarray, *, centred: bool = False, percentile: float = 100.0) -> np.ndarray:
    """Scale an array to [0, 1]: min to 0 and max to 1, or (``centred``) 0 to 0.5 and +-m to 1 and 0.

    With ``centred``, m is the given percentile of the magnitudes (values beyond are clipped),
    so that a few large entries do not leave the rest invisible."""
    if centred:
        m = np.percentile(np.abs(image), percentile)
        if m <= 0:
            m = np.abs(image).max()
        return np.clip(0.5 + 0.5 * image / m, 0, 1) if m > 0 else np.full_like(image, 0.5)
    lo, hi = image.min(), image.max()
    return (image - lo) / (hi - lo) if hi > lo else np.full_like(image, 0.5)


def _rgb_tile(chw: np.ndarray, *, centred: bool, percentile: float = 100.0) -> np.ndarray:
    """A (C, h, w) array as an (h, w, 3) image in [0, 1]: colour when C is 3, grey (first channel) otherwise.

    An image already in [0, 1] (``centred=False``) is kept as it is; anything else is stretched."""
    as_is = not centred and chw.min() >= 0 and chw.max() <= 1
    img = chw if as_is else _stretch(chw, centred=centred, percentile=percentile)
    return np.moveaxis(img, 0, -1) if img.shape[0] == 3 else np.repeat(img[0][..., None], 3, axis=-1)


def _mosaic(tiles, ncols: int, *, pad: int = 1, background: float = 1.0) -> np.ndarray:
    """Lay (h, w, 3) tiles out on a grid, ``pad`` pixels apart; a tile smaller than the largest sits at the top left."""
    th = max(t.shape[0] for t in tiles)
    tw = max(t.shape[1] for t in tiles)
    nrows = int(np.ceil(len(tiles) / ncols))
    out = np.full((nrows * (th + pad) - pad, ncols * (tw + pad) - pad, 3), background, dtype=float)
    for n, tile in enumerate(tiles):
        r, c = divmod(n, ncols)
        out[r * (th + pad):r * (th + pad) + tile.shape[0], c * (tw + pad):c * (tw + pad) + tile.shape[1]] = tile
    return out


def plot_kernels(weight, *, ncols: int | None = None, max_kernels: int = 64, size: float = 0.8, title: str | None = None):
    """Draw the kernels of a convolution as a grid of small images.

    Parameters
    ----------
    weight : Tensor or ndarray, shape (K, C, K_h, K_w)
        A layer's kernels, as in ``conv.weight`` of ``nn.Conv2d``.
    ncols : int, optional
        Kernels per row (default: about the square root of the number drawn); with other
        than 1 or 3 input channels, each row is one kernel and ``ncols`` is ignored.
    max_kernels : int, default 64
        Draw at most this many output channels.
    size : float, default 0.8
        Size of one kernel's image in inches.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes showing a mosaic (white lines between the kernels). With 3 input channels,
        one colour image per kernel (its three channels read as red, green and blue,
        stretched together to [0, 1] so that the colour balance stays); with 1 input
        channel, one grey image per kernel; otherwise one row per kernel and one grey image
        per input channel. Each image has its own scale (black: its smallest weight, white:
        its largest).

    Examples
    --------
    >>> fig = plot_kernels(np.random.default_rng(0).normal(size=(6, 1, 5, 5)), ncols=3)
    >>> fig.axes[0].get_images()[0].get_array().shape   # 2 rows, 3 columns of 5 x 5, 1 pixel apart
    (11, 17, 3)
    """
    import matplotlib.pyplot as plt

    W = _as_numpy(weight, "weight")
    if W.ndim != 4:
        raise ValueError(f"weight must have shape (K, C, K_h, K_w), got shape {W.shape}")
    max_kernels = positive_int(max_kernels, "max_kernels")
    W = W[:max_kernels]
    K, C = W.shape[:2]
    if C in (1, 3):
        tiles = [_rgb_tile(W[k], centred=False) for k in range(K)]
        ncols = positive_int(ncols, "ncols") if ncols is not None else int(np.ceil(np.sqrt(K)))
    else:
        tiles = [_rgb_tile(_stretch(W[k, c:c + 1]), centred=False) for k in range(K) for c in range(C)]
        ncols = C
    ncols = min(ncols, len(tiles))
    nrows = int(np.ceil(len(tiles) / ncols))
    fig, ax = plt.subplots(figsize=(size * ncols, size * nrows + (0.3 if title else 0.05)))
    ax.imshow(_mosaic(tiles, ncols), interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_feature_maps(maps, *, ncols: int = 8, max_maps: int = 32, size: float = 1.1, title: str | None = None,
                      labels: Iterable | None = None, fontsize: float = 7):
    """Draw the channels of one layer's output (from :func:`cnnlib.inner.feature_maps`) as grey images.

    Parameters
    ----------
    maps : Tensor or ndarray, shape (C, h, w)
    ncols : int, default 8
    max_maps : int, default 32
        Draw the first ``max_maps`` channels (or those named by ``labels``).
    size : float, default 1.1
        Size of one image in inches.
    title : str, optional
    labels : iterable of int, optional
        Which channels to draw (default: 0, 1, 2, ...); each image is titled with its channel.
    fontsize : float, default 7
        Size of the channel titles in points (the title is 3 points larger); for a page read on a
        phone, keep ``fontsize / (size * ncols)`` at 2 or more (text of 9 px or more in a 342 px column).

    Returns
    -------
    matplotlib.figure.Figure
        One image per channel, all on one scale (black 0 or the smallest value, white the
        largest of all drawn), so that strong and weak channels can be compared.

    Examples
    --------
    >>> fig = plot_feature_maps(np.random.default_rng(0).random((6, 10, 10)), ncols=3)
    >>> len(fig.axes)
    6
    """
    import matplotlib.pyplot as plt

    A = _as_numpy(maps, "maps")
    if A.ndim != 3:
        raise ValueError(f"maps must have shape (C, h, w), got shape {A.shape}")
    channels = list(range(min(positive_int(max_maps, "max_maps"), A.shape[0]))) if labels is None else [
        int(c) for c in labels]
    for c in channels:
        if not 0 <= c < A.shape[0]:
            raise ValueError(f"labels must be channels in 0..{A.shape[0] - 1}, got {c}")
    ncols = min(positive_int(ncols, "ncols"), len(channels))
    nrows = int(np.ceil(len(channels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.35 if title else 0.1)),
                             squeeze=False)
    lo, hi = min(0.0, float(A[channels].min())), float(A[channels].max())
    for ax in axes.flat[len(channels):]:
        fig.delaxes(ax)
    for ax, c in zip(axes.flat, channels):
        ax.imshow(A[c], cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
        ax.set_title(str(c), fontsize=fontsize, pad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=fontsize + 3)
    return fig


def plot_layer_panel(panel: Mapping, *, title: str | None = None, size: float = 0.55, percentile: float = 99.0,
                     per_row: int | None = None, invert: bool = False, projections: bool = True):
    """Draw a Figure 6.12-style panel: for each channel, its top projections beside the image patches.

    Parameters
    ----------
    panel : mapping of int to list of TopUnit
        What :func:`cnnlib.inner.layer_panel` returns: for each channel, its best units
        with ``projection`` and ``patch`` arrays of shape (C, h, w); patches with values
        in [0, 1] are drawn as they are.
    title : str, optional
        A title above the panel (say, the layer's name).
    size : float, default 0.55
        Size of one small image in inches.
    percentile : float, default 99.0
        Each projection is drawn with grey for zero and white (black) for plus (minus) this
        percentile of its magnitudes, larger values clipped: projections are sparse, and
        scaling by the single largest value would leave most of them invisible.
    per_row : int, optional
        Channels per row of the figure (default: all in one row). One or two per row keep
        the patches large on a narrow page.
    invert : bool, default False
        Draw grey patches dark on light (``1 - patch``), the way the book draws digits.
    projections : bool, default True
        False: the patches alone, each three times wider on the same page.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per channel: on the left a grid of the deconvnet projections, on the right
        the same grid of the receptive-field patches of the images that excite the channel
        most, best at the top left, as Zeiler and Fergus draw their Figure 2. Patches cut
        at the image border are smaller and sit at the top left of their cell. A unit whose
        activation (``value``) is not positive did not answer at all: its patch is faded
        into grey and its projection left blank, so it cannot pass for an example.

    Examples
    --------
    >>> from types import SimpleNamespace as Unit
    >>> rng = np.random.default_rng(0)
    >>> units = [Unit(patch=rng.random((3, 5, 5)), projection=rng.normal(size=(3, 5, 5))) for _ in range(4)]
    >>> fig = plot_layer_panel({7: units, 9: units}, title="a layer")
    >>> [ax.get_title() for ax in fig.axes]
    ['channel 7', 'channel 9']
    """
    import matplotlib.pyplot as plt

    if not isinstance(panel, Mapping) or not panel:
        raise ValueError(f"panel must be a non-empty mapping of channel to units (inner.layer_panel), got {panel!r}")
    invert = check_bool(invert, "invert")
    k = max(len(units) for units in panel.values())
    g = int(np.ceil(np.sqrt(k)))
    n = len(panel)
    per_row = n if per_row is None else min(positive_int(per_row, "per_row"), n)
    rows = int(np.ceil(n / per_row))
    projections = check_bool(projections, "projections")
    fig, axes = plt.subplots(rows, per_row, figsize=(per_row * ((2 if projections else 1) * g + 0.7) * size,
                                                     rows * (g * size + 0.4) + (0.4 if title else 0.1)),
                             squeeze=False)
    for ax in axes.flat[n:]:
        fig.delaxes(ax)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - (0.8 if title else 0.35) / fig.get_figheight(),
                        wspace=0.05, hspace=0.45 / (g * size))

    def patch_tile(u):
        tile = _rgb_tile(np.asarray(u.patch), centred=False)
        tile = 1 - tile if invert and np.asarray(u.patch).shape[0] == 1 else tile
        return tile if getattr(u, "value", 1.0) > 0 else 0.25 * tile + 0.75 * 0.8   # no answer: faded

    def projection_tile(u):
        tile = _rgb_tile(np.asarray(u.projection), centred=True, percentile=percentile)
        return tile if getattr(u, "value", 1.0) > 0 else np.full_like(tile, 0.8)

    for ax, (channel, units) in zip(axes.flat, panel.items()):
        patches = _mosaic([patch_tile(u) for u in units], g)
        both = patches
        if projections:
            drawn = _mosaic([projection_tile(u) for u in units], g)
            h = max(drawn.shape[0], patches.shape[0])
            gap = max(2, drawn.shape[1] // 8)
            both = np.ones((h, drawn.shape[1] + gap + patches.shape[1], 3))
            both[:drawn.shape[0], :drawn.shape[1]] = drawn
            both[:patches.shape[0], drawn.shape[1] + gap:] = patches
        ax.imshow(both, interpolation="nearest")
        ax.set_title(f"channel {channel}", fontsize=13)   # >= 9 px on a 390 px phone (issue 21)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=14)
    return fig
