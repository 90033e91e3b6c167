"""The classic networks of Section 6.4: LeNet-5 and VGG, and turning dense layers into convolutions.

Each model here is an ``nn.Sequential`` of two named ``nn.Sequential`` blocks, ``features``
(convolutions, activations, pooling) and ``classifier`` (flatten and dense layers), and every
layer inside has a name (``conv1``, ``relu1``, ``pool1``, ..., ``fc1``). So ``model.features``
can be frozen for transfer learning, and a forward hook on ``model.features.conv3`` grabs a
feature map by name.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4 (Eqs. (6.22)–(6.25), Table 6.1).

Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to
document recognition", Proc. IEEE, 1998 (LeNet-5).

K. Simonyan and A. Zisserman, "Very deep convolutional networks for large-scale image
recognition", arXiv:1409.1556, 2014 (VGG).
"""
from __future__ import annotations

import copy
import math
from collections import OrderedDict

import torch
from torch import nn

from .._validation import check_choice, pair, positive_int

__all__ = ["lenet5", "VGG_CONFIGS", "parse_vgg_config", "vgg", "vgg19", "convolutionalize"]


def lenet5(num_classes: int = 10, in_channels: int = 1, *, activation: str = "relu",
           pool: str = "max") -> nn.Sequential:
    """LeNet-5 for 28 x 28 digits, as a Sequential with ``features`` and ``classifier``.

    The classic layout of LeCun et al. (1998), adapted to MNIST's 28 x 28 images by
    padding the first convolution by 2 pixels on each side (so it sees 32 x 32, the size
    of the original network's input):

    ============  ===============================  ===================
    name          layer                            output shape
    ============  ===============================  ===================
    conv1         5 x 5 conv, padding 2, 6 ch      (6, 28, 28)
    relu1, pool1  activation, 2 x 2 pool stride 2  (6, 14, 14)
    conv2         5 x 5 conv, 16 ch                (16, 10, 10)
    relu2, pool2  activation, 2 x 2 pool stride 2  (16, 5, 5)
    flatten       to a vector                      (400,)
    fc1, relu3    dense 400 -> 120                 (120,)
    fc2, relu4    dense 120 -> 84                  (84,)
    fc3           dense 84 -> num_classes          (num_classes,)
    ============  ===============================  ===================

    Parameters
    ----------
    num_classes : int, default 10
        Number of outputs (logits; apply softmax or use ``CrossEntropyLoss``).
    in_channels : int, default 1
        Channels of the input images.
    activation : {'relu', 'tanh'}, default 'relu'
        The 1998 network used a scaled tanh; ReLU trains faster and is the default here.
    pool : {'max', 'avg'}, default 'max'
        Max-pooling (the modern choice) or average pooling (closer to the original
        subsampling layers, which also had a learned scale and bias, omitted here).

    Returns
    -------
    torch.nn.Sequential
        Input shape ``(N, in_channels, 28, 28)``, output shape ``(N, num_classes)``;
        attributes ``features`` and ``classifier``.

    Notes
    -----
    In the counts of Eq. (6.22): L_conv = 2, L_pool = 2, L_dense = 3, so L_train = 5 and
    L = 7 (activations and the flatten are not counted as layers). Parameters of a
    convolution follow Eq. (6.23): ``6 * (1 * 5 * 5 + 1) = 156`` for ``conv1``.

    Examples
    --------
    >>> model = lenet5()
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> sum(p.numel() for p in model.parameters())
    61706
    >>> model.features.conv1
    Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))
    """
    num_classes = positive_int(num_classes, "num_classes")
    in_channels = positive_int(in_channels, "in_channels")
    check_choice(activation, "activation", ("relu", "tanh"))
    check_choice(pool, "pool", ("max", "avg"))
    act = nn.ReLU if activation == "relu" else nn.Tanh
    pooling = (lambda: nn.MaxPool2d(2, 2)) if pool == "max" else (lambda: nn.AvgPool2d(2, 2))
    features = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)),  # (6, 28, 28)
        ("relu1", act()),
        ("pool1", pooling()),                                             # (6, 14, 14)
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),                       # (16, 10, 10)
        ("relu2", act()),
        ("pool2", pooling()),                                             # (16, 5, 5)
    ]))
    classifier = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),                                        # (400,)
        ("fc1", nn.Linear(16 * 5 * 5, 120)),
        ("relu3", act()),
        ("fc2", nn.Linear(120, 84)),
        ("relu4", act()),
        ("fc3", nn.Linear(84, num_classes)),
    ]))
    return nn.Sequential(OrderedDict([("features", features), ("classifier", classifier)]))


#: VGG configurations of Simonyan and Zisserman (2014), Table 1: an int is a 3 x 3
#: convolution with that many output channels (padding 1, then ReLU), ``'M'`` a 2 x 2
#: max-pooling with stride 2. 'vgg19' is the network of Table 6.1 of the chapter.
VGG_CONFIGS: dict[str, tuple] = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}


def parse_vgg_config(config) -> tuple:
    if isinstance(config, str):
        check_choice(config, "config", tuple(VGG_CONFIGS))
        return VGG_CONFIGS[config]
    if not isinstance(config, (list, tuple)):
        raise TypeError(f"config must be a list of ints and 'M', or one of {sorted(VGG_CONFIGS)}, "
                        f"got {type(config).__name__} {config!r}")
    for i, item in enumerate(config):
        if item == "M":
            continue
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise ValueError(f"config[{i}] must be a positive int (channels of a 3x3 convolution) "
                             f"or 'M' (a 2x2 max-pooling), got {item!r}")
    if not any(item != "M" for item in config):
        raise ValueError(f"config must contain at least one convolution (an int), got {list(config)!r}")
    return tuple(config)


def vgg(config, in_channels: int = 3, num_classes: int = 1000, classifier=(4096, 4096),
        dropout: float = 0.5, input_size=224) -> nn.Sequential:
    """A VGG network built from a configuration list, as a Sequential with named layers.

    Parameters
    ----------
    config : str or sequence of (int or 'M')
        A key of :data:`VGG_CONFIGS` (``'vgg11'``, ``'vgg13'``, ``'vgg16'``, ``'vgg19'``) or a
        list such as ``[64, 'M', 128, 'M']``: an int ``c`` is a 3 x 3 convolution to ``c``
        channels with PyTorch ``padding=1`` (one row and column on each side: the chapter's
        total padding (2, 2)) followed by a ReLU; ``'M'`` is a 2 x 2 max-pooling, stride 2.
    in_channels : int, default 3
        Channels of the input image.
    num_classes : int, default 1000
        Outputs of the last dense layer (logits).
    classifier : sequence of int, default (4096, 4096)
        Widths of the hidden dense layers (each followed by ReLU and dropout); ``()`` gives
        a single dense layer after the flatten.
    dropout : float in [0, 1), default 0.5
        Dropout probability after each hidden dense layer (0 leaves dropout out).
    input_size : int or (int, int), default 224
        Height and width of the input; fixes the length of the flattened vector.

    Returns
    -------
    torch.nn.Sequential
        ``features`` (layers ``conv{b}_{i}``, ``relu{b}_{i}``, ``pool{b}`` for block ``b``)
        then ``classifier`` (``flatten``, ``fc1``, ``relu_fc1``, ``dropout1``, ..., ``fc{n}``).
        Input ``(N, in_channels, H, W)``, output ``(N, num_classes)``.

    Notes
    -----
    Each convolution keeps the height and width (Eq. (6.17) with K = 3, total padding 2,
    stride 1) and has ``c_out * (c_in * 3 * 3 + 1)`` parameters by Eq. (6.23); each
    pooling halves height and width (rounding down, as PyTorch does).

    Examples
    --------
    >>> model = vgg([8, "M", 16, "M"], in_channels=1, num_classes=10, classifier=(32,), input_size=28)
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> [name for name, _ in model.features.named_children()]
    ['conv1_1', 'relu1_1', 'pool1', 'conv2_1', 'relu2_1', 'pool2']
    >>> model.classifier.fc1
    Linear(in_features=784, out_features=32, bias=True)
    """
    config = parse_vgg_config(config)
    in_channels = positive_int(in_channels, "in_channels")
    num_classes = positive_int(num_classes, "num_classes")
    if isinstance(classifier, (str, bytes)) or not hasattr(classifier, "__iter__"):
        raise TypeError(f"classifier must be a sequence of positive ints (hidden widths), got {classifier!r}")
    hidden = [positive_int(width, f"classifier[{i}]") for i, width in enumerate(classifier)]
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    height, width = pair(input_size, "input_size")

    layers, channels, block, index = [], in_channels, 1, 0
    for item in config:
        if item == "M":
            layers.append((f"pool{block}", nn.MaxPool2d(kernel_size=2, stride=2)))
            height, width = height // 2, width // 2
            if height < 1 or width < 1:
                raise ValueError(f"input_size {input_size!r} is too small for config {list(config)!r}: "
                                 f"pooling {block} would leave {height} x {width} pixels")
            block, index = block + 1, 0
        else:
            index += 1
            layers.append((f"conv{block}_{index}", nn.Conv2d(channels, item, kernel_size=3, padding=1)))
            layers.append((f"relu{block}_{index}", nn.ReLU()))
            channels = item
    features = nn.Sequential(OrderedDict(layers))

    head = [("flatten", nn.Flatten())]
    width_in = channels * height * width
    for i, width_out in enumerate(hidden, start=1):
        head += [(f"fc{i}", nn.Linear(width_in, width_out)), (f"relu_fc{i}", nn.ReLU())]
        if dropout > 0:
            head.append((f"dropout{i}", nn.Dropout(dropout)))
        width_in = width_out
    head.append((f"fc{len(hidden) + 1}", nn.Linear(width_in, num_classes)))
    return nn.Sequential(OrderedDict([("features", features), ("classifier", nn.Sequential(OrderedDict(head)))]))


def vgg19(num_classes: int = 1000, *, in_channels: int = 3, dropout: float = 0.5) -> nn.Sequential:
    """VGG19 for 3 x 224 x 224 images, the network of Table 6.1 (randomly initialised).

    Parameters
    ----------
    num_classes : int, default 1000
        Outputs of the last dense layer.
    in_channels : int, default 3
        Input channels.
    dropout : float, default 0.5
        Dropout after the two hidden dense layers (as in the original training).

    Returns
    -------
    torch.nn.Sequential
        16 convolutions, 5 max-poolings and 3 dense layers; input ``(N, 3, 224, 224)``,
        output ``(N, num_classes)``. Its layer names follow those of the original weights
        (``conv1_1`` ... ``conv5_4``, ``fc1`` ... ``fc3``); see :func:`vgg`.

    Notes
    -----
    Eq. (6.22): L = 24, L_train = 19, L_pool = 5, L_conv = 16, L_dense = 3. With 1,000
    classes it has 143,667,240 parameters (Table 6.1). It holds about 575 MB of float32
    weights; to count or trace shapes without allocating them, build it on PyTorch's
    ``meta`` device: ``with torch.device("meta"): model = vgg19()``.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     model = vgg19()
    >>> sum(p.numel() for p in model.parameters())
    143667240
    >>> model(torch.empty(1, 3, 224, 224, device="meta")).shape
    torch.Size([1, 1000])
    """
    return vgg("vgg19", in_channels=in_channels, num_classes=num_classes, dropout=dropout)


def _flatten_input_shape(model: nn.Module, input_shape):
    """Shape (C, H, W) entering the first Flatten of ``model`` for inputs of ``input_shape``."""
    flattens = [m for m in model.modules() if isinstance(m, nn.Flatten)]
    if not flattens:
        raise ValueError("model has no nn.Flatten layer: there is no dense part to convolutionalize")
    seen = {}

    def record(module, inputs, output):  # a forward hook must return None to leave the output alone
        seen.setdefault("shape", tuple(inputs[0].shape[1:]))

    hook = flattens[0].register_forward_hook(record)
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else "cpu"
        dtype = param.dtype if param is not None else torch.float32
        with torch.no_grad():
            was_training = model.training
            model.eval()
            try:
                model(torch.zeros((1, *input_shape), device=device, dtype=dtype))
            except RuntimeError as exc:
                raise ValueError(f"the model does not run on inputs of shape {tuple(input_shape)} "
                                 f"(input_shape should be the size it was built for): {exc}") from None
            finally:
                model.train(was_training)
    finally:
        hook.remove()
    return seen["shape"]


def _infer_flatten_shape(model: nn.Module, in_features: int):
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("cannot infer the feature-map shape before the flatten (no Conv2d): pass input_shape")
    channels = convs[-1].out_channels
    side = math.isqrt(in_features // channels) if in_features % channels == 0 else 0
    if side * side * channels != in_features:
        raise ValueError(f"cannot infer a square feature map from {in_features} features and {channels} "
                         f"channels: pass input_shape=(C, H, W) of the model's input")
    return channels, side, side


def convolutionalize(model: nn.Module, input_shape=None) -> nn.Sequential:
    """The same network with every dense layer replaced by a convolution (fully convolutional).

    The first ``nn.Linear`` after the ``nn.Flatten`` becomes a convolution whose kernel
    covers the whole feature map entering the flatten (``C x H x W``); every later
    ``nn.Linear`` becomes a 1 x 1 convolution. Weights and biases are copied, the flatten
    is dropped, everything else (activations, dropout, pooling) is kept. The original
    model is not modified.

    Parameters
    ----------
    model : torch.nn.Module
        A Sequential-style network (nested ``nn.Sequential`` allowed, e.g. ``features``
        and ``classifier`` blocks) with one ``nn.Flatten`` followed by ``nn.Linear`` layers.
    input_shape : tuple (C, H, W), optional
        The size the model was built for. Used to find the shape entering the flatten;
        without it the map is assumed square, with the channels of the last ``Conv2d``.

    Returns
    -------
    torch.nn.Sequential
        Same structure and names; on the training size it outputs ``(N, K, 1, 1)``, equal to
        the original ``(N, K)`` output, and on a larger input ``(N, K, H', W')``: one
        prediction per position of a window sliding over the input.

    Notes
    -----
    A dense layer Eq. (6.24), ``z_j = sum_i W_{j,i} x_i + b_j``, applied to a vector of
    length N is the 1 x 1 convolution Eq. (6.25) on an N x 1 x 1 volume; the first dense
    layer is likewise a convolution with a kernel as large as its input volume.

    Examples
    --------
    >>> torch.manual_seed(0) and None
    >>> net = lenet5().eval()
    >>> fcn = convolutionalize(net, (1, 28, 28))
    >>> fcn.classifier.fc1
    Conv2d(16, 120, kernel_size=(5, 5), stride=(1, 1))
    >>> x = torch.randn(3, 1, 28, 28)
    >>> torch.allclose(fcn(x).flatten(1), net(x), atol=1e-5)
    True
    >>> fcn(torch.randn(1, 1, 28, 84)).shape   # three digits wide: a 1 x 15 map of predictions
    torch.Size([1, 10, 1, 15])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear layer: it is already fully convolutional")
    if input_shape is not None:
        if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3):
            raise ValueError(f"input_shape must be (C, H, W), got {input_shape!r}")
        [positive_int(v, "input_shape") for v in input_shape]
        flat_shape = _flatten_input_shape(model, tuple(input_shape))
    else:
        if not any(isinstance(m, nn.Flatten) for m in model.modules()):
            raise ValueError("model has no nn.Flatten layer: there is no dense part to convolutionalize")
        flat_shape = _infer_flatten_shape(model, linears[0].in_features)
    if len(flat_shape) != 3:
        raise ValueError(f"the tensor entering the flatten must be (C, H, W), got shape {flat_shape}")

    state = {"flattened": False, "first": True}

    def convert(linear: nn.Linear) -> nn.Conv2d:
        if not state["flattened"]:
            raise ValueError("found an nn.Linear before any nn.Flatten: cannot tell which map it reads")
        if state["first"]:
            C, H, W = flat_shape
            kernel = (H, W)
            state["first"] = False
        else:
            C, kernel = linear.in_features, (1, 1)
        conv = nn.Conv2d(C, linear.out_features, kernel, bias=linear.bias is not None,
                         device=linear.weight.device, dtype=linear.weight.dtype)
        with torch.no_grad():
            conv.weight.copy_(linear.weight.reshape(conv.weight.shape))  # (out, C*H*W) -> (out, C, H, W)
            if linear.bias is not None:
                conv.bias.copy_(linear.bias)
        conv.train(linear.training)
        return conv

    def rebuild(module: nn.Module) -> nn.Module:
        if isinstance(module, nn.Sequential):
            children = []
            for name, child in module.named_children():
                if isinstance(child, nn.Flatten):
                    state["flattened"] = True
                    continue
                children.append((name, rebuild(child)))
            new = nn.Sequential(OrderedDict(children))
            new.train(module.training)
            return new
        if isinstance(module, nn.Linear):
            return convert(module)
        if any(isinstance(m, (nn.Linear, nn.Flatten)) for m in module.modules()):
            raise TypeError(f"cannot convolutionalize inside a {type(module).__name__}: only nn.Sequential "
                            f"containers are walked")
        return copy.deepcopy(module)

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential (possibly nested), got {type(model).__name__}")
    return rebuild(model)
