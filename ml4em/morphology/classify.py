"""Shape classes from descriptors: a Gaussian mixture whose size the BIC chooses, K-means, and their scores.

The Bayesian information criterion of a model with ``p`` free parameters and maximised likelihood ``L`` on ``n``
samples is ``BIC = -2 ln L + p ln n`` (Schwarz, Ann. Stat. 6, 461 (1978), doi:10.1214/aos/1176344136); the number
of mixture components with the lowest BIC wins. Predicted classes are numbered arbitrarily, so they are compared
with the truth by the adjusted Rand index (invariant to renumbering) or after a Hungarian matching of classes.
The class fractions of a sample, and how many particles they need to settle (Lee et al., ACS Nano 14, 17125
(2020), doi:10.1021/acsnano.0c06809), close the module.
"""

import numpy as np

__all__ = ["DEFAULT_FEATURES", "feature_matrix", "select_n_classes", "kmeans_classes", "match_classes",
           "adjusted_rand", "running_fractions", "n_until_stable", "measure_particles"]

#: The descriptors the classes are found from (see :data:`ml4em.morphology.descriptors.FEATURES`).
DEFAULT_FEATURES = ("aspect_ratio", "circularity", "radial_spread")


def feature_matrix(table, features=DEFAULT_FEATURES):
    """Standardised features for clustering, from a table of :func:`~ml4em.morphology.region_descriptors`.

    The aspect ratio enters as its logarithm (a rod twice as long is as far from a disc as from a rod half as
    long); every column is then standardised to mean 0 and standard deviation 1.

    Parameters
    ----------
    table : ndarray of shape (n_particles, 6)
        Columns :data:`~ml4em.morphology.descriptors.FEATURES`.
    features : sequence of str
        Which columns to use.

    Returns
    -------
    ndarray of shape (n_particles, len(features))

    Examples
    --------
    >>> X = feature_matrix(np.array([[100, 1.0, 0.9, 0.9, 0.01, 0], [120, 3.0, 0.9, 0.6, 0.3, 2]]))
    >>> X.round(3).tolist()
    [[-1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]
    """
    from .descriptors import FEATURES

    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[1] != len(FEATURES):
        raise ValueError(f"table should have shape (n_particles, {len(FEATURES)}) with columns {FEATURES}; got "
                         f"shape {t.shape}.")
    unknown = [f for f in features if f not in FEATURES]
    if unknown or not features:
        raise ValueError(f"features={features!r} should be a non-empty list of {FEATURES}.")
    cols = [np.log(t[:, FEATURES.index(f)]) if f == "aspect_ratio" else t[:, FEATURES.index(f)] for f in features]
    X = np.column_stack(cols)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def select_n_classes(X, k_values=range(1, 9), *, n_init=3, reg_covar=0.01, seed=None):
    """Fit a full-covariance Gaussian mixture for every K in ``k_values``; the lowest BIC chooses K.

    Every fit gets the same ``random_state`` (from ``seed``), so the curve does not depend on the order of
    ``k_values``; on a tie the first K in ``k_values`` wins. ``reg_covar`` is added to the diagonal of every
    covariance: on standardised features 0.01 is a floor of a tenth of a standard deviation. Without it (scikit-
    learn's default is 1e-6) two or three odd particles (cut or merged by the segmentation) get a component of
    their own whose tiny covariance makes their likelihood so large that the BIC's penalty cannot outweigh it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    k_values : sequence of int
    n_init : int, default 3
        Starts (k-means initialisations) per K; the best likelihood is kept.
    reg_covar : float, default 0.01
        Added to the covariances' diagonals (in the units of ``X`` squared).
    seed : int or None

    Returns
    -------
    best_k : int
    bic : ndarray of shape (len(k_values),)
    model : sklearn.mixture.GaussianMixture
        The fitted mixture with ``best_k`` components.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (100, 2))]
    >>> select_n_classes(X, range(1, 5), seed=0)[0]
    2
    """
    from sklearn.mixture import GaussianMixture

    X = np.asarray(X, dtype=float)
    ks = [int(k) for k in k_values]
    if X.ndim != 2 or not ks or min(ks) < 1 or max(ks) > X.shape[0]:
        raise ValueError(f"X should be 2-D with at least max(k_values) rows and k_values positive; got X of shape "
                         f"{X.shape} and k_values={ks}.")
    state = int(np.random.default_rng(seed).integers(2**31)) if not isinstance(seed, (int, np.integer)) else int(seed)
    if not reg_covar >= 0:
        raise ValueError(f"reg_covar={reg_covar!r} should be >= 0 (a variance added to the covariances).")
    models = [GaussianMixture(k, covariance_type="full", n_init=n_init, reg_covar=reg_covar, random_state=state).fit(X)
              for k in ks]
    bic = np.array([m.bic(X) for m in models])
    best = int(np.argmin(bic))
    return ks[best], bic, models[best]


def kmeans_classes(X, n_classes, *, n_init=5, seed=None):
    """K-means classes (:class:`ml4em.clustering.KMeans`), the baseline of the mixture.

    Examples
    --------
    >>> kmeans_classes(np.array([[0.0], [0.1], [5.0], [5.1]]), 2, seed=0).tolist()
    [1, 1, 0, 0]
    """
    from ..clustering import KMeans

    return KMeans(int(n_classes), n_init=n_init, seed=seed).fit_predict(np.asarray(X, dtype=float))


def match_classes(true_classes, pred_classes):
    """Renumber predicted classes to agree best with the true ones (Hungarian matching of the contingency table).

    Parameters
    ----------
    true_classes, pred_classes : ndarray of int, shape (n,)

    Returns
    -------
    mapped : ndarray of int, shape (n,)
        Each predicted class replaced by the true class it is matched to (-1 for a predicted class left over
        when there are more predicted classes than true ones).
    accuracy : float
        Fraction of samples whose mapped class is their true class.

    Examples
    --------
    >>> mapped, acc = match_classes([0, 0, 1, 1, 2], [2, 2, 0, 0, 0])
    >>> mapped.tolist(), acc
    ([0, 0, 1, 1, 1], 0.8)
    """
    from scipy.optimize import linear_sum_assignment

    t, p = np.asarray(true_classes), np.asarray(pred_classes)
    if t.shape != p.shape or t.ndim != 1 or t.size == 0:
        raise ValueError(f"true_classes {t.shape} and pred_classes {p.shape} should be 1-D, non-empty, same length.")
    tv, ti = np.unique(t, return_inverse=True)
    pv, pi = np.unique(p, return_inverse=True)
    table = np.zeros((pv.size, tv.size), dtype=int)
    np.add.at(table, (pi, ti), 1)
    rows, cols = linear_sum_assignment(-table)
    lookup = np.full(pv.size, -1)
    lookup[rows] = tv[cols]
    mapped = lookup[pi]
    return mapped, float(np.mean(mapped == t))


def adjusted_rand(true_classes, pred_classes):
    """Adjusted Rand index (sklearn): 1 for the same partition up to renumbering, about 0 for chance.

    Examples
    --------
    >>> adjusted_rand([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(true_classes, pred_classes))


def running_fractions(classes, n_classes):
    """Fraction of each class among the first n particles, for n = 1 .. len(classes).

    Examples
    --------
    >>> running_fractions([0, 1, 1, 0], 2).tolist()
    [[1.0, 0.0], [0.5, 0.5], [0.3333333333333333, 0.6666666666666666], [0.5, 0.5]]
    """
    c = np.asarray(classes)
    if c.ndim != 1 or c.size == 0 or not np.issubdtype(c.dtype, np.integer) or c.min() < 0 or c.max() >= n_classes:
        raise ValueError(f"classes should be a non-empty 1-D array of integers in [0, {n_classes}); got {c!r:.60}")
    counts = np.cumsum(np.eye(int(n_classes), dtype=int)[c], axis=0)
    return counts / np.arange(1, c.size + 1)[:, None]


def n_until_stable(classes, n_classes, *, tolerance=0.02):
    """Smallest n from which on every class fraction stays within ``tolerance`` of its value for all particles.

    With ``f(n)`` the fractions among the first n particles (:func:`running_fractions`) and ``N`` the number of
    particles, the answer is the smallest n such that ``|f_k(m) - f_k(N)| <= tolerance`` for every class k and
    every m >= n (so it is at most N).

    Parameters
    ----------
    classes : ndarray of int, shape (N,)
        Class of every particle, in the order they were measured.
    n_classes : int
    tolerance : float, default 0.02
        2 percentage points.

    Returns
    -------
    int

    Examples
    --------
    >>> n_until_stable([0, 0, 0, 1, 0, 1, 0, 1], 2, tolerance=0.1)
    6
    """
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance={tolerance!r} should be a fraction between 0 and 1 (0.02 = 2 points).")
    f = running_fractions(classes, n_classes)
    outside = np.any(np.abs(f - f[-1]) > tolerance, axis=1)
    return int(np.flatnonzero(outside)[-1] + 2) if outside.any() else 1


def _touching(labels, reach=2):
    """Labels of the regions that come within ``reach`` pixels of another region."""
    lab = np.pad(labels, reach)
    core = lab[reach:-reach, reach:-reach]
    found = set()
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            shifted = lab[reach + dy:lab.shape[0] - reach + dy, reach + dx:lab.shape[1] - reach + dx]
            hit = (core > 0) & (shifted > 0) & (shifted != core)
            found.update(np.unique(core[hit]).tolist())
    return found


def measure_particles(images, params=None, *, isolated_only=True, min_solidity=0.85, iou_threshold=0.5):
    """Segment images, describe the regions, and find the true class of each region that matches a particle.

    Regions in contact with another region are left out by default (``isolated_only``): where watershed cut two
    touching particles apart, the cut, not the particle, shapes their outlines. Regions with a solidity below
    ``min_solidity`` are left out too: a single particle of these shapes is convex (solidity about 0.92 or more
    once digitised), two merged ones are not.

    Parameters
    ----------
    images : sequence of ParticleImage
    params : dict, optional
        Segmentation parameters (:func:`~ml4em.morphology.segment`).
    isolated_only : bool, default True
        Keep only regions more than 2 pixels from every other region.
    min_solidity : float, default 0.85
        Keep only regions at least this convex (0 keeps all).
    iou_threshold : float, default 0.5

    Returns
    -------
    table : ndarray of shape (n_regions, 6)
        :data:`~ml4em.morphology.descriptors.FEATURES` of every region kept, image after image.
    true_class : ndarray of int, shape (n_regions,)
        Class of the particle a region matches, -1 for a region that matches none (merged, split, debris).

    Examples
    --------
    >>> from ml4em.morphology import simulate_particles
    >>> table, true_class = measure_particles([simulate_particles(8, image_size=96, seed=0)])
    >>> table.shape[1], bool(np.all(true_class >= 0))
    (6, True)
    """
    from .descriptors import region_descriptors
    from .segment import iou_matrix, segment

    tables, truth = [], []
    for image in images:
        labels = segment(image.image, params)
        ids, table = region_descriptors(labels)
        keep = table[:, 2] >= min_solidity
        if isolated_only and ids.size:
            near = _touching(labels)
            keep &= np.array([i not in near for i in ids], dtype=bool)
        ids, table = ids[keep], table[keep]
        iou = iou_matrix(image.labels, labels)
        cls = np.full(ids.size, -1)
        if iou.size and ids.size:
            best = iou[:, ids - 1].argmax(axis=0)
            ok = iou[best, ids - 1] >= iou_threshold
            cls[ok] = image.classes[best[ok]]
        tables.append(table)
        truth.append(cls)
    return np.concatenate(tables).reshape(-1, 6), np.concatenate(truth).astype(int)
