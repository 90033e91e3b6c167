"""Drawing helpers: matrices as labelled grids, the flip-and-slide step, and what a network holds inside.

The figures of the chapter are drawn with code, so that they are computed rather than pasted
in. ``visualize.X`` reaches every public name of the two modules:

``grids``   :class:`MatrixBox`, :func:`draw_matrix`, :func:`window_cells`, :func:`symbol_labels`,
            :func:`convolution_step_figure`, ``STEP_COLORS`` (Sections 6.2–6.4, Figures 6.3,
            6.6–6.8, 6.11)
``inside``  :func:`plot_kernels`, :func:`plot_feature_maps`, :func:`plot_layer_panel`
            (Section 6.4.6, Figure 6.12; the numbers come from :mod:`cnnlib.inner`)

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.2–6.4.
"""
from .grids import STEP_COLORS, MatrixBox, convolution_step_figure, draw_matrix, symbol_labels, window_cells
from .inside import plot_feature_maps, plot_kernels, plot_layer_panel

__all__ = ["STEP_COLORS", "MatrixBox", "draw_matrix", "window_cells", "symbol_labels", "convolution_step_figure",
           "plot_kernels", "plot_feature_maps", "plot_layer_panel"]
