"""Whether a student's answer is, wraps or uses one of the package's own answers: the static look.

:class:`PackageAnswers` resolves the qualified names of the package's implementations of one exercise
(``"ml4em.regression.fit_least_squares"``) and recognises them again, by identity or by the place their
code was written (file, first line, qualified name), so that a second copy of a module loaded fresh from
its source still matches. :func:`find_package_use` walks what a student's function can reach without
running it: its code's names resolved in its globals, its closure, its defaults, the functions and
classes it refers to, containers held in its globals. Code of the ml4em package itself is not looked
into: a permitted ml4em helper may use a forbidden function internally.

The dynamic look (what the function calls while it runs) is in :mod:`ml4em.checks._own`.
"""

import functools
import importlib
import os
import sys
import sysconfig
import types
import warnings
from collections import namedtuple

import numpy as np

__all__ = ["PackageAnswers", "Finding", "find_package_use", "is_library_file", "in_package", "code_key"]

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_LIBRARY_ROOTS = tuple(sorted({os.path.realpath(p) for key in ("stdlib", "platstdlib", "purelib", "platlib")
                               if (p := sysconfig.get_paths().get(key))} | {PACKAGE_ROOT}))
_SKIP = (int, float, complex, str, bytes, bool, type(None), np.ndarray, np.generic, range, slice)
_MAX_DEPTH = 30       # functions calling functions calling ...: far more than any exercise needs
_MAX_CONTAINERS = 2   # containers inside containers: one or two levels deep
_MAX_ITEMS = 2000     # items looked at per container
_MAX_MODULES = 4      # ml4em.eels.predict.band: modules inside modules

#: What a student's answer was found to hold: the package's ``name``, ``how`` ("is", "wraps", "uses" or
#: "is an instance of") and the path to it (``via``, a tuple of steps such as ``"reg.fit_least_squares"``).
Finding = namedtuple("Finding", "name how via")


@functools.lru_cache(maxsize=4096)
def _real(filename):
    return os.path.normcase(os.path.realpath(filename)) if not filename.startswith("<") else filename


def in_package(filename):
    """Whether code from ``filename`` belongs to the ml4em package.

    Examples
    --------
    >>> from ml4em import regression
    >>> in_package(regression.__file__), in_package("<string>")
    (True, False)
    """
    return _real(filename).startswith(PACKAGE_ROOT + os.sep)


def is_library_file(filename):
    """Whether code from ``filename`` is a library's (ml4em, the standard library, an installed package).

    Examples
    --------
    >>> is_library_file(os.__file__), is_library_file("/tmp/ipykernel_1/2.py")
    (True, False)
    """
    if filename.startswith("<frozen") or filename.startswith("<built-in"):
        return True
    real = _real(filename)
    return any(real.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


def code_key(code):
    """Where a code object was written: ``(file, first line, qualified name)``; the same in a fresh copy."""
    return _real(code.co_filename), code.co_firstlineno, getattr(code, "co_qualname", code.co_name)


def _codes(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _unwrap(member):
    if isinstance(member, (staticmethod, classmethod)):
        return [member.__func__]
    if isinstance(member, property):
        return [f for f in (member.fget, member.fset, member.fdel) if f is not None]
    if isinstance(member, functools.cached_property):
        return [member.func]
    return [member] if isinstance(member, types.FunctionType) else []


def _resolve(name):
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        module_name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as err:  # a missing module in the name is expected; one missing inside is not
            if not err.name or not (module_name + ".").startswith(err.name + "."):
                raise
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ValueError(f"no module in {name!r}; name the package's implementation as 'ml4em.module.function'.")


def _class_key(cls):
    return getattr(cls, "__module__", None), getattr(cls, "__qualname__", None)


class PackageAnswers:
    """The package's own implementations of one exercise, recognised by identity or by where they were written.

    Parameters
    ----------
    names : sequence of str
        Qualified names, e.g. ``"ml4em.regression.fit_least_squares"``; a class stands for all its methods,
        ``"ml4em.ga.Real.mutate"`` for one method.

    Examples
    --------
    >>> from ml4em import regression
    >>> answers = PackageAnswers(["ml4em.regression.fit_least_squares", "ml4em.regression.PolynomialRegression"])
    >>> answers.match(regression.fit_least_squares), answers.match(regression.PolynomialRegression(2).fit)
    ('ml4em.regression.fit_least_squares', 'ml4em.regression.PolynomialRegression')
    >>> answers.match(regression.mse) is None
    True
    """

    def __init__(self, names):
        self.names = tuple(names)
        self._objects, self._by_id, self._by_key, self._classes, self._keep = {}, {}, {}, {}, []
        for name in self.names:
            obj = _resolve(name)
            self._keep.append(obj)
            self._objects[id(obj)] = name
            if isinstance(obj, type):
                self._classes[_class_key(obj)] = name
                functions = [f for member in vars(obj).values() for f in _unwrap(member)]
            elif isinstance(obj, types.MethodType):
                functions = [obj.__func__]
            elif isinstance(obj, types.FunctionType):
                functions = [obj]
            else:
                raise TypeError(f"{name} is a {type(obj).__name__}; declare functions, methods or classes.")
            for function in functions:
                self._objects[id(function)] = name
                for code in _codes(function.__code__):
                    self._keep.append(code)
                    self._by_id[id(code)] = name
                    self._by_key[code_key(code)] = name
        self.has_classes = bool(self._classes)
        #: co_name of every forbidden code object: a cheap first filter for the profile hook
        self.code_names = frozenset(key[2].rpartition(".")[2] for key in self._by_key)

    def match_code(self, code):
        """The name of the implementation that ``code`` belongs to, or None."""
        return self._by_id.get(id(code)) or self._by_key.get(code_key(code))

    def match(self, obj):
        """The name of the implementation that ``obj`` is (a function, method, class or subclass), or None."""
        name = self._objects.get(id(obj))
        if name:
            return name
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        if isinstance(obj, types.FunctionType):
            return self.match_code(obj.__code__)
        if isinstance(obj, type):
            return next((self._classes[k] for k in map(_class_key, obj.__mro__) if k in self._classes), None)
        return None

    def match_instance(self, obj):
        """The name of the forbidden class that ``obj`` is an instance of, or None."""
        return None if isinstance(obj, type) or not self._classes else self.match(type(obj))


def _library_class(cls):
    if cls.__module__ == "__main__":
        return False
    if any(isinstance(f, types.FunctionType) and not is_library_file(f.__code__.co_filename)
           for member in vars(cls).values() for f in _unwrap(member)):
        return False
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    return module is None or filename is None or is_library_file(filename)


def _code_names(code):
    return {name for c in _codes(code) for name in c.co_names}


class _Scan:
    def __init__(self, answers):
        self.answers = answers
        self.seen, self.keep = set(), []

    def visit(self, obj, via, containers=0, depth=0):
        try:
            return self._visit(obj, via, containers, depth)
        except ReferenceError:  # a weak proxy whose object is gone holds nothing
            return None

    def _visit(self, obj, via, containers, depth):
        if isinstance(obj, _SKIP) or depth > _MAX_DEPTH or id(obj) in self.seen:
            return None
        self.seen.add(id(obj))
        self.keep.append(obj)  # keeps ids unique while the scan runs
        name = self.answers.match(obj)
        if name:
            return Finding(name, "is" if not via else "wraps" if _wrapper_path(via) else "uses", via)
        name = self.answers.match_instance(obj)
        if name:
            return Finding(name, "is an instance of" if not via else "uses an instance of", via)
        for child, step, container in self._children(obj):
            if container and containers >= _MAX_CONTAINERS:
                continue
            found = self.visit(child, via + (step,), containers + container, depth + 1)
            if found:
                return found
        return None

    def _children(self, obj):
        if isinstance(obj, types.ModuleType):
            return
        if isinstance(obj, functools.partial):
            yield obj.func, ".func", False
            yield from ((a, f"partial argument {i}", False) for i, a in enumerate(obj.args))
            yield from ((v, f"partial argument {k}", False) for k, v in obj.keywords.items())
        elif isinstance(obj, types.MethodType):
            yield obj.__func__, ".__func__", False
            yield obj.__self__, ".__self__", False
        elif isinstance(obj, (staticmethod, classmethod, property, functools.cached_property)):
            yield from ((f, ".__func__", False) for f in _unwrap(obj))
        elif isinstance(obj, types.FunctionType):
            yield from self._function_children(obj)
        elif isinstance(obj, type):
            for cls in obj.__mro__:
                if not _library_class(cls):
                    yield from ((v, f"{cls.__qualname__}.{k}", False) for k, v in vars(cls).items())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            yield from ((item, f"[{i}]", True) for i, item in zip(range(_MAX_ITEMS), obj))
        elif isinstance(obj, dict):
            yield from ((v, f"[{k!r:.30}]", True) for _, k, v in zip(range(_MAX_ITEMS), obj.keys(), obj.values()))
        elif not _library_class(type(obj)):
            yield type(obj), "type", False
            state = getattr(obj, "__dict__", None)
            if isinstance(state, dict):
                yield from ((v, f".{k}", True) for k, v in list(state.items())[:_MAX_ITEMS])

    def _function_children(self, function):
        code = function.__code__
        if "__wrapped__" in vars(function):
            yield function.__wrapped__, ".__wrapped__", False
        if is_library_file(code.co_filename):
            return  # a library's function, ml4em's included: not looked into
        for name, cell in zip(code.co_freevars, function.__closure__ or ()):
            try:
                yield cell.cell_contents, f"closure variable `{name}`", False
            except ValueError:  # an empty cell
                pass
        yield from ((v, "default argument", False) for v in function.__defaults__ or ())
        yield from ((v, f"default argument `{k}`", False) for k, v in (function.__kwdefaults__ or {}).items())
        names = _code_names(code)
        scope = function.__globals__
        for name in sorted(names):
            value = sys.modules.get(name) if "." in name else scope.get(name, sys.modules.get(name))
            if value is not None:
                yield from self._named(value, name, names, 0)

    def _named(self, value, path, names, level):
        """``value``, found under ``path``, and its attributes that the code names: a module's (then theirs,
        a few levels down), a class's or an object's class's."""
        if not isinstance(value, types.ModuleType):
            yield value, path, False
        if isinstance(value, _SKIP) or level > _MAX_MODULES or (id(value), path) in self.seen:
            return
        self.seen.add((id(value), path))
        module = isinstance(value, types.ModuleType)
        owner = value if module or isinstance(value, type) else type(value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in sorted(names):
                if not module and not any(name in vars(cls) for cls in owner.__mro__):
                    continue
                try:
                    attr = getattr(owner, name)
                except Exception:  # a module's __getattr__ or a descriptor may raise anything
                    continue
                if module:
                    yield from self._named(attr, f"{path}.{name}", names, level + 1)
                else:
                    yield attr, f"{path}.{name}", False


def _wrapper_path(via):
    return all(step in (".func", ".__func__", ".__wrapped__") or step.startswith("partial argument")
               for step in via)


def find_package_use(value, answers):
    """Look, without running it, for one of ``answers`` in what ``value`` is, wraps or refers to.

    Parameters
    ----------
    value : object
        The student's function, class or object.
    answers : PackageAnswers

    Returns
    -------
    Finding or None

    Examples
    --------
    >>> from ml4em import regression as reg
    >>> answers = PackageAnswers(["ml4em.regression.mse"])
    >>> def mse(a, b):
    ...     return reg.mse(a, b)
    >>> find_package_use(mse, answers)
    Finding(name='ml4em.regression.mse', how='uses', via=('reg.mse',))
    >>> find_package_use(lambda a, b: ((a - b) ** 2).mean(), answers) is None
    True
    """
    return _Scan(answers).visit(value, ())
