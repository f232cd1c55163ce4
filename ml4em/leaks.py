"""The one scan for instructor-only text: solution and hidden-test lines found where students can read them.

An instructor notebook marks what students must never see: the lines between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` (or a whole solution cell without markers) and those between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``. :func:`secret_lines` collects them, :func:`tutorial_secrets` does so for the tutorials of
a course, and :func:`scan_for_leaks` looks for them, and for the markers themselves, in a folder or a file:

- notebooks by their cell sources **and** their outputs (an autograded or feedback notebook carries outputs, and a
  traceback quotes the line of a hidden test that failed);
- HTML as the text a reader sees (:func:`html_text`: tags removed, entities decoded), so that syntax highlighting,
  which splits a line of code into many tags, hides nothing; nbgrader's feedback HTML is such a file;
- every other text file as it is; binary files (images, fonts, databases) are skipped.

Used by: ``ml4em grade-check`` (:mod:`ml4em.grading`), the course website (:mod:`ml4em.site.build`) and
``ml4em publish-student`` (:mod:`ml4em.publish`).
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["MARKERS", "MIN_SECRET", "secret_lines", "tutorial_secrets", "html_text", "readable_text",
           "scan_for_leaks"]

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
#: The nbgrader region markers; any of them in a student-facing file is a leak by itself.
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
#: Shorter secret lines ("pass", "x = 1") are too common to count as leaks.
MIN_SECRET = 6
#: A secret line this long counts even inside a longer line (shorter ones must be a whole line).
_MIN_SUBSTRING = 20
# Suffixes that are never text: skipped without being read (a NUL byte or bad UTF-8 skips the rest).
_BINARY = frozenset((".png", ".jpg", ".jpeg", ".gif", ".ico", ".webp", ".pdf", ".svgz", ".woff", ".woff2", ".ttf",
                     ".eot", ".otf", ".pickle", ".doctree", ".inv", ".db", ".sqlite", ".npz", ".npy", ".h5", ".hdf5",
                     ".hspy", ".dm3", ".dm4", ".zip", ".gz", ".bz2", ".xz", ".pyc"))
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# IPython quotes source lines in a traceback as "----> 3 line" or "      2 line".
_TRACEBACK_PREFIX = re.compile(r"^[ \t]*(?:-*>)?[ \t]*\d+[ \t]", re.M)


def _region_lines(text, begin, end):
    """Lines strictly between ``begin`` and ``end`` marker lines of ``text``."""
    inside, found = False, []
    for line in text.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            found.append(line)
    return found


def secret_lines(notebook):
    """Lines of an instructor notebook that must never reach students.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        An instructor version (nbgrader cell metadata, solution and hidden-test regions).

    Returns
    -------
    set of str
        Stripped lines from solution and hidden-test regions (whole solution cells without markers), of at least
        :data:`MIN_SECRET` characters, that do not also appear outside those regions (not even inside a longer
        line): a line that the instructions themselves show is no secret.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell("def double(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION")
    >>> sorted(secret_lines(new_notebook(cells=[cell])))
    ['return 2 * x']
    """
    secret, public_text = set(), []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        text = cell.source
        regions = _region_lines(text, BEGIN_HIDDEN, END_HIDDEN) + _region_lines(text, BEGIN_SOLUTION, END_SOLUTION)
        if meta.get("solution") and BEGIN_SOLUTION not in text:
            regions = text.splitlines()  # nbgrader replaces the whole cell
        regions = {ln.strip() for ln in regions}
        secret |= regions
        public_text.append("\n".join(ln for ln in text.splitlines() if ln.strip() not in regions))
    public_text = "\n".join(public_text)
    return {ln for ln in secret
            if len(ln) >= MIN_SECRET and ln not in public_text and not any(m in ln for m in MARKERS)}


def tutorial_secrets(course_root=".", assignments=None):
    """Every secret line of the instructor versions of a course's tutorials.

    Parameters
    ----------
    course_root : path-like, default "."
        Folder with ``tutorials/NN_name/``.
    assignments : list of str, optional
        Tutorial folder names (``"01_regression"``); default every tutorial. Every notebook of a tutorial's folder
        counts.

    Returns
    -------
    set of str
        The union of :func:`secret_lines` over those notebooks.

    Raises
    ------
    FileNotFoundError
        When ``course_root`` holds no ``tutorials/`` folder.
    ValueError
        When an assignment has no folder in ``tutorials/``.
    """
    import nbformat

    source = Path(course_root) / "tutorials"
    if not source.is_dir():
        raise FileNotFoundError(f"no tutorials/ folder in course_root={str(course_root)!r}; run from the course root "
                                "or pass --course-root.")
    if assignments is None:
        folders = sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    else:
        folders = [source / name for name in assignments]
        missing = [f.name for f in folders if not f.is_dir()]
        if missing:
            raise ValueError(f"assignments={missing} have no folder in {str(source)!r}; give tutorial folder names "
                             "such as '01_regression'.")
    secrets = set()
    for folder in folders:
        for path in sorted(folder.glob("*.ipynb")):
            secrets |= secret_lines(nbformat.read(path, as_version=4))
    return secrets


_BLOCKS = frozenset(("br", "p", "div", "li", "tr", "td", "th", "pre", "table", "ul", "ol", "section", "article",
                     "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"))


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(markup):
    """The text a reader sees in an HTML page: tags removed, entities decoded, scripts and styles dropped.

    Block elements (paragraphs, list items, table cells, ``<pre>``) start and end a line.

    Parameters
    ----------
    markup : str

    Returns
    -------
    str

    Examples
    --------
    >>> html_text('<pre><span class="n">x</span> <span class="o">&gt;</span> <span class="mi">1</span></pre>')
    '\\nx > 1\\n'
    """
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _join(source):
    return "".join(source) if isinstance(source, list) else str(source or "")


def _output_text(output):
    """The text of one notebook output: streams, text-like data, and errors with their tracebacks."""
    parts = [_join(output.get("text", ""))]
    for mime, value in (output.get("data") or {}).items():
        if mime.startswith("image/") or not isinstance(value, (str, list)):
            continue
        parts.append(html_text(_join(value)) if mime == "text/html" else _join(value))
    if output.get("output_type") == "error":
        trace = _ANSI.sub("", "\n".join([f"{output.get('ename', '')}: {output.get('evalue', '')}"]
                                        + list(output.get("traceback", []))))
        parts += [trace, _TRACEBACK_PREFIX.sub("", trace)]
    return "\n".join(parts)


def _notebook_text(raw):
    try:
        nb = json.loads(raw)
    except ValueError:
        return raw  # not a valid notebook: read it as it is
    parts = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        parts.append(_join(cell.get("source", "")))
        parts += [_output_text(out) for out in cell.get("outputs", [])]
    return "\n".join(parts)


def readable_text(path):
    """The text a reader finds in a file, as :func:`scan_for_leaks` reads it.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str or None
        Cell sources and outputs of a notebook, the visible text of HTML, any other text file as it is; None for
        a binary file (a known binary suffix, a NUL byte, or bytes that are not UTF-8).
    """
    path = Path(path)
    if path.suffix.lower() in _BINARY:
        return None
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix.lower() in (".html", ".htm"):
        return html_text(text)
    if path.suffix.lower() == ".ipynb":
        return _notebook_text(text)
    return text


def scan_for_leaks(folder, secrets):
    """Find solution or hidden-test text in a file or in any file below a folder.

    Parameters
    ----------
    folder : path-like
        A folder (scanned recursively) or a single file.
    secrets : set of str
        Lines that must not appear, from :func:`tutorial_secrets` or :func:`secret_lines`. A secret counts when it
        is a whole (stripped) line of the file's text, or, if it has at least 20 characters, anywhere in it.

    Returns
    -------
    list of str
        ``"<file>: <what>"`` for each leak, the file relative to ``folder`` (its name for a single file), the
        secret cut to 70 characters or ``marker '<marker>'``; empty when nothing leaks.

    Raises
    ------
    FileNotFoundError
        When ``folder`` does not exist.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "page.html").write_text('<pre><span class="k">return</span> 2 * x</pre>')
    >>> scan_for_leaks(folder, {"return 2 * x"})
    ["page.html: 'return 2 * x'"]
    >>> scan_for_leaks(folder, {"return 3 * x"})
    []
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder={str(folder)!r} does not exist; give the folder or file to scan.")
    paths = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    ordered = sorted(secrets)
    leaks = []
    for path in paths:
        text = readable_text(path)
        if text is None:
            continue
        rel = path.name if path == folder else path.relative_to(folder).as_posix()
        lines = {ln.strip() for ln in text.splitlines()}
        leaks += [f"{rel}: marker {m!r}" for m in MARKERS if m in text]
        leaks += [f"{rel}: {s[:70]!r}" for s in ordered if s in lines or (len(s) >= _MIN_SUBSTRING and s in text)]
    return leaks
