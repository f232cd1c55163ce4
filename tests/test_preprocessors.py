"""The course's nbgrader preprocessors (ml4em.preprocessors) and sealed checks (ml4em.checks._seal)."""

import re
import subprocess
import sys
import textwrap

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output
from traitlets.config import Config

from ml4em.checks import CheckFailure, checks_digest, sealed
from ml4em.preprocessors import HIDDEN_NOTE, HideHiddenTests, LockInstructorCells, SealChecks, configure


def _test_cell(source, **outputs):
    return new_code_cell(source, metadata={"nbgrader": {"grade": True, "solution": False, "locked": True,
                                                        "grade_id": "ex1-tests", "points": 2, "schema_version": 3}},
                         **outputs)


TEST_SOURCE = textwrap.dedent("""\
    from ml4em.checks import sealed
    with sealed("regression") as checks:
        checks.check_mse(mse)
        ### BEGIN HIDDEN TESTS
        checks.check_mse(mse, y_true=[2.0], y_pred=[2.0])
        ### END HIDDEN TESTS
""")


def test_seal_checks_records_the_installed_digest():
    cell, _ = SealChecks().preprocess_cell(_test_cell(TEST_SOURCE), {}, 0)
    assert f'sealed("regression", digest="{checks_digest("regression")}", points=2)' in cell.source
    answer = new_code_cell('sealed("regression")', metadata={"nbgrader": {"solution": True, "grade": False}})
    assert SealChecks().preprocess_cell(answer, {}, 0)[0].source == 'sealed("regression")'  # answers untouched


def test_hide_hidden_tests_keeps_messages_and_drops_source_and_tracebacks():
    error = new_output("error", ename="CheckFailure", evalue="`mse(y_true, y_pred)` should be 0; got 1.",
                       traceback=["Traceback", "----> 5     checks.check_mse(mse, y_true=[2.0], y_pred=[2.0])"])
    cell, _ = HideHiddenTests().preprocess_cell(_test_cell(TEST_SOURCE, outputs=[error]), {}, 0)
    assert "y_true=[2.0]" not in cell.source and "HIDDEN" not in cell.source and HIDDEN_NOTE in cell.source
    assert "checks.check_mse(mse)" in cell.source  # the visible test stays
    assert cell.outputs[0]["evalue"] == error["evalue"]
    assert cell.outputs[0]["traceback"] == ["CheckFailure: `mse(y_true, y_pred)` should be 0; got 1."]


def test_lock_instructor_cells_marks_plain_cells_only():
    plain, answer = new_markdown_cell("text"), new_code_cell("x = 1", metadata={"nbgrader": {"solution": True}})
    assert LockInstructorCells().preprocess_cell(plain, {}, 7)[0].metadata["nbgrader"] == {
        "grade": False, "solution": False, "locked": True, "task": False, "grade_id": "ml4em-cell-7",
        "schema_version": 3}
    assert LockInstructorCells().preprocess_cell(answer, {}, 8)[0].metadata["nbgrader"] == {"solution": True}


def test_configure_puts_the_sandbox_in_place_of_nbgraders_executor():
    from nbgrader.preprocessors import Execute

    from ml4em.sandbox.execute import SandboxedExecute

    c = configure(Config())
    assert SandboxedExecute in c.Autograde.autograde_preprocessors
    assert Execute not in c.Autograde.autograde_preprocessors
    assert c.GenerateAssignment.preprocessors[:2] == [LockInstructorCells, SealChecks]
    assert c.GenerateFeedback.preprocessors[0] is HideHiddenTests and c.OverwriteCells.add_missing_cells is True


def test_sealed_checks_ignore_a_patched_module_and_report_warnings(capsys):
    import warnings

    import ml4em.checks.regression as module

    def mse(y_true, y_pred):
        warnings.warn("old function", DeprecationWarning)
        return 0.0

    saved = module.check_mse
    module.check_mse = lambda f: None  # what a cheating answer cell does
    try:
        # the fresh module has its own CheckFailure class, an AssertionError like the shared one
        with pytest.raises(AssertionError, match=r"should be 0.3125"):
            with sealed("regression") as checks:
                checks.check_mse(mse)
    finally:
        module.check_mse = saved
    assert "DeprecationWarning: old function" in capsys.readouterr().out


def test_sealed_checks_refuse_another_digest_and_an_unknown_topic():
    with pytest.raises(CheckFailure, match="not the ones this assignment was released with"):
        sealed("regression", digest="0" * 64)
    with pytest.raises(ValueError, match="topic='nope'"):
        sealed("nope")


def test_sealed_checks_do_not_use_a_replaced_core_module():
    code = textwrap.dedent("""
        import sys, types
        import ml4em.checks._core
        fake = types.ModuleType("ml4em.checks._core")
        fake.__dict__.update(vars(ml4em.checks._core))
        fake.check_close = lambda *a, **k: None
        sys.modules["ml4em.checks._core"] = fake
        from ml4em.checks import sealed
        try:
            with sealed("regression") as checks:
                checks.check_mse(lambda y, p: 0.0)
        except AssertionError as err:
            print("refused:", err)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "\ncheck 1 (check_mse): `mse(y_true, y_pred)` should be" in out.stdout, out.stderr


def test_every_tutorial_test_cell_loads_sealed_checks(repo_root):
    import nbformat

    for path in sorted((repo_root / "tutorials").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                assert cell.source.startswith("from ml4em.checks import sealed\nwith sealed("), (path, meta)
        assert not any(re.search(r"from ml4em\.checks import \w+ as checks", c.source) for c in nb.cells), path

