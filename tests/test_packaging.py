"""The install files agree with each other and with the README's two commands."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

from conftest import ROOT


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(requirements):
    return {Requirement(r).name.lower().replace("_", "-") for r in requirements}


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {d for d in dep["pip"] if not d.startswith("-e")}
            assert "-e ." in dep["pip"], "environment.yml must install this package"
        else:
            conda.add(dep)
    assert "python=3.11" in conda
    env_names = _names(d.replace("=", "==", 1) if re.match(r"^[\w-]+=[^=]", d) else d
                       for d in conda - {"python=3.11", "pip"}) | _names(pip)
    # tensorflow-cpu (Linux) and tensorflow (elsewhere) are one dependency with a platform marker
    py_names = _names(_pyproject()["project"]["dependencies"]) - {"tensorflow"}
    assert env_names == py_names, f"only in environment.yml: {env_names - py_names}; only in pyproject: {py_names - env_names}"


def test_required_dependencies_declared():
    names = _names(_pyproject()["project"]["dependencies"])
    for needed in ["numpy", "scikit-learn", "matplotlib", "tensorflow-cpu", "tensorflow", "keras", "ipywidgets",
                   "tqdm", "pooch", "jupyterlab", "nbgrader", "rosettasciio"]:
        assert needed in names, needed
    assert "pytest" in _names(_pyproject()["project"]["optional-dependencies"]["dev"])
    assert _pyproject()["project"]["scripts"]["ml4em"] == "ml4em.cli:main"


def test_readme_quick_start_is_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert block, "README needs a '## Quick start' section with a code block"
    commands = [ln.strip() for ln in block.group(1).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert commands == ["make lab", "make test"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:"):
        assert re.search(rf"^{target}", makefile, re.M)
    assert "-m venv" in makefile and 'pip install' in makefile  # `make` creates .venv and installs


def test_generated_folders_are_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in ["release/", "submitted/", "autograded/", "feedback/", "gradebook.db", ".venv/"]:
        assert entry in ignored


def test_nbgrader_config_uses_tutorials():
    text = (ROOT / "nbgrader_config.py").read_text()
    assert 'c.CourseDirectory.source_directory = "tutorials"' in text


def test_binder_postbuild_prepares_student_versions(tmp_path):
    """Binder's postBuild, run in a copy of the course: it pre-fetches the data and writes the student versions
    (no solution or hidden-test text) into student/, where the Binder links open the tutorials."""
    import os
    import shutil
    import subprocess
    import sys

    import nbformat

    from ml4em.leaks import secret_lines

    course = tmp_path / "course"
    (course / "tutorials").mkdir(parents=True)
    shutil.copytree(ROOT / "tutorials" / "01_regression", course / "tutorials" / "01_regression")
    for name in ("nbgrader_config.py", "postBuild"):
        shutil.copy(ROOT / name, course / name)
    assert os.access(ROOT / "postBuild", os.X_OK)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    out = subprocess.run(["bash", "postBuild"], cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    student = course / "student" / "01_regression" / "01_regression.ipynb"
    text = "\n".join(c.source for c in nbformat.read(student, as_version=4).cells)
    secrets = secret_lines(nbformat.read(ROOT / "tutorials" / "01_regression" / "01_regression.ipynb", as_version=4))
    assert secrets and not [s for s in secrets if s in text]
    assert "raise NotImplementedError()" in text
