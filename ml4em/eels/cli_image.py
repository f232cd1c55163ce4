"""``ml4em zlp-image``: thickness, cluster and band-gap maps of a spectral image of any size.

::

    ml4em zlp-image IMAGE --out DIR [--clusters K] [--n-replicas N] [--scheduler ADDR] [--workers W]

Reads ``IMAGE`` (``.dm3``/``.dm4``/``.hspy``/``.zspy``) lazily and runs the
chunked pipeline of :mod:`ml4em.eels.lazy` on a dask cluster: by default a
``LocalCluster`` of one single-threaded process per CPU core, or the
cluster whose scheduler is at ``--scheduler tcp://HOST:PORT`` (its workers
must be able to read ``IMAGE`` at the same path), or
``--scheduler synchronous`` (one process, no cluster). Writes to ``--out``:

- ``maps.npz``: thickness (t/lambda), cluster, band_gap, band_gap_low, band_gap_high,
  band_gap_uncertainty (eV), exponent, fit_ok maps (ny, nx), the cluster centres and the pixel size
- ``thickness.png``, ``clusters.png``, ``band_gap.png``, ``band_gap_uncertainty.png``, ``exponent.png``
- ``summary.json``: settings, per-cluster dE1, dE2 and window, medians of the maps, timings

The output rules are those of ``ml4em zlp`` (:mod:`ml4em.eels.cli_output`,
:mod:`ml4em.eels.cli_checks`): checks before the work (the file exists and
holds a spectral image with an energy axis, plausible spectra, the options,
``--out`` can be written and holds no input, the memory of the training and
of a chunk task), the marker file, ``--overwrite`` only for a folder that
ml4em wrote. The work happens in a hidden folder beside ``--out``
(``.ml4em-zlp-DIR.partial-*``), which also holds the resumable chunk store
(:class:`ml4em.eels.lazy.ChunkStore`): when a run fails, is interrupted
(Ctrl-C) or terminated (SIGTERM), the chunks completed so far stay there,
and the same command resumes them; ``--restart`` discards them. The final
folder appears only when every chunk is done. Exit codes: 0 done, 2 a user
error, 130 interrupted, 143 terminated.

Used in: the README's EELS section.
"""

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import cli_checks as checks
from . import cli_output as output
from .cli_checks import CLIError

__all__ = ["OUTPUT_FILES", "MAP_FIGURES", "add_parser", "main", "find_partial"]

#: The map figures: file, array in maps.npz, colour-bar label.
MAP_FIGURES = (("thickness.png", "thickness", "t/lambda (dimensionless)"),
               ("clusters.png", "cluster", "thickness cluster (0 = thinnest)"),
               ("band_gap.png", "band_gap", "band gap E_BG (eV)"),
               ("band_gap_uncertainty.png", "band_gap_uncertainty", "E_BG 68% half-width (eV)"),
               ("exponent.png", "exponent", "exponent b (dimensionless)"))
#: The files of a finished output folder (besides the marker).
OUTPUT_FILES = ("maps.npz",) + tuple(f for f, _, _ in MAP_FIGURES) + ("summary.json",)
#: The folder of the resumable chunk store inside the partial folder.
STORE = "chunks"
#: Spectra read before the work to check that the file holds plausible low-loss spectra.
N_CHECKED_SPECTRA = 8


def add_parser(subparsers):
    """Add the ``zlp-image`` subcommand to an argparse ``subparsers`` object (called by ``ml4em.cli``)."""
    p = subparsers.add_parser(
        "zlp-image", help="thickness, cluster and band-gap maps of a spectral image of any size (dask)",
        description="Cluster the pixels of an EELS spectral image by thickness, train a ZLP ensemble per cluster "
        "and map the band gap with its uncertainty, chunk by chunk on a dask cluster; an interrupted run resumes.")
    p.add_argument("image", metavar="IMAGE", help="spectral image (.dm3, .dm4, .hspy or .zspy)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--clusters", type=int, default=5, help="thickness clusters, vacuum included (default 5)")
    p.add_argument("--n-replicas", type=int, default=30, help="Monte Carlo replicas per cluster (default 30)")
    p.add_argument("--max-spectra", type=int, default=64, help="pixels per cluster to train on (default 64)")
    p.add_argument("--window", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                   help="band-gap fit window, eV (default: per cluster, from its mean spectrum)")
    p.add_argument("--chunk", type=int, nargs=2, default=(32, 32), metavar=("NY", "NX"),
                   help="pixels per chunk (default 32 32; rounded to whole chunks of the file where its are smaller)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="dask scheduler address (tcp://HOST:PORT), or 'synchronous'; default: a local cluster")
    p.add_argument("--workers", type=int, default=None,
                   help="workers of the local cluster (default: one per CPU core)")
    p.add_argument("--max-iter", type=int, default=500, help="training iterations cap per replica (default 500)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output folder that ml4em wrote (never one holding other files)")
    p.add_argument("--restart", action="store_true", help="discard the chunks kept by an interrupted run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)
    return p


def _check_dependencies():
    import importlib.util

    missing = [m for m in ("dask", "distributed", "zarr") if importlib.util.find_spec(m) is None]
    if missing:
        raise CLIError(f"ml4em zlp-image needs {', '.join(missing)}, which is not installed; install the extra: "
                       "pip install 'ml4em[image]'.")


def _check_options(args):
    for name, value, low, fix in (("--clusters", args.clusters, 1, "5 is usual"),
                                  ("--n-replicas", args.n_replicas, 2, "30 is usual"),
                                  ("--max-spectra", args.max_spectra, 2, "64 is usual"),
                                  ("--max-iter", args.max_iter, 1, "500 is usual")):
        if value < low:
            raise CLIError(f"{name} {value}: should be at least {low} ({fix}).")
    if min(args.chunk) < 1:
        raise CLIError(f"--chunk {args.chunk[0]} {args.chunk[1]}: both should be at least 1 pixel (32 32 is usual).")
    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers {args.workers}: should be at least 1 (or leave it out: one per CPU core).")
    if args.workers is not None and args.scheduler is not None:
        raise CLIError(f"--workers {args.workers} sizes the local cluster; with --scheduler {args.scheduler} the "
                       "cluster is sized where it runs. Give one of the two.")
    if args.window is not None and not args.window[0] < args.window[1]:
        raise CLIError(f"--window {args.window[0]} {args.window[1]}: LOW should be below HIGH (eV).")


def _open_image(args):
    from .lazy import open_spectral_image

    try:
        image = open_spectral_image(args.image, chunks=args.chunk)
    except (OSError, ValueError) as err:
        raise CLIError(f"image file {args.image}: {err}") from err
    ny, nx = image.shape
    if args.clusters > ny * nx:
        raise CLIError(f"--clusters {args.clusters}: the image has only {ny * nx} pixels; choose fewer clusters.")
    # the axis and a few spectra (corners and centre) must be plausible low-loss spectra
    rng = np.random.default_rng(0)
    iy = np.r_[0, 0, ny - 1, ny - 1, ny // 2, rng.integers(0, ny, N_CHECKED_SPECTRA - 5)]
    ix = np.r_[0, nx - 1, 0, nx - 1, nx // 2, rng.integers(0, nx, N_CHECKED_SPECTRA - 5)]
    sample = np.asarray(image.counts.vindex[iy, ix].compute(scheduler="synchronous"), dtype=float)
    checks.check_spectrum(image.energy_loss, sample, path=args.image, role="image")
    return image


def _check_memory(args, image):
    from .lazy import estimate_chunk_memory_bytes
    from .memory import NotEnoughMemory, available_memory_bytes, check_memory
    from .model import MLPShape
    from .zlp import ZLPEnsemble

    n = int(image.energy_loss.size)
    # the training: at most every channel below dE1, plus the pseudo-data
    try:
        check_memory(args.n_replicas, n_channels=n, n_train=n + ZLPEnsemble().n_pseudo,
                     shape=MLPShape(1, ZLPEnsemble().hidden))
    except NotEnoughMemory as err:
        raise CLIError(err.message("--n-replicas")) from err
    if args.scheduler is not None:
        return  # the chunk tasks run on the cluster's workers, whose memory is theirs
    cy, cx = image.chunk_shape
    per_task = estimate_chunk_memory_bytes(cy * cx, n_channels=n, n_replicas=args.n_replicas, batch=256)
    free, where = available_memory_bytes()
    import os

    workers = args.workers or os.cpu_count() or 1
    if free is not None and per_task * workers > free:
        raise CLIError(f"--n-replicas {args.n_replicas} with --chunk {cy} {cx}: {workers} worker(s) would need about "
                       f"{per_task * workers / 2**20:.0f} MiB ({per_task / 2**20:.0f} MiB each), but "
                       f"{free / 2**20:.0f} MiB is available {where}; use fewer --workers, a smaller --chunk or "
                       "fewer --n-replicas.")


def find_partial(out):
    """The partial folders beside ``out`` that an interrupted ``ml4em zlp-image`` left (with marker and store)."""
    found = []
    for folder in sorted(out.parent.glob(f".ml4em-zlp-{out.name}.partial-*")):
        if folder.is_dir() and output.read_marker(folder) is not None and (folder / STORE / "settings.json").exists():
            found.append(folder)
    return found


def _partial_folder(args, out):
    """A partial folder to resume, or a new one; returns ``(folder, created parents, resumed)``."""
    old = find_partial(out)
    if args.restart:
        for folder in old:
            shutil.rmtree(folder)
        old = []
    if old:
        return old[0], [], True
    tmp, created = output.make_temporary_folder(out, given=args.out, files=OUTPUT_FILES)
    return tmp, created, False


def _extent(image):
    ny, nx = image.shape
    size = image.pixel_size or 1.0
    unit = image.pixel_units if image.pixel_size else "pixel"
    return [0, nx * size, ny * size, 0], unit


def _write_outputs(folder, res, image, args, seconds):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = res.maps
    arrays = {"thickness": res.thickness, "cluster": res.labels, "band_gap": m.band_gap,
              "band_gap_low": m.band_gap_low, "band_gap_high": m.band_gap_high,
              "band_gap_uncertainty": m.uncertainty, "exponent": m.exponent, "fit_ok": m.fit_ok}
    np.savez_compressed(folder / "maps.npz", **arrays, cluster_centres=res.centres,
                        pixel_size=np.nan if image.pixel_size is None else image.pixel_size,
                        pixel_units=image.pixel_units)
    extent, unit = _extent(image)
    for name, key, label in MAP_FIGURES:
        fig, ax = plt.subplots(figsize=(5.2, 4.4))
        shown = ax.imshow(arrays[key], extent=extent, cmap="tab10" if key == "cluster" else "viridis",
                          interpolation="nearest")
        fig.colorbar(shown, ax=ax, label=label)
        ax.set_xlabel(f"x ({unit})")
        ax.set_ylabel(f"y ({unit})")
        ax.set_title(f"{Path(args.image).name}: {label.split(' (')[0]}")
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
    specimen = np.isfinite(m.band_gap)

    def med(a):
        return float(np.nanmedian(a[specimen])) if specimen.any() else None

    summary = {
        "image": str(args.image), "shape": [*image.shape, int(image.energy_loss.size)],
        "chunk": list(image.chunk_shape),
        "clusters": args.clusters, "n_replicas": args.n_replicas, "max_spectra": args.max_spectra,
        "max_iter": args.max_iter, "seed": args.seed, "scheduler": args.scheduler or "local cluster",
        "cluster_centres_t_over_lambda": [float(c) for c in res.centres], "vacuum_cluster": res.vacuum_cluster,
        "dE1_eV": {str(k): v for k, v in res.dE1.items()}, "dE2_eV": {str(k): v for k, v in res.dE2.items()},
        "window_eV": {str(k): list(v) for k, v in res.windows.items()},
        "pixels_with_band_gap": int(specimen.sum()), "band_gap_median_eV": med(m.band_gap),
        "band_gap_uncertainty_median_eV": med(m.uncertainty), "exponent_median": med(m.exponent),
        "fit_ok_median": med(m.fit_ok), "seconds": {**{k: round(v, 3) for k, v in res.seconds.items()}, **seconds},
        "files": list(OUTPUT_FILES),
    }
    with open(folder / "summary.json", "w") as fh:
        json.dump(summary, fh, indent=2)
    return summary


def main(args):
    """Handler of ``ml4em zlp-image``: check, run (resuming a partial run), publish atomically; the exit code."""
    from .lazy import FOLDER_SUFFIXES, StoreMismatch, process_spectral_image

    out = Path(args.out).expanduser().resolve()
    tmp, created, keep = None, [], False
    start = time.perf_counter()
    with output.TerminationGuard() as guard:
        try:
            _check_dependencies()
            _check_options(args)
            inputs = checks.check_inputs([args.image], sample_role="image", folder_suffixes=FOLDER_SUFFIXES)
            image = _open_image(args)
            output.check_output_folder(out, given=args.out, inputs=inputs, overwrite=args.overwrite)
            _check_memory(args, image)
            with guard.deferred():
                tmp, created, resumed = _partial_folder(args, out)
            keep = resumed
            if resumed:
                print(f"ml4em zlp-image: resuming the interrupted run in {tmp}", file=sys.stderr)
            try:
                res = process_spectral_image(
                    image, n_clusters=args.clusters, n_replicas=args.n_replicas, max_spectra=args.max_spectra,
                    window=None if args.window is None else tuple(args.window), store=tmp / STORE,
                    scheduler=args.scheduler, n_workers=args.workers, progress=not args.quiet, seed=args.seed,
                    max_iter=args.max_iter)
            except StoreMismatch as err:
                keep = True
                raise CLIError(f"--out {args.out}: {err} Pass --restart to discard it.") from err
            except ValueError as err:
                raise CLIError(f"image file {args.image}: {err}".replace("window=(low, high)", "--window LOW HIGH")) \
                    from err
            summary = _write_outputs(tmp, res, image, args, {"total": round(time.perf_counter() - start, 3)})
            with guard.deferred():  # the folder may have changed during the run: check again, then rename
                output.check_output_folder(out, given=args.out, inputs=inputs, overwrite=args.overwrite)
                shutil.rmtree(tmp / STORE)  # the final folder holds only the files its marker lists
                output.publish(tmp, out)
                tmp, created = None, []
        except CLIError as err:
            print(f"ml4em zlp-image: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as err:
            what = "terminated (SIGTERM)" if isinstance(err, output.Terminated) else "interrupted"
            kept = tmp is not None and (tmp / STORE / "settings.json").exists()
            keep = keep or kept
            print(f"ml4em zlp-image: {what}; no output written" + (
                f"; the chunks done so far are kept in {tmp}: run the same command again to resume." if kept
                else "."), file=sys.stderr)
            return 143 if isinstance(err, output.Terminated) else 130
        finally:  # a fresh partial folder without a chunk store holds nothing worth keeping
            if tmp is not None and not keep and not (tmp / STORE / "settings.json").exists():
                with guard.deferred(reraise=False):
                    output.remove_temporary(tmp, created)
    if summary["pixels_with_band_gap"]:
        print(f"{summary['pixels_with_band_gap']} pixels with a band gap: median E_BG "
              f"{summary['band_gap_median_eV']:.3f} eV, median 68% half-width "
              f"{summary['band_gap_uncertainty_median_eV']:.3f} eV, median b {summary['exponent_median']:.2f}")
    else:
        print("ml4em zlp-image: warning: no pixel has a band gap (all vacuum, or no cluster got a ZLP model); "
              "check --clusters and the image.", file=sys.stderr)
    print(f"wrote {out} ({', '.join(summary['files'])}) in {time.perf_counter() - start:.0f} s")
    return 0
