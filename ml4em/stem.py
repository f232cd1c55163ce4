"""A seeded, vectorised simulator of atomic-resolution ADF-STEM images with point defects.

Atomic columns sit on a 2-D crystal lattice (a WS2-like honeycomb or a
SrTiO3-like square lattice), each drawn as a Gaussian probe whose height grows
with the atomic numbers in the column (Z-contrast, ``sum Z**zeta``). A chosen
fraction of the columns are point defects: vacancies (the column is missing)
or substitutions (a heavier or lighter element). A random homogeneous strain
and rotation, line-to-line scan jitter, probe blur, Poisson shot noise at a
chosen electron dose and Gaussian detector noise make the images look like
measured ones. Every image comes with its noise-free expected counts, a
per-pixel label map (0 background, 1 column, 2 defect) and the list of defect
positions, so that defect finding (tutorials/04_cnn), partial-scan completion
(tutorials/05_gan) and network design (tutorials/06_genetic_algorithms) have a
known truth.

This is a teaching simulator, not a multislice code: it has no channelling,
no probe tails and no cross-talk between columns. Training networks on
simulated images and applying them to measured ones follows Madsen et al.,
Adv. Theory Simul. 1, 1800037 (2018), doi:10.1002/adts.201800037, who used
full multislice simulations.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Lattice", "LATTICES", "STEMImages", "column_intensity", "simulate_stem", "plot_stem"]

#: Label values of :attr:`STEMImages.labels`.
BACKGROUND, COLUMN, DEFECT = 0, 1, 2


@dataclass(frozen=True)
class Lattice:
    """A 2-D crystal projected along the beam.

    Parameters
    ----------
    name : str
    a : float, nm
        Lattice constant.
    vectors : tuple of two (x, y) pairs, in units of ``a``
        Primitive vectors.
    basis : tuple of (u, v) pairs
        Fractional coordinates of the columns in the cell.
    sites : tuple of str
        Name of each basis column ("W", "S2").
    columns : tuple of tuples of int
        Atomic numbers of the atoms in each basis column.
    substitutes : tuple of tuples of int
        Atomic numbers of each column after a substitution.
    substitute_names : tuple of str
        Name of the substituting species of each basis column ("Mo").
    """

    name: str
    a: float
    vectors: tuple
    basis: tuple
    sites: tuple
    columns: tuple
    substitutes: tuple
    substitute_names: tuple


#: The built-in lattices: a WS2 monolayer seen along c (W columns and S2 columns on a
#: honeycomb, Mo and Se as dopants) and SrTiO3 along [001] (Sr and TiO columns; the
#: faint pure-O columns are left out), La and Nb as dopants.
LATTICES = {
    "hexagonal": Lattice("hexagonal", 0.3153, ((1.0, 0.0), (0.5, np.sqrt(3) / 2)), ((0.0, 0.0), (1 / 3, 1 / 3)),
                         ("W", "S2"), ((74,), (16, 16)), ((42,), (16, 34)), ("Mo", "SeS")),
    "square": Lattice("square", 0.3905, ((1.0, 0.0), (0.0, 1.0)), ((0.0, 0.0), (0.5, 0.5)),
                      ("Sr", "TiO"), ((38,), (22, 8)), ((57,), (41, 8)), ("La", "Nb")),
}


def column_intensity(atomic_numbers, *, zeta=1.7):
    """ADF intensity of one atomic column, ``sum(Z**zeta)`` (arbitrary units).

    Parameters
    ----------
    atomic_numbers : sequence of int
        Atomic numbers of the atoms stacked in the column.
    zeta : float, default 1.7
        Z-contrast exponent of annular dark-field imaging (between about 1.6 and 2).

    Examples
    --------
    >>> round(column_intensity([16, 16]) / column_intensity([74]), 3)
    0.148
    """
    z = np.asarray(atomic_numbers, dtype=float)
    if z.ndim != 1 or np.any(z < 1):
        raise ValueError(f"atomic_numbers={atomic_numbers!r} should be a list of atomic numbers >= 1.")
    return float(np.sum(z**zeta))


@dataclass
class STEMImages:
    """Simulated ADF-STEM images and their truth (returned by :func:`simulate_stem`).

    Attributes
    ----------
    images : ndarray of shape (n_images, size, size), float32, counts
        Noisy images: Poisson counts plus Gaussian detector noise.
    clean : ndarray of shape (n_images, size, size), float32, counts
        Expected counts without noise.
    labels : ndarray of shape (n_images, size, size), uint8
        0 background, 1 intact column, 2 defect (within ``label_radius`` of the site).
    defect_positions : list of ndarray of shape (n_defects_i, 2), pixels
        (row, column) of each defect in each image, as it appears in the image.
    defect_kinds : list of ndarray of str, shape (n_defects_i,)
        ``"V_W"`` for a vacancy on a W site, ``"Mo_W"`` for Mo on a W site, and so on.
    column_positions : list of ndarray of shape (n_columns_i, 2), pixels
        (row, column) of every intact column inside each image (the defects are in ``defect_positions``).
    pixel_size : float, nm
    dose : float, electrons per square angstrom
    lattice : Lattice
    """

    images: np.ndarray
    clean: np.ndarray
    labels: np.ndarray
    defect_positions: list
    defect_kinds: list
    column_positions: list
    pixel_size: float
    dose: float
    lattice: Lattice = field(repr=False)

    def __len__(self):
        return self.images.shape[0]

    @property
    def defect_mask(self):
        """Boolean ndarray of shape (n_images, size, size): True on defect pixels."""
        return self.labels == DEFECT


def _check(name, value, low, high=np.inf, *, low_open=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={value!r} should be a number.") from None
    ok = (v > low if low_open else v >= low) and v <= high
    if not ok:
        lo = f"> {low}" if low_open else f">= {low}"
        hi = "" if high == np.inf else f" and <= {high}"
        raise ValueError(f"{name}={value!r} should be {lo}{hi}; pass a value in that range.")
    return v


def _patches(ys, xs, shift, size, radius):
    """Pixels around each site: flat indices into (n, size, size), squared distances, in-bounds mask.

    ``ys``, ``xs`` of shape (n, m) are specimen positions in pixels; ``shift`` of shape (n, size) is each
    scan line's x offset: pixel (r, c) images the specimen at x = c + shift[r]. Returned arrays have
    shape (n, m, p, p) with p = 2 * radius + 1.
    """
    n = ys.shape[0]
    offsets = np.arange(-radius, radius + 1)
    rows = np.rint(ys)[:, :, None] + offsets  # (n, m, p)
    cols = np.rint(xs)[:, :, None] + offsets
    rows_i = np.clip(rows, 0, size - 1).astype(np.int64)
    cols_i = np.clip(cols, 0, size - 1).astype(np.int64)
    line_shift = np.take_along_axis(shift[:, None, :], rows_i, axis=2)  # (n, m, p)
    dy2 = ((rows - ys[:, :, None]) ** 2)[:, :, :, None]
    dx = cols[:, :, None, :] + line_shift[:, :, :, None] - xs[:, :, None, None]
    inb = ((rows >= 0) & (rows < size))[:, :, :, None] & ((cols >= 0) & (cols < size))[:, :, None, :]
    flat = np.arange(n)[:, None, None, None] * size * size + rows_i[:, :, :, None] * size + cols_i[:, :, None, :]
    return flat, dy2 + dx**2, inb


def simulate_stem(n_images=1, *, size=64, lattice="hexagonal", pixel_size=0.04, defect_density=0.03,
                  vacancy_fraction=0.5, strain=0.01, rotation=None, scan_jitter=0.2, probe_fwhm=0.1, blur=0.0,
                  dose=2e4, scattering=0.02, background=0.002, detector_noise=1.0, zeta=1.7, label_radius=0.06,
                  seed=None):
    """Simulate ADF-STEM images of a crystal with point defects.

    Parameters
    ----------
    n_images : int, default 1
    size : int, default 64
        Images are ``size x size`` pixels.
    lattice : {"hexagonal", "square"} or Lattice
        "hexagonal": a WS2 monolayer (W and S2 columns, Mo and Se dopants);
        "square": SrTiO3 [001] (Sr and TiO columns, La and Nb dopants).
    pixel_size : float, nm, default 0.04
    defect_density : float, default 0.03
        Probability that a column is a defect (0 to 1).
    vacancy_fraction : float, default 0.5
        Probability that a defect is a vacancy rather than a substitution.
    strain : float, default 0.01
        Standard deviation of the entries of a random homogeneous strain tensor (dimensionless).
    rotation : float, degrees, optional
        Lattice orientation; default a random angle per image.
    scan_jitter : float, pixels, default 0.2
        Standard deviation of the random x offset of each scan line (scan distortion).
    probe_fwhm : float, nm, default 0.1
        Full width at half maximum of the Gaussian probe.
    blur : float, nm, default 0
        Extra Gaussian blur (source size, vibration), FWHM added in quadrature to the probe's.
    dose : float, electrons per square angstrom, default 2e4
        Electron dose; the electrons per pixel are ``dose * (10 * pixel_size)**2``.
    scattering : float, default 0.02
        Fraction of the electrons scattered onto the ADF detector with the probe on the brightest intact column.
    background : float, default 0.002
        Fraction scattered onto the detector everywhere (support film, contamination).
    detector_noise : float, counts, default 1
        Standard deviation of the Gaussian detector noise.
    zeta : float, default 1.7
        Z-contrast exponent (see :func:`column_intensity`).
    label_radius : float, nm, default 0.06
        Pixels within this distance of a site are labelled column (1) or defect (2).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    STEMImages

    Examples
    --------
    >>> data = simulate_stem(3, seed=0)
    >>> data.images.shape, data.labels.dtype.name
    ((3, 64, 64), 'uint8')
    >>> np.unique(data.labels).tolist()
    [0, 1, 2]
    >>> all(len(p) == len(k) for p, k in zip(data.defect_positions, data.defect_kinds))
    True
    """
    if isinstance(lattice, str):
        if lattice not in LATTICES:
            raise ValueError(f"lattice={lattice!r} is not known; choose one of {sorted(LATTICES)} or pass a Lattice.")
        lattice = LATTICES[lattice]
    elif not isinstance(lattice, Lattice):
        raise TypeError(f"lattice should be a name in {sorted(LATTICES)} or a Lattice; got {type(lattice).__name__}.")
    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) or n_images < 1:
        raise ValueError(f"n_images={n_images!r} should be a positive integer.")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size={size!r} should be an integer >= 8 (pixels).")
    pixel_size = _check("pixel_size", pixel_size, 0.0, low_open=True)
    defect_density = _check("defect_density", defect_density, 0.0, 1.0)
    vacancy_fraction = _check("vacancy_fraction", vacancy_fraction, 0.0, 1.0)
    strain = _check("strain", strain, 0.0, 0.2)
    scan_jitter = _check("scan_jitter", scan_jitter, 0.0)
    probe_fwhm = _check("probe_fwhm", probe_fwhm, 0.0, low_open=True)
    blur = _check("blur", blur, 0.0)
    dose = _check("dose", dose, 0.0, low_open=True)
    scattering = _check("scattering", scattering, 0.0, 1.0, low_open=True)
    background = _check("background", background, 0.0, 1.0)
    detector_noise = _check("detector_noise", detector_noise, 0.0)
    zeta = _check("zeta", zeta, 0.0, low_open=True)
    label_radius = _check("label_radius", label_radius, 0.0)
    rng = np.random.default_rng(seed)
    n, size = int(n_images), int(size)

    # sites of an unstrained lattice within a disc that covers the field of view after any rotation
    a_px = lattice.a / pixel_size
    vec = np.asarray(lattice.vectors, dtype=float) * a_px  # (2, 2): rows a1, a2 in pixels (x, y)
    basis = np.asarray(lattice.basis, dtype=float) @ vec  # (k, 2)
    reach = size / np.sqrt(2) * (1 + 4 * strain) + 2 * a_px
    height = abs(np.linalg.det(vec)) / np.max(np.hypot(*vec.T))  # smallest distance between rows of cells
    n_cells = int(np.ceil(reach / height)) + 1
    ij = np.stack(np.meshgrid(np.arange(-n_cells, n_cells + 1), np.arange(-n_cells, n_cells + 1)), -1).reshape(-1, 2)
    sites = (ij @ vec)[:, None, :] + basis[None, :, :]  # (cells, k, 2)
    kind = np.broadcast_to(np.arange(len(basis)), sites.shape[:2]).ravel()
    sites = sites.reshape(-1, 2)
    keep = np.hypot(*sites.T) < reach
    sites, kind = sites[keep], kind[keep]
    m = len(sites)

    # per image: strain, rotation, offset (one cell), line jitter
    e = strain * rng.standard_normal((n, 2, 2))
    deform = np.eye(2) + 0.5 * (e + e.transpose(0, 2, 1))
    theta = np.deg2rad(rng.uniform(0, 360, n) if rotation is None else np.full(n, float(rotation)))
    rot = np.stack([np.stack([np.cos(theta), -np.sin(theta)], -1), np.stack([np.sin(theta), np.cos(theta)], -1)], -2)
    offset = rng.uniform(0, 1, (n, 1, 2)) @ vec + (size - 1) / 2
    xy = np.einsum("nij,njk,mk->nmi", rot, deform, sites) + offset  # (n, m, 2) specimen (x, y), pixels
    shift = scan_jitter * rng.standard_normal((n, size))
    xs, ys = xy[..., 0], xy[..., 1]

    # defects: vacancies (no column) and substitutions
    intact = np.array([column_intensity(c, zeta=zeta) for c in lattice.columns])
    subs = np.array([column_intensity(c, zeta=zeta) for c in lattice.substitutes])
    is_defect = rng.random((n, m)) < defect_density
    is_vacancy = is_defect & (rng.random((n, m)) < vacancy_fraction)
    weights = np.where(is_defect, np.where(is_vacancy, 0.0, subs[kind]), intact[kind]) / intact.max()

    sigma = np.hypot(probe_fwhm, blur) / pixel_size / (2 * np.sqrt(2 * np.log(2)))
    radius = max(int(np.ceil(4 * sigma + 3 * scan_jitter)), int(np.ceil(label_radius / pixel_size))) + 1
    margin = radius + 1
    near = (ys > -margin) & (ys < size - 1 + margin) & (xs > -margin) & (xs < size - 1 + margin)
    # where each site appears in the image: its row, and x minus the shift of that row
    row_of = np.clip(np.rint(ys), 0, size - 1).astype(int)
    xs_img = xs - np.take_along_axis(shift, row_of, axis=1)
    inside = (ys >= -0.5) & (ys < size - 0.5) & (xs_img >= -0.5) & (xs_img < size - 0.5)

    # keep only the sites near the field of view, packed to the front of each image's list
    order = np.argsort(~near, axis=1, kind="stable")[:, : max(1, int(near.sum(axis=1).max()))]
    ys_n, xs_n, near_n, defect_n, w_n = (np.take_along_axis(v, order, axis=1)
                                         for v in (ys, xs, near, is_defect, weights))
    w_n = np.where(near_n, w_n, 0.0)[:, :, None, None]
    clean = np.empty((n, size, size), dtype=np.float32)
    labels = np.zeros((n, size, size), dtype=np.uint8)
    r_label = label_radius / pixel_size
    chunk = max(1, int(2e6 // (order.shape[1] * (2 * radius + 1) ** 2)))
    for start in range(0, n, chunk):
        s = slice(start, start + chunk)
        flat, d2, inb = _patches(ys_n[s], xs_n[s], shift[s], size, radius)
        g = np.exp(-0.5 / sigma**2 * d2) * inb * w_n[s]
        clean[s] = np.bincount(flat.ravel(), weights=g.ravel(), minlength=g.shape[0] * size * size
                               ).reshape(-1, size, size)
        if r_label > 0:
            disc = (d2 <= r_label**2) & inb & near_n[s][:, :, None, None]
            d = defect_n[s][:, :, None, None]
            lab = np.zeros(g.shape[0] * size * size, dtype=np.uint8)
            lab[flat[disc & ~d]] = COLUMN
            lab[flat[disc & d]] = DEFECT  # a defect wins where discs touch
            labels[s] = lab.reshape(-1, size, size)

    per_pixel = dose * (10 * pixel_size) ** 2
    clean *= per_pixel * scattering
    clean += per_pixel * background
    images = rng.poisson(clean).astype(np.float32)
    if detector_noise > 0:
        images += (detector_noise * rng.standard_normal(images.shape)).astype(np.float32)

    names = np.array([f"{lattice.substitute_names[k]}_{lattice.sites[k]}" for k in range(len(basis))])
    vac = np.array([f"V_{lattice.sites[k]}" for k in range(len(basis))])
    pos = np.stack([ys, xs_img], -1)
    defect_positions, defect_kinds, column_positions = [], [], []
    for i in range(n):
        found = inside[i] & is_defect[i]
        defect_positions.append(pos[i, found])
        defect_kinds.append(np.where(is_vacancy[i, found], vac[kind[found]], names[kind[found]]))
        column_positions.append(pos[i, inside[i] & ~is_defect[i]])
    return STEMImages(images=images, clean=clean, labels=labels, defect_positions=defect_positions,
                      defect_kinds=defect_kinds, column_positions=column_positions, pixel_size=pixel_size,
                      dose=dose, lattice=lattice)


def plot_stem(ax, data, index=0, *, show_defects=True, title=None):
    """Draw image ``index`` of ``data`` with axes in nm and the true defects circled.

    Parameters
    ----------
    ax : matplotlib Axes
    data : STEMImages
    index : int
    show_defects : bool, default True
        Circle the true defect sites.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    if not isinstance(data, STEMImages):
        raise TypeError(f"data should be the STEMImages returned by simulate_stem; got {type(data).__name__}.")
    size = data.images.shape[-1]
    extent = (-0.5 * data.pixel_size, (size - 0.5) * data.pixel_size, (size - 0.5) * data.pixel_size,
              -0.5 * data.pixel_size)
    im = ax.imshow(data.images[index], cmap="gray", extent=extent)
    if show_defects and len(data.defect_positions[index]):
        p = data.defect_positions[index] * data.pixel_size
        ax.scatter(p[:, 1], p[:, 0], s=120, facecolors="none", edgecolors="#E69F00", linewidths=1.5,
                   label="defect (truth)")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return im
