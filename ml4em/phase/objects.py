"""Seeded weak-phase objects of 2D materials (graphene, WS2) and the images a TEM records of them.

A thin specimen in the projection approximation changes only the phase of the incident plane wave: the exit wave
is ``exp(1j * sigma * v_z)``, with ``v_z`` its projected potential (V Å) and ``sigma`` the interaction constant
(:func:`ml4em.phase.optics.interaction_constant`). Each atom contributes a Gaussian of width ``atom_width`` (a stand-in
for the atom's own size, thermal vibration and the finite resolution) whose integral is the atom's integrated
projected potential, taken from the parametrization of Lobato and Van Dyck (Acta Cryst. A70, 636 (2014),
doi:10.1107/S205327331401643X) as abTEM evaluates it (``tests/test_phase_abtem.py`` compares the two band-limited
potentials). Lattices are hexagonal, in projection along c: graphene a honeycomb of C (a = 2.46 Å), WS2 a honeycomb
of W and S2 columns (a = 3.153 Å, one 1H layer). ``n_layers`` stacks identical layers whose columns coincide in
projection, so the phase scales with the number of layers and the weak-phase approximation gets worse.

Used in: tutorials/11_phase_retrieval.
"""

from dataclasses import dataclass

import numpy as np

from .optics import image_intensity, interaction_constant

__all__ = ["ATOM_POTENTIAL", "MATERIALS", "Material", "atom_positions", "projected_potential", "make_phase_objects",
           "simulate_images"]

#: Integrated projected potential of one atom, V Å^2 (Lobato-Van Dyck parametrization, integrated numerically).
ATOM_POTENTIAL = {"C": 120.2, "S": 251.5, "W": 605.0}


@dataclass(frozen=True)
class Material:
    """A hexagonal 2D crystal in projection: lattice constant (Å) and columns (fractional position, atoms)."""

    name: str
    lattice_constant: float
    columns: tuple

    def column_potential(self):
        """Integrated projected potential of each column, V Å^2, shape (n_columns,)."""
        return np.array([sum(ATOM_POTENTIAL[a] for a in atoms) for _, atoms in self.columns])


MATERIALS = {
    "graphene": Material("graphene", 2.46, (((0.0, 0.0), ("C",)), ((1 / 3, 1 / 3), ("C",)))),
    "WS2": Material("WS2", 3.153, (((0.0, 0.0), ("W",)), ((1 / 3, 1 / 3), ("S", "S")))),
}


def _material(material):
    if isinstance(material, Material):
        return material
    if material not in MATERIALS:
        raise ValueError(f"material={material!r} is not known; choose one of {sorted(MATERIALS)}.")
    return MATERIALS[material]


def atom_positions(material, extent, *, rotation=0.0, shift=(0.0, 0.0)):
    """Positions of the atomic columns of ``material`` that fall in a field of view, Å.

    Parameters
    ----------
    material : str or Material
        "graphene" or "WS2".
    extent : (float, float), Å
        Height and width of the field of view; columns within 2 Å outside are kept too.
    rotation : float, rad
        Rotation of the lattice about the origin.
    shift : (float, float), Å
        Translation (y, x) of the lattice after the rotation.

    Returns
    -------
    positions : ndarray of shape (n_columns, 2), Å
        (y, x) of each column.
    kinds : ndarray of shape (n_columns,), int
        Index into ``material.columns``.

    Examples
    --------
    >>> pos, kinds = atom_positions("graphene", (10.0, 10.0))
    >>> pos.shape[1], sorted(set(kinds.tolist()))
    (2, [0, 1])
    """
    m = _material(material)
    height, width = (float(e) for e in extent)
    a = m.lattice_constant
    a1, a2 = np.array([0.0, a]), np.array([a * np.sqrt(3) / 2, a / 2])  # (y, x) lattice vectors
    reach = int(np.ceil(np.hypot(height, width) / a * 2 / np.sqrt(3))) + 3
    i, j = np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1), indexing="ij")
    cells = i.reshape(-1, 1) * a1 + j.reshape(-1, 1) * a2
    c, s = np.cos(rotation), np.sin(rotation)
    turn = np.array([[c, -s], [s, c]])
    positions, kinds = [], []
    for kind, ((f1, f2), _) in enumerate(m.columns):
        p = (cells + f1 * a1 + f2 * a2) @ turn.T + np.asarray(shift, dtype=float)
        positions.append(p)
        kinds.append(np.full(len(p), kind))
    positions, kinds = np.concatenate(positions), np.concatenate(kinds)
    inside = ((positions[:, 0] > -2) & (positions[:, 0] < height + 2) & (positions[:, 1] > -2)
              & (positions[:, 1] < width + 2))
    return positions[inside], kinds[inside]


def projected_potential(positions, potentials, shape, sampling, *, atom_width=0.4, periodic=False):
    """The projected potential of atomic columns, each a Gaussian of integral ``potentials[j]``, V Å.

    Pixel (i, j) is at (y, x) = (i, j) * sampling.

    Parameters
    ----------
    positions : ndarray of shape (n_columns, 2), Å
        (y, x) of each column.
    potentials : ndarray of shape (n_columns,), V Å^2
        Integrated projected potential of each column (:data:`ATOM_POTENTIAL`, summed over its atoms).
    shape : (int, int)
    sampling : float or (float, float), Å per pixel
        One value, or (along y, along x).
    atom_width : float, Å
        Standard deviation of the Gaussians; 0.4 Å matches the Lobato potential of carbon, band-limited to
        0.6 1/Å (graphene's first-order reflections), within 1 % (``tests/test_phase_abtem.py``).
    periodic : bool, default False
        Wrap the Gaussians around the edges (a periodic cell, as in a multislice simulation).

    Returns
    -------
    ndarray of shape ``shape``, V Å

    Examples
    --------
    >>> v = projected_potential(np.array([[2.0, 2.0]]), np.array([120.2]), (40, 40), 0.1)
    >>> round(float(v.sum() * 0.1**2), 1)  # the integral is kept
    120.2
    """
    positions = np.asarray(positions, dtype=float).reshape(-1, 2)
    potentials = np.asarray(potentials, dtype=float)
    ny, nx = (int(v) for v in shape)
    dy, dx = np.broadcast_to(np.asarray(sampling, dtype=float), (2,))
    y, x = np.arange(ny) * dy, np.arange(nx) * dx

    def gauss(axis, centres, length):
        offset = axis[:, None] - centres
        if periodic:
            offset = (offset + length / 2) % length - length / 2
        return np.exp(-0.5 * (offset / atom_width) ** 2)

    strength = potentials / (2 * np.pi * atom_width**2)
    return (gauss(y, positions[:, 0], ny * dy) * strength) @ gauss(x, positions[:, 1], nx * dx).T


def make_phase_objects(n_images, *, material="graphene", shape=(64, 64), sampling=0.2, beam_energy=300.0,
                       n_layers=1, vacancy_rate=0.03, atom_width=0.4, seed=None):
    """Phase maps of randomly rotated and shifted 2D crystals with vacancies.

    Parameters
    ----------
    n_images : int
    material : str
        "graphene" or "WS2".
    shape : (int, int)
        Rows and columns.
    sampling : float, Å per pixel
    beam_energy : float, keV
        Sets the interaction constant.
    n_layers : int
        Identical layers stacked on the same columns.
    vacancy_rate : float
        Probability that a column is missing, in [0, 1).
    atom_width : float, Å
        Standard deviation of each column's Gaussian (see :func:`projected_potential`).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_images, rows, columns), rad
        The phase ``sigma * v_z`` of the exit wave ``exp(1j * phase)``.

    Examples
    --------
    >>> phase = make_phase_objects(2, material="graphene", shape=(32, 32), seed=0)
    >>> phase.shape, bool(phase.min() >= 0)
    ((2, 32, 32), True)
    >>> bool(make_phase_objects(1, material="WS2", seed=0).max() > 3 * make_phase_objects(1, seed=0).max())
    True
    """
    m = _material(material)
    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) or n_images < 1:
        raise ValueError(f"n_images={n_images!r} should be a positive integer.")
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or n_layers < 1:
        raise ValueError(f"n_layers={n_layers!r} should be a positive integer (number of stacked layers).")
    if not 0 <= vacancy_rate < 1:
        raise ValueError(f"vacancy_rate={vacancy_rate!r} should be in [0, 1).")
    if not atom_width > 0:
        raise ValueError(f"atom_width={atom_width!r} should be a positive width in Å.")
    ny, nx = (int(v) for v in shape)
    d = float(sampling)
    if ny < 1 or nx < 1 or not d > 0:
        raise ValueError(f"shape={shape!r} and sampling={sampling!r} should be positive (pixels, Å per pixel).")
    rng = np.random.default_rng(seed)
    sigma = interaction_constant(beam_energy)
    column = sigma * n_layers * m.column_potential()  # integrated phase of each kind of column, rad Å^2
    out = np.empty((n_images, ny, nx))
    for i in range(n_images):
        a = m.lattice_constant
        positions, kinds = atom_positions(m, (ny * d, nx * d), rotation=rng.uniform(0, np.pi / 3),
                                          shift=rng.uniform(0, a, 2))
        keep = rng.random(len(positions)) >= vacancy_rate
        out[i] = projected_potential(positions[keep], column[kinds[keep]], (ny, nx), d, atom_width=atom_width)
    return out


def simulate_images(phase, transfer, *, dose=None, sampling=0.2, seed=None):
    """Bright-field TEM images of phase objects: intensity through ``transfer``, with Poisson noise at ``dose``.

    Parameters
    ----------
    phase : ndarray of shape (..., rows, columns), rad
    transfer : ndarray of shape (rows, columns), complex
        From :func:`ml4em.phase.optics.transfer_function`.
    dose : float, electrons per Å^2, optional
        None: the noise-free intensity.
    sampling : float, Å per pixel
        Pixel size, to turn the dose into counts per pixel.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (..., rows, columns), dimensionless
        Intensity relative to the incident beam (counts divided by the mean counts of vacuum).

    Examples
    --------
    >>> from ml4em.phase.optics import transfer_function
    >>> H = transfer_function((32, 32), 0.2, defocus=100.0, cs=1e5)
    >>> image = simulate_images(make_phase_objects(1, shape=(32, 32), seed=0), H, dose=1e4, seed=0)
    >>> image.shape, round(float(image.mean()), 1)
    ((1, 32, 32), 1.0)
    """
    intensity = image_intensity(np.exp(1j * np.asarray(phase, dtype=float)), transfer)
    if dose is None:
        return intensity
    if not dose > 0:
        raise ValueError(f"dose={dose!r} should be a positive number of electrons per Å^2 (or None: no noise).")
    counts_per_pixel = float(dose) * float(sampling) ** 2
    rng = np.random.default_rng(seed)
    return rng.poisson(intensity * counts_per_pixel) / counts_per_pixel
