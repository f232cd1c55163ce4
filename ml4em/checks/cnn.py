"""Checks for tutorials/04_cnn.

The reference answers come from :mod:`scipy.signal` (cross-correlation),
:mod:`ml4em.cnn` (pooling, detection scores) and fresh simulated images
(:mod:`ml4em.stem`). Each check refuses the package's own implementation of
its exercise (see :mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import cnn as ref
from ._core import call_student, check_array, check_callable, check_close, check_shape, check_true
from ._own import answers

TUTORIAL = "04_cnn"

__all__ = ["check_conv2d", "check_max_pool", "check_detection_f1", "check_defect_model"]


@answers(TUTORIAL, "conv2d", "ml4em.cnn.conv2d")
def check_conv2d(conv2d, *, image_shape=(6, 7), kernel_shape=(3, 3), seed=0):
    """``conv2d(image, kernel)`` is the 'valid' 2-D cross-correlation (as ``scipy.signal.correlate2d``)."""
    from scipy import signal

    check_callable(conv2d, "conv2d")
    rng = np.random.default_rng(seed)
    image, kernel = rng.standard_normal(image_shape), rng.standard_normal(kernel_shape)
    name = f"conv2d(image {image_shape}, kernel {kernel_shape})"
    got = check_array(name, call_student("conv2d", conv2d, image, kernel), ndim=2)
    expected = signal.correlate2d(image, kernel, mode="valid")
    hint = None
    if got.shape == image.shape:
        hint = "'valid' means: only where the whole kernel fits, so the output is smaller than the image."
    elif got.shape == (image_shape[0] + kernel_shape[0] - 1, image_shape[1] + kernel_shape[1] - 1):
        hint = "that is the 'full' size; keep only the positions where the whole kernel lies inside the image."
    check_shape(name, got, expected.shape,
                hint=hint or "the output has (rows - k_rows + 1, cols - k_cols + 1) pixels.")
    hint = "out[i, j] = sum over (k, l) of image[i + k, j + l] * kernel[k, l]."
    if np.allclose(got, signal.convolve2d(image, kernel, mode="valid")):
        hint = ("you flipped the kernel (a mathematical convolution); convolutional layers compute the "
                "cross-correlation: multiply image[i + k, j + l] by kernel[k, l] without flipping.")
    elif kernel.shape[0] == kernel.shape[1] and np.allclose(got, signal.correlate2d(image, kernel.T, mode="valid")):
        hint = "rows and columns of the kernel seem swapped: kernel[k, l] goes with image[i + k, j + l]."
    # sums of <= 25 products of numbers ~1: rounding only
    check_close(name, got, expected, rtol=1e-9, atol=1e-9, hint=hint)


@answers(TUTORIAL, "max_pool", "ml4em.cnn.max_pool2d")
def check_max_pool(max_pool, *, image_shape=(6, 8), size=2, seed=1):
    """``max_pool(image, size)`` is the maximum over non-overlapping ``size x size`` windows."""
    check_callable(max_pool, "max_pool")
    image = np.random.default_rng(seed).standard_normal(image_shape)
    name = f"max_pool(image {image_shape}, {size})"
    got = check_array(name, call_student("max_pool", max_pool, image, size), ndim=2)
    expected = ref.max_pool2d(image, size)
    hint = None
    if got.shape == (image_shape[0] - size + 1, image_shape[1] - size + 1):
        hint = "the windows must not overlap: move by `size` pixels (stride = size), not by 1."
    check_shape(name, got, expected.shape, hint=hint or
                "the output has rows // size by cols // size pixels (leftover rows and columns are dropped).")
    r, c = expected.shape
    blocks = image[: r * size, : c * size].reshape(r, size, c, size)
    hint = "take the MAXIMUM of each window."
    if np.allclose(got, blocks.mean(axis=(1, 3))):
        hint = "you took the mean (average pooling); max pooling keeps the largest value of each window."
    check_close(name, got, expected, rtol=1e-12, hint=hint)


def _greedy_reference(found, true, tolerance):
    found, true = np.asarray(found, float).reshape(-1, 2), np.asarray(true, float).reshape(-1, 2)
    used = np.zeros(len(found), bool)
    tp = 0
    for t in true:
        if not len(found):
            break
        d = np.where(used, np.inf, np.hypot(*(found - t).T))
        j = int(np.argmin(d))
        if d[j] <= tolerance:
            used[j] = True
            tp += 1
    fp, fn = len(found) - tp, len(true) - tp
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0,
            2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)


_FOUND = [[10.0, 10.0], [20.5, 30.0], [40.0, 12.0], [41.0, 12.5], [55.0, 55.0]]
_TRUE = [[10.6, 10.8], [20.0, 31.0], [40.5, 12.0], [5.0, 50.0]]


@answers(TUTORIAL, "detection_f1", "ml4em.cnn.detection_scores", "ml4em.cnn.match_defects")
def check_detection_f1(detection_f1, *, found=_FOUND, true=_TRUE, tolerance=2.0):
    """``detection_f1(found, true, tolerance)`` returns (precision, recall, f1) with one-to-one matching."""
    check_callable(detection_f1, "detection_f1")
    found, true = np.asarray(found, float), np.asarray(true, float)
    name = f"detection_f1(found, true, tolerance={tolerance})"
    result = call_student("detection_f1", detection_f1, found.copy(), true.copy(), tolerance)
    check_true(isinstance(result, (tuple, list)) and len(result) == 3,
               f"`{name}` should return three numbers (precision, recall, f1); got {result!r:.80}.")
    got = check_array(name, result, shape=(3,))
    expected = _greedy_reference(found, true, tolerance)
    optimal = ref.detection_scores(found, true, tolerance=tolerance)
    check_true(np.allclose(expected, [optimal["precision"], optimal["recall"], optimal["f1"]]),
               "internal: this case should not depend on the matching order")
    d = np.hypot(*(found[:, None] - true[None]).transpose(2, 0, 1)) if len(found) and len(true) else None
    hint = ("TP: true defects with an unused found defect within `tolerance`; precision = TP / n_found, "
            "recall = TP / n_true, F1 = 2 TP / (2 TP + FP + FN).")
    if np.isclose(got[0], expected[1]) and np.isclose(got[1], expected[0]):
        hint = "precision and recall are swapped: precision = TP / (number found), recall = TP / (number true)."
    elif d is not None and np.isclose(got[0], np.mean(d.min(axis=1) <= tolerance)):
        hint = ("a found defect may count for only one true defect: two detections of one defect are one true "
                "positive and one false positive. Mark a found defect as used once it is matched.")
    # ratios of small integers: exact up to rounding
    check_close(name, got, expected, rtol=1e-9, hint=hint)


@answers(TUTORIAL, "defect_model", "ml4em.cnn.DefectFinder", "ml4em.cnn.build_defect_unet", "ml4em.cnn.build_unet")
def check_defect_model(model, *, min_f1=0.85, n_images=100, seed=2024, tolerance=2.0):
    """``model``, a Keras model of the student's, finds defects in fresh images with F1 >= ``min_f1``.

    The model gets images scaled by :func:`ml4em.cnn.normalize_images` and must return one defect
    probability per pixel; defects are read off with :func:`ml4em.cnn.find_defects` (threshold 0.5).
    The course's :class:`ml4em.cnn.DefectFinder` (the notebook trains one before the exercise), its
    network, and networks from :func:`ml4em.cnn.build_defect_unet` are refused. Returns the F1.
    """
    from ..stem import simulate_stem

    check_true(model is not None, "`defect_model` is None: assign your trained model to it.")
    data = simulate_stem(n_images, seed=seed)
    check_true(hasattr(model, "predict"), f"`defect_model` should be a trained Keras model; got "
               f"{type(model).__name__}.")
    out = np.asarray(model.predict(ref.normalize_images(data.images), verbose=0))
    check_true(out.shape in ((n_images, 64, 64, 1), (n_images, 64, 64)),
               f"`defect_model` should return one probability per pixel, shape ({n_images}, 64, 64, 1) for "
               f"{n_images} images of 64 x 64; got {out.shape}.",
               hint="use padding='same' in every convolution and end with Conv2D(1, 1, activation='sigmoid').")
    probability = out.reshape(n_images, 64, 64)
    check_true(np.all((probability >= 0) & (probability <= 1)),
               "`defect_model` should output probabilities between 0 and 1.",
               hint="end with a sigmoid activation.")
    scores = ref.detection_scores(ref.find_defects(probability), data.defect_positions, tolerance=tolerance)
    check_true(scores["f1"] >= min_f1,
               f"`defect_model` reaches F1 = {scores['f1']:.3f} on {n_images} fresh images (precision "
               f"{scores['precision']:.3f}, recall {scores['recall']:.3f}); it should reach at least {min_f1}.",
               hint="train on more images or for more epochs; weight the rare defect pixels in the loss; "
                    "check that the model sees images scaled by normalize_images.")
    return scores["f1"]
