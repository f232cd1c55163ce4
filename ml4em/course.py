"""The folders of an nbgrader course that instructor tools read: the course, its submissions, their notebooks.

Used by: ``ml4em integrity`` (:mod:`ml4em.integrity`) and ``ml4em similarity`` (:mod:`ml4em.similarity`).
"""

from pathlib import Path

__all__ = ["course_folder", "submitted_students", "read_notebook"]


def course_folder(course_root, assignment):
    """The nbgrader course folder ``course_root`` as a Path, checked to hold ``assignment``; ValueError otherwise."""
    root = Path(course_root)
    if not root.is_dir():
        raise ValueError(f"course_root={str(course_root)!r} is not a folder; pass the nbgrader course folder (the one "
                         "with nbgrader_config.py, tutorials/ and submitted/).")
    if not (root / "nbgrader_config.py").is_file() and not (root / "tutorials").is_dir():
        raise ValueError(f"course_root={str(course_root)!r} is not an nbgrader course folder (no nbgrader_config.py "
                         "and no tutorials/); pass the folder that holds them.")
    if not (root / "tutorials" / assignment).is_dir() and not (root / "release" / assignment).is_dir():
        known = sorted({p.name for d in ("tutorials", "release") if (root / d).is_dir()
                        for p in (root / d).iterdir() if p.is_dir() and not p.name.startswith(".")})
        raise ValueError(f"assignment={assignment!r} is not in {root}: there is no tutorials/{assignment}/ or "
                         f"release/{assignment}/. Choose one of {known or 'none (the course has no assignments)'}.")
    return root


def submitted_students(root, assignment, students=None):
    """Students with a submitted or autograded ``assignment``; ``students`` (ids) must be among them."""
    found = sorted({p.parent.name for d in ("submitted", "autograded") if (root / d).is_dir()
                    for p in (root / d).glob(f"*/{assignment}") if p.is_dir()})
    if students is None:
        return found
    students = [students] if isinstance(students, str) else list(students)
    missing = [s for s in students if s not in found]
    if missing:
        raise ValueError(f"students={missing!r}: no submission of {assignment} in {root / 'submitted'}. Students "
                         f"with one: {found or 'none'}; use an ID from that list.")
    return students


def read_notebook(path):
    """``(notebook, None)``, or ``(None, reason)`` when the file cannot be read (a broken or hostile file)."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4), None
    except Exception as err:  # a broken or hostile file is a finding, not a crash
        return None, f"the notebook cannot be read ({type(err).__name__}: {str(err)[:120]})"
