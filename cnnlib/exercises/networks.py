"""Checkers for the exercises of Section 6.4: layer counts, pooling, receptive fields, VGG counts.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4 (Eqs. (6.22), (6.23), Figure 6.11, Table 6.1).
"""
from __future__ import annotations

import numpy as np

from .. import counting, layers
from .._validation import as_array, check_choice, pair, positive_int
from ._base import Feedback, _as_count, call_student, compare_arrays
from ._registry import checker

__all__ = ["check_layer_counts", "check_pool_output", "check_receptive_field",
           "check_vgg_parameter_count", "check_neuron_count", "receptive_field_size"]

_COUNT_KEYS = ("L", "L_train", "L_pool", "L_conv", "L_dense")


@checker
def check_layer_counts(answer, model, input_shape) -> Feedback:
    """Check the counts of Eq. (6.22) for a network: L, L_train, L_pool, L_conv, L_dense.

    Parameters
    ----------
    answer : dict
        The student's counts, with the keys ``'L'``, ``'L_train'``, ``'L_pool'``,
        ``'L_conv'`` and ``'L_dense'``.
    model : torch.nn.Module
        The network (for example ``models.lenet5()``).
    input_shape : tuple of int
        Shape of one input without the batch axis, e.g. ``(1, 28, 28)``.

    Returns
    -------
    Feedback
        Truthy when every count agrees with :func:`cnnlib.counting.layer_table`; otherwise
        names the slip: activations or the flattening counted as layers, pooling layers
        left out of L, pooling counted as trainable, or the sums of (6.22) not adding up.

    Examples
    --------
    >>> from cnnlib import models
    >>> check_layer_counts(dict(L=7, L_train=5, L_pool=2, L_conv=2, L_dense=3), models.lenet5(), (1, 28, 28))
    ✔ Correct: L = 7, L_train = 5, L_pool = 2, L_conv = 2, L_dense = 3.
    >>> check_layer_counts(dict(L=5, L_train=5, L_pool=0, L_conv=2, L_dense=3), models.lenet5(), (1, 28, 28))
    ✘ Not right yet: L_pool = 0, L = 5.
      hint: pooling layers have no parameters but they are layers: L = L_train + L_pool.
    """
    if not isinstance(answer, dict):
        return Feedback(False, f"Give the counts as a dict with keys {', '.join(_COUNT_KEYS)}; got {type(answer).__name__}.")
    missing = [k for k in _COUNT_KEYS if k not in answer]
    if missing:
        return Feedback(False, f"Your dict lacks the key(s) {', '.join(missing)}.")
    got = {k: _as_count(answer[k]) for k in _COUNT_KEYS}
    if any(v is None for v in got.values()):
        return Feedback(False, f"Every count should be a whole number; got {answer!r}.")
    table = counting.layer_table(model, input_shape)
    want = table.counts
    if got == want:
        return Feedback(True, "Correct: " + ", ".join(f"{k} = {v}" for k, v in want.items()) + ".")
    wrong = [k for k in ("L_conv", "L_dense", "L_train", "L_pool", "L") if got[k] != want[k]]
    hints = []
    if got["L"] != got["L_train"] + got["L_pool"] or got["L_train"] != got["L_conv"] + got["L_dense"]:
        hints.append("your numbers do not satisfy (6.22): L = L_train + L_pool and L_train = L_conv + L_dense.")
    activations = sum(r.trainable for r in table.layers)
    if got["L"] == want["L"] + activations or got["L_pool"] == want["L_pool"] + activations:
        hints.append("activations (ReLU) are part of the layer they follow, not layers of their own.")
    if got["L"] == want["L"] + 1 or got["L_pool"] == want["L_pool"] + 1:
        hints.append("the flattening only reshapes: it is not a layer.")
    if got["L_pool"] == 0 and want["L_pool"] > 0:
        hints.append("pooling layers have no parameters but they are layers: L = L_train + L_pool.")
    if got["L_train"] == want["L"]:
        hints.append("pooling layers learn nothing: they are not counted in L_train.")
    message = "Not right yet: " + ", ".join(f"{k} = {got[k]}" for k in wrong) + "."
    return Feedback(False, message, hints)


def _pool2d(x, K, s, kind):
    """Reference pooling of a 2-D array (floor mode), through :mod:`cnnlib.layers`."""
    fn = layers.max_pool2d if kind == "max" else layers.avg_pool2d
    return fn(x[None], K, s)[0]


def _ceil_pool2d(x, K, s, kind):
    """Pooling that keeps the partial windows at the bottom and right edges."""
    K_h, K_v = K
    s_h, s_v = s
    M_h, M_v = x.shape
    n_h, n_v = -(-(M_h - K_h) // s_h) + 1, -(-(M_v - K_v) // s_v) + 1
    padded = np.full(((n_h - 1) * s_h + K_h, (n_v - 1) * s_v + K_v), np.nan)
    padded[:M_h, :M_v] = x
    windows = np.lib.stride_tricks.sliding_window_view(padded, (K_h, K_v))[::s_h, ::s_v]
    return np.nanmax(windows, axis=(-2, -1)) if kind == "max" else np.nanmean(windows, axis=(-2, -1))


@checker
def check_pool_output(pool_fn, kind: str = "max", kernel_size=2, *, x=None) -> Feedback:
    """Check a student's pooling function ``pool_fn(x, kernel_size)`` on a 2-D array.

    The function should pool with windows of ``kernel_size`` that move by the window size
    (non-overlapping windows, the usual default and PyTorch's), dropping incomplete windows
    at the edges, as in Figure 6.11 of the chapter.

    Parameters
    ----------
    pool_fn : callable
        ``pool_fn(x, kernel_size)`` with ``x`` of shape (H, W) and ``kernel_size`` an int
        or a pair; returns an array of shape (H_out, W_out).
    kind : {"max", "avg"}
        Max-pooling or average pooling.
    kernel_size : int or (int, int), default 2
        The window (K_h, K_v).
    x : array_like, shape (H, W), optional
        Test input; by default a seeded random 8 x 9 array (an even height, so that a
        missing last window shows up, and an odd width, so that a kept incomplete one does).

    Returns
    -------
    Feedback
        Compared with :func:`cnnlib.layers.max_pool2d` / :func:`~cnnlib.layers.avg_pool2d`;
        names the slip: stride 1 instead of the window size, a missing last window
        (off-by-one in the loop bound), partial windows kept, the other kind of pooling,
        a sum instead of a mean, rows and columns swapped.

    Examples
    --------
    >>> def pool(x, k):
    ...     return np.array([[x[i:i + k, j:j + k].max() for j in range(0, x.shape[1] - k + 1, k)]
    ...                      for i in range(0, x.shape[0] - k + 1, k)])
    >>> check_pool_output(pool)
    ✔ Correct: your pooled output matches (shape (4, 4)).
    >>> def pool_stride1(x, k):
    ...     return np.array([[x[i:i + k, j:j + k].max() for j in range(x.shape[1] - k + 1)]
    ...                      for i in range(x.shape[0] - k + 1)])
    >>> check_pool_output(pool_stride1)
    ✘ Your pooled output has shape (7, 8); expected (4, 4): the window moved by 1 pixel (stride 1).
      hint: a pooling window moves by its own size (stride = kernel_size = (2, 2)), so that the windows do not overlap.
    """
    kind = check_choice(kind, "kind", ("max", "avg"))
    K = pair(kernel_size, "kernel_size")
    if x is None:
        x = np.random.default_rng(611).integers(0, 10, size=(8, 9)).astype(float)
    x = as_array(x, "x", ndim=2)
    if x.shape[0] < K[0] or x.shape[1] < K[1]:
        raise ValueError(f"x of shape {x.shape} is smaller than kernel_size {K}")
    answer, problem = call_student(pool_fn, x.copy(), kernel_size)
    if problem is not None:
        return problem
    expected = _pool2d(x, K, K, kind)
    other = "avg" if kind == "max" else "max"
    slips = [
        (_pool2d(x, K, (1, 1), kind), "the window moved by 1 pixel (stride 1)",
         f"a pooling window moves by its own size (stride = kernel_size = {K}), so that the windows do not overlap."),
        (_ceil_pool2d(x, K, K, kind), "incomplete windows at the bottom or right edge were kept",
         "PyTorch (and Table 6.1) drop a window that does not fit: H_out = floor((H - K) / s) + 1."),
        (expected[:-1, :-1], "the last row and column of windows are missing",
         "an off-by-one in the loop bound: the last window starts at H - K, so use range(0, H - K + 1, K)."),
        (expected[:-1, :], "the last row of windows is missing",
         "an off-by-one in the loop bound over rows: use range(0, H - K + 1, K)."),
        (expected[:, :-1], "the last column of windows is missing",
         "an off-by-one in the loop bound over columns: use range(0, W - K + 1, K)."),
        (_pool2d(x, K, K, other), f"it is {'average' if other == 'avg' else 'max'}-pooling",
         "max-pooling keeps the largest value of each window; average pooling its mean (Figure 6.11)."),
        (expected * K[0] * K[1], "the windows were summed, not averaged",
         f"divide each window's sum by |I(i, k)| = {K[0] * K[1]}."),
        (expected.T, "rows and columns are swapped", "index the output as [row, column] = [i, k]."),
    ]
    arr = np.asarray(answer, dtype=float) if isinstance(answer, (np.ndarray, list, tuple)) else None
    if arr is not None and not (arr.shape == expected.shape and np.allclose(arr, expected)):
        for wrong, what, hint in slips:
            if (kind == "max" and "summed" in what) or wrong.shape != arr.shape:
                continue
            if np.allclose(arr, wrong, equal_nan=True):
                shape_note = "" if arr.shape == expected.shape else f"; expected {expected.shape}"
                return Feedback(False, f"Your pooled output has shape {arr.shape}{shape_note}: {what}.", [hint])
    return compare_arrays(answer, expected, what="Your pooled output")


def _field_layers(layer_specs):
    """Validate ``[(K, s), (K, s, d), ...]`` and return ``[(K_eff, s), ...]``."""
    if isinstance(layer_specs, (str, bytes)) or not hasattr(layer_specs, "__iter__"):
        raise TypeError(f"layers must be a list of (kernel_size, stride) or (kernel_size, stride, dilation) tuples, "
                        f"got {layer_specs!r}")
    out = []
    for i, spec in enumerate(layer_specs):
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
            raise ValueError(f"layers[{i}] must be (kernel_size, stride) or (kernel_size, stride, dilation), got {spec!r}")
        K = positive_int(spec[0], f"layers[{i}] kernel_size")
        s = positive_int(spec[1], f"layers[{i}] stride")
        d = positive_int(spec[2], f"layers[{i}] dilation") if len(spec) == 3 else 1
        out.append((d * (K - 1) + 1, s))
    if not out:
        raise ValueError("layers must hold at least one (kernel_size, stride) tuple, got an empty list")
    return out


def receptive_field_size(layer_specs) -> int:
    """Receptive field (along one axis) of a unit after a stack of convolutions and poolings.

    ``r = 1 + sum_l (K_l - 1) * j_l`` with the jump ``j_l = s_1 s_2 ... s_{l-1}``, the
    product of the strides of the layers *before* layer l (with dilation, K_l is the
    effective kernel ``d (K - 1) + 1``).

    >>> receptive_field_size([(3, 1), (3, 1), (2, 2), (3, 1)])
    10
    """
    r, jump = 1, 1
    for K, s in _field_layers(layer_specs):
        r += (K - 1) * jump
        jump *= s
    return r


@checker
def check_receptive_field(answer, layer_specs) -> Feedback:
    """Check the size of the receptive field of a unit after a stack of layers (one axis).

    Parameters
    ----------
    answer : int
        The student's receptive field size, in input pixels, along one axis.
    layer_specs : list of tuples
        The stack, first layer first: ``(kernel_size, stride)`` or ``(kernel_size, stride,
        dilation)`` for each convolution or pooling (padding does not change the size).

    Returns
    -------
    Feedback
        Truthy when ``answer`` equals :func:`receptive_field_size`; otherwise names the slip:
        the jump (product of earlier strides) forgotten, a layer's own stride put into its
        jump, kernel sizes summed instead of K - 1, the final jump given instead of the
        field, or an off-by-one.

    Examples
    --------
    >>> stack = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]
    >>> check_receptive_field(16, stack)
    ✔ Correct: a unit sees 16 input pixels along this axis.
    >>> check_receptive_field(11, stack)
    ✘ 11 is 1 + Σ (K_l - 1): the growth of each layer was not multiplied by its jump.
      hint: after a stride-2 layer, neighbouring units are 2 input pixels apart, so a later 3-wide kernel adds 2 × 2 pixels, not 2.
    """
    specs = _field_layers(layer_specs)
    expected = receptive_field_size(layer_specs)
    got = _as_count(answer)
    if got is None:
        return Feedback(False, f"A receptive field size should be a whole number of pixels; got {answer!r}.")
    if got == expected:
        return Feedback(True, f"Correct: a unit sees {expected} input pixels along this axis.")
    jumps, jump = [], 1
    for _, s in specs:
        jumps.append(jump)
        jump *= s
    slips = {}
    slips[1 + sum(K - 1 for K, _ in specs)] = (
        "1 + Σ (K_l - 1): the growth of each layer was not multiplied by its jump",
        "after a stride-2 layer, neighbouring units are 2 input pixels apart, so a later 3-wide kernel adds "
        "2 × 2 pixels, not 2.")
    slips.setdefault(1 + sum((K - 1) * j * s for (K, s), j in zip(specs, jumps)), (
        "what you get when each layer's own stride goes into its jump",
        "the jump of layer l is the product of the strides of the layers before it, s_1 ⋯ s_{l-1}."))
    slips.setdefault(sum(K for K, _ in specs), (
        "the sum of the kernel sizes", "each layer adds K - 1 jumps to the field, not K (one pixel is shared)."))
    slips.setdefault(jump, ("the final jump (the product of all strides)",
                            "the jump is the spacing between neighbouring fields, not their size."))
    if got in slips and got != expected:
        what, hint = slips[got]
        return Feedback(False, f"{got} is {what}.", [hint])
    hints = ["off by one: a single pixel has field 1, and each layer adds (K - 1) × jump."] if abs(got - expected) == 1 else \
        ["go layer by layer: r ← r + (K - 1) j, then j ← j s."]
    return Feedback(False, f"{got} is not the receptive field of this stack.", hints)


def _vgg_parts(config, in_channels, num_classes, input_size, classifier):
    """Conv (c_in, c_out) pairs, final (C, h, w) and dense (n_in, n_out) pairs of a VGG configuration."""
    from ..models import parse_vgg_config

    config = parse_vgg_config(config)
    convs, c, pools = [], positive_int(in_channels, "in_channels"), 0
    for item in config:
        if item == "M":
            pools += 1
        else:
            convs.append((c, item))
            c = item
    h, w = (v // 2 ** pools for v in pair(input_size, "input_size"))
    widths = [c * h * w] + [positive_int(v, "classifier") for v in classifier] + [positive_int(num_classes, "num_classes")]
    return convs, (c, h, w), list(zip(widths[:-1], widths[1:]))


def _pool_channels(config, in_channels):
    """Channels entering each max-pooling of a VGG configuration."""
    from ..models import parse_vgg_config

    c, out = positive_int(in_channels, "in_channels"), []
    for item in parse_vgg_config(config):
        if item == "M":
            out.append(c)
        else:
            c = item
    return out


@checker
def check_vgg_parameter_count(answer, config="vgg16", *, in_channels: int = 3, num_classes: int = 1000,
                              input_size=224, classifier=(4096, 4096)) -> Feedback:
    """Check the number of learned parameters of a VGG network counted by hand.

    Parameters
    ----------
    answer : int
        The student's count.
    config : str or sequence, default "vgg16"
        A key of :data:`cnnlib.models.VGG_CONFIGS` or a list of ints and ``'M'``.
    in_channels, num_classes, input_size, classifier
        As in :func:`cnnlib.models.vgg`.

    Returns
    -------
    Feedback
        Truthy when ``answer`` is the sum of Eq. (6.23) over the convolutions and
        ``N_in N_out + N_out`` over the dense layers; otherwise names the slip: biases left
        out, only the convolutions or only the dense layers, a dense layer missing, the
        first dense layer fed ``C`` instead of ``C h w`` inputs or sized for the wrong
        feature map (a pooling layer too few or too many, a 227 × 227 input halved with
        rounding up), pooling layers counted as convolutions, or a convolution's kernel
        depth K_c taken as its own output channels.

    Examples
    --------
    >>> check_vgg_parameter_count(143_667_240, "vgg19")
    ✔ Correct: 143,667,240 learned parameters (convolutions 20,024,384, dense layers 123,642,856).
    >>> check_vgg_parameter_count(20_024_384, "vgg19")
    ✘ 20,024,384 is the count of the convolutions only.
      hint: add the dense layers: N_in N_out + N_out each, starting from the flattened 512 × 7 × 7 = 25,088 vector.
    >>> check_vgg_parameter_count(138_357_544 - 16_781_312, "vgg16")
    ✘ 121,576,232 is the count without dense layer 2 (4,096 → 4,096).
      hint: the classifier has 3 dense layers: 25,088 → 4,096, 4,096 → 4,096, 4,096 → 1,000; the last one gives the class scores.
    """
    convs, (C, h, w), dense = _vgg_parts(config, in_channels, num_classes, input_size, classifier)
    conv_w = sum(co * ci * 9 for ci, co in convs)
    conv_b = sum(co for _, co in convs)
    dense_w = sum(a * b for a, b in dense)
    dense_b = sum(b for _, b in dense)
    conv, fc = conv_w + conv_b, dense_w + dense_b
    expected = conv + fc
    got = _as_count(answer)
    if got is None:
        return Feedback(False, f"A parameter count should be a whole number; got {answer!r}.")
    if got == expected:
        return Feedback(True, f"Correct: {expected:,} learned parameters (convolutions {conv:,}, dense layers {fc:,}).")
    flat = f"{C} × {h} × {w} = {C * h * w:,}"
    no_flatten = conv + fc - dense[0][0] * dense[0][1] + C * dense[0][1]
    same_depth = sum(co * (co * 9 + 1) for _, co in convs) + fc
    slips = {
        conv_w + dense_w: ("the weights only", "every output channel of a convolution and every output of a dense "
                                                 "layer also has a bias (the +1 of Eq. (6.23))."),
        conv_w + fc: ("the count without the convolutions' biases", "Eq. (6.23) adds one bias per output channel."),
        conv + dense_w: ("the count without the dense layers' biases", "a dense layer has N_in N_out + N_out parameters."),
        conv: ("the count of the convolutions only",
               f"add the dense layers: N_in N_out + N_out each, starting from the flattened {flat} vector."),
        fc: ("the count of the dense layers only", "add the convolutions, M_c (M_c' K_h K_v + 1) each, Eq. (6.23)."),
        no_flatten: ("what you get when the first dense layer takes C inputs",
                     f"the first dense layer takes the whole flattened tensor: {flat} inputs."),
        same_depth: ("what you get when each kernel is as deep as its own output",
                     "a kernel is as deep as the layer's *input*: K_c = M_c of the layer before (3 for the first)."),
    }
    for k, (n_in, n_out) in enumerate(dense):
        slips.setdefault(expected - n_in * n_out - n_out, (
            f"the count without dense layer {k + 1} ({n_in:,} → {n_out:,})",
            f"the classifier has {len(dense)} dense layers: "
            + ", ".join(f"{a:,} → {b:,}" for a, b in dense) + "; the last one gives the class scores."))
    # The first dense layer sized for the wrong feature map: a pooling miscounted, or 227 px.
    pool_channels = _pool_channels(config, in_channels)
    n_pools = len(pool_channels)
    side = pair(input_size, "input_size")
    for pools, size, why in ((n_pools - 1, side, "one pooling layer too few"),
                             (n_pools + 1, side, "one pooling layer too many"),
                             (n_pools, (227, 227), "a 227 × 227 input (AlexNet's) halved with rounding up")):
        if pools < 0:
            continue
        if size == (227, 227):
            h2, w2 = (-(-v // 2 ** pools) for v in size)
        else:
            h2, w2 = (v // 2 ** pools for v in size)
        if (h2, w2) != (h, w) and h2 > 0 and w2 > 0:
            slips.setdefault(conv + fc + (C * h2 * w2 - C * h * w) * dense[0][1], (
                f"what you get when the first dense layer takes {C} × {h2} × {w2} = {C * h2 * w2:,} inputs "
                f"({why})",
                f"the input is {side[0]} × {side[1]} and {n_pools} max-poolings halve it {n_pools} times (rounding down): "
                f"the flattened vector is {flat}; pooling layers have no parameters but they set this size."))
    pooled = conv + sum(c * (c * 9 + 1) for c in pool_channels)
    slips.setdefault(pooled + fc, (
        "what you get when every pooling layer is counted as a 3 × 3 convolution",
        "a max-pooling layer has no parameters: count only the convolutions and the dense layers."))
    if got in slips:
        what, hint = slips[got]
        return Feedback(False, f"{got:,} is {what}.", [hint])
    hints = []
    if abs(got - expected) in {co * ci * 9 + co for ci, co in convs}:
        hints.append("off by exactly one convolution: count the convolutions of each block again.")
    return Feedback(False, f"You have {got:,}; the count is different.",
                    hints or ["build a table: for each layer, its input and output channels and its count."])


@checker
def check_neuron_count(answer, model, input_shape, numbers) -> Feedback:
    """Check the number of neurons (output values) of some layers of a network.

    Parameters
    ----------
    answer : int
        The student's total number of neurons in the layers ``numbers``.
    model : torch.nn.Module
        The network (a model on the ``meta`` device works).
    input_shape : tuple of int
        Shape of one input, e.g. ``(3, 224, 224)``.
    numbers : iterable of int
        Layer numbers as in Table 6.1 (1 .. L).

    Returns
    -------
    Feedback
        Compared with :func:`cnnlib.counting.layer_table`; names the slip: a layer left
        out or one too many, channels forgotten (only height × width), the input counted.

    Examples
    --------
    >>> from cnnlib import models
    >>> check_neuron_count(1_176 + 1_600, models.lenet5(), (1, 28, 28), [2, 3])
    ✔ Correct: 2,776 neurons in layers 2, 3.
    """
    table = counting.layer_table(model, input_shape)
    by_number = {r.number: r for r in table.layers}
    numbers = [int(n) for n in numbers]
    unknown = [n for n in numbers if n not in by_number]
    if unknown or not numbers:
        raise ValueError(f"numbers must be layer numbers between 1 and {len(by_number)}, got {numbers!r}")
    chosen = [by_number[n] for n in numbers]
    expected = sum(r.neurons for r in chosen)
    got = _as_count(answer)
    if got is None:
        return Feedback(False, f"A number of neurons should be a whole number; got {answer!r}.")
    listed = ", ".join(str(n) for n in numbers)
    if got == expected:
        return Feedback(True, f"Correct: {expected:,} neurons in layers {listed}.")
    for r in chosen:
        if got == expected - r.neurons:
            return Feedback(False, f"{got:,} leaves out layer {r.number} ({r.kind}, {r.neurons:,} neurons).",
                            ["a pooling layer's output counts as neurons too (Table 6.1)."] if "pool" in r.kind else [])
    for n in (min(numbers) - 1, max(numbers) + 1):
        if n in by_number and got == expected + by_number[n].neurons:
            return Feedback(False, f"{got:,} also counts layer {n}.", [f"count layers {listed} only."])
    spatial = sum(int(np.prod(r.output_shape[1:])) if len(r.output_shape) == 3 else r.neurons for r in chosen)
    if got == spatial:
        return Feedback(False, f"{got:,} counts height × width only.",
                        ["a layer's neurons are all the entries of its output: channels × height × width."])
    return Feedback(False, f"You have {got:,}; the count is different.",
                    ["neurons of a layer = the number of entries of its output tensor, M_c × M_h × M_v."])
