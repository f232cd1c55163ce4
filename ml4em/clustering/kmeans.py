"""The K-means estimator: :class:`KMeans`, with scikit-learn's estimator API.

From the same initial centres it follows scikit-learn's Lloyd iterations (same labels, same inertia), in
chunks of rows that stay in the cache between the E- and M-step, and on several threads.
"""

import os
import warnings

import numpy as np

from .steps import _as_data, _check_centres, _check_n_clusters, _chunks, _inertia, _raise_not_finite, kmeans_plusplus

__all__ = ["KMeans"]


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
        self.chunks = _chunks(X.shape[0], X.itemsize * X.shape[1])
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


