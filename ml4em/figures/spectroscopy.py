"""Lecture figures on low-loss EELS: the zero-loss peak, Monte Carlo replicas, extrapolation, the band gap.

Every spectrum is synthetic (:func:`ml4em.datasets.make_lowloss_spectrum`), so each figure can compare what a
method recovers with the truth it was made from. The ZLP model of the replica method is the course's
:class:`ml4em.eels.ZLPEnsemble` (one small neural network per replica, as in Roest et al. 2021 and tutorial 07),
with a small number of replicas so that the lecture runs in seconds; the replicas of the extrapolation figure come
from :func:`ml4em.eels.make_replicas`. The band-gap fit here, :func:`fit_band_gap`, adds a straight line for the
plasmon's low-energy tail under the onset, which :func:`ml4em.eels.fit_band_gap` (a pure power law) does not
have; on these spectra, with a weak onset on top of that tail, the pure power law does not find the gap.

Used in: lectures/part2_ml_for_em.ipynb (practised in tutorials/07_eels_replicas and 08_band_gap).
"""

import numpy as np

from .. import regression as reg
from ..datasets import make_lowloss_spectrum
from ..plotting import style
from ._base import LectureFigure, new_figure

__all__ = ["lowloss_anatomy", "replica_method", "extrapolation",
           "fit_band_gap", "band_gap", "spectral_image_maps"]

_GAP = 1.6  # eV, the band gap of the synthetic WS2-like specimen (Roest et al. 2021 find 1.6 +0.3 -0.2 eV)
_STRENGTH = 3.0  # a clear onset: 3 times the plasmon's low-energy tail 1 eV above the gap


def lowloss_anatomy(*, seed=0):
    """A low-loss spectrum split into its zero-loss peak and its inelastic part.

    Returns
    -------
    LectureFigure
        ``data["ratio_at_2eV"]``: ZLP counts over inelastic counts at 2 eV.
    """
    s = make_lowloss_spectrum(band_gap=_GAP, gap_strength=_STRENGTH, seed=seed)
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
        ``dE1``, ``dE2``.
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
                               "coverage": coverage, "dE1": float(dE1), "dE2": float(dE2)})


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


def fit_band_gap(energy_loss, intensity, *, window=(1.2, 2.6), exponent=None):
    """Fit I(E) = c E + A (E - E_BG)^b (a straight plasmon tail plus the onset) by least squares.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    intensity : ndarray of shape (n_channels,), counts
        A ZLP-subtracted spectrum.
    window : (float, float), eV
        Fit range around the onset.
    exponent : float, optional
        Fix b (0.5 for a direct, 1.5 for an indirect gap); default: fitted.

    Returns
    -------
    band_gap : float, eV
    exponent : float

    Examples
    --------
    >>> e = np.linspace(0.0, 3.0, 301)
    >>> i = 20.0 * e + 50.0 * np.clip(e - 1.6, 0, None) ** 1.5
    >>> gap, b = fit_band_gap(e, i)
    >>> round(gap, 3), round(b, 2)
    (1.6, 1.5)
    """
    from scipy.optimize import curve_fit

    e = np.asarray(energy_loss, dtype=float)
    y = np.asarray(intensity, dtype=float)
    if e.shape != y.shape or e.ndim != 1:
        raise ValueError(f"energy_loss {e.shape} and intensity {y.shape} should be 1-D arrays of the same length.")
    sel = (e >= window[0]) & (e <= window[1])
    if sel.sum() < 5:
        raise ValueError(f"window={window!r} eV holds {int(sel.sum())} channels; it should hold at least 5.")
    x, yy = e[sel], y[sel]

    def model(x, c, a, gap, b):
        return c * x + a * np.clip(x - gap, 0.0, None) ** b

    b0 = 1.0 if exponent is None else float(exponent)
    a0 = max(yy.max(), 1e-9) / max(window[1] - window[0], 1e-9) ** b0
    gap0 = float(np.mean(window))
    lower, upper = [-np.inf, 0.0, window[0]], [np.inf, np.inf, window[1]]
    if exponent is None:
        p, _ = curve_fit(model, x, yy, p0=[0.0, a0, gap0, b0], bounds=(lower + [0.2], upper + [3.0]))
        return float(p[2]), float(p[3])
    p, _ = curve_fit(lambda x, c, a, gap: model(x, c, a, gap, b0), x, yy, p0=[0.0, a0, gap0], bounds=(lower, upper))
    return float(p[2]), b0


def _fit_onset(e, y, window, b):
    """(c, A, E_BG) of the fit with a fixed exponent b (for drawing the fitted curve)."""
    from scipy.optimize import curve_fit

    sel = (e >= window[0]) & (e <= window[1])
    p, _ = curve_fit(lambda x, c, a, gap: c * x + a * np.clip(x - gap, 0.0, None) ** b, e[sel], y[sel],
                     p0=[0.0, max(y[sel].max(), 1e-9), float(np.mean(window))],
                     bounds=([-np.inf, 0.0, window[0]], [np.inf, np.inf, window[1]]))
    return tuple(float(v) for v in p)


def band_gap(*, n_replicas=100, seed=0, replicas=None):
    """Band-gap fits to every subtracted replica: the fit near the onset and the distribution of E_BG.

    Parameters
    ----------
    n_replicas : int
    seed : int
    replicas : dict, optional
        The ``data`` of a :func:`replica_method` figure, to reuse its subtracted replicas.

    Returns
    -------
    LectureFigure
        ``data``: ``gaps`` (eV, one per replica), ``median``, ``low``, ``high`` (16th and 84th percentiles).
    """
    rm = replicas if replicas is not None else replica_method(n_replicas=n_replicas, seed=seed).data
    e, sub = rm["energy_loss"], rm["subtracted"]
    n_replicas = sub.shape[0]
    gaps = np.array([fit_band_gap(e, s, exponent=1.5)[0] for s in sub])
    low, median, high = np.percentile(gaps, [16, 50, 84])
    fig, (a, b) = new_figure(2)
    w = (e > 0.8) & (e < 3.0)
    mid = np.median(sub, axis=0)
    a.plot(e[w], mid[w], **style(1), lw=1.5, label="subtracted spectrum (median)")
    x = np.linspace(0.8, 3.0, 300)
    c, amp, gap = _fit_onset(e, mid, (1.2, 2.6), 1.5)
    a.plot(x, c * x + amp * np.clip(x - gap, 0, None) ** 1.5, **style(0), lw=2,
           label=r"fit $cE + A(E-E_{BG})^{1.5}$")
    a.axvline(median, color="0.5", lw=1)
    a.set_xlabel("energy loss (eV)")
    a.set_ylabel("intensity (counts)")
    a.legend(fontsize=9)
    b.hist(gaps, bins=20, color=style(0)["color"], alpha=0.8)
    b.axvline(_GAP, color="0.2", ls=":", lw=2, label=f"true gap {_GAP} eV")
    b.axvspan(low, high, color="0.85", zorder=0, label="68% interval")
    b.set_xlabel("fitted band gap E_BG (eV)")
    b.set_ylabel("replicas (count)")
    b.legend(fontsize=9)
    alt = ("Left: the median ZLP-subtracted spectrum between 0.8 and 3 eV, low and nearly flat below the onset and "
           "rising after it, with the fitted curve (a straight line plus A (E - E_BG) to the power 1.5) whose onset is "
           f"at {gap:.2f} eV. Right: a histogram "
           f"of the band gap fitted to each of {n_replicas} replicas, centred at {median:.2f} eV with a 68% interval "
           f"from {low:.2f} to {high:.2f} eV, and a dotted line at the true 1.6 eV.")
    return LectureFigure(fig, alt, f"E_BG = {median:.2f} (+{high - median:.2f}, -{median - low:.2f}) eV on this "
                         "synthetic spectrum: the replicas turn the spread of the ZLP models into an uncertainty on "
                         "the band gap.", data={"gaps": gaps, "median": median, "low": low, "high": high})


def spectral_image_maps(*, shape=(48, 48), n_clusters=5, seed=0):
    """A spectral image: thickness by log-ratio, K-means clusters by thickness, and a band gap per cluster.

    The vacuum cluster (thinnest) gives the zero-loss peak's shape; each other cluster's summed spectrum minus that
    shape, scaled to its peak, is fitted for the band-gap onset (:func:`fit_band_gap` with b = 1.5).

    Parameters
    ----------
    shape : (int, int)
        Pixels (ny, nx) of the synthetic flake.
    n_clusters : int >= 2
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``labels`` (ny, nx), ``fitted_gap`` and ``true_gap`` per cluster (eV; NaN for vacuum).
    """
    from ..clustering import plot_thickness_clusters
    from ..datasets import log_ratio_thickness, make_spectral_image

    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 2:
        raise ValueError(f"n_clusters={n_clusters!r} should be an integer >= 2 (vacuum and at least one more).")
    img = make_spectral_image(shape, geometry="flake", gap_strength=_STRENGTH, seed=seed)
    e = img.energy_loss
    fig, axes = new_figure(4, size=(12.5, 3.3))
    t = log_ratio_thickness(e, img.counts)
    h = axes[0].imshow(t, origin="lower", extent=img.extent, cmap="viridis")
    fig.colorbar(h, ax=axes[0], shrink=0.8).set_label("t/λ (dimensionless)")
    axes[0].set_title("log-ratio thickness", fontsize=10)
    labels = plot_thickness_clusters(axes[1], img, n_clusters=n_clusters, seed=seed)
    axes[1].set_title(f"K-means, K = {n_clusters}", fontsize=10)
    spectra = img.spectra
    flat = labels.ravel()
    vacuum = spectra[flat == 0].mean(axis=0)
    peak = (e > -0.3) & (e < 0.3)
    fitted, true = np.full(n_clusters, np.nan), np.full(n_clusters, np.nan)
    gap_map = np.full(labels.shape, np.nan)
    for k in range(1, n_clusters):
        mean = spectra[flat == k].mean(axis=0)
        sub = mean - vacuum * mean[peak].sum() / vacuum[peak].sum()
        fitted[k] = fit_band_gap(e, sub, exponent=1.5)[0]
        true[k] = float(np.nanmean(img.band_gap.ravel()[flat == k]))
        gap_map[labels == k] = fitted[k]
    lo, hi = np.nanmin(img.band_gap), np.nanmax(img.band_gap)
    for ax, m, title in ((axes[2], gap_map, "band gap fitted per cluster"), (axes[3], img.band_gap, "true band gap")):
        h = ax.imshow(m, origin="lower", extent=img.extent, cmap="cividis", vmin=lo - 0.05, vmax=hi + 0.05)
        fig.colorbar(h, ax=ax, shrink=0.8).set_label("E_BG (eV)")
        ax.set_title(title, fontsize=10)
    for ax in axes:
        ax.set_xlabel("x (nm)")
        ax.set_ylabel("y (nm)")
    pairs = ", ".join(f"{f:.2f} vs {g:.2f}" for f, g in zip(fitted[1:], true[1:]))
    alt = (f"Four maps of a synthetic {shape[0]} by {shape[1]} pixel spectral image of a terraced triangular flake in "
           "vacuum. First: thickness over mean free path from the log-ratio method, higher on thicker terraces. "
           f"Second: {n_clusters} K-means clusters by thickness, which follow the terraces. Third: the band gap fitted "
           "to each cluster's summed spectrum, one value per cluster. Fourth: the true band-gap map, which varies "
           f"smoothly across the flake. Fitted versus true mean gap per cluster, in eV: {pairs}.")
    return LectureFigure(fig, alt, "Clustering by thickness pools thousands of noisy spectra into a few with good "
                         "statistics; the price is one value per cluster, which averages over gradients within it.",
                         data={"labels": labels, "fitted_gap": fitted, "true_gap": true})
