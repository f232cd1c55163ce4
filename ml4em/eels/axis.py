"""Energy axes and the basic measurements of a low-loss spectrum.

The checks of an energy axis (:func:`check_spectra`; a uniform axis is made by
:func:`ml4em.datasets.energy_axis`), the zero-loss-peak (ZLP) centre and the alignment of spectra to 0 eV, the full width at half
maximum, integrated intensities and the log-ratio thickness
``t/lambda = ln(I_total / I_zlp)``. Every function works on one spectrum
(``(n_channels,)``) or on any stack of spectra (``(..., n_channels)``, for
example a spectral image) and assumes nothing about the dispersion or the
width of the peak.

Used in: tutorials/07_eels_replicas, tutorials/08_band_gap,
tutorials/09_spectral_image and ``ml4em zlp``.
"""

import contextlib
import contextvars

import numpy as np

__all__ = ["check_spectra", "zlp_centre", "align_zlp", "fwhm", "integrated_intensity",
           "zero_loss_intensity", "estimate_thickness", "aligned_axis"]


def _as_axis(energy_loss):
    e = np.asarray(energy_loss, dtype=float)
    if e.ndim != 1 or e.size < 3:
        raise ValueError(f"energy_loss should be a 1-D axis with at least 3 channels (eV); got shape {e.shape}.")
    if not np.all(np.isfinite(e)):
        raise ValueError("energy_loss has NaN or infinite values; it should be the channel energies in eV.")
    if not np.all(np.diff(e) > 0):
        raise ValueError("energy_loss should increase from channel to channel (eV); sort it or flip the spectra.")
    return e


_VALIDATED = contextvars.ContextVar("ml4em_eels_validated", default=False)


@contextlib.contextmanager
def validated_input():
    """Inside this block :func:`check_spectra` only converts: the public entry point has checked its input.

    A public function (``ZLPEnsemble.fit``, ``analyse_spectra``) checks its spectra once and runs its steps, each
    a public function that would check them again, inside this block. Worker threads start outside it and check.
    """
    token = _VALIDATED.set(True)
    try:
        yield
    finally:
        _VALIDATED.reset(token)


def check_spectra(energy_loss, counts, *, name="counts"):
    """Validate an energy axis and spectra on it; return them as float arrays.

    Inside :func:`validated_input` the arrays are only converted, not checked again.

    Parameters
    ----------
    energy_loss : array-like of shape (n_channels,), eV
    counts : array-like of shape (..., n_channels), counts
    name : str
        Name of ``counts`` in error messages.

    Returns
    -------
    (ndarray, ndarray)

    Examples
    --------
    >>> e, c = check_spectra([0.0, 0.1, 0.2], [[1, 2, 3]])
    >>> c.shape
    (1, 3)
    """
    if _VALIDATED.get():
        return np.asarray(energy_loss, dtype=float), np.asarray(counts, dtype=float)
    e = _as_axis(energy_loss)
    c = np.asarray(counts, dtype=float)
    if c.ndim < 1 or c.shape[-1] != e.size:
        raise ValueError(f"{name} should have the energy channels on its last axis, {e.size} of them to match "
                         f"energy_loss; got shape {c.shape}.")
    if not np.all(np.isfinite(c)):
        bad = int(np.sum(~np.isfinite(c)))
        raise ValueError(f"{name} has {bad} NaN or infinite value(s); remove or interpolate those channels.")
    return e, c


def zlp_centre(energy_loss, counts):
    """Energy of the zero-loss-peak maximum, refined by a parabola through the three top channels.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (..., n_channels)

    Returns
    -------
    float or ndarray of shape (...), eV

    Examples
    --------
    >>> e = np.linspace(-1, 1, 201)
    >>> round(float(zlp_centre(e, np.exp(-((e - 0.0123) / 0.2) ** 2))), 4)
    0.0123
    """
    e, c = check_spectra(energy_loss, counts)
    i = np.clip(np.argmax(c, axis=-1), 1, e.size - 2)
    lo = np.take_along_axis(c, (i - 1)[..., None], -1)[..., 0]
    mid = np.take_along_axis(c, i[..., None], -1)[..., 0]
    hi = np.take_along_axis(c, (i + 1)[..., None], -1)[..., 0]
    curvature = lo - 2.0 * mid + hi
    safe = np.where(curvature < 0, curvature, -1.0)
    offset = np.where(curvature < 0, np.clip(0.5 * (lo - hi) / safe, -0.5, 0.5), 0.0)
    scale = (e[-1] - e[0]) / (e.size - 1)
    centre = e[i] + offset * scale
    return float(centre) if np.ndim(centre) == 0 else centre


def aligned_axis(energy_loss, centres):
    """The common axis of aligned spectra: ``energy_loss`` shifted so that the channel nearest the mean ZLP centre is 0 eV.

    The one rule of ml4em for where 0 eV lies: :func:`align_zlp` moves spectra onto this axis, the WS2 loader
    and the spectral-image pipeline use it as it is.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    centres : array-like, eV
        ZLP centres of the spectra (:func:`zlp_centre`).

    Returns
    -------
    ndarray of shape (n_channels,), eV
        Uniform, with the dispersion of ``energy_loss`` and a channel at exactly 0 eV.

    Examples
    --------
    >>> aligned_axis(np.array([-0.2, -0.1, 0.0, 0.1, 0.2]), [0.09, 0.12]).round(3).tolist()
    [-0.3, -0.2, -0.1, 0.0, 0.1]
    """
    e = _as_axis(energy_loss)
    scale = (e[-1] - e[0]) / (e.size - 1)
    zero = int(np.argmin(np.abs(e - np.mean(np.asarray(centres, dtype=float)))))
    return (np.arange(e.size) - zero) * scale


def align_zlp(energy_loss, counts):
    """Shift every spectrum so that its ZLP maximum lies at 0 eV.

    Each spectrum is moved by its own (sub-channel) offset by linear
    interpolation onto the common axis ``energy_loss - mean centre``
    rounded to whole channels, so the returned axis keeps the dispersion
    and has a channel at (nearly) 0 eV. Channels that move in from outside
    the measured range repeat the edge value.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (..., n_channels)

    Returns
    -------
    energy_loss : ndarray of shape (n_channels,), eV
        The common axis, ZLP at 0 eV.
    counts : ndarray of shape (..., n_channels)
        The shifted spectra.

    Examples
    --------
    >>> e = np.arange(-50, 51) * 0.02
    >>> peaks = np.stack([np.exp(-((e - s) / 0.1) ** 2) for s in (0.05, -0.03)])
    >>> e0, aligned = align_zlp(e, peaks)
    >>> np.round(zlp_centre(e0, aligned), 3) + 0.0
    array([0., 0.])
    """
    e, c = check_spectra(energy_loss, counts)
    centres = np.asarray(zlp_centre(e, c), dtype=float)
    scale = (e[-1] - e[0]) / (e.size - 1)
    axis = aligned_axis(e, centres)
    # position (in channels) of the new axis points in each spectrum's own axis
    pos = (axis[None, :] + centres.reshape(-1, 1) - e[0]) / scale
    pos = np.clip(pos, 0.0, e.size - 1.0)
    left = np.clip(np.floor(pos).astype(int), 0, e.size - 2)
    frac = pos - left
    flat = c.reshape(-1, e.size)
    out = (np.take_along_axis(flat, left, 1) * (1.0 - frac) + np.take_along_axis(flat, left + 1, 1) * frac)
    return axis, out.reshape(c.shape)


def fwhm(energy_loss, counts):
    """Full width at half maximum of the zero-loss peak, eV.

    The half-maximum crossings on both sides of the highest channel are
    found by linear interpolation between channels.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (..., n_channels)

    Returns
    -------
    float or ndarray of shape (...), eV

    Examples
    --------
    >>> e = np.linspace(-2, 2, 4001)
    >>> sigma = 0.3 / (2 * np.sqrt(2 * np.log(2)))
    >>> round(float(fwhm(e, np.exp(-0.5 * (e / sigma) ** 2))), 4)
    0.3
    """
    e, c = check_spectra(energy_loss, counts)
    flat = c.reshape(-1, e.size)
    peak = np.argmax(flat, axis=1)
    half = flat[np.arange(flat.shape[0]), peak] / 2.0
    above = flat >= half[:, None]
    idx = np.arange(e.size)
    # last channel below half maximum before the peak, first one after it
    left = np.max(np.where(~above & (idx < peak[:, None]), idx, -1), axis=1)
    right = np.min(np.where(~above & (idx > peak[:, None]), idx, e.size), axis=1)
    if np.any(left < 0) or np.any(right >= e.size):
        raise ValueError("the zero-loss peak does not fall to half its maximum inside the energy axis; "
                         "the spectrum should include both sides of the peak.")
    rows = np.arange(flat.shape[0])

    def crossing(a, b):
        ya, yb = flat[rows, a], flat[rows, b]
        return e[a] + (half - ya) / (yb - ya) * (e[b] - e[a])

    width = crossing(right - 1, right) - crossing(left, left + 1)
    width = width.reshape(c.shape[:-1])
    return float(width) if width.ndim == 0 else width


def integrated_intensity(energy_loss, counts, window=None):
    """Sum of the counts over a window of energy loss (the whole axis by default).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (..., n_channels)
    window : (float, float), eV, optional
        Lower and upper energy loss, both included.

    Returns
    -------
    float or ndarray of shape (...), counts

    Examples
    --------
    >>> integrated_intensity([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], window=(0.5, 2.0))
    5.0
    """
    e, c = check_spectra(energy_loss, counts)
    if window is None:
        mask = np.ones(e.size, dtype=bool)
    else:
        low, high = window
        if not low < high:
            raise ValueError(f"window={window!r} should be (low, high) with low < high, in eV.")
        mask = (e >= low) & (e <= high)
        if not mask.any():
            raise ValueError(f"window={window!r} holds no channel of the axis ({e[0]:.4g} to {e[-1]:.4g} eV).")
    total = c[..., mask].sum(axis=-1)
    return float(total) if np.ndim(total) == 0 else total


def zero_loss_intensity(energy_loss, counts):
    """Counts in the zero-loss peak: the sum up to the first minimum after the peak.

    The spectrum is smoothed over a quarter of its FWHM, and the sum runs
    from the first channel to the first channel above the peak where the
    smoothed spectrum stops decreasing (the valley between the ZLP and the
    inelastic signal). Adequate for thin specimens; with a ZLP model use
    :func:`estimate_thickness` with ``zlp=``.

    Returns
    -------
    float or ndarray of shape (...), counts

    Examples
    --------
    >>> e = np.linspace(-2, 10, 1201)
    >>> zlp = 1000 * np.exp(-0.5 * (e / 0.2) ** 2)
    >>> plasmon = 50 * np.exp(-0.5 * ((e - 5) / 1.0) ** 2)
    >>> bool(abs(zero_loss_intensity(e, zlp + plasmon) / zlp.sum() - 1) < 0.01)
    True
    """
    from scipy.ndimage import gaussian_filter1d

    e, c = check_spectra(energy_loss, counts)
    flat = c.reshape(-1, e.size)
    width = np.atleast_1d(fwhm(e, flat))
    scale = (e[-1] - e[0]) / (e.size - 1)
    sigma = max(float(np.median(width)) / 4.0 / scale, 0.5)
    smooth = gaussian_filter1d(flat, sigma, axis=1, mode="nearest")
    peak = np.argmax(smooth, axis=1)
    idx = np.arange(e.size)
    rising = (np.diff(smooth, axis=1, append=smooth[:, -1:]) >= 0) & (idx > peak[:, None])
    valley = np.where(rising.any(axis=1), np.argmax(rising, axis=1), e.size - 1)
    total = np.sum(np.where(idx[None, :] <= valley[:, None], flat, 0.0), axis=1).reshape(c.shape[:-1])
    return float(total) if total.ndim == 0 else total


def estimate_thickness(energy_loss, counts, *, zlp=None, zlp_window=None):
    """Relative thickness by the log-ratio method, ``t/lambda = ln(I_total / I_zlp)``.

    The one thickness of ml4em (named as exspy names it): spectra, tables of spectra and spectral images alike.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    counts : ndarray of shape (..., n_channels), counts
        One spectrum, a table of spectra or a spectral image.
    zlp : ndarray of shape (..., n_channels), optional
        The zero-loss peak (e.g. a model): ``I_zlp`` is its sum.
    zlp_window : (float, float), eV, optional
        ``I_zlp`` is the sum of ``counts`` over these channels (both ends included); the upper end belongs
        between the ZLP and the first inelastic losses.

    By default (neither given) ``I_zlp`` is :func:`zero_loss_intensity`, the counts up to the valley after the peak.

    Returns
    -------
    float or ndarray of shape (...), dimensionless

    Raises
    ------
    ValueError
        For both ``zlp`` and ``zlp_window``, a window without channels, or a total or zero-loss intensity that is
        not positive (background-subtracted data).

    References
    ----------
    Egerton, "Electron Energy-Loss Spectroscopy in the Electron
    Microscope", 3rd ed., Springer (2011), section 5.1,
    doi:10.1007/978-1-4419-9583-4.

    Examples
    --------
    >>> e = np.linspace(-1, 5, 601)
    >>> zlp = np.exp(-0.5 * (e / 0.1) ** 2)
    >>> round(estimate_thickness(e, zlp * 2.0, zlp=zlp), 4)
    0.6931
    >>> float(estimate_thickness([-0.5, 0.0, 0.5, 5.0, 20.0], [1.0, 4.0, 1.0, 3 * (np.e - 1), 3 * (np.e - 1)],
    ...                          zlp_window=(-np.inf, 1.0)))
    1.0
    """
    e, c = check_spectra(energy_loss, counts)
    if zlp is not None and zlp_window is not None:
        raise ValueError("give the zero-loss peak either as zlp= (a model) or as zlp_window= (channels), not both.")
    total = np.asarray(integrated_intensity(e, c), dtype=float)
    if zlp is not None:
        _, z = check_spectra(e, zlp, name="zlp")
        elastic = z.sum(axis=-1)
    elif zlp_window is not None:
        try:
            elastic = integrated_intensity(e, c, window=tuple(float(v) for v in zlp_window))
        except ValueError as err:
            raise ValueError(f"zlp_window: {err}") from err
    else:
        elastic = zero_loss_intensity(e, c)
    elastic = np.asarray(elastic, dtype=float)
    if np.any(elastic <= 0) or np.any(total <= 0):
        raise ValueError("estimate_thickness needs positive total and zero-loss intensities; check that counts "
                         "holds spectra with a zero-loss peak (not background-subtracted data).")
    ratio = np.log(total / elastic)
    return float(ratio) if ratio.ndim == 0 else ratio
