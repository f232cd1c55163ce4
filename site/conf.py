"""Sphinx configuration of the ml4em course website.

Built by ``make site`` (``python -m ml4em.site build``), which copies this folder, the executed lectures and the
student versions of the tutorials into a temporary source folder and runs Sphinx there; do not run sphinx-build on
this folder directly. Addresses (repository, Binder, JupyterHub) live in ``site.cfg`` beside this file.
"""

import configparser
from pathlib import Path

_cfg = configparser.ConfigParser()
_cfg.read(Path(__file__).with_name("site.cfg"), encoding="utf-8")

project = _cfg.get("site", "title")
author = _cfg.get("site", "author")
copyright = f"the ml4em course team; figures made by the ml4em package"  # noqa: A001

extensions = ["myst_nb"]
# The lectures arrive executed (ml4em.site runs them once, for the site and the slides);
# the student versions of the tutorials are shown as handed out, unexecuted.
nb_execution_mode = "off"
nb_render_markdown_format = "myst"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "slides_template", "site.cfg"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["ml4em.css"]
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
# MathJax 2.7 from the jupyter-server-mathjax package, copied into _static/mathjax by ml4em.site:
# the pages render formulas without a network connection.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# That copy ships the STIX-Web fonts only, so MathJax is told to use them.
# MyST-NB marks notebook pages "tex2jax_ignore" and the formulas "math": process those only.
mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                               "processEscapes": True, "ignoreClass": "tex2jax_ignore|mathjax_ignore",
                               "processClass": "math|output_area"},
                   "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None},
                   "SVG": {"font": "STIX-Web"}}
