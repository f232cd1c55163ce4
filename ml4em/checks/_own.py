"""The student's own work, not the package's: checks refuse an answer that is, wraps or calls the package's.

Every check that receives a student's function or model declares the package's implementations of its
exercise with :func:`answers`::

    @answers("01_regression", "fit_least_squares", "ml4em.regression.fit_least_squares")
    def check_least_squares(fit_least_squares, *, degree=1, n=20, seed=0):
        ...

Before the check runs, the student's answer is looked at without running it (:func:`refuse_package`:
its code, globals, closure, defaults, the functions and classes it refers to, and for a Keras model the
marks of the package's builders). While the check runs, a ``sys.setprofile`` hook (:func:`watching`)
notes every call of a forbidden function made from outside the ml4em package, which catches what cannot
be seen beforehand (``getattr(module, "fit_" + "least_squares")``, ``importlib``). Either way the check
fails with a :class:`~ml4em.checks.CheckFailure` (an ``AssertionError``: nbgrader scores the cell 0)
whose message names the package's function. A permitted ml4em helper that uses a forbidden function
internally is not refused: only calls from outside the package count.

Nothing is shared between calls: a check module executed afresh from its source file works the same, and
a fresh copy of a reference module still matches (functions are recognised by where they were written).

:func:`package_answers` lists every declaration, for the scan that flags answer cells that refer to them.
"""

import contextlib
import functools
import importlib
import inspect
import os
import re
import sys
import types
from collections import namedtuple

from ._core import CheckFailure
from ._models import find_package_network
from ._scan import Finding, PackageAnswers, find_package_use, in_package
from ._seal import TOPICS

__all__ = ["answers", "refuse_package", "watching", "package_answers", "Declaration", "Call"]

#: What :func:`answers` records on a check: the exercise and the package's implementations of it.
Declaration = namedtuple("Declaration", "tutorial exercise implementations student")

#: A forbidden call seen by :func:`watching`: the implementation's name and where it was called from
#: (``name`` is None when the watch itself was switched off).
Call = namedtuple("Call", "name filename lineno")

_setprofile, _getprofile = sys.setprofile, sys.getprofile


def _probe():
    """Called with the hook installed: the hook notes it, which proves that the watch works."""


@contextlib.contextmanager
def watching(implementations):
    """Note every call of one of ``implementations`` made from outside the ml4em package.

    Installs a ``sys.setprofile`` hook for the duration of the ``with`` block and restores the previous
    one afterwards, also when the block raises.

    Parameters
    ----------
    implementations : PackageAnswers or sequence of str

    Yields
    ------
    list of Call
        Filled while the block runs; a ``Call`` whose ``name`` is None when the block called ``sys.setprofile``
        or switched the hook off.

    Raises
    ------
    CheckFailure
        When the hook cannot be installed (``sys.setprofile`` replaced).

    Examples
    --------
    >>> from ml4em import regression as reg
    >>> with watching(["ml4em.regression.mse"]) as calls:
    ...     _ = getattr(reg, "m" + "se")([1.0], [2.0])
    >>> [call.name for call in calls]
    ['ml4em.regression.mse']
    >>> with watching(["ml4em.regression.mse"]) as calls:
    ...     _ = reg.cross_validate([0.0, 1, 2, 3], [0.0, 1, 2, 3], 1, n_folds=2)  # uses mse inside ml4em
    >>> calls
    []
    """
    known = implementations if isinstance(implementations, PackageAnswers) else PackageAnswers(implementations)
    calls, probes, names, match, probe = [], [], known.code_names, known.match_code, _probe.__code__

    def hook(frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code is probe:
                probes.append(code)
            elif code.co_name in names:
                name = match(code)
                caller = frame.f_back
                if name and (caller is None or not in_package(caller.f_code.co_filename)):
                    calls.append(Call(name, caller.f_code.co_filename if caller else "?",
                                      caller.f_lineno if caller else 0))
        elif event == "c_call" and arg is _setprofile and not in_package(frame.f_code.co_filename):
            calls.append(Call(None, frame.f_code.co_filename, frame.f_lineno))  # switching the watch off

    previous = _getprofile()
    _setprofile(hook)
    _probe()
    if not probes:
        _setprofile(previous)
        raise CheckFailure("the check cannot watch what your code calls: sys.setprofile does not work in this "
                           "kernel (was it replaced?). Restart the kernel and run the notebook from the top.")
    try:
        yield calls
    finally:
        _probe()
        if len(probes) < 2:
            calls.append(Call(None, "", 0))
        _setprofile(previous)


def _ml4em_code(value):
    """A Finding when ``value`` itself (unwrapped) is a function, class or object of the ml4em package."""
    while True:
        inner = (value.func if isinstance(value, functools.partial) else
                 value.__func__ if isinstance(value, types.MethodType) else
                 vars(value).get("__wrapped__") if isinstance(value, types.FunctionType) else None)
        if inner is None:
            break
        value = inner
    if isinstance(value, types.FunctionType) and in_package(value.__code__.co_filename):
        return Finding(f"{value.__module__}.{value.__qualname__}", "is", ())
    cls = value if isinstance(value, type) else type(value)
    if str(getattr(cls, "__module__", "")).split(".")[0] == "ml4em":
        return Finding(f"{cls.__module__}.{cls.__qualname__}", "is" if cls is value else "is an instance of", ())
    return None


def _verb(value):
    return "Write" if callable(value) and not hasattr(value, "layers") else "Build"


def _through(via):
    steps = [f"`{s}`" if re.fullmatch(r"[\w.\[\]'\"]+", s) else s for s in via]
    return f" (through {' then '.join(steps)})" if steps else ""


def refuse_package(value, label, implementations):
    """Fail when ``value`` is, wraps or refers to the package's implementation of the exercise.

    Parameters
    ----------
    value : object
        The student's function, class or model.
    label : str
        Its name in the notebook, for the message.
    implementations : PackageAnswers or sequence of str

    Raises
    ------
    CheckFailure

    Examples
    --------
    >>> from ml4em import regression as reg
    >>> refuse_package(lambda a, b: ((a - b) ** 2).mean(), "mse", ["ml4em.regression.mse"])
    >>> refuse_package(lambda a, b: reg.mse(a, b), "mse", ["ml4em.regression.mse"])
    Traceback (most recent call last):
    ...
    ml4em.checks._core.CheckFailure: `mse` uses `ml4em.regression.mse` (through `reg.mse`), the package's own answer
    to this exercise. Write `mse` yourself; `ml4em.regression.mse` is the course's version.
    """
    known = implementations if isinstance(implementations, PackageAnswers) else PackageAnswers(implementations)
    finding = find_package_use(value, known) or find_package_network(value, known)
    what = "the package's own answer to this exercise"
    if finding is None:
        finding, what = _ml4em_code(value), "code of the ml4em package"
    if finding is not None:
        via = finding.via if finding.via[-1:] != (finding.name,) else ()
        raise CheckFailure(f"`{label}` {finding.how} `{finding.name}`{_through(via)}, {what}. "
                           f"{_verb(value)} `{label}` yourself; `{finding.name}` is the course's version.")


def _refuse_calls(calls, work):
    labels = " or ".join(f"`{label}`" for label, _ in work)
    call = next((c for c in calls if c.name), None)
    if call is None:
        return CheckFailure(f"{labels} switched off the check's watch of what it calls (sys.setprofile); "
                            "remove that and run the cell again.")
    where = f"line {call.lineno} of {os.path.basename(call.filename)}"
    return CheckFailure(f"{labels} called `{call.name}` while the check ran (from {where}), the package's own "
                        f"answer to this exercise. {_verb(work[0][1])} "
                        f"{' and '.join(f'`{label}`' for label, _ in work)} yourself; `{call.name}` is the "
                        "course's version.")


def _run(check, args, kwargs, work, declaration):
    known = PackageAnswers(declaration.implementations)
    for label, value in work:
        refuse_package(value, label, known)
    calls = []
    try:
        with watching(known) as calls:
            result = check(*args, **kwargs)
    except Exception:
        if calls:
            raise _refuse_calls(calls, work) from None
        raise
    if calls:
        raise _refuse_calls(calls, work)
    return result


def answers(tutorial, exercise, *implementations, student=None):
    """Declare the package's implementations of the exercise a check grades, and refuse them as answers.

    Parameters
    ----------
    tutorial : str
        E.g. ``"01_regression"``.
    exercise : str
        The name(s) the student defines, comma-separated (``"sigmoid, sigmoid_prime"``).
    *implementations : str
        Qualified names of the package's functions, methods or classes that answer the exercise.
    student : sequence of str, optional
        The check's parameters that receive the student's work; by default the first one per name in
        ``exercise``. ``()`` for an exercise whose answer is a value: then the check only records the
        declaration (for :func:`package_answers`).

    Returns
    -------
    callable
        A decorator.

    Examples
    --------
    >>> from ml4em.checks import check_true
    >>> @answers("00_example", "mean_square", "ml4em.regression.mse")
    ... def check_mean_square(mean_square):
    ...     check_true(mean_square([1.0], [3.0]) == 4.0, "mean_square([1], [3]) should be 4")
    >>> check_mean_square(lambda a, b: sum((x - y) ** 2 for x, y in zip(a, b)) / len(a))
    >>> from ml4em import regression
    >>> check_mean_square(regression.mse)
    Traceback (most recent call last):
    ...
    ml4em.checks._core.CheckFailure: `mean_square` is `ml4em.regression.mse`, the package's own answer to this
    exercise. Write `mean_square` yourself; `ml4em.regression.mse` is the course's version.
    """
    names = [name.strip() for name in exercise.split(",")]

    def decorate(check):
        signature = inspect.signature(check)
        params = tuple(signature.parameters)[:len(names)] if student is None else tuple(student)
        declaration = Declaration(tutorial, exercise, tuple(implementations), params)
        if not params:
            check.__ml4em_answers__ = declaration
            return check

        @functools.wraps(check)
        def refusing(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return check(*args, **kwargs)  # let the check report its own wrong call
            work = [(label, bound.arguments[p]) for label, p in zip(names, params) if p in bound.arguments]
            return _run(check, args, kwargs, work, declaration)

        refusing.__ml4em_answers__ = declaration
        return refusing

    return decorate


def package_answers(topic=None) -> dict[str, str]:
    """Every implementation the checks refuse, and the exercise(s) it answers.

    Parameters
    ----------
    topic : str, optional
        A check module (one of :data:`ml4em.checks._seal.TOPICS`, e.g. ``"regression"``) or a tutorial
        (``"01_regression"``); all by default.

    Returns
    -------
    dict of str to str
        Qualified name (``"ml4em.regression.fit_least_squares"``) to ``"tutorial: exercise"``, several
        joined by ``"; "``.

    Examples
    --------
    >>> package_answers("regression")["ml4em.regression.fit_least_squares"]
    '01_regression: fit_least_squares'
    >>> package_answers()["ml4em.eels.band"]
    '07_eels_replicas: zlp_band; 08_band_gap: interval'
    """
    tutorial = None
    if topic is None:
        modules = TOPICS
    elif topic in TOPICS:
        modules = (topic,)
    elif isinstance(topic, str) and re.fullmatch(r"\d\d_\w+", topic):
        modules, tutorial = TOPICS, topic
    else:
        raise ValueError(f"topic={topic!r} should be a check module, one of {', '.join(TOPICS)}, or a tutorial "
                         "such as '01_regression'.")
    found, tutorials = {}, set()
    for name in modules:
        module = importlib.import_module(f"{__package__ or 'ml4em.checks'}.{name}")
        for attr in getattr(module, "__all__", ()):
            declaration = getattr(getattr(module, attr), "__ml4em_answers__", None)
            if declaration is None:
                continue
            tutorials.add(declaration.tutorial)
            if tutorial is None or declaration.tutorial == tutorial:
                for impl in declaration.implementations:
                    found.setdefault(impl, []).append(f"{declaration.tutorial}: {declaration.exercise}")
    if tutorial is not None and tutorial not in tutorials:
        raise ValueError(f"topic={topic!r} is not a tutorial with checks; choose one of {sorted(tutorials)}.")
    return {impl: "; ".join(dict.fromkeys(where)) for impl, where in sorted(found.items())}
