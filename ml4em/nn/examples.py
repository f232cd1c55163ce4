"""Data and figures for tutorial 02: noisy spectra with or without a peak, and the output of one neuron.
"""

import numpy as np

from .functions import activation

__all__ = ["make_peak_spectra", "plot_neuron"]


def make_peak_spectra(n_samples=2000, *, n_channels=64, peak_height=0.8, peak_width=2.0, seed=None):
    """Signal or noise? Noisy spectra, half of them with a peak at a random position.

    Every spectrum is a smooth background of random level and slope with
    Poisson noise; in class 1 a Gaussian peak of ``peak_height`` times the
    background level sits at a random channel. Spectra are divided by their
    mean, so the total intensity tells nothing: a linear classifier does
    poorly, a network that learns local features does well.

    Parameters
    ----------
    n_samples : int, default 2000
    n_channels : int, default 64
    peak_height : float, default 0.8
        Peak height relative to the background level.
    peak_width : float, channels, default 2
        Standard deviation of the Gaussian peak.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    x : ndarray of shape (n_samples, n_channels), float32
        Spectra divided by their mean (dimensionless).
    y : ndarray of shape (n_samples,), float32
        1 where a peak is present, else 0.

    Examples
    --------
    >>> x, y = make_peak_spectra(10, seed=0)
    >>> x.shape, sorted(set(y.tolist())) == [0.0, 1.0]
    ((10, 64), True)
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples={n_samples!r} should be an integer >= 2.")
    if isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer)) or n_channels < 16:
        raise ValueError(f"n_channels={n_channels!r} should be an integer >= 16.")
    if not (peak_height > 0 and peak_width > 0):
        raise ValueError(f"peak_height={peak_height!r} and peak_width={peak_width!r} should be > 0.")
    rng = np.random.default_rng(seed)
    ch = np.arange(n_channels)
    level = rng.uniform(20.0, 60.0, (n_samples, 1))
    slope = rng.uniform(-0.5, 0.5, (n_samples, 1))
    y = rng.permutation(np.arange(n_samples) % 2)
    pos = rng.uniform(8.0, n_channels - 8.0, (n_samples, 1))
    mean = level * (np.exp(slope * ch / n_channels) + y[:, None] * peak_height
                    * np.exp(-0.5 * ((ch - pos) / peak_width) ** 2))
    counts = rng.poisson(mean).astype(float)
    x = counts / np.maximum(counts.mean(axis=1, keepdims=True), 1e-12)
    return x.astype(np.float32), y.astype(np.float32)


def plot_neuron(ax, weight=1.0, bias=0.0, activation_name="sigmoid", x_range=(-5.0, 5.0)):
    """Draw one neuron's output ``a = sigma(weight * x + bias)`` against its input x.

    Parameters
    ----------
    ax : matplotlib Axes
    weight, bias : float
        theta and theta_0 of the neuron.
    activation_name : str
        A key of :data:`ACTIVATIONS`.
    x_range : (float, float)

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ..plotting import style

    f, df = activation(activation_name)
    x = np.linspace(x_range[0], x_range[1], 400)
    z = weight * x + bias
    ax.plot(x, f(z), label="a = σ(θx + θ₀)", **style(0))
    ax.plot(x, weight * df(z), label="da/dx", **style(1))
    if weight != 0:
        ax.axvline(-bias / weight, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("input x (dimensionless)")
    ax.set_ylabel("output a (dimensionless)")
    ax.set_title(f"{activation_name}: θ = {weight:g}, θ₀ = {bias:g}", fontsize=10)
    ax.legend(fontsize=8)
    return ax
