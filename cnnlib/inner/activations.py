"""Which inputs excite a layer, and where: feature maps, top activations and receptive-field
boxes (Section 6.4.6); re-exported by :mod:`cnnlib.inner`."""
from __future__ import annotations

import weakref

import numpy as np
import torch
from torch import nn

from .. import shapes
from .._field_trace import trace_maps
from .._modes import eval_mode
from .._validation import pair, positive_int
from ._common import (_as_image, _batches, _check_channel, _check_position, _count, _device, _dtype, _run_to,
                      layer_name)

__all__ = ["feature_maps", "activation_maxima", "top_activations", "selective_channels", "receptive_field_box"]


# --------------------------------------------------------------------------- feature maps and top activations
def feature_maps(model: nn.Module, layer, image) -> np.ndarray:
    """The activations of one layer of ``model`` for one input.

    Parameters
    ----------
    model : torch.nn.Module
        The network (it is run in evaluation mode, without gradients).
    layer : str or torch.nn.Module
        The layer, by name (``model.named_modules()``) or as a module of ``model``.
    image : Tensor or ndarray, shape (C, H, W)
        One input.

    Returns
    -------
    ndarray, shape (C', h, w) (or (C',) after a flatten)
        The layer's output: one map per channel.

    Examples
    --------
    >>> from cnnlib import models
    >>> net = models.lenet5()
    >>> feature_maps(net, "features.relu1", torch.zeros(1, 28, 28)).shape
    (6, 28, 28)
    """
    name = layer_name(model, layer)
    x = _as_image(image).to(_device(model), _dtype(model))
    with eval_mode(model), torch.no_grad():
        out = _run_to(model, name, x)
    return out[0].detach().cpu().numpy()


def activation_maxima(model: nn.Module, layer, images, *, batch_size: int = 64):
    """For every image and every channel of a layer: the largest activation and where it is.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module, or a list of them
        The layer; for a list, every image goes through the network once for all of them.
    images : Tensor or ndarray (N, C, H, W), or a dataset of images or (image, label) pairs
        Streamed through the network ``batch_size`` at a time.
    batch_size : int, default 64

    Returns
    -------
    values : ndarray, shape (N, C')
        ``values[n, c]`` is the maximum over positions of channel ``c`` for image ``n``.
    positions : ndarray of int, shape (N, C', 2)
        The (row, col) of that maximum (the first one in row-major order on ties); zeros for
        a layer without a spatial map.

    For a list of layers: a dict from each layer's name to its ``(values, positions)``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 3, 3))
    >>> values, positions = activation_maxima(net, "1", torch.randn(5, 1, 8, 8))
    >>> values.shape, positions.shape
    ((5, 2), (5, 2, 2))
    >>> both = activation_maxima(net, ["1", "2"], torch.randn(5, 1, 8, 8))
    >>> {name: v.shape for name, (v, p) in both.items()}
    {'1': (5, 2), '2': (5, 3)}
    """
    many = isinstance(layer, (list, tuple))
    names = [layer_name(model, one) for one in (layer if many else [layer])]
    batch_size = positive_int(batch_size, "batch_size")
    device, dtype = _device(model), _dtype(model)
    found = {name: ([], []) for name in names}
    with eval_mode(model), torch.no_grad():
        for batch in _batches(images, batch_size):
            outs = _run_to(model, names, batch.to(device, dtype))
            for name, out in outs.items():
                values, positions = found[name]
                if out.ndim == 2:
                    values.append(out.cpu().numpy())
                    positions.append(np.zeros(out.shape + (2,), dtype=np.int64))
                    continue
                _check_position((0, 0), out, name)  # a spatial map: (N, C, h, w)
                best, where = out.flatten(2).max(dim=2)   # (B, C) each; the first maximum on ties
                values.append(best.cpu().numpy())
                w = out.shape[3]
                positions.append(torch.stack([where // w, where % w], dim=-1).cpu().numpy())
    if not found[names[0]][0]:
        raise ValueError("images must hold at least one image, got none")
    result = {name: (np.concatenate(v), np.concatenate(p)) for name, (v, p) in found.items()}
    return result if many else result[names[0]]


def top_activations(model: nn.Module, layer, channel: int, images, k: int = 9, *, batch_size: int = 64) -> list:
    """The ``k`` inputs that excite one channel of a layer most, best first.

    For each image, the channel's largest activation over all positions is taken; then the
    ``k`` images with the largest of these are kept. This is how Zeiler and Fergus choose the
    9 examples shown for each feature in their Figure 2 (Figure 6.12 of the chapter).

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
        The layer (see :func:`feature_maps`).
    channel : int
        Which output channel of the layer.
    images : Tensor or ndarray (N, C, H, W), or a dataset of images or (image, label) pairs
        Streamed ``batch_size`` at a time; only the best ``k`` so far are kept, so memory does
        not grow with ``N``.
    k : int, default 9
        How many to return (at most ``N``).
    batch_size : int, default 64

    Returns
    -------
    list of (int, (int, int), float)
        ``(image_index, (row, col), value)``, largest value first (ties: smaller index
        first). For a layer without a spatial map, ``(row, col)`` is ``(0, 0)``.

    Raises
    ------
    ValueError
        If the layer is not in the model, the channel is out of range or ``k`` exceeds the
        number of images.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU())
    >>> _ = nn.init.ones_(net[0].weight)
    >>> x = torch.zeros(4, 1, 3, 3); x[2, 0, 1, 2] = 5.0; x[0, 0, 0, 0] = 1.0
    >>> top_activations(net, "1", 0, x, k=2)
    [(2, (1, 2), 5.0), (0, (0, 0), 1.0)]
    """
    name = layer_name(model, layer)
    k = positive_int(k, "k")
    batch_size = positive_int(batch_size, "batch_size")
    n = _count(images)
    if n >= 0 and k > n:
        raise ValueError(f"k must be at most the number of images ({n}), got {k}")
    device, dtype = _device(model), _dtype(model)
    best: list = []  # (value, index, (row, col)), at most k
    offset = 0
    with eval_mode(model), torch.no_grad():
        for batch in _batches(images, batch_size):
            out = _run_to(model, name, batch.to(device, dtype))
            channel = _check_channel(channel, out, name)
            maps = out[:, channel]
            if maps.ndim == 1:  # (B,): no spatial map
                value, where, w = maps, torch.zeros_like(maps, dtype=torch.long), 1
            else:
                w = maps.shape[-1]
                value, where = maps.flatten(1).max(dim=1)
            for i, (v, p) in enumerate(zip(value.tolist(), where.tolist())):
                best.append((v, offset + i, (p // w, p % w)))
            best = sorted(best, key=lambda t: (-t[0], t[1]))[:k]
            offset += len(batch)
    if offset < k:
        raise ValueError(f"k must be at most the number of images ({offset}), got {k}")
    return [(index, position, value) for value, index, position in best]




def selective_channels(values, n: int, *, k: int = 9) -> list:
    """The ``n`` most selective channels: a strong answer to their ``k`` best images, a weak one on average.

    Parameters
    ----------
    values : ndarray, shape (N, C)
        :math:`\\eta` of every image for every channel, as :func:`activation_maxima` returns it.
    n : int
        How many channels to return.
    k : int, default 9
        The number of top images a panel shows.

    Returns
    -------
    list of int
        The channels with the largest ratio of the mean of their ``k`` largest values to their
        mean over all images, most selective first (ties: smaller channel first), among the
        channels that are positive on at least ``k`` images. A channel positive on fewer
        images would fill its panel with images that do not excite it at all (a dead or
        nearly dead unit has a huge ratio). Fewer than ``n`` if fewer channels qualify.

    Examples
    --------
    >>> values = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 0.5], [9.0, 1.0, 0.0]])
    >>> selective_channels(values, 3, k=2)   # channel 0 is positive once only; 2 beats 1
    [2, 1]
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must have shape (N, C) (activation_maxima), got shape {values.shape}")
    n, k = positive_int(n, "n"), positive_int(k, "k")
    if k > len(values):
        raise ValueError(f"k must be at most the number of images ({len(values)}), got {k}")
    top = -np.sort(-values, axis=0)[:k].mean(axis=0)
    mean = values.mean(axis=0)
    ratio = top / np.where(mean > 0, mean, 1.0)
    alive = np.flatnonzero((values > 0).sum(axis=0) >= k)
    order = sorted(alive, key=lambda c: (-ratio[c], c))
    return [int(c) for c in order[:n]]


# --------------------------------------------------------------------------- receptive fields
_NONE = 2 ** 62  # the smallest input row of a unit that reads no input row (only padding): larger than any
_ROWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> (layout, {(layer, input shape): rows})


def receptive_field_box(model: nn.Module, layer, position, input_shape) -> tuple:
    """The input pixels that can affect one activation: ``(top, left, bottom, right)``, inclusive, clipped to the image.

    Parameters
    ----------
    model : torch.nn.Module
        A network of convolutions (any padding, stride, dilation), max and average pooling
        (ceil mode too) and layers that keep the geometry (activations, normalization,
        dropout), in a chain (``nn.Sequential``) or in branches that merge (SqueezeNet's
        :class:`cnnlib.models.Fire`, inception modules, residual blocks): whatever
        :func:`cnnlib.shapes.receptive_field` can follow.
    layer : str or torch.nn.Module
        The layer whose unit is asked about: a leaf, or a module whose output merges branches
        (then the box is that of the largest path through them).
    position : (int, int)
        ``(row, col)`` of the unit on the layer's output map.
    input_shape : tuple (C, H, W) or (H, W)
        Size of the input.

    Returns
    -------
    (int, int, int, int)
        ``(top, left, bottom, right)``: rows ``top..bottom`` and columns ``left..right`` of
        the input, both ends included: the smallest box that holds every input pixel on which
        the unit depends.

    Notes
    -----
    The field of unit ``(i, j)`` is centred at ``start + (i, j) * jump`` and is ``size``
    pixels wide, with ``start``, ``jump`` and ``size`` from
    :func:`cnnlib.shapes.receptive_field`. That formula ignores the edges of the maps in
    between and the gaps between dilated taps: a window of a later layer can reach past the
    end of an earlier map, into padding or into rows a strided layer never read, and a
    dilated window at a border has taps outside the map. So the box is found from the rows
    themselves, following the maps forward from the input (rows and columns separately): a
    layer with kernel K, dilation d, stride s and padding p gives output row o the taps
    ``o s - p + t d`` (t < K); of these, the ones inside its input map count, and output row
    o depends on the input rows that those rows depend on: their smallest and largest are
    kept. Where branches merge (``cat``, ``+``, ``*``), a row depends on what any branch's row
    depends on: the largest path. Inside the image this agrees with the formula. With max
    pooling, only some of these pixels affect the activation for a given input; the box holds
    every pixel that can. A unit whose windows read only padding depends on no pixel: a
    ``ValueError``.

    Examples
    --------
    >>> from cnnlib import models
    >>> receptive_field_box(models.lenet5(), "features.conv2", (0, 0), (1, 28, 28))
    (0, 0, 11, 11)
    >>> receptive_field_box(models.lenet5(), "features.conv2", (5, 9), (1, 28, 28))
    (8, 16, 21, 27)
    >>> receptive_field_box(models.lenet5(), "features.conv1", (0, 0), (1, 28, 28))
    (0, 0, 2, 2)

    A dilated window at the border: taps at columns -1, 1 and 3, of which 1 and 3 are pixels.

    >>> receptive_field_box(nn.Conv2d(1, 1, 3, dilation=2, padding=2), "", (0, 1), (1, 5, 5))
    (0, 1, 2, 3)
    """
    name = layer_name(model, layer)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (2, 3):
        raise ValueError(f"input_shape must be (C, H, W) or (H, W), got {input_shape!r}")
    H, W = (positive_int(v, "input_shape") for v in input_shape[-2:])
    value = _rows_of(model, name, tuple(input_shape))
    if value is None:  # the walk stopped at a Flatten, Linear or adaptive pooling
        raise ValueError(f"layer {name!r} comes after a flatten, dense or adaptive pooling layer: each of its units "
                         f"sees the whole input, so it has no receptive-field box; use (0, 0, {H - 1}, {W - 1})")
    (h, w), (row_lo, row_hi), (col_lo, col_hi) = value
    r, c = pair(position, "position", minimum=0)
    if r >= h or c >= w:
        raise ValueError(f"position must lie on the {(h, w)} map of layer {name!r} "
                         f"(rows 0..{h - 1}, columns 0..{w - 1}), got {(r, c)}")
    if row_hi[r] < 0 or col_hi[c] < 0:
        raise ValueError(f"position {(r, c)} of layer {name!r} reads only padding: no input pixel affects it, "
                         "so it has no receptive-field box")
    return row_lo[r], col_lo[c], row_hi[r], col_hi[c]


def _rows_of(model: nn.Module, name: str, input_shape: tuple):
    """What each row and column of layer ``name``'s output depends on (see :func:`_rows_through`); one forward
    pass per model, layer, input size and layout of the layers (a page asks about many units of one layer)."""
    layout = tuple((n, type(m).__name__, m.extra_repr()) for n, m in model.named_modules())
    if model not in _ROWS or _ROWS[model][0] != layout:  # a changed layer forgets what was found before
        _ROWS[model] = (layout, {})
    known = _ROWS[model][1]
    if (name, input_shape) not in known:
        H, W = input_shape[-2:]
        start = ((H, W), (tuple(range(H)),) * 2, (tuple(range(W)),) * 2)
        known[name, input_shape] = trace_maps(model, input_shape, start, _rows_through, _rows_merge, stop_at=name)
    return known[name, input_shape]


def _rows_through(layer, name, value):
    """For each row (column) of ``layer``'s output, the smallest and largest input row (column) it depends on."""
    window = shapes.layer_window(layer, value[0], name)
    if window is None:
        return None
    axes = []
    for a, (lo, hi) in enumerate(value[1:]):
        taps = (np.arange(window.size[a])[:, None] * window.stride[a] - window.padding[a]
                + np.arange(window.kernel[a])[None, :] * window.dilation[a])
        inside = (taps >= 0) & (taps < len(lo))
        taps = np.clip(taps, 0, len(lo) - 1)
        axes.append((tuple(np.where(inside, np.asarray(lo)[taps], _NONE).min(axis=1).tolist()),
                     tuple(np.where(inside, np.asarray(hi)[taps], -1).max(axis=1).tolist())))
    return (window.size, *axes)


def _rows_merge(values, where):
    """A map that merges maps: each of its rows depends on what the merged maps' rows depend on."""
    size = values[0][0]
    return (size, *((tuple(np.min([v[1 + a][0] for v in values], axis=0).tolist()),
                     tuple(np.max([v[1 + a][1] for v in values], axis=0).tolist())) for a in range(2)))
