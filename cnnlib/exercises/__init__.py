"""Checkers for the book's coding exercises: they say *what* is wrong, not just "incorrect".

A checker takes a student's answer (an array, a number or a function) and returns a
:class:`Feedback`: truthy when the answer is right, shown as a short diagnosis in a
notebook, so that ``assert check_...(answer)`` fails with that diagnosis as its message.
The diagnoses look for the usual slips: a wrong shape (and which formula it comes from),
a kernel that was not flipped, an output shifted or trimmed by one, a near miss.

One submodule per part of the chapter; every checker is importable from here:

``signals``   6.1–6.2, one-dimensional convolution, LTI systems, probability
``matrices``  6.2, Toeplitz matrices, 2-D and volume convolutions, Sobel
``overview``  6.1, dense parameter counts, diagonal edge kernels
``training``  6.4, batch and group normalization, dropout, confusion matrices, frozen layers
``networks``  6.4, layer counts (6.22), pooling, receptive fields, VGG parameter and neuron counts
``conv_layers`` 6.3, output sizes (6.17), "same" padding, conv parameter counts (6.23), conv layers
``beyond``    6.6, IoU, the localization loss, the triplet loss (6.27), verification
``detection`` 6.6.4, decoding a grid cell, non-maximum suppression, average precision
``landmarks``  6.5, inception channels and parameters, residual blocks, ResNet depths, compound scaling
``keypoints_instances`` 6.6.5, keypoint errors in pixels, IoU of instances, objects merged by components
``inner``     6.4.6, receptive-field boxes, top activations, the deconvnet's ReLU rule, occlusion

The machinery underneath, bottom up (each imports only those above it): ``_feedback``
(:class:`Feedback`, :func:`is_unfinished`), ``_record`` (the autograder's record and
:class:`attempt`), ``_registry`` (the ``@checker`` decorator every checker is defined with:
"not attempted yet" for a ``...`` stub, the verdict reported to the record), ``_base``
(shared diagnoses).
"""
from ._feedback import Feedback, is_unfinished
from ._record import attempt
from ._base import call_student, check_output_shape, compare_arrays
from .signals import *  # noqa: F401,F403
from .matrices import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
from .overview import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
from .conv_layers import *  # noqa: F401,F403
from .beyond import *  # noqa: F401,F403
from .detection import *  # noqa: F401,F403
from .inner import *  # noqa: F401,F403
from .keypoints_instances import *  # noqa: F401,F403
from .landmarks import *  # noqa: F401,F403
