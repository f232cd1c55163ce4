"""ml4em.eels.axis: energy axes, ZLP centre and alignment, FWHM, integrals, t/lambda, with known answers."""

import numpy as np
import pytest

from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels import (align_zlp, check_spectra, estimate_thickness, fwhm, integrated_intensity, zero_loss_intensity,
                        zlp_centre)


def gauss(e, centre=0.0, width=0.45, height=1.0):
    sigma = width / (2 * np.sqrt(2 * np.log(2)))
    return height * np.exp(-0.5 * ((e - centre) / sigma) ** 2)


def test_energy_axis_values():
    e = energy_axis(-4.0, 0.025, 1981)
    assert e.shape == (1981,)
    np.testing.assert_allclose(e[[0, 1, -1]], [-4.0, -3.975, -4.0 + 0.025 * 1980])


@pytest.mark.parametrize("kwargs, match", [
    (dict(offset=0.0, scale=0.0, size=10), "scale=0.0 should be a positive dispersion"),
    (dict(offset=0.0, scale=np.inf, size=10), "scale=inf should be a positive dispersion"),
    (dict(offset=0.0, scale=0.1, size=1), "size=1 should be an integer >= 2"),
    (dict(offset=np.nan, scale=0.1, size=10), "offset=nan should be a finite energy"),
])
def test_energy_axis_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        energy_axis(**kwargs)


def test_check_spectra_errors():
    with pytest.raises(ValueError, match="should increase"):
        check_spectra([0.0, 0.2, 0.1], [1, 2, 3])
    with pytest.raises(ValueError, match="energy channels on its last axis, 3 of them"):
        check_spectra([0.0, 0.1, 0.2], [1, 2])
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        check_spectra([0.0, 0.1, 0.2], [1, np.nan, 2])
    with pytest.raises(ValueError, match="at least 3 channels"):
        check_spectra([0.0, 0.1], [1, 2])
    with pytest.raises(ValueError, match="NaN or infinite values; it should be the channel energies"):
        check_spectra([0.0, np.nan, 0.2], [1, 2, 3])


@pytest.mark.parametrize("scale, width", [(0.025, 0.45), (0.005, 0.08)])
def test_zlp_centre_and_fwhm_at_two_dispersions(scale, width):
    e = np.arange(-400, 1600) * scale
    shift = 0.3 * scale  # a sub-channel offset
    c = gauss(e, shift, width, 1e6)
    # a parabola through three points of a Gaussian is accurate to a few % of a channel
    assert abs(zlp_centre(e, c) - shift) < 0.05 * scale
    # linear interpolation of the half-maximum crossings: error below 1% of the width at >= 5 channels/FWHM
    assert abs(fwhm(e, c) - width) < 0.01 * width


def test_fwhm_of_a_stack_and_error_when_peak_is_cut():
    e = np.linspace(-2, 2, 801)
    stack = np.stack([gauss(e, 0, 0.3), gauss(e, 0, 0.6)])
    np.testing.assert_allclose(fwhm(e, stack), [0.3, 0.6], rtol=1e-3)  # 0.005 eV channels: sub-percent
    with pytest.raises(ValueError, match="does not fall to half its maximum"):
        fwhm(e, gauss(e, 1.95, 0.6))


def test_align_zlp_moves_every_peak_to_zero():
    e = np.arange(-200, 600) * 0.01
    shifts = [0.037, -0.052, 0.0, 0.11]
    spectra = np.stack([gauss(e, s, 0.3, 1e5) for s in shifts])
    axis, aligned = align_zlp(e, spectra)
    np.testing.assert_allclose(np.diff(axis), 0.01, rtol=1e-9)  # the dispersion is kept
    # linear interpolation of a 30-channel-wide peak: centres within 1% of a channel of 0
    np.testing.assert_allclose(zlp_centre(axis, aligned), 0.0, atol=0.01 * 0.01)
    assert aligned.shape == spectra.shape


def test_integrated_intensity_window():
    e = np.arange(5.0)
    c = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert integrated_intensity(e, c) == 15.0
    assert integrated_intensity(e, c, window=(1.0, 3.0)) == 9.0
    with pytest.raises(ValueError, match="low < high"):
        integrated_intensity(e, c, window=(3.0, 1.0))
    with pytest.raises(ValueError, match="holds no channel"):
        integrated_intensity(e, c, window=(10.0, 11.0))


def test_estimate_thickness_log_ratio():
    e = np.linspace(-2, 30, 3201)
    zlp = gauss(e, 0, 0.4, 1e5)
    for t in (0.2, 0.8):
        # a broad loss feature holding (e^t - 1) times the ZLP counts: ln(total/zlp) = t exactly
        loss = np.exp(-0.5 * ((e - 15) / 3) ** 2)
        loss *= zlp.sum() * (np.exp(t) - 1) / loss.sum()
        assert estimate_thickness(e, zlp + loss, zlp=zlp) == pytest.approx(t, rel=1e-12)
        # the valley method finds the ZLP counts to ~0.1% here (the loss is ~0 below 5 eV)
        assert estimate_thickness(e, zlp + loss) == pytest.approx(t, abs=5e-3)


def test_zero_loss_intensity_stack():
    e = np.linspace(-2, 20, 2201)
    zlp = gauss(e, 0, 0.4, 1e4)
    plasmon = 100 * np.exp(-0.5 * ((e - 10) / 2) ** 2)
    both = np.stack([zlp + plasmon, 2 * (zlp + plasmon)])
    np.testing.assert_allclose(zero_loss_intensity(e, both), [zlp.sum(), 2 * zlp.sum()], rtol=1e-3)


def test_estimate_thickness_rejects_background_subtracted_data():
    e = np.linspace(-1, 5, 601)
    with pytest.raises(ValueError, match="estimate_thickness needs positive total and zero-loss intensities"):
        estimate_thickness(e, -gauss(e), zlp=-gauss(e))


def test_entry_points_check_each_input_once():
    from unittest import mock

    import ml4em.eels.axis as axis_module
    from ml4em.eels import ZLPEnsemble

    e = energy_axis(-2.0, 0.02, 601)
    sample = make_lowloss_spectrum(e, n_spectra=3, seed=0)
    vacuum = make_lowloss_spectrum(e, n_spectra=2, t_over_lambda=1e-6, seed=1)
    with mock.patch.object(axis_module, "_as_axis", side_effect=axis_module._as_axis) as checks:
        ZLPEnsemble(4, max_iter=5, n_jobs=1, progress=False, seed=0).fit(e, sample.counts, vacuum.counts)
    assert checks.call_count == 2  # the sample and the vacuum spectra; the steps inside only convert
    # the steps, called on their own, still check
    with pytest.raises(ValueError, match="NaN"):
        fwhm(e, np.where(e > 1.0, np.nan, sample.counts[0]))


def test_validated_input_skips_the_checks_only_inside_its_block():
    from ml4em.eels.axis import validated_input

    bad = np.array([1.0, np.nan, 3.0])
    with validated_input():
        e, c = check_spectra([0.0, 0.1, 0.2], bad)
        assert c.dtype == float and np.isnan(c[1])
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        check_spectra([0.0, 0.1, 0.2], bad)
    with pytest.raises(RuntimeError), validated_input():  # reset after an error too
        raise RuntimeError
    with pytest.raises(ValueError, match="NaN"):
        check_spectra([0.0, 0.1, 0.2], bad)
