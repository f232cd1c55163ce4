"""ml4em.eels.bandgap: the power-law onset fit, vectorised over replicas and pixels."""

import numpy as np
import pytest

from ml4em.eels.bandgap import band_gap_model, default_window, fit_band_gap


def test_model_values():
    np.testing.assert_allclose(band_gap_model(np.array([1.0, 2.0, 3.0]), 2.0, 1.5, 2.0), [0, 0.5, 4.5])
    out = band_gap_model(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([0.5, 1.5]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(out, [[0.5, 1.5], [0.0, 1.0]])


@pytest.mark.parametrize("gap, b", [(1.6, 1.5), (1.2, 0.5), (2.3, 2.2)])
def test_exact_curves_are_recovered(gap, b):
    e = np.linspace(0, 4, 401)
    fit = fit_band_gap(e, band_gap_model(e, 300.0, gap, b)[None], window=(gap - 0.6, gap + 1.2))
    # noise-free data on 0.01 eV channels: the fit lands on the truth to 1e-3 eV and 1e-2 in b
    assert fit.band_gap[0] == pytest.approx(gap, abs=1e-3)
    assert fit.exponent[0] == pytest.approx(b, abs=1e-2)
    assert fit.amplitude[0] == pytest.approx(300.0, rel=0.02)


def test_noisy_replicas_scatter_around_the_truth():
    rng = np.random.default_rng(0)
    e = np.linspace(0, 4, 401)
    truth = band_gap_model(e, 500.0, 1.6, 1.5)
    noisy = truth + np.sqrt(truth + 25) * rng.standard_normal((200, e.size))
    fit = fit_band_gap(e, noisy, window=(1.0, 2.8))
    s = fit.summary()
    # Poisson-like noise of a few % near the onset: the median gap within 0.02 eV, the band covers the truth
    assert s["band_gap"].median == pytest.approx(1.6, abs=0.02)
    assert s["band_gap"].low < 1.6 < s["band_gap"].high
    assert s["exponent"].low < 1.5 < s["exponent"].high


def test_fits_keep_the_leading_shape():
    e = np.linspace(0, 4, 201)
    curves = np.broadcast_to(band_gap_model(e, 100.0, 1.5, 1.5), (3, 4, e.size))
    fit = fit_band_gap(e, curves, window=(1.0, 3.0))
    assert fit.band_gap.shape == (3, 4) and fit.chi2.shape == (3, 4)
    np.testing.assert_allclose(fit.band_gap, 1.5, atol=1e-3)


def test_default_window():
    assert default_window(1.8, 0.4, 2.7) == (1.1, 3.7)
    with pytest.raises(ValueError, match="above=0 should be a positive energy"):
        default_window(1.8, 0.4, 2.7, above=0)
    with pytest.raises(ValueError, match="need 0 < peak_fwhm < dE1"):
        default_window(0.3, 0.4, 2.7)
    with pytest.raises(ValueError, match="first_minimum=1.0 eV should lie above dE0"):
        default_window(1.8, 0.4, 1.0)


def test_fit_errors():
    e = np.linspace(0, 4, 401)
    y = band_gap_model(e, 1.0, 1.5, 1.5)[None]
    with pytest.raises(ValueError, match="low < high"):
        fit_band_gap(e, y, window=(3.0, 1.0))
    with pytest.raises(ValueError, match="holds 2 channels; at least 5"):
        fit_band_gap(e, y, window=(1.0, 1.01))
    with pytest.raises(ValueError, match="should have the 401 channels"):
        fit_band_gap(e, y[:, :10], window=(1.0, 3.0))
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_band_gap(e, y * np.nan, window=(1.0, 3.0))
    with pytest.raises(ValueError, match="sigma should be > 0"):
        fit_band_gap(e, y, window=(1.0, 3.0), sigma=np.zeros(e.size))
