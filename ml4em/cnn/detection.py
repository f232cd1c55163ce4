"""Defect detection scored as in the lecture: precision, recall and F1 within a tolerance radius.

Positions are read off a probability map and matched one-to-one to the true defects; the map of true
positives, false negatives and false positives shows where the detector errs.
"""

import numpy as np

from .convolution import _as_image

__all__ = ["find_defects", "match_defects", "detection_scores", "greedy_detection_f1", "plot_detections"]


def find_defects(probability, *, threshold=0.5, min_pixels=2):
    """Defect positions from a probability map: centroids of the connected regions above ``threshold``.

    Parameters
    ----------
    probability : ndarray of shape (rows, cols) or (n_images, rows, cols)
    threshold : float, default 0.5
    min_pixels : int, default 2
        Smaller regions are ignored as noise.

    Returns
    -------
    ndarray of shape (n_found, 2), pixels (row, column); a list of them for a stack.

    Examples
    --------
    >>> p = np.zeros((8, 8)); p[2:4, 5:7] = 0.9
    >>> find_defects(p)
    array([[2.5, 5.5]])
    """
    from scipy import ndimage

    p = np.asarray(probability, dtype=float)
    if p.ndim == 3:
        return [find_defects(q, threshold=threshold, min_pixels=min_pixels) for q in p]
    if p.ndim != 2:
        raise ValueError(f"probability should have shape (rows, cols) or (n_images, rows, cols); got {p.shape}.")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold={threshold!r} should be between 0 and 1 (a probability).")
    regions, n = ndimage.label(p > threshold)
    if n == 0:
        return np.zeros((0, 2))
    index = np.arange(1, n + 1)
    sizes = ndimage.sum_labels(np.ones_like(p), regions, index)
    centres = np.array(ndimage.center_of_mass(p, regions, index), dtype=float).reshape(-1, 2)
    return centres[sizes >= min_pixels]


def _positions(name, value):
    if np.size(value) and (np.ndim(value) != 2 or np.shape(value)[1] != 2):
        raise ValueError(f"{name} should have shape (n, 2) (row, column); got {np.shape(value)}.")
    return np.asarray(value, dtype=float).reshape(-1, 2) if np.size(value) else np.zeros((0, 2))


def match_defects(found, true, *, tolerance=2.0):
    """Pair found and true defects one-to-one within ``tolerance`` pixels (minimum total distance).

    Parameters
    ----------
    found, true : ndarray of shape (n_found, 2) and (n_true, 2), pixels
    tolerance : float, pixels, default 2

    Returns
    -------
    pairs : ndarray of shape (n_tp, 2), int
        Index into ``found`` and into ``true`` of each true positive.
    false_positives : ndarray of int
        Indices into ``found`` without a partner.
    false_negatives : ndarray of int
        Indices into ``true`` without a partner.

    Examples
    --------
    >>> pairs, fp, fn = match_defects([[0, 0], [9, 9]], [[0.5, 0], [5, 5]], tolerance=1)
    >>> pairs.tolist(), fp.tolist(), fn.tolist()
    ([[0, 0]], [1], [1])
    """
    from scipy.optimize import linear_sum_assignment

    found, true = _positions("found", found), _positions("true", true)
    if not tolerance > 0:
        raise ValueError(f"tolerance={tolerance!r} should be > 0 pixels.")
    pairs = np.zeros((0, 2), dtype=int)
    if len(found) and len(true):
        d = np.hypot(*(found[:, None, :] - true[None, :, :]).transpose(2, 0, 1))
        cost = np.where(d <= tolerance, d, 1e6)  # far pairs are never chosen over leaving both unmatched
        rows, cols = linear_sum_assignment(cost)
        ok = d[rows, cols] <= tolerance
        pairs = np.stack([rows[ok], cols[ok]], axis=1).astype(int)
    fp = np.setdiff1d(np.arange(len(found)), pairs[:, 0])
    fn = np.setdiff1d(np.arange(len(true)), pairs[:, 1])
    return pairs, fp, fn


def detection_scores(found, true, *, tolerance=2.0):
    """Precision, recall and F1 of defect detection over one image or a list of images.

    A found defect within ``tolerance`` pixels of a true one (matched one-to-one)
    is a true positive; the counts are summed over images before the ratios.

    Returns
    -------
    dict with "precision", "recall", "f1" (0 to 1; 1 where nothing was to be found and nothing was) and
    "tp", "fp", "fn" (int).

    Examples
    --------
    >>> detection_scores([[0, 0], [9, 9]], [[0.5, 0], [5, 5]], tolerance=1)["f1"]
    0.5
    """
    if isinstance(found, list) and isinstance(true, list) and (not found or np.ndim(found[0]) == 2):
        if len(found) != len(true):
            raise ValueError(f"found has {len(found)} images but true has {len(true)}; pass one array per image.")
        images = list(zip(found, true))
    else:
        images = [(found, true)]
    tp = fp = fn = 0
    for f, t in images:
        pairs, a, b = match_defects(f, t, tolerance=tolerance)
        tp, fp, fn = tp + len(pairs), fp + len(a), fn + len(b)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def plot_detections(ax, image, found, true, *, tolerance=2.0, pixel_size=None):
    """Draw ``image`` with true positives, false negatives and false positives marked.

    Parameters
    ----------
    ax : matplotlib Axes
    image : ndarray of shape (rows, cols)
    found, true : ndarray of shape (n, 2), pixels (row, column)
    tolerance : float, pixels
    pixel_size : float, nm, optional
        Axes in nm when given, else in pixels.

    Returns
    -------
    dict
        The :func:`detection_scores` of this image.
    """
    image = _as_image("image", image)
    found, true = _positions("found", found), _positions("true", true)
    pairs, fp, fn = match_defects(found, true, tolerance=tolerance)
    scale, unit = (pixel_size, "nm") if pixel_size else (1.0, "pixels")
    rows, cols = image.shape
    ax.imshow(image, cmap="gray", extent=(-0.5 * scale, (cols - 0.5) * scale, (rows - 0.5) * scale, -0.5 * scale))
    marks = [(found[pairs[:, 0]], "true positive", "#009E73", "o"), (true[fn], "false negative", "#E69F00", "s"),
             (found[fp], "false positive", "#D55E00", "X")]
    for pts, label, colour, marker in marks:
        ax.scatter(pts[:, 1] * scale, pts[:, 0] * scale, s=110, marker=marker, facecolors="none",
                   edgecolors=colour, linewidths=2, label=f"{label} ({len(pts)})")
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit})")
    ax.grid(False)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8, frameon=True)
    return detection_scores(found, true, tolerance=tolerance)




def greedy_detection_f1(found, true, tolerance):
    """Precision, recall and F1 with the greedy one-to-one matching of tutorials/04_cnn (exercise on F1).

    The true defects are taken in order; each claims the nearest found defect not yet claimed, if it lies within
    ``tolerance``. For well-separated defects this gives the same counts as the matching of least total
    distance of :func:`match_defects`. A ratio whose denominator is 0 is 1.0.

    Parameters
    ----------
    found : array-like of shape (n_found, 2)
        Found positions (row, column), pixels.
    true : array-like of shape (n_true, 2)
        True positions (row, column), pixels.
    tolerance : float
        Largest distance of a match, pixels (a distance equal to it matches).

    Returns
    -------
    (precision, recall, f1) : tuple of float
        Each between 0 and 1.

    Raises
    ------
    ValueError
        When ``tolerance`` is not positive, or a positions array is not of shape (n, 2).

    Examples
    --------
    >>> greedy_detection_f1([[0, 0], [0.5, 0], [9, 9]], [[0.2, 0]], 1.0)
    (0.3333333333333333, 1.0, 0.5)
    """
    found, true = _positions("found", found), _positions("true", true)
    if not tolerance > 0:
        raise ValueError(f"tolerance={tolerance!r} should be > 0 pixels.")
    used = np.zeros(len(found), dtype=bool)
    tp = 0
    for position in true:
        if not len(found):
            break
        distance = np.where(used, np.inf, np.hypot(*(found - position).T))
        nearest = int(np.argmin(distance))
        if distance[nearest] <= tolerance:
            used[nearest] = True
            tp += 1
    fp, fn = len(found) - tp, len(true) - tp
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0,
            2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
