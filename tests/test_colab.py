"""Colab: the setup cell (in a fresh environment without ml4em, and where ml4em is installed), that every tutorial
starts with it, the Colab links of the site and of the student repository's README (student versions only, in both
course modes), and ``ml4em.check()`` on Colab, where the notebook is not a file on the machine."""

import dataclasses
import json
import os
import subprocess
import sys
import types

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from ml4em import colab, site
from ml4em.grading import find_assignments
from ml4em.publish import _readme
from ml4em.selfcheck import COLAB_HINT, check
from ml4em.site.config import COLAB, SiteConfig, _github

from conftest import ROOT

CONFIG = site.load_config(course_root=ROOT)
NAMES = find_assignments(ROOT)
FULL = "https://github.com/o/full"
OTHER = SiteConfig("t", "a", FULL, "main", "https://mybinder.org", "student/{name}/{name}.ipynb",
                   "https://hub.uni.edu", "https://github.com/o/full-student", "release", "{name}/{name}.ipynb")

# Runs the cell's Python (IPython's transform of it) with a get_ipython() that records line magics instead of running
# them, and prints what it saw.
RUNNER = """
import json, os, sys
calls = []
class Shell:
    def run_line_magic(self, name, line):
        calls.append([name, line])
code = open(sys.argv[1], encoding="utf-8").read()
exec(compile(code, "<setup cell>", "exec"), {"get_ipython": Shell})
print(json.dumps({"calls": calls, "data_dir": os.environ.get("ML4EM_DATA_DIR")}))
"""


def _python_of_cell(source):
    return TransformerManager().transform_cell(source)


def _run_cell(tmp_path, python, source):
    (tmp_path / "cell.py").write_text(_python_of_cell(source))
    (tmp_path / "runner.py").write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if k not in ("ML4EM_DATA_DIR", "PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run([str(python), "runner.py", "cell.py"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- the setup cell ----------------------------------------------------------------------------------------------------

def test_setup_cell_installs_ml4em_where_it_is_missing(tmp_path):
    """A fresh virtual environment has no ml4em, as on Colab: the cell asks %pip for the configured requirement."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    python = tmp_path / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    work = tmp_path / "work"  # not the repository root, whose ml4em/ folder would be importable from the cwd
    work.mkdir()
    seen = _run_cell(work, python, colab.setup_cell_source(CONFIG))
    assert seen == {"calls": [["pip", f'install -q "{CONFIG.requirement}"']], "data_dir": colab.COLAB_DATA_DIR}
    if not CONFIG.package:
        assert f"git+{CONFIG.repository}@{CONFIG.branch}" in seen["calls"][0][1]


def test_setup_cell_does_nothing_where_ml4em_is_installed(tmp_path):
    assert _run_cell(tmp_path, sys.executable, colab.setup_cell_source(CONFIG)) == {"calls": [], "data_dir": None}


def test_setup_cell_follows_the_package_setting():
    source = colab.setup_cell_source(dataclasses.replace(OTHER, package="ml4em==1.2"))
    assert '%pip install -q "ml4em==1.2"' in source and FULL not in source
    assert '%pip install -q "ml4em @ git+https://github.com/o/full@main"' in colab.setup_cell_source(OTHER)


def test_setup_cell_rejects_what_it_cannot_write():
    with pytest.raises(TypeError, match="config should be a SiteConfig .*got dict"):
        colab.setup_cell_source({"repository": FULL})
    with pytest.raises(ValueError, match="requirement 'ml4em\"x' \\(setting 'package' of site/site.cfg\\)"):
        colab.setup_cell_source(dataclasses.replace(OTHER, package='ml4em"x'))


def test_add_setup_cell_inserts_it_once_before_the_first_code_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")])
    colab.add_setup_cell(nb, OTHER)
    colab.add_setup_cell(nb, dataclasses.replace(OTHER, package="ml4em==1.2"))  # rewrites, does not add a second
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[1].source == colab.setup_cell_source(dataclasses.replace(OTHER, package="ml4em==1.2"))
    assert colab.is_setup_cell(nb.cells[1]) and not colab.is_setup_cell(nb.cells[2])


@pytest.mark.parametrize("name", NAMES)
def test_every_tutorial_starts_with_the_setup_cell(name):
    nb = nbformat.read(ROOT / "tutorials" / name / f"{name}.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == colab.setup_cell_source(CONFIG), (
        f"{name}: the first code cell should be ml4em.colab.setup_cell_source(config) for site/site.cfg; rewrite it "
        "with ml4em.colab.add_setup_cell(nb, config)")
    assert "nbgrader" not in first.metadata and first.outputs == []


# -- the Colab links open student versions ----------------------------------------------------------------------------

def _assert_student_colab(config, url, name):
    assert url == f"{COLAB}/github/{_github(config.student_repository)}/blob/{config.student_branch}/" \
                  f"{config.hub_path.format(name=name)}"
    assert f"github/{_github(config.repository)}/" not in url and "/tutorials/" not in url


@pytest.mark.parametrize("mode", site.MODES)
@pytest.mark.parametrize("config", [CONFIG, OTHER], ids=["course", "other"])
def test_site_colab_buttons_open_the_student_version(tmp_path, config, mode):
    config = dataclasses.replace(config, mode=mode)
    for name in NAMES:
        url = site.launch_links(config, name)["colab"]
        _assert_student_colab(config, url, name)
        assert url == site.student_links(config, name)["colab"]
        assert f'<a class="ml4em-colab" href="{url}">Open in Colab</a>' in site.launch_html(config, name)
    nb_path = tmp_path / "01_regression.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Tutorial 01\nText.")]), nb_path)
    site.build._tutorial_page(config, "01_regression", nb_path)
    assert site.launch_links(config, "01_regression")["colab"] in nb_path.read_text()


def test_student_repository_readme_colab_links_open_student_versions():
    text = _readme(CONFIG, [(n, n) for n in NAMES], "", False)
    for name in NAMES:
        url = site.student_links(CONFIG, name)["colab"]
        _assert_student_colab(CONFIG, url, name)
        assert f"[open]({url})" in text
    assert f"{COLAB}/github/{_github(CONFIG.repository)}/" not in text


# -- ml4em.check() on Colab --------------------------------------------------------------------------------------------

def test_check_on_colab_says_how_to_pass_the_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # like /content on Colab: no notebook file
    with pytest.raises(ValueError, match="found 0 notebooks") as err:
        check(quiet=True)
    assert "On Colab" not in str(err.value)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    on_colab = "found 0 notebooks.*On Colab.*drive.mount.*ml4em.check\\('/content/drive/"
    with pytest.raises(ValueError, match=on_colab) as err:
        check(quiet=True)
    assert str(err.value).endswith(COLAB_HINT)
    with pytest.raises(FileNotFoundError, match="notebook='01_regression.ipynb' does not exist.*Save a copy in Drive"):
        check("01_regression.ipynb", quiet=True)
