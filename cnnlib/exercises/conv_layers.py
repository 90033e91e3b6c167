"""Checkers for the exercises of Section 6.3: output sizes (6.17), "same" padding, parameter counts (6.23), conv layers.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.3 (Eqs. (6.16)–(6.21), (6.23)).
"""
from __future__ import annotations

import functools

import numpy as np

from .. import counting, layers, shapes
from .._validation import check_choice, nonnegative_int, pair, positive_int
from ._base import Feedback, _as_count, call_student, check_output_shape, compare_arrays, layer_output_shape
from ._registry import checker

__all__ = ["check_output_size", "check_same_padding", "check_conv_params", "check_conv2d", "check_layer_output_shape",
           "check_conv_weight_shape"]

#: Settings ``(M, K, p, s, d)`` on which :func:`check_output_size` tries a function: p is total padding.
OUTPUT_SIZE_CASES = ((6, 3, 0, 1, 1), (6, 3, 2, 1, 1), (10, 3, 0, 5, 1), (7, 3, 0, 2, 1), (9, 3, 2, 2, 2),
                     (12, 3, 2, 2, 2), (224, 3, 2, 1, 1), (8, 2, 2, 3, 1), (11, 5, 4, 2, 1), (15, 3, 0, 1, 3),
                     (13, 4, 1, 3, 2), (20, 5, 0, 4, 1))


def _size_variants(per_side: bool):
    """Known wrong versions of Eq. (6.17) and what each reveals; p is what the student was given."""
    def total(p):
        return 2 * p if per_side else p
    return {
        "the + 1 is missing: the first window counts too (Eq. (6.17) ends with + 1)":
            lambda M, K, p, s, d: (M + total(p) - d * (K - 1) - 1) // s,
        ("the padding was doubled: p is already the total number of added rows (the chapter's p_h), "
         "not the rows on each side" if not per_side else
         "the padding was counted once: PyTorch's padding is per side, so 2 * padding rows are added in total"):
            lambda M, K, p, s, d: (M + (p if per_side else 2 * p) - d * (K - 1) - 1) // s + 1,
        "the dilation was ignored: the kernel covers d (K - 1) + 1 pixels, not K":
            lambda M, K, p, s, d: (M + total(p) - K) // s + 1,
        "the effective kernel was taken as d K instead of d (K - 1) + 1":
            lambda M, K, p, s, d: (M + total(p) - d * K) // s + 1,
        "you rounded up: Eq. (6.17) rounds down (a last window that does not fit is dropped)":
            lambda M, K, p, s, d: -(-(M + total(p) - d * (K - 1) - 1) // s) + 1,
        "the stride was ignored (that is the stride-1 size, Eq. (6.18))":
            lambda M, K, p, s, d: M + total(p) - d * (K - 1),
        "you divided everything, + 1 included, by the stride":
            lambda M, K, p, s, d: (M + total(p) - d * (K - 1) - 1 + 1) // s,
    }


@checker
def check_output_size(student_fn, padding: str = "total") -> Feedback:
    """Check a function ``student_fn(M, K, p, s, d)`` that returns the output size of Eq. (6.17) along one axis.

    Parameters
    ----------
    student_fn : callable
        ``student_fn(M, K, p, s, d) -> int`` for input size M, kernel size K, padding p,
        stride s and dilation d (all ints).
    padding : {'total', 'per_side'}, default 'total'
        What ``p`` means: the chapter's total number of added rows (``'total'``) or
        PyTorch's rows on each side (``'per_side'``).

    Returns
    -------
    Feedback
        Truthy when the function agrees with :func:`cnnlib.shapes.output_size` on
        :data:`OUTPUT_SIZE_CASES`; otherwise names the slip: the missing + 1, per-side and
        total padding mixed up, dilation ignored or taken as ``d K``, rounding up, the
        stride ignored; or shows the first setting where the function is off.

    Examples
    --------
    >>> check_output_size(lambda M, K, p, s, d: (M + p - d * (K - 1) - 1) // s + 1)
    ✔ Correct: your function agrees with Eq. (6.17) on 12 settings.
    >>> check_output_size(lambda M, K, p, s, d: (M + p - K) // s + 1)
    ✘ Not right yet: the dilation was ignored: the kernel covers d (K - 1) + 1 pixels, not K.
      hint: for example M=9, K=3, p=2, s=2, d=2 gives 4, your function gives 5.
    """
    check_choice(padding, "padding", ("total", "per_side"))
    per_side = padding == "per_side"
    if not callable(student_fn):
        return Feedback(False, f"Pass your function itself (not its value); got {type(student_fn).__name__}.")
    got = []
    for case in OUTPUT_SIZE_CASES:
        M, K, p, s, d = case
        value, problem = call_student(student_fn, M, K, p // 2 if per_side else p, s, d)
        if problem is not None:
            return problem
        got.append(value)
    args = [(M, K, p // 2 if per_side else p, s, d) for M, K, p, s, d in OUTPUT_SIZE_CASES]
    want = [shapes.output_size(M, K, stride=s, dilation=d, total_padding=p) for M, K, p, s, d in OUTPUT_SIZE_CASES]
    counts = [_as_count(v) for v in got]
    first = next((i for i, (c, w) in enumerate(zip(counts, want)) if c != w), None)
    if first is None:
        return Feedback(True, f"Correct: your function agrees with Eq. (6.17) on {len(want)} settings.")
    M, K, p, s, d = args[first]
    example = f"for example M={M}, K={K}, p={p}, s={s}, d={d} gives {want[first]}, your function gives {got[first]!r}."
    if counts[first] is None:
        hint = ("without the floor, (M + p - d(K-1) - 1) / s is not a whole number: use // (round down)"
                if isinstance(got[first], float) else "an output size is a whole number")
        return Feedback(False, f"Your function returned {got[first]!r}, which is not a whole number.", [hint, example])
    for reason, wrong in _size_variants(per_side).items():
        if all(c == wrong(*a) for c, a in zip(counts, args)):
            return Feedback(False, f"Not right yet: {reason}.", [example])
    return Feedback(False, f"Your function is off on {sum(c != w for c, w in zip(counts, want))} of {len(want)} settings.",
                    [example, "compare with Eq. (6.17): floor((M + p - d (K - 1) - 1) / s) + 1, p the total padding"])


@checker
def check_same_padding(answer, K, dilation=1, *, padding: str = "total") -> Feedback:
    """Check the padding that keeps the output as large as the input at stride 1 ("same" padding).

    Parameters
    ----------
    answer : int or (int, int)
        The student's padding.
    K : int or (int, int)
        Kernel size.
    dilation : int or (int, int), default 1
    padding : {'total', 'per_side'}, default 'total'
        Whether ``answer`` is the chapter's total padding ``p_h`` (all rows added) or
        PyTorch's per-side padding. Per side needs ``d (K - 1)`` even.

    Returns
    -------
    Feedback
        Truthy when ``answer`` is ``d (K - 1)`` total (``d (K - 1) / 2`` per side); otherwise
        names the slip: dilation ignored, per-side and total mixed up, the effective kernel
        size given instead of the padding, off by one.

    Examples
    --------
    >>> check_same_padding(4, 3, dilation=2)
    ✔ Correct: total padding 4 keeps the size (effective kernel 5, Eq. (6.17) with s = 1: M - 5 + 4 + 1 = M).
    >>> check_same_padding(2, 3, dilation=2)
    ✘ Total padding 2 does not keep the size: that is K - 1, which ignores the dilation: the dilated kernel covers d (K - 1) + 1 = 5 pixels.
    """
    check_choice(padding, "padding", ("total", "per_side"))
    K_pair, d_pair = pair(K, "K"), pair(dilation, "dilation")
    K_eff = shapes.effective_kernel_size(K_pair, d_pair)
    need = tuple(k - 1 for k in K_eff)
    per_side = padding == "per_side"
    if per_side and any(n % 2 for n in need):
        raise ValueError(f"no per-side padding gives 'same' output for kernel {K!r} with dilation {dilation!r}: "
                         f"the total d (K - 1) = {need} is odd; use padding='total'")
    want = tuple(n // 2 for n in need) if per_side else need
    is_pair = isinstance(answer, (tuple, list, np.ndarray))
    values = list(answer) if is_pair else [answer]
    counts = [_as_count(v) for v in values]
    if None in counts or len(counts) not in (1, 2):
        return Feedback(False, f"Give the padding as an int or a pair of ints; got {answer!r}.")
    got = tuple(counts) if len(counts) == 2 else (counts[0], counts[0])
    word = "Per-side padding" if per_side else "Total padding"
    if got == want:
        k = K_eff[0] if K_eff[0] == K_eff[1] else K_eff
        return Feedback(True, f"Correct: {word.lower()} {answer!r} keeps the size (effective kernel {k}, "
                              f"Eq. (6.17) with s = 1: M - {k} + {need[0] if need[0] == need[1] else need} + 1 = M).")
    axis = 0 if got[0] != want[0] else 1
    g, w, k, d, ke = got[axis], want[axis], K_pair[axis], d_pair[axis], K_eff[axis]
    reasons = {}
    if d > 1:
        reasons[(k - 1) // 2 if per_side else k - 1] = ("that is " + ("(K - 1) / 2" if per_side else "K - 1")
                                                        + f", which ignores the dilation: the dilated kernel covers "
                                                        f"d (K - 1) + 1 = {ke} pixels")
    if per_side:
        reasons.setdefault(2 * w, "that is the total padding; per side (PyTorch's padding) is half of it")
    else:
        reasons.setdefault(w // 2, "that is the padding on each side (PyTorch's); the chapter's p counts both sides")
    reasons.setdefault(ke, "that is the effective kernel size; the padding is one less in total, d (K - 1)")
    if per_side:
        reasons.setdefault(w + 1, "one row too many on each side: the output would grow by two")
        reasons.setdefault(w - 1, "one row too few on each side: the output would shrink by two")
    else:  # w + 1 is the effective kernel size, named above
        reasons.setdefault(w - 1, "one too few: the output would shrink by one")
    if g in reasons:
        return Feedback(False, f"{word} {answer!r} does not keep the size: {reasons[g]}.")
    return Feedback(False, f"{word} {answer!r} does not keep the size.",
                    [f"solve M - d (K - 1) - 1 + p + 1 = M for the total padding p (Eq. (6.17) with s = 1)"])


@checker
def check_conv_params(answer, c_in, c_out, K) -> Feedback:
    """Check a count of the learned parameters of a convolutional layer, Eq. (6.23).

    Parameters
    ----------
    answer : int
        The student's count.
    c_in, c_out : int
        Input and output channels.
    K : int or (int, int)
        Kernel size.

    Returns
    -------
    Feedback
        Truthy when ``answer == c_out (c_in K_h K_v + 1)``; otherwise names the slip:
        biases forgotten, input channels forgotten, one bias per input channel, a single
        kernel counted, ``K`` instead of ``K_h K_v``, a dense layer's count.

    Examples
    --------
    >>> check_conv_params(1792, 3, 64, 3)
    ✔ Correct: 64 kernels of 3 x 3 x 3 weights plus one bias each: 1,792 parameters.
    >>> check_conv_params(1728, 3, 64, 3)
    ✘ 1,728 is not the count: the biases are missing: each output channel has one (+ 64).
    """
    c_in, c_out = positive_int(c_in, "c_in"), positive_int(c_out, "c_out")
    K_h, K_v = pair(K, "K")
    want = counting.conv_params(c_in, c_out, (K_h, K_v))
    got = _as_count(answer)
    if got is None:
        return Feedback(False, f"A parameter count is a whole number; got {answer!r}.")
    if got == want:
        return Feedback(True, f"Correct: {c_out} kernels of {c_in} x {K_h} x {K_v} weights plus one bias each: {want:,} parameters.")
    KK = K_h * K_v
    reasons = {
        c_out * c_in * KK: f"the biases are missing: each output channel has one (+ {c_out})",
        c_out * (KK + 1): f"the input channels are missing: each kernel is a volume of depth c_in = {c_in}",
        c_out * c_in * (KK + 1): "one bias per kernel volume, not one per input channel: the channel sums share one bias",
        c_in * KK + 1: f"that is one kernel: there are c_out = {c_out} of them",
        c_out * (c_in * (K_h + K_v) + 1): "a kernel has K_h x K_v weights per channel, not K_h + K_v",
        c_out * (c_in * K_h + 1): "a kernel has K_h x K_v weights per channel, not K",
        c_in * c_out + c_out: "that is a dense layer from c_in to c_out units (a 1 x 1 convolution)",
        2 * c_out * c_in * KK: "each weight has one parameter; the bias is per output channel, not per weight",
    }
    reasons.pop(want, None)
    if got in reasons:
        return Feedback(False, f"{got:,} is not the count: {reasons[got]}.")
    return Feedback(False, f"{got:,} is not the count.", ["Eq. (6.23): c_out (c_in K_h K_v + 1)"])


@checker
def check_conv2d(student_fn, *, padding=0, stride=1, dilation=1, seed: int = 0) -> Feedback:
    """Check a student's convolutional layer ``student_fn(x, W, b)`` against :func:`cnnlib.layers.conv2d`.

    Parameters
    ----------
    student_fn : callable
        ``student_fn(x, W, b)`` with ``x`` of shape (C_in, H, W), ``W`` (C_out, C_in, K_h, K_v)
        and ``b`` (C_out,), returning the (C_out, H_out, W_out) pre-activation of Eqs. (6.20)
        and (6.21). When ``padding``, ``stride`` or ``dilation`` is not the default, they are
        passed as keyword arguments too.
    padding, stride, dilation : int or (int, int)
        The layer's settings (PyTorch's per-side padding).
    seed : int, default 0
        Seed of the random test input (3 input channels, 2 output channels, 3 x 3 kernels
        on a 6 x 7 image, the chapter's sizes).

    Returns
    -------
    Feedback
        Truthy when the result matches; otherwise names the slip: a flipped kernel (a
        convolution where layers cross-correlate), channels not summed, only one input
        channel used, bias missing or added per input channel, a transposed kernel, or the
        output shape and which formula it comes from.

    Examples
    --------
    >>> check_conv2d(lambda x, W, b: layers.conv2d(x, W, b))
    ✔ Correct: the layer's output matches (shape (2, 4, 5)).
    >>> check_conv2d(lambda x, W, b: layers.conv2d(x, W[..., ::-1, ::-1], b))
    ✘ The layer's output has the right shape but its values are off: it matches what you get when the kernel was flipped: layers compute the cross-correlation (6.14), without the flip of (6.7).
    """
    if not callable(student_fn):
        return Feedback(False, f"Pass your function itself (not its value); got {type(student_fn).__name__}.")
    p, s, d = pair(padding, "padding", minimum=0), pair(stride, "stride"), pair(dilation, "dilation")
    rng = np.random.default_rng(nonnegative_int(seed, "seed"))
    grow = 2 * (max(d) - 1)  # a larger image when the kernel is dilated
    x, W, b = rng.normal(size=(3, 6 + grow, 7 + grow)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
    defaults = (p, s, d) == ((0, 0), (1, 1), (1, 1))
    kwargs = {} if defaults else dict(padding=padding, stride=stride, dilation=dilation)
    answer, problem = call_student(functools.partial(student_fn, **kwargs), x.copy(), W.copy(), b.copy())
    if problem is not None:
        return problem

    def layer(x_, W_, b_, **kw):
        return layers.conv2d(x_, W_, b_, padding=p, stride=s, dilation=d, **kw)

    expected = layer(x, W, b)
    per_channel = np.stack([layer(x[c:c + 1], W[:, c:c + 1], None) for c in range(3)], axis=1)  # (C_out, C_in, H', W')
    H_out, W_out = expected.shape[-2:]
    M_h, M_v = x.shape[-2:]
    variants = {
        "the kernel was flipped: layers compute the cross-correlation (6.14), without the flip of (6.7)":
            layer(x, W[..., ::-1, ::-1], b),
        "the bias was left out (+ b_o for each output channel)": layer(x, W, None),
        "the bias was added once per input channel: it belongs outside the sum over channels":
            layer(x, W, 3 * b),
        "only the first input channel was used: Eq. (6.20) sums over all input channels": layer(x[:1], W[:, :1], b),
        "the kernel was transposed (rows and columns of W swapped)": layer(x, W.swapaxes(-1, -2), b),
        "the channels of the kernel were taken in reverse order": layer(x, W[:, ::-1], b),
    }
    shape_hints = {
        per_channel.shape: "you kept one result per input channel: Eq. (6.20) sums them over c",
        (H_out, W_out): "the output-channel axis is missing: one output map per kernel W[o]",
        (2, M_h + 2 * p[0] + 2, M_v + 2 * p[1] + 2): "that is the 'full' size; a layer's output follows Eq. (6.17)",
        (2, H_out - 1, W_out - 1): "missing the + 1 of Eq. (6.17)",
        (2, M_h, M_v): "that is the input's size: check padding and Eq. (6.17)",
    }
    return compare_arrays(answer, expected, what="The layer's output", variants=variants, shape_hints=shape_hints)


_DIMS = {"all": "(N, C, H, W)", "chw": "(C, H, W)", "hw": "(H, W)"}


def _conv_slip(layer, input_shape, got_hw):
    """What a known wrong version of Eq. (6.17) gives for a single Conv2d, if it gives ``got_hw``."""
    from torch import nn

    if type(layer) is not nn.Conv2d or not isinstance(layer.padding, tuple):
        return None
    for reason, size in _size_variants(per_side=True).items():
        hw = tuple(size(M, K, p, s, d) for M, K, p, s, d in zip(input_shape[-2:], layer.kernel_size, layer.padding,
                                                                 layer.stride, layer.dilation))
        if hw == got_hw:
            return reason
    return None


@checker
def check_layer_output_shape(answer, layer, input_shape, *, dims: str = "all", formula: str = "") -> Feedback:
    """Check a predicted output shape of ``layer`` (any module: a layer, a stage, a network) for
    an input of ``input_shape``; the reference is computed here, by running ``layer`` on zeros.

    Parameters
    ----------
    answer : tuple of int
        The prediction: the whole shape ``(N, C, H, W)`` (``dims="all"``), one sample's
        ``(C, H, W)`` (``"chw"``) or the spatial size ``(H, W)`` (``"hw"``).
    layer : torch.nn.Module
    input_shape : tuple of int
        The input's whole shape, batch included.
    formula : str
        The equation to recheck, named in the hint for a size off by a constant.

    Diagnoses the other part of the shape given (a batch axis too many or missing), the input's
    size, the channels, and, for a ``Conv2d``, the known slips of Eq. (6.17) (the + 1, the
    padding per side, the stride, the dilation, rounding up).

    Examples
    --------
    >>> from torch import nn
    >>> stem = nn.Conv2d(3, 64, 7, stride=2, padding=3)
    >>> check_layer_output_shape((112, 112), stem, (1, 3, 224, 224), dims="hw")
    ✔ Correct: (112, 112).
    >>> check_layer_output_shape((224, 224), stem, (1, 3, 224, 224), dims="hw")
    ✘ (224, 224) is not right: the stride was ignored (that is the stride-1 size, Eq. (6.18)).
    >>> check_layer_output_shape((1, 64, 112, 112), stem, (1, 3, 224, 224), dims="hw")
    ✘ (1, 64, 112, 112) is the output's (N, C, H, W); the exercise asks for (H, W).
    """
    dims = check_choice(dims, "dims", tuple(_DIMS))
    full = layer_output_shape(layer, input_shape)
    parts = {"all": full, "chw": full[1:], "hw": full[-2:]}
    expected = parts[dims]
    try:
        got = tuple(int(a) for a in np.atleast_1d(answer))
    except (TypeError, ValueError):
        return Feedback(False, f"Give the shape {_DIMS[dims]} as a tuple of whole numbers; got {answer!r}.")
    if got == expected:
        return Feedback(True, f"Correct: {expected}.")
    other = next((d for d, shape in parts.items() if d != dims and got == shape), None)
    if other is not None:
        return Feedback(False, f"{got} is the output's {_DIMS[other]}; the exercise asks for {_DIMS[dims]}.")
    if len(got) != len(expected):
        return Feedback(False, f"Give {len(expected)} numbers, {_DIMS[dims]}; got {got}.")
    slip = _conv_slip(layer, input_shape, got[-2:]) if got[:-2] == expected[:-2] else None
    if slip:
        return Feedback(False, f"{got} is not right: {slip}.")
    if got[-2:] == tuple(input_shape[-2:]) and got[:-2] == expected[:-2]:
        return Feedback(False, f"{got} is not right: that is the input's height and width, which this layer changes.")
    if dims != "hw" and got[-2:] == expected[-2:] and got[-3] != expected[-3]:
        return Feedback(False, f"{got} is not right: the height and width are, but the channels are not "
                               "(one output channel per kernel of the last convolution).")
    same_lead = got[:-2] == expected[:-2]  # then say how the height and width are off
    hints = check_output_shape(got[-2:] if same_lead else got, expected[-2:] if same_lead else expected,
                               formula=formula).hints
    return Feedback(False, f"{got} is not right" + (f": {hints[0]}." if hints else "."), hints[1:])


@checker
def check_conv_weight_shape(answer, in_channels: int, out_channels: int, kernel_size) -> Feedback:
    """Check the predicted shape of the weight tensor of ``nn.Conv2d(in_channels, out_channels,
    kernel_size)``; the reference is read from such a layer (built on the meta device) here.

    Diagnoses the channels swapped, the input-channel axis left out, and the channels put last.

    >>> check_conv_weight_shape((16, 3, 5, 5), 3, 16, 5)
    ✔ Correct: (16, 3, 5, 5).
    >>> check_conv_weight_shape((3, 16, 5, 5), 3, 16, 5)
    ✘ (3, 16, 5, 5) has the channels swapped: PyTorch stores one kernel per output channel first, (c_out, c_in, K_h, K_v).
    """
    import torch
    from torch import nn

    with torch.device("meta"):
        expected = tuple(nn.Conv2d(in_channels, out_channels, kernel_size).weight.shape)
    try:
        got = tuple(int(a) for a in np.atleast_1d(answer))
    except (TypeError, ValueError):
        return Feedback(False, f"Give the shape as a tuple of whole numbers; got {answer!r}.")
    if got == expected:
        return Feedback(True, f"Correct: {expected}.")
    c_out, c_in, K_h, K_v = expected
    slips = {
        (c_in, c_out, K_h, K_v): "has the channels swapped: PyTorch stores one kernel per output channel first, "
                                 "(c_out, c_in, K_h, K_v)",
        (c_out, K_h, K_v): "leaves out the input channels: each of the c_out kernels spans all c_in input channels",
        (K_h, K_v, c_in, c_out): "puts the channels last (TensorFlow's order); PyTorch's is (c_out, c_in, K_h, K_v)",
    }
    reason = slips.get(got)
    if reason:
        return Feedback(False, f"{got} {reason}.")
    return Feedback(False, f"{got} is not right.", ["a Conv2d weight has shape (c_out, c_in, K_h, K_v)"])
