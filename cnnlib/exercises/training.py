"""Checkers for the exercises of Section 6.4: 1x1 convolutions and their cost, normalization,
dropout, evaluation, freezing.

The right answers come from PyTorch (``torch.nn.functional.batch_norm``,
``torch.nn.functional.group_norm``) in float64, or from counting; each known slip is
computed in NumPy and, when a student's answer matches it, named in the feedback.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ._base import Feedback, call_student, compare_arrays, off_by
from ._registry import checker

__all__ = [
    "check_batch_norm",
    "check_group_norm",
    "check_dropout",
    "check_confusion_matrix",
    "check_trainable_count",
    "check_pointwise_conv",
    "check_conv_macs",
]


def _standardize(z, axes, *, eps, ddof=0, eps_on_std=False):
    mean = z.mean(axis=axes, keepdims=True)
    var = z.var(axis=axes, keepdims=True, ddof=ddof)
    scale = np.sqrt(var) + eps if eps_on_std else np.sqrt(var + eps)
    return (z - mean) / scale


def _affine(zbar, gamma, beta):
    return gamma[None, :, None, None] * zbar + beta[None, :, None, None]


def _torch_reference(kind, z, gamma, beta, eps, num_groups=None):
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(z, dtype=torch.float64)
    g, b = torch.as_tensor(gamma, dtype=torch.float64), torch.as_tensor(beta, dtype=torch.float64)
    if kind == "batch":
        out = F.batch_norm(t, None, None, weight=g, bias=b, training=True, eps=eps)
    else:
        out = F.group_norm(t, num_groups, weight=g, bias=b, eps=eps)
    return out.numpy()


def _norm_case(seed, shape):
    """A mini-batch whose channels have clearly different means and spreads, and gamma, beta."""
    rng = np.random.default_rng(seed)
    N, C, H, W = shape
    z = rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=(1, C, 1, 1)) + rng.uniform(-4, 4, size=(1, C, 1, 1))
    z += rng.uniform(-1, 1, size=(N, 1, 1, 1))  # and samples differ too, so per-sample statistics differ
    return z, rng.uniform(0.5, 2.0, size=C), rng.uniform(-1.0, 1.0, size=C)


@checker
def check_batch_norm(student_fn: Callable) -> Feedback:
    """Check ``batch_norm(z, gamma, beta, eps)``: batch normalization in training mode, Eq. (6.26).

    ``z`` has shape (N, C, H, W); ``gamma`` and ``beta`` shape (C,). The answer must
    standardize each channel with the mean and the biased variance taken over the mini-batch
    *and* all spatial positions (as ``torch.nn.BatchNorm2d`` does in training mode), then
    apply ``gamma[j] * zbar + beta[j]`` per channel ``j``. Diagnoses statistics over the wrong
    axes (per position, per sample, per sample and channel, over everything), the unbiased
    variance, a missing ``eps`` or one added to the standard deviation, and a missing or
    swapped ``gamma``/``beta``.

    Examples
    --------
    >>> def right(z, gamma, beta, eps):
    ...     mean = z.mean(axis=(0, 2, 3), keepdims=True)
    ...     var = z.var(axis=(0, 2, 3), keepdims=True)
    ...     return gamma[None, :, None, None] * (z - mean) / np.sqrt(var + eps) + beta[None, :, None, None]
    >>> check_batch_norm(right)
    ✔ Correct on all 3 test cases: per-channel statistics over the batch and the positions, biased variance, eps inside the square root.
    >>> def per_sample(z, gamma, beta, eps):
    ...     mean = z.mean(axis=(1, 2, 3), keepdims=True)
    ...     var = z.var(axis=(1, 2, 3), keepdims=True)
    ...     return gamma[None, :, None, None] * (z - mean) / np.sqrt(var + eps) + beta[None, :, None, None]
    >>> check_batch_norm(per_sample)
    ✘ Case 1 (z of shape (4, 3, 5, 6), eps=0.1): your output has the right shape but its values are off: it matches what you get when the statistics were taken per sample over (C, H, W) (that is layer normalization); batch normalization averages each channel over the batch and the positions: axes (0, 2, 3).
    """
    cases = [((4, 3, 5, 6), 0.1), ((2, 5, 3, 3), 0.05), ((8, 2, 4, 7), 0.2)]
    for k, (shape, eps) in enumerate(cases, start=1):
        z, gamma, beta = _norm_case(k, shape)
        got, problem = call_student(student_fn, z.copy(), gamma.copy(), beta.copy(), eps)
        if problem is not None:
            return problem
        expected = _torch_reference("batch", z, gamma, beta, eps)
        per_channel = (0, 2, 3)
        variants = {
            "the statistics were taken per sample over (C, H, W) (that is layer normalization); batch "
            "normalization averages each channel over the batch and the positions: axes (0, 2, 3)":
                _affine(_standardize(z, (1, 2, 3), eps=eps), gamma, beta),
            "the statistics were taken per sample and per channel over (H, W) (that is instance "
            "normalization); batch normalization also averages over the mini-batch: axes (0, 2, 3)":
                _affine(_standardize(z, (2, 3), eps=eps), gamma, beta),
            "the statistics were taken per position (i, j) over the mini-batch only (the chapter's "
            "wording reads that way); convolutional batch normalization shares them across positions: axes (0, 2, 3)":
                _affine(_standardize(z, 0, eps=eps), gamma, beta),
            "one mean and one variance were taken over the whole tensor; each channel needs its own: axes (0, 2, 3)":
                _affine(_standardize(z, (0, 1, 2, 3), eps=eps), gamma, beta),
            "the variance was divided by m - 1 (unbiased, ddof=1); normalization uses the biased variance (divide by m)":
                _affine(_standardize(z, per_channel, eps=eps, ddof=1), gamma, beta),
            "eps was left out; it goes inside the square root: sqrt(var + eps)":
                _affine(_standardize(z, per_channel, eps=0.0), gamma, beta),
            "eps was added to the standard deviation; it goes inside the square root: sqrt(var + eps)":
                _affine(_standardize(z, per_channel, eps=eps, eps_on_std=True), gamma, beta),
            "gamma and beta were not applied (that is only the standardized zbar of (6.26))":
                _standardize(z, per_channel, eps=eps),
            "gamma and beta were swapped: (6.26) scales by gamma and then adds beta":
                _affine(_standardize(z, per_channel, eps=eps), beta, gamma),
        }
        fb = compare_arrays(got, expected, what="your output", variants=variants, rtol=1e-6, atol=1e-8)
        if not fb:
            fb.message = f"Case {k} (z of shape {shape}, eps={eps}): {fb.message}"
            return fb
    return Feedback(True, f"Correct on all {len(cases)} test cases: per-channel statistics over the batch "
                          "and the positions, biased variance, eps inside the square root.")


def _group_standardize(z, G, *, eps, ddof=0, over_batch=False, round_robin=False):
    N, C, H, W = z.shape
    if round_robin:  # channel c in group c % G
        order = np.argsort(np.arange(C) % G, kind="stable")
        out = np.empty_like(z)
        out[:, order] = _group_standardize(z[:, order], G, eps=eps, ddof=ddof, over_batch=over_batch)
        return out
    grouped = z.reshape(N, G, C // G, H, W)
    axes = (0, 2, 3, 4) if over_batch else (2, 3, 4)
    return _standardize(grouped, axes, eps=eps, ddof=ddof).reshape(N, C, H, W)


@checker
def check_group_norm(student_fn: Callable) -> Feedback:
    """Check ``group_norm(z, num_groups, gamma, beta, eps)``: group normalization (Wu and He, 2018).

    ``z`` has shape (N, C, H, W) and the C channels form ``num_groups`` groups of consecutive
    channels (channels ``0 .. C/G - 1`` are group 0, and so on). Each sample is standardized
    with the mean and biased variance over its own group of channels and all positions (never
    over the mini-batch), then ``gamma[j] * zbar + beta[j]`` is applied per *channel* ``j``,
    as ``torch.nn.GroupNorm`` does. Diagnoses statistics that include the mini-batch (the
    chapter's wording), channels grouped round-robin, statistics per channel or per sample,
    the unbiased variance and a missing ``eps``.

    Examples
    --------
    >>> def right(z, num_groups, gamma, beta, eps):
    ...     N, C, H, W = z.shape
    ...     g = z.reshape(N, num_groups, -1)
    ...     zbar = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)
    ...     return gamma[None, :, None, None] * zbar.reshape(z.shape) + beta[None, :, None, None]
    >>> check_group_norm(right)
    ✔ Correct on all 4 test cases (G = 2, 3, 1 and C): statistics per sample and group, gamma and beta per channel.
    >>> def with_batch(z, num_groups, gamma, beta, eps):
    ...     N, C, H, W = z.shape
    ...     g = z.reshape(N, num_groups, -1)
    ...     mean, var = g.mean((0, 2), keepdims=True), g.var((0, 2), keepdims=True)
    ...     zbar = ((g - mean) / np.sqrt(var + eps)).reshape(z.shape)
    ...     return gamma[None, :, None, None] * zbar + beta[None, :, None, None]
    >>> check_group_norm(with_batch)
    ✘ Case 1 (z of shape (3, 6, 4, 5), 2 groups): your output has the right shape but its values are off: it matches what you get when the statistics were also averaged over the mini-batch (as the chapter's wording suggests); group normalization uses each sample on its own, so it behaves the same for a batch of one.
    """
    cases = [((3, 6, 4, 5), 2, 0.1), ((2, 6, 3, 3), 3, 0.05), ((4, 4, 3, 5), 1, 0.1), ((2, 4, 5, 4), 4, 0.2)]
    for k, (shape, G, eps) in enumerate(cases, start=1):
        z, gamma, beta = _norm_case(10 + k, shape)
        got, problem = call_student(student_fn, z.copy(), G, gamma.copy(), beta.copy(), eps)
        if problem is not None:
            return problem
        expected = _torch_reference("group", z, gamma, beta, eps, num_groups=G)
        C = shape[1]
        variants = {
            "the statistics were also averaged over the mini-batch (as the chapter's wording suggests); "
            "group normalization uses each sample on its own, so it behaves the same for a batch of one":
                _affine(_group_standardize(z, G, eps=eps, over_batch=True), gamma, beta),
            "channel c was put in group c % G (round-robin); groups are blocks of C/G consecutive channels":
                _affine(_group_standardize(z, G, eps=eps, round_robin=True), gamma, beta),
            "every channel got its own statistics (that is instance normalization, the case G = C)":
                _affine(_standardize(z, (2, 3), eps=eps), gamma, beta),
            "each sample was standardized over all its channels at once (that is the case G = 1)":
                _affine(_standardize(z, (1, 2, 3), eps=eps), gamma, beta),
            "the statistics were per channel over the batch and the positions (that is batch normalization)":
                _affine(_standardize(z, (0, 2, 3), eps=eps), gamma, beta),
            "the variance was divided by m - 1 (unbiased); normalization uses the biased variance":
                _affine(_group_standardize(z, G, eps=eps, ddof=1), gamma, beta),
            "eps was left out; it goes inside the square root: sqrt(var + eps)":
                _affine(_group_standardize(z, G, eps=0.0), gamma, beta),
            "gamma and beta were not applied":
                _group_standardize(z, G, eps=eps),
        }
        # a variant equal to the right answer (G = C makes "instance normalization" right) is no slip
        variants = {r: v for r, v in variants.items() if not np.allclose(v, expected, rtol=1e-6, atol=1e-8)}
        fb = compare_arrays(got, expected, what="your output", variants=variants, rtol=1e-6, atol=1e-8)
        if not fb:
            fb.message = f"Case {k} (z of shape {shape}, {G} group{'s' if G > 1 else ''}): {fb.message}"
            return fb
    return Feedback(True, f"Correct on all {len(cases)} test cases (G = 2, 3, 1 and C): statistics per sample "
                          "and group, gamma and beta per channel.")


@checker
def check_dropout(student_fn: Callable, p: float = 0.3) -> Feedback:
    """Check ``dropout(x, p, rng)``: inverted dropout in training mode.

    Each entry of ``x`` must be set to zero with probability ``p`` (independently, using the
    NumPy generator ``rng``) and every kept entry divided by ``1 - p``, so that the expected
    output equals ``x``. The checker feeds a large constant array and looks at the fraction
    of zeros and at the kept values; it diagnoses ``p`` used as the keep probability, a
    missing ``1/(1 - p)`` scaling, a multiplication by ``1 - p`` instead, a mask ignoring
    ``rng``, and whole rows or columns dropped together.

    Examples
    --------
    >>> def right(x, p, rng):
    ...     keep = rng.random(x.shape) >= p
    ...     return x * keep / (1 - p)
    >>> check_dropout(right)
    ✔ Correct: about 29.9% of the entries are zeroed (expected 30%) and the kept ones are scaled by 1/(1 - p), so the mean is preserved.
    >>> check_dropout(lambda x, p, rng: x * (rng.random(x.shape) >= p))
    ✘ The right entries are zeroed, but the kept ones are unchanged: divide them by 1 - p (inverted dropout), or the expected activation shrinks to (1 - p) x and differs between training and evaluation.
    """
    x = np.full((200, 500), 2.0)
    got, problem = call_student(student_fn, x.copy(), p, np.random.default_rng(0))
    if problem is not None:
        return problem
    got = np.asarray(got, dtype=float)
    if got.shape != x.shape:
        return Feedback(False, f"The output has shape {got.shape}; dropout keeps the input's shape {x.shape}.")
    again, _ = call_student(student_fn, x.copy(), p, np.random.default_rng(0))
    other, _ = call_student(student_fn, x.copy(), p, np.random.default_rng(1))
    zero = np.isclose(got, 0.0)
    frac = zero.mean()
    kept = np.unique(np.round(got[~zero], 9))
    tol = 0.01  # 100,000 entries: the fraction's standard deviation is about 0.0015
    if np.all(zero) or frac == 0:
        return Feedback(False, f"{'Every' if frac else 'No'} entry was zeroed; each should be zeroed with probability p = {p}.")
    if not np.array_equal(np.asarray(again), got) or np.array_equal(np.asarray(other), got):
        return Feedback(False, "The mask does not come from rng: use rng.random(x.shape) (or rng.binomial) so that "
                               "the same generator gives the same mask and a different one a different mask.")
    rows, cols = zero.all(axis=1).mean(), zero.all(axis=0).mean()
    if rows > 0.2 or cols > 0.2:
        return Feedback(False, "Whole rows or columns are zeroed together; plain dropout zeroes each entry independently "
                               "(dropping whole channels is Dropout2d).")
    if abs(frac - (1 - p)) < tol and abs(frac - p) > tol:
        return Feedback(False, f"About {100 * frac:.1f}% of the entries are zeroed, that is 1 - p: p is the probability "
                               f"of dropping an entry, not of keeping it.")
    if abs(frac - p) > tol:
        return Feedback(False, f"About {100 * frac:.1f}% of the entries are zeroed; expected {100 * p:.0f}% (p = {p}).")
    if len(kept) == 1 and np.isclose(kept[0], 2.0):
        return Feedback(False, "The right entries are zeroed, but the kept ones are unchanged: divide them by 1 - p "
                               "(inverted dropout), or the expected activation shrinks to (1 - p) x and differs "
                               "between training and evaluation.")
    if len(kept) == 1 and np.isclose(kept[0], 2.0 * (1 - p)):
        return Feedback(False, "The kept entries were multiplied by 1 - p; in training, inverted dropout divides them "
                               "by 1 - p (multiplying by 1 - p is what the original, non-inverted dropout does at test time).")
    if len(kept) == 1 and np.isclose(kept[0], 2.0 / (1 - p)):
        return Feedback(True, f"Correct: about {100 * frac:.1f}% of the entries are zeroed (expected {100 * p:.0f}%) and the "
                              "kept ones are scaled by 1/(1 - p), so the mean is preserved.")
    return Feedback(False, f"The kept entries should all equal x / (1 - p) = {2.0 / (1 - p):.6g} for x = 2; "
                           f"got values such as {kept[:3].tolist()}.")


@checker
def check_confusion_matrix(answer, y_true, y_pred, num_classes: int | None = None) -> Feedback:
    """Check a confusion matrix ``C`` with ``C[i, j]`` = number of examples of true class ``i`` predicted as ``j``.

    Diagnoses the transposed convention (rows = predictions), rows or columns normalized to
    fractions instead of counts, and a wrong number of classes.

    Examples
    --------
    >>> y_true, y_pred = [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]
    >>> C = np.zeros((3, 3), int)
    >>> for t, p in zip(y_true, y_pred): C[t, p] += 1
    >>> check_confusion_matrix(C, y_true, y_pred)
    ✔ Correct: the confusion matrix matches (shape (3, 3)).
    >>> check_confusion_matrix(C.T, y_true, y_pred)
    ✘ The confusion matrix has the right shape but its values are off: it matches what you get when rows and columns are swapped: row i should be the true class i, column j the predicted class j.
    """
    y_true = np.asarray(getattr(y_true, "cpu", lambda: y_true)()).astype(int).ravel()
    y_pred = np.asarray(getattr(y_pred, "cpu", lambda: y_pred)()).astype(int).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}")
    K = int(num_classes) if num_classes is not None else int(max(y_true.max(), y_pred.max())) + 1
    expected = np.zeros((K, K))
    np.add.at(expected, (y_true, y_pred), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = np.nan_to_num(expected / expected.sum(1, keepdims=True))
        cols = np.nan_to_num(expected / expected.sum(0, keepdims=True))
    return compare_arrays(
        answer, expected, what="The confusion matrix",
        variants={"rows and columns are swapped: row i should be the true class i, column j the predicted class j": expected.T,
                  "each row is divided by its total (fractions per true class); count the examples instead": rows,
                  "each column is divided by its total; count the examples instead": cols},
        shape_hints={(K - 1, K - 1): f"one class is missing: there are {K} classes, 0..{K - 1}",
                     (K + 1, K + 1): f"one class too many: there are {K} classes, 0..{K - 1}"},
    )


@checker
def check_trainable_count(answer, model) -> Feedback:
    """Check the number of trainable parameters of ``model`` (after some layers are frozen).

    Diagnoses counting every parameter (frozen ones too), counting only the frozen ones,
    and forgetting the biases.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    >>> net[0].requires_grad_(False)  # doctest: +ELLIPSIS
    Linear(...)
    >>> check_trainable_count(8, net)
    ✔ Correct: 8 parameters are trained.
    >>> check_trainable_count(23, net)
    ✘ 23 is the number of all parameters, frozen ones included; only those with requires_grad=True are trained (8).
    """
    params = list(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    frozen = total - trainable
    weights_only = sum(p.numel() for p in params if p.requires_grad and p.ndim > 1)
    try:
        got = int(answer)
    except (TypeError, ValueError):
        return Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    if got != answer:
        return Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    if got == trainable:
        return Feedback(True, f"Correct: {trainable:,} parameters are trained.")
    if got == total:
        return Feedback(False, f"{got:,} is the number of all parameters, frozen ones included; only those with "
                               f"requires_grad=True are trained ({trainable:,}).")
    if got == frozen:
        return Feedback(False, f"{got:,} is the number of frozen parameters; the question asks for the trained ones.")
    if got == weights_only:
        return Feedback(False, f"{got:,} counts the weights but not the biases: each output unit or channel has one bias too.")
    return Feedback(False, f"{got:,} is not the number of trainable parameters ({trainable:,} trainable of {total:,}).")


def _pointwise_case(seed, shape, K):
    rng = np.random.default_rng(seed)
    N, C, H, W = shape
    return rng.normal(size=shape), rng.normal(size=(K, C)), rng.normal(size=K)


@checker
def check_pointwise_conv(student_fn: Callable) -> Feedback:
    """Check ``pointwise_conv(x, W, b)``: a 1 x 1 convolution, Eq. (6.25) at every pixel.

    ``x`` has shape (N, C, H, W), ``W`` shape (K, C) and ``b`` shape (K,); the answer must
    have shape (N, K, H, W) with ``out[n, k, i, j] = sum_c W[k, c] x[n, c, i, j] + b[k]``,
    what ``torch.nn.functional.conv2d`` computes with a kernel of shape (K, C, 1, 1). Diagnoses
    the transposed weight matrix, a missing bias, a bias added to the input channels, the
    channels-last layout (N, H, W, K), and outputs summed or averaged over the positions.

    Examples
    --------
    >>> check_pointwise_conv(lambda x, W, b: np.einsum("kc,nchw->nkhw", W, x) + b[None, :, None, None])
    ✔ Correct on all 3 test cases: each output channel is a weighted sum of the input channels at the same pixel, plus its bias.
    >>> check_pointwise_conv(lambda x, W, b: np.einsum("kc,nchw->nkhw", W, x))
    ✘ Case 1 (x of shape (2, 4, 3, 5), W of shape (4, 4)): your output has the right shape but its values are off: it matches what you get when the bias b was left out: add b[k] to every pixel of output channel k.
    """
    import torch
    import torch.nn.functional as F

    cases = [((2, 4, 3, 5), 4), ((1, 3, 4, 4), 5), ((3, 5, 2, 6), 2)]  # K == C first: W.T fits there
    for k, (shape, K) in enumerate(cases, start=1):
        x, W, b = _pointwise_case(k, shape, K)
        got, problem = call_student(student_fn, x.copy(), W.copy(), b.copy())
        if problem is not None:
            return problem
        C = shape[1]
        expected = F.conv2d(torch.as_tensor(x), torch.as_tensor(W).reshape(K, C, 1, 1), torch.as_tensor(b)).numpy()
        mixed = np.einsum("kc,nchw->nkhw", W, x)
        variants = {
            "the bias b was left out: add b[k] to every pixel of output channel k": mixed,
            "the input is returned unchanged: the output channels are the rows of W times the input channels": x,
        }
        if K == C:  # a transposed W has the right shape only then
            variants["W was transposed: W[k, c] weights input channel c in output channel k, so sum over "
                     "the second index of W"] = np.einsum("ck,nchw->nkhw", W, x) + b[None, :, None, None]
            variants["the bias was added to the input channels before mixing: it belongs to the output "
                     "channel, after the sum"] = np.einsum("kc,nchw->nkhw", W, x + b[None, :, None, None])
        hints = {(shape[0], shape[2], shape[3], K): "that is the channels-last layout (N, H, W, K); "
                                                    "PyTorch and this book put channels second: (N, K, H, W)",
                 (shape[0], K): "the positions were summed or averaged away; a 1 x 1 convolution keeps H and W",
                 (shape[0], C, shape[2], shape[3]): f"that is the input's shape: there should be K = {K} output "
                                                    f"channels, one per row of W"}
        hints = {s: h for s, h in hints.items() if s != expected.shape}
        fb = compare_arrays(got, expected, what="your output", variants=variants, shape_hints=hints,
                            rtol=1e-7, atol=1e-9)
        if not fb:
            fb.message = f"Case {k} (x of shape {shape}, W of shape {W.shape}): {fb.message}"
            return fb
    return Feedback(True, f"Correct on all {len(cases)} test cases: each output channel is a weighted sum of the "
                          "input channels at the same pixel, plus its bias.")


@checker
def check_conv_macs(answer, in_channels: int, out_channels: int, kernel_size, output_size) -> Feedback:
    """Check a count of the multiply-adds of one convolutional layer (biases not counted).

    Each of the ``out_channels x H_out x W_out`` outputs is a sum of
    ``in_channels x K_h x K_v`` products, so the layer costs
    ``out_channels * H_out * W_out * in_channels * K_h * K_v`` multiply-adds. Diagnoses the
    cost of a single output position, of a single output channel, the number of
    parameters (with or without biases) instead of the work, and a missing ``in_channels``
    or kernel size.

    Parameters
    ----------
    answer : int
        The student's count.
    in_channels, out_channels : int
        Channels entering and leaving the layer.
    kernel_size : int or (int, int)
        Height and width of the kernels.
    output_size : int or (int, int)
        Height and width of each output channel.

    Examples
    --------
    >>> check_conv_macs(28 * 28 * 32 * 192 * 5 * 5, 192, 32, 5, 28)
    ✔ Correct: 120,422,400 multiply-adds (32 x 28 x 28 outputs, 192 x 5 x 5 products each).
    >>> check_conv_macs(32 * 192 * 5 * 5, 192, 32, 5, 28)
    ✘ 153,600 is the cost of one output position (all 32 channels); the layer computes one for each of the 28 x 28 positions.
    """
    from .._validation import pair, positive_int

    in_channels = positive_int(in_channels, "in_channels")
    out_channels = positive_int(out_channels, "out_channels")
    kh, kw = pair(kernel_size, "kernel_size")
    ho, wo = pair(output_size, "output_size")
    per_output = in_channels * kh * kw
    macs = out_channels * ho * wo * per_output
    if isinstance(answer, bool):
        return Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    try:
        got = int(answer)
    except (TypeError, ValueError, OverflowError):
        return Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    if got != answer:
        return Feedback(False, f"The answer should be a whole number; got {answer!r}.")
    if got == macs:
        return Feedback(True, f"Correct: {macs:,} multiply-adds ({out_channels} x {ho} x {wo} outputs, "
                              f"{in_channels} x {kh} x {kw} products each).")
    weights = out_channels * per_output
    slips = [
        (out_channels * per_output, f"is the cost of one output position (all {out_channels} channels); the layer "
                                    f"computes one for each of the {ho} x {wo} positions"),
        (ho * wo * per_output, f"is the cost of one output channel; there are {out_channels} of them"),
        (weights + out_channels, "is the number of parameters (weights and biases), not of multiply-adds: each "
                                 f"weight is used once per output position, {ho} x {wo} times"),
        (out_channels * ho * wo * kh * kw, f"leaves out the {in_channels} input channels: each kernel spans all of them"),
        (out_channels * ho * wo * in_channels, f"leaves out the {kh} x {kw} kernel positions"),
    ]
    slips.append((2 * macs, "counts FLOPs, a multiplication and an addition each, which is twice the number of "
                            "multiply-adds; give the multiply-adds"))
    per_position = out_channels * per_output
    side = math.isqrt(got // per_position) if got > 0 and got % per_position == 0 else 0
    if side > 0 and side * side * per_position == got and (side, side) != (ho, wo):
        slips.append((got, f"uses {side} x {side} output positions; this layer's output is {ho} x {wo} (the input's "
                           f"size is not the output's: the stride and the padding change it)"))
    for value, why in slips:
        if got == value and value != macs:
            return Feedback(False, f"{got:,} {why}.")
    if got == weights and weights != macs:
        return Feedback(False, f"{got:,} is the number of weights, not of multiply-adds: each weight is used once per "
                               f"output position, {ho} x {wo} times.")
    return Feedback(False, f"{got:,} is not the count ({off_by(got, macs)}); multiply the outputs "
                           f"(channels x height x width) by the products per output (in_channels x K_h x K_v).")
