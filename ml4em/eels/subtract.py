"""Subtracting the ZLP model from a spectrum, replica by replica.

The subtracted (inelastic) spectrum of replica k is
``I_inel^(k) = I - I_ZLP^(k)``, where the ZLP is matched to the data the way
the replica-method papers do it (Roest et al. 2021; Brokkelkamp et al.,
J. Phys. Chem. A 126 (2022) 1255, doi:10.1021/acs.jpca.1c09566, and the
EELSfitter code published with them):

- below ``dE0 = (FWHM + dE1) / 2`` the measured spectrum *is* the ZLP
  (the inelastic signal there is zero);
- between dE0 and dE1 the ZLP moves smoothly from the data to the model,
  with a logistic weight centred half-way whose width is a tenth of
  ``dE1 - dE0``;
- between dE1 and dE2 the ZLP is the model;
- above dE2 the ZLP is zero;
- nowhere is the ZLP larger than the measured spectrum.

Used in: tutorials/08_band_gap, tutorials/09_spectral_image and ``ml4em zlp``.
"""

import numpy as np

from .axis import check_spectra, fwhm
from .predict import band

__all__ = ["matching_weight", "match_zlp", "subtract_zlp", "subtracted_band"]


def matching_weight(energy_loss, *, dE1, dE0):
    """Weight of the model in the matched ZLP: 0 below dE0, 1 above dE1, a logistic step between.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    dE1, dE0 : float, eV
        ``dE0 < dE1``.

    Returns
    -------
    ndarray of shape (n_channels,), in [0, 1]

    Examples
    --------
    >>> w = matching_weight(np.array([0.0, 1.0, 1.5, 2.0, 3.0]), dE1=2.0, dE0=1.0)
    >>> w.round(3)
    array([0. , 0. , 0.5, 1. , 1. ])
    """
    e = np.asarray(energy_loss, dtype=float)
    if not dE0 < dE1:
        raise ValueError(f"dE0={dE0!r} should be below dE1={dE1!r} eV; dE0 = (FWHM + dE1) / 2 needs dE1 > FWHM.")
    width = (dE1 - dE0) / 10.0
    middle = (dE0 + dE1) / 2.0
    inside = (e > dE0) & (e < dE1)
    w = np.where(e >= dE1, 1.0, 0.0)
    w[inside] = 1.0 / (1.0 + np.exp(-(e[inside] - middle) / width))
    return w


def match_zlp(energy_loss, spectrum, zlp, *, dE1, dE2, peak_fwhm=None):
    """The ZLP of every replica matched to a measured spectrum.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    spectrum : ndarray of shape (n_channels,) or (..., n_channels), counts
        Measured spectrum (or stack of spectra, e.g. the pixels of an image).
    zlp : ndarray of shape (n_replicas, n_channels) or (n_replicas, ..., n_channels), counts
        Model ZLPs (:meth:`ml4em.eels.ZLPEnsemble.predict`).
    dE1, dE2 : float, eV
    peak_fwhm : float, eV, optional
        FWHM of the peak; default measured on ``spectrum``.

    Returns
    -------
    ndarray, the broadcast shape of ``zlp`` and ``spectrum``, counts

    Examples
    --------
    >>> e = np.linspace(-1, 5, 601)
    >>> data = 100 * np.exp(-0.5 * (e / 0.2) ** 2) + np.where(e > 1.5, 5.0, 0.0)
    >>> model = 100 * np.exp(-0.5 * (e / 0.2) ** 2)[None]
    >>> m = match_zlp(e, data, model, dE1=1.0, dE2=3.0)
    >>> bool(np.all(m <= data)), float(m[0, e > 3.0].max())
    (True, 0.0)
    """
    e, s = check_spectra(energy_loss, spectrum, name="spectrum")
    z = np.asarray(zlp, dtype=float)
    if z.shape[-1] != e.size:
        raise ValueError(f"zlp should have the {e.size} energy channels on its last axis; got shape {z.shape}.")
    if not (0 < dE1 < dE2):
        raise ValueError(f"need 0 < dE1 < dE2 (eV); got dE1={dE1!r}, dE2={dE2!r}.")
    width = float(np.median(np.atleast_1d(fwhm(e, s)))) if peak_fwhm is None else float(peak_fwhm)
    if not 0 < width < dE1:
        raise ValueError(f"the peak FWHM {width:.4g} eV should be positive and below dE1={dE1} eV; choose a larger "
                         "dE1 (it should lie beyond the peak).")
    w = matching_weight(e, dE1=dE1, dE0=(width + dE1) / 2.0)
    model = np.where(e > dE2, 0.0, z)
    matched = w * model + (1.0 - w) * s
    return np.minimum(matched, s)


def subtract_zlp(energy_loss, spectrum, zlp, *, dE1, dE2, peak_fwhm=None):
    """The inelastic spectrum of every replica: ``spectrum - match_zlp(...)``.

    Returns
    -------
    ndarray, the broadcast shape of ``zlp`` and ``spectrum``, counts
        Zero below dE0 by construction, never negative.

    Examples
    --------
    >>> e = np.linspace(-1, 5, 601)
    >>> peak = 100 * np.exp(-0.5 * (e / 0.2) ** 2)
    >>> inel = subtract_zlp(e, peak + np.where(e > 1.5, 5.0, 0.0), peak[None], dE1=1.0, dE2=3.0)
    >>> float(inel[0, e > 2].min()), float(inel[0, e < 0.5].max())
    (5.0, 0.0)
    """
    matched = match_zlp(energy_loss, spectrum, zlp, dE1=dE1, dE2=dE2, peak_fwhm=peak_fwhm)
    return np.asarray(spectrum, dtype=float) - matched


def subtracted_band(energy_loss, spectrum, zlp, *, dE1, dE2, peak_fwhm=None, cl=0.68):
    """Median and ``cl`` band of the subtracted spectrum over the replicas.

    Returns
    -------
    ml4em.eels.Band
    """
    return band(subtract_zlp(energy_loss, spectrum, zlp, dE1=dE1, dE2=dE2, peak_fwhm=peak_fwhm), cl=cl)
