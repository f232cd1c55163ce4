"""Linear regression with polynomial features: least squares, ridge, cross-validation, gradient descent.

Used in: tutorials/01_regression.
"""

import numpy as np

__all__ = ["polynomial_features", "fit_least_squares", "fit_ridge", "predict", "mse", "polynomial_explorer",
           "kfold_indices", "cross_validate", "gradient_descent", "max_stable_learning_rate",
           "PolynomialRegression"]


def _as_1d(name, x):
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} should be 1-D (one value per sample); got shape {arr.shape}. "
                         "Use x.ravel() for a column vector.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; remove those samples first.")
    return arr


def polynomial_features(x, degree):
    """Design matrix of the powers x^0, x^1, ..., x^degree.

    Parameters
    ----------
    x : array-like of shape (n_samples,)
    degree : int >= 0

    Returns
    -------
    ndarray of shape (n_samples, degree + 1)
        Column j holds x**j.

    Examples
    --------
    >>> polynomial_features([1.0, 2.0], 2)
    array([[1., 1., 1.],
           [1., 2., 4.]])
    """
    x = _as_1d("x", x)
    if int(degree) != degree or degree < 0:
        raise ValueError(f"degree={degree!r} should be a non-negative integer.")
    return np.vander(x, int(degree) + 1, increasing=True)


def _check_xy(X, y):
    X = np.asarray(X, dtype=float)
    y = _as_1d("y", y)
    if X.ndim != 2:
        raise ValueError(f"X should be a 2-D design matrix (n_samples, n_features); got shape {X.shape}.")
    if X.shape[0] != y.size:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.size} values; they should match.")
    return X, y


def fit_least_squares(X, y):
    """Parameters theta minimising |X theta - y|^2.

    Solved with a QR/SVD-based solver (``numpy.linalg.lstsq``), which stays
    accurate when X^T X is ill-conditioned (high polynomial degrees).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_features,)

    Examples
    --------
    >>> X = polynomial_features([0.0, 1.0, 2.0], 1)
    >>> fit_least_squares(X, [1.0, 3.0, 5.0]).round(6)
    array([1., 2.])
    """
    X, y = _check_xy(X, y)
    theta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return theta


def fit_ridge(X, y, alpha, *, penalize_intercept=False):
    """Ridge regression: theta minimising |X theta - y|^2 + alpha |theta|^2.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        First column is the constant (intercept) column when
        ``penalize_intercept`` is False.
    y : ndarray of shape (n_samples,)
    alpha : float >= 0
        Regularisation strength (same units as |y|^2).
    penalize_intercept : bool, default False
        Whether the first parameter is shrunk too.

    Returns
    -------
    ndarray of shape (n_features,)

    Examples
    --------
    >>> X = polynomial_features([0.0, 1.0, 2.0], 1)
    >>> fit_ridge(X, [1.0, 3.0, 5.0], 0.0).round(6)
    array([1., 2.])
    """
    X, y = _check_xy(X, y)
    if not alpha >= 0:
        raise ValueError(f"alpha={alpha!r} should be >= 0 (0 means plain least squares).")
    n_features = X.shape[1]
    penalty = np.full(n_features, np.sqrt(alpha))
    if not penalize_intercept:
        penalty[0] = 0.0
    # Augmented least squares: stack sqrt(alpha) I under X and zeros under y.
    X_aug = np.vstack([X, np.diag(penalty)])
    y_aug = np.concatenate([y, np.zeros(n_features)])
    theta, *_ = np.linalg.lstsq(X_aug, y_aug, rcond=None)
    return theta


def predict(X, theta):
    """Return X @ theta, shape (n_samples,)."""
    return np.asarray(X, dtype=float) @ np.asarray(theta, dtype=float)


def mse(y_true, y_pred):
    """Mean squared error, in the units of y squared.

    Examples
    --------
    >>> mse([0.0, 1.0], [1.0, 1.0])
    0.5
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} and y_pred {y_pred.shape}; they should match.")
    return float(np.mean((y_true - y_pred) ** 2))


def kfold_indices(n_samples, n_folds, *, shuffle=True, seed=None):
    """Split ``range(n_samples)`` into ``n_folds`` folds for cross-validation.

    Fold sizes differ by at most one; the first ``n_samples % n_folds`` folds
    get one sample more (as scikit-learn's ``KFold``).

    Returns
    -------
    list of (train_idx, val_idx)
        Index arrays; each sample is in exactly one validation fold.

    Examples
    --------
    >>> [v.tolist() for _, v in kfold_indices(5, 2, shuffle=False)]
    [[0, 1, 2], [3, 4]]
    """
    if int(n_folds) != n_folds or n_folds < 2:
        raise ValueError(f"n_folds={n_folds!r} should be an integer >= 2.")
    if n_folds > n_samples:
        raise ValueError(f"n_folds={n_folds} should be <= n_samples={n_samples}.")
    order = np.arange(n_samples)
    if shuffle:
        order = np.random.default_rng(seed).permutation(n_samples)
    folds = np.array_split(order, int(n_folds))
    return [(np.sort(np.concatenate(folds[:i] + folds[i + 1:])), np.sort(f)) for i, f in enumerate(folds)]


def cross_validate(x, y, degree, *, n_folds=5, alpha=0.0, shuffle=True, seed=None):
    """K-fold cross-validation of a polynomial (ridge) model.

    Parameters
    ----------
    x, y : array-like of shape (n_samples,)
    degree : int
    n_folds : int, default 5
    alpha : float, default 0
        Ridge strength (0 = least squares).
    shuffle : bool, default True
        Shuffle before splitting; False gives consecutive folds.
    seed : int, Generator or None
        Seed of the fold shuffling.

    Returns
    -------
    train_mse, val_mse : float
        Mean over folds of the training and validation MSE.
    """
    x, y = _as_1d("x", x), _as_1d("y", y)
    if x.size != y.size:
        raise ValueError(f"x has {x.size} values and y {y.size}; they should match.")
    train_err, val_err = [], []
    for tr, va in kfold_indices(x.size, n_folds, shuffle=shuffle, seed=seed):
        theta = fit_ridge(polynomial_features(x[tr], degree), y[tr], alpha)
        train_err.append(mse(y[tr], predict(polynomial_features(x[tr], degree), theta)))
        val_err.append(mse(y[va], predict(polynomial_features(x[va], degree), theta)))
    return float(np.mean(train_err)), float(np.mean(val_err))


def gradient_descent(X, y, *, learning_rate=0.1, n_iter=1000, theta0=None):
    """Minimise the MSE (1/n)|X theta - y|^2 by full-batch gradient descent.

    The gradient is (2/n) X^T (X theta - y).

    Returns
    -------
    theta : ndarray of shape (n_features,)
    history : ndarray of shape (n_iter + 1,)
        MSE before the first and after every step (it grows without bound
        when the learning rate is too large).

    Examples
    --------
    >>> X = polynomial_features([0.0, 0.5, 1.0], 1)
    >>> theta, hist = gradient_descent(X, [0.0, 1.0, 2.0], learning_rate=0.5, n_iter=2000)
    >>> theta.round(4)
    array([0., 2.])
    """
    X, y = _check_xy(X, y)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate={learning_rate!r} should be > 0.")
    if int(n_iter) != n_iter or n_iter < 0:
        raise ValueError(f"n_iter={n_iter!r} should be a non-negative integer.")
    theta = np.zeros(X.shape[1]) if theta0 is None else np.array(theta0, dtype=float)
    if theta.shape != (X.shape[1],):
        raise ValueError(f"theta0 should have shape ({X.shape[1]},); got {theta.shape}.")
    n = y.size
    history = np.empty(int(n_iter) + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        residual = X @ theta - y
        history[0] = np.mean(residual**2)
        for i in range(int(n_iter)):
            theta = theta - learning_rate * (2.0 / n) * (X.T @ residual)
            residual = X @ theta - y
            history[i + 1] = np.mean(residual**2)
    return theta, history


def max_stable_learning_rate(X):
    """Largest learning rate for which gradient descent on the MSE converges: 2 / lambda_max.

    lambda_max is the largest eigenvalue of the Hessian (2/n) X^T X of the
    mean squared error.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    float

    Examples
    --------
    >>> max_stable_learning_rate(np.ones((4, 1)))
    1.0
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X should be a non-empty 2-D design matrix; got shape {X.shape}.")
    return float(2.0 / np.linalg.eigvalsh((2.0 / X.shape[0]) * X.T @ X).max())


class PolynomialRegression:
    """Polynomial regression with optional ridge penalty, scikit-learn style.

    Parameters
    ----------
    degree : int, default 1
    alpha : float, default 0
        Ridge strength; 0 is ordinary least squares.

    Attributes
    ----------
    coef_ : ndarray of shape (degree + 1,)
        Coefficients of x^0 ... x^degree.

    Examples
    --------
    >>> model = PolynomialRegression(degree=1).fit([0.0, 1.0, 2.0], [1.0, 3.0, 5.0])
    >>> model.predict([3.0]).round(6)
    array([7.])
    """

    def __init__(self, degree=1, *, alpha=0.0):
        self.degree = degree
        self.alpha = alpha

    def fit(self, x, y):
        """Fit to samples ``x`` (n_samples,) and targets ``y`` (n_samples,); return self."""
        self.coef_ = fit_ridge(polynomial_features(x, self.degree), y, self.alpha)
        return self

    def predict(self, x):
        """Predict at ``x`` (n_samples,); returns (n_samples,)."""
        if not hasattr(self, "coef_"):
            raise RuntimeError("this PolynomialRegression is not fitted yet; call fit(x, y) first.")
        return predict(polynomial_features(x, self.degree), self.coef_)

    def score(self, x, y):
        """Mean squared error on (x, y)."""
        return mse(y, self.predict(x))


def polynomial_explorer(x_train, y_train, x_val, y_val, *, truth=None, degrees=tuple(range(0, 16)),
                        alphas=(0.0, 1e-8, 1e-6, 1e-4, 1e-2, 1.0), live=None):
    """Explorer: move the polynomial degree and the ridge strength, watch the fit and both errors.

    Parameters
    ----------
    x_train, y_train : ndarray of shape (n_train,)
        Training data (x dimensionless, y in the units of the data).
    x_val, y_val : ndarray of shape (n_val,)
        Validation data.
    truth : callable, optional
        The true function, drawn for comparison.
    degrees, alphas : sequence
        Choices of the sliders.
    live : bool, optional
        See :func:`ml4em.widgets.explore`.

    Returns
    -------
    ipywidgets.Widget or matplotlib.figure.Figure
    """
    from .plotting import style
    from .widgets import Param, explore

    x_train, y_train = _as_1d("x_train", x_train), _as_1d("y_train", y_train)
    x_val, y_val = _as_1d("x_val", x_val), _as_1d("y_val", y_val)
    grid = np.linspace(min(x_train.min(), x_val.min()), max(x_train.max(), x_val.max()), 300)
    margin = 0.5 * (np.ptp(y_train) + 1e-12)
    y_lims = (y_train.min() - margin, y_train.max() + margin)

    def draw(ax, degree, alpha):
        model = PolynomialRegression(degree, alpha=alpha).fit(x_train, y_train)
        ax.plot(x_train, y_train, "o", label="training data", **{**style(0), "linestyle": "none"})
        ax.plot(x_val, y_val, "s", mfc="none", label="validation data", **{**style(1), "linestyle": "none"})
        if truth is not None:
            ax.plot(grid, truth(grid), label="true f(x)", **style(2))
        ax.plot(grid, model.predict(grid), label=f"degree {degree} fit", **style(3))
        ax.set_ylim(*y_lims)
        ax.set_xlabel("x (dimensionless)")
        ax.set_ylabel("y (dimensionless)")
        ax.text(0.02, 0.97, f"train MSE {model.score(x_train, y_train):.3g}\nval MSE {model.score(x_val, y_val):.3g}",
                transform=ax.transAxes, va="top", fontsize=9)
        ax.legend(fontsize=8, loc="best")

    params = {"degree": Param(list(degrees), default=min(3, max(degrees)), label="polynomial degree",
                              static=[d for d in (1, 3, 10) if d in degrees] or None),
              "alpha": Param(list(alphas), default=alphas[0], label="ridge strength alpha")}
    return explore(draw, params, title="Polynomial fit: degree and regularisation", live=live)
