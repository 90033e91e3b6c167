"""Matrices as labelled grids, and the flip-and-slide step of a convolution (Sections 6.2–6.4).

These helpers draw the schematic figures of the chapter with code, so that the book's
figures are computed rather than pasted in:

- :func:`draw_matrix` draws a matrix as a grid of labelled cells (numbers, or symbols such
  as :math:`x_{1,1}`), with chosen cells coloured. Section 6.2 uses it for the Toeplitz
  matrices :math:`T(f)` and :math:`T(g)` of the polynomial example (6.3) and for Figure 6.3;
  Section 6.3 (padding, stride and dilation, Figures 6.6–6.8) and Section 6.4 (pooling,
  Figure 6.11) build their figures on it.
- :func:`window_cells` lists the input cells that one output of a convolution reads, with
  stride and dilation, so the same figure code serves Sections 6.2 and 6.3.
- :func:`convolution_step_figure` re-creates Figure 6.3 of the chapter: (a) the kernel, the
  input with the window of one output coloured, and the output with that cell coloured;
  (b) the window, the element-wise product with the flipped kernel, and the sum that gives
  the output entry.

Coordinates: a matrix drawn with ``origin=(x0, y0)`` occupies the unit cells
``[x0 + j, x0 + j + 1] x [y0 + i, y0 + i + 1]`` for entry ``[i, j]``, and the y axis points
down (as when reading a matrix), so several matrices can be placed side by side on one axes.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.2–6.4 (Figures 6.3, 6.6–6.8, 6.11).
"""
from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple

import numpy as np

from .._validation import as_array, pair, positive_int

__all__ = ["STEP_COLORS", "MatrixBox", "draw_matrix", "window_cells", "symbol_labels", "convolution_step_figure"]

#: Colours of the chapter's Figure 6.3: the first output step in green, the next in red.
STEP_COLORS = ("#4daf4a", "#e41a1c", "#377eb8", "#ff7f00")


class MatrixBox(NamedTuple):
    """Where :func:`draw_matrix` put a matrix: the data coordinates of its outer corners."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def center(self) -> tuple[float, float]:
        """The middle of the drawn matrix, ``(x, y)``."""
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def cell_center(self, i: int, j: int) -> tuple[float, float]:
        """The middle of cell ``[i, j]``, ``(x, y)``."""
        return self.x0 + j + 0.5, self.y0 + i + 0.5


def _cells_of(spec, shape, name):
    """Turn a boolean mask or an iterable of ``(i, j)`` pairs into a list of cells inside ``shape``."""
    if isinstance(spec, np.ndarray) and spec.dtype == bool:
        if spec.shape != tuple(shape):
            raise ValueError(f"{name} mask must have the matrix's shape {tuple(shape)}, got shape {spec.shape}")
        return [tuple(int(a) for a in c) for c in np.argwhere(spec)]
    cells = []
    for cell in spec:
        if not (isinstance(cell, (tuple, list, np.ndarray)) and len(cell) == 2):
            raise TypeError(f"{name} must hold (i, j) pairs or be a boolean mask, got {cell!r}")
        i, j = int(cell[0]), int(cell[1])
        if not (0 <= i < shape[0] and 0 <= j < shape[1]):
            raise ValueError(f"{name} cell {(i, j)} lies outside a matrix of shape {tuple(shape)}")
        cells.append((i, j))
    return cells


def draw_matrix(ax, M, *, labels=None, highlight: Mapping[str, Iterable] | None = None,
                origin: tuple[float, float] = (0.0, 0.0), fmt: str = "{:.3g}",
                title: str | None = None, fontsize: float = 10, dim_zeros: bool = False,
                cmap=None, edgecolor: str = "black", alpha: float = 0.55) -> MatrixBox:
    r"""Draw a matrix as a grid of labelled cells on a matplotlib axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw. Its aspect is set to equal, its y axis points down and its frame is
        hidden, so that several matrices can share one axes.
    M : array_like, shape (n, m)
        The matrix: numbers (shown with ``fmt``) or strings (shown as they are, so
        matplotlib mathtext such as ``"$x_{1,1}$"`` works). A 1-D array is drawn as a column.
    labels : array_like of str, shape (n, m), optional
        Text for each cell instead of the entries of ``M`` (say, symbols over numbers).
    highlight : mapping of colour to cells, optional
        ``{"green": [(0, 0), (0, 1)], "red": mask}``: each value is an iterable of
        ``(i, j)`` pairs (0-based) or a boolean mask of shape (n, m). Later colours are
        drawn over earlier ones.
    origin : (x, y)
        Data coordinates of the top-left corner.
    fmt : str
        Format for numeric entries.
    title : str, optional
        Written above the matrix.
    fontsize : float
        Size of the cell text.
    dim_zeros : bool
        Write numeric zeros in light grey, which makes the band of a Toeplitz matrix stand out.
    cmap : str or Colormap, optional
        Colour numeric cells by value (a heat map with the numbers written on it).
    edgecolor : str
        Colour of the grid lines.
    alpha : float
        Opacity of the highlight colours.

    Returns
    -------
    MatrixBox
        The corners ``(x0, y0, x1, y1)`` of the drawn grid, with ``cell_center(i, j)``, to
        place arrows or operators (``*``, ``=``) next to it.

    Notes
    -----
    Entry ``[i, j]`` occupies the unit square ``[x0 + j, x0 + j + 1] x [y0 + i, y0 + i + 1]``.
    The chapter's figures index from 1 and this function from 0; :func:`symbol_labels`
    writes 1-based symbols.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> box = draw_matrix(ax, np.arange(6).reshape(2, 3), highlight={"green": [(0, 0)]})
    >>> box
    MatrixBox(x0=0.0, y0=0.0, x1=3.0, y1=2.0)
    >>> box.cell_center(1, 2)
    (2.5, 1.5)
    >>> plt.close(fig)
    """
    from matplotlib.patches import Rectangle

    raw = np.asarray(M) if not hasattr(M, "detach") else M
    is_text = isinstance(raw, np.ndarray) and (
        raw.dtype.kind in "US" or (raw.dtype.kind == "O" and raw.size > 0 and all(isinstance(v, str) for v in raw.flat)))
    if is_text:
        text = np.asarray(raw, dtype=str)
        if text.ndim == 1:
            text = text[:, None]
        if text.ndim != 2 or text.size == 0:
            raise ValueError(f"M must be a non-empty 1-D or 2-D array, got shape {text.shape}")
        values = None
    else:
        values = as_array(M, "M", ndim=(1, 2))
        if values.ndim == 1:
            values = values[:, None]
        text = np.array([[fmt.format(v) for v in row] for row in values], dtype=object)
    n, m = text.shape
    if labels is not None:
        labels = np.asarray(labels, dtype=str)
        if labels.ndim == 1:
            labels = labels[:, None]
        if labels.shape != (n, m):
            raise ValueError(f"labels must have the matrix's shape {(n, m)}, got shape {labels.shape}")
        text = labels
    x0, y0 = float(origin[0]), float(origin[1])

    face = np.full((n, m), None, dtype=object)
    if cmap is not None and values is not None:
        import matplotlib.pyplot as plt
        from matplotlib.colors import Normalize

        colormap = plt.get_cmap(cmap)
        norm = Normalize(vmin=values.min(), vmax=values.max() if values.max() > values.min() else values.min() + 1)
        for (i, j), v in np.ndenumerate(values):
            face[i, j] = colormap(norm(v))
    for colour, spec in (highlight or {}).items():
        for i, j in _cells_of(spec, (n, m), "highlight"):
            face[i, j] = colour

    for i in range(n):
        for j in range(m):
            fill = face[i, j]
            ax.add_patch(Rectangle((x0 + j, y0 + i), 1, 1, facecolor=fill if fill is not None else "white",
                                   edgecolor=edgecolor, linewidth=0.8,
                                   alpha=alpha if (fill is not None and cmap is None) else 1.0))
            ax.add_patch(Rectangle((x0 + j, y0 + i), 1, 1, fill=False, edgecolor=edgecolor, linewidth=0.8))
            colour = "black"
            if dim_zeros and values is not None and labels is None and values[i, j] == 0:
                colour = "0.7"
            ax.text(x0 + j + 0.5, y0 + i + 0.5, text[i, j], ha="center", va="center",
                    fontsize=fontsize, color=colour)
    ax.add_patch(Rectangle((x0, y0), m, n, fill=False, edgecolor=edgecolor, linewidth=1.6))
    if title:
        ax.text(x0 + m / 2, y0 - 0.35, title, ha="center", va="bottom", fontsize=fontsize + 1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.autoscale_view()
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    return MatrixBox(x0, y0, x0 + m, y0 + n)


def window_cells(i: int, j: int, kernel_size, stride=1, dilation=1) -> list[tuple[int, int]]:
    """The input cells ``(row, column)`` read by output ``[i, j]`` of a 2-D convolution.

    Parameters
    ----------
    i, j : int
        Output position, 0-based.
    kernel_size : int or (K_h, K_v)
    stride : int or (s_h, s_v)
    dilation : int or (d_h, d_v)

    Returns
    -------
    list of (int, int)
        ``(i * s_h + a * d_h, j * s_v + b * d_v)`` for ``a < K_h``, ``b < K_v``, row by row,
        in the (possibly padded) input.

    Notes
    -----
    With stride and dilation 1 this is the window of Eq. (6.7) (Figure 6.3); Section 6.3
    adds stride and dilation (Eqs. (6.17)–(6.19), Figures 6.7 and 6.8).

    Examples
    --------
    >>> window_cells(0, 1, 2)
    [(0, 1), (0, 2), (1, 1), (1, 2)]
    >>> window_cells(1, 0, (1, 2), stride=2, dilation=2)
    [(2, 0), (2, 2)]
    """
    from .._validation import nonnegative_int

    i = nonnegative_int(i, "i")
    j = nonnegative_int(j, "j")
    K_h, K_v = pair(kernel_size, "kernel_size")
    s_h, s_v = pair(stride, "stride")
    d_h, d_v = pair(dilation, "dilation")
    return [(i * s_h + a * d_h, j * s_v + b * d_v) for a in range(K_h) for b in range(K_v)]


def symbol_labels(symbol: str, shape) -> np.ndarray:
    r"""1-based mathtext labels ``$x_{1,1}$ ...`` for a matrix of the given shape (the chapter's notation).

    Examples
    --------
    >>> symbol_labels("w", (2, 2))
    array([['$w_{1,1}$', '$w_{1,2}$'],
           ['$w_{2,1}$', '$w_{2,2}$']], dtype='<U9')
    >>> symbol_labels("f", 3)
    array(['$f_{0}$', '$f_{1}$', '$f_{2}$'], dtype='<U7')

    A 1-D shape (an int) gives 0-based labels, as for the chapter's polynomial
    coefficients :math:`f_0, f_1, f_2`.
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        n = positive_int(int(shape), "shape")
        return np.array([f"${symbol}_{{{t}}}$" for t in range(n)])
    n, m = pair(tuple(shape) if isinstance(shape, (list, tuple)) else shape, "shape")
    return np.array([[f"${symbol}_{{{a + 1},{b + 1}}}$" for b in range(m)] for a in range(n)])


def convolution_step_figure(W, x, i: int = 0, j: int = 0, *, also=(), symbolic: bool = False,
                            flip: bool = True, fmt: str = "{:.3g}", fontsize: float = 9):
    r"""Re-create Figure 6.3: a 'valid' 2-D convolution and the computation of one output entry.

    Parameters
    ----------
    W : array_like, shape (K_h, K_v)
        The kernel.
    x : array_like, shape (M_h, M_v)
        The input; ``K_h <= M_h`` and ``K_v <= M_v``.
    i, j : int
        The output entry whose computation panel (b) details, 0-based (the chapter's
        :math:`z_{i+1, j+1}`).
    also : iterable of (int, int)
        Further output positions whose windows panel (a) colours too (the chapter colours
        :math:`z_{1,2}` in red next to :math:`z_{1,1}` in green: ``also=[(0, 1)]``).
    symbolic : bool
        Label cells with the chapter's 1-based symbols :math:`x_{i,j}, w_{i,j}, z_{i,j}`
        instead of numbers (the values of ``W`` and ``x`` then only fix the shapes).
    flip : bool
        ``True`` draws the convolution (6.7), whose panel (b) multiplies by the kernel
        flipped in both axes; ``False`` draws the cross-correlation (6.14) that
        convolutional layers compute, without the flip.
    fmt : str
        Format of numeric entries.
    fontsize : float

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: (a) ``W * x = z`` with the windows and outputs coloured; (b) the window
        of ``x``, ``⊙`` the (flipped) kernel, summed (``Σ``) into the output entry.

    Notes
    -----
    Output ``z[i, j]`` of Eq. (6.7) is the sum of the element-wise product of the window
    ``x[i:i+K_h, j:j+K_v]`` with ``W[::-1, ::-1]``; the output has the size (6.6),
    ``(M_h - K_h + 1) x (M_v - K_v + 1)``: 4 x 5 for the chapter's 3 x 3 kernel on a 6 x 7 input.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = convolution_step_figure(np.ones((3, 3)), np.ones((6, 7)), 0, 0, also=[(0, 1)], symbolic=True)
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from .. import conv
    from .._validation import check_kernel_fits, nonnegative_int

    W = as_array(W, "W", ndim=2)
    x = as_array(x, "x", ndim=2)
    check_kernel_fits(W.shape, x.shape)
    (K_h, K_v), (M_h, M_v) = W.shape, x.shape
    out_h, out_v = M_h - K_h + 1, M_v - K_v + 1
    positions = [(nonnegative_int(i, "i"), nonnegative_int(j, "j"))]
    for p in also:
        if not (isinstance(p, (tuple, list)) and len(p) == 2):
            raise TypeError(f"also must hold (i, j) pairs, got {p!r}")
        positions.append((nonnegative_int(p[0], "also[k][0]"), nonnegative_int(p[1], "also[k][1]")))
    for (a, b) in positions:
        if a >= out_h or b >= out_v:
            raise ValueError(f"output position {(a, b)} lies outside the {out_h} x {out_v} output of a "
                             f"{K_h} x {K_v} kernel on a {M_h} x {M_v} input")
    z = conv.convolve2d(x, W) if flip else conv.cross_correlate2d(x, W)

    if symbolic:
        x_lab, w_lab, z_lab = symbol_labels("x", x.shape), symbol_labels("w", W.shape), symbol_labels("z", z.shape)
    else:
        x_lab = np.array([[fmt.format(v) for v in r] for r in x])
        w_lab = np.array([[fmt.format(v) for v in r] for r in W])
        z_lab = np.array([[fmt.format(v) for v in r] for r in z])
    colours = {STEP_COLORS[k % len(STEP_COLORS)]: p for k, p in enumerate(positions)}

    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.55, 1]})
    # (a) W * x = z, windows and outputs coloured.
    gap = 1.6
    top_w = (M_h - K_h) / 2
    box_w = draw_matrix(ax_a, W, labels=w_lab, origin=(0, top_w), fontsize=fontsize, title="$W$")
    box_x = draw_matrix(ax_a, x, labels=x_lab, origin=(box_w.x1 + gap, 0), fontsize=fontsize, title="$x$",
                        highlight={c: window_cells(a, b, W.shape) for c, (a, b) in reversed(list(colours.items()))})
    box_z = draw_matrix(ax_a, z, labels=z_lab, origin=(box_x.x1 + gap, (M_h - out_h) / 2), fontsize=fontsize,
                        title="$z$", highlight={c: [p] for c, p in colours.items()})
    for c, (a, b) in colours.items():  # outline each window, so that overlapping ones stay visible
        ax_a.add_patch(Rectangle((box_x.x0 + b, box_x.y0 + a), K_v, K_h, fill=False, edgecolor=c, linewidth=2.5))
    mid = M_h / 2
    ax_a.text(box_w.x1 + gap / 2, mid, r"$\ast$", ha="center", va="center", fontsize=16)
    ax_a.text(box_x.x1 + gap / 2, mid, "$=$", ha="center", va="center", fontsize=16)
    ax_a.text(box_x.center[0], M_h + 0.5, "(a)" + ("" if flip else "  cross-correlation: no flip"),
              ha="center", va="top", fontsize=fontsize + 2)

    # (b) window ⊙ (flipped) kernel -> Σ -> z_ij.
    a, b = positions[0]
    yb = (M_h - K_h) / 2  # centre panel (b) vertically on panel (a)
    colour = STEP_COLORS[0]
    window = [[x_lab[r][c] for c in range(b, b + K_v)] for r in range(a, a + K_h)]
    wk_lab = w_lab[::-1, ::-1] if flip else w_lab
    box_win = draw_matrix(ax_b, np.array(window), origin=(0, yb), fontsize=fontsize,
                          highlight={colour: np.ones((K_h, K_v), bool)}, title="window of $x$")
    box_k = draw_matrix(ax_b, np.asarray(wk_lab), origin=(box_win.x1 + gap, yb), fontsize=fontsize,
                        title="flipped $W$" if flip else "$W$ (not flipped)")
    ax_b.text(box_win.x1 + gap / 2, yb + K_h / 2, r"$\odot$", ha="center", va="center", fontsize=16)
    ax_b.annotate("", xy=(box_k.x1 + 1.6, yb + K_h / 2), xytext=(box_k.x1 + 0.2, yb + K_h / 2),
                  arrowprops={"arrowstyle": "->", "lw": 1.4})
    ax_b.text(box_k.x1 + 0.9, yb + K_h / 2 - 0.25, r"$\Sigma$", ha="center", va="bottom", fontsize=14)
    draw_matrix(ax_b, np.array([[z_lab[a][b]]]), origin=(box_k.x1 + 1.8, yb + K_h / 2 - 0.5), fontsize=fontsize,
                highlight={colour: [(0, 0)]})
    ax_b.text(box_k.x0 - gap / 2, M_h + 0.5, f"(b)  computing $z_{{{a + 1},{b + 1}}}$",
              ha="center", va="top", fontsize=fontsize + 2)
    ax_a.set_ylim(M_h + 1.5, -1.0)
    ax_b.set_ylim(M_h + 1.5, -1.0)
    fig.tight_layout()
    return fig
