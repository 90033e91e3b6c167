"""Instance segmentation: telling apart objects that touch (Section 6.6).

Semantic segmentation labels each pixel with a class; instance segmentation also says *which*
object it belongs to. The simplest way from one to the other, connected components of each
class (:func:`connected_instances`), merges objects of the same class that touch or overlap
(:func:`merged_objects` counts how many); the classical repair, a watershed of the distance
transform (:func:`watershed_instances`), cuts blobs at their narrow waists. The learned method here predicts, at every pixel,
whether it is on an object, a heatmap of object centres and the offset from the pixel to its
object's centre (:func:`instance_targets`, :func:`instance_loss`); :func:`group_instances` then
gives each object pixel to the predicted centre nearest to where it points. Instances are scored
by matching predicted to true objects at IoU > 0.5 (:func:`match_instances`, :func:`instance_scores`).

Instance maps are integer arrays of shape (S, S) or (N, S, S): 0 for background, k > 0 for the
pixels of the k-th object (the labels need not be consecutive).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (Figure 6.16, instance segmentation).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage, optimize

from ._validation import as_array

__all__ = ["connected_instances", "watershed_instances", "merged_objects", "instance_iou", "match_instances",
           "instance_scores", "instance_targets", "instance_loss", "group_instances", "OFFSET_SCALE"]

#: Offsets are predicted in units of this many pixels (so that the targets are of order 1).
OFFSET_SCALE = 8.0


def _maps(value, name: str) -> np.ndarray:
    """(N, S, S) integer maps from (S, S) or (N, S, S)."""
    arr = as_array(value, name, ndim=(2, 3))
    if not np.all(arr == np.round(arr)) or (arr < 0).any():
        raise ValueError(f"{name} must hold non-negative integer labels (0 = background)")
    arr = arr.astype(np.int64)
    return arr[None] if arr.ndim == 2 else arr


def connected_instances(semantic) -> np.ndarray:
    """Instances read off a semantic mask: the connected components (4-neighbours) of each class.

    Parameters
    ----------
    semantic : array_like of int, shape (S, S) or (N, S, S)
        0 for background, c > 0 for the pixels of class c.

    Returns
    -------
    ndarray of int64, same shape
        0 for background, 1, 2, ... for the components (numbered class by class).

    Examples
    --------
    >>> semantic = np.array([[1, 1, 0, 2],
    ...                      [0, 1, 0, 2],
    ...                      [1, 0, 0, 1]])
    >>> connected_instances(semantic)
    array([[1, 1, 0, 4],
           [0, 1, 0, 4],
           [2, 0, 0, 3]])
    """
    maps = _maps(semantic, "semantic")
    out = np.zeros_like(maps)
    for k, m in enumerate(maps):
        count = 0
        for c in np.unique(m[m > 0]):
            blobs, n = ndimage.label(m == c)
            out[k][blobs > 0] = blobs[blobs > 0] + count
            count += n
    return out.reshape(np.shape(semantic))


def watershed_instances(foreground, min_distance: int = 2, *, min_height: float = 1.0) -> np.ndarray:
    """Instances of a foreground mask by the classical non-learned method: a watershed of its distance transform.

    For each image: the Euclidean distance of every foreground pixel to the nearest background
    pixel (``scipy.ndimage.distance_transform_edt``) is large in the middle of a blob and small
    at a narrow waist where two blobs touch. Its local maxima at least ``min_distance`` pixels
    apart and at least ``min_height`` high (``skimage.feature.peak_local_max``, per connected
    component) are the markers, one per object, and the watershed of the negated distance
    (``skimage.segmentation.watershed``) grows them until they meet, inside the mask. A
    component without a marker stays one instance.

    Parameters
    ----------
    foreground : array_like of bool or int, shape (S, S) or (N, S, S)
        Non-zero on object pixels.
    min_distance : int, default 2
        Smallest distance in pixels between two markers (>= 1); larger merges more.
    min_height : float, default 1.0
        Smallest distance-transform value of a marker (>= 0).

    Returns
    -------
    ndarray of int64, same shape
        0 for background, 1, 2, ... for the instances.

    Examples
    --------
    >>> two = np.zeros((7, 13), bool)
    >>> two[1:6, 1:6] = two[1:6, 7:12] = True; two[3, 6] = True  # two squares joined by one pixel
    >>> np.unique(watershed_instances(two)).tolist(), np.unique(connected_instances(two.astype(int))).tolist()
    ([0, 1, 2], [0, 1])
    """
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    arr = as_array(foreground, "foreground", ndim=(2, 3)) != 0
    maps = arr[None] if arr.ndim == 2 else arr
    if isinstance(min_distance, bool) or not isinstance(min_distance, (int, np.integer)) or min_distance < 1:
        raise ValueError(f"min_distance must be an integer >= 1 (pixels), got {min_distance!r}")
    if isinstance(min_height, bool) or not isinstance(min_height, (int, float)) or not min_height >= 0:
        raise ValueError(f"min_height must be a number >= 0 (pixels), got {min_height!r}")
    out = np.zeros(maps.shape, dtype=np.int64)
    for k, m in enumerate(maps):
        if not m.any():
            continue
        distance = ndimage.distance_transform_edt(m)
        components, count = ndimage.label(m)
        peaks = peak_local_max(distance, min_distance=int(min_distance), threshold_abs=min_height, labels=components,
                               exclude_border=False)
        markers = np.zeros(m.shape, dtype=np.int64)
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
        unmarked = np.setdiff1d(np.arange(1, count + 1), components[tuple(peaks.T)])
        for j, c in enumerate(unmarked, start=len(peaks) + 1):  # a component without a peak: one instance
            markers[tuple(np.argwhere(components == c)[0])] = j
        out[k] = watershed(-distance, markers, mask=m)
    return out.reshape(arr.shape)


def merged_objects(instances, semantic=None) -> tuple[int, int]:
    """How many objects share their connected component with another object: ``(merged, total)``.

    Each object's component is the connected component of its class (of ``semantic``; of the
    foreground ``instances > 0`` when ``semantic`` is None) that holds most of its pixels; the
    object is *merged* when that component also holds pixels of another object.

    Parameters
    ----------
    instances : array_like of int, shape (S, S) or (N, S, S)
        The true instance maps.
    semantic : array_like of int, same shape, optional
        The true class of each pixel.

    Examples
    --------
    >>> instances = np.array([[1, 1, 2, 0, 3]])
    >>> merged_objects(instances)  # objects 1 and 2 touch: one component
    (2, 3)
    >>> merged_objects(instances, semantic=np.array([[1, 1, 2, 0, 2]]))  # of different classes
    (0, 3)
    """
    inst = _maps(instances, "instances")
    sem = (inst > 0).astype(np.int64) if semantic is None else _maps(semantic, "semantic")
    if sem.shape != inst.shape:
        raise ValueError(f"semantic must have the shape of instances {inst.shape[1:]}, got {np.shape(semantic)}")
    components = connected_instances(sem)
    merged = total = 0
    for comp, obj in zip(components, inst):
        for k in np.unique(obj[obj > 0]):
            total += 1
            main = np.bincount(comp[obj == k]).argmax()
            others = np.unique(obj[comp == main])
            merged += bool(main) and bool(np.any((others != k) & (others > 0)))
    return merged, total


def instance_iou(pred, true) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IoU of every predicted object with every true object of one image.

    Parameters
    ----------
    pred, true : array_like of int, shape (S, S)

    Returns
    -------
    iou : ndarray, shape (P, T)
    pred_ids, true_ids : ndarray
        The labels of the rows and columns.

    Examples
    --------
    >>> iou, p, t = instance_iou([[1, 1, 2, 2]], [[1, 1, 1, 0]])
    >>> iou.round(3).tolist(), p.tolist(), t.tolist()
    ([[0.667], [0.25]], [1, 2], [1])
    """
    p, t = _maps(pred, "pred"), _maps(true, "true")
    if p.shape != t.shape or len(p) != 1:
        raise ValueError(f"pred and true must be two maps of the same shape (S, S), got {np.shape(pred)} and {np.shape(true)}")
    p, t = p[0].ravel(), t[0].ravel()
    pred_ids, true_ids = np.unique(p[p > 0]), np.unique(t[t > 0])
    pi, ti = np.searchsorted(pred_ids, p), np.searchsorted(true_ids, t)
    both = (p > 0) & (t > 0)
    inter = np.zeros((len(pred_ids), len(true_ids)))
    np.add.at(inter, (pi[both], ti[both]), 1)
    area_p = np.bincount(pi[p > 0], minlength=len(pred_ids))
    area_t = np.bincount(ti[t > 0], minlength=len(true_ids))
    union = area_p[:, None] + area_t[None] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0), pred_ids, true_ids


def match_instances(pred, true, threshold: float = 0.5) -> tuple[np.ndarray, int, int]:
    """Match predicted to true objects of one image, one to one, at IoU above ``threshold``.

    The matching maximizes the total IoU (the Hungarian algorithm,
    ``scipy.optimize.linear_sum_assignment``); pairs whose IoU is not above the threshold are
    dropped. With ``threshold >= 0.5`` the matching is unique anyway: a region cannot have an IoU
    above 0.5 with two objects that do not overlap each other (the reason why the panoptic
    quality of Kirillov et al. counts a hit at IoU > 0.5, strictly).

    Returns
    -------
    ious : ndarray
        The IoU of each matched pair (the true positives).
    n_pred, n_true : int
        The numbers of predicted and true objects.

    Examples
    --------
    >>> true = np.array([[1, 1, 2, 2, 3, 3, 0, 4]])
    >>> ious, n_pred, n_true = match_instances([[1, 1, 1, 1, 1, 1, 0, 2]], true)  # 1, 2 and 3 merged
    >>> ious.tolist(), n_pred, n_true
    ([1.0], 2, 4)
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
    iou, pred_ids, true_ids = instance_iou(pred, true)
    if iou.size == 0:
        return np.zeros(0), len(pred_ids), len(true_ids)
    rows, cols = optimize.linear_sum_assignment(iou, maximize=True)
    kept = iou[rows, cols]
    return kept[kept > threshold], len(pred_ids), len(true_ids)


def instance_scores(pred, true, threshold: float = 0.5) -> dict:
    """Precision, recall and mean matched IoU of predicted instance maps over many images (hits: IoU > threshold).

    Parameters
    ----------
    pred, true : array_like of int, shape (N, S, S)
    threshold : float, default 0.5

    Returns
    -------
    dict
        ``precision`` (matched / predicted objects), ``recall`` (matched / true objects),
        ``f1`` and ``mean_iou`` (mean IoU of the matched pairs), with the counts ``matched``,
        ``predicted`` and ``true``.

    Examples
    --------
    >>> s = instance_scores([[[1, 1, 1, 1, 1, 1, 0, 2]]], [[[1, 1, 2, 2, 3, 3, 0, 4]]])
    >>> s["precision"], s["recall"], s["mean_iou"]
    (0.5, 0.25, 1.0)
    """
    p, t = _maps(pred, "pred"), _maps(true, "true")
    if p.shape != t.shape:
        raise ValueError(f"pred and true must have the same shape, got {np.shape(pred)} and {np.shape(true)}")
    ious, n_pred, n_true = [], 0, 0
    for a, b in zip(p, t):
        kept, n_p, n_t = match_instances(a, b, threshold)
        ious.append(kept)
        n_pred, n_true = n_pred + n_p, n_true + n_t
    ious = np.concatenate(ious)
    precision = len(ious) / n_pred if n_pred else 0.0
    recall = len(ious) / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "mean_iou": float(ious.mean()) if len(ious) else 0.0,
            "matched": len(ious), "predicted": n_pred, "true": n_true}


def instance_targets(instances, sigma: float = 2.0) -> torch.Tensor:
    """The per-pixel targets of the learned method, shape (N, 4, S, S).

    Channel 0: 1 on object pixels; channel 1: a heatmap of the objects' centres (the mean
    position of each object's pixels), the largest of the Gaussians of width ``sigma`` pixels
    around them; channels 2 and 3: the offset (rows, columns) from each object pixel to its
    object's centre, in units of :data:`OFFSET_SCALE` pixels (0 on the background).

    Examples
    --------
    >>> t = instance_targets(np.array([[[1, 1, 1, 0]]]))
    >>> t.shape, t[0, 0].tolist(), (t[0, 3, 0] * OFFSET_SCALE).tolist(), float(t[0, 1, 0, 1])
    (torch.Size([1, 4, 1, 4]), [[1.0, 1.0, 1.0, 0.0]], [1.0, 0.0, -1.0, 0.0], 1.0)
    """
    inst = _maps(instances, "instances")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma > 0:
        raise ValueError(f"sigma must be a positive number of pixels, got {sigma!r}")
    n, h, w = inst.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(float)
    out = np.zeros((n, 4, h, w), dtype=np.float32)
    for k, m in enumerate(inst):
        out[k, 0] = m > 0
        for obj in np.unique(m[m > 0]):
            inside = m == obj
            cy, cx = rows[inside].mean(), cols[inside].mean()
            out[k, 1] = np.maximum(out[k, 1], np.exp(-((rows - cy) ** 2 + (cols - cx) ** 2) / (2 * sigma ** 2)))
            out[k, 2][inside] = (cy - rows[inside]) / OFFSET_SCALE
            out[k, 3][inside] = (cx - cols[inside]) / OFFSET_SCALE
    return torch.from_numpy(out)


def instance_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss of the learned method: outputs and targets of shape (B, 4, S, S).

    The binary cross-entropy of the object logits (channel 0) and of the centre-heatmap
    logits (channel 1, against the soft Gaussian targets, centre pixels weighted up), plus the
    mean absolute error of the offsets (channels 2, 3) over the object pixels only.

    Examples
    --------
    >>> t = instance_targets(np.array([[[1, 1, 0, 2]]]))
    >>> float(instance_loss(torch.zeros(1, 4, 1, 4), t)) > 0
    True
    """
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 4 or outputs.shape[1] != 4 or outputs.shape != targets.shape:
        raise ValueError(f"outputs and targets must be tensors of the same shape (B, 4, S, S), got "
                         f"{tuple(getattr(outputs, 'shape', ()))} and {tuple(getattr(targets, 'shape', ()))}")
    objects = targets[:, 0]
    mask_loss = F.binary_cross_entropy_with_logits(outputs[:, 0], objects)
    heat = targets[:, 1]
    heat_loss = F.binary_cross_entropy_with_logits(outputs[:, 1], heat, weight=1 + 9 * heat)
    offset_error = (outputs[:, 2:] - targets[:, 2:]).abs().sum(1)
    offset_loss = (offset_error * objects).sum() / objects.sum().clamp(min=1)
    return mask_loss + heat_loss + offset_loss


def group_instances(outputs, *, objects=None, peak: float = 0.3, radius: int = 1) -> np.ndarray:
    """Instance maps from the learned method's outputs: each object pixel goes to the nearest centre.

    Centres are the local maxima (over ``(2 radius + 1)^2`` pixels) of the centre heatmap
    above ``peak``; each object pixel (object probability > 0.5, or ``objects`` when given)
    points, by its predicted offset, to a position, and joins the centre nearest to it. Object
    pixels of an image without any centre form one instance.

    Parameters
    ----------
    outputs : Tensor, shape (N, 4, S, S)
        Logits of object and centre, then the offsets (as :func:`instance_targets`).
    objects : array_like of bool, shape (N, S, S), optional
        Use these object pixels (e.g. a true semantic mask) instead of the predicted ones.
    peak : float, default 0.3
        Smallest heatmap probability of a centre.
    radius : int, default 1

    Returns
    -------
    ndarray of int64, shape (N, S, S)

    Examples
    --------
    >>> t = instance_targets(np.array([[[1, 1, 1, 0, 0, 2, 2, 2]]]))
    >>> logits = torch.logit(t.clamp(1e-4, 1 - 1e-4))  # a perfect prediction, as logits
    >>> logits[:, 2:] = t[:, 2:]
    >>> group_instances(logits).tolist()
    [[[1, 1, 1, 0, 0, 2, 2, 2]]]
    """
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 4 or outputs.shape[1] != 4:
        raise ValueError(f"outputs must be a tensor of shape (N, 4, S, S), got {tuple(getattr(outputs, 'shape', ()))}")
    outputs = outputs.detach().float().cpu()
    n, _, h, w = outputs.shape
    if objects is None:
        on = (torch.sigmoid(outputs[:, 0]) > 0.5).numpy()
    else:
        on = as_array(objects, "objects", ndim=3).astype(bool)
        if on.shape != (n, h, w):
            raise ValueError(f"objects must have shape {(n, h, w)}, got {on.shape}")
    heat = torch.sigmoid(outputs[:, 1:2])
    peaks = (heat == F.max_pool2d(heat, 2 * radius + 1, 1, radius)) & (heat > peak)
    rows, cols = np.mgrid[0:h, 0:w].astype(float)
    offsets = outputs[:, 2:].numpy() * OFFSET_SCALE
    out = np.zeros((n, h, w), dtype=np.int64)
    for k in range(n):
        centres = np.argwhere(peaks[k, 0].numpy()).astype(float)
        pixels = on[k]
        if not pixels.any():
            continue
        if len(centres) == 0:
            out[k][pixels] = 1
            continue
        votes = np.stack([rows[pixels] + offsets[k, 0][pixels], cols[pixels] + offsets[k, 1][pixels]], 1)
        nearest = ((votes[:, None] - centres[None]) ** 2).sum(2).argmin(1)
        out[k][pixels] = nearest + 1
    return out
