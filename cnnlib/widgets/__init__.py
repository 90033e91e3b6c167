"""Interactive explorers for the book.

Each explorer is an anywidget: its drawing logic is an ES module in ``cnnlib/widgets/``
that runs in the browser (``cnnlib/widgets/widget_kit.js``, the helpers they share, is put in
front of each module by ``_esm.esm_source``), so the explorer keeps responding in the rendered book without a
kernel (the widget state is embedded at build time), and works as any widget in Jupyter,
JupyterLab, VS Code and Colab. Every explorer has a static matplotlib counterpart for print.

``conv_arithmetic_explorer`` (6.3): padding, stride, dilation and the output size of Eq. (6.17)
(``unread_indices``: the input rows and columns no output reads; ``transposed_conv_figure``: the
transposed convolution, each input pixel writing a copy of the kernel).

``network_explorer`` (6.4): a trained LeNet-5 running in the page; draw a digit, watch every
layer, click a unit for its receptive field, kernel and Eq. (6.14) (``network_figure``: static;
``normalize_digit``: a drawing scaled and centred as MNIST's digits were; ``top_patches``: each
channel's favourite patches of the training set, embedded so that a click shows them).
"""
from ._flip_slide import FlipSlideExplorer, flip_slide_explorer, flip_slide_figure  # noqa: F401
from ._conv_arithmetic import ConvArithmeticExplorer, conv_arithmetic_explorer, conv_arithmetic_figure  # noqa: F401
from ._conv_arithmetic import transposed_conv_figure, unread_indices  # noqa: F401
from ._network import NetworkExplorer, network_explorer, network_figure, normalize_digit, pick_examples  # noqa: F401
from ._network_patches import PATCH_BUDGET, top_patches  # noqa: F401
