"""The shared diagnosis machinery of cnnlib.exercises gives specific feedback."""
import numpy as np
import torch

from cnnlib import conv, exercises


def test_feedback_truthiness_and_rendering():
    good, bad = exercises.Feedback(True, "fine"), exercises.Feedback(False, "no", ["look at the shape"])
    assert good and not bad
    assert "✘ no" in str(bad) and "hint: look at the shape" in str(bad)
    assert "crimson" in bad._repr_markdown_() and "*hint:* look at the shape" in bad._repr_markdown_()


def test_compare_arrays_diagnoses():
    expected = np.arange(12.0).reshape(3, 4)
    assert exercises.compare_arrays(expected.copy(), expected)
    assert exercises.compare_arrays(torch.tensor(expected), expected)
    fb = exercises.compare_arrays(expected.T, expected)
    assert not fb and "transposed" in str(fb)
    fb = exercises.compare_arrays(expected[:, :3], expected)
    assert "off by one" in str(fb)
    fb = exercises.compare_arrays(np.roll(expected, 1, axis=1), expected)
    assert "shifted by 1 along axis 1" in str(fb)
    fb = exercises.compare_arrays(-expected, expected)
    assert "negative" in str(fb)
    fb = exercises.compare_arrays(expected + 1e-4, expected)
    assert "rounding" in str(fb)
    fb = exercises.compare_arrays("not an array", expected)
    assert "array of numbers" in str(fb)
    wrong = expected.copy(); wrong[2, 3] = 0
    fb = exercises.compare_arrays(wrong, expected)
    assert "1 of 12 entries differ" in str(fb) and "(2, 3)" in str(fb)


def test_check_convolve1d_catches_common_mistakes():
    assert exercises.check_convolve1d(np.convolve)
    assert "cross-correlation" in str(exercises.check_convolve1d(lambda f, g: np.correlate(f, g, "full")))
    assert "'valid' length" in str(exercises.check_convolve1d(lambda f, g: np.convolve(f, g, "valid")))
    assert "'same' length" in str(exercises.check_convolve1d(lambda f, g: np.convolve(f, g, "same")))
    assert "raised ZeroDivisionError" in str(exercises.check_convolve1d(lambda f, g: 1 / 0))


def test_check_convolve2d_and_toeplitz():
    W, x = np.arange(9.0).reshape(3, 3), np.arange(42.0).reshape(6, 7)
    assert exercises.check_convolve2d(conv.convolve2d(x, W), x, W)
    assert "'full' size (6.5)" in str(exercises.check_convolve2d(conv.convolve2d(x, W, "full"), x, W))
    assert "flipped along one axis" in str(exercises.check_convolve2d(conv.cross_correlate2d(x, W[::-1]), x, W))
    f = [1.0, 2.0, 3.0]
    assert "reverse order" in str(exercises.check_toeplitz(conv.toeplitz(f[::-1], 6), f, 6))


def test_check_output_shape():
    assert exercises.check_output_shape(5, 5)
    assert "rows and columns swapped" in str(exercises.check_output_shape((5, 4), (4, 5)))
    assert "each side is 1 too small" in str(exercises.check_output_shape((3, 4), (4, 5)))
    assert "tuple of ints" in str(exercises.check_output_shape("four", (4, 5)))
