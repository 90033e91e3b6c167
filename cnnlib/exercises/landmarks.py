"""Checkers for the exercises of Section 6.5: inception modules, residual blocks, ResNet depths and
EfficientNet's compound scaling.

The right answers come from ``cnnlib.models`` (built networks are counted and run) or from
``torch.nn.functional`` in float64; each known slip is computed and, when a student's answer
matches it, named in the feedback.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ._base import Feedback, call_student, compare_arrays, off_by
from ._registry import checker

__all__ = [
    "check_inception_channels",
    "check_inception_params",
    "check_residual_forward",
    "check_resnet_depth",
    "check_compound_scaling",
]


def _whole_number(answer):
    """``(int, None)`` or ``(None, Feedback)`` for an answer that should be a whole number."""
    if isinstance(answer, bool):
        return None, Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    try:
        got = int(answer)
    except (TypeError, ValueError, OverflowError):
        return None, Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    if got != answer:
        return None, Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    return got, None


def _diagnose(got: int, right: int, slips, what: str, done: str) -> Feedback:
    if got == right:
        return Feedback(True, done)
    for value, why in slips:
        if got == value and value != right:
            return Feedback(False, f"{got:,} {why}.")
    return Feedback(False, f"{got:,} is not the {what} ({off_by(got, right)}).")


@checker
def check_inception_channels(answer, in_channels: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int,
                             pool_proj: int) -> Feedback:
    """Check the number of output channels of ``InceptionModule(in_channels, c1, ..., pool_proj)``.

    The four paths are concatenated, so the answer is ``c1 + c3 + c5 + pool_proj``. Diagnoses
    counting the pooling path with the channels that enter its 1 x 1 convolution (the slip of
    the chapter's text on Figure 6.13), adding the reduction layers' channels, leaving out the
    pooling path, and adding the input channels.

    Examples
    --------
    >>> check_inception_channels(256, 192, 64, 96, 128, 16, 32, 32)
    ✔ Correct: 64 + 128 + 32 + 32 = 256 channels leave the module.
    >>> check_inception_channels(416, 192, 64, 96, 128, 16, 32, 32)
    ✘ 416 counts the pooling path with 192 channels, the number entering its 1 x 1 convolution; that convolution turns them into pool_proj = 32.
    """
    from ..models import InceptionModule

    block = InceptionModule(in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)
    got, problem = _whole_number(answer)
    if problem is not None:
        return problem
    right = block.out_channels
    slips = [
        (c1 + c3 + c5 + in_channels, f"counts the pooling path with {in_channels} channels, the number entering its "
                                     f"1 x 1 convolution; that convolution turns them into pool_proj = {pool_proj}"),
        (right + c3_reduce + c5_reduce, "adds the channels of the 1 x 1 reductions too; they feed the 3 x 3 and 5 x 5 "
                                        "convolutions and are not part of the output"),
        (c1 + c3 + c5, "leaves out the pooling path (max-pooling then a 1 x 1 convolution)"),
        (right + in_channels, "adds the input channels; the module concatenates only its four paths' outputs"),
    ]
    return _diagnose(got, right, slips, "number of output channels",
                     f"Correct: {c1} + {c3} + {c5} + {pool_proj} = {right} channels leave the module.")


@checker
def check_inception_params(answer, in_channels: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int,
                           pool_proj: int) -> Feedback:
    """Check the number of learned parameters of an inception module (convolutions with biases).

    The right count is the sum of Eq. (6.23) over its six convolutions, as
    ``sum(p.numel() for p in InceptionModule(...).parameters())`` reports. Diagnoses forgotten
    biases, forgotten 1 x 1 reductions (the big kernels then read all ``in_channels``),
    a forgotten pooling projection and 3 x 3 kernels in the third path.

    Examples
    --------
    >>> check_inception_params(163696, 192, 64, 96, 128, 16, 32, 32)
    ✔ Correct: 163,696 parameters in the six convolutions.
    >>> check_inception_params(163696 - 64 - 96 - 128 - 16 - 32 - 32, 192, 64, 96, 128, 16, 32, 32)
    ✘ 163,328 leaves out the biases: each output channel of each convolution has one (368 in all).
    """
    from ..counting import conv_params
    from ..models import InceptionModule

    block = InceptionModule(in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)
    got, problem = _whole_number(answer)
    if problem is not None:
        return problem
    right = sum(p.numel() for p in block.parameters())
    biases = c1 + c3_reduce + c3 + c5_reduce + c5 + pool_proj
    no_reduce = (conv_params(in_channels, c1, 1) + conv_params(in_channels, c3, 3) + conv_params(in_channels, c5, 5)
                 + conv_params(in_channels, pool_proj, 1))
    slips = [
        (right - biases, f"leaves out the biases: each output channel of each convolution has one ({biases:,} in all)"),
        (no_reduce, "leaves out the 1 x 1 reductions: the 3 x 3 and 5 x 5 kernels read the reduced volumes "
                    f"({c3_reduce} and {c5_reduce} channels), and the reductions have parameters of their own"),
        (right - conv_params(in_channels, pool_proj, 1), "leaves out the 1 x 1 convolution of the pooling path "
                                                         "(the pooling itself has no parameters)"),
        (right - conv_params(c5_reduce, c5, 5) + conv_params(c5_reduce, c5, 3),
         "uses 3 x 3 kernels in the third path; Figure 6.13 has 5 x 5 there"),
    ]
    return _diagnose(got, right, slips, "number of parameters", f"Correct: {right:,} parameters in the six convolutions.")


def _residual_case(seed, shape):
    rng = np.random.default_rng(seed)
    N, C, H, W = shape
    return rng.normal(size=shape), rng.normal(size=(C, C, 3, 3)) / C, rng.normal(size=(C, C, 3, 3)) / C


@checker
def check_residual_forward(student_fn: Callable) -> Feedback:
    """Check ``residual_forward(x, W1, W2)``: Figure 6.14 without batch norm or biases.

    ``x`` has shape (N, C, H, W), ``W1`` and ``W2`` shape (C, C, 3, 3). The block returns
    ``relu(conv(relu(conv(x, W1)), W2) + x)`` with 3 x 3 convolutions padded by 1 on each side
    (as ``torch.nn.functional.conv2d(x, W, padding=1)`` computes them). Diagnoses the missing
    shortcut (a plain block), the ReLU applied before the addition, the missing middle ReLU,
    the kernels flipped (a true convolution instead of the layers' cross-correlation) and
    convolutions without padding.

    Examples
    --------
    >>> import torch, torch.nn.functional as F
    >>> def right(x, W1, W2):
    ...     x, W1, W2 = (torch.as_tensor(a) for a in (x, W1, W2))
    ...     return F.relu(F.conv2d(F.relu(F.conv2d(x, W1, padding=1)), W2, padding=1) + x).numpy()
    >>> check_residual_forward(right)
    ✔ Correct on all 3 test cases: relu(r(x) + x) with r = conv, relu, conv.
    >>> def plain(x, W1, W2):
    ...     x, W1, W2 = (torch.as_tensor(a) for a in (x, W1, W2))
    ...     return F.relu(F.conv2d(F.relu(F.conv2d(x, W1, padding=1)), W2, padding=1)).numpy()
    >>> check_residual_forward(plain)
    ✘ Case 1 (x of shape (2, 3, 5, 5)): your output has the right shape but its values are off: it matches what you get when the shortcut is missing: add the input x to r(x) before the last ReLU.
    """
    import torch
    import torch.nn.functional as F

    def conv(v, W, padding=1, flip=False):
        W = torch.as_tensor(W)
        return F.conv2d(v, W.flip(-1, -2) if flip else W, padding=padding)

    cases = [(2, 3, 5, 5), (1, 4, 6, 4), (3, 2, 3, 7)]
    for k, shape in enumerate(cases, start=1):
        x, W1, W2 = _residual_case(k, shape)
        got, problem = call_student(student_fn, x.copy(), W1.copy(), W2.copy())
        if problem is not None:
            return problem
        t = torch.as_tensor(x)
        r = conv(F.relu(conv(t, W1)), W2)
        expected = F.relu(r + t).numpy()
        variants = {
            "the shortcut is missing: add the input x to r(x) before the last ReLU": F.relu(r).numpy(),
            "the ReLU was applied to r(x) before adding x: Figure 6.14 adds first, then applies the ReLU":
                (F.relu(r) + t).numpy(),
            "the ReLU between the two convolutions is missing": F.relu(conv(conv(t, W1), W2) + t).numpy(),
            "the kernels were flipped: layers compute a cross-correlation (F.conv2d), not the flipped convolution":
                F.relu(conv(F.relu(conv(t, W1, flip=True)), W2, flip=True) + t).numpy(),
            "no final ReLU was applied": (r + t).numpy(),
        }
        fb = compare_arrays(got, expected, what="your output", variants=variants,
                            shape_hints={(shape[0], shape[1], shape[2] - 4, shape[3] - 4):
                                         "each 3 x 3 convolution lost a border: pad by 1 on each side so that "
                                         "r(x) has the shape of x and the two can be added"},
                            rtol=1e-5, atol=1e-6)  # float32 answers are right too
        if not fb:
            fb.message = f"Case {k} (x of shape {shape}): {fb.message}"
            return fb
    return Feedback(True, f"Correct on all {len(cases)} test cases: relu(r(x) + x) with r = conv, relu, conv.")


@checker
def check_resnet_depth(answer, n: int) -> Feedback:
    """Check the depth (layers with weights) of a small-image ResNet with ``n`` blocks per stage.

    The network has a 3 x 3 stem convolution, three stages of ``n`` residual blocks of two
    convolutions each and one dense layer: ``6 n + 2``, as ``models.resnet(6 n + 2)`` is
    built. Diagnoses ``6 n`` (stem and dense layer left out), ``6 n + 1``, ``3 n + 2`` (blocks
    counted instead of convolutions), and the 1 x 1 projection shortcuts counted.

    Examples
    --------
    >>> check_resnet_depth(56, 9)
    ✔ Correct: 1 + 3 x 9 x 2 + 1 = 56 layers with weights (models.resnet(56)).
    >>> check_resnet_depth(54, 9)
    ✘ 54 counts the convolutions of the blocks but leaves out the stem convolution and the dense layer.
    """
    from .._validation import positive_int
    from ..models import resnet

    n = positive_int(n, "n")
    got, problem = _whole_number(answer)
    if problem is not None:
        return problem
    right = 6 * n + 2
    with torch.device("meta"):  # the family has this depth (built without memory: n may be 200)
        resnet(right)
    slips = [
        (6 * n, "counts the convolutions of the blocks but leaves out the stem convolution and the dense layer"),
        (6 * n + 1, "leaves out one of the stem convolution and the dense layer"),
        (3 * n + 2, "counts each block once; a block holds two convolutions"),
        (6 * n + 4, "counts the two 1 x 1 projection shortcuts too; by convention only the path through the "
                    "blocks is counted"),
    ]
    return _diagnose(got, right, slips, "depth", f"Correct: 1 + 3 x {n} x 2 + 1 = {right} layers with weights "
                                                 f"(models.resnet({right})).")


@checker
def check_compound_scaling(answer, phi, *, alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15) -> Feedback:
    """Check ``(depth, width, resolution_factor)`` multipliers of EfficientNet's compound scaling for ``phi``.

    The rule of Tan and Le (2019) scales depth by ``alpha**phi``, width by ``beta**phi`` and
    resolution by ``gamma**phi`` (:func:`cnnlib.models.compound_scaling`). Diagnoses the
    multipliers in the wrong order, ``1 + phi * (alpha - 1)`` (linear instead of a power) and
    ``phi * alpha``.

    Examples
    --------
    >>> check_compound_scaling((1.2 ** 3, 1.1 ** 3, 1.15 ** 3), 3)
    ✔ Correct: depth x1.728, width x1.331, resolution x1.521 for phi = 3.
    >>> check_compound_scaling((1.728, 1.331, 1.521), 3)  # rounded to three decimals
    ✔ Correct: depth x1.728, width x1.331, resolution x1.521 for phi = 3.
    >>> check_compound_scaling((1.1 ** 3, 1.2 ** 3, 1.15 ** 3), 3)
    ✘ Your answer has the right shape but its values are off: it matches what you get when depth and width are swapped: alpha = 1.2 scales the depth, beta = 1.1 the width.
    """
    from ..models import compound_scaling

    s = compound_scaling(phi, alpha=alpha, beta=beta, gamma=gamma)
    expected = np.array([s["depth"], s["width"], gamma ** phi])
    base = np.array([alpha, beta, gamma])
    # rtol 1e-3: multipliers rounded to three decimals, as printed, are right too
    fb = compare_arrays(answer, expected, what="Your answer", rtol=1e-3, atol=1e-9, variants={
        "depth and width are swapped: alpha = 1.2 scales the depth, beta = 1.1 the width":
            expected[[1, 0, 2]],
        "the multipliers grow linearly, 1 + phi (alpha - 1); compound scaling raises them to the power phi":
            1 + phi * (base - 1),
        "each base was multiplied by phi; compound scaling raises it to the power phi": phi * base,
        "the resolution was given in pixels; give its factor gamma**phi (224 gamma**phi pixels)":
            np.array([s["depth"], s["width"], 224 * gamma ** phi]),
    })
    if fb:
        fb.message = (f"Correct: depth x{expected[0]:.4g}, width x{expected[1]:.4g}, resolution x{expected[2]:.4g} "
                      f"for phi = {phi}.")
    return fb
