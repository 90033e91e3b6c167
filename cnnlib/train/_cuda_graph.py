"""The CUDA-graph training step of :func:`cnnlib.train.fit` (a GPU only)."""
from __future__ import annotations

import torch

__all__ = ["cuda_graph_possible", "onecycle_rates", "CudaGraphStep"]


def cuda_graph_possible(requested, device, on_device, optimizer, amp_dtype, n, batch_size):
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


def onecycle_rates(lr: float, total_steps: int) -> list:
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


class CudaGraphStep:
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

    def totals(self) -> tuple:
        """Mean loss and accuracy over the epoch so far (reading them waits for the GPU)."""
        seen = self.offset.item()
        return self.loss_sum.item() / seen, self.correct.item() / seen

    def summary(self) -> dict:
        loss, accuracy = self.totals()
        return dict(loss=f"{loss:.4f}", acc=f"{accuracy:.3f}")
