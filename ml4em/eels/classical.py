"""Classical zero-loss-peak subtractions: the methods the replica method replaces.

Three ways to estimate the ZLP under a low-loss spectrum without a neural
network, each a one-line physical assumption:

- :func:`subtract_power_law`: beyond its core the ZLP tail falls as a power
  law ``A E^-r``; fit it in a window below the onset and extrapolate it
  (the background model of core-loss EELS, Egerton, *Electron Energy-Loss
  Spectroscopy in the Electron Microscope*, 3rd ed., Springer 2011,
  doi:10.1007/978-1-4419-9583-4, chapter 4). The fit is hyperspy's
  ``PowerLaw`` component (the one exspy's ``EELSSpectrum.remove_background``
  uses).
- :func:`subtract_reflected_tail`: the ZLP is symmetric about its maximum, and
  the energy-gain side (E < 0) holds no inelastic signal, so the gain side
  mirrored onto E > 0 is the ZLP there (Egerton 2011, chapter 4).
- :func:`subtract_scaled_vacuum`: the ZLP under the specimen has the shape
  of a ZLP measured in vacuum; scale the vacuum peak to the specimen's
  maximum and subtract it (Stöger-Pollach, Micron 39 (2008) 1092,
  doi:10.1016/j.micron.2008.01.023, reviews these choices for band-gap
  measurements).

Each returns a :class:`Subtraction` ``(inelastic, zlp, params)``: the
subtracted spectrum, the ZLP estimate and the fitted numbers. Nothing is
clipped: where the estimate exceeds the spectrum the inelastic signal is
negative, which shows the method's error rather than hiding it. The replica
method (:class:`ml4em.eels.ZLPEnsemble`, Roest et al., Ultramicroscopy 222
(2021) 113202, doi:10.1016/j.ultramic.2021.113202) makes none of these
assumptions; ``benchmarks/classical.py`` measures what that gains on
synthetic spectra with a known band gap.

Spectra are on an energy axis in eV with the ZLP maximum at 0 eV
(:func:`ml4em.eels.align_zlp`); counts per channel.

Used in: benchmarks/classical.py (their band-gap errors against the replica method's on synthetic truth).
"""

import logging
import warnings
from typing import NamedTuple

import numpy as np

from .axis import check_spectra, fwhm, zlp_centre

__all__ = ["Subtraction", "subtract_power_law", "subtract_reflected_tail", "subtract_scaled_vacuum"]

_INSTALL_HINT = 'pip install "ml4em[classical]"'


class Subtraction(NamedTuple):
    """A classical ZLP subtraction.

    Attributes
    ----------
    inelastic : ndarray, the shape of ``spectrum``, counts
        ``spectrum - zlp`` (not clipped at zero).
    zlp : ndarray, the shape of ``spectrum``, counts
        The ZLP estimate.
    params : dict of str to ndarray of shape (...) (one value per spectrum)
        What the method fitted: ``A`` (counts eV^r) and ``r`` for the power
        law, ``peak`` (eV) for the reflected tail, ``scale`` for the vacuum.
    """

    inelastic: np.ndarray
    zlp: np.ndarray
    params: dict


def _uniform_scale(e, name="energy_loss"):
    scale = (e[-1] - e[0]) / (e.size - 1)
    if np.max(np.abs(np.diff(e) - scale)) > 1e-3 * scale:
        raise ValueError(f"{name} should be a uniform axis (one dispersion in eV/channel); its steps range from "
                         f"{np.diff(e).min():.6g} to {np.diff(e).max():.6g} eV. Interpolate the spectra onto a "
                         "uniform axis first.")
    return scale


def _check_2d(spectrum, name):
    if spectrum.ndim > 2:
        raise ValueError(f"{name} should have shape (n_channels,) or (n_spectra, n_channels); got "
                         f"{spectrum.shape}. Reshape a spectral image to (n_pixels, n_channels) first.")


def subtract_power_law(energy_loss, spectrum, *, window, fast=False):
    """Subtract a power law ``A E^-r`` fitted to the ZLP tail in ``window`` and extrapolated beyond it.

    The fit is hyperspy's ``PowerLaw`` component on a ``Signal1D`` with a
    calibrated axis (``Signal1D.remove_background``, as exspy's
    ``EELSSpectrum`` does for core-loss backgrounds). ``fast=True`` keeps its
    two-area estimate (Egerton 2011, chapter 4), which is approximate:
    on an exact ``E^-2.5`` tail in (0.5, 1.5) eV it gives ``r = 2.53`` to
    ``2.55`` (at 0.01 to 0.025 eV/channel);
    ``fast=False`` refines it by least squares (exact on an exact tail).
    Needs the optional dependency exspy (which brings hyperspy):
    ``pip install "ml4em[classical]"``.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        Uniform axis, ZLP maximum at 0 eV.
    spectrum : ndarray of shape (n_channels,) or (n_spectra, n_channels), counts
    window : (float, float), eV
        The fit range on the tail, ``0 < low < high <= energy_loss[-1]``,
        below the onset of the inelastic signal and beyond the peak's core.
    fast : bool, default False
        Two-area estimate only (True) or least-squares fit (False).

    Returns
    -------
    Subtraction
        ``zlp`` is the power law from ``window[0]`` on and the spectrum
        itself below it (so ``inelastic`` is 0 there); ``params`` holds
        ``A`` (counts eV^r) and ``r``, one per spectrum.

    Raises
    ------
    ImportError
        If hyperspy is not installed.
    ValueError
        For a window outside the axis or with fewer than 4 channels.

    Examples
    --------
    >>> import pytest; _ = pytest.importorskip("hyperspy")  # skipped without the optional dependency
    >>> e = np.arange(-100, 1000) * 0.01
    >>> tail = 50.0 * np.clip(e, 0.01, None) ** -2.5 * (e > 0)
    >>> out = subtract_power_law(e, tail, window=(0.5, 1.5))
    >>> round(float(out.params["r"]), 4), bool(np.abs(out.inelastic).max() < 1e-6 * tail.max())
    (2.5, True)
    """
    e, s = check_spectra(energy_loss, spectrum, name="spectrum")
    _check_2d(s, "spectrum")
    scale = _uniform_scale(e)
    low, high = (float(w) for w in window)
    if not (0.0 < low < high <= e[-1]):
        raise ValueError(f"window={tuple(window)!r} should satisfy 0 < low < high <= {e[-1]:.6g} eV (the end of "
                         "energy_loss): the power law is fitted to the tail at positive energy losses. Choose a "
                         "range on the tail below the onset.")
    inside = (e >= low) & (e <= high)
    if inside.sum() < 4:
        raise ValueError(f"window={tuple(window)!r} holds {int(inside.sum())} channels; the power-law fit needs at "
                         "least 4 (two areas of 2). Widen it.")
    try:
        from hyperspy.signals import Signal1D
    except ImportError as err:
        raise ImportError("subtract_power_law needs exspy and hyperspy, which are optional; install them with "
                          f"{_INSTALL_HINT}.") from err
    signal = Signal1D(s.copy())
    axis = signal.axes_manager.signal_axes[0]
    axis.name, axis.units, axis.offset, axis.scale = "Energy loss", "eV", float(e[0]), float(scale)
    log = logging.getLogger("hyperspy")
    level = log.level
    log.setLevel(logging.ERROR)  # hyperspy warns that numexpr is missing; numpy does the work instead
    try:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # 0 ** -r below the cut-off, masked by hyperspy
            removed, model = signal.remove_background(signal_range=(low, high), background_type="PowerLaw",
                                                      fast=fast, return_model=True, show_progressbar=False,
                                                      zero_fill=False)
    finally:
        log.setLevel(level)
    power_law = model[0]
    amplitude = np.asarray(power_law.A.map["values"], dtype=float).reshape(s.shape[:-1])
    exponent = np.asarray(power_law.r.map["values"], dtype=float).reshape(s.shape[:-1])
    background = s - np.asarray(removed.data, dtype=float).reshape(s.shape)
    zlp = np.where(e >= low, background, s)
    return Subtraction(s - zlp, zlp, {"A": amplitude, "r": exponent})


def subtract_reflected_tail(energy_loss, spectrum, *, peak=None):
    """Subtract the energy-gain side of the ZLP mirrored onto the loss side about the peak.

    Above the peak position ``p`` the ZLP estimate is the spectrum at
    ``2 p - E`` (linear interpolation between channels); at and below ``p``
    it is the spectrum itself. Beyond ``2 p - energy_loss[0]`` there is
    nothing to mirror and the estimate is 0. Exact for a symmetric ZLP;
    biased wherever the real peak is asymmetric (a longer tail on the loss
    side makes the subtracted signal too large near the peak).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        Uniform axis with channels below 0 eV (the energy-gain side).
    spectrum : ndarray of shape (n_channels,) or (n_spectra, n_channels), counts
    peak : float or ndarray of shape (n_spectra,), eV, optional
        Position of the ZLP maximum; default :func:`ml4em.eels.zlp_centre`
        of each spectrum (parabola through the top three channels).

    Returns
    -------
    Subtraction
        ``params["peak"]``: the mirror position per spectrum, eV.

    Raises
    ------
    ValueError
        If the axis has no channel below 0 eV or below the peak.

    Examples
    --------
    >>> e = np.arange(-200, 601) * 0.01
    >>> zlp = 1000.0 * np.exp(-0.5 * (e / 0.2) ** 2)
    >>> onset = 10.0 * np.clip(e - 1.5, 0.0, None) ** 1.5
    >>> out = subtract_reflected_tail(e, zlp + onset)
    >>> bool(np.allclose(out.inelastic[e < 2.0], onset[e < 2.0]))
    True
    """
    e, s = check_spectra(energy_loss, spectrum, name="spectrum")
    _check_2d(s, "spectrum")
    scale = _uniform_scale(e)
    if not e[0] < 0.0:
        raise ValueError(f"energy_loss starts at {e[0]:.6g} eV; the reflected tail needs channels on the "
                         "energy-gain side (below 0 eV) to mirror. Use a spectrum recorded with the gain side, or "
                         "another subtraction (subtract_power_law, subtract_scaled_vacuum).")
    flat = s.reshape(-1, e.size)
    if peak is None:
        p = np.atleast_1d(np.asarray(zlp_centre(e, flat), dtype=float))
    else:
        p = np.broadcast_to(np.asarray(peak, dtype=float), (flat.shape[0],)).copy()
    if np.any(~np.isfinite(p)) or np.any(p <= e[0]) or np.any(p >= e[-1]):
        raise ValueError(f"peak={p.tolist() if p.size < 6 else p!r} eV should lie inside energy_loss "
                         f"({e[0]:.6g} to {e[-1]:.6g} eV) with channels below it to mirror; pass peak= or align "
                         "the spectra with ml4em.eels.align_zlp.")
    mirrored = 2.0 * p[:, None] - e[None, :]  # where each channel's mirror image lies, eV
    position = (mirrored - e[0]) / scale  # in channels
    left = np.clip(np.floor(position).astype(int), 0, e.size - 2)
    frac = position - left
    values = (np.take_along_axis(flat, left, 1) * (1.0 - frac) + np.take_along_axis(flat, left + 1, 1) * frac)
    values = np.where(mirrored < e[0] - 1e-9 * scale, 0.0, values)
    zlp = np.where(e[None, :] > p[:, None], values, flat).reshape(s.shape)
    peak_out = p.reshape(s.shape[:-1]) if s.ndim > 1 else p[0]
    return Subtraction(s - zlp, zlp, {"peak": np.asarray(peak_out)})


def subtract_scaled_vacuum(energy_loss, spectrum, vacuum):
    """Subtract a vacuum ZLP scaled so that its maximum equals the spectrum's maximum.

    Exact when the ZLP under the specimen has the vacuum peak's shape and
    the inelastic signal at the maximum is negligible. Biased when the
    specimen broadens or reshapes the peak (the tails then do not match).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    spectrum : ndarray of shape (n_channels,) or (n_spectra, n_channels), counts
    vacuum : ndarray of shape (n_channels,) or the shape of ``spectrum``, counts
        A ZLP measured without a specimen (e.g. the mean of vacuum
        spectra), on the same axis and aligned to the same peak position.

    Returns
    -------
    Subtraction
        ``params["scale"]``: ``max(spectrum) / max(vacuum)`` per spectrum.

    Raises
    ------
    ValueError
        For mismatched shapes, a vacuum spectrum without a positive maximum,
        or peaks more than half a FWHM apart.

    Examples
    --------
    >>> e = np.arange(-200, 601) * 0.01
    >>> vac = np.exp(-0.5 * (e / 0.2) ** 2)
    >>> onset = 10.0 * np.clip(e - 1.5, 0.0, None) ** 1.5
    >>> out = subtract_scaled_vacuum(e, 1e4 * vac + onset, vac)
    >>> float(out.params["scale"]), bool(np.allclose(out.inelastic, onset))
    (10000.0, True)
    """
    e, s = check_spectra(energy_loss, spectrum, name="spectrum")
    _check_2d(s, "spectrum")
    _, v = check_spectra(e, vacuum, name="vacuum")
    if v.shape != (e.size,) and v.shape != s.shape:
        raise ValueError(f"vacuum should have shape ({e.size},) or the shape of spectrum {s.shape}; got {v.shape}. "
                         "Pass one vacuum spectrum (e.g. the mean of several) or one per spectrum.")
    v_max = v.max(axis=-1)
    if np.any(v_max <= 0):
        raise ValueError(f"vacuum has a maximum of {float(np.min(v_max)):.6g} counts; it should be a zero-loss "
                         "peak with a positive maximum.")
    shift = np.abs(np.asarray(zlp_centre(e, s)) - np.asarray(zlp_centre(e, v)))
    width = np.asarray(fwhm(e, v))
    if np.any(shift > width / 2.0):
        raise ValueError(f"the peaks of spectrum and vacuum are up to {float(np.max(shift)):.4g} eV apart, more than "
                         f"half the vacuum FWHM ({float(np.min(width)) / 2:.4g} eV); align them first with "
                         "ml4em.eels.align_zlp on both together.")
    factor = s.max(axis=-1) / v_max
    zlp = factor[..., None] * v
    zlp = np.broadcast_to(zlp, s.shape).copy()
    return Subtraction(s - zlp, zlp, {"scale": np.asarray(factor)})
