"""The landmark architectures of Section 6.5: AlexNet, GoogLeNet, ResNet and EfficientNet.

Each is an ``nn.Sequential`` of ``features`` and ``classifier`` built from the blocks of
:mod:`cnnlib.models.blocks`, with the layer sizes of the papers' tables.

References
----------
A. Krizhevsky, I. Sutskever and G. E. Hinton (2012), AlexNet; C. Szegedy et al., "Going deeper
with convolutions" (2015), GoogLeNet; K. He, X. Zhang, S. Ren and J. Sun, "Deep residual
learning for image recognition" (2016), ResNet; M. Tan and Q. V. Le, "EfficientNet: rethinking
model scaling for convolutional neural networks" (2019), the chapter's reference [54].
"""
from __future__ import annotations

import math
from collections import OrderedDict

import torch  # noqa: F401 (the doctests use it)
from torch import nn

from .._validation import check_bool, check_choice, positive_int
from .blocks import Bottleneck, InceptionModule, MBConv, ResidualBlock, conv_bn_act, conv_unit

__all__ = ["alexnet", "GOOGLENET_MODULES", "googlenet", "resnet", "EFFICIENTNET_SCALING",
           "EFFICIENTNET_LITE_SCALING", "compound_scaling", "efficientnet_config", "efficientnet"]


#: nn.LocalResponseNorm's alpha for AlexNet: PyTorch divides alpha by the size n = 5, the paper does not.
_ALEXNET_LRN_ALPHA = 5 * 1e-4


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
        Local response normalization after the first two convolutions, as in 2012:
        ``b_i = a_i / (k + alpha * sum_j a_j**2) ** beta`` over the ``n = 5`` channels ``j``
        around ``i``, with the paper's ``k = 2``, ``alpha = 1e-4``, ``beta = 0.75``. PyTorch's
        ``nn.LocalResponseNorm`` divides its ``alpha`` by ``n`` (Caffe's convention), so it is
        given ``alpha = 5e-4``.

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
    check_bool(lrn, "lrn")
    g = streams
    layers = [("conv1", nn.Conv2d(in_channels, 96, 11, stride=4, padding=2)), ("relu1", nn.ReLU())]  # 96 x 55 x 55
    if lrn:
        layers.append(("lrn1", nn.LocalResponseNorm(5, alpha=_ALEXNET_LRN_ALPHA, beta=0.75, k=2.0)))
    layers += [("pool1", nn.MaxPool2d(3, stride=2)),                                               # 96 x 27 x 27
               ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=g)), ("relu2", nn.ReLU())]       # 256 x 27 x 27
    if lrn:
        layers.append(("lrn2", nn.LocalResponseNorm(5, alpha=_ALEXNET_LRN_ALPHA, beta=0.75, k=2.0)))
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
    3 + 18 + 1 = 22. The chapter's "about 6.8 million" parameters is the sum of the
    "params" column of the paper's Table 1 (rounded per layer); the exact count of the paper
    variant is 6,998,552.

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
    unit = lambda i, o, k, **kw: conv_unit(i, o, k, batch_norm=bn, bn_eps=1e-3, **kw)
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
            # 832 x 7 x 7: the paper's Table 1 has 3 x 3 / 2; torchvision's GoogLeNet pools 2 x 2 / 2
            layers.append(("pool4", nn.MaxPool2d(2 if bn else 3, stride=2, ceil_mode=True)))
    head = [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
            ("dropout", nn.Dropout(dropout)), ("fc", nn.Linear(1024, num_classes))]
    return nn.Sequential(OrderedDict([("features", nn.Sequential(OrderedDict(layers))),
                                      ("classifier", nn.Sequential(OrderedDict(head)))]))


#: ImageNet ResNets with basic blocks (He et al. 2016, Table 1): blocks per stage.
_RESNET_IMAGENET = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def _resnet_depth(depth) -> str:
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"depth must be an integer, got {type(depth).__name__} {depth!r}")
    if depth in _RESNET_IMAGENET:
        return "imagenet"
    if depth >= 8 and (depth - 2) % 6 == 0:
        return "cifar"
    raise ValueError(f"depth must be 18, 34, 50, 101 or 152 (ImageNet ResNets) or 6n + 2 with n >= 1 (small-image ResNets: "
                     f"8, 14, 20, 32, 44, 56, 110, ...), got {depth!r}")


def resnet(depth: int, num_classes: int | None = None, in_channels: int = 3, *, residual: bool = True,
           width: int | None = None, zero_init_residual: bool = False) -> nn.Sequential:
    """A residual network (He et al., 2016) of a given depth, or its plain twin.

    Parameters
    ----------
    depth : int
        Number of layers with weights along the network (convolutions on the shortcuts
        not counted). ``18`` and ``34``: the ImageNet networks (a 7 x 7 stem with
        max-pooling, four stages of :class:`ResidualBlock` with 64, 128, 256 and 512
        channels); ``50``, ``101`` and ``152``: the same with :class:`Bottleneck` blocks
        (three layers each, 256 to 2048 output channels). ``6n + 2`` (8, 14, 20, 32, 44, 56, 110, ...): the small-image networks of
        the paper's CIFAR-10 experiments (a 3 x 3 stem, three stages of ``n`` blocks with
        ``width``, ``2 width`` and ``4 width`` channels, strides 1, 2, 2).
    num_classes : int, optional
        Outputs; 1000 for the ImageNet networks and 10 for the small ones by default.
    in_channels : int, default 3
    residual : bool, default True
        ``False`` removes every shortcut: the "plain" network of the same depth and layers.
    width : int, optional
        Channels of the first stage: 64 (ImageNet) or 16 (small) by default.
    zero_init_residual : bool, default False
        Set the scale of the last batch normalization of every block's branch to zero (as
        torchvision's option of that name): each block then starts as ``relu(s(u))``, the
        identity on the non-negative output of an earlier ReLU wherever the shortcut is one.

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
    >>> with torch.device("meta"):
    ...     sum(p.numel() for p in resnet(50).parameters())  # torchvision's resnet50
    25557032
    >>> model = resnet(20, num_classes=10, in_channels=1)
    >>> model(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    >>> len(model.features.stage1), sum(isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) for m in model.modules())
    (3, 19)
    >>> resnet(21)
    Traceback (most recent call last):
    ...
    ValueError: depth must be 18, 34, 50, 101 or 152 (ImageNet ResNets) or 6n + 2 with n >= 1 (small-image ResNets: 8, 14, 20, 32, 44, 56, 110, ...), got 21
    """
    family = _resnet_depth(depth)
    in_channels = positive_int(in_channels, "in_channels")
    check_bool(residual, "residual")
    check_bool(zero_init_residual, "zero_init_residual")
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
    bottleneck = family == "imagenet" and depth >= 50
    for s, (count, stride) in enumerate(zip(blocks, strides)):
        inner = width * 2 ** s
        out = Bottleneck.expansion * inner if bottleneck else inner
        stage = [(f"block{b + 1}", Bottleneck(channels if b == 0 else out, inner, stride if b == 0 else 1,
                                              shortcut=residual) if bottleneck else
                  ResidualBlock(channels if b == 0 else out, out, stride if b == 0 else 1, shortcut=residual))
                 for b in range(count)]
        stages.append((f"stage{s + 1}", nn.Sequential(OrderedDict(stage))))
        channels = out
    head = [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(channels, num_classes))]
    model = nn.Sequential(OrderedDict([("features", nn.Sequential(OrderedDict(stages))),
                                       ("classifier", nn.Sequential(OrderedDict(head)))]))
    if zero_init_residual:
        for block in model.modules():
            if isinstance(block, (ResidualBlock, Bottleneck)):
                nn.init.zeros_(block.residual[-1].weight)
    return model




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
    check_bool(lite, "lite")
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
    layers = [("stem", conv_bn_act(in_channels, cfg["stem"], 3, stride=2, activation=act, padding=padding))]
    for s, (e, k, stride, c_in, c_out, repeats) in enumerate(cfg["stages"], start=1):
        blocks = [(f"block{b + 1}", MBConv(c_in if b == 0 else c_out, c_out, k, stride if b == 0 else 1, e,
                                           se_ratio=0.0 if lite else 0.25, activation=act, padding=padding))
                  for b in range(repeats)]
        layers.append((f"stage{s}", nn.Sequential(OrderedDict(blocks))))
    layers.append(("head", conv_bn_act(cfg["stages"][-1][4], cfg["head"], 1, activation=act, padding=padding)))
    head = [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("dropout", nn.Dropout(cfg["dropout"])),
            ("fc", nn.Linear(cfg["head"], num_classes))]
    return nn.Sequential(OrderedDict([("features", nn.Sequential(OrderedDict(layers))),
                                      ("classifier", nn.Sequential(OrderedDict(head)))]))
