"""cnnlib.models for Section 6.6: SiameseNetwork (shared weights, comparison head), localizer, Segmenter."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnlib import losses, models


def test_siamese_shares_one_embedding_and_is_symmetric():
    torch.manual_seed(0)
    net = models.SiameseNetwork(embedding_dim=6).eval()
    x_a, x_o = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    e_a, e_o = net.embed(x_a), net.embed(x_o)
    torch.testing.assert_close(e_a.norm(dim=1), torch.ones(4))  # on the unit sphere
    # forward = logistic head on |f(x_a) - f(x_o)|, computed by hand from the head's weights
    w, b = net.compare.weight[0], net.compare.bias[0]
    torch.testing.assert_close(net(x_a, x_o), (e_a - e_o).abs() @ w + b)
    torch.testing.assert_close(net(x_a, x_o), net(x_o, x_a))
    # the same image twice: |0| -> the logit is the bias
    torch.testing.assert_close(net(x_a, x_a), b.expand(4))


def test_siamese_embedding_matches_its_layers_and_gradients_reach_both_branches():
    net = models.SiameseNetwork(embedding_dim=3, normalize=False)
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(net.embed(x), net.embedding.head(net.embedding.features(x)))
    # one parameter tensor serves both images: its gradient is the sum of the two branches'
    x_a, x_o = torch.rand(2, 1, 28, 28), torch.rand(2, 1, 28, 28)
    weight = net.embedding.features.conv1.weight

    def grad(score):
        net.zero_grad()
        score.sum().backward()
        return weight.grad.clone()
    both = grad(net(x_a, x_o))
    via_a = grad(net.compare_embeddings(net.embed(x_a), net.embed(x_o).detach()))
    via_o = grad(net.compare_embeddings(net.embed(x_a).detach(), net.embed(x_o)))
    assert via_a.abs().sum() > 0 and via_o.abs().sum() > 0
    torch.testing.assert_close(both, via_a + via_o)
    assert sum(p.numel() for p in net.compare.parameters()) == 4


@settings(max_examples=10, deadline=None)
@given(h=st.integers(16, 40), w=st.integers(16, 40), dim=st.integers(1, 20))
def test_siamese_any_input_size(h, w, dim):
    net = models.SiameseNetwork(embedding_dim=dim, in_channels=2)
    assert net.embed(torch.zeros(3, 2, h, w)).shape == (3, dim)


def test_triplet_training_step_lowers_the_loss():
    """A few steps of Adam on one fixed batch of triplets reduce (6.27)."""
    torch.manual_seed(1)
    net = models.SiameseNetwork(embedding_dim=4)
    a, s, d = torch.rand(8, 1, 28, 28), torch.rand(8, 1, 28, 28), torch.rand(8, 1, 28, 28)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(15):
        loss = losses.triplet_loss(net.embed(a), net.embed(s), net.embed(d), margin=0.5)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


@pytest.mark.parametrize("make, error, match", [
    (lambda: models.SiameseNetwork(0), ValueError, "embedding_dim must be a positive integer"),
    (lambda: models.SiameseNetwork(4, channels=(8, 0)), ValueError, "channels must be an int >= 1"),
    (lambda: models.SiameseNetwork(4, normalize=1), TypeError, "normalize must be True or False"),
    (lambda: models.SiameseNetwork(4).embed(torch.zeros(1, 28, 28)), ValueError, r"x must be a tensor of shape \(B, C, H, W\)"),
    (lambda: models.SiameseNetwork(4)(torch.zeros(2, 1, 28, 28), torch.zeros(3, 1, 28, 28)), ValueError,
     "x_a and x_o must be tensors of the same shape"),
    (lambda: models.SiameseNetwork(4).compare_embeddings(torch.zeros(2, 4), torch.zeros(2, 5)), ValueError,
     r"e_a and e_o must both have shape \(B, 4\)"),
    (lambda: models.localizer(num_classes=1), ValueError, "num_classes must be >= 2"),
    (lambda: models.localizer(size=30), ValueError, r"size must be a multiple of 4 \(two 2 x 2 poolings\), got 30"),
    (lambda: models.Segmenter(width=0), ValueError, "width must be a positive integer"),
])
def test_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_localizer_output_is_scores_then_box():
    net = models.localizer(num_classes=4, size=24, width=8)
    out = net(torch.zeros(5, 1, 24, 24))
    assert out.shape == (5, 8)
    assert isinstance(net.head.fc2, nn.Linear) and net.head.fc2.out_features == 8


def test_segmenter_is_fully_convolutional_with_a_pointwise_classifier():
    torch.manual_seed(0)
    net = models.Segmenter(num_classes=3, width=4).eval()
    x = torch.rand(1, 1, 32, 32)
    assert net(x).shape == (1, 3, 32, 32)
    # the classifier is a 1x1 convolution: it equals a dense layer applied at every pixel
    feats = torch.rand(1, 20, 5, 6)
    dense = feats.permute(0, 2, 3, 1) @ net.classify.weight[:, :, 0, 0].T + net.classify.bias
    torch.testing.assert_close(net.classify(feats), dense.permute(0, 3, 1, 2))


def test_unet_skip_connections_carry_full_resolution_detail():
    torch.manual_seed(0)
    net = models.UNet(num_classes=4, width=4)
    assert net(torch.zeros(2, 1, 16, 24)).shape == (2, 4, 16, 24)
    # the output at a pixel depends on that input pixel through down1 -> up1 (the skip), even
    # with the bottom level switched off
    for p in net.bottom.parameters():
        p.data.zero_()
    x = torch.rand(1, 1, 16, 16, requires_grad=True)
    net(x)[0, :, 5, 7].sum().backward()
    assert x.grad[0, 0, 5, 7] != 0


def test_unet_errors():
    with pytest.raises(ValueError, match="multiples of 4"):
        models.UNet()(torch.zeros(1, 1, 18, 16))
    with pytest.raises(ValueError, match="shape \\(B, C, H, W\\)"):
        models.UNet()(torch.zeros(1, 16, 16))


def test_localizer_batch_norm_option():
    net = models.localizer(batch_norm=True)
    names = [n for n, _ in net.features.named_children()]
    assert names == ["conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "conv3", "bn3", "relu3"]
    assert net(torch.zeros(3, 1, 32, 32)).shape == (3, 7)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in models.localizer().modules())
    with pytest.raises(TypeError, match="batch_norm"):
        models.localizer(batch_norm=1)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), side=st.sampled_from([16, 32, 40]))
def test_heatmap_localizer_box_is_the_expected_edge_position(seed, side):
    """The box is the mean position under each edge map's softmax (oracle: NumPy on the maps)."""
    torch.manual_seed(seed)
    net = models.HeatmapLocalizer(num_classes=3, width=4).eval()
    x = torch.rand(2, 1, side, side)
    with torch.no_grad():
        out, p = net(x).numpy().astype(float), net.edge_maps(x).numpy().astype(float)
    np.testing.assert_allclose(p.sum(axis=(2, 3)), 1.0, rtol=1e-5)
    positions = np.linspace(0, 1, side // 4)
    col = (p.sum(axis=2) * positions).sum(axis=2)  # (2, 4) expected column of each map
    row = (p.sum(axis=3) * positions).sum(axis=2)
    want = np.stack([col[:, 0], row[:, 1], row[:, 3] - row[:, 1], col[:, 2] - col[:, 0]], axis=1)
    np.testing.assert_allclose(out[:, 3:], want, atol=1e-5)
    assert out.shape == (2, 7)


def test_heatmap_localizer_uniform_maps_and_errors():
    net = models.HeatmapLocalizer(width=4).eval()
    with torch.no_grad():  # flat maps: every edge at the mean position, the centre
        net.edges.weight.zero_()
        net.edges.bias.zero_()
        assert torch.allclose(net(torch.rand(1, 1, 32, 32))[0, 3:], torch.tensor([0.5, 0.5, 0.0, 0.0]))
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.zeros(1, 1, 30, 32))
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        models.HeatmapLocalizer(num_classes=1)
    with pytest.raises(TypeError, match="standardize"):
        models.HeatmapLocalizer(standardize=1)


@pytest.mark.parametrize("make", [lambda **k: models.UNet(width=4, **k), lambda **k: models.Segmenter(width=4, **k),
                                  lambda **k: models.localizer(width=4, **k)])
def test_standardize_and_batch_norm_options(make):
    """standardize: the output ignores the brightness and contrast of the image (x and 2 x - 0.5 give the same output)."""
    torch.manual_seed(0)
    net = make(batch_norm=True, standardize=True).eval()
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net(2 * x - 0.5), net(x), atol=1e-3, rtol=1e-3)
        plain = make().eval()
        assert not torch.allclose(plain(2 * x - 0.5), plain(x), atol=1e-3)
    with pytest.raises(TypeError, match="standardize"):
        make(standardize="yes")
