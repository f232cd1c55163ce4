"""The Rastrigin function, a multimodal test problem for optimisers, and a GA population over its map.

Also its gradient (for gradient descent) and its search space.

Its global minimum is 0 at the origin, surrounded by a local minimum near every point of the integer grid:
a gradient method stops in the nearest one.
"""

import numpy as np

from .genes import Real
from .search import GeneticAlgorithm

__all__ = ["rastrigin", "rastrigin_gradient", "rastrigin_space", "rastrigin_fitness", "rastrigin_population",
           "plot_rastrigin_population"]


# ---------------------------------------------------------------- test problems

def rastrigin(x):
    """The Rastrigin function ``10 d + sum(x**2 - 10 cos(2 pi x))``: minimum 0 at x = 0, a local minimum
    near every point of the integer grid.

    Parameters
    ----------
    x : ndarray of shape (..., d)

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    >>> float(rastrigin(np.zeros(3)))
    0.0
    >>> round(float(rastrigin(np.array([1.0, 0.0]))), 6)
    1.0
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        raise ValueError("x should have a last axis of coordinates, shape (..., d); got a scalar.")
    return 10.0 * x.shape[-1] + np.sum(x**2 - 10.0 * np.cos(2 * np.pi * x), axis=-1)


def rastrigin_gradient(x):
    """Gradient of :func:`rastrigin`, ``2 x + 20 pi sin(2 pi x)``, same shape as ``x``."""
    x = np.asarray(x, dtype=float)
    return 2 * x + 20 * np.pi * np.sin(2 * np.pi * x)


def rastrigin_space(dim=2, *, bound=5.12):
    """Search space ``{"x0": Real(-bound, bound), ..., "x{dim-1}": ...}``."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim={dim!r} should be a positive integer.")
    return {f"x{i}": Real(-bound, bound) for i in range(int(dim))}


def rastrigin_fitness(genome):
    """Fitness to maximise: ``-rastrigin(x)`` with x from a genome of :func:`rastrigin_space`."""
    return -float(rastrigin(np.array([genome[f"x{i}"] for i in range(len(genome))])))


def rastrigin_population(generation, *, mutation_rate=0.2, population_size=20, seed=0):
    """The individuals a GA on the 2-D Rastrigin function evaluates in generation ``generation``, and their f.

    The GA is :class:`GeneticAlgorithm` with mutation steps of 0.1 of the range and 2 elites; generation 0 is the
    random start, a later one its ``population_size - 2`` new children (the elites are not evaluated again).

    Returns
    -------
    points : ndarray of shape (n, 2)
    f : ndarray of shape (n,)
        Rastrigin f (dimensionless) of each point.
    result : SearchResult
        The whole run.
    """
    generation = int(generation)
    if generation < 0:
        raise ValueError(f"generation={generation!r} should be >= 0.")
    ga = GeneticAlgorithm(rastrigin_space(2), population_size=population_size, mutation_rate=mutation_rate,
                          mutation_scale=0.1, seed=seed)
    n_evaluations = population_size + generation * (population_size - ga.n_elite)
    res = ga.run(rastrigin_fitness, n_evaluations=n_evaluations)
    last = [g for g, k in zip(res.genomes, res.generation) if k == generation]
    points = np.array([[g["x0"], g["x1"]] for g in last])
    return points, rastrigin(points), res


def plot_rastrigin_population(ax, generation=5, *, mutation_rate=0.2, population_size=20, seed=0):
    """The population of a GA on the 2-D Rastrigin function after ``generation`` generations, over its map.

    The corner shows the median and the lowest f of the individuals drawn (see :func:`rastrigin_population`).
    Returns the run's SearchResult.
    """
    pts, f, res = rastrigin_population(generation, mutation_rate=mutation_rate, population_size=population_size,
                                       seed=seed)
    grid = np.linspace(-5.12, 5.12, 201)
    xx, yy = np.meshgrid(grid, grid)
    cs = ax.contourf(xx, yy, rastrigin(np.stack([xx, yy], -1)), levels=20, cmap="viridis")
    ax.scatter(pts[:, 0], pts[:, 1], s=25, color="#E69F00", edgecolors="k", label="population")
    ax.scatter([0], [0], marker="*", s=150, color="w", edgecolors="k", label="global minimum")
    ax.text(0.02, 0.02, f"median f {np.median(f):.2f}, lowest {f.min():.2f}", transform=ax.transAxes, color="w",
            fontsize=8, bbox={"facecolor": "k", "alpha": 0.6})
    ax.set_xlabel("x0 (dimensionless)")
    ax.set_ylabel("x1 (dimensionless)")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, frameon=True)
    ax.figure.colorbar(cs, ax=ax, label="Rastrigin f (dimensionless)")
    return res
