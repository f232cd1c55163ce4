"""A genetic algorithm tunes the segmentation against the known truth of simulated training images.

The genes are the four parameters of :func:`~ml4em.morphology.segment` (:func:`segmentation_space`); the
fitness of a genome is the mean score (by default :func:`~ml4em.morphology.segmentation_f1`) of the segmentation
it gives on the training images (:class:`SegmentationFitness`). The search is :class:`ml4em.ga.GeneticAlgorithm`
(tournament selection, uniform crossover, mutation, elitism), as Lee et al. tuned their image analysis
(ACS Nano 14, 17125 (2020), doi:10.1021/acsnano.0c06809).
"""

import numpy as np

from .. import ga
from .segment import DEFAULT_PARAMS, segment, segmentation_f1

__all__ = ["segmentation_space", "SegmentationFitness", "tune_segmentation", "merge_onset", "plot_watershed_pairs"]


def segmentation_space():
    """The genes of a segmentation: one per parameter of :data:`~ml4em.morphology.DEFAULT_PARAMS`.

    Examples
    --------
    >>> sorted(segmentation_space()) == sorted(DEFAULT_PARAMS)
    True
    """
    return {"smoothing": ga.Real(0.0, 4.0), "threshold_scale": ga.Real(0.7, 1.3), "h": ga.Real(0.0, 6.0),
            "min_area": ga.Integer(0, 200)}


class SegmentationFitness:
    """Mean segmentation score of a genome over training images (to be maximised).

    Parameters
    ----------
    images : sequence of ParticleImage
        Training images with their true labels.
    score : callable, optional
        ``score(true_labels, pred_labels) -> float`` in [0, 1]; default :func:`segmentation_f1`.

    Examples
    --------
    >>> from ml4em.morphology import simulate_particles
    >>> fitness = SegmentationFitness([simulate_particles(10, image_size=96, seed=0)])
    >>> 0 <= fitness(DEFAULT_PARAMS) <= 1
    True
    """

    def __init__(self, images, score=None):
        self.images = list(images)
        if not self.images:
            raise ValueError("images is empty; give at least one ParticleImage to tune on.")
        self.score = segmentation_f1 if score is None else score
        if not callable(self.score):
            raise TypeError(f"score should be a function (true_labels, pred_labels) -> float; got "
                            f"{type(self.score).__name__}.")

    def __call__(self, genome):
        params = {name: genome[name] for name in DEFAULT_PARAMS}
        return float(np.mean([self.score(im.labels, segment(im.image, params)) for im in self.images]))


def tune_segmentation(images, *, score=None, n_evaluations=200, population_size=20, seed=None, progress=False):
    """Tune the segmentation parameters with a genetic algorithm; return its :class:`ml4em.ga.SearchResult`.

    ``score`` is passed to :class:`SegmentationFitness`; the search runs in this process, so ``score`` may be a
    function defined in a notebook.

    Examples
    --------
    >>> from ml4em.morphology import simulate_particles
    >>> images = [simulate_particles(10, image_size=96, seed=s) for s in range(2)]
    >>> result = tune_segmentation(images, n_evaluations=12, population_size=6, seed=0)
    >>> len(result.fitness), 0 <= result.best_fitness <= 1
    (12, True)
    """
    fitness = SegmentationFitness(images, score)
    engine = ga.GeneticAlgorithm(segmentation_space(), population_size=population_size, n_elite=2, seed=seed)
    return engine.run(fitness, n_evaluations=n_evaluations, progress=progress)


def merge_onset(blur_values, *, params=None, n_pairs=8, seed=0):
    """For each blur, how many particles of :func:`~ml4em.morphology.touching_pairs_image` the segmentation finds.

    Parameters
    ----------
    blur_values : sequence of float, pixels
    params : dict, optional
        Segmentation parameters; default :data:`~ml4em.morphology.DEFAULT_PARAMS`.
    n_pairs : int
    seed : int

    Returns
    -------
    found : ndarray of int, shape (len(blur_values),)
        Regions matched to a particle (IoU >= 0.5); ``2 n_pairs`` while watershed separates every pair.
    first_merge : float or None
        The smallest blur at which fewer than ``2 n_pairs`` are found (None if never).

    Examples
    --------
    >>> found, onset = merge_onset([0.0, 6.0], n_pairs=3)
    >>> int(found[0])
    6
    """
    from .segment import iou_matrix
    from .simulate import touching_pairs_image

    blurs = [float(b) for b in blur_values]
    found = []
    for blur in blurs:
        image = touching_pairs_image(blur, n_pairs=n_pairs, seed=seed)
        iou = iou_matrix(image.labels, segment(image.image, params))
        found.append(int(np.sum(iou.max(axis=1, initial=0) >= 0.5)) if iou.size else 0)
    found = np.array(found, dtype=int)
    low = np.flatnonzero(found < 2 * n_pairs)
    return found, (blurs[int(low[0])] if low.size else None)


def plot_watershed_pairs(ax, blur, *, params=None, n_pairs=8, seed=0):
    """The explorer of the tutorial: touching pairs at a given blur and the outlines watershed finds.

    Parameters
    ----------
    ax : matplotlib Axes
    blur : float, pixels
    params : dict, optional
        Segmentation parameters; default :data:`~ml4em.morphology.DEFAULT_PARAMS`.
    n_pairs : int
    seed : int

    Returns
    -------
    int
        The number of particles found (IoU >= 0.5), also shown in the title.
    """
    from skimage.segmentation import find_boundaries

    from .segment import iou_matrix
    from .simulate import touching_pairs_image

    image = touching_pairs_image(float(blur), n_pairs=n_pairs, seed=seed)
    labels = segment(image.image, params)
    iou = iou_matrix(image.labels, labels)
    found = int(np.sum(iou.max(axis=1, initial=0) >= 0.5)) if iou.size else 0
    ny, nx = image.image.shape
    ax.imshow(image.image, cmap="gray", extent=(0, nx, ny, 0))
    edges = np.ma.masked_where(~find_boundaries(labels, mode="inner"), np.ones(labels.shape))
    ax.imshow(edges, cmap="autumn", vmin=0, vmax=1, extent=(0, nx, ny, 0), interpolation="nearest")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.set_title(f"blur {float(blur):g} px: {found} of {2 * n_pairs} found, {int(labels.max())} regions", fontsize=9)
    ax.grid(False)
    return found
