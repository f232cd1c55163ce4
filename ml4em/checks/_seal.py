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

**Partial credit.** Each ``checks.check_*(...)`` call in the block is one named check, worth an equal share of the
cell's points. A failing check does not stop the cell: its message is recorded, the next check runs, and at the end
of the block the cell prints one line per check ("passed" or what is wrong) and the score. At release,
:class:`ml4em.preprocessors.SealChecks` also writes the cell's points into the call
(``sealed("regression", digest="...", points=2)``); the block then ends by displaying the score as the cell's result,
which nbgrader takes as the cell's grade. When no check passes the block raises instead (the cell scores 0 and its
error lists the failed checks; ``NotImplementedError`` when the answer is still blank), and so it does after any
failed check without ``points`` (the instructor's notebook, the mutation tester). Code of the cell outside the check calls still fails the whole cell when it raises. A student's code that
reaches into the recorder (frames, ``gc``) is what ``ml4em integrity`` flags.

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
TOPICS = ("regression", "nn", "clustering", "cnn", "gan", "ga", "eels", "spectral", "rl", "phase", "morphology")


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


def _checks_view(module, results):
    """The checks module as a test cell sees it: each public ``check_*`` function records its outcome in ``results``.

    The tally lives only in this closure (the view has no attributes of its own), so a student's function that a
    check calls cannot reach it without the frames, closures or ``gc`` that ``ml4em integrity`` reports.
    """

    class Checks:
        __slots__ = ()

        def __getattr__(self, name):
            value = getattr(module, name)
            if not (name.startswith("check_") and callable(value)):
                return value

            def named_check(*args, **kwargs):
                try:
                    value(*args, **kwargs)
                except NotImplementedError:
                    results.append((name, "not answered yet: the function still raises NotImplementedError"))
                except AssertionError as failure:  # CheckFailure (of the fresh module's own _core) and asserts
                    results.append((name, str(failure) or "failed"))
                except Exception as error:  # a check must not crash the cell: report it as this check's failure
                    results.append((name, f"raised {type(error).__name__}: {error}".splitlines()[0]))
                else:
                    results.append((name, None))

            named_check.__name__ = named_check.__qualname__ = name
            named_check.__doc__ = value.__doc__
            return named_check

        def __setattr__(self, name, value):
            raise AttributeError(f"the checks of a test cell are read-only (tried to set {name!r})")

        def __dir__(self):
            return dir(module)

        def __repr__(self):
            return f"<checks of {module.__name__}>"

    return Checks()


def _report(results, points):
    """The lines a test cell prints for its checks, and the score (``points`` × share passed; None: no points)."""
    lines = []
    for i, (name, problem) in enumerate(results, 1):
        if problem is None:
            lines.append(f"check {i} ({name}): passed")
        else:
            first, *rest = problem.splitlines()
            lines.append(f"check {i} ({name}): {first}")
            lines += [f"    {line}" for line in rest]
    n_passed = sum(problem is None for _, problem in results)
    score = None if points is None else round(float(points) * n_passed / len(results), 4)
    summary = f"{n_passed} of {len(results)} checks passed"
    if score is not None:
        summary += f": {score:g} of {float(points):g} points"
    return lines + [summary], score, n_passed


class _Sealed(contextlib.AbstractContextManager):
    def __init__(self, topic, digest, points=None):
        installed = checks_digest(topic)
        if digest is not None and digest != installed:
            from ._core import CheckFailure

            raise CheckFailure(
                f"the checks of {topic!r} installed here (digest {installed[:12]}...) are not the ones this "
                f"assignment was released with ({str(digest)[:12]}...). The grader must install the ml4em version "
                "of the release; a student should fetch the assignment again.")
        if points is not None and not (isinstance(points, (int, float)) and points > 0):
            raise ValueError(f"points={points!r} should be the test cell's points, a number above 0")
        self.module = _fresh_module(topic, {}, builtins.__import__)
        self.points = points
        self._results = []
        self._warnings = None

    def __enter__(self):
        self._catcher = warnings.catch_warnings(record=True)
        self._warnings = self._catcher.__enter__()
        warnings.simplefilter("always")
        self._stderr = contextlib.redirect_stderr(io.StringIO())
        self._captured = self._stderr.__enter__()
        return _checks_view(self.module, self._results)

    def __exit__(self, *exc):
        self._stderr.__exit__(*exc)
        self._catcher.__exit__(*exc)
        results = list(self._results)
        notes = [f"{w.category.__name__}: {w.message}" for w in self._warnings]
        text = self._captured.getvalue().strip()
        if notes or text:
            lines = [f"Note: your code raised {len(notes)} warning(s) while it was checked (they cost no points):"]
            lines += [f"  {n}" for n in dict.fromkeys(notes)]
            if text:
                lines.append(f"  and wrote to stderr: {text[:300]}")
            print("\n".join(lines), file=sys.stdout)
        if exc[0] is not None or not results:
            if results:  # the cell raised outside a check: show what the checks before found
                print("\n".join(_report(results, None)[0][:-1]), file=sys.stdout)
            return False
        lines, score, n_passed = _report(results, self.points)
        if n_passed == 0 or (score is None and n_passed < len(results)):
            # nothing earned, or no points to share: the cell fails, with every failed check in its message
            if all(problem.startswith("not answered yet") for _, problem in results if problem) and n_passed == 0:
                raise NotImplementedError(f"not answered yet: {len(results)} check(s) call a function that still "
                                          "raises NotImplementedError")
            from ._core import CheckFailure

            failed = [line for line in lines[:-1] if not line.endswith(": passed")]
            raise CheckFailure("\n".join([lines[-1], *failed]))
        print("\n".join(lines), file=sys.stdout)
        if score is not None:
            sys.displayhook(score)  # the cell's result: nbgrader's partial credit
        return False


def sealed(topic, *, digest=None, points=None):
    """The checks module ``ml4em.checks.<topic>``, loaded afresh from its files, as a context manager.

    Parameters
    ----------
    topic : str
        One of :data:`TOPICS` (``"regression"`` for tutorial 01, ...).
    digest : str, optional
        SHA-256 recorded at release (:func:`checks_digest`); a mismatch raises ``CheckFailure``.
    points : float, optional
        The test cell's points, written at release. With them the block displays its score (points × share of
        checks passed) for nbgrader; without them a failed check makes the block raise at its end.

    Returns
    -------
    context manager
        ``with sealed(topic) as checks:`` gives the fresh module; warnings inside the block are listed on stdout.

    Examples
    --------
    >>> import numpy as np
    >>> def mse(y, p):
    ...     return float(np.mean((np.asarray(y) - np.asarray(p)) ** 2))
    >>> with sealed("regression") as checks:
    ...     checks.check_mse(mse)
    check 1 (check_mse): passed
    1 of 1 checks passed

    With the cell's points (as released), a wrong answer costs only its share:

    >>> with sealed("regression", points=2) as checks:
    ...     checks.check_mse(mse)
    ...     checks.check_mse(lambda y, p: mse(y, p) / 2)  # doctest: +ELLIPSIS
    check 1 (check_mse): passed
    check 2 (check_mse): `mse(y_true, y_pred)` should be ...; got ...
    1 of 2 checks passed: 1 of 2 points
    1.0
    """
    return _Sealed(topic, digest, points)
