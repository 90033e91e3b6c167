"""Network explorer: draw a digit and watch every layer of a trained CNN respond (Section 6.4).

:func:`network_explorer` packs a small trained network (a ``Sequential`` of ``Conv2d``,
``ReLU``/``Tanh``, ``MaxPool2d``/``AvgPool2d``, ``Flatten`` and ``Linear`` layers, such as
:func:`cnnlib.models.lenet5`) into an anywidget: the layer list as JSON and the weights as
base64-encoded little-endian float32. The forward pass, the drawing and the arithmetic all
run in the browser (``cnnlib/widgets/network_explorer.js``), so the explorer keeps working in
the static book with no kernel. :func:`network_figure` draws the same layers with matplotlib,
for print and for readers without JavaScript; :func:`pick_examples` chooses the test digits
the explorer offers (some of them misclassified).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*, Chapter 6,
Eq. (6.14) (one output of a convolutional layer) and Section 6.4 (receptive fields).

Z. J. Wang et al., "CNN Explainer: learning convolutional neural networks with interactive
visualization", IEEE TVCG, 2021 (the web app that inspired this explorer).
"""
from __future__ import annotations

import base64

import anywidget
import numpy as np
import traitlets

from ..shapes import leaves as named_leaves
from .._validation import nonnegative_int, pair
from ._esm import esm_source

__all__ = ["NetworkExplorer", "network_explorer", "network_figure", "pick_examples", "network_spec",
           "normalize_digit", "layer_stages", "as_images_labels", "SUPPORTED_LAYERS", "MAX_EXAMPLES", "ESM_FILES"]

#: The layer classes the explorer runs in JavaScript (anything else raises ``ValueError``).
SUPPORTED_LAYERS = ("Conv2d", "ReLU", "Tanh", "MaxPool2d", "AvgPool2d", "Flatten", "Linear")
#: At most this many example digits are embedded in the page.
MAX_EXAMPLES = 64
#: The input the explorer draws on: one channel of 28 x 28 pixels in [0, 1] (MNIST's size).
INPUT_SHAPE = (1, 28, 28)
#: The explorer's ES module, in three files put together in this order after widget_kit.js: the
#: network (forward pass, receptive fields, top patches), drawing, and the widget itself.
ESM_FILES = ("network_explorer_net.js", "network_explorer_draw.js", "network_explorer.js")


def _area_weights(n: int, m: int) -> np.ndarray:
    """(m, n): the share of each of n source pixels in each of m target pixels covering the same length."""
    scale = m / n
    lo, hi = np.arange(m)[:, None] / scale, (np.arange(m)[:, None] + 1) / scale
    y = np.arange(n)[None, :]
    return np.clip(np.minimum(hi, y + 1) - np.maximum(lo, y), 0, None) * scale


def normalize_digit(image, *, box: int = 20) -> np.ndarray:
    """A drawn digit normalised the way MNIST's digits were: 20 x 20 box, centre of mass at the centre.

    The ink's bounding box is scaled, keeping its aspect ratio, so that its longer side is
    ``box`` pixels (each new pixel the area average of what it covers), then placed in the
    frame with its centre of mass at the centre, moved as little as needed to stay inside.
    The explorer's JavaScript (``normalizeDigit``) does the same to the reader's drawing
    before the network sees it.

    Parameters
    ----------
    image : ndarray, shape (28, 28) or (1, 28, 28)
        Ink in [0, 1] (0 is background).
    box : int, default 20

    Returns
    -------
    ndarray, shape like ``image``, float32

    Examples
    --------
    >>> x = np.zeros((28, 28)); x[0:4, 0:2] = 1.0          # a small mark in the corner
    >>> y = normalize_digit(x)
    >>> [int(v) for v in np.argwhere(y > 0).min(0)], [int(v) for v in np.argwhere(y > 0).max(0)]
    ([4, 9], [23, 18])
    """
    x = np.asarray(image, dtype=float)
    frame = x.reshape(x.shape[-2:])
    size = frame.shape[0]
    out = np.zeros_like(frame)
    rows, cols = np.nonzero(frame > 0)
    if len(rows):
        crop = frame[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        h, w = crop.shape
        scale = box / max(h, w)
        H, W = max(1, int(np.floor(h * scale + 0.5))), max(1, int(np.floor(w * scale + 0.5)))  # as JS Math.round
        small = _area_weights(h, H) @ crop @ _area_weights(w, W).T
        mass = small.sum()
        cy = (small.sum(1) @ (np.arange(H) + 0.5)) / mass
        cx = (small.sum(0) @ (np.arange(W) + 0.5)) / mass
        oy = int(min(max(np.floor(size / 2 - cy + 0.5), 0), size - H))
        ox = int(min(max(np.floor(size / 2 - cx + 0.5), 0), size - W))
        out[oy:oy + H, ox:ox + W] = np.minimum(small, 1)
    return out.reshape(x.shape).astype(np.float32)


def _encode(arrays) -> str:
    """The arrays concatenated as little-endian float32, base64-encoded."""
    flat = np.concatenate([np.asarray(a, dtype="<f4").ravel() for a in arrays]) if arrays else np.zeros(0, "<f4")
    return base64.b64encode(flat.tobytes()).decode("ascii")


def _pool_spec(name, kind, layer):
    if layer.padding not in (0, (0, 0)):
        raise ValueError(f"layer {name} ({kind}) has padding={layer.padding!r}; network_explorer runs pools "
                         "without padding (padding=0)")
    if getattr(layer, "ceil_mode", False):
        raise ValueError(f"layer {name} ({kind}) has ceil_mode=True; network_explorer runs pools with ceil_mode=False")
    if getattr(layer, "dilation", 1) not in (1, (1, 1)):
        raise ValueError(f"layer {name} ({kind}) has dilation={layer.dilation!r}; network_explorer runs pools "
                         "without dilation (dilation=1)")
    if getattr(layer, "divisor_override", None) is not None:
        raise ValueError(f"layer {name} ({kind}) has divisor_override={layer.divisor_override!r}; "
                         "network_explorer averages over the window (divisor_override=None)")
    stride = layer.stride if layer.stride not in (None, ()) else layer.kernel_size
    return {"kind": "maxpool" if kind == "MaxPool2d" else "avgpool",
            "kernel": list(pair(layer.kernel_size, "kernel_size")), "stride": list(pair(stride, "stride"))}


def _conv_spec(name, layer):
    if layer.groups != 1:
        raise ValueError(f"layer {name} (Conv2d) has groups={layer.groups}; network_explorer runs groups=1 only")
    if layer.padding_mode != "zeros":
        raise ValueError(f"layer {name} (Conv2d) has padding_mode={layer.padding_mode!r}; network_explorer "
                         "pads with zeros only")
    kernel = list(pair(layer.kernel_size, "kernel_size"))
    dilation = list(pair(layer.dilation, "dilation"))
    padding = layer.padding
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        spans = [d * (k - 1) for d, k in zip(dilation, kernel)]
        if any(s % 2 for s in spans):
            raise ValueError(f"layer {name} (Conv2d) has padding='same' with an even dilated kernel, which pads "
                             "one side more than the other; network_explorer needs equal padding on both sides")
        padding = tuple(s // 2 for s in spans)
    return {"kind": "conv", "in_channels": layer.in_channels, "out_channels": layer.out_channels,
            "kernel": kernel, "stride": list(pair(layer.stride, "stride")),
            "padding": list(pair(padding, "padding", minimum=0)), "dilation": dilation}


def network_spec(model):
    """The explorer's description of ``model``: a list of layer dicts and the weights in float32.

    Parameters
    ----------
    model : torch.nn.Module
        A ``Sequential`` (nested ones are flattened) of the layers in :data:`SUPPORTED_LAYERS`
        that maps a ``(1, 1, 28, 28)`` image to a vector of class scores (logits).

    Returns
    -------
    layers : list of dict
        One dict per layer, in order: ``name`` (dotted, e.g. ``'features.conv1'``), ``kind``
        (``'conv'``, ``'relu'``, ``'tanh'``, ``'maxpool'``, ``'avgpool'``, ``'flatten'``,
        ``'linear'``), ``shape`` (the output's shape without the batch axis), the geometry
        (``kernel``, ``stride``, ``padding``, ``dilation``) and, for layers with parameters,
        ``weight`` and ``bias``: ``[offset, length]`` into ``weights``.
    weights : numpy.ndarray
        Every parameter, float32, in the order of the layers (weight then bias).

    Raises
    ------
    ValueError
        A layer the explorer cannot run (named, with its class), a pool or convolution
        setting it does not handle, or a model that does not take a 1 x 28 x 28 image to a vector.
    TypeError
        ``model`` is not a ``torch.nn.Module``.

    Examples
    --------
    >>> from cnnlib import models
    >>> layers, weights = network_spec(models.lenet5())
    >>> [(l["name"], l["shape"]) for l in layers[:3]]
    [('features.conv1', [6, 28, 28]), ('features.relu1', [6, 28, 28]), ('features.pool1', [6, 14, 14])]
    >>> layers[0]["weight"], layers[0]["bias"], weights.size
    ([0, 150], [150, 6], 61706)
    """
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (a Sequential of layers), got {type(model).__name__}")
    leaves = list(named_leaves(model))
    if not leaves or leaves == [("", model)]:
        raise ValueError(f"model must be a Sequential of layers, got a single {type(model).__name__}")
    layers, params, offset = [], [], 0
    for name, layer in leaves:
        kind = type(layer).__name__
        if kind not in SUPPORTED_LAYERS:
            raise ValueError(f"layer {name} ({kind}) is not supported by network_explorer; it runs "
                             f"{', '.join(SUPPORTED_LAYERS)} layers")
        if kind == "Conv2d":
            spec = _conv_spec(name, layer)
        elif kind in ("MaxPool2d", "AvgPool2d"):
            spec = _pool_spec(name, kind, layer)
        elif kind == "Flatten":
            if (layer.start_dim, layer.end_dim) != (1, -1):
                raise ValueError(f"layer {name} (Flatten) has start_dim={layer.start_dim}, end_dim={layer.end_dim}; "
                                 "network_explorer flattens everything but the batch axis (1, -1)")
            spec = {"kind": "flatten"}
        elif kind == "Linear":
            spec = {"kind": "linear", "in_features": layer.in_features, "out_features": layer.out_features}
        else:
            spec = {"kind": kind.lower()}
        spec = {"name": name, **spec}
        for pname in ("weight", "bias"):
            p = getattr(layer, pname, None)
            if isinstance(p, torch.Tensor):
                values = p.detach().to("cpu", torch.float32).numpy().ravel()
                spec[pname] = [offset, int(values.size)]
                params.append(values)
                offset += values.size
        layers.append(spec)
    shapes = _output_shapes(model, [layer for _, layer in leaves])
    for spec, shape in zip(layers, shapes):
        spec["shape"] = list(shape)
    if len(shapes[-1]) != 1:
        raise ValueError(f"model must end with a vector of class scores, but its last layer gives shape "
                         f"{tuple(shapes[-1])}")
    weights = np.concatenate(params).astype(np.float32) if params else np.zeros(0, np.float32)
    return layers, weights


def _output_shapes(model, leaves):
    """Output shape (without the batch axis) of every leaf for one 1 x 28 x 28 image."""
    import torch

    shapes = {}
    handles = [leaf.register_forward_hook(lambda m, i, o, k=k: shapes.__setitem__(k, tuple(o.shape[1:])))
               for k, leaf in enumerate(leaves)]
    try:
        with torch.no_grad():
            device = next((p.device for p in model.parameters()), torch.device("cpu"))
            model(torch.zeros(1, *INPUT_SHAPE, device=device))
    except RuntimeError as exc:
        raise ValueError(f"model must take a 1 x 28 x 28 image (the explorer's canvas): "
                         f"{str(exc).splitlines()[0]}") from None
    finally:
        for h in handles:
            h.remove()
    if len(shapes) != len(leaves):
        raise ValueError("model must run its layers in order, each once (a Sequential); "
                         f"{len(leaves) - len(shapes)} of its layers did not run")
    return [shapes[k] for k in range(len(leaves))]


def as_images_labels(examples, name="examples"):
    """``examples`` (a dataset with ``.images``/``.labels`` or a pair) as (N, 28, 28) floats and N ints."""
    import torch

    if hasattr(examples, "images") and hasattr(examples, "labels"):
        images, labels = examples.images, examples.labels
    elif isinstance(examples, (tuple, list)) and len(examples) == 2:
        images, labels = examples
    else:
        raise TypeError(f"{name} must be a dataset with .images and .labels (such as data.load_mnist's) "
                        f"or a pair (images, labels), got {type(examples).__name__}")
    images = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    labels = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    images = images.astype(np.float64)
    given = images.shape
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[1:] != INPUT_SHAPE[1:]:
        raise ValueError(f"{name} images must have shape (N, 1, 28, 28) or (N, 28, 28), got {given}")
    if labels.shape != (len(images),):
        raise ValueError(f"{name} must have one label per image: {len(images)} images, labels of shape {labels.shape}")
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"{name} images must have values in [0, 1], got [{images.min():g}, {images.max():g}]")
    return images, labels.astype(int)


class NetworkExplorer(anywidget.AnyWidget):
    """A trained network running in the page: draw a digit, watch every layer, click a unit.

    The reader draws on a 28 x 28 canvas (mouse, pen or finger), picks one of the embedded
    example digits, or clears the canvas. Every layer is redrawn at each stroke: the channels
    of convolutional and pooling layers as heat maps (with the activation that follows a
    layer folded into it), dense layers as bars, and the class probabilities (softmax of the
    last layer). Clicking a unit outlines its receptive field on the input and shows what
    produced it: for a convolution, the kernel and the input patch of each input channel and
    the numbers of Eq. (6.14) (one input channel) or (6.20) (summed over several, plus the bias); for a pool, the
    window; for a dense layer, its largest terms. The explanation starts with a zoom of the
    unit's neighbourhood, squares of 30 px that a finger can choose on a phone
    (``.cnnlib-network-zoom-cell``), and, when ``patches`` are embedded, the favourite patches
    of the unit's channel in the training set (``.cnnlib-network-patches``). The root element
    has the CSS class ``cnnlib-network``; the prediction is written to ``.cnnlib-network-prediction``.

    Attributes
    ----------
    layers : list of dict
        :func:`network_spec`'s layer list.
    weights : str
        The parameters, little-endian float32, base64-encoded.
    examples : list of dict
        ``{"label": int, "pixels": base64 of 784 uint8 (value * 255)}`` per example digit.
    example : int
        The example shown first (``-1``: an empty canvas).
    selected : list of int
        The unit whose inputs are shown: ``[layer index, channel, row, column]`` (``[]``: none).
    patches : dict
        :func:`cnnlib.widgets.top_patches`: each channel's favourite patches of a set of digits
        (``{}``: none shown).
    """

    _esm = traitlets.Unicode(esm_source(*ESM_FILES)).tag(sync=True)
    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    weights = traitlets.Unicode("").tag(sync=True)
    examples = traitlets.List(traitlets.Dict()).tag(sync=True)
    example = traitlets.Int(-1).tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    patches = traitlets.Dict().tag(sync=True)

    @traitlets.validate("example")
    def _valid_example(self, proposal):
        value = proposal["value"]
        if not -1 <= value < len(self.examples):
            raise ValueError(f"example must be -1 (empty canvas) or an index below {len(self.examples)}, got {value}")
        return value

    @traitlets.validate("patches")
    def _valid_patches(self, proposal):
        value = proposal["value"]
        if value and not {"source", "count", "data", "layers"} <= set(value):
            raise ValueError("patches must be {} or what widgets.top_patches returns (keys source, count, data, "
                             f"layers), got keys {sorted(value)}")
        return value

    @traitlets.validate("selected")
    def _valid_selected(self, proposal):
        value = list(proposal["value"])
        if value and (len(value) != 4 or min(value) < 0 or value[0] >= len(self.layers)):
            raise ValueError("selected must be [] or [layer index, channel, row, column] with a layer index below "
                             f"{len(self.layers)}, got {value}")
        return value

    def payload_bytes(self) -> int:
        """Characters the weights, layer list, examples and patches add to the page (the ES module not counted)."""
        import json

        return len(self.weights) + sum(len(json.dumps(x)) for x in (self.layers, self.examples, self.patches))


def network_explorer(model, examples=None, *, example: int = 0, patches=None) -> NetworkExplorer:
    """Build the network explorer for a trained ``model`` (LeNet-5 on MNIST in the book).

    Parameters
    ----------
    model : torch.nn.Module
        A ``Sequential`` (nested ones flattened) of ``Conv2d``, ``ReLU``/``Tanh``,
        ``MaxPool2d``/``AvgPool2d``, ``Flatten`` and ``Linear`` layers that maps a
        1 x 28 x 28 image with values in [0, 1] to class scores; any other layer raises
        ``ValueError`` naming it. Its weights are copied; it is not changed.
    examples : dataset or (images, labels), optional
        Digits the reader can pick (at most :data:`MAX_EXAMPLES`), images ``(N, 1, 28, 28)``
        or ``(N, 28, 28)`` in [0, 1]; :func:`pick_examples` chooses some from a test set.
        ``None``: the reader only draws.
    example : int, default 0
        The example shown first (ignored without examples).
    patches : dict, optional
        :func:`cnnlib.widgets.top_patches` of ``model`` on a set of digits (the training set in
        the book): a clicked unit then shows its channel's favourite patches.

    Returns
    -------
    NetworkExplorer

    Notes
    -----
    The weights travel as base64 of float32: 4 bytes per parameter and 4/3 for base64, so
    LeNet-5's 61,706 parameters add 329,100 characters to the page (a JSON list of the same
    numbers, printed in full, takes about four times as much). Each example digit adds about
    1 kB, and the ES module about 29 kB.

    Examples
    --------
    >>> from cnnlib import models
    >>> w = network_explorer(models.lenet5())
    >>> len(w.weights) == 4 * ((4 * 61706 + 2) // 3)
    True
    >>> [layer["kind"] for layer in w.layers][:6]
    ['conv', 'relu', 'maxpool', 'conv', 'relu', 'maxpool']
    """
    layers, weights = network_spec(model)
    items = []
    if examples is not None:
        images, labels = as_images_labels(examples)
        if not 1 <= len(images) <= MAX_EXAMPLES:
            raise ValueError(f"examples must hold 1 to {MAX_EXAMPLES} digits (each adds about 1 kB to the page), "
                             f"got {len(images)}")
        for image, label in zip(images, labels):
            pixels = np.rint(image * 255).astype(np.uint8)
            items.append({"label": int(label), "pixels": base64.b64encode(pixels.tobytes()).decode("ascii")})
    start = -1 if not items else nonnegative_int(example, "example")
    if start >= len(items) and items:
        raise ValueError(f"example must be an index below {len(items)} (the number of examples), got {example}")
    return NetworkExplorer(layers=layers, weights=_encode([weights]), examples=items, example=start,
                           patches=patches or {})


def pick_examples(model, dataset, *, per_class: int = 1, misclassified: int = 8, device=None):
    """Test digits for the explorer: the first ``per_class`` correctly classified of each class,
    then the first ``misclassified`` that the model gets wrong.

    Parameters
    ----------
    model : torch.nn.Module
        The trained classifier.
    dataset : dataset with ``.images`` (N, 1, 28, 28) and ``.labels``, or a pair (images, labels)
    per_class : int, default 1
    misclassified : int, default 8
        At most this many misclassified digits (fewer when the model makes fewer mistakes).
    device : optional
        Where to run the model (see :func:`cnnlib.train.predict`).

    Returns
    -------
    (images, labels) : tuple of torch.Tensor
        ``(n, 1, 28, 28)`` float32 and ``(n,)`` int64, correctly classified digits first,
        sorted by class, then the misclassified ones.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> images = torch.rand(40, 1, 28, 28); labels = torch.arange(40) % 4
    >>> always_two = nn.Sequential(nn.Flatten(), nn.Linear(784, 4))
    >>> with torch.no_grad():
    ...     _ = always_two[1].weight.zero_(); _ = always_two[1].bias.copy_(torch.tensor([0., 0, 1, 0]))
    >>> x, y = pick_examples(always_two, (images, labels), misclassified=3)
    >>> y.tolist()
    [2, 0, 1, 3]
    """
    import torch

    from .. import train

    per_class = nonnegative_int(per_class, "per_class")
    misclassified = nonnegative_int(misclassified, "misclassified")
    images, labels = as_images_labels(dataset, "dataset")
    X = torch.as_tensor(images, dtype=torch.float32)[:, None]
    y = torch.as_tensor(labels)
    predicted = train.predict(model, (X, y), device=device).cpu()
    right = [i for c in sorted(set(labels.tolist()))
             for i in torch.nonzero((y == c) & (predicted == y)).flatten()[:per_class].tolist()]
    wrong = torch.nonzero(predicted != y).flatten()[:misclassified].tolist()
    index = torch.tensor(right + wrong, dtype=torch.long)
    if len(index) > MAX_EXAMPLES:
        raise ValueError(f"per_class={per_class} and misclassified={misclassified} pick {len(index)} digits, more "
                         f"than the explorer's {MAX_EXAMPLES}")
    return X[index], y[index]


def layer_stages(layers):
    """Group the layers as the explorer draws them: each conv, pool or linear layer with the
    activations that follow it. Returns a list of (index of the first layer, of the last, title)."""
    stages = []
    for k, spec in enumerate(layers):
        short = spec["name"].rsplit(".", 1)[-1]
        if spec["kind"] in ("relu", "tanh") and stages and stages[-1][3]:
            first, _, title, _ = stages[-1]
            stages[-1] = (first, k, f"{title} + {spec['kind'].replace('relu', 'ReLU')}", False)
        elif spec["kind"] != "flatten":
            stages.append((k, k, short, spec["kind"] in ("conv", "linear")))
    return [(first, last, title) for first, last, title, _ in stages]


def network_figure(model, image, *, unit=None, label=None):
    """Static picture of every layer of ``model`` on one image (the network explorer's counterpart).

    Parameters
    ----------
    model : torch.nn.Module
        As for :func:`network_explorer`.
    image : array or tensor of shape (28, 28) or (1, 28, 28), values in [0, 1]
    unit : (str, int, int, int), optional
        ``(layer name, channel, row, column)`` of a unit of a convolutional or pooling layer
        (short names such as ``'conv2'`` work); its receptive field is outlined on the input,
        as a click does in the explorer.
    label : int, optional
        The true class, shown in the input's title.

    Returns
    -------
    matplotlib.figure.Figure
        One row per drawn layer (each conv or pool layer with the activation that follows
        it, one heat map per channel, 6 to a row and at most 16; dense layers as bars), the
        input first and the class probabilities last. Axes titles name the layers. The figure
        is about 4.9 inches wide with text of 10 pt, so that shown in a phone's 342 px column
        its text is still about 9.5 px tall.

    Examples
    --------
    >>> import torch
    >>> from cnnlib import models
    >>> _ = torch.manual_seed(0); fig = network_figure(models.lenet5(), torch.rand(28, 28), unit=("conv2", 0, 2, 3))
    >>> fig.axes[0].get_title(loc="left")
    'input\\nfield of conv2 + ReLU[0, 2, 3]:\\nrows 2-15, columns 4-17'
    """
    import matplotlib.pyplot as plt
    import torch
    from matplotlib.patches import Rectangle

    from ..shapes import receptive_field

    layers, _ = network_spec(model)
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))
    if x.shape not in ((28, 28), (1, 28, 28)):
        raise ValueError(f"image must have shape (28, 28) or (1, 28, 28), got {tuple(x.shape)}")
    x = x.reshape(1, *INPUT_SHAPE)
    leaves = [m for _, m in named_leaves(model)]
    outputs = []
    with torch.no_grad():
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        h = x.to(device)
        for leaf in leaves:
            h = leaf(h)
            outputs.append(h[0].cpu().numpy())
    stages = [(last, title) for _, last, title in layer_stages(layers)]
    field_title = ""
    if unit is not None:
        try:
            uname, channel, row, col = unit
        except (TypeError, ValueError):
            raise TypeError(f"unit must be (layer name, channel, row, column), got {unit!r}") from None
        names = {spec["name"]: k for k, spec in enumerate(layers)}
        names.update({spec["name"].rsplit(".", 1)[-1]: k for k, spec in enumerate(layers)})
        if uname not in names or layers[names[uname]]["kind"] not in ("conv", "maxpool", "avgpool"):
            raise ValueError(f"unit's layer must name a convolution or pooling layer of the model "
                             f"({[s['name'] for s in layers if s['kind'] in ('conv', 'maxpool', 'avgpool')]}), "
                             f"got {uname!r}")
        shape = layers[names[uname]]["shape"]
        if not (0 <= channel < shape[0] and 0 <= row < shape[1] and 0 <= col < shape[2]):
            raise ValueError(f"unit {tuple(unit)} is outside layer {uname}'s output of shape {tuple(shape)}")
        rows = receptive_field(model, INPUT_SHAPE)
        (top, bottom), (left, right) = rows[names[uname] + 1].bounds(row, col)
        top, left, bottom, right = max(top, 0), max(left, 0), min(bottom, 27), min(right, 27)
        unit_stage, stage_title = next((k, t) for k, t in stages if k >= names[uname])
        field_title = (f"\nfield of {stage_title}[{channel}, {row}, {col}]:\nrows {top}-{bottom}, "
                       f"columns {left}-{right}")
    # At most 6 maps a row (conv1's six channels in one row, 16 channels in three rows) and text of 10 pt
    # on a figure about 4.9 inches wide (each stage titled above its first row): shown in a phone's 342 px
    # column (390 px browser) its text is still about 9.5 px tall, and on a 1280 px page, at its natural size, 14 px (issue 21).
    widths = [max(1, layers[k]["shape"][0]) if len(layers[k]["shape"]) == 3 else 1 for k, _ in stages]
    ncols = min(6, max(widths))
    spans = [-(-min(w, 16) // ncols) for w in widths]
    ratios = [2.6] + [r for (k, _), n in zip(stages, spans)
                      for r in ([1.0] * n if len(layers[k]["shape"]) == 3 else [1.5])]
    fig = plt.figure(figsize=(0.75 * ncols + 0.4, 0.85 * sum(ratios) + 0.4), layout="constrained")
    grid = fig.add_gridspec(len(ratios), ncols, height_ratios=ratios)
    ax = fig.add_subplot(grid[0, :max(1, ncols // 2)])          # half the width: room for the title
    ax.imshow(x[0, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(("input" if label is None else f"input (label {label})") + field_title, fontsize=10, loc="left")
    ax.axis("off")
    if unit is not None:
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=False,
                               edgecolor="C1", lw=2))
    first_row = 1
    for (k, title), n in zip(stages, spans):
        out = outputs[k]
        if out.ndim == 3:
            vmax = max(float(np.abs(out).max()), 1e-12)
            signed = out.min() < 0
            for c in range(min(out.shape[0], 16)):
                ax = fig.add_subplot(grid[first_row + c // ncols, c % ncols])
                ax.imshow(out[c], cmap="RdBu_r" if signed else "Blues", vmin=-vmax if signed else 0, vmax=vmax)
                ax.set_xticks([])
                ax.set_yticks([])
                if c < ncols:  # a blank title keeps room above the stage's first row for its name, which
                    ax.set_title(" ", fontsize=10)   # runs over several maps and so stays out of the layout
                if c == 0:
                    ax.text(0, 1.06, f"{title}: {' × '.join(map(str, out.shape))}", transform=ax.transAxes,
                            fontsize=10, va="bottom").set_in_layout(False)
                if unit is not None and k == unit_stage and c == channel:
                    ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="C1", lw=1.5))
        else:
            last = k == len(layers) - 1
            values = torch.softmax(torch.as_tensor(out), 0).numpy() if last else out
            ax = fig.add_subplot(grid[first_row, :])
            colors = ["C1" if last and j == values.argmax() else "C0" for j in range(len(values))]
            ax.bar(np.arange(len(values)), values, color=colors, width=0.8)
            ax.set_xlim(-0.7, len(values) - 0.3)
            ax.set_title(f"{title} → softmax: prediction {int(values.argmax())} (p = {values.max():.2f})" if last
                         else f"{title}: {len(values)} values", fontsize=10, loc="left")
            ax.tick_params(labelsize=10)
            if last:
                ax.set_xticks(range(len(values)))
                ax.set_ylim(0, 1)
        first_row += n
    return fig
