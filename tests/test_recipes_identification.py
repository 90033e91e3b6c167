"""cnnlib.recipes.identification: page 6.6.2's training cell and trained_embedding share one cached entry."""
import contextlib
import io
import pathlib

import nbformat
import numpy as np
import pytest
import torch

from cnnlib import glyphs, models, train
from cnnlib.recipes import identification

PAGE = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "6-6-beyond" / "2-siamese.ipynb"


def page_cell(marker):
    """The source of the page's code cell that contains ``marker`` (exactly one)."""
    cells = [c.source for c in nbformat.read(PAGE, 4).cells if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, f"{len(cells)} cells of {PAGE.name} contain {marker!r}"
    return cells[0]


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """Tiny sizes (24 identities, 3 steps) and a data folder of the test's own."""
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path))
    monkeypatch.setitem(identification._TRAIN_IDENTITIES, True, 24)
    monkeypatch.setattr(identification, "_QUICK", dict(steps=3))
    return tmp_path


def test_page_and_trained_embedding_share_an_entry(tiny):
    model, history = identification.trained_embedding(True, device="cpu", verbose=False)
    assert history.epochs == 3 and not model.training
    entries = sorted(p.name for p in (tiny / "weights").glob("*.pt"))
    assert len(entries) == 1 and entries[0].startswith(identification.NAME + "-")

    glyph_train, _, _ = identification.glyph_splits(True)
    namespace = {"train": train, "models": models, "identification": identification, "QUICK": True,
                 "device": torch.device("cpu"), "glyph_train": glyph_train, "time": __import__("time"), "np": np,
                 "training_seconds": {}}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(page_cell("identification.identification_recipe(QUICK)"), namespace)
    assert "Loaded the trained weights" in printed.getvalue()  # the page's call found trained_embedding's entry
    assert sorted(p.name for p in (tiny / "weights").glob("*.pt")) == entries
    page_net = next(v for v in namespace.values() if isinstance(v, models.SiameseNetwork))
    for (k, v), w in zip(model.state_dict().items(), page_net.state_dict().values()):
        assert torch.equal(v, w), k


def test_another_seed_is_another_entry(tiny):
    identification.trained_embedding(True, device="cpu", verbose=False)
    identification.trained_embedding(True, seed=1, device="cpu", verbose=False)
    assert len(list((tiny / "weights").glob("*.pt"))) == 2


def test_splits_are_disjoint_identities():
    train_set, val_set, test_set = identification.glyph_splits(True)
    ids = [set(s.labels.tolist()) for s in (train_set, val_set, test_set)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert torch.equal(val_set.images[:10], glyphs.glyph_identities(1, 10, seed=0, first=300).images)


def test_recipe_errors():
    with pytest.raises(TypeError, match="quick"):
        identification.identification_recipe("yes")
    with pytest.raises(ValueError, match="seed"):
        identification.trained_embedding(True, seed=-1, device="cpu")
