"""Spectral images: cluster the pixels by thickness, train a ZLP model per cluster, map the band gap.

The pipeline of Brokkelkamp et al., "Spatially resolved band gap and
dielectric function in two-dimensional materials from electron energy loss
spectroscopy", J. Phys. Chem. A 126 (2022) 1255, doi:10.1021/acs.jpca.1c09566,
arXiv:2110.09402, in the ml4em way:

1. the log-ratio thickness ``t/lambda`` of every pixel (:func:`ml4em.eels.estimate_thickness`);
2. K-means clustering of the pixels by thickness, clusters numbered from
   thin to thick (:func:`cluster_by_thickness`); a cluster thinner than
   ``vacuum_threshold`` is vacuum and provides the vacuum spectra that fix dE2;
3. one :class:`ml4em.eels.ZLPEnsemble` per specimen cluster, trained on (a
   random subset of) its pixels, so that sigma is the pixel-to-pixel spread;
4. in every pixel, each replica's ZLP scaled to the pixel's peak counts,
   matched and subtracted, and the band gap fitted per replica: a map of the
   median E_BG and a map of its 68% half-width.

:func:`load_spectral_image` reads a user's ``.dm3``/``.dm4``/``.hspy``
spectral image through RosettaSciIO; :func:`ml4em.datasets.make_spectral_image`
makes a synthetic one with a known truth.

Used in: tutorials/09_spectral_image.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from .axis import align_zlp, check_spectra, estimate_thickness, fwhm
from .bandgap import fit_band_gap
from .regions import choose_dE2
from .subtract import subtract_zlp
from .zlp import ZLPEnsemble

__all__ = ["load_spectral_image", "cluster_by_thickness", "BandGapMaps", "ImageZLP",
           "vacuum_clusters", "sample_pixels", "fit_pixel_band_gaps", "train_cluster_models", "cluster_reference",
           "fit_cluster_pixels", "MAP_NAMES"]

#: The maps of a spectral image, in :class:`BandGapMaps` and in :func:`fit_pixel_band_gaps`.
MAP_NAMES = ("band_gap", "band_gap_low", "band_gap_high", "exponent", "fit_ok")


def load_spectral_image(path, *, offset=None, scale=None):
    """Read a spectral image (rows x columns x energy channels) from a file.

    Parameters
    ----------
    path : str or path-like
        ``.dm3``/``.dm4`` (Gatan), ``.hspy``/``.hdf5`` (HyperSpy) or any
        format of :func:`ml4em.datasets.read_spectrum`.
    offset, scale : float, optional
        Energy axis for text files without one (eV, eV/channel).

    Returns
    -------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (ny, nx, n_channels), counts

    Raises
    ------
    ValueError
        If the file does not hold a 2-D map of spectra.
    """
    from ..datasets import read_spectrum

    s = read_spectrum(path, offset=offset, scale=scale)
    counts = np.asarray(s.counts, dtype=float)
    if counts.ndim != 3:
        raise ValueError(f"file {str(path)!r} holds data of shape {counts.shape}; a spectral image needs two "
                         "navigation axes and one energy axis (rows, columns, channels). For single spectra use "
                         "ml4em.datasets.read_spectrum.")
    return np.asarray(s.energy_loss, dtype=float), counts


def cluster_by_thickness(thickness, n_clusters, *, seed=None):
    """K-means clusters of the pixels by thickness, numbered from the thinnest (0) to the thickest.

    Parameters
    ----------
    thickness : ndarray of shape (ny, nx)
    n_clusters : int
    seed : int, numpy.random.Generator or None

    Returns
    -------
    labels : ndarray of int, shape (ny, nx)
    centres : ndarray of shape (n_clusters,)
        Mean thickness of each cluster, increasing.

    Examples
    --------
    >>> t = np.array([[0.0, 0.01, 1.0], [1.1, 0.02, 0.98]])
    >>> labels, centres = cluster_by_thickness(t, 2, seed=0)
    >>> labels.tolist(), centres.round(2).tolist()
    ([[0, 0, 1], [1, 0, 1]], [0.01, 1.03])
    """
    from ..clustering import KMeans

    t = np.asarray(thickness, dtype=float)
    if not np.all(np.isfinite(t)):
        raise ValueError("thickness has NaN or infinite values; check the spectra of those pixels.")
    if int(n_clusters) != n_clusters or not 1 <= n_clusters <= t.size:
        raise ValueError(f"n_clusters={n_clusters!r} should be an integer between 1 and the number of pixels "
                         f"({t.size}).")
    km = KMeans(int(n_clusters), n_init=3, seed=seed).fit(t.reshape(-1, 1))
    order = np.argsort(km.cluster_centers_[:, 0])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[km.labels_].reshape(t.shape), km.cluster_centers_[order, 0].astype(float)


@dataclass
class BandGapMaps:
    """Band-gap maps of a spectral image (NaN in vacuum pixels).

    Attributes
    ----------
    band_gap, band_gap_low, band_gap_high : ndarray of shape (ny, nx), eV
        Median and 68% interval over the replicas whose fit is clean
        (converged, not on a bound of ``E_BG`` or ``b``); over all replicas
        in a pixel where none is.
    exponent : ndarray of shape (ny, nx)
        Median exponent b.
    fit_ok : ndarray of shape (ny, nx), optional
        Share of the pixel's replica fits that are clean
        (:attr:`ml4em.eels.BandGapFit.ok`); a pixel with a low share has an
        onset the power law describes badly. A pixel whose replicas have no
        positive signal in the window is NaN in the maps.
    """

    band_gap: np.ndarray
    band_gap_low: np.ndarray
    band_gap_high: np.ndarray
    exponent: np.ndarray
    fit_ok: np.ndarray = None

    @property
    def uncertainty(self):
        """Half the width of the 68% interval of E_BG, ndarray of shape (ny, nx), eV."""
        return (self.band_gap_high - self.band_gap_low) / 2.0


def vacuum_clusters(centres, threshold):
    """The clusters whose mean t/lambda is below ``threshold``: vacuum, which gets no ZLP model but sets dE2.

    Parameters
    ----------
    centres : ndarray of shape (n_clusters,)
        Mean t/lambda of each cluster, ascending (:func:`cluster_by_thickness`).
    threshold : float

    Returns
    -------
    tuple of int
        ``(0, 1, ...)``; empty when no cluster is that thin. More than one when the vacuum around a specimen is
        split (an image or a part of one that is mostly vacuum).
    """
    return tuple(int(k) for k in np.flatnonzero(np.asarray(centres, dtype=float) < threshold))


def sample_pixels(mask, max_spectra, rng):
    """At most ``max_spectra`` of the pixels in ``mask``, drawn at random: the pixels that train a cluster's model.

    Parameters
    ----------
    mask : ndarray of bool, shape (n_pixels,)
    max_spectra : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int
        Flat pixel indices, sorted (all of ``mask`` when it has at most ``max_spectra``).
    """
    idx = np.flatnonzero(mask)
    if idx.size > max_spectra:
        idx = np.sort(rng.choice(idx, int(max_spectra), replace=False))
    return idx


def fit_pixel_band_gaps(energy_loss, spectra, zlp, scale, *, dE1, dE2, peak_fwhm, window, n_jobs=None):
    """Subtract every replica's ZLP, scaled to each pixel, and fit the band gap: one chunk of the maps.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        The aligned axis (ZLP at 0 eV).
    spectra : ndarray of shape (n_pixels, n_channels), counts
    zlp : ndarray of shape (n_replicas, n_channels), counts
        The cluster model's replicas for its reference spectrum (the cluster mean).
    scale : ndarray of shape (n_pixels,)
        Each pixel's counts in the peak over the reference's: the factor of every replica's ZLP for that pixel.
    dE1, dE2, peak_fwhm : float, eV
        The model's regions and the reference's peak width (:func:`ml4em.eels.subtract_zlp`).
    window : (float, float), eV
        The band-gap fit window.
    n_jobs : int, optional
        Threads of :func:`ml4em.eels.fit_band_gap`.

    Returns
    -------
    maps : dict of str to ndarray of shape (n_pixels,)
        :data:`MAP_NAMES`: the median and 68% interval of E_BG over the replicas whose fit is clean
        (converged, not on a bound; all of them where none is), the median exponent, and the fraction of
        clean fits.
    n_fits : int
        Pixel-replica fits made.

    Notes
    -----
    Each pixel's noise (``sigma``) is the fit's default rule applied to that pixel's own replicas, so that a
    pixel's result does not depend on which pixels share its chunk.
    """
    e = np.asarray(energy_loss, dtype=float)
    spectra = np.asarray(spectra, dtype=float)
    view = e <= window[1] + (e[1] - e[0])
    models = np.asarray(zlp, dtype=float)[:, None, view] * np.asarray(scale, dtype=float)[None, :, None]
    inel = subtract_zlp(e[view], spectra[:, view], models, dE1=dE1, dE2=dE2, peak_fwhm=peak_fwhm)
    sigma = np.sqrt(np.maximum(np.median(inel, axis=0, keepdims=True), 1.0))
    fit = fit_band_gap(e[view], inel, window=window, sigma=sigma, n_jobs=n_jobs)  # (n_replicas, n_pixels)
    ok = fit.ok
    # a fit that ends on a bound is a constraint, not a minimum: the pixel's median and band come from its
    # replicas with a clean fit (all of them where none has one)
    use = ok | ~ok.any(axis=0)
    gaps = np.where(use, fit.band_gap, np.nan)
    low, median, high = np.nanquantile(gaps, [0.16, 0.5, 0.84], axis=0)
    maps = {"band_gap": median, "band_gap_low": low, "band_gap_high": high,
            "exponent": np.nanmedian(np.where(use, fit.exponent, np.nan), axis=0), "fit_ok": ok.mean(axis=0)}
    return maps, int(fit.band_gap.size)


def train_cluster_models(energy_loss, labels, centres, gather, *, n_replicas, max_spectra, vacuum_threshold, rng,
                         **ensemble):
    """Step 3 of the module text: a ZLP ensemble per specimen cluster, and dE2 from the vacuum pixels.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        The aligned axis.
    labels : ndarray of int, shape (n_pixels,)
        Cluster of every pixel (flat).
    centres : ndarray of shape (n_clusters,)
        Mean t/lambda of each cluster, ascending.
    gather : callable
        ``gather(flat_indices)`` returns the aligned spectra of those pixels, shape (n, n_channels): an index into
        an array in memory (:class:`ImageZLP`) or a read of the chunks that hold them (:mod:`ml4em.eels.lazy`).
    n_replicas, max_spectra, vacuum_threshold
        As for :class:`ImageZLP`.
    rng : numpy.random.Generator
        Draws the training pixels and seeds the ensembles, in cluster order.
    **ensemble
        Passed to every :class:`ml4em.eels.ZLPEnsemble`.

    Returns
    -------
    models : dict of int to ZLPEnsemble
        One per specimen cluster with at least 2 pixels.
    vacuum : tuple of int
        The vacuum clusters (:func:`vacuum_clusters`).
    dE2 : float or None
        From the vacuum pixels (None without vacuum: each model chooses its own).
    """
    labels = np.asarray(labels).ravel()
    vacuum = vacuum_clusters(centres, vacuum_threshold)
    vacuum_spectra, dE2 = None, None
    if vacuum:
        vacuum_spectra = gather(sample_pixels(np.isin(labels, vacuum), max_spectra, rng))
        dE2 = choose_dE2(energy_loss, vacuum_spectra)
    models = {}
    for k in range(len(centres)):
        if k in vacuum:
            continue
        spectra = gather(sample_pixels(labels == k, max_spectra, rng))
        if spectra.shape[0] < 2:
            warnings.warn(f"cluster {k} has fewer than 2 pixels; it gets no ZLP model (NaN in the maps).",
                          stacklevel=3)
            continue
        models[k] = ZLPEnsemble(n_replicas, dE2=dE2, seed=rng, **ensemble).fit(energy_loss, spectra, vacuum_spectra)
    return models, vacuum, dE2


def cluster_reference(energy_loss, model, mean, *, window=None, where="a cluster"):
    """What the band-gap step needs of one cluster: its replicas' ZLP for the cluster mean, the window, the peak.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    model : ZLPEnsemble
        The cluster's fitted model.
    mean : ndarray of shape (n_channels,), counts
        The cluster's mean spectrum over all its pixels (the reference every pixel is scaled against).
    window : (float, float), eV, optional
        Default: :func:`ml4em.eels.pipeline.choose_window` on ``mean``.
    where : str
        Names the cluster in an error.

    Returns
    -------
    dict
        ``zlp`` (n_replicas, n_channels), ``window``, ``near`` (the channels within half the FWHM of 0 eV),
        ``peak_counts`` (the mean's counts there), ``peak_fwhm``, ``dE1``, ``dE2``.

    Raises
    ------
    ValueError
        When the window cannot be chosen automatically (the message names ``where``).
    """
    from .pipeline import choose_window

    e = np.asarray(energy_loss, dtype=float)
    peak_fwhm = float(fwhm(e, mean))
    if window is None:
        window = choose_window(e, mean, dE1=model.dE1_, peak_fwhm=peak_fwhm, where=where)
    near = np.abs(e) <= peak_fwhm / 2
    return {"zlp": model.predict(e), "window": tuple(float(w) for w in window), "near": near,
            "peak_counts": float(np.asarray(mean)[near].sum()), "peak_fwhm": peak_fwhm, "dE1": float(model.dE1_),
            "dE2": float(model.dE2_)}


def fit_cluster_pixels(energy_loss, spectra, ref, *, batch=256, n_jobs=None):
    """The band-gap maps of some pixels of one cluster, ``batch`` pixels per :func:`fit_pixel_band_gaps` call.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    spectra : ndarray of shape (n_pixels, n_channels), counts
        Aligned spectra of pixels of the cluster.
    ref : dict
        :func:`cluster_reference` of the cluster; each pixel's ZLP is scaled by its counts in ``ref["near"]``
        over ``ref["peak_counts"]``.
    batch : int
        Pixels per fit call (bounds the memory: ``n_replicas * batch`` curves).
    n_jobs : int, optional
        Threads of :func:`ml4em.eels.fit_band_gap`.

    Returns
    -------
    maps : dict of str to ndarray of shape (n_pixels,)
    n_fits : int
    """
    spectra = np.asarray(spectra, dtype=float)
    scale = spectra[:, ref["near"]].sum(axis=1) / ref["peak_counts"]
    out = {k: np.full(spectra.shape[0], np.nan) for k in MAP_NAMES}
    n_fits = 0
    for start in range(0, spectra.shape[0], int(batch)):
        sel = slice(start, start + int(batch))
        maps, n = fit_pixel_band_gaps(energy_loss, spectra[sel], ref["zlp"], scale[sel], dE1=ref["dE1"],
                                      dE2=ref["dE2"], peak_fwhm=ref["peak_fwhm"], window=ref["window"], n_jobs=n_jobs)
        n_fits += n
        for name, values in maps.items():
            out[name][sel] = values
    return out, n_fits


class ImageZLP:
    """ZLP models per thickness cluster of a spectral image, and its band-gap maps.

    Parameters
    ----------
    n_clusters : int, default 5
        K-means clusters by thickness (vacuum included).
    n_replicas : int, default 30
        Replicas per cluster model.
    max_spectra : int, default 64
        Pixels per cluster used to train its model (a random subset).
    vacuum_threshold : float, default 0.05
        A cluster with a mean t/lambda below this is vacuum.
    seed : int, numpy.random.Generator or None
    **ensemble
        Passed to every :class:`ml4em.eels.ZLPEnsemble` (``max_iter``,
        ``hidden``, ``progress``, ``n_jobs``, ...).

    Attributes
    ----------
    energy_loss_ : ndarray, eV
        The axis after aligning the ZLPs.
    thickness_ : ndarray of shape (ny, nx)
    labels_ : ndarray of int, shape (ny, nx)
    centres_ : ndarray of shape (n_clusters,)
    vacuum_cluster_ : int or None
        The first of ``vacuum_clusters_`` (None: no vacuum).
    vacuum_clusters_ : tuple of int
        The clusters thinner than ``vacuum_threshold`` (:func:`vacuum_clusters`).
    dE2_ : float or None
        From the vacuum pixels (None: chosen per cluster).
    models_ : dict of int to ZLPEnsemble
        One per specimen cluster.
    """

    def __init__(self, n_clusters=5, *, n_replicas=30, max_spectra=64, vacuum_threshold=0.05, seed=None,
                 **ensemble):
        self.n_clusters = n_clusters
        self.n_replicas = n_replicas
        self.max_spectra = max_spectra
        self.vacuum_threshold = vacuum_threshold
        self.seed = seed
        self.ensemble = ensemble

    def fit(self, energy_loss, counts):
        """Align, cluster and train one ZLP ensemble per specimen cluster; returns self."""
        e, c = check_spectra(energy_loss, counts)
        if c.ndim != 3:
            raise ValueError(f"counts should be a spectral image of shape (ny, nx, n_channels); got {c.shape}.")
        if int(self.max_spectra) != self.max_spectra or self.max_spectra < 2:
            raise ValueError(f"max_spectra={self.max_spectra!r} should be an integer >= 2.")
        rng = np.random.default_rng(self.seed)
        e, c = align_zlp(e, c)
        self.energy_loss_ = e
        self.thickness_ = estimate_thickness(e, c)
        self.labels_, self.centres_ = cluster_by_thickness(self.thickness_, self.n_clusters, seed=rng)
        flat = c.reshape(-1, e.size)
        self.models_, self.vacuum_clusters_, self.dE2_ = train_cluster_models(
            e, self.labels_, self.centres_, lambda idx: flat[idx], n_replicas=self.n_replicas,
            max_spectra=self.max_spectra, vacuum_threshold=self.vacuum_threshold, rng=rng, **self.ensemble)
        self.vacuum_cluster_ = self.vacuum_clusters_[0] if self.vacuum_clusters_ else None
        return self

    def _check_fitted(self):
        if not hasattr(self, "models_"):
            raise RuntimeError("this ImageZLP is not fitted yet; call fit(energy_loss, counts) first.")

    def band_gap_maps(self, counts, *, window=None, chunk=256):
        """Fit the band gap in every specimen pixel, per replica of its cluster's ZLP model.

        Parameters
        ----------
        counts : ndarray of shape (ny, nx, n_channels)
            The image given to :meth:`fit` (it is aligned the same way).
        window : (float, float), eV, optional
            Fit window for all clusters; default per cluster
            (:func:`ml4em.eels.pipeline.choose_window` on the cluster's mean spectrum).
        chunk : int
            Pixels per batch (bounds the memory): one call of
            :func:`ml4em.eels.fit_band_gap` fits ``n_replicas * chunk`` curves.

        Returns
        -------
        BandGapMaps

        Raises
        ------
        ValueError
            When a cluster's window cannot be chosen automatically (pass ``window=``).
        """
        self._check_fitted()
        _, c = align_zlp(self.energy_loss_, np.asarray(counts, dtype=float))
        e = self.energy_loss_
        flat = c.reshape(-1, e.size)
        labels = self.labels_.ravel()
        shape = self.labels_.shape
        out = {k: np.full(flat.shape[0], np.nan) for k in MAP_NAMES}
        for k, model in self.models_.items():
            pixels = np.flatnonzero(labels == k)
            ref = cluster_reference(e, model, flat[pixels].mean(axis=0), window=window,
                                    where=f"cluster {k}")
            maps, _ = fit_cluster_pixels(e, flat[pixels], ref, batch=chunk, n_jobs=self.ensemble.get("n_jobs"))
            for name, values in maps.items():
                out[name][pixels] = values
        return BandGapMaps(**{k: v.reshape(shape) for k, v in out.items()})
