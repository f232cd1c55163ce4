"""ml4em.checks.spectral (tutorial 09): right answers pass, each typical mistake fails with a message naming it."""

import numpy as np
import pytest

from ml4em import eels
from ml4em.checks import CheckFailure
from ml4em.checks import spectral as checks


def blank(*args, **kwargs):
    raise NotImplementedError()


# -- answers written as a student would ------------------------------------------------------------------------------

def order_right(labels, centres):
    order = np.argsort(centres)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[labels], centres[order]


def scale_right(zlp, pixels, near):
    factor = pixels[:, near].sum(axis=1) / pixels.mean(axis=0)[near].sum()
    return zlp[:, None, :] * factor[None, :, None]


def make_pipeline(scale=scale_right, *, skip_vacuum=True, all_pixels=False, statistic="median", fill=np.nan,
                  clusters_used=None, own_noise=True):
    """A student's pipeline, with one of the typical mistakes switched on."""

    def pipeline(energy_loss, counts, labels, train_zlp, clusters):
        maps = {n: np.full(labels.shape, fill) for n in ("band_gap", "band_gap_low", "band_gap_high", "exponent")}
        todo = clusters_used if clusters_used is not None else clusters
        if not skip_vacuum:
            todo = np.unique(labels)
        for k in todo:
            pixels = labels == k
            spectra = counts[pixels]
            model = train_zlp(counts.reshape(-1, counts.shape[-1]) if all_pixels else spectra)
            mean = spectra.mean(axis=0)
            width = eels.fwhm(energy_loss, mean)
            near = np.abs(energy_loss) <= width / 2
            window = eels.default_window(model.dE1_, width, eels.first_local_minimum(energy_loss, mean))
            inelastic = eels.subtract_zlp(energy_loss, spectra, scale(model.predict(energy_loss), spectra, near),
                                          dE1=model.dE1_, dE2=model.dE2_, peak_fwhm=width)
            sigma = np.sqrt(np.maximum(np.median(inelastic, axis=0), 1.0)) if own_noise else None
            fit = eels.fit_band_gap(energy_loss, inelastic, window=window, sigma=sigma)
            s = fit.summary()
            maps["band_gap"][pixels] = s["band_gap"].median if statistic == "median" else fit.band_gap.mean(axis=0)
            maps["band_gap_low"][pixels] = s["band_gap"].low
            maps["band_gap_high"][pixels] = s["band_gap"].high
            maps["exponent"][pixels] = s["exponent"].median
        return maps

    return pipeline


def coverage_right(low, high, truth, mask):
    mask = np.asarray(mask, dtype=bool)
    return float(np.mean((truth[mask] >= low[mask]) & (truth[mask] <= high[mask])))


@pytest.fixture(scope="module")
def thickness_case():
    """A flake's log-ratio thickness map and its true t/lambda, as in the tutorial (smaller)."""
    from ml4em.datasets import make_spectral_image

    image = make_spectral_image((16, 16), geometry="flake", gap_strength=100.0, seed=0)
    return eels.estimate_thickness(image.energy_loss, image.counts), image.t_over_lambda


# -- right answers pass, blanks say "not answered" -------------------------------------------------------------------

def test_right_answers_pass_every_case():
    checks.check_order_by_thickness(order_right)
    checks.check_order_by_thickness(order_right, seed=11)
    checks.check_order_by_thickness(order_right, seed=12, n_clusters=4, shape=(3, 5))
    checks.check_scale_zlp(scale_right)
    checks.check_scale_zlp(scale_right, seed=31, n_replicas=3, n_pixels=2)
    right = make_pipeline()
    checks.check_cluster_band_gaps(right)
    checks.check_cluster_band_gaps(right, seed=5, clusters=(2, 4), n_replicas=4, dE2=3.1)
    checks.check_cluster_band_gaps(right, seed=7, shuffle=True)
    checks.check_map_coverage(coverage_right)
    checks.check_map_coverage(coverage_right, seed=42, shape=(5, 9), nan_outside=False)


@pytest.mark.parametrize("check", [checks.check_order_by_thickness, checks.check_scale_zlp,
                                   checks.check_cluster_band_gaps, checks.check_map_coverage])
def test_blank_answers_raise_not_implemented(check):
    with pytest.raises(NotImplementedError):
        check(blank)


# -- Exercise 1: the order of the clusters ---------------------------------------------------------------------------

def _argsort_not_inverse(labels, centres):
    order = np.argsort(centres)
    return order[labels], centres[order]


def _in_place(labels, centres):
    order = np.argsort(centres)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels[...] = rank[labels]
    centres.sort()
    return labels, centres


def _fixed_case_only(labels, centres):
    """Ignores its labels: right for the notebook's 2 x 3 case only."""
    return np.array([[1, 2, 0], [0, 1, 2]]), np.sort(centres)


@pytest.mark.parametrize("wrong, kwargs, match", [
    (_argsort_not_inverse, {}, "inverse permutation"),
    (lambda labels, centres: (labels, np.sort(centres)), {}, "labels unchanged"),
    (lambda labels, centres: order_right(labels, centres)[0], {}, "should return a tuple"),
    (lambda labels, centres: (order_right(labels, centres)[0], np.sort(centres)[::-1]), {}, "THINNEST"),
    (_in_place, {}, "changed its arguments"),
    (_fixed_case_only, {"seed": 11}, "shape"),
])
def test_order_mistakes_are_named(wrong, kwargs, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_order_by_thickness(wrong, **kwargs)


def test_order_accepts_the_fixed_answer_only_for_the_fixed_case():
    checks.check_order_by_thickness(_fixed_case_only)  # the visible case alone cannot tell
    with pytest.raises(CheckFailure):
        checks.check_order_by_thickness(_fixed_case_only, seed=12, n_clusters=4, shape=(2, 3))


# -- Think! Exercise 2 -----------------------------------------------------------------------------------------------

def test_best_k_and_thickest_centre_compute_their_truth(thickness_case):
    thickness, truth = thickness_case
    best, scores = checks._best_k(thickness, truth, checks.EXPLORER_KS)
    assert best == np.unique(truth).size == 5 and max(scores) > 0.99
    checks.check_best_k(best, thickness, truth)
    centre = eels.cluster_by_thickness(thickness, best, seed=0)[1][-1]
    checks.check_thickest_centre(round(float(centre), 2), thickness, truth)
    assert round(float(centre), 2) < truth.max()


@pytest.mark.parametrize("value, match", [(4, "look for a larger K"), (6, "look for a smaller K"),
                                          (7, "one of the explorer's values")])
def test_best_k_mistakes_are_named(thickness_case, value, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_best_k(value, *thickness_case)


def test_thickest_centre_mistakes_are_named(thickness_case):
    thickness, truth = thickness_case
    centres = eels.cluster_by_thickness(thickness, 5, seed=0)[1]
    with pytest.raises(CheckFailure, match="TRUE t/lambda"):
        checks.check_thickest_centre(float(truth.max()), thickness, truth)
    with pytest.raises(CheckFailure, match="another cluster"):
        checks.check_thickest_centre(round(float(centres[-2]), 2), thickness, truth)


# -- Exercise 3: the ZLP scaled to every pixel -----------------------------------------------------------------------

@pytest.mark.parametrize("wrong, match", [
    (lambda z, p, n: z[:, None, :] * (p[:, n].sum(1)[None, :] / z[:, n].sum(1)[:, None])[..., None],
     "one factor per PIXEL"),
    (lambda z, p, n: z[:, None, :] / (p[:, n].sum(1) / p.mean(0)[n].sum())[None, :, None], "upside down"),
    (lambda z, p, n: z[:, None, :] * (p[:, n].sum(1) / p.sum(0)[n].sum())[None, :, None], "MEAN spectrum"),
    (lambda z, p, n: z[:, None, :] * (p.sum(1) / p.mean(0).sum())[None, :, None], "channels of the peak"),
    (lambda z, p, n: np.swapaxes(scale_right(z, p, n), 0, 1), "replicas come FIRST"),
])
def test_scale_mistakes_are_named(wrong, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_scale_zlp(wrong)


# -- Exercise 4: the pipeline ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, kwargs, match", [
    (make_pipeline(skip_vacuum=False), {}, "not in `clusters`"),
    (make_pipeline(all_pixels=True), {}, "ITS cluster"),
    (make_pipeline(scale=lambda z, p, n: np.broadcast_to(z[:, None, :], (z.shape[0],) + p.shape)), {},
     "scale every replica"),
    (make_pipeline(statistic="mean"), {}, "MEDIAN"),
    (make_pipeline(own_noise=False), {}, "its own noise"),
    (make_pipeline(fill=0.0), {}, "NaN"),
    (make_pipeline(clusters_used=(1, 2, 3, 4)), {"seed": 5, "clusters": (2, 4)}, "not in `clusters`"),
    (make_pipeline(clusters_used=(1,)), {}, "train_zlp 1 time"),
])
def test_pipeline_mistakes_are_named(wrong, kwargs, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_cluster_band_gaps(wrong, **kwargs)


def test_pipeline_that_assumes_thickness_order_fails_the_shuffled_case():
    def by_thickness(energy_loss, counts, labels, train_zlp, clusters):
        return make_pipeline()(energy_loss, counts, labels, train_zlp, range(1, 5))

    checks.check_cluster_band_gaps(by_thickness)
    with pytest.raises(CheckFailure):
        checks.check_cluster_band_gaps(by_thickness, seed=7, shuffle=True)


def test_reference_pipeline_is_what_image_zlp_does():
    """ml4em's fallback for the student's pipeline gives the maps of ImageZLP.band_gap_maps, with the same models,
    in the pixels where every replica's fit is clean (ImageZLP leaves the others out of the median and band). The
    fallback and ImageZLP weight each pixel's fit by its own noise (ImageZLP's maps then do not depend on the
    chunking)."""
    from ml4em.datasets import make_spectral_image

    image = make_spectral_image((10, 10), geometry="flake", gap_strength=100.0, seed=2)
    e, counts = eels.align_zlp(image.energy_loss, image.counts.astype(float))
    labels, _ = eels.cluster_by_thickness(eels.estimate_thickness(e, counts), 5, seed=0)
    models = {k: checks.FixedZLP(e, counts[labels == k], image.zlp_shape, 4, 3.3) for k in range(1, 5)}
    analysis = eels.ImageZLP(5)
    analysis.energy_loss_, analysis.labels_, analysis.models_ = e, labels, models
    package = analysis.band_gap_maps(counts)
    queue = [models[k] for k in range(1, 5)]
    ours = checks.cluster_band_gaps(eels.align_zlp(e, counts)[0], eels.align_zlp(e, counts)[1], labels,
                                    lambda spectra: queue.pop(0), range(1, 5))
    # ImageZLP leaves out the replicas whose fit ends on a bound; where every fit is clean the two are the same
    clean = np.ones(labels.shape, bool) if getattr(package, "fit_ok", None) is None else package.fit_ok == 1
    assert clean[labels > 0].mean() > 0.5
    for name in ("band_gap", "band_gap_low", "band_gap_high", "exponent"):
        np.testing.assert_allclose(ours[name][clean], getattr(package, name)[clean], rtol=0, atol=1e-9, equal_nan=True)
    assert np.isnan(ours["band_gap"][labels == 0]).all() and np.isfinite(ours["band_gap"][labels > 0]).all()


def test_one_noise_level_for_the_cluster_maps_worse_than_each_pixels_own():
    """Why the pipeline weights each pixel by its own noise: on a synthetic flake the map's median error with one
    noise level for the whole cluster is several times larger."""
    from ml4em.datasets import make_spectral_image

    image = make_spectral_image((10, 10), geometry="flake", gap_strength=100.0, seed=2)
    e, counts = eels.align_zlp(image.energy_loss, image.counts.astype(float))
    labels, _ = eels.cluster_by_thickness(eels.estimate_thickness(e, counts), 5, seed=0)
    train = lambda spectra: checks.FixedZLP(e, spectra, image.zlp_shape, 4, 3.3)  # noqa: E731
    errors = {}
    for own in (True, False):
        maps = checks.cluster_band_gaps(e, counts, labels, train, range(1, 5), own_noise=own)
        errors[own] = float(np.median(np.abs(maps["band_gap"] - image.band_gap)[labels > 0]))
    assert errors[True] < 0.05 and errors[False] > 2 * errors[True], errors


def test_fixed_zlp_refuses_another_axis():
    e = np.linspace(-1, 3, 41)
    model = checks.FixedZLP(e, np.exp(-(e / 0.2) ** 2)[None] * 100 + 1, np.exp(-(e / 0.2) ** 2), 3, 2.5)
    assert model.predict(e).shape == (3, 41)
    with pytest.raises(ValueError, match="energy axis"):
        model.predict(e[:-1])


# -- Exercise 5: coverage of the map ---------------------------------------------------------------------------------

def _strict(low, high, truth, mask):
    mask = np.asarray(mask, dtype=bool)
    return float(np.mean((truth[mask] > low[mask]) & (truth[mask] < high[mask])))


@pytest.mark.parametrize("wrong, kwargs, match", [
    (_strict, {}, "ON an edge"),
    (lambda lo, hi, t, m: float(np.mean((t >= lo) & (t <= hi))), {}, "IN the mask"),
    (lambda lo, hi, t, m: float(np.mean((t >= lo) & (t <= hi))), {"nan_outside": False}, "leave out the pixels"),
    (lambda lo, hi, t, m: 1 - coverage_right(lo, hi, t, m), {}, "OUTSIDE their interval"),
    (lambda lo, hi, t, m: float(np.sum(((t >= lo) & (t <= hi))[m])), {}, "fraction"),
])
def test_coverage_mistakes_are_named(wrong, kwargs, match):
    with np.errstate(invalid="ignore"), pytest.raises(CheckFailure, match=match):
        checks.check_map_coverage(wrong, **kwargs)


def test_package_implementations_are_refused():
    with pytest.raises(CheckFailure, match=r"ml4em\.eels\.(coverage|Band\.contains)"):
        checks.check_map_coverage(lambda lo, hi, t, m: eels.coverage(eels.Band(median=t, low=lo, high=hi), t, m))
    with pytest.raises(CheckFailure, match="ml4em.checks.spectral.cluster_band_gaps"):
        checks.check_cluster_band_gaps(checks.cluster_band_gaps)
