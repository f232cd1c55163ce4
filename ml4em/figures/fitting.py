"""Lecture figures on supervised fitting: the best fit, over-fitting, learning curves, ridge, gradient descent.

All numbers come from :mod:`ml4em.regression` and :func:`ml4em.datasets.make_regression_data`.

Used in: lectures/part1_ml_crash_course.ipynb (practised in tutorials/01_regression).
"""

import numpy as np

from .. import regression as reg
from ..datasets import REGRESSION_FUNCTIONS, make_regression_data
from ..plotting import MARKERS, style
from ._base import LectureFigure, new_figure

__all__ = ["best_fit", "overfitting", "learning_curve", "regularisation", "gradient_descent_paths"]


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    return int(value)


def best_fit(*, n_samples=12, noise=0.3, seed=0):
    """A straight line fitted by least squares, and the cost surface whose minimum it is.

    Parameters
    ----------
    n_samples : int >= 3
    noise : float >= 0
        Standard deviation of the noise on y (arb. units).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    LectureFigure
        ``data["theta"]``: intercept and slope of the best fit.
    """
    n_samples = _check_int("n_samples", n_samples, 3)
    x, y = make_regression_data(n_samples, function="linear", noise=noise, seed=seed)
    X = reg.polynomial_features(x, 1)
    theta = reg.fit_least_squares(X, y)
    fig, (a, b) = new_figure(2)
    a.vlines(x, y, reg.predict(X, theta), color="0.5", lw=1, label="residuals")
    a.plot(x, y, ls="none", marker=MARKERS[0], color=style(0)["color"], label="data $(x_i, y_i)$")
    grid = np.linspace(0, 1, 50)
    a.plot(grid, theta[0] + theta[1] * grid, **style(1), label=fr"best fit $\hat y = {theta[0]:.2f} + {theta[1]:.2f}x$")
    a.set_xlabel("x (arb. units)")
    a.set_ylabel("y (arb. units)")
    a.legend(fontsize=9)
    t0 = np.linspace(theta[0] - 1.5, theta[0] + 1.5, 121)
    t1 = np.linspace(theta[1] - 3.0, theta[1] + 3.0, 121)
    T0, T1 = np.meshgrid(t0, t1)
    cost = np.mean((T0[..., None] + T1[..., None] * x - y) ** 2, axis=-1)
    cs = b.contour(T0, T1, cost, levels=np.quantile(cost, [0.01, 0.05, 0.15, 0.3, 0.5, 0.75]), cmap="viridis")
    b.clabel(cs, fontsize=8, fmt="%.2f")
    b.plot(*theta, marker="*", ms=16, color=style(5)["color"], ls="none", label="minimum of the cost")
    b.set_xlabel(r"intercept $\theta_0$ (arb. units)")
    b.set_ylabel(r"slope $\theta_1$ (arb. units)")
    b.set_title("cost C(θ) = mean squared error (arb. units²)", fontsize=10)
    b.legend(fontsize=9)
    alt = (f"Left: {n_samples} noisy points rising from left to right, the fitted straight line with intercept "
           f"{theta[0]:.2f} and slope {theta[1]:.2f}, and grey vertical residuals between points and line. Right: "
           "elliptical contour lines of the mean squared error over intercept and slope, with a star at their "
           "common centre, the best fit.")
    return LectureFigure(fig, alt, "The best fit is the minimum of the cost over the model's parameters.",
                         data={"theta": theta})


def overfitting(*, n_train=10, noise=0.3, degrees=range(0, 10), n_repeats=50, n_validation=500, seed=0):
    """Polynomial fits of growing degree, and their training and validation errors.

    Parameters
    ----------
    n_train : int >= 2
        Training points of f(x) = 2x - 10x^5 + 15x^10.
    noise : float
    degrees : iterable of int
    n_repeats : int >= 1
        Independent training sets averaged in the right panel.
    n_validation : int >= 1
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``degrees``, ``train`` and ``validation`` (mean MSE per degree) and ``best_degree``.
    """
    n_train = _check_int("n_train", n_train, 2)
    n_repeats = _check_int("n_repeats", n_repeats, 1)
    degrees = np.array(list(degrees), dtype=int)
    if degrees.size < 2 or degrees.min() < 0:
        raise ValueError(f"degrees={degrees.tolist()!r} should hold at least two non-negative integers.")
    rng = np.random.default_rng(seed)
    x_val, y_val = make_regression_data(n_validation, function="tenth", noise=noise, seed=rng)
    train, val = np.zeros((n_repeats, degrees.size)), np.zeros((n_repeats, degrees.size))
    for r in range(n_repeats):
        x, y = make_regression_data(n_train, function="tenth", noise=noise, seed=rng)
        for j, d in enumerate(degrees):
            model = reg.PolynomialRegression(int(d)).fit(x, y)
            train[r, j], val[r, j] = model.score(x, y), model.score(x_val, y_val)
    train, val = np.median(train, axis=0), np.median(val, axis=0)
    best = int(degrees[np.argmin(val)])
    x, y = make_regression_data(n_train, function="tenth", noise=noise, seed=seed)
    fig, (a, b) = new_figure(2)
    grid = np.linspace(0, 1, 300)
    a.plot(grid, REGRESSION_FUNCTIONS["tenth"](grid), color="0.3", lw=2, label="truth")
    for i, d in enumerate((1, 3, min(n_train - 1, 9))):
        fit = reg.PolynomialRegression(d).fit(x, y)
        a.plot(grid, fit.predict(grid), **style(i + 1), label=f"degree {d}")
    a.plot(x, y, ls="none", marker=MARKERS[0], color=style(0)["color"], label="training data")
    a.set_ylim(-1.5, 9)
    a.set_xlabel("x (arb. units)")
    a.set_ylabel("y (arb. units)")
    a.legend(fontsize=8, ncols=2)
    b.semilogy(degrees, train, marker="o", **style(0), label="training error")
    b.semilogy(degrees, val, marker="s", **style(1), label="validation error")
    b.axvline(best, color="0.5", lw=1)
    b.set_ylim(max(1e-4, 0.3 * min(train.min(), val.min())), None)
    b.set_xlabel("degree of the polynomial")
    b.set_ylabel("mean squared error (arb. units²)")
    b.set_title(f"median of {n_repeats} training sets of {n_train} points", fontsize=10)
    b.legend(fontsize=9)
    alt = (f"Left: {n_train} noisy points of a curve that is flat and then rises steeply, with polynomial fits of "
           "degree 1 (too stiff), 3 and 9; the degree-9 curve passes through every point and swings wildly between "
           "them. Right: on a log scale, the training error falls steadily with the degree while the validation "
           f"error falls, reaches its minimum at degree {best}, and then rises steeply.")
    return LectureFigure(fig, alt, "Training error only falls with flexibility; the validation error, which "
                         "measures prediction, has a minimum.",
                         data={"degrees": degrees, "train": train, "validation": val, "best_degree": best})


def learning_curve(*, sizes=(12, 20, 40, 80, 160, 320), degrees=(3, 9), noise=0.2, n_repeats=40, seed=0):
    """Validation error against the number of training examples, for a stiff and a flexible model.

    Parameters
    ----------
    sizes : sequence of int
        Training-set sizes (each larger than the largest degree).
    degrees : sequence of int
    noise : float > 0
        The noise floor is ``noise**2``.
    n_repeats : int >= 1
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``sizes``, ``validation`` (len(degrees), len(sizes)) median MSE, ``noise_floor``.
    """
    sizes = np.array(sizes, dtype=int)
    degrees = np.array(degrees, dtype=int)
    if sizes.size < 2 or sizes.min() <= degrees.max():
        raise ValueError(f"sizes={sizes.tolist()!r} should hold at least two sizes, each larger than the largest "
                         f"degree {degrees.max()}.")
    if not noise > 0:
        raise ValueError(f"noise={noise!r} should be > 0.")
    n_repeats = _check_int("n_repeats", n_repeats, 1)
    rng = np.random.default_rng(seed)
    x_val, y_val = make_regression_data(1000, function="tenth", noise=noise, seed=rng)
    val = np.zeros((degrees.size, sizes.size, n_repeats))
    for j, n in enumerate(sizes):
        for r in range(n_repeats):
            x, y = make_regression_data(int(n), function="tenth", noise=noise, seed=rng)
            for i, d in enumerate(degrees):
                val[i, j, r] = reg.PolynomialRegression(int(d)).fit(x, y).score(x_val, y_val)
    val = np.median(val, axis=-1)
    fig, ax = new_figure(1, size=(8.0, 3.8))
    for i, d in enumerate(degrees):
        ax.loglog(sizes, val[i], marker=MARKERS[i], **style(i), label=f"degree {d}")
    ax.axhline(noise**2, color="0.4", lw=1.5, ls=":", label="noise floor σ²")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training examples n")
    ax.set_ylabel("validation MSE (arb. units²)")
    ax.legend(fontsize=9)
    alt = ("Log-log plot of the validation error against the number of training examples for polynomial models "
           f"of degree {', '.join(str(d) for d in degrees)}. Both errors fall as examples are added; the flexible "
           "model starts far worse but approaches the dotted noise floor, while the stiff model levels off above it.")
    return LectureFigure(fig, alt, "More examples make a flexible model usable; no model beats the noise floor.",
                         data={"sizes": sizes, "validation": val, "noise_floor": noise**2})


def regularisation(*, degree=12, n_train=20, noise=0.2, alphas=None, seed=0):
    """Ridge regression: fits of one flexible model for three strengths, and the cross-validation error.

    Parameters
    ----------
    degree : int
    n_train : int > degree / 2
    noise : float
    alphas : sequence of float, optional
        Ridge strengths scanned (default 24 values from 1e-10 to 10).
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``alphas``, ``train``, ``validation`` (5-fold means), ``best_alpha``.
    """
    degree = _check_int("degree", degree, 1)
    n_train = _check_int("n_train", n_train, 5)
    alphas = np.logspace(-10, 1, 24) if alphas is None else np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or alphas.size < 2 or np.any(alphas <= 0):
        raise ValueError("alphas should be a 1-D sequence of at least two positive ridge strengths.")
    x, y = make_regression_data(n_train, function="tenth", noise=noise, seed=seed)
    cv = np.array([reg.cross_validate(x, y, degree, n_folds=5, alpha=a, seed=0) for a in alphas])
    best = float(alphas[np.argmin(cv[:, 1])])
    fig, (a, b) = new_figure(2)
    grid = np.linspace(0, 1, 300)
    a.plot(x, y, ls="none", marker=MARKERS[0], color=style(0)["color"], label="training data")
    for i, alpha in enumerate((1e-12, best, 1.0)):
        fit = reg.PolynomialRegression(degree, alpha=alpha).fit(x, y)
        a.plot(grid, fit.predict(grid), **style(i + 1), label=f"α = {alpha:.0e}")
    a.set_ylim(-1.5, 9)
    a.set_xlabel("x (arb. units)")
    a.set_ylabel("y (arb. units)")
    a.legend(fontsize=9, title=f"degree {degree}", title_fontsize=9)
    b.loglog(alphas, cv[:, 0], marker="o", **style(0), label="training error")
    b.loglog(alphas, cv[:, 1], marker="s", **style(1), label="validation error")
    b.axvline(best, color="0.5", lw=1)
    b.set_xlabel("ridge strength α (dimensionless)")
    b.set_ylabel("5-fold mean MSE (arb. units²)")
    b.legend(fontsize=9)
    alt = (f"Left: a degree-{degree} polynomial fitted to {n_train} points with three ridge strengths: almost no "
           "penalty gives a wiggly curve, the cross-validated strength a smooth curve close to the data, a strong "
           "penalty a curve that misses the steep rise. Right: on log axes the training error grows with the ridge "
           f"strength while the validation error has a minimum near alpha = {best:.0e}.")
    return LectureFigure(fig, alt, "Regularisation trades a little training error for much better prediction; "
                         "its strength is chosen by cross-validation.",
                         data={"alphas": alphas, "train": cv[:, 0], "validation": cv[:, 1], "best_alpha": best})


def gradient_descent_paths(*, fractions=(0.3, 0.9, 1.03), n_steps=40, seed=0):
    """Gradient descent on the least-squares cost of a straight line, for three learning rates.

    Parameters
    ----------
    fractions : sequence of float > 0
        Learning rates as fractions of the stability limit 2/λ_max.
    n_steps : int >= 1
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``limit`` (2/λ_max), ``final_cost`` per fraction, ``best_cost``.
    """
    n_steps = _check_int("n_steps", n_steps, 1)
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or np.any(fractions <= 0):
        raise ValueError(f"fractions={fractions.tolist()!r} should be positive numbers (multiples of 2/λ_max).")
    x, y = make_regression_data(30, function="linear", noise=0.2, seed=seed)
    X = reg.polynomial_features(x, 1)
    limit = reg.max_stable_learning_rate(X)
    exact = reg.fit_least_squares(X, y)
    best_cost = reg.mse(y, reg.predict(X, exact))
    start = exact + np.array([1.5, -2.5])
    fig, (a, b) = new_figure(2)
    t0 = np.linspace(exact[0] - 2.5, exact[0] + 2.5, 151)
    t1 = np.linspace(exact[1] - 4.0, exact[1] + 4.0, 151)
    T0, T1 = np.meshgrid(t0, t1)
    cost = np.mean((T0[..., None] + T1[..., None] * x - y) ** 2, axis=-1)
    a.contour(T0, T1, cost, levels=np.geomspace(best_cost * 1.5, cost.max(), 9), cmap="viridis", linewidths=0.8)
    finals = []
    for i, f in enumerate(fractions):
        path = [start]
        theta = start
        for _ in range(n_steps):
            theta, hist = reg.gradient_descent(X, y, learning_rate=f * limit, n_iter=1, theta0=theta)
            path.append(theta)
        path = np.array(path)
        _, history = reg.gradient_descent(X, y, learning_rate=f * limit, n_iter=n_steps, theta0=start)
        finals.append(history[-1])
        inside = np.all(np.abs(path - exact) < [2.5, 4.0], axis=1)
        a.plot(*path[inside].T, marker=MARKERS[i], ms=3, **style(i + 1), label=f"η = {f:.2f} × 2/λ_max")
        b.semilogy(np.arange(n_steps + 1), history - best_cost + 1e-12, **style(i + 1), label=f"η = {f:.2f} × 2/λ_max")
    a.plot(*exact, marker="*", ms=15, color="k", ls="none", label="minimum")
    a.set_xlim(t0[0], t0[-1])
    a.set_ylim(t1[0], t1[-1])
    a.set_xlabel(r"intercept $\theta_0$ (arb. units)")
    a.set_ylabel(r"slope $\theta_1$ (arb. units)")
    a.legend(fontsize=8, loc="upper right")
    b.set_xlabel("step of gradient descent")
    b.set_ylabel("cost above its minimum (arb. units²)")
    b.legend(fontsize=8)
    alt = ("Left: contour lines of the least-squares cost over intercept and slope form long narrow ellipses; three "
           "gradient-descent paths start from the same point. The smallest learning rate creeps along the valley, "
           "the largest stable one zig-zags across it and approaches the minimum, and the one just above the limit "
           "zig-zags outwards. Right: the cost above its minimum against step on a log scale, falling for the first "
           "two learning rates and growing for the third.")
    return LectureFigure(fig, alt, "Gradient descent converges only for learning rates below 2/λ_max of the cost's "
                         "Hessian; a narrow valley makes it slow.",
                         data={"limit": limit, "final_cost": np.array(finals), "best_cost": best_cost})
