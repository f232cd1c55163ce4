"""Seeded synthetic data with a known truth, for tutorials and tests.

Used in: tutorials/01_regression (:func:`make_regression_data`) and the EELS
tutorials (:func:`make_lowloss_spectrum`).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["REGRESSION_FUNCTIONS", "make_regression_data", "energy_axis", "zlp_profile",
           "LowLossTruth", "make_lowloss_spectrum"]


def _linear(x):
    return 2.0 * x


def _tenth(x):
    return 2.0 * x - 10.0 * x**5 + 15.0 * x**10


#: The two functions of the lecture's regression example, on [0, 1].
REGRESSION_FUNCTIONS = {"linear": _linear, "tenth": _tenth}


def make_regression_data(n_samples=100, *, function="linear", noise=0.1, x_range=(0.0, 1.0), seed=None):
    """Noisy samples of f(x) = 2x or f(x) = 2x - 10x^5 + 15x^10.

    Parameters
    ----------
    n_samples : int, default 100
        Number of points.
    function : {"linear", "tenth"}
        ``"linear"`` is f(x) = 2x; ``"tenth"`` is f(x) = 2x - 10x^5 + 15x^10.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to f(x), same units as y.
    x_range : (float, float), default (0, 1)
        Interval from which x is drawn uniformly.
    seed : int, numpy.random.Generator or None
        Seed for reproducible data.

    Returns
    -------
    x : ndarray of shape (n_samples,)
        Sorted inputs.
    y : ndarray of shape (n_samples,)
        Noisy targets f(x) + noise.

    Examples
    --------
    >>> x, y = make_regression_data(5, function="linear", noise=0.0, seed=0)
    >>> bool(np.allclose(y, 2 * x))
    True
    """
    if function not in REGRESSION_FUNCTIONS:
        raise ValueError(f"function={function!r} is not known; choose one of {sorted(REGRESSION_FUNCTIONS)}.")
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples={n_samples!r} should be a positive integer.")
    if noise < 0:
        raise ValueError(f"noise={noise!r} should be >= 0 (a standard deviation).")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(x_range[0], x_range[1], int(n_samples)))
    y = REGRESSION_FUNCTIONS[function](x) + noise * rng.standard_normal(x.size)
    return x, y


def energy_axis(offset, scale, size):
    """Return ``offset + scale * arange(size)``: an energy axis in eV.

    Examples
    --------
    >>> energy_axis(-1.0, 0.5, 5)
    array([-1. , -0.5,  0. ,  0.5,  1. ])
    """
    if not np.isfinite(offset):
        raise ValueError(f"offset={offset!r} should be a finite energy in eV.")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale={scale!r} should be a positive dispersion in eV/channel.")
    if int(size) != size or size < 2:
        raise ValueError(f"size={size!r} should be an integer >= 2 (number of channels).")
    return offset + scale * np.arange(int(size))


def zlp_profile(energy_loss, *, fwhm=0.45, tail=0.02, tail_width=None):
    """Zero-loss-peak shape with peak value 1 at 0 eV: a Gaussian core with Lorentzian tails.

    The tail is broader on the energy-loss side (positive energy), as in real
    cold- and Schottky-emitter peaks.

    Parameters
    ----------
    energy_loss : ndarray, eV
    fwhm : float, eV
        Full width at half maximum of the Gaussian core.
    tail : float
        Weight of the Lorentzian tails (0 gives a pure Gaussian).
    tail_width : float, eV, optional
        Half width of the Lorentzian on the loss side; default ``fwhm``. The
        gain side uses half of it.

    Returns
    -------
    ndarray, same shape as ``energy_loss``

    Examples
    --------
    >>> float(zlp_profile(np.array([0.0]))[0])
    1.0
    """
    if not fwhm > 0:
        raise ValueError(f"fwhm={fwhm!r} should be a positive width in eV.")
    e = np.asarray(energy_loss, dtype=float)
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    gamma = np.where(e > 0, 1.0, 0.5) * (fwhm if tail_width is None else tail_width)
    gauss = np.exp(-0.5 * (e / sigma) ** 2)
    lorentz = 1.0 / (1.0 + (e / gamma) ** 2)
    return (1.0 - tail) * gauss + tail * lorentz


@dataclass
class LowLossTruth:
    """A synthetic low-loss spectrum and the parts it was made of.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (n_spectra, n_channels), counts
        Noisy spectra (one row per repeated acquisition).
    zlp : ndarray of shape (n_channels,), counts
        The true zero-loss peak (noise-free).
    inelastic : ndarray of shape (n_channels,), counts
        The true inelastic signal (noise-free).
    band_gap, gap_exponent, t_over_lambda : float
        The parameters that made it (eV, dimensionless, dimensionless).
    """

    energy_loss: np.ndarray
    counts: np.ndarray
    zlp: np.ndarray
    inelastic: np.ndarray
    band_gap: float
    gap_exponent: float
    t_over_lambda: float



def _lowloss_axis(energy_loss):
    """The energy axis of a synthetic low-loss spectrum, eV: the WS2 set's axis (0.025 eV/channel, 1981 channels,
    ZLP at channel 160) when ``energy_loss`` is None, otherwise ``energy_loss`` checked to be 1-D, increasing and
    to contain 0 eV and positive losses."""
    if energy_loss is None:
        e = energy_axis(-4.0, 0.025, 1981)
        return e - e[160]
    e = np.asarray(energy_loss, dtype=float)
    if e.ndim != 1 or e.size < 3 or not np.all(np.diff(e) > 0):
        raise ValueError("energy_loss should be a 1-D increasing axis in eV with at least 3 channels; "
                         f"got shape {e.shape}.")
    if not e[0] <= 0.0 < e[-1]:
        raise ValueError(f"energy_loss runs from {e[0]:g} to {e[-1]:g} eV; it should include 0 eV (the zero-loss "
                         "peak) and positive energy losses.")
    return e

def make_lowloss_spectrum(energy_loss=None, *, n_spectra=1, zlp_height=1e6, zlp_fwhm=0.45, zlp_tail=0.02,
                          t_over_lambda=0.5, plasmon_energy=22.0, plasmon_width=8.0, band_gap=1.6,
                          gap_exponent=1.5, gap_strength=0.02, onset_rolloff=4.0, read_noise=5.0, seed=None):
    """Simulate low-loss EELS spectra with a known ZLP, band-gap onset and plasmon.

    The inelastic signal is a single-scattering distribution (a band-gap
    onset ``(E - band_gap)^gap_exponent`` plus a Drude plasmon) scaled by
    ``t_over_lambda``, with double scattering from its self-convolution; the
    spectra are Poisson counts of ZLP + inelastic plus Gaussian read noise.
    Nothing depends on the dispersion or the ZLP width.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV, optional
        Default: 1981 channels of 0.025 eV from -4.04 eV, like the WS2 data.
    n_spectra : int, default 1
        Number of repeated acquisitions (independent noise).
    zlp_height : float, counts
        Peak height of the ZLP.
    zlp_fwhm, zlp_tail : float
        Shape of the ZLP (see :func:`zlp_profile`), eV and weight.
    t_over_lambda : float
        Thickness over inelastic mean free path.
    plasmon_energy, plasmon_width : float, eV
        Bulk plasmon energy and damping of the Drude term.
    band_gap : float, eV
        Onset of the interband signal; ``gap_exponent`` is b in (E - E_BG)^b.
    gap_strength : float
        Size of the onset relative to the plasmon term at 1 eV above the gap.
    onset_rolloff : float, eV, default 4
        The onset rolls off beyond this many eV above the gap, so that the
        interband term stays bounded (within 1 eV of the gap it changes
        (E - E_BG)^b by less than 0.5%).
    read_noise : float, counts
        Standard deviation of the Gaussian detector noise.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    LowLossTruth

    Examples
    --------
    >>> s = make_lowloss_spectrum(n_spectra=3, seed=0)
    >>> s.counts.shape
    (3, 1981)
    >>> bool(s.energy_loss[np.argmax(s.zlp)] == 0.0)
    True
    """
    rng = np.random.default_rng(seed)
    e = _lowloss_axis(energy_loss)
    for name, value in {"n_spectra": n_spectra, "zlp_height": zlp_height, "t_over_lambda": t_over_lambda,
                        "plasmon_energy": plasmon_energy, "plasmon_width": plasmon_width}.items():
        if not value > 0:
            raise ValueError(f"{name}={value!r} should be > 0.")
    if band_gap < 0 or gap_exponent <= 0:
        raise ValueError(f"band_gap={band_gap!r} should be >= 0 eV and gap_exponent={gap_exponent!r} > 0.")
    scale = float(np.mean(np.diff(e)))
    zlp = zlp_height * zlp_profile(e, fwhm=zlp_fwhm, tail=zlp_tail)
    ssd = _single_scattering(e, band_gap, plasmon_energy=plasmon_energy, plasmon_width=plasmon_width,
                             gap_exponent=gap_exponent, gap_strength=gap_strength, onset_rolloff=onset_rolloff)
    # double scattering: the SSD convolved with itself on the same grid
    double = _self_convolve(ssd, e)
    zlp_area = zlp.sum() * scale
    inelastic = zlp_area * (t_over_lambda * ssd + 0.5 * t_over_lambda**2 * double)
    mean = zlp + inelastic
    counts = rng.poisson(np.broadcast_to(mean, (int(n_spectra), e.size))).astype(float)
    counts += read_noise * rng.standard_normal(counts.shape)
    return LowLossTruth(energy_loss=e, counts=counts, zlp=zlp, inelastic=inelastic, band_gap=float(band_gap),
                        gap_exponent=float(gap_exponent), t_over_lambda=float(t_over_lambda))


def _self_convolve(density, e):
    """The convolution of ``density`` with itself, on the same axis ``e`` (which must contain 0 eV).

    Parameters
    ----------
    density : ndarray of shape (n_channels,) or (n, n_channels), 1/eV
        Zero below 0 eV (a scattering distribution).
    e : ndarray of shape (n_channels,), eV

    Returns
    -------
    ndarray, same shape as ``density``, 1/eV
        ``(density * density)(E)`` at the channels of ``e``; what falls beyond
        the last channel is lost.
    """
    scale = float(np.mean(np.diff(e)))
    shift = _zero_index(e)  # a full convolution of two grids that start at e[0] starts at 2 e[0]
    size = e.size
    n_fft = 2 * size
    spectrum = np.fft.rfft(density, n_fft, axis=-1)
    full = np.fft.irfft(spectrum * spectrum, n_fft, axis=-1) * scale
    out = full[..., shift: shift + size]
    out[..., e < 0] = 0.0  # exact zeros where the FFT leaves rounding noise
    return np.clip(out, 0.0, None)


def _zero_index(e):
    """Index of the channel at 0 eV on the axis ``e`` (negative if 0 eV lies before it)."""
    scale = float(np.mean(np.diff(e)))
    return int(round(-e[0] / scale))


def _single_scattering(e, band_gap, *, plasmon_energy, plasmon_width, gap_exponent, gap_strength,
                       onset_rolloff=None):
    """Single-scattering distribution on the axis ``e``: a probability density per eV.

    A Drude plasmon plus a band-gap onset ``(E - band_gap)^gap_exponent`` whose
    size is ``gap_strength`` times the plasmon term 1 eV above the gap. Shared
    by :func:`make_lowloss_spectrum` and :func:`ml4em.datasets.make_spectral_image`.

    Parameters
    ----------
    e : ndarray of shape (n_channels,), eV
    band_gap : float or ndarray of shape (n, 1), eV
        One band gap, or one per spectrum (then one density per row).
    onset_rolloff : float, eV, optional
        If given, the onset is multiplied by ``1 / (1 + ((E - band_gap) / onset_rolloff)^4)``
        (flat near the gap, vanishing far above it), so that the distribution
        stays bounded on long axes. None keeps the bare power law.

    Returns
    -------
    ndarray of shape (n_channels,) or (n, n_channels), 1/eV
        Each row sums to 1 over the axis (times the dispersion).
    """
    scale = float(np.mean(np.diff(e)))
    pos = np.clip(e, 0.0, None)
    drude = pos * plasmon_width * plasmon_energy**2 / ((pos**2 - plasmon_energy**2) ** 2 + (pos * plasmon_width) ** 2)
    band_gap = np.asarray(band_gap, dtype=float)
    onset = np.clip(e - band_gap, 0.0, None) ** gap_exponent
    if onset_rolloff is not None:
        onset = onset / (1.0 + np.square(np.square((e - band_gap) / onset_rolloff)))
    drude_at = np.where(band_gap + 1.0 < e[-1], np.interp(band_gap + 1.0, e, drude), drude.max())
    ssd = drude + gap_strength * drude_at * onset
    return ssd / (ssd.sum(axis=-1, keepdims=True) * scale)
