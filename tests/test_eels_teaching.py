"""ml4em.eels.teaching: the exercises' helpers and the course's versions of tutorial 07's and 08's exercises."""

import builtins

import numpy as np
import pytest

from ml4em import eels
from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels import teaching


@pytest.fixture(scope="module")
def specimen():
    """Tutorial 07's synthetic specimen: spectra, true ZLP, and the network's training points."""
    e = energy_axis(-2.0, 0.025, 1281)
    sample = make_lowloss_spectrum(e, n_spectra=5, seed=7, zlp_fwhm=0.2, zlp_tail=0.005, band_gap=1.6,
                                   gap_strength=1000.0)
    vacuum = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=0.2, zlp_tail=0.005, t_over_lambda=1e-6, seed=8)
    dE1, dE2 = eels.choose_regions(e, sample.counts, vacuum.counts)
    ts = eels.make_training_set(e, sample.counts, dE1=dE1, dE2=dE2, uncertainty="mean")
    return e, sample, ts


def test_spline_fits_the_data_below_dE1(specimen):
    e, sample, ts = specimen
    data = ~ts.pseudo
    fit = teaching.spline_zlp_fitter(ts, knot_spacing=eels.fwhm(e, sample.counts.mean(axis=0)) / 3)
    model = fit(ts.energy_loss[data], ts.intensity[data], ts.sigma[data])
    chi2 = eels.chi2_per_point(model(ts.energy_loss[data]), ts.intensity[data], ts.sigma[data])
    assert chi2 < 1.5  # fitted to the central data itself: about one sigma per point
    below = (e > -1.0) & (e < ts.dE1)
    assert np.max(np.abs(np.log(model(e[below]) / sample.zlp[below]))) < 0.2  # within 20% of the true ZLP
    assert np.all(np.isfinite(model(np.linspace(-5.0, 40.0, 50))))  # held at its end values outside the knots


def test_replica_band_is_fast_seeded_and_narrow_where_the_data_are(specimen):
    e, sample, ts = specimen
    data = ~ts.pseudo
    fit = teaching.spline_zlp_fitter(ts, knot_spacing=eels.fwhm(e, sample.counts.mean(axis=0)) / 3)
    args = (ts.energy_loss[data], ts.intensity[data], ts.sigma[data], e, 100, fit, 3.0)
    median, low, high, keep = teaching.replica_band(*args, np.random.default_rng(1))
    again = teaching.replica_band(*args, np.random.default_rng(1))
    other = teaching.replica_band(*args, np.random.default_rng(2))
    assert all(np.array_equal(a, b) for a, b in zip((median, low, high, keep), again))  # same seed, same band
    assert not np.allclose(other[1], low)  # another seed, other replicas
    assert keep.dtype == bool and keep.shape == (100,) and keep.sum() >= 2
    peak = np.abs(e) < 0.3
    gap = (e > ts.dE1 + 0.3) & (e < ts.dE2 - 0.3)
    relative = (high - low) / median
    assert np.median(relative[peak]) < 0.01 < np.median(relative[gap])  # the band opens where there are no data


def test_replica_band_needs_two_replicas_through_the_cut(specimen):
    e, sample, ts = specimen
    data = ~ts.pseudo
    fit = teaching.spline_zlp_fitter(ts, knot_spacing=0.07)
    with pytest.raises(ValueError, match="max_chi2=0.001"):
        teaching.replica_band(ts.energy_loss[data], ts.intensity[data], ts.sigma[data], e, 5, fit, 0.001,
                              np.random.default_rng(0))


def test_spline_fitter_rejects_bad_input(specimen):
    e, sample, ts = specimen
    with pytest.raises(ValueError, match="knot_spacing=-0.1"):
        teaching.spline_zlp_fitter(ts, knot_spacing=-0.1)
    with pytest.raises(ValueError, match="gap_knots=1.5"):
        teaching.spline_zlp_fitter(ts, knot_spacing=0.07, gap_knots=1.5)
    with pytest.raises(ValueError, match="no knot between"):
        teaching.spline_zlp_fitter(ts, knot_spacing=5.0)
    fit = teaching.spline_zlp_fitter(ts, knot_spacing=0.07)
    data = ~ts.pseudo
    with pytest.raises(ValueError, match="ONE replica|one replica"):
        fit(ts.energy_loss[data], np.tile(ts.intensity[data], (2, 1)), ts.sigma[data])
    with pytest.raises(ValueError, match="sigma should be > 0"):
        fit(ts.energy_loss[data], ts.intensity[data], 0 * ts.sigma[data])


def test_replica_band_gaps_recovers_a_known_gap():
    e = np.linspace(-1.0, 4.0, 501)
    zlp = 1e4 * np.exp(-0.5 * (e / 0.1) ** 2) * np.array([[1.0], [1.02], [0.97]])
    spectrum = 1e4 * np.exp(-0.5 * (e / 0.1) ** 2) + 300.0 * np.clip(e - 1.6, 0, None) ** 1.5
    gaps, exponents = teaching.replica_band_gaps(e, spectrum, zlp, 3.5, (1.0, 3.0))
    np.testing.assert_allclose(gaps, 1.6, atol=1e-4)
    np.testing.assert_allclose(exponents, 1.5, atol=1e-3)
    with pytest.raises(ValueError, match="window=\\(1.0, 1.01\\)"):
        teaching.replica_band_gaps(e, spectrum, zlp, 3.5, (1.0, 1.01))
    with pytest.raises(ValueError, match="spectrum should have shape"):
        teaching.replica_band_gaps(e, spectrum[:-1], zlp, 3.5, (1.0, 3.0))


def test_log_ratio_matches_the_course_t_over_lambda():
    e = np.linspace(-1.0, 5.0, 601)
    spectra = np.exp(-0.5 * (e / 0.1) ** 2) * np.array([[1.0], [3.0]]) + 0.01 * (e > 1.0)
    t = teaching.log_ratio(eels.integrated_intensity(e, spectra), eels.zero_loss_intensity(e, spectra))
    np.testing.assert_allclose(t, eels.estimate_thickness(e, spectra), rtol=1e-12)
    with pytest.raises(ValueError, match="positive counts"):
        teaching.log_ratio(1.0, 0.0)


def test_interval_and_fraction_inside():
    samples = np.arange(101.0)
    np.testing.assert_allclose(teaching.interval(samples), (50.0, 16.0, 84.0), rtol=1e-12)
    assert teaching.fraction_inside(np.zeros(4), np.ones(4), np.array([0.0, 1.0, 0.5, -0.1])) == 0.75


@pytest.fixture(scope="module")
def synthetic():
    e = energy_axis(-2.0, 0.025, 881)
    sample = make_lowloss_spectrum(e, n_spectra=5, zlp_fwhm=0.2, zlp_tail=0.005, band_gap=1.6, gap_strength=1000.0,
                                   seed=21)
    vacuum = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=0.2, zlp_tail=0.005, t_over_lambda=1e-6, seed=22)
    dE1, dE2 = eels.choose_regions(e, sample.counts, vacuum.counts)
    mean = sample.counts.mean(axis=0)
    window = eels.default_window(dE1, eels.fwhm(e, mean), eels.first_local_minimum(e, sample.counts))
    # the true inelastic signal plus noise stands in for the replica method's subtraction
    replicas = sample.inelastic + 5.0 * np.random.default_rng(0).standard_normal((4, e.size))
    return e, sample, vacuum, replicas, window, dE1


def test_classical_errors_against_a_known_gap(synthetic):
    pytest.importorskip("hyperspy")
    e, sample, vacuum, replicas, window, dE1 = synthetic
    rows = teaching.classical_band_gap_errors(e, sample.counts, vacuum.counts, replicas, true_gap=1.6,
                                              window=window, dE1=dE1)
    assert [r["method"] for r in rows] == [*teaching.CLASSICAL_METHODS, "replicas"]
    by = {r["method"]: r for r in rows}
    for r in rows:
        assert r["note"] == "" and np.isclose(r["error"], r["band_gap"] - 1.6)
    # the vacuum peak has the specimen's shape here: the vacuum method is nearly exact, like the truth itself
    assert abs(by["scaled vacuum"]["error"]) < 0.03 and abs(by["replicas"]["error"]) < 0.03
    # the loss-side tail is broader than the gain side: the mirrored ZLP is too small, the gap comes out low
    assert by["reflected tail"]["error"] < -0.05


def test_classical_errors_skip_the_power_law_without_exspy(synthetic, monkeypatch):
    e, sample, vacuum, replicas, window, dE1 = synthetic
    real_import = builtins.__import__

    def no_hyperspy(name, *args, **kwargs):
        if name.startswith(("hyperspy", "exspy")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hyperspy)
    rows = teaching.classical_band_gap_errors(e, sample.counts, vacuum.counts, replicas, true_gap=1.6,
                                              window=window, dE1=dE1)
    power = rows[0]
    assert power["method"] == "power law" and np.isnan(power["error"]) and power["inelastic"] is None
    assert "exspy" in power["note"] and "ml4em[classical]" in power["note"]
    assert all(np.isfinite(r["error"]) for r in rows[1:])
