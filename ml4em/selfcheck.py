"""``ml4em.check()``: let a student check a notebook's answers before submitting.

It runs nbgrader's validator on the saved notebook (in a fresh kernel, as the
grader will) and reports which test cells fail and why. Hidden tests are not in
the student version, so passing here is necessary, not sufficient.

Used in: every tutorial (the last cell suggests it) and docs/student.md.
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["COLAB_HINT", "CheckReport", "check"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class CheckReport:
    """What :func:`check` found.

    Attributes
    ----------
    notebook : str
        The file that was checked.
    n_tests : int
        Number of autograded test cells.
    failed : list of (str, str)
        (grade_id, last line of the error) of each failing test cell.
    changed : list of str
        Locked cells that were edited (they will be restored at grading).
    unanswered : int
        Written answers (graded by hand) still empty.
    """

    notebook: str
    n_tests: int = 0
    failed: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    unanswered: int = 0

    @property
    def passed(self):
        """True when every visible test passes and no locked cell was changed."""
        return not self.failed and not self.changed

    def __str__(self):
        lines = [f"{Path(self.notebook).name}: {self.n_tests - len(self.failed)} of {self.n_tests} test cells pass."]
        for gid, error in self.failed:
            lines.append(f"  FAILS {gid}: {error}")
        if self.unanswered:
            lines.append(f"  {self.unanswered} written answer(s) still empty (graded by hand).")
        for source in self.changed:
            lines.append(f"  a locked cell was changed (it will be restored when graded): {source[:60]!r}")
        if self.passed:
            lines.append("All visible tests pass. Hidden tests run when the notebook is graded.")
        return "\n".join(lines)


#: What to do on Colab, which keeps the notebook in Drive or in the browser, not as a file on the machine.
COLAB_HINT = ("On Colab the notebook is not a file on the machine: save it to your Drive (File > Save a copy in "
              "Drive, then Ctrl-S), mount the Drive (from google.colab import drive; drive.mount('/content/drive')) "
              "and pass the file's path: "
              "ml4em.check('/content/drive/MyDrive/Colab Notebooks/Copy of 01_regression.ipynb').")


def _on_colab():
    return "google.colab" in sys.modules


def _find_notebook(notebook):
    hint = " " + COLAB_HINT if _on_colab() else ""
    if notebook is not None:
        path = Path(notebook)
        if not path.is_file():
            raise FileNotFoundError(f"notebook={str(notebook)!r} does not exist; pass the path of a saved .ipynb "
                                    f"file.{hint}")
        return path
    here = Path.cwd()
    candidates = [p for p in here.glob("*.ipynb") if not p.name.startswith(".")]
    named = [p for p in candidates if p.stem == here.name]  # tutorials/NN_name/NN_name.ipynb
    if len(named) == 1:
        return named[0]
    if len(candidates) == 1:
        return candidates[0]
    raise ValueError(f"found {len(candidates)} notebooks in {here}; say which one: "
                     f"ml4em.check('01_regression.ipynb').{hint}")


def check(notebook=None, *, timeout=None, quiet=False):
    """Run the visible tests of a saved notebook in a fresh kernel and report the results.

    Save the notebook first (Ctrl-S): the saved file is what is checked.

    Parameters
    ----------
    notebook : path-like, optional
        Default: the notebook named like the current folder (``NN_name.ipynb``). On Colab, which keeps the
        notebook in Drive, pass the path of its copy in the mounted Drive (see :data:`COLAB_HINT`).
    timeout : int, optional
        Seconds allowed per cell.
    quiet : bool, default False
        Do not print the report.

    Returns
    -------
    CheckReport

    Raises
    ------
    FileNotFoundError
        When ``notebook`` is not a file.
    ValueError
        When ``notebook`` is not given and the current folder holds no notebook, or several. On Colab both
        messages say how to pass the notebook's copy in Drive.
    """
    import nbformat
    from nbgrader.validator import Validator
    from traitlets.config import Config

    path = _find_notebook(notebook).resolve()
    nb = nbformat.read(path, as_version=4)
    tests = {c.source.strip(): c.metadata["nbgrader"].get("grade_id", "?") for c in nb.cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
    config = Config()
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    results = Validator(config=config).validate(str(path))
    report = CheckReport(str(path), n_tests=len(tests))
    for cell in results.get("failed", []):
        gid = tests.get(cell["source"].strip())
        if gid is None:  # a written answer left empty
            report.unanswered += 1
            continue
        error = _ANSI.sub("", cell.get("raw_error") or "").strip().splitlines()
        last = error[-1] if error else "failed"
        if last.startswith("Partial credit"):  # nbgrader's words for a test cell that scored below its points
            last = "some of its checks fail (its output lists each check: passed, or what is wrong)"
        elif last.startswith("NotImplementedError"):
            last = "not answered yet (the answer cell still raises NotImplementedError)"
        report.failed.append((gid, last))
    report.changed = [cell["source"] for cell in results.get("changed", [])]
    if not quiet:
        print(report)
    return report
