"""The course's changes to nbgrader's pipelines: sealed checks at release, a sandbox at grading, no hidden tests in feedback.

The course's ``nbgrader_config.py`` calls :func:`configure`, so that every nbgrader command run from the course
folder (and the formgrader) uses them:

- ``generate_assignment`` makes every instructor cell a read-only nbgrader cell (:class:`LockInstructorCells`), so
  that autograding restores it and the sandbox tells it from a cell the student added, and :class:`SealChecks`
  records in each test cell the digest of the checks it calls (:func:`ml4em.checks.sealed`);
- ``autograde`` runs each submission in :class:`~ml4em.sandbox.execute.SandboxedExecute` instead of nbgrader's
  ``Execute``, and puts back test cells a student deleted (``OverwriteCells.add_missing_cells``);
- ``generate_feedback`` runs :class:`HideHiddenTests` first: the report shows each test cell's visible checks,
  points and failure message, and neither the hidden tests' source nor a traceback through it (nbgrader itself
  shows both).
"""

import re

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from .leaks import BEGIN_HIDDEN, END_HIDDEN

__all__ = ["LockInstructorCells", "SealChecks", "HideHiddenTests", "configure", "HIDDEN_NOTE"]

_SEALED = re.compile(r"""\bsealed\(\s*(["'])(\w+)\1\s*\)""")
HIDDEN_NOTE = "# (hidden tests ran here; their messages, if any failed, are below)"


def _is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


class LockInstructorCells(NbGraderPreprocessor):
    """Give every cell without nbgrader metadata the metadata of a read-only cell (``grade_id`` from its position)."""

    def preprocess_cell(self, cell, resources, index):
        """Mark ``cell`` locked unless it is already an nbgrader cell."""
        if not cell.get("metadata", {}).get("nbgrader"):
            cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "task": False,
                                         "grade_id": f"ml4em-cell-{index}", "schema_version": 3}
            cell.metadata["editable"] = cell.metadata["deletable"] = False
        return cell, resources


class SealChecks(NbGraderPreprocessor):
    """Write the installed checks' digest and the cell's points into every ``sealed("topic")`` call of the test cells.

    Run at release. With the points, each test cell scores the share of its named checks that pass (partial
    credit, see :func:`ml4em.checks.sealed`).
    """

    def preprocess_cell(self, cell, resources, index):
        """Rewrite ``sealed("topic")`` as ``sealed("topic", digest="<sha256>", points=P)`` in a test cell."""
        if _is_test_cell(cell):
            from .checks import checks_digest

            points = float(cell.metadata["nbgrader"].get("points", 0) or 0)
            extra = f", points={points:g}" if points > 0 else ""
            cell.source = _SEALED.sub(
                lambda m: f'sealed("{m.group(2)}", digest="{checks_digest(m.group(2))}"{extra})', cell.source)
        return cell, resources


def hide_hidden_tests(source):
    """``source`` with each hidden-test region (markers included) replaced by one comment line, same indentation.

    Examples
    --------
    >>> print(hide_hidden_tests("a()\\n    ### BEGIN HIDDEN TESTS\\n    b()\\n    ### END HIDDEN TESTS\\nc()"))
    a()
        # (hidden tests ran here; their messages, if any failed, are below)
    c()
    """
    out, inside = [], False
    for line in source.splitlines():
        if BEGIN_HIDDEN in line:
            inside = True
            out.append(line[:len(line) - len(line.lstrip())] + HIDDEN_NOTE)
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


class HideHiddenTests(NbGraderPreprocessor):
    """In feedback: drop hidden-test source, and cut every error in a test cell to its message."""

    def preprocess_cell(self, cell, resources, index):
        """Apply :func:`hide_hidden_tests` and shorten tracebacks of a test cell."""
        if _is_test_cell(cell):
            cell.source = hide_hidden_tests(cell.source)
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output = new_output("error", ename=output.get("ename", ""), evalue=output.get("evalue", ""),
                                        traceback=[f"{output.get('ename', '')}: {output.get('evalue', '')}"])
                outputs.append(output)
            cell.outputs = outputs
        return cell, resources


def _replace(defaults, old, new):
    return [new if p is old else p for p in defaults]


def configure(c):
    """Set up nbgrader config ``c`` (``get_config()`` in ``nbgrader_config.py``) for the course; see the module doc."""
    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.preprocessors import Execute

    from .sandbox.execute import SandboxedExecute

    c.OverwriteCells.add_missing_cells = True
    c.GenerateAssignment.preprocessors = [LockInstructorCells, SealChecks, *GenerateAssignment.class_traits()["preprocessors"].default()]
    c.Autograde.autograde_preprocessors = _replace(Autograde.class_traits()["autograde_preprocessors"].default(),
                                                   Execute, SandboxedExecute)
    c.GenerateFeedback.preprocessors = [HideHiddenTests, *GenerateFeedback.class_traits()["preprocessors"].default()]
    return c
