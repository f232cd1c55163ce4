"""From an ensemble of replica predictions to a central value and a band.

The replica method reports the median over the replicas and the interval
between the 16th and 84th percentiles (the 68% confidence-level band);
replicas whose chi2 exceeds a cut can be left out first, and the number
kept is reported (Roest et al., Ultramicroscopy 222 (2021) 113202,
doi:10.1016/j.ultramic.2021.113202).

Used in: tutorials/07_eels_replicas, tutorials/08_band_gap.
"""

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["Band", "band", "select_replicas", "coverage"]


@dataclass
class Band:
    """Median and confidence-level band of an ensemble.

    Attributes
    ----------
    median, low, high : ndarray of shape (...)
        Median and the lower and upper edges of the band.
    cl : float
        Confidence level of the band (0.68 by default).
    n_replicas : int
        Replicas the band was computed from.
    """

    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    cl: float = 0.68
    n_replicas: int = 0

    @property
    def width(self):
        """``high - low``."""
        return self.high - self.low

    def contains(self, values):
        """Boolean array: ``low <= values <= high``."""
        return (np.asarray(values) >= self.low) & (np.asarray(values) <= self.high)


def band(samples, *, cl=0.68, axis=0):
    """Median and central ``cl`` interval of ``samples`` along ``axis`` (the replica axis).

    Parameters
    ----------
    samples : ndarray of shape (n_replicas, ...)
    cl : float, default 0.68
        Confidence level: the band runs from the (1 - cl)/2 to the (1 + cl)/2 quantile.
    axis : int, default 0

    Returns
    -------
    Band

    Examples
    --------
    >>> b = band(np.arange(101.0)[:, None])
    >>> float(b.median[0]), float(b.low[0]), float(b.high[0])
    (50.0, 16.0, 84.0)
    """
    samples = np.asarray(samples, dtype=float)
    if not 0 < cl < 1:
        raise ValueError(f"cl={cl!r} should be a confidence level between 0 and 1, e.g. 0.68.")
    if samples.ndim == 0 or samples.shape[axis] < 2:
        raise ValueError(f"samples should hold at least 2 replicas along axis {axis}; got shape {samples.shape}.")
    low, median, high = np.quantile(samples, [(1 - cl) / 2, 0.5, (1 + cl) / 2], axis=axis)
    return Band(median=median, low=low, high=high, cl=float(cl), n_replicas=int(samples.shape[axis]))


def select_replicas(chi2, max_chi2=None):
    """Replicas to keep: those with chi2 per point at most ``max_chi2`` (all when None).

    Parameters
    ----------
    chi2 : ndarray of shape (n_replicas,)
    max_chi2 : float, optional
        The cut.

    Returns
    -------
    ndarray of bool, shape (n_replicas,)
        With a warning when fewer than 2 replicas survive (then all are kept).

    Examples
    --------
    >>> select_replicas(np.array([1.0, 5.0, 2.0]), max_chi2=3.0)
    array([ True, False,  True])
    """
    chi2 = np.asarray(chi2, dtype=float)
    if max_chi2 is None:
        return np.ones(chi2.shape, dtype=bool)
    if not max_chi2 > 0:
        raise ValueError(f"max_chi2={max_chi2!r} should be a positive chi2 per point, e.g. 3.")
    keep = chi2 <= max_chi2
    if keep.sum() < 2:
        warnings.warn(f"only {int(keep.sum())} of {chi2.size} replicas have chi2 <= {max_chi2}; keeping all. "
                      "Raise the cut or check the fit.", stacklevel=2)
        return np.ones(chi2.shape, dtype=bool)
    return keep


def coverage(band_, truth, mask=None):
    """Fraction of points where the band contains the truth.

    Parameters
    ----------
    band_ : Band
    truth : ndarray, the shape of the band
    mask : ndarray of bool, optional
        Points to count (e.g. the fit region).

    Returns
    -------
    float

    Examples
    --------
    >>> b = Band(median=np.zeros(4), low=-np.ones(4), high=np.ones(4))
    >>> coverage(b, np.array([0.0, 0.5, 2.0, -3.0]))
    0.5
    """
    inside = band_.contains(truth)
    if mask is not None:
        inside = inside[np.asarray(mask, dtype=bool)]
    if inside.size == 0:
        raise ValueError("mask selects no point; coverage needs at least one.")
    return float(np.mean(inside))
