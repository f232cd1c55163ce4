"""From an answer cell to the normalised tokens that are fingerprinted.

Code cells
    IPython syntax (``%magic``, ``!shell``, ``x?``) is turned into Python by IPython's own
    ``TransformerManager().transform_cell`` when the cell does not parse as it is; a cell magic's header line
    (``%%time``) is dropped and its body read as Python. The cell is parsed with :mod:`ast` to learn which names
    it binds (assignments, parameters, ``def``/``class``, loop and comprehension targets, ``except ... as``,
    ``global``) and which import aliases it defines. It is then tokenised (with Pygments' lexer, which also
    reads broken code) and normalised:

    - every name the cell binds becomes ``V``, so renaming one's variables changes nothing;
    - names the cell uses but does not bind are kept: builtins (``len``, ``range``), the modules and names the
      tutorial provides (``np``, ``design_matrix``, ``x_cv``), and attribute names after a dot (``linalg``,
      ``lstsq``, ``T``, ``shape``). Independent solutions differ mostly in these (``np.vander`` against
      ``np.power.outer``), and a student cannot rename them without breaking the code;
    - import aliases are written out (``np`` -> ``numpy``, ``from numpy.linalg import pinv`` -> ``numpy . linalg
      . pinv``), from the cell's own imports and from those of the tutorial's cells;
    - every string literal becomes ``S``; docstrings, comments and all whitespace are dropped.

    A cell that does not parse even after the transformation falls back to tokens alone: every name that is not
    a builtin, a module path or an attribute becomes ``V``.

Markdown cells (written answers)
    Lower-case words.

Each token keeps the span of the characters it came from in the cell's source, to mark the matched regions.

Used in: :mod:`ml4em.similarity`.
"""

import ast
import bisect
import functools
import re
from dataclasses import dataclass

__all__ = ["Token", "code_tokens", "text_tokens", "imports", "PLACEHOLDER", "STRING"]

#: What a name bound in the cell becomes.
PLACEHOLDER = "V"
#: What a string literal becomes.
STRING = "S"


@dataclass(frozen=True)
class Token:
    """One normalised token and the characters ``source[start:end]`` of the cell it came from."""

    text: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


@functools.lru_cache(maxsize=1)
def _lexer():
    from pygments.lexers import PythonLexer

    return PythonLexer()


def _parse(code):
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # null bytes, absurd nesting
        return None


def _as_python(source):
    """The cell as Python, line for line where IPython allows (a cell magic's header becomes an empty line)."""
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        lines[first] = ""
    lead = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    code = "\n".join(lines[lead:])
    try:
        code = _transformer().transform_cell(code)
    except Exception:  # IPython refuses some broken input; the tokens alone will do
        pass
    return "\n" * lead + code  # IPython drops leading empty lines: put them back, to keep the line numbers


def _mapper(original, code):
    """A function from a span of ``code`` to the span of ``original`` it came from (whole lines where changed)."""
    if code == original:
        return lambda start, end: (start, end)
    o_lines, c_lines = original.split("\n"), code.split("\n")
    o_starts = [0]
    for line in o_lines[:-1]:
        o_starts.append(o_starts[-1] + len(line) + 1)
    c_starts = [0]
    for line in c_lines[:-1]:
        c_starts.append(c_starts[-1] + len(line) + 1)

    def to_original(start, end):
        line = bisect.bisect_right(c_starts, start) - 1
        if line >= len(o_lines):
            line = len(o_lines) - 1
        elif line < len(c_lines) and c_lines[line] == o_lines[line]:
            return o_starts[line] + start - c_starts[line], o_starts[line] + min(end - c_starts[line],
                                                                                   len(o_lines[line]))
        return o_starts[line], o_starts[line] + len(o_lines[line])

    return to_original


def _names(tree):
    """The names a parsed cell binds, its import aliases ({alias: dotted path}) and every dotted path it imports."""
    bound, aliases, imported = set(), {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname})
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if node.level or a.name == "*":
                    bound.add(a.asname or a.name)
                else:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                    imported.update((node.module, f"{node.module}.{a.name}"))
    return bound - set(aliases), aliases, imported


def _tree(source):
    """(code, tree): the cell as Python and its syntax tree (None when it does not parse)."""
    tree = _parse(source)
    if tree is not None:
        return source, tree
    code = _as_python(source)
    return code, _parse(code)


def imports(sources):
    """The imports of some cells: their aliases ``{alias: dotted path}`` and the set of dotted paths imported.

    Examples
    --------
    >>> aliases, imported = imports(["import numpy as np", "from numpy.linalg import pinv as inverse\\nx = 1"])
    >>> aliases, sorted(imported)
    ({'np': 'numpy', 'inverse': 'numpy.linalg.pinv'}, ['numpy', 'numpy.linalg', 'numpy.linalg.pinv'])
    """
    aliases, imported = {}, set()
    for source in sources:
        _, tree = _tree(source)
        if tree is not None:
            _, more, paths = _names(tree)
            aliases.update(more)
            imported |= paths
    return aliases, imported


def code_tokens(source, aliases=None):
    """The normalised tokens of a code cell (see the module's docstring).

    Parameters
    ----------
    source : str
        The cell's source, IPython syntax allowed.
    aliases : dict of str to str, optional
        Import aliases the cell may use without defining them (from the tutorial's cells).

    Returns
    -------
    list of Token

    Examples
    --------
    >>> [t.text for t in code_tokens("def f(x):\\n    '''Doc.'''\\n    y = np.asarray(x)  # note\\n    return len(y)",
    ...                              {"np": "numpy"})]
    ['def', 'V', '(', 'V', ')', ':', 'V', '=', 'numpy', '.', 'asarray', '(', 'V', ')', 'return', 'len', '(', 'V', ')']
    >>> [t.text for t in code_tokens("%timeit total = f(x, 'fast')")]
    ['get_ipython', '(', ')', '.', 'run_line_magic', '(', 'S', ',', 'S', ')']
    """
    from pygments.token import Comment, Name, String, Text

    code, tree = _tree(source)
    to_original = _mapper(source, code)
    bound, own, _ = _names(tree) if tree is not None else (None, {}, None)
    aliases = {**(aliases or {}), **own}
    tokens, previous, in_string = [], None, False
    for index, kind, value in _lexer().get_tokens_unprocessed(code):
        if not value.strip() or kind in Text or kind in Comment or kind in String.Doc:
            continue
        start, end = to_original(index, index + len(value))
        if kind in String:
            if in_string:  # one literal in several pieces (prefix, quotes, f-string parts, implicit concatenation)
                tokens[-1] = Token(STRING, tokens[-1].start, max(end, tokens[-1].end))
            else:
                tokens.append(Token(STRING, start, end))
            in_string, previous = True, STRING
            continue
        in_string = False
        text = value
        if kind in Name and previous != ".":
            if value in aliases:
                parts = [p for p in re.split(r"(\.)", aliases[value]) if p]
                tokens += [Token(part, start, end) for part in parts]
                previous = parts[-1]
                continue
            if (value in bound) if bound is not None else (kind not in Name.Builtin and kind not in Name.Namespace):
                text = PLACEHOLDER
        tokens.append(Token(text, start, end))
        previous = text
    return tokens


def text_tokens(source):
    """The lower-case words of a written (markdown) answer.

    Examples
    --------
    >>> [t.text for t in text_tokens("Ridge *shrinks* the Coefficients.")]
    ['ridge', 'shrinks', 'the', 'coefficients']
    """
    return [Token(m.group().lower(), m.start(), m.end()) for m in re.finditer(r"\w+", source)]
