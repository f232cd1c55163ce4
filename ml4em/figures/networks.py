"""Lecture figures on neural networks: activations, universal approximation, depth, costs, backpropagation.

The approximation and depth figures set the weights by construction (no training), so that what they show is
exact; the training figure trains a small Keras network by backpropagation.

Used in: lectures/part1_ml_crash_course.ipynb (practised in tutorials/02_neural_networks).
"""

import numpy as np

from ..plotting import MARKERS, style
from ._base import LectureFigure, new_figure

__all__ = ["relu", "activations", "relu_interpolant", "universal_approximation", "tent_network",
           "count_linear_pieces", "depth_sawtooth", "cost_functions", "training_by_backprop"]


def relu(z):
    """max(z, 0), elementwise."""
    return np.maximum(z, 0.0)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free form of 1 / (1 + exp(-z))


def activations():
    """Four activation functions and their derivatives.

    Returns
    -------
    LectureFigure
    """
    z = np.linspace(-4, 4, 401)
    funcs = {
        "sigmoid": (_sigmoid(z), _sigmoid(z) * (1 - _sigmoid(z))),
        "tanh": (np.tanh(z), 1 - np.tanh(z) ** 2),
        "ReLU": (relu(z), (z > 0).astype(float)),
        "leaky ReLU (0.1)": (np.where(z > 0, z, 0.1 * z), np.where(z > 0, 1.0, 0.1)),
    }
    fig, (a, b) = new_figure(2)
    for i, (name, (f, df)) in enumerate(funcs.items()):
        a.plot(z, f, **style(i), lw=2, label=name)
        b.plot(z, df, **style(i), lw=2, label=name)
    a.set_ylim(-1.5, 4)
    a.set_xlabel("pre-activation z (dimensionless)")
    a.set_ylabel("activation σ(z) (dimensionless)")
    b.set_xlabel("pre-activation z (dimensionless)")
    b.set_ylabel("derivative σ'(z) (dimensionless)")
    a.legend(fontsize=9)
    alt = ("Left: four activation functions against their input: the S-shaped sigmoid between 0 and 1, the S-shaped "
           "tanh between -1 and 1, the ReLU that is zero for negative input and the identity for positive input, and "
           "the leaky ReLU with a small slope for negative input. Right: their derivatives; those of sigmoid and tanh "
           "vanish for large positive or negative input, that of the ReLU is 0 or 1.")
    return LectureFigure(fig, alt, "Saturating activations have vanishing derivatives far from zero; the ReLU's "
                         "derivative does not vanish for positive inputs.")


def relu_interpolant(func, n_hidden, x_range=(0.0, 1.0)):
    """Weights of a one-hidden-layer ReLU network that interpolates ``func`` at ``n_hidden + 1`` knots.

    The network is f(x) = b + sum_k c_k ReLU(x - x_k): hidden unit k switches on at knot x_k and changes the slope
    by c_k, so f is the piecewise-linear interpolant of ``func`` (a constructive form of the universal
    approximation theorem).

    Parameters
    ----------
    func : callable
        Maps an array of x to an array of the same shape.
    n_hidden : int >= 1
    x_range : (float, float)

    Returns
    -------
    callable
        The network, x -> f(x).

    Examples
    --------
    >>> net = relu_interpolant(np.square, 4)
    >>> float(net(np.array([0.25]))[0])
    0.0625
    """
    if isinstance(n_hidden, bool) or not isinstance(n_hidden, (int, np.integer)) or n_hidden < 1:
        raise ValueError(f"n_hidden={n_hidden!r} should be an integer >= 1 (number of hidden ReLU units).")
    knots = np.linspace(x_range[0], x_range[1], int(n_hidden) + 1)
    values = np.asarray(func(knots), dtype=float)
    slopes = np.diff(values) / np.diff(knots)
    c = np.diff(slopes, prepend=0.0)  # change of slope at each knot
    b = values[0]

    def network(x):
        x = np.asarray(x, dtype=float)
        return b + relu(x[..., None] - knots[:-1]) @ c

    return network


def _target(x):
    return np.sin(2 * np.pi * x) + 0.6 * np.cos(5 * np.pi * x) * x


def universal_approximation(*, widths=(3, 6, 24), scan=(2, 4, 8, 16, 32, 64, 128)):
    """A one-hidden-layer ReLU network approximating a smooth function better as it gets wider.

    Parameters
    ----------
    widths : sequence of int
        Hidden units of the networks drawn on the left.
    scan : sequence of int
        Hidden units for the error curve on the right.

    Returns
    -------
    LectureFigure
        ``data``: ``widths`` (the scan) and ``max_error`` (largest error on [0, 1]).
    """
    x = np.linspace(0, 1, 2001)
    scan = np.array(scan, dtype=int)
    errors = np.array([np.abs(relu_interpolant(_target, int(n))(x) - _target(x)).max() for n in scan])
    fig, (a, b) = new_figure(2)
    a.plot(x, _target(x), color="0.2", lw=2.5, label="target function")
    for i, n in enumerate(widths):
        a.plot(x, relu_interpolant(_target, int(n))(x), **style(i), lw=1.6, label=f"{n} hidden ReLU units")
    a.set_xlabel("input x (arb. units)")
    a.set_ylabel("output f(x) (arb. units)")
    a.legend(fontsize=8)
    b.loglog(scan, errors, marker="o", **style(0), label="largest error")
    b.loglog(scan, errors[0] * (scan / scan[0]) ** -2.0, color="0.5", ls=":", label="∝ 1/N² (for reference)")
    b.set_xlabel("hidden units N")
    b.set_ylabel("max |f(x) - target| (arb. units)")
    b.legend(fontsize=9)
    alt = ("Left: a wavy target curve and its approximations by networks with one hidden layer of "
           f"{', '.join(str(w) for w in widths)} ReLU units; the approximations are polygons through points of the "
           "curve and follow it more closely as units are added. Right: on log-log axes, the largest error falls from "
           f"{errors[0]:.2g} to {errors[-1]:.1e} as the number of hidden units grows, about as one over its square.")
    return LectureFigure(fig, alt, "One hidden layer can approximate any continuous function on an interval if it "
                         "is wide enough; the weights here are set by construction, not learned.",
                         data={"widths": scan, "max_error": errors})


def tent_network(depth):
    """A ReLU network of ``depth`` layers with 2 units each that computes the tent map applied ``depth`` times.

    Each layer computes t(x) = 2 ReLU(x) - 4 ReLU(x - 1/2), which folds [0, 1] onto itself; composing L layers
    gives a sawtooth with 2**L linear pieces from only 2L hidden units.

    Parameters
    ----------
    depth : int >= 1

    Returns
    -------
    callable
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth={depth!r} should be an integer >= 1 (number of layers).")

    def network(x):
        a = np.asarray(x, dtype=float)
        for _ in range(int(depth)):
            a = 2 * relu(a) - 4 * relu(a - 0.5)
        return a

    return network


def count_linear_pieces(y, x):
    """Number of linear pieces of a piecewise-linear curve sampled on a uniform grid ``x``.

    Examples
    --------
    >>> x = np.linspace(0, 1, 1025)
    >>> count_linear_pieces(tent_network(3)(x), x)
    8
    """
    slope = np.diff(y) / np.diff(x)
    return int(1 + np.sum(np.abs(np.diff(slope)) > 1e-6 * max(1.0, np.abs(slope).max())))


def depth_sawtooth(*, max_depth=6):
    """Deep versus wide: linear pieces of a deep ReLU network against those of a shallow one.

    Parameters
    ----------
    max_depth : int, 1 to 8

    Returns
    -------
    LectureFigure
        ``data``: ``depth``, ``pieces`` (counted on a fine grid).
    """
    if isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer)) or not 1 <= max_depth <= 8:
        raise ValueError(f"max_depth={max_depth!r} should be an integer from 1 to 8.")
    x = np.linspace(0, 1, 2**12 + 1)
    depths = np.arange(1, max_depth + 1)
    pieces = np.array([count_linear_pieces(tent_network(int(L))(x), x) for L in depths])
    fig, (a, b) = new_figure(2)
    for i, L in enumerate(depths):
        a.plot(x, tent_network(int(L))(x) + 1.2 * i, **style(i), lw=1.5, label=f"{L} layer(s), {2 * L} units")
    a.set_xlabel("input x (arb. units)")
    a.set_ylabel("output, shifted (arb. units)")
    a.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    units = 2 * depths
    b.semilogy(units, pieces, marker=MARKERS[0], **style(0), label="deep: 2 units per layer")
    b.semilogy(units, units + 1, marker=MARKERS[1], **style(1), label="one hidden layer (at most N + 1)")
    b.set_yscale("log", base=2)
    b.yaxis.set_major_formatter("{x:.0f}")
    b.set_xlabel("hidden units N")
    b.set_ylabel("linear pieces (count)")
    b.legend(fontsize=9)
    alt = (f"Left: the outputs of ReLU networks with 1 to {max_depth} layers of two units, stacked: a single tent, "
           "then two, four and more teeth, each layer doubling them. Right: on a log scale the number of linear "
           f"pieces grows as 2 to the power of the depth, reaching {pieces[-1]} with {units[-1]} units, while one "
           "hidden layer with the same units has at most one piece more than units.")
    return LectureFigure(fig, alt, "Depth composes functions: the number of linear pieces grows exponentially with "
                         "depth but only linearly with width.", data={"depth": depths, "pieces": pieces})


def cost_functions():
    """Mean squared error and cross-entropy for a sigmoid output whose correct answer is 1, and their gradients.

    Returns
    -------
    LectureFigure
    """
    p = np.linspace(0.005, 0.995, 300)
    z = np.linspace(-6, 6, 300)
    s = _sigmoid(z)
    fig, (a, b) = new_figure(2)
    a.plot(p, (1 - p) ** 2, **style(0), lw=2, label="squared error (1 - p)²")
    a.plot(p, -np.log(p), **style(1), lw=2, label="cross-entropy -log p")
    a.set_ylim(0, 5)
    a.set_xlabel("predicted probability p of the true class (dimensionless)")
    a.set_ylabel("cost (dimensionless)")
    a.legend(fontsize=9)
    b.plot(z, np.abs(2 * (s - 1) * s * (1 - s)), **style(0), lw=2, label="squared error")
    b.plot(z, np.abs(s - 1), **style(1), lw=2, label="cross-entropy")
    b.set_xlabel("pre-activation z of the output, p = σ(z) (dimensionless)")
    b.set_ylabel("|∂C/∂z| (dimensionless)")
    b.legend(fontsize=9)
    alt = ("Left: two costs against the predicted probability of the correct class: the squared error stays below "
           "one, the cross-entropy grows without bound as the probability goes to zero. Right: the size of their "
           "gradients against the output's pre-activation; for a confidently wrong output (large negative z) the "
           "squared-error gradient vanishes while the cross-entropy gradient tends to one.")
    return LectureFigure(fig, alt, "With a sigmoid output, cross-entropy keeps a large gradient when the network is "
                         "confidently wrong; the squared error does not.")


def training_by_backprop(*, n_epochs=400, n_samples=64, hidden=(16, 16), learning_rate=0.01, seed=0):
    """A small network fitted by backpropagation and Adam: loss curves and the fit.

    Parameters
    ----------
    n_epochs : int >= 1
        Full-batch training steps.
    n_samples : int >= 8
        Noisy training points of the target function (a quarter more are kept for validation).
    hidden : sequence of int
        Units of the hidden layers (tanh activations).
    learning_rate : float > 0
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``loss`` and ``val_loss`` per epoch.
    """
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, (int, np.integer)) or n_epochs < 1:
        raise ValueError(f"n_epochs={n_epochs!r} should be an integer >= 1.")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 8:
        raise ValueError(f"n_samples={n_samples!r} should be an integer >= 8.")
    import keras
    from keras import layers

    rng = np.random.default_rng(seed)
    n_val = max(2, n_samples // 4)
    x = rng.uniform(0, 1, n_samples + n_val)
    y = _target(x) + 0.1 * rng.standard_normal(x.size)
    init = keras.initializers.GlorotUniform(seed=int(rng.integers(2**31)))
    model = keras.Sequential([keras.Input(shape=(1,))]
                             + [layers.Dense(int(h), activation="tanh", kernel_initializer=init) for h in hidden]
                             + [layers.Dense(1, kernel_initializer=init)], name="lecture_mlp")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    x_tr, y_tr = x[:n_samples, None].astype("float32"), y[:n_samples, None].astype("float32")
    x_va, y_va = x[n_samples:, None].astype("float32"), y[n_samples:, None].astype("float32")
    hist = {"loss": [], "val_loss": []}
    for _ in range(int(n_epochs)):  # full batch: one backpropagation and one Adam step per epoch
        hist["loss"].append(float(model.train_on_batch(x_tr, y_tr)))
        hist["val_loss"].append(float(model.test_on_batch(x_va, y_va)))
    grid = np.linspace(0, 1, 300)
    pred = np.asarray(model(grid[:, None], training=False)).ravel()
    fig, (a, b) = new_figure(2)
    from ..plotting import plot_loss_curves

    plot_loss_curves({"training loss": hist["loss"], "validation loss": hist["val_loss"]}, ax=b,
                     ylabel="mean squared error (arb. units²)")
    a.plot(x[:n_samples], y[:n_samples], ls="none", marker=MARKERS[0], ms=4, color=style(0)["color"],
           label="training data")
    a.plot(grid, _target(grid), color="0.2", lw=2, label="target")
    a.plot(grid, pred, **style(1), lw=2, label=f"network after {n_epochs} epochs")
    a.set_xlabel("input x (arb. units)")
    a.set_ylabel("output (arb. units)")
    a.legend(fontsize=8)
    alt = (f"Left: {n_samples} noisy training points of a wavy curve, the curve itself and the prediction of a "
           f"network with hidden layers of {', '.join(str(h) for h in hidden)} units after {n_epochs} epochs. Right: "
           "training and validation loss against epoch on a log scale, falling from "
           f"{hist['loss'][0]:.2g} to {hist['loss'][-1]:.2g}.")
    return LectureFigure(fig, alt, "Each epoch computes the gradient of the cost by backpropagation and takes one "
                         "Adam step; the validation loss tells when to stop.",
                         data={"loss": np.array(hist["loss"]), "val_loss": np.array(hist["val_loss"])})
