"""The steps of K-means as tutorial 03 writes them, with the input checks the estimator shares.

:func:`assign_clusters` is the E-step (nearest centre), :func:`update_centres` the M-step (mean of each
cluster), :func:`kmeans_cost` the cost C = sum_n sum_k r_nk |x_n - mu_k|^2 and :func:`kmeans_plusplus` the
seeding of Arthur and Vassilvitskii (2007). Distances are computed in chunks of rows that bound the memory.
"""

import numpy as np

__all__ = ["assign_clusters", "update_centres", "kmeans_cost", "kmeans_plusplus"]

_CHUNK_BYTES = 2 << 20  # rows per chunk: about 2 MB of X, which stays in the L2 cache between E- and M-step


# -- validation ------------------------------------------------------------------------------------------------------

def _as_data(X, name="X", *, check_finite=True):
    """Return X as a C-contiguous 2-D float32/float64 array (float32 kept, anything else float64)."""
    if hasattr(X, "toarray"):
        raise TypeError(f"{name} is a sparse matrix; pass a dense array (e.g. {name}.toarray()).")
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} should be an array of real numbers; got dtype {arr.dtype}.")
    if arr.ndim != 2:
        hint = " Use X.reshape(-1, 1) for one feature." if arr.ndim == 1 else ""
        raise ValueError(f"{name} should be 2-D of shape (n_samples, n_features); got shape {arr.shape}.{hint}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one sample and one feature.")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if check_finite and not np.isfinite(arr).all():
        _raise_not_finite(arr, name)
    return arr


def _raise_not_finite(arr, name):
    row = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
    raise ValueError(f"{name} contains NaN or infinity (first in row {row}); remove or impute those samples first.")


def _check_centres(centres, n_features, name="centres"):
    c = np.asarray(centres, dtype=float)
    if c.ndim != 2 or c.shape[1] != n_features or c.shape[0] == 0:
        raise ValueError(f"{name} should have shape (n_clusters, {n_features}); got {c.shape}.")
    if not np.isfinite(c).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return c


def _check_labels(labels, n_samples, n_clusters):
    lab = np.asarray(labels)
    if lab.shape != (n_samples,) or lab.dtype.kind not in "iu":
        raise ValueError(f"labels should be integers of shape ({n_samples},); got {lab.dtype} of shape {lab.shape}.")
    if lab.size and (lab.min() < 0 or lab.max() >= n_clusters):
        raise ValueError(f"labels should lie in 0..{n_clusters - 1} (n_clusters={n_clusters}); "
                         f"got values from {lab.min()} to {lab.max()}.")
    return lab


def _check_n_clusters(n_clusters, n_samples):
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
        raise ValueError(f"n_clusters={n_clusters!r} should be a positive integer.")
    if n_clusters > n_samples:
        raise ValueError(f"n_samples={n_samples} should be >= n_clusters={n_clusters}; ask for fewer clusters "
                         "or give more samples.")
    return int(n_clusters)


def _chunks(n, row_bytes):
    """(start, stop) of the chunks of n rows of row_bytes each, about _CHUNK_BYTES a chunk."""
    rows = max(1, _CHUNK_BYTES // row_bytes)
    return [(s, min(s + rows, n)) for s in range(0, n, rows)]


# -- the steps of the algorithm ---------------------------------------------------------------------------------------

def assign_clusters(X, centres):
    """E-step: the index of the nearest centre for every sample.

    Uses ``|x - c|^2 = |x|^2 - 2 x.c + |c|^2`` as one matrix product; ``|x|^2``
    is the same for every centre and drops out of the comparison.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centres : ndarray of shape (n_clusters, n_features)

    Returns
    -------
    labels : ndarray of shape (n_samples,), int
        Ties go to the lower index.

    Examples
    --------
    >>> assign_clusters(np.array([[0.0], [0.9], [3.0]]), np.array([[0.0], [2.0]]))
    array([0, 0, 1])
    """
    X = _as_data(X)
    c = _check_centres(centres, X.shape[1])
    dist = np.einsum("ij,ij->i", c, c) - 2.0 * (X @ c.T)
    return np.argmin(dist, axis=1)


def _cluster_sums(X, labels, n_clusters):
    """Per-cluster sums of the rows of X and counts, without a loop over samples."""
    import scipy.sparse

    n = X.shape[0]
    onehot = scipy.sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(n_clusters, n))
    return np.asarray(onehot @ X, dtype=float), np.bincount(labels, minlength=n_clusters)


def update_centres(X, labels, n_clusters, *, previous=None):
    """M-step: each centre moves to the mean of the samples assigned to it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,), int in 0..n_clusters-1
    n_clusters : int
    previous : ndarray of shape (n_clusters, n_features), optional
        Centres before the update; a cluster with no sample keeps its
        previous centre. Without it an empty cluster is an error.

    Returns
    -------
    ndarray of shape (n_clusters, n_features)

    Examples
    --------
    >>> update_centres(np.array([[0.0], [1.0], [5.0]]), np.array([0, 0, 1]), 2)
    array([[0.5],
           [5. ]])
    """
    X = _as_data(X)
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
        raise ValueError(f"n_clusters={n_clusters!r} should be a positive integer.")
    labels = _check_labels(labels, X.shape[0], int(n_clusters))
    sums, counts = _cluster_sums(X, labels, int(n_clusters))
    empty = counts == 0
    if empty.any():
        if previous is None:
            raise ValueError(f"cluster(s) {np.flatnonzero(empty).tolist()} have no sample; pass previous=centres "
                             "to keep their old centre, or start from other centres.")
        prev = _check_centres(previous, X.shape[1], "previous")
        if prev.shape[0] != n_clusters:
            raise ValueError(f"previous has {prev.shape[0]} centres but n_clusters={n_clusters}.")
        sums[empty] = prev[empty]
        counts = np.where(empty, 1, counts)
    return sums / counts[:, None]


def _inertia(X, centres, labels):
    """Sum of squared distances to the assigned centres, in chunks.

    The squared distance of each sample is computed in the precision of X
    (for float32, good to about 1e-6 relative, with errors of either sign),
    and the samples are summed in float64: the total is then good to about
    1e-8 relative, where a float32 running sum drifts by 1e-6 or more over
    1e5 samples.
    """
    c = np.asarray(centres).astype(X.dtype)
    total = 0.0
    for s, e in _chunks(X.shape[0], X.itemsize * X.shape[1]):
        diff = X[s:e] - c[labels[s:e]]
        total += float(np.einsum("ij,ij->i", diff, diff).sum(dtype=np.float64))
    return total


def kmeans_cost(X, centres, labels):
    """The K-means cost ``C = sum_n |x_n - mu_{k_n}|^2`` (the inertia).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centres : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,), int

    Returns
    -------
    float, in the squared units of X

    Examples
    --------
    >>> kmeans_cost(np.array([[0.0], [1.0], [5.0]]), np.array([[0.5], [5.0]]), np.array([0, 0, 1]))
    0.5
    """
    X = _as_data(X)
    c = _check_centres(centres, X.shape[1])
    return _inertia(X, c, _check_labels(labels, X.shape[0], c.shape[0]))


def lloyd(X, initial_centres, *, max_iter=100):
    """Lloyd's algorithm from given centres, built from the steps above.

    Assign every sample to its nearest centre, then alternate an update (the centres move to the means; an empty
    cluster keeps its centre) and a new assignment, until an assignment no longer changes any label or
    ``max_iter`` updates have been made.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    initial_centres : ndarray of shape (n_clusters, n_features)
        The starting centres (not modified).
    max_iter : int, default 100
        Most updates to make (0: only the first assignment).

    Returns
    -------
    centres : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,), int
        ``assign_clusters(X, centres)`` for the returned centres.
    costs : ndarray of shape (n_updates + 1,)
        The cost :func:`kmeans_cost` after the first assignment and after each update and assignment, in the
        squared units of X; it never increases.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [9.0], [10.0]])
    >>> centres, labels, costs = lloyd(X, np.array([[0.0], [1.0]]))
    >>> centres.ravel().tolist(), labels.tolist(), costs.round(2).tolist()
    ([0.5, 9.5], [0, 0, 1, 1], [145.0, 17.56, 1.0])
    """
    X = _as_data(X)
    centres = _check_centres(initial_centres, X.shape[1], "initial_centres").copy()
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ValueError(f"max_iter={max_iter!r} should be a non-negative integer.")
    n_clusters = centres.shape[0]
    labels = assign_clusters(X, centres)
    costs = [kmeans_cost(X, centres, labels)]
    for _ in range(int(max_iter)):
        centres = update_centres(X, labels, n_clusters, previous=centres)
        new = assign_clusters(X, centres)
        costs.append(kmeans_cost(X, centres, new))
        converged = np.array_equal(new, labels)
        labels = new
        if converged:
            break
    return centres, labels, np.asarray(costs)


def kmeans_plusplus(X, n_clusters, *, seed=None):
    """k-means++ seeding: spread-out initial centres.

    The first centre is a sample drawn uniformly; each next one is a sample
    drawn with probability proportional to its squared distance to the
    nearest centre chosen so far (D^2 weighting).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_clusters : int
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_clusters, n_features)
        Copies of rows of X.

    References
    ----------
    D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
    seeding", Proc. ACM-SIAM SODA (2007) 1027-1035, doi:10.5555/1283383.1283494.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> c = kmeans_plusplus(X, 2, seed=0)
    >>> sorted(int(v) for v in c[:, 0])  # one centre in each pair
    [0, 10]
    """
    X = _as_data(X)
    n_clusters = _check_n_clusters(n_clusters, X.shape[0])
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    idx = [int(rng.integers(n))]
    d2 = _sq_dist_to(X, X[idx[0]])
    for _ in range(1, n_clusters):  # a loop over the K centres; everything per sample is vectorised
        cum = np.cumsum(d2)
        if cum[-1] > 0:
            i = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
            i = min(i, n - 1)
        else:  # every sample sits on a centre already: any sample will do
            i = int(rng.integers(n))
        idx.append(i)
        np.minimum(d2, _sq_dist_to(X, X[i]), out=d2)
    return X[idx].astype(np.float64)


def _sq_dist_to(X, c):
    out = np.empty(X.shape[0])
    c = np.asarray(c, dtype=np.float64)
    for s, e in _chunks(X.shape[0], 8 * X.shape[1]):
        diff = X[s:e].astype(np.float64) - c
        out[s:e] = np.einsum("ij,ij->i", diff, diff)
    return out


