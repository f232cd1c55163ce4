"""Partial credit: each named check of a test cell is worth its share of the cell's points (ml4em.checks.sealed).

The end-to-end tests run a test cell in a real kernel and score it with nbgrader's own ``determine_grade``, as
``nbgrader autograde`` does.
"""

import textwrap

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.utils import determine_grade

from ml4em.checks import CheckFailure, sealed


def mse(y, p):
    import numpy as np

    return float(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2))


def half_mse(y, p):  # a wrong answer: divides by 2n
    return mse(y, p) / 2


def test_each_check_is_reported_and_the_score_is_the_share_passed(capsys):
    with sealed("regression", points=3) as checks:
        checks.check_mse(mse)
        checks.check_mse(half_mse)
        checks.check_mse(mse, y_true=[2.0, 4.0], y_pred=[1.0, 1.0])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "check 1 (check_mse): passed"
    assert out[1].startswith("check 2 (check_mse): `mse(y_true, y_pred)` should be")
    assert "check 3 (check_mse): passed" in out
    assert "2 of 3 checks passed: 2 of 3 points" in out
    assert out[-1] == "2.0"  # the displayed result: nbgrader's partial credit


def test_a_blank_answer_fails_the_cell_as_not_answered():
    def blank(y, p):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="not answered yet: 2 check"):
        with sealed("regression", points=2) as checks:
            checks.check_mse(blank)
            checks.check_mse(blank, y_true=[1.0], y_pred=[1.0])


def test_an_answer_that_passes_no_check_fails_the_cell_with_every_message():
    with pytest.raises(AssertionError) as failure:
        with sealed("regression", points=2) as checks:
            checks.check_mse(half_mse)
            checks.check_mse(lambda y, p: 0.0, y_true=[1.0], y_pred=[3.0])
    lines = str(failure.value).splitlines()
    assert lines[0] == "0 of 2 checks passed: 0 of 2 points"
    assert lines[1].startswith("check 1 (check_mse):") and any(line.startswith("check 2 (check_mse):") for line in lines)


def test_without_points_a_failed_check_raises_after_every_check_ran(capsys):
    with pytest.raises(AssertionError) as failure:
        with sealed("regression") as checks:
            checks.check_mse(half_mse)
            checks.check_mse(mse)
            checks.check_mse(half_mse, y_true=[2.0, 4.0], y_pred=[1.0, 1.0])
    message = str(failure.value)
    assert "check 1 (check_mse)" in message and "check 3 (check_mse)" in message
    assert "check 2" not in message and message.splitlines()[0] == "1 of 3 checks passed"


def test_code_outside_the_checks_still_fails_the_cell(capsys):
    with pytest.raises(ZeroDivisionError):
        with sealed("regression", points=2) as checks:
            checks.check_mse(mse)
            1 / 0
    assert "check 1 (check_mse): passed" in capsys.readouterr().out


def test_the_checks_cannot_be_replaced_and_points_are_validated():
    with sealed("regression", points=1) as checks:
        with pytest.raises(AttributeError, match="read-only"):
            checks.check_mse = lambda f: None
        checks.check_mse(mse)
    with pytest.raises(ValueError, match="points=0"):
        sealed("regression", points=0)
    assert issubclass(CheckFailure, AssertionError)


ANSWER = textwrap.dedent("""\
    import numpy as np
    def mse(y, p):
        return float(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2)) {factor}
""")
TEST = textwrap.dedent("""\
    from ml4em.checks import sealed
    with sealed("regression", points=4) as checks:
        checks.check_mse(mse)
        checks.check_mse(mse, y_true=[1.0, 1.0], y_pred=[1.0, 1.0])
        checks.check_mse(mse, y_true=[2.0, 4.0], y_pred=[1.0, 1.0])
        checks.check_mse(mse, y_true=[0.0], y_pred=[3.0])
""")


@pytest.mark.parametrize("factor, expected", [("", 4.0), ("/ 2", 1.0), ("* 0 + 1", 0.0)])  # 4, 1, 0 checks pass
def test_nbgrader_scores_the_cell_with_the_share_of_checks_passed(factor, expected):
    meta = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "ex1-tests", "points": 4,
                         "schema_version": 3}}
    nb = new_notebook(cells=[new_code_cell(ANSWER.format(factor=factor)), new_code_cell(TEST, metadata=meta)])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    cell = nbformat.from_dict(nb.cells[1])
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert bool(errors) == (expected == 0), cell.outputs  # no check passed: the cell fails
    assert determine_grade(cell) == (expected, 4.0)


def test_a_students_function_cannot_reach_the_tally_through_checks(capsys):
    import __main__

    def cheating_mse(y, p):  # reads the test cell's `checks` (a notebook global) to add passes
        tally = getattr(__main__.checks, "_results", None)
        if tally is not None:
            tally.extend([("check_mse", None)] * 10)
        return 0.0

    try:
        with sealed("regression", points=2) as checks:
            __main__.checks = checks
            checks.check_mse(cheating_mse)
            checks.check_mse(mse)
    finally:
        del __main__.checks
    out = capsys.readouterr().out
    assert "1 of 2 checks passed: 1 of 2 points" in out and out.splitlines()[-1] == "1.0"


def test_integrity_reports_an_answer_that_uses_checks():
    from ml4em.integrity._scan import scan_cell
    from ml4em.integrity._state import NotebookState

    hits = scan_cell("def mse(y, p):\n    checks.check_mse = None\n    return vars(checks)\n", NotebookState())
    assert [(h.line, h.category) for h in hits] == [(2, "checks"), (3, "checks")]
    assert scan_cell("def mse(y, p):\n    checks = []\n    return checks\n", NotebookState()) == []
