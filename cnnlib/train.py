"""Training and evaluating a classifier, fast on a CPU and on a GPU (Section 6.4).

The functions here are what the book's training pages call:

- :func:`get_device` picks CUDA, then Apple's MPS, then the CPU;
- :func:`fit` trains a model with mini-batch gradient descent (Adam, AdamW or SGD with
  momentum, optionally a one-cycle learning-rate schedule) and returns a :class:`History`;
- :func:`evaluate` gives the mean cross-entropy loss and the accuracy on a dataset;
- :func:`predict` gives the predicted labels; :func:`plot_history` draws the curves;
- :func:`freeze`, :func:`unfreeze` and :func:`count_trainable` serve transfer learning
  (training only the last layers of a network, as Section 6.4 of the chapter describes).

Why :func:`fit` is fast
-----------------------
A data set of images is small enough to sit in memory as two tensors (``images``,
``labels``), so an epoch is a random permutation of the indices and each mini-batch one
indexing operation: no ``DataLoader``, no per-sample ``__getitem__`` and no collation.
On a GPU the whole data set moves to the device once (when it fits), the forward pass
runs under mixed precision (bfloat16 where supported, otherwise float16 with a gradient
scaler), tensors use the channels-last memory layout and cuDNN picks its fastest
algorithms. Running totals of the loss and accuracy stay on the device, so the host waits
for the GPU only when the progress bar is refreshed. On a CPU everything stays in float32
and the results are reproducible: the same seed gives the same :class:`History`.

Data can be given as anything with ``.images`` and ``.labels`` tensors (such as
:class:`cnnlib.data.ImageDataset`), as a pair ``(X, y)`` of tensors, or as any PyTorch
dataset of ``(x, y)`` pairs (stacked into tensors once).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4 (fully connected layers, freezing, transfer learning).
L. N. Smith and N. Topin, "Super-convergence: very fast training of neural networks using
large learning rates", 2019 (the one-cycle schedule).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from ._validation import check_choice, positive_int

__all__ = [
    "get_device",
    "quick_run",
    "QUICK_ENV",
    "cached_fit",
    "LENET5_SETTINGS",
    "lenet5_recipe",
    "trained_lenet5",
    "set_seed",
    "History",
    "fit",
    "evaluate",
    "predict",
    "plot_history",
    "freeze",
    "unfreeze",
    "count_trainable",
]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "onecycle")


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
        device = _resolve_device(device)
        quick = device.type != "cuda"
        other = 0 if quick else 1
        why = (f"training on {device.type}; set {QUICK_ENV}={other} for the "
               f"{'full' if quick else 'quick'} run")
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


@dataclass
class History:
    """What :func:`fit` records, one entry per epoch.

    Attributes
    ----------
    train_loss, train_accuracy : list of float
        Mean cross-entropy and accuracy over the epoch's mini-batches (measured while the
        weights change, in training mode: dropout active, batch statistics used).
    val_loss, val_accuracy : list of float
        The same on the validation data after the epoch, in evaluation mode (empty without
        validation data).
    seconds : list of float
        Wall-clock time of each epoch's training pass (validation excluded).
    lr : list of float
        Learning rate at the end of each epoch.
    n_train : int
        Number of training images per epoch.
    device : str
        Where the model was trained.
    step : str
        ``"eager"`` (the step written out in Python) or ``"CUDA graph"`` (captured and replayed).

    Examples
    --------
    >>> h = History(train_loss=[0.5, 0.2], train_accuracy=[0.8, 0.9], seconds=[1.0, 1.0], n_train=100)
    >>> h.epochs, h.images_per_second
    (2, 100.0)
    """

    train_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    n_train: int = 0
    device: str = "cpu"
    step: str = "eager"

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.train_loss)

    @property
    def images_per_second(self) -> float:
        """Training throughput over all epochs (images processed / seconds spent training)."""
        total = sum(self.seconds)
        return self.n_train * self.epochs / total if total > 0 else float("nan")

    def as_dict(self) -> dict:
        """The per-epoch lists as a dict (e.g. for ``pandas.DataFrame``)."""
        d = asdict(self)
        return {k: v for k, v in d.items() if isinstance(v, list) and len(v) == self.epochs}


# --------------------------------------------------------------------------- data handling
def _as_tensors(data, name: str):
    """Return ``(X, y)`` tensors from the accepted data formats, with clear errors."""
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
        y = torch.as_tensor([int(v) for v in ys])
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
    if y.ndim != 1 or y.is_floating_point():
        raise ValueError(f"{name} labels must be a 1-D integer tensor of class indices, got dtype {y.dtype} and shape {tuple(y.shape)}")
    return X.float() if not X.is_floating_point() else X, y.long()


def _place(X, y, device: torch.device):
    """Move the whole data set to ``device`` when it fits comfortably (GPU), else keep it on the host."""
    if device.type == "cpu" or X.device == device:
        return X, y, True
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if X.numel() * X.element_size() > 0.3 * free:  # leave room for the model and activations
            return X.pin_memory() if X.device.type == "cpu" else X, y, False
    return X.to(device), y.to(device), True


def _amp_dtype(device: torch.device):
    """Mixed-precision type: bfloat16 on CUDA where supported, float16 elsewhere on CUDA, none on CPU/MPS."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _prepare(model: nn.Module, device: torch.device, channels_last: bool) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def _batch(X, y, idx, device, channels_last):
    xb, yb = X[idx], y[idx]
    if xb.device != device:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
    if channels_last and xb.ndim == 4:
        xb = xb.contiguous(memory_format=torch.channels_last)
    return xb, yb


def _resolve_device(device) -> torch.device:
    if device is None:
        return get_device()
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be None, a torch.device or a string such as 'cpu' or 'cuda', got {device!r}") from None


def _check_positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _make_optimizer(optimizer, params, lr, weight_decay, *, graph_device=None):
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be one of {OPTIMIZERS} or a torch.optim.Optimizer, got {type(optimizer).__name__}")
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    if graph_device is not None:  # a CUDA graph: the rate is a tensor on the GPU, changed in place
        lr_tensor = torch.tensor(float(lr), device=graph_device)
        cls = torch.optim.Adam if optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=lr_tensor, weight_decay=weight_decay, capturable=True, foreach=True)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)


# --------------------------------------------------------------------------- the CUDA-graph step
def _use_cuda_graph(requested, device, on_device, optimizer, amp_dtype, n, batch_size):
    """Whether ``fit`` can capture its step as a CUDA graph, and if not, why."""
    reasons = []
    if device.type != "cuda":
        reasons.append(f"the device is {device.type}, not cuda")
    if not on_device:
        reasons.append("the training data do not fit in GPU memory")
    if not (isinstance(optimizer, str) and optimizer in ("adam", "adamw")):
        reasons.append("only the 'adam' and 'adamw' optimizers are captured")
    if amp_dtype == torch.float16:
        reasons.append("float16 needs a gradient scaler (this GPU has no bfloat16)")
    if n < batch_size:
        reasons.append(f"there are fewer examples ({n}) than one mini-batch ({batch_size})")
    if requested is True and reasons:
        raise ValueError("cuda_graph=True is not possible here: " + "; ".join(reasons))
    return (requested is not False) and not reasons


def _onecycle_rates(lr: float, total_steps: int) -> list:
    """The learning rate of every step under ``OneCycleLR`` (the same shape as the eager path)."""
    dummy = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([dummy], lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps, pct_start=0.3,
                                                cycle_momentum=False)
    rates = []
    for _ in range(total_steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if len(rates) < total_steps:
            sched.step()
    return rates


class _CudaGraphStep:
    """One training step, captured once as a CUDA graph and then replayed.

    A LeNet-sized step on a GPU is a few dozen small kernels, each finished in microseconds:
    the time goes to launching them from Python, not to computing. Recorded once in a CUDA
    graph, the whole step (gather the mini-batch, forward, loss, backward, optimiser step,
    running totals) is launched by a single call, ``graph.replay()``. A graph replays the same
    kernels on the same memory, so everything that changes between steps lives in tensors on
    the GPU that the graph reads: the shuffled order of the epoch (``perm``), the position in it
    (``offset``), the learning rate and the step counter.
    """

    WARMUP = 3  # eager steps before the capture: they create the optimiser state and let cuDNN choose

    def __init__(self, model, X, y, batch_size, opt, loss_fn, amp_dtype, channels_last, rates):
        dev = X.device
        self.model, self.X, self.y, self.opt, self.loss_fn = model, X, y, opt, loss_fn
        self.amp_dtype, self.channels_last, self.batch_size = amp_dtype, channels_last, batch_size
        self.perm = torch.zeros(len(X), dtype=torch.long, device=dev)        # the epoch's order
        self.rows = torch.arange(batch_size, device=dev)                       # 0 .. B-1
        self.offset = torch.zeros((), dtype=torch.long, device=dev)          # where the batch starts
        self.rates = None if rates is None else torch.tensor(rates, dtype=torch.float32, device=dev)
        self.step_index = torch.zeros(1, dtype=torch.long, device=dev)
        self.loss_sum = torch.zeros((), device=dev)
        self.correct = torch.zeros((), dtype=torch.long, device=dev)
        self.graph, self.warmup_left = None, self.WARMUP

    def start_epoch(self, perm):
        self.perm.copy_(perm)
        self.offset.zero_()
        self.loss_sum.zero_()
        self.correct.zero_()

    def _body(self):
        idx = self.perm.index_select(0, self.rows + self.offset)  # this mini-batch's example numbers
        xb, yb = self.X.index_select(0, idx), self.y.index_select(0, idx)
        if self.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None,
                            cache_enabled=False):
            logits = self.model(xb)
            loss = self.loss_fn(logits, yb)
        loss.backward()
        if self.rates is not None:  # the one-cycle schedule: this step's rate, read on the GPU
            rate = self.rates.index_select(0, self.step_index).squeeze(0)
            for group in self.opt.param_groups:
                group["lr"].copy_(rate)
        self.opt.step()
        self.offset += self.batch_size
        self.step_index += 1
        self.loss_sum += loss.detach().float() * self.batch_size
        self.correct += (logits.detach().argmax(1) == yb).sum()

    def step(self):
        if self.graph is None and self.warmup_left > 0:  # a real step, run eagerly on a side stream
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.opt.zero_grad(set_to_none=True)
                self._body()
            torch.cuda.current_stream().wait_stream(side)
            self.warmup_left -= 1
            return
        if self.graph is None:  # record the step once (recording runs nothing) ...
            self.opt.zero_grad(set_to_none=True)  # the graph's backward then writes fresh gradients
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self._body()
        self.graph.replay()  # ... and replay it: one launch for the whole step


# --------------------------------------------------------------------------- training
def fit(model: nn.Module, train_data, val_data=None, *, epochs: int = 5, batch_size: int = 128,
        lr: float = 1e-3, optimizer="adam", weight_decay: float = 0.0, schedule: str = "constant",
        device=None, seed: int = 0, progress: bool = True, amp: bool = True,
        channels_last: bool | None = None, cuda_graph: bool | None = None) -> History:
    """Train a classifier with mini-batch gradient descent on the cross-entropy loss.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch of inputs, shape (B, ...), to class scores (logits), shape (B, K).
        Trained in place (and moved to ``device``).
    train_data, val_data : dataset or (X, y)
        Training and (optional) validation data: an object with ``.images``, shape (N, ...),
        and ``.labels``, shape (N,), tensors; a pair of such tensors; or a torch ``Dataset``
        of ``(x, y)`` pairs.
    epochs : int
        Number of passes over the training data (>= 1).
    batch_size : int
        Mini-batch size (>= 1). A last mini-batch of a single example is skipped, so that
        batch normalization always sees more than one value per channel.
    lr : float
        Learning rate (the peak rate with ``schedule="onecycle"``).
    optimizer : {"adam", "adamw", "sgd"} or torch.optim.Optimizer
        ``"sgd"`` uses Nesterov momentum 0.9. An optimizer instance is used as it is
        (then ``lr`` and ``weight_decay`` only matter for the schedule).
    weight_decay : float
        L2 penalty (``"adam"``, ``"sgd"``) or decoupled weight decay (``"adamw"``).
    schedule : {"constant", "onecycle"}
        Learning-rate schedule: constant, or one cycle (warm up to ``lr`` over the first
        30% of the steps, then anneal to almost zero), updated after every mini-batch.
    device : torch.device or str, optional
        Defaults to :func:`get_device`.
    seed : int
        Seeds the shuffling and every random operation (dropout) during training; on a
        CPU, two calls with the same model initialisation and seed give the same history.
    progress : bool
        Show a progress bar per epoch (``tqdm.auto``) with the loss and accuracy.
    amp : bool
        Use mixed precision on CUDA (bfloat16 where supported, else float16 with a
        gradient scaler). Ignored on other devices.
    channels_last : bool, optional
        Use the channels-last memory layout; defaults to ``True`` on CUDA only.
    cuda_graph : bool, optional
        Capture the training step as a CUDA graph and replay it (see Notes). ``None`` (the
        default) does so whenever it can: on CUDA, with the data on the GPU, the ``"adam"`` or
        ``"adamw"`` optimizer, and bfloat16 or no mixed precision; elsewhere (CPU, MPS) the
        ordinary step runs. ``False`` never captures; ``True`` raises ``ValueError`` (saying
        why) where it cannot.

    Returns
    -------
    History

    Notes
    -----
    One step on a mini-batch :math:`B` of the training data is a gradient step on
    :math:`\\frac{1}{|B|}\\sum_{i\\in B} -\\log \\mathrm{softmax}(f_\\theta(x_i))_{y_i}`; the
    model is in training mode during the epoch (dropout on, batch normalization using the
    mini-batch statistics and updating its running statistics) and in evaluation mode for
    the validation pass.

    **The CUDA-graph step.** On a GPU a small network's step is bound by the time Python takes
    to launch its kernels, not by the GPU. With ``cuda_graph``, ``fit`` runs three ordinary
    steps, records the fourth as a CUDA graph and replays that graph for every later step: the
    data stay on the GPU and each mini-batch is gathered inside the graph, the learning rate
    of the one-cycle schedule is read from a table on the GPU (its momentum is not cycled on
    this path), and the loss and accuracy totals stay on the GPU until an epoch ends. A graph
    replays fixed shapes, so the last, incomplete mini-batch of each epoch is left out (each
    epoch's new shuffle puts other examples there). ``History.step`` says which step ran.

    Examples
    --------
    >>> X = torch.randn(64, 2); y = (X[:, 0] > 0).long()
    >>> model = nn.Linear(2, 2)
    >>> h = fit(model, (X, y), (X, y), epochs=3, batch_size=16, lr=0.1, device="cpu", progress=False)
    >>> h.epochs, h.train_loss[-1] < h.train_loss[0], h.val_accuracy[-1] > 0.9
    (3, True, True)
    """
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    lr = _check_positive_float(lr, "lr")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}")
    check_choice(schedule, "schedule", SCHEDULES)
    device = _resolve_device(device)
    if channels_last is None:
        channels_last = device.type == "cuda"
    X, y = _as_tensors(train_data, "train_data")
    val = _as_tensors(val_data, "val_data") if val_data is not None else None
    channels_last = bool(channels_last) and X.ndim == 4

    set_seed(seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model = _prepare(model, device, channels_last)
    X, y, on_device = _place(X, y, device)
    if val is not None:
        val = _place(*val, device)[:2]  # validation data also move to the GPU once, when they fit
    n = len(y)

    params = [p for p in model.parameters() if p.requires_grad]
    if not params and not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError("model has no trainable parameters (all are frozen); unfreeze some before fit")
    amp_dtype = _amp_dtype(device) if amp else None
    graphed = _use_cuda_graph(cuda_graph, device, on_device, optimizer, amp_dtype, n, batch_size)
    if graphed:
        steps = n // batch_size  # fixed shapes: the last incomplete mini-batch is left out
    else:  # skip a last mini-batch of a single example (unless it is the only one)
        steps = max(1, n // batch_size + (1 if n % batch_size > 1 else 0))
    opt = _make_optimizer(optimizer, params, lr, weight_decay, graph_device=device if graphed else None)
    scheduler = None
    if schedule == "onecycle" and not graphed:
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.3)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    loss_fn = nn.CrossEntropyLoss()
    perm_gen = torch.Generator(device="cpu").manual_seed(seed)
    runner = None
    if graphed:
        rates = _onecycle_rates(lr, epochs * steps) if schedule == "onecycle" else None
        runner = _CudaGraphStep(model, X, y, batch_size, opt, loss_fn, amp_dtype, channels_last, rates)

    if progress:
        from tqdm.auto import tqdm
    history = History(n_train=min(n, steps * batch_size), device=str(device),
                      step="CUDA graph" if graphed else "eager")
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=perm_gen)
        if on_device and X.device != perm.device:
            perm = perm.to(X.device)
        bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}", leave=True, unit="batch") if progress else None
        start = time.perf_counter()
        if runner is not None:  # the CUDA-graph step: one launch per mini-batch
            runner.start_epoch(perm)
            for step in range(steps):
                runner.step()
                if bar is not None:
                    bar.update(1)
                    if step % 200 == 199:  # reading the totals waits for the GPU: rarely
                        seen = (step + 1) * batch_size
                        bar.set_postfix(loss=f"{runner.loss_sum.item() / seen:.4f}",
                                        acc=f"{runner.correct.item() / seen:.3f}")
            loss_sum, correct, seen = runner.loss_sum, runner.correct, steps * batch_size
        else:  # the ordinary step, written out
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            for step in range(steps):
                idx = perm[step * batch_size:(step + 1) * batch_size]
                xb, yb = _batch(X, y, idx, device, channels_last)
                autocast = (torch.autocast(device_type="cuda", dtype=amp_dtype) if amp_dtype is not None
                            else contextlib.nullcontext())
                with autocast:
                    logits = model(xb)
                    loss = loss_fn(logits, yb)
                opt.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                if scheduler is not None and not (epoch == epochs - 1 and step == steps - 1):
                    scheduler.step()  # (a step after the very last one would leave the cycle)
                loss_sum += loss.detach().float() * len(yb)
                correct += (logits.detach().argmax(1) == yb).sum()
                seen += len(yb)
                if bar is not None:
                    bar.update(1)
                    if step % 10 == 9 or step == steps - 1:  # syncing with a GPU costs: not every step
                        bar.set_postfix(loss=f"{loss_sum.item() / seen:.4f}", acc=f"{correct.item() / seen:.3f}")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        history.seconds.append(time.perf_counter() - start)
        history.train_loss.append(loss_sum.item() / seen)
        history.train_accuracy.append(correct.item() / seen)
        history.lr.append(float(opt.param_groups[0]["lr"]))
        if val is not None:
            scores = evaluate(model, val, device=device)
            history.val_loss.append(scores["loss"])
            history.val_accuracy.append(scores["accuracy"])
        if bar is not None:
            post = dict(loss=f"{history.train_loss[-1]:.4f}", acc=f"{history.train_accuracy[-1]:.3f}")
            if val is not None:
                post.update(val_loss=f"{history.val_loss[-1]:.4f}", val_acc=f"{history.val_accuracy[-1]:.3f}")
            bar.set_postfix(post)
            bar.close()
    model.eval()
    return history


def _fingerprint_tensor(t: torch.Tensor) -> str:
    t = t.detach().to("cpu").contiguous()
    return hashlib.sha256(t.numpy().tobytes()).hexdigest()[:16] + f"{tuple(t.shape)}{t.dtype}"


def _fingerprint_data(data, name):
    if data is None:
        return None
    X, y = _as_tensors(data, name)
    return [_fingerprint_tensor(X), _fingerprint_tensor(y)]


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
    from . import data as _data

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ "):
        raise ValueError(f"name must be a non-empty file name without slashes or spaces, got {name!r}")
    device = _resolve_device(fit_kwargs.pop("device", None))
    key_parts = {
        "model": repr(model),
        "init": [(k, _fingerprint_tensor(v)) for k, v in model.state_dict().items()],
        "train": _fingerprint_data(train_data, "train_data"),
        "val": _fingerprint_data(val_data, "val_data"),
        "fit": {k: repr(v) for k, v in sorted(fit_kwargs.items()) if k != "progress"},
        "device": device.type,
        "torch": ".".join(torch.__version__.split(".")[:2]),
    }
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:12]
    folder = (_data.data_root() if root is None else os.fspath(root))
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


#: How page 6.4.2 trains LeNet-5 on MNIST (the number of epochs comes from :func:`lenet5_recipe`).
LENET5_SETTINGS = dict(batch_size=64, lr=3e-3, optimizer="adamw", weight_decay=0.01, schedule="onecycle", seed=0)


def lenet5_recipe(quick: bool) -> dict:
    """The keyword arguments of :func:`fit` with which page 6.4.2 trains LeNet-5.

    :data:`LENET5_SETTINGS` plus the number of epochs: 10 for the quick run, 15 for the full one.

    Examples
    --------
    >>> lenet5_recipe(True)["epochs"], lenet5_recipe(False)["batch_size"]
    (10, 64)
    """
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be True or False, got {type(quick).__name__} {quick!r}")
    return dict(LENET5_SETTINGS, epochs=10 if quick else 15)


def trained_lenet5(quick: bool | None = None, *, device=None, verbose: bool = True, progress: bool = False):
    """The LeNet-5 that page 6.4.2 trains on MNIST, trained once and then loaded from ``data/weights``.

    Same data (:func:`cnnlib.data.mnist_splits`), same initial weights (seed 0) and same
    settings (:func:`lenet5_recipe`) as the page, through :func:`cached_fit`: after the page
    has run, this loads its weights in a second; before, it trains them (about a minute on a
    CPU for the quick run).

    Parameters
    ----------
    quick : bool, optional
        The size switch; defaults to :func:`quick_run` for ``device``.
    device : torch.device or str, optional
        Defaults to :func:`get_device`.
    verbose : bool
        Print which data, switch and weights are used.
    progress : bool
        Show the progress bars when it has to train.

    Returns
    -------
    model : torch.nn.Module
        The trained network, in evaluation mode, on ``device``.
    history : History
    """
    from . import data, models

    device = _resolve_device(device)
    if quick is None:
        quick = quick_run(device, verbose=verbose)
    train_set, val_set, _ = data.mnist_splits(quick, verbose=verbose)
    set_seed(0)
    model = models.lenet5()
    history = cached_fit(model, train_set, val_set, name="lenet5-mnist", device=device, progress=progress,
                         verbose=verbose, **lenet5_recipe(quick))
    model.eval()
    return model, history


# --------------------------------------------------------------------------- evaluation
@contextlib.contextmanager
def _eval_mode(model: nn.Module):
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _logits(model, X, batch_size, device):
    channels_last = X.ndim == 4 and device.type == "cuda"
    amp_dtype = _amp_dtype(device)
    outs = []
    for start in range(0, len(X), batch_size):
        xb = X[start:start + batch_size].to(device, non_blocking=True)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        autocast = (torch.autocast(device_type="cuda", dtype=amp_dtype) if amp_dtype is not None
                    else contextlib.nullcontext())
        with autocast:
            out = model(xb)
        outs.append(out.float() if out.dtype in (torch.float16, torch.bfloat16) else out)
    return torch.cat(outs)


def evaluate(model: nn.Module, data, *, batch_size: int = 1024, device=None) -> dict:
    """Mean cross-entropy loss and accuracy of ``model`` on ``data``, in evaluation mode.

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
    X, y = _as_tensors(data, "data")
    device = _model_device(model) if device is None else _resolve_device(device)
    model.to(device)
    with _eval_mode(model):
        logits = _logits(model, X, batch_size, device)
        yd = y.to(logits.device)
        loss = nn.functional.cross_entropy(logits, yd, reduction="sum").item() / len(y)
        accuracy = (logits.argmax(1) == yd).sum().item() / len(y)
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
        X, _ = _as_tensors(data, "data")
    device = _model_device(model) if device is None else _resolve_device(device)
    model.to(device)
    with _eval_mode(model):
        return _logits(model, X, batch_size, device).argmax(1).cpu()


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
