"""Checks called by the test cells of the tutorials.

The generic checks (:mod:`ml4em.checks._core`) compare a student's value with
an expected one and explain the difference. Each tutorial has a module here
(``ml4em.checks.regression`` for tutorial 01, ...) whose checks know the
exercise and give specific hints. Locked test cells load them afresh, verified,
with :func:`sealed` (see :mod:`ml4em.checks._seal`)::

    from ml4em.checks import sealed
    with sealed("regression") as checks:
        checks.check_design_matrix(design_matrix)
"""

from ._core import (
    CheckFailure,
    check_array,
    check_callable,
    check_close,
    check_scalar,
    check_shape,
    check_true,
)
from ._seal import checks_digest, sealed
from ._use import own_or_package

__all__ = [
    "sealed",
    "checks_digest",
    "own_or_package",
    "CheckFailure",
    "check_array",
    "check_callable",
    "check_close",
    "check_scalar",
    "check_shape",
    "check_true",
]
