"""Trained weights saved under ``data/weights/`` and loaded instead of training again."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict

import torch
from torch import nn

from ..data import data_root
from ._batches import as_tensors
from .device import resolve_device
from .loop import History, fit

__all__ = ["cached_fit", "fingerprint_tensor", "fingerprint_data"]


def fingerprint_tensor(t: torch.Tensor) -> str:
    t = t.detach().to("cpu").contiguous()
    return hashlib.sha256(t.numpy().tobytes()).hexdigest()[:16] + f"{tuple(t.shape)}{t.dtype}"


def fingerprint_data(data, name):
    if data is None:
        return None
    X, y = as_tensors(data, name)
    return [fingerprint_tensor(X), fingerprint_tensor(y)]


def cached_fit(model: nn.Module, train_data, val_data=None, *, name: str, root=None,
               verbose: bool = True, **fit_kwargs) -> History:
    """:func:`fit`, or load the weights and history that the same call saved before.

    The pages that train a network save its weights under ``data/weights/`` so that a page
    run again (or a later page that reuses the network, such as 6.4.6 reusing the LeNet-5 of
    6.4.2) loads them in a second instead of training again. The file name holds a hash of
    everything that determines the result: the model's layers and initial weights, the
    training and validation data, the arguments of :func:`fit` and the device type. Change
    any of them and the network is trained afresh.

    Parameters
    ----------
    model : torch.nn.Module
        The model, freshly initialised (its initial weights are part of the key).
    train_data, val_data
        As for :func:`fit`.
    name : str
        A short name for the file, e.g. ``"lenet5-mnist"``.
    root : str or path, optional
        The data folder; defaults to :func:`cnnlib.data.data_root`. Files go to ``root/weights/``.
    verbose : bool
        Say whether the weights were trained or loaded, and from where.
    **fit_kwargs
        Passed on to :func:`fit` (``epochs``, ``batch_size``, ``lr``, ...).

    Returns
    -------
    History
        What :func:`fit` returned the first time (saved beside the weights as JSON).

    Notes
    -----
    Weights are saved with ``torch.save(model.state_dict())`` and loaded with
    ``torch.load(..., weights_only=True)``: a weights file cannot run code. On a CPU, training
    is deterministic, so loading gives exactly the weights that training would give.

    Examples
    --------
    >>> import tempfile
    >>> X = torch.randn(64, 2); y = (X[:, 0] > 0).long()
    >>> _ = torch.manual_seed(0); a = nn.Linear(2, 2)
    >>> folder = tempfile.mkdtemp()
    >>> h1 = cached_fit(a, (X, y), name="toy", root=folder, epochs=2, device="cpu", progress=False, verbose=False)
    >>> _ = torch.manual_seed(0); b = nn.Linear(2, 2)
    >>> h2 = cached_fit(b, (X, y), name="toy", root=folder, epochs=2, device="cpu", progress=False, verbose=False)
    >>> h1.train_loss == h2.train_loss, torch.equal(a.weight, b.weight)
    (True, True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ "):
        raise ValueError(f"name must be a non-empty file name without slashes or spaces, got {name!r}")
    device = resolve_device(fit_kwargs.pop("device", None))
    key_parts = {
        "model": repr(model),
        "init": [(k, fingerprint_tensor(v)) for k, v in model.state_dict().items()],
        "train": fingerprint_data(train_data, "train_data"),
        "val": fingerprint_data(val_data, "val_data"),
        "fit": {k: repr(v) for k, v in sorted(fit_kwargs.items()) if k != "progress"},
        "device": device.type,
        "torch": ".".join(torch.__version__.split(".")[:2]),
    }
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:12]
    folder = (data_root() if root is None else os.fspath(root))
    folder = os.path.join(folder, "weights")
    weights = os.path.join(folder, f"{name}-{key}.pt")
    record = os.path.join(folder, f"{name}-{key}.json")
    if os.path.exists(weights) and os.path.exists(record):
        state = torch.load(weights, map_location=device, weights_only=True)
        model.load_state_dict(state)
        model.to(device).eval()
        with open(record) as fh:
            history = History(**json.load(fh))
        if verbose:
            print(f"Loaded the trained weights from {weights} (same model, data and settings as before).")
        return history
    history = fit(model, train_data, val_data, device=device, **fit_kwargs)
    os.makedirs(folder, exist_ok=True)
    tmp = weights + ".part"
    torch.save({k: v.detach().to("cpu") for k, v in model.state_dict().items()}, tmp)
    os.replace(tmp, weights)
    with open(record, "w") as fh:
        json.dump(asdict(history), fh)
    if verbose:
        print(f"Saved the trained weights to {weights}; running this cell again loads them.")
    return history
