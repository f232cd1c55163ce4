"""Let the student's own function drive the rest of a tutorial, with the package's version as a safety net.

After an exercise in which the student assembles a method (Lloyd's algorithm, a training step, a scan policy),
the tutorial's main result is computed with *their* function. A student whose answer does not pass its check
yet is not stuck: :func:`own_or_package` runs the exercise's check quietly and, if it fails, hands back the
package's implementation with a one-line notice that says why.
"""

import functools
import importlib

from ._core import CheckFailure

__all__ = ["own_or_package", "usage"]

#: One entry per :func:`own_or_package` call in this kernel: the function's name, whose version was chosen and
#: how often it was called since (``ml4em grade-check`` reads it at the end of each tutorial).
_USED = []


def usage():
    """What :func:`own_or_package` chose in this kernel, and how often each chosen function was called since.

    Returns
    -------
    list of dict
        ``{"name": str, "own": bool, "calls": int, "reason": str or None}``, in the order of the calls.

    Examples
    --------
    >>> def check_double(f):
    ...     if f(2) != 4:
    ...         raise CheckFailure("double(2) should be 4")
    >>> double = own_or_package(lambda x: 2 * x, check_double, abs, name="double", quiet=True)
    >>> double(3), usage()[-1]
    (6, {'name': 'double', 'own': True, 'calls': 1, 'reason': None})
    """
    return [dict(entry) for entry in _USED]


def _counted(fn, entry):
    """``fn`` with each call counted in ``entry`` (the instrumentation behind :func:`usage`)."""

    @functools.wraps(fn)
    def counted(*args, **kwargs):
        entry["calls"] += 1
        return fn(*args, **kwargs)

    return counted


def _resolve(package):
    if callable(package):
        return package
    module, _, name = str(package).rpartition(".")
    if not module:
        raise ValueError(f"package={package!r} should be a callable or a dotted name such as "
                         "'ml4em.clustering.kmeans'")
    return getattr(importlib.import_module(module), name)


def own_or_package(own, check, package, *, name=None, quiet=False):
    """Return the student's function if it passes ``check``, else the package's, saying which is used.

    Parameters
    ----------
    own : callable or None
        The student's function (``None`` or a non-callable when the exercise is not done).
    check : callable
        The exercise's visible check, called as ``check(own)``; it raises :class:`CheckFailure` on a wrong
        answer. Any other exception from the student's code counts as a failure too.
    package : callable or str
        ml4em's implementation, or its dotted name (imported only when it is needed).
    name : str, optional
        The function's name in messages; default ``own.__name__``.
    quiet : bool, default False
        Do not print the notice.

    Returns
    -------
    function : callable
        ``own`` when its check passes, otherwise ``package``; its calls are counted for :func:`usage`.

    Examples
    --------
    >>> def check_double(f):
    ...     if f(2) != 4:
    ...         raise CheckFailure("double(2) should be 4")
    >>> own_or_package(lambda x: 2 * x, check_double, abs, name="double")(3)
    Using your `double`.
    6
    >>> own_or_package(lambda x: x, check_double, lambda x: 2 * x, name="double")(3)
    Your `double` does not pass its check yet (double(2) should be 4); the cells below use ml4em's version.
    6
    """
    label = name or getattr(own, "__name__", "function")
    reason = None
    if not callable(own):
        reason = "it is not defined yet"
    else:
        try:
            check(own)
        except CheckFailure as failure:
            reason = str(failure).splitlines()[0] if str(failure) else "its check fails"
        except Exception as error:  # the student's code raised: that is a failed check here
            reason = f"it raised {type(error).__name__}: {error}".splitlines()[0]
    entry = {"name": label, "own": reason is None, "calls": 0, "reason": reason}
    _USED.append(entry)
    if reason is None:
        if not quiet:
            print(f"Using your `{label}`.")
        return _counted(own, entry)
    if not quiet:
        print(f"Your `{label}` does not pass its check yet ({reason}); the cells below use ml4em's version.")
    return _counted(_resolve(package), entry)
