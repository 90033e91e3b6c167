"""Identification (page 6.6.2): the open-set glyph embedding, trained with the triplet loss.

Page 6.6.2 trains a :class:`cnnlib.models.SiameseNetwork` (32-number embedding) on glyph
identities (:func:`cnnlib.glyphs.glyph_identities`) with all the triplets of mini-batches of
identities (:func:`cnnlib.train.fit_triplets`), and verifies pairs of identities it never
saw. :func:`identification_recipe` holds the settings, :func:`glyph_splits` the data and
:func:`trained_embedding` the network, trained once through :func:`cnnlib.train.cached_fit`
and then loaded: the page and the page that redraws Figure 6.16 share one entry.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (siamese networks, the triplet loss (6.27)).
"""
from __future__ import annotations

from .._validation import check_bool, nonnegative_int

__all__ = ["EMBEDDING_DIM", "NAME", "glyph_splits", "identification_recipe", "trained_embedding"]

#: Length of the embedding of the open-set network.
EMBEDDING_DIM = 32
#: The file name of its entry under ``data/weights``.
NAME = "siamese-glyphs"

# Training identities (quick, full); then 50 identities for thresholds and 100 to report, never trained on.
_TRAIN_IDENTITIES = {True: 300, False: 2_000}
_VAL_IDENTITIES, _TEST_IDENTITIES, _PER_IDENTITY = 50, 100, 10
_QUICK = dict(steps=150)
_FULL = dict(steps=3_000)
_COMMON = dict(identities=20, per_identity=5, mining="all", margin=0.5, lr=2e-3, seed=0)


def identification_recipe(quick: bool) -> dict:
    """The keyword arguments of :func:`cnnlib.train.fit_triplets` with which page 6.6.2 trains its open-set network.

    Mini-batches of 20 identities x 5 images (38,000 triplets, all used), margin 0.5, Adam at
    0.002, seed 0; the quick run (a CPU) takes 150 steps, the full run (a GPU) 3,000.

    Examples
    --------
    >>> identification_recipe(True)["steps"], identification_recipe(False)["steps"]
    (150, 3000)
    >>> identification_recipe(True)["mining"]
    'all'
    """
    check_bool(quick, "quick")
    return dict(_COMMON, **(_QUICK if quick else _FULL))


def glyph_splits(quick: bool):
    """The page's glyph identities: training, validation (thresholds) and test (reported), disjoint.

    Identities ``0 ... n - 1`` train (``n`` = 300 quick, 2,000 full), the next 50 choose
    thresholds and the 100 after them are reported; 10 samples of each, seed 0.

    Examples
    --------
    >>> train_set, val_set, test_set = glyph_splits(True)
    >>> len(train_set.labels.unique()), int(val_set.labels.min()), int(test_set.labels.min())
    (300, 300, 350)
    """
    from .. import glyphs

    n = _TRAIN_IDENTITIES[check_bool(quick, "quick")]
    return (glyphs.glyph_identities(n, _PER_IDENTITY, seed=0),
            glyphs.glyph_identities(_VAL_IDENTITIES, _PER_IDENTITY, seed=0, first=n),
            glyphs.glyph_identities(_TEST_IDENTITIES, _PER_IDENTITY, seed=0, first=n + _VAL_IDENTITIES))


def trained_embedding(quick: bool | None = None, *, seed: int = 0, device=None, verbose: bool = True):
    """The open-set glyph embedding of page 6.6.2, trained once and then loaded from ``data/weights``.

    Same data (:func:`glyph_splits`), same initial weights (``seed``) and same settings
    (:func:`identification_recipe`, with ``seed``) as the page, through
    :func:`cnnlib.train.cached_fit` with ``fit_fn=cnnlib.train.fit_triplets``.

    Parameters
    ----------
    quick : bool, optional
        The size switch; defaults to :func:`cnnlib.train.quick_run` for ``device``.
    seed : int
        Seed of the initial weights and of the mini-batches (the page reports seed 0).
    device : torch.device or str, optional
        Defaults to :func:`cnnlib.train.get_device`.
    verbose : bool
        Say which switch and weights are used.

    Returns
    -------
    model : cnnlib.models.SiameseNetwork
        In evaluation mode, on ``device``; ``model.embed`` is the embedding.
    history : cnnlib.train.History
        One entry per training step (:func:`cnnlib.train.fit_triplets`).
    """
    from .. import models, train
    from ..train.device import resolve_device

    seed = nonnegative_int(seed, "seed")
    device = resolve_device(device)
    if quick is None:
        quick = train.quick_run(device, verbose=verbose)
    train_set, _, _ = glyph_splits(quick)
    train.set_seed(seed)
    model = models.SiameseNetwork(embedding_dim=EMBEDDING_DIM)
    with train.threads_while_training():  # if it has to train: one thread per free core (page 6.4.2)
        history = train.cached_fit(model, train_set, name=NAME, fit_fn=train.fit_triplets, device=device,
                                   verbose=verbose, **dict(identification_recipe(quick), seed=seed))
    model.eval()
    return model, history
