"""Generic checks for the tests in tutorial notebooks.

Every check raises :class:`CheckFailure` (an ``AssertionError``, so nbgrader
scores the cell 0) with a message that names what was checked, what was
expected, what was received and, where we can guess, what to look at.
"""

import numpy as np

__all__ = [
    "CheckFailure",
    "check_callable",
    "check_array",
    "check_shape",
    "check_scalar",
    "check_close",
    "check_true",
    "call_student",
]


class CheckFailure(AssertionError):
    """A tutorial check failed; the message tells the student what is wrong."""


def _fail(message, hint=None):
    if hint:
        message = f"{message}\nHint: {hint}"
    raise CheckFailure(message)


def call_student(name, fn, *args, **kwargs):
    """Call the student's ``fn``; an exception from their code becomes a :class:`CheckFailure` naming ``name``.

    The message is the exception's first line, without a traceback through the check. ``NotImplementedError``
    (the blank answer's stub) passes through unchanged, so that the self-check says "not answered yet".

    Examples
    --------
    >>> call_student("double", lambda x: 2 * x, 3)
    6
    >>> call_student("f", lambda: 1 / 0)
    Traceback (most recent call last):
    ...
    ml4em.checks._core.CheckFailure: `f` raised ZeroDivisionError: division by zero
    Hint: a division by zero: which count or length can be 0 here?
    """
    try:
        return fn(*args, **kwargs)
    except (CheckFailure, NotImplementedError):
        raise
    except Exception as error:  # the student's code raised: say so, without a traceback
        message = f"`{name}` raised {type(error).__name__}: {error}".splitlines()[0]
        hint = next((h for kind, text, h in _ERROR_HINTS if isinstance(error, kind) and text in str(error)), None)
        raise CheckFailure(f"{message}\nHint: {hint}" if hint else message) from None


# Typical errors of students' code and what to look at (the error's type and a piece of its message).
_ERROR_HINTS = (
    (TypeError, "arrays can be converted to Python scalars",
     "a function of the `math` module got an array: use numpy's (np.exp, np.log, np.sqrt, ...), which work on arrays."),
    (NameError, "is not defined",
     "a name your function uses does not exist: run the cells above it, or check the spelling."),
    (ValueError, "could not be broadcast",
     "two arrays of incompatible shapes meet in one operation: print their .shape, and check the axis you sum over."),
    (IndexError, "out of bounds", "an index runs past the end of an array: check the ranges of your loops and slices."),
    (ZeroDivisionError, "", "a division by zero: which count or length can be 0 here?"),
)


def check_true(condition, message, *, hint=None):
    """Fail with ``message`` unless ``condition`` holds.

    Examples
    --------
    >>> check_true(1 + 1 == 2, "arithmetic is broken")
    """
    if not bool(condition):
        _fail(message, hint)


def check_callable(obj, name):
    """Fail unless ``obj`` is a function (or other callable) called ``name``.

    Examples
    --------
    >>> check_callable(len, "len")
    >>> check_callable(3, "f")
    Traceback (most recent call last):
    ...
    ml4em.checks._core.CheckFailure: `f` should be a function; got int. Did you run the cell that defines it?
    """
    if not callable(obj):
        _fail(f"`{name}` should be a function; got {type(obj).__name__}. "
              "Did you run the cell that defines it?")


def check_array(name, value, *, ndim=None, shape=None, finite=True):
    """Fail unless ``value`` is array-like with the given ``ndim``/``shape`` and finite values.

    Returns the value as a float ndarray.

    Examples
    --------
    >>> check_array("x", [1.0, 2.0], shape=(2,)).dtype
    dtype('float64')
    """
    if value is None:
        _fail(f"`{name}` is None. Did you forget a `return` statement?")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(f"`{name}` should be an array of numbers; got {type(value).__name__}: {value!r:.80}")
    if ndim is not None and arr.ndim != ndim:
        _fail(f"`{name}` should have {ndim} dimension(s); got {arr.ndim} (shape {arr.shape}).")
    if shape is not None:
        check_shape(name, arr, shape)
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        _fail(f"`{name}` has {bad} non-finite value(s) (NaN or inf).",
              "look for a division by zero, a log of zero or an overflow.")
    return arr


def check_shape(name, value, shape, *, hint=None):
    """Fail unless ``np.shape(value) == shape``.

    Examples
    --------
    >>> check_shape("X", np.zeros((3, 2)), (3, 2))
    >>> check_shape("X", np.zeros((2, 3)), (3, 2))
    Traceback (most recent call last):
    ...
    ml4em.checks._core.CheckFailure: `X` should have shape (3, 2); got (2, 3).
    """
    got = tuple(np.shape(value))
    if got != tuple(shape):
        _fail(f"`{name}` should have shape {tuple(shape)}; got {got}.", hint)


def check_scalar(name, value):
    """Fail unless ``value`` is one real number; return it as a float."""
    if np.ndim(value) != 0:
        _fail(f"`{name}` should be a single number; got an array of shape {np.shape(value)}.",
              "did you forget to sum or average?")
    try:
        number = float(value)
    except (TypeError, ValueError):
        _fail(f"`{name}` should be a number; got {type(value).__name__}.")
    if not np.isfinite(number):
        _fail(f"`{name}` should be finite; got {number}.")
    return number


def check_close(name, value, expected, *, rtol=1e-7, atol=0.0, hint=None):
    """Fail unless ``value`` matches ``expected`` within ``rtol``/``atol``.

    Shapes are compared first; the message reports the worst element.

    Examples
    --------
    >>> check_close("y", [1.0, 2.0], [1.0, 2.0 + 1e-12])
    >>> check_close("y", [1.0, 2.5], [1.0, 2.0])
    Traceback (most recent call last):
    ...
    ml4em.checks._core.CheckFailure: `y` is not what we expected: at index (1,) we expected 2 and got 2.5 (1 of 2 values differ).
    """
    expected = np.asarray(expected, dtype=float)
    got = check_array(name, value, shape=expected.shape, finite=False)
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        n_bad = int(np.sum(~close))
        if expected.ndim == 0:
            _fail(f"`{name}` should be {expected.item():.6g}; got {got.item():.6g}.", hint)
        diff = np.where(close, 0.0, np.abs(got - expected))
        where = np.unravel_index(int(np.argmax(diff)), expected.shape)
        _fail(f"`{name}` is not what we expected: at index {tuple(int(i) for i in where)} we expected "
              f"{expected[where]:.6g} and got {got[where]:.6g} ({n_bad} of {expected.size} values differ).",
              hint)
