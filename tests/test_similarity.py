"""ml4em similarity: a planted copy is found; independent correct answers, blank and textbook ones are not flagged.

A course with tutorial 01 and its release (made by ml4em's own student version). Four students each write a
genuinely different correct implementation of six exercises (design_matrix with np.vander, a list comprehension,
np.power.outer or a loop; least squares with lstsq, the normal equations, pinv or QR; ...), one per student and
exercise, rotated so that no two of them ever use the same one; their written answers are their own. ``copycat``
hands in s1's answers with every variable renamed and independent lines reordered; ``book_1`` and ``book_2`` both
hand in the instructor's solutions; ``blank_1`` and ``blank_2`` the untouched release.
"""

import csv
import re
import shutil
import sys
import textwrap

import nbformat
import numpy as np
import pytest

from ml4em.cli import main
from ml4em.similarity import Match, SimilarityReport, format_table, similarity
from ml4em.similarity._fingerprints import Vocabulary, copydetect_utils, fingerprint
from ml4em.similarity._tokens import code_tokens

pytest.importorskip("copydetect", reason='the instructor tools are not installed: pip install "ml4em[instructor]"')

ASSIGNMENT = "01_regression"

# Four independent correct bodies per exercise (they replace the stub's two lines).
IMPLEMENTATIONS = {
    "ex1-design-matrix": [
        """
        values = np.asarray(x, dtype=float)
        return np.vander(values, degree + 1, increasing=True)
        """, """
        points = np.asarray(x, dtype=float).ravel()
        table = [[p ** power for power in range(degree + 1)] for p in points]
        return np.array(table, dtype=float).reshape(len(points), degree + 1)
        """, """
        return np.power.outer(np.asarray(x, dtype=float), np.arange(degree + 1))
        """, """
        x = np.asarray(x, dtype=float)
        columns = np.ones((x.size, degree + 1))
        for j in range(1, degree + 1):
            columns[:, j] = columns[:, j - 1] * x
        return columns
        """],
    "ex2-least-squares": [
        """
        coef = np.linalg.lstsq(X, y, rcond=None)[0]
        return coef
        """, """
        gram = X.T @ X
        moment = X.T @ y
        return np.linalg.solve(gram, moment)
        """, """
        return np.linalg.pinv(X) @ y
        """, """
        q, r = np.linalg.qr(X)
        return np.linalg.solve(r, q.T @ y)
        """],
    "ex3-mse": [
        """
        diff = np.subtract(y_true, y_pred)
        return float(diff @ diff / diff.size)
        """, """
        return float(sum((a - b) ** 2 for a, b in zip(y_true, y_pred)) / len(y_true))
        """, """
        errors = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
        return float(np.dot(errors, errors)) / len(errors)
        """, """
        return float(np.mean(np.square(np.asarray(y_true) - np.asarray(y_pred))))
        """],
    "ex4-kfold": [
        """
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        losses = []
        for held_out in np.array_split(np.arange(x.size), n_folds):
            coef = fit_least_squares(design_matrix(np.delete(x, held_out), degree), np.delete(y, held_out))
            losses.append(mse(y[held_out], design_matrix(x[held_out], degree) @ coef))
        return float(np.mean(losses))
        """, """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(x)
        sizes = np.full(n_folds, n // n_folds)
        sizes[: n % n_folds] += 1
        stops = np.cumsum(sizes)
        total = 0.0
        for stop, size in zip(stops, sizes):
            test = np.zeros(n, dtype=bool)
            test[stop - size:stop] = True
            params = fit_least_squares(design_matrix(x[~test], degree), y[~test])
            total += mse(y[test], design_matrix(x[test], degree) @ params)
        return float(total / n_folds)
        """, """
        n = len(x)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        errs = []
        start = 0
        for k in range(n_folds):
            size = n // n_folds + (1 if k < n % n_folds else 0)
            val_idx = list(range(start, start + size))
            trn_idx = [i for i in range(n) if i not in val_idx]
            start += size
            w = fit_least_squares(design_matrix(x[trn_idx], degree), y[trn_idx])
            errs.append(mse(y[val_idx], design_matrix(x[val_idx], degree).dot(w)))
        return float(sum(errs) / len(errs))
        """, """
        folds = np.array_split(np.arange(len(x)), n_folds)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        cv = np.empty(n_folds)
        for i, fold in enumerate(folds):
            rest = np.concatenate([f for j, f in enumerate(folds) if j != i])
            beta = fit_least_squares(design_matrix(x[rest], degree), y[rest])
            residual = y[fold] - design_matrix(x[fold], degree) @ beta
            cv[i] = np.mean(residual ** 2)
        return float(cv.mean())
        """],
    "ex6-ridge": [
        """
        n_coef = X.shape[1]
        lhs = X.T @ X + alpha * np.identity(n_coef)
        return np.linalg.solve(lhs, X.T @ y)
        """, """
        p = X.shape[1]
        X_aug = np.vstack([X, np.sqrt(alpha) * np.eye(p)])
        y_aug = np.concatenate([y, np.zeros(p)])
        return np.linalg.lstsq(X_aug, y_aug, rcond=None)[0]
        """, """
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        return Vt.T @ ((s / (s ** 2 + alpha)) * (U.T @ y))
        """, """
        A = X.T.dot(X) + alpha * np.eye(X.shape[1])
        return np.linalg.inv(A).dot(X.T.dot(y))
        """],
    "ex7-gradient-step": [
        """
        n = X.shape[0]
        grad = 2.0 / n * X.T @ (X @ theta - y)
        return theta - learning_rate * grad
        """, """
        residual = X.dot(theta) - y
        return theta - learning_rate * 2.0 * X.T.dot(residual) / len(y)
        """, """
        g = np.zeros(len(theta))
        for xi, yi in zip(X, y):
            g += 2.0 * (xi @ theta - yi) * xi
        return theta - learning_rate * g / len(y)
        """, """
        r = np.einsum("ij,j->i", X, theta) - y
        step = 2 * np.einsum("ij,i->j", X, r) / y.size
        return theta - learning_rate * step
        """],
}
WRITTEN = [
    "The degree-14 curve goes through all 15 points, noise included, so its training error is zero, yet it "
    "swings wildly between them. Cross-validation picks the degree instead; ridge shrinks the coefficients.",
    "Training error cannot detect over-fitting: a polynomial with as many parameters as samples interpolates. "
    "Estimate the error on held-out folds and take the degree where it is lowest; or penalise large weights.",
    "(a) zero training error means memorised noise, the model oscillates and predicts badly. (b) k-fold CV over "
    "degrees. (c) an L2 penalty alpha keeps the flexible model smooth, alpha chosen by CV.",
    "Interpolating polynomials fit noise. Use validation data (folds) to compare degrees. Regularisation trades "
    "bias for variance.",
]
# copycat: s1's answers, every variable renamed and independent lines swapped.
RENAMES = {"ex1-design-matrix": {"points": "pts", "table": "rows", "power": "e", "p": "v"},
           "ex2-least-squares": {"q": "Q", "r": "R"},
           "ex3-mse": {"errors": "res"},
           "ex4-kfold": {"losses": "errors", "held_out": "fold", "coef": "w", "sizes": "lengths", "stops": "ends",
                         "total": "acc", "stop": "end", "size": "length", "test": "mask", "params": "theta"},
           "ex6-ridge": {"U": "left", "s": "sv", "Vt": "right", "p": "k", "X_aug": "A", "y_aug": "b"},
           "ex7-gradient-step": {"residual": "err", "g": "grad", "xi": "row", "yi": "target"}}
SWAPS = {"ex6-ridge": ("X_aug = ", "y_aug = "), "ex4-kfold": ("x, y = ", "losses = ")}  # independent lines


def _fill(stub, body):
    lines = stub.split("\n")
    i = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    new = [indent + line if line else line for line in textwrap.dedent(body).strip("\n").split("\n")]
    return "\n".join(lines[:i] + new + lines[i + 2:])


def _copy(source, grade_id):
    lines = source.split("\n")
    if grade_id in SWAPS:
        a, b = ([i for i, line in enumerate(lines) if line.strip().startswith(s)][0] for s in SWAPS[grade_id])
        lines[a], lines[b] = lines[b], lines[a]
    text = "\n".join(lines)
    for old, new in RENAMES.get(grade_id, {}).items():
        text = re.sub(rf"(?<!\.)\b{old}\b", new, text)  # variables, not attributes (x.size)
    return text


def _answers(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def _submit(course, student, nb, sources):
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sources:
            cell.source = sources[gid]
    path = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _solutions(instructor):
    return {gid: re.sub(r"\n?\s*### (BEGIN|END) SOLUTION", "", src) for gid, src in _answers(instructor).items()}


@pytest.fixture(scope="module")
def course(tmp_path_factory, repo_root):
    from ml4em.student import generate_student_versions

    root = tmp_path_factory.mktemp("similarity") / "course"
    (root / "tutorials").mkdir(parents=True)
    shutil.copy(repo_root / "nbgrader_config.py", root)
    shutil.copytree(repo_root / "tutorials" / ASSIGNMENT, root / "tutorials" / ASSIGNMENT)
    generate_student_versions(root / "release", [ASSIGNMENT], course_root=root)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    instructor = nbformat.read(root / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    stubs, book = _answers(release), _solutions(instructor)
    for n in range(4):
        mine = {gid: _fill(stubs[gid], bodies[(n + e) % 4]) for e, (gid, bodies) in enumerate(IMPLEMENTATIONS.items())}
        mine.update({"ex5-best-degree": book["ex5-best-degree"], "ex8-eta-max": book["ex8-eta-max"],
                     "q9-overfitting": WRITTEN[n]})
        _submit(root, f"s{n}", release, mine)
        if n == 1:
            copied = {gid: _copy(src, gid) for gid, src in mine.items()}
            copied["q9-overfitting"] = mine["q9-overfitting"].replace("Training error", "The training error")
            _submit(root, "copycat", release, copied)
    for student in ("book_1", "book_2"):
        _submit(root, student, release, book)
    for student in ("blank_1", "blank_2"):
        _submit(root, student, release, {})
    return root


@pytest.fixture(scope="module")
def report(course):
    return similarity(ASSIGNMENT, course_root=course)


def _cells(course, student):
    nb = nbformat.read(course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return _answers(nb)


@pytest.mark.parametrize("student", ["s0", "s1", "s2", "s3", "copycat"])
def test_the_answers_are_correct(course, student):
    """Every planted answer computes what the instructor's solution computes (so they are real solutions)."""
    instructor = nbformat.read(course / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    book, mine = {"np": np}, {"np": np}
    for gid, source in _solutions(instructor).items():
        if gid in IMPLEMENTATIONS:
            exec(source, book)
    for gid in IMPLEMENTATIONS:
        exec(_cells(course, student)[gid], mine)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 23), rng.normal(size=23)
    X = book["design_matrix"](x, 3)
    theta = rng.normal(size=4)
    # rtol: the methods differ (QR, SVD, normal equations) only by rounding of well-conditioned 4x4 problems
    for name, args in [("design_matrix", (x, 3)), ("fit_least_squares", (X, y)), ("mse", (y, x)),
                       ("kfold_cv_error", (x, y, 2, 5)), ("fit_ridge", (X, y, 0.7)),
                       ("gradient_step", (theta, X, y, 0.05))]:
        np.testing.assert_allclose(mine[name](*args), book[name](*args), rtol=1e-8, err_msg=f"{student}: {name}")


def test_the_copy_is_found_and_nothing_else(report):
    flagged = report.flagged
    assert flagged, format_table(report)
    assert {(m.student_a, m.student_b) for m in flagged} == {("copycat", "s1")}, format_table(report)
    found = {m.grade_id: m.score for m in flagged}
    assert found["notebook"] >= 0.8
    # the long answers whose lines were renamed and reordered are flagged one by one
    for gid in ("ex1-design-matrix", "ex4-kfold", "ex6-ridge", "ex7-gradient-step"):
        assert gid in found, format_table(report)
    # s1's least squares is the one-liner `return np.linalg.pinv(X) @ y`: too short to be compared on its own
    assert not [m for m in report.matches if m.grade_id == "ex2-least-squares" and "s1" in (m.student_a, m.student_b)]


def test_independent_answers_score_low(report):
    independent = {f"s{n}" for n in range(4)}
    scores = [m.score for m in report.matches if {m.student_a, m.student_b} <= independent]
    assert scores and max(scores) < report.threshold
    # the notebooks of independent students share little once the given code is left out
    notebooks = [m.score for m in report.matches
                 if {m.student_a, m.student_b} <= independent and m.grade_id == "notebook"]
    assert len(notebooks) == 6 and max(notebooks) < 0.3


def test_blank_and_textbook_answers_are_not_compared(report):
    """What was given (the stub, the instructor's solution) leaves nothing to compare: no row, no flag."""
    given = {"blank_1", "blank_2", "book_1", "book_2"}
    assert not [m for m in report.matches if {m.student_a, m.student_b} <= given]
    assert not [m for m in report.flagged if {m.student_a, m.student_b} & given]


def test_code_most_of_the_class_wrote_does_not_count(tmp_path, repo_root):
    """Four of five students write the same SVD ridge: with common=0.5 that is the class's way, not a copy.
    (This course has no release/: what was given is read from the instructor version alone.)"""
    shutil.copytree(repo_root / "tutorials" / ASSIGNMENT, tmp_path / "tutorials" / ASSIGNMENT)
    instructor = nbformat.read(tmp_path / "tutorials" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    stub = "def fit_ridge(X, y, alpha):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    svd, augmented = IMPLEMENTATIONS["ex6-ridge"][2], IMPLEMENTATIONS["ex6-ridge"][1]
    for n in range(4):
        _submit(tmp_path, f"c{n}", instructor, {"ex6-ridge": _fill(stub, re.sub(r"\bs\b", f"sv{n}", svd))})
    _submit(tmp_path, "c4", instructor, {"ex6-ridge": _fill(stub, augmented)})
    assert not [m for m in similarity(ASSIGNMENT, course_root=tmp_path).matches if m.grade_id == "ex6-ridge"]
    flagged = similarity(ASSIGNMENT, course_root=tmp_path, common=1.0).flagged
    assert {(m.student_a, m.student_b) for m in flagged if m.grade_id == "ex6-ridge"} == {
        (f"c{a}", f"c{b}") for a in range(4) for b in range(a + 1, 4)}


def test_cli_writes_html_and_csv(course, capsys):
    assert main(["similarity", ASSIGNMENT, "--course-root", str(course)]) == 0
    out = capsys.readouterr().out
    assert "copycat    s1" in out and "notebook" in out
    folder = course / "similarity" / ASSIGNMENT
    page = (folder / "report.html").read_text()
    assert "copycat" in page and "<mark>" in page and "pts" in page and "points" in page
    assert not re.search(r"<script|<link|src=|https?://", page)  # self-contained
    with open(folder / "pairs.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["student_a", "student_b", "grade_id", "score"]
    scores = {(a, b, g): float(s) for a, b, g, s in rows[1:]}
    assert scores["copycat", "s1", "notebook"] >= 0.8
    assert scores["copycat", "s1", "ex6-ridge"] >= 0.5 and ("copycat", "s1", "ex2-least-squares") not in scores
    assert ("s0", "s2", "notebook") in scores and scores["s0", "s2", "notebook"] < 0.3
    assert not [k for k in scores if k[0].startswith("blank") and k[1].startswith("blank")]
    assert len(rows) - 1 == len(similarity(ASSIGNMENT, course_root=course).matches)
    # a second run replaces the reports in place
    before = (folder / "pairs.csv").read_text()
    assert main(["similarity", ASSIGNMENT, "--course-root", str(course), "--threshold", "0.9"]) == 0
    assert (folder / "pairs.csv").read_text() == before
    assert sorted(p.name for p in (course / "similarity").iterdir()) == [".ml4em-similarity", ASSIGNMENT]


def test_refuses_a_folder_it_did_not_write(course, tmp_path, capsys):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    assert main(["similarity", ASSIGNMENT, "--course-root", str(course), "--out", str(other)]) == 2
    err = capsys.readouterr().err
    assert f"--out '{other}'" in err and "not written by ml4em similarity" in err
    assert [p.name for p in other.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize("argv, expected", [
    (["nope"], r"ASSIGNMENT 'nope' is not in .*Choose one of \['01_regression'\]"),
    ([ASSIGNMENT, "--threshold", "1.5"], r"--threshold 1\.5 should be a number from 0 to 1"),
    ([ASSIGNMENT, "--threshold", "high"], r"--threshold 'high' should be a number from 0 to 1"),
])
def test_bad_arguments_exit_2(course, argv, expected, capsys):
    assert main(["similarity", *argv, "--course-root", str(course)]) == 2
    assert re.search(expected, capsys.readouterr().err)


def test_no_submissions(tmp_path, repo_root, capsys):
    shutil.copytree(repo_root / "tutorials" / ASSIGNMENT, tmp_path / "tutorials" / ASSIGNMENT)
    assert main(["similarity", ASSIGNMENT, "--course-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "ASSIGNMENT '01_regression' has 0 submission(s)" in err and "nbgrader collect" in err
    with pytest.raises(ValueError, match="threshold=-0.1 should be a number from 0 to 1"):
        similarity(ASSIGNMENT, course_root=tmp_path, threshold=-0.1)
    with pytest.raises(ValueError, match="k=0 should be an integer >= 1"):
        similarity(ASSIGNMENT, course_root=tmp_path, k=0)
    with pytest.raises(ValueError, match=r"common=0 should be a share in \(0, 1\]"):
        similarity(ASSIGNMENT, course_root=tmp_path, common=0)


def test_without_copydetect_says_how_to_install(course, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "copydetect", None)
    copydetect_utils.cache_clear()
    try:
        assert main(["similarity", ASSIGNMENT, "--course-root", str(course)]) == 2
    finally:
        copydetect_utils.cache_clear()
    assert 'pip install "ml4em[instructor]"' in capsys.readouterr().err


VOCABULARY = Vocabulary()  # one for all the fingerprints compared, as in one run of similarity()


def _hashes(source, k=6):
    return fingerprint(code_tokens(source, {"np": "numpy"}), VOCABULARY, k=k).hashes


def test_normalisation_ignores_names_layout_comments_and_docstrings():
    a = 'def f(x, n):\n    """Powers."""\n    out = np.ones((len(x), n))  # start\n    return out\n'
    b = "def g(values, count):\n\n    result = np.ones(( len(values),count ))\n    return result"
    assert _hashes(a) == _hashes(b) != set()
    # the library call is what distinguishes two methods, and it stays
    assert _hashes("def f(x, n):\n    return np.zeros((len(x), n))") != _hashes(b)
    # np and numpy are the same module
    assert _hashes("import numpy\ndef f(x, n):\n    return numpy.ones((len(x), n))") >= \
        _hashes("def f(x, n):\n    return np.ones((len(x), n))")


def test_magics_and_broken_cells_are_still_compared():
    tokens = code_tokens("%%time\nresult = np.linalg.pinv(A) @ b\n%timeit f(A)\n", {"np": "numpy"})
    assert [t.text for t in tokens[:8]] == ["V", "=", "numpy", ".", "linalg", ".", "pinv", "("]
    source = "total = np.sum(values\nprint(total"  # cannot be parsed: names become V by their tokens alone
    tokens = code_tokens(source, {"np": "numpy"})
    assert [t.text for t in tokens] == ["V", "=", "numpy", ".", "sum", "(", "V", "print", "(", "V"]
    assert source[tokens[6].start:tokens[6].end] == "values"


def test_format_table_lists_flagged_pairs_only():
    matches = [Match("a", "b", "notebook", 0.7, 0.7, 0.6, 30), Match("a", "c", "ex1", 0.2, 0.2, 0.1, 3)]
    text = format_table(SimilarityReport(ASSIGNMENT, ["a", "b", "c"], ["ex1"], matches, 0.5, {}))
    assert "0.70   a          b          notebook" in text and "0.20" not in text
