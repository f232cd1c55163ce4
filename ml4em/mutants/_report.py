"""``mutation_report``: how many wrong answers the tests of one tutorial catch, and the report's formats."""

import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._config import restored_environ
from ._operators import make_mutants
from ._runner import NotebookRunner, bound_names, exercise_cells

__all__ = ["ExerciseResult", "MutationReport", "mutation_report", "format_report", "main"]


@dataclass
class ExerciseResult:
    """The mutants of one exercise and what became of them.

    Attributes
    ----------
    grade_id, test_id : str
        nbgrader ids of the answer cell and of its test cell.
    n_possible : int
        Mutants the operators made, before ``max_mutants``.
    n_mutants : int
        Mutants run.
    killed : list of str
        Descriptions of the mutants the test cell failed on (timeouts included).
    timeouts : list of str
        Those of ``killed`` that ran past the per-mutant timeout.
    equivalent : list of str
        Survivors with the same outputs on every checked call (or the same value).
    survived : list of str
        Survivors that differ from the answer: wrong answers the tests let through.
    problems : list of str
        Why the exercise could not be run in full.
    design : bool
        A design exercise (a trained model, whose answer cell says :data:`DESIGN_MARK`): any design that passes
        the checks is right, so its survivors are counted as equivalent, and at most :data:`DESIGN_MUTANTS` of its
        mutants are run (each trains a model).
    """

    grade_id: str
    test_id: str
    design: bool = False
    n_possible: int = 0
    n_mutants: int = 0
    killed: list = field(default_factory=list)
    timeouts: list = field(default_factory=list)
    equivalent: list = field(default_factory=list)
    survived: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def kill_rate(self):
        """Killed over non-equivalent mutants (None when every mutant is equivalent or none was run)."""
        n = len(self.killed) + len(self.survived)
        return len(self.killed) / n if n else None


@dataclass
class MutationReport:
    """The mutation report of one assignment: one :class:`ExerciseResult` per exercise.

    Attributes
    ----------
    assignment : str
    exercises : list of ExerciseResult
    problems : list of str
        What stopped the notebook (a kernel that cannot be restarted).
    seconds : float
        Wall time of the whole run.
    """

    assignment: str
    exercises: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def kill_rate(self):
        """Killed over non-equivalent mutants over all exercises (None when there are none)."""
        killed = sum(len(e.killed) for e in self.exercises)
        n = killed + sum(len(e.survived) for e in self.exercises)
        return killed / n if n else None

    def to_dict(self):
        """A JSON-ready dict (kill rates included)."""
        return {**asdict(self), "kill_rate": self.kill_rate,
                "exercises": [{**asdict(e), "kill_rate": e.kill_rate} for e in self.exercises]}


#: The line that marks the answer cell of a design exercise (outside the solution region, so students read it too).
DESIGN_MARK = "# A design exercise: any model that passes the checks below is a right answer."
#: Mutants run per design exercise: each one trains a model.
DESIGN_MUTANTS = 3


def _chosen(mutants, max_mutants, rng):
    if max_mutants is None or len(mutants) <= max_mutants:
        return mutants
    keep = sorted(rng.sample(range(len(mutants)), max_mutants))
    return [mutants[i] for i in keep]


def _timeout_for(timeout, seconds):
    # Ten times what the instructor's answer and test took, and never under 5 s: a slow but finite mutant passes.
    return timeout if timeout is not None else max(5.0, 10.0 * seconds)


def _run_exercise(runner, answer_index, test_index, mutants, timeout, answer_seconds, result):
    answer, test = runner.sources[answer_index], runner.sources[test_index]
    names, inputs = bound_names(answer)
    forget = [n for n in names if n not in inputs]
    runner.ask(f"wrap(globals(), {names!r})")
    status, seconds, _ = runner.run_notebook_cell(test_index)
    runner.ask("unwrap(globals())")
    if status != "ok":
        result.problems.append(f"the instructor's answer fails its test cell ({status}); its mutants were not run")
        return status
    limit = _timeout_for(timeout, seconds + answer_seconds)
    for mutant in mutants:
        runner.ask(f"forget(globals(), {forget!r})")
        status, _, _ = runner.run(mutant.source, limit, answer_index)
        if status in ("ok", "error"):
            status, _, _ = runner.run(test, limit, test_index)
        if status == "dead":
            result.killed.append(f"{mutant.description} (the kernel died)")
            if not runner.restart():
                result.problems.append("the kernel died and could not be restarted; the other mutants were not run")
                return "dead"
        elif status == "timeout":
            result.killed.append(mutant.description)
            result.timeouts.append(mutant.description)
        elif status == "error":
            result.killed.append(mutant.description)
        else:
            verdict = runner.ask("compare(globals())", limit) or {}
            if verdict.get("equivalent"):
                result.equivalent.append(mutant.description)
            elif result.design:
                result.equivalent.append(f"{mutant.description} (another design that passes the exercise's checks)")
            else:
                result.survived.append(mutant.description)
    runner.run_notebook_cell(answer_index)
    status, _, _ = runner.run_notebook_cell(test_index)
    if status != "ok":
        result.problems.append("after the mutants, the instructor's answer no longer passes its test: a mutant "
                               "changed state that re-running the answer cell does not restore")
    return status


def mutation_report(assignment, *, course_root=".", quick=None, max_mutants=None, seed=0, timeout=None,
                    cell_timeout=600):
    """Mutate every autograded answer of an assignment and count the mutants its test cells kill.

    Parameters
    ----------
    assignment : str
        Assignment name (``"01_regression"``): the notebook ``tutorials/<assignment>/<assignment>.ipynb``.
    course_root : path-like, default "."
        Folder with ``tutorials/``.
    quick : bool, optional
        Run the notebook in quick mode (sets ``ML4EM_QUICK`` for the kernel); default: the environment's.
    max_mutants : int, optional
        At most this many mutants per exercise, drawn with ``seed``; default all.
    seed : int, default 0
        Seed of the draw of ``max_mutants``.
    timeout : float, optional
        Seconds allowed to a mutant's answer cell and to its test cell; default ten times what the
        instructor's answer and test took, at least 5.
    cell_timeout : int, default 600
        Seconds allowed to each of the notebook's own cells.

    Returns
    -------
    MutationReport

    Raises
    ------
    ValueError
        When ``assignment`` is not a tutorial of the course or ``max_mutants`` is not a positive int.
    """
    from ..grading import find_assignments

    known = find_assignments(course_root)
    if assignment not in known:
        raise ValueError(f"assignment={assignment!r} is not a tutorial of the course; choose one of {known}.")
    if max_mutants is not None and (not isinstance(max_mutants, int) or max_mutants < 1):
        raise ValueError(f"max_mutants={max_mutants!r} should be a positive int (or None for all mutants).")
    import nbformat

    folder = Path(course_root) / "tutorials" / assignment
    nb = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    pairs = dict(exercise_cells(nb))
    tests = set(pairs.values())
    rng = random.Random(seed)
    report, start = MutationReport(assignment), time.monotonic()
    with restored_environ("ML4EM_QUICK", "ML4EM_STATIC_WIDGETS"):
        if quick is not None:
            os.environ["ML4EM_QUICK"] = "1" if quick else "0"
        os.environ.setdefault("ML4EM_STATIC_WIDGETS", "1")
        with NotebookRunner(nb, folder.resolve(), cell_timeout) as runner:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or index in tests:
                    continue
                status, seconds, _ = runner.run_notebook_cell(index)
                if status == "dead" and not runner.restart():
                    report.problems.append(f"the kernel died at cell {index} and could not be restarted")
                    break
                if index not in pairs:
                    continue
                meta = cell.metadata["nbgrader"]
                result = ExerciseResult(meta["grade_id"], nb.cells[pairs[index]].metadata["nbgrader"]["grade_id"],
                                        design=DESIGN_MARK in cell.source)
                report.exercises.append(result)
                try:
                    mutants = make_mutants(cell.source)
                except SyntaxError as err:
                    result.problems.append(f"the answer cell is not plain Python ({err.msg}, line {err.lineno})")
                    runner.run_notebook_cell(pairs[index])
                    continue
                limit = min(max_mutants or DESIGN_MUTANTS, DESIGN_MUTANTS) if result.design else max_mutants
                chosen = _chosen(mutants, limit, rng)
                result.n_possible, result.n_mutants = len(mutants), len(chosen)
                if status != "ok":
                    result.problems.append(f"the instructor's answer cell fails ({status}); its mutants were not run")
                    runner.run_notebook_cell(pairs[index])
                    continue
                if _run_exercise(runner, index, pairs[index], chosen, timeout, seconds, result) == "dead":
                    report.problems.append("the kernel died and could not be restarted; the notebook stopped")
                    break
    report.seconds = time.monotonic() - start
    return report


def _rate(rate):
    return "-" if rate is None else f"{100 * rate:.0f}%"


def format_report(reports):
    """Plain-text tables, one per assignment, then the survivors and problems of each exercise."""
    head = ("exercise", "mutants", "killed", "timeouts", "equivalent", "survived", "kill rate")
    blocks = []
    for report in reports:
        rows = [head] + [(e.grade_id + (" (design)" if e.design else ""),
                          str(e.n_mutants) + ("" if e.n_mutants == e.n_possible else f"/{e.n_possible}"),
                          str(len(e.killed)), str(len(e.timeouts)), str(len(e.equivalent)), str(len(e.survived)),
                          _rate(e.kill_rate)) for e in report.exercises]
        rows.append(("total", str(sum(e.n_mutants for e in report.exercises)),
                     *(str(sum(len(getattr(e, k)) for e in report.exercises))
                       for k in ("killed", "timeouts", "equivalent", "survived")), _rate(report.kill_rate)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = [f"{report.assignment} ({report.seconds:.0f} s)"]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(2, "  ".join("-" * w for w in widths))
        for e in report.exercises:
            lines += [f"{e.grade_id}: survived: {d}" for d in e.survived]
            lines += [f"{e.grade_id}: equivalent: {d}" for d in e.equivalent]
            lines += [f"{e.grade_id}: problem: {p}" for p in e.problems]
        lines += [f"{report.assignment}: problem: {p}" for p in report.problems]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main(args):
    """Entry point of ``ml4em grade-check --mutants`` (see :mod:`ml4em.cli`); returns the exit code."""
    from ..grading import find_assignments

    rate = args.min_kill_rate
    try:
        if rate is not None and not 0 <= rate <= 1:
            raise ValueError(f"--min-kill-rate {rate} should be a fraction between 0 and 1 (e.g. 0.8).")
        names = args.assignments or find_assignments(args.course_root)
        reports = [mutation_report(name, course_root=args.course_root, quick=args.quick or None,
                                   max_mutants=args.max_mutants, seed=args.seed, timeout=args.mutant_timeout,
                                   cell_timeout=args.timeout or 600) for name in names]
    except (ValueError, FileNotFoundError) as err:
        print(f"ml4em grade-check --mutants: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps([r.to_dict() for r in reports], indent=1) if args.json else format_report(reports))
    low = [r.assignment for r in reports if rate is not None and r.kill_rate is not None and r.kill_rate < rate]
    if low:
        print(f"kill rate below {rate:g} for: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0
