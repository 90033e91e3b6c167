"""Checkers of cnnlib.exercises.overview (Section 6.1): right answers pass, each slip gets its own diagnosis.

Oracles are independent of cnnlib: parameter counts of torch.nn.Linear, and responses computed
with scipy.signal.convolve2d on step images built here.
"""
import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import exercises
from cnnlib.exercises.overview import check_dense_parameter_count, check_diagonal_kernel
from cnnlib.filters import SOBEL_HORIZONTAL, SOBEL_VERTICAL

# ---------------------------------------------------------------- dense parameter count


def _linear_count(shape, K):
    p = int(np.prod(shape))
    return sum(t.numel() for t in torch.nn.Linear(p, K, device="meta").parameters())


def test_exported_from_exercises():
    assert exercises.check_dense_parameter_count is check_dense_parameter_count
    assert exercises.check_diagonal_kernel is check_diagonal_kernel


def test_chapter_numbers():
    fb = check_dense_parameter_count(_linear_count((3, 224, 224), 1000))
    assert fb and "150,529,000" in str(fb)


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=3), K=st.integers(1, 50))
def test_accepts_the_count_of_nn_linear(shape, K):
    assert check_dense_parameter_count(_linear_count(shape, K), tuple(shape), K)
    assert check_dense_parameter_count(float(_linear_count(shape, K)), tuple(shape), K)
    assert check_dense_parameter_count(np.int64(_linear_count(shape, K)), tuple(shape), K)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda p, K: p * K, "weights only"),
    (lambda p, K: p * K + p, "one bias per input"),
    (lambda p, K: p + K, "multiply p by K"),
    (lambda p, K: p, "number of inputs"),
    (lambda p, K: (p + 1) * (K + 1), "no bias on the inputs"),
    (lambda p, K: p // 3 * K + K, "one channel only"),
    (lambda p, K: p * K + 2 * K, "off by K"),
    (lambda p, K: p * K + K + 7, "close"),
])
def test_diagnoses_slips(wrong, phrase):
    shape, K = (3, 32, 32), 10
    p = 3 * 32 * 32
    fb = check_dense_parameter_count(wrong(p, K), shape, K)
    assert not fb
    assert phrase in str(fb)


def test_far_off_answer_gets_a_generic_hint():
    fb = check_dense_parameter_count(12, (1, 28, 28), 10)
    assert not fb and "784" not in fb.message and "28 × 28" in str(fb)


@pytest.mark.parametrize("answer", ["7850", 7850.5, None, True, [7850, 1], np.nan])
def test_non_counts_are_feedback_not_errors(answer):
    fb = check_dense_parameter_count(answer, (1, 28, 28), 10)
    assert not fb and "whole number" in fb.message


def test_single_element_array_is_a_count():
    assert check_dense_parameter_count(np.array(7850), (1, 28, 28), 10)


@pytest.mark.parametrize("shape, K, exc, match", [
    ((), 10, ValueError, "input_shape must be a tuple"),
    ("3x224x224", 10, ValueError, "input_shape must be a tuple"),
    ((3, 0, 4), 10, ValueError, "input_shape must be a positive integer"),
    ((3, 2.5), 10, TypeError, "input_shape must be an integer"),
    ((3, 4), 0, ValueError, "num_classes must be a positive integer"),
    ((3, 4), "ten", TypeError, "num_classes must be an integer"),
])
def test_bad_arguments_raise(shape, K, exc, match):
    with pytest.raises(exc, match=match):
        check_dense_parameter_count(1, shape, K)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(6, 20), st.integers(6, 20), st.integers(1, 4), st.integers(1, 5), st.integers(1, 3))
def test_outputs_of_a_layer_give_k(c_in, h, w, c_out, k, s):
    """``outputs_of``: K is the number of values the layer gives for one input, against PyTorch's count of
    nn.Linear(p, K) (6.3.1: a dense layer with the outputs of a convolution, without stating their number)."""
    layer = torch.nn.Conv2d(c_in, c_out, k, stride=s)
    K = layer(torch.zeros(1, c_in, h, w)).numel()
    assert check_dense_parameter_count(_linear_count((c_in, h, w), K), (c_in, h, w), outputs_of=layer)
    assert not check_dense_parameter_count(_linear_count((c_in, h, w), K) - K, (c_in, h, w), outputs_of=layer)
    if c_in == 1:  # a grey image given as (H, W)
        assert check_dense_parameter_count(_linear_count((h, w), K), (h, w), outputs_of=layer)


def test_outputs_of_errors():
    with pytest.raises(ValueError, match="give num_classes or outputs_of, not both; got num_classes=10"):
        check_dense_parameter_count(1, (1, 8, 8), 10, outputs_of=torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(TypeError, match="outputs_of must be a torch.nn.Module .a layer., got int"):
        check_dense_parameter_count(1, (1, 8, 8), outputs_of=36)


# ---------------------------------------------------------------- diagonal kernels

N = 14
_i, _j = np.indices((N, N))
STEPS = {"main": (_j > _i).astype(float), "anti": (_i + _j > N - 1).astype(float)}
OTHER = {"main": "anti", "anti": "main"}


def _oracle_ok(k, direction):
    """True when k is flat-blind, sees `direction` edges and is blind to the other diagonal (SciPy)."""
    tol = 1e-9 * max(1.0, np.abs(k).sum())
    flat = scipy.signal.convolve2d(np.ones((N, N)), k, mode="valid")
    want = np.abs(scipy.signal.convolve2d(STEPS[direction], k, mode="valid")).max()
    leak = np.abs(scipy.signal.convolve2d(STEPS[OTHER[direction]], k, mode="valid")).max()
    return np.abs(flat).max() <= tol and want > tol and leak <= tol


MAIN_SOBEL = np.array([[0.0, 1, 2], [-1, 0, 1], [-2, -1, 0]])


@pytest.mark.parametrize("k, direction", [
    (MAIN_SOBEL, "main"), (-MAIN_SOBEL, "main"), (3 * MAIN_SOBEL, "main"),
    (np.fliplr(MAIN_SOBEL), "anti"), (np.rot90(MAIN_SOBEL), "anti"),
    ([[0, 1], [-1, 0]], "main"), ([[1, 0], [0, -1]], "anti"),
])
def test_accepts_diagonal_detectors(k, direction):
    assert _oracle_ok(np.asarray(k, float), direction)
    assert check_diagonal_kernel(k, direction)


def _antidiagonal_zero_kernel(values, size):
    """A kernel whose lines i + j = const sum to zero: fill freely, fix the last entry of each line."""
    k = np.zeros((size, size))
    it = iter(values)
    for s in range(2 * size - 1):
        cells = [(i, s - i) for i in range(size) if 0 <= s - i < size]
        for c in cells[:-1]:
            k[c] = next(it)
        k[cells[-1]] = -sum(k[c] for c in cells[:-1])
    return k


@settings(max_examples=40, deadline=None)
@given(size=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_constructed_main_detectors_pass(size, seed):
    values = np.random.default_rng(seed).integers(-3, 4, size=size * size)
    k = _antidiagonal_zero_kernel(values, size)
    verdict = check_diagonal_kernel(k, "main")
    assert bool(verdict) == _oracle_ok(k, "main")
    # mirrored left-right it is an anti-diagonal detector, or a blind one both times
    assert bool(check_diagonal_kernel(np.fliplr(k), "anti")) == bool(verdict)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(2, 4), direction=st.sampled_from(["main", "anti"]), seed=st.integers(0, 2**16))
def test_verdict_agrees_with_scipy_on_random_kernels(size, direction, seed):
    rng = np.random.default_rng(seed)
    k = rng.integers(-2, 3, size=(size, size)).astype(float)
    if rng.random() < 0.5:
        k -= k.mean()                               # half of them blind to flat patches
    assert bool(check_diagonal_kernel(k, direction)) == _oracle_ok(k, direction)


def test_wrong_diagonal():
    fb = check_diagonal_kernel(np.fliplr(MAIN_SOBEL), "main")
    assert not fb and "anti-diagonal instead" in fb.message and "fliplr" in str(fb)


@pytest.mark.parametrize("k, direction", [(SOBEL_VERTICAL, "main"), (SOBEL_HORIZONTAL, "anti")])
def test_sobel_kernels_see_both_diagonals(k, direction):
    fb = check_diagonal_kernel(k, direction)
    assert not fb and "equally" in fb.message and "Sobel" in fb.message


def test_not_zero_sum():
    fb = check_diagonal_kernel(MAIN_SOBEL + np.eye(3), "main")
    assert not fb and "flat patch" in fb.message and "gives 3" in fb.message


def test_leak():
    k = MAIN_SOBEL.copy()
    k[0, 0], k[2, 2] = 0.5, -0.5                    # sum still 0, but the corner lines no longer cancel
    fb = check_diagonal_kernel(k, "main")
    assert not fb and "but also" in fb.message and "i + j" in str(fb)


def test_zero_kernel():
    fb = check_diagonal_kernel(np.zeros((3, 3)), "anti")
    assert not fb and "both kinds" in fb.message


@pytest.mark.parametrize("k, phrase", [
    ([1, 0, -1], "2-D"), (np.zeros((2, 3, 3)), "2-D"), ([[1, -1]], "cannot compare"),
    ("kernel", "matrix of numbers"), ([[1, "a"]], "matrix of numbers"),
])
def test_malformed_kernels_are_feedback(k, phrase):
    fb = check_diagonal_kernel(k, "main")
    assert not fb and phrase in fb.message


def test_large_kernel_uses_a_large_enough_test_image():
    k = np.kron(MAIN_SOBEL, np.ones((3, 3)))       # 9 x 9
    assert check_diagonal_kernel(k, "main")


def test_bad_direction_raises():
    with pytest.raises(ValueError, match="direction"):
        check_diagonal_kernel(MAIN_SOBEL, "diagonal")
