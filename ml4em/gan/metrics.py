"""Image quality for completed scans: peak signal-to-noise ratio and structural similarity (SSIM).

SSIM follows Wang et al., IEEE Trans. Image Process. 13, 600 (2004), doi:10.1109/TIP.2003.819861, with a
Gaussian window.
"""

import numpy as np

__all__ = ["psnr", "ssim"]


def psnr(prediction, target, *, data_range=1.0):
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range**2 / mean squared error)``, per image.

    Parameters
    ----------
    prediction, target : ndarray of shape (rows, cols) or (n_images, rows, cols)
    data_range : float, default 1

    Returns
    -------
    float, or ndarray of shape (n_images,)

    Examples
    --------
    >>> psnr(np.full((4, 4), 0.1), np.zeros((4, 4)))
    20.0
    """
    p, t = np.asarray(prediction, float), np.asarray(target, float)
    if p.shape != t.shape or p.ndim not in (2, 3):
        raise ValueError(f"prediction {p.shape} and target {t.shape} should have the same 2-D or 3-D shape.")
    mse = np.mean((p - t) ** 2, axis=(-2, -1))
    out = 10 * np.log10(data_range**2 / np.maximum(mse, 1e-20))
    return float(out) if out.ndim == 0 else out


def ssim(prediction, target, *, data_range=1.0, window=11, sigma=1.5):
    """Structural similarity (Wang et al., IEEE TIP 13, 600 (2004), doi:10.1109/TIP.2003.819861), per image.

    Local means, variances and covariance under an 11 x 11 Gaussian window of
    width 1.5 pixels, evaluated where the window fits (as ``tf.image.ssim``),
    with constants ``(0.01 data_range)**2`` and ``(0.03 data_range)**2``.

    Returns
    -------
    float (1 for identical images), or ndarray of shape (n_images,)

    Examples
    --------
    >>> x = np.random.default_rng(0).random((16, 16))
    >>> ssim(x, x)
    1.0
    """
    p, t = np.asarray(prediction, float), np.asarray(target, float)
    if p.shape != t.shape or p.ndim not in (2, 3) or min(p.shape[-2:]) < window:
        raise ValueError(f"prediction {p.shape} and target {t.shape} should have the same 2-D or 3-D shape with "
                         f"sides of at least window={window} pixels.")
    g = np.exp(-0.5 * ((np.arange(window) - (window - 1) / 2) / sigma) ** 2)
    g /= g.sum()

    def blur(a):  # separable Gaussian, 'valid' part only
        for axis in (-1, -2):
            a = np.lib.stride_tricks.sliding_window_view(a, window, axis=axis) @ g
        return a

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mp, mt = blur(p), blur(t)
    vp, vt, cov = blur(p * p) - mp**2, blur(t * t) - mt**2, blur(p * t) - mp * mt
    s = ((2 * mp * mt + c1) * (2 * cov + c2)) / ((mp**2 + mt**2 + c1) * (vp + vt + c2))
    out = s.mean(axis=(-2, -1))
    return float(out) if out.ndim == 0 else out


