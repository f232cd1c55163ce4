"""The setup cell that lets a tutorial run on Google Colab.

Every tutorial's first code cell is the same few lines: where ml4em can be imported (the course's JupyterHub,
Binder, a clone of the course, the grading sandbox) it does nothing; on Colab, where ml4em is not installed yet,
it installs ml4em with pip (the requirement of ``site/site.cfg``, :attr:`ml4em.site.config.SiteConfig.requirement`)
and keeps the course data in :data:`COLAB_DATA_DIR`, where ml4em downloads them on first use. The cell holds the
install itself, because on Colab it runs before ml4em exists; this module only writes it, so that a test can keep
it identical in every tutorial.

Used in: every tutorial (its first code cell) and docs/student.md.
"""

__all__ = ["COLAB_DATA_DIR", "SETUP_MARKER", "setup_cell_source", "is_setup_cell", "add_setup_cell"]

#: Where the setup cell keeps the course data on a Colab machine (``ML4EM_DATA_DIR``).
COLAB_DATA_DIR = "/content/ml4em-data"
#: The first line of the setup cell, by which :func:`is_setup_cell` knows it.
SETUP_MARKER = "# Colab setup:"


def setup_cell_source(config):
    """The source of the setup cell for the course of ``config``.

    Parameters
    ----------
    config : SiteConfig
        The site settings (:func:`ml4em.site.config.load_config`); the cell installs ``config.requirement``.

    Returns
    -------
    str
        Python with one IPython line magic (``%pip``), which runs only where ``import ml4em`` fails.

    Raises
    ------
    TypeError
        When ``config`` is not a :class:`~ml4em.site.config.SiteConfig`.
    ValueError
        When the requirement holds a double quote or a brace, which the ``%pip`` line cannot carry.

    Examples
    --------
    >>> from ml4em.site.config import SiteConfig
    >>> cfg = SiteConfig("t", "a", "https://github.com/o/course", "main", "https://mybinder.org",
    ...                  "student/{name}/{name}.ipynb", "https://hub.uni.edu", "https://github.com/o/course-student",
    ...                  "main", "{name}/{name}.ipynb")
    >>> print(setup_cell_source(cfg).splitlines()[-3])
        %pip install -q "ml4em @ git+https://github.com/o/course@main"
    """
    from .site.config import SiteConfig

    if not isinstance(config, SiteConfig):
        raise TypeError(f"config should be a SiteConfig (ml4em.site.config.load_config()); got "
                        f"{type(config).__name__}.")
    requirement = config.requirement
    if any(char in requirement for char in '"{}$'):
        raise ValueError(f"the requirement {requirement!r} (setting 'package' of site/site.cfg) holds a character "
                         "that a %pip line cannot carry (\", {, } or $); write it without one.")
    return "\n".join([
        f"{SETUP_MARKER} on Google Colab this installs ml4em and keeps the course data in {COLAB_DATA_DIR}",
        "# (downloaded on first use). Where ml4em is installed (JupyterHub, Binder, your computer) it does nothing.",
        "try:",
        "    import ml4em",
        "except ImportError:",
        f'    %pip install -q "{requirement}"',
        "    import os",
        f'    os.environ.setdefault("ML4EM_DATA_DIR", "{COLAB_DATA_DIR}")',
    ])


def is_setup_cell(cell):
    """True when notebook cell ``cell`` (an nbformat cell) is a setup cell, whatever its requirement."""
    return cell.get("cell_type") == "code" and cell.get("source", "").startswith(SETUP_MARKER)


def add_setup_cell(nb, config):
    """Make the setup cell of ``config`` the first code cell of notebook ``nb``, in place.

    A setup cell already there is rewritten; otherwise a new cell, with no outputs and no nbgrader metadata (the
    student version locks it like every cell that is not an exercise), goes before the first code cell.

    Parameters
    ----------
    nb : nbformat.NotebookNode
    config : SiteConfig

    Returns
    -------
    nbformat.NotebookNode
        ``nb`` itself.
    """
    import nbformat

    source = setup_cell_source(config)
    codes = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    if codes and is_setup_cell(nb.cells[codes[0]]):
        nb.cells[codes[0]].source = source
    else:
        nb.cells.insert(codes[0] if codes else len(nb.cells), nbformat.v4.new_code_cell(source))
    return nb
