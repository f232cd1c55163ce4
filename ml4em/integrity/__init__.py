"""``ml4em integrity``: list the answer cells of submissions that tamper with grading.

::

    ml4em integrity ASSIGNMENT [--course-root DIR] [--student ID ...] [--json]

The grading sandbox prevents much, but one Python kernel runs both the student's answer cells and the test cells,
so what an answer cell does to that kernel cannot all be prevented: it is detected here, without running anything.
For each student, every ``submitted/<student>/<assignment>/*.ipynb`` is read and each finding names the cell, the
line, one category and why it matters:

========================  ==========================================================================================
``checks``                the check machinery: ``checks`` rebound or deleted, ``ml4em.checks`` imported or changed,
                          ``sealed``, ``CheckFailure``; a name that a later test cell passes to its check (``x_cv``,
                          ``np``) rebound or changed in place
``ipython``               the kernel: ``get_ipython``, input and AST transformers, custom exception handlers, event
                          callbacks, ``sys.excepthook``, magics other than ``%matplotlib``, ``%time``, ``%timeit``
                          and help (whose code is scanned), ``!shell`` lines, and cells that cannot be parsed
``modules``               imports: ``sys.modules``, ``importlib``, ``__import__``, import hooks, ``sys.path``, a
                          changed attribute of an imported module (``np.allclose = ...``)
``builtins``              ``exec``, ``eval``, ``compile``, ``builtins``, ``globals()`` writes, ``gc``, ``ctypes``,
                          tracing and frames (``sys._getframe``, ``f_back``, ``__globals__``)
``process``               subprocesses, threads, signals, ``os._exit``, ``sys.exit``, ``atexit``, sockets
``files``                 paths outside the notebook's folder (absolute, ``~``, ``..``, environment variables, not a
                          literal), deletions and moves, ``os.chdir``, ``os.environ``
``package-answers``       the package's own answer to an exercise, used before that exercise's test cells have run
                          (``ml4em.checks._own.package_answers`` lists them; without it every import of ``ml4em``)
``cells``                 test or locked cells edited, deleted, duplicated or changed in type or nbgrader metadata;
                          answer cells without their metadata; code cells added
``sandbox``               what the grading sandbox recorded in ``autograded/<student>/<assignment>/*.ipynb``
========================  ==========================================================================================

A finding is a reason to read the cell, not a verdict. The package's answers may be used once their exercise is
graded (the tutorials do so themselves), so they count only before.

Used by: instructors after ``nbgrader collect`` or ``ml4em autograde`` (docs/instructor.md).
"""

import json
import sys
from dataclasses import asdict, dataclass

from ..course import course_folder, read_notebook, submitted_students

__all__ = ["Finding", "integrity_report", "format_report", "add_parser", "main"]


@dataclass(frozen=True)
class Finding:
    """One thing in one submitted cell that touches grading.

    Attributes
    ----------
    student : str
    notebook : str
        Path of the notebook, relative to the course folder.
    grade_id : str or None
        nbgrader grade_id of the cell (None for cells without one).
    cell_index : int or None
        Index of the cell in the notebook (None for a deleted cell).
    line : int or None
        Line in the cell, from 1.
    category : str
        One of ``checks``, ``ipython``, ``modules``, ``builtins``, ``process``, ``files``, ``package-answers``,
        ``cells``, ``sandbox``.
    snippet : str
        The offending line of code ("" where there is none).
    explanation : str
        What it does and why that matters for grading.

    Examples
    --------
    >>> f = Finding("alice", "submitted/alice/01_regression/01_regression.ipynb", "ex2-least-squares", 8, 1,
    ...             "process", "os._exit(1)", "uses `os._exit`")
    >>> f.where
    'ex2-least-squares (cell 8)'
    """

    student: str
    notebook: str
    grade_id: object
    cell_index: object
    line: object
    category: str
    snippet: str
    explanation: str

    @property
    def where(self):
        """The cell, as a person reads it: grade_id and index ("notebook" for what concerns no one cell)."""
        if self.cell_index is None:
            return f"{self.grade_id} (no cell)" if self.grade_id else "notebook"
        return f"{self.grade_id} (cell {self.cell_index})" if self.grade_id else f"cell {self.cell_index}"


def _reference(root, assignment, name, cache):
    from ._cells import Reference

    if name not in cache:
        source, _ = read_notebook(root / "tutorials" / assignment / name)
        release_path = root / "release" / assignment / name
        release, _ = read_notebook(release_path) if release_path.is_file() else (None, None)
        cache[name] = (Reference.from_notebooks(source, release) if source is not None or release is not None
                       else None)
    return cache[name]


def _notebook_findings(student, rel, nb, ref, answers, assignment):
    from ._cells import compare_cells, exercise_tests, nbgrader_metadata, protected_names
    from ._scan import scan_cell
    from ._state import NotebookState

    findings = []
    if ref is None:
        kinds, written = ["added"] * len(nb.cells), {}
        findings.append(Finding(student, rel, None, None, None, "cells", "", "this notebook is not part of the "
                                "assignment; all its code is listed as the student's"))
        state = NotebookState(answers=answers, assignment=assignment)
    else:
        problems, kinds, written = compare_cells(nb, ref)
        findings += [Finding(student, rel, gid, i, line, "cells", code, why) for i, gid, line, code, why in problems]
        positions = {}
        for i, cell in enumerate(nb.cells):
            md = nbgrader_metadata(cell)
            if md and md.get("grade") and not md.get("solution"):
                positions.setdefault(md["grade_id"], i)
        state = NotebookState(protected=protected_names(ref.full), exercises=exercise_tests(ref.full),
                              positions=positions, answers=answers, assignment=assignment)
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        state.cell_index = i
        md = nbgrader_metadata(cell)
        for hit in scan_cell(cell.get("source", ""), state, report=kinds[i] in ("answer", "added", "edited")):
            if i in written and hit.line is not None and hit.line not in written[i]:
                continue  # the instructor's own line in a cell the student edited
            findings.append(Finding(student, rel, md["grade_id"] if md else None, i, hit.line, hit.category,
                                    hit.snippet, hit.explanation))
    return findings


def integrity_report(assignment, *, course_root=".", students=None):
    """Find what the submitted notebooks of one assignment do to grading, without running them.

    Parameters
    ----------
    assignment : str
        e.g. ``"01_regression"``: the folder ``tutorials/01_regression/`` or ``release/01_regression/``.
    course_root : path-like, default "."
        The nbgrader course folder (``nbgrader_config.py``, ``tutorials/``, ``submitted/``, ``autograded/``).
    students : list of str, optional
        Student IDs (folders of ``submitted/``); default: every student with a submission or an autograded notebook.

    Returns
    -------
    list of Finding
        Sorted by student, notebook, cell and line; empty when nothing was found.

    Raises
    ------
    ValueError
        When ``course_root`` is not a course folder, the assignment is not in it, or a student has no submission.

    Examples
    --------
    >>> integrity_report("01_regression", course_root="no-such-course")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: course_root='no-such-course' is not a folder; pass the nbgrader course folder (the one with ...
    """
    from ._cells import sandbox_records
    from ._state import PackageAnswers

    root = course_folder(course_root, assignment)
    answers = PackageAnswers.load()
    findings, cache = [], {}
    for student in submitted_students(root, assignment, students):
        for path in sorted((root / "submitted" / student / assignment).glob("*.ipynb")):
            rel = path.relative_to(root).as_posix()
            nb, error = read_notebook(path)
            if nb is None:
                findings.append(Finding(student, rel, None, None, None, "cells", "", error))
            else:
                findings += _notebook_findings(student, rel, nb, _reference(root, assignment, path.name, cache),
                                               answers, assignment)
        for path in sorted((root / "autograded" / student / assignment).glob("*.ipynb")):
            nb, _ = read_notebook(path)
            for gid, index, why in (sandbox_records(nb) if nb is not None else ()):
                findings.append(Finding(student, path.relative_to(root).as_posix(), gid, index, None, "sandbox", "",
                                        why))

    def order(f):
        return (f.student, f.notebook, -1 if f.cell_index is None else f.cell_index, f.line or 0, f.category)

    return sorted(findings, key=order)


def format_report(findings, *, students=None):
    """A readable table of findings, grouped by student and notebook.

    Parameters
    ----------
    findings : list of Finding
    students : list of str, optional
        Everyone checked; those without findings are listed as clean.

    Examples
    --------
    >>> f = Finding("alice", "submitted/alice/01/01.ipynb", "ex1", 5, 2, "process", "os._exit(1)",
    ...             "uses `os._exit`; this ends the kernel")
    >>> print(format_report([f], students=["alice", "bob"]))
    ml4em integrity: 1 finding(s) for 1 of 2 student(s)
    <BLANKLINE>
    alice: submitted/alice/01/01.ipynb
      cell          line  category  code
      ex1 (cell 5)     2  process   os._exit(1)
                                    uses `os._exit`; this ends the kernel
    <BLANKLINE>
    bob: no findings
    """
    findings = list(findings)
    everyone = sorted(set(students or ()) | {f.student for f in findings})
    flagged = sorted({f.student for f in findings})
    lines = [f"ml4em integrity: {len(findings)} finding(s) for {len(flagged)} of {len(everyone)} student(s)"]
    for student in everyone:
        mine = [f for f in findings if f.student == student]
        if not mine:
            lines += ["", f"{student}: no findings"]
            continue
        for notebook in dict.fromkeys(f.notebook for f in mine):
            rows = [(f.where, "" if f.line is None else str(f.line), f.category, f.snippet, f.explanation)
                    for f in mine if f.notebook == notebook]
            w = [max(len(r[k]) for r in [("cell", "line", "category", "code", "")] + rows) for k in range(3)]
            lines += ["", f"{student}: {notebook}",
                      f"  {'cell':<{w[0]}}  {'line':>{w[1]}}  {'category':<{w[2]}}  code"]
            for where, line, category, code, why in rows:
                lines.append(f"  {where:<{w[0]}}  {line:>{w[1]}}  {category:<{w[2]}}  {code}".rstrip())
                lines.append(" " * (w[0] + w[1] + w[2] + 8) + why)
    return "\n".join(lines)


def add_parser(subparsers):
    """Add the ``integrity`` subcommand to an argparse ``subparsers`` object (called by ``ml4em.cli``)."""
    p = subparsers.add_parser(
        "integrity", help="list answer cells that tamper with grading (instructors)",
        description="Read the submitted notebooks of one assignment, without running them, and list per student every "
        "answer cell that touches the checks, the IPython kernel, modules, builtins, processes, files outside the "
        "notebook's folder or the package's answers; test cells that were edited, deleted or duplicated; and what "
        "the grading sandbox recorded. Exit status 0 when the report was made, findings or not.")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. 01_regression")
    p.add_argument("--course-root", default=".", metavar="DIR", help="the nbgrader course folder (default: .)")
    p.add_argument("--student", dest="students", nargs="+", action="extend", default=None, metavar="ID",
                   help="only these students (default: all with a submission)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=main)
    return p


def main(args):
    """Handler of ``ml4em integrity``; returns the exit code (0 report made, 2 bad arguments)."""
    try:
        root = course_folder(args.course_root, args.assignment)
        students = submitted_students(root, args.assignment, args.students)
        findings = integrity_report(args.assignment, course_root=root, students=students)
    except ValueError as err:
        message = str(err).replace("course_root=", "--course-root ").replace("students=", "--student ")
        print(f"ml4em integrity: error: {message.replace('assignment=', 'ASSIGNMENT ')}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"assignment": args.assignment, "course_root": str(root), "students": students,
                          "findings": [asdict(f) for f in findings]}, indent=2))
    else:
        print(format_report(findings, students=students))
    return 0
