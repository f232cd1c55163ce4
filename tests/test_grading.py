"""grade-check must catch the defects it exists for: a test that passes on the blank version, leaked solution or
hidden-test text, and an instructor version that raises. A clean toy assignment passes. (The leak scan itself, which
lines are secret and where they are found, is tested in test_leaks.py.)"""

import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ml4em.cli import main as cli_main
from ml4em.grading import find_assignments, grade_check
from ml4em.leaks import secret_lines

from conftest import ROOT


def _cell(kind, source, **nbgrader):
    cell = (new_code_cell if kind == "code" else new_markdown_cell)(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, "locked": False, "solution": False,
                                     "grade": False, **nbgrader}
    return cell


def _course(tmp_path, name, cells):
    root = tmp_path / "course"
    (root / "tutorials" / name).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "tutorials" / name / f"{name}.ipynb")
    return root


GOOD = [
    _cell("markdown", "# Toy\nLearning goals: none."),
    _cell("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
          solution=True, grade_id="ex1"),
    _cell("code", "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS",
          grade=True, locked=True, points=2, grade_id="ex1-tests"),
    _cell("markdown", "### BEGIN SOLUTION\nBecause doubling is linear.\n### END SOLUTION", grade=True,
          solution=True, points=1, grade_id="q1"),
]


def test_clean_assignment_passes(tmp_path):
    root = _course(tmp_path, "00_toy", GOOD)
    assert find_assignments(root) == ["00_toy"]
    (result,) = grade_check(course_root=root, quick=True)
    assert result.ok, result
    assert (result.max_points, result.solution_score, result.blank_score) == (2, 2, 0)
    assert (result.n_autograded, result.n_manual, result.manual_points) == (1, 1, 1)


def test_defects_are_caught(tmp_path, capsys):
    cells = GOOD + [
        _cell("code", "assert True  # passes without any student work", grade=True, locked=True, points=1,
              grade_id="ex2-tests"),
        _cell("code", "print(double(5))\nassert double(-3) == -6  # a hidden test repeated in the open"),
        _cell("code", "1 / 0"),
    ]
    root = _course(tmp_path, "00_bad", cells)
    (result,) = grade_check(["00_bad"], course_root=root, quick=True)
    assert not result.ok
    assert result.blank_nonzero == ["ex2-tests"] and result.blank_score == 1
    assert any("ZeroDivisionError" in e for e in result.errors)
    assert result.solution_failed == []
    assert cli_main(["grade-check", "--course-root", str(root)]) == 1
    out = capsys.readouterr()
    assert "FAIL" in out.out and "blank version passes: ex2-tests" in out.out


def test_leak_is_caught(tmp_path):
    cells = GOOD + [_cell("markdown", "Reminder: return 2 * x")]  # solution text outside the solution region
    root = _course(tmp_path, "00_leak", cells)
    nb = nbformat.read(root / "tutorials" / "00_leak" / "00_leak.ipynb", as_version=4)
    assert "return 2 * x" not in secret_lines(nb)  # shown in the open, hence not secret...
    cells = GOOD + [_cell("code", "# helper file\n")]
    root2 = _course(tmp_path / "b", "00_leak2", cells)
    (root2 / "tutorials" / "00_leak2" / "notes.py").write_text("# answer key\nassert double(-3) == -6\n")
    (result,) = grade_check(course_root=root2, quick=True)
    assert any("notes.py" in leak and "double(-3)" in leak for leak in result.leaks)  # ...but a file is scanned
    assert not result.ok


def test_unknown_assignment(tmp_path, capsys):
    root = _course(tmp_path, "00_toy", GOOD)
    with pytest.raises(ValueError, match="unknown assignment"):
        grade_check(["99_nothing"], course_root=root)
    assert cli_main(["grade-check", "99_nothing", "--course-root", str(root)]) == 2
    assert "unknown assignment" in capsys.readouterr().err


def test_no_tutorials_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no tutorials/ folder"):
        find_assignments(tmp_path)
