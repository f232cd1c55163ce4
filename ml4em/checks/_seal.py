"""Sealed checks: a test cell loads the checks it runs afresh from the installed files and verifies them.

A test cell of a tutorial reads::

    from ml4em.checks import sealed
    with sealed("regression") as checks:
        checks.check_design_matrix(design_matrix)

:func:`sealed` executes ``ml4em/checks/regression.py`` and the private modules it imports
(``ml4em/checks/_*.py``) anew, from their files, into module objects that nothing else holds. Whatever an answer
cell did to the ``checks`` name, to ``sys.modules`` or to the functions of an imported checks module, the test cell
runs the code that is installed. At release, ``nbgrader generate_assignment`` records the SHA-256 digest of those
files in each test cell (:class:`ml4em.preprocessors.SealChecks` rewrites the call as
``sealed("regression", digest="...")``); a test cell whose digest does not match the installed files fails, so a
round is never graded with checks other than the released ones.

Inside the ``with`` block warnings are recorded instead of printed (nbgrader counts any output on stderr as a
failed test) and listed afterwards on stdout, so an honest answer that calls a deprecated function keeps its points.

What one kernel cannot prevent (a student who replaces ``builtins``, the import system or IPython's machinery) is
found by the grader's probe (:mod:`ml4em.sandbox.probe`) and by ``ml4em integrity``.
"""

import builtins
import contextlib
import hashlib
import io
import sys
import types
import warnings
from pathlib import Path

__all__ = ["sealed", "checks_digest", "TOPICS"]

_HERE = Path(__file__).resolve().parent
TOPICS = ("regression", "nn", "clustering", "cnn", "gan", "ga", "eels", "rl", "phase", "morphology")


def _files(topic):
    if topic not in TOPICS:
        raise ValueError(f"topic={topic!r} is not a checks module of ml4em; choose one of {list(TOPICS)}")
    private = sorted(p for p in _HERE.glob("_*.py") if p.name != "__init__.py")
    return [_HERE / f"{topic}.py", *private]


def checks_digest(topic):
    """SHA-256 (hex) of the installed source of ``ml4em.checks.<topic>`` and of the private modules it may import.

    Examples
    --------
    >>> len(checks_digest("regression"))
    64
    """
    digest = hashlib.sha256()
    for path in _files(topic):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _fresh_module(name, fresh, real_import):
    """Execute ``ml4em/checks/<name>.py`` into a new module; its relative imports of private modules are fresh too."""
    if name in fresh:
        return fresh[name]
    path = _HERE / f"{name}.py"
    module = types.ModuleType(f"ml4em.checks.{name}")
    module.__file__, module.__package__ = str(path), "ml4em.checks"

    def _import(target, globals=None, locals=None, fromlist=(), level=0):
        if level == 1 and target.startswith("_") and (_HERE / f"{target}.py").is_file():
            return _fresh_module(target, fresh, real_import)
        if level == 1 and target == "" and fromlist:
            package = real_import("ml4em.checks", globals, locals, ("__name__",), 0)
            names = {n: (_fresh_module(n, fresh, real_import) if n.startswith("_") and (_HERE / f"{n}.py").is_file()
                         else getattr(package, n)) for n in fromlist}
            return types.SimpleNamespace(**names)
        return real_import(target, globals, locals, fromlist, level)

    module.__dict__["__builtins__"] = {**vars(builtins), "__import__": _import}
    fresh[name] = module  # before executing: a cycle between private modules sees the module being made
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module


class _Sealed(contextlib.AbstractContextManager):
    def __init__(self, topic, digest):
        installed = checks_digest(topic)
        if digest is not None and digest != installed:
            from ._core import CheckFailure

            raise CheckFailure(
                f"the checks of {topic!r} installed here (digest {installed[:12]}...) are not the ones this "
                f"assignment was released with ({str(digest)[:12]}...). The grader must install the ml4em version "
                "of the release; a student should fetch the assignment again.")
        self.module = _fresh_module(topic, {}, builtins.__import__)
        self._warnings = None

    def __enter__(self):
        self._catcher = warnings.catch_warnings(record=True)
        self._warnings = self._catcher.__enter__()
        warnings.simplefilter("always")
        self._stderr = contextlib.redirect_stderr(io.StringIO())
        self._captured = self._stderr.__enter__()
        return self.module

    def __exit__(self, *exc):
        self._stderr.__exit__(*exc)
        self._catcher.__exit__(*exc)
        notes = [f"{w.category.__name__}: {w.message}" for w in self._warnings]
        text = self._captured.getvalue().strip()
        if notes or text:
            lines = [f"Note: your code raised {len(notes)} warning(s) while it was checked (they cost no points):"]
            lines += [f"  {n}" for n in dict.fromkeys(notes)]
            if text:
                lines.append(f"  and wrote to stderr: {text[:300]}")
            print("\n".join(lines), file=sys.stdout)
        return False


def sealed(topic, *, digest=None):
    """The checks module ``ml4em.checks.<topic>``, loaded afresh from its files, as a context manager.

    Parameters
    ----------
    topic : str
        One of :data:`TOPICS` (``"regression"`` for tutorial 01, ...).
    digest : str, optional
        SHA-256 recorded at release (:func:`checks_digest`); a mismatch raises ``CheckFailure``.

    Returns
    -------
    context manager
        ``with sealed(topic) as checks:`` gives the fresh module; warnings inside the block are listed on stdout.

    Examples
    --------
    >>> import numpy as np
    >>> with sealed("regression") as checks:
    ...     checks.check_mse(lambda y, p: float(np.mean((np.asarray(y) - np.asarray(p)) ** 2)))
    """
    return _Sealed(topic, digest)
