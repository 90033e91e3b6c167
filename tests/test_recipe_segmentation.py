"""Page 6.6.3's U-Net: UNet(skip=False) as a controlled ablation, the class weights, the recipe, and the
page and trained_segmenter sharing one data/weights entry."""
import inspect
import pathlib

import nbformat
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from cnnlib import models, train
from cnnlib.recipes import segmentation
from cnnlib.train import cache

PAGE = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "6-6-beyond" / "3-segmentation.ipynb"


# --------------------------------------------------------------------------- UNet(skip=False)
@settings(max_examples=10, deadline=None)
@given(width=st.integers(1, 4), seed=st.integers(0, 2**16), batch_norm=st.booleans())
def test_unet_without_skips_is_the_unet_whose_skip_weights_are_zero(width, seed, batch_norm):
    """A U-Net without skips equals a U-Net whose later convolutions ignore the encoder's maps: copy the
    no-skip net's weights into a U-Net, keep only the first half of each lifted map there and zero the
    weights that read the skip channels; the halves dropped are made zero in the no-skip net."""
    torch.manual_seed(seed)
    plain = models.UNet(3, 1, width=width, batch_norm=batch_norm, skip=False).eval()
    unet = models.UNet(3, 1, width=width, batch_norm=batch_norm).eval()
    with torch.no_grad():
        for lift, c in ((plain.lift2, 2 * width), (plain.lift1, width)):
            lift.weight[:, c:] = 0  # the no-skip net's second half of the lifted channels is 0
            lift.bias[c:] = 0
        own = unet.state_dict()
        for k, v in plain.state_dict().items():
            if k.startswith(("lift2", "lift1")):
                v = v[:, : own[k].shape[1]] if v.ndim == 4 else v[: own[k].shape[0]]
            own[k] = v.clone()
        unet.load_state_dict(own)
        unet.up2.conv1.weight[:, 2 * width:] = 0  # the channels where the encoder's maps come in
        unet.up1.conv1.weight[:, width:] = 0
        x = torch.randn(2, 1, 8, 12)
        torch.testing.assert_close(unet(x), plain(x))


def test_a_unet_uses_its_skip_channels():
    torch.manual_seed(0)
    unet, x = models.UNet(width=4).eval(), torch.randn(2, 1, 16, 16)
    with torch.no_grad():
        before = unet(x)
        unet.up1.conv1.weight[:, 4:] = 0  # what comes in from down1
        assert (unet(x) - before).abs().max() > 1e-3


@pytest.mark.parametrize("width", [1, 3, 8])
def test_unet_without_skips_has_the_same_channels_and_40w2_3w_more_parameters(width):
    nets = [models.UNet(width=width, skip=s) for s in (True, False)]
    sizes = [sum(p.numel() for p in n.parameters()) for n in nets]
    assert sizes[1] - sizes[0] == 40 * width ** 2 + 3 * width
    convs = [{k: tuple(v.shape) for k, v in n.state_dict().items() if not k.startswith("lift")} for n in nets]
    assert convs[0] == convs[1]  # every layer but the two transposed convolutions is the same
    assert "skip=False" in repr(nets[1]) and "skip" not in repr(nets[0])
    with pytest.raises(TypeError, match="skip must be True or False"):
        models.UNet(skip="no")


# --------------------------------------------------------------------------- class weights
@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 500), min_size=2, max_size=5))
def test_class_weights_against_numpy(counts):
    masks = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])[torch.randperm(sum(counts))]
    share = np.array(counts, dtype=float) / sum(counts)
    expected = len(counts) / np.sum(share ** -0.5) * share ** -0.5
    got = segmentation.class_weights(masks, num_classes=len(counts))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    assert got.dtype == torch.float32


def test_class_weights_errors():
    with pytest.raises(TypeError, match="masks must be an integer tensor.*float32"):
        segmentation.class_weights(torch.zeros(4))
    with pytest.raises(ValueError, match="masks must hold classes 0 to 2, got values from 0 to 3"):
        segmentation.class_weights(torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"every class at least once, got pixel counts \[2, 0, 1\]"):
        segmentation.class_weights(torch.tensor([0, 0, 2]))


# --------------------------------------------------------------------------- the recipe
@pytest.fixture
def tiny_scenes(monkeypatch):
    """Page and recipe on 48 training and 24 test scenes (the sizes are the module's, so both see them)."""
    monkeypatch.setattr(segmentation, "_N_TRAIN", {True: 48, False: 64})
    monkeypatch.setattr(segmentation, "_N_TEST", 24)
    segmentation._scenes.cache_clear()
    yield
    segmentation._scenes.cache_clear()


def test_segmentation_recipe_is_what_fit_takes_and_the_quick_run_is_cheaper(tiny_scenes):
    quick, full = segmentation.segmentation_recipe(True), segmentation.segmentation_recipe(False)
    for recipe in (quick, full):
        assert recipe.items() >= segmentation.SEGMENTATION_SETTINGS.items()
        assert set(recipe) <= set(inspect.signature(train.fit).parameters)
        train_set, _ = segmentation.segmentation_scenes(recipe is quick)
        torch.testing.assert_close(recipe["loss_fn"].keywords["weight"], segmentation.class_weights(train_set.masks))
    steps = {q: r["epochs"] * -(-segmentation._N_TRAIN[q] // r["batch_size"]) for q, r in ((True, quick), (False, full))}
    assert steps[True] < steps[False]
    assert quick["channels_last"] is True
    with pytest.raises(TypeError, match="quick must be True or False"):
        segmentation.segmentation_recipe("yes")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        segmentation.trained_segmenter(True, seed=-1)


def _page_cells():
    """The page's code cells up to and including the one that trains (the Colab cell left out)."""
    nb = nbformat.read(PAGE, 4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "remove-cell" not in c.metadata.get("tags", [])]
    last = next(i for i, s in enumerate(cells) if "train.cached_fit(" in s)
    return cells[: last + 1]


def test_the_page_and_trained_segmenter_use_the_same_weights_entry(tiny_scenes, monkeypatch, tmp_path):
    """Run the page's cells up to its training with cached_fit's lookup replaced by a recorder: its
    seed-0 U-Net has the same entry (name and key: model, initial weights, data, settings, device)
    as trained_segmenter's."""
    entries = []

    def record(model, train_data, val_data, weights, *args, **kwargs):
        entries.append(pathlib.Path(weights).name)
        return train.History(train_loss=[1.0], train_accuracy=[0.5], seconds=[0.0], n_train=48)

    monkeypatch.setattr(cache, "_load_or_train", record)
    monkeypatch.setenv("CNNBOOK_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    threads = torch.get_num_threads()
    try:
        namespace = {}
        for source in _page_cells():
            exec(compile(source, str(PAGE), "exec"), namespace)
        page_entries = list(entries)
        entries.clear()
        segmentation.trained_segmenter(True, seed=0, device="cpu", verbose=False)
    finally:
        torch.set_num_threads(threads)
    assert len(entries) == 1 and entries[0].startswith(segmentation.UNET_NAME + "-")
    assert page_entries.count(entries[0]) == 1  # the page's seed-0 U-Net, and only that one
    assert len(set(page_entries)) == len(page_entries) >= 6  # three networks, two seeds: six entries
