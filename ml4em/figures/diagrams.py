"""Schematic lecture figures drawn with matplotlib: the kinds of learning, a network, a GAN, folds.

Used in: lectures/part1_ml_crash_course.ipynb.
"""

import numpy as np

from ..plotting import MARKERS, color
from ._base import LectureFigure, new_figure

__all__ = ["learning_paradigms", "network_diagram", "gan_diagram", "cv_folds"]


def _box(ax, x, y, text, i=0, *, w=0.26, h=0.16, fontsize=10):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.01", fc="white",
                                ec=color(i), lw=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, text=None, *, offset=(0.0, 0.04), rad=0.0, fontsize=9):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color="k", lw=1.3,
                                                          connectionstyle=f"arc3,rad={rad}"))
    if text:
        mid = (np.asarray(start) + np.asarray(end)) / 2 + np.asarray(offset)
        ax.text(mid[0], mid[1], text, ha="center", va="center", fontsize=fontsize, style="italic")


def _blank(ax, title):
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)


def learning_paradigms(*, seed=0):
    """Three panels: supervised (labelled data), unsupervised (unlabelled data), reinforcement (a loop).

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        Seed of the example points.

    Returns
    -------
    LectureFigure
    """
    from matplotlib.patches import Circle

    rng = np.random.default_rng(seed)
    fig, (a, b, c) = new_figure(3, size=(11.0, 3.6))
    centres = np.array([[0.3, 0.35], [0.7, 0.65]])
    labels = np.repeat([0, 1], 20)
    pts = centres[labels] + 0.11 * rng.standard_normal((40, 2))
    for k in (0, 1):
        a.scatter(*pts[labels == k].T, color=color(k), marker=MARKERS[k], s=30, label=f"label {k}")
    a.plot([0.05, 0.95], [0.95, 0.05], color="k", ls="--", lw=1.2, label="learned boundary")
    a.legend(fontsize=8, loc="lower right")
    a.set_title("supervised: examples with answers", fontsize=11)
    blobs = np.array([[0.25, 0.7], [0.75, 0.7], [0.5, 0.25]])
    q = blobs[np.repeat([0, 1, 2], 15)] + 0.07 * rng.standard_normal((45, 2))
    b.scatter(*q.T, color="0.45", s=22, marker="o")
    for k, ctr in enumerate(blobs):
        b.add_patch(Circle(ctr, 0.2, fill=False, ec=color(k), lw=2, ls=("-", "--", "-.")[k]))
    b.set_title("unsupervised: find structure, no answers", fontsize=11)
    for ax in (a, b):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("feature 1 (arb. units)")
        ax.set_ylabel("feature 2 (arb. units)")
    _blank(c, "reinforcement: act, observe, get reward")
    _box(c, 0.5, 0.8, "agent\n(policy)", 0)
    _box(c, 0.5, 0.2, "environment\n(game, microscope)", 1, w=0.42)
    _arrow(c, (0.72, 0.75), (0.72, 0.3), "action", offset=(0.13, 0.0))
    _arrow(c, (0.28, 0.3), (0.28, 0.75), "state,\nreward", offset=(-0.13, 0.0))
    alt = ("Three panels. Left: points of two classes, blue circles and orange squares, separated by a dashed "
           "straight line learned from the labels. Middle: grey unlabelled points that fall into three groups "
           "circled in three colours. Right: a loop in which an agent sends an action to an environment and "
           "receives back the new state and a reward.")
    return LectureFigure(fig, alt, "Supervised learning learns from examples with answers, unsupervised learning "
                         "finds structure without answers, reinforcement learning learns from rewards.")


def network_diagram(layers=(1, 4, 4, 1)):
    """A feed-forward network: neurons as circles, weights as lines, forward and backward passes as arrows.

    Parameters
    ----------
    layers : sequence of int
        Neurons per layer, input first (2 to 6 layers, 1 to 8 neurons each).

    Returns
    -------
    LectureFigure
    """
    layers = tuple(layers)
    if not 2 <= len(layers) <= 6 or not all(isinstance(n, (int, np.integer)) and 1 <= n <= 8 for n in layers):
        raise ValueError(f"layers={layers!r} should be 2 to 6 integers between 1 and 8 (neurons per layer).")
    fig, ax = new_figure(1, size=(9.6, 4.2))
    _blank(ax, "a feed-forward network " + "-".join(str(n) for n in layers))
    xs = np.linspace(0.1, 0.9, len(layers))
    pos = [np.column_stack([np.full(n, x), np.linspace(0.5 - 0.09 * (n - 1), 0.5 + 0.09 * (n - 1), n)])
           for x, n in zip(xs, layers)]
    for left, right in zip(pos[:-1], pos[1:]):
        for p in left:
            for q in right:
                ax.plot([p[0], q[0]], [p[1], q[1]], color="0.6", lw=0.8)
    for i, p in enumerate(pos):
        kind = 0 if i == 0 else (2 if i == len(pos) - 1 else 1)
        ax.scatter(p[:, 0], p[:, 1], s=420, color="white", edgecolors=color(kind), linewidths=2.5, zorder=3)
    names = ["input x"] + [f"hidden {i}" for i in range(1, len(layers) - 1)] + ["output ŷ"]
    for x, name in zip(xs, names):
        ax.text(x, 0.04, name, ha="center", fontsize=10)
    _arrow(ax, (0.15, 0.93), (0.85, 0.93), "forward pass: a = σ(W a' + b)", offset=(0, 0.035))
    _arrow(ax, (0.85, 0.11), (0.15, 0.11), "backward pass: ∂C/∂W by the chain rule", offset=(0, 0.035))
    alt = (f"A network drawn as columns of circles: {layers[0]} input neuron(s), hidden layers of "
           f"{', '.join(str(n) for n in layers[1:-1]) or 'no'} neurons and {layers[-1]} output neuron(s); every "
           "neuron is joined to every neuron of the next layer. An arrow along the top marks the forward pass from "
           "input to output, an arrow along the bottom the backward pass of the gradients.")
    return LectureFigure(fig, alt, "Each neuron applies an activation to a weighted sum of the previous layer; "
                         "backpropagation sends the gradient of the cost back through the same connections.")


def gan_diagram():
    """The two networks of a GAN and what each one is trained to do.

    Returns
    -------
    LectureFigure
    """
    fig, ax = new_figure(1, size=(9.6, 3.8))
    _blank(ax, "a generative adversarial network")
    _box(ax, 0.1, 0.7, "random\nnoise z", 4, w=0.16)
    _box(ax, 0.38, 0.7, "generator G", 0, w=0.2)
    _box(ax, 0.38, 0.25, "real images\n(training set)", 2, w=0.22)
    _box(ax, 0.68, 0.48, "discriminator D", 1, w=0.24)
    _box(ax, 0.92, 0.48, "P(real)", 3, w=0.13)
    _arrow(ax, (0.18, 0.7), (0.28, 0.7))
    _arrow(ax, (0.48, 0.7), (0.6, 0.55), "G(z): fake", offset=(0.0, 0.07))
    _arrow(ax, (0.49, 0.25), (0.6, 0.41), "x: real", offset=(0.02, -0.07))
    _arrow(ax, (0.8, 0.48), (0.855, 0.48))
    ax.text(0.68, 0.93, "D is trained to tell real from fake;\nG is trained to make D answer 'real'",
            ha="center", va="center", fontsize=10)
    alt = ("Block diagram: random noise enters the generator, which outputs a fake image; fake images and real "
           "training images both enter the discriminator, which outputs the probability that its input is real. "
           "A note says that the discriminator is trained to tell real from fake and the generator to fool it.")
    return LectureFigure(fig, alt, "The generator never sees a real image: it learns only from the "
                         "discriminator's verdicts.")


def cv_folds(n_folds=5, n_samples=20):
    """k-fold cross-validation drawn as rows of samples: one validation fold per round.

    Parameters
    ----------
    n_folds : int, 2 to 10
    n_samples : int >= n_folds

    Returns
    -------
    LectureFigure
    """
    if not isinstance(n_folds, (int, np.integer)) or not 2 <= n_folds <= 10:
        raise ValueError(f"n_folds={n_folds!r} should be an integer from 2 to 10.")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < n_folds:
        raise ValueError(f"n_samples={n_samples!r} should be an integer >= n_folds={n_folds}.")
    from matplotlib.patches import Rectangle

    fig, ax = new_figure(1, size=(9.6, 3.4))
    folds = np.array_split(np.arange(n_samples), n_folds)
    for r, fold in enumerate(folds):
        for i in range(n_samples):
            val = i in fold
            ax.add_patch(Rectangle((i, n_folds - 1 - r), 0.9, 0.8, fc=color(1) if val else color(0),
                                   hatch="//" if val else None, ec="white"))
        ax.text(n_samples + 0.4, n_folds - 1 - r + 0.4, f"round {r + 1}: validation error $E_{r + 1}$",
                va="center", fontsize=9)
    ax.set_xlim(0, n_samples + 6)
    ax.set_ylim(-0.3, n_folds + 0.2)
    ax.set_axis_off()
    ax.set_title(f"{n_folds}-fold cross-validation: blue = fit, orange hatched = validate; "
                 r"CV error = mean of the $E_k$", fontsize=10)
    alt = (f"A grid of {n_folds} rows of {n_samples} squares, one row per round. In each row most squares are blue "
           "(used to fit) and one consecutive block is orange and hatched (used to validate); the orange block moves "
           "one fold to the right in every row, so that each sample is validated exactly once.")
    return LectureFigure(fig, alt, "Every sample is used for validation once and for fitting k - 1 times.")
