"""Convolutions in one, two and three dimensions, and their matrices (Section 6.2).

Everything here is plain NumPy, written to be read next to the chapter:

- :func:`convolve1d` is Eq. (6.1) for finite sequences,
- :func:`toeplitz` is the matrix :math:`T(f)` of the polynomial example (6.3),
- :func:`convolve2d` is Eq. (6.7) (``mode="valid"``, output size (6.6)) and the classical
  convolution of (6.4)/(6.5) (``mode="full"``),
- :func:`cross_correlate2d` is the unflipped form that convolutional layers compute (6.14),
- :func:`volume_convolve` is Eq. (6.9), output size (6.8),
- :func:`channel_sum_convolve` is the right-hand side of Eq. (6.10),
- :func:`convolution_matrix` is the doubly blocked Toeplitz matrix of a 2-D convolution.

Every function takes the input first and the kernel second (``convolve2d(x, W)``), as
``numpy.convolve``, ``scipy.signal``, PyTorch and :func:`cnnlib.layers.conv2d` do, although
the chapter writes the product as :math:`W * x`. The exceptions, :func:`toeplitz` and
:func:`convolution_matrix`, build a matrix from a kernel and a size: there is no input yet.
Results are floating and keep the inputs' precision (float32 in, float32 out).

Indices in the chapter start at 1; here they start at 0. Arrays are indexed
``[row, column]``, that is ``[h, v]`` in the chapter's subscripts.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.2.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import as_array, as_float_array, check_choice, check_kernel_fits, nonnegative_int, positive_int

__all__ = [
    "convolve1d",
    "toeplitz",
    "convolve2d",
    "cross_correlate2d",
    "volume_convolve",
    "channel_sum_convolve",
    "convolution_matrix",
]


def convolve1d(x, w, mode: str | None = None, *, padding: int | None = None, stride: int = 1,
               dilation: int = 1) -> np.ndarray:
    r"""Discrete convolution of two finite sequences, Eq. (6.1), with optional padding, stride and dilation.

    Parameters
    ----------
    x, w : array_like, shape (M,) and (K,)
        The input sequence and the kernel, both taken as zero outside their index ranges
        ``0..M-1`` and ``0..K-1``. Input first, as in :func:`numpy.convolve`,
        ``scipy.signal`` and PyTorch. Without stride and dilation the convolution is
        commutative, so the order matters only for ``padding``, ``stride`` and ``dilation``,
        which refer to ``x`` and ``w``.
    mode : {"full", "valid"}, optional
        ``"full"`` (the default) returns every term that can be non-zero,
        ``(x * w)(t)`` for ``t = 0, ..., M + K - 2`` (length ``M + K - 1``). ``"valid"``
        keeps only the terms where the shorter sequence lies entirely inside the longer one
        (length ``max(M, K) - min(M, K) + 1``), as :func:`numpy.convolve` does.
    padding : int, optional, keyword only
        Zeros added on **each** side of ``x`` before the kernel slides over it (PyTorch's
        convention), instead of a ``mode``: ``padding=0`` is ``"valid"`` and
        ``padding=dilation * (K - 1)`` is ``"full"``. Give ``mode`` or ``padding``, not both.
    stride : int, default 1, keyword only
        Keep every ``stride``-th output, starting with the first.
    dilation : int, default 1, keyword only
        Spacing between the kernel's taps: ``dilation - 1`` zeros between neighbours, so the
        kernel spans ``dilation * (K - 1) + 1`` samples (Figure 6.8 in one dimension).

    Returns
    -------
    ndarray, shape (M_out,)
        ``M_out = floor((M + 2 * padding - dilation * (K - 1) - 1) / stride) + 1``, Eq. (6.17)
        in one dimension. The dtype is floating: float32 inputs give float32.

    Raises
    ------
    ValueError
        An unknown ``mode``, both ``mode`` and ``padding``, a negative padding, a stride or
        dilation below 1, or a dilated kernel longer than the padded input.

    Notes
    -----
    Eq. (6.1) of the chapter, here with stride ``s``, dilation ``d`` and the padded input
    :math:`\tilde x` (``padding`` zeros on each side):

    .. math:: (x * w)(t) = \sum_{k=0}^{K-1} w(k)\, \tilde x\bigl(s\,t + d\,(K - 1 - k)\bigr).

    The kernel is flipped (``k`` runs forwards while the input index runs backwards) and
    slid along the input; each tap ``w(k)`` adds a shifted, scaled copy of the input, which
    is how the loop below computes it. With ``stride=1, dilation=1`` and ``"full"`` padding
    this is the plain (6.1): ``sum_k w(k) x(t - k)``.

    Examples
    --------
    >>> convolve1d([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> convolve1d([1, 1, 1, 1], [1, -1], mode="valid")
    array([0., 0., 0.])
    >>> convolve1d([1, 2, 3, 4, 5, 6], [1, -1], padding=0, stride=2)   # x[t+1] - x[t], every other t
    array([1., 1., 1.])
    >>> convolve1d([1, 2, 3, 4, 5], [1, -1], padding=0, dilation=2)   # x[t+2] - x[t]
    array([2., 2., 2.])
    """
    x = as_float_array(x, "x", ndim=1)
    w = as_float_array(w, "w", ndim=1)
    stride = positive_int(stride, "stride")
    dilation = positive_int(dilation, "dilation")
    if padding is not None and mode is not None:
        raise ValueError(f"give mode or padding, not both; got mode={mode!r} and padding={padding!r}")
    if padding is None:
        mode = check_choice("full" if mode is None else mode, "mode", ("full", "valid"))
        if mode == "valid" and dilation == 1 and len(w) > len(x):
            x, w = w, x  # as numpy.convolve: the shorter one slides inside the longer one
        padding = dilation * (len(w) - 1) if mode == "full" else 0
    padding = nonnegative_int(padding, "padding")
    K, span = len(w), dilation * (len(w) - 1) + 1
    padded = np.pad(x, padding)
    if span > len(padded):
        raise ValueError(f"the kernel after dilation spans {span} samples (w of length {K}, dilation {dilation}), "
                         f"more than the padded input's {len(padded)} (x of length {len(x)}, padding {padding} "
                         f"per side): no output")
    M_out = (len(padded) - span) // stride + 1
    out = np.zeros(M_out, dtype=np.result_type(x, w))
    # Tap k of the flipped kernel meets the input d * (K - 1 - k) samples after the window's start.
    for k, w_k in enumerate(w):
        start = dilation * (K - 1 - k)
        out += w_k * padded[start : start + stride * (M_out - 1) + 1 : stride]
    return out


def toeplitz(f, n: int) -> np.ndarray:
    """The Toeplitz matrix ``T(f)`` with ``T(f) @ g == convolve1d(f, g)`` for any ``g`` of length ``n``.

    Parameters
    ----------
    f : array_like, shape (m,)
        The sequence whose values fill the diagonals.
    n : int
        Length of the sequences ``g`` the matrix will multiply (``n >= 1``).

    Returns
    -------
    T : ndarray, shape (m + n - 1, n)
        ``T[i, j] = f[i - j]`` when ``0 <= i - j < m`` and 0 otherwise: constant along every
        diagonal, so it is fixed by at most ``(m + n - 1) + n - 1`` numbers.

    Notes
    -----
    This is the matrix of the polynomial example around Eq. (6.3): with ``f`` of length 3
    and ``g`` of length 6, ``T(f)`` is 8 x 6 and ``T(g)`` is 8 x 3, and both
    ``T(f) @ g`` and ``T(g) @ f`` give the 8 coefficients of the product polynomial.
    Because convolution with ``f`` is a matrix product, it is linear in ``g``.

    Examples
    --------
    >>> toeplitz([1, 2, 3], 4)
    array([[1., 0., 0., 0.],
           [2., 1., 0., 0.],
           [3., 2., 1., 0.],
           [0., 3., 2., 1.],
           [0., 0., 3., 2.],
           [0., 0., 0., 3.]])
    """
    f = as_array(f, "f", ndim=1)
    n = positive_int(n, "n")
    m = len(f)
    T = np.zeros((m + n - 1, n), dtype=f.dtype)
    for j in range(n):  # column j holds f, shifted down by j
        T[j : j + m, j] = f
    return T


def cross_correlate2d(x, W) -> np.ndarray:
    r"""Slide ``W`` over ``x`` without flipping it: what a convolutional layer computes, Eq. (6.14).

    Parameters
    ----------
    x : array_like, shape (M_h, M_v)
        The input (first, as in ``scipy.signal`` and PyTorch).
    W : array_like, shape (K_h, K_v)
        The kernel (filter). ``K_h <= M_h`` and ``K_v <= M_v`` are required.

    Returns
    -------
    z : ndarray, shape (M_h - K_h + 1, M_v - K_v + 1)
        ``z[i, j] = sum_{a, b} W[a, b] * x[i + a, j + b]``; float32 inputs give float32.

    Notes
    -----
    Deep-learning libraries call this operation "convolution"; mathematically it is a
    cross-correlation. It equals the flipped convolution of Eq. (6.7) with the kernel
    flipped in both axes: ``cross_correlate2d(x, W) == convolve2d(x, W[::-1, ::-1])``.
    Since a layer learns its kernel, the two conventions describe the same family of layers.

    Examples
    --------
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> cross_correlate2d(x, [[1, 0], [0, -1]])
    array([[-5., -5., -5.],
           [-5., -5., -5.]])
    """
    x = as_float_array(x, "x", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    check_kernel_fits(W.shape, x.shape)
    windows = sliding_window_view(x, W.shape)  # (M_h-K_h+1, M_v-K_v+1, K_h, K_v), a view
    return np.einsum("ijab,ab->ij", windows, W)


def convolve2d(x, W, mode: str = "valid") -> np.ndarray:
    r"""Two-dimensional convolution ``x * W``: Eq. (6.7) (``"valid"``) or Eq. (6.4)/(6.5) (``"full"``).

    Parameters
    ----------
    x : array_like, shape (M_h, M_v)
        The input matrix (an image, say); first, as in ``scipy.signal.convolve2d(x, W)``.
    W : array_like, shape (K_h, K_v)
        The kernel.
    mode : {"valid", "full"}
        ``"valid"`` (the deep-learning case, Eq. (6.7)) needs ``K_h <= M_h`` and
        ``K_v <= M_v`` and returns shape (6.6), ``(M_h - K_h + 1, M_v - K_v + 1)``.
        ``"full"`` is the classical convolution (6.4) of the two matrices padded with zeros,
        shape (6.5), ``(M_h + K_h - 1, M_v + K_v - 1)``, for any sizes.

    Returns
    -------
    z : ndarray
        Floating: float32 inputs give float32.

    Notes
    -----
    Eq. (6.7), with the chapter's 1-based indices,

    .. math:: z_{i,j} = \sum_{i'=0}^{K_h-1}\sum_{j'=0}^{K_v-1} w_{K_h-i',\,K_v-j'}\; x_{i+i',\,j+j'},

    that is, flip ``W`` in both axes and slide it over ``x`` (Figure 6.3). The chapter writes
    the product as :math:`W * x`; the functions here, like ``scipy.signal`` and PyTorch, take
    the input first. The valid output is a block of the full one, and unlike the full
    convolution it is not commutative: the kernel is the argument that slides.

    Examples
    --------
    >>> x = np.ones((6, 7)); W = np.ones((3, 3))
    >>> convolve2d(x, W).shape          # Figure 6.3: 3 x 3 on 6 x 7 gives 4 x 5
    (4, 5)
    >>> convolve2d(x, W, mode="full").shape
    (8, 9)
    """
    x = as_float_array(x, "x", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    check_choice(mode, "mode", ("valid", "full"))
    if mode == "full":
        K_h, K_v = W.shape
        x = np.pad(x, ((K_h - 1, K_h - 1), (K_v - 1, K_v - 1)))
    return cross_correlate2d(x, W[::-1, ::-1])


def volume_convolve(x, W) -> np.ndarray:
    r"""Volume convolution of two 3-tensors, Eq. (6.9), flipping all three axes.

    Parameters
    ----------
    x : array_like, shape (M_c, M_h, M_v)
        The input volume (channels first: a colour image has ``M_c = 3``).
    W : array_like, shape (K_c, K_h, K_v)
        The kernel; ``K_c <= M_c``, ``K_h <= M_h``, ``K_v <= M_v``.

    Returns
    -------
    z : ndarray, shape (M_c - K_c + 1, M_h - K_h + 1, M_v - K_v + 1)
        Eq. (6.8). When ``K_c == M_c`` the first axis has length 1.

    Notes
    -----
    Eq. (6.9) flips the kernel along the depth axis too. So when the depths agree,
    kernel channel ``K_c - 1 - i`` meets input channel ``i`` (0-based), and

    ``volume_convolve(x, W)[0] == channel_sum_convolve(x, W[::-1])``,

    whereas Eq. (6.10) as written pairs channel ``i`` with channel ``i``
    (:func:`channel_sum_convolve`), which is what convolutional layers do. The two agree
    exactly when the kernel is symmetric in depth, and in a network the difference is only
    a relabelling of learned weights.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, W = rng.normal(size=(3, 5, 5)), rng.normal(size=(3, 2, 2))
    >>> volume_convolve(x, W).shape
    (1, 4, 4)
    >>> np.allclose(volume_convolve(x, W)[0], channel_sum_convolve(x, W[::-1]))
    True
    """
    x = as_float_array(x, "x", ndim=3)
    W = as_float_array(W, "W", ndim=3)
    check_kernel_fits(W.shape, x.shape)
    windows = sliding_window_view(x, W.shape)  # (out_c, out_h, out_v, K_c, K_h, K_v)
    return np.einsum("kijcab,cab->kij", windows, W[::-1, ::-1, ::-1])


def channel_sum_convolve(x, W) -> np.ndarray:
    r"""Right-hand side of Eq. (6.10): convolve channel ``i`` of ``x`` with channel ``i`` of ``W`` and add.

    Parameters
    ----------
    x : array_like, shape (C, M_h, M_v)
    W : array_like, shape (C, K_h, K_v)
        Same number of channels ``C`` as ``x``.

    Returns
    -------
    z : ndarray, shape (M_h - K_h + 1, M_v - K_v + 1)
        ``sum_i convolve2d(x[i], W[i])``.

    See Also
    --------
    volume_convolve : Eq. (6.9), which pairs channels in reverse order.

    Examples
    --------
    >>> x = np.ones((2, 3, 3))
    >>> W = np.stack([np.eye(2), -np.eye(2)])
    >>> channel_sum_convolve(x, W)
    array([[0., 0.],
           [0., 0.]])
    """
    x = as_float_array(x, "x", ndim=3)
    W = as_float_array(W, "W", ndim=3)
    if W.shape[0] != x.shape[0]:
        raise ValueError(
            f"x and W must have the same number of channels, got x with {x.shape[0]} "
            f"(shape {x.shape}) and W with {W.shape[0]} (shape {W.shape})"
        )
    check_kernel_fits(W.shape, x.shape)
    windows = sliding_window_view(x, W.shape[1:], axis=(1, 2))  # (C, out_h, out_v, K_h, K_v)
    return np.einsum("cijab,cab->ij", windows, W[:, ::-1, ::-1])


def convolution_matrix(W, input_shape, mode: str = "valid") -> np.ndarray:
    r"""The doubly blocked Toeplitz matrix ``A`` of a 2-D convolution with ``W``.

    ``convolution_matrix(W, x.shape) @ x.ravel() == convolve2d(x, W).ravel()``. The kernel
    comes first here because there is no input yet, only its shape (as in
    ``scipy.linalg.convolution_matrix(a, n)``).

    Parameters
    ----------
    W : array_like, shape (K_h, K_v)
        The kernel.
    input_shape : tuple of two ints ``(M_h, M_v)``
        Shape of the inputs the matrix will act on (flattened row by row, ``x.ravel()``).
    mode : {"valid", "full"}
        As in :func:`convolve2d`.

    Returns
    -------
    A : ndarray, shape (out_h * out_v, M_h * M_v)
        With ``(out_h, out_v)`` the output shape (6.6) or (6.5).

    Notes
    -----
    Row ``i * out_v + j`` of ``A`` holds the flipped kernel placed over the window of ``x``
    that produces output ``z[i, j]``, and zeros elsewhere. Cut into ``out_h x M_h`` blocks
    of size ``out_v x M_v``, the matrix is block Toeplitz (block ``(i, r)`` depends only on
    ``r - i``) and each block is itself Toeplitz: a "doubly blocked" Toeplitz matrix. It is
    the 2-D analogue of :func:`toeplitz`, and shows once more that convolution is linear.

    Examples
    --------
    >>> W = np.array([[1., 2.], [3., 4.]])
    >>> convolution_matrix(W, (2, 3))
    array([[4., 3., 0., 2., 1., 0.],
           [0., 4., 3., 0., 2., 1.]])
    """
    W = as_float_array(W, "W", ndim=2)
    check_choice(mode, "mode", ("valid", "full"))
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2):
        raise TypeError(f"input_shape must be a pair (M_h, M_v), got {input_shape!r}")
    M_h = positive_int(input_shape[0], "input_shape[0]")
    M_v = positive_int(input_shape[1], "input_shape[1]")
    K_h, K_v = W.shape
    pad_h, pad_v = (K_h - 1, K_v - 1) if mode == "full" else (0, 0)
    P_h, P_v = M_h + 2 * pad_h, M_v + 2 * pad_v  # the (padded) grid the kernel slides over
    check_kernel_fits(W.shape, (P_h, P_v), input_name="the input")
    out_h, out_v = P_h - K_h + 1, P_v - K_v + 1
    Wf = W[::-1, ::-1]
    # Flat index in the padded grid of every (output pixel, kernel entry) pair.
    i, j, a, b = np.meshgrid(np.arange(out_h), np.arange(out_v), np.arange(K_h), np.arange(K_v), indexing="ij")
    rows = (i * out_v + j).ravel()
    r, c = (i + a).ravel(), (j + b).ravel()
    values = np.broadcast_to(Wf, i.shape).ravel()
    # Drop the padding: positions outside the real input multiply zeros.
    r, c = r - pad_h, c - pad_v
    inside = (r >= 0) & (r < M_h) & (c >= 0) & (c < M_v)
    A = np.zeros((out_h * out_v, M_h * M_v), dtype=W.dtype)
    A[rows[inside], (r * M_v + c)[inside]] = values[inside]
    return A
