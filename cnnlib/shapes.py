"""Output sizes of convolutions with padding, stride and dilation, and receptive fields (Sections 6.3, 6.4).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.3 (Eqs. (6.16)–(6.19)) and 6.4 (receptive fields).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._tables import render_html, render_markdown, render_text
from ._validation import as_array, check_choice, nonnegative_int, pair, positive_int

__all__ = [
    # Section 6.3: output sizes
    "output_size", "effective_kernel_size", "dilate_kernel", "per_side_padding",
    # Section 6.4: receptive fields
    "FieldRow", "ReceptiveFields", "receptive_field", "layer_geometry", "Window", "layer_window", "leaves",
]


def _is_pair(value) -> bool:
    return isinstance(value, (tuple, list, np.ndarray))


def per_side_padding(padding, K, stride=1, dilation=1):
    """Zeros added before and after along each axis: ``((top, bottom), (left, right))``.

    Parameters
    ----------
    padding : int, (int, int), "valid" or "same"
        PyTorch's ``padding``: an int (or a pair) counts the zeros added on **each** side;
        ``"valid"`` adds none; ``"same"`` adds ``d (K - 1)`` in total along each axis, so that
        the output has the input's size, the smaller half before and the extra zero (when the
        total is odd) after, as PyTorch does. ``"same"`` needs ``stride=1``, as in PyTorch.
    K : int or (int, int)
        Kernel size before dilation.
    stride, dilation : int or (int, int), default 1

    Returns
    -------
    ((int, int), (int, int))

    Examples
    --------
    >>> per_side_padding(1, 3)
    ((1, 1), (1, 1))
    >>> per_side_padding("same", (3, 4))       # a 4-wide kernel needs 3 zeros: 1 before, 2 after
    ((1, 1), (1, 2))
    >>> per_side_padding("same", 3, dilation=2)
    ((2, 2), (2, 2))
    """
    if isinstance(padding, str):
        check_choice(padding, "padding", ("valid", "same"))
        if padding == "valid":
            return ((0, 0), (0, 0))
        if pair(stride, "stride") != (1, 1):
            raise ValueError(f"padding='same' needs stride 1 (as in PyTorch): with stride {stride!r} the output "
                             f"cannot have the input's size; give the padding as a number instead")
        totals = effective_kernel_size(pair(K, "K"), pair(dilation, "dilation"))
        return tuple(((t - 1) // 2, (t - 1) - (t - 1) // 2) for t in totals)
    p_h, p_v = pair(padding, "padding", minimum=0)
    return ((p_h, p_h), (p_v, p_v))


def effective_kernel_size(K, dilation=1):
    """Size of a kernel after dilation: ``d (K - 1) + 1`` along each axis (Figure 6.8).

    Parameters
    ----------
    K : int or (int, int)
        Kernel size ``K_h`` or ``(K_h, K_v)``.
    dilation : int or (int, int), default 1
        Dilation ``d_h`` or ``(d_h, d_v)``; 1 means no dilation.

    Returns
    -------
    int or (int, int)
        An int when both arguments are ints, else a pair.

    Notes
    -----
    Dilation puts ``d - 1`` zero rows between neighbouring kernel rows (and likewise
    columns), so a ``K_h x K_v`` kernel spans ``d_h (K_h - 1) + 1`` rows by ``d_v (K_v - 1) + 1``
    columns of the input while keeping ``K_h K_v`` weights (Section 6.3 of the chapter, the
    effective kernel that turns Eq. (6.19) into Eq. (6.17)).

    Examples
    --------
    >>> effective_kernel_size(3, 2)
    5
    >>> effective_kernel_size((3, 5), (2, 1))
    (5, 5)
    """
    K_h, K_v = pair(K, "K")
    d_h, d_v = pair(dilation, "dilation")
    out = (d_h * (K_h - 1) + 1, d_v * (K_v - 1) + 1)
    return out if _is_pair(K) or _is_pair(dilation) else out[0]


def output_size(M, K, padding=0, stride=1, dilation=1, *, total_padding=None):
    r"""Output size of a convolution with padding, stride and dilation, Eq. (6.17).

    Parameters
    ----------
    M : int or (int, int)
        Input size ``M_h`` or ``(M_h, M_v)`` (rows, columns).
    K : int or (int, int)
        Kernel size ``K_h`` or ``(K_h, K_v)``, before dilation.
    padding : int, (int, int), "valid" or "same", default 0
        Zero rows (columns) added on **each** side, as PyTorch's ``padding`` counts them.
        The chapter's total padding is twice this. ``"valid"`` is 0; ``"same"`` pads so that
        the output keeps the input's size (stride 1 only, as in PyTorch; see
        :func:`per_side_padding`).
    stride : int or (int, int), default 1
        Step of the kernel, ``s_h`` or ``(s_h, s_v)``.
    dilation : int or (int, int), default 1
        Dilation, ``d_h`` or ``(d_h, d_v)``; 1 means none.
    total_padding : int or (int, int), optional, keyword only
        The chapter's ``p_h`` (``p_v``): the **total** number of zero rows (columns) added,
        split between top and bottom (left and right); it may be odd. Give either
        ``padding`` or ``total_padding``, not both.

    Returns
    -------
    int or (int, int)
        An int when every argument is an int, else a pair ``(M_h', M_v')``.

    Raises
    ------
    ValueError
        If both ``padding`` and ``total_padding`` are given, if an argument is out of range,
        or if the dilated kernel is larger than the padded input (no output at all).

    Notes
    -----
    Eq. (6.17), along each axis:

    .. math:: M' = \left\lfloor \frac{M + p - d (K - 1) - 1}{s} \right\rfloor + 1,

    with ``p`` the total padding (``p = 2 * padding`` in PyTorch's terms). Without dilation
    (``d = 1``) it is Eq. (6.19); without stride as well it is Eq. (6.18), ``M - K + p + 1``;
    without padding it is Eq. (6.16), ``M - K + 1``.

    Two conventions for padding: the chapter's ``p_h`` counts all the rows added, PyTorch's
    ``padding=1`` adds one row on each side. So the "(2, 2)" padding of VGG19's 3 x 3
    layers in Table 6.1 is PyTorch's ``padding=1``, or ``total_padding=2`` here.

    The chapter says that the plain convolution has "0" for stride; the stride that makes
    Eq. (6.17) reduce to Eq. (6.16) is 1 (a stride of 0 would never move the kernel), which
    is the default here and in PyTorch.

    Examples
    --------
    A 3 x 3 kernel on a 6 x 7 input (Figure 6.3), without and with total padding (2, 2)
    (Figure 6.6), and with dilation 2 (Figure 6.8):

    >>> output_size((6, 7), 3)
    (4, 5)
    >>> output_size((6, 7), 3, total_padding=2) == output_size((6, 7), 3, padding=1) == (6, 7)
    True
    >>> output_size((6, 7), 3, dilation=2)
    (2, 3)
    >>> output_size(10, 3, stride=(5, 4))  # Figure 6.7
    (2, 2)
    >>> output_size(224, 3, padding=1)  # a VGG19 convolution keeps the size
    224
    >>> output_size((6, 7), (3, 4), padding="same"), output_size((6, 7), 3, padding="valid")
    ((6, 7), (4, 5))
    """
    M_h, M_v = pair(M, "M")
    K_eff = effective_kernel_size(pair(K, "K"), pair(dilation, "dilation"))
    s_h, s_v = pair(stride, "stride")
    if total_padding is not None:
        if _is_pair(padding) or isinstance(padding, str) or padding != 0:
            raise ValueError(f"give padding (per side, PyTorch) or total_padding (the chapter's p_h, all rows "
                             f"added), not both; got padding={padding!r} and total_padding={total_padding!r}")
        p_h, p_v = pair(total_padding, "total_padding", minimum=0)
    else:
        p_h, p_v = (before + after for before, after in per_side_padding(padding, K, stride, dilation))
    padded = (M_h + p_h, M_v + p_v)
    if K_eff[0] > padded[0] or K_eff[1] > padded[1]:
        raise ValueError(f"the kernel after dilation, {K_eff[0]} x {K_eff[1]}, is larger than the padded input, "
                         f"{padded[0]} x {padded[1]} (M={M!r} plus total padding ({p_h}, {p_v})): no output")
    out = ((padded[0] - K_eff[0]) // s_h + 1, (padded[1] - K_eff[1]) // s_v + 1)
    arguments = (M, K, padding, stride, dilation, total_padding)
    return out if any(_is_pair(a) for a in arguments) else out[0]


def dilate_kernel(W, dilation):
    """Insert ``d - 1`` zeros between neighbouring kernel entries along the last two axes (Figure 6.8).

    Parameters
    ----------
    W : array_like, shape (K_h, K_v) or (..., K_h, K_v)
        A kernel, or a stack of them such as a layer's ``(C_out, C_in, K_h, K_v)`` weights.
    dilation : int or (int, int)
        ``d_h`` or ``(d_h, d_v)``; 1 returns a copy of ``W``.

    Returns
    -------
    ndarray, shape (..., K_h', K_v')
        The dilated kernel, with ``K_h' = d_h (K_h - 1) + 1`` and ``K_v' = d_v (K_v - 1) + 1``:
        ``out[..., d_h * i, d_v * j] = W[..., i, j]``, zeros elsewhere.

    Notes
    -----
    A 'valid' cross-correlation with the dilated kernel equals a dilated convolution layer
    (``torch.nn.functional.conv2d(..., dilation=d)``): the layer has the weights of ``W`` but
    sees an effective kernel of :func:`effective_kernel_size`, which is how Eq. (6.17)
    follows from Eq. (6.19).

    Examples
    --------
    >>> dilate_kernel([[1, 2], [3, 4]], 2)
    array([[1., 0., 2.],
           [0., 0., 0.],
           [3., 0., 4.]])
    >>> dilate_kernel(np.ones((8, 3, 3, 3)), (2, 1)).shape
    (8, 3, 5, 3)
    """
    W = as_array(W, "W")
    if W.ndim < 2:
        raise ValueError(f"W must have at least 2 axes (K_h, K_v), got an array of shape {W.shape}")
    d_h, d_v = pair(dilation, "dilation")
    K_h, K_v = W.shape[-2:]
    out = np.zeros(W.shape[:-2] + effective_kernel_size((K_h, K_v), (d_h, d_v)), dtype=W.dtype)
    out[..., ::d_h, ::d_v] = W
    return out


# --------------------------------------------------------------------------- receptive fields (Section 6.4)

def layer_geometry(layer):
    """Effective kernel, stride and padding before the first row/column of a Conv2d or 2-D pooling layer.

    Returns
    -------
    (K_eff, stride, padding) : three lists of two ints (rows, columns)
        ``K_eff = d (K - 1) + 1`` with the dilation d; ``padding`` is what comes before the
        first row (column): PyTorch's per-side padding, or for ``padding="same"`` the smaller
        half ``(K_eff - 1) // 2`` (PyTorch puts the extra zero after).

    Examples
    --------
    >>> from torch import nn
    >>> layer_geometry(nn.Conv2d(1, 1, 3, stride=2, padding=1, dilation=2))
    ([5, 5], [2, 2], [1, 1])
    >>> layer_geometry(nn.MaxPool2d(2))
    ([2, 2], [2, 2], [0, 0])
    """
    K = pair(layer.kernel_size, "kernel_size")
    s = pair(layer.stride if layer.stride is not None else layer.kernel_size, "stride")
    d = pair(getattr(layer, "dilation", 1), "dilation")
    K_eff = [d_ * (k - 1) + 1 for d_, k in zip(d, K)]
    padding = layer.padding
    if padding == "valid":
        padding = 0
    if padding == "same":  # PyTorch puts the smaller half before, the extra one after
        p = [(k - 1) // 2 for k in K_eff]
    else:
        p = list(pair(padding, "padding", minimum=0))
    return K_eff, list(s), p


@dataclass(frozen=True)
class FieldRow:
    """Geometry of one layer's output: see :func:`receptive_field`.

    Attributes
    ----------
    index : int
        Position in the flattened stack (0 is the input).
    name : str
        The layer's dotted name in the model (``'features.conv1'``), ``'input'`` for row 0.
    kind : str
        The layer's class name (``'Conv2d'``, ``'MaxPool2d'``, ``'ReLU'``, ...).
    output_size : (int, int)
        Height and width of the layer's output.
    size : (int, int)
        Receptive field: rows and columns of input pixels that can affect one output unit.
    jump : (int, int)
        Distance, in input pixels, between the fields of two neighbouring output units
        (the product of the strides so far).
    start : (float, float)
        Centre of the field of output unit (0, 0), in input pixel coordinates (negative or
        half-integer when padding or even kernels shift it).
    """

    index: int
    name: str
    kind: str
    output_size: tuple
    size: tuple
    jump: tuple
    start: tuple

    def bounds(self, i: int = 0, k: int = 0):
        """Input rows and columns ``((top, bottom), (left, right))``, inclusive, seen by unit (i, k).

        They may reach outside the image (into the padding).

        >>> FieldRow(1, "conv", "Conv2d", (4, 4), (3, 3), (1, 1), (1.0, 1.0)).bounds(2, 0)
        ((2, 4), (0, 2))
        """
        out = []
        for c0, j, r, idx in zip(self.start, self.jump, self.size, (i, k)):
            centre = c0 + idx * j
            out.append((int(round(centre - (r - 1) / 2)), int(round(centre + (r - 1) / 2))))
        return tuple(out)


class ReceptiveFields(list):
    """A list of :class:`FieldRow` that prints as a table (text, Markdown, HTML)."""

    header = ["#", "layer", "type", "output", "receptive field", "jump", "start"]

    def _rows(self):
        def hw(v):
            return " × ".join(f"{a:g}" for a in v)
        return [[r.index, r.name, r.kind, hw(r.output_size), hw(r.size), hw(r.jump), hw(r.start)] for r in self]

    def __str__(self) -> str:
        return render_text(self.header, self._rows())

    def to_markdown(self) -> str:
        """The table in Markdown."""
        return render_markdown(self.header, self._rows())

    def _repr_html_(self) -> str:
        return render_html(self.header, self._rows())


_SAME_GEOMETRY = ("ReLU", "LeakyReLU", "PReLU", "ReLU6", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
                  "Sigmoid", "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Identity",
                  "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LocalResponseNorm", "Dropout", "Dropout2d")


def leaves(module, prefix=""):
    """``(dotted name, module)`` of every leaf of ``module``, in order (nested containers flattened).

    >>> from torch import nn
    >>> [name for name, _ in leaves(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))))]
    ['0', '1.0', '1.1']
    """
    children = list(module.named_children())
    if not children:
        yield prefix, module
    for name, child in children:
        yield from leaves(child, f"{prefix}.{name}" if prefix else name)


def receptive_field(model, input_shape) -> ReceptiveFields:
    """Output size, receptive field, jump and start of every layer of a CNN, branches included.

    Parameters
    ----------
    model : torch.nn.Module
        A network of ``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` and layers that keep the
        geometry (activations, normalization, dropout). A chain of layers (``nn.Sequential``,
        nested ones flattened) is walked by arithmetic alone; any other network (Fire,
        inception and residual modules) is run once on a zero image and its maps followed
        through the branches, where a merge (``cat``, ``+``, ``*``) gets the union of the fields
        it merges: the largest path. The rows stop at the first ``Flatten``, ``Linear`` or
        global pooling, after which a unit sees the whole input. An operation that changes the
        size of the maps outside a known layer (``F.interpolate``, ``F.conv2d`` in ``forward``)
        raises ``TypeError``, as does a layer of another kind.
    input_shape : tuple (C, H, W) or (H, W)
        Size of the input image.

    Returns
    -------
    ReceptiveFields
        A list of :class:`FieldRow`, row 0 the input, then one row per layer call in the
        order they run, and for a branched network one per merge (kind ``'Concatenate'``,
        ``'Add'``, ``'Multiply'``, named after the module that merges); it prints as a table.

    Notes
    -----
    With a layer of kernel K, dilation d (effective kernel ``K' = d (K - 1) + 1``), stride
    s and per-side padding p, applied after layers of receptive field r, jump j and start c:

    - output size ``M' = floor((M + 2 p - K') / s) + 1`` (Eq. (6.17) with the chapter's
      total padding 2p; ``ceil`` for pools with ``ceil_mode=True``);
    - receptive field ``r' = r + (K' - 1) j``;
    - jump ``j' = j s``;
    - start ``c' = c + ((K' - 1) / 2 - p) j``.

    Each pooling multiplies the jump, so the fields of later layers grow quickly: the
    point made about pooling and receptive fields in Section 6.4 of the chapter.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3))
    >>> rows = receptive_field(net, (1, 12, 12))
    >>> [(r.kind, r.output_size, r.size, r.jump) for r in rows]  # doctest: +NORMALIZE_WHITESPACE
    [('Input', (12, 12), (1, 1), (1, 1)), ('Conv2d', (10, 10), (3, 3), (1, 1)),
     ('ReLU', (10, 10), (3, 3), (1, 1)), ('MaxPool2d', (5, 5), (4, 4), (2, 2)),
     ('Conv2d', (3, 3), (8, 8), (2, 2))]
    >>> rows[-1].bounds(0, 0)
    ((0, 7), (0, 7))
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (2, 3):
        raise ValueError(f"input_shape must be (C, H, W) or (H, W), got {input_shape!r}")
    M = [positive_int(v, "input_shape") for v in input_shape][-2:]
    rows = ReceptiveFields([FieldRow(0, "input", "Input", tuple(M), (1, 1), (1, 1), (0.0, 0.0))])
    start = (tuple(M), (1, 1), (1, 1), (0.0, 0.0))  # output size, field, jump, start of each map
    if _is_chain(model):  # layers one after the other: walk them, nothing is run
        geometry = start
        for name, layer in leaves(model):
            geometry = _through(layer, name, geometry)
            if geometry is None:
                break
            rows.append(FieldRow(len(rows), name, type(layer).__name__, *geometry))
        return rows
    from ._field_trace import trace_fields

    return trace_fields(model, input_shape, start, rows, _through)


def _is_chain(model) -> bool:
    """Whether every module of ``model`` is a leaf or a plain ``nn.Sequential`` (its layers run in order)."""
    from torch import nn

    return all(not list(m.children()) or (isinstance(m, nn.Sequential) and type(m).forward is nn.Sequential.forward)
               for m in model.modules())


class Window(NamedTuple):
    """How one layer's windows lie on its input (see :func:`layer_window`): pairs of ints (rows, columns)."""

    size: tuple     #: output size
    kernel: tuple   #: kernel size K (taps), before dilation
    dilation: tuple  #: d: the taps are d apart
    stride: tuple   #: s
    padding: tuple  #: p: zeros before the first row (column); output o's taps are o s - p + t d, t < K


def layer_window(layer, input_size, name: str = "layer"):
    """The windows of a layer on maps of ``input_size``: a :class:`Window`, or ``None`` after the maps end.

    Parameters
    ----------
    layer : torch.nn.Module
        A leaf: ``Conv2d`` (any padding, TensorFlow's ``Conv2dSame`` too), ``MaxPool2d`` or
        ``AvgPool2d`` (``ceil_mode`` too), or a layer that keeps the geometry (activations,
        normalization, dropout: a 1 x 1 window, stride 1, no padding). ``Flatten``, ``Linear``
        and adaptive pooling end the maps (``None``); any other layer is a ``TypeError``.
    input_size : (int, int)
        Size of the maps the layer gets.
    name : str
        The layer's name, for the error messages.

    Examples
    --------
    >>> from torch import nn
    >>> layer_window(nn.Conv2d(1, 1, 3, stride=2, padding=2, dilation=2), (9, 9))
    Window(size=(5, 5), kernel=(3, 3), dilation=(2, 2), stride=(2, 2), padding=(2, 2))
    >>> layer_window(nn.ReLU(), (4, 6)).size, layer_window(nn.Flatten(), (4, 6))
    ((4, 6), None)
    """
    import math

    from torch import nn

    M = tuple(input_size)
    kind = type(layer).__name__
    if isinstance(layer, (nn.Flatten, nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return None
    if kind in _SAME_GEOMETRY:
        return Window(M, (1, 1), (1, 1), (1, 1), (0, 0))
    if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        raise TypeError(f"receptive_field does not know how layer {name} ({kind}) changes the geometry; "
                        f"it handles Conv2d, MaxPool2d, AvgPool2d and {', '.join(_SAME_GEOMETRY[:4])}, ...")
    K_eff, s, p = layer_geometry(layer)
    if kind == "Conv2dSame":  # TensorFlow's 'SAME': ceil(M / s) outputs, the smaller half of the padding before
        size = [math.ceil(m / s_) for m, s_ in zip(M, s)]
        p = [max((o - 1) * s_ + k - m, 0) // 2 for o, s_, k, m in zip(size, s, K_eff, M)]
    elif layer.padding == "same":
        size = list(M)
    else:
        ceil = getattr(layer, "ceil_mode", False)
        size = []
        for m, k, s_, p_ in zip(M, K_eff, s, p):
            n = (m + 2 * p_ - k) / s_
            out = (math.ceil(n) if ceil else math.floor(n)) + 1
            if ceil and (out - 1) * s_ >= m + p_:  # PyTorch: the last window starts inside
                out -= 1
            size.append(out)
    if min(size) < 1:
        raise ValueError(f"layer {name} ({kind}) gets an input of size {M}, smaller than its "
                         f"kernel {tuple(K_eff)} with padding {tuple(p)}: the input_shape is too small")
    return Window(tuple(size), pair(layer.kernel_size, "kernel_size"), pair(getattr(layer, "dilation", 1), "dilation"),
                  tuple(s), tuple(p))


def _through(layer, name, geometry):
    """The geometry (output size, field, jump, start) after ``layer``; ``None`` after a layer that
    ends the maps (``Flatten``, ``Linear``, adaptive pooling: a unit then sees the whole input)."""
    M, r, j, c = geometry
    window = layer_window(layer, M, name)
    if window is None:
        return None
    K_eff = [d * (k - 1) + 1 for k, d in zip(window.kernel, window.dilation)]
    c = [c_ + ((k - 1) / 2 - p_) * j_ for c_, k, p_, j_ in zip(c, K_eff, window.padding, j)]
    r = [r_ + (k - 1) * j_ for r_, k, j_ in zip(r, K_eff, j)]
    j = [j_ * s_ for j_, s_ in zip(j, window.stride)]
    return window.size, tuple(r), tuple(j), tuple(float(v) for v in c)
