"""cnnlib: the companion library of The CNN Book.

One module per concept of Chapter 6 ("Convolutional Neural Networks") of
*Mathematical Engineering of Deep Learning* (Liquet, Moka and Nazarathy):

``conv``       convolutions and their matrices (6.2)
``filters``    Sobel and other engineered kernels (6.1, 6.2)
``exercises``  checkers that give students feedback

Modules are imported explicitly (``from cnnlib import conv``); importing ``cnnlib``
never touches the network and does not import torch.
"""
__version__ = "0.1.0"
