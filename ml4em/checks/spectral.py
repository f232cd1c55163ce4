"""Checks of tutorial 09 (spectral images): thickness clusters, a ZLP model per cluster, band-gap maps.

Each check calls the student's function on cases with a known answer (several of them, with other values than
the notebook's, so that an argument the answer ignores shows) and explains what is wrong; a hint is given only
when the answer equals the wrong variant it names. Reference answers come from numpy and from the public pieces
of :mod:`ml4em.eels`. Each check refuses the package's own implementation of its exercise (see
:mod:`ml4em.checks._own`).

The per-cluster pipeline of the tutorial (:func:`cluster_band_gaps`) is checked with stand-in ZLP models
(:class:`FixedZLP`) instead of trained networks, so that a check takes a fraction of a second; the same function
is the tutorial's fallback when the student's pipeline does not pass yet.
"""

import numpy as np

from ._core import CheckFailure, call_student, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._own import answers

IMAGE = "09_spectral_image"

#: The numbers of clusters the tutorial's cluster explorer offers.
EXPLORER_KS = (2, 3, 4, 5, 6, 8)

__all__ = ["check_order_by_thickness", "check_best_k", "check_thickest_centre", "check_scale_zlp",
           "check_cluster_band_gaps", "check_map_coverage", "cluster_band_gaps", "FixedZLP", "EXPLORER_KS"]


# ------------------------------------------------------------------------------------------ ex1: cluster order
def _rank(centres):
    order = np.argsort(centres, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return order, rank


def _order_case(order_by_thickness, labels, centres, what):
    given_labels, given_centres = labels.copy(), centres.copy()
    out = call_student("order_by_thickness", order_by_thickness, given_labels, given_centres)
    check_true(isinstance(out, tuple) and len(out) == 2,
               f"`order_by_thickness` should return a tuple (labels, centres); got {type(out).__name__}.")
    check_true(np.array_equal(given_labels, labels) and np.array_equal(given_centres, centres),
               f"`order_by_thickness` changed its arguments ({what}).",
               hint="build new arrays (rank[labels], centres[order]) instead of writing into labels or centres.")
    new_labels = check_array(f"new labels ({what})", out[0])
    new_centres = check_array(f"new centres ({what})", out[1])
    check_shape(f"new labels ({what})", new_labels, labels.shape,
                hint="return one new label per pixel, in the shape of the labels you were given.")
    order, rank = _rank(centres)
    hint = "sort the centres from thin to thick (np.sort or centres[np.argsort(centres)])."
    if new_centres.shape == centres.shape and np.allclose(new_centres, centres[order][::-1]):
        hint = "cluster 0 should be the THINNEST: sort the centres in increasing order."
    check_close(f"new centres ({what})", new_centres, centres[order], rtol=1e-12, hint=hint)
    hint = ("cluster k should become rank[k], its position among the sorted centres: rank = np.empty_like(order); "
            "rank[order] = np.arange(len(order)) with order = np.argsort(centres).")
    if np.array_equal(new_labels, order[labels]):
        hint = "np.argsort(centres) gives, for each NEW number, the OLD cluster; you need the inverse permutation."
    elif np.array_equal(new_labels, labels):
        hint = "you returned the labels unchanged: renumber every pixel's cluster by its thickness rank."
    check_close(f"new labels ({what})", new_labels, rank[labels], rtol=0, hint=hint)


@answers(IMAGE, "order_by_thickness", "ml4em.eels.cluster_by_thickness")
def check_order_by_thickness(order_by_thickness, *, seed=None, n_clusters=5, shape=(4, 6)):
    """``order_by_thickness(labels, centres)`` renumbers clusters so that 0 is the thinnest; returns (labels, centres).

    Without ``seed`` the case is a fixed 2 x 3 image of 3 clusters; with a seed, ``n_clusters`` centres in a random
    order and labels of ``shape`` drawn at random (every cluster present), and the same labels as a flat array.
    """
    check_callable(order_by_thickness, "order_by_thickness")
    if seed is None:
        _order_case(order_by_thickness, np.array([[2, 0, 1], [1, 2, 0]]), np.array([0.9, 0.01, 0.4]),
                    "labels [[2, 0, 1], [1, 2, 0]], centres [0.9, 0.01, 0.4]")
        return
    rng = np.random.default_rng(seed)
    centres = rng.permutation(np.sort(rng.uniform(0.0, 1.6, n_clusters)))
    labels = np.concatenate([np.arange(n_clusters), rng.integers(0, n_clusters, int(np.prod(shape)) - n_clusters)])
    labels = rng.permutation(labels).reshape(shape)
    _order_case(order_by_thickness, labels, centres, f"seed={seed}, {n_clusters} clusters, labels of shape {shape}")
    _order_case(order_by_thickness, labels.ravel(), centres, f"seed={seed}, the same labels as a flat array")


# ------------------------------------------------------------------------------------- Think!: how many clusters
def _explorer_clusters(thickness, n_clusters):
    from ..eels import cluster_by_thickness

    return cluster_by_thickness(np.asarray(thickness, dtype=float), int(n_clusters), seed=0)  # the explorer's seed


def _agreement(truth, labels):
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(np.asarray(truth).ravel(), np.asarray(labels).ravel()))


def _best_k(thickness, true_thickness, ks):
    levels = np.unique(np.asarray(true_thickness, dtype=float), return_inverse=True)[1]
    scores = [_agreement(levels, _explorer_clusters(thickness, k)[0]) for k in ks]
    return int(ks[int(np.argmax(scores))]), scores


@answers(IMAGE, "best_k", "ml4em.eels.cluster_by_thickness", student=())
def check_best_k(best_k, thickness, true_thickness, *, ks=EXPLORER_KS):
    """``best_k``: the explorer's K whose clusters are the vacuum and the terraces, one cluster each.

    The truth is computed here: for every K of the explorer the clusters of ``thickness`` (the explorer's
    :func:`ml4em.eels.cluster_by_thickness`, seed 0) are compared with the levels of ``true_thickness`` by the
    adjusted Rand index; the best K is the answer.
    """
    value = check_scalar("best_k", best_k)
    check_true(any(value == k for k in ks), f"`best_k` should be one of the explorer's values {list(ks)}; got {value:g}.")
    want, scores = _best_k(thickness, true_thickness, ks)
    n_levels = np.unique(np.asarray(true_thickness, dtype=float)).size
    mine = scores[list(ks).index(int(value))]
    hint = (f"count the regions of the true thickness map of section 1 (vacuum and terraces: {n_levels} levels) and "
            "find the K at which every one of them is a single colour of the cluster map.")
    if value < want:
        hint = "with this K some clusters hold two terraces (or a terrace and the vacuum): look for a larger K."
    elif value > want:
        hint = "with this K a terrace (or the vacuum) is split between two clusters: look for a smaller K."
    check_true(value == want, f"with K = {value:g} the clusters match the true thickness levels less well (adjusted "
               f"Rand index {mine:.2f}) than at another K of the explorer.", hint=hint)


@answers(IMAGE, "thickest_centre", "ml4em.eels.cluster_by_thickness", student=())
def check_thickest_centre(thickest_centre, thickness, true_thickness, *, ks=EXPLORER_KS):
    """``thickest_centre``: the centre t/lambda of the thickest cluster at the best K, as the colour bar shows it.

    The colour bar prints two decimals, so the value must be within 0.0051 of the centre computed here.
    """
    value = check_scalar("thickest_centre", thickest_centre)
    k, _ = _best_k(thickness, true_thickness, ks)
    centres = _explorer_clusters(thickness, k)[1]
    hint = (f"set the explorer to the K of the vacuum and the terraces ({k}) and read the top label of the colour bar: "
            "the centre of the thickest cluster.")
    if np.isclose(value, np.max(true_thickness), atol=0.0051):
        hint = ("that is the TRUE t/lambda of the thickest terrace; read the log-ratio estimate, the cluster centre "
                "on the colour bar (section 2 says why it is lower).")
    elif np.any(np.isclose(value, centres[:-1], atol=0.0051)):
        hint = "that is the centre of another cluster; the thickest is the last label of the colour bar."
    check_close("thickest_centre", value, centres[-1], rtol=0, atol=0.0051, hint=hint)


# --------------------------------------------------------------------------------- ex3: ZLP scaled to the pixels
def _scaled(zlp, pixels, near):
    factor = pixels[:, near].sum(axis=1) / pixels.mean(axis=0)[near].sum()
    return zlp[:, None, :] * factor[None, :, None]


def _scale_case(rng, n_replicas, n_pixels, n_channels=61):
    e = np.linspace(-1.0, 3.0, n_channels)
    peak = 1000 * np.exp(-(e / 0.25) ** 2)
    pixels = peak[None] * rng.uniform(0.6, 1.4, (n_pixels, 1)) + rng.uniform(2, 30, (n_pixels, n_channels))
    zlp = peak[None] * rng.uniform(0.85, 1.15, (n_replicas, 1)) * (1 + 0.05 * rng.standard_normal((n_replicas, 1)) * e)
    near = np.abs(e) <= rng.uniform(0.12, 0.3)
    return e, zlp, pixels, near


@answers(IMAGE, "scale_zlp", "ml4em.eels.ImageZLP.band_gap_maps", "ml4em.checks.spectral.cluster_band_gaps")
def check_scale_zlp(scale_zlp, *, seed=9, n_replicas=4, n_pixels=6):
    """``scale_zlp(zlp, pixels, near)``: every replica's ZLP scaled to every pixel, shape (n_replicas, n_pixels, C).

    The factor of pixel p is ``pixels[p, near].sum() / pixels.mean(axis=0)[near].sum()``: the pixel's counts in
    the peak over the cluster mean's, the same for all replicas.
    """
    check_callable(scale_zlp, "scale_zlp")
    rng = np.random.default_rng(seed)
    _, zlp, pixels, near = _scale_case(rng, n_replicas, n_pixels)
    what = f"scale_zlp(zlp, pixels, near) with {n_replicas} replicas and {n_pixels} pixels"
    given = (zlp.copy(), pixels.copy(), near.copy())
    got = check_array(what, call_student("scale_zlp", scale_zlp, *given), ndim=3)
    check_true(all(np.array_equal(a, b) for a, b in zip(given, (zlp, pixels, near))),
               "`scale_zlp` changed its arguments.", hint="compute new arrays instead of scaling zlp in place.")
    expected = _scaled(zlp, pixels, near)
    hint = "one axis per replica, then one per pixel, then the channels: zlp[:, None, :] * factor[None, :, None]."
    if got.shape == (n_pixels, n_replicas, pixels.shape[1]):
        hint = "the replicas come FIRST: shape (n_replicas, n_pixels, n_channels)."
    check_shape(what, got, expected.shape, hint=hint)
    mean_near = pixels.mean(axis=0)[near].sum()
    variants = {
        "one factor per PIXEL, the same for every replica: divide by the cluster mean's counts in the peak, not by "
        "each replica's own (that would scale away the spread of the replicas in the peak, their uncertainty).":
            pixels[None, :, near].sum(axis=2)[..., None] / zlp[:, None, near].sum(axis=2)[..., None] * zlp[:, None],
        "your factor is upside down: the pixel's counts go in the numerator.":
            zlp[:, None, :] / (pixels[:, near].sum(axis=1) / mean_near)[None, :, None],
        "the reference is the cluster's MEAN spectrum (pixels.mean(axis=0)), not the sum of its pixels.":
            zlp[:, None, :] * (pixels[:, near].sum(axis=1) / pixels.sum(axis=0)[near].sum())[None, :, None],
        "count only the channels of the peak (pixels[:, near]), in the pixel and in the reference alike.":
            _scaled(zlp, pixels, np.ones_like(near)),
    }
    hint = "factor = pixels[:, near].sum(axis=1) / pixels.mean(axis=0)[near].sum(), one per pixel."
    for text, wrong in variants.items():
        if not np.allclose(wrong, expected, rtol=1e-9) and np.allclose(got, wrong, rtol=1e-9):
            hint = text
            break
    check_close(what, got, expected, rtol=1e-10, hint=hint)


# --------------------------------------------------------------------------------------- ex4: the whole pipeline
class FixedZLP:
    """A stand-in for a trained :class:`ml4em.eels.ZLPEnsemble`: replicas of a known ZLP shape, no training.

    The height is fitted to the peak of the spectra it is made from (their mean counts within 0.2 eV of 0),
    replica r is that ZLP times ``1 + spread * x_r`` with x evenly spaced in [-1, 1], and ``dE1_`` is
    :func:`ml4em.eels.choose_dE1` of the spectra, so that every cluster gets its own model and its own dE1.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    spectra : ndarray of shape (n_spectra, n_channels), counts
    zlp_shape : ndarray of shape (n_channels,)
        The ZLP profile (peak at 0 eV).
    n_replicas : int
    dE2 : float, eV
    spread : float, default 0.05
    """

    def __init__(self, energy_loss, spectra, zlp_shape, n_replicas, dE2, *, spread=0.05):
        from ..eels import choose_dE1

        self.energy_loss = np.asarray(energy_loss, dtype=float)
        spectra = np.asarray(spectra, dtype=float)
        near = np.abs(self.energy_loss) <= 0.2
        height = spectra.mean(axis=0)[near].sum() / np.asarray(zlp_shape)[near].sum()
        self.zlp_ = height * np.asarray(zlp_shape, dtype=float) * (1 + spread * np.linspace(-1, 1, n_replicas))[:, None]
        self.dE1_ = float(choose_dE1(self.energy_loss, spectra))
        self.dE2_ = float(dE2)

    def predict(self, energy_loss):
        """The replicas' ZLPs, ndarray of shape (n_replicas, n_channels), counts."""
        e = np.asarray(energy_loss, dtype=float)
        if e.shape != self.energy_loss.shape or not np.allclose(e, self.energy_loss):
            raise ValueError(f"predict(energy_loss) needs the energy axis the model was made on ({self.energy_loss.size} "
                             f"channels); got shape {e.shape}.")
        return self.zlp_.copy()


def cluster_band_gaps(energy_loss, counts, labels, train_zlp, clusters, *, scale=True, statistic="median",
                      own_noise=True):
    """Band-gap maps of a spectral image, one ZLP model per cluster (the tutorial's pipeline, ml4em's version).

    For every cluster k of ``clusters``: its pixels' spectra train a model (``train_zlp``); each replica's ZLP is
    scaled to every pixel by the ratio of its counts within half the FWHM of 0 eV to the cluster mean's; it is
    matched and subtracted (:func:`ml4em.eels.subtract_zlp`) and the band gap fitted per pixel and replica
    (:func:`ml4em.eels.fit_band_gap`) in the window :func:`ml4em.eels.default_window` of the model's dE1 and the
    cluster mean. This is what :meth:`ml4em.eels.ImageZLP.band_gap_maps` does with the models of
    :meth:`ml4em.eels.ImageZLP.fit`, except that ImageZLP leaves the replicas whose fit ends on a bound out of the
    median and band (tests/test_checks_spectral.py compares the two where every fit is clean).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        The axis with every ZLP at 0 eV (:func:`ml4em.eels.align_zlp`).
    counts : ndarray of shape (ny, nx, n_channels), counts
    labels : ndarray of int, shape (ny, nx)
        The cluster of every pixel.
    train_zlp : callable
        ``train_zlp(spectra)`` with spectra of shape (n_pixels, n_channels) returns a model with
        ``predict(energy_loss)`` (shape (n_replicas, n_channels)), ``dE1_`` and ``dE2_`` (eV).
    clusters : iterable of int
        The clusters to analyse; every other pixel is NaN in the maps.
    scale, statistic, own_noise
        Only for the checks' wrong variants: ``scale=False`` skips the scaling to the pixel, ``statistic="mean"``
        takes the mean over the replicas instead of the median, ``own_noise=False`` weights every pixel's fit by
        one noise level for the whole cluster instead of the pixel's own.

    Returns
    -------
    dict of str to ndarray of shape (ny, nx)
        ``band_gap``, ``band_gap_low``, ``band_gap_high`` (eV) and ``exponent``, NaN outside ``clusters``; the
        fields of :class:`ml4em.eels.BandGapMaps` (``eels.BandGapMaps(**maps)``).
    """
    from .. import eels

    e = np.asarray(energy_loss, dtype=float)
    flat = np.asarray(counts, dtype=float).reshape(-1, e.size)
    lab = np.asarray(labels).ravel()
    if lab.size != flat.shape[0]:
        raise ValueError(f"labels has {lab.size} pixels but counts has {flat.shape[0]}; give one label per pixel.")
    out = {name: np.full(lab.size, np.nan) for name in ("band_gap", "band_gap_low", "band_gap_high", "exponent")}
    for k in clusters:
        pixels = lab == k
        spectra = flat[pixels]
        model = train_zlp(spectra)
        mean = spectra.mean(axis=0)
        width = float(eels.fwhm(e, mean))
        near = np.abs(e) <= width / 2
        zlp = np.asarray(model.predict(e), dtype=float)
        zlps = _scaled(zlp, spectra, near) if scale else np.broadcast_to(zlp[:, None, :], (zlp.shape[0],) + spectra.shape)
        inelastic = eels.subtract_zlp(e, spectra, zlps, dE1=model.dE1_, dE2=model.dE2_, peak_fwhm=width)
        window = eels.choose_window(e, mean, dE1=model.dE1_, peak_fwhm=width)
        # each pixel's fit weighted by its own noise, sqrt of its median counts over the replicas (at least 1):
        # the rule of ml4em.eels.fit_pixel_band_gaps
        sigma = np.sqrt(np.maximum(np.median(inelastic, axis=0), 1.0)) if own_noise else None
        fit = eels.fit_band_gap(e, inelastic, window=window, sigma=sigma)
        summary = fit.summary()
        gap = summary["band_gap"]
        out["band_gap"][pixels] = gap.median if statistic == "median" else fit.band_gap.mean(axis=0)
        out["band_gap_low"][pixels] = gap.low
        out["band_gap_high"][pixels] = gap.high
        out["exponent"][pixels] = summary["exponent"].median
    shape = np.shape(labels)
    return {name: values.reshape(shape) for name, values in out.items()}


def _check_training(calls, clusters, labels, flat, what):
    """One model per cluster of ``clusters``, in that order, each trained on the spectra of that cluster."""
    sums = {int(k): np.sort(flat[labels.ravel() == k].sum(axis=1)) for k in np.unique(labels)}
    for i, spectra in enumerate(calls):
        got = np.sort(spectra.sum(axis=1))
        of = next((k for k, want in sums.items() if got.shape == want.shape and np.allclose(got, want)), None)
        if of is not None and of not in clusters:
            check_true(False, f"{what} trained a model on the pixels of cluster {of}, which is not in `clusters`.",
                       hint="loop over `clusters` only: the vacuum (and any cluster not asked for) gets no model.")
        if i < len(clusters) and of != clusters[i]:
            k = clusters[i]
            hint = ("select the rows of the pixels with that label (counts[labels == k]), in the order of "
                    "`clusters`.")
            if spectra.shape[0] == flat.shape[0]:
                hint = "train each model on the spectra of ITS cluster only, not on every pixel of the image."
            check_true(False, f"the model of cluster {k} (call {i + 1} of train_zlp) got {spectra.shape[0]} spectra "
                       f"that are not the {sums[k].size} spectra of that cluster.", hint=hint)
    check_true(len(calls) == len(clusters),
               f"{what} called train_zlp {len(calls)} time(s); it should train one model per cluster of `clusters` "
               f"({len(clusters)}).", hint="call train_zlp once per cluster of `clusters`, with its spectra.")


def _pipeline_image(seed, shape=(12, 12)):
    from ..datasets import make_spectral_image
    from ..eels import cluster_by_thickness, estimate_thickness

    image = make_spectral_image(shape, geometry="flake", gap_strength=100.0, seed=seed)
    counts = image.counts.astype(float)
    labels, _ = cluster_by_thickness(estimate_thickness(image.energy_loss, counts), 5, seed=0)
    return image, counts, labels


@answers(IMAGE, "cluster_band_gaps", "ml4em.eels.ImageZLP", "ml4em.checks.spectral.cluster_band_gaps")
def check_cluster_band_gaps(cluster_band_gaps, *, seed=3, clusters=(1, 2, 3, 4), n_replicas=5, dE2=3.4,
                            shuffle=False):
    """``cluster_band_gaps(energy_loss, counts, labels, train_zlp, clusters)`` returns the band-gap maps.

    The case: a 12 x 12 synthetic flake (seed ``seed``) in 5 thickness clusters, stand-in models
    (:class:`FixedZLP`, ``n_replicas`` replicas, ``dE2``) for ``train_zlp``; the answer is compared with
    :func:`cluster_band_gaps`. With ``shuffle`` the cluster numbers are permuted, so that they no longer follow
    the thickness.
    """
    check_callable(cluster_band_gaps, "cluster_band_gaps")
    image, counts, labels = _pipeline_image(seed)
    clusters = [int(k) for k in clusters]
    if shuffle:  # the same clusters under other numbers
        perm = np.random.default_rng(seed).permutation(5)
        labels, clusters = perm[labels], [int(perm[k]) for k in clusters]
    e = image.energy_loss
    calls = []

    def train_zlp(spectra):
        spectra = np.asarray(spectra, dtype=float)
        calls.append(spectra.copy())
        if spectra.ndim != 2 or spectra.shape[-1] != e.size:
            raise ValueError(f"train_zlp needs spectra of shape (n_pixels, {e.size}); got shape {spectra.shape}.")
        return FixedZLP(e, spectra, image.zlp_shape, n_replicas, dE2)

    def reference(**variant):
        return cluster_band_gaps_ref(e, counts, labels, lambda s: FixedZLP(e, s, image.zlp_shape, n_replicas, dE2),
                                     clusters, **variant)

    what = f"cluster_band_gaps(energy_loss, counts, labels, train_zlp, clusters={clusters}) (seed={seed})"
    given = (counts.copy(), labels.copy())
    flat = counts.reshape(-1, e.size)
    try:
        out = call_student("cluster_band_gaps", cluster_band_gaps, e, given[0], given[1], train_zlp, list(clusters))
    except CheckFailure:
        if calls:  # a wrong model explains the failure better than the error it led to
            _check_training(calls, clusters, labels, flat, what)
        raise
    check_true(np.array_equal(given[0], counts) and np.array_equal(given[1], labels),
               "`cluster_band_gaps` changed the counts or the labels it was given.")
    _check_training(calls, clusters, labels, flat, what)
    expected = reference()
    names = ("band_gap", "band_gap_low", "band_gap_high", "exponent")
    check_true(isinstance(out, dict) and all(n in out for n in names),
               f"{what} should return a dict with the maps {', '.join(names)}; got {type(out).__name__}"
               f"{' with keys ' + str(sorted(out)) if isinstance(out, dict) else ''}.")
    outside = ~np.isin(labels, clusters)
    for name in names:
        got = check_array(f"maps['{name}']", out[name], finite=False)
        check_shape(f"maps['{name}']", got, labels.shape, hint="one value per pixel: reshape to labels.shape.")
        check_true(np.all(np.isnan(got[outside])),
                   f"maps['{name}'] should be NaN in the {int(outside.sum())} pixels outside `clusters`; "
                   f"{int(np.sum(~np.isnan(got[outside])))} of them are not.",
                   hint="start from np.full(labels.shape, np.nan) and fill in the pixels of each cluster analysed.")
        hint = None
        if name == "band_gap" and not np.allclose(got, expected["band_gap"], rtol=0, atol=1e-6, equal_nan=True):
            unscaled = reference(scale=False)["band_gap"]
            if np.allclose(got, unscaled, atol=1e-6, equal_nan=True) and not np.allclose(unscaled, expected["band_gap"],
                                                                                          atol=1e-6, equal_nan=True):
                hint = "scale every replica's ZLP to each pixel before subtracting it (your scale_zlp)."
            elif np.allclose(got, reference(statistic="mean")["band_gap"], atol=1e-6, equal_nan=True):
                hint = "the map is the MEDIAN over the replicas (fit.summary()['band_gap'].median), not the mean."
            elif np.allclose(got, reference(own_noise=False)["band_gap"], atol=1e-6, equal_nan=True):
                hint = ("weight each pixel's fit by its own noise: sigma = np.sqrt(np.maximum(np.median(inelastic, "
                        "axis=0), 1.0)), passed as fit_band_gap(..., sigma=sigma).")
        check_close(f"maps['{name}']", got, expected[name], rtol=0, atol=1e-6,
                    hint=hint or "follow the steps of the exercise for each cluster: its own model, its own mean "
                                 "spectrum, FWHM and window; check that your scale_zlp passes its test.")


cluster_band_gaps_ref = cluster_band_gaps  # the name the check uses, whatever a notebook calls its own version


# -------------------------------------------------------------------------------------------- ex5: map coverage
def _coverage_case(rng, shape, nan_outside):
    truth = rng.normal(1.6, 0.2, shape)
    low = truth - rng.uniform(-0.1, 0.3, shape)
    high = truth + rng.uniform(-0.1, 0.3, shape)
    mask = rng.random(shape) > 0.3
    inside = np.flatnonzero(mask)
    edge = rng.choice(inside, 4, replace=False)
    low.flat[edge[:2]] = truth.flat[edge[:2]]     # the true value on the edge of its interval: inside
    high.flat[edge[2:]] = truth.flat[edge[2:]]
    outside = np.flatnonzero(~mask)
    low.flat[outside[: outside.size // 2]] = truth.flat[outside[: outside.size // 2]] - 1.0  # outside the mask: inside
    high.flat[outside[: outside.size // 2]] = truth.flat[outside[: outside.size // 2]] + 1.0
    if nan_outside:
        low, high = np.where(mask, low, np.nan), np.where(mask, high, np.nan)
    return truth, low, high, mask


@answers(IMAGE, "map_coverage", "ml4em.eels.coverage", "ml4em.eels.Band.contains")
def check_map_coverage(map_coverage, *, seed=10, shape=(6, 7), nan_outside=True):
    """``map_coverage(low, high, truth, mask)``: fraction of pixels in ``mask`` with low <= truth <= high.

    Four pixels of the mask have the truth exactly on an edge of the interval (inside); with ``nan_outside`` the
    intervals are NaN outside the mask, as in the tutorial's maps, otherwise they hold numbers there that must be
    left out too.
    """
    check_callable(map_coverage, "map_coverage")
    rng = np.random.default_rng(seed)
    truth, low, high, mask = _coverage_case(rng, shape, nan_outside)
    what = f"map_coverage(low, high, truth, mask) (seed={seed}, {'NaN' if nan_outside else 'numbers'} outside the mask)"
    got = check_scalar(what, call_student("map_coverage", map_coverage, low.copy(), high.copy(), truth.copy(),
                                          mask.copy()))
    with np.errstate(invalid="ignore"):
        inside = (truth >= low) & (truth <= high)
        strict = (truth > low) & (truth < high)
    expected = float(np.mean(inside[mask]))
    hint = "index every map with [mask] and average (truth >= low) & (truth <= high) over those pixels."
    if np.isclose(got, float(np.mean(strict[mask]))):
        hint = "a true value ON an edge of the interval is inside it: use <= and >=, not < and >."
    elif np.isclose(got, float(np.mean(inside & mask))):
        hint = "average over the pixels IN the mask only (index with [mask]), not over the whole image."
    elif np.isclose(got, float(np.mean(inside))):
        hint = "leave out the pixels outside the mask: index with [mask] before averaging."
    elif np.isclose(got, 1 - expected):
        hint = "you counted the pixels OUTSIDE their interval."
    elif np.isclose(got, float(np.sum(inside[mask]))):
        hint = "return a fraction between 0 and 1, not a count."
    check_close(what, got, expected, rtol=1e-12, hint=hint)

