"""Page 6.6.6 (Figure 6.16 from the book's own networks): every trained_* function of
cnnlib.recipes gives a network whose outputs have the shapes the page reads.

The training is replaced by a stub of ``train.cached_fit`` (which records the call) and the
scene generators are capped at a few scenes, so each network is built exactly as its recipe
builds it, untrained, in well under a second.
"""
import importlib
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from cnnlib import glyphs, keypoints, scenes, train
from cnnlib.models import detection
from cnnlib.train import History

PAGE = Path(__file__).resolve().parents[1] / "chapters" / "6-6-beyond" / "6-figure-6-16.ipynb"
CAP = 12  # scenes (or identities) per generated set


@pytest.fixture
def untrained(monkeypatch):
    """cached_fit records its call and trains nothing; the generators make at most CAP items."""
    calls = []

    def stub(model, train_data, val_data=None, *, name, **kwargs):
        calls.append(dict(name=name, **kwargs))
        return History()

    def capped(make):
        return lambda n, *args, **kwargs: make(min(n, CAP), *args, **kwargs)

    monkeypatch.setattr(train, "cached_fit", stub)
    monkeypatch.setattr(scenes, "shape_scenes", capped(scenes.shape_scenes))
    monkeypatch.setattr(glyphs, "glyph_identities", capped(glyphs.glyph_identities))
    monkeypatch.setattr(keypoints, "triangle_scenes", capped(keypoints.triangle_scenes))
    segmentation = importlib.import_module("cnnlib.recipes.segmentation")
    segmentation._scenes.cache_clear()  # no capped scenes left for other tests, none taken from them
    yield calls
    segmentation._scenes.cache_clear()


def _trained(module, function):
    return getattr(importlib.import_module(f"cnnlib.recipes.{module}"), function)


def _build(module, function):
    model, history = _trained(module, function)(True, seed=0, device="cpu", verbose=False)
    assert isinstance(history, History) and not model.training  # returned in evaluation mode
    return model


def test_localizer_gives_class_scores_then_a_box(untrained):
    out = _build("localization", "trained_localizer")(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 3 + 4)  # "nothing", ellipse, triangle; then (y_x, y_y, y_h, y_w)
    assert untrained[0]["name"] == "localizer-heatmap"


def test_segmenter_gives_three_scores_per_pixel(untrained):
    out = _build("segmentation", "trained_segmenter")(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 3, 32, 32)


def test_detector_output_decodes_to_corner_boxes(untrained):
    from cnnlib.recipes import detection as recipe

    model = _build("detection", "trained_detector")
    out = model(torch.zeros(2, 1, recipe.SIZE, recipe.SIZE))
    assert out.shape == (2, 5 + 2, recipe.GRID, recipe.GRID)
    assert model.anchor > 0  # the page decodes with it
    dets = detection.decode_detections(out, size=recipe.SIZE, anchor=model.anchor, score_threshold=0.0)
    assert len(dets) == 2 and all(b.shape[1:] == (4,) and len(b) == len(s) == len(c) for b, s, c in dets)


def test_embedding_gives_one_vector_per_image(untrained):
    from cnnlib.recipes import identification

    model = _build("identification", "trained_embedding")
    e = model.embed(torch.zeros(2, 1, 28, 28) + torch.rand(2, 1, 28, 28))
    assert e.shape == (2, identification.EMBEDDING_DIM)
    np.testing.assert_allclose(e.norm(dim=1).detach().numpy(), 1.0, rtol=1e-5)  # the page's cosine reads the direction


def test_keypoint_regressor_gives_three_points(untrained):
    out = _build("landmarks", "trained_keypoints")(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 6)  # (x1, y1, x2, y2, x3, y3) as fractions of the side


def test_instance_network_gives_four_maps_that_group(untrained):
    from cnnlib import instances

    out = _build("landmarks", "trained_instances")(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 4, 32, 32)  # object, centre, two offsets
    assert instances.group_instances(out.detach()).shape == (2, 32, 32)


def test_the_page_loads_all_six_through_the_recipes():
    src = "\n".join(c.source for c in nbformat.read(PAGE, as_version=4).cells if c.cell_type == "code")
    for module, function in (("localization", "trained_localizer"), ("identification", "trained_embedding"),
                             ("segmentation", "trained_segmenter"), ("detection_recipe", "trained_detector"),
                             ("landmarks", "trained_keypoints"), ("landmarks", "trained_instances")):
        assert f"{module}.{function}" in src
    assert "assert all(beats.values())" in src  # every network against its baseline
