"""cnnlib.train: fit learns, is reproducible, evaluate/predict agree with manual computations."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

matplotlib.use("Agg")

from cnnlib import models, train  # noqa: E402
from cnnlib.data import ImageDataset  # noqa: E402

torch.set_num_threads(1)


def _blobs(n=120, seed=0):
    """Three well-separated Gaussian blobs in 4-D: a problem a linear model solves."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.tensor([[3.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 0, 3.0, 0]])
    return centres[y] + 0.5 * torch.randn(n, 4, generator=g), y


def _tiny_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.2),
                         nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


def _images(n=64, seed=0):
    """Bright-top vs bright-bottom 6x6 images."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    X = 0.3 * torch.rand(n, 1, 6, 6, generator=g)
    X[y == 0, :, :3] += 1.0
    X[y == 1, :, 3:] += 1.0
    return ImageDataset(X, y, "synthetic")


def test_fit_reduces_the_loss_and_learns():
    X, y = _blobs()
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    before = train.evaluate(model, (X, y))["loss"]
    h = train.fit(model, (X, y), (X, y), epochs=5, batch_size=16, lr=0.05, device="cpu", progress=False)
    assert h.epochs == 5 and len(h.val_loss) == 5 and len(h.seconds) == 5 and len(h.lr) == 5
    assert h.train_loss[-1] < h.train_loss[0] and h.val_loss[-1] < before
    assert h.val_accuracy[-1] > 0.95 and h.n_train == 120 and h.device == "cpu"


@pytest.mark.parametrize("optimizer, schedule", [("adam", "onecycle"), ("adamw", "constant"), ("sgd", "onecycle")])
def test_fit_with_each_optimizer_and_schedule(optimizer, schedule):
    ds = _images()
    model = _tiny_cnn()
    h = train.fit(model, ds, ds, epochs=4, batch_size=16, lr=0.01, optimizer=optimizer, schedule=schedule,
                  weight_decay=1e-4, device="cpu", progress=False)
    assert h.val_accuracy[-1] == 1.0
    if schedule == "onecycle":  # one cycle ends far below its peak
        assert h.lr[-1] < 0.01 / 100


def test_fit_is_reproducible_on_cpu():
    """Same initialisation and seed: the same history, to the last bit (dropout and BN included)."""
    ds = _images()
    runs = []
    for _ in range(2):
        model = _tiny_cnn(seed=1)
        h = train.fit(model, ds, ds, epochs=3, batch_size=10, lr=0.01, device="cpu", seed=5, progress=False)
        runs.append((h.train_loss, h.val_loss, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][2], runs[1][2]))
    other = train.fit(_tiny_cnn(seed=1), ds, epochs=3, batch_size=10, lr=0.01, device="cpu", seed=6, progress=False)
    assert other.train_loss != runs[0][0]


def test_fit_accepts_a_generic_dataset_and_a_progress_bar(capsys):
    X, y = _blobs(30)
    ds = torch.utils.data.TensorDataset(X, y)
    torch.manual_seed(0)
    h = train.fit(nn.Linear(4, 3), ds, epochs=2, batch_size=8, device="cpu", progress=True)
    assert h.epochs == 2 and h.val_loss == []
    assert "epoch 2/2" in capsys.readouterr().err


def test_fit_skips_a_last_batch_of_one_for_batch_norm():
    ds = _images(n=17)
    h = train.fit(_tiny_cnn(), ds, epochs=1, batch_size=8, device="cpu", progress=False)
    assert h.n_train == 16


def test_fit_trains_only_unfrozen_parameters():
    model = _tiny_cnn()
    train.freeze(model[0])
    frozen = model[0].weight.detach().clone()
    head = model[5].weight.detach().clone()
    train.fit(model, _images(), epochs=1, batch_size=16, device="cpu", progress=False)
    assert torch.equal(model[0].weight, frozen) and not torch.equal(model[5].weight, head)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(2, 5), batch_size=st.integers(1, 50), seed=st.integers(0, 1000))
def test_evaluate_matches_a_manual_computation(n, k, batch_size, seed):
    g = torch.Generator().manual_seed(seed)
    X, y = torch.randn(n, 3, generator=g, dtype=torch.float64), torch.randint(0, k, (n,), generator=g)
    model = nn.Linear(3, k).double()
    got = train.evaluate(model, (X, y), batch_size=batch_size)
    with torch.no_grad():
        logits = model(X).numpy()
    logp = logits - logits.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    assert math.isclose(got["loss"], -logp[np.arange(n), y.numpy()].mean(), rel_tol=1e-9, abs_tol=1e-12)
    assert got["accuracy"] == np.mean(logits.argmax(1) == y.numpy())
    np.testing.assert_array_equal(train.predict(model, X, batch_size=batch_size).numpy(), logits.argmax(1))


def test_evaluate_uses_eval_mode_and_restores_training_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.9))
    X, y = _blobs(50)
    model.train()
    a, b = train.evaluate(model, (X, y)), train.evaluate(model, (X, y))
    assert a == b and model.training


def test_get_device_order(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert train.get_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert train.get_device() == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert train.get_device() == torch.device("cpu")


def test_history_and_plot():
    h = train.History(train_loss=[1.0, 0.5], train_accuracy=[0.5, 0.8], val_loss=[1.1, 0.7],
                      val_accuracy=[0.4, 0.7], seconds=[2.0, 2.0], n_train=10)
    assert h.images_per_second == 5.0 and set(h.as_dict()) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"}
    fig = train.plot_history(h, title="t")
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2


def test_freeze_unfreeze_count():
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.Linear(6, 2))
    assert train.count_trainable(net) == 6 * 25 + 6 + 6 * 2 + 2
    train.freeze(net[0])
    assert train.count_trainable(net) == 14
    train.unfreeze(net)
    assert train.count_trainable(net) == 170


X0, Y0 = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(epochs=0), ValueError, r"epochs must be a positive integer \(>= 1\), got 0"),
    (dict(epochs=2.5), TypeError, "epochs must be an integer"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    (dict(lr=-1.0), ValueError, "lr must be a positive number, got -1.0"),
    (dict(lr=float("nan")), ValueError, "lr must be a positive number"),
    (dict(weight_decay=-0.1), ValueError, "weight_decay must be a number >= 0"),
    (dict(optimizer="rmsprop"), ValueError, "optimizer must be one of 'adam', 'adamw', 'sgd', got 'rmsprop'"),
    (dict(optimizer=3), TypeError, "optimizer must be one of"),
    (dict(schedule="cosine"), ValueError, "schedule must be one of 'constant', 'onecycle'"),
    (dict(device="gpu0"), ValueError, "device must be None, a torch.device or a string"),
    (dict(seed=-1), ValueError, "seed must be a non-negative integer"),
])
def test_fit_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train.fit(nn.Linear(2, 2), (X0, Y0), **{"device": "cpu", "progress": False, **kwargs})


@pytest.mark.parametrize("data, exc, match", [
    ((torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)), ValueError, "train_data must not be empty"),
    ((torch.zeros(4, 2), torch.zeros(3, dtype=torch.long)), ValueError, "train_data has 4 inputs but 3 labels"),
    ((torch.zeros(4, 2), torch.zeros(4)), ValueError, "labels must be a 1-D integer tensor"),
    (torch.utils.data.TensorDataset(torch.zeros(0, 2), torch.zeros(0)), ValueError, "must not be empty, got a dataset of length 0"),
    (None, TypeError, "train_data must be a dataset or an"),
    ("digits", TypeError, "train_data must have .images and .labels"),
])
def test_fit_data_errors(data, exc, match):
    with pytest.raises(exc, match=match):
        train.fit(nn.Linear(2, 2), data, device="cpu", progress=False)


def test_fit_val_data_and_model_errors():
    with pytest.raises(ValueError, match="val_data has 4 inputs but 2 labels"):
        train.fit(nn.Linear(2, 2), (X0, Y0), (X0, Y0[:2]), device="cpu", progress=False)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got function"):
        train.fit(lambda x: x, (X0, Y0), device="cpu", progress=False)
    with pytest.raises(ValueError, match="model has no trainable parameters"):
        train.fit(train.freeze(nn.Linear(2, 2)), (X0, Y0), device="cpu", progress=False)


def test_other_errors():
    with pytest.raises(ValueError, match="data must not be empty"):
        train.predict(nn.Linear(2, 2), torch.zeros(0, 2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        train.evaluate(nn.Linear(2, 2), (X0, Y0), batch_size=0)
    with pytest.raises(TypeError, match="history must be a History"):
        train.plot_history({"loss": [1]})
    with pytest.raises(ValueError, match="history must record at least one epoch"):
        train.plot_history(train.History())
    for fn in (train.freeze, train.unfreeze, train.count_trainable):
        with pytest.raises(TypeError, match="module must be a torch.nn.Module|model must be a torch.nn.Module"):
            fn("net")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_cuda_with_mixed_precision():
    ds = _images(256)
    model = _tiny_cnn()
    h = train.fit(model, ds, ds, epochs=3, batch_size=32, lr=0.01, device="cuda", progress=False)
    assert h.device.startswith("cuda") and h.val_accuracy[-1] > 0.95
    assert next(model.parameters()).is_cuda
    assert train.predict(model, ds).device.type == "cpu"


# --------------------------------------------------------------------------- the size switch
def test_quick_run_follows_the_device(monkeypatch, capsys):
    monkeypatch.delenv("CNNBOOK_QUICK", raising=False)
    assert train.quick_run("cpu") is True
    assert "QUICK = True: the quick run (on cpu; CNNBOOK_QUICK=0 gives the full run)." in capsys.readouterr().out
    assert train.quick_run("cuda") is False  # a torch.device of type cuda, even on a machine without one
    assert "QUICK = False: the full run (on cuda; CNNBOOK_QUICK=1 gives the quick run)." in capsys.readouterr().out
    monkeypatch.setattr(train.device, "get_device", lambda: torch.device("cuda"))
    assert train.quick_run(verbose=False) is False


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), ("true", True), ("OFF", False)])
def test_quick_run_environment_override(monkeypatch, capsys, value, expected):
    monkeypatch.setenv("CNNBOOK_QUICK", value)
    assert train.quick_run("cuda") is expected and train.quick_run("cpu") is expected
    assert f"CNNBOOK_QUICK={value} is set" in capsys.readouterr().out


def test_quick_run_rejects_a_bad_override(monkeypatch):
    monkeypatch.setenv("CNNBOOK_QUICK", "maybe")
    with pytest.raises(ValueError, match="CNNBOOK_QUICK must be 1 .* or 0 .*, got 'maybe'"):
        train.quick_run("cpu")


# --------------------------------------------------------------------------- cached training
def test_cached_fit_trains_once_then_loads(tmp_path, capsys):
    ds = _images(64)
    kwargs = dict(epochs=2, batch_size=16, lr=0.01, device="cpu", progress=False)
    first = _tiny_cnn()
    h1 = train.cached_fit(first, ds, ds, name="tiny", root=tmp_path, **kwargs)
    saved = capsys.readouterr().out
    assert "Saved the trained weights" in saved and "\nto weights/tiny-" in saved
    assert str(tmp_path) not in saved  # a page prints no path of the machine that built it (6.4.4)
    files = sorted(p.suffix for p in (tmp_path / "weights").iterdir() if not p.name.startswith("."))
    assert files == [".json", ".pt"]  # (and the hidden .lock file of the entry's lock)
    second = _tiny_cnn()
    h2 = train.cached_fit(second, ds, ds, name="tiny", root=tmp_path, **kwargs)
    loaded = capsys.readouterr().out
    assert "Loaded the trained weights" in loaded and str(tmp_path) not in loaded
    assert max(len(line) for line in loaded.splitlines()) <= 80  # fits the output box at 1280 px
    assert h1 == h2 and not second.training
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    # loading gives exactly what training again would give (CPU training is deterministic)
    third = _tiny_cnn()
    train.fit(third, ds, ds, **kwargs)
    for a, b in zip(third.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("change", ["epochs", "init", "data", "model"])
def test_cached_fit_retrains_when_anything_changes(tmp_path, change):
    ds = _images(64)
    kwargs = dict(epochs=1, batch_size=16, lr=0.01, device="cpu", progress=False, verbose=False)
    train.cached_fit(_tiny_cnn(), ds, name="tiny", root=tmp_path, **kwargs)
    model, data = _tiny_cnn(), ds
    if change == "epochs":
        kwargs["epochs"] = 2
    elif change == "init":
        model = _tiny_cnn(seed=1)
    elif change == "data":
        data = _images(64, seed=1)
    else:
        model = nn.Sequential(*list(_tiny_cnn())[:-1], nn.Linear(4 * 6 * 6, 3))
    train.cached_fit(model, data, name="tiny", root=tmp_path, **kwargs)
    assert len(list((tmp_path / "weights").glob("*.pt"))) == 2


def test_cached_fit_errors(tmp_path):
    with pytest.raises(ValueError, match="name must be a non-empty file name without slashes"):
        train.cached_fit(_tiny_cnn(), _images(8), name="a/b", root=tmp_path)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        train.cached_fit("net", _images(8), name="x", root=tmp_path)


def test_lenet5_recipe_is_the_pages_settings():
    import inspect

    quick, full = models.lenet5_recipe(True), models.lenet5_recipe(False)
    for recipe in (quick, full):  # the shared settings, and what fit accepts
        assert recipe.items() >= models.LENET5_SETTINGS.items()
        assert set(recipe) <= set(inspect.signature(train.fit).parameters)
    # issue 20: the quick run (a CPU) spends less compute, the full run (a GPU) more epochs
    assert quick["epochs"] * -(-55_000 // quick["batch_size"]) < full["epochs"] * -(-55_000 // full["batch_size"])
    assert quick["channels_last"] is True
    with pytest.raises(TypeError, match="quick must be True or False"):
        models.lenet5_recipe("yes")


# --------------------------------------------------------------------------- the CUDA-graph step
def test_cuda_graph_falls_back_on_cpu_and_says_why_when_required():
    ds = _images(64)
    h = train.fit(_tiny_cnn(), ds, epochs=1, batch_size=16, device="cpu", progress=False)
    assert h.step == "eager"
    with pytest.raises(ValueError, match="cuda_graph=True is not possible here: the device is cpu, not cuda"):
        train.fit(_tiny_cnn(), ds, epochs=1, batch_size=16, device="cpu", progress=False, cuda_graph=True)


def test_cuda_graph_conditions():
    cuda = torch.device("cuda")
    assert train._cuda_graph.cuda_graph_possible(None, cuda, True, "adamw", torch.bfloat16, 100, 10)
    assert not train._cuda_graph.cuda_graph_possible(False, cuda, True, "adamw", torch.bfloat16, 100, 10)
    for args, reason in [((cuda, False, "adam", None, 100, 10), "do not fit in GPU memory"),
                         ((cuda, True, "sgd", None, 100, 10), "only the 'adam' and 'adamw'"),
                         ((cuda, True, "adam", torch.float16, 100, 10), "float16 needs a gradient scaler"),
                         ((cuda, True, "adam", None, 5, 10), r"fewer examples \(5\) than one mini-batch \(10\)")]:
        assert not train._cuda_graph.cuda_graph_possible(None, *args)
        with pytest.raises(ValueError, match=reason):
            train._cuda_graph.cuda_graph_possible(True, *args)


@given(st.floats(1e-4, 1.0), st.integers(2, 300))
@settings(max_examples=30, deadline=None)
def test_onecycle_rates_follow_the_eager_schedule(lr, total):
    """The table the graph reads holds the rates OneCycleLR gives the eager step, step by step."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([param], lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.3)
    expected = []
    for i in range(total):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        if i < total - 1:
            sched.step()
    assert train._cuda_graph.onecycle_rates(lr, total) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("schedule", ["constant", "onecycle"])
def test_cuda_graph_step_trains_like_the_eager_step(schedule):
    ds = _images(512)
    graphed, eager = _tiny_cnn(), _tiny_cnn()
    kwargs = dict(epochs=4, batch_size=64, lr=0.01, optimizer="adamw", schedule=schedule, device="cuda",
                  progress=False)
    hg = train.fit(graphed, ds, ds, cuda_graph=True, **kwargs)
    he = train.fit(eager, ds, ds, cuda_graph=False, **kwargs)
    assert hg.step == "CUDA graph" and he.step == "eager"
    assert hg.val_accuracy[-1] > 0.95 and he.val_accuracy[-1] > 0.95
    assert hg.train_loss[-1] < hg.train_loss[0]
    assert hg.n_train == 512 and hg.lr[-1] == pytest.approx(he.lr[-1], rel=1e-3)


def test_evaluate_restores_each_submodules_mode():
    """A backbone with frozen batch norm (features.eval()) stays in eval mode after evaluate/predict."""
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4)), nn.Linear(4, 2))
    net.train()
    net[0].eval()  # frozen batch-norm statistics, the head training
    X, y = torch.randn(8, 2), torch.randint(0, 2, (8,))
    train.evaluate(net, (X, y))
    train.predict(net, X)
    assert net.training and net[1].training
    assert not net[0].training and not net[0][1].training


def test_fit_with_a_loss_fn_regression():
    """fit(loss_fn=...) trains on float targets (a box, say); the accuracy is then nan."""
    torch.manual_seed(0)
    X = torch.randn(64, 3)
    Y = X @ torch.tensor([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]])
    model = nn.Linear(3, 2)
    h = train.fit(model, (X, Y), (X, Y), epochs=30, batch_size=16, lr=0.05, device="cpu", progress=False,
                  loss_fn=nn.MSELoss())
    assert h.train_loss[-1] < 0.05 * h.train_loss[0]
    assert math.isnan(h.train_accuracy[-1]) and math.isnan(h.val_accuracy[-1])
    assert train.evaluate(model, (X, Y), loss_fn=nn.MSELoss())["loss"] == pytest.approx(h.val_loss[-1])


def test_fit_with_a_loss_fn_per_pixel_accuracy():
    """Segmentation-shaped outputs (N, K, H, W) against masks (N, H, W): accuracy is per pixel."""
    torch.manual_seed(0)
    X = torch.randn(16, 1, 4, 4)
    masks = (X[:, 0] > 0).long()
    model = nn.Conv2d(1, 2, 1)
    h = train.fit(model, (X, masks), epochs=40, batch_size=8, lr=0.1, device="cpu", progress=False,
                  loss_fn=nn.CrossEntropyLoss())
    assert h.train_accuracy[-1] > 0.95
    assert train.evaluate(model, (X, masks), loss_fn=nn.CrossEntropyLoss())["accuracy"] > 0.95


def test_fit_rejects_a_loss_fn_that_is_not_callable():
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        train.fit(nn.Linear(2, 2), (torch.randn(4, 2), torch.zeros(4, dtype=torch.long)), loss_fn="mse",
                  device="cpu", progress=False)


# --------------------------------------------------------------------------- threads (issue 20)
@pytest.mark.parametrize("cpus, load, env, expected", [
    (2, 0.2, None, 2),  # an idle 2-core laptop: both cores
    (2, 1.4, None, 1),  # one core busy elsewhere
    (2, 8.0, None, 1),  # the shared build machine: never below one
    (8, 0.0, "1", 1),  # the Makefile's OMP_NUM_THREADS=1 is respected
    (8, 3.0, "4", 4),
    (8, 6.0, "4", 2),
])
def test_use_threads_takes_the_free_cores(monkeypatch, capsys, cpus, load, env, expected):
    from cnnlib.train import threads

    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "available_cpus", lambda: cpus)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
    if env is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", env)
    try:
        assert train.use_threads() == expected == torch.get_num_threads()
        assert f"torch uses {expected} CPU thread" in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)


def test_use_threads_explicit_and_errors():
    before = torch.get_num_threads()
    try:
        assert train.use_threads(1, verbose=False) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="n"):
        train.use_threads(0)
    import os

    assert 1 <= train.available_cpus() <= (os.cpu_count() or 1)


def test_trained_lenet5_trains_on_the_free_cores_and_gives_back_the_callers_threads(monkeypatch):
    """trained_lenet5, when it has to train on busy cores, trains with one thread (torch's default of
    one per core made 6.4.2's training time out in a plain build), and the caller keeps its own count."""
    from cnnlib import data
    from cnnlib.models import pretrained
    from cnnlib.train import threads

    seen = []
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (8.0, 8.0, 8.0))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(data, "mnist_splits", lambda quick, verbose: (None, None, None))
    monkeypatch.setattr(train, "cached_fit", lambda model, *a, **k: seen.append(torch.get_num_threads()) or "history")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        model, history = pretrained.trained_lenet5(True, device="cpu", verbose=False)
        assert (seen, history, torch.get_num_threads()) == ([1], "history", 2)
    finally:
        torch.set_num_threads(before)

def test_fit_channels_last_on_cpu_changes_the_layout_not_the_result():
    """The quick LeNet-5 recipe trains in the channels-last layout on a CPU (issue 20): the same
    arithmetic in another memory order, so the same training up to rounding (no dropout here:
    its random mask follows the memory order)."""
    ds = _images(64)
    runs = {}
    for cl in (False, True):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(4 * 3 * 3, 2))
        h = train.fit(model, ds, ds, epochs=3, batch_size=16, lr=0.01, device="cpu", progress=False,
                      channels_last=cl)
        runs[cl] = (model, h)
    (plain, h0), (last, h1) = runs[False], runs[True]
    assert last[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert np.allclose(h0.train_loss, h1.train_loss, atol=1e-4)
    for a, b in zip(plain.state_dict().values(), last.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-4)
