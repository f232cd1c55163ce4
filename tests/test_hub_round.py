"""A grading round on a real JupyterHub: real Linux users, ngshare as the exchange, the REST APIs a browser uses.

The hub runs ``hub/jupyterhub_config.py`` (the file docs/instructor.md tells an instructor to use), with the
test's dummy authenticator and an admin service token loaded on top of it. configurable-http-proxy comes from npm
(``tools/setup-hub.sh``). One instructor and five students are Linux accounts created here (homes 0700, as
docs/instructor.md asks) and removed afterwards. Through the hub's and the single-user servers' APIs:

- the instructor creates the course in ngshare, generates and releases tutorial 01 from the formgrader;
- the students fetch it, answer (alice all right, bob nothing, carol two right and one wrong, erin four right and
  one hard-coded; erin hands in carol's k-fold with the names changed; dave all right but after the due date), validate and submit;
- the instructor collects; the grading service (root, the sandbox) autogrades; the instructor adds a manual grade,
  generates and releases feedback; the students fetch their feedback;
- ``ml4em similarity`` and ``ml4em export-grades`` run on the round's submissions.

Asserted: the exact grades, the late flag, that no student can read another's submission or feedback (tried as
that user, through the file system, the other's server and ngshare), and that every server got ``ML4EM_DATA_DIR``
and its memory limit from the spawner. A headless Chromium logs in and finds the assignment in the formgrader
through the hub's proxy.
"""

import csv
import datetime
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

pytestmark = pytest.mark.xdist_group("hub")  # one hub at a time (fixed ngshare port)

ASSIGNMENT = "01_regression"
PREFIX = "m4e"  # every account this test creates starts with it
INSTRUCTOR = f"{PREFIX}instr"
STUDENTS = [f"{PREFIX}{name}" for name in ("alice", "bob", "carol", "dave", "erin")]
PROXY = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
MEM_LIMIT = "3G"
# 01's autograded points: ex1 2, ex2 2, ex3 1, think-explorer-degree 1, ex4 3, ex5 1, ex6 2, ex7 2, ex8 2 (16);
# q9 3 points, manual. Each test cell scores the share of its checks that pass.
ALL = {"ex1-design-matrix", "ex2-least-squares", "ex3-mse", "think-explorer-degree", "ex4-kfold", "ex5-best-degree",
       "ex6-ridge",
       "ex7-gradient-step", "ex8-eta-max"}
WRONG_MSE = "def mse(y_true, y_pred):\n    return np.sum((np.asarray(y_true) - np.asarray(y_pred)) ** 2)\n"
WRONG_BEST = "best_degree = 7  # read off a figure of another run\n"
# carol's own k-fold (right, but it calls her wrong mse) and erin's copy of it: names changed, lines reordered
CAROL_KFOLD = """def kfold_cv_error(x, y, degree, n_folds):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    bounds = np.linspace(0, n, n_folds + 1).astype(int)
    scores = []
    for k in range(n_folds):
        held = np.zeros(n, dtype=bool)
        held[bounds[k]:bounds[k + 1]] = True
        coef = fit_least_squares(design_matrix(x[~held], degree), y[~held])
        predicted = design_matrix(x[held], degree) @ coef
        scores.append(mse(y[held], predicted))
    return float(sum(scores) / len(scores))
"""
ERIN_KFOLD = """def kfold_cv_error(x, y, degree, n_folds):
    # cross-validation
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    size = len(x)
    edges = np.linspace(0, size, n_folds + 1).astype(int)
    losses = []
    for fold in range(n_folds):
        mask = np.zeros(size, dtype=bool)
        mask[edges[fold]:edges[fold + 1]] = True
        weights = fit_least_squares(design_matrix(x[~mask], degree), y[~mask])
        guess = design_matrix(x[mask], degree) @ weights
        losses.append(mse(y[mask], guess))
    return float(sum(losses) / len(losses))
"""
ANSWERS = {  # student: (exercises answered with the solution, other sources)
    "alice": (ALL, {"q9-overfitting": "Degree 14 fits the noise of the 20 points: its training error keeps "
                                      "falling while the validation error rises."}),
    "bob": (set(), {}),
    "carol": ({"ex1-design-matrix", "ex2-least-squares"}, {"ex3-mse": WRONG_MSE, "ex4-kfold": CAROL_KFOLD}),
    "dave": (ALL, {}),
    "erin": ({"ex1-design-matrix", "ex2-least-squares"},
             {"ex3-mse": WRONG_MSE, "ex4-kfold": ERIN_KFOLD, "ex5-best-degree": WRONG_BEST}),
}
# carol and erin: ex1 and ex2 (4 points) and 1 of the 3 checks of ex3 (a sum instead of a mean is right for one
# sample only); their k-fold calls that mse and fails every check; erin's hard-coded degree is not the best one
EXPECTED = {"alice": 19.0, "bob": 0.0, "carol": 4.3333, "dave": 16.0, "erin": 4.3333}


def _unavailable():
    """Why this machine cannot run the round, or None."""
    if os.geteuid() != 0:
        return "the hub round needs root (to create Linux users and spawn servers as them)"
    for tool in ("useradd", "userdel", "runuser"):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing"
    note = ROOT / "test-output" / "hub-unavailable.txt"
    if note.exists():
        return note.read_text().strip()
    if not PROXY.exists():
        return f"{PROXY} is missing: run `bash tools/setup-hub.sh` (make test does)"
    from ml4em.sandbox import sandbox_unavailable
    return sandbox_unavailable()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _open_parents(path):
    """Give others search (x) permission on the folders above ``path`` that lack it; return what to restore."""
    changed = []
    for folder in [*reversed(Path(path).resolve().parents), Path(path).resolve()]:
        if folder == Path("/"):
            continue
        mode = folder.stat().st_mode
        if not mode & 0o001:
            os.chmod(folder, mode | 0o001)
            changed.append((folder, mode))
    return changed


class Hub:
    """The running hub, and the calls the round makes to it."""

    def __init__(self, tmp, port):
        self.url = f"http://127.0.0.1:{port}"
        self.tmp = tmp
        self.token = secrets.token_hex(16)
        self.password = secrets.token_hex(8)
        self.tokens = {}
        self.log = open(tmp / "hub.log", "w")

    def start(self, data_dir):
        config = self.tmp / "jupyterhub_config.py"
        config.write_text(
            "c = get_config()  # noqa: F821\n"
            f"load_subconfig({str(ROOT / 'hub' / 'jupyterhub_config.py')!r})\n"
            f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{_free_port()}'\n"
            f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{_free_port()}'\n"
            "c.JupyterHub.authenticator_class = 'dummy'\n"
            f"c.DummyAuthenticator.password = {self.password!r}\n"
            f"c.JupyterHub.services.append({{'name': 'round', 'api_token': {self.token!r}}})\n"
            "c.JupyterHub.load_roles.append({'name': 'round', 'services': ['round'], 'scopes': "
            "['admin:users', 'admin:servers', 'tokens', 'read:users', 'access:servers']})\n")
        env = {**os.environ, "ML4EM_HUB_STATE": str(self.tmp / "state"), "ML4EM_HUB_URL": self.url,
               "ML4EM_HUB_INSTRUCTORS": INSTRUCTOR, "ML4EM_HUB_STUDENTS": ",".join(STUDENTS),
               "ML4EM_DATA_DIR": data_dir, "ML4EM_HUB_MEM_LIMIT": MEM_LIMIT,
               "PATH": f"{Path(sys.executable).parent}:{PROXY.parent}:{os.environ['PATH']}"}
        env.pop("ML4EM_QUICK", None)
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
                                        cwd=self.tmp, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait(lambda: self.request("GET", "/hub/api/", expect=None)[0] == 200, 90, "the hub to answer")
        self.wait(lambda: self.request("GET", "/services/ngshare/healthz", expect=None)[0] == 200, 60,
                  "ngshare to answer")

    def stop(self):
        if getattr(self, "process", None) and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        pid_file = self.tmp / "state" / "proxy.pid"  # the proxy outlives a hub that was killed
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), 15)
            except (ValueError, ProcessLookupError):
                pass
        self.log.close()

    def wait(self, condition, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except (OSError, urllib.error.URLError):
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.log.flush()
        tail = (self.tmp / "hub.log").read_text()[-4000:]
        pytest.fail(f"timed out waiting for {what}; hub log:\n{tail}")

    def request(self, method, path, *, token=None, data=None, form=None, expect=(200, 201, 204)):
        """Call the hub (its API, a server's or a service's) and return (status, body); fail on another status."""
        headers = {"Authorization": f"token {token or self.token}"}
        body = None
        if data is not None:
            body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=600) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        if expect and status not in expect:
            raise AssertionError(f"{method} {path} answered {status}: {text[:2000]}")
        return status, text

    def api(self, method, path, **kwargs):
        status, text = self.request(method, path, **kwargs)
        return json.loads(text) if text.strip() else {}

    def as_user(self, user, method, path, **kwargs):
        """A call by ``user`` (with their own hub token, as their browser would)."""
        return self.api(method, path, token=self.tokens[user], **kwargs)

    def start_server(self, user):
        self.tokens[user] = self.api("POST", f"/hub/api/users/{user}/tokens",
                                     data={"note": "hub round", "expires_in": 3600})["token"]
        self.request("POST", f"/hub/api/users/{user}/server", expect=(201, 202))
        self.wait(lambda: self.api("GET", f"/hub/api/users/{user}")["servers"].get("", {}).get("ready"), 180,
                  f"the server of {user}")


def _solutions():
    instructor = nbformat.read(ROOT / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: "\n".join(
        line for line in c.source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
        for c in instructor.cells if c.metadata.get("nbgrader", {}).get("solution")}


def _as(user, *command, check=True):
    return subprocess.run(["runuser", "-u", user, "--", *command], capture_output=True, text=True, check=check,
                          cwd="/")


def _server_environ(user):
    """The environment of ``user``'s single-user server process, read from /proc."""
    uid = pwd.getpwnam(user).pw_uid
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid != uid or b"jupyterhub-singleuser" not in (proc / "cmdline").read_bytes():
                continue
            pairs = (item.split(b"=", 1) for item in (proc / "environ").read_bytes().split(b"\0") if b"=" in item)
            return {k.decode(): v.decode() for k, v in pairs}, proc.name
        except OSError:
            continue
    raise AssertionError(f"no jupyterhub-singleuser process of {user}")


@pytest.fixture
def accounts():
    reason = _unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the hub round: {reason}")
        pytest.skip(f"the hub round cannot run here: {reason}")
    users = [INSTRUCTOR, *STUDENTS]
    for user in users:
        subprocess.run(["userdel", "-r", user], capture_output=True)
        subprocess.run(["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", user], check=True,
                       capture_output=True)
    yield users
    for user in users:
        subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
    time.sleep(0.5)
    for user in users:
        subprocess.run(["userdel", "-r", "-f", user], capture_output=True)
    own = [line.split(":", 2)[2].lstrip("/") for line in Path("/proc/self/cgroup").read_text().splitlines()
           if line.split(":")[1] == "memory"]
    for group in (Path("/sys/fs/cgroup/ml4em-hub"), *(Path("/sys/fs/cgroup/memory") / o / "ml4em-hub" for o in own)):
        # the spawner's memory cgroups, empty now
        for folder in [*group.glob(f"{PREFIX}*"), group]:
            try:
                folder.rmdir()
            except OSError:
                pass
    assert not [u for u in users if subprocess.run(["id", u], capture_output=True).returncode == 0]


def test_hub_round(tmp_path, accounts):
    started = time.monotonic()
    data_dir = os.environ.get("ML4EM_DATA_DIR") or str(tmp_path / "no-data")
    # the servers run the course's virtual environment (and its base Python) as other users
    restore = []
    for path in (ROOT, Path(os.path.realpath(sys.executable)).parent, *([data_dir] if Path(data_dir).exists() else [])):
        restore += _open_parents(path)
    hub = Hub(tmp_path, _free_port())
    try:
        _round(hub, tmp_path, data_dir)
    finally:
        hub.stop()
        for folder, mode in reversed(restore):
            os.chmod(folder, mode)
    print(f"hub round: {time.monotonic() - started:.0f} s")


def _round(hub, tmp, data_dir):
    instructor_home = Path(pwd.getpwnam(INSTRUCTOR).pw_dir)
    course = instructor_home / "ml4em"
    (course / "tutorials").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "tutorials" / ASSIGNMENT, course / "tutorials" / ASSIGNMENT)
    (instructor_home / ".jupyter").mkdir()
    (instructor_home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(course)!r}\n")
    subprocess.run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(instructor_home)], check=True)

    hub.start(data_dir)
    for user in [INSTRUCTOR, *STUDENTS]:
        hub.start_server(user)

    # --- every server got the spawner's settings
    for user in [INSTRUCTOR, *STUDENTS]:
        environ, pid = _server_environ(user)
        assert environ.get("ML4EM_DATA_DIR") == data_dir, user
        assert environ.get("MEM_LIMIT") == str(3 * 1024 ** 3), (user, environ.get("MEM_LIMIT"))
        cgroup = Path(f"/proc/{pid}/cgroup").read_text()
        if "ml4em-hub" in cgroup:  # enforced where the machine has a writable memory cgroup
            assert f"ml4em-hub/{user}" in cgroup

    # --- the instructor: the course in ngshare, the students in the gradebook, release with a due date
    i = INSTRUCTOR
    ngshare = "/services/ngshare"
    # as docs/instructor.md says, in the instructor's terminal (the environment of their server)
    roster = course / "students.csv"
    roster.write_text("student_id,first_name,last_name,email\n" + "".join(
        f"{s},{s[3:].title()},Student,{s}@example.org\n" for s in STUDENTS))
    shutil.chown(roster, INSTRUCTOR, INSTRUCTOR)
    environ, _ = _server_environ(i)
    terminal = {k: environ[k] for k in ("PATH", "JUPYTER_CONFIG_PATH", "ML4EM_DATA_DIR")}
    terminal.update(HOME=str(instructor_home), USER=i, JUPYTERHUB_USER=i, JUPYTERHUB_API_TOKEN=hub.tokens[i])
    for command in (["ngshare-course-management", "create_course", "ml4em", i],
                    ["ngshare-course-management", "add_students", "ml4em", str(roster)]):
        done = subprocess.run(["runuser", "-u", i, "--", "env", "-i", *(f"{k}={v}" for k, v in terminal.items()),
                               *command], capture_output=True, text=True, cwd=course)
        assert done.returncode == 0 and "successfully" in done.stdout.lower(), done.stdout + done.stderr
    listed = hub.as_user(i, "GET", f"{ngshare}/students/ml4em")
    assert sorted(s["username"] for s in listed["students"]) == sorted(STUDENTS), listed
    in_gradebook = hub.as_user(i, "GET", f"/user/{i}/formgrader/api/students")
    assert sorted(s["id"] for s in in_gradebook) == sorted(STUDENTS), in_gradebook
    due = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    hub.as_user(i, "PUT", f"/user/{i}/formgrader/api/assignment/{ASSIGNMENT}",
                data={"duedate_notimezone": due.strftime("%Y-%m-%dT%H:%M:%S"), "duedate_timezone": "+0000"})
    generated = hub.as_user(i, "POST", f"/user/{i}/formgrader/api/assignment/{ASSIGNMENT}/assign")
    assert generated["success"], generated
    released = hub.as_user(i, "POST", f"/user/{i}/formgrader/api/assignment/{ASSIGNMENT}/release")
    assert released["success"], released

    # --- the students: fetch, answer, validate, submit (dave after the due date)
    solutions = _solutions()
    for student in STUDENTS:
        listed = hub.as_user(student, "GET", f"/user/{student}/assignments?course_id=ml4em")
        assert listed["success"] and [a["assignment_id"] for a in listed["value"]] == [ASSIGNMENT], listed
        fetched = hub.as_user(student, "POST", f"/user/{student}/assignments/fetch",
                              form={"course_id": "ml4em", "assignment_id": ASSIGNMENT})
        assert fetched["success"], fetched
        path = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
        model = hub.as_user(student, "GET", f"/user/{student}/api/contents/{path}?content=1")
        nb = nbformat.from_dict(model["content"])
        which, extra = ANSWERS[student[3:]]
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in extra:
                cell.source = extra[gid]
            elif gid in which:
                cell.source = solutions[gid]
        hub.as_user(student, "PUT", f"/user/{student}/api/contents/{path}",
                    data={"type": "notebook", "format": "json", "content": nb})
        if student[3:] == "dave":
            continue
        validated = hub.as_user(student, "POST", f"/user/{student}/assignments/validate", form={"path": path})
        assert validated["success"], validated
        report = validated["value"] if isinstance(validated["value"], dict) else json.loads(validated["value"])
        if student[3:] == "alice":
            assert not report.get("failed") and not report.get("changed"), report
        elif student[3:] == "bob":
            assert report.get("failed"), report
        submitted = hub.as_user(student, "POST", f"/user/{student}/assignments/submit",
                                form={"course_id": "ml4em", "assignment_id": ASSIGNMENT})
        assert submitted.get("success", True) and "value" in submitted, submitted
    # the due date passes; dave submits now
    time.sleep(1.5)  # the due date (whole seconds) falls after every submission so far...
    past = datetime.datetime.now(datetime.timezone.utc)
    hub.as_user(i, "PUT", f"/user/{i}/formgrader/api/assignment/{ASSIGNMENT}",
                data={"duedate_notimezone": past.strftime("%Y-%m-%dT%H:%M:%S"), "duedate_timezone": "+0000"})
    time.sleep(1.5)  # ...and before dave's
    dave = f"{PREFIX}dave"
    submitted = hub.as_user(dave, "POST", f"/user/{dave}/assignments/submit",
                            form={"course_id": "ml4em", "assignment_id": ASSIGNMENT})
    assert "value" in submitted, submitted

    # --- the instructor collects; the grading service autogrades in the sandbox (as root, docs section 3)
    collected = hub.as_user(i, "POST", f"/user/{i}/formgrader/api/assignment/{ASSIGNMENT}/collect")
    assert collected["success"], collected
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted(STUDENTS)
    ml4em = str(Path(sys.executable).parent / "ml4em")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "ML4EM_DATA_DIR": data_dir}
    env.pop("ML4EM_QUICK", None)
    graded = subprocess.run([ml4em, "autograde", ASSIGNMENT, "--course-root", str(course), "--timeout", "60"],
                            env=env, capture_output=True, text=True, cwd=course)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    subprocess.run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(course)], check=True)

    # --- manual grade in the formgrader, feedback, release
    submissions = hub.as_user(i, "GET", f"/user/{i}/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    alice = next(s for s in submissions if s["student"] == f"{PREFIX}alice")
    grades = hub.as_user(i, "GET", f"/user/{i}/formgrader/api/grades?submission_id={alice['id']}")
    manual = next(g for g in grades if g["name"] == "q9-overfitting")
    assert manual["needs_manual_grade"], manual
    hub.as_user(i, "PUT", f"/user/{i}/formgrader/api/grade/{manual['id']}", data={"manual_score": 3})
    for student in STUDENTS:  # the other answers of q9 are empty or missing: 0 points
        if student != f"{PREFIX}alice":
            sub = next(s for s in submissions if s["student"] == student)
            grade = next(g for g in hub.as_user(i, "GET", f"/user/{i}/formgrader/api/grades?submission_id={sub['id']}")
                         if g["name"] == "q9-overfitting")
            if grade["needs_manual_grade"]:
                hub.as_user(i, "PUT", f"/user/{i}/formgrader/api/grade/{grade['id']}", data={"manual_score": 0})
    assert hub.as_user(i, "POST", f"/user/{i}/formgrader/api/assignment/{ASSIGNMENT}/generate_feedback")["success"]
    assert hub.as_user(i, "POST", f"/user/{i}/formgrader/api/assignment/{ASSIGNMENT}/release_feedback")["success"]

    # --- exact grades and the late flag, as the formgrader reports them
    reported = {s["student"][3:]: s for s in hub.as_user(i, "GET", f"/user/{i}/formgrader/api/submissions/{ASSIGNMENT}")}
    scores = {name: s["score"] for name, s in reported.items()}
    assert scores == EXPECTED, str(sorted(scores.items()))
    assert reported["dave"]["timestamp"] > past.strftime("%Y-%m-%d %H:%M:%S")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        seconds_late = {s[3:]: gradebook.find_submission(ASSIGNMENT, s).total_seconds_late for s in STUDENTS}
    assert seconds_late["dave"] > 0 and all(v == 0 for k, v in seconds_late.items() if k != "dave"), seconds_late

    # --- the students fetch their feedback
    for student in STUDENTS:
        fetched = hub.as_user(student, "POST", f"/user/{student}/assignments/fetch_feedback",
                              form={"course_id": "ml4em", "assignment_id": ASSIGNMENT})
        assert fetched["success"], fetched
        home = Path(pwd.getpwnam(student).pw_dir)
        feedback = list(home.glob(f"{ASSIGNMENT}/feedback/*/{ASSIGNMENT}.html"))
        assert feedback, f"{student} got no feedback"
        assert "BEGIN HIDDEN" not in feedback[0].read_text()
        assert feedback[0].stat().st_uid == pwd.getpwnam(student).pw_uid

    # --- nobody reads another's work: file system, the other's server, ngshare
    alice_user, bob_user = f"{PREFIX}alice", f"{PREFIX}bob"
    alice_home = Path(pwd.getpwnam(alice_user).pw_dir)
    for target in (alice_home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                   next(alice_home.glob(f"{ASSIGNMENT}/feedback/*/{ASSIGNMENT}.html")),
                   course / "submitted" / alice_user / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                   course / "feedback" / alice_user / ASSIGNMENT / f"{ASSIGNMENT}.html",
                   course / "gradebook.db"):
        assert target.exists(), target
        attempt = _as(bob_user, "cat", str(target), check=False)
        assert attempt.returncode != 0 and "Permission denied" in attempt.stderr, (target, attempt)
    status, _ = hub.request("GET", f"/user/{alice_user}/api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                            token=hub.tokens[bob_user], expect=None)
    assert status in (403, 404), status
    for path in (f"{ngshare}/submission/ml4em/{ASSIGNMENT}/{alice_user}",
                 f"{ngshare}/feedback/ml4em/{ASSIGNMENT}/{alice_user}",
                 f"{ngshare}/submissions/ml4em/{ASSIGNMENT}"):
        status, text = hub.request("GET", path, token=hub.tokens[bob_user], expect=None)
        refused = status in (401, 403, 404) or json.loads(text or "{}").get("success") is False
        assert refused, (path, status, text[:300])
    # ...while the instructor may
    status, text = hub.request("GET", f"{ngshare}/submissions/ml4em/{ASSIGNMENT}", token=hub.tokens[i])
    assert json.loads(text)["success"]

    # --- the instructor's tools on the round's submissions
    similar = subprocess.run([ml4em, "similarity", ASSIGNMENT, "--course-root", str(course),
                              "--out", str(tmp / "similarity")], env=env, capture_output=True, text=True, cwd=course)
    assert similar.returncode == 0, similar.stdout + similar.stderr
    with open(tmp / "similarity" / ASSIGNMENT / "pairs.csv") as f:
        scores = {(frozenset((row["student_a"], row["student_b"])), row["grade_id"]): float(row["score"])
                  for row in csv.DictReader(f)}
    carol, erin = f"{PREFIX}carol", f"{PREFIX}erin"
    assert scores[frozenset((carol, erin)), "ex4-kfold"] >= 0.5, scores  # the planted copy is found
    # alice's and dave's answers are the instructor's solution, which does not count as copying
    assert all(v < 0.5 for (pair, _), v in scores.items() if pair == frozenset((alice_user, dave))), scores
    assert carol in similar.stdout and erin in similar.stdout and "ex4-kfold" in similar.stdout
    exported = subprocess.run([ml4em, "export-grades", ASSIGNMENT, "--course-root", str(course), "--format", "canvas",
                               "--out", str(tmp / "grades.csv")], env=env, capture_output=True, text=True, cwd=course)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    text = (tmp / "grades.csv").read_text()
    for student, score in EXPECTED.items():
        assert f"{PREFIX}{student}" in text and f"{score:g}" in text, (student, text)

    # --- a browser: log in as the instructor and find the assignment in the formgrader, through the proxy
    _browser(hub, i)


def _browser(hub, user):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the formgrader browser step: chromium is missing")
        print("hub round: no chromium; the browser step was not run")
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{hub.url}/hub/login", timeout=60_000)
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", hub.password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url("**/user/**", timeout=120_000)
            page.goto(f"{hub.url}/user/{user}/formgrader", timeout=120_000)
            page.wait_for_selector(f"text={ASSIGNMENT}", timeout=120_000)
            assert ASSIGNMENT in page.content()
        finally:
            browser.close()
