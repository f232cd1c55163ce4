"""Segmentation of particles: smoothing, Otsu threshold, watershed of the distance transform; and its score.

:func:`segment` turns a micrograph into a label image with four parameters (:data:`DEFAULT_PARAMS`), which
:mod:`ml4em.morphology.tuning` tunes with a genetic algorithm. :func:`iou_matrix` and :func:`segmentation_f1`
score a label image against the truth: a true particle counts as found when one segmented region covers it with
an intersection over union of at least 0.5 (then the match is unique).
"""

import numpy as np
from scipy import ndimage

__all__ = ["DEFAULT_PARAMS", "segment", "iou_matrix", "segmentation_f1"]

#: The parameters one would start from without tuning: light smoothing, Otsu's threshold as it is, watershed
#: markers from every maximum of the distance transform at least 1 pixel high, regions below 10 pixels dropped.
DEFAULT_PARAMS = {"smoothing": 1.0, "threshold_scale": 1.0, "h": 1.0, "min_area": 10}


def _params(params):
    p = dict(DEFAULT_PARAMS)
    if params:
        unknown = set(params) - set(DEFAULT_PARAMS)
        if unknown:
            raise ValueError(f"unknown segmentation parameter(s) {sorted(unknown)}; the parameters are "
                             f"{sorted(DEFAULT_PARAMS)}.")
        p.update(params)
    if not 0 <= p["smoothing"] <= 10:
        raise ValueError(f"smoothing={p['smoothing']!r} should be a Gaussian sigma between 0 and 10 pixels.")
    if not 0.2 <= p["threshold_scale"] <= 2:
        raise ValueError(f"threshold_scale={p['threshold_scale']!r} should be between 0.2 and 2 (times Otsu's).")
    if not 0 <= p["h"] <= 20:
        raise ValueError(f"h={p['h']!r} should be a height between 0 and 20 pixels.")
    if not 0 <= p["min_area"] <= 10_000:
        raise ValueError(f"min_area={p['min_area']!r} should be a number of pixels between 0 and 10000.")
    return p


def segment(image, params=None, *, dark=True):
    """Label the particles of a micrograph.

    1. Gaussian smoothing with sigma ``smoothing`` pixels;
    2. foreground: pixels darker than ``threshold_scale`` times Otsu's threshold of the smoothed image (brighter,
       with ``dark=False``), holes filled;
    3. distance transform of the foreground; its h-maxima (maxima at least ``h`` pixels above their
       surroundings; a plateau, as along a rod, is one maximum) are the watershed markers;
    4. watershed of the negative distance within the foreground; regions smaller than ``min_area`` pixels are
       dropped, the rest numbered 1, 2, ...

    Parameters
    ----------
    image : ndarray of shape (ny, nx), counts
    params : dict, optional
        Any of :data:`DEFAULT_PARAMS`; the others keep their default.
    dark : bool, default True
        Particles darker than the support (bright field).

    Returns
    -------
    ndarray of int, shape (ny, nx)
        0 for the support, 1..n for the regions.

    Examples
    --------
    >>> from ml4em.morphology import simulate_particles
    >>> sim = simulate_particles(12, image_size=128, contact=0.0, seed=1)
    >>> int(segment(sim.image).max()) == sim.n_particles
    True
    """
    from skimage.filters import threshold_otsu
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    img = np.asarray(image, dtype=float)
    if img.ndim != 2 or min(img.shape) < 8:
        raise ValueError(f"image should be a 2-D array of at least 8 x 8 pixels; got shape {img.shape}.")
    if not np.all(np.isfinite(img)):
        raise ValueError("image has NaN or infinite pixels; replace them (np.nan_to_num) before segmenting.")
    p = _params(params)
    smooth = ndimage.gaussian_filter(img, p["smoothing"]) if p["smoothing"] > 0 else img
    if np.ptp(smooth) == 0:
        return np.zeros(img.shape, dtype=np.int32)
    level = p["threshold_scale"] * threshold_otsu(smooth)
    fg = ndimage.binary_fill_holes(smooth < level if dark else smooth > level)
    if not fg.any():
        return np.zeros(img.shape, dtype=np.int32)
    distance = ndimage.gaussian_filter(ndimage.distance_transform_edt(fg), 1.0)  # no ridge bumps from a ragged edge
    if p["h"] > 0:
        markers, _ = ndimage.label(h_maxima(distance, p["h"]), structure=np.ones((3, 3)))
    else:
        markers, _ = ndimage.label(fg)
    labels = watershed(-distance, markers, mask=fg)
    areas = np.bincount(labels.ravel())
    keep = areas >= max(p["min_area"], 1)
    keep[0] = False
    renumber = np.zeros(areas.size, dtype=np.int32)
    renumber[keep] = np.arange(1, keep.sum() + 1)
    return renumber[labels]


def _as_labels(name, labels):
    arr = np.asarray(labels)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer) or (arr.size and arr.min() < 0):
        raise ValueError(f"{name} should be a 2-D array of non-negative integer labels (0 = background); got "
                         f"dtype {arr.dtype}, shape {arr.shape}.")
    return arr


def iou_matrix(true_labels, pred_labels):
    """Intersection over union of every true particle with every segmented region.

    Parameters
    ----------
    true_labels, pred_labels : ndarray of int, shape (ny, nx)
        0 for background; particles and regions numbered from 1 (gaps in the numbering give empty rows).

    Returns
    -------
    ndarray of shape (n_true, n_pred)
        Row ``i`` for label ``i + 1`` of ``true_labels``, column ``j`` for label ``j + 1`` of ``pred_labels``.

    Examples
    --------
    >>> t = np.array([[1, 1, 0, 2]]); p = np.array([[1, 0, 0, 2]])
    >>> iou_matrix(t, p)
    array([[0.5, 0. ],
           [0. , 1. ]])
    """
    t, p = _as_labels("true_labels", true_labels), _as_labels("pred_labels", pred_labels)
    if t.shape != p.shape:
        raise ValueError(f"true_labels {t.shape} and pred_labels {p.shape} should have the same shape.")
    nt, npred = int(t.max(initial=0)), int(p.max(initial=0))
    joint = np.bincount(t.ravel().astype(np.int64) * (npred + 1) + p.ravel(),
                        minlength=(nt + 1) * (npred + 1)).reshape(nt + 1, npred + 1)
    inter = joint[1:, 1:].astype(float)
    union = joint[1:, :].sum(axis=1)[:, None] + joint[:, 1:].sum(axis=0)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def segmentation_f1(true_labels, pred_labels, *, iou_threshold=0.5):
    """F1 score of a segmentation: true particles found by a region with IoU >= ``iou_threshold``.

    ``F1 = 2 TP / (n_true + n_pred)``: a merge of two particles loses both, a split loses the particle and adds
    a false region. With ``iou_threshold >= 0.5`` a particle and a region match at most once.

    Parameters
    ----------
    true_labels, pred_labels : ndarray of int, shape (ny, nx)
    iou_threshold : float in [0.5, 1], default 0.5

    Returns
    -------
    float in [0, 1]
        1 when both are empty.

    Examples
    --------
    >>> t = np.array([[1, 1, 0, 2, 2, 0, 3]]); p = np.array([[1, 1, 0, 2, 0, 0, 0]])
    >>> segmentation_f1(t, p)  # particles 1 and 2 found (IoU 1 and 0.5), 3 missed
    0.8
    """
    if not 0.5 <= iou_threshold <= 1:
        raise ValueError(f"iou_threshold={iou_threshold!r} should be in [0.5, 1] (below 0.5 matches are not "
                         "unique).")
    iou = iou_matrix(true_labels, pred_labels)
    t, p = np.asarray(true_labels), np.asarray(pred_labels)
    n_true, n_pred = np.unique(t[t > 0]).size, np.unique(p[p > 0]).size
    if n_true + n_pred == 0:
        return 1.0
    if iou.size == 0:
        return 0.0
    hit = iou >= iou_threshold  # at exactly 0.5 one region may touch two particles: count each side once
    tp = min(int(hit.any(axis=1).sum()), int(hit.any(axis=0).sum()))
    return 2 * tp / (n_true + n_pred)
