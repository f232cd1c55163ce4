"""What the scan of a notebook's code cells knows: parsing, the package's answers, the state kept from cell to cell.

Used in: :mod:`ml4em.integrity._scan` and :mod:`ml4em.integrity._cells`.
"""

import ast
import functools
import re
import warnings
from dataclasses import dataclass, field

__all__ = ["Hit", "NotebookState", "PackageAnswers", "bound_names", "in_package", "parse_cell"]


def in_package(qualname):
    """True for ``ml4em`` and what is in it, except the check machinery (and this tool).

    Examples
    --------
    >>> in_package("ml4em.regression.mse"), in_package("ml4em.checks.regression"), in_package("ml4emx")
    (True, False, False)
    """
    if qualname != "ml4em" and not qualname.startswith("ml4em."):
        return False
    return not any(qualname == m or qualname.startswith(m + ".") for m in ("ml4em.checks", "ml4em.integrity"))


@dataclass
class Hit:
    """One thing found in one cell: line (1-based, in the cell), category, the code line and why it matters."""

    line: object
    category: str
    snippet: str
    explanation: str


class PackageAnswers:
    """The package's own answers to the exercises, from ``ml4em.checks._own.package_answers()``.

    Parameters
    ----------
    mapping : dict of str to str, or None
        Qualified name (``"ml4em.regression.fit_least_squares"``) to the exercise it answers. None when the
        package does not list its answers: then every import of ``ml4em`` (other than ``ml4em.checks``) counts.

    Examples
    --------
    >>> answers = PackageAnswers({"ml4em.eels.bandgap.fit_band_gap": "ex4-fit"})
    >>> answers.find("ml4em.eels.fit_band_gap")
    ('ml4em.eels.bandgap.fit_band_gap', 'ex4-fit')
    >>> answers.find("ml4em.eels.band") is None
    True
    """

    def __init__(self, mapping=None):
        self.fallback = mapping is None
        self.by_name = {}
        for key, exercise in (mapping or {}).items():
            module, _, name = str(key).rpartition(".")
            self.by_name.setdefault(name, []).append((module, str(key), str(exercise)))

    @classmethod
    def load(cls):
        """Ask :mod:`ml4em.checks._own` (imported only now); fall back to None when it is missing."""
        try:
            from ..checks._own import package_answers
        except ImportError:
            return cls(None)
        try:
            return cls(dict(package_answers()))
        except Exception as err:  # a broken list must not stop the report; say so and use the fallback
            warnings.warn(f"ml4em.checks._own.package_answers() failed ({err!r}); every import of ml4em is listed "
                          "instead of the package's answers. Fix package_answers to get the precise list.",
                          stacklevel=2)
            return cls(None)

    def find(self, qualname):
        """``(key, exercise)`` when ``qualname`` names one of the answers (re-exported names count), else None."""
        if "(" in qualname:
            return None
        head, _, name = qualname.rpartition(".")
        for module, key, exercise in self.by_name.get(name, ()):
            if module == head or module.startswith(head + ".") or head.startswith(module + "."):
                return key, exercise
        return None

    def under(self, module):
        """The ``(key, exercise)`` pairs of the answers that live in ``module`` or below it."""
        return [(key, ex) for entries in self.by_name.values() for mod, key, ex in entries
                if mod == module or mod.startswith(module + ".")]


@dataclass
class NotebookState:
    """What the scan of one notebook carries from cell to cell.

    Attributes
    ----------
    aliases : dict of str to str or None
        Module-level names and what they refer to (``"np": "numpy"``); None for the notebook's own values.
    protected : dict of str to list of str
        Names that test cells read (their inputs), to the grade_ids of those test cells.
    exercises : dict of str to list of str
        An exercise (its grade_id or a name its answer cell defines) to the grade_ids of its test cells.
    positions : dict of str to int
        grade_id of each test cell to its index in this notebook.
    answers : PackageAnswers
    assignment : str
        The notebook's assignment (``"01_regression"``), to tell its exercises from other tutorials'.
    cell_index : int
        The cell being read.
    """

    aliases: dict = field(default_factory=dict)
    protected: dict = field(default_factory=dict)
    exercises: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)
    answers: PackageAnswers = field(default_factory=PackageAnswers)
    assignment: str = ""
    cell_index: int = 0

    def pending(self, test_ids):
        """True when one of these test cells runs after the current cell (or is missing)."""
        return any(self.positions.get(t) is None or self.positions[t] > self.cell_index for t in test_ids)

    def graded(self, exercise):
        """True when the test cells of every exercise that ``exercise`` names have run before the current cell.

        ``exercise`` is how :func:`ml4em.checks._own.package_answers` names it: ``"01_regression: fit_ridge"``,
        several joined by ``"; "``, names by ``", "``; a bare grade_id or name works too. Exercises of other
        tutorials do not count.
        """
        names = []
        for entry in exercise.split(";"):
            tutorial, sep, rest = entry.partition(":")
            if sep and re.fullmatch(r"\d\d_\w+", tutorial.strip()):
                if tutorial.strip() != self.assignment:
                    continue
                entry = rest
            names += [name.strip() for name in entry.split(",") if name.strip()]
        return all(self.exercises.get(name) and not self.pending(self.exercises[name]) for name in names)


@functools.lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def parse_cell(source):
    """``(tree, None)`` for a cell that parses after IPython's transformer, ``(None, (line, message))`` otherwise.

    Examples
    --------
    >>> tree, error = parse_cell("%matplotlib inline\\nx = 1")
    >>> error is None
    True
    >>> parse_cell("def f(:")[1][1]
    'invalid syntax'
    """
    try:
        code = _transformer().transform_cell(source)
    except Exception as err:  # the transformer gives up on some broken input
        return None, (1, f"IPython cannot read it: {err}")
    try:
        return ast.parse(code), None
    except SyntaxError as err:
        return None, (err.lineno, err.msg)


def bound_names(tree, *, module_level=False):
    """Names that the code binds (assignments, imports, definitions, loop and ``with`` targets).

    ``module_level=True`` leaves out what functions and classes bind inside their bodies.

    Examples
    --------
    >>> sorted(bound_names(ast.parse("import numpy as np\\ndef f(a):\\n    b = a\\nx, y = 1, 2")))
    ['b', 'f', 'np', 'x', 'y']
    >>> sorted(bound_names(ast.parse("def f(a):\\n    b = a"), module_level=True))
    ['f']
    """
    names, todo = set(), [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name.split(".")[0]) for a in node.names if a.name != "*")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if module_level:
                continue
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif module_level and isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                                                ast.GeneratorExp)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return names
