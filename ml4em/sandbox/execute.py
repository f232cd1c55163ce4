"""nbgrader's executor, sandboxed: each submission runs in a jail, and a crash or a cheat costs only its own cell.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors`` (the course's
``nbgrader_config.py`` does it, so ``nbgrader autograde``, ``ml4em autograde`` and the formgrader all use it). For
each notebook it

1. copies that submission's folder into a fresh :class:`~ml4em.sandbox.jail.Jail` and starts the kernel there
   (:class:`~ml4em.sandbox.kernel.SandboxedKernelManager`);
2. before every cell, asks the :mod:`ml4em.sandbox.probe` whether the grading machinery is still the installed
   code; code that a student cell put there is traced to that cell;
3. runs the cell; output beyond ``output_limit`` bytes per cell is dropped (errors are always kept) with a note;
4. when the kernel dies, a cell does not stop when interrupted, or the probe finds foreign code, it throws the run
   away, replaces the answer cell responsible by its blank stub (the student version's cell) and runs the notebook
   again, at most ``max_reruns`` times; the feedback says which cell was blanked and why;
5. kills the jail's processes and removes its folder after each run.

What happened is recorded in the autograded notebook's metadata, ``metadata["ml4em"]["sandbox"]``, which
``ml4em integrity`` reports.

``sandbox = "on"`` (the default) refuses to grade where a jail cannot be made; ``"auto"`` falls back to nbgrader's
plain execution with a warning (``ml4em grade-check``, whose notebooks are the instructor's own); ``"off"`` is the
explicit opt-out (``ml4em autograde --no-sandbox``).
"""

import ast
import copy
import json
import os
import secrets
import time
import warnings
from queue import Empty

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Enum, Integer, Unicode

from .jail import Jail, Limits, sandbox_unavailable
from .kernel import SandboxedKernelManager

__all__ = ["SandboxedExecute", "SandboxUnavailable", "REMOVED_CELL"]

REMOVED_CELL = "# This cell was removed by the grader (see the note below it)."
_PROBE = "__import__('ml4em.sandbox.probe', fromlist=['probe']).probe({nonce!r})"


class SandboxUnavailable(RuntimeError):
    """The grading sandbox cannot be made on this machine, and running unsandboxed was not allowed."""


class _RunFailed(Exception):
    def __init__(self, index, reason, *, blame=True):
        super().__init__(reason)
        self.index, self.reason, self.blame = index, reason, blame


def _role(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("solution"):
        return "answer"
    if meta.get("grade") or meta.get("locked"):
        return "instructor"
    return "added"  # no nbgrader metadata: a cell the student added, or an ungraded cell of the release


class SandboxedExecute(Execute):
    """nbgrader's Execute in a :class:`~ml4em.sandbox.jail.Jail`, with crash and tamper recovery (module doc)."""

    sandbox = Enum(["on", "auto", "off"], "on", help="on: refuse without a sandbox; auto: fall back with a "
                   "warning; off: run unsandboxed (explicit)").tag(config=True)
    memory_limit = Integer(Limits.memory, help="address space of each kernel process, bytes").tag(config=True)
    cpu_limit = Integer(Limits.cpu, help="CPU seconds of each kernel process").tag(config=True)
    process_limit = Integer(Limits.processes, help="processes and threads of the kernel's user").tag(config=True)
    output_limit = Integer(1_000_000, help="bytes of output kept per cell (errors always kept)").tag(config=True)
    notebook_timeout = Integer(3600, help="wall-clock seconds for one run of a notebook").tag(config=True)
    response_timeout = Integer(30, help="seconds a kernel may take to answer after an interrupt").tag(config=True)
    max_reruns = Integer(5, help="how many answer cells may be blanked before the notebook is given up").tag(
        config=True)
    blank_stub = Unicode("# YOUR CODE HERE\nraise NotImplementedError()",
                         help="source of a blanked answer when the release's stub is unknown").tag(config=True)

    def _mode(self):
        if self.sandbox == "off":
            return "off"
        reason = sandbox_unavailable()
        if reason is None:
            return "on"
        if self.sandbox == "auto":
            warnings.warn(f"grading without a sandbox: {reason}", RuntimeWarning, stacklevel=2)
            return "off"
        raise SandboxUnavailable(
            f"refusing to run student code without the grading sandbox: {reason}. To grade anyway, with the "
            "student's code running with your rights, pass --no-sandbox to ml4em autograde "
            "(or --SandboxedExecute.sandbox=off to nbgrader).")

    # --- one notebook, with reruns ---------------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        """Execute ``nb`` (see the module docstring); returns the executed notebook and the resources."""
        mode = self._mode()
        self.shutdown_kernel = "immediate"
        original = copy.deepcopy(nb)
        folder = (resources or {}).get("metadata", {}).get("path") or os.getcwd()
        blanked, notes = {}, {"sandboxed": mode == "on", "blanked": [], "truncated": [], "limits": [], "killed": 0,
                              "runs": 0}
        while True:
            work = self._with_blanks(original, blanked, resources)
            notes["runs"] += 1
            try:
                result, resources = self._run_once(work, resources, folder, mode, notes)
                break
            except _RunFailed as failure:
                target = self._target(original, failure.index, blanked) if failure.blame else None
                if target is None or len(blanked) >= self.max_reruns:
                    result = self.nb if getattr(self, "nb", None) is not None else work
                    self._fail_rest(result, failure.index, failure.reason)
                    notes.setdefault("gave_up", []).append({"cell_index": failure.index, "reason": failure.reason})
                    break
                blanked[target] = failure.reason
                self.log.warning("blanking cell %s and running the notebook again: %s", target, failure.reason)
        for index, reason in sorted(blanked.items()):
            cell = result.cells[index]
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            notes["blanked"].append({"grade_id": gid, "cell_index": index, "reason": reason})
            cell.outputs = list(cell.get("outputs", [])) + [new_output(
                "stream", name="stdout", text=f"[ml4em grader] This answer was replaced by its blank stub and the "
                f"notebook was graded again, because {reason}. The points of your other answers are kept.\n")]
        result.metadata.setdefault("ml4em", {})["sandbox"] = notes
        return result, resources

    def _with_blanks(self, original, blanked, resources):
        work = copy.deepcopy(original)
        for index in blanked:
            cell = work.cells[index]
            cell.source = self._stub(cell, resources) if _role(cell) == "answer" else REMOVED_CELL
        return work

    def _stub(self, cell, resources):
        """The student version's source of an answer cell (from the gradebook), else :attr:`blank_stub`."""
        gid = cell.metadata["nbgrader"].get("grade_id")
        info = (resources or {}).get("nbgrader", {})
        if gid and info.get("db_url"):
            from nbgrader.api import Gradebook, MissingEntry

            try:
                with Gradebook(info["db_url"]) as gb:
                    return gb.find_source_cell(gid, info["notebook"], info["assignment"]).source
            except (MissingEntry, KeyError):
                pass
        return self.blank_stub

    @staticmethod
    def _target(nb, index, blanked):
        """The cell to blank for a failure at ``index``: that cell if it is the student's, else the answer before it."""
        for i in range(index, -1, -1):
            if i not in blanked and nb.cells[i].cell_type == "code" and _role(nb.cells[i]) != "instructor":
                return i
        return None

    @staticmethod
    def _fail_rest(nb, index, reason):
        """Give every graded cell from ``index`` on that did not run an error output, so that it scores 0."""
        for cell in nb.cells[index:]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade"):
                cell.outputs = [new_output("error", ename="GradingStopped", evalue=reason,
                                           traceback=[f"GradingStopped: this cell was not run: {reason}"])]

    def _run_once(self, nb, resources, folder, mode, notes):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._counts, self._bytes, self._notes, self._last_student = {}, {}, notes, None
        if mode == "off":
            self._jail = None
            return super().preprocess(nb, resources)
        data = os.environ.get("ML4EM_DATA_DIR")
        self._jail = Jail.create(folder, limits=Limits(memory=self.memory_limit, cpu=self.cpu_limit,
                                                       processes=self.process_limit),
                                 readonly=[data] if data else [])
        notes.setdefault("uids", []).append(self._jail.uid)
        saved = resources["metadata"]["path"] if resources and "metadata" in resources else None
        if saved is not None:
            resources["metadata"]["path"] = str(self._jail.workdir)
        try:
            return super().preprocess(nb, resources)
        finally:
            if saved is not None:
                resources["metadata"]["path"] = saved
            notes["killed"] += self._jail.close()
            self._jail = None

    def create_kernel_manager(self):
        """A :class:`SandboxedKernelManager` for the current jail (nbgrader's own manager without one)."""
        if self._jail is None:
            return super().create_kernel_manager()
        self.km = SandboxedKernelManager(jail=self._jail, config=self.config)
        return self.km

    # --- one cell ------------------------------------------------------------------------------------------
    def preprocess_cell(self, cell, resources, index):
        """Probe the kernel, run the cell, and turn a dead or deaf kernel into a :class:`_RunFailed`."""
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if time.monotonic() > self._deadline:
            raise _RunFailed(index, f"the notebook ran longer than {self.notebook_timeout} s", blame=False)
        if self._counts:
            self._probe(index)
        self._bytes[index] = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            raise _RunFailed(index, "the kernel died while this cell ran (os._exit, a crash or a resource "
                                    "limit)") from None
        except CellTimeoutError:  # interrupted, but the cell never reported that it finished
            raise _RunFailed(index, f"this cell ran past the {self.timeout} s limit and did not stop when "
                                    "interrupted") from None
        if cell.get("execution_count") is not None:
            self._counts[cell.execution_count] = index
        if _role(cell) != "instructor":
            self._last_student = index
        if any(o.get("output_type") == "error" and o.get("ename") == "MemoryError" for o in cell.outputs):
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            self._notes["limits"].append({"grade_id": gid, "cell_index": index, "limit": "memory",
                                          "bytes": self.memory_limit})
        timed_out = any(o.get("output_type") == "error" and "Timeout" in o.get("ename", "") for o in cell.outputs)
        if timed_out and not self._responds():
            raise _RunFailed(index, f"this cell ran past the {self.timeout} s limit and did not stop when "
                                    "interrupted")
        return cell, resources

    async def _async_user_expression(self, expression, timeout):
        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"v": expression})
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=min(left, 1.0))
            except Empty:
                if not await self.kc.is_alive():
                    return None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                value = msg["content"].get("user_expressions", {}).get("v", {})
                return value.get("data", {}).get("text/plain") if value.get("status") == "ok" else None

    def _user_expression(self, expression, timeout):
        """Evaluate ``expression`` in the kernel, past every input and AST transformer; its text/plain value or None."""
        return run_sync(self._async_user_expression)(expression, timeout)

    def _responds(self):
        return self._user_expression("1 + 1", self.response_timeout) == "2"

    def _probe(self, index):
        nonce = secrets.token_hex(8)
        raw = self._user_expression(_PROBE.format(nonce=nonce), self.response_timeout)
        try:
            report = json.loads(ast.literal_eval(raw))
            assert report["nonce"] == nonce
        except Exception:
            if self._last_student is None:
                raise _RunFailed(index, "the grader's probe got no answer from the kernel", blame=False) from None
            raise _RunFailed(self._last_student, "the grader's integrity probe got no valid answer after this "
                                                 "cell") from None
        blamed = []
        for finding in report["findings"]:
            cell_index = self._counts.get(finding.get("count"))
            if cell_index is None:
                cell_index = self._last_student  # foreign code of unknown origin: the last student cell ran it
            if cell_index is not None and _role(self.nb.cells[cell_index]) != "instructor":
                blamed.append((cell_index, finding["what"]))
            else:
                self.log.warning("foreign code in %s from an instructor cell: %s", finding["what"], finding["file"])
        if blamed:
            cell_index = min(i for i, _ in blamed)
            what = sorted({w for i, w in blamed if i == cell_index})
            raise _RunFailed(cell_index, f"it replaced part of the grading machinery ({', '.join(what[:3])})")

    # --- output ---------------------------------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        """Keep at most :attr:`output_limit` bytes of output per cell; error outputs are always kept."""
        if msg["msg_type"] != "error":
            content = msg.get("content", {})
            size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
            used = self._bytes.get(cell_index, 0)
            self._bytes[cell_index] = used + size
            if used + size > self.output_limit:
                if used <= self.output_limit:
                    outs.append(new_output("stream", name="stdout", text=(
                        f"\n[ml4em grader] output truncated: this cell printed more than {self.output_limit} "
                        "bytes.\n")))
                    gid = self.nb.cells[cell_index].get("metadata", {}).get("nbgrader", {}).get("grade_id")
                    self._notes["truncated"].append({"grade_id": gid, "cell_index": cell_index})
                return None
        return super().output(outs, msg, display_id, cell_index)
