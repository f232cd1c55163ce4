"""Checks for the EELS tutorials: 07_eels_replicas, 08_band_gap and 09_spectral_image.

Each check calls the student's function on a case with a known answer and
explains what is wrong. Reference answers come from :mod:`ml4em.eels` and
numpy. Each check refuses the package's own implementation of its exercise
(see :mod:`ml4em.checks._own`).
"""

import numpy as np

from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._own import answers

REPLICAS, BAND_GAP, IMAGE = "07_eels_replicas", "08_band_gap", "09_spectral_image"

__all__ = [
    # 07_eels_replicas
    "check_make_replicas", "check_chi2_per_point", "check_zlp_band", "check_coverage", "check_scale_energy",
    # 08_band_gap
    "check_log_ratio", "check_subtract", "check_band_gap_model", "check_fit_band_gap", "check_interval",
    # 09_spectral_image
    "check_order_by_thickness", "check_cluster_means", "check_scale_zlp", "check_map_coverage",
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


@answers(REPLICAS, "coverage", "ml4em.eels.coverage", "ml4em.eels.Band.contains")
def check_coverage(coverage, *, seed=3):
    """``coverage(low, high, truth)`` is the fraction of points with low <= truth <= high."""
    check_callable(coverage, "coverage")
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal(50)
    low, high = -np.ones(50), np.ones(50)
    high[:3] = truth[:3]  # boundaries count as inside
    got = check_scalar("coverage(low, high, truth)", call_student("coverage", coverage, low, high, truth))
    expected = float(np.mean((truth >= low) & (truth <= high)))
    hint = None
    if np.isclose(got, 1 - expected):
        hint = "you counted the points OUTSIDE the band."
    elif np.isclose(got, expected * 50):
        hint = "return a fraction between 0 and 1, not a count."
    elif np.isclose(got, float(np.mean((truth > low) & (truth < high)))):
        hint = "a point on the edge of the band is inside: use <= and >=."
    check_close("coverage(low, high, truth)", got, expected, rtol=1e-12, hint=hint)


@answers(REPLICAS, "scale_energy", "ml4em.eels.ZLPEnsemble._scale_inputs")
def check_scale_energy(scale_energy):
    """``scale_energy(energy_loss, e_low, e_high)`` maps [e_low, e_high] linearly onto [-1, 1]."""
    check_callable(scale_energy, "scale_energy")
    e = np.array([-4.0, -1.0, 0.0, 1.8, 3.0])
    got = check_array("scale_energy(energy_loss, -4.0, 1.8)", call_student("scale_energy", scale_energy, e, -4.0, 1.8))
    check_shape("scale_energy(energy_loss, -4.0, 1.8)", got, e.shape)
    expected = 2 * (e + 4.0) / 5.8 - 1
    hint = "x = 2 (E - e_low) / (e_high - e_low) - 1 sends e_low to -1 and e_high to +1."
    if np.allclose(got, (e + 4.0) / 5.8):
        hint = "that maps onto [0, 1]; stretch it to [-1, 1]: 2 * (...) - 1."
    check_close("scale_energy(energy_loss, -4.0, 1.8)", got, expected, rtol=1e-12, hint=hint)


# ----------------------------------------------------------------------------------------------- 08_band_gap
@answers(BAND_GAP, "log_ratio", "ml4em.eels.t_over_lambda", "ml4em.datasets.log_ratio_thickness")
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
def check_band_gap_model(band_gap_model):
    """``band_gap_model(E, A, E_bg, b)`` is A (E - E_bg)^b above E_bg and 0 below."""
    check_callable(band_gap_model, "band_gap_model")
    e = np.array([0.5, 1.0, 1.6, 2.0, 3.5])
    got = check_array("band_gap_model(E, 200, 1.6, 1.5)", call_student("band_gap_model", band_gap_model,
                                                                       e, 200.0, 1.6, 1.5))
    check_shape("band_gap_model(E, 200, 1.6, 1.5)", got, e.shape)
    expected = 200.0 * np.clip(e - 1.6, 0, None) ** 1.5
    hint = "below the gap the model is 0: use np.clip(E - E_bg, 0, None) ** b."
    check_close("band_gap_model(E, 200, 1.6, 1.5)", got, expected, rtol=1e-10, atol=1e-12, hint=hint)


@answers(BAND_GAP, "fit_band_gap", "ml4em.eels.fit_band_gap")
def check_fit_band_gap(fit_band_gap, *, gap=1.7, b=1.4, seed=6):
    """``fit_band_gap(E, inelastic, window)`` returns (E_bg, b) of a least-squares fit within the window."""
    check_callable(fit_band_gap, "fit_band_gap")
    e = np.linspace(0, 4, 401)
    rng = np.random.default_rng(seed)
    truth = 300.0 * np.clip(e - gap, 0, None) ** b
    noisy = truth + 2.0 * rng.standard_normal(e.size)
    out = call_student("fit_band_gap", fit_band_gap, e, noisy, (gap - 0.6, gap + 1.2))
    check_true(isinstance(out, tuple) and len(out) == 2,
               f"`fit_band_gap` should return a tuple (E_bg, b); got {type(out).__name__}.")
    got_gap = check_scalar("E_bg", out[0])
    got_b = check_scalar("b", out[1])
    hint = ("fit band_gap_model to the points inside the window with scipy.optimize.curve_fit and a sensible "
            "starting point, e.g. p0=(inelastic.max(), window[0] + 0.2, 1.5).")
    # noise of 2 counts on a signal of hundreds: the fit lands within 0.02 eV and 0.05 in b
    check_close("E_bg", got_gap, gap, atol=0.02, rtol=0, hint=hint)
    check_close("b", got_b, b, atol=0.05, rtol=0, hint=hint)


@answers(BAND_GAP, "interval", "ml4em.eels.band")
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


# ------------------------------------------------------------------------------------------ 09_spectral_image
@answers(IMAGE, "order_by_thickness", "ml4em.eels.cluster_by_thickness")
def check_order_by_thickness(order_by_thickness):
    """``order_by_thickness(labels, centres)`` renumbers clusters so that 0 is the thinnest; returns (labels, centres)."""
    check_callable(order_by_thickness, "order_by_thickness")
    labels = np.array([[2, 0, 1], [1, 2, 0]])
    centres = np.array([0.9, 0.01, 0.4])
    out = call_student("order_by_thickness", order_by_thickness, labels.copy(), centres.copy())
    check_true(isinstance(out, tuple) and len(out) == 2,
               f"`order_by_thickness` should return a tuple (labels, centres); got {type(out).__name__}.")
    new_labels = check_array("new labels", out[0])
    new_centres = check_array("new centres", out[1])
    check_shape("new labels", new_labels, labels.shape)
    check_close("new centres", new_centres, [0.01, 0.4, 0.9], rtol=1e-12,
                hint="sort the centres from thin to thick (np.sort or centres[np.argsort(centres)]).")
    hint = ("cluster k should become rank[k], its position among the sorted centres: rank = np.empty_like(order); "
            "rank[order] = np.arange(len(order)) with order = np.argsort(centres).")
    if np.array_equal(new_labels, np.argsort(centres)[labels]):
        hint = "np.argsort(centres) gives, for each NEW number, the OLD cluster; you need the inverse permutation."
    check_close("new labels", new_labels, [[1, 2, 0], [0, 1, 2]], rtol=0, hint=hint)


@answers(IMAGE, "cluster_means", "ml4em.clustering.update_centres")
def check_cluster_means(cluster_means, *, seed=8):
    """``cluster_means(spectra, labels, n_clusters)`` returns the (n_clusters, n_channels) mean spectrum per cluster."""
    check_callable(cluster_means, "cluster_means")
    rng = np.random.default_rng(seed)
    spectra = rng.uniform(0, 10, (12, 5))
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 0, 1, 2, 2, 2])
    got = check_array("cluster_means(spectra, labels, 3)", call_student("cluster_means", cluster_means,
                                                                        spectra, labels, 3), ndim=2)
    check_shape("cluster_means(spectra, labels, 3)", got, (3, 5),
                hint="one row per cluster, one column per energy channel.")
    expected = np.stack([spectra[labels == k].mean(axis=0) for k in range(3)])
    hint = "average the spectra whose label is k: spectra[labels == k].mean(axis=0)."
    if np.allclose(got, np.stack([spectra[labels == k].sum(axis=0) for k in range(3)])):
        hint = "you summed the spectra; divide by the number of pixels in the cluster."
    check_close("cluster_means(spectra, labels, 3)", got, expected, rtol=1e-12, hint=hint)


@answers(IMAGE, "scale_zlp", "ml4em.eels.ImageZLP.band_gap_maps")
def check_scale_zlp(scale_zlp, *, seed=9):
    """``scale_zlp(zlp, pixel, reference, near)``: zlp times pixel[near].sum() / reference[near].sum()."""
    check_callable(scale_zlp, "scale_zlp")
    e = np.linspace(-1, 3, 81)
    rng = np.random.default_rng(seed)
    reference = 1000 * np.exp(-(e / 0.2) ** 2) + 5
    pixel = 0.7 * reference + rng.normal(0, 1, e.size)
    zlp = reference[None] * rng.uniform(0.9, 1.1, (4, 1))
    near = np.abs(e) <= 0.2
    got = check_array("scale_zlp(zlp, pixel, reference, near)", call_student("scale_zlp", scale_zlp,
                                                                             zlp, pixel, reference, near))
    check_shape("scale_zlp(zlp, pixel, reference, near)", got, zlp.shape,
                hint="return every replica's ZLP, scaled: same shape as zlp.")
    ratio = pixel[near].sum() / reference[near].sum()
    hint = "the factor is pixel[near].sum() / reference[near].sum(), one number for all replicas."
    if np.allclose(got, zlp / ratio):
        hint = "your factor is upside down: the pixel's counts go in the numerator."
    check_close("scale_zlp(...)", got, zlp * ratio, rtol=1e-10, hint=hint)


@answers(IMAGE, "map_coverage", "ml4em.eels.coverage", "ml4em.eels.Band.contains")
def check_map_coverage(map_coverage, *, seed=10):
    """``map_coverage(low, high, truth, mask)``: fraction of pixels in ``mask`` with low <= truth <= high."""
    check_callable(map_coverage, "map_coverage")
    rng = np.random.default_rng(seed)
    truth = rng.normal(1.6, 0.2, (6, 7))
    low, high = truth - rng.uniform(-0.1, 0.3, truth.shape), truth + rng.uniform(-0.1, 0.3, truth.shape)
    mask = rng.random(truth.shape) > 0.3
    low_nan = np.where(mask, low, np.nan)
    high_nan = np.where(mask, high, np.nan)
    got = check_scalar("map_coverage(low, high, truth, mask)", call_student("map_coverage", map_coverage,
                                                                            low_nan, high_nan, truth, mask))
    inside = (truth >= low) & (truth <= high)
    expected = float(np.mean(inside[mask]))
    hint = None
    if np.isclose(got, float(np.mean(inside & mask))):
        hint = "average over the pixels IN the mask only (index with [mask]), not over the whole image."
    check_close("map_coverage(low, high, truth, mask)", got, expected, rtol=1e-12, hint=hint)
