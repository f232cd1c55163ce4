"""Partial STEM scans: the pixels a scan visits, the scaling of scanned images, interpolation as baseline.

A scan that visits about 10 % of the pixels (along a spiral, random lines or random points) cuts the dose
and the scan time by ten; the rest of the image must be inferred.
"""

import numpy as np

__all__ = ["scan_mask", "scan_masks", "normalize_scans", "interpolate_scan"]


def _positive_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    return int(value)


# ---------------------------------------------------------------- partial scans

def scan_mask(size, coverage=0.1, *, kind="spiral", seed=None):
    """Pixels visited by a partial scan.

    Parameters
    ----------
    size : int
        The image is ``size x size`` pixels.
    coverage : float, default 0.1
        Fraction of the pixels to visit (0 to 1).
    kind : {"spiral", "lines", "points"}
        "spiral": an Archimedean spiral with a random phase and centre; "lines": random whole scan lines
        (rows); "points": random pixels.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (size, size), bool

    Examples
    --------
    >>> m = scan_mask(64, 0.1, seed=0)
    >>> bool(abs(m.mean() - 0.1) < 0.01)
    True
    """
    size = _positive_int("size", size, 4)
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage={coverage!r} should be in (0, 1], the fraction of pixels scanned.")
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), dtype=bool)
    if kind == "points":
        mask.flat[rng.choice(size * size, max(1, round(coverage * size * size)), replace=False)] = True
    elif kind == "lines":
        mask[rng.choice(size, max(1, round(coverage * size)), replace=False)] = True
    elif kind == "spiral":
        centre = (size - 1) / 2 + rng.uniform(-0.1, 0.1, 2) * size
        phase = rng.uniform(0, 2 * np.pi)
        pitch = 1.27 / coverage  # a rasterised curve visits about 4/pi pixels per pixel of length
        for _ in range(3):  # refine the distance between turns until the coverage is right
            r_max = np.sqrt(2) * size + pitch
            s = np.arange(0.0, np.pi * r_max**2 / pitch, 0.3)  # arc length, pixels
            r = np.sqrt(pitch * s / np.pi)
            theta = 2 * np.pi * r / pitch + phase
            rows, cols = np.rint(centre[0] + r * np.sin(theta)), np.rint(centre[1] + r * np.cos(theta))
            ok = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
            mask[:] = False
            mask[rows[ok].astype(int), cols[ok].astype(int)] = True
            pitch *= mask.mean() / coverage
    else:
        raise ValueError(f"kind={kind!r} is not known; use 'spiral', 'lines' or 'points'.")
    return mask


def scan_masks(n_images, size, coverage=0.1, *, kind="spiral", seed=None):
    """``n_images`` independent :func:`scan_mask` s, ndarray of shape (n_images, size, size), bool."""
    rng = np.random.default_rng(seed)
    return np.stack([scan_mask(size, coverage, kind=kind, seed=rng)
                     for _ in range(_positive_int("n_images", n_images))])


def normalize_scans(images, masks):
    """Scale each image so that its scanned pixels span 0 to 1 (only scanned pixels are used).

    Parameters
    ----------
    images : ndarray of shape (n_images, rows, cols)
        Values at unscanned pixels are ignored.
    masks : ndarray of bool, same shape

    Returns
    -------
    scaled : ndarray of shape (n_images, rows, cols), float32
    low, high : ndarray of shape (n_images,)
        ``images = low + (high - low) * scaled``.
    """
    x = np.asarray(images, dtype=np.float32)
    m = np.asarray(masks, dtype=bool)
    if x.ndim != 3 or m.shape != x.shape:
        raise ValueError(f"images should have shape (n_images, rows, cols) and masks the same; got {x.shape} "
                         f"and {m.shape}.")
    if not np.all(m.sum(axis=(1, 2)) >= 2):
        raise ValueError("every mask should select at least 2 pixels; increase the coverage.")
    low = np.where(m, x, np.inf).min(axis=(1, 2))
    high = np.where(m, x, -np.inf).max(axis=(1, 2))
    span = np.maximum(high - low, 1e-6)
    return (x - low[:, None, None]) / span[:, None, None], low, low + span


def interpolate_scan(image, mask, *, method="linear"):
    """Fill the unscanned pixels of one image from the scanned ones (``scipy.interpolate.griddata``).

    Pixels outside the scanned points' convex hull take the nearest scanned value.

    Parameters
    ----------
    image : ndarray of shape (rows, cols)
    mask : ndarray of bool, same shape
    method : {"linear", "nearest", "cubic"}

    Returns
    -------
    ndarray of shape (rows, cols); equal to ``image`` where ``mask``.
    """
    from scipy.interpolate import griddata

    image, mask = np.asarray(image, dtype=float), np.asarray(mask, dtype=bool)
    if image.ndim != 2 or mask.shape != image.shape:
        raise ValueError(f"image should be 2-D and mask the same shape; got {image.shape} and {mask.shape}. "
                         "For a stack, call this per image.")
    if mask.sum() < 3:
        raise ValueError(f"mask selects {int(mask.sum())} pixels; interpolation needs at least 3.")
    points = np.argwhere(mask)
    grid = np.indices(image.shape).reshape(2, -1).T
    out = griddata(points, image[mask], grid, method=method).reshape(image.shape)
    if np.isnan(out).any():
        out = np.where(np.isnan(out), griddata(points, image[mask], grid, method="nearest").reshape(image.shape),
                       out)
    return np.where(mask, image, out)


