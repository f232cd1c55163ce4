"""Build the course website and the lecture slides, offline, with one command each.

``python -m ml4em.site build [--out _site]`` (``make site``) writes a static website with

- both lectures (``lectures/*.ipynb``), executed once here, with their figures;
- the **student versions** of the tutorials that exist, made with nbgrader's API (never the instructor
  versions), each page with a Binder link and a JupyterHub (nbgitpuller) link built from ``site/site.cfg``;
- the assignment and the glossary (``lectures/assignment.md``, ``lectures/glossary.md``);
- the slides of both lectures (``slides/``).

After the build every file of the site is scanned for text that only the instructor versions hold (solution and
hidden-test lines), with the course's one leak scan, :mod:`ml4em.leaks`; a leak fails the build. In a graded course
(``mode = graded`` in ``site/site.cfg``) every launch link opens the student repository written by
``ml4em publish-student``, and a page that links to the full repository fails the build too.

``python -m ml4em.site slides [--out lectures/_build/slides]`` (``make slides``) writes one reveal.js HTML per
lecture. reveal.js (from the ``sphinx-revealjs`` package, MIT licence) and MathJax 2.7 (from
``jupyter-server-mathjax``, Apache-2.0 licence) are copied next to the HTML files, so the slides and the site work
without a network connection; nothing is fetched from a CDN when they are viewed.

Sphinx with MyST-NB renders the pages (``site/conf.py``); the packages are in the ``site`` extra of the course
(``pip install -e ".[site]"``).

Submodules:

- :mod:`ml4em.site.config`    ``site/site.cfg``, the course mode and the launch links (Binder, Colab, JupyterHub
  with nbgitpuller)
- :mod:`ml4em.site.lectures`  finding and executing the lectures
- :mod:`ml4em.site.slides`    reveal.js slides with local copies of reveal.js and MathJax
- :mod:`ml4em.site.build`     the student versions, the website itself and the command line
"""

from .build import build_site, links_to_full_repository, main, student_versions
from .config import MODES, SiteConfig, launch_html, launch_links, load_config, student_links
from .lectures import execute_lecture, lecture_paths
from .slides import write_slides

__all__ = ["MODES", "SiteConfig", "load_config", "launch_links", "student_links", "launch_html", "lecture_paths",
           "execute_lecture", "write_slides", "student_versions", "links_to_full_repository", "build_site", "main"]
