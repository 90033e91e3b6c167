"""Counting parameters and neurons, and the layer table of a network (Sections 6.3, 6.4, Table 6.1).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Eqs. (6.22), (6.23) and Table 6.1.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._tables import render_html, render_markdown, render_text
from ._validation import check_bool, pair, positive_int

__all__ = [
    # Section 6.3: parameter counts
    "conv_params", "dense_params",
    # Section 6.4: layer tables
    "LayerRow", "LayerTable", "layer_table", "trace_leaf_calls",
    # Section 6.5: multiply-accumulates per layer
    "MacRow", "MacTable", "macs",
]


def conv_params(c_in, c_out, kernel_size, bias: bool = True) -> int:
    """Learned parameters of a convolutional layer, Eq. (6.23): ``c_out (c_in K_h K_v + 1)``.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels (the chapter's ``M_c'`` and ``M_c``).
    kernel_size : int or (int, int)
        ``K_h`` or ``(K_h, K_v)``.
    bias : bool, default True
        Whether each output channel has a bias (the ``+ 1``).

    Returns
    -------
    int
        The same count as ``sum(p.numel() for p in nn.Conv2d(c_in, c_out, kernel_size,
        bias=bias).parameters())``.

    Notes
    -----
    Each of the ``c_out`` kernels is a ``c_in x K_h x K_v`` volume plus one bias (Eq. (6.23));
    padding, stride and dilation change no count.

    Examples
    --------
    >>> conv_params(3, 64, 3)  # VGG19's first layer (Table 6.1)
    1792
    >>> conv_params(1, 1, 3)  # the single 3 x 3 kernel of Section 6.3: 9 weights + 1 bias
    10
    """
    c_in, c_out = positive_int(c_in, "c_in"), positive_int(c_out, "c_out")
    K_h, K_v = pair(kernel_size, "kernel_size")
    return c_out * (c_in * K_h * K_v + int(check_bool(bias, "bias")))


def dense_params(n_in, n_out, bias: bool = True) -> int:
    """Learned parameters of a fully connected layer: ``n_in n_out + n_out``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output features.
    bias : bool, default True
        Whether each output has a bias.

    Returns
    -------
    int
        As ``nn.Linear(n_in, n_out, bias=bias)`` counts them.

    Examples
    --------
    >>> dense_params(224 * 224, 222 * 222)  # Section 6.3: a dense layer instead of a 3 x 3 conv
    2472923268
    """
    n_in, n_out = positive_int(n_in, "n_in"), positive_int(n_out, "n_out")
    return n_in * n_out + (n_out if check_bool(bias, "bias") else 0)


# --------------------------------------------------------------------------- layer tables (Section 6.4)

@dataclass(frozen=True)
class LayerRow:
    """One row of :func:`layer_table`: a layer in the sense of Eq. (6.22), or a note.

    Attributes
    ----------
    number : int or None
        Layer number l (0 for the input); None for a note row such as the flattening.
    kind : str
        'Input', 'Convolution', 'Max-pooling', 'Average-pooling', 'Fully connected', or
        the class name of another layer; '+ BatchNorm2d' and the like when a normalization
        was folded into the layer before it.
    output_shape : tuple of int
        Shape of the layer's output without the batch axis, ``(M_c, M_h, M_v)`` or ``(N,)``.
    neurons : int or None
        Number of values in the output (None for the input).
    parameters : int or None
        Learned parameters (None for the input).
    name : str
        Dotted name of the module in the model.
    trainable : bool
        Whether the layer has learned parameters (counted in L_train, else in L_pool).
    """

    number: int | None
    kind: str
    output_shape: tuple
    neurons: int | None
    parameters: int | None
    name: str = ""
    trainable: bool = False


class LayerTable:
    """Table 6.1-style description of a network; prints as text, Markdown or HTML.

    Attributes
    ----------
    rows : list of LayerRow
        Input row, one row per layer, and note rows (the flattening).
    """

    header = ["Layer number", "Type of layer", "Output dimension", "Number of neurons", "Number of learned parameters"]

    def __init__(self, rows):
        self.rows = list(rows)

    @property
    def layers(self) -> list:
        """The rows that are layers (numbered 1..L), without the input and the notes."""
        return [r for r in self.rows if r.number is not None and r.number > 0]

    @property
    def total_neurons(self) -> int:
        """Sum of the neurons of all layers (the input not included), as in Table 6.1."""
        return sum(r.neurons for r in self.layers)

    @property
    def total_parameters(self) -> int:
        """Sum of the learned parameters of all layers."""
        return sum(r.parameters for r in self.layers)

    @property
    def counts(self) -> dict:
        """The counts of Eq. (6.22): L, L_train, L_pool, L_conv, L_dense."""
        layers = self.layers
        L_conv = sum(r.kind.startswith("Convolution") for r in layers)
        L_dense = sum(r.kind.startswith("Fully connected") for r in layers)
        L_train = sum(r.trainable for r in layers)
        return {"L": len(layers), "L_train": L_train, "L_pool": len(layers) - L_train,
                "L_conv": L_conv, "L_dense": L_dense}

    @staticmethod
    def _fmt_shape(shape) -> str:
        return f"{shape[0]:,}" if len(shape) == 1 else " × ".join(str(s) for s in shape)

    def _cells(self):
        out = []
        for r in self.rows:
            if r.number is None:
                out.append(f"{r.kind} of length {r.neurons:,}")
            else:
                out.append([str(r.number), r.kind, self._fmt_shape(r.output_shape),
                            "-" if r.neurons is None else f"{r.neurons:,}",
                            "-" if r.parameters is None else f"{r.parameters:,}"])
        return out

    def _footer(self):
        c = self.counts
        return [f"Total: {self.total_neurons:,} neurons, {self.total_parameters:,} learned parameters",
                "Eq. (6.22): " + ", ".join(f"{k} = {v}" for k, v in c.items())]

    def __str__(self) -> str:
        rows = [["", r, "", "", ""] if isinstance(r, str) else r for r in self._cells()]
        return render_text(self.header, rows, self._footer())

    def __repr__(self) -> str:
        return str(self)

    def to_markdown(self) -> str:
        """The table in Markdown."""
        rows = [["", f"*{r}*", "", "", ""] if isinstance(r, str) else r for r in self._cells()]
        return render_markdown(self.header, rows, self._footer())

    def _repr_html_(self) -> str:
        return render_html(self.header, self._cells(), self._footer())

    def to_dataframe(self):
        """The layer rows as a pandas DataFrame (pandas imported on demand)."""
        import pandas as pd
        return pd.DataFrame([{"layer": r.number, "type": r.kind, "output": self._fmt_shape(r.output_shape),
                              "neurons": r.neurons, "parameters": r.parameters, "name": r.name}
                             for r in self.rows if r.number is not None])


_KINDS = {"Conv2d": "Convolution", "MaxPool2d": "Max-pooling", "AvgPool2d": "Average-pooling",
          "ConvTranspose2d": "Convolution (transposed)", "Conv1d": "Convolution (1-D)",
          "Linear": "Fully connected", "AdaptiveAvgPool2d": "Adaptive average pooling",
          "AdaptiveMaxPool2d": "Adaptive max-pooling"}
_NORMS = ("BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LayerNorm", "LocalResponseNorm")
_NO_PRODUCTS = ("PReLU", "Embedding")  # layers with parameters but no multiply-accumulates


def layer_table(model, input_shape) -> LayerTable:
    """Table 6.1 for any Sequential-style network: one row per layer, with totals and Eq. (6.22).

    Parameters
    ----------
    model : torch.nn.Module
        The network; it is run once on a zero input of ``input_shape`` (in eval mode, with
        no gradient) to find every layer's output shape. A model on PyTorch's ``meta``
        device is traced without any computation or memory for weights.
    input_shape : tuple of int
        Shape of one input without the batch axis, e.g. ``(3, 224, 224)``.

    Returns
    -------
    LayerTable
        Rows as in Table 6.1 of the chapter: the input (layer 0), then convolutions,
        poolings and dense layers numbered 1..L, with a note row where the tensor is
        flattened; ``.total_neurons``, ``.total_parameters`` and ``.counts``.

    Notes
    -----
    What counts as a layer follows the chapter's Table 6.1 and Eq. (6.22): a convolution
    or a dense layer (with its activation, which is not a layer of its own) is a
    trainable layer; a pooling layer is a layer without parameters. Activations, dropout
    and the flattening are not layers; a normalization with parameters (batch norm) is
    folded into the layer before it. So ``L = L_train + L_pool`` and
    ``L_train = L_conv + L_dense``. The neurons of a layer are the entries of its output
    tensor; a convolution's parameters follow Eq. (6.23), ``M_c (M_c' K_h K_v + 1)``, and a
    dense layer's ``N_in N_out + N_out``.

    Examples
    --------
    >>> import torch
    >>> from cnnlib import models
    >>> table = layer_table(models.lenet5(), (1, 28, 28))
    >>> print(table)  # doctest: +NORMALIZE_WHITESPACE
    Layer number  Type of layer                 Output dimension  Number of neurons  Number of learned parameters
    0             Input                         1 × 28 × 28                       -                             -
    1             Convolution                   6 × 28 × 28                   4,704                           156
    2             Max-pooling                   6 × 14 × 14                   1,176                             0
    3             Convolution                   16 × 10 × 10                  1,600                         2,416
    4             Max-pooling                   16 × 5 × 5                      400                             0
                  Flattening to a vector of length 400
    5             Fully connected               120                             120                        48,120
    6             Fully connected               84                               84                        10,164
    7             Fully connected               10                               10                           850
    Total: 8,094 neurons, 61,706 learned parameters
    Eq. (6.22): L = 7, L_train = 5, L_pool = 2, L_conv = 2, L_dense = 3
    """
    calls, input_shape = trace_leaf_calls(model, input_shape)
    return LayerTable(_layer_rows(calls, input_shape))


def trace_leaf_calls(model, input_shape, *, counter=None) -> tuple:
    """Run ``model`` once on a zero input of ``input_shape`` (eval mode, no gradient) and return
    ``(calls, input_shape)``: one ``(name, module, input shape, output shape)`` per call of a leaf
    module, shapes without the batch axis. ``counter``: a context (PyTorch's FlopCounterMode) to run in."""
    import contextlib

    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) == 0:
        raise ValueError(f"input_shape must be a tuple such as (3, 224, 224) (no batch axis), got {input_shape!r}")
    input_shape = tuple(positive_int(v, "input_shape") for v in input_shape)

    calls = []
    hooks = []
    for name, module in model.named_modules():
        if not list(module.children()):
            def record(mod, inputs, output, name=name):  # returns None: the output is left alone
                calls.append((name, mod, tuple(inputs[0].shape[1:]), tuple(output.shape[1:])))
            hooks.append(module.register_forward_hook(record))
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), (counter if counter is not None else contextlib.nullcontext()):
            model(torch.zeros((1, *input_shape), device=device, dtype=dtype))
    except RuntimeError as exc:
        raise ValueError(f"the model does not run on inputs of shape {input_shape}: {exc}") from None
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return calls, input_shape


def _layer_rows(calls, input_shape) -> list:
    from torch import nn

    def size(shape):
        n = 1
        for s in shape:
            n *= s
        return n

    rows = [LayerRow(0, "Input", input_shape, None, None, "input")]
    for name, module, shape_in, shape_out in calls:
        cls = type(module).__name__
        n_params = sum(p.numel() for p in module.parameters())
        if isinstance(module, nn.Flatten):
            rows.append(LayerRow(None, "Flattening to a vector", shape_out, size(shape_out), None, name))
            continue
        if cls in _NORMS or (n_params == 0 and shape_in == shape_out and cls not in _KINDS):
            if n_params and rows[-1].number:  # fold a normalization's gamma and beta into the layer before
                last = rows[-1]
                rows[-1] = LayerRow(last.number, f"{last.kind} + {cls}", last.output_shape, last.neurons,
                                    last.parameters + n_params, last.name, True)
            continue
        number = 1 + max(r.number for r in rows if r.number is not None)
        rows.append(LayerRow(number, _KINDS.get(cls, cls), shape_out, size(shape_out), n_params, name, n_params > 0))
    return rows


# --------------------------------------------------------------------------- multiply-accumulates (Section 6.5)

@dataclass(frozen=True)
class MacRow:
    """One layer of :func:`macs`: its output shape, parameters, multiply-accumulates and pooling work.

    Attributes
    ----------
    number : int
        Layer number l, as in :func:`layer_table`.
    kind : str
        'Convolution', 'Fully connected', 'Max-pooling', ...
    output_shape : tuple of int
        Output shape without the batch axis.
    parameters : int
        Learned parameters (a folded batch norm's included).
    macs : int
        Multiply-accumulates for one input (biases and normalizations not counted).
    pool_ops : int
        Comparisons (max-pooling) or additions (average pooling) for one input; 0 for other layers.
    name : str
        Dotted name of the module in the model.
    """

    number: int
    kind: str
    output_shape: tuple
    parameters: int
    macs: int
    pool_ops: int
    name: str = ""


class MacTable:
    """Per-layer cost of a network for one input; prints as text, Markdown or HTML.

    Attributes
    ----------
    rows : list of MacRow
    input_shape : tuple of int
    """

    header = ["Layer number", "Type of layer", "Output dimension", "Learned parameters", "Multiply-accumulates",
              "Pooling operations"]

    def __init__(self, rows, input_shape):
        self.rows = list(rows)
        self.input_shape = tuple(input_shape)

    @property
    def total(self) -> int:
        """Multiply-accumulates of the whole network for one input."""
        return sum(r.macs for r in self.rows)

    @property
    def total_parameters(self) -> int:
        """Learned parameters of the layers (as :attr:`LayerTable.total_parameters`)."""
        return sum(r.parameters for r in self.rows)

    @property
    def total_pool_ops(self) -> int:
        """Comparisons and additions of the pooling layers."""
        return sum(r.pool_ops for r in self.rows)

    def _cells(self):
        return [[str(r.number), r.kind, LayerTable._fmt_shape(r.output_shape), f"{r.parameters:,}", f"{r.macs:,}",
                 f"{r.pool_ops:,}"] for r in self.rows]

    def _footer(self):
        return [f"Total for one {' × '.join(map(str, self.input_shape))} input: {self.total:,} multiply-accumulates "
                f"({self.total / 1e9:.3g} billion), {self.total_parameters:,} learned parameters, "
                f"{self.total_pool_ops:,} pooling operations"]

    def __str__(self) -> str:
        return render_text(self.header, self._cells(), self._footer())

    def __repr__(self) -> str:
        return str(self)

    def to_markdown(self) -> str:
        """The table in Markdown."""
        return render_markdown(self.header, self._cells(), self._footer())

    def _repr_html_(self) -> str:
        return render_html(self.header, self._cells(), self._footer())

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas imported on demand)."""
        import pandas as pd
        return pd.DataFrame([{"layer": r.number, "type": r.kind, "output": LayerTable._fmt_shape(r.output_shape),
                              "parameters": r.parameters, "macs": r.macs, "pool_ops": r.pool_ops, "name": r.name}
                             for r in self.rows])


def _layer_cost(module, input_shape, output_shape) -> tuple | None:
    """Hand count ``(macs, pool_ops)`` of one layer call, from the module and its input and output
    shapes; ``None`` for a layer with parameters of a kind it does not know."""
    from torch import nn

    def size(shape):
        n = 1
        for v in shape:
            n *= v
        return n

    outputs = size(output_shape)
    if isinstance(module, nn.modules.conv._ConvNd):  # Conv1d/2d/3d and their transposes
        window = size(module.kernel_size)
        if module.transposed:  # each input value is spread over a window of every output channel of its group
            return size(input_shape) * (module.out_channels // module.groups) * window, 0
        return outputs * (module.in_channels // module.groups) * window, 0  # each output: M_c'/g x K_h x K_v products
    if isinstance(module, nn.Linear):
        return outputs * module.in_features, 0  # each output: a dot product of length in_features
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        K_h, K_v = pair(module.kernel_size, "kernel_size")
        return 0, outputs * (K_h * K_v - 1)  # K_h K_v values reduced to one
    if any(True for _ in module.parameters()) and type(module).__name__ not in _NORMS + _NO_PRODUCTS:
        return None
    return 0, 0


def macs(model, input_shape) -> MacTable:
    """Multiply-accumulates of every layer of a network, and their total, for one input.

    Parameters
    ----------
    model : torch.nn.Module
        Any network whose work is done by convolutions (``nn.Conv1d``, ``nn.Conv2d``,
        ``nn.Conv3d`` and their transposes) and ``nn.Linear`` modules (run once, as in
        :func:`layer_table`; a model on the ``meta`` device costs no memory). Work it cannot
        count (a layer with parameters of another kind, an ``F.conv2d`` or a matrix product
        written in a module's ``forward``) is left out of the total with a ``UserWarning`` that
        names the module: the same forward pass runs under PyTorch's
        ``torch.utils.flop_counter.FlopCounterMode``, whose count per module is compared with
        the hand count.
    input_shape : tuple of int
        Shape of one input without the batch axis, e.g. ``(3, 224, 224)``.

    Returns
    -------
    MacTable
        One :class:`MacRow` per layer of :func:`layer_table` (convolutions, dense layers,
        poolings, ...), with ``.total`` multiply-accumulates.

    Notes
    -----
    A convolution with ``M_c`` output channels of size ``M_h' x M_v'`` computes each output
    value as a sum of ``(M_c' / groups) K_h K_v`` products (Eq. (6.23) without the bias), so
    it costs ``M_c M_h' M_v' (M_c' / groups) K_h K_v`` multiply-accumulates; a dense layer
    costs ``N_in N_out``. A transposed convolution spreads each of its input values over a
    window of every output channel of its group: ``(input values) (M_c / groups) K_h K_v``.
    Pooling multiplies nothing: a window of ``K_h K_v`` values is reduced
    with ``K_h K_v - 1`` comparisons or additions, reported as ``pool_ops`` (adaptive
    poolings, whose windows vary, report 0). Biases, batch
    norm, activations and the additions of residual connections are not counted, as
    PyTorch's ``torch.utils.flop_counter.FlopCounterMode`` does not count them; that counter
    reports 2 floating-point operations per multiply-accumulate, so its total is twice
    ``.total``.

    Examples
    --------
    >>> from cnnlib import models
    >>> table = macs(models.lenet5(), (1, 28, 28))
    >>> [r.macs for r in table.rows]
    [117600, 0, 240000, 0, 48000, 10080, 840]
    >>> table.total, table.rows[1].pool_ops
    (416520, 3528)
    """
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    calls, input_shape = trace_leaf_calls(model, input_shape, counter=counter)
    inputs, counted = {}, {}
    for name, module, shape_in, shape_out in calls:
        inputs.setdefault(name, []).append(shape_in)
        cost = _layer_cost(module, shape_in, shape_out)
        known = cost is not None and counted.get(name, 0) is not None
        counted[name] = counted.get(name, 0) + cost[0] if known else None
    rows, calls_seen = [], {}
    for r in _layer_rows(calls, input_shape):
        if not r.number:
            continue
        k = calls_seen[r.name] = calls_seen.get(r.name, -1) + 1  # the k-th call of a module used more than once
        module = model.get_submodule(r.name)
        count, pool_ops = _layer_cost(module, inputs[r.name][k], r.output_shape) or (0, 0)
        kind = r.kind
        if isinstance(module, nn.Conv2d) and kind.startswith(type(module).__name__):  # a Conv2d subclass
            kind = "Convolution" + kind[len(type(module).__name__):]
        rows.append(MacRow(r.number, kind, r.output_shape, r.parameters, count, pool_ops, r.name))
    _warn_uncounted(model, counted, counter)
    return MacTable(rows, input_shape)


def _warn_uncounted(model, counted: dict, counter) -> None:
    """Warn, naming them, about the modules whose multiply-accumulates the hand count misses: a
    layer with parameters of a kind it does not know (``counted[name] is None``), or work that
    PyTorch's counter sees in a module beyond that of the layers counted inside it (an
    ``F.conv2d`` or a matrix product written in ``forward``)."""
    import warnings

    root = type(model).__name__
    seen = {}  # module name -> multiply-accumulates by PyTorch's counter, the module's own calls only
    totals = {k: sum(v.values()) // 2 for k, v in counter.get_flop_counts().items() if k != "Global"}
    for key, total in totals.items():
        name = "" if key == root else key[len(root) + 1:] if key.startswith(root + ".") else None
        if name is None:
            continue
        children = [k for k in totals if k.startswith(key + ".") and "." not in k[len(key) + 1:]]
        seen[name] = total - sum(totals[c] for c in children)
    problems = []
    for name, module in model.named_modules():
        own_seen, own_counted = seen.get(name, 0), counted.get(name, 0)
        if own_counted is None:
            there = f"; PyTorch's counter sees {own_seen:,} multiply-accumulates there" if own_seen else ""
            problems.append(f"{name!r} ({type(module).__name__}), a layer with parameters of a kind it does not "
                            f"know{there}")
        elif own_seen > own_counted:
            done = f"counted {own_counted:,} of them" if own_counted else "counted no work there"
            problems.append(f"{name!r} ({type(module).__name__}): PyTorch's counter sees {own_seen:,} "
                            f"multiply-accumulates there (a convolution or matrix product written in forward?), "
                            f"macs {done}")
    if problems:
        warnings.warn("counting.macs left work out of the total: " + "; ".join(problems), stacklevel=3)
