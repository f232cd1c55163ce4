"""ml4em export-grades: nbgrader's gradebook as the CSV of Brightspace, Canvas and Moodle, exactly.

The gradebook is made with nbgrader's API: two assignments, three students.

================  ================================================  ==========================================
student           01_regression (max 10)                            02_neural_networks (max 8)
================  ================================================  ==========================================
alice             2 + 1.5 auto, 4 manual = 7.5                      4 auto, 2 auto overridden by 3 manual,
                                                                    1 late penalty = 6
bob               0 + 3 auto, 2.5 manual + 0.5 extra credit = 6     no submission
carol             2 + 3 auto, 5 manual, 12 late penalty = 0         1 + 0 auto = 1
================  ================================================  ==========================================
"""

import csv
import io
import re
import warnings

import pytest

from ml4em.cli import main
from ml4em.lms import export_grades, grade_rows, read_gradebook

A1, A2 = "01_regression", "02_neural_networks"


def _fill(gb):
    for assignment, cells in ((A1, [("ex1", 2, "code"), ("ex2", 3, "code"), ("q9", 5, "markdown")]),
                              (A2, [("ex1", 4, "code"), ("ex2", 4, "code")])):
        gb.add_assignment(assignment)
        gb.add_notebook(assignment, assignment)
        for name, points, kind in cells:
            gb.add_grade_cell(name, assignment, assignment, max_score=points, cell_type=kind)
    gb.add_student("alice", first_name="Alice", last_name="Liddell", email="alice@uni.example")
    gb.add_student("bob", first_name="Bob", last_name="Brown", email="bob@uni.example")
    gb.add_student("carol")
    grades = {("alice", A1): {"ex1": (2, None), "ex2": (1.5, None), "q9": (None, 4)},
              ("alice", A2): {"ex1": (4, None), "ex2": (2, 3)},
              ("bob", A1): {"ex1": (0, None), "ex2": (3, None), "q9": (None, 2.5)},
              ("carol", A1): {"ex1": (2, None), "ex2": (3, None), "q9": (None, 5)},
              ("carol", A2): {"ex1": (1, None), "ex2": (0, None)}}
    for (student, assignment), cells in grades.items():
        gb.add_submission(assignment, student)
        for name, (auto, manual) in cells.items():
            grade = gb.find_grade(name, assignment, assignment, student)
            grade.auto_score, grade.manual_score = auto, manual
    gb.find_grade("q9", A1, A1, "bob").extra_credit = 0.5
    gb.find_submission_notebook(A2, A2, "alice").late_submission_penalty = 1.0
    gb.find_submission_notebook(A1, A1, "carol").late_submission_penalty = 12.0
    gb.db.commit()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from nbgrader.api import Gradebook

    from ml4em._config import restored_environ, scripts_on_path

    root = tmp_path_factory.mktemp("lms")
    with restored_environ("PATH"), warnings.catch_warnings():
        scripts_on_path()  # a new gradebook is stamped by nbgrader's `alembic` command
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's sessions
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            _fill(gb)
    return root


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_scores_are_nbgraders(course):
    students, max_scores = read_gradebook([A1, A2], course_root=course)
    assert max_scores == {A1: 10.0, A2: 8.0}
    assert {s.student_id: s.scores for s in students} == {
        "alice": {A1: 7.5, A2: 6.0}, "bob": {A1: 6.0, A2: None}, "carol": {A1: 0.0, A2: 1.0}}
    # the same numbers as nbgrader's own export (which writes 0 for a missing submission)
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        CsvExportPlugin(to=str(course / "nbgrader-export.csv")).export(gb)
    with open(course / "nbgrader-export.csv", newline="") as fh:
        reference = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(fh)}
    ours = {(s.student_id, a): v or 0.0 for s in students for a, v in s.scores.items()}
    assert ours == reference


def test_brightspace(course):
    assert _rows(export_grades([A1, A2], format="brightspace", course_root=course)) == [
        ["OrgDefinedId", f"{A1} Points Grade", f"{A2} Points Grade", "End-of-Line Indicator"],
        ["alice", "7.5", "6", "#"],
        ["bob", "6", "", "#"],
        ["carol", "0", "1", "#"],
    ]


def test_canvas(course):
    text = export_grades([A2, A1], format="canvas", course_root=course, names={A1: "Tutorial 1 (4711)"})
    assert _rows(text) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A2, "Tutorial 1 (4711)"],
        ["Points Possible", "", "", "", "", "8", "10"],
        ["Liddell, Alice", "", "", "alice", "", "6", "7.5"],
        ["Brown, Bob", "", "", "bob", "", "", "6"],
        ["carol", "", "", "carol", "", "1", "0"],
    ]


def test_moodle_by_username_and_by_email(course, tmp_path):
    assert _rows(export_grades([A1, A2], format="moodle", course_root=course, missing="zero")) == [
        ["Username", A1, A2], ["alice", "7.5", "6"], ["bob", "6", "0"], ["carol", "0", "1"]]
    with pytest.raises(ValueError, match=r"no Email address for the student\(s\) \['carol'\]: add their emails"):
        export_grades([A1], format="moodle", course_root=course, id_column="Email address")
    id_map = tmp_path / "ids.csv"
    id_map.write_text("nbgrader_id,lms_id\nalice,alice@uni.example\nbob,bob@uni.example\ncarol,c.k@uni.example\n")
    assert _rows(export_grades([A1], format="moodle", course_root=course, id_column="Email address",
                               id_map=id_map)) == [
        ["Email address", A1], ["alice@uni.example", "7.5"], ["bob@uni.example", "6"], ["c.k@uni.example", "0"]]


def test_id_map(course, tmp_path, capsys):
    id_map = tmp_path / "ids.csv"
    id_map.write_text("nbgrader_id,lms_id\nalice,10001\ncarol,10003\nbob,10002\nnot_enrolled,10009\n")
    out = tmp_path / "brightspace.csv"
    assert main(["export-grades", A1, "--format", "brightspace", "--course-root", str(course), "--id-map",
                 str(id_map), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with open(out, newline="") as fh:
        assert list(csv.reader(fh)) == [["OrgDefinedId", f"{A1} Points Grade", "End-of-Line Indicator"],
                                        ["10001", "7.5", "#"], ["10002", "6", "#"], ["10003", "0", "#"]]
    id_map.write_text("nbgrader_id,lms_id\nalice,10001\ncarol,\n")
    assert main(["export-grades", A1, "--format", "canvas", "--course-root", str(course), "--id-map",
                 str(id_map)]) == 2
    err = capsys.readouterr().err
    assert f"--id-map '{id_map}': no SIS Login ID for the student(s) ['bob', 'carol']" in err
    assert "add a row nbgrader_id,lms_id" in err
    id_map.write_text("student,lms\nalice,1\n")
    with pytest.raises(ValueError, match=r"has no column nbgrader_id or lms_id .*first line should be: "
                                         r"nbgrader_id,lms_id"):
        export_grades([A1], format="canvas", course_root=course, id_map=id_map)
    id_map.write_text("nbgrader_id,lms_id\nalice,1\nalice,2\n")
    with pytest.raises(ValueError, match=r"maps 'alice' twice \('1' and '2'\)"):
        export_grades([A1], format="canvas", course_root=course, id_map=id_map)


def test_never_overwrites_without_overwrite(course, tmp_path, capsys):
    out = tmp_path / "grades.csv"
    out.write_text("keep me\n")
    argv = ["export-grades", A1, "--format", "moodle", "--course-root", str(course), "--out", str(out)]
    assert main(argv) == 2
    assert f"--out '{out}' exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
    assert main(argv + ["--overwrite"]) == 0
    assert out.read_text().splitlines()[0] == f"Username,{A1}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv"]  # no temporary file left


def test_stdout_without_out(course, capsys):
    assert main(["export-grades", A1, A2, "--format", "canvas", "--course-root", str(course),
                 "--id-column", "SIS User ID"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows[2] == ["Liddell, Alice", "", "alice", "", "", "7.5", "6"]


@pytest.mark.parametrize("argv, expected", [
    ([A1, "--format", "canvas", "--course-root", "{tmp}"], r"--course-root '.*' has no gradebook.db"),
    (["03_clustering", "--format", "canvas"], r"ASSIGNMENT \['03_clustering'\] are not in .*gradebook.db; it "
                                              r"has \['01_regression', '02_neural_networks'\]"),
    ([A1, "--format", "canvas", "--id-column", "Username"], r"--id-column 'Username' is not a column canvas "
                                                            r"matches students by; choose one of"),
    ([A1, "--format", "moodle", "--name", "Tutorial 1"], r"--name 'Tutorial 1' should be ASSIGNMENT=ITEM"),
    ([A1, "--format", "moodle", "--name", f"{A2}=NN"], r"--name \['02_neural_networks'\] are not among the "
                                                       r"exported assignments"),
    ([A1, "--format", "moodle", "--id-map", "{tmp}/none.csv"], r"--id-map '.*none.csv' is not a file"),
])
def test_errors_exit_2(course, tmp_path, argv, expected, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--course-root" not in argv:
        argv += ["--course-root", str(course)]
    assert main(["export-grades", *argv]) == 2
    assert re.search(expected, capsys.readouterr().err)


def test_grade_rows_validates():
    with pytest.raises(ValueError, match=r"format='blackboard' is not one of \['brightspace', 'canvas', 'moodle'\]"):
        grade_rows([], {A1: 10.0}, format="blackboard")
    with pytest.raises(ValueError, match=r"missing='skip' should be 'empty'"):
        grade_rows([], {A1: 10.0}, format="canvas", missing="skip")
    with pytest.raises(ValueError, match=r"assignments=\[\] names no assignment"):
        read_gradebook([], course_root=".")


def test_unknown_format_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export-grades", A1, "--format", "blackboard"])
    assert exit_info.value.code == 2
    assert "--format: invalid choice: 'blackboard'" in capsys.readouterr().err
