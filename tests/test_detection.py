"""cnnlib.models.detection: targets encode boxes exactly, perfect outputs decode back to them, the loss."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib import boxes
from cnnlib.models import detection


def perfect_outputs(targets, num_classes):
    """Logits that say exactly what the targets say (an independent inverse of the parametrisation)."""
    b, _, g, _ = targets.shape
    out = torch.full((b, 5 + num_classes, g, g), -30.0)
    obj = targets[:, 0] > 0.5
    out[:, 0] = torch.where(obj, 30.0, -30.0)
    out[:, 1:3] = torch.logit(targets[:, 1:3].clamp(1e-6, 1 - 1e-6))
    out[:, 3:5] = targets[:, 3:5]
    for k in range(num_classes):
        out[:, 5 + k] = torch.where(targets[:, 5] == k, 30.0, -30.0)
    return out


def objects_in_distinct_cells(rng, n, grid, *, max_side, cell=8):
    """n objects (class, x, y, h, w) whose centres fall in n distinct cells of 8 px, away from the borders."""
    objs = []
    for c in rng.choice(grid * grid, n, replace=False):
        row, col = divmod(int(c), grid)
        h, w = rng.uniform(4, max_side, 2)
        cx, cy = (col + rng.uniform(0.05, 0.95)) * cell, (row + rng.uniform(0.05, 0.95)) * cell
        objs.append([rng.integers(1, 3), cx - w / 2, cy - h / 2, h, w])
    return np.array(objs)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 4))
def test_encode_then_decode_recovers_the_boxes(seed, n):
    size, grid, anchor = 64, 8, 16.0
    objs = objects_in_distinct_cells(np.random.default_rng(seed), n, grid, max_side=30)
    targets = detection.encode_targets([objs], size=size, grid=grid, anchor=anchor)
    assert int(targets[0, 0].sum()) == n
    got_boxes, scores, classes = detection.decode_detections(perfect_outputs(targets, 2), size=size, anchor=anchor,
                                                             nms_threshold=1.0)[0]
    want = boxes.box_convert(objs[:, 1:], "xyhw", "xyxy")
    order_got, order_want = np.lexsort(got_boxes.T[::-1]), np.lexsort(want.T[::-1])
    np.testing.assert_allclose(got_boxes[order_got], want[order_want], atol=1e-3)
    assert classes[order_got].tolist() == objs[order_want, 0].astype(int).tolist()
    assert (scores > 0.99).all()


def test_loss_is_small_for_perfect_outputs_and_larger_otherwise():
    targets = detection.encode_targets([[[1, 10, 20, 12, 8]], []], size=64, grid=8, anchor=16.0)
    perfect = perfect_outputs(targets, 2)
    assert float(detection.detection_loss(perfect, targets)) < 1e-6
    worse = perfect.clone()
    worse[:, 3] += 0.5
    assert float(detection.detection_loss(worse, targets)) == pytest.approx(5.0 * 0.25, rel=1e-4)
    # no objects: only the objectness term, one cell of 128 says 30 where 0 was due (BCE = 30)
    assert float(detection.detection_loss(perfect, torch.zeros_like(targets))) == pytest.approx(30 / 128, rel=1e-4)


def test_same_cell_keeps_the_larger_object_and_errors():
    t = detection.encode_targets([[[1, 0, 0, 4, 4], [2, 0, 0, 6, 6]]], size=64, grid=8, anchor=8.0)
    assert int(t[0, 0].sum()) == 1 and t[0, 5, 0, 0] == 1  # class 2, counted from 0
    with pytest.raises(ValueError, match="anchor must be"):
        detection.encode_targets([[]], size=64, grid=8, anchor=0)
    with pytest.raises(ValueError, match="positive heights"):
        detection.encode_targets([[[1, 0, 0, 0, 4]]], size=64, grid=8, anchor=8.0)
    with pytest.raises(ValueError, match="outputs must have shape"):
        detection.decode_detections(torch.zeros(1, 4, 8, 8), size=64, anchor=8.0)
    with pytest.raises(ValueError, match="must match"):
        detection.detection_loss(torch.zeros(1, 7, 8, 8), torch.zeros(1, 6, 4, 4))
    assert detection.GridDetector(num_classes=3, poolings=2)(torch.zeros(1, 1, 32, 32)).shape == (1, 8, 8, 8)


def test_component_detections_match_skimage_regionprops():
    measure = pytest.importorskip("skimage.measure")
    from cnnlib import scenes
    ds = scenes.shape_scenes(6, seed=5, size=48, max_objects=3, min_size=8, max_size=20)
    t = 0.12
    got = detection.component_detections(ds.images, t, min_area=5, score="area", fill=0.64)
    for image, (b, s, c) in zip(ds.images[:, 0].numpy().astype(float), got):
        offset = image - np.median(image)
        want = []
        for side in (offset > t, offset < -t):
            for region in measure.regionprops(measure.label(side, connectivity=1)):
                if region.area >= 5:
                    r0, c0, r1, c1 = region.bbox
                    want.append((region.area, c0, r0, c1, r1, 1 if region.area / ((r1 - r0) * (c1 - c0)) > 0.64 else 2))
        want.sort(key=lambda w: -w[0])
        want = np.array(want, dtype=float).reshape(-1, 6)
        np.testing.assert_allclose(np.sort(s), np.sort(want[:, 0]))
        order_got, order_want = np.lexsort(b.T[::-1]), np.lexsort(want[:, 1:5].T[::-1])
        np.testing.assert_allclose(b[order_got], want[order_want, 1:5])
        assert c[order_got].tolist() == want[order_want, 5].astype(int).tolist()
        assert (np.diff(s) <= 0).all()


def test_tune_component_detections_finds_bright_boxes_and_errors():
    image = np.full((3, 24, 24), 0.5)
    image[:, 2:9, 3:7] = 0.9   # a bright 7 x 4 block
    image[:, 14:20, 12:22] = 0.1  # a dark 6 x 10 block
    objects = [[[1, 3, 2, 7, 4], [1, 12, 14, 6, 10]]] * 3
    best = detection.tune_component_detections(image, objects, sigmas=(0.0,))
    assert best["ap"] == 1.0 and best["class_map"] == 1.0
    truth, classes = detection.object_boxes(objects)
    assert truth[0].tolist() == [[3, 2, 7, 9], [12, 14, 22, 20]] and classes[0].tolist() == [1, 1]
    with pytest.raises(ValueError, match="objects must hold one array per image"):
        detection.tune_component_detections(image, objects[:2])
    with pytest.raises(ValueError, match="score must be"):
        detection.component_detections(image, 0.2, score="size")
    with pytest.raises(ValueError, match="sigma must be"):
        detection.component_detections(image, 0.2, sigma=-1)


def test_decode_per_class_nms_keeps_differently_named_duplicates():
    # two neighbouring cells see the same object (boxes IoU > 0.5) but name it differently
    targets = detection.encode_targets([[[1, 9, 10, 12, 12], [2, 11, 10, 12, 12]]], size=64, grid=8, anchor=12.0)
    out = perfect_outputs(targets, 2)
    out[0, 0][targets[0, 0] > 0.5] = torch.tensor([3.0, 2.0])  # scores differ: sigmoid(3) > sigmoid(2)
    both = detection.decode_detections(out, size=64, anchor=12.0, nms_threshold=0.3)[0]
    one = detection.decode_detections(out, size=64, anchor=12.0, nms_threshold=0.3, per_class=False)[0]
    assert boxes.box_iou(both[0][:1], both[0][1:])[0, 0] > 0.3
    assert len(both[0]) == 2 and sorted(both[2].tolist()) == [1, 2]
    assert len(one[0]) == 1 and one[1][0] == pytest.approx(both[1].max())


def test_positive_weight_is_torch_pos_weight_and_extra_keeps_the_grid():
    torch.manual_seed(0)
    targets = detection.encode_targets([[[1, 8, 16, 16, 8]], [[2, 30, 30, 12, 14], [1, 2, 3, 10, 10]]],
                                       size=48, grid=6, anchor=14.0)
    outputs = torch.randn(2, 7, 6, 6)
    base = detection.detection_loss(outputs, targets)
    weighted = detection.detection_loss(outputs, targets, positive_weight=3.0)
    obj = targets[:, 0]
    oracle = torch.nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], obj, pos_weight=torch.tensor(3.0))
    plain = torch.nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], obj)
    assert torch.allclose(weighted - base, oracle - plain, atol=1e-6)
    with pytest.raises(ValueError, match="positive_weight"):
        detection.detection_loss(outputs, targets, positive_weight=0.0)
    net = detection.GridDetector(width=4, extra=2)
    assert net(torch.zeros(2, 1, 48, 48)).shape == (2, 7, 6, 6)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in net.features) == 6
    with pytest.raises(ValueError, match="extra"):
        detection.GridDetector(extra=-1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 4))
def test_unmirror_outputs_of_the_mirrored_scene_are_the_outputs_of_the_scene(seed, n):
    """Perfect outputs for the mirrored objects, put back by unmirror_outputs, are the perfect outputs
    for the objects themselves (centres kept off the cell borders, where a mirror changes the cell)."""
    from cnnlib.recipes import detection as recipe

    size, grid, anchor = 48, 6, 14.0
    objs = objects_in_distinct_cells(np.random.default_rng(seed), n, grid, max_side=20)
    _, flipped = recipe.mirrored(torch.zeros(1, 1, size, size), [objs])
    direct = perfect_outputs(detection.encode_targets([objs], size=size, grid=grid, anchor=anchor), 2)
    back = detection.unmirror_outputs(perfect_outputs(detection.encode_targets(flipped, size=size, grid=grid,
                                                                               anchor=anchor), 2))
    held = direct[:, 0] > 0  # the cells that hold an object (elsewhere only the objectness matters)
    assert torch.equal(back[:, 0], direct[:, 0])
    assert torch.allclose(back.permute(0, 2, 3, 1)[held], direct.permute(0, 2, 3, 1)[held], atol=1e-4)
    dets = detection.decode_detections(back, size=size, anchor=anchor)[0][0]
    truth = boxes.box_convert(objs[:, 1:], "xyhw", "xyxy")
    assert np.allclose(np.sort(dets, 0), np.sort(truth, 0), atol=1e-3)


def test_detector_outputs_mirror_average_and_batches():
    torch.manual_seed(0)
    net = detection.GridDetector(width=4).eval()
    x = torch.rand(5, 1, 32, 32)
    with torch.no_grad():
        plain, mirrored = net(x), net(x.flip(-1))
    assert torch.allclose(detection.detector_outputs(net, x, batch_size=2), plain, atol=1e-6)
    both = detection.detector_outputs(net, x, mirror=True, batch_size=3)
    assert torch.allclose(both, (plain + detection.unmirror_outputs(mirrored)) / 2, atol=1e-6)
    # a scene that is its own mirror image: averaging changes nothing but the t_x channel's oddness
    sym = torch.cat([x[..., :16], x[..., :16].flip(-1)], -1)
    with torch.no_grad():
        out = net(sym)
    assert torch.allclose(detection.unmirror_outputs(out)[:, [0, 2, 3, 4, 5, 6]], out[:, [0, 2, 3, 4, 5, 6]].flip(-1),
                          atol=1e-6)
    with pytest.raises(ValueError, match="outputs"):
        detection.unmirror_outputs(torch.zeros(2, 7, 4))
    with pytest.raises(TypeError, match="mirror"):
        detection.detector_outputs(net, x, mirror="yes")


def _page_cell(cell_id):
    import pathlib

    import nbformat

    path = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "6-6-beyond" / "4-detection.ipynb"
    return next(c.source for c in nbformat.read(path, 4).cells if c.get("id") == cell_id)


def test_page_and_trained_detector_share_one_cached_entry(monkeypatch, tmp_path, capsys):
    """Page 6.6.4's training cell, run as it stands, and recipe.trained_detector reach the same
    cached_fit entry (tiny scenes and one epoch stand in for the real ones): the page trains, the
    recipe loads, with identical weights."""
    import time

    from cnnlib import scenes, train
    from cnnlib.recipes import detection as recipe

    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path))
    tiny = scenes.shape_scenes(12, seed=recipe.TRAIN_SEED, **recipe.SCENE)
    monkeypatch.setattr(recipe, "detection_scenes", lambda quick: (tiny, tiny, tiny))
    monkeypatch.setattr(recipe, "_EPOCHS", {True: 1, False: 1})
    data, _ = recipe.training_data(tiny)
    page = {"QUICK": True, "data": data, "device": torch.device("cpu"), "recipe": recipe, "train": train,
            "torch": torch, "time": time}
    exec(_page_cell("2b3254c0"), page)  # the page's training cell: seeds 0 and 1
    assert "training cost on this machine" in capsys.readouterr().out
    entries = sorted(p.name for p in (tmp_path / "weights").glob(f"{recipe.NAME}-s0-*.pt"))
    assert len(entries) == 1
    model, history = recipe.trained_detector(True, seed=0, device="cpu", verbose=True)
    assert "Loaded the trained weights" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "weights").glob(f"{recipe.NAME}-s0-*.pt")) == entries
    assert not model.training and model.anchor == recipe.anchor_size(tiny.objects)
    for a, b in zip(page["models"][0].state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    # another seed is another entry: the page's seed 1 is loaded by trained_detector(seed=1)
    recipe.trained_detector(True, seed=1, device="cpu", verbose=True)
    assert "Loaded the trained weights" in capsys.readouterr().out


def test_recipe_mirrored_and_settings():
    from cnnlib.recipes import detection as recipe

    quick, full = recipe.detection_recipe(True), recipe.detection_recipe(False)
    assert quick["loss_fn"] is recipe.loss and "seed" not in quick and full["epochs"] > quick["epochs"]
    assert {recipe.TRAIN_SEED, recipe.VAL_SEED, recipe.TEST_SEED} == {11, 12, 13}  # three distinct sets
    images = torch.rand(2, 1, 8, 8)
    objects = [np.array([[1, 1, 2, 3, 4]]), np.array([[2, 0, 0, 8, 8], [1, 5, 1, 2, 3]])]
    flipped, moved = recipe.mirrored(images, objects)
    for o, m in zip(objects, moved):  # the box of the mirrored pixels, computed from masks
        for row, new in zip(o, m):
            mask = np.zeros((8, 8), bool)
            mask[int(row[2]):int(row[2] + row[3]), int(row[1]):int(row[1] + row[4])] = True
            cols = np.flatnonzero(mask[:, ::-1].any(0))
            assert new[1] == cols[0] and new[4] == cols[-1] - cols[0] + 1 and (new[[0, 2, 3]] == row[[0, 2, 3]]).all()
    assert torch.equal(flipped.flip(-1), images)
    with pytest.raises(ValueError, match="objects"):
        recipe.mirrored(images, objects[:1])
    with pytest.raises(TypeError, match="quick"):
        recipe.detection_recipe("yes")
