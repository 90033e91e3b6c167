"""Checkers for the exercises of Section 6.1 (overview): dense parameter counts, diagonal edge kernels.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.1 (Figure 6.1, and the count p K + K of the VGG19 example).
"""
from __future__ import annotations

import numpy as np

from .. import conv
from .._validation import check_choice, positive_int
from ._base import Feedback, _as_count, layer_output_shape
from ._registry import checker

__all__ = ["check_dense_parameter_count", "check_diagonal_kernel"]


@checker
def check_dense_parameter_count(answer, input_shape=(3, 224, 224), num_classes: int | None = None, *,
                                outputs_of=None) -> Feedback:
    """Check the number of learned parameters of one dense layer from an image to class scores.

    The layer of the chapter's VGG19 comparison (Section 6.1): every one of the
    ``p = C * H * W`` inputs is joined to every one of the ``K`` outputs by a weight, and
    each output has a bias, so the count is ``p * K + K``.

    Parameters
    ----------
    answer : int
        The student's count.
    input_shape : tuple of int, default (3, 224, 224)
        Shape of one image, channels first, e.g. ``(C, H, W)`` or ``(H, W)``.
    num_classes : int, default 1000
        Number of classes ``K``.
    outputs_of : torch.nn.Module, optional
        Instead of ``num_classes``: the layer whose outputs the dense layer gives (a
        convolution, say); ``K`` is the number of values it gives for one input of
        ``input_shape``, found here by running it on zeros, so that an exercise can ask for
        "a dense layer with the same outputs" without stating their number.

    Returns
    -------
    Feedback
        Truthy when ``answer == p * K + K``; otherwise names the slip: biases left out,
        one bias per input instead of per class, a channel forgotten, weights added
        instead of multiplied, or the number of inputs given instead of the count.

    Examples
    --------
    >>> check_dense_parameter_count(150_529_000)
    ✔ Correct: p K + K = 150,528 × 1,000 + 1,000 = 150,529,000.
    >>> check_dense_parameter_count(150_528_000)
    ✘ 150,528,000 is p K: the weights only.
      hint: each of the K = 1,000 outputs also has a bias: add K.
    >>> import torch
    >>> check_dense_parameter_count(4 * 4 * (6 * 6 * 1 + 1), (1, 6, 6), outputs_of=torch.nn.Conv2d(1, 1, 3))
    ✔ Correct: p K + K = 36 × 16 + 16 = 592.
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) == 0:
        raise ValueError(f"input_shape must be a tuple such as (3, 224, 224), got {input_shape!r}")
    dims = [positive_int(d, "input_shape") for d in input_shape]
    if outputs_of is None:
        K = positive_int(1000 if num_classes is None else num_classes, "num_classes")
    elif num_classes is not None:
        raise ValueError(f"give num_classes or outputs_of, not both; got num_classes={num_classes!r} and a layer")
    else:
        from torch import nn

        if not isinstance(outputs_of, nn.Module):
            raise TypeError(f"outputs_of must be a torch.nn.Module (a layer), got {type(outputs_of).__name__}")
        image = dims if len(dims) >= 3 else [1] * (3 - len(dims)) + dims
        K = int(np.prod(layer_output_shape(outputs_of, (1, *image))[1:]))
    p = int(np.prod(dims))
    expected = p * K + K
    got = _as_count(answer)
    if got is None:
        return Feedback(False, f"A parameter count should be a whole number; got {answer!r}.")
    if got == expected:
        return Feedback(True, f"Correct: p K + K = {p:,} × {K:,} + {K:,} = {expected:,}.")
    slips = {p * K: ("p K: the weights only", f"each of the K = {K:,} outputs also has a bias: add K."),
             p * K + p: ("p K + p: one bias per input", "a bias belongs to an output (a class), so there are K of them, not p."),
             p + K: ("p + K", "a dense layer has a weight for every (input, output) pair: multiply p by K."),
             p: ("p, the number of inputs", "that counts the inputs; the layer has a weight per input and class, plus a bias per class."),
             (p + 1) * (K + 1): ("(p + 1)(K + 1)", "there is no bias on the inputs: the count is p K + K = (p + 1) K.")}
    if len(dims) >= 3 and dims[0] > 1:
        per_channel = p // dims[0]
        slips.setdefault(per_channel * K + K, ("the count for one channel only",
                                               f"the {dims[0]} channels are all inputs: p = "
                                               + " × ".join(str(d) for d in dims) + f" = {p:,}."))
    if got in slips:
        what, hint = slips[got]
        return Feedback(False, f"{got:,} is {what}.", [hint])
    hints = []
    if got == expected - K or got == expected + K:
        hints.append("off by K: check the biases.")
    elif expected and abs(got - expected) / expected < 0.01:
        hints.append("close: an arithmetic slip? compute it in code.")
    return Feedback(False, f"You have {got:,}; the count is different.",
                    hints or [f"count p = {' × '.join(str(d) for d in dims)} inputs first, then weights and biases."])


def _diagonal_steps(n: int):
    """Unit step images with an edge along the main diagonal (a function of j - i) and along the other one."""
    i, j = np.indices((n, n))
    return {"main": (j > i).astype(float), "anti": (i + j > n - 1).astype(float)}


@checker
def check_diagonal_kernel(kernel, direction: str = "main") -> Feedback:
    """Check a kernel meant to detect diagonal edges, by what it does to test images.

    Any kernel is accepted that (a) gives 0 on a flat image, (b) responds to a unit step
    whose edge runs along the requested diagonal, and (c) gives exactly 0 on a step whose
    edge runs along the other diagonal. Responses are 'valid' convolutions, Eq. (6.7).

    Parameters
    ----------
    kernel : array_like, shape (K_h, K_v)
        The student's kernel, at least 2 x 2.
    direction : {"main", "anti"}
        ``"main"``: edges running from top-left to bottom-right (like a backslash);
        ``"anti"``: edges running from bottom-left to top-right (like a slash).

    Returns
    -------
    Feedback
        Names the slip: entries that do not sum to zero, the other diagonal, a kernel
        that sees both diagonals alike (a horizontal or vertical detector), or one that
        leaks a response to the other diagonal.

    Notes
    -----
    A step whose edge runs along the anti-diagonal depends on ``i + j`` only; a kernel
    gives it a zero response exactly when the entries on each of its own anti-diagonals
    (``i + j`` constant) add up to zero. Swap the roles for the main diagonal.

    Examples
    --------
    >>> check_diagonal_kernel([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], "main")
    ✔ Correct: your kernel gives 0 on flat patches and on edges along the anti-diagonal, and responds (up to 4) to edges along the main diagonal.
    >>> check_diagonal_kernel([[2, 1, 0], [1, 0, -1], [0, -1, -2]], "main")
    ✘ Your kernel finds edges along the anti-diagonal instead, and gives 0 on edges along the main diagonal.
      hint: mirror it left to right (np.fliplr) or rotate it by 90 degrees.
    """
    check_choice(direction, "direction", ("main", "anti"))
    try:
        k = np.asarray(kernel, dtype=float)
    except (TypeError, ValueError):
        return Feedback(False, f"Your kernel should be a matrix of numbers; got {type(kernel).__name__} {kernel!r}")
    if k.ndim != 2:
        return Feedback(False, f"Your kernel should be a 2-D array (a matrix); got shape {k.shape}.")
    if min(k.shape) < 2:
        return Feedback(False, f"A {k.shape[0]} × {k.shape[1]} kernel cannot compare pixels across a diagonal.",
                        ["use at least a 2 × 2 kernel, e.g. 3 × 3 like the Sobel kernels."])
    other = "anti" if direction == "main" else "main"
    names = {"main": "the main diagonal", "anti": "the anti-diagonal"}
    tol = 1e-9 * max(1.0, np.abs(k).sum())
    if abs(k.sum()) > tol:
        return Feedback(False, f"On a flat patch your kernel gives {k.sum():.4g}, not 0: it would mark every "
                               "uniform region as an edge.", ["make the entries add up to zero."])
    steps = _diagonal_steps(max(12, 3 * max(k.shape)))
    want = np.abs(conv.convolve2d(steps[direction], k)).max()
    leak = np.abs(conv.convolve2d(steps[other], k)).max()
    if want <= tol and leak <= tol:
        return Feedback(False, "Your kernel gives 0 on diagonal edges of both kinds.",
                        ["is it all zeros? It needs positive entries on one side of the diagonal and negative on the other."])
    if want <= tol:
        return Feedback(False, f"Your kernel finds edges along {names[other]} instead, and gives 0 on edges "
                               f"along {names[direction]}.",
                        ["mirror it left to right (np.fliplr) or rotate it by 90 degrees."])
    if leak > tol:
        line = "i + j" if direction == "main" else "i - j"
        hints = [f"the entries on each line {line} = constant of the kernel should add up to zero."]
        if abs(want - leak) <= 1e-6 * want:
            return Feedback(False, f"Your kernel responds equally ({want:.4g}) to edges along both diagonals, as the "
                                   "horizontal and vertical Sobel kernels do: it cannot tell them apart.", hints)
        return Feedback(False, f"Your kernel responds to edges along {names[direction]} (up to {want:.4g}) but also "
                               f"to edges along {names[other]} (up to {leak:.4g}).", hints)
    return Feedback(True, f"Correct: your kernel gives 0 on flat patches and on edges along {names[other]}, "
                          f"and responds (up to {want:.4g}) to edges along {names[direction]}.")
