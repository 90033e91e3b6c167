"""The two networks of page 6.6.5: a keypoint regressor (triangle vertices) and a centres-and-offsets instance network.

Each task has its scenes (``keypoint_scenes``, ``instance_scenes``), its settings
(``keypoints_recipe``, ``instances_recipe``: keyword arguments of :func:`cnnlib.train.fit`, the
loss functions module-level in :mod:`cnnlib.keypoints` and :mod:`cnnlib.instances`) and a function
that builds the page's network and trains it through :func:`cnnlib.train.cached_fit`
(``trained_keypoints``, ``trained_instances``): after the page has run, these load its weights.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (Figure 6.16, landmark detection and instance segmentation).
"""
from __future__ import annotations

from .. import instances, keypoints
from .._validation import check_bool, nonnegative_int

__all__ = ["TRIANGLES", "CROWD", "keypoint_scenes", "instance_scenes", "keypoints_recipe", "instances_recipe",
           "trained_keypoints", "trained_instances"]

#: The triangle scenes of page 6.6.5 (:func:`cnnlib.keypoints.triangle_scenes`): 32 x 32, one distractor at most.
TRIANGLES = dict(size=32, contrast=(3.5, 5.0), distractors=1)
#: The crowded scenes of page 6.6.5 (:func:`cnnlib.scenes.shape_scenes`): up to four shapes of 8 to 16 pixels.
CROWD = dict(size=32, max_objects=4, min_size=8, max_size=16, empty=0.0, contrast=(3.5, 5.0), distractors=1)

#: Training scenes (before the 8 symmetries for the triangles), quick run and full run.
_KEYPOINT_SCENES = {True: 2_500, False: 20_000}
_INSTANCE_SCENES = {True: 2_000, False: 20_000}

_KEYPOINTS_QUICK = dict(epochs=3, batch_size=32, lr=1e-2, channels_last=True)
_KEYPOINTS_FULL = dict(epochs=10, batch_size=32, lr=1e-2)
_INSTANCES_QUICK = dict(epochs=8, batch_size=32, lr=3e-3, channels_last=True)
_INSTANCES_FULL = dict(epochs=20, batch_size=32, lr=3e-3)


def keypoint_scenes(quick: bool):
    """The page's training triangles (seed 1) under the 8 symmetries of the square: 20,000 images in the quick run.

    Examples
    --------
    >>> len(keypoint_scenes(True))
    20000
    """
    check_bool(quick, "quick")
    return keypoints.dihedral(keypoints.triangle_scenes(_KEYPOINT_SCENES[quick], seed=1, **TRIANGLES))


def instance_scenes(quick: bool):
    """The page's crowded training scenes (seed 11): 2,000 in the quick run, 20,000 in the full run."""
    from .. import scenes

    check_bool(quick, "quick")
    return scenes.shape_scenes(_INSTANCE_SCENES[quick], seed=11, **CROWD)


def keypoints_recipe(quick: bool) -> dict:
    """The keyword arguments of :func:`cnnlib.train.fit` with which page 6.6.5 trains its keypoint regressor.

    The matched loss :func:`cnnlib.keypoints.keypoint_loss`, a one-cycle schedule and seed 0;
    the quick run (a CPU) takes 3 epochs of mini-batches of 32 at a peak rate of 0.01 in the
    channels-last layout (on one CPU thread about a quarter faster here than the default layout,
    for this network and the instance network alike), the full run (a GPU) 10 epochs.

    Examples
    --------
    >>> r = keypoints_recipe(True)
    >>> r["epochs"], r["loss_fn"].__name__, keypoints_recipe(False)["epochs"]
    (3, 'keypoint_loss', 10)
    """
    check_bool(quick, "quick")
    return dict(schedule="onecycle", loss_fn=keypoints.keypoint_loss, seed=0,
                **(_KEYPOINTS_QUICK if quick else _KEYPOINTS_FULL))


def instances_recipe(quick: bool) -> dict:
    """The keyword arguments of :func:`cnnlib.train.fit` with which page 6.6.5 trains its instance network.

    The loss :func:`cnnlib.instances.instance_loss` (object and centre maps, offsets), a
    one-cycle schedule and seed 0; the quick run takes 8 epochs of mini-batches of 32 at a peak
    rate of 0.003 (channels-last on the CPU), the full run 20 epochs.

    Examples
    --------
    >>> r = instances_recipe(True)
    >>> r["epochs"], r["loss_fn"].__name__, instances_recipe(False)["epochs"]
    (8, 'instance_loss', 20)
    """
    check_bool(quick, "quick")
    return dict(schedule="onecycle", loss_fn=instances.instance_loss, seed=0,
                **(_INSTANCES_QUICK if quick else _INSTANCES_FULL))


def _cached(build, data, recipe, name, quick, seed, device, verbose):
    from .. import train
    from ..train.device import resolve_device

    seed = nonnegative_int(seed, "seed")
    device = resolve_device(device)
    if quick is None:
        quick = train.quick_run(device, verbose=verbose)
    check_bool(quick, "quick")
    train_data = data(quick)
    train.set_seed(seed)
    model = build()
    with train.threads_while_training():  # if it has to train: one thread per free core (page 6.4.2)
        history = train.cached_fit(model, train_data, name=name, device=device, progress=False, verbose=verbose,
                                   **dict(recipe(quick), seed=seed))
    model.eval()
    return model, history


def _keypoint_data(quick):
    more = keypoint_scenes(quick)
    return more.images, more.targets()


def _instance_data(quick):
    crowd = instance_scenes(quick)
    return crowd.images, instances.instance_targets(crowd.instances.numpy())


def trained_keypoints(quick: bool | None = None, *, seed: int = 0, device=None, verbose: bool = True):
    """The keypoint regressor of page 6.6.5, trained once and then loaded from ``data/weights``.

    Same scenes (:func:`keypoint_scenes`), same network
    (``models.keypoint_regressor(3, size=32, width=8)`` initialised after
    ``train.set_seed(seed)``) and same settings (:func:`keypoints_recipe`, with ``seed``) as the
    page, through :func:`cnnlib.train.cached_fit`. Its outputs are the three vertices ``(x, y)``
    as fractions of the side: multiply by 32 for pixels.

    Parameters
    ----------
    quick : bool, optional
        The size switch; defaults to :func:`cnnlib.train.quick_run` for ``device``.
    seed : int, default 0
        The page trains seeds 0 and 1 (0, 1 and 2 in the full run).
    device : torch.device or str, optional
    verbose : bool
        Say whether the weights were trained or loaded.

    Returns
    -------
    model : torch.nn.Module
        In evaluation mode, on ``device``.
    history : cnnlib.train.History
    """
    from ..models import keypoint_regressor

    return _cached(lambda: keypoint_regressor(3, size=TRIANGLES["size"], width=8), _keypoint_data, keypoints_recipe,
                   "keypoints-triangles", quick, seed, device, verbose)


def trained_instances(quick: bool | None = None, *, seed: int = 0, device=None, verbose: bool = True):
    """The centres-and-offsets network of page 6.6.5, trained once and then loaded from ``data/weights``.

    Same scenes (:func:`instance_scenes`, targets by :func:`cnnlib.instances.instance_targets`),
    same network (``models.UNet(num_classes=4, width=8)`` initialised after
    ``train.set_seed(seed)``) and same settings (:func:`instances_recipe`, with ``seed``) as the
    page. Its four output maps go to :func:`cnnlib.instances.group_instances`.

    Parameters and returns as for :func:`trained_keypoints`.
    """
    from ..models import UNet

    return _cached(lambda: UNet(num_classes=4, width=8), _instance_data, instances_recipe, "instances-crowd", quick,
                   seed, device, verbose)
