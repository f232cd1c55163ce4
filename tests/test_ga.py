"""Tests of ml4em.ga: genes, operators, the genetic algorithm, random search, parallel evaluation."""

import numpy as np
import pytest

from ml4em import by_mode
from ml4em.ga import (
    Categorical,
    GeneticAlgorithm,
    Integer,
    PatchNetFitness,
    Real,
    SearchResult,
    crossover,
    make_patch_data,
    mutate,
    plot_rastrigin_population,
    plot_search,
    random_genome,
    random_search,
    rastrigin,
    rastrigin_fitness,
    rastrigin_gradient,
    rastrigin_space,
    tournament_select,
)


def noisy_rastrigin(genome, seed=None):
    """A stochastic fitness (module level, so that worker processes can import it)."""
    noise = np.random.default_rng(seed).normal(0.0, 0.5)
    return rastrigin_fitness(genome) + noise


def not_finite(genome):
    return float("nan")


def test_genes_sample_and_mutate_within_bounds():
    rng = np.random.default_rng(0)
    i, r, lr, c = Integer(2, 5), Real(-1.0, 1.0), Real(1e-4, 1e-1, log=True), Categorical(["a", "b", "c"])
    ints = [i.sample(rng) for _ in range(2000)]
    assert set(ints) == {2, 3, 4, 5}  # both ends included
    assert all(-1 <= r.sample(rng) <= 1 for _ in range(100))
    # log-uniform: the median of 4000 draws is near the geometric mean 10^-2.5 (+-0.1 decade)
    med = np.median([lr.sample(rng) for _ in range(4000)])
    assert abs(np.log10(med) + 2.5) < 0.1
    for _ in range(200):
        assert 2 <= i.mutate(3, rng, 0.1) <= 5 and i.mutate(3, rng, 0.1) != 3  # an integer step moves >= 1
        assert -1 <= r.mutate(0.99, rng, 0.5) <= 1
        assert 1e-4 <= lr.mutate(1e-3, rng, 0.5) <= 1e-1
        assert c.mutate("a", rng, 0.1) in ("b", "c")
    assert Categorical(["only"]).mutate("only", rng, 0.1) == "only"


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Integer(3, 1), "low <= high"),
    (lambda: Integer(0.5, 2), "integers"),
    (lambda: Real(1.0, 1.0), "low < high"),
    (lambda: Real(0.0, 1.0, log=True), "low > 0"),
    (lambda: Categorical([]), "empty"),
])
def test_gene_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_operators():
    space = {"n": Integer(0, 100), "x": Real(0.0, 1.0), "act": Categorical(("relu", "tanh"))}
    g = random_genome(space, seed=1)
    assert set(g) == set(space) and g == random_genome(space, seed=1)
    assert mutate(g, space, rate=0.0, seed=0) == g  # rate 0 changes nothing
    m = mutate(g, space, rate=1.0, seed=0)
    assert all(m[k] != g[k] for k in g)  # rate 1 changes every gene
    a = {f"g{k}": 0 for k in range(1000)}
    b = {f"g{k}": 1 for k in range(1000)}
    child = crossover(a, b, seed=0)
    assert 0.45 < np.mean(list(child.values())) < 0.55  # uniform crossover: binomial(1000, 1/2), sd 0.016
    f = [0.3, 0.9, 0.1, 0.5]
    assert tournament_select(f, size=4, seed=0) == 1  # the whole population: always the best
    picks = np.bincount([tournament_select(f, size=1, seed=s) for s in range(4000)], minlength=4)
    assert np.all(np.abs(picks / 4000 - 0.25) < 0.03)  # size 1: uniform, sd 0.007
    with pytest.raises(ValueError, match="rate=2"):
        mutate(g, space, rate=2)
    with pytest.raises(ValueError, match="different genes"):
        crossover({"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match="size=5"):
        tournament_select(f, size=5)
    with pytest.raises(ValueError, match="one value per individual"):
        tournament_select([])
    with pytest.raises(TypeError, match="space should be"):
        random_genome([])
    with pytest.raises(TypeError, match="space\\['x'\\]"):
        random_genome({"x": (0, 1)})


def test_rastrigin_known_values_and_gradient():
    assert rastrigin(np.zeros(4)) == 0.0
    np.testing.assert_allclose(rastrigin(np.array([[1.0, 1.0], [0.5, 0.0]])), [2.0, 20.25])  # by hand
    x = np.array([0.3, -1.7, 2.2])
    h = 1e-6
    numeric = [(rastrigin(x + h * e) - rastrigin(x - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(rastrigin_gradient(x), numeric, rtol=1e-6)  # central differences, error ~h^2
    assert rastrigin_fitness({"x0": 0.0, "x1": 0.0}) == 0.0
    with pytest.raises(ValueError, match="last axis"):
        rastrigin(1.0)
    with pytest.raises(ValueError, match="dim=0"):
        rastrigin_space(0)


def test_ga_respects_the_budget_and_elitism():
    ga = GeneticAlgorithm(rastrigin_space(3), population_size=10, n_elite=3, seed=0)
    res = ga.run(rastrigin_fitness, n_evaluations=45)
    assert isinstance(res, SearchResult) and len(res.fitness) == len(res.genomes) == 45
    # 10 in generation 0, then 7 new ones per generation (3 elites kept without re-evaluation); the last is cut
    assert np.bincount(res.generation).tolist() == [10, 7, 7, 7, 7, 7]
    assert np.all(np.diff(res.best_so_far) >= 0) and res.best_fitness == res.fitness.max()
    assert res.best_genome == res.genomes[int(np.argmax(res.fitness))]


def test_ga_beats_random_search_on_rastrigin():
    # 5-D Rastrigin, the same budget of 1500 evaluations, three seeds: selection and elitism
    # concentrate the search, random search does not (its best stays around f = 10 to 20).
    for seed in range(3):
        ga = GeneticAlgorithm(rastrigin_space(5), population_size=30, seed=seed).run(rastrigin_fitness,
                                                                                    n_evaluations=1500)
        rs = random_search(rastrigin_fitness, rastrigin_space(5), n_evaluations=1500, seed=seed)
        assert ga.best_fitness > rs.best_fitness + 3, (ga.best_fitness, rs.best_fitness)
    # in 2-D the GA reaches the global basin (f < 1 means every coordinate within ~0.07 of 0)
    res = GeneticAlgorithm(rastrigin_space(2), population_size=30, seed=0).run(rastrigin_fitness, n_evaluations=900)
    assert res.best_fitness > -1.0


def test_results_do_not_depend_on_the_number_of_processes():
    space = rastrigin_space(3)
    one = GeneticAlgorithm(space, population_size=8, seed=7).run(noisy_rastrigin, n_evaluations=24)
    two = GeneticAlgorithm(space, population_size=8, n_jobs=2, seed=7).run(noisy_rastrigin, n_evaluations=24)
    np.testing.assert_array_equal(one.fitness, two.fitness)
    assert one.genomes == two.genomes
    again = GeneticAlgorithm(space, population_size=8, seed=7).run(noisy_rastrigin, n_evaluations=24)
    np.testing.assert_array_equal(one.fitness, again.fitness)
    rs1 = random_search(noisy_rastrigin, space, n_evaluations=10, seed=1)
    rs2 = random_search(noisy_rastrigin, space, n_evaluations=10, n_jobs=2, seed=1)
    np.testing.assert_array_equal(rs1.fitness, rs2.fitness)
    # the seed reaches the fitness: a different run seed gives different noise for the same genomes
    other = random_search(noisy_rastrigin, space, n_evaluations=10, seed=2)
    assert not np.array_equal(rs1.fitness, other.fitness)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"population_size": 1}, "population_size=1"),
    ({"n_elite": 20}, "n_elite=20"),
    ({"tournament_size": 0}, "tournament_size=0"),
    ({"crossover_rate": 1.5}, "crossover_rate=1.5"),
    ({"mutation_rate": -0.1}, "mutation_rate=-0.1"),
    ({"mutation_scale": 0}, "mutation_scale=0"),
])
def test_ga_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GeneticAlgorithm(rastrigin_space(2), **kwargs)


def test_evaluation_errors():
    ga = GeneticAlgorithm(rastrigin_space(2), population_size=4, seed=0)
    with pytest.raises(ValueError, match="n_evaluations=0"):
        ga.run(rastrigin_fitness, n_evaluations=0)
    with pytest.raises(TypeError, match="fitness should be a function"):
        ga.run(3, n_evaluations=4)
    with pytest.raises(RuntimeError, match="non-finite"):
        ga.run(not_finite, n_evaluations=4)
    with pytest.raises(ValueError, match="n_jobs=0"):
        random_search(rastrigin_fitness, rastrigin_space(2), n_evaluations=4, n_jobs=0)


def test_patch_data_balanced_and_normalised():
    x, y = make_patch_data(101, size=12, seed=0)
    assert x.shape == (101, 12, 12, 1) and x.dtype == np.float32
    assert y.sum() == 50  # n // 2 defect patches
    np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=(1, 2, 3)), 1, rtol=1e-3)  # float32, std + 1e-6 in the divisor
    a, _ = make_patch_data(20, seed=3)
    b, _ = make_patch_data(20, seed=3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_patches=1"):
        make_patch_data(1)
    with pytest.raises(ValueError, match="size=80"):
        make_patch_data(4, size=80)


def test_network_search_with_processes():
    # Quick version of the benchmark's GA-versus-random-search comparison (benchmarks/images.py): both spend
    # exactly the same budget on the same network-training fitness; in worker processes the results are the
    # same as in this process (per-evaluation seeds, same TensorFlow thread pools).
    fitness = PatchNetFitness(n_train=by_mode(full=1000, quick=300), n_val=by_mode(full=500, quick=200),
                              epochs=by_mode(full=3, quick=2))
    budget = by_mode(full=8, quick=4)
    rs = random_search(fitness, fitness.space(), n_evaluations=budget, n_jobs=2, seed=0)
    rs_here = random_search(fitness, fitness.space(), n_evaluations=budget, n_jobs=1, seed=0)
    np.testing.assert_array_equal(rs.fitness, rs_here.fitness)
    ga = GeneticAlgorithm(fitness.space(), population_size=2, n_elite=1, tournament_size=2, seed=0).run(fitness,
                                                                                      n_evaluations=budget - 1)
    for res, n in ((ga, budget - 1), (rs, budget)):
        assert len(res.fitness) == n and np.all((res.fitness >= 0) & (res.fitness <= 1))
    # a good network tells defects from intact columns far better than chance (0.5)
    good = {"conv_layers": 2, "filters": 8, "kernel_size": 3, "dense_units": 32, "dropout": 0.1,
            "activation": "relu", "learning_rate": 3e-3}
    assert fitness(good, seed=0) > 0.6
    with pytest.raises(ValueError, match="lacks the genes"):
        fitness({"conv_layers": 1}, seed=0)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot_search(ax, {"genetic algorithm": ga, "random search": rs}, ylabel="validation accuracy (fraction)")
    assert ax.get_xlabel() == "fitness evaluations" and len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="results is empty"):
        plot_search(ax, {})
    with pytest.raises(TypeError, match="SearchResult"):
        plot_search(ax, {"x": 1})
    plt.close(fig)


def test_plot_rastrigin_population():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    res = plot_rastrigin_population(ax, 3, population_size=10)
    assert res.generation.max() == 3 and ax.get_xlabel() == "x0 (dimensionless)"
    plt.close(fig)


def test_vector_operators_and_evolve():
    from ml4em.ga import evolve, mutate_genes, rastrigin_population, uniform_crossover

    a, b = np.zeros(1000), np.ones(1000)
    child = uniform_crossover(a, b, np.random.default_rng(0))
    u = np.random.default_rng(0).random(1000)
    np.testing.assert_array_equal(child, np.where(u < 0.5, 0.0, 1.0))  # parent_a where u < 1/2
    x = np.linspace(-1, 1, 1000)
    out = mutate_genes(x, 0.3, 0.5, -1.0, 1.0, np.random.default_rng(1))
    draws = np.random.default_rng(1)
    hit, steps = draws.random(1000) < 0.3, draws.normal(0.0, 0.5, 1000)  # the documented order of the draws
    np.testing.assert_array_equal(out, np.clip(x + hit * steps, -1.0, 1.0))
    assert out.min() >= -1.0 and out.max() <= 1.0
    np.testing.assert_array_equal(mutate_genes(x, 0.0, 0.5, -1.0, 1.0, np.random.default_rng(1)), x)
    start = np.random.default_rng(2).uniform(-5.12, 5.12, (20, 4))
    fitness = lambda v: -float(rastrigin(v))  # noqa: E731
    final, best = evolve(fitness, start, 40, np.random.default_rng(3))
    assert final.shape == (20, 4) and best.shape == (41,) and np.all(np.diff(best) >= 0)  # elitism
    assert best[-1] > best[0] + 10  # 40 generations of 20 go far down from a random start (about -40 to -80)
    same = evolve(fitness, start, 40, np.random.default_rng(3))[0]
    np.testing.assert_array_equal(final, same)
    assert not np.array_equal(final, evolve(fitness, start, 40, np.random.default_rng(4))[0])
    one = evolve(fitness, start, 1, np.random.default_rng(3), n_elite=3)[0]
    order = np.argsort([-fitness(v) for v in start])
    np.testing.assert_array_equal(one[:3], start[order[:3]])  # the elites first, fittest first
    # the same run as the tutorial's solution written out here (draw for draw)
    np.testing.assert_allclose(evolve(fitness, start, 5, np.random.default_rng(5), n_elite=1, tournament_size=4,
                                      rate=0.3, scale=0.5)[0],
                               _evolve(fitness, start, 5, np.random.default_rng(5), n_elite=1, size=4, rate=0.3,
                                       scale=0.5)[0], rtol=0, atol=0)
    for bad, match in ((dict(rng=0), "numpy.random.Generator"), (dict(n_elite=30), "n_elite=30"),
                       (dict(tournament_size=0), "tournament_size=0")):
        kwargs = dict(rng=np.random.default_rng(0)) | bad
        with pytest.raises(ValueError, match=match):
            evolve(fitness, start, 1, **kwargs)
    with pytest.raises(ValueError, match="rate=1.5"):
        mutate_genes(x, 1.5, 0.1, -1, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="same length"):
        uniform_crossover(a, b[:3], np.random.default_rng(0))
    points, f, res = rastrigin_population(5, mutation_rate=0.2)
    assert points.shape == (18, 2) and f.shape == (18,) and res.generation.max() == 5
    np.testing.assert_allclose(f, rastrigin(points))
    with pytest.raises(ValueError, match="generation=-1"):
        rastrigin_population(-1)


def _tournament(fitness, size, rng):
    fitness = np.asarray(fitness, dtype=float)
    contestants = rng.choice(fitness.size, size, replace=False)
    return int(contestants[np.argmax(fitness[contestants])])


def _crossover(a, b, rng):
    return np.where(rng.random(np.shape(a)) < 0.5, a, b)


def _mutate(x, rate, scale, low, high, rng):
    x = np.asarray(x, dtype=float)
    return np.clip(x + (rng.random(x.shape) < rate) * rng.normal(0.0, scale, x.shape), low, high)


def _evolve(fitness, population, n_generations, rng, n_elite=2, size=3, rate=0.2, scale=1.0, low=-5.12, high=5.12):
    population = np.array(population, dtype=float)
    scores = np.array([fitness(p) for p in population])
    best = [scores.max()]
    for _ in range(n_generations):
        children = [population[i] for i in np.argsort(scores)[::-1][:n_elite]]
        while len(children) < len(population):
            a, b = (population[_tournament(scores, size, rng)] for _ in range(2))
            children.append(_mutate(_crossover(a, b, rng), rate, scale, low, high, rng))
        population = np.array(children)
        scores = np.array([fitness(p) for p in population])
        best.append(scores.max())
    return population, np.array(best)


def test_tutorial_checks_accept_right_and_explain_wrong_answers():
    from ml4em.checks import CheckFailure
    from ml4em.checks import ga as checks

    checks.check_tournament(_tournament)
    with pytest.raises(CheckFailure, match="maximises"):
        checks.check_tournament(lambda f, size, rng: int(np.argmin(f)))
    with pytest.raises(CheckFailure, match="integer index"):
        checks.check_tournament(lambda f, size, rng: float(np.argmax(f)))
    with pytest.raises(CheckFailure, match="same seed"):
        checks.check_tournament(lambda f, size, rng: _tournament(f, size, np.random.default_rng()))
    with pytest.raises(CheckFailure, match="equally often"):
        checks.check_tournament(lambda f, size, rng: int(np.argmax(f)))
    checks.check_crossover(_crossover)
    with pytest.raises(CheckFailure, match="neither"):
        checks.check_crossover(lambda a, b, rng: (a + b) / 2)
    with pytest.raises(CheckFailure, match="one- or two-point"):
        checks.check_crossover(lambda a, b, rng: np.concatenate([a[: len(a) // 2], b[len(a) // 2:]]))
    checks.check_mutation(_mutate)
    with pytest.raises(CheckFailure, match="fraction 0.25"):
        checks.check_mutation(lambda x, rate, scale, low, high, rng: np.clip(x + rng.normal(0, scale, x.shape),
                                                                           low, high))
    with pytest.raises(CheckFailure, match="stay within"):
        checks.check_mutation(lambda x, rate, scale, low, high, rng: _mutate(x, rate, scale, -np.inf, np.inf, rng))
    checks.check_evolve(_evolve)

    def no_elitism(fitness, population, n_generations, rng):
        return _evolve(fitness, population, n_generations, rng, n_elite=0, rate=1.0, scale=3.0)

    with pytest.raises(CheckFailure, match="went down"):
        checks.check_evolve(no_elitism)

    def no_search(fitness, population, n_generations, rng):
        pop = np.array(population)
        best = max(fitness(p) for p in pop)
        return pop, np.full(n_generations + 1, best)

    with pytest.raises(CheckFailure, match="a working GA reaches"):
        checks.check_evolve(no_search)
