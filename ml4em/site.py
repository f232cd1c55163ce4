"""Build the course website and the lecture slides, offline, with one command each.

``python -m ml4em.site build [--out _site]`` (``make site``) writes a static website with

- both lectures (``lectures/*.ipynb``), executed once here, with their figures;
- the **student versions** of the tutorials that exist, made with nbgrader's API (never the instructor
  versions), each page with a Binder link and a JupyterHub (nbgitpuller) link built from ``site/site.cfg``;
- the assignment and the glossary (``lectures/assignment.md``, ``lectures/glossary.md``);
- the slides of both lectures (``slides/``).

After the build every file of the site is scanned for text that only the instructor versions hold (solution and
hidden-test lines, :func:`ml4em.grading.secret_lines`); a leak fails the build.

``python -m ml4em.site slides [--out lectures/_build/slides]`` (``make slides``) writes one reveal.js HTML per
lecture. reveal.js (from the ``sphinx-revealjs`` package, MIT licence) and MathJax 2.7 (from
``jupyter-server-mathjax``, Apache-2.0 licence) are copied next to the HTML files, so the slides and the site work
without a network connection; nothing is fetched from a CDN when they are viewed.

Sphinx with MyST-NB renders the pages (``site/conf.py``); the packages are in the ``site`` extra of the course
(``pip install -e ".[site]"``).
"""

import configparser
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlparse

__all__ = ["SiteConfig", "load_config", "launch_links", "launch_html", "lecture_paths", "execute_lecture",
           "write_slides", "student_versions", "tutorial_secrets", "scan_for_leaks", "html_text", "build_site",
           "main"]

MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
SLIDE_SIZE = (1280, 720)
_PAGES = ("assignment.md", "glossary.md")


@dataclass(frozen=True)
class SiteConfig:
    """The settings of ``site/site.cfg``.

    Attributes
    ----------
    title, author : str
    repository, branch : str
        The public course repository that Binder builds (its postBuild writes ``student/``).
    binder : str
        BinderHub address, e.g. ``https://mybinder.org``.
    binder_path : str
        Path of a tutorial inside the Binder session; ``{name}`` is the tutorial (``01_regression``).
    jupyterhub : str
        The course's JupyterHub: the one address an instructor sets for the nbgitpuller links.
    student_repository, student_branch : str
        The repository of released student versions that nbgitpuller clones into students' home folders.
    hub_path : str
        Path of a tutorial inside the student repository; ``{name}`` as above.
    """

    title: str
    author: str
    repository: str
    branch: str
    binder: str
    binder_path: str
    jupyterhub: str
    student_repository: str
    student_branch: str
    hub_path: str


def _url(key, value):
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{key}={value!r} in site.cfg should be an http(s) address such as https://hub.example.org; "
                         "fix it in site/site.cfg.")
    return value.rstrip("/")


def load_config(path=None, *, course_root="."):
    """Read the site settings.

    Parameters
    ----------
    path : path-like, optional
        Default ``<course_root>/site/site.cfg``.
    course_root : path-like

    Returns
    -------
    SiteConfig

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When a setting is missing or an address is not an http(s) URL.
    """
    path = Path(path) if path is not None else Path(course_root) / "site" / "site.cfg"
    if not path.is_file():
        raise FileNotFoundError(f"no site configuration at {str(path)!r}; the course keeps it in site/site.cfg.")
    cfg = configparser.ConfigParser()
    cfg.read(path, encoding="utf-8")
    values = {}
    for section, keys in (("site", ("title", "author")),
                          ("launch", ("repository", "branch", "binder", "binder_path", "jupyterhub",
                                      "student_repository", "student_branch", "hub_path"))):
        for key in keys:
            if not cfg.has_option(section, key) or not cfg.get(section, key).strip():
                raise ValueError(f"site.cfg at {str(path)!r} has no setting {key!r} in section [{section}]; add it "
                                 "(see the comments in the course's site/site.cfg).")
            values[key] = cfg.get(section, key).strip()
    for key in ("repository", "binder", "jupyterhub", "student_repository"):
        values[key] = _url(key, values[key])
    for key in ("binder_path", "hub_path"):
        if "{name}" not in values[key]:
            raise ValueError(f"{key}={values[key]!r} in site.cfg should contain {{name}} (the tutorial's name).")
    return SiteConfig(**values)


def launch_links(config, name):
    """The Binder and JupyterHub (nbgitpuller) addresses that open tutorial ``name``.

    Parameters
    ----------
    config : SiteConfig
    name : str
        Tutorial folder name, e.g. ``"01_regression"``.

    Returns
    -------
    dict with keys "binder" and "jupyterhub"

    Examples
    --------
    >>> cfg = SiteConfig("t", "a", "https://github.com/o/course", "main", "https://mybinder.org",
    ...                  "student/{name}/{name}.ipynb", "https://hub.uni.edu", "https://github.com/o/course-student",
    ...                  "main", "{name}/{name}.ipynb")
    >>> launch_links(cfg, "01_regression")["binder"]
    'https://mybinder.org/v2/gh/o/course/main?urlpath=lab/tree/student/01_regression/01_regression.ipynb'
    >>> launch_links(cfg, "01_regression")["jupyterhub"]  # doctest: +ELLIPSIS
    'https://hub.uni.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fo%2Fcourse-student&branch=main&urlpath=lab%2Ftree%2Fcourse-student%2F01_regression%2F01_regression.ipynb'
    """
    if not re.fullmatch(r"\d\d_[A-Za-z0-9_]+", str(name)):
        raise ValueError(f"name={name!r} should be a tutorial folder name such as '01_regression'.")
    repo = urlparse(config.repository)
    binder_path = config.binder_path.format(name=name)
    if repo.netloc == "github.com":
        owner_repo = repo.path.strip("/").removesuffix(".git")
        binder = f"{config.binder}/v2/gh/{owner_repo}/{config.branch}?urlpath=lab/tree/{binder_path}"
    else:
        binder = (f"{config.binder}/v2/git/{quote(config.repository, safe='')}/{config.branch}"
                  f"?urlpath=lab/tree/{binder_path}")
    folder = urlparse(config.student_repository).path.strip("/").split("/")[-1].removesuffix(".git")
    urlpath = f"lab/tree/{folder}/{config.hub_path.format(name=name)}"
    hub = (f"{config.jupyterhub}/hub/user-redirect/git-pull?repo={quote(config.student_repository, safe='')}"
           f"&branch={quote(config.student_branch, safe='')}&urlpath={quote(urlpath, safe='')}")
    return {"binder": binder, "jupyterhub": hub}


def launch_html(config, name):
    """The launch buttons of a tutorial page, as an HTML block."""
    links = launch_links(config, name)
    return (f'<div class="ml4em-launch">'
            f'<a class="ml4em-binder" href="{html.escape(links["binder"])}">Launch on Binder</a>'
            f'<a class="ml4em-hub" href="{html.escape(links["jupyterhub"])}">Open on the course JupyterHub</a>'
            f'</div>')


def lecture_paths(course_root="."):
    """The lecture notebooks, ``lectures/*.ipynb``, sorted by name."""
    folder = Path(course_root) / "lectures"
    paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise FileNotFoundError(f"no lecture notebooks in {str(folder)!r}.")
    return paths


@contextmanager
def _environment(quick):
    keys = ("ML4EM_QUICK", "ML4EM_STATIC_WIDGETS", "TF_CPP_MIN_LOG_LEVEL")
    saved = {k: os.environ.get(k) for k in keys}
    if quick is not None:
        os.environ["ML4EM_QUICK"] = "1" if quick else "0"
    os.environ["ML4EM_STATIC_WIDGETS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_lecture(path, *, quick=None, timeout=600):
    """Run a lecture notebook top to bottom and return it with its outputs.

    The kernel runs in the lecture's folder with static widgets; messages that
    the libraries write to stderr (TensorFlow's start-up chatter) are dropped
    from the outputs.

    Parameters
    ----------
    path : path-like
    quick : bool, optional
        Force quick mode on (True) or off (False); default: as the environment says.
    timeout : int, seconds per cell

    Returns
    -------
    nbformat.NotebookNode

    Raises
    ------
    RuntimeError
        When a cell raises; the message names the cell and the error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    with _environment(quick):
        client = NotebookClient(nb, timeout=int(timeout), kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as err:
            raise RuntimeError(f"lecture {path.name} failed: {str(err)[-1500:]}") from err
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return nb


def _package_dir(module, sub, fix):
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        raise RuntimeError(f"the package {module!r} is needed to build the site offline; install the course with "
                           f"its site extra: {fix}") from err
    folder = Path(mod.__file__).parent / sub
    if not folder.is_dir():
        raise RuntimeError(f"{module} has no folder {sub!r}; reinstall it ({fix}).")
    return folder


_REVEAL_FILES = ("LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme/white.css",
                 "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js", "plugin/notes/speaker-view.html")


def _copy_reveal(dest):
    """Copy the parts of reveal.js the slides use (script, styles, white theme and its font, speaker notes)."""
    src = _package_dir("sphinx_revealjs", "_static/revealjs", 'pip install -e ".[site]"')
    for part in _REVEAL_FILES:
        s, d = src / part, Path(dest) / part
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.is_file():
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)


def _copy_mathjax(dest):
    src = _package_dir("jupyter_server_mathjax", "static", 'pip install -e ".[site]"')
    shutil.copytree(src, dest, dirs_exist_ok=True)


def write_slides(notebooks, out, *, course_root=".", mathjax_url=None):
    """Export executed lecture notebooks to reveal.js slides that work offline.

    Parameters
    ----------
    notebooks : dict of str to nbformat.NotebookNode
        Lecture name (file stem) to executed notebook.
    out : path-like
        Folder for ``<name>.slides.html``, ``index.html``, ``reveal.js/`` and (unless ``mathjax_url`` is given)
        ``mathjax/``.
    course_root : path-like
        Folder with ``site/slides_template``.
    mathjax_url : str, optional
        Address of an existing MathJax 2 ``MathJax.js`` relative to ``out``; default: copy MathJax into ``out``.

    Returns
    -------
    list of Path
        The slide files.
    """
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    template = Path(course_root).resolve() / "site" / "slides_template"
    if not (template / "index.html.j2").is_file():
        raise FileNotFoundError(f"no slide template in {str(template)!r}.")
    _copy_reveal(out / "reveal.js")
    if mathjax_url is None:
        _copy_mathjax(out / "mathjax")
        mathjax_url = f"mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    c = Config()
    c.SlidesExporter.extra_template_basedirs = [str(template.parent)]
    c.SlidesExporter.template_name = template.name
    c.SlidesExporter.reveal_url_prefix = "reveal.js"
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.reveal_width = str(SLIDE_SIZE[0])
    c.SlidesExporter.reveal_height = str(SLIDE_SIZE[1])
    c.SlidesExporter.mathjax_url = mathjax_url
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {"hide-input", "remove-input"}
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "notes-only"}
    exporter = SlidesExporter(config=c)
    written = []
    for name, nb in notebooks.items():
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
        path = out / f"{name}.slides.html"
        path.write_text(body, encoding="utf-8")
        written.append(path)
    items = "\n".join(f'<li><a href="{p.name}">{html.escape(_title(notebooks[p.name[:-12]]) or p.stem)}</a></li>'
                      for p in written)
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ml4em lecture slides</title></head>"
        f"<body><h1>Lecture slides</h1><ul>{items}</ul><p>Arrow keys move between slides; <kbd>s</kbd> opens the "
        "speaker notes, <kbd>Esc</kbd> the overview. Slides are 1280 × 720.</p></body></html>\n", encoding="utf-8")
    return written


def _title(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def student_versions(out, *, course_root="."):
    """Write the student versions of every tutorial that exists into ``out/NN_name/`` with nbgrader's API.

    Returns
    -------
    list of str
        The tutorials written (an empty list when the course has none yet).
    """
    from .grading import find_assignments
    from .student import generate_student_versions

    if not (Path(course_root) / "tutorials").is_dir() or not find_assignments(course_root):
        return []
    written, _ = generate_student_versions(out, course_root=course_root, overwrite=True)
    return written


def tutorial_secrets(course_root="."):
    """Every line that only the instructor versions of the tutorials hold (see :func:`ml4em.grading.secret_lines`)."""
    import nbformat

    from .grading import secret_lines

    secrets = set()
    for path in sorted((Path(course_root) / "tutorials").glob("*/*.ipynb")):
        if ".ipynb_checkpoints" not in path.parts:
            secrets |= secret_lines(nbformat.read(path, as_version=4))
    return secrets


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "pre", "h1", "h2", "h3", "h4"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(markup):
    """The text a reader sees in an HTML page (tags removed, entities decoded, scripts and styles dropped).

    Examples
    --------
    >>> html_text('<pre><span class="n">x</span> <span class="o">=</span> <span class="mi">1</span></pre>')
    '\\nx = 1'
    """
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def scan_for_leaks(folder, secrets):
    """Find solution or hidden-test text in any file of a built site.

    HTML files are read as the text a reader sees (syntax highlighting splits code into many tags), notebooks
    by their cell sources, other text files as they are.

    Parameters
    ----------
    folder : path-like
    secrets : set of str
        From :func:`tutorial_secrets`.

    Returns
    -------
    list of str
        ``"<file>: <what>"`` for each leak; empty when the site is clean.
    """
    import json

    leaks = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.suffix in (".png", ".jpg", ".svg", ".woff", ".woff2", ".ttf", ".eot", ".otf",
                                                 ".ico", ".gif", ".pickle", ".doctree", ".inv"):
            continue
        try:
            raw = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if path.suffix in (".html", ".htm"):
            text = html_text(raw)
        elif path.suffix == ".ipynb":
            try:
                text = "\n".join("".join(c.get("source", "")) for c in json.loads(raw).get("cells", []))
            except ValueError:
                text = raw
        else:
            text = raw
        lines = {ln.strip() for ln in text.splitlines()}
        rel = path.relative_to(folder)
        leaks += [f"{rel}: marker {m!r}" for m in _MARKERS if m in text]
        leaks += [f"{rel}: {s[:70]!r}" for s in sorted(secrets) if s in lines or (len(s) >= 20 and s in text)]
    return leaks


def _tutorial_page(config, name, nb_path):
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    buttons = (launch_html(config, name) + "\n\n*The student version of the tutorial, as handed out: open it on Binder "
               "or on the course's JupyterHub, answer the exercises and run the test cells.*\n")
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
             "The student versions of the tutorials, in the order of the course. Each page opens on Binder or on the "
             "course's JupyterHub; the lectures say which tutorial practises which idea.", ""]
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
        When a lecture fails, Sphinx fails, or the built site holds solution or hidden-test text.
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


if __name__ == "__main__":
    sys.exit(main())
