"""The checks of tutorial 06 (ml4em.checks.ga) accept right answers and name the typical mistakes.

Every wrong answer below is one a student might write; its check must fail with a message that names the mistake.
"""

import re

import numpy as np
import pytest

from ml4em import ga as ref
from ml4em.checks import CheckFailure
from ml4em.checks import ga as checks


_OWN = np.random.default_rng(123)  # a generator of the student's own, not the one passed in


def tournament(fitness, size, rng):
    fitness = np.asarray(fitness, dtype=float)
    drawn = rng.choice(fitness.size, size, replace=False)
    return int(drawn[np.argmax(fitness[drawn])])


def uniform_crossover(parent_a, parent_b, rng):
    return np.where(rng.random(len(parent_a)) < 0.5, parent_a, parent_b)


def mutate(x, rate, scale, low, high, rng):
    x = np.asarray(x, dtype=float)
    hit = rng.random(x.size) < rate
    return np.clip(x + hit * rng.normal(0.0, scale, x.size), low, high)


def make_evolve(*, fixed_rng=False, fixed=None, elite_slice=slice(None), extra_child=False):
    """An evolve with one mistake switched on (the defaults give the right one).

    fixed: a dict of settings the student ignores (uses this value whatever is passed)."""

    def evolve(fitness, population, n_generations, rng, n_elite=2, tournament_size=3, rate=0.2, scale=1.0,
               low=-5.12, high=5.12):
        if fixed_rng:
            rng = np.random.default_rng(0)
        settings = dict(n_elite=n_elite, tournament_size=tournament_size, rate=rate, scale=scale, low=low, high=high)
        settings.update(fixed or {})
        pop = np.array(population, dtype=float)
        scores = np.array([fitness(p) for p in pop])
        best = [scores.max()]
        for _ in range(n_generations):
            order = np.argsort(scores)[::-1][elite_slice]
            nxt = [pop[i] for i in order[:settings["n_elite"]]]
            while len(nxt) < len(pop) + extra_child:
                a = pop[tournament(scores, settings["tournament_size"], rng)]
                b = pop[tournament(scores, settings["tournament_size"], rng)]
                nxt.append(mutate(uniform_crossover(a, b, rng), settings["rate"], settings["scale"], settings["low"],
                                  settings["high"], rng))
            pop = np.array(nxt)
            scores = np.array([fitness(p) for p in pop])
            best.append(scores.max())
        return pop, np.array(best)

    return evolve


def test_right_answers_pass():
    checks.check_tournament(tournament)
    checks.check_crossover(uniform_crossover)
    checks.check_mutation(mutate)
    checks.check_mutation(mutate, rate=0.6, scale=0.1, low=0.0, high=10.0, seed=30)
    checks.check_evolve(make_evolve())
    checks.check_evolve(make_evolve(), shift=1.5, n_elite=3, tournament_size=4, rate=0.3, scale=0.5, seed=42)


@pytest.mark.parametrize("wrong, message", [
    (lambda f, size, rng: tournament(f, size, np.random.default_rng(0)), "the `rng` argument is ignored"),
    (lambda f, size, rng: tournament(f, size, _OWN), "same seed"),
    (lambda f, size, rng: int(rng.choice(len(f), size, replace=True)[0]), "size = the population size"),
    (lambda f, size, rng: tournament(f, size, rng) if size != 3 else int(np.argsort(rng.permutation(len(f))[:3])[0]),
     "rng.choice(n, size, replace=False)"),
])
def test_wrong_tournaments_fail(wrong, message):
    with pytest.raises(CheckFailure, match=re.escape(message)):
        checks.check_tournament(wrong)


@pytest.mark.parametrize("wrong, message", [
    (lambda a, b, rng: np.where(rng.random(len(a)) < 0.5, b, a), "the parents are swapped"),
    (lambda a, b, rng: uniform_crossover(a, b, np.random.default_rng(1)), "the `rng` argument is ignored"),
    (lambda a, b, rng: (a + b) / 2, "come from neither parent"),
])
def test_wrong_crossovers_fail(wrong, message):
    with pytest.raises(CheckFailure, match=re.escape(message)):
        checks.check_crossover(wrong)


def _minus(x, rate, scale, low, high, rng):
    hit = rng.random(len(x)) < rate
    return np.clip(np.asarray(x) - hit * rng.normal(0.0, scale, len(x)), low, high)


def _clip_high_only(x, rate, scale, low, high, rng):
    hit = rng.random(len(x)) < rate
    return np.minimum(np.asarray(x) + hit * rng.normal(0.0, scale, len(x)), high)


def _steps_first(x, rate, scale, low, high, rng):
    steps = rng.normal(0.0, scale, len(x))
    return np.clip(np.asarray(x) + (rng.random(len(x)) < rate) * steps, low, high)


@pytest.mark.parametrize("wrong, message", [
    (_minus, "add the step"),
    (_clip_high_only, "mutated genes should stay within"),
    (_steps_first, "draw hit = rng.random(n) < rate first"),
    (lambda x, rate, scale, low, high, rng: mutate(x, rate, scale, low, high, np.random.default_rng(5)),
     "the `rng` argument is ignored"),
])
def test_wrong_mutations_fail(wrong, message):
    with pytest.raises(CheckFailure, match=re.escape(message)):
        checks.check_mutation(wrong)


@pytest.mark.parametrize("kwargs, settings, message", [
    (dict(fixed_rng=True), {}, "the `rng` argument is ignored"),
    (dict(fixed={"n_elite": 2}), dict(n_elite=3), "the first 3 individuals should be the 3 fittest"),
    (dict(fixed={"rate": 0.2}), dict(rate=0.3), "every setting"),
    (dict(fixed={"tournament_size": 3}), dict(tournament_size=4), "every setting"),
    (dict(fixed={"low": -5.12, "high": 5.12}), dict(low=-3.0, high=4.0, shift=-1.0), "left the search domain"),
    (dict(fixed={"high": 5.12}), dict(low=-1.0, high=0.5, shift=0.25, rate=0.5), "left the search domain"),
    (dict(elite_slice=slice(None, None, 2)), {}, "fittest of the first population"),
    (dict(extra_child=True), {}, "keep the population size constant"),
])
def test_wrong_evolves_fail(kwargs, settings, message):
    with pytest.raises(CheckFailure, match=re.escape(message)):
        checks.check_evolve(make_evolve(**kwargs), **settings)


def test_package_operators_are_refused():
    for check, impl, name in ((checks.check_crossover, ref.uniform_crossover, "ml4em.ga.uniform_crossover"),
                              (checks.check_mutation, ref.mutate_genes, "ml4em.ga.mutate_genes"),
                              (checks.check_evolve, ref.evolve, "ml4em.ga.evolve")):
        with pytest.raises(CheckFailure, match=re.escape(name)):
            check(impl)


def test_think_checks_compute_their_truth():
    medians = {r: np.median(ref.rastrigin_population(20, mutation_rate=r)[1]) for r in checks.EXPLORER_RATES}
    best = min(medians, key=medians.get)
    checks.check_best_rate(best)
    worst = max(medians, key=medians.get)
    with pytest.raises(CheckFailure, match="another rate"):
        checks.check_best_rate(worst)
    with pytest.raises(CheckFailure, match="one of the explorer's mutation rates"):
        checks.check_best_rate(0.3)
    checks.check_stuck_median(round(medians[0.0], 2))
    with pytest.raises(CheckFailure, match="stuck_median_f"):
        checks.check_stuck_median(medians[0.0] + 0.02)
