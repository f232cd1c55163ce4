"""A Jupyter kernel manager that starts the kernel inside a :class:`~ml4em.sandbox.jail.Jail`.

The kernel talks to the grader over Unix sockets in the jail's private ``run`` folder (ZeroMQ's ``ipc`` transport),
because the jail has a network namespace of its own in which the grader's loopback address does not exist.
Interrupts are sent as messages on the control channel (the jail starts the kernel in a session of its own, which
a signal to the grader's process group does not reach).

Used by: :class:`ml4em.sandbox.execute.SandboxedExecute`.
"""

import os
import subprocess
import sys

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any

__all__ = ["SandboxedKernelManager"]


class SandboxedKernelManager(AsyncKernelManager):
    """Start this Python's IPython kernel in ``jail`` (a :class:`~ml4em.sandbox.jail.Jail`)."""

    jail = Any(None, help="the Jail the kernel runs in")

    def __init__(self, jail=None, **kwargs):
        super().__init__(**kwargs)
        if jail is None:
            raise ValueError("SandboxedKernelManager needs jail=Jail(...); make one with Jail.create(submission_folder)")
        self.jail = jail
        self.transport = "ipc"
        self.ip = str(jail.rundir / "kernel")
        self.connection_file = str(jail.rundir / "kernel.json")
        self.cache_ports = False

    @property
    def kernel_spec(self):
        """This Python's IPython kernel, interrupted by message (whatever the notebook's kernel name says)."""
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                                           display_name="Python 3 (ml4em sandbox)", language="python",
                                           interrupt_mode="message", env={}, metadata={})
        return self._kernel_spec

    def write_connection_file(self, **kwargs):
        """Write the connection file and give it to the jail's user (it holds the session key)."""
        super().write_connection_file(**kwargs)
        os.chown(self.connection_file, self.jail.uid, self.jail.uid)
        os.chmod(self.connection_file, 0o400)

    async def _async_pre_start_kernel(self, **kw):
        # The kernel's own stdout and stderr (not the cells' output, which goes over the sockets) go to a log in the
        # jail's root folder, which the jail cannot see; it helps to understand a kernel that died.
        self._log = open(self.jail.root / "kernel.log", "ab")  # noqa: SIM115 (closed in cleanup_resources)
        kw.setdefault("stdout", self._log)
        kw.setdefault("stderr", self._log)
        kw.setdefault("stdin", subprocess.DEVNULL)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    cleanup_resources = _async_cleanup_resources  # AsyncKernelManager binds the name to the base method

    def format_kernel_cmd(self, extra_arguments=None):
        """The kernel's command line, wrapped by the jail."""
        return self.jail.command(super().format_kernel_cmd(extra_arguments))
