"""Spectral images of any size: the pipeline of :class:`ml4em.eels.ImageZLP`, chunk by chunk with dask.

The image is read lazily (:func:`open_spectral_image`: RosettaSciIO with
``lazy=True`` gives a dask array, counts kept in float32) and cut into
chunks of pixels (all energy channels of a pixel in one chunk). Then, each
step a pass over the chunks or a small computation on the client:

1. the ZLP centre of every pixel (:func:`ml4em.eels.zlp_centre`); their
   mean fixes the common energy axis, as in :func:`ml4em.eels.align_zlp`;
2. per chunk, the spectra aligned onto that axis (:func:`align_to_axis`)
   and their thickness (:func:`ml4em.eels.estimate_thickness`);
3. the pixels clustered by thickness (:func:`ml4em.eels.cluster_by_thickness`,
   on the thickness map, or on a random sample of ``cluster_sample``
   pixels for very large images, the rest assigned to the nearest centre);
4. per cluster, the mean spectrum (a sum over the chunks) and one
   :class:`ml4em.eels.ZLPEnsemble` trained on a random subset of its
   pixels (the same random numbers, in the same order, as
   :meth:`ml4em.eels.ImageZLP.fit`, so that a run with one chunk and one
   with many train the same models);
5. per chunk, each replica's ZLP scaled to the pixel's peak, subtracted
   (:func:`ml4em.eels.subtract_zlp`) and the band gap fitted per replica
   (:func:`ml4em.eels.fit_band_gap`), in the fit window of the cluster's
   mean spectrum (:func:`ml4em.eels.pipeline.choose_window`): the steps of
   :meth:`ml4em.eels.ImageZLP.band_gap_maps`, with the cluster's reference
   spectrum taken over the whole image, not over the chunk, and the fit's
   sigma from each pixel's own replicas (fit_band_gap's default rule takes
   the median over every curve of a call), so that the maps do not depend
   on the chunking: they equal ``ImageZLP.band_gap_maps(counts, chunk=1)``.

The passes run on a :class:`dask.distributed.LocalCluster` sized to the
machine (processes, one thread each) by default, on any dask cluster given
its scheduler address (the workers must be able to read the image file), or
with dask's synchronous scheduler (``scheduler="synchronous"``, for tests
and debugging). The results of step 5 are written chunk by chunk into a
zarr store (:class:`ChunkStore`) by the client, with a completion flag per
chunk written after the chunk's maps; a rerun with the same store and the
same settings skips the completed chunks (and the finished passes 1-4,
whose results are kept too), so an interrupted run resumes.

dask, distributed and zarr are imported inside the functions, so that
``import ml4em`` stays fast; they are the optional extra ``ml4em[image]``.

Used in: ``ml4em zlp-image`` (:mod:`ml4em.eels.cli_image`) and benchmarks/spectral_image.py.
"""

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .axis import aligned_axis, zlp_centre
from .image import MAP_NAMES, cluster_reference, train_cluster_models, vacuum_clusters

__all__ = ["IMAGE_SUFFIXES", "FOLDER_SUFFIXES", "LazySpectralImage", "ImageMaps", "ChunkStore", "StoreMismatch",
           "open_spectral_image", "align_to_axis", "estimate_chunk_memory_bytes", "dask_runner",
           "process_spectral_image"]

#: File types that :func:`open_spectral_image` reads lazily, and their RosettaSciIO plugin.
IMAGE_SUFFIXES = {".dm3": "digitalmicrograph", ".dm4": "digitalmicrograph", ".hspy": "hspy", ".hdf5": "hspy",
                  ".zspy": "zspy"}
#: Of these, the types stored as a folder (a zarr store) rather than a file.
FOLDER_SUFFIXES = (".zspy",)


# ----------------------------------------------------------------------------- reading
@dataclass
class LazySpectralImage:
    """A spectral image whose counts stay on disk until a chunk is needed.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        The file's energy axis.
    counts : dask.array.Array of shape (ny, nx, n_channels), float32, counts
        Chunked along the pixels only (every chunk holds all channels).
    path : str
    pixel_size : float or None
        Size of a pixel along x, in ``pixel_units`` (None when the file has no scale).
    pixel_units : str
        E.g. ``"nm"``; ``"pixel"`` when the file has no scale.
    """

    energy_loss: np.ndarray
    counts: object
    path: str = ""
    pixel_size: float = None
    pixel_units: str = "pixel"

    @property
    def shape(self):
        """(ny, nx): pixels along y and x."""
        return tuple(int(n) for n in self.counts.shape[:2])

    @property
    def chunk_shape(self):
        """(cy, cx): pixels of a full chunk along y and x."""
        return int(self.counts.chunks[0][0]), int(self.counts.chunks[1][0])

    @property
    def n_chunks(self):
        """(n_chunks_y, n_chunks_x)."""
        return len(self.counts.chunks[0]), len(self.counts.chunks[1])


def open_spectral_image(path, *, chunks=(32, 32)):
    """Open a ``.dm3``/``.dm4``/``.hspy``/``.zspy`` spectral image lazily through RosettaSciIO.

    Parameters
    ----------
    path : str or path-like
    chunks : (int, int), default (32, 32)
        Pixels per chunk along y and x (each chunk holds all energy channels;
        32 x 32 pixels of 2048 float32 channels are 8 MiB). Where the file
        stores smaller chunks, each size is rounded to the nearest multiple of
        the file's (e.g. 33 for a file of 11 x 11-pixel chunks), so that no
        stored chunk is read by two tasks.

    Returns
    -------
    LazySpectralImage

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file type is not one of :data:`IMAGE_SUFFIXES`, it cannot be
        read, or it does not hold two navigation axes and one energy axis.
    """
    import importlib

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image file {str(path)!r} does not exist; check the path.")
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"file {str(path)!r} has type {suffix or '(none)'!r}; a spectral image is read from "
                         f"{', '.join(IMAGE_SUFFIXES)}. Convert it, e.g. with HyperSpy (s.save('image.hspy')).")
    cy, cx = _check_chunks(chunks)
    plugin = IMAGE_SUFFIXES[suffix]
    try:
        reader = importlib.import_module(f"rsciio.{plugin}")
        with warnings.catch_warnings():  # zarr 2 announces its next version's API on every zspy read
            warnings.filterwarnings("ignore", message="The NestedDirectoryStore is deprecated", category=FutureWarning)
            items = reader.file_reader(str(path), lazy=True)
    except Exception as err:  # the readers raise many kinds of errors on a corrupt file
        hint = (" RosettaSciIO's zspy reader needs zarr 2 (pip install 'ml4em[image]' installs it); or save the "
                "image as .hspy." if plugin == "zspy" else "")
        raise ValueError(f"could not read {str(path)!r} as a {plugin} file ({type(err).__name__}: {err}); the file "
                         f"may be corrupt or of another format.{hint}") from err
    items = [it for it in items if len(getattr(it.get("data"), "shape", ())) == 3]
    if not items:
        raise ValueError(f"file {str(path)!r} holds no 3-D data; a spectral image has two navigation axes (rows, "
                         "columns) and one energy axis. For single spectra use ml4em zlp.")
    item = items[0]
    data, axes = item["data"], item.get("axes", [])
    signal = [i for i, ax in enumerate(axes) if not ax.get("navigate", False)]
    if len(axes) != 3 or len(signal) != 1:
        raise ValueError(f"file {str(path)!r} holds data of shape {tuple(data.shape)} with {len(signal)} signal "
                         "axes; a spectral image has exactly one (the energy axis) and two navigation axes.")
    ax = axes[signal[0]]
    units = str(ax.get("units", "eV") or "eV").strip()
    if units.lower() in ("<undefined>", "undefined", ""):
        units = "eV"  # as ml4em.datasets.read_spectrum: an axis without units is taken to be in eV
    if units not in ("eV", "keV"):
        raise ValueError(f"file {str(path)!r}: its signal axis is in {units!r}, not an energy loss in eV; expected "
                         "an EELS spectral image.")
    factor = 1000.0 if units == "keV" else 1.0
    energy = factor * (float(ax.get("offset", 0.0)) + float(ax.get("scale", 1.0)) * np.arange(int(ax["size"])))
    import dask.array as da

    counts = da.moveaxis(da.asarray(data), signal[0], -1).astype(np.float32)
    # a chunk of whole chunks of the file (when the file's are smaller): every stored chunk is then read and
    # decompressed once per pass, by one task, not once by each chunk it straddles
    native = [max(c) for c in counts.chunks[:2]]
    cy, cx = (n * max(1, int(round(c / n))) if n < c else c for c, n in zip((cy, cx), native))
    counts = counts.rechunk((min(cy, counts.shape[0]), min(cx, counts.shape[1]), -1))
    nav = [axes[i] for i in range(3) if i != signal[0]]
    size, unit = nav[-1].get("scale"), str(nav[-1].get("units", "") or "").strip()
    if not unit or unit.lower() in ("<undefined>", "undefined") or size is None:
        size, unit = None, "pixel"
    return LazySpectralImage(energy, counts, str(path), None if size is None else float(size), unit)


def _check_chunks(chunks):
    try:
        cy, cx = (int(c) for c in chunks)
    except (TypeError, ValueError):
        raise TypeError(f"chunks={chunks!r} should be a pair of integers (pixels along y, x).") from None
    if cy < 1 or cx < 1:
        raise ValueError(f"chunks={chunks!r} should be two integers >= 1 (pixels along y, x), e.g. (32, 32).")
    return cy, cx


def align_to_axis(energy_loss, counts, axis):
    """Align the ZLPs of spectra to 0 eV as :func:`ml4em.eels.align_zlp` does, onto a given common axis.

    :func:`ml4em.eels.align_zlp` puts its axis' zero at the channel nearest
    the mean ZLP centre of the spectra it is given, so a chunk of pixels
    would get an axis a few whole channels away from the image's. Here the
    spectra are first extended by that many channels on both sides
    (repeating their edge values, which :func:`ml4em.eels.align_zlp` does
    for channels that move in from outside the measured range), aligned
    with :func:`ml4em.eels.align_zlp`, and cut to ``axis``: every spectrum
    comes out as it would from :func:`ml4em.eels.align_zlp` on the whole
    image (to rounding).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        The measured axis.
    counts : ndarray of shape (..., n_channels), counts
    axis : ndarray of shape (n_channels,), eV
        The common axis (:func:`ml4em.eels.align_zlp` of the whole image): the
        dispersion of ``energy_loss``, 0 eV at a channel.

    Returns
    -------
    ndarray of shape (..., n_channels), float64, counts
    """
    from .axis import align_zlp, check_spectra, zlp_centre

    e, c = check_spectra(energy_loss, counts)
    n = e.size
    scale = (e[-1] - e[0]) / (n - 1)
    own_zero = int(np.argmin(np.abs(e - np.mean(zlp_centre(e, c)))))  # the zero align_zlp would choose
    zero = int(np.rint(-axis[0] / scale))
    pad = abs(own_zero - zero) + 1
    steps = scale * np.arange(1, pad + 1)
    e_pad = np.concatenate([e[0] - steps[::-1], e, e[-1] + steps])
    c_pad = np.concatenate([np.repeat(c[..., :1], pad, -1), c, np.repeat(c[..., -1:], pad, -1)], axis=-1)
    own, aligned = align_zlp(e_pad, c_pad)
    start = int(np.rint(-own[0] / scale)) - zero
    return aligned[..., start:start + n]


# ----------------------------------------------------------------------------- results
@dataclass
class ImageMaps:
    """The maps of a spectral image from :func:`process_spectral_image`.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        The common axis after aligning the ZLPs.
    thickness : ndarray of shape (ny, nx), dimensionless
        t/lambda per pixel.
    labels : ndarray of int, shape (ny, nx)
        Thickness cluster per pixel, 0 the thinnest.
    centres : ndarray of shape (n_clusters,)
        Mean t/lambda of each cluster, increasing.
    vacuum_cluster : int or None
    maps : ml4em.eels.BandGapMaps
        Band gap (eV), its 68% interval, exponent and share of clean fits per
        pixel; NaN in vacuum pixels and clusters without a model.
    dE1, dE2 : dict of int to float, eV
        The regions of each cluster's ZLP model.
    windows : dict of int to (float, float), eV
        The band-gap fit window of each cluster.
    n_fits : int
        Pixel-replica band-gap fits made in this call (0 when all chunks were stored).
    seconds : dict of str to float
        Wall time of each step of this call: ``start`` (the local cluster), ``thickness`` (passes 1-2),
        ``clusters`` (pass 3 and the cluster sums), ``training`` (step 4), ``band_gap`` (step 5).
    """

    energy_loss: np.ndarray
    thickness: np.ndarray
    labels: np.ndarray
    centres: np.ndarray
    vacuum_cluster: object
    maps: object
    dE1: dict = field(default_factory=dict)
    dE2: dict = field(default_factory=dict)
    windows: dict = field(default_factory=dict)
    n_fits: int = 0
    seconds: dict = field(default_factory=dict)


class StoreMismatch(ValueError):
    """A chunk store that holds a run with other settings (it is never overwritten silently)."""


class ChunkStore:
    """The resumable results of :func:`process_spectral_image`: a folder with a zarr store and step files.

    Layout: ``settings.json`` (what the run is: image file, size, shape,
    chunks and every option), ``centres_thickness.npz`` and
    ``clusters.npz`` (the results of passes 1-4, written atomically once
    complete), and ``maps.zarr`` with one (ny, nx) float64 array per map of
    :data:`MAP_NAMES`, chunked like the image, and ``done``, one uint8 flag
    per chunk, set after that chunk's maps are written.

    Parameters
    ----------
    path : str or path-like
        The folder (created if missing).
    settings : dict
        JSON-serialisable; a store made with other settings raises
        :class:`StoreMismatch`.
    shape, chunks : (int, int)
        Pixels of the image and of a chunk.
    """

    def __init__(self, path, settings, *, shape, chunks):
        import zarr

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.shape, self.chunks = tuple(int(n) for n in shape), tuple(int(n) for n in chunks)
        self.n_chunks = tuple(-(-n // c) for n, c in zip(self.shape, self.chunks))
        settings = json.loads(json.dumps(settings))
        file = self.path / "settings.json"
        if file.exists():
            try:
                old = json.loads(file.read_text())
            except ValueError:
                old = None
            if old != settings:
                diff = sorted(k for k in set(settings) | set(old or {}) if (old or {}).get(k) != settings.get(k))
                raise StoreMismatch(f"the chunk store {self.path} holds a run with other settings (differing: "
                                    f"{', '.join(diff) or 'unreadable settings'}); rerun with the same settings to "
                                    "resume it, or discard it.")
        else:
            self._atomic_write(file, lambda tmp: Path(tmp).write_text(json.dumps(settings, indent=2)))
        self.settings = settings
        root = self.path / "maps.zarr"
        self._maps = {name: zarr.open_array(store=str(root / name), mode="a", shape=self.shape, chunks=self.chunks,
                                            dtype="f8", fill_value=np.nan) for name in MAP_NAMES}
        self._done = zarr.open_array(store=str(root / "done"), mode="a", shape=self.n_chunks, chunks=(1, 1),
                                     dtype="u1", fill_value=0)

    @staticmethod
    def _atomic_write(target, write):
        tmp = Path(str(target) + ".writing")
        write(tmp)
        os.replace(tmp, target)

    def save_step(self, name, **arrays):
        """Write the results of a step as ``name.npz``, atomically (a kill leaves the old file or none)."""
        target = self.path / f"{name}.npz"
        tmp = self.path / f"{name}.writing.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, target)

    def load_step(self, name):
        """The arrays of a finished step (dict), or None."""
        try:
            with np.load(self.path / f"{name}.npz") as f:
                return {k: f[k] for k in f.files}
        except (OSError, ValueError):
            return None

    def done(self):
        """ndarray of bool, shape (n_chunks_y, n_chunks_x): the chunks whose maps are stored."""
        try:
            return np.asarray(self._done[...]) == 1
        except Exception:  # a flag torn by a kill: read flag by flag, a torn one counts as not done
            out = np.zeros(self.n_chunks, dtype=bool)
            for i in range(self.n_chunks[0]):
                for j in range(self.n_chunks[1]):
                    try:
                        out[i, j] = int(self._done[i, j]) == 1
                    except Exception:
                        out[i, j] = False
            return out

    def _slices(self, i, j):
        cy, cx = self.chunks
        return slice(i * cy, min((i + 1) * cy, self.shape[0])), slice(j * cx, min((j + 1) * cx, self.shape[1]))

    def write(self, i, j, maps):
        """Store the maps of chunk (i, j) (dict of name to (cy, cx) arrays), then its completion flag."""
        ys, xs = self._slices(i, j)
        for name in MAP_NAMES:
            self._maps[name][ys, xs] = maps[name]
        self._done[i, j] = 1

    def read_maps(self):
        """dict of name to ndarray of shape (ny, nx): the stored maps (NaN where no chunk is stored)."""
        return {name: np.asarray(self._maps[name][...]) for name in MAP_NAMES}


def estimate_chunk_memory_bytes(chunk_pixels, *, n_channels, n_replicas, batch):
    """An upper estimate of the memory of one chunk task of step 5, in bytes.

    The chunk's counts four times in float64 (read, converted, aligned, the
    edge shift) and, per batch of ``batch`` pixels, the scaled ZLPs, the
    subtracted spectra and the fit's work arrays: six float64 arrays of
    ``n_replicas x batch x n_channels``. Plus 64 MiB for the interpreter.

    Parameters
    ----------
    chunk_pixels, n_channels, n_replicas, batch : int

    Returns
    -------
    int

    Examples
    --------
    >>> estimate_chunk_memory_bytes(1024, n_channels=2048, n_replicas=30, batch=256) // 2**20
    848
    """
    counts = 4 * 8 * int(chunk_pixels) * int(n_channels)
    fits = 6 * 8 * int(n_replicas) * min(int(batch), int(chunk_pixels)) * int(n_channels)
    return counts + fits + 64 * 2**20


# ----------------------------------------------------------------------------- schedulers
class dask_runner:
    """Where the chunk tasks run: a context manager around a dask scheduler.

    Parameters
    ----------
    scheduler : str, optional
        None: a :class:`dask.distributed.LocalCluster` of ``n_workers``
        processes with one thread each (closed on exit). ``"synchronous"``:
        dask's single-threaded scheduler in this process, no cluster. Any
        other string: the address of a running dask scheduler (e.g.
        ``"tcp://10.0.0.5:8786"``), whose workers must be able to read the
        image file.
    n_workers : int, optional
        Workers of the local cluster; default ``os.cpu_count()``.
    """

    def __init__(self, scheduler=None, *, n_workers=None):
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.client = self._cluster = self._config = None

    def __enter__(self):
        import dask

        if self.scheduler == "synchronous":
            self._config = dask.config.set(scheduler="synchronous")
            self._config.__enter__()
            return self
        import logging

        from distributed import Client, LocalCluster

        if self.scheduler is None:
            import signal
            import threading

            n = int(self.n_workers or os.cpu_count() or 1)
            # the worker processes ignore Ctrl-C (the terminal sends it to all of them): the client handles it
            # and closes the cluster, instead of every worker printing its traceback
            main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                import dask

                # distributed starts its workers with MALLOC_TRIM_THRESHOLD_ set, which fixes glibc's thresholds:
                # every large temporary array is then mapped and page-faulted anew, and the chunk tasks (numpy on
                # arrays of a few MB) ran 1.3-1.5x slower than in this process. The workers keep glibc's
                # adaptive default; the BLAS thread limits stay.
                environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
                           if k != "MALLOC_TRIM_THRESHOLD_"}
                with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                    self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                 dashboard_address=None, silence_logs=logging.ERROR)
            finally:
                if main:
                    signal.signal(signal.SIGINT, previous)
            self.client = Client(self._cluster)
        else:
            self.client = Client(self.scheduler, timeout="20s")
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        if self._config is not None:
            self._config.__exit__(None, None, None)
        return False

    @property
    def n_workers_running(self):
        """Workers that run the tasks (1 for the synchronous scheduler)."""
        if self.client is None:
            return 1
        return len(self.client.scheduler_info().get("workers", {}))

    def compute(self, *values):
        """Compute dask collections (a tuple of results)."""
        import dask

        return dask.compute(*values)

    def share(self, value):
        """A handle on ``value`` for the tasks: sent once to every worker, not once per task."""
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=True)

    def as_completed(self, tasks):
        """Run dask.delayed ``tasks`` (a dict of key to delayed); yield ``(key, result)`` as each finishes."""
        if self.client is None:
            for key, task in tasks.items():
                yield key, task.compute(scheduler="synchronous")
            return
        from distributed import as_completed

        futures = self.client.compute(list(tasks.values()))
        keys = {f.key: k for f, k in zip(futures, tasks)}
        try:
            for future, result in as_completed(futures, with_results=True):
                yield keys[future.key], result
        finally:
            self.client.cancel(futures)


# ----------------------------------------------------------------------------- the chunk tasks
def _centres_block(block, energy_loss):
    from .axis import zlp_centre

    return np.asarray(zlp_centre(energy_loss, np.asarray(block, dtype=float)), dtype=float)


def _thickness_block(block, energy_loss, axis):
    from .axis import estimate_thickness

    return estimate_thickness(axis, align_to_axis(energy_loss, np.asarray(block, dtype=float), axis))


def _sums_block(block, labels, energy_loss, axis, n_clusters):
    flat = align_to_axis(energy_loss, np.asarray(block, dtype=float), axis).reshape(-1, axis.size)
    lab = np.asarray(labels).ravel()
    sums = np.zeros((n_clusters, axis.size))
    np.add.at(sums, lab, flat)
    return sums, np.bincount(lab, minlength=n_clusters)


#: Channels beyond the highest fit window that the band-gap step aligns as well (see :func:`_maps_block`).
ALIGN_MARGIN = 64


def _maps_block(block, labels, energy_loss, axis, refs, batch):
    """Step 5 on one chunk: :func:`ml4em.eels.image.fit_cluster_pixels` per cluster, with global references."""
    from .image import fit_cluster_pixels

    # the fits use the channels up to the end of the highest window: only those are aligned (from the channels
    # up to ALIGN_MARGIN further, where a pixel's ZLP offset takes them from), not the whole axis
    lab = np.asarray(labels).ravel()
    block = np.asarray(block)
    n = max((int(np.searchsorted(axis, ref["window"][1], side="right")) + 2 for ref in refs.values()), default=0)
    cut = n + ALIGN_MARGIN
    if cut < axis.size:
        flat = block.reshape(-1, axis.size)[:, :cut].astype(float)
        scale = (axis[-1] - axis[0]) / (axis.size - 1)
        offset = (zlp_centre(energy_loss[:cut], flat) - (energy_loss[0] - axis[0])) / scale  # channels
        if np.max(np.abs(offset), initial=0.0) >= ALIGN_MARGIN - 2:  # a peak far from the others: all channels
            cut = axis.size
        else:
            flat = align_to_axis(energy_loss[:cut], flat, axis[:cut])[:, :n]
    if cut >= axis.size:
        n = axis.size
        flat = align_to_axis(energy_loss, block.astype(float), axis).reshape(-1, n)
    out = {k: np.full(lab.size, np.nan) for k in MAP_NAMES}
    n_fits = 0
    for k, ref in refs.items():
        pixels = np.flatnonzero(lab == k)
        if pixels.size:
            ref = {**ref, "zlp": ref["zlp"][:, :n], "near": ref["near"][:n]}
            maps, fits = fit_cluster_pixels(axis[:n], flat[pixels], ref, batch=batch, n_jobs=1)
            n_fits += fits
            for name, values in maps.items():
                out[name][pixels] = values
    shape = np.shape(labels)
    return {k: v.reshape(shape) for k, v in out.items()}, n_fits


# ----------------------------------------------------------------------------- the pipeline
def _gather(runner, image, flat_index, axis):
    """The aligned spectra of some pixels, ndarray of shape (n, n_channels), float64."""
    if flat_index.size == 0:
        return np.zeros((0, axis.size))
    iy, ix = np.unravel_index(flat_index, image.shape)
    (spectra,) = runner.compute(image.counts.vindex[iy, ix])
    return align_to_axis(image.energy_loss, np.asarray(spectra, dtype=float), axis)


def process_spectral_image(image, *, n_clusters=5, n_replicas=30, max_spectra=64, vacuum_threshold=0.05,
                           window=None, batch=256, cluster_sample=None, store=None, scheduler=None, n_workers=None,
                           runner=None, progress=True, max_chunks=None, seed=None, **ensemble):
    """Thickness, clusters, ZLP models per cluster and band-gap maps of a spectral image of any size.

    The steps are those of :class:`ml4em.eels.ImageZLP` (module docstring);
    the memory is bounded by a chunk, not by the image.

    Parameters
    ----------
    image : LazySpectralImage or str or path-like
        A file is opened with :func:`open_spectral_image` (32 x 32-pixel chunks).
    n_clusters, n_replicas, max_spectra, vacuum_threshold
        As for :class:`ml4em.eels.ImageZLP`.
    window : (float, float), eV, optional
        Band-gap fit window for all clusters; default per cluster
        (:func:`ml4em.eels.pipeline.choose_window` on the cluster's mean spectrum).
    batch : int, default 256
        Pixels per call of :func:`ml4em.eels.fit_band_gap` inside a chunk task.
    cluster_sample : int, optional
        Cluster a random sample of this many pixels and give every pixel the
        nearest centre (default: cluster all pixels, as :class:`ImageZLP` does).
    store : str or path-like, optional
        Folder of a :class:`ChunkStore`: results kept chunk by chunk, and a
        rerun with the same settings resumes. Default: results in memory only.
    scheduler, n_workers
        Where the tasks run (:class:`dask_runner`); ignored when ``runner`` is given.
    runner : dask_runner, optional
        An open runner, to reuse one cluster for several calls.
    progress : bool, default True
        A progress bar over the chunks (and the ensembles' training).
    max_chunks : int, optional
        Process at most this many chunks in this call, then return None
        (the store keeps them); for partial runs and tests of resuming.
    seed : int, numpy.random.Generator or None
        An integer when ``store`` is given (a resumed run must train the same models).
    **ensemble
        Passed to every :class:`ml4em.eels.ZLPEnsemble` (``max_iter``, ``hidden``, ``n_jobs``, ...).

    Returns
    -------
    ImageMaps or None
        None when ``max_chunks`` stopped the run before the last chunk.

    Raises
    ------
    ValueError
        For bad options, or no first minimum in a cluster's mean spectrum
        to choose its window from (pass ``window=``).
    StoreMismatch
        If ``store`` holds a run with other settings.
    """
    import time

    import dask

    from .image import BandGapMaps, cluster_by_thickness

    if not isinstance(image, LazySpectralImage):
        image = open_spectral_image(image)
    for name, value, low in (("n_clusters", n_clusters, 1), ("n_replicas", n_replicas, 2),
                             ("max_spectra", max_spectra, 2), ("batch", batch, 1)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    if window is not None and not float(window[0]) < float(window[1]):
        raise ValueError(f"window={window!r} should be (low, high) in eV with low < high.")
    ensemble.setdefault("progress", progress)
    e = np.asarray(image.energy_loss, dtype=float)
    ny, nx = image.shape
    seconds = {}
    chunk_store = None
    if store is not None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed={seed!r}: a resumable run (store=...) needs an integer seed, so that a rerun "
                             "trains the same models as the interrupted run; pass e.g. seed=0.")
        st = Path(image.path).stat() if image.path else None
        settings = {"image": str(Path(image.path).resolve()) if image.path else "",
                    "image_bytes": st.st_size if st else 0, "image_mtime_ns": st.st_mtime_ns if st else 0,
                    "shape": [ny, nx, int(e.size)], "chunks": list(image.chunk_shape), "n_clusters": int(n_clusters),
                    "n_replicas": int(n_replicas), "max_spectra": int(max_spectra),
                    "vacuum_threshold": float(vacuum_threshold),
                    "window": None if window is None else [float(w) for w in window], "batch": int(batch),
                    "cluster_sample": cluster_sample, "seed": int(seed),
                    "ensemble": {k: repr(v) for k, v in sorted(ensemble.items()) if k not in ("progress", "n_jobs")}}
        chunk_store = ChunkStore(store, settings, shape=image.shape, chunks=image.chunk_shape)

    own = runner is None
    runner = dask_runner(scheduler, n_workers=n_workers) if own else runner
    if own:
        t0 = time.perf_counter()
        runner.__enter__()
        seconds["start"] = time.perf_counter() - t0
    try:
        blocks = image.counts.to_delayed()[:, :, 0]
        # passes 1-2: ZLP centres, common axis, thickness
        t0 = time.perf_counter()
        step = chunk_store.load_step("centres_thickness") if chunk_store else None
        if step is None:
            (centres,) = runner.compute(image.counts.map_blocks(_centres_block, e, drop_axis=2, dtype=float))
            axis = aligned_axis(e, centres)  # the axis of align_zlp on the whole image
            (thickness,) = runner.compute(image.counts.map_blocks(_thickness_block, e, axis, drop_axis=2,
                                                                  dtype=float))
            if chunk_store:
                chunk_store.save_step("centres_thickness", axis=axis, thickness=thickness)
        else:
            axis, thickness = step["axis"], step["thickness"]
        seconds["thickness"] = time.perf_counter() - t0

        # pass 3: clusters (the random numbers in the order of ImageZLP.fit)
        t0 = time.perf_counter()
        rng = np.random.default_rng(seed)
        if cluster_sample is None or cluster_sample >= thickness.size:
            labels, centres_t = cluster_by_thickness(thickness, n_clusters, seed=rng)
        else:
            pick = np.sort(rng.choice(thickness.size, int(cluster_sample), replace=False))
            _, centres_t = cluster_by_thickness(thickness.ravel()[pick], n_clusters, seed=rng)
            bounds = (centres_t[1:] + centres_t[:-1]) / 2  # nearest centre in 1-D
            labels = np.searchsorted(bounds, thickness)
        flat_labels = labels.ravel()
        vacuum_cluster = (vacuum_clusters(centres_t, vacuum_threshold) or (None,))[0]
        label_blocks = [[labels[ys, xs] for xs in _block_slices(image.counts.chunks[1])]
                        for ys in _block_slices(image.counts.chunks[0])]
        step = chunk_store.load_step("clusters") if chunk_store else None
        if step is None or not np.array_equal(step["labels"], labels):
            parts = [dask.delayed(_sums_block)(blocks[i, j], label_blocks[i][j], e, axis, int(n_clusters))
                     for i in range(blocks.shape[0]) for j in range(blocks.shape[1])]
            results = runner.compute(*parts)
            sums = np.sum([r[0] for r in results], axis=0)
            npix = np.sum([r[1] for r in results], axis=0)
            if chunk_store:
                chunk_store.save_step("clusters", labels=labels, sums=sums, npix=npix)
        else:
            sums, npix = step["sums"], step["npix"]
        seconds["clusters"] = time.perf_counter() - t0

        # step 4: one ensemble per specimen cluster (ImageZLP.fit's order of random numbers)
        t0 = time.perf_counter()
        models, _, _ = train_cluster_models(axis, flat_labels, centres_t, lambda idx: _gather(runner, image, idx, axis),
                                            n_replicas=n_replicas, max_spectra=max_spectra,
                                            vacuum_threshold=vacuum_threshold, rng=rng, **ensemble)
        refs = {k: cluster_reference(axis, model, sums[k] / npix[k], window=window,
                                     where=f"cluster {k} (mean t/lambda {centres_t[k]:.3g})")
                for k, model in models.items()}
        windows = {k: ref["window"] for k, ref in refs.items()}
        seconds["training"] = time.perf_counter() - t0

        # step 5: the band-gap maps, chunk by chunk
        t0 = time.perf_counter()
        shared = runner.share(refs)
        done = chunk_store.done() if chunk_store else np.zeros(blocks.shape, dtype=bool)
        maps = chunk_store.read_maps() if chunk_store else {k: np.full((ny, nx), np.nan) for k in MAP_NAMES}
        todo = [(i, j) for i in range(blocks.shape[0]) for j in range(blocks.shape[1]) if not done[i, j]]
        if max_chunks is not None:
            todo = todo[:int(max_chunks)]
        tasks = {(i, j): dask.delayed(_maps_block)(blocks[i, j], label_blocks[i][j], e, axis, shared, int(batch))
                 for i, j in todo}
        ys_all, xs_all = _block_slices(image.counts.chunks[0]), _block_slices(image.counts.chunks[1])
        from tqdm.auto import tqdm

        n_fits = 0
        with tqdm(total=done.size, initial=int(done.sum()), unit="chunk", desc="band-gap maps",
                  disable=not progress) as bar:
            for (i, j), (chunk_maps, fits) in runner.as_completed(tasks):
                if chunk_store:
                    chunk_store.write(i, j, chunk_maps)
                for name in MAP_NAMES:
                    maps[name][ys_all[i], xs_all[j]] = chunk_maps[name]
                done[i, j] = True
                n_fits += fits
                bar.update(1)
        seconds["band_gap"] = time.perf_counter() - t0
    finally:
        if own:
            runner.__exit__(None, None, None)
    if not done.all():
        return None
    return ImageMaps(energy_loss=axis, thickness=thickness, labels=labels, centres=centres_t,
                     vacuum_cluster=vacuum_cluster, maps=BandGapMaps(**maps),
                     dE1={k: float(m.dE1_) for k, m in models.items()},
                     dE2={k: float(m.dE2_) for k, m in models.items()}, windows=windows, n_fits=n_fits,
                     seconds=seconds)


def _block_slices(chunks):
    """Slices of the blocks along one axis, from a dask ``chunks`` tuple."""
    edges = np.concatenate([[0], np.cumsum(chunks)]).astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
