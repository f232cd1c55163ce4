"""Searches over a space of genes under a budget of fitness evaluations, in this process or in worker processes.

:class:`GeneticAlgorithm` and :func:`random_search` share the evaluation of genomes (one seed per evaluation,
so the result does not depend on the number of processes); :func:`suggested_n_jobs` chooses how many worker
processes the machine can afford; :func:`plot_search` compares searches.
"""

import concurrent.futures
import inspect
import multiprocessing
import os
from dataclasses import dataclass

import numpy as np

from .._resources import available_cpus, memory_limit_bytes, memory_used_bytes
from .genes import _check_space, crossover, mutate, random_genome, tournament_select

__all__ = ["SearchResult", "GeneticAlgorithm", "random_search", "suggested_n_jobs", "plot_search"]


# ---------------------------------------------------------------- evaluation

def _takes_seed(fitness):
    try:
        return "seed" in inspect.signature(fitness).parameters
    except (TypeError, ValueError):
        return False


def _call(fitness, genome, seed, takes_seed):
    value = fitness(genome, seed=seed) if takes_seed else fitness(genome)
    return float(value)


def _init_worker():
    # Workers keep TensorFlow's default thread pools, the same as the parent process: the thread count
    # changes the order of floating-point sums, and so the outcome of training a network.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # TensorFlow's start-up messages would flood a notebook, once per worker; errors in a fitness still
    # reach the caller, as the exception raised by the pool.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


class _Evaluator:
    """Evaluates genomes in order, in this process (n_jobs=1) or in a pool of processes."""

    def __init__(self, fitness, n_jobs, entropy):
        if not callable(fitness):
            raise TypeError(f"fitness should be a function genome -> float; got {type(fitness).__name__}.")
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
            raise ValueError(f"n_jobs={n_jobs!r} should be a positive integer (number of processes).")
        self.fitness, self.n_jobs, self.entropy = fitness, int(n_jobs), entropy
        self.takes_seed = _takes_seed(fitness)
        self.count = 0
        self.pool = None

    def __enter__(self):
        if self.n_jobs > 1:
            # 'spawn': a fresh interpreter per worker, safe with TensorFlow's threads
            self.pool = concurrent.futures.ProcessPoolExecutor(
                self.n_jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker)
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown()

    def __call__(self, genomes):
        seeds = [int(np.random.SeedSequence(self.entropy, spawn_key=(self.count + i,)).generate_state(1)[0])
                 for i in range(len(genomes))]
        self.count += len(genomes)
        args = [(self.fitness, g, s, self.takes_seed) for g, s in zip(genomes, seeds)]
        if self.pool is None:
            values = [_call(*a) for a in args]
        else:
            values = list(self.pool.map(_call, *zip(*args)))
        bad = [v for v in values if not np.isfinite(v)]
        if bad:
            raise RuntimeError(f"fitness returned a non-finite value ({bad[0]}); it should return a finite float.")
        return values


@dataclass
class SearchResult:
    """What a search found.

    Attributes
    ----------
    best_genome : dict
    best_fitness : float
    genomes : list of dict
        Every evaluated genome, in order of evaluation.
    fitness : ndarray of shape (n_evaluations,)
        Their fitness.
    generation : ndarray of int, shape (n_evaluations,)
        The generation of each evaluation (0 for the initial population; all 0 for random search).
    """

    best_genome: dict
    best_fitness: float
    genomes: list
    fitness: np.ndarray
    generation: np.ndarray

    @property
    def best_so_far(self):
        """ndarray of shape (n_evaluations,): the best fitness after each evaluation."""
        return np.maximum.accumulate(self.fitness)


def _result(genomes, fitness, generation):
    fitness = np.asarray(fitness, dtype=float)
    best = int(np.argmax(fitness))
    return SearchResult(dict(genomes[best]), float(fitness[best]), genomes, fitness, np.asarray(generation))


def _check_budget(n_evaluations):
    if isinstance(n_evaluations, bool) or not isinstance(n_evaluations, (int, np.integer)) or n_evaluations < 1:
        raise ValueError(f"n_evaluations={n_evaluations!r} should be a positive integer (the budget).")
    return int(n_evaluations)


def suggested_n_jobs(max_jobs=2, *, worker_mb=800, reserve_mb=500):
    """How many processes to evaluate a generation in: as many as the CPUs and the memory allow, at most ``max_jobs``.

    On Binder (2 GB) or a JupyterHub with a memory limit, every worker is a Python process with its own
    TensorFlow; two of them beside the notebook's kernel can exceed the limit, and the kernel dies. The limit
    is read from ``MEM_LIMIT`` (set by JupyterHub and Binder) or the container's cgroup, the CPUs from the
    process's affinity, ``CPU_LIMIT`` and the cgroup's quota (see :mod:`ml4em._resources`).

    Parameters
    ----------
    max_jobs : int, default 2
        The most processes to suggest.
    worker_mb : float, default 800
        Peak memory of one worker process in MB. A worker that trains :class:`~ml4em.ga.PatchNetFitness`
        networks at the tutorial's full size grows to about 770 MB (TensorFlow and its caches). With
        ``n_jobs=1`` the evaluations run in this process and add about as much to it.
    reserve_mb : float, default 500
        Memory in MB kept free for everything else: the Jupyter server (about 100 MB), other open notebooks,
        the notebook's own growth. Where no cgroup reports the container's usage, only this process counts as
        in use, and the reserve covers the rest.

    Returns
    -------
    int
        Between 1 and ``max_jobs``: ``min(max_jobs, CPUs, (limit - in use - reserve) // worker)``, where the
        memory term counts only under a memory limit.

    Examples
    --------
    >>> 1 <= suggested_n_jobs(2) <= 2
    True
    """
    if isinstance(max_jobs, bool) or not isinstance(max_jobs, (int, np.integer)) or max_jobs < 1:
        raise ValueError(f"max_jobs={max_jobs!r} should be a positive integer (the most processes to use).")
    if not np.isfinite(worker_mb) or worker_mb <= 0:
        raise ValueError(f"worker_mb={worker_mb!r} should be a positive number of MB (the peak of one evaluation).")
    if not np.isfinite(reserve_mb) or reserve_mb < 0:
        raise ValueError(f"reserve_mb={reserve_mb!r} should be a number of MB, 0 or more.")
    n = min(int(max_jobs), available_cpus())
    limit = memory_limit_bytes()
    if limit is not None:
        free_mb = (limit - memory_used_bytes()) / 2**20 - reserve_mb
        n = min(n, int(free_mb // worker_mb))
    return max(n, 1)


def random_search(fitness, space, *, n_evaluations, n_jobs=1, seed=None, progress=False):
    """Evaluate ``n_evaluations`` random genomes; return the :class:`SearchResult` (fitness maximised)."""
    from ..training import progress as bar

    _check_space(space)
    n = _check_budget(n_evaluations)
    rng = np.random.default_rng(seed)
    entropy = int(rng.integers(2**63))
    genomes = [random_genome(space, seed=rng) for _ in range(n)]
    values = []
    with _Evaluator(fitness, n_jobs, entropy) as evaluate, bar(total=n, desc="random search",
                                                                disable=not progress) as pbar:
        step = max(1, int(n_jobs))
        for start in range(0, n, step):
            values += evaluate(genomes[start:start + step])
            pbar.update(len(genomes[start:start + step]))
    return _result(genomes, values, np.zeros(n, dtype=int))


class GeneticAlgorithm:
    """A generational genetic algorithm that maximises a fitness over a search space.

    Each generation keeps the ``n_elite`` best genomes unchanged (elitism) and fills the rest of the
    population with children: two parents by tournament selection, uniform crossover with probability
    ``crossover_rate`` (else a copy of the first parent), then mutation. Elites are not evaluated again,
    so a generation costs ``population_size - n_elite`` evaluations.

    Parameters
    ----------
    space : dict of str to Integer, Real or Categorical
    population_size : int, default 20
    n_elite : int, default 2
    tournament_size : int, default 3
    crossover_rate : float, default 0.9
    mutation_rate : float, default 0.2
        Probability that each gene of a child mutates.
    mutation_scale : float, default 0.1
        Size of a mutation step as a fraction of the gene's range.
    n_jobs : int, default 1
        Processes that evaluate a generation in parallel.
    seed : int, numpy.random.Generator or None

    Examples
    --------
    >>> from ml4em.ga import rastrigin_fitness, rastrigin_space
    >>> ga = GeneticAlgorithm(rastrigin_space(2), population_size=20, seed=0)
    >>> result = ga.run(rastrigin_fitness, n_evaluations=400)
    >>> result.best_fitness > -2.0
    True
    """

    def __init__(self, space, *, population_size=20, n_elite=2, tournament_size=3, crossover_rate=0.9,
                 mutation_rate=0.2, mutation_scale=0.1, n_jobs=1, seed=None):
        _check_space(space)
        if isinstance(population_size, bool) or not isinstance(population_size, (int, np.integer)) \
                or population_size < 2:
            raise ValueError(f"population_size={population_size!r} should be an integer >= 2.")
        if not 0 <= n_elite < population_size:
            raise ValueError(f"n_elite={n_elite!r} should be between 0 and population_size - 1 "
                             f"= {population_size - 1}.")
        if not 1 <= tournament_size <= population_size:
            raise ValueError(f"tournament_size={tournament_size!r} should be between 1 and population_size "
                             f"= {population_size}.")
        if not 0 <= crossover_rate <= 1:
            raise ValueError(f"crossover_rate={crossover_rate!r} should be in [0, 1].")
        if not 0 <= mutation_rate <= 1 or not mutation_scale > 0:
            raise ValueError(f"mutation_rate={mutation_rate!r} should be in [0, 1] and mutation_scale="
                             f"{mutation_scale!r} > 0.")
        self.space, self.population_size, self.n_elite = space, int(population_size), int(n_elite)
        self.tournament_size, self.crossover_rate = int(tournament_size), crossover_rate
        self.mutation_rate, self.mutation_scale = mutation_rate, mutation_scale
        self.n_jobs, self.seed = n_jobs, seed

    def _children(self, population, fitness, n, rng):
        children = []
        for _ in range(n):
            a = population[tournament_select(fitness, size=self.tournament_size, seed=rng)]
            b = population[tournament_select(fitness, size=self.tournament_size, seed=rng)]
            child = crossover(a, b, seed=rng) if rng.random() < self.crossover_rate else dict(a)
            children.append(mutate(child, self.space, rate=self.mutation_rate, scale=self.mutation_scale, seed=rng))
        return children

    def run(self, fitness, *, n_evaluations, progress=False):
        """Evolve until ``n_evaluations`` fitness evaluations are spent; return a :class:`SearchResult`.

        The last generation is cut short if the budget ends inside it.
        """
        from ..training import progress as bar

        n = _check_budget(n_evaluations)
        rng = np.random.default_rng(self.seed)
        entropy = int(rng.integers(2**63))
        genomes, values, generation = [], [], []
        with _Evaluator(fitness, self.n_jobs, entropy) as evaluate, bar(total=n, desc="genetic algorithm",
                                                                         disable=not progress) as pbar:
            population = [random_genome(self.space, seed=rng) for _ in range(min(self.population_size, n))]
            pop_fitness = evaluate(population)
            genomes += population
            values += pop_fitness
            generation += [0] * len(population)
            pbar.update(len(population))
            g = 0
            while len(genomes) < n:
                g += 1
                order = np.argsort(pop_fitness)[::-1]
                elite = [population[i] for i in order[: self.n_elite]]
                elite_fitness = [pop_fitness[i] for i in order[: self.n_elite]]
                n_new = min(self.population_size - self.n_elite, n - len(genomes))
                children = self._children(population, np.asarray(pop_fitness), n_new, rng)
                child_fitness = evaluate(children)
                genomes += children
                values += child_fitness
                generation += [g] * len(children)
                pbar.update(len(children))
                population, pop_fitness = elite + children, elite_fitness + child_fitness
        return _result(genomes, values, generation)


# ---------------------------------------------------------------- figures

def plot_search(ax, results, *, ylabel="best fitness so far"):
    """Best fitness so far against the number of evaluations, one curve per search.

    Parameters
    ----------
    ax : matplotlib Axes
    results : dict of str to SearchResult
        E.g. ``{"genetic algorithm": ga_result, "random search": rs_result}``.
    ylabel : str
        Label with units, e.g. "validation accuracy (fraction)".
    """
    from ..plotting import style

    if not results:
        raise ValueError("results is empty; pass {'name': SearchResult, ...}.")
    for i, (name, res) in enumerate(results.items()):
        if not isinstance(res, SearchResult):
            raise TypeError(f"results[{name!r}] should be a SearchResult; got {type(res).__name__}.")
        n = np.arange(1, len(res.fitness) + 1)
        ax.plot(n, res.best_so_far, label=f"{name} (best {res.best_fitness:.3g})", **style(i))
        ax.scatter(n, res.fitness, s=8, alpha=0.4, color=style(i)["color"])
    ax.set_xlabel("fitness evaluations")
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


