"""Static analysis of a notebook's code cells for ``ml4em integrity``.

Cells are read in notebook order with one :class:`NotebookState`, so that import aliases made in one cell
(``from ml4em import regression as reg``) are known in the next. Each cell goes through IPython's input
transformer first, so magics and ``!shell`` lines parse; then :mod:`ast` finds what the cell refers to.

Used in: :mod:`ml4em.integrity`.
"""

import ast
import builtins
import re

from ._rules import (ATTRIBUTE_RULES, CODE_MAGICS, FILE_FUNCTIONS, HARMLESS_MAGICS, NAME_RULES, PATH_KEYWORDS,
                     SPECIAL_NAMES, TWO_PATHS, match_name, matches_any, outside_path)
from ._state import Hit, bound_names, in_package, parse_cell

__all__ = ["scan_cell"]

_BUILTINS = frozenset(dir(builtins))
_NAMESPACES = ("builtins.globals()", "builtins.vars()", "builtins.locals()")
_NAMESPACE_WRITERS = ("update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__")
_HARMLESS_STORES = ("pandas.options*", "matplotlib*rcParams*")
_MAGIC_CALLS = ("run_line_magic", "run_cell_magic", "system", "getoutput")
_OPTIONS = re.compile(r"^\s*((-[nrp]\s*\d+|-[tcqo])\s+)*")
_CHECK_NAMES = ("sealed", "CheckFailure")


def _local_names(node):
    """Names local to a function or class body, and the names it declares ``global``."""
    declared = {n for sub in ast.walk(node) if isinstance(sub, (ast.Global, ast.Nonlocal)) for n in sub.names}
    body = ast.Module(body=[ast.Expr(node.body)] if isinstance(node, ast.Lambda) else list(node.body),
                      type_ignores=[])
    names = bound_names(body, module_level=True)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        names.update(x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x is not None)
    return names - declared, declared


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) else None


class _Scope:
    def __init__(self, names, kind, declared=()):
        self.names = dict.fromkeys(names)
        self.kind = kind
        self.declared = set(declared)


class _Visitor(ast.NodeVisitor):
    def __init__(self, state, lines, report):
        self.state, self.lines, self.report = state, lines, report
        self.scopes, self.offset, self.hits = [], 0, {}

    # -- results -------------------------------------------------------------------------------------------------
    def hit(self, node, category, explanation):
        if not self.report:
            return
        line = getattr(node, "lineno", None)
        line = None if line is None else line + self.offset
        if (line, category) not in self.hits:
            text = self.lines[line - 1].strip() if line and 0 < line <= len(self.lines) else ""
            self.hits[(line, category)] = Hit(line, category, text[:160], explanation)

    def reference(self, qualname, node, *, imported=False):
        rule = match_name(qualname)
        if rule:
            self.hit(node, rule[0], f"uses `{qualname}`; this {rule[1]}")
        if not in_package(qualname):
            return
        answers = self.state.answers
        if answers.fallback:
            if imported:
                self.hit(node, "package-answers", f"imports `{qualname}` from the package, whose functions answer "
                         "exercises (ml4em.checks._own.package_answers is not available, so every import of ml4em "
                         "in an answer cell is listed)")
            return
        found = answers.find(qualname)
        if found and not self.state.graded(found[1]):
            self.hit(node, "package-answers", f"uses `{found[0]}`, the package's own answer to {found[1]}, before "
                     "the test cells of that exercise have run")

    # -- names and scopes ----------------------------------------------------------------------------------------
    def _scope_of(self, name):
        """The function, class or comprehension scope where ``name`` is found now; None for the notebook's."""
        for i, scope in enumerate(reversed(self.scopes)):
            if name in scope.declared:
                return None
            if scope.kind == "class" and i > 0:
                continue  # a class body's names are not visible inside its methods
            if name in scope.names:
                return scope
        return None

    def _binding_scope(self, name, *, walrus=False):
        """The scope that an assignment to ``name`` binds in now; None for the notebook's namespace."""
        scopes = [s for s in self.scopes if not (walrus and s.kind == "comprehension")]
        if not scopes or name in scopes[-1].declared:
            return None
        return scopes[-1]

    def lookup(self, name):
        scope = self._scope_of(name)
        if scope is not None:
            return scope.names[name]
        if name in self.state.aliases:
            return self.state.aliases[name]
        if name in SPECIAL_NAMES:
            return SPECIAL_NAMES[name]
        return f"builtins.{name}" if name in _BUILTINS else None

    def resolve(self, node):
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            first = _literal(node.args[0]) if node.args else None
            if func == "builtins.getattr" and len(node.args) >= 2 and isinstance(_literal(node.args[1]), str):
                base = self.resolve(node.args[0])
                return f"{base}.{node.args[1].value}" if base else None
            if func in ("builtins.__import__", "importlib.import_module") and isinstance(first, str):
                return first.split(".")[0] if func == "builtins.__import__" else first
            return f"{func}()" if func else None
        return None

    def is_notebook_name(self, name):
        return self._scope_of(name) is None

    def bind(self, name, value, node, *, deleted=False):
        scope = self._binding_scope(name, walrus=isinstance(node, ast.NamedExpr))
        if scope is not None:
            scope.names[name] = value
            return
        bound = name in self.state.aliases or name in _BUILTINS
        before = self.lookup(name)
        self.state.aliases[name] = value
        if deleted:
            self.state.aliases.pop(name, None)
        if value is not None and value == before:
            return  # the same import again
        verb = "deletes" if deleted else "rebinds"
        if name == "checks":
            self.hit(node, "checks", f"{verb} `checks`, the object whose checks the test cells call")
        elif name in _CHECK_NAMES:
            self.hit(node, "checks", f"{verb} `{name}`, part of the check machinery")
        elif bound and name in self.state.protected and self.state.pending(self.state.protected[name]):
            self.hit(node, "checks", f"{verb} `{name}`, which test cell {', '.join(self.state.protected[name])} "
                     "passes to its check")

    def assign(self, target, value, node):
        if isinstance(target, ast.Name):
            self.bind(target.id, value, node)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.assign(element, None, node)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, None, node)
        else:
            self.visit(target)
            self.store(target, node)

    def store(self, target, node, *, verb="changes"):
        """An attribute or item of something is set or deleted."""
        if isinstance(target, ast.Subscript):
            base = self.resolve(target.value)
            key = _literal(target.slice)
            if base in _NAMESPACES:
                self.hit(node, "builtins", f"writes into a namespace with `{base}[...]`, hiding the change from "
                         "the code that reads it")
                if key == "checks" or key in _CHECK_NAMES or key in self.state.protected:
                    self.hit(node, "checks", f"{verb} `{key}` through the namespace, a name the test cells use")
                return
            if base and base.endswith(".__dict__") and "(" not in base:
                return self.store_on(f"{base[:-len('.__dict__')]}.{key or '*'}", node, verb)
        elif isinstance(target, ast.Attribute):
            base = self.resolve(target.value)
            if base and "(" not in base:
                return self.store_on(f"{base}.{target.attr}", node, verb)
        root = target
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if isinstance(root, ast.Name) and self.is_notebook_name(root.id) and root.id in self.state.protected \
                and self.state.pending(self.state.protected[root.id]):
            self.hit(node, "checks", f"{verb} `{root.id}` in place, which test cell "
                     f"{', '.join(self.state.protected[root.id])} passes to its check")

    def store_on(self, qualname, node, verb="changes"):
        if qualname.startswith("ml4em.checks"):
            return self.hit(node, "checks", f"{verb} `{qualname}`, part of the check machinery")
        rule = match_name(qualname)
        if rule:
            return self.hit(node, rule[0], f"{verb} `{qualname}`; this {rule[1]}")
        if qualname.startswith("builtins."):
            return self.hit(node, "builtins", f"{verb} the built-in `{qualname[9:]}` for every later cell")
        if not matches_any(qualname, _HARMLESS_STORES):
            self.hit(node, "modules", f"{verb} `{qualname}` inside an imported module, for the test cells too")

    # -- statements ----------------------------------------------------------------------------------------------
    def visit_Import(self, node):
        for alias in node.names:
            self.imported(alias.name, node)
            bound = alias.asname or alias.name.split(".")[0]
            self.bind(bound, alias.name if alias.asname else bound, node)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        for alias in node.names:
            if node.level:
                self.bind(alias.asname or alias.name, None, node)
            elif alias.name == "*":
                self.star_import(module, node)
            else:
                self.imported(f"{module}.{alias.name}", node)
                self.bind(alias.asname or alias.name, f"{module}.{alias.name}", node)

    def imported(self, qualname, node):
        if qualname == "ml4em.checks" or qualname.startswith("ml4em.checks."):
            self.hit(node, "checks", f"imports `{qualname}`: an answer cell has no use for the check machinery")
        self.reference(qualname, node, imported=True)

    def star_import(self, module, node):
        if module == "ml4em.checks" or module.startswith("ml4em.checks."):
            return self.hit(node, "checks", f"imports everything from `{module}`, the check machinery")
        if in_package(module) or module == "ml4em":
            answers = self.state.answers
            if answers.fallback or any(not self.state.graded(ex) for _, ex in answers.under(module)):
                return self.hit(node, "package-answers", f"imports everything from `{module}`, the package's "
                                "answers included")
        rule = match_name(module) or next(((c, why) for c, patterns, _, why in NAME_RULES
                                           if any(p.startswith(module + ".") for p in patterns)), None)
        if rule:
            self.hit(node, rule[0], f"imports everything from `{module}`; this {rule[1]}")

    def visit_Assign(self, node):
        self.visit(node.value)
        value = self.resolve(node.value)
        for target in node.targets:
            self.assign(target, value if len(node.targets) == 1 else None, node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self.assign(node.target, self.resolve(node.value) if node.value is not None else None, node)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self.assign(node.target, None, node)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self.bind(node.target.id, self.resolve(node.value), node)

    def visit_Delete(self, node):
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.bind(target.id, None, node, deleted=True)
            else:
                self.visit(target)
                self.store(target, node, verb="deletes")

    def visit_For(self, node):
        self.visit(node.iter)
        self.assign(node.target, None, node)
        for stmt in (*node.body, *node.orelse):
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, None, node)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node):
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind(node.name, None, node)
        for stmt in node.body:
            self.visit(stmt)

    def _visit_body(self, node, kind):
        names, declared = _local_names(node)
        self.scopes.append(_Scope(names, kind, declared))
        try:
            for stmt in node.body if isinstance(node.body, list) else [node.body]:
                self.visit(stmt)
        finally:
            self.scopes.pop()

    def visit_FunctionDef(self, node):
        for expr in (*node.decorator_list, *node.args.defaults, *[d for d in node.args.kw_defaults if d]):
            self.visit(expr)
        self.bind(node.name, None, node)
        self._visit_body(node, "function")

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        for expr in (*node.decorator_list, *node.bases, *[k.value for k in node.keywords]):
            self.visit(expr)
        self.bind(node.name, None, node)
        self._visit_body(node, "class")

    def visit_Lambda(self, node):
        for expr in (*node.args.defaults, *[d for d in node.args.kw_defaults if d]):
            self.visit(expr)
        self._visit_body(node, "function")

    def _visit_comprehension(self, node):
        self.visit(node.generators[0].iter)
        targets = set()
        for gen in node.generators:
            targets |= bound_names(gen.target)
        self.scopes.append(_Scope(targets, "comprehension"))
        try:
            for i, gen in enumerate(node.generators):
                if i:
                    self.visit(gen.iter)
                for cond in gen.ifs:
                    self.visit(cond)
            for part in ("elt", "key", "value"):
                if getattr(node, part, None) is not None:
                    self.visit(getattr(node, part))
        finally:
            self.scopes.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension

    # -- expressions ---------------------------------------------------------------------------------------------
    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            qualname = self.lookup(node.id)
            if node.id in _CHECK_NAMES and qualname is None:
                self.hit(node, "checks", f"uses `{node.id}`, part of the check machinery")
            elif node.id == "checks" and qualname is None and self.is_notebook_name(node.id):
                self.hit(node, "checks", "uses `checks`, the object of a test cell's checks and of its score")
            if qualname:
                self.reference(qualname, node)

    def attribute_name(self, name, node):
        for category, (patterns, why) in ATTRIBUTE_RULES.items():
            if matches_any(name, patterns):
                self.hit(node, category, f"uses the attribute `{name}`; this {why}")

    def visit_Attribute(self, node):
        self.attribute_name(node.attr, node)
        if node.attr in ("register", "unregister") and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "events":
            self.hit(node, "ipython", "registers a callback on the IPython kernel's events, which run around "
                     "every cell, the test cells included")
        if isinstance(node.ctx, ast.Load):
            qualname = self.resolve(node)
            if qualname:
                self.reference(qualname, node)
        self.visit(node.value)

    def visit_Call(self, node):
        if self.generated_magic(node):
            return self.magic(node)
        func = self.resolve(node.func)
        args = node.args
        if func in ("builtins.setattr", "builtins.delattr") and args:
            name = _literal(args[1]) if len(args) > 1 else None
            self.attribute_name(name or "", node)
            target = ast.Attribute(value=args[0], attr=name or "*", ctx=ast.Store())
            self.store(target, node, verb="deletes" if func.endswith("delattr") else "changes")
        elif func == "builtins.getattr" and len(args) >= 2:
            name = _literal(args[1])
            if isinstance(name, str):
                self.attribute_name(name, node)
                qualname = self.resolve(node)
                if qualname:
                    self.reference(qualname, node)
            else:
                base = self.resolve(args[0]) or ""
                if in_package(base) and "(" not in base:
                    self.hit(node, "package-answers", f"reads a computed attribute of `{base}`, which may be one "
                             "of the package's answers")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in _NAMESPACE_WRITERS \
                and self.resolve(node.func.value) in _NAMESPACES:
            self.hit(node, "builtins", f"writes into a namespace with `{self.resolve(node.func.value)}"
                     f".{node.func.attr}`")
        self.paths(func, node)
        self.generic_visit(node)

    # -- files ---------------------------------------------------------------------------------------------------
    def visit_BinOp(self, node):
        if isinstance(node.op, ast.Div):  # pathlib's "/" joins paths: Path("data") / ".." / "x"
            for side in (node.left, node.right):
                text = _literal(side)
                why = outside_path(text, strict=False) if isinstance(text, str) else None
                if why:
                    self.hit(node, "files", f"joins the path {text!r}, which {why}")
        self.generic_visit(node)

    def path_problem(self, node):
        """Why the path expression may point outside the notebook's folder, or None."""
        text = _literal(node)
        if text is not None:
            return outside_path(text)
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            start = outside_path(first.value) if isinstance(first, ast.Constant) else None
            return start or "is built at run time (an f-string), so it could point anywhere"
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
            return self.path_problem(node.left) or self.path_problem(node.right)
        if isinstance(node, ast.Call):
            func = self.resolve(node.func) or ""
            if func == "os.path.join" or matches_any(func, ("pathlib.*Path",)):
                return next(filter(None, map(self.path_problem, node.args)), None) if node.args else None
        return "is not a literal string, so it could point anywhere"

    def paths(self, func, node):
        if func and matches_any(func, FILE_FUNCTIONS):
            count = None if matches_any(func, ("pathlib.*Path",)) else 2 if matches_any(func, TWO_PATHS) else 1
            candidates = list(node.args[:count])
            candidates += [k.value for k in node.keywords if k.arg in PATH_KEYWORDS]
            for arg in candidates:
                why = self.path_problem(arg)
                if why:
                    return self.hit(node, "files", f"calls `{func}` with a path that {why}")
            return
        for arg in (*node.args, *[k.value for k in node.keywords]):
            text = _literal(arg)
            why = outside_path(text, strict=False) if text is not None else None
            if why:
                return self.hit(node, "files", f"passes the path {text!r}, which {why}")

    # -- magics --------------------------------------------------------------------------------------------------
    def generated_magic(self, node):
        """True for the ``get_ipython().run_line_magic(...)`` calls that IPython's transformer writes."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in _MAGIC_CALLS and isinstance(func.value, ast.Call)
                and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython"):
            return False
        line = node.lineno + self.offset
        return not (0 < line <= len(self.lines) and "get_ipython" in self.lines[line - 1])

    def magic(self, node):
        kind = node.func.attr
        args = [_literal(a) or "" for a in node.args]
        if kind in ("system", "getoutput"):
            return self.hit(node, "ipython", f"runs the shell command `!{args[0] if args else ''}` on the grading "
                            "machine")
        name = args[0] if args else ""
        prefix = "%" if kind == "run_line_magic" else "%%"
        if name not in HARMLESS_MAGICS:
            return self.hit(node, "ipython", f"runs the magic `{prefix}{name}`, which acts on the kernel or the "
                            "machine outside Python")
        if name in CODE_MAGICS:
            line = node.lineno + self.offset
            self.inline(_OPTIONS.sub("", args[1] if len(args) > 1 else ""), line - 1, node, prefix + name)
            if kind == "run_cell_magic":  # the cell's body starts on the line after %%timeit
                self.inline(args[2] if len(args) > 2 else "", line, node, prefix + name)

    def inline(self, code, offset, node, magic):
        """Scan the code that a ``%time``/``%timeit`` magic runs, its lines counted from ``offset``."""
        if not code.strip():
            return
        tree, error = parse_cell(code)
        if tree is None:
            return self.hit(node, "ipython", f"the code run by `{magic}` cannot be parsed ({error[1]}), so it "
                            "could not be checked")
        saved, self.offset = self.offset, offset
        try:
            for stmt in tree.body:
                self.visit(stmt)
        finally:
            self.offset = saved


def scan_cell(source, state, *, report=True):
    """Scan one code cell; return its :class:`Hit` list (empty with ``report=False``, which only learns aliases).

    Examples
    --------
    >>> from ml4em.integrity._state import NotebookState
    >>> state = NotebookState()
    >>> scan_cell("import os", state, report=False)
    []
    >>> [(h.line, h.category) for h in scan_cell("x = 1\\nos.system('ls')", state)]
    [(2, 'process')]
    >>> scan_cell("import numpy as np\\ny = np.linalg.lstsq(np.eye(2), np.ones(2))", state)
    []
    """
    lines = source.splitlines()
    tree, error = parse_cell(source)
    if tree is None:
        if not report:
            return []
        line, message = error
        text = lines[line - 1].strip() if line and 0 < line <= len(lines) else ""
        return [Hit(line, "ipython", text[:160], f"the cell cannot be parsed ({message}), so it could not be "
                    "checked; usually an honest mistake, but read the cell")]
    visitor = _Visitor(state, lines, report)
    for stmt in tree.body:
        visitor.visit(stmt)
    return list(visitor.hits.values())
