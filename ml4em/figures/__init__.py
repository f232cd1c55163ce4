"""Every figure of the two lectures, made by code (no pictures copied from anywhere).

Each function returns a :class:`LectureFigure`: a matplotlib figure in the
course style, checked for labelled axes with units and colour-blind-safe
colours, rendered with its alt text and caption. ``data`` holds the numbers
it shows, which the tests check against known answers.

Used in: lectures/part1_ml_crash_course.ipynb and lectures/part2_ml_for_em.ipynb.
"""

from ._base import ALLOWED_CMAPS, LectureFigure, figure_problems, new_figure

__all__ = ["LectureFigure", "figure_problems", "new_figure", "ALLOWED_CMAPS"]
