"""The network explorer's favourite patches: for every channel that the explorer draws, the
digits of a set (the training set in the book) that excite it most, cut to the receptive field of
the winning unit, precomputed here and embedded in the widget (Section 6.4.6).

For a channel of a convolutional or pooling layer (with the activation that follows it), the
quantity is the chapter's :math:`\\eta`, the largest value of the channel's map over all
positions, and the patch is the receptive field of the unit where it is reached (the part outside
the image is the zero padding that the first convolution sees); for a dense unit, the value
itself and the whole digit. Only digits on which the unit is positive are kept, so a channel that
answers to few digits shows fewer patches rather than digits it ignores.

The pixels travel as uint8 (255: ink), zlib-compressed and base64-encoded; a digit that is the
favourite of several dense units is stored once. The browser unpacks them with its
``DecompressionStream``.
"""
from __future__ import annotations

import base64
import json
import zlib

import numpy as np

from .._validation import positive_int
from ..shapes import receptive_field
from ._network import INPUT_SHAPE, layer_stages, network_spec

__all__ = ["top_patches", "PATCH_BUDGET"]

#: At most this many characters of patches are embedded in a page (about 300 kB).
PATCH_BUDGET = 300_000


def _digits(dataset):
    """``dataset`` (``.images`` or a tensor/array) as a float32 tensor (N, 1, 28, 28) in [0, 1]."""
    import torch

    images = dataset.images if hasattr(dataset, "images") else dataset
    if not isinstance(images, (torch.Tensor, np.ndarray)):
        raise TypeError(f"dataset must be a dataset with .images (such as data.mnist_splits' training set) or "
                        f"images (N, 1, 28, 28), got {type(dataset).__name__}")
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or tuple(x.shape[1:]) != INPUT_SHAPE or len(x) == 0:
        raise ValueError(f"dataset images must have shape (N, 1, 28, 28) with N >= 1, got {tuple(images.shape)}")
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        raise ValueError(f"dataset images must have values in [0, 1], got [{low:g}, {high:g}]")
    return x


def _best(values, k):
    """Indices of the k largest values, largest first (the smaller index first on ties)."""
    if len(values) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        candidates = np.flatnonzero(values >= kth)
    else:
        candidates = np.arange(len(values))
    return candidates[np.argsort(-values[candidates], kind="stable")][:k]


def top_patches(model, dataset, *, k: int = 9, dense_k: int = 6, source: str | None = None,
                budget: int = PATCH_BUDGET, batch_size: int = 1000) -> dict:
    """Each drawn channel's favourite patches of ``dataset``, ready for :func:`network_explorer`.

    Parameters
    ----------
    model : torch.nn.Module
        As for :func:`network_explorer` (LeNet-5 in the book).
    dataset : dataset with ``.images`` (N, 1, 28, 28), or images (N, 1, 28, 28) or (N, 28, 28)
        Values in [0, 1]; the book passes the training set.
    k : int, default 9
        Patches per channel of a convolutional or pooling layer (Figure 6.12 shows nine).
    dense_k : int, default 6
        Whole digits per unit of a dense layer (they cost 784 bytes each, a patch of conv2 196).
    source : str, optional
        How the explorer names the digits, e.g. ``'the 55,000 training digits'`` (default:
        ``'N digits'``).
    budget : int, default :data:`PATCH_BUDGET`
        Most characters the result may add to the page.
    batch_size : int, default 1000

    Returns
    -------
    dict
        ``source``, ``count`` (N), ``data`` (base64 of the zlib-compressed uint8 pixels) and
        ``layers``: for each drawn stage, keyed by the index (a string) of its first layer in
        :func:`network_spec`, ``{"name", "rows", "cols", "positive", "units"}``: the field's size,
        per channel the number of digits on which it is positive, and per channel a list of
        ``[offset, rows, cols, value, row, column]`` (best first): where the patch's pixels start
        in the unpacked bytes, its size, the unit's value and the position of the winning unit.

    Raises
    ------
    ValueError
        The result would exceed ``budget`` (lower ``k`` or ``dense_k``), or images of the wrong
        shape or range.

    Examples
    --------
    >>> import torch
    >>> from cnnlib import models
    >>> _ = torch.manual_seed(0); net = models.lenet5()
    >>> p = top_patches(net, torch.rand(50, 1, 28, 28), k=3, dense_k=2)
    >>> sorted(p["layers"]), p["layers"]["3"]["name"], (p["layers"]["3"]["rows"], p["layers"]["3"]["cols"])
    (['0', '11', '2', '3', '5', '7', '9'], 'conv2 + ReLU', (14, 14))
    >>> [len(units) for units in p["layers"]["3"]["units"]][:4]
    [3, 3, 3, 3]
    """
    from .. import inner

    k, dense_k = positive_int(k, "k"), positive_int(dense_k, "dense_k")
    budget = positive_int(budget, "budget")
    images = _digits(dataset)
    layers, _ = network_spec(model)
    stages = layer_stages(layers)
    maxima = inner.activation_maxima(model, [layers[last]["name"] for _, last, _ in stages], images,
                                     batch_size=batch_size)
    fields = receptive_field(model, INPUT_SHAPE)
    pixels = images[:, 0].numpy()                                            # (N, 28, 28)
    chunks, offset, stored = [], 0, {}                                       # stored: digit -> offset

    def put(array):
        nonlocal offset
        chunks.append(array.tobytes())
        offset += array.size
        return offset - array.size

    out = {}
    for first, last, title in stages:
        values, positions = maxima[layers[last]["name"]]
        spatial = len(layers[last]["shape"]) == 3
        field = fields[last + 1] if spatial else None
        rows, cols = (int(field.size[0]), int(field.size[1])) if spatial else INPUT_SHAPE[1:]
        units = []
        for c in range(values.shape[1]):
            order = _best(values[:, c], k if spatial else dense_k)
            entries = []
            for n in order[values[order, c] > 0]:
                i, j = (int(v) for v in positions[n, c])
                digit = np.rint(pixels[n] * 255).astype(np.uint8)
                if spatial:
                    (top, bottom), (left, right) = field.bounds(i, j)
                    framed = np.pad(digit, rows + cols)                  # the zero padding around the digit
                    start = put(framed[top + rows + cols:bottom + 1 + rows + cols,
                                       left + rows + cols:right + 1 + rows + cols])
                else:
                    start = stored[n] if n in stored else stored.setdefault(n, put(digit))
                entries.append([start, rows, cols, float(f"{values[n, c]:.4g}"), i, j])
            units.append(entries)
        out[str(first)] = {"name": title, "rows": rows, "cols": cols,
                           "positive": (values > 0).sum(axis=0).tolist(), "units": units}
    data = base64.b64encode(zlib.compress(b"".join(chunks), 9)).decode("ascii")
    result = {"source": source or f"{len(images):,} digits", "count": len(images), "data": data, "layers": out}
    size = len(json.dumps(result))
    if size > budget:
        raise ValueError(f"the patches add {size:,} characters to the page, more than budget={budget:,}; "
                         f"lower k (got {k}) or dense_k (got {dense_k})")
    return result
