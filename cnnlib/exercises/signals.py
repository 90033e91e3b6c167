"""Checkers for the exercises of Sections 6.1 and 6.2 (one-dimensional convolution, LTI systems, probability)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import conv
from ._base import Feedback, _to_array, call_student, compare_arrays
from ._registry import checker

__all__ = ["check_convolve1d", "check_impulse_response", "check_lti_test", "check_pmf", "check_dice_sums",
           "check_truncated_sum_pmf"]


@checker
def check_convolve1d(student_fn: Callable) -> Feedback:
    """Check a student's ``convolve(f, g)`` for the full 1-D convolution (6.1).

    Tries several pairs of sequences (different lengths, both orders) against
    :func:`cnnlib.conv.convolve1d` and diagnoses a missing flip (a correlation), a
    'valid' or 'same' length instead of the full one, and off-by-one slips. A missing
    flip is recognised in both orderings, ``np.correlate(f, g, "full")`` and
    ``np.correlate(g, f, "full")`` (which is the first one reversed).

    >>> check_convolve1d(lambda f, g: np.convolve(f, g))
    ✔ Correct on all 4 test cases.
    >>> check_convolve1d(lambda f, g: np.correlate(f, g, mode="full"))
    ✘ Case 1 (f of length 3, g of length 3): your answer has the right shape but its values are off: it matches what you get when one sequence was not flipped (that is a cross-correlation, not a convolution).
    >>> check_convolve1d(lambda f, g: np.correlate(g, f, mode="full"))
    ✘ Case 1 (f of length 3, g of length 3): your answer has the right shape but its values are off: it matches what you get when one sequence was not flipped: np.correlate(g, f) is a cross-correlation (the other ordering, reversed), not a convolution.
    """
    rng = np.random.default_rng(6)
    cases = [(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, -1.0])),
             (np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, -2.0, 4.0])),
             (rng.normal(size=5), rng.normal(size=2)),
             (rng.normal(size=1), rng.normal(size=6))]
    for k, (f, g) in enumerate(cases, start=1):
        got, problem = call_student(student_fn, f.copy(), g.copy())
        if problem is not None:
            return problem
        expected = conv.convolve1d(f, g)
        n, m = len(f), len(g)
        fb = compare_arrays(
            got, expected, what="your answer",
            variants={"one sequence was not flipped (that is a cross-correlation, not a convolution)":
                      np.correlate(f, g, mode="full"),
                      "one sequence was not flipped: np.correlate(g, f) is a cross-correlation (the "
                      "other ordering, reversed), not a convolution":
                      np.correlate(g, f, mode="full")},
            shape_hints={(max(n, m) - min(n, m) + 1,): "that is the 'valid' length; the full convolution has length len(f) + len(g) - 1",
                         (max(n, m),): "that is the 'same' length; the full convolution has length len(f) + len(g) - 1"},
        )
        if not fb:
            fb.message = f"Case {k} (f of length {n}, g of length {m}): {fb.message}"
            return fb
    return Feedback(True, f"Correct on all {len(cases)} test cases.")


def _describe_length_slip(got_len: int, n: int) -> list[str]:
    if got_len < n:
        return [f"observe the system for all n = {n} samples: feed impulse(n) and keep the whole output, "
                "even where it is zero"]
    return [f"the system maps a signal of length n = {n} to an output of the same length; "
            "did you convolve instead of observing the system, or pad the impulse?"]


@checker
def check_impulse_response(answer, system: Callable, n: int) -> Feedback:
    """Check a student's impulse response ``w = L(delta)`` of ``system``, first ``n`` samples.

    Diagnoses a wrong length, a response shifted by one sample (an impulse placed at
    ``t = 1``, or the first sample dropped), a reversed response, and a response off by a
    constant factor (e.g. a moving average without its ``1/width``).

    Parameters
    ----------
    answer : array_like, shape (n,)
        The student's first ``n`` samples of the impulse response.
    system : callable
        The system, mapping a signal of shape ``(n,)`` to an output of shape ``(n,)``.
    n : int
        Number of samples.

    Examples
    --------
    >>> from cnnlib import signals
    >>> check_impulse_response([0.5, 0, 0.25, 0, 0], lambda x: signals.echo(x, 2, 0.5), 5)
    ✘ Your impulse response has the right shape but its values are off: it matches what you get when the impulse response was scaled by 0.5 (missing or extra normalisation?).
    >>> check_impulse_response([1, 0, 0.5, 0, 0], lambda x: signals.echo(x, 2, 0.5), 5)
    ✔ Correct: your impulse response matches (shape (5,)).
    """
    from ..signals import delay, impulse_response

    expected = impulse_response(system, n)
    arr = np.asarray(answer, dtype=float) if not isinstance(answer, str) else None
    if arr is not None and arr.ndim == 1 and arr.shape != expected.shape:
        hints = _describe_length_slip(len(arr), n)
        return Feedback(False, f"Your impulse response has {len(arr)} samples; expected n = {n}.", hints)
    variants = {
        "the impulse sat at t = 1 instead of t = 0 (your response is delayed by one sample)":
            delay(expected, 1)[:n],
        "the first sample was dropped (your response is one sample early)":
            np.concatenate([expected[1:], [0.0]]),
        "the response was reversed in time": expected[::-1],
    }
    if arr is not None and arr.shape == expected.shape:
        scale = arr @ expected / max(expected @ expected, 1e-300)
        if not np.isclose(scale, 1.0) and not np.isclose(scale, 0.0):
            variants[f"the impulse response was scaled by {scale:.4g} (missing or extra normalisation?)"] = scale * expected
    return compare_arrays(answer, expected, what="Your impulse response", variants=variants)


# Systems on which a student's LTI test is tried: name -> (system, is_lti, what gives it away).
_LTI_CASES = {
    "moving average (width 3)": (lambda x: _signals().moving_average(x, 3), True,
                                 "it is linear and time invariant"),
    "echo (lag 2, gain 0.5)": (lambda x: _signals().echo(x, 2, 0.5), True,
                               "it is linear and time invariant"),
    "exponential smoother (alpha 0.3)": (lambda x: _signals().exponential_smoother(x, 0.3), True,
                                         "it is linear and time invariant"),
    "squaring, y(t) = x(t)^2": (lambda x: np.asarray(x, dtype=float) ** 2, False,
                                "it is not linear: doubling the input quadruples the output"),
    "offset, y(t) = x(t) + 1": (lambda x: np.asarray(x, dtype=float) + 1.0, False,
                                "it is not linear: L(0) = 1, not 0, and L(2x) != 2 L(x)"),
    "time-varying gain, y(t) = t x(t)": (lambda x: np.arange(len(x)) * np.asarray(x, dtype=float), False,
                                         "it is linear but not time invariant: a delayed input meets a different gain"),
    "time reversal, y(t) = x(n-1-t)": (lambda x: np.asarray(x, dtype=float)[::-1].copy(), False,
                                       "it is linear but not time invariant (nor causal): "
                                       "delaying the input moves the output the other way"),
}


def _signals():
    from .. import signals
    return signals


@checker
def check_lti_test(student_fn: Callable) -> Feedback:
    """Check a student's numerical LTI test ``is_lti(system) -> bool`` on known systems.

    The test is run on three LTI systems (moving average, echo, exponential smoother)
    and four that are not (squaring, an offset, a time-varying gain, time reversal). The
    feedback names the first misjudged system and which property gives it away: a test
    that misses the time-varying gain never delayed its input; one that rejects an LTI
    system probably compared outputs of different lengths or with a tolerance too tight.

    Examples
    --------
    >>> check_lti_test(lambda system: True)
    ✘ Your test says 'squaring, y(t) = x(t)^2' is LTI, but it is not linear: doubling the input quadruples the output.
      hint: test linearity with random inputs and random coefficients a, b: compare L(a x1 + b x2) with a L(x1) + b L(x2)
    """
    for name, (system, truth, reason) in _LTI_CASES.items():
        got, problem = call_student(student_fn, system)
        if problem is not None:
            problem.message = f"On '{name}': {problem.message}"
            return problem
        if not isinstance(got, (bool, np.bool_)):
            return Feedback(False, f"Your test should return True or False; on '{name}' it returned {got!r}.")
        if bool(got) == truth:
            continue
        hints = []
        if truth:
            hints.append("compare L(delay(x, s)) with delay(L(x), s) on the same window: both have length "
                         "len(x) + s, and use np.allclose, not ==, for floating-point outputs")
        elif "time invariant" in reason and "not time invariant" in reason:
            hints.append("also test time invariance: delay the input by s samples and check that the output "
                         "is the old output delayed by s")
        else:
            hints.append("test linearity with random inputs and random coefficients a, b: "
                         "compare L(a x1 + b x2) with a L(x1) + b L(x2)")
            if name.startswith("offset"):
                hints.append("if your a and b add up to 1 (say 2 and -1), an offset passes the test: "
                             "x + 1 respects such affine combinations; draw a and b at random")
        verdict = "is LTI" if got else "is not LTI"
        but = "but" if not truth else "yet"
        return Feedback(False, f"Your test says '{name}' {verdict}, {but} {reason}.", hints)
    return Feedback(True, f"Correct on all {len(_LTI_CASES)} systems (3 LTI, 4 not).")


@checker
def check_pmf(answer, expected) -> Feedback:
    """Check a student's pmf ``(values, probs)`` against the expected pair.

    Diagnoses an answer that is not a pair, probabilities that do not add up to one
    (counts instead of probabilities), a support shifted by one or more (e.g. die faces
    taken as 0..5), a support of the wrong length, and wrong probabilities.

    Parameters
    ----------
    answer : tuple (values, probs)
        The student's support (consecutive integers) and probabilities.
    expected : tuple (values, probs)
        The right pmf, for instance from :func:`cnnlib.signals.sum_pmf`.

    Examples
    --------
    >>> check_pmf(([0, 1, 2], [0.25, 0.5, 0.25]), ([0, 1, 2], [0.25, 0.5, 0.25]))
    ✔ Correct: the pmf has support 0..2 and its probabilities match.
    >>> check_pmf(([0, 1, 2], [1, 2, 1]), ([0, 1, 2], [0.25, 0.5, 0.25]))
    ✘ Your probabilities add up to 4, not 1: divide the counts by their total (here 4).
    """
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        return Feedback(False, f"Give the pmf as a pair (values, probs); got {type(answer).__name__}.")
    values, probs = np.asarray(answer[0]), answer[1]
    e_values, e_probs = np.asarray(expected[0]), np.asarray(expected[1], dtype=float)
    probs_arr, problem = _to_array(probs, "probs")
    if problem is not None:
        return problem
    if values.ndim != 1 or probs_arr.ndim != 1 or len(values) != len(probs_arr):
        return Feedback(False, f"values and probs should be 1-D of the same length; got shapes {values.shape} and {probs_arr.shape}.")
    total = probs_arr.sum()
    if len(values) == len(e_values) and not np.isclose(total, 1.0) and total > 0 and np.allclose(probs_arr / total, e_probs):
        return Feedback(False, f"Your probabilities add up to {total:.6g}, not 1: divide the counts by their total (here {total:.6g}).")
    if len(values) != len(e_values):
        hints = [f"the sum of variables with m and n possible values takes m + n - 1 values; expected "
                 f"{e_values[0]}..{e_values[-1]} ({len(e_values)} values)"]
        return Feedback(False, f"Your support has {len(values)} values; expected {len(e_values)}.", hints)
    if not np.array_equal(values, e_values):
        shift = values - e_values
        if np.all(shift == shift[0]):
            return Feedback(False, f"Your support {values[0]}..{values[-1]} is shifted by {int(shift[0])} from "
                                   f"{e_values[0]}..{e_values[-1]}: the smallest value of a sum is the sum of the "
                                   "smallest values (did a die start at 0?).")
        return Feedback(False, f"Your values {values.tolist()} should be {e_values.tolist()}.")
    if not np.isclose(total, 1.0):
        return Feedback(False, f"Your probabilities add up to {total:.6g}, not 1.")
    fb = compare_arrays(probs_arr, e_probs, what="Your probs",
                        variants={"the probabilities were listed in reverse order": e_probs[::-1]})
    if fb:
        return Feedback(True, f"Correct: the pmf has support {e_values[0]}..{e_values[-1]} and its probabilities match.")
    return fb


def _numbers(answer, k: int):
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    return got if got.shape == (k,) and np.all(np.isfinite(got)) else None


@checker
def check_dice_sums(answer, sums, n_dice: int = 3, faces: int = 6) -> Feedback:
    """Check the probabilities that ``n_dice`` fair dice add up to each of ``sums`` (Galileo's
    question, Section 6.2.2), against the ``faces ** n_dice`` ordered outcomes counted here.

    Diagnoses counts given instead of probabilities, the unordered ways counted (the dice
    taken as indistinguishable), and the probabilities given in the wrong order.

    >>> check_dice_sums((25 / 216, 27 / 216), (9, 10))
    ✔ Correct: P(9) = 25/216, P(10) = 27/216.
    >>> check_dice_sums((6 / 216, 6 / 216), (9, 10))
    ✘ You counted the unordered ways (6, 6 of 216): the dice are distinguishable, so 3 + 3 + 4 happens in 3 ordered ways and 1 + 2 + 6 in 6.
    """
    import itertools

    sums = tuple(int(t) for t in np.atleast_1d(sums))
    outcomes = [sum(o) for o in itertools.product(range(1, faces + 1), repeat=n_dice)]
    total = len(outcomes)
    counts = np.array([outcomes.count(t) for t in sums], dtype=float)
    unordered = np.array([len({tuple(sorted(o)) for o in itertools.product(range(1, faces + 1), repeat=n_dice)
                               if sum(o) == t}) for t in sums], dtype=float)
    got = _numbers(answer, len(sums))
    names = ", ".join(f"P({t})" for t in sums)
    if got is None:
        return Feedback(False, f"Give {len(sums)} probabilities ({names}) as numbers; got {answer!r}.")
    if np.allclose(got, counts / total):
        return Feedback(True, "Correct: " + ", ".join(f"P({t}) = {int(c)}/{total}" for t, c in zip(sums, counts)) + ".")
    if np.allclose(got, counts):
        return Feedback(False, f"These are the counts of ordered outcomes; a probability divides them by {total}.")
    if np.allclose(got, unordered / total) or np.allclose(got, unordered):
        shown = ", ".join(str(int(c)) for c in unordered)
        return Feedback(False, f"You counted the unordered ways ({shown} of {total}): the dice are distinguishable, "
                               "so 3 + 3 + 4 happens in 3 ordered ways and 1 + 2 + 6 in 6.")
    if len(sums) > 1 and np.allclose(got, (counts / total)[::-1]):
        return Feedback(False, f"The probabilities are in the wrong order: give {names}.")
    return Feedback(False, "Not right: " + ", ".join(f"P({t}) = {g:.4g} (x {total} = {g * total:.4g})"
                                                     for t, g in zip(sums, got)) + ".",
                    [f"the pmf of a sum of {n_dice} dice is the {n_dice}-fold convolution of one die's pmf "
                     "(signals.sum_pmf)"])


@checker
def check_truncated_sum_pmf(answer, rates=(2, 3), K: int = 15) -> Feedback:
    """Check the convolution of two Poisson pmfs truncated to ``0..K`` (Section 6.2.2), given
    as its probabilities or as the pair ``(values, probs)`` of :func:`cnnlib.signals.sum_pmf`.

    The reference is computed here: the two truncated pmfs (SciPy) convolved by ``np.convolve``.
    Diagnoses the result cut to ``0..K``, the exact Poisson pmf of the sum given instead of the
    truncated convolution, and pmfs that were not truncated at ``K``.

    >>> import scipy.stats
    >>> t = np.arange(16)
    >>> check_truncated_sum_pmf(np.convolve(scipy.stats.poisson.pmf(t, 2), scipy.stats.poisson.pmf(t, 3)))
    ✔ Correct: the truncated convolution has 31 values; the first 16 are exact, the rest too small.
    >>> check_truncated_sum_pmf(scipy.stats.poisson.pmf(np.arange(31), 5))
    ✘ That is the exact Poisson(5) pmf, not the convolution of the two pmfs truncated at K = 15: beyond K its entries come out too small.
    """
    import scipy.stats

    support = np.arange(K + 1)
    pmfs = [scipy.stats.poisson.pmf(support, r) for r in rates]
    expected = np.convolve(pmfs[0], pmfs[1])
    probs = answer[1] if isinstance(answer, (tuple, list)) and len(answer) == 2 and np.ndim(answer[0]) == 1 else answer
    arr, problem = _to_array(probs, "Your pmf")
    if problem is not None:
        return problem
    exact = scipy.stats.poisson.pmf(np.arange(len(expected)), sum(rates))
    if arr.shape == expected.shape and np.allclose(arr, exact, rtol=1e-9, atol=1e-15) \
            and not np.allclose(arr, expected, rtol=1e-9, atol=1e-15):
        return Feedback(False, f"That is the exact Poisson({sum(rates):g}) pmf, not the convolution of the two pmfs "
                               f"truncated at K = {K}: beyond K its entries come out too small.")
    if arr.ndim == 1 and len(arr) == K + 1 and np.allclose(arr, expected[:K + 1]):
        return Feedback(False, f"You kept only t = 0..{K}: two pmfs on 0..{K} convolve to {2 * K + 1} values "
                               f"(0..{2 * K}); keep them all to see which are exact.")
    if arr.ndim == 1 and len(arr) > len(expected):
        return Feedback(False, f"Your pmf has {len(arr)} values; with both pmfs truncated at K = {K} the sum takes "
                               f"{len(expected)} (0..{2 * K}): did you truncate them at K?")
    fb = compare_arrays(arr, expected, what="Your truncated convolution")
    if fb:
        return Feedback(True, f"Correct: the truncated convolution has {len(expected)} values; the first {K + 1} "
                              "are exact, the rest too small.")
    return fb
