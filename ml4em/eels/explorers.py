"""Interactive explorers of the EELS tutorials (sliders live, static panels headless).

Each explorer is a plotting function ``plot(ax, **values)`` handed to
:func:`ml4em.widgets.explore`; the expensive part (training) is done before,
so moving a slider only evaluates or refits.

Used in: tutorials/07_eels_replicas (:func:`condition_explorer`),
tutorials/08_band_gap (:func:`window_explorer`) and
tutorials/09_spectral_image (:func:`cluster_explorer`).
"""

import numpy as np

from ..plotting import PALETTE, color, style
from ..widgets import Param, explore
from .bandgap import band_gap_model, fit_band_gap
from .extrapolate import zlp_series_truth
from .predict import band

__all__ = ["plot_condition_band", "condition_explorer", "plot_window_fit", "window_explorer", "plot_clusters",
           "cluster_explorer"]


def plot_condition_band(ax, ensemble, energy_loss, value, *, kind="exposure", training=(), truth_kwargs=None,
                        xlim=None):
    """ZLP band of ``ensemble`` at condition ``value`` with the true ZLP of that condition (log scale)."""
    e = np.asarray(energy_loss, dtype=float)
    b = ensemble.band(e, conditions=[value])
    truth = zlp_series_truth(e, [value], kind=kind, **(truth_kwargs or {}))[0]
    ax.fill_between(e, b.low, b.high, color=color(1), alpha=0.35, linewidth=0, label="ZLP model, 68% band")
    ax.plot(e, b.median, label="ZLP model, median", **style(1))
    ax.plot(e, truth, label="true ZLP", color=color(7), linestyle=":")
    ax.set_yscale("log")
    ax.set_ylim(max(truth.max() * 1e-4, 1.0), truth.max() * 3)
    if xlim is not None:
        ax.set_xlim(*xlim)
    inside = len(training) and min(training) <= value <= max(training)
    ax.set_title(f"{'interpolation' if inside else 'extrapolation'}: {value:g} "
                 f"({'within' if inside else 'outside'} the training range)", fontsize=9)
    ax.set_xlabel("energy loss (eV)")
    ax.set_ylabel("intensity (counts)")
    ax.legend(fontsize=8)
    return ax


def condition_explorer(ensemble, energy_loss, values, *, kind="exposure", training=(), label=None, xlim=None,
                       truth_kwargs=None):
    """Slider over the condition (exposure time or beam energy) at which the ZLP model is evaluated."""
    values = [float(v) for v in values]

    def plot(ax, value):
        plot_condition_band(ax, ensemble, energy_loss, value, kind=kind, training=training, xlim=xlim,
                            truth_kwargs=truth_kwargs)

    default = min(values, key=lambda v: abs(v - float(np.median(training)))) if len(training) else values[0]
    param = Param(values, default=default, label=label or kind, static=[values[0], default, values[-1]])
    return explore(plot, {"value": param}, title="ZLP model inside and outside the training conditions")


def plot_window_fit(ax, energy_loss, inelastic, low, high):
    """Refit the band gap of every replica in the window (low, high) and draw the fit and the result."""
    e = np.asarray(energy_loss, dtype=float)
    fit = fit_band_gap(e, inelastic, window=(low, high))
    s = fit.summary()
    gap, b = s["band_gap"], s["exponent"]
    ib = band(inelastic)
    view = (e >= low - 0.5) & (e <= high + 0.5)
    ax.fill_between(e[view], ib.low[view], ib.high[view], color=color(2), alpha=0.35, linewidth=0,
                    label="subtracted, 68% band")
    ax.plot(e[view], ib.median[view], label="subtracted, median", **style(2))
    inside = (e >= low) & (e <= high)
    ax.plot(e[inside], band_gap_model(e[inside], float(np.median(fit.amplitude)), float(gap.median),
                                      float(b.median)), color=color(5), linewidth=2, label="fit")
    ax.axvspan(low, high, color="0.9", zorder=0, linewidth=0)
    ax.axvspan(float(gap.low), float(gap.high), color=color(3), alpha=0.2, linewidth=0)
    ax.set_title(f"window {low:.2f}-{high:.2f} eV: E_BG = {gap.median:.2f} "
                 f"[{gap.low:.2f}, {gap.high:.2f}] eV, b = {b.median:.2f}", fontsize=9)
    ax.set_xlabel("energy loss (eV)")
    ax.set_ylabel("inelastic intensity (counts)")
    ax.legend(fontsize=8)
    return ax


def window_explorer(energy_loss, inelastic, lows, highs):
    """Sliders over the lower and upper edge of the band-gap fit window (eV)."""
    lows = [round(float(v), 3) for v in lows]
    highs = [round(float(v), 3) for v in highs]

    def plot(ax, high, low):
        plot_window_fit(ax, energy_loss, inelastic, low, high)

    return explore(plot, {"high": Param(highs, label="window end (eV)"), "low": Param(lows, label="window start (eV)")},
                   title="How the band gap depends on the fit window")


def plot_clusters(ax, thickness, n_clusters, *, extent=None, seed=0):
    """K-means clusters of the pixels by thickness (0 = thinnest), as a map."""
    from matplotlib.colors import ListedColormap

    from .image import cluster_by_thickness

    labels, centres = cluster_by_thickness(thickness, n_clusters, seed=seed)
    cmap = ListedColormap([PALETTE[i % len(PALETTE)] for i in range(n_clusters)])
    im = ax.imshow(labels, origin="lower", extent=extent, cmap=cmap, vmin=-0.5, vmax=n_clusters - 0.5,
                   interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, ticks=range(n_clusters))
    cbar.ax.set_yticklabels([f"{c:.2f}" for c in centres])
    cbar.set_label("cluster t/λ (dimensionless)")
    ax.set_xlabel("x (nm)" if extent is not None else "x (pixel)")
    ax.set_ylabel("y (nm)" if extent is not None else "y (pixel)")
    return ax


def cluster_explorer(thickness, ks, *, extent=None, seed=0):
    """Slider over the number of thickness clusters K."""
    ks = [int(k) for k in ks]

    def plot(ax, n_clusters):
        plot_clusters(ax, thickness, n_clusters, extent=extent, seed=seed)
        ax.set_title(f"K = {n_clusters} clusters", fontsize=9)

    return explore(plot, {"n_clusters": Param(ks, label="clusters K")}, title="Clustering the pixels by thickness")
