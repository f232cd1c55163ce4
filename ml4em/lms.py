"""``ml4em export-grades``: the nbgrader gradebook as the CSV file a learning-management system imports.

::

    ml4em export-grades ASSIGNMENT... --format brightspace|canvas|moodle [--course-root DIR] [--out FILE]
                        [--id-map CSV] [--id-column NAME] [--name ASSIGNMENT=ITEM ...] [--missing empty|zero]
                        [--overwrite]

One row per student of the gradebook (``gradebook.db`` in the course folder), one column of points per
assignment. The points are nbgrader's, as ``nbgrader export`` computes them: the sum over the graded cells of the
manual grade where one was given and the autograde otherwise (plus extra credit), minus the late-submission
penalty, and never below 0. What each system expects, from its own documentation:

``brightspace`` (D2L Brightspace, "Importing grades", Brightspace Community knowledge base)
    An identifier column ``OrgDefinedId`` (or ``Username``), then one column per grade item named
    ``<item> Points Grade``, and a last column ``End-of-Line Indicator`` whose value is ``#`` on every row.
``canvas`` (Instructure Canvas, "How do I import grades in the Gradebook?", Canvas Instructor Guide)
    The columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment
    (its name, optionally followed by `` (<canvas id>)``); the second row is ``Points Possible`` with the maximum
    points of each assignment. The student's identifier goes into one of ``ID``, ``SIS User ID`` or ``SIS Login ID``
    (default); ``Student`` holds "Last, First" from the gradebook.
``moodle`` (Moodle, "Grade import", MoodleDocs)
    An identifier column that matches a user field (``Username``, ``ID number`` or ``Email address``), then one
    column per grade item; the mapping of columns to user field and grade items is chosen on import.

Identifiers
    nbgrader's student ids, or what ``--id-map`` (a CSV with columns ``nbgrader_id,lms_id``) maps them to; with
    ``--id-column "Email address"`` (Moodle) and no map, the email of the gradebook. A student with no identifier
    is an error that lists them all.

A missing submission
    An empty cell in every format (default, ``--missing empty``): no grade is imported for it, so what the system
    holds (an extension, an excused item) is left as it is. ``--missing zero`` writes 0, as ``nbgrader export``
    does.

An existing output file is never replaced without ``--overwrite``; the file is written to a temporary name beside
it and renamed into place. Without ``--out`` the CSV goes to standard output.

Used by: instructors after grading (docs/instructor.md, section 9).
"""

import csv
import io
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ._config import restored_environ, scripts_on_path

__all__ = ["FORMATS", "ID_COLUMNS", "StudentGrades", "read_gradebook", "read_id_map", "grade_rows",
           "export_grades", "add_parser", "main"]

FORMATS = ("brightspace", "canvas", "moodle")
#: The identifier columns each system matches students by; the first is the default.
ID_COLUMNS = {"brightspace": ("OrgDefinedId", "Username"), "canvas": ("SIS Login ID", "SIS User ID", "ID"),
              "moodle": ("Username", "ID number", "Email address")}
_CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


@dataclass(frozen=True)
class StudentGrades:
    """One student of the gradebook and their points.

    Attributes
    ----------
    student_id : str
        nbgrader's id.
    first_name, last_name, email : str
        From the gradebook ("" when not set).
    scores : dict of str to float or None
        Assignment to points (late penalty applied); None when there is no submission.
    """

    student_id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    scores: dict = field(default_factory=dict)


def _course_root(course_root):
    root = Path(course_root)
    if not (root / "gradebook.db").is_file():
        raise ValueError(f"course_root={str(course_root)!r} has no gradebook.db; pass the nbgrader course folder "
                         "in which the submissions were graded (nbgrader autograde writes gradebook.db).")
    return root


def read_gradebook(assignments, *, course_root="."):
    """The points of every student of the gradebook in some assignments.

    Parameters
    ----------
    assignments : list of str
        Assignment names, as in the gradebook.
    course_root : path-like, default "."
        The course folder with ``gradebook.db``.

    Returns
    -------
    students : list of StudentGrades
        Sorted by id.
    max_scores : dict of str to float
        Assignment to its maximum points.

    Raises
    ------
    ValueError
        When there is no gradebook, no assignment is given, or one is not in the gradebook.
    """
    import warnings

    assignments = [assignments] if isinstance(assignments, str) else list(assignments)
    if not assignments:
        raise ValueError("assignments=[] names no assignment; pass one or more, e.g. 01_regression.")
    root = _course_root(course_root)
    with restored_environ("PATH"), warnings.catch_warnings():
        scripts_on_path()  # nbgrader may run alembic, its database migrations, as a command
        warnings.simplefilter("ignore")  # SQLAlchemy's chatter inside nbgrader
        return _scores(root, assignments)


def _scores(root, assignments):
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{(root / 'gradebook.db').resolve()}") as gb:
        known = sorted(a.name for a in gb.assignments)
        unknown = [a for a in assignments if a not in known]
        if unknown:
            raise ValueError(f"assignments={unknown!r} are not in {root / 'gradebook.db'}; it has {known or 'none'}. "
                             "Grade them first (nbgrader autograde) or check the names.")
        max_scores = {a: float(gb.find_assignment(a).max_score) for a in assignments}
        students = []
        for student in sorted(gb.students, key=lambda s: s.id):
            scores = {}
            for a in assignments:
                try:
                    sub = gb.find_submission(a, student.id)
                except MissingEntry:
                    scores[a] = None
                else:
                    scores[a] = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))
            students.append(StudentGrades(student.id, student.first_name or "", student.last_name or "",
                                          student.email or "", scores))
    return students, max_scores


def read_id_map(path):
    """``{nbgrader_id: lms_id}`` from a CSV file with the columns ``nbgrader_id`` and ``lms_id``.

    Raises
    ------
    ValueError
        When the file is missing, lacks a column, or maps one id twice.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"id_map={str(path)!r} is not a file; pass a CSV with the columns nbgrader_id,lms_id.")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("nbgrader_id", "lms_id") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"id_map={str(path)!r} has no column {' or '.join(missing)} (its header is "
                             f"{reader.fieldnames}); its first line should be: nbgrader_id,lms_id")
        found = {}
        for row in reader:
            key, value = (row["nbgrader_id"] or "").strip(), (row["lms_id"] or "").strip()
            if key in found and found[key] != value:
                raise ValueError(f"id_map={str(path)!r} maps {key!r} twice ({found[key]!r} and {value!r}); keep one.")
            if key:
                found[key] = value
    return found


def _points(value, missing):
    if value is None:
        return "0" if missing == "zero" else ""
    return f"{round(value, 4):g}"


def grade_rows(students, max_scores, *, format, ids=None, id_column=None, names=None, missing="empty"):
    """The rows (header first) of the CSV that ``format`` imports.

    Parameters
    ----------
    students : list of StudentGrades
    max_scores : dict of str to float
        Assignment to maximum points, in column order.
    format : {"brightspace", "canvas", "moodle"}
    ids : dict of str to str, optional
        nbgrader id to the LMS's identifier (default: the nbgrader id; the email for Moodle's "Email address").
    id_column : str, optional
        One of ``ID_COLUMNS[format]`` (default: the first).
    names : dict of str to str, optional
        Assignment to the grade item's name in the LMS (default: the assignment's name).
    missing : {"empty", "zero"}
        What a missing submission becomes.

    Examples
    --------
    >>> s = [StudentGrades("ann", "Ann", "Lee", scores={"01_regression": 12.5}),
    ...      StudentGrades("bo", scores={"01_regression": None})]
    >>> for row in grade_rows(s, {"01_regression": 15.0}, format="brightspace"):
    ...     print(row)
    ['OrgDefinedId', '01_regression Points Grade', 'End-of-Line Indicator']
    ['ann', '12.5', '#']
    ['bo', '', '#']
    >>> for row in grade_rows(s, {"01_regression": 15.0}, format="canvas", missing="zero"):
    ...     print(row)
    ['Student', 'ID', 'SIS User ID', 'SIS Login ID', 'Section', '01_regression']
    ['Points Possible', '', '', '', '', '15']
    ['Lee, Ann', '', '', 'ann', '', '12.5']
    ['bo', '', '', 'bo', '', '0']
    """
    if format not in FORMATS:
        raise ValueError(f"format={format!r} is not one of {list(FORMATS)}; choose the system you import into.")
    id_column = id_column or ID_COLUMNS[format][0]
    if id_column not in ID_COLUMNS[format]:
        raise ValueError(f"id_column={id_column!r} is not a column {format} matches students by; choose one of "
                         f"{list(ID_COLUMNS[format])}.")
    if missing not in ("empty", "zero"):
        raise ValueError(f"missing={missing!r} should be 'empty' (no grade imported) or 'zero'.")
    names = {a: (names or {}).get(a, a) for a in max_scores}
    mapped = ids is not None
    if not mapped:
        ids = {s.student_id: (s.email if id_column == "Email address" else s.student_id) for s in students}
    lacking = [s.student_id for s in students if not ids.get(s.student_id)]
    if lacking:
        fix = ("add a row nbgrader_id,lms_id for each to the id map" if mapped else
               "add their emails to the gradebook (nbgrader db student add ID --email=...) or pass an id map")
        raise ValueError(f"no {id_column} for the student(s) {lacking}: {fix}.")
    points = [[_points(s.scores.get(a), missing) for a in max_scores] for s in students]
    if format == "brightspace":
        return ([[id_column, *(f"{names[a]} Points Grade" for a in max_scores), "End-of-Line Indicator"]]
                + [[ids[s.student_id], *p, "#"] for s, p in zip(students, points)])
    if format == "canvas":
        at = _CANVAS_FIXED.index(id_column)
        rows = [[*_CANVAS_FIXED, *(names[a] for a in max_scores)],
                ["Points Possible", "", "", "", "", *(_points(m, missing) for m in max_scores.values())]]
        for s, p in zip(students, points):
            fixed = [", ".join(n for n in (s.last_name, s.first_name) if n) or s.student_id, "", "", "", ""]
            fixed[at] = ids[s.student_id]
            rows.append([*fixed, *p])
        return rows
    return [[id_column, *(names[a] for a in max_scores)]] + [[ids[s.student_id], *p] for s, p in zip(students, points)]


def _write_csv(rows, out, overwrite):
    out = Path(out)
    if out.exists() and not overwrite:
        raise ValueError(f"out={str(out)!r} exists; pass --overwrite to replace it, or another file name.")
    if out.is_dir():
        raise ValueError(f"out={str(out)!r} is a folder; pass a file name such as grades.csv.")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}-", dir=out.parent.resolve())
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export_grades(assignments, *, format, course_root=".", out=None, id_map=None, id_column=None, names=None,
                  missing="empty", overwrite=False):
    """Write (or return) the CSV of ``format`` for some assignments of the gradebook.

    Parameters
    ----------
    assignments : list of str
    format : {"brightspace", "canvas", "moodle"}
    course_root : path-like, default "."
    out : path-like, optional
        The CSV file; None returns the text instead.
    id_map : path-like, optional
        CSV with columns ``nbgrader_id,lms_id``.
    id_column, names, missing
        See :func:`grade_rows`.
    overwrite : bool, default False
        Replace an existing ``out``.

    Returns
    -------
    str or None
        The CSV text when ``out`` is None.
    """
    if out is not None and Path(out).exists() and not overwrite:
        raise ValueError(f"out={str(out)!r} exists; pass --overwrite to replace it, or another file name.")
    students, max_scores = read_gradebook(assignments, course_root=course_root)
    unknown = sorted(set(names or {}) - set(max_scores))
    if unknown:
        raise ValueError(f"names={unknown!r} are not among the exported assignments {list(max_scores)}; write "
                         "--name ASSIGNMENT=ITEM for one of them.")
    ids = read_id_map(id_map) if id_map is not None else None
    try:
        rows = grade_rows(students, max_scores, format=format, id_column=id_column, names=names, missing=missing,
                          ids=ids)
    except ValueError as err:
        if ids is None or not str(err).startswith("no "):
            raise
        raise ValueError(f"id_map={str(id_map)!r}: {err}") from None
    if out is None:
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        return text.getvalue()
    _write_csv(rows, out, overwrite)
    return None


def add_parser(subparsers):
    """Add the ``export-grades`` subcommand to an argparse ``subparsers`` object (called by ``ml4em.cli``)."""
    p = subparsers.add_parser(
        "export-grades", help="write the grades as the CSV that Brightspace, Canvas or Moodle imports",
        description="Read nbgrader's gradebook (points with manual grades and late penalties, as nbgrader export "
        "computes them) and write one row per student, one column per assignment, in the import format of the "
        "chosen learning-management system. A missing submission is an empty cell unless --missing zero.")
    p.add_argument("assignments", nargs="+", metavar="ASSIGNMENT", help="e.g. 01_regression")
    p.add_argument("--format", required=True, choices=FORMATS, help="the system you import into")
    p.add_argument("--course-root", default=".", metavar="DIR", help="the course folder with gradebook.db "
                   "(default: .)")
    p.add_argument("--out", default=None, metavar="FILE", help="the CSV file (default: standard output)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--id-map", default=None, metavar="CSV",
                   help="CSV with columns nbgrader_id,lms_id when the system's ids differ from nbgrader's")
    p.add_argument("--id-column", default=None, metavar="NAME",
                   help="the identifier column: brightspace OrgDefinedId (default) or Username; canvas "
                   "'SIS Login ID' (default), 'SIS User ID' or ID; moodle Username (default), 'ID number' or "
                   "'Email address'")
    p.add_argument("--name", dest="names", action="append", default=[], metavar="ASSIGNMENT=ITEM",
                   help="the grade item's name in the system (default: the assignment's name); repeatable")
    p.add_argument("--missing", choices=("empty", "zero"), default="empty",
                   help="a missing submission: an empty cell, no grade imported (default), or 0")
    p.set_defaults(func=main)
    return p


def main(args):
    """Handler of ``ml4em export-grades``; returns the exit code (0 written, 2 bad arguments)."""
    try:
        names = {}
        for item in args.names:
            assignment, sep, name = item.partition("=")
            if not sep or not assignment.strip() or not name.strip():
                raise ValueError(f"--name {item!r} should be ASSIGNMENT=ITEM, e.g. --name "
                                 "'01_regression=Tutorial 1'.")
            names[assignment.strip()] = name.strip()
        text = export_grades(args.assignments, format=args.format, course_root=args.course_root, out=args.out,
                             id_map=args.id_map, id_column=args.id_column, names=names, missing=args.missing,
                             overwrite=args.overwrite)
    except ValueError as err:
        message = str(err)
        for api, cli in (("course_root=", "--course-root "), ("id_map=", "--id-map "), ("id_column=", "--id-column "),
                         ("assignments=", "ASSIGNMENT "), ("names=", "--name "), ("out=", "--out ")):
            message = message.replace(api, cli)
        print(f"ml4em export-grades: error: {message}", file=sys.stderr)
        return 2
    if text is not None:
        sys.stdout.write(text)
    else:
        print(f"wrote {args.out}: {args.format} grades of {', '.join(args.assignments)}")
    return 0
