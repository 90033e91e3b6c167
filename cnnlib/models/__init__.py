"""The book's networks, one module per kind (Sections 6.4–6.6).

``from cnnlib import models`` gives every public name of the modules below, so that pages
write ``models.lenet5()``, ``models.resnet(18)`` or ``models.squeezenet1_1(pretrained=True)``.

==============  ====================================================================  =========
module          what it holds                                                         section
==============  ====================================================================  =========
``classic``     :func:`lenet5`, :func:`vgg`, :func:`vgg19`, :func:`convolutionalize`  6.4
``blocks``      :class:`Fire`, :class:`InceptionModule`, :class:`ResidualBlock`,      6.4–6.5
                :class:`Bottleneck`, :class:`SqueezeExcitation`, :class:`MBConv`
``landmarks``   :func:`alexnet`, :func:`googlenet`, :func:`resnet`,                   6.5
                :func:`efficientnet`, :func:`compound_scaling`
``tasks``       :func:`localizer`, :class:`HeatmapLocalizer`, :class:`Segmenter`,     6.6
                :class:`UNet`, :class:`SiameseNetwork`, :func:`standardizer`
``pretrained``  :func:`squeezenet1_1`, :func:`efficientnet_lite0`,                    6.4–6.5
                :func:`trained_lenet5`, :func:`imagenet_class_names`, input rules
``keypoints``   :func:`keypoint_regressor`                                            6.6
``mtcnn``       MTCNN's three networks and its face detector (not re-exported:        6.6
                ``from cnnlib.models import mtcnn``)
``detection``   a YOLO-style grid detector: :class:`GridDetector`,                    6.6
                :func:`encode_targets`, :func:`decode_detections`,
                :func:`detection_loss` (not re-exported:
                ``from cnnlib.models import detection``)
==============  ====================================================================  =========
"""
from . import blocks, classic, keypoints, landmarks, pretrained, tasks
from .blocks import Bottleneck, Fire, InceptionModule, MBConv, ResidualBlock, SqueezeExcitation
from .classic import *  # noqa: F401,F403
from .keypoints import *  # noqa: F401,F403
from .landmarks import *  # noqa: F401,F403
from .pretrained import *  # noqa: F401,F403
from .tasks import *  # noqa: F401,F403

__all__ = (classic.__all__ + ["Fire", "InceptionModule", "ResidualBlock", "Bottleneck", "SqueezeExcitation", "MBConv"]
           + landmarks.__all__ + tasks.__all__ + keypoints.__all__ + pretrained.__all__)
