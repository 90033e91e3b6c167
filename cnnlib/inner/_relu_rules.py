"""What a ReLU passes back: the rules that tell the deconvnet, guided backpropagation and the
ascent of activation maximisation apart from plain backpropagation (Section 6.4.6).

Each rule is a :class:`torch.autograd.Function` whose forward is the ReLU itself, so the
values a network computes never change; only the signal sent back through a ReLU does.
:func:`relu_rule` puts one of them into every ``nn.ReLU`` module of a model for the duration
of a ``with`` block.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from .._validation import check_choice

__all__ = ["RULES", "relu_rule"]


class _DeconvReLU(torch.autograd.Function):
    """Backward: a ReLU of the incoming signal, whatever the forward input was (Zeiler and Fergus)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


class _ForwardInputReLU(torch.autograd.Function):
    """A ReLU that keeps its forward input for a backward rule that looks at it (subclasses give the rule)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)


class _GuidedReLU(_ForwardInputReLU):
    """Backward: the signal where it is positive *and* the forward input was positive (Springenberg et al.)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0).to(grad.dtype)


class _RedirectedReLU(_ForwardInputReLU):
    """Backward: the gradient where the input was positive, and, where it was not, a signal that would raise it.

    A unit switched off at the start of an ascent has zero gradient and would never move;
    Lucid's "redirected ReLU" lets the ascent switch it on (for a loss to be minimised, a
    negative incoming gradient means the loss falls as the input rises).
    """

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ((x > 0) | (grad < 0)).to(grad.dtype)


RULES = {"deconvnet": _DeconvReLU, "guided": _GuidedReLU, "redirected": _RedirectedReLU}


@contextlib.contextmanager
def relu_rule(model: nn.Module, rule: str):
    """Make every ``nn.ReLU`` module of ``model`` pass the signal back by ``rule`` (a key of :data:`RULES`), then restore it.

    Examples
    --------
    >>> net = nn.Sequential(nn.ReLU())
    >>> x = torch.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    >>> with relu_rule(net, "deconvnet"):
    ...     net(x).backward(torch.tensor([5.0, -1.0, 1.0]))
    >>> x.grad
    tensor([5., 0., 1.])
    """
    function = RULES[check_choice(rule, "rule", tuple(RULES))]
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    for m in relus:
        m.forward = function.apply  # an instance attribute shadows the class's forward
    try:
        yield
    finally:
        for m in relus:
            del m.forward
