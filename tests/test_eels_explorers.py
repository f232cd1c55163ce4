"""ml4em.eels.explorers and ml4em.eels.plots draw labelled figures (static mode, as in headless runs)."""

import numpy as np

from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels import ZLPEnsemble, band, make_zlp_series
from ml4em.eels import explorers, plots
from ml4em.eels.bandgap import band_gap_model, fit_band_gap


def _labelled(fig):
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert "(eV)" in ax.get_xlabel() or "(nm)" in ax.get_xlabel() or "(pixel)" in ax.get_xlabel()
        assert "(" in ax.get_ylabel()


def test_condition_explorer_static():
    series = make_zlp_series([1.0, 2.0], n_spectra=2, energy_loss=np.round(np.arange(-1.0, 2.0, 0.05), 10), seed=0)
    z = ZLPEnsemble(3, dE1=0.6, dE2=1.5, max_iter=10, n_jobs=1, progress=False, seed=0)
    z.fit(series.energy_loss, series.spectra, conditions=series.conditions)
    fig = explorers.condition_explorer(z, series.energy_loss, [0.5, 1.5, 4.0], training=[1.0, 2.0])
    assert len(fig.axes) == 3
    _labelled(fig)


def test_window_explorer_static():
    e = np.linspace(0, 4, 401)
    rng = np.random.default_rng(0)
    inel = band_gap_model(e, 300.0, 1.6, 1.5) + rng.normal(0, 3, (5, e.size))
    fig = explorers.window_explorer(e, inel, lows=[1.0, 1.2], highs=[2.5, 3.0, 3.5])
    assert len(fig.axes) == 3
    _labelled(fig)


def test_cluster_explorer_static():
    t = np.repeat(np.linspace(0, 1.5, 8)[None], 8, axis=0)
    fig = explorers.cluster_explorer(t, [2, 3, 4])
    _labelled(fig)


def test_zlp_figure():
    e = energy_axis(-2.0, 0.025, 641)
    s = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=0.2, zlp_tail=0.005, gap_strength=1000.0, seed=0)
    z = ZLPEnsemble(4, dE1=1.0, dE2=6.0, max_iter=30, n_jobs=1, progress=False, seed=0).fit(e, s.counts)
    mean = s.counts.mean(0)
    inel = mean - np.minimum(z.predict(e), mean)
    fig = plots.zlp_figure(e, mean, z.band(e), band(inel), fit_band_gap(e, inel, window=(0.8, 2.5)), dE1=1.0,
                           dE2=6.0, title="test")
    assert len(fig.axes) == 3
    _labelled(fig)
