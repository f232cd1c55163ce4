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

Submodules:

- :mod:`ml4em.site.config`    ``site/site.cfg`` and the launch links (Binder, JupyterHub with nbgitpuller)
- :mod:`ml4em.site.lectures`  finding and executing the lectures
- :mod:`ml4em.site.slides`    reveal.js slides with local copies of reveal.js and MathJax
- :mod:`ml4em.site.leaks`     the student versions, and the scan for instructor-only text
- :mod:`ml4em.site.build`     the website itself and the command line
"""

from .build import build_site, main
from .config import SiteConfig, launch_html, launch_links, load_config
from .leaks import html_text, scan_for_leaks, student_versions, tutorial_secrets
from .lectures import execute_lecture, lecture_paths
from .slides import write_slides

__all__ = ["SiteConfig", "load_config", "launch_links", "launch_html", "lecture_paths", "execute_lecture",
           "write_slides", "student_versions", "tutorial_secrets", "scan_for_leaks", "html_text", "build_site", "main"]
