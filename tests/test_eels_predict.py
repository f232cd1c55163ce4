"""ml4em.eels.predict: bands, chi2 selection, coverage."""

import numpy as np
import pytest

from ml4em.eels import Band, band, coverage, select_replicas


def test_band_of_normal_samples():
    rng = np.random.default_rng(0)
    b = band(rng.normal(3.0, 2.0, (20000, 2)))
    # 16th and 84th percentiles of N(3, 2) are 3 -+ 1.994; 20000 samples pin them to ~0.03
    np.testing.assert_allclose(b.median, 3.0, atol=0.04)
    np.testing.assert_allclose(b.low, 3.0 - 1.989, atol=0.05)
    np.testing.assert_allclose(b.high, 3.0 + 1.989, atol=0.05)
    np.testing.assert_allclose(b.width, b.high - b.low)
    assert b.n_replicas == 20000 and b.cl == 0.68


def test_band_errors():
    with pytest.raises(ValueError, match="cl=1.5 should be a confidence level"):
        band(np.zeros((3, 2)), cl=1.5)
    with pytest.raises(ValueError, match="at least 2 replicas"):
        band(np.zeros((1, 2)))


def test_select_replicas():
    chi2 = np.array([1.0, 2.9, 3.1, 10.0])
    np.testing.assert_array_equal(select_replicas(chi2, 3.0), [True, True, False, False])
    np.testing.assert_array_equal(select_replicas(chi2), [True] * 4)
    with pytest.warns(UserWarning, match="only 0 of 4 replicas have chi2 <= 0.5; keeping all"):
        assert select_replicas(chi2, 0.5).all()
    with pytest.raises(ValueError, match="max_chi2=-1 should be a positive chi2"):
        select_replicas(chi2, -1)


def test_coverage_counts_channels_in_the_band():
    b = Band(median=np.zeros(5), low=-np.ones(5), high=np.ones(5))
    truth = np.array([0.0, 1.0, 1.5, -1.0, -2.0])
    assert coverage(b, truth) == pytest.approx(3 / 5)
    assert coverage(b, truth, mask=[True, False, True, False, False]) == pytest.approx(1 / 2)
    with pytest.raises(ValueError, match="mask selects no point"):
        coverage(b, truth, mask=np.zeros(5, bool))
