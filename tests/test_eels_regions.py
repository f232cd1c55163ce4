"""ml4em.eels.regions: the automatic dE1/dE2 rules, at two dispersions and on the real WS2 spectra."""

import numpy as np
import pytest

from ml4em.datasets import energy_axis, load_ws2_lowloss, make_lowloss_spectrum
from ml4em.eels import (choose_dE1, choose_dE2, choose_regions, first_local_minimum, fwhm, noise_level,
                        smooth_spectrum)


def test_smooth_spectrum_keeps_the_area_and_rejects_bad_width():
    e = np.linspace(-1, 1, 401)
    spike = np.zeros(e.size)
    spike[200] = 1.0
    out = smooth_spectrum(e, spike, 0.05)
    assert out.sum() == pytest.approx(1.0, rel=1e-9)  # a normalised kernel keeps the counts
    assert out.max() < 0.1
    with pytest.raises(ValueError, match="width=0 should be a positive smoothing width"):
        smooth_spectrum(e, spike, 0)


def test_first_local_minimum_known_position():
    # A Gaussian peak plus a broad Gaussian hump. Smoothing with a Gaussian kernel of width k keeps both
    # Gaussian (widths add in quadrature, areas kept), so the minimum of the smoothed spectrum is known
    # analytically; the rule smooths over k = FWHM / 2.
    e = np.linspace(-2, 10, 2401)

    def spectrum(x, k=0.0):
        s1, s2 = np.hypot(0.2, k), np.hypot(1.5, k)
        return 1e4 * 0.2 / s1 * np.exp(-0.5 * (x / s1) ** 2) + 50 * 1.5 / s2 * np.exp(-0.5 * ((x - 5) / s2) ** 2)

    k = fwhm(e, spectrum(e)) / 2
    fine = np.linspace(0.5, 3, 25001)
    truth = fine[np.argmin(spectrum(fine, k))]
    # the derivative is sampled on 0.005 eV channels: the zero crossing is found to one channel
    assert first_local_minimum(e, spectrum(e)) == pytest.approx(truth, abs=0.006)


def test_first_local_minimum_error_when_spectrum_only_falls():
    e = np.linspace(-1, 5, 601)
    with pytest.raises(ValueError, match="no local minimum above the zero-loss peak"):
        first_local_minimum(e, np.exp(-0.5 * (e / 0.2) ** 2) + 0.01 / (1 + e ** 2))


def test_noise_level_from_spread_and_from_one_spectrum():
    rng = np.random.default_rng(0)
    e = np.linspace(-1, 20, 2101)
    clean = 1e4 * np.exp(-0.5 * (e / 0.2) ** 2) + 100
    many = clean + 5.0 * rng.standard_normal((10, e.size))
    # spread of 10 spectra: the estimate of sigma = 5 is good to ~25% per channel, better after smoothing
    assert np.median(noise_level(e, many)[e > 3]) == pytest.approx(5.0, rel=0.1)
    assert np.median(noise_level(e, many[:1])[e > 3]) == pytest.approx(5.0, rel=0.15)


@pytest.mark.parametrize("scale, width", [(0.025, 0.45), (0.005, 0.08)])
def test_regions_scale_with_the_peak_not_the_dispersion(scale, width):
    e = energy_axis(-0.5 if scale < 0.01 else -4.0, scale, 2000)
    e = e - e[np.argmin(np.abs(e))]
    s = make_lowloss_spectrum(e, n_spectra=5, zlp_fwhm=width, band_gap=1.2, seed=0)
    v = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=width, t_over_lambda=1e-6, seed=1)
    dE1, dE2 = choose_regions(e, s.counts, v.counts)
    # dE1 is 2/3 of the first minimum (and at least one FWHM); dE2 lies where the vacuum ZLP meets its noise
    assert dE1 == pytest.approx(2 / 3 * first_local_minimum(e, s.counts), rel=1e-9) or dE1 == pytest.approx(width,
                                                                                                               rel=0.05)
    assert width <= dE1 < dE2 <= e[-1]
    assert dE1 < 10 * width  # a narrow peak gives a short training region, whatever the dispersion


def test_ws2_regions(real_data_dir):
    d = load_ws2_lowloss()
    dE1, dE2 = choose_regions(d.energy_loss, d.sample, d.vacuum)
    # the rule reproduces the papers' dE1 = 1.8 eV to within two channels
    assert dE1 == pytest.approx(1.8, abs=0.05)
    # the vacuum ZLP meets 2 sigma of the noise near 10 eV (the papers chose 12 eV by eye)
    assert 8.0 < dE2 < 13.0


def test_choose_dE2_without_vacuum_warns():
    e = np.linspace(-2, 60, 6201)
    s = 1e5 / (1 + (e / 0.2) ** 2) + 50 * np.exp(-0.5 * ((e - 15) / 5) ** 2)
    with pytest.warns(UserWarning, match="no vacuum spectra: dE2 set to 3 times"):
        dE2 = choose_dE2(e, sample=s[None])
    assert dE2 == pytest.approx(3 * first_local_minimum(e, s), rel=1e-9)
    with pytest.warns(UserWarning):  # on a short axis dE2 stops 5% of the span before its end
        assert choose_dE2(e[e < 20], sample=s[None, e < 20]) == pytest.approx(20 - 0.05 * 22, abs=0.02)


def test_region_errors():
    e = np.linspace(-2, 20, 2201)
    s = (1e5 * np.exp(-0.5 * (e / 0.2) ** 2) + 50 * np.exp(-0.5 * ((e - 8) / 3) ** 2))[None]
    with pytest.raises(ValueError, match="dE1=-1.0 eV lies outside"):
        choose_regions(e, s, dE1=-1.0, dE2=5.0)
    with pytest.raises(ValueError, match="dE2=1.0 eV should be larger than dE1=2.0"):
        choose_regions(e, s, dE1=2.0, dE2=1.0)
    with pytest.raises(ValueError, match="dE2=20.0 eV leaves no channel above it"):
        choose_regions(e, s, dE1=2.0, dE2=20.0)
    with pytest.raises(ValueError, match="fraction=1.5 should be in"):
        choose_dE1(e, s, fraction=1.5)
    with pytest.raises(ValueError, match="needs vacuum spectra"):
        choose_dE2(e)
    with pytest.raises(ValueError, match="n_sigma=0 should be > 0"):
        choose_dE2(e, s, n_sigma=0)
