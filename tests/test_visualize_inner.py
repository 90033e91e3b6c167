"""cnnlib.visualize's drawing for Section 6.4.6: kernels, feature maps and Figure 6.12-style panels."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from cnnlib import inner, visualize  # noqa: E402


def _mosaic_of(fig, ax=0):
    return np.asarray(fig.axes[ax].get_images()[0].get_array())


def test_plot_kernels_rgb_grey_and_many_channels():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(5, 3, 3, 3))
    mosaic = _mosaic_of(visualize.plot_kernels(torch.tensor(W), ncols=2))
    assert mosaic.shape == (3 * 4 - 1, 2 * 4 - 1, 3)                   # 3 rows, 2 columns, 1-pixel lines
    k0 = (W[0] - W[0].min()) / (W[0].max() - W[0].min())               # the three channels stretched together
    np.testing.assert_allclose(mosaic[:3, :3], np.moveaxis(k0, 0, -1))
    k3 = (W[3] - W[3].min()) / (W[3].max() - W[3].min())               # row 1, column 1
    np.testing.assert_allclose(mosaic[4:7, 4:7], np.moveaxis(k3, 0, -1))
    assert (mosaic[8:, 4:] == 1).all()                                 # the empty sixth cell stays white
    fig = visualize.plot_kernels(W[:, :1], title="grey")
    grey = _mosaic_of(fig)
    g1 = (W[1, 0] - W[1, 0].min()) / np.ptp(W[1, 0])
    np.testing.assert_allclose(grey[:3, 4:7], np.repeat(g1[..., None], 3, -1))
    assert fig.axes[0].get_title() == "grey"
    assert _mosaic_of(visualize.plot_kernels(rng.normal(size=(70, 1, 5, 5)))).shape == (8 * 6 - 1, 8 * 6 - 1, 3)
    assert _mosaic_of(visualize.plot_kernels(rng.normal(size=(3, 4, 2, 2)))).shape == (3 * 3 - 1, 4 * 3 - 1, 3)
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
    fig = visualize.plot_layer_panel(panel, title="pool", percentile=100)
    assert [ax.get_title() for ax in fig.axes] == ["channel 1", "channel 3"]
    both = _mosaic_of(fig)
    unit = panel[1][0]
    h, w = unit.patch.shape[1:]
    proj = unit.projection
    np.testing.assert_allclose(both[:h, :w], np.moveaxis(0.5 + 0.5 * proj / np.abs(proj).max(), 0, -1))  # grey is 0
    width = 2 * (w + 1) - 1                              # the projections' grid, then a gap, then the patches
    gap = max(2, width // 8)
    np.testing.assert_allclose(both[:h, width + gap:width + gap + w], np.moveaxis(unit.patch, 0, -1))
    plt.close("all")


def test_projections_are_clipped_at_the_percentile():
    from types import SimpleNamespace as Unit

    proj = np.zeros((1, 10, 10))
    proj[0, 0, 0], proj[0, 5, 5:] = 100.0, 1.0
    units = [Unit(patch=np.zeros((1, 10, 10)), projection=proj)]
    tile = _mosaic_of(visualize.plot_layer_panel({0: units}, percentile=95))
    assert tile[0, 0, 0] == 1.0 and tile[5, 5, 0] == 1.0             # 1.0 is the 95th percentile: white
    tile = _mosaic_of(visualize.plot_layer_panel({0: units}, percentile=100))
    assert tile[5, 5, 0] == pytest.approx(0.505)                      # scaled by the largest value, 100
    plt.close("all")


def test_units_that_did_not_answer_are_faded_and_digits_can_be_drawn_dark_on_light():
    from types import SimpleNamespace as Unit

    patch = np.zeros((1, 4, 4))
    patch[0, 1, 1:3] = 1.0                                             # a white stroke on black
    projection = np.ones((1, 4, 4))
    units = [Unit(patch=patch, projection=projection, value=2.0), Unit(patch=patch, projection=projection, value=0.0)]
    both = _mosaic_of(visualize.plot_layer_panel({0: units}, invert=True, percentile=100))
    width = 2 * (4 + 1) - 1
    gap = max(2, width // 8)
    answered = both[:4, width + gap:width + gap + 4, 0]
    np.testing.assert_allclose(answered, 1 - patch[0])                 # dark stroke on white
    silent = both[:4, width + gap + 5:width + gap + 9, 0]
    np.testing.assert_allclose(silent, 0.25 * (1 - patch[0]) + 0.6)    # faded into grey
    np.testing.assert_allclose(both[:4, 5:9, 0], 0.8)                  # its projection left blank
    plt.close("all")


def test_channels_per_row():
    from types import SimpleNamespace as Unit

    units = [Unit(patch=np.zeros((3, 5, 5)), projection=np.ones((3, 5, 5)), value=1.0)] * 4
    fig = visualize.plot_layer_panel({c: units for c in range(3)}, per_row=2, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["channel 0", "channel 1", "channel 2"]
    rows = sorted({round(ax.get_position().y0, 3) for ax in fig.axes})
    assert len(rows) == 2                                              # two rows: 2 + 1 channels
    assert min(ax.title.get_fontsize() for ax in fig.axes) >= 9
    alone = _mosaic_of(visualize.plot_layer_panel({0: units}, projections=False))
    expected = np.ones((11, 11, 3))                                    # patches only: 2 x 2 tiles, 1 px apart
    for r in (0, 6):
        for c in (0, 6):
            expected[r:r + 5, c:c + 5] = 0.0
    np.testing.assert_allclose(alone, expected)
    with pytest.raises(ValueError, match="per_row must be a positive int"):
        visualize.plot_layer_panel({0: units}, per_row=0)
    with pytest.raises(TypeError, match="invert must be True or False"):
        visualize.plot_layer_panel({0: units}, invert="yes")
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
