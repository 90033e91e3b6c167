"""cnnlib.visualize's drawing for Section 6.4.6: kernels, feature maps and Figure 6.12-style panels."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib import inner, visualize  # noqa: E402


def _images(fig):
    return [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]


def test_plot_kernels_rgb_grey_and_many_channels():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(5, 3, 3, 3))
    fig = visualize.plot_kernels(torch.tensor(W), ncols=2)
    imgs = _images(fig)
    assert len(imgs) == 5 and imgs[0].shape == (3, 3, 3)
    k0 = (W[0] - W[0].min()) / (W[0].max() - W[0].min())   # the three channels stretched together
    np.testing.assert_allclose(np.asarray(imgs[0]), np.moveaxis(k0, 0, -1))
    fig = visualize.plot_kernels(W[:, :1], title="grey")
    assert len(_images(fig)) == 5 and fig._suptitle.get_text() == "grey"
    assert len(_images(visualize.plot_kernels(rng.normal(size=(70, 1, 5, 5))))) == 64
    assert len(_images(visualize.plot_kernels(rng.normal(size=(3, 4, 2, 2))))) == 12
    plt.close("all")


def test_plot_feature_maps_share_one_scale():
    A = np.stack([np.full((4, 4), 1.0), np.full((4, 4), 3.0), np.zeros((4, 4))])
    fig = visualize.plot_feature_maps(A, labels=[1, 0])
    ims = [ax.get_images()[0] for ax in fig.axes]
    assert [ax.get_title() for ax in fig.axes] == ["1", "0"]
    assert all(im.get_clim() == (0.0, 3.0) for im in ims)
    plt.close("all")


def test_plot_layer_panel_draws_projections_and_patches():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    x = torch.rand(10, 3, 12, 12)
    panel = inner.layer_panel(net, "2", [1, 3], x, k=4)
    fig = visualize.plot_layer_panel(panel, title="pool")
    imgs = _images(fig)
    assert len(imgs) == 2 * 2 * 4
    unit = panel[1][0]
    # patches in [0, 1] are drawn as they are; projections centred on grey
    assert any(np.allclose(np.asarray(im), np.moveaxis(unit.patch, 0, -1)) for im in imgs)
    proj = unit.projection
    assert any(np.allclose(np.asarray(im), np.moveaxis(0.5 + 0.5 * proj / np.abs(proj).max(), 0, -1)) for im in imgs)
    plt.close("all")


def test_errors():
    with pytest.raises(ValueError, match=r"weight must have shape \(K, C, K_h, K_w\)"):
        visualize.plot_kernels(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="max_kernels must be a positive int"):
        visualize.plot_kernels(np.zeros((3, 1, 3, 3)), max_kernels=0)
    with pytest.raises(ValueError, match=r"maps must have shape \(C, h, w\)"):
        visualize.plot_feature_maps(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"labels must be channels in 0\.\.2, got 5"):
        visualize.plot_feature_maps(np.zeros((3, 2, 2)), labels=[5])
    with pytest.raises(ValueError, match="panel must be a non-empty mapping"):
        visualize.plot_layer_panel({})
