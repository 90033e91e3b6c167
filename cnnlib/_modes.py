"""Evaluation mode that gives every submodule its own mode back.

``model.eval()`` followed by ``model.train(was_training)`` is the usual idiom, but it is wrong
for a model whose parts were in different modes: after freezing the batch-norm statistics of a
backbone (``model.features.eval()``) and training the head, ``model.train(True)`` would switch
the backbone back to training mode. :func:`eval_mode` records the mode of every submodule and
restores each one.
"""
from __future__ import annotations

import contextlib

from torch import nn

__all__ = ["eval_mode"]


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Put ``model`` in evaluation mode for the ``with`` block, then restore each submodule's mode.

    Parameters
    ----------
    model : torch.nn.Module

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 2))
    >>> _ = net[0].eval()   # frozen batch norm, the rest training
    >>> with eval_mode(net):
    ...     print(net.training, net[0].training, net[1].training)
    False False False
    >>> print(net.training, net[0].training, net[1].training)
    True False True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training
