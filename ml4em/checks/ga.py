"""Checks for tutorials/06_genetic_algorithms.

The operators are checked by their defining properties (statistics over many
draws with explicit tolerances), then draw for draw against :mod:`ml4em.ga`
(the exercises fix the order in which the random numbers are drawn), and the
whole algorithm against :func:`ml4em.ga.evolve` with the same generator, on a
shifted Rastrigin function with settings other than the defaults, and by what
it must reach there, where random search with the same budget does not.
Each check refuses the package's own implementation of its exercise (see
:mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import ga as ref
from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._own import answers

TUTORIAL = "06_genetic_algorithms"

__all__ = ["check_tournament", "check_crossover", "check_mutation", "check_evolve", "check_best_rate",
           "check_stuck_median", "EXPLORER_RATES"]


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
    # 20 tournaments of k < n (so that the winner varies) from two generators with the same seed must agree
    k = max(1, min(3, n - 1))
    rng_a, rng_b = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    a = [call_student("tournament", tournament, f.copy(), k, rng_a) for _ in range(20)]
    b = [call_student("tournament", tournament, f.copy(), k, rng_b) for _ in range(20)]
    check_true(a == b, "`tournament` gave different answers for two generators with the same seed.",
               hint="draw every random number from the `rng` argument, not from np.random.")
    rng = np.random.default_rng(seed + 2)
    picks = np.bincount([_index("tournament", call_student("tournament", tournament,
                                                           f, 1, rng), n) for _ in range(n_draws)], minlength=n)
    # size 1: each individual with probability 1/n; binomial standard deviation sqrt(p(1-p)/N) ~ 0.007
    check_true(np.all(np.abs(picks / n_draws - 1 / n) < 0.04),
               f"with size = 1 every individual should be picked equally often (1/{n}); got frequencies "
               f"{np.round(picks / n_draws, 3).tolist()}.",
               hint="every tournament picked the same individual: the `rng` argument is ignored (a generator made "
                    "anew in every call repeats its numbers); draw from the `rng` you are given."
               if np.count_nonzero(picks) == 1 else "draw the contestants uniformly at random.")
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
    # another seed: the same 20 winners by chance with probability < 1e-5 (n = 3, k = 2: (5/9)**20)
    rng_c = np.random.default_rng(seed + 11)
    c = [call_student("tournament", tournament, f.copy(), k, rng_c) for _ in range(20)]
    check_true(a != c, "`tournament` gave the same 20 winners for generators with different seeds: the `rng` "
               "argument is ignored.", hint="draw the contestants with rng.choice(n, size, replace=False).")
    rng_ref = np.random.default_rng(seed + 1)
    want = [ref.tournament_select(f, size=k, seed=rng_ref) for _ in range(20)]
    check_true(a == want, f"`tournament` with rng = np.random.default_rng({seed + 1}) picked {a[:8]}... ; drawing "
               f"the contestants with rng.choice(n, size, replace=False) picks {want[:8]}....",
               hint="draw the contestants with ONE call rng.choice(n, size, replace=False), nothing else, and return "
                    "the index (in the whole population) of the fittest of them.")


@answers(TUTORIAL, "uniform_crossover", "ml4em.ga.crossover", "ml4em.ga.uniform_crossover")
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
    other = call_student("uniform_crossover", uniform_crossover, a, b, np.random.default_rng(seed + 1))
    check_true(not np.array_equal(child, other), "`uniform_crossover` gave the same child for generators with "
               "different seeds: the `rng` argument is ignored.", hint="u = rng.random(len(parent_a)).")
    want = ref.uniform_crossover(a, b, np.random.default_rng(seed))
    hint = "draw u = rng.random(len(parent_a)) once and take parent_a where u < 0.5, parent_b elsewhere."
    if np.array_equal(child, np.where(want == a, b, a)):
        hint = "the parents are swapped: take parent_a where u < 0.5 (u = rng.random(n)), parent_b elsewhere."
    check_true(np.array_equal(child, want), "`uniform_crossover` does not take the genes the exercise asks for "
               f"with rng = np.random.default_rng({seed}): {int(np.sum(child != want))} of {n_genes} genes differ.",
               hint=hint)


@answers(TUTORIAL, "mutate", "ml4em.ga.mutate", "ml4em.ga.Real.mutate", "ml4em.ga.mutate_genes")
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
    other = call_student("mutate", mutate, x, rate, scale, low, high, np.random.default_rng(seed + 1))
    check_true(not np.array_equal(np.asarray(other), out), "`mutate` gave the same result for generators with "
               "different seeds: the `rng` argument is ignored.", hint="draw from the `rng` you are given.")
    # draw for draw, near the bounds too (a quarter of the genes start within one step of low or high)
    start = np.concatenate([x[: n_genes // 2], rng.uniform(low, low + scale, n_genes // 4),
                            rng.uniform(high - scale, high, n_genes - n_genes // 2 - n_genes // 4)])
    got = check_array(name, call_student("mutate", mutate, start.copy(), rate, scale, low, high,
                                         np.random.default_rng(seed + 2)), shape=(n_genes,))
    want = ref.mutate_genes(start, rate, scale, low, high, np.random.default_rng(seed + 2))
    draws = np.random.default_rng(seed + 2)
    hit, steps = draws.random(n_genes) < rate, draws.normal(0.0, scale, n_genes)
    hint = ("draw hit = rng.random(n) < rate first, then the steps rng.normal(0, scale, n) (one per gene), add the "
            "steps where hit, and clip to [low, high].")
    if np.allclose(got, np.clip(start - hit * steps, low, high)):
        hint = "add the step (x + step): the sign matters once the draws are fixed."
    elif np.allclose(got, start + hit * steps):
        hint = "clip the result to [low, high] (np.clip)."
    elif np.allclose(got, np.clip(start + hit * steps, -np.inf, high)) or \
            np.allclose(got, np.clip(start + hit * steps, low, np.inf)):
        hint = "clip at both bounds, low and high."
    check_close(f"{name} with rng = np.random.default_rng({seed + 2}), genes near the bounds", got, want,
                rtol=1e-12, atol=1e-12, hint=hint)


def _rastrigin_fitness(individual):
    return -float(ref.rastrigin(individual))


class _Shifted:
    """Fitness ``-rastrigin(x - shift)``: the global maximum 0 at ``shift``, not at the origin."""

    def __init__(self, shift):
        self.shift = np.asarray(shift, dtype=float)

    def __call__(self, individual):
        return -float(ref.rastrigin(np.asarray(individual, dtype=float) - self.shift))


def _evolve_call(evolve, fitness, population, n_generations, seed, settings):
    name = f"evolve(fitness, population {population.shape}, {n_generations}, rng" + "".join(
        f", {k}={v}" for k, v in settings.items()) + ")"
    result = call_student("evolve", evolve, fitness, population, n_generations, np.random.default_rng(seed),
                          **settings)
    check_true(isinstance(result, tuple) and len(result) == 2,
               f"`{name}` should return a tuple (final population, best fitness per generation).")
    final = check_array(f"{name}[0]", result[0], ndim=2)
    check_shape(f"{name}[0]", final, population.shape, hint="keep the population size constant.")
    best = check_array(f"{name}[1]", result[1], ndim=1)
    check_shape(f"{name}[1]", best, (n_generations + 1,),
                hint="record the best fitness of the initial population and after every generation.")
    return name, final, best


@answers(TUTORIAL, "evolve", "ml4em.ga.GeneticAlgorithm", "ml4em.ga.evolve")
def check_evolve(evolve, *, pop_size=30, n_genes=5, n_generations=60, seed=3, min_fitness=-3.0, shift=0.0,
                 **settings):
    """``evolve(fitness, population, n_generations, rng, **settings)`` runs a GA with elitism; on the Rastrigin
    function (maximum at ``shift``) it must reach a best fitness of ``min_fitness`` (random search with the same
    budget stays near -10 to -20), and it must match :func:`ml4em.ga.evolve` draw for draw with the same
    generator and ``settings`` (n_elite, tournament_size, rate, scale, low, high)."""
    check_callable(evolve, "evolve")
    low, high = settings.get("low", -5.12), settings.get("high", 5.12)
    rng = np.random.default_rng(seed)
    population = rng.uniform(low, high, (pop_size, n_genes))
    start = population.copy()
    fitness = _Shifted(np.full(n_genes, shift)) if shift else _rastrigin_fitness
    name, final, best = _evolve_call(evolve, fitness, population, n_generations, seed, settings)
    check_true(np.array_equal(population, start), "`evolve` changed the population it was given in place.")
    first = max(fitness(p) for p in start)
    check_true(np.isclose(best[0], first), f"best[0] should be the best fitness of the initial population, "
               f"{first:.4f}; got {best[0]:.4f}.")
    check_true(np.all(np.diff(best) >= -1e-12), "the best fitness went down from one generation to the next.",
               hint="elitism: copy the best n_elite individuals into the next generation unchanged.")
    final_best = max(fitness(p) for p in final)
    check_true(np.isclose(final_best, best[-1]), f"best[-1] = {best[-1]:.4f} is not the best fitness of the "
               f"returned population ({final_best:.4f}).")
    check_true(np.all((final >= low) & (final <= high)), f"individuals left the search domain [{low}, {high}].",
               hint="pass low and high on to your mutate.")
    check_true(best[-1] >= min_fitness,
               f"after {n_generations} generations of {pop_size} the best fitness is {best[-1]:.2f}; a working GA "
               f"reaches at least {min_fitness} here (random search with the same budget: about -10 to -20).",
               hint="select parents by tournament, cross them over, mutate the children, keep the elites.")
    # one generation: the n_elite fittest come first and unchanged, fittest first
    n_elite = settings.get("n_elite", 2)
    _, one, _ = _evolve_call(evolve, fitness, start.copy(), 1, seed + 1, settings)
    scores = np.array([fitness(p) for p in start])
    elites = start[np.argsort(-scores, kind="stable")[:n_elite]]
    check_true(np.array_equal(one[:n_elite], elites),
               f"after one generation the first {n_elite} individuals should be the {n_elite} fittest of the "
               "first population, fittest first, unchanged.",
               hint=f"copy population[i] for the first n_elite (here {n_elite}) indices of the fitness sorted from "
                    "the largest, then append the children.")
    # the rng drives everything: same seed, same run; another seed, another run
    _, again, _ = _evolve_call(evolve, fitness, start.copy(), 3, seed + 2, settings)
    _, same, _ = _evolve_call(evolve, fitness, start.copy(), 3, seed + 2, settings)
    _, other, _ = _evolve_call(evolve, fitness, start.copy(), 3, seed + 3, settings)
    check_true(np.array_equal(again, same), "two runs of `evolve` with generators of the same seed differ.",
               hint="draw every random number from `rng` (pass it on to tournament, uniform_crossover and mutate).")
    check_true(not np.array_equal(again, other), "two runs of `evolve` with generators of different seeds gave "
               "the same population: the `rng` argument is ignored.",
               hint="pass the `rng` you are given on to tournament, uniform_crossover and mutate.")
    # draw for draw against the course's evolve, with the same generator
    want, want_best = ref.evolve(fitness, start.copy(), 3, np.random.default_rng(seed + 2), **settings)
    check_close(f"{name[:name.index(',')]}, population, 3, rng = np.random.default_rng({seed + 2}))[0] (the "
                "population after 3 generations)", again, want, rtol=1e-12, atol=1e-12,
                hint="per child: a = population[tournament(scores, tournament_size, rng)], then b the same way, then "
                     "mutate(uniform_crossover(a, b, rng), rate, scale, low, high, rng); elites first. Check that "
                     "your tournament, uniform_crossover and mutate pass their tests, and that every setting "
                     "(n_elite, tournament_size, rate, scale, low, high) is passed on.")


# ---------------------------------------------------------------- the graded Think! of the population explorer

#: The mutation rates and the generation of the tutorial's population explorer at which the Think! is read.
EXPLORER_RATES = (0.0, 0.05, 0.2, 0.5, 1.0)
EXPLORER_GENERATION = 20


def _median_f(rate, generation=EXPLORER_GENERATION):
    return float(np.median(ref.rastrigin_population(generation, mutation_rate=rate)[1]))


@answers(TUTORIAL, "best_rate", "ml4em.ga.rastrigin_population", student=())
def check_best_rate(best_rate):
    """``best_rate``: the explorer's mutation rate whose population has the lowest median f at generation 20."""
    value = check_scalar("best_rate", best_rate)
    check_true(any(np.isclose(value, r) for r in EXPLORER_RATES),
               f"`best_rate` should be one of the explorer's mutation rates {list(EXPLORER_RATES)}; got {value}.")
    medians = {r: _median_f(r) for r in EXPLORER_RATES}
    lowest = min(medians.values())
    mine = medians[min(EXPLORER_RATES, key=lambda r: abs(r - value))]
    # the panels show the median to two decimals: a rate within 0.01 of the lowest cannot be told apart
    check_true(mine <= lowest + 0.01, f"at generation {EXPLORER_GENERATION} the population with mutation rate "
               f"{value:g} has median f = {mine:.2f}; another rate of the explorer gets lower.",
               hint=f"set the generation to {EXPLORER_GENERATION} and read the median f in the corner of the panel for "
                    "every mutation rate: too little mutation gets stuck, too much keeps scattering the population.")


@answers(TUTORIAL, "stuck_median_f", "ml4em.ga.rastrigin_population", student=())
def check_stuck_median(stuck_median_f):
    """``stuck_median_f``: the median f of the population without mutation (rate 0) at generation 20, as the panel
    shows it (to 0.0051: two decimals)."""
    value = check_scalar("stuck_median_f", stuck_median_f)
    want = _median_f(0.0)
    check_close("stuck_median_f", value, want, rtol=0.0, atol=0.0051,
                hint=f"set the mutation rate to 0 and the generation to {EXPLORER_GENERATION}, and read the median f "
                     "in the corner.")
