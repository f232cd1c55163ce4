"""Iterative phase retrieval from two defocused images (Gerchberg-Saxton), and a phase error that ignores offsets.

The Gerchberg-Saxton algorithm (R. W. Gerchberg and W. O. Saxton, Optik 35, 237 (1972)) alternates between planes
where the amplitude of the wave is known and keeps, in each, the measured amplitude and the current phase. With
two or more images of the same exit wave at different defoci (the form of W. O. Saxton's and D. L. Misell's
focal-series methods, Misell, J. Phys. D 6, L6 (1973), doi:10.1088/0022-3727/6/1/102) one iteration is:

1. propagate the estimate of the exit wave to every image plane, ``ifft2(fft2(wave) * H_j)``;
2. keep its phase, replace its amplitude by the measured one, ``sqrt(I_j)``;
3. propagate back, ``ifft2(fft2(.) * conj(H_j))``;
4. average the back-propagated waves of all planes: the new estimate.

Used in: tutorials/11_phase_retrieval.
"""

import numpy as np

__all__ = ["gs_step", "gerchberg_saxton", "phase_error"]


def _planes(name, value, dtype):
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"{name} should have shape (n_planes, rows, columns); got {arr.shape}.")
    return arr


def gs_step(wave, amplitudes, transfers):
    """One Gerchberg-Saxton iteration over several image planes.

    Parameters
    ----------
    wave : ndarray of shape (rows, columns), complex
        Current estimate of the exit wave.
    amplitudes : ndarray of shape (n_planes, rows, columns)
        Measured amplitudes ``sqrt(intensity)`` of the images.
    transfers : ndarray of shape (n_planes, rows, columns), complex
        Transfer function of each image (:func:`ml4em.phase.optics.transfer_function`).

    Returns
    -------
    ndarray of shape (rows, columns), complex
        The new estimate of the exit wave.

    Examples
    --------
    >>> H = np.ones((1, 4, 4)); wave = np.exp(1j * np.linspace(0, 1, 16).reshape(4, 4))
    >>> np.allclose(gs_step(wave, np.ones((1, 4, 4)), H), wave)  # a consistent wave is a fixed point
    True
    """
    amplitudes = _planes("amplitudes", amplitudes, float)
    transfers = _planes("transfers", transfers, complex)
    if amplitudes.shape != transfers.shape or np.shape(wave) != amplitudes.shape[1:]:
        raise ValueError(f"wave {np.shape(wave)}, amplitudes {amplitudes.shape} and transfers {transfers.shape} "
                         "should share (rows, columns), and amplitudes and transfers the number of planes.")
    images = np.fft.ifft2(np.fft.fft2(wave)[None] * transfers)
    images = amplitudes * np.exp(1j * np.angle(images))
    return np.fft.ifft2(np.fft.fft2(images) * np.conj(transfers)).mean(axis=0)


def gerchberg_saxton(intensities, transfers, *, n_iter=50, start=None, pure_phase=False):
    """Recover the exit wave from images at several defoci by Gerchberg-Saxton iterations.

    Parameters
    ----------
    intensities : ndarray of shape (n_planes, rows, columns)
        The recorded images (relative to the incident beam); negative values are set to 0.
    transfers : ndarray of shape (n_planes, rows, columns), complex
    n_iter : int, default 50
    start : ndarray of shape (rows, columns), complex, optional
        First estimate; default a plane wave (1 everywhere).
    pure_phase : bool, default False
        After each iteration, also set the amplitude of the exit wave to 1 (a pure phase object).

    Returns
    -------
    ndarray of shape (rows, columns), complex
        The exit wave; its phase is ``np.angle(...)``, up to a constant.

    Examples
    --------
    >>> from ml4em.phase.optics import transfer_function, image_intensity
    >>> phase = np.zeros((16, 16)); phase[4:8, 6:12] = 0.2
    >>> H = np.stack([transfer_function((16, 16), 0.2, defocus=f, cs=1e5) for f in (100.0, 300.0)])
    >>> wave = gerchberg_saxton(image_intensity(np.exp(1j * phase), H), H, n_iter=200)
    >>> bool(phase_error(np.angle(wave), phase) < 0.02)
    True
    """
    intensities = _planes("intensities", intensities, float)
    transfers = _planes("transfers", transfers, complex)
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter={n_iter!r} should be a non-negative integer.")
    amplitudes = np.sqrt(np.clip(intensities, 0.0, None))
    wave = np.ones(intensities.shape[1:], complex) if start is None else np.array(start, dtype=complex)
    for _ in range(n_iter):
        wave = gs_step(wave, amplitudes, transfers)
        if pure_phase:
            wave = np.exp(1j * np.angle(wave))
    return wave


def phase_error(estimate, truth):
    """Root-mean-square phase difference after removing the best global phase offset, rad.

    The offset is the circular mean of the difference, ``c = angle(mean(exp(1j (estimate - truth))))``; the
    remaining difference is wrapped into [-pi, pi] before squaring, so that a phase and the same phase plus a
    constant or plus 2 pi have error 0.

    Parameters
    ----------
    estimate, truth : ndarray of shape (..., rows, columns), rad

    Returns
    -------
    float or ndarray of shape (...), rad
        One value per image.

    Examples
    --------
    >>> truth = np.linspace(0, 1, 16).reshape(4, 4)
    >>> float(phase_error(truth + 2.5, truth))
    0.0
    >>> round(float(phase_error(np.zeros((4, 4)), truth)), 4)  # the standard deviation of truth
    0.3073
    """
    estimate, truth = np.asarray(estimate, dtype=float), np.asarray(truth, dtype=float)
    if estimate.shape != truth.shape or estimate.ndim < 2:
        raise ValueError(f"estimate {estimate.shape} and truth {truth.shape} should be images of the same shape "
                         "(..., rows, columns).")
    diff = estimate - truth
    offset = np.angle(np.exp(1j * diff).mean(axis=(-2, -1), keepdims=True))
    wrapped = np.angle(np.exp(1j * (diff - offset)))
    error = np.sqrt((wrapped**2).mean(axis=(-2, -1)))
    return float(error) if error.ndim == 0 else error
