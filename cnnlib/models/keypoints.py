"""A network for landmarks (keypoints) of Section 6.6: the localizer's body with a head of 2K coordinates.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (Figure 6.16, landmark detection).
"""
from __future__ import annotations

from torch import nn

from .._validation import positive_int
from .tasks import localizer

__all__ = ["keypoint_regressor"]


def keypoint_regressor(num_points: int = 3, in_channels: int = 1, *, size: int = 32, width: int = 16) -> nn.Sequential:
    """A small CNN that regresses ``num_points`` points ``(x, y)``: output ``x_1, y_1, x_2, y_2, ...``.

    The layers of :func:`~cnnlib.models.localizer` with batch normalization (three 3 x 3
    convolutions, two poolings, a dense layer of 128), with a last dense layer of
    ``2 * num_points`` outputs in place of the class scores and box. Train it with
    :func:`cnnlib.keypoints.keypoint_loss` on points given as fractions of the image side.

    Parameters
    ----------
    num_points : int, default 3
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
    >>> import torch
    >>> keypoint_regressor()(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 6])
    """
    num_points = positive_int(num_points, "num_points")
    net = localizer(2, in_channels, size=size, width=width, batch_norm=True)
    net.head.fc2 = nn.Linear(net.head.fc2.in_features, 2 * num_points)
    return net
