"""cnnlib.losses: the localization loss and the triplet loss (6.27) against hand computations and PyTorch."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import losses

NAN = float("nan")


# ---------------------------------------------------------------- localization loss
def test_localization_loss_by_hand():
    """Two images: a 'bird' with a box 0.2 too tall, and 'nothing' whose box is ignored."""
    logits = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])
    boxes = torch.tensor([[0.1, 0.2, 0.3, 0.4], [9.0, 9.0, 9.0, 9.0]])
    labels = torch.tensor([1, 0])
    target = torch.tensor([[0.1, 0.2, 0.5, 0.4], [NAN, NAN, NAN, NAN]])
    ce1 = -math.log(math.exp(2) / (math.exp(2) + 2))
    ce2 = -math.log(math.e / (math.e + 2))
    per = losses.localization_loss(logits, boxes, labels, target, gamma=3.0, reduction="none")
    np.testing.assert_allclose(per.numpy(), [ce1 + 3.0 * 0.2 ** 2, ce2], rtol=1e-6)
    mean = losses.localization_loss(logits, boxes, labels, target, gamma=3.0)
    total = losses.localization_loss(logits, boxes, labels, target, gamma=3.0, reduction="sum")
    np.testing.assert_allclose([mean.item(), total.item()], [per.mean().item(), per.sum().item()], rtol=1e-6)


@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 6), K=st.integers(2, 5), gamma=st.floats(0, 10), seed=st.integers(0, 10_000))
def test_localization_loss_equals_cross_entropy_plus_masked_mse(B, K, gamma, seed):
    """Oracle: F.cross_entropy plus gamma * 4 * F.mse_loss (a mean over 4 coordinates) on the object rows."""
    g = torch.Generator().manual_seed(seed)
    logits, boxes = torch.randn(B, K, generator=g, dtype=torch.float64), torch.rand(B, 4, generator=g, dtype=torch.float64)
    target, labels = torch.rand(B, 4, generator=g, dtype=torch.float64), torch.randint(0, K, (B,), generator=g)
    target[labels == 0] = NAN
    expected = F.cross_entropy(logits, labels, reduction="none")
    for i in range(B):
        if labels[i] != 0:
            expected[i] += gamma * 4 * F.mse_loss(boxes[i], target[i])
    got = losses.localization_loss(logits, boxes, labels, target, gamma=gamma, reduction="none")
    torch.testing.assert_close(got, expected)


def test_nothing_rows_give_no_box_gradient():
    logits = torch.zeros(2, 3, requires_grad=True)
    boxes = torch.rand(2, 4, requires_grad=True)
    target = torch.tensor([[0.1, 0.1, 0.2, 0.2], [NAN] * 4])
    losses.localization_loss(logits, boxes, torch.tensor([2, 0]), target).backward()
    assert torch.isfinite(boxes.grad).all() and torch.all(boxes.grad[1] == 0) and torch.any(boxes.grad[0] != 0)
    torch.testing.assert_close(boxes.grad[0], (boxes[0] - target[0]).detach())  # d/db of (1/2) sum (b - t)^2 = (b - t)


def test_gamma_zero_is_plain_cross_entropy():
    logits, labels = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    got = losses.localization_loss(logits, torch.rand(5, 4), labels, torch.rand(5, 4), gamma=0.0)
    torch.testing.assert_close(got, F.cross_entropy(logits, labels))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(logits=torch.zeros(3)), ValueError, "logits must be a 2-D tensor"),
    (dict(logits=torch.zeros(2, 1)), ValueError, "at least 2 columns"),
    (dict(boxes=torch.zeros(2, 3)), ValueError, r"boxes must have shape \(B, 4\) = \(2, 4\)"),
    (dict(target_boxes=torch.zeros(3, 4)), ValueError, "target_boxes must have shape"),
    (dict(labels=torch.tensor([0, 1, 1])), ValueError, "labels must have length B = 2"),
    (dict(labels=torch.tensor([0, 3])), ValueError, r"labels must lie in 0..2"),
    (dict(labels=torch.tensor([-1, 0])), ValueError, r"labels must lie in 0..2"),
    (dict(labels=torch.tensor([0.0, 1.0])), ValueError, "integer class indices"),
    (dict(gamma=-1.0), ValueError, "gamma must be a number >= 0"),
    (dict(target_boxes=torch.full((2, 4), NAN)), ValueError, "target_boxes must be finite wherever"),
    (dict(logits=[[0.0, 1.0]]), TypeError, "logits must be a torch.Tensor"),
    (dict(reduction="average"), ValueError, "reduction must be one of"),
])
def test_localization_loss_errors(kwargs, error, match):
    args = dict(logits=torch.zeros(2, 3), boxes=torch.zeros(2, 4), labels=torch.tensor([0, 1]),
                target_boxes=torch.zeros(2, 4), gamma=1.0)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        losses.localization_loss(**args)


# ---------------------------------------------------------------- triplet loss
def test_triplet_loss_by_hand():
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    s = torch.tensor([[3.0, 0.0], [1.0, 0.0]])
    d = torch.tensor([[0.0, 2.0], [0.0, 3.0]])
    # squared: d_same = 9, 1; d_different = 4, 9; margin 0.5 -> max(5.5, 0), max(-7.5, 0)
    per = losses.triplet_loss(a, s, d, margin=0.5, reduction="none")
    np.testing.assert_allclose(per.numpy(), [5.5, 0.0])
    # plain: d_same = 3, 1; d_different = 2, 3 -> max(1.5, 0), max(-1.5, 0)
    np.testing.assert_allclose(losses.triplet_loss(a, s, d, margin=0.5, squared=False, reduction="none").numpy(), [1.5, 0.0])
    assert losses.triplet_loss(a, s, d, margin=0.5).item() == pytest.approx(2.75)


@settings(max_examples=60, deadline=None)
@given(B=st.integers(1, 8), D=st.integers(1, 10), margin=st.floats(0.01, 3), seed=st.integers(0, 10_000))
def test_plain_distances_match_torch_triplet_margin_loss(B, D, margin, seed):  # (PyTorch wants margin > 0)
    g = torch.Generator().manual_seed(seed)
    a, s, d = (torch.randn(B, D, generator=g, dtype=torch.float64) for _ in range(3))
    expected = F.triplet_margin_loss(a, s, d, margin=margin)
    torch.testing.assert_close(losses.triplet_loss(a, s, d, margin=margin, squared=False), expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(B=st.integers(1, 8), D=st.integers(1, 10), margin=st.floats(0, 3), seed=st.integers(0, 10_000))
def test_squared_distances_match_numpy_and_admissibility(B, D, margin, seed):
    """(6.27) in NumPy; the loss is 0 exactly for the triplets admissible by (6.28)."""
    rng = np.random.default_rng(seed)
    a, s, d = (rng.normal(size=(B, D)) for _ in range(3))
    d_same, d_diff = ((a - s) ** 2).sum(1), ((a - d) ** 2).sum(1)
    expected = np.maximum(d_same - d_diff + margin, 0)
    got = losses.triplet_loss(*(torch.tensor(v) for v in (a, s, d)), margin=margin, reduction="none").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    admissible = d_same - d_diff <= -margin
    assert np.all(got[admissible] == 0) and np.all(got[~admissible] > 0)


def test_triplet_loss_gradient_moves_positive_closer():
    a = torch.zeros(1, 2)
    s = torch.tensor([[2.0, 0.0]], requires_grad=True)
    d = torch.tensor([[0.0, 1.0]], requires_grad=True)
    losses.triplet_loss(a, s, d, margin=1.0).backward()
    torch.testing.assert_close(s.grad, torch.tensor([[4.0, 0.0]]))  # d/ds ||s - a||^2 = 2 (s - a)
    torch.testing.assert_close(d.grad, torch.tensor([[0.0, -2.0]]))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(positive=torch.zeros(3, 2)), ValueError, r"positive must have the shape of anchor, \(2, 2\)"),
    (dict(negative=torch.zeros(2, 5)), ValueError, "negative must have the shape of anchor"),
    (dict(anchor=torch.zeros(2)), ValueError, "anchor must be a 2-D tensor"),
    (dict(margin=-0.1), ValueError, "margin must be a number >= 0, got -0.1"),
    (dict(margin=float("inf")), ValueError, "margin must be a number >= 0"),
    (dict(squared="yes"), TypeError, "squared must be True or False"),
    (dict(negative=np.zeros((2, 2))), TypeError, "negative must be a torch.Tensor"),
    (dict(anchor=torch.zeros(0, 2)), ValueError, "anchor must not be empty"),
])
def test_triplet_loss_errors(kwargs, error, match):
    args = dict(anchor=torch.zeros(2, 2), positive=torch.zeros(2, 2), negative=torch.zeros(2, 2), margin=0.2)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        losses.triplet_loss(**args)


@pytest.mark.parametrize("bad", [float("inf"), -float("inf"), float("nan")])
def test_a_wild_predicted_box_on_a_nothing_row_is_ignored(bad):
    """The box term is masked, not multiplied by 0 (0 * inf is NaN): an exploding box
    prediction where there is nothing to find neither poisons the loss nor its gradient."""
    logits = torch.zeros(3, 3, requires_grad=True)
    boxes = torch.tensor([[0.1, 0.2, 0.3, 0.4], [bad, 0.5, 0.5, bad], [0.5, 0.5, 0.5, 0.5]], requires_grad=True)
    labels = torch.tensor([1, 0, 2])
    target = torch.tensor([[0.1, 0.2, 0.5, 0.4], [float("nan")] * 4, [0.5, 0.5, 0.5, 0.5]])
    loss = losses.localization_loss(logits, boxes, labels, target)
    want = (3 * math.log(3) + 0.2**2) / 3
    assert loss.item() == pytest.approx(want)
    loss.backward()
    assert torch.isfinite(boxes.grad).all() and torch.isfinite(logits.grad).all()
    assert (boxes.grad[1] == 0).all()
    # gamma = 0 is plain classification even with an infinite box on an object row
    wild = torch.tensor([[bad] * 4] * 3)
    plain = losses.localization_loss(logits, wild, labels, target, gamma=0)
    assert plain.item() == pytest.approx(F.cross_entropy(logits, labels).item())
