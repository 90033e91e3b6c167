"""Convolutional and pooling layers in NumPy, readable first (Sections 6.3, 6.4).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.3 (Eqs. (6.20), (6.21)) and 6.4 (pooling, Figure 6.11).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import as_float_array, check_bool, check_choice, nonnegative_int, pair, positive_int
from .shapes import effective_kernel_size, per_side_padding

__all__ = [
    # Section 6.3: convolutional layers, and the transposed convolution (their adjoint)
    "conv2d", "conv1d", "conv_transpose2d",
    # Section 6.4: pooling
    "max_pool2d", "avg_pool2d",
]


def _layer_arrays(x, W, b, layout):
    """Validate a layer's input ``x``, weights ``W`` (``layout`` names their axes) and bias ``b``.

    Returns ``x``, ``W`` and ``b`` as floating arrays; ``layout`` is ``"(C_out, C_in, K_h, K_v)"``
    for :func:`conv2d` and ``"(C_in, C_out, K_h, K_v)"`` for :func:`conv_transpose2d`.
    """
    x = as_float_array(x, "x", ndim=(3, 4))
    W = as_float_array(W, "W", ndim=4)
    in_axis = 1 if layout.startswith("(C_out") else 0
    C_in, C_out = W.shape[in_axis], W.shape[1 - in_axis]
    if x.shape[-3] != C_in:
        raise ValueError(f"x has {x.shape[-3]} channels (shape {x.shape}) but W expects C_in = {C_in} "
                         f"(shape {W.shape}); W must have shape {layout}")
    if b is not None:
        b = as_float_array(b, "b", ndim=1)
        if b.shape[0] != C_out:
            raise ValueError(f"b must have one entry per output channel, C_out = {C_out}, got length {b.shape[0]}")
    return x, W, b


# Largest patch matrix conv2d builds at once, in bytes: near the size of a processor's cache, so
# that a large batch or image is worked through in tiles (whole images or bands of output rows).
_TILE_BYTES = 1 << 20


def _reach(n_out, offset, step, size):
    """Output indices ``t`` in ``[lo, hi)`` whose input index ``t * step + offset`` lies in ``[0, size)``.

    The others fall on the zero padding. ``offset`` is the tap's distance from the window's
    first position minus the padding before the input; ``hi = lo`` when none does.
    """
    lo = max(0, -(offset // step))  # the first t with t * step + offset >= 0
    hi = min(n_out, (size - 1 - offset) // step + 1) if offset < size else 0
    return lo, max(lo, hi)


def _patches(x, rows, row_reach, col_reach, geometry, stride, dilation, before, store):
    """The im2col matrix of output rows ``rows = (h0, h1)`` of the images ``x`` (unpadded), in ``store``.

    Shape ``(N, C_in K_h K_v, (h1 - h0) W_out)``: one row per (channel, tap), one column per
    output pixel, holding the input value that the tap meets at that pixel, or 0 where it meets
    the padding. The zeros are written, never the padded input.
    """
    (h0, h1), (K_h, K_v, W_out), (s_h, s_v), (d_h, d_v), (top, left) = rows, geometry, stride, dilation, before
    N, C_in = x.shape[:2]
    tile = store.reshape(N, C_in, K_h, K_v, h1 - h0, W_out)
    for a, (i0, i1) in enumerate(row_reach):
        i0, i1 = max(i0, h0), min(i1, h1)
        if i1 <= i0:
            tile[:, :, a] = 0
            continue
        if i0 > h0:
            tile[:, :, a, :, : i0 - h0] = 0
        if i1 < h1:
            tile[:, :, a, :, i1 - h0 :] = 0
        r0 = i0 * s_h + a * d_h - top
        in_rows = x[:, :, r0 : r0 + s_h * (i1 - i0 - 1) + 1 : s_h]
        for j, (k0, k1) in enumerate(col_reach):
            out = tile[:, :, a, j, i0 - h0 : i1 - h0]
            if k0 > 0:
                out[..., :k0] = 0
            if k1 < W_out:
                out[..., k1:] = 0
            if k1 > k0:
                c0 = k0 * s_v + j * d_v - left
                out[..., k0:k1] = in_rows[..., c0 : c0 + s_v * (k1 - k0 - 1) + 1 : s_v]
    return tile.reshape(N, C_in * K_h * K_v, (h1 - h0) * W_out)


def conv2d(x, W, b=None, padding=0, stride=1, dilation=1) -> np.ndarray:
    r"""A convolutional layer's pre-activation in NumPy: Eqs. (6.20) and (6.21).

    Cross-correlation, as deep-learning layers compute it (the kernel is not flipped;
    compare :func:`cnnlib.conv.cross_correlate2d`), summed over input channels, plus a bias
    per output channel. Same result as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : array_like, shape (C_in, H, W) or (N, C_in, H, W)
        Input feature maps (one image or a batch).
    W : array_like, shape (C_out, C_in, K_h, K_v)
        Kernels: one ``C_in x K_h x K_v`` volume per output channel.
    b : array_like, shape (C_out,), optional
        Biases; None for none.
    padding : int, (int, int), "valid" or "same", default 0
        Zero rows/columns added on **each** side (PyTorch's convention; the chapter's total
        padding ``p_h`` is twice this). ``"valid"`` means none; ``"same"`` keeps the input's
        size (stride 1 only), with the extra zero after when the total is odd, as PyTorch does
        (:func:`cnnlib.shapes.per_side_padding`).
    stride : int or (int, int), default 1
        Step ``(s_h, s_v)`` of the kernel.
    dilation : int or (int, int), default 1
        Spacing ``(d_h, d_v)`` between the kernel's taps (Figure 6.8).

    Returns
    -------
    ndarray, shape (C_out, H_out, W_out) or (N, C_out, H_out, W_out)
        ``H_out, W_out`` as in Eq. (6.17) (see :func:`cnnlib.shapes.output_size`). Floating,
        with the inputs' precision: float32 in, float32 out.

    Raises
    ------
    ValueError
        Wrong number of axes, channels of ``x`` and ``W`` that differ, ``b`` of the wrong
        length, negative padding, an unknown padding name, ``"same"`` with a stride, stride
        or dilation below 1, or a dilated kernel larger than the padded input.

    Notes
    -----
    For output channel ``o`` and output pixel ``(i, k)``, with the padded input ``x``:

    .. math:: z_{o,i,k} = b_o + \sum_{c} \sum_{a=0}^{K_h-1} \sum_{j=0}^{K_v-1}
              w_{o,c,a,j}\; x_{c,\; i s_h + a d_h,\; k s_v + j d_v}

    (Eqs. (6.20) and (6.21) of the chapter, here with stride and dilation as in Eq. (6.17)).

    How it is computed: as one matrix product (the "im2col" method, how libraries turn a
    convolution into a matrix product). For each tap ``(c, a, j)``, lay out the input value it
    meets at every output pixel as one row of a ``(C_in K_h K_v) x (H_out W_out)`` matrix;
    the ``C_out x (C_in K_h K_v)`` weights times that matrix is ``z``. Padding is never
    built as a padded copy of the input: tap ``(a, j)`` falls on the input for a block of
    output rows and columns (an interval along each axis) and on a zero outside it, so each
    row of the matrix is one strided slice of ``x`` with zeros around it. The matrix is built
    a tile at a time (a few whole images, or a band of output rows of a large one) so that
    it stays about as large as a processor's cache. The benchmark ``bench/bench_conv2d.py``
    compares this with ``torch.nn.functional.conv2d``, with and without padding.

    Examples
    --------
    >>> x = np.arange(42.0).reshape(1, 6, 7)
    >>> W = np.ones((2, 1, 3, 3))
    >>> conv2d(x, W).shape  # 3 x 3 on 6 x 7 gives 4 x 5
    (2, 4, 5)
    >>> conv2d(x, W, padding=1).shape, conv2d(x, W, dilation=2).shape, conv2d(x, W, padding="same").shape
    ((2, 6, 7), (2, 2, 3), (2, 6, 7))
    >>> float(conv2d(x, W, b=[0.5, 0.0])[0, 0, 0])  # 9 pixels summed, plus the bias
    72.5
    >>> conv2d(x.astype(np.float32), W.astype(np.float32)).dtype
    dtype('float32')
    """
    x, W, b = _layer_arrays(x, W, b, "(C_out, C_in, K_h, K_v)")
    C_out, C_in, K_h, K_v = W.shape
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    (top, bottom), (left, right) = per_side_padding(padding, (K_h, K_v), s, d)
    span_h, span_v = effective_kernel_size((K_h, K_v), d)
    batch = x if x.ndim == 4 else x[None]
    N, _, H, W_in = batch.shape
    P_h, P_v = H + top + bottom, W_in + left + right
    if span_h > P_h or span_v > P_v:
        raise ValueError(f"the kernel after dilation, {span_h} x {span_v} (W {K_h} x {K_v}, dilation {d}), "
                         f"is larger than the padded input, {P_h} x {P_v} (x {H} x {W_in}, "
                         f"padding {padding!r})")
    H_out, W_out = (P_h - span_h) // s[0] + 1, (P_v - span_v) // s[1] + 1
    dtype = np.result_type(x, W)
    z = np.empty((N, C_out, H_out, W_out), dtype=dtype)
    weights = W.reshape(C_out, C_in * K_h * K_v).astype(dtype, copy=False)
    # Which output rows (columns) each kernel row (column) meets inside the input, not in the padding.
    row_reach = [_reach(H_out, a * d[0] - top, s[0], H) for a in range(K_h)]
    col_reach = [_reach(W_out, j * d[1] - left, s[1], W_in) for j in range(K_v)]
    # Tiles of whole images (small inputs) or bands of output rows (large ones) keep the patch
    # matrix near the processor's cache and its memory bounded.
    row_bytes = C_in * K_h * K_v * W_out * dtype.itemsize
    images = max(1, min(N, _TILE_BYTES // (row_bytes * H_out)))
    band = H_out if images > 1 else max(1, min(H_out, _TILE_BYTES // row_bytes))
    store = np.empty(images * C_in * K_h * K_v * band * W_out, dtype=dtype)
    for n0 in range(0, N, images):
        n1 = min(N, n0 + images)
        for h0 in range(0, H_out, band):
            h1 = min(H_out, h0 + band)
            patches = _patches(batch[n0:n1], (h0, h1), row_reach, col_reach, (K_h, K_v, W_out), s, d, (top, left),
                               store[: (n1 - n0) * C_in * K_h * K_v * (h1 - h0) * W_out])
            np.matmul(weights, patches, out=z[n0:n1, :, h0:h1, :].reshape(n1 - n0, C_out, (h1 - h0) * W_out))
    if b is not None:
        z += b[:, None, None].astype(z.dtype)
    return z if x.ndim == 4 else z[0]


def conv1d(x, W, b=None, padding=0, stride=1, dilation=1) -> np.ndarray:
    r"""A 1-D convolutional layer's pre-activation in NumPy (sequences, as in Section 6.2).

    The one-dimensional case of :func:`conv2d`: cross-correlation of each input channel with
    its kernel row, summed over channels, plus a bias. Same result as
    ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    x : array_like, shape (C_in, L) or (N, C_in, L)
        Input sequences (one example or a batch), ``C_in`` channels of length ``L``.
    W : array_like, shape (C_out, C_in, K)
        Kernels.
    b : array_like, shape (C_out,), optional
        Biases; None for none.
    padding : int, "valid" or "same", default 0
        Zeros added on **each** end (PyTorch's convention). ``"same"`` keeps the length
        (stride 1 only; an odd total puts the extra zero at the end).
    stride : int, default 1
    dilation : int, default 1

    Returns
    -------
    ndarray, shape (C_out, L_out) or (N, C_out, L_out)
        ``L_out = floor((L + 2 padding - dilation (K - 1) - 1) / stride) + 1``, Eq. (6.17) in
        one dimension. Floating, with the inputs' precision.

    Raises
    ------
    ValueError
        As :func:`conv2d`, for sequences.

    Notes
    -----
    ``z[o, t] = b[o] + sum_c sum_k W[o, c, k] x[c, t s + k d]`` on the padded input: no
    flip, unlike :func:`cnnlib.conv.convolve1d`, which is Eq. (6.1) itself. So
    ``conv1d(x[None], w[None, None])[0] == convolve1d(x, w[::-1], padding=0)``.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 4.0, 7.0, 11.0]])
    >>> conv1d(x, [[[-1.0, 1.0]]])                  # differences x[t + 1] - x[t]
    array([[1., 2., 3., 4.]])
    >>> conv1d(x, [[[-1.0, 1.0]]], padding="same").shape, conv1d(x, [[[-1.0, 1.0]]], dilation=2).shape
    ((1, 5), (1, 3))
    """
    x = as_float_array(x, "x", ndim=(2, 3))
    W = as_float_array(W, "W", ndim=3)
    if isinstance(padding, str):
        check_choice(padding, "padding", ("valid", "same"))
    else:
        padding = nonnegative_int(padding, "padding")
    stride = positive_int(stride, "stride")
    dilation = positive_int(dilation, "dilation")
    if padding == "same" and stride != 1:
        raise ValueError(f"padding='same' needs stride 1 (as in PyTorch), got stride {stride}")
    span, L = dilation * (W.shape[-1] - 1) + 1, x.shape[-1]
    if padding != "same" and span > L + 2 * (0 if padding == "valid" else padding):
        raise ValueError(f"the kernel after dilation spans {span} samples (W of length {W.shape[-1]}, dilation "
                         f"{dilation}), more than the padded input (x of length {L}, padding {padding!r}): no output")
    # A sequence is an image one row high; the kernel, a kernel one row high.
    padding_2d = padding if isinstance(padding, str) else (0, padding)
    z = conv2d(x[..., None, :], W[..., None, :], b, padding=padding_2d, stride=(1, stride), dilation=(1, dilation))
    return z[..., 0, :]


# --------------------------------------------------------------------------- pooling (Section 6.4)

def _pool_windows(x, kernel_size, stride, padding, fill, name):
    """Pad ``x`` with ``fill`` and return its pooling windows, shape (..., H_out, W_out, K_h, K_v)."""
    x = as_float_array(x, name, ndim=(3, 4))
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
    count_include_pad = check_bool(count_include_pad, "count_include_pad")
    windows = _pool_windows(x, kernel_size, stride, padding, 0.0, "x")
    if count_include_pad:
        return windows.mean(axis=(-2, -1))
    ones = np.ones(np.shape(x)[-2:], dtype=windows.dtype)[None]
    counts = _pool_windows(ones, kernel_size, stride, padding, 0.0, "x").sum(axis=(-2, -1))[0]
    return windows.sum(axis=(-2, -1)) / counts


# --------------------------------------------------------------------------- the transposed convolution (the adjoint of conv2d)

def conv_transpose2d(x, W, b=None, padding=0, stride=1, dilation=1, output_padding=0) -> np.ndarray:
    r"""Transposed convolution in NumPy: each input pixel spreads a scaled copy of the kernel.

    Same result as ``torch.nn.functional.conv_transpose2d``. It is the adjoint (the
    transpose) of :func:`conv2d` with the same weights, stride, padding and dilation, and it
    maps an output-sized array back to an input-sized one, so networks use it to upsample;
    the "deconvolution" networks that project feature maps back to pixels (Section 6.4 of the
    chapter) are built from it.

    Parameters
    ----------
    x : array_like, shape (C_in, H, W) or (N, C_in, H, W)
        Input feature maps.
    W : array_like, shape (C_in, C_out, K_h, K_v)
        Kernels, laid out as PyTorch's ``ConvTranspose2d.weight`` (input channels first): the
        weights of a :func:`conv2d` from ``C_out`` to ``C_in`` channels.
    b : array_like, shape (C_out,), optional
        Biases.
    padding : int or (int, int), default 0
        Rows/columns removed from **each** side of the full result (the padding of the
        :func:`conv2d` this one transposes).
    stride : int or (int, int), default 1
        Distance between the copies of the kernel that neighbouring input pixels write.
    dilation : int or (int, int), default 1
        Spacing of the kernel's taps.
    output_padding : int or (int, int), default 0
        Extra rows/columns at the bottom/right, smaller than the stride or the dilation: a
        strided :func:`conv2d` maps several input sizes to one output size, and this picks
        which of them to give back.

    Returns
    -------
    ndarray, shape (C_out, H_out, W_out) or (N, C_out, H_out, W_out)
        ``H_out = (H - 1) s_h - 2 p_h + d_h (K_h - 1) + output_padding + 1``, likewise
        ``W_out``. Floating, with the inputs' precision.

    Raises
    ------
    ValueError
        Wrong number of axes, channels of ``x`` and ``W`` that differ, ``b`` of the wrong
        length, settings out of range, an ``output_padding`` not smaller than the stride or
        the dilation, or a padding that leaves no output.

    Notes
    -----
    For input channel ``c`` and input pixel ``(i, k)``, the value ``x[c, i, k]`` times the
    kernel ``W[c, o]`` is added to the output of channel ``o`` at rows
    ``i s_h + a d_h`` and columns ``k s_v + j d_v`` (before ``padding`` is cut off). The code
    loops over the kernel's taps ``(a, j)``; for each, one matrix product over the channels
    moves every input pixel to its place. Copies of neighbouring pixels overlap when the
    stride is smaller than the kernel, and overlap unevenly when the kernel size is not a
    multiple of the stride.

    Examples
    --------
    >>> x = np.ones((1, 2, 2))
    >>> conv_transpose2d(x, np.ones((1, 1, 3, 3)), stride=2)[0]   # 4 pixels, 3 x 3 copies, 2 apart
    array([[1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.],
           [2., 2., 4., 2., 2.],
           [1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.]])
    """
    x, W, b = _layer_arrays(x, W, b, "(C_in, C_out, K_h, K_v), as in ConvTranspose2d")
    C_in, C_out, K_h, K_v = W.shape
    p_h, p_v = pair(padding, "padding", minimum=0)
    s_h, s_v = pair(stride, "stride")
    d_h, d_v = pair(dilation, "dilation")
    o_h, o_v = pair(output_padding, "output_padding", minimum=0)
    if not (o_h < max(s_h, d_h) and o_v < max(s_v, d_v)):
        raise ValueError(f"output_padding must be smaller than the stride or the dilation (as in PyTorch), got "
                         f"output_padding {output_padding!r} with stride {stride!r} and dilation {dilation!r}")
    batch = x if x.ndim == 4 else x[None]
    N, _, H, W_in = batch.shape
    full_h = (H - 1) * s_h + d_h * (K_h - 1) + 1 + o_h
    full_v = (W_in - 1) * s_v + d_v * (K_v - 1) + 1 + o_v
    if full_h - 2 * p_h < 1 or full_v - 2 * p_v < 1:
        raise ValueError(f"padding {padding!r} removes the whole {full_h} x {full_v} result: no output")
    full = np.zeros((N, C_out, full_h, full_v), dtype=np.result_type(x, W))
    pixels = batch.reshape(N, C_in, H * W_in)
    for a in range(K_h):
        for j in range(K_v):
            # Tap (a, j) of every input pixel's kernel copy, one matrix product over the channels.
            spread = (W[:, :, a, j].T @ pixels).reshape(N, C_out, H, W_in)
            full[:, :, a * d_h : a * d_h + s_h * (H - 1) + 1 : s_h, j * d_v : j * d_v + s_v * (W_in - 1) + 1 : s_v] += spread
    z = full[:, :, p_h : full_h - p_h, p_v : full_v - p_v]
    if b is not None:
        z = z + b[:, None, None].astype(z.dtype)
    return z if x.ndim == 4 else z[0]
