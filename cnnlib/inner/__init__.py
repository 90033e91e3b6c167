"""Looking inside a trained network: feature maps, top activations, receptive-field boxes, deconvnet, occlusion (Section 6.4.6).

This package computes; :mod:`cnnlib.visualize` draws what it computes. Modules: ``activations``
(feature maps, top activations, receptive-field boxes), ``projections`` (deconvnet, guided
backpropagation, occlusion, panels), ``optimize`` (activation maximisation), ``_common`` and
``_relu_rules`` (what they share).

- :func:`feature_maps`: the activations of one layer for one input.
- :func:`activation_maxima` and :func:`top_activations`: which inputs (and where in them)
  excite one channel of a layer most; the images are streamed in batches;
  :func:`selective_channels` picks channels worth showing (none that is dead on the images).
- :func:`receptive_field_box`: the input pixels that can affect one activation, following the
  maps as :func:`cnnlib.shapes.receptive_field` does (through branches by the largest path),
  row by row, so that padding and dilated taps at the borders count only where they read pixels.
- :func:`deconvnet`: Zeiler and Fergus's projection of one activation back to pixel space;
  :func:`guided_backprop`, the same with backpropagation's mask added at each ReLU.
- :func:`occlusion_map`: how a score changes when a grey square hides part of the input.
- :func:`activation_maximization`: the input, found by gradient ascent, that excites one unit
  most (feature visualisation by optimisation).
- :func:`layer_panel`: the ingredients of a Figure 6.12-style panel (top image patches and
  their projections) for chosen channels of a layer.

A layer is named as in ``model.named_modules()`` (``'features.relu2'``,
``'features.fire5'``; ``''`` is the whole model), or given as the module itself. Images are tensors or arrays of shape
``(C, H, W)`` (one) or ``(N, C, H, W)`` (many), or a dataset whose items are images or
``(image, label)`` pairs. Results are NumPy arrays on the CPU; the computations run on the
device that holds the model.

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4 ("understanding inner layers and derived features", Figure 6.12).

M. D. Zeiler and R. Fergus, "Visualizing and understanding convolutional networks",
ECCV 2014 (deconvnet, Figure 2, occlusion sensitivity).

M. D. Zeiler, G. W. Taylor and R. Fergus, "Adaptive deconvolutional networks for mid and
high level feature learning", ICCV 2011 (the deconvolutional network).
"""
from ._common import layer_name
from .activations import activation_maxima, feature_maps, receptive_field_box, selective_channels, top_activations
from .optimize import Optimized, activation_maximization
from .projections import TopUnit, deconvnet, guided_backprop, layer_panel, occlusion_map

__all__ = ["feature_maps", "activation_maxima", "top_activations", "selective_channels", "receptive_field_box",
           "deconvnet", "guided_backprop", "occlusion_map", "TopUnit", "layer_panel", "activation_maximization",
           "Optimized", "layer_name"]
