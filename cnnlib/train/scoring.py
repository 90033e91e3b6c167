"""Scoring a trained model (loss, accuracy, predictions, curves) and freezing its layers."""
from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from torch import nn

from .._modes import eval_mode
from .._validation import positive_int
from ._batches import as_tensors, count_correct
from ._checks import check_labels, forward
from .device import amp_dtype, usable_device
from .loop import History

__all__ = ["evaluate", "predict", "plot_history", "freeze", "unfreeze", "count_trainable", "model_device",
           "batched_outputs"]


def model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def batched_outputs(model, X, batch_size, device):
    channels_last = X.ndim == 4 and device.type == "cuda"
    amp = amp_dtype(device)
    outs = []
    for start in range(0, len(X), batch_size):
        xb = X[start:start + batch_size].to(device, non_blocking=True)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        autocast = (torch.autocast(device_type="cuda", dtype=amp) if amp is not None
                    else contextlib.nullcontext())
        with autocast:
            out = forward(model, xb)
        outs.append(out.float() if out.dtype in (torch.float16, torch.bfloat16) else out)
    return torch.cat(outs)


def evaluate(model: nn.Module, data, *, batch_size: int = 1024, device=None, loss_fn=None) -> dict:
    """Mean loss (cross-entropy unless ``loss_fn`` is given) and accuracy of ``model`` on ``data``, in evaluation mode.

    Parameters
    ----------
    model : torch.nn.Module
        Maps inputs, shape (B, ...), to logits, shape (B, K).
    data : dataset or (X, y)
        As for :func:`fit`.
    batch_size : int
        How many examples go through the model at once (affects memory, not the result).
    device : torch.device or str, optional
        Defaults to the device of the model's parameters.
    loss_fn : callable, optional
        As for :func:`fit`; the loss is then the mean of ``loss_fn`` over the mini-batches,
        weighted by their sizes, and the accuracy ``nan`` unless the targets are class indices.

    Returns
    -------
    dict
        ``{"loss": float, "accuracy": float}``; the loss is the mean over all examples
        of :math:`-\\log \\mathrm{softmax}(f(x_i))_{y_i}`, the accuracy the fraction of
        examples whose largest logit is the true class.

    Examples
    --------
    >>> model = nn.Linear(2, 2)
    >>> with torch.no_grad(): _ = model.weight.copy_(torch.eye(2)), model.bias.zero_()
    >>> evaluate(model, (torch.tensor([[1., 0.], [0., 1.]]), torch.tensor([0, 0])))["accuracy"]
    0.5
    """
    batch_size = positive_int(batch_size, "batch_size")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function loss_fn(outputs, targets), got {type(loss_fn).__name__}")
    X, y = as_tensors(data, "data", classification=loss_fn is None)
    device = model_device(model) if device is None else usable_device(device)
    model.to(device)
    with eval_mode(model), torch.inference_mode():
        outputs = batched_outputs(model, X, batch_size, device)
        yd = y.to(outputs.device)
        if loss_fn is None:
            check_labels(outputs, y, "data")
            loss = nn.functional.cross_entropy(outputs, yd, reduction="sum").item() / len(y)
        else:
            loss = sum(float(loss_fn(outputs[i:i + batch_size], yd[i:i + batch_size])) * len(yd[i:i + batch_size])
                       for i in range(0, len(yd), batch_size)) / len(y)
        right = count_correct(outputs, yd)
        accuracy = right.item() / yd.numel() if right is not None else math.nan
    return {"loss": loss, "accuracy": accuracy}


def predict(model: nn.Module, data, *, batch_size: int = 1024, device=None) -> torch.Tensor:
    """Predicted class of every example (the index of the largest logit), in evaluation mode.

    Parameters
    ----------
    model : torch.nn.Module
    data : dataset, (X, y) pair, or a tensor X of shape (N, ...)
    batch_size : int
    device : torch.device or str, optional
        Defaults to the device of the model's parameters.

    Returns
    -------
    Tensor of int64, shape (N,), on the CPU

    Examples
    --------
    >>> model = nn.Linear(2, 3)
    >>> predict(model, torch.zeros(5, 2)).shape
    torch.Size([5])
    """
    batch_size = positive_int(batch_size, "batch_size")
    if isinstance(data, torch.Tensor):
        if len(data) == 0:
            raise ValueError("data must not be empty, got 0 examples")
        X = data if data.is_floating_point() else data.float()
    else:
        X, _ = as_tensors(data, "data")
    device = model_device(model) if device is None else usable_device(device)
    model.to(device)
    with eval_mode(model), torch.inference_mode():
        return batched_outputs(model, X, batch_size, device).argmax(1).cpu()


def plot_history(history: History, *, title: str | None = None):
    """Loss and accuracy per epoch, training and validation, side by side.

    Parameters
    ----------
    history : History
        What :func:`fit` returned.
    title : str, optional
        A title over both panels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_history(History(train_loss=[1.0, 0.5], train_accuracy=[0.6, 0.8],
    ...                            val_loss=[0.9, 0.6], val_accuracy=[0.7, 0.75]))
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['cross-entropy loss', 'accuracy']
    """
    import matplotlib.pyplot as plt

    if not isinstance(history, History):
        raise TypeError(f"history must be a History returned by fit, got {type(history).__name__}")
    if history.epochs == 0:
        raise ValueError("history must record at least one epoch, got an empty History")
    epochs = np.arange(1, history.epochs + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    ax_loss.plot(epochs, history.train_loss, "o-", label="training (during the epoch)")
    ax_acc.plot(epochs, history.train_accuracy, "o-", label="training (during the epoch)")
    if history.val_loss:
        ax_loss.plot(epochs, history.val_loss, "s-", label="validation (after the epoch)")
        ax_acc.plot(epochs, history.val_accuracy, "s-", label="validation (after the epoch)")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_loss.set_yscale("log")
    ax_acc.set_ylabel("accuracy")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- transfer learning
def freeze(module: nn.Module) -> nn.Module:
    """Stop training the parameters of ``module`` (``requires_grad = False``); returns it.

    Freezing the feature-extracting layers of a trained network and training only a new
    last layer is the transfer learning of Section 6.4 of the chapter. A frozen module
    that contains batch normalization still updates its running statistics in training
    mode; call ``module.eval()`` after ``fit`` switches to training mode if that matters.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    >>> count_trainable(net), count_trainable(freeze(net[0]))
    (26, 0)
    >>> count_trainable(net)
    10
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Train the parameters of ``module`` again (``requires_grad = True``); returns it.

    Examples
    --------
    >>> net = freeze(nn.Linear(3, 4))
    >>> count_trainable(unfreeze(net))
    16
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def count_trainable(model: nn.Module) -> int:
    """Number of scalar parameters of ``model`` that training would change.

    Examples
    --------
    >>> count_trainable(nn.Conv2d(1, 6, 5))  # 6 kernels of 5 x 5 plus 6 biases
    156
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
