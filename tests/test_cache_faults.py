"""train.cached_fit under faults: two processes at once, interrupted writes, a flipped byte, a read-only folder.

Nothing lost (the History of a training run is returned even when it cannot be saved), nothing
forged (weights are loaded only when they are the ones saved with the history beside them), nothing
silently wrong (a damaged entry is a miss: a warning that names the file, then training again).
"""
import multiprocessing
import os
import random
import time
import warnings

import pytest
import torch
from torch import nn

from cnnlib import train
from cnnlib.train import cache

torch.set_num_threads(1)

KWARGS = dict(epochs=2, batch_size=16, lr=0.05, device="cpu", progress=False, verbose=False)


def _data(n=64):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 4, generator=g)
    return X, (X[:, 0] > 0).long()


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def _entry(root):
    folder = root / "weights"
    (pt,) = folder.glob("*.pt")
    return pt, pt.with_suffix(".json")


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def _same_history(a, b):
    """Equal but for the seconds that each epoch took."""
    return dict(vars(a), seconds=None) == dict(vars(b), seconds=None)


def _trained(tmp_path):
    """Train once into tmp_path; return the trained model and its History."""
    model = _model()
    history = train.cached_fit(model, _data(), name="net", root=tmp_path, **KWARGS)
    return model, history


# --------------------------------------------------------------------------- damaged entries
@pytest.mark.parametrize("damage", ["truncated json", "truncated weights", "empty json", "flipped byte"])
def test_a_damaged_entry_is_a_miss_that_warns_and_retrains(tmp_path, damage):
    reference, h1 = _trained(tmp_path)
    pt, record = _entry(tmp_path)
    if damage == "truncated json":  # what an interrupted write of the history leaves
        record.write_bytes(record.read_bytes()[:40])
        named = record.name
    elif damage == "empty json":
        record.write_bytes(b"")
        named = record.name
    elif damage == "truncated weights":
        pt.write_bytes(pt.read_bytes()[:200])
        named = pt.name
    else:  # one bit of one stored weight: the file still loads, with a wrong weight
        blob = bytearray(pt.read_bytes())
        where = bytes(blob).find(reference[0].weight.detach().numpy().tobytes())
        assert where > 0
        blob[where + 5] ^= 0x10
        pt.write_bytes(bytes(blob))
        named = pt.name
    again = _model()
    with pytest.warns(UserWarning, match=named):
        h2 = train.cached_fit(again, _data(), name="net", root=tmp_path, **KWARGS)
    assert _same_history(h2, h1) and _same_weights(again, reference)  # trained afresh: the same (CPU) result
    # the entry is whole again: the next call loads it without a warning
    third = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _same_history(train.cached_fit(third, _data(), name="net", root=tmp_path, **KWARGS), h1)
    assert _same_weights(third, reference)


def test_the_record_holds_the_checksum_of_the_weights(tmp_path):
    import hashlib
    import json

    _trained(tmp_path)
    pt, record = _entry(tmp_path)
    meta = json.loads(record.read_text())
    assert meta["sha256"] == hashlib.sha256(pt.read_bytes()).hexdigest()


def test_weights_of_another_model_are_a_miss(tmp_path):
    """An entry whose tensors do not fit the model (a hand-copied file) is a miss, and the
    model keeps its own initial weights for training."""
    import hashlib
    import json

    reference, h1 = _trained(tmp_path)
    pt, record = _entry(tmp_path)
    other = nn.Sequential(nn.Linear(4, 3))
    buffer = __import__("io").BytesIO()
    torch.save(other.state_dict(), buffer)
    pt.write_bytes(buffer.getvalue())
    meta = json.loads(record.read_text())
    meta["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    record.write_text(json.dumps(meta))
    again = _model()
    with pytest.warns(UserWarning, match=pt.name):
        assert _same_history(train.cached_fit(again, _data(), name="net", root=tmp_path, **KWARGS), h1)
    assert _same_weights(again, reference)


# --------------------------------------------------------------------------- a failed write
def test_a_write_that_fails_midway_leaves_no_entry_and_no_stray_file(tmp_path, monkeypatch):
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.os, "fsync", disk_full)
    model = _model()
    with pytest.warns(UserWarning, match="could not save"):
        h = train.cached_fit(model, _data(), name="net", root=tmp_path, **KWARGS)
    assert h.epochs == 2 and not _same_weights(model, _model())  # trained, History returned
    # nothing but the entry's lock file (kept, as lock files are, so that waiters never race on it)
    assert [f.name for f in (tmp_path / "weights").iterdir() if f.suffix != ".lock"] == []
    monkeypatch.undo()
    again = _model()
    assert _same_history(train.cached_fit(again, _data(), name="net", root=tmp_path, **KWARGS), h)
    assert _same_weights(again, model)


def test_a_read_only_folder_warns_and_returns_the_history(tmp_path, monkeypatch):
    """Simulated (the tests may run as root, for whom chmod does not protect a folder)."""
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(cache.os, "open", refuse)
    monkeypatch.setattr("builtins.open", _refusing_builtin_open(open))
    model = _model()
    with pytest.warns(UserWarning, match=r"could not save the trained weights .*weights"):
        h = train.cached_fit(model, _data(), name="net", root=tmp_path, **KWARGS)
    assert h.epochs == 2 and len(h.train_loss) == 2 and not _same_weights(model, _model())


def _refusing_builtin_open(real):
    def refuse(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wxa"):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real(file, mode, *args, **kwargs)
    return refuse


def test_a_read_only_folder_with_chmod(tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user (root?) can write to a read-only folder")
        model = _model()
        with pytest.warns(UserWarning, match="could not save the trained weights"):
            h = train.cached_fit(model, _data(), name="net", root=tmp_path, **KWARGS)
        assert h.epochs == 2
    finally:
        folder.chmod(0o755)


# --------------------------------------------------------------------------- two processes at once
def _racer(root, seed, rounds, barrier, results):
    """One of two processes calling cached_fit on the same entry again and again.

    Training is replaced by a fake that sets every weight to a fresh random number and records
    that number as the loss: weights loaded from the cache are right exactly when every weight
    equals the loss in the history returned with them. Each round may delete the entry, so
    that the two processes write it again and again while the other reads it.
    """
    import warnings as _w

    torch.set_num_threads(1)
    rng = random.Random(seed)

    def fake_fit(model, *args, **kwargs):
        value = rng.random()
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(value)
        time.sleep(rng.random() * 0.01)
        return train.History(train_loss=[value], train_accuracy=[1.0], seconds=[0.0], n_train=1)

    cache.fit = fake_fit
    X, y = _data(16)
    wrong, errors = 0, []
    barrier.wait()
    for _ in range(rounds):
        model = _model()
        try:
            with _w.catch_warnings():
                _w.simplefilter("ignore")
                h = cache.cached_fit(model, (X, y), name="race", root=root, epochs=1, device="cpu",
                                     progress=False, verbose=False)
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        values = torch.cat([p.detach().flatten() for p in model.parameters()])
        if not bool((values == h.train_loss[0]).all()):
            wrong += 1
        if rng.random() < 0.5:
            for f in os.listdir(os.path.join(root, "weights")):
                if f.startswith("race-") and not f.endswith(".part"):
                    try:
                        os.remove(os.path.join(root, "weights", f))
                    except FileNotFoundError:
                        pass
    results.put((wrong, errors))


def test_two_processes_at_once_never_crash_nor_load_wrong_weights(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    (tmp_path / "weights").mkdir()
    procs = [ctx.Process(target=_racer, args=(str(tmp_path), seed, 60, barrier, results)) for seed in (1, 2)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    wrong = sum(w for w, _ in outcomes)
    errors = [e for _, es in outcomes for e in es]
    assert errors == [] and wrong == 0, (wrong, errors[:3])
    leftovers = [f for f in os.listdir(tmp_path / "weights")
                 if not (f.startswith("race-") or f.endswith(".lock")) or ".part" in f]
    assert leftovers == []


def _asker(root, barrier, results):
    """Ask for one entry at the same moment as another process; the fake training is slow and
    leaves a mark in ``trainings.txt``."""
    torch.set_num_threads(1)

    def slow_fit(model, *args, **kwargs):
        with open(os.path.join(root, "trainings.txt"), "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(1.0)
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(0.25)
        return train.History(train_loss=[0.25], train_accuracy=[1.0], seconds=[1.0], n_train=1)

    cache.fit = slow_fit
    barrier.wait()
    model = _model()
    h = cache.cached_fit(model, _data(16), name="once", root=root, epochs=1, device="cpu",
                         progress=False, verbose=False)
    results.put((h.train_loss, float(next(model.parameters()).flatten()[0])))


def test_two_processes_asking_at_once_train_once(tmp_path):
    """The second process waits for the first one's weights instead of training them again
    (scripts/execute_notebooks.py runs pages that share a network at the same time)."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_asker, args=(str(tmp_path), barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert outcomes == [([0.25], 0.25)] * 2
    assert len((tmp_path / "trainings.txt").read_text().split()) == 1
