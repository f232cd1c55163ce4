"""K-means clustering: the steps written out, and a fast estimator that matches scikit-learn.

The functions :func:`assign_clusters` (E-step), :func:`update_centres`
(M-step), :func:`kmeans_cost` and :func:`kmeans_plusplus` are the pieces of
the algorithm as the tutorial writes them. :class:`KMeans` puts them together
with scikit-learn's estimator API; from the same initial centres it follows
scikit-learn's Lloyd iterations (same labels, same inertia), in chunks that
bound the memory and on several threads.

Used in: tutorials/03_clustering.
"""

import os
import warnings

import numpy as np

__all__ = ["KMeans", "assign_clusters", "update_centres", "kmeans_cost", "kmeans_plusplus", "make_potatoes",
           "POTATO_FEATURES", "POTATO_VARIETIES", "plot_kmeans_steps", "plot_thickness_clusters"]

#: Features of :func:`make_potatoes`, with units.
POTATO_FEATURES = ("length (cm)", "width (cm)", "redness (dimensionless)")
#: Varieties of :func:`make_potatoes`, in the order of their labels.
POTATO_VARIETIES = ("russet", "red", "fingerling")

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


def _chunks(n, rows):
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
    for s, e in _chunks(X.shape[0], max(1, _CHUNK_BYTES // (X.itemsize * X.shape[1]))):
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
    for s, e in _chunks(X.shape[0], max(1, _CHUNK_BYTES // (8 * X.shape[1]))):
        diff = X[s:e].astype(np.float64) - c
        out[s:e] = np.einsum("ij,ij->i", diff, diff)
    return out


# -- the estimator ---------------------------------------------------------------------------------------------------

class KMeans:
    """K-means clustering (Lloyd's algorithm) with scikit-learn's estimator API.

    Parameters
    ----------
    n_clusters : int, default 8
    init : {"k-means++", "random"} or ndarray of shape (n_clusters, n_features)
        Initial centres: k-means++ seeding (:func:`kmeans_plusplus`), distinct
        random samples, or the given centres.
    n_init : int, default 1
        Number of runs from different initial centres; the lowest inertia
        wins. Must be 1 when ``init`` is an array.
    max_iter : int, default 300
        Maximum number of Lloyd iterations of a run.
    tol : float, default 1e-4
        Stop when the squared centre shift summed over clusters is at most
        ``tol`` times the mean variance of the features (scikit-learn's rule);
        the run also stops when no label changes.
    n_threads : int, optional
        Threads over chunks of samples; default up to 4 of the CPUs.
    seed : int, numpy.random.Generator or None
        Seeds the initial centres.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features), dtype of X
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Sum of squared distances of the samples to their centre, summed in
        float64 from ``cluster_centers_``.
    n_iter_ : int
        Iterations of the best run.
    n_features_in_ : int

    Notes
    -----
    Each iteration passes once over X in chunks of about 2 MB: the chunk is
    centred (X minus its mean, as scikit-learn does for accuracy), the E-step
    is one matrix product ``|c|^2 - 2 X C^T``, and the M-step adds the chunk to
    its clusters with a second product (a one-hot matrix times the chunk)
    while the chunk is still in the cache. Sums of centres and the inertia are
    kept in float64. Float32 input stays float32 (half the memory and time).

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.2, 0.0], [5.0, 5.0], [5.0, 5.4]])
    >>> km = KMeans(2, init=np.array([[0.0, 0.0], [5.0, 5.0]])).fit(X)
    >>> km.labels_.tolist(), round(km.inertia_, 6)
    ([0, 0, 1, 1], 0.1)
    >>> km.predict(np.array([[4.0, 4.0]])).tolist()
    [1]
    """

    def __init__(self, n_clusters=8, *, init="k-means++", n_init=1, max_iter=300, tol=1e-4, n_threads=None,
                 seed=None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_threads = n_threads
        self.seed = seed

    def __repr__(self):
        return f"KMeans(n_clusters={self.n_clusters!r}, max_iter={self.max_iter!r}, tol={self.tol!r})"

    # validation of the parameters, at fit time like scikit-learn
    def _check_params(self, n_samples, n_features):
        k = _check_n_clusters(self.n_clusters, n_samples)
        for name in ("n_init", "max_iter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}={v!r} should be a positive integer.")
        if not (np.isscalar(self.tol) and np.isfinite(self.tol) and self.tol >= 0):
            raise ValueError(f"tol={self.tol!r} should be a number >= 0.")
        init = self.init
        if isinstance(init, str):
            if init not in ("k-means++", "random"):
                raise ValueError(f"init={init!r} is not known; use 'k-means++', 'random' or an array of centres.")
        else:
            init = _check_centres(init, n_features, "init")
            if init.shape[0] != k:
                raise ValueError(f"init has {init.shape[0]} centres but n_clusters={k}; give one row per cluster.")
            if self.n_init != 1:
                raise ValueError(f"n_init={self.n_init} should be 1 when init is an array (every run would be the "
                                 "same).")
        n_threads = self.n_threads if self.n_threads is not None else min(4, os.cpu_count() or 1)
        if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
            raise ValueError(f"n_threads={self.n_threads!r} should be a positive integer or None.")
        return k, init, int(n_threads)

    def fit(self, X, y=None):
        """Cluster X.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Float32 data stay float32; other numbers are converted to float64.
        y : ignored
            Present for scikit-learn's API.

        Returns
        -------
        self
        """
        X = _as_data(X, check_finite=False)
        n, d = X.shape
        k, init, n_threads = self._check_params(n, d)
        rng = np.random.default_rng(self.seed)
        worker = _Lloyd(X, n_threads)
        best = None
        try:
            # one pass: the mean (for centring), the variance (for tol) and a check for NaN/inf
            col_sum, col_sq = worker.column_sums(squares=self.tol > 0)
            if not np.isfinite(col_sum).all() and not np.isfinite(X).all():
                _raise_not_finite(X, "X")
            worker.centre_on(col_sum / n)
            tol = 0.0
            if self.tol > 0:
                tol = float(self.tol * np.mean(np.clip(col_sq / n - worker.mean**2, 0.0, None)))
            for _ in range(int(self.n_init)):
                if isinstance(init, str) and init == "k-means++":
                    c0 = kmeans_plusplus(X, k, seed=rng)
                elif isinstance(init, str):
                    c0 = X[rng.choice(n, size=k, replace=False)].astype(np.float64)
                else:
                    c0 = init
                run = worker.run(c0, int(self.max_iter), tol)
                if best is None or run[2] < best[2]:
                    best = run
        finally:
            worker.close()
        labels, centres, inertia, n_iter = best
        if np.unique(labels).size < k:
            warnings.warn(f"found {np.unique(labels).size} distinct clusters, fewer than n_clusters={k}; X may "
                          "hold fewer distinct points than clusters.", stacklevel=2)
        self.cluster_centers_ = centres
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = d
        return self

    def predict(self, X):
        """Index of the nearest fitted centre for every sample of X, ndarray of shape (n_samples,), int32."""
        if not hasattr(self, "cluster_centers_"):
            raise RuntimeError("this KMeans is not fitted yet; call fit(X) before predict.")
        X = _as_data(X, check_finite=False)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features but this KMeans was fitted with {self.n_features_in_}.")
        if not np.isfinite(X).all():
            _raise_not_finite(X, "X")
        worker = _Lloyd(X, 1)
        try:
            worker.centre_on(self.cluster_centers_.mean(axis=0, dtype=np.float64))
            return worker.step(self.cluster_centers_.astype(np.float64), update=False)[0]
        finally:
            worker.close()

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``."""
        return self.fit(X).labels_


class _Lloyd:
    """Lloyd iterations over a fixed X, in chunks, on a pool of threads (numpy and BLAS release the GIL)."""

    def __init__(self, X, n_threads):
        self.X = X
        self.chunks = _chunks(X.shape[0], max(1, _CHUNK_BYTES // (X.itemsize * X.shape[1])))
        self.centre_on(np.zeros(X.shape[1]))
        self.n_threads = max(1, min(n_threads, len(self.chunks)))
        # contiguous blocks of chunks, one per thread
        self.blocks = [b for b in np.array_split(np.arange(len(self.chunks)), self.n_threads) if b.size]
        self.pool = None
        if self.n_threads > 1:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(self.n_threads)
        self.limits = None
        try:  # one BLAS thread per worker: BLAS threads on products this small cost more than they bring
            from threadpoolctl import threadpool_limits

            self.limits = threadpool_limits(1, user_api="blas")
        except ImportError:  # threadpoolctl comes with scikit-learn; without it BLAS picks its own threads
            pass

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()
        if self.limits is not None:
            self.limits.restore_original_limits()

    def centre_on(self, mean):
        """Work with X - mean (float64 mean; the chunks are shifted in the precision of X)."""
        self.mean = np.asarray(mean, dtype=np.float64)
        self.shift = self.mean.astype(self.X.dtype)

    def _map(self, func):
        """func(block) for every block of chunks, on the threads."""
        if self.pool is None:
            return [func(b) for b in self.blocks]
        return list(self.pool.map(func, self.blocks))

    def column_sums(self, squares=False):
        """Column sums of X and, if asked, of its squares, in float64."""
        def block(b):
            total = np.zeros(self.X.shape[1])
            sq = np.zeros(self.X.shape[1]) if squares else None
            for j in b:
                s, e = self.chunks[j]
                total += self.X[s:e].sum(axis=0, dtype=np.float64)
                if squares:
                    sq += np.einsum("ij,ij->j", self.X[s:e], self.X[s:e], dtype=np.float64)
            return total, sq
        parts = self._map(block)
        return sum(p[0] for p in parts), (sum(p[1] for p in parts) if squares else None)

    def inertia(self, centres, labels):
        """:func:`_inertia` on the threads."""
        def block(b):
            s, e = self.chunks[b[0]][0], self.chunks[b[-1]][1]
            return _inertia(self.X[s:e], centres, labels[s:e])
        return float(sum(self._map(block)))

    def _block(self, block, cc, cn, labels, update):
        X, k = self.X, cc.shape[1]
        rows = self.chunks[0][1] - self.chunks[0][0]
        buf = np.empty((rows, X.shape[1]), dtype=X.dtype)
        onehot = np.zeros((k, rows), dtype=X.dtype)
        sums = np.zeros((k, X.shape[1]))
        counts = np.zeros(k, dtype=np.int64)
        for j in block:
            s, e = self.chunks[j]
            xc = buf[: e - s]
            np.subtract(X[s:e], self.shift, out=xc)  # centred chunk, as scikit-learn centres X
            dist = xc @ cc  # E-step: |c|^2 - 2 x.c, one product
            dist *= -2.0
            dist += cn
            lab = np.argmin(dist, axis=1)
            labels[s:e] = lab
            if update:  # M-step on the chunk while it is in the cache
                oh = onehot[:, : e - s]
                oh.fill(0)
                oh[lab, np.arange(e - s)] = 1
                sums += oh @ xc
                counts += np.bincount(lab, minlength=k)
        return sums, counts

    def step(self, centres, update=True):
        """One E-step (and M-step): labels, new centres, counts; centres in the original coordinates."""
        c_centred = (centres - self.mean).astype(self.X.dtype)
        cc = np.ascontiguousarray(c_centred.T)
        cn = np.einsum("ij,ij->i", c_centred, c_centred)
        labels = np.empty(self.X.shape[0], dtype=np.int32)
        parts = self._map(lambda b: self._block(b, cc, cn, labels, update))
        if not update:
            return labels, None, None
        sums = sum(p[0] for p in parts)
        counts = sum(p[1] for p in parts)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            self._relocate(empty, centres, labels, sums, counts)
        biggest = int(np.argmax(counts))
        with np.errstate(invalid="ignore", divide="ignore"):
            new = np.where(counts[:, None] > 0, sums / counts[:, None], sums[biggest] / counts[biggest])
        return labels, new + self.mean, counts

    def _relocate(self, empty, centres, labels, sums, counts):
        """Move empty clusters to the samples farthest from their centre (scikit-learn's rule)."""
        dist = np.empty(self.X.shape[0])
        for s, e in self.chunks:
            diff = self.X[s:e].astype(np.float64) - centres[labels[s:e]]
            dist[s:e] = np.einsum("ij,ij->i", diff, diff)
        if dist.max() == 0:  # fewer distinct samples than clusters: nothing to move
            return
        far = np.argsort(dist, kind="stable")[::-1][: empty.size]
        for new_id, i in zip(empty, far):  # a loop over the few empty clusters
            x = self.X[i].astype(np.float64) - self.mean
            old_id = labels[i]
            sums[old_id] -= x
            counts[old_id] -= 1
            sums[new_id] = x
            counts[new_id] = 1

    def run(self, centres, max_iter, tol):
        """Lloyd iterations from ``centres`` as scikit-learn runs them; returns labels, centres, inertia, n_iter."""
        centres = np.asarray(centres, dtype=np.float64)
        labels_old = np.full(self.X.shape[0], -1, dtype=np.int32)
        strict = False
        for i in range(max_iter):
            labels, new, _ = self.step(centres)
            shift = float(np.sum((new - centres) ** 2))
            centres = new
            if np.array_equal(labels, labels_old):
                strict = True
                break
            if shift <= tol:
                break
            labels_old = labels
        if not strict:  # labels that match the final centres
            labels = self.step(centres, update=False)[0]
        out = centres.astype(self.X.dtype)
        return labels, out, self.inertia(out, labels), i + 1


# -- data and figures for the tutorial --------------------------------------------------------------------------------

def make_potatoes(n_samples=300, *, seed=None):
    """A sack of potatoes of three varieties, measured but not labelled.

    Russets are long, wide and brown; reds are round and red; fingerlings
    are long, thin and yellowish. Features in :data:`POTATO_FEATURES`
    (length and width in cm, redness from 0 to 1); their scales differ,
    so standardise them before clustering.

    Parameters
    ----------
    n_samples : int, default 300
        Number of potatoes (shared about equally between the varieties).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 3)
        Length (cm), width (cm), redness (dimensionless).
    variety : ndarray of shape (n_samples,), int
        Index into :data:`POTATO_VARIETIES`: the truth, for checking only.

    Examples
    --------
    >>> X, variety = make_potatoes(30, seed=0)
    >>> X.shape, np.bincount(variety).tolist()
    ((30, 3), [10, 10, 10])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 3:
        raise ValueError(f"n_samples={n_samples!r} should be an integer >= 3 (one potato per variety at least).")
    rng = np.random.default_rng(seed)
    mean = np.array([[11.0, 6.5, 0.30], [7.0, 6.0, 0.80], [8.0, 2.8, 0.45]])
    std = np.array([[1.4, 0.7, 0.06], [0.8, 0.6, 0.06], [1.2, 0.4, 0.07]])
    variety = np.arange(int(n_samples)) % 3
    X = mean[variety] + std[variety] * rng.standard_normal((int(n_samples), 3))
    order = rng.permutation(int(n_samples))
    X, variety = X[order], variety[order]
    X[:, :2] = np.clip(X[:, :2], 1.0, None)
    X[:, 2] = np.clip(X[:, 2], 0.0, 1.0)
    return X, variety


def plot_kmeans_steps(ax, X, *, n_clusters=3, step=1, init="random", seed=0, labels=("x", "y")):
    """Draw K-means on 2-D data after ``step`` iterations, with the path of each centre.

    Step 0 shows the initial centres (all samples grey); step s shows the
    assignment made in iteration s and the centres it moved to.

    Parameters
    ----------
    ax : matplotlib Axes
    X : ndarray of shape (n_samples, 2)
    n_clusters, step : int
    init : {"random", "k-means++"}
        How the initial centres are drawn (seeded by ``seed``).
    labels : (str, str)
        Axis labels, with units.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .plotting import MARKERS, color

    X = _as_data(X)
    if X.shape[1] != 2:
        raise ValueError(f"X should have 2 features to draw; got shape {X.shape}.")
    if init not in ("random", "k-means++"):
        raise ValueError(f"init={init!r} should be 'random' or 'k-means++'.")
    rng = np.random.default_rng(seed)
    n_clusters = _check_n_clusters(n_clusters, X.shape[0])
    if init == "random":
        centres = X[rng.choice(X.shape[0], n_clusters, replace=False)].astype(float)
    else:
        centres = kmeans_plusplus(X, n_clusters, seed=rng)
    path = [centres]
    lab = None
    for _ in range(int(step)):
        lab = assign_clusters(X, centres)
        centres = update_centres(X, lab, n_clusters, previous=centres)
        path.append(centres)
    if lab is None:
        ax.scatter(X[:, 0], X[:, 1], s=12, color="0.6")
    else:
        for k in range(n_clusters):
            sel = lab == k
            ax.scatter(X[sel, 0], X[sel, 1], s=12, color=color(k), marker=MARKERS[k % len(MARKERS)], alpha=0.6)
    path = np.stack(path)
    for k in range(n_clusters):
        ax.plot(path[:, k, 0], path[:, k, 1], "-", color="k", lw=1)
        ax.plot(path[-1, k, 0], path[-1, k, 1], marker="X", ms=12, color=color(k), mec="k", ls="none")
    cost = kmeans_cost(X, centres, assign_clusters(X, centres))
    ax.set_title(f"step {int(step)}: cost {cost:.3g}", fontsize=10)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    return ax


def plot_thickness_clusters(ax, image, *, n_clusters=5, zlp_window=(-np.inf, 1.0), seed=0):
    """Cluster the pixels of a spectral image by log-ratio t/lambda and draw the cluster map.

    Clusters are numbered from thin to thick, so that colours follow the
    thickness whatever the run.

    Parameters
    ----------
    ax : matplotlib Axes
    image : ml4em.datasets.SpectralImage
    n_clusters : int, default 5
    zlp_window : (float, float), eV
        Passed to :func:`ml4em.datasets.log_ratio_thickness`.
    seed : int

    Returns
    -------
    labels : ndarray of shape (ny, nx), int
        Cluster of each pixel, 0 the thinnest.
    """
    from matplotlib.colors import ListedColormap

    from .datasets.spectral_image import log_ratio_thickness
    from .plotting import PALETTE

    t = log_ratio_thickness(image.energy_loss, image.counts, zlp_window=zlp_window)
    km = KMeans(n_clusters, n_init=3, seed=seed).fit(t.reshape(-1, 1))
    order = np.argsort(km.cluster_centers_[:, 0])
    rank = np.empty_like(order)
    rank[order] = np.arange(n_clusters)
    labels = rank[km.labels_].reshape(t.shape)
    cmap = ListedColormap([PALETTE[i % len(PALETTE)] for i in range(n_clusters)])
    im = ax.imshow(labels, origin="lower", extent=image.extent, cmap=cmap, vmin=-0.5, vmax=n_clusters - 0.5,
                   interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, ticks=range(n_clusters))
    cbar.ax.set_yticklabels([f"{c:.2f}" for c in np.sort(km.cluster_centers_[:, 0])])
    cbar.set_label("cluster centre t/λ (dimensionless)")
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    ax.set_title(f"K = {n_clusters}: inertia {km.inertia_:.3g}", fontsize=10)
    return labels
