"""Clear messages for the commonest reasons a network's forward pass fails.

PyTorch reports a wrong input deep inside a layer (``expected input[1, 1, 224, 224] to have 3
channels``, ``Output size is too small``, ``mat1 and mat2 shapes cannot be multiplied``) without
saying which layer of the network failed or what input would have worked. :func:`explain_forward_error`
runs the failed forward pass again with a note of the layers it enters, and says which layer
failed, what it expected, and for an input that is too small the smallest size that goes through.
"""
from __future__ import annotations

import torch
from torch import nn

from ._modes import eval_mode

__all__ = ["explain_forward_error", "minimum_input_size"]

_TOO_SMALL = ("too small", "can't be greater than actual input size", "should be at least")
_LARGEST = 4096  # the search for a minimum input size stops here


def _leaves(model: nn.Module):
    return [(name or type(m).__name__, m) for name, m in model.named_modules() if not list(m.children())]


def _failing_leaf(model: nn.Module, x: torch.Tensor):
    """Run ``model(x)`` again and return (name, layer, its input) of the layer whose forward raised,
    or ``None`` when the error came from code between layers (or did not happen again)."""
    entered, finished = [], []
    handles = []
    for name, leaf in _leaves(model):
        handles.append(leaf.register_forward_pre_hook(
            lambda m, args, name=name: entered.append((name, m, args[0] if args else None))))
        handles.append(leaf.register_forward_hook(lambda m, args, out, name=name: finished.append(name)))
    try:
        with eval_mode(model), torch.no_grad():
            model(x)
    except RuntimeError:
        if entered and (not finished or finished[-1] != entered[-1][0]):
            return entered[-1]
    finally:
        for h in handles:
            h.remove()
    return None


def _fails_too_small(model: nn.Module, channels: int, size: int, device, dtype) -> bool:
    try:
        with eval_mode(model), torch.no_grad():
            model(torch.zeros(1, channels, size, size, device=device, dtype=dtype))
    except RuntimeError as exc:
        return any(marker in str(exc) for marker in _TOO_SMALL)
    except Exception:  # noqa: BLE001 - any other failure is past the size problem
        return False
    return False


def minimum_input_size(model: nn.Module, channels: int, *, start: int = 1, device=None, dtype=None) -> int | None:
    """The smallest square input size (H = W) for which no layer of ``model`` finds its input too small.

    Bisection on forward passes of one zero image in evaluation mode; ``None`` when even
    4096 x 4096 is too small. (The forward may still fail at that size for another reason, such
    as a fully connected layer built for one image size.)

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 5), nn.MaxPool2d(2), nn.Conv2d(2, 2, 5))
    >>> minimum_input_size(net, 1)  # 5 + 4 + ... : (14 - 4) // 2 = 5 feeds the last 5 x 5 kernel
    14
    """
    param = next(model.parameters(), None)
    device = device if device is not None else (param.device if param is not None else "cpu")
    dtype = dtype if dtype is not None else (param.dtype if param is not None else torch.float32)
    lo = max(1, start)
    if not _fails_too_small(model, channels, lo, device, dtype):
        return lo
    hi = lo * 2
    while _fails_too_small(model, channels, hi, device, dtype):
        lo, hi = hi, hi * 2
        if hi > _LARGEST:
            return None
    while hi - lo > 1:  # lo fails, hi passes
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _fails_too_small(model, channels, mid, device, dtype) else (lo, mid)
    return hi


def explain_forward_error(model: nn.Module, x: torch.Tensor, exc: RuntimeError) -> Exception:
    """A ``ValueError`` that says why ``model(x)`` raised ``exc`` (which layer, what it expected), or
    ``exc`` itself when the reason is none of the common ones.

    Use as ``raise explain_forward_error(model, x, exc) from exc`` in an ``except RuntimeError``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2))
    >>> try:
    ...     net(torch.zeros(2, 1, 32, 32))
    ... except RuntimeError as exc:
    ...     print(explain_forward_error(net, torch.zeros(2, 1, 32, 32), exc))
    layer '0' (Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))) expects 3 input channels, got 1 (its input has shape (2, 1, 32, 32)): a grayscale image into a network for colour images; repeat it over the three channels, x.expand(-1, 3, -1, -1) (then normalise it as the network expects)
    """
    if not isinstance(x, torch.Tensor):
        return exc
    found = _failing_leaf(model, x)
    if found is None:
        return exc
    name, layer, inp = found
    shape = tuple(inp.shape) if isinstance(inp, torch.Tensor) else None
    where = f"layer {name!r} ({layer})"
    if isinstance(layer, nn.modules.conv._ConvNd) and shape is not None and len(shape) >= 2 \
            and shape[1] != layer.in_channels:
        message = (f"{where} expects {layer.in_channels} input channels, got {shape[1]} (its input has shape "
                   f"{shape})")
        first = next((m for _, m in _leaves(model) if isinstance(m, nn.modules.conv._ConvNd)), None)
        if layer is first and shape[1] == 1 and layer.in_channels == 3:
            message += (": a grayscale image into a network for colour images; repeat it over the three channels, "
                        "x.expand(-1, 3, -1, -1) (then normalise it as the network expects)")
        elif layer is first and shape[1] == 3 and layer.in_channels == 1:
            message += ": a colour image into a network for grayscale images; average its channels, x.mean(1, keepdim=True)"
        return ValueError(message)
    if any(marker in str(exc) for marker in _TOO_SMALL) and x.ndim == 4:
        size = minimum_input_size(model, x.shape[1], start=min(x.shape[-2:]))
        need = (f"the smallest input whose maps fit every window is {size} x {size}" if size is not None
                else f"even {_LARGEST} x {_LARGEST} is too small")
        got = f"{shape[-2]} x {shape[-1]}" if shape is not None and len(shape) == 4 else f"{shape}"
        return ValueError(f"the input, {x.shape[-2]} x {x.shape[-1]}, is too small for this network: {where} "
                          f"receives a {got} map, too small for its window; {need}")
    if isinstance(layer, nn.Linear) and shape is not None and shape[-1] != layer.in_features:
        return ValueError(f"{where} expects {layer.in_features} features, got {shape[-1]} (its input has shape "
                          f"{shape}): the images are not of the size the network was built for")
    return exc
