"""Lecture figures on imaging: finding defects, partial scans, phase retrieval, particle shapes.

STEM images come from :func:`ml4em.stem.simulate_stem`, defect matching and drawing from :mod:`ml4em.cnn`, scan
masks and their interpolation from :mod:`ml4em.gan`, the genetic algorithm from :mod:`ml4em.ga`. Two small
algorithms live here because no tutorial builds them: a classical site-intensity defect detector and the
error-reduction phase retrieval.

Used in: lectures/part1_ml_crash_course.ipynb and lectures/part2_ml_for_em.ipynb (practised in tutorials/04_cnn,
05_gan and 06_genetic_algorithms).
"""

import numpy as np

from ..plotting import MARKERS, color, style
from ._base import LectureFigure, new_figure

__all__ = ["site_defect_scores", "defect_detection", "partial_stem", "error_reduction", "phase_retrieval",
           "particle_outline", "ellipse_fitness", "genetic_algorithm", "shape_descriptors", "particle_morphology"]


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


def error_reduction(magnitude, support, *, n_iter=200, seed=None):
    """Recover a real, non-negative object from the magnitude of its Fourier transform (error reduction).

    Alternates between Fourier space (keep the phase, impose the measured magnitude) and real space (impose the
    support and non-negativity). This is the classic iterative phase retrieval (Gerchberg-Saxton, Fienup).

    Parameters
    ----------
    magnitude : ndarray of shape (n, m)
        |FFT(object)|, measured.
    support : ndarray of bool, shape (n, m)
        Where the object may be non-zero.
    n_iter : int >= 1
    seed : int, numpy.random.Generator or None
        Seed of the random starting phase.

    Returns
    -------
    estimate : ndarray of shape (n, m)
    errors : ndarray of shape (n_iter,)
        Relative Fourier-magnitude error after each iteration.
    """
    magnitude = np.asarray(magnitude, dtype=float)
    support = np.asarray(support, dtype=bool)
    if magnitude.shape != support.shape or magnitude.ndim != 2:
        raise ValueError(f"magnitude {magnitude.shape} and support {support.shape} should be 2-D of the same shape.")
    n_iter = _int("n_iter", n_iter, 1)
    rng = np.random.default_rng(seed)
    g = np.real(np.fft.ifft2(magnitude * np.exp(2j * np.pi * rng.random(magnitude.shape))))
    errors = np.empty(n_iter)
    norm = np.linalg.norm(magnitude)
    for i in range(n_iter):
        g = np.where(support & (g > 0), g, 0.0)
        G = np.fft.fft2(g)
        errors[i] = np.linalg.norm(np.abs(G) - magnitude) / norm
        g = np.real(np.fft.ifft2(magnitude * np.exp(1j * np.angle(G))))
    return np.where(support & (g > 0), g, 0.0), errors


def phase_retrieval(*, n_iter=300, seed=0):
    """The phase problem: an object, the magnitude of its Fourier transform, and the object recovered from it.

    Returns
    -------
    LectureFigure
        ``data``: ``errors`` per iteration, ``object_error`` (relative error of the recovered object).
    """
    rng = np.random.default_rng(seed)
    n = 64
    y, x = np.mgrid[:n, :n]
    obj = np.zeros((n, n))
    for cy, cx in rng.uniform(22, 42, (6, 2)):
        obj += np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * 1.8**2))
    support = (np.abs(y - 32) < 16) & (np.abs(x - 32) < 16)
    obj *= support
    mag = np.abs(np.fft.fft2(obj))
    est, errors = error_reduction(mag, support, n_iter=n_iter, seed=rng)
    # the phase problem has trivial ambiguities (shift within the support, point inversion): compare the best match
    flips = [est, est[::-1, ::-1]]
    best = min((np.linalg.norm(np.roll(f, (dy, dx), (0, 1)) - obj), dy, dx, i)
               for i, f in enumerate(flips) for dy in range(-4, 5) for dx in range(-4, 5))
    aligned = np.roll(flips[best[3]], (best[1], best[2]), (0, 1))
    obj_err = float(best[0] / np.linalg.norm(obj))
    fig, axes = new_figure(4, size=(12.0, 3.4))
    ext = (0, n * 0.05, 0, n * 0.05)
    panels = [(obj, "object (unknown)", "viridis"), (np.log10(np.fft.fftshift(mag) + 1e-3), "measured: |FFT| only",
                                                     "magma"), (aligned, "recovered", "viridis")]
    for ax, (im, title, cmap) in zip(axes[:3], panels):
        h = ax.imshow(im, cmap=cmap, extent=ext, origin="lower")
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
        fig.colorbar(h, ax=ax, shrink=0.75).set_label("log10 magnitude (arb. units)" if cmap == "magma"
                                                      else "density (arb. units)")
    axes[3].semilogy(np.arange(1, n_iter + 1), errors, **style(0))
    axes[3].set_xlabel("iteration")
    axes[3].set_ylabel("Fourier error (relative)")
    alt = ("Four panels. First: a small object made of six blurred dots. Second: the logarithm of the magnitude of "
           "its Fourier transform, a speckle pattern without phase. Third: the object recovered from that magnitude "
           f"alone by iterative phase retrieval, matching the first up to {100 * obj_err:.0f}% error. Fourth: the "
           "Fourier-magnitude error against iteration on a log scale, falling steeply and then levelling off.")
    return LectureFigure(fig, alt, "Detectors record intensities, not phases; knowing where the object can be "
                         "(its support) is enough prior knowledge to recover the phase iteratively. Networks learn "
                         "stronger priors from examples.", data={"errors": errors, "object_error": obj_err})


def particle_outline(kind, *, n_points=120, size=20.0, noise=0.4, seed=None):
    """Noisy edge points of a particle outline.

    Parameters
    ----------
    kind : {"sphere", "rod", "triangle"}
    n_points : int >= 8
    size : float, nm
        Mean radius.
    noise : float, nm
        Standard deviation of the edge position.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_points, 2), nm
    """
    shapes = {"sphere": (0.04, 0.0), "rod": (0.45, 0.0), "triangle": (0.05, 0.22)}
    if kind not in shapes:
        raise ValueError(f"kind={kind!r} should be one of {sorted(shapes)}.")
    n_points = _int("n_points", n_points, 8)
    rng = np.random.default_rng(seed)
    elong, tri = shapes[kind]
    phi = np.sort(rng.uniform(0, 2 * np.pi, n_points))
    turn = rng.uniform(0, 2 * np.pi)
    s = size * rng.uniform(0.8, 1.2)
    e = elong * rng.uniform(0.8, 1.2)
    a, b = s * (1 + e), s * (1 - e)
    r = a * b / np.sqrt((b * np.cos(phi - turn)) ** 2 + (a * np.sin(phi - turn)) ** 2)
    r *= 1 + tri * np.cos(3 * (phi - turn))
    r += noise * rng.standard_normal(n_points)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi)])


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
    edge points of :func:`particle_outline`.

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
    pts = particle_outline("rod", seed=seed)
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


def shape_descriptors(points):
    """Aspect ratio (from the second moments) and three-fold roundness deviation of an outline.

    Parameters
    ----------
    points : ndarray of shape (m, 2), nm

    Returns
    -------
    (float, float)
        Aspect ratio (>= 1) and the relative amplitude of the cos(3 phi) component of the radius.
    """
    p = np.asarray(points, dtype=float) - np.mean(points, axis=0)
    evals = np.linalg.eigvalsh(np.cov(p.T))
    aspect = float(np.sqrt(evals[1] / max(evals[0], 1e-12)))
    r, phi = np.hypot(p[:, 0], p[:, 1]), np.arctan2(p[:, 1], p[:, 0])
    tri = float(np.abs(np.mean(r * np.exp(3j * phi))) / np.mean(r))
    return aspect, tri


def particle_morphology(*, n_particles=300, max_components=6, seed=0):
    """Classify particle outlines by shape with a Gaussian mixture whose size is chosen by the BIC.

    Returns
    -------
    LectureFigure
        ``data``: ``bic`` per number of components, ``n_best``, ``accuracy`` (purity: the fraction of particles whose
        component stands for their true shape).
    """
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(seed)
    kinds = ("sphere", "rod", "triangle")
    truth = rng.integers(0, 3, n_particles)
    feats = np.array([shape_descriptors(particle_outline(kinds[t], seed=rng)) for t in truth])
    X = np.column_stack([np.log(feats[:, 0]), feats[:, 1]])
    ks = np.arange(1, max_components + 1)
    models = [GaussianMixture(int(k), n_init=3, random_state=int(rng.integers(2**31))).fit(X) for k in ks]
    bic = np.array([m.bic(X) for m in models])
    best = int(ks[np.argmin(bic)])
    labels = models[best - 1].predict(X)
    # purity: each component stands for the shape most of its particles have
    acc = sum(np.bincount(truth[labels == j], minlength=3).max() for j in range(best) if np.any(labels == j)) \
        / n_particles
    fig, (a, b) = new_figure(2)
    for j in range(best):
        sel = labels == j
        a.scatter(feats[sel, 0], feats[sel, 1], s=14, color=color(j), marker=MARKERS[j], label=f"component {j + 1}")
    a.set_xscale("log")
    a.set_xlabel("aspect ratio (dimensionless)")
    a.set_ylabel("three-fold deviation (dimensionless)")
    a.legend(fontsize=8)
    b.plot(ks, bic, marker="o", **style(0))
    b.axvline(best, color="0.5", lw=1)
    b.set_xlabel("number of mixture components K")
    b.set_ylabel("BIC (dimensionless)")
    alt = (f"Left: {n_particles} particles plotted by aspect ratio (log scale) and three-fold deviation, coloured by "
           f"the {best} components of a Gaussian mixture: round particles near aspect 1 and small deviation, rods at "
           "large aspect ratio, triangles at large three-fold deviation. Right: the Bayesian information criterion "
           f"against the number of components, lowest at {best}. The mixture recovers the true shape of "
           f"{100 * acc:.0f}% of the particles.")
    return LectureFigure(fig, alt, "A Gaussian mixture gives each particle a probability per shape class; the BIC "
                         "chooses how many classes the data support.",
                         data={"bic": bic, "n_best": best, "accuracy": float(acc)})
