"""Lecture figures on clustering, convolution and reinforcement learning.

K-means comes from :mod:`ml4em.clustering`, convolution and pooling from :mod:`ml4em.cnn`, the STEM image from
:mod:`ml4em.stem`, and the multi-armed bandit (the smallest reinforcement-learning problem: epsilon-greedy and UCB
agents and their regret) from :mod:`ml4em.rl`.

Used in: lectures/part1_ml_crash_course.ipynb (practised in tutorials/03_clustering, 04_cnn and
10_reinforcement_learning).
"""

import numpy as np

from ..plotting import MARKERS, color, style
from ._base import LectureFigure, new_figure

__all__ = ["kmeans_steps", "kmeans_failures", "convolution", "bandit"]


def kmeans_steps(*, n_samples=150, steps=(0, 1, 2, 8), seed=3):
    """K-means on potato sizes: the initial centres, the first iterations and the converged clusters.

    Parameters
    ----------
    n_samples : int >= 3
    steps : sequence of int
        Iterations drawn, one panel each (1 to 4 panels).
    seed : int

    Returns
    -------
    LectureFigure
    """
    from ..clustering import make_potatoes, plot_kmeans_steps

    steps = [int(s) for s in steps]
    if not 1 <= len(steps) <= 4 or min(steps) < 0:
        raise ValueError(f"steps={steps!r} should be 1 to 4 non-negative iteration numbers.")
    X, _ = make_potatoes(n_samples, seed=seed)
    fig, axes = new_figure(len(steps), size=(11.0, 3.4))
    for ax, s in zip(np.atleast_1d(axes), steps):
        plot_kmeans_steps(ax, X[:, :2], n_clusters=3, step=s, init="random", seed=seed,
                          labels=("length (cm)", "width (cm)"))
    alt = (f"{len(steps)} scatter plots of potato width against length after K-means iterations "
           f"{', '.join(str(s) for s in steps)}. At the start all points are grey and three crosses mark random "
           "centres; after each iteration the points take the colour of their nearest centre and the centres move to "
           "the mean of their points, tracing short paths, until three groups settle: long and wide, short and "
           "round, long and thin.")
    return LectureFigure(fig, alt, "Each K-means iteration assigns every point to its nearest centre and moves "
                         "each centre to the mean of its points; the cost can only fall.")


def _failure_data(rng):
    n = 150
    a = np.concatenate([rng.normal([0, 0], 0.25, (n // 3, 2)), rng.normal([2.4, 0], 0.25, (n // 3, 2)),
                        rng.normal([1.2, 1.4], 1.1, (n, 2))])
    ta = np.repeat([0, 1, 2], [n // 3, n // 3, n])
    t = rng.normal(size=(n, 2)) @ np.array([[2.0, 0.0], [0.0, 0.18]])
    rot = np.array([[np.cos(0.6), -np.sin(0.6)], [np.sin(0.6), np.cos(0.6)]])
    b = np.concatenate([t @ rot.T, t @ rot.T + [0.0, 1.3]])
    tb = np.repeat([0, 1], n)
    phi = rng.uniform(0, 2 * np.pi, n)
    ring = np.column_stack([np.cos(phi), np.sin(phi)]) * (2.0 + 0.12 * rng.standard_normal(n))[:, None]
    c = np.concatenate([rng.normal(0, 0.35, (n // 2, 2)), ring])
    tc = np.repeat([0, 1], [n // 2, n])
    return [(a, ta, "unequal sizes and spreads"), (b, tb, "elongated clusters"), (c, tc, "a ring around a core")]


def kmeans_failures(*, seed=0):
    """Three data sets where K-means with the right K still finds the wrong clusters.

    Returns
    -------
    LectureFigure
        ``data["agreement"]``: fraction of points that K-means puts with their true group (best label matching).
    """
    from itertools import permutations

    from ..clustering import KMeans

    rng = np.random.default_rng(seed)
    fig, axes = new_figure(3, size=(11.0, 3.6))
    agreement = []
    for ax, (X, truth, title) in zip(axes, _failure_data(rng)):
        k = int(truth.max()) + 1
        labels = KMeans(k, n_init=5, seed=seed).fit(X).labels_
        agreement.append(max(np.mean(np.asarray(p)[labels] == truth) for p in permutations(range(k))))
        for j in range(k):
            sel = labels == j
            ax.scatter(X[sel, 0], X[sel, 1], s=10, color=color(j), marker=MARKERS[j], alpha=0.7)
        ax.set_title(f"{title}: {100 * agreement[-1]:.0f}% right", fontsize=10)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("feature 1 (arb. units)")
        ax.set_ylabel("feature 2 (arb. units)")
    alt = ("Three scatter plots coloured by the clusters that K-means finds with the right number of clusters. Left: "
           "two small tight groups beside one large diffuse group; K-means cuts the large group and gives parts of it "
           "to the small ones. Middle: two long parallel stripes; K-means cuts across them instead of along them. "
           "Right: a ring around a central blob; K-means splits the picture into halves, each with part of the ring "
           "and part of the core.")
    return LectureFigure(fig, alt, "K-means assumes round clusters of similar size: it minimises the distance to a "
                         "centre, whatever the shape of the data.", data={"agreement": np.array(agreement)})


def convolution(*, seed=0, shift=(3, 5)):
    """A simulated STEM image, a convolution that finds atomic columns, max pooling, and translation equivariance.

    Parameters
    ----------
    seed : int
    shift : (int, int)
        Pixels by which the image is shifted (rows, columns) to show that the feature map shifts with it.

    Returns
    -------
    LectureFigure
        ``data["equivariance_error"]``: largest difference between conv(shift(image)) and shift(conv(image)) away
        from the borders (zero up to rounding).
    """
    from ..cnn import conv2d, max_pool2d
    from ..stem import simulate_stem

    data = simulate_stem(1, size=64, seed=seed, dose=5e3)
    image = data.images[0].astype(float)
    image = (image - image.mean()) / image.std()
    r = np.arange(-3, 4)
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * 1.2**2))
    kernel = g / g.sum() - 1.0 / g.size  # a zero-mean blob detector
    fmap = conv2d(image, kernel, mode="same")
    pooled = max_pool2d(fmap, 2)
    dy, dx = (int(s) for s in shift)
    moved = np.roll(image, (dy, dx), axis=(0, 1))
    diff = conv2d(moved, kernel, mode="same") - np.roll(fmap, (dy, dx), axis=(0, 1))
    m = 3 + max(abs(dy), abs(dx))
    err = float(np.abs(diff[m:-m, m:-m]).max())
    size = image.shape[0] * data.pixel_size
    ext = (0, size, 0, size)
    fig, axes = new_figure(4, size=(12.0, 3.4))
    panels = [(image, "input image", "intensity (standardised)"),
              (fmap, "after a 7×7 blob kernel", "feature value (arb. units)"),
              (pooled, "after 2×2 max pooling", "feature value (arb. units)"),
              (diff, f"conv(shift) - shift(conv), max {err:.0e}", "difference (arb. units)")]
    for ax, (img, title, label) in zip(axes, panels):
        im = ax.imshow(img, cmap="gray" if img is image else "viridis", extent=ext, origin="lower")
        cb = fig.colorbar(im, ax=ax, shrink=0.8)
        cb.set_label(label if "(" in label else label + " (dimensionless)", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("x (nm)")
        ax.set_ylabel("y (nm)")
    alt = ("Four image panels. First: a noisy simulated STEM image of a crystal, bright spots on a hexagonal lattice "
           "with a few dim or missing spots. Second: the image convolved with a small blob-shaped kernel; each atomic "
           "column becomes a bright smooth peak and the noise is suppressed. Third: the same map after 2 by 2 max "
           "pooling, at half the resolution. Fourth: the difference between convolving a shifted image and shifting "
           "the convolved image, which is zero everywhere away from the edges.")
    return LectureFigure(fig, alt, "A convolution applies the same small kernel everywhere: a shifted input gives a "
                         "shifted output, so a column detector works wherever the column is.",
                         data={"equivariance_error": err, "pooled_shape": pooled.shape})


def bandit(*, epsilons=(0.0, 0.01, 0.1), c=2.0, n_steps=1000, n_runs=300, seed=0):
    """Exploration against exploitation: epsilon-greedy and UCB agents on 10-armed bandits (:mod:`ml4em.rl`).

    The curves are :func:`ml4em.rl.regret_curve`: the regret summed over the pulls so far, averaged over
    ``n_runs`` bandits whose arms have mean rewards drawn from N(0, 1); every agent sees the same bandits and the
    same reward noise. The right panel is its slope, the regret of each pull: what the agent loses on that pull,
    on average, by not pulling the best arm.

    Parameters
    ----------
    epsilons : sequence of float in [0, 1]
        Exploration rates of the epsilon-greedy agents (0 is the purely greedy one).
    c : float >= 0 or None
        Width of the confidence bonus of a UCB agent drawn last; None leaves it out.
    n_steps, n_runs : int >= 1
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``labels`` of the agents, ``regret`` (cumulative, shape (n_agents, n_steps)) and
        ``per_step`` (regret of each pull, same shape), in reward units.
    """
    from ..rl import regret_curve

    epsilons = [float(e) for e in epsilons]
    agents = [("epsilon", e, f"ε = {e:g}" + (" (greedy)" if e == 0 else "")) for e in epsilons]
    if c is not None:
        agents.append(("ucb", float(c), f"UCB (c = {c:g})"))
    if not agents:
        raise ValueError("epsilons=() and c=None leave no agent to draw.")
    regret = np.array([regret_curve(m, p, n_arms=10, n_steps=n_steps, n_runs=n_runs, seed=seed)
                       for m, p, _ in agents])
    per_step = np.diff(regret, axis=1, prepend=0.0)
    steps = np.arange(1, n_steps + 1)
    fig, (a, b) = new_figure(2)
    w = max(1, n_steps // 50)
    kernel = np.ones(w) / w
    for i, (_, _, label) in enumerate(agents):
        a.plot(steps, regret[i], **style(i), label=label)
        b.plot(steps[w - 1:], np.convolve(per_step[i], kernel, "valid"), **style(i), label=label)
    a.set_xlabel("step (pulls of an arm)")
    a.set_ylabel("cumulative regret (reward units)")
    b.set_xlabel("step (pulls of an arm)")
    b.set_ylabel("regret per pull (reward units)")
    b.set_ylim(bottom=0)
    a.legend(fontsize=9)
    b.legend(fontsize=9)
    labels = [label for _, _, label in agents]
    final = regret[:, -1]
    late = per_step[:, -max(1, n_steps // 10):].mean(axis=1)
    order = np.argsort(final)
    ranking = ", ".join(f"{labels[i]} at {final[i]:.0f}" for i in order)
    alt = (f"Two plots against step for {len(agents)} agents on 10-armed bandits, averaged over {n_runs} runs. Left: "
           f"the cumulative regret, what each agent lost by not always pulling the best arm; after {n_steps} pulls, "
           f"from lowest to highest: {ranking}. Right: the regret per pull, smoothed; it falls as the agents learn, "
           f"and over the last tenth of the pulls it is {late[order[0]]:.2f} for {labels[order[0]]} and "
           f"{late[order[-1]]:.2f} for {labels[order[-1]]}.")
    return LectureFigure(fig, alt, "An agent that never explores can stay with the first arm that looked good and "
                         "keeps paying for it; exploring at random, or by optimism about rarely tried arms (UCB), "
                         "finds the best arm.",
                         data={"labels": labels, "regret": regret, "per_step": per_step})
