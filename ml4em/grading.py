"""``ml4em grade-check``: prove that each tutorial grades correctly before it is released.

For every assignment, in a temporary course folder, with nbgrader's Python API:

1. generate the student version;
2. autograde the instructor version as a submission: it must score full marks
   on every autograded cell and no cell may raise an error;
3. autograde the untouched student version: every autograded cell must score 0
   (a test that passes without the student's code is a defect);
4. check that the blank student version runs to the end on the package's fallbacks (only answer and test cells
   may fail), and read which version of each function :func:`ml4em.checks.own_or_package` chose in both runs
   and how often it was called since (the student's in the instructor version, ml4em's in the blank one);
5. scan every file of the student version for solution text and hidden-test
   text (lines that appear only inside ``BEGIN SOLUTION``/``END SOLUTION`` or
   ``BEGIN HIDDEN TESTS``/``END HIDDEN TESTS`` in the instructor version), with
   the course's one leak scan, :func:`ml4em.leaks.scan_for_leaks`.

(``nbgrader validate`` on the command line exits 0 even when tests fail, so
the scores are read from the gradebook instead.)

Used by: instructors before a release, and tests/test_tutorials.py for every tutorial.
"""

import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ._config import restored_environ, scripts_on_path
from .leaks import scan_for_leaks, tutorial_secrets

__all__ = ["GradeCheckResult", "find_assignments", "grade_check", "format_table"]

@dataclass
class GradeCheckResult:
    """The outcome of grade-checking one assignment.

    Attributes
    ----------
    assignment : str
    max_points : float
        Points of the autograded cells.
    manual_points : float
        Points of the manually graded cells (not checked automatically).
    n_autograded, n_manual : int
        Number of autograded test cells and manually graded answers.
    solution_score, blank_score : float
        Autograded points of the instructor version and of the blank student version.
    blank_nonzero : list of str
        grade_ids of autograded cells that the blank version passes (must be empty).
    solution_failed : list of str
        grade_ids that the instructor version does not pass in full (must be empty).
    errors : list of str
        Cells of the instructor version that raised (must be empty).
    leaks : list of str
        Secret lines found in the student version (must be empty).
    blank_errors : list of str
        Cells of the blank student version, other than answer and test cells, that raised (must be empty: the
        tutorial runs to the end on ml4em's fallbacks).
    uses : dict of str to list of dict
        For "solution" and "blank": :func:`ml4em.checks._use.usage` at the end of the run.
    problems : list of str
        Anything else that went wrong (nbgrader failures).
    """

    assignment: str
    max_points: float = 0.0
    manual_points: float = 0.0
    n_autograded: int = 0
    n_manual: int = 0
    solution_score: float = 0.0
    blank_score: float = 0.0
    blank_nonzero: list = field(default_factory=list)
    solution_failed: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    leaks: list = field(default_factory=list)
    blank_errors: list = field(default_factory=list)
    uses: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        """True when every check passed."""
        return (not self.problems and not self.errors and not self.leaks and not self.blank_nonzero
                and not self.blank_errors and not self.solution_failed and self.n_autograded > 0
                and self.solution_score == self.max_points and self.blank_score == 0)

def find_assignments(course_root="."):
    """Names of the assignments: folders ``tutorials/NN_name`` holding ``NN_name.ipynb``, sorted."""
    source = Path(course_root) / "tutorials"
    if not source.is_dir():
        raise FileNotFoundError(f"no tutorials/ folder in course_root={str(course_root)!r}; run from the "
                                "course root or pass --course-root.")
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())

def _config(tmp, course_root, timeout):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    cfg_file = Path(course_root) / "nbgrader_config.py"
    config = PyFileConfigLoader(cfg_file.name, path=str(cfg_file.parent)).load_config() if cfg_file.is_file() \
        else Config()
    extra = Config()
    extra.CourseDirectory.root = str(tmp)
    extra.CourseDirectory.db_url = f"sqlite:///{tmp}/gradebook.db"
    extra.Exchange.root = str(Path(tmp) / "exchange")
    if timeout is not None:
        extra.Execute.timeout = int(timeout)
    # The instructor's own notebooks: in the grading sandbox where it can be made (as in a real round), else plainly.
    extra.SandboxedExecute.sandbox = "auto"
    config.merge(extra)
    return config

_USE_MARK = "ml4em-grade-check-uses:"
_USE_CELL = ("import json as _ml4em_json\nfrom ml4em.checks._use import usage as _ml4em_usage\n"
             f"print({_USE_MARK!r}, _ml4em_json.dumps(_ml4em_usage()))")


def _add_use_cell(folder):
    """Append to each notebook of a submission a cell that prints what own_or_package chose (see ``uses``)."""
    import nbformat

    for path in Path(folder).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(_USE_CELL))
        nbformat.write(nb, path)


def _read_uses(folder):
    import json

    import nbformat

    found = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            # a long line may come in several stream outputs: join the cell's stdout before reading it
            text = "".join(out.get("text") or "" for out in cell.get("outputs", [])
                           if out.get("output_type") == "stream" and out.get("name") == "stdout")
            for line in text.splitlines():
                if line.startswith(_USE_MARK):
                    try:
                        found += json.loads(line[len(_USE_MARK):])
                    except ValueError:
                        found.append({"name": "?", "own": None, "calls": 0,
                                      "reason": f"unreadable record of own_or_package: {line[:80]!r}"})
    return found


def _error_cells(notebook_path, *, skip_answers=False):
    import nbformat

    nb = nbformat.read(notebook_path, as_version=4)
    bad = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if skip_answers and (meta.get("solution") or meta.get("grade")):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", f"cell {i}")
                bad.append(f"{gid}: {out.get('ename')}: {str(out.get('evalue'))[:120]}")
                break
    return bad

def _check_one(api, gradebook_cls, db_url, tmp, course_root, name, result):
    source = Path(api.coursedir.root) / api.coursedir.source_directory / name
    shutil.copytree(Path(course_root) / "tutorials" / name, source,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    out = api.generate_assignment(name, force=True)
    if not out["success"]:
        result.problems.append(f"generate_assignment failed: {out.get('log')}\n{out.get('error')}")
        return
    release = Path(api.coursedir.root) / api.coursedir.release_directory / name
    result.leaks = scan_for_leaks(release, tutorial_secrets(course_root, [name]))
    for student, folder in (("solution", source), ("blank", release)):
        shutil.copytree(folder, Path(tmp) / "submitted" / student / name)
        _add_use_cell(Path(tmp) / "submitted" / student / name)
        out = api.autograde(name, student, force=True, create=True)
        if not out["success"]:
            result.problems.append(f"autograde of the {student} version failed: {out.get('error') or out.get('log')}")
            return
    for nb_path in (Path(tmp) / "autograded" / "solution" / name).glob("*.ipynb"):
        result.errors += [f"{nb_path.stem}/{e}" for e in _error_cells(nb_path)]
    for nb_path in (Path(tmp) / "autograded" / "blank" / name).glob("*.ipynb"):
        result.blank_errors += [f"{nb_path.stem}/{e}" for e in _error_cells(nb_path, skip_answers=True)]
    result.uses = {student: _read_uses(Path(tmp) / "autograded" / student / name) for student in ("solution", "blank")}
    with gradebook_cls(db_url) as gb:
        for student in ("solution", "blank"):
            sub = gb.find_submission(name, student)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    auto = grade.cell.cell_type == "code"
                    if student == "solution":
                        if auto:
                            result.n_autograded += 1
                            result.max_points += grade.max_score
                        else:
                            result.n_manual += 1
                            result.manual_points += grade.max_score
                    if not auto:
                        continue
                    score = grade.auto_score or 0.0
                    if student == "solution":
                        result.solution_score += score
                        if score != grade.max_score:
                            result.solution_failed.append(grade.name)
                    else:
                        result.blank_score += score
                        if score != 0:
                            result.blank_nonzero.append(grade.name)
    if result.n_autograded == 0:
        result.problems.append("no autograded cells: a tutorial needs exercises with test cells")

def grade_check(assignments=None, *, course_root=".", quick=None, timeout=None, keep=None):
    """Run the grade check on assignments and return one result each.

    Parameters
    ----------
    assignments : list of str, optional
        Assignment names (``01_regression``); default all of :func:`find_assignments`.
    course_root : path-like, default "."
        Folder with ``tutorials/`` and ``nbgrader_config.py``.
    quick : bool, optional
        Run the notebooks in quick mode (sets ``ML4EM_QUICK=1`` for the kernels).
    timeout : int, optional
        Seconds allowed per cell (default: the course's nbgrader_config.py).
    keep : path-like, optional
        Keep the temporary course folder there (for inspection) instead of deleting it.

    Returns
    -------
    list of GradeCheckResult
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    known = find_assignments(course_root)
    names = list(assignments) if assignments else known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; the course has {known}. An assignment is a folder "
                         "tutorials/NN_name holding NN_name.ipynb.")
    results = []
    with restored_environ("ML4EM_QUICK", "ML4EM_STATIC_WIDGETS", "PATH"):
        scripts_on_path()
        if quick is not None:
            os.environ["ML4EM_QUICK"] = "1" if quick else "0"
        os.environ.setdefault("ML4EM_STATIC_WIDGETS", "1")
        warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy session chatter inside nbgrader
        for name in names:
            tmp = Path(tempfile.mkdtemp(prefix=f"ml4em-grade-{name}-"))
            result = GradeCheckResult(name)
            try:
                config = _config(tmp, course_root, timeout)
                api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
                _check_one(api, Gradebook, config.CourseDirectory.db_url, tmp, course_root, name, result)
            finally:
                if keep:
                    dest = Path(keep) / name
                    shutil.rmtree(dest, ignore_errors=True)
                    shutil.copytree(tmp, dest)
                shutil.rmtree(tmp, ignore_errors=True)
            results.append(result)
    return results


def _pts(x):
    return f"{x:g}"

def format_table(results):
    """Format results as a plain-text table (one row per assignment) with the details of failures."""
    head = ("assignment", "auto cells", "max points", "solution", "blank", "manual pts", "leaks", "errors", "status")
    rows = [head]
    for r in results:
        rows.append((r.assignment, str(r.n_autograded), _pts(r.max_points), _pts(r.solution_score),
                     _pts(r.blank_score), _pts(r.manual_points), str(len(r.leaks)), str(len(r.errors)),
                     "ok" if r.ok else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in results:
        for label, items in (("instructor version fails", r.solution_failed), ("blank version passes", r.blank_nonzero),
                             ("cell errors in the instructor version", r.errors),
                             ("cell errors in the blank version (not answer or test cells)", r.blank_errors),
                             ("leaks", r.leaks),
                             ("problems", r.problems)):
            for item in items:
                lines.append(f"{r.assignment}: {label}: {item}")
    return "\n".join(lines)

def main(args):
    """Entry point of ``ml4em grade-check`` (see :mod:`ml4em.cli`); returns the exit code."""
    if getattr(args, "mutants", False):
        from .mutants import main as mutants_main

        return mutants_main(args)
    try:
        results = grade_check(args.assignments or None, course_root=args.course_root, quick=args.quick or None,
                              timeout=args.timeout, keep=args.keep)
    except (ValueError, FileNotFoundError) as err:
        print(f"ml4em grade-check: error: {err}", file=sys.stderr)
        return 2
    print(format_table(results))
    failed = [r.assignment for r in results if not r.ok]
    if failed:
        print(f"grade-check FAILED for: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"grade-check passed for {len(results)} assignment(s).")
    return 0

