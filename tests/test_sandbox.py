"""The grading sandbox (ml4em.sandbox): the jail, the probe, and the executor's reruns on small notebooks.

Tests that start a jail need root and bubblewrap; they are skipped with the reason elsewhere and fail under CI,
which runs as root (``make test`` installs bubblewrap).
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from ml4em.sandbox import Jail, Limits, sandbox_unavailable
from ml4em.sandbox import probe as probe_module
from ml4em.sandbox.jail import UID_RANGE, processes_of


@pytest.fixture
def jail_ok():
    reason = sandbox_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to make the grading sandbox: {reason}")
        pytest.skip(reason)


def run_in(jail, code, **kwargs):
    return subprocess.run(jail.command([sys.executable, "-c", textwrap.dedent(code)]), capture_output=True,
                          text=True, timeout=120, **kwargs)


# --- the jail's command line (no root needed) ---------------------------------------------------------------------
def test_limits_become_prlimit_options():
    assert Limits(memory=2**30, cpu=10, processes=5, file_size=100, open_files=64).prlimit_args() == [
        "--as=1073741824", "--cpu=10", "--nproc=5", "--fsize=100", "--nofile=64"]
    assert Limits(memory=None, cpu=None, processes=None, file_size=None, open_files=None).prlimit_args() == []


def test_environment_is_minimal_and_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "s3cret")
    monkeypatch.setenv("ML4EM_QUICK", "1")
    jail = Jail(root=tmp_path, workdir=tmp_path / "work", rundir=tmp_path / "run", uid=UID_RANGE[0] + 7)
    env = jail.environment()
    assert "GRADER_SECRET_TOKEN" not in env and env["ML4EM_QUICK"] == "1"
    assert env["HOME"] == str(tmp_path / "work") and env["MEM_LIMIT"] == str(Limits().memory)
    argv = jail.command(["/bin/true"])
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--die-with-parent" in argv
    assert f"--reuid={UID_RANGE[0] + 7}" in argv and "--clear-groups" in argv and "--no-new-privs" in argv
    assert argv[-1] == "/bin/true" and "GRADER_SECRET_TOKEN=s3cret" not in argv
    binds = {argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")}
    assert str(tmp_path / "work") in binds and os.path.realpath(sys.prefix) in " ".join(binds)


def test_unavailable_sandbox_is_refused_with_the_flag_named(monkeypatch):
    from ml4em.sandbox import execute

    monkeypatch.setattr(execute, "sandbox_unavailable", lambda: "no bubblewrap here")
    with pytest.raises(execute.SandboxUnavailable, match=r"no bubblewrap here.*--no-sandbox"):
        execute.SandboxedExecute()._mode()
    with pytest.warns(RuntimeWarning, match="without a sandbox"):
        assert execute.SandboxedExecute(sandbox="auto")._mode() == "off"
    assert execute.SandboxedExecute(sandbox="off")._mode() == "off"


def test_autograde_refuses_without_sandbox(tmp_path, monkeypatch, capsys):
    import ml4em.sandbox as sandbox
    from ml4em.cli import main

    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    monkeypatch.setattr(sandbox, "sandbox_unavailable", lambda: "not root")
    assert main(["autograde", "01_regression", "--course-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not root" in err and "--no-sandbox" in err
    assert main(["autograde", "01_regression", "--course-root", str(tmp_path / "nowhere")]) == 2
    assert "nbgrader_config.py" in capsys.readouterr().err


# --- the probe (no root needed) --------------------------------------------------------------------------------------
def test_probe_finds_nothing_in_a_clean_interpreter_and_names_a_patch(tmp_path):
    code = textwrap.dedent("""
        import json, builtins, sys, types
        import numpy
        import ml4em.checks._core as core
        from ml4em.sandbox.probe import probe
        clean = json.loads(probe("n1"))
        assert clean == {"nonce": "n1", "findings": []}, clean
        core.check_close = lambda *a, **k: None
        builtins.round = lambda *a: 0
        sys.modules["ml4em.checks.regression"] = types.ModuleType("fake")
        numpy.allclose = lambda *a, **k: True
        found = {f["what"] for f in json.loads(probe("n2"))["findings"]}
        print(json.dumps(sorted(found)))
    """)
    script = tmp_path / "student.py"  # code from a file of the student's, as a notebook cell is
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    found = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"ml4em.checks._core.check_close", "builtins.round", "numpy.allclose"} <= found
    assert any("sys.modules['ml4em.checks.regression']" in f for f in found)


def test_code_file_of_builtins_and_installed_code():
    import numpy as np

    assert probe_module.code_file(len) is None
    assert probe_module.is_installed(probe_module.code_file(np.allclose))
    assert not probe_module.is_installed("/tmp/ipykernel_1/123.py")  # where ipykernel compiles a cell
    assert probe_module.is_installed("<frozen importlib._bootstrap>")


# --- the jail itself (root) -------------------------------------------------------------------------------------
def test_jail_hides_the_course_and_the_network(jail_ok, tmp_path):
    course = tmp_path / "course"
    (course / "tutorials").mkdir(parents=True)
    (course / "tutorials" / "secret.txt").write_text("hidden tests")
    (course / "submission").mkdir()
    (course / "submission" / "answer.txt").write_text("mine")
    jail = Jail.create(course / "submission")
    try:
        out = run_in(jail, f"""
            import os, socket
            print(os.getuid(), os.getgid(), os.getgroups())
            print(sorted(os.listdir(".")), os.path.exists({str(course / 'tutorials')!r}))
            try:
                socket.create_connection(("127.0.0.1", 22), timeout=2)
                print("connected")
            except OSError as err:
                print("no network", type(err).__name__)
            open("written.txt", "w").write("ok")
            print(sorted(os.environ))
        """)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        uid = int(lines[0].split()[0])
        assert UID_RANGE[0] <= uid < UID_RANGE[1] and lines[0].endswith("[]")
        assert lines[1] == "['answer.txt'] False"
        assert lines[2].startswith("no network")
        assert "HOME" in lines[3] and "GRADER" not in lines[3]
        assert (jail.workdir / "written.txt").read_text() == "ok"
    finally:
        jail.close()
    assert not jail.root.exists()


def test_jail_limits_memory_and_kills_what_is_left(jail_ok):
    jail = Jail.create(limits=Limits(memory=2 * 2**30))
    try:
        out = run_in(jail, """
            import subprocess, numpy as np
            subprocess.Popen(["sleep", "300"], start_new_session=True)
            try:
                np.ones(4 * 2**30 // 8)
            except MemoryError:
                print("MemoryError")
        """)
        assert out.stdout.strip() == "MemoryError", out.stderr
    finally:
        jail.close()
    time.sleep(0.2)
    assert processes_of(jail.uid) == []


# --- the executor on small notebooks (root) -----------------------------------------------------------------
def graded_notebook(answer):
    """An answer cell (2 points of tests after it), then an independent exercise (1 point)."""
    meta = lambda gid, **kw: {"nbgrader": {"grade_id": gid, "schema_version": 3, "locked": False,  # noqa: E731
                                           "solution": False, "grade": False, "task": False, **kw}}
    cells = [new_code_cell("import numpy as np", metadata=meta("setup", locked=True)),
             new_code_cell(answer, metadata=meta("ex1", solution=True)),
             new_code_cell("assert double(2) == 4", metadata=meta("ex1-tests", grade=True, locked=True, points=2)),
             new_code_cell("def triple(x):\n    return 3 * x", metadata=meta("ex2", solution=True)),
             new_code_cell("assert triple(2) == 6", metadata=meta("ex2-tests", grade=True, locked=True, points=1))]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})


def execute(tmp_path, answer, **traits):
    from ml4em.sandbox.execute import SandboxedExecute

    executor = SandboxedExecute(timeout=10, **traits)
    nb, _ = executor.preprocess(graded_notebook(answer), {"metadata": {"path": str(tmp_path)}})
    errors = {c.metadata["nbgrader"]["grade_id"]: [o.get("ename") for o in c.outputs if o.output_type == "error"]
              for c in nb.cells}
    return nb, nb.metadata["ml4em"]["sandbox"], errors


HONEST = "def double(x):\n    return 2 * x"


@pytest.mark.parametrize("cheat, reason", [
    ("import os\nos._exit(3)", "kernel died"),
    ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", "did not stop"),
    ("get_ipython().input_transformers_post.append(lambda lines: [])", "input_transformers_post"),
    ("import builtins\nbuiltins.AssertionError = type('Pass', (Exception,), {})", "builtins.AssertionError"),
])
def test_a_crash_or_a_cheat_costs_only_its_cell(jail_ok, tmp_path, cheat, reason):
    nb, notes, errors = execute(tmp_path, HONEST + "\n" + cheat)
    assert [b["grade_id"] for b in notes["blanked"]] == ["ex1"] and reason in notes["blanked"][0]["reason"]
    assert notes["runs"] == 2 and notes["sandboxed"]
    assert errors["ex1"] == ["NotImplementedError"] and errors["ex1-tests"] == ["NameError"]
    assert errors["ex2-tests"] == []  # the other exercise keeps its point
    assert "replaced by its blank stub" in nb.cells[1].outputs[-1]["text"]


def test_honest_notebook_runs_once(jail_ok, tmp_path):
    _, notes, errors = execute(tmp_path, HONEST)
    assert notes["runs"] == 1 and notes["blanked"] == [] and all(e == [] for e in errors.values())


def test_output_is_cut_in_bytes_but_errors_are_kept(jail_ok, tmp_path):
    nb, notes, errors = execute(tmp_path, HONEST + "\nprint('x' * 5_000_000)\nraise ValueError('kept')",
                                output_limit=10_000)
    text = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert len(text) < 11_000 and "output truncated" in text
    assert errors["ex1"] == ["ValueError"] and notes["truncated"] == [{"grade_id": "ex1", "cell_index": 1}]
    assert errors["ex1-tests"] == []
