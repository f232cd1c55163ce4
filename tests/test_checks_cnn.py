"""ml4em.checks.cnn: each check passes correct answers and fails typical mistakes; every hint is given for the
mistake it names and for no other (a wrong answer of another kind does not get it)."""

import numpy as np
import pytest

from ml4em import cnn

from conftest import assert_hints, hint_of
from ml4em.checks import cnn as checks


# -- conv2d ----------------------------------------------------------------------------------------------------------

def corr(image, kernel, flip=False, transpose=False, pad=None):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    if flip:
        kernel = kernel[::-1, ::-1]
    if transpose:
        kernel = kernel.T
    kr, kc = kernel.shape
    if pad == "same":
        image = np.pad(image, ((kr // 2, kr - 1 - kr // 2), (kc // 2, kc - 1 - kc // 2)))
    elif pad == "full":
        image = np.pad(image, ((kr - 1, kr - 1), (kc - 1, kc - 1)))
    out = np.empty((image.shape[0] - kr + 1, image.shape[1] - kc + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kr, j:j + kc] * kernel)
    return out


def test_conv2d_accepts_loops():
    for kwargs in [{}, {"image_shape": (9, 5), "kernel_shape": (2, 4), "seed": 11},
                   {"image_shape": (4, 4), "kernel_shape": (4, 4), "seed": 12}]:
        checks.check_conv2d(corr, **kwargs)


CONV_KEYS = ("'valid' means", "the 'full' size", "flipped the kernel", "seem swapped")


def test_each_conv2d_hint_names_its_mistake_only():
    assert_hints({
        "same size": (lambda: hint_of(checks.check_conv2d, lambda i, k: corr(i, k, pad="same")), "'valid' means"),
        "full size": (lambda: hint_of(checks.check_conv2d, lambda i, k: corr(i, k, pad="full")), "the 'full' size"),
        "flipped": (lambda: hint_of(checks.check_conv2d, lambda i, k: corr(i, k, flip=True)), "flipped the kernel"),
        "transposed": (lambda: hint_of(checks.check_conv2d, lambda i, k: corr(i, k, transpose=True)), "seem swapped"),
        "scaled": (lambda: hint_of(checks.check_conv2d, lambda i, k: 2 * corr(i, k)), None),
    }, CONV_KEYS)


# -- noise gain (graded Think!) --------------------------------------------------------------------------------------

def test_noise_gain_truth_and_hints():
    checks.check_noise_gain(4.47, "Laplacian (spots)")
    checks.check_noise_gain(0.33, "blur (3 x 3 mean)")
    checks.check_noise_gain(float(np.sqrt(12.0)), "edge along x (Sobel)")
    keys = ("sum of |K|", "VARIANCE")
    assert_hints({
        "sum |K|": (lambda: hint_of(checks.check_noise_gain, 8.0, "Laplacian (spots)"), "sum of |K|"),
        "variance": (lambda: hint_of(checks.check_noise_gain, 20.0, "Laplacian (spots)"), "VARIANCE"),
        "variance of the blur": (lambda: hint_of(checks.check_noise_gain, 0.111, "blur (3 x 3 mean)"), "VARIANCE"),
        "guess": (lambda: hint_of(checks.check_noise_gain, 3.0, "Laplacian (spots)"), None),
    }, keys)
    # for the mean kernel sum |K| = 1: the wrong sum is 1, which is also "no change" and gets the quadrature hint only
    assert "sum of |K|" in hint_of(checks.check_noise_gain, 1.0, "blur (3 x 3 mean)")


# -- max pooling -----------------------------------------------------------------------------------------------------

def pool(image, size, reduce=np.max, stride=None, ceil=False):
    image = np.asarray(image, float)
    stride = stride or size
    rows = (image.shape[0] - size) // stride + 1
    cols = (image.shape[1] - size) // stride + 1
    if ceil:
        rows, cols = -(-image.shape[0] // size), -(-image.shape[1] // size)
    return np.array([[reduce(image[i * stride:i * stride + size, j * stride:j * stride + size]) for j in range(cols)]
                     for i in range(rows)])


def test_max_pool_accepts_loops():
    for kwargs in [{}, {"image_shape": (7, 9), "size": 3, "seed": 21}, {"image_shape": (5, 5), "size": 1, "seed": 22},
                   {"image_shape": (9, 4), "size": 2, "seed": 24}]:
        checks.check_max_pool(pool, **kwargs)


POOL_KEYS = ("must not overlap", "do not fill a window", "took the mean", "took the minimum", "kept the first pixel")


def test_each_max_pool_hint_names_its_mistake_only():
    odd = {"image_shape": (7, 9), "size": 2, "seed": 3}
    assert_hints({
        "stride 1": (lambda: hint_of(checks.check_max_pool, lambda i, s: pool(i, s, stride=1)), "must not overlap"),
        "ceil": (lambda: hint_of(checks.check_max_pool, lambda i, s: pool(i, s, ceil=True), **odd),
                 "do not fill a window"),
        "mean": (lambda: hint_of(checks.check_max_pool, lambda i, s: pool(i, s, reduce=np.mean)), "took the mean"),
        "min": (lambda: hint_of(checks.check_max_pool, lambda i, s: pool(i, s, reduce=np.min)), "took the minimum"),
        "first": (lambda: hint_of(checks.check_max_pool, lambda i, s: pool(i, s, reduce=lambda w: w[0, 0])),
                  "kept the first pixel"),
        "median": (lambda: hint_of(checks.check_max_pool, lambda i, s: pool(i, s, reduce=np.median)), None),
    }, POOL_KEYS)


# -- detection F1 ----------------------------------------------------------------------------------------------------

def f1(found, true, tolerance, mark_used=True, strict=False, by_found=False, swap=False, nan_ratios=False):
    found, true = np.asarray(found, float).reshape(-1, 2), np.asarray(true, float).reshape(-1, 2)
    if by_found:
        tp = sum(1 for f in found if len(true) and np.min(np.hypot(*(true - f).T)) <= tolerance)
    else:
        used, tp = np.zeros(len(found), bool), 0
        for t in true:
            if not len(found):
                break
            d = np.hypot(*(found - t).T)
            if mark_used:
                d = np.where(used, np.inf, d)
            j = int(np.argmin(d))
            if (d[j] < tolerance) if strict else (d[j] <= tolerance):
                used[j], tp = True, tp + 1
    fp, fn = len(found) - tp, len(true) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (lambda a, b: np.float64(a) / np.float64(b)) if nan_ratios else (lambda a, b: a / b if b else 1.0)
        p, r, f = ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn)
    return (r, p, f) if swap else (p, r, f)


CROWDED = {"found": [[0.0, 0.0], [3.0, 0.0]], "true": [[0.5, 0.0], [1.0, 0.0]], "tolerance": 1.5}
AT_TOLERANCE = {"found": [[0.0, 0.0], [7.0, 7.0]], "true": [[3.0, 4.0], [7.0, 7.5]], "tolerance": 5.0}
NOTHING_FOUND = {"found": np.zeros((0, 2)), "true": [[3.0, 4.0], [20.0, 20.0]], "tolerance": 2.0}


def test_detection_f1_accepts_greedy_matching_and_the_package_agrees():
    for kwargs in [{}, {"tolerance": 0.9}, CROWDED, AT_TOLERANCE, NOTHING_FOUND,
                   {"found": np.zeros((0, 2)), "true": np.zeros((0, 2))}, {"found": [[1.0, 1.0]], "true": []}]:
        checks.check_detection_f1(f1, **kwargs)
        found = np.asarray(kwargs.get("found", checks._FOUND), float)
        true = np.asarray(kwargs.get("true", checks._TRUE), float)
        tol = kwargs.get("tolerance", 2.0)
        assert cnn.greedy_detection_f1(found, true, tol) == pytest.approx(f1(found, true, tol))


def test_greedy_detection_f1_names_bad_input():
    with pytest.raises(ValueError, match="tolerance"):
        cnn.greedy_detection_f1([[0, 0]], [[0, 0]], 0.0)
    with pytest.raises(ValueError, match="found"):
        cnn.greedy_detection_f1(np.zeros((2, 3)), [[0, 0]], 1.0)


DETECTION_KEYS = ("denominator of 0", "precision and recall are swapped", "two true defects near one detection",
                  "two detections of one defect", "use <=, not <")


def test_each_detection_hint_names_its_mistake_only():
    assert_hints({
        "0/0 is nan": (lambda: hint_of(checks.check_detection_f1, lambda *a: f1(*a, nan_ratios=True), **NOTHING_FOUND),
                       "denominator of 0"),
        "swapped": (lambda: hint_of(checks.check_detection_f1, lambda *a: f1(*a, swap=True)),
                    "precision and recall are swapped"),
        "not marked used": (lambda: hint_of(checks.check_detection_f1, lambda *a: f1(*a, mark_used=False), **CROWDED),
                            "two true defects near one detection"),
        "counted per found": (lambda: hint_of(checks.check_detection_f1, lambda *a: f1(*a, by_found=True)),
                              "two detections of one defect"),
        "strict": (lambda: hint_of(checks.check_detection_f1, lambda *a: f1(*a, strict=True), **AT_TOLERANCE),
                   "use <=, not <"),
        "f1 as the mean": (lambda: hint_of(checks.check_detection_f1,
                                           lambda *a: (*f1(*a)[:2], sum(f1(*a)[:2]) / 2)), None),
    }, DETECTION_KEYS)
    # precision equal to recall: a wrong F1 is not taken for swapped precision and recall
    equal = {"found": [[0.0, 0.0], [9.0, 9.0]], "true": [[0.2, 0.0], [30.0, 30.0]], "tolerance": 1.0}
    assert "swapped" not in hint_of(checks.check_detection_f1, lambda *a: (*f1(*a)[:2], 0.9), **equal)
