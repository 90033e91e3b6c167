"""Looking inside a trained network: feature maps, top activations, receptive-field boxes, deconvnet, occlusion (Section 6.4.6).

This module computes; :mod:`cnnlib.visualize` draws what it computes.

- :func:`feature_maps`: the activations of one layer for one input.
- :func:`activation_maxima` and :func:`top_activations`: which inputs (and where in them)
  excite one channel of a layer most; the images are streamed in batches.
- :func:`receptive_field_box`: the input pixels that can affect one activation, from
  :func:`cnnlib.shapes.receptive_field`.
- :func:`deconvnet`: Zeiler and Fergus's projection of one activation back to pixel space.
- :func:`occlusion_map`: how a score changes when a grey square hides part of the input.
- :func:`layer_panel`: the ingredients of a Figure 6.12-style panel (top image patches and
  their projections) for chosen channels of a layer.

A layer is named as in ``model.named_modules()`` (``'features.relu2'``,
``'features.fire5'``; ``''`` is the whole model), or given as the module itself. Images are tensors or arrays of shape
``(C, H, W)`` (one) or ``(N, C, H, W)`` (many), or a dataset whose items are images or
``(image, label)`` pairs. Results are NumPy arrays on the CPU; the computations run on the
device that holds the model.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4 ("understanding inner layers and derived features", Figure 6.12).

M. D. Zeiler and R. Fergus, "Visualizing and understanding convolutional networks",
ECCV 2014 (deconvnet, Figure 2, occlusion sensitivity).

M. D. Zeiler, G. W. Taylor and R. Fergus, "Adaptive deconvolutional networks for mid and
high level feature learning", ICCV 2011 (the deconvolutional network).
"""
from __future__ import annotations

import contextlib
from typing import Callable, NamedTuple

import numpy as np
import torch
from torch import nn

from . import shapes
from ._validation import nonnegative_int, pair, positive_int

__all__ = ["feature_maps", "activation_maxima", "top_activations", "receptive_field_box", "deconvnet",
           "occlusion_map", "TopUnit", "layer_panel"]


# --------------------------------------------------------------------------- helpers
class _Stop(Exception):
    """Raised by a forward hook once the wanted layer has run, to skip the rest of the network."""


def _layer_name(model: nn.Module, layer) -> str:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    if isinstance(layer, nn.Module):
        for name, module in modules.items():
            if module is layer:
                return name
        raise ValueError(f"layer must be a module inside model, got a {type(layer).__name__} that is not part of it")
    if not isinstance(layer, str) or layer not in modules:
        some = ", ".join(repr(n) for n in list(modules)[1:8])
        raise ValueError(f"layer must name a module of model (as in model.named_modules(): {some}, ...), "
                         f"got {layer!r}")
    return layer


def _device(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def _dtype(model: nn.Module) -> torch.dtype:
    for t in model.parameters():
        return t.dtype
    return torch.get_default_dtype()


@contextlib.contextmanager
def _eval(model: nn.Module):
    """Evaluation mode (dropout off, batch norm frozen) for the duration, then the mode it had."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def _as_image(image, name: str = "image") -> torch.Tensor:
    """One input as a float tensor of shape (1, C, H, W)."""
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(np.ascontiguousarray(image))
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"{name} must be a tensor or array of shape (C, H, W), got {type(image).__name__}")
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 3:
        raise ValueError(f"{name} must have shape (C, H, W), got shape {tuple(image.shape)}")
    return image.unsqueeze(0)


def _run_to(model: nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    """The output of module ``name`` for input ``x``; the network stops right after it."""
    module = dict(model.named_modules())[name]
    box = {}

    def hook(_module, _inputs, output):
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"layer {name!r} returns a {type(output).__name__}, not a tensor")
        box["out"] = output
        raise _Stop

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    if "out" not in box:
        raise ValueError(f"layer {name!r} was not used in the forward pass of model")
    return box["out"]


def _check_channel(channel, out: torch.Tensor, name: str) -> int:
    channel = nonnegative_int(channel, "channel")
    if out.ndim < 2 or channel >= out.shape[1]:
        n = out.shape[1] if out.ndim >= 2 else 0
        raise ValueError(f"channel must be in 0..{n - 1} (layer {name!r} has {n} channels), got {channel}")
    return channel


def _check_position(position, out: torch.Tensor, name: str) -> tuple:
    """A position on the map of a (N, C, h, w) output, or () for a (N, C) output."""
    if out.ndim == 2:
        if position not in (None, (), []):
            raise ValueError(f"position must be None or () for layer {name!r}, whose output has no spatial map "
                             f"(shape {tuple(out.shape[1:])}), got {position!r}")
        return ()
    if out.ndim != 4:
        raise ValueError(f"layer {name!r} gives outputs of shape {tuple(out.shape[1:])}; expected (C, h, w) or (C,)")
    if position is None:
        raise ValueError(f"position must be a (row, col) on the {tuple(out.shape[2:])} map of layer {name!r}, got None")
    r, c = pair(position, "position", minimum=0)
    if r >= out.shape[2] or c >= out.shape[3]:
        raise ValueError(f"position must lie on the {tuple(out.shape[2:])} map of layer {name!r} "
                         f"(rows 0..{out.shape[2] - 1}, columns 0..{out.shape[3] - 1}), got {(r, c)}")
    return (r, c)


def _batches(images, batch_size: int):
    """Yield float tensors (B, C, H, W) from a tensor, an array or a dataset of images or (image, label) pairs."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if isinstance(images, torch.Tensor):
        if images.ndim != 4:
            raise ValueError(f"images must have shape (N, C, H, W), got shape {tuple(images.shape)}")
        for start in range(0, len(images), batch_size):
            yield images[start:start + batch_size]
        return
    if not hasattr(images, "__len__") or not hasattr(images, "__getitem__"):
        raise TypeError(f"images must be a tensor, an array or a dataset, got {type(images).__name__}")
    for start in range(0, len(images), batch_size):
        items = [images[i] for i in range(start, min(start + batch_size, len(images)))]
        items = [item[0] if isinstance(item, (tuple, list)) else item for item in items]
        yield torch.stack([torch.as_tensor(item) for item in items])


def _count(images) -> int:
    if isinstance(images, (torch.Tensor, np.ndarray)):
        return int(images.shape[0]) if images.ndim == 4 else -1
    return len(images) if hasattr(images, "__len__") else -1


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
    name = _layer_name(model, layer)
    x = _as_image(image).to(_device(model), _dtype(model))
    with _eval(model), torch.no_grad():
        out = _run_to(model, name, x)
    return out[0].detach().cpu().numpy()


def activation_maxima(model: nn.Module, layer, images, *, batch_size: int = 64):
    """For every image and every channel of a layer: the largest activation and where it is.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
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

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    >>> values, positions = activation_maxima(net, "1", torch.randn(5, 1, 8, 8))
    >>> values.shape, positions.shape
    ((5, 2), (5, 2, 2))
    """
    name = _layer_name(model, layer)
    batch_size = positive_int(batch_size, "batch_size")
    device, dtype = _device(model), _dtype(model)
    values, positions = [], []
    with _eval(model), torch.no_grad():
        for batch in _batches(images, batch_size):
            out = _run_to(model, name, batch.to(device, dtype))
            if out.ndim == 2:
                values.append(out.cpu().numpy())
                positions.append(np.zeros(out.shape + (2,), dtype=np.int64))
                continue
            _check_position((0, 0), out, name)  # a spatial map: (N, C, h, w)
            flat = out.flatten(2)                # (B, C, h * w)
            best, where = flat.max(dim=2)        # first maximum on ties
            values.append(best.cpu().numpy())
            w = out.shape[3]
            positions.append(torch.stack([where // w, where % w], dim=-1).cpu().numpy())
    if not values:
        raise ValueError("images must hold at least one image, got none")
    return np.concatenate(values), np.concatenate(positions)


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
    name = _layer_name(model, layer)
    k = positive_int(k, "k")
    batch_size = positive_int(batch_size, "batch_size")
    n = _count(images)
    if n >= 0 and k > n:
        raise ValueError(f"k must be at most the number of images ({n}), got {k}")
    device, dtype = _device(model), _dtype(model)
    best: list = []  # (value, index, (row, col)), at most k
    offset = 0
    with _eval(model), torch.no_grad():
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


# --------------------------------------------------------------------------- receptive fields
def _leaves_up_to(model: nn.Module, name: str) -> list:
    """The leaf modules of ``model`` in registration order, up to the last one inside ``name``."""
    leaves = list(shapes._leaves(model))
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
    name = _layer_name(model, layer)
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


# --------------------------------------------------------------------------- deconvnet
class _DeconvReLU(torch.autograd.Function):
    """ReLU forward; backward passes a ReLU of the incoming signal (Zeiler and Fergus's rectification)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


def _deconv_relu_forward(x):
    return _DeconvReLU.apply(x)


@contextlib.contextmanager
def _deconvnet_relus(model: nn.Module):
    """Make every ``nn.ReLU`` of the model use the deconvnet rule on the way back, then restore it."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    for m in relus:
        m.forward = _deconv_relu_forward  # an instance attribute shadows the class's forward
    try:
        yield
    finally:
        for m in relus:
            del m.forward


def deconvnet(model: nn.Module, layer, channel: int, image, position=None) -> np.ndarray:
    """Zeiler and Fergus's deconvnet: one activation projected back to pixel space.

    Keep the chosen activation, set every other activation of the layer to zero and go back
    down the network: through each max pooling by *unpooling* (the value goes back to the
    place that won the maximum in the forward pass, the "switch"), through each ReLU by a
    ReLU (of the signal coming down), through each convolution by the transposed
    convolution with the same filters. The result has the input's shape.

    Parameters
    ----------
    model : torch.nn.Module
        A network of convolutions, ``nn.ReLU`` modules, max (or average) pooling, and
        concatenations, flattening and dense layers (all linear on the way back). ReLUs
        written as ``F.relu`` calls inside ``forward`` are not changed (they act as in plain
        backpropagation).
    layer : str or torch.nn.Module
        The layer whose activation is projected.
    channel : int
        Its channel.
    image : Tensor or ndarray, shape (C, H, W)
        The input.
    position : (int, int), optional
        ``(row, col)`` of the activation on the layer's map; by default where the channel is
        largest. Must be left out (or ``()``) for a layer without a spatial map.

    Returns
    -------
    ndarray, shape (C, H, W)
        The projection, scaled by the activation's value (as in the deconvnet, which starts
        from the activation itself).

    Notes
    -----
    The three steps are what backpropagation does to a gradient, except at the ReLUs:
    the gradient of max pooling sends the signal to the switches, and the gradient of a
    convolution is the transposed convolution. At a ReLU, backpropagation keeps the signal
    where the *input* of the ReLU was positive, while the deconvnet keeps it where the
    *signal* is positive. So the projection is computed as the gradient of the activation
    with respect to the input, with each ReLU's backward rule replaced by a ReLU of the
    incoming signal. Biases play no part.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 2, bias=False), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[[[1.0, -1.0], [0.0, 2.0]]]]))
    >>> x = torch.ones(1, 3, 3)
    >>> deconvnet(net, "1", 0, x, (0, 0))[0]   # the activation, 2, times the flipped-back filter
    array([[ 2., -2.,  0.],
           [ 0.,  4.,  0.],
           [ 0.,  0.,  0.]], dtype=float32)
    """
    name = _layer_name(model, layer)
    x = _as_image(image)
    return _project(model, name, x, [channel], [position])[0]


def _project(model: nn.Module, name: str, x: torch.Tensor, channels, positions) -> np.ndarray:
    """Deconvnet projections of one activation per image of the batch ``x`` (B, C, H, W), in one backward pass.

    In evaluation mode the images do not interact, so the gradient of the sum of the B chosen
    activations, taken with respect to the batch, holds the B projections side by side.
    ``positions[b]`` may be None (the channel's largest activation in image b).
    """
    x = x.to(_device(model), _dtype(model)).detach().requires_grad_(True)
    with _eval(model), _deconvnet_relus(model), torch.enable_grad():
        out = _run_to(model, name, x)
        seed = torch.zeros_like(out)
        for b, (channel, position) in enumerate(zip(channels, positions)):
            channel = _check_channel(channel, out, name)
            if position is None and out.ndim == 4:
                flat = int(out[b, channel].flatten().argmax())
                position = (flat // out.shape[3], flat % out.shape[3])
            where = (b, channel) + _check_position(position, out, name)
            seed[where] = out[where].detach()
        (grad,) = torch.autograd.grad(out, x, seed, allow_unused=True)
    if grad is None:
        return np.zeros(tuple(x.shape), dtype=np.float32)
    return grad.detach().cpu().numpy()


# --------------------------------------------------------------------------- occlusion
def occlusion_map(model: nn.Module, image, target, patch, stride, *, fill: float = 0.5,
                  batch_size: int = 32) -> np.ndarray:
    """Slide a grey square over the input and record how much a score changes.

    Parameters
    ----------
    model : torch.nn.Module
        The network (run in evaluation mode, without gradients).
    image : Tensor or ndarray, shape (C, H, W)
        The input.
    target : int or callable
        An int ``t``: the score is the softmax probability of class ``t``. A callable:
        ``target(output)`` maps the model's outputs for a batch to one score per image,
        shape ``(B,)``.
    patch : int or (int, int)
        Height and width of the square (it stays inside the image).
    stride : int or (int, int)
        Step between two placements.
    fill : float, default 0.5
        The value written into the covered pixels (mid grey for images in [0, 1]).
    batch_size : int, default 32
        Occluded copies run through the network at once.

    Returns
    -------
    ndarray, shape (floor((H - P_h) / s_h) + 1, floor((W - P_w) / s_w) + 1)
        Entry ``(i, j)``: the score with the square's top-left corner at
        ``(i s_h, j s_w)`` minus the score of the intact image. Strongly negative where
        hiding the region destroys the evidence for the target.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(16, 1, bias=False))
    >>> _ = nn.init.ones_(net[1].weight)           # the score is the sum of the pixels
    >>> occlusion_map(net, torch.ones(1, 4, 4), lambda out: out[:, 0], 2, 2, fill=0.0)
    array([[-4., -4.],
           [-4., -4.]], dtype=float32)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    x = _as_image(image).to(_device(model), _dtype(model))
    H, W = x.shape[-2:]
    P = pair(patch, "patch")
    s = pair(stride, "stride")
    if P[0] > H or P[1] > W:
        raise ValueError(f"patch must fit in the {(H, W)} image, got {tuple(P)}")
    batch_size = positive_int(batch_size, "batch_size")
    if isinstance(target, (bool, np.bool_)) or not (callable(target) or isinstance(target, (int, np.integer))):
        raise TypeError(f"target must be a class index (int) or a callable of the outputs, got {target!r}")

    def score(out):
        if callable(target):
            values = target(out)
        else:
            if out.ndim != 2 or not 0 <= int(target) < out.shape[1]:
                raise ValueError(f"target must be a class index in 0..{out.shape[1] - 1} of outputs of shape "
                                 f"{tuple(out.shape[1:])}, got {target}")
            values = torch.softmax(out, dim=1)[:, int(target)]
        values = torch.as_tensor(values)
        if values.shape != (out.shape[0],):
            raise ValueError(f"target(output) must give one score per image, shape ({out.shape[0]},), "
                             f"got shape {tuple(values.shape)}")
        return values

    rows, cols = (H - P[0]) // s[0] + 1, (W - P[1]) // s[1] + 1
    corners = [(i * s[0], j * s[1]) for i in range(rows) for j in range(cols)]
    scores = []
    with _eval(model), torch.no_grad():
        base = score(model(x))[0]
        for start in range(0, len(corners), batch_size):
            chunk = corners[start:start + batch_size]
            batch = x.repeat(len(chunk), 1, 1, 1)
            for b, (top, left) in enumerate(chunk):
                batch[b, :, top:top + P[0], left:left + P[1]] = fill
            scores.append(score(model(batch)) - base)
    return torch.cat(scores).reshape(rows, cols).cpu().numpy()


# --------------------------------------------------------------------------- Figure 6.12 panels
class TopUnit(NamedTuple):
    """One of the top activations of a channel, ready to draw (see :func:`layer_panel`)."""

    index: int          #: which image
    position: tuple     #: (row, col) on the layer's map
    value: float        #: the activation
    box: tuple          #: (top, left, bottom, right) of its receptive field, inclusive
    patch: np.ndarray   #: the image inside the box, shape (C, h, w)
    projection: np.ndarray  #: the deconvnet projection inside the box, shape (C, h, w)


def layer_panel(model: nn.Module, layer, channels, images, k: int = 9, *, maxima=None, batch_size: int = 64) -> dict:
    """For chosen channels of a layer: the top ``k`` image patches and their deconvnet projections.

    One pass over ``images`` (:func:`activation_maxima`) finds, for every channel, the ``k``
    images where it is largest; each winning activation is then projected back to pixel
    space (:func:`deconvnet`, the ``k`` images of a channel in one batch), and image and
    projection are cut to the unit's receptive field (:func:`receptive_field_box`).
    :func:`cnnlib.visualize.plot_layer_panel` draws the result like Figure 6.12 of the chapter.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
    channels : int or sequence of int
        The channels to show.
    images : Tensor or ndarray, shape (N, C, H, W), or a dataset of images
        Indexable: the winners are read again by index.
    k : int, default 9
    maxima : (ndarray, ndarray), optional
        What :func:`activation_maxima` returned for this layer and these images, to save
        the pass over the images when it has been made already.
    batch_size : int, default 64

    Returns
    -------
    dict of int to list of TopUnit
        For each channel, its ``k`` best units, best first.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    >>> panel = layer_panel(net, "2", [0, 1], torch.rand(6, 1, 10, 10), k=3)
    >>> [len(panel[c]) for c in (0, 1)], panel[0][0].patch.shape
    ([3, 3], (1, 4, 4))
    """
    name = _layer_name(model, layer)
    k = positive_int(k, "k")
    values, positions = activation_maxima(model, name, images, batch_size=batch_size) if maxima is None else maxima
    if k > len(values):
        raise ValueError(f"k must be at most the number of images ({len(values)}), got {k}")
    if isinstance(channels, (int, np.integer)):
        channels = [channels]
    channels = [nonnegative_int(c, "channels") for c in channels]
    for c in channels:
        if c >= values.shape[1]:
            raise ValueError(f"channels must be in 0..{values.shape[1] - 1} (layer {name!r}), got {c}")

    def item(i):
        it = images[i]
        return torch.as_tensor(it[0] if isinstance(it, (tuple, list)) else it)

    with _eval(model), torch.no_grad():
        spatial = _run_to(model, name, _as_image(item(0)).to(_device(model), _dtype(model))).ndim == 4
    panel = {}
    for c in channels:
        order = sorted(range(len(values)), key=lambda n: (-values[n, c], n))[:k]
        x = torch.stack([item(n) for n in order])
        where = [tuple(int(v) for v in positions[n, c]) if spatial else None for n in order]
        projections = _project(model, name, x, [c] * len(order), where)
        units = []
        for n, pos, image, proj in zip(order, where, x, projections):
            box = receptive_field_box(model, name, pos, tuple(image.shape)) if spatial else (
                0, 0, image.shape[-2] - 1, image.shape[-1] - 1)
            t, l, b, r = box
            units.append(TopUnit(int(n), pos if spatial else (0, 0), float(values[n, c]), box,
                                 image[:, t:b + 1, l:r + 1].cpu().numpy(), proj[:, t:b + 1, l:r + 1]))
        panel[c] = units
    return panel
