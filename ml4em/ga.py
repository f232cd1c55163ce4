"""Genetic algorithms: a seeded, generic search over integer, real and categorical genes.

A genome is a dict ``{gene name: value}`` drawn from a search space
``{name: Integer(...) | Real(...) | Categorical(...)}``. :class:`GeneticAlgorithm`
evolves a population with tournament selection, uniform crossover, mutation
and elitism and **maximises** the fitness; :func:`random_search` spends the
same budget of evaluations on independent random genomes. Both can evaluate
in parallel processes (``n_jobs``); every evaluation gets its own seed from
the run's seed and its index, so the results do not depend on ``n_jobs``.
For processes the fitness must be picklable: a function or class defined in
a module (such as :func:`rastrigin_fitness` or :class:`PatchNetFitness`),
not in a notebook.

:class:`PatchNetFitness` is the network-design problem of the tutorial: the
validation accuracy of a small CNN that tells defect columns from intact ones
in simulated STEM patches, as a function of its architecture and training
settings, in the spirit of MENNDL (Patton et al., SC'18,
doi:10.1109/SC.2018.00053).

Used in: tutorials/06_genetic_algorithms.
"""

import concurrent.futures
import inspect
import multiprocessing
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["Integer", "Real", "Categorical", "random_genome", "mutate", "crossover", "tournament_select",
           "SearchResult", "GeneticAlgorithm", "random_search", "rastrigin", "rastrigin_gradient",
           "rastrigin_space", "rastrigin_fitness", "make_patch_data", "patch_net_space", "PatchNetFitness", "plot_search",
           "plot_rastrigin_population"]


# ---------------------------------------------------------------- genes


@dataclass(frozen=True)
class Integer:
    """An integer gene in ``[low, high]`` (both included)."""

    low: int
    high: int

    def __post_init__(self):
        if int(self.low) != self.low or int(self.high) != self.high or self.high < self.low:
            raise ValueError(f"Integer(low={self.low!r}, high={self.high!r}) needs integers with low <= high.")

    def sample(self, rng):
        return int(rng.integers(self.low, self.high + 1))

    def mutate(self, value, rng, scale):
        step = rng.normal(0.0, scale * (self.high - self.low + 1))
        step = np.sign(step) * max(1.0, abs(step))  # always move by at least one
        return int(np.clip(round(value + step), self.low, self.high))


@dataclass(frozen=True)
class Real:
    """A real gene in ``[low, high]``; ``log=True`` searches the logarithm (for learning rates)."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        if not self.high > self.low or (self.log and self.low <= 0):
            raise ValueError(f"Real(low={self.low!r}, high={self.high!r}, log={self.log}) needs low < high "
                             "(and low > 0 with log=True).")

    def _to(self, v):
        return np.log(v) if self.log else v

    def _from(self, u):
        return float(np.clip(np.exp(u) if self.log else u, self.low, self.high))  # exp(log(x)) may round past x

    def sample(self, rng):
        return self._from(rng.uniform(self._to(self.low), self._to(self.high)))

    def mutate(self, value, rng, scale):
        lo, hi = self._to(self.low), self._to(self.high)
        u = self._to(value) + rng.normal(0.0, scale * (hi - lo))
        return self._from(np.clip(u, lo, hi))


@dataclass(frozen=True)
class Categorical:
    """A gene that takes one of ``choices``."""

    choices: tuple = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "choices", tuple(self.choices))
        if len(self.choices) < 1:
            raise ValueError("Categorical(choices=()) is empty; give at least one choice.")

    def sample(self, rng):
        return self.choices[int(rng.integers(len(self.choices)))]

    def mutate(self, value, rng, scale):
        others = [c for c in self.choices if c != value]
        return others[int(rng.integers(len(others)))] if others else value


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise TypeError(f"space should be a non-empty dict of gene name to Integer, Real or Categorical; got "
                        f"{type(space).__name__}.")
    for name, gene in space.items():
        if not isinstance(gene, (Integer, Real, Categorical)):
            raise TypeError(f"space[{name!r}] should be an Integer, Real or Categorical; got {type(gene).__name__}.")


def random_genome(space, *, seed=None):
    """A genome with every gene drawn uniformly from ``space`` (log-uniformly for ``Real(log=True)``).

    Examples
    --------
    >>> g = random_genome({"layers": Integer(1, 3), "act": Categorical(["relu", "tanh"])}, seed=0)
    >>> sorted(g)
    ['act', 'layers']
    """
    _check_space(space)
    rng = np.random.default_rng(seed)
    return {name: gene.sample(rng) for name, gene in space.items()}


def mutate(genome, space, *, rate=0.2, scale=0.1, seed=None):
    """A copy of ``genome`` in which each gene mutates with probability ``rate``.

    Integer and real genes take a Gaussian step of ``scale`` times their range (in log space for
    ``Real(log=True)``; at least 1 for integers) and are clipped to it; categorical genes switch to
    another choice.
    """
    if not 0 <= rate <= 1 or not scale > 0:
        raise ValueError(f"rate={rate!r} should be in [0, 1] and scale={scale!r} > 0.")
    rng = np.random.default_rng(seed)
    return {name: (space[name].mutate(value, rng, scale) if rng.random() < rate else value)
            for name, value in genome.items()}


def crossover(parent_a, parent_b, *, seed=None):
    """Uniform crossover: each gene of the child comes from either parent with probability 1/2.

    Examples
    --------
    >>> child = crossover({"x": 0, "y": 0}, {"x": 1, "y": 1}, seed=0)
    >>> set(child.values()) <= {0, 1}
    True
    """
    if set(parent_a) != set(parent_b):
        raise ValueError(f"parents have different genes: {sorted(parent_a)} and {sorted(parent_b)}.")
    rng = np.random.default_rng(seed)
    return {name: (parent_a[name] if rng.random() < 0.5 else parent_b[name]) for name in parent_a}


def tournament_select(fitness, *, size=3, seed=None):
    """Index of the fittest of ``size`` individuals drawn at random (without replacement).

    Examples
    --------
    >>> tournament_select([0.1, 0.9, 0.5], size=3, seed=0)
    1
    """
    f = np.asarray(fitness, dtype=float)
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"fitness should be a 1-D array with one value per individual; got shape {f.shape}.")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= f.size:
        raise ValueError(f"size={size!r} should be an integer between 1 and the population size {f.size}.")
    rng = np.random.default_rng(seed)
    contestants = rng.choice(f.size, size, replace=False)
    return int(contestants[np.argmax(f[contestants])])


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


def random_search(fitness, space, *, n_evaluations, n_jobs=1, seed=None, progress=False):
    """Evaluate ``n_evaluations`` random genomes; return the :class:`SearchResult` (fitness maximised)."""
    from .training import progress as bar

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
        from .training import progress as bar

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


def make_patch_data(n_patches, *, size=16, dose=5e3, seed=None, **simulate_kwargs):
    """Patches of simulated STEM images centred on an atomic column, labelled 1 if it is a defect.

    Half the patches show a defect (vacancy or substitution) at their centre, half an intact column.

    Parameters
    ----------
    n_patches : int
    size : int, default 16
        Patch side in pixels.
    dose : float, electrons per square angstrom, default 5e3
    seed : int, numpy.random.Generator or None
    **simulate_kwargs
        Passed to :func:`ml4em.stem.simulate_stem`.

    Returns
    -------
    x : ndarray of shape (n_patches, size, size, 1), float32
        Each patch scaled to zero mean and unit standard deviation.
    y : ndarray of shape (n_patches,), float32, 0 or 1

    Examples
    --------
    >>> x, y = make_patch_data(40, seed=0)
    >>> x.shape, float(y.mean())
    ((40, 16, 16, 1), 0.5)
    """
    from .stem import simulate_stem

    if isinstance(n_patches, bool) or not isinstance(n_patches, (int, np.integer)) or n_patches < 2:
        raise ValueError(f"n_patches={n_patches!r} should be an integer >= 2.")
    rng = np.random.default_rng(seed)
    n_def, half = int(n_patches) // 2, int(n_patches) - int(n_patches) // 2
    pos, neg = [], []
    while sum(map(len, pos)) < n_def or sum(map(len, neg)) < half:
        data = simulate_stem(64, dose=dose, seed=rng, **simulate_kwargs)
        side, h = data.images.shape[-1], size // 2
        if side < size:
            raise ValueError(f"size={size} is larger than the simulated images ({side} pixels); use a smaller size.")
        windows = np.lib.stride_tricks.sliding_window_view(data.images, (size, size), axis=(1, 2))
        for i in range(len(data)):
            for sites, out in ((data.defect_positions[i], pos), (data.column_positions[i], neg)):
                rc = np.rint(sites).astype(int)
                ok = np.all((rc >= h) & (rc <= side - size + h), axis=1)  # the whole patch inside the image
                out.append(windows[i, rc[ok, 0] - h, rc[ok, 1] - h])
    pos, neg = np.concatenate(pos), np.concatenate(neg)
    pos = pos[rng.permutation(len(pos))[:n_def]]
    neg = neg[rng.permutation(len(neg))[:half]]
    x = np.concatenate([pos, neg]).astype(np.float32)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]).astype(np.float32)
    order = rng.permutation(len(x))
    x = x[order]
    x = (x - x.mean(axis=(1, 2), keepdims=True)) / (x.std(axis=(1, 2), keepdims=True) + 1e-6)
    return x[..., None], y[order]


@lru_cache(maxsize=4)
def _patch_split(n_train, n_val, size, dose, data_seed):
    x, y = make_patch_data(n_train + n_val, size=size, dose=dose, seed=data_seed)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def patch_net_space():
    """The default search space of :class:`PatchNetFitness`: architecture and training settings.

    Examples
    --------
    >>> sorted(patch_net_space())
    ['activation', 'conv_layers', 'dense_units', 'dropout', 'filters', 'kernel_size', 'learning_rate']
    """
    return {"conv_layers": Integer(1, 3), "filters": Integer(2, 16), "kernel_size": Categorical((3, 5)),
            "dense_units": Integer(4, 64), "dropout": Real(0.0, 0.6),
            "activation": Categorical(("relu", "tanh", "sigmoid")), "learning_rate": Real(1e-4, 0.3, log=True)}


@dataclass(frozen=True)
class PatchNetFitness:
    """Validation accuracy of a small CNN that tells defect columns from intact ones (a picklable fitness).

    The network: ``conv_layers`` blocks of a convolution (``filters`` doubling each block, ``kernel_size``,
    ``activation``) and 2 x 2 max pooling, then dropout, a dense layer of ``dense_units`` and a sigmoid
    output; Adam with ``learning_rate`` for ``epochs`` epochs on :func:`make_patch_data` patches. The data
    are made once per process from ``data_seed``; the call's ``seed`` seeds the weights and batches.

    Parameters
    ----------
    n_train, n_val : int
        Training and validation patches.
    epochs : int, default 3
    batch_size : int, default 32
    size : int, default 16
        Patch side in pixels.
    dose : float, electrons per square angstrom, default 5e3
    data_seed : int, default 0
    """

    n_train: int = 2000
    n_val: int = 1000
    epochs: int = 3
    batch_size: int = 32
    size: int = 16
    dose: float = 5e3
    data_seed: int = 0

    space = staticmethod(patch_net_space)

    def build(self, genome, *, seed=None):
        """The keras.Model that ``genome`` describes (compiled)."""
        import keras
        from keras import layers

        missing = set(patch_net_space()) - set(genome)
        if missing:
            raise ValueError(f"genome lacks the genes {sorted(missing)}; draw it from PatchNetFitness.space().")
        rng = np.random.default_rng(seed)

        def init():
            return keras.initializers.GlorotUniform(seed=int(rng.integers(2**31)))

        act = genome["activation"]
        model = keras.Sequential([keras.Input(shape=(self.size, self.size, 1))], name="patch_net")
        for i in range(int(genome["conv_layers"])):
            model.add(layers.Conv2D(int(genome["filters"]) * 2**i, int(genome["kernel_size"]), padding="same",
                                    activation=act, kernel_initializer=init()))
            model.add(layers.MaxPooling2D(2))
        model.add(layers.Flatten())
        model.add(layers.Dropout(float(genome["dropout"]), seed=int(rng.integers(2**31))))
        model.add(layers.Dense(int(genome["dense_units"]), activation=act, kernel_initializer=init()))
        model.add(layers.Dense(1, activation="sigmoid", kernel_initializer=init()))
        model.compile(optimizer=keras.optimizers.Adam(float(genome["learning_rate"])), loss="binary_crossentropy",
                      metrics=["accuracy"])
        return model

    def __call__(self, genome, seed=None):
        from .cnn import shuffled_batches

        (x, y), (xv, yv) = _patch_split(self.n_train, self.n_val, self.size, self.dose, self.data_seed)
        rng = np.random.default_rng(seed)
        model = self.build(genome, seed=rng)
        batches, steps = shuffled_batches(x, y, self.batch_size, seed=rng)
        model.fit(batches, steps_per_epoch=steps, epochs=self.epochs, shuffle=False, verbose=0)
        p = model.predict(xv, batch_size=256, verbose=0)[:, 0]
        accuracy = float(np.mean((p > 0.5) == (yv > 0.5)))
        return accuracy if np.isfinite(p).all() else 0.0


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
    from .plotting import style

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


def plot_rastrigin_population(ax, generation=5, *, mutation_rate=0.2, population_size=20, seed=0):
    """The population of a GA on the 2-D Rastrigin function after ``generation`` generations, over its map."""
    generation = int(generation)
    ga = GeneticAlgorithm(rastrigin_space(2), population_size=population_size, mutation_rate=mutation_rate,
                          mutation_scale=0.1, seed=seed)
    n_evaluations = population_size + generation * (population_size - ga.n_elite)
    res = ga.run(rastrigin_fitness, n_evaluations=n_evaluations)
    grid = np.linspace(-5.12, 5.12, 201)
    xx, yy = np.meshgrid(grid, grid)
    cs = ax.contourf(xx, yy, rastrigin(np.stack([xx, yy], -1)), levels=20, cmap="viridis")
    last = [g for g, k in zip(res.genomes, res.generation) if k == generation]
    pts = np.array([[g["x0"], g["x1"]] for g in last])
    ax.scatter(pts[:, 0], pts[:, 1], s=25, color="#E69F00", edgecolors="k", label="population")
    ax.scatter([0], [0], marker="*", s=150, color="w", edgecolors="k", label="global minimum")
    ax.set_xlabel("x0 (dimensionless)")
    ax.set_ylabel("x1 (dimensionless)")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, frameon=True)
    ax.figure.colorbar(cs, ax=ax, label="Rastrigin f (dimensionless)")
    return res
