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
    p, _ = curve_fit(right_model, e[inside], y[inside], p0=(y.max(), window[0] + 0.2, 1.5), maxfev=20000)
    return p[1], p[2]


def right_order(labels, centres):
    order = np.argsort(centres)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[labels], centres[order]


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
                        (lambda lo, hi, t: float(np.mean((t > lo) & (t < hi))), "edge of the band")]),
    "check_scale_energy": (lambda e, lo, hi: 2 * (e - lo) / (hi - lo) - 1,
                           [(lambda e, lo, hi: (e - lo) / (hi - lo), r"\[0, 1\]")]),
    "check_log_ratio": (lambda t, z: np.log(t / z),
                        [(lambda t, z: np.log10(t / z), "np.log10"), (lambda t, z: np.log(z / t), "total / zlp")]),
    "check_subtract": (lambda e, s, z, d2: s - np.minimum(np.where(e > d2, 0.0, z), s),
                       [(lambda e, s, z, d2: s - z, "np.minimum"),
                        (lambda e, s, z, d2: s - np.minimum(z, s), "above dE2")]),
    "check_band_gap_model": (right_model, [(lambda e, a, g, b: a * np.abs(e - g) ** b, "below the gap")]),
    "check_fit_band_gap": (right_fit, [(lambda e, y, w: (1.0, 1.0), "curve_fit")]),
    "check_interval": (lambda s: tuple(np.percentile(s, [50, 16, 84])),
                       [(lambda s: (np.mean(s), s.min(), s.max()), "np.percentile")]),
    "check_order_by_thickness": (right_order,
                                 [(lambda lab, c: (np.argsort(c)[lab], np.sort(c)), "inverse permutation"),
                                  (lambda lab, c: (lab, c), "sort the centres")]),
    "check_cluster_means": (lambda s, lab, k: np.stack([s[lab == j].mean(0) for j in range(k)]),
                            [(lambda s, lab, k: np.stack([s[lab == j].sum(0) for j in range(k)]), "summed")]),
    "check_scale_zlp": (lambda z, p, r, n: z * p[n].sum() / r[n].sum(),
                        [(lambda z, p, r, n: z * r[n].sum() / p[n].sum(), "upside down")]),
    "check_map_coverage": (lambda lo, hi, t, m: float(np.mean(((t >= lo) & (t <= hi))[m])),
                           [(lambda lo, hi, t, m: float(np.mean((t >= lo) & (t <= hi) & m)), "IN the mask")]),
}


def test_every_check_is_exercised():
    assert set(CASES) == set(checks.__all__)


@pytest.mark.parametrize("name", sorted(CASES))
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
