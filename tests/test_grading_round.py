"""The instructor's whole grading round, end to end, with the commands of docs/instructor.md and docs/student.md.

A course with a local exchange folder and simulated students (each with a home folder of their own):

- alice answers everything correctly, bob hands in the blank notebook, carol answers two exercises, has a cell
  that raises and a cell that loops forever, and honest_warn answers correctly with a deprecated numpy function;
- twelve hostile students (see hostile_students), each cheating or crashing in one way, with otherwise honest or
  blank answers chosen so that the score each one deserves is known in advance.

The round runs in the grading sandbox (it needs root; CI runs as root). It must complete; every exported grade is
exactly the expected one; no honest student's file changes; nothing the hostile students started is running after
it; the released feedback holds the failure messages and no line of a hidden test; ``ml4em integrity`` names every
cheat (and nothing of the honest students); the published student repository is clean. Finally every shell command
of the two guides must have been run here.
"""

import copy
import csv
import hashlib
import json
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
MARKER = "ml4em-hostile-daemon"  # in the command line of the process the daemon student leaves behind


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
        # what ml4em publish-student reads: the launch settings and the data notes
        (self.course / "site").mkdir()
        shutil.copy(ROOT / "site" / "site.cfg", self.course / "site" / "site.cfg")
        shutil.copytree(ROOT / "data", self.course / "data")
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


def hostile_students(course, tmp, solutions):
    """Answer-cell sources of each hostile student (grade_id -> source; missing = left blank), with the score
    (autograded points of 16) each one deserves, and what ``ml4em integrity`` must report about them.

    Each test cell scores the share of its named checks that pass (partial credit), so an answer that is right on
    some cases only earns that share.

    Honest answers are the instructor's. Exercise 4 (k-fold) calls the student's design_matrix,
    fit_least_squares and mse, so it depends on exercises 1-3; exercises 5-8 depend on nothing the student wrote.
    Points: ex1 2, ex2 2, ex3 1, think-explorer-degree 1, ex4 3, ex5 1, ex6 2, ex7 2, ex8 2.
    """
    honest = dict(solutions)
    honest.pop("q9-overfitting")
    everything = set(honest)
    paths = [str(course / "tutorials"), str(course / "submitted"), str(course / "gradebook.db"),
             str(ROOT / "tutorials"), *[str(tmp / f"home-{s}") for s in ("alice", "bob", "carol", "honest_warn")]]
    return {
        # an answer that is the package's implementation: refused (ex6), the rest honest
        "pkg": ({**honest, "ex6-ridge": "from ml4em.regression import fit_ridge as _fit\n\n"
                 "def fit_ridge(X, y, alpha):\n    return _fit(X, y, alpha, penalize_intercept=True)\n"},
                14, [("package-answers", "ex6-ridge")]),
        # rebinds the name `checks` to an object whose checks pass everything; only ex1 answered
        "rebind": ({"ex1-design-matrix": honest["ex1-design-matrix"] + "\n\nchecks = type('C', (), {'__getattr__': "
                    "lambda self, name: (lambda *a, **k: None)})()\n"}, 2, [("checks", "ex1-design-matrix")]),
        # replaces functions of the checks modules (that cell is blanked); its ex2 is wrong for a single column only,
        # which one of the three checks tests: 2 of 3 checks pass, 2 * 2/3 points
        "monkeypatch": ({"ex1-design-matrix": honest["ex1-design-matrix"] + "\n\nimport ml4em.checks._core as core\n"
                         "import ml4em.checks.regression as m\ncore.check_close = lambda *a, **k: None\n"
                         "m.check_least_squares = lambda *a, **k: None\n",
                         "ex2-least-squares": "def fit_least_squares(X, y):\n    if X.shape[1] == 1:\n"
                         "        return np.zeros(1)\n    theta, *_ = np.linalg.lstsq(X, y, rcond=None)\n"
                         "    return theta\n"}, 1.3333, [("checks", "ex1-design-matrix")]),
        # an input transformer that blanks every test cell; ex6 and ex7 honest
        "transformer": ({"ex1-design-matrix": "get_ipython().input_transformers_post.append(\n"
                         "    lambda lines: [] if any('check' in line for line in lines) else lines)\n",
                         "ex6-ridge": honest["ex6-ridge"], "ex7-gradient-step": honest["ex7-gradient-step"]},
                        4, [("ipython", "ex1-design-matrix")]),
        # edits one test cell and deletes another (see edit_test_cells); ex1 and ex3 honest, ex2 wrong
        "cells": ({"ex1-design-matrix": honest["ex1-design-matrix"], "ex3-mse": honest["ex3-mse"],
                   "ex2-least-squares": "def fit_least_squares(X, y):\n    return np.zeros(X.shape[1])\n"},
                  3, [("cells", "ex2-least-squares-tests"), ("cells", "ex3-mse-tests")]),
        # all honest, and the last answer ends the kernel
        "exit": ({**honest, "ex8-eta-max": honest["ex8-eta-max"] + "\nimport os\nos._exit(1)\n"},
                 14, [("process", "ex8-eta-max")]),
        # all honest, and ex7 ignores interrupts in an endless loop
        "sigint": ({**honest, "ex7-gradient-step": honest["ex7-gradient-step"] + "\nimport signal\n"
                    "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"},
                   14, [("process", "ex7-gradient-step")]),
        # all honest, but ex8 first allocates 20 GB
        "alloc": ({**honest, "ex8-eta-max": "_big = np.ones(20 * 2**30 // 8)\n" + honest["ex8-eta-max"]},
                  14, [("sandbox", "ex8-eta-max")]),
        # all honest, and ex5 prints 100 MB
        "flood": ({**honest, "ex5-best-degree": "print('x' * 100_000_000)\n" + honest["ex5-best-degree"]},
                  16, [("sandbox", "ex5-best-degree")]),
        # all honest, and ex3 reads the instructor's notebook, the gradebook and the environment
        "reader": ({**honest, "ex3-mse": honest["ex3-mse"] + "\n\nfound = {}\nfor path in " + repr(
                    [str(course / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
                     str(ROOT / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), str(course / "gradebook.db")]) +
                    ":\n    try:\n        found[path] = open(path, 'rb').read()[:100]\n    except OSError as err:\n"
                    "        found[path] = type(err).__name__\nimport os\nprint('READ', found)\n"
                    "print('ENV', sorted(os.environ))\n"}, 16, [("files", "ex3-mse")]),
        # all honest, and ex3 deletes other students' files, the course source and the gradebook
        "vandal": ({**honest, "ex3-mse": honest["ex3-mse"] + "\n\nimport os\nimport shutil\nfor path in " +
                    repr(paths) + ":\n    shutil.rmtree(path, ignore_errors=True)\n    if os.path.isfile(path):\n"
                    "        os.remove(path)\n"}, 16, [("files", "ex3-mse")]),
        # all honest, and ex2 leaves a detached process that rewrites the gradebook after the round
        "daemon": ({**honest, "ex2-least-squares": honest["ex2-least-squares"] + "\n\nimport subprocess\nimport sys\n"
                    "subprocess.Popen([sys.executable, '-c', " + repr(
                        f"# {MARKER}\nimport sqlite3, time\ntime.sleep(15)\n"
                        f"db = sqlite3.connect({str(course / 'gradebook.db')!r})\n"
                        "db.execute('update grade set manual_score = 100')\ndb.commit()\n") +
                    "], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"},
                   16, [("process", "ex2-least-squares")]),
    }, everything


HONEST_WARN_DESIGN = '''def design_matrix(x, degree):
    """Return the (n_samples, degree + 1) matrix of powers x**0, ..., x**degree."""
    x = np.asarray(x, dtype=float)
    return np.row_stack([x**j for j in range(degree + 1)]).T  # row_stack is deprecated: a DeprecationWarning
'''


def edit_test_cells(notebook_path):
    """The `cells` student: the ex2 test cell made to pass anything, the ex3 test cell deleted."""
    nb = nbformat.read(notebook_path, as_version=4)
    kept = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "ex3-mse-tests":
            continue
        if gid == "ex2-least-squares-tests":
            cell.source = "pass  # no test here"
        kept.append(cell)
    nb.cells = kept
    nbformat.write(nb, notebook_path)


def tree_digest(*folders):
    """SHA-256 over the relative paths and contents of every file in ``folders`` (missing folders count too)."""
    digest = hashlib.sha256()
    for folder in folders:
        digest.update(str(folder).encode())
        for path in sorted(Path(folder).rglob("*")) if Path(folder).exists() else []:
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def sandbox_processes(uids):
    """Processes of the sandbox user ids ``uids``, and any process that carries the daemon student's marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ids = [int(v) for v in (entry / "status").read_text().split("Uid:")[1].split()[:2]]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if set(ids) & set(uids) or (MARKER in cmdline and "pytest" not in cmdline):
            found.append((entry.name, ids, cmdline[:100]))
    return found


def hidden_lines(notebook):
    """Lines of the hidden-test regions of an instructor notebook (at least 6 characters, not shown elsewhere)."""
    from ml4em.leaks import secret_lines

    solutions_removed = copy.deepcopy(notebook)
    for cell in solutions_removed.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = ""
    return secret_lines(solutions_removed)


def test_grading_round(tmp_path):
    from ml4em.sandbox import sandbox_unavailable

    reason = sandbox_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the grading round in the sandbox: {reason}")
        pytest.skip(f"the grading round needs the sandbox: {reason}")
    r = Round(tmp_path)
    instructor = nbformat.read(ROOT / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    # a student's answer is the solution's code, without nbgrader's markers
    solutions = {c.metadata["nbgrader"]["grade_id"]: "\n".join(
        line for line in c.source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
        for c in instructor.cells if c.metadata.get("nbgrader", {}).get("solution")}
    hostile, _ = hostile_students(r.course, tmp_path, solutions)
    honest_students = ("alice", "bob", "carol", "honest_warn")
    students = [*honest_students, *hostile]

    # --- before the release (instructor.md, sections 1 and 2)
    out = r.run(f"ml4em grade-check {ASSIGNMENT}")
    assert "ok" in out.stdout and "FAIL" not in out.stdout
    assert "9 file(s) ready" in r.run("ml4em data download").stdout

    # --- release
    (r.course / "students.csv").write_text("id,first_name,last_name,email\n" + "".join(
        f"{s},{s.title()},X,{s}@example.org\n" for s in students))
    r.run("nbgrader db student import students.csv")
    r.run(f"nbgrader generate_assignment {ASSIGNMENT}")
    r.run(f"nbgrader release_assignment {ASSIGNMENT}")

    # --- students (student.md): fetch, answer, check, submit
    for student in students:
        r.run(f"nbgrader fetch_assignment {ASSIGNMENT} --course ml4em", cwd=r.home(student), home=r.home(student))
    # with Exchange.path_includes_course, a fetched assignment lands in <course>/<assignment>
    nb = lambda s: r.home(s) / "ml4em" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"  # noqa: E731
    answer(nb("alice"), solutions, set(solutions))
    answer(nb("carol"), solutions, {"ex1-design-matrix", "ex2-least-squares"},
           extra={"ex3-mse": "def mse(y_true, y_pred):\n    return 0.0\n\n1 / 0  # a cell that raises",
                  "ex4-kfold": "while True:  # a cell that never ends\n    pass",
                  "q9-overfitting": "The degree-14 polynomial fits the noise."})
    answer(nb("honest_warn"), solutions, set(solutions) - {"q9-overfitting"},
           extra={"ex1-design-matrix": HONEST_WARN_DESIGN})
    for student, (sources, _, _) in hostile.items():
        answer(nb(student), solutions, set(), extra=sources)
    edit_test_cells(nb("cells"))
    # the self-check of student.md, in a fresh kernel on the saved file
    check = ("import ml4em, sys; r = ml4em.check(); sys.exit(0 if r.passed else 1)")
    r.ran += [normalise(b) for b in doc_blocks("python")[1:]]  # the check snippet, run just below
    assert subprocess.run([sys.executable, "-c", check], cwd=nb("alice").parent, env=r.env).returncode == 0
    blank = subprocess.run([sys.executable, "-c", check], cwd=nb("bob").parent, env=r.env, capture_output=True,
                           text=True)
    assert blank.returncode == 1 and "0 of 9 test cells pass" in blank.stdout and "not answered yet" in blank.stdout
    for student in students:
        r.run(f"nbgrader submit {ASSIGNMENT} --course ml4em --student {student}", cwd=r.home(student),
              home=r.home(student))

    # --- grading (instructor.md, section 3), in the sandbox
    r.run(f"nbgrader collect {ASSIGNMENT}")
    honest_files = [r.course / "submitted" / s for s in honest_students] + [r.home(s) for s in honest_students]
    before = tree_digest(*honest_files, r.course / "tutorials", r.course / "release")
    out = r.run(f"ml4em autograde {ASSIGNMENT}")
    autograded = {s: nbformat.read(r.course / "autograded" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
                  for s in students}
    uids = [uid for notebook in autograded.values() for uid in notebook.metadata["ml4em"]["sandbox"]["uids"]]
    assert len(uids) == len(students) + 4  # one jail per run: four notebooks were run twice
    assert sandbox_processes(uids) == [], "processes of the hostile students outlived the round"
    assert tree_digest(*honest_files, r.course / "tutorials", r.course / "release") == before
    for student, notebook in autograded.items():
        assert notebook.metadata["ml4em"]["sandbox"]["sandboxed"], student
    carol = autograded["carol"]
    loop = next(c for c in carol.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex4-kfold")
    assert any(o.get("output_type") == "error" and "Timeout" in o.get("ename", "") + str(o.get("evalue", ""))
               for o in loop.outputs), "the endless loop should have been cut by the timeout"
    blanked = {s: {b["grade_id"] for b in autograded[s].metadata["ml4em"]["sandbox"]["blanked"]} for s in students}
    assert blanked == {**{s: set() for s in students}, "monkeypatch": {"ex1-design-matrix"},
                       "transformer": {"ex1-design-matrix"}, "exit": {"ex8-eta-max"},
                       "sigint": {"ex7-gradient-step"}}, blanked
    assert "blanked" in out.stdout and "ml4em integrity" in out.stdout
    reader_text = json.dumps(autograded["reader"].cells[[c.metadata.get("nbgrader", {}).get("grade_id")
                                                          for c in autograded["reader"].cells].index("ex3-mse")].outputs)
    assert "READ" in reader_text and "FileNotFoundError" in reader_text and "JUPYTER_CONFIG_DIR" not in reader_text
    assert "BEGIN HIDDEN" not in reader_text and '"cells"' not in reader_text
    flood_size = (r.course / "autograded" / "flood" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").stat().st_size
    assert flood_size < 5_000_000, f"the 100 MB print made a {flood_size} byte notebook"

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

    # --- review before releasing grades (instructor.md, section 3)
    out = r.run(f"ml4em integrity {ASSIGNMENT}")
    report = json.loads(r.run(f"ml4em integrity {ASSIGNMENT} --json").stdout)
    findings = {}
    for item in report["findings"]:
        findings.setdefault(item["student"], set()).add((item["category"], item.get("grade_id")))
    for student, (_, _, expected) in hostile.items():
        missing = [e for e in expected if e not in findings.get(student, set())]
        assert not missing, f"ml4em integrity missed {missing} of {student}: {findings.get(student)}"
    assert not any(findings.get(s) for s in honest_students), {s: findings.get(s) for s in honest_students}

    r.run(f"nbgrader generate_feedback {ASSIGNMENT}")
    r.run(f"nbgrader release_feedback {ASSIGNMENT}")
    from ml4em.leaks import html_text, scan_for_leaks

    hidden = hidden_lines(instructor)
    assert len(hidden) >= 10  # the tutorial has hidden tests in six test cells
    for student in students:
        r.run(f"nbgrader fetch_feedback {ASSIGNMENT} --course ml4em --student {student}", cwd=r.home(student),
              home=r.home(student))
        html = list((r.home(student) / "ml4em" / ASSIGNMENT / "feedback").rglob(f"{ASSIGNMENT}.html"))
        assert len(html) == 1 and "Score" in html[0].read_text()
        assert (r.course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
        assert scan_for_leaks(html[0].parent, hidden) == [], f"hidden tests in {student}'s feedback"
        assert html[0].stat().st_size < 5_000_000
    text = {s: html_text(next((r.home(s) / "ml4em" / ASSIGNMENT / "feedback").rglob("*.html")).read_text())
            for s in ("carol", "monkeypatch", "exit")}
    assert "`mse(y_true, y_pred)` should be" in text["carol"]  # a visible test's message
    assert "`fit_least_squares(X, y)` is not what we expected" in text["monkeypatch"]  # a hidden test's message
    assert "replaced by its blank stub" in text["exit"]  # the sandbox's note on the blanked answer

    r.run("nbgrader export --to grades.csv")
    rows = {row["student_id"]: row for row in csv.DictReader(open(r.course / "grades.csv"))}
    got = {s: (float(rows[s]["raw_score"]), float(rows[s]["max_score"])) for s in rows}
    # 16 autograded points + 3 by hand; carol: exercises 1 and 2 (2 + 2; her mse returns 0, which no check of
    # ex3 accepts) and 1 point by hand
    expected = {"alice": (19.0, 19.0), "bob": (0.0, 19.0), "carol": (5.0, 19.0), "honest_warn": (16.0, 19.0),
                **{s: (float(points), 19.0) for s, (_, points, _) in hostile.items()}}
    assert got == expected
    # --- similarity and the export for the learning-management system (instructor.md, section 9)
    r.run(f"ml4em similarity {ASSIGNMENT}")
    pairs = list(csv.DictReader(open(r.course / "similarity" / ASSIGNMENT / "pairs.csv")))
    assert pairs and {p["student_a"] for p in pairs} | {p["student_b"] for p in pairs} <= set(students)
    r.run(f"ml4em export-grades {ASSIGNMENT} --format canvas --out grades-canvas.csv")
    canvas = list(csv.DictReader(open(r.course / "grades-canvas.csv")))
    assert canvas[0]["Student"] == "Points Possible" and float(canvas[0][ASSIGNMENT]) == 19.0
    assert {row["SIS Login ID"]: (float(row[ASSIGNMENT]), 19.0) for row in canvas[1:]} == expected
    time.sleep(16)  # longer than the daemon student's process would have waited before writing the gradebook
    r.run("nbgrader export --to grades-later.csv")
    assert open(r.course / "grades-later.csv").read() == open(r.course / "grades.csv").read()

    # --- repairs and timeouts (instructor.md, sections 5 and 6)
    r.run(f"ml4em autograde {ASSIGNMENT} --student alice --force --timeout 600")
    r.run(f"ml4em autograde {ASSIGNMENT} --student bob --force")

    # --- a graded course publishes a student repository (instructor.md, section 7)
    r.run(f"ml4em publish-student {ASSIGNMENT} --to student-repo")
    from ml4em.leaks import tutorial_secrets

    assert (r.course / "student-repo" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert scan_for_leaks(r.course / "student-repo", tutorial_secrets(r.course)) == []

    # --- self-study (student.md): the student versions
    r.run("ml4em student-version --out student")
    assert (r.course / "student" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()

    # --- every command of the guides was exercised above
    print("\n".join(f"{t:6.1f} s  {c}" for t, c in r.times))
    missing = [c for c in doc_commands() if normalise(c) not in r.ran]
    assert missing == [], f"commands in docs/ that no test runs: {missing}"
