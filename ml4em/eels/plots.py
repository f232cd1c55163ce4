"""Figures of the replica method: spectra with ZLP bands, subtracted spectra, band-gap fits.

Every function draws on a given matplotlib Axes, labels its axes with units
and returns the Axes, so that tutorials, explorers and ``ml4em zlp`` share
them.

Used in: tutorials/07_eels_replicas, tutorials/08_band_gap,
tutorials/09_spectral_image and ``ml4em zlp``.
"""

import numpy as np

from ..plotting import color, style
from .bandgap import band_gap_model

__all__ = ["plot_zlp_band", "plot_subtracted", "plot_band_gap_fit", "zlp_figure"]

_E_LABEL = "energy loss (eV)"
_I_LABEL = "intensity (counts)"


def _regions(ax, dE1, dE2):
    if dE1 is not None:
        ax.axvline(dE1, color="0.4", linestyle=":", linewidth=1)
        ax.annotate("dE1", (dE1, 1.0), xycoords=("data", "axes fraction"), ha="right", va="top", fontsize=9)
    if dE2 is not None:
        ax.axvline(dE2, color="0.4", linestyle="--", linewidth=1)
        ax.annotate("dE2", (dE2, 1.0), xycoords=("data", "axes fraction"), ha="right", va="top", fontsize=9)


def plot_zlp_band(ax, energy_loss, spectrum, zlp_band, *, dE1=None, dE2=None, truth=None, xlim=None, log=True,
                  label="data"):
    """Measured spectrum, the ZLP model's median and 68% band, and optionally the true ZLP.

    Parameters
    ----------
    ax : matplotlib Axes
    energy_loss : ndarray of shape (n_channels,), eV
    spectrum : ndarray of shape (n_channels,), counts
    zlp_band : ml4em.eels.Band
        Of the ZLP model on ``energy_loss``.
    dE1, dE2 : float, eV, optional
        Drawn as vertical lines.
    truth : ndarray of shape (n_channels,), counts, optional
        The true ZLP (synthetic data).
    xlim : (float, float), eV, optional
    log : bool, default True
        Logarithmic intensity axis.
    """
    e = np.asarray(energy_loss, dtype=float)
    ax.plot(e, spectrum, label=label, **style(0))
    ax.fill_between(e, zlp_band.low, zlp_band.high, color=color(1), alpha=0.35, linewidth=0,
                    label=f"ZLP model, {round(100 * zlp_band.cl)}% band")
    ax.plot(e, zlp_band.median, label="ZLP model, median", **style(1))
    if truth is not None:
        ax.plot(e, truth, label="true ZLP", color=color(7), linestyle=":")
    _regions(ax, dE1, dE2)
    if log:
        positive = np.asarray(spectrum)[np.asarray(spectrum) > 0]
        ax.set_yscale("log")
        if positive.size:
            ax.set_ylim(max(positive.min(), positive.max() * 1e-6), positive.max() * 3)
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_xlabel(_E_LABEL)
    ax.set_ylabel(_I_LABEL)
    ax.legend(fontsize=9)
    return ax


def plot_subtracted(ax, energy_loss, inelastic_band, *, truth=None, xlim=None, dE1=None, dE2=None):
    """Median and 68% band of the ZLP-subtracted spectrum (and optionally the true inelastic signal)."""
    e = np.asarray(energy_loss, dtype=float)
    ax.fill_between(e, inelastic_band.low, inelastic_band.high, color=color(2), alpha=0.35, linewidth=0,
                    label=f"subtracted, {round(100 * inelastic_band.cl)}% band")
    ax.plot(e, inelastic_band.median, label="subtracted, median", **style(2))
    if truth is not None:
        ax.plot(e, truth, label="true inelastic signal", color=color(7), linestyle=":")
    _regions(ax, dE1, dE2)
    if xlim is not None:
        ax.set_xlim(*xlim)
        inside = (e >= xlim[0]) & (e <= xlim[1])
        if inside.any():
            top = float(np.max(inelastic_band.high[inside]))
            ax.set_ylim(-0.05 * top, 1.1 * top if top > 0 else 1.0)
    ax.set_xlabel(_E_LABEL)
    ax.set_ylabel("inelastic intensity (counts)")
    ax.legend(fontsize=9)
    return ax


def plot_band_gap_fit(ax, energy_loss, inelastic_band, fit, *, cl_text=True):
    """The subtracted spectrum in the fit window with the band-gap fit of the median replica parameters.

    Parameters
    ----------
    ax : matplotlib Axes
    energy_loss : ndarray of shape (n_channels,), eV
    inelastic_band : ml4em.eels.Band
    fit : ml4em.eels.bandgap.BandGapFit
        Per-replica fits (leading axis the replicas).
    """
    e = np.asarray(energy_loss, dtype=float)
    low, high = fit.window
    pad = 0.3 * (high - low)
    view = (e >= low - pad) & (e <= high + pad)
    ax.fill_between(e[view], inelastic_band.low[view], inelastic_band.high[view], color=color(2), alpha=0.35,
                    linewidth=0, label="subtracted, 68% band")
    ax.plot(e[view], inelastic_band.median[view], label="subtracted, median", **style(2))
    summary = fit.summary()
    gap, b = summary["band_gap"], summary["exponent"]
    amplitude = float(np.median(fit.amplitude))
    inside = (e >= low) & (e <= high)
    ax.plot(e[inside], band_gap_model(e[inside], amplitude, float(gap.median), float(b.median)),
            label="fit A (E - E_BG)^b", color=color(5), linestyle="-", linewidth=2)
    ax.axvspan(float(gap.low), float(gap.high), color=color(3), alpha=0.15, linewidth=0)
    ax.axvline(float(gap.median), color=color(3), linestyle=":", linewidth=1)
    ax.axvspan(low, high, color="0.9", zorder=0, linewidth=0, label="fit window")
    if cl_text:
        ax.set_title(f"E_BG = {gap.median:.2f} (+{gap.high - gap.median:.2f}, -{gap.median - gap.low:.2f}) eV, "
                     f"b = {b.median:.2f} (+{b.high - b.median:.2f}, -{b.median - b.low:.2f})", fontsize=10)
    ax.set_xlabel(_E_LABEL)
    ax.set_ylabel("inelastic intensity (counts)")
    ax.legend(fontsize=9)
    return ax


def zlp_figure(energy_loss, spectrum, zlp_band, inelastic_band, fit, *, dE1, dE2, title=None):
    """The three-panel summary figure of ``ml4em zlp``: data with ZLP band, subtracted band, band-gap fit.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    e = np.asarray(energy_loss, dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    right = min(float(e[-1]), 1.5 * dE2)
    plot_zlp_band(axes[0], e, spectrum, zlp_band, dE1=dE1, dE2=dE2, xlim=(max(float(e[0]), -2 * dE1), right))
    axes[0].set_title("data and ZLP model", fontsize=10)
    plot_subtracted(axes[1], e, inelastic_band, dE1=dE1, dE2=dE2, xlim=(0.0, right))
    axes[1].set_title("ZLP-subtracted spectrum", fontsize=10)
    plot_band_gap_fit(axes[2], e, inelastic_band, fit)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
