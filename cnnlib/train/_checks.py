"""Checks that turn the commonest training mistakes into clear errors before (or as) they happen."""
from __future__ import annotations

import math

import torch
from torch import nn

from .._forward_errors import explain_forward_error
from .._modes import eval_mode

__all__ = ["forward", "check_labels", "check_first_forward", "check_loss"]


def forward(model: nn.Module, xb: torch.Tensor):
    """``model(xb)``, with a clear error (the layer, what it expected) for an input it cannot take."""
    try:
        return model(xb)
    except RuntimeError as exc:
        error = explain_forward_error(model, xb, exc)
        if error is exc:
            raise
        raise error from exc


def check_labels(outputs, y: torch.Tensor, name: str) -> None:
    """Class labels must index the model's outputs: 0 .. K - 1 for K outputs (columns)."""
    if not isinstance(outputs, torch.Tensor) or outputs.ndim < 2 or y.numel() == 0:
        return
    k = outputs.shape[1]
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= k:
        bad = low if low < 0 else high
        where = int((y == bad).nonzero()[0, 0])
        raise ValueError(f"{name} labels must lie in 0..{k - 1}: the model has {k} outputs (one per class), got "
                         f"label {bad} (example {where}); give the model {high + 1} outputs or renumber the classes "
                         "from 0")


def check_first_forward(model: nn.Module, X: torch.Tensor, y: torch.Tensor, name: str, classification: bool,
                        device: torch.device) -> None:
    """One forward pass of two examples in evaluation mode before training starts: a clear error for
    inputs the model cannot take (wrong channels, too small) and for labels beyond its outputs."""
    xb = X[:2].to(device)
    with eval_mode(model), torch.no_grad():
        outputs = forward(model, xb)
    if classification:
        check_labels(outputs, y, name)


def check_loss(loss, epoch: int, step: int | None, lr: float) -> None:
    """Stop training at the first loss that is NaN or infinite (before the optimizer step spoils the
    weights); ``step=None`` for the mean loss of a whole epoch."""
    value = float(loss.detach() if isinstance(loss, torch.Tensor) else loss)
    if not math.isfinite(value):
        where = f"at epoch {epoch}, step {step}" if step is not None else f"in epoch {epoch}"
        raise FloatingPointError(
            f"fit stopped: the training loss became {value} {where}. Training diverged or the data hold NaN "
            f"or infinity: try a smaller lr (it is {float(lr):.3g}), check the inputs with torch.isfinite(X).all(), "
            "and check that the loss function stays finite")
