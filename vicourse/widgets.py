"""Live explorers for Jupyter and Colab: sliders over q's parameters redraw the figures of plots/.

A static page runs no Python, so each chapter shows the matching static figure or animation too.
Works with ipywidgets 7.7 (Colab) and 8.x; ipywidgets is imported only when an explorer is built.
Chapters 3, "The variational approximation" (book/03_variational_approximation.ipynb), 7, "The
reparameterization trick" (book/07_reparameterization.ipynb), and 8, "The variational
autoencoder" (book/08_vae.ipynb).
"""

from __future__ import annotations

import torch

from . import _checks

# Every slider's description is its label, which screen readers announce ("mean μ", not "μ");
# "initial" width shows the whole description instead of cutting it.
LABELLED = {"description_width": "initial"}


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "vicourse.widgets needs ipywidgets; install it with: pip install 'ipywidgets>=7.6,<9'"
        ) from error
    return ipywidgets


def _explorer(draw, sliders: dict, summary: dict):
    """The sliders and, below them, the figure that draw(**their values) returns, as a PNG that a
    moved slider redraws; `update()` redraws, `summary` keeps the numbers last shown.

    A picture rather than an Output widget: a notebook runner (nbclient: the site build, otter)
    answers an Output widget's messages on the kernel's shell channel while it waits there for
    the cell's reply, and can then miss that reply until its timeout.
    """
    import io

    import matplotlib.pyplot as plt

    widgets = _ipywidgets()
    image = widgets.Image(format="png")

    def update(*_):
        figure, png = draw(**{name: slider.value for name, slider in sliders.items()}), io.BytesIO()
        try:
            figure.savefig(png, format="png", bbox_inches="tight")
        finally:
            plt.close(figure)
        image.value = png.getvalue()

    for slider in sliders.values():
        slider.observe(update, names="value")
    explorer = widgets.VBox([*sliders.values(), image])
    explorer.update, explorer.summary = update, summary
    update()
    return explorer


def explore_q(model, x: torch.Tensor, *, loc: float = 0.0, scale: float = 1.0, z_range=(-3.0, 3.0)):
    """Sliders for μ and σ of q(z) = N(μ, σ²) against the exact posterior of one datapoint.

    The figure's title shows log p(x), the ELBO and the gap; they update as the sliders move.
    The last numbers shown are also kept in the returned widget's `summary` dict.

    Shapes: x (1, D), 1-D latent.
    Returns: an ipywidgets.VBox of sliders and the figure (display it, or leave it last in a
    cell).
    Chapter: 3.
    """
    import matplotlib.pyplot as plt

    from . import plots

    widgets = _ipywidgets()
    first = plots.point_q(model, loc, scale)  # checks the model, loc and scale
    low, high = _checks.interval("z_range", z_range)
    state: dict[str, float] = plots.bound_summary(model, x, first)  # checks x

    def draw(loc: float, scale: float):
        q = plots.point_q(model, loc, scale)
        figure, ax = plt.subplots(figsize=(6, 3.6))
        state.update(plots.bound_summary(model, x, q))
        plots.plot_posterior_and_q(model, x, q, z_range=z_range, ax=ax, summary=dict(state))
        return figure

    common = dict(continuous_update=False, style=LABELLED)
    sliders = dict(
        loc=widgets.FloatSlider(
            value=loc, min=low, max=high, step=0.05, description="mean μ", **common
        ),
        scale=widgets.FloatSlider(
            value=scale, min=0.05, max=2.5, step=0.01, description="sd σ", **common
        ),
    )
    return _explorer(draw, sliders, state)


def explore_gradients(
    *, loc: float = 1.0, scale: float = 0.5, num_samples: int = 1, num_trials: int = 4000
):
    """Sliders for μ, σ and the number of draws M: histograms of the pathwise and the
    score-function estimates of ∂/∂μ E_{z~N(μ, σ²)}[z²] = 2μ, redrawn as the sliders move.

    The last variances shown are kept in the returned widget's `summary` dict.
    Returns: an ipywidgets.VBox of sliders and the figure.   Chapter: 7.
    """
    import matplotlib.pyplot as plt

    from . import plots
    from .estimators import gradient_samples, pathwise, score_function

    widgets = _ipywidgets()
    _checks.real("loc", loc)
    _checks.positive("scale", scale)
    choices = [1, 2, 4, 8, 16, 32, 64, 128]
    if num_samples not in choices:
        _checks.fail("num_samples", f"one of {choices}", repr(num_samples), "pick one of those")
    num_trials = _checks.positive_int("num_trials", num_trials)
    state: dict[str, float] = {}

    def spread(loc: float, scale: float, num_samples: int) -> dict:
        generator = torch.Generator().manual_seed(0)
        samples = {}
        for name, estimator in (("pathwise", pathwise), ("score", score_function)):
            d_loc, _ = gradient_samples(
                estimator, loc, scale, _square, num_samples, num_trials, generator=generator
            )
            samples[name] = d_loc
        state.update({f"{k} variance": v.var().item() for k, v in samples.items()})
        return samples

    def draw(loc: float, scale: float, num_samples: int):
        samples = spread(loc, scale, num_samples)
        figure, ax = plt.subplots(figsize=(6, 3.6))
        plots.plot_gradient_spread(samples, 2 * loc, ax=ax, xlabel="estimate of ∂/∂μ E[z²]")
        ax.set_title(f"{num_trials} estimates, each from M = {num_samples} draws")
        return figure

    common = dict(continuous_update=False, style=LABELLED)
    sliders = dict(
        loc=widgets.FloatSlider(value=loc, min=-2, max=2, step=0.1, description="mean μ", **common),
        scale=widgets.FloatSlider(
            value=scale, min=0.1, max=2, step=0.05, description="sd σ", **common
        ),
        num_samples=widgets.SelectionSlider(
            options=[1, 2, 4, 8, 16, 32, 64, 128],
            value=num_samples,
            description="draws M",
            **common,
        ),
    )
    return _explorer(draw, sliders, state)


def _square(z: torch.Tensor) -> torch.Tensor:
    return z.square().sum(-1)


def explore_decoder(vae, *, shape: tuple[int, int] = (8, 8), limit: float = 3.0):
    """Sliders for the two coordinates of z in a VAE with a 2-D latent: the decoder's mean image
    E[x | z] = σ(f_θ(z)), redrawn as they move. The last image is kept in `summary["image"]`.

    Returns: an ipywidgets.VBox of sliders and the figure.   Chapter: 8.
    """
    import matplotlib.pyplot as plt

    from . import plots
    from .vae import VAE

    widgets = _ipywidgets()
    _checks.instance("vae", vae, VAE, "train one with vicourse.train")
    if vae.latent_dim != 2:
        _checks.fail(
            "vae",
            "a VAE with a 2-D latent (one slider per coordinate)",
            f"latent_dim={vae.latent_dim}",
            "train one with latent_dim=2",
        )
    limit = _checks.positive("limit", limit)
    state: dict = {}

    def decode(z1: float, z2: float):
        z = vae.reference().new_tensor([[z1, z2]])
        state["image"] = vae.mean_image(z)
        return state["image"]

    def draw(z1: float, z2: float):
        figure, ax = plt.subplots(figsize=(2.6, 2.6))
        plots.show_images(decode(z1, z2), shape=shape, ncols=1, ax=ax, vmax=1)
        ax.set_title(f"z = ({z1:.2f}, {z2:.2f})")
        return figure

    common = dict(min=-limit, max=limit, step=0.1, continuous_update=True, style=LABELLED)
    sliders = dict(
        z1=widgets.FloatSlider(value=0.0, description="latent z₁", **common),
        z2=widgets.FloatSlider(value=0.0, description="latent z₂", **common),
    )
    return _explorer(draw, sliders, state)
