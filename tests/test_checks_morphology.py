"""The checks of tutorial 12: right answers written differently pass, typical wrong ones fail with the right hint."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelmax
from sklearn.mixture import GaussianMixture
from skimage.measure import find_contours

from ml4em import morphology as mo
from ml4em.checks import CheckFailure
from ml4em.checks import morphology as checks


# -- count_corners ----------------------------------------------------------------------------------------------------

def _profile(mask, smooth=True):
    outline = max(find_contours(np.pad(mask, 1).astype(float), 0.5), key=len)
    arc = np.r_[0, np.cumsum(np.linalg.norm(np.diff(outline, axis=0), axis=1))]
    s = np.linspace(0, arc[-1], 400, endpoint=False)
    pts = np.stack([np.interp(s, arc, outline[:, i]) for i in range(2)], axis=1)
    r = np.linalg.norm(pts - np.argwhere(np.pad(mask, 1)).mean(axis=0), axis=1)
    return gaussian_filter1d(r, 8, mode="wrap") / r.mean() if smooth else r / r.mean()


def corners_by_prominence(mask):
    """Another way: circular maxima, prominence by walking to the lowest point on each side."""
    r = _profile(mask)
    n, count = r.size, 0
    for i in argrelmax(np.r_[r[-1], r, r[0]], mode="clip")[0] - 1:
        if not 0 <= i < n:
            continue
        higher = np.flatnonzero(r > r[i])
        if higher.size == 0:
            base = r.min()
        else:
            right = (higher - i) % n
            left = (i - higher) % n
            base = max(r[np.arange(i, i + right.min()) % n].min(), r[np.arange(i - left.min(), i + 1) % n].min())
        count += r[i] - base >= 0.15
    return int(count)


def corners_not_circular(mask):
    from scipy.signal import find_peaks

    r = _profile(mask)
    return int(len(find_peaks(r, prominence=0.15)[0]))


def corners_no_smoothing(mask):
    from scipy.signal import find_peaks

    r = _profile(mask, smooth=False)
    return int(len(find_peaks(np.tile(r, 3), prominence=0.02)[0]) // 3)


def test_count_corners_accepts_another_right_answer():
    checks.check_count_corners(corners_by_prominence)


@pytest.mark.parametrize("wrong, message", [
    (corners_not_circular, "counted wrong"),
    (corners_no_smoothing, "a disc should have no corners"),
    (lambda mask: 4, "counted wrong"),
    (lambda mask: 4.0, "should return an integer"),
    (lambda mask: 1 / 0, "raised ZeroDivisionError"),
])
def test_count_corners_catches(wrong, message):
    with pytest.raises(CheckFailure, match=message):
        checks.check_count_corners(wrong)


def test_count_corners_refuses_the_package():
    with pytest.raises(CheckFailure, match="ml4em.morphology.count_corners"):
        checks.check_count_corners(mo.count_corners)


# -- segmentation_f1 --------------------------------------------------------------------------------------------------

def f1_with_loops(true_labels, pred_labels, iou_threshold=0.5):
    t_ids = [i for i in np.unique(true_labels) if i > 0]
    p_ids = [j for j in np.unique(pred_labels) if j > 0]
    if not t_ids and not p_ids:
        return 1.0
    found = set()
    used = set()
    for i in t_ids:
        a = true_labels == i
        for j in p_ids:
            b = pred_labels == j
            if np.sum(a & b) / np.sum(a | b) >= iou_threshold and j not in used:
                found.add(i)
                used.add(j)
                break
    return 2 * len(found) / (len(t_ids) + len(p_ids))


def _f1_variant(strict=False, recall=False, by_max=False):
    def f1(true_labels, pred_labels, iou_threshold=0.5):
        iou = mo.iou_matrix(true_labels, pred_labels)
        n_t, n_p = np.unique(true_labels[true_labels > 0]).size, np.unique(pred_labels[pred_labels > 0]).size
        if iou.size == 0:
            return 1.0 if n_t + n_p == 0 else 0.0
        best = iou.max(axis=1)
        tp = np.sum(best > iou_threshold) if strict else np.sum(best >= iou_threshold)
        if recall:
            return tp / n_t
        return 2 * tp / (true_labels.max() + pred_labels.max() if by_max else n_t + n_p)
    return f1


def test_segmentation_f1_accepts_another_right_answer():
    checks.check_segmentation_f1(f1_with_loops)
    checks.check_segmentation_f1(f1_with_loops, seed=5, iou_threshold=0.7)


@pytest.mark.parametrize("kwargs, message", [
    ({"strict": True}, r"\(>=, not >\)"), ({"recall": True}, "that is the recall"),
    ({"by_max": True}, "not the largest label")])
def test_segmentation_f1_catches(kwargs, message):
    # the variants call the package's iou_matrix: check them with the refusal switched off (the unwrapped check)
    with pytest.raises(CheckFailure, match=message):
        checks.check_segmentation_f1.__wrapped__(_f1_variant(**kwargs))


def test_segmentation_f1_refuses_the_package():
    with pytest.raises(CheckFailure, match="ml4em.morphology.segmentation_f1"):
        checks.check_segmentation_f1(lambda t, p, iou_threshold=0.5: mo.segmentation_f1(t, p))


# -- bic_choice -------------------------------------------------------------------------------------------------------

def bic_by_hand(X, k_values, seed):
    """The BIC from the log-likelihood and the parameter count of a full-covariance mixture."""
    n, d = X.shape
    out = []
    for k in k_values:
        m = GaussianMixture(k, covariance_type="full", random_state=seed).fit(X)
        p = k * d + k * d * (d + 1) / 2 + k - 1
        out.append(-2 * m.score(X) * n + p * np.log(n))
    out = np.array(out)
    return list(k_values)[int(np.argmin(out))], out


def _bic_variant(kind):
    def bic_choice(X, k_values, seed):
        ks = list(k_values)
        models = [GaussianMixture(k, covariance_type="full", random_state=None if kind == "no-seed" else seed).fit(X)
                  for k in ks]
        values = np.array([m.aic(X) if kind == "aic" else m.bic(X) for m in models])
        if kind == "index":
            return int(np.argmin(values)), values
        if kind == "argmax":
            return ks[int(np.argmax(values))], values
        if kind == "sign":
            return ks[int(np.argmax(values))], -values
        return ks[int(np.argmin(values))], values
    return bic_choice


def test_bic_choice_accepts_another_right_answer():
    checks.check_bic_choice(bic_by_hand)
    checks.check_bic_choice(bic_by_hand, n_true=2, k_values=(4, 3, 2, 1), seed=41)


@pytest.mark.parametrize("kind, message", [
    ("aic", "AIC"), ("sign", "wrong sign"), ("index", "chose K"), ("argmax", "chose K"),
    ("no-seed", r"pass the seed through|chose K")])
def test_bic_choice_catches(kind, message):
    with pytest.raises(CheckFailure, match=message):
        checks.check_bic_choice(_bic_variant(kind), k_values=(2, 3, 4, 5), seed=7)


def test_bic_choice_needs_a_tuple():
    with pytest.raises(CheckFailure, match="should return a tuple"):
        checks.check_bic_choice(lambda X, k, s: 3)


# -- n_until_stable ---------------------------------------------------------------------------------------------------

def stable_by_loop(classes, n_classes, tolerance):
    N = len(classes)
    final = np.bincount(classes, minlength=n_classes) / N
    answer = 1
    counts = np.zeros(n_classes)
    for n, c in enumerate(classes, start=1):
        counts[c] += 1
        if np.any(np.abs(counts / n - final) > tolerance):
            answer = n + 1
    return answer


def _stable_variant(kind):
    def n_until_stable(classes, n_classes, tolerance):
        f = np.cumsum(np.eye(n_classes)[classes], axis=0) / np.arange(1, len(classes) + 1)[:, None]
        dev = np.abs(f - f[-1])
        outside = np.any(dev >= tolerance if kind == "strict" else dev > tolerance, axis=1)
        if kind == "first-inside":
            return int(np.flatnonzero(~outside)[0]) + 1
        if kind == "zero-based":
            return int(np.flatnonzero(outside)[-1]) + 1 if outside.any() else 0
        return int(np.flatnonzero(outside)[-1]) + 2 if outside.any() else 1
    return n_until_stable


def test_n_until_stable_accepts_another_right_answer():
    checks.check_n_until_stable(stable_by_loop)
    checks.check_n_until_stable(stable_by_loop, n_particles=300, n_classes=5, tolerance=0.05, seed=52)


@pytest.mark.parametrize("kind, message", [
    ("strict", r"is within it \(<=\)"), ("first-inside", "must STAY within"),
    ("zero-based", "counts particles from 1")])
def test_n_until_stable_catches(kind, message):
    with pytest.raises(CheckFailure, match=message):
        checks.check_n_until_stable(_stable_variant(kind))


# -- merge_blur -------------------------------------------------------------------------------------------------------

def test_merge_blur():
    _, onset = mo.merge_onset([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0])
    checks.check_merge_blur(onset)
    with pytest.raises(CheckFailure, match="still finds all"):
        checks.check_merge_blur(0.0)
    with pytest.raises(CheckFailure, match="merge earlier"):
        checks.check_merge_blur(8.0)
    with pytest.raises(CheckFailure, match="one of the explorer's blur values"):
        checks.check_merge_blur(2.5)
