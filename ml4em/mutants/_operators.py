"""The mutation operators: small, AST-based changes to the solution region of one answer cell.

mutmut and cosmic-ray mutate the files of an installed package and run a test command per mutant; an
answer cell of a tutorial is neither a file nor importable, and its tests are the next notebook cell, so
ml4em keeps its own small mutator. A mutant is the whole cell, parsed with :mod:`ast`, with one node
changed, written back with :func:`ast.unparse` (comments and the nbgrader markers are dropped; the code
is the same).
"""

import ast
import copy
import re
from dataclasses import dataclass

__all__ = ["Mutant", "make_mutants", "solution_lines"]

_BEGIN, _END = re.compile(r"^\s*#+\s*BEGIN SOLUTION"), re.compile(r"^\s*#+\s*END SOLUTION")

_SWAP_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
               ast.FloorDiv: ast.Div, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
_SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
             ast.NotEq: ast.Eq}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//",
           ast.BitAnd: "&", ast.BitOr: "|", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
           ast.Eq: "==", ast.NotEq: "!=", ast.And: "and", ast.Or: "or"}
_SWAP_REDUCE = {"sum": "mean", "mean": "sum"}
_SWAP_FLOAT = {0.0: (1.0, 2.0), 1.0: (0.0, 2.0), 2.0: (0.0, 1.0)}


@dataclass(frozen=True)
class Mutant:
    """One changed version of an answer cell.

    Attributes
    ----------
    source : str
        The whole mutated cell.
    description : str
        One line, with the line number in the cell: ``"line 3: `<` → `<=`"``.
    line : int
        Line of the change in the cell (1-based).
    operator : str
        The operator's name (``"binop"``, ``"compare"``, ``"constant"``, ``"drop-term"``, ``"reduce"``,
        ``"axis"``, ``"swap-args"``, ``"drop-keyword"``, ``"default-param"``, ``"return"``, ``"boolop"``,
        ``"drop-not"``).
    """

    source: str
    description: str
    line: int
    operator: str


def solution_lines(source):
    """Line numbers (1-based, in the cell) strictly between ``BEGIN SOLUTION`` and ``END SOLUTION``.

    Examples
    --------
    >>> sorted(solution_lines("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION\\n"))
    [3]
    """
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if _BEGIN.match(line):
            inside = True
        elif _END.match(line):
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _short(node, limit=48):
    text = ast.unparse(node)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _with(node, **fields):
    new = copy.copy(node)
    for key, value in fields.items():
        setattr(new, key, value)
    return new


def _binop(node, ctx):
    out = []
    swap = _SWAP_BINOP.get(type(node.op))
    if swap is not None:
        out.append(("binop", _with(node, op=swap()),
                    f"`{_SYMBOL[type(node.op)]}` → `{_SYMBOL[swap]}` in `{_short(node)}`"))
    if isinstance(node.op, (ast.Add, ast.Sub)):
        for kept in (node.left, node.right):
            out.append(("drop-term", kept, f"`{_short(node)}` → `{_short(kept)}`"))
    return out


def _compare(node, ctx):
    out = []
    for i, op in enumerate(node.ops):
        swap = _SWAP_CMP.get(type(op))
        if swap is not None:
            ops = list(node.ops)
            ops[i] = swap()
            out.append(("compare", _with(node, ops=ops), f"`{_SYMBOL[type(op)]}` → `{_SYMBOL[swap]}`"))
    return out


def _constant(node, ctx):
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    if isinstance(value, int):
        news = (value + 1, value - 1)
    elif value in _SWAP_FLOAT:
        news = _SWAP_FLOAT[value]
    elif not ctx.get("in_function") and value != 0.0:
        # a value answer (read from a figure, say): the neighbouring reading, 10% off either way
        news = tuple(float(f"{value * f:.4g}") for f in (1.1, 0.9))
    else:
        news = ()
    return [("constant", ast.Constant(new), f"`{value!r}` → `{new!r}`") for new in news]


def _call(node, ctx):
    out = []
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in _SWAP_REDUCE:
        new = _with(node, func=_with(func, attr=_SWAP_REDUCE[func.attr]))
        out.append(("reduce", new, f"`.{func.attr}` → `.{_SWAP_REDUCE[func.attr]}` in `{_short(node)}`"))
    for i, kw in enumerate(node.keywords):
        if kw.arg == "axis" and isinstance(kw.value, ast.Constant) and kw.value.value in (0, 1):
            other = 1 - kw.value.value
            keywords = list(node.keywords)
            keywords[i] = ast.keyword("axis", ast.Constant(other))
            out.append(("axis", _with(node, keywords=keywords), f"`axis={kw.value.value}` → `axis={other}`"))
    for i, kw in enumerate(node.keywords):
        if kw.arg is not None:
            keywords = node.keywords[:i] + node.keywords[i + 1:]
            out.append(("drop-keyword", _with(node, keywords=keywords),
                        f"`{kw.arg}=` removed from `{_short(node)}`"))
    args = node.args
    if not any(isinstance(a, ast.Starred) for a in args):
        for i in range(len(args) - 1):
            swapped = args[:i] + [args[i + 1], args[i]] + args[i + 2:]
            out.append(("swap-args", _with(node, args=swapped),
                        f"arguments {i + 1} and {i + 2} swapped in `{_short(node)}`"))
    return out


def _return(node, ctx):
    if node.value is None:
        return []
    out = [("return", ast.Return(ast.Constant(0)), f"`return {_short(node.value)}` → `return 0`"),
           ("return", ast.Return(ast.Constant(None)), f"`return {_short(node.value)}` → `return None`")]
    params = ctx.get("params") or []
    if params and ast.unparse(node.value) != params[0]:
        out.append(("return", ast.Return(ast.Name(params[0], ast.Load())),
                    f"`return {_short(node.value)}` → `return {params[0]}`"))
    return out


def _boolop(node, ctx):
    swap = ast.Or if isinstance(node.op, ast.And) else ast.And
    return [("boolop", _with(node, op=swap()), f"`{_SYMBOL[type(node.op)]}` → `{_SYMBOL[swap]}`")]


def _unary(node, ctx):
    if isinstance(node.op, (ast.Not, ast.Invert)):
        word = "not" if isinstance(node.op, ast.Not) else "~"
        return [("drop-not", node.operand, f"`{word}` dropped from `{_short(node)}`")]
    return []


_OPERATORS = {ast.BinOp: _binop, ast.Compare: _compare, ast.Constant: _constant, ast.Call: _call,
              ast.Return: _return, ast.BoolOp: _boolop, ast.UnaryOp: _unary}


def _parents(tree):
    """Every node's function (innermost ``def``) and its parent slot ``(parent, field, index)``."""
    slots, funcs = {}, {}

    def visit(node, func):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = node
        funcs[id(node)] = func
        for name, value in ast.iter_fields(node):
            items = value if isinstance(value, list) else [value]
            for i, child in enumerate(items):
                if isinstance(child, ast.AST):
                    slots[id(child)] = (node, name, i if isinstance(value, list) else None)
                    visit(child, func)

    visit(tree, None)
    return slots, funcs


def _replace(slot, new):
    parent, name, index = slot
    if index is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[index] = new


def _default_params(tree, lines):
    """Mutations that set a parameter with a default to that default at the start of the solution region."""
    out = []
    for i, func in enumerate(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        at = next((k for k, stmt in enumerate(func.body) if stmt.lineno in lines), None)
        if at is None:
            continue
        positional = func.args.posonlyargs + func.args.args
        pairs = list(zip(positional[len(positional) - len(func.args.defaults):], func.args.defaults))
        pairs += [(a, d) for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults) if d is not None]
        for arg, default in pairs:
            out.append((i, at, arg.arg, default))
    return out


def make_mutants(source):
    """All mutants of the solution region of an answer cell, in source order, without duplicates.

    Parameters
    ----------
    source : str
        The instructor's answer cell, with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines.

    Returns
    -------
    list of Mutant
        None equal to the original code; each one parses.

    Raises
    ------
    SyntaxError
        When the cell is not plain Python (an IPython magic, say).

    Examples
    --------
    >>> cell = "def f(x):\\n    ### BEGIN SOLUTION\\n    return x < 1\\n    ### END SOLUTION\\n"
    >>> for mutant in make_mutants(cell):
    ...     print(mutant.description)
    line 3: `return x < 1` → `return 0`
    line 3: `return x < 1` → `return None`
    line 3: `return x < 1` → `return x`
    line 3: `<` → `<=`
    line 3: `1` → `2`
    line 3: `1` → `0`
    """
    tree = ast.parse(source)
    lines = solution_lines(source)
    seen = {ast.dump(tree)}
    mutants = []
    funcs = _parents(tree)[1]

    def add(mutated, line, operator, text):
        dump = ast.dump(mutated)
        if dump not in seen:
            seen.add(dump)
            mutants.append(Mutant(ast.unparse(mutated), f"line {line}: {text}", line, operator))

    for i, at, name, default in _default_params(tree, lines):
        mutated = copy.deepcopy(tree)
        func = [n for n in ast.walk(mutated) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))][i]
        line = func.body[at].lineno
        func.body.insert(at, ast.Assign([ast.Name(name, ast.Store())], copy.deepcopy(default), lineno=line))
        add(ast.fix_missing_locations(mutated), line, "default-param",
            f"parameter `{name}` ignored (set to its default `{ast.unparse(default)}`)")
    for index, node in enumerate(ast.walk(tree)):
        operator = _OPERATORS.get(type(node))
        if operator is None or getattr(node, "lineno", None) not in lines:
            continue
        func = funcs.get(id(node))
        params = [a.arg for a in (func.args.posonlyargs + func.args.args)] if func else []
        for name, replacement, text in operator(node, {"params": params, "in_function": func is not None}):
            mutated = copy.deepcopy(tree)
            target = list(ast.walk(mutated))[index]
            _replace(_parents(mutated)[0][id(target)], copy.deepcopy(replacement))
            add(ast.fix_missing_locations(mutated), node.lineno, name, text)
    return sorted(mutants, key=lambda m: m.line)
