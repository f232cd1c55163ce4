"""Shape descriptors of segmented particles: area, aspect ratio, solidity, circularity and number of corners.

Conventions (``skimage.measure.regionprops`` gives the ingredients):

- **aspect ratio** = ``axis_major_length / axis_minor_length`` of the ellipse with the same second moments (1 for
  a disc, a square or an equilateral triangle; about length / width for a rod);
- **solidity** = area / area of the convex hull (1 for a convex shape, less for a merged pair);
- **circularity** = ``4 pi A / P**2`` with ``P`` the perimeter: 1 for a disc, ``pi / 4 = 0.785`` for a square,
  ``pi / (3 sqrt 3) = 0.605`` for an equilateral triangle. On a digitised outline the measured values differ by
  up to about 10 % (skimage's ``perimeter`` gives 0.92 for a 20-pixel disc, 0.85 for an upright 25-pixel square);
- **radial spread**: the standard deviation of the distance from the centroid along the outline over its mean
  (:func:`radial_profile`): 0 for a disc, about 0.09 for a square, 0.2 for a triangle, 0.3 and more for a rod;
- **number of corners**: the maxima of the distance from the centroid along the outline
  (:func:`count_corners`): 0 for a disc, 2 for a rod (its ends), 3 for a triangle, 4 for a square.
"""

import numpy as np
from scipy import ndimage

__all__ = ["FEATURES", "radial_profile", "count_corners", "region_descriptors"]

#: The descriptors of :func:`region_descriptors`, in the order of its columns.
FEATURES = ("area", "aspect_ratio", "solidity", "circularity", "radial_spread", "n_corners")


def _as_mask(mask):
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask should be a 2-D boolean array; got shape {m.shape}.")
    m = m.astype(bool)
    if m.sum() < 3:
        raise ValueError(f"mask has {int(m.sum())} pixel(s) set; a particle needs at least 3.")
    return m


def radial_profile(mask, *, n_points=360, smoothing=0.02):
    """Distance from the centroid along the outline of a particle, over the mean distance.

    The outline (the 0.5 contour of the mask, ``skimage.measure.find_contours``) is resampled at ``n_points``
    points equally spaced along its length, and the distances are smoothed with a circular Gaussian of
    ``smoothing`` times the outline length (which removes the staircase of the pixels).

    Parameters
    ----------
    mask : ndarray of bool, shape (ny, nx)
        One particle.
    n_points : int, default 360
    smoothing : float, default 0.02
        Gaussian width as a fraction of the outline length.

    Returns
    -------
    ndarray of shape (n_points,)
        Relative radius (mean 1), in order along the outline.

    Examples
    --------
    >>> from ml4em.morphology import shape_mask
    >>> r = radial_profile(shape_mask("sphere", 30))
    >>> bool(np.ptp(r) < 0.05)
    True
    """
    from skimage.measure import find_contours

    m = _as_mask(mask)
    contours = find_contours(np.pad(m, 1).astype(float), 0.5)
    outline = max(contours, key=len)
    steps = np.hypot(*np.diff(outline, axis=0).T)
    s = np.r_[0.0, np.cumsum(steps)]
    t = np.linspace(0, s[-1], n_points, endpoint=False)
    points = np.column_stack([np.interp(t, s, outline[:, 0]), np.interp(t, s, outline[:, 1])])
    centre = np.argwhere(np.pad(m, 1)).mean(axis=0)
    r = np.hypot(*(points - centre).T)
    r = ndimage.gaussian_filter1d(r, smoothing * n_points, mode="wrap") if smoothing > 0 else r
    return r / r.mean()


def count_corners(mask, *, min_prominence=0.15, smoothing=0.02):
    """Number of corners of a particle: maxima of its :func:`radial_profile` with at least ``min_prominence``.

    The profile goes once round the outline, so it is periodic: a maximum's prominence (how far it rises
    above the higher of the two lowest points between it and the next higher maximum on either side) is
    measured on the profile repeated three times, and only the maxima of the middle copy are counted.

    Parameters
    ----------
    mask : ndarray of bool, shape (ny, nx)
    min_prominence : float, default 0.15
        In units of the mean radius: a square's corners rise about 0.3 above its edges, the bumps of a ragged
        segmented disc rarely 0.1.
    smoothing : float, default 0.02
        See :func:`radial_profile`.

    Returns
    -------
    int
        0 for a disc, 2 for a rod, 3 for a triangle, 4 for a square.

    Examples
    --------
    >>> from ml4em.morphology import shape_mask
    >>> [count_corners(shape_mask(k, 24, angle=0.3)) for k in ("sphere", "rod", "cube", "triangle")]
    [0, 2, 4, 3]
    """
    from scipy.signal import find_peaks

    if not min_prominence > 0:
        raise ValueError(f"min_prominence={min_prominence!r} should be > 0 (in units of the mean radius).")
    r = radial_profile(mask, smoothing=smoothing)
    n = r.size
    peaks, _ = find_peaks(np.tile(r, 3), prominence=min_prominence)
    return int(np.sum((peaks >= n) & (peaks < 2 * n)))


def region_descriptors(labels):
    """The :data:`FEATURES` of every region of a label image.

    Parameters
    ----------
    labels : ndarray of int, shape (ny, nx)
        0 for the background.

    Returns
    -------
    ids : ndarray of int, shape (n_regions,)
        The label of each row.
    table : ndarray of shape (n_regions, 6)
        Columns :data:`FEATURES`: area (pixels), aspect ratio, solidity, circularity (``4 pi A / P**2``, with
        skimage's ``perimeter``), radial spread, number of corners.

    Examples
    --------
    >>> from ml4em.morphology import shape_mask
    >>> ids, table = region_descriptors(shape_mask("cube", 30, shape=(50, 50)).astype(int))
    >>> ids.tolist(), float(table[0, 1].round(2)), float(table[0, 3].round(2)), int(table[0, 5])
    ([1], 1.0, 0.85, 4)
    """
    from skimage.measure import regionprops

    lab = np.asarray(labels)
    if lab.ndim != 2 or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels should be a 2-D integer label image; got dtype {lab.dtype}, shape {lab.shape}.")
    ids, rows = [], []
    for region in regionprops(lab):
        if region.area < 3:
            continue
        minor = max(region.axis_minor_length, 1e-9)
        perimeter = max(region.perimeter, 1e-9)
        mask = np.pad(region.image, 1)
        rows.append([region.area, region.axis_major_length / minor, region.solidity,
                     4 * np.pi * region.area / perimeter**2, radial_profile(mask).std(), count_corners(mask)])
        ids.append(region.label)
    return np.array(ids, dtype=int), np.array(rows, dtype=float).reshape(-1, len(FEATURES))
