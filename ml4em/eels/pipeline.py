"""The replica method from spectra to band gap, in one call: :func:`analyse_spectra`.

The chain, each step defined once in its own module:

1. the spectra are checked (:func:`ml4em.eels.check_spectra`) and their zero-loss peaks aligned to 0 eV
   together, sample and vacuum (:func:`ml4em.eels.align_zlp`);
2. ``dE1`` and ``dE2`` are chosen (:func:`ml4em.eels.choose_regions`) unless given;
3. the ZLP ensemble is trained on the sample spectra (:class:`ml4em.eels.ZLPEnsemble`), after a check that its
   memory is available (:func:`ml4em.eels.memory.check_memory`);
4. every kept replica is matched to a replica of the mean sample spectrum (the mean plus its own standard error
   times standard normal numbers, :func:`ml4em.eels.make_replicas`) and subtracted from it
   (:func:`ml4em.eels.match_zlp`), so that the band carries the noise of the spectrum that is fitted as well as
   that of the ZLP;
5. the band gap is fitted per replica (:func:`ml4em.eels.fit_band_gap`) in the window of
   :func:`choose_window`, and what makes the number untrustworthy is listed
   (:func:`band_gap_warnings`, :func:`resolution_warnings`).

``ml4em zlp`` (:mod:`ml4em.eels.cli`) and the dispersion sweep (``benchmarks/classical.py``,
``tests/test_eels_dispersion.py``) call it (tutorial 08 has students write these steps themselves, with the same
package functions as their fallbacks); spectral images use the same steps per
cluster and per pixel (:mod:`ml4em.eels.image`, :mod:`ml4em.eels.lazy`), with the window of :func:`choose_window`.
"""

from dataclasses import dataclass, field

import numpy as np

from .bandgap import EXPONENT_RANGE, default_window
from .memory import check_memory

__all__ = ["SpectrumAnalysis", "analyse_spectra", "choose_window", "resolution_warnings", "subtraction_warnings",
           "band_gap_warnings", "ZERO_BAND_CHANNELS", "MODEL_BAND_SHARE",
           "zlp_share", "MIN_PEAK_CHANNELS", "MAX_ZLP_SHARE"]

#: Channels the ZLP's FWHM must span for dE1 and the fit window to be chosen automatically: below this, the peak's
#: width, its first minimum and the onset are each placed to within a channel that is a large part of the width.
MIN_PEAK_CHANNELS = 4.0

#: Largest share of the counts that the subtracted ZLP may make up where the onset rises (the first third of the way
#: from the fitted E_BG to the window's end). Above it, the onset is what remains of a difference of two similar
#: numbers, and E_BG depends on how the ZLP model bridges dE1 to dE2 more than its band shows. Set from the
#: dispersion sweep (benchmarks/classical.py: E_BG 1.6 eV, 4 dispersions, seeds 0-2, 32 replicas): at shares of
#: 0.09-0.13 (ZLP FWHM 0.1 eV) every automatic E_BG was within 17 meV of the truth and at 0.20-0.27 (0.25 eV)
#: within 42 meV, with bands that mostly cover it; at 0.48 and above (0.5 eV) every one was 80-210 meV too high,
#: with bands that miss the truth: confident and wrong.
MAX_ZLP_SHARE = 0.4
#: A 68% band of E_BG narrower than this many channels is flagged (:func:`band_gap_warnings`).
ZERO_BAND_CHANNELS = 0.1
#: The band of E_BG from the ZLP replicas alone narrower than this share of the whole band is flagged
#: (:func:`band_gap_warnings`): in benchmarks/classical.py the degenerate ensembles (ZLP FWHM 0.05 eV) gave
#: 0 to 3e-6 eV, against 0.5 meV and more (3% of the band and more) for models pinned by the vacuum tail.
MODEL_BAND_SHARE = 0.005


def choose_window(energy_loss, mean, *, dE1, peak_fwhm, where="the mean spectrum"):
    """The automatic band-gap fit window of a spectrum: :func:`ml4em.eels.default_window` at its first minimum.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        Aligned axis (ZLP at 0 eV).
    mean : ndarray of shape (n_channels,) or (n_spectra, n_channels), counts
        The spectrum (or spectra) whose first local minimum above the peak sets the window's upper end.
    dE1, peak_fwhm : float, eV
    where : str
        Names the spectrum in the error message (a file, a cluster).

    Returns
    -------
    (float, float), eV

    Raises
    ------
    ValueError
        When the spectrum has no first minimum above ``(FWHM + dE1) / 2``; the message says to pass a window.
    """
    from .regions import first_local_minimum

    try:
        return default_window(dE1, peak_fwhm, first_local_minimum(energy_loss, mean))
    except ValueError as err:
        raise ValueError(f"cannot choose the band-gap fit window of {where} automatically ({err}); pass "
                         "window=(low, high) in eV.") from err


def resolution_warnings(energy_loss, peak_fwhm, *, automatic):
    """Warnings when the ZLP is too narrow on this axis for the automatic choices to be trusted.

    Parameters
    ----------
    energy_loss : ndarray, eV
    peak_fwhm : float, eV
    automatic : bool
        Whether dE1 or the window were chosen automatically (a user's choice is not second-guessed).

    Returns
    -------
    list of str
    """
    step = float((energy_loss[-1] - energy_loss[0]) / (len(energy_loss) - 1))
    channels = peak_fwhm / step
    if not automatic or channels >= MIN_PEAK_CHANNELS:
        return []
    return [f"the zero-loss peak is {peak_fwhm:.3g} eV wide, {channels:.1f} channels of {step:.3g} eV: fewer than "
            f"{MIN_PEAK_CHANNELS:g}, so the automatic dE1 and fit window rest on a peak the axis barely resolves and "
            "the band gap may be off by more than its band. Give dE1/dE2 and the window (--dE1, --dE2, --window) "
            "from a look at the spectrum, or record it at a finer dispersion."]


def subtraction_warnings(energy_loss, mean, matched, *, band_gap, window):
    """Warnings when the subtraction, not the data, decides the band gap.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    mean : ndarray of shape (n_channels,), counts
        The spectrum the ZLP was subtracted from.
    matched : ndarray of shape (n_replicas, n_channels), counts
        The matched ZLP of every replica.
    band_gap : float, eV
        The median fitted E_BG.
    window : (float, float), eV

    Returns
    -------
    list of str
        One when the ZLP makes up more than :data:`MAX_ZLP_SHARE` of the counts where the onset rises
        (:func:`zlp_share`). (A fitted E_BG below dE1 is not flagged: with a power-law onset the signal just above
        E_BG is small, and the published WS2 analysis fits 1.6 eV with dE1 = 1.8 eV.)
    """
    out = []
    share = zlp_share(energy_loss, mean, matched, band_gap=band_gap, window=window)
    if np.isfinite(share) and share > MAX_ZLP_SHARE:
        high = band_gap + (window[1] - band_gap) / 3.0
        out.append(f"where the onset rises ({band_gap:.3g}-{high:.3g} eV) the subtracted ZLP is {share:.0%} of the "
                   f"counts (more than {MAX_ZLP_SHARE:.0%}): the ZLP's tail buries the onset, and E_BG depends on how "
                   "the model bridges dE1 to dE2 more than its band shows (on synthetic spectra with such shares it "
                   "was off by up to a few tenths of an eV). A narrower ZLP (monochromator, thinner area) or a "
                   "specimen with a stronger onset gives a number to trust.")
    return out


def zlp_share(energy_loss, mean, matched, *, band_gap, window):
    """The median share of the counts that the matched ZLP makes up where the onset rises, or NaN.

    "Where the onset rises" is the first third of the way from ``band_gap`` to the end of ``window``; NaN when
    ``band_gap`` is not finite or that range holds fewer than 2 channels. Parameters as for
    :func:`subtraction_warnings`.
    """
    if not np.isfinite(band_gap):
        return float("nan")
    e = np.asarray(energy_loss, dtype=float)
    rise = (e >= band_gap) & (e <= band_gap + (window[1] - band_gap) / 3.0)
    if rise.sum() < 2:
        return float("nan")
    return float(np.median(np.median(matched, axis=0)[rise] / np.maximum(np.asarray(mean, dtype=float)[rise], 1e-300)))


@dataclass
class SpectrumAnalysis:
    """The result of :func:`analyse_spectra`: every step from the aligned spectra to the band gap.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        Axis after aligning the ZLPs to 0 eV.
    sample : ndarray of shape (n_sample, n_channels), counts
        Aligned sample spectra.
    vacuum : ndarray of shape (n_vacuum, n_channels) or None, counts
    mean : ndarray of shape (n_channels,), counts
        Mean sample spectrum.
    zlp : ZLPEnsemble
        The trained ensemble (``dE1_``, ``dE2_``, ``chi2_``, ...).
    kept : ndarray of bool, shape (n_replicas,)
        Replicas kept by the chi2 cut and with a band-gap fit (one that leaves no positive signal in the window
        has none; ``warnings`` says how many).
    models : ndarray of shape (n_kept, n_channels), counts
        ZLP of each kept replica.
    measured : ndarray of shape (n_kept, n_channels), counts
        One replica of ``mean`` per model: ``mean`` plus its standard error (the spread of the sample spectra over
        sqrt(n_sample)) times standard normal numbers.
    matched : ndarray of shape (n_kept, n_channels), counts
        Each model matched to its ``measured`` replica.
    inelastic : ndarray of shape (n_kept, n_channels), counts
        ``measured - matched``.
    fit : BandGapFit
        One fit per kept replica.
    peak_fwhm : float, eV
    window : (float, float), eV
    warnings : list of str
        What makes the band gap untrustworthy (empty when nothing does).
    """

    energy_loss: np.ndarray
    sample: np.ndarray
    vacuum: object
    mean: np.ndarray
    zlp: object
    kept: np.ndarray
    models: np.ndarray
    measured: np.ndarray
    matched: np.ndarray
    inelastic: np.ndarray
    fit: object
    peak_fwhm: float
    window: tuple
    warnings: list = field(default_factory=list)

    @property
    def band_gap(self):
        """Median and 68% interval of E_BG over the replicas (:meth:`ml4em.eels.BandGapFit.summary`)."""
        return self.fit.summary()["band_gap"]

    @property
    def zlp_share(self):
        """Share of the counts that the subtracted ZLP makes up where the onset rises (:func:`zlp_share`)."""
        return zlp_share(self.energy_loss, self.mean, self.matched, band_gap=float(self.band_gap.median),
                         window=self.window)


def band_gap_warnings(fit, *, window, scale, exponent_range, model_fit=None):
    """Warnings about a band-gap fit that gives no trustworthy number.

    A 68% band of E_BG narrower than :data:`ZERO_BAND_CHANNELS` (a tenth) of a channel, finer than data
    sampled per channel can place an onset (the replicas did not vary the fit; it prints as +0.000 -0.000
    eV); a median E_BG within one channel of an end of the fit window or outside it (the onset is
    extrapolated, not fitted); a median ``b`` at a limit of its allowed range.

    Where each replica is also subtracted from its own replica of the measured spectrum (:func:`analyse_spectra`),
    that noise widens the band however degenerate the models are: ``model_fit``, the fits with the models alone
    (all subtracted from the mean spectrum), is flagged when its band is less than :data:`MODEL_BAND_SHARE` of the
    whole band.

    Parameters
    ----------
    fit : ml4em.eels.BandGapFit
        One fit per replica.
    window : (float, float), eV
    scale : float, eV per channel
    exponent_range : (float, float)
        The allowed range of ``b`` that the fit used.
    model_fit : ml4em.eels.BandGapFit, optional
        The fits with the ZLP replicas alone.

    Returns
    -------
    list of str
    """
    s = fit.summary()
    gap, b = s["band_gap"], s["exponent"]
    out = []
    if not (np.isfinite(gap.median) and np.isfinite(b.median)):
        return [f"the band-gap fit failed (E_BG = {gap.median}, b = {b.median}); check the spectra and the fit "
                "window (window; --window of ml4em zlp)."]
    width = float(gap.high - gap.low)
    if width < ZERO_BAND_CHANNELS * scale:
        out.append(f"the 68% band of E_BG is {width:.2g} eV wide (E_BG = {gap.median:.4g} eV), less than "
                   f"{ZERO_BAND_CHANNELS:g} channel ({scale:.3g} eV/channel): the fits of the {gap.n_replicas} "
                   "replicas hardly differ, so the band says nothing about the uncertainty. The fit is probably "
                   "stuck at a limit or the subtracted spectrum is degenerate; check the inputs and the fit window.")
    elif model_fit is not None:
        own = model_fit.summary()["band_gap"]
        alone = float(own.high - own.low)
        if alone < MODEL_BAND_SHARE * width:
            out.append(f"the ZLP replicas alone give a 68% band of E_BG {alone:.2g} eV wide, "
                       f"{alone / width:.1%} of the band (E_BG = {gap.median:.4g} eV, band {width:.2g} eV): the band "
                       "is the spectrum's noise only, and the ZLP's uncertainty is missing from it. Every replica "
                       "gives the same ZLP where the onset rises, which happens when the peak is so narrow against "
                       "the automatic dE1 and dE2 that the model has nothing to learn there; give dE1, dE2 and the "
                       "window from a look at the spectrum.")
    low, high = window
    if not low + scale < gap.median < high - scale:
        out.append(f"E_BG = {gap.median:.4g} eV lies at or beyond an end of the fit window {low:.4g}-{high:.4g} eV: "
                   "the onset is not inside the window, and the number is an extrapolation. Move or widen the "
                   "window so that the rise above the gap lies inside it.")
    if np.isclose(b.median, exponent_range[0]) or np.isclose(b.median, exponent_range[1]):
        out.append(f"the exponent b = {b.median:.3g} sits at a limit of its allowed range {exponent_range[0]:g}-"
                   f"{exponent_range[1]:g}: the data in the window do not follow a power-law onset. Check the fit window.")
    return out


def _measurement_seed(seed):
    """The stream of the measured spectrum's replicas: the ensemble's generator where one is given (the training
    has advanced it), else a child of the seed, so that these draws never repeat the training replicas' draws."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])


def analyse_spectra(energy_loss, sample, vacuum=None, *, n_replicas=100, dE1=None, dE2=None, window=None,
                    max_chi2=None, uncertainty="spread", progress=False, seed=None, **ensemble):
    """Train the ZLP ensemble on ``sample``, subtract it from replicas of the mean spectrum and fit the band gap
    per replica.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        Uniform, increasing axis with the ZLP inside it.
    sample : ndarray of shape (n_sample, n_channels), counts
        At least 2 spectra of the specimen under the same conditions.
    vacuum : ndarray of shape (n_vacuum, n_channels), counts, optional
        Spectra in vacuum on the same axis (they set dE2).
    n_replicas : int, default 100
    dE1, dE2 : float, eV, optional
        Default: :func:`ml4em.eels.choose_regions`.
    window : (float, float), eV, optional
        Band-gap fit window; default :func:`choose_window` on the sample spectra.
    max_chi2 : float, optional
        Keep the replicas with chi2 per point at most this (all by default).
    uncertainty : {"spread", "mean"}
        Meaning of the per-channel sigma of the replicas (:mod:`ml4em.eels.replicas`).
    progress : bool
    seed : int, numpy.random.Generator or None
    **ensemble
        Passed to :class:`ml4em.eels.ZLPEnsemble` (``max_iter``, ``hidden``, ``n_jobs``, ...).

    Returns
    -------
    SpectrumAnalysis

    Raises
    ------
    ValueError
        For spectra on another axis, fewer than 2 sample spectra, regions outside the axis, no automatic window,
        or an ``n_replicas`` whose memory is not available; all before the training.
    """
    from .axis import align_zlp, check_spectra, fwhm, validated_input
    from .bandgap import BandGapFit, fit_band_gap
    from .model import MLPShape
    from .regions import choose_regions
    from .replicas import make_replicas
    from .subtract import match_zlp
    from .zlp import ZLPEnsemble

    e, s = check_spectra(energy_loss, sample, name="sample")
    s = np.atleast_2d(s)
    if s.ndim != 2 or s.shape[0] < 2:
        raise ValueError(f"sample holds {1 if s.ndim == 1 else s.shape[0]} spectrum; at least 2 spectra taken under "
                         "the same conditions are needed to estimate the uncertainty from their spread.")
    v = None
    if vacuum is not None:
        _, v = check_spectra(e, vacuum, name="vacuum")
        v = np.atleast_2d(v)
    with validated_input():  # checked above: the steps below only convert
        both = s if v is None else np.concatenate([s, v])
        e0, aligned = align_zlp(e, both)
        s, v = aligned[:s.shape[0]], (None if v is None else aligned[s.shape[0]:])
        for name, value in (("dE1", dE1), ("dE2", dE2)):
            if value is not None and not value < e0[-1]:
                raise ValueError(f"{name}={value} eV lies beyond the end of the energy axis ({e0[-1]:.4g} eV after "
                                 "aligning the zero-loss peak to 0 eV); choose a smaller value.")
        automatic = dE1 is None or window is None
        dE1, dE2 = choose_regions(e0, s, v, dE1=dE1, dE2=dE2)
        zlp = ZLPEnsemble(n_replicas, dE1=dE1, dE2=dE2, uncertainty=uncertainty, progress=progress, seed=seed,
                          **ensemble)
        check_memory(n_replicas, n_channels=e0.size, n_train=int(np.sum(e0 < dE1)) + zlp.n_pseudo,
                     shape=MLPShape(1, zlp.hidden))
        mean = s.mean(axis=0)
        peak_fwhm = float(fwhm(e0, mean))
        if window is None:
            window = choose_window(e0, s, dE1=dE1, peak_fwhm=peak_fwhm, where="the sample spectra")
        window = tuple(float(w) for w in window)
        zlp.fit(e0, s, v)
        keep = zlp.selected(max_chi2)
        models = zlp.predict(e0, replicas=keep)
        measured = make_replicas(mean, s.std(axis=0, ddof=1) / np.sqrt(s.shape[0]), models.shape[0],
                                 seed=_measurement_seed(seed))
        matched = match_zlp(e0, measured, models, dE1=zlp.dE1_, dE2=zlp.dE2_, peak_fwhm=peak_fwhm)
        inelastic = measured - matched
        fit = fit_band_gap(e0, inelastic, window=window, exponent_range=EXPONENT_RANGE)
        doubts = resolution_warnings(e0, peak_fwhm, automatic=automatic)
        failed = ~np.isfinite(fit.band_gap)
        if failed.any() and not failed.all():
            # a replica whose ZLP claims all of the counts in the window leaves no onset to fit: E_BG and its band
            # are over the others, and the result says so
            doubts.append(f"{int(failed.sum())} of {failed.size} replicas leave no positive signal in the fit window "
                          f"{window[0]:.4g}-{window[1]:.4g} eV (their ZLP exceeds the spectrum there) and give no "
                          f"band gap; E_BG and its band are over the other {int((~failed).sum())}. The model "
                          "over-estimates the ZLP where the onset rises: check dE1 and dE2.")
            fit = BandGapFit(**{k: (v[~failed] if isinstance(v, np.ndarray) else v) for k, v in vars(fit).items()})
            models, measured, matched, inelastic = (x[~failed] for x in (models, measured, matched, inelastic))
            keep = keep.copy()
            keep[np.flatnonzero(keep)[failed]] = False
        doubts += subtraction_warnings(e0, mean, matched, band_gap=float(fit.summary()["band_gap"].median),
                                       window=window)
        alone = mean - match_zlp(e0, mean, models, dE1=zlp.dE1_, dE2=zlp.dE2_, peak_fwhm=peak_fwhm)
        model_fit = fit_band_gap(e0, alone, window=window, exponent_range=EXPONENT_RANGE)
        doubts += band_gap_warnings(fit, window=window, scale=float(e0[1] - e0[0]), exponent_range=EXPONENT_RANGE,
                                    model_fit=model_fit)
        return SpectrumAnalysis(energy_loss=e0, sample=s, vacuum=v, mean=mean, zlp=zlp, kept=keep, models=models,
                                measured=measured, matched=matched, inelastic=inelastic, fit=fit, peak_fwhm=peak_fwhm,
                                window=window, warnings=doubts)
