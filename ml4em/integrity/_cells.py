"""The structure of a submitted notebook against the assignment, and the grading sandbox's records.

The assignment is the instructor source ``tutorials/<a>/<nb>.ipynb`` (solutions and hidden tests) and, when
present, the release ``release/<a>/<nb>.ipynb`` that the students received. A test cell counts as unchanged when
its source equals the source version with the hidden tests removed (as nbgrader removes them) or the release
version, ignoring trailing spaces.

Used in: :mod:`ml4em.integrity`.
"""

import ast
import difflib
import functools
import re
from dataclasses import dataclass, field

from ._state import bound_names, parse_cell

__all__ = ["Reference", "compare_cells", "exercise_tests", "nbgrader_metadata", "new_lines", "normalise",
           "protected_names", "sandbox_records", "strip_hidden_tests"]


@functools.lru_cache(maxsize=1)
def _clear_hidden_tests():
    from nbgrader.preprocessors import ClearHiddenTests

    return ClearHiddenTests(enforce_metadata=False)


def strip_hidden_tests(source):
    """``source`` with every hidden-test region removed, markers included: nbgrader's own ``ClearHiddenTests``.

    A cell whose markers nbgrader refuses (nested or unterminated) is returned unchanged.

    Examples
    --------
    >>> strip_hidden_tests("check(f)\\n### BEGIN HIDDEN TESTS\\ncheck(f, seed=1)\\n### END HIDDEN TESTS")
    'check(f)'
    """
    from nbformat.v4 import new_code_cell

    try:
        cell, _ = _clear_hidden_tests().preprocess_cell(new_code_cell(source), {}, 0)
    except RuntimeError:
        return source
    return cell.source


def normalise(source):
    """The source without trailing spaces and surrounding blank lines, for comparisons.

    Examples
    --------
    >>> normalise("x = 1   \\n\\n")
    'x = 1'
    """
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def nbgrader_metadata(cell):
    """The cell's nbgrader metadata when it has a grade_id, else None."""
    md = cell.get("metadata", {}).get("nbgrader")
    return md if isinstance(md, dict) and md.get("grade_id") else None


def _role(md):
    if md is None:
        return None
    if md.get("solution"):
        return "answer"
    return "locked" if md.get("grade") or md.get("locked") else None


def _essentials(md):
    """The nbgrader fields that decide how a cell is graded (checksums and versions left out)."""
    grade, solution = bool(md.get("grade")), bool(md.get("solution"))
    points = md.get("points")
    try:
        points = float(points) if grade else None
    except (TypeError, ValueError):
        points = str(points)
    return (("grade", grade), ("solution", solution), ("locked", not solution and (grade or bool(md.get("locked")))),
            ("points", points), ("task", bool(md.get("task"))))


@dataclass
class _Expected:
    """What a cell with one grade_id should be: its kind, cell types, nbgrader metadata and (locked) sources."""

    kind: str
    grade: bool = False
    optional: bool = False
    cell_types: set = field(default_factory=set)
    metadata: list = field(default_factory=list)
    sources: set = field(default_factory=set)
    ids: set = field(default_factory=set)
    text: str = ""

    @property
    def label(self):
        return "answer cell" if self.kind == "answer" else "test cell" if self.grade else "locked cell"

    def add(self, cell, md, texts=()):
        self.cell_types.add(cell.cell_type)
        self.metadata.append(_essentials(md))
        self.ids.add(cell.get("id"))
        self.sources.update(normalise(t) for t in texts)
        self.text = self.text or (normalise(texts[0]) if texts else "")


# The metadata that the course's release step gives every instructor cell (ml4em.preprocessors.LockInstructorCells).
_READ_ONLY = {"grade": False, "solution": False, "locked": True, "task": False}
_DIGEST = re.compile(r"""(\bsealed\(\s*(["'])\w+\2)\s*,\s*digest\s*=\s*(["'])[0-9a-fA-F]*\3"""
                     r"""(?:\s*,\s*points\s*=\s*[0-9.eE+-]+)?\s*\)""")


def _unsealed(text):
    """``sealed("topic", digest="...", points=P)`` back to ``sealed("topic")``, as in the instructor source."""
    return _DIGEST.sub(r"\1)", text)


@dataclass
class Reference:
    """What the students received, from the instructor source and the release of one notebook.

    Without a release, the release is inferred from the source as the course's ``generate_assignment`` makes it:
    hidden tests removed, instructor cells read-only (``ml4em-cell-N``), checks digests in ``sealed(...)`` calls
    (which are then ignored in comparisons).

    Attributes
    ----------
    full : NotebookNode
        The instructor source (with hidden tests and solutions), or the release when the source is missing.
    graded : dict of str to _Expected
        grade_id to what that cell should be.
    ids : dict of str to str or None
        Cell id to its grade_id (None for cells without nbgrader metadata).
    plain : set of str
        Normalised sources of the cells without nbgrader metadata.
    texts : dict of str to str
        Cell id to the source of a cell without nbgrader metadata.
    loose : bool
        True without a release: digests in ``sealed(...)`` calls are not compared.
    """

    full: object
    graded: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    plain: set = field(default_factory=set)
    texts: dict = field(default_factory=dict)
    loose: bool = False

    @classmethod
    def from_notebooks(cls, source=None, release=None):
        """Build from the instructor ``source`` and the ``release`` (either may be None, not both)."""
        ref = cls(full=source if source is not None else release, loose=release is None)
        for nb in (source, release):
            for index, cell in enumerate(nb.cells if nb is not None else ()):
                md = nbgrader_metadata(cell)
                ref.ids.setdefault(cell.get("id"), md["grade_id"] if md else None)
                if _role(md) is None:
                    ref.plain.add(normalise(cell.source))
                    ref.texts.setdefault(cell.get("id"), cell.source)
                    if release is None:
                        entry = ref.graded.setdefault(f"ml4em-cell-{index}", _Expected("locked", optional=True))
                        entry.add(cell, _READ_ONLY, [cell.source])
                    continue
                entry = ref.graded.setdefault(md["grade_id"], _Expected(_role(md), grade=bool(md.get("grade"))))
                texts = [strip_hidden_tests(cell.source), cell.source] if entry.kind == "locked" else []
                entry.add(cell, md, texts)  # what students received, and the instructor's own text
        return ref

    def unchanged(self, entry, source):
        """True when the normalised ``source`` is one of the versions of the locked cell ``entry``."""
        return source in entry.sources or (self.loose and _unsealed(source) in entry.sources)


def _first_difference(got, expected):
    """(line number in ``got``, its text, what changed) at the first line that differs."""
    a, b = got.splitlines(), expected.splitlines()
    i = next((i for i in range(max(len(a), len(b))) if i >= len(a) or i >= len(b) or a[i] != b[i]), 0)
    if i >= len(a):
        return (len(a) or None), (a[-1] if a else ""), f"a line was removed after line {len(a)}: {b[i][:80]!r}"
    if i >= len(b):
        return i + 1, a[i], f"line {i + 1} was added"
    return i + 1, a[i], f"line {i + 1} differs; the assignment has {b[i].strip()[:80]!r}"


def new_lines(source, original):
    """Line numbers (from 1) of ``source`` that are not in ``original``: what a student wrote into a cell.

    Examples
    --------
    >>> sorted(new_lines("import numpy as np\\nimport os\\nx = 1", "import numpy as np\\nx = 1"))
    [2]
    """
    a = [line.rstrip() for line in source.splitlines()]
    b = [line.rstrip() for line in original.splitlines()]
    lines = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            lines.update(range(i1 + 1, i2 + 1))
    return lines


def _metadata_change(md, expected):
    got, want = dict(_essentials(md)), dict(expected[0])
    return ", ".join(f"{k} {want[k]!r} -> {got[k]!r}" for k in want if got[k] != want[k])


def _edited(i, gid, entry, source, extra=""):
    line, text, change = _first_difference(source, entry.text)
    return (i, gid, line, text.strip()[:160], f"the {entry.label} {gid} was edited{extra} ({change})")


def compare_cells(nb, ref):
    """Compare a submitted notebook with the assignment.

    Returns
    -------
    problems : list of tuple
        ``(cell_index or None, grade_id or None, line or None, code, explanation)`` per problem.
    kinds : list of str
        Per cell: ``"answer"``, ``"added"``, ``"edited"`` (the student's code, to scan), ``"locked"`` or ``"same"``.
    written : dict of int to set of int
        For edited cells without nbgrader metadata, the lines the student wrote (see :func:`new_lines`).
    """
    problems, kinds, seen, written, stripped = [], [], {}, {}, {}
    for i, cell in enumerate(nb.cells):
        md = nbgrader_metadata(cell)
        raw = cell.get("source", "")
        source = normalise(raw)
        if md is None:
            known = ref.ids.get(cell.get("id"), "") if cell.get("id") else ""
            entry = ref.graded.get(known) if known else None
            if entry is not None:  # an nbgrader cell whose metadata was removed
                stripped.setdefault(known, i)
                same = entry.kind == "locked" and ref.unchanged(entry, source)
                kinds.append("answer" if entry.kind == "answer" else "locked" if same else "edited")
                if kinds[-1] == "edited":
                    written[i] = new_lines(raw, entry.text)
                    if not entry.grade:
                        problems.append(_edited(i, known, entry, source, " and its nbgrader metadata removed"))
            elif source in ref.plain:
                kinds.append("same")
            elif known is None:
                kinds.append("edited")
                written[i] = new_lines(raw, ref.texts.get(cell.get("id"), ""))
            else:
                kinds.append("added")
                if cell.cell_type == "code" and source:
                    problems.append((i, None, 1, source.splitlines()[0][:160], "a code cell that is not in the "
                                     "assignment was added; it runs before the test cells that follow it"))
            continue
        gid = md["grade_id"]
        entry = ref.graded.get(gid)
        if gid in seen:
            problems.append((i, gid, None, "", f"grade_id {gid} appears twice (cells {seen[gid]} and {i}): the cell "
                             "was duplicated"))
        seen.setdefault(gid, i)
        if entry is None:
            kinds.append("added")
            problems.append((i, gid, None, "", f"carries nbgrader metadata (grade_id {gid}) that the assignment "
                             "does not have"))
            continue
        kinds.append("answer" if _role(md) == "answer" else "locked")
        if cell.cell_type not in entry.cell_types:
            problems.append((i, gid, None, "", f"the {entry.label} {gid} is now a {cell.cell_type} cell; the "
                             f"assignment has a {sorted(entry.cell_types)[0]} cell"))
        if _essentials(md) not in entry.metadata:
            problems.append((i, gid, None, "", f"the nbgrader metadata of the {entry.label} {gid} was changed "
                             f"({_metadata_change(md, entry.metadata)})"))
        if entry.kind == "locked" and not ref.unchanged(entry, source):
            problems.append(_edited(i, gid, entry, source))
    for gid, entry in ref.graded.items():
        if gid in seen or entry.optional:
            continue
        where = stripped.get(gid, next((i for i, c in enumerate(nb.cells) if nbgrader_metadata(c) is None
                                        and ref.unchanged(entry, normalise(c.get("source", "")))), None))
        if where is None:
            problems.append((None, gid, None, "", f"the {entry.label} {gid} was deleted"))
        elif entry.kind == "answer" or entry.grade:
            problems.append((where, gid, None, "", f"the nbgrader metadata of the {entry.label} {gid} was removed, "
                             "so nbgrader no longer grades or restores it"))
    return problems, kinds, written


def _code_cells(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree, _ = parse_cell(cell.source)
            if tree is not None:
                yield cell, nbgrader_metadata(cell), tree


def exercise_tests(nb):
    """An exercise (its grade_id, or a name its answer cell defines) to the grade_ids of the test cells after it.

    Examples
    --------
    >>> import nbformat.v4 as v4
    >>> nb = v4.new_notebook(cells=[
    ...     v4.new_code_cell("def f(x):\\n    return x", metadata={"nbgrader": {"grade_id": "ex1", "solution": True}}),
    ...     v4.new_code_cell("check(f)", metadata={"nbgrader": {"grade_id": "ex1-tests", "grade": True}})])
    >>> exercise_tests(nb)
    {'ex1': ['ex1-tests'], 'f': ['ex1-tests'], 'ex1-tests': ['ex1-tests']}
    """
    out, current = {}, []
    for cell, md, tree in _code_cells(nb):
        role = _role(md)
        if role == "answer":
            current = [md["grade_id"], *sorted(bound_names(tree, module_level=True))]
            for key in current:
                out.setdefault(key, [])
        elif role == "locked" and md.get("grade"):
            for key in current:
                out[key].append(md["grade_id"])
            out.setdefault(md["grade_id"], []).append(md["grade_id"])
    return out


def protected_names(nb):
    """Names that test cells read without binding them and that no answer cell binds: the checks' inputs.

    Returns a dict of name to the grade_ids of the test cells that read it.

    Examples
    --------
    >>> import nbformat.v4 as v4
    >>> nb = v4.new_notebook(cells=[v4.new_code_cell("x_cv = [1, 2]"),
    ...     v4.new_code_cell("best = 1", metadata={"nbgrader": {"grade_id": "ex5", "solution": True}}),
    ...     v4.new_code_cell("check(best, x_cv)", metadata={"nbgrader": {"grade_id": "ex5-tests", "grade": True}})])
    >>> protected_names(nb)
    {'check': ['ex5-tests'], 'x_cv': ['ex5-tests']}
    """
    answered, reads = set(), {}
    for cell, md, tree in _code_cells(nb):
        role = _role(md)
        if role == "answer":
            answered |= bound_names(tree, module_level=True)
        elif role == "locked" and md.get("grade"):
            own = bound_names(tree)
            for name in sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                                and isinstance(n.ctx, ast.Load)} - own):
                reads.setdefault(name, []).append(md["grade_id"])
    return {name: ids for name, ids in reads.items() if name not in answered}


def sandbox_records(nb):
    """``(grade_id, cell_index, explanation)`` for each record of the grading sandbox in the notebook's metadata.

    ``metadata["ml4em"]["sandbox"]`` holds lists of cells (``blanked``, ``truncated``, ``gave_up``, ...), each a dict
    with ``grade_id``, ``cell_index`` and ``reason``, and counts (``killed``: processes left behind; ``sandboxed``:
    False when the notebook ran without a sandbox). Missing or odd entries are skipped.

    Examples
    --------
    >>> import nbformat.v4 as v4
    >>> nb = v4.new_notebook(metadata={"ml4em": {"sandbox": {"sandboxed": True, "killed": 0, "truncated": [
    ...     {"grade_id": "ex3-mse", "cell_index": 11, "bytes": 104857600}]}}})
    >>> sandbox_records(nb)
    [('ex3-mse', 11, 'the grading sandbox truncated the output of this cell (104857600 bytes)')]
    """
    ml4em = nb.get("metadata", {}).get("ml4em")
    sandbox = ml4em.get("sandbox") if isinstance(ml4em, dict) else None
    if not isinstance(sandbox, dict):
        return []
    records = []
    if sandbox.get("sandboxed") is False:
        records.append((None, None, "the notebook was graded without the sandbox, so nothing was contained or "
                        "recorded"))
    killed = sandbox.get("killed")
    if isinstance(killed, int) and not isinstance(killed, bool) and killed > 0:
        records.append((None, None, f"the grading sandbox killed {killed} process(es) that the notebook left "
                        "running"))
    what = {"blanked": "blanked this answer and graded the notebook again",
            "truncated": "truncated the output of this cell", "killed": "killed the kernel in this cell",
            "gave_up": "gave up grading at this cell", "limits": "stopped this cell at a resource limit"}
    for kind, entries in sandbox.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):  # e.g. the user ids of the jails ("uids"): not about a cell
                continue
            text = f"the grading sandbox {what.get(kind, f'recorded {kind!r} for this cell')}"
            if entry.get("bytes") is not None:
                text += f" ({entry['bytes']} bytes)"
            if entry.get("reason"):
                text += f": {entry['reason']}"
            index = entry.get("cell_index")
            records.append((entry.get("grade_id"), index if isinstance(index, int) else None, text))
    return records
