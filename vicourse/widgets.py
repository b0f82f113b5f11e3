"""Live explorers for Jupyter and Colab: sliders over q's parameters redraw the figures of plots.py.

A static page runs no Python, so each chapter shows the matching static figure or animation too.
Works with ipywidgets 7.7 (Colab) and 8.x; ipywidgets is imported only when an explorer is built.
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb).
"""
from __future__ import annotations

import torch


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("vicourse.widgets needs ipywidgets; install it with: pip install 'ipywidgets>=7.6,<9'") from error
    return ipywidgets


def explore_q(model, x: torch.Tensor, *, loc: float = 0.0, scale: float = 1.0, z_range=(-3.0, 3.0)):
    """Sliders for μ and σ of q(z) = N(μ, σ²) against the exact posterior of one datapoint.

    The figure's title shows log p(x), the ELBO and the gap; they update as the sliders move. The last
    numbers shown are also kept in the returned widget's `summary` dict.

    Shapes: x (1, D), 1-D latent.   Returns: an ipywidgets.interactive (display it, or leave it last in a cell).
    Chapter: 3.
    """
    import matplotlib.pyplot as plt

    from . import plots

    widgets = _ipywidgets()
    model.check_x(x)
    state: dict[str, float] = {}

    def draw(loc: float, scale: float):
        q = plots.point_q(model, loc, scale)
        fig, ax = plt.subplots(figsize=(6, 3.6))
        plots.plot_posterior_and_q(model, x, q, z_range=z_range, ax=ax)
        state.update(plots.bound_summary(model, x, q))
        plt.show()

    sliders = dict(
        loc=widgets.FloatSlider(value=loc, min=z_range[0], max=z_range[1], step=0.05, description="μ",
                                continuous_update=False),
        scale=widgets.FloatSlider(value=scale, min=0.05, max=2.5, step=0.01, description="σ",
                                  continuous_update=False),
    )
    state.update(plots.bound_summary(model, x, plots.point_q(model, loc, scale)))  # ipywidgets 7 first draws on display, 8 at once
    explorer = widgets.interactive(draw, **sliders)
    explorer.summary = state
    return explorer
