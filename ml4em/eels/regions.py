"""The two energies that split a low-loss spectrum: dE1 and dE2.

Below ``dE1`` the measured spectrum is the zero-loss peak (ZLP): that is
where the ZLP model is trained. Above ``dE2`` the ZLP is negligible: there
the model is pinned to zero by pseudo-data. In between, the model
interpolates, and its uncertainty is largest. The names keep the spelling
of the replica-method papers (Roest et al. 2021, Brokkelkamp et al. 2022) on
purpose.

Automatic choice (always overridable):

- ``dE1 = fraction * E_min``, where ``E_min`` is the first local minimum
  above the peak of the mean sample spectrum: the first energy where the
  derivative of the spectrum, smoothed over half a FWHM, crosses zero from
  below. With ``fraction = 2/3`` the training region stops well before the
  inelastic signal takes over. For the WS2 spectra this gives
  2/3 x 2.7 eV = 1.8 eV.
- ``dE2``: the first energy above the peak where the mean vacuum spectrum,
  smoothed over a FWHM, falls to twice the noise of one spectrum (the
  vacuum ZLP is then compatible with zero at the 2 sigma level). The noise
  is the spread between the vacuum spectra, or, with a single spectrum,
  the scatter of the channels about the smoothed spectrum. Without vacuum
  spectra there is no measurement of how far the ZLP reaches; the rough
  rule ``dE2 = 3 E_min`` is used then, with a warning.

Nothing depends on the dispersion or the width of the peak: smoothing
widths are set by the measured FWHM.

Used in: tutorials/07_eels_replicas, tutorials/08_band_gap and ``ml4em zlp``.
"""

import numpy as np

from .axis import check_spectra, fwhm

__all__ = ["smooth_spectrum", "first_local_minimum", "noise_level", "choose_dE1", "choose_dE2",
           "choose_regions"]


def smooth_spectrum(energy_loss, counts, width):
    """Gaussian smoothing along the energy axis.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (..., n_channels)
    width : float, eV
        Standard deviation of the Gaussian kernel.

    Returns
    -------
    ndarray, the shape of ``counts``

    Examples
    --------
    >>> e = np.arange(5) * 0.1
    >>> smooth_spectrum(e, np.ones(5), 0.2)
    array([1., 1., 1., 1., 1.])
    """
    from scipy.ndimage import gaussian_filter1d

    e, c = check_spectra(energy_loss, counts)
    if not width > 0:
        raise ValueError(f"width={width!r} should be a positive smoothing width in eV.")
    scale = (e[-1] - e[0]) / (e.size - 1)
    return gaussian_filter1d(c, width / scale, axis=-1, mode="nearest")


def _peak_width(e, mean):
    return float(fwhm(e, mean))


def first_local_minimum(energy_loss, counts):
    """Energy of the first local minimum above the zero-loss peak, eV.

    The mean of ``counts`` is smoothed over half its FWHM; the result is the
    first energy above the peak where its derivative, after falling below
    zero, rises to zero again.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (n_channels,) or (n_spectra, n_channels)

    Returns
    -------
    float, eV

    Raises
    ------
    ValueError
        If the spectrum decreases all the way to the end of the axis.

    Examples
    --------
    >>> e = np.linspace(-2, 10, 1201)
    >>> s = 1e4 * np.exp(-0.5 * (e / 0.2) ** 2) + 50 * np.exp(-0.5 * ((e - 5) / 1.5) ** 2)
    >>> 1.0 < first_local_minimum(e, s) < 2.0
    True
    """
    e, c = check_spectra(energy_loss, counts)
    mean = c.reshape(-1, e.size).mean(axis=0)
    smooth = smooth_spectrum(e, mean, _peak_width(e, mean) / 2.0)
    slope = np.gradient(smooth, e)
    peak = int(np.argmax(smooth))
    falling = peak + int(np.argmax(slope[peak:] < 0))
    rising = np.flatnonzero(slope[falling:] >= 0)
    if slope[falling] >= 0 or rising.size == 0:
        raise ValueError("the spectrum has no local minimum above the zero-loss peak (it decreases to the end "
                         f"of the axis at {e[-1]:.4g} eV); give dE1 explicitly.")
    return float(e[falling + rising[0]])


def noise_level(energy_loss, spectra):
    """Standard deviation of the counts of one spectrum, per channel, smoothed over a FWHM.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    spectra : ndarray of shape (n_spectra, n_channels) or (n_channels,)
        With two or more spectra the noise is their spread (standard
        deviation with ``ddof=1``); with one, the scatter of the channels
        about the spectrum smoothed over a quarter FWHM (scaled to a
        standard deviation).

    Returns
    -------
    ndarray of shape (n_channels,), counts

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = np.linspace(-1, 10, 1101)
    >>> s = 1e4 * np.exp(-0.5 * (e / 0.2) ** 2) + 100 + 5 * rng.standard_normal((8, e.size))
    >>> bool(abs(np.median(noise_level(e, s)[e > 3]) - 5) < 1)
    True
    """
    e, c = check_spectra(energy_loss, spectra, name="spectra")
    c = c.reshape(-1, e.size)
    width = _peak_width(e, c.mean(axis=0))
    if c.shape[0] >= 2:
        spread = c.std(axis=0, ddof=1)
    else:
        smooth = smooth_spectrum(e, c[0], width / 4.0)
        spread = np.sqrt(np.pi / 2.0) * np.abs(c[0] - smooth)  # mean |x| of a normal variable is sigma sqrt(2/pi)
    return smooth_spectrum(e, spread, width)


def choose_dE1(energy_loss, sample, *, fraction=2.0 / 3.0):
    """Automatic dE1: ``fraction`` times the first local minimum of the mean sample spectrum, eV.

    The result is at least the FWHM of the peak, so that the training region
    always holds the peak and its shoulders.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    sample : ndarray of shape (n_spectra, n_channels)
    fraction : float, default 2/3
        Where between the peak (0) and the first minimum (1) to stop.

    Returns
    -------
    float, eV
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction={fraction!r} should be in (0, 1]: dE1 lies between the peak and the "
                         "first minimum of the spectrum.")
    e, c = check_spectra(energy_loss, sample, name="sample")
    mean = c.reshape(-1, e.size).mean(axis=0)
    return max(fraction * first_local_minimum(e, mean), _peak_width(e, mean))


def choose_dE2(energy_loss, vacuum=None, *, sample=None, n_sigma=2.0):
    """Automatic dE2: where the vacuum ZLP falls to ``n_sigma`` times the noise of one spectrum, eV.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    vacuum : ndarray of shape (n_vacuum, n_channels), optional
        Spectra taken in vacuum (ZLP only).
    sample : ndarray of shape (n_spectra, n_channels), optional
        Used only when ``vacuum`` is None: then ``dE2 = 3 E_min`` (three
        times the first local minimum of the sample, a rough rule; a
        warning says so).
    n_sigma : float, default 2
        How many noise standard deviations count as "compatible with zero".

    Returns
    -------
    float, eV
        At most the end of the axis less 5% of its span (room for pseudo-data).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> e = np.linspace(-2, 20, 2201)
    >>> vac = 1e5 / (1 + (e / 0.2) ** 2) + 10 * rng.standard_normal((3, e.size))
    >>> 5 < choose_dE2(e, vac) < 20
    True
    """
    import warnings

    if not n_sigma > 0:
        raise ValueError(f"n_sigma={n_sigma!r} should be > 0.")
    if vacuum is None and sample is None:
        raise ValueError("choose_dE2 needs vacuum spectra (vacuum=...) or, failing that, sample spectra "
                         "(sample=...); or give dE2 explicitly.")
    e = np.asarray(energy_loss, dtype=float)
    cap = float(e[-1] - 0.05 * (e[-1] - e[0]))
    if vacuum is None:
        warnings.warn("no vacuum spectra: dE2 set to 3 times the first minimum of the sample spectrum, a rough "
                      "rule; pass vacuum spectra or give dE2 explicitly.", stacklevel=2)
        return min(3.0 * first_local_minimum(e, sample), cap)
    e, v = check_spectra(e, vacuum, name="vacuum")
    v = v.reshape(-1, e.size)
    mean = v.mean(axis=0)
    smooth = smooth_spectrum(e, mean, _peak_width(e, mean))
    level = n_sigma * noise_level(e, v)
    peak = int(np.argmax(smooth))
    below = np.flatnonzero(smooth[peak:] <= level[peak:])
    return min(float(e[peak + below[0]]), cap) if below.size else cap


def choose_regions(energy_loss, sample, vacuum=None, *, dE1=None, dE2=None):
    """dE1 and dE2 for a set of spectra: given values are checked, missing ones chosen automatically.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    sample : ndarray of shape (n_spectra, n_channels)
    vacuum : ndarray of shape (n_vacuum, n_channels), optional
    dE1, dE2 : float, eV, optional
        Override the automatic rules (:func:`choose_dE1`, :func:`choose_dE2`).

    Returns
    -------
    (float, float)
        dE1 and dE2, eV.

    Examples
    --------
    >>> e = np.linspace(-2, 20, 2201)
    >>> s = 1e5 * np.exp(-0.5 * (e / 0.2) ** 2) + 50 * np.exp(-0.5 * ((e - 8) / 3) ** 2)
    >>> choose_regions(e, s[None], dE1=1.0, dE2=6.0)
    (1.0, 6.0)
    >>> choose_regions(e, s[None], dE1=30.0, dE2=6.0)
    Traceback (most recent call last):
    ...
    ValueError: dE1=30.0 eV lies outside (0, 20] eV, the energy-loss side of the axis; choose a value above the zero-loss peak and below the end of the axis.
    """
    e, s = check_spectra(energy_loss, sample, name="sample")
    for name, value in (("dE1", dE1), ("dE2", dE2)):
        if value is not None and not (np.isfinite(value) and 0 < value <= e[-1]):
            raise ValueError(f"{name}={value!r} eV lies outside (0, {e[-1]:.4g}] eV, the energy-loss side of the "
                             "axis; choose a value above the zero-loss peak and below the end of the axis.")
    dE1 = choose_dE1(e, s) if dE1 is None else float(dE1)
    if dE2 is None:
        dE2 = choose_dE2(e, vacuum, sample=s if vacuum is None else None)
    dE2 = float(dE2)
    if not dE2 > dE1:
        raise ValueError(f"dE2={dE2!r} eV should be larger than dE1={dE1!r} eV: the ZLP is trained below dE1 and "
                         "pinned to zero above dE2.")
    if not np.any(e > dE2):
        raise ValueError(f"dE2={dE2!r} eV leaves no channel above it (axis ends at {e[-1]:.4g} eV); "
                         "choose a smaller dE2.")
    return dE1, dE2
