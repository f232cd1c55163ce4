"""Explorers: static fallback for headless runs, live sliders that redraw."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ml4em.widgets import Param, explore, is_live


def draw(ax, slope, offset):
    x = np.linspace(0, 1, 5)
    ax.plot(x, slope * x + offset)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")


PARAMS = {"slope": Param([1, 2, 3, 4], default=2, label="slope (m/m)"), "offset": Param([0.0, 0.5], label="offset (m)")}


def test_static_fallback_draws_one_panel_per_value():
    fig = explore(draw, PARAMS, title="lines", live=False)
    assert len(fig.axes) == 3  # first, middle, last slope
    assert [ax.get_title() for ax in fig.axes] == ["slope (m/m) = 1", "slope (m/m) = 3", "slope (m/m) = 4"]
    assert all(ax.get_xlabel() == "x (m)" for ax in fig.axes)
    # the other parameters take their defaults
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata()[0], 0.5)
    assert "static view" in fig._suptitle.get_text()


def test_headless_is_static(monkeypatch):
    monkeypatch.setenv("ML4EM_STATIC_WIDGETS", "1")
    assert not is_live()
    monkeypatch.setenv("ML4EM_STATIC_WIDGETS", "0")
    assert not is_live()  # no IPython kernel in pytest


def test_live_explorer_redraws(monkeypatch):
    calls = []

    def spy(ax, slope, offset):
        calls.append((slope, offset))
        draw(ax, slope, offset)

    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    box = explore(spy, PARAMS, title="lines", live=True)
    sliders = [w for w in box.children if hasattr(w, "options")]
    assert [s.description for s in sliders] == ["slope (m/m)", "offset (m)"]
    assert calls[-1] == (2, 0.5)  # drawn once with the defaults
    sliders[0].value = 4
    assert calls[-1] == (4, 0.5)  # moving the slider redraws


def test_param_validation():
    with pytest.raises(ValueError, match="empty"):
        Param([])
    with pytest.raises(ValueError, match="default=7 is not one of"):
        Param([1, 2], default=7)
    with pytest.raises(TypeError, match=r"params\['a'\] should be an ml4em.widgets.Param"):
        explore(draw, {"a": [1, 2]})
    with pytest.raises(ValueError, match="params is empty"):
        explore(draw, {})
