"""Checks for tutorials/01_regression.

Each check calls the student's function on a case with a known answer and
explains what is wrong. The reference answers come from
:mod:`ml4em.regression`, numpy and scikit-learn. Each check refuses the
package's own implementation of its exercise (see :mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import regression as ref
from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._own import answers

TUTORIAL = "01_regression"

__all__ = ["check_design_matrix", "check_least_squares", "check_mse", "check_kfold_cv_error",
           "check_ridge", "check_gradient_step", "check_eta_max", "check_best_degree",
           "check_explorer_degree", "check_explorer_val_mse", "check_cv_errors"]


def _sample(n, seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 1, n))
    return x, 2 * x + 0.3 * rng.standard_normal(n)


@answers(TUTORIAL, "design_matrix", "ml4em.regression.polynomial_features")
def check_design_matrix(design_matrix, *, x=(0.0, 0.5, 1.0, 2.0), degree=2):
    """``design_matrix(x, degree)`` returns the (n_samples, degree + 1) matrix of powers x**0 ... x**degree."""
    check_callable(design_matrix, "design_matrix")
    x = np.asarray(x, dtype=float)
    got = check_array(f"design_matrix(x, {degree})", call_student("design_matrix", design_matrix, x, degree), ndim=2)
    expected = ref.polynomial_features(x, degree)
    hint = None
    if got.shape == expected.shape[::-1]:
        hint = "one ROW per sample and one COLUMN per power: your matrix looks transposed."
    elif got.shape[1:] == (degree,):
        hint = "a polynomial of degree d has d + 1 coefficients: include the constant column x**0."
    check_shape(f"design_matrix(x, {degree})", got, expected.shape, hint=hint)
    hint = "column j should hold x**j for every sample."
    if np.allclose(got[:, ::-1], expected):
        hint = "your columns are in reverse order: column j should be x**j, with x**0 first."
    check_close(f"design_matrix(x, {degree})", got, expected, rtol=1e-10, hint=hint)


@answers(TUTORIAL, "fit_least_squares", "ml4em.regression.fit_least_squares", "ml4em.regression.fit_ridge",
         "ml4em.regression.gradient_descent", "ml4em.regression.PolynomialRegression")
def check_least_squares(fit_least_squares, *, degree=1, n=20, seed=0):
    """``fit_least_squares(X, y)`` returns the coefficients that minimise |X theta - y|^2 (as numpy.polyfit)."""
    check_callable(fit_least_squares, "fit_least_squares")
    x, y = _sample(n, seed)
    X = ref.polynomial_features(x, degree)
    got = check_array("fit_least_squares(X, y)", call_student("fit_least_squares", fit_least_squares, X, y), ndim=1)
    check_shape("fit_least_squares(X, y)", got, (degree + 1,),
                hint="return one coefficient per column of X, as a 1-D array.")
    expected = np.polyfit(x, y, degree)[::-1]  # numpy.polyfit lists the highest power first
    # 1e-6: the normal equations lose a few digits to rounding at moderate degree; lstsq does not.
    check_close("fit_least_squares(X, y)", got, expected, rtol=1e-6, atol=1e-8,
                hint="minimise the sum of squared residuals; np.linalg.lstsq(X, y, rcond=None) solves it.")


@answers(TUTORIAL, "mse", "ml4em.regression.mse", "ml4em.nn.mean_squared_error", "ml4em.eels.chi2_per_point")
def check_mse(mse, *, y_true=(1.0, 2.0, 3.0, 4.0), y_pred=(1.0, 2.5, 2.0, 4.0)):
    """``mse(y_true, y_pred)`` is the mean of the squared differences."""
    check_callable(mse, "mse")
    got = check_scalar("mse(y_true, y_pred)", call_student("mse", mse, np.asarray(y_true), np.asarray(y_pred)))
    expected = ref.mse(y_true, y_pred)
    total = float(np.sum((np.asarray(y_true) - np.asarray(y_pred)) ** 2))
    hint = None
    if np.isclose(got, total) and not np.isclose(total, expected):
        hint = "you returned the SUM of squared errors; divide by the number of samples."
    elif np.isclose(got, np.sqrt(expected)):
        hint = "you returned the root of the mean squared error; do not take the square root."
    check_close("mse(y_true, y_pred)", got, expected, rtol=1e-12, hint=hint)


@answers(TUTORIAL, "kfold_cv_error", "ml4em.regression.cross_validate")
def check_kfold_cv_error(kfold_cv_error, *, n=23, degree=3, n_folds=5, seed=1):
    """``kfold_cv_error(x, y, degree, n_folds)`` is the mean validation MSE over consecutive folds."""
    check_callable(kfold_cv_error, "kfold_cv_error")
    x, y = _sample(n, seed)
    got = check_scalar(f"kfold_cv_error(x, y, {degree}, {n_folds})", call_student("kfold_cv_error", kfold_cv_error,
                                                                                  x, y, degree, n_folds))
    train, expected = ref.cross_validate(x, y, degree, n_folds=n_folds, shuffle=False)
    hint = None
    if np.isclose(got, train):
        hint = "you returned the TRAINING error; evaluate each fitted model on the fold it did not see."
    else:
        hint = ("use folds = np.array_split(np.arange(len(x)), n_folds); for each fold fit on all the other "
                "samples, compute the MSE on the fold, then average the n_folds values.")
    check_close(f"kfold_cv_error(x, y, {degree}, {n_folds})", got, expected, rtol=1e-6, hint=hint)


@answers(TUTORIAL, "fit_ridge", "ml4em.regression.fit_ridge", "ml4em.regression.PolynomialRegression")
def check_ridge(fit_ridge, *, degree=5, alpha=0.1, n=15, seed=2):
    """``fit_ridge(X, y, alpha)`` minimises |X theta - y|^2 + alpha |theta|^2 (all coefficients penalised)."""
    check_callable(fit_ridge, "fit_ridge")
    x, y = _sample(n, seed)
    X = ref.polynomial_features(x, degree)
    got = check_array(f"fit_ridge(X, y, {alpha})", call_student("fit_ridge", fit_ridge, X, y, alpha), ndim=1)
    check_shape(f"fit_ridge(X, y, {alpha})", got, (degree + 1,))
    expected = ref.fit_ridge(X, y, alpha, penalize_intercept=True)
    hint = None
    if np.allclose(got, ref.fit_least_squares(X, y), rtol=1e-6):
        hint = "that is the plain least-squares answer: add alpha * identity to X^T X."
    # 1e-6: solving the normal equations and the augmented least-squares system differ by rounding only.
    check_close(f"fit_ridge(X, y, {alpha})", got, expected, rtol=1e-6, atol=1e-9, hint=hint)


@answers(TUTORIAL, "gradient_step", "ml4em.regression.gradient_descent")
def check_gradient_step(gradient_step, *, learning_rate=0.1, n=12, seed=3):
    """``gradient_step(theta, X, y, learning_rate)`` returns theta - learning_rate * (2/n) X^T (X theta - y)."""
    check_callable(gradient_step, "gradient_step")
    x, y = _sample(n, seed)
    X = ref.polynomial_features(x, 2)
    theta = np.array([0.5, -1.0, 2.0])
    before = theta.copy()
    got = check_array("gradient_step(theta, X, y, learning_rate)", call_student("gradient_step", gradient_step,
                                                                                theta, X, y, learning_rate), ndim=1)
    check_true(np.array_equal(theta, before), "gradient_step changed the theta it was given; return a new array "
               "(theta - ...) instead of updating it in place.")
    check_shape("gradient_step(theta, X, y, learning_rate)", got, theta.shape)
    expected, _ = ref.gradient_descent(X, y, learning_rate=learning_rate, n_iter=1, theta0=theta)
    hint = None
    grad = (2.0 / n) * X.T @ (X @ theta - y)
    if np.allclose(got, theta + learning_rate * grad):
        hint = "you stepped UP the gradient; move against it (minus sign)."
    elif np.allclose(got, theta - learning_rate * grad * n / 2.0):
        hint = "the MSE is an average: its gradient has a factor 2/n."
    check_close("gradient_step(theta, X, y, learning_rate)", got, expected, rtol=1e-10, hint=hint)


@answers(TUTORIAL, "eta_max", "ml4em.regression.max_stable_learning_rate", student=())
def check_eta_max(eta_max, X):
    """``eta_max`` is 2 / (largest eigenvalue of the Hessian (2/n) X^T X)."""
    got = check_scalar("eta_max", eta_max)
    X = np.asarray(X, dtype=float)
    hessian = (2.0 / X.shape[0]) * X.T @ X
    expected = 2.0 / np.linalg.eigvalsh(hessian).max()
    hint = None
    if np.isclose(got, 1.0 / np.linalg.eigvalsh(hessian).max()):
        hint = "gradient descent on a quadratic converges for eta < 2 / lambda_max, not 1 / lambda_max."
    elif np.isclose(got, 2.0 / np.linalg.eigvalsh(X.T @ X).max()):
        hint = "the Hessian of the MSE is (2/n) X^T X: include the factor 2/n."
    check_close("eta_max", got, expected, rtol=1e-8, hint=hint)


@answers(TUTORIAL, "best_degree", "ml4em.regression.cross_validate", student=())
def check_best_degree(best_degree, x, y, degrees, n_folds):
    """``best_degree`` is the degree among ``degrees`` with the lowest k-fold validation error."""
    check_true(isinstance(best_degree, (int, np.integer)) and not isinstance(best_degree, bool),
               f"`best_degree` should be an integer polynomial degree; got {best_degree!r}.")
    errors = [ref.cross_validate(x, y, d, n_folds=n_folds, shuffle=False)[1] for d in degrees]
    expected = int(np.asarray(degrees)[int(np.argmin(errors))])
    check_true(best_degree == expected,
               f"`best_degree` should be the degree with the lowest validation error; got {best_degree}.",
               hint="compute kfold_cv_error for every degree in `degrees` and take the degree of the minimum "
                    "(not the minimum error itself, and not the lowest TRAINING error).")


def _explorer_errors(x_train, y_train, x_val, y_val, degrees):
    """Training and validation MSE of the explorer's unregularised fit for each degree."""
    models = [ref.PolynomialRegression(int(d)).fit(x_train, y_train) for d in degrees]
    return (np.array([m.score(x_train, y_train) for m in models]),
            np.array([m.score(x_val, y_val) for m in models]))


@answers(TUTORIAL, "explorer_degree", "ml4em.regression.PolynomialRegression", student=())
def check_explorer_degree(degree, x_train, y_train, x_val, y_val, *, degrees=tuple(range(0, 16))):
    """``degree`` is the polynomial degree (ridge strength 0) with the lowest validation MSE in the explorer."""
    check_true(isinstance(degree, (int, np.integer)) and not isinstance(degree, bool),
               f"`explorer_best_degree` should be an integer polynomial degree; got {degree!r}.")
    train, val = _explorer_errors(x_train, y_train, x_val, y_val, degrees)
    degrees = np.asarray(degrees)
    expected = int(degrees[int(np.argmin(val))])
    hint = None
    if degree == int(degrees[int(np.argmin(train))]) or degree == int(degrees[-1]):
        hint = "that degree has the lowest TRAINING error; the question asks for the lowest validation MSE."
    elif degree == 10 and expected != 10:
        hint = ("the true function has degree 10, but 12 noisy points do not support 11 parameters: read the "
                "validation MSE of each degree.")
    check_true(degree == expected,
               f"`explorer_best_degree` should be the degree with the lowest validation MSE; got {degree}.", hint=hint)


@answers(TUTORIAL, "explorer_val_mse", "ml4em.regression.PolynomialRegression", student=())
def check_explorer_val_mse(value, x_train, y_train, x_val, y_val, *, degrees=tuple(range(0, 16))):
    """``value`` is the lowest validation MSE of the explorer's fits, to the 3 significant digits it shows."""
    got = check_scalar("explorer_best_val_mse", value)
    train, val = _explorer_errors(x_train, y_train, x_val, y_val, degrees)
    expected = float(val.min())
    hint = None
    if np.isclose(got, train[int(np.argmin(val))], rtol=6e-3):
        hint = "that is the training MSE of the best degree; give its validation MSE."
    check_close("explorer_best_val_mse", got, expected, rtol=6e-3, hint=hint)  # the panel shows 3 digits


@answers(TUTORIAL, "cv_errors", "ml4em.regression.cross_validate", student=())
def check_cv_errors(cv_errors, x, y, degrees, n_folds):
    """``cv_errors`` holds the ``n_folds``-fold validation error of every degree in ``degrees``, in order."""
    got = check_array("cv_errors", cv_errors, ndim=1)
    check_shape("cv_errors", got, (len(degrees),), hint="one cross-validation error per candidate degree.")
    expected = _kfold_errors(x, y, degrees, n_folds)
    hint = None
    for other in (n_folds - 1, n_folds + 1):
        if 1 < other <= len(x) and np.allclose(got, _kfold_errors(x, y, degrees, other), rtol=1e-4):
            hint = f"those are {other}-fold errors; the exercise asks for {n_folds} folds."
    # 1e-4: at degree 12 on 24 points the least-squares fits are ill-conditioned, and solvers differ in the last
    # digits; a wrong fold count changes the errors by far more.
    check_close("cv_errors", got, expected, rtol=1e-4, hint=hint)


def _kfold_errors(x, y, degrees, n_folds):
    """Validation MSE over consecutive folds of a least-squares polynomial (ml4em's lstsq fit) for each degree."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    folds = np.array_split(np.arange(x.size), n_folds)
    out = []
    for degree in degrees:
        errors = []
        for fold in folds:
            train = np.setdiff1d(np.arange(x.size), fold)
            theta = ref.fit_least_squares(ref.polynomial_features(x[train], degree), y[train])
            errors.append(np.mean((y[fold] - ref.polynomial_features(x[fold], degree) @ theta) ** 2))
        out.append(float(np.mean(errors)))
    return np.array(out)
