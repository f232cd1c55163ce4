"""ml4em.phase's numpy weak-phase model against abTEM's multislice simulation (optional extra ``sim``).

One case, a periodic cell of graphene (4 x 2 orthogonal cells, 32 atoms) at 300 kV: the constants, the transfer
function applied to the same exit wave, the projected potential, and the image of the whole chain.
Skipped when abTEM is not installed (``pip install -e ".[sim]"``); abTEM's import takes about 5 s.
"""

import numpy as np
import pytest

from ml4em import phase

abtem = pytest.importorskip("abtem")
ase = pytest.importorskip("ase")

ENERGY_KEV = 300.0
A = 2.46  # graphene lattice constant, Å


@pytest.fixture(scope="module")
def graphene():
    """abTEM's projected potential of a periodic graphene cell: (potential as (rows=y, cols=x) in V Å, sampling)."""
    abtem.config.set({"device": "cpu"})
    cell = ase.Atoms("C4", scaled_positions=[(0, 0, 0.5), (0.5, 1 / 6, 0.5), (0.5, 0.5, 0.5), (0, 2 / 3, 0.5)],
                     cell=(A, A * np.sqrt(3), 4.0), pbc=True)
    atoms = cell * (4, 2, 1)
    potential = abtem.Potential(atoms, gpts=(80, 68), parametrization="lobato", projection="infinite",
                                slice_thickness=4.0)
    array = potential.build().compute(progress_bar=False).array.sum(axis=0)  # abTEM's first axis is x
    dx, dy = potential.sampling
    return atoms, potential, array.T, (dy, dx)


def _lowpass(image, sampling, k_max):
    ky = np.fft.fftfreq(image.shape[0], sampling[0])[:, None]
    kx = np.fft.fftfreq(image.shape[1], sampling[1])[None, :]
    return np.real(np.fft.ifft2(np.fft.fft2(image) * (np.hypot(kx, ky) <= k_max)))


def test_wavelength_and_interaction_constant_match_abtem():
    from abtem.core.energy import energy2sigma, energy2wavelength

    # both are closed forms with CODATA constants: agreement to 1e-6 (abTEM's constants carry more digits)
    assert phase.wavelength(ENERGY_KEV) == pytest.approx(energy2wavelength(ENERGY_KEV * 1e3), rel=1e-6)
    assert phase.interaction_constant(ENERGY_KEV) == pytest.approx(energy2sigma(ENERGY_KEV * 1e3), rel=1e-6)


@pytest.mark.parametrize("defocus, cs", [(100.0, 1e5), (-250.0, 1.2e7), (600.0, 0.0)])
def test_transfer_function_matches_abtem_ctf(defocus, cs):
    rng = np.random.default_rng(0)
    shape, sampling = (64, 48), 0.2
    wave = np.exp(1j * 0.2 * rng.standard_normal(shape))
    waves = abtem.Waves(wave.astype(np.complex64), energy=ENERGY_KEV * 1e3, sampling=sampling)
    ctf = abtem.CTF(energy=ENERGY_KEV * 1e3, defocus=defocus, Cs=cs, semiangle_cutoff=20.0, soft=False)
    theirs = waves.apply_ctf(ctf).intensity().compute(progress_bar=False).array
    ours = phase.image_intensity(wave, phase.transfer_function(shape, sampling, beam_energy=ENERGY_KEV,
                                                                defocus=defocus, cs=cs, aperture=20.0))
    # abTEM computes in single precision: intensities of order 1 agree to ~1e-6
    np.testing.assert_allclose(ours, theirs, atol=2e-5)


def test_projected_potential_matches_abtem_within_the_first_reflections(graphene):
    atoms, _, theirs, sampling = graphene
    positions = atoms.positions[:, [1, 0]]  # (y, x)
    ours = phase.projected_potential(positions, np.full(len(positions), phase.ATOM_POTENTIAL["C"]), theirs.shape,
                                     sampling, periodic=True)
    # the integral: ATOM_POTENTIAL is the Lobato potential integrated numerically, rounded to 0.1 V Å^2 (0.1 %)
    assert ours.mean() == pytest.approx(theirs.mean(), rel=2e-3)
    # band-limited to graphene's first-order reflections (0.47 1/Å; cut at 0.6 1/Å), the Gaussian columns of width
    # 0.4 Å reproduce abTEM's map to ~1 % of its contrast (measured 0.9 %); beyond, the true atom is sharper
    a, b = _lowpass(theirs, sampling, 0.6), _lowpass(ours, sampling, 0.6)
    assert np.sqrt(np.mean((a - b) ** 2)) / a.std() < 0.03


def test_image_of_graphene_matches_abtem_multislice(graphene):
    _, potential, theirs_v, sampling = graphene
    defocus, cs = 200.0, 1e5
    aperture = 0.6 * phase.wavelength(ENERGY_KEV) * 1e3  # mrad: passes up to 0.6 1/Å, the first reflections
    exit_wave = abtem.PlaneWave(energy=ENERGY_KEV * 1e3).multislice(potential)
    ctf = abtem.CTF(energy=ENERGY_KEV * 1e3, defocus=defocus, Cs=cs, semiangle_cutoff=aperture, soft=False)
    theirs = exit_wave.apply_ctf(ctf).intensity().compute(progress_bar=False).array.T
    atoms_positions = graphene[0].positions[:, [1, 0]]
    v = phase.projected_potential(atoms_positions, np.full(len(atoms_positions), phase.ATOM_POTENTIAL["C"]),
                                  theirs_v.shape, sampling, periodic=True)
    # our chain on a (y, x) grid with rectangular pixels: the transfer function on that grid
    ky = np.fft.fftfreq(v.shape[0], sampling[0])[:, None]
    kx = np.fft.fftfreq(v.shape[1], sampling[1])[None, :]
    k = np.hypot(kx, ky)
    lam = phase.wavelength(ENERGY_KEV)
    H = np.where(lam * k <= aperture * 1e-3, np.exp(-1j * phase.aberration_phase(k, lam, defocus=defocus, cs=cs)), 0)
    ours = phase.image_intensity(np.exp(1j * phase.interaction_constant(ENERGY_KEV) * v), H)
    # the mean intensity differs by 0.2 %: the true atoms, sharper than our Gaussians, scatter more electrons
    # outside the aperture (the incident beam is 1)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=5e-3)
    # the contrast agrees to better than 10 % of its standard deviation (measured 6.5 %): the potentials differ by
    # ~1 % inside the aperture, but the exit wave exp(i sigma v) is not linear in v, so the sharper true atoms also
    # mix frequencies from outside the aperture into it; abTEM's multislice adds the (tiny) propagation through the
    # 4 Å slice
    contrast = theirs - theirs.mean()
    assert np.sqrt(np.mean((ours - ours.mean() - contrast) ** 2)) / contrast.std() < 0.10
    assert contrast.std() > 0.01  # a real image: graphene gives a few percent of contrast here
