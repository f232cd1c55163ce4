"""What ``ml4em similarity`` reads from the course folder: what the students were given, and their answers.

Given: every code cell of the instructor version ``tutorials/<a>/*.ipynb`` and of the release
``release/<a>/*.ipynb`` (stubs, solutions, test and demo cells), the written answers of both, nbgrader's default
stubs, and the source files of the ml4em modules those cells import (a package: all its files; ``from ml4em import
by_mode``: only ``ml4em/__init__.py``). Answers: the cells with nbgrader metadata ``solution: true`` of
``submitted/<student>/<a>/*.ipynb`` (of ``autograded/`` when nothing is in ``submitted/``).

An exercise is named by its grade_id, or ``<notebook>/<grade_id>`` when the assignment has several notebooks.

Used in: :mod:`ml4em.similarity`.
"""

import functools
from dataclasses import dataclass
from pathlib import Path

from ..course import read_notebook
from ..integrity._cells import nbgrader_metadata

__all__ = ["Given", "given", "submitted", "package_files", "file_tokens"]


@dataclass
class Given:
    """What the students of one assignment were given.

    Attributes
    ----------
    exercises : dict of str to str
        Exercise to the type of its answer cell (``"code"`` or ``"markdown"``), in notebook order.
    notebooks : list of str
        File names of the assignment's notebooks.
    code, text : list of str
        Sources of the given code cells and written answers.
    aliases : dict of str to str
        Import aliases of the given code (``{"np": "numpy"}``).
    files : list of Path
        Source files of the ml4em modules the given code imports.
    """

    exercises: dict
    notebooks: list
    code: list
    text: list
    aliases: dict
    files: list

    def key(self, notebook, grade_id):
        """The name of an exercise: its grade_id, prefixed by the notebook's name when there are several."""
        return grade_id if len(self.notebooks) <= 1 else f"{Path(notebook).stem}/{grade_id}"


def _answer_id(cell):
    md = nbgrader_metadata(cell)
    return md["grade_id"] if md and md.get("solution") else None


def package_files(paths):
    """The source files of the ml4em modules among dotted import paths (a package: all its files).

    Examples
    --------
    >>> [p.name for p in package_files(["numpy", "ml4em.regression.fit_ridge"])]
    ['regression.py']
    """
    import ml4em

    base, files = Path(ml4em.__file__).parent, set()
    for name in paths:
        parts = name.split(".")
        if parts[0] != "ml4em":
            continue
        for n in range(len(parts), 0, -1):  # the longest prefix that is a module or a package
            path = base.joinpath(*parts[1:n])
            if n > 1 and path.with_suffix(".py").is_file():
                files.add(path.with_suffix(".py"))
                break
            if (path / "__init__.py").is_file():
                files.update(path.rglob("*.py") if n > 1 else [path / "__init__.py"])
                break
    return sorted(files)


@functools.lru_cache(maxsize=256)
def _tokens_of(path, mtime_ns):
    from ._tokens import code_tokens

    return tuple(code_tokens(Path(path).read_text(encoding="utf-8", errors="replace")))


def file_tokens(path):
    """The normalised tokens of a Python file (kept in memory until the file changes)."""
    return list(_tokens_of(str(path), Path(path).stat().st_mtime_ns))


def given(root, assignment):
    """The :class:`Given` of ``assignment`` in the course folder ``root``."""
    from nbgrader.preprocessors import ClearSolutions

    from ._tokens import imports

    names = sorted({p.name for d in ("tutorials", "release") for p in (root / d / assignment).glob("*.ipynb")})
    stubs = ClearSolutions()
    result = Given({}, names, list(stubs.code_stub.values()), [stubs.text_stub], {}, [])
    for name in names:
        for folder in ("tutorials", "release"):
            path = root / folder / assignment / name
            nb = read_notebook(path)[0] if path.is_file() else None
            for cell in (nb.cells if nb is not None else ()):
                grade_id = _answer_id(cell)
                if grade_id:
                    result.exercises.setdefault(result.key(name, grade_id), cell.cell_type)
                if cell.cell_type == "code":
                    result.code.append(cell.source)
                elif grade_id:
                    result.text.append(cell.source)
    result.aliases, paths = imports(result.code)
    result.files = package_files(paths)
    return result


def submitted(root, assignment, student, given, problems):
    """``{exercise: (cell type, source)}`` of one student; unreadable notebooks are added to ``problems``."""
    folder = root / "submitted" / student / assignment
    if not any(folder.glob("*.ipynb")):
        folder = root / "autograded" / student / assignment
    cells = {}
    for path in sorted(folder.glob("*.ipynb")):
        nb, error = read_notebook(path)
        if nb is None:
            problems.append(f"{path.relative_to(root).as_posix()}: {error}")
            continue
        for cell in nb.cells:
            grade_id = _answer_id(cell)
            if grade_id:
                key = given.key(path.name, grade_id)
                kind, source = cells.get(key, (cell.cell_type, None))  # a duplicated answer cell: both, in order
                cells[key] = (kind, cell.source if source is None else f"{source}\n\n{cell.source}")
    return cells
