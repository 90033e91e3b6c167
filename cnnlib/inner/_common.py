"""What the computations of :mod:`cnnlib.inner` share: naming a layer, running a model up to it,
checking channels and positions, streaming images in batches."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._validation import nonnegative_int, pair

__all__ = ["layer_name"]


class _Stop(Exception):
    """Raised by a forward hook once the wanted layer has run, to skip the rest of the network."""


def layer_name(model: nn.Module, layer) -> str:
    """The name of ``layer`` in ``model`` (as in ``model.named_modules()``), given by name or as the module.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    >>> layer_name(net, net[1]), layer_name(net, "0")
    ('1', '0')
    """
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


def _run_to(model: nn.Module, name, x: torch.Tensor):
    """The output of module ``name`` for input ``x``; the network stops right after it.

    ``name`` may also be a list of names: then a dict of their outputs, and the network stops
    once all of them have run."""
    names = [name] if isinstance(name, str) else list(name)
    modules = dict(model.named_modules())
    box = {}

    def hook_for(n):
        def hook(_module, _inputs, output):
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"layer {n!r} returns a {type(output).__name__}, not a tensor")
            box.setdefault(n, output)
            if len(box) == len(names):
                raise _Stop
        return hook

    handles = [modules[n].register_forward_hook(hook_for(n)) for n in names]
    try:
        model(x)
    except _Stop:
        pass
    finally:
        for handle in handles:
            handle.remove()
    for n in names:
        if n not in box:
            raise ValueError(f"layer {n!r} was not used in the forward pass of model")
    return box[name] if isinstance(name, str) else box


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
