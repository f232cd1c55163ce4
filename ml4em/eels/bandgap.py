"""Band gaps from ZLP-subtracted spectra: ``I_inel(E) ~ A (E - E_BG)^b`` per replica.

Near the onset of interband transitions the inelastic intensity of a
semiconductor rises as a power of ``E - E_BG``: ``b`` is about 0.5 for a
direct and 1.5 for an indirect gap in the simplest picture (Rafferty and
Brown, Phys. Rev. B 58 (1998) 10326, doi:10.1103/PhysRevB.58.10326). The
fit is made to every replica of the subtracted spectrum, so the spread of
the ZLP model becomes the uncertainty of ``E_BG`` and ``b`` (Roest et al.,
Ultramicroscopy 222 (2021) 113202, doi:10.1016/j.ultramic.2021.113202).

The fit window
--------------
By default the window runs from ``dE0 = (FWHM + dE1) / 2``, where the
subtracted spectrum starts to differ from zero, to
``E_min + 1 eV``, where ``E_min`` is the first local minimum of the
measured spectrum above the peak (:func:`ml4em.eels.first_local_minimum`).
The onset lies before the minimum (the inelastic signal is what makes the
spectrum rise again); the power law describes the rise for about an eV
above the gap, a property of the material rather than of the ZLP, and that
much of the rise keeps small ZLP residues below the gap from deciding the
fit. For the WS2 spectra this is about 1.1 to 3.7 eV.

The fitter is vectorised: any number of curves (replicas, pixels) are
fitted at once, first by a grid search over ``E_BG`` with a straight-line
fit of ``log I`` against ``log(E - E_BG)`` at each grid value, then by
Gauss-Newton steps on all three parameters in linear space.

Used in: tutorials/08_band_gap, tutorials/09_spectral_image and ``ml4em zlp``.
"""

from dataclasses import dataclass

import numpy as np

from .predict import band

__all__ = ["band_gap_model", "default_window", "BandGapFit", "fit_band_gap"]


def band_gap_model(energy_loss, amplitude, band_gap, exponent):
    """``amplitude * (E - band_gap)^exponent`` above the gap, 0 below.

    Parameters broadcast against each other; ``energy_loss`` is on the last axis.

    Examples
    --------
    >>> band_gap_model(np.array([1.0, 2.0, 3.0]), 2.0, 1.5, 2.0)
    array([0. , 0.5, 4.5])
    """
    e = np.asarray(energy_loss, dtype=float)
    above = np.clip(e - np.asarray(band_gap, dtype=float)[..., None] if np.ndim(band_gap) else e - band_gap,
                    0.0, None)
    exponent = np.asarray(exponent, dtype=float)
    amplitude = np.asarray(amplitude, dtype=float)
    if exponent.ndim:
        exponent, amplitude = exponent[..., None], amplitude[..., None]
    return amplitude * above ** exponent


def default_window(dE1, peak_fwhm, first_minimum, *, above=1.0):
    """The default fit window ``(dE0, E_min + above)``, eV, with ``dE0 = (FWHM + dE1) / 2``.

    Parameters
    ----------
    dE1 : float, eV
    peak_fwhm : float, eV
        FWHM of the zero-loss peak.
    first_minimum : float, eV
        First local minimum of the spectrum above the peak, ``E_min``.
    above : float, eV, default 1
        How far above ``E_min`` the window reaches.

    Examples
    --------
    >>> default_window(1.8, 0.4, 2.7)
    (1.1, 3.7)
    """
    if not 0 < peak_fwhm < dE1:
        raise ValueError(f"need 0 < peak_fwhm < dE1; got peak_fwhm={peak_fwhm!r}, dE1={dE1!r} eV.")
    if not above > 0:
        raise ValueError(f"above={above!r} should be a positive energy in eV.")
    de0 = (peak_fwhm + dE1) / 2.0
    if not first_minimum > de0:
        raise ValueError(f"first_minimum={first_minimum!r} eV should lie above dE0={de0:.4g} eV = (FWHM + dE1) / 2; "
                         "give the window explicitly.")
    return round(de0, 10), round(first_minimum + above, 10)


@dataclass
class BandGapFit:
    """Band-gap fits of many curves.

    Attributes
    ----------
    band_gap, exponent, amplitude : ndarray of shape (...)
        ``E_BG`` (eV), ``b`` and ``A`` per curve.
    chi2 : ndarray of shape (...)
        chi2 per point in the window.
    window : (float, float), eV
    """

    band_gap: np.ndarray
    exponent: np.ndarray
    amplitude: np.ndarray
    chi2: np.ndarray
    window: tuple

    def summary(self, *, cl=0.68, axis=0):
        """Median and ``cl`` interval of E_BG and b over ``axis`` (the replicas).

        Returns
        -------
        dict
            ``{"band_gap": Band, "exponent": Band}``.
        """
        return {"band_gap": band(self.band_gap, cl=cl, axis=axis),
                "exponent": band(self.exponent, cl=cl, axis=axis)}


def fit_band_gap(energy_loss, inelastic, *, window, sigma=None, exponent_range=(0.2, 4.0), n_grid=121,
                 n_steps=30):
    """Fit ``A (E - E_BG)^b`` to every curve of ``inelastic`` inside ``window``.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    inelastic : ndarray of shape (..., n_channels), counts
        ZLP-subtracted spectra (e.g. replicas, or replicas x pixels).
    window : (float, float), eV
        Energy range of the fit (:func:`default_window`).
    sigma : ndarray broadcastable to ``inelastic``, counts, optional
        Uncertainty per channel; default ``sqrt(max(inelastic, 1))`` of the
        median curve (Poisson-like).
    exponent_range : (float, float)
        Allowed range of ``b``.
    n_grid : int
        Grid values of ``E_BG`` in the first stage, across the window.
    n_steps : int
        Damped Gauss-Newton steps in the second stage.

    Returns
    -------
    BandGapFit

    Examples
    --------
    >>> e = np.linspace(0, 4, 401)
    >>> y = band_gap_model(e, 300.0, 1.6, 1.5)
    >>> fit = fit_band_gap(e, np.stack([y, 1.1 * y]), window=(1.0, 3.0))
    >>> fit.band_gap.round(3), fit.exponent.round(3)
    (array([1.6, 1.6]), array([1.5, 1.5]))
    """
    e = np.asarray(energy_loss, dtype=float)
    y = np.asarray(inelastic, dtype=float)
    if e.ndim != 1 or y.shape[-1:] != e.shape:
        raise ValueError(f"inelastic should have the {e.size} channels of energy_loss on its last axis; got "
                         f"shapes {e.shape} and {y.shape}.")
    low, high = window
    if not low < high:
        raise ValueError(f"window={window!r} should be (low, high) with low < high, eV.")
    inside = (e >= low) & (e <= high)
    if inside.sum() < 5:
        raise ValueError(f"window={window!r} holds {int(inside.sum())} channels; at least 5 are needed for a fit "
                         "of three parameters. Widen it.")
    if not np.all(np.isfinite(y)):
        raise ValueError("inelastic has NaN or infinite values.")
    lead = y.shape[:-1]
    ew = e[inside]
    yw = y[..., inside].reshape(-1, ew.size)
    if sigma is None:
        ref = np.median(y.reshape(-1, e.size), axis=0)[inside]
        sw = np.broadcast_to(np.sqrt(np.maximum(ref, 1.0)), yw.shape)
    else:
        sw = np.broadcast_to(np.asarray(sigma, dtype=float), y.shape)[..., inside].reshape(-1, ew.size)
        if np.any(sw <= 0):
            raise ValueError("sigma should be > 0 in the fit window.")
    w = 1.0 / sw
    b_lo, b_hi = exponent_range
    # stage 1: grid over E_BG, straight line in log-log for (log A, b)
    grid = np.linspace(low - 0.5 * (high - low), high - 2.0 * (ew[1] - ew[0]), int(n_grid))
    best = np.full(yw.shape[0], np.inf)
    params = np.zeros((yw.shape[0], 3))
    for g in grid:
        d = ew - g
        use = d > 0
        if use.sum() < 3:
            continue
        lx = np.log(d[use])
        ly = np.log(np.maximum(yw[:, use], 1e-3 * np.maximum(yw.max(axis=1, keepdims=True), 1e-12)))
        wt = np.clip(yw[:, use], 0.0, None) * w[:, use]  # log-space weights: I / sigma
        sw0 = wt.sum(1) + 1e-30
        mx = ((wt * lx).sum(1) / sw0)[:, None]
        my = ((wt * ly).sum(1) / sw0)[:, None]
        b = (wt * (lx - mx) * (ly - my)).sum(1) / ((wt * (lx - mx) ** 2).sum(1) + 1e-30)
        b = np.clip(b, b_lo, b_hi)
        log_a = my[:, 0] - b * mx[:, 0]
        model = np.exp(log_a[:, None]) * np.clip(ew - g, 0, None) ** b[:, None]
        cost = np.sum(((model - yw) * w) ** 2, axis=1)
        better = cost < best
        best[better] = cost[better]
        params[better] = np.c_[log_a, np.full(yw.shape[0], g), b][better]
    # stage 2: damped Gauss-Newton on (log A, E_BG, b) for all curves at once
    lam = np.full(yw.shape[0], 1e-3)
    cost = _cost(params, ew, yw, w)
    for _ in range(int(n_steps)):
        r, jac = _residuals(params, ew, yw, w)
        jtj = np.einsum("cnp,cnq->cpq", jac, jac)
        grad = np.einsum("cnp,cn->cp", jac, r)
        a = jtj + lam[:, None, None] * (np.eye(3) * (np.diagonal(jtj, axis1=1, axis2=2)[:, None, :] + 1e-12))
        try:
            step = -np.linalg.solve(a, grad[..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        trial = params + step
        trial[:, 2] = np.clip(trial[:, 2], b_lo, b_hi)
        trial[:, 1] = np.clip(trial[:, 1], grid[0], ew[-1] - 1e-6)
        new = _cost(trial, ew, yw, w)
        ok = np.isfinite(new) & (new < cost)
        params[ok], cost[ok] = trial[ok], new[ok]
        lam = np.where(ok, lam / 3.0, lam * 4.0)
    return BandGapFit(band_gap=params[:, 1].reshape(lead), exponent=params[:, 2].reshape(lead),
                      amplitude=np.exp(params[:, 0]).reshape(lead), chi2=(cost / ew.size).reshape(lead),
                      window=(float(low), float(high)))


def _cost(params, e, y, w):
    model = np.exp(params[:, :1]) * np.clip(e - params[:, 1:2], 0, None) ** params[:, 2:3]
    return np.sum(((model - y) * w) ** 2, axis=1)


def _residuals(params, e, y, w):
    d = e - params[:, 1:2]
    pos = d > 0
    dpos = np.where(pos, d, 1.0)
    power = np.where(pos, dpos ** params[:, 2:3], 0.0)
    model = np.exp(params[:, :1]) * power
    r = (model - y) * w
    jac = np.stack([model * w,
                    np.where(pos, -model * params[:, 2:3] / dpos, 0.0) * w,
                    np.where(pos, model * np.log(dpos), 0.0) * w], axis=-1)
    return r, jac
