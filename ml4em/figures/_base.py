"""The lecture figure: a matplotlib figure rendered once, with its alt text and caption.

Every figure of the lectures is a :class:`LectureFigure`. It is drawn in the
course style (Okabe-Ito palette, line styles that differ in greyscale), checked
when it is made (labelled axes with units, palette colours, perceptually uniform
colour maps) and shown in notebooks, on the course website and in the slides as
an ``<img>`` that carries its alt text.

Used in: lectures/part1_ml_crash_course.ipynb, lectures/part2_ml_for_em.ipynb.
"""

import base64
import html
import io
import re
from contextlib import contextmanager

import numpy as np

from ..plotting import PALETTE

__all__ = ["LectureFigure", "figure_problems", "new_figure", "UNITLESS_LABELS", "ALLOWED_CMAPS"]

#: Axis labels that need no unit in parentheses (counts and indices).
UNITLESS_LABELS = ("epoch", "step", "generation", "iteration", "layer", "degree", "number of", "hidden units",
                   "training examples", "fold", "cluster", "pixel")
#: Colour maps allowed for images: perceptually uniform, readable in greyscale.
ALLOWED_CMAPS = ("viridis", "cividis", "magma", "inferno", "gray", "Greys", "gray_r", "Greys_r", "viridis_r",
                 "cividis_r")
_UNIT = re.compile(r"\(.+\)|\[.+\]")
_NEUTRAL = {"#000000", "#ffffff"}


def _is_neutral(rgb):
    r, g, b = (float(c) for c in rgb[:3])
    return abs(r - g) < 1e-6 and abs(g - b) < 1e-6  # black, white and greys


def _hex(rgba):
    from matplotlib.colors import to_hex

    return to_hex(rgba, keep_alpha=False).lower()


def _label_ok(label):
    label = label.strip()
    return bool(label) and (bool(_UNIT.search(label)) or any(label.lower().startswith(w) for w in UNITLESS_LABELS))


def figure_problems(fig):
    """List what breaks the course's figure rules in ``fig`` (empty when it is fine).

    Rules: every axes that shows its axis lines has an x and a y label with a
    unit in parentheses (or a count such as "epoch"); colour bars have a label
    with a unit; lines and markers use colours of :data:`ml4em.plotting.PALETTE`
    or greys; images use a colour map of :data:`ALLOWED_CMAPS` or a list of
    palette colours.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    list of str
    """
    from matplotlib.colors import ListedColormap, to_rgba
    from matplotlib.image import AxesImage

    palette = {c.lower() for c in PALETTE} | _NEUTRAL
    problems = []
    for i, ax in enumerate(fig.axes):
        where = f"axes {i} ({ax.get_title() or 'untitled'})"
        cbar = getattr(ax, "_colorbar", None)
        if cbar is not None:
            label = ax.get_ylabel() if cbar.orientation == "vertical" else ax.get_xlabel()
            if not _label_ok(label):
                problems.append(f"{where}: colour bar label {label!r} has no unit in parentheses")
            continue
        if not ax.axison:
            continue
        for name, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            axis = ax.xaxis if name == "x" else ax.yaxis
            if not axis.get_visible() or not axis.get_ticklocs().size:
                continue
            if not _label_ok(label):
                problems.append(f"{where}: {name} label {label!r} has no unit in parentheses")
        for line in ax.get_lines():
            c = _hex(line.get_color())
            if c not in palette and not _is_neutral(to_rgba(c)):
                problems.append(f"{where}: line colour {c} is not from ml4em.plotting.PALETTE")
        for coll in ax.collections:
            for rgba in np.atleast_2d(coll.get_facecolor()):
                if rgba.size and rgba[3] > 0 and _hex(rgba) not in palette and not _is_neutral(rgba) \
                        and coll.get_array() is None:
                    problems.append(f"{where}: marker colour {_hex(rgba)} is not from ml4em.plotting.PALETTE")
                    break
        for im in ax.get_images() + [c for c in ax.collections if c.get_array() is not None]:
            cmap = im.get_cmap()
            if isinstance(im, AxesImage) and im.get_array() is not None and np.ndim(im.get_array()) == 3:
                continue  # an RGB picture, drawn from data (no colour map)
            if cmap.name in ALLOWED_CMAPS:
                continue
            if isinstance(cmap, ListedColormap) and all(_hex(c) in palette for c in cmap.colors):
                continue
            problems.append(f"{where}: colour map {cmap.name!r} is not perceptually uniform; use one of "
                            f"{ALLOWED_CMAPS} or palette colours")
    return problems


@contextmanager
def _course_style():
    import matplotlib as mpl

    from ..plotting import use_style

    with mpl.rc_context():
        use_style()
        mpl.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 11})
        yield


def new_figure(ncols=1, nrows=1, *, size=(9.6, 3.8), **subplot_kw):
    """A matplotlib Figure (not registered with pyplot) and its axes, in the course style.

    Parameters
    ----------
    ncols, nrows : int
    size : (float, float), inches
        The default fits a 1280 x 720 slide with a title above it.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes
    """
    from matplotlib.figure import Figure

    with _course_style():
        fig = Figure(figsize=size, layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, subplot_kw=subplot_kw or None)
    return fig, axes


class LectureFigure:
    """A lecture figure: the rendered image, its alt text and its caption.

    The figure is checked with :func:`figure_problems` and rendered to PNG
    once, in the course style. In a notebook it displays as an ``<img>`` with
    the alt text (and as a plain PNG with ``alt`` metadata where HTML is not
    shown).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    alt : str
        What the figure shows, for readers who cannot see it (at least 40 characters).
    caption : str, optional
        One or two sentences shown under the figure.
    data : dict, optional
        The numbers the figure shows (for tests and for the text of the lecture).

    Raises
    ------
    ValueError
        When the alt text is missing or too short, or the figure breaks a rule of :func:`figure_problems`.
    """

    def __init__(self, figure, alt, caption=None, *, data=None):
        if not isinstance(alt, str) or len(alt.strip()) < 40:
            raise ValueError(f"alt={alt!r} should describe the figure in at least 40 characters (what is plotted "
                             "against what, and what it shows).")
        problems = figure_problems(figure)
        if problems:
            raise ValueError("the figure breaks the course's figure rules: " + "; ".join(problems))
        self.figure = figure
        self.alt = " ".join(alt.split())
        self.caption = " ".join(caption.split()) if caption else ""
        self.data = dict(data or {})
        buf = io.BytesIO()
        with _course_style():
            figure.savefig(buf, format="png", dpi=100)
        self.png = buf.getvalue()

    @property
    def size_px(self):
        """(width, height) of the rendered PNG in pixels."""
        w, h = self.figure.get_size_inches() * 100
        return int(round(w)), int(round(h))

    def html(self):
        """The figure as an HTML ``<figure>`` with an embedded PNG, its alt text and caption."""
        src = base64.b64encode(self.png).decode("ascii")
        w, _ = self.size_px
        cap = f"<figcaption>{html.escape(self.caption)}</figcaption>" if self.caption else ""
        return (f'<figure class="ml4em-figure" style="margin:0"><img src="data:image/png;base64,{src}" '
                f'alt="{html.escape(self.alt, quote=True)}" style="max-width:100%;width:{w}px"/>{cap}</figure>')

    def _repr_html_(self):
        return self.html()

    def _repr_png_(self):
        return self.png, {"alt": self.alt}

    def __repr__(self):
        w, h = self.size_px
        return f"<LectureFigure {w}x{h} px: {self.alt[:60]}...>"

    def save(self, path):
        """Write the PNG to ``path``."""
        with open(path, "wb") as fh:
            fh.write(self.png)
