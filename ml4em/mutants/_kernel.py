"""What the mutation tester runs inside the notebook's kernel: record calls, compare outputs.

The runner (:mod:`ml4em.mutants._runner`) sends this file's text to the kernel, compiled under the name
``<ml4em-mutants>`` into a namespace of its own, and reaches it as ``__ml4em_mutants__``. Compiled there it
is not code of the ml4em package, so a check that refuses the package's own answers does not refuse the
recording wrapper. Each public function prints one line, ``MARK`` followed by JSON, for the runner to read.

Imported as a module it does nothing but define these functions (the tests call them directly).
"""

import collections
import copy
import inspect
import json
import types

import numpy as np

__all__ = ["MARK", "wrap", "unwrap", "forget", "same", "compare"]

MARK = "__ml4em_mutants__:"
_CALLS, _SAVED = {}, {}
_MISSING = object()


def _copied(value):
    try:
        return copy.deepcopy(value)
    except Exception:  # an object that cannot be copied: its calls cannot be replayed
        return _MISSING


def _recorder(name, func):
    # A deque, not a list: a check that looks through the answer's closure for the package's code does not
    # look into a standard-library container, so what the calls received (ml4em objects too) stays unseen.
    record = _CALLS.setdefault(name, collections.deque())

    def recorder(*args, **kwargs):
        before = _copied((args, kwargs))
        try:
            result = func(*args, **kwargs)
        except Exception as err:
            record.append((before, ("raise", type(err).__name__)))
            raise
        record.append((before, ("value", _copied(result))))
        return result

    recorder.__name__, recorder.__qualname__, recorder.__doc__ = func.__name__, func.__qualname__, func.__doc__
    try:
        recorder.__signature__ = inspect.signature(func)
    except (TypeError, ValueError):
        pass
    return recorder


def _say(**fields):
    print(MARK + json.dumps(fields))


def wrap(namespace, names):
    """Keep the answer's values of ``names`` and put a call recorder in place of each of its functions."""
    _CALLS.clear()
    _SAVED.clear()
    for name in names:
        value = namespace.get(name, _MISSING)
        if isinstance(value, types.FunctionType):
            _SAVED[name] = value
            namespace[name] = _recorder(name, value)
        elif value is not _MISSING:
            _SAVED[name] = _copied(value)
    _say(saved=sorted(_SAVED))


def unwrap(namespace):
    """Put the answer's own functions back in place of the recorders."""
    for name, value in _SAVED.items():
        if isinstance(value, types.FunctionType):
            namespace[name] = value
    _say(calls={name: len(calls) for name, calls in _CALLS.items()})


def forget(namespace, names):
    """Remove ``names``, so that a mutant whose cell fails leaves them undefined, as in a fresh kernel."""
    for name in names:
        namespace.pop(name, None)
    _say(forgot=list(names))


def same(a, b):
    """True when ``a`` and ``b`` are the same result (arrays: same shape and ``allclose``, NaN equal to NaN).

    Examples
    --------
    >>> same(np.array([1.0, np.nan]), np.array([1.0 + 1e-13, np.nan])), same([1, 2], (1, 2)), same(1.0, 1.5)
    (True, False, False)
    """
    if type(a) is not type(b) and not (np.isscalar(a) and np.isscalar(b)):
        return False
    if isinstance(a, (np.ndarray, np.generic, float, int, complex)) and not isinstance(a, bool):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fciub" and b.dtype.kind in "fciub":
            # Equivalent means no visible change: far tighter than any check's tolerance.
            return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    try:
        return bool(a is b or a == b)
    except Exception:
        return False


def _outcome(func, before):
    args, kwargs = copy.deepcopy(before)
    try:
        return ("value", func(*args, **kwargs))
    except Exception as err:
        return ("raise", type(err).__name__)


def compare(namespace):
    """Print whether the names of the answer now give what the instructor's answer gave.

    Functions are called on every call recorded while the instructor's answer was tested; other values
    are compared directly. ``equivalent`` is true only when something was compared and nothing differed.
    """
    compared, differs = 0, []
    for name, original in _SAVED.items():
        current = namespace.get(name, _MISSING)
        if isinstance(original, types.FunctionType):
            calls = _CALLS.get(name, [])
            if not callable(current) or any(before is _MISSING or result[1] is _MISSING for before, result in calls):
                differs.append(name)
                continue
            for before, (kind, value) in calls:
                compared += 1
                got_kind, got = _outcome(current, before)
                if got_kind != kind or not same(got, value):
                    differs.append(name)
                    break
        else:
            compared += 1
            if original is _MISSING or current is _MISSING or not same(current, original):
                differs.append(name)
    _say(equivalent=bool(compared and not differs), compared=compared, differs=differs)
