"""``ml4em autograde``: grade submissions with nbgrader, each notebook in the grading sandbox.

It checks first that the sandbox can be made here (root, bubblewrap, util-linux) and refuses otherwise, unless the
instructor passes ``--no-sandbox``; then it runs ``nbgrader autograde`` from the course folder (whose
``nbgrader_config.py`` puts :class:`ml4em.sandbox.execute.SandboxedExecute` in the pipeline), and finally lists,
per student, every answer the sandbox blanked or cut and why. ``ml4em integrity`` gives the full review.

Used by: instructors (docs/instructor.md, section 3) and tests/test_grading_round.py.
"""

import json
import subprocess
import sys
from pathlib import Path

from ._config import restored_environ, scripts_on_path

__all__ = ["autograde", "sandbox_notes", "add_parser"]


def sandbox_notes(assignment, *, course_root="."):
    """What the sandbox recorded in each autograded notebook of ``assignment``.

    Returns
    -------
    dict
        ``{student: {notebook: notes}}`` with the ``metadata["ml4em"]["sandbox"]`` dict of each notebook.
    """
    import nbformat

    found = {}
    for path in sorted(Path(course_root, "autograded").glob(f"*/{assignment}/*.ipynb")):
        notes = nbformat.read(path, as_version=4).metadata.get("ml4em", {}).get("sandbox")
        if notes is not None:
            found.setdefault(path.parent.parent.name, {})[path.stem] = notes
    return found


def autograde(assignment, *, students=(), course_root=".", force=False, sandbox=True, extra_args=()):
    """Run ``nbgrader autograde`` on ``assignment`` in the sandbox; return nbgrader's exit code.

    Parameters
    ----------
    assignment : str
    students : sequence of str, optional
        Grade only these students (default: every submission).
    course_root : path-like, default "."
        The course folder (with ``nbgrader_config.py``).
    force : bool, default False
        Grade again submissions that were graded before.
    sandbox : bool, default True
        ``False`` runs the students' code without the sandbox, with your rights (``--no-sandbox``).
    extra_args : sequence of str
        Passed on to nbgrader (e.g. ``--Execute.timeout=600``).
    """
    from .sandbox import sandbox_unavailable

    root = Path(course_root)
    if not (root / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"no nbgrader_config.py in course_root={str(course_root)!r}: run from the course "
                                "folder or pass --course-root.")
    reason = sandbox_unavailable() if sandbox else None
    if reason:
        raise PermissionError(f"the grading sandbox is not available: {reason}. ml4em autograde will not run "
                              "students' code with your rights; pass --no-sandbox to do so anyway.")
    base = [sys.executable, "-m", "nbgrader", "autograde", assignment, *extra_args]
    base += ["--SandboxedExecute.sandbox=on" if sandbox else "--SandboxedExecute.sandbox=off"]
    if force:
        base.append("--force")
    code = 0
    with restored_environ("PATH"):
        scripts_on_path()
        for student in (students or [None]):
            argv = base + ([f"--student={student}"] if student else [])
            code = max(code, subprocess.run(argv, cwd=root).returncode)
    return code


def _report(assignment, course_root):
    lines = []
    for student, notebooks in sandbox_notes(assignment, course_root=course_root).items():
        for notebook, notes in notebooks.items():
            for entry in notes.get("blanked", []):
                lines.append(f"{student}/{notebook}: answer {entry.get('grade_id')} blanked: {entry.get('reason')}")
            for entry in notes.get("truncated", []):
                lines.append(f"{student}/{notebook}: output of {entry.get('grade_id') or entry.get('cell_index')} "
                             "cut (too long)")
            for entry in notes.get("gave_up", []):
                lines.append(f"{student}/{notebook}: grading stopped at cell {entry.get('cell_index')}: "
                             f"{entry.get('reason')}")
            if not notes.get("sandboxed"):
                lines.append(f"{student}/{notebook}: graded WITHOUT the sandbox")
    return lines


def _main(args):
    try:
        code = autograde(args.assignment, students=args.student or (), course_root=args.course_root,
                         force=args.force, sandbox=not args.no_sandbox,
                         extra_args=[f"--Execute.timeout={args.timeout}"] if args.timeout else ())
    except (FileNotFoundError, PermissionError) as err:
        print(f"ml4em autograde: error: {err}", file=sys.stderr)
        return 2
    lines = _report(args.assignment, args.course_root)
    if args.json:
        print(json.dumps(sandbox_notes(args.assignment, course_root=args.course_root), indent=1))
    else:
        print("\n".join(lines) if lines else "The sandbox blanked no answer.")
    print(f"Review the submissions before releasing grades: ml4em integrity {args.assignment}")
    return code


def add_parser(subparsers):
    """Add ``ml4em autograde`` to the ``ml4em`` command."""
    p = subparsers.add_parser(
        "autograde", help="grade submissions with nbgrader, each in the grading sandbox",
        description="Run nbgrader autograde with every notebook in the grading sandbox (its own user id, no "
        "network, limits, a private copy of the submission), then list the answers it blanked. Refuses without a "
        "sandbox unless --no-sandbox is given.")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. 01_regression")
    p.add_argument("--student", action="append", metavar="ID", help="grade only this student (repeatable)")
    p.add_argument("--course-root", default=".", help="the course folder (default: .)")
    p.add_argument("--force", action="store_true", help="grade again submissions already graded")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run the students' code WITHOUT the sandbox, with your rights (not recommended)")
    p.add_argument("--json", action="store_true", help="print the sandbox's notes as JSON")
    p.add_argument("--timeout", type=int, default=None, metavar="S",
                   help="seconds allowed per cell (default: Execute.timeout of nbgrader_config.py)")
    p.set_defaults(func=_main)
