"""The site's configuration (``site/site.cfg``) and the launch links of a tutorial page.

The repository, its branch, the Binder service and the JupyterHub address are settings of the file, so a
course that runs on its own hub changes one line.
"""

import configparser
import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

__all__ = ["SiteConfig", "load_config", "launch_links", "launch_html"]


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


