"""The course website, rendered offline by Sphinx with MyST-NB, and the command ``python -m ml4em.site``.

The site holds the lectures, the student versions of the tutorials with launch links, the glossary, the
assignment and the slides. After the build, the one leak scan (:func:`ml4em.leaks.scan_for_leaks`) reads every file
for solution and hidden-test text; in a graded course (``mode = graded`` in ``site/site.cfg``) no page may link to
the full course repository either.
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from ..leaks import scan_for_leaks, tutorial_secrets
from .config import _github, launch_html, load_config
from .lectures import _title, execute_lecture, lecture_paths
from .slides import MATHJAX_CONFIG, _copy_mathjax, write_slides

__all__ = ["build_site", "student_versions", "links_to_full_repository", "main"]

_PAGES = ("assignment.md", "glossary.md")


def student_versions(out, *, course_root="."):
    """Write the student versions of every tutorial that exists into ``out/NN_name/`` with nbgrader's API.

    Parameters
    ----------
    out : path-like
        Destination folder; existing tutorial folders in it are replaced.
    course_root : path-like

    Returns
    -------
    list of str
        The tutorials written (an empty list when the course has none yet).
    """
    from ..grading import find_assignments
    from ..student import generate_student_versions

    if not (Path(course_root) / "tutorials").is_dir() or not find_assignments(course_root):
        return []
    written, _ = generate_student_versions(out, course_root=course_root, overwrite=True)
    return written


def links_to_full_repository(folder, config):
    """Pages below ``folder`` whose markup names the full course repository (a graded course allows none).

    The repository counts as named by its address (also URL-quoted, as in a Binder or nbgitpuller link) or, on
    GitHub, by its ``owner/name`` in a Binder or Colab link; a longer name that starts alike (the student
    repository ``owner/name-student``) does not count.

    Parameters
    ----------
    folder : path-like
    config : SiteConfig

    Returns
    -------
    list of str
        ``"<file>: <address>"`` for each page (relative to ``folder``); empty when none.
    """
    names = [config.repository, quote(config.repository, safe="")]
    owner_repo = _github(config.repository)
    if owner_repo:
        names += [f"gh/{owner_repo}", f"github/{owner_repo}"]
    pattern = re.compile("(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")
    found = []
    for path in sorted(Path(folder).rglob("*.htm*")):
        match = pattern.search(path.read_text(encoding="utf-8", errors="replace"))
        if match:
            found.append(f"{path.relative_to(folder).as_posix()}: {match.group(1)}")
    return found


def _tutorial_page(config, name, nb_path):
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    buttons = (launch_html(config, name) + "\n\n*The student version of the tutorial, as handed out: open it with one "
               "of the buttons above, answer the exercises and run the test cells.*\n")
    first = nb.cells[0] if nb.cells and nb.cells[0].cell_type == "markdown" else None
    lines = first.source.splitlines() if first is not None else []
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
    if title is None:  # no title line to put the buttons under: a cell of their own at the top
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(buttons))
    else:
        first.source = "\n".join(lines[:title + 1] + ["", buttons] + lines[title + 1:])
    nbformat.write(nb, nb_path)
    return _title(nb) or name


_TUTORIAL_LINK = re.compile(r"\[([^\]]+)\]\(\.\./tutorials/(\d\d_\w+)/\2\.ipynb\)")


def _unlink_missing(nb, names):
    """A copy of ``nb`` whose links to tutorials that are not in ``names`` become plain text "(not released yet)"."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _TUTORIAL_LINK.sub(
                lambda m: m.group(0) if m.group(2) in names else f"{m.group(1)} (not released yet)", cell.source)
    return nb


def _tutorials_index(config, pages):
    lines = ["# Tutorials", "",
             "The student versions of the tutorials, in the order of the course. The buttons beside each one open "
             "it; the lectures say which tutorial practises which idea.", ""]
    if not pages:
        lines.append("*No tutorial has been released yet.*")
    for name, title in pages:
        lines.append(f"- [{title}]({name}/{name}.ipynb) {launch_html(config, name)}")
    lines += ["", "```{toctree}", ":hidden:", ""] + [f"{n}/{n}" for n, _ in pages] + ["```", ""]
    return "\n".join(lines)


def build_site(out="_site", *, course_root=".", quick=None, keep_source=None):
    """Build the course website into ``out``.

    Parameters
    ----------
    out : path-like, default "_site"
        Output folder (replaced).
    course_root : path-like
    quick : bool, optional
        Run the lectures in quick mode (default: as the environment says).
    keep_source : path-like, optional
        Keep the generated Sphinx source folder there (for inspection).

    Returns
    -------
    dict
        ``"out"`` (Path), ``"lectures"`` and ``"tutorials"`` (names), ``"slides"`` (paths).

    Raises
    ------
    RuntimeError
        When a lecture fails, Sphinx fails, or the built site holds solution or hidden-test text (or, in a graded
        course, a link to the full repository).
    """
    root = Path(course_root).resolve()
    config = load_config(course_root=root)
    out = Path(out).resolve()
    src = Path(tempfile.mkdtemp(prefix="ml4em-site-src-"))
    try:
        for item in ("conf.py", "site.cfg", "index.md", "_static"):
            s = root / "site" / item
            (shutil.copytree if s.is_dir() else shutil.copy2)(s, src / item)
        _copy_mathjax(src / "_static" / "mathjax")
        lectures = src / "lectures"
        lectures.mkdir()
        import nbformat

        tutorials = src / "tutorials"
        tutorials.mkdir()
        names = student_versions(tutorials, course_root=root)
        pages = [(n, _tutorial_page(config, n, tutorials / n / f"{n}.ipynb")) for n in names]
        executed = {}
        for path in lecture_paths(root):
            executed[path.stem] = execute_lecture(path, quick=quick)
            nbformat.write(_unlink_missing(executed[path.stem], names), lectures / path.name)
        for page in _PAGES:
            shutil.copy2(root / "lectures" / page, lectures / page)
        (tutorials / "index.md").write_text(_tutorials_index(config, pages), encoding="utf-8")
        if keep_source:
            shutil.rmtree(keep_source, ignore_errors=True)
            shutil.copytree(src, keep_source)
        if out.exists():
            shutil.rmtree(out)
        run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", str(src), str(out)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"Sphinx failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        for junk in (".doctrees", ".buildinfo"):
            p = out / junk
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        slides = write_slides(executed, out / "slides", course_root=root,
                              mathjax_url=f"../_static/mathjax/MathJax.js?config={MATHJAX_CONFIG}")
    finally:
        shutil.rmtree(src, ignore_errors=True)
    leaks = scan_for_leaks(out, tutorial_secrets(root))
    if leaks:
        raise RuntimeError("the built site holds text from the instructor versions (solutions or hidden tests):\n"
                           + "\n".join(leaks[:50]))
    full = links_to_full_repository(out, config) if config.mode == "graded" else []
    if full:
        raise RuntimeError(f"mode = graded in site/site.cfg, but pages link to the full repository "
                           f"{config.repository}, which holds the solutions; link to the student repository "
                           "instead:\n" + "\n".join(full[:50]))
    return {"out": out, "lectures": list(executed), "tutorials": names, "slides": slides}


def main(argv=None):
    """``python -m ml4em.site build|slides [--out DIR] [--quick]``; returns the exit code."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ml4em.site", description="Build the ml4em course website or "
                                     "the lecture slides, offline.")
    parser.add_argument("what", choices=("build", "slides"), help="build: the website; slides: reveal.js slides")
    parser.add_argument("--out", default=None, help="output folder (default _site or lectures/_build/slides)")
    parser.add_argument("--course-root", default=".", help="folder with lectures/, tutorials/ and site/")
    parser.add_argument("--quick", action="store_true", help="run the lectures in quick mode (ML4EM_QUICK=1)")
    args = parser.parse_args(argv)
    quick = True if args.quick else None
    try:
        if args.what == "build":
            result = build_site(args.out or "_site", course_root=args.course_root, quick=quick)
            print(f"site written to {result['out']}: {len(result['lectures'])} lecture(s), "
                  f"{len(result['tutorials'])} tutorial(s), {len(result['slides'])} slide deck(s); leak scan passed. "
                  f"Open {result['out'] / 'index.html'}")
            config = load_config(course_root=args.course_root)
            if "example." in config.jupyterhub:
                print(f"note: the JupyterHub address is still {config.jupyterhub}; set 'jupyterhub' in site/site.cfg "
                      "to your course's hub before publishing.", file=sys.stderr)
        else:
            out = Path(args.out or Path(args.course_root) / "lectures" / "_build" / "slides")
            executed = {p.stem: execute_lecture(p, quick=quick) for p in lecture_paths(args.course_root)}
            paths = write_slides(executed, out, course_root=args.course_root)
            print("slides written: " + ", ".join(str(p) for p in paths))
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"ml4em.site: error: {err}", file=sys.stderr)
        return 1
    return 0
