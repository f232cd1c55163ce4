"""Data and figures for tutorial 03: unlabelled potatoes, K-means step by step, thickness clusters."""

import numpy as np

from .kmeans import KMeans
from .steps import _as_data, _check_n_clusters, assign_clusters, kmeans_cost, kmeans_plusplus, update_centres

__all__ = ["make_potatoes", "POTATO_FEATURES", "POTATO_VARIETIES", "plot_kmeans_steps", "plot_thickness_clusters"]

#: Features of :func:`make_potatoes`, with units.
POTATO_FEATURES = ("length (cm)", "width (cm)", "redness (dimensionless)")
#: Varieties of :func:`make_potatoes`, in the order of their labels.
POTATO_VARIETIES = ("russet", "red", "fingerling")


# -- data and figures for the tutorial --------------------------------------------------------------------------------

def make_potatoes(n_samples=300, *, seed=None):
    """A sack of potatoes of three varieties, measured but not labelled.

    Russets are long, wide and brown; reds are round and red; fingerlings
    are long, thin and yellowish. Features in :data:`POTATO_FEATURES`
    (length and width in cm, redness from 0 to 1); their scales differ,
    so standardise them before clustering.

    Parameters
    ----------
    n_samples : int, default 300
        Number of potatoes (shared about equally between the varieties).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 3)
        Length (cm), width (cm), redness (dimensionless).
    variety : ndarray of shape (n_samples,), int
        Index into :data:`POTATO_VARIETIES`: the truth, for checking only.

    Examples
    --------
    >>> X, variety = make_potatoes(30, seed=0)
    >>> X.shape, np.bincount(variety).tolist()
    ((30, 3), [10, 10, 10])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 3:
        raise ValueError(f"n_samples={n_samples!r} should be an integer >= 3 (one potato per variety at least).")
    rng = np.random.default_rng(seed)
    mean = np.array([[11.0, 6.5, 0.30], [7.0, 6.0, 0.80], [8.0, 2.8, 0.45]])
    std = np.array([[1.4, 0.7, 0.06], [0.8, 0.6, 0.06], [1.2, 0.4, 0.07]])
    variety = np.arange(int(n_samples)) % 3
    X = mean[variety] + std[variety] * rng.standard_normal((int(n_samples), 3))
    order = rng.permutation(int(n_samples))
    X, variety = X[order], variety[order]
    X[:, :2] = np.clip(X[:, :2], 1.0, None)
    X[:, 2] = np.clip(X[:, 2], 0.0, 1.0)
    return X, variety


def plot_kmeans_steps(ax, X, *, n_clusters=3, step=1, init="random", seed=0, labels=("x", "y")):
    """Draw K-means on 2-D data after ``step`` iterations, with the path of each centre.

    Step 0 shows the initial centres (all samples grey); step s shows the
    assignment made in iteration s and the centres it moved to.

    Parameters
    ----------
    ax : matplotlib Axes
    X : ndarray of shape (n_samples, 2)
    n_clusters, step : int
    init : {"random", "k-means++"}
        How the initial centres are drawn (seeded by ``seed``).
    labels : (str, str)
        Axis labels, with units.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ..plotting import MARKERS, color

    X = _as_data(X)
    if X.shape[1] != 2:
        raise ValueError(f"X should have 2 features to draw; got shape {X.shape}.")
    if init not in ("random", "k-means++"):
        raise ValueError(f"init={init!r} should be 'random' or 'k-means++'.")
    rng = np.random.default_rng(seed)
    n_clusters = _check_n_clusters(n_clusters, X.shape[0])
    if init == "random":
        centres = X[rng.choice(X.shape[0], n_clusters, replace=False)].astype(float)
    else:
        centres = kmeans_plusplus(X, n_clusters, seed=rng)
    path = [centres]
    lab = None
    for _ in range(int(step)):
        lab = assign_clusters(X, centres)
        centres = update_centres(X, lab, n_clusters, previous=centres)
        path.append(centres)
    if lab is None:
        ax.scatter(X[:, 0], X[:, 1], s=12, color="0.6")
    else:
        for k in range(n_clusters):
            sel = lab == k
            ax.scatter(X[sel, 0], X[sel, 1], s=12, color=color(k), marker=MARKERS[k % len(MARKERS)], alpha=0.6)
    path = np.stack(path)
    for k in range(n_clusters):
        ax.plot(path[:, k, 0], path[:, k, 1], "-", color="k", lw=1)
        ax.plot(path[-1, k, 0], path[-1, k, 1], marker="X", ms=12, color=color(k), mec="k", ls="none")
    cost = kmeans_cost(X, centres, assign_clusters(X, centres))
    ax.set_title(f"step {int(step)}: cost {cost:.3g}", fontsize=10)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    return ax


def plot_thickness_clusters(ax, image, *, n_clusters=5, zlp_window=(-np.inf, 1.0), seed=0):
    """Cluster the pixels of a spectral image by log-ratio t/lambda and draw the cluster map.

    Clusters are numbered from thin to thick, so that colours follow the
    thickness whatever the run.

    Parameters
    ----------
    ax : matplotlib Axes
    image : ml4em.datasets.SpectralImage
    n_clusters : int, default 5
    zlp_window : (float, float), eV
        Passed to :func:`ml4em.eels.estimate_thickness`.
    seed : int

    Returns
    -------
    labels : ndarray of shape (ny, nx), int
        Cluster of each pixel, 0 the thinnest.
    """
    from matplotlib.colors import ListedColormap

    from ..eels.axis import estimate_thickness
    from ..plotting import PALETTE

    t = estimate_thickness(image.energy_loss, image.counts, zlp_window=zlp_window)
    km = KMeans(n_clusters, n_init=3, seed=seed).fit(t.reshape(-1, 1))
    order = np.argsort(km.cluster_centers_[:, 0])
    rank = np.empty_like(order)
    rank[order] = np.arange(n_clusters)
    labels = rank[km.labels_].reshape(t.shape)
    cmap = ListedColormap([PALETTE[i % len(PALETTE)] for i in range(n_clusters)])
    im = ax.imshow(labels, origin="lower", extent=image.extent, cmap=cmap, vmin=-0.5, vmax=n_clusters - 0.5,
                   interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, ticks=range(n_clusters))
    cbar.ax.set_yticklabels([f"{c:.2f}" for c in np.sort(km.cluster_centers_[:, 0])])
    cbar.set_label("cluster centre t/λ (dimensionless)")
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    ax.set_title(f"K = {n_clusters}: inertia {km.inertia_:.3g}", fontsize=10)
    return labels
