"""Loss functions for tasks beyond classification (Section 6.6).

- :func:`localization_loss`: the chapter's loss for classifying *and* locating one object,
  cross-entropy on the class scores plus :math:`\\gamma (1 - y_1)` times the squared error of
  the bounding box, so that images labelled "nothing" train the classifier only;
- :func:`triplet_loss`: the triplet loss (6.27) with margin :math:`\\alpha` (6.28), which
  trains an embedding so that two images of the same identity lie closer together than two
  images of different identities, by at least the margin.

Both take PyTorch tensors, are differentiable, and return the mean over the mini-batch
(``reduction="mean"``), the sum, or one value per example (``"none"``).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (object localization; siamese networks, Eqs. (6.27), (6.28)).

F. Schroff, D. Kalenichenko and J. Philbin, "FaceNet: a unified embedding for face
recognition and clustering", CVPR 2015 (the triplet loss).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._validation import check_bool, check_choice

__all__ = ["localization_loss", "triplet_loss", "REDUCTIONS"]

#: How the per-example losses are combined.
REDUCTIONS = ("mean", "sum", "none")


def _tensor(value, name: str, ndim: int) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D tensor, got shape {tuple(value.shape)}")
    if len(value) == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    return value


def _nonnegative(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def _reduce(per_example: torch.Tensor, reduction: str) -> torch.Tensor:
    check_choice(reduction, "reduction", REDUCTIONS)
    if reduction == "mean":
        return per_example.mean()
    return per_example.sum() if reduction == "sum" else per_example


def localization_loss(logits: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor,
                      target_boxes: torch.Tensor, gamma: float = 1.0, *,
                      reduction: str = "mean") -> torch.Tensor:
    """The chapter's object-localization loss: cross-entropy plus gamma (1 - y_1) times the box's squared error.

    Parameters
    ----------
    logits : Tensor, shape (B, K)
        Class scores; class 0 is "nothing" (no object), classes 1..K-1 are object kinds.
        The probabilities :math:`\\hat p` are their softmax.
    boxes : Tensor, shape (B, 4)
        Predicted boxes :math:`(\\hat y_x, \\hat y_y, \\hat y_h, \\hat y_w)`.
    labels : Tensor of int, shape (B,)
        True classes, in 0..K-1.
    target_boxes : Tensor, shape (B, 4)
        True boxes :math:`(y_x, y_y, y_h, y_w)`. Rows whose label is 0 are "do not care": they
        are never used and may hold anything, NaN included.
    gamma : float
        Weight :math:`\\gamma \\ge 0` of the box term (the chapter takes 1 by default; 0 leaves
        plain classification).
    reduction : {"mean", "sum", "none"}
        Mean over the batch (default), sum, or the per-example losses, shape (B,).

    Returns
    -------
    Tensor
        A scalar, or shape (B,) with ``reduction="none"``.

    Notes
    -----
    For one example with one-hot label :math:`y` (so :math:`y_1 = 1` exactly when the label is
    "nothing") the loss is

    .. math::

        C = -\\log \\hat p_{\\text{label}}
            + \\gamma\\,(1 - y_1) \\sum_{j \\in \\{x, y, h, w\\}} (\\hat y_j - y_j)^2 ,

    categorical cross-entropy on the probabilities plus the squared error on the four box
    components. The factor :math:`1 - y_1` switches the box term off for "nothing", whose
    box is undefined; it is applied as a mask, so that whatever the network predicts there
    (even an infinite box) adds nothing to the loss or its gradient.

    Examples
    --------
    >>> logits = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> boxes = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.5, 0.5]])
    >>> labels = torch.tensor([1, 0])
    >>> target = torch.tensor([[0.1, 0.2, 0.5, 0.4], [float("nan")] * 4])
    >>> localization_loss(logits, boxes, labels, target, reduction="none")  # log 3 + 0.2**2, log 3
    tensor([1.1386, 1.0986])
    """
    logits = _tensor(logits, "logits", 2)
    B, K = logits.shape
    if K < 2:
        raise ValueError(f"logits must have at least 2 columns (nothing and one object class), got shape {(B, K)}")
    boxes = _tensor(boxes, "boxes", 2)
    target_boxes = _tensor(target_boxes, "target_boxes", 2)
    labels = _tensor(labels, "labels", 1)
    for name, t in (("boxes", boxes), ("target_boxes", target_boxes)):
        if tuple(t.shape) != (B, 4):
            raise ValueError(f"{name} must have shape (B, 4) = ({B}, 4) to match logits, got {tuple(t.shape)}")
    if len(labels) != B:
        raise ValueError(f"labels must have length B = {B} to match logits, got {len(labels)}")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if int(labels.min()) < 0 or int(labels.max()) >= K:
        raise ValueError(f"labels must lie in 0..{K - 1} (one per column of logits), got values "
                         f"from {int(labels.min())} to {int(labels.max())}")
    gamma = _nonnegative(gamma, "gamma")
    has_object = labels != 0  # 1 - y_1
    if not torch.isfinite(target_boxes[has_object]).all():
        raise ValueError("target_boxes must be finite wherever the label is not 0 (only 'nothing' rows may be NaN)")
    classification = F.cross_entropy(logits, labels.long(), reduction="none")
    if gamma == 0:  # plain classification, whatever the boxes hold
        return _reduce(classification, reduction)
    # 1 - y_1 as a mask, not a factor: 0 * (an infinite or NaN box) would be NaN, in the gradient too
    rows = has_object[:, None]
    error = torch.where(rows, boxes - torch.where(rows, target_boxes, 0.0), 0.0)
    per_example = classification + gamma * (error ** 2).sum(dim=1)
    return _reduce(per_example, reduction)


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float = 1.0,
                 squared: bool = True, *, reduction: str = "mean") -> torch.Tensor:
    """The triplet loss (6.27): max(d_same - d_different + margin, 0), averaged over the batch.

    Parameters
    ----------
    anchor, positive, negative : Tensor, shape (B, D)
        Embeddings :math:`f_\\theta(x_a)`, :math:`f_\\theta(x_s)` (same identity as the anchor)
        and :math:`f_\\theta(x_d)` (a different identity).
    margin : float
        The margin :math:`\\alpha \\ge 0` of (6.28).
    squared : bool
        ``True`` (default): squared Euclidean distances, as in (6.27). ``False``: plain
        Euclidean distances, as ``torch.nn.functional.triplet_margin_loss`` uses.
    reduction : {"mean", "sum", "none"}
        Mean over the batch (default), sum, or the per-triplet losses, shape (B,).

    Returns
    -------
    Tensor
        A scalar, or shape (B,) with ``reduction="none"``.

    Notes
    -----
    With :math:`d_{\\text{same}} = \\|f_\\theta(x_a) - f_\\theta(x_s)\\|^2` and
    :math:`d_{\\text{different}} = \\|f_\\theta(x_a) - f_\\theta(x_d)\\|^2`, Eq. (6.27) is

    .. math::

        C = \\max\\{d_{\\text{same}} - d_{\\text{different}} + \\alpha,\\ 0\\}.

    It is 0 exactly for the "admissible" triplets of (6.28),
    :math:`d_{\\text{same}} - d_{\\text{different}} \\le -\\alpha`, so gradient descent only
    moves the embeddings of the others. With ``squared=False`` the result equals
    ``F.triplet_margin_loss(anchor, positive, negative, margin=margin)`` up to the small
    ``eps`` that PyTorch adds inside its distance.

    Examples
    --------
    >>> a = torch.tensor([[0.0, 0.0]]); s = torch.tensor([[1.0, 0.0]]); d = torch.tensor([[0.0, 2.0]])
    >>> triplet_loss(a, s, d, margin=1.0)  # max(1 - 4 + 1, 0)
    tensor(0.)
    >>> triplet_loss(a, s, d, margin=1.0, squared=False)  # max(1 - 2 + 1, 0)
    tensor(0.)
    >>> triplet_loss(a, d, s, margin=1.0)  # roles swapped: max(4 - 1 + 1, 0)
    tensor(4.)
    """
    anchor = _tensor(anchor, "anchor", 2)
    for name, t in (("positive", positive), ("negative", negative)):
        t = _tensor(t, name, 2)
        if t.shape != anchor.shape:
            raise ValueError(f"{name} must have the shape of anchor, {tuple(anchor.shape)} (batch size, "
                             f"embedding size), got {tuple(t.shape)}")
    margin = _nonnegative(margin, "margin")
    squared = check_bool(squared, "squared")
    if squared:
        d_same, d_different = ((anchor - positive) ** 2).sum(dim=1), ((anchor - negative) ** 2).sum(dim=1)
    else:  # vector_norm has a zero (not an infinite) gradient where two embeddings coincide
        d_same = torch.linalg.vector_norm(anchor - positive, dim=1)
        d_different = torch.linalg.vector_norm(anchor - negative, dim=1)
    return _reduce(torch.clamp(d_same - d_different + margin, min=0.0), reduction)
