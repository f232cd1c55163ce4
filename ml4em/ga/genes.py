"""Genes, genomes, and the operators of a genetic algorithm: mutation, crossover, tournament selection.

A search space is a dict ``{gene name: Integer(...) | Real(...) | Categorical(...)}``; a genome is a dict
``{gene name: value}`` with one value from each gene's range.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Integer", "Real", "Categorical", "random_genome", "mutate", "crossover", "tournament_select"]


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


