"""Tests of the STEM image simulator (ml4em.stem)."""

import time

import numpy as np
import pytest

from ml4em.stem import LATTICES, Lattice, STEMImages, column_intensity, plot_stem, simulate_stem


def test_shapes_types_and_labels():
    data = simulate_stem(5, size=32, seed=0)
    assert isinstance(data, STEMImages) and len(data) == 5
    assert data.images.shape == data.clean.shape == data.labels.shape == (5, 32, 32)
    assert data.images.dtype == np.float32 and data.labels.dtype == np.uint8
    assert set(np.unique(data.labels)) <= {0, 1, 2}
    assert len(data.defect_positions) == len(data.defect_kinds) == len(data.column_positions) == 5
    for pos, kinds in zip(data.defect_positions, data.defect_kinds):
        assert pos.shape == (len(kinds), 2)
        assert np.all((pos > -0.5) & (pos < 31.5))  # every listed defect lies inside its image


def test_seeded_and_reproducible():
    a, b = simulate_stem(3, seed=42), simulate_stem(3, seed=42)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    c = simulate_stem(3, seed=43)
    assert not np.array_equal(a.images, c.images)


def test_one_isolated_column_is_a_gaussian_of_the_probe_width():
    # A square lattice with a = 20 * 0.04 nm = 20 pixels, no jitter, strain or rotation: the clean image near
    # a column is background + peak * exp(-r^2 / 2 sigma^2), sigma = FWHM / 2.355 (neighbours 20 px away add
    # exp(-20^2 / 2 / 1.06^2) ~ 1e-77, nothing).
    lattice = Lattice("test", 0.8, ((1.0, 0.0), (0.0, 1.0)), ((0.0, 0.0),), ("A",), ((74,),), ((42,),), ("B",))
    data = simulate_stem(1, size=64, lattice=lattice, strain=0.0, rotation=0.0, scan_jitter=0.0, defect_density=0.0,
                         dose=1e4, scattering=0.02, background=0.001, probe_fwhm=0.1, seed=0)
    per_pixel = 1e4 * 0.4**2
    r, c = np.rint(data.column_positions[0][len(data.column_positions[0]) // 2]).astype(int)
    ys, xs = data.column_positions[0][len(data.column_positions[0]) // 2]
    sigma = 0.1 / 0.04 / (2 * np.sqrt(2 * np.log(2)))
    rows, cols = np.mgrid[r - 3:r + 4, c - 3:c + 4]
    expected = per_pixel * (0.001 + 0.02 * np.exp(-((rows - ys) ** 2 + (cols - xs) ** 2) / (2 * sigma**2)))
    # float32 storage: relative error ~1e-7
    np.testing.assert_allclose(data.clean[0, rows, cols], expected, rtol=1e-5)


def test_z_contrast_intensities():
    # sum Z^1.7: a W column is 74^1.7, an S2 column 2 * 16^1.7
    assert column_intensity([74]) == pytest.approx(74**1.7)
    assert column_intensity([16, 16], zeta=2.0) == pytest.approx(512.0)
    with pytest.raises(ValueError, match="atomic_numbers"):
        column_intensity([0])


def test_mean_counts_follow_the_dose_and_poisson_noise():
    # The noisy image averages to the clean one; the variance is Poisson (= mean) plus detector noise^2.
    data = simulate_stem(200, dose=2e4, detector_noise=1.0, seed=1)
    resid = data.images.astype(float) - data.clean
    assert abs(resid.mean()) < 0.02  # 819200 pixels, noise std ~4: standard error ~0.005
    np.testing.assert_allclose(resid.var(), data.clean.mean() + 1.0, rtol=0.02)  # variance estimate, ~0.2 %
    # same seed and shapes: the same specimens at a 20x lower dose (float32: relative error ~1e-7)
    low = simulate_stem(200, dose=1e3, detector_noise=1.0, seed=1)
    np.testing.assert_allclose(low.clean, data.clean / 20, rtol=1e-5)


def test_defect_density_and_kinds():
    data = simulate_stem(300, defect_density=0.05, vacancy_fraction=1.0, seed=2)
    n_def = sum(len(p) for p in data.defect_positions)
    n_all = n_def + sum(len(p) for p in data.column_positions)
    # binomial fraction of ~45000 sites: standard error ~0.001
    assert abs(n_def / n_all - 0.05) < 0.005
    kinds = np.concatenate(data.defect_kinds)
    assert set(kinds) == {"V_W", "V_S2"}
    subs = simulate_stem(50, defect_density=0.05, vacancy_fraction=0.0, seed=2)
    assert set(np.concatenate(subs.defect_kinds)) == {"Mo_W", "SeS_S2"}
    none = simulate_stem(5, defect_density=0.0, seed=2)
    assert sum(len(p) for p in none.defect_positions) == 0 and not np.any(none.labels == 2)


def test_vacancy_removes_the_column_and_is_labelled():
    data = simulate_stem(20, defect_density=0.05, vacancy_fraction=1.0, scan_jitter=0.0, seed=3)
    for img, pos, lab in zip(data.clean, data.defect_positions, data.labels):
        for r, c in np.rint(pos).astype(int):
            if 2 <= r < 62 and 2 <= c < 62:
                assert lab[r, c] == 2
                # no column there: only background and the tails of neighbours (>= 4.5 px away)
                assert img[r, c] < 0.3 * img.max()


def test_square_lattice_and_lattice_spacing():
    data = simulate_stem(1, lattice="square", strain=0.0, rotation=0.0, scan_jitter=0.0, defect_density=0.0,
                         seed=4)
    pos = data.column_positions[0]
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    nearest = np.min(d + 1e9 * np.eye(len(pos)), axis=1)
    # Sr-TiO distance a / sqrt(2) = 0.3905 / 1.414 / 0.04 = 6.90 px
    np.testing.assert_allclose(nearest, LATTICES["square"].a / np.sqrt(2) / 0.04, rtol=1e-9)


def test_scan_jitter_shifts_lines():
    kw = dict(n_images=1, strain=0.0, rotation=0.0, defect_density=0.0, seed=5)
    still, shaky = simulate_stem(scan_jitter=0.0, **kw), simulate_stem(scan_jitter=1.0, **kw)
    assert not np.allclose(still.clean, shaky.clean)
    # jitter moves columns along x only: the row profile (sum over x) is nearly unchanged away from the edges
    np.testing.assert_allclose(shaky.clean[0, :, 10:54].sum(1), still.clean[0, :, 10:54].sum(1), rtol=0.1)


def test_thousands_of_images_in_seconds():
    start = time.perf_counter()
    data = simulate_stem(2000, seed=6)
    elapsed = time.perf_counter() - start
    assert data.images.shape == (2000, 64, 64)
    assert elapsed < 20  # about 2.5 s on an idle 2-core machine; generous for a shared CI runner


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_images": 0}, "n_images"),
    ({"size": 4}, "size"),
    ({"lattice": "cubic"}, "lattice='cubic'"),
    ({"lattice": 3}, "lattice should be"),
    ({"pixel_size": 0}, "pixel_size"),
    ({"defect_density": 1.5}, "defect_density"),
    ({"vacancy_fraction": -0.1}, "vacancy_fraction"),
    ({"strain": 0.5}, "strain"),
    ({"scan_jitter": -1}, "scan_jitter"),
    ({"probe_fwhm": 0}, "probe_fwhm"),
    ({"blur": -0.1}, "blur"),
    ({"dose": 0}, "dose"),
    ({"scattering": 0}, "scattering"),
    ({"background": 2}, "background"),
    ({"detector_noise": -1}, "detector_noise"),
    ({"zeta": 0}, "zeta"),
    ({"label_radius": -1}, "label_radius"),
    ({"dose": "high"}, "dose='high' should be a number"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        simulate_stem(**kwargs)


def test_plot_stem_labels_axes_in_nm():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = simulate_stem(1, seed=7)
    fig, ax = plt.subplots()
    plot_stem(ax, data)
    assert ax.get_xlabel() == "x (nm)" and ax.get_ylabel() == "y (nm)"
    with pytest.raises(TypeError, match="STEMImages"):
        plot_stem(ax, data.images)
    plt.close(fig)
