"""ml4em.eels.ZLPEnsemble: fitting, prediction, bands, conditions and every validation branch."""

import numpy as np
import pytest

from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels import ZLPEnsemble, align_zlp
from ml4em.eels.extrapolate import make_zlp_series, relative_band_width

AXIS = energy_axis(-2.0, 0.025, 641)  # -2 to 14 eV: few points, fast fits


@pytest.fixture(scope="module")
def data():
    sample = make_lowloss_spectrum(AXIS, n_spectra=4, zlp_fwhm=0.3, seed=0)
    vacuum = make_lowloss_spectrum(AXIS, n_spectra=3, zlp_fwhm=0.3, t_over_lambda=1e-6, seed=1)
    return sample, vacuum


@pytest.fixture(scope="module")
def fitted(data):
    sample, vacuum = data
    return ZLPEnsemble(8, dE1=1.0, dE2=6.0, n_jobs=1, progress=False, seed=0).fit(AXIS, sample.counts, vacuum.counts)


def test_fitted_attributes(fitted):
    z = fitted
    assert (z.dE1_, z.dE2_) == (1.0, 6.0)
    assert z.params_.shape == (8, 271)
    for name in ("train_chi2_", "val_chi2_", "chi2_", "n_iter_", "restarts_"):
        assert getattr(z, name).shape == (8,)
    assert z.replicas_.shape == (8, z.training_set_.n_data)
    assert len(z.history_["train_chi2"]) == len(z.history_["val_chi2"]) > 0
    assert z.fit_seconds_ > 0 and z.iterations_ > 0
    # every replica ends near the data: chi2 per point of order one, not thousands
    assert np.median(z.chi2_) < 5


def test_prediction_follows_the_true_zlp_in_the_training_region(fitted, data):
    sample, _ = data
    b = fitted.band(AXIS)
    region = (AXIS > -1.0) & (AXIS < 1.0)
    # where the model saw data it follows the noise-free mean spectrum (ZLP plus the little inelastic
    # signal below dE1) to 3%; the spread of 4 spectra is ~1% there
    np.testing.assert_allclose(b.median[region], (sample.zlp + sample.inelastic)[region], rtol=0.03)
    assert fitted.predict(AXIS).shape == (8, AXIS.size)
    assert fitted.predict(AXIS, replicas=fitted.selected(100.0)).shape[0] <= 8
    assert fitted.predict_log(np.array([0.0])).shape == (8, 1)


def test_same_seed_same_ensemble(data):
    sample, vacuum = data
    a = ZLPEnsemble(4, dE1=1.0, dE2=6.0, max_iter=20, n_jobs=1, progress=False, seed=5).fit(AXIS, sample.counts)
    b = ZLPEnsemble(4, dE1=1.0, dE2=6.0, max_iter=20, n_jobs=1, progress=False, seed=5).fit(AXIS, sample.counts)
    np.testing.assert_array_equal(a.params_, b.params_)


def test_narrow_peak_at_fine_dispersion():
    # 0.005 eV/channel and a 0.08 eV wide ZLP: the regions and the model follow the peak, not the axis
    e = energy_axis(-0.5, 0.005, 1600)
    sample = make_lowloss_spectrum(e, n_spectra=4, zlp_fwhm=0.08, band_gap=1.2, seed=0)
    vacuum = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=0.08, t_over_lambda=1e-6, seed=1)
    z = ZLPEnsemble(6, max_iter=200, n_jobs=1, progress=False, seed=0).fit(e, sample.counts, vacuum.counts)
    assert 0.08 <= z.dE1_ < 1.0 and z.dE1_ < z.dE2_
    region = np.abs(e) < 0.1
    truth = (sample.zlp + sample.inelastic)[region]
    np.testing.assert_allclose(np.median(z.predict(e), axis=0)[region], truth, rtol=0.05)


def test_plot_history(fitted):
    ax = fitted.plot_history()
    assert "chi2" in ax.get_ylabel() and ax.get_xlabel().startswith("iteration")


def test_conditions_extrapolation_band_widens():
    series = make_zlp_series([1.0, 2.0, 4.0], n_spectra=3, energy_loss=np.round(np.arange(-1.0, 3.0, 0.04), 10),
                             seed=0)
    z = ZLPEnsemble(8, dE1=0.8, dE2=2.0, max_iter=150, n_jobs=1, progress=False, seed=0)
    z.fit(series.energy_loss, series.spectra, conditions=series.conditions)
    assert z.n_conditions_ == 1
    widths = relative_band_width(z, series.energy_loss, [2.0, 8.0], window=(-0.3, 0.5))
    # far outside the training conditions (8 ms against 1-4 ms) the band is several times wider
    assert widths[1] > 3 * widths[0]
    with pytest.raises(ValueError, match="trained with 1 condition"):
        z.predict(series.energy_loss)
    with pytest.raises(ValueError, match="conditions should hold 1 value"):
        z.predict(series.energy_loss, conditions=np.ones((3, 2)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_replicas=1), "n_replicas=1 should be an integer >= 2"),
    (dict(uncertainty="sem"), "uncertainty='sem' is not known"),
    (dict(decay=-1.0), "decay=-1.0 should be >= 0"),
    (dict(hidden=(0,)), r"hidden=\(0,\) should be a non-empty sequence"),
])
def test_bad_settings(data, kwargs, match):
    sample, _ = data
    with pytest.raises(ValueError, match=match):
        ZLPEnsemble(**({"n_replicas": 4} | kwargs), progress=False).fit(AXIS, sample.counts)


def test_bad_data(data):
    sample, vacuum = data
    z = ZLPEnsemble(4, dE1=1.0, dE2=6.0, progress=False)
    with pytest.raises(ValueError, match="zero-loss peak of sample is at 1"):
        z.fit(AXIS + 1.0, sample.counts)
    with pytest.raises(ValueError, match="holds 1 spectrum; at least 2 spectra"):
        z.fit(AXIS, sample.counts[:1])
    with pytest.raises(ValueError, match=r"sample should have shape \(n_spectra, n_channels\)"):
        z.fit(AXIS, sample.counts[0])
    with pytest.raises(ValueError, match="vacuum should have the energy channels"):
        z.fit(AXIS, sample.counts, vacuum.counts[:, :10])
    with pytest.raises(ValueError, match="dE1=20.0 eV lies outside"):
        ZLPEnsemble(4, dE1=20.0, progress=False).fit(AXIS, sample.counts)
    bad = sample.counts.copy()
    bad[0, 5] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        z.fit(AXIS, bad)


def test_not_fitted_and_prediction_errors(fitted):
    with pytest.raises(RuntimeError, match="not fitted yet"):
        ZLPEnsemble(4).predict(AXIS)
    with pytest.raises(ValueError, match="trained without conditions"):
        fitted.predict(AXIS, conditions=1.0)
    with pytest.raises(ValueError, match="1-D array of finite energies"):
        fitted.predict(np.zeros((2, 2)))


def test_aligned_spectra_can_be_fitted(data):
    sample, _ = data
    shifted = np.stack([np.interp(AXIS, AXIS + d, c) for d, c in zip([0.05, -0.04, 0.02, 0.0], sample.counts)])
    e, aligned = align_zlp(AXIS, shifted)
    z = ZLPEnsemble(4, dE1=1.0, dE2=6.0, max_iter=30, n_jobs=1, progress=False, seed=0).fit(e, aligned)
    assert np.isfinite(z.chi2_).all()


def test_vacuum_tail_needs_vacuum_spectra():
    s = make_lowloss_spectrum(n_spectra=4, seed=0)
    zlp = ZLPEnsemble(4, dE1=1.5, dE2=15.0, vacuum_tail=True, progress=False, seed=0)
    with pytest.raises(ValueError, match="vacuum_tail=True .* pass at least 2 vacuum spectra"):
        zlp.fit(s.energy_loss, s.counts)
    with pytest.raises(ValueError, match="vacuum_tail=True"):
        zlp.fit(s.energy_loss, s.counts, s.counts[:1])


def test_vacuum_tail_replicas_move_their_tail_together_by_the_mismatch():
    e = energy_axis(-2.0, 0.01, 2201)
    sample = make_lowloss_spectrum(e, n_spectra=5, zlp_fwhm=0.25, zlp_tail=0.005, band_gap=1.6, seed=3)
    wide = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=0.4, zlp_tail=0.005, t_over_lambda=1e-6, seed=1003)
    zlp = ZLPEnsemble(200, dE1=1.0, dE2=8.0, vacuum_tail=True, max_iter=1, progress=False, seed=0)
    zlp.fit(e, sample.counts, wide.counts)
    ts = zlp.training_set_
    m = float(ts.tail_mismatch[0])
    assert m > 0.2
    tail = ts.tail[:ts.n_data]
    shift = np.median(zlp.replicas_[:, tail] / ts.intensity[:ts.n_data][tail] - 1.0, axis=1)  # one per replica
    assert np.std(shift) == pytest.approx(m, rel=0.25)
    below = np.median(zlp.replicas_[:, ~tail] / ts.intensity[:ts.n_data][~tail] - 1.0, axis=1)
    assert np.std(below) < 0.1 * m  # the points below dE1 have no such shift
