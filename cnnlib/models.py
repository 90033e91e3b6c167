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

from ._validation import check_choice, positive_int

__all__ = ["lenet5"]


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
