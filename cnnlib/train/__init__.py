"""Training and evaluating a model, fast on a CPU and on a GPU (Section 6.4).

The functions here are what the book's training pages call:

- :func:`get_device` picks CUDA, then Apple's MPS, then the CPU; :func:`use_threads` sets how
  many CPU threads torch uses (one per core that is free);
- :func:`fit` trains a model with mini-batch gradient descent (Adam, AdamW or SGD with
  momentum, optionally a one-cycle learning-rate schedule) on the cross-entropy or any
  ``loss_fn`` and returns a :class:`History`;
- :func:`cached_fit` is :func:`fit` that saves the trained weights and loads them next time;
- :func:`evaluate` gives the mean cross-entropy loss and the accuracy on a dataset;
- :func:`predict` gives the predicted labels; :func:`plot_history` draws the curves;
- :func:`freeze`, :func:`unfreeze` and :func:`count_trainable` serve transfer learning
  (training only the last layers of a network, as Section 6.4 of the chapter describes).

Modules
-------
``device`` (device, size switch, seeds), ``loop`` (:func:`fit`: one loop over a step function,
:class:`EagerStep` the ordinary step written out), ``_cuda_graph`` (the same step captured as a
CUDA graph), ``_batches`` (data as tensors, mini-batches by indexing), ``scoring``
(:func:`evaluate`, :func:`predict`, :func:`plot_history`, freezing), ``cache`` (:func:`cached_fit`),
``threads`` (:func:`use_threads`).

Why :func:`fit` is fast
-----------------------
A data set of images is small enough to sit in memory as two tensors (``images``,
``labels``), so an epoch is a random permutation of the indices and each mini-batch one
indexing operation: no ``DataLoader``, no per-sample ``__getitem__`` and no collation.
On a GPU the whole data set moves to the device once (when it fits), the forward pass
runs under mixed precision (bfloat16 where supported, otherwise float16 with a gradient
scaler), tensors use the channels-last memory layout and cuDNN picks its fastest
algorithms. Running totals of the loss and accuracy stay on the device, so the host waits
for the GPU only when the progress bar is refreshed. On a CPU everything stays in float32
and the results are reproducible: the same seed gives the same :class:`History`.

Data can be given as anything with ``.images`` and ``.labels`` tensors (such as
:class:`cnnlib.data.ImageDataset`), as a pair ``(X, y)`` of tensors, or as any PyTorch
dataset of ``(x, y)`` pairs (stacked into tensors once).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Section 6.4 (fully connected layers, freezing, transfer learning).
L. N. Smith and N. Topin, "Super-convergence: very fast training of neural networks using
large learning rates", 2019 (the one-cycle schedule).
"""
from .cache import cached_fit
from .device import QUICK_ENV, get_device, quick_run, set_seed
from .loop import OPTIMIZERS, SCHEDULES, EagerStep, History, fit
from .scoring import count_trainable, evaluate, freeze, plot_history, predict, unfreeze
from .threads import available_cpus, threads_while_training, use_threads
from .triplets import fit_triplets

__all__ = ["get_device", "quick_run", "QUICK_ENV", "set_seed", "History", "fit", "EagerStep", "OPTIMIZERS",
           "SCHEDULES", "cached_fit", "evaluate", "predict", "plot_history", "freeze", "unfreeze", "count_trainable",
           "use_threads", "threads_while_training", "available_cpus", "fit_triplets"]
