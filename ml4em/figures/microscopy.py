"""Lecture figures on imaging: finding defects, partial scans, phase retrieval, particle shapes.

STEM images come from :func:`ml4em.stem.simulate_stem`, defect matching and drawing from :mod:`ml4em.cnn`, scan
masks and their interpolation from :mod:`ml4em.gan`, the genetic algorithm from :mod:`ml4em.ga`, the weak-phase
objects, their images and Gerchberg-Saxton phase retrieval from :mod:`ml4em.phase`, and the simulated particles,
their segmentation, descriptors and Gaussian-mixture classes from :mod:`ml4em.morphology`. One small algorithm
lives here because no tutorial builds it: a classical site-intensity defect detector.

Used in: lectures/part1_ml_crash_course.ipynb and lectures/part2_ml_for_em.ipynb (practised in tutorials/04_cnn,
05_gan, 06_genetic_algorithms, 11_phase_retrieval and 12_nanoparticle_morphology).
"""

import numpy as np

from ..plotting import MARKERS, color, style
from ._base import LectureFigure, new_figure

__all__ = ["site_defect_scores", "defect_detection", "partial_stem", "phase_retrieval",
           "rod_edge_points", "ellipse_fitness", "genetic_algorithm", "particle_morphology"]


def _int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    return int(value)


def site_defect_scores(image, sites, *, smooth=1.0):
    """How unusual each lattice site looks: a robust z-score of its intensity within its sublattice.

    The image is smoothed, the intensity is read at each site, the sites are split into a bright and a dim
    sublattice (two-means on intensity), and each site's score is its distance from its sublattice's median in units
    of the median absolute deviation. Vacancies and substitutions score high.

    Parameters
    ----------
    image : ndarray of shape (rows, cols), counts
    sites : ndarray of shape (n_sites, 2), pixels (row, column)
    smooth : float, pixels
        Standard deviation of the Gaussian smoothing.

    Returns
    -------
    ndarray of shape (n_sites,)
    """
    from scipy import ndimage

    image = np.asarray(image, dtype=float)
    sites = np.asarray(sites, dtype=float)
    if image.ndim != 2 or sites.ndim != 2 or sites.shape[1] != 2 or sites.shape[0] < 4:
        raise ValueError(f"image should be 2-D and sites of shape (n_sites >= 4, 2); got {image.shape} and "
                         f"{sites.shape}.")
    sm = ndimage.gaussian_filter(image, smooth)
    r = np.clip(np.round(sites).astype(int), 0, np.array(image.shape) - 1)
    values = sm[r[:, 0], r[:, 1]]
    centres = np.percentile(values, [25, 90])
    for _ in range(20):
        lab = np.abs(values[:, None] - centres[None]).argmin(axis=1)
        centres = np.array([np.median(values[lab == k]) if np.any(lab == k) else centres[k] for k in (0, 1)])
    z = np.zeros_like(values)
    for k in (0, 1):
        sel = lab == k
        if np.any(sel):
            med = np.median(values[sel])
            z[sel] = np.abs(values[sel] - med) / (1.4826 * np.median(np.abs(values[sel] - med)) + 1e-9)
    return z


def defect_detection(*, n_test=24, thresholds=(2, 3, 4, 5, 6, 8), seed=0):
    """Defects found on simulated STEM images, and the trade-off between false positives and false negatives.

    The detector here is classical and knows the lattice sites (:func:`site_defect_scores`); it stands in for the
    CNN of tutorial 04, which learns the same task from examples without being told where the sites are, so that
    the lecture runs in seconds.

    Parameters
    ----------
    n_test : int >= 1
        Simulated test images (64 x 64 pixels).
    thresholds : sequence of float
        Score thresholds scanned.
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``thresholds``, ``precision``, ``recall``, ``f1``, and ``counts`` (TP, FP, FN per threshold).
    """
    from ..cnn import match_defects, plot_detections
    from ..stem import simulate_stem

    n_test = _int("n_test", n_test, 1)
    thresholds = np.asarray(thresholds, dtype=float)
    test = simulate_stem(n_test, seed=seed)
    # every lattice site: the intact columns and the defect sites (the lattice is known, the defects are not)
    all_sites = [np.vstack([c, d]) for c, d in zip(test.column_positions, test.defect_positions)]
    scores = [site_defect_scores(img, sites) for img, sites in zip(test.images, all_sites)]
    prec, rec, f1, counts = [], [], [], []
    for t in thresholds:
        tp = fp = fn = 0
        for z, sites, true in zip(scores, all_sites, test.defect_positions):
            pairs, extra, missed = match_defects(sites[z > t], true)
            tp, fp, fn = tp + len(pairs), fp + len(extra), fn + len(missed)
        counts.append((tp, fp, fn))
        prec.append(tp / (tp + fp) if tp + fp else 1.0)
        rec.append(tp / (tp + fn) if tp + fn else 1.0)
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    best = float(thresholds[int(np.argmax(f1))])
    fig, (a, b) = new_figure(2, size=(10.0, 4.0))
    k = int(np.argmax([len(p) for p in test.defect_positions]))
    shown = plot_detections(a, test.images[k], all_sites[k][scores[k] > best], test.defect_positions[k],
                            pixel_size=test.pixel_size)
    a.set_title(f"threshold {best:g}: {shown['tp']} found, {shown['fp']} false, {shown['fn']} missed", fontsize=10)
    b.plot(thresholds, prec, marker=MARKERS[0], **style(0), label="precision TP/(TP+FP)")
    b.plot(thresholds, rec, marker=MARKERS[1], **style(1), label="recall TP/(TP+FN)")
    b.plot(thresholds, f1, marker=MARKERS[2], **style(2), label="F1")
    b.set_ylim(0, 1.05)
    b.set_xlabel("score threshold (dimensionless)")
    b.set_ylabel("score (dimensionless)")
    b.set_title(f"{n_test} simulated test images", fontsize=10)
    b.legend(fontsize=9)
    alt = ("Left: a simulated STEM image of a hexagonal lattice with the defects marked as found, missed or falsely "
           f"reported ({shown['tp']}, {shown['fn']} and {shown['fp']} here). Right: precision, recall and F1 score on "
           f"{n_test} test images against the detection threshold: a low threshold finds every defect but raises many "
           f"false alarms, a high one misses defects; F1 is highest, {max(f1):.2f}, at threshold {best:g}.")
    return LectureFigure(fig, alt, "A detector is judged by what it invents (false positives) and what it misses "
                         "(false negatives); the threshold sets the balance. (A classical detector that knows the "
                         "lattice sites stands in for the CNN of tutorial 04.)",
                         data={"thresholds": thresholds, "precision": np.array(prec), "recall": np.array(rec),
                               "f1": np.array(f1), "counts": np.array(counts)})


def partial_stem(*, coverage=0.1, kind="spiral", seed=0):
    """A partial scan along a spiral, and the image filled in by interpolation, against the full scan.

    Parameters
    ----------
    coverage : float in (0, 1)
        Fraction of pixels visited.
    kind : {"spiral", "lines", "points"}
    seed : int

    Returns
    -------
    LectureFigure
        ``data["psnr"]``: peak signal-to-noise ratio of the interpolation (dB).
    """
    from ..gan import interpolate_scan, psnr, scan_mask
    from ..stem import simulate_stem

    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage={coverage!r} should be a fraction between 0 and 1.")
    img = simulate_stem(1, size=96, seed=seed, dose=5e4).clean[0].astype(float)
    img = (img - img.min()) / (img.max() - img.min())
    mask = scan_mask(96, coverage, kind=kind, seed=seed)
    filled = interpolate_scan(img, mask)
    quality = float(psnr(filled, img))
    ext = (0, 96 * 0.04, 0, 96 * 0.04)
    fig, axes = new_figure(3, size=(11.0, 3.8))
    shown = np.where(mask, img, np.nan)
    for ax, (im, title) in zip(axes, ((img, "full scan (truth)"), (shown, f"{100 * coverage:.0f}% {kind} scan"),
                                      (filled, f"interpolated: PSNR {quality:.1f} dB"))):
        h = ax.imshow(im, cmap="gray", extent=ext, origin="lower", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("x (nm)")
        ax.set_ylabel("y (nm)")
    fig.colorbar(h, ax=axes[-1], shrink=0.8).set_label("intensity (normalised)")
    alt = (f"Three STEM images of an atomic lattice, 3.8 nm wide. Left: the full scan. Middle: only the {kind} path "
           f"that covers {100 * coverage:.0f}% of the pixels, the rest black. Right: the missing pixels filled by "
           f"linear interpolation; columns between the scan lines come out blurred or distorted (PSNR {quality:.1f} "
           "dB).")
    return LectureFigure(fig, alt, "Scanning a tenth of the pixels cuts dose and time tenfold; interpolation is the "
                         "baseline a trained generator must beat (tutorial 05).", data={"psnr": quality})


def phase_retrieval(*, n_iter=300, defoci=(100.0, 300.0), seed=0):
    """The phase problem: a weak-phase object, two defocused images of it, and the phase recovered from them.

    The object is a graphene-like weak-phase object (:func:`ml4em.phase.make_phase_objects`); the microscope is the
    one of tutorial 11 (300 kV, Cs = 10 µm, a 25 mrad objective aperture); the images are
    :func:`ml4em.phase.simulate_images` at the two ``defoci``; the phase comes back by Gerchberg-Saxton iterations
    (:func:`ml4em.phase.gs_step`) from a plane wave, scored by :func:`ml4em.phase.phase_error` against the part of
    the phase that the aperture transfers.

    Parameters
    ----------
    n_iter : int >= 1
        Gerchberg-Saxton iterations.
    defoci : (float, float), Å
        Underfocus of the two images (noise-free).
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``errors`` (phase error after each iteration, rad), ``start_error`` (the error of the plane
        wave the iterations start from, rad) and ``object_error`` (the last error over the first, dimensionless).
    """
    from ..phase import gs_step, make_phase_objects, phase_error, simulate_images, transfer_function

    n_iter = _int("n_iter", n_iter, 1)
    defoci = tuple(float(f) for f in defoci)
    if len(defoci) != 2 or defoci[0] == defoci[1]:
        raise ValueError(f"defoci={defoci!r} should be two different defoci (Å) of a focal pair.")
    shape, sampling = (64, 64), 0.25  # pixels, Å per pixel
    truth = make_phase_objects(1, material="graphene", shape=shape, sampling=sampling, seed=seed)[0]
    transfers = np.stack([transfer_function(shape, sampling, beam_energy=300.0, defocus=f, cs=1e5, aperture=25.0)
                          for f in defoci])
    passband = np.abs(transfers[0]) > 0
    target = np.real(np.fft.ifft2(np.fft.fft2(truth) * passband))  # what the lens transfers: all that can come back
    images = np.stack([simulate_images(truth, H, sampling=sampling) for H in transfers])  # noise-free
    amplitudes = np.sqrt(np.clip(images, 0.0, None))
    wave = np.ones(shape, complex)
    start = float(phase_error(np.angle(wave), target))
    errors = np.empty(n_iter)
    for i in range(n_iter):
        wave = gs_step(wave, amplitudes, transfers)
        errors[i] = phase_error(np.angle(wave), target)
    retrieved = np.angle(wave * np.exp(-1j * np.angle(np.mean(np.exp(1j * (np.angle(wave) - target))))))
    obj_err = float(errors[-1] / start)
    fig, axes = new_figure(4, size=(12.5, 3.3))
    ext = (0, shape[1] * sampling, 0, shape[0] * sampling)
    lo, hi = float(target.min()), float(target.max())
    panels = [(target, "true phase", "viridis", "phase (rad)", (lo, hi)),
              (images[0], f"image at {defoci[0]:g} Å underfocus", "gray", "intensity (relative)", (None, None)),
              (retrieved, f"retrieved, {n_iter} iterations", "viridis", "phase (rad)", (lo, hi))]
    for ax, (im, title, cmap, label, (vmin, vmax)) in zip(axes[:3], panels):
        h = ax.imshow(im, cmap=cmap, extent=ext, origin="lower", vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("x (Å)")
        ax.set_ylabel("y (Å)")
        fig.colorbar(h, ax=ax, shrink=0.75).set_label(label)
    its = np.arange(0, n_iter + 1)
    axes[3].semilogy(its, np.r_[start, errors], **style(0))
    axes[3].set_xlabel("iteration")
    axes[3].set_ylabel("phase error (rad)")
    axes[3].set_title("Gerchberg-Saxton", fontsize=10)
    alt = (f"Four panels. First: the phase of the exit wave of a graphene-like sheet, {shape[1] * sampling:g} Å "
           "wide, a honeycomb of bright atomic columns, as the objective aperture transfers it. "
           f"Second: a noise-free image of it at {defoci[0]:g} Å underfocus, which shows the lattice as intensity "
           f"contrast. Third: the phase recovered by {n_iter} Gerchberg-Saxton iterations from that image and a "
           f"second one at {defoci[1]:g} Å, which looks like the first panel. Fourth: the phase error against "
           f"iteration on a log scale, falling from {start:.3f} rad for the plane wave the iterations start from "
           f"to {errors[-1]:.3f} rad ({100 * obj_err:.0f}% of the start).")
    return LectureFigure(fig, alt, "Detectors record intensities, not phases; two images at different defocus "
                         "carry enough information to recover the phase by iterating between them "
                         "(Gerchberg-Saxton, ml4em.phase). Networks learn a prior that needs only one image.",
                         data={"errors": errors, "start_error": start, "object_error": obj_err})


def rod_edge_points(*, size=22.0, n_points=120, noise=0.4, pixel_size=1.0, seed=None):
    """Noisy edge points of a rod-shaped particle (:func:`ml4em.morphology.shape_mask`, a stadium of aspect 3).

    Parameters
    ----------
    size : float, pixels
        The particle's size in the sense of :func:`ml4em.morphology.shape_mask` (a rod's width is 0.6 ``size``,
        its length three widths: about 40 nm for the default).
    n_points : int >= 8
        Edge points drawn at random among the outline's pixels.
    noise : float, nm
        Standard deviation of the Gaussian jitter of each point.
    pixel_size : float, nm
    seed : int, numpy.random.Generator or None
        Sets the rod's orientation, the points drawn and their jitter.

    Returns
    -------
    ndarray of shape (n_points, 2), nm
        (x, y) of each point, relative to the centre of the rod's grid.

    Examples
    --------
    >>> pts = rod_edge_points(seed=0)
    >>> pts.shape, bool(np.abs(pts).max() < 25)   # a rod about 40 nm long
    ((120, 2), True)
    """
    from scipy import ndimage

    from ..morphology import shape_mask

    n_points = _int("n_points", n_points, 8)
    rng = np.random.default_rng(seed)
    mask = shape_mask("rod", size, aspect=3.0, angle=float(rng.uniform(0, np.pi)))
    rows, cols = np.nonzero(mask & ~ndimage.binary_erosion(mask))
    pick = rng.choice(rows.size, size=n_points, replace=rows.size < n_points)
    centre = (np.array(mask.shape) - 1) / 2
    xy = np.column_stack([cols[pick] - centre[1], rows[pick] - centre[0]]) * float(pixel_size)
    return xy + noise * rng.standard_normal(xy.shape)


def ellipse_fitness(params, points):
    """Minus the mean squared algebraic distance of ``points`` from ellipses ``params`` (larger is better).

    Parameters
    ----------
    params : ndarray of shape (n, 5)
        Centre x, centre y (nm), semi-axes a, b (nm), angle (rad), one ellipse per row.
    points : ndarray of shape (m, 2), nm

    Returns
    -------
    ndarray of shape (n,)
    """
    p = np.atleast_2d(params)
    dx = points[None, :, 0] - p[:, None, 0]
    dy = points[None, :, 1] - p[:, None, 1]
    c, s = np.cos(p[:, None, 4]), np.sin(p[:, None, 4])
    u, v = c * dx + s * dy, -s * dx + c * dy
    a, b = np.abs(p[:, None, 2]) + 1e-9, np.abs(p[:, None, 3]) + 1e-9
    d = np.sqrt((u / a) ** 2 + (v / b) ** 2) - 1.0
    return -np.mean((d * np.sqrt(a * b)) ** 2, axis=1)


def _ellipse_xy(p, n=200):
    t = np.linspace(0, 2 * np.pi, n)
    u, v = abs(p[2]) * np.cos(t), abs(p[3]) * np.sin(t)
    c, s = np.cos(p[4]), np.sin(p[4])
    return p[0] + c * u - s * v, p[1] + s * u + c * v


_ELLIPSE_GENES = ("cx", "cy", "a", "b", "angle")


class _EllipseFitness:
    """Fitness of a genome {cx, cy, a, b, angle} (nm, nm, nm, nm, rad) on given edge points."""

    def __init__(self, points):
        self.points = np.asarray(points, dtype=float)

    def __call__(self, genome):
        return float(ellipse_fitness(np.array([[genome[g] for g in _ELLIPSE_GENES]]), self.points)[0])


def genetic_algorithm(*, generations=60, population=40, seed=0):
    """A genetic algorithm (:class:`ml4em.ga.GeneticAlgorithm`) fitting an ellipse to a rod-shaped particle.

    The genes are the ellipse's centre, semi-axes and angle; the fitness is :func:`ellipse_fitness` on the noisy
    edge points of :func:`rod_edge_points`.

    Parameters
    ----------
    generations : int >= 2
    population : int >= 4
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``best`` ellipse (5,), ``best_per_generation`` and ``mean_per_generation`` fitness,
        ``aspect_ratio``.
    """
    from ..ga import GeneticAlgorithm, Real

    generations, population = _int("generations", generations, 2), _int("population", population, 4)
    pts = rod_edge_points(seed=seed)
    size = float(np.abs(pts).max())
    space = {"cx": Real(-0.5 * size, 0.5 * size), "cy": Real(-0.5 * size, 0.5 * size), "a": Real(0.2 * size, 1.5 * size),
             "b": Real(0.2 * size, 1.5 * size), "angle": Real(0.0, np.pi)}
    ga = GeneticAlgorithm(space, population_size=population, n_elite=2, seed=seed)
    n_eval = population + (generations - 1) * (population - 2)
    result = ga.run(_EllipseFitness(pts), n_evaluations=n_eval)
    gen = np.asarray(result.generation)
    best_per = np.maximum.accumulate([result.fitness[gen == g].max() for g in range(generations)])
    mean_per = np.array([result.fitness[gen == g].mean() for g in range(generations)])
    best = np.array([result.best_genome[g] for g in _ELLIPSE_GENES])
    first = [np.array([gm[g] for g in _ELLIPSE_GENES]) for gm, gg in zip(result.genomes, gen) if gg == 0]
    fig, (a, b) = new_figure(2)
    for p in first[:12]:
        a.plot(*_ellipse_xy(p), color="0.75", lw=0.8)
    a.plot(*_ellipse_xy(best), **style(0), lw=2.5, label=f"best after {generations} generations")
    a.plot(pts[:, 0], pts[:, 1], ls="none", marker=MARKERS[1], ms=4, color=color(1), label="edge points")
    a.plot([], [], color="0.75", lw=0.8, label="random first generation")
    a.set_aspect("equal", adjustable="datalim")
    a.set_xlabel("x (nm)")
    a.set_ylabel("y (nm)")
    a.legend(fontsize=8, loc="upper right")
    gens = np.arange(generations)
    b.plot(gens, -best_per, **style(0), label="best so far")
    b.plot(gens, -mean_per, **style(1), label="mean of the generation")
    b.set_yscale("log")
    b.set_xlabel("generation")
    b.set_ylabel("misfit (nm²)")
    b.legend(fontsize=9)
    ratio = max(abs(best[2]), abs(best[3])) / min(abs(best[2]), abs(best[3]))
    alt = ("Left: noisy edge points of an elongated particle about 40 nm long, grey ellipses of the random first "
           f"generation scattered around it, and the best ellipse after {generations} generations lying on the points "
           f"(aspect ratio {ratio:.1f}). Right: misfit of the best ellipse so far and of the generation's mean "
           "against generation on a log scale, both falling by orders of magnitude.")
    return LectureFigure(fig, alt, "A genetic algorithm needs only a fitness: selection keeps good ellipses, "
                         "crossover mixes them, mutation explores.",
                         data={"best": best, "best_per_generation": best_per, "mean_per_generation": mean_per,
                               "aspect_ratio": ratio})


def particle_morphology(*, n_particles=300, max_components=6, seed=0):
    """Shape classes of simulated nanoparticles: segment, describe, and a Gaussian mixture sized by the BIC.

    The pipeline of tutorial 12, with the course's :mod:`ml4em.morphology`: micrographs of spheres, rods, cubes and
    triangles (:func:`~ml4em.morphology.simulate_particles`, 40 particles each, some in contact), the default
    segmentation and the descriptors of the isolated, convex regions (:func:`~ml4em.morphology.measure_particles`),
    standardised features (:func:`~ml4em.morphology.feature_matrix`), a full-covariance Gaussian mixture for every
    K up to ``max_components``, the BIC choosing K (:func:`~ml4em.morphology.select_n_classes`).

    Parameters
    ----------
    n_particles : int >= 20
        Measured particles (regions matched to a true particle) classified; micrographs are simulated until there
        are enough.
    max_components : int >= 2
    seed : int

    Returns
    -------
    LectureFigure
        ``data``: ``bic`` per number of components, ``n_best``, ``accuracy`` (the fraction of particles in their
        true class after matching components to classes, :func:`~ml4em.morphology.match_classes`),
        ``n_images``.
    """
    from ..morphology import SHAPES, feature_matrix, match_classes, measure_particles, select_n_classes, \
        simulate_particles

    n_particles = _int("n_particles", n_particles, 20)
    max_components = _int("max_components", max_components, 2)
    images, tables, truth = [], [], []
    while sum(len(t) for t in truth) < n_particles:
        image = simulate_particles(40, seed=seed * 1000 + len(images))
        table, true_class = measure_particles([image])
        keep = true_class >= 0  # regions that are one whole particle
        images.append(image)
        tables.append(table[keep])
        truth.append(true_class[keep])
    table, truth = np.concatenate(tables)[:n_particles], np.concatenate(truth)[:n_particles]
    X = feature_matrix(table)
    ks = list(range(1, max_components + 1))
    best, bic, model = select_n_classes(X, ks, seed=seed)
    labels = model.predict(X)
    _, acc = match_classes(truth, labels)
    fig, (a, b, c) = new_figure(3, size=(12.5, 3.9))
    first = images[0]
    ny, nx = first.image.shape
    h = a.imshow(first.image, cmap="gray", origin="lower", extent=(0, nx * first.pixel_size, 0, ny * first.pixel_size))
    fig.colorbar(h, ax=a, shrink=0.8).set_label("counts (electrons per pixel)")
    a.set_title(f"one of {len(images)} simulated micrographs", fontsize=10)
    a.set_xlabel("x (nm)")
    a.set_ylabel("y (nm)")
    from ..morphology import FEATURES

    spread, circ = table[:, FEATURES.index("radial_spread")], table[:, FEATURES.index("circularity")]
    for j in range(best):
        sel = labels == j
        b.scatter(spread[sel], circ[sel], s=12, color=color(j), marker=MARKERS[j % len(MARKERS)],
                  label=f"component {j + 1}")
    b.set_xlabel("radial spread (dimensionless)")
    b.set_ylabel("circularity 4πA/P² (dimensionless)")
    b.set_title(f"{n_particles} particles, K = {best}", fontsize=10)
    b.legend(fontsize=8)
    c.plot(ks, bic, marker="o", **style(0))
    c.axvline(best, color="0.5", lw=1)
    c.set_xlabel("number of mixture components K")
    c.set_ylabel("BIC (dimensionless)")
    alt = (f"Left: a simulated bright-field micrograph, {nx * first.pixel_size:g} nm wide, of dark particles of "
           f"{len(SHAPES)} shapes (discs, rods, squares and triangles) on a bright support, some touching. Middle: "
           f"{n_particles} isolated particles segmented from {len(images)} such micrographs, plotted by circularity "
           f"against radial spread and coloured by the {best} components of a Gaussian mixture: discs at high "
           "circularity and small spread, rods at large spread, squares and triangles between. Right: the Bayesian "
           f"information criterion against the number of components, lowest at {best}. After matching components "
           f"to shapes, {100 * acc:.0f}% of the particles are in their true class.")
    return LectureFigure(fig, alt, "Segment, describe, cluster: a Gaussian mixture gives each particle a "
                         "probability per shape class, and the BIC chooses how many classes the data support "
                         "(ml4em.morphology, tutorial 12).",
                         data={"bic": bic, "n_best": best, "accuracy": float(acc), "n_images": len(images)})
