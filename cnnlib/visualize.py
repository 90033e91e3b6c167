"""Drawing helpers: matrices as labelled grids, and the flip-and-slide step of a convolution.

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

from ._validation import as_array, check_bool, pair, positive_int

__all__ = [
    # Sections 6.2-6.4: matrices and convolution steps
    "MatrixBox", "draw_matrix", "window_cells", "symbol_labels", "convolution_step_figure",
    # Section 6.4.6: inside a network
    "plot_kernels", "plot_feature_maps", "plot_layer_panel",
]

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
    from ._validation import nonnegative_int

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

    from . import conv
    from ._validation import check_kernel_fits, nonnegative_int

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


# --------------------------------------------------------------------------- inside a network (Section 6.4.6)
# Drawing for the page on inner layers; the numbers come from cnnlib.inner (which computes).


def _as_numpy(value, name: str) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return as_array(value, name)


def _stretch(image: np.ndarray, *, centred: bool = False, percentile: float = 100.0) -> np.ndarray:
    """Scale an array to [0, 1]: min to 0 and max to 1, or (``centred``) 0 to 0.5 and +-m to 1 and 0.

    With ``centred``, m is the given percentile of the magnitudes (values beyond are clipped),
    so that a few large entries do not leave the rest invisible."""
    if centred:
        m = np.percentile(np.abs(image), percentile)
        if m <= 0:
            m = np.abs(image).max()
        return np.clip(0.5 + 0.5 * image / m, 0, 1) if m > 0 else np.full_like(image, 0.5)
    lo, hi = image.min(), image.max()
    return (image - lo) / (hi - lo) if hi > lo else np.full_like(image, 0.5)


def _rgb_tile(chw: np.ndarray, *, centred: bool, percentile: float = 100.0) -> np.ndarray:
    """A (C, h, w) array as an (h, w, 3) image in [0, 1]: colour when C is 3, grey (first channel) otherwise.

    An image already in [0, 1] (``centred=False``) is kept as it is; anything else is stretched."""
    as_is = not centred and chw.min() >= 0 and chw.max() <= 1
    img = chw if as_is else _stretch(chw, centred=centred, percentile=percentile)
    return np.moveaxis(img, 0, -1) if img.shape[0] == 3 else np.repeat(img[0][..., None], 3, axis=-1)


def _mosaic(tiles, ncols: int, *, pad: int = 1, background: float = 1.0) -> np.ndarray:
    """Lay (h, w, 3) tiles out on a grid, ``pad`` pixels apart; a tile smaller than the largest sits at the top left."""
    th = max(t.shape[0] for t in tiles)
    tw = max(t.shape[1] for t in tiles)
    nrows = int(np.ceil(len(tiles) / ncols))
    out = np.full((nrows * (th + pad) - pad, ncols * (tw + pad) - pad, 3), background, dtype=float)
    for n, tile in enumerate(tiles):
        r, c = divmod(n, ncols)
        out[r * (th + pad):r * (th + pad) + tile.shape[0], c * (tw + pad):c * (tw + pad) + tile.shape[1]] = tile
    return out


def plot_kernels(weight, *, ncols: int | None = None, max_kernels: int = 64, size: float = 0.8, title: str | None = None):
    """Draw the kernels of a convolution as a grid of small images.

    Parameters
    ----------
    weight : Tensor or ndarray, shape (K, C, K_h, K_w)
        A layer's kernels, as in ``conv.weight`` of ``nn.Conv2d``.
    ncols : int, optional
        Kernels per row (default: about the square root of the number drawn); with other
        than 1 or 3 input channels, each row is one kernel and ``ncols`` is ignored.
    max_kernels : int, default 64
        Draw at most this many output channels.
    size : float, default 0.8
        Size of one kernel's image in inches.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes showing a mosaic (white lines between the kernels). With 3 input channels,
        one colour image per kernel (its three channels read as red, green and blue,
        stretched together to [0, 1] so that the colour balance stays); with 1 input
        channel, one grey image per kernel; otherwise one row per kernel and one grey image
        per input channel. Each image has its own scale (black: its smallest weight, white:
        its largest).

    Examples
    --------
    >>> fig = plot_kernels(np.random.default_rng(0).normal(size=(6, 1, 5, 5)), ncols=3)
    >>> fig.axes[0].get_images()[0].get_array().shape   # 2 rows, 3 columns of 5 x 5, 1 pixel apart
    (11, 17, 3)
    """
    import matplotlib.pyplot as plt

    W = _as_numpy(weight, "weight")
    if W.ndim != 4:
        raise ValueError(f"weight must have shape (K, C, K_h, K_w), got shape {W.shape}")
    max_kernels = positive_int(max_kernels, "max_kernels")
    W = W[:max_kernels]
    K, C = W.shape[:2]
    if C in (1, 3):
        tiles = [_rgb_tile(W[k], centred=False) for k in range(K)]
        ncols = positive_int(ncols, "ncols") if ncols is not None else int(np.ceil(np.sqrt(K)))
    else:
        tiles = [_rgb_tile(_stretch(W[k, c:c + 1]), centred=False) for k in range(K) for c in range(C)]
        ncols = C
    ncols = min(ncols, len(tiles))
    nrows = int(np.ceil(len(tiles) / ncols))
    fig, ax = plt.subplots(figsize=(size * ncols, size * nrows + (0.3 if title else 0.05)))
    ax.imshow(_mosaic(tiles, ncols), interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_feature_maps(maps, *, ncols: int = 8, max_maps: int = 32, size: float = 1.1, title: str | None = None,
                      labels: Iterable | None = None):
    """Draw the channels of one layer's output (from :func:`cnnlib.inner.feature_maps`) as grey images.

    Parameters
    ----------
    maps : Tensor or ndarray, shape (C, h, w)
    ncols : int, default 8
    max_maps : int, default 32
        Draw the first ``max_maps`` channels (or those named by ``labels``).
    size : float, default 1.1
        Size of one image in inches.
    title : str, optional
    labels : iterable of int, optional
        Which channels to draw (default: 0, 1, 2, ...); each image is titled with its channel.

    Returns
    -------
    matplotlib.figure.Figure
        One image per channel, all on one scale (black 0 or the smallest value, white the
        largest of all drawn), so that strong and weak channels can be compared.

    Examples
    --------
    >>> fig = plot_feature_maps(np.random.default_rng(0).random((6, 10, 10)), ncols=3)
    >>> len(fig.axes)
    6
    """
    import matplotlib.pyplot as plt

    A = _as_numpy(maps, "maps")
    if A.ndim != 3:
        raise ValueError(f"maps must have shape (C, h, w), got shape {A.shape}")
    channels = list(range(min(positive_int(max_maps, "max_maps"), A.shape[0]))) if labels is None else [
        int(c) for c in labels]
    for c in channels:
        if not 0 <= c < A.shape[0]:
            raise ValueError(f"labels must be channels in 0..{A.shape[0] - 1}, got {c}")
    ncols = min(positive_int(ncols, "ncols"), len(channels))
    nrows = int(np.ceil(len(channels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.35 if title else 0.1)),
                             squeeze=False)
    lo, hi = min(0.0, float(A[channels].min())), float(A[channels].max())
    for ax in axes.flat[len(channels):]:
        fig.delaxes(ax)
    for ax, c in zip(axes.flat, channels):
        ax.imshow(A[c], cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
        ax.set_title(str(c), fontsize=7, pad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_layer_panel(panel: Mapping, *, title: str | None = None, size: float = 0.55, percentile: float = 99.0,
                     per_row: int | None = None, invert: bool = False, projections: bool = True):
    """Draw a Figure 6.12-style panel: for each channel, its top projections beside the image patches.

    Parameters
    ----------
    panel : mapping of int to list of TopUnit
        What :func:`cnnlib.inner.layer_panel` returns: for each channel, its best units
        with ``projection`` and ``patch`` arrays of shape (C, h, w); patches with values
        in [0, 1] are drawn as they are.
    title : str, optional
        A title above the panel (say, the layer's name).
    size : float, default 0.55
        Size of one small image in inches.
    percentile : float, default 99.0
        Each projection is drawn with grey for zero and white (black) for plus (minus) this
        percentile of its magnitudes, larger values clipped: projections are sparse, and
        scaling by the single largest value would leave most of them invisible.
    per_row : int, optional
        Channels per row of the figure (default: all in one row). One or two per row keep
        the patches large on a narrow page.
    invert : bool, default False
        Draw grey patches dark on light (``1 - patch``), the way the book draws digits.
    projections : bool, default True
        False: the patches alone, each three times wider on the same page.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per channel: on the left a grid of the deconvnet projections, on the right
        the same grid of the receptive-field patches of the images that excite the channel
        most, best at the top left, as Zeiler and Fergus draw their Figure 2. Patches cut
        at the image border are smaller and sit at the top left of their cell. A unit whose
        activation (``value``) is not positive did not answer at all: its patch is faded
        into grey and its projection left blank, so it cannot pass for an example.

    Examples
    --------
    >>> from types import SimpleNamespace as Unit
    >>> rng = np.random.default_rng(0)
    >>> units = [Unit(patch=rng.random((3, 5, 5)), projection=rng.normal(size=(3, 5, 5))) for _ in range(4)]
    >>> fig = plot_layer_panel({7: units, 9: units}, title="a layer")
    >>> [ax.get_title() for ax in fig.axes]
    ['channel 7', 'channel 9']
    """
    import matplotlib.pyplot as plt

    if not isinstance(panel, Mapping) or not panel:
        raise ValueError(f"panel must be a non-empty mapping of channel to units (inner.layer_panel), got {panel!r}")
    invert = check_bool(invert, "invert")
    k = max(len(units) for units in panel.values())
    g = int(np.ceil(np.sqrt(k)))
    n = len(panel)
    per_row = n if per_row is None else min(positive_int(per_row, "per_row"), n)
    rows = int(np.ceil(n / per_row))
    projections = check_bool(projections, "projections")
    fig, axes = plt.subplots(rows, per_row, figsize=(per_row * ((2 if projections else 1) * g + 0.7) * size,
                                                     rows * (g * size + 0.4) + (0.4 if title else 0.1)),
                             squeeze=False)
    for ax in axes.flat[n:]:
        fig.delaxes(ax)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - (0.8 if title else 0.35) / fig.get_figheight(),
                        wspace=0.05, hspace=0.45 / (g * size))

    def patch_tile(u):
        tile = _rgb_tile(np.asarray(u.patch), centred=False)
        tile = 1 - tile if invert and np.asarray(u.patch).shape[0] == 1 else tile
        return tile if getattr(u, "value", 1.0) > 0 else 0.25 * tile + 0.75 * 0.8   # no answer: faded

    def projection_tile(u):
        tile = _rgb_tile(np.asarray(u.projection), centred=True, percentile=percentile)
        return tile if getattr(u, "value", 1.0) > 0 else np.full_like(tile, 0.8)

    for ax, (channel, units) in zip(axes.flat, panel.items()):
        patches = _mosaic([patch_tile(u) for u in units], g)
        both = patches
        if projections:
            drawn = _mosaic([projection_tile(u) for u in units], g)
            h = max(drawn.shape[0], patches.shape[0])
            gap = max(2, drawn.shape[1] // 8)
            both = np.ones((h, drawn.shape[1] + gap + patches.shape[1], 3))
            both[:drawn.shape[0], :drawn.shape[1]] = drawn
            both[:patches.shape[0], drawn.shape[1] + gap:] = patches
        ax.imshow(both, interpolation="nearest")
        ax.set_title(f"channel {channel}", fontsize=12)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=13)
    return fig
