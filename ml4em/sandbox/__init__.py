"""The grading sandbox: student notebooks run in a jail, and a crash or a cheat costs only its own cell.

- :mod:`ml4em.sandbox.jail`: bubblewrap namespaces, a throw-away user id, resource limits, a minimal environment;
- :mod:`ml4em.sandbox.kernel`: a Jupyter kernel manager that starts the kernel in a jail;
- :mod:`ml4em.sandbox.probe`: the in-kernel check that the grading machinery is still the installed code;
- :mod:`ml4em.sandbox.execute`: nbgrader's executor with all of the above and reruns with blanked cells.

The course's ``nbgrader_config.py`` puts :class:`SandboxedExecute` in place of nbgrader's executor.
"""

from .jail import Jail, Limits, sandbox_unavailable

__all__ = ["Jail", "Limits", "sandbox_unavailable", "SandboxedExecute", "SandboxUnavailable"]


def __getattr__(name):  # the executor imports nbgrader; load it only when asked for
    if name in ("SandboxedExecute", "SandboxUnavailable"):
        from . import execute

        return getattr(execute, name)
    raise AttributeError(f"module 'ml4em.sandbox' has no attribute {name!r}")
