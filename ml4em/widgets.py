"""Interactive explorers: move a parameter, see the effect.

Every tutorial has at least one. An explorer is a plotting function
``plot(ax, **params)`` plus the parameters a learner may move. In a live
notebook it shows sliders (ipywidgets); when ``ML4EM_STATIC_WIDGETS=1`` is
set, outside IPython, or without ipywidgets, it draws a static row of panels
for a few values of the first parameter, so that headless runs, tests and the
course website still show the effect.

Used in: every tutorial (for example tutorials/01_regression).
"""

from dataclasses import dataclass, field


from ._config import static_widgets

__all__ = ["Param", "explore", "is_live"]


@dataclass
class Param:
    """A parameter of an explorer.

    Parameters
    ----------
    values : sequence
        The values the learner can choose from (numbers or strings), in order.
    default : object, optional
        The value shown first; default the middle of ``values``.
    label : str, optional
        Slider label, with units where the parameter has them ("dE1 (eV)").
    static : sequence, optional
        Values drawn as panels in static mode; default first, middle, last.

    Examples
    --------
    >>> p = Param([1, 2, 3, 4, 5], label="degree")
    >>> p.default, p.static_values()
    (3, [1, 3, 5])
    """

    values: list
    default: object = None
    label: str = ""
    static: list = field(default=None)

    def __post_init__(self):
        self.values = list(self.values)
        if not self.values:
            raise ValueError("Param(values=[]) is empty; give at least one value to choose from.")
        if self.default is None:
            self.default = self.values[len(self.values) // 2]
        if self.default not in self.values:
            raise ValueError(f"default={self.default!r} is not one of values={self.values!r}.")

    def static_values(self):
        """Values to draw in static mode."""
        if self.static is not None:
            return list(self.static)
        picks = [self.values[0], self.values[len(self.values) // 2], self.values[-1]]
        return list(dict.fromkeys(picks))  # keep order, drop repeats


def is_live():
    """True when sliders can be shown: ipywidgets importable, inside an IPython kernel, not forced static."""
    if static_widgets():
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def explore(plot, params, *, title=None, live=None, panel_size=(4.0, 3.2)):
    """Show an explorer of ``plot`` over ``params``.

    Parameters
    ----------
    plot : callable
        ``plot(ax, **values)`` draws one state on a matplotlib Axes, with
        labelled axes.
    params : dict of str to Param
        The parameters, in the order of the sliders; the first one is varied
        across the panels in static mode.
    title : str, optional
        Shown above the explorer.
    live : bool, optional
        Force live (True) or static (False); default :func:`is_live`.
    panel_size : (float, float)
        Size of one static panel in inches.

    Returns
    -------
    ipywidgets.Widget or matplotlib.figure.Figure
        The live widget box, or the static figure.

    Examples
    --------
    >>> import numpy as np
    >>> def draw(ax, slope):
    ...     x = np.linspace(0, 1, 5)
    ...     ax.plot(x, slope * x)
    ...     ax.set_xlabel("x (m)"); ax.set_ylabel("y (m)")
    >>> fig = explore(draw, {"slope": Param([1, 2, 3], label="slope")}, live=False)
    >>> len(fig.axes)
    3
    """
    if not params:
        raise ValueError("params is empty; give at least one Param to explore.")
    for name, p in params.items():
        if not isinstance(p, Param):
            raise TypeError(f"params[{name!r}] should be an ml4em.widgets.Param; got {type(p).__name__}.")
    if live is None:
        live = is_live()
    return _live(plot, params, title) if live else _static(plot, params, title, panel_size)


def _static(plot, params, title, panel_size):
    import matplotlib.pyplot as plt

    names = list(params)
    first = names[0]
    values = params[first].static_values()
    fig, axes = plt.subplots(1, len(values), figsize=(panel_size[0] * len(values), panel_size[1]),
                             squeeze=False, layout="constrained")
    defaults = {name: p.default for name, p in params.items()}
    for ax, value in zip(axes[0], values):
        plot(ax, **{**defaults, first: value})
        label = params[first].label or first
        ax.set_title(f"{label} = {_fmt(value)}", fontsize=10)
    others = ", ".join(f"{params[n].label or n} = {_fmt(defaults[n])}" for n in names[1:])
    fig.suptitle((title + "\n" if title else "") + "(static view" + (f"; {others}" if others else "") +
                 "; run the notebook live to move the sliders)", fontsize=10)
    return fig


def _live(plot, params, title):
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    controls = {}
    for name, p in params.items():
        controls[name] = widgets.SelectionSlider(
            options=[(_fmt(v), v) for v in p.values], value=p.default, description=p.label or name,
            continuous_update=False, style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"))

    def update(**values):
        fig, ax = plt.subplots()
        plot(ax, **values)
        plt.show()
        plt.close(fig)

    out = widgets.interactive_output(update, controls)
    children = ([widgets.HTML(f"<b>{title}</b>")] if title else []) + list(controls.values()) + [out]
    box = widgets.VBox(children)
    display(box)
    return box
