"""The replica method across instruments: a sweep of dispersions and ZLP widths with a known band gap.

Synthetic spectra (the specimen of tests/test_eels_known_truth.py: E_BG = 1.6 eV, b = 1.5, a strong onset) on
axes of 0.005, 0.01, 0.025 and 0.05 eV per channel, with ZLP FWHMs of 0.05, 0.1, 0.25 and 0.5 eV, analysed by
:func:`ml4em.eels.pipeline.analyse_spectra` with every choice automatic (dE1, dE2, window). In every case the
band gap is within 50 meV of the truth, or the analysis says why it is not to be trusted; where the peak is well
resolved and narrow enough to leave the onset visible, it is within 50 meV and says nothing. The benchmark
(benchmarks/classical.py) prints the same sweep with the classical subtractions beside it.
"""

import numpy as np
import pytest

from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels.pipeline import (MAX_ZLP_SHARE, _measurement_seed, analyse_spectra, subtraction_warnings,
                                 zlp_share)

BAND_GAP = 1.6
SPECIMEN = dict(zlp_tail=0.005, band_gap=BAND_GAP, gap_strength=1000.0)
SCALES = (0.005, 0.01, 0.025, 0.05)  # eV per channel
FWHMS = (0.05, 0.1, 0.25, 0.5)  # eV
TOLERANCE = 0.05  # eV
# well resolved (FWHM of 4 channels or more) and narrow enough that the ZLP is a small part of the counts where the
# onset rises
TRUSTED = {(s, f) for s in SCALES for f in (0.1, 0.25) if f / s > 4}


def _analysis(scale, peak_fwhm, seed, **options):
    e = energy_axis(-2.0, scale, int(round(22.0 / scale)) + 1)
    sample = make_lowloss_spectrum(e, n_spectra=5, zlp_fwhm=peak_fwhm, seed=seed, **SPECIMEN)
    vacuum = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=peak_fwhm, zlp_tail=SPECIMEN["zlp_tail"],
                                   t_over_lambda=1e-6, seed=seed + 1000)
    return analyse_spectra(e, sample.counts, vacuum.counts, n_replicas=32, n_jobs=1, seed=seed, **options)


@pytest.mark.parametrize("scale", SCALES)
def test_band_gap_within_50_meV_or_flagged(scale):
    seed = 3  # the rules were set on seeds 0-2
    for peak_fwhm in FWHMS:
        res = _analysis(scale, peak_fwhm, seed)
        gap = res.band_gap
        error = float(gap.median) - BAND_GAP
        case = f"{scale} eV/channel, FWHM {peak_fwhm} eV: E_BG {gap.median:.3f} [{gap.low:.3f}, {gap.high:.3f}] eV"
        if (scale, peak_fwhm) in TRUSTED:
            assert res.warnings == [], (case, res.warnings)
            assert abs(error) <= TOLERANCE, case
            assert gap.low <= gap.median <= gap.high
        else:
            # a confident wrong number is the failure: off by more than the tolerance and no warning
            assert abs(error) <= TOLERANCE or res.warnings, case


@pytest.mark.parametrize("scale", (0.005, 0.025))
def test_vacuum_tail_measures_the_zlp_where_the_network_bridged(scale):
    """With vacuum_tail=True the model between dE1 and dE2 is the scaled vacuum (here of the sample's shape): the
    wide peak that the plain analysis gets wrong by about 100 meV (and flags) comes within 20 meV, and so does the
    narrower one."""
    seed = 3
    plain = _analysis(scale, 0.5, seed)
    assert float(plain.band_gap.median) - BAND_GAP > 0.05 and plain.warnings  # the bridge over-estimates the ZLP
    for peak_fwhm in (0.25, 0.5):
        res = _analysis(scale, peak_fwhm, seed, vacuum_tail=True)
        assert res.zlp.training_set_.tail.sum() > 20
        assert abs(float(res.band_gap.median) - BAND_GAP) <= 0.02, (scale, peak_fwhm, res.band_gap)


def test_band_carries_the_noise_of_the_fitted_spectrum():
    """Each replica's ZLP is subtracted from its own replica of the mean spectrum, drawn from the mean's standard
    error (the spread of the 5 spectra over sqrt(5)), from a stream that is not the training replicas'."""
    res = _analysis(0.025, 0.25, 3, vacuum_tail=True)
    n_models, n_sample = res.models.shape[0], res.sample.shape[0]
    error = res.sample.std(axis=0, ddof=1) / np.sqrt(n_sample)
    counted = error > 0
    ratio = res.measured.std(axis=0, ddof=1)[counted] / error[counted]
    # 32 draws per channel: the ratio scatters by 1/sqrt(2 * 31) = 13% per channel; its median by far less
    assert res.measured.shape == res.models.shape
    assert abs(np.median(ratio) - 1.0) < 0.05, np.median(ratio)
    z = (res.measured - res.mean)[:, counted] / error[counted]
    assert abs(z.mean()) < 3.0 / np.sqrt(z.size)  # centred on the mean spectrum
    np.testing.assert_allclose(res.inelastic, res.measured - res.matched, rtol=0, atol=1e-9 * res.mean.max())
    assert n_models == 32
    again = _analysis(0.025, 0.25, 3, vacuum_tail=True)
    np.testing.assert_array_equal(again.measured, res.measured)  # seeded


def test_replicas_without_a_fit_are_dropped_and_reported():
    """A wide peak on a coarse axis: one replica's ZLP exceeds its spectrum across the window (seed 1), so it has
    no onset to fit. The band is over the others, every array keeps the same replicas, and a warning says so."""
    res = _analysis(0.05, 0.5, 1)
    n = int(res.kept.sum())
    assert n == 31 and res.fit.band_gap.shape == (n,) and np.isfinite(res.fit.band_gap).all()
    assert res.models.shape[0] == res.measured.shape[0] == res.matched.shape[0] == res.inelastic.shape[0] == n
    assert np.isfinite(float(res.band_gap.median)) and res.band_gap.n_replicas == n
    assert any(w.startswith("1 of 32 replicas leave no positive signal in the fit window") for w in res.warnings)


def test_measurement_stream_is_not_the_training_stream():
    for seed in (0, 7):
        own = _measurement_seed(seed).standard_normal(64)
        assert not np.allclose(own, np.random.default_rng(seed).standard_normal(64))
        np.testing.assert_array_equal(own, _measurement_seed(seed).standard_normal(64))
    rng = np.random.default_rng(1)
    assert _measurement_seed(rng) is rng


def test_subtraction_warning_at_its_threshold():
    e = np.linspace(-1.0, 4.0, 501)
    mean = 1000.0 * np.clip(e - 1.6, 0.0, None) ** 1.5 + 10.0
    window = (0.6, 2.6)
    small = np.full((3, e.size), 1.0)  # a ZLP of 1 count: a few % of the counts where the onset rises
    assert subtraction_warnings(e, mean, small, band_gap=1.6, window=window) == []
    half = np.tile(0.5 * mean, (3, 1))
    (got,) = subtraction_warnings(e, mean, half, band_gap=1.6, window=window)
    assert "the subtracted ZLP is 50% of the counts" in got and "1.6-1.93 eV" in got, got
    # just below and just above the threshold
    for share, warned in ((MAX_ZLP_SHARE * 0.99, False), (MAX_ZLP_SHARE * 1.01, True)):
        matched = np.tile(share * mean, (2, 1))
        assert zlp_share(e, mean, matched, band_gap=1.6, window=window) == pytest.approx(share, rel=1e-9)
        assert bool(subtraction_warnings(e, mean, matched, band_gap=1.6, window=window)) is warned
    # only the first third above the onset counts: a ZLP far above it changes nothing
    late = np.where(e > 1.6 + 1.0 / 3.0 + 0.02, mean, 0.0)[None, :]
    assert subtraction_warnings(e, mean, late, band_gap=1.6, window=window) == []
    assert np.isnan(zlp_share(e, mean, small, band_gap=np.nan, window=window))
    assert subtraction_warnings(e, mean, small, band_gap=np.nan, window=window) == []
