"""cnnlib: the companion library of The CNN Book.

One module per concept of Chapter 6 ("Convolutional Neural Networks") of
*Mathematical Engineering of Deep Learning* (Liquet, Moka and Nazarathy):

``conv``       convolutions and their matrices (6.2)
``signals``    impulses, LTI systems, pmfs of sums (6.2)
``filters``    Sobel and other engineered kernels (6.1, 6.2)
``visualize``  matrices as labelled grids, the flip-and-slide step (6.2); kernels, Figure 6.12 panels (6.4.6)
``shapes``     output sizes, padding, stride, dilation, receptive fields (6.3, 6.4)
``layers``     NumPy convolutional and pooling layers (6.3, 6.4)
``counting``   parameter and neuron counts, layer tables (6.3, 6.4, Table 6.1)
``models``     LeNet-5, VGG, the landmark networks, task networks, pretrained weights and
               ``models.mtcnn``, a real face localizer with landmarks (6.4–6.6)
``train``      device choice, fit (one loop over a step), evaluate, cached weights (6.4)
``data``       datasets with offline fallbacks (6.4)
``inner``      inside a trained network: top activations, receptive-field boxes, deconvnet, occlusion (6.4.6)
``losses``     localization loss, triplet loss (6.6)
``metrics``    IoU, segmentation and verification scores (6.6)
``widgets``    interactive explorers, each with a static figure
``exercises``  checkers that give students feedback
``classroom``  student notebooks without solutions and the autograder (``python -m cnnlib.classroom``)

Modules are imported explicitly (``from cnnlib import conv``); importing ``cnnlib``
never touches the network and does not import torch.
"""
__version__ = "0.1.0"
