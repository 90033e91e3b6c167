"""Trained weights saved under ``data/weights/`` and loaded instead of training again."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import warnings
from dataclasses import asdict

import torch
from torch import nn

from ..data import data_root
from ._batches import as_tensors
from .device import usable_device
from .loop import History, fit

__all__ = ["ENTRY_FORMAT", "cached_fit", "fingerprint_tensor", "fingerprint_data", "load_entry", "save_entry",
           "write_atomically"]

#: Layout of a saved entry (part of its key: entries of an older layout are simply not found).
#: 2: weights ``.pt`` and a JSON record ``{"sha256": <of the weights file>, "history": {...}}``.
ENTRY_FORMAT = 2


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

    **Faults.** Each file is written under a name of its own in the same folder and then
    renamed onto the entry in one step (``os.replace``), the weights first and the JSON record
    last; the record holds the SHA-256 of the weights file, checked before loading. So two
    processes training the same network at once (two students on one JupyterHub, ``pytest -n``)
    never see each other's half-written files, and weights are loaded only together with the
    history they were saved with. A damaged, truncated or mismatching entry is a miss: a
    ``UserWarning`` names the file and the network is trained again. A folder that cannot be
    written (read-only) gives a warning; the trained model and its History are returned.

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
    device = usable_device(fit_kwargs.pop("device", None))
    key_parts = {
        "model": repr(model),
        "init": [(k, fingerprint_tensor(v)) for k, v in model.state_dict().items()],
        "train": fingerprint_data(train_data, "train_data"),
        "val": fingerprint_data(val_data, "val_data"),
        "fit": {k: repr(v) for k, v in sorted(fit_kwargs.items()) if k != "progress"},
        "device": device.type,
        "torch": ".".join(torch.__version__.split(".")[:2]),
        "entry": ENTRY_FORMAT,
    }
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:12]
    folder = (data_root() if root is None else os.fspath(root))
    folder = os.path.join(folder, "weights")
    weights = os.path.join(folder, f"{name}-{key}.pt")
    record = os.path.join(folder, f"{name}-{key}.json")
    with _entry_lock(folder, f"{name}-{key}"):
        return _load_or_train(model, train_data, val_data, weights, record, device, verbose, fit_kwargs)


def _load_or_train(model, train_data, val_data, weights, record, device, verbose, fit_kwargs) -> History:
    folder = os.path.dirname(weights)
    history = load_entry(model, weights, record, device)
    if history is not None:
        if verbose:
            print(f"Loaded the trained weights (same model, data and settings as before)\nfrom {_shown(weights)}.")
        return history
    history = fit(model, train_data, val_data, device=device, **fit_kwargs)
    try:
        save_entry(model, history, weights, record)
    except OSError as exc:
        warnings.warn(f"cached_fit could not save the trained weights to {folder} ({exc}); the model is "
                      "trained and its History returned, but the next run will train again", stacklevel=3)
        return history
    if verbose:
        print(f"Saved the trained weights (running this cell again loads them)\nto {_shown(weights)}.")
    return history


def _shown(weights: str) -> str:
    """Where the weights are, as a page may print it: inside the data folder, not the machine's absolute path."""
    return f"weights/{os.path.basename(weights)} in the data folder"


@contextlib.contextmanager
def _entry_lock(folder: str, stem: str):
    """Hold an exclusive lock on one entry while it is looked up and, on a miss, trained and saved.

    Two processes asking for the same network at once (two pages executed in parallel by
    ``scripts/execute_notebooks.py``, two students on one JupyterHub) then train it once: the
    second waits and loads the first one's weights. Where no lock can be taken (a read-only
    folder, a system without ``fcntl``) the entry is used unlocked, which is safe, only slower.
    """
    try:
        import fcntl
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, f".{stem}.lock"), os.O_RDWR | os.O_CREAT, 0o666)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def load_entry(model: nn.Module, weights: str, record: str, device) -> History | None:
    """Load a saved entry into ``model`` and return its History; ``None`` (a miss) when there is
    no complete entry, with a warning naming the file when one is damaged or does not match."""
    try:
        with open(record, "rb") as fh:
            meta = json.loads(fh.read())
        digest, history = meta["sha256"], History(**meta["history"])
    except FileNotFoundError:  # no entry yet
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _miss(f"{record} is not a readable record ({type(exc).__name__}: {exc})")
    try:
        with open(weights, "rb") as fh:
            blob = fh.read()
    except FileNotFoundError:  # removed since (another process is replacing the entry)
        return None
    except OSError as exc:
        return _miss(f"{weights} cannot be read ({exc})")
    if hashlib.sha256(blob).hexdigest() != digest:
        return _miss(f"{weights} does not match the SHA-256 recorded in {record} (damaged, or replaced by "
                     "another run)")
    try:
        state = torch.load(io.BytesIO(blob), map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever PyTorch raises for a bad file is a miss
        return _miss(f"{weights} cannot be loaded ({type(exc).__name__}: {exc})")
    own = model.state_dict()
    if not isinstance(state, dict) or set(state) != set(own) or any(
            not isinstance(state[k], torch.Tensor) or state[k].shape != own[k].shape for k in own):
        return _miss(f"{weights} does not hold this model's weights")
    model.load_state_dict(state)
    model.to(device).eval()
    return history


def _miss(why: str) -> None:
    warnings.warn(f"cached_fit: {why}; training again.", stacklevel=5)
    return None


def save_entry(model: nn.Module, history: History, weights: str, record: str) -> None:
    """Write the entry: the weights, then the record with their SHA-256, each renamed into place at once."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().to("cpu") for k, v in model.state_dict().items()}, buffer)
    blob = buffer.getvalue()
    meta = {"sha256": hashlib.sha256(blob).hexdigest(), "history": asdict(history)}
    os.makedirs(os.path.dirname(weights), exist_ok=True)
    write_atomically(weights, blob)
    write_atomically(record, json.dumps(meta).encode())


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to a new file of its own in the same folder, then rename it onto ``path``:
    a reader sees the old file or the new one, never part of one."""
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}-{secrets.token_hex(4)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # permissions as any new file's
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
