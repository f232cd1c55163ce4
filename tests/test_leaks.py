"""The one leak scan (ml4em.leaks): which lines are secret, and where the scan finds them: a copied notebook, HTML
with syntax highlighting, a notebook's outputs and tracebacks, a single file; a clean folder gives nothing."""

import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ml4em.leaks import html_text, readable_text, scan_for_leaks, secret_lines, tutorial_secrets

from conftest import ROOT
from test_grading import _cell  # a cell with nbgrader metadata


TOY = [
    _cell("markdown", "# Toy\nWrite `double(x)`."),
    _cell("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
          solution=True, grade_id="ex1"),
    _cell("code", "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\nassert f(0) == 0\n"
          "### END HIDDEN TESTS", grade=True, locked=True, points=2, grade_id="ex1-tests"),
    _cell("markdown", "### BEGIN SOLUTION\nBecause doubling is linear.\n### END SOLUTION", grade=True,
          solution=True, points=1, grade_id="q1"),
    _cell("code", "x = 1", solution=True, grade_id="ex2"),  # a whole solution cell, no markers; too short to count
    _cell("code", "total = np.sum(values)\nprint(total)", solution=True, grade_id="ex3"),
]
# Worked out by hand from TOY: the region lines of 6 characters or more, markers left out.
TOY_SECRETS = {"return 2 * x", "assert double(-3) == -6", "assert f(0) == 0", "Because doubling is linear.",
               "total = np.sum(values)", "print(total)"}


@pytest.fixture
def course(tmp_path):
    """A course with one toy tutorial, 00_toy, in tmp_path/course."""
    root = tmp_path / "course"
    (root / "tutorials" / "00_toy").mkdir(parents=True)
    nbformat.write(new_notebook(cells=TOY), root / "tutorials" / "00_toy" / "00_toy.ipynb")
    return root


def _student_notebook(outputs):
    """A notebook whose sources hold no secret, with ``outputs`` on its code cell."""
    cell = new_code_cell("assert double(2) == 4")
    cell.outputs = outputs
    return new_notebook(cells=[new_markdown_cell("# Toy"), cell])


# -- which lines are secret -------------------------------------------------------------------------------------------

def test_secret_lines_known_answer():
    assert secret_lines(new_notebook(cells=TOY)) == TOY_SECRETS


def test_secret_lines_ignore_text_that_the_instructions_show():
    cells = [_cell("markdown", "Use `total = np.sum(values)` here."),
             _cell("code", "### BEGIN SOLUTION\ntotal = np.sum(values)\n### END SOLUTION", solution=True,
                   grade_id="a")]
    assert secret_lines(new_notebook(cells=cells)) == set()


def test_tutorial_secrets(course):
    assert tutorial_secrets(course, ["00_toy"]) == TOY_SECRETS
    stale = course / "tutorials" / ".ipynb_checkpoints"  # Jupyter's copies are no tutorial of their own
    stale.mkdir()
    nbformat.write(new_notebook(cells=[_cell("code", "old_answer = 42", solution=True, grade_id="a")]),
                   stale / "00_old-checkpoint.ipynb")
    assert tutorial_secrets(course) == TOY_SECRETS
    assert tutorial_secrets(ROOT, ["01_regression"]) <= tutorial_secrets(ROOT)
    assert tutorial_secrets(ROOT, ["01_regression"]), "the instructor version of tutorial 01 holds solutions"


def test_tutorial_secrets_errors(tmp_path, course):
    with pytest.raises(FileNotFoundError, match="no tutorials/ folder in course_root=.*pass --course-root"):
        tutorial_secrets(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"assignments=\['99_none'\] have no folder in .*such as '01_regression'"):
        tutorial_secrets(course, ["99_none"])


# -- where the scan finds them ----------------------------------------------------------------------------------------

def test_a_copied_instructor_notebook_leaks(tmp_path, course):
    out = tmp_path / "out" / "00_toy"
    out.mkdir(parents=True)
    shutil.copy(course / "tutorials" / "00_toy" / "00_toy.ipynb", out / "copy.ipynb")
    leaks = scan_for_leaks(tmp_path / "out", TOY_SECRETS)
    assert "00_toy/copy.ipynb: marker 'BEGIN HIDDEN TESTS'" in leaks
    assert "00_toy/copy.ipynb: 'assert f(0) == 0'" in leaks
    assert len(leaks) == 4 + len(TOY_SECRETS)  # every marker and every secret line, each once


def test_html_text_joins_highlighted_code():
    markup = ('<div class="highlight"><pre><span class="k">return</span> <span class="nb">float</span>'
              '<span class="p">(</span><span class="n">np</span><span class="o">.</span>'
              '<span class="n">mean</span><span class="p">(</span><span class="n">r</span>'
              '<span class="p">))</span></pre></div><script>var x = "hidden";</script>')
    text = html_text(markup)
    assert "return float(np.mean(r))" in text and "hidden" not in text
    assert html_text("<p>a &amp; b</p><p>c &lt; d</p>").split() == ["a", "&", "b", "c", "<", "d"]


def test_scan_reads_html_as_a_reader_sees_it(tmp_path):
    secret = "return float(np.mean((y_true - y_pred) ** 2))"
    (tmp_path / "clean.html").write_text("<p>nothing to see</p>")
    (tmp_path / "page.html").write_text('<pre><span class="k">return</span> <span class="nb">float</span>(np.mean(('
                                        'y_true <span class="o">-</span> y_pred) ** 2))</pre>')
    (tmp_path / "short.html").write_text('<td><span class="k">assert</span> f(0) <span class="o">==</span> 0</td>')
    (tmp_path / "marker.txt").write_text("### BEGIN HIDDEN TESTS\n")
    leaks = scan_for_leaks(tmp_path, {secret, "assert f(0) == 0"})
    assert leaks == ["marker.txt: marker 'BEGIN HIDDEN TESTS'", f"page.html: {secret!r}",
                     "short.html: 'assert f(0) == 0'"]


def test_scan_reads_notebook_outputs_and_tracebacks(tmp_path):
    """An autograded notebook: its sources are clean, but a traceback (with IPython's colours and line numbers) and
    other outputs quote hidden-test lines."""
    traceback = ["\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
                 "\x1b[0;31mAssertionError\x1b[0m                            Traceback (most recent call last)",
                 "Cell \x1b[0;32mIn[3], line 3\x1b[0m\n\x1b[1;32m      1\x1b[0m \x1b[38;5;28;01massert\x1b[39;00m "
                 "double(\x1b[38;5;241m2\x1b[39m) \x1b[38;5;241m==\x1b[39m \x1b[38;5;241m4\x1b[39m\n"
                 "\x1b[0;32m----> 3\x1b[0m \x1b[38;5;28;01massert\x1b[39;00m f(\x1b[38;5;241m0\x1b[39m) "
                 "\x1b[38;5;241m==\x1b[39m \x1b[38;5;241m0\x1b[39m\n",
                 "\x1b[0;31mAssertionError\x1b[0m: "]
    cases = {
        "traceback.ipynb": new_output("error", ename="AssertionError", evalue="", traceback=traceback),
        "stream.ipynb": new_output("stream", name="stdout", text="checking\nassert double(-3) == -6\n"),
        "html.ipynb": new_output("display_data", data={"text/html": "<pre><span>Because doubling</span> is linear."
                                                                    "</pre>", "text/plain": "<HTML>"}),
        "clean.ipynb": new_output("stream", name="stdout", text="all tests passed\n"),
    }
    for name, output in cases.items():
        nbformat.write(_student_notebook([output]), tmp_path / name)
    leaks = scan_for_leaks(tmp_path, TOY_SECRETS)
    assert leaks == ["html.ipynb: 'Because doubling is linear.'", "stream.ipynb: 'assert double(-3) == -6'",
                     "traceback.ipynb: 'assert f(0) == 0'"]


def test_scan_of_a_single_file_and_of_a_clean_folder(tmp_path, course):
    notebook = course / "tutorials" / "00_toy" / "00_toy.ipynb"
    leaks = scan_for_leaks(notebook, TOY_SECRETS)
    assert "00_toy.ipynb: 'return 2 * x'" in leaks and all(leak.startswith("00_toy.ipynb: ") for leak in leaks)
    clean = tmp_path / "clean"
    (clean / "sub").mkdir(parents=True)
    (clean / "README.md").write_text("# Toy\nWrite `double(x)`.\n")
    (clean / "sub" / "page.html").write_text("<p>assert double(2) == 4</p>")
    nbformat.write(_student_notebook([]), clean / "sub" / "toy.ipynb")
    assert scan_for_leaks(clean, TOY_SECRETS) == []
    with pytest.raises(FileNotFoundError, match="folder=.*does not exist"):
        scan_for_leaks(tmp_path / "missing", TOY_SECRETS)


def test_binary_files_are_skipped(tmp_path):
    (tmp_path / "figure.png").write_bytes(b"\x89PNG\r\n" + b"return 2 * x\n")
    (tmp_path / "blob.dat").write_bytes(b"return 2 * x\n\x00\x01")
    (tmp_path / "latin1.txt").write_bytes("return 2 * x\ncaf\xe9\n".encode("latin-1"))
    (tmp_path / "broken.ipynb").write_text("{not json\nreturn 2 * x\n")  # read as it is
    assert [readable_text(tmp_path / n) for n in ("figure.png", "blob.dat", "latin1.txt")] == [None] * 3
    assert scan_for_leaks(tmp_path, {"return 2 * x"}) == ["broken.ipynb: 'return 2 * x'"]
