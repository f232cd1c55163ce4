"""The course website and the slides: settings, launch links, the leak scan, and one full offline build whose
pages, links, images and slides are checked (the build runs the lectures in quick mode)."""

import re
import subprocess

import nbformat
import pytest

from ml4em import site
from ml4em.grading import find_assignments

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
student_repository = https://github.com/o/course-student
student_branch = release
hub_path = {{name}}/{{name}}.ipynb
"""


def _config(tmp_path, repository="https://github.com/o/course", hub="https://hub.uni.edu/"):
    path = tmp_path / "site.cfg"
    path.write_text(CFG.format(repository=repository, hub=hub))
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
    path.write_text(CFG.format(repository="https://github.com/o/c", hub="https://h.edu").replace("branch = main\n", ""))
    with pytest.raises(ValueError, match="no setting 'branch' in section \\[launch\\]"):
        site.load_config(path)
    path.write_text(CFG.format(repository="https://github.com/o/c", hub="https://h.edu").replace(
        "hub_path = {name}/{name}.ipynb", "hub_path = tutorials"))
    with pytest.raises(ValueError, match="hub_path='tutorials' in site.cfg should contain \\{name\\}"):
        site.load_config(path)
    with pytest.raises(FileNotFoundError, match="no site configuration"):
        site.load_config(tmp_path / "missing.cfg")


# -- the leak scan ---------------------------------------------------------------------------------------------------

def test_html_text_joins_highlighted_code():
    markup = ('<div class="highlight"><pre><span class="k">return</span> <span class="nb">float</span>'
              '<span class="p">(</span><span class="n">np</span><span class="o">.</span>'
              '<span class="n">mean</span><span class="p">(</span><span class="n">r</span>'
              '<span class="p">))</span></pre></div><script>var x = "hidden";</script>')
    text = site.html_text(markup)
    assert "return float(np.mean(r))" in text and "hidden" not in text


def test_scan_finds_a_planted_solution_line(tmp_path):
    secret = "return float(np.mean((y_true - y_pred) ** 2))"
    (tmp_path / "clean.html").write_text("<p>nothing to see</p>")
    (tmp_path / "page.html").write_text('<pre><span class="k">return</span> <span class="nb">float</span>(np.mean(('
                                        'y_true <span class="o">-</span> y_pred) ** 2))</pre>')
    (tmp_path / "marker.txt").write_text("### BEGIN HIDDEN TESTS\n")
    leaks = site.scan_for_leaks(tmp_path, {secret})
    assert any(leak.startswith("page.html") for leak in leaks)
    assert any("marker.txt: marker 'BEGIN HIDDEN TESTS'" in leak for leak in leaks)
    assert not any(leak.startswith("clean.html") for leak in leaks)


def test_tutorial_secrets_and_student_versions(tmp_path):
    secrets = site.tutorial_secrets(ROOT)
    assert secrets, "the instructor versions hold solution lines"
    names = site.student_versions(tmp_path, course_root=ROOT)
    assert names == find_assignments(ROOT)
    for name in names:
        assert (tmp_path / name / f"{name}.ipynb").is_file()
    assert site.scan_for_leaks(tmp_path, secrets) == []


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
    glossary = site.html_text((out / "lectures/glossary.html").read_text())
    assert "zero-loss peak" in glossary and "Monte Carlo replicas" in glossary
    assert "Grading rubric" in site.html_text((out / "lectures/assignment.html").read_text())


def test_every_tutorial_page_is_the_student_version_with_launch_links(built):
    config = site.load_config(course_root=ROOT)
    for name in built["tutorials"]:
        page = (built["out"] / "tutorials" / name / f"{name}.html").read_text()
        links = site.launch_links(config, name)
        assert links["binder"] in page
        assert links["jupyterhub"].replace("&", "&amp;") in page
        assert "NotImplementedError" in site.html_text(page), f"{name}: not the student version"


def test_built_site_leaks_no_solution(built):
    assert site.scan_for_leaks(built["out"], site.tutorial_secrets(ROOT)) == []


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
