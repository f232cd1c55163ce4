"""ml4em.eels.image: thickness clusters, a ZLP model per cluster and band-gap maps on a synthetic image."""

import numpy as np
import pytest

from ml4em.datasets import make_spectral_image
from ml4em.eels import estimate_thickness
from ml4em.eels.image import ImageZLP, cluster_by_thickness, load_spectral_image


@pytest.fixture(scope="module")
def image():
    # a strong band-gap onset (gap_strength=100) so that the gap is visible in single pixels
    return make_spectral_image((24, 24), gap_strength=100.0, seed=0)


@pytest.fixture(scope="module")
def real_zlp_image(real_data_dir):
    """The same specimen with the ZLP shape of the real WS2 vacuum spectra (as in tutorial 09)."""
    from ml4em.datasets import load_ws2_lowloss

    d = load_ws2_lowloss()
    return make_spectral_image((24, 24), gap_strength=100.0, zlp_shape=(d.energy_loss, d.vacuum.mean(axis=0)),
                               seed=0)


@pytest.fixture(scope="module")
def fitted(image):
    return ImageZLP(5, n_replicas=6, max_spectra=32, seed=0, progress=False, n_jobs=1).fit(image.energy_loss,
                                                                                           image.counts)


def test_thickness_map_follows_the_truth(image):
    t = estimate_thickness(image.energy_loss, image.counts)
    assert t.shape == image.shape
    # vacuum pixels have t/lambda ~ 0; on the specimen the valley method tracks the truth (plural
    # scattering beyond the 45 eV axis makes it read low for thick pixels, by up to ~0.35 at 1.5)
    assert np.all(np.abs(t[~image.mask]) < 0.02)
    assert np.corrcoef(t[image.mask], image.t_over_lambda[image.mask])[0, 1] > 0.95


def test_clusters_are_ordered_by_thickness():
    t = np.array([[0.0, 0.01, 1.0, 0.5], [1.1, 0.02, 0.98, 0.52]])
    labels, centres = cluster_by_thickness(t, 3, seed=0)
    assert labels.tolist() == [[0, 0, 2, 1], [2, 0, 2, 1]]
    assert np.all(np.diff(centres) > 0)
    with pytest.raises(ValueError, match="n_clusters=9 should be an integer between 1 and the number of pixels"):
        cluster_by_thickness(t, 9)
    with pytest.raises(ValueError, match="thickness has NaN"):
        cluster_by_thickness(np.array([np.nan, 1.0]), 1)


def test_models_per_cluster_and_band_gap_maps(fitted, image):
    z = fitted
    assert z.vacuum_cluster_ == 0 and z.dE2_ is not None  # the vacuum around the flake fixes dE2
    assert set(z.models_) == {1, 2, 3, 4}
    assert all(m.dE2_ == z.dE2_ for m in z.models_.values())
    maps = z.band_gap_maps(image.counts)
    assert maps.band_gap.shape == image.shape
    assert np.all(np.isnan(maps.band_gap[z.labels_ == 0]))
    spec = (z.labels_ > 0) & image.mask
    assert np.all(np.isfinite(maps.band_gap[spec])) and np.all(maps.uncertainty[spec] >= 0)
    assert np.all(maps.band_gap_low[spec] <= maps.band_gap_high[spec])
    # the share of clean replica fits per pixel: a fraction on the specimen, NaN in the vacuum
    assert np.all((maps.fit_ok[spec] >= 0) & (maps.fit_ok[spec] <= 1)) and np.all(np.isnan(maps.fit_ok[z.labels_ == 0]))
    assert np.mean(maps.fit_ok[spec]) > 0.5  # a strong onset: most replica fits end off the bounds


def test_band_gap_map_follows_the_truth(real_zlp_image):
    image = real_zlp_image
    z = ImageZLP(5, n_replicas=6, max_spectra=32, seed=0, progress=False, n_jobs=1)
    maps = z.fit(image.energy_loss, image.counts).band_gap_maps(image.counts)
    spec = (z.labels_ > 0) & image.mask
    err = maps.band_gap[spec] - image.band_gap[spec]
    # single noisy pixels, 6 replicas per cluster: the map follows the true map (which spans 1.4-1.9 eV)
    # with a correlation above 0.5 and a median error within 0.1 eV
    assert np.corrcoef(maps.band_gap[spec], image.band_gap[spec])[0, 1] > 0.5
    assert abs(np.median(err)) < 0.1 and np.median(np.abs(err)) < 0.15


def test_load_spectral_image_round_trip(tmp_path):
    from rsciio.hspy import file_writer

    e = np.round(np.arange(-1.0, 4.0, 0.05), 10)
    data = np.random.default_rng(0).poisson(100, (3, 4, e.size)).astype(float)
    axes = [{"name": "y", "size": 3, "offset": 0.0, "scale": 1.0, "units": "nm", "navigate": True},
            {"name": "x", "size": 4, "offset": 0.0, "scale": 1.0, "units": "nm", "navigate": True},
            {"name": "Energy loss", "size": e.size, "offset": -1.0, "scale": 0.05, "units": "eV", "navigate": False}]
    path = tmp_path / "si.hspy"
    signal = {"data": data, "axes": axes, "metadata": {"General": {"title": "test"}, "Signal": {"signal_type": "EELS"}},
              "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False}, "learning_results": {},
              "models": {}, "package_info": {"name": "ml4em", "version": "test"}}
    file_writer(str(path), signal, show_progressbar=False)
    energy, counts = load_spectral_image(path)
    np.testing.assert_allclose(energy, e, atol=1e-9)
    np.testing.assert_array_equal(counts, data)
    single = tmp_path / "one.txt"
    np.savetxt(single, np.c_[e, data[0, 0]])
    with pytest.raises(ValueError, match="a spectral image needs two navigation axes"):
        load_spectral_image(single)


def test_image_errors(image):
    with pytest.raises(ValueError, match=r"counts should be a spectral image of shape \(ny, nx, n_channels\)"):
        ImageZLP(3).fit(image.energy_loss, image.counts[0])
    with pytest.raises(ValueError, match="max_spectra=1 should be an integer >= 2"):
        ImageZLP(3, max_spectra=1).fit(image.energy_loss, image.counts)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        ImageZLP(3).band_gap_maps(image.counts)


def test_every_cluster_thinner_than_the_threshold_is_vacuum():
    from ml4em.eels.image import vacuum_clusters

    assert vacuum_clusters([0.002, 0.2, 0.6], 0.05) == (0,)
    # the top rows of a flake: the vacuum split in two clusters; neither may get a ZLP model
    assert vacuum_clusters([0.001, 0.03, 0.2, 0.6, 1.0], 0.05) == (0, 1)
    assert vacuum_clusters([0.2, 0.6], 0.05) == ()
