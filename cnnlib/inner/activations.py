"""Which inputs excite a layer, and where: feature maps, top activations and receptive-field
boxes (Section 6.4.6); re-exported by :mod:`cnnlib.inner`."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import shapes
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
def _leaves_up_to(model: nn.Module, name: str) -> list:
    """The leaf modules of ``model`` in registration order, up to the last one inside ``name``."""
    leaves = list(shapes.leaves(model))
    inside = [i for i, (leaf, _) in enumerate(leaves) if name == "" or leaf == name or leaf.startswith(name + ".")]
    return [module for _, module in leaves[:inside[-1] + 1]]


def receptive_field_box(model: nn.Module, layer, position, input_shape) -> tuple:
    """The input pixels that can affect one activation: ``(top, left, bottom, right)``, inclusive, clipped to the image.

    Parameters
    ----------
    model : torch.nn.Module
        A network whose layers up to ``layer`` run in the order they were registered
        (``nn.Sequential``, possibly nested): convolutions (any padding, stride, dilation),
        max and average pooling (ceil mode too) and layers that keep the geometry
        (activations, normalization, dropout). SqueezeNet's :class:`cnnlib.models.Fire`
        modules qualify too: their 1 x 1 branch sees less than the 3 x 3 branch registered
        after it.
    layer : str or torch.nn.Module
        The layer whose unit is asked about.
    position : (int, int)
        ``(row, col)`` of the unit on the layer's output map.
    input_shape : tuple (C, H, W) or (H, W)
        Size of the input.

    Returns
    -------
    (int, int, int, int)
        ``(top, left, bottom, right)``: rows ``top..bottom`` and columns ``left..right`` of
        the input, both ends included.

    Notes
    -----
    The field of unit ``(i, j)`` is centred at ``start + (i, j) * jump`` and is ``size``
    pixels wide, with ``start``, ``jump`` and ``size`` from
    :func:`cnnlib.shapes.receptive_field`. That formula ignores the edges of the maps in
    between: a window of a later layer can reach past the end of an earlier map (into its
    padding, or into rows a strided layer never read). So the box is found layer by layer
    instead, going back from the unit: a layer with effective kernel ``K'``, stride ``s`` and
    padding ``p`` reads rows ``a s - p`` to ``b s - p + K' - 1`` of its input for output rows
    ``a`` to ``b``, and those are cut to the rows that input has. Inside the image the two
    agree. With max pooling, only some of these pixels affect the activation for a given
    input; the box holds every pixel that can.

    Examples
    --------
    >>> from cnnlib import models
    >>> receptive_field_box(models.lenet5(), "features.conv2", (0, 0), (1, 28, 28))
    (0, 0, 11, 11)
    >>> receptive_field_box(models.lenet5(), "features.conv2", (5, 9), (1, 28, 28))
    (8, 16, 21, 27)
    >>> receptive_field_box(models.lenet5(), "features.conv1", (0, 0), (1, 28, 28))
    (0, 0, 2, 2)
    """
    name = layer_name(model, layer)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (2, 3):
        raise ValueError(f"input_shape must be (C, H, W) or (H, W), got {input_shape!r}")
    H, W = (positive_int(v, "input_shape") for v in input_shape[-2:])
    leaves = _leaves_up_to(model, name)
    rows = shapes.receptive_field(nn.Sequential(*leaves), tuple(input_shape))
    if len(rows) < len(leaves) + 1:  # the walk stopped at a Flatten, Linear or adaptive pooling
        raise ValueError(f"layer {name!r} comes after a flatten, dense or adaptive pooling layer: each of its units "
                         f"sees the whole input, so it has no receptive-field box; use (0, 0, {H - 1}, {W - 1})")
    row = rows[-1]
    r, c = pair(position, "position", minimum=0)
    h, w = row.output_size
    if r >= h or c >= w:
        raise ValueError(f"position must lie on the {(h, w)} map of layer {name!r} "
                         f"(rows 0..{h - 1}, columns 0..{w - 1}), got {(r, c)}")
    lo, hi = [r, c], [r, c]  # rows and columns of the current map that matter
    for i in range(len(leaves), 0, -1):  # back from the unit to the input, one layer at a time
        leaf = leaves[i - 1]
        if isinstance(leaf, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            K_eff, s, p = shapes.layer_geometry(leaf)
            size_in = rows[i - 1].output_size
            lo = [max(a * s_ - p_, 0) for a, s_, p_ in zip(lo, s, p)]
            hi = [min(b * s_ - p_ + k - 1, m - 1) for b, s_, p_, k, m in zip(hi, s, p, K_eff, size_in)]
    return lo[0], lo[1], hi[0], hi[1]


