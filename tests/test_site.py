"""The course website and the slides: settings, launch links in both course modes (self-study and graded), and one
full offline build whose pages, links, images and slides are checked (the build runs the lectures in quick mode).
The leak scan itself is tested in test_leaks.py."""

import re
import subprocess

import nbformat
import pytest

from ml4em import site
from ml4em.grading import find_assignments
from ml4em.leaks import html_text, scan_for_leaks, tutorial_secrets

from conftest import ROOT

CFG = """[site]
title = A course
author = Someone

[launch]
repository = {repository}
branch = main
binder = https://mybinder.org
binder_path = student/{{name}}/{{name}}.ipynb
jupyterhub = {hub}
student_repository = {student}
student_branch = release
hub_path = {{name}}/{{name}}.ipynb
"""


def _config(tmp_path, repository="https://github.com/o/course", hub="https://hub.uni.edu/", mode=None,
            student="https://github.com/o/course-student"):
    path = tmp_path / "site.cfg"
    path.write_text(CFG.format(repository=repository, hub=hub, student=student)
                    + ("" if mode is None else f"mode = {mode}\n"))
    return site.load_config(path)


# -- settings and launch links ---------------------------------------------------------------------------------------

def test_the_course_configuration_loads():
    config = site.load_config(course_root=ROOT)
    assert config.jupyterhub.startswith("https://") and "{name}" in config.hub_path


def test_hub_address_is_one_setting(tmp_path):
    links = site.launch_links(_config(tmp_path, hub="https://jupyter.tudelft.example/"), "03_clustering")
    assert links["jupyterhub"].startswith("https://jupyter.tudelft.example/hub/user-redirect/git-pull?repo=")
    assert "branch=release" in links["jupyterhub"]
    assert "urlpath=lab%2Ftree%2Fcourse-student%2F03_clustering%2F03_clustering.ipynb" in links["jupyterhub"]
    assert links["binder"] == ("https://mybinder.org/v2/gh/o/course/main?urlpath=lab/tree/student/03_clustering/"
                               "03_clustering.ipynb")


def test_binder_link_for_a_repository_outside_github(tmp_path):
    links = site.launch_links(_config(tmp_path, repository="https://gitlab.uni.edu/ml/course.git"), "01_regression")
    assert links["binder"].startswith("https://mybinder.org/v2/git/https%3A%2F%2Fgitlab.uni.edu%2Fml%2Fcourse.git/main")


def test_launch_links_reject_a_bad_name(tmp_path):
    with pytest.raises(ValueError, match="name='regression' should be a tutorial folder name"):
        site.launch_links(_config(tmp_path), "regression")


def test_bad_settings_are_reported(tmp_path):
    with pytest.raises(ValueError, match="jupyterhub='hub.uni.edu' in site.cfg should be an http"):
        _config(tmp_path, hub="hub.uni.edu")
    path = tmp_path / "site.cfg"
    text = CFG.format(repository="https://github.com/o/c", hub="https://h.edu", student="https://github.com/o/s")
    path.write_text(text.replace("branch = main\n", ""))
    with pytest.raises(ValueError, match="no setting 'branch' in section \\[launch\\]"):
        site.load_config(path)
    path.write_text(text.replace("hub_path = {name}/{name}.ipynb", "hub_path = tutorials"))
    with pytest.raises(ValueError, match="hub_path='tutorials' in site.cfg should contain \\{name\\}"):
        site.load_config(path)
    with pytest.raises(FileNotFoundError, match="no site configuration"):
        site.load_config(tmp_path / "missing.cfg")
    with pytest.raises(ValueError, match="mode='exam' in site.cfg should be one of \\['self-study', 'graded'\\].*"
                       "section \\[launch\\]"):
        _config(tmp_path, mode="exam")


# -- the course mode: self-study or graded ---------------------------------------------------------------------------

FULL = "https://github.com/o/full"  # a name that the student repository's name does not start with


def test_self_study_is_the_default_and_says_that_binder_holds_the_solutions(tmp_path):
    config = _config(tmp_path, repository=FULL)
    assert config.mode == "self-study" and site.load_config(course_root=ROOT).mode in site.MODES
    links = site.launch_links(config, "01_regression")
    assert set(links) == {"binder", "colab", "jupyterhub"}
    assert links["binder"].startswith("https://mybinder.org/v2/gh/o/full/main?")
    page = site.launch_html(config, "01_regression")
    assert "Open on Binder (self-study: this repository includes the solutions)" in page
    assert "course-student" in page and "o/full" in page


def test_graded_links_open_only_the_student_repository(tmp_path):
    config = _config(tmp_path, repository=FULL, mode="graded")
    links = site.launch_links(config, "02_neural_networks")
    assert links == site.student_links(config, "02_neural_networks")
    assert links["binder"] == ("https://mybinder.org/v2/gh/o/course-student/release?urlpath=lab/tree/"
                               "02_neural_networks/02_neural_networks.ipynb")
    assert links["colab"] == ("https://colab.research.google.com/github/o/course-student/blob/release/"
                              "02_neural_networks/02_neural_networks.ipynb")
    assert links["jupyterhub"].startswith("https://hub.uni.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2F"
                                          "github.com%2Fo%2Fcourse-student&branch=release")
    page = site.launch_html(config, "02_neural_networks")
    assert "o/full" not in page and "o%2Ffull" not in page and "includes the solutions" not in page
    assert [label in page for label in ("Launch on Binder", "Open in Colab", "Open on the course JupyterHub")] == \
        [True] * 3


def test_graded_tutorial_pages_never_name_the_full_repository(tmp_path):
    config = _config(tmp_path, repository=FULL, mode="graded")
    nb_path = tmp_path / "01_regression.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Tutorial 01\nText.")]), nb_path)
    site.build._tutorial_page(config, "01_regression", nb_path)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "tutorial.html").write_text(nb_path.read_text())
    (pages / "index.html").write_text(site.build._tutorials_index(config, [("01_regression", "Tutorial 01")]))
    assert site.links_to_full_repository(pages, config) == []
    self_study = _config(tmp_path, repository=FULL)
    (pages / "index.html").write_text(site.build._tutorials_index(self_study, [("01_regression", "Tutorial 01")]))
    assert site.links_to_full_repository(pages, config) == ["index.html: gh/o/full"]


def test_links_to_full_repository_in_every_spelling(tmp_path):
    config = _config(tmp_path, repository=FULL, mode="graded")
    for name, text in (("a.html", f'<a href="{FULL}.git">x</a>'),
                       ("b.html", "repo=https%3A%2F%2Fgithub.com%2Fo%2Ffull&"),
                       ("c.html", "colab.research.google.com/github/o/full/blob/main/x.ipynb"),
                       ("d.html", "https://github.com/o/full-student and o/fuller"), ("e.txt", FULL)):
        (tmp_path / name).write_text(text)
    assert site.links_to_full_repository(tmp_path, config) == [
        f"a.html: {FULL}", "b.html: https%3A%2F%2Fgithub.com%2Fo%2Ffull", "c.html: github/o/full"]


def test_student_repository_outside_github_has_no_colab_link(tmp_path):
    config = _config(tmp_path, mode="graded", student="https://gitlab.uni.edu/ml/course-student.git")
    links = site.launch_links(config, "01_regression")
    assert set(links) == {"binder", "jupyterhub"}
    assert links["binder"].startswith("https://mybinder.org/v2/git/https%3A%2F%2Fgitlab.uni.edu%2Fml%2Fcourse-student"
                                      ".git/release?urlpath=lab/tree/01_regression/01_regression.ipynb")


# -- the student versions ----------------------------------------------------------------------------------------------

def test_tutorial_secrets_and_student_versions(tmp_path):
    secrets = tutorial_secrets(ROOT)
    assert secrets, "the instructor versions hold solution lines"
    names = site.student_versions(tmp_path, course_root=ROOT)
    assert names == find_assignments(ROOT)
    for name in names:
        assert (tmp_path / name / f"{name}.ipynb").is_file()
    assert scan_for_leaks(tmp_path, secrets) == []


def test_links_to_unreleased_tutorials_become_text():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("See [Tutorial 01](../tutorials/01_regression/01_regression.ipynb) and "
                                              "[Tutorial 09](../tutorials/09_spectral_image/09_spectral_image.ipynb).")]
    out = site.build._unlink_missing(nb, ["01_regression"])
    assert out.cells[0].source == ("See [Tutorial 01](../tutorials/01_regression/01_regression.ipynb) and "
                                   "Tutorial 09 (not released yet).")
    assert "09_spectral_image" in nb.cells[0].source  # the lecture itself is not changed


def test_no_tutorials_yet_is_not_an_error(tmp_path):
    (tmp_path / "tutorials").mkdir()
    assert site.student_versions(tmp_path / "out", course_root=tmp_path) == []
    page = site.build._tutorials_index(site.load_config(course_root=ROOT), [])
    assert "No tutorial has been released yet" in page


# -- one full build --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "_site"
    result = site.build_site(out, course_root=ROOT, quick=True)
    return result


def test_site_holds_lectures_tutorials_glossary_assignment(built):
    out = built["out"]
    for page in ("index.html", "lectures/part1_ml_crash_course.html", "lectures/part2_ml_for_em.html",
                 "lectures/glossary.html", "lectures/assignment.html", "tutorials/index.html"):
        assert (out / page).is_file(), page
    assert built["tutorials"] == find_assignments(ROOT)
    glossary = html_text((out / "lectures/glossary.html").read_text())
    assert "zero-loss peak" in glossary and "Monte Carlo replicas" in glossary
    assert "Grading rubric" in html_text((out / "lectures/assignment.html").read_text())


def test_every_tutorial_page_is_the_student_version_with_launch_links(built):
    config = site.load_config(course_root=ROOT)
    for name in built["tutorials"]:
        page = (built["out"] / "tutorials" / name / f"{name}.html").read_text()
        links = site.launch_links(config, name)
        assert links["binder"] in page
        assert links["jupyterhub"].replace("&", "&amp;") in page
        assert "NotImplementedError" in html_text(page), f"{name}: not the student version"
        if config.mode == "self-study":
            assert "this repository includes the solutions" in page


def test_built_site_leaks_no_solution(built):
    assert scan_for_leaks(built["out"], tutorial_secrets(ROOT)) == []


def test_site_loads_nothing_from_the_network(built):
    external = []
    for path in built["out"].rglob("*.html"):
        text = path.read_text(errors="ignore")
        external += [f"{path.name}: {m}" for m in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"',
                                                             text)]
    assert external == []


def test_lecture_links_resolve(built):
    for page in (built["out"] / "lectures").glob("*.html"):
        broken = re.findall(r'href="(#[^"]*/[^"]*)"', page.read_text())
        assert broken == [], f"{page.name}: unresolved links {broken}"
    assert 'href="slides/index.html"' in (built["out"] / "index.html").read_text()


def test_lecture_figures_have_alt_text(built):
    for name in ("part1_ml_crash_course", "part2_ml_for_em"):
        page = (built["out"] / "lectures" / f"{name}.html").read_text()
        imgs = re.findall(r"<img\b[^>]*>", page)
        assert len(imgs) >= 8
        for img in imgs:
            alt = re.search(r'alt="([^"]*)"', img)
            assert alt and len(alt.group(1)) >= 40, img[:120]


def test_slides_one_per_lecture_offline(built):
    slides = built["slides"]
    assert sorted(p.name for p in slides) == ["part1_ml_crash_course.slides.html", "part2_ml_for_em.slides.html"]
    folder = slides[0].parent
    assert (folder / "reveal.js" / "dist" / "reveal.js").is_file() and (folder / "reveal.js" / "LICENSE").is_file()
    for path in slides:
        text = path.read_text()
        assert 'src="reveal.js/dist/reveal.js"' in text and "width: 1280" in text and "height: 720" in text
        assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', text)
        assert text.count('<section') > 10  # one idea per slide
        mathjax = re.search(r'<script src="([^"]*MathJax.js)', text).group(1)
        assert (folder / mathjax).resolve().is_file()


def test_make_slides_writes_standalone_decks(tmp_path):
    nb = nbformat.read(ROOT / "lectures" / "part1_ml_crash_course.ipynb", as_version=4)
    nb.cells = nb.cells[:3]  # the slide writer on a short, unexecuted piece: assets and layout
    paths = site.write_slides({"part1": nb}, tmp_path, course_root=ROOT)
    assert [p.name for p in paths] == ["part1.slides.html"]
    assert (tmp_path / "mathjax" / "MathJax.js").is_file() and (tmp_path / "index.html").is_file()


def test_every_figure_is_drawn_by_code(built):
    """Figures reach the site only as outputs of executed cells (inline PNG); the repository holds no image file."""
    sources = []
    for path in built["out"].rglob("*.html"):
        sources += [(path.name, s) for s in re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', path.read_text(errors="ignore"))]
    assert len(sources) >= 16  # both lectures' figures
    assert [(name, s[:60]) for name, s in sources if not s.startswith("data:image/png;base64,")] == []
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert [f for f in tracked if f.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"))] == []
