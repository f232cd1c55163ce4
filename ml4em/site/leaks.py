"""What students may see: the student versions, and a scan of built files for instructor-only text.

Instructor-only text is any line found only inside the solution and hidden-test regions of a tutorial.
"""

from html.parser import HTMLParser
from pathlib import Path

__all__ = ["student_versions", "tutorial_secrets", "scan_for_leaks", "html_text"]


def student_versions(out, *, course_root="."):
    """Write the student versions of every tutorial that exists into ``out/NN_name/`` with nbgrader's API.

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


def tutorial_secrets(course_root="."):
    """Every line that only the instructor versions of the tutorials hold (see :func:`ml4em.grading.secret_lines`)."""
    import nbformat

    from ..grading import secret_lines

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


