"""Networks for the tasks beyond classification of Section 6.6.

:func:`localizer` (class and box), :class:`Segmenter` and :class:`UNet` (a class per pixel) and
:class:`SiameseNetwork` (an embedding and a comparison head for verification).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.6 (Eqs. (6.26)–(6.28), Figures 6.16–6.17).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._validation import check_bool, pair, positive_int

__all__ = ["SiameseNetwork", "standardizer", "localizer", "HeatmapLocalizer", "Segmenter", "UNet"]


class SiameseNetwork(nn.Module):
    """A shared convolutional embedding :math:`f_\\theta` and a logistic comparison head :math:`f^c_{\\theta_c}`.

    The siamese network of Section 6.6 (Figure 6.17 of the chapter): the *same* network,
    with the same parameters, embeds both images of a pair, and a small comparison network
    turns the two embeddings into the probability that they show the same identity.

    ==========  ==========================================  ==================
    name        layer (defaults: channels=(8, 16), hidden=64)  output shape
    ==========  ==========================================  ==================
    conv1       3 x 3 conv, padding 1, 8 ch, ReLU, 2x2 max   (8, 14, 14)
    conv2       3 x 3 conv, padding 1, 16 ch, ReLU, 2x2 max  (16, 7, 7)
    fc1         dense 784 -> 64, ReLU                       (64,)
    fc2         dense 64 -> embedding_dim                   (embedding_dim,)
    ==========  ==========================================  ==================

    (for 28 x 28 inputs; an adaptive average pooling to 7 x 7 before ``fc1`` lets other sizes
    through), followed by a division by the Euclidean norm when ``normalize=True``.

    Parameters
    ----------
    embedding_dim : int, default 16
        Length of the embedding vectors.
    in_channels : int, default 1
    channels : (int, int), default (8, 16)
        Channels of conv1 and conv2 (fc1 then has ``channels[1] * 49`` inputs).
    hidden : int, default 64
        Width of fc1.
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
    >>> net.embedding.head.fc1  # the table above: 16 channels of 7 x 7 = 784 inputs
    Linear(in_features=784, out_features=64, bias=True)
    """

    def __init__(self, embedding_dim: int = 16, in_channels: int = 1, *, channels=(8, 16), hidden: int = 64,
                 normalize: bool = True):
        super().__init__()
        embedding_dim = positive_int(embedding_dim, "embedding_dim")
        in_channels = positive_int(in_channels, "in_channels")
        c1, c2 = pair(channels, "channels")
        hidden = positive_int(hidden, "hidden")
        check_bool(normalize, "normalize")
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


def standardizer(channels: int = 1) -> nn.InstanceNorm2d:
    """A layer that standardizes each image: every channel shifted and scaled to mean 0 and standard deviation 1.

    An instance normalization without learned parameters: unlike batch normalization it uses
    the statistics of each image alone, in training and evaluation alike.

    Examples
    --------
    >>> x = 0.4 + 0.1 * torch.rand(2, 1, 8, 8)
    >>> z = standardizer()(x)
    >>> bool(z.mean(dim=(2, 3)).abs().max() < 1e-5), bool((z.std(dim=(2, 3), unbiased=False) - 1).abs().max() < 0.01)
    (True, True)
    """
    return nn.InstanceNorm2d(positive_int(channels, "channels"), affine=False, track_running_stats=False)


def localizer(num_classes: int = 3, in_channels: int = 1, *, size: int = 32, width: int = 16,
              batch_norm: bool = False, standardize: bool = False) -> nn.Sequential:
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
    batch_norm : bool, default False
        Put a batch normalization (Section 6.4) after each convolution, before its ReLU:
        training on harder images converges in fewer epochs.
    standardize : bool, default False
        Begin with :func:`standardizer`: every image is shifted and scaled to mean 0 and standard
        deviation 1, so that a scene's overall brightness and contrast do not have to be learned.

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
    check_bool(batch_norm, "batch_norm")
    check_bool(standardize, "standardize")
    if size % 4:
        raise ValueError(f"size must be a multiple of 4 (two 2 x 2 poolings), got {size}")
    layers = [("standardize", standardizer(in_channels))] if standardize else []
    for k, (c_in, c_out, pool) in enumerate(((in_channels, width, True), (width, 2 * width, True),
                                             (2 * width, 2 * width, False)), start=1):
        layers += _conv_layers(k, c_in, c_out, batch_norm)
        if pool:
            layers.append((f"pool{k}", nn.MaxPool2d(2)))
    features = nn.Sequential(OrderedDict(layers))
    head = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()), ("fc1", nn.Linear(2 * width * (size // 4) ** 2, 128)), ("relu4", nn.ReLU()),
        ("fc2", nn.Linear(128, num_classes + 4)),
    ]))
    return nn.Sequential(OrderedDict([("features", features), ("head", head)]))


class HeatmapLocalizer(nn.Module):
    """A localizer that reads its box from four heat maps (a soft argmax) instead of a dense layer.

    The output is the chapter's localization vector, as for :func:`localizer`: ``num_classes``
    class scores, then the box :math:`(\\hat y_x, \\hat y_y, \\hat y_h, \\hat y_w)` as fractions
    of the image's width and height. Only the way the box is computed differs. A fully
    convolutional trunk (batch-normalized 3 x 3 convolutions, two 2 x 2 poolings, then two
    dilated convolutions, so that each position sees the whole 32 x 32 scene) ends in a 1 x 1
    convolution with four maps, one per edge of the box: left, top, right, bottom. A softmax over
    the positions of each map turns it into a probability distribution, and the edge is the
    expected column (left, right) or row (top, bottom) under it, the positions running from 0
    to 1 across the image: a differentiable "soft argmax". The class scores come from a dense
    layer on the largest and the mean value of each channel (global pooling).

    A dense layer on flattened feature maps must learn the position of every feature separately
    (many weights, few examples of each position); the heat maps reuse the same 1 x 1 weights at
    every position, which needs far fewer examples (the idea of coordinate regression by soft
    argmax, Nibali et al. 2018).

    Parameters
    ----------
    num_classes : int, default 3
        Number of classes, "nothing" included (>= 2).
    in_channels : int, default 1
    width : int, default 16
        Channels of the first convolution (the others have twice as many).
    standardize : bool, default True
        Begin with :func:`standardizer` (each image to mean 0, standard deviation 1).

    Shape
    -----
    (B, in_channels, H, W) -> (B, num_classes + 4), H and W multiples of 4.

    Examples
    --------
    >>> net = HeatmapLocalizer()
    >>> net(torch.zeros(2, 1, 32, 32)).shape, net.edge_maps(torch.zeros(2, 1, 32, 32)).shape
    (torch.Size([2, 7]), torch.Size([2, 4, 8, 8]))
    """

    def __init__(self, num_classes: int = 3, in_channels: int = 1, *, width: int = 16, standardize: bool = True):
        super().__init__()
        num_classes, in_channels, width = (positive_int(v, n) for v, n in
                                           ((num_classes, "num_classes"), (in_channels, "in_channels"), (width, "width")))
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2 (nothing and at least one object), got {num_classes}")
        check_bool(standardize, "standardize")
        first = [("standardize", standardizer(in_channels))] if standardize else []
        self.features = nn.Sequential(OrderedDict(
            first + _conv_layers(1, in_channels, width, True) + [("pool1", nn.MaxPool2d(2))]
            + _conv_layers(2, width, 2 * width, True) + [("pool2", nn.MaxPool2d(2))]
            + _conv_layers(3, 2 * width, 2 * width, True, dilation=2) + _conv_layers(4, 2 * width, 2 * width, True, dilation=4)))
        self.classify = nn.Linear(4 * width, num_classes)
        self.edges = nn.Conv2d(2 * width, 4, kernel_size=1)  # left, top, right, bottom

    def _check(self, x) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a tensor of shape (B, C, H, W), got {got}")
        if x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError(f"x must have a height and width that are multiples of 4, got {tuple(x.shape[-2:])}")

    def edge_maps(self, x: torch.Tensor) -> torch.Tensor:
        """The four heat maps as probabilities, shape (B, 4, H/4, W/4), each summing to 1."""
        self._check(x)
        maps = self.edges(self.features(x))
        return maps.flatten(2).softmax(dim=2).view_as(maps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        f = self.features(x)  # (B, 2 width, H/4, W/4)
        scores = self.classify(torch.cat([f.amax(dim=(2, 3)), f.mean(dim=(2, 3))], dim=1))
        p = self.edges(f).flatten(2).softmax(dim=2).view(len(f), 4, *f.shape[-2:])
        cols = torch.linspace(0, 1, f.shape[-1], dtype=f.dtype, device=f.device)
        rows = torch.linspace(0, 1, f.shape[-2], dtype=f.dtype, device=f.device)
        column = (p.sum(dim=2) * cols).sum(dim=2)  # (B, 4): expected column of each map
        row = (p.sum(dim=3) * rows).sum(dim=2)  # (B, 4): expected row of each map
        left, top, right, bottom = column[:, 0], row[:, 1], column[:, 2], row[:, 3]
        return torch.cat([scores, torch.stack([left, top, bottom - top, right - left], dim=1)], dim=1)


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
    batch_norm : bool, default False
        A batch normalization after each convolution, before its ReLU.
    standardize : bool, default False
        Begin with :func:`standardizer` (each image to mean 0, standard deviation 1).

    Shape
    -----
    (B, in_channels, H, W) -> (B, num_classes, H, W) for any H, W (no dense layer).

    Examples
    --------
    >>> net = Segmenter()
    >>> net(torch.zeros(2, 1, 32, 32)).shape, net(torch.zeros(1, 1, 40, 24)).shape
    (torch.Size([2, 3, 32, 32]), torch.Size([1, 3, 40, 24]))
    """

    def __init__(self, num_classes: int = 3, in_channels: int = 1, *, width: int = 16, batch_norm: bool = False,
                 standardize: bool = False):
        super().__init__()
        num_classes, in_channels, width = (positive_int(v, n) for v, n in
                                           ((num_classes, "num_classes"), (in_channels, "in_channels"), (width, "width")))
        check_bool(batch_norm, "batch_norm")
        check_bool(standardize, "standardize")
        self.standardize = standardizer(in_channels) if standardize else nn.Identity()
        self.fine = nn.Sequential(OrderedDict(_conv_layers(1, in_channels, width, batch_norm)))
        self.coarse = nn.Sequential(OrderedDict(
            [("pool1", nn.MaxPool2d(2))] + _conv_layers(2, width, 2 * width, batch_norm)
            + [("pool2", nn.MaxPool2d(2))] + _conv_layers(3, 2 * width, 2 * width, batch_norm, dilation=2)))
        self.classify = nn.Conv2d(5 * width, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fine = self.fine(self.standardize(x))  # (B, width, H, W)
        coarse = self.coarse(fine)  # (B, 2 width, H/4, W/4)
        whole = coarse.amax(dim=(2, 3), keepdim=True).expand(-1, -1, *x.shape[-2:])  # (B, 2 width, H, W)
        coarse = nn.functional.interpolate(coarse, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.classify(torch.cat([fine, coarse, whole], dim=1))  # (B, num_classes, H, W)


def _conv_layers(k: int, c_in: int, c_out: int, batch_norm: bool, dilation: int = 1) -> list:
    """conv{k} (3 x 3, size kept), bn{k} if batch_norm, relu{k}: named layers for an OrderedDict."""
    layers = [(f"conv{k}", nn.Conv2d(c_in, c_out, 3, padding=dilation, dilation=dilation))]
    if batch_norm:
        layers.append((f"bn{k}", nn.BatchNorm2d(c_out)))
    return layers + [(f"relu{k}", nn.ReLU())]


def _double_conv(c_in: int, c_out: int, batch_norm: bool = False) -> nn.Sequential:
    return nn.Sequential(OrderedDict(_conv_layers(1, c_in, c_out, batch_norm) + _conv_layers(2, c_out, c_out, batch_norm)))


class UNet(nn.Module):
    """A small U-Net: an encoder that pools twice, a decoder that upsamples twice, skip connections between.

    The architecture of Ronneberger et al. (2015) at a small scale. The encoder is a plain CNN
    (two 3 x 3 convolutions, then 2 x 2 max pooling, twice); the decoder doubles the resolution
    twice (a 2 x 2 transposed convolution) and, at each level, concatenates the encoder's feature
    maps of the same size (the *skip connection*) before two more convolutions, so that the fine
    detail lost by pooling comes back for the last layer, a 1 x 1 convolution that classifies
    every pixel.

    ==========  ==============================================  ======================
    name        layers                                          output shape
    ==========  ==============================================  ======================
    down1       two 3 x 3 convs, ReLU                            (w, H, W)
    down2       2 x 2 max pool, two 3 x 3 convs, ReLU            (2w, H/2, W/2)
    bottom      2 x 2 max pool, two 3 x 3 convs, ReLU            (4w, H/4, W/4)
    up2         transposed conv x2, concat down2, two 3 x 3      (2w, H/2, W/2)
    up1         transposed conv x2, concat down1, two 3 x 3      (w, H, W)
    classify    1 x 1 conv                                      (num_classes, H, W)
    ==========  ==============================================  ======================

    Parameters
    ----------
    num_classes : int, default 3
    in_channels : int, default 1
    width : int, default 8
        w, the channels at full resolution.
    batch_norm : bool, default False
        A batch normalization after each 3 x 3 convolution, before its ReLU.
    standardize : bool, default False
        Begin with :func:`standardizer` (each image to mean 0, standard deviation 1).
    skip : bool, default True
        ``False`` removes the two skip connections and nothing else, for a controlled comparison:
        each transposed convolution then gives twice as many channels (4w at H/2, 2w at H), so
        that every later layer receives as many channels as with the skips and has the same
        weights; only the two transposed convolutions grow (the network gains
        :math:`40 w^2 + 3 w` parameters).

    Shape
    -----
    (B, in_channels, H, W) -> (B, num_classes, H, W), H and W multiples of 4.

    Examples
    --------
    >>> net = UNet()
    >>> net(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 3, 32, 32])
    >>> [sum(p.numel() for p in UNet(skip=s).parameters()) for s in (True, False)]
    [29339, 31923]
    >>> UNet()(torch.zeros(1, 1, 30, 32))
    Traceback (most recent call last):
    ...
    ValueError: x must have a height and width that are multiples of 4, got (30, 32)
    """

    def __init__(self, num_classes: int = 3, in_channels: int = 1, *, width: int = 8, batch_norm: bool = False,
                 standardize: bool = False, skip: bool = True):
        super().__init__()
        num_classes, in_channels, width = (positive_int(v, n) for v, n in
                                           ((num_classes, "num_classes"), (in_channels, "in_channels"), (width, "width")))
        check_bool(batch_norm, "batch_norm")
        check_bool(standardize, "standardize")
        check_bool(skip, "skip")
        self.skip = skip
        lifted = 1 if skip else 2  # without skips, the lifted maps fill the channels the encoder's maps took
        self.standardize = standardizer(in_channels) if standardize else nn.Identity()
        self.down1 = _double_conv(in_channels, width, batch_norm)
        self.down2 = _double_conv(width, 2 * width, batch_norm)
        self.bottom = _double_conv(2 * width, 4 * width, batch_norm)
        self.lift2 = nn.ConvTranspose2d(4 * width, lifted * 2 * width, 2, stride=2)
        self.up2 = _double_conv(4 * width, 2 * width, batch_norm)
        self.lift1 = nn.ConvTranspose2d(2 * width, lifted * width, 2, stride=2)
        self.up1 = _double_conv(2 * width, width, batch_norm)
        self.classify = nn.Conv2d(width, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a tensor of shape (B, C, H, W), got {got}")
        if x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError(f"x must have a height and width that are multiples of 4, got {tuple(x.shape[-2:])}")
        d1 = self.down1(self.standardize(x))  # (B, w, H, W)
        d2 = self.down2(nn.functional.max_pool2d(d1, 2))  # (B, 2w, H/2, W/2)
        b = self.bottom(nn.functional.max_pool2d(d2, 2))  # (B, 4w, H/4, W/4)
        if not self.skip:  # the same channel counts, filled by the lifted maps alone
            return self.classify(self.up1(self.lift1(self.up2(self.lift2(b)))))
        u2 = self.up2(torch.cat([self.lift2(b), d2], dim=1))  # skip connection from down2
        u1 = self.up1(torch.cat([self.lift1(u2), d1], dim=1))  # skip connection from down1
        return self.classify(u1)

    def extra_repr(self) -> str:
        return "" if self.skip else "skip=False"
