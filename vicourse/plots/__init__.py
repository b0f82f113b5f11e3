"""Figures for the chapters: plain matplotlib, each function takes `ax=None` and returns the Axes.

Nothing here computes a result the text relies on; the chapters assert those. Tensors are moved to
the CPU here, so the models and data may live on any device.
Chapters 1–8 (book/*.ipynb), by module: densities.py (chapters 1–3), motion.py (3), landscapes.py
(4), samples.py (6–8). Live versions of some figures are in widgets.py.
"""

from .densities import (
    bound_summary,
    plot_marginal_1d,
    plot_marginal_2d,
    plot_posterior_and_q,
    plot_trace,
    point_q,
)
from .landscapes import plot_gaussians_2d, plot_landscape
from .motion import animate_q, animation_html
from .samples import plot_gradient_spread, show_images

__all__ = [
    "animate_q",
    "animation_html",
    "bound_summary",
    "plot_gaussians_2d",
    "plot_gradient_spread",
    "plot_landscape",
    "plot_marginal_1d",
    "plot_marginal_2d",
    "plot_posterior_and_q",
    "plot_trace",
    "point_q",
    "show_images",
]
