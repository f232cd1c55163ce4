"""Reading a user's own spectra: DigitalMicrograph, MSA, HyperSpy and plain text.

Used in: tutorials/08_band_gap, tutorials/09_spectral_image and ``ml4em zlp``.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .ws2 import bin_centres, parse_energy_range

__all__ = ["Spectrum", "read_spectrum", "SUPPORTED_SUFFIXES"]

_RSCIIO = {".dm3": "digitalmicrograph", ".dm4": "digitalmicrograph", ".msa": "msa",
           ".ems": "msa", ".hspy": "hspy", ".hdf5": "hspy"}
_TEXT = {".txt", ".csv", ".dat", ".tsv"}
SUPPORTED_SUFFIXES = tuple(sorted(_RSCIIO)) + tuple(sorted(_TEXT))


@dataclass
class Spectrum:
    """A spectrum, or a stack or image of spectra, on one energy axis.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        Energy-loss axis (channel centres as stored in the file).
    counts : ndarray of shape (..., n_channels), counts
        One spectrum (1-D), a line of spectra (2-D) or a spectral image
        (3-D: rows, columns, channels).
    path : str
        The file it came from.
    metadata : dict
        What the reader reported (title, beam energy, ...), may be empty.
    """

    energy_loss: np.ndarray
    counts: np.ndarray
    path: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def scale(self):
        """Dispersion, eV per channel."""
        return float(self.energy_loss[1] - self.energy_loss[0])

    @property
    def offset(self):
        """Energy of the first channel, eV."""
        return float(self.energy_loss[0])


def read_spectrum(path, *, offset=None, scale=None):
    """Read EELS spectra from a file.

    Parameters
    ----------
    path : str or path-like
        ``.dm3``/``.dm4`` (Gatan DigitalMicrograph), ``.msa``/``.ems``,
        ``.hspy``/``.hdf5`` (HyperSpy) are read with RosettaSciIO. Text files
        (``.txt``, ``.csv``, ``.dat``, ``.tsv``) hold either two columns
        (energy loss in eV, counts; one line of two numbers is one channel)
        or one row or column of counts; for the latter the axis comes from
        ``offset`` and ``scale`` or, failing that, from an EELSfitter-style
        name such as ``m4d054eV_45d471eV``.
    offset, scale : float, optional
        Energy of the first channel and dispersion, eV and eV/channel, for
        text files without an energy column.

    Returns
    -------
    Spectrum

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty, corrupt, of an unsupported type, has no
        usable energy axis or contains NaN or infinite counts.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> name = os.path.join(folder, "s.txt")
    >>> np.savetxt(name, np.c_[np.arange(4) * 0.1, [1.0, 5.0, 2.0, 1.0]])
    >>> s = read_spectrum(name)
    >>> s.energy_loss.round(2), s.counts
    (array([0. , 0.1, 0.2, 0.3]), array([1., 5., 2., 1.]))
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"spectrum file {str(path)!r} does not exist; check the path.")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a folder; pass a spectrum file ({', '.join(SUPPORTED_SUFFIXES)}).")
    suffix = path.suffix.lower()
    if suffix not in _RSCIIO and suffix not in _TEXT:
        raise ValueError(f"file {str(path)!r} has type {suffix or '(none)'!r}, which read_spectrum does not "
                         f"support; expected one of {', '.join(SUPPORTED_SUFFIXES)}. Convert it, e.g. "
                         "with HyperSpy, or save two columns (energy loss in eV, counts) as .txt.")
    if path.stat().st_size == 0:
        raise ValueError(f"file {str(path)!r} is empty; expected an EELS spectrum ({suffix}).")
    if suffix in _TEXT:
        spectrum = _read_text(path, offset, scale)
    else:
        spectrum = _read_rsciio(path, _RSCIIO[suffix])
    if not np.all(np.isfinite(spectrum.counts)):
        bad = int(np.sum(~np.isfinite(spectrum.counts)))
        raise ValueError(f"file {str(path)!r} has {bad} NaN or infinite count(s); remove or "
                         "interpolate those channels before the analysis.")
    return spectrum


def _read_text(path, offset, scale):
    try:
        table = np.loadtxt(path, dtype=float, comments="#", delimiter="," if path.suffix.lower() == ".csv" else None,
                           ndmin=2)  # keeps one line of two numbers apart from one column of two counts
    except ValueError as err:
        raise ValueError(f"file {str(path)!r} is not a table of numbers ({err}); expected two columns "
                         "(energy loss in eV, counts) or one row or column of counts.") from err
    if table.size == 0:
        raise ValueError(f"file {str(path)!r} holds no numbers; expected an EELS spectrum.")
    if table.ndim == 2 and table.shape[1] == 2:
        energy, counts = table[:, 0], table[:, 1]
        if not np.all(np.diff(energy) > 0):
            raise ValueError(f"file {str(path)!r}: the first column (energy loss) does not increase "
                             "monotonically; expected columns (energy loss in eV, counts).")
        return Spectrum(energy, counts, str(path), {"format": "text, two columns"})
    if table.ndim == 2 and 1 not in table.shape:
        raise ValueError(f"file {str(path)!r} has a {table.shape[0]} x {table.shape[1]} table; expected two "
                         "columns (energy loss in eV, counts) or one row or column of counts.")
    counts = table.ravel()
    if offset is not None or scale is not None:
        if offset is None or scale is None or not scale > 0:
            raise ValueError(f"for {str(path)!r} give both offset (eV) and a positive scale (eV/channel); "
                             f"got offset={offset}, scale={scale}.")
        energy = offset + scale * np.arange(counts.size)
    else:
        try:
            low, high = parse_energy_range(path.name)
        except ValueError:
            raise ValueError(f"file {str(path)!r} holds counts only and its name encodes no energy range; "
                             "pass offset= and scale= (eV, eV/channel), or add an energy column.") from None
        energy = bin_centres(low, high, counts.size)
    return Spectrum(energy, counts, str(path), {"format": "text, counts only"})


def _read_rsciio(path, plugin):
    import importlib

    reader = importlib.import_module(f"rsciio.{plugin}")
    try:
        items = reader.file_reader(str(path))
    except Exception as err:  # the readers raise many kinds of errors on a corrupt file
        raise ValueError(f"could not read {str(path)!r} as a {plugin} file ({type(err).__name__}: {err}); "
                         "the file may be corrupt or of another format.") from err
    items = [it for it in items if np.ndim(it.get("data")) >= 1]
    if not items:
        raise ValueError(f"file {str(path)!r} holds no spectrum data.")
    item = items[0]
    data = np.asarray(item["data"], dtype=float)
    axes = item.get("axes", [])
    signal = [i for i, ax in enumerate(axes) if not ax.get("navigate", False)]
    if len(axes) != data.ndim or len(signal) != 1:
        raise ValueError(f"file {str(path)!r} holds data of shape {data.shape} with "
                         f"{len(signal)} signal axes; expected spectra (one energy axis).")
    ax = axes[signal[0]]
    factor = 1000.0 if str(ax.get("units", "eV")).strip() == "keV" else 1.0
    energy = factor * (ax.get("offset", 0.0) + ax.get("scale", 1.0) * np.arange(ax["size"]))
    counts = np.moveaxis(data, signal[0], -1)
    title = item.get("metadata", {}).get("General", {}).get("title", "")
    meta = {"format": plugin, "title": title, "units": ax.get("units", "")}
    return Spectrum(energy, counts, str(path), meta)
