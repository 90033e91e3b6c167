"""Trained weights saved under ``data/weights/`` and loaded instead of training again."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import secrets
import types
import warnings
from dataclasses import asdict

import torch
from torch import nn

from ..data import data_root
from ._batches import as_tensors
from .device import usable_device
from .loop import History, fit

__all__ = ["ENTRY_FORMAT", "cached_fit", "callable_key", "fingerprint_tensor", "fingerprint_data", "load_entry",
           "save_entry", "setting_key", "write_atomically"]

#: Layout of a saved entry (part of its key: entries of an older layout are simply not found).
#: 2: weights ``.pt`` and a JSON record ``{"sha256": <of the weights file>, "history": {...}}``.
ENTRY_FORMAT = 2


def fingerprint_tensor(t: torch.Tensor) -> str:
    t = t.detach().to("cpu").contiguous()
    return hashlib.sha256(t.numpy().tobytes()).hexdigest()[:16] + f"{tuple(t.shape)}{t.dtype}"


def fingerprint_data(data, name):
    if data is None:
        return None
    X, y = as_tensors(data, name, classification=False)  # any targets: class labels, masks, boxes
    return [fingerprint_tensor(X), fingerprint_tensor(y)]


_PLAIN = (bool, int, float, complex, str, bytes, type(None))


def _code_digest(code: types.CodeType, doc: str | None = None) -> str:
    """SHA-256 of a code object's instructions, constants (nested code included) and names;
    the function's own docstring ``doc`` is left out (editing a docstring must not retrain)."""
    h = hashlib.sha256()

    def feed(c, skip_doc):
        h.update(c.co_code)
        h.update(repr(c.co_names).encode())
        for i, const in enumerate(c.co_consts):
            if isinstance(const, types.CodeType):
                feed(const, None)
            elif not (i == 0 and skip_doc is not None and const == skip_doc):
                h.update(repr(const).encode())
    feed(code, doc)
    return h.hexdigest()[:16]


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _value_key(value, seen):
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, torch.Tensor):
        return fingerprint_tensor(value)
    if isinstance(value, (tuple, list)):
        return [_value_key(v, seen) for v in value]
    if isinstance(value, dict):
        return {str(k): _value_key(v, seen) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, nn.Module):
        return [repr(value), [(k, fingerprint_tensor(v)) for k, v in value.state_dict().items()]]
    if callable(value):
        return callable_key(value, _seen=seen)
    text = repr(value)
    if " at 0x" in text:
        raise TypeError(f"cached_fit cannot key a {type(value).__name__}: its repr {text!r} changes from run to run")
    return text


def callable_key(fn, *, _seen=None) -> str:
    """A description of a function that is the same in every run of the same code.

    ``repr`` of a function holds its address, which changes from run to run. This key holds
    the module and qualified name, a digest of the code (instructions, constants, names), the
    defaults, the closure's values and the plain values (numbers, strings, tuples, tensors,
    modules with their weights) and functions that the code reads from its module's globals,
    followed recursively (not lists or dicts there: a page's running state, such as a list of
    results, must not change the key). Two runs of one notebook give the same key; editing the function,
    or a constant it reads such as ``GAMMA = 20.0``, gives another.

    Examples
    --------
    >>> def double(x):
    ...     return 2 * x
    >>> callable_key(double) == callable_key(double)
    True
    >>> callable_key(double) == callable_key(lambda x: 2 * x)
    False
    """
    seen = set() if _seen is None else _seen
    if isinstance(fn, functools.partial):
        return json.dumps(["partial", callable_key(fn.func, _seen=seen), _value_key(list(fn.args), seen),
                           _value_key(dict(fn.keywords), seen)])
    if isinstance(fn, types.MethodType):
        return json.dumps(["method", callable_key(fn.__func__, _seen=seen), _value_key(fn.__self__, seen)])
    code = getattr(fn, "__code__", None)
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    if code is None and callable(getattr(fn, "__wrapped__", None)):  # functools.lru_cache, wraps
        return json.dumps(["wrapped", type(fn).__qualname__, callable_key(fn.__wrapped__, _seen=seen)])
    if code is None:  # a builtin, a class, or an object with __call__ (nn.Module losses)
        if isinstance(fn, (type, types.BuiltinFunctionType)):
            return name
        if isinstance(fn, nn.Module):
            return json.dumps(["object", _value_key(fn, seen)])
        text = repr(fn)
        if " at 0x" in text:  # an object whose repr is its address: its class and its __call__
            call = getattr(type(fn), "__call__", None)
            return json.dumps(["object", type(fn).__module__ + "." + type(fn).__qualname__,
                               callable_key(call, _seen=seen) if getattr(call, "__code__", None) else None])
        return json.dumps(["object", text])
    if id(fn) in seen:
        return json.dumps(["recursive", name])
    seen.add(id(fn))
    closure = [_value_key(cell.cell_contents, seen) for cell in (fn.__closure__ or ())]
    globals_ = getattr(fn, "__globals__", {})
    read = {}
    for g in sorted(_global_names(code)):
        if g not in globals_:
            continue
        value = globals_[g]
        if isinstance(value, types.ModuleType):
            continue
        if isinstance(value, (_PLAIN, torch.Tensor, tuple, nn.Module)) or callable(value):  # not lists, dicts: state
            try:
                read[g] = _value_key(value, seen)
            except TypeError:
                read[g] = type(value).__qualname__
    doc = fn.__doc__ if isinstance(getattr(fn, "__doc__", None), str) else None
    return json.dumps([name, _code_digest(code, doc), _value_key(list(fn.__defaults__ or ()), seen),
                       _value_key(dict(fn.__kwdefaults__ or {}), seen), closure, read])


def setting_key(value, name="setting"):
    """How one keyword argument of :func:`cached_fit` enters the key: ``repr`` for plain values
    (as before, so existing entries keep their names), :func:`callable_key` for functions."""
    if callable(value) and not isinstance(value, type):
        return callable_key(value)
    text = repr(value)
    if " at 0x" in text:
        raise TypeError(f"cached_fit cannot key {name}={text}: its repr changes from run to run; pass plain "
                        "values, tensors or functions")
    return text


def cached_fit(model: nn.Module, train_data, val_data=None, *, name: str, root=None,
               verbose: bool = True, fit_fn=None, **fit_kwargs) -> History:
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
    fit_fn : callable, optional
        The training function, called as ``fit_fn(model, train_data, val_data, device=...,
        **fit_kwargs)`` and returning a :class:`History`; defaults to :func:`fit`. Another one
        (e.g. a triplet-mining loop) is part of the key like the settings.
    **fit_kwargs
        Passed on to :func:`fit` (``epochs``, ``batch_size``, ``lr``, ...). Functions among
        them (a ``loss_fn``) enter the key through their code, defaults, closure and the
        numbers, strings and tensors they read from their module (see :func:`callable_key`),
        so a notebook's loss function keys the same from one run to the next and a change to
        it trains afresh.

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
        "fit": {k: setting_key(v, k) for k, v in sorted(fit_kwargs.items()) if k != "progress"},
        "device": device.type,
        "torch": ".".join(torch.__version__.split(".")[:2]),
        "entry": ENTRY_FORMAT,
    }
    if fit_fn is not None and fit_fn is not fit:
        key_parts["fit_fn"] = callable_key(fit_fn)
    else:
        fit_fn = fit
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:12]
    folder = (data_root() if root is None else os.fspath(root))
    folder = os.path.join(folder, "weights")
    weights = os.path.join(folder, f"{name}-{key}.pt")
    record = os.path.join(folder, f"{name}-{key}.json")
    with _entry_lock(folder, f"{name}-{key}"):
        return _load_or_train(model, train_data, val_data, weights, record, device, verbose, fit_kwargs, fit_fn)


def _load_or_train(model, train_data, val_data, weights, record, device, verbose, fit_kwargs, fit_fn=fit) -> History:
    folder = os.path.dirname(weights)
    history = load_entry(model, weights, record, device)
    if history is not None:
        if verbose:
            print(f"Loaded the trained weights (same model, data and settings as before)\nfrom {_shown(weights)}.")
        return history
    history = fit_fn(model, train_data, val_data, device=device, **fit_kwargs)
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
