"""Feature visualisation by optimisation: the input that excites one unit most (Section 6.4.6);
re-exported by :mod:`cnnlib.inner`.

:func:`cnnlib.inner.top_activations` finds, among images we already have, those that excite a
channel most. Activation maximisation asks the same question of *every* possible input: start
from grey and climb the gradient of the chosen activation with respect to the pixels. The
climb is regularised as in Lucid and Lucent (Olah et al., 2017): at every step the image is
shifted by a few random pixels (jitter), kept inside the valid pixel range, and slightly
blurred, so that the result shows a pattern rather than high-frequency noise that only this
network's exact pixel grid responds to.

References
----------
D. Erhan, Y. Bengio, A. Courville and P. Vincent, "Visualizing higher-layer features of a
deep network", Technical report 1341, University of Montreal, 2009 (Chapter 6, [10]).

C. Olah, A. Mordvintsev and L. Schubert, "Feature visualization", Distill, 2017.

A. Mahendran and A. Vedaldi, "Visualizing deep convolutional neural networks using natural
pre-images", International Journal of Computer Vision 120, 2016.
"""
from __future__ import annotations

import contextlib
import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._modes import eval_mode
from .._validation import nonnegative_int, pair, positive_int
from ._common import _check_channel, _device, _dtype, _run_to, layer_name
from ._relu_rules import relu_rule

__all__ = ["Optimized", "activation_maximization", "REDIRECTED_STEPS"]

REDIRECTED_STEPS = 16  #: the first steps take the redirected ReLUs' gradient, as in Lucid; then the true one


class Optimized(NamedTuple):
    """What :func:`activation_maximization` returns."""

    image: np.ndarray    #: the optimised input, shape (C, H, W), inside ``value_range``
    value: float         #: the unit's activation for ``image`` (no jitter)
    position: tuple      #: (row, col) of the unit on the layer's map; () for a layer without one
    history: np.ndarray  #: the activation (with jitter) at each step, shape (steps,)


def _unit(out: torch.Tensor, name: str, channel: int, position) -> tuple:
    """The index (channel, row, col) or (channel,) of the unit in a layer output (B, C, h, w) or (B, C)."""
    channel = _check_channel(channel, out, name)
    if out.ndim == 2:
        if position not in (None, ()):
            raise ValueError(f"position must be None for layer {name!r}, whose output has no spatial map, "
                             f"got {position!r}")
        return (channel,)
    if out.ndim != 4:
        raise ValueError(f"layer {name!r} gives outputs of shape {tuple(out.shape[1:])}; expected (C, h, w) or (C,)")
    h, w = out.shape[2:]
    r, c = (h // 2, w // 2) if position is None else pair(position, "position", minimum=0)
    if r >= h or c >= w:
        raise ValueError(f"position must lie on the {(h, w)} map of layer {name!r}, got {(r, c)}")
    return (channel, r, c)


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur each channel of (B, C, H, W) with a Gaussian of standard deviation ``sigma`` pixels (reflected edges)."""
    radius = max(1, math.ceil(2 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    g = torch.exp(-t ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    C = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, g.view(1, 1, 1, -1).repeat(C, 1, 1, 1), groups=C)   # along rows
    return F.conv2d(x, g.view(1, 1, -1, 1).repeat(C, 1, 1, 1), groups=C)  # along columns


def activation_maximization(model: nn.Module, layer, channel: int, input_shape, *, position=None,
                            steps: int = 128, lr: float = 0.1, jitter: int = 2, blur: float = 0.5,
                            value_range=(0.0, 1.0), seed: int = 0) -> Optimized:
    """The input that (locally) maximises one unit's activation, by regularised gradient ascent.

    Starting from mid-range grey with a little noise, each step shifts the image by up to
    ``jitter`` pixels in each direction (a new random shift every step), takes an Adam step
    up the gradient of the unit's activation with respect to the pixels, clips the pixels to
    ``value_range`` and blurs the image slightly. For the first :data:`REDIRECTED_STEPS` steps
    the gradient goes through ReLUs that let a switched-off unit be switched on (Lucid's
    "redirected" ReLU), so that a unit that is off on grey can start to climb; after that, the
    true gradient. The best image seen (scored without jitter every 4 steps and after the last)
    is returned.

    Parameters
    ----------
    model : torch.nn.Module
        The network (evaluation mode for the duration; its weights do not change).
    layer : str or torch.nn.Module
        The layer, by name (``model.named_modules()``) or as a module of ``model``.
    channel : int
        The channel (or, for a dense layer, the unit).
    input_shape : tuple (C, H, W)
        Size of the optimised input. For a unit with receptive field ``r``, an input a little
        larger than ``r`` is enough.
    position : (int, int), optional
        The unit on the layer's map; by default the centre ``(h // 2, w // 2)``. Leave it out
        for a layer without a spatial map.
    steps : int, default 128
    lr : float, default 0.1
        Adam's step size, in units of the pixel range.
    jitter : int, default 2
        Largest random shift in pixels (0: none).
    blur : float, default 0.5
        Standard deviation in pixels of the Gaussian blur applied after every step (0: none).
        On small inputs with thin strokes (28 x 28 digits), ``jitter=1, blur=0.3`` keep more.
    value_range : (float, float), default (0, 1)
        The pixel range the image is kept in.
    seed : int, default 0
        Seeds the starting noise and the shifts.

    Returns
    -------
    Optimized
        ``image`` (ndarray, shape (C, H, W)), its activation ``value``, the unit's
        ``position`` and the activation at every step, ``history``.

    Notes
    -----
    The objective is the activation :math:`a^{[\\ell]}(j)_{i,k}(x)`, maximised over inputs
    :math:`x` in a box of pixel values (Erhan et al., 2009); :func:`cnnlib.inner.top_activations`
    maximises the same quantity, as :math:`\\eta`, over a fixed collection of images only.
    Without the regularisers the ascent finds patterns of single-pixel noise that no
    photograph contains (Olah et al., 2017).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[[[-1.0, 0, 1]] * 3]]))   # a vertical edge
    >>> best = activation_maximization(net, "1", 0, (1, 7, 7), steps=40, jitter=0, blur=0)
    >>> bool(best.image[0, :, 4].mean() > best.image[0, :, 2].mean()), round(best.value, 1)  # dark left, light right
    (True, 3.0)
    """
    name = layer_name(model, layer)
    channel = nonnegative_int(channel, "channel")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {input_shape!r}")
    C, H, W = (positive_int(v, "input_shape") for v in input_shape)
    steps = positive_int(steps, "steps")
    jitter = nonnegative_int(jitter, "jitter")
    for value, label in ((lr, "lr"), (blur, "blur")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"{label} must be a number >= 0, got {value!r}")
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not value_range[0] < value_range[1]:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    lo, hi = float(value_range[0]), float(value_range[1])
    generator = torch.Generator().manual_seed(nonnegative_int(seed, "seed"))
    start = (lo + hi) / 2 + 0.01 * (hi - lo) * torch.randn((1, C, H, W), generator=generator)
    x = start.to(_device(model), _dtype(model)).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr * (hi - lo))
    history = np.zeros(steps)
    best_value, best_image, unit = -math.inf, x.detach().clone(), None
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    with eval_mode(model):
        try:
            for p, _ in frozen:
                p.requires_grad_(False)
            for step in range(steps):
                dy, dx = (torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist() if jitter
                          else (0, 0))
                rule = relu_rule(model, "redirected") if step < REDIRECTED_STEPS else contextlib.nullcontext()
                with rule:
                    out = _run_to(model, name, torch.roll(x, (dy, dx), dims=(2, 3)))
                    if unit is None:
                        unit = _unit(out, name, channel, position)
                    activation = out[(0,) + unit]
                    optimizer.zero_grad()
                    (-activation).backward()
                optimizer.step()
                history[step] = float(activation.detach())
                with torch.no_grad():
                    if blur > 0:
                        x.copy_(_gaussian_blur(x, blur))
                    x.clamp_(lo, hi)
                    if step % 4 == 3 or step == steps - 1:  # score without jitter now and then
                        value = float(_run_to(model, name, x)[(0,) + unit])
                        if value > best_value:
                            best_value, best_image = value, x.detach().clone()
        finally:
            for p, flag in frozen:
                p.requires_grad_(flag)
    return Optimized(best_image[0].cpu().numpy(), best_value, unit[1:], history)
