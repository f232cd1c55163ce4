"""Checks for tutorials/04_cnn.

The reference answers come from :mod:`scipy.signal` (cross-correlation),
:mod:`ml4em.cnn` (pooling, detection scores) and fresh simulated images
(:mod:`ml4em.stem`). Each check refuses the package's own implementation of
its exercise (see :mod:`ml4em.checks._own`). A hint names a mistake only when
the student's result equals what that mistake gives (the wrong variant is
computed and compared).
"""

import numpy as np

from .. import cnn as ref
from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._own import answers

TUTORIAL = "04_cnn"

__all__ = ["check_conv2d", "check_noise_gain", "check_max_pool", "check_detection_f1", "check_defect_model"]


@answers(TUTORIAL, "conv2d", "ml4em.cnn.conv2d")
def check_conv2d(conv2d, *, image_shape=(6, 7), kernel_shape=(3, 3), seed=0):
    """``conv2d(image, kernel)`` is the 'valid' 2-D cross-correlation (as ``scipy.signal.correlate2d``)."""
    from scipy import signal

    check_callable(conv2d, "conv2d")
    rng = np.random.default_rng(seed)
    image, kernel = rng.standard_normal(image_shape), rng.standard_normal(kernel_shape)
    name = f"conv2d(image {image_shape}, kernel {kernel_shape})"
    got = check_array(name, call_student("conv2d", conv2d, image.copy(), kernel.copy()), ndim=2)
    expected = signal.correlate2d(image, kernel, mode="valid")
    hint = None
    if got.shape == image.shape and image.shape != expected.shape:
        hint = "'valid' means: only where the whole kernel fits, so the output is smaller than the image."
    elif got.shape == (image_shape[0] + kernel_shape[0] - 1, image_shape[1] + kernel_shape[1] - 1):
        hint = "that is the 'full' size; keep only the positions where the whole kernel lies inside the image."
    check_shape(name, got, expected.shape,
                hint=hint or "the output has (rows - k_rows + 1, cols - k_cols + 1) pixels.")
    hint = "out[i, j] = sum over (k, l) of image[i + k, j + l] * kernel[k, l]."
    flipped = signal.convolve2d(image, kernel, mode="valid")
    if np.allclose(got, flipped) and not np.allclose(flipped, expected):
        hint = ("you flipped the kernel (a mathematical convolution); convolutional layers compute the "
                "cross-correlation: multiply image[i + k, j + l] by kernel[k, l] without flipping.")
    elif kernel.shape[0] == kernel.shape[1]:
        swapped = signal.correlate2d(image, kernel.T, mode="valid")
        if np.allclose(got, swapped) and not np.allclose(swapped, expected):
            hint = "rows and columns of the kernel seem swapped: kernel[k, l] goes with image[i + k, j + l]."
    # sums of <= 25 products of numbers ~1: rounding only
    check_close(name, got, expected, rtol=1e-9, atol=1e-9, hint=hint)


@answers(TUTORIAL, "noise_gain", "ml4em.cnn.plot_filtered", "ml4em.cnn.conv2d", student=())
def check_noise_gain(noise_gain, kernel_name):
    """``noise_gain``: by how much one 'valid' convolution with ``cnn.KERNELS[kernel_name]`` multiplies the
    standard deviation of independent pixel noise, sqrt(sum of the squared kernel weights).

    The truth is computed from the kernel and confirmed by filtering pure Gaussian noise; the answer may be
    rounded to two decimals (tolerance 0.006 + 0.5 %).
    """
    value = check_scalar(f"noise gain of {kernel_name!r}", noise_gain)
    check_true(kernel_name in ref.KERNELS, f"internal: {kernel_name!r} is not a kernel of cnn.KERNELS")
    kernel = np.asarray(ref.KERNELS[kernel_name], dtype=float)
    truth = float(np.sqrt(np.sum(kernel**2)))
    noise = np.random.default_rng(0).standard_normal((400, 400))
    measured = float(np.std(ref.conv2d(noise, kernel)))
    check_true(abs(measured - truth) < 0.05 * truth, "internal: the measured noise gain differs from the formula")
    hint = ("noise of standard deviation sigma, independent from pixel to pixel, adds in quadrature: the output "
            "sum_kl K[k, l] I[i + k, j + l] has standard deviation sigma * sqrt(sum_kl K[k, l]^2).")
    if np.isclose(value, np.sum(np.abs(kernel)), rtol=0.005, atol=0.006) and not np.isclose(
            truth, np.sum(np.abs(kernel)), rtol=0.005, atol=0.006):
        hint = ("that is the sum of |K|, the gain of the worst case where all pixels err the same way; independent "
                "errors partly cancel and add in quadrature: sqrt(sum K^2).")
    elif np.isclose(value, truth**2, rtol=0.005, atol=0.006) and not np.isclose(truth, truth**2, rtol=0.005,
                                                                                   atol=0.006):
        hint = "that is the gain of the VARIANCE, sum K^2; the standard deviation is its square root."
    check_close(f"noise gain of {kernel_name!r}", value, truth, rtol=0.005, atol=0.006, hint=hint)


@answers(TUTORIAL, "max_pool", "ml4em.cnn.max_pool2d")
def check_max_pool(max_pool, *, image_shape=(6, 8), size=2, seed=1):
    """``max_pool(image, size)`` is the maximum over non-overlapping ``size x size`` windows."""
    check_callable(max_pool, "max_pool")
    image = np.random.default_rng(seed).standard_normal(image_shape)
    name = f"max_pool(image {image_shape}, {size})"
    got = check_array(name, call_student("max_pool", max_pool, image.copy(), size), ndim=2)
    expected = ref.max_pool2d(image, size)
    hint = None
    if got.shape == (image_shape[0] - size + 1, image_shape[1] - size + 1) and size > 1:
        hint = "the windows must not overlap: move by `size` pixels (stride = size), not by 1."
    elif got.shape == tuple(-(-n // size) for n in image_shape) and got.shape != expected.shape:
        hint = "rows and columns left over at the end do not fill a window: drop them (rows // size)."
    check_shape(name, got, expected.shape, hint=hint or
                "the output has rows // size by cols // size pixels (leftover rows and columns are dropped).")
    r, c = expected.shape
    blocks = image[: r * size, : c * size].reshape(r, size, c, size)
    hint = "take the MAXIMUM of each window."
    for wrong, text in [(blocks.mean(axis=(1, 3)),
                         "you took the mean (average pooling); max pooling keeps the largest value of each window."),
                        (blocks.min(axis=(1, 3)),
                         "you took the minimum of each window; max pooling keeps the largest."),
                        (image[: r * size: size, : c * size: size],
                         "you kept the first pixel of each window; max pooling keeps the largest.")]:
        if np.allclose(got, wrong) and not np.allclose(wrong, expected):
            hint = text
            break
    check_close(name, got, expected, rtol=1e-12, hint=hint)


_FOUND = [[10.0, 10.0], [20.5, 30.0], [40.0, 12.0], [41.0, 12.5], [55.0, 55.0]]
_TRUE = [[10.6, 10.8], [20.0, 31.0], [40.5, 12.0], [5.0, 50.0]]


def _ratio(a, b):
    return a / b if b else 1.0


@answers(TUTORIAL, "detection_f1", "ml4em.cnn.detection_scores", "ml4em.cnn.match_defects",
         "ml4em.cnn.greedy_detection_f1")
def check_detection_f1(detection_f1, *, found=_FOUND, true=_TRUE, tolerance=2.0):
    """``detection_f1(found, true, tolerance)`` returns (precision, recall, f1) with one-to-one matching.

    A ratio whose denominator is 0 (nothing found, nothing to find) is 1.0.
    """
    check_callable(detection_f1, "detection_f1")
    found = np.asarray(found, float).reshape(-1, 2)
    true = np.asarray(true, float).reshape(-1, 2)
    name = f"detection_f1(found ({len(found)} positions), true ({len(true)} positions), tolerance={tolerance})"
    result = call_student("detection_f1", detection_f1, found.copy(), true.copy(), tolerance)
    check_true(isinstance(result, (tuple, list)) and len(result) == 3,
               f"`{name}` should return three numbers (precision, recall, f1); got {result!r:.80}.")
    got = check_array(name, result, shape=(3,), finite=False)
    expected = np.array(ref.greedy_detection_f1(found, true, tolerance))
    optimal = ref.detection_scores(found, true, tolerance=tolerance)
    check_true(np.allclose(expected, [optimal["precision"], optimal["recall"], optimal["f1"]]),
               "internal: this case should not depend on the matching order")
    d = np.hypot(*(found[:, None] - true[None]).transpose(2, 0, 1)) if len(found) and len(true) else None
    hint = ("TP: true defects with an unused found defect within `tolerance`; precision = TP / n_found, "
            "recall = TP / n_true, F1 = 2 TP / (2 TP + FP + FN).")
    zero = [not len(found), not len(true), not (len(found) or len(true))]
    if np.any(~np.isfinite(got)) or any(z and not np.isclose(g, 1.0) for z, g in zip(zero, got)):
        if any(zero):
            hint = ("a ratio with a denominator of 0 is 1.0: with nothing found the precision is 1.0 (no false "
                    "alarm), with nothing to find the recall is 1.0.")
    elif not np.isclose(expected[0], expected[1]) and np.isclose(got[0], expected[1]) and np.isclose(got[1],
                                                                                                   expected[0]):
        hint = "precision and recall are swapped: precision = TP / (number found), recall = TP / (number true)."
    elif d is not None:
        tp_loose = int(np.sum(d.min(axis=0) <= tolerance))   # every true defect with any found one near it
        loose = np.array([_ratio(tp_loose, len(found)), _ratio(tp_loose, len(true)),
                          _ratio(2 * tp_loose, len(found) + len(true))])
        tp_found = int(np.sum(d.min(axis=1) <= tolerance))   # every found defect with any true one near it
        per_found = np.array([_ratio(tp_found, len(found)), _ratio(tp_found, len(true)),
                              _ratio(2 * tp_found, len(found) + len(true))])
        closer = np.array(ref.greedy_detection_f1(found, true, np.nextafter(tolerance, 0)))
        if np.allclose(got, loose) and not np.allclose(loose, expected):
            hint = ("a found defect may count for only one true defect: two true defects near one detection are one "
                    "true positive and one false negative. Mark a found defect as used once it is matched.")
        elif np.allclose(got[0], per_found[0]) and not np.isclose(per_found[0], expected[0]):
            hint = ("a true defect may be matched by only one found defect, and a found defect counts for only one "
                    "true defect: two detections of one defect are one true positive and one false positive. Go "
                    "through the TRUE defects and mark each found one used once it is matched.")
        elif np.allclose(got, closer) and not np.allclose(closer, expected):
            hint = "a found defect at exactly `tolerance` from a true one is a match: use <=, not <."
    check_true(np.all(np.isfinite(got)), f"`{name}` has non-finite values: {got.tolist()}.", hint=hint)
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
    out = np.asarray(call_student("defect_model.predict", model.predict, ref.normalize_images(data.images),
                                  verbose=0))
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
    print(f"`defect_model`: F1 = {scores['f1']:.3f} on {n_images} fresh images")
    return scores["f1"]
