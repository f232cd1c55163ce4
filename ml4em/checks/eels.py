"""Checks for the EELS tutorials 07_eels_replicas and 08_band_gap (09_spectral_image: :mod:`ml4em.checks.spectral`).

Each check calls the student's function on a case with a known answer and
explains what is wrong. Reference answers come from :mod:`ml4em.eels` and
numpy. Each check refuses the package's own implementation of its exercise
(see :mod:`ml4em.checks._own`).
"""

import re

import numpy as np

from ._core import (CheckFailure, _fail, call_student, check_array, check_callable, check_close, check_scalar,
                    check_shape, check_true)
from ._own import answers

REPLICAS, BAND_GAP = "07_eels_replicas", "08_band_gap"

__all__ = [
    # 07_eels_replicas
    "check_make_replicas", "check_chi2_per_point", "check_zlp_band", "check_coverage", "check_scale_energy",
    "check_replica_band", "check_replica_band_cut", "check_extrapolation_factor",
    # 08_band_gap
    "check_log_ratio", "check_subtract", "check_band_gap_model", "check_fit_band_gap", "check_fit_window",
    "check_fit_start",
    "check_interval", "check_replica_band_gaps", "check_window_systematic",
]


# ----------------------------------------------------------------------------------------- 07_eels_replicas
@answers(REPLICAS, "make_replicas", "ml4em.eels.make_replicas")
def check_make_replicas(make_replicas, *, n_points=6, n_replicas=4, seed=0):
    """``make_replicas(intensity, sigma, n_replicas, rng)`` returns intensity + r * sigma, r standard normal.

    The numbers must come from ``rng.standard_normal((n_replicas, len(intensity)))``.
    """
    check_callable(make_replicas, "make_replicas")
    intensity = np.linspace(100.0, 600.0, n_points)
    sigma = np.linspace(1.0, 20.0, n_points)
    got = call_student("make_replicas", make_replicas, intensity, sigma, n_replicas, np.random.default_rng(seed))
    got = check_array("make_replicas(intensity, sigma, n_replicas, rng)", got, ndim=2)
    hint = None
    if got.shape == (n_points, n_replicas):
        hint = "one ROW per replica: the shape should be (n_replicas, len(intensity))."
    check_shape("make_replicas(...)", got, (n_replicas, n_points), hint=hint)
    r = np.random.default_rng(seed).standard_normal((n_replicas, n_points))
    expected = intensity + r * sigma
    hint = "draw r = rng.standard_normal((n_replicas, len(intensity))) once and return intensity + r * sigma."
    if np.allclose(got, intensity + r * sigma ** 2):
        hint = "sigma is a standard deviation: multiply r by sigma, not by sigma**2 (the variance)."
    elif np.allclose(got, r * sigma):
        hint = "a replica is the data PLUS a fluctuation: add the intensity."
    check_close("make_replicas(...)", got, expected, rtol=1e-12, hint=hint)


@answers(REPLICAS, "chi2_per_point", "ml4em.eels.chi2_per_point")
def check_chi2_per_point(chi2_per_point, *, seed=1):
    """``chi2_per_point(prediction, data, sigma)``: mean of ((prediction - data) / sigma)**2 over the last axis."""
    check_callable(chi2_per_point, "chi2_per_point")
    rng = np.random.default_rng(seed)
    data = rng.uniform(1, 2, 8)
    sigma = rng.uniform(0.1, 0.3, 8)
    prediction = data + sigma * rng.standard_normal((3, 8))
    got = check_array("chi2_per_point(prediction, data, sigma)", call_student("chi2_per_point", chi2_per_point,
                                                                              prediction, data, sigma))
    expected = np.mean(((prediction - data) / sigma) ** 2, axis=-1)
    hint = None
    if got.shape == ():
        hint = "return one chi2 per replica (average over the LAST axis only: axis=-1)."
    check_shape("chi2_per_point(prediction, data, sigma)", got, expected.shape, hint=hint)
    if np.allclose(got, expected * 8):
        hint = "that is the total chi2; divide by the number of points (take the mean, not the sum)."
    elif np.allclose(got, np.mean(((prediction - data) / sigma ** 2) ** 2, axis=-1)):
        hint = "divide the residual by sigma, not sigma**2, before squaring."
    check_close("chi2_per_point(...)", got, expected, rtol=1e-10, hint=hint)


@answers(REPLICAS, "zlp_band", "ml4em.eels.band")
def check_zlp_band(zlp_band, *, seed=2):
    """``zlp_band(samples)`` returns (median, low, high): the 50th, 16th and 84th percentiles over axis 0."""
    check_callable(zlp_band, "zlp_band")
    samples = np.random.default_rng(seed).lognormal(size=(41, 5))
    out = call_student("zlp_band", zlp_band, samples)
    check_true(isinstance(out, tuple) and len(out) == 3,
               f"`zlp_band` should return a tuple (median, low, high); got {type(out).__name__}.")
    expected = np.percentile(samples, [50, 16, 84], axis=0)
    for name, got, exp in zip(("median", "low", "high"), out, expected):
        got = check_array(f"zlp_band(samples) {name}", got)
        hint = None
        if got.shape == (samples.shape[0],):
            hint = "take percentiles over the REPLICAS (axis=0): one value per energy."
        check_shape(f"zlp_band(samples) {name}", got, exp.shape, hint=hint)
        hint = "use np.percentile(samples, [50, 16, 84], axis=0)."
        if name == "median" and np.allclose(got, samples.mean(axis=0)):
            hint = "the central value is the MEDIAN (50th percentile), not the mean."
        check_close(f"zlp_band(samples) {name}", got, exp, rtol=1e-10, hint=hint)


@answers(REPLICAS, "coverage", "ml4em.eels.coverage", "ml4em.eels.Band.contains", "ml4em.eels.teaching.fraction_inside")
def check_coverage(coverage, *, n_points=50, seed=3):
    """``coverage(low, high, truth)`` is the fraction of points with low <= truth <= high.

    A few points lie exactly on the lower edge and a few exactly on the upper edge: both count as inside.
    """
    check_callable(coverage, "coverage")
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal(n_points)
    low = -rng.uniform(0.5, 1.5, n_points)
    high = rng.uniform(0.5, 1.5, n_points)
    edge = rng.permutation(n_points)[:6]
    low[edge[:3]] = truth[edge[:3]]  # on the lower edge
    high[edge[3:]] = truth[edge[3:]]  # on the upper edge
    got = check_scalar("coverage(low, high, truth)", call_student("coverage", coverage, low, high, truth))
    expected = float(np.mean((truth >= low) & (truth <= high)))
    hint = None
    if np.isclose(got, 1 - expected):
        hint = "you counted the points OUTSIDE the band."
    elif np.isclose(got, expected * n_points):
        hint = "return a fraction between 0 and 1, not a count."
    elif np.isclose(got, float(np.mean((truth > low) & (truth <= high)))):
        hint = "a point on the LOWER edge of the band is inside: use low <= truth, not <."
    elif np.isclose(got, float(np.mean((truth >= low) & (truth < high)))):
        hint = "a point on the UPPER edge of the band is inside: use truth <= high, not <."
    elif np.isclose(got, float(np.mean((truth > low) & (truth < high)))):
        hint = "a point on the edge of the band is inside: use <= and >=."
    check_close("coverage(low, high, truth)", got, expected, rtol=1e-12, hint=hint)


@answers(REPLICAS, "scale_energy", "ml4em.eels.ZLPEnsemble._scale_inputs")
def check_scale_energy(scale_energy, *, e_low=-4.0, e_high=1.8):
    """``scale_energy(energy_loss, e_low, e_high)`` maps [e_low, e_high] linearly onto [-1, 1].

    The energies include both ends, a point between them and points outside (which land beyond -1 and 1).
    """
    check_callable(scale_energy, "scale_energy")
    e = np.array([e_low - 1.0, e_low, 0.3 * e_low + 0.7 * e_high, e_high, e_high + 2.5])
    label = f"scale_energy(energy_loss, {e_low!r}, {e_high!r})"
    got = check_array(label, call_student("scale_energy", scale_energy, e, e_low, e_high))
    check_shape(label, got, e.shape, hint="return one scaled value per energy.")
    expected = 2 * (e - e_low) / (e_high - e_low) - 1
    hint = "x = 2 (E - e_low) / (e_high - e_low) - 1 sends e_low to -1 and e_high to +1."
    if np.allclose(got, (e - e_low) / (e_high - e_low)):
        hint = "that maps onto [0, 1]; stretch it to [-1, 1]: 2 * (...) - 1."
    elif np.allclose(got, -expected):
        hint = "e_low should go to -1 and e_high to +1: you have them the other way round."
    elif np.allclose(got, 2 * e / (e_high - e_low) - 1):
        hint = "subtract e_low before dividing: e_low itself must land on -1."
    check_close(label, got, expected, rtol=1e-12, atol=1e-12, hint=hint)


def _exact_case(n_points, seed):
    """Energies, integer intensities and power-of-two sigmas: chi2 values of the fake fit below are exact."""
    rng = np.random.default_rng(seed)
    energy = np.arange(n_points) * 0.5
    intensity = rng.integers(200, 2000, n_points).astype(float)
    sigma = 2.0 ** rng.integers(0, 4, n_points)
    grid = np.arange(n_points - 1) * 0.5 + 0.25  # between the data energies
    return energy, intensity, sigma, grid


def _shift_fitter(energy, intensity, offset=0, calls=None):
    """A stand-in for a ZLP fit whose chi2 against the central data is an exact square of an integer.

    The model of a replica is the central data shifted by ``m`` sigmas, ``m`` the replica's mean fluctuation in
    sigmas times sqrt(n) rounded (plus ``offset``), so its chi2 per point is exactly ``m**2``; between the data
    energies it adds the replica's mean fluctuation ``c`` (counts), so the band on the grid differs per replica.
    """
    energy = np.asarray(energy, dtype=float)
    intensity = np.asarray(intensity, dtype=float)

    def fit(e, replica, sigma):
        e, replica, sigma = (np.asarray(v, dtype=float) for v in (e, replica, sigma))
        if calls is not None:
            calls.append((e.copy(), replica.copy(), sigma.copy()))
        if e.shape != energy.shape or replica.shape != energy.shape or sigma.shape != energy.shape:
            raise ValueError(f"fit(energy, replica, sigma) takes ONE replica: arrays of shape {energy.shape}; got "
                             f"{e.shape}, {replica.shape} and {sigma.shape}.")
        m = int(np.rint(np.mean((replica - intensity) / sigma) * np.sqrt(energy.size))) + offset
        c = float(np.mean(replica - intensity))
        central = intensity + m * sigma

        def model(x):
            x = np.asarray(x, dtype=float)
            return np.interp(x, energy, central) + np.where(np.isin(x, energy), 0.0, c)

        return model

    return fit


def _replica_band_expected(energy, intensity, sigma, grid, n_replicas, fit, max_chi2, seed):
    r = np.random.default_rng(seed).standard_normal((n_replicas, intensity.size))
    replicas = intensity + r * sigma
    models = [fit(energy, rep, sigma) for rep in replicas]
    curves = np.array([m(grid) for m in models])
    chi2 = np.array([np.mean(((m(energy) - intensity) / sigma) ** 2) for m in models])
    chi2_rep = np.array([np.mean(((m(energy) - rep) / sigma) ** 2) for m, rep in zip(models, replicas)])
    return curves, chi2, chi2_rep


@answers(REPLICAS, "replica_band", "ml4em.eels.teaching.replica_band")
def check_replica_band(replica_band, *, n_points=9, n_replicas=16, max_chi2=1.0, seed=0):
    """``replica_band(energy, intensity, sigma, grid, n_replicas, fit, max_chi2, rng)`` returns
    ``(median, low, high, keep)``: your replicas, one ``fit`` each, chi2 per point against the central data,
    the replicas with chi2 <= max_chi2, and the 50th/16th/84th percentiles of their models on ``grid``.

    The stand-in ``fit`` gives chi2 values that are exact squares of integers, some exactly at the cut.
    """
    check_callable(replica_band, "replica_band")
    energy, intensity, sigma, grid = _exact_case(n_points, seed)
    calls = []
    fit = _shift_fitter(energy, intensity, calls=calls)
    label = "replica_band(energy, intensity, sigma, grid, n_replicas, fit, max_chi2, rng)"
    out = call_student("replica_band", replica_band, energy, intensity, sigma, grid, n_replicas, fit, max_chi2,
                       np.random.default_rng(seed))
    check_true(isinstance(out, tuple) and len(out) == 4,
               f"`replica_band` should return a tuple (median, low, high, keep); got {type(out).__name__}"
               f"{' of length ' + str(len(out)) if isinstance(out, tuple) else ''}.")
    check_true(len(calls) == n_replicas,
               f"`replica_band` called fit {len(calls)} times for {n_replicas} replicas.",
               hint="call fit(energy, replica, sigma) once for every replica (a loop over the rows of your replicas).")
    check_true(all(np.array_equal(c[0], energy) and np.array_equal(c[2], sigma) for c in calls),
               "fit(energy, replica, sigma) should get the data energies and the data's sigma.",
               hint="pass energy (not grid) and sigma unchanged; only the replica changes from call to call.")
    curves, chi2, chi2_rep = _replica_band_expected(energy, intensity, sigma, grid, n_replicas, fit, max_chi2, seed)
    keep_expected = chi2 <= max_chi2
    keep = np.asarray(out[3])
    check_shape(f"{label} keep", keep, (n_replicas,), hint="keep holds one True/False per replica.")
    check_true(keep.dtype == bool, f"`keep` should be an array of booleans; got dtype {keep.dtype}.",
               hint="keep = chi2 <= max_chi2 is a boolean array.")
    hint = f"keep the replicas whose chi2 per point against the CENTRAL data is <= max_chi2 (= {max_chi2:g})."
    if np.array_equal(keep, chi2 < max_chi2):
        hint = "a replica with chi2 exactly at max_chi2 passes the cut: use <=, not <."
    elif np.array_equal(keep, chi2_rep <= max_chi2):
        hint = ("you computed chi2 against the replica the model was fitted to; the cut compares each model with "
                "the central data: chi2_per_point(model(energy), intensity, sigma).")
    elif keep.all():
        hint = "you kept every replica: apply the cut chi2 <= max_chi2."
    check_true(np.array_equal(keep, keep_expected),
               f"`keep` marks replicas {np.flatnonzero(keep).tolist()}; replicas {np.flatnonzero(keep_expected).tolist()} "
               f"have chi2 <= {max_chi2:g}.", hint=hint)
    expected = np.percentile(curves[keep_expected], [50, 16, 84], axis=0)
    every = np.percentile(curves, [50, 16, 84], axis=0)
    for name, got, exp, all_ in zip(("median", "low", "high"), out[:3], expected, every):
        got = check_array(f"{label} {name}", got)
        hint = None
        if got.shape == energy.shape and got.shape != grid.shape:
            hint = "evaluate every kept model on grid (model(grid)), not on the data energies."
        check_shape(f"{label} {name}", got, grid.shape, hint=hint)
        hint = "the band is your zlp_band of the kept models on grid: zlp_band(curves[keep])."
        if np.allclose(got, all_) and not np.allclose(all_, exp):
            hint = "the band should be made of the KEPT replicas only: curves[keep]."
        check_close(f"{label} {name}", got, exp, rtol=1e-10, hint=hint)


def _listed_fitter(energy, intensity, shifts):
    """A stand-in fit whose k-th call returns the central data shifted by ``shifts[k]`` sigmas (chi2 = shift**2)."""
    calls = iter(shifts)

    def fit(e, replica, sigma):
        central = np.asarray(intensity, dtype=float) + next(calls, 0) * np.asarray(sigma, dtype=float)
        return lambda x: np.interp(np.asarray(x, dtype=float), energy, central)

    return fit


@answers(REPLICAS, "replica_band", "ml4em.eels.teaching.replica_band")
def check_replica_band_cut(replica_band, *, n_points=9, max_chi2=3.0, seed=1):
    """Fewer than 2 replicas through the cut: ``replica_band`` raises a ValueError; exactly 2: it returns the band.

    The stand-in fit's chi2 per point is 0 for the first ``k`` replicas and 16 (> max_chi2) for the others.
    """
    check_callable(replica_band, "replica_band")
    energy, intensity, sigma, grid = _exact_case(n_points, seed)
    for n_pass in (0, 1, 2):
        shifts = [0] * n_pass + [4] * (6 - n_pass)
        fit = _listed_fitter(energy, intensity, shifts)
        try:
            out = replica_band(energy, intensity, sigma, grid, len(shifts), fit, max_chi2,
                               np.random.default_rng(seed))
        except ValueError as error:
            if n_pass >= 2:
                _fail(f"with 2 of 6 replicas through the cut `replica_band` raised ValueError: {error}".splitlines()[0],
                      hint="2 replicas are enough for a band: raise only when fewer than 2 pass (keep.sum() < 2).")
            text = str(error)
            check_true("max_chi2" in text and re.search(rf"(?<![\d.]){n_pass}(?![\d.])", text),
                       f"the ValueError should say how many replicas passed ({n_pass}) and name max_chi2; "
                       f"its message is {text!r}.",
                       hint="e.g. f\"only {keep.sum()} of {n_replicas} replicas have chi2 <= max_chi2={max_chi2}\".")
            continue
        except (CheckFailure, NotImplementedError):
            raise
        except Exception as error:  # the student's code raised: say so, without a traceback through the check
            message = f"`replica_band` raised {type(error).__name__}: {error}".splitlines()[0]
            raise CheckFailure(f"{message}\nHint: when fewer than 2 replicas pass the cut, raise ValueError(...) "
                               "naming max_chi2.") from None
        if n_pass < 2:
            _fail(f"{n_pass} of 6 replicas have chi2 <= max_chi2={max_chi2:g}, yet `replica_band` returned "
                  f"{type(out).__name__} instead of raising a ValueError.",
                  hint="a band needs at least 2 replicas: if keep.sum() < 2, raise ValueError(...) naming max_chi2.")
        check_true(isinstance(out, tuple) and len(out) == 4,
                   f"`replica_band` should return a tuple (median, low, high, keep); got {type(out).__name__}.")
        keep = np.asarray(out[3])
        check_true(keep.shape == (6,) and np.array_equal(keep, np.arange(6) < n_pass),
                   f"`keep` should be {(np.arange(6) < n_pass).tolist()} (chi2 of 0 for the first {n_pass}, 16 for "
                   f"the others, max_chi2={max_chi2:g}); got {keep.tolist()}.")
        median = check_array("replica_band(...) median", out[0])
        check_close("replica_band(...) median with 2 identical kept replicas", median,
                    np.interp(grid, energy, intensity), rtol=1e-10,
                    hint="the band is zlp_band of the kept models on grid.")


@answers(REPLICAS, "extrapolation_factor", "ml4em.eels.relative_band_width", student=())
def check_extrapolation_factor(extrapolation_factor, ensemble, energy_loss, *, outside=8.0, edge=4.0,
                               window=(-0.3, 0.5)):
    """``extrapolation_factor``: relative band width at ``outside`` ms over that at ``edge`` ms (the edge of the
    training range), to 10% (the log axis of the figure above the explorer is read to about that)."""
    from ml4em.eels import relative_band_width

    value = check_scalar("extrapolation_factor", extrapolation_factor)
    widths = relative_band_width(ensemble, energy_loss, [outside, edge], window=window)
    want = float(widths[0] / widths[1])
    hint = (f"divide the relative width at {outside:g} ms by the one at {edge:g} ms (the values of `widths` for "
            "those times in the cell above the explorer).")
    if np.isclose(value, 1 / want, rtol=0.1):
        hint = f"that is the inverse: the width at {outside:g} ms goes in the numerator."
    check_close("extrapolation_factor", value, want, rtol=0.1, hint=hint)


# ----------------------------------------------------------------------------------------------- 08_band_gap
@answers(BAND_GAP, "log_ratio", "ml4em.eels.estimate_thickness", "ml4em.eels.teaching.log_ratio")
def check_log_ratio(log_ratio, *, seed=4):
    """``log_ratio(total_counts, zlp_counts)`` is ln(total / zlp), elementwise."""
    check_callable(log_ratio, "log_ratio")
    rng = np.random.default_rng(seed)
    zlp = rng.uniform(1e5, 2e5, 4)
    total = zlp * np.exp(rng.uniform(0.1, 1.5, 4))
    got = check_array("log_ratio(total, zlp)", call_student("log_ratio", log_ratio, total, zlp))
    expected = np.log(total / zlp)
    hint = None
    if np.allclose(got, np.log10(total / zlp)):
        hint = "use the natural logarithm np.log, not np.log10."
    elif np.allclose(got, np.log(zlp / total)):
        hint = "the ratio is total / zlp (the total is larger, so t/lambda > 0)."
    check_close("log_ratio(total, zlp)", got, expected, rtol=1e-12, hint=hint)


@answers(BAND_GAP, "subtract", "ml4em.eels.subtract_zlp", "ml4em.eels.match_zlp")
def check_subtract(subtract, *, seed=5):
    """``subtract(energy_loss, spectrum, zlp, dE2)``: spectrum - zlp per replica, ZLP zero above dE2, never above the data."""
    check_callable(subtract, "subtract")
    e = np.linspace(-1, 6, 71)
    rng = np.random.default_rng(seed)
    spectrum = 1000 * np.exp(-e ** 2) + 50 * (e > 1.5)
    zlp = 1000 * np.exp(-e ** 2) * rng.uniform(0.8, 1.2, (3, 1))
    got = check_array("subtract(energy_loss, spectrum, zlp, dE2)", call_student("subtract", subtract,
                                                                                e, spectrum, zlp, 4.0), ndim=2)
    check_shape("subtract(energy_loss, spectrum, zlp, dE2)", got, zlp.shape,
                hint="return one subtracted spectrum per replica: shape (n_replicas, n_channels).")
    model = np.where(e > 4.0, 0.0, zlp)
    expected = spectrum - np.minimum(model, spectrum)
    hint = None
    if np.allclose(got, spectrum - zlp):
        hint = "set the ZLP to zero above dE2 and never let it exceed the spectrum (np.minimum)."
    elif np.any(got < -1e-9):
        hint = "the subtracted spectrum should never be negative: the ZLP cannot exceed the measured spectrum."
    elif np.allclose(got, spectrum - np.minimum(zlp, spectrum)):
        hint = "above dE2 the ZLP is zero: the whole spectrum is inelastic there."
    check_close("subtract(...)", got, expected, rtol=1e-10, atol=1e-9, hint=hint)


@answers(BAND_GAP, "band_gap_model", "ml4em.eels.band_gap_model")
def check_band_gap_model(band_gap_model, *, A=200.0, E_bg=1.6, b=1.5):
    """``band_gap_model(E, A, E_bg, b)`` is A (E - E_bg)^b above E_bg and 0 below (and 0 at E_bg itself)."""
    check_callable(band_gap_model, "band_gap_model")
    e = np.array([E_bg - 1.1, E_bg - 0.6, E_bg, E_bg + 0.4, E_bg + 1.9])
    label = f"band_gap_model(E, {A!r}, {E_bg!r}, {b!r})"
    got = call_student("band_gap_model", band_gap_model, e, A, E_bg, b)
    try:
        raw = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raw = None
    if raw is not None and raw.shape == e.shape and np.all(np.isnan(raw[:2])) and not np.isnan(raw[2:]).any():
        _fail(f"`{label}` is NaN below the gap.",
              hint="below the gap E - E_bg is negative, and a fractional power of a negative number is NaN: "
                   "clip it at 0 first, np.clip(E - E_bg, 0, None) ** b.")
    got = check_array(label, got)
    check_shape(label, got, e.shape, hint="return one value per energy.")
    expected = A * np.clip(e - E_bg, 0, None) ** b
    hint = "below the gap the model is 0: use np.clip(E - E_bg, 0, None) ** b."
    if np.allclose(got, A * np.abs(e - E_bg) ** b):
        hint = "below the gap the model is 0, not A |E - E_bg|^b: clip E - E_bg at 0 instead of taking |...|."
    elif np.allclose(got, A * np.clip(e - E_bg, 0, None) * b):
        hint = "b is an exponent: (E - E_bg) ** b, not (E - E_bg) * b."
    check_close(label, got, expected, rtol=1e-10, atol=1e-12, hint=hint)


def _reference_fit(e, y, window, inside=None):
    """Least-squares (E_bg, b) of A (E - E_bg)^b on the channels ``inside`` (default: inside the window)."""
    from scipy.optimize import curve_fit

    def model(x, a, g, b):
        return a * np.clip(x - g, 0, None) ** b

    if inside is None:
        inside = (e >= window[0]) & (e <= window[1])
    p0 = (y[inside].max(), window[0] + 0.2, 1.5)
    with np.errstate(all="ignore"):
        (_, gap, b), _ = curve_fit(model, e[inside], y[inside], p0=p0, maxfev=20000, ftol=1e-13, xtol=1e-13,
                                   gtol=1e-13)
    return float(gap), float(b)


def _fit_result(fit_band_gap, e, y, window):
    out = call_student("fit_band_gap", fit_band_gap, e, y, window)
    check_true(isinstance(out, tuple) and len(out) == 2,
               f"`fit_band_gap` should return a tuple (E_bg, b); got {type(out).__name__}.")
    return check_scalar("E_bg", out[0]), check_scalar("b", out[1])


@answers(BAND_GAP, "fit_band_gap", "ml4em.eels.fit_band_gap")
def check_fit_band_gap(fit_band_gap, *, gap=1.7, b=1.4, seed=6):
    """``fit_band_gap(E, inelastic, window)`` returns (E_bg, b) of a least-squares fit within the window."""
    check_callable(fit_band_gap, "fit_band_gap")
    e = np.linspace(0, 4, 401)
    rng = np.random.default_rng(seed)
    truth = 300.0 * np.clip(e - gap, 0, None) ** b
    noisy = truth + 2.0 * rng.standard_normal(e.size)
    got_gap, got_b = _fit_result(fit_band_gap, e, noisy, (gap - 0.6, gap + 1.2))
    want_gap, want_b = _reference_fit(e, noisy, (gap - 0.6, gap + 1.2))
    hint = ("fit band_gap_model to the points inside the window with scipy.optimize.curve_fit and a sensible "
            "starting point, e.g. p0=(inelastic[inside].max(), window[0] + 0.2, 1.5).")
    if np.isclose(got_gap, want_b, atol=1e-3) and np.isclose(got_b, want_gap, atol=1e-3):
        hint = "return (E_bg, b) in this order."
    # noise of 2 counts on a signal of hundreds: the least-squares minimum is within 0.02 eV and 0.05 of the
    # truth; any least-squares fit lands on that minimum to 1e-3
    check_close("E_bg", got_gap, want_gap, atol=1e-3, rtol=0, hint=hint)
    check_close("b", got_b, want_b, atol=1e-3, rtol=0, hint=hint)
    check_close("E_bg (against the true gap)", got_gap, gap, atol=0.02, rtol=0, hint=hint)


@answers(BAND_GAP, "fit_band_gap", "ml4em.eels.fit_band_gap")
def check_fit_window(fit_band_gap, *, gap=1.5, b=1.2, window=(1.6, 2.4), seed=60):
    """Only the channels with window[0] <= E <= window[1] count, both edges included.

    Outside the window the spectrum holds a ZLP residue (below) and a plasmon-like bump (above) that would pull
    the fit; the two edge channels carry a spike each, so leaving an edge out changes the result.
    """
    check_callable(fit_band_gap, "fit_band_gap")
    e = np.round(np.arange(0.0, 5.0001, 0.05), 10)
    rng = np.random.default_rng(seed)
    y = 200.0 * np.clip(e - gap, 0, None) ** b + 2.0 * rng.standard_normal(e.size)
    y += np.where(e < window[0], 500.0 * np.exp(-e / 0.2), 0.0) + np.where(e > window[1], 80.0 * np.exp(
        -0.5 * ((e - 3.0) / 0.4) ** 2), 0.0)
    y[np.isclose(e, window[0])] += 15.0
    y[np.isclose(e, window[1])] -= 15.0
    got = _fit_result(fit_band_gap, e, y, window)
    want = _reference_fit(e, y, window)
    variants = {
        "use only the channels inside the window (condition with &, not |): the features outside pull the fit.":
            np.ones(e.size, dtype=bool),
        "the window includes its upper edge: use energy_loss <= window[1], not <.":
            (e >= window[0]) & (e < window[1]),
        "the window includes its lower edge: use energy_loss >= window[0], not >.":
            (e > window[0]) & (e <= window[1]),
    }
    hint = "fit only the channels with window[0] <= energy_loss <= window[1] (both edges included)."
    for text, inside in variants.items():
        try:
            other = _reference_fit(e, y, window, inside)
        except RuntimeError:
            continue
        if np.allclose(got, other, atol=1e-3) and not np.allclose(other, want, atol=1e-3):
            hint = text
            break
    check_close("(E_bg, b) with features outside the window", got, want, atol=1e-3, rtol=0, hint=hint)


def _profile_cost(e, y, gap, b):
    """Least-squares cost of A (E - gap)^b with the best amplitude A (linear in A, solved exactly)."""
    x = np.clip(e - gap, 0, None) ** b
    xx = float(x @ x)
    return float(y @ y) if xx == 0 else float(y @ y - (x @ y) ** 2 / xx)


def _global_fit(e, y, window):
    """(cost, gap, b) at the global least-squares minimum in the window: a grid in gap, a bounded search in b,
    then a local polish from the best grid point."""
    from scipy.optimize import minimize, minimize_scalar

    best = (np.inf, None, None)
    for gap in np.linspace(window[0] - 0.3, window[1] - 0.2, 241):
        res = minimize_scalar(lambda b: _profile_cost(e, y, gap, b), bounds=(0.2, 4.0), method="bounded",
                              options={"xatol": 1e-6})
        if res.fun < best[0]:
            best = (float(res.fun), float(gap), float(res.x))
    res = minimize(lambda p: _profile_cost(e, y, p[0], p[1]), [best[1], best[2]], method="Nelder-Mead",
                   options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    return (float(res.fun), float(res.x[0]), float(res.x[1])) if res.fun < best[0] else best


@answers(BAND_GAP, "fit_band_gap", "ml4em.eels.fit_band_gap")
def check_fit_start(fit_band_gap, *, gap=1.5, b=1.2, window=(1.2, 2.0), seed=1):
    """The fit reaches the least-squares minimum on a noisy onset whose cost has a second, local minimum.

    Here a start far below the onset (curve_fit's default p0 = (1, 1, 1), or E_bg at or below window[0]) ends in
    the local minimum; the suggested start near the onset does not. The cost of the student's (E_bg, b), with the
    best amplitude, must be within 0.01% of the global minimum (found by a grid search).
    """
    check_callable(fit_band_gap, "fit_band_gap")
    e = np.round(np.arange(0.0, 5.0001, 0.05), 10)
    rng = np.random.default_rng(seed)
    y = 200.0 * np.clip(e - gap, 0, None) ** b + 0.03 * 200.0 * 0.5 ** b * rng.standard_normal(e.size)
    got_gap, got_b = _fit_result(fit_band_gap, e, y, window)
    inside = (e >= window[0]) & (e <= window[1])
    cost, best_gap, best_b = _global_fit(e[inside], y[inside], window)
    mine = _profile_cost(e[inside], y[inside], got_gap, got_b)
    check_true(mine <= cost * (1 + 1e-4) + 1e-9,
               f"your fit (E_bg = {got_gap:.4f} eV, b = {got_b:.3f}) leaves a sum of squared residuals of {mine:.2f}; "
               f"E_bg = {best_gap:.4f} eV, b = {best_b:.3f} gives {cost:.2f}. The fit stopped in a local minimum.",
               hint="the cost has more than one minimum in E_bg: start the fit near the onset, "
                    "p0=(inelastic[inside].max(), window[0] + 0.2, 1.5).")

@answers(BAND_GAP, "interval", "ml4em.eels.band", "ml4em.eels.teaching.interval")
def check_interval(interval, *, seed=7):
    """``interval(samples)`` returns (median, low, high) with the 16th and 84th percentiles."""
    check_callable(interval, "interval")
    samples = np.random.default_rng(seed).normal(1.6, 0.1, 101)
    out = call_student("interval", interval, samples)
    check_true(isinstance(out, tuple) and len(out) == 3,
               f"`interval` should return a tuple (median, low, high); got {type(out).__name__}.")
    expected = np.percentile(samples, [50, 16, 84])
    for name, got, exp in zip(("median", "low", "high"), out, expected):
        got = check_scalar(f"interval(samples) {name}", got)
        check_close(f"interval(samples) {name}", got, exp, rtol=1e-10,
                    hint="np.percentile(samples, [50, 16, 84]) gives the three numbers.")


def _gap_case(seed, n_replicas):
    """A spectrum with a known onset and ZLP replicas whose tails differ (so each replica gives its own gap)."""
    e = np.round(np.arange(-1.0, 4.0001, 0.02), 10)
    rng = np.random.default_rng(seed)
    core = 1e4 * np.exp(-0.5 * (e / 0.12) ** 2)
    tail = 400.0 / (1.0 + (e / 0.5) ** 2)
    spectrum = core + tail + 200.0 * np.clip(e - 1.5, 0, None) ** 1.3 + 0.5 * rng.standard_normal(e.size)
    scale = rng.uniform(0.6, 1.3, (n_replicas, 1))
    scale[0] = 1.8  # this replica's ZLP exceeds the spectrum below the onset: the cap matters
    return e, spectrum, core + scale * tail


def _replica_gaps_reference(e, spectrum, zlp, dE2, window, *, zero_above=True, cap=True):
    model = np.where(e > dE2, 0.0, zlp) if zero_above else zlp
    inelastic = spectrum - (np.minimum(model, spectrum) if cap else model)
    fits = np.array([_reference_fit(e, y, window) for y in inelastic])
    return fits[:, 0], fits[:, 1]


@answers(BAND_GAP, "replica_band_gaps", "ml4em.eels.teaching.replica_band_gaps")
def check_replica_band_gaps(replica_band_gaps, *, n_replicas=5, dE2=3.0, window=(1.2, 3.4), seed=80):
    """``replica_band_gaps(energy_loss, spectrum, zlp, dE2, window)`` returns ``(gaps, exponents)``, one per
    replica: your ``subtract`` of every replica's ZLP, then your ``fit_band_gap`` of each subtracted spectrum.

    The window reaches above dE2 (where the ZLP must be zero) and one replica's ZLP exceeds the spectrum (where
    it must be capped), so both rules change the answer.
    """
    check_callable(replica_band_gaps, "replica_band_gaps")
    e, spectrum, zlp = _gap_case(seed, n_replicas)
    label = "replica_band_gaps(energy_loss, spectrum, zlp, dE2, window)"
    out = call_student("replica_band_gaps", replica_band_gaps, e, spectrum.copy(), zlp.copy(), dE2, window)
    check_true(isinstance(out, tuple) and len(out) == 2,
               f"`replica_band_gaps` should return a tuple (gaps, exponents); got {type(out).__name__}.")
    gaps = check_array(f"{label} gaps", out[0])
    exponents = check_array(f"{label} exponents", out[1])
    for name, got in (("gaps", gaps), ("exponents", exponents)):
        check_shape(f"{label} {name}", got, (n_replicas,),
                    hint="one fit per replica: a 1-D array with one value per row of zlp.")
    want_gaps, want_b = _replica_gaps_reference(e, spectrum, zlp, dE2, window)
    hint = "for every row of zlp: subtract(...) that replica, then fit_band_gap(energy_loss, row, window)."
    if np.allclose(gaps, want_b, atol=1e-3) and np.allclose(exponents, want_gaps, atol=1e-3):
        hint = "return (gaps, exponents) in this order."
    else:
        for text, kwargs in (("above dE2 the ZLP is zero: pass dE2 to your subtract.", dict(zero_above=False)),
                             ("cap each replica's ZLP at the spectrum (your subtract does it).", dict(cap=False))):
            try:
                other, _ = _replica_gaps_reference(e, spectrum, zlp, dE2, window, **kwargs)
            except RuntimeError:
                continue
            if np.allclose(gaps, other, atol=1e-3) and not np.allclose(other, want_gaps, atol=1e-3):
                hint = text
                break
        if np.allclose(gaps, gaps[0], atol=1e-6) and not np.allclose(want_gaps, want_gaps[0], atol=1e-3):
            hint = "every replica got the same gap: fit each replica's own subtracted spectrum."
    # a least-squares fit reaches the minimum to 1e-3 here; the replicas' gaps differ by 0.01 to 0.1 eV
    check_close(f"{label} gaps", gaps, want_gaps, atol=1e-3, rtol=0, hint=hint)
    check_close(f"{label} exponents", exponents, want_b, atol=1e-3, rtol=0, hint=hint)


@answers(BAND_GAP, "window_systematic", "ml4em.eels.explorers.window_explorer", student=())
def check_window_systematic(window_systematic, energy_loss, inelastic, *, low, highs):
    """``window_systematic``: the largest minus the smallest median E_BG over the explorer's window ends ``highs``
    at the window start ``low``, eV; to 0.011 eV (the explorer's titles round each E_BG to 0.01 eV)."""
    from ml4em.eels import fit_band_gap

    value = check_scalar("window_systematic", window_systematic)
    medians = [float(np.median(fit_band_gap(energy_loss, inelastic, window=(low, high)).band_gap)) for high in highs]
    want = max(medians) - min(medians)
    hint = (f"set the window start to {low:g} eV, move the window end through {list(highs)} and take the largest "
            "minus the smallest E_BG in the panel titles.")
    if np.isclose(value, -want, atol=0.011) and want > 0.011:
        hint = "largest minus smallest: the range is a positive number."
    check_close("window_systematic (eV)", value, want, atol=0.011, rtol=0, hint=hint)
