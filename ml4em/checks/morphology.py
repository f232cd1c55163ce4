"""Checks for tutorials/12_nanoparticle_morphology.

Corner counting is checked against the known shapes of the simulator (every shape, several sizes and
rotations); the segmentation score, the BIC selection and the convergence of the class fractions against the
package's implementation or scikit-learn on cases with other seeds, sizes and boundaries; the number read from
the explorer against the computation the explorer shows. Each check of a function refuses the package's own
implementation of its exercise (see :mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import morphology as ref
from ._core import CheckFailure, check_callable, check_close, check_scalar, check_true
from ._core import call_student as _call
from ._own import answers

TUTORIAL = "12_nanoparticle_morphology"

__all__ = ["check_count_corners", "check_segmentation_f1", "check_bic_choice", "check_n_until_stable",
           "check_merge_blur"]


def _integer(name, value):
    check_true(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
               f"`{name}` should return an integer; got {type(value).__name__} {value!r:.40}.",
               hint="convert with int(...).")
    return int(value)


@answers(TUTORIAL, "count_corners", "ml4em.morphology.count_corners", "ml4em.morphology.radial_profile")
def check_count_corners(count_corners, *, sizes=(16, 24, 36), n_angles=3, seed=0):
    """``count_corners(mask)`` gives 0 for a disc, 2 for a rod, 4 for a square, 3 for a triangle, at any
    rotation and size."""
    check_callable(count_corners, "count_corners")
    rng = np.random.default_rng(seed)
    wrong = []
    for size in sizes:
        for kind in ref.SHAPES:
            for angle in rng.uniform(0, 2 * np.pi, n_angles):
                aspect = float(rng.uniform(2.6, 3.4))
                mask = ref.shape_mask(kind, size, angle=angle, aspect=aspect)
                pad = int(rng.integers(1, 6))  # the particle need not be centred in its image
                mask = np.pad(mask, ((pad, 1), (1, pad)))
                got = _integer("count_corners(mask)", _call("count_corners", count_corners, mask.copy()))
                if got != ref.N_CORNERS[kind]:
                    wrong.append((kind, size, round(float(np.degrees(angle))), got))
    if wrong:
        kind, size, angle, got = wrong[0]
        counts = {k: ref.N_CORNERS[k] for k in ref.SHAPES}
        hint = ("a disc should have no corners: is the profile smoothed, and is the prominence threshold high "
                "enough to ignore the pixel staircase?" if kind == "sphere" else
                "the profile goes round the outline once: a corner at its start or end must be counted once "
                "(repeat the profile, or treat it as circular)." if got in (counts[kind] - 1, counts[kind] + 1)
                else "count the maxima of the distance from the centroid along the outline, with a prominence "
                "threshold relative to the mean radius.")
        raise CheckFailure(f"{len(wrong)} of {len(sizes) * len(ref.SHAPES) * n_angles} shapes were counted wrong; "
                           f"e.g. a {kind} of size {size} px turned by {angle} degrees has {counts[kind]} corners, "
                           f"your function says {got}.\nHint: {hint}")


def _label_cases(seed):
    """(true, pred) label images with known scores: hand-made boundaries and simulated images."""
    t = np.array([[1, 1, 0, 2, 2, 0, 3, 3, 3, 3]])
    cases = [(t, np.array([[1, 1, 0, 2, 0, 0, 0, 0, 0, 0]])),      # IoU 1 and exactly 0.5; one missed
             (t, np.array([[0, 0, 0, 0, 0, 0, 2, 2, 2, 1]])),      # 3 split in two: IoU 0.75 and 0.25
             (t, np.array([[4, 4, 0, 4, 4, 0, 7, 7, 7, 7]])),      # 1 and 2 merged, numbering with gaps
             (t, np.zeros_like(t)),                                 # nothing found
             (np.array([[0, 5, 5, 0, 2]]), np.array([[0, 1, 1, 1, 3]])),  # IoU 2/3, and 1
             (np.array([[1, 2]]), np.array([[1, 1]])),              # one region, IoU 0.5 with both: one match
             (np.zeros((3, 3), int), np.zeros((3, 3), int)),        # nothing to find, nothing found: 1
             (np.zeros((1, 4), int), np.array([[0, 2, 2, 0]]))]     # only false regions: 0
    for s in (seed, seed + 1):
        sim = ref.simulate_particles(15, image_size=128, contact=0.6, seed=s)
        for params in ({}, {"h": 4.0}, {"smoothing": 3.0, "threshold_scale": 0.8}):
            cases.append((sim.labels, ref.segment(sim.image, params)))
    return cases


@answers(TUTORIAL, "segmentation_f1", "ml4em.morphology.segmentation_f1", "ml4em.morphology.iou_matrix")
def check_segmentation_f1(segmentation_f1, *, seed=0, iou_threshold=0.5):
    """``segmentation_f1(true_labels, pred_labels, iou_threshold)``: 2 TP / (n_true + n_pred), a true particle
    found when a region overlaps it with IoU >= ``iou_threshold``."""
    check_callable(segmentation_f1, "segmentation_f1")
    for i, (t, p) in enumerate(_label_cases(seed)):
        t0, p0 = t.copy(), p.copy()
        want = ref.segmentation_f1(t, p, iou_threshold=iou_threshold)
        got = _call("segmentation_f1", segmentation_f1, t, p, iou_threshold=iou_threshold)
        got = check_scalar("segmentation_f1(true_labels, pred_labels)", got)
        check_true(np.array_equal(t, t0) and np.array_equal(p, p0), "`segmentation_f1` changed its input arrays.")
        if not np.isclose(got, want, rtol=0, atol=1e-9):
            n_true, n_pred = np.unique(t[t > 0]).size, np.unique(p[p > 0]).size
            iou = ref.iou_matrix(t, p)
            tp = int(np.sum(iou.max(axis=1, initial=0) >= iou_threshold)) if iou.size else 0
            if iou.size and np.isclose(got, 2 * int(np.sum(iou.max(axis=1) > iou_threshold)) / (n_true + n_pred)):
                hint = "a particle whose best IoU equals the threshold exactly counts as found (>=, not >)."
            elif n_true + n_pred and np.isclose(got, tp / max(n_true, 1)):
                hint = "that is the recall TP / n_true; F1 also counts the false regions: 2 TP / (n_true + n_pred)."
            elif np.isclose(got, 2 * tp / max(t.max() + p.max(), 1)):
                hint = "count the labels that occur, not the largest label (the numbering may have gaps)."
            else:
                hint = ("IoU = |A and B| / |A or B| for every pair of a particle and a region; background (0) is "
                        "no particle.")
            raise CheckFailure(f"case {i + 1}: with {n_true} true particles and {n_pred} regions, of which {tp} "
                               f"match, F1 should be {want:.4f}; got {got:.4f}.\nHint: {hint}")


def _blobs(n_per, centres, spread, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(c, spread, (n_per, len(c))) for c in centres])


@answers(TUTORIAL, "bic_choice", "ml4em.morphology.select_n_classes")
def check_bic_choice(bic_choice, *, n_true=3, k_values=(1, 2, 3, 4, 5), seed=0):
    """``bic_choice(X, k_values, seed)`` returns (the K with the lowest BIC, the BIC of every K in k_values), each
    a full-covariance GaussianMixture(k, random_state=seed)."""
    from sklearn.mixture import GaussianMixture

    check_callable(bic_choice, "bic_choice")
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-6, 6, (n_true, 2)) + np.arange(n_true)[:, None] * 6.0
    X = _blobs(60, centres, 0.8, seed)
    ks = list(k_values)
    want = np.array([GaussianMixture(k, covariance_type="full", random_state=seed).fit(X).bic(X) for k in ks])
    result = _call("bic_choice", bic_choice, X.copy(), list(ks), seed)
    check_true(isinstance(result, tuple) and len(result) == 2,
               "`bic_choice(X, k_values, seed)` should return a tuple (best_k, bic_values).")
    best, bic = result
    best = _integer("bic_choice(...)[0]", best)
    if np.shape(bic) == (len(ks),) and np.allclose(-np.asarray(bic, dtype=float), want, rtol=1e-6):
        raise CheckFailure("your BIC values have the wrong sign: BIC = -2 ln L + p ln n, and the lowest wins.")
    aic = [GaussianMixture(k, covariance_type="full", random_state=seed).fit(X).aic(X) for k in ks]
    if np.shape(bic) == (len(ks),) and np.allclose(np.asarray(bic, dtype=float), aic, rtol=1e-6):
        raise CheckFailure("those are AIC values (2p - 2 ln L); the BIC penalises parameters by p ln n: use "
                           "model.bic(X).")
    check_close(f"bic_choice(X, {ks}, seed={seed})[1]", bic, want, rtol=1e-6,
                hint="fit GaussianMixture(k, covariance_type='full', random_state=seed) for every k, in the order "
                     "of k_values, and pass the seed through.")
    k_best = ks[int(np.argmin(want))]
    check_true(best == k_best, f"the lowest BIC is at K = {k_best}; your function chose K = {best}.",
               hint="the lowest BIC wins (np.argmin), and return K itself, not its position in k_values.")


@answers(TUTORIAL, "n_until_stable", "ml4em.morphology.n_until_stable", "ml4em.morphology.running_fractions")
def check_n_until_stable(n_until_stable, *, n_particles=600, n_classes=4, tolerance=0.02, seed=0):
    """``n_until_stable(classes, n_classes, tolerance)``: the smallest n from which on every class fraction
    stays within ``tolerance`` of the fraction among all particles."""
    check_callable(n_until_stable, "n_until_stable")
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(n_classes, 3.0))
    cases = [(rng.choice(n_classes, n_particles, p=p), n_classes, tolerance),
             (np.array([0, 0, 0, 1, 0, 1, 0, 1]), 2, 0.1),     # outside for the last time at n = 5
             (np.array([0, 0, 1, 1]), 2, 0.5),                  # a boundary: |f - F| = 0.5 exactly at n = 1, 2
             (np.array([0, 1, 0, 1]), 2, 0.3),
             (np.array([2, 2, 2, 2, 2]), 3, 0.05),              # one class only: stable at once
             (rng.choice(3, 200), 3, 0.05)]
    for classes, k, tol in cases:
        want = ref.n_until_stable(classes, k, tolerance=tol)
        c0 = classes.copy()
        got = _integer("n_until_stable", _call("n_until_stable", n_until_stable, classes, k, tol))
        check_true(np.array_equal(classes, c0), "`n_until_stable` changed the classes it was given.")
        if got != want:
            f = ref.running_fractions(classes, k)
            off = np.abs(f - f[-1]).max(axis=1)
            hint = ("n counts particles from 1: row i of the running fractions holds the first i + 1 particles, so "
                    "the last row outside the tolerance, i, gives n = i + 2." if got == want - 1 else
                    "a deviation equal to the tolerance is within it (<=)." if np.any(np.isclose(off, tol)) and
                    got > want else
                    "the fractions must STAY within the tolerance from n on: take the last n at which some class is "
                    "outside, plus one.")
            raise CheckFailure(f"for {len(classes)} particles of {k} classes with tolerance {tol}, the fractions "
                               f"stay within it from n = {want} on; got {got}.\nHint: {hint}")


@answers(TUTORIAL, "merge_blur", "ml4em.morphology.merge_onset", student=())
def check_merge_blur(merge_blur, *, blur_values=(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0), seed=0):
    """``merge_blur``: the smallest blur of the explorer at which watershed no longer separates every pair."""
    value = check_scalar("merge_blur", merge_blur)
    found, onset = ref.merge_onset(list(blur_values), seed=seed)
    check_true(onset is not None, "the explorer's pairs never merge; tell your instructor (the check is broken).")
    check_true(value in blur_values, f"`merge_blur` should be one of the explorer's blur values {list(blur_values)}; "
               f"got {value}.")
    if value > onset:
        raise CheckFailure(f"at blur {value} px pairs are already merged, but they merge earlier: look for the first "
                           "blur at which fewer particles than the true number are found.")
    check_true(value == onset, f"at blur {value} px the segmentation still finds all {int(found[0])} particles; "
               "move the blur up until the count drops.")
