"""Lecture figures on clustering, convolution and reinforcement learning.

K-means comes from :mod:`ml4em.clustering`, convolution and pooling from :mod:`ml4em.cnn`, the STEM image from
:mod:`ml4em.stem`. The multi-armed bandit (the smallest reinforcement-learning problem) is written here: no
tutorial uses it.

Used in: lectures/part1_ml_crash_course.ipynb (practised in tutorials/03_clustering and 04_cnn).
"""

import numpy as np

from ..plotting import MARKERS, color, style
from ._base import LectureFigure, new_figure

__all__ = ["kmeans_steps", "kmeans_failures", "convolution", "run_bandit", "bandit"]


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


def run_bandit(n_arms=10, *, epsilon=0.1, n_steps=1000, n_runs=200, seed=None):
    """Epsilon-greedy agents on a multi-armed bandit, many independent runs at once.

    Each run draws true mean rewards ``q*`` from N(0, 1); pulling arm a pays N(q*_a, 1). The agent keeps a running
    mean of each arm's rewards, pulls the best-looking arm, and with probability ``epsilon`` a random one instead.

    Parameters
    ----------
    n_arms : int >= 2
    epsilon : float in [0, 1]
        Exploration rate.
    n_steps, n_runs : int >= 1
    seed : int, numpy.random.Generator or None

    Returns
    -------
    reward : ndarray of shape (n_steps,)
        Mean reward per step over the runs (arb. units).
    optimal : ndarray of shape (n_steps,)
        Fraction of the runs that pulled their best arm at each step.

    Examples
    --------
    >>> reward, optimal = run_bandit(5, epsilon=0.1, n_steps=500, n_runs=100, seed=0)
    >>> bool(optimal[-100:].mean() > optimal[:10].mean())
    True
    """
    for name, value, low in (("n_arms", n_arms, 2), ("n_steps", n_steps, 1), ("n_runs", n_runs, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon={epsilon!r} should be a probability between 0 and 1.")
    rng = np.random.default_rng(seed)
    q_true = rng.standard_normal((n_runs, n_arms))
    best = q_true.argmax(axis=1)
    estimate = np.zeros((n_runs, n_arms))
    pulls = np.zeros((n_runs, n_arms))
    runs = np.arange(n_runs)
    reward, optimal = np.empty(n_steps), np.empty(n_steps)
    for t in range(n_steps):
        greedy = (estimate + 1e-9 * rng.random((n_runs, n_arms))).argmax(axis=1)  # random tie-breaking
        explore = rng.random(n_runs) < epsilon
        action = np.where(explore, rng.integers(0, n_arms, n_runs), greedy)
        r = q_true[runs, action] + rng.standard_normal(n_runs)
        pulls[runs, action] += 1
        estimate[runs, action] += (r - estimate[runs, action]) / pulls[runs, action]
        reward[t], optimal[t] = r.mean(), np.mean(action == best)
    return reward, optimal


def bandit(*, epsilons=(0.0, 0.01, 0.1), n_steps=1000, n_runs=300, seed=0):
    """Exploration against exploitation: epsilon-greedy agents on a 10-armed bandit.

    Returns
    -------
    LectureFigure
        ``data``: ``reward`` and ``optimal`` of shape (len(epsilons), n_steps).
    """
    out = [run_bandit(10, epsilon=e, n_steps=n_steps, n_runs=n_runs, seed=seed) for e in epsilons]
    reward = np.array([o[0] for o in out])
    optimal = np.array([o[1] for o in out])
    steps = np.arange(1, n_steps + 1)
    fig, (a, b) = new_figure(2)
    w = max(1, n_steps // 50)
    kernel = np.ones(w) / w
    for i, e in enumerate(epsilons):
        a.plot(steps[w - 1:], np.convolve(reward[i], kernel, "valid"), **style(i), label=f"ε = {e:g}")
        b.plot(steps[w - 1:], 100 * np.convolve(optimal[i], kernel, "valid"), **style(i), label=f"ε = {e:g}")
    a.set_xlabel("step (pulls of an arm)")
    a.set_ylabel("mean reward (arb. units)")
    b.set_xlabel("step (pulls of an arm)")
    b.set_ylabel("best arm chosen (%)")
    a.legend(fontsize=9)
    b.legend(fontsize=9)
    alt = (f"Two plots against step, averaged over {n_runs} runs, for exploration rates "
           f"{', '.join(f'{e:g}' for e in epsilons)}. Left: the mean reward rises quickly for all agents; the purely "
           "greedy one levels off lowest. Right: the percentage of runs that choose the best arm; the greedy agent "
           f"stays near {100 * optimal[0, -n_steps // 10:].mean():.0f}%, the agent with the largest exploration rate "
           f"reaches about {100 * optimal[-1, -n_steps // 10:].mean():.0f}%.")
    return LectureFigure(fig, alt, "An agent that never explores gets stuck with the first arm that looked good; a "
                         "little exploration finds the best arm.", data={"reward": reward, "optimal": optimal})
