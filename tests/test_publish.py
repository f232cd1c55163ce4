"""ml4em publish-student: the student repository of a graded course holds the student versions, a README whose
links open the student repository of site/site.cfg, the data notes and Binder's launch files, and never a solution or
hidden test; bad input fails clearly, and a failed or interrupted run leaves nothing behind."""

import argparse
import dataclasses
import os
import re
import shutil

import nbformat
import pytest
import yaml

from ml4em import publish
from ml4em.leaks import scan_for_leaks, tutorial_secrets
from ml4em.publish import publish_student
from ml4em.site.config import load_config, student_links

from conftest import ROOT

NAME = "01_regression"
FILES = [f"{NAME}/{NAME}.ipynb", "README.md", "data/README.md", "environment.yml", "postBuild"]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Tutorial 01 published with nbgrader, once for the module."""
    parent = tmp_path_factory.mktemp("publish")
    return publish_student(parent / "student-repo", [NAME], course_root=ROOT)


def cli_main(argv):
    """``ml4em ARGV`` with the subcommand as ml4em.cli adds it (``add_parser``), the other plugins left out."""
    parser = argparse.ArgumentParser(prog="ml4em")
    publish.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def _copying(source):
    """A stand-in for generate_student_versions that copies each tutorial folder from ``source``."""
    def generate(out, assignments=None, *, course_root=".", overwrite=False):
        for name in assignments:
            shutil.copytree(source / name, os.path.join(out, name), dirs_exist_ok=overwrite)
        return list(assignments), []
    return generate


# -- what it writes --------------------------------------------------------------------------------------------------

def test_the_student_repository_holds_the_expected_files(published):
    out = published["out"]
    assert published["tutorials"] == [NAME] and published["files"] == sorted(FILES)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(FILES)
    assert os.listdir(out.parent) == ["student-repo"]  # no temporary folder left beside it
    text = "\n".join(c.source for c in nbformat.read(out / NAME / f"{NAME}.ipynb", as_version=4).cells)
    assert "raise NotImplementedError()" in text
    assert (out / "data" / "README.md").read_text() == (ROOT / "data" / "README.md").read_text()


def test_the_leak_scan_finds_nothing(published):
    secrets = tutorial_secrets(ROOT)
    assert secrets and scan_for_leaks(published["out"], secrets) == []


def test_readme_links_open_the_student_repository_of_site_cfg(published):
    config = load_config(course_root=ROOT)
    readme = (published["out"] / "README.md").read_text()
    links = student_links(config, NAME)
    assert set(links) == {"binder", "colab", "jupyterhub"}  # the course's student repository is on GitHub
    for url in links.values():
        assert f"]({url})" in readme
    urls = re.findall(r"\]\((https?://[^)]+)\)", readme)
    assert sorted(urls) == sorted(links.values())  # no other address, in particular not the full repository's
    assert config.title in readme.splitlines()[0]
    assert f"]({NAME}/{NAME}.ipynb)" in readme and "(data/README.md)" in readme


def test_binder_files_install_ml4em_and_only_fetch_the_data(published):
    out = published["out"]
    env = yaml.safe_load((out / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == [load_config(course_root=ROOT).requirement]
    assert any(str(d).startswith("python=") for d in env["dependencies"])
    post = out / "postBuild"
    assert os.access(post, os.X_OK)
    commands = [ln for ln in post.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands == ["set -euo pipefail", "ml4em data download --quiet"]


def test_tutorials_go_where_hub_path_says(tmp_path, published, monkeypatch):
    monkeypatch.setattr(publish, "generate_student_versions", _copying(published["out"]))
    config = dataclasses.replace(load_config(course_root=ROOT), hub_path="tutorials/{name}/{name}.ipynb")
    result = publish_student(tmp_path / "repo", [NAME], course_root=ROOT, config=config)
    assert f"tutorials/{NAME}/{NAME}.ipynb" in result["files"]
    assert f"]({student_links(config, NAME)['binder']})" in (tmp_path / "repo" / "README.md").read_text()
    assert "lab/tree/tutorials/01_regression/01_regression.ipynb" in student_links(config, NAME)["binder"]


# -- overwrite protection --------------------------------------------------------------------------------------------

def test_a_non_empty_folder_is_replaced_only_with_overwrite(tmp_path, published, monkeypatch, capsys):
    monkeypatch.setattr(publish, "generate_student_versions", _copying(published["out"]))
    out = tmp_path / "student-repo"
    out.mkdir()  # an empty folder is fine
    publish_student(out, [NAME], course_root=ROOT)
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "old-notes.txt").write_text("from an earlier release\n")
    with pytest.raises(FileExistsError, match="--to '.*student-repo' exists and is not empty; .*pass --overwrite"):
        publish_student(out, [NAME], course_root=ROOT)
    assert (out / "old-notes.txt").is_file()
    assert cli_main(["publish-student", NAME, "--to", str(out), "--course-root", str(ROOT)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    result = publish_student(out, [NAME], course_root=ROOT, overwrite=True)
    assert not (out / "old-notes.txt").exists() and result["files"] == sorted(FILES)
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"  # a clone stays a clone
    assert sorted(os.listdir(tmp_path)) == ["student-repo"]


# -- bad input -------------------------------------------------------------------------------------------------------

def test_unknown_assignment(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown assignment\(s\) \['99_nothing'\] \(ASSIGNMENT\): the course in "
                                         r"--course-root .* has \['01_regression'.*such as '01_regression'"):
        publish_student(tmp_path / "repo", ["99_nothing"], course_root=ROOT)
    assert cli_main(["publish-student", "99_nothing", "--to", str(tmp_path / "repo"), "--course-root", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "unknown assignment(s) ['99_nothing']" in err and "Traceback" not in err
    assert not (tmp_path / "repo").exists()
    with pytest.raises(TypeError, match=r"assignments should be a list .*\['01_regression'\]"):
        publish_student(tmp_path / "repo", NAME, course_root=ROOT)


def test_missing_tutorials_and_bad_targets(tmp_path, capsys):
    assert cli_main(["publish-student", NAME, "--to", str(tmp_path / "repo"), "--course-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no tutorials/ folder in course_root=" in err and "--course-root" in err and "Traceback" not in err
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ValueError, match="--to '.*a-file' is a file"):
        publish_student(tmp_path / "a-file", [NAME], course_root=ROOT)
    with pytest.raises(ValueError, match=r"would replace the course \(--course-root .*\) or sit inside its tutorials/"):
        publish_student(ROOT.parent, [NAME], course_root=ROOT, overwrite=True)
    with pytest.raises(ValueError, match="or sit inside its tutorials/"):
        publish_student(ROOT / "tutorials" / "student-repo", [NAME], course_root=ROOT)
    config = dataclasses.replace(load_config(course_root=ROOT), hub_path="{name}.ipynb")
    with pytest.raises(ValueError, match=r"hub_path='\{name\}.ipynb' in site.cfg should end with"):
        publish_student(tmp_path / "repo", [NAME], course_root=ROOT, config=config)
    assert not (tmp_path / "repo").exists()


# -- a leak, or an interruption, leaves nothing ----------------------------------------------------------------------

def test_a_planted_leak_fails_and_leaves_no_output(tmp_path, monkeypatch, capsys):
    """The student-version step is replaced by one that copies the instructor version: publishing must refuse."""
    monkeypatch.setattr(publish, "generate_student_versions", _copying(ROOT / "tutorials"))
    out = tmp_path / "student-repo"
    with pytest.raises(RuntimeError, match=f"instructor-only text, so nothing was written .*\n{NAME}/{NAME}.ipynb: "):
        publish_student(out, [NAME], course_root=ROOT)
    assert os.listdir(tmp_path) == []
    assert cli_main(["publish-student", NAME, "--to", str(out), "--course-root", str(ROOT)]) == 1
    assert f"{NAME}/{NAME}.ipynb: marker 'BEGIN SOLUTION'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_an_interrupted_run_leaves_no_output(tmp_path, monkeypatch):
    def interrupted(out, assignments=None, **kwargs):
        os.makedirs(os.path.join(out, NAME))
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "generate_student_versions", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish_student(tmp_path / "student-repo", [NAME], course_root=ROOT)
    assert os.listdir(tmp_path) == []
