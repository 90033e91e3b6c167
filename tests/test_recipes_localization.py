"""cnnlib.recipes.localization: page 6.6.1's call and trained_localizer share one cached_fit entry."""
import math
import re
from pathlib import Path

import nbformat
import pytest
import torch
from hypothesis import given, settings, strategies as st

from cnnlib import losses, scenes, train
from cnnlib.recipes import localization

PAGE = Path(__file__).resolve().parents[1] / "chapters" / "6-6-beyond" / "1-localization.ipynb"


def _page_source() -> str:
    nb = nbformat.read(PAGE, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_the_page_trains_through_the_recipe():
    """The page visibly uses the recipe's scenes, targets, settings and entry names (what the
    entry-sharing test below replays)."""
    src = _page_source()
    assert "localization.localization_scenes(QUICK)" in src
    assert "localization.localization_targets(train_set)" in src
    assert "RECIPE = localization.localization_recipe(QUICK)" in src
    assert "localization.localizer_model(" in src
    calls = re.findall(r"train\.cached_fit\((.*?)\)\n", src, flags=re.S)
    assert calls, "the page trains through train.cached_fit"
    for call in calls:
        assert "(train_set.images, targets)" in call and "**RECIPE" in call and "seed=seed" in call
    assert 'name=f"localizer-{head}"' in src
    assert "train.use_threads()" in src


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """The quick run on 40 scenes and one epoch, in a temporary data folder."""
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path))
    monkeypatch.setitem(localization.N_TRAIN, True, 40)
    monkeypatch.setattr(localization, "N_TEST", 8)
    monkeypatch.setitem(localization._QUICK, "epochs", 1)
    return tmp_path


@pytest.mark.parametrize("head", localization.HEADS)
def test_page_call_and_trained_localizer_share_one_entry(tiny, head, capsys):
    # the page's call, as its training cell makes it (test_the_page_trains_through_the_recipe)
    QUICK, device, seed = True, torch.device("cpu"), 0
    train_set, test_set = localization.localization_scenes(QUICK)
    targets = localization.localization_targets(train_set)
    RECIPE = localization.localization_recipe(QUICK)
    train.set_seed(seed)
    net = localization.localizer_model(head, size=train_set.images.shape[-1])
    train.cached_fit(net, (train_set.images, targets), name=f"localizer-{head}", device=device, seed=seed,
                     progress=False, **RECIPE)
    files = sorted(p.name for p in (tiny / "weights").glob(f"localizer-{head}-*.pt"))
    assert len(files) == 1
    capsys.readouterr()
    model, history = localization.trained_localizer(True, seed=0, device="cpu", head=head)
    assert "Loaded the trained weights" in capsys.readouterr().out
    assert sorted(p.name for p in (tiny / "weights").glob(f"localizer-{head}-*.pt")) == files
    assert not model.training
    for a, b in zip(net.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    # another seed is another entry
    localization.trained_localizer(True, seed=1, device="cpu", head=head, verbose=False)
    assert len(list((tiny / "weights").glob(f"localizer-{head}-*.pt"))) == 2


def test_recipe_and_scenes():
    quick, full = localization.localization_recipe(True), localization.localization_recipe(False)
    assert quick["loss_fn"] is localization.chapter_loss and full["loss_fn"] is localization.chapter_loss
    assert quick["epochs"] < full["epochs"] and localization.N_TRAIN[True] < localization.N_TRAIN[False]
    assert "seed" not in quick  # the page passes each seed
    with pytest.raises(TypeError, match="quick"):
        localization.localization_recipe("yes")
    with pytest.raises(ValueError, match="head"):
        localization.localizer_model("flat")
    with pytest.raises(TypeError, match="dataset"):
        localization.localization_targets(torch.zeros(3, 5))
    targets = localization.localization_targets(scenes.shape_scenes(12, seed=3))
    empty = targets[:, 0] == 0
    assert targets.shape == (12, 5) and torch.isnan(targets[empty, 1:]).all() and torch.isfinite(targets[~empty]).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(2, 4), st.floats(0, 50), st.integers(0, 2 ** 16))
def test_chapter_loss_is_the_mean_of_the_per_example_formula(b, k, gamma, seed):
    """Independent oracle: -log softmax(label) + gamma * [label != 0] * squared box error, averaged."""
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(b, k + 4, generator=g, dtype=torch.float64)
    labels = torch.randint(0, k, (b,), generator=g)
    boxes = torch.rand(b, 4, generator=g, dtype=torch.float64)
    boxes[labels == 0] = float("nan")
    target = torch.cat([labels[:, None].double(), boxes], dim=1)
    expected = 0.0
    for i in range(b):
        scores = out[i, :k].tolist()
        log_sum = math.log(sum(math.exp(s) for s in scores))
        term = log_sum - scores[int(labels[i])]
        if labels[i] != 0:
            term += gamma * sum((float(out[i, k + j]) - float(boxes[i, j])) ** 2 for j in range(4))
        expected += term / b
    got = float(localization.chapter_loss(out, target, gamma))
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9)
    assert float(localization.chapter_loss(out, target)) == pytest.approx(
        float(losses.localization_loss(out[:, :k], out[:, k:], labels, boxes, gamma=localization.GAMMA)))


def test_chapter_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match="out"):
        localization.chapter_loss(torch.zeros(2, 5), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="target"):
        localization.chapter_loss(torch.zeros(2, 7), torch.zeros(2, 4))
