"""The site's configuration (``site/site.cfg``) and the launch links of a tutorial page.

The repository, its branch, the Binder service and the JupyterHub address are settings of the file, so a
course that runs on its own hub changes one line.

The setting ``mode`` says who the links serve:

- ``self-study`` (the default): Binder opens the full course repository, whose ``postBuild`` writes the student
  versions into ``student/``; the repository also holds the instructor versions, so the Binder button says that
  it includes the solutions. The JupyterHub link clones the student repository with nbgitpuller, and the Colab
  link (when the student repository is on GitHub) opens the student version there.
- ``graded``: every launch link (Binder, Colab, JupyterHub) opens the **student repository** that
  ``ml4em publish-student`` writes (:mod:`ml4em.publish`); no page links to the full repository, which holds every
  solution and hidden test.
"""

import configparser
import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

__all__ = ["MODES", "SiteConfig", "load_config", "launch_links", "student_links", "launch_html"]

#: The values of the setting ``mode``: who the launch links serve.
MODES = ("self-study", "graded")
COLAB = "https://colab.research.google.com"
_LABELS = {"binder": "Launch on Binder", "colab": "Open in Colab", "jupyterhub": "Open on the course JupyterHub"}
_SELF_STUDY_BINDER = "Open on Binder (self-study: this repository includes the solutions)"
_CLASSES = {"binder": "ml4em-binder", "colab": "ml4em-colab", "jupyterhub": "ml4em-hub"}


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
    mode : {"self-study", "graded"}
        Who the launch links serve (see :mod:`ml4em.site.config`); default ``"self-study"``.
    package : str
        The pip requirement that installs ml4em in the student repository (Binder, Colab, a student's computer);
        empty: from ``repository`` at ``branch`` (see :attr:`requirement`).
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
    mode: str = "self-study"
    package: str = ""

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode={self.mode!r} in site.cfg should be one of {list(MODES)}: 'self-study' (Binder "
                             "opens the full repository, solutions included) or 'graded' (every link opens the "
                             "student repository); fix it in section [launch] of site/site.cfg.")

    @property
    def requirement(self):
        """The pip requirement of ml4em for the student repository: ``package``, or ml4em from ``repository``."""
        return self.package or f"ml4em @ git+{self.repository}@{self.branch}"


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
        When a setting is missing, an address is not an http(s) URL or ``mode`` is not one of :data:`MODES`.
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
    values["mode"] = cfg.get("launch", "mode", fallback="self-study").strip() or "self-study"
    values["package"] = cfg.get("launch", "package", fallback="").strip()
    return SiteConfig(**values)


def _check_name(name):
    if not re.fullmatch(r"\d\d_[A-Za-z0-9_]+", str(name)):
        raise ValueError(f"name={name!r} should be a tutorial folder name such as '01_regression'.")


def _github(repository):
    """``owner/name`` of a GitHub repository address, or None for another host."""
    parsed = urlparse(repository)
    return parsed.path.strip("/").removesuffix(".git") if parsed.netloc == "github.com" else None


def _binder_url(config, repository, branch, path):
    owner_repo = _github(repository)
    spec = f"gh/{owner_repo}" if owner_repo else f"git/{quote(repository, safe='')}"
    return f"{config.binder}/v2/{spec}/{branch}?urlpath=lab/tree/{path}"


def student_links(config, name):
    """The addresses that open tutorial ``name`` of the student repository, whatever the ``mode``.

    Parameters
    ----------
    config : SiteConfig
    name : str
        Tutorial folder name, e.g. ``"01_regression"``.

    Returns
    -------
    dict
        ``"binder"`` (a Binder session of the student repository), ``"jupyterhub"`` (nbgitpuller clones the student
        repository into the student's home folder on the course's hub) and, when the student repository is on
        GitHub, ``"colab"``.

    Examples
    --------
    >>> cfg = SiteConfig("t", "a", "https://github.com/o/course", "main", "https://mybinder.org",
    ...                  "student/{name}/{name}.ipynb", "https://hub.uni.edu", "https://github.com/o/course-student",
    ...                  "main", "{name}/{name}.ipynb", mode="graded")
    >>> student_links(cfg, "01_regression")["binder"]
    'https://mybinder.org/v2/gh/o/course-student/main?urlpath=lab/tree/01_regression/01_regression.ipynb'
    >>> student_links(cfg, "01_regression")["colab"]
    'https://colab.research.google.com/github/o/course-student/blob/main/01_regression/01_regression.ipynb'
    """
    _check_name(name)
    path = config.hub_path.format(name=name)
    folder = urlparse(config.student_repository).path.strip("/").split("/")[-1].removesuffix(".git")
    urlpath = f"lab/tree/{folder}/{path}"
    links = {"binder": _binder_url(config, config.student_repository, config.student_branch, path)}
    owner_repo = _github(config.student_repository)
    if owner_repo:
        links["colab"] = f"{COLAB}/github/{owner_repo}/blob/{config.student_branch}/{path}"
    links["jupyterhub"] = (f"{config.jupyterhub}/hub/user-redirect/git-pull?repo="
                           f"{quote(config.student_repository, safe='')}&branch={quote(config.student_branch, safe='')}"
                           f"&urlpath={quote(urlpath, safe='')}")
    return links


def launch_links(config, name):
    """The addresses that the site's buttons use to open tutorial ``name`` (arguments as in :func:`student_links`).

    With ``config.mode == "graded"`` they are :func:`student_links`, nothing else. With ``"self-study"``,
    ``"binder"`` opens the full course repository (its ``postBuild`` writes ``student/``); ``"jupyterhub"`` clones
    the student repository and ``"colab"`` opens the student version, never the instructor version of
    ``tutorials/``, as in :func:`student_links`.

    Examples
    --------
    >>> cfg = SiteConfig("t", "a", "https://gitlab.uni.edu/o/course", "main", "https://mybinder.org",
    ...                  "student/{name}/{name}.ipynb", "https://hub.uni.edu", "https://github.com/o/course-student",
    ...                  "main", "{name}/{name}.ipynb")
    >>> launch_links(cfg, "01_regression")["binder"]
    'https://mybinder.org/v2/git/https%3A%2F%2Fgitlab.uni.edu%2Fo%2Fcourse/main?urlpath=lab/tree/student/01_regression/01_regression.ipynb'
    >>> launch_links(cfg, "01_regression")["colab"]
    'https://colab.research.google.com/github/o/course-student/blob/main/01_regression/01_regression.ipynb'
    >>> launch_links(cfg, "01_regression")["jupyterhub"]
    'https://hub.uni.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fo%2Fcourse-student&branch=main&urlpath=lab%2Ftree%2Fcourse-student%2F01_regression%2F01_regression.ipynb'
    """
    links = student_links(config, name)
    if config.mode == "graded":
        return links
    return {"binder": _binder_url(config, config.repository, config.branch, config.binder_path.format(name=name)),
            **{key: url for key, url in links.items() if key != "binder"}}


def launch_html(config, name):
    """The launch buttons of a tutorial page, as an HTML block (one ``<a>`` per link of :func:`launch_links`).

    In self-study mode the Binder button says that the repository it opens includes the solutions.
    """
    labels = dict(_LABELS, binder=_SELF_STUDY_BINDER) if config.mode == "self-study" else _LABELS
    buttons = "".join(f'<a class="{_CLASSES[key]}" href="{html.escape(url)}">{html.escape(labels[key])}</a>'
                      for key, url in launch_links(config, name).items())
    return f'<div class="ml4em-launch">{buttons}</div>'
