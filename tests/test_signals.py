"""cnnlib.signals against independent oracles: scipy.signal.lfilter, numpy.convolve, brute force."""
import itertools

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import signals

seeds = st.integers(0, 2**16)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 20), width=st.integers(1, 6), seed=seeds)
def test_moving_average_is_an_fir_filter(n, width, seed):
    x = np.random.default_rng(seed).normal(size=n)
    want = scipy.signal.lfilter(np.full(width, 1.0 / width), [1.0], x)
    np.testing.assert_allclose(signals.moving_average(x, width), want, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 20), alpha=st.floats(0.05, 1.0), seed=seeds)
def test_exponential_smoother_is_a_first_order_iir_filter(n, alpha, seed):
    x = np.random.default_rng(seed).normal(size=n)
    want = scipy.signal.lfilter([alpha], [1.0, -(1.0 - alpha)], x)
    np.testing.assert_allclose(signals.exponential_smoother(x, alpha), want, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 20), lag=st.integers(1, 8), gain=st.floats(-2, 2), seed=seeds)
def test_echo_matches_lfilter_and_is_convolution_with_its_impulse_response(n, lag, gain, seed):
    x = np.random.default_rng(seed).normal(size=n)
    b = np.zeros(lag + 1)
    b[0], b[lag] = 1.0, gain
    y = signals.echo(x, lag, gain)
    np.testing.assert_allclose(y, scipy.signal.lfilter(b, [1.0], x), atol=1e-12)
    w = signals.impulse_response(lambda s: signals.echo(s, lag, gain), n)
    np.testing.assert_allclose(y, np.convolve(w, x)[:n], atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 15), s=st.integers(0, 5), seed=seeds)
def test_systems_are_time_invariant_under_delay(n, s, seed):
    x = np.random.default_rng(seed).normal(size=n)
    for system in (signals.moving_average, signals.exponential_smoother, signals.echo):
        np.testing.assert_allclose(system(signals.delay(x, s)), signals.delay(system(x), s), atol=1e-12)


def test_impulse_and_delay():
    np.testing.assert_array_equal(signals.impulse(4, 3), np.eye(4)[3])
    np.testing.assert_array_equal(signals.delay([1, 2], 0), [1.0, 2.0])
    np.testing.assert_array_equal(signals.delay(signals.impulse(3), 2), signals.impulse(5, 2))


def test_dice_pmfs_against_enumeration():
    for sides, n in [(4, 2), (6, 2), (6, 3), (3, 4)]:
        pmf = signals.die_pmf(sides)
        for _ in range(n - 1):
            pmf = signals.sum_pmf(pmf, signals.die_pmf(sides))
        totals = [sum(r) for r in itertools.product(range(1, sides + 1), repeat=n)]
        values, counts = np.unique(totals, return_counts=True)
        np.testing.assert_array_equal(pmf[0], values)
        np.testing.assert_allclose(pmf[1], counts / sides**n)


@settings(max_examples=30, deadline=None)
@given(a0=st.integers(-5, 5), b0=st.integers(-5, 5), m=st.integers(1, 6), n=st.integers(1, 6), seed=seeds)
def test_sum_pmf_of_arbitrary_supports(a0, b0, m, n, seed):
    rng = np.random.default_rng(seed)
    pa, pb = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
    values, probs = signals.sum_pmf((np.arange(a0, a0 + m), pa), (np.arange(b0, b0 + n), pb))
    brute = {}
    for i, j in itertools.product(range(m), range(n)):
        brute[a0 + i + b0 + j] = brute.get(a0 + i + b0 + j, 0.0) + pa[i] * pb[j]
    np.testing.assert_array_equal(values, sorted(brute))
    np.testing.assert_allclose(probs, [brute[v] for v in sorted(brute)])
    assert np.isclose(probs.sum(), 1.0)


def test_errors():
    with pytest.raises(ValueError, match="at must be smaller than n = 3, got 3"):
        signals.impulse(3, 3)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        signals.impulse(0)
    with pytest.raises(ValueError, match="s must be a non-negative integer"):
        signals.delay([1.0], -1)
    with pytest.raises(ValueError, match="x must be a 1-D array"):
        signals.moving_average(np.ones((2, 2)))
    with pytest.raises(ValueError, match="width must be a positive integer"):
        signals.moving_average([1.0], 0)
    with pytest.raises(ValueError, match="alpha must satisfy 0 < alpha <= 1, got 1.5"):
        signals.exponential_smoother([1.0], 1.5)
    with pytest.raises(TypeError, match="alpha must be a number, got str"):
        signals.exponential_smoother([1.0], "0.5")
    with pytest.raises(ValueError, match="lag must be a positive integer"):
        signals.echo([1.0], 0)
    with pytest.raises(TypeError, match="system must be callable"):
        signals.impulse_response(3, 4)
    with pytest.raises(ValueError, match="system must return an output of the input's length 4"):
        signals.impulse_response(lambda x: x[:-1], 4)
    with pytest.raises(ValueError, match="sides must be a positive integer"):
        signals.die_pmf(0)
    with pytest.raises(TypeError, match="pmf_a must be a pair"):
        signals.sum_pmf([1, 2], signals.die_pmf())
    with pytest.raises(ValueError, match="pmf_b: values and probs must have the same length"):
        signals.sum_pmf(signals.die_pmf(), ([1, 2], [1.0]))
    with pytest.raises(ValueError, match="pmf_a values must be consecutive integers"):
        signals.sum_pmf(([1, 3], [0.5, 0.5]), signals.die_pmf())
    with pytest.raises(ValueError, match="pmf_a values must be integers"):
        signals.sum_pmf(([0.5, 1.5], [0.5, 0.5]), signals.die_pmf())
    with pytest.raises(ValueError, match="pmf_b probs must be non-negative"):
        signals.sum_pmf(signals.die_pmf(), ([0, 1], [1.5, -0.5]))


@pytest.mark.parametrize("probs, total", [([1.0, 1.0], "2"), ([3, 2, 1], "6"), ([0.5, 0.6], "1.1")])
def test_sum_pmf_rejects_probabilities_adding_up_to_more_than_one(probs, total):
    with pytest.raises(ValueError, match=rf"pmf_b probs add up to {total}, more than 1: divide"):
        signals.sum_pmf(signals.die_pmf(), (np.arange(len(probs)), probs))


def test_sum_pmf_rejects_nan_and_accepts_a_truncated_pmf():
    with pytest.raises(ValueError, match="pmf_a probs must be finite, got"):
        signals.sum_pmf(([0, 1], [0.5, float("nan")]), signals.die_pmf())
    # a pmf cut to its first values (mass beyond the support left out) is what 6.2.2's
    # Poisson exercise convolves; rounding errors of a true pmf are accepted too
    _, probs = signals.sum_pmf(([0, 1], [0.5, 0.25]), ([0, 1, 2], [1 / 3 + 1e-12] * 3))
    assert probs.sum() == pytest.approx(0.75)
