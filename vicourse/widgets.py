"""Live explorers for Jupyter and Colab: sliders over q's parameters redraw the figures of plots.py.

A static page runs no Python, so each chapter shows the matching static figure or animation too.
Works with ipywidgets 7.7 (Colab) and 8.x; ipywidgets is imported only when an explorer is built.
Chapter 3, "The variational approximation" (book/03_variational_approximation.ipynb).
"""

from __future__ import annotations

import torch

from . import _checks


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "vicourse.widgets needs ipywidgets; install it with: pip install 'ipywidgets>=7.6,<9'"
        ) from error
    return ipywidgets


def explore_q(model, x: torch.Tensor, *, loc: float = 0.0, scale: float = 1.0, z_range=(-3.0, 3.0)):
    """Sliders for μ and σ of q(z) = N(μ, σ²) against the exact posterior of one datapoint.

    The figure's title shows log p(x), the ELBO and the gap; they update as the sliders move.
    The last numbers shown are also kept in the returned widget's `summary` dict.

    Shapes: x (1, D), 1-D latent.
    Returns: an ipywidgets.interactive (display it, or leave it last in a cell).
    Chapter: 3.
    """
    import matplotlib.pyplot as plt

    from . import plots

    widgets = _ipywidgets()
    first = plots.point_q(model, loc, scale)  # checks the model, loc and scale
    low, high = _checks.interval("z_range", z_range)
    state: dict[str, float] = plots.bound_summary(model, x, first)  # checks x
    # ipywidgets 7 draws first on display, 8 at once: the numbers are ready before either.

    def draw(loc: float, scale: float):
        q = plots.point_q(model, loc, scale)
        _, ax = plt.subplots(figsize=(6, 3.6))
        state.update(plots.bound_summary(model, x, q))
        plots.plot_posterior_and_q(model, x, q, z_range=z_range, ax=ax, summary=dict(state))
        plt.show()

    common = dict(continuous_update=False)
    sliders = dict(
        loc=widgets.FloatSlider(value=loc, min=low, max=high, step=0.05, description="μ", **common),
        scale=widgets.FloatSlider(
            value=scale, min=0.05, max=2.5, step=0.01, description="σ", **common
        ),
    )
    explorer = widgets.interactive(draw, **sliders)
    explorer.summary = state
    return explorer
