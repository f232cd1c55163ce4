"""ml4em.phase: optics with known answers, the seeded objects, Gerchberg-Saxton and the phase error, the U-Net."""

import numpy as np
import pytest

from ml4em import phase


# -- optics -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kv, expected", [(80, 0.041757), (200, 0.025079), (300, 0.019687)])
def test_wavelength_known_values(kv, expected):
    # the usual textbook values of the relativistic wavelength (Å), to 6 decimals
    assert phase.wavelength(kv) == pytest.approx(expected, abs=2e-6)


def test_wavelength_relativistic_limit():
    # at low energy the classical h / sqrt(2 m E) is within 0.1 % (E / 2 m0c^2 = 1e-3 at 1 keV)
    classical = 12.398419843320026 / np.sqrt(2 * 510.99895 * 1.0)
    assert phase.wavelength(1.0) == pytest.approx(classical, rel=1e-3)


def test_interaction_constant_300kv():
    # 6.5262e-4 rad/(V Å) at 300 kV (abTEM's energy2sigma gives 6.52616e-4)
    assert phase.interaction_constant(300) == pytest.approx(6.52616e-4, rel=1e-5)


@pytest.mark.parametrize("bad", [0, -300, float("nan")])
def test_wavelength_rejects_bad_energy(bad):
    with pytest.raises(ValueError, match="beam_energy=.*positive"):
        phase.wavelength(bad)


def test_wavelength_rejects_text():
    with pytest.raises(TypeError, match="beam_energy='300 kV' should be a number"):
        phase.wavelength("300 kV")


def test_aberration_phase_terms_and_sign():
    lam = phase.wavelength(300)
    k = np.array([0.0, 0.3, 0.7])
    # k = 0: no phase; pure defocus: -pi lambda df k^2 (underfocus > 0 makes chi negative); pure Cs: pi Cs lam^3 k^4/2
    np.testing.assert_allclose(phase.aberration_phase(k, lam, defocus=400.0), -np.pi * lam * 400.0 * k**2,
                               rtol=1e-12)
    np.testing.assert_allclose(phase.aberration_phase(k, lam, cs=1.2e7), 0.5 * np.pi * 1.2e7 * lam**3 * k**4,
                               rtol=1e-12)
    assert phase.aberration_phase(0.0, lam, defocus=1e3, cs=1e7) == 0.0


@pytest.mark.parametrize("defocus", [100.0, 208.0, 600.0])
def test_first_zero_defocus_makes_chi_minus_pi(defocus):
    # above sqrt(2 Cs lambda) = 63 Å chi reaches -pi; the first zero is its smaller root
    lam, cs = phase.wavelength(300), 1e5
    # solve the smaller root of chi(k) = -pi numerically, then the closed form must return the defocus back
    k = np.linspace(1e-3, 3, 300001)
    chi = phase.aberration_phase(k, lam, defocus=defocus, cs=cs)
    k0 = k[np.argmax(chi <= -np.pi)]
    assert phase.first_zero_defocus(k0, cs, lam) == pytest.approx(defocus, rel=1e-3)  # grid step 1e-5 1/Å


def test_scherzer_defocus_value():
    # sqrt(4/3 Cs lambda) for Cs = 1.2 mm at 300 kV: 561.2 Å
    assert phase.scherzer_defocus(1.2e7, phase.wavelength(300)) == pytest.approx(561.25, abs=0.01)


def test_transfer_function_grid_aperture_and_k0():
    H = phase.transfer_function((10, 6), 0.2, defocus=150.0, cs=1e5, aperture=20.0)
    assert H.shape == (10, 6) and H[0, 0] == 1
    ky, kx = phase.spatial_frequencies((10, 6), 0.2)
    k = np.sqrt(kx**2 + ky**2)
    inside = phase.wavelength(300) * k <= 20e-3
    np.testing.assert_allclose(np.abs(H), inside.astype(float), atol=1e-12)
    # Hermitian symmetry in k (chi depends on |k| only): H(-k) = H(k)
    flipped = np.roll(H[::-1, ::-1], 1, axis=(0, 1))
    np.testing.assert_allclose(flipped, H, atol=1e-12)


def test_transfer_function_errors():
    with pytest.raises(ValueError, match="shape=.*two positive integers"):
        phase.transfer_function((0, 4), 0.2)
    with pytest.raises(ValueError, match="sampling=.*positive"):
        phase.transfer_function((4, 4), -0.2)
    with pytest.raises(ValueError, match="aperture=.*positive"):
        phase.transfer_function((4, 4), 0.2, aperture=0.0)


def test_propagate_shape_error():
    with pytest.raises(ValueError, match="do not match"):
        phase.propagate(np.ones((4, 5)), np.ones((4, 4)))


def test_weak_phase_image_follows_the_linear_ctf():
    # a weak phase object: I = 1 + 2 ifft2(fft2(phi) sin chi) to first order; the second order is ~phi^2 ~ 1e-6
    rng = np.random.default_rng(0)
    phi = 1e-3 * rng.standard_normal((32, 32))
    H = phase.transfer_function((32, 32), 0.2, defocus=120.0, cs=1e5, aperture=30.0)
    image = phase.image_intensity(np.exp(1j * phi), H)
    ky, kx = phase.spatial_frequencies((32, 32), 0.2)
    sin_chi = np.sin(phase.aberration_phase(np.sqrt(kx**2 + ky**2), phase.wavelength(300), defocus=120.0, cs=1e5))
    linear = 1 + 2 * np.real(np.fft.ifft2(np.fft.fft2(phi) * sin_chi * (np.abs(H) > 0)))
    np.testing.assert_allclose(image, linear, atol=2e-5)


def test_plot_ctf_first_zero():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    first = phase.plot_ctf(ax, 208.0, 1e5, mark_k=0.5)
    assert first == pytest.approx(0.5, abs=2e-3)  # the closed form puts it at 0.5 1/Å; grid step 2.5e-4
    assert ax.get_xlabel().endswith("(1/Å)")
    plt.close(fig)


# -- objects -----------------------------------------------------------------------------------------------------------

def test_phase_objects_are_seeded_and_scale_with_layers():
    a = phase.make_phase_objects(3, shape=(32, 32), seed=4)
    b = phase.make_phase_objects(3, shape=(32, 32), seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, phase.make_phase_objects(3, shape=(32, 32), seed=5))
    thick = phase.make_phase_objects(3, shape=(32, 32), n_layers=3, seed=4)
    np.testing.assert_allclose(thick, 3 * a, rtol=1e-12)


def test_phase_object_integral_matches_the_atoms():
    # no vacancies, a big field: the mean phase is sigma * (potential per cell) / (cell area), up to edge effects
    phi = phase.make_phase_objects(1, shape=(200, 200), sampling=0.1, vacancy_rate=0.0, seed=0)[0]
    a = 2.46
    expected = phase.interaction_constant(300) * 2 * phase.ATOM_POTENTIAL["C"] / (np.sqrt(3) / 2 * a**2)
    assert phi.mean() == pytest.approx(expected, rel=0.02)  # a 20 Å field holds ~120 cells: edges ~1 %


def test_atom_positions_nearest_neighbours():
    pos, kinds = phase.atom_positions("graphene", (20.0, 20.0), rotation=0.3)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    d[d == 0] = np.inf
    np.testing.assert_allclose(d.min(axis=1), 2.46 / np.sqrt(3), rtol=1e-9)  # C-C bond 1.42 Å


def test_simulate_images_noise_level():
    H = phase.transfer_function((64, 64), 0.2)
    flat = np.zeros((4, 64, 64))
    image = phase.simulate_images(flat, H, dose=1e4, sampling=0.2, seed=0)
    # 400 electrons per pixel: relative Poisson noise 1/sqrt(400) = 5 %; 16384 pixels give the std to ~1 %
    assert image.std() == pytest.approx(0.05, rel=0.03)
    np.testing.assert_allclose(phase.simulate_images(flat, H), 1.0, atol=1e-12)


@pytest.mark.parametrize("kwargs, match", [({"material": "MoS3"}, "material='MoS3' is not known"),
                                           ({"n_layers": 0}, "n_layers=0 should be a positive integer"),
                                           ({"vacancy_rate": 1.0}, r"vacancy_rate=1.0 should be in \[0, 1\)"),
                                           ({"atom_width": 0.0}, "atom_width=0.0 should be a positive")])
def test_phase_objects_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        phase.make_phase_objects(1, **kwargs)


def test_simulate_images_rejects_bad_dose():
    with pytest.raises(ValueError, match="dose=0 should be a positive"):
        phase.simulate_images(np.zeros((4, 4)), np.ones((4, 4)), dose=0)


# -- retrieval ---------------------------------------------------------------------------------------------------------

def test_phase_error_offsets_and_wraps():
    rng = np.random.default_rng(1)
    truth = rng.uniform(-np.pi, np.pi, (16, 16))
    noise = 0.1 * rng.standard_normal((16, 16))
    assert phase.phase_error(truth + 2.0, truth) == pytest.approx(0.0, abs=1e-12)
    assert phase.phase_error(truth + 2 * np.pi, truth) == pytest.approx(0.0, abs=1e-12)
    # near pi the arithmetic mean would fail; the circular mean gives the noise's own spread
    assert phase.phase_error(truth + np.pi + noise, truth) == pytest.approx(noise.std(), rel=0.01)
    batch = phase.phase_error(np.stack([truth + noise, truth]), np.stack([truth, truth]))
    assert batch.shape == (2,) and batch[1] == 0


def test_phase_error_shape_error():
    with pytest.raises(ValueError, match="same shape"):
        phase.phase_error(np.zeros((4, 4)), np.zeros((4, 5)))


def test_gs_step_fixed_point_and_back_propagation():
    rng = np.random.default_rng(2)
    wave = np.exp(1j * 0.2 * rng.standard_normal((12, 12)))
    H = np.stack([phase.transfer_function((12, 12), 0.25, defocus=f, cs=1e5) for f in (80.0, 250.0)])
    amplitudes = np.abs(np.fft.ifft2(np.fft.fft2(wave)[None] * H))
    np.testing.assert_allclose(phase.gs_step(wave, amplitudes, H), wave, atol=1e-12)


def test_gerchberg_saxton_recovers_a_noise_free_phase():
    phi = phase.make_phase_objects(1, shape=(32, 32), sampling=0.25, seed=3)[0]
    H = np.stack([phase.transfer_function((32, 32), 0.25, defocus=f, cs=1e5, aperture=25.0) for f in (100.0, 300.0)])
    band = np.real(np.fft.ifft2(np.fft.fft2(phi) * (np.abs(H[0]) > 0)))
    images = phase.image_intensity(np.exp(1j * phi), H)
    start = phase.phase_error(np.zeros_like(phi), band)
    error = phase.phase_error(np.angle(phase.gerchberg_saxton(images, H, n_iter=200)), band)
    assert error < 0.1 * start  # measured: ~0.003 rad against 0.035 rad for a flat guess
    pure = phase.phase_error(np.angle(phase.gerchberg_saxton(images, H, n_iter=200, pure_phase=True)), band)
    assert pure < 0.1 * start


def test_gerchberg_saxton_errors():
    with pytest.raises(ValueError, match="n_iter=-1"):
        phase.gerchberg_saxton(np.ones((1, 4, 4)), np.ones((1, 4, 4)), n_iter=-1)
    with pytest.raises(ValueError, match="should share"):
        phase.gs_step(np.ones((4, 4)), np.ones((2, 4, 4)), np.ones((1, 4, 4)))


# -- the U-Net --------------------------------------------------------------------------------------------------------

def test_image_to_input_scales_without_normalising():
    x = phase.image_to_input(np.full((2, 4, 4), 1.05))
    assert x.shape == (2, 4, 4, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x, 0.5, rtol=1e-5)
    with pytest.raises(ValueError, match="image\\[None\\]"):
        phase.image_to_input(np.ones((4, 4)))


def test_phase_net_learns_and_is_seeded():
    H = phase.transfer_function((16, 16), 0.25, defocus=100.0, cs=1e5, aperture=25.0)
    phi = phase.make_phase_objects(64, shape=(16, 16), sampling=0.25, seed=0)
    images = phase.simulate_images(phi, H)
    a = phase.PhaseNet(filters=4, depth=1, epochs=3, batch_size=16, seed=0).fit(images, phi, monitor=False)
    b = phase.PhaseNet(filters=4, depth=1, epochs=3, batch_size=16, seed=0).fit(images, phi, monitor=False)
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-4)  # same seed, same run
    assert a.history_["loss"][-1] < a.history_["loss"][0]
    assert a.predict(images[:2]).shape == (2, 16, 16)
    with pytest.raises(RuntimeError, match="not fitted"):
        phase.PhaseNet().predict(images)
    with pytest.raises(ValueError, match="epochs=0"):
        phase.PhaseNet(epochs=0).fit(images, phi, monitor=False)
