"""Convolution and max pooling written out in numpy, and kernels that show what one filter picks out.

As in Keras, "convolution" is the cross-correlation: the kernel is not flipped.
"""

import numpy as np

__all__ = ["conv2d", "max_pool2d", "KERNELS", "plot_filtered"]


def _as_image(name, image):
    arr = np.asarray(image, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name} should be a 2-D array (rows, columns); got shape {arr.shape}.")
    return arr


def conv2d(image, kernel, *, mode="valid"):
    """2-D cross-correlation of ``image`` with ``kernel``, as in a convolutional layer.

    Parameters
    ----------
    image : ndarray of shape (rows, cols)
    kernel : ndarray of shape (k_rows, k_cols)
    mode : {"valid", "same"}
        "valid": only where the kernel fits, shape (rows - k_rows + 1, cols - k_cols + 1);
        "same": zero padding, output shape of ``image`` (as ``scipy.signal.correlate2d``).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> conv2d(np.arange(9.0).reshape(3, 3), np.ones((2, 2)))
    array([[ 8., 12.],
           [20., 24.]])
    """
    image, kernel = _as_image("image", image), _as_image("kernel", kernel)
    if mode not in ("valid", "same"):
        raise ValueError(f"mode={mode!r} is not known; use 'valid' or 'same'.")
    kr, kc = kernel.shape
    if mode == "same":
        top, left = (kr - 1) // 2, (kc - 1) // 2
        image = np.pad(image, ((top, kr - 1 - top), (left, kc - 1 - left)))
    if image.shape[0] < kr or image.shape[1] < kc:
        raise ValueError(f"kernel of shape {kernel.shape} is larger than image of shape {image.shape}; "
                         "use a smaller kernel or mode='same'.")
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def max_pool2d(image, pool=2):
    """Max pooling over non-overlapping ``pool x pool`` windows (rows and columns that do not fill one are dropped).

    Examples
    --------
    >>> max_pool2d(np.arange(16.0).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    image = _as_image("image", image)
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise ValueError(f"pool={pool!r} should be a positive integer (window size in pixels).")
    r, c = image.shape[0] // pool, image.shape[1] // pool
    if r == 0 or c == 0:
        raise ValueError(f"pool={pool} is larger than image of shape {image.shape}; use a smaller pool.")
    return image[: r * pool, : c * pool].reshape(r, pool, c, pool).max(axis=(1, 3))


#: Small kernels to try by hand: what one convolution filter can pick out of an image.
KERNELS = {
    "identity": np.array([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "blur (3 x 3 mean)": np.full((3, 3), 1 / 9),
    "edge along x (Sobel)": np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "edge along y (Sobel)": np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "Laplacian (spots)": np.array([[0.0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
}


def plot_filtered(ax, kernel="Laplacian (spots)", *, dose=2e4, seed=0):
    """Draw a simulated STEM image after one 'valid' convolution with a kernel of :data:`KERNELS`.

    Used by the explorer of tutorials/04_cnn.
    """
    from ..stem import simulate_stem

    if kernel not in KERNELS:
        raise ValueError(f"kernel={kernel!r} is not known; choose one of {sorted(KERNELS)}.")
    image = simulate_stem(1, dose=dose, seed=seed).images[0]
    out = conv2d(image, KERNELS[kernel])
    im = ax.imshow(out, cmap="gray")
    ax.figure.colorbar(im, ax=ax, label="filter output (counts)")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.grid(False)
    return out


