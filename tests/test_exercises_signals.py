"""Tests of the Section 6.2 checkers (LTI systems, probability): each diagnosis fires."""
import numpy as np
import pytest
import scipy.signal
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import exercises, signals
from cnnlib.exercises.signals import _LTI_CASES


def _lfilter_system(b, a=(1.0,)):
    """An LTI system computed by SciPy (independent of cnnlib.signals)."""
    return lambda x: scipy.signal.lfilter(b, a, np.asarray(x, dtype=float))


# ---------------------------------------------------------------- check_impulse_response

@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=6), st.integers(1, 12))
def test_impulse_response_accepts_the_truth_for_fir_systems(b, n):
    system = _lfilter_system(b)
    truth = np.zeros(n)
    truth[:min(n, len(b))] = b[:n]
    assert exercises.check_impulse_response(truth, system, n)


def test_impulse_response_of_a_recursive_filter():
    n, alpha = 8, 0.3
    truth = alpha * (1 - alpha) ** np.arange(n)        # closed form, not the system itself
    assert exercises.check_impulse_response(truth, _lfilter_system([alpha], [1, alpha - 1]), n)


def test_impulse_response_wrong_length():
    system = lambda x: signals.moving_average(x, 3)
    short = exercises.check_impulse_response([1 / 3] * 3, system, 6)
    assert not short and "3 samples; expected n = 6" in short.message and "all n = 6" in short.hints[0]
    long = exercises.check_impulse_response([1 / 3] * 3 + [0] * 5, system, 6)
    assert not long and "same length" in long.hints[0]


def test_impulse_response_delayed_early_reversed_scaled():
    system = lambda x: signals.echo(x, 2, 0.5)
    truth = np.array([1, 0, 0.5, 0, 0, 0.0])
    cases = {
        "delayed by one sample": [0, 1, 0, 0.5, 0, 0],
        "one sample early": [0, 0.5, 0, 0, 0, 0],
        "reversed": truth[::-1],
        "scaled by 3": 3 * truth,
    }
    for diagnosis, answer in cases.items():
        fb = exercises.check_impulse_response(answer, system, 6)
        assert not fb and diagnosis in fb.message, (diagnosis, fb.message)


def test_impulse_response_unnormalised_moving_average():
    fb = exercises.check_impulse_response([1, 1, 1, 0, 0], lambda x: signals.moving_average(x, 3), 5)
    assert not fb and "scaled by 3" in fb.message and "normalisation" in fb.message


def test_impulse_response_other_wrong_values():
    fb = exercises.check_impulse_response([1, 2, 3, 4, 5], lambda x: signals.echo(x, 2, 0.5), 5)
    assert not fb and "entries differ" in fb.message


# ---------------------------------------------------------------- check_lti_test

def _good_is_lti(system, n=12, trials=3, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        x1, x2 = rng.normal(size=(2, n))
        a, b = rng.normal(size=2)
        if not np.allclose(system(a * x1 + b * x2), a * system(x1) + b * system(x2)):
            return False
        s = int(rng.integers(1, 4))
        if not np.allclose(system(signals.delay(x1, s)), signals.delay(system(x1), s)):
            return False
    return True


def test_lti_cases_are_labelled_correctly():
    """The checker's ground truth agrees with a careful numerical test (an oracle for the table)."""
    for name, (system, truth, _) in _LTI_CASES.items():
        assert _good_is_lti(system) == truth, name


def test_lti_test_accepts_a_correct_test():
    fb = exercises.check_lti_test(_good_is_lti)
    assert fb and "7 systems" in fb.message


def test_lti_test_linearity_only_misses_time_variation():
    def linearity_only(system):
        rng = np.random.default_rng(1)
        x1, x2 = rng.normal(size=(2, 10))
        return bool(np.allclose(system(2 * x1 + 3 * x2), 2 * system(x1) + 3 * system(x2)))
    fb = exercises.check_lti_test(linearity_only)
    assert not fb and "time-varying gain" in fb.message and "not time invariant" in fb.message
    assert "delay the input" in fb.hints[0]


def test_lti_test_affine_combination_lets_the_offset_through():
    """With a + b = 1, L(a x1 + b x2) = a L(x1) + b L(x2) holds for y = x + 1 too."""
    def affine_only(system):
        rng = np.random.default_rng(1)
        x1, x2 = rng.normal(size=(2, 10))
        return bool(np.allclose(system(2 * x1 - x2), 2 * system(x1) - system(x2)))
    fb = exercises.check_lti_test(affine_only)
    assert not fb and "offset" in fb.message and any("add up to 1" in h for h in fb.hints)


def test_lti_test_always_true_and_always_false():
    fb = exercises.check_lti_test(lambda system: True)
    assert not fb and "squaring" in fb.message and "random coefficients" in fb.hints[0]
    fb = exercises.check_lti_test(lambda system: False)
    assert not fb and "moving average" in fb.message and "is not LTI" in fb.message and "np.allclose" in fb.hints[0]


def test_lti_test_non_bool_and_exception():
    fb = exercises.check_lti_test(lambda system: "yes")
    assert not fb and "True or False" in fb.message and "'yes'" in fb.message
    fb = exercises.check_lti_test(lambda system: 1 / 0)
    assert not fb and "ZeroDivisionError" in fb.message and "On 'moving average" in fb.message


# ---------------------------------------------------------------- check_pmf

@settings(max_examples=25, deadline=None)
@given(st.integers(1, 8), st.floats(0.05, 0.95), st.integers(1, 8), st.floats(0.05, 0.95))
def test_pmf_accepts_binomial_sums(n1, p1, n2, p2):
    """A sum of two binomials, p1 != p2 allowed: the checker agrees with scipy.stats enumeration."""
    k1, k2 = np.arange(n1 + 1), np.arange(n2 + 1)
    expected = signals.sum_pmf((k1, scipy.stats.binom.pmf(k1, n1, p1)), (k2, scipy.stats.binom.pmf(k2, n2, p2)))
    values = np.arange(n1 + n2 + 1)
    probs = [sum(scipy.stats.binom.pmf(i, n1, p1) * scipy.stats.binom.pmf(t - i, n2, p2) for i in k1) for t in values]
    assert exercises.check_pmf((values, probs), expected)


def test_pmf_die_plus_coin_diagnoses():
    expected = signals.sum_pmf(signals.die_pmf(6), (np.array([0, 1]), np.array([0.5, 0.5])))
    values = np.arange(1, 8)
    probs = np.array([1, 2, 2, 2, 2, 2, 1]) / 12
    assert exercises.check_pmf((values, probs), expected)
    fb = exercises.check_pmf((values, probs * 12), expected)
    assert not fb and "add up to 12" in fb.message and "divide the counts" in fb.message
    fb = exercises.check_pmf((values - 1, probs), expected)
    assert not fb and "shifted by -1" in fb.message and "smallest values" in fb.message
    fb = exercises.check_pmf((np.arange(1, 7), np.full(6, 1 / 6)), expected)
    assert not fb and "6 values; expected 7" in fb.message and "m + n - 1" in fb.hints[0]
    fb = exercises.check_pmf((values, np.full(7, 1 / 7)), expected)
    assert not fb and "entries differ" in fb.message


def test_pmf_reversed_and_not_normalised_other():
    expected = (np.array([0, 1, 2]), np.array([0.5, 0.3, 0.2]))
    fb = exercises.check_pmf(([0, 1, 2], [0.2, 0.3, 0.5]), expected)
    assert not fb and "reverse order" in fb.message
    fb = exercises.check_pmf(([0, 1, 2], [0.5, 0.3, 0.3]), expected)
    assert not fb and "add up to 1.1, not 1" in fb.message


def test_pmf_malformed_answers():
    expected = (np.array([0, 1]), np.array([0.5, 0.5]))
    fb = exercises.check_pmf(np.array([0.5, 0.5]), expected)
    assert not fb and "pair (values, probs)" in fb.message
    fb = exercises.check_pmf(([0, 1], ["a", "b"]), expected)
    assert not fb and "array of numbers" in fb.message
    fb = exercises.check_pmf(([0, 1, 2], [0.5, 0.5]), expected)
    assert not fb and "same length" in fb.message
    fb = exercises.check_pmf(([0, 2], [0.5, 0.5]), expected)
    assert not fb and "should be [0, 1]" in fb.message


@pytest.mark.parametrize("n", [0, -1])
def test_impulse_response_bad_n_raises(n):
    with pytest.raises(ValueError, match="n must be"):
        exercises.check_impulse_response([1.0], lambda x: x, n)
