"""ml4em.eels.model and ml4em.eels.lm: the ensemble of networks with a replica axis and its Levenberg-Marquardt
training."""

import numpy as np
import pytest

from ml4em.eels.lm import _factor_layer, _Systems, train_lm
from ml4em.eels.model import MLPShape, forward, init_params, jacobian, jacobian_columns, layer_factors


def test_shape_counts_parameters():
    assert MLPShape(1, (10, 15, 5)).n_params == 271  # (1+1)*10 + (10+1)*15 + (15+1)*5 + (5+1)*1
    assert MLPShape(2, (10, 15, 5)).n_params == 281
    assert MLPShape(1, (3,)).layers == [(1, 3), (3, 1)]


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_inputs=0), "n_inputs=0 should be a positive integer"),
    (dict(hidden=()), r"hidden=\(\) should be a non-empty sequence"),
    (dict(hidden=(10, 0)), r"hidden=\(10, 0\) should be a non-empty sequence of positive integers"),
])
def test_shape_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLPShape(**kwargs)


def test_init_params_seeded_and_biases_spread():
    shape = MLPShape(1, (10, 15, 5))
    a, b = init_params(shape, 4, seed=3), init_params(shape, 4, seed=3)
    np.testing.assert_array_equal(a, b)
    first_biases = a[:, 10:20]
    assert np.all(np.abs(first_biases) <= 1.0) and first_biases.std() > 0.3
    assert not np.allclose(a[0], a[1])  # every replica starts elsewhere


def test_jacobian_matches_finite_differences():
    shape = MLPShape(2, (4, 3))
    theta = init_params(shape, 2, seed=0)
    x = np.random.default_rng(1).uniform(-1, 1, (5, 2))
    y, jac = jacobian(theta, x, shape)
    np.testing.assert_allclose(y, forward(theta, x, shape))
    eps = 1e-6
    num = np.empty_like(jac)
    for p in range(shape.n_params):
        step = np.zeros(shape.n_params)
        step[p] = eps
        num[:, :, p] = (forward(theta + step, x, shape) - forward(theta - step, x, shape)) / (2 * eps)
    # central differences of a smooth function: error O(eps^2) plus round-off ~1e-10
    np.testing.assert_allclose(jac, num, atol=1e-8)



def test_layer_factors_give_the_jacobian_and_reuse_a_forward_pass():
    shape = MLPShape(2, (4, 3))
    theta = init_params(shape, 3, seed=2)
    x = np.random.default_rng(3).uniform(-1, 1, (3, 6, 2))
    w = np.random.default_rng(4).uniform(0.5, 2.0, (3, 6))
    y, jac = jacobian(theta, x, shape, weights=w)
    y2, factors = layer_factors(theta, x, shape, weights=w)
    np.testing.assert_array_equal(y2, y)
    for layer, (a, g) in enumerate(factors):  # a layer's rows of J are outer products a_i g_i^T, then g_i
        fan_in, fan_out = shape.layers[layer]
        assert a.shape == (3, fan_in, 6) and g.shape == (3, fan_out, 6)
    np.testing.assert_array_equal(jacobian_columns(factors, shape), jac)
    # the columns of some layers only, in parameter order
    sizes = [(i + 1) * o for i, o in shape.layers]
    starts = np.cumsum([0] + sizes)
    picked = np.r_[starts[0]:starts[1], starts[2]:starts[3]]
    np.testing.assert_array_equal(jacobian_columns(factors, shape, [0, 2]), jac[:, :, picked])
    # a forward pass already run at theta is used as it is
    _, acts = forward(theta, x, shape, return_activations=True)
    _, again = layer_factors(theta, x, shape, weights=w, activations=acts)
    for (a, g), (a2, g2) in zip(factors, again):
        np.testing.assert_array_equal(a2, a)
        np.testing.assert_array_equal(g2, g)


def test_wide_layers_are_factored_only_in_the_dual_form():
    assert _factor_layer(10, 15) and not _factor_layer(1, 10) and not _factor_layer(5, 1)
    shape = MLPShape(1, (10, 15, 5))
    dual = _Systems.for_network(4, 200, shape, 0.0)
    assert dual.dual and (10, 15) in [block[2:] for block in dual.factored]
    assert dual.explicit.size + sum((i + 1) * o for _, _, i, o in dual.factored) == shape.n_params
    primal = _Systems.for_network(4, 300, shape, 0.0)
    assert not primal.dual and primal.factored == [] and primal.explicit.size == shape.n_params
    with pytest.raises(ValueError, match="dual form"):
        _Systems(2, 300, shape.n_params, 0.0, factored=[(1, 20, 10, 15)])


@pytest.mark.parametrize("decay", [0.0, 0.3])
def test_factored_systems_equal_the_explicit_jacobian_ones(decay):
    # the Gram matrix from the factors of a wide layer, (A A^T + 1) * (G G^T), and the steps built from them
    shape = MLPShape(1, (10, 15, 5))
    n_rep, n_pts = 3, 40
    theta = init_params(shape, n_rep, seed=5)
    x = np.random.default_rng(6).uniform(-1, 1, (n_rep, n_pts, 1))
    y = np.random.default_rng(7).standard_normal((n_rep, n_pts))
    w = np.random.default_rng(8).uniform(0.5, 2.0, (n_rep, n_pts))
    rows = np.arange(n_rep)
    factored = _Systems.for_network(n_rep, n_pts, shape, decay)
    assert factored.factored
    factored.update(rows, theta, x, y, w, shape)
    explicit = _Systems(n_rep, n_pts, shape.n_params, decay)
    explicit.update(rows, theta, x, y, w, shape)
    assert explicit.explicit.size == shape.n_params and not explicit.factored
    for k in rows:
        np.testing.assert_allclose(np.triu(factored.gram[k]), np.triu(explicit.gram[k]), rtol=2e-5,
                                   atol=2e-5 * np.abs(explicit.gram[k]).max())
    np.testing.assert_allclose(factored.scale, explicit.scale, rtol=1e-5)
    lam = np.array([1e-2, 1.0, 100.0])
    got = factored.step(rows, lam)
    pred, jac = jacobian(theta, x, shape, weights=w)
    r = (pred - y) * w
    mu = decay + lam * explicit.scale
    for k in rows:  # against the float64 solve of the damped normal equations
        expected = -np.linalg.solve(jac[k].T @ jac[k] + mu[k] * np.eye(shape.n_params), jac[k].T @ r[k]
                                    + decay * theta[k])
        # float32 Gram and Cholesky: error ~ condition number (up to 2e4 here) x 6e-8, relative to the step
        np.testing.assert_allclose(got[k], expected, atol=1e-3 * np.abs(expected).max())
    # and J vec from the factors
    vec = np.random.default_rng(9).standard_normal(shape.n_params).astype(np.float32)
    for k in rows:
        np.testing.assert_allclose(factored._j(k, vec), explicit._j(k, vec), rtol=1e-4, atol=1e-4)

def test_forward_per_replica_inputs_equal_shared_inputs():
    shape = MLPShape(1, (5,))
    theta = init_params(shape, 3, seed=0)
    x = np.linspace(-1, 1, 7)[:, None]
    np.testing.assert_allclose(forward(theta, np.broadcast_to(x, (3, 7, 1)), shape), forward(theta, x, shape))


@pytest.mark.parametrize("decay", [0.0, 0.3])
def test_dual_step_equals_primal_step(decay):
    rng = np.random.default_rng(0)
    n_rep, n_pts, n_par = 3, 6, 10  # fewer points than parameters: the dual form is used
    jac = rng.standard_normal((n_rep, n_pts, n_par))
    r = rng.standard_normal((n_rep, n_pts))
    theta = rng.standard_normal((n_rep, n_par))
    systems = _Systems(n_rep, n_pts, n_par, decay)
    assert systems.dual
    rows = np.arange(n_rep)
    systems.store(rows, jac, r, theta)  # what update() keeps after computing the weighted Jacobian
    np.testing.assert_allclose(systems.scale, np.einsum("rnp,rnp->r", jac, jac) / n_par, rtol=1e-5)
    lam = np.array([1e-3, 1e-1, 10.0])
    step = systems.step(rows, lam)
    mu = decay + lam * systems.scale
    for k in range(n_rep):
        a = jac[k].T @ jac[k] + mu[k] * np.eye(n_par)
        expected = -np.linalg.solve(a, jac[k].T @ r[k] + decay * theta[k])
        # float32 products and solves: agreement to ~1e-4 relative
        np.testing.assert_allclose(step[k], expected, rtol=2e-3, atol=2e-4 * np.abs(expected).max())


@pytest.mark.parametrize("decay", [0.0, 0.3])
def test_primal_step_solves_the_damped_normal_equations(decay):
    rng = np.random.default_rng(1)
    n_rep, n_pts, n_par = 3, 12, 5  # more points than parameters: the primal form is used
    jac = rng.standard_normal((n_rep, n_pts, n_par))
    r = rng.standard_normal((n_rep, n_pts))
    theta = rng.standard_normal((n_rep, n_par))
    systems = _Systems(n_rep, n_pts, n_par, decay)
    assert not systems.dual
    systems.store(np.arange(n_rep), jac, r, theta)
    lam = np.array([1e-3, 1e-1, 10.0])
    step = systems.step(np.arange(n_rep), lam)
    mu = decay + lam * systems.scale
    for k in range(n_rep):
        a = jac[k].T @ jac[k] + mu[k] * np.eye(n_par)
        expected = -np.linalg.solve(a, jac[k].T @ r[k] + decay * theta[k])
        np.testing.assert_allclose(step[k], expected, rtol=2e-3, atol=2e-4 * np.abs(expected).max())


def test_solve_falls_back_to_float64_lu_when_cholesky_fails():
    systems = _Systems(1, 3, 5, 0.0)
    gram = np.array([[2.0, 0.3, 0.0], [0.3, -0.5, 0.1], [0.0, 0.1, 1.0]])  # not positive definite
    systems.gram[0] = np.asfortranarray(np.triu(gram), dtype=np.float32)  # ssyrk keeps the upper triangle
    rhs = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    mu = 0.1
    # float32 Cholesky fails on G + mu I; the float64 LU solve of the full symmetric system is exact
    np.testing.assert_allclose(systems._solve(0, mu, rhs), np.linalg.solve(gram + mu * np.eye(3), rhs), rtol=1e-6)
    # an exactly singular system gives no step (NaN: the trial is rejected and the damping grows)
    systems.gram[0] = np.asfortranarray(np.zeros((3, 3)), dtype=np.float32)
    assert np.all(np.isnan(systems._solve(0, 0.0, rhs)))


def _teacher_problem(n_rep=6, n_pts=80, noise=0.0, seed=0):
    """Data from a random network of the trained shape: the optimum is known (chi2 = 0 without noise)."""
    shape = MLPShape(1, (6, 4))
    teacher = init_params(shape, 1, seed=seed + 100)
    x = np.linspace(-1, 1, n_pts)[:, None]
    y = forward(teacher, x, shape)[0]
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n_rep, n_pts)), axis=1)
    tr, va = np.sort(order[:, n_pts // 4:], 1), np.sort(order[:, :n_pts // 4], 1)
    yr = y + noise * rng.standard_normal((n_rep, n_pts))
    w = np.full((n_rep, n_pts), 1.0 / max(noise, 1e-3))
    X = np.broadcast_to(x, (n_rep, n_pts, 1))
    take = lambda a, i: np.take_along_axis(a, i, 1)
    return shape, (X[np.arange(n_rep)[:, None], tr], take(yr, tr), take(w, tr),
                   X[np.arange(n_rep)[:, None], va], take(yr, va), take(w, va))


def test_lm_recovers_a_teacher_network():
    shape, data = _teacher_problem()
    res = train_lm(init_params(shape, 6, seed=1), shape, *data, max_iter=300, patience=50, seed=0)
    # noise-free data from a network of the same shape: chi2 per point (sigma = 1e-3) falls below 1,
    # i.e. the fit is good to 1e-3 where the targets are O(1)
    assert np.median(res.train_chi2) < 1.0 and np.median(res.val_chi2) < 1.0
    assert res.params.shape == (6, shape.n_params)


def test_lm_with_noise_reaches_chi2_one_and_keeps_the_best_validation_point():
    shape, data = _teacher_problem(n_pts=120, noise=0.05)
    res = train_lm(init_params(shape, 6, seed=1), shape, *data, max_iter=300, patience=30, seed=0)
    # with the true sigma the training chi2 per point of a converged fit is ~1 (0.7-1.3 for 90 points)
    assert 0.6 < np.median(res.train_chi2) < 1.4
    x_va, y_va, w_va = data[3:]
    val = np.mean(((forward(res.params, x_va, shape) - y_va) * w_va) ** 2, axis=1)
    np.testing.assert_allclose(val, res.val_chi2, rtol=1e-9)  # the kept weights are those of the reported chi2
    assert np.all(res.best_iter <= res.n_iter) and np.all(res.n_iter <= 300)
    assert len(res.history["val_chi2"]) == res.iterations or res.restarts.sum() > 0


def test_lm_threads_give_identical_results():
    shape, data = _teacher_problem(n_pts=60, noise=0.05)
    theta0 = init_params(shape, 6, seed=2)
    one = train_lm(theta0, shape, *data, max_iter=40, n_jobs=1, seed=0)
    two = train_lm(theta0, shape, *data, max_iter=40, n_jobs=2, seed=0)
    np.testing.assert_array_equal(one.params, two.params)


def test_lm_restarts_a_replica_stuck_in_saturation():
    shape, data = _teacher_problem(n_pts=80, noise=0.05)
    theta0 = init_params(shape, 6, seed=1)
    theta0[0] = 40.0  # every tanh unit saturated: no gradient, a hopeless start
    res = train_lm(theta0, shape, *data, max_iter=200, patience=20, restarts=2, seed=0)
    assert res.restarts[0] >= 1
    assert res.train_chi2[0] < 3 * np.median(res.train_chi2)
    no = train_lm(theta0, shape, *data, max_iter=200, patience=20, restarts=0, seed=0)
    assert no.restarts.sum() == 0 and no.train_chi2[0] > 10 * np.median(no.train_chi2)


def test_lm_max_iter_zero_keeps_the_start():
    shape, data = _teacher_problem()
    theta0 = init_params(shape, 6, seed=1)
    res = train_lm(theta0, shape, *data, max_iter=0, restarts=0)
    np.testing.assert_array_equal(res.params, theta0)
    assert res.iterations == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(max_iter=-1), "max_iter=-1 should be an integer >= 0"),
    (dict(patience=0), "patience=0 should be an integer >= 1"),
    (dict(restarts=1.5), "restarts=1.5 should be an integer >= 0"),
    (dict(restart_factor=1.0), "restart_factor=1.0 should be > 1"),
])
def test_lm_rejects_bad_settings(kwargs, match):
    shape, data = _teacher_problem(n_rep=2)
    with pytest.raises(ValueError, match=match):
        train_lm(init_params(shape, 2, seed=0), shape, *data, **kwargs)
