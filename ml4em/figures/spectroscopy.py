"""Lecture figures on low-loss EELS: the zero-loss peak, Monte Carlo replicas, extrapolation, the band gap.

Every spectrum is synthetic (:func:`ml4em.datasets.make_lowloss_spectrum`), so each figure can compare what a
method recovers with the truth it was made from. The ZLP model of the replica method is the course's
:class:`ml4em.eels.ZLPEnsemble` (one small neural network per replica, as in Roest et al. 2021 and tutorial 07),
with a small number of replicas so that the lecture runs in seconds; the replicas of the extrapolation figure come
from :func:`ml4em.eels.make_replicas`. The band gaps are the package's :func:`ml4em.eels.fit_band_gap` (a pure
power law ``A (E - E_BG)^b`` with the exponent fitted) in the window of :func:`ml4em.eels.default_window`. A pure
power law describes the onset only where it dominates the plasmon's low-energy tail, so the specimen of the fitting
figures has an onset 100 times that tail 1 eV above the gap (the default of
:func:`ml4em.datasets.make_spectral_image`); with a weak onset on top of the tail (3 times, as in
:func:`lowloss_anatomy`) even the true inelastic signal fits to E_BG = 0.5 eV.

Used in: lectures/part2_ml_for_em.ipynb (practised in tutorials/07_eels_replicas and 08_band_gap).
"""

import numpy as np

from .. import regression as reg
from ..datasets import make_lowloss_spectrum
from ..plotting import style
from ._base import LectureFigure, new_figure

__all__ = ["lowloss_anatomy", "replica_method", "extrapolation", "band_gap", "spectral_image_maps"]

_GAP = 1.6  # eV, the band gap of the synthetic WS2-like specimen (Roest et al. 2021 find 1.6 +0.3 -0.2 eV)
_WEAK_STRENGTH = 3.0  # lowloss_anatomy: an onset 3 times the plasmon's low-energy tail 1 eV above the gap
# the fitting figures: an onset 100 times that tail, which the pure power law of ml4em.eels.fit_band_gap describes
_STRENGTH = 100.0


def lowloss_anatomy(*, seed=0):
    """A low-loss spectrum split into its zero-loss peak and its inelastic part.

    Returns
    -------
    LectureFigure
        ``data["ratio_at_2eV"]``: ZLP counts over inelastic counts at 2 eV.
    """
    s = make_lowloss_spectrum(band_gap=_GAP, gap_strength=_WEAK_STRENGTH, seed=seed)
    e, total = s.energy_loss, s.counts[0]
    fig, (a, b) = new_figure(2)
    for ax, (lo, hi) in ((a, (-2, 40)), (b, (-0.5, 4.0))):
        sel = (e >= lo) & (e <= hi)
        ax.plot(e[sel], np.clip(total[sel], 1, None), color="0.2", lw=1.2, label="measured spectrum")
        ax.plot(e[sel], s.zlp[sel], **style(0), lw=2, label="zero-loss peak (ZLP)")
        ax.plot(e[sel], s.inelastic[sel], **style(1), lw=2, label="inelastic signal")
        ax.set_yscale("log")
        ax.set_xlabel("energy loss (eV)")
        ax.set_ylabel("intensity (counts)")
    a.set_ylim(1, 3e6)
    b.set_ylim(1, 3e6)
    b.axvline(_GAP, color="0.5", ls=":", lw=1.5)
    b.text(_GAP + 0.05, 2e5, f"band gap {_GAP} eV", fontsize=9)
    a.legend(fontsize=9)
    i2 = int(np.argmin(np.abs(e - 2.0)))
    ratio = float(s.zlp[i2] / s.inelastic[i2])
    alt = ("Two log-scale plots of a synthetic low-loss EELS spectrum against energy loss. Left, from -2 to 40 eV: "
           "a narrow zero-loss peak a million counts high at 0 eV, then a broad plasmon hump near 20 eV, both traced "
           "by the measured spectrum. Right, zoomed to 4 eV: the tail of the zero-loss peak lies above the inelastic "
           f"signal until beyond 2 eV (about {ratio:.0f} times larger at 2 eV), hiding the band-gap onset at 1.6 eV.")
    return LectureFigure(fig, alt, "Below a few eV the zero-loss peak's tail swamps the inelastic signal; to see a "
                         "band gap we must subtract a model of the ZLP.", data={"ratio_at_2eV": ratio})


def replica_method(*, n_replicas=100, n_spectra=6, dE1=3.0, dE2=6.0, max_iter=200, seed=0):
    """The replica method step by step: replicas of the data, a ZLP model per replica, the subtracted spectrum.

    The ZLP model is the course's :class:`ml4em.eels.ZLPEnsemble` (one small neural network per Monte Carlo
    replica, trained by Levenberg-Marquardt with early stopping), trained on vacuum spectra (nearly no inelastic
    scattering), which give the ZLP's shape; each network's ZLP is scaled to the specimen's peak and subtracted
    from it.

    Parameters
    ----------
    n_replicas : int >= 10
    n_spectra : int >= 2
        Repeated acquisitions of vacuum and specimen.
    dE1, dE2 : float, eV
        The networks are trained on the vacuum data below ``dE1`` and pushed to zero above ``dE2``.
    max_iter : int
        Iteration cap of the training (:class:`ml4em.eels.ZLPEnsemble`).
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``energy_loss``, ``subtracted`` (n_replicas, n_channels), ``truth`` (inelastic, counts),
        ``coverage`` (fraction of channels between 1.8 and 3 eV where the truth lies inside the 68% band),
        ``dE1``, ``dE2`` (eV) and ``spectrum`` (the mean specimen spectrum, counts).
    """
    from ..eels import ZLPEnsemble

    if isinstance(n_replicas, bool) or not isinstance(n_replicas, (int, np.integer)) or n_replicas < 10:
        raise ValueError(f"n_replicas={n_replicas!r} should be an integer >= 10 (percentiles need a few).")
    rng = np.random.default_rng(seed)
    vac = make_lowloss_spectrum(n_spectra=n_spectra, t_over_lambda=1e-6, seed=rng)
    spec = make_lowloss_spectrum(n_spectra=n_spectra, band_gap=_GAP, t_over_lambda=0.5, gap_strength=_STRENGTH,
                                 seed=rng)
    e = vac.energy_loss
    used = e >= -1.5  # the training data: the peak and its tails, not the empty channels far below it
    zlp = ZLPEnsemble(int(n_replicas), dE1=dE1, dE2=dE2, max_iter=max_iter, progress=False,
                      seed=int(rng.integers(2**31)))
    zlp.fit(e[used], vac.counts[:, used])
    zlps = zlp.predict(e)
    sample = spec.counts.mean(axis=0)
    peak = (e > -0.3) & (e < 0.3)
    # Not ml4em.eels.subtract_zlp: it takes the measured spectrum as the ZLP below dE0 = (FWHM + dE1) / 2, which
    # with this figure's dE1 = 3 eV (vacuum training, far beyond the peak) is 1.7 eV, above the 1.6 eV gap; it
    # would zero the subtracted spectrum up to about 2.1 eV (none of the true signal between 1.8 and 3 eV inside
    # the band). Nor does it rescale a vacuum-trained ZLP to the specimen's counts, which this sum does.
    scale = sample[peak].sum() / zlps[:, peak].sum(axis=1)  # match each ZLP model to the specimen's peak
    subtracted = sample - scale[:, None] * zlps
    lo, mid, hi = np.percentile(subtracted, [16, 50, 84], axis=0)
    band = (e > 1.8) & (e < 3.0)
    coverage = float(np.mean((spec.inelastic[band] >= lo[band]) & (spec.inelastic[band] <= hi[band])))
    fig, (a, b, c) = new_figure(3, size=(12.0, 3.6))
    ts = zlp.training_set_
    ed = ts.energy_loss[:ts.n_data]
    w = (ed > -1.0) & (ed < 1.0)
    for k in range(min(5, n_replicas)):
        a.plot(ed[w], zlp.replicas_[k, w], **style(k), lw=1, label=f"replica {k + 1}")
    a.set_yscale("log")
    a.set_title("1. replicas of the vacuum data", fontsize=10)
    a.legend(fontsize=7)
    w2 = (e > -0.5) & (e < 4.0)
    zlo, zmid, zhi = np.percentile(scale[:, None] * zlps, [16, 50, 84], axis=0)
    b.plot(e[w2], sample[w2], color="0.2", lw=1, label="specimen spectrum")
    b.fill_between(e[w2], zlo[w2], zhi[w2], color=style(0)["color"], alpha=0.4, label="ZLP models, 68% band")
    b.plot(e[w2], zmid[w2], **style(0), lw=1.5, label="ZLP model, median")
    b.axvline(dE1, color="0.5", ls=":", lw=1)
    b.set_yscale("log")
    b.set_ylim(10, None)
    b.set_title(f"2. one network per replica ({n_replicas})", fontsize=10)
    b.legend(fontsize=7)
    w3 = (e > 0.8) & (e < 4.0)
    c.fill_between(e[w3], lo[w3], hi[w3], color=style(1)["color"], alpha=0.4, label="subtracted, 68% band")
    c.plot(e[w3], mid[w3], **style(1), lw=1.5, label="subtracted, median")
    c.plot(e[w3], spec.inelastic[w3], color="0.2", ls=":", lw=2, label="true inelastic signal")
    c.axvline(_GAP, color="0.5", lw=1)
    c.set_ylim(-0.2 * spec.inelastic[w3].max(), 1.3 * spec.inelastic[w3].max())
    c.set_title("3. specimen minus ZLP", fontsize=10)
    c.legend(fontsize=7)
    for ax in (a, b, c):
        ax.set_xlabel("energy loss (eV)")
        ax.set_ylabel("intensity (counts)")
    alt = ("Three panels against energy loss. First: five Monte Carlo replicas of a vacuum zero-loss peak on a log "
           f"scale, almost on top of each other. Second: the specimen spectrum with the band spanned by {n_replicas} "
           f"ZLP models, one neural network per replica trained on the vacuum data below {dE1:g} eV, which follows "
           "the peak and its tail. Third: the specimen minus the ZLP models from 0.8 to 4 eV: a band of subtracted "
           "spectra that is low and nearly flat below the 1.6 eV band gap and rises above it, following the dotted "
           f"true inelastic signal and enclosing it in {100 * coverage:.0f}% of the channels between 1.8 and 3 eV.")
    return LectureFigure(fig, alt, "The spread of the replicas becomes the spread of the ZLP models and hence an "
                         "uncertainty band on the subtracted spectrum. (The ZLP model is ml4em.eels.ZLPEnsemble, "
                         f"here {n_replicas} small networks trained on vacuum spectra.)",
                         data={"energy_loss": e, "subtracted": subtracted, "truth": spec.inelastic,
                               "coverage": coverage, "dE1": float(dE1), "dE2": float(dE2), "spectrum": sample})


def extrapolation(*, train=(60.0, 80.0, 120.0, 160.0), n_replicas=50, seed=0):
    """An ensemble trained on replicas agrees where there are data and fans out where there are none.

    The quantity is the ZLP width against beam energy (synthetic: FWHM = 0.3 + 60/E_beam eV, measured with 3%
    noise at the training settings). Each replica is fitted by a cubic polynomial.

    Parameters
    ----------
    train : sequence of float, keV
        Beam energies with measurements (at least 4).
    n_replicas : int >= 10
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``beam_energy``, ``width_68`` (width of the 68% band, eV) and ``truth``.
    """
    train = np.sort(np.asarray(train, dtype=float))
    if train.ndim != 1 or train.size < 4 or np.any(train <= 0):
        raise ValueError(f"train={train.tolist()!r} should hold at least 4 positive beam energies in keV.")
    rng = np.random.default_rng(seed)
    truth = lambda eb: 0.3 + 60.0 / eb  # noqa: E731
    measured = truth(train) * (1 + 0.03 * rng.standard_normal((6, train.size)))
    from ..eels import make_replicas

    reps = make_replicas(measured.mean(axis=0), measured.std(axis=0, ddof=1), n_replicas, seed=rng)
    grid = np.linspace(30.0, 300.0, 271)
    scale = 100.0
    preds = np.array([reg.predict(reg.polynomial_features(grid / scale, 3),
                                  reg.fit_ridge(reg.polynomial_features(train / scale, 3), r, 1e-3)) for r in reps])
    lo, mid, hi = np.percentile(preds, [16, 50, 84], axis=0)
    fig, ax = new_figure(1, size=(8.5, 3.8))
    ax.axvspan(train[0], train[-1], color="0.92", label="settings with data")
    ax.fill_between(grid, lo, hi, color=style(0)["color"], alpha=0.45, label="ensemble, 68% band")
    ax.plot(grid, mid, **style(0), lw=1.5, label="ensemble median")
    ax.plot(grid, truth(grid), color="0.2", ls=":", lw=2, label="truth")
    ax.errorbar(train, measured.mean(axis=0), yerr=measured.std(axis=0, ddof=1), fmt="o", color=style(1)["color"],
                label="measurements")
    ax.set_ylim(0, 3.0)
    ax.set_xlabel("beam energy (keV)")
    ax.set_ylabel("ZLP width, FWHM (eV)")
    ax.legend(fontsize=8, ncols=2)
    inside = (grid >= train[0]) & (grid <= train[-1])
    alt = ("ZLP width against beam energy from 30 to 300 keV. Measurements with error bars lie between "
           f"{train[0]:.0f} and {train[-1]:.0f} keV, in a shaded region. The ensemble's 68% band is narrow there "
           f"(about {np.mean(hi[inside] - lo[inside]):.2f} eV wide) and follows the dotted truth; outside it widens "
           f"quickly, to {hi[0] - lo[0]:.2f} eV at 30 keV and {hi[-1] - lo[-1]:.2f} eV at 300 keV.")
    return LectureFigure(fig, alt, "Extrapolating to new microscope settings is allowed, but the ensemble says how "
                         "far to trust it: the band widens away from the data. (Cubic polynomials stand in for the "
                         "networks here.)", data={"beam_energy": grid, "width_68": hi - lo, "truth": truth(grid),
                                                  "train": train})


def _fit_window(energy_loss, spectrum):
    """The package's band-gap fit window for ``spectrum`` (counts): :func:`ml4em.eels.default_window`, eV.

    Its dE1 is :func:`ml4em.eels.choose_dE1` of the spectrum (2/3 of the first local minimum), the rule for a
    ZLP model trained on the specimen. The figures' own dE1 (3 eV, the range of the vacuum training) would put
    dE0 = (FWHM + dE1) / 2 = 1.7 eV above the gap and the first minimum, where no window fits.

    Examples
    --------
    >>> s = make_lowloss_spectrum(n_spectra=3, band_gap=1.6, gap_strength=100.0, seed=0)
    >>> tuple(round(v, 2) for v in _fit_window(s.energy_loss, s.counts))  # from below the gap to E_min + 1 eV
    (0.76, 2.6)
    """
    from ..eels import choose_dE1, default_window, first_local_minimum, fwhm

    mean = np.asarray(spectrum, dtype=float).reshape(-1, np.size(energy_loss)).mean(axis=0)
    return default_window(choose_dE1(energy_loss, mean[None]), float(fwhm(energy_loss, mean)),
                          first_local_minimum(energy_loss, mean))


def band_gap(*, n_replicas=100, seed=0, replicas=None):
    """Band-gap fits to every subtracted replica: the fit near the onset and the distribution of E_BG.

    Each replica is fitted by ``A (E - E_BG)^b`` with ``b`` free (:func:`ml4em.eels.fit_band_gap`) in the window
    of :func:`ml4em.eels.default_window` for the specimen spectrum.

    Parameters
    ----------
    n_replicas : int
    seed : int
    replicas : dict, optional
        The ``data`` of a :func:`replica_method` figure, to reuse its subtracted replicas.

    Returns
    -------
    LectureFigure
        ``data``: ``gaps`` (eV, one per replica), ``median``, ``low``, ``high`` (16th and 84th percentiles, eV),
        ``exponents`` (one per replica), ``exponent`` (their median) and ``window`` (eV).
    """
    from ..eels import band_gap_model, fit_band_gap

    rm = replicas if replicas is not None else replica_method(n_replicas=n_replicas, seed=seed).data
    e, sub = rm["energy_loss"], rm["subtracted"]
    n_replicas = sub.shape[0]
    window = _fit_window(e, rm["spectrum"])
    fit = fit_band_gap(e, sub, window=window)
    summary = fit.summary()
    gaps, exponents = fit.band_gap, fit.exponent
    median, low, high = (float(getattr(summary["band_gap"], k)) for k in ("median", "low", "high"))
    b_median = float(summary["exponent"].median)
    fig, (a, b) = new_figure(2)
    w = (e > 0.8) & (e < 3.0)
    mid = np.median(sub, axis=0)
    a.plot(e[w], mid[w], **style(1), lw=1.5, label="subtracted spectrum (median)")
    x = np.linspace(0.8, 3.0, 300)
    one = fit_band_gap(e, mid[None], window=window)  # the curve drawn: the fit to the median spectrum
    gap, b_mid = float(one.band_gap[0]), float(one.exponent[0])
    a.plot(x, band_gap_model(x, float(one.amplitude[0]), gap, b_mid), **style(0), lw=2,
           label=rf"fit $A(E-E_{{BG}})^{{{b_mid:.2f}}}$")
    a.axvspan(*window, color="0.92", zorder=0, label="fit window")
    a.axvline(median, color="0.5", lw=1)
    a.set_xlabel("energy loss (eV)")
    a.set_ylabel("intensity (counts)")
    a.legend(fontsize=9)
    finite = np.isfinite(gaps)
    b.hist(gaps[finite], bins=20, color=style(0)["color"], alpha=0.8)
    b.axvline(_GAP, color="0.2", ls=":", lw=2, label=f"true gap {_GAP} eV")
    b.axvspan(low, high, color="0.85", zorder=0, label="68% interval")
    b.set_xlabel("fitted band gap E_BG (eV)")
    b.set_ylabel("replicas (count)")
    b.legend(fontsize=9)
    alt = ("Left: the median ZLP-subtracted spectrum between 0.8 and 3 eV, low and nearly flat below the onset and "
           f"rising after it, with the curve A (E - E_BG) to the power b fitted between {window[0]:.2f} and "
           f"{window[1]:.2f} eV (shaded), b = {b_mid:.2f} and onset at {gap:.2f} eV. Right: a histogram of the band "
           f"gap fitted to each of {n_replicas} replicas, centred at {median:.2f} eV with a 68% interval from "
           f"{low:.2f} to {high:.2f} eV, and a dotted line at the true {_GAP} eV.")
    return LectureFigure(fig, alt, f"E_BG = {median:.2f} (+{high - median:.2f}, -{median - low:.2f}) eV, "
                         f"b = {b_median:.2f}, on this synthetic spectrum (true: {_GAP} eV, b = 1.5): the replicas "
                         "turn the spread of the ZLP models into an uncertainty on the band gap. (The fit is "
                         "ml4em.eels.fit_band_gap.)",
                         data={"gaps": gaps, "median": median, "low": low, "high": high, "exponents": exponents,
                               "exponent": b_median, "window": window})


def spectral_image_maps(*, shape=(48, 48), n_clusters=5, seed=0):
    """A spectral image: thickness by log-ratio, K-means clusters by thickness, and a band gap per cluster.

    The vacuum cluster (thinnest) gives the zero-loss peak's shape; each other cluster's summed spectrum minus that
    shape, scaled to its peak, is fitted for the band-gap onset: ``A (E - E_BG)^b`` with ``b`` free
    (:func:`ml4em.eels.fit_band_gap`), in the window of :func:`ml4em.eels.default_window` for that spectrum.

    Parameters
    ----------
    shape : (int, int)
        Pixels (ny, nx) of the synthetic flake.
    n_clusters : int >= 2
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``labels`` (ny, nx), ``fitted_gap``, ``true_gap`` (mean) and ``true_gap_min`` (smallest) per
        cluster (eV; NaN for vacuum). A cluster's summed spectrum holds onsets at all its gaps; with ``b`` free the
        power law follows the earliest of them, so ``fitted_gap`` lies between the smallest and the mean gap.
    """
    from ..clustering import plot_thickness_clusters
    from ..datasets import make_spectral_image
    from ..eels import estimate_thickness
    from ..eels import fit_band_gap

    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 2:
        raise ValueError(f"n_clusters={n_clusters!r} should be an integer >= 2 (vacuum and at least one more).")
    img = make_spectral_image(shape, geometry="flake", gap_strength=_STRENGTH, seed=seed)
    e = img.energy_loss
    fig, axes = new_figure(4, size=(12.5, 3.3))
    t = estimate_thickness(e, img.counts, zlp_window=(-np.inf, 1.0))
    h = axes[0].imshow(t, origin="lower", extent=img.extent, cmap="viridis")
    fig.colorbar(h, ax=axes[0], shrink=0.8).set_label("t/λ (dimensionless)")
    axes[0].set_title("log-ratio thickness", fontsize=10)
    labels = plot_thickness_clusters(axes[1], img, n_clusters=n_clusters, seed=seed)
    axes[1].set_title(f"K-means, K = {n_clusters}", fontsize=10)
    spectra = img.spectra
    flat = labels.ravel()
    vacuum = spectra[flat == 0].mean(axis=0)
    peak = (e > -0.3) & (e < 0.3)
    fitted, true, true_min = (np.full(n_clusters, np.nan) for _ in range(3))
    gap_map = np.full(labels.shape, np.nan)
    for k in range(1, n_clusters):
        mean = spectra[flat == k].mean(axis=0)
        # scaled vacuum, not ml4em.eels.subtract_zlp: the cluster's ZLP is the vacuum one attenuated by
        # exp(-t/lambda), and subtract_zlp does not rescale a ZLP to a spectrum (it matches one already on its scale)
        sub = mean - vacuum * mean[peak].sum() / vacuum[peak].sum()
        fitted[k] = float(fit_band_gap(e, sub[None], window=_fit_window(e, mean)).band_gap[0])
        true[k] = float(np.nanmean(img.band_gap.ravel()[flat == k]))
        true_min[k] = float(np.nanmin(img.band_gap.ravel()[flat == k]))
        gap_map[labels == k] = fitted[k]
    lo, hi = np.nanmin(img.band_gap), np.nanmax(img.band_gap)
    for ax, m, title in ((axes[2], gap_map, "band gap fitted per cluster"), (axes[3], img.band_gap, "true band gap")):
        h = ax.imshow(m, origin="lower", extent=img.extent, cmap="cividis", vmin=lo - 0.05, vmax=hi + 0.05)
        fig.colorbar(h, ax=ax, shrink=0.8).set_label("E_BG (eV)")
        ax.set_title(title, fontsize=10)
    for ax in axes:
        ax.set_xlabel("x (nm)")
        ax.set_ylabel("y (nm)")
    pairs = ", ".join(f"{f:.2f} vs {m:.2f} and {g:.2f}" for f, m, g in zip(fitted[1:], true_min[1:], true[1:]))
    alt = (f"Four maps of a synthetic {shape[0]} by {shape[1]} pixel spectral image of a terraced triangular flake in "
           "vacuum. First: thickness over mean free path from the log-ratio method, higher on thicker terraces. "
           f"Second: {n_clusters} K-means clusters by thickness, which follow the terraces. Third: the band gap fitted "
           "to each cluster's summed spectrum, one value per cluster. Fourth: the true band-gap map, which varies "
           f"smoothly across the flake. Fitted gap versus the true smallest and mean gap per cluster, in eV: {pairs}.")
    return LectureFigure(fig, alt, "Clustering by thickness pools thousands of noisy spectra into a few with good "
                         "statistics; the price is one value per cluster: the onset of its summed spectrum, set by the "
                         "smallest gaps in it rather than their mean.",
                         data={"labels": labels, "fitted_gap": fitted, "true_gap": true, "true_gap_min": true_min})
