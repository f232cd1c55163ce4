"""ml4em.regression against numpy.polyfit, scikit-learn and hand-computed cases."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from ml4em import regression as reg
from ml4em.datasets import make_regression_data


@pytest.fixture
def data():
    return make_regression_data(40, function="tenth", noise=0.2, seed=3)


def test_polynomial_features_is_vander(data):
    x, _ = data
    np.testing.assert_array_equal(reg.polynomial_features(x, 4), np.vander(x, 5, increasing=True))


@pytest.mark.parametrize("degree", [0, 1, 3, 7])
def test_least_squares_matches_polyfit(data, degree):
    x, y = data
    theta = reg.fit_least_squares(reg.polynomial_features(x, degree), y)
    # rtol 1e-6: polyfit scales the columns before its lstsq; both agree to rounding for these degrees
    np.testing.assert_allclose(theta, np.polyfit(x, y, degree)[::-1], rtol=1e-6, atol=1e-8)


def test_ridge_all_penalised_matches_sklearn(data):
    x, y = data
    X = reg.polynomial_features(x, 6)
    ours = reg.fit_ridge(X, y, 0.3, penalize_intercept=True)
    theirs = Ridge(alpha=0.3, fit_intercept=False, solver="svd").fit(X, y).coef_
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)  # same problem, different factorisations


def test_ridge_free_intercept_matches_sklearn(data):
    x, y = data
    X = reg.polynomial_features(x, 6)
    ours = reg.fit_ridge(X, y, 0.05)
    sk = Ridge(alpha=0.05, fit_intercept=True, solver="svd").fit(X[:, 1:], y)
    np.testing.assert_allclose(ours, np.r_[sk.intercept_, sk.coef_], rtol=1e-6, atol=1e-9)


def test_ridge_zero_alpha_is_least_squares(data):
    x, y = data
    X = reg.polynomial_features(x, 3)
    np.testing.assert_allclose(reg.fit_ridge(X, y, 0.0), reg.fit_least_squares(X, y), rtol=1e-10)


def test_mse_by_hand():
    assert reg.mse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(4.0 / 3.0, rel=1e-15)


def test_kfold_matches_sklearn():
    ours = reg.kfold_indices(23, 5, shuffle=False)
    theirs = list(KFold(5).split(np.zeros(23)))
    for (tr, va), (tr2, va2) in zip(ours, theirs):
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(va, va2)


def test_kfold_shuffled_partitions_and_is_seeded():
    folds = reg.kfold_indices(17, 4, seed=1)
    val = np.sort(np.concatenate([v for _, v in folds]))
    np.testing.assert_array_equal(val, np.arange(17))
    again = reg.kfold_indices(17, 4, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))


def test_cross_validate_by_hand():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, 1.0, 2.0, 4.0])
    # degree 0, 2 folds: fold {0,1} predicted by mean(2,4)=3 -> (9+4)/2; fold {2,3} by 0.5 -> (2.25+12.25)/2
    train, val = reg.cross_validate(x, y, 0, n_folds=2, shuffle=False)
    assert val == pytest.approx((6.5 + 7.25) / 2)
    assert train == pytest.approx((1.0 + 0.25) / 2)


def test_gradient_descent_converges_to_least_squares(data):
    x, y = data
    X = reg.polynomial_features(x, 1)
    eta = 0.9 * reg.max_stable_learning_rate(X)
    theta, history = reg.gradient_descent(X, y, learning_rate=eta, n_iter=3000)
    np.testing.assert_allclose(theta, reg.fit_least_squares(X, y), rtol=1e-6)
    assert np.all(np.diff(history) <= 1e-12)  # monotone below the stability limit


def test_gradient_descent_diverges_above_the_limit(data):
    x, y = data
    X = reg.polynomial_features(x, 2)
    _, history = reg.gradient_descent(X, y, learning_rate=1.05 * reg.max_stable_learning_rate(X), n_iter=400)
    assert history[-1] > 1e3 * history[0]


def test_max_stable_learning_rate_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 2.0]])  # H = (2/2) X^T X = diag(1, 4) -> 2/4
    assert reg.max_stable_learning_rate(X) == pytest.approx(0.5)


def test_estimator(data):
    x, y = data
    model = reg.PolynomialRegression(3, alpha=0.0).fit(x, y)
    np.testing.assert_allclose(model.coef_, np.polyfit(x, y, 3)[::-1], rtol=1e-6, atol=1e-8)
    assert model.score(x, y) == pytest.approx(reg.mse(y, np.polyval(np.polyfit(x, y, 3), x)), rel=1e-8)
    with pytest.raises(RuntimeError, match="not fitted"):
        reg.PolynomialRegression(2).predict(x)


@pytest.mark.parametrize("call, match", [
    (lambda: reg.polynomial_features(np.zeros((3, 2)), 2), "should be 1-D"),
    (lambda: reg.polynomial_features([1.0, np.nan], 2), "NaN"),
    (lambda: reg.polynomial_features([1.0], -1), "non-negative integer"),
    (lambda: reg.fit_least_squares(np.zeros((3, 2)), np.zeros(4)), "3 rows but y has 4"),
    (lambda: reg.fit_least_squares(np.zeros(3), np.zeros(3)), "2-D design matrix"),
    (lambda: reg.fit_ridge(np.ones((3, 2)), np.zeros(3), -1.0), "alpha=-1.0"),
    (lambda: reg.mse([1.0, 2.0], [1.0]), "should match"),
    (lambda: reg.kfold_indices(10, 1), "n_folds=1"),
    (lambda: reg.kfold_indices(3, 5), "n_folds=5 should be <= n_samples=3"),
    (lambda: reg.cross_validate([1.0, 2.0], [1.0], 1), "should match"),
    (lambda: reg.gradient_descent(np.ones((3, 2)), np.zeros(3), learning_rate=0), "learning_rate=0"),
    (lambda: reg.gradient_descent(np.ones((3, 2)), np.zeros(3), n_iter=-2), "n_iter=-2"),
    (lambda: reg.gradient_descent(np.ones((3, 2)), np.zeros(3), theta0=[1.0]), r"theta0 should have shape \(2,\)"),
    (lambda: reg.max_stable_learning_rate(np.ones(3)), "non-empty 2-D"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_polynomial_explorer_static(data):
    x, y = data
    fig = reg.polynomial_explorer(x[:15], y[:15], x[15:], y[15:], live=False)
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert "(dimensionless)" in ax.get_xlabel() and "(dimensionless)" in ax.get_ylabel()
