"""Guard rail (issue 12): every checker names the slip a page warns about.

For each checker exported by :mod:`cnnlib.exercises`, the table below feeds the common
wrong answers that the exercise text (or its solution) on the page says the checker
recognises, and asserts the *specific* diagnosis, not a generic "the values differ".
A new checker without a row here fails :func:`test_every_checker_has_wrong_answers`.
"""
import itertools
import re

import numpy as np
import pytest
import torch
from torch import nn

from scipy import ndimage
from scipy import signal as sps

from cnnlib import boxes, exercises, filters, layers, models, signals

rng = np.random.default_rng(12)
W3, X3 = rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 4, 5))
W2, X2 = rng.normal(size=(3, 3)), rng.normal(size=(6, 7))
IMG = np.add.outer(np.arange(7.0) ** 2, np.arange(8.0) ** 3)
F_SEQ = [1.0, 2.0, 3.0, 4.0]
LENET = dict(L=7, L_train=5, L_pool=2, L_conv=2, L_dense=3)
VGG16 = 138_357_544
Y_TRUE, Y_PRED = [0, 0, 1, 2, 2, 2, 1], [0, 1, 1, 2, 0, 2, 1]


def toeplitz(f, n):
    """T(f) by its definition, T[i, j] = f[i - j] (an independent oracle)."""
    T = np.zeros((len(f) + n - 1, n))
    for j in range(n):
        T[j:j + len(f), j] = f
    return T


def mystery(x):  # the system of ex-6-2-1-impulse-response
    x = np.asarray(x, dtype=float)
    return x - signals.delay(x, 1)[:len(x)] + 0.5 * signals.delay(x, 2)[:len(x)]


def confusion(y_true, y_pred, k=3):
    C = np.zeros((k, k), int)
    np.add.at(C, (y_true, y_pred), 1)
    return C


def lti_with_affine_coefficients(system):
    """Linearity tested with a + b = 1 only: the page's warning about the offset x + 1."""
    x1, x2 = np.arange(16.0), np.cos(np.arange(16.0))
    linear = np.allclose(system(2 * x1 - x2), 2 * system(x1) - system(x2))
    x = np.sin(np.arange(16.0))
    shifted = np.allclose(system(signals.delay(x, 3))[3:19], system(x)[:16]) if len(system(x)) else True
    return bool(linear and shifted)


def no_time_invariance_test(system):
    a, b = 1.7, -0.4
    x1, x2 = np.arange(16.0), np.cos(np.arange(16.0))
    return bool(np.allclose(system(a * x1 + b * x2), a * system(x1) + b * system(x2)))


def norm(z, axes, gamma, beta, eps, ddof=0):
    mean = z.mean(axis=axes, keepdims=True)
    var = z.var(axis=axes, keepdims=True, ddof=ddof)
    return gamma[None, :, None, None] * (z - mean) / np.sqrt(var + eps) + beta[None, :, None, None]


def group_norm_round_robin(z, G, gamma, beta, eps):
    N, C, H, W = z.shape
    order = np.argsort(np.arange(C) % G, kind="stable")
    g = z[:, order].reshape(N, G, -1)
    zbar = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(z.shape)
    out = np.empty_like(zbar)
    out[:, order] = zbar
    return gamma[None, :, None, None] * out + beta[None, :, None, None]


def group_norm_with_batch(z, G, gamma, beta, eps):
    N, C, H, W = z.shape
    g = z.reshape(N, G, -1)
    zbar = ((g - g.mean((0, 2), keepdims=True)) / np.sqrt(g.var((0, 2), keepdims=True) + eps)).reshape(z.shape)
    return gamma[None, :, None, None] * zbar + beta[None, :, None, None]


def pool_loop(x, k, step=None, stop=0, reduce=np.max):
    step = step or k
    return np.array([[reduce(x[i:i + k, j:j + k]) for j in range(0, x.shape[1] - k + 1 - stop, step)]
                     for i in range(0, x.shape[0] - k + 1 - stop, step)])


def vertical_sobel_numpy(x, smooth=(1, 2, 1), diff=(1, 0, -1)):
    cols = np.apply_along_axis(np.convolve, 0, x, smooth, "valid") if smooth else x[1:-1]
    return np.apply_along_axis(np.convolve, 1, cols, diff, "valid")


# checker name -> list of (call producing a Feedback for a wrong answer, expected diagnosis)
CASES = {
    "check_convolve1d": [  # 6.2 index: np.correlate, in either order, is the missing flip
        (lambda: exercises.check_convolve1d(lambda f, g: np.correlate(f, g, "full")), r"not flipped.*cross-correlation"),
        (lambda: exercises.check_convolve1d(lambda f, g: np.correlate(g, f, "full")), r"not flipped.*cross-correlation"),
        (lambda: exercises.check_convolve1d(lambda f, g: np.convolve(f, g, "valid")), r"'valid' length"),
        (lambda: exercises.check_convolve1d(lambda f, g: np.convolve(f, g, "same")), r"'same' length"),
    ],
    "check_impulse_response": [  # 6.2.1: delayed, advanced, reversed, scaled responses
        (lambda: exercises.check_impulse_response([0, 1, -1, 0.5, 0, 0], mystery, 6), r"impulse sat at t = 1"),
        (lambda: exercises.check_impulse_response([-1, 0.5, 0, 0, 0, 0], mystery, 6), r"first sample was dropped"),
        (lambda: exercises.check_impulse_response([0, 0, 0, 0.5, -1, 1], mystery, 6), r"reversed in time"),
        (lambda: exercises.check_impulse_response([2, -2, 1, 0, 0, 0], mystery, 6), r"scaled by 2"),
    ],
    "check_lti_test": [  # 6.2.1: affine coefficients let the offset through; no delay test
        (lambda: exercises.check_lti_test(lti_with_affine_coefficients), r"offset.*add up to 1"),
        (lambda: exercises.check_lti_test(no_time_invariance_test), r"time-varying gain.*delay the input"),
    ],
    "check_pmf": [  # 6.2.2: counts, a support shifted by one, a support of the wrong length
        (lambda: exercises.check_pmf(([1, 2, 3, 4, 5, 6, 7], [1, 2, 2, 2, 2, 2, 1]),
                                     signals.sum_pmf(([1, 2, 3, 4, 5, 6], np.full(6, 1 / 6)), ([0, 1], [0.5, 0.5]))),
         r"add up to 12.*divide the counts"),
        (lambda: exercises.check_pmf(([0, 1, 2, 3, 4, 5, 6], np.array([1, 2, 2, 2, 2, 2, 1]) / 12),
                                     signals.sum_pmf(([1, 2, 3, 4, 5, 6], np.full(6, 1 / 6)), ([0, 1], [0.5, 0.5]))),
         r"shifted by -1.*die start at 0"),
        (lambda: exercises.check_pmf(([1, 2, 3, 4, 5, 6], np.full(6, 1 / 6)),
                                     signals.sum_pmf(([1, 2, 3, 4, 5, 6], np.full(6, 1 / 6)), ([0, 1], [0.5, 0.5]))),
         r"support has 6 values; expected 7.*m \+ n - 1"),
    ],
    "check_toeplitz": [  # 6.2.3: a transposed matrix, f in the wrong order
        (lambda: exercises.check_toeplitz(toeplitz(F_SEQ, 5).T, F_SEQ, 5), r"transposed"),
        (lambda: exercises.check_toeplitz(toeplitz(F_SEQ[::-1], 5), F_SEQ, 5), r"reverse order"),
    ],
    "check_convolve2d": [  # 6.2.4: unflipped, flipped along one axis, wrong size
        (lambda: exercises.check_convolve2d(sps.correlate2d(X2, W2, "valid"), W=W2, x=X2), r"not flipped.*\(6\.14\)"),
        (lambda: exercises.check_convolve2d(sps.correlate2d(X2, W2[::-1], "valid"), W=W2, x=X2), r"one axis only"),
        (lambda: exercises.check_convolve2d(np.zeros((8, 9)), W=W2, x=X2), r"'full' size"),
    ],
    "check_volume_convolve": [  # 6.2.4: channel i with channel i is (6.10) as written
        (lambda: exercises.check_volume_convolve(sum(sps.convolve2d(X3[c], W3[c], "valid") for c in range(3))[None], W=W3, x=X3),
         r"\(6\.10\) as written.*K_c \+ 1 - i meets input channel i"),
        (lambda: exercises.check_volume_convolve(sps.correlate(X3, W3, "valid"), W=W3, x=X3),
         r"not flipped at all"),
    ],
    "check_separable_sobel": [  # 6.2.5: other direction, missing flip, missing smoothing
        (lambda: exercises.check_separable_sobel(filters.sobel_edges(IMG, "horizontal"), IMG), r"swapped axes"),
        (lambda: exercises.check_separable_sobel(vertical_sobel_numpy(IMG, diff=(-1, 0, 1)), IMG), r"not flipped"),
        (lambda: exercises.check_separable_sobel(vertical_sobel_numpy(IMG, smooth=None), IMG), r"smoothing.*left out"),
    ],
    "check_dense_parameter_count": [  # 6.1: forgotten bias, bias per input, forgotten channel, p + K
        (lambda: exercises.check_dense_parameter_count(7_840, (1, 28, 28), 10), r"weights only"),
        (lambda: exercises.check_dense_parameter_count(7_840 + 784, (1, 28, 28), 10), r"bias per input"),
        (lambda: exercises.check_dense_parameter_count(32 * 32 * 10 + 10, (3, 32, 32), 10), r"channel"),
        (lambda: exercises.check_dense_parameter_count(784 + 10, (1, 28, 28), 10), r"p \+ K"),
    ],
    "check_diagonal_kernel": [  # 6.1: the other diagonal, a vertical detector, not summing to 0
        (lambda: exercises.check_diagonal_kernel([[2, 1, 0], [1, 0, -1], [0, -1, -2]], "main"), r"anti-diagonal instead"),
        (lambda: exercises.check_diagonal_kernel(filters.SOBEL_VERTICAL, "main"), r"both diagonals|leaks"),
        (lambda: exercises.check_diagonal_kernel([[1, 1, 2], [1, 1, 1], [0, 1, 1]], "main"), r"flat"),
    ],
    "check_output_shape": [  # 6.4.4: the map size one too large
        (lambda: exercises.check_output_shape((20, 10), (19, 9), formula="(M - 28) // 4 + 1"),
         r"1 too large: recheck \(M - 28\) // 4 \+ 1"),
        (lambda: exercises.check_output_shape((8, 48, 64, 5), (8, 5, 48, 64)), r"channels last, \(N, H, W, C\)"),  # 6.6
    ],
    "check_output_size": [  # 6.3.2: missing + 1, per-side vs total, dilation ignored
        (lambda: exercises.check_output_size(lambda M, K, p, s, d: (M + p - d * (K - 1) - 1) // s), r"\+ 1 is missing"),
        (lambda: exercises.check_output_size(lambda M, K, p, s, d: (M + 2 * p - d * (K - 1) - 1) // s + 1),
         r"padding was doubled"),
        (lambda: exercises.check_output_size(lambda M, K, p, s, d: (M + p - K) // s + 1), r"dilation was ignored"),
    ],
    "check_same_padding": [  # 6.3.2: dilation ignored, per side vs total
        (lambda: exercises.check_same_padding(2, 3, dilation=2), r"ignores the dilation"),
        (lambda: exercises.check_same_padding(1, 3), r"per side|each side"),
    ],
    "check_conv_params": [  # 6.3.3 / 6.4.1: (6.23) slips
        (lambda: exercises.check_conv_params(1728, 3, 64, 3), r"biases are missing"),
        (lambda: exercises.check_conv_params(64 * 10, 16, 64, 3), r"input channels"),
    ],
    "check_conv2d": [  # 6.3.3: a flipped kernel, no channel sum, missing bias
        (lambda: exercises.check_conv2d(lambda x, W, b: layers.conv2d(x, W[..., ::-1, ::-1], b)), r"kernel was flipped"),
        (lambda: exercises.check_conv2d(lambda x, W, b: layers.conv2d(x, W, np.zeros_like(b))), r"bias"),
    ],
    "check_layer_counts": [  # 6.4: ReLUs or the flattening counted as layers
        (lambda: exercises.check_layer_counts(dict(LENET, L=12, L_pool=7), models.lenet5(), (1, 28, 28)), r"activations"),
        (lambda: exercises.check_layer_counts(dict(LENET, L=8, L_pool=3), models.lenet5(), (1, 28, 28)), r"flattening"),
    ],
    "check_pool_output": [  # 6.4.1: stride 1, a loop one window short, a sum for a mean
        (lambda: exercises.check_pool_output(lambda x, k: pool_loop(x, k, step=1)), r"stride 1"),
        (lambda: exercises.check_pool_output(lambda x, k: pool_loop(x, k, stop=1)), r"missing"),
        (lambda: exercises.check_pool_output(lambda x, k: pool_loop(x, k, reduce=np.sum), "avg"), r"summed, not averaged"),
    ],
    "check_receptive_field": [  # 6.4.1: the forgotten jump (13 instead of 24)
        (lambda: exercises.check_receptive_field(13, [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]),
         r"not multiplied by its jump"),
    ],
    "check_confusion_matrix": [  # 6.4.2: rows = predictions
        (lambda: exercises.check_confusion_matrix(confusion(Y_TRUE, Y_PRED).T, Y_TRUE, Y_PRED), r"rows and columns are swapped"),
    ],
    "check_trainable_count": [  # 6.4.2: frozen parameters counted too
        (lambda: exercises.check_trainable_count(23, frozen_linear()), r"frozen ones included"),
    ],
    "check_vgg_parameter_count": [  # 6.4.3: biases, a dense layer, 224 vs 227, pooling layers
        (lambda: exercises.check_vgg_parameter_count(VGG16 - 4_224 - 9_192, "vgg16"), r"weights only"),
        (lambda: exercises.check_vgg_parameter_count(VGG16 - 4_097_000, "vgg16"), r"without dense layer 3"),
        (lambda: exercises.check_vgg_parameter_count(VGG16 - 16_781_312, "vgg16"), r"without dense layer 2"),
        (lambda: exercises.check_vgg_parameter_count(VGG16 + 512 * (64 - 49) * 4096, "vgg16"), r"227 × 227"),
        (lambda: exercises.check_vgg_parameter_count(VGG16 + 512 * (196 - 49) * 4096, "vgg16"), r"one pooling layer too few"),
        (lambda: exercises.check_vgg_parameter_count(
            VGG16 + sum(c * (9 * c + 1) for c in (64, 128, 256, 512, 512)), "vgg16"), r"pooling layer is counted"),
    ],
    "check_neuron_count": [  # 6.4.3: the pooling layer of the block left out
        (lambda: exercises.check_neuron_count(4 * 802_816, vgg19_meta(), (3, 224, 224), range(7, 12)), r"leaves out layer 11"),
    ],
    "check_pointwise_conv": [  # 6.4.4: the bias left out
        (lambda: exercises.check_pointwise_conv(lambda x, W, b: np.einsum("kc,nchw->nkhw", W, x)), r"bias b was left out"),
    ],
    "check_conv_macs": [  # 6.4.4: one output position only
        (lambda: exercises.check_conv_macs(256 * 256 * 9, 256, 256, 3, 56), r"one output position"),
        # 6.5: FLOPs (2 per multiply-add) and the input's 224 x 224 for AlexNet's 55 x 55 output
        (lambda: exercises.check_conv_macs(2 * 3 * 96 * 11 * 11 * 55 * 55, 3, 96, 11, 55), r"counts FLOPs"),
        (lambda: exercises.check_conv_macs(3 * 96 * 11 * 11 * 224 * 224, 3, 96, 11, 55),
         r"uses 224 x 224 output positions; this layer's output is 55 x 55"),
        (lambda: exercises.check_conv_macs(3 * 96 * 11 * 11 * 55 * 55 + 7, 3, 96, 11, 55),
         r"7 more than the right one(?!.*1 times)"),
    ],
    "check_batch_norm": [  # 6.4.5: wrong axes, wrong variance
        (lambda: exercises.check_batch_norm(lambda z, g, b, e: norm(z, (1, 2, 3), g, b, e)), r"per sample"),
        (lambda: exercises.check_batch_norm(lambda z, g, b, e: norm(z, (0, 2, 3), g, b, e, ddof=1)), r"unbiased"),
    ],
    "check_group_norm": [  # 6.4.5: statistics over the batch (the chapter's wording), round-robin groups
        (lambda: exercises.check_group_norm(group_norm_with_batch), r"mini-batch"),
        (lambda: exercises.check_group_norm(group_norm_round_robin), r"round-robin|consecutive"),
    ],
    "check_dropout": [  # 6.4.5: the division by 1 - p forgotten
        (lambda: exercises.check_dropout(lambda x, p, rng: x * (rng.random(x.shape) >= p)), r"divide them by 1 - p"),
    ],
}


def occlusion(score, image, patch, stride, fill, sign=1.0):
    base = score(image)
    H, W = image.shape[1:]
    out = np.zeros(((H - patch) // stride + 1, (W - patch) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            y = image.copy()
            y[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            out[i, j] = sign * (score(y) - base)
    return out


def top_images(acts, k):
    flat = acts.reshape(len(acts), -1)
    order = np.argsort(-flat.max(axis=1), kind="stable")[:k]
    return [(n, divmod(int(flat[n].argmax()), acts.shape[2]), flat[n].max()) for n in order]


CASES.update({  # 6.4.6, what the inner layers learn
    "check_relu_backward": [  # backpropagation's rule where the deconvnet's is asked for
        (lambda: exercises.check_relu_backward(lambda x, g: g * (x > 0)), r"implemented backpropagation"),
    ],
    "check_receptive_field_box": [  # a box not clipped to the image
        (lambda: exercises.check_receptive_field_box((8, 16, 21, 29), models.lenet5(), "features.conv2", (5, 9),
                                                     (1, 28, 28)), r"clip it"),
    ],
    "check_occlusion": [  # the opposite sign
        (lambda: exercises.check_occlusion(lambda *a: occlusion(*a, sign=-1.0)), r"sign is reversed"),
    ],
    "check_top_images": [  # ascending order
        (lambda: exercises.check_top_images(lambda acts, k: top_images(acts, k)[::-1]), r"increasing order"),
    ],
})


def iou_union_twice(a, b):
    (xa, ya, ha, wa), (xb, yb, hb, wb) = a, b
    ix = max(0, min(xa + wa, xb + wb) - max(xa, xb))
    iy = max(0, min(ya + ha, yb + hb) - max(ya, yb))
    return ix * iy / (ha * wa + hb * wb)


def loc_loss_no_gamma(logits, boxes, labels, target, gamma):
    z = logits - logits.max(1, keepdims=True)
    ce = -(z - np.log(np.exp(z).sum(1, keepdims=True)))[np.arange(len(labels)), labels]
    has = labels != 0
    se = np.zeros(len(labels))
    se[has] = ((boxes[has] - target[has]) ** 2).sum(1)
    return np.mean(ce + se)


def residual_plain(x, W1, W2):
    import torch.nn.functional as F
    x, W1, W2 = (torch.as_tensor(a) for a in (x, W1, W2))
    return F.relu(F.conv2d(F.relu(F.conv2d(x, W1, padding=1)), W2, padding=1)).numpy()


def triplet_no_clip(a, s, d, margin):
    return (((a - s) ** 2).sum(1) - ((a - d) ** 2).sum(1) + margin).mean()


def triplet_max_after_mean(a, s, d, margin):
    return max((((a - s) ** 2).sum(1) - ((a - d) ** 2).sum(1) + margin).mean(), 0.0)


def triplet_active_mean(a, s, d, margin):  # what 6.6.2's training loop averages over
    losses = np.maximum(((a - s) ** 2).sum(1) - ((a - d) ** 2).sum(1) + margin, 0)
    return losses.sum() / (losses > 0).sum()


def triplet_cosine(a, s, d, margin):
    cos = lambda u, v: 1 - (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)  # noqa: E731
    return np.maximum(cos(a, s) - cos(a, d) + margin, 0).mean()


def iou_floor_division(a, b):
    (xa, ya, ha, wa), (xb, yb, hb, wb) = a, b
    ix = max(0, min(xa + wa, xb + wb) - max(xa, xb))
    iy = max(0, min(ya + ha, yb + hb) - max(ya, yb))
    return ix * iy // (ha * wa + hb * wb - ix * iy)


def _loc_parts(logits, boxes, labels, target):
    z = logits - logits.max(1, keepdims=True)
    ce = -(z - np.log(np.exp(z).sum(1, keepdims=True)))[np.arange(len(labels)), labels]
    has = labels != 0
    return ce, has, np.where(has[:, None], boxes - np.nan_to_num(target), 0.0)


def loc_loss_box_mean(logits, boxes, labels, target, gamma):
    ce, has, diff = _loc_parts(logits, boxes, labels, target)
    return np.mean(ce + gamma * (diff ** 2).mean(1))


def loc_loss_l1(logits, boxes, labels, target, gamma):
    ce, has, diff = _loc_parts(logits, boxes, labels, target)
    return np.mean(ce + gamma * np.abs(diff).sum(1))


CASES.update({  # 6.5 landmark networks and 6.6 beyond classification
    "check_inception_channels": [  # the slip of the chapter's text on Figure 6.13
        (lambda: exercises.check_inception_channels(416, 192, 64, 96, 128, 16, 32, 32), r"pooling path with 192"),
    ],
    "check_inception_params": [  # forgotten biases
        (lambda: exercises.check_inception_params(163_328, 192, 64, 96, 128, 16, 32, 32), r"leaves out the biases"),
    ],
    "check_residual_forward": [  # the missing shortcut
        (lambda: exercises.check_residual_forward(residual_plain), r"shortcut is missing"),
    ],
    "check_resnet_depth": [  # stem and dense layer left out
        (lambda: exercises.check_resnet_depth(54, 9), r"leaves out the stem"),
        (lambda: exercises.check_resnet_depth(57, 9), r"1 more than the right one, 1\.8% off"),  # not "1 times"
    ],
    "check_compound_scaling": [  # depth and width swapped
        (lambda: exercises.check_compound_scaling((1.1 ** 3, 1.2 ** 3, 1.15 ** 3), 3), r"depth and width are swapped"),
    ],
    "check_iou": [  # the intersection counted twice in the union; integer division
        (lambda: exercises.check_iou(iou_union_twice), r"sum of the areas"),
        (lambda: exercises.check_iou(iou_floor_division), r"integer division \(//\)"),
    ],
    "check_localization_loss": [  # gamma left out; the four squared errors averaged; an L1 box loss
        (lambda: exercises.check_localization_loss(loc_loss_no_gamma), r"gamma was left out"),
        (lambda: exercises.check_localization_loss(loc_loss_box_mean), r"our convention .* sums"),
        (lambda: exercises.check_localization_loss(loc_loss_l1), r"an L1 loss"),
    ],
    "check_triplet_loss": [  # the max(., 0) left out or after the mean; active-triplet mean; cosine
        (lambda: exercises.check_triplet_loss(triplet_no_clip), r"max\(\., 0\) was left out"),
        (lambda: exercises.check_triplet_loss(triplet_max_after_mean), r"applied after the mean"),
        (lambda: exercises.check_triplet_loss(triplet_active_mean), r"number of active triplets"),
        (lambda: exercises.check_triplet_loss(triplet_cosine), r"cosine distances were used"),
    ],
    "check_verification_accuracy": [  # the inequality the wrong way round; percent
        (lambda: exercises.check_verification_accuracy(lambda d, s, t: np.mean((d > t) == (s == 1))),
         r"inequality points the wrong way"),
        (lambda: exercises.check_verification_accuracy(lambda d, s, t: 100 * np.mean((d < t) == (s == 1))),
         r"in percent"),
    ],
})


def top_images_by_mean(acts, k):  # ex-6-4-6-top-images ranked by the mean, not eta = the maximum
    flat = acts.reshape(len(acts), -1)
    order = np.argsort(-flat.mean(axis=1), kind="stable")[:k]
    return [(int(n), divmod(int(flat[n].argmax()), acts.shape[2]), float(flat[n].max())) for n in order]


def occlusion_raw_scores(score, image, patch, stride, fill):  # ex-6-4-6-occlusion without the intact score
    H, W = image.shape[1:]
    out = np.zeros(((H - patch) // stride + 1, (W - patch) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            covered = image.copy()
            covered[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            out[i, j] = score(covered)
    return out


CASES.update({  # 6.4.6 inner layers
    "check_receptive_field_box": [  # not clipped to the image; exclusive ends
        (lambda: exercises.check_receptive_field_box((-2, 12, 15, 29), models.lenet5(), "features.relu2", (0, 7),
                                                     (1, 28, 28)), r"clip it"),
        (lambda: exercises.check_receptive_field_box((8, 12, 22, 26), models.lenet5(), "features.relu2", (5, 7),
                                                     (1, 28, 28)), r"one pixel too far"),
        # exclusive ends where the field reaches the border: not "clip it" (the exercise's unit (2, 9))
        (lambda: exercises.check_receptive_field_box((2, 16, 16, 28), models.lenet5(), "features.relu2", (2, 9),
                                                     (1, 28, 28)), r"one pixel too far"),
        # conv1's padding ignored: the box moves 2 pixels down and right
        (lambda: exercises.check_receptive_field_box((4, 18, 17, 27), models.lenet5(), "features.relu2", (2, 9),
                                                     (1, 28, 28)), r"as if the layers before had no padding"),
        # (col, row) instead of (row, col)
        (lambda: exercises.check_receptive_field_box((16, 2, 27, 15), models.lenet5(), "features.relu2", (2, 9),
                                                     (1, 28, 28)), r"the field of the unit at \(9, 2\)"),
    ],
    "check_top_images": [  # ranked by the mean instead of the maximum over positions
        (lambda: exercises.check_top_images(top_images_by_mean), r"mean activation"),
    ],
    "check_relu_backward": [  # backpropagation's rule where the deconvnet's is asked
        (lambda: exercises.check_relu_backward(lambda x, g: g * (x > 0)), r"implemented backpropagation"),
        (lambda: exercises.check_relu_backward(lambda x, g: np.maximum(g, 0), rule="guided"), r"the deconvnet"),
    ],
    "check_occlusion": [  # the scores themselves, not their change
        (lambda: exercises.check_occlusion(occlusion_raw_scores), r"subtract the score of the intact image"),
    ],
})


def frozen_linear():
    net = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    net[0].requires_grad_(False)
    return net


def vgg19_meta():
    with torch.device("meta"):
        return models.vgg19()


def poisson_pmf(t, rate):
    return np.exp(-rate) * float(rate) ** np.asarray(t, dtype=float) / np.array([np.prod(np.arange(1.0, k + 1)) for k in t])


TRUNCATED = np.convolve(poisson_pmf(np.arange(16), 2), poisson_pmf(np.arange(16), 3))


CASES.update({  # issue 19: references inside the checkers (6.2.2, 6.2.3, the prediction exercises)
    "check_toeplitz_shape": [  # 6.2.3: swapped, one row too many, columns counted by f
        (lambda: exercises.check_toeplitz_shape((10, 13), 4, 10), r"rows and columns are swapped"),
        (lambda: exercises.check_toeplitz_shape((14, 10), 4, 10), r"one row too many"),
        (lambda: exercises.check_toeplitz_shape((13, 4), 4, 10), r"one column per entry of g"),
    ],
    "check_toeplitz_diagonals": [  # 6.2.3: diagonals counted as rows, non-zero ones counted per column
        (lambda: exercises.check_toeplitz_diagonals((13, 4), 4, 10), r"that is the number of rows"),
        (lambda: exercises.check_toeplitz_diagonals((22, 10), 4, 10), r"len\(f\) = 4, whatever n"),
    ],
    "check_dice_sums": [  # 6.2.2 Galileo: unordered ways, counts, the wrong order
        (lambda: exercises.check_dice_sums((6 / 216, 6 / 216), (9, 10)), r"unordered ways"),
        (lambda: exercises.check_dice_sums((25, 27), (9, 10)), r"counts of ordered outcomes"),
        (lambda: exercises.check_dice_sums((27 / 216, 25 / 216), (9, 10)), r"wrong order"),
    ],
    "check_truncated_sum_pmf": [  # 6.2.2 Poisson: the exact pmf, the result cut at K, zeros
        (lambda: exercises.check_truncated_sum_pmf(poisson_pmf(np.arange(31), 5)), r"exact Poisson\(5\) pmf"),
        (lambda: exercises.check_truncated_sum_pmf(TRUNCATED[:16]), r"kept only t = 0\.\.15"),
        (lambda: exercises.check_truncated_sum_pmf(np.zeros(31)), r"entries differ"),
    ],
    "check_convolution_shape": [  # 6.2.4: full for valid, valid for full, one short, channel axis dropped
        (lambda: exercises.check_convolution_shape((36, 36), (32, 32), (5, 5)), r"full size \(6\.5\)"),
        (lambda: exercises.check_convolution_shape((28, 28), (32, 32), (5, 5), mode="full"), r"valid size \(6\.6\)"),
        (lambda: exercises.check_convolution_shape((27, 27), (32, 32), (5, 5)), r"one short"),
        (lambda: exercises.check_convolution_shape((28, 28), (3, 32, 32), (3, 5, 5)), r"drops the channel axis"),
    ],
    "check_conv_weight_shape": [  # 6.3: channels swapped, input channels left out, channels last
        (lambda: exercises.check_conv_weight_shape((3, 16, 5, 5), 3, 16, 5), r"channels swapped"),
        (lambda: exercises.check_conv_weight_shape((16, 5, 5), 3, 16, 5), r"leaves out the input channels"),
        (lambda: exercises.check_conv_weight_shape((5, 5, 3, 16), 3, 16, 5), r"TensorFlow's order"),
    ],
    "check_layer_output_shape": [  # 6.3.1, 6.3.2, 6.5.3, 6.6: the slips of (6.17), the wrong part, channels
        (lambda: exercises.check_layer_output_shape((28, 28), nn.Conv2d(1, 1, 5), (1, 1, 28, 28), dims="hw"),
         r"the \+ 1 is missing|input's height and width"),
        (lambda: exercises.check_layer_output_shape((224, 224), nn.Conv2d(3, 64, 7, stride=2, padding=3),
                                                    (1, 3, 224, 224), dims="hw"), r"stride was ignored"),
        (lambda: exercises.check_layer_output_shape((3, 64, 112, 112), nn.Conv2d(3, 64, 7, stride=2, padding=3),
                                                    (3, 3, 224, 224), dims="chw"), r"output's \(N, C, H, W\)"),
        (lambda: exercises.check_layer_output_shape((8, 3, 48, 64), nn.Conv2d(3, 5, 3, padding=1), (8, 3, 48, 64)),
         r"the channels are not"),
    ],
})


def _decoder(*, exp=True, anchor=True, sigmoid=True, offset=True, fmt="xyxy", swap_rc=False, swap_wh=False):
    """decode_cell of ex-6-6-4-decode, with one slip switched on."""
    def decode(t, row, col, cell, a):
        sig = (lambda v: 1 / (1 + np.exp(-v))) if sigmoid else (lambda v: v)
        r, c = (col, row) if swap_rc else (row, col)
        cx, cy = ((c if offset else 0) + sig(t[0])) * cell, ((r if offset else 0) + sig(t[1])) * cell
        size = (lambda v: np.exp(v)) if exp else (lambda v: v)
        w, h = (a if anchor else 1) * size(t[2]), (a if anchor else 1) * size(t[3])
        w, h = (h, w) if swap_wh else (w, h)
        return {"xyxy": (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), "cxcywh": (cx, cy, w, h),
                "xywh": (cx - w / 2, cy - h / 2, w, h)}[fmt]
    return decode


def _nms_with(drop_at_equal=False, reverse=False, sort=True, any_better=False, sort_indices=False):
    """nms of ex-6-6-4-nms, with one slip switched on."""
    def nms(b, s, t):
        iou = boxes.box_iou(b, b)
        order = list(np.argsort(-np.asarray(s), kind="stable")) if sort else list(range(len(s)))
        drop = (lambda v: v >= t) if drop_at_equal else (lambda v: v <= t) if reverse else (lambda v: v > t)
        if any_better:
            return [int(i) for k, i in enumerate(order) if not any(iou[i, j] > t for j in order[:k])]
        keep, gone = [], set()
        for i in order:
            if i not in gone:
                keep.append(int(i))
                gone |= {int(j) for j in order if j != i and drop(iou[i, j])}
        return sorted(keep) if sort_indices else keep
    return nms


def _ap_with(interpolate=True, over_hits=False, eleven=False):
    """ap of ex-6-6-4-ap, with one slip switched on."""
    def ap(hits, n_true):
        hits = np.asarray(hits, float)
        tp = np.cumsum(hits)
        precision, recall = tp / np.arange(1, len(hits) + 1), tp / n_true
        best = np.maximum.accumulate(precision[::-1])[::-1]
        if over_hits:
            return float((precision * hits).sum() / hits.sum())
        if eleven:
            return float(np.mean([best[recall >= r].max() if (recall >= r).any() else 0 for r in np.linspace(0, 1, 11)]))
        return float((np.diff(recall, prepend=0) * (best if interpolate else precision)).sum())
    return ap


CASES.update({  # 6.6.4 object detection
    "check_decode_cell": [  # the exp of the log sizes forgotten; corners vs other formats; rows and columns
        (lambda: exercises.check_decode_cell(_decoder(exp=False)), r"t_w and t_h are logarithms"),
        (lambda: exercises.check_decode_cell(_decoder(anchor=False)), r"anchor was left out"),
        (lambda: exercises.check_decode_cell(_decoder(sigmoid=False)), r"without the sigmoid"),
        (lambda: exercises.check_decode_cell(_decoder(offset=False)), r"cell's own position was left out"),
        (lambda: exercises.check_decode_cell(_decoder(swap_rc=True)), r"row and column were swapped"),
        (lambda: exercises.check_decode_cell(_decoder(swap_wh=True)), r"width and height were swapped"),
        (lambda: exercises.check_decode_cell(_decoder(fmt="cxcywh")), r"centre and size \(cx, cy, w, h\)"),
        (lambda: exercises.check_decode_cell(_decoder(fmt="xywh")), r"corner and size \(x1, y1, w, h\)"),
    ],
    "check_nms": [  # the IoU threshold's direction; >= for >; suppression by removed boxes; no sorting
        (lambda: exercises.check_nms(_nms_with(reverse=True)), r"threshold direction is reversed"),
        (lambda: exercises.check_nms(_nms_with(drop_at_equal=True)), r"strictly greater"),
        (lambda: exercises.check_nms(_nms_with(any_better=True)), r"itself removed"),
        (lambda: exercises.check_nms(_nms_with(sort=False)), r"order given, not by decreasing score"),
        (lambda: exercises.check_nms(_nms_with(sort_indices=True)), r"not best score first"),
    ],
    "check_average_precision": [  # no interpolation; the hits only; VOC 2007's 11 points
        (lambda: exercises.check_average_precision(_ap_with(interpolate=False)), r"not interpolated"),
        (lambda: exercises.check_average_precision(_ap_with(over_hits=True)), r"averaged over the hits only"),
        (lambda: exercises.check_average_precision(_ap_with(eleven=True)), r"11-point"),
    ],
})



def _pixel_error(pred, target, size, *, scale=True, match=True):  # ex-6-6-5-pixel-error, two of its slips
    p, t = pred.reshape(-1, 3, 2), target.reshape(-1, 3, 2)
    orders = [list(o) for o in itertools.permutations(range(3))] if match else [[0, 1, 2]]
    return (size if scale else 1) * np.mean([min(np.linalg.norm(a[o] - b, axis=1).mean() for o in orders) for a, b in zip(p, t)])


def _iou_matrix_with_background(pred, true):  # ex-6-6-5-instances: label 0 counted as an object
    return np.array([[((pred == p) & (true == t)).sum() / ((pred == p) | (true == t)).sum() for t in np.unique(true)]
                     for p in np.unique(pred)])


def _merged_with_corners(inst):  # ex-6-6-5-instances: 8-neighbours
    comps, _ = ndimage.label(inst > 0, structure=np.ones((3, 3)))
    return sum(len(set(np.unique(inst[comps == comps[inst == k][0]])) - {0}) > 1 for k in np.unique(inst[inst > 0]))


CASES.update({  # 6.6.5 landmarks and instance segmentation
    "check_keypoint_error": [  # forgetting to scale to pixels; no matching of the vertices
        (lambda: exercises.check_keypoint_error(lambda p, t, s: _pixel_error(p, t, s, scale=False)), r"multiply by the side"),
        (lambda: exercises.check_keypoint_error(lambda p, t, s: _pixel_error(p, t, s, match=False)), r"vertices have no order"),
    ],
    "check_iou_matrix": [  # the background counted as an object
        (lambda: exercises.check_iou_matrix(_iou_matrix_with_background), r"background \(label 0\) was counted"),
    ],
    "check_merged_count": [  # merged components counted instead of objects; 8-neighbours
        (lambda: exercises.check_merged_count(lambda i: sum(len(np.unique(i[ndimage.label(i > 0)[0] == c])) > 1
                                                            for c in range(1, ndimage.label(i > 0)[1] + 1))),
         r"count the objects in them"),
        (lambda: exercises.check_merged_count(_merged_with_corners), r"8-neighbours"),
    ],
})

def checker_names():
    return sorted(n for n in dir(exercises) if n.startswith("check_") and callable(getattr(exercises, n)))


def test_every_checker_has_wrong_answers():
    missing = [n for n in checker_names() if n not in CASES]
    assert not missing, f"checkers without a wrong-answer case in {__file__}: {missing}"
    assert not set(CASES) - set(checker_names()), "CASES names a checker that is not exported"


@pytest.mark.parametrize("name, k", [(n, k) for n, cases in CASES.items() for k in range(len(cases))])
def test_wrong_answer_gets_its_diagnosis(name, k):
    make, pattern = CASES[name][k]
    fb = make()
    assert isinstance(fb, exercises.Feedback)
    assert not fb, f"{name} accepted a wrong answer: {fb}"
    assert re.search(pattern, str(fb), flags=re.S), f"{name}: expected /{pattern}/, got:\n{fb}"
