"""The instructor's whole grading round, end to end, with the commands of docs/instructor.md and docs/student.md.

A course with a local exchange folder and three simulated students: alice answers everything correctly, bob hands in
the blank notebook, carol answers two exercises, has a cell that raises and a cell that loops forever. The exported
grades must be exactly as expected, the endless loop must be cut by the timeout (graded 0) without stopping the
round, and every student gets feedback HTML. Finally every shell command of the two guides must have been run here.
"""

import csv
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

ASSIGNMENT = "01_regression"
DOCS = [ROOT / "docs" / "instructor.md", ROOT / "docs" / "student.md"]
TIMEOUT_S = 20  # per cell in this test (the course uses 300): long enough for any cell of tutorial 01


def doc_blocks(language):
    blocks = []
    for path in DOCS:
        blocks += re.findall(rf"```{language}\n(.*?)```", path.read_text(), re.S)
    return blocks


def doc_commands():
    return [ln.strip() for block in doc_blocks("bash") for ln in block.splitlines()
            if ln.strip() and not ln.strip().startswith("#")]


def normalise(command):
    """Drop `--student NAME`: on a hub the student id comes from the login; here all students are one OS user."""
    return re.sub(r"\s--student\s+\S+", "", command).strip()


class Round:
    def __init__(self, tmp):
        self.tmp = tmp
        self.course = tmp / "course"
        self.ran = []
        self.times = []
        (self.course / "tutorials").mkdir(parents=True)
        shutil.copytree(ROOT / "tutorials" / ASSIGNMENT, self.course / "tutorials" / ASSIGNMENT)
        shutil.copy(ROOT / "nbgrader_config.py", self.course / "nbgrader_config.py")
        # the system-wide configuration of docs/instructor.md, section 2, in a JUPYTER_CONFIG_DIR of our own
        config_dir = tmp / "etc-jupyter"
        config_dir.mkdir()
        (tmp / "exchange").mkdir()
        (config_dir / "nbgrader_config.py").write_text(doc_blocks("python")[0] +
                                                       f'\nc.Exchange.root = r"{tmp / "exchange"}"\n')
        # the course folder's own configuration (which wins over the system-wide one) sets the timeout
        with open(self.course / "nbgrader_config.py", "a") as fh:
            fh.write(f"\nc.Execute.timeout = {TIMEOUT_S}\n")
        self.env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir),
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}

    def run(self, command, cwd=None, check=True, home=None):
        self.ran.append(normalise(command))
        env = self.env if home is None else {**self.env, "HOME": str(home)}
        start = time.perf_counter()
        out = subprocess.run(shlex.split(command), cwd=cwd or self.course, env=env, capture_output=True,
                             text=True, timeout=900)
        self.times.append((round(time.perf_counter() - start, 1), command))
        if check and out.returncode != 0:
            pytest.fail(f"`{command}` exited {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        return out

    def home(self, student):
        path = self.tmp / f"home-{student}"
        path.mkdir(exist_ok=True)
        return path


def answer(notebook_path, solutions, which, extra=None):
    """Fill the answer cells `which` (grade_ids) with the instructor's solutions; `extra` overrides sources."""
    nb = nbformat.read(notebook_path, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if extra and gid in extra:
            cell.source = extra[gid]
        elif gid in which:
            cell.source = solutions[gid]
    nbformat.write(nb, notebook_path)


def test_grading_round(tmp_path):
    r = Round(tmp_path)
    instructor = nbformat.read(ROOT / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in instructor.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}

    # --- before the release (instructor.md, sections 1 and 2)
    out = r.run(f"ml4em grade-check {ASSIGNMENT}")
    assert "ok" in out.stdout and "FAIL" not in out.stdout
    assert "9 file(s) ready" in r.run("ml4em data download").stdout

    # --- release
    (r.course / "students.csv").write_text("id,first_name,last_name,email\nalice,Alice,A,a@x.org\n"
                                           "bob,Bob,B,b@x.org\ncarol,Carol,C,c@x.org\n")
    r.run("nbgrader db student import students.csv")
    r.run(f"nbgrader generate_assignment {ASSIGNMENT}")
    r.run(f"nbgrader release_assignment {ASSIGNMENT}")

    # --- students (student.md): fetch, answer, check, submit
    for student in ("alice", "bob", "carol"):
        r.run(f"nbgrader fetch_assignment {ASSIGNMENT} --course ml4em", cwd=r.home(student), home=r.home(student))
    # with Exchange.path_includes_course, a fetched assignment lands in <course>/<assignment>
    nb = lambda s: r.home(s) / "ml4em" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"  # noqa: E731
    answer(nb("alice"), solutions, set(solutions))
    answer(nb("carol"), solutions, {"ex1-design-matrix", "ex2-least-squares"},
           extra={"ex3-mse": "def mse(y_true, y_pred):\n    return 0.0\n\n1 / 0  # a cell that raises",
                  "ex4-kfold": "while True:  # a cell that never ends\n    pass",
                  "q9-overfitting": "The degree-14 polynomial fits the noise."})
    # the self-check of student.md, in a fresh kernel on the saved file
    check = ("import ml4em, sys; r = ml4em.check(); sys.exit(0 if r.passed else 1)")
    r.ran += [normalise(b) for b in doc_blocks("python")[1:]]  # the check snippet, run just below
    assert subprocess.run([sys.executable, "-c", check], cwd=nb("alice").parent, env=r.env).returncode == 0
    blank = subprocess.run([sys.executable, "-c", check], cwd=nb("bob").parent, env=r.env, capture_output=True,
                           text=True)
    assert blank.returncode == 1 and "0 of 8 test cells pass" in blank.stdout and "not answered yet" in blank.stdout
    for student in ("alice", "bob", "carol"):
        r.run(f"nbgrader submit {ASSIGNMENT} --course ml4em --student {student}", cwd=r.home(student),
              home=r.home(student))

    # --- grading (instructor.md, section 3)
    r.run(f"nbgrader collect {ASSIGNMENT}")
    r.run(f"nbgrader autograde {ASSIGNMENT}")
    carol = nbformat.read(r.course / "autograded" / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    loop = next(c for c in carol.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex4-kfold")
    assert any(o.get("output_type") == "error" and "Timeout" in o.get("ename", "") + str(o.get("evalue", ""))
               for o in loop.outputs), "the endless loop should have been cut by the timeout"
    # manual grading, as done in the formgrader
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{r.course / 'gradebook.db'}") as gb:
        for student, points in (("alice", 3.0), ("carol", 1.0)):
            grade = gb.find_grade("q9-overfitting", ASSIGNMENT, ASSIGNMENT, student)
            assert grade.auto_score is None and grade.needs_manual_grade
            grade.manual_score = points
        blank_q = gb.find_grade("q9-overfitting", ASSIGNMENT, ASSIGNMENT, "bob")
        assert blank_q.score == 0 and not blank_q.needs_manual_grade  # untouched answer: 0 automatically
        gb.db.commit()
    r.run(f"nbgrader generate_feedback {ASSIGNMENT}")
    r.run(f"nbgrader release_feedback {ASSIGNMENT}")
    for student in ("alice", "bob", "carol"):
        r.run(f"nbgrader fetch_feedback {ASSIGNMENT} --course ml4em --student {student}", cwd=r.home(student),
              home=r.home(student))
        html = list((r.home(student) / "ml4em" / ASSIGNMENT / "feedback").rglob(f"{ASSIGNMENT}.html"))
        assert len(html) == 1 and "Score" in html[0].read_text()
        assert (r.course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    r.run("nbgrader export --to grades.csv")
    rows = {row["student_id"]: row for row in csv.DictReader(open(r.course / "grades.csv"))}
    got = {s: (float(rows[s]["raw_score"]), float(rows[s]["max_score"])) for s in rows}
    # 15 autograded points + 3 by hand; carol: exercises 1 and 2 (2 + 2) and 1 point by hand
    assert got == {"alice": (18.0, 18.0), "bob": (0.0, 18.0), "carol": (5.0, 18.0)}

    # --- repairs and timeouts (instructor.md, sections 5 and 6)
    r.run(f"nbgrader autograde {ASSIGNMENT} --student alice --force --Execute.timeout=600")
    r.run(f"nbgrader autograde {ASSIGNMENT} --student bob --force")

    # --- self-study (student.md): the student versions
    r.run("ml4em student-version --out student")
    assert (r.course / "student" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()

    # --- every command of the guides was exercised above
    print("\n".join(f"{t:6.1f} s  {c}" for t, c in r.times))
    missing = [c for c in doc_commands() if normalise(c) not in r.ran]
    assert missing == [], f"commands in docs/ that no test runs: {missing}"
