"""``ml4em student-version``: write the student versions of the tutorials into a folder.

Used by Binder's ``postBuild`` (students open ``student/``), by self-learners on
their own computer, and by the course website. The student version is what
nbgrader's ``generate_assignment`` makes: solutions replaced by stubs, hidden
tests removed.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from ._config import restored_environ, scripts_on_path

__all__ = ["generate_student_versions"]


def generate_student_versions(out, assignments=None, *, course_root=".", overwrite=False):
    """Generate student versions of tutorials into ``out/NN_name/``.

    Parameters
    ----------
    out : path-like
        Destination folder (created if missing).
    assignments : list of str, optional
        Default: every tutorial.
    course_root : path-like, default "."
        Folder with ``tutorials/`` and ``nbgrader_config.py``.
    overwrite : bool, default False
        Replace an existing ``out/NN_name``. Without it an existing folder,
        which may hold a student's work, is left untouched and reported.

    Returns
    -------
    written, skipped : list of str
        Assignments written, and those skipped because their folder exists.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .grading import _config, find_assignments

    known = find_assignments(course_root)
    names = list(assignments) if assignments else known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; the course has {known}.")
    out = Path(out)
    written, skipped = [], []
    todo = [n for n in names if overwrite or not (out / n).exists()]
    skipped = [n for n in names if n not in todo]
    if not todo:
        return written, skipped
    tmp = Path(tempfile.mkdtemp(prefix="ml4em-student-"))
    try:
        with restored_environ("PATH"):
            scripts_on_path()
            config = _config(tmp, course_root, None)
            api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
            for name in todo:
                shutil.copytree(Path(course_root) / "tutorials" / name, tmp / api.coursedir.source_directory / name,
                                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
                result = api.generate_assignment(name, force=True)
                if not result["success"]:
                    raise RuntimeError(f"nbgrader could not generate the student version of {name}: "
                                       f"{result.get('error') or result.get('log')}")
                dest = out / name
                if dest.exists():
                    shutil.rmtree(dest)
                shutil.copytree(tmp / api.coursedir.release_directory / name, dest)
                written.append(name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written, skipped


def main(args):
    """Entry point of ``ml4em student-version``; returns the exit code."""
    try:
        written, skipped = generate_student_versions(args.out, args.assignments or None,
                                                     course_root=args.course_root, overwrite=args.overwrite)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"ml4em student-version: error: {err}", file=sys.stderr)
        return 2
    for name in written:
        print(f"wrote {Path(args.out) / name}")
    for name in skipped:
        print(f"kept {Path(args.out) / name}: it exists and may hold your work (use --overwrite to replace it)")
    return 0
