"""Run-time settings shared by the package, the tutorials and the tests.

Quick mode
----------
Setting the environment variable ``ML4EM_QUICK=1`` asks every tutorial and
benchmark for its small version (less data, fewer epochs) so that the whole
test suite runs in minutes. Tutorials choose their sizes with
:func:`by_mode`, so that all of them honour the variable the same way::

    n_epochs = by_mode(full=2000, quick=200)

Static widgets
--------------
``ML4EM_STATIC_WIDGETS=1`` makes the ipywidgets explorers draw a static
panel of figures instead of live sliders (used for headless runs, the course
website and tests). Headless runs without the variable still work: the live
explorer then renders once with its default values.
"""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

__all__ = ["is_quick", "by_mode", "static_widgets", "restored_environ", "scripts_on_path", "QUICK_ENV",
           "STATIC_ENV"]

QUICK_ENV = "ML4EM_QUICK"
STATIC_ENV = "ML4EM_STATIC_WIDGETS"
_TRUE = {"1", "true", "yes", "on"}


def _flag(name):
    return os.environ.get(name, "").strip().lower() in _TRUE


def is_quick():
    """Return True when quick mode is on (``ML4EM_QUICK=1``).

    Examples
    --------
    >>> import os
    >>> old = os.environ.pop("ML4EM_QUICK", None)
    >>> is_quick()
    False
    >>> os.environ["ML4EM_QUICK"] = "1"
    >>> is_quick()
    True
    >>> _ = os.environ.pop("ML4EM_QUICK") if old is None else os.environ.update(ML4EM_QUICK=old)
    """
    return _flag(QUICK_ENV)


def by_mode(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Parameters
    ----------
    full : object
        Value for the full-size run (what students and benchmarks see).
    quick : object
        Value for the quick run of the test suite.

    Examples
    --------
    >>> by_mode(full=1000, quick=10) in (1000, 10)
    True
    """
    return quick if is_quick() else full


def static_widgets():
    """Return True when explorers should draw static figures (``ML4EM_STATIC_WIDGETS=1``)."""
    return _flag(STATIC_ENV)


@contextmanager
def restored_environ(*keys):
    """Give the environment variables ``keys`` back their values (or their absence) when the block ends.

    Examples
    --------
    >>> with restored_environ("ML4EM_EXAMPLE"):
    ...     os.environ["ML4EM_EXAMPLE"] = "1"
    >>> "ML4EM_EXAMPLE" in os.environ
    False
    """
    saved = {key: os.environ.get(key) for key in keys}
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def scripts_on_path():
    """Put the scripts of this Python's environment first on ``PATH`` (restore it with :func:`restored_environ`).

    nbgrader runs ``alembic`` (its database migrations) as a command, which must be found even when the virtual
    environment is not activated.
    """
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
