"""ml4em.checks.eels: every check passes a right answer and fails wrong ones with a helpful message."""

import numpy as np
import pytest
from scipy.optimize import curve_fit

from ml4em.checks import CheckFailure
from ml4em.checks import eels as checks


def blank(*args, **kwargs):
    raise NotImplementedError()


def right_band(s):
    return tuple(np.percentile(s, [50, 16, 84], axis=0))


def right_model(e, a, g, b):
    return a * np.clip(e - g, 0, None) ** b


def right_fit(e, y, window):
    inside = (e >= window[0]) & (e <= window[1])
    p, _ = curve_fit(right_model, e[inside], y[inside], p0=(y[inside].max(), window[0] + 0.2, 1.5), maxfev=20000)
    return p[1], p[2]


def right_replica_band(energy, intensity, sigma, grid, n, fit, max_chi2, rng, *, op=np.less_equal, against=None,
                       band_of_all=False, at=None, min_kept=2, message=None):
    """tutorial 07's ensemble loop; the keywords turn it into one of the typical mistakes."""
    replicas = intensity + rng.standard_normal((n, len(intensity))) * sigma
    models = [fit(energy, r, sigma) for r in replicas]
    chi2 = np.array([np.mean(((m(energy) - (r if against == "replica" else intensity)) / sigma) ** 2)
                     for m, r in zip(models, replicas)])
    curves = np.array([m(grid if at is None else at(energy, grid)) for m in models])
    keep = op(chi2, max_chi2)
    if keep.sum() < min_kept:
        raise ValueError(message or f"only {keep.sum()} of {n} replicas have chi2 <= max_chi2={max_chi2}")
    median, low, high = np.percentile(curves if band_of_all else curves[keep], [50, 16, 84], axis=0)
    return median, low, high, keep


def right_subtract(e, s, z, d2, *, zero_above=True, cap=True):
    model = np.where(e > d2, 0.0, z) if zero_above else z
    return s - (np.minimum(model, s) if cap else model)


def right_gaps(e, s, z, d2, w, *, fit=None, **subtract_kwargs):
    fits = [(fit or right_fit)(e, y, w) for y in right_subtract(e, s, z, d2, **subtract_kwargs)]
    return np.array([f[0] for f in fits]), np.array([f[1] for f in fits])


def masked_fit(lower=np.greater_equal, upper=np.less_equal, join=np.logical_and, p0=True):
    def fit(e, y, window):
        inside = join(lower(e, window[0]), upper(e, window[1]))
        start = (y[inside].max(), window[0] + 0.2, 1.5) if p0 else None
        p, _ = curve_fit(right_model, e[inside], y[inside], p0=start, maxfev=20000)
        return p[1], p[2]
    return fit


CASES = {
    "check_make_replicas": (lambda i, s, n, rng: i + rng.standard_normal((n, len(i))) * s,
                            [(lambda i, s, n, rng: i + rng.standard_normal((n, len(i))) * s ** 2, "sigma\\*\\*2"),
                             (lambda i, s, n, rng: (i + rng.standard_normal((n, len(i))) * s).T, "ROW per replica")]),
    "check_chi2_per_point": (lambda p, d, s: np.mean(((p - d) / s) ** 2, axis=-1),
                             [(lambda p, d, s: np.sum(((p - d) / s) ** 2, axis=-1), "total chi2"),
                              (lambda p, d, s: np.mean(((p - d) / s) ** 2), "one chi2 per replica")]),
    "check_zlp_band": (right_band,
                       [(lambda s: (s.mean(0), *np.percentile(s, [16, 84], axis=0)), "MEDIAN"),
                        (lambda s: tuple(np.percentile(s, [50, 16, 84], axis=1)), "over the REPLICAS")]),
    "check_coverage": (lambda lo, hi, t: float(np.mean((t >= lo) & (t <= hi))),
                       [(lambda lo, hi, t: float(np.mean((t < lo) | (t > hi))), "OUTSIDE"),
                        (lambda lo, hi, t: float(np.mean((t > lo) & (t < hi))), "edge of the band"),
                        (lambda lo, hi, t: float(np.mean((t > lo) & (t <= hi))), "LOWER edge"),
                        (lambda lo, hi, t: float(np.mean((t >= lo) & (t < hi))), "UPPER edge"),
                        (lambda lo, hi, t: float(np.sum((t >= lo) & (t <= hi))), "not a count")]),
    "check_scale_energy": (lambda e, lo, hi: 2 * (e - lo) / (hi - lo) - 1,
                           [(lambda e, lo, hi: (e - lo) / (hi - lo), r"\[0, 1\]"),
                            (lambda e, lo, hi: 2 * (e - hi) / (lo - hi) - 1, "other way round"),
                            (lambda e, lo, hi: 2 * e / (hi - lo) - 1, "subtract e_low")]),
    "check_replica_band": (right_replica_band,
                           [(lambda *a: right_replica_band(*a, op=np.less), "use <=, not <"),
                            (lambda *a: right_replica_band(*a, against="replica"), "central data"),
                            (lambda *a: right_replica_band(*a, op=lambda c, m: c >= 0), "kept every replica"),
                            (lambda *a: right_replica_band(*a, band_of_all=True), "KEPT replicas only"),
                            (lambda *a: right_replica_band(*a, at=lambda e, g: e), "on grid"),
                            (lambda e, i, s, g, n, fit, m, rng: right_replica_band(e, i, s, g, n - 1, fit, m, rng),
                             "called fit 15 times")]),
    "check_replica_band_cut": (right_replica_band,
                               [(lambda *a: right_replica_band(*a, min_kept=0), "raise ValueError"),
                                (lambda *a: right_replica_band(*a, min_kept=1), "instead of raising"),
                                (lambda *a: right_replica_band(*a, min_kept=3), "2 replicas are enough"),
                                (lambda *a: right_replica_band(*a, message="too few replicas"), "how many replicas")]),
    "check_log_ratio": (lambda t, z: np.log(t / z),
                        [(lambda t, z: np.log10(t / z), "np.log10"), (lambda t, z: np.log(z / t), "total / zlp")]),
    "check_subtract": (lambda e, s, z, d2: s - np.minimum(np.where(e > d2, 0.0, z), s),
                       [(lambda e, s, z, d2: s - z, "np.minimum"),
                        (lambda e, s, z, d2: s - np.minimum(z, s), "above dE2")]),
    "check_band_gap_model": (right_model, [(lambda e, a, g, b: a * np.abs(e - g) ** b, r"not A \|E - E_bg\|"),
                                           (lambda e, a, g, b: a * (e - g) ** b, "NaN below the gap"),
                                           (lambda e, a, g, b: a * np.clip(e - g, 0, None) * b, "exponent")]),
    "check_fit_band_gap": (right_fit, [(lambda e, y, w: (1.0, 1.0), "curve_fit"),
                                       (lambda e, y, w: right_fit(e, y, w)[::-1], "in this order")]),
    "check_fit_window": (right_fit, [(masked_fit(upper=np.less), "upper edge"),
                                     (masked_fit(lower=np.greater), "lower edge"),
                                     (masked_fit(join=np.logical_or), "inside the window")]),
    "check_fit_start": (right_fit, [(masked_fit(p0=False), "local minimum")]),
    "check_replica_band_gaps": (right_gaps,
                                [(lambda *a: right_gaps(*a, zero_above=False), "above dE2"),
                                 (lambda *a: right_gaps(*a, cap=False), "cap each replica"),
                                 (lambda *a: right_gaps(*a)[::-1], "in this order"),
                                 (lambda e, s, z, d2, w: tuple(np.repeat(v[:1], len(z)) for v in right_gaps(e, s, z, d2, w)),
                                  "same gap")]),
    "check_interval": (lambda s: tuple(np.percentile(s, [50, 16, 84])),
                       [(lambda s: (np.mean(s), s.min(), s.max()), "np.percentile")]),
}


VALUE_CHECKS = {"check_extrapolation_factor", "check_window_systematic"}  # answers are numbers: tested below


def test_every_check_is_exercised():
    assert set(CASES) | VALUE_CHECKS == set(checks.__all__)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.filterwarnings("ignore:invalid value encountered in power:RuntimeWarning")  # the NaN-below-the-gap answer
def test_check_accepts_right_and_rejects_wrong(name):
    check = getattr(checks, name)
    right, wrongs = CASES[name]
    check(right)
    with pytest.raises(NotImplementedError):  # a blank exercise fails its test cell
        check(blank)
    with pytest.raises(CheckFailure, match="should be a function"):
        check(3)
    for wrong, message in wrongs:
        with pytest.raises(CheckFailure, match=message):
            check(wrong)


# -- other cases than the default ones: an ignored argument is caught there ---------------------------------------

@pytest.mark.parametrize("kwargs", [dict(e_low=-2.0, e_high=0.98), dict(e_low=0.5, e_high=3.0)])
def test_scale_energy_with_other_ends(kwargs):
    checks.check_scale_energy(CASES["check_scale_energy"][0], **kwargs)
    with pytest.raises(CheckFailure, match="sends e_low to -1"):  # e_low ignored: the notebook's -4 eV kept
        checks.check_scale_energy(lambda e, lo, hi: 2 * (e + 4.0) / (hi + 4.0) - 1, **kwargs)


def test_band_gap_model_with_another_exponent():
    checks.check_band_gap_model(right_model, A=50.0, E_bg=0.9, b=0.5)
    with pytest.raises(CheckFailure, match="clip"):  # b ignored: always 1.5
        checks.check_band_gap_model(lambda e, a, g, b: a * np.clip(e - g, 0, None) ** 1.5, A=50.0, E_bg=0.9, b=0.5)


def test_replica_band_boundary_cases_exist():
    """The exact-chi2 stand-in really puts replicas on the cut (chi2 == max_chi2) and beyond it."""
    for seed, n_replicas, n_points, max_chi2 in [(0, 16, 9, 1.0), (71, 20, 9, 1.0), (72, 16, 12, 4.0)]:
        e, i, s, g = checks._exact_case(n_points, seed)
        _, chi2, _ = checks._replica_band_expected(e, i, s, g, n_replicas, checks._shift_fitter(e, i), max_chi2, seed)
        assert np.any(chi2 == max_chi2) and np.sum(chi2 <= max_chi2) >= 2
        checks.check_replica_band(right_replica_band, n_replicas=n_replicas, n_points=n_points, max_chi2=max_chi2,
                                  seed=seed)


def test_fit_window_edges_matter():
    """In the window case, leaving out either edge channel or using every channel moves the fit by > 1e-3."""
    for kwargs in [{}, dict(seed=61), dict(gap=1.4, b=1.6, window=(1.45, 2.2), seed=62)]:
        checks.check_fit_window(right_fit, **kwargs)
        for wrong in (masked_fit(upper=np.less), masked_fit(lower=np.greater), masked_fit(join=np.logical_or)):
            with pytest.raises(CheckFailure):
                checks.check_fit_window(wrong, **kwargs)


@pytest.mark.parametrize("kwargs", [dict(seed=81), dict(dE2=2.8, window=(1.1, 3.3), seed=82)])
def test_replica_band_gaps_other_cases(kwargs):
    checks.check_replica_band_gaps(right_gaps, **kwargs)
    with pytest.raises(CheckFailure, match="above dE2"):
        checks.check_replica_band_gaps(lambda *a: right_gaps(*a, zero_above=False), **kwargs)


def test_package_fallbacks_pass_their_checks():
    """The course's versions in ml4em.eels.teaching give what the exercises ask (checked without the refusal)."""
    from ml4em.eels import teaching

    checks.check_replica_band.__wrapped__(teaching.replica_band)
    checks.check_replica_band_cut.__wrapped__(teaching.replica_band)
    checks.check_replica_band_gaps.__wrapped__(teaching.replica_band_gaps)
    checks.check_interval.__wrapped__(teaching.interval)
    checks.check_coverage.__wrapped__(teaching.fraction_inside)
    checks.check_log_ratio.__wrapped__(teaching.log_ratio)


class _FakeEnsemble:
    """Stands in for a conditioned ZLPEnsemble: a band whose relative width is 0.01 * (1 + |t - 2.5|**2)."""

    def band(self, energy_loss, conditions):
        from ml4em.eels import Band

        t = float(conditions[0])
        median = np.exp(-np.asarray(energy_loss) ** 2)
        half = 0.005 * (1 + abs(t - 2.5) ** 2) * median
        return Band(median=median, low=median - half, high=median + half)


def test_check_extrapolation_factor():
    e = np.linspace(-1, 1.5, 101)
    want = (1 + 5.5 ** 2) / (1 + 1.5 ** 2)
    checks.check_extrapolation_factor(want, _FakeEnsemble(), e)
    checks.check_extrapolation_factor(want * 1.05, _FakeEnsemble(), e)  # within the 10% of reading a log axis
    with pytest.raises(CheckFailure, match="inverse"):
        checks.check_extrapolation_factor(1 / want, _FakeEnsemble(), e)
    with pytest.raises(CheckFailure, match="divide the relative width"):
        checks.check_extrapolation_factor(want * 1.3, _FakeEnsemble(), e)


def test_check_window_systematic():
    from ml4em.eels import fit_band_gap

    e = np.round(np.arange(0.0, 5.0, 0.025), 10)
    rng = np.random.default_rng(0)
    onset = 300.0 * np.clip(e - 1.7, 0, None) ** 1.2 * np.exp(-np.clip(e - 3.0, 0, None))  # rolls off above 3 eV
    inelastic = onset + 3.0 * rng.standard_normal((6, e.size))
    highs = [2.5, 3.0, 3.7, 4.5]
    medians = [np.median(fit_band_gap(e, inelastic, window=(1.1, h)).band_gap) for h in highs]
    want = max(medians) - min(medians)
    assert want > 0.03  # the case must make the window end matter
    checks.check_window_systematic(want, e, inelastic, low=1.1, highs=highs)
    checks.check_window_systematic(round(want, 2), e, inelastic, low=1.1, highs=highs)
    with pytest.raises(CheckFailure, match="positive"):
        checks.check_window_systematic(-want, e, inelastic, low=1.1, highs=highs)
    with pytest.raises(CheckFailure, match="largest"):
        checks.check_window_systematic(want + 0.05, e, inelastic, low=1.1, highs=highs)
