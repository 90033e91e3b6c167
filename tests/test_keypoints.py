"""cnnlib.keypoints and models.keypoint_regressor: triangle scenes, the matched loss and error, the hull baseline."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.path import Path

from cnnlib import keypoints, models

points_arrays = st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.integers(1, 5), st.just(k), st.integers(0, 10_000)))


def brute_force_loss(p, t):
    """min over every order of the predictions of the mean squared distance, averaged over the batch."""
    return np.mean([min(((a[list(o)] - b) ** 2).sum(1).mean() for o in itertools.permutations(range(len(a))))
                    for a, b in zip(p, t)])


def brute_force_error(p, t):
    return np.array([min(np.linalg.norm(a[list(o)] - b, axis=1).mean() for o in itertools.permutations(range(len(a))))
                     for a, b in zip(p, t)])


@settings(max_examples=30, deadline=None)
@given(points_arrays)
def test_loss_and_error_match_brute_force(case):
    batch, k, seed = case
    rng = np.random.default_rng(seed)
    p, t = rng.normal(size=(batch, k, 2)), rng.normal(size=(batch, k, 2))
    loss = keypoints.keypoint_loss(torch.tensor(p), torch.tensor(t))
    np.testing.assert_allclose(float(loss), brute_force_loss(p, t), rtol=1e-10)
    np.testing.assert_allclose(float(keypoints.keypoint_loss(torch.tensor(p.reshape(batch, -1)), torch.tensor(t),
                                                             matched=False)), ((p - t) ** 2).sum(2).mean(), rtol=1e-10)
    np.testing.assert_allclose(keypoints.keypoint_error(p, t), brute_force_error(p, t), rtol=1e-10)
    np.testing.assert_allclose(keypoints.keypoint_error(p.reshape(batch, -1) / 4, t / 4, scale=4), brute_force_error(p, t))
    shuffled = p[:, rng.permutation(k)]  # the order of the predictions does not matter
    np.testing.assert_allclose(float(keypoints.keypoint_loss(torch.tensor(shuffled), torch.tensor(t))), float(loss))


def test_loss_has_gradients_and_is_zero_for_any_order():
    t = torch.rand(4, 3, 2)
    p = t[:, [2, 0, 1]].clone().requires_grad_()
    loss = keypoints.keypoint_loss(p, t)
    loss.backward()
    assert loss.item() == 0 and p.grad is not None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.sampled_from([16, 32, 40]))
def test_triangle_scenes_masks_and_points(seed, size):
    ds = keypoints.triangle_scenes(3, seed=seed, size=size)
    assert ds.images.shape == (3, 1, size, size) and 0 <= ds.images.min() and ds.images.max() <= 1
    assert ((ds.points >= 0.5) & (ds.points <= size - 0.5)).all()
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    centres = np.stack([xs.ravel(), ys.ravel()], 1)
    for points, mask in zip(ds.points.numpy().astype(float), ds.masks.numpy()):
        inside = Path(points).contains_points(centres).reshape(size, size)  # oracle: matplotlib
        assert (inside != mask).sum() <= 2  # they may differ on pixel centres on an edge
        assert mask.sum() >= 1
    np.testing.assert_allclose(ds.targets().numpy(), ds.points.numpy().reshape(3, 6) / size)


def test_same_seed_same_scenes():
    a, b = keypoints.triangle_scenes(4, seed=9), keypoints.triangle_scenes(4, seed=9)
    assert torch.equal(a.images, b.images) and torch.equal(a.points, b.points)
    assert "4 images of 32 x 32" in repr(a) and len(a) == 4


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=12, unique=True))
def test_hull_triangle_is_the_largest_triangle(pixels):
    mask = np.zeros((8, 8), bool)
    for r, c in pixels:
        mask[r, c] = True
    tri = keypoints.hull_triangle(mask)
    centres = np.array([(c + 0.5, r + 0.5) for r, c in pixels])
    assert all(any(np.allclose(v, c) for c in centres) for v in tri)  # its corners are pixel centres
    area = lambda a, b, c: abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    best = max((area(*combo) for combo in itertools.combinations(centres, 3)), default=0.0)
    assert np.isclose(area(*tri), best)  # oracle: every triple of pixels


def test_hull_triangle_recovers_the_vertices_of_a_large_triangle():
    ds = keypoints.triangle_scenes(20, seed=3, size=48)
    errors = [keypoints.keypoint_error(keypoints.hull_triangle(m)[None], p[None])[0] for m, p in zip(ds.masks.numpy(), ds.points.numpy())]
    assert np.median(errors) < 1.5
    np.testing.assert_allclose(keypoints.hull_triangle(np.zeros((6, 6))), np.full((3, 2), 3.0))


def test_keypoint_regressor_shapes():
    net = models.keypoint_regressor(4, size=32, width=8)
    assert net(torch.zeros(2, 1, 32, 32)).shape == (2, 8)


@pytest.mark.parametrize("call, error, match", [
    (lambda: keypoints.triangle_scenes(0), ValueError, "n must be"),
    (lambda: keypoints.triangle_scenes(2, size=8), ValueError, "size must be at least 16"),
    (lambda: keypoints.triangle_scenes(2, radius=(0.3, 0.6)), ValueError, "radius must be two fractions"),
    (lambda: keypoints.triangle_scenes(2, radius=0.3), ValueError, "radius must be two fractions"),
    (lambda: keypoints.triangle_scenes(2, contrast=(3, 1)), ValueError, "contrast must be two numbers"),
    (lambda: keypoints.triangle_scenes(2, min_angle=150), ValueError, "min_angle must be a number in"),
    (lambda: keypoints.triangle_scenes(2, noise=-1), ValueError, "noise must be a number"),
    (lambda: keypoints.keypoint_loss(np.zeros((2, 6)), torch.zeros(2, 6)), TypeError, "pred must be a torch tensor"),
    (lambda: keypoints.keypoint_loss(torch.zeros(2, 5), torch.zeros(2, 5)), ValueError, r"pred must have shape \(B, 2K\)"),
    (lambda: keypoints.keypoint_loss(torch.zeros(2, 6), torch.zeros(2, 4)), ValueError, "same number of points"),
    (lambda: keypoints.keypoint_loss(torch.zeros(2, 14), torch.zeros(2, 14)), ValueError, "K <= 6"),
    (lambda: keypoints.keypoint_error(np.zeros((2, 6)), np.zeros((2, 4))), ValueError, "same points"),
    (lambda: keypoints.keypoint_error(np.zeros((2, 6)), np.zeros((2, 6)), scale=0), ValueError, "scale must be a positive"),
    (lambda: keypoints.hull_triangle(np.zeros(5)), ValueError, "mask must be a 2-D array"),
    (lambda: models.keypoint_regressor(0), ValueError, "num_points must be"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_dihedral_moves_the_points_with_the_images():
    ds = keypoints.triangle_scenes(3, seed=4, size=16)
    more = keypoints.dihedral(ds)
    assert len(more) == 24 and torch.equal(more.images[:3], ds.images)
    ys, xs = np.mgrid[0:16, 0:16] + 0.5
    centres = np.stack([xs.ravel(), ys.ravel()], 1)
    seen = set()
    for points, mask, image in zip(more.points.numpy().astype(float), more.masks.numpy(), more.images.numpy()):
        inside = Path(points).contains_points(centres).reshape(16, 16)  # the moved points still outline the mask
        assert (inside != mask).sum() <= 2
        seen.add(image.tobytes())
    assert len(seen) == 24  # eight different images of each scene
    with pytest.raises(TypeError, match="scenes must be KeypointScenes"):
        keypoints.dihedral(ds.images)
