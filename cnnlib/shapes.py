"""Output sizes of convolutions with padding, stride and dilation, and receptive fields (Sections 6.3, 6.4).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.3 (Eqs. (6.16)–(6.19)) and 6.4 (receptive fields).
"""
from __future__ import annotations

import numpy as np

from ._validation import as_array, nonnegative_int, pair, positive_int

__all__: list[str] = []

# --- Section 6.4 additions below (receptive fields); Section 6.3 code goes above this line ---

__all__ += ["FieldRow", "ReceptiveFields", "receptive_field"]

from dataclasses import dataclass  # noqa: E402

from ._tables import render_html, render_markdown, render_text  # noqa: E402


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


def _leaves(module, prefix=""):
    children = list(module.named_children())
    if not children:
        yield prefix, module
    for name, child in children:
        yield from _leaves(child, f"{prefix}.{name}" if prefix else name)


def receptive_field(model, input_shape) -> ReceptiveFields:
    """Output size, receptive field, jump and start of every layer of a Sequential-style CNN.

    Parameters
    ----------
    model : torch.nn.Module
        A network whose leaves run in order (``nn.Sequential``, nested ones flattened):
        ``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` and layers that keep the geometry
        (activations, normalization, dropout). The walk stops at the first ``Flatten``,
        ``Linear`` or adaptive pooling, after which a unit sees the whole input.
    input_shape : tuple (C, H, W) or (H, W)
        Size of the input image.

    Returns
    -------
    ReceptiveFields
        A list of :class:`FieldRow`, row 0 the input; it prints as a table.

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
    import math

    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (2, 3):
        raise ValueError(f"input_shape must be (C, H, W) or (H, W), got {input_shape!r}")
    M = [positive_int(v, "input_shape") for v in input_shape][-2:]
    r, j, c = [1, 1], [1, 1], [0.0, 0.0]
    rows = ReceptiveFields([FieldRow(0, "input", "Input", tuple(M), (1, 1), (1, 1), (0.0, 0.0))])
    for name, layer in _leaves(model):
        kind = type(layer).__name__
        if isinstance(layer, (nn.Flatten, nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            break
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            K = pair(layer.kernel_size, "kernel_size")
            s = pair(layer.stride if layer.stride is not None else layer.kernel_size, "stride")
            d = pair(getattr(layer, "dilation", 1), "dilation")
            K_eff = [d_ * (k - 1) + 1 for d_, k in zip(d, K)]
            padding = layer.padding
            if padding == "valid":
                padding = 0
            if padding == "same":  # PyTorch puts the smaller half before, the extra one after
                p = [(k - 1) // 2 for k in K_eff]
                size = list(M)
            else:
                p = list(pair(padding, "padding", minimum=0))
                ceil = getattr(layer, "ceil_mode", False)
                size = []
                for m, k, s_, p_ in zip(M, K_eff, s, p):
                    n = (m + 2 * p_ - k) / s_
                    out = (math.ceil(n) if ceil else math.floor(n)) + 1
                    if ceil and (out - 1) * s_ >= m + p_:  # PyTorch: the last window starts inside
                        out -= 1
                    size.append(out)
            if min(size) < 1:
                raise ValueError(f"layer {name} ({kind}) gets an input of size {tuple(M)}, smaller than its "
                                 f"kernel {tuple(K_eff)} with padding {tuple(p)}: input_shape {tuple(input_shape)} is too small")
            c = [c_ + ((k - 1) / 2 - p_) * j_ for c_, k, p_, j_ in zip(c, K_eff, p, j)]
            r = [r_ + (k - 1) * j_ for r_, k, j_ in zip(r, K_eff, j)]
            j = [j_ * s_ for j_, s_ in zip(j, s)]
            M = size
        elif kind not in _SAME_GEOMETRY:
            raise TypeError(f"receptive_field does not know how layer {name} ({kind}) changes the geometry; "
                            f"it handles Conv2d, MaxPool2d, AvgPool2d and {', '.join(_SAME_GEOMETRY[:4])}, ...")
        rows.append(FieldRow(len(rows), name, kind, tuple(M), tuple(r), tuple(j), tuple(float(v) for v in c)))
    return rows
