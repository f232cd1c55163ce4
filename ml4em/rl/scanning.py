"""Adaptive partial STEM as a reinforcement-learning environment (gymnasium API).

The field of view of a simulated ADF-STEM image (:func:`ml4em.stem.simulate_stem`) of a crystalline flake on a
thin support is divided into square **patches**. With a dose budget the beam may visit only a fraction
``dose_fraction`` of them. At every step the agent chooses the next patch to scan; the microscope measures its
pixels (with shot noise) and a fixed reconstructor fills in the rest of the image from what has been scanned
(a Gaussian-weighted mean of the scanned pixels nearby). The reward is the reduction of the reconstruction error that the scan brought, as a
fraction of the error before anything was scanned, so the return of an episode (undiscounted) is
``1 - final error / initial error``.

This is a laptop-sized version of J. M. Ede, Mach. Learn.: Sci. Technol. 2, 045011 (2021),
doi:10.1088/2632-2153/abf5b6, where a recurrent network chooses the directions of scan-path segments and a
second network completes the image.

Used in: tutorials/10_reinforcement_learning.
"""

import gymnasium as gym
import numpy as np
from scipy import ndimage

from ..stem import simulate_stem

__all__ = ["make_scan_images", "reconstruct", "reconstruction_error", "ScanEnv", "OBS_LIMIT"]

#: Bound of the observation space (image units; a measured value is about 1 on the brightest column).
OBS_LIMIT = 10.0


def make_scan_images(n_images, *, size=48, pixel_size=0.05, dose=2e4, crystal_fraction=(0.3, 0.6), seed=None):
    """Simulated ADF-STEM images of crystalline flakes, in units of the brightest column's expected counts.

    Each image is a WS2-like crystal (:func:`ml4em.stem.simulate_stem`) cut to a random smooth flake that
    covers a random fraction of the field; outside it only the support's weak background remains.

    Parameters
    ----------
    n_images : int >= 1
    size : int, default 48
        Images are ``size x size`` pixels.
    pixel_size : float, nm, default 0.05
    dose : float, electrons per square angstrom, default 2e4
    crystal_fraction : (float, float), default (0.3, 0.6)
        Range of the fraction of the field covered by the flake.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    clean : ndarray of shape (n_images, size, size), float32
        Expected counts without noise, divided by the expected counts on the brightest column (dimensionless).
    noisy : ndarray of shape (n_images, size, size), float32
        What the microscope measures (Poisson and detector noise), in the same units.

    Examples
    --------
    >>> clean, noisy = make_scan_images(2, size=24, seed=0)
    >>> clean.shape, noisy.dtype.name
    ((2, 24, 24), 'float32')
    >>> bool(0.5 < clean.max() < 1.5)
    True
    """
    low, high = crystal_fraction
    if not 0.0 < low <= high < 1.0:
        raise ValueError(f"crystal_fraction={crystal_fraction!r} should be (low, high) with 0 < low <= high < 1.")
    rng = np.random.default_rng(seed)
    scattering, background = 0.02, 0.002
    data = simulate_stem(n_images, size=size, pixel_size=pixel_size, dose=dose, scattering=scattering,
                         background=background, defect_density=0.02, seed=rng)
    per_pixel = dose * (10 * pixel_size) ** 2
    floor = per_pixel * background
    clean = np.empty_like(data.clean)
    for i in range(len(data)):
        field = ndimage.gaussian_filter(rng.standard_normal((size, size)), size / 8, mode="wrap")
        flake = field > np.quantile(field, 1 - rng.uniform(low, high))
        edge = ndimage.gaussian_filter(flake.astype(float), 1.0)
        clean[i] = floor + (data.clean[i] - floor) * edge
    noisy = rng.poisson(clean).astype(np.float32) + rng.standard_normal(clean.shape).astype(np.float32)
    scale = per_pixel * scattering
    return (clean / scale).astype(np.float32), (noisy / scale).astype(np.float32)


def reconstruct(values, mask, *, sigma=3.0):
    """Fill the unscanned pixels with a Gaussian-weighted mean of the scanned ones (normalised convolution).

    Scanned pixels keep their measured values. An unscanned pixel gets
    ``G * (values * mask) / G * mask`` with ``G`` a Gaussian of standard deviation ``sigma`` (pixels); where no
    scanned pixel lies within ``4 sigma`` it takes the value of the nearest pixel that got one.

    Parameters
    ----------
    values : ndarray of shape (ny, nx)
        Measured values (those outside ``mask`` are ignored).
    mask : ndarray of bool, shape (ny, nx)
        True where the beam has been.
    sigma : float > 0, pixels, default 3

    Returns
    -------
    ndarray of shape (ny, nx)
        The reconstruction; all zeros when nothing has been scanned.

    Examples
    --------
    >>> mask = np.zeros((1, 5), bool); mask[0, 0] = mask[0, 4] = True
    >>> np.round(reconstruct(np.array([[1.0, 9, 9, 9, 3]]), mask), 2).tolist()
    [[1.0, 1.78, 2.0, 2.22, 3.0]]
    """
    values, mask = np.asarray(values, dtype=float), np.asarray(mask, dtype=bool)
    if values.shape != mask.shape:
        raise ValueError(f"values has shape {values.shape} but mask has {mask.shape}; they should match.")
    if not sigma > 0:
        raise ValueError(f"sigma={sigma!r} should be > 0 (pixels).")
    if not mask.any():
        return np.zeros_like(values)
    weight = ndimage.gaussian_filter(mask.astype(float), sigma, mode="constant")
    total = ndimage.gaussian_filter(np.where(mask, values, 0.0), sigma, mode="constant")
    reached = weight > 1e-6
    filled = np.where(reached, total / np.where(reached, weight, 1.0), 0.0)
    if not reached.all():
        _, (iy, ix) = ndimage.distance_transform_edt(~reached, return_indices=True)
        filled = filled[iy, ix]
    return np.where(mask, values, filled)


def reconstruction_error(reconstruction, clean):
    """Mean squared error of a reconstruction against the noise-free image (squared image units).

    Examples
    --------
    >>> reconstruction_error(np.zeros((2, 2)), np.ones((2, 2)))
    1.0
    """
    return float(np.mean((np.asarray(reconstruction, dtype=float) - np.asarray(clean, dtype=float)) ** 2))


class ScanEnv(gym.Env):
    """Choose the next patch to scan under a dose budget; reward: the reduction of the reconstruction error.

    Parameters
    ----------
    clean, noisy : ndarray of shape (n_images, size, size)
        The images an episode can be played on (:func:`make_scan_images`); ``reset`` draws one at random, or
        takes ``options={"index": i}``.
    patch : int, default 6
        Side of a patch in pixels; it must divide ``size``.
    dose_fraction : float in (0, 1], default 0.25
        Fraction of the patches the budget allows; an episode has ``n_steps = round(dose_fraction * n_patches)``
        steps (at least 1).

    Observation
    -----------
    ndarray of shape (2, size, size), float32: channel 0 the measured values (0 where not scanned; clipped to
    ``[-OBS_LIMIT, OBS_LIMIT]``), channel 1 the scanned mask (1 where scanned).

    Action
    ------
    int, a patch in raster order (row by row). Scanning a patch again spends dose and gains nothing: reward 0.

    Info
    ----
    ``error`` (current reconstruction error), ``action_mask`` (bool, shape (n_patches,), True for patches not yet
    scanned), ``step`` (steps taken), ``n_steps``, ``index`` (the image).

    Examples
    --------
    >>> clean, noisy = make_scan_images(3, size=24, seed=0)
    >>> env = ScanEnv(clean, noisy, patch=6, dose_fraction=0.5)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, int(env.action_space.n), info["n_steps"]
    ((2, 24, 24), 16, 8)
    >>> total = 0.0
    >>> for a in range(8):
    ...     obs, reward, terminated, truncated, info = env.step(2 * a)
    ...     total += reward
    >>> terminated, bool(np.isclose(total, 1 - info["error"] / env.initial_error))
    (True, True)
    """

    metadata = {"render_modes": []}

    def __init__(self, clean, noisy, *, patch=6, dose_fraction=0.25):
        clean, noisy = np.asarray(clean, dtype=np.float32), np.asarray(noisy, dtype=np.float32)
        if clean.ndim != 3 or clean.shape != noisy.shape or clean.shape[1] != clean.shape[2]:
            raise ValueError(f"clean and noisy should be stacks of square images of the same shape (n, size, size); "
                             f"got {clean.shape} and {noisy.shape}.")
        size = clean.shape[1]
        if isinstance(patch, bool) or not isinstance(patch, (int, np.integer)) or patch < 1 or size % patch:
            raise ValueError(f"patch={patch!r} should be a positive integer that divides the image size {size}.")
        if not 0.0 < dose_fraction <= 1.0:
            raise ValueError(f"dose_fraction={dose_fraction!r} should be in (0, 1].")
        self.clean, self.noisy, self.patch, self.size = clean, noisy, int(patch), size
        self.grid = size // self.patch
        self.n_patches = self.grid**2
        self.dose_fraction = float(dose_fraction)
        self.n_steps = max(1, int(round(self.dose_fraction * self.n_patches)))
        self.observation_space = gym.spaces.Box(-OBS_LIMIT, OBS_LIMIT, shape=(2, size, size), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(self.n_patches)
        self.index = 0
        self._start(0)

    def patch_slices(self, action):
        """(rows, columns) slices of patch ``action``."""
        r, c = divmod(int(action), self.grid)
        p = self.patch
        return slice(r * p, (r + 1) * p), slice(c * p, (c + 1) * p)

    def _start(self, index):
        self.index = int(index)
        self.mask = np.zeros((self.size, self.size), dtype=bool)
        self.scanned = np.zeros(self.n_patches, dtype=bool)
        self.steps = 0
        self.initial_error = reconstruction_error(np.zeros((self.size, self.size)), self.clean[self.index])
        self.error = self.initial_error

    def observation(self):
        """The current observation (see the class docstring)."""
        values = np.clip(np.where(self.mask, self.noisy[self.index], 0.0), -OBS_LIMIT, OBS_LIMIT)
        return np.stack([values, self.mask]).astype(np.float32)

    def _info(self):
        return {"error": self.error, "action_mask": ~self.scanned, "step": self.steps, "n_steps": self.n_steps,
                "index": self.index}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        index = (options or {}).get("index")
        if index is None:
            index = int(self.np_random.integers(len(self.clean)))
        elif not 0 <= int(index) < len(self.clean):
            raise ValueError(f"options['index']={index!r} should be an image index from 0 to {len(self.clean) - 1}.")
        self._start(index)
        return self.observation(), self._info()

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action={action!r} should be a patch number from 0 to {self.n_patches - 1}.")
        if self.steps >= self.n_steps:
            raise RuntimeError("the dose budget of this episode is spent; call reset() to start a new one.")
        action = int(action)
        reward = 0.0
        if not self.scanned[action]:
            self.scanned[action] = True
            self.mask[self.patch_slices(action)] = True
            error = reconstruction_error(reconstruct(self.noisy[self.index], self.mask), self.clean[self.index])
            reward = (self.error - error) / self.initial_error
            self.error = error
        self.steps += 1
        return self.observation(), float(reward), self.steps >= self.n_steps, False, self._info()

    def reconstruction(self):
        """The reconstructor's image from what has been scanned so far, shape (size, size)."""
        return reconstruct(self.noisy[self.index], self.mask)
