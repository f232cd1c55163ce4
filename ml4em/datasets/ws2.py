"""The real WS2 low-loss EELS spectra (EELSfitter, Specimen 4).

Used in: tutorials/08_band_gap and the tests of :mod:`ml4em.datasets`.
"""

import re
import warnings
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np

from ._fetch import fetch
from ._registry import WS2_SAMPLE, WS2_VACUUM

__all__ = ["LowLossSpectra", "load_ws2_lowloss", "parse_energy_range", "bin_centres"]

_RANGE = re.compile(r"(m?)(\d+)d(\d+)eV(?:_|-to-)(m?)(\d+)d(\d+)eV")


def parse_energy_range(name):
    """Read the energy range that EELSfitter encodes in a file name.

    ``m4d054eV_45d471eV`` means -4.054 eV to +45.471 eV and
    ``m0d93eV-to-9d07eV`` means -0.93 eV to +9.07 eV.

    Parameters
    ----------
    name : str
        File name or path.

    Returns
    -------
    (float, float)
        Lower and upper edge of the range, eV.

    Examples
    --------
    >>> parse_energy_range("(14)_m4d054eV_45d471eV.txt")
    (-4.054, 45.471)
    >>> parse_energy_range("x_m0d93eV-to-9d07eV.txt")
    (-0.93, 9.07)
    """
    match = _RANGE.search(PurePosixPath(str(name)).name)
    if match is None:
        raise ValueError(
            f"name={name!r} does not encode an energy range like 'm4d054eV_45d471eV' "
            "(-4.054 to 45.471 eV); pass the energy axis explicitly instead.")
    s1, a1, b1, s2, a2, b2 = match.groups()
    low = float(f"{a1}.{b1}") * (-1 if s1 else 1)
    high = float(f"{a2}.{b2}") * (-1 if s2 else 1)
    return low, high


def bin_centres(low, high, n_channels):
    """Return the centres of ``n_channels`` equal bins spanning [low, high], eV.

    ``E_i = low + (high - low) * (i + 0.5) / n_channels``, the convention of
    the EELSfitter files.

    Examples
    --------
    >>> bin_centres(0.0, 1.0, 4)
    array([0.125, 0.375, 0.625, 0.875])
    """
    i = np.arange(n_channels)
    return low + (high - low) * (i + 0.5) / n_channels


@dataclass
class LowLossSpectra:
    """A set of low-loss spectra on one energy axis.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        Bin centres, shifted so that the zero-loss-peak maximum is at 0 eV.
    sample : ndarray of shape (n_sample, n_channels), counts
        Spectra taken in the specimen.
    vacuum : ndarray of shape (n_vacuum, n_channels), counts
        Spectra taken in vacuum (zero-loss peak only).
    sample_files, vacuum_files : list of str
        Registry names of the files, in the order of the rows.
    """

    energy_loss: np.ndarray
    sample: np.ndarray
    vacuum: np.ndarray
    sample_files: list = field(default_factory=list)
    vacuum_files: list = field(default_factory=list)

    @property
    def scale(self):
        """Dispersion, eV per channel."""
        return float(np.mean(np.diff(self.energy_loss)))


def load_ws2_lowloss():
    """Load the real low-loss EELS spectra of a polytypic WS2 nanoflower.

    Six spectra in the specimen and three in vacuum, 1981 channels of
    0.025 eV from -4.05 to 45.47 eV before alignment. The files are fetched
    from their public origin (pinned commit, sha256-checked) into
    ``ML4EM_DATA_DIR`` or the user cache; they are not distributed with ml4em
    because no licence allows it.

    Returns
    -------
    LowLossSpectra
        ``energy_loss`` (1981,) eV with the ZLP maximum at 0 eV, ``sample``
        (6, 1981) and ``vacuum`` (3, 1981) in counts (float64), and the file
        names. Some vacuum channels far from the peak are slightly negative.

    References
    ----------
    Roest et al., "Charting the low-loss region in electron energy loss
    spectroscopy with machine learning", Ultramicroscopy 222 (2021) 113202,
    doi:10.1016/j.ultramic.2021.113202, arXiv:2009.05050.

    Examples
    --------
    >>> d = load_ws2_lowloss()  # doctest: +SKIP
    >>> d.sample.shape, d.vacuum.shape  # doctest: +SKIP
    ((6, 1981), (3, 1981))
    """
    names = WS2_SAMPLE + WS2_VACUUM
    spectra = np.stack([np.loadtxt(fetch(name), dtype=float).ravel() for name in names])
    low, high = parse_energy_range(names[0])
    energy = bin_centres(low, high, spectra.shape[1])
    peaks = spectra.argmax(axis=1)
    if np.ptp(peaks) > 1:
        warnings.warn(f"the spectra peak at different channels {peaks.tolist()}; "
                      "the axis puts 0 eV at their mean ZLP centre", stacklevel=2)
    from ..eels.axis import aligned_axis, zlp_centre

    energy = aligned_axis(energy, zlp_centre(energy, spectra))  # the axis of ml4em.eels.align_zlp; counts unmoved
    n_sample = len(WS2_SAMPLE)
    return LowLossSpectra(energy_loss=energy, sample=spectra[:n_sample], vacuum=spectra[n_sample:],
                          sample_files=list(WS2_SAMPLE), vacuum_files=list(WS2_VACUUM))
