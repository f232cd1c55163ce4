"""A seeded synthetic low-loss EELS spectral image with a known thickness and band-gap map.

Each pixel holds a low-loss spectrum made with the physics of
:func:`ml4em.datasets.make_lowloss_spectrum` (a Drude plasmon plus a band-gap
onset as single-scattering distribution), scattered a Poisson number of times
in a specimen of thickness ``t/lambda``: the zero-loss peak keeps a fraction
``exp(-t/lambda)`` of the beam, single scattering grows as ``t/lambda``,
double scattering as ``(t/lambda)^2 / 2`` and so on. The specimen is a
terraced flake or a nanoflower surrounded by vacuum.

Used in: tutorials/03_clustering (clustering pixels by thickness) and
tutorials/09_spectral_image (band gap and zero-loss-peak subtraction on an
image).
"""

from dataclasses import dataclass

import numpy as np

from .synthetic import _lowloss_axis, _single_scattering, _zero_index, zlp_profile

__all__ = ["GEOMETRIES", "SpectralImage", "make_spectral_image"]

#: Specimen shapes that :func:`make_spectral_image` knows.
GEOMETRIES = ("flake", "nanoflower")

_CHUNK_PIXELS = 256  # pixels per FFT batch: bounds the memory of the plural-scattering step


@dataclass
class SpectralImage:
    """A synthetic spectral image and the truth it was made from.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (ny, nx, n_channels), float32, counts
        Noisy spectra: Poisson counts of ``zlp + inelastic`` plus Gaussian read noise.
    t_over_lambda : ndarray of shape (ny, nx), dimensionless
        True thickness over inelastic mean free path; 0 in vacuum.
    band_gap : ndarray of shape (ny, nx), eV
        True band gap; NaN in vacuum.
    zlp_height : ndarray of shape (ny, nx), counts
        Height of the (noise-free) zero-loss peak in each pixel,
        ``zlp_height_vacuum * exp(-t/lambda)``.
    zlp_shape : ndarray of shape (n_channels,)
        Shape of the zero-loss peak, maximum 1; the ZLP of a pixel is
        ``zlp_height[y, x] * zlp_shape`` (see :attr:`zlp`).
    inelastic : ndarray of shape (ny, nx, n_channels), float32, counts
        True (noise-free) inelastic signal, single plus plural scattering.
    mask : ndarray of shape (ny, nx), bool
        True on specimen pixels, False in vacuum.
    pixel_size : float, nm
    geometry : str
    """

    energy_loss: np.ndarray
    counts: np.ndarray
    t_over_lambda: np.ndarray
    band_gap: np.ndarray
    zlp_height: np.ndarray
    zlp_shape: np.ndarray
    inelastic: np.ndarray
    mask: np.ndarray
    pixel_size: float
    geometry: str

    @property
    def shape(self):
        """(ny, nx): the number of pixels along y and x."""
        return self.t_over_lambda.shape

    @property
    def zlp(self):
        """ndarray of shape (ny, nx, n_channels), float32, counts: the true zero-loss peak of every pixel."""
        return (self.zlp_height[..., None] * self.zlp_shape).astype(np.float32)

    @property
    def spectra(self):
        """The counts as a table, ndarray of shape (ny * nx, n_channels), row-major (a view)."""
        return self.counts.reshape(-1, self.counts.shape[-1])

    @property
    def extent(self):
        """(left, right, bottom, top) in nm, for ``plt.imshow(..., extent=image.extent, origin="lower")``."""
        ny, nx = self.shape
        return (0.0, nx * self.pixel_size, 0.0, ny * self.pixel_size)


def _flake(y, x, n_terraces, rng):
    """Terraced triangular flake: level 0 in vacuum, 1..n_terraces on the terraces."""
    phi = rng.uniform(0, 2 * np.pi / 3)
    normals = np.stack([np.cos(phi + 2 * np.pi * np.arange(3) / 3), np.sin(phi + 2 * np.pi * np.arange(3) / 3)])
    centre = rng.uniform(-0.05, 0.05, 2)
    drift = rng.normal(size=2)
    drift *= 0.5 / np.linalg.norm(drift)  # nested terraces stay inside the one below
    r0 = 0.22  # inradius: the corners (at 2 * r0 + 0.05 from the middle) stay inside the field
    level = np.zeros(y.shape, dtype=int)
    for i in range(n_terraces):  # a handful of terraces, each a vectorised half-plane test
        r = r0 * (1.0 - 0.85 * i / n_terraces)
        c = centre + (r0 - r) * drift
        dist = normals[0][:, None, None] * (x - c[0]) + normals[1][:, None, None] * (y - c[1])
        level += np.all(dist <= r, axis=0)
    return level


def _nanoflower(y, x, rng):
    """Nanoflower: petals around a core; returns (inside, depth in [0, 1], 1 at the core)."""
    n_petals = int(rng.integers(5, 8))
    phase = rng.uniform(0, 2 * np.pi)
    theta = np.arctan2(y, x)
    r = np.hypot(y, x)
    edge = 0.2 + 0.26 * np.abs(np.cos(0.5 * n_petals * (theta - phase))) ** 0.6
    inside = r < edge
    depth = np.clip(1.0 - r / edge, 0.0, 1.0) ** 0.7
    return inside, depth


def _smooth_field(y, x, rng, n_waves=3):
    """A smooth random field on [0, 1]: a few long-wavelength plane waves."""
    field = np.zeros(y.shape)
    for _ in range(n_waves):
        k = rng.normal(size=2) * 2.0
        field += np.cos(k[0] * x + k[1] * y + rng.uniform(0, 2 * np.pi))
    return field


def _check_range(name, value, low_ok):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={value!r} should be a pair of numbers (min, max).") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and low_ok(lo) and lo < hi):
        raise ValueError(f"{name}={value!r} should be a pair (min, max) with min < max; see the docstring for "
                         "the allowed values.")
    return lo, hi


def _zlp_shape_on(e, zlp_shape, zlp_fwhm, zlp_tail):
    if zlp_shape is None:
        return zlp_profile(e, fwhm=zlp_fwhm, tail=zlp_tail)
    if isinstance(zlp_shape, tuple) and len(zlp_shape) == 2:
        ze, zi = (np.asarray(a, dtype=float) for a in zlp_shape)
        if ze.ndim != 1 or ze.shape != zi.shape or not np.all(np.diff(ze) > 0):
            raise ValueError("zlp_shape=(energy, intensity) should be two 1-D arrays of the same length with "
                             f"increasing energy; got shapes {ze.shape} and {zi.shape}.")
        shape = np.interp(e, ze, zi, left=0.0, right=0.0)
    else:
        shape = np.asarray(zlp_shape, dtype=float)
        if shape.shape != e.shape:
            raise ValueError(f"zlp_shape has shape {shape.shape} but energy_loss has {e.shape}; pass one value per "
                             "channel, or an (energy, intensity) pair to interpolate onto the axis.")
    if not np.all(np.isfinite(shape)) or not shape.max() > 0:
        raise ValueError("zlp_shape should be finite with a positive maximum (a zero-loss peak).")
    shape = np.clip(shape, 0.0, None)
    return shape / shape.max()


def _plural_scattering(s, t):
    """All orders of Poisson plural scattering: sum over n >= 1 of t^n / n! * s convolved n times.

    ``s`` (n_pix, m) is the single-scattering probability per channel starting
    at 0 eV, ``t`` (n_pix,) the thickness. Computed as ``exp(t * FFT(s)) - 1``
    with an exponential window ``w_k = exp(-alpha k)`` (which commutes with
    convolution), so that the circular convolution of the FFT acts like a
    linear one: orders wrapped around the padded axis are damped by ``exp(-18)``.
    """
    import scipy.fft

    m = s.shape[1]
    n_fft = scipy.fft.next_fast_len(2 * m, real=True)
    alpha = 9.0 / m
    w = np.exp(-alpha * np.arange(m))
    spec = scipy.fft.rfft(s * w, n_fft, axis=1)
    spec *= t[:, None]
    out = scipy.fft.irfft(np.exp(spec, out=spec), n_fft, axis=1)[:, :m]
    out[:, 0] -= 1.0  # exp - 1: remove the unscattered order (a delta at 0 eV); cheaper than a complex expm1
    out /= w
    return np.clip(out, 0.0, None, out=out)  # round-off below 1e-12 of the peak can be slightly negative


def make_spectral_image(shape=(48, 48), *, energy_loss=None, geometry="flake", t_over_lambda_range=(0.2, 1.5),
                        band_gap_range=(1.4, 1.9), zlp_shape=None, zlp_height=1e5, zlp_fwhm=0.45, zlp_tail=0.02,
                        plasmon_energy=22.0, plasmon_width=8.0, gap_exponent=1.5, gap_strength=100.0,
                        onset_rolloff=4.0, n_terraces=4, read_noise=5.0, pixel_size=5.0, seed=None):
    """Simulate a low-loss EELS spectral image of a flake or a nanoflower with a known truth.

    The specimen (terraced flake or nanoflower, vacuum around it) has a
    thickness map ``t/lambda`` and a band-gap map that varies smoothly. In
    every pixel the beam is scattered a Poisson number of times: the
    zero-loss peak (ZLP) keeps ``exp(-t/lambda)`` of the vacuum intensity and
    the n-fold scattering is ``(t/lambda)^n / n!`` times the n-fold
    self-convolution of the single-scattering distribution (all orders, as
    in :func:`make_lowloss_spectrum`). The counts are Poisson draws of
    ZLP + inelastic plus Gaussian read noise. No Python loop over pixels.

    Parameters
    ----------
    shape : (int, int), default (48, 48)
        Number of pixels (ny, nx), each at least 8.
    energy_loss : ndarray of shape (n_channels,), eV, optional
        Increasing axis that contains 0 eV; any dispersion. Default: 1981
        channels of 0.025 eV with the ZLP maximum at 0 eV, like the WS2 data
        of :func:`load_ws2_lowloss`.
    geometry : {"flake", "nanoflower"}
        ``"flake"``: a triangular flake with ``n_terraces`` flat terraces of
        increasing thickness (discrete t/lambda levels). ``"nanoflower"``:
        petals around a core, thickest at the core and thinning smoothly
        towards the petal tips.
    t_over_lambda_range : (float, float), default (0.2, 1.5)
        Thinnest and thickest t/lambda on the specimen (both > 0).
    band_gap_range : (float, float), eV, default (1.4, 1.9)
        Range of the smooth band-gap map (min >= 0).
    zlp_shape : ndarray of shape (n_channels,) or (energy, intensity) pair, optional
        Shape of the ZLP, e.g. the mean of real vacuum spectra
        ``(d.energy_loss, d.vacuum.mean(axis=0))``; a pair is interpolated
        onto ``energy_loss`` (0 outside). Rescaled to a maximum of 1,
        negative values set to 0. Default: :func:`zlp_profile` with
        ``zlp_fwhm`` and ``zlp_tail``.
    zlp_height : float, counts, default 1e5
        Height of the ZLP in vacuum (the beam intensity per pixel).
    zlp_fwhm, zlp_tail : float
        Width (eV) and tail weight of the default ZLP shape.
    plasmon_energy, plasmon_width : float, eV
        Drude plasmon of the single-scattering distribution.
    gap_exponent, gap_strength : float
        Band-gap onset ``(E - band_gap)^gap_exponent`` and its size relative
        to the plasmon term 1 eV above the gap. The default, 100, gives an
        onset that a band-gap fit sees in single pixels (tutorial 09); at
        0.02, the default of :func:`ml4em.datasets.make_lowloss_spectrum`,
        the onset is lost in one pixel's noise (median error about 0.5 eV).
    onset_rolloff : float, eV, default 4
        The onset is multiplied by ``1 / (1 + ((E - band_gap) / onset_rolloff)^4)``
        as in :func:`make_lowloss_spectrum`: less than 0.5 % lower within
        1 eV of the gap, vanishing far above it, so that the
        single-scattering distribution is bounded on any axis.
    n_terraces : int, default 4
        Number of thickness levels of the flake (ignored for the nanoflower).
    read_noise : float, counts, default 5
        Standard deviation of the Gaussian detector noise.
    pixel_size : float, nm, default 5
    seed : int, numpy.random.Generator or None
        Seeds the geometry, the band-gap map and the noise.

    Returns
    -------
    SpectralImage
        ``counts`` (ny, nx, n_channels) float32 and the truth: ``t_over_lambda``,
        ``band_gap``, ``zlp_height`` (ny, nx), ``zlp_shape`` (n_channels,),
        ``inelastic`` (ny, nx, n_channels), ``mask`` (ny, nx).

    Notes
    -----
    The log-ratio estimate ``ln(total / zlp)`` recovers t/lambda exactly only
    if every scattering order lies on the axis. On the short default axis
    (to 45 eV) double and triple plasmon losses fall partly beyond its end,
    so the log-ratio of the noise-free truth underestimates t/lambda. The
    single-scattering distribution is normalised on the axis, so the loss
    depends on how much of it is the band-gap onset: with the default
    ``gap_strength`` about 0.001 at t/lambda = 0.2 and 0.08 at 1.5, with a
    weak onset (0.02) about 0.01 and 0.35. On an axis to 300 eV the error
    is below 1 % (tests/test_spectral_image.py).

    Examples
    --------
    >>> im = make_spectral_image((16, 20), seed=0)
    >>> im.counts.shape, im.counts.dtype
    ((16, 20, 1981), dtype('float32'))
    >>> bool(np.all(im.t_over_lambda[~im.mask] == 0))
    True
    """
    ny, nx = _check_shape(shape)
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry={geometry!r} is not known; choose one of {list(GEOMETRIES)}.")
    t_lo, t_hi = _check_range("t_over_lambda_range", t_over_lambda_range, lambda lo: lo > 0)
    g_lo, g_hi = _check_range("band_gap_range", band_gap_range, lambda lo: lo >= 0)
    for name, value in {"zlp_height": zlp_height, "plasmon_energy": plasmon_energy, "plasmon_width": plasmon_width,
                        "gap_exponent": gap_exponent, "onset_rolloff": onset_rolloff,
                        "pixel_size": pixel_size}.items():
        if not (np.isscalar(value) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} should be a positive number.")
    for name, value in {"read_noise": read_noise, "gap_strength": gap_strength}.items():
        if not (np.isscalar(value) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{name}={value!r} should be a number >= 0.")
    if isinstance(n_terraces, bool) or int(n_terraces) != n_terraces or n_terraces < 2:
        raise ValueError(f"n_terraces={n_terraces!r} should be an integer >= 2 (number of thickness levels).")
    e = _lowloss_axis(energy_loss)
    shape_zlp = _zlp_shape_on(e, zlp_shape, zlp_fwhm, zlp_tail)
    rng = np.random.default_rng(seed)

    # geometry on coordinates in which the shorter side spans [-0.5, 0.5] (square pixels)
    side = min(ny, nx)
    y, x = np.meshgrid((np.arange(ny) - (ny - 1) / 2) / side, (np.arange(nx) - (nx - 1) / 2) / side, indexing="ij")
    if geometry == "flake":
        level = _flake(y, x, int(n_terraces), rng)
        mask = level > 0
        t_map = np.where(mask, t_lo + (t_hi - t_lo) * (level - 1) / (n_terraces - 1), 0.0)
    else:
        mask, depth = _nanoflower(y, x, rng)
        t_map = np.where(mask, t_lo + (t_hi - t_lo) * depth, 0.0)
    field = _smooth_field(y, x, rng)
    f_in = field[mask]
    span = np.ptp(f_in) if f_in.size else 0.0
    gap = g_lo + (g_hi - g_lo) * (field - (f_in.min() if f_in.size else 0.0)) / (span if span > 0 else 1.0)
    gap_map = np.where(mask, gap, np.nan)

    # spectra: ZLP everywhere, plural scattering on the specimen pixels only
    n_ch = e.size
    scale = float(np.mean(np.diff(e)))
    zero = _zero_index(e)
    zlp_map = zlp_height * np.exp(-t_map)
    zlp_total = zlp_map * shape_zlp.sum()  # counts in the ZLP of each pixel
    inelastic = np.zeros((ny * nx, n_ch), dtype=np.float32)
    idx = np.flatnonzero(mask)
    for start in range(0, idx.size, _CHUNK_PIXELS):  # batches of pixels bound the FFT memory
        sel = idx[start:start + _CHUNK_PIXELS]
        ssd = _single_scattering(e[zero:], gap_map.ravel()[sel, None], plasmon_energy=plasmon_energy,
                                 plasmon_width=plasmon_width, gap_exponent=gap_exponent, gap_strength=gap_strength,
                                 onset_rolloff=onset_rolloff)
        plural = _plural_scattering(ssd * scale, t_map.ravel()[sel])
        inelastic[sel, zero:] = zlp_total.ravel()[sel, None] * plural
    inelastic = inelastic.reshape(ny, nx, n_ch)
    mean = zlp_map[..., None] * shape_zlp + inelastic
    counts = rng.poisson(mean).astype(np.float32)
    del mean
    if read_noise > 0:
        noise = rng.standard_normal(counts.shape, dtype=np.float32)
        noise *= read_noise
        counts += noise
    return SpectralImage(energy_loss=e, counts=counts, t_over_lambda=t_map, band_gap=gap_map, zlp_height=zlp_map,
                         zlp_shape=shape_zlp, inelastic=inelastic, mask=mask, pixel_size=float(pixel_size),
                         geometry=geometry)


def _check_shape(shape):
    try:
        ny, nx = shape
    except (TypeError, ValueError):
        raise TypeError(f"shape={shape!r} should be a pair of integers (ny, nx).") from None
    for name, n in (("ny", ny), ("nx", nx)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 8:
            raise ValueError(f"shape={shape!r}: {name}={n!r} should be an integer >= 8 (pixels).")
    return int(ny), int(nx)
