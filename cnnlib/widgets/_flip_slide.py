"""Flip-and-slide explorer of the discrete convolution, Eq. (6.1) (Section 6.2).

:class:`FlipSlideExplorer` is an anywidget: the drawing and all the arithmetic live in
``cnnlib/widgets/flip_slide.js`` and run in the browser from the synced sequences ``f`` and
``g``, so the explorer also works in the rendered book without a kernel.
:func:`flip_slide_figure` draws the same picture with matplotlib for a few shifts.
"""
from __future__ import annotations

import anywidget
import numpy as np
import traitlets

from .._validation import as_array, check_bool, nonnegative_int
from ._esm import esm_source

__all__ = ["FlipSlideExplorer", "flip_slide_explorer", "flip_slide_figure", "PRESETS"]


#: Longest sequence the explorer accepts (the picture stays readable).
MAX_LENGTH = 40

#: Preset pairs offered by the explorer's menu: name -> {"f": [...], "g": [...]}.
PRESETS = {
    "box * box = triangle": {"f": [1.0] * 4, "g": [1.0] * 4},
    "moving average (f) of a signal (g)": {"f": [1 / 3] * 3, "g": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 5.0, 7.0]},
    "differencer (f) of a pulse (g)": {"f": [1.0, -1.0], "g": [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]},
    "two dice: pmf * pmf (index 0 = face 1)": {"f": [1 / 6] * 6, "g": [1 / 6] * 6},
    "ramp (f) * echo (g): the flip matters": {"f": [1.0, 2.0, 3.0, 4.0], "g": [1.0, 0.0, 0.0, 0.5]},
}


def _sequence(value, name):
    arr = as_array(value, name, ndim=1)
    if np.iscomplexobj(arr) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite real numbers, got {value!r}")
    if len(arr) > MAX_LENGTH:
        raise ValueError(f"{name} must have at most {MAX_LENGTH} entries for the explorer, got {len(arr)}")
    return [float(v) for v in arr]


class FlipSlideExplorer(anywidget.AnyWidget):
    r"""Interactive picture of :math:`(f * g)(t) = \sum_\tau f(t - \tau)\, g(\tau)`, Eq. (6.1).

    Four aligned strips over :math:`\tau`, each with a y scale: ``g``, the flipped and shifted
    ``f(t - tau)``, their product, and the whole output ``f * g`` with the current ``t``
    highlighted; a slider moves ``t`` and a menu picks one of :data:`PRESETS`. A "no flip
    (cross-correlation)" box slides ``f`` without flipping it, :math:`(f \star g)(\ell) =
    \sum_\tau f(\tau - \ell)\, g(\tau)` at the lag :math:`\ell = t - (m - 1)`, which is what
    ``numpy.correlate(g, f, "full")`` returns and what deep-learning layers compute. The root
    element has the CSS class ``cnnlib-flip-slide`` and the value of ``(f * g)(t)`` (or of
    the cross-correlation) is written to ``.cnnlib-flip-slide-value``.

    Attributes
    ----------
    f, g : list of float, lengths m and n (1 to 40)
        The sequences, indexed from 0.
    t : int
        The shift, ``0 <= t <= m + n - 2`` (the output index; the lag ``t - (m - 1)`` when
        ``flip`` is False).
    flip : bool
        True (default): the convolution (6.1); False: the cross-correlation.
    preset : str
        Name of the preset pair shown in the menu (``"custom"`` for user sequences).
    presets : dict
        The menu: name -> ``{"f": [...], "g": [...]}``.
    """

    _esm = traitlets.Unicode(esm_source("flip_slide.js")).tag(sync=True)
    f = traitlets.List(traitlets.Float(), default_value=PRESETS["box * box = triangle"]["f"]).tag(sync=True)
    g = traitlets.List(traitlets.Float(), default_value=PRESETS["box * box = triangle"]["g"]).tag(sync=True)
    t = traitlets.Int(3).tag(sync=True)
    flip = traitlets.Bool(True).tag(sync=True)
    preset = traitlets.Unicode("box * box = triangle").tag(sync=True)
    presets = traitlets.Dict(default_value=PRESETS).tag(sync=True)

    @traitlets.validate("f", "g")
    def _valid_sequence(self, proposal):
        return _sequence(proposal["value"], proposal["trait"].name)

    @traitlets.validate("t")
    def _valid_t(self, proposal):
        t = nonnegative_int(proposal["value"], "t")
        top = len(self.f) + len(self.g) - 2
        if t > top:
            raise ValueError(f"t must be between 0 and len(f) + len(g) - 2 = {top}, got {t}")
        return t

    def output(self) -> np.ndarray:
        """What the bottom strip shows, shape ``(m + n - 1,)``: the full convolution ``f * g``,
        or without the flip the cross-correlation ``numpy.correlate(g, f, "full")``."""
        return np.convolve(self.f, self.g) if self.flip else np.correlate(self.g, self.f, "full")

    def value(self) -> float:
        """The output at the current shift (what ``.cnnlib-flip-slide-value`` shows)."""
        return float(self.output()[self.t])


def flip_slide_explorer(f=None, g=None, t: int | None = None, preset: str | None = None, *,
                        flip: bool = True) -> FlipSlideExplorer:
    """Build the flip-and-slide explorer for ``f * g``, Eq. (6.1).

    Parameters
    ----------
    f, g : array_like, shapes (m,) and (n,), optional
        The sequences (1 to 40 finite numbers each). If both are omitted, ``preset`` is used.
    t : int, optional
        Initial shift, ``0 <= t <= m + n - 2``; default the middle of the output.
    preset : str, optional
        A key of :data:`PRESETS`; default ``"box * box = triangle"``. Ignored when ``f`` and
        ``g`` are given.
    flip : bool, default True, keyword only
        Start with the convolution (True) or with the cross-correlation (False, the "no flip"
        box ticked).

    Returns
    -------
    FlipSlideExplorer

    Notes
    -----
    Eq. (6.1): :math:`(f * g)(t) = \\sum_\\tau f(t - \\tau) g(\\tau)`. Flip ``f``, shift it by
    ``t``, multiply by ``g`` pointwise, add up.

    Examples
    --------
    >>> w = flip_slide_explorer([1, 2, 3], [1, 0, -1], t=2)
    >>> w.value()
    2.0
    >>> flip_slide_explorer(preset="two dice: pmf * pmf (index 0 = face 1)").output().size
    11
    >>> flip_slide_explorer([1, 2, 3], [1, 0, -1], t=2, flip=False).value()   # lag 0: 1·1 + 2·0 + 3·(-1)
    -2.0
    """
    flip = check_bool(flip, "flip")
    if (f is None) != (g is None):
        raise ValueError("give both f and g, or neither (to use a preset)")
    if f is None:
        preset = "box * box = triangle" if preset is None else preset
        if preset not in PRESETS:
            options = ", ".join(repr(k) for k in PRESETS)
            raise ValueError(f"preset must be one of {options}, got {preset!r}")
        f, g = PRESETS[preset]["f"], PRESETS[preset]["g"]
    else:
        preset = "custom"
    f, g = _sequence(f, "f"), _sequence(g, "g")
    if t is None:
        t = (len(f) + len(g) - 2) // 2
    widget = FlipSlideExplorer()
    with widget.hold_trait_notifications():
        widget.f, widget.g, widget.preset, widget.flip = f, g, preset, bool(flip)
    widget.t = t
    return widget


def flip_slide_figure(f, g, ts):
    """Static flip-and-slide strips for a few shifts ``t``: one column per shift.

    Parameters
    ----------
    f, g : array_like, shapes (m,) and (n,)
    ts : sequence of int
        Shifts to draw, each in ``0 .. m + n - 2`` (1 to 8 of them).

    Returns
    -------
    matplotlib.figure.Figure
        ``3 * len(ts)`` axes in 3 rows: ``g`` with the flipped and shifted ``f`` on top,
        their product in the middle, the output ``f * g`` with ``t`` marked at the bottom.

    Notes
    -----
    The static counterpart of :class:`FlipSlideExplorer`, for Eq. (6.1).

    Examples
    --------
    >>> fig = flip_slide_figure([1, 1, 1], [1, 1, 1], [0, 2, 4])
    >>> len(fig.axes)
    9
    """
    import matplotlib.pyplot as plt

    f, g = np.asarray(_sequence(f, "f")), np.asarray(_sequence(g, "g"))
    m, n = len(f), len(g)
    try:
        ts = [nonnegative_int(t, "ts entry") for t in ts]
    except TypeError:
        raise TypeError(f"ts must be a sequence of ints, got {ts!r}") from None
    if not 1 <= len(ts) <= 8:
        raise ValueError(f"ts must hold 1 to 8 shifts, got {len(ts)}")
    if max(ts) > m + n - 2:
        raise ValueError(f"every t in ts must be between 0 and len(f) + len(g) - 2 = {m + n - 2}, got {ts!r}")
    out = np.convolve(f, g)
    taus = np.arange(-(m - 1), m + n - 1)
    g_pad = np.where((taus >= 0) & (taus < n), g[np.clip(taus, 0, n - 1)], 0.0)
    fig, axes = plt.subplots(3, len(ts), figsize=(3.0 * len(ts) + 0.5, 5.6), sharex=True, squeeze=False)
    lim_in = 1.15 * max(np.abs(f).max(), np.abs(g).max(), 1e-12)
    for col, t in enumerate(ts):
        k = t - taus
        f_shift = np.where((k >= 0) & (k < m), f[np.clip(k, 0, m - 1)], 0.0)
        prod = f_shift * g_pad
        top, mid, bottom = axes[:, col]
        top.stem(taus, g_pad, linefmt="C0-", markerfmt="C0o", basefmt="k-", label="g(τ)")
        top.stem(taus + 0.15, f_shift, linefmt="C3--", markerfmt="C3s", basefmt=" ", label="f(t − τ)")
        top.set_ylim(-lim_in if min(f.min(), g.min()) < 0 else -0.1 * lim_in, lim_in)
        top.set_title(f"t = {t}")
        mid.stem(taus, prod, linefmt="C4-", markerfmt="C4o", basefmt="k-")
        mid.text(0.02, 0.85, f"sum = {prod.sum():.4g}", transform=mid.transAxes, fontsize=9)
        bottom.stem(np.arange(len(out)), out, linefmt="C2-", markerfmt="C2o", basefmt="k-")
        bottom.plot([t], [out[t]], "o", color="C1", markersize=10, zorder=3)
        bottom.set_xlabel("τ (top rows), t (bottom row)")
        if col == 0:
            top.set_ylabel("g and flipped f")
            mid.set_ylabel("product")
            bottom.set_ylabel("(f * g)(t)")
    # One legend for the figure, above the axes, so that it covers no marker.
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, fontsize=9, frameon=False)
    axes[0, 0].set_xlim(taus[0] - 0.7, taus[-1] + 0.7)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig
