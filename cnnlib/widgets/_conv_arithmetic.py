"""Convolution-arithmetic explorer: padding, stride, dilation and Eq. (6.17) (Section 6.3).

:class:`ConvArithmeticExplorer` is an anywidget: the drawing and all the arithmetic live in
``cnnlib/widgets/conv_arithmetic.js`` and run in the browser from the synced settings, so
the explorer also works in the rendered book without a kernel.
:func:`conv_arithmetic_figure` draws the same picture with matplotlib for a few output pixels.
"""
from __future__ import annotations

import anywidget
import numpy as np
import traitlets

from .. import shapes
from .._validation import nonnegative_int, pair
from ._esm import esm_source

__all__ = ["ConvArithmeticExplorer", "conv_arithmetic_explorer", "conv_arithmetic_figure", "unread_indices", "LIMITS"]


#: Range of each setting, ``name -> (smallest, largest)``; the sliders of the explorer span them.
#: ``total_padding`` is the chapter's total padding (zeros before plus after), as on the page.
LIMITS = {"M": (1, 16), "K": (1, 7), "total_padding": (0, 8), "stride": (1, 5), "dilation": (1, 4)}


def _figure_positions(positions, default, size, what):
    """The pixels ``(i, k)`` a static figure draws, one panel each: 1 to 6 pairs inside ``size``."""
    if positions is None:
        positions = default if tuple(size) != (1, 1) else [(0, 0)]
    try:
        positions = [tuple(nonnegative_int(v, "positions entry") for v in ik) for ik in positions]
    except TypeError:
        raise TypeError(f"positions must be a sequence of (i, k) pairs of ints, got {positions!r}") from None
    if not 1 <= len(positions) <= 6 or any(len(ik) != 2 for ik in positions):
        raise ValueError(f"positions must hold 1 to 6 pairs (i, k), got {positions!r}")
    bad = [ik for ik in positions if ik[0] >= size[0] or ik[1] >= size[1]]
    if bad:
        raise ValueError(f"positions {bad} are outside the {size[0]} × {size[1]} {what}")
    return positions


#: Fill of the input rows and columns that no output reads (the explorer's pink).
_UNREAD = "#f6c9d4"


def _setting(value, name):
    """``value`` as a list ``[h, v]`` inside :data:`LIMITS` (an int means the same on both axes)."""
    lo, hi = LIMITS[name]
    h, v = pair(value, name, minimum=lo)
    if max(h, v) > hi:
        raise ValueError(f"{name} must be at most {hi} in the explorer (the picture stays readable), got {value!r}")
    return [h, v]


class ConvArithmeticExplorer(anywidget.AnyWidget):
    """Interactive picture of a convolution's geometry: padded input, dilated kernel, output, Eq. (6.17).

    Sliders set, for the rows (h) and the columns (v) separately, the input size, the kernel
    size, the chapter's **total** padding (odd totals included: the extra zero row goes below,
    the extra column to the right, as PyTorch's ``padding="same"`` does), the stride and the
    dilation; another slider, a play button or a click on an output pixel chooses the output
    pixel whose kernel taps are drawn on the padded input. Input rows and columns that no
    output reads are shaded and listed. The root element has the CSS class
    ``cnnlib-conv-arithmetic``; the output size and the unread rows and columns (or an error
    message when the dilated kernel does not fit) are written to
    ``.cnnlib-conv-arithmetic-output``.

    Attributes
    ----------
    M, K, total_padding, stride, dilation : list of two ints
        Settings ``[rows, columns]`` within :data:`LIMITS`. ``total_padding`` is the chapter's
        ``(p_h, p_v)``: all the zero rows (columns) added.
    position : int
        Output pixel shown, row-major (``i * M'_v + k``); the browser clamps it to the output.
    """

    _esm = traitlets.Unicode(esm_source("conv_arithmetic.js")).tag(sync=True)
    M = traitlets.List(traitlets.Int(), default_value=[7, 7]).tag(sync=True)
    K = traitlets.List(traitlets.Int(), default_value=[3, 3]).tag(sync=True)
    total_padding = traitlets.List(traitlets.Int(), default_value=[0, 0]).tag(sync=True)
    stride = traitlets.List(traitlets.Int(), default_value=[1, 1]).tag(sync=True)
    dilation = traitlets.List(traitlets.Int(), default_value=[1, 1]).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)

    @traitlets.validate("M", "K", "total_padding", "stride", "dilation")
    def _valid_setting(self, proposal):
        return _setting(proposal["value"], proposal["trait"].name)

    @traitlets.validate("position")
    def _valid_position(self, proposal):
        return nonnegative_int(proposal["value"], "position")

    def output_size(self) -> tuple:
        """``(M'_h, M'_v)`` by Eq. (6.17), as :func:`cnnlib.shapes.output_size` gives it.

        Raises ``ValueError`` when the dilated kernel is larger than the padded input (the
        explorer then shows an error message instead of the output).
        """
        return shapes.output_size(tuple(self.M), tuple(self.K), stride=tuple(self.stride),
                                  dilation=tuple(self.dilation), total_padding=tuple(self.total_padding))

    def unread(self) -> tuple:
        """Input rows and columns (counted from 0) that no output pixel reads: ``(rows, columns)``.

        A stride larger than the dilated kernel jumps over some rows, and a last step that
        does not fit leaves the bottom rows unread (Figure 6.7: stride ``(5, 4)`` on 10 x 10).
        The browser shades the same rows and columns.

        >>> conv_arithmetic_explorer(10, 3, stride=(5, 4)).unread()
        ([3, 4, 8, 9], [3, 7, 8, 9])
        """
        return unread_indices(self.M, self.K, self.total_padding, self.stride, self.dilation)

    def output_pixel(self) -> tuple:
        """The output pixel ``(i, k)`` drawn, ``position`` clamped to the output as the browser does."""
        rows, cols = self.output_size()
        current = min(self.position, rows * cols - 1)
        return divmod(current, cols)


def unread_indices(M, K, total_padding=0, stride=1, dilation=1) -> tuple:
    """Input rows and columns (from 0) that no output of the convolution reads: ``(rows, columns)``.

    Parameters
    ----------
    M, K, total_padding, stride, dilation : int or (int, int)
        As in :func:`cnnlib.shapes.output_size`, with the chapter's total padding; an odd
        total puts the extra zero after (below, to the right).

    Returns
    -------
    (list of int, list of int)

    Examples
    --------
    >>> unread_indices(10, 3, stride=(5, 4))          # Figure 6.7
    ([3, 4, 8, 9], [3, 7, 8, 9])
    >>> unread_indices(7, 3, total_padding=2, stride=2)
    ([], [])
    """
    out = shapes.output_size(pair(M, "M"), K, stride=stride, dilation=dilation, total_padding=total_padding)
    result = []
    for M_, K_, p_, s_, d_, n in zip(pair(M, "M"), pair(K, "K"), pair(total_padding, "total_padding", minimum=0),
                                     pair(stride, "stride"), pair(dilation, "dilation"), out):
        read = {o * s_ + a * d_ - p_ // 2 for o in range(n) for a in range(K_)}  # padded index minus the zeros before
        result.append([i for i in range(M_) if i not in read])
    return tuple(result)


def conv_arithmetic_explorer(M=7, K=3, padding=None, stride=1, dilation=1, position: int = 0, *,
                             total_padding=None) -> ConvArithmeticExplorer:
    """Build the convolution-arithmetic explorer.

    Parameters
    ----------
    M : int or (int, int), default 7
        Input size (rows, columns), 1 to 16.
    K : int or (int, int), default 3
        Kernel size, 1 to 7.
    padding : int or (int, int), optional
        Zero rows/columns added on **each** side (PyTorch's ``padding``), 0 to 4; the
        explorer shows it as the chapter's total padding, twice this.
    stride : int or (int, int), default 1
        1 to 5.
    dilation : int or (int, int), default 1
        1 to 4.
    position : int, default 0
        Output pixel shown first, row-major.
    total_padding : int or (int, int), optional, keyword only
        The chapter's total padding ``(p_h, p_v)``, 0 to 8, odd totals included (the extra
        zero goes below / to the right). Give ``padding`` or ``total_padding``, not both;
        default no padding.

    Returns
    -------
    ConvArithmeticExplorer

    Notes
    -----
    The explorer prints Eq. (6.17) with the numbers filled in, in the chapter's convention:
    ``M' = floor((M + p - d (K - 1) - 1) / s) + 1`` per axis, ``p`` the total padding.

    Examples
    --------
    >>> conv_arithmetic_explorer((6, 7), 3).output_size()
    (4, 5)
    >>> conv_arithmetic_explorer((6, 7), 3, total_padding=2).output_size()   # Figure 6.6
    (6, 7)
    >>> conv_arithmetic_explorer((6, 7), 3, dilation=2).output_size()
    (2, 3)
    """
    if padding is not None and total_padding is not None:
        raise ValueError(f"give padding (per side, PyTorch) or total_padding (the chapter's p), not both; got "
                         f"padding={padding!r} and total_padding={total_padding!r}")
    if padding is not None:
        total_padding = [2 * p for p in pair(padding, "padding", minimum=0)]
    values = {name: _setting(value, name) for name, value in
              dict(M=M, K=K, total_padding=0 if total_padding is None else total_padding, stride=stride,
                   dilation=dilation).items()}
    return ConvArithmeticExplorer(**values, position=nonnegative_int(position, "position"))


def conv_arithmetic_figure(M, K, padding=0, stride=1, dilation=1, positions=None, *, total_padding=None):
    """Static picture of a convolution's geometry for a few output pixels (the explorer's counterpart).

    Parameters
    ----------
    M, K, padding, stride, dilation : int or (int, int)
        As in :func:`cnnlib.shapes.output_size` (``padding`` per side).
    positions : sequence of (int, int), optional
        Output pixels ``(i, k)`` to draw, one panel each (1 to 6); default the first and the
        last output pixel.
    total_padding : int or (int, int), optional, keyword only
        The chapter's total padding instead of ``padding``; an odd total puts the extra row
        (column) at the bottom (right), as ``torch.nn.functional.pad`` with a larger second
        amount does.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per position: the padded input (zero padding grey, input rows and columns
        that no output reads pink, see :func:`unread_indices`) with the dilated kernel's
        taps in red and its span dashed, and to its right the output with pixel (i, k) in
        green; the title gives the output size from Eq. (6.17).

    Examples
    --------
    >>> fig = conv_arithmetic_figure((6, 7), 3, padding=1, positions=[(0, 0), (5, 6)])
    >>> len(fig.axes), fig.axes[0].get_title()
    (2, 'output pixel (0, 0) of 6 × 7')
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    out = shapes.output_size(pair(M, "M"), K, padding, stride, dilation, total_padding=total_padding)
    M_h, M_v = pair(M, "M")
    K_h, K_v = pair(K, "K")
    s_h, s_v = pair(stride, "stride")
    d_h, d_v = pair(dilation, "dilation")
    if total_padding is None:
        top, left = pair(padding, "padding", minimum=0)
        bottom, right = top, left
    else:
        p_h, p_v = pair(total_padding, "total_padding", minimum=0)
        top, left = p_h // 2, p_v // 2
        bottom, right = p_h - top, p_v - left
    rows_in, cols_in = M_h + top + bottom, M_v + left + right
    unread_rows, unread_cols = unread_indices((M_h, M_v), (K_h, K_v), (top + bottom, left + right), (s_h, s_v), (d_h, d_v))
    positions = _figure_positions(positions, [(0, 0), (out[0] - 1, out[1] - 1)], out, "output")
    span_h, span_v = shapes.effective_kernel_size((K_h, K_v), (d_h, d_v))
    width = cols_in + 1.5 + out[1]
    fig, axes = plt.subplots(1, len(positions), figsize=(min(16, 0.32 * width * len(positions) + 0.6),
                                                         0.32 * max(rows_in, out[0]) + 1.0), squeeze=False)
    for ax, (i, k) in zip(axes[0], positions):
        for r in range(rows_in):
            for c in range(cols_in):
                inside = top <= r < top + M_h and left <= c < left + M_v
                never = r - top in unread_rows or c - left in unread_cols
                color = "0.88" if not inside else _UNREAD if never else "white"
                ax.add_patch(Rectangle((c, r), 1, 1, facecolor=color, edgecolor="0.55", lw=0.5))
        ax.add_patch(Rectangle((k * s_v, i * s_h), span_v, span_h, fill=False, edgecolor="C1", lw=2, ls="--"))
        for a in range(K_h):
            for b in range(K_v):
                ax.add_patch(Rectangle((k * s_v + b * d_v + 0.1, i * s_h + a * d_h + 0.1), 0.8, 0.8,
                                       facecolor="C3", alpha=0.6, edgecolor="C3"))
        x0 = cols_in + 1.5
        for r in range(out[0]):
            for c in range(out[1]):
                ax.add_patch(Rectangle((x0 + c, r), 1, 1, facecolor="C2" if (r, c) == (i, k) else "#f4fbf4",
                                       edgecolor="0.55", lw=0.5))
        ax.set_xlim(-0.2, x0 + out[1] + 0.2)
        ax.set_ylim(max(rows_in, out[0]) + 0.2, -0.2)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"output pixel ({i}, {k}) of {out[0]} × {out[1]}")
    never = "; pink: input rows/columns no output reads" if unread_rows or unread_cols else ""
    fig.suptitle(f"input {M_h} × {M_v}, padding ({top}+{bottom}, {left}+{right}), kernel {K_h} × {K_v}, "
                 f"stride ({s_h}, {s_v}), dilation ({d_h}, {d_v}) → output {out[0]} × {out[1]}{never}", fontsize=10)
    fig.tight_layout()
    return fig


__all__ += ["transposed_conv_figure"]


def transposed_conv_figure(M, K, stride=1, padding=0, positions=None):
    """Static picture of a transposed convolution: each input pixel writes a copy of the kernel.

    Parameters
    ----------
    M : int or (int, int)
        Input size (rows, columns), 1 to 16.
    K : int or (int, int)
        Kernel size, 1 to 7.
    stride : int or (int, int), default 1
        Distance between the copies written by neighbouring input pixels.
    padding : int or (int, int), default 0
        Rows/columns cut from each side of the result (PyTorch's ``padding``).
    positions : sequence of (int, int), optional
        Input pixels ``(i, k)`` to draw, one panel each (1 to 6); default the first and the last.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per position: the input with pixel (i, k) in green, and the full result with
        the cells that pixel writes in red; every cell of the result is shaded by how many input
        pixels write to it (uneven when the kernel size is not a multiple of the stride), the
        rows and columns that ``padding`` cuts off are grey. The title gives the output size
        ``(M - 1) s - 2 p + K`` (:func:`cnnlib.layers.conv_transpose2d`).

    Examples
    --------
    >>> fig = transposed_conv_figure(2, 3, stride=2, positions=[(0, 0), (1, 1)])
    >>> len(fig.axes), fig.axes[0].get_title()
    (2, 'input pixel (0, 0) → rows 0–2, columns 0–2')
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    (M_h, M_v), (K_h, K_v) = _setting(M, "M"), _setting(K, "K")
    s_h, s_v = _setting(stride, "stride")
    p_h, p_v = pair(padding, "padding", minimum=0)
    full_h, full_v = (M_h - 1) * s_h + K_h, (M_v - 1) * s_v + K_v
    out_h, out_v = full_h - 2 * p_h, full_v - 2 * p_v
    if out_h < 1 or out_v < 1:
        raise ValueError(f"padding {padding!r} removes the whole {full_h} × {full_v} result: no output")
    positions = _figure_positions(positions, [(0, 0), (M_h - 1, M_v - 1)], (M_h, M_v), "input")
    # How many input pixels write to each cell of the full result.
    writes = np.zeros((full_h, full_v), dtype=int)
    for i in range(M_h):
        for k in range(M_v):
            writes[i * s_h : i * s_h + K_h, k * s_v : k * s_v + K_v] += 1
    shade = plt.get_cmap("Blues")
    width = M_v + 1.5 + full_v
    fig, axes = plt.subplots(1, len(positions), figsize=(min(16, 0.32 * width * len(positions) + 0.6),
                                                         0.32 * max(M_h, full_h) + 1.2), squeeze=False)
    for ax, (i, k) in zip(axes[0], positions):
        for r in range(M_h):
            for c in range(M_v):
                ax.add_patch(Rectangle((c, r), 1, 1, facecolor="C2" if (r, c) == (i, k) else "#f4fbf4",
                                       edgecolor="0.55", lw=0.5))
        x0 = M_v + 1.5
        for r in range(full_h):
            for c in range(full_v):
                cut = r < p_h or r >= full_h - p_h or c < p_v or c >= full_v - p_v
                color = "0.85" if cut else shade(0.15 + 0.7 * writes[r, c] / writes.max())
                ax.add_patch(Rectangle((x0 + c, r), 1, 1, facecolor=color, edgecolor="0.55", lw=0.5))
                if not cut:
                    ax.text(x0 + c + 0.5, r + 0.5, str(writes[r, c]), ha="center", va="center", fontsize=7)
        ax.add_patch(Rectangle((x0 + k * s_v, i * s_h), K_v, K_h, facecolor="C3", alpha=0.35, edgecolor="C3", lw=2))
        ax.set_xlim(-0.2, x0 + full_v + 0.2)
        ax.set_ylim(max(M_h, full_h) + 0.2, -0.2)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"input pixel ({i}, {k}) → rows {i * s_h}–{i * s_h + K_h - 1}, "
                     f"columns {k * s_v}–{k * s_v + K_v - 1}")
    fig.suptitle(f"input {M_h} × {M_v}, kernel {K_h} × {K_v}, stride ({s_h}, {s_v}), padding ({p_h}, {p_v}) → "
                 f"output {out_h} × {out_v}; numbers: input pixels writing to each cell", fontsize=10)
    fig.tight_layout()
    return fig
