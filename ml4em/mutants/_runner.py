"""Run the mutants of every exercise of one instructor notebook in one kernel.

The notebook runs cell by cell in one kernel (nbclient, as nbgrader executes notebooks). At each answer
cell that a test cell follows:

1. the test cell runs once with the answer's functions wrapped by a recorder (their calls, inputs and
   results are kept) and its other values saved;
2. for each mutant, the names the answer binds (those it does not also read first) are removed, the mutated
   cell runs, then the test cell (visible and hidden tests, the instructor's text); the test passes when it
   raises nothing and writes nothing on stderr (nbgrader's rule). Each of the two cells has the per-mutant
   timeout; a cell that runs past it is interrupted and the mutant counts as killed by the timeout;
3. a surviving mutant is compared with the answer on the recorded calls (or, for a value, directly);
4. the original answer cell runs again, and its test must pass again: state a mutant changed in other names
   (a global mutated in place, a module attribute) is restored only by re-running the original cell, which is
   enough for these notebooks; when the test does not pass again, the exercise reports it.

A kernel that dies is restarted and the notebook's cells run so far are run again.
"""

import ast
import copy
import json
import math
import time

from ._kernel import MARK

__all__ = ["exercise_cells", "bound_names", "NotebookRunner"]

_TIMEOUT_ERROR = {"ename": "TimeoutError", "evalue": "ml4em mutants: the cell ran past its timeout",
                  "traceback": []}


def exercise_cells(nb):
    """Pairs ``(answer_index, test_index)``: an autograded answer cell and the test cell right after it.

    Markdown cells between the two are allowed; a code cell that is not a test cell ends the search.
    """
    pairs = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution") or meta.get("grade"):
            continue
        nxt = next((j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"), None)
        test = nb.cells[nxt].metadata.get("nbgrader", {}) if nxt is not None else {}
        if test.get("grade") and not test.get("solution"):
            pairs.append((i, nxt))
    return pairs


_OWN_SCOPE = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)


def _names(node, ctx):
    """Names used with ``ctx`` in ``node``, leaving out comprehensions' and lambdas' own variables."""
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ctx) else set()
    if isinstance(node, _OWN_SCOPE) and ctx is not ast.Load:
        return set()
    return set().union(*(_names(child, ctx) for child in ast.iter_child_nodes(node)))


def bound_names(source):
    """Names an answer cell binds at top level, and those of them it reads before binding (its inputs).

    Examples
    --------
    >>> bound_names("errors = [g(d) for d in ds]\\nbest = min(errors)\\ndef f(x):\\n    return x\\nX = X - 1")
    (['X', 'best', 'errors', 'f'], ['X'])
    """
    bound, inputs = set(), set()
    for stmt in ast.parse(source).body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            loads = {n.id for d in stmt.decorator_list for n in ast.walk(d) if isinstance(n, ast.Name)}
            stores = {stmt.name}
        else:
            loads = _names(stmt, ast.Load)
            stores = _names(stmt, (ast.Store, ast.Del)) | {(a.asname or a.name).split(".")[0] for n in ast.walk(stmt)
                                      if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        inputs |= loads - bound
        bound |= stores
    return sorted(bound), sorted(bound & inputs)


class NotebookRunner:
    """One kernel on one notebook: run its cells, run cells of our own, read what the helper prints.

    Parameters
    ----------
    nb : nbformat.NotebookNode
    folder : path-like
        The kernel's working folder (the tutorial's folder).
    cell_timeout : int
        Seconds allowed to each of the notebook's own cells.
    """

    def __init__(self, nb, folder, cell_timeout):
        from nbclient import NotebookClient

        # nbclient stores each executed cell into its notebook: it gets a copy, the sources stay as they were.
        self.sources, self.cell_timeout, self.history = [c.source for c in nb.cells], cell_timeout, []
        self.client = NotebookClient(copy.deepcopy(nb), timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                                     interrupt_on_timeout=True, error_on_timeout=_TIMEOUT_ERROR,
                                     resources={"metadata": {"path": str(folder)}})

    def __enter__(self):
        self._kernel = self.client.setup_kernel()
        self._kernel.__enter__()
        self._install()
        return self

    def __exit__(self, *exc):
        return self._kernel.__exit__(*exc)

    def _install(self):
        from . import _kernel

        with open(_kernel.__file__, encoding="utf-8") as f:
            text = f.read()
        self.run(f"import types as _t\n__ml4em_mutants__ = {{}}\nexec(compile({text!r}, '<ml4em-mutants>', "
                 "'exec'), __ml4em_mutants__)\n__ml4em_mutants__ = _t.SimpleNamespace(**__ml4em_mutants__)\n"
                 "del _t", self.cell_timeout)

    def run(self, source, timeout, index=0):
        """Run ``source`` as a cell; returns ``(status, seconds, outputs)``, status "ok", "error", "timeout" or "dead"."""
        from nbclient.exceptions import DeadKernelError
        from nbformat.v4 import new_code_cell

        cell = new_code_cell(source)
        self.client.timeout = max(1, int(math.ceil(timeout)))  # nbclient takes whole seconds
        start = time.monotonic()
        try:
            self.client.execute_cell(cell, index)
        except DeadKernelError:
            return "dead", time.monotonic() - start, []
        seconds = time.monotonic() - start
        if seconds >= timeout:
            return "timeout", seconds, cell.outputs
        failed = any(o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")
                     for o in cell.outputs)
        return ("error" if failed else "ok"), seconds, cell.outputs

    def run_notebook_cell(self, index):
        """Run the notebook's own cell ``index`` and remember it for a replay after a restart."""
        self.history.append(index)
        return self.run(self.sources[index], self.cell_timeout, index)

    def ask(self, call, timeout=None):
        """Run ``__ml4em_mutants__.<call>`` and return the JSON it printed (None when it printed none)."""
        status, _, outputs = self.run(f"__ml4em_mutants__.{call}", timeout or self.cell_timeout)
        for out in outputs:
            if out.output_type == "stream" and out.name == "stdout":
                for line in out.text.splitlines():
                    if line.startswith(MARK):
                        return json.loads(line[len(MARK):])
        return None

    def restart(self):
        """Restart a dead kernel and replay the notebook's cells run so far; returns False when that fails."""
        try:
            self.client.km.restart_kernel()
            self.client.kc.wait_for_ready(timeout=60)
        except Exception:  # the kernel cannot be brought back: the caller stops the notebook
            return False
        self._install()
        history, self.history = self.history, []
        return all(self.run_notebook_cell(i)[0] != "dead" for i in history)
