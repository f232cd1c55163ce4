"""ml4em integrity: hostile answer cells are found, one category each; honest ones (the instructor's) are not."""

import copy
import json
import shutil
import sys
import types

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from ml4em.cli import main
from ml4em.integrity import Finding, format_report, integrity_report

ASSIGNMENT = "01_regression"

# A small stand-in for ml4em.checks._own.package_answers, so these tests do not depend on its full list.
SMALL_ANSWERS = {"ml4em.regression.fit_least_squares": "01_regression: fit_least_squares",
                 "ml4em.regression.mse": "01_regression: mse"}

# Instructor solution cells that use one of the package's answers before that exercise is graded. The rule stays;
# each entry here is a question for the tutorial's author (see the report of the change that added this test).


@pytest.fixture
def real_answers():
    """Requested by a test that uses the real ml4em.checks._own.package_answers (when it exists)."""


@pytest.fixture(autouse=True)
def small_answers(request, monkeypatch):
    if "real_answers" in request.fixturenames:
        return
    module = types.ModuleType("ml4em.checks._own")
    module.package_answers = lambda topic=None: dict(SMALL_ANSWERS)
    monkeypatch.setitem(sys.modules, "ml4em.checks._own", module)


@pytest.fixture(scope="module")
def instructor_nb(repo_root):
    return nbformat.read(repo_root / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


@pytest.fixture
def course(tmp_path, repo_root):
    """A course folder with tutorial 01 (the instructor source) and nothing submitted yet."""
    shutil.copy(repo_root / "nbgrader_config.py", tmp_path)
    shutil.copytree(repo_root / "tutorials" / ASSIGNMENT, tmp_path / "tutorials" / ASSIGNMENT)
    return tmp_path


def _index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def submit(course, nb, student="mallory", folder="submitted"):
    path = course / folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def with_answer(instructor_nb, grade_id, code):
    """The instructor notebook with the answer cell ``grade_id`` replaced by ``code``."""
    nb = copy.deepcopy(instructor_nb)
    nb.cells[_index(nb, grade_id)].source = code
    return nb


HOSTILE = [
    # (answer cell, code, category, lines that must be reported)
    ("ex2-least-squares", 'checks = type("C", (), {"__getattr__": lambda s, n: lambda *a, **k: None})()',
     "checks", {1}),
    ("ex3-mse", "import ml4em.checks.regression as m\nm.check_mse = lambda f: None", "checks", {1, 2}),
    ("ex1-design-matrix", "from ml4em.checks import CheckFailure\ntry:\n    pass\nexcept CheckFailure:\n    pass",
     "checks", {1, 4}),
    ("ex5-best-degree", "x_cv = np.zeros(30)\nbest_degree = 0", "checks", {1}),
    ("ex5-best-degree", "y_cv[:] = 0.0\nbest_degree = 0", "checks", {1}),
    ("ex2-least-squares", "get_ipython().input_transformers_post.append(lambda lines: [])", "ipython", {1}),
    ("ex2-least-squares", "ip = get_ipython()\nip.events.register('post_run_cell', lambda result: None)",
     "ipython", {1, 2}),
    ("ex2-least-squares", "import sys\nsys.excepthook = lambda *args: None", "ipython", {2}),
    ("ex2-least-squares", "x = 1\n!echo hello", "ipython", {2}),
    ("ex2-least-squares", "%%capture\nx = 1", "ipython", {1}),
    ("ex2-least-squares", "def fit_least_squares(X, y:\n    return X", "ipython", {1}),
    ("ex3-mse", "np.allclose = lambda *a, **k: True", "modules", {1}),
    ("ex3-mse", "import sys\nsys.modules['ml4em.checks.regression'] = None", "modules", {2}),
    ("ex3-mse", "import importlib\nimportlib.reload(reg)", "modules", {1, 2}),
    ("ex3-mse", "reg.polynomial_features = lambda x, d: None", "modules", {1}),
    ("ex3-mse", "exec('checks = None')", "builtins", {1}),
    ("ex3-mse", "globals()['mse'] = lambda a, b: 0.0", "builtins", {1}),
    ("ex3-mse", "import sys\nframe = sys._getframe()\nframe.f_back.f_globals['x'] = 1", "builtins", {2, 3}),
    ("ex3-mse", "import builtins\nbuiltins.print = lambda *a: None", "builtins", {1, 2}),
    ("ex4-kfold", 'import os\nos.system("sleep 100 &")', "process", {2}),
    ("ex4-kfold", "import os; os._exit(1)", "process", {1}),
    ("ex4-kfold", "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)", "process", {1}),
    ("ex4-kfold", "import threading\nthreading.Thread(target=print).start()", "process", {1, 2}),
    ("ex4-kfold", "import os\n%timeit -n 1 os._exit(1)", "process", {2}),
    ("ex3-mse", 'open("../../tutorials/01_regression/01_regression.ipynb").read()', "files", {1}),
    ("ex3-mse", 'import shutil; shutil.rmtree("/srv/other")', "files", {1}),
    ("ex3-mse", 'import os\nhome = os.environ["HOME"]', "files", {2}),
    ("ex3-mse", 'from pathlib import Path\ntext = Path.home().joinpath("notes.txt").read_text()', "files", {2}),
    ("ex3-mse", "import os\nos.chdir('..')", "files", {2}),
    ("ex3-mse", "name = 'answers.txt'\nwith open(name) as fh:\n    fh.read()", "files", {2}),
    ("ex2-least-squares", "from ml4em.regression import fit_least_squares", "package-answers", {1}),
    ("ex2-least-squares", "import ml4em.regression as r2\n\n\ndef fit_least_squares(X, y):\n"
     "    return r2.fit_least_squares(X, y)", "package-answers", {5}),
    ("ex2-least-squares", "from ml4em.regression import fit_least_squares as f\n\n\ndef fit_least_squares(X, y):\n"
     "    return f(X, y)", "package-answers", {1, 5}),
    ("ex2-least-squares", "def fit_least_squares(X, y):\n    return reg.fit_least_squares(X, y)",
     "package-answers", {2}),
    ("ex3-mse", "from ml4em import regression\nmse = regression.mse", "package-answers", {2}),
]


@pytest.mark.parametrize("grade_id, code, category, lines", HOSTILE, ids=[f"{h[2]}-{i}" for i, h in
                                                                         enumerate(HOSTILE)])
def test_hostile_answer_cell_is_found_with_its_category(course, instructor_nb, grade_id, code, category, lines):
    submit(course, with_answer(instructor_nb, grade_id, code))
    findings = integrity_report(ASSIGNMENT, course_root=course)
    assert findings, f"nothing found in {code!r}"
    assert {(f.category, f.grade_id) for f in findings} == {(category, grade_id)}, format_report(findings)
    assert {f.line for f in findings} == lines, format_report(findings)
    index = _index(instructor_nb, grade_id)
    assert all(f.student == "mallory" and f.cell_index == index and f.explanation for f in findings)
    assert all(f.snippet == code.splitlines()[f.line - 1].strip() for f in findings)


def test_ordinary_scientific_code_is_not_flagged(course, instructor_nb):
    code = '''import numpy as np
import matplotlib.pyplot as plt
from sklearn.linear_model import LinearRegression
import gc
from scipy import signal


def fit_least_squares(X, y):
    """Least squares, three ways, with a figure."""
    rng = np.random.default_rng(0)
    noise = rng.normal(size=len(y)) * 0.0
    model = LinearRegression(fit_intercept=False).fit(X, y + noise)
    theta, *_ = np.linalg.lstsq(X, y, rcond=None)
    smooth = signal.savgol_filter(np.r_[y, y, y], 3, 1)
    fig, ax = plt.subplots()
    ax.plot(X[:, -1], y, "o", label="data / counts")
    ax.set_xlabel("energy loss (eV)")
    ax.set_title(f"fit of {len(y)} points...")
    plt.close(fig)
    with open("my_fit.txt", "w") as fh:
        fh.write(str(theta))
    np.savetxt("theta.csv", theta)
    gc.collect()
    assert np.allclose(model.coef_, theta) and smooth.size
    return theta

%timeit fit_least_squares(np.eye(3), np.ones(3))
%matplotlib inline
'''
    submit(course, with_answer(instructor_nb, "ex2-least-squares", code))
    assert integrity_report(ASSIGNMENT, course_root=course) == []


def test_package_answer_may_be_used_once_its_exercise_is_graded(course, instructor_nb):
    # ex4 comes after the test cells of fit_least_squares (ex2): using the course's version there is what the
    # tutorials themselves do.
    code = "def kfold_cv_error(x, y, degree, n_folds):\n    return reg.mse(y, y) + 0 * reg.fit_least_squares(1, 2)"
    submit(course, with_answer(instructor_nb, "ex4-kfold", code))
    assert integrity_report(ASSIGNMENT, course_root=course) == []


def test_without_the_package_list_every_ml4em_import_counts(course, instructor_nb, monkeypatch):
    monkeypatch.setitem(sys.modules, "ml4em.checks._own", None)  # as if ml4em.checks._own did not exist
    code = "from ml4em import datasets\ntheta = reg.fit_least_squares(X, y)"
    submit(course, with_answer(instructor_nb, "ex2-least-squares", code))
    findings = integrity_report(ASSIGNMENT, course_root=course)
    assert [(f.category, f.grade_id, f.line) for f in findings] == [("package-answers", "ex2-least-squares", 1)]


@pytest.mark.usefixtures("real_answers")
def test_instructor_solutions_of_every_tutorial_are_clean(tmp_path, repo_root):
    names = sorted(p.name for p in (repo_root / "tutorials").iterdir() if (p / f"{p.name}.ipynb").is_file())
    assert len(names) == 12
    shutil.copy(repo_root / "nbgrader_config.py", tmp_path)
    for name in names:
        shutil.copytree(repo_root / "tutorials" / name, tmp_path / "tutorials" / name)
        (tmp_path / "submitted" / "solution" / name).mkdir(parents=True)
        shutil.copy(repo_root / "tutorials" / name / f"{name}.ipynb", tmp_path / "submitted" / "solution" / name)
    try:
        from ml4em.checks._own import package_answers  # noqa: F401
        real = True
    except ImportError:  # not in this checkout: stand in with the answers the solutions could touch
        real = False
        module = types.ModuleType("ml4em.checks._own")
        module.package_answers = lambda topic=None: {
            **SMALL_ANSWERS, "ml4em.regression.cross_validate": "01_regression: kfold_cv_error; 01_regression: "
            "best_degree", "ml4em.regression.polynomial_features": "01_regression: design_matrix"}
        sys.modules["ml4em.checks._own"] = module
    try:
        found = [(name, f) for name in names for f in integrity_report(name, course_root=tmp_path)]
    finally:
        if not real:
            del sys.modules["ml4em.checks._own"]
    assert found == [], format_report([f for _, f in found])


def _test_cell(nb, grade_id):
    return nb.cells[_index(nb, grade_id)]


def test_deleted_edited_duplicated_and_changed_test_cells(course, instructor_nb):
    nb = copy.deepcopy(instructor_nb)
    _test_cell(nb, "ex1-design-matrix-tests").source = "pass"
    _test_cell(nb, "ex6-ridge-tests").metadata["nbgrader"]["points"] = 20
    _test_cell(nb, "ex7-gradient-step-tests").cell_type = "markdown"
    del _test_cell(nb, "ex2-least-squares").metadata["nbgrader"]
    nb.cells.append(copy.deepcopy(_test_cell(nb, "ex4-kfold-tests")))
    nb.cells[-1].id = "copy-of-ex4-tests"
    nb.cells.append(new_code_cell("print('my own cell')"))
    del nb.cells[_index(nb, "ex3-mse-tests")]
    submit(course, nb)
    findings = integrity_report(ASSIGNMENT, course_root=course)
    assert {f.category for f in findings} == {"cells"}
    got = {(f.grade_id, f.explanation.split(" (")[0].split(":")[0]) for f in findings}
    assert got == {
        ("ex1-design-matrix-tests", "the test cell ex1-design-matrix-tests was edited"),
        ("ex6-ridge-tests", "the nbgrader metadata of the test cell ex6-ridge-tests was changed"),
        ("ex7-gradient-step-tests", "the test cell ex7-gradient-step-tests is now a markdown cell; the assignment "
                                    "has a code cell"),
        ("ex2-least-squares", "the nbgrader metadata of the answer cell ex2-least-squares was removed, so nbgrader "
                              "no longer grades or restores it"),
        ("ex4-kfold-tests", "grade_id ex4-kfold-tests appears twice"),
        (None, "a code cell that is not in the assignment was added; it runs before the test cells that follow it"),
        ("ex3-mse-tests", "the test cell ex3-mse-tests was deleted"),
    }, format_report(findings)
    edited = next(f for f in findings if f.grade_id == "ex1-design-matrix-tests")
    assert (edited.line, edited.snippet) == (1, "pass")
    assert next(f for f in findings if f.grade_id == "ex3-mse-tests").cell_index is None


def test_only_the_lines_a_student_wrote_into_an_instructor_cell_count(course, instructor_nb):
    nb = copy.deepcopy(instructor_nb)
    index = next(i for i, c in enumerate(nb.cells) if "use_style()" in c.source)  # the imports cell
    nb.cells[index].source = "import os\n" + nb.cells[index].source.replace("use_style()", "use_style()\nos.system('ls')")
    submit(course, nb)
    findings = integrity_report(ASSIGNMENT, course_root=course)
    assert [(f.category, f.cell_index, f.snippet) for f in findings] == [("process", index, "os.system('ls')")]


def test_sandbox_records_are_reported(course, instructor_nb):
    submit(course, instructor_nb)
    graded = copy.deepcopy(instructor_nb)
    graded.metadata["ml4em"] = {"sandbox": {
        "sandboxed": True, "runs": 2, "killed": 0,
        "blanked": [{"grade_id": "ex4-kfold", "cell_index": 18, "reason": "the kernel died (os._exit or a crash)"}],
        "truncated": [{"grade_id": "ex3-mse", "cell_index": 11, "bytes": 104857600}, "odd entry"],
        "uids": [1_900_000_123, 1_900_000_456]}}
    submit(course, graded, folder="autograded")
    submit(course, instructor_nb, student="trent", folder="autograded")  # no sandbox metadata at all
    findings = integrity_report(ASSIGNMENT, course_root=course)
    # entries that are not about a cell (an odd string, the jails' user ids) are skipped
    assert [(f.student, f.category, f.grade_id, f.cell_index) for f in findings] == [
        ("mallory", "sandbox", "ex3-mse", 11), ("mallory", "sandbox", "ex4-kfold", 18)]
    assert "104857600 bytes" in findings[0].explanation and "the kernel died" in findings[1].explanation
    assert findings[0].notebook == f"autograded/mallory/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"


def test_release_made_by_nbgrader_is_clean_with_or_without_release_folder(course):
    from ml4em.student import generate_student_versions

    generate_student_versions(course / "release", [ASSIGNMENT], course_root=course)
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    submit(course, release, student="alice")
    tampered = copy.deepcopy(release)
    cell = _test_cell(tampered, "ex1-design-matrix-tests")
    cell.source = cell.source.replace("checks.check_design_matrix(design_matrix)", "pass")
    _test_cell(tampered, "ml4em-cell-3").source += "\nimport os"
    submit(course, tampered, student="bob")
    for with_release in (True, False):
        if not with_release:
            shutil.rmtree(course / "release")
        findings = integrity_report(ASSIGNMENT, course_root=course)
        assert {(f.student, f.category, f.grade_id) for f in findings} == {
            ("bob", "cells", "ex1-design-matrix-tests"), ("bob", "cells", "ml4em-cell-3")}, format_report(findings)


def test_cli_prints_a_table_and_json(course, instructor_nb, capsys):
    submit(course, with_answer(instructor_nb, "ex4-kfold", "import os; os._exit(1)"))
    submit(course, instructor_nb, student="alice")
    assert main(["integrity", ASSIGNMENT, "--course-root", str(course)]) == 0
    out = capsys.readouterr().out
    assert "1 finding(s) for 1 of 2 student(s)" in out and "alice: no findings" in out
    index = next(i for i, c in enumerate(instructor_nb.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == "ex4-kfold")
    assert f"ex4-kfold (cell {index})" in out and "process" in out and "import os; os._exit(1)" in out
    assert main(["integrity", ASSIGNMENT, "--course-root", str(course), "--student", "alice", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["students"] == ["alice"] and data["findings"] == []
    assert main(["integrity", ASSIGNMENT, "--course-root", str(course), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(f["student"], f["category"], f["grade_id"], f["line"]) for f in data["findings"]] == [
        ("mallory", "process", "ex4-kfold", 1)]
    assert set(data["findings"][0]) == set(Finding.__dataclass_fields__)


@pytest.mark.parametrize("argv, expected", [
    (["integrity", "99_nothing"], ["ASSIGNMENT '99_nothing'", "tutorials/99_nothing/", "Choose one of",
                                   "01_regression"]),
    (["integrity", ASSIGNMENT, "--student", "eve"], ["--student ['eve']", "no submission of 01_regression",
                                                     "mallory", "use an ID"]),
])
def test_cli_bad_arguments_exit_2_and_say_the_fix(course, instructor_nb, capsys, argv, expected):
    submit(course, instructor_nb)
    assert main([*argv, "--course-root", str(course)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ml4em integrity: error: ") and all(e in err for e in expected), err


def test_cli_missing_course_folder_exits_2(tmp_path, capsys):
    missing = tmp_path / "no-course"
    assert main(["integrity", ASSIGNMENT, "--course-root", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"--course-root '{missing}' is not a folder" in err and "nbgrader_config.py" in err
    (tmp_path / "empty").mkdir()
    assert main(["integrity", ASSIGNMENT, "--course-root", str(tmp_path / "empty")]) == 2
    assert "is not an nbgrader course folder" in capsys.readouterr().err


def test_api_errors_name_the_argument(course):
    with pytest.raises(ValueError, match=r"course_root='.*nowhere' is not a folder"):
        integrity_report(ASSIGNMENT, course_root=course / "nowhere")
    with pytest.raises(ValueError, match=r"assignment='02_neural_networks' is not in .*Choose one of \['01_regr"):
        integrity_report("02_neural_networks", course_root=course)
    with pytest.raises(ValueError, match=r"students=\['eve'\]: no submission of 01_regression .* none"):
        integrity_report(ASSIGNMENT, course_root=course, students="eve")
    assert integrity_report(ASSIGNMENT, course_root=course) == []


def test_unreadable_notebook_and_a_notebook_not_in_the_assignment(course, instructor_nb):
    path = submit(course, instructor_nb)
    path.with_name("broken.ipynb").write_text("{ not json")
    extra = copy.deepcopy(instructor_nb)
    extra.cells = [new_code_cell("import subprocess")]
    nbformat.write(extra, path.with_name("scratch.ipynb"))
    findings = integrity_report(ASSIGNMENT, course_root=course)
    got = [(f.notebook.rsplit("/", 1)[1], f.category, f.line) for f in findings]
    assert got == [("broken.ipynb", "cells", None), ("scratch.ipynb", "cells", None), ("scratch.ipynb", "process", 1)]
    assert "cannot be read" in findings[0].explanation


def test_format_report_groups_by_student():
    findings = [Finding("bob", "submitted/bob/a/a.ipynb", None, None, None, "cells", "", "the test cell t was deleted"),
                Finding("amy", "submitted/amy/a/a.ipynb", "ex1", 3, 2, "files", "open('/etc/passwd')", "reads")]
    text = format_report(findings, students=["amy", "bob", "carl"])
    assert text.splitlines()[0] == "ml4em integrity: 2 finding(s) for 2 of 3 student(s)"
    assert text.index("amy:") < text.index("bob:") < text.index("carl: no findings")
    assert "deleted" in text and "ex1 (cell 3)" in text
