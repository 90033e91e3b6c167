"""Convolutional and pooling layers in NumPy, readable first (Sections 6.3, 6.4).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.3 (Eqs. (6.20), (6.21)) and 6.4 (pooling, Figure 6.11).
"""
from __future__ import annotations

import numpy as np

from ._validation import as_array, nonnegative_int, pair, positive_int

__all__: list[str] = []

# --- Section 6.4 additions below (pooling); Section 6.3 code goes above this line ---

__all__ += ["max_pool2d", "avg_pool2d"]


def _pool_windows(x, kernel_size, stride, padding, fill, name):
    """Pad ``x`` with ``fill`` and return its pooling windows, shape (..., H_out, W_out, K_h, K_v)."""
    x = as_array(x, name, ndim=(3, 4))
    K_h, K_v = pair(kernel_size, "kernel_size")
    s_h, s_v = pair(kernel_size if stride is None else stride, "stride")
    p_h, p_v = pair(padding, "padding", minimum=0)  # PyTorch's per-side padding
    if p_h > K_h // 2 or p_v > K_v // 2:
        raise ValueError(f"padding must be at most half the kernel size (as in PyTorch), got padding "
                         f"{padding!r} for kernel_size {kernel_size!r}")
    M_h, M_v = x.shape[-2] + 2 * p_h, x.shape[-1] + 2 * p_v
    if K_h > M_h or K_v > M_v:
        raise ValueError(f"kernel_size {(K_h, K_v)} is larger than the padded input {(M_h, M_v)} "
                         f"(x of shape {x.shape}, padding {(p_h, p_v)})")
    widths = [(0, 0)] * (x.ndim - 2) + [(p_h, p_h), (p_v, p_v)]
    padded = np.pad(x, widths, constant_values=fill)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (K_h, K_v), axis=(-2, -1))
    return windows[..., ::s_h, ::s_v, :, :]


def max_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Max-pooling of each channel: the largest value in each window (Figure 6.11 (a)).

    Parameters
    ----------
    x : array_like, shape (C, H, W) or (N, C, H, W)
        Input feature maps; each channel is pooled on its own.
    kernel_size : int or (int, int)
        Window size (K_h, K_v).
    stride : int or (int, int), optional
        Step of the window; defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch.
    padding : int or (int, int), default 0
        Rows/columns added on *each* side (PyTorch's convention; the chapter's total padding
        is twice this), filled with -inf so that they never win. At most half the kernel.

    Returns
    -------
    ndarray, shape (C, H_out, W_out) or (N, C, H_out, W_out)
        ``H_out = floor((H + 2 * padding - K_h) / s_h) + 1``, as in Eq. (6.17) with total
        padding ``2 * padding``; likewise ``W_out``.

    Notes
    -----
    For channel j and output pixel (i, k), ``a[j, i, k] = max over (i', k') in I(i, k) of
    x[j, i', k']``, where the window ``I(i, k)`` holds the rows ``i*s_h ... i*s_h + K_h - 1``
    and columns ``k*s_v ... k*s_v + K_v - 1`` of the padded input (Section 6.4 of the
    chapter). Same result as ``torch.nn.functional.max_pool2d`` (without ``dilation`` and
    ``ceil_mode``).

    Examples
    --------
    >>> x = np.array([[[1, 3, 2, 0], [4, 6, 5, 7], [8, 2, 0, 1], [3, 5, 9, 4]]])
    >>> max_pool2d(x, 2)
    array([[[6., 7.],
            [8., 9.]]])
    """
    windows = _pool_windows(x, kernel_size, stride, padding, -np.inf, "x")
    return windows.max(axis=(-2, -1))


def avg_pool2d(x, kernel_size, stride=None, padding=0, *, count_include_pad: bool = True) -> np.ndarray:
    """Average pooling of each channel: the mean of each window (Figure 6.11 (b)).

    Parameters
    ----------
    x : array_like, shape (C, H, W) or (N, C, H, W)
        Input feature maps; each channel is pooled on its own.
    kernel_size : int or (int, int)
        Window size (K_h, K_v).
    stride : int or (int, int), optional
        Step of the window; defaults to ``kernel_size``, as in PyTorch.
    padding : int or (int, int), default 0
        Zeros added on *each* side (PyTorch's convention). At most half the kernel.
    count_include_pad : bool, default True
        Divide by the whole window ``K_h * K_v`` even where it overlaps the padding
        (PyTorch's default); if False, divide by the number of real pixels in the window.

    Returns
    -------
    ndarray, shape (C, H_out, W_out) or (N, C, H_out, W_out)
        Same output size as :func:`max_pool2d`.

    Notes
    -----
    ``a[j, i, k] = (1 / |I(i, k)|) * sum over (i', k') in I(i, k) of x[j, i', k']`` (Section
    6.4 of the chapter); equals ``torch.nn.functional.avg_pool2d``.

    Examples
    --------
    >>> x = np.array([[[1, 3, 2, 0], [4, 6, 5, 7], [8, 2, 0, 1], [3, 5, 9, 4]]])
    >>> avg_pool2d(x, 2)
    array([[[3.5, 3.5],
            [4.5, 3.5]]])
    """
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    windows = _pool_windows(x, kernel_size, stride, padding, 0.0, "x")
    if count_include_pad:
        return windows.mean(axis=(-2, -1))
    ones = np.ones(np.shape(x)[-2:])[None]
    counts = _pool_windows(ones, kernel_size, stride, padding, 0.0, "x").sum(axis=(-2, -1))[0]
    return windows.sum(axis=(-2, -1)) / counts
