"""Page 6.6.5 and cnnlib.recipes.landmarks train the same networks: their cached_fit calls hit the same entries."""
import pathlib

import matplotlib
import nbformat
import pytest

from cnnlib.recipes import landmarks
from cnnlib.train import cache

matplotlib.use("Agg")
PAGE = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "6-6-beyond" / "5-landmarks-instances.ipynb"


class _Recorded(Exception):
    pass


@pytest.fixture
def entries(monkeypatch):
    """Record the entry (file name, holding the key) of every cached_fit call instead of training."""
    seen = []

    def record(model, train_data, val_data, weights, *args, **kwargs):
        seen.append(pathlib.Path(weights).name)
        raise _Recorded

    monkeypatch.setattr(cache, "_load_or_train", record)
    return seen


def test_recipes_are_fit_settings():
    for recipe in (landmarks.keypoints_recipe, landmarks.instances_recipe):
        quick, full = recipe(True), recipe(False)
        assert quick["seed"] == full["seed"] == 0 and quick["epochs"] < full["epochs"]
        assert callable(quick["loss_fn"]) and quick["loss_fn"].__module__.startswith("cnnlib.")
        with pytest.raises(TypeError, match="quick"):
            recipe("yes")
    with pytest.raises(ValueError, match="seed"):
        landmarks.trained_keypoints(True, seed=-1, device="cpu", verbose=False)


def test_page_and_functions_share_entries(entries, monkeypatch):
    """Run the page's code cells (CPU, quick run) with cached_fit recording; the seed-0 calls are the functions' calls."""
    import torch
    from cnnlib import train

    monkeypatch.setattr(train, "quick_run", lambda *a, **k: True)
    threads = torch.get_num_threads()
    nb = nbformat.read(PAGE, 4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "%pip" not in c.source]
    last = max(i for i, source in enumerate(cells) if "cached_fit" in source)
    namespace = {"__name__": "page"}
    try:
        for source in cells[:last + 1]:
            try:
                exec(compile(source, "page", "exec"), namespace)
            except (_Recorded, NameError, IndexError, TypeError, AssertionError, ValueError):
                pass  # a training cell stops at its first call; what needs its results cannot run
    finally:
        torch.set_num_threads(threads)
    page = set(entries)
    assert any(e.startswith("keypoints-triangles-") for e in page), page
    assert any(e.startswith("instances-crowd-") for e in page), page
    entries.clear()
    for fn in (landmarks.trained_keypoints, landmarks.trained_instances):
        with pytest.raises(_Recorded):
            fn(True, seed=0, device="cpu", verbose=False)
    assert set(entries) <= page, (entries, page)
    assert len(set(entries)) == 2


def test_loss_keys_are_the_same_in_every_run():
    """The losses key cached_fit identically in two fresh interpreters (an address in the key would miss every run)."""
    import subprocess
    import sys

    code = ("from cnnlib.train.cache import setting_key; from cnnlib import keypoints, instances; "
            "print(setting_key(keypoints.keypoint_loss), setting_key(instances.instance_loss))")
    keys = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert keys[0] == keys[1] and " at 0x" not in keys[0]
