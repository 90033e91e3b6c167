"""The training data as two tensors in memory, and mini-batches cut from them by indexing."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["as_tensors", "place_data", "prepare_model", "get_batch", "count_correct"]


def as_tensors(data, name: str, *, classification: bool = True):
    """Return ``(X, y)`` tensors from the accepted data formats, with clear errors.

    With ``classification`` the targets must be a 1-D tensor of integer class indices
    (returned as int64); otherwise any tensor with one row per example (returned as it is).
    """
    if data is None:
        raise TypeError(f"{name} must be a dataset or an (X, y) pair of tensors, got None")
    if hasattr(data, "images") and hasattr(data, "labels"):
        X, y = data.images, data.labels
    elif isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        X, y = data
    elif isinstance(data, torch.utils.data.Dataset) and hasattr(data, "__len__"):
        if len(data) == 0:
            raise ValueError(f"{name} must not be empty, got a dataset of length 0")
        xs, ys = zip(*(data[i] for i in range(len(data))))
        X = torch.stack([torch.as_tensor(x) for x in xs])
        y = torch.as_tensor([int(v) for v in ys]) if classification else torch.stack([torch.as_tensor(v) for v in ys])
    else:
        raise TypeError(
            f"{name} must have .images and .labels tensors, be an (X, y) pair of tensors or a "
            f"torch Dataset of (x, y) pairs, got {type(data).__name__}"
        )
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must hold tensors, got {type(X).__name__} and {type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{name} has {len(X)} inputs but {len(y)} labels; they must have the same length")
    if len(X) == 0:
        raise ValueError(f"{name} must not be empty, got 0 examples")
    if not classification:
        return (X.float() if not X.is_floating_point() else X), y
    if y.ndim != 1 or y.is_floating_point():
        raise ValueError(f"{name} labels must be a 1-D integer tensor of class indices, got dtype {y.dtype} and shape {tuple(y.shape)}")
    return X.float() if not X.is_floating_point() else X, y.long()


def place_data(X, y, device: torch.device):
    """Move the whole data set to ``device`` when it fits comfortably (GPU), else keep it on the host."""
    if device.type == "cpu" or X.device == device:
        return X, y, True
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if X.numel() * X.element_size() > 0.3 * free:  # leave room for the model and activations
            return X.pin_memory() if X.device.type == "cpu" else X, y, False
    return X.to(device), y.to(device), True


def prepare_model(model: nn.Module, device: torch.device, channels_last: bool) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def get_batch(X, y, idx, device, channels_last):
    xb, yb = X[idx], y[idx]
    if xb.device != device:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
    if channels_last and xb.ndim == 4:
        xb = xb.contiguous(memory_format=torch.channels_last)
    return xb, yb


def count_correct(outputs: torch.Tensor, targets: torch.Tensor):
    """How many targets ``outputs.argmax(1)`` gets right (per pixel for masks), or ``None``
    when the targets are not class indices (a regression target, a box)."""
    if targets.is_floating_point() or outputs.ndim < 2 or outputs.ndim != targets.ndim + 1:
        return None
    return (outputs.detach().argmax(1) == targets).sum()
