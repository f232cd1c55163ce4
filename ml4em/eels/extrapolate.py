"""ZLPs that depend on the operating conditions, and how far a model can extrapolate them.

The ZLP model can take, besides the energy loss, the conditions under which
a spectrum was recorded (exposure time, beam energy) as inputs. Trained on
a few conditions, it predicts others; its band stays narrow between the
training conditions (interpolation) and widens outside them
(extrapolation), which is how the replica method says "I do not know"
(Roest et al., Ultramicroscopy 222 (2021) 113202, section 3,
doi:10.1016/j.ultramic.2021.113202).

:func:`make_zlp_series` makes seeded vacuum ZLPs whose height and width
follow a simple, stated dependence on the condition, so that the truth is
known everywhere.

Used in: tutorials/07_eels_replicas.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["SERIES_KINDS", "ZLPSeries", "zlp_series_truth", "make_zlp_series", "relative_band_width"]

#: The conditions a series can vary, with their units.
SERIES_KINDS = {"exposure": "exposure time (ms)", "beam_energy": "beam energy (keV)"}


@dataclass
class ZLPSeries:
    """Vacuum spectra recorded under several conditions.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    spectra : list of ndarray of shape (n_spectra, n_channels), counts
        One block of repeated spectra per condition.
    conditions : ndarray of shape (n_conditions,)
        The condition of each block (ms or keV).
    zlp : ndarray of shape (n_conditions, n_channels), counts
        The true (noise-free) ZLP of each block.
    kind : str
        ``"exposure"`` or ``"beam_energy"``.
    label : str
        Axis label with units.
    """

    energy_loss: np.ndarray
    spectra: list
    conditions: np.ndarray
    zlp: np.ndarray
    kind: str
    label: str


def zlp_series_truth(energy_loss, values, *, kind="exposure", fwhm0=0.3, rate=1e5, drift=0.05,
                     ripple=1.5e-6):
    """The noise-free ZLP for each condition value.

    ``kind="exposure"``: exposure time t (ms); height ``rate * t`` counts
    and width ``sqrt(fwhm0^2 + (drift t)^2)`` (the energy drifts during
    the exposure). ``kind="beam_energy"``: beam energy E0 (keV); height
    ``rate`` and width ``sqrt(fwhm0^2 + (ripple E0)^2)`` with E0 in eV (the
    high-voltage ripple scales with E0).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    values : array-like of shape (n_conditions,)
    kind : {"exposure", "beam_energy"}
    fwhm0 : float, eV
        Intrinsic width (source energy spread).
    rate : float, counts
        Peak counts per ms (exposure) or per spectrum (beam energy).
    drift : float, eV per ms
    ripple : float
        Relative high-voltage ripple.

    Returns
    -------
    ndarray of shape (n_conditions, n_channels), counts

    Examples
    --------
    >>> e = np.linspace(-1, 1, 201)
    >>> z = zlp_series_truth(e, [1.0, 2.0])
    >>> (z.max(axis=1) / 1e5).round(2)
    array([1., 2.])
    """
    from ..datasets.synthetic import zlp_profile

    if kind not in SERIES_KINDS:
        raise ValueError(f"kind={kind!r} is not known; choose one of {sorted(SERIES_KINDS)}.")
    values = np.atleast_1d(np.asarray(values, dtype=float))
    if values.ndim != 1 or not np.all(values > 0):
        raise ValueError(f"values should be a 1-D array of positive {SERIES_KINDS[kind]}; got {values!r}.")
    e = np.asarray(energy_loss, dtype=float)
    out = []
    for value in values:
        if kind == "exposure":
            height, width = rate * value, np.hypot(fwhm0, drift * value)
        else:
            height, width = rate, np.hypot(fwhm0, ripple * value * 1e3)
        out.append(height * zlp_profile(e, fwhm=width, tail=0.01))
    return np.stack(out)


def make_zlp_series(values, *, kind="exposure", n_spectra=4, energy_loss=None, read_noise=3.0, seed=None,
                    **truth):
    """Seeded vacuum spectra for each condition value: Poisson counts of the true ZLP plus read noise.

    Parameters
    ----------
    values : array-like of shape (n_conditions,)
        Exposure times (ms) or beam energies (keV).
    kind : {"exposure", "beam_energy"}
    n_spectra : int, default 4
        Repeated spectra per condition (>= 2, to estimate sigma).
    energy_loss : ndarray, eV, optional
        Default: -1.5 to 6 eV in steps of 0.02 eV.
    read_noise : float, counts
    seed : int, numpy.random.Generator or None
    **truth
        Passed to :func:`zlp_series_truth` (``fwhm0``, ``rate``, ``drift``, ``ripple``).

    Returns
    -------
    ZLPSeries

    Examples
    --------
    >>> s = make_zlp_series([1.0, 2.0, 4.0], n_spectra=3, seed=0)
    >>> len(s.spectra), s.spectra[0].shape, s.label
    (3, (3, 376), 'exposure time (ms)')
    """
    if int(n_spectra) != n_spectra or n_spectra < 2:
        raise ValueError(f"n_spectra={n_spectra!r} should be an integer >= 2 (sigma comes from their spread).")
    rng = np.random.default_rng(seed)
    e = np.round(np.arange(-1.5, 6.0 + 1e-9, 0.02), 10) if energy_loss is None else np.asarray(energy_loss, float)
    zlp = zlp_series_truth(e, values, kind=kind, **truth)
    spectra = []
    for mean in zlp:
        block = rng.poisson(np.broadcast_to(mean, (int(n_spectra), e.size))).astype(float)
        spectra.append(block + read_noise * rng.standard_normal(block.shape))
    return ZLPSeries(energy_loss=e, spectra=spectra, conditions=np.atleast_1d(np.asarray(values, dtype=float)),
                     zlp=zlp, kind=kind, label=SERIES_KINDS[kind])


def relative_band_width(ensemble, energy_loss, values, *, window):
    """Mean relative width ``(high - low) / median`` of the ZLP band over ``window``, per condition.

    Parameters
    ----------
    ensemble : ml4em.eels.ZLPEnsemble
        Fitted with one condition.
    energy_loss : ndarray of shape (n_channels,), eV
    values : array-like of shape (n_values,)
        Conditions at which to evaluate the band.
    window : (float, float), eV

    Returns
    -------
    ndarray of shape (n_values,), dimensionless
    """
    e = np.asarray(energy_loss, dtype=float)
    inside = (e >= window[0]) & (e <= window[1])
    if not inside.any():
        raise ValueError(f"window={window!r} holds no channel of energy_loss.")
    widths = []
    for value in np.atleast_1d(values):
        b = ensemble.band(e[inside], conditions=[value])
        widths.append(float(np.mean(b.width / b.median)))
    return np.array(widths)
