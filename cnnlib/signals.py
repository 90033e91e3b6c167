"""Signals, systems and probability: the viewpoints on convolution of Section 6.2.

Small NumPy helpers for the pages on linear time invariant (LTI) systems and on sums of
independent random variables:

- :func:`impulse` and :func:`delay` build and shift finite discrete-time signals,
- :func:`moving_average`, :func:`exponential_smoother` and :func:`echo` are three LTI
  systems to be used as black boxes,
- :func:`impulse_response` feeds a unit impulse to a system,
- :func:`die_pmf` and :func:`sum_pmf` give probability mass functions of sums of
  independent integer-valued variables by convolution, Eq. (6.1).

Conventions
-----------
A signal is a 1-D array ``x`` holding ``x(0), ..., x(n-1)``; it is zero for ``t < 0``.
A *system* maps a signal of length ``n`` to an output of the same length ``n``: the output
observed over the same time window. The systems here are causal (``y(t)`` depends on
``x(s)`` for ``s <= t`` only), so delaying the input by ``s`` samples, i.e. prepending ``s``
zeros, simply delays the output.

A pmf is a pair ``(values, probs)``: ``values`` is a run of consecutive integers and
``probs[i]`` is the probability of ``values[i]``.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.2 ("Convolutions in LTI systems", "Convolutions in probability").
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import as_array, nonnegative_int, positive_int
from .conv import convolve1d

__all__ = [
    "impulse",
    "delay",
    "moving_average",
    "exponential_smoother",
    "echo",
    "impulse_response",
    "die_pmf",
    "sum_pmf",
]


def impulse(n: int, at: int = 0) -> np.ndarray:
    r"""The unit impulse :math:`\delta(t - \text{at})` observed at ``t = 0, ..., n-1``.

    Parameters
    ----------
    n : int
        Length of the signal (``n >= 1``).
    at : int
        Where the single 1 sits (``0 <= at < n``).

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    Section 6.2 of the chapter writes any signal as a sum of shifted impulses,
    :math:`x(t) = \sum_\tau x(\tau)\,\delta(t - \tau)`; with linearity and time invariance this
    gives :math:`L(x) = w * x` with :math:`w = L(\delta)`, Eq. (6.1).

    Examples
    --------
    >>> impulse(5)
    array([1., 0., 0., 0., 0.])
    >>> impulse(4, at=2)
    array([0., 0., 1., 0.])
    """
    n = positive_int(n, "n")
    at = nonnegative_int(at, "at")
    if at >= n:
        raise ValueError(f"at must be smaller than n = {n}, got {at}")
    out = np.zeros(n)
    out[at] = 1.0
    return out


def delay(x, s: int) -> np.ndarray:
    """Delay a signal by ``s`` samples: ``x~(t) = x(t - s)``, i.e. prepend ``s`` zeros.

    Parameters
    ----------
    x : array_like, shape (n,)
    s : int
        Delay, ``s >= 0``.

    Returns
    -------
    ndarray, shape (n + s,)

    Examples
    --------
    >>> delay([1, 2, 3], 2)
    array([0., 0., 1., 2., 3.])
    """
    x = as_array(x, "x", ndim=1)
    s = nonnegative_int(s, "s")
    return np.concatenate([np.zeros(s), x])


def moving_average(x, width: int = 3) -> np.ndarray:
    r"""Causal moving average: :math:`y(t) = \frac{1}{\text{width}} \sum_{k=0}^{\text{width}-1} x(t-k)`.

    Parameters
    ----------
    x : array_like, shape (n,)
        Input signal (zero before ``t = 0``).
    width : int
        Number of samples averaged (``>= 1``).

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    An LTI system whose impulse response is ``width`` samples equal to ``1/width``:
    ``y = (w * x)[:n]``, Eq. (6.1).

    Examples
    --------
    >>> moving_average([3, 3, 3, 6], width=3)
    array([1., 2., 3., 4.])
    """
    x = as_array(x, "x", ndim=1)
    width = positive_int(width, "width")
    csum = np.concatenate([np.zeros(width), np.cumsum(x)])  # csum[width + t] = x(0) + ... + x(t)
    n = len(x)
    return (csum[width:width + n] - csum[:n]) / width


def exponential_smoother(x, alpha: float = 0.3) -> np.ndarray:
    r"""First-order recursive filter :math:`y(t) = \alpha\,x(t) + (1-\alpha)\,y(t-1)`, :math:`y(-1) = 0`.

    The discrete cousin of an RC low-pass circuit.

    Parameters
    ----------
    x : array_like, shape (n,)
    alpha : float
        Smoothing weight, ``0 < alpha <= 1``.

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    LTI with the infinitely long impulse response :math:`w(t) = \alpha (1-\alpha)^t`,
    :math:`t \ge 0`; over a window of ``n`` samples, ``y = (w * x)[:n]``, Eq. (6.1).

    Examples
    --------
    >>> exponential_smoother([1, 0, 0, 0], alpha=0.5)
    array([0.5   , 0.25  , 0.125 , 0.0625])
    """
    x = as_array(x, "x", ndim=1)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)):
        raise TypeError(f"alpha must be a number, got {type(alpha).__name__} {alpha!r}")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must satisfy 0 < alpha <= 1, got {alpha!r}")
    y = np.empty_like(x)
    previous = 0.0
    for t, x_t in enumerate(x):
        previous = alpha * x_t + (1 - alpha) * previous
        y[t] = previous
    return y


def echo(x, lag: int = 4, gain: float = 0.5) -> np.ndarray:
    r"""The signal plus one delayed, scaled copy: :math:`y(t) = x(t) + \text{gain}\cdot x(t - \text{lag})`.

    Parameters
    ----------
    x : array_like, shape (n,)
    lag : int
        Delay of the echo in samples (``>= 1``).
    gain : float
        Amplitude of the echo.

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    Impulse response :math:`w = \delta + \text{gain}\cdot\delta(\cdot - \text{lag})`.

    Examples
    --------
    >>> echo([1, 0, 0, 0, 0], lag=2, gain=0.5)
    array([1. , 0. , 0.5, 0. , 0. ])
    """
    x = as_array(x, "x", ndim=1)
    lag = positive_int(lag, "lag")
    y = x.copy()
    if lag < len(x):
        y[lag:] += gain * x[:-lag]
    return y


def impulse_response(system: Callable, n: int) -> np.ndarray:
    r"""The first ``n`` samples of :math:`w = L(\delta)`: the output for a unit impulse.

    Parameters
    ----------
    system : callable
        Maps a signal of shape ``(n,)`` to an output of shape ``(n,)``.
    n : int
        Number of samples to observe.

    Returns
    -------
    w : ndarray, shape (n,)

    Notes
    -----
    For an LTI system, ``system(x) == convolve1d(x, w)[:n]`` for every ``x`` of length ``n``
    (Section 6.2, Eq. (6.1)).

    Examples
    --------
    >>> impulse_response(moving_average, 5)
    array([0.33333333, 0.33333333, 0.33333333, 0.        , 0.        ])
    """
    if not callable(system):
        raise TypeError(f"system must be callable, got {type(system).__name__} {system!r}")
    n = positive_int(n, "n")
    w = as_array(system(impulse(n)), "system(impulse(n))", ndim=1)
    if w.shape != (n,):
        raise ValueError(f"system must return an output of the input's length {n}, got shape {w.shape}")
    return w


def die_pmf(sides: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The pmf of a fair die with faces ``1, ..., sides``.

    Parameters
    ----------
    sides : int
        Number of faces (``>= 1``).

    Returns
    -------
    values : ndarray of int, shape (sides,)
    probs : ndarray, shape (sides,)

    Examples
    --------
    >>> values, probs = die_pmf(4)
    >>> values, probs
    (array([1, 2, 3, 4]), array([0.25, 0.25, 0.25, 0.25]))
    """
    sides = positive_int(sides, "sides")
    return np.arange(1, sides + 1), np.full(sides, 1.0 / sides)


def _check_pmf(pmf, name):
    if not (isinstance(pmf, tuple) and len(pmf) == 2):
        raise TypeError(f"{name} must be a pair (values, probs), got {type(pmf).__name__}")
    values = as_array(pmf[0], f"{name} values", ndim=1, dtype=None)
    probs = as_array(pmf[1], f"{name} probs", ndim=1)
    if values.shape != probs.shape:
        raise ValueError(f"{name}: values and probs must have the same length, got {len(values)} and {len(probs)}")
    if not np.issubdtype(values.dtype, np.integer) and not np.all(values == np.round(values)):
        raise ValueError(f"{name} values must be integers, got {values!r}")
    values = values.astype(int)
    if np.any(np.diff(values) != 1):
        raise ValueError(f"{name} values must be consecutive integers, got {values!r}")
    if not np.isfinite(probs).all():
        raise ValueError(f"{name} probs must be finite, got {probs!r}")
    if np.any(probs < 0):
        raise ValueError(f"{name} probs must be non-negative, got {probs!r}")
    total = probs.sum()
    if total > 1 + 1e-6:  # (float32 rounding passes); below 1: a pmf cut to these values (6.2.2's Poisson)
        raise ValueError(f"{name} probs add up to {total:.6g}, more than 1: divide counts by their total "
                         f"(probabilities of the values {values[0]}..{values[-1]} add up to at most 1)")
    return values, probs


def sum_pmf(pmf_a, pmf_b) -> tuple[np.ndarray, np.ndarray]:
    r"""The pmf of :math:`\xi_1 + \xi_2` for independent :math:`\xi_1 \sim` ``pmf_a``, :math:`\xi_2 \sim` ``pmf_b``.

    Parameters
    ----------
    pmf_a, pmf_b : tuple (values, probs)
        Each with ``values`` consecutive integers, shapes ``(m,)`` and ``(n,)``, and ``probs``
        finite, non-negative and adding up to at most 1 (less for a pmf cut to these values,
        whose remaining mass lies beyond them).

    Returns
    -------
    values : ndarray of int, shape (m + n - 1,)
        From ``values_a[0] + values_b[0]`` to ``values_a[-1] + values_b[-1]``.
    probs : ndarray, shape (m + n - 1,)
        The convolution of the two probability vectors.

    Notes
    -----
    Section 6.2 of the chapter: :math:`P(\xi_1 + \xi_2 = t) = \sum_\tau f_1(\tau) f_2(t - \tau)
    = (f_1 * f_2)(t)`, the discrete convolution (6.1). Only the probability vectors are
    convolved; the smallest value of the sum is the sum of the smallest values.

    Examples
    --------
    >>> values, probs = sum_pmf(die_pmf(6), die_pmf(6))
    >>> int(values[0]), int(values[-1]), float(probs[values == 7][0] * 36)
    (2, 12, 6.0)
    """
    va, pa = _check_pmf(pmf_a, "pmf_a")
    vb, pb = _check_pmf(pmf_b, "pmf_b")
    probs = convolve1d(pa, pb)
    values = np.arange(va[0] + vb[0], va[0] + vb[0] + len(probs))
    return values, probs
