"""A seeded simulator of bright-field TEM images of nanoparticles whose truth is known.

Four shapes (spheres, rods, cubes, triangles, seen in projection as discs, stadiums, squares and equilateral
triangles) with a log-normal size distribution, some of them in contact or slightly overlapping, dark on a
bright, uneven support film; then blur (the microscope's point spread and defocus) and Poisson noise at a given
dose. The label image and the class of every particle come with it, so every later step can be scored.

The setting follows B. Lee et al., *Statistical characterization of the morphologies of nanoparticles through
machine learning based electron microscopy image analysis*, ACS Nano 14, 17125 (2020),
doi:10.1021/acsnano.0c06809, who segmented and classified thousands of such particles automatically.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["SHAPES", "N_CORNERS", "ParticleImage", "shape_mask", "simulate_particles", "touching_pairs_image"]

#: The particle classes, in the order of their class index.
SHAPES = ("sphere", "rod", "cube", "triangle")
#: Corners of each shape's projection: maxima of the radius along the outline (a rod has its two ends).
N_CORNERS = {"sphere": 0, "rod": 2, "cube": 4, "triangle": 3}


def _kind(kind):
    if isinstance(kind, (int, np.integer)) and not isinstance(kind, bool) and 0 <= kind < len(SHAPES):
        return SHAPES[int(kind)]
    if kind not in SHAPES:
        raise ValueError(f"kind={kind!r} should be one of {SHAPES} (or its index 0-{len(SHAPES) - 1}).")
    return kind


def _local_mask(kind, size, aspect, angle):
    """Boolean mask of one particle on its own small grid, centred; ``size`` in pixels."""
    # half-extent of the particle (its circumradius) decides the grid
    if kind == "rod":
        width = 0.6 * size
        reach = 0.5 * aspect * width
    elif kind == "cube":
        reach = 0.85 * size / np.sqrt(2)
    elif kind == "triangle":
        reach = 1.3 * size / np.sqrt(3)
    else:
        reach = 0.5 * size
    half = int(np.ceil(reach)) + 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(float)
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * x + s * y, -s * x + c * y  # coordinates along and across the particle
    if kind == "sphere":
        mask = x**2 + y**2 <= (0.5 * size) ** 2
    elif kind == "rod":  # stadium: within width/2 of a segment of length (aspect - 1) * width
        half_seg = 0.5 * (aspect - 1.0) * width
        mask = (np.clip(np.abs(u) - half_seg, 0, None) ** 2 + v**2) <= (0.5 * width) ** 2
    elif kind == "cube":
        side = 0.85 * size
        mask = (np.abs(u) <= side / 2) & (np.abs(v) <= side / 2)
    else:  # equilateral triangle: three half-planes at the inradius
        inradius = 1.3 * size / (2 * np.sqrt(3))
        mask = np.ones_like(x, dtype=bool)
        for k in range(3):
            phi = angle + np.pi / 2 + 2 * np.pi * k / 3
            mask &= np.cos(phi) * x + np.sin(phi) * y <= inradius
    return mask


def shape_mask(kind, size, *, aspect=3.0, angle=0.0, shape=None, center=None):
    """Boolean mask of one particle's projection.

    Parameters
    ----------
    kind : str or int
        One of :data:`SHAPES` (or its index).
    size : float, pixels
        The particle's size: a sphere's diameter; a cube's side is 0.85 ``size``, a triangle's side 1.3 ``size``,
        a rod's width 0.6 ``size`` (so that the four have similar areas).
    aspect : float, default 3.0
        A rod's length over its width (ignored for the other shapes); at least 1.
    angle : float, rad
        Rotation in the image plane.
    shape : (int, int), optional
        Size (ny, nx) of the image; default a square just large enough.
    center : (float, float), optional
        (row, column) of the centre in pixels; default the middle of the image.

    Returns
    -------
    ndarray of bool, shape ``shape``

    Examples
    --------
    >>> m = shape_mask("sphere", 20)
    >>> int(m.sum()), m.shape
    (317, (25, 25))
    >>> int(shape_mask("cube", 20, shape=(64, 64), center=(30, 30)).sum())
    289
    """
    kind = _kind(kind)
    if not np.isfinite(size) or size < 2:
        raise ValueError(f"size={size!r} should be a number of pixels >= 2.")
    if not np.isfinite(aspect) or aspect < 1:
        raise ValueError(f"aspect={aspect!r} should be a length-to-width ratio >= 1.")
    local = _local_mask(kind, float(size), float(aspect), float(angle))
    if shape is None:
        return local
    ny, nx = (int(n) for n in shape)
    cy, cx = (ny / 2, nx / 2) if center is None else (float(c) for c in center)
    out = np.zeros((ny, nx), dtype=bool)
    half = local.shape[0] // 2
    r0, c0 = int(round(cy)) - half, int(round(cx)) - half
    rs, cs = slice(max(r0, 0), min(r0 + local.shape[0], ny)), slice(max(c0, 0), min(c0 + local.shape[1], nx))
    out[rs, cs] = local[rs.start - r0:rs.stop - r0, cs.start - c0:cs.stop - c0]
    return out


@dataclass
class ParticleImage:
    """A simulated micrograph and its truth.

    Attributes
    ----------
    image : ndarray of shape (ny, nx), counts
        Electrons per pixel: particles dark on a bright support film.
    labels : ndarray of int, shape (ny, nx)
        0 for the support, ``i + 1`` for particle ``i`` (where two overlap, the one placed later is on top).
    classes : ndarray of int, shape (n_particles,)
        Class index of every particle in :data:`SHAPES`.
    sizes : ndarray of shape (n_particles,), pixels
    touching : ndarray of bool, shape (n_particles,)
        True for a particle placed in contact with (or overlapping) an earlier one.
    pixel_size : float, nm
    """

    image: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    sizes: np.ndarray
    touching: np.ndarray
    pixel_size: float

    @property
    def n_particles(self):
        """Number of particles."""
        return int(self.classes.size)


def _check_fractions(fractions):
    f = np.asarray(fractions, dtype=float)
    if f.shape != (len(SHAPES),) or np.any(f < 0) or not f.sum() > 0:
        raise ValueError(f"fractions={fractions!r} should be {len(SHAPES)} non-negative numbers, one per shape "
                         f"{SHAPES}, not all 0.")
    return f / f.sum()


def simulate_particles(n_particles=40, *, image_size=256, mean_size=18.0, size_spread=0.12, fractions=None,
                       contact=0.3, max_overlap=0.0, contrast=0.45, background=0.15, blur=1.0, dose=200.0,
                       pixel_size=1.0, seed=None):
    """Simulate a bright-field TEM image of nanoparticles of four shapes, with its truth.

    Particles are placed one after the other. With probability ``contact`` a particle is pushed against one
    placed earlier until they touch, then up to ``max_overlap`` pixels further (overlap); otherwise it is put
    where it keeps a gap of at least 2 pixels to all others. Particles that find no place after many tries are
    left out, so the image may hold fewer than ``n_particles``. No particle is cut by the image border.

    Parameters
    ----------
    n_particles : int, default 40
        Particles to place.
    image_size : int, default 256
        The image is ``image_size`` x ``image_size`` pixels.
    mean_size : float, pixels, default 18
        Median particle size (see :func:`shape_mask` for what the size means for each shape).
    size_spread : float, default 0.12
        Standard deviation of the log of the size (log-normal size distribution; about the relative spread).
    fractions : sequence of 4 floats, optional
        Expected fraction of each shape in :data:`SHAPES`; default equal.
    contact : float in [0, 1], default 0.3
        Probability that a particle is placed against an earlier one.
    max_overlap : float, pixels, default 0
        Largest overlap of two particles in contact (uniform between 0 and this).
    contrast : float in (0, 1), default 0.45
        Fraction of the beam a particle removes (each particle varies by 10 %).
    background : float >= 0, default 0.15
        Relative amplitude of the slow variation of the support film's intensity.
    blur : float >= 0, pixels, default 1.0
        Standard deviation of the Gaussian point spread.
    dose : float > 0, electrons per pixel, default 200
        Mean counts of the bare support; the noise is Poisson.
    pixel_size : float, nm, default 1.0
        Only recorded, for axes in nm.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ParticleImage

    Examples
    --------
    >>> sim = simulate_particles(10, image_size=128, seed=0)
    >>> sim.image.shape, sim.n_particles, int(sim.labels.max()) == sim.n_particles
    ((128, 128), 10, True)
    """
    if isinstance(n_particles, bool) or not isinstance(n_particles, (int, np.integer)) or n_particles < 0:
        raise ValueError(f"n_particles={n_particles!r} should be a non-negative integer.")
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 32:
        raise ValueError(f"image_size={image_size!r} should be an integer >= 32 (pixels).")
    if not 4 <= mean_size <= image_size / 4:
        raise ValueError(f"mean_size={mean_size!r} should be between 4 and image_size / 4 = {image_size / 4} pixels.")
    for name, value, low, high in [("size_spread", size_spread, 0, 1), ("contact", contact, 0, 1),
                                   ("contrast", contrast, 0, 1), ("background", background, 0, 1),
                                   ("max_overlap", max_overlap, 0, mean_size / 2), ("blur", blur, 0, 20)]:
        if not low <= value <= high:
            raise ValueError(f"{name}={value!r} should be between {low} and {high}.")
    if not dose > 0:
        raise ValueError(f"dose={dose!r} should be a positive number of electrons per pixel.")
    p = _check_fractions(np.ones(len(SHAPES)) if fractions is None else fractions)
    rng = np.random.default_rng(seed)
    n_img = int(image_size)
    labels = np.zeros((n_img, n_img), dtype=np.int32)
    occupied = np.zeros((n_img, n_img), dtype=bool)  # all particles, grown by the free gap
    classes, sizes, touching, masks = [], [], [], []
    grow = ndimage.generate_binary_structure(2, 2)
    for _ in range(int(n_particles)):
        k = int(rng.choice(len(SHAPES), p=p))
        size = float(mean_size * np.exp(size_spread * rng.standard_normal()))
        aspect = float(np.clip(rng.normal(3.0, 0.15), 2.5, 3.5))
        local = _local_mask(SHAPES[k], size, aspect, float(rng.uniform(0, 2 * np.pi)))
        half = local.shape[0] // 2
        low, high = half + 1, n_img - half - 2
        placed = None
        want_contact = bool(masks) and rng.random() < contact
        for _try in range(60):
            if want_contact:
                j = int(rng.integers(len(masks)))
                cj = np.array(ndimage.center_of_mass(masks[j]))
                theta = rng.uniform(0, 2 * np.pi)
                direction = np.array([np.sin(theta), np.cos(theta)])
                others = occupied & ~ndimage.binary_dilation(masks[j], grow, iterations=2)
                dilated_j = ndimage.binary_dilation(masks[j], grow)
                overlap = rng.uniform(0, max_overlap)
                for d in np.arange(half + masks[j].sum() ** 0.5 + 4, 0, -0.5):
                    cy, cx = np.round(cj + d * direction).astype(int)
                    if not (low <= cy <= high and low <= cx <= high):
                        break
                    cand = _place(local, (n_img, n_img), cy, cx)
                    if np.any(cand & others):
                        break
                    if np.any(cand & dilated_j):  # first contact: push in by the overlap and stop
                        d2 = d - overlap
                        cy, cx = np.round(cj + d2 * direction).astype(int)
                        cand = _place(local, (n_img, n_img), cy, cx)
                        if not np.any(cand & others):
                            placed = cand
                        break
            else:
                cy, cx = rng.integers(low, high + 1, 2)
                cand = _place(local, (n_img, n_img), cy, cx)
                if not np.any(cand & occupied):
                    placed = cand
            if placed is not None:
                break
        if placed is None:
            continue
        masks.append(placed)
        labels[placed] = len(masks)
        occupied |= ndimage.binary_dilation(placed, grow, iterations=2)
        classes.append(k)
        sizes.append(size)
        touching.append(want_contact)
    # a particle almost hidden under a later one is no longer visible as a particle: drop it from the truth
    labels = _relabel_visible(labels, masks)
    keep = [i for i in range(len(masks)) if np.any(labels == i + 1)]
    remap = np.zeros(len(masks) + 1, dtype=np.int32)
    remap[[i + 1 for i in keep]] = np.arange(1, len(keep) + 1)
    labels = remap[labels]
    thickness = np.zeros((n_img, n_img))
    for i in keep:
        thickness[masks[i]] += contrast * (1 + 0.1 * rng.uniform(-1, 1))
    film = ndimage.gaussian_filter(rng.standard_normal((n_img, n_img)), n_img / 8, mode="wrap")
    film = 1 + background * film / (np.abs(film).max() + 1e-12)
    mean = dose * film * np.clip(1 - thickness, 0.05, None)  # overlaps absorb twice
    if blur > 0:
        mean = ndimage.gaussian_filter(mean, blur, mode="nearest")
    image = rng.poisson(mean).astype(float)
    return ParticleImage(image, labels, np.array([classes[i] for i in keep], dtype=int),
                         np.array([sizes[i] for i in keep]), np.array([touching[i] for i in keep], dtype=bool),
                         float(pixel_size))


def _relabel_visible(labels, masks, min_visible=0.6):
    """Drop particles of which less than ``min_visible`` of the area is left on top."""
    out = labels.copy()
    for i, m in enumerate(masks):
        if np.sum(out == i + 1) < min_visible * m.sum():
            out[out == i + 1] = 0
    return out


def _place(local, shape, cy, cx):
    """Put a small centred mask ``local`` into an empty boolean image of ``shape`` at (``cy``, ``cx``)."""
    out = np.zeros(shape, dtype=bool)
    half = local.shape[0] // 2
    out[cy - half:cy - half + local.shape[0], cx - half:cx - half + local.shape[1]] = local
    return out


def touching_pairs_image(blur, *, n_pairs=8, size=16.0, dose=400.0, seed=0):
    """An image of ``n_pairs`` pairs of touching spheres in a row, at a given blur: where watershed fails.

    Parameters
    ----------
    blur : float >= 0, pixels
    n_pairs : int, default 8
    size : float, pixels
        Sphere diameter.
    dose : float, electrons per pixel
    seed : int
        Seeds the noise only: the same seed gives the same particles at every blur.

    Returns
    -------
    ParticleImage

    Examples
    --------
    >>> touching_pairs_image(1.0, n_pairs=3).n_particles
    6
    """
    if not 0 <= blur <= 20:
        raise ValueError(f"blur={blur!r} should be between 0 and 20 pixels.")
    rng = np.random.default_rng(seed)
    step = int(np.ceil(2 * size + 12))
    ny, nx = int(np.ceil(size + 16)), step * int(n_pairs) + 8
    labels = np.zeros((ny, nx), dtype=np.int32)
    r = size / 2
    disc = _local_mask("sphere", size, 1.0, 0.0)
    for i in range(int(n_pairs)):
        cx = 4 + step * i + step // 2
        cy = ny // 2
        # centres 2r apart: the discs share a one-pixel neck
        for j, x in enumerate((cx - r, cx + r)):
            m = _place(disc, (ny, nx), cy, int(round(x)))
            labels[m & (labels == 0)] = 2 * i + j + 1
    thickness = 0.45 * (labels > 0)
    mean = dose * (1 - thickness)
    if blur > 0:
        mean = ndimage.gaussian_filter(mean, blur, mode="nearest")
    image = rng.poisson(mean).astype(float)
    n = 2 * int(n_pairs)
    return ParticleImage(image, labels, np.zeros(n, dtype=int), np.full(n, float(size)), np.ones(n, dtype=bool), 1.0)
