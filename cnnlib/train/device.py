"""Where to train and how much: the device, the book's size switch, the seeds."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["get_device", "resolve_device", "usable_device", "amp_dtype", "QUICK_ENV", "quick_run", "set_seed"]


def get_device() -> torch.device:
    """The fastest available device: CUDA, then MPS (Apple silicon), then the CPU.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> get_device().type in {"cuda", "mps", "cpu"}
    True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


#: Environment variable that overrides the book's size switch (``1``: quick run, ``0``: full run).
QUICK_ENV = "CNNBOOK_QUICK"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def quick_run(device=None, *, verbose: bool = True) -> bool:
    """The book's size switch: ``True`` for the quick run (a CPU), ``False`` for the full run (a GPU).

    Every training page starts with ``QUICK = train.quick_run()``. The quick run is sized for
    a CPU (about a minute per page: what the book's build and Binder run); the full run trains
    on all the data for longer and is meant for a GPU.

    Parameters
    ----------
    device : torch.device or str, optional
        The device the page trains on; defaults to :func:`get_device`. The answer is
        ``False`` (full run) on CUDA and ``True`` elsewhere (CPU, Apple's MPS).
    verbose : bool
        Print one line saying which run was chosen and why.

    Returns
    -------
    bool

    Notes
    -----
    The environment variable :data:`QUICK_ENV` (``CNNBOOK_QUICK``) overrides the device:
    ``CNNBOOK_QUICK=1`` forces the quick run on a GPU, ``CNNBOOK_QUICK=0`` the full run on a
    CPU. In a notebook, ``%env CNNBOOK_QUICK=0`` before the cell does the same, or simply
    assign ``QUICK = False``.

    Examples
    --------
    >>> quick_run("cpu", verbose=False)
    True
    >>> import os; os.environ["CNNBOOK_QUICK"] = "0"
    >>> quick_run("cpu")
    QUICK = False: the full run (CNNBOOK_QUICK=0 is set).
    False
    >>> del os.environ["CNNBOOK_QUICK"]
    """
    raw = os.environ.get(QUICK_ENV)
    if raw is not None and raw.strip() != "":
        value = raw.strip().lower()
        if value not in _TRUE | _FALSE:
            raise ValueError(f"environment variable {QUICK_ENV} must be 1 (quick run) or 0 (full run), got {raw!r}")
        quick = value in _TRUE
        why = f"{QUICK_ENV}={raw.strip()} is set"
    else:
        device = resolve_device(device)
        quick = device.type != "cuda"
        other = 0 if quick else 1
        why = f"on {device.type}; {QUICK_ENV}={other} gives the {'full' if quick else 'quick'} run"
    if verbose:
        print(f"QUICK = {quick}: the {'quick' if quick else 'full'} run ({why}).")
    return quick


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random number generators (all devices).

    Examples
    --------
    >>> set_seed(3); a = torch.rand(2)
    >>> set_seed(3); torch.equal(a, torch.rand(2))
    True
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def resolve_device(device) -> torch.device:
    if device is None:
        return get_device()
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be None, a torch.device or a string such as 'cpu' or 'cuda', got {device!r}") from None


def usable_device(device) -> torch.device:
    """:func:`resolve_device`, and a clear error when that device is not on this machine.

    Examples
    --------
    >>> usable_device("cpu")
    device(type='cpu')
    """
    device = resolve_device(device)
    pick = f"train.get_device() would pick {get_device().type!r} here"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={str(device)!r}, but CUDA is not available on this machine (no NVIDIA GPU, "
                             f"or a PyTorch built without CUDA); {pick}")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device={str(device)!r}, but this machine has {torch.cuda.device_count()} CUDA "
                             f"device(s), numbered from 0; {pick}")
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device={str(device)!r}, but Apple's MPS is not available on this machine; {pick}")
    return device


def amp_dtype(device: torch.device):
    """Mixed-precision type: bfloat16 on CUDA where supported, float16 elsewhere on CUDA, none on CPU/MPS."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
