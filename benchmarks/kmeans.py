"""K-means on 100,000 low-loss spectra x 1,000 channels: ml4em.clustering.KMeans against scikit-learn.

Usage::

    .venv/bin/python benchmarks/kmeans.py            # full size: 100,000 x 1,000 float32, K = 5
    ML4EM_QUICK=1 .venv/bin/python benchmarks/kmeans.py

The spectra are noisy copies of five synthetic low-loss spectra
(:func:`ml4em.datasets.make_lowloss_spectrum`, five thicknesses), with
Poisson noise in its Gaussian limit plus read noise, in float32. Both
estimators start from the same k-means++ centres (drawn once from the first
10,000 spectra), run Lloyd iterations with ``tol=0`` (so both stop when no
label changes, or at ``max_iter``) and are timed on the same array, best of
``--repeats`` interleaved runs; scikit-learn runs with its defaults
(``copy_x=True``, all CPUs).

Figures printed (the last line is one JSON object):

- ``ml4em_s``, ``sklearn_s``, ``ratio`` (ml4em / sklearn): wall time of ``fit``;
  ``ml4em_cpu_s``, ``sklearn_cpu_s``, ``cpu_ratio``: CPU time of the process
  during ``fit`` (all threads), less sensitive to other jobs on the machine.
- ``labels_equal`` and ``n_iter_ml4em``, ``n_iter_sklearn``.
- ``inertia_rel_diff``: |inertia of ml4em - inertia of scikit-learn's
  clustering| / the latter, both sums of squared distances to the returned
  centres computed in float64 (``ml4em.clustering.kmeans_cost``).
- ``inertia_rel_diff_reported``: the same against scikit-learn's own
  ``inertia_``, which it sums in float32 for float32 data and is itself off
  by about 1e-6 relative at this size (``sklearn_inertia_error``).
- ``peak_mb``: peak resident memory of the whole process (the data are
  400 MB; scikit-learn copies them once); ``ml4em_extra_mb`` and
  ``sklearn_extra_mb``: the largest memory each ``fit`` allocated beyond the
  data (numpy allocations, from tracemalloc, in a separate untimed run).
- ``load_avg``: the 1-minute load average at the end (timings on a shared
  machine are pessimistic).
"""

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc

import numpy as np

from ml4em import by_mode, is_quick
from ml4em.clustering import KMeans, kmeans_cost, kmeans_plusplus
from ml4em.datasets import energy_axis, make_lowloss_spectrum


def make_spectra(n_samples, n_channels, n_classes, *, seed=0):
    """Noisy low-loss spectra of ``n_classes`` thicknesses, float32 (n_samples, n_channels), and their class."""
    rng = np.random.default_rng(seed)
    e = energy_axis(-2.0, 0.05, n_channels)
    thickness = np.linspace(0.3, 1.1, n_classes)
    mean = np.stack([(lambda s: s.zlp + s.inelastic)(make_lowloss_spectrum(e, zlp_height=2e3, t_over_lambda=t,
                                                                            seed=rng)) for t in thickness])
    std = np.sqrt(mean + 5.0**2)  # Poisson noise (Gaussian limit) plus read noise
    cls = rng.integers(0, n_classes, n_samples)
    X = np.empty((n_samples, n_channels), dtype=np.float32)
    for s in range(0, n_samples, 10_000):  # in blocks: no full-size temporaries
        c = cls[s:s + 10_000]
        X[s:s + c.size] = mean[c] + std[c] * rng.standard_normal((c.size, n_channels), dtype=np.float32)
    return X, cls


def _peak_rss_mb():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB on Linux


def _timed(fit):
    t0, c0 = time.perf_counter(), time.process_time()
    model = fit()
    return time.perf_counter() - t0, time.process_time() - c0, model


def _traced_mb(fit):
    tracemalloc.start()
    fit()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=by_mode(full=100_000, quick=10_000))
    parser.add_argument("--n-features", type=int, default=1000)
    parser.add_argument("--n-clusters", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=by_mode(full=5, quick=1))
    args = parser.parse_args(argv)
    from sklearn.cluster import KMeans as SKLearnKMeans

    t0 = time.perf_counter()
    X, _ = make_spectra(args.n_samples, args.n_features, args.n_clusters, seed=0)
    init = kmeans_plusplus(X[:10_000], args.n_clusters, seed=0).astype(np.float32)
    print(f"data: {X.shape} {X.dtype} ({X.nbytes / 2**20:.0f} MB) in {time.perf_counter() - t0:.1f} s", flush=True)

    def fit_ml4em():
        return KMeans(args.n_clusters, init=init, max_iter=args.max_iter, tol=0.0).fit(X)

    def fit_sklearn():
        return SKLearnKMeans(args.n_clusters, init=init, n_init=1, max_iter=args.max_iter, tol=0.0,
                             algorithm="lloyd").fit(X)

    times = {"ml4em": [], "sklearn": []}
    cpu = {"ml4em": [], "sklearn": []}
    for r in range(args.repeats):
        for name, fit in (("ml4em", fit_ml4em), ("sklearn", fit_sklearn)):
            dt, dc, model = _timed(fit)
            times[name].append(dt)
            cpu[name].append(dc)
            if name == "ml4em":
                ours = model
            else:
                theirs = model
            print(f"repeat {r + 1}: {name} fit {dt:.2f} s ({dc:.2f} s of CPU), {model.n_iter_} iterations",
                  flush=True)
    extra = {name: _traced_mb(fit) for name, fit in (("ml4em", fit_ml4em), ("sklearn", fit_sklearn))}

    sk_exact = kmeans_cost(X, theirs.cluster_centers_, theirs.labels_)
    result = {
        "n_samples": X.shape[0], "n_features": X.shape[1], "n_clusters": args.n_clusters, "dtype": str(X.dtype),
        "quick": is_quick(),
        "ml4em_s": round(min(times["ml4em"]), 3),
        "sklearn_s": round(min(times["sklearn"]), 3),
        "ratio": round(min(times["ml4em"]) / min(times["sklearn"]), 3),
        "ml4em_cpu_s": round(min(cpu["ml4em"]), 3),
        "sklearn_cpu_s": round(min(cpu["sklearn"]), 3),
        "cpu_ratio": round(min(cpu["ml4em"]) / min(cpu["sklearn"]), 3),
        "n_iter_ml4em": int(ours.n_iter_), "n_iter_sklearn": int(theirs.n_iter_),
        "labels_equal": bool(np.array_equal(ours.labels_, theirs.labels_)),
        "labels_agree_fraction": float(np.mean(ours.labels_ == theirs.labels_)),
        "inertia_rel_diff": float(abs(ours.inertia_ - sk_exact) / sk_exact),
        "inertia_rel_diff_reported": float(abs(ours.inertia_ - theirs.inertia_) / theirs.inertia_),
        "sklearn_inertia_error": float(abs(theirs.inertia_ - sk_exact) / sk_exact),
        "peak_mb": round(_peak_rss_mb(), 1),
        "data_mb": round(X.nbytes / 2**20, 1),
        "ml4em_extra_mb": round(extra["ml4em"], 1),
        "sklearn_extra_mb": round(extra["sklearn"], 1),
        "threads": os.cpu_count(),
        "load_avg": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
