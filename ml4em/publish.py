"""``ml4em publish-student``: write the student repository of a graded course.

::

    ml4em publish-student ASSIGNMENT... --to DIR [--course-root .] [--overwrite]

The course repository holds the instructor versions: every solution and every hidden test. A graded course hands
out a second repository instead, which holds only what students may see:

- the **student versions** of the named tutorials, made by nbgrader's ``generate_assignment``
  (:func:`ml4em.student.generate_student_versions`), where ``hub_path`` of ``site/site.cfg`` puts them;
- ``README.md``: what the course is, and a table that opens each tutorial on the course's JupyterHub
  (nbgitpuller), on Binder and on Colab, all on the student repository (:func:`ml4em.site.config.student_links`);
- ``data/README.md``: the course's notes on the data (never a data file);
- Binder's launch files: ``environment.yml`` (Python and ml4em, from the setting ``package`` of ``site.cfg``) and
  ``postBuild``, which only downloads the data (the tutorials are already the student versions).

Before anything appears at ``--to``, the one leak scan (:func:`ml4em.leaks.scan_for_leaks`) reads every file
against the secret lines of **all** tutorials; a leak removes what was written and fails, naming the file. The
repository is written into a hidden temporary folder beside ``--to`` and renamed at the end, so an interrupted run
leaves nothing half-written. An existing, non-empty ``--to`` is replaced only with ``--overwrite``; its ``.git``
folder is kept, so that ``--to`` can be a clone of the student repository, ready to commit and push.

Used in: docs/instructor.md, section 7; set ``mode = graded`` in ``site/site.cfg`` so that the course website
links only to this repository.
"""

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .student import generate_student_versions

__all__ = ["add_parser", "publish_student", "main"]

_TAIL = "{name}/{name}.ipynb"
_COLUMNS = (("jupyterhub", "course JupyterHub", "open"), ("binder", "Binder", "launch"), ("colab", "Colab", "open"))


def add_parser(subparsers):
    """Add the ``publish-student`` subcommand to an argparse ``subparsers`` object (called by ``ml4em.cli``)."""
    p = subparsers.add_parser(
        "publish-student", help="write a student repository without solutions (graded courses)",
        description="Write the student repository of a graded course: the student versions of the named tutorials, "
        "a README with JupyterHub, Binder and Colab links (from site/site.cfg), the data notes and Binder's launch "
        "files. Every file is scanned for solution and hidden-test text before the folder appears.")
    p.add_argument("assignments", nargs="+", metavar="ASSIGNMENT",
                   help="tutorials to publish, e.g. 01_regression (name every tutorial released so far)")
    p.add_argument("--to", required=True, metavar="DIR", help="folder of the student repository (e.g. a clone of it)")
    p.add_argument("--course-root", default=".", help="folder with tutorials/, data/ and site/ (default: .)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing, non-empty DIR (its .git is kept)")
    p.set_defaults(func=main)
    return p


def _names(assignments, known, course_root):
    if isinstance(assignments, str):
        raise TypeError(f"assignments should be a list of tutorial names; got the string {assignments!r} "
                        f"(write [{assignments!r}]).")
    names = list(dict.fromkeys(assignments)) if assignments else list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown} (ASSIGNMENT): the course in --course-root "
                         f"{str(course_root)!r} has {known}; give folder names of tutorials/, such as "
                         f"{(known or ['01_regression'])[0]!r}.")
    if not names:
        raise ValueError(f"the course in --course-root {str(course_root)!r} has no tutorials to publish; add "
                         "tutorials/NN_name/NN_name.ipynb first.")
    return names


def _prefix(config):
    """Where the tutorial folders lie inside the student repository: the part of ``hub_path`` before them."""
    if not config.hub_path.endswith(_TAIL) or "{name}" in config.hub_path[:-len(_TAIL)]:
        raise ValueError(f"hub_path={config.hub_path!r} in site.cfg should end with {_TAIL!r} (a tutorial's folder "
                         "inside the student repository), e.g. 'hub_path = {name}/{name}.ipynb'; fix it in "
                         "site/site.cfg.")
    return config.hub_path[:-len(_TAIL)]


def _check_target(out, root, overwrite):
    if out.exists() and not out.is_dir():
        raise ValueError(f"--to {str(out)!r} is a file; give a folder for the student repository.")
    if root == out or out in root.parents or (root / "tutorials") in [out, *out.parents]:
        raise ValueError(f"--to {str(out)!r} would replace the course (--course-root {str(root)!r}) or sit inside "
                         "its tutorials/; give a folder of its own, such as 'student-repo'.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"--to {str(out)!r} exists and is not empty; choose another folder, or pass "
                              "--overwrite to replace its contents (its .git folder is kept).")


def _cell(text):
    return text.replace("|", "\\|")


def _readme(config, rows, prefix, has_notes):
    from .site.config import student_links

    links = {name: student_links(config, name) for name, _ in rows}
    columns = [c for c in _COLUMNS if all(c[0] in links[n] for n in links)]
    lines = [f"# {config.title}: the tutorials", "",
             f"The student versions of the tutorials of **{config.title}** (ml4em), a course that teaches machine "
             "learning to physics and materials students through problems from electron microscopy. Each tutorial "
             "is a Jupyter notebook: run its cells, write your code where a cell says `raise NotImplementedError()`, "
             "then run the test cell below it, which tells you what is wrong. The course is graded with nbgrader; "
             "this repository holds no solutions.", "",
             "## Open a tutorial", "",
             "| tutorial | " + " | ".join(c[1] for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for name, title in rows:
        cells = [f"[{_cell(title or name)}]({prefix}{name}/{name}.ipynb)"]
        cells += [f"[{verb}]({links[name][key]})" for key, _, verb in columns]
        lines.append("| " + " | ".join(cells) + " |")
    requirement = config.requirement
    lines += ["",
              "- **The course JupyterHub** (for graded work): the link copies this repository into your home folder "
              "with nbgitpuller and opens the tutorial. Clicking it again later brings new tutorials and fixes without "
              "overwriting your work. Hand in your work as your instructor says.",
              "- **Binder**: runs in your browser with nothing to install; the data are downloaded while it starts. "
              "Binder forgets everything when you close the tab or after some idle minutes: download your notebook "
              "(*File → Download*) to keep it.",
              "- **Colab**: needs a Google account. Run the tutorial's first code cell, which installs ml4em there, and "
              "restart the session if Colab asks; save a copy to your Drive to keep your work."
              if any(c[0] == "colab" for c in columns) else None,
              f"- **Your own computer**: in a Python environment of your own, `pip install \"{requirement}\"`, then "
              "`ml4em data download` and `jupyter lab` in this folder.",
              "",
              "## Data",
              "",
              "This repository holds no data files. The tutorials on real spectra download them on first use and check "
              "each file's sha256; `ml4em data download` fetches them all at once (Binder does so while it starts) and "
              "`ml4em data path` prints where they are kept."
              + (" [data/README.md](data/README.md) says more." if has_notes else ""),
              ""]
    return "\n".join(line for line in lines if line is not None)


def _environment(course_root, requirement):
    """Binder's ``environment.yml``: the course's Python version and ml4em from ``requirement``."""
    course = Path(course_root) / "environment.yml"
    pin = re.search(r"^\s*-\s*python\s*=\s*([\d.]+)\s*$", course.read_text(encoding="utf-8"), re.M) \
        if course.is_file() else None
    python = pin.group(1) if pin else f"{sys.version_info.major}.{sys.version_info.minor}"
    return ("# Binder builds this environment for the student repository: Python and ml4em with its dependencies.\n"
            "# Written by `ml4em publish-student`.\n"
            "name: ml4em-student\nchannels:\n  - conda-forge\ndependencies:\n"
            f"  - python={python}\n  - pip\n  - pip:\n      - {json.dumps(requirement)}\n")


_POSTBUILD = """#!/usr/bin/env bash
# Binder runs this once after installing environment.yml. The tutorials here are already the student
# versions (written by `ml4em publish-student`); this only fetches the data, so that they start at once.
set -euo pipefail
ml4em data download --quiet
"""


def _write(folder, names, root, config, prefix):
    """Write the student repository into ``folder``; returns the tutorials' (name, title) rows."""
    import nbformat

    from .site.lectures import _title

    generate_student_versions(folder / prefix, names, course_root=root, overwrite=True)
    rows = []
    for name in names:
        notebook = folder / prefix / name / f"{name}.ipynb"
        rows.append((name, _title(nbformat.read(notebook, as_version=4)) if notebook.is_file() else ""))
    notes = root / "data" / "README.md"
    if notes.is_file():
        (folder / "data").mkdir(exist_ok=True)
        shutil.copyfile(notes, folder / "data" / "README.md")
    (folder / "README.md").write_text(_readme(config, rows, prefix, notes.is_file()), encoding="utf-8")
    (folder / "environment.yml").write_text(_environment(root, config.requirement), encoding="utf-8")
    (folder / "postBuild").write_text(_POSTBUILD, encoding="utf-8")
    (folder / "postBuild").chmod(0o755)


def _swap_in(tmp, out):
    """Rename the finished ``tmp`` to ``out``; an existing ``out`` is replaced, its ``.git`` moved over."""
    if not out.exists():
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
    os.replace(out, old / out.name)
    if (old / out.name / ".git").exists():
        os.replace(old / out.name / ".git", tmp / ".git")
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def publish_student(out, assignments=None, *, course_root=".", overwrite=False, config=None):
    """Write the student repository of a graded course into ``out``.

    Parameters
    ----------
    out : path-like
        Folder of the student repository; appears only when complete and free of leaks.
    assignments : list of str, optional
        Tutorials to publish (``["01_regression"]``); default every tutorial of the course.
    course_root : path-like, default "."
        Folder with ``tutorials/``, ``data/`` and ``site/site.cfg``.
    overwrite : bool, default False
        Replace the contents of an existing, non-empty ``out`` (its ``.git`` folder is kept).
    config : SiteConfig, optional
        The links' settings; default ``site/site.cfg`` of ``course_root`` (:func:`ml4em.site.config.load_config`).

    Returns
    -------
    dict
        ``"out"`` (Path), ``"tutorials"`` (names), ``"files"`` (paths relative to ``out``, sorted, ``.git`` left
        out).

    Raises
    ------
    FileNotFoundError
        When ``course_root`` has no ``tutorials/`` or no ``site/site.cfg``.
    TypeError, ValueError
        For an unknown assignment, a ``--to`` that is a file or holds the course, or a ``hub_path`` that does not
        end with ``{name}/{name}.ipynb``.
    FileExistsError
        When ``out`` is not empty and ``overwrite`` is False.
    RuntimeError
        When a written file holds solution or hidden-test text of any tutorial (nothing is left at ``out``), or
        nbgrader fails.

    Examples
    --------
    >>> publish_student("student-repo", ["99_none"], course_root="no-such-course")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: no tutorials/ folder in course_root='no-such-course'; ...
    """
    from .grading import find_assignments
    from .leaks import scan_for_leaks, tutorial_secrets
    from .site.config import load_config

    root = Path(course_root).resolve()
    names = _names(assignments, find_assignments(course_root), course_root)
    config = load_config(course_root=root) if config is None else config
    prefix = _prefix(config)
    out = Path(out).resolve()
    _check_target(out, root, overwrite)
    secrets = tutorial_secrets(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the repository is an ordinary folder
        _write(tmp, names, root, config, prefix)
        leaks = scan_for_leaks(tmp, secrets)
        if leaks:
            raise RuntimeError(f"the student repository would hold instructor-only text, so nothing was written to "
                               f"--to {str(out)!r}. Check that the solutions and hidden tests behind these lines lie "
                               "between nbgrader's markers in the instructor versions, then run "
                               "`ml4em grade-check`:\n" + "\n".join(leaks[:50]))
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        _swap_in(tmp, out)
        tmp = None
    finally:
        if tmp is not None:  # failed or interrupted: leave nothing half-written
            shutil.rmtree(tmp, ignore_errors=True)
    return {"out": out, "tutorials": names, "files": files}


def main(args):
    """Handler of ``ml4em publish-student``; returns the exit code (2 for bad input, 1 for a leak)."""
    from .site.config import load_config

    try:
        result = publish_student(args.to, args.assignments, course_root=args.course_root, overwrite=args.overwrite)
        config = load_config(course_root=args.course_root)
    except (TypeError, ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"ml4em publish-student: error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"ml4em publish-student: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote the student repository {result['out']}: {', '.join(result['tutorials'])}, README.md, "
          f"environment.yml, postBuild ({len(result['files'])} files); leak scan passed. Commit and push it to "
          f"{config.student_repository} (branch {config.student_branch}).")
    if config.mode != "graded":
        print(f"note: site/site.cfg has mode = {config.mode}: the course website's Binder buttons open the full "
              "repository, solutions included; set mode = graded there for a graded course.", file=sys.stderr)
    elif not config.package:
        print(f"note: environment.yml installs ml4em from {config.repository}; set 'package' in site/site.cfg to "
              "a package index or mirror so that the student repository does not name it.", file=sys.stderr)
    return 0
