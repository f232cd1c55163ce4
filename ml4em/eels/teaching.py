"""Small, fast pieces for the exercises of the EELS tutorials, and the course's versions of those exercises.

The tutorials let the student assemble the replica method from their own functions. This module holds what
they need that the production code (:class:`ml4em.eels.ZLPEnsemble`, :func:`ml4em.eels.fit_band_gap`) does
not expose in a per-replica form:

- :func:`spline_zlp_fitter`: a ZLP model that fits one replica in about a millisecond (a weighted least-squares
  cubic B-spline in log intensity), so that a Python loop over a hundred replicas takes a fraction of a second;
- :func:`replica_band`: the course's version of tutorial 07's ensemble loop (replicas, one fit each, a chi2 cut,
  the band), the fallback when the student's loop does not pass its check yet;
- :func:`replica_band_gaps`: the course's version of tutorial 08's per-replica subtraction and band-gap fit;
- :func:`fraction_inside`: the coverage of a band, from its edges (tutorial 07's exercise);
- :func:`log_ratio`: ``t/lambda = ln(I_total / I_zlp)`` from the two counts (tutorial 08's exercise);
- :func:`interval`: median and 68% interval of a 1-D sample, as a tuple;
- :func:`classical_band_gap_errors`: band-gap errors of the classical ZLP subtractions
  (:mod:`ml4em.eels.classical`) and of the replica method on a synthetic spectrum with a known gap.

Used in: tutorials/07_eels_replicas, tutorials/08_band_gap.
"""

import numpy as np
from scipy.interpolate import BSpline

from .bandgap import fit_band_gap
from .predict import band
from .replicas import chi2_per_point

__all__ = ["SplineZLP", "spline_zlp_fitter", "replica_band", "fraction_inside", "log_ratio", "replica_band_gaps", "interval",
           "classical_band_gap_errors", "CLASSICAL_METHODS"]

#: The classical subtractions compared in tutorial 08, in table order.
CLASSICAL_METHODS = ("power law", "reflected tail", "scaled vacuum")


class SplineZLP:
    """A ZLP model ``exp(spline(E))`` on a fixed knot vector, callable on energies (eV) -> counts.

    Below the first knot and above the last one the spline is held at its end values.

    Parameters
    ----------
    knots : ndarray of shape (n_coef + 4,), eV
        Full cubic knot vector.
    coef : ndarray of shape (n_coef,)
        B-spline coefficients of ``log(intensity)``.
    """

    def __init__(self, knots, coef):
        self.knots = np.asarray(knots, dtype=float)
        self.coef = np.asarray(coef, dtype=float)
        self._spline = BSpline(self.knots, self.coef, 3, extrapolate=False)

    def log(self, energy_loss):
        """``log`` of the model, shape of ``energy_loss``."""
        e = np.clip(np.asarray(energy_loss, dtype=float), self.knots[0], self.knots[-1])
        return self._spline(e)

    def __call__(self, energy_loss):
        """The model in counts, shape of ``energy_loss``."""
        return np.exp(self.log(energy_loss))


def _design(energy, knots):
    e = np.clip(np.asarray(energy, dtype=float), knots[0], knots[-1])
    return BSpline.design_matrix(e, knots, 3).toarray()


def spline_zlp_fitter(training_set, *, knot_spacing, gap_knots=1):
    """A fast per-replica ZLP fit: ``fit(energy, replica, sigma)`` returns a :class:`SplineZLP`.

    The model is a cubic B-spline in ``log(intensity)``, fitted by weighted linear least squares to the
    replica's measured points (weights ``replica / sigma``, the inverse uncertainty of ``log(replica)``) and to
    the pseudo-data of ``training_set`` above dE2 (fixed, weights ``1 / log_sigma``). Knots are spaced
    ``knot_spacing`` apart from the lowest energy to dE1, ``gap_knots`` more are spread evenly between dE1
    and dE2, and the last one sits at the highest pseudo-data energy. Between dE1 and dE2 the spline only
    interpolates: there the replicas disagree, as the networks do.

    Parameters
    ----------
    training_set : ml4em.eels.TrainingSet
        From :func:`ml4em.eels.make_training_set`; its pseudo-data and dE1, dE2 are used.
    knot_spacing : float, eV
        Distance between knots below dE1, e.g. a third of the ZLP's FWHM (finer fits the peak more closely).
    gap_knots : int, default 1
        Interior knots between dE1 and dE2.

    Returns
    -------
    fit : callable
        ``fit(energy, replica, sigma)`` with ``energy``, ``replica``, ``sigma`` of shape (n_points,) (eV, counts,
        counts), the measured points below dE1; returns a :class:`SplineZLP`. Replica values below
        ``1e-6 * max(replica)`` are raised to it before the logarithm.

    Examples
    --------
    >>> from ml4em.eels import make_training_set
    >>> e = np.round(np.arange(-1.0, 3.0, 0.02), 10)
    >>> spectra = 1e5 * np.exp(-0.5 * (e / 0.1) ** 2) + 1e3 / (1 + (e / 0.2) ** 2) + np.zeros((3, 1)) + [[0], [5], [-5]]
    >>> ts = make_training_set(e, spectra, dE1=0.5, dE2=2.0)
    >>> data = ~ts.pseudo
    >>> fit = spline_zlp_fitter(ts, knot_spacing=0.05)
    >>> model = fit(ts.energy_loss[data], ts.intensity[data], ts.sigma[data])
    >>> bool(np.allclose(model(ts.energy_loss[data]), ts.intensity[data], rtol=0.02))
    True
    """
    spacing = float(knot_spacing)
    if not spacing > 0:
        raise ValueError(f"knot_spacing={knot_spacing!r} should be a positive distance in eV, e.g. FWHM / 3.")
    if int(gap_knots) != gap_knots or gap_knots < 0:
        raise ValueError(f"gap_knots={gap_knots!r} should be an integer >= 0, e.g. 1.")
    pseudo = np.asarray(training_set.pseudo, dtype=bool)
    if not pseudo.any():
        raise ValueError("training_set has no pseudo-data above dE2; build it with make_training_set(..., dE2=...).")
    e_all = np.asarray(training_set.energy_loss, dtype=float)
    dE1, dE2 = float(training_set.dE1), float(training_set.dE2)
    low, high = float(e_all.min()), float(e_all[pseudo].max())
    if not low + 2 * spacing < dE1:
        raise ValueError(f"knot_spacing={spacing!r} eV leaves no knot between {low:.3g} and dE1={dE1:.3g} eV; "
                         "choose a smaller spacing, e.g. FWHM / 3.")
    inner = np.r_[np.arange(low + spacing, dE1 - 0.5 * spacing, spacing), dE1,
                  np.linspace(dE1, dE2, int(gap_knots) + 2)[1:-1]]
    knots = np.r_[[low] * 4, inner, [high] * 4]
    e_pseudo = e_all[pseudo]
    y_pseudo = np.log(np.asarray(training_set.intensity, dtype=float)[pseudo])
    w_pseudo = 1.0 / np.asarray(training_set.log_sigma, dtype=float)[pseudo]
    x_pseudo = _design(e_pseudo, knots)

    def fit(energy, replica, sigma):
        e = np.asarray(energy, dtype=float)
        r = np.asarray(replica, dtype=float)
        s = np.asarray(sigma, dtype=float)
        if e.ndim != 1 or r.shape != e.shape or s.shape != e.shape:
            raise ValueError(f"energy, replica and sigma should be 1-D of the same length; got shapes {e.shape}, "
                             f"{r.shape} and {s.shape}. Pass one replica at a time.")
        if np.any(s <= 0):
            raise ValueError("sigma should be > 0 everywhere (the uncertainty of each point, counts).")
        r = np.maximum(r, 1e-6 * r.max())
        x = np.vstack([_design(e, knots), x_pseudo])
        y = np.r_[np.log(r), y_pseudo]
        w = np.r_[r / s, w_pseudo]
        coef, *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
        return SplineZLP(knots, coef)

    return fit


def replica_band(energy, intensity, sigma, grid, n_replicas, fit, max_chi2, rng):
    """The course's ensemble loop: replicas, one fit each, a chi2 cut and the 68% band on ``grid``.

    Replica ``k`` is ``intensity + r_k * sigma`` with ``r = rng.standard_normal((n_replicas, n_points))``;
    ``model_k = fit(energy, replica_k, sigma)``; its chi2 per point against the **central** data is
    ``mean(((model_k(energy) - intensity) / sigma)^2)``; replicas with chi2 <= ``max_chi2`` are kept and the
    band is the 50th, 16th and 84th percentiles of their ``model_k(grid)``.

    Parameters
    ----------
    energy, intensity, sigma : ndarray of shape (n_points,)
        eV, counts, counts (sigma > 0).
    grid : ndarray of shape (n_grid,), eV
        Where the band is evaluated.
    n_replicas : int
    fit : callable
        ``fit(energy, replica, sigma)`` returns a model callable on energies (e.g. :func:`spline_zlp_fitter`).
    max_chi2 : float
        The cut on the chi2 per point.
    rng : numpy.random.Generator

    Returns
    -------
    median, low, high : ndarray of shape (n_grid,), counts
    keep : ndarray of bool, shape (n_replicas,)

    Raises
    ------
    ValueError
        When fewer than 2 replicas pass the cut.
    """
    intensity = np.asarray(intensity, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    replicas = intensity + rng.standard_normal((int(n_replicas), intensity.size)) * sigma
    curves, chi2 = [], []
    for replica in replicas:
        model = fit(energy, replica, sigma)
        chi2.append(chi2_per_point(model(energy), intensity, sigma))
        curves.append(model(grid))
    keep = np.asarray(chi2) <= max_chi2
    if keep.sum() < 2:
        raise ValueError(f"only {int(keep.sum())} of {len(keep)} replicas have chi2 <= max_chi2={max_chi2!r}; "
                         "a band needs at least 2. Raise max_chi2 or improve the fit.")
    median, low, high = np.percentile(np.asarray(curves)[keep], [50, 16, 84], axis=0)
    return median, low, high, keep


def fraction_inside(low, high, truth):
    """Fraction of points with ``low <= truth <= high`` (arrays of one shape), a float in [0, 1].

    Examples
    --------
    >>> fraction_inside(np.zeros(4), np.ones(4), np.array([0.0, 0.5, 1.0, 2.0]))
    0.75
    """
    truth = np.asarray(truth, dtype=float)
    return float(np.mean((truth >= np.asarray(low)) & (truth <= np.asarray(high))))


def log_ratio(total_counts, zlp_counts):
    """Relative thickness ``t / lambda = ln(total_counts / zlp_counts)``, elementwise (dimensionless).

    Parameters
    ----------
    total_counts, zlp_counts : float or ndarray of one shape, counts (both > 0)

    Examples
    --------
    >>> round(float(log_ratio(2.0e6, 1.0e6)), 4)
    0.6931
    """
    total = np.asarray(total_counts, dtype=float)
    zlp = np.asarray(zlp_counts, dtype=float)
    if np.any(total <= 0) or np.any(zlp <= 0):
        raise ValueError("total_counts and zlp_counts should be positive counts; a logarithm needs both > 0.")
    return np.log(total / zlp)


def replica_band_gaps(energy_loss, spectrum, zlp, dE2, window):
    """The course's per-replica band gaps: subtract each replica's ZLP, fit ``A (E - E_BG)^b`` in ``window``.

    For every replica the ZLP is set to zero above dE2 and capped at the spectrum, and the model is fitted by
    unweighted least squares (``scipy.optimize.curve_fit``, starting at ``(max, window[0] + 0.2, 1.5)``) to
    the channels with ``window[0] <= E <= window[1]``.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    spectrum : ndarray of shape (n_channels,), counts
    zlp : ndarray of shape (n_replicas, n_channels), counts
    dE2 : float, eV
    window : (float, float), eV

    Returns
    -------
    gaps, exponents : ndarray of shape (n_replicas,)
        E_BG (eV) and b of every replica.

    Examples
    --------
    >>> e = np.linspace(-1.0, 4.0, 501)
    >>> zlp = 1e4 * np.exp(-0.5 * (e / 0.1) ** 2) * np.array([[1.0], [1.02]])
    >>> spectrum = zlp[0] + 300.0 * np.clip(e - 1.6, 0, None) ** 1.5
    >>> gaps, b = replica_band_gaps(e, spectrum, zlp, 3.5, (1.0, 3.0))
    >>> gaps.round(3), b.round(3)
    (array([1.6, 1.6]), array([1.5, 1.5]))
    """
    from scipy.optimize import curve_fit

    from .bandgap import band_gap_model

    e = np.asarray(energy_loss, dtype=float)
    spectrum = np.asarray(spectrum, dtype=float)
    zlp = np.atleast_2d(np.asarray(zlp, dtype=float))
    if zlp.shape[-1] != e.size or spectrum.shape != e.shape:
        raise ValueError(f"spectrum should have shape ({e.size},) and zlp (n_replicas, {e.size}); got "
                         f"{spectrum.shape} and {zlp.shape}.")
    inside = (e >= window[0]) & (e <= window[1])
    if inside.sum() < 4:
        raise ValueError(f"window={tuple(window)!r} holds {int(inside.sum())} channels; the fit of 3 parameters "
                         "needs at least 4. Widen it.")
    model = np.where(e > dE2, 0.0, zlp)
    inelastic = spectrum - np.minimum(model, spectrum)
    gaps, exponents = [], []
    for y in inelastic[:, inside]:
        p0 = (y.max(), window[0] + 0.2, 1.5)
        (_, gap, b), _ = curve_fit(band_gap_model, e[inside], y, p0=p0, maxfev=20000)
        gaps.append(gap)
        exponents.append(b)
    return np.array(gaps), np.array(exponents)


def interval(samples):
    """``(median, low, high)`` of a 1-D sample, with the 16th and 84th percentiles, as floats."""
    b = band(np.asarray(samples, dtype=float)[:, None])
    return float(b.median[0]), float(b.low[0]), float(b.high[0])


def classical_band_gap_errors(energy_loss, sample, vacuum, replica_inelastic, *, true_gap, window, dE1):
    """Band-gap error of each classical subtraction and of the replica method, against a known gap.

    Every method subtracts a ZLP from the mean of ``sample``; the gap is the median of
    :func:`ml4em.eels.fit_band_gap` in the same ``window``. The power law is fitted on ``(1.5 FWHM, dE1)``
    and needs the optional dependency exspy (``pip install "ml4em[classical]"``): without it its row says
    so and holds NaN.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
    sample : ndarray of shape (n_spectra, n_channels), counts
    vacuum : ndarray of shape (n_vacuum, n_channels), counts
    replica_inelastic : ndarray of shape (n_replicas, n_channels), counts
        The replica method's subtracted spectra (e.g. :func:`ml4em.eels.subtract_zlp`).
    true_gap : float, eV
    window : (float, float), eV
    dE1 : float, eV

    Returns
    -------
    list of dict
        One per method, ``{"method", "band_gap" (eV), "error" (eV), "inelastic" (counts, shape (n_channels,)
        or (n_replicas, n_channels); None when skipped), "note"}``, the replica method last.
    """
    from .axis import fwhm
    from .classical import subtract_power_law, subtract_reflected_tail, subtract_scaled_vacuum

    e = np.asarray(energy_loss, dtype=float)
    mean = np.asarray(sample, dtype=float).mean(axis=0)
    width = float(fwhm(e, mean))
    methods = {
        "power law": lambda: subtract_power_law(e, mean, window=(1.5 * width, dE1)).inelastic,
        "reflected tail": lambda: subtract_reflected_tail(e, mean).inelastic,
        "scaled vacuum": lambda: subtract_scaled_vacuum(e, mean, np.asarray(vacuum, dtype=float).mean(axis=0)).inelastic,
    }
    rows = []
    for name in CLASSICAL_METHODS:
        try:
            inelastic = methods[name]()
        except ImportError:
            rows.append({"method": name, "band_gap": np.nan, "error": np.nan, "inelastic": None,
                         "note": 'skipped: needs exspy (pip install "ml4em[classical]")'})
            continue
        gap = float(np.median(fit_band_gap(e, inelastic, window=window).band_gap))
        rows.append({"method": name, "band_gap": gap, "error": gap - true_gap, "inelastic": inelastic, "note": ""})
    replica_inelastic = np.asarray(replica_inelastic, dtype=float)
    gap = float(np.median(fit_band_gap(e, replica_inelastic, window=window).band_gap))
    rows.append({"method": "replicas", "band_gap": gap, "error": gap - true_gap, "inelastic": replica_inelastic,
                 "note": ""})
    return rows

