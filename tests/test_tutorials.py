"""Every tutorial: its instructor version runs top to bottom without errors and scores full marks, the blank
student version scores 0 on every autograded cell and runs to the end on ml4em's fallbacks, the instructor
version's main result is computed with the student's own functions (counted by ml4em.checks.own_or_package), and
no solution or hidden-test text leaks (ml4em grade-check).
Also the structure every tutorial shares (learning goals, summary, explorer, enough exercises)."""

import re

import nbformat
import pytest

from ml4em.grading import find_assignments, format_table, grade_check

from conftest import ROOT

ASSIGNMENTS = find_assignments(ROOT)


def test_there_are_tutorials():
    assert "01_regression" in ASSIGNMENTS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_grade_check(name):
    (result,) = grade_check([name], course_root=ROOT, quick=True)
    assert result.ok, "\n" + format_table([result])
    assert result.errors == []          # the instructor version executes top to bottom
    assert result.solution_score == result.max_points > 0
    assert result.blank_score == 0 and result.blank_nonzero == []
    assert result.leaks == []
    # The blank version runs to the end on ml4em's fallbacks: only answer and test cells may fail.
    assert result.blank_errors == []
    # The tutorial's main result is computed by the student's functions: every own_or_package choice in the
    # instructor version takes the student's function, which is then called; in the blank version the package's.
    solution, blank = result.uses["solution"], result.uses["blank"]
    assert solution, f"{name}: no own_or_package call; the student's code should drive the main result"
    assert all(u["own"] and u["calls"] > 0 for u in solution), solution
    assert [u["name"] for u in blank] == [u["name"] for u in solution], (solution, blank)
    assert all(not u["own"] and u["calls"] > 0 for u in blank), blank


def _notebook(name):
    return nbformat.read(ROOT / "tutorials" / name / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_tutorial_structure(name):
    nb = _notebook(name)
    text = "\n".join(c.source for c in nb.cells)
    first = nb.cells[0].source.lower()
    assert nb.cells[0].cell_type == "markdown" and "learning goals" in first, "start with the learning goals"
    assert "summary" in nb.cells[-1].source.lower(), "end with a summary and what comes next"
    assert "../../lectures/part" in nb.cells[0].source, "link back to the lecture section it practises"
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    auto = [m for m, c in zip(meta, nb.cells) if m.get("grade") and c.cell_type == "code"]
    manual = [m for m, c in zip(meta, nb.cells) if m.get("grade") and m.get("solution") and c.cell_type == "markdown"]
    # at least 3 exercises (short transcriptions are merged into exercises of several steps) and 8 points
    assert len(auto) >= 3, f"{name} has {len(auto)} autograded test cells; at least 3 expected"
    assert sum(float(m.get("points", 0)) for m in auto) >= 8, f"{name} has under 8 autograded points"
    assert len(manual) >= 1, f"{name} has no manually graded question"
    assert all(m.get("locked") for m in auto), "test cells must be locked"
    ids = [m["grade_id"] for m in meta if "grade_id" in m]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    assert re.search(r"\bexplore\(|_explorer\(", text), f"{name} has no ipywidgets explorer (ml4em.widgets.explore)"
    assert "by_mode(" in text, f"{name} should size its work with ml4em.by_mode (quick mode)"
    # Each autograded exercise has hidden tests, except those that check a single variable on given data.
    hidden = sum("BEGIN HIDDEN TESTS" in c.source for c in nb.cells)
    assert hidden >= 2, f"{name}: only {hidden} test cells have hidden tests"
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id", "")
        if c.cell_type == "code" and gid.endswith("-tests") and "\ndef " in "\n" + answers.get(gid[:-6], ""):
            assert "BEGIN HIDDEN TESTS" in c.source, f"{name}: {gid} tests a function without hidden tests"
