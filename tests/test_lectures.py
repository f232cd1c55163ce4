"""The lectures: every figure function against a known answer, the figure rules, and the notebooks themselves
(structure, links to the tutorials, references, and execution in quick mode)."""

import re

import nbformat
import numpy as np
import pytest

from ml4em.figures import LectureFigure, diagrams, figure_problems, fitting, microscopy, networks, new_figure
from ml4em.figures import patterns, spectroscopy
from ml4em.plotting import PALETTE

from conftest import ROOT

LECTURES = ROOT / "lectures"
NOTEBOOKS = ["part1_ml_crash_course", "part2_ml_for_em"]
TUTORIALS = ["01_regression", "02_neural_networks", "03_clustering", "04_cnn", "05_gan", "06_genetic_algorithms",
             "07_eels_replicas", "08_band_gap", "09_spectral_image", "10_reinforcement_learning", "11_phase_retrieval",
             "12_nanoparticle_morphology"]


def _check(lf):
    """Every lecture figure: alt text, fits a 1280 x 720 slide under a title, renders as <img alt=...>."""
    assert isinstance(lf, LectureFigure)
    assert len(lf.alt) >= 40 and lf.caption
    w, h = lf.size_px
    assert w <= 1280 and h <= 620, f"{w}x{h} px does not fit a 1280 x 720 slide under a title"
    assert 'alt="' in lf.html() and lf.png[:8] == b"\x89PNG\r\n\x1a\n"
    png, meta = lf._repr_png_()
    assert meta["alt"] == lf.alt and png == lf.png
    return lf


# -- the figure rules ------------------------------------------------------------------------------------------------

def test_figure_rules_accept_a_labelled_figure():
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1], color=PALETTE[0])
    ax.set_xlabel("energy loss (eV)")
    ax.set_ylabel("intensity (counts)")
    assert figure_problems(fig) == []


@pytest.mark.parametrize("draw, xlabel, message", [
    (lambda ax: ax.plot([0, 1], [0, 1], color=PALETTE[0]), "energy loss", "x label 'energy loss' has no unit"),
    (lambda ax: ax.plot([0, 1], [0, 1], color="red"), "x (nm)", "not from ml4em.plotting.PALETTE"),
    (lambda ax: ax.imshow(np.arange(16.0).reshape(4, 4), cmap="jet"), "x (nm)",
     "colour map 'jet' is not perceptually uniform"),
], ids=["missing-unit", "colour-outside-palette", "rainbow-colour-map"])
def test_figure_rules_reject_bad_figures(draw, xlabel, message):
    fig, ax = new_figure()
    draw(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("intensity (counts)")
    with pytest.raises(ValueError, match=message):
        LectureFigure(fig, "a small figure that breaks one of the lecture figure rules")


def test_figure_rules_check_colour_bar_labels():
    fig, ax = new_figure()
    im = ax.imshow(np.arange(16.0).reshape(4, 4), cmap="viridis")
    fig.colorbar(im, ax=ax).set_label("density")
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    assert any("colour bar label 'density'" in p for p in figure_problems(fig))


def test_alt_text_is_required():
    fig, ax = new_figure()
    ax.set_axis_off()
    with pytest.raises(ValueError, match="alt=.* should describe the figure"):
        LectureFigure(fig, "a plot")


# -- Part I figures --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [diagrams.learning_paradigms, diagrams.gan_diagram, diagrams.cv_folds,
                                  networks.activations, networks.cost_functions, diagrams.network_diagram])
def test_schematic_figures(make):
    _check(make())


def test_network_diagram_rejects_bad_layers():
    with pytest.raises(ValueError, match="layers=.* should be 2 to 6 integers"):
        diagrams.network_diagram((1, 20))


def test_cv_folds_rejects_bad_folds():
    with pytest.raises(ValueError, match="n_folds=1 should be an integer from 2 to 10"):
        diagrams.cv_folds(1)
    with pytest.raises(ValueError, match="n_samples=3 should be an integer >= n_folds=5"):
        diagrams.cv_folds(5, 3)


def test_best_fit_is_least_squares():
    lf = _check(fitting.best_fit(seed=3))
    from ml4em.datasets import make_regression_data

    x, y = make_regression_data(12, function="linear", noise=0.3, seed=3)
    # same data and the same linear least-squares problem: agreement to rounding
    np.testing.assert_allclose(lf.data["theta"], np.polyfit(x, y, 1)[::-1], rtol=1e-10)


def test_overfitting_training_error_falls_validation_has_a_minimum():
    lf = _check(fitting.overfitting(n_repeats=6, n_validation=200))
    train, val = lf.data["train"], lf.data["validation"]
    # the training error of nested least-squares models cannot rise with the degree (medians: small slack)
    assert np.all(np.diff(train) <= 1e-9 + 1e-6 * train[:-1])
    assert 0 < lf.data["best_degree"] < 9 and val[-1] > 10 * val.min()


def test_overfitting_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_train=1 should be an integer >= 2"):
        fitting.overfitting(n_train=1)
    with pytest.raises(ValueError, match="degrees=.* should hold at least two"):
        fitting.overfitting(degrees=[3])


def test_learning_curve_reaches_the_noise_floor():
    lf = _check(fitting.learning_curve(n_repeats=5, sizes=(12, 40, 320)))
    val = lf.data["validation"]
    # the flexible model approaches sigma^2 from above with many examples (within 50%), the stiff one does not
    assert lf.data["noise_floor"] <= val[1, -1] < 1.5 * lf.data["noise_floor"]
    assert val[0, -1] > 3 * lf.data["noise_floor"]
    with pytest.raises(ValueError, match="larger than the largest degree"):
        fitting.learning_curve(sizes=(5, 40))
    with pytest.raises(ValueError, match="noise=0 should be > 0"):
        fitting.learning_curve(noise=0)


def test_regularisation_has_an_interior_optimum():
    lf = _check(fitting.regularisation())
    val = lf.data["validation"]
    assert val.min() < 0.8 * val[0] and val.min() < 0.2 * val[-1]
    with pytest.raises(ValueError, match="alphas should be a 1-D sequence"):
        fitting.regularisation(alphas=[0.0, 1.0])


def test_gradient_descent_converges_below_the_limit_only():
    lf = _check(fitting.gradient_descent_paths(n_steps=200))
    final, best = lf.data["final_cost"], lf.data["best_cost"]
    # below 2/lambda_max the cost approaches its minimum; 3% above it, it grows without bound
    assert final[1] == pytest.approx(best, rel=1e-6)
    assert final[2] > 10 * best
    with pytest.raises(ValueError, match="fractions=.* should be positive"):
        fitting.gradient_descent_paths(fractions=(0.5, -1.0))


def test_relu_interpolant_is_exact_at_the_knots():
    net = networks.relu_interpolant(np.sin, 8, (0.0, 2.0))
    knots = np.linspace(0.0, 2.0, 9)
    np.testing.assert_allclose(net(knots), np.sin(knots), atol=1e-12)  # interpolation: exact up to rounding
    with pytest.raises(ValueError, match="n_hidden=0 should be an integer >= 1"):
        networks.relu_interpolant(np.sin, 0)


def test_universal_approximation_error_falls_as_one_over_n_squared():
    lf = _check(networks.universal_approximation())
    n, err = lf.data["widths"], lf.data["max_error"]
    slope = np.polyfit(np.log(n[-4:]), np.log(err[-4:]), 1)[0]
    assert -2.3 < slope < -1.7  # piecewise-linear interpolation of a smooth function: error ~ h^2


def test_depth_doubles_the_linear_pieces():
    lf = _check(networks.depth_sawtooth(max_depth=5))
    assert lf.data["pieces"].tolist() == [2, 4, 8, 16, 32]
    with pytest.raises(ValueError, match="depth=0 should be an integer >= 1"):
        networks.tent_network(0)
    with pytest.raises(ValueError, match="max_depth=9 should be an integer from 1 to 8"):
        networks.depth_sawtooth(max_depth=9)


def test_training_by_backprop_lowers_the_loss():
    lf = _check(networks.training_by_backprop(n_epochs=60, n_samples=32, hidden=(8,)))
    assert lf.data["loss"][-1] < 0.5 * lf.data["loss"][0]
    with pytest.raises(ValueError, match="n_epochs=0 should be an integer >= 1"):
        networks.training_by_backprop(n_epochs=0)
    with pytest.raises(ValueError, match="n_samples=4 should be an integer >= 8"):
        networks.training_by_backprop(n_samples=4)


def test_kmeans_figures():
    _check(patterns.kmeans_steps(n_samples=60))
    lf = _check(patterns.kmeans_failures())
    # K-means with the right K still puts a large share of each of these data sets in the wrong group
    assert np.all(lf.data["agreement"] < 0.9)
    with pytest.raises(ValueError, match="steps=.* should be 1 to 4"):
        patterns.kmeans_steps(steps=())


def test_convolution_is_translation_equivariant():
    lf = _check(patterns.convolution())
    assert lf.data["equivariance_error"] < 1e-12
    assert lf.data["pooled_shape"] == (32, 32)


def test_bandit_exploration_finds_the_best_arm():
    lf = _check(patterns.bandit(n_steps=400, n_runs=200, seed=1))
    labels, regret, per_step = lf.data["labels"], lf.data["regret"], lf.data["per_step"]
    assert labels == ["ε = 0 (greedy)", "ε = 0.01", "ε = 0.1", "UCB (c = 2)"]
    np.testing.assert_allclose(np.cumsum(per_step, axis=1), regret, rtol=1e-12)
    # the same bandits and noise for all agents (ml4em.rl.regret_curve): exploring loses less per pull in the end
    assert per_step[2, -100:].mean() < per_step[0, -100:].mean() - 0.1
    assert regret[3, -1] < regret[0, -1]
    _check(patterns.bandit(n_steps=100, n_runs=20, c=None))
    with pytest.raises(ValueError, match="epsilon=1.5 should be a probability"):
        patterns.bandit(epsilons=(1.5,), n_steps=10, n_runs=5)
    with pytest.raises(ValueError, match="leave no agent"):
        patterns.bandit(epsilons=(), c=None)


def test_genetic_algorithm_fits_the_rod():
    lf = _check(microscopy.genetic_algorithm(generations=30, population=30))
    best = lf.data["best_per_generation"]
    assert np.all(np.diff(best) >= 0) and best[-1] > 10 * best[0]  # fitness = -misfit: rises by 10x at least
    # the rod's outline has semi-axes in the ratio (1 + e)/(1 - e) with e = 0.45 +- 20%: between 2 and 4
    assert 2.0 < lf.data["aspect_ratio"] < 4.0
    with pytest.raises(ValueError, match="generations=1 should be an integer >= 2"):
        microscopy.genetic_algorithm(generations=1)


def test_ellipse_fitness_is_zero_on_the_ellipse():
    t = np.linspace(0, 2 * np.pi, 50)
    points = np.column_stack([1.0 + 3.0 * np.cos(t), -2.0 + 1.5 * np.sin(t)])
    fit = microscopy.ellipse_fitness(np.array([[1.0, -2.0, 3.0, 1.5, 0.0], [0.0, 0.0, 3.0, 1.5, 0.0]]), points)
    assert fit[0] == pytest.approx(0.0, abs=1e-12) and fit[1] < -0.01  # exact ellipse: zero misfit up to rounding


# -- Part II figures -------------------------------------------------------------------------------------------------

def test_lowloss_anatomy():
    lf = _check(spectroscopy.lowloss_anatomy())
    assert lf.data["ratio_at_2eV"] > 1  # the ZLP's tail still dominates at 2 eV


def test_replica_method_and_band_gap_recover_the_truth():
    rm = _check(spectroscopy.replica_method(n_replicas=20))
    e, sub, truth = rm.data["energy_loss"], rm.data["subtracted"], rm.data["truth"]
    band = (e > 1.8) & (e < 3.0)
    # the median subtracted spectrum follows the true inelastic signal to 10% above the gap
    np.testing.assert_allclose(np.median(sub, axis=0)[band], truth[band], rtol=0.10)
    bg = _check(spectroscopy.band_gap(replicas=rm.data))
    # the synthetic specimen's gap (spectroscopy._GAP) and exponent: the pure power law, fitted to the true inelastic
    # signal itself in this window, gives 1.56 eV (the plasmon tail under the onset), hence 0.06 eV
    assert bg.data["median"] == pytest.approx(spectroscopy._GAP, abs=0.06)
    assert bg.data["exponent"] == pytest.approx(1.5, abs=0.2)
    assert bg.data["low"] <= bg.data["median"] <= bg.data["high"]
    assert bg.data["window"][0] < spectroscopy._GAP < bg.data["window"][1]
    with pytest.raises(ValueError, match="n_replicas=5 should be an integer >= 10"):
        spectroscopy.replica_method(n_replicas=5)


def test_extrapolation_band_widens_away_from_the_data():
    lf = _check(spectroscopy.extrapolation(n_replicas=30))
    eb, width, train = lf.data["beam_energy"], lf.data["width_68"], lf.data["train"]
    inside = (eb >= train[0]) & (eb <= train[-1])
    assert width[-1] > 5 * width[inside].mean()
    with pytest.raises(ValueError, match="at least 4 positive beam energies"):
        spectroscopy.extrapolation(train=(60.0, 80.0))


def test_spectral_image_clusters_give_the_cluster_band_gaps():
    lf = _check(spectroscopy.spectral_image_maps(shape=(24, 24), n_clusters=4))
    fitted, true, smallest = lf.data["fitted_gap"][1:], lf.data["true_gap"][1:], lf.data["true_gap_min"][1:]
    # a cluster's sum has onsets at all its gaps; the power law follows the earliest: between the smallest gap
    # (0.05 eV for the fit) and the mean
    assert np.all(fitted >= smallest - 0.05) and np.all(fitted <= true), (fitted, smallest, true)
    with pytest.raises(ValueError, match="n_clusters=1 should be an integer >= 2"):
        spectroscopy.spectral_image_maps(n_clusters=1)


def test_defect_detection_trade_off():
    lf = _check(microscopy.defect_detection(n_test=6))
    prec, rec = lf.data["precision"], lf.data["recall"]
    assert lf.data["f1"].max() > 0.7
    assert prec[-1] > prec[0] and rec[-1] < rec[0]  # a higher threshold: fewer false alarms, more misses
    with pytest.raises(ValueError, match="sites of shape"):
        microscopy.site_defect_scores(np.zeros((8, 8)), np.zeros((2, 2)))


def test_partial_stem():
    lf = _check(microscopy.partial_stem())
    assert lf.data["psnr"] > 10
    with pytest.raises(ValueError, match="coverage=1.5 should be a fraction"):
        microscopy.partial_stem(coverage=1.5)


def test_phase_retrieval_recovers_the_object():
    lf = _check(microscopy.phase_retrieval(n_iter=150))
    errors = lf.data["errors"]
    # noise-free focal pair: Gerchberg-Saxton (ml4em.phase) brings the phase error to a tenth of the plane wave's
    assert np.all(np.diff(errors) <= 1e-12) and lf.data["object_error"] < 0.1
    assert errors[0] < lf.data["start_error"]
    with pytest.raises(ValueError, match="should be two different defoci"):
        microscopy.phase_retrieval(defoci=(100.0, 100.0))


def test_particle_morphology():
    lf = _check(microscopy.particle_morphology(n_particles=120))
    # four simulated shapes; squares and triangles may share a component on few particles
    assert 3 <= lf.data["n_best"] <= 5 and lf.data["accuracy"] > 0.6
    with pytest.raises(ValueError, match="n_particles=5 should be an integer >= 20"):
        microscopy.particle_morphology(n_particles=5)


def test_rod_edge_points_lie_on_a_rod():
    pts = microscopy.rod_edge_points(noise=0.0, seed=0)
    evals = np.linalg.eigvalsh(np.cov(pts.T))
    # the outline of a stadium of aspect 3 (ml4em.morphology.shape_mask): long axis clearly the larger moment
    assert pts.shape == (120, 2) and 3 < evals[1] / evals[0] < 10


# -- the lecture notebooks -------------------------------------------------------------------------------------------

def _nb(name):
    return nbformat.read(LECTURES / f"{name}.ipynb", as_version=4)


def test_lecture_files_exist():
    for name in NOTEBOOKS:
        assert (LECTURES / f"{name}.ipynb").is_file()
    assert "rubric" in (LECTURES / "assignment.md").read_text().lower()
    assert "```{glossary}" in (LECTURES / "glossary.md").read_text()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lecture_structure(name):
    nb = _nb(name)
    assert "learning goals" in nb.cells[0].source.lower()
    assert all("slideshow" in c.metadata for c in nb.cells), "every cell needs a slide type"
    assert any(c.source.startswith("## Summary") for c in nb.cells)
    text = "\n".join(c.source for c in nb.cells)
    assert "by_mode(" in text, "size the figures with ml4em.by_mode (quick mode)"
    for cell in nb.cells:
        if cell.cell_type == "code" and "ml4em.figures" not in cell.source:
            assert "hide-input" in cell.metadata.get("tags", []), "figure cells hide their input in the slides"
            assert re.search(r"\b(diagrams|fitting|networks|patterns|microscopy|spectroscopy)\.\w+\(", cell.source)


def _sections(nb):
    """Markdown and code of each '## ' section."""
    sections, current = {}, None
    for cell in nb.cells:
        m = re.match(r"## (.+)", cell.source) if cell.cell_type == "markdown" else None
        if m:
            current = m.group(1).strip()
            sections[current] = []
        if current:
            sections[current].append(cell.source)
    return {k: "\n".join(v) for k, v in sections.items()}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_sections_link_to_their_tutorials(name):
    sections = _sections(_nb(name))
    without = {"Why scientists need machine learning", "Formal and intuitive problems",
               "Three ways to learn", "Reinforcement learning", "Summary", "Recovering the phase from intensities",
               "Pitfalls and limits"}
    for title, text in sections.items():
        links = re.findall(r"\]\((\.\./tutorials/[^)]+)\)", text)
        for link in links:
            m = re.fullmatch(r"\.\./tutorials/(\w+)/(\w+)\.ipynb", link)
            assert m and m.group(1) == m.group(2) and m.group(1) in TUTORIALS, link
        if title not in without:
            assert links, f"section {title!r} of {name} links to no tutorial"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_claims_from_papers_carry_references(name):
    for cell in _nb(name).cells:
        if cell.cell_type != "markdown":
            continue
        if re.search(r"et al\.", cell.source) and "References" not in cell.source:
            assert re.search(r"doi:10\.\d{4,}/\S+|arXiv:\d{4}\.\d{4,5}", cell.source), \
                f"a paper is cited without DOI or arXiv number: {cell.source[:120]!r}"
    text = "\n".join(c.source for c in _nb(name).cells)
    for doi in re.findall(r"doi:(\S+?)[,;)]?(?:\s|$)", text):
        assert re.fullmatch(r"10\.\d{4,}/\S+", doi.rstrip(".")), doi


def test_part2_states_the_ws2_band_gap():
    text = "\n".join(c.source for c in _nb("part2_ml_for_em").cells)
    assert r"E_{\rm BG} = 1.6^{+0.3}_{-0.2}" in text and "10.1016/j.ultramic.2021.113202" in text


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lecture_executes_in_quick_mode(name):
    from ml4em.site import execute_lecture

    nb = execute_lecture(LECTURES / f"{name}.ipynb", quick=True)
    figures = [c for c in nb.cells if c.cell_type == "code" and "hide-input" in c.metadata.get("tags", [])]
    for cell in figures:
        html = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
        assert len(html) == 1, f"figure cell {cell.source[:60]!r} shows {len(html)} figures"
        alt = re.search(r'alt="([^"]*)"', html[0])
        assert alt and len(alt.group(1)) >= 40
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
