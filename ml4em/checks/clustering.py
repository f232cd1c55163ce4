"""Checks for tutorials/03_clustering.

Each check calls the student's function on a case with a known answer and
explains what is wrong. The reference answers come from
:mod:`ml4em.clustering` (tested against scikit-learn) and
:func:`ml4em.eels.estimate_thickness`. Each check refuses the package's
own implementation of its exercise (see :mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import clustering as ref
from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._own import answers

TUTORIAL = "03_clustering"

#: The K-means explorer of section 2: its iterations, its numbers of clusters and its seed (random starts).
EXPLORER_STEPS = tuple(range(0, 9))
EXPLORER_KS = (2, 3, 4, 5)
EXPLORER_SEED = 3

__all__ = ["check_assign_clusters", "check_update_centres", "check_kmeans_cost", "check_lloyd", "check_kmeans_plusplus",
           "check_last_change", "check_lowest_cost_k", "check_t_over_lambda_map", "blobs", "explorer_run",
           "EXPLORER_STEPS", "EXPLORER_KS", "EXPLORER_SEED"]


def blobs(n_per_cluster=20, centres=((0.0, 0.0), (6.0, 0.0), (0.0, 6.0)), *, spread=1.0, seed=0):
    """Points around known centres: ``(X, truth)``, X of shape (n_per_cluster * len(centres), 2)."""
    rng = np.random.default_rng(seed)
    c = np.asarray(centres, dtype=float)
    truth = np.repeat(np.arange(len(c)), n_per_cluster)
    X = c[truth] + spread * rng.standard_normal((truth.size, c.shape[1]))
    return X, truth


@answers(TUTORIAL, "assign_clusters", "ml4em.clustering.assign_clusters", "ml4em.clustering.KMeans")
def check_assign_clusters(assign_clusters, *, seed=0):
    """``assign_clusters(X, centres)`` returns, for every sample, the index of its nearest centre."""
    check_callable(assign_clusters, "assign_clusters")
    X, _ = blobs(seed=seed, spread=2.0)
    centres = np.array([[0.5, 0.5], [5.0, 1.0], [1.0, 5.0]])
    got = check_array("assign_clusters(X, centres)", call_student("assign_clusters", assign_clusters, X, centres))
    expected = ref.assign_clusters(X, centres)
    hint = None
    if got.shape == (centres.shape[0],):
        hint = "return one label per SAMPLE (shape (n_samples,)), not one value per centre."
    elif got.ndim == 2:
        hint = "return the INDEX of the nearest centre (np.argmin over the centres), not the distances."
    check_shape("assign_clusters(X, centres)", got, expected.shape, hint=hint)
    wrong = int(np.sum(got != expected))
    hint = "compute the squared distance of every sample to every centre, then take np.argmin along the centres."
    if wrong and np.array_equal(got, np.argmax(((X[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)):
        hint = "you picked the FARTHEST centre: use np.argmin, not np.argmax."
    check_true(wrong == 0, f"`assign_clusters` gives the wrong cluster for {wrong} of {got.size} samples.", hint=hint)


def _update_case(update_centres, X, labels, n_clusters, previous, what):
    given = np.array(previous, copy=True)
    got = check_array(f"update_centres(X, labels, {n_clusters}, previous) ({what})",
                      call_student("update_centres", update_centres, X, labels, n_clusters, given), finite=False)
    check_true(np.array_equal(given, previous), f"`update_centres` changed its argument previous ({what}).",
               hint="start from a copy: centres = np.array(previous, dtype=float).")
    expected = ref.update_centres(X, labels, n_clusters, previous=np.asarray(previous, dtype=float))
    hint = None
    if got.shape == expected.shape[::-1]:
        hint = "one ROW per cluster and one column per feature."
    check_shape(f"update_centres(X, labels, {n_clusters}, previous)", got, expected.shape, hint=hint)
    empty = np.bincount(labels, minlength=n_clusters) == 0
    hint = "centre k is X[labels == k].mean(axis=0); a cluster without samples keeps previous[k]."
    if np.allclose(got, np.array([X[labels == k].sum(axis=0) for k in range(n_clusters)])):
        hint = "divide the sum by the number of samples in the cluster: the centre is the MEAN."
    elif empty.any() and not np.all(np.isfinite(got[empty])):
        hint = "an empty cluster has no mean (NaN): keep its centre from previous instead."
    elif empty.any() and not np.allclose(got[empty], previous[empty]):
        hint = "a cluster without samples keeps its row of previous, unchanged."
    elif np.allclose(got, np.trunc(expected)) and not np.allclose(expected, np.trunc(expected)):
        hint = "the means were cut to integers: previous holds integers here, so make a float copy of it."
    elif np.allclose(got[~empty], previous[~empty]) and not np.allclose(expected[~empty], previous[~empty]):
        hint = "a cluster WITH samples moves to their mean; only an empty one keeps previous."
    # 1e-10: a mean of about 20 numbers, in any order of summation
    check_close(f"update_centres(X, labels, {n_clusters}, previous) ({what})", got, expected, rtol=1e-10,
                atol=1e-12, hint=hint)


@answers(TUTORIAL, "update_centres", "ml4em.clustering.update_centres", "ml4em.clustering.KMeans")
def check_update_centres(update_centres, *, seed=1, empty=2, integer_previous=False):
    """``update_centres(X, labels, n_clusters, previous)``: the mean of each cluster, shape (n_clusters, n_features);
    a cluster without samples keeps its row of ``previous``.

    Cases: three clusters that all have samples; then the same samples in four clusters of which cluster ``empty``
    has none (``previous`` of integers with ``integer_previous``).
    """
    check_callable(update_centres, "update_centres")
    X, truth = blobs(seed=seed)
    rng = np.random.default_rng(seed)
    previous = rng.uniform(-2.0, 8.0, (3, 2))
    _update_case(update_centres, X, truth, 3, previous, f"seed={seed}, no empty cluster")
    labels = np.where(truth >= empty, truth + 1, truth)  # cluster `empty` gets no sample
    previous = rng.integers(-5, 9, (4, 2)) if integer_previous else rng.uniform(-2.0, 8.0, (4, 2))
    _update_case(update_centres, X, labels, 4, previous, f"seed={seed}, cluster {empty} of 4 has no sample")


@answers(TUTORIAL, "kmeans_cost", "ml4em.clustering.kmeans_cost", "ml4em.clustering.steps._inertia",
         "ml4em.clustering.KMeans")
def check_kmeans_cost(kmeans_cost, *, seed=2):
    """``kmeans_cost(X, centres, labels)`` is the sum over samples of the squared distance to their centre."""
    check_callable(kmeans_cost, "kmeans_cost")
    X, truth = blobs(seed=seed)
    centres = ref.update_centres(X, truth, 3) + 0.3
    got = check_scalar("kmeans_cost(X, centres, labels)", call_student("kmeans_cost", kmeans_cost, X, centres, truth))
    expected = ref.kmeans_cost(X, centres, truth)
    dist = np.sqrt(((X - centres[truth]) ** 2).sum(axis=1))
    hint = "C = sum over n of |x_n - mu_{label n}|^2 (squared Euclidean distance, summed over samples)."
    if np.isclose(got, dist.sum()):
        hint = "square the distances: the cost uses |x - mu|^2."
    elif np.isclose(got, expected / X.shape[0]):
        hint = "the cost is a SUM over samples, not a mean."
    check_close("kmeans_cost(X, centres, labels)", got, expected, rtol=1e-10, hint=hint)


def _lloyd_case(lloyd, X, initial, max_iter, what):
    """Run the student's lloyd on one case and compare it with ml4em.clustering.lloyd."""
    given = np.array(initial, dtype=float)
    out = call_student("lloyd", lloyd, X, given, max_iter=max_iter)
    check_true(isinstance(out, (tuple, list)) and len(out) == 3,
               f"`lloyd` should return (centres, labels, costs); got {type(out).__name__} {out!r:.60}.")
    centres_e, labels_e, costs_e = ref.lloyd(X, initial, max_iter=max_iter)
    check_true(np.array_equal(given, initial), f"`lloyd` changed its argument initial_centres ({what}).",
               hint="work on a copy: centres = np.array(initial_centres, dtype=float).")
    centres = check_array(f"centres ({what})", out[0], shape=centres_e.shape)
    labels = check_array(f"labels ({what})", out[1], shape=labels_e.shape)
    costs = check_array(f"costs ({what})", out[2], ndim=1)
    if costs.size > 1:
        check_true(np.all(np.diff(costs) <= 1e-9 * max(1.0, abs(costs[0]))),
                   f"the costs ({what}) go up: {np.round(costs, 4).tolist()}.",
                   hint="neither step can raise C: compute each cost with the centres and the labels of the same step.")
    check_true(costs.size == costs_e.size,
               f"`lloyd` made {costs.size - 1} update(s) ({what}); we expected {costs_e.size - 1}.",
               hint=f"we expected {costs_e.size} costs: one after the first assignment and one after each update, "
                    f"stopping as soon as an assignment changes no label, or after max_iter={max_iter} updates.")
    check_close(f"costs ({what})", costs, costs_e, rtol=1e-9, atol=1e-12)
    hint = None
    if np.all(np.isfinite(centres_e)) and not np.all(np.isfinite(centres)):
        hint = "an empty cluster has no mean: keep its previous centre."
    empty = np.bincount(labels_e.astype(int), minlength=len(initial)) == 0
    if empty.any() and not np.allclose(centres[empty], centres_e[empty]):
        hint = "a cluster that loses all its samples keeps its previous centre."
    check_close(f"centres ({what})", centres, centres_e, rtol=1e-9, atol=1e-12, hint=hint)
    check_true(np.array_equal(labels, labels_e),
               f"labels ({what}): {int(np.sum(labels != labels_e))} of {labels.size} differ from the final "
               "assignment.", hint="return the labels of the last assignment, made with the returned centres.")


@answers(TUTORIAL, "lloyd", "ml4em.clustering.lloyd", "ml4em.clustering.KMeans")
def check_lloyd(lloyd, *, seed=3, n_features=2, max_iter=100, empty_cluster=False):
    """``lloyd(X, initial_centres, max_iter)`` returns (centres, labels, costs) as ml4em.clustering.lloyd does.

    Cases: the run to convergence from random samples, a run cut after ``max_iter`` = 1 and 0 updates, and, with
    ``empty_cluster``, a start whose last centre is so far away that it never gets a sample.
    """
    check_callable(lloyd, "lloyd")
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1.0, 7.0, (3, n_features))
    X, _ = blobs(25, centres, spread=1.3, seed=seed)
    start = X[rng.choice(len(X), 3, replace=False)]
    _lloyd_case(lloyd, X, start, max_iter, f"seed={seed}, max_iter={max_iter}")
    _lloyd_case(lloyd, X, start, 1, f"seed={seed}, max_iter=1")
    _lloyd_case(lloyd, X, start, 0, f"seed={seed}, max_iter=0")
    if empty_cluster:
        far = np.vstack([start[:2], np.full(n_features, 100.0)])
        _lloyd_case(lloyd, X, far, max_iter, f"seed={seed}, a centre far from every sample")


@answers(TUTORIAL, "kmeans_plusplus", "ml4em.clustering.kmeans_plusplus", "ml4em.clustering.KMeans")
def check_kmeans_plusplus(kmeans_plusplus, *, n_trials=8):
    """``kmeans_plusplus(X, n_clusters, seed=...)`` returns rows of X chosen by D^2 sampling.

    On four tight, far-apart groups k-means++ almost surely picks one centre
    per group (a wrong group has probability about 4e-6 per pick), whereas
    uniform sampling does so in only 9 % of the draws.
    """
    check_callable(kmeans_plusplus, "kmeans_plusplus")
    X, truth = blobs(25, ((0.0, 0.0), (100.0, 0.0), (0.0, 100.0), (100.0, 100.0)), spread=0.1, seed=3)
    firsts = []
    for trial in range(n_trials):
        got = check_array(f"kmeans_plusplus(X, 4, seed={trial})", call_student("kmeans_plusplus", kmeans_plusplus,
                                                                               X, 4, seed=trial))
        check_shape(f"kmeans_plusplus(X, 4, seed={trial})", got, (4, 2),
                    hint="return the chosen centres as an array of shape (n_clusters, n_features).")
        is_row = (np.abs(X[None, :, :] - got[:, None, :]).max(axis=2) < 1e-12).any(axis=1)
        check_true(is_row.all(), "every centre of k-means++ should be one of the samples (a row of X).")
        groups = sorted({int(truth[np.argmin(((X - c) ** 2).sum(axis=1))]) for c in got})
        check_true(groups == [0, 1, 2, 3],
                   f"with seed={trial}, kmeans_plusplus put two centres in the same tight group (groups {groups}).",
                   hint="draw each next centre with probability proportional to D^2, its squared distance to the "
                        "nearest centre chosen so far: rng.choice(n, p=d2 / d2.sum()).")
        firsts.append(tuple(got[0]))
    check_true(len(set(firsts)) > 1,
               "the first centre is the same for every seed; it should be a sample drawn at random.",
               hint="use rng = np.random.default_rng(seed) and draw the first index with rng.integers(n).")
    again = [np.asarray(call_student("kmeans_plusplus", kmeans_plusplus, X, 4, seed=7), dtype=float) for _ in range(2)]
    check_true(np.array_equal(again[0], again[1]),
               "kmeans_plusplus(X, 4, seed=7) gave different centres on two calls: the same seed must give the same "
               "centres.", hint="make every random draw with rng = np.random.default_rng(seed), the seed you are given.")
    _check_d2_distribution(kmeans_plusplus)


def explorer_run(X, n_clusters, *, seed=EXPLORER_SEED, n_steps=EXPLORER_STEPS[-1]):
    """The explorer's K-means run (:func:`ml4em.clustering.plot_kmeans_steps`, random start): labels and costs.

    Returns
    -------
    labels : list of ndarray
        The assignment of iterations 1 to ``n_steps``.
    costs : list of float
        The cost shown in the title after iterations 1 to ``n_steps`` (centres of that step, labels reassigned).
    """
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng(seed)
    centres = X[rng.choice(X.shape[0], int(n_clusters), replace=False)].astype(float)
    labels, costs = [], []
    for _ in range(int(n_steps)):
        labels.append(ref.assign_clusters(X, centres))
        centres = ref.update_centres(X, labels[-1], int(n_clusters), previous=centres)
        costs.append(float(ref.kmeans_cost(X, centres, ref.assign_clusters(X, centres))))
    return labels, costs


@answers(TUTORIAL, "last_change", "ml4em.clustering.plot_kmeans_steps", student=())
def check_last_change(last_change, X, *, n_clusters=3):
    """``last_change``: the last iteration of the explorer (K = ``n_clusters``) whose assignment differs from the
    one before it; computed here from ``X``, the explorer's data."""
    value = check_scalar("last_change", last_change)
    steps = EXPLORER_STEPS[1:]
    check_true(value in steps, f"`last_change` should be one of the explorer's iterations {list(steps)}; got {value:g}.")
    labels, _ = explorer_run(X, n_clusters)
    changed = [True] + [not np.array_equal(a, b) for a, b in zip(labels[1:], labels[:-1])]
    want = max(s for s, c in zip(steps, changed) if c)
    hint = ("step through the iterations with K = 3 and compare the colours of the points from one iteration to the "
            "next: after the last change they stay the same.")
    if value == want + 1:
        hint = ("that is the first iteration that changes no label; the question asks for the last one that still "
                "changes some.")
    check_true(value == want, f"with K = {n_clusters}, iteration {value:g} is not the last one whose assignment "
               "changes.", hint=hint)


@answers(TUTORIAL, "lowest_cost_k", "ml4em.clustering.plot_kmeans_steps", student=())
def check_lowest_cost_k(lowest_cost_k, X):
    """``lowest_cost_k``: the explorer's K with the lowest cost after its last iteration; computed here from ``X``."""
    value = check_scalar("lowest_cost_k", lowest_cost_k)
    check_true(value in EXPLORER_KS, f"`lowest_cost_k` should be one of the explorer's K {list(EXPLORER_KS)}; "
               f"got {value:g}.")
    final = {k: explorer_run(X, k)[1][-1] for k in EXPLORER_KS}
    want = min(final, key=final.get)
    hint = (f"set the iteration to {EXPLORER_STEPS[-1]} and read the cost in the title for every K.")
    if value == 3:
        hint = ("K = 3 fits the three varieties best, but the question asks for the lowest COST: compare the "
                "titles; the cost keeps falling as K grows.")
    check_true(value == want, f"with K = {value:g} the cost after iteration {EXPLORER_STEPS[-1]} is "
               f"{final[int(value)]:.3g}; another K of the explorer has a lower one.", hint=hint)


# Five points whose D^2 draws of 3 centres tell the exact rule apart from D weighting and from distances summed and
# averaged over features inconsistently (found by search; every ordered triple has probability > 0).
_D2_POINTS = np.array([[0.0, 1.9], [0.1, 1.6], [0.7, 1.9], [2.2, 0.7], [1.7, 0.1]])
_D2_DRAWS = 3000
_FALSE_ALARM = 1e-6  # an exact D^2 sampler fails this check once in a million sets of seeds


def _seeding_distribution(X, n_clusters, weight):
    """Exact probability of each ordered choice of centre indices: first uniform, then by ``weight(d2)``."""
    n, probs = len(X), {}
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)

    def grow(chosen, d2, p):
        if len(chosen) == n_clusters:
            probs[tuple(chosen)] = p
            return
        w = weight(d2)
        for j in np.flatnonzero(w > 0):
            grow(chosen + [int(j)], np.minimum(d2, sq[j]), p * w[j] / w.sum())

    for i in range(n):
        grow([i], sq[i], 1.0 / n)
    return probs


def _chi2(counts, probs, n_draws):
    """Pearson's chi^2 of ``counts`` against ``probs`` (outcomes expected fewer than 5 times pooled) and its dof."""
    keys = sorted(probs, key=probs.get)
    expected = np.array([probs[k] * n_draws for k in keys])
    observed = np.array([counts.get(k, 0) for k in keys], dtype=float)
    small = expected < 5
    if small.any():
        expected = np.append(expected[~small], expected[small].sum())
        observed = np.append(observed[~small], observed[small].sum())
    stray = n_draws - sum(counts.get(k, 0) for k in keys)  # outcomes of probability 0 under this rule
    return float(np.sum((observed - expected) ** 2 / expected)) + (np.inf if stray else 0.0), expected.size - 1


def _check_d2_distribution(kmeans_plusplus):
    """Draw 3 centres of :data:`_D2_POINTS` with seeds 0..2999 and compare the frequencies with the exact D^2 rule."""
    from scipy import stats

    counts = {}
    for seed in range(_D2_DRAWS):
        got = np.asarray(kmeans_plusplus(_D2_POINTS, 3, seed=seed), dtype=float)
        match = np.abs(got[:, None, :] - _D2_POINTS[None, :, :]).max(axis=2) < 1e-12
        check_true(got.shape == (3, 2) and match.any(axis=1).all(),
                   f"kmeans_plusplus(X, 3, seed={seed}) on five points should return 3 rows of X; got {got.tolist()}.")
        key = tuple(int(np.argmax(row)) for row in match)
        counts[key] = counts.get(key, 0) + 1
    chi2, dof = _chi2(counts, _seeding_distribution(_D2_POINTS, 3, lambda d2: d2), _D2_DRAWS)
    limit = stats.chi2.ppf(1 - _FALSE_ALARM, dof)
    if chi2 > limit:
        as_d, _ = _chi2(counts, _seeding_distribution(_D2_POINTS, 3, np.sqrt), _D2_DRAWS)
        hint = ("you seem to weight by the distance D itself: k-means++ weights by its SQUARE, D^2."
                if as_d < limit else "weight by d2 = the squared distance to the NEAREST centre chosen so far, summed "
                "over the features the same way each time (np.minimum of the old d2 and the new squared distances).")
        check_true(False, f"over {_D2_DRAWS} seeds, the centres kmeans_plusplus picks among five points are not drawn "
                   f"with probability proportional to D^2 (chi^2 = {chi2:.0f} for {dof} degrees of freedom; an exact "
                   f"D^2 sampler stays below {limit:.0f} in all but one run in a million).", hint=hint)


@answers(TUTORIAL, "t_over_lambda_map", "ml4em.eels.estimate_thickness")
def check_t_over_lambda_map(t_over_lambda_map, *, seed=4):
    """``t_over_lambda_map(energy_loss, counts, zlp_window)`` is ln(total / ZLP) for every pixel, shape (ny, nx)."""
    from ..datasets.spectral_image import make_spectral_image
    from ..eels.axis import estimate_thickness

    check_callable(t_over_lambda_map, "t_over_lambda_map")
    image = make_spectral_image((12, 10), geometry="nanoflower", seed=seed)
    window = (-np.inf, 1.0)
    got = check_array("t_over_lambda_map(energy_loss, counts, zlp_window)",
                      call_student("t_over_lambda_map", t_over_lambda_map, image.energy_loss, image.counts, window))
    expected = estimate_thickness(image.energy_loss, image.counts, zlp_window=window)
    hint = None
    if got.size == image.energy_loss.size:
        hint = "sum over the ENERGY axis (axis=-1), one value per pixel."
    check_shape("t_over_lambda_map(...)", got, expected.shape, hint=hint)
    hint = ("I_zlp sums the channels with zlp_window[0] <= E <= zlp_window[1], I_total sums all channels; "
            "t/lambda = log(I_total / I_zlp).")
    if np.allclose(got, -expected, atol=1e-6):
        hint = "the ratio is upside down: it is log(I_total / I_zlp), positive in the specimen."
    elif np.allclose(got, np.exp(expected), rtol=1e-6):
        hint = "take the logarithm of the ratio."
    # 1e-6: float32 counts summed in a different order
    check_close("t_over_lambda_map(...)", got, expected, rtol=1e-6, atol=1e-6, hint=hint)
