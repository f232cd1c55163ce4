"""``ml4em grade-check --mutants``: how many wrong answers do the tests of a tutorial catch?

Each autograded answer cell of an instructor notebook is mutated (:func:`make_mutants`: one small change in
its solution region, such as ``<`` for ``<=``, ``np.mean`` for ``np.sum``, ``axis=1`` for ``axis=0``, a dropped
term or keyword, a constant return) and every mutant is run against the exercise's test cell, visible and
hidden tests, in one kernel per notebook (:func:`mutation_report`). A mutant the test cell fails on is killed;
a survivor that gives the same outputs as the answer on every call the checks made is equivalent (it is not a
wrong answer); the others are wrong answers the tests let through, listed by description.

Mutating one answer does not leak into the others: the original answer cell runs again after its mutants and
its test must pass again (see :mod:`ml4em.mutants._runner`).

Used by: instructors writing checks (``ml4em grade-check --mutants 01_regression``).

Examples
--------
>>> cell = "def f(x):\\n    ### BEGIN SOLUTION\\n    return x.sum(axis=0)\\n    ### END SOLUTION\\n"
>>> [m.operator for m in make_mutants(cell)]
['return', 'return', 'return', 'reduce', 'axis', 'drop-keyword', 'constant']
"""

from ._operators import Mutant, make_mutants, solution_lines
from ._report import ExerciseResult, MutationReport, format_report, main, mutation_report

__all__ = ["Mutant", "make_mutants", "solution_lines", "ExerciseResult", "MutationReport", "mutation_report",
           "format_report", "main"]
