"""Checks for tutorials/06_genetic_algorithms.

The operators are checked by their defining properties (statistics over many
draws with explicit tolerances) and the whole algorithm by what it must reach
on the Rastrigin function, where random search with the same budget does not.
Each check refuses the package's own implementation of its exercise (see
:mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import ga as ref
from ._core import call_student, check_array, check_callable, check_shape, check_true
from ._own import answers

TUTORIAL = "06_genetic_algorithms"

__all__ = ["check_tournament", "check_crossover", "check_mutation", "check_evolve"]


def _index(name, value, n):
    check_true(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
               f"`{name}` should return an integer index; got {type(value).__name__} {value!r:.40}.",
               hint="np.argmax returns an integer; convert with int(...).")
    check_true(0 <= value < n, f"`{name}` returned index {value}, outside the population of {n}.")
    return int(value)


@answers(TUTORIAL, "tournament", "ml4em.ga.tournament_select")
def check_tournament(tournament, *, fitness=(0.3, 0.9, 0.1, 0.5, 0.7, 0.2), n_draws=3000, seed=0):
    """``tournament(fitness, size, rng)`` returns the index of the fittest of ``size`` individuals drawn at random."""
    check_callable(tournament, "tournament")
    f = np.asarray(fitness, dtype=float)
    n = f.size
    best, worst = int(np.argmax(f)), int(np.argmin(f))
    got = _index("tournament(fitness, len(fitness), rng)", call_student("tournament", tournament,
                                                                        f.copy(), n, np.random.default_rng(seed)), n)
    check_true(got == best, f"with size = the population size, every individual takes part, so `tournament` should "
               f"return {best} (the fittest); got {got}.",
               hint="the GA maximises fitness: take the largest." if got == worst else
               "draw `size` DIFFERENT individuals (rng.choice(n, size, replace=False)) and keep the fittest.")
    # 20 tournaments from two generators with the same seed must agree (by chance: probability < 1e-8)
    rng_a, rng_b = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    a = [call_student("tournament", tournament, f.copy(), 3, rng_a) for _ in range(20)]
    b = [call_student("tournament", tournament, f.copy(), 3, rng_b) for _ in range(20)]
    check_true(a == b, "`tournament` gave different answers for two generators with the same seed.",
               hint="draw every random number from the `rng` argument, not from np.random.")
    rng = np.random.default_rng(seed + 2)
    picks = np.bincount([_index("tournament", call_student("tournament", tournament,
                                                           f, 1, rng), n) for _ in range(n_draws)], minlength=n)
    # size 1: each individual with probability 1/n; binomial standard deviation sqrt(p(1-p)/N) ~ 0.007
    check_true(np.all(np.abs(picks / n_draws - 1 / n) < 0.04),
               f"with size = 1 every individual should be picked equally often (1/{n}); got frequencies "
               f"{np.round(picks / n_draws, 3).tolist()}.", hint="draw the contestants uniformly at random.")
    rng = np.random.default_rng(seed + 3)
    picks = np.bincount([call_student("tournament", tournament, f, 2, rng) for _ in range(n_draws)], minlength=n)
    # size 2 without replacement: the best wins whenever it is drawn, P = 2 / n (here 1/3, sd ~0.009)
    check_true(abs(picks[best] / n_draws - 2 / n) < 0.04,
               f"with size = 2 the fittest should win a fraction 2/{n} = {2 / n:.3f} of the tournaments; got "
               f"{picks[best] / n_draws:.3f}.",
               hint="draw two different individuals and return the index of the fitter one." if picks[worst] == 0
               else "the weakest individual can never win a tournament of two different individuals.")
    check_true(picks[worst] == 0, "with size = 2 the least fit individual should never win; it did "
               f"{picks[worst]} times.", hint="draw the contestants without replacement and keep the FITTEST.")


@answers(TUTORIAL, "uniform_crossover", "ml4em.ga.crossover")
def check_crossover(uniform_crossover, *, n_genes=2000, seed=1):
    """``uniform_crossover(parent_a, parent_b, rng)``: each gene from either parent with probability 1/2."""
    check_callable(uniform_crossover, "uniform_crossover")
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n_genes), rng.standard_normal(n_genes) + 10
    a0, b0 = a.copy(), b.copy()
    name = "uniform_crossover(parent_a, parent_b, rng)"
    child = check_array(name, call_student("uniform_crossover", uniform_crossover,
                                           a, b, np.random.default_rng(seed)), shape=(n_genes,))
    check_true(np.array_equal(a, a0) and np.array_equal(b, b0),
               "`uniform_crossover` changed a parent; build a new array for the child.")
    from_a, from_b = child == a, child == b
    check_true(np.all(from_a | from_b), f"{int(np.sum(~(from_a | from_b)))} genes of the child come from neither "
               "parent.", hint="each gene is copied from parent_a or parent_b (np.where), not averaged.")
    frac = from_a.mean()
    # binomial(2000, 1/2): standard deviation 0.011
    check_true(abs(frac - 0.5) < 0.05, f"the child should take about half its genes from each parent; got "
               f"{frac:.1%} from parent_a.", hint="choose each gene with probability 1/2: rng.random(n) < 0.5.")
    switches = int(np.sum(from_a[1:] != from_a[:-1]))
    check_true(switches > n_genes / 4, f"the child switches parent only {switches} times along {n_genes} genes: "
               "that is one- or two-point crossover.",
               hint="uniform crossover decides for every gene independently.")
    again = call_student("uniform_crossover", uniform_crossover, a, b, np.random.default_rng(seed))
    check_true(np.array_equal(child, again), "`uniform_crossover` gave different children for two generators "
               "with the same seed.", hint="draw the random numbers from the `rng` argument.")


@answers(TUTORIAL, "mutate", "ml4em.ga.mutate", "ml4em.ga.Real.mutate")
def check_mutation(mutate, *, n_genes=4000, rate=0.25, scale=0.3, low=-5.0, high=5.0, seed=2):
    """``mutate(x, rate, scale, low, high, rng)``: each gene with probability ``rate`` gets a N(0, scale) step,
    then everything is clipped to [low, high]."""
    check_callable(mutate, "mutate")
    rng = np.random.default_rng(seed)
    x = rng.uniform(low + 1.5, high - 1.5, n_genes)  # far from the bounds: steps of 0.3 rarely reach them
    x0 = x.copy()
    name = f"mutate(x, rate={rate}, scale={scale}, low={low}, high={high}, rng)"
    out = check_array(name, call_student("mutate", mutate,
                                         x, rate, scale, low, high, np.random.default_rng(seed)), shape=(n_genes,))
    check_true(np.array_equal(x, x0), "`mutate` changed its input; return a new array.")
    changed = out != x
    # binomial(4000, 0.25): standard deviation 0.007
    check_true(abs(changed.mean() - rate) < 0.03, f"a fraction {rate} of the genes should change; "
               f"{changed.mean():.3f} did.", hint="mutate gene i only when rng.random() < rate (one draw per gene).")
    steps = (out - x)[changed]
    # standard deviation of ~1000 normal steps: relative error ~2 %
    check_true(abs(steps.std() / scale - 1) < 0.1 and abs(steps.mean()) < 0.05,
               f"the mutation steps should be normal with mean 0 and standard deviation {scale}; got mean "
               f"{steps.mean():.3f}, standard deviation {steps.std():.3f}.",
               hint="add rng.normal(0, scale) to each mutated gene.")
    edge = call_student("mutate", mutate, np.full(200, high - 1e-3), 1.0, 5.0, low, high, np.random.default_rng(seed))
    check_true(np.all((np.asarray(edge) >= low) & (np.asarray(edge) <= high)),
               f"mutated genes should stay within [{low}, {high}].", hint="clip with np.clip(x, low, high).")
    check_true(np.array_equal(call_student("mutate", mutate, x, 0.0, scale, low, high, np.random.default_rng(seed)), x),
               "with rate = 0 nothing should change.")


def _rastrigin_fitness(individual):
    return -float(ref.rastrigin(individual))


@answers(TUTORIAL, "evolve", "ml4em.ga.GeneticAlgorithm")
def check_evolve(evolve, *, pop_size=30, n_genes=5, n_generations=60, seed=3, min_fitness=-3.0):
    """``evolve(fitness, population, n_generations, rng)`` runs a GA with elitism; on the Rastrigin function it must
    reach a best fitness of ``min_fitness`` (random search with the same budget stays near -10 to -20)."""
    check_callable(evolve, "evolve")
    rng = np.random.default_rng(seed)
    population = rng.uniform(-5.12, 5.12, (pop_size, n_genes))
    start = population.copy()
    name = f"evolve(fitness, population {population.shape}, {n_generations}, rng)"
    result = call_student("evolve", evolve, _rastrigin_fitness, population, n_generations, np.random.default_rng(seed))
    check_true(isinstance(result, tuple) and len(result) == 2,
               f"`{name}` should return a tuple (final population, best fitness per generation).")
    final = check_array(f"{name}[0]", result[0], ndim=2)
    check_shape(f"{name}[0]", final, (pop_size, n_genes), hint="keep the population size constant.")
    best = check_array(f"{name}[1]", result[1], ndim=1)
    check_shape(f"{name}[1]", best, (n_generations + 1,),
                hint="record the best fitness of the initial population and after every generation.")
    check_true(np.array_equal(population, start), "`evolve` changed the population it was given in place.")
    first = max(_rastrigin_fitness(p) for p in start)
    check_true(np.isclose(best[0], first), f"best[0] should be the best fitness of the initial population, "
               f"{first:.4f}; got {best[0]:.4f}.")
    check_true(np.all(np.diff(best) >= -1e-12), "the best fitness went down from one generation to the next.",
               hint="elitism: copy the best n_elite individuals into the next generation unchanged.")
    final_best = max(_rastrigin_fitness(p) for p in final)
    check_true(np.isclose(final_best, best[-1]), f"best[-1] = {best[-1]:.4f} is not the best fitness of the "
               f"returned population ({final_best:.4f}).")
    check_true(np.all((final >= -5.12) & (final <= 5.12)), "individuals left the search domain [-5.12, 5.12].")
    check_true(best[-1] >= min_fitness,
               f"after {n_generations} generations of {pop_size} the best fitness is {best[-1]:.2f}; a working GA "
               f"reaches at least {min_fitness} here (random search with the same budget: about -10 to -20).",
               hint="select parents by tournament, cross them over, mutate the children, keep the elites.")
