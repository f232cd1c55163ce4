"""ml4em.datasets.make_spectral_image: shapes, seeds, physics (log-ratio t/lambda, Poisson orders) and bad input."""

import math

import numpy as np
import pytest

from ml4em.datasets import (
    SpectralImage,
    energy_axis,
    make_lowloss_spectrum,
    make_spectral_image,
)
from ml4em.datasets.spectral_image import _plural_scattering
from ml4em.datasets.synthetic import _single_scattering
from ml4em.eels import estimate_thickness


def _noise_free_log_ratio(image):
    """ln(total / ZLP) of the noise-free truth, per pixel."""
    zlp = image.zlp_height * image.zlp_shape.sum()
    return np.log((zlp + image.inelastic.sum(axis=-1, dtype=np.float64)) / zlp)


@pytest.mark.parametrize("geometry", ["flake", "nanoflower"])
def test_shapes_dtypes_and_truth(geometry):
    im = make_spectral_image((20, 24), geometry=geometry, seed=0)
    assert isinstance(im, SpectralImage)
    assert im.energy_loss.shape == (1981,)
    assert im.counts.shape == im.inelastic.shape == im.zlp.shape == (20, 24, 1981)
    assert im.counts.dtype == im.inelastic.dtype == np.float32
    for name in ("t_over_lambda", "band_gap", "zlp_height", "mask"):
        assert getattr(im, name).shape == (20, 24), name
    assert im.spectra.shape == (480, 1981) and np.shares_memory(im.spectra, im.counts)
    # vacuum around the specimen, and specimen inside
    assert im.mask.any() and not im.mask.all()
    assert not (im.mask[0].any() or im.mask[-1].any() or im.mask[:, 0].any() or im.mask[:, -1].any())
    assert np.all(im.t_over_lambda[~im.mask] == 0)
    assert np.all(np.isnan(im.band_gap[~im.mask]))
    assert np.all(im.inelastic[~im.mask] == 0)
    t_in = im.t_over_lambda[im.mask]
    assert t_in.min() >= 0.2 - 1e-12 and t_in.max() <= 1.5 + 1e-12
    gap = im.band_gap[im.mask]
    np.testing.assert_allclose([gap.min(), gap.max()], [1.4, 1.9], atol=1e-12)  # rescaled onto the range exactly
    # the ZLP keeps exp(-t/lambda) of the vacuum beam
    np.testing.assert_allclose(im.zlp_height, 1e5 * np.exp(-im.t_over_lambda), rtol=1e-12)
    # ZLP maximum at 0 eV on the default axis
    assert im.energy_loss[np.argmax(im.zlp_shape)] == pytest.approx(0.0, abs=1e-9)


def test_flake_has_discrete_terraces():
    im = make_spectral_image((48, 48), geometry="flake", n_terraces=4, seed=1)
    levels = np.unique(im.t_over_lambda[im.mask])
    np.testing.assert_allclose(levels, np.linspace(0.2, 1.5, 4), rtol=1e-12)


def test_band_gap_is_smooth():
    im = make_spectral_image((48, 48), geometry="nanoflower", seed=2)
    gap = im.band_gap
    step = np.nanmax(np.abs(np.diff(gap, axis=0))), np.nanmax(np.abs(np.diff(gap, axis=1)))
    # the range is 0.5 eV; a smooth map changes by a small part of it from one pixel to the next
    assert max(step) < 0.05


def test_seeds():
    a = make_spectral_image((16, 16), seed=5)
    b = make_spectral_image((16, 16), seed=5)
    c = make_spectral_image((16, 16), seed=6)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.t_over_lambda, b.t_over_lambda)
    assert not np.array_equal(a.counts, c.counts)
    gen = np.random.default_rng(7)
    d = make_spectral_image((16, 16), seed=gen)
    e = make_spectral_image((16, 16), seed=gen)  # the generator moves on: a new image
    assert not np.array_equal(d.counts, e.counts)


def test_plural_scattering_equals_direct_convolutions():
    e = energy_axis(0.0, 0.1, 400)
    s = _single_scattering(e, np.array([[1.5], [2.0]]), plasmon_energy=15.0, plasmon_width=5.0, gap_exponent=1.5,
                           gap_strength=0.02, onset_rolloff=10.0) * 0.1
    t = np.array([0.4, 1.3])
    got = _plural_scattering(s, t)
    for row in range(2):
        term, total = np.zeros(400), np.zeros(400)
        term[0] = 1.0
        for n in range(1, 20):  # t^n / n! is below 1e-15 by n = 20
            term = np.convolve(term, s[row])[:400]
            total += t[row] ** n / math.factorial(n) * term
        # 1e-11 (probability per channel): the exponential window amplifies round-off of ~1e-16 by up to exp(9)
        np.testing.assert_allclose(got[row], total, rtol=0, atol=1e-11)


def test_log_ratio_recovers_t_over_lambda_on_a_long_axis():
    # to 300 eV every scattering order that matters is on the axis: ln(total / ZLP) = t/lambda
    im = make_spectral_image((16, 16), energy_loss=energy_axis(-5.0, 0.1, 3050), seed=1)
    got = _noise_free_log_ratio(im)[im.mask]
    # 1 %: what is left beyond 300 eV is the Drude tail (~E^-3), 0.03 % of single scattering at these settings
    np.testing.assert_allclose(got, im.t_over_lambda[im.mask], rtol=0.01)
    np.testing.assert_allclose(_noise_free_log_ratio(im)[~im.mask], 0.0, atol=1e-12)


@pytest.mark.parametrize("gap_strength, thin_bias, thick_bias", [(100.0, (0.0, 0.003), (0.05, 0.11)),
                                                                  (0.02, (0.0, 0.02), (0.25, 0.4))])
def test_log_ratio_on_the_default_axis_is_biased_low_as_documented(gap_strength, thin_bias, thick_bias):
    im = make_spectral_image((32, 32), geometry="flake", gap_strength=gap_strength, seed=3)
    lr = _noise_free_log_ratio(im)
    t = im.t_over_lambda
    thin, thick = np.isclose(t, 0.2), np.isclose(t, 1.5)
    # the docstring states about 0.001 and 0.08 (default onset), 0.01 and 0.35 (weak onset) at t/lambda 0.2 and 1.5
    # (plural losses beyond 45 eV are cut off)
    assert thin_bias[0] < 0.2 - lr[thin].mean() < thin_bias[1]
    assert thick_bias[0] < 1.5 - lr[thick].mean() < thick_bias[1]
    # monotonic in thickness, so the map still sorts pixels by thickness
    levels = np.unique(t[im.mask])
    means = [lr[np.isclose(t, v)].mean() for v in levels]
    assert np.all(np.diff(means) > 0)


def test_log_ratio_from_noisy_counts():
    im = make_spectral_image((24, 24), seed=4)
    est = estimate_thickness(im.energy_loss, im.counts, zlp_window=(-np.inf, 1.0))
    # noise-free vs noisy: Poisson noise on ~2e6 counts per spectrum moves ln() by ~1e-3; the window misses
    # the ZLP tail beyond 1 eV (about 1 % of the ZLP), which adds ~0.01
    np.testing.assert_allclose(est, _noise_free_log_ratio(im), atol=0.02)


def test_single_pixel_physics_matches_make_lowloss_spectrum_to_second_order():
    # a thin specimen: orders above two are below (t/lambda)^3 / 6 ~ 2e-4 of the ZLP
    e = energy_axis(-2.0, 0.05, 900)
    im = make_spectral_image((8, 8), energy_loss=e, t_over_lambda_range=(0.05, 0.06), band_gap_range=(1.6, 1.7),
                             onset_rolloff=3.0, read_noise=0.0, gap_strength=0.02, seed=0)  # that function's default
    iy, ix = np.argwhere(im.mask)[0]
    t, gap = im.t_over_lambda[iy, ix], im.band_gap[iy, ix]
    ref = make_lowloss_spectrum(e, zlp_height=1e5 * np.exp(-t), t_over_lambda=t, band_gap=gap, onset_rolloff=3.0,
                                read_noise=0.0, seed=0)
    # same single and double scattering; the image also has triple and higher orders: ~t^3/6 relative
    np.testing.assert_allclose(im.inelastic[iy, ix], ref.inelastic, rtol=2e-3, atol=1e-3 * ref.inelastic.max())


def test_zlp_shape_from_an_array_and_from_a_pair():
    e = energy_axis(-1.0, 0.02, 600)
    peak = np.exp(-0.5 * (e / 0.1) ** 2) * 7.0 - 0.01  # any scale; slightly negative tails
    a = make_spectral_image((8, 8), energy_loss=e, zlp_shape=peak, seed=0)
    np.testing.assert_allclose(a.zlp_shape, np.clip(peak, 0, None) / peak.max())
    fine = np.linspace(-1.0, 11.0, 5000)
    b = make_spectral_image((8, 8), energy_loss=e, zlp_shape=(fine, np.exp(-0.5 * (fine / 0.1) ** 2)), seed=0)
    # interpolated from a 2.4 meV grid: linear interpolation error of a 0.1 eV Gaussian is below 1e-3
    np.testing.assert_allclose(b.zlp_shape, np.exp(-0.5 * (e / 0.1) ** 2), atol=1e-3)


def test_real_vacuum_zlp_shape(real_data_dir):
    from ml4em.datasets import load_ws2_lowloss

    d = load_ws2_lowloss()
    im = make_spectral_image((8, 8), energy_loss=d.energy_loss, zlp_shape=d.vacuum.mean(axis=0), seed=0)
    assert im.zlp_shape.max() == 1.0 and im.zlp_shape.min() >= 0.0
    assert im.energy_loss[np.argmax(im.zlp_shape)] == 0.0


def test_any_dispersion():
    for scale in (0.005, 0.1):
        e = energy_axis(-1.0, scale, int(30.0 / scale))
        im = make_spectral_image((8, 8), energy_loss=e, zlp_fwhm=max(0.1, 4 * scale), seed=0)
        assert im.counts.shape == (8, 8, e.size)
        lr = _noise_free_log_ratio(im)[im.mask]
        assert np.all(lr > 0) and np.all(lr < im.t_over_lambda[im.mask])  # biased low on a 30 eV axis


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(shape=(4, 16)), ValueError, r"ny=4 should be an integer >= 8"),
    (dict(shape=16), TypeError, r"shape=16 should be a pair"),
    (dict(geometry="disc"), ValueError, r"geometry='disc' is not known"),
    (dict(t_over_lambda_range=(0.0, 1.0)), ValueError, r"t_over_lambda_range=\(0.0, 1.0\)"),
    (dict(t_over_lambda_range=(1.0, 0.5)), ValueError, r"min < max"),
    (dict(t_over_lambda_range=1.0), TypeError, r"t_over_lambda_range=1.0 should be a pair"),
    (dict(band_gap_range=(-1.0, 1.0)), ValueError, r"band_gap_range=\(-1.0, 1.0\)"),
    (dict(zlp_height=0.0), ValueError, r"zlp_height=0.0 should be a positive number"),
    (dict(plasmon_energy=-1), ValueError, r"plasmon_energy=-1 should be a positive number"),
    (dict(onset_rolloff=0), ValueError, r"onset_rolloff=0 should be a positive number"),
    (dict(read_noise=-1.0), ValueError, r"read_noise=-1.0 should be a number >= 0"),
    (dict(n_terraces=1), ValueError, r"n_terraces=1 should be an integer >= 2"),
    (dict(energy_loss=np.array([0.0, 1.0])), ValueError, r"at least 3 channels"),
    (dict(energy_loss=np.array([0.0, 2.0, 1.0])), ValueError, r"1-D increasing axis"),
    (dict(energy_loss=np.linspace(1.0, 10.0, 50)), ValueError, r"should include 0 eV"),
    (dict(zlp_shape=np.ones(10)), ValueError, r"zlp_shape has shape \(10,\) but energy_loss has \(1981,\)"),
    (dict(zlp_shape=np.zeros(1981)), ValueError, r"positive maximum"),
    (dict(zlp_shape=(np.array([0.0, 1.0, 0.5]), np.ones(3))), ValueError, r"increasing energy"),
])
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_spectral_image(**{"shape": (8, 8), **kwargs})


@pytest.mark.parametrize("args, kwargs, match", [
    ((np.arange(5.0), np.ones(4)), {"zlp_window": (-np.inf, 1.0)}, r"5 of them to match energy_loss; got shape \(4,\)"),
    ((np.arange(5.0), np.ones(5)), {"zlp_window": (1.0, 0.0)}, r"zlp_window: .*low < high"),
    ((np.arange(5.0), np.ones(5)), {"zlp_window": (10.0, 20.0)}, r"zlp_window: .*holds no channel"),
    ((np.arange(5.0), np.ones(5)), {"zlp_window": (0.0, 1.0), "zlp": np.ones(5)}, r"not both"),
])
def test_log_ratio_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_thickness(*args, **kwargs)


def test_log_ratio_shapes():
    e = np.array([-0.5, 0.0, 0.5, 5.0, 20.0])
    one = np.array([1.0, 4.0, 1.0, 3.0, 3.0])
    assert estimate_thickness(e, one, zlp_window=(-np.inf, 1.0)) == pytest.approx(np.log(2.0))  # zlp 6, total 12
    table = np.stack([one, one * 2])
    np.testing.assert_allclose(estimate_thickness(e, table, zlp_window=(-np.inf, 1.0)), [np.log(2.0)] * 2)
    assert estimate_thickness(e, table[None], zlp_window=(-np.inf, 1.0)).shape == (1, 2)
