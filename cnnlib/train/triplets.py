"""Training an embedding with the triplet loss (6.27) over mini-batches of identities (Section 6.6).

:func:`fit_triplets` is :func:`cnnlib.train.fit` for siamese networks: same call shape
(``model, train_data, val_data=None, *, device, ..., seed, progress``), same
:class:`~cnnlib.train.History` back, so :func:`cnnlib.train.cached_fit` caches it
(``fit_fn=fit_triplets``). What differs is the mini-batch and the loss:

- a mini-batch is ``identities`` labels drawn at random, and ``per_identity`` distinct images
  of each (``identities * per_identity`` images, one pass through the network);
- the loss uses *every* triplet of the batch (:func:`batch_triplets`): each image as the anchor,
  each other image of its identity as :math:`x_s`, each image of another identity as :math:`x_d`;
- ``mining`` chooses which of them count (:func:`mine_triplets`): ``"all"``, or FaceNet's
  ``"semi-hard"`` ones, :math:`d_{\\text{same}} < d_{\\text{different}} < d_{\\text{same}} + \\alpha`;
- the loss of a step is (6.27) summed over the chosen triplets and divided by the number of
  them whose loss is positive (:func:`triplet_batch_loss`), so the steps do not shrink as more
  and more triplets become admissible (6.28).

The squared distances of all pairs of the batch are computed once (a
``(B, B)`` matrix); each triplet's loss is two entries of it, which is much cheaper than
gathering three embedding vectors for each of the tens of thousands of triplets.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (siamese networks, Eqs. (6.27)-(6.28)).
F. Schroff, D. Kalenichenko and J. Philbin, "FaceNet: a unified embedding for face
recognition and clustering", CVPR 2015 (triplets from batches of identities, semi-hard mining).
"""
from __future__ import annotations

import time

import torch
from torch import nn

from .._validation import check_choice, positive_int
from ._batches import as_tensors
from .device import set_seed, usable_device
from .loop import History, _check_positive_float

__all__ = ["MININGS", "batch_triplets", "mine_triplets", "triplet_batch_loss", "fit_triplets"]

#: The triplet choices of :func:`mine_triplets` and :func:`fit_triplets`.
MININGS = ("all", "semi-hard")


def batch_triplets(identities: int, per_identity: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices ``(anchor, same, different)`` of every triplet of a batch of ``identities`` x ``per_identity`` images.

    The batch is laid out identity by identity: images ``0 ... per_identity - 1`` show the
    first identity, the next ``per_identity`` the second, and so on. A triplet is an anchor, another
    image of its identity and an image of another identity: there are
    ``B * (per_identity - 1) * (B - per_identity)`` of them, ``B = identities * per_identity``.

    Examples
    --------
    >>> a, s, d = batch_triplets(2, 2)  # images 0, 1 of identity 0 and 2, 3 of identity 1
    >>> [(int(i), int(j), int(k)) for i, j, k in zip(a, s, d)][:4]
    [(0, 1, 2), (0, 1, 3), (1, 0, 2), (1, 0, 3)]
    >>> len(batch_triplets(10, 10)[0])  # 100 * 9 * 90
    81000
    """
    identities, per_identity = positive_int(identities, "identities"), positive_int(per_identity, "per_identity")
    who = torch.arange(identities).repeat_interleave(per_identity)
    same_identity = who[:, None] == who[None, :]
    not_itself = ~torch.eye(len(who), dtype=torch.bool)
    return torch.nonzero((same_identity & not_itself)[:, :, None] & ~same_identity[:, None, :], as_tuple=True)


def mine_triplets(d_same: torch.Tensor, d_different: torch.Tensor, margin: float, mining: str = "all") -> torch.Tensor:
    """Which triplets the loss uses: a boolean mask, one entry per triplet.

    ``"all"`` keeps every triplet (the admissible ones then cost nothing anyway);
    ``"semi-hard"`` keeps those whose different image is farther than the same one but
    not yet by the margin, :math:`d_{\\text{same}} < d_{\\text{different}} < d_{\\text{same}} + \\alpha`
    (FaceNet's choice: each of them has a positive loss, none is "too hard").

    Examples
    --------
    >>> d_same, d_different = torch.tensor([0.1, 0.5, 0.2]), torch.tensor([0.2, 0.3, 1.0])
    >>> mine_triplets(d_same, d_different, 0.5, "semi-hard").tolist()  # 2nd: too hard; 3rd: admissible
    [True, False, False]
    >>> mine_triplets(d_same, d_different, 0.5).tolist()
    [True, True, True]
    """
    check_choice(mining, "mining", MININGS)
    if not isinstance(d_same, torch.Tensor) or not isinstance(d_different, torch.Tensor):
        raise TypeError(f"d_same and d_different must be tensors, got {type(d_same).__name__} and "
                        f"{type(d_different).__name__}")
    if d_same.shape != d_different.shape:
        raise ValueError(f"d_same and d_different must have the same shape, got {tuple(d_same.shape)} and "
                         f"{tuple(d_different.shape)}")
    if mining == "all":
        return torch.ones_like(d_same, dtype=torch.bool)
    return (d_different > d_same) & (d_different < d_same + margin)


def triplet_batch_loss(embeddings: torch.Tensor, triplets, margin: float, mining: str = "all"):
    """The loss of one mini-batch: (6.27) over the chosen triplets, divided by how many of them cost something.

    Parameters
    ----------
    embeddings : Tensor, shape (B, D)
    triplets : (Tensor, Tensor, Tensor)
        Anchor, same and different indices into ``embeddings`` (:func:`batch_triplets`).
    margin : float
        :math:`\\alpha` of (6.27)-(6.28).
    mining : {"all", "semi-hard"}
        Which triplets count (:func:`mine_triplets`).

    Returns
    -------
    loss : Tensor
        Sum of :math:`\\max\\{d_{\\text{same}} - d_{\\text{different}} + \\alpha, 0\\}` over the chosen
        triplets divided by the number of chosen triplets with a positive loss (at least 1).
    admissible : Tensor
        The fraction of *all* the triplets that are admissible (6.28),
        :math:`d_{\\text{same}} - d_{\\text{different}} \\le -\\alpha` (a number, no gradient).

    Examples
    --------
    >>> e = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    >>> loss, admissible = triplet_batch_loss(e, batch_triplets(2, 2), 0.5)
    >>> round(loss.item(), 4), admissible.item()  # 3 of the 8 triplets cost 0.1, 0.5, 1.7: 2.3 / 3
    (0.7667, 0.625)
    """
    if not isinstance(embeddings, torch.Tensor) or embeddings.ndim != 2:
        raise ValueError(f"embeddings must be a (B, D) tensor, got {getattr(embeddings, 'shape', type(embeddings))}")
    a, s, d = triplets
    n = len(embeddings)
    distances = ((embeddings[:, None, :] - embeddings[None, :, :]) ** 2).sum(-1).flatten()  # (B * B,)
    d_same, d_different = distances[a * n + s], distances[a * n + d]
    per_triplet = torch.clamp(d_same - d_different + margin, min=0)
    admissible = (per_triplet.detach() == 0).float().mean()
    if mining != "all":
        per_triplet = per_triplet[mine_triplets(d_same.detach(), d_different.detach(), margin, mining)]
    active = (per_triplet.detach() > 0).sum()
    return per_triplet.sum() / active.clamp(min=1), admissible


class _IdentityBatches:
    """Draws mini-batches: ``identities`` random labels, ``per_identity`` distinct images of each."""

    def __init__(self, y: torch.Tensor, identities: int, per_identity: int, name: str, generator):
        labels, inverse = torch.unique(y, return_inverse=True)
        counts = torch.bincount(inverse)
        if identities > len(labels):
            raise ValueError(f"identities={identities} is more than the {len(labels)} identities (labels) in {name}")
        if int(counts.min()) < per_identity:
            lack = labels[counts < per_identity]
            raise ValueError(f"per_identity={per_identity} needs that many images of every identity, but {name} has "
                             f"only {int(counts.min())} of label {int(lack[0])} ({len(lack)} label(s) short)")
        self.order = torch.argsort(inverse, stable=True)  # indices grouped by identity
        self.starts, self.counts = torch.cumsum(counts, 0) - counts, counts
        self.identities, self.per_identity, self.generator = identities, per_identity, generator
        self.slots = torch.arange(int(counts.max()))

    def draw(self) -> torch.Tensor:
        who = torch.randperm(len(self.counts), generator=self.generator)[:self.identities]
        keys = torch.rand(self.identities, len(self.slots), generator=self.generator)
        keys[self.slots[None, :] >= self.counts[who, None]] = 2.0  # past the identity's images: never picked
        pick = keys.topk(self.per_identity, dim=1, largest=False).indices.sort(1).values
        return self.order[(self.starts[who, None] + pick).flatten()]


def _embed(model):
    return model.embed if hasattr(model, "embed") else model


def fit_triplets(model: nn.Module, train_data, val_data=None, *, device=None, steps: int, identities: int = 10,
                 per_identity: int = 10, mining: str = "all", margin: float = 0.5, lr: float = 2e-3, seed: int = 0,
                 progress: bool = False, val_batches: int = 10) -> History:
    """Train an embedding with the triplet loss (6.27), Adam, over mini-batches of identities.

    Parameters
    ----------
    model : torch.nn.Module
        The embedding :math:`f_\\theta`: its ``embed`` method when it has one (as
        :class:`cnnlib.models.SiameseNetwork`), else the model itself, maps (B, ...) to (B, D).
    train_data, val_data
        Images and integer identity labels, as for :func:`cnnlib.train.fit` (``.images`` and
        ``.labels``, or an ``(X, y)`` pair). Every identity needs at least ``per_identity`` images.
    device : torch.device or str, optional
        Defaults to :func:`cnnlib.train.get_device`.
    steps : int
        Number of mini-batches (optimizer steps).
    identities, per_identity : int
        Identities per mini-batch (>= 2) and distinct images of each (>= 2).
    mining : {"all", "semi-hard"}
        Which triplets of a batch the loss uses (:func:`mine_triplets`).
    margin : float
        :math:`\\alpha` (> 0) of (6.27)-(6.28).
    lr : float
        Adam's learning rate.
    seed : int
        Seeds torch (as :func:`fit` does) and the draw of the mini-batches.
    progress : bool
        Show a progress bar.
    val_batches : int
        With ``val_data``: the number of mini-batches of validation identities (drawn with
        ``seed``, the same in every call) scored after training.

    Returns
    -------
    History
        One entry per *step* (here an "epoch" is one mini-batch): ``train_loss`` the loss of
        the step (:func:`triplet_batch_loss`), ``train_accuracy`` the fraction of the batch's
        triplets that were admissible (6.28) before the step, ``seconds`` and ``lr``;
        ``n_train`` is the number of images per step. With ``val_data``, ``val_loss`` and
        ``val_accuracy`` hold one entry: the mean over the validation batches of the loss
        (:func:`triplet_batch_loss`, all triplets) and of the admissible fraction, in evaluation
        mode. The model is left in evaluation mode.

    Raises
    ------
    ValueError
        For bad settings, fewer identities than ``identities`` or an identity with fewer than
        ``per_identity`` images, naming the argument and the value.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> y = torch.arange(4).repeat_interleave(10)  # 4 identities, 10 points of each around a centre
    >>> X = torch.randn(4, 3)[y] + 0.3 * torch.randn(40, 3)
    >>> net = nn.Linear(3, 2)
    >>> h = fit_triplets(net, (X, y), (X, y), device="cpu", steps=50, identities=2, per_identity=4, lr=0.05)
    >>> h.epochs, h.n_train, h.train_accuracy[0] < 0.5, h.val_accuracy
    (50, 8, True, [1.0])
    """
    steps = positive_int(steps, "steps")
    identities, per_identity = positive_int(identities, "identities"), positive_int(per_identity, "per_identity")
    for value, name in ((identities, "identities"), (per_identity, "per_identity")):
        if value < 2:
            raise ValueError(f"{name} must be at least 2 (a triplet needs two images of one identity and one of "
                             f"another), got {value}")
    check_choice(mining, "mining", MININGS)
    margin, lr = _check_positive_float(margin, "margin"), _check_positive_float(lr, "lr")
    val_batches = positive_int(val_batches, "val_batches")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    device = usable_device(device)
    X, y = as_tensors(train_data, "train_data")
    set_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    batches = _IdentityBatches(y, identities, per_identity, "train_data", generator)
    val = None
    if val_data is not None:
        val_X, val_y = as_tensors(val_data, "val_data")
        val = val_X, _IdentityBatches(val_y, identities, per_identity, "val_data",
                                      torch.Generator().manual_seed(seed))
    triplets = tuple(t.to(device) for t in batch_triplets(identities, per_identity))
    X = X.to(device)
    model.to(device).train()
    embed = _embed(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = History(n_train=identities * per_identity, device=str(device), step="eager")
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="triplet steps", unit="batch")
    for _ in range(steps):
        start = time.perf_counter()
        idx = batches.draw().to(device)
        loss, admissible = triplet_batch_loss(embed(X[idx]), triplets, margin, mining)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        history.seconds.append(time.perf_counter() - start)
        history.train_loss.append(loss.item())
        history.train_accuracy.append(admissible.item())
        history.lr.append(lr)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", admissible=f"{history.train_accuracy[-1]:.3f}")
    if bar is not None:
        bar.close()
    model.eval()
    if val is not None:
        val_X, val_draws = val
        losses, fractions = [], []
        with torch.no_grad():
            for _ in range(val_batches):
                idx = val_draws.draw().to(device)
                loss, admissible = triplet_batch_loss(embed(val_X[idx].to(device)), triplets, margin, "all")
                losses.append(loss.item())
                fractions.append(admissible.item())
        history.val_loss.append(sum(losses) / len(losses))
        history.val_accuracy.append(sum(fractions) / len(fractions))
    return history
