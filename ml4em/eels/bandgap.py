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

The fitter is vectorised: any number of curves (replicas, pixels, or both)
are fitted at once. For fixed ``(E_BG, b)`` the best amplitude has a closed
form, ``A = sum(w^2 y phi) / sum(w^2 phi^2)`` with ``phi = (E - E_BG)^b``, so
the first stage is a grid search over ``(E_BG, b)`` whose cost for all curves
is one matrix product of the weighted curves with a table of the basis
curves ``phi`` (the same for every curve). A parabola through the grid
neighbours of the best point refines it, and a few damped Gauss-Newton
(Levenberg-Marquardt) steps on all three parameters in linear space finish
the fit, each curve stopping when its step no longer changes the result.
``benchmarks/bandgap_fits.py`` measures the fits per second and compares
them with the former fitter (a log-log grid over ``E_BG`` and 30 fixed
Gauss-Newton steps, kept as ``_fit_band_gap_reference``). Curves without a
clean fit are reported (``converged``, ``at_bound``, ``ok``), not hidden.

Used in: tutorials/08_band_gap, tutorials/09_spectral_image and ``ml4em zlp``.
"""

from dataclasses import dataclass

import numpy as np

from .lm import _Pool
from .predict import band
from .._resources import available_cpus

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


#: The allowed range of the onset exponent b of every band-gap fit (direct allowed 0.5, indirect 1.5, with room).
EXPONENT_RANGE = (0.2, 4.0)


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
    converged : ndarray of bool, shape (...), optional
        The last Gauss-Newton step changed no parameter by more than 1e-6
        (eV for ``E_BG``) or the chi2 by less than 1e-6, or no step lowers
        the chi2 any more. False also
        for a degenerate curve: one with no positive signal in the window,
        whose ``band_gap``, ``exponent`` and ``amplitude`` are NaN.
    at_bound : ndarray of bool, shape (...), optional
        ``b`` ends on a limit of ``exponent_range`` or ``E_BG`` on the lowest
        value allowed: a constrained result, not a minimum of the chi2.
    """

    band_gap: np.ndarray
    exponent: np.ndarray
    amplitude: np.ndarray
    chi2: np.ndarray
    window: tuple
    converged: np.ndarray = None
    at_bound: np.ndarray = None

    @property
    def ok(self):
        """ndarray of bool, shape (...): converged, finite and not on a bound."""
        finite = np.isfinite(self.band_gap)
        if self.converged is None:
            return finite
        return finite & self.converged & ~self.at_bound

    def summary(self, *, cl=0.68, axis=0):
        """Median and ``cl`` interval of E_BG and b over ``axis`` (the replicas).

        Returns
        -------
        dict
            ``{"band_gap": Band, "exponent": Band}``.
        """
        return {"band_gap": band(self.band_gap, cl=cl, axis=axis),
                "exponent": band(self.exponent, cl=cl, axis=axis)}



#: Grid values of the exponent b in the first stage, across ``exponent_range``.
N_EXPONENT_GRID = 12
#: Curves per block of the grid and Gauss-Newton stages: large enough that numpy's per-call overhead is
#: small against the work, small enough that a block's arrays (a few MB) stay in the CPU cache.
BLOCK = 2048
#: Precision of the model evaluations in the Gauss-Newton stage (see :func:`_refine`). float32 was
#: measured at most ~10% faster (the cost is numpy's calls and the exp/log, not memory) and stops the
#: fits less precisely, so the stage stays float64; the grid stage, which only picks a start, is float32.
REFINE_DTYPE = np.float64
#: Relative chi2 gain below which a kept step ends a curve's fit (with an absolute ``chi2_tol``).
CHI2_RTOL = 1e-9
#: The running curves' arrays are compacted when at least 1 / COMPACT of their rows have finished (see :func:`_refine`).
COMPACT = 8
#: Curves per part of the Gauss-Newton sums (see :func:`_sums`); the curves of a block are sorted by their start
#: E_BG so that a part skips the channels below all of its onsets.
SUMS_PART = 256


def fit_band_gap(energy_loss, inelastic, *, window, sigma=None, exponent_range=EXPONENT_RANGE, n_grid=121,
                 n_steps=30, n_jobs=None):
    """Fit ``A (E - E_BG)^b`` to every curve of ``inelastic`` inside ``window``.

    The weighted chi2 ``sum((A (E - E_BG)^b - I) / sigma)^2`` over the window
    is minimised for every curve: a grid search over ``(E_BG, b)`` with the
    best amplitude in closed form (one matrix product for all curves), then
    damped Gauss-Newton steps on ``(log A, E_BG, b)`` (see the module text).

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    inelastic : ndarray of shape (..., n_channels), counts
        ZLP-subtracted spectra (e.g. replicas, or replicas x pixels).
    window : (float, float), eV
        Energy range of the fit (:func:`default_window`).
    sigma : ndarray broadcastable to ``inelastic``, counts, optional
        Uncertainty per channel; default ``sqrt(max(inelastic, 1))`` of the
        median curve (Poisson-like). A sigma shared along leading axes (e.g.
        shape ``(1, n_pixels, n_channels)`` for replicas x pixels) is used
        once per distinct row, not copied to every curve.
    exponent_range : (float, float)
        Allowed range of ``b``.
    n_grid : int
        Grid values of ``E_BG`` in the first stage, from half a window
        below the window to two channels before its end.
    n_steps : int
        Most damped Gauss-Newton steps in the second stage (each curve
        stops earlier when converged).
    n_jobs : int, optional
        Threads sharing the curves; default the available CPU cores.

    Returns
    -------
    BandGapFit
        Arrays of the leading shape ``(...)`` of ``inelastic``; see
        ``converged``, ``at_bound`` and ``ok`` for curves without a clean fit.

    Raises
    ------
    ValueError
        Wrong shapes, a window with fewer than 5 channels, NaN or infinite
        values in ``inelastic``, ``sigma <= 0`` in the window, or a bad
        ``exponent_range``.

    Examples
    --------
    >>> e = np.linspace(0, 4, 401)
    >>> y = band_gap_model(e, 300.0, 1.6, 1.5)
    >>> fit = fit_band_gap(e, np.stack([y, 1.1 * y]), window=(1.0, 3.0))
    >>> fit.band_gap.round(3), fit.exponent.round(3)
    (array([1.6, 1.6]), array([1.5, 1.5]))
    """
    e, y, inside, sw, rows = _check_fit_input(energy_loss, inelastic, window, sigma)
    low, high = window
    b_lo, b_hi = (float(v) for v in exponent_range)
    if not 0 < b_lo < b_hi:
        raise ValueError(f"exponent_range={exponent_range!r} should be (low, high) with 0 < low < high.")
    if int(n_grid) != n_grid or n_grid < 3:
        raise ValueError(f"n_grid={n_grid!r} should be an integer >= 3 (grid values of E_BG).")
    lead = y.shape[:-1]
    ew = e[inside]
    yw = y[..., inside].reshape(-1, ew.size)
    n_fit = yw.shape[0]
    w = 1.0 / sw  # (n_ch,) when shared by all curves, else (n_rows, n_ch): curve i has row rows[i]
    grid = np.linspace(low - 0.5 * (high - low), high - 2.0 * (ew[1] - ew[0]), int(n_grid))
    b_grid = np.linspace(b_lo, b_hi, N_EXPONENT_GRID)
    basis = np.clip(ew[None, None, :] - grid[:, None, None], 0.0, None) ** b_grid[None, :, None]
    basis = basis.reshape(-1, ew.size)  # (n_grid * n_b, n_ch): row g * n_b + j is (E - grid[g])^b_grid[j]
    bounds = (grid[0], ew[-1] - 1e-6, b_lo, b_hi)
    # the grid stage in float32: the basis (transposed for the product) and the norms sum(w^2 phi^2) of every
    # basis curve, once per row of w (a row shared by many curves, e.g. the replicas of a pixel, once)
    b32t = np.ascontiguousarray(basis.T, dtype=np.float32)  # (n_ch, n_basis)
    w2 = (w * w).astype(np.float32)
    sq = b32t * b32t
    if rows is None:
        norm = np.maximum(w2 @ sq, 1e-30)  # (n_basis,)
    elif w2.shape[0] <= min(BLOCK, n_fit // 2):
        norm = np.maximum(w2 @ sq, 1e-30)  # (n_rows, n_basis), looked up per block
    else:
        norm = None  # one row per curve: computed per block
    out = {k: np.empty(n_fit) for k in ("log_a", "band_gap", "exponent", "cost")}
    out["converged"] = np.zeros(n_fit, dtype=bool)

    # rows repeated in order (curve i on row i % n_rows: replicas x pixels with one sigma per pixel): blocks of whole
    # repeats then divide by the rows' norms in place, without a copy per curve
    block, tiled = BLOCK, False
    if norm is not None and norm.ndim == 2 and norm.shape[0] <= BLOCK and n_fit % norm.shape[0] == 0:
        tiled = bool(np.array_equal(rows, np.arange(n_fit) % norm.shape[0]))
        block = BLOCK // norm.shape[0] * norm.shape[0] if tiled else BLOCK

    def work(rows_job):
        space = _Workspace(min(block, rows_job.size), ew.size, basis.shape[0])
        for start in range(0, rows_job.size, block):
            sel = rows_job[start:start + block]
            if rows is None:
                ws, w2s, ns = w, w2, norm
            else:
                r = rows[sel]
                ws, w2s = w[r], w2[r]
                if tiled and sel[0] % norm.shape[0] == 0 and sel.size % norm.shape[0] == 0:
                    ns = norm  # the block holds whole repeats of the rows
                elif norm is not None:
                    ns = np.take(norm, r, axis=0, out=space.norm[:sel.size])
                else:
                    ns = np.maximum(np.matmul(w2s, sq, out=space.norm[:sel.size]), 1e-30, out=space.norm[:sel.size])
            start_params = _grid_start(yw[sel], w2s, b32t, ns, grid, b_grid, space)
            params, cost, conv = _refine(ew, yw[sel], ws, start_params, bounds, int(n_steps), space=space)
            out["log_a"][sel], out["band_gap"][sel], out["exponent"][sel] = params.T
            out["cost"][sel], out["converged"][sel] = cost, conv
        return rows_job

    n_jobs = available_cpus() if n_jobs is None else int(n_jobs)
    n_jobs = max(1, min(n_jobs, n_fit // 256))  # a thread needs a few hundred curves to be worth its start
    with _Pool(n_jobs) as pool:
        pool.map(work, np.arange(n_fit))
    degenerate = ~np.isfinite(out["log_a"])
    at_bound = ((out["exponent"] <= b_lo + 1e-9) | (out["exponent"] >= b_hi - 1e-9)
                | (out["band_gap"] <= grid[0] + 1e-9)) & ~degenerate
    for key in ("band_gap", "exponent"):
        out[key][degenerate] = np.nan
    return BandGapFit(band_gap=out["band_gap"].reshape(lead), exponent=out["exponent"].reshape(lead),
                      amplitude=np.exp(out["log_a"]).reshape(lead), chi2=(out["cost"] / ew.size).reshape(lead),
                      window=(float(low), float(high)), converged=(out["converged"] & ~degenerate).reshape(lead),
                      at_bound=at_bound.reshape(lead))


def _check_fit_input(energy_loss, inelastic, window, sigma):
    """Validated ``(e, y, inside, sigma in the window, rows)``.

    ``rows`` is None where one sigma row (n_ch,) serves all curves; else sigma is (n_rows, n_ch) and curve ``i``
    of the flattened leading axes has row ``rows[i]`` (the distinct rows of a sigma shared along leading axes,
    e.g. the replicas of a pixel, appear once).
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
        first = int(np.flatnonzero(~np.all(np.isfinite(y.reshape(-1, e.size)), axis=1))[0])
        raise ValueError(f"inelastic has NaN or infinite values (the first in curve {first} of the flattened "
                         "leading axes); fit only finite curves.")
    rows = None
    if sigma is None:
        ref = np.median(y.reshape(-1, e.size)[:, inside], axis=0)
        sw = np.sqrt(np.maximum(ref, 1.0))
    else:
        s = np.asarray(sigma, dtype=float)
        if s.ndim <= 1:
            sw = np.broadcast_to(s, e.shape)[inside]
        else:
            full = np.broadcast_to(s, y.shape)
            lead = y.shape[:-1]
            # leading axes along which sigma repeats (broadcast, or of length 1): one row for all their curves
            core = full[tuple(slice(0, 1) if (st == 0 or n == 1) else slice(None)
                              for st, n in zip(full.strides[:-1], lead))]
            sw = core[..., inside].reshape(-1, int(inside.sum()))
            if sw.shape[0] == 1:
                sw = sw[0]
            else:
                rows = np.broadcast_to(np.arange(sw.shape[0]).reshape(core.shape[:-1]), lead).ravel()
        if not np.all(sw > 0):  # also catches NaN
            raise ValueError("sigma should be > 0 in the fit window.")
    return e, y, inside, sw, rows


class _Workspace:
    """Reused arrays of one thread's blocks: fresh large temporaries cost page faults more than the arithmetic."""

    def __init__(self, m, n_ch, n_basis):
        self.p = np.empty((m, n_basis), dtype=np.float32)
        self.gain = np.empty((m, n_basis), dtype=np.float32)
        self.norm = np.empty((m, n_basis), dtype=np.float32)
        self.y32 = np.empty((m, n_ch), dtype=np.float32)
        f = REFINE_DTYPE
        self.d, self.ld, self.u, self.v, self.r = (np.empty((m, n_ch), dtype=f) for _ in range(5))
        # the running curves' y w and w, and a second pair that the compaction writes to (then the two swap)
        self.ya, self.wa, self.ya2, self.wa2 = (np.empty((m, n_ch), dtype=f) for _ in range(4))
        self.below = np.empty((m, n_ch), dtype=bool)


def _grid_start(y, w2, b32t, norm, grid, b_grid, space):
    """Best ``(log A, E_BG, b)`` of every curve on the grid, refined by parabolas through its neighbours.

    ``y`` (m, n_ch); ``w2`` = ``w^2`` in float32, (n_ch,) or (m, n_ch); ``b32t`` (n_ch, n_grid * n_b) the basis
    curves; ``norm`` (n_basis,), (m, n_basis) or (n_rows, n_basis) with curve ``i`` on row ``i % n_rows`` their
    ``N = sum(w^2 phi^2)`` (at least 1e-30). For each basis curve
    ``phi`` the best amplitude is ``P / N`` with ``P = sum(w^2 y phi)``, and the chi2 falls by ``P^2 / N`` from
    ``sum(w^2 y^2)``: the search is the argmax of ``P^2 / N`` over the grid (float32: it only picks the start).
    A curve with ``P <= 0`` everywhere (no positive signal) gets NaN.
    """
    m = y.shape[0]
    y32 = space.y32[:m]
    y32[...] = y
    y32 *= w2
    p = np.matmul(y32, b32t, out=space.p[:m])  # (m, n_basis)
    gain = np.abs(p, out=space.gain[:m])
    gain *= p  # signed: a basis curve with P <= 0 (a negative amplitude) never wins
    if norm.ndim == 2 and norm.shape[0] != m:  # rows repeated in order: curve i has row i % n_rows
        gain.reshape(m // norm.shape[0], norm.shape[0], -1)[...] /= norm
    else:
        gain /= norm
    n_g, n_b = grid.size, b_grid.size
    flat = np.argmax(gain, axis=1)
    ig, ib = np.divmod(flat, n_b)
    rows = np.arange(m)
    gain = gain.reshape(m, n_g, n_b)

    def vertex(values, i, n, axis_values):
        """Minimum of the parabola through the chi2 at i-1, i, i+1 (chi2 = -gain up to a constant)."""
        lo, hi = np.clip(i - 1, 0, n - 1), np.clip(i + 1, 0, n - 1)
        f0, f1, f2 = values(lo), values(i), values(hi)
        curv = f0 - 2 * f1 + f2  # of the gain: negative at a maximum
        shift = np.where((curv < 0) & (lo < i) & (i < hi), 0.5 * (f0 - f2) / np.where(curv < 0, curv, -1.0), 0.0)
        step = axis_values[1] - axis_values[0]
        return axis_values[i] + np.clip(shift, -0.5, 0.5) * step

    g0 = vertex(lambda j: gain[rows, j, ib], ig, n_g, grid)
    b0 = vertex(lambda j: gain[rows, ig, j], ib, n_b, b_grid)
    norm_best = norm[flat] if norm.ndim == 1 else norm[rows % norm.shape[0], flat]
    amp = p[rows, flat].astype(float) / norm_best
    log_a = np.where(gain[rows, ig, ib] > 0, np.log(np.maximum(amp, 1e-300)), np.nan)
    return np.stack([log_a, g0, b0], axis=1).astype(float)


def _model_parts(params, e):
    """``d = E - E_BG`` (1 where d <= 0), ``log d`` (0 there) and the model, all (m, n_ch)."""
    d = e[None, :] - params[:, 1:2]
    pos = d > 0
    dpos = np.where(pos, d, 1.0)
    ld = np.log(dpos)
    t = ld * params[:, 2:3]
    t += params[:, :1]
    model = np.exp(t, out=t)
    model *= pos
    return dpos, ld, model


def _sums(params, e, yw, w, space):
    """chi2, gradient and Gauss-Newton matrix of every curve: (m,), (m, 3), (m, 3, 3).

    ``yw`` is ``y * w``: the residual is ``model * w - yw``. The columns of the Jacobian of the residuals
    with respect to ``(log A, E_BG, b)`` are ``u = model * w``, ``-b u / d`` and ``u log d``. The log of
    ``d = E - E_BG`` is taken once and serves the model and all three columns; every (m, n_ch) array is
    one of the reused arrays of ``space``. The curves go in parts of :data:`SUMS_PART`; the channels at or
    below the lowest ``E_BG`` of a part (where every model and column is 0) add only ``yw^2`` to the chi2.
    """
    m, n = params.shape[0], e.size
    chi2, grad, mat = np.empty(m), np.empty((m, 3)), np.empty((m, 3, 3))
    dot = lambda a, b: np.einsum("ij,ij->i", a, b)
    for r0 in range(0, m, SUMS_PART):
        r1 = min(r0 + SUMS_PART, m)
        pp = params[r0:r1]
        k = r1 - r0
        c0 = min(int(np.searchsorted(e, pp[:, 1].min(), side="right")), n - 1)  # channels with E <= every E_BG
        nc = n - c0
        d, ld, u, v, r = (a.reshape(-1)[:k * nc].reshape(k, nc) for a in (space.d, space.ld, space.u, space.v,
                                                                          space.r))
        below = space.below.reshape(-1)[:k * nc].reshape(k, nc)
        ywp, wp = yw[r0:r1, c0:], (w[c0:] if w.ndim == 1 else w[r0:r1, c0:])
        np.subtract(e[None, c0:], pp[:, 1:2], out=d)
        np.less_equal(d, 0.0, out=below)
        np.copyto(d, 1.0, where=below)  # d > 0 everywhere now; the channels below the gap are zeroed in u
        np.log(d, out=ld)
        np.multiply(ld, pp[:, 2:3], out=u)
        u += pp[:, :1]
        np.exp(u, out=u)
        np.copyto(u, 0.0, where=below)
        u *= wp
        np.subtract(u, ywp, out=r)
        np.divide(u, d, out=v)  # the E_BG column is -b v (0 below the gap, where u = 0)
        ld *= u  # the b column
        b = -pp[:, 2]
        uu, uv, ul, vv, vl, ll = dot(u, u), dot(u, v), dot(u, ld), dot(v, v), dot(v, ld), dot(ld, ld)
        mat[r0:r1] = np.stack([uu, b * uv, ul, b * uv, b * b * vv, b * vl, ul, b * vl, ll], axis=1).reshape(-1, 3, 3)
        grad[r0:r1] = np.stack([dot(u, r), b * dot(v, r), dot(ld, r)], axis=1)
        chi2[r0:r1] = dot(r, r)
        if c0:
            chi2[r0:r1] += dot(yw[r0:r1, :c0], yw[r0:r1, :c0])
    return chi2, grad, mat


def _cost(params, e, yw, w):
    _, _, model = _model_parts(params, e)
    model *= w
    model -= yw
    return np.einsum("ij,ij->i", model, model)


def _refine(e, y, w, params, bounds, n_steps, tol=1e-6, chi2_tol=1e-6, lam_max=1e8, space=None):
    """Levenberg-Marquardt on ``(log A, E_BG, b)`` of every curve from ``params``; curves stop when converged.

    The model, residuals and Gauss-Newton sums are evaluated in :data:`REFINE_DTYPE`; the parameters,
    steps and the chi2 that is returned are float64. A curve's fit ends when a step moves no parameter
    by more than ``tol``, when a kept step lowers the chi2 by less than ``chi2_tol + CHI2_RTOL chi2``, or
    when the damping passes ``lam_max`` (no step lowers the chi2).

    Returns
    -------
    params : ndarray of shape (m, 3)
    cost : ndarray of shape (m,)
        The chi2 (not per point).
    converged : ndarray of bool, shape (m,)
    """
    g_lo, g_hi, b_lo, b_hi = bounds
    m = params.shape[0]
    if space is None or space.d.shape[0] < m:
        space = _Workspace(m, e.size, 1)
    params = params.copy()
    converged = np.zeros(m, dtype=bool)
    good = np.flatnonzero(np.isfinite(params[:, 0]))
    w_full = np.broadcast_to(w, y.shape)
    yw = y * w_full
    # the grid's amplitude belongs to the grid point: the closed-form amplitude at the refined (E_BG, b)
    _, _, phi = _model_parts(np.c_[np.zeros(good.size), params[good, 1:]], e)
    yg, wg2 = y[good], w_full[good] ** 2
    num, den = np.einsum("ij,ij->i", yg * wg2, phi), np.einsum("ij,ij->i", phi * wg2, phi)
    fine = (num > 0) & (den > 0)
    params[good[fine], 0] = np.log(num[fine] / den[fine])
    dt = REFINE_DTYPE
    e_r, w_r = e.astype(dt), np.asarray(w, dtype=dt)
    shared = w_r.ndim == 1
    cost_r = np.full(m, np.inf)
    active = good[np.argsort(params[good, 1], kind="stable")]  # by E_BG: see SUMS_PART
    lam = np.full(m, 1e-3)
    # the running curves' y w and w, compacted as curves finish (in the reused arrays of space)
    ya = np.take(yw.astype(dt, copy=False), active, axis=0, out=space.ya[:active.size], mode="clip")
    wa = w_r if shared else np.take(w_r, active, axis=0, out=space.wa[:active.size], mode="clip")
    eye = np.eye(3, dtype=bool)
    p = params[active]
    la = lam[active]
    c, grad, mat = _sums(p.astype(dt), e_r, ya, wa, space)
    cost_r[active] = c
    alive = np.ones(active.size, dtype=bool)  # False: finished, its result stored, kept until the next compaction
    for _ in range(n_steps):
        if not alive.any():
            break
        mat, grad = mat.astype(float), grad.astype(float)
        diag = np.diagonal(mat, axis1=1, axis2=2)
        damped = mat.copy()
        damped[:, eye] += la[:, None] * (diag + 1e-12)
        step = -_solve3(damped, grad)
        trial = p + step
        trial[:, 1] = np.clip(trial[:, 1], g_lo, g_hi)
        trial[:, 2] = np.clip(trial[:, 2], b_lo, b_hi)
        new_c, new_grad, new_mat = _sums(trial.astype(dt), e_r, ya, wa, space)
        cost_before = c
        ok = np.isfinite(new_c) & (new_c < cost_before)
        small = np.all(np.abs(trial - p) <= tol, axis=1)
        p = np.where(ok[:, None], trial, p)
        c = np.where(ok, new_c, c)
        la = np.where(ok, la / 3.0, la * 4.0)
        flat = ok & (cost_before - new_c < chi2_tol + CHI2_RTOL * cost_before)  # a kept step that gains ~nothing
        done = (small | flat | (la > lam_max)) & alive  # or a step that moves nothing, or no step helps
        if done.any():
            fin = active[done]
            converged[fin] = True
            params[fin], cost_r[fin] = p[done], c[done]
            alive &= ~done
        if COMPACT * (alive.size - np.count_nonzero(alive)) >= alive.size:
            # drop the finished curves from the arrays (a copy of them all: not after every step)
            keep = np.flatnonzero(alive)
            k = keep.size
            active, p, c, la, alive = active[keep], p[keep], c[keep], la[keep], alive[keep]
            # the sums at the current point of each curve still running: the trial's where it was kept
            ok = ok[keep]
            grad = np.where(ok[:, None], new_grad[keep], grad[keep])
            mat = np.where(ok[:, None, None], new_mat[keep], mat[keep])
            # into the other array of the pair (no overlap, so unbuffered: mode="clip"; keep is in range)
            ya = np.take(ya, keep, axis=0, out=space.ya2[:k], mode="clip")
            space.ya, space.ya2 = space.ya2, space.ya
            if not shared:
                wa = np.take(wa, keep, axis=0, out=space.wa2[:k], mode="clip")
                space.wa, space.wa2 = space.wa2, space.wa
        else:
            grad = np.where(ok[:, None], new_grad, grad)
            mat = np.where(ok[:, None, None], new_mat, mat)
    params[active[alive]], cost_r[active[alive]] = p[alive], c[alive]  # those that ran out of steps
    cost = np.empty(m)
    cost[good] = _cost(params[good], e, yw[good], w_full[good])  # float64, at the final parameters
    bad = np.setdiff1d(np.arange(m), good)
    cost[bad] = np.einsum("ij,ij->i", yw[bad], yw[bad])  # the zero model
    return params, cost, converged


def _solve3(a, b):
    """Solutions of the symmetric positive definite 3x3 systems ``a x = b``, (m, 3, 3) and (m, 3), by Cholesky."""
    l00 = np.sqrt(np.maximum(a[:, 0, 0], 1e-300))
    l10 = a[:, 1, 0] / l00
    l20 = a[:, 2, 0] / l00
    l11 = np.sqrt(np.maximum(a[:, 1, 1] - l10 * l10, 1e-300))
    l21 = (a[:, 2, 1] - l20 * l10) / l11
    l22 = np.sqrt(np.maximum(a[:, 2, 2] - l20 * l20 - l21 * l21, 1e-300))
    z0 = b[:, 0] / l00
    z1 = (b[:, 1] - l10 * z0) / l11
    z2 = (b[:, 2] - l20 * z0 - l21 * z1) / l22
    x2 = z2 / l22
    x1 = (z1 - l21 * x2) / l11
    x0 = (z0 - l10 * x1 - l20 * x2) / l00
    return np.stack([x0, x1, x2], axis=1)


def _fit_band_gap_reference(energy_loss, inelastic, *, window, sigma=None, exponent_range=(0.2, 4.0), n_grid=121,
                            n_steps=30):
    """The fitter before the closed-form grid (kept to compare against; tests and ``benchmarks/bandgap_fits.py``).

    A grid over ``E_BG`` with a weighted straight-line fit of ``log I`` against ``log(E - E_BG)`` at every
    grid value, then ``n_steps`` damped Gauss-Newton steps on all curves at once. Same arguments and
    result as :func:`fit_band_gap` (without ``converged`` and ``at_bound``).
    """
    e, y, inside, _, _ = _check_fit_input(energy_loss, inelastic, window, sigma)
    low, high = window
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
    cost = _reference_cost(params, ew, yw, w)
    for _ in range(int(n_steps)):
        r, jac = _reference_residuals(params, ew, yw, w)
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
        new = _reference_cost(trial, ew, yw, w)
        ok = np.isfinite(new) & (new < cost)
        params[ok], cost[ok] = trial[ok], new[ok]
        lam = np.where(ok, lam / 3.0, lam * 4.0)
    return BandGapFit(band_gap=params[:, 1].reshape(lead), exponent=params[:, 2].reshape(lead),
                      amplitude=np.exp(params[:, 0]).reshape(lead), chi2=(cost / ew.size).reshape(lead),
                      window=(float(low), float(high)))




def _reference_cost(params, e, y, w):
    model = np.exp(params[:, :1]) * np.clip(e - params[:, 1:2], 0, None) ** params[:, 2:3]
    return np.sum(((model - y) * w) ** 2, axis=1)


def _reference_residuals(params, e, y, w):
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
