"""The checks of ``ml4em zlp`` on its inputs and its result: refuse what it cannot analyse, flag what it got wrong.

Before the work starts: the input files (:func:`check_inputs`), every
spectrum (:func:`check_spectrum`, :func:`check_distinct`) and the memory
that ``--n-replicas`` needs (:mod:`ml4em.eels.memory`); the output folder is
:mod:`ml4em.eels.cli_output`'s. After the fit: the band gap
(:func:`ml4em.eels.pipeline.band_gap_warnings`). Every failure is a :class:`CLIError` whose
message names the file or option, the value found and the fix.

The rules
---------
- **Channels.** At least ``MIN_CHANNELS`` (64): a few channels across the
  peak on each side, a training region below dE1, a ZLP-free region above
  dE2 and at least 5 channels in the band-gap window.
- **Energy axis.** Finite, strictly increasing and uniform: no step differs
  from the median step by more than ``AXIS_STEP_RTOL`` (25%), which lets
  axes printed with few decimals pass and catches missing channels.
- **Counts.** Finite, not all zero, not constant. *Negative beyond noise:*
  the noise ``sigma`` of a spectrum is estimated from its channel-to-channel
  differences (median absolute deviation / 0.6745 / sqrt 2, which the peak
  and slow slopes hardly move; at least ``SIGMA_FLOOR`` (1e-6) times the
  highest count, so that rounding-level negatives of noise-free data pass).
  Gaussian noise around a correct zero background puts 0.13% of the
  channels below ``-3 sigma``; a spectrum is refused when more than
  ``MAX_NEGATIVE_CHANNELS`` (5%) of its channels lie there, which a
  background a few sigma below zero over more than a twentieth of the axis
  (a bad dark reference, an over-subtracted background) gives, and noise,
  even with some outliers, does not. The WS2 vacuum spectra,
  with 9-17% of their channels negative from noise, have none below
  ``-3 sigma``.
- **Zero-loss peak.** The highest channel must be above zero and fall to
  half its height on both sides inside the axis (else there is no ZLP in the
  file), and its FWHM must span at least ``MIN_FWHM_CHANNELS`` (2) channels
  (else it is a spike or an unresolved peak, which the model cannot learn).
- **Repeats.** No two sample spectra may be identical: the uncertainty comes
  from their spread, and a file passed twice would shrink it.
- **Memory** (:func:`ml4em.eels.memory.check_memory`) and **the result**
  (:func:`ml4em.eels.pipeline.band_gap_warnings`) are checked by
  :func:`ml4em.eels.analyse_spectra`, which the command calls.

Used in: ``ml4em zlp`` (:mod:`ml4em.eels.cli`).
"""

import os
from pathlib import Path

import numpy as np

__all__ = ["CLIError", "os_reason", "check_inputs", "check_spectrum", "check_distinct"]

MIN_CHANNELS = 64
AXIS_STEP_RTOL = 0.25
NEGATIVE_SIGMAS = 3.0
MAX_NEGATIVE_CHANNELS = 0.05
SIGMA_FLOOR = 1e-6
MIN_FWHM_CHANNELS = 2.0


class CLIError(ValueError):
    """A user error of ``ml4em zlp``; the message names the file or option and the fix."""


def os_reason(err):
    """The operating system's words for an ``OSError`` (e.g. "Permission denied")."""
    return (err.strerror or str(err)) if isinstance(err, OSError) else str(err)


# ----------------------------------------------------------------------------- input files
def check_inputs(samples, vacuum=(), *, sample_role="sample", folder_suffixes=()):
    """Check that every input file can be opened; return their absolute and resolved paths.

    Parameters
    ----------
    samples, vacuum : sequence of str
        The paths as typed.
    sample_role : str, default "sample"
        What the messages call a file of ``samples`` (``"image"`` for
        ``ml4em zlp-image``).
    folder_suffixes : sequence of str, optional
        File types stored as a folder (e.g. ``".zspy"``, a zarr store): a
        folder with one of these suffixes is accepted if it can be listed and
        read.

    Returns
    -------
    list of (str, pathlib.Path, pathlib.Path)
        ``(role, absolute path, resolved path)`` per file, role ``sample_role`` or ``"vacuum"``.
    """
    found = []
    for role, paths in ((sample_role, samples), ("vacuum", vacuum or ())):
        for given in paths:
            path = Path(given)
            if path.is_dir() and path.suffix.lower() in folder_suffixes:
                if not os.access(path, os.R_OK | os.X_OK):
                    raise CLIError(f"{role} file {given} is a {path.suffix} folder that cannot be read; check its "
                                   "permissions.")
                found.append((role, path.absolute(), path.resolve()))
                continue
            try:
                with open(path, "rb"):
                    pass
            except FileNotFoundError:
                raise CLIError(f"{role} file {given} does not exist (looked in {path.absolute().parent}); "
                               "check the path.") from None
            except IsADirectoryError:
                raise CLIError(f"{role} file {given} is a folder; pass the spectrum files in it.") from None
            except OSError as err:
                raise CLIError(f"{role} file {given} cannot be read ({os_reason(err)}); check its permissions.") \
                    from None
            found.append((role, path.absolute(), path.resolve()))
    return found


# ----------------------------------------------------------------------------- spectra
def check_spectrum(energy_loss, counts, *, path, role):
    """Refuse a file whose energy axis or spectra ``ml4em zlp`` cannot analyse (rules: module docstring).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (n_spectra, n_channels), counts
    path, role : str
        The file and ``"sample"`` or ``"vacuum"``, for messages.
    """
    where = f"{role} file {path}"
    e, c = np.asarray(energy_loss, dtype=float), np.asarray(counts, dtype=float).reshape(-1, np.size(energy_loss))
    scale = _check_axis(e, where)
    for i, row in enumerate(c):
        label = where if c.shape[0] == 1 else f"spectrum {i} of {where}"
        _check_counts(row, label)
        _check_peak(e, row, label, scale)


def _check_axis(e, where):
    """The dispersion (eV/channel) of a plausible energy axis; CLIError for any other."""
    if e.size < MIN_CHANNELS:
        raise CLIError(f"{where} has {e.size} channel(s); ml4em zlp needs at least {MIN_CHANNELS} (the zero-loss "
                       "peak, the region above it and the band-gap onset). Pass the whole low-loss spectrum.")
    if not np.all(np.isfinite(e)):
        raise CLIError(f"{where}: its energy axis has {int(np.sum(~np.isfinite(e)))} NaN or infinite value(s); "
                       "fix the energy column (or its offset and dispersion).")
    steps = np.diff(e)
    if np.all(steps == 0):
        raise CLIError(f"{where}: its energy axis is constant (every channel at {e[0]:.4g} eV), a dispersion of 0 "
                       "eV/channel; fix the axis, or for a counts-only text file pass --offset and --scale.")
    if not np.all(steps > 0):
        hint = "flip the spectrum" if np.all(steps < 0) else "sort it or check for pasted-together files"
        i = int(np.argmax(steps <= 0))
        raise CLIError(f"{where}: its energy axis does not increase (channel {i + 1} is at {e[i + 1]:.6g} eV after "
                       f"{e[i]:.6g} eV); {hint}.")
    scale = float(np.median(steps))
    if np.max(np.abs(steps - scale)) > AXIS_STEP_RTOL * scale:
        raise CLIError(f"{where}: its energy axis is not uniform (steps from {steps.min():.4g} to {steps.max():.4g} "
                       f"eV, median {scale:.4g} eV); resample it onto a uniform axis or check for missing channels.")
    return scale


def _check_counts(c, label):
    if not np.all(np.isfinite(c)):
        raise CLIError(f"{label} has {int(np.sum(~np.isfinite(c)))} NaN or infinite count(s); remove or interpolate "
                       "those channels.")
    if np.all(c == 0):
        raise CLIError(f"{label} holds only zeros; check that it is the acquired spectrum, not an empty frame.")
    if np.ptp(c) == 0:
        raise CLIError(f"{label} is constant ({c[0]:.4g} counts in every channel): no zero-loss peak; check that "
                       "it is the acquired spectrum.")
    d = np.diff(c)
    sigma = max(np.median(np.abs(d - np.median(d))) / 0.6745 / np.sqrt(2.0), SIGMA_FLOOR * np.max(np.abs(c)))
    below = c < -NEGATIVE_SIGMAS * sigma
    if np.mean(below) > MAX_NEGATIVE_CHANNELS:
        raise CLIError(f"{label} has negative counts beyond its noise: {int(below.sum())} of its {c.size} channels "
                       f"({100 * np.mean(below):.3g}%) lie below -{NEGATIVE_SIGMAS:g} sigma = "
                       f"{-NEGATIVE_SIGMAS * sigma:.4g} counts (noise alone puts 0.13% there; the lowest is "
                       f"{c.min():.4g} counts). The dark reference or the background subtraction is probably wrong; "
                       "redo it (or add the offset back) before the analysis.")


def _check_peak(e, c, label, scale):
    from .axis import fwhm

    k = int(np.argmax(c))
    if not c[k] > 0:
        raise CLIError(f"{label} has no positive counts (the highest is {c[k]:.4g}); check that it is the acquired "
                       "spectrum and its dark reference.")
    try:
        width = fwhm(e, c)
    except ValueError:
        raise CLIError(f"{label}: no zero-loss peak: its highest channel ({c[k]:.4g} counts at {e[k]:.4g} eV) does "
                       f"not fall to half its height on both sides within the axis ({e[0]:.4g} to {e[-1]:.4g} eV). "
                       "ml4em zlp needs low-loss spectra that hold the whole zero-loss peak; check that this is the "
                       "right file.") from None
    if width < MIN_FWHM_CHANNELS * scale:
        raise CLIError(f"{label}: its peak at {e[k]:.4g} eV is {width:.3g} eV wide at half maximum, less than "
                       f"{MIN_FWHM_CHANNELS:g} channels ({MIN_FWHM_CHANNELS * scale:.3g} eV): a spike (cosmic ray, "
                       "hot pixel) or an unresolved peak, not a zero-loss peak that ml4em zlp can model. Remove spikes "
                       "first, or record the spectrum with a finer dispersion.")


def check_distinct(spectra, labels):
    """Refuse repeated sample spectra (a file passed twice): ``labels[i]`` names row ``i`` of ``spectra``."""
    _, first, inverse = np.unique(spectra, axis=0, return_index=True, return_inverse=True)
    for i, group in enumerate(np.ravel(inverse)):
        if first[group] != i:
            raise CLIError(f"{labels[first[group]]} and {labels[i]} hold identical spectra; the uncertainty comes "
                           "from the spread between independent acquisitions, so pass each spectrum once.")
