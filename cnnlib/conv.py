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

from ._validation import as_array, check_choice, check_kernel_fits, positive_int

__all__ = [
    "convolve1d",
    "toeplitz",
    "convolve2d",
    "cross_correlate2d",
    "volume_convolve",
    "channel_sum_convolve",
    "convolution_matrix",
]


def convolve1d(f, g, mode: str = "full") -> np.ndarray:
    r"""Discrete convolution of two finite sequences, Eq. (6.1).

    Parameters
    ----------
    f, g : array_like, shape (m,) and (n,)
        The sequences, taken as zero outside their index ranges ``0..m-1`` and ``0..n-1``.
    mode : {"full", "valid"}
        ``"full"`` returns every non-zero term, ``(f * g)(t)`` for ``t = 0, ..., m + n - 2``
        (length ``m + n - 1``). ``"valid"`` keeps only the terms where the shorter sequence
        lies entirely inside the longer one (length ``max(m, n) - min(m, n) + 1``), as
        :func:`numpy.convolve` does.

    Returns
    -------
    ndarray, shape (m + n - 1,) or (max(m, n) - min(m, n) + 1,)

    Notes
    -----
    Eq. (6.1) of the chapter:

    .. math:: (f * g)(t) = \sum_{\tau} f(t - \tau)\, g(\tau).

    One sequence is flipped and slid along the other; the sum of the products at shift
    ``t`` is the ``t``-th output. The operation is commutative.

    Examples
    --------
    >>> convolve1d([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> convolve1d([1, 1, 1, 1], [1, -1], mode="valid")
    array([0., 0., 0.])
    """
    f = as_array(f, "f", ndim=1)
    g = as_array(g, "g", ndim=1)
    check_choice(mode, "mode", ("full", "valid"))
    m, n = len(f), len(g)
    out = np.zeros(m + n - 1, dtype=np.result_type(f, g))
    # Each f[i] contributes a copy of g shifted by i: the "sum of shifted, scaled copies" view.
    for i, f_i in enumerate(f):
        out[i : i + n] += f_i * g
    if mode == "valid":
        short, long_ = min(m, n), max(m, n)
        out = out[short - 1 : long_]
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


def cross_correlate2d(W, x) -> np.ndarray:
    r"""Slide ``W`` over ``x`` without flipping it: what a convolutional layer computes, Eq. (6.14).

    Parameters
    ----------
    W : array_like, shape (K_h, K_v)
        The kernel (filter). ``K_h <= M_h`` and ``K_v <= M_v`` are required.
    x : array_like, shape (M_h, M_v)
        The input.

    Returns
    -------
    z : ndarray, shape (M_h - K_h + 1, M_v - K_v + 1)
        ``z[i, j] = sum_{a, b} W[a, b] * x[i + a, j + b]``.

    Notes
    -----
    Deep-learning libraries call this operation "convolution"; mathematically it is a
    cross-correlation. It equals the flipped convolution of Eq. (6.7) with the kernel
    flipped in both axes: ``cross_correlate2d(W, x) == convolve2d(W[::-1, ::-1], x)``.
    Since a layer learns its kernel, the two conventions describe the same family of layers.

    Examples
    --------
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> cross_correlate2d([[1, 0], [0, -1]], x)
    array([[-5., -5., -5.],
           [-5., -5., -5.]])
    """
    W = as_array(W, "W", ndim=2)
    x = as_array(x, "x", ndim=2)
    check_kernel_fits(W.shape, x.shape)
    windows = sliding_window_view(x, W.shape)  # (M_h-K_h+1, M_v-K_v+1, K_h, K_v), a view
    return np.einsum("ijab,ab->ij", windows, W)


def convolve2d(W, x, mode: str = "valid") -> np.ndarray:
    r"""Two-dimensional convolution ``W * x``: Eq. (6.7) (``"valid"``) or Eq. (6.4)/(6.5) (``"full"``).

    Parameters
    ----------
    W : array_like, shape (K_h, K_v)
        The kernel.
    x : array_like, shape (M_h, M_v)
        The input matrix (an image, say).
    mode : {"valid", "full"}
        ``"valid"`` (the deep-learning case, Eq. (6.7)) needs ``K_h <= M_h`` and
        ``K_v <= M_v`` and returns shape (6.6), ``(M_h - K_h + 1, M_v - K_v + 1)``.
        ``"full"`` is the classical convolution (6.4) of the two matrices padded with zeros,
        shape (6.5), ``(M_h + K_h - 1, M_v + K_v - 1)``, for any sizes.

    Returns
    -------
    z : ndarray

    Notes
    -----
    Eq. (6.7), with the chapter's 1-based indices,

    .. math:: z_{i,j} = \sum_{i'=0}^{K_h-1}\sum_{j'=0}^{K_v-1} w_{K_h-i',\,K_v-j'}\; x_{i+i',\,j+j'},

    that is, flip ``W`` in both axes and slide it over ``x`` (Figure 6.3). The valid output
    is a block of the full one, and unlike the full convolution it is not commutative.

    Examples
    --------
    >>> W = np.ones((3, 3)); x = np.ones((6, 7))
    >>> convolve2d(W, x).shape          # Figure 6.3: 3 x 3 on 6 x 7 gives 4 x 5
    (4, 5)
    >>> convolve2d(W, x, mode="full").shape
    (8, 9)
    """
    W = as_array(W, "W", ndim=2)
    x = as_array(x, "x", ndim=2)
    check_choice(mode, "mode", ("valid", "full"))
    if mode == "full":
        K_h, K_v = W.shape
        x = np.pad(x, ((K_h - 1, K_h - 1), (K_v - 1, K_v - 1)))
    return cross_correlate2d(W[::-1, ::-1], x)


def volume_convolve(W, x) -> np.ndarray:
    r"""Volume convolution of two 3-tensors, Eq. (6.9), flipping all three axes.

    Parameters
    ----------
    W : array_like, shape (K_c, K_h, K_v)
        The kernel; ``K_c <= M_c``, ``K_h <= M_h``, ``K_v <= M_v``.
    x : array_like, shape (M_c, M_h, M_v)
        The input volume (channels first: a colour image has ``M_c = 3``).

    Returns
    -------
    z : ndarray, shape (M_c - K_c + 1, M_h - K_h + 1, M_v - K_v + 1)
        Eq. (6.8). When ``K_c == M_c`` the first axis has length 1.

    Notes
    -----
    Eq. (6.9) flips the kernel along the depth axis too. So when the depths agree,
    kernel channel ``K_c - 1 - i`` meets input channel ``i`` (0-based), and

    ``volume_convolve(W, x)[0] == channel_sum_convolve(W[::-1], x)``,

    whereas Eq. (6.10) as written pairs channel ``i`` with channel ``i``
    (:func:`channel_sum_convolve`), which is what convolutional layers do. The two agree
    exactly when the kernel is symmetric in depth, and in a network the difference is only
    a relabelling of learned weights.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> W, x = rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 5, 5))
    >>> volume_convolve(W, x).shape
    (1, 4, 4)
    >>> np.allclose(volume_convolve(W, x)[0], channel_sum_convolve(W[::-1], x))
    True
    """
    W = as_array(W, "W", ndim=3)
    x = as_array(x, "x", ndim=3)
    check_kernel_fits(W.shape, x.shape)
    windows = sliding_window_view(x, W.shape)  # (out_c, out_h, out_v, K_c, K_h, K_v)
    return np.einsum("kijcab,cab->kij", windows, W[::-1, ::-1, ::-1])


def channel_sum_convolve(W, x) -> np.ndarray:
    r"""Right-hand side of Eq. (6.10): convolve channel ``i`` of ``W`` with channel ``i`` of ``x`` and add.

    Parameters
    ----------
    W : array_like, shape (C, K_h, K_v)
    x : array_like, shape (C, M_h, M_v)
        Same number of channels ``C`` as ``W``.

    Returns
    -------
    z : ndarray, shape (M_h - K_h + 1, M_v - K_v + 1)
        ``sum_i convolve2d(W[i], x[i])``.

    See Also
    --------
    volume_convolve : Eq. (6.9), which pairs channels in reverse order.

    Examples
    --------
    >>> W = np.stack([np.eye(2), -np.eye(2)])
    >>> x = np.ones((2, 3, 3))
    >>> channel_sum_convolve(W, x)
    array([[0., 0.],
           [0., 0.]])
    """
    W = as_array(W, "W", ndim=3)
    x = as_array(x, "x", ndim=3)
    if W.shape[0] != x.shape[0]:
        raise ValueError(
            f"W and x must have the same number of channels, got W with {W.shape[0]} "
            f"(shape {W.shape}) and x with {x.shape[0]} (shape {x.shape})"
        )
    check_kernel_fits(W.shape, x.shape)
    windows = sliding_window_view(x, W.shape[1:], axis=(1, 2))  # (C, out_h, out_v, K_h, K_v)
    return np.einsum("cijab,cab->ij", windows, W[:, ::-1, ::-1])


def convolution_matrix(W, input_shape, mode: str = "valid") -> np.ndarray:
    r"""The doubly blocked Toeplitz matrix ``A`` of a 2-D convolution with ``W``.

    ``convolution_matrix(W, x.shape) @ x.ravel() == convolve2d(W, x).ravel()``.

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
    W = as_array(W, "W", ndim=2)
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
