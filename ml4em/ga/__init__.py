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

Submodules:

- :mod:`ml4em.ga.genes`     genes, random genomes and the genetic operators (mutation, crossover, tournament)
- :mod:`ml4em.ga.search`    :class:`GeneticAlgorithm`, :func:`random_search`, their result and its figure
- :mod:`ml4em.ga.vector`    the same operators and :func:`evolve` on real vectors (a population as one array)
- :mod:`ml4em.ga.rastrigin` the multimodal Rastrigin test function
- :mod:`ml4em.ga.patchnet`  :class:`PatchNetFitness`, the network-design problem of the tutorial: the
  validation accuracy of a small CNN that tells defect columns from intact ones in simulated STEM patches, as a
  function of its architecture and training settings, in the spirit of MENNDL (Patton et al., SC'18,
  doi:10.1109/SC.2018.00053)

Used in: tutorials/06_genetic_algorithms.
"""

from .genes import Categorical, Integer, Real, crossover, mutate, random_genome, tournament_select
from .patchnet import PatchNetFitness, make_patch_data, patch_net_space
from .rastrigin import (
    plot_rastrigin_population,
    rastrigin,
    rastrigin_fitness,
    rastrigin_gradient,
    rastrigin_population,
    rastrigin_space,
)
from .search import GeneticAlgorithm, SearchResult, plot_search, random_search, suggested_n_jobs
from .vector import evolve, mutate_genes, uniform_crossover

__all__ = ["Integer", "Real", "Categorical", "random_genome", "mutate", "crossover", "tournament_select",
           "SearchResult", "GeneticAlgorithm", "random_search", "suggested_n_jobs", "rastrigin", "rastrigin_gradient",
           "rastrigin_space", "rastrigin_fitness", "make_patch_data", "patch_net_space", "PatchNetFitness",
           "plot_search", "plot_rastrigin_population", "uniform_crossover", "mutate_genes", "evolve",
           "rastrigin_population"]
