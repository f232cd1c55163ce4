"""reveal.js slides of the lectures at 1280 x 720, with reveal.js and MathJax beside them for offline use."""

import html
import shutil
from pathlib import Path

from .lectures import _title

__all__ = ["write_slides"]

MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
SLIDE_SIZE = (1280, 720)


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


