"""ml4em.eels.replicas: training points, Monte Carlo replicas, splits and chi2."""

import numpy as np
import pytest

from ml4em.datasets import make_lowloss_spectrum
from ml4em.eels import chi2_per_point, make_replicas, make_training_set, split_replicas


@pytest.fixture(scope="module")
def spectra():
    return make_lowloss_spectrum(n_spectra=4, seed=0)


def test_training_set_points_and_uncertainties(spectra):
    e, counts = spectra.energy_loss, spectra.counts
    ts = make_training_set(e, counts, dE1=1.5, dE2=15.0, n_pseudo=20, pseudo_level=7.0)
    data = ~ts.pseudo
    assert ts.n_data == data.sum() and np.all(data[:ts.n_data])  # measured points first
    assert ts.energy_loss[data].max() < 1.5 and ts.energy_loss[ts.pseudo].min() >= 15.0
    np.testing.assert_allclose(ts.energy_loss[ts.pseudo], np.linspace(15.0, 22.5, 20))
    # central values are the mean spectrum; sigma is the spread (ddof=1) and log_sigma = sigma / I
    idx = np.searchsorted(e, ts.energy_loss[data])
    np.testing.assert_allclose(ts.intensity[data], counts.mean(0)[idx])
    np.testing.assert_allclose(ts.sigma[data], counts.std(0, ddof=1)[idx])
    np.testing.assert_allclose(ts.log_sigma[data], ts.sigma[data] / ts.intensity[data])
    np.testing.assert_allclose(ts.intensity[ts.pseudo], 7.0)
    np.testing.assert_allclose(ts.log_sigma[ts.pseudo], 1.0)
    mean_ts = make_training_set(e, counts, dE1=1.5, dE2=15.0, uncertainty="mean")
    np.testing.assert_allclose(mean_ts.sigma[:mean_ts.n_data], ts.sigma[data] / 2.0)  # 4 spectra: sqrt(4)


def test_training_set_with_conditions_orders_groups(spectra):
    e = spectra.energy_loss
    ts = make_training_set(e, [spectra.counts, 2 * spectra.counts], dE1=1.0, dE2=10.0, conditions=[1.0, 2.0])
    assert ts.conditions.shape == (ts.energy_loss.size, 1)
    assert set(ts.group[:ts.n_data]) == {0, 1}
    np.testing.assert_array_equal(ts.conditions[ts.group == 1, 0], 2.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(uncertainty="median"), "uncertainty='median' is not known"),
    (dict(n_pseudo=0), "n_pseudo=0 should be a positive integer"),
    (dict(pseudo_sigma=0), "pseudo_sigma=0 should be > 0"),
    (dict(dE1=5.0, dE2=2.0), "need .* < dE1 < dE2 <"),
    (dict(pseudo_level=-1.0), "pseudo_level=-1.0 for group 0 should be > 0"),
    (dict(conditions=[1.0, 2.0]), "conditions should have one row per group"),
])
def test_training_set_rejects_bad_input(spectra, kwargs, match):
    args = dict(dE1=1.5, dE2=15.0) | kwargs
    with pytest.raises(ValueError, match=match):
        make_training_set(spectra.energy_loss, spectra.counts, **args)


def test_training_set_needs_two_spectra_and_conditions_for_groups(spectra):
    e = spectra.energy_loss
    with pytest.raises(ValueError, match="holds 1 spectrum; at least 2 spectra"):
        make_training_set(e, spectra.counts[:1], dE1=1.5, dE2=15.0)
    with pytest.raises(ValueError, match="has 2 groups but conditions is None"):
        make_training_set(e, [spectra.counts, spectra.counts], dE1=1.5, dE2=15.0)
    with pytest.raises(ValueError, match="only 1 channels below dE1"):
        make_training_set(e, spectra.counts, dE1=-3.99, dE2=15.0)


def test_replicas_have_the_stated_mean_spread_and_correlations():
    intensity = np.full(3, 1000.0)
    sigma = np.array([10.0, 20.0, 30.0])
    sys = np.array([[5.0, 5.0, 5.0]])  # one fully correlated source
    reps = make_replicas(intensity, sigma, 40000, systematics=sys, seed=0)
    # 40000 replicas: the sample mean is within 4 standard errors, the spread within ~1.5%
    np.testing.assert_allclose(reps.mean(0), intensity, atol=4 * np.hypot(30, 5) / 200)
    np.testing.assert_allclose(reps.std(0), np.hypot(sigma, 5.0), rtol=0.015)
    cov = np.cov(reps.T)
    np.testing.assert_allclose(cov[0, 1], 25.0, atol=2.0)  # the systematic shift is shared: covariance 5^2
    np.testing.assert_array_equal(make_replicas(intensity, sigma, 5, seed=1), make_replicas(intensity, sigma, 5, seed=1))


def test_replicas_stay_positive_and_reject_bad_input():
    reps = make_replicas(np.array([1.0]), np.array([5.0]), 1000, seed=0)
    assert reps.min() == pytest.approx(0.05)  # the floor keeps the logarithm finite
    with pytest.raises(ValueError, match="same length"):
        make_replicas(np.ones(3), np.ones(2), 4)
    with pytest.raises(ValueError, match="finite standard deviations >= 0"):
        make_replicas(np.ones(3), -np.ones(3), 4)
    with pytest.raises(ValueError, match="n_replicas=0 should be a positive integer"):
        make_replicas(np.ones(3), np.ones(3), 0)
    with pytest.raises(ValueError, match=r"systematics should have shape \(n_sources, 3\)"):
        make_replicas(np.ones(3), np.ones(3), 4, systematics=np.ones((1, 2)))


def test_split_is_a_partition_per_replica():
    tr, va = split_replicas(50, 40, 0.25, seed=0)
    assert tr.shape == (50, 30) and va.shape == (50, 10)
    for k in range(50):
        assert sorted(np.r_[tr[k], va[k]]) == list(range(40))
    assert len({tuple(v) for v in va}) > 40  # the splits differ between replicas
    with pytest.raises(ValueError, match="validation_fraction=1.0 should be between 0 and 1"):
        split_replicas(2, 10, 1.0)
    with pytest.raises(ValueError, match="n_points=1 should be an integer >= 2"):
        split_replicas(2, 1)


def test_chi2_per_point():
    assert chi2_per_point([1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [1.0, 1.0, 3.0]) == pytest.approx((0 + 4 + 1) / 3)
    np.testing.assert_allclose(chi2_per_point(np.zeros((2, 2)), np.ones(2), 0.5), [4.0, 4.0])
    with pytest.raises(ValueError, match="sigma should be > 0"):
        chi2_per_point([1.0], [1.0], 0.0)


# ----------------------------------------------------------------------------- the vacuum tail (vacuum_tail=True)
TAIL_AXIS = np.linspace(-2.0, 20.0, 2201)  # 0.01 eV per channel


def _tail_data(vacuum_fwhm=0.25, vacuum_height=1e6, seed=3):
    sample = make_lowloss_spectrum(TAIL_AXIS, n_spectra=5, zlp_fwhm=0.25, zlp_tail=0.005, band_gap=1.6,
                                   gap_strength=1000.0, seed=seed)
    vacuum = make_lowloss_spectrum(TAIL_AXIS, n_spectra=3, zlp_height=vacuum_height, zlp_fwhm=vacuum_fwhm,
                                   zlp_tail=0.005, t_over_lambda=1e-6, seed=seed + 1000)
    return sample, vacuum


def test_vacuum_tail_points_are_the_vacuum_scaled_to_the_sample():
    sample, vacuum = _tail_data()
    plain = make_training_set(TAIL_AXIS, sample.counts, dE1=1.0, dE2=8.0)
    assert not plain.tail.any() and plain.systematics is None and plain.tail_scale is None
    ts = make_training_set(TAIL_AXIS, sample.counts, dE1=1.0, dE2=8.0, vacuum=vacuum.counts)
    # the points below dE1 and the pseudo-data are those of the plain set; the tail comes in between
    np.testing.assert_array_equal(ts.energy_loss[~ts.tail], plain.energy_loss)
    np.testing.assert_array_equal(ts.intensity[~ts.tail], plain.intensity)
    e_tail = ts.energy_loss[ts.tail]
    assert e_tail.min() >= 1.0 and e_tail.max() < 8.0 and e_tail.size > 100
    assert not (ts.tail & ts.pseudo).any() and ts.n_data == plain.n_data + e_tail.size
    # the scaled vacuum tail is the sample's true ZLP, to the noise of three vacuum spectra
    true_tail = np.interp(e_tail, TAIL_AXIS, sample.zlp)
    assert ts.intensity[ts.tail].sum() / true_tail.sum() == pytest.approx(1.0, abs=0.03)
    # and its shape: in bins of 20 channels (0.2 eV) with 40 counts or more, within 5% (further out, where the
    # signal-to-noise cut keeps only the channels that fluctuated up, the tail reads a few counts high)
    n = e_tail.size // 20 * 20
    got, want = (x[:n].reshape(-1, 20).mean(axis=1) for x in (ts.intensity[ts.tail], true_tail))
    assert (want >= 40).sum() >= 5
    np.testing.assert_allclose(got[want >= 40], want[want >= 40], rtol=0.05)
    # a vacuum with a fifth of the sample's peak is scaled up by 5
    _, faint = _tail_data(vacuum_height=2e5)
    scaled = make_training_set(TAIL_AXIS, sample.counts, dE1=1.0, dE2=8.0, vacuum=faint.counts)
    assert scaled.tail_scale[0] == pytest.approx(sample.zlp.max() / faint.zlp.max(), rel=0.02)
    # the same shape: the shoulder's scatter is noise, so the systematic is small and sits on the tail only
    assert ts.tail_mismatch[0] < 0.03
    assert ts.systematics.shape == (1, ts.energy_loss.size)
    np.testing.assert_array_equal(ts.systematics[0, ~ts.tail], 0.0)
    np.testing.assert_allclose(ts.systematics[0, ts.tail], ts.tail_mismatch[0] * ts.intensity[ts.tail])


def test_vacuum_tail_mismatch_grows_with_the_shape_difference():
    sample, _ = _tail_data()
    mismatch = {}
    for vacuum_fwhm in (0.25, 0.4):  # a wider vacuum peak still falls on the shoulder below dE1
        _, vacuum = _tail_data(vacuum_fwhm=vacuum_fwhm)
        ts = make_training_set(TAIL_AXIS, sample.counts, dE1=1.0, dE2=8.0, vacuum=vacuum.counts)
        mismatch[vacuum_fwhm] = float(ts.tail_mismatch[0])
    assert mismatch[0.4] > 0.2 and mismatch[0.4] > 5 * mismatch[0.25], mismatch


def test_vacuum_tail_refuses_vacuum_it_cannot_use():
    sample, vacuum = _tail_data()
    with pytest.raises(ValueError, match="vacuum holds 1 spectrum"):
        make_training_set(TAIL_AXIS, sample.counts, dE1=1.0, dE2=8.0, vacuum=vacuum.counts[:1])
    with pytest.raises(ValueError, match="vacuum"):
        make_training_set(TAIL_AXIS, sample.counts, dE1=1.0, dE2=8.0, vacuum=vacuum.counts[:, :100])
    with pytest.raises(ValueError, match="cannot be scaled to the sample"):
        make_training_set(TAIL_AXIS, sample.counts, dE1=1.0, dE2=8.0, vacuum=np.zeros((2, TAIL_AXIS.size)))
