"""cnnlib.visualize: the drawing helpers put the right text in the right cells."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.signal  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from cnnlib import visualize  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _texts(ax):
    return {(round(t.get_position()[0], 3), round(t.get_position()[1], 3)): t.get_text() for t in ax.texts}


def _face_at(ax, x, y):
    """Face colours of the filled patches whose lower-left corner is (x, y)."""
    return [p.get_facecolor() for p in ax.patches if p.get_fill() and tuple(p.get_xy()) == (x, y)]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 5), m=st.integers(1, 5), x0=st.integers(-3, 3), y0=st.integers(-3, 3))
def test_draw_matrix_places_every_entry(n, m, x0, y0):
    fig, ax = plt.subplots()
    M = np.arange(n * m, dtype=float).reshape(n, m) - 2.5
    box = visualize.draw_matrix(ax, M, origin=(x0, y0))
    assert box == (x0, y0, x0 + m, y0 + n)
    texts = _texts(ax)
    for (i, j), v in np.ndenumerate(M):
        assert texts[box.cell_center(i, j)] == f"{v:.3g}"
    assert ax.yaxis_inverted() and ax.get_aspect() == 1.0
    plt.close(fig)


def test_draw_matrix_labels_highlight_and_zeros(ax):
    M = np.array([[0.0, 1.0], [2.0, 0.0]])
    visualize.draw_matrix(ax, M, highlight={"red": [(0, 1)], "green": M == 2}, dim_zeros=True)
    assert _face_at(ax, 1.0, 0.0)[0][:3] == to_rgba("red")[:3]
    assert _face_at(ax, 0.0, 1.0)[0][:3] == to_rgba("green")[:3]
    assert _face_at(ax, 0.0, 0.0)[0][:3] == to_rgba("white")[:3]
    greys = [t for t in ax.texts if t.get_color() == "0.7"]
    assert sorted(t.get_text() for t in greys) == ["0", "0"]


def test_draw_matrix_strings_vectors_and_labels(ax):
    labels = visualize.symbol_labels("f", 3)
    box = visualize.draw_matrix(ax, labels)
    assert box == (0, 0, 1, 3)  # a 1-D array is drawn as a column
    assert [t.get_text() for t in ax.texts] == ["$f_{0}$", "$f_{1}$", "$f_{2}$"]
    box = visualize.draw_matrix(ax, np.eye(2), labels=[["a", "b"], ["c", "d"]], origin=(5, 0), title="T")
    assert _texts(ax)[(5.5, 1.5)] == "c" and "T" in [t.get_text() for t in ax.texts]


def test_draw_matrix_cmap_colours_by_value(ax):
    visualize.draw_matrix(ax, np.array([[0.0, 1.0]]), cmap="Greys")
    low, high = _face_at(ax, 0.0, 0.0)[0], _face_at(ax, 1.0, 0.0)[0]
    assert sum(low[:3]) > sum(high[:3])  # larger values are darker in "Greys"


def test_draw_matrix_errors(ax):
    with pytest.raises(ValueError, match=r"M must be a 1-D or 2-D array, got an array of shape \(2, 2, 2\)"):
        visualize.draw_matrix(ax, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"M must be a non-empty 1-D or 2-D array, got shape \(1, 1, 1\)"):
        visualize.draw_matrix(ax, np.array([[["a"]]]))
    with pytest.raises(TypeError, match="M must be an array of numbers"):
        visualize.draw_matrix(ax, None)
    with pytest.raises(ValueError, match=r"labels must have the matrix's shape \(2, 2\), got shape \(1, 2\)"):
        visualize.draw_matrix(ax, np.eye(2), labels=[["a", "b"]])
    with pytest.raises(ValueError, match=r"highlight cell \(2, 0\) lies outside a matrix of shape \(2, 2\)"):
        visualize.draw_matrix(ax, np.eye(2), highlight={"red": [(2, 0)]})
    with pytest.raises(ValueError, match=r"highlight mask must have the matrix's shape \(2, 2\), got shape \(3,\)"):
        visualize.draw_matrix(ax, np.eye(2), highlight={"red": np.ones(3, bool)})
    with pytest.raises(TypeError, match=r"highlight must hold \(i, j\) pairs or be a boolean mask, got 3"):
        visualize.draw_matrix(ax, np.eye(2), highlight={"red": [3]})


@settings(max_examples=30, deadline=None)
@given(i=st.integers(0, 4), j=st.integers(0, 4), K=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), d=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_window_cells_are_what_a_strided_dilated_convolution_reads(i, j, K, s, d):
    """Oracle: mark the input cells that change output [i, j] of scipy's correlation with a dilated kernel."""
    cells = visualize.window_cells(i, j, K, stride=s, dilation=d)
    assert len(cells) == K[0] * K[1]
    dilated = np.zeros(((K[0] - 1) * d[0] + 1, (K[1] - 1) * d[1] + 1))
    dilated[:: d[0], :: d[1]] = 1.0
    x_shape = (i * s[0] + dilated.shape[0], j * s[1] + dilated.shape[1])
    touched = set()
    for r, c in np.ndindex(*x_shape):
        e = np.zeros(x_shape)
        e[r, c] = 1.0
        if scipy.signal.correlate2d(e, dilated, mode="valid")[:: s[0], :: s[1]][i, j] != 0:
            touched.add((r, c))
    assert set(cells) == touched


def test_window_cells_errors():
    with pytest.raises(ValueError, match="i must be a non-negative integer"):
        visualize.window_cells(-1, 0, 3)
    with pytest.raises(ValueError, match="stride must be an int >= 1 or a pair of them, got 0"):
        visualize.window_cells(0, 0, 3, stride=0)


def test_symbol_labels():
    lab = visualize.symbol_labels("z", (4, 5))
    assert lab.shape == (4, 5) and lab[0, 0] == "$z_{1,1}$" and lab[3, 4] == "$z_{4,5}$"
    with pytest.raises(ValueError, match="shape must be a positive integer"):
        visualize.symbol_labels("f", 0)


def test_figure_6_3_numbers_and_windows():
    rng = np.random.default_rng(0)
    W, x = rng.integers(-2, 3, (3, 3)).astype(float), rng.integers(0, 5, (6, 7)).astype(float)
    fig = visualize.convolution_step_figure(W, x, 1, 2, also=[(0, 0)])
    ax_a, ax_b = fig.axes
    z = scipy.signal.convolve2d(x, W, mode="valid")
    assert z.shape == (4, 5)
    texts_b = [t.get_text() for t in ax_b.texts]
    assert f"{z[1, 2]:.3g}" in texts_b  # panel (b) ends with z[1, 2]
    # Panel (b) shows the flipped kernel: its top-left cell is W[2, 2].
    kernel_cells = [t for t in ax_b.texts if t.get_text() == f"{W[2, 2]:.3g}"]
    assert kernel_cells
    # Every output in panel (a) is scipy's.
    values = sorted(t.get_text() for t in ax_a.texts)
    for v in z.ravel():
        assert f"{v:.3g}" in values
    plt.close(fig)


def test_figure_6_3_symbolic_and_unflipped():
    fig = visualize.convolution_step_figure(np.ones((3, 3)), np.ones((6, 7)), 0, 0, also=[(0, 1)], symbolic=True)
    ax_a, ax_b = fig.axes
    assert "$z_{4,5}$" in [t.get_text() for t in ax_a.texts]  # a 4 x 5 output (6.6)
    texts_b = [t.get_text() for t in ax_b.texts]
    assert "flipped $W$" in texts_b and texts_b.index("$w_{3,3}$") < texts_b.index("$w_{1,1}$")
    plt.close(fig)
    fig = visualize.convolution_step_figure(np.ones((2, 2)), np.ones((3, 3)), symbolic=True, flip=False)
    texts_b = [t.get_text() for t in fig.axes[1].texts]
    assert "$W$ (not flipped)" in texts_b and texts_b.index("$w_{1,1}$") < texts_b.index("$w_{2,2}$")
    plt.close(fig)


def test_figure_errors():
    with pytest.raises(ValueError, match="lies outside the 4 x 5 output"):
        visualize.convolution_step_figure(np.ones((3, 3)), np.ones((6, 7)), 4, 0)
    with pytest.raises(ValueError, match="larger than x"):
        visualize.convolution_step_figure(np.ones((3, 8)), np.ones((6, 7)))
    with pytest.raises(TypeError, match=r"also must hold \(i, j\) pairs, got 3"):
        visualize.convolution_step_figure(np.ones((3, 3)), np.ones((6, 7)), also=[3])
    with pytest.raises(ValueError, match="j must be a non-negative integer"):
        visualize.convolution_step_figure(np.ones((3, 3)), np.ones((6, 7)), 0, -1)
