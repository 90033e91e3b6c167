"""The building blocks of the landmark networks (Sections 6.4.6 and 6.5).

:class:`Fire` (SqueezeNet), :class:`InceptionModule` (GoogLeNet), :class:`ResidualBlock`
and :class:`Bottleneck` (ResNet), :class:`SqueezeExcitation` and :class:`MBConv` (EfficientNet), and the small
convolution units they are made of (:func:`conv_unit`, :func:`conv_bn_act`).

References
----------
C. Szegedy et al., "Going deeper with convolutions" (2015); K. He, X. Zhang, S. Ren and J. Sun,
"Deep residual learning for image recognition" (2016); J. Hu, L. Shen and G. Sun,
"Squeeze-and-excitation networks" (2018); M. Sandler et al., "MobileNetV2" (2018); M. Tan and
Q. V. Le, "EfficientNet" (2019), the chapter's reference [54]; F. N. Iandola et al.,
"SqueezeNet" (2016).
"""
from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from .._validation import check_bool, check_choice, positive_int

__all__ = ["Fire", "InceptionModule", "ResidualBlock", "Bottleneck", "SqueezeExcitation", "MBConv",
           "conv_unit", "conv_bn_act", "activation_layer", "Conv2dSame", "check_input_channels", "shortcut_path"]


def conv_unit(c_in: int, c_out: int, kernel_size: int, *, stride: int = 1, padding: int = 0,
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



def check_input_channels(x, expected: int, who: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a 4-D tensor (N, C, H, W), got {getattr(x, 'shape', type(x).__name__)}")
    if x.shape[1] != expected:
        raise ValueError(f"x has {x.shape[1]} channels but this {who} was built for in_channels={expected} "
                         f"(x of shape {tuple(x.shape)})")




def activation_layer(name: str) -> nn.Module:
    check_choice(name, "activation", ("silu", "relu", "relu6"))
    return {"silu": nn.SiLU, "relu": nn.ReLU, "relu6": nn.ReLU6}[name]()


class Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's 'SAME' padding: output ``ceil(M / s)``, any extra row or column
    of zeros going at the bottom and right (the padding the Lite0 weights were trained with)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s, d in zip(x.shape[-2:], self.kernel_size, self.stride, self.dilation):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return super().forward(nn.functional.pad(x, (left, right, top, bottom)))


def conv_bn_act(c_in, c_out, kernel_size, *, stride=1, groups=1, activation="silu", padding="symmetric"):
    conv = (nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, groups=groups, bias=False)
            if padding == "symmetric" else
            Conv2dSame(c_in, c_out, kernel_size, stride=stride, padding=0, groups=groups, bias=False))
    layers = [("conv", conv), ("bn", nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01))]
    if activation is not None:
        layers.append(("act", activation_layer(activation)))
    return nn.Sequential(OrderedDict(layers))




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
        check_bool(batch_norm, "batch_norm")
        large_kernel = positive_int(large_kernel, "large_kernel")
        if large_kernel % 2 == 0:
            raise ValueError(f"large_kernel must be odd (so that padding keeps the size), got {large_kernel}")
        eps = 1e-3  # torchvision's GoogLeNet
        unit = lambda i, o, k: conv_unit(i, o, k, padding=k // 2, batch_norm=batch_norm, bn_eps=eps)
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
        check_input_channels(x, self.in_channels, "InceptionModule")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


def shortcut_path(in_channels: int, out_channels: int, stride: int, enabled: bool, batch_norm: bool):
    """The shortcut of a residual block: ``None`` (plain block), the identity when the shapes agree,
    else a 1 x 1 projection (``conv``, then ``bn`` with batch norm) whose stride matches the size."""
    if not enabled:
        return None
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=not batch_norm)),
        ("bn", nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity())]))


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
        check_bool(batch_norm, "batch_norm")
        check_bool(shortcut, "shortcut")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        norm = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
        self.residual = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=not batch_norm)),
            ("bn1", norm(out_channels)),
            ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=not batch_norm)),
            ("bn2", norm(out_channels)),
        ]))
        self.shortcut = shortcut_path(in_channels, out_channels, stride, shortcut, batch_norm)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_channels(x, self.in_channels, "ResidualBlock")
        out = self.residual(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class Bottleneck(nn.Module):
    """The bottleneck block of ResNet-50/101/152: 1 x 1 down, 3 x 3, 1 x 1 up, and a shortcut.

    Parameters
    ----------
    in_channels : int
        Channels of the input ``u``.
    width : int
        Channels of the two inner convolutions; the block returns ``4 * width`` channels
        (``expansion``).
    stride : int, default 1
        Stride of the 3 x 3 convolution (as torchvision places it; the paper put it on the
        first 1 x 1 convolution, which changes no count of parameters).
    shortcut : bool, default True
        ``False`` gives the plain block.

    Attributes
    ----------
    residual : nn.Sequential
        ``conv1`` (1 x 1), ``bn1``, ``relu1``, ``conv2`` (3 x 3), ``bn2``, ``relu2``, ``conv3``
        (1 x 1), ``bn3``.
    shortcut : nn.Module or None
        As in :class:`ResidualBlock`: identity, a 1 x 1 projection with batch norm, or ``None``.

    Notes
    -----
    The 1 x 1 convolutions do what they do in the inception module: the 3 x 3 convolution
    works on ``width`` channels instead of ``4 * width``. With ``C = 4 * width`` channels in and
    out, the block has ``C width + 9 width^2 + width C = 17 width^2`` weights (Eq. (6.23)
    without biases), against ``2 * 9 C^2 = 288 width^2`` for two 3 x 3 convolutions on ``C``
    channels. Shapes: ``(N, in_channels, H, W)`` to ``(N, 4 width, ceil(H / stride),
    ceil(W / stride))``.

    Examples
    --------
    >>> block = Bottleneck(256, 64)
    >>> block(torch.zeros(1, 256, 7, 7)).shape, sum(p.numel() for p in block.parameters())
    (torch.Size([1, 256, 7, 7]), 70400)
    >>> Bottleneck(64, 64).shortcut.conv  # 64 -> 256 channels: a projection
    Conv2d(64, 256, kernel_size=(1, 1), stride=(1, 1), bias=False)
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1, *, shortcut: bool = True):
        super().__init__()
        in_channels = positive_int(in_channels, "in_channels")
        width = positive_int(width, "width")
        stride = positive_int(stride, "stride")
        check_bool(shortcut, "shortcut")
        out_channels = self.expansion * width
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.residual = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(in_channels, width, 1, bias=False)), ("bn1", nn.BatchNorm2d(width)),
            ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)),
            ("bn2", nn.BatchNorm2d(width)), ("relu2", nn.ReLU()),
            ("conv3", nn.Conv2d(width, out_channels, 1, bias=False)), ("bn3", nn.BatchNorm2d(out_channels)),
        ]))
        self.shortcut = shortcut_path(in_channels, out_channels, stride, shortcut, True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_channels(x, self.in_channels, "Bottleneck")
        out = self.residual(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)




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
        self.act = activation_layer(activation)
        self.expand = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))




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
            layers.append(("expand", conv_bn_act(in_channels, hidden, 1, activation=activation, padding=padding)))
        layers.append(("depthwise", conv_bn_act(hidden, hidden, kernel_size, stride=stride, groups=hidden,
                                                 activation=activation, padding=padding)))
        if se_ratio > 0:
            layers.append(("se", SqueezeExcitation(hidden, max(1, int(in_channels * se_ratio)), activation)))
        layers.append(("project", conv_bn_act(hidden, out_channels, 1, activation=None, padding=padding)))
        self.block = nn.Sequential(OrderedDict(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_channels(x, self.in_channels, "MBConv")
        out = self.block(x)
        return out + x if self.use_residual else out
