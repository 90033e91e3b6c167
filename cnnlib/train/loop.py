"""The training loop: :func:`fit` runs one step function over the mini-batches of each epoch."""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .._validation import check_choice, positive_int
from ._batches import as_tensors, count_correct, get_batch, place_data, prepare_model
from ._checks import check_first_forward, check_loss
from ._cuda_graph import CudaGraphStep, cuda_graph_possible, onecycle_rates
from .device import amp_dtype, set_seed, usable_device

__all__ = ["OPTIMIZERS", "SCHEDULES", "History", "make_optimizer", "EagerStep", "fit"]

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "onecycle")


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


def _check_positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def make_optimizer(optimizer, params, lr, weight_decay, *, graph_device=None):
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


class EagerStep:
    """The ordinary training step, written out: one call trains on the next mini-batch.

    ``start_epoch(perm)`` takes the epoch's shuffled order of the examples; each ``step()``
    then cuts the next ``batch_size`` of them out of the data and does what every training loop
    does: forward pass, loss, ``backward``, optimizer step (and the schedule's step), keeping
    running totals of the loss and the correct predictions. :class:`CudaGraphStep` does the
    same behind the same three methods on a GPU.
    """

    def __init__(self, model, X, y, batch_size, opt, loss_fn, amp, channels_last, scheduler, total_steps):
        self.model, self.X, self.y, self.opt, self.loss_fn = model, X, y, opt, loss_fn
        self.batch_size, self.amp, self.channels_last = batch_size, amp, channels_last
        self.scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
        self.scheduler, self.total_steps, self.done = scheduler, total_steps, 0
        self.device = next((p.device for p in model.parameters()), torch.device("cpu"))
        self.watch, self.epoch = self.device.type != "cuda", 0  # (on CUDA: the loss of each epoch, no waiting)

    def start_epoch(self, perm):
        self.perm, self.position = perm, 0
        self.epoch += 1
        self.loss_sum = torch.zeros((), device=self.device)
        self.correct = torch.zeros((), device=self.device, dtype=torch.long)
        self.seen = self.labels = 0

    def step(self):
        idx = self.perm[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        xb, yb = get_batch(self.X, self.y, idx, self.device, self.channels_last)
        autocast = (torch.autocast(device_type="cuda", dtype=self.amp) if self.amp is not None
                    else contextlib.nullcontext())
        with autocast:
            outputs = self.model(xb)
            loss = self.loss_fn(outputs, yb)
        if self.watch:
            check_loss(loss, self.epoch, self.position // self.batch_size, self.opt.param_groups[0]["lr"])
        self.opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            loss.backward()
            self.opt.step()
        self.done += 1
        if self.scheduler is not None and self.done < self.total_steps:
            self.scheduler.step()  # (a step after the very last one would leave the cycle)
        self.loss_sum += loss.detach().float() * len(yb)
        right = count_correct(outputs, yb)
        if right is not None:
            self.correct += right
            self.labels += yb.numel()
        self.seen += len(yb)

    def totals(self) -> tuple:
        """Mean loss and accuracy over the epoch so far (accuracy ``nan`` without class targets)."""
        accuracy = self.correct.item() / self.labels if self.labels else math.nan
        return self.loss_sum.item() / self.seen, accuracy

    def summary(self) -> dict:
        loss, accuracy = self.totals()
        return dict(loss=f"{loss:.4f}", acc=f"{accuracy:.3f}")


def fit(model: nn.Module, train_data, val_data=None, *, epochs: int = 5, batch_size: int = 128,
        lr: float = 1e-3, optimizer="adam", weight_decay: float = 0.0, schedule: str = "constant",
        device=None, seed: int = 0, progress: bool = True, amp: bool = True,
        channels_last: bool | None = None, cuda_graph: bool | None = None, loss_fn=None) -> History:
    """Train a model with mini-batch gradient descent (by default a classifier on the cross-entropy loss).

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
    loss_fn : callable, optional
        ``loss_fn(outputs, targets)`` gives the mean loss of a mini-batch; defaults to the
        cross-entropy (``nn.CrossEntropyLoss()``). With another loss the targets may be any
        tensor with one row per example (boxes, masks, ...). The accuracy is recorded when the
        targets are integer class indices (``outputs.argmax(1)`` against them, per pixel for
        masks) and is ``nan`` otherwise.

    Returns
    -------
    History

    Raises
    ------
    ValueError
        Before training, for what one forward pass of two examples shows: an input the model
        cannot take (the layer and what it expects: a grayscale image into a colour network, an
        image too small), or class labels beyond the model's outputs; and for a device that is
        not on this machine.
    FloatingPointError
        When the training loss becomes NaN or infinite: at that step, before the optimizer
        step (on CUDA, at the end of the epoch, so as not to wait for the GPU at every step).

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
    >>> _ = torch.manual_seed(0); X = torch.randn(64, 2); y = (X[:, 0] > 0).long()
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
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function loss_fn(outputs, targets), got {type(loss_fn).__name__}")
    classification = loss_fn is None
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    device = usable_device(device)
    if channels_last is None:
        channels_last = device.type == "cuda"
    X, y = as_tensors(train_data, "train_data", classification=classification)
    val = as_tensors(val_data, "val_data", classification=classification) if val_data is not None else None
    channels_last = bool(channels_last) and X.ndim == 4

    set_seed(seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model = prepare_model(model, device, channels_last)
    X, y, on_device = place_data(X, y, device)
    if val is not None:
        val = place_data(*val, device)[:2]  # validation data also move to the GPU once, when they fit
    n = len(y)
    check_first_forward(model, X, y, "train_data", classification, device)
    if val is not None:
        check_first_forward(model, *val, "val_data", classification, device)

    params = [p for p in model.parameters() if p.requires_grad]
    if not params and not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError("model has no trainable parameters (all are frozen); unfreeze some before fit")
    amp = amp_dtype(device) if amp else None
    graphed = classification and cuda_graph_possible(cuda_graph, device, on_device, optimizer, amp, n, batch_size)
    if graphed:
        steps = n // batch_size  # fixed shapes: the last incomplete mini-batch is left out
    else:  # skip a last mini-batch of a single example (unless it is the only one)
        steps = max(1, n // batch_size + (1 if n % batch_size > 1 else 0))
    opt = make_optimizer(optimizer, params, lr, weight_decay, graph_device=device if graphed else None)
    if graphed:
        rates = onecycle_rates(lr, epochs * steps) if schedule == "onecycle" else None
        step = CudaGraphStep(model, X, y, batch_size, opt, loss_fn, amp, channels_last, rates)
    else:
        scheduler = None
        if schedule == "onecycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.3)
        step = EagerStep(model, X, y, batch_size, opt, loss_fn, amp, channels_last, scheduler, epochs * steps)
    perm_gen = torch.Generator(device="cpu").manual_seed(seed)

    if progress:
        from tqdm.auto import tqdm
    history = History(n_train=min(n, steps * batch_size), device=str(device),
                      step="CUDA graph" if graphed else "eager")
    refresh = 200 if graphed else 10  # reading the totals waits for a GPU: not every step
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=perm_gen)
        if on_device and X.device != perm.device:
            perm = perm.to(X.device)
        bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}", leave=True, unit="batch") if progress else None
        start = time.perf_counter()
        step.start_epoch(perm)
        for i in range(steps):
            step.step()
            if bar is not None:
                bar.update(1)
                if i % refresh == refresh - 1 or (i == steps - 1 and not graphed):
                    bar.set_postfix(**step.summary())
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        history.seconds.append(time.perf_counter() - start)
        loss, accuracy = step.totals()
        check_loss(loss, epoch + 1, None, opt.param_groups[0]["lr"])
        history.train_loss.append(loss)
        history.train_accuracy.append(accuracy)
        history.lr.append(float(opt.param_groups[0]["lr"]))
        if val is not None:
            from .scoring import evaluate

            scores = evaluate(model, val, device=device, loss_fn=None if classification else loss_fn)
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
