"""ml4em.eels.subtract: matching the ZLP to the data and subtracting it."""

import numpy as np
import pytest

from ml4em.eels.subtract import match_zlp, matching_weight, subtract_zlp, subtracted_band


def test_matching_weight_is_a_monotone_step():
    e = np.linspace(0, 3, 301)
    w = matching_weight(e, dE1=2.0, dE0=1.0)
    assert np.all(w[e <= 1.0] == 0) and np.all(w[e >= 2.0] == 1)
    assert np.all(np.diff(w) >= 0)
    assert w[np.argmin(np.abs(e - 1.5))] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="dE0=2.0 should be below dE1=1.0"):
        matching_weight(e, dE1=1.0, dE0=2.0)


def _case():
    e = np.linspace(-1, 6, 701)
    zlp = 1e4 * np.exp(-0.5 * (e / 0.2) ** 2) + 1e4 * 0.01 / (1 + (e / 0.2) ** 2)
    inel = np.where(e > 1.6, 50 * np.clip(e - 1.6, 0, None) ** 1.5, 0.0)
    return e, zlp, inel


def test_subtraction_with_the_true_zlp_recovers_the_inelastic_signal_above_dE1():
    e, zlp, inel = _case()
    out = subtract_zlp(e, zlp + inel, np.stack([zlp, zlp]), dE1=1.2, dE2=4.0)
    above = (e >= 1.2) & (e <= 4.0)
    np.testing.assert_allclose(out[:, above], np.broadcast_to(inel[above], (2, above.sum())), atol=1e-9)
    # below dE0 = (FWHM + dE1) / 2 the data are the ZLP: nothing is left
    fw = 2 * np.sqrt(2 * np.log(2)) * 0.2
    assert np.all(out[:, e < (fw + 1.2) / 2] == 0)
    # above dE2 the ZLP is zero: the whole spectrum is inelastic
    np.testing.assert_allclose(out[:, e > 4.0], np.broadcast_to((zlp + inel)[e > 4.0], (2, (e > 4.0).sum())))


def test_matched_zlp_never_exceeds_the_data():
    e, zlp, inel = _case()
    too_big = np.stack([3 * zlp, zlp])
    m = match_zlp(e, zlp + inel, too_big, dE1=1.2, dE2=4.0)
    assert np.all(m <= zlp + inel + 1e-12)
    assert np.all(subtract_zlp(e, zlp + inel, too_big, dE1=1.2, dE2=4.0) >= 0)


def test_subtraction_broadcasts_over_pixels():
    e, zlp, inel = _case()
    pixels = np.stack([zlp + inel, 2 * (zlp + inel), zlp])  # 3 pixels
    models = np.stack([zlp, 1.1 * zlp])[:, None, :]  # 2 replicas, same model for every pixel
    out = subtract_zlp(e, pixels, models, dE1=1.2, dE2=4.0, peak_fwhm=0.47)
    assert out.shape == (2, 3, e.size)
    b = subtracted_band(e, zlp + inel, np.stack([zlp, 0.9 * zlp, 1.1 * zlp]), dE1=1.2, dE2=4.0)
    assert b.median.shape == e.shape and np.all(b.low <= b.high)


def test_subtraction_errors():
    e, zlp, inel = _case()
    with pytest.raises(ValueError, match="need 0 < dE1 < dE2"):
        subtract_zlp(e, zlp, zlp[None], dE1=3.0, dE2=2.0)
    with pytest.raises(ValueError, match="zlp should have the 701 energy channels"):
        subtract_zlp(e, zlp, zlp[None, :10], dE1=1.0, dE2=2.0)
    with pytest.raises(ValueError, match="should be positive and below dE1=0.3"):
        subtract_zlp(e, zlp, zlp[None], dE1=0.3, dE2=2.0)
