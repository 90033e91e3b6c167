"""cnnlib.filters: the chapter's Sobel kernels, checked against scikit-image and by construction."""
import numpy as np
import pytest
import skimage.data
import skimage.filters
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnlib import conv, filters


def test_kernels_are_the_chapter_ones_and_separable():
    np.testing.assert_array_equal(filters.SOBEL_HORIZONTAL, np.outer([1, 0, -1], [1, 2, 1]))
    np.testing.assert_array_equal(filters.SOBEL_VERTICAL, np.outer([1, 2, 1], [1, 0, -1]))
    np.testing.assert_array_equal(filters.SOBEL_VERTICAL, filters.SOBEL_HORIZONTAL.T)
    with pytest.raises(ValueError):
        filters.SOBEL_HORIZONTAL[0, 0] = 5.0  # read-only


def test_agrees_with_scikit_image_up_to_its_normalisation():
    img = skimage.data.camera().astype(float) / 255
    ours_h = filters.sobel_edges(img, "horizontal")
    ours_v = filters.sobel_edges(img, "vertical")
    # skimage normalises by 4 (the sum of |[1, 2, 1]|); compare on the interior only.
    np.testing.assert_allclose(ours_h, 4 * skimage.filters.sobel_h(img)[1:-1, 1:-1], atol=1e-10)
    np.testing.assert_allclose(ours_v, 4 * skimage.filters.sobel_v(img)[1:-1, 1:-1], atol=1e-10)


@given(arrays(np.float64, st.tuples(st.integers(3, 12), st.integers(3, 12), st.just(3)), elements=st.floats(0, 1)))
def test_volume_equals_sum_of_channels(img):
    per = filters.sobel_edges(img, "vertical", color="per_channel")
    vol = filters.sobel_edges(img, "vertical", color="volume")
    assert per.shape == (img.shape[0] - 2, img.shape[1] - 2, 3)
    np.testing.assert_allclose(vol, per.sum(axis=-1), atol=1e-9)


@given(arrays(np.float64, st.tuples(st.integers(3, 10), st.integers(3, 10)), elements=st.floats(-1, 1)))
def test_combinations(img):
    h, v = filters.sobel_edges(img, "horizontal"), filters.sobel_edges(img, "vertical")
    np.testing.assert_allclose(filters.sobel_edges(img, combine="sum"), h + v)
    np.testing.assert_allclose(filters.sobel_edges(img, combine="average"), (h + v) / 2)
    np.testing.assert_allclose(filters.sobel_edges(img), np.hypot(h, v))
    np.testing.assert_allclose(h, conv.convolve2d(img, filters.SOBEL_HORIZONTAL))


def test_translation_moves_the_edges():
    img = skimage.data.camera().astype(float)[100:200, 100:220]
    shifted = np.roll(img, (5, 7), axis=(0, 1))
    a, b = filters.sobel_edges(img), filters.sobel_edges(shifted)
    np.testing.assert_allclose(b[5 + 2:, 7 + 2:], a[2:-5, 2:-7])


@pytest.mark.parametrize("kwargs, match", [
    (dict(direction="diagonal"), "direction must be one of"),
    (dict(combine="max"), "combine must be one of"),
    (dict(color="gray"), "color must be one of"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        filters.sobel_edges(np.zeros((5, 5)), **kwargs)


def test_too_small_and_wrong_ndim():
    with pytest.raises(ValueError, match=r"at least 3 x 3 pixels.*\(2, 5\)"):
        filters.sobel_edges(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="image must be a 2-D or 3-D array"):
        filters.sobel_edges(np.zeros(5))
