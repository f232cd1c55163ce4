"""A genetic algorithm on real vectors (a population as one array), the reference of the tutorial's exercises.

:class:`~ml4em.ga.GeneticAlgorithm` works on genomes (dicts of typed genes); the functions here are the same
operators on an array of shape (pop_size, n_genes), with every random number drawn, in a fixed order, from one
``numpy.random.Generator``: so a run is fixed by its generator's seed.
"""

import numpy as np

from .genes import tournament_select

__all__ = ["uniform_crossover", "mutate_genes", "evolve"]


def _generator(rng, name="rng"):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name}={rng!r} should be a numpy.random.Generator, e.g. np.random.default_rng(0).")
    return rng


def uniform_crossover(parent_a, parent_b, rng):
    """Child of two parents of the same length: gene i from ``parent_a`` where ``u_i < 1/2``, else ``parent_b``.

    ``u = rng.random(n_genes)``: one draw per gene.

    Parameters
    ----------
    parent_a, parent_b : ndarray of shape (n_genes,)
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_genes,), a new array
    """
    a, b = np.asarray(parent_a), np.asarray(parent_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"parent_a and parent_b should be 1-D arrays of the same length; got shapes {a.shape} "
                         f"and {b.shape}.")
    return np.where(_generator(rng).random(a.shape) < 0.5, a, b)


def mutate_genes(x, rate, scale, low, high, rng):
    """Each gene with probability ``rate`` gets a step from N(0, ``scale``); then all are clipped to [low, high].

    The draws, in this order: ``hit = rng.random(n_genes) < rate``, then ``rng.normal(0, scale, n_genes)`` (a step
    for every gene, used where ``hit``).

    Parameters
    ----------
    x : ndarray of shape (n_genes,)
    rate : float in [0, 1]
        Probability that a gene mutates.
    scale : float >= 0
        Standard deviation of a step, in the genes' units.
    low, high : float
        Bounds of every gene, ``low <= high``.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_genes,), a new array
    """
    if not 0 <= rate <= 1:
        raise ValueError(f"rate={rate!r} should be a probability in [0, 1].")
    if not scale >= 0:
        raise ValueError(f"scale={scale!r} should be >= 0 (a standard deviation).")
    if not low <= high:
        raise ValueError(f"low={low!r} and high={high!r}: low should not exceed high.")
    x = np.asarray(x, dtype=float)
    rng = _generator(rng)
    hit = rng.random(x.shape) < rate
    return np.clip(x + hit * rng.normal(0.0, scale, x.shape), low, high)


def evolve(fitness, population, n_generations, rng, n_elite=2, tournament_size=3, rate=0.2, scale=1.0,
           low=-5.12, high=5.12):
    """A genetic algorithm with elitism on real vectors; it maximises ``fitness``.

    Every generation scores all individuals; the next population is the ``n_elite`` fittest (fittest first),
    followed by children in the order they are made, until it has the same size. A child: parent a, then parent b,
    each the winner of a tournament of ``tournament_size`` (:func:`~ml4em.ga.tournament_select`), their
    :func:`uniform_crossover`, then :func:`mutate_genes` with ``rate``, ``scale``, ``low`` and ``high``.

    Parameters
    ----------
    fitness : callable
        ``fitness(individual)`` -> float to maximise, for an individual of shape (n_genes,).
    population : ndarray of shape (pop_size, n_genes)
        The first generation (not changed).
    n_generations : int >= 0
    rng : numpy.random.Generator
        The only source of random numbers.
    n_elite : int, 0 <= n_elite <= pop_size
    tournament_size : int, 1 <= tournament_size <= pop_size
    rate, scale, low, high : float
        See :func:`mutate_genes`.

    Returns
    -------
    final_population : ndarray of shape (pop_size, n_genes)
    best : ndarray of shape (n_generations + 1,)
        The best fitness of the first population and of every new one.
    """
    population = np.array(population, dtype=float)
    if population.ndim != 2 or len(population) == 0:
        raise ValueError(f"population should be an array of shape (pop_size, n_genes); got {population.shape}.")
    for name, value, top in (("n_generations", n_generations, None), ("n_elite", n_elite, len(population)),
                             ("tournament_size", tournament_size, len(population))):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (name == "tournament_size") \
                or (top is not None and value > top):
            raise ValueError(f"{name}={value!r} should be an integer between {int(name == 'tournament_size')} and "
                             f"{top if top is not None else 'any size'}.")
    rng = _generator(rng)
    scores = np.array([fitness(individual) for individual in population], dtype=float)
    best = [scores.max()]
    for _ in range(n_generations):
        order = np.argsort(-scores, kind="stable")
        children = [population[i] for i in order[:n_elite]]
        while len(children) < len(population):
            a = population[tournament_select(scores, size=tournament_size, seed=rng)]
            b = population[tournament_select(scores, size=tournament_size, seed=rng)]
            children.append(mutate_genes(uniform_crossover(a, b, rng), rate, scale, low, high, rng))
        population = np.array(children)
        scores = np.array([fitness(individual) for individual in population], dtype=float)
        best.append(scores.max())
    return population, np.array(best)
