"""ml4em.clustering against scikit-learn's Lloyd K-means, hand-computed cases and bad input."""

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SKLearnKMeans
from sklearn.datasets import make_blobs

from ml4em import clustering as cl
from ml4em.checks import CheckFailure
from ml4em.checks import clustering as checks


@pytest.fixture
def blobs():
    X, _ = make_blobs(600, n_features=5, centers=4, cluster_std=2.5, random_state=0)
    return X


def _init(X, k, seed):
    return X[np.random.default_rng(seed).choice(len(X), k, replace=False)]


# -- the steps ----------------------------------------------------------------------------------------------------

def test_assign_clusters_by_hand():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 4.0], [2.0, 0.0]])
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [2.1, 0.0]])
    np.testing.assert_array_equal(cl.assign_clusters(X, centres), [0, 0, 1, 2])


def test_assign_clusters_matches_brute_force(blobs):
    centres = _init(blobs, 6, 1)
    brute = np.argmin(((blobs[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(cl.assign_clusters(blobs, centres), brute)


def test_update_centres_and_empty_cluster():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]])
    np.testing.assert_allclose(cl.update_centres(X, np.array([0, 0, 1]), 2), [[1.0, 0.0], [10.0, 10.0]])
    prev = np.array([[0.0, 0.0], [5.0, 5.0], [7.0, 7.0]])
    got = cl.update_centres(X, np.array([0, 0, 1]), 3, previous=prev)
    np.testing.assert_allclose(got, [[1.0, 0.0], [10.0, 10.0], [7.0, 7.0]])  # the empty cluster stays put
    with pytest.raises(ValueError, match=r"cluster\(s\) \[2\] have no sample"):
        cl.update_centres(X, np.array([0, 0, 1]), 3)
    with pytest.raises(ValueError, match=r"previous has 2 centres but n_clusters=3"):
        cl.update_centres(X, np.array([0, 0, 1]), 3, previous=prev[:2])
    with pytest.raises(ValueError, match=r"n_clusters=0 should be a positive integer"):
        cl.update_centres(X, np.array([0, 0, 0]), 0)


def test_kmeans_cost_by_hand():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]])
    # (1^2 + 1^2) + 0 for the centres (1, 0) and (10, 10)
    assert cl.kmeans_cost(X, np.array([[1.0, 0.0], [10.0, 10.0]]), np.array([0, 0, 1])) == 2.0


def test_kmeans_cost_float32_is_float64_accurate():
    rng = np.random.default_rng(0)
    X = (1000 + rng.standard_normal((200_000, 8))).astype(np.float32)
    c = X.astype(np.float64).mean(axis=0, keepdims=True)
    exact = float(((X.astype(np.float64) - c.astype(np.float32).astype(np.float64)) ** 2).sum())
    got = cl.kmeans_cost(X, c, np.zeros(len(X), dtype=int))
    # 1e-8: per-sample squared distances carry float32 rounding (~1e-7, either sign); the 200,000 of them are
    # summed in float64. A float32 running sum of the same numbers is off by far more:
    assert abs(got - exact) / exact < 1e-8
    d = X - c.astype(np.float32)
    running = np.cumsum(np.einsum("ij,ij->i", d, d), dtype=np.float32)[-1]
    assert abs(running - exact) / exact > 1e-6


def test_kmeans_plusplus_picks_one_centre_per_far_group():
    X, truth = checks.blobs(30, ((0, 0), (50, 0), (0, 50), (50, 50), (25, 25)), spread=0.2, seed=0)
    for seed in range(10):
        c = cl.kmeans_plusplus(X, 5, seed=seed)
        groups = {int(truth[np.argmin(((X - ci) ** 2).sum(1))]) for ci in c}
        assert groups == {0, 1, 2, 3, 4}
        assert all((np.abs(X - ci).max(axis=1) == 0).any() for ci in c)  # centres are samples
    np.testing.assert_array_equal(cl.kmeans_plusplus(X, 5, seed=3), cl.kmeans_plusplus(X, 5, seed=3))


def test_kmeans_plusplus_duplicates():
    X = np.ones((5, 2))
    c = cl.kmeans_plusplus(X, 3, seed=0)  # every D^2 is zero: falls back to uniform picks
    np.testing.assert_array_equal(c, np.ones((3, 2)))


# -- the estimator against scikit-learn ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_matches_sklearn_lloyd_from_the_same_centres(blobs, dtype, seed, tol):
    X = blobs.astype(dtype)
    init = _init(X, 4, seed)
    ours = cl.KMeans(4, init=init, tol=tol).fit(X)
    theirs = SKLearnKMeans(4, init=init, n_init=1, tol=tol, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.cluster_centers_.dtype == dtype
    if dtype == np.float64:
        # same arithmetic in float64: agreement to rounding
        assert abs(ours.inertia_ - theirs.inertia_) / theirs.inertia_ < 1e-12
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-10, atol=1e-10)
    else:
        # scikit-learn sums centres and inertia in float32; ours in float64. Compare the inertia of both
        # clusterings evaluated the same way, then scikit-learn's own figure (float32-summed: ~1e-7 off here)
        exact = cl.kmeans_cost(X, theirs.cluster_centers_, theirs.labels_)
        assert abs(ours.inertia_ - exact) / exact < 1e-6
        assert abs(ours.inertia_ - theirs.inertia_) / theirs.inertia_ < 1e-6
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_threads_and_chunks_do_not_change_the_result(monkeypatch, blobs, n_threads):
    monkeypatch.setattr(cl.steps, "_CHUNK_BYTES", 8 * 5 * 37)  # 37 rows a chunk: many chunks, a ragged last one
    init = _init(blobs, 5, 3)
    ours = cl.KMeans(5, init=init, n_threads=n_threads).fit(blobs)
    theirs = SKLearnKMeans(5, init=init, n_init=1, algorithm="lloyd").fit(blobs)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert abs(ours.inertia_ - theirs.inertia_) / theirs.inertia_ < 1e-12


def test_predict_and_fit_predict(blobs):
    km = cl.KMeans(4, seed=0).fit(blobs)
    np.testing.assert_array_equal(km.predict(blobs), km.labels_)
    np.testing.assert_array_equal(cl.KMeans(4, seed=0).fit_predict(blobs), km.labels_)
    assert km.labels_.dtype == np.int32 and km.n_features_in_ == 5
    assert km.inertia_ == pytest.approx(cl.kmeans_cost(blobs, km.cluster_centers_, km.labels_), rel=1e-12)


def test_kmeans_plusplus_init_and_n_init():
    blobs, _ = make_blobs(600, n_features=5, centers=4, cluster_std=1.0, random_state=0)
    one = cl.KMeans(4, n_init=1, seed=0).fit(blobs)
    again = cl.KMeans(4, n_init=1, seed=0).fit(blobs)
    np.testing.assert_array_equal(one.labels_, again.labels_)  # seeded
    best = cl.KMeans(4, n_init=5, seed=0).fit(blobs)
    assert best.inertia_ <= one.inertia_ + 1e-9  # the first of the five runs is the single run
    rand = cl.KMeans(4, init="random", n_init=5, seed=0).fit(blobs)
    # scikit-learn's best of 10 k-means++ runs finds the same minimum on these well-separated blobs
    ref = SKLearnKMeans(4, n_init=10, random_state=0).fit(blobs).inertia_
    assert best.inertia_ == pytest.approx(ref, rel=1e-9) and rand.inertia_ == pytest.approx(ref, rel=1e-9)


def test_empty_cluster_is_relocated_to_the_farthest_sample():
    X = np.array([[0.0], [1.0], [2.0], [20.0]])
    init = np.array([[0.0], [1.0], [100.0]])  # the third centre gets no sample at first
    ours = cl.KMeans(3, init=init).fit(X)
    theirs = SKLearnKMeans(3, init=init, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    # first E-step: 0 -> centre 0; 1, 2 and 20 -> centre 1; the empty third centre takes 20, the farthest
    np.testing.assert_allclose(np.sort(ours.cluster_centers_.ravel()), [0.0, 1.5, 20.0])


def test_duplicate_points_warn():
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    with pytest.warns(UserWarning, match=r"found 2 distinct clusters, fewer than n_clusters=3"):
        cl.KMeans(3, seed=0).fit(X)


def test_integer_and_list_input():
    X = [[0, 0], [0, 1], [10, 10], [10, 11]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = cl.KMeans(2, seed=0).fit(X)
    assert km.cluster_centers_.dtype == np.float64
    assert len(set(km.labels_[:2])) == 1 and len(set(km.labels_[2:])) == 1 and km.labels_[0] != km.labels_[2]


@pytest.mark.parametrize("X, kwargs, error, match", [
    (np.zeros(5), {}, ValueError, r"should be 2-D .* Use X.reshape\(-1, 1\)"),
    (np.zeros((0, 3)), {}, ValueError, r"X is empty"),
    (np.array([[1.0, np.nan], [0.0, 0.0]]), {"n_clusters": 1}, ValueError, r"NaN or infinity \(first in row 0\)"),
    (np.array([[0.0, 0.0], [1.0, np.inf]]), {"n_clusters": 1}, ValueError, r"first in row 1"),
    (np.array([["a", "b"]]), {"n_clusters": 1}, TypeError, r"array of real numbers"),
    (np.zeros((3, 2)), {"n_clusters": 4}, ValueError, r"n_samples=3 should be >= n_clusters=4"),
    (np.zeros((3, 2)), {"n_clusters": 0}, ValueError, r"n_clusters=0 should be a positive integer"),
    (np.zeros((3, 2)), {"n_clusters": 2.5}, ValueError, r"n_clusters=2.5"),
    (np.zeros((3, 2)), {"n_clusters": 2, "max_iter": 0}, ValueError, r"max_iter=0 should be a positive integer"),
    (np.zeros((3, 2)), {"n_clusters": 2, "n_init": 0}, ValueError, r"n_init=0"),
    (np.zeros((3, 2)), {"n_clusters": 2, "tol": -1.0}, ValueError, r"tol=-1.0 should be a number >= 0"),
    (np.zeros((3, 2)), {"n_clusters": 2, "init": "farthest"}, ValueError, r"init='farthest' is not known"),
    (np.zeros((3, 2)), {"n_clusters": 2, "init": np.zeros((3, 2))}, ValueError, r"init has 3 centres"),
    (np.zeros((3, 2)), {"n_clusters": 2, "init": np.zeros((2, 3))}, ValueError, r"init should have shape"),
    (np.zeros((3, 2)), {"n_clusters": 2, "init": np.zeros((2, 2)), "n_init": 2}, ValueError, r"n_init=2 should"),
    (np.zeros((3, 2)), {"n_clusters": 2, "n_threads": 0}, ValueError, r"n_threads=0"),
])
def test_fit_bad_input(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        cl.KMeans(**kwargs).fit(X)


def test_sparse_input_is_refused():
    import scipy.sparse

    with pytest.raises(TypeError, match=r"sparse matrix; pass a dense array"):
        cl.KMeans(1).fit(scipy.sparse.csr_matrix(np.eye(3)))


def test_predict_errors(blobs):
    with pytest.raises(RuntimeError, match=r"not fitted yet"):
        cl.KMeans(2).predict(blobs)
    km = cl.KMeans(2, seed=0).fit(blobs)
    with pytest.raises(ValueError, match=r"X has 3 features but this KMeans was fitted with 5"):
        km.predict(blobs[:, :3])
    bad = blobs.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"first in row 7"):
        km.predict(bad)


@pytest.mark.parametrize("call, match", [
    (lambda: cl.assign_clusters(np.zeros((3, 2)), np.zeros((2, 3))), r"centres should have shape \(n_clusters, 2\)"),
    (lambda: cl.assign_clusters(np.zeros((3, 2)), np.full((1, 2), np.nan)), r"centres contains NaN"),
    (lambda: cl.kmeans_cost(np.zeros((3, 2)), np.zeros((2, 2)), np.array([0, 1])), r"labels should be integers"),
    (lambda: cl.kmeans_cost(np.zeros((3, 2)), np.zeros((2, 2)), np.array([0, 1, 2])), r"should lie in 0..1"),
    (lambda: cl.kmeans_plusplus(np.zeros((3, 2)), 5), r"n_samples=3 should be >= n_clusters=5"),
    (lambda: cl.make_potatoes(2), r"n_samples=2 should be an integer >= 3"),
])
def test_helpers_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- data and figures ----------------------------------------------------------------------------------------------

def test_potatoes_are_three_findable_varieties():
    X, variety = cl.make_potatoes(300, seed=0)
    assert X.shape == (300, 3) and np.bincount(variety).tolist() == [100, 100, 100]
    assert np.all(X[:, 2] >= 0) and np.all(X[:, 2] <= 1)
    Z = (X - X.mean(0)) / X.std(0)  # standardised, K-means finds the varieties
    labels = cl.KMeans(3, n_init=5, seed=0).fit_predict(Z)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(variety, labels) > 0.9


def test_plot_kmeans_steps_and_thickness_clusters():
    import matplotlib.pyplot as plt

    from ml4em.datasets import make_spectral_image

    X, _ = checks.blobs(seed=0)
    fig, ax = plt.subplots()
    cl.plot_kmeans_steps(ax, X, n_clusters=3, step=2, labels=("x (cm)", "y (cm)"))
    assert ax.get_xlabel() == "x (cm)" and ax.get_title().startswith("step 2")
    with pytest.raises(ValueError, match=r"2 features to draw"):
        cl.plot_kmeans_steps(ax, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"init='kmeans'"):
        cl.plot_kmeans_steps(ax, X, init="kmeans")
    image = make_spectral_image((24, 24), geometry="flake", n_terraces=3, seed=0)
    fig, ax = plt.subplots()
    labels = cl.plot_thickness_clusters(ax, image, n_clusters=4)
    assert ax.get_xlabel() == "x (nm)"
    # vacuum + three terraces: the cluster map is the terrace map, numbered from thin to thick
    truth = np.searchsorted(np.unique(image.t_over_lambda), image.t_over_lambda)
    np.testing.assert_array_equal(labels, truth)


# -- the notebook checks pass on the reference and fail on typical mistakes -----------------------------------------

def _kmeans_plusplus(X, k, seed=None):  # the checks refuse the package's own (ml4em.checks._own)
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(X)))]
    for _ in range(1, k):
        d2 = ((X[:, None] - X[chosen][None]) ** 2).sum(-1).min(1)
        chosen.append(int(rng.choice(len(X), p=d2 / d2.sum())))
    return X[chosen]


def _kmeans_plusplus_weighted(X, k, seed=None, *, weight=lambda d2: d2, spread=lambda diff: (diff ** 2).sum(-1)):
    """k-means++ with a chosen weight of the squared distances and a chosen way to combine the features."""
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(X)))]
    d2 = spread(X - X[chosen[0]])
    for _ in range(1, k):
        w = weight(d2)
        chosen.append(int(rng.choice(len(X), p=w / w.sum())))
        d2 = np.minimum(d2, (X - X[chosen[-1]]) ** 2 @ np.ones(X.shape[1]))
    return X[chosen]


def test_checks_accept_the_reference():
    checks.check_assign_clusters(lambda X, c: np.argmin(((X[:, None] - c[None]) ** 2).sum(-1), axis=1))
    checks.check_update_centres(lambda X, lab, k, prev: np.array([X[lab == j].mean(0) if np.any(lab == j) else prev[j]
                                                                  for j in range(k)], dtype=float))
    checks.check_kmeans_cost(lambda X, c, lab: float(((X - c[lab]) ** 2).sum()))
    checks.check_kmeans_plusplus(_kmeans_plusplus)
    checks.check_t_over_lambda_map(lambda e, c, w: np.log(c.sum(-1) / c[..., (e >= w[0]) & (e <= w[1])].sum(-1)))


@pytest.mark.parametrize("check, wrong, match", [
    (checks.check_assign_clusters,
     lambda X, c: np.argmax(((X[:, None] - c[None]) ** 2).sum(-1), axis=1), r"FARTHEST"),
    (checks.check_assign_clusters, lambda X, c: ((X[:, None] - c[None]) ** 2).sum(-1), r"INDEX of the nearest"),
    (checks.check_update_centres,
     lambda X, lab, k, prev: np.array([X[lab == j].sum(0) for j in range(k)]), r"the centre is the MEAN"),
    (checks.check_update_centres,
     lambda X, lab, k, prev: np.array([X[lab == j].mean(0) for j in range(k)]), r"no mean \(NaN\)"),
    (checks.check_update_centres,
     lambda X, lab, k, prev: np.array([X[lab == j].mean(0) if np.any(lab == j) else np.zeros(2) for j in range(k)]),
     r"keeps its row of previous"),
    (checks.check_update_centres, lambda X, lab, k, prev: np.array(prev, dtype=float), r"WITH samples moves"),
    (checks.check_kmeans_cost, lambda X, c, lab: np.sqrt(((X - c[lab]) ** 2).sum(1)).sum(), r"square the"),
    (checks.check_kmeans_cost, lambda X, c, lab: ((X - c[lab]) ** 2).sum(1).mean(), r"SUM over samples"),
    (checks.check_kmeans_plusplus,
     lambda X, k, seed=None: X[np.random.default_rng(seed).choice(len(X), k, replace=False)], r"same tight group"),
    (checks.check_kmeans_plusplus, lambda X, k, seed=None: _kmeans_plusplus(X, k, seed=0), r"same for every"),
    (checks.check_kmeans_plusplus, lambda X, k, seed=None: _kmeans_plusplus(X, k), r"same seed must give the same"),
    # weighting by D instead of D^2 keeps one centre per tight group: only the distribution of the draws tells
    (checks.check_kmeans_plusplus, lambda X, k, seed=None: _kmeans_plusplus_weighted(X, k, seed, weight=np.sqrt),
     r"weight by the distance D itself"),
    # the first distances averaged, the later ones summed over the features: a mix of two scales
    (checks.check_kmeans_plusplus,
     lambda X, k, seed=None: _kmeans_plusplus_weighted(X, k, seed, spread=lambda diff: (diff ** 2).mean(-1)),
     r"not drawn with probability proportional to D\^2"),
    (checks.check_t_over_lambda_map,
     lambda e, c, w: np.log(c[..., (e >= w[0]) & (e <= w[1])].sum(-1) / c.sum(-1)), r"upside down"),
])
@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_checks_catch_mistakes(check, wrong, match):
    with pytest.raises(CheckFailure, match=match):
        check(wrong)


def _update_in(previous_like):
    def update(X, labels, n_clusters, previous):
        centres = previous_like(previous)
        for k in range(n_clusters):
            if np.any(labels == k):
                centres[k] = X[labels == k].mean(axis=0)
        return centres
    return update


def test_check_update_centres_names_integer_and_in_place_mistakes():
    with pytest.raises(CheckFailure, match="cut to integers"):
        checks.check_update_centres(_update_in(lambda p: p.copy()), seed=21, empty=0, integer_previous=True)
    with pytest.raises(CheckFailure, match="changed its argument previous"):
        checks.check_update_centres(_update_in(lambda p: p))


def test_checks_fail_on_the_blank_stub():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for check in (checks.check_assign_clusters, checks.check_update_centres, checks.check_kmeans_cost,
                  checks.check_kmeans_plusplus, checks.check_t_over_lambda_map):
        with pytest.raises(NotImplementedError):
            check(stub)


# -- check_lloyd: the student's Lloyd's algorithm -------------------------------------------------------------------

def _lloyd(X, initial_centres, max_iter=100, *, keep_empty=True, mutate=False, stale_labels=False, extra=0):
    """A Lloyd's algorithm written as a student would (a loop over clusters), with switchable mistakes."""
    X = np.asarray(X, dtype=float)
    centres = initial_centres if mutate else np.array(initial_centres, dtype=float)
    labels = np.argmin(((X[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    costs = [((X - centres[labels]) ** 2).sum()]
    previous = labels
    for _ in range(max_iter + extra):
        for k in range(len(centres)):
            if np.any(labels == k) or not keep_empty:
                centres[k] = X[labels == k].mean(0)
        previous, labels = labels, np.argmin(((X[:, None] - centres[None]) ** 2).sum(-1), axis=1)
        costs.append(((X - centres[labels]) ** 2).sum())
        if np.array_equal(previous, labels):
            break
    return centres, (previous if stale_labels else labels), np.array(costs)


def test_check_lloyd_accepts_an_answer_written_otherwise():
    for kwargs in ({}, dict(seed=41, n_features=3, max_iter=4), dict(seed=42, empty_cluster=True),
                   dict(seed=43, n_features=1, max_iter=2, empty_cluster=True)):
        checks.check_lloyd(_lloyd, **kwargs)


@pytest.mark.parametrize("wrong, kwargs, match", [
    (lambda X, c, max_iter=100: _lloyd(X, c, 100), {}, r"made \d+ update\(s\) \(seed=3, max_iter=1\)"),
    (lambda X, c, max_iter=100: _lloyd(X, c, max_iter, extra=1), {}, r"we expected 1\b"),
    (lambda X, c, max_iter=100: _lloyd(X, c, max_iter, mutate=True), {}, r"changed its argument"),
    (lambda X, c, max_iter=100: _lloyd(X, c, max_iter, keep_empty=False), dict(empty_cluster=True),
     r"(non-finite|previous centre)"),
    (lambda X, c, max_iter=100: _lloyd(X, c, max_iter, stale_labels=True), dict(max_iter=1), r"last assignment"),
    (lambda X, c, max_iter=100: _lloyd(X, c, max_iter)[:2], {}, r"should return \(centres, labels, costs\)"),
    (lambda X, c, max_iter=100: np.linalg.inv(np.zeros((2, 2))), {}, r"`lloyd` raised LinAlgError"),
])
@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_check_lloyd_catches_mistakes(wrong, kwargs, match):
    with pytest.raises(CheckFailure, match=match):
        checks.check_lloyd(wrong, **kwargs)


def test_lloyd_stops_when_no_label_changes_and_counts_updates():
    X, _ = checks.blobs(seed=0)
    centres, labels, costs = cl.lloyd(X, X[[0, 1, 2]], max_iter=100)
    assert np.array_equal(labels, cl.assign_clusters(X, centres))
    assert np.all(np.diff(costs) <= 0)
    again = cl.lloyd(X, centres)  # from a fixed point: one update, no label changes, the same centres
    assert len(again[2]) == 2 and np.allclose(again[0], centres) and np.array_equal(again[1], labels)
    assert len(cl.lloyd(X, X[[0, 1, 2]], max_iter=1)[2]) == 2 and len(cl.lloyd(X, X[[0, 1, 2]], max_iter=0)[2]) == 1
    with pytest.raises(ValueError, match="max_iter=-1"):
        cl.lloyd(X, X[:3], max_iter=-1)


# -- the graded Think! of the K-means explorer ------------------------------------------------------------------------

def test_explorer_run_matches_the_explorer_titles():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, _ = cl.make_potatoes(120, seed=4)
    Z = ((X - X.mean(axis=0)) / X.std(axis=0))[:, :2]
    fig, ax = plt.subplots()
    for k in checks.EXPLORER_KS:
        _, costs = checks.explorer_run(Z, k)
        for step in (1, 4, checks.EXPLORER_STEPS[-1]):
            cl.plot_kmeans_steps(ax, Z, n_clusters=k, step=step, seed=checks.EXPLORER_SEED)
            assert ax.get_title() == f"step {step}: cost {costs[step - 1]:.3g}"
            ax.clear()
    plt.close(fig)


def test_think_checks_compute_their_truth_and_name_the_mistake():
    X, _ = cl.make_potatoes(120, seed=4)
    Z = ((X - X.mean(axis=0)) / X.std(axis=0))[:, :2]
    labels, costs = checks.explorer_run(Z, 3)
    changes = [s for s in range(2, len(labels) + 1) if not np.array_equal(labels[s - 1], labels[s - 2])]
    last = max(changes, default=1)
    checks.check_last_change(last, Z)
    with pytest.raises(CheckFailure, match="first iteration that changes no label"):
        checks.check_last_change(last + 1, Z)
    with pytest.raises(CheckFailure, match="one of the explorer's iterations"):
        checks.check_last_change(0, Z)
    final = {k: checks.explorer_run(Z, k)[1][-1] for k in checks.EXPLORER_KS}
    best = min(final, key=final.get)
    checks.check_lowest_cost_k(best, Z)
    assert best != 3
    with pytest.raises(CheckFailure, match="lowest COST"):
        checks.check_lowest_cost_k(3, Z)
    with pytest.raises(CheckFailure, match="explorer's K"):
        checks.check_lowest_cost_k(7, Z)
