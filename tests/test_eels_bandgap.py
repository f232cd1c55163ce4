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


def _noisy_onsets(n, *, b_range=(1.0, 2.5), seed=0):
    """``n`` noisy onsets on 0.025 eV channels with known truth (the WS2 axis and window 1.1-3.7 eV)."""
    rng = np.random.default_rng(seed)
    e = np.round(np.arange(-1.0, 5.0, 0.025), 10)
    gap, b, amp = rng.uniform(1.3, 1.9, n), rng.uniform(*b_range, n), rng.uniform(100.0, 500.0, n)
    clean = band_gap_model(e, amp, gap, b)
    return e, clean, clean + np.sqrt(clean + 25.0) * rng.standard_normal(clean.shape), gap, b


def test_many_exact_onsets_are_recovered_at_once():
    e, clean, _, gap, b = _noisy_onsets(300, b_range=(0.5, 2.5))
    fit = fit_band_gap(e, clean, window=(1.1, 3.7))
    # noise-free curves, batched: every onset and exponent to 1e-4 (the fits stop far below that), all converged
    np.testing.assert_allclose(fit.band_gap, gap, atol=1e-4)
    np.testing.assert_allclose(fit.exponent, b, atol=1e-4)
    assert fit.converged.all() and fit.ok.all() and not fit.at_bound.any()


def test_batched_equals_one_curve_at_a_time_and_threads_do_not_matter():
    e, _, noisy, _, _ = _noisy_onsets(40)
    sigma = np.sqrt(np.maximum(np.median(noisy, axis=0), 1.0))  # the default sigma of the batch, given explicitly
    batched = fit_band_gap(e, noisy, window=(1.1, 3.7), sigma=sigma, n_jobs=1)
    looped = [fit_band_gap(e, curve, window=(1.1, 3.7), sigma=sigma, n_jobs=1) for curve in noisy]
    # the same fit per curve; only the float32 grid products differ with the batch size (~1e-7 relative)
    np.testing.assert_allclose(batched.band_gap, [f.band_gap for f in looped], atol=1e-6)
    np.testing.assert_allclose(batched.exponent, [f.exponent for f in looped], atol=1e-5)
    np.testing.assert_allclose(batched.chi2, [f.chi2 for f in looped], rtol=1e-7)
    many = np.tile(noisy, (20, 1))  # 800 curves: split between two threads
    one, two = (fit_band_gap(e, many, window=(1.1, 3.7), sigma=sigma, n_jobs=j) for j in (1, 2))
    # the threads cut the curves into other blocks, so the float32 grid products differ as with the batch size
    np.testing.assert_allclose(one.band_gap, two.band_gap, rtol=0, atol=1e-6)
    np.testing.assert_allclose(one.band_gap, batched.band_gap[np.arange(many.shape[0]) % noisy.shape[0]], rtol=0,
                               atol=1e-6)
    # a per-curve sigma (2-D) with identical rows is the shared sigma
    per_curve = fit_band_gap(e, noisy, window=(1.1, 3.7), sigma=np.broadcast_to(sigma, noisy.shape).copy(), n_jobs=1)
    np.testing.assert_allclose(per_curve.band_gap, batched.band_gap, atol=1e-6)


def test_agrees_with_the_former_fitter():
    from ml4em.eels.bandgap import _fit_band_gap_reference

    e, _, noisy, gap, _ = _noisy_onsets(200, seed=1)
    new = fit_band_gap(e, noisy, window=(1.1, 3.7))
    old = _fit_band_gap_reference(e, noisy, window=(1.1, 3.7))
    diff = np.abs(new.band_gap - old.band_gap)
    # the same chi2, minimised two ways: nearly every curve lands on the same E_BG to 1 meV (a few noisy
    # curves have two minima of similar chi2 and the two searches start in different ones)
    assert np.mean(diff < 1e-3) >= 0.95 and np.median(diff) < 1e-5
    dchi2 = (new.chi2 - old.chi2) * np.sum((e >= 1.1) & (e <= 3.7))
    assert np.mean(dchi2 <= 1e-3) >= 0.9  # where they agree, the new fit's chi2 is as low
    # and as estimators of the truth they are equally good (median error ~0.01 eV for this noise)
    err_new, err_old = np.median(np.abs(new.band_gap - gap)), np.median(np.abs(old.band_gap - gap))
    assert err_new < 0.02 and abs(err_new - err_old) < 0.002


def test_bounds_are_respected_and_reported():
    e = np.round(np.arange(-1.0, 5.0, 0.025), 10)
    steep = band_gap_model(e, 5.0, 1.5, 5.0)  # b = 5 lies outside exponent_range (0.2, 4)
    fit = fit_band_gap(e, np.stack([steep, band_gap_model(e, 300.0, 1.5, 1.5)]), window=(1.1, 3.7))
    assert fit.exponent[0] == 4.0 and fit.at_bound[0] and not fit.ok[0]
    assert fit.exponent[1] == pytest.approx(1.5, abs=1e-4) and fit.ok[1]
    _, _, noisy, _, _ = _noisy_onsets(300, b_range=(0.5, 2.5), seed=2)
    fit = fit_band_gap(e, noisy, window=(1.1, 3.7), exponent_range=(0.8, 2.0))
    lowest = 1.1 - 0.5 * (3.7 - 1.1)  # the lowest E_BG of the grid: half a window below it
    assert np.all((fit.exponent >= 0.8) & (fit.exponent <= 2.0))
    assert np.all((fit.band_gap >= lowest) & (fit.band_gap < 3.7)) and np.all(fit.amplitude > 0)
    on_bound = (fit.exponent == 0.8) | (fit.exponent == 2.0)
    np.testing.assert_array_equal(fit.at_bound, on_bound | (fit.band_gap == lowest))
    assert on_bound.sum() > 10  # true exponents outside the range end on it, and say so


def test_degenerate_curves_are_reported_not_fitted():
    e = np.round(np.arange(-1.0, 5.0, 0.025), 10)
    good = band_gap_model(e, 300.0, 1.6, 1.5)
    curves = np.stack([good, np.zeros_like(e), -good, good])  # no signal; only negative signal
    fit = fit_band_gap(e, curves, window=(1.1, 3.7))
    assert np.all(np.isnan(fit.band_gap[1:3])) and np.all(np.isnan(fit.exponent[1:3]))
    assert not fit.converged[1:3].any() and not fit.ok[1:3].any()
    np.testing.assert_allclose(fit.band_gap[[0, 3]], 1.6, atol=1e-4)  # the others are untouched
    bad = curves.copy()
    bad[2, 100] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values \\(the first in curve 2"):
        fit_band_gap(e, bad, window=(1.1, 3.7))
    with pytest.raises(ValueError, match=r"exponent_range=\(2.0, 1.0\) should be \(low, high\)"):
        fit_band_gap(e, curves, window=(1.1, 3.7), exponent_range=(2.0, 1.0))
    with pytest.raises(ValueError, match="n_grid=2 should be an integer >= 3"):
        fit_band_gap(e, curves, window=(1.1, 3.7), n_grid=2)
    with pytest.raises(ValueError, match="sigma should be > 0"):
        fit_band_gap(e, curves, window=(1.1, 3.7), sigma=np.full(e.size, np.nan))
