"""ml4em.mutants: the mutation operators, and the runner on a tiny nbgrader notebook (one kernel for the module)."""

import ast
import json
import re

import nbformat
import numpy as np
import pytest

from ml4em import cli
from ml4em.mutants import ExerciseResult, MutationReport, format_report, make_mutants, mutation_report
from ml4em.mutants import _report
from ml4em.mutants._kernel import same


def _cell(body, head="def f(a, b):", tail=""):
    lines = "\n".join("    " + line for line in body.splitlines())
    return f"{head}\n    ### BEGIN SOLUTION\n{lines}\n    ### END SOLUTION\n{tail}"


def _sources(cell, operator):
    """The mutated bodies (the function's last statement) that ``operator`` makes, unparsed."""
    return {ast.unparse(ast.parse(m.source).body[0].body[-1]) for m in make_mutants(cell) if m.operator == operator}


@pytest.mark.parametrize("body, operator, expected", [
    ("return a + b", "binop", {"return a - b"}),
    ("return a * b", "binop", {"return a / b"}),
    ("return a ** b", "binop", {"return a * b"}),
    ("return a // b", "binop", {"return a / b"}),
    ("return (a > 0) & (b > 0)", "binop", {"return (a > 0) | (b > 0)"}),
    ("return 2 * (a - b)", "drop-term", {"return 2 * a", "return 2 * b"}),
    ("return a < b", "compare", {"return a <= b"}),
    ("return a >= b", "compare", {"return a > b"}),
    ("return a == b", "compare", {"return a != b"}),
    ("return a[3]", "constant", {"return a[4]", "return a[2]"}),
    ("return a * 2.0", "constant", {"return a * 0.0", "return a * 1.0"}),
    ("return np.sum(a)", "reduce", {"return np.mean(a)"}),
    ("return a.mean()", "reduce", {"return a.sum()"}),
    ("return b.max(axis=0)", "axis", {"return b.max(axis=1)"}),
    ("return g(a, seed=b)", "drop-keyword", {"return g(a)"}),
    ("return g(a, b)", "swap-args", {"return g(b, a)"}),
    ("return a + b", "return", {"return 0", "return None", "return a"}),
    ("return a and b", "boolop", {"return a or b"}),
    ("return not b", "drop-not", {"return b"}),
    ("return ~b", "drop-not", {"return b"}),
])
def test_each_operator_makes_the_expected_source(body, operator, expected):
    assert _sources(_cell(body), operator) == expected


def test_a_parameter_is_set_to_its_default_at_the_start_of_the_solution():
    cell = _cell("return a + b", head="def f(a, b=3, *, seed=None):")
    found = {m.description: ast.unparse(ast.parse(m.source).body[0].body[0])
             for m in make_mutants(cell) if m.operator == "default-param"}
    assert found == {"line 3: parameter `b` ignored (set to its default `3`)": "b = 3",
                     "line 3: parameter `seed` ignored (set to its default `None`)": "seed = None"}


def test_mutants_are_new_valid_and_only_inside_the_solution():
    cell = _cell("x = np.asarray(a, dtype=float)\nif x.sum() > 0 and not b:\n    return x[1:] - 2 * x[:-1]\n"
                 "return np.mean(x ** 2, axis=0)", tail="print(f(1, 2) + 1)\n")
    mutants = make_mutants(cell)
    original = ast.dump(ast.parse(cell))
    dumps = [ast.dump(ast.parse(m.source)) for m in mutants]
    assert len(mutants) > 20 and original not in dumps and len(set(dumps)) == len(dumps)
    tail = ast.dump(ast.parse(cell).body[-1])
    assert all(ast.dump(ast.parse(m.source).body[-1]) == tail for m in mutants)  # the print after END SOLUTION
    assert all(re.fullmatch(r"line [3-6]: .+", m.description) and "\n" not in m.description for m in mutants)
    assert [m.line for m in mutants] == sorted(m.line for m in mutants)


def test_a_float_read_as_a_value_answer_is_moved_10_percent_and_one_in_a_function_is_not():
    cell = "### BEGIN SOLUTION\nbest_epsilon = 0.05\nregret = 198.1\n### END SOLUTION\nprint(best_epsilon)"
    assert [m.description for m in make_mutants(cell) if m.operator == "constant"] == [
        "line 2: `0.05` → `0.055`", "line 2: `0.05` → `0.045`", "line 3: `198.1` → `217.9`",
        "line 3: `198.1` → `178.3`"]
    assert not [m for m in make_mutants(_cell("return a * 0.05")) if m.operator == "constant"]


def test_a_value_answer_is_mutated_and_a_cell_that_is_not_python_is_refused():
    cell = "### BEGIN SOLUTION\nbest = int(np.argmin(errors)) + 1\n### END SOLUTION\nprint(best)"
    assert "line 2: `+` → `-` in `int(np.argmin(errors)) + 1`" in [m.description for m in make_mutants(cell)]
    with pytest.raises(SyntaxError):
        make_mutants("### BEGIN SOLUTION\n%timeit f(1)\n### END SOLUTION")


def test_same_compares_results_as_the_equivalence_check_does():
    assert same(np.arange(3.0), np.arange(3.0) * (1 + 1e-12)) and same({"a": (1, 2.0)}, {"a": (1, 2.0)})
    assert not same(np.arange(3.0), np.arange(3.0).reshape(3, 1)) and not same(np.arange(3.0), np.arange(3.0) + 1e-6)
    assert not same(None, 0) and same(np.float64(2.0), 2.0)


# The tiny course: `fsquare` has a strong test (every mutant that changes a result is killed; `k += 1` → `k += 0`
# never ends, `k += 2` is equivalent), `scale` a weak one that lets `*` → `/` through.
_STRONG = """def fsquare(a, b):
    ### BEGIN SOLUTION
    total, k = a, 0
    while k < 1:
        total = total + b ** 2
        k += 1
    return total
    ### END SOLUTION"""
_STRONG_TEST = "assert fsquare(3, 4) == 19\nassert fsquare(-1.5, 0.5) == -1.25"
_WEAK = """def scale(x, factor=2):
    ### BEGIN SOLUTION
    y = np.asarray(x, dtype=float)
    return y * factor
    ### END SOLUTION"""
_WEAK_TEST = "assert scale([1.0]).shape == (1,)"
# A value answer that changes `data` in place: running it again does not give back the instructor's state.
_LEAKY = "### BEGIN SOLUTION\ndata.append(4)\nn = len(data)\n### END SOLUTION"


def _nbgrader(cell, grade_id, **meta):
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "locked": False, "schema_version": 3, "solution": False,
                                 "task": False, "grade": False, **meta}
    return cell


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    new = nbformat.v4
    nb = new.new_notebook(cells=[
        new.new_code_cell("import numpy as np"),
        _nbgrader(new.new_code_cell(_STRONG), "ex1-strong", solution=True),
        _nbgrader(new.new_code_cell(_STRONG_TEST), "ex1-strong-tests", grade=True, locked=True, points=1),
        new.new_markdown_cell("Now a weak test."),
        _nbgrader(new.new_code_cell(_WEAK), "ex2-weak", solution=True),
        new.new_markdown_cell("(its test)"),
        _nbgrader(new.new_code_cell(_WEAK_TEST), "ex2-weak-tests", grade=True, locked=True, points=1),
        new.new_code_cell("data = [1, 2, 3]"),
        _nbgrader(new.new_code_cell(_LEAKY), "ex3-leaky", solution=True),
        _nbgrader(new.new_code_cell("assert n == 4"), "ex3-leaky-tests", grade=True, locked=True, points=1),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = root / "tutorials" / "99_toy"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "99_toy.ipynb")
    return root


@pytest.fixture(scope="module")
def report(course):
    return mutation_report("99_toy", course_root=course, quick=True, timeout=3)


def test_the_strong_test_kills_every_mutant_that_changes_a_result(report):
    strong = report.exercises[0]
    assert (strong.grade_id, strong.test_id) == ("ex1-strong", "ex1-strong-tests")
    assert strong.n_mutants == strong.n_possible == len(make_mutants(_STRONG)) > 10
    assert strong.survived == [] and strong.kill_rate == 1.0 and strong.problems == []
    assert strong.timeouts == ["line 6: `1` → `0`"] and strong.timeouts[0] in strong.killed
    assert strong.equivalent == ["line 6: `1` → `2`"]
    assert len(strong.killed) + len(strong.equivalent) == strong.n_mutants


def test_the_weak_test_lists_its_survivors_exactly(report):
    weak = report.exercises[1]
    assert weak.grade_id == "ex2-weak" and weak.problems == [] and report.problems == []
    assert weak.survived == ["line 4: `*` → `/` in `y * factor`"]
    # Called only as scale([1.0]): the default factor and the float input make these no change at all.
    assert weak.equivalent == ["line 3: parameter `factor` ignored (set to its default `2`)",
                               "line 3: `dtype=` removed from `np.asarray(x, dtype=float)`"]
    assert weak.kill_rate == pytest.approx(len(weak.killed) / (len(weak.killed) + 1))


def test_a_value_answer_is_run_and_state_that_is_not_restored_is_reported(report):
    leaky = report.exercises[2]
    assert leaky.grade_id == "ex3-leaky" and leaky.n_mutants == 2 and len(leaky.killed) == 2
    assert leaky.problems == ["after the mutants, the instructor's answer no longer passes its test: a mutant "
                              "changed state that re-running the answer cell does not restore"]


def test_the_table_and_the_json_report_the_figures(report, monkeypatch, capsys):
    table = format_report([report])
    assert re.search(r"ex2-weak\s+6\s+3\s+0\s+2\s+1\s+75%", table), table
    assert "ex2-weak: survived: line 4: `*` → `/` in `y * factor`" in table
    monkeypatch.setattr(_report, "mutation_report", lambda name, **kw: report)
    assert cli.main(["grade-check", "--mutants", "--json", "99_toy"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["exercises"][1]["survived"] == report.exercises[1].survived
    assert data[0]["kill_rate"] == report.kill_rate
    assert cli.main(["grade-check", "--mutants", "--min-kill-rate", "0.99", "99_toy"]) == 1
    assert cli.main(["grade-check", "--mutants", "--min-kill-rate", "0.5", "99_toy"]) == 0
    assert cli.main(["grade-check", "--mutants", "--min-kill-rate", "80", "99_toy"]) == 2
    assert "--min-kill-rate 80.0 should be a fraction" in capsys.readouterr().err


def test_max_mutants_draws_a_reproducible_subset(course):
    mutants = make_mutants(_STRONG)
    import random
    first = _report._chosen(mutants, 4, random.Random(1))
    assert first == _report._chosen(mutants, 4, random.Random(1)) and len(first) == 4
    assert [mutants.index(m) for m in first] == sorted(mutants.index(m) for m in first)
    assert _report._chosen(mutants, None, random.Random(1)) == mutants


def test_errors_name_the_argument(course):
    with pytest.raises(ValueError, match=r"assignment='nope' is not a tutorial of the course; choose one of \['99_toy'\]"):
        mutation_report("nope", course_root=course)
    with pytest.raises(ValueError, match=r"max_mutants=0 should be a positive int"):
        mutation_report("99_toy", course_root=course, max_mutants=0)


def test_kill_rate_is_none_without_non_equivalent_mutants():
    empty = MutationReport("x", [ExerciseResult("a", "b", n_possible=1, n_mutants=1, equivalent=["line 1: …"])])
    assert empty.kill_rate is None and empty.exercises[0].kill_rate is None
    assert re.search(r"a\s+1\s+0\s+0\s+1\s+0\s+-", format_report([empty]))


# --- the course's own tutorials: a weak test cannot land -------------------------------------------------------------
# Every tutorial's checks kill at least 95% of the non-equivalent mutants of its solutions (quick mode), and every
# autograded exercise has mutants.
from ml4em.grading import find_assignments  # noqa: E402

from conftest import ROOT  # noqa: E402

TUTORIALS = find_assignments(ROOT)


def test_every_tutorial_is_mutation_tested():
    assert len(TUTORIALS) >= 12


@pytest.mark.parametrize("assignment", TUTORIALS)
def test_tutorial_checks_kill_95_percent_of_mutants(repo_root, assignment):
    from ml4em.mutants import mutation_report

    report = mutation_report(assignment, course_root=repo_root, quick=True)
    survivors = [f"{e.grade_id}: {s}" for e in report.exercises for s in e.survived]
    assert report.kill_rate >= 0.95, f"{assignment} kills {report.kill_rate:.0%}; survivors: {survivors}"
    assert all(e.n_mutants > 0 and not e.problems for e in report.exercises), [
        (e.grade_id, e.n_mutants, e.problems) for e in report.exercises]
