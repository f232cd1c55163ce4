"""A spectral image processed lazily, chunk by chunk with dask: ``ml4em.eels.lazy.process_spectral_image``.

Usage::

    .venv/bin/python benchmarks/spectral_image.py                    # 256 x 256 pixels x 2048 channels
    .venv/bin/python benchmarks/spectral_image.py --size 32          # a quick check that it works
    .venv/bin/python benchmarks/spectral_image.py --workers 16 --scaling-rows 64

A synthetic flake (:func:`ml4em.datasets.make_spectral_image`, a strong band-gap onset, 2048 channels of
0.025 eV from -4 eV) is written to disk as ``.hspy`` (float32) in a temporary folder and processed from
there, the counts read lazily, on a ``LocalCluster`` of ``--workers`` single-threaded processes (default
one per CPU core), with the settings of ``ml4em zlp-image`` (5 clusters, 30 replicas, 64 training
pixels per cluster, 32 x 32-pixel chunks) unless given.

Measured:

(a) ``wall_s``: end to end, opening the file to the finished maps (cluster start-up included), and
    ``seconds``: per step; ``peak_rss_MiB``: the peak resident memory of this process and all its
    children (the workers) together, sampled every 0.1 s, during that run (the image is simulated and
    written in a child process before it); ``image_MiB``: the counts on disk (float32).
(b) ``pixel_replica_fits_per_s``: band-gap fits (pixels x replicas) per second of the band-gap step.
(c) against the generator's truth, on specimen pixels with a band gap: ``median_abs_error_eV`` of the
    band-gap map and ``coverage_68``, the share of pixels whose true E_BG lies in their 68% interval.
(d) scaling: the band-gap step alone on ``--scaling-rows`` rows (default 4 rows of chunks) through the middle of the image (where the
    specimen pixels are) with 1 and with 2 workers
    (``fits_per_s_1_worker``, ``fits_per_s_2_workers`` and their ratio ``speedup_2_over_1``; 2 is ideal,
    reached only on a machine with 2 idle cores). ``machine_2_over_1``, measured just before, is what this
    machine allows: the throughput of the same band-gap fits (the workload of
    ``benchmarks/bandgap_fits.py`` (e), one thread each, no dask) in 2 processes at once over 1 process. Two
    vCPUs that share a physical core or its memory bandwidth give well below 2 here, and dask cannot do better.

The last line is one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


class PeakMemory:
    """The peak resident memory (bytes) of this process and its children, sampled in a thread."""

    def __init__(self, interval=0.1):
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()

    def _sample(self):
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


def write_image(path, size, n_channels, seed):
    """Simulate the flake and write it as .hspy; returns the truth (band gap map, mask)."""
    import hyperspy.api as hs

    from ml4em.datasets import make_spectral_image

    e = -4.0 + 0.025 * np.arange(n_channels)
    im = make_spectral_image((size, size), energy_loss=e, gap_strength=100.0, seed=seed)
    s = hs.signals.Signal1D(im.counts)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = float(e[0]), 0.025, "eV", "Energy loss"
    for nav in s.axes_manager.navigation_axes:
        nav.scale, nav.units = im.pixel_size, "nm"
    s.save(str(path), overwrite=True)
    return im.band_gap, im.mask


def _fit_rate(_):
    """Pixel-replica fits per second of :func:`ml4em.eels.fit_band_gap` on one thread (the pipeline's workload)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bandgap_fits import make_pipeline_curves

    from ml4em.eels import fit_band_gap

    e, curves, sigma, window = make_pipeline_curves()
    fit_band_gap(e, curves[:2], window=window, sigma=sigma, n_jobs=1)
    t0 = time.perf_counter()
    for _ in range(3):
        fit_band_gap(e, curves, window=window, sigma=sigma, n_jobs=1)
    return 3 * curves.shape[0] * curves.shape[1] / (time.perf_counter() - t0)


def machine_ratio():
    """Throughput of the same fits in 2 processes at once over 1 process: what 2 workers can gain on this machine."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as pool:
        one = pool.submit(_fit_rate, 0).result()
    with ProcessPoolExecutor(2) as pool:
        two = sum(pool.map(_fit_rate, range(2)))
    return two / one


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=256, help="pixels per side (default 256)")
    p.add_argument("--channels", type=int, default=2048, help="energy channels (default 2048)")
    p.add_argument("--workers", type=int, default=None, help="workers of the full run (default: CPU cores)")
    p.add_argument("--n-replicas", type=int, default=30)
    p.add_argument("--clusters", type=int, default=5)
    p.add_argument("--max-iter", type=int, default=500)
    p.add_argument("--chunk", type=int, default=32, help="pixels per chunk side (default 32)")
    p.add_argument("--scaling-rows", type=int, default=None, help="rows for the 1- vs 2-worker runs (default 4 rows of chunks)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from ml4em.eels.lazy import LazySpectralImage, dask_runner, open_spectral_image, process_spectral_image

    settings = dict(n_clusters=args.clusters, n_replicas=args.n_replicas, max_iter=args.max_iter, seed=args.seed,
                    progress=False)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flake.hspy"
        t0 = time.perf_counter()
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(1) as pool:  # in a child process, so that its memory is not in the peak below
            truth, mask = pool.submit(write_image, path, args.size, args.channels, args.seed).result()
        write_s = time.perf_counter() - t0
        workers = args.workers or os.cpu_count() or 1
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            image = open_spectral_image(path, chunks=(args.chunk, args.chunk))
            res = process_spectral_image(image, n_workers=workers, **settings)
            wall = time.perf_counter() - t0
        m = res.maps
        good = mask & np.isfinite(m.band_gap)
        err = float(np.median(np.abs(m.band_gap[good] - truth[good])))
        cover = float(np.mean((m.band_gap_low[good] <= truth[good]) & (truth[good] <= m.band_gap_high[good])))
        fits_per_s = res.n_fits / res.seconds["band_gap"]

        # scaling: the band-gap step on a band of rows through the middle of the flake, where the fits are (the top
        # rows are mostly vacuum: a few chunks would hold all the work), with 1 and 2 workers (the same models,
        # retrained); the band starts on a chunk boundary so that its chunks are the image's (open_spectral_image
        # rounds --chunk to whole chunks of the file), and holds 4 rows of chunks by default: with fewer, the last
        # chunk to finish runs alone on one worker for a large share of the step
        cy = image.chunk_shape[0]
        rows = min(args.scaling_rows or 4 * cy, args.size)
        first = (args.size - rows) // 2 // cy * cy
        part = LazySpectralImage(image.energy_loss, image.counts[first:first + rows], str(path), image.pixel_size,
                                 image.pixel_units)
        rates = {}
        machine = machine_ratio()
        for n in (1, 2):
            with dask_runner(None, n_workers=n) as runner:
                r = process_spectral_image(part, runner=runner, **settings)
            rates[n] = r.n_fits / r.seconds["band_gap"]
    result = {
        "benchmark": "spectral_image", "size": [args.size, args.size, args.channels],
        "image_MiB": round(args.size * args.size * args.channels * 4 / 2**20, 1), "workers": workers,
        "chunk": args.chunk, "n_replicas": args.n_replicas, "clusters": args.clusters, "max_iter": args.max_iter,
        "write_s": round(write_s, 2), "wall_s": round(wall, 2),
        "seconds": {k: round(v, 2) for k, v in res.seconds.items()},
        "peak_rss_MiB": round(mem.peak / 2**20, 1), "pixel_replica_fits": int(res.n_fits),
        "pixel_replica_fits_per_s": round(fits_per_s, 1), "pixels_scored": int(good.sum()),
        "median_abs_error_eV": round(err, 4), "coverage_68": round(cover, 3),
        "scaling_rows": [first, first + rows], "fits_per_s_1_worker": round(rates[1], 1), "fits_per_s_2_workers": round(rates[2], 1),
        "speedup_2_over_1": round(rates[2] / rates[1], 2), "machine_2_over_1": round(machine, 2),
        "cpus": len(os.sched_getaffinity(0)),
        "load_avg": [round(load_start, 2), round(os.getloadavg()[0], 2)],
    }
    print(f"{args.size} x {args.size} x {args.channels}: {wall:.1f} s end to end on {workers} worker(s), peak "
          f"{result['peak_rss_MiB']} MiB, {fits_per_s:.0f} pixel-replica fits/s, median |error| {err:.3f} eV, "
          f"68% coverage {cover:.2f}; 1 -> 2 workers: x{result['speedup_2_over_1']} (the fits alone in 1 -> 2 "
          f"processes on this machine: x{result['machine_2_over_1']})")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
