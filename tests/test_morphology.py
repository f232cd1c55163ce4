"""ml4em.morphology: the simulator's truth, segmentation scores by hand, descriptors of known shapes, the BIC
selection against scikit-learn, the class-fraction convergence, the GA tuning, and bad input."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from ml4em import morphology as mo


# -- simulator -------------------------------------------------------------------------------------------------------

def test_simulation_is_seeded_and_its_truth_consistent():
    a, b = mo.simulate_particles(20, image_size=128, seed=3), mo.simulate_particles(20, image_size=128, seed=3)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.image, mo.simulate_particles(20, image_size=128, seed=4).image)
    assert a.labels.max() == a.n_particles == a.classes.size == a.sizes.size == a.touching.size
    assert set(np.unique(a.labels)) == set(range(a.n_particles + 1))  # every particle visible, numbered 1..n
    # particles are dark: the mean counts inside are below the support's (contrast 0.45 of a dose of 200)
    assert a.image[a.labels > 0].mean() < 0.75 * a.image[a.labels == 0].mean()


def test_simulation_fractions_and_contact():
    sim = mo.simulate_particles(60, fractions=(1, 0, 0, 0), contact=0.0, seed=0)
    assert np.all(sim.classes == 0) and not sim.touching.any()
    touching = mo.simulate_particles(40, contact=1.0, seed=0).touching
    assert touching[1:].mean() > 0.5  # most find a partner (some give up after 60 tries)


def test_shape_mask_areas():
    # a disc of diameter 40 covers pi 20^2 = 1257 pixels; digitising changes that by less than 1 %
    np.testing.assert_allclose(mo.shape_mask("sphere", 40).sum(), np.pi * 400, rtol=0.01)
    # a cube of size 40 is a square of side 34 (0.85 x 40): 34^2 = 1156 upright, +- one row and column
    assert abs(int(mo.shape_mask("cube", 40).sum()) - 34**2) <= 2 * 35
    np.testing.assert_allclose(mo.shape_mask("triangle", 40).sum(), np.sqrt(3) / 4 * 52**2, rtol=0.03)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_particles": -1}, "n_particles=-1"), ({"image_size": 16}, "image_size=16"),
    ({"mean_size": 100}, "mean_size=100"), ({"contact": 1.5}, "contact=1.5"), ({"dose": 0}, "dose=0"),
    ({"fractions": (1, 1)}, "fractions="), ({"blur": -1}, "blur=-1")])
def test_simulation_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mo.simulate_particles(**kwargs)


def test_shape_mask_rejects_bad_input():
    with pytest.raises(ValueError, match="kind='star'"):
        mo.shape_mask("star", 10)
    with pytest.raises(ValueError, match="size=1"):
        mo.shape_mask("sphere", 1)
    with pytest.raises(ValueError, match="aspect=0.5"):
        mo.shape_mask("rod", 10, aspect=0.5)


# -- segmentation and its score --------------------------------------------------------------------------------------

def test_iou_and_f1_by_hand():
    t = np.array([[1, 1, 0, 2, 2, 0, 3, 3]])
    p = np.array([[5, 5, 0, 2, 0, 0, 0, 0]])
    np.testing.assert_allclose(mo.iou_matrix(t, p)[:, [1, 4]], [[0, 1], [0.5, 0], [0, 0]])
    assert mo.segmentation_f1(t, p) == pytest.approx(2 * 2 / (3 + 2))   # exactly 0.5 counts
    assert mo.segmentation_f1(t, p, iou_threshold=0.6) == pytest.approx(2 * 1 / 5)
    assert mo.segmentation_f1(t, t) == 1.0
    assert mo.segmentation_f1(np.zeros((2, 2), int), np.zeros((2, 2), int)) == 1.0
    assert mo.segmentation_f1(t, np.zeros_like(t)) == 0.0
    # one region covering two equal particles has IoU 0.5 with each: still only one match
    assert mo.segmentation_f1(np.array([[1, 2]]), np.array([[1, 1]])) == pytest.approx(2 * 1 / 3)


def test_segmentation_of_separate_particles_is_nearly_perfect():
    sim = mo.simulate_particles(15, image_size=160, contact=0.0, seed=2)
    assert mo.segmentation_f1(sim.labels, mo.segment(sim.image)) >= 0.95


def test_segment_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown segmentation parameter"):
        mo.segment(np.ones((16, 16)), {"sigma": 1})
    with pytest.raises(ValueError, match="threshold_scale=5"):
        mo.segment(np.ones((16, 16)), {"threshold_scale": 5})
    with pytest.raises(ValueError, match="2-D array"):
        mo.segment(np.ones(16))
    with pytest.raises(ValueError, match="NaN"):
        mo.segment(np.full((16, 16), np.nan))
    with pytest.raises(ValueError, match="iou_threshold=0.3"):
        mo.segmentation_f1(np.zeros((2, 2), int), np.zeros((2, 2), int), iou_threshold=0.3)
    with pytest.raises(ValueError, match="same shape"):
        mo.iou_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int))
    assert mo.segment(np.ones((16, 16))).max() == 0   # a flat image has no particles


# -- descriptors -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", mo.SHAPES)
@pytest.mark.parametrize("angle", [0.0, 0.4, 1.1, 2.5])
def test_corners_of_known_shapes(kind, angle):
    for size in (16, 24, 40):
        assert mo.count_corners(mo.shape_mask(kind, size, angle=angle)) == mo.N_CORNERS[kind]


def test_descriptor_conventions():
    ids, disc = mo.region_descriptors(mo.shape_mask("sphere", 60, shape=(80, 80)).astype(int))
    area, aspect, solidity, circularity, spread, corners = disc[0]
    np.testing.assert_allclose(aspect, 1.0, atol=0.01)        # the moments of a disc are isotropic
    np.testing.assert_allclose(circularity, 1.0, atol=0.1)   # 4 pi A / P^2 = 1, up to the digitised perimeter
    assert solidity > 0.97 and spread < 0.01 and corners == 0
    _, rod = mo.region_descriptors(mo.shape_mask("rod", 40, aspect=3.0, shape=(80, 80)).astype(int))
    np.testing.assert_allclose(rod[0, 1], 3.0, rtol=0.15)    # the moment ellipse of a stadium is a bit shorter
    _, square = mo.region_descriptors(mo.shape_mask("cube", 60, angle=0.3, shape=(80, 80)).astype(int))
    np.testing.assert_allclose(square[0, 3], np.pi / 4, rtol=0.1)
    _, tri = mo.region_descriptors(mo.shape_mask("triangle", 60, angle=0.3, shape=(90, 90)).astype(int))
    np.testing.assert_allclose(tri[0, 3], np.pi / (3 * np.sqrt(3)), rtol=0.1)


def test_descriptors_reject_bad_input():
    with pytest.raises(ValueError, match="at least 3"):
        mo.count_corners(np.zeros((5, 5), bool))
    with pytest.raises(ValueError, match="min_prominence=0"):
        mo.count_corners(mo.shape_mask("sphere", 10), min_prominence=0)
    with pytest.raises(ValueError, match="integer label image"):
        mo.region_descriptors(np.zeros((4, 4)))


# -- classification --------------------------------------------------------------------------------------------------

def test_select_n_classes_matches_scikit_learn():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(0, 1, (80, 2)), rng.normal(7, 1, (80, 2)), rng.normal((0, 9), 1, (80, 2))]
    best, bic, model = mo.select_n_classes(X, [1, 2, 3, 4, 5], n_init=1, reg_covar=1e-6, seed=3)
    want = [GaussianMixture(k, random_state=3).fit(X).bic(X) for k in range(1, 6)]  # scikit-learn's defaults
    np.testing.assert_allclose(bic, want, rtol=1e-10)   # same seed, same fits
    assert best == 3 and model.n_components == 3
    with pytest.raises(ValueError, match="reg_covar=-1"):
        mo.select_n_classes(X, [1, 2], reg_covar=-1)


def test_the_covariance_floor_keeps_odd_particles_from_a_component_of_their_own():
    # three separated blobs plus two identical outliers: without a floor the outlier pair is a component with a
    # vanishing covariance and the BIC takes it; with reg_covar = 0.01 it does not
    rng = np.random.default_rng(2)
    X = np.r_[rng.normal((0, 0), 1, (60, 2)), rng.normal((8, 0), 1, (60, 2)), rng.normal((0, 8), 1, (60, 2)),
              [[4.0, 4.0], [4.0, 4.0]]]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    assert mo.select_n_classes(X, range(1, 6), reg_covar=1e-6, seed=0)[0] == 4
    assert mo.select_n_classes(X, range(1, 6), seed=0)[0] == 3


def test_match_classes_and_ari():
    mapped, acc = mo.match_classes([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 3, 9])
    assert mapped.tolist() == [0, 0, 1, 1, 1, 2] and acc == pytest.approx(5 / 6)
    assert mo.adjusted_rand([0, 0, 1, 1], [3, 3, 7, 7]) == 1.0
    with pytest.raises(ValueError, match="same length"):
        mo.match_classes([0, 1], [0])


def test_running_fractions_and_n_until_stable():
    f = mo.running_fractions(np.array([1, 1, 0, 2]), 3)
    np.testing.assert_allclose(f[-1], [0.25, 0.5, 0.25])
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    assert mo.n_until_stable(np.array([0, 0, 1, 1]), 2, tolerance=0.5) == 1       # |f - F| = 0.5 is within
    assert mo.n_until_stable(np.array([0, 0, 1, 1]), 2, tolerance=0.4) == 3
    rng = np.random.default_rng(0)
    n = mo.n_until_stable(rng.integers(0, 4, 4000), 4, tolerance=0.02)
    assert 100 < n < 4000   # binomial error 0.02 at n ~ 470 for f = 0.25
    with pytest.raises(ValueError, match="tolerance=2"):
        mo.n_until_stable(np.array([0, 1]), 2, tolerance=2)
    with pytest.raises(ValueError, match="integers in"):
        mo.running_fractions(np.array([0, 5]), 2)


def test_pipeline_finds_the_classes():
    images = [mo.simulate_particles(40, seed=200 + i) for i in range(3)]
    table, truth = mo.measure_particles(images, {"smoothing": 1.0, "threshold_scale": 1.0, "h": 0.5, "min_area": 30})
    ok = truth >= 0
    assert ok.mean() > 0.9
    X = mo.feature_matrix(table[ok])
    _, _, model = mo.select_n_classes(X, [4], seed=0)
    assert mo.adjusted_rand(truth[ok], model.predict(X)) > 0.9


# -- tuning ----------------------------------------------------------------------------------------------------------

def test_tuning_is_seeded_and_beats_a_bad_start():
    images = [mo.simulate_particles(12, image_size=128, seed=s) for s in range(2)]
    a = mo.tune_segmentation(images, n_evaluations=16, population_size=8, seed=5)
    b = mo.tune_segmentation(images, n_evaluations=16, population_size=8, seed=5)
    assert a.best_genome == b.best_genome and np.array_equal(a.fitness, b.fitness)
    bad = {"smoothing": 0.0, "threshold_scale": 0.7, "h": 6.0, "min_area": 200}
    assert a.best_fitness > mo.SegmentationFitness(images)(bad)
    with pytest.raises(ValueError, match="images is empty"):
        mo.SegmentationFitness([])
    with pytest.raises(TypeError, match="score should be a function"):
        mo.SegmentationFitness(images, score=3)


def test_merge_onset():
    found, onset = mo.merge_onset([0.0, 1.0, 3.0, 8.0], n_pairs=4)
    assert found[0] == 8 and found[-1] < 8 and onset in (1.0, 3.0, 8.0)
    assert np.all(np.diff(found) <= 0)   # more blur never separates more pairs here
