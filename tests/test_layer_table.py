"""cnnlib.counting.layer_table: Table 6.1 of the chapter, every row, and the counts of Eq. (6.22)."""
import pytest
import torch
from torch import nn

from cnnlib import counting, models

# Table 6.1 of the chapter, typed from the chapter: (layer, type, output dimension, neurons, parameters).
CHAPTER_TABLE_6_1 = [
    (1, "Convolution", (64, 224, 224), 3_211_264, 1_792),
    (2, "Convolution", (64, 224, 224), 3_211_264, 36_928),
    (3, "Max-pooling", (64, 112, 112), 802_816, 0),
    (4, "Convolution", (128, 112, 112), 1_605_632, 73_856),
    (5, "Convolution", (128, 112, 112), 1_605_632, 147_584),
    (6, "Max-pooling", (128, 56, 56), 401_408, 0),
    (7, "Convolution", (256, 56, 56), 802_816, 295_168),
    (8, "Convolution", (256, 56, 56), 802_816, 590_080),
    (9, "Convolution", (256, 56, 56), 802_816, 590_080),
    (10, "Convolution", (256, 56, 56), 802_816, 590_080),
    (11, "Max-pooling", (256, 28, 28), 200_704, 0),
    (12, "Convolution", (512, 28, 28), 401_408, 1_180_160),
    (13, "Convolution", (512, 28, 28), 401_408, 2_359_808),
    (14, "Convolution", (512, 28, 28), 401_408, 2_359_808),
    (15, "Convolution", (512, 28, 28), 401_408, 2_359_808),
    (16, "Max-pooling", (512, 14, 14), 100_352, 0),
    (17, "Convolution", (512, 14, 14), 100_352, 2_359_808),
    (18, "Convolution", (512, 14, 14), 100_352, 2_359_808),
    (19, "Convolution", (512, 14, 14), 100_352, 2_359_808),
    (20, "Convolution", (512, 14, 14), 100_352, 2_359_808),
    (21, "Max-pooling", (512, 7, 7), 25_088, 0),
    (22, "Fully connected", (4_096,), 4_096, 102_764_544),
    (23, "Fully connected", (4_096,), 4_096, 16_781_312),
    (24, "Fully connected", (1_000,), 1_000, 4_097_000),
]
CHAPTER_TOTALS = dict(neurons=16_391_656, parameters=143_667_240)
CHAPTER_6_22 = dict(L=24, L_train=19, L_pool=5, L_conv=16, L_dense=3)


@pytest.fixture(scope="module")
def vgg19_table():
    with torch.device("meta"):
        model = models.vgg19()
    return counting.layer_table(model, (3, 224, 224))


def test_every_row_of_table_6_1(vgg19_table):
    ours = [(r.number, r.kind, r.output_shape, r.neurons, r.parameters) for r in vgg19_table.layers]
    assert ours == CHAPTER_TABLE_6_1


def test_input_row_flatten_note_totals_and_counts(vgg19_table):
    first = vgg19_table.rows[0]
    assert (first.number, first.kind, first.output_shape) == (0, "Input", (3, 224, 224))
    notes = [r for r in vgg19_table.rows if r.number is None]
    assert len(notes) == 1 and notes[0].neurons == 25_088 == 512 * 7 * 7
    assert vgg19_table.rows.index(notes[0]) == 22  # right after layer 21, before layer 22
    assert vgg19_table.total_neurons == CHAPTER_TOTALS["neurons"]
    assert vgg19_table.total_parameters == CHAPTER_TOTALS["parameters"]
    assert vgg19_table.counts == CHAPTER_6_22


def test_parameters_agree_with_pytorch_for_random_networks():
    torch.manual_seed(0)
    model = models.vgg([3, "M", 5, 5, "M"], in_channels=2, num_classes=4, classifier=(6,), input_size=(12, 10))
    table = counting.layer_table(model, (2, 12, 10))
    assert table.total_parameters == sum(p.numel() for p in model.parameters())
    assert table.counts == dict(L=7, L_train=5, L_pool=2, L_conv=3, L_dense=2)
    shapes = []
    x = torch.zeros(1, 2, 12, 10)
    for layer in list(model.features) + list(model.classifier):
        x = layer(x)
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.Linear)):
            shapes.append(tuple(x.shape[1:]))
    assert [r.output_shape for r in table.layers] == shapes


def test_batch_norm_is_folded_and_odd_layers_are_named():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Upsample(scale_factor=2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(), nn.Linear(4, 2))
    table = counting.layer_table(model, (1, 6, 6))
    kinds = [r.kind for r in table.layers]
    assert kinds == ["Convolution + BatchNorm2d", "Upsample", "Adaptive average pooling", "Fully connected"]
    assert table.layers[0].parameters == 4 * 10 + 8
    assert table.counts == dict(L=4, L_train=2, L_pool=2, L_conv=1, L_dense=1)


def test_renders(vgg19_table):
    text, md, html = str(vgg19_table), vgg19_table.to_markdown(), vgg19_table._repr_html_()
    for out in (text, md, html):
        assert "143,667,240" in out and "16,391,656" in out and "Flattening to a vector of length 25,088" in out
    assert html.startswith("<table>") and md.startswith("| Layer number")
    assert list(vgg19_table.to_dataframe()["parameters"][1:]) == [row[4] for row in CHAPTER_TABLE_6_1]


@pytest.mark.parametrize("model, shape, error, match", [
    ([1, 2], (1, 4, 4), TypeError, "model must be a torch.nn.Module, got list"),
    (nn.Conv2d(1, 1, 3), (), ValueError, r"input_shape must be a tuple such as \(3, 224, 224\)"),
    (nn.Conv2d(1, 1, 3), (1, -4, 4), ValueError, "input_shape must be a positive integer"),
    (nn.Conv2d(1, 1, 3), (2, 4, 4), ValueError, r"the model does not run on inputs of shape \(2, 4, 4\)"),
])
def test_errors(model, shape, error, match):
    with pytest.raises(error, match=match):
        counting.layer_table(model, shape)
