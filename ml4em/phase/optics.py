"""Electron optics of conventional TEM: wavelength, interaction constant, the contrast transfer function, imaging.

Conventions (the same as abTEM's, which ``tests/test_phase_abtem.py`` checks):

- lengths in ångström (Å): pixel ``sampling``, ``defocus`` and the spherical aberration ``cs``
  (1 mm = 1e7 Å); spatial frequencies ``k`` in 1/Å, with the grid of ``numpy.fft.fftfreq``; the objective
  ``aperture`` as a semi-angle in mrad; ``beam_energy`` in keV;
- the aberration phase ``chi(k) = pi * wavelength * k**2 * (cs * wavelength**2 * k**2 / 2 - defocus)`` in radians,
  with ``defocus > 0`` meaning **underfocus** (Scherzer defocus is positive);
- the wave in the image plane is ``ifft2(fft2(exit_wave) * H)`` with ``H = exp(-1j * chi) * aperture``; a weak
  phase object ``exp(1j * phi)`` then gives the intensity ``1 + 2 ifft2(fft2(phi) * sin(chi))`` to first order,
  so that ``sin(chi)`` is the phase contrast transfer function.

Used in: tutorials/11_phase_retrieval.
"""

import numpy as np

__all__ = ["wavelength", "interaction_constant", "spatial_frequencies", "aberration_phase", "transfer_function",
           "propagate", "image_intensity", "first_zero_defocus", "scherzer_defocus", "plot_ctf"]

_M0C2 = 510.99895  # electron rest energy, keV
_HC = 12.398419843320026  # h c, keV Å


def _positive(name, value, unit):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={value!r} should be a number ({unit}).") from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"{name}={value!r} should be a positive number ({unit}).")
    return number


def wavelength(beam_energy):
    """Relativistic electron wavelength.

    ``lambda = h c / sqrt(E (E + 2 m0 c^2))`` for kinetic energy E; at 300 keV about 0.0197 Å
    (E. J. Kirkland, *Advanced Computing in Electron Microscopy*, 2nd ed., Springer 2010,
    doi:10.1007/978-1-4419-6533-2).

    Parameters
    ----------
    beam_energy : float, keV
        Accelerating voltage times e (300 for a 300 kV microscope).

    Returns
    -------
    float, Å

    Examples
    --------
    >>> round(wavelength(300), 6)
    0.019687
    >>> round(wavelength(80), 5)
    0.04176
    """
    energy = _positive("beam_energy", beam_energy, "keV, e.g. 300")
    return float(_HC / np.sqrt(energy * (energy + 2 * _M0C2)))


def interaction_constant(beam_energy):
    """Interaction constant sigma: the phase shift per unit projected potential, rad / (V Å).

    ``sigma = 2 pi / (lambda V) * (m0 c^2 + eV) / (2 m0 c^2 + eV)`` (Kirkland 2010): the exit wave of a
    thin specimen with projected potential ``v_z`` (V Å) is ``exp(1j * sigma * v_z)``.

    Parameters
    ----------
    beam_energy : float, keV

    Returns
    -------
    float, rad / (V Å)

    Examples
    --------
    >>> round(interaction_constant(300) * 1e4, 4)
    6.5262
    """
    energy = _positive("beam_energy", beam_energy, "keV, e.g. 300")
    volts = energy * 1e3
    return float(2 * np.pi / (wavelength(energy) * volts) * (_M0C2 + energy) / (2 * _M0C2 + energy))


def _shape(shape):
    try:
        ny, nx = (int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape={shape!r} should be two positive integers (rows, columns).") from None
    if ny < 1 or nx < 1:
        raise ValueError(f"shape={shape!r} should be two positive integers (rows, columns).")
    return ny, nx


def spatial_frequencies(shape, sampling):
    """The spatial frequencies of the FFT grid of an image: ``(ky, kx)``, 1/Å, broadcastable to ``shape``.

    Parameters
    ----------
    shape : (int, int)
        Rows and columns of the image.
    sampling : float, Å per pixel

    Returns
    -------
    ky : ndarray of shape (rows, 1), 1/Å
    kx : ndarray of shape (1, columns), 1/Å

    Examples
    --------
    >>> ky, kx = spatial_frequencies((4, 2), 0.5)
    >>> ky.ravel().tolist(), kx.ravel().tolist()
    ([0.0, 0.5, -1.0, -0.5], [0.0, -1.0])
    """
    ny, nx = _shape(shape)
    d = _positive("sampling", sampling, "Å per pixel")
    return np.fft.fftfreq(ny, d)[:, None], np.fft.fftfreq(nx, d)[None, :]


def aberration_phase(k, wavelength, *, defocus=0.0, cs=0.0):
    """The aberration phase ``chi(k) = pi lambda k^2 (cs lambda^2 k^2 / 2 - defocus)``, rad.

    Parameters
    ----------
    k : array_like, 1/Å
        Magnitude of the spatial frequency.
    wavelength : float, Å
    defocus : float, Å
        Positive for underfocus.
    cs : float, Å
        Spherical aberration (1.2 mm = 1.2e7 Å).

    Returns
    -------
    ndarray like ``k``, rad

    Examples
    --------
    >>> lam = wavelength(300)
    >>> float(aberration_phase(0.0, lam, defocus=500.0, cs=1.2e7))
    0.0
    >>> round(float(aberration_phase(0.5, lam, defocus=500.0)), 4)  # -pi lambda defocus k^2
    -7.7313
    """
    k = np.asarray(k, dtype=float)
    lam = _positive("wavelength", wavelength, "Å")
    k2 = k * k
    return np.pi * lam * k2 * (0.5 * cs * lam**2 * k2 - defocus)


def transfer_function(shape, sampling, *, beam_energy=300.0, defocus=0.0, cs=0.0, aperture=None):
    """The objective lens's transfer function ``H(k) = exp(-i chi(k))`` inside the aperture, 0 outside.

    Parameters
    ----------
    shape : (int, int)
        Rows and columns of the image.
    sampling : float, Å per pixel
    beam_energy : float, keV
    defocus : float, Å
        Positive for underfocus.
    cs : float, Å
    aperture : float, mrad, optional
        Semi-angle of the objective aperture: frequencies with ``lambda k <= aperture`` pass (the edge included).
        None: no aperture.

    Returns
    -------
    ndarray of shape ``shape``, complex
        On the grid of ``numpy.fft.fft2`` (zero frequency at index [0, 0]).

    Examples
    --------
    >>> H = transfer_function((8, 8), 0.25, defocus=100.0, cs=1e5, aperture=30.0)
    >>> H.shape, complex(H[0, 0])
    ((8, 8), (1+0j))
    """
    lam = wavelength(beam_energy)
    ky, kx = spatial_frequencies(shape, sampling)
    k = np.sqrt(kx**2 + ky**2)
    transfer = np.exp(-1j * aberration_phase(k, lam, defocus=defocus, cs=cs))
    if aperture is not None:
        cutoff = _positive("aperture", aperture, "mrad") * 1e-3 / lam
        transfer = np.where(k <= cutoff * (1 + 1e-12), transfer, 0.0)
    return transfer


def propagate(wave, transfer):
    """The wave after a transfer function: ``ifft2(fft2(wave) * transfer)`` over the last two axes.

    Parameters
    ----------
    wave : ndarray of shape (..., rows, columns), complex
    transfer : ndarray of shape (rows, columns), complex
        From :func:`transfer_function`.

    Returns
    -------
    ndarray of shape (..., rows, columns), complex

    Examples
    --------
    >>> wave = np.exp(1j * np.arange(16.0).reshape(4, 4) / 10)
    >>> np.allclose(propagate(wave, np.ones((4, 4))), wave)
    True
    """
    wave = np.asarray(wave)
    transfer = np.asarray(transfer)
    if wave.ndim < 2 or wave.shape[-2:] != transfer.shape[-2:]:
        raise ValueError(f"wave of shape {wave.shape} and transfer of shape {transfer.shape} do not match; the "
                         "last two axes of wave should be transfer's shape (rows, columns).")
    return np.fft.ifft2(np.fft.fft2(wave) * transfer)


def image_intensity(exit_wave, transfer):
    """The intensity a detector records: ``|propagate(exit_wave, transfer)|**2`` (1 for the incident beam).

    Examples
    --------
    >>> phase = np.zeros((4, 4)); phase[1, 2] = 0.3
    >>> float(image_intensity(np.exp(1j * phase), np.ones((4, 4))).max())  # in focus: no contrast
    1.0
    """
    return np.abs(propagate(exit_wave, transfer)) ** 2


def first_zero_defocus(k, cs, wavelength):
    """The underfocus that puts the first zero of the phase CTF ``sin chi`` at spatial frequency ``k``.

    With ``defocus > sqrt(2 cs lambda)`` the first zero is where ``chi = -pi`` (before the minimum of chi),
    which gives ``defocus = 1 / (lambda k^2) + cs lambda^2 k^2 / 2``.

    Parameters
    ----------
    k : float or ndarray, 1/Å
    cs : float, Å
    wavelength : float, Å

    Returns
    -------
    float or ndarray, Å

    Examples
    --------
    >>> round(float(first_zero_defocus(0.5, 1e5, wavelength(300))), 1)
    208.0
    """
    k = np.asarray(k, dtype=float)
    return 1.0 / (wavelength * k**2) + 0.5 * cs * wavelength**2 * k**2


def scherzer_defocus(cs, wavelength):
    """Scherzer's defocus ``sqrt(4 cs lambda / 3)``, Å: the broadest band of nearly constant phase contrast.

    O. Scherzer, J. Appl. Phys. 20, 20 (1949), doi:10.1063/1.1698233.

    Examples
    --------
    >>> round(float(scherzer_defocus(1.2e7, wavelength(300))), 0)
    561.0
    """
    return np.sqrt(4.0 / 3.0 * cs * wavelength)


def plot_ctf(ax, defocus=500.0, cs=1.2e7, *, beam_energy=300.0, k_max=1.0, mark_k=None):
    """Draw the phase CTF ``sin chi(k)`` against ``k`` (the CTF explorer of tutorial 11) and mark its first zero.

    Parameters
    ----------
    ax : matplotlib Axes
    defocus : float, Å
    cs : float, Å
    beam_energy : float, keV
    k_max : float, 1/Å
        Right end of the plot.
    mark_k : float, 1/Å, optional
        Draw a vertical line at this frequency.

    Returns
    -------
    float or None
        The first zero of ``sin chi`` for k > 0, in 1/Å (None when there is none below ``k_max``, or when there is
        no phase contrast at all: no defocus and no aberration).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> round(plot_ctf(ax, 208.0, 1e5), 3), plot_ctf(ax, 0.0, 0.0)
    (0.5, None)
    >>> plt.close(fig)
    """
    from ..plotting import style

    lam = wavelength(beam_energy)
    k = np.linspace(0.0, float(k_max), 4001)
    ctf = np.sin(aberration_phase(k, lam, defocus=defocus, cs=cs))
    ax.plot(k, ctf, **style(0), label="sin χ(k)")
    ax.axhline(0.0, color="0.5", lw=0.8)
    crossings = np.nonzero(np.sign(ctf[2:]) * np.sign(ctf[1:-1]) <= 0)[0]
    first = float(k[crossings[0] + 2]) if crossings.size and np.any(ctf != 0) else None
    if first is not None:
        ax.axvline(first, **style(1), ls="--", label=f"first zero {first:.3f} 1/Å")
    if mark_k is not None:
        ax.axvline(mark_k, color="0.3", ls=":", label=f"k = {mark_k} 1/Å")
    ax.set_xlabel("spatial frequency k (1/Å)")
    ax.set_ylabel("phase CTF sin χ (dimensionless)")
    ax.set_ylim(-1.05, 1.05)
    ax.set_title(f"{beam_energy:g} kV, Cs = {cs / 1e7:g} mm, defocus = {defocus:g} Å", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return first
