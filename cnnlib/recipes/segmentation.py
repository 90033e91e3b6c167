"""The U-Net of page 6.6.3 (semantic segmentation): its scenes, loss and settings, trained once.

Page 6.6.3 trains a small U-Net (:class:`cnnlib.models.UNet`) to give every pixel of the
textured scenes of :func:`cnnlib.scenes.shape_scenes` one of three classes (background,
ellipse, triangle). This module holds what that training needs, so that the page and any later
page (6.6.6 redraws the chapter's Figure 6.16 from the book's own networks) build the very same
network: the scenes (:func:`segmentation_scenes`), the class-weighted cross-entropy
(:func:`weighted_cross_entropy`, its weights from :func:`class_weights` of the training masks),
the settings (:func:`segmentation_recipe`) and the trained network (:func:`trained_segmenter`,
through :func:`cnnlib.train.cached_fit`).
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from .._validation import check_bool, nonnegative_int, positive_int
from ..models import UNet

__all__ = ["SCENE_SEEDS", "SEGMENTATION_SETTINGS", "UNET_NAME", "class_weights", "segmentation_recipe",
           "segmentation_scenes", "segmentation_unet", "trained_segmenter", "weighted_cross_entropy"]

#: Seeds of the scenes: training, test, and the validation scenes on which the quick run's
#: settings were chosen (the page never scores on them; see :func:`segmentation_recipe`).
SCENE_SEEDS = {"train": 1, "test": 2, "validation": 3}

#: Training scenes in the quick run (a CPU) and the full run (a GPU); 1,000 test scenes in both.
_N_TRAIN = {True: 2_500, False: 20_000}
_N_TEST = 1_000

#: Shared by both runs: one-cycle schedule (Adam), seed 0.
SEGMENTATION_SETTINGS = dict(schedule="onecycle", seed=0)
#: The quick run (a CPU): chosen on validation scenes among five candidates (segmentation_recipe's notes).
_QUICK = dict(epochs=2, batch_size=32, lr=1e-2, channels_last=True)
#: The full run (a GPU): the page's earlier settings, with more scenes.
_FULL = dict(epochs=15, batch_size=32, lr=3e-3)

#: The name of the U-Net's entry under ``data/weights`` (the page uses the same).
UNET_NAME = "segmentation-unet"


@functools.lru_cache(maxsize=4)
def _scenes(n: int, seed: int):
    from ..scenes import shape_scenes

    return shape_scenes(n, seed=seed)


def segmentation_scenes(quick: bool):
    """The training and test scenes of page 6.6.3 (the same objects on every call).

    Parameters
    ----------
    quick : bool
        The size switch: 2,500 training scenes (``True``) or 20,000 (``False``); 1,000 test
        scenes either way.

    Returns
    -------
    train_set, test_set : cnnlib.scenes.SceneDataset
        :func:`cnnlib.scenes.shape_scenes` with seeds ``SCENE_SEEDS["train"]`` and
        ``SCENE_SEEDS["test"]``; their ``masks`` hold the class of every pixel.

    Examples
    --------
    >>> train_set, test_set = segmentation_scenes(True)
    >>> len(train_set.images), tuple(test_set.masks.shape)
    (2500, (1000, 32, 32))
    """
    check_bool(quick, "quick")
    return _scenes(_N_TRAIN[quick], SCENE_SEEDS["train"]), _scenes(_N_TEST, SCENE_SEEDS["test"])


def class_weights(masks, num_classes: int = 3) -> torch.Tensor:
    """One weight per class, one over the square root of its share of the pixels, with mean 1.

    Parameters
    ----------
    masks : torch.Tensor of int
        Class indices, any shape (the training masks).
    num_classes : int

    Returns
    -------
    torch.Tensor, shape (num_classes,)
        :math:`w_c \\propto s_c^{-1/2}` where :math:`s_c` is the share of pixels of class
        :math:`c`, scaled so that the weights sum to ``num_classes``.

    Examples
    --------
    >>> masks = torch.tensor([0] * 12 + [1] * 3 + [2])   # shares 3/4, 3/16, 1/16
    >>> [round(float(w), 3) for w in class_weights(masks)]
    [0.464, 0.928, 1.608]
    """
    if not isinstance(masks, torch.Tensor) or masks.dtype.is_floating_point or masks.dtype == torch.bool:
        got = f"{masks.dtype} tensor" if isinstance(masks, torch.Tensor) else type(masks).__name__
        raise TypeError(f"masks must be an integer tensor of class indices, got {got}")
    num_classes = positive_int(num_classes, "num_classes")
    if masks.numel() and (masks.min() < 0 or masks.max() >= num_classes):
        raise ValueError(f"masks must hold classes 0 to {num_classes - 1}, got values from {int(masks.min())} "
                         f"to {int(masks.max())}")
    counts = torch.bincount(masks.flatten(), minlength=num_classes).double()
    if (counts == 0).any():
        raise ValueError(f"masks must hold every class at least once, got pixel counts {counts.long().tolist()}")
    inverse_root = (counts / counts.sum()) ** -0.5
    return (inverse_root / inverse_root.sum() * num_classes).float()


def weighted_cross_entropy(scores: torch.Tensor, masks: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The cross-entropy averaged over pixels, each pixel weighted by its true class's ``weight``.

    ``F.cross_entropy(scores, masks, weight=weight)``: scores (B, K, H, W), masks (B, H, W), weight (K,)
    (moved to the scores' device). The page passes it to ``fit`` as ``loss_fn`` with the weights
    bound (``functools.partial``), which :func:`cnnlib.train.cached_fit` keys by value.

    Examples
    --------
    >>> scores, masks = torch.zeros(1, 3, 2, 2), torch.tensor([[[0, 1], [2, 0]]])
    >>> round(float(weighted_cross_entropy(scores, masks, torch.ones(3))), 4)   # log 3
    1.0986
    """
    return F.cross_entropy(scores, masks, weight=weight.to(scores.device))


def segmentation_recipe(quick: bool) -> dict:
    """The keyword arguments of :func:`cnnlib.train.fit` with which page 6.6.3 trains its networks.

    The loss is :func:`weighted_cross_entropy` with :func:`class_weights` of the training masks of
    :func:`segmentation_scenes` (computed here from the same data), plus
    :data:`SEGMENTATION_SETTINGS`, and for the quick run (a CPU) 2 epochs of mini-batches of 32 at a
    peak rate of 0.01 in the channels-last layout; for the full run (a GPU) 15 epochs of 32 at
    0.003 on 8 times as many scenes.

    Notes
    -----
    The quick settings were chosen on 600 validation scenes (seed ``SCENE_SEEDS["validation"]``),
    never the test scenes: object IoU (mean of ellipse and triangle) of seed 0 of each network,
    all in the channels-last layout, and the U-Net's training time in CPU seconds on one thread of
    the shared 2-core machine (load 9 to 12, which inflates it):

    ==============================  =====  ==============  =========  ==========
    mini-batch, peak rate, epochs   U-Net  U-Net, no skip  Segmenter  U-Net time
    ==============================  =====  ==============  =========  ==========
    32, 0.003, 4 (the page before)  0.646  0.598           0.470      22.8 s
    32, 0.003, 2                    0.536  0.415           0.364      9.1 s
    64, 0.006, 2                    0.466  0.365           0.303      7.8 s
    32, 0.01, 2 (chosen)            0.564  0.458           0.426      11.2 s
    32, 0.006, 3                    0.611  0.580           0.473      12.9 s
    ==============================  =====  ==============  =========  ==========

    Two epochs at the higher rate cost half of four and keep every network's order; the longer
    runs score higher, and the full run (15 epochs on 20,000 scenes) is where the best scores
    are measured. Channels-last costs a CPU about a third less time per epoch for these
    networks (measured on one thread: U-Net 4.2 to 3.3 s per epoch, Segmenter 7.6 to 5.0).

    Examples
    --------
    >>> quick = segmentation_recipe(True)
    >>> quick["epochs"], quick["batch_size"], quick["loss_fn"].func.__name__
    (2, 32, 'weighted_cross_entropy')
    """
    check_bool(quick, "quick")
    train_set, _ = segmentation_scenes(quick)
    loss_fn = functools.partial(weighted_cross_entropy, weight=class_weights(train_set.masks))
    return dict(SEGMENTATION_SETTINGS, **(_QUICK if quick else _FULL), loss_fn=loss_fn)


def segmentation_unet(skip: bool = True) -> UNet:
    """The page's U-Net: width 8, batch normalization, each scene standardized; ``skip=False``
    removes its skip connections at the same width (see :class:`cnnlib.models.UNet`)."""
    return UNet(num_classes=3, width=8, batch_norm=True, standardize=True, skip=skip)


def trained_segmenter(quick: bool | None = None, *, seed: int = 0, device=None, verbose: bool = True):
    """The U-Net that page 6.6.3 trains with ``seed``, trained once and then loaded from ``data/weights``.

    Same scenes (:func:`segmentation_scenes`), same initial weights (``train.set_seed(seed)``
    before building :func:`segmentation_unet`) and same settings (:func:`segmentation_recipe`,
    with ``seed``) as the page, through :func:`cnnlib.train.cached_fit` under :data:`UNET_NAME`:
    after the page has run, this loads its weights; before, it trains them (the quick run: about
    10 s of CPU time on one thread; longer on busy cores).

    Parameters
    ----------
    quick : bool, optional
        The size switch; defaults to :func:`cnnlib.train.quick_run` for ``device``.
    seed : int
        The training seed (the page trains seeds 0 and 1 in the quick run, 0 to 4 in the full run).
    device : torch.device or str, optional
        Defaults to :func:`cnnlib.train.get_device`.
    verbose : bool
        Print which switch and weights are used.

    Returns
    -------
    model : cnnlib.models.UNet
        The trained network, in evaluation mode, on ``device``.
    history : cnnlib.train.History
    """
    from .. import train
    from ..train.device import resolve_device

    seed = nonnegative_int(seed, "seed")
    device = resolve_device(device)
    if quick is None:
        quick = train.quick_run(device, verbose=verbose)
    recipe = segmentation_recipe(quick)
    train_set, _ = segmentation_scenes(quick)
    train.set_seed(seed)
    model = segmentation_unet()
    with train.threads_while_training():  # if it has to train: one thread per free core (page 6.4.2)
        history = train.cached_fit(model, (train_set.images, train_set.masks), name=UNET_NAME, device=device,
                                   progress=False, verbose=verbose, **dict(recipe, seed=seed))
    model.eval()
    return model, history
