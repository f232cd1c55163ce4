"""``ml4em similarity``: answer cells of different students that are alike, per exercise and per notebook.

::

    ml4em similarity ASSIGNMENT [--course-root DIR] [--threshold T] [--out DIR]

Every answer cell (nbgrader ``solution: true``) of ``submitted/<student>/<assignment>/*.ipynb`` is normalised
(:mod:`ml4em.similarity._tokens`: the names a cell binds become ``V``, builtins, the tutorial's names and attribute
names are kept, import aliases written out, strings become ``S``, comments, docstrings and whitespace dropped;
IPython syntax goes through IPython's transformer first; written answers are compared word by word) and
fingerprinted with copydetect (:mod:`ml4em.similarity._fingerprints`: every k-gram of ``k`` tokens).

What does not count (boilerplate)
    Fingerprints of what the students were given or could find in the course: every code cell of the instructor
    version and of the release (the stubs, the instructor's solutions and test cells), nbgrader's default stubs,
    the instructor's written answers, and the source of the ml4em modules that the notebook imports. Two students
    who leave the stub, or who both write the solution the tutorial dictates (or the package's own code) share no
    fingerprint that counts. Neither do fingerprints that more than ``common`` of the students have (and at least
    3): what most of a class writes is the natural way to write it, not a copy.

Very short answers
    An answer with fewer than ``min_fingerprints`` (16) counted fingerprints, about two lines of one's own code,
    is not compared on its own: a one-liner such as ``return np.linalg.pinv(X) @ y`` is what two students can
    well write alike without copying. It still counts in the notebook's score.

The score of a pair
    For each of the two answers, the share of its counted code (tokens covered by counted fingerprints) that
    lies in fingerprints the other answer also has; the score is the larger of the two shares (copydetect's
    convention), so a copy that added code of its own is still found. The notebook's score is the same over all
    answer cells of the two notebooks, exercise by exercise. A pair is flagged when its score is at least
    ``threshold`` (default 0.5: at least half of one answer's own code, in runs of ``k`` normalised tokens, also
    in the other's). In tests/test_similarity.py, four independent correct implementations of six exercises of
    tutorial 01 score at most 0.35 per exercise and 0.1 per notebook (what they share are idioms such as
    ``np.linalg.solve(A, B.T @ y)``), while a copy with renamed variables and reordered lines scores above 0.8:
    0.5 lies well between the two.

A flag is a reason to read the two answers side by side, not a verdict.

Writes ``<out>/<assignment>/report.html`` (self-contained: the flagged pairs, each with the two students' cells
side by side and the shared regions marked) and ``<out>/<assignment>/pairs.csv`` (every pair compared: student_a,
student_b, grade_id or ``notebook``, score), atomically; ``<out>`` (default ``similarity/`` in the course folder)
holds a marker file, and a folder without it is never written into.

Needs copydetect: ``pip install "ml4em[instructor]"``.

Used by: instructors after ``nbgrader collect`` (docs/instructor.md, section 9).
"""

import sys
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ..course import course_folder, submitted_students

__all__ = ["Match", "SimilarityReport", "similarity", "format_table", "write_report", "add_parser", "main"]

DEFAULT_THRESHOLD = 0.5
#: Tokens per fingerprint; the statement ``theta = np.linalg.pinv(X) @ y`` has 12.
DEFAULT_K = 6
#: Counted fingerprints an answer needs to be compared on its own: about two lines of one's own code. A one-liner
#: (``return np.linalg.pinv(X) @ y``: 8) is what two students can well write alike without copying.
DEFAULT_MIN_FINGERPRINTS = 16
DEFAULT_COMMON = 0.5


@dataclass(frozen=True)
class Match:
    """The similarity of two students' answers to one exercise, or of their notebooks.

    Attributes
    ----------
    student_a, student_b : str
        In alphabetical order.
    grade_id : str
        The exercise (nbgrader grade_id), or ``"notebook"`` for all answer cells together.
    score : float
        ``max(share_a, share_b)``, from 0 to 1.
    share_a, share_b : float
        The share of each student's counted code that the other also has.
    n_shared : int
        Counted fingerprints the two have in common.
    """

    student_a: str
    student_b: str
    grade_id: str
    score: float
    share_a: float
    share_b: float
    n_shared: int


@dataclass
class _Answer:
    student: str
    exercise: str
    kind: str
    source: str
    fp: object
    counted: set = field(default_factory=set)
    covered: int = 0


@dataclass
class SimilarityReport:
    """The outcome of :func:`similarity`.

    Attributes
    ----------
    assignment : str
    students : list of str
    exercises : list of str
        grade_ids of the answer cells, in notebook order.
    matches : list of Match
        Every pair compared, highest score first.
    threshold : float
    settings : dict
        ``k``, ``min_fingerprints`` and ``common``.
    problems : list of str
        Notebooks that could not be read.
    answers : dict
        ``(student, grade_id)`` to the answer (for the HTML report).
    """

    assignment: str
    students: list
    exercises: list
    matches: list
    threshold: float
    settings: dict
    problems: list = field(default_factory=list)
    answers: dict = field(default_factory=dict, repr=False)

    @property
    def flagged(self):
        """The matches at or above the threshold."""
        return [m for m in self.matches if m.score >= self.threshold]

    def shared_spans(self, student_a, student_b, exercise):
        """Character spans of the two students' cells that lie in shared counted fingerprints."""
        a, b = self.answers.get((student_a, exercise)), self.answers.get((student_b, exercise))
        if a is None or b is None:
            return [], []
        shared = a.counted & b.counted
        return a.fp.spans(shared), b.fp.spans(shared)


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold={threshold!r} should be a number from 0 to 1 (the share of one answer's own "
                         "code that the other also has); e.g. 0.5.")


def similarity(assignment, *, course_root=".", threshold=DEFAULT_THRESHOLD, k=DEFAULT_K,
               min_fingerprints=DEFAULT_MIN_FINGERPRINTS, common=DEFAULT_COMMON):
    """Compare the answer cells of every pair of submissions of one assignment.

    Parameters
    ----------
    assignment : str
        e.g. ``"01_regression"``.
    course_root : path-like, default "."
        The nbgrader course folder (``tutorials/``, ``release/``, ``submitted/``).
    threshold : float, default 0.5
        Matches with a score at least this are flagged.
    k : int, default 6
        Normalised tokens (words, in written answers) per fingerprint.
    min_fingerprints : int, default 16
        Counted fingerprints an answer needs to be compared on its own.
    common : float, default 0.5
        A fingerprint that more than this share of the students have (and at least 3) does not count.

    Returns
    -------
    SimilarityReport

    Raises
    ------
    ValueError
        For a bad threshold, a folder that is not a course, an unknown assignment, or fewer than two submissions.
    ModuleNotFoundError
        When copydetect is not installed.

    Examples
    --------
    >>> similarity("01_regression", threshold=1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: threshold=1.5 should be a number from 0 to 1 (the share of one answer's own code ...); e.g. 0.5.
    """
    from . import _sources
    from ._fingerprints import Vocabulary, copydetect_utils, fingerprint
    from ._tokens import code_tokens, text_tokens

    _check_threshold(threshold)
    for name, value, low in (("k", k, 1), ("min_fingerprints", min_fingerprints, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    if isinstance(common, bool) or not isinstance(common, (int, float)) or not 0 < common <= 1:
        raise ValueError(f"common={common!r} should be a share in (0, 1]; e.g. 0.5.")
    copydetect_utils()
    root = course_folder(course_root, assignment)
    students = submitted_students(root, assignment, None)
    if len(students) < 2:
        raise ValueError(f"assignment={assignment!r} has {len(students)} submission(s) in {root / 'submitted'} "
                         f"({', '.join(students) or 'none'}); similarity compares two or more. Collect them first "
                         "(nbgrader collect) or pass the course folder that holds them.")
    given = _sources.given(root, assignment)
    vocab, problems, exercises = Vocabulary(), [], dict(given.exercises)

    def tokens(kind, source):
        return code_tokens(source, given.aliases) if kind == "code" else text_tokens(source)

    boilerplate = set()
    for kind, sources in (("code", given.code), ("markdown", given.text)):
        for source in sources:
            boilerplate |= fingerprint(tokens(kind, source), vocab, k=k).hashes
    for path in given.files:
        boilerplate |= fingerprint(_sources.file_tokens(path), vocab, k=k).hashes
    answers = {}
    for student in students:
        for exercise, (kind, source) in _sources.submitted(root, assignment, student, given, problems).items():
            exercises.setdefault(exercise, kind)
            fp = fingerprint(tokens(kind, source), vocab, k=k)
            answers[student, exercise] = _Answer(student, exercise, kind, source, fp, fp.hashes - boilerplate)
    counts = {e: Counter() for e in exercises}
    for answer in answers.values():
        counts[answer.exercise].update(answer.counted)
    share = common * len(students)
    for answer in answers.values():
        seen = counts[answer.exercise]
        answer.counted = {h for h in answer.counted if not (seen[h] > share and seen[h] >= 3)}
        answer.covered = answer.fp.coverage(answer.counted)
    matches = _compare(students, list(exercises), answers, max(min_fingerprints, 1))
    return SimilarityReport(assignment, students, list(exercises), matches, float(threshold),
                            {"k": k, "min_fingerprints": min_fingerprints, "common": common}, problems, answers)


def _compare(students, exercises, answers, enough):
    """Every match of every pair: per exercise where both answers have ``enough`` counted fingerprints, and
    per notebook where both have that many in all; highest score first."""
    matches = []
    for a, b in combinations(students, 2):
        shared_cover, counted_cover, counted, n_shared = [0, 0], [0, 0], [0, 0], 0
        for exercise in exercises:
            pair = (answers.get((a, exercise)), answers.get((b, exercise)))
            for i, answer in enumerate(pair):
                if answer is not None:
                    counted_cover[i] += answer.covered
                    counted[i] += len(answer.counted)
            if None in pair:
                continue
            shared = pair[0].counted & pair[1].counted
            cover = [answer.fp.coverage(shared) for answer in pair]
            shared_cover = [total + c for total, c in zip(shared_cover, cover)]
            n_shared += len(shared)
            if min(len(answer.counted) for answer in pair) >= enough:
                matches.append(_match(a, b, exercise, cover, [answer.covered for answer in pair], len(shared)))
        if min(counted) >= enough:
            matches.append(_match(a, b, "notebook", shared_cover, counted_cover, n_shared))
    order = {e: i for i, e in enumerate(["notebook", *exercises])}
    return sorted(matches, key=lambda m: (-m.score, m.student_a, m.student_b, order[m.grade_id]))


def _match(a, b, exercise, shared, counted, n_shared):
    shares = [s / c if c else 0.0 for s, c in zip(shared, counted)]
    return Match(a, b, exercise, max(shares), shares[0], shares[1], n_shared)


def format_table(report, *, out=None):
    """A short table of the flagged matches.

    Examples
    --------
    >>> r = SimilarityReport("01_regression", ["ann", "bob", "eve"], ["ex1"], [Match("ann", "eve", "notebook",
    ...                      0.91, 0.91, 0.88, 40), Match("ann", "bob", "ex1", 0.1, 0.1, 0.05, 2)], 0.5, {})
    >>> print(format_table(r))
    ml4em similarity 01_regression: 3 students, 2 comparisons, 1 at or above 0.5
      score  student_a  student_b  exercise
      0.91   ann        eve        notebook
    """
    flagged = report.flagged
    lines = [f"ml4em similarity {report.assignment}: {len(report.students)} students, {len(report.matches)} "
             f"comparisons, {len(flagged)} at or above {report.threshold:g}"]
    rows = [("score", "student_a", "student_b", "exercise")] + [
        (f"{m.score:.2f}", m.student_a, m.student_b, m.grade_id) for m in flagged]
    if flagged:
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines += [f"could not read {p}" for p in report.problems]
    if out is not None:
        lines.append(f"report: {Path(out) / 'report.html'} (every comparison: {Path(out) / 'pairs.csv'})")
    return "\n".join(lines)


def write_report(report, out=None, *, course_root="."):
    """Write ``report.html`` and ``pairs.csv`` into ``<out>/<assignment>/``; see :mod:`ml4em.similarity._report`."""
    from ._report import write

    return write(report, Path(course_root) / "similarity" if out is None else Path(out))


def add_parser(subparsers):
    """Add the ``similarity`` subcommand to an argparse ``subparsers`` object (called by ``ml4em.cli``)."""
    p = subparsers.add_parser(
        "similarity", help="answer cells of different students that are alike (instructors)",
        description="Compare the answer cells of every pair of submissions of one assignment, per exercise and per "
        "notebook, after normalising names, strings, comments and whitespace; what the students were given (stubs, "
        "the instructor's solutions, the package's code) does not count. Writes an HTML report of the pairs at or "
        "above the threshold and a CSV of every comparison. Exit status 0 when the report was made.")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. 01_regression")
    p.add_argument("--course-root", default=".", metavar="DIR", help="the nbgrader course folder (default: .)")
    p.add_argument("--threshold", default=str(DEFAULT_THRESHOLD), metavar="T",
                   help=f"flag scores at or above T, from 0 to 1 (default: {DEFAULT_THRESHOLD})")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the reports (default: similarity/ in the course folder)")
    p.set_defaults(func=main)
    return p


def _fail(message):
    print(f"ml4em similarity: error: {message}", file=sys.stderr)
    return 2


def main(args):
    """Handler of ``ml4em similarity``; returns the exit code (0 report made, 2 bad arguments)."""
    from ._report import check_out

    try:
        threshold = float(args.threshold)
    except ValueError:
        threshold = args.threshold
    out = Path(args.course_root) / "similarity" if args.out is None else Path(args.out)
    try:
        _check_threshold(threshold)
        check_out(out)
        report = similarity(args.assignment, course_root=args.course_root, threshold=threshold)
    except ModuleNotFoundError as err:
        return _fail(str(err))
    except ValueError as err:
        message = str(err).replace("course_root=", "--course-root ").replace("threshold=", "--threshold ")
        return _fail(message.replace("assignment=", "ASSIGNMENT ").replace("out=", "--out "))
    folder = write_report(report, out)
    print(format_table(report, out=folder))
    return 0
