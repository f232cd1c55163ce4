"""Shared figure style: a colour-blind-safe palette, line styles that survive greyscale, labelled axes.

Used in: every tutorial and lecture.
"""

import numpy as np

__all__ = ["PALETTE", "LINESTYLES", "MARKERS", "use_style", "color", "style", "plot_loss_curves"]

#: Okabe & Ito's colour-blind-safe palette (Okabe and Ito, "Color Universal Design", 2008),
#: ordered so that neighbours also differ in lightness.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Line styles and markers cycled with the colours, so curves differ in greyscale too.
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def color(i):
    """Return the i-th colour of :data:`PALETTE` (cycling)."""
    return PALETTE[i % len(PALETTE)]


def style(i):
    """Return keyword arguments (colour and line style) for the i-th curve.

    Examples
    --------
    >>> style(1)["linestyle"]
    '--'
    """
    return {"color": color(i), "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def use_style():
    """Apply the course's matplotlib style (palette, line styles, readable fonts) globally.

    Call once at the top of a notebook. Returns nothing.
    """
    import matplotlib as mpl
    from cycler import cycler

    n = len(LINESTYLES)
    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=PALETTE[:n]) + cycler(linestyle=LINESTYLES),
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "font.size": 11,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.frameon": False,
        "image.cmap": "viridis",
    })


def plot_loss_curves(history, *, ax=None, log=True, ylabel="loss (dimensionless)", title=None):
    """Plot training and validation loss against epoch.

    Parameters
    ----------
    history : dict of str to sequence of float
        E.g. a Keras ``History.history`` (``{"loss": [...], "val_loss": [...]}``)
        or any dict of curves of equal length.
    ax : matplotlib Axes, optional
    log : bool, default True
        Logarithmic y axis.
    ylabel : str
        Label of the y axis, with units.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if not history:
        raise ValueError("history is empty; pass a dict such as {'loss': [...], 'val_loss': [...]}.")
    if ax is None:
        _, ax = plt.subplots()
    for i, (name, values) in enumerate(history.items()):
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, values.size + 1), values, label=name.replace("_", " "), **style(i))
    if log and all(np.all(np.asarray(v, dtype=float) > 0) for v in history.values()):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax
