"""cnnlib.train.triplets: the triplets of a batch, the mining choice and the loss against brute force; fit_triplets."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnlib import losses, train
from cnnlib.train import triplets


def brute_triplets(identities, per_identity):
    """Every (anchor, same, different) of a batch laid out identity by identity, by three loops."""
    who = [i // per_identity for i in range(identities * per_identity)]
    n = len(who)
    return [(a, s, d) for a, s, d in itertools.product(range(n), repeat=3)
            if a != s and who[a] == who[s] and who[d] != who[a]]


def brute_choice(d_same, d_different, margin, mining):
    """The mining rule written out triplet by triplet, in Python floats."""
    if mining == "all":
        return [True] * len(d_same)
    return [ds < dd < ds + margin for ds, dd in zip(d_same, d_different)]


@settings(max_examples=20, deadline=None)
@given(identities=st.integers(1, 5), per_identity=st.integers(1, 4))
def test_batch_triplets_are_every_triplet(identities, per_identity):
    a, s, d = triplets.batch_triplets(identities, per_identity)
    got = list(zip(a.tolist(), s.tolist(), d.tolist()))
    assert got == brute_triplets(identities, per_identity)  # same triplets, same (lexicographic) order
    n = identities * per_identity
    assert len(got) == n * (per_identity - 1) * (n - per_identity)


finite = st.floats(0, 4, allow_nan=False, width=64)


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(finite, finite), min_size=1, max_size=30),
       margin=st.floats(0.01, 2, allow_nan=False), mining=st.sampled_from(triplets.MININGS))
def test_mining_choice_matches_brute_force(pairs, margin, mining):
    d_same = torch.tensor([p[0] for p in pairs], dtype=torch.float64)
    d_different = torch.tensor([p[1] for p in pairs], dtype=torch.float64)
    got = triplets.mine_triplets(d_same, d_different, margin, mining).tolist()
    assert got == brute_choice(d_same.tolist(), d_different.tolist(), margin, mining)


def test_semi_hard_boundaries():
    d_same = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    d_different = torch.tensor([0.5, 1.0, 1.25, 1.5, 2.0], dtype=torch.float64)
    # too hard (negative closer), equal (not farther), semi-hard, exactly at the margin (admissible), admissible
    assert triplets.mine_triplets(d_same, d_different, 0.5, "semi-hard").tolist() == [False, False, True, False, False]


def brute_batch_loss(e, identities, per_identity, margin, mining):
    """Loss and admissible fraction of a batch, one triplet at a time in float64 NumPy."""
    e = np.asarray(e, dtype=np.float64)
    total, positive, admissible, chosen = 0.0, 0, 0, 0
    rows = brute_triplets(identities, per_identity)
    for a, s, d in rows:
        ds, dd = ((e[a] - e[s]) ** 2).sum(), ((e[a] - e[d]) ** 2).sum()
        loss = max(ds - dd + margin, 0.0)
        admissible += ds - dd <= -margin
        if brute_choice([ds], [dd], margin, mining)[0]:
            chosen += 1
            total += loss
            positive += loss > 0
    return total / max(positive, 1), admissible / len(rows)


@settings(max_examples=30, deadline=None)
@given(identities=st.integers(2, 4), per_identity=st.integers(2, 4), dim=st.integers(1, 5),
       seed=st.integers(0, 10_000), margin=st.floats(0.05, 1.5), mining=st.sampled_from(triplets.MININGS),
       spread=st.floats(0.1, 2.0))
def test_batch_loss_matches_brute_force(identities, per_identity, dim, seed, margin, mining, spread):
    g = torch.Generator().manual_seed(seed)
    e = spread * torch.randn(identities * per_identity, dim, generator=g, dtype=torch.float64)
    loss, admissible = triplets.triplet_batch_loss(e, triplets.batch_triplets(identities, per_identity), margin, mining)
    want_loss, want_admissible = brute_batch_loss(e.numpy(), identities, per_identity, margin, mining)
    assert loss.item() == pytest.approx(want_loss, rel=1e-9, abs=1e-12)
    assert admissible.item() == pytest.approx(want_admissible)


def test_batch_loss_gradient_is_that_of_the_triplet_loss():
    """The distance-matrix form has the gradient of losses.triplet_loss applied to the gathered triplets."""
    g = torch.Generator().manual_seed(1)
    e = torch.randn(12, 3, generator=g, dtype=torch.float64, requires_grad=True)
    a, s, d = triplets.batch_triplets(3, 4)
    loss, _ = triplets.triplet_batch_loss(e, (a, s, d), 0.7)
    (grad,) = torch.autograd.grad(loss, e)
    per = losses.triplet_loss(e[a], e[s], e[d], 0.7, reduction="none")
    (want,) = torch.autograd.grad(per.sum() / (per > 0).sum(), e)
    torch.testing.assert_close(grad, want)


@settings(max_examples=15, deadline=None)
@given(counts=st.lists(st.integers(3, 8), min_size=3, max_size=6), identities=st.integers(2, 3),
       per_identity=st.integers(2, 3), seed=st.integers(0, 1000))
def test_batches_are_distinct_images_of_distinct_identities(counts, identities, per_identity, seed):
    labels = torch.tensor(np.repeat(np.arange(len(counts)) * 7, counts))[torch.randperm(sum(counts))]
    draws = triplets._IdentityBatches(labels, identities, per_identity, "train_data",
                                      torch.Generator().manual_seed(seed))
    for _ in range(5):
        idx = draws.draw()
        assert len(set(idx.tolist())) == len(idx) == identities * per_identity
        who = labels[idx].view(identities, per_identity)
        assert (who == who[:, :1]).all() and len(set(who[:, 0].tolist())) == identities


def _toy(n_identities=4, per=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n_identities).repeat_interleave(per)
    return torch.randn(n_identities, 3, generator=g)[y] + 0.3 * torch.randn(len(y), 3, generator=g), y


def test_fit_triplets_is_deterministic_and_learns():
    X, y = _toy()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        net = nn.Linear(3, 2)
        runs.append((net, train.fit_triplets(net, (X, y), (X, y), device="cpu", steps=40, identities=2,
                                             per_identity=4, lr=0.05)))
    (n1, h1), (n2, h2) = runs
    assert h1.train_loss == h2.train_loss and torch.equal(n1.weight, n2.weight)
    assert h1.epochs == len(h1.seconds) == len(h1.lr) == 40 and h1.n_train == 8
    assert h1.val_accuracy[0] > 0.9 and not n1.training


def test_fit_triplets_semi_hard_trains_only_on_semi_hard():
    """A step whose batch has no semi-hard triplet leaves the weights alone (loss 0, no gradient)."""
    X, y = _toy()
    net = nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.zero_()  # every embedding the same point: d_same = d_different, never semi-hard
    h = train.fit_triplets(net, (X, y), device="cpu", steps=3, identities=2, per_identity=3, mining="semi-hard")
    assert h.train_loss == [0.0, 0.0, 0.0] and h.train_accuracy == [0.0, 0.0, 0.0]
    assert float(net.weight.detach().abs().max()) == 0.0


def test_cached_fit_with_fit_triplets_trains_once(tmp_path):
    X, y = _toy()
    kwargs = dict(name="toy-triplets", root=tmp_path, fit_fn=train.fit_triplets, device="cpu", steps=5,
                  identities=2, per_identity=3, verbose=False)
    torch.manual_seed(0)
    first = nn.Linear(3, 2)
    h1 = train.cached_fit(first, (X, y), **kwargs)
    torch.manual_seed(0)
    again = nn.Linear(3, 2)
    h2 = train.cached_fit(again, (X, y), **kwargs)
    assert h1.train_loss == h2.train_loss and torch.equal(first.weight, again.weight)
    assert len(list(tmp_path.glob("weights/toy-triplets-*.pt"))) == 1


@pytest.mark.parametrize("kwargs, error, match", [
    ({"steps": 0}, ValueError, "steps must be"),
    ({"identities": 1}, ValueError, "identities must be at least 2"),
    ({"per_identity": 1}, ValueError, "per_identity must be at least 2"),
    ({"identities": 5}, ValueError, "identities=5 is more than the 4 identities"),
    ({"per_identity": 11}, ValueError, "per_identity=11 needs that many images"),
    ({"mining": "hardest"}, ValueError, "mining"),
    ({"margin": -1.0}, ValueError, "margin"),
    ({"lr": 0}, ValueError, "lr"),
])
def test_fit_triplets_errors(kwargs, error, match):
    X, y = _toy()
    args = dict(device="cpu", steps=1, identities=2, per_identity=2) | kwargs
    with pytest.raises(error, match=match):
        train.fit_triplets(nn.Linear(3, 2), (X, y), **args)


def test_fit_triplets_rejects_a_non_module():
    X, y = _toy()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train.fit_triplets(lambda x: x, (X, y), device="cpu", steps=1)
