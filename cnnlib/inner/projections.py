"""Back to pixel space: the deconvnet's projection of an activation, occlusion maps, and the
panels of Figure 6.12 (Section 6.4.6); re-exported by :mod:`cnnlib.inner`."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .._modes import eval_mode
from .._validation import check_choice, nonnegative_int, pair, positive_int
from ._common import _as_image, _check_channel, _check_position, _device, _dtype, _run_to, layer_name
from ._relu_rules import relu_rule
from .activations import activation_maxima, receptive_field_box

__all__ = ["deconvnet", "guided_backprop", "occlusion_map", "TopUnit", "layer_panel"]


# --------------------------------------------------------------------------- deconvnet
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
    name = layer_name(model, layer)
    x = _as_image(image)
    return _project(model, name, x, [channel], [position])[0]


def guided_backprop(model: nn.Module, layer, channel: int, image, position=None) -> np.ndarray:
    r"""Guided backpropagation of one activation to pixel space: the deconvnet's rule and backpropagation's, both.

    Same as :func:`deconvnet` except at the ReLUs, where the signal coming down is kept only
    where it is positive (the deconvnet's rule) *and* the ReLU's input was positive in the
    forward pass (backpropagation's rule) (Springenberg et al., 2015).

    Parameters
    ----------
    model, layer, channel, image, position
        As in :func:`deconvnet`.

    Returns
    -------
    ndarray, shape (C, H, W)
        The projection, scaled by the activation's value.

    Notes
    -----
    With incoming signal :math:`g` and forward input :math:`x` of a ReLU, the three rules
    send back :math:`g\,[x > 0]` (backpropagation), :math:`\max(g, 0)` (deconvnet) and
    :math:`\max(g, 0)\,[x > 0]` (guided backpropagation). Adebayo et al. (2018) show that
    the deconvnet's and guided backpropagation's pictures can change little when the
    network's upper weights are randomised: they show the image's edges at least as much as
    what the unit has learned. Page 6.4.6 runs that check.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.ReLU(), nn.Conv2d(1, 1, 1, bias=False), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(1.0); _ = net[2].weight.fill_(-1.0)
    >>> x = torch.tensor([[[-2.0, 1.0]]])
    >>> float(net(x).detach().max())   # the second ReLU is off everywhere
    0.0
    >>> guided_backprop(net, "1", 0, x, (0, 1))[0]   # only where the first ReLU was on
    array([[0., 1.]], dtype=float32)
    """
    name = layer_name(model, layer)
    return _project(model, name, _as_image(image), [channel], [position], rule="guided")[0]


def _project(model: nn.Module, name: str, x: torch.Tensor, channels, positions, rule: str = "deconvnet") -> np.ndarray:
    """Projections (deconvnet, or another ReLU ``rule``) of one activation per image of the batch ``x`` (B, C, H, W), in one backward pass.

    In evaluation mode the images do not interact, so the gradient of the sum of the B chosen
    activations, taken with respect to the batch, holds the B projections side by side.
    ``positions[b]`` may be None (the channel's largest activation in image b).
    """
    x = x.to(_device(model), _dtype(model)).detach().requires_grad_(True)
    with eval_mode(model), relu_rule(model, rule), torch.enable_grad():
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
    with eval_mode(model), torch.no_grad():
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
    projection: np.ndarray  #: the projection (deconvnet or guided) inside the box, shape (C, h, w)


def layer_panel(model: nn.Module, layer, channels, images, k: int = 9, *, maxima=None, batch_size: int = 64,
                groups=None, rule: str = "deconvnet") -> dict:
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
    groups : sequence, optional
        One label per image (say, the photograph a crop was cut from). At most one image of
        each label is kept for a channel, the best, so that overlapping crops of one
        photograph cannot fill the panel with the same patch.
    rule : {'deconvnet', 'guided'}, default 'deconvnet'
        How the activations are projected: :func:`deconvnet` or :func:`guided_backprop`.

    Returns
    -------
    dict of int to list of TopUnit
        For each channel, its ``k`` best units, best first (fewer when ``groups`` has fewer
        than ``k`` labels).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    >>> panel = layer_panel(net, "2", [0, 1], torch.rand(6, 1, 10, 10), k=3)
    >>> [len(panel[c]) for c in (0, 1)], panel[0][0].patch.shape
    ([3, 3], (1, 4, 4))
    """
    name = layer_name(model, layer)
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
    if groups is not None:
        groups = list(groups)
        if len(groups) != len(values):
            raise ValueError(f"groups must give one label per image ({len(values)}), got {len(groups)}")
    check_choice(rule, "rule", ("deconvnet", "guided"))

    def item(i):
        it = images[i]
        return torch.as_tensor(it[0] if isinstance(it, (tuple, list)) else it)

    with eval_mode(model), torch.no_grad():
        spatial = _run_to(model, name, _as_image(item(0)).to(_device(model), _dtype(model))).ndim == 4
    panel = {}
    for c in channels:
        order = _best(values[:, c], k, groups)
        x = torch.stack([item(n) for n in order])
        where = [tuple(int(v) for v in positions[n, c]) if spatial else None for n in order]
        projections = _project(model, name, x, [c] * len(order), where, rule)
        units = []
        for n, pos, image, proj in zip(order, where, x, projections):
            box = receptive_field_box(model, _branch(model, name, c), pos, tuple(image.shape)) if spatial else (
                0, 0, image.shape[-2] - 1, image.shape[-1] - 1)
            t, l, b, r = box
            units.append(TopUnit(int(n), pos if spatial else (0, 0), float(values[n, c]), box,
                                 image[:, t:b + 1, l:r + 1].cpu().numpy(), proj[:, t:b + 1, l:r + 1]))
        panel[c] = units
    return panel


def _best(values: np.ndarray, k: int, groups=None) -> list:
    """Indices of the ``k`` largest ``values`` (ties: smaller index first), at most one per label of ``groups``."""
    order = sorted(range(len(values)), key=lambda n: (-values[n], n))
    if groups is None:
        return order[:k]
    seen, best = set(), []
    for n in order:
        if groups[n] not in seen:
            seen.add(groups[n])
            best.append(n)
            if len(best) == k:
                break
    return best


def _branch(model: nn.Module, name: str, channel: int) -> str:
    """The layer whose field channel ``channel`` of ``name`` has: for a Fire module, the branch it comes from.

    A Fire module concatenates a 1 x 1 branch (its first channels) and a 3 x 3 branch; walked
    in registration order the 3 x 3 convolution would widen the field of every channel."""
    module = dict(model.named_modules())[name]
    if hasattr(module, "expand1x1") and hasattr(module, "expand3x3"):
        branch = "expand1x1" if channel < module.expand1x1.out_channels else "expand3x3"
        names = dict(module.named_children())
        activation = f"{branch}_activation"
        return f"{name}.{activation if activation in names else branch}"
    return name

