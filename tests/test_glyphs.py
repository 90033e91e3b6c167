"""cnnlib.glyphs: many identities, each a glyph redrawn with variation; identities stable across calls."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import glyphs


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), first=st.integers(0, 500), n=st.integers(1, 4), per=st.integers(1, 3))
def test_identities_do_not_depend_on_the_call(seed, first, n, per):
    whole = glyphs.glyph_identities(n + 2, per, seed=seed, first=first)
    part = glyphs.glyph_identities(2, per, seed=seed, first=first + n)  # the last two identities alone
    assert torch.equal(part.images, whole.images[n * per:]) and torch.equal(part.labels, whole.labels[n * per:])
    assert whole.labels.tolist() == np.repeat(np.arange(first, first + n + 2), per).tolist()
    assert 0 <= whole.images.min() and whole.images.max() <= 1


def test_samples_of_one_identity_are_closer_than_samples_of_two():
    ds = glyphs.glyph_identities(30, 4, seed=0, noise=0.0)
    x = ds.images.flatten(1)
    x = (x - x.mean(1, keepdim=True)) / x.std(1, keepdim=True)
    corr = (x @ x.T / x.shape[1]).numpy()
    same = (ds.labels[:, None] == ds.labels[None, :]).numpy() & ~np.eye(len(x), dtype=bool)
    different = (ds.labels[:, None] != ds.labels[None, :]).numpy()
    assert corr[same].mean() > corr[different].mean() + 0.2
    # but the samples do vary: no two samples of an identity are identical
    assert (corr[same] < 0.999).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"n_identities": 0}, "n_identities must be"), ({"size": 8}, "size must be at least 12"),
    ({"strokes": (4, 2)}, "strokes must be"), ({"jitter": -0.1}, "jitter must be"), ({"first": -1}, "first must be"),
])
def test_errors(kwargs, match):
    args = {"n_identities": 2, "per_identity": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        glyphs.glyph_identities(**args)


@settings(max_examples=30, deadline=None)
@given(points=st.lists(st.tuples(*[st.floats(-5, 20, allow_nan=False)] * 4), min_size=1, max_size=4))
def test_segment_distance_matches_brute_force(points):
    """Distance of each pixel centre to each segment, against the closest of 2,001 points along it."""
    rows, cols = np.mgrid[0:6, 0:5] + 0.5
    p = np.array([pt[:2] for pt in points])
    q = np.array([pt[2:] for pt in points])
    got = glyphs._segment_distance(rows, cols, p, q)
    t = np.linspace(0, 1, 2001)
    for k in range(len(p)):
        along = p[k] + t[:, None] * (q[k] - p[k])  # (2001, 2) points of the segment
        brute = np.hypot(rows[..., None] - along[:, 0], cols[..., None] - along[:, 1]).min(-1)
        step = np.hypot(*(q[k] - p[k])) / 2000
        assert np.all(got[k] <= brute + 1e-9) and np.all(got[k] >= brute - step)
