"""The grader's probe inside a student's kernel: is all of the grading machinery still the installed code?

Before each cell the grader evaluates :func:`probe` in the kernel (as a *user expression*, which no input or AST
transformer sees). It looks at everything a test cell relies on:

- every value of ``builtins``;
- every module of ml4em and the core modules the checks use (numpy, math, warnings, importlib, ...): the module
  object in ``sys.modules`` itself, its functions and classes, and the methods of those classes;
- the import system (``sys.meta_path``, ``sys.path_hooks``), trace and profile functions, ``sys`` hooks;
- IPython's input and AST transformers, event callbacks, magics, custom exception handler, and the shell's and
  kernel's own attributes.

Each must be built-in or come from a file of the Python installation, its site-packages or the ml4em package.
Code written in a notebook cell (or in a file the student wrote) is *foreign*: the probe reports it with the
execution count of the cell that defined it, so the grader can blank exactly that answer and grade the rest.

Used by: :class:`ml4em.sandbox.execute.SandboxedExecute`.
"""

import builtins
import functools
import json
import os
import site
import sys
import types

__all__ = ["probe", "code_file", "is_installed"]

_CORE = ("numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.testing", "math", "cmath", "warnings",
         "importlib", "importlib.util", "importlib.machinery", "functools", "contextlib", "types", "inspect", "io",
         "json", "hashlib", "copy", "traceback", "operator", "itertools", "unittest", "sys", "os", "gc")
_SYS_HOOKS = ("excepthook", "displayhook", "breakpointhook", "unraisablehook", "stdout", "stderr", "stdin")
_MAX_FINDINGS = 20


@functools.lru_cache(maxsize=1)
def _installed_roots():
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages(),
             os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    return tuple(sorted({os.path.realpath(r) + os.sep for r in roots if r}))


@functools.lru_cache(maxsize=4096)
def is_installed(filename):
    """True when ``filename`` (a code object's ``co_filename``) is a file of the installation or generated code."""
    if filename.startswith("<frozen") or filename in ("<string>", "<__array_function__ internals>"):
        return True
    return os.path.realpath(filename).startswith(_installed_roots())


def code_file(obj):
    """The file that the Python code behind ``obj`` was compiled from, or None when it has none (built-ins).

    Functions, methods, partials, classes (their methods, or ``__main__`` for a class defined in a notebook),
    modules, and other callables (their type).
    """
    if isinstance(obj, types.FunctionType):
        return obj.__code__.co_filename
    if isinstance(obj, types.MethodType):
        return code_file(obj.__func__)
    if isinstance(obj, functools.partial):
        return code_file(obj.func)
    if isinstance(obj, types.ModuleType):
        return getattr(obj, "__file__", None)  # None: built-in, or made at run time (see _check_module)
    if isinstance(obj, type):
        for value in vars(obj).values():
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, types.FunctionType):
                return value.__code__.co_filename
        name = getattr(obj, "__module__", None)
        if name == "__main__":
            return f"<class {obj.__qualname__} defined in the notebook>"
        module = sys.modules.get(name or "")
        return code_file(module) if module is not None else None  # extension types name modules that are not there
    if callable(obj) and not isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType,
                                                 types.WrapperDescriptorType, types.MethodWrapperType,
                                                 types.MethodDescriptorType, types.ClassMethodDescriptorType)):
        return code_file(type(obj))
    return None


class _Findings:
    def __init__(self, shell):
        self.items, self._seen = [], set()
        self._names = getattr(getattr(shell, "compile", None), "_filename_map", {}) if shell else {}

    def check(self, what, obj):
        if len(self.items) >= _MAX_FINDINGS or id(obj) in self._seen:
            return
        self._seen.add(id(obj))
        try:
            filename = code_file(obj)
        except Exception:  # an object whose attributes raise is itself suspect
            filename = f"<{type(obj).__name__} that cannot be inspected>"
        if filename is None:
            return
        try:
            if is_installed(filename):
                return
        except Exception:  # what tells installed code apart is broken itself (a patched builtin): report
            pass
        self.items.append({"what": what, "file": filename, "count": self._names.get(filename)})

    def add(self, what, filename):
        """Record ``what`` as foreign whatever its file (something that must not be there at all)."""
        if len(self.items) < _MAX_FINDINGS:
            self.items.append({"what": what, "file": filename or "", "count": self._names.get(filename)})

    def check_all(self, what, values):
        for i, value in enumerate(values):
            self.check(f"{what}[{i}]", value)


def _check_module(found, name, module):
    if not isinstance(module, types.ModuleType):
        found.add(f"sys.modules[{name!r}] is not a module", code_file(module))
        return
    spec = getattr(module, "__spec__", None)
    if getattr(module, "__file__", None) is None and getattr(spec, "origin", None) not in ("built-in", "frozen"):
        found.add(f"sys.modules[{name!r}] is a module made at run time", None)
    found.check(f"sys.modules[{name!r}]", module)
    for key, value in list(vars(module).items()):
        if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
            found.check(f"{name}.{key}", value)
        elif isinstance(value, type):
            found.check(f"{name}.{key}", value)
            if getattr(value, "__module__", "").split(".")[0] in ("ml4em", name.split(".")[0]):
                for attr, member in list(vars(value).items()):
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    if isinstance(member, (types.FunctionType, property)):
                        found.check(f"{name}.{key}.{attr}", member.fget if isinstance(member, property) else member)
        elif isinstance(value, types.ModuleType):
            found.check(f"{name}.{key}", value)
        elif callable(value):
            found.check(f"{name}.{key}", value)


def _check_shell(found, shell):
    for attr in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
        found.check_all(f"IPython {attr}", list(getattr(shell, attr, [])))
    manager = getattr(shell, "input_transformer_manager", None)
    for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
        found.check_all(f"IPython input_transformer_manager.{attr}", list(getattr(manager, attr, [])))
    for event, callbacks in getattr(getattr(shell, "events", None), "callbacks", {}).items():
        found.check_all(f"IPython event {event!r}", list(callbacks))
    if getattr(shell, "custom_exceptions", ()):
        found.add("IPython custom exception handler (set_custom_exc)", code_file(getattr(shell, "CustomTB", None)))
    for kind, magics in getattr(getattr(shell, "magics_manager", None), "magics", {}).items():
        for name, magic in magics.items():
            found.check(f"IPython {kind} magic %{name}", magic)
    for owner, label in ((shell, "IPython shell"), (getattr(shell, "kernel", None), "kernel")):
        if owner is None:
            continue
        for key, value in list(vars(owner).items()) + list(getattr(owner, "_trait_values", {}).items()):
            if callable(value) and not isinstance(value, type):
                found.check(f"{label}.{key}", value)
        for key, value in getattr(owner, "shell_handlers", {}).items():
            found.check(f"{label}.shell_handlers[{key!r}]", value)


def probe(nonce):
    """Report foreign code in the grading machinery of this kernel, as a JSON string.

    Parameters
    ----------
    nonce : str
        Echoed back, so that the grader knows the answer comes from this call.

    Returns
    -------
    str
        JSON ``{"nonce": nonce, "findings": [{"what", "file", "count"}, ...]}``; ``count`` is the execution count of
        the cell that defined the foreign code, when known.

    Examples
    --------
    >>> json.loads(probe("abc"))["nonce"]
    'abc'
    """
    try:
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance() if InteractiveShell.initialized() else None
    except ImportError:
        shell = None
    found = _Findings(shell)
    for key, value in list(vars(builtins).items()):
        found.check(f"builtins.{key}", value)
    for name in sorted(sys.modules):
        if name == "ml4em" or name.startswith("ml4em.") or name in _CORE:
            _check_module(found, name, sys.modules[name])
    found.check_all("sys.meta_path", list(sys.meta_path))
    found.check_all("sys.path_hooks", list(sys.path_hooks))
    for label, hook in (("sys.settrace", sys.gettrace()), ("sys.setprofile", sys.getprofile())):
        if hook is not None:
            found.check(label, hook)
    for attr in _SYS_HOOKS:
        found.check(f"sys.{attr}", getattr(sys, attr, None))
    threading = sys.modules.get("threading")
    for attr in ("_trace_hook", "_profile_hook"):
        if getattr(threading, attr, None) is not None:
            found.check(f"threading.{attr}", getattr(threading, attr))
    if shell is not None:
        _check_shell(found, shell)
    return json.dumps({"nonce": nonce, "findings": found.items})
